#!/usr/bin/env bash
# Two laptops of grid S01-G1 enter, edit and void records offline, each
# also editing the other's records, and sync in changing order; in the end
# both grid files hold the same records (the newest version of each wins),
# HQ holds every record once and every version of it in its history, and
# sync status on both shows nothing pending.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

A="$T/a.grid"
B="$T/b.grid"
hq_seed
hq_start
grid_new "$A"
grid_new "$B"
ok "device A is enrolled" enroll "$A" coordinator
ok "device B is enrolled" enroll "$B" coordinator
same "the devices differ" \
	"$(sqlite3 "$A" "SELECT value FROM meta WHERE key = 'device'" |
		grep -c "$(sqlite3 "$B" "SELECT value FROM meta WHERE key = 'device'")")" \
	"0"

add() { # FILE KIND ARGS...: adds a record and prints its id
	local f=$1 k=$2
	shift 2
	gridbook --db "$f" "$k" add "$@" 2>>"$T/add.err"
}

# Offline, both enter records.
e1=$(add "$A" enterprise --uscc "$(uscc 1)" --name 文昌精密机械有限公司 \
	--community S01-C01 --employees 48)
e2=$(add "$A" enterprise --uscc "$(uscc 2)" --name 鑫达食品厂 \
	--type individual --community S01-C02 --employees 6)
e3=$(add "$A" enterprise --uscc "$(uscc 3)" --name 恒通物流有限公司 \
	--community S01-C03 --employees 120)
c1=$(add "$A" contract_check --enterprise "$e1" --check-date 2026-01-12 \
	--employees-total 48 --contracts-signed 40 --insured 38 \
	--hiring-registered 45 --outcome rectify_order --deadline 2026-02-12)
e4=$(add "$B" enterprise --uscc "$(uscc 4)" --name 华盛电子科技有限公司 \
	--community S01-C04 --employees 75)
e5=$(add "$B" enterprise --uscc "$(uscc 5)" --name 永兴五金店 \
	--type individual --community S01-C05 --employees 3)
d1=$(add "$B" dispute --enterprise "$e4" --workers 5 --category wages \
	--received-date 2026-01-20 --level street)
for v in e1 e2 e3 c1 e4 e5 d1; do
	[ -n "${!v}" ] && pass || fail "record $v was not added: $(tail -n 3 "$T/add.err")"
done

ok "B syncs first" gridbook --db "$B" sync
has "B sent its three records" "$(cat "$T/.out")" "sent 3 records"
ok "A syncs" gridbook --db "$A" sync
has "A sent its four records" "$(cat "$T/.out")" "sent 4 records"
has "A received B's three" "$(cat "$T/.out")" "received 3 records"
ok "B syncs again" gridbook --db "$B" sync
has "B received A's four" "$(cat "$T/.out")" "received 4 records"

# Offline again: each edits the other's records and its own; A voids one.
ok "A edits B's enterprise" \
	gridbook --db "$A" enterprise edit "$e4" --employees 80
ok "A voids its own enterprise" \
	gridbook --db "$A" enterprise void "$e2" --reason 已注销
ok "A closes B's dispute" gridbook --db "$A" dispute edit "$d1" \
	--status mediated --closed-date 2026-01-28
ok "B renames A's enterprise" gridbook --db "$B" enterprise edit "$e1" \
	--name 文昌精密机械股份有限公司
ok "B edits its enterprise after A did (B's version is newer)" \
	gridbook --db "$B" enterprise edit "$e4" --employees 82 \
	--address 砖桥路88号
ok "B follows up A's check" gridbook --db "$B" rectification add \
	--check "$c1" --date 2026-02-05 --result rectified
e6=$(add "$B" enterprise --uscc "$(uscc 6)" --name 瑞丰超市 \
	--community S01-C01 --employees 15)
[ -n "$e6" ] && pass || fail "e6 was not added"
ok "A edits its check twice" gridbook --db "$A" contract_check edit "$c1" \
	--findings 部分员工未签合同
ok "A edits its check twice (2)" gridbook --db "$A" contract_check edit \
	"$c1" --contracts-signed 42

# Sync in the other order, and once more each so both have everything.
ok "A syncs" gridbook --db "$A" sync
ok "B syncs" gridbook --db "$B" sync
ok "A syncs again" gridbook --db "$A" sync
ok "B syncs again (nothing new)" gridbook --db "$B" sync
has "nothing left to send" "$(cat "$T/.out")" "nothing to send"

for k in enterprise contract_check dispute rectification; do
	gridbook --db "$A" export "$k" --format json --all >"$T/a-$k.json"
	gridbook --db "$B" export "$k" --format json --all >"$T/b-$k.json"
	if cmp -s "$T/a-$k.json" "$T/b-$k.json"; then pass; else
		fail "$k differs: $(diff "$T/a-$k.json" "$T/b-$k.json" | head -n 8)"
	fi
	gridbook --db "$A" export "$k" --format csv --all >"$T/a-$k.csv"
	gridbook --db "$B" export "$k" --format csv --all >"$T/b-$k.csv"
	if cmp -s "$T/a-$k.csv" "$T/b-$k.csv"; then pass; else
		fail "$k csv differs"
	fi
done
same "six enterprises on A" "$(grep -c '"id"' "$T/a-enterprise.json")" "6"
has "the newest edit of e4 won" "$(grep -A 40 "$e4" "$T/a-enterprise.json")" \
	"砖桥路88号"
has "B's rename reached A" "$(cat "$T/a-enterprise.json")" \
	"文昌精密机械股份有限公司"
has "the void reached B" "$(gridbook --db "$B" enterprise show "$e2" 2>&1)" \
	"已注销"
has "both edits of the check reached B" \
	"$(gridbook --db "$B" export contract_check --format csv)" \
	"部分员工未签合同"

# HQ: each record once, each version once, the same versions as A and B.
same "HQ holds nine records" "$(hq_sql 'SELECT count(*) FROM record_current')" "9"
same "A holds every version HQ holds" "$(local_versions "$A")" "$(hq_versions)"
same "B holds every version HQ holds" "$(local_versions "$B")" "$(hq_versions)"
same "no version twice at HQ" \
	"$(hq_sql 'SELECT count(*) FROM (SELECT id, version FROM record_history GROUP BY id, version HAVING count(*) > 1) AS twice')" \
	"0"
same "HQ's current versions are A's" \
	"$(hq_sql "SELECT lower(hex(id)) || '|' || version FROM record_current ORDER BY 1")" \
	"$(sqlite3 "$A" "SELECT replace(id, '-', '') || '|' || version FROM record ORDER BY 1")"
same "every batch's records were new to HQ (none sent twice)" \
	"$(hq_sql 'SELECT sum(records) FROM batch')" \
	"$(hq_sql 'SELECT count(*) FROM record_history')"

for f in "$A" "$B"; do
	st=$(gridbook --db "$f" sync status --format json)
	has "nothing pending on $(basename "$f")" "$st" '"pending":0'
	has "no refusals on $(basename "$f")" "$st" '"attention":[]'
	has "a last success on $(basename "$f")" "$st" '"last_success":"20'
done
has "sync status in text" "$(gridbook --db "$A" sync status)" "pending       0 records"
# HQ's log speaks of its own store only: what SQLite does about its WAL
# is no word of a PostgreSQL store's.
if on_pg; then
	case "$(cat "$T/hq.log")" in
	*"SQLite "*) fail "HQ on PostgreSQL logs SQLite's version: $(grep SQLite "$T/hq.log")" ;;
	*) pass ;;
	esac
else
	has "HQ on SQLite logs its version" "$(cat "$T/hq.log")" "SQLite "
fi

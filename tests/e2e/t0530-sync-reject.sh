#!/usr/bin/env bash
# A record HQ refuses (SPEC §2, §4): HQ moves community S01-C05 to another
# grid while a laptop, not yet knowing, records an enterprise there.  The
# sync goes through, the records before and after it in the batch are
# accepted, and the refused one stays visible in sync status with HQ's
# reason, in text and JSON; it never blocks the queue.  Edited to a
# community of the grid, it syncs and leaves the list.  A record of a kind
# the device may not write is refused alone in the same way, and audited.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

G="$T/a.grid"
hq_seed
hq_start
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator
ok "a first sync" gridbook --db "$G" sync

add() { gridbook --db "$G" enterprise add "$@" 2>>"$T/add.err"; }
e1=$(add --uscc "$(uscc 11)" --name 东湖纺织有限公司 --community S01-C01 \
	--employees 60)
e2=$(add --uscc "$(uscc 12)" --name 木兰茶庄 --type individual \
	--community S01-C05 --employees 4)
e3=$(add --uscc "$(uscc 13)" --name 新桥建材有限公司 --community S01-C02 \
	--employees 22)
for v in e1 e2 e3; do
	[ -n "${!v}" ] && pass || fail "$v was not added: $(tail -n 2 "$T/add.err")"
done

# HQ's reference data changes: S01-C05 now belongs to grid S01-G2.
cp -r "$top/seeds" "$T/seeds2"
sed -i 's/^S01-C05,S01-G1,/S01-C05,S01-G2,/' "$T/seeds2/communities.csv"
ok "HQ loads the changed reference data" hq_seed "$T/seeds2"

ok "the sync goes through" gridbook --db "$G" sync
has "one was rejected" "$(cat "$T/.out")" "2 accepted, 1 rejected"
has "the user is told" "$(cat "$T/.err")" "HQ refused 1 record;"
same "HQ holds the two around it" \
	"$(hq_sql 'SELECT count(*) FROM record_current')" "2"
same "nothing is pending" "$(sqlite3 "$G" 'SELECT count(*) FROM outbox')" "0"

ok "sync status" gridbook --db "$G" sync status
st=$(cat "$T/.out")
has "status lists the refused record" "$st" "$e2"
has "status names its kind and status" "$st" "enterprise"
has "status says rejected" "$st" "rejected"
has "status gives HQ's reason" "$st" "S01-C05"
has "status names the record" "$st" "木兰茶庄"
ok "sync status --format json" gridbook --db "$G" sync status --format json
js=$(cat "$T/.out")
same "the JSON parses and holds one refusal" "$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
a = s["attention"]
print(len(a), a[0]["kind"], a[0]["id"] == sys.argv[2], a[0]["status"],
      "S01-C05" in a[0]["reason"], s["pending"])' "$js" "$e2")" \
	"1 enterprise True rejected True 0"
has "HQ's log of rejections has it" \
	"$(hq_sql 'SELECT id, code, reason FROM rejection')" "$e2"

# The laptop learned the new reference data in the same round.
ref=$(gridbook --db "$G" ref communities)
has "S01-C04 is still in the grid" "$ref" "S01-C04"
case "$ref" in *S01-C05*) fail "S01-C05 should have left the grid" ;; *) pass ;; esac

# More records meanwhile are not held up by the refused one.
e4=$(add --uscc "$(uscc 14)" --name 宏远印刷厂 --community S01-C03 \
	--employees 31)
ok "a later record syncs" gridbook --db "$G" sync
has "the later record is accepted" "$(cat "$T/.out")" "1 accepted"
has "the refusal is still listed" "$(gridbook --db "$G" sync status)" "$e2"

# Fixed, it syncs and leaves the list.
ok "the refused record is edited" \
	gridbook --db "$G" enterprise edit "$e2" --community S01-C04
ok "the edit syncs" gridbook --db "$G" sync
has "the new version is accepted" "$(cat "$T/.out")" "1 accepted"
st=$(gridbook --db "$G" sync status --format json)
has "the list is empty" "$st" '"attention":[]'
has "nothing pending" "$st" '"pending":0'
same "HQ holds all four" "$(hq_sql 'SELECT count(*) FROM record_current')" "4"
same "HQ holds e2 in S01-C04" \
	"$(hq_sql "SELECT community FROM record_current WHERE lower(hex(id)) = '$(echo "$e2" | tr -d -)'")" \
	"S01-C04"

# A record the device may not write is refused alone too (SPEC §6): a
# laptop whose file names no staff, so that entry checks nothing, enrolled
# as a coordinator's device, records a patrol between two enterprises.
# HQ answers the batch, refuses the patrol as forbidden, and the queue
# moves on.
B="$T/b.grid"
gridbook --db "$B" init --grid S01-G1 >/dev/null
ok "a second device, a coordinator's" enroll "$B" coordinator
addb() { gridbook --db "$B" "$@" 2>>"$T/add.err"; }
b1=$(addb enterprise add --uscc "$(uscc 21)" --name 江城五金店 \
	--type individual --community S01-C01 --employees 3)
p1=$(addb patrol add --area PA-01 --start "2026-03-11 22:00" \
	--end "2026-03-11 23:30" --leader J0001 --guards B0001,B0002 \
	--mode foot)
b2=$(addb enterprise add --uscc "$(uscc 22)" --name 南岸家政服务部 \
	--type individual --community S01-C02 --employees 5)
for v in b1 p1 b2; do
	[ -n "${!v}" ] && pass || fail "$v was not added: $(tail -n 2 "$T/add.err")"
done
ok "its sync goes through" gridbook --db "$B" sync
has "the patrol alone is rejected" "$(cat "$T/.out")" "2 accepted, 1 rejected"
same "nothing is pending on it" "$(sqlite3 "$B" 'SELECT count(*) FROM outbox')" "0"
ok "sync status" gridbook --db "$B" sync status
has "status lists the patrol" "$(cat "$T/.out")" "$p1"
has "status gives the rule" "$(cat "$T/.out")" \
	"a coordinator's device may not write patrol records"
has "HQ logged it as forbidden" \
	"$(hq_sql "SELECT code FROM rejection WHERE id = '$p1'")" \
	"forbidden"
has "and wrote it to the audit log" \
	"$(hq_sql "SELECT status, action, detail FROM audit_log")" \
	"403|batch|batch 1: record $p1: a coordinator's device may not write patrol records"
b3=$(addb enterprise add --uscc "$(uscc 23)" --name 北门修车铺 \
	--type individual --community S01-C03 --employees 2)
ok "a later record syncs" gridbook --db "$B" sync
has "and is accepted" "$(cat "$T/.out")" "1 accepted"

# The uniqueness rule of the kinds table, at HQ too: two laptops enter the
# same enterprise offline; the first to sync keeps it, the second is told
# which record holds the code, in sync status, and keeps its copy.
C="$T/c.grid"
grid_new "$C"
ok "a third device is enrolled" enroll "$C" coordinator
ok "it syncs first" gridbook --db "$C" sync
ok "A enters an enterprise" gridbook --db "$G" enterprise add \
	--uscc "$(uscc 31)" --name 江夏印染有限公司 --community S01-C01 \
	--employees 35
a31=$(cat "$T/.out")
ok "the third laptop enters it too, offline" gridbook --db "$C" enterprise \
	add --uscc "$(uscc 31)" --name 江夏印染厂 --community S01-C01 \
	--employees 35
c31=$(cat "$T/.out")
ok "A syncs" gridbook --db "$G" sync
has "A's is accepted" "$(cat "$T/.out")" "1 accepted"
ok "the third syncs" gridbook --db "$C" sync
has "its copy is rejected" "$(cat "$T/.out")" "1 rejected"
has "HQ logged the rule" \
	"$(hq_sql "SELECT code || '|' || reason FROM rejection WHERE id = '$c31'")" \
	"exists|uscc: $(uscc 31) is already recorded at HQ for record $a31"
ok "sync status" gridbook --db "$C" sync status
has "status names the holder" "$(cat "$T/.out")" "$a31"
same "HQ holds the code once" \
	"$(hq_sql "SELECT count(*) FROM record_current WHERE json_extract(body, '$.uscc') = '$(uscc 31)'")" 1

#!/usr/bin/env bash
# A laptop two years ahead (SPEC §4, clocks): the real gridbook under
# faketime +730d adds two enterprises and syncs.  HQ refuses them for now,
# naming its clock; the laptop is told its clock is 730 days ahead, and
# sync status lists them as waiting, with HQ's clock.  HQ holds nothing of
# them, and another laptop of the grid that syncs meanwhile keeps its own
# clock (its next version is stamped now).  With its clock set right, the
# laptop refuses a new edit (its file's clock is two years ahead) instead
# of writing a version HQ would refuse, and its next sync re-stamps the
# two and delivers them: same ids, same values, and no version from two
# years ahead anywhere at HQ.  Then it writes again as usual.
# gridbook check and gridbook-hq check list what a store holds out of
# bounds (a row as a store kept it before the bounds) and change nothing.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

if ! command -v faketime >/dev/null; then
	fail "faketime is not installed (make deps)"
	exit 1
fi
ahead() { faketime -f '+730d' "$@"; }
now_ms() { date +%s%3N; }
day_ms=86400000

A="$T/a.grid"
B="$T/b.grid"
hq_seed
hq_start
grid_new "$A"
grid_new "$B"
ok "laptop A is enrolled" enroll "$A" coordinator
ok "laptop B is enrolled" enroll "$B" coordinator
ok "A's first sync brings the reference data" gridbook --db "$A" sync
ok "B's first sync" gridbook --db "$B" sync

# Laptop A's clock runs two years ahead.
ok "A adds an enterprise two years ahead" ahead gridbook --db "$A" \
	enterprise add --uscc "$(uscc 5701)" --name 望川市青石机电有限公司 \
	--community S01-C01 --employees 36 --address 文昌街道新风路18号
ok "and another" ahead gridbook --db "$A" enterprise add \
	--uscc "$(uscc 5702)" --name 望川区恒达机械有限公司 \
	--community S01-C02 --employees 52
values() {
	sqlite3 "$A" "SELECT id || '|' || json_extract(body, '$.name') || '|' ||
		json_extract(body, '$.employees') || '|' ||
		coalesce(json_extract(body, '$.address'), '') FROM record
		WHERE json_extract(body, '$.name') <> '望川区永丰食品有限公司'
		ORDER BY id"
}
typed=$(values)
ids=$(sqlite3 "$A" "SELECT id FROM record ORDER BY id")
same "two records typed" "$(echo "$typed" | wc -l)" 2
ok "A syncs, still ahead" ahead gridbook --db "$A" sync
has "both wait" "$(cat "$T/.out")" "2 refused for now, sent again later"
has "A is told its clock is ahead" "$(cat "$T/.err")" \
	"this laptop's clock is 730 days ahead of HQ's (HQ's clock: "
same "HQ holds none of A's records" \
	"$(hq_sql 'SELECT count(*) FROM record_history')" 0
ok "A's sync status" ahead gridbook --db "$A" sync status
has "lists them as waiting" "$(cat "$T/.out")" "waiting       2 records"
has "says the clock is off" "$(cat "$T/.out")" \
	"clock         this laptop's clock is 730 days ahead of HQ's"
ok "A's sync status as JSON" ahead gridbook --db "$A" sync status \
	--format json
same "the JSON: two waiting, why, HQ's clock off" "$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print(len(s["waiting"]),
      all("more than 24 h ahead of HQ\x27s clock (" in w["reason"]
          for w in s["waiting"]),
      s["hq_clock"]["off"],
      s["hq_clock"]["ahead_of_this_ms"] < -729 * 86400000)
' "$(cat "$T/.out")")" "2 True True True"

# Laptop B of the same grid syncs meanwhile: its clock stays its own.
ok "B syncs" gridbook --db "$B" sync
before=$(now_ms)
ok "B adds an enterprise" gridbook --db "$B" enterprise add \
	--uscc "$(uscc 5703)" --name 望川区永丰食品有限公司 --community S01-C02 \
	--employees 18
after=$(now_ms)
b_ms=$(sqlite3 "$B" "SELECT max(version) >> 16 FROM record")
same "B's next version is stamped now" \
	"$([ "$b_ms" -ge "$before" ] && [ "$b_ms" -le "$after" ] && echo yes)" yes
b_hlc=$(sqlite3 "$B" "SELECT CAST(value AS INTEGER) >> 16 FROM meta WHERE key = 'hlc'")
same "B's clock is not ahead" \
	"$([ "$b_hlc" -le "$after" ] && echo yes)" yes
ok "B sends it" gridbook --db "$B" sync
has "accepted" "$(cat "$T/.out")" "(1 accepted)"

# A's clock is set right.
fails 1 "A's edit is refused while its file's clock is ahead" \
	gridbook --db "$A" enterprise edit "$(echo "$ids" | head -n 1)" \
	--employees 40
has "saying why and what to do" "$(cat "$T/.err")" \
	"more than 24 h ahead of this laptop's clock"
has "naming sync" "$(cat "$T/.err")" "gridbook sync"
same "nothing was written" "$(values)" "$typed"
fails 1 "gridbook check finds the two" gridbook --db "$A" check
has "names the bound" "$(cat "$T/.out")" \
	"2 versions out of bounds (this laptop's clock: "
for id in $ids; do
	has "lists $id" "$(cat "$T/.out")" "$id  current"
done
same "check changed nothing" "$(values)" "$typed"

ok "A syncs with its clock right" gridbook --db "$A" sync
has "both are accepted" "$(cat "$T/.out")" "(2 accepted)"
has "A is told they were re-stamped" "$(cat "$T/.err")" \
	"2 records written while this laptop's clock was ahead were re-stamped"
case "$(cat "$T/.err")" in *"clock is 730 days"*)
	fail "still told the clock is off" ;; *) pass ;; esac
same "nothing waits" "$(sqlite3 "$A" 'SELECT count(*) FROM sync_retry')" 0
same "nothing is left to send" "$(sqlite3 "$A" 'SELECT count(*) FROM outbox')" 0
same "A's records are as typed, same ids" "$(values)" "$typed"
hq_values=$(hq_sql "SELECT lower(hex(id)) || '|' || json_extract(body,
	'$.name') || '|' || json_extract(body, '$.employees') || '|' ||
	coalesce(json_extract(body, '$.address'), '') FROM record_current
	WHERE json_extract(body, '$.name') <> '望川区永丰食品有限公司'
	ORDER BY id")
same "HQ holds them as typed" "$hq_values" "$(echo "$typed" | tr -d -)"
limit=$((($(now_ms) + day_ms + 1) << 16))
same "HQ's history holds no version from ahead" \
	"$(hq_sql "SELECT count(*) FROM record_history WHERE version >= $limit
		OR version < 0")" 0
same "A holds no version from ahead" \
	"$(sqlite3 "$A" "SELECT count(*) FROM (SELECT version FROM record
		UNION ALL SELECT version FROM record_history)
		WHERE version >= $limit")" 0
ok "gridbook check finds nothing now" gridbook --db "$A" check
has "says so" "$(cat "$T/.out")" "no version out of bounds"
ok "A's sync status" gridbook --db "$A" sync status --format json
has "nothing waiting" "$(cat "$T/.out")" '"waiting":[]'
has "HQ's clock not off" "$(cat "$T/.out")" '"off":false'

ok "A writes again" gridbook --db "$A" enterprise edit \
	"$(echo "$ids" | head -n 1)" --employees 40
ok "and sends it" gridbook --db "$A" sync
has "accepted" "$(cat "$T/.out")" "(1 accepted)"
ok "B pulls A's records" gridbook --db "$B" sync
same "B holds the three records" \
	"$(sqlite3 "$B" 'SELECT count(*) FROM record')" 3
b_hlc=$(sqlite3 "$B" "SELECT CAST(value AS INTEGER) >> 16 FROM meta WHERE key = 'hlc'")
same "B's clock is still not ahead" \
	"$([ "$b_hlc" -le "$(now_ms)" ] && echo yes)" yes

# A store kept from before the bounds: a version 2^64 - 1 as SQLite
# stored it (negative), in a grid file without the mark of a file known
# clean (one written before the bounds has none).
ok "HQ check: nothing out of bounds" gridbook-hq check \
	--store "$HQ_SPEC"
has "says so" "$(cat "$T/.out")" "no version out of bounds (HQ's clock: "
hq_stop
# PostgreSQL numbers each version in its grid's change sequence.
seq= seqv=
on_pg && seq="seq, " seqv="(SELECT max(seq) + 1 FROM record_history), "
hq_sql "INSERT INTO record_history (${seq}id, version, device, kind, grid,
	content_hash, raw, received_at) SELECT ${seqv}id, -1, device, kind,
	grid, content_hash, raw, received_at FROM record_history LIMIT 1"
held=$(hq_sql "SELECT count(*) || '/' || total(version) FROM record_history")
fails 1 "HQ check finds it" gridbook-hq check --store "$HQ_SPEC"
has "lists it as 2^64 - 1" "$(cat "$T/.out")" "18446744073709551615"
has "names the bound" "$(cat "$T/.out")" "2^63 or more"
has "counts it" "$(cat "$T/.err")" "1 version out of bounds"
same "HQ check changed nothing" \
	"$(hq_sql "SELECT count(*) || '/' || total(version) FROM record_history")" \
	"$held"
sqlite3 "$B" "INSERT INTO record_history (id, version, kind, device, staff,
	updated_at, body) SELECT id, -1, kind, device, staff, updated_at, body
	FROM record LIMIT 1; DELETE FROM meta WHERE key = 'sync_bounds_clean'"
fails 1 "gridbook check on B finds it" gridbook --db "$B" check
has "as 2^63 or more" "$(cat "$T/.out")" "18446744073709551615"
hq_start
ok "B's sync" gridbook --db "$B" sync
has "says the file holds it" "$(cat "$T/.err")" \
	"this grid file holds 1 version out of the bounds of this laptop's clock"
ok "B's next sync, nothing new" gridbook --db "$B" sync
has "says so again" "$(cat "$T/.err")" \
	"this grid file holds 1 version out of the bounds of this laptop's clock"
ok "B still writes" gridbook --db "$B" enterprise edit \
	"$(sqlite3 "$B" "SELECT id FROM record WHERE
		json_extract(body, '$.name') = '望川区永丰食品有限公司'")" \
	--employees 19
b_ms=$(sqlite3 "$B" "SELECT max(version) >> 16 FROM record")
same "its version is an ordinary one" \
	"$([ "$b_ms" -ge "$before" ] && [ "$b_ms" -le "$(now_ms)" ] && echo yes)" yes

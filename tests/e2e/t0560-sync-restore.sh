#!/usr/bin/env bash
# A laptop restored from an older copy of its grid file (SPEC §4): the copy
# is taken with records still unsent; the laptop then syncs them, writes
# and edits more, and syncs again; then the copy is put back, and records
# are written in it.  The next `gridbook sync` gets no 409: HQ tells the
# file its high-water batch number, the file numbers its batches above
# it, and pulls its own later records back.  Afterwards the file holds
# every version HQ holds of it, the edit included, HQ holds each version
# once and no record twice, batch numbers never went back, and a second
# device of the grid sees the same records.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

G="$T/a.grid"
hq_seed
hq_start
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator
import() {
	python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows "$1" --start "$2" \
		"$T/e.csv" &&
		gridbook --db "$G" import enterprise "$T/e.csv" >/dev/null
}
hq_records() {
	hq_sql "SELECT lower(hex(id)) || '|' || version FROM record_current
		ORDER BY 1"
}
file_records() {
	sqlite3 "$G" "SELECT replace(id, '-', '') || '|' || version FROM
		record ORDER BY 1"
}

ok "40 enterprises imported" import 40 0
ok "the first sync" gridbook --db "$G" sync --batch-records 10
ok "15 more, not synced yet" import 15 40

# The copy: 40 sent, 15 waiting in the outbox.
sqlite3 "$G" ".backup '$T/copy.grid'"
same "the copy holds 15 unsent" \
	"$(sqlite3 "$T/copy.grid" 'SELECT count(*) FROM outbox')" "15"

ok "the 15 are synced" gridbook --db "$G" sync --batch-records 10
ok "30 more written" import 30 55
id=$(sqlite3 "$G" "SELECT id FROM record ORDER BY created_at LIMIT 1")
ok "an early record is edited" \
	gridbook --db "$G" enterprise edit "$id" --employees 77
ok "and synced" gridbook --db "$G" sync --batch-records 10
high=$(hq_sql "SELECT max(seq) FROM batch")
echo "HQ holds batches 1..$high of the device"
same "HQ holds the 85" "$(hq_sql 'SELECT count(*) FROM record_current')" "85"

# The laptop is put back to the copy, and work goes on there.
cp "$T/copy.grid" "$G"
rm -f "$G-journal" "$G-wal" "$G-shm"
same "the restored file lacks 30 records" \
	"$(sqlite3 "$G" 'SELECT count(*) FROM record')" "55"
ok "5 written in the restored file" import 5 85

ok "the next sync goes through" gridbook --db "$G" sync --batch-records 10
out="$(cat "$T/.out") $(cat "$T/.err")"
case "$out" in *409*) fail "the sync met a 409: $out" ;; *) pass ;; esac
# A refusal is logged "ACTION from ADDRESS: STATUS ..."; "409" alone
# also turns up in a timestamp, a port or a device's id.
case "$(cat "$T/hq.log")" in
*": 409 "*|*"applied before with other records"*) fail "HQ answered 409" ;;
*) pass ;;
esac
# The 30 written after the copy and the edit; the 15 the copy held unsent
# were sent by the laptop before (the first 10 in a batch the copy numbers
# the same: HQ answers its stored ack), and come back as they are here.
has "the own records came back" "$(cat "$T/.out")" "(31 new or newer here)"

same "the file holds every record HQ holds, at HQ's version" \
	"$(file_records)" "$(hq_records)"
same "HQ holds the 90 once each" \
	"$(hq_sql 'SELECT count(*) FROM record_current')" "90"
same "HQ holds each version once" \
	"$(hq_sql 'SELECT count(*) FROM record_history')" \
	"$(hq_sql 'SELECT count(DISTINCT hex(id) || version) FROM record_history')"
same "no version written here is missing at HQ" \
	"$(comm -23 <(local_versions "$G") <(hq_versions))" ""
same "the edit made after the copy is here" \
	"$(sqlite3 "$G" "SELECT json_extract(body, '\$.employees') FROM record
		WHERE id = '$id'")" "77"
same "batch numbers only went up" \
	"$(hq_sql "SELECT count(*) FROM batch a JOIN batch b ON
		a.device = b.device AND a.seq < b.seq AND
		a.received_at > b.received_at")" "0"
[ "$(hq_sql 'SELECT min(seq) FROM batch WHERE seq > '"$high")" -gt "$high" ] &&
	pass || fail "the restored file sent no batch above HQ's mark"
st=$(gridbook --db "$G" sync status --format json)
has "nothing pending" "$st" '"pending":0'
has "nothing refused" "$st" '"attention":[]'
has "the catching up is over" "$st" '"restored_after":null'

# A sync after that is an ordinary one.
ok "one more written" import 1 90
ok "an ordinary sync" gridbook --db "$G" sync
has "it gets nothing of its own back" "$(cat "$T/.out")" "received 0 records"

# Another device of the grid sees the same.
B="$T/b.grid"
grid_new "$B"
ok "a second device is enrolled" enroll "$B" coordinator
ok "it syncs" gridbook --db "$B" sync
same "it holds the 91" "$(sqlite3 "$B" 'SELECT count(*) FROM record')" "91"

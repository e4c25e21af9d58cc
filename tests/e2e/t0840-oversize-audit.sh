#!/usr/bin/env bash
# Two things a store built before this version may hold.  A record far
# over the record cap (put in directly, as the old code took one in: a
# 20 MB void reason, more than any changes page may inflate to) is passed
# over with a warning, and a new laptop of the grid still completes its
# first sync and gets every other record.  And the audit log of a real
# run (enrolments, a revocation, refusals) checks out with audit verify,
# which names the entry after one row is edited and after one is deleted.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

A="$T/a.grid"
B="$T/b.grid"
hq_seed
hq_start
grid_new "$A"
ok "laptop A enrolled" enroll "$A" coordinator
for i in 1 2 3; do
	gridbook --db "$A" enterprise add --uscc "$(uscc $((40 + i)))" \
		--name "南苑第${i}服装厂" --community S01-C02 --employees 25 \
		>/dev/null
done
ok "laptop A syncs" gridbook --db "$A" sync

# The oversize version: A's first record again, as a later version with
# a 20 MB void reason appended to its protobuf bytes.
# On PostgreSQL the same bytes, appended there, as the next of the
# grid's change sequence.
oversize_pg() {
	local n=$((20 << 20)) v
	v=$(python3 -c 'import sys
v, out = int(sys.argv[1]), ""
while True:
    out += "%02x" % ((v & 0x7f) | (0x80 if v > 0x7f else 0))
    v >>= 7
    if not v:
        break
print(out)' "$n")
	hq_sql "INSERT INTO record_history (seq, id, version, device, kind,
		grid, content_hash, raw, received_at)
		SELECT (SELECT max(seq) + 1 FROM record_history), id,
		version + 1, device, kind, grid, content_hash,
		raw || '\x40014a$v'::bytea ||
		convert_to(repeat(md5('南苑'), $n / 32), 'UTF8'), received_at
		FROM record_history ORDER BY seq LIMIT 1;
		UPDATE change_seq SET seq = (SELECT max(seq) FROM record_history)"
}
if on_pg; then
	ok "an oversize version put in the store" oversize_pg
else
ok "an oversize version put in the store" python3 - "$HQ_STORE" <<'EOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
row = db.execute("SELECT id, version, device, kind, grid, content_hash, raw, "
                 "received_at FROM record_history ORDER BY seq LIMIT 1").fetchone()
n = 20 << 20
reason = os.urandom(n).translate(bytes(97 + b % 26 for b in range(256)))
def varint(v):
    out = bytearray()
    while True:
        out.append((v & 0x7f) | (0x80 if v > 0x7f else 0))
        v >>= 7
        if not v:
            return bytes(out)
raw = row[6] + b"\x40\x01" + b"\x4a" + varint(n) + reason
db.execute("INSERT INTO record_history (id, version, device, kind, grid, "
           "content_hash, raw, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
           (row[0], row[1] + 1, row[2], row[3], row[4], row[5], raw, row[7]))
db.commit()
EOF
fi
same "the store holds it" \
	"$(hq_sql 'SELECT count(*) FROM record_history WHERE length(raw) > 20000000')" "1"

grid_new "$B"
ok "laptop B enrolled" enroll "$B" coordinator
ok "laptop B's first sync completes" gridbook --db "$B" sync
same "B has A's three records" \
	"$(sqlite3 "$B" 'SELECT count(*) FROM record')" "3"
ok "B's next sync has nothing stuck" gridbook --db "$B" sync
has "HQ says what it skipped" "$(cat "$T/hq.log")" "over the limit of 65536 bytes a record; skipped"

# A real run's audit log: refusals and administrative acts.
echo AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA |
	gridbook --db "$A" sync --token - >/dev/null 2>&1
curl -s -o /dev/null -H 'Content-Length: 3' -H 'Content-Length: 4' \
	-X POST --data abc "$HQ_URL/v1/batches"
P="$T/police.grid"
gridbook --db "$P" init --grid S01-G1 --staff J0002 >/dev/null
ok "an officer's device enrolled" enroll "$P" officer
dev=$(sqlite3 "$P" "SELECT value FROM meta WHERE key = 'device'")
ok "it is revoked" gridbook-hq device revoke "$dev" --store "$HQ_SPEC"
hq_stop
n=$(hq_sql 'SELECT count(*) FROM audit_log')
[ "$n" -ge 6 ] && pass || fail "only $n audit entries"
ok "audit verify passes on the run's log" \
	gridbook-hq audit verify --store "$HQ_SPEC"
has "it counts the entries" "$(cat "$T/.out")" "$n entries check out"
has "the 401 is there" "$(hq_sql 'SELECT status FROM audit_log')" "401"
same "every entry has an address" \
	"$(hq_sql "SELECT count(*) FROM audit_log WHERE remote = ''")" "0"

store_copy "$HQ_SPEC" edited
store_sql "$COPY" "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3"
fails 1 "audit verify after an edit" \
	gridbook-hq audit verify --store "$COPY"
has "it names the edited entry" "$(cat "$T/.err")" "audit entry 3: its content does not match"

store_copy "$HQ_SPEC" deleted
store_sql "$COPY" "DELETE FROM audit_log WHERE seq = 4"
fails 1 "audit verify after a deletion" \
	gridbook-hq audit verify --store "$COPY"
has "it names the entry after the gap" "$(cat "$T/.err")" "audit entry 5: follows entry 3"

store_copy "$HQ_SPEC" cut
store_sql "$COPY" "DELETE FROM audit_log WHERE seq = $n"
fails 1 "audit verify after the last entry is cut off" \
	gridbook-hq audit verify --store "$COPY"
has "it names the missing entry" "$(cat "$T/.err")" "audit entry $n: deleted"

#!/usr/bin/env bash
# gridbook-hq as an administrator and a hostile network see it: seeding,
# enrolment, health, and every refusal of SPEC §6 -- no token, a bad or
# revoked token, a batch for another grid, a viewer sending records, an
# oversized body, garbage, a deflate bomb, the wrong media type -- each
# with a clear message, nothing stored, and the 403s in the audit log.  A
# policing record from a coordinator's device is refused alone (REJECTED,
# "forbidden", and in the audit log) while the rest of its batch is
# stored, so it cannot block the device's queue.  Then the change feed of
# the grid, and a clean stop.  Starts its own server on a free loopback
# port.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
S=${GRIDBOOK_SEEDS:-$top/seeds}
C="python3 $top/tests/e2e/hqclient.py"
# sqlite:FILE, or a PostgreSQL database (GRIDBOOK_TEST_STORE=pg).
hq_store "$T/hq.db"
export GRIDBOOK_HQ_STORE=$HQ_SPEC
export GRIDBOOK_NOW="2026-03-12 10:00"
NOW_MS=1773280800000
GRID=S01-G1

# ---- administration ----
ok "seed" gridbook-hq seed "$S"
has "seed counts rows" "$(cat "$T/.out")" "787 rows read, 787 new"
ok "seed again" gridbook-hq seed "$S"
has "seed again changes nothing" "$(cat "$T/.out")" ", 0 new or changed"
mkdir "$T/badseeds" && cp "$S"/*.csv "$T/badseeds/"
printf 'S01-C99,S09-G9,无名社区,100,1,1\n' >>"$T/badseeds/communities.csv"
fails 1 "seed with an unknown grid" gridbook-hq seed "$T/badseeds"
has "seed error names file, line and code" "$(cat "$T/.err")" \
	'communities.csv:143: grid "S09-G9" is not known'
fails 2 "seed without a directory" gridbook-hq seed
has "a usage error names the program" "$(cat "$T/.err")" "gridbook-hq: "
has "... and where the help is" "$(cat "$T/.err")" "try 'gridbook-hq seed --help'"
fails 2 "an unknown option" gridbook-hq device enroll --colour red
has "... is named, by gridbook-hq" "$(cat "$T/.err")" \
	"gridbook-hq: unknown option --colour"
fails 2 "no store" env -u GRIDBOOK_HQ_STORE gridbook-hq seed "$S"
fails 2 "a store that is not sqlite:" gridbook-hq --store "$T/x.db" seed "$S"

enroll() { # grid role -> "ID TOKEN"
	gridbook-hq device enroll --grid "$1" --role "$2" --name "$3" \
		2>"$T/enroll.err" |
		awk '/^device: /{d=$2} /^token: /{t=$2} END{print d, t}'
}
read -r COORD COORD_TOK <<<"$(enroll $GRID coordinator 冯秀兰笔记本)"
read -r OFFICER OFFICER_TOK <<<"$(enroll $GRID officer 周春梅笔记本)"
read -r VIEWER VIEWER_TOK <<<"$(enroll $GRID viewer 区指挥中心)"
read -r OTHER OTHER_TOK <<<"$(enroll S01-G2 coordinator 另一网格)"
same "token is 43 characters" "${#COORD_TOK}" 43
has "enroll warns the token is shown once" "$(cat "$T/enroll.err")" "only"
fails 1 "enroll in an unknown grid" gridbook-hq device enroll --grid S99-G9 \
	--role officer
fails 2 "enroll with a bad role" gridbook-hq device enroll --grid $GRID \
	--role chief
ok "device list" gridbook-hq device list
list=$(cat "$T/.out")
has "list shows the coordinator" "$list" "$COORD	$GRID	coordinator	active"
has "list shows names" "$list" "周春梅笔记本"
case "$list" in *"$COORD_TOK"*) fail "device list shows a token" ;; *) pass ;; esac
tok_hex=$(printf '%s' "$COORD_TOK" | od -An -tx1 | tr -d ' \n')
same "store holds no token" "$(store_sql "$HQ_SPEC" "SELECT count(*)
	FROM device WHERE instr(lower(hex(token_hash)), '$tok_hex') > 0")" 0
ok "device --help" gridbook-hq device --help
ok "serve --help" gridbook-hq serve --help
has "serve --help tells about TLS" "$(cat "$T/.out")" "TLS"
fails 2 "serve refuses a public address without TLS" \
	gridbook-hq serve --listen 0.0.0.0:1
has "and says why" "$(cat "$T/.err")" "loopback"

# ---- the server ----
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
gridbook-hq serve --listen 127.0.0.1:$PORT 2>"$T/serve.log" &
PID=$!
E2E_CLEANUPS+=("kill $PID 2>/dev/null; wait $PID 2>/dev/null")
for _ in $(seq 100); do
	curl -fs "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done
same "healthz" "$(curl -s "$URL/healthz")" "ok"
skip_on_pg "a second server on the same store: on PostgreSQL several are how HQ scales out" || {
	fails 1 "a second server on the same store" \
		gridbook-hq serve --listen 127.0.0.1:$(free_port)
	has "is refused" "$(cat "$T/.err")" "in use"
}
same "404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" 404
same "405" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/batches")" 405

# A UUID as a protobuf text-format bytes literal.
idbytes() { printf '%s' "$1" | tr -d - | sed 's/../\\x&/g'; }
# A batch as text: batch FILE DEVICE GRID SEQ KIND-BODY...
rec=0
batch() {
	local file=$1 dev=$2 grid=$3 seq=$4
	shift 4
	{
		printf 'protocol: 1\ndevice: "%s"\ngrid: "%s"\nseq: %s\n' \
			"$(idbytes "$dev")" "$grid" "$seq"
		for body in "$@"; do
			rec=$((rec + 1))
			printf 'records { id: "%s" grid: "%s" device: "%s" ' \
				"$(idbytes "$(printf '019ce0a0-0000-7000-8000-%012d' $rec)")" \
				"$grid" "$(idbytes "$dev")"
			printf 'staff: "K0001" created_at: %s updated_at: %s ' \
				$((NOW_MS - 3600000)) $((NOW_MS - 3600000))
			printf 'version: %s %s }\n' $(((NOW_MS - 3600000) * 65536 + rec)) \
				"$body"
		done
	} >"$file"
}
USCC=$($C uscc 91330782MA2A0B01Q)
ENT="enterprise { uscc: \"$USCC\" name: \"望川区顺达五金有限公司\" type: COMPANY community: \"S01-C01\" employees: 23 status: ACTIVE }"
ENT2="enterprise { uscc: \"$($C uscc 91330782MA2A0C02R)\" name: \"望川区晨曦印务有限公司\" type: COMPANY community: \"S01-C02\" employees: 12 status: ACTIVE }"
PATROL="patrol { area: \"PA-01\" start: $((NOW_MS - 7200000)) end: $((NOW_MS - 3600000)) leader: \"J0002\" guards: \"B0001\" guards: \"B0002\" mode: FOOT incidents: 0 }"

post() { # file token [args] -> status line, body in $T/resp
	$C post "$URL" "$2" "$1" "${@:3}" >"$T/resp"
	head -n 1 "$T/resp"
}
count() { store_sql "$HQ_SPEC" "$1"; }

batch "$T/good" "$COORD" $GRID 1 "$ENT"
same "401 without a token" "$(post "$T/good" "")" 401
has "401 says so" "$(cat "$T/resp")" "no token"
same "401 with an unknown token" \
	"$(post "$T/good" "${COORD_TOK%?}$(
		[ "${COORD_TOK: -1}" = A ] && echo B || echo A)")" 401
same "401 with a malformed token" "$(post "$T/good" "not-a-token")" 401
same "a coordinator's enterprise is accepted" "$(post "$T/good" "$COORD_TOK")" 200
has "ack accepted" "$(cat "$T/resp")" "status: ACCEPTED"
same "one record stored" "$(count 'SELECT count(*) FROM record_current')" 1

batch "$T/patrol" "$COORD" $GRID 2 "$PATROL" "$ENT2"
same "a policing record from a coordinator: the batch gets 200" \
	"$(post "$T/patrol" "$COORD_TOK")" 200
ack=$(cat "$T/resp")
same "the patrol is rejected, the enterprise beside it accepted" \
	"$(sed -n 's/^ *status: //p' "$T/resp" | tr '\n' ' ')" "REJECTED ACCEPTED "
has "rejected as forbidden" "$ack" 'reason_code: "forbidden"'
has "the reason names the record and the rule" "$ack" \
	"record 019ce0a0-0000-7000-8000-000000000002: a coordinator's device may not write patrol records"
same "the refusal is logged" \
	"$(count "SELECT count(*) FROM rejection WHERE code = 'forbidden'")" 1
same "no patrol stored" \
	"$(count "SELECT count(*) FROM record_history WHERE kind = 'patrol'")" 0
same "the same batch again: the same ack" \
	"$(post "$T/patrol" "$COORD_TOK"; cat "$T/resp" >"$T/resp.again")" 200
same "byte for byte" "$(cat "$T/resp.again")" "$ack"
batch "$T/patrol2" "$OFFICER" $GRID 1 "$PATROL"
same "an officer's patrol is accepted" "$(post "$T/patrol2" "$OFFICER_TOK")" 200
has "patrol accepted" "$(cat "$T/resp")" "status: ACCEPTED"

batch "$T/othergrid" "$COORD" S01-G2 3 "$ENT"
same "403 for a batch of another grid" "$(post "$T/othergrid" "$COORD_TOK")" 403
has "403 names the grids" "$(cat "$T/resp")" "belongs to grid $GRID, not S01-G2"
batch "$T/viewer" "$VIEWER" $GRID 1 "$ENT"
same "403 for a viewer's batch" "$(post "$T/viewer" "$VIEWER_TOK")" 403
batch "$T/spoof" "$OFFICER" $GRID 9 "$PATROL"
same "403 for a batch naming another device" "$(post "$T/spoof" "$COORD_TOK")" 403

# Bodies that are not batches.
head -c 2000 /dev/urandom >"$T/garbage"
same "400 for garbage" "$(post "$T/garbage" "$COORD_TOK" --raw)" 400
python3 -c 'import zlib,sys; sys.stdout.buffer.write(zlib.compress(b"\xff\xff\xff\xff not protobuf"))' >"$T/notpb"
same "400 for deflated non-protobuf" "$(post "$T/notpb" "$COORD_TOK" --raw)" 400
has "400 says what" "$(cat "$T/resp")" "batch"
python3 -c 'import zlib,sys; sys.stdout.buffer.write(zlib.compress(bytes(50 << 20), 9))' >"$T/bomb"
same "413 for a deflate bomb" "$(post "$T/bomb" "$COORD_TOK" --raw)" 413
has "413 says why" "$(cat "$T/resp")" "batch"
head -c $((8 * 1024 * 1024 + 1)) /dev/zero >"$T/big"
same "413 for a body over 8 MiB" "$(curl -s -o "$T/resp" -w '%{http_code}' \
	-H "Authorization: Bearer $COORD_TOK" \
	-H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: deflate' \
	--data-binary @"$T/big" "$URL/v1/batches")" 413
has "413 names the limit" "$(cat "$T/resp")" "over the limit"
same "413 for a chunked body over 8 MiB" "$(curl -s -o "$T/resp" -w '%{http_code}' \
	-H "Authorization: Bearer $COORD_TOK" -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: deflate' \
	--data-binary @"$T/big" "$URL/v1/batches")" 413
same "415 without Content-Encoding: deflate" \
	"$(post "$T/good" "$COORD_TOK" --encoding identity)" 415
same "415 for another content type" \
	"$(post "$T/good" "$COORD_TOK" --type application/json)" 415
same "nothing more stored" "$(count 'SELECT count(*) FROM record_history')" 3
same "no batch recorded for the refusals" "$(count 'SELECT count(*) FROM batch')" 3

# The audit log, read while the server runs.
ok "audit" gridbook-hq audit
audit=$(cat "$T/.out")
has "audit: policing record" "$audit" "403	batch	$COORD	$GRID"
has "audit: the reason" "$audit" \
	"batch 2: record 019ce0a0-0000-7000-8000-000000000002: a coordinator's device may not write patrol records"
same "audit: the forbidden record once, though sent twice" \
	"$(count "SELECT count(*) FROM audit_log WHERE detail LIKE '%may not write patrol%'")" 1
has "audit: wrong grid" "$audit" "not S01-G2"
has "audit: viewer" "$audit" "403	batch	$VIEWER"
has "audit: peer address" "$audit" "127.0.0.1"
has "audit: enrolment" "$audit" "enroll	$COORD"

# The change feed: the officer's device gets the grid's reference data and
# the coordinator's enterprise, not its own patrol.
$C changes "$URL" "$OFFICER_TOK" >"$T/page"
same "changes: 200" "$(head -n 1 "$T/page")" 200
page=$(cat "$T/page")
has "changes: communities" "$page" 'code: "S01-C01"'
has "changes: Chinese names" "$page" "东风社区"
has "changes: police areas" "$page" 'code: "PA-01"'
has "changes: staff" "$page" 'code: "J0002"'
has "changes: the enterprise" "$page" "望川区顺达五金有限公司"
case "$page" in *"patrol {"*) fail "changes sent a device its own record" ;; *) pass ;; esac
cursor=$(sed -n 's/^next_cursor: "\(.*\)"$/\1/p' "$T/page")
$C changes "$URL" "$OFFICER_TOK" "$cursor" >"$T/page2"
page2=$(cat "$T/page2")
same "changes from the cursor: 200" "$(head -n 1 "$T/page2")" 200
case "$page2" in *"communities {"*|*"records {"*) fail "second page not empty: $page2" ;; *) pass ;; esac
$C changes "$URL" "$OTHER_TOK" >"$T/page3"
case "$(cat "$T/page3")" in *"望川区顺达"*) fail "another grid got the enterprise" ;; *) pass ;; esac
$C changes "$URL" "$VIEWER_TOK" >"$T/page4"
same "a viewer may not sync" "$(head -n 1 "$T/page4")" 403
$C changes "$URL" "$OFFICER_TOK" "garbage" >"$T/page5"
same "a bad cursor is 400" "$(head -n 1 "$T/page5")" 400

# Batches of one device in flight are capped at the client's window
# (five): five that have sent their headers and hold back their bodies
# keep a sixth out with 429 and Retry-After until they go.  (The cap on
# batches of all devices at once is in t0800.)
cat >"$T/hold.py" <<'PY'
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
head = ("POST /v1/batches HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer %s\r\n"
        "Content-Type: application/x-protobuf\r\n"
        "Content-Encoding: deflate\r\nContent-Length: 100\r\n\r\n" % token)
held = []
for _ in range(5):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head.encode())
    held.append(s)
# Until HQ has taken all five in (their headers read, their slots
# taken), the sixth could come first: wait for /healthz to count them,
# up to 20 s.
end = time.monotonic() + 20
while time.monotonic() < end:
    h = socket.create_connection(("127.0.0.1", port))
    h.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = b""
    while True:
        d = h.recv(4096)
        if not d:
            break
        got += d
    h.close()
    if b"X-Batches-Under-Way: 5\r\n" in got:
        break
    time.sleep(0.05)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head.encode() + bytes(100))
ans = s.recv(4096).split(b"\r\n")
retry = [l for l in ans if l.lower().startswith(b"retry-after: ")]
print(ans[0].split(b" ")[1].decode(), retry[0].decode() if retry else "-")
for h in held:
    h.close()
PY
same "429 when the device has its window of batches in flight" \
	"$(python3 "$T/hold.py" "$PORT" "$COORD_TOK")" "429 Retry-After: 1"
st=
for _ in $(seq 50); do
	st=$(post "$T/good" "$COORD_TOK")
	[ "$st" = 200 ] && break
	sleep 0.1
done
same "served again once they are gone" "$st" 200

# Revocation takes effect on the running server.
ok "revoke" gridbook-hq device revoke "$OFFICER"
batch "$T/patrol3" "$OFFICER" $GRID 2 "$PATROL"
same "a revoked device gets 401" "$(post "$T/patrol3" "$OFFICER_TOK")" 401
has "401 says revoked" "$(cat "$T/resp")" "revoked"
fails 1 "revoking an unknown device" gridbook-hq device revoke \
	01900000-0000-7000-8000-00000000dead

# A clean stop.
kill -TERM $PID
wait $PID
same "SIGTERM: exit 0" "$?" 0
has "the log says it stopped" "$(cat "$T/serve.log")" "stopped"
skip_on_pg "the store is intact: PRAGMA integrity_check is SQLite's" ||
	ok "the store is intact" python3 -c 'import sqlite3,sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"' "$T/hq.db"

# TLS, with a throwaway self-signed certificate.
fails 2 "a certificate without a key" gridbook-hq serve --tls-cert "$T/c.pem"
if command -v openssl >/dev/null 2>&1 &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
		-subj /CN=127.0.0.1 >/dev/null 2>&1; then
	PORT=$(free_port)
	gridbook-hq serve --listen 127.0.0.1:$PORT --tls-cert "$T/cert.pem" \
		--tls-key "$T/key.pem" 2>"$T/tls.log" &
	PID=$!
	E2E_CLEANUPS+=("kill $PID 2>/dev/null; wait $PID 2>/dev/null")
	for _ in $(seq 100); do
		curl -kfs "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
		sleep 0.05
	done
	same "healthz over TLS" "$(curl -ks "https://127.0.0.1:$PORT/healthz")" ok
	same "no plain HTTP on the TLS port" \
		"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" 000
	kill -TERM $PID
	wait $PID
	same "TLS server: SIGTERM, exit 0" "$?" 0
fi

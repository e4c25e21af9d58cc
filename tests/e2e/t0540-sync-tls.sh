#!/usr/bin/env bash
# The client side of SPEC §6: over TLS the server's certificate is
# verified, against the CA given to sync setup --cacert; a server whose
# certificate the client cannot verify, plain HTTP to another machine, a
# URL with a password or another scheme, and a wrong or revoked token are
# all refused with a message that says why, and nothing is lost: the
# records wait for a sync that works.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

G="$T/a.grid"
hq_seed
grid_new "$G"
gridbook --db "$G" enterprise add --uscc "$(uscc 21)" --name 清河纸业有限公司 \
	--community S01-C01 --employees 40 >/dev/null

# Setup refuses what must not be used.
fails 2 "plain http to another machine" \
	gridbook --db "$G" sync setup --server http://hq.example.org
has "plain http: the reason" "$(cat "$T/.err")" "plain http is allowed only"
fails 2 "a URL with a password" \
	gridbook --db "$G" sync setup --server https://u:p@hq.example.org
fails 2 "another scheme" gridbook --db "$G" sync setup --server ftp://hq.example.org
fails 2 "not a URL" gridbook --db "$G" sync setup --server hq
before=$(sqlite3 "$G" "SELECT value FROM meta WHERE key = 'device'")
fails 2 "a new device id with a bad server" gridbook --db "$G" sync setup \
	--device 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b --server ftp://hq.example.org
same "a refused setup stores no part of itself" \
	"$(sqlite3 "$G" "SELECT value FROM meta WHERE key = 'device'")" "$before"
fails 2 "a CA file that is not there" \
	gridbook --db "$G" sync setup --cacert "$T/missing.pem"
ok "http to ::1 is fine" gridbook --db "$G" sync setup --server 'http://[::1]:9'
ok "http to localhost is fine" \
	gridbook --db "$G" sync setup --server http://localhost:9
same "the grid file is private" "$(stat -c %a "$G")" "600"

# A certificate for 127.0.0.1, signed by a CA of our own.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gridbook test CA" \
	-keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$T/hq.key" -out "$T/hq.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san.ext"
openssl x509 -req -in "$T/hq.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	-CAcreateserial -days 2 -extfile "$T/san.ext" -out "$T/hq.pem" \
	>/dev/null 2>&1
[ -s "$T/hq.pem" ] && pass || fail "openssl made no certificate"

gridbook-hq serve --store "$HQ_SPEC" --listen "127.0.0.1:$HQ_PORT" \
	--tls-cert "$T/hq.pem" --tls-key "$T/hq.key" >>"$T/hq.log" 2>&1 &
HQ_PID=$!
HQ_URL="https://127.0.0.1:$HQ_PORT"
for _ in $(seq 200); do
	curl -sf --cacert "$T/ca.pem" "$HQ_URL/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done
ok "the device is enrolled for https" enroll "$G" coordinator

fails 1 "a certificate the system does not trust is refused" \
	gridbook --db "$G" sync
has "the refusal names the certificate" "$(cat "$T/.err")" "certificate"
same "the record still waits" \
	"$(sqlite3 "$G" 'SELECT count(*) FROM outbox')" "1"
ok "the CA is given" gridbook --db "$G" sync setup --cacert "$T/ca.pem"
ok "sync over TLS" gridbook --db "$G" sync
has "the record went" "$(cat "$T/.out")" "1 accepted"
same "HQ holds it" "$(hq_sql 'SELECT count(*) FROM record_current')" "1"

# A wrong token: 401 with the server's words; the record waits.
gridbook --db "$G" enterprise add --uscc "$(uscc 22)" --name 南苑服装厂 \
	--community S01-C02 --employees 18 >/dev/null
fails 2 "a token on the command line is refused" \
	gridbook --db "$G" sync --token AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
has "the refusal says where to give it" "$(cat "$T/.err")" "--token -"
fails 2 "sync setup refuses one too" \
	gridbook --db "$G" sync setup --token AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
fails 2 "so does the daemon" gridbook-syncd --db "$G" --once \
	--token AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
wrong_token() {
	echo AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA |
		gridbook --db "$G" sync --token -
}
fails 1 "a wrong token is refused" wrong_token
has "the refusal says 401" "$(cat "$T/.err")" "answered 401"
same "the second record waits" \
	"$(sqlite3 "$G" 'SELECT count(*) FROM outbox')" "1"
has "sync status shows the error" "$(gridbook --db "$G" sync status)" "401"

# A revoked device: refused the same way.
dev=$(sqlite3 "$G" "SELECT value FROM meta WHERE key = 'device'")
ok "the device is revoked" \
	gridbook-hq device revoke "$dev" --store "$HQ_SPEC"
fails 1 "a revoked device is refused" gridbook --db "$G" sync
has "the revocation is explained" "$(cat "$T/.err")" "answered 401"

#!/usr/bin/env bash
# Whom the client trusts (SPEC §6): with --cacert and --pin, a sync to HQ
# goes through; a server whose key is not the pinned one, whose
# certificate comes from another CA the system trusts, has expired, or
# names another host is refused before anything of the request (body or
# token) is sent: the listener (tls-sink.py) sees the handshake and not
# one byte after it.  Proxy variables in the environment never see a
# sync, plain or TLS.  HQ offers TLS 1.2 and 1.3 with forward-secret key
# exchange only.  The system's trust store is replaced, for one process,
# in a mount namespace of its own (unshare), so nothing outside changes.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

SINK="python3 $top/tests/e2e/tls-sink.py"
G="$T/a.grid"
hq_seed
grid_new "$G"
add() {
	gridbook --db "$G" enterprise add --uscc "$(uscc "$1")" --name "$2" \
		--community S01-C01 --employees 30 >/dev/null
}
waiting() { sqlite3 "$G" 'SELECT count(*) FROM outbox'; }

# Two CAs, and certificates: HQ's (CA A, for 127.0.0.1), one from CA B,
# one of CA A for another host, one of CA A that has expired.
cd "$T" || exit 1
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
		-keyout "$1.key" -out "$1.pem" >/dev/null 2>&1
}
cert() { # name ca san [days]
	openssl req -newkey rsa:2048 -nodes -subj "/CN=gridbook hq" \
		-keyout "$1.key" -out "$1.csr" >/dev/null 2>&1
	printf 'subjectAltName=%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
		-CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" \
		>/dev/null 2>&1
}
ca caA "望川区政务测试根证书"
ca caB "另一家测试根证书"
cert hq caA IP:127.0.0.1
cert other caB IP:127.0.0.1
cert host caA DNS:hq.example.org
openssl req -newkey rsa:2048 -nodes -subj "/CN=gridbook hq" \
	-keyout old.key -out old.csr >/dev/null 2>&1
mkdir -p cadb && : >cadb/index.txt && echo 01 >cadb/serial
cat >ca.cnf <<'EOF'
[ca]
default_ca = test
[test]
dir = .
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = any
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = IP:127.0.0.1
EOF
openssl ca -batch -config ca.cnf -cert caA.pem -keyfile caA.key -in old.csr \
	-out old.pem -startdate 20200101000000Z -enddate 20200201000000Z \
	>/dev/null 2>&1
for c in hq other host old; do
	[ -s "$c.pem" ] && pass || fail "openssl made no $c certificate"
done
cd "$top" || exit 1
pin_of() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64
}

# Proxy variables everywhere, pointing at a listener that counts.
PPORT=$(free_port)
$SINK "$PPORT" "$T/proxy.log" --plain &
E2E_CLEANUPS+=("kill $! 2>/dev/null")
for _ in $(seq 200); do [ -s "$T/proxy.log.ready" ] && break; sleep 0.05; done
with_proxy() {
	http_proxy=http://127.0.0.1:$PPORT HTTPS_PROXY=http://127.0.0.1:$PPORT \
		https_proxy=http://127.0.0.1:$PPORT ALL_PROXY=http://127.0.0.1:$PPORT \
		all_proxy=http://127.0.0.1:$PPORT "$@"
}

# Plain HTTP on loopback with a proxy in the environment.
hq_start
ok "enrolled over plain http" enroll "$G" coordinator
add 31 东湖五金加工厂
ok "plain sync with proxy variables set" with_proxy gridbook --db "$G" sync
same "it went" "$(waiting)" "0"
hq_stop

# TLS, the right CA and the right pin.
gridbook-hq serve --store "$HQ_SPEC" --listen "127.0.0.1:$HQ_PORT" \
	--tls-cert "$T/hq.pem" --tls-key "$T/hq.key" >>"$T/hq.log" 2>&1 &
HQ_PID=$!
HQ_URL="https://127.0.0.1:$HQ_PORT"
for _ in $(seq 200); do
	curl -sf --cacert "$T/caA.pem" "$HQ_URL/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done
fails 2 "a pin that is not one" gridbook --db "$G" sync setup --pin sha256//abc
has "the pin's rule is named" "$(cat "$T/.err")" "--pin"
fails 2 "a proxy that is not a URL" gridbook --db "$G" sync setup --proxy hq:3128
ok "https, CA A and HQ's pin" gridbook --db "$G" sync setup \
	--server "$HQ_URL" --cacert "$T/caA.pem" --pin "sha256//$(pin_of "$T/hq.pem")"
add 32 文昌精密机械有限公司
ok "sync with the right CA and pin, proxy variables set" \
	with_proxy gridbook --db "$G" sync
same "it went" "$(waiting)" "0"
same "the proxy never saw a connection" "$(cat "$T/proxy.log" 2>/dev/null)" ""

# Each bad server: a listener with that certificate; the sync must fail
# and the listener see nothing after the handshake.
add 33 清河纸业有限公司
n=0
refused() { # what cert pin [runner...]
	local what=$1 cert=$2 pin=$3 port log
	shift 3
	n=$((n + 1))
	port=$(free_port)
	log="$T/sink$n.log"
	$SINK "$port" "$log" --cert "$T/$cert.pem" --key "$T/$cert.key" &
	local sink=$!
	E2E_CLEANUPS+=("kill $sink 2>/dev/null")
	for _ in $(seq 200); do [ -s "$log.ready" ] && break; sleep 0.05; done
	gridbook --db "$G" sync setup --server "https://127.0.0.1:$port" \
		--pin "$pin" >/dev/null
	fails 1 "$what: refused" "$@" gridbook --db "$G" sync
	for _ in $(seq 200); do [ -s "$log" ] && break; sleep 0.05; done
	has "$what: the listener saw a handshake" "$(cat "$log")" "handshake"
	same "$what: not one byte after it" \
		"$(grep -vc ' 0$' "$log")" "0"
	same "$what: the record waits" "$(waiting)" "1"
	kill "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
}
refused "a key not the pinned one" hq "sha256//$(pin_of "$T/other.pem")"
has "the pin is named" "$(cat "$T/.err")" "public key"
refused "an expired certificate" old ""
refused "a certificate for another host" host ""

# A CA the system trusts, in a trust store of this process alone.
mkdir -p "$T/syscerts"
cp "$T/caB.pem" "$T/syscerts/caB.pem"
cp "$T/caB.pem" "$T/syscerts/ca-certificates.crt"
openssl rehash "$T/syscerts" 2>/dev/null || c_rehash "$T/syscerts" >/dev/null
as_system() {
	unshare --mount sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' \
		"$T/syscerts" "$@"
}
if as_system true 2>/dev/null; then
	port=$(free_port)
	$SINK "$port" "$T/sysb.log" --cert "$T/other.pem" --key "$T/other.key" &
	sink=$!
	E2E_CLEANUPS+=("kill $sink 2>/dev/null")
	for _ in $(seq 200); do [ -s "$T/sysb.log.ready" ] && break; sleep 0.05; done
	as_system curl -s -m 2 -o /dev/null "https://127.0.0.1:$port/" 2>/dev/null
	# The sink writes its line when the connection has closed, which
	# may be after curl has exited.
	for _ in $(seq 200); do [ -s "$T/sysb.log" ] && break; sleep 0.05; done
	has "the system there trusts CA B (curl sends its request)" \
		"$(cat "$T/sysb.log" 2>/dev/null)" "handshake ok"
	kill "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	refused "a CA the system trusts, not the one given" other "" as_system
else
	fail "unshare --mount is not available to stand in for the system's CAs"
fi

# HQ offers no TLS before 1.2, and no key exchange without forward
# secrecy.  (SECLEVEL=0 lets this client ask for old protocols at all.)
s_client() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$HQ_PORT" "$@" \
		>/dev/null 2>&1
}
fails 1 "openssl s_client -tls1_1" s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
fails 1 "openssl s_client -tls1" s_client -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
fails 1 "TLS 1.2 with RSA key exchange" s_client -tls1_2 -cipher AES256-GCM-SHA384
ok "TLS 1.2 with ECDHE" s_client -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
ok "TLS 1.3" s_client -tls1_3

# Back to HQ: the waiting record goes.
ok "back to HQ" gridbook --db "$G" sync setup --server "$HQ_URL" \
	--pin "sha256//$(pin_of "$T/hq.pem")"
ok "the waiting record goes" gridbook --db "$G" sync
same "nothing waits" "$(waiting)" "0"
same "HQ holds all three" "$(hq_sql 'SELECT count(*) FROM record_current')" "3"

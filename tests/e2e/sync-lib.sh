# Sourced by the sync e2e scripts after lib.sh: a private gridbook-hq on a
# free loopback port with its store in $T, devices enrolled into grid
# files, and the helpers the scripts share.  Every process started here
# is stopped by the cleanup of lib.sh.
#   hq_seed [DIR]        load the reference district (default seeds/)
#   hq_start / hq_stop   start (waiting for /healthz) or stop the server
#   hq_sql SQL           a query on the server's store (store_sql)
#   grid_new FILE        a grid file of S01-G1 entering as K0001
#   enroll FILE ROLE     enrol a device and set FILE up to sync as it
#   uscc N               a valid unified social credit code, serial N
#   local_versions FILE  "id|version" of every version in a grid file
#   hq_versions          the same for everything the server holds
#   wait_for SECONDS CMD...  runs CMD every 0.1 s until it succeeds, for
#                        at most SECONDS: a test waits for what it expects,
#                        never sleeps and then looks
HQ_STORE="$T/hq.db"
hq_store "$HQ_STORE"
HQ_PORT=$(free_port)
HQ_URL="http://127.0.0.1:$HQ_PORT"
HQ_PID=
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE

hq_seed() {
	gridbook-hq seed "${1:-$top/seeds}" --store "$HQ_SPEC" \
		>>"$T/hq-seed.log" 2>&1
}
hq_start() {
	gridbook-hq serve --store "$HQ_SPEC" \
		--listen "127.0.0.1:$HQ_PORT" >>"$T/hq.log" 2>&1 &
	HQ_PID=$!
	# Its own /healthz: a server that has exited (its port taken by a
	# run beside this one) is not taken for another one's answer.
	for _ in $(seq 200); do
		kill -0 "$HQ_PID" 2>/dev/null || break
		curl -sf "$HQ_URL/healthz" >/dev/null 2>&1 &&
			kill -0 "$HQ_PID" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "gridbook-hq did not start: $(tail -n 5 "$T/hq.log")" >&2
	return 1
}
hq_stop() {
	if [ -n "$HQ_PID" ]; then
		kill "$HQ_PID" 2>/dev/null
		wait "$HQ_PID" 2>/dev/null
		HQ_PID=
	fi
	return 0
}
E2E_CLEANUPS+=("hq_stop")
hq_sql() { store_sql "$HQ_SPEC" "$1"; }
grid_new() {
	gridbook --db "$1" init --grid S01-G1 --staff K0001 >/dev/null
}
enroll() {
	gridbook-hq device enroll --grid S01-G1 --role "$2" \
		--store "$HQ_SPEC" 2>/dev/null |
		gridbook --db "$1" sync setup --server "$HQ_URL" --token - \
			>/dev/null
}
uscc() {
	python3 - "$1" <<'EOF'
import sys
A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
c = "91110108" + "%09d" % int(sys.argv[1])
s = sum(A.index(ch) * pow(3, i, 31) for i, ch in enumerate(c))
print(c + A[(31 - s % 31) % 31])
EOF
}
local_versions() {
	sqlite3 "$1" "SELECT replace(id, '-', '') || '|' || version FROM
		(SELECT id, version FROM record UNION
		 SELECT id, version FROM record_history) ORDER BY 1"
}
hq_versions() {
	hq_sql "SELECT lower(hex(id)) || '|' || version FROM record_history
		ORDER BY 1"
}
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

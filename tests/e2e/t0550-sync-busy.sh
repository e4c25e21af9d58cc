#!/usr/bin/env bash
# A sync under pressure (SPEC §4, §6), through tests/e2e/hqproxy.py in
# front of a real gridbook-hq: HQ saying 503 and 429 with Retry-After does
# not end a round; one `gridbook sync` waits (at least what HQ asked) and
# finishes, each record once; with --retry-for 0 it gives up at once and
# sync status shows why; a gridbook-syncd round waits and goes on too.  A
# `gridbook sync` and a gridbook-syncd killed with SIGKILL while HQ has
# applied a batch whose ack never reached them, restarted, complete:
# nothing lost, nothing applied twice.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

G="$T/a.grid"
P="$T/proxy"
mkdir "$P"
PROXY_PORT=$(free_port)
PROXY="http://127.0.0.1:$PROXY_PORT"
PROXY_PID=
SYNC_PID=
stop_all() {
	for p in $SYNC_PID $PROXY_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}
E2E_CLEANUPS+=("stop_all")

hq_seed
hq_start
python3 "$top/tests/e2e/hqproxy.py" "$PROXY_PORT" "$HQ_URL" "$P" \
	>"$T/proxy.out" 2>&1 &
PROXY_PID=$!
wait_for 20 test -e "$P/ready" && pass || fail "the proxy did not start"
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator
import() {
	python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows "$1" --start "$2" \
		"$T/e.csv" &&
		gridbook --db "$G" import enterprise "$T/e.csv" >/dev/null
}
refusals() { grep -cE ' (503|429)$' "$P/log"; }
versions_once() {
	same "$1: HQ holds every version of the file, once" \
		"$(hq_versions)" "$(local_versions "$G")"
	same "$1: no batch was applied twice" \
		"$(hq_sql 'SELECT sum(records) FROM batch')" \
		"$(hq_sql 'SELECT count(*) FROM record_history')"
	same "$1: nothing pending" \
		"$(sqlite3 "$G" 'SELECT count(*) FROM outbox')" "0"
}

# Three refusals, 503 and 429 in turn, each asking for 1 s.
ok "300 enterprises imported" import 300 0
echo 3 >"$P/busy"
ok "one gridbook sync finishes through a busy HQ" \
	gridbook --db "$G" sync --server "$PROXY" --batch-records 50
has "it says it sent all" "$(cat "$T/.out")" "sent 300 records"
has "it says HQ was busy" "$(cat "$T/.err")" "HQ is busy"
same "HQ refused three times" "$(refusals)" "3"
waits=$(grep -o 'trying again in [0-9.]* s' "$T/.err" | awk '{print $4}' |
	tr '\n' ' ')
echo "waits: $waits"
same "it waited three times, never less than Retry-After" "$(python3 -c "
w = [float(x) for x in '$waits'.split()]
print(len(w), all(x >= 1.0 for x in w))")" "3 True"
has "429 counts as busy too" "$(cat "$T/.err")" "answered 429"
versions_once "busy"

# gridbook-syncd likewise: its round waits and goes on.
ok "20 more imported" import 20 660
echo 2 >"$P/busy"
ok "a gridbook-syncd round finishes through a busy HQ" \
	gridbook-syncd --db "$G" --server "$PROXY" --once --batch-records 10
has "the daemon logs the wait" "$(cat "$T/.err")" "HQ is busy"
case "$(cat "$T/.err")" in *"sync failed"*) fail "the round failed" ;;
*) pass ;; esac
same "HQ refused five times in all" "$(refusals)" "5"
versions_once "syncd busy"

# Told not to wait, it gives up at once and says why.
ok "10 more imported" import 10 300
echo 1 >"$P/busy"
fails 1 "--retry-for 0 gives up on the first refusal" \
	gridbook --db "$G" sync --server "$PROXY" --retry-for 0
has "the failure quotes HQ" "$(cat "$T/.err")" "busy: try again shortly"
st=$(gridbook --db "$G" sync status)
has "sync status shows the last error" "$st" "busy: try again shortly"
has "and the 10 pending" "$st" "pending       10 records"
ok "the next sync delivers them" gridbook --db "$G" sync --server "$PROXY"
versions_once "no wait"

# gridbook sync killed while HQ has applied its third batch and the ack
# is held back: the batch stays written down and goes again.
ok "200 more imported" import 200 310
echo 2 >"$P/hold"
gridbook --db "$G" sync --server "$PROXY" --batch-records 20 \
	>"$T/killed.out" 2>&1 &
SYNC_PID=$!
wait_for 60 test -e "$P/held" && pass || fail "no batch was held"
kill -KILL "$SYNC_PID"
wait "$SYNC_PID" 2>/dev/null
SYNC_PID=
same "HQ applied the batch whose ack was lost" "$(cat "$P/held")" "200"
inflight=$(sqlite3 "$G" 'SELECT count(*) FROM sync_batch')
[ "$inflight" -ge 1 ] && pass ||
	fail "the killed sync left no batch written down"
ok "gridbook sync, started again, completes" \
	gridbook --db "$G" sync --server "$PROXY" --batch-records 20
versions_once "gridbook sync killed"

# The same with gridbook-syncd.
rm -f "$P/held"
ok "150 more imported" import 150 510
echo 3 >"$P/hold"
gridbook-syncd --db "$G" --server "$PROXY" --interval 0.2 \
	--batch-records 20 >"$T/syncd.log" 2>&1 &
SYNC_PID=$!
wait_for 60 test -e "$P/held" && pass || fail "no batch of the daemon was held"
kill -KILL "$SYNC_PID"
wait "$SYNC_PID" 2>/dev/null
SYNC_PID=
ok "gridbook-syncd, started again, completes its round" \
	gridbook-syncd --db "$G" --server "$PROXY" --once --batch-records 20
versions_once "gridbook-syncd killed"
same "HQ holds all 680" "$(hq_sql 'SELECT count(*) FROM record_current')" \
	"680"

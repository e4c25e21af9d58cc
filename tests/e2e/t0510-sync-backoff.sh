#!/usr/bin/env bash
# gridbook-syncd against a server that goes away: while HQ is down the
# daemon logs each failure with the next delay, under a cap that doubles
# up to --backoff-max; records written meanwhile wait in the outbox and
# sync status shows the error; once HQ is back everything is delivered,
# each record once.  SIGTERM stops the daemon with exit status 0.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

G="$T/a.grid"
LOG="$T/syncd.log"
SYNCD_PID=
syncd_stop() {
	if [ -n "$SYNCD_PID" ]; then
		kill "$SYNCD_PID" 2>/dev/null
		wait "$SYNCD_PID" 2>/dev/null
		SYNCD_PID=
	fi
	return 0
}
E2E_CLEANUPS+=("syncd_stop")
pending() { sqlite3 -cmd '.timeout 10000' "$G" 'SELECT count(*) FROM outbox'; }
# Waits up to $1 seconds for the outbox to empty.
wait_drained() {
	for _ in $(seq $(($1 * 10))); do
		[ "$(pending)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

hq_seed
hq_start
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator

ok "syncd --help" gridbook-syncd --help
has "the help names --backoff-max" "$(cat "$T/.out")" "--backoff-max"
fails 2 "syncd refuses a bad interval" gridbook-syncd --db "$G" --interval x
fails 2 "syncd needs a grid file" gridbook-syncd --interval 1
fails 1 "plain http to another machine is refused" \
	gridbook-syncd --db "$G" --server http://192.0.2.7:8470 --once
has "the refusal says why" "$(cat "$T/.err")" "plain http is allowed only"

python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows 300 --start 0 \
	"$T/first.csv"
ok "300 enterprises imported" \
	gridbook --db "$G" import enterprise "$T/first.csv"

gridbook-syncd --db "$G" --interval 0.2 --backoff-max 4 \
	--batch-records 50 >"$LOG" 2>&1 &
SYNCD_PID=$!
wait_drained 20 && pass || fail "the first 300 were not delivered"
same "HQ holds the first 300" \
	"$(hq_sql 'SELECT count(*) FROM record_current')" "300"

# HQ goes away; more records are written.
hq_stop
python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows 200 --start 300 \
	"$T/second.csv"
ok "200 more imported while HQ is down" \
	gridbook --db "$G" import enterprise "$T/second.csv"
# Failures: caps 1, 2, 4, 4 ... (the waits are random below the cap); wait
# for at least four of them (at most 7 s of waiting, bounded at 60 s for a
# busy machine).
four_retries() { [ "$(grep -c 'retry in' "$LOG")" -ge 4 ]; }
wait_for 60 four_retries || fail "the daemon did not retry four times"
caps=$(grep -o 'backoff up to [0-9.]* s' "$LOG" | awk '{print $4}' |
	tr '\n' ' ')
echo "backoff caps: $caps"
same "the caps double up to the maximum" "$(echo "$caps" | cut -d' ' -f1-4)" \
	"1 2 4 4"
delays=$(grep -o 'retry in [0-9.]* s' "$LOG" | awk '{print $3}' | tr '\n' ' ')
echo "delays: $delays"
same "each delay lies under its cap" "$(python3 -c "
d = [float(x) for x in '$delays'.split()]
c = [float(x) for x in '$caps'.split()]
print(all(0 <= a <= b for a, b in zip(d, c)) and len(d) == len(c))")" "True"
has "the failure says what" "$(grep 'retry in' "$LOG" | head -n 1)" \
	"cannot reach $HQ_URL"
has "log lines carry a timestamp" "$(grep 'retry in' "$LOG" | head -n 1)" "Z gridbook-syncd: "
same "the 200 wait in the outbox" "$(pending)" "200"
st=$(gridbook --db "$G" sync status)
has "sync status shows 200 pending" "$st" "pending       200 records"
has "sync status shows the error" "$st" "cannot reach"

# HQ is back: everything is delivered.
hq_start
wait_drained 20 && pass || fail "the 200 were not delivered after HQ came back"
# The daemon logs it once its round is over, after the outbox drained.
wait_for 20 grep -q "sync works again" "$LOG" && pass ||
	fail "the daemon did not say it works again: $(tail -n 3 "$LOG")"
same "HQ holds all 500" "$(hq_sql 'SELECT count(*) FROM record_current')" "500"
same "HQ holds each version once" \
	"$(hq_sql 'SELECT count(*) FROM record_history')" "500"
same "no batch delivered twice" "$(hq_sql 'SELECT sum(records) FROM batch')" \
	"500"
st=$(gridbook --db "$G" sync status --format json)
has "the error is marked resolved" "$st" '"resolved":true'

kill -TERM "$SYNCD_PID"
wait "$SYNCD_PID"
same "SIGTERM stops the daemon with status 0" "$?" "0"
SYNCD_PID=
has "the daemon logs its stop" "$(tail -n 1 "$LOG")" "stopping"

# --once: one round, its status the exit status.
ok "--once with HQ up" gridbook-syncd --db "$G" --once
hq_stop
fails 1 "--once with HQ down" gridbook-syncd --db "$G" --once
has "--once says why" "$(cat "$T/.err")" "sync failed"

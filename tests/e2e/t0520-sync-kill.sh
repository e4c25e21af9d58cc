#!/usr/bin/env bash
# gridbook-syncd killed with SIGKILL at random moments (SPEC §4, §5): 50
# rounds, each writing 30 new records and editing an older one, then
# starting the daemon with batches of two records and killing it after a
# random delay spread over the time it takes to deliver them -- before,
# during or after a batch is sent or its ack recorded.
# Then the daemon and `gridbook sync` run side by side for a while.
# Afterwards one `gridbook sync` finishes the work, and HQ holds every
# record once and every version once, no version came in two batches,
# the grid file is sound and sync status shows nothing pending.
#   KILL_RUNS=50 KILL_SEED=N to repeat a run.
top=$(cd "$(dirname "$0")/../.." && pwd)
# The files live in memory when the machine has a tmpfs: SIGKILL, unlike
# a power cut, loses nothing the kernel holds, and on a disk busy with
# other work each of the thousand small commits here took long enough
# for two processes syncing one file to keep a third waiting past the
# 10 s a gridbook waits for the file.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"
RUNS=${KILL_RUNS:-50}
PER=30
SEED=${KILL_SEED:-$RANDOM}
echo "seed $SEED (KILL_SEED=$SEED repeats the delays)"

G="$T/a.grid"
hq_seed
hq_start
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator

python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows $(((RUNS + 13) * PER)) \
	--seed "$SEED" "$T/all.csv"
# part I: the I-th slice of PER records, with the header.
part() {
	{ head -n 1 "$T/all.csv"
	  sed -n "$(($1 * PER + 2)),$(($1 * PER + PER + 1))p" "$T/all.csv"
	} >"$T/part.csv"
}

# How long the daemon takes from its start to deliver one round's worth,
# measured on a second grid file of a second device, to spread the kills
# over: the quickest of three rounds, so that one slow moment of a busy
# machine does not stretch every delay past the end of the work.
C="$T/calibrate.grid"
grid_new "$C"
ok "the calibration device is enrolled" enroll "$C" coordinator
round_ms=
for k in 10 11 12; do
	part $((RUNS + k))
	gridbook --db "$C" import enterprise "$T/part.csv" >/dev/null 2>&1
	t0=$(date +%s%N)
	ok "a whole round" gridbook-syncd --db "$C" --once --batch-records 2
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	echo "a round of $PER records: $ms ms"
	[ -z "$round_ms" ] || [ "$ms" -lt "$round_ms" ] && round_ms=$ms
done
echo "a round of $PER records takes $round_ms ms"
delays=$(python3 -c "
import random
r = random.Random($SEED)
print(' '.join('%.3f' % (r.random() * 1.3 * $round_ms / 1000.0)
               for _ in range($RUNS)))")

in_flight=0
import_failed=0
i=0
for d in $delays; do
	# PER new records and a new version of an older one.
	part "$i"
	gridbook --db "$G" import enterprise "$T/part.csv" >/dev/null \
		2>>"$T/import.err" || import_failed=$((import_failed + 1))
	id=$(sqlite3 "$G" "SELECT id FROM record ORDER BY random() LIMIT 1")
	gridbook --db "$G" enterprise edit "$id" --employees $((i + 7)) \
		>/dev/null 2>>"$T/import.err" || import_failed=$((import_failed + 1))

	gridbook-syncd --db "$G" --interval 0.05 --batch-records 2 \
		>>"$T/syncd.log" 2>&1 &
	pid=$!
	sleep "$d"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	n=$(sqlite3 "$G" "SELECT count(*) FROM sync_batch")
	[ "$n" -gt 0 ] && in_flight=$((in_flight + 1))
	i=$((i + 1))
done
echo "$in_flight of $RUNS kills left a batch in flight"
total=$((RUNS * PER))
same "every write between the kills succeeded" "$import_failed" "0"
[ "$in_flight" -ge $((RUNS / 10)) ] && pass ||
	fail "only $in_flight kills hit a batch in flight; the test is too weak"
same "the grid file is sound" \
	"$(sqlite3 "$G" 'PRAGMA integrity_check')" "ok"

# Then `gridbook sync` and the daemon at once, both sending the batch in
# flight, while records are written.
gridbook-syncd --db "$G" --interval 0.05 --batch-records 2 \
	>>"$T/syncd.log" 2>&1 &
pid=$!
both_failed=0
for k in $(seq 0 9); do
	part $((RUNS + k))
	gridbook --db "$G" import enterprise "$T/part.csv" >/dev/null \
		2>>"$T/import.err" || import_failed=$((import_failed + 1))
	gridbook --db "$G" sync --batch-records 2 >/dev/null \
		2>>"$T/sync.err" || both_failed=$((both_failed + 1))
done
kill -TERM "$pid"
wait "$pid"
same "the daemon stopped cleanly beside gridbook sync" "$?" "0"
[ "$both_failed" = 0 ] || grep -v "^imported" "$T/sync.err" | head -n 5 >&2
[ "$import_failed" = 0 ] || grep -v "^imported" "$T/import.err" | head -n 5 >&2
same "gridbook sync beside the daemon never failed" "$both_failed" "0"
same "no write failed beside them" "$import_failed" "0"
total=$((total + 10 * PER))

ok "one last sync delivers the rest" gridbook --db "$G" sync
ok "sync status" gridbook --db "$G" sync status --format json
has "nothing pending" "$(cat "$T/.out")" '"pending":0'
has "no batch in flight" "$(cat "$T/.out")" '"in_flight":null'
has "nothing refused" "$(cat "$T/.out")" '"attention":[]'

same "HQ holds every record of the file" \
	"$(hq_sql 'SELECT count(*) FROM record_current')" \
	"$(sqlite3 "$G" 'SELECT count(*) FROM record')"
same "the file holds its records and the calibration device's" \
	"$(sqlite3 "$G" 'SELECT count(*) FROM record')" "$((total + 3 * PER))"
same "HQ holds each version once, and every version written" \
	"$(hq_versions)" "$(local_versions "$G")"
same "HQ's current versions are the file's" \
	"$(hq_sql "SELECT lower(hex(id)) || '|' || version FROM record_current ORDER BY 1")" \
	"$(sqlite3 "$G" "SELECT replace(id, '-', '') || '|' || version FROM record ORDER BY 1")"
same "no version was delivered in two batches" \
	"$(hq_sql 'SELECT sum(records) FROM batch')" \
	"$(hq_sql 'SELECT count(*) FROM record_history')"
same "batch numbers have no gaps" \
	"$(hq_sql 'SELECT sum(m - n) FROM (SELECT max(seq) AS m, count(*) AS n FROM batch GROUP BY device) AS d')" \
	"0"

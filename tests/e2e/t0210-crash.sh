#!/usr/bin/env bash
# An import killed with SIGKILL at any moment leaves the grid file whole
# and holding all of the file's records or none (SPEC §5): 20 imports of a
# 100,000-line file, each killed after a delay spread over the time a full
# import takes, each followed by PRAGMA integrity_check and the counts of
# records and outbox entries.  A kill lands in the insert phase when the
# rollback journal is non-empty at that moment; some must.  Last, a killed
# file takes the whole import.
#   CRASH_RUNS=20 CRASH_SEED=N to repeat a run.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
unset GRIDBOOK_DB GRIDBOOK_NOW
ROWS=100000
RUNS=${CRASH_RUNS:-20}
SEED=${CRASH_SEED:-$RANDOM}
echo "seed $SEED (CRASH_SEED=$SEED repeats this run)"

gridbook --db "$T/template.grid" init --grid S01-G1 --staff K0001 >/dev/null
python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows $ROWS "$T/big.csv"

records() { sqlite3 "$1" "SELECT count(*) FROM record WHERE kind = 'enterprise'"; }
outbox() { sqlite3 "$1" "SELECT count(*) FROM outbox"; }

# The time of a whole import, to spread the kills over.
cp "$T/template.grid" "$T/full.grid"
t0=$(date +%s%N)
ok "a whole import" gridbook --db "$T/full.grid" import enterprise "$T/big.csv"
t1=$(date +%s%N)
full_ms=$(( (t1 - t0) / 1000000 ))
same "the whole import holds every record" "$(records "$T/full.grid")" "$ROWS"
echo "a whole import takes $full_ms ms"

# One delay per run, stratified: run i is killed at a random moment of
# the i-th slice of [0, full time], so that the kills cover both phases.
delays=$(python3 -c "
import random
r = random.Random($SEED)
n, t = $RUNS, $full_ms / 1000.0
print(' '.join('%.3f' % ((i + r.random()) * t / n) for i in range(n)))")

all=0 none=0 inserting=0 finished=0 last_none=""
i=0
for d in $delays; do
	i=$((i + 1))
	f="$T/k$i.grid"
	cp "$T/template.grid" "$f"
	gridbook --db "$f" import enterprise "$T/big.csv" 2>/dev/null &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	# A non-empty journal after the kill: it died inside the insert
	# transaction (TRUNCATE mode leaves an empty one after commit).
	j=$(stat -c %s "$f-journal" 2>/dev/null || echo 0)
	[ "$j" -gt 0 ] && inserting=$((inserting + 1))
	[ "$rc" -eq 0 ] && finished=$((finished + 1))
	check=$(sqlite3 "$f" "PRAGMA integrity_check" 2>&1)
	n=$(records "$f")
	o=$(outbox "$f")
	same "run $i (killed at ${d}s): integrity_check" "$check" "ok"
	case "$n" in
	0) none=$((none + 1)); last_none=$f; pass ;;
	$ROWS) all=$((all + 1)); pass ;;
	*) fail "run $i (killed at ${d}s): $n records, wanted 0 or $ROWS" ;;
	esac
	same "run $i: one outbox entry per record" "$o" "$n"
	[ "$f" = "$last_none" ] || rm -f "$f" "$f-journal"
done
echo "$RUNS kills: $all ended with all records, $none with none;" \
	"$inserting killed while inserting, $finished finished first"
if [ "$inserting" -ge 3 ]; then pass; else
	fail "only $inserting of $RUNS kills landed in the insert phase"
fi

# A file whose import was killed takes the whole import afterwards.
if [ -n "$last_none" ]; then
	ok "a killed file imports the whole file" \
		gridbook --db "$last_none" import enterprise "$T/big.csv"
	same "all records after the kill" "$(records "$last_none")" "$ROWS"
	same "... with an outbox entry each" "$(outbox "$last_none")" "$ROWS"
	same "... and a sound file" \
		"$(sqlite3 "$last_none" 'PRAGMA integrity_check')" "ok"
else
	fail "no kill left an empty import to retry"
fi

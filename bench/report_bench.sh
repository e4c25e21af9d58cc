#!/usr/bin/env bash
# The report benchmark (BENCHMARKS.md, "Reports"), run by bench/run after
# the sync benchmark, or alone:
#
#   bench/report_bench.sh [BUILD_DIR]
#       SIZES="3.5 20:5.5"  the stores to build, smallest first: for each,
#                      YEARS[:SCALE], the history held before the last
#                      RECENT months, made at gridbook-gen's --scale SCALE
#                      (default 1).  The defaults give about 1.0M and
#                      10.3M stored versions.
#       RECENT=12      months of field work at scale 1 ending with the
#                      month timed, the same in every store
#       RUNS=11        runs of each report on each store (bench/run
#                      passes its REPORT_RUNS, 5 unless set)
#       KEEP=1         keep the work directory (its path is printed)
#
# Every store holds the same RECENT months, made once (gridbook-gen, seed
# 1, scale 1) and loaded into each, so the month timed (the last complete
# month) and the one before it, which contract-rate compares with, hold
# the very same records everywhere.  Before them comes the history, which
# is what differs: YEARS of it at SCALE, in as many pieces as the longest
# history needs (gridbook-gen makes at most ten years at a time), the
# same number of pieces for every store.  Each piece is its own set of
# grid files and so its own 64 devices; every store thus has the same
# devices, 64 per piece.  At scale 1 a year is about 230,000 versions;
# --scale multiplies enterprises (and their checks, disputes, employment
# rows) and public requests, not patrols, handovers, daily reports or
# reception hours: a year at scale F is about 167,000 + 61,000 F
# versions.  History may not start before 2000 (validation refuses older
# dates).
#
# build/bench/load_store loads each store's files, oldest first, into a
# fresh seeded SQLite store through the server's ingest (validation,
# history, current rows and report rollups, as over HTTP).  It sends
# everything at once, today, so the sync rollup (rr_sync: batches per
# device and day, which sync-health and every report's completeness read)
# is then rewritten as a fleet syncing each day it worked would have left
# it: one row per device and day of its records.  When all stores are
# built, it times every report at district level for the last complete
# month, in process (report_run and the JSON writer, what GET
# /v1/reports/NAME does), RUNS times on each store, the runs alternating
# between the stores so that other work on the machine weighs on all
# alike; it prints for each report the median [fastest slowest] on each
# store and the ratio of the largest store's median to the smallest's.
# Targets: every district report under 10 ms on the largest store, and
# within 1.5x of its time on the smallest.
#
# Making and loading the stores is not part of what is timed (it is
# printed).  On 2 cores, with the defaults, about 16 minutes in all: the
# recent year 7 s to make; the 1.0M store 19 s to make, 54 s to load
# and 2 s for rr_sync (0.9 GB); the 10.3M store 4 min to make, 10 min
# to load and 40 s for rr_sync (9.7 GB on disk, and up to 6 GB of grid
# files beside it while it loads); timing the reports takes seconds.  A
# small version, about 3 minutes: SIZES="1 6:2" (0.46M and 2.0M).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
SIZES=${SIZES:-"3.5 20:5.5"}
RECENT=${RECENT:-12}
RUNS=${RUNS:-11}
unset GRIDBOOK_DB GRIDBOOK_NOW

for f in "$B/bench/gridbook-gen" "$B/bench/load_store"; do
	[ -x "$f" ] || { echo "report_bench: $f is not built (make)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-reports.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "   work directory kept: $W"
else
	trap 'rm -rf "$W"' EXIT
fi

# gen DIR FROM TO SEED SCALE: one piece, all grids; prints its total line.
gen() {
	"$B/bench/gridbook-gen" --out "$1" --grids all --from "$2" --to "$3" \
		--seed "$4" --scale "$5" --seeds "$top/seeds" \
		>"$W/gen.out" 2>&1 || { cat "$W/gen.out" >&2; exit 1; }
}
# The local day number (rr_sync's day) of record_current's YYYY-MM-DD day.
day="CAST(julianday(c.day) - 2440587.5 AS INTEGER)"
# months YEARS: the history length in whole months.
months() { awk -v y="$1" 'BEGIN { printf "%d", y * 12 + 0.5 }'; }

# The period timed: the last complete month.  The recent months end with
# it; the history ends the day before they begin.
to=$(date -d "$(date +%Y-%m-01) -1 day" +%F)
from=$(date -d "$to" +%Y-%m-01)
recent=$(date -d "$from -$((RECENT - 1)) months" +%F)
echo "== Reports: district level, $from..$to, $RUNS runs each, in process"
echo "   sqlite $(sqlite3 --version | cut -d' ' -f1), $(nproc) cpus, $(uname -srm)"

# As many history pieces as the longest history needs, for every store.
longest=0
for s in $SIZES; do
	m=$(months "${s%%:*}")
	[ "$m" -gt "$longest" ] && longest=$m
done
pieces=$(( (longest + 119) / 120 ))
[ "$pieces" -ge 1 ] || pieces=1

t0=$(date +%s)
gen "$W/recent" "$recent" "$to" 1 1
echo "   recent: $recent..$to at scale 1, made in $(( $(date +%s) - t0 )) s;" \
	"history in $pieces piece(s) a store; $(( (pieces + 1) * 64 ))" \
	"devices a store"

stores=()
n=0
for s in $SIZES; do
	n=$((n + 1))
	years=${s%%:*}
	scale=1
	[ "$s" != "$years" ] && scale=${s#*:}
	m=$(months "$years")
	start=$(date -d "$recent -$m months" +%F)
	if [[ "$start" < 2000-01-01 ]]; then
		echo "report_bench: $years years before $recent begin before" \
			"2000" >&2
		exit 1
	fi
	rm -rf "$W/gen"
	mkdir "$W/gen"
	dirs=()
	t0=$(date +%s)
	for j in $(seq 0 $((pieces - 1))); do
		a=$(date -d "$start +$((j * m / pieces)) months" +%F)
		b=$(date -d "$start +$(((j + 1) * m / pieces)) months -1 day" +%F)
		[[ "$b" < "$a" ]] && continue
		gen "$W/gen/$j" "$a" "$b" $((j + 2)) "$scale"
		dirs+=("$W/gen/$j")
	done
	t1=$(date +%s)
	db="$W/hq-$n.db"
	"$B/bench/load_store" load "$db" "$top/seeds" "${dirs[@]}" \
		"$W/recent" >"$W/load.out" || exit 1
	t2=$(date +%s)
	# The loader sends everything today, so rr_sync holds one row a
	# device.  Make it what laptops that sync at 18:00 (UTC+8) each day
	# they worked would have left: a row a device and day of its records.
	sqlite3 "$db" "DELETE FROM rr_sync;
		INSERT INTO rr_sync (device, day, grid, role, batches, records,
			last_at)
		SELECT c.device, $day, v.grid, v.role, (count(*) + 499) / 500,
			count(*), ($day * 86400 + 36000) * 1000
		FROM record_current c JOIN device v ON v.id = c.device
		WHERE c.day IS NOT NULL GROUP BY c.device, c.day;"
	t3=$(date +%s)
	rm -rf "$W/gen"
	v=$(sqlite3 "$db" "SELECT count(*) FROM record_history")
	d=$(sqlite3 "$db" "SELECT count(*) FROM device")
	sy=$(sqlite3 "$db" "SELECT count(*) FROM rr_sync")
	printf '   store %d: %s years (%s..) at scale %s + recent: %s stored versions, %s devices, %s device-days synced, %s MB; history made in %d s, loaded in %d s (%s), rr_sync in %d s\n' \
		"$n" "$years" "$start" "$scale" "$v" "$d" "$sy" \
		"$(du -cm "$db"* | tail -1 | cut -f1)" $((t1 - t0)) \
		$((t2 - t1)) "$(sed 's/ from .*//' "$W/load.out")" $((t3 - t2))
	stores+=("$db")
done
rm -rf "$W/recent"

# All stores timed together, the runs alternating between them.
"$B/bench/load_store" time "${stores[@]}" "$from" "$to" "$RUNS" \
	>"$W/time.out"
echo "   median ms [fastest slowest] on store 1..$n, ratio $n / 1" \
	"(targets: < 10 ms on store $n, <= 1.5x)"
awk -v n="$n" '{ last = $(3 * n - 1); r = $NF + 0
	print "      " $0 ((n > 1 && (last >= 100 || r > 2)) ? "   MISSED" : "") }' \
	"$W/time.out"

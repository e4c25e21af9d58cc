#!/usr/bin/env bash
# The report benchmark (BENCHMARKS.md, "Reports"), run by bench/run after
# the sync benchmark, or alone:
#
#   bench/report_bench.sh [BUILD_DIR]
#       SIZES="4 27"   history lengths to build, in years of the whole
#                      district at gridbook-gen's usual density (scale 1,
#                      about 228,000 versions a year): 4 years is about
#                      0.9M versions; 27 (from 2000, as far back as
#                      gridbook-gen goes) about 6M.  Ten million at this
#                      density would take 44 years.
#       RUNS=5         runs of each report on each store
#       KEEP=1         keep the work directory (its path is printed)
#
# For each size: gridbook-gen writes every grid of the district over the
# years ending with the last complete month, build/bench/load_store loads
# the files into a fresh seeded SQLite store through the server's ingest
# (validation, history, current rows and report rollups, as over HTTP),
# and then times every report at district level for that last month, in
# process (report_run and the JSON writer, what GET /v1/reports/NAME
# does), RUNS times; the median of each is printed, and at the end the
# ratio of the largest store's medians to the smallest's.  Targets: every
# district report under 100 ms on the largest store, and within 2x of
# its time on the smallest.  Making and loading the stores is not timed
# as part of the benchmark (it is printed): about 80 s a million versions
# on 2 cores.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
SIZES=${SIZES:-"4 27"}
RUNS=${RUNS:-5}
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

# The period: the last complete month.
to=$(date -d "$(date +%Y-%m-01) -1 day" +%F)
from=$(date -d "$to" +%Y-%m-01)
echo "== Reports: district level, $from..$to, $RUNS runs each, in process"
echo "   sqlite $(sqlite3 --version | cut -d' ' -f1), $(nproc) cpus, $(uname -srm)"

first=""
last=""
for years in $SIZES; do
	start=$(date -d "$from -$years years +1 month" +%F)
	[[ "$start" < 2000-01-01 ]] && start=2000-01-01
	# gridbook-gen makes at most ten years at a time: pieces of ten
	# years, each a separate set of grid files (its own devices).
	rm -rf "$W/gen"
	mkdir "$W/gen"
	dirs=()
	t0=$(date +%s)
	a=$start
	while [[ ! "$a" > "$to" ]]; do
		b=$(date -d "$a +10 years -1 day" +%F)
		[[ "$b" > "$to" ]] && b=$to
		d="$W/gen/$a"
		"$B/bench/gridbook-gen" --out "$d" --grids all --from "$a" \
			--to "$b" --seed "${#dirs[@]}" --seeds "$top/seeds" \
			>"$W/gen.out" 2>&1 || { cat "$W/gen.out" >&2; exit 1; }
		dirs+=("$d")
		a=$(date -d "$b +1 day" +%F)
	done
	t1=$(date +%s)
	"$B/bench/load_store" load "$W/hq-$years.db" "$top/seeds" "${dirs[@]}" \
		>"$W/load.out" || exit 1
	t2=$(date +%s)
	rm -rf "$W/gen"
	n=$(sqlite3 "$W/hq-$years.db" "SELECT count(*) FROM record_history")
	echo "   $years years ($start..$to): $n stored versions," \
		"$(du -m "$W/hq-$years.db" | cut -f1) MB; made in $((t1 - t0)) s," \
		"loaded in $((t2 - t1)) s"
	"$B/bench/load_store" time "$W/hq-$years.db" "$from" "$to" "$RUNS" \
		>"$W/time-$years.out"
	sed 's/^/      /' "$W/time-$years.out"
	[ -n "$first" ] || first=$years
	last=$years
done

if [ "$first" != "$last" ]; then
	echo "   median ms: $first years -> $last years (ratio; targets < 100 ms, <= 2x)"
	join <(awk '{ print $1, $NF == "ms" ? $(NF - 1) : $NF }' \
		"$W/time-$first.out" | sort) \
		<(awk '{ print $1, $NF == "ms" ? $(NF - 1) : $NF }' \
		"$W/time-$last.out" | sort) |
		awk '{ r = $2 > 0 ? $3 / $2 : 0
			printf "      %-16s %8.2f %8.2f   %.2fx%s\n", $1, $2, $3, r,
				($3 >= 100 || r > 2) ? "   MISSED" : "" }'
fi

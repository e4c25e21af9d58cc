#!/usr/bin/env bash
# gridbook import of one 200,000-row enterprise file (bench/gen_csv.py) by
# two builds, alternated RUNS times each, each into a fresh grid file
# (init not timed): wall time and CPU time (user + system) per run, then
# the medians and the ratio NEW / BASE of each.  For a change that should
# cost the import nothing, where the ratio to plain insert (bench/run)
# moves too much on a shared machine to tell.  Results go into
# BENCHMARKS.md by hand.
#   bench/ab_import.sh BASE_BUILD NEW_BUILD     ROWS=200000 RUNS=5
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: bench/ab_import.sh BASE_BUILD NEW_BUILD" >&2; exit 2; }
BASE=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROWS=${ROWS:-200000}
RUNS=${RUNS:-5}
unset GRIDBOOK_DB GRIDBOOK_NOW
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-ab.XXXXXX")
trap 'rm -rf "$W"' EXIT

python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows "$ROWS" "$W/ent.csv"
median() { sort -n | awk '{v[NR] = $1} END {
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for run in $(seq 1 "$RUNS"); do
	for side in base new; do
		B=$BASE
		[ "$side" = new ] && B=$NEW
		rm -f "$W/g.db" "$W/g.db-journal"
		GRIDBOOK_SEEDS="$top/seeds" "$B/gridbook" --db "$W/g.db" init \
			--grid S01-G1 --staff K0001 >/dev/null
		sync
		t0=$(date +%s%N)
		/usr/bin/time -f "%U %S" -o "$W/t" "$B/gridbook" --db "$W/g.db" \
			import enterprise "$W/ent.csv" >/dev/null 2>"$W/err" ||
			{ cat "$W/err" >&2; exit 1; }
		t1=$(date +%s%N)
		read -r u s <"$W/t"
		wall=$(( (t1 - t0) / 1000000 ))
		cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print (u + s) * 1000 }')
		echo "$side $wall $cpu" >>"$W/runs"
		echo "   run $run $side: wall $wall ms, cpu $cpu ms"
	done
done
for what in wall cpu; do
	col=2
	[ "$what" = cpu ] && col=3
	b=$(awk -v c=$col '$1 == "base" { print $c }' "$W/runs" | median)
	n=$(awk -v c=$col '$1 == "new" { print $c }' "$W/runs" | median)
	awk -v w="$what" -v b="$b" -v n="$n" 'BEGIN {
		printf "   median %s: base %d ms, new %d ms, new / base %.3f\n",
		w, b, n, n / b }'
done

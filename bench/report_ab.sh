#!/usr/bin/env bash
# Two builds' reports on one store, alternated (BENCHMARKS.md, "Reports",
# "The report facts behind the store"):
#
#   bench/report_ab.sh BASE_BUILD NEW_BUILD STORE FROM TO
#       ALT=10   alternations (base, then new, ALT times)
#       RUNS=21  runs of each report in each call of load_store time
#
# STORE is a server store with facts (KEEP=1 bench/report_bench.sh keeps
# its stores).  Prints per report the median and the fastest run of all
# ALT x RUNS runs of each build, and the new build's ratio to the base
# for both: on a shared machine the fastest run is the steadier figure.
set -eu
[ $# -eq 5 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
base=$1 new=$2 store=$3 from=$4 to=$5
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-ab.XXXXXX")
trap 'rm -rf "$W"' EXIT
for i in $(seq 1 "${ALT:-10}"); do
	"$base/bench/load_store" time "$store" "$from" "$to" "${RUNS:-21}" \
		>"$W/base-$i.txt"
	"$new/bench/load_store" time "$store" "$from" "$to" "${RUNS:-21}" \
		>"$W/new-$i.txt"
done
python3 - "$W" <<'PY'
import glob, statistics, sys

def runs(prefix):
    out = {}
    for f in sorted(glob.glob(f"{sys.argv[1]}/{prefix}-*.txt")):
        for line in open(f):
            p = line.split()
            out.setdefault(p[0], []).extend(
                float(v) for v in p[1:p.index("median")])
    return out

a, b = runs("base"), runs("new")
print(f"{'report':16}{'base med':>10}{'min':>7}{'new med':>10}{'min':>7}"
      f"{'ratio med':>11}{'ratio min':>11}")
for k in a:
    ma, mb = statistics.median(a[k]), statistics.median(b[k])
    na, nb = min(a[k]), min(b[k])
    print(f"{k:16}{ma:10.2f}{na:7.2f}{mb:10.2f}{nb:7.2f}{mb / ma:11.2f}"
          f"{nb / na:11.2f}")
print(f"{len(next(iter(a.values())))} runs of each report on each build")
PY

#!/usr/bin/env bash
# Every district report on PostgreSQL beside SQLite, on about ten million
# stored versions (BENCHMARKS.md, "Reports on PostgreSQL"), run by
# bench/run after the report benchmark (PGREPORTS=0 skips it), or alone:
#
#   bench/pg_reports.sh [BUILD_DIR [BASE_BUILD_DIR]]
#       STORE=FILE     a SQLite HQ store to start from (one that
#                      bench/report_bench.sh made, kept with KEEP=1);
#                      without it one is made as that script makes its
#                      largest, with SIZES (default "20:5.5", 10.3M
#                      versions, about 15 minutes on 2 cores)
#       RUNS=11        runs of each report on each store
#       ROUNDS=1       with BASE_BUILD_DIR: calls of each build, alternated
#       PGLIB_CONF     settings of the throwaway cluster (default
#                      "shared_buffers = 1GB")
#       VERSIONS=N     the versions STORE holds, when known (counting
#                      them reads the whole of a 10 GB store)
#       KEEP=1         keep the work directory
#
# The SQLite store is made through the server's ingest (bench/load_store
# load, see bench/report_bench.sh).  Its report facts, the only tables the
# reports read, go into a fresh seeded PostgreSQL 15 (a throwaway cluster,
# tests/e2e/pglib.py) by COPY (bench/pg_copy_facts.py, as
# tests/e2e/t0867-pg-report-facts.sh does), and the tables are analyzed,
# as autovacuum would have done after an ingest.  So PostgreSQL holds the
# facts of the same ten million versions, row for row; the versions
# themselves (record_history, record_current) stay behind, since no report
# reads them.  Then load_store time runs every report at district level
# for the last complete month RUNS times on both stores, alternating, and
# prints the median [fastest slowest] on SQLite and on PostgreSQL and the
# ratio.  Target: every report under 50 ms on PostgreSQL.  With
# BASE_BUILD_DIR, that build's load_store (so its store_pg.c) is timed
# too, against the same two stores, the builds alternating ROUNDS times.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
BASE=${2:+$(cd "$2" && pwd)}
RUNS=${RUNS:-11}
ROUNDS=${ROUNDS:-1}
export PGLIB_CONF=${PGLIB_CONF:-"shared_buffers = 1GB"}
PGLIB="$top/tests/e2e/pglib.py"
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE

for f in "$B/bench/load_store" "$B/gridbook-hq" ${BASE:+"$BASE/bench/load_store"}; do
	[ -x "$f" ] || { echo "pg_reports: $f is not built (make)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-pgreports.XXXXXX")
mkdir "$W/pg"
cleanup() {
	"$PGLIB" stop "$W/pg" >/dev/null 2>&1 || true
	[ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
[ "${KEEP:-0}" = 1 ] && echo "   work directory kept: $W"

to=$(date -d "$(date +%Y-%m-01) -1 day" +%F)
from=$(date -d "$to" +%Y-%m-01)
echo "== Reports on PostgreSQL: district level, $from..$to, $RUNS runs each"
echo "   $(postgres --version 2>/dev/null || "$(python3 -c "import sys; sys.path.insert(0, '$top/tests/e2e'); import pglib; print(pglib.bindir())")/postgres" --version)," \
	"sqlite $(sqlite3 --version | cut -d' ' -f1), $(nproc) cpus"

db=${STORE:-}
if [ -z "$db" ]; then
	KEEP=1 SIZES=${SIZES:-"20:5.5"} RUNS=1 TMPDIR="$W" \
		"$top/bench/report_bench.sh" "$B" >"$W/make.out" ||
		{ cat "$W/make.out" >&2; exit 1; }
	grep '^   store' "$W/make.out"
	db=$(ls "$W"/gridbook-reports.*/hq-*.db | tail -1)
fi
[ -f "$db" ] || { echo "pg_reports: no store $db" >&2; exit 1; }

PG=$("$PGLIB" start "$W/pg")
t0=$(date +%s)
"$B/gridbook-hq" seed "$top/seeds" --store "$PG" >"$W/seed.out" 2>&1 ||
	{ cat "$W/seed.out" >&2; exit 1; }
python3 "$top/bench/pg_copy_facts.py" "$db" "$W/copy" >"$W/copy.counts"
psql -X -q -v ON_ERROR_STOP=1 "$PG" -f "$W/copy/copy.sql" >"$W/copy.out" \
	2>&1 || { tail -3 "$W/copy.out" >&2; exit 1; }
rm -rf "$W/copy"
psql -X -q "$PG" -c "VACUUM ANALYZE" >/dev/null
t1=$(date +%s)
v=${VERSIONS:-$(sqlite3 "$db" "SELECT count(*) FROM record_history")}
echo "   SQLite store: $v stored versions, $(du -cm "$db"* | tail -1 | cut -f1) MB;" \
	"its facts copied into PostgreSQL in $((t1 - t0)) s:" \
	"$(tr '\n' ' ' <"$W/copy.counts")"
echo "   PostgreSQL: $(psql -X -At "$PG" -c "SELECT pg_size_pretty(pg_database_size(current_database()))"), $PGLIB_CONF"

# One call: every report on SQLite, then PostgreSQL, alternating.
timeit() {
	"$1/bench/load_store" time "$db" "$PG" "$from" "$to" "$RUNS" \
		>"$W/time.out"
	echo "   $2: median ms [fastest slowest] on SQLite, on PostgreSQL," \
		"ratio (target: < 50 ms on PostgreSQL)"
	awk '{ m = $5 + 0
		print "      " $0 (m >= 50 ? "   MISSED" : "") }' "$W/time.out"
}
for r in $(seq 1 "$ROUNDS"); do
	[ -n "$BASE" ] && timeit "$BASE" "base $BASE"
	timeit "$B" "$B"
done

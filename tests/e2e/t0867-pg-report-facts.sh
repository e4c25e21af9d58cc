#!/usr/bin/env bash
# The reports read the same from both stores: a month and a half of the
# whole district's field work (gridbook-gen) is loaded into a SQLite store
# through ingest, its reference data seeded into a throwaway PostgreSQL
# 15 (pglib.py) and its devices and report facts copied there row for
# row (each PostgreSQL fact table keyed by grid, as schema/pg/002 has
# it), and then every report at every level, as JSON and as CSV, for a
# month in the past and for one not yet over, must come out byte for byte
# the same from both (bench/load_store dump).  What ingest writes into the
# facts of PostgreSQL is not tested here: only what reports read there.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
unset GRIDBOOK_HQ_STORE GRIDBOOK_TZ GRIDBOOK_NOW
SEEDS=${GRIDBOOK_SEEDS:-$top/seeds}
B=$(dirname "$(command -v gridbook-hq)")
for f in "$B/bench/gridbook-gen" "$B/bench/load_store"; do
	if [ ! -x "$f" ]; then
		fail "no $f: make all first"
		exit 1
	fi
done

pg_database || exit 1

"$B/bench/gridbook-gen" --out "$T/gen" --grids all --from 2026-09-15 \
	--to 2026-10-31 --seed 7 --seeds "$SEEDS" >"$T/gen.out" 2>&1 &&
	pass || fail "gridbook-gen: $(tail -3 "$T/gen.out")"
"$B/bench/load_store" load "$T/hq.db" "$SEEDS" "$T/gen" >"$T/load.out" \
	2>&1 && pass || fail "load_store load: $(tail -3 "$T/load.out")"
# Loaded at once today, each device has one day of batches; make them
# the days it worked, as bench/report_bench.sh does, so that sync-health
# and every report's coverage have days to tell apart.
day="CAST(julianday(c.day) - 2440587.5 AS INTEGER)"
sqlite3 "$T/hq.db" "DELETE FROM rr_sync;
	INSERT INTO rr_sync (device, day, grid, role, batches, records,
		last_at)
	SELECT c.device, $day, v.grid, v.role, (count(*) + 499) / 500,
		count(*), ($day * 86400 + 36000) * 1000
	FROM record_current c JOIN device v ON v.id = c.device
	WHERE c.day IS NOT NULL GROUP BY c.device, c.day;" && pass ||
	fail "rr_sync by day"

gridbook-hq seed "$SEEDS" --store "$PG" >"$T/seed.out" 2>&1 && pass ||
	fail "seed on PostgreSQL: $(tail -3 "$T/seed.out")"

# The facts, row for row, as bench/pg_copy_facts.py writes them for COPY.
python3 "$top/bench/pg_copy_facts.py" "$T/hq.db" "$T/copy" >"$T/copy.counts" ||
	fail "reading"
psql -X -q -v ON_ERROR_STOP=1 "$PG" -f "$T/copy/copy.sql" >"$T/copy.out" \
	2>&1 && pass || fail "copying the facts: $(tail -3 "$T/copy.out")"
n=$(psql -X -At "$PG" -c "SELECT count(*) FROM rf_request")
[ "${n:-0}" -gt 100 ] && pass || fail "requests copied: [$n]"

# A month in the past, and the same month while it is still going on.
for now in "2026-11-10 12:00" "2026-10-20 09:30"; do
	GRIDBOOK_NOW="$now" "$B/bench/load_store" dump "$T/hq.db" 2026-10-01 \
		2026-10-31 >"$T/sq.txt" 2>"$T/sq.err" && pass ||
		fail "dump on SQLite: $(head -c 500 "$T/sq.err")"
	GRIDBOOK_NOW="$now" "$B/bench/load_store" dump "$PG" 2026-10-01 \
		2026-10-31 >"$T/pg.txt" 2>"$T/pg.err" && pass ||
		fail "dump on PostgreSQL: $(head -c 500 "$T/pg.err")"
	if cmp -s "$T/sq.txt" "$T/pg.txt"; then pass; else
		fail "reports as of $now differ between the stores:" \
			"$(diff "$T/sq.txt" "$T/pg.txt" | head -20)"
	fi
	# Something to compare: every report and level, figures in them and
	# drill-down lists.
	same "as of $now: reports and levels dumped" \
		"$(grep -c '^== .* json$' "$T/sq.txt")" 40
	grep -q '"rate_pct":[1-9]' "$T/sq.txt" && pass ||
		fail "as of $now: no signing rate in the reports"
	grep -q '"open_past_deadline":\[{' "$T/sq.txt" && pass ||
		fail "as of $now: no request open past its deadline listed"
done

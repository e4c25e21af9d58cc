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

# table: the SELECT on SQLite giving the PostgreSQL table's columns in
# order.  BLOBs go as bytea hex, NULL as \N.
python3 - "$T/hq.db" "$T/copy" >"$T/copy.counts" <<'PY' || fail "reading"
import csv, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
tables = {
    "device (id, grid, role, name, token_hash, revoked, created_at, revoked_at)":
        "SELECT id, grid, role, name, token_hash, revoked, created_at, "
        "revoked_at FROM device",
    "device_sync (device, grid, last_seen, pending, oldest_pending)":
        "SELECT id, grid, last_seen, pending, oldest_pending FROM device "
        "WHERE last_seen IS NOT NULL",
    "rf_enterprise (id, grid, community, name, active)":
        "SELECT id, grid, community, name, active FROM rf_enterprise",
    "rr_active (grid, enterprises)": "SELECT grid, enterprises FROM rr_active",
    "rf_check (id, grid, enterprise, day, version, signed, total, outcome, deadline)":
        "SELECT id, grid, enterprise, day, version, signed, total, outcome, "
        "deadline FROM rf_check",
    "rf_rect (id, grid, chk, day, rectified)":
        "SELECT r.id, coalesce(c.grid, ''), r.chk, r.day, r.rectified FROM "
        "rf_rect r LEFT JOIN rf_check c ON c.id = r.chk",
    "rf_dispute (id, grid, day, level, status, enterprise)":
        "SELECT id, grid, day, level, status, enterprise FROM rf_dispute",
    "rr_night (night, area, leader, grid, patrols)":
        "SELECT n.night, n.area, n.leader, coalesce(a.grid, ''), n.patrols "
        "FROM rr_night n LEFT JOIN police_area a ON a.code = n.area",
    "rr_daily (day, officer, grid, reports)":
        "SELECT d.day, d.officer, coalesce(s.grid, ''), d.reports FROM "
        "rr_daily d LEFT JOIN staff s ON s.code = d.officer",
    "rr_reception (week, officer, grid, ms)":
        "SELECT r.week, r.officer, coalesce(s.grid, ''), r.ms FROM "
        "rr_reception r LEFT JOIN staff s ON s.code = r.officer",
    "rf_request (id, grid, area, day, received, deadline, resolved, category, priority, officer)":
        "SELECT q.id, coalesce(a.grid, ''), q.area, q.day, q.received, "
        "q.deadline, q.resolved, q.category, q.priority, q.officer FROM "
        "rf_request q LEFT JOIN police_area a ON a.code = q.area",
    "rr_sync (device, day, grid, role, batches, records, last_at)":
        "SELECT device, day, grid, role, batches, records, last_at FROM rr_sync",
    "rf_conflict (id, kind, grid, area, person, day, conflicts)":
        "SELECT id, kind, grid, area, person, day, conflicts FROM rf_conflict",
}
with open(os.path.join(out, "copy.sql"), "w") as sql:
    for i, (target, select) in enumerate(tables.items()):
        path = os.path.join(out, f"{i}.csv")
        n = 0
        with open(path, "w", newline="") as fp:
            w = csv.writer(fp)
            for row in db.execute(select):
                w.writerow(["\\N" if v is None else
                            "\\x" + v.hex() if isinstance(v, bytes) else v
                            for v in row])
                n += 1
        sql.write(f"\\copy {target} FROM '{path}' WITH (FORMAT csv, NULL '\\N')\n")
        print(target.split()[0], n)
PY
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

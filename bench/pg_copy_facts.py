#!/usr/bin/env python3
# pg_copy_facts.py SQLITE_STORE OUTDIR: what a SQLite HQ store's reports
# read, written as CSV files for PostgreSQL's COPY, one a table, with
# OUTDIR/copy.sql holding the psql \copy commands that load them into a
# PostgreSQL store of schema/pg (seeded, so that the reference tables are
# there).  Each PostgreSQL fact table is keyed by grid (schema/pg/002), so
# the grid of a SQLite fact row that does not hold one is taken from the
# area, officer or check it names.  BLOBs go as bytea hex, NULL as \N.
# Prints each table's name and row count.
#
# Used by tests/e2e/t0867-pg-report-facts.sh (the same reports from the
# same facts in both stores) and bench/pg_reports.sh (a PostgreSQL store
# of ten million versions' facts, built in minutes rather than by an
# hour of ingest).
import csv
import os
import sqlite3
import sys

TABLES = {
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


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: pg_copy_facts.py SQLITE_STORE OUTDIR")
    db = sqlite3.connect(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "copy.sql"), "w") as sql:
        for i, (target, select) in enumerate(TABLES.items()):
            path = os.path.join(out, f"{i}.csv")
            n = 0
            with open(path, "w", newline="") as fp:
                w = csv.writer(fp)
                for row in db.execute(select):
                    w.writerow(["\\N" if v is None else
                                "\\x" + v.hex() if isinstance(v, bytes)
                                else v for v in row])
                    n += 1
            sql.write(f"\\copy {target} FROM '{path}' "
                      "WITH (FORMAT csv, NULL '\\N')\n")
            print(target.split()[0], n)


if __name__ == "__main__":
    main()

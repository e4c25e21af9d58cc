#!/usr/bin/env python3
# The PostgreSQL schema (schema/pg/) on a real PostgreSQL 15, and its
# distribution by grid (docs/citus.md): every migration applies in order
# on a throwaway cluster; the Citus calls of docs/citus.md run against
# stand-ins of create_distributed_table and create_reference_table that
# check what Citus would refuse (a table or column that is not there, a
# key of a distributed table without the distribution column); every table
# is named there once; a distributed table refers only to reference tables
# and a reference table to no other kind; and schema/pg has a table and a
# column, of the mapped type, for every table and column of schema/server
# (applied to an in-memory SQLite).
import glob
import os
import re
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import checks  # noqa: E402
from checks import check  # noqa: E402
import pglib  # noqa: E402



# Columns of a schema/server table kept elsewhere in schema/pg, with why
# (001_init.sql): table.column -> the table that holds it.
MOVED = {
    "device.last_seen": "device_sync",
    "device.pending": "device_sync",
    "device.oldest_pending": "device_sync",
}
TYPES = {"INTEGER": "bigint", "BLOB": "bytea", "TEXT": "text"}

# Stand-ins for the Citus functions: they record each call and refuse
# what Citus would.
STUBS = r"""
CREATE TABLE citus_call (tbl text PRIMARY KEY, how text NOT NULL,
                         col text);
CREATE FUNCTION create_reference_table(table_name regclass)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO citus_call VALUES (table_name::text, 'reference', NULL);
END $$;
CREATE FUNCTION create_distributed_table(table_name regclass,
        distribution_column text, colocate_with text DEFAULT 'default')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    att int2;
    bad text;
BEGIN
    SELECT attnum INTO att FROM pg_attribute
     WHERE attrelid = table_name AND attname = distribution_column
       AND NOT attisdropped;
    IF att IS NULL THEN
        RAISE EXCEPTION 'column "%" of % does not exist',
            distribution_column, table_name;
    END IF;
    SELECT string_agg(c.relname, ', ') INTO bad
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = table_name AND i.indisunique
       AND NOT att = ANY (i.indkey::int2[]);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot create constraint on "%": unique '
            'constraints must include the partition column (%)',
            table_name, bad;
    END IF;
    IF colocate_with NOT IN ('default', 'none') AND NOT EXISTS (
        SELECT 1 FROM citus_call
         WHERE tbl = colocate_with AND how = 'distributed') THEN
        RAISE EXCEPTION 'cannot colocate % with %: not distributed yet',
            table_name, colocate_with;
    END IF;
    INSERT INTO citus_call VALUES (table_name::text, 'distributed',
                                   distribution_column);
END $$;
"""


def citus_block():
    """The SQL between the citus:begin and citus:end marks of
    docs/citus.md, without its code fence."""
    text = open(os.path.join(TOP, "docs", "citus.md"),
                encoding="utf-8").read()
    m = re.search(r"<!-- citus:begin -->(.*?)<!-- citus:end -->", text,
                  re.S)
    if not m:
        return None
    return "\n".join(line for line in m.group(1).splitlines()
                     if not line.startswith("```"))


def rows(pg, sql):
    out = pg.psql(sql)
    return [line.split("|") for line in out.splitlines() if line]


def server_tables():
    """{table: {column: declared type}} of schema/server on SQLite."""
    db = sqlite3.connect(":memory:")
    for f in sorted(glob.glob(os.path.join(TOP, "schema", "server",
                                           "*.sql"))):
        db.executescript(open(f, encoding="utf-8").read())
    out = {}
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE "
                              "type = 'table' AND name NOT LIKE "
                              "'sqlite_%'"):
        out[name] = {c[1]: c[2].upper() for c in
                     db.execute("PRAGMA table_info(%s)" % name)}
    db.close()
    return out


def main():
    migrations = sorted(glob.glob(os.path.join(TOP, "schema", "pg",
                                               "*.sql")))
    check("schema/pg has migrations", len(migrations) >= 3,
          str(migrations))
    names = [os.path.basename(f) for f in migrations]
    check("schema/pg migrations are numbered 001, 002 ... in order",
          [n[:3] for n in names] ==
          ["%03d" % (i + 1) for i in range(len(names))], str(names))
    block = citus_block()
    if not check("docs/citus.md has a citus:begin .. citus:end block",
                 block is not None):
        return
    with pglib.Postgres() as pg:
        for f in migrations:
            try:
                pg.psql("", args=("-1", "-f", f))
                ok = True
            except pglib.Error as e:
                ok = False
                check("migration %s applies" % os.path.basename(f), False,
                      str(e))
            if ok:
                check("migration %s applies" % os.path.basename(f), True)

        tables = {r[0] for r in rows(pg, "SELECT table_name FROM "
                                     "information_schema.tables WHERE "
                                     "table_schema = 'public' AND "
                                     "table_type = 'BASE TABLE'")}
        pg.psql(STUBS)
        # One call at a time, so that one refused does not hide the rest.
        stmts = [s.strip() for s in
                 re.sub(r"--[^\n]*", "", block).split(";") if s.strip()]
        refused = []
        for s in stmts:
            try:
                pg.psql(s + ";")
            except pglib.Error as e:
                refused.append(str(e).splitlines()[0])
        check("the Citus calls of docs/citus.md run", stmts and not refused,
              "; ".join(refused))
        calls = {r[0]: (r[1], r[2]) for r in
                 rows(pg, "SELECT tbl, how, coalesce(col, '') "
                      "FROM citus_call")}
        local = set()
        for m in re.finditer(r"^-- local:(.*)$", block, re.M):
            local.update(m.group(1).split())
        dist = {t for t, (how, _) in calls.items() if how == "distributed"}
        ref = {t for t, (how, _) in calls.items() if how == "reference"}

        named = ref | dist | local
        check("every table of schema/pg is named in docs/citus.md",
              tables <= named, str(sorted(tables - named)))
        check("docs/citus.md names only tables of schema/pg",
              named <= tables, str(sorted(named - tables)))
        check("no table is named twice in docs/citus.md",
              not (local & (ref | dist)), str(sorted(local & (ref | dist))))
        check("every distributed table is distributed by grid",
              all(calls[t][1] == "grid" for t in dist),
              str({t: calls[t][1] for t in dist if calls[t][1] != "grid"}))
        check("the record tables and facts are distributed",
              {"record_current", "record_history", "batch", "rf_check",
               "rr_sync"} <= dist, str(sorted(dist)))
        check("the reference data are reference tables",
              {"district", "street", "grid", "community", "police_area",
               "area_community", "staff", "meta"} <= ref, str(sorted(ref)))

        # The keys, read again here rather than trusted to the stand-in:
        # each unique index of a distributed table includes grid, which
        # is NOT NULL.
        keys = rows(pg, """
            SELECT c.relname, i.relname,
                   bool_or(a.attname = 'grid')
              FROM pg_index x
              JOIN pg_class c ON c.oid = x.indrelid
              JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute a ON a.attrelid = c.oid
                                 AND a.attnum = ANY (x.indkey::int2[])
             WHERE n.nspname = 'public' AND x.indisunique
             GROUP BY c.relname, i.relname""")
        nokey = sorted("%s (%s)" % (t, i) for t, i, g in keys
                       if t in dist and g != "t")
        check("every key of a distributed table includes grid", not nokey,
              str(nokey))
        check("every distributed table has a key",
              dist <= {t for t, _, _ in keys},
              str(sorted(dist - {t for t, _, _ in keys})))
        nullable = sorted(r[0] for r in rows(
            pg, "SELECT table_name FROM information_schema.columns WHERE "
            "table_schema = 'public' AND column_name = 'grid' AND "
            "is_nullable = 'YES'") if r[0] in dist)
        check("grid is NOT NULL in every distributed table", not nullable,
              str(nullable))

        fks = rows(pg, """
            SELECT c.relname, f.relname FROM pg_constraint k
              JOIN pg_class c ON c.oid = k.conrelid
              JOIN pg_class f ON f.oid = k.confrelid
             WHERE k.contype = 'f'""")
        bad = sorted("%s -> %s" % (a, b) for a, b in fks
                     if (a in dist and b not in ref) or
                     (a in ref and b not in ref))
        check("foreign keys point only at reference tables", not bad,
              str(bad))

        # The stand-in refuses what Citus refuses (so the checks above
        # can fail): a key without the distribution column.
        pg.psql("CREATE TABLE t0860_bad (id bytea PRIMARY KEY, "
                "grid text NOT NULL)")
        try:
            pg.psql("SELECT create_distributed_table('t0860_bad', 'grid')")
            refused = False
        except pglib.Error as e:
            refused = "must include the partition column" in str(e)
        check("a key without grid is refused by the stand-in", refused)

        # Every table and column of schema/server, with its type mapped.
        cols = {}
        for t, c, ty in rows(pg, "SELECT table_name, column_name, "
                             "data_type FROM information_schema.columns "
                             "WHERE table_schema = 'public'"):
            cols.setdefault(t, {})[c] = ty
        sq = server_tables()
        check("schema/server has its tables", len(sq) >= 20, str(len(sq)))
        missing = sorted(set(sq) - set(cols))
        check("schema/pg has a table for every table of schema/server",
              not missing, str(missing))
        wrong = []
        for t, tc in sorted(sq.items()):
            for c, ty in tc.items():
                where = MOVED.get("%s.%s" % (t, c), t)
                got = cols.get(where, {}).get(c)
                want = TYPES.get(ty)
                if got is None or want is None or got != want:
                    wrong.append("%s.%s %s: %s.%s %s" %
                                 (t, c, ty, where, c, got))
        check("every column of schema/server is in schema/pg with its "
              "type", not wrong, "; ".join(wrong))


if __name__ == "__main__":
    try:
        main()
    except pglib.Error as e:
        check("throwaway PostgreSQL", False, str(e))
    sys.exit(checks.summary())

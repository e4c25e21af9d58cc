#!/usr/bin/env python3
# The bounds of a version at HQ (SPEC §4, clocks), over real HTTP from a
# protocol-level client of the tests' own (hqclient.py: protoc-encoded
# batches, Python's zlib), while a real laptop of another grid syncs into
# the same HQ.  Records stamped 2^64 - 1, 2^63, in the year 2999 and 0
# are each refused with the field (version) and the bound named: the
# year 2999 for now (transient, HQ's clock named), the others for good.
# Nothing else changes: HQ's current records, the grid's changes page
# and its reports are the same before and after, and no version of 2^63
# or more is stored anywhere (the rejection row keeps 0 for it).  The
# same device re-posting a record of another laptop with a huge version
# does not take it over: the laptop's next edit is still current.  A
# batch number of 2^63 or more is refused as a whole.  Starts and stops
# its own server.
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import checks  # noqa: E402
from checks import check, run  # noqa: E402
import hqclient  # noqa: E402
import hqtest  # noqa: E402
from hqtest import free_port  # noqa: E402

os.environ["PATH"] = os.path.join(TOP, "build") + os.pathsep + os.environ["PATH"]
for v in ("GRIDBOOK_DB", "GRIDBOOK_NOW", "GRIDBOOK_HQ_STORE"):
    os.environ.pop(v, None)
SEEDS = os.environ.get("GRIDBOOK_SEEDS", os.path.join(TOP, "seeds"))
GRID = "S01-G1"
OTHER_GRID = "S01-G2"
U64_MAX = (1 << 64) - 1
U63 = 1 << 63
Y2999_MS = 32472144000000  # 2999-01-01T00:00Z



def enroll(store, grid, role):
    p = run("gridbook-hq", "--store", store, "device", "enroll",
            "--grid", grid, "--role", role)
    out = dict(line.split(": ", 1) for line in
               p.stdout.decode().splitlines() if ": " in line)
    return out.get("device"), out.get("token"), p.stdout


query = hqtest.query


ENT = ('enterprise { uscc: "%s" name: "%s" type: COMPANY '
       'community: "S01-C02" address: "文昌街道新风路18号" '
       'industry: "制造业" employees: 56 status: ACTIVE }')


def ent_record(device, ms, n, version, rid=None, name="望川区永丰食品有限公司"):
    rid = rid or hqclient.uuid7(ms, n)
    return hqclient.record(rid, GRID, device, "K0001", version, ms,
                           ENT % (hqclient.uscc("9133078%010d" % n),
                                  name)), rid


def ack_items(text):
    """The items of an Ack in text format, each as its text."""
    return re.findall(r"items \{\n(.*?)\n\}", text, re.S)


def main():
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    cleanups = []
    server = None
    try:
        # sqlite:FILE, or a PostgreSQL database (GRIDBOOK_TEST_STORE=pg).
        store = hqtest.store_spec(cleanups, os.path.join(tmp, "hq.db"))
        p = run("gridbook-hq", "seed", SEEDS, "--store", store)
        check("seed", p.returncode == 0, p.stderr)
        dev, token, _ = enroll(store, GRID, "coordinator")
        check("enroll the hostile device", dev and token)
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        log = open(os.path.join(tmp, "serve.log"), "wb")
        server = subprocess.Popen(
            ["gridbook-hq", "serve", "--store", store,
             "--listen", "127.0.0.1:%d" % port], stdout=log, stderr=log)
        for _ in range(200):
            try:
                if hqclient.http("GET", base + "/healthz",
                                 timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)

        # Laptop A of the grid: an enterprise, synced.
        grid_a = os.path.join(tmp, "a.grid")
        gb = lambda *a, **kw: run("gridbook", "--db", grid_a, *a, **kw)  # noqa
        check("laptop A init", gb("init", "--grid", GRID, "--staff",
                                  "K0001").returncode == 0)
        _, _, enrolment = enroll(store, GRID, "coordinator")
        p = gb("sync", "setup", "--server", base, "--token", "-",
               input=enrolment)
        check("laptop A setup", p.returncode == 0, p.stderr)
        p = gb("enterprise", "add", "--uscc", hqclient.uscc("91330782MA2B7C1"
                                                             "0X"),
               "--name", "望川市青石机电有限公司", "--community", "S01-C01",
               "--employees", "36")
        check("laptop A adds an enterprise", p.returncode == 0, p.stderr)
        p = gb("sync")
        check("laptop A syncs", p.returncode == 0, p.stderr)
        a_id = query(store, "SELECT lower(hex(id)) FROM record_current")
        check("HQ holds A's enterprise", len(a_id) == 1, a_id)
        a_hex = a_id[0][0] if a_id else ""
        a_uuid = "%s-%s-%s-%s-%s" % (a_hex[:8], a_hex[8:12], a_hex[12:16],
                                     a_hex[16:20], a_hex[20:])

        # A viewer of the grid, to read its changes as another laptop
        # would, and the reports.
        _, b_token, _ = enroll(store, GRID, "coordinator")

        def snapshot():
            cur = query(store, "SELECT lower(hex(id)), version, "
                        "lower(hex(device)), body FROM record_current "
                        "ORDER BY id")
            hist = query(store, "SELECT lower(hex(id)), version, "
                         "lower(hex(device)) FROM record_history "
                         "WHERE grid = ? ORDER BY id, version", GRID)
            st, _, body = hqclient.changes(base, b_token)
            page = hqclient.decode("ChangesPage", hqclient.inflate(body)) \
                if st == 200 else "status %d" % st
            # A period that ends tomorrow in the store's zone: its as-of
            # is now for both snapshots, whichever side of midnight they
            # fall (ending "today" in UTC, it ended at 16:00 UTC, and a
            # sync after that made the grid complete between the two).
            day = (datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai"))
                   + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
            rep = run("gridbook-hq", "--store", store, "report",
                      "check-coverage", "--level", "grid", "--from",
                      "2026-01-01", "--to", day, "--format", "csv")
            row = [ln for ln in rep.stdout.decode().splitlines()
                   if ln.startswith(GRID + ",")]
            return cur, hist, page, row

        before = snapshot()
        check("the grid's changes page is read", "records" in before[2],
              before[2][:300])

        # Laptop C of another grid: 400 enterprises sent 20 a batch
        # while the hostile batches come.
        grid_c = os.path.join(tmp, "c.grid")
        csv = os.path.join(tmp, "ent.csv")
        p = run("python3", os.path.join(TOP, "bench", "gen_csv.py"),
                "--grid", OTHER_GRID, "--rows", "400", csv)
        check("csv made", p.returncode == 0, p.stderr)
        gc = lambda *a, **kw: run("gridbook", "--db", grid_c, *a, **kw)  # noqa
        check("laptop C init", gc("init", "--grid", OTHER_GRID, "--staff",
                                  "K0002").returncode == 0)
        p = gc("import", "enterprise", csv)
        check("laptop C import", p.returncode == 0, p.stderr)
        _, _, enrolment = enroll(store, OTHER_GRID, "coordinator")
        p = gc("sync", "setup", "--server", base, "--token", "-",
               input=enrolment)
        check("laptop C setup", p.returncode == 0, p.stderr)
        laptop = subprocess.Popen(
            ["gridbook", "--db", grid_c, "sync", "--batch-records", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        ms = int(time.time() * 1000) - 3600000
        cases = [
            ("2^64 - 1", U64_MAX, "version: %d is 2^63 or more" % U64_MAX,
             False),
            ("2^63", U63, "version: %d is 2^63 or more" % U63, False),
            ("the year 2999", Y2999_MS << 16,
             "more than 24 h ahead of HQ's clock", True),
            ("0", 0, "before 2000-01-01", False),
        ]
        seq = 0
        for n, (what, version, want, transient) in enumerate(cases):
            rec, rid = ent_record(dev, ms, 100 + n, version)
            seq += 1
            st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
                dev, GRID, seq, [rec]))
            check("%s: the batch is answered" % what, st == 200,
                  "%d %s" % (st, body[:300]))
            txt = hqclient.decode("Ack", body) if st == 200 else ""
            items = ack_items(txt)
            item = items[0] if items else ""
            check("%s: refused" % what, "status: REJECTED" in item, txt)
            check("%s: the field and the bound named" % what,
                  want in item and "version" in item, item)
            check("%s: %s" % (what, "for now" if transient else "for good"),
                  ("transient: true" in item) == transient, item)
            if transient:
                check("%s: HQ's clock told" % what,
                      re.search(r"HQ's clock \(\d{4}-\d\d-\d\dT", item), item)
            rows = query(store, "SELECT version, reason FROM rejection "
                         "WHERE id = ?", rid)
            check("%s: one rejection row" % what, len(rows) == 1, rows)
            if rows:
                check("%s: its version within SQLite's range" % what,
                      rows[0][0] == (version if version < U63 else 0) and
                      rows[0][0] >= 0, rows)
                check("%s: its reason as in the ack" % what,
                      want in rows[0][1], rows)
            held = query(store, "SELECT count(*) FROM record_history WHERE "
                         "lower(hex(id)) = ?", rid.replace("-", ""))
            check("%s: not stored" % what, held[0][0] == 0, held)

        # Another device's record re-posted with the largest versions.
        for what, version in (("2^64 - 1", U64_MAX), ("2^63", U63),
                              ("the year 2999", Y2999_MS << 16)):
            rec, _ = ent_record(dev, ms, 200, version, rid=a_uuid,
                                name="望川市青石机电有限公司（冒名）")
            seq += 1
            st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
                dev, GRID, seq, [rec]))
            txt = hqclient.decode("Ack", body) if st == 200 else ""
            check("A's record at %s: refused" % what,
                  "status: REJECTED" in txt and "version" in txt, txt)

        # A batch numbered 2^63: refused as a whole, naming the bound.
        rec, _ = ent_record(dev, ms, 300, (ms << 16) + 1)
        st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
            dev, GRID, U63, [rec]))
        check("batch seq 2^63: 400", st == 400, "%d %s" % (st, body[:300]))
        check("batch seq 2^63: the bound named",
              b"batch seq: %d is 2^63 or more" % U63 in body, body[:300])

        out, err = laptop.communicate(timeout=300)
        check("the real laptop's sync went through", laptop.returncode == 0,
              err[-600:])
        got = query(store, "SELECT count(*) FROM record_current WHERE "
                    "grid = ?", OTHER_GRID)
        check("HQ holds its 400 enterprises", got[0][0] == 400, got)

        after = snapshot()
        check("HQ's current records of the grid unchanged",
              [r for r in after[0] if r[0] in {x[0] for x in before[0]}]
              == before[0] and len([r for r in after[0] if r[0] not in
                                    {x[0] for x in before[0]}]) == 400,
              after[0][:3])
        check("the grid's history unchanged", after[1] == before[1],
              (before[1], after[1]))
        check("the grid's changes page unchanged", after[2] == before[2],
              after[2][:300])
        check("the grid's report unchanged", after[3] == before[3] and
              after[3], after[3][:300])
        big = query(store, "SELECT (SELECT count(*) FROM record_current "
                    "WHERE version < 0) + (SELECT count(*) FROM "
                    "record_history WHERE version < 0) + (SELECT count(*) "
                    "FROM rejection WHERE version < 0) + (SELECT count(*) "
                    "FROM batch WHERE seq < 0)")
        check("no version or batch number stored negative", big[0][0] == 0,
              big)

        # A's next edit is current at HQ: the record was not taken over.
        p = gb("enterprise", "edit", a_uuid[:8], "--employees", "38")
        check("laptop A edits its enterprise", p.returncode == 0, p.stderr)
        p = gb("sync")
        check("laptop A syncs again", p.returncode == 0, p.stderr)
        check("A's edit accepted", b"1 accepted" in p.stdout, p.stdout)
        cur = query(store, "SELECT lower(hex(device)), "
                    "json_extract(body, '$.employees'), "
                    "json_extract(body, '$.name') FROM record_current "
                    "WHERE lower(hex(id)) = ?", a_hex)
        check("HQ's current version is A's edit",
              cur and cur[0][0] != dev.replace("-", "") and
              cur[0][1] == 38 and cur[0][2] == "望川市青石机电有限公司", cur)
        check("HQ still serves", hqclient.http("GET", base + "/healthz")[0]
              == 200)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for c in reversed(cleanups):
            c()
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())

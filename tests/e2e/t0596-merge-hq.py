#!/usr/bin/env python3
# The field merge at HQ (SPEC §4, edits) at protocol level: two laptops
# of one grid, played here with batches built by protoc from the proto
# file and Python's zlib (not the C wire code), post edits that name
# the versions they were made from.
#   - Disjoint fields from the same base: both changes are in
#     record_current, no conflict.
#   - The same field: the newer value wins, the version lower than the
#     current one but concurrent is ACCEPTED, and the conflict is listed
#     by `gridbook-hq conflicts` (table, json, csv) and GET /v1/conflicts
#     (viewer: every grid or ?grid=; a field device: its own grid only,
#     403 for another), and counted in the report row of the grid.
#   - A third device of the grid pulls every version, each with its bases.
#   - An edit made from both that resolves the field clears the conflict
#     everywhere; a void and an edit made apart keep the void, flagged.
#   - A version that a merged one saw is STALE; a resend is DUPLICATE.
# Run t0400, t0500 and t0580 too when changing ingest.
import datetime
import json
import os
import re
import sys
import time
import zlib
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hqclient  # noqa: E402
import hqtest  # noqa: E402

GRID = hqtest.GRID
T = hqtest.Test()
hq = hqtest.HQ(T, T.path("hq.db"))
seq = {}


def body(name, employees, address="文昌街道新风路8号", status="ACTIVE"):
    return ('enterprise { uscc: "%s" name: "%s" type: COMPANY '
            'community: "S01-C02" address: "%s" industry: "制造业" '
            'employees: %d status: %s }' %
            (uscc_of(name), name, address, employees, status))


def uscc_of(name):
    """A code of the enterprise's own, the same in each of its versions:
    HQ refuses a second current enterprise with a code it holds."""
    return hqclient.uscc("91330782MA%07d" % (zlib.crc32(name.encode()) % 10**7))


def rec(rid, dev, version, text, bases=(), resolves=None, void=None):
    r = hqclient.record(rid, GRID, dev, "K0001", version, CREATED, text)
    extra = "".join("  bases: %d\n" % b for b in bases)
    if resolves is not None:
        extra += "  resolves: %d\n" % resolves
    if void is not None:
        extra += '  voided: true\n  void_reason: "%s"\n' % void
    return r[:-2] + extra + "}\n"


def post(dev, token, *records):
    """Posts records in the next batch of dev; the ack statuses."""
    seq[dev] = seq.get(dev, 0) + 1
    st, _, ack = hqclient.post_batch(
        hq.url, token, hqclient.batch(dev, GRID, seq[dev], list(records)))
    if st != 200:
        return "HTTP %d %s" % (st, ack[:200])
    return " ".join(re.findall(r"status: (\w+)",
                               hqclient.decode("Ack", ack)))


def current(rid, cols):
    return hq.sql("SELECT %s FROM record_current WHERE lower(hex(id)) = lower('%s')" %
                  (cols, rid.replace("-", "")))


def get_json(path, token):
    st, _, b = hqclient.http("GET", hq.url + path, token)
    try:
        return st, json.loads(b.decode("utf-8"))
    except ValueError:
        return st, b.decode("utf-8", "replace")


def report_row(unit, fmt="json"):
    p = hq.cmd("report", "check-coverage", "--level", "grid", "--from",
               DAY, "--to", DAY, "--format", fmt)
    if fmt != "json":
        return p.stdout.decode("utf-8", "replace")
    d = json.loads(p.stdout.decode("utf-8"))
    return next((r for r in d["rows"] if r["unit"] == unit), None), d


try:
    T.check("seed", hq.seed())
    A, TA = hq.enroll("coordinator")
    B, TB = hq.enroll("coordinator")
    C, TC = hq.enroll("officer")
    V, TV = hq.enroll("viewer")
    p = hq.cmd("device", "enroll", "--grid", "S01-G2", "--role",
               "coordinator")
    other = dict(line.split(": ", 1) for line in
                 p.stdout.decode().splitlines() if ": " in line)
    T.check("enrolled", all((TA, TB, TC, TV, other.get("token"))))
    hq.start()

    MS = int(time.time() * 1000) - 60000
    CREATED = MS
    # The day of MS in the store's zone (the reports' days), not the
    # machine's.
    DAY = datetime.datetime.fromtimestamp(
        MS / 1000, zoneinfo.ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    v = [(MS + i * 1000) << 16 for i in range(8)]
    e1, e2, e3 = (hqclient.uuid7(MS, n) for n in (1, 2, 3))

    # Disjoint fields from one base.
    T.check("e1 created", post(A, TA, rec(e1, A, v[0], body(
        "文昌街道恒达机械有限公司", 40))) == "ACCEPTED")
    T.check("e1 headcount on B", post(B, TB, rec(e1, B, v[2], body(
        "文昌街道恒达机械有限公司", 52), bases=[v[0]])) == "ACCEPTED")
    T.check("e1 address on A", post(A, TA, rec(e1, A, v[1], body(
        "文昌街道恒达机械有限公司", 40, "文昌街道新风路18号"),
        bases=[v[0]])) == "ACCEPTED")
    T.check("e1 both changes kept", current(
        e1, "json_extract(body, '$.employees') || '|' || "
        "json_extract(body, '$.address') || '|' || conflicts || '|' || "
        "heads") == "52|文昌街道新风路18号|0|%d,%d" % (v[1], v[2]))

    # The same field: B's newer 50 wins over A's 60, which came later
    # with a lower version and is accepted all the same.
    T.check("e2 created", post(A, TA, rec(e2, A, v[0], body(
        "文昌街道鑫源纺织有限公司", 40))) == "ACCEPTED")
    T.check("e2 on B", post(B, TB, rec(e2, B, v[2], body(
        "文昌街道鑫源纺织有限公司", 50), bases=[v[0]])) == "ACCEPTED")
    got = post(A, TA, rec(e2, A, v[1], body("文昌街道鑫源纺织有限公司", 60),
                          bases=[v[0]]))
    T.check("e2 on A, lower and concurrent: accepted", got == "ACCEPTED",
            got)
    T.check("e2 newer wins, flagged", current(
        e2, "json_extract(body, '$.employees') || '|' || conflicts || '|' "
        "|| version") == "50|1|%d" % v[2])
    got = post(A, TA, rec(e2, A, v[1], body("文昌街道鑫源纺织有限公司", 60),
                          bases=[v[0]]))
    T.check("e2 resent: duplicate", got == "DUPLICATE", got)

    p = hq.cmd("conflicts", "--format", "json")
    d = json.loads(p.stdout.decode("utf-8"))
    T.check("cli json: one conflict", d["count"] == 1, d)
    c = d["conflicts"][0] if d["conflicts"] else {}
    T.check("cli json: the field and both values",
            c.get("id") == e2 and c.get("field") == "employees" and
            c["kept"]["value"] == "50" and c["other"]["value"] == "60" and
            c["kept"]["device"] == B and c["other"]["device"] == A and
            c["kept"]["version"] == str(v[2]) and
            c["kept"]["staff"] == "K0001" and
            c["kept"]["staff_name"] == "冯秀兰", c)
    table = hq.cmd("conflicts").stdout.decode("utf-8")
    T.check("cli table", e2 in table and "employees" in table and
            " 50 " in table and " 60 " in table and
            "冯秀兰 K0001 (%s)" % B[-8:] in table and
            "1 field conflict" in table, table)
    csv = hq.cmd("conflicts", "--grid", GRID, "--format",
                 "csv").stdout.decode("utf-8")
    T.check("cli csv", csv.startswith("\ufeffrecord,") and
            csv.count("\r\n") == 2 and e2 in csv, csv)
    T.check("cli csv of another grid: header only", hq.cmd(
        "conflicts", "--grid", "S01-G2", "--format",
        "csv").stdout.decode("utf-8").count("\r\n") == 1)
    p = hq.cmd("conflicts", "--grid", "S99-G9")
    T.check("cli unknown grid: usage error", p.returncode == 2,
            p.stderr.decode())

    st, d = get_json("/v1/conflicts", TV)
    T.check("http viewer: every grid", st == 200 and d["count"] == 1 and
            d["conflicts"][0]["id"] == e2, d)
    st, d = get_json("/v1/conflicts?grid=S01-G2", TV)
    T.check("http viewer: another grid", st == 200 and d["count"] == 0, d)
    st, d = get_json("/v1/conflicts", TA)
    T.check("http device: its own grid", st == 200 and d["count"] == 1, d)
    st, d = get_json("/v1/conflicts?grid=S01-G2", TA)
    T.check("http device: another grid is 403", st == 403, d)
    st, d = get_json("/v1/conflicts", other["token"])
    T.check("http device of S01-G2: none there", st == 200 and
            d["count"] == 0, d)
    st, d = get_json("/v1/conflicts", "x" * 43)
    T.check("http bad token: 401", st == 401, d)
    T.check("403 audited", "conflicts" in hq.sql(
        "SELECT group_concat(action) FROM audit_log WHERE status = 403"))

    row, rep = report_row(GRID)
    T.check("report row counts the record in conflict",
            row and row["conflicts"] == 1, row)
    T.check("report total too", rep["total"]["conflicts"] == 1,
            rep["total"])
    T.check("report other grid none", report_row("S01-G2")[0]["conflicts"]
            == 0)
    T.check("report csv has the column",
            ",conflicts,complete" in report_row(GRID, "csv"))
    st, _, b = hqclient.http("GET", hq.url + "/v1/reports/check-coverage"
                             "?level=grid&from=%s&to=%s" % (DAY, DAY), TV)
    T.check("report over http", st == 200 and json.loads(b)["total"][
        "conflicts"] == 1)

    # A third device of the grid pulls every version with its bases.
    st, _, b = hqclient.changes(hq.url, TC)
    page = hqclient.decode("ChangesPage", hqclient.inflate(b)) \
        if st == 200 else ""
    recs = page.split("records {")[1:]
    mine = [r for r in recs if "鑫源纺织" in r]
    T.check("pull: every version of e2", len(mine) == 3, len(recs))
    T.check("pull: the bases travel", sum(
        ("bases: %d" % v[0]) in r for r in mine) == 2, mine)

    # Resolved on A: made from both heads, keeping 60, field 6 resolved.
    got = post(A, TA, rec(e2, A, v[3], body("文昌街道鑫源纺织有限公司", 60),
                          bases=[v[1], v[2]], resolves=1 << 6))
    T.check("resolution accepted", got == "ACCEPTED", got)
    T.check("resolved value", current(
        e2, "json_extract(body, '$.employees') || '|' || conflicts") ==
        "60|0")
    st, d = get_json("/v1/conflicts", TV)
    T.check("http: cleared", st == 200 and d["count"] == 0, d)
    T.check("cli: cleared", "no field conflicts" in hq.cmd(
        "conflicts").stdout.decode("utf-8"))
    T.check("report: cleared", report_row(GRID)[0]["conflicts"] == 0)

    # B's next two edits of e1 arrive out of order: the later one is
    # merged first, and the one it was made from is then stale.
    got = post(B, TB, rec(e1, B, v[5], body("文昌街道恒达机械有限公司", 54,
                                            "文昌街道新风路18号"),
                          bases=[v[4]]))
    T.check("e1 later edit first", got == "ACCEPTED", got)
    got = post(B, TB, rec(e1, B, v[4], body("文昌街道恒达机械有限公司", 53,
                                            "文昌街道新风路18号"),
                          bases=[v[1], v[2]]))
    T.check("e1 the edit it was made from: stale", got == "STALE", got)
    T.check("e1 as the later edit made it", current(
        e1, "json_extract(body, '$.employees') || '|' || "
        "coalesce(heads, 'one') || '|' || version || '|' || conflicts") ==
        "54|one|%d|0" % v[5])

    # A void and an edit made apart: the void stands, flagged.
    T.check("e3 created", post(A, TA, rec(e3, A, v[0], body(
        "文昌街道晨光电子有限公司", 20))) == "ACCEPTED")
    T.check("e3 voided on A", post(A, TA, rec(e3, A, v[1], body(
        "文昌街道晨光电子有限公司", 20), bases=[v[0]],
        void="重复录入")) == "ACCEPTED")
    T.check("e3 edited on B", post(B, TB, rec(e3, B, v[2], body(
        "文昌街道晨光电子有限公司", 25), bases=[v[0]])) == "ACCEPTED")
    T.check("e3 void stands", current(
        e3, "voided || '|' || void_reason || '|' || conflicts") ==
        "1|重复录入|1")
    st, d = get_json("/v1/conflicts?grid=" + GRID, TV)
    c = d["conflicts"][0] if st == 200 and d["conflicts"] else {}
    T.check("e3 listed on the void", c.get("field") == "void" and
            c["kept"]["value"] == "重复录入" and c["other"]["value"] is None,
            d)
    T.check("e3 counted though voided", report_row(GRID)[0]["conflicts"]
            == 1)

    # Pages of GET /v1/conflicts: three more records, each edited apart
    # on A and B, make four conflicts; pages of two follow each other by
    # "next" to the same four, each once, the last page without "next".
    more = [hqclient.uuid7(MS, n) for n in (4, 5, 6)]
    for i, e in enumerate(more):
        name = "文昌街道%s精密机械有限公司" % "甲乙丙"[i]
        post(A, TA, rec(e, A, v[0], body(name, 10)))
        post(A, TA, rec(e, A, v[1], body(name, 11), bases=[v[0]]))
        post(B, TB, rec(e, B, v[2], body(name, 12), bases=[v[0]]))
    st, whole = get_json("/v1/conflicts?grid=" + GRID, TV)
    T.check("four conflicts, one page", st == 200 and whole["count"] == 4
            and "next" not in whole, whole)
    seen, url, pages = [], "/v1/conflicts?limit=2&grid=" + GRID, 0
    while url and pages < 5:
        st, d = get_json(url, TV)
        if st != 200:
            break
        pages += 1
        seen += [(c["id"], c["field"]) for c in d["conflicts"]]
        url = ("/v1/conflicts?limit=2&grid=%s&after=%s" % (GRID, d["next"])
               if "next" in d else None)
    T.check("pages of two: two pages, the same four in the same order",
            st == 200 and pages == 2 and seen == [
                (c["id"], c["field"]) for c in whole["conflicts"]],
            (pages, seen))
    st, d = get_json("/v1/conflicts?limit=3&grid=" + GRID, TV)
    T.check("a page of three names the next", st == 200 and
            d["count"] == 3 and "next" in d, d)
    st, d = get_json("/v1/conflicts?limit=3&grid=%s&after=%s" %
                     (GRID, d.get("next", "")), TV)
    T.check("the last page is short", st == 200 and d["count"] == 1 and
            "next" not in d, d)
    for bad in ("limit=0", "limit=10001", "limit=x", "after=12.3",
                "after=1.2.%s.%s.a%%2Cb" % (e3, A), "after=" + "9" * 300):
        st, d = get_json("/v1/conflicts?" + bad, TV)
        T.check("%s: 400" % bad[:30], st == 400, d)
except Exception as e:  # a broken step is a failure, not a pass
    import traceback
    traceback.print_exc()
    T.check("ran to the end", False, repr(e))
finally:
    hq.stop()
    T.finish()

#!/usr/bin/env python3
# Hostile input over real HTTP (SPEC §6, issue of size caps and field
# checks), from a protocol-level client of the tests' own (hqclient.py:
# protoc-encoded batches, raw sockets for framing), while a real laptop
# syncs into the same HQ.  Each request that is refused as a whole gets
# its 4xx naming the field or limit, and changes nothing of the sending
# device but one audit entry; each record refused alone is named in the
# ack and leaves only a bounded rejection row.  401s from one address
# are audited once with a count, not once each.  HQ's peak RSS stays
# under 256 MiB, and the laptop's sync goes through.  Starts and stops
# its own server.
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import checks  # noqa: E402
from checks import check, run  # noqa: E402
import hqclient  # noqa: E402
import hqtest  # noqa: E402

os.environ["PATH"] = os.path.join(TOP, "build") + os.pathsep + os.environ["PATH"]
SEEDS = os.environ.get("GRIDBOOK_SEEDS", os.path.join(TOP, "seeds"))
GRID = "S01-G1"
MIB = 1 << 20



def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def enroll(store, role):
    p = run("gridbook-hq", "--store", store, "device", "enroll",
            "--grid", GRID, "--role", role)
    out = dict(line.split(": ", 1) for line in
               p.stdout.decode().splitlines() if ": " in line)
    return out.get("device"), out.get("token"), p.stdout


def count(store, sql, *args):
    return hqtest.query(store, sql, *args)[0][0]


def letters(n, seed):
    """n letters that do not compress much."""
    r = random.Random(seed)
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


ENT = ('enterprise { uscc: "%s" name: "%s" type: COMPANY '
       'community: "S01-C02" address: "文昌街道新风路18号" '
       'industry: "制造业" employees: 56 status: ACTIVE }')


def ent_record(device, ms, n, name="望川区永丰食品有限公司", staff="K0001",
               rid=None, created=None, extra=""):
    rid = rid or hqclient.uuid7(ms, n)
    text = hqclient.record(rid, GRID, device, staff, (ms << 16) + n, ms,
                           ENT % (hqclient.uscc("9133078%010d" % n), name))
    if created is not None:
        text = text.replace("created_at: %d" % ms, "created_at: %d" % created)
    if extra:
        text = text.replace("  version:", "  %s\n  version:" % extra)
    return text, rid


def raw_http(port, head, body_parts=(), timeout=20):
    """Sends head and the body parts on one connection; returns the status
    and the answer's text (what came before the connection closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        for part in body_parts:
            s.sendall(part)
    except OSError:
        pass
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if b"\r\n\r\n" in out:
                h, _, rest = out.partition(b"\r\n\r\n")
                for line in h.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(rest) >= int(line.split(b":")[1]):
                            raise StopIteration
    except (StopIteration, OSError):
        pass
    finally:
        s.close()
    status = int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/") else 0
    return status, out.decode("utf-8", "replace")


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    grid_file = os.path.join(tmp, "laptop.grid")
    cleanups = []
    server = None
    try:
        # sqlite:FILE, or a PostgreSQL database (GRIDBOOK_TEST_STORE=pg).
        store = hqtest.store_spec(cleanups, os.path.join(tmp, "hq.db"))
        p = run("gridbook-hq", "seed", SEEDS, "--store", store)
        check("seed", p.returncode == 0, p.stderr)
        dev, token, _ = enroll(store, "coordinator")
        check("enroll the hostile device", dev and token)
        ms = int(time.time() * 1000) - 3600000

        port = free_port()
        base = "http://127.0.0.1:%d" % port
        log = open(os.path.join(tmp, "serve.log"), "wb")
        server = subprocess.Popen(
            ["gridbook-hq", "serve", "--store", store,
             "--listen", "127.0.0.1:%d" % port], stdout=log, stderr=log)
        for _ in range(200):
            try:
                if hqclient.http("GET", base + "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)

        # The real laptop: 600 enterprises, sent 20 a batch while the
        # hostile requests come.
        csv = os.path.join(tmp, "ent.csv")
        p = run("python3", os.path.join(TOP, "bench", "gen_csv.py"), "--grid",
                GRID, "--rows", "600", csv)
        check("csv made", p.returncode == 0, p.stderr)
        p = run("gridbook", "--db", grid_file, "init", "--grid", GRID,
                "--staff", "K0001")
        check("laptop init", p.returncode == 0, p.stderr)
        p = run("gridbook", "--db", grid_file, "import", "enterprise", csv)
        check("laptop import", p.returncode == 0, p.stderr)
        _, _, enrolment = enroll(store, "coordinator")
        p = run("gridbook", "--db", grid_file, "sync", "setup", "--server",
                base, "--token", "-", input=enrolment)
        check("laptop setup", p.returncode == 0, p.stderr)
        laptop = subprocess.Popen(
            ["gridbook", "--db", grid_file, "sync", "--batch-records", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def audits():
            return count(store, "SELECT count(*) FROM audit_log")

        def mine():
            return (count(store, "SELECT count(*) FROM batch WHERE "
                          "lower(hex(device)) = ?", dev.replace("-", "")),
                    count(store, "SELECT count(*) FROM record_history WHERE "
                          "lower(hex(device)) = ?", dev.replace("-", "")),
                    count(store, "SELECT count(*) FROM rejection WHERE "
                          "lower(hex(device)) = ?", dev.replace("-", "")))

        def refused_whole(what, status, body, want_status, want_text,
                          before, entries=1):
            check("%s: %d" % (what, want_status), status == want_status,
                  "%s %s" % (status, body[:300]))
            check("%s: names the limit" % what, want_text in body, body[:300])
            check("%s: changes nothing of the device" % what,
                  mine() == before[0], "%s %s" % (mine(), before[0]))
            check("%s: %d audit entry" % (what, entries),
                  audits() == before[1] + entries,
                  "%d %d" % (audits(), before[1]))

        def snap():
            return (mine(), audits())

        hdr = {"Content-Type": "application/x-protobuf",
               "Content-Encoding": "deflate"}
        seq = [0]

        def next_seq():
            seq[0] += 1
            return seq[0]

        # A body declared over the limit: 413 before it is read.
        b = snap()
        st, body = raw_http(port, (
            "POST /v1/batches HTTP/1.1\r\nHost: hq\r\nAuthorization: Bearer "
            "%s\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: "
            "deflate\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" %
            (token, 9 * MIB)).encode())
        refused_whole("declared oversize body", st, body, 413, "8388608", b)

        # A chunked body that runs past the limit: its 413 all the same.
        b = snap()
        chunk = os.urandom(1 << 16)
        parts = [b"10000\r\n" + chunk + b"\r\n"] * (9 * 16) + [b"0\r\n\r\n"]
        st, body = raw_http(port, (
            "POST /v1/batches HTTP/1.1\r\nHost: hq\r\nAuthorization: Bearer "
            "%s\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: "
            "deflate\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
            "\r\n" % token).encode(), parts)
        refused_whole("oversize chunked body", st, body, 413, "8388608", b)

        # Two lengths, or a length beside chunked: 400, nothing read.
        good, _ = ent_record(dev, ms, 1)
        gbody = zlib.compress(hqclient.encode(
            "Batch", hqclient.batch(dev, GRID, 1, [good])))
        head = ("POST /v1/batches HTTP/1.1\r\nHost: hq\r\nAuthorization: "
                "Bearer %s\r\nContent-Type: application/x-protobuf\r\n"
                "Content-Encoding: deflate\r\n" % token).encode()
        b = snap()
        st, body = raw_http(port, head + (
            "Content-Length: %d\r\nContent-Length: %d\r\nConnection: close"
            "\r\n\r\n" % (len(gbody), len(gbody) - 3)).encode(), [gbody])
        refused_whole("two Content-Length", st, body, 400,
                      "Content-Length: sent more than once", b)
        b = snap()
        st, body = raw_http(port, head + (
            "Content-Length: %d\r\nTransfer-Encoding: chunked\r\nConnection: "
            "close\r\n\r\n%x\r\n" % (len(gbody), len(gbody))).encode(),
            [gbody, b"\r\n0\r\n\r\n"])
        # Refused before any token is read, so counted with the one
        # before from this address: its entry comes with the count.
        refused_whole("Content-Length beside chunked", st, body, 400,
                      "Content-Length: sent beside Transfer-Encoding", b, 0)

        # A zip bomb: 32 MiB of zeros in a few kB.
        b = snap()
        st, _, body = hqclient.post_batch(base, token,
                                          raw=zlib.compress(bytes(32 * MIB), 9))
        refused_whole("zip bomb", st, body.decode(), 413, "times the", b)

        # Not protobuf, and the wrong media type.
        b = snap()
        st, _, body = hqclient.post_batch(base, token, raw=zlib.compress(
            b"\xff" * 300))
        refused_whole("garbage", st, body.decode(), 400, "not a valid Batch", b)
        b = snap()
        st, _, body = hqclient.post_batch(base, token, raw=gbody,
                                          ctype="application/json")
        refused_whole("wrong type", st, body.decode(), 415, "Content-Type", b)

        # More records than a batch may hold, small enough to come in.
        b = snap()
        many = [ent_record(dev, ms, 10 + i)[0] for i in range(2001)]
        st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
            dev, GRID, next_seq(), many))
        refused_whole("2,001 records", st, body.decode(), 413,
                      "records: 2001 is over the limit of 2000", b)

        # Another grid in the header: 403.
        b = snap()
        st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
            dev, "S02-G1", next_seq(), [good]))
        refused_whole("another grid", st, body.decode(), 403, "S02-G1", b)

        # Records refused alone: the ack names the field, the rejection
        # row keeps id, reason and a bounded prefix; nothing else stays.
        cases = [
            ("created in 1900", ent_record(dev, ms, 3001,
                                           created=-2208988800000),
             "created_at: "),
            ("created at 10^7 ms", ent_record(dev, ms, 3002,
                                               created=10000000),
             "created_at: "),
            ("an id not UUIDv7", ent_record(
                dev, ms, 3003, rid="0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b"),
             "id: "),
            ("an author of another grid", ent_record(dev, ms, 3004,
                                                     staff="K0010"),
             "staff: "),
            ("a NUL in a name", ent_record(dev, ms, 3005,
                                           name="望川区永丰\\000食品有限公司"),
             "name: text contains the control character U+0000"),
            ("a bidi override in a name", ent_record(
                dev, ms, 3006, name="望川区\u202e司公限有品食"), "U+202E"),
            ("a zero-width space in a name", ent_record(
                dev, ms, 3007, name="望川区\u200b永丰食品有限公司"), "U+200B"),
            ("a 100 kB void reason", ent_record(
                dev, ms, 3008, extra='voided: true void_reason: "%s"' %
                letters(100000, 1)), "limit of 65536 bytes"),
            ("a 300-character void reason", ent_record(
                dev, ms, 3009, extra='voided: true void_reason: "%s"' %
                ("作废" * 150)), "void_reason: "),
            ("an escape in a void reason", ent_record(
                dev, ms, 3010, extra='voided: true void_reason: "a\\033[2Jb"'),
             "control character U+001B"),
        ]
        b = snap()
        s0 = next_seq()
        st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
            dev, GRID, s0, [c[1][0] for c in cases]))
        check("records refused alone: 200", st == 200, body[:300])
        ack = hqclient.decode("Ack", body) if st == 200 else ""
        items = ack.split("items {")[1:]
        check("an ack item for each", len(items) == len(cases), ack[:300])
        for (what, _, want), item in zip(cases, items):
            check("%s: rejected" % what, "status: REJECTED" in item, item)
            check("%s: the reason names it" % what, want in item, item)
        after = mine()
        check("nothing held of them", after[1] == b[0][1], after)
        check("a rejection row each", after[2] == b[0][2] + len(cases), after)
        check("each kept short", count(
            store, "SELECT max(length(raw)) FROM rejection") <= 1024)
        check("no audit entry for plain refusals", audits() == b[1])

        # A batch number played again with other records: 409.
        b = snap()
        st, _, body = hqclient.post_batch(base, token, text=hqclient.batch(
            dev, GRID, s0, [ent_record(dev, ms, 3100)[0]]))
        refused_whole("an old batch number, other records", st,
                      body.decode(), 409, "new sequence number", b)

        # 60 bad tokens from one address: audited once, with a count.
        a0 = audits()
        codes = set()
        for i in range(60):
            st, _, _ = hqclient.post_batch(base, "A" * 43, raw=gbody)
            codes.add(st)
        check("bad tokens: 401", codes == {401}, codes)
        check("bad tokens: one audit entry", audits() == a0 + 1,
              "%d %d" % (audits(), a0))

        # Several hostile bodies at once.
        bomb = zlib.compress(bytes(16 * MIB), 9)
        big = os.urandom(7 * MIB)

        def hammer():
            for _ in range(3):
                hqclient.post_batch(base, token, raw=bomb)
                hqclient.post_batch(base, token, raw=big)
        ts = [threading.Thread(target=hammer) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

        out, err = laptop.communicate(timeout=300)
        check("the laptop's sync went through", laptop.returncode == 0,
              err.decode()[-400:])
        check("HQ holds the laptop's 600", count(
            store, "SELECT count(*) FROM record_current") == 600)
        rss = peak_rss_kib(server.pid)
        print("HQ peak RSS: %d KiB" % rss)
        check("HQ's peak RSS under 256 MiB", 0 < rss < 256 * 1024, rss)

        # Stopping writes the count of the 401s not yet in an entry.
        server.terminate()
        server.wait(timeout=60)
        server = None
        check("the rest of the 401s counted at stop", count(
            store, "SELECT count(*) FROM audit_log WHERE status = 401 AND "
            "detail LIKE '59 refused since %'") == 1)
        check("the second framing refusal counted at stop", count(
            store, "SELECT count(*) FROM audit_log WHERE status = 400 AND "
            "detail LIKE '1 refused since %' AND detail NOT LIKE "
            "'%; last: %'") == 1)
        check("every audit entry has an address", count(
            store, "SELECT count(*) FROM audit_log WHERE remote = ''") == 0)
        check("no token in the audit log", count(
            store, "SELECT count(*) FROM audit_log WHERE detail LIKE ?",
            "%" + token[:20] + "%") == 0)
        p = run("gridbook-hq", "audit", "verify", "--store", store)
        check("audit verify passes", p.returncode == 0, p.stderr)
    finally:
        if server:
            server.kill()
            server.wait()
        for c in reversed(cleanups):
            c()
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())

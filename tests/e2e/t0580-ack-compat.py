#!/usr/bin/env python3
# Compact acks, restored devices and transient refusals at protocol level
# (proto/gridbook.proto, Ack), both ways compatible, with messages built
# by protoc from the proto file and Python's zlib, not by the C code.
#
# Old device, new HQ: a Batch without features gets the full Ack, one
# item per record, byte for byte the same when sent again, and a 409 for
# a number HQ holds under other records, as before.
# New device, new HQ: with features 1 the same batch gets the compact Ack
# (records counted, only the refused item listed, HQ's high-water
# device_seq); 500 accepted records are answered in a few bytes; a batch
# under a number HQ holds for other records, or under one below its mark
# that it does not hold, is answered "renumber" with nothing applied; a
# version stamped days ahead of HQ's clock is refused transient;
# /v1/changes?seq= below HQ's mark serves the device its own records.
# New device, old HQ: the real gridbook sync against an HQ played here
# with the proto of before (the new fields stripped), which sees
# features only as an unknown field and answers full acks: the sync
# goes through and the outbox empties.
import http.server
import os
import re
import shutil
import signal
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
from checks import check  # noqa: E402
import hqclient  # noqa: E402
import hqtest  # noqa: E402

os.environ["PATH"] = os.path.join(TOP, "build") + os.pathsep + os.environ["PATH"]
SEEDS = os.environ.get("GRIDBOOK_SEEDS", os.path.join(TOP, "seeds"))
NOW = "2026-03-12 10:00"
NOW_MS = 1773280800000  # 2026-03-12 10:00 +08:00
GRID = "S01-G1"



def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hq(store, *args):
    env = dict(os.environ, GRIDBOOK_NOW=NOW)
    return subprocess.run(["gridbook-hq", "--store", store] +
                          list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)


def enroll(store, role):
    p = hq(store, "device", "enroll", "--grid", GRID, "--role", role)
    out = dict(line.split(": ", 1) for line in
               p.stdout.decode().splitlines() if ": " in line)
    return out.get("device"), out.get("token")


def enterprises(device, ms, n, start=0, bad=None):
    """n good enterprise records written at ms (versions ms << 16 + i),
    and one with a bad USCC at position bad."""
    out = []
    for i in range(n):
        # Each enterprise its own code: HQ refuses a second current one
        # of the grid with a code it holds.
        good = hqclient.uscc("91330782MA%07d" % ((ms // 1000 * 100 + start + i)
                                                 % 10**7))
        wrong = good[:17] + ("0" if good[17] != "0" else "1")
        rid = hqclient.uuid7(ms, start + i)
        body = ('enterprise { uscc: "%s" name: "望川区永丰食品有限公司%d" '
                'type: COMPANY community: "S01-C02" address: "文昌街道新风路18号" '
                'industry: "制造业" employees: 56 status: ACTIVE }' %
                (wrong if i == bad else good, start + i))
        out.append(hqclient.record(rid, GRID, device, "K0001",
                                   (ms << 16) + start + i, ms, body))
    return out


def post(base, token, device, seq, recs, features=None, after=None):
    text = hqclient.batch(device, GRID, seq, recs)
    if features is not None:
        text += "features: %d\n" % features
    if after:
        text += "after: %d\n" % after
    return hqclient.post_batch(base, token, text)


def count(store, sql):
    return hqtest.query(store, sql)[0][0]


def start_hq(store, tmp):
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    env = dict(os.environ, GRIDBOOK_NOW=NOW)
    log = open(os.path.join(tmp, "serve.log"), "wb")
    server = subprocess.Popen(
        ["gridbook-hq", "serve", "--store", store,
         "--listen", "127.0.0.1:%d" % port],
        stdout=log, stderr=log, env=env)
    for _ in range(200):
        try:
            if hqclient.http("GET", base + "/healthz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.05)
    return server, base


def new_hq(tmp, cleanups):
    # sqlite:FILE, or a PostgreSQL database (GRIDBOOK_TEST_STORE=pg).
    store = hqtest.store_spec(cleanups, os.path.join(tmp, "hq.db"))
    server = None
    p = hq(store, "seed", SEEDS)
    check("seed", p.returncode == 0, p.stderr.decode())
    device, token = enroll(store, "coordinator")
    check("enroll", device and token, "")
    server, base = start_hq(store, tmp)
    try:
        # An old device: no features.
        b1 = enterprises(device, NOW_MS - 7200000, 4, 0, bad=2)
        st, _, full = post(base, token, device, 1, b1)
        check("old: 200", st == 200, full[:200])
        txt = hqclient.decode("Ack", full)
        check("old: one item per record", txt.count("items {") == 4, txt)
        check("old: three accepted, one rejected",
              txt.count("status: ACCEPTED") == 3 and
              txt.count("status: REJECTED") == 1, txt)
        check("old: no compact fields", "records:" not in txt and
              "device_seq" not in txt and "renumber" not in txt, txt)
        st, _, again = post(base, token, device, 1, b1)
        check("old: the same ack again, byte for byte",
              st == 200 and again == full)

        # The same batch from a new device: compact.
        st, _, c = post(base, token, device, 1, b1, features=1)
        txt = hqclient.decode("Ack", c)
        check("new: 200", st == 200, c[:200])
        check("new: compact, the four counted", "records: 4" in txt, txt)
        check("new: only the refused one listed",
              txt.count("items {") == 1 and "status: REJECTED" in txt and
              "uscc" in txt, txt)
        check("new: HQ's high-water", "device_seq: 1" in txt, txt)
        st, _, again = post(base, token, device, 1, b1)
        check("old again after new: still the full ack",
              st == 200 and again == full)

        # 500 accepted: a few bytes.
        b2 = enterprises(device, NOW_MS - 3600000, 500, 100)
        st, _, c = post(base, token, device, 2, b2, features=1)
        txt = hqclient.decode("Ack", c)
        check("500 accepted: compact", st == 200 and "records: 500" in txt
              and "items" not in txt and "device_seq: 2" in txt, txt)
        check("500 accepted: at most 2 bytes a record (%d bytes)" % len(c),
              len(c) <= 1000)
        check("500 accepted: a few bytes (%d)" % len(c), len(c) < 32)
        check("500 stored", count(store, "SELECT count(*) FROM record_current")
              == 503)

        # A restored file: number 2 again, other records.
        b2x = enterprises(device, NOW_MS - 1800000, 3, 700)
        st, _, c = post(base, token, device, 2, b2x, features=1)
        txt = hqclient.decode("Ack", c) if st == 200 else c.decode()
        check("restored: 200, not 409", st == 200, (st, txt))
        check("restored: renumber, HQ's mark, no items",
              "renumber: true" in txt and "device_seq: 2" in txt and
              "items" not in txt, txt)
        st, _, c = post(base, token, device, 2, b2x)
        check("restored, old device: 409 as before", st == 409, st)
        check("restored: nothing applied",
              count(store, "SELECT count(*) FROM record_current") == 503)
        # A batch that follows the renumbered one is not applied either.
        st, _, c = post(base, token, device, 5, b2x, features=1)
        check("above the mark: applied", st == 200 and "device_seq: 5" in
              hqclient.decode("Ack", c), c[:200])
        b3 = enterprises(device, NOW_MS - 1700000, 2, 800)
        st, _, c = post(base, token, device, 3, b3, features=1)
        txt = hqclient.decode("Ack", c) if st == 200 else c.decode()
        check("below the mark, not held: renumber, never applied back",
              st == 200 and "renumber: true" in txt and
              "device_seq: 5" in txt, (st, txt))
        check("nothing of it stored", count(store, "SELECT count(*) FROM batch WHERE seq = 3") == 0)

        # HQ's clock behind the record's: transient.
        ahead = enterprises(device, NOW_MS + 3 * 86400000, 1, 900)
        st, _, c = post(base, token, device, 6, ahead, features=1)
        txt = hqclient.decode("Ack", c)
        check("days ahead of HQ: refused transient",
              "status: REJECTED" in txt and "transient: true" in txt and
              "HQ's clock" in txt, txt)
        st, _, c = post(base, token, device, 7, ahead)
        txt = hqclient.decode("Ack", c)
        check("old device: the same refusal, marked transient (ignored)",
              "status: REJECTED" in txt and "transient: true" in txt, txt)

        # References HQ does not hold in any grid (not seeded yet, a
        # record not received yet): transient; one of another grid: not.
        ms = NOW_MS - 600000
        chk = ('contract_check { enterprise: "%s" check_date: %d '
               'coordinator: "K0001" employees_total: 5 contracts_signed: 5 '
               'insured: 5 hiring_registered: 5 wage_arrears: 0 '
               'outcome: COMPLIANT }')
        good = hqclient.uscc("91330782MA2A0B01Q")
        ent = ('enterprise { uscc: "%s" name: "望川区新港五金厂" type: COMPANY '
               'community: "%s" employees: 9 status: ACTIVE }')
        refs = [
            hqclient.record(hqclient.uuid7(ms, 1), GRID, device, "K0001",
                            (ms << 16) + 1, ms,
                            chk % (hqclient.idbytes(hqclient.uuid7(ms, 9)),
                                   ms // 86400000)),
            hqclient.record(hqclient.uuid7(ms, 2), GRID, device, "K0001",
                            (ms << 16) + 2, ms, ent % (good, "S09-C99")),
            hqclient.record(hqclient.uuid7(ms, 3), GRID, device, "K0001",
                            (ms << 16) + 3, ms, ent % (good, "S02-C01")),
        ]
        st, _, c = post(base, token, device, 8, refs, features=1)
        txt = hqclient.decode("Ack", c)
        items = txt.split("items {")[1:]
        check("references: three refused", len(items) == 3, txt)
        if len(items) == 3:
            check("an enterprise HQ does not hold: transient",
                  "transient: true" in items[0], items[0])
            check("a community HQ does not know: transient",
                  "transient: true" in items[1], items[1])
            check("a community of another grid: permanent",
                  "transient" not in items[2] and "S02-C01" in items[2],
                  items[2])

        # The changes feed: own records only below HQ's mark.
        def page(q):
            st, _, body = hqclient.http("GET", base + "/v1/changes" + q,
                                        token)
            return st, hqclient.decode("ChangesPage", hqclient.inflate(body))
        st, txt = page("?since=&seq=2&limit=1000")
        check("changes below the mark: own records and the mark",
              st == 200 and txt.count("records {") == 506 and
              "device_seq: 8" in txt, (st, txt.count("records {")))
        st, txt = page("?since=&seq=8")
        check("changes at the mark: none of its own",
              st == 200 and "records {" not in txt and
              "device_seq: 8" in txt, txt[:300])
        st, txt = page("?since=")
        check("changes without seq: as before",
              st == 200 and "records {" not in txt and
              "device_seq" not in txt, txt[:300])
        st, _, _ = hqclient.http("GET", base + "/v1/changes?since=&seq=x",
                                 token)
        check("a bad seq is refused", st == 400, st)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def old_proto(tmp):
    """proto/gridbook.proto without the fields this change added: the
    schema an HQ of before decodes with."""
    with open(os.path.join(TOP, "proto", "gridbook.proto"),
              encoding="utf-8") as f:
        src = f.read()
    for field in (r"features = 9", r"transient = 6", r"records = 4",
                  r"device_seq = 5", r"renumber = 6", r"device_seq = 7"):
        src, n = re.subn(r"\n[^\n]*\b%s;[^\n]*" % field, "", src)
        check("old proto: %s removed" % field, n == 1, n)
    d = os.path.join(tmp, "oldproto")
    os.mkdir(d)
    with open(os.path.join(d, "gridbook.proto"), "w", encoding="utf-8") as f:
        f.write(src)
    return d


def old_hq(tmp):
    """The real client against an HQ of before."""
    proto = old_proto(tmp)
    seen = {"batches": 0, "unknown9": 0, "records": 0}

    def protoc(mode, msg, data):
        p = subprocess.run(["protoc", "--proto_path=" + proto,
                            "--%s=gridbook.%s" % (mode, msg),
                            "gridbook.proto"], input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode:
            raise RuntimeError(p.stderr.decode())
        return p.stdout

    class Old(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            if self.command == "GET" and status == 200:
                self.send_header("Content-Encoding", "deflate")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.reply(200, zlib.compress(protoc(
                "encode", "ChangesPage",
                b'next_cursor: "0.0"\nmore: false\n')))

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            txt = protoc("decode", "Batch",
                         hqclient.inflate(body)).decode("ascii")
            seen["batches"] += 1
            if re.search(r"^9: 1$", txt, re.M):
                seen["unknown9"] += 1
            seq = re.search(r"^seq: (\d+)$", txt, re.M).group(1)
            ids = re.findall(r'^  id: "(.*)"$', txt, re.M)
            vers = re.findall(r"^  version: (\d+)$", txt, re.M)
            seen["records"] += len(ids)
            ack = "seq: %s\nserver_time: %d\n" % (seq, int(time.time() * 1000))
            for i, v in zip(ids, vers):
                ack += 'items { id: "%s" version: %s status: ACCEPTED }\n' % (
                    i, v)
            self.reply(200, protoc("encode", "Ack", ack.encode("ascii")))

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Old)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    db = os.path.join(tmp, "old.grid")

    def gb(*args, stdin=b""):
        return subprocess.run(["gridbook", "--db", db] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              input=stdin)

    try:
        p = gb("init", "--grid", GRID, "--staff", "K0001", "--seeds", SEEDS)
        check("old HQ: init", p.returncode == 0, p.stderr.decode())
        p = gb("sync", "setup", "--server", url, "--token", "-",
               stdin=b"x" * 43 + b"\n")
        check("old HQ: setup", p.returncode == 0, p.stderr.decode())
        for i, name in enumerate(("望川区石桥五金厂", "望川区南门纸业有限公司",
                                  "望川区东湖印刷厂")):
            p = gb("enterprise", "add", "--uscc",
                   hqclient.uscc("9133078255%07d" % (1000 + i)),
                   "--name", name, "--community", "S01-C01",
                   "--employees", "12")
            check("old HQ: enterprise %d" % i, p.returncode == 0,
                  p.stderr.decode())
        p = gb("sync", "--batch-records", "2")
        check("old HQ: the sync goes through", p.returncode == 0,
              p.stderr.decode())
        check("old HQ: it was told 3 accepted",
              "(3 accepted)" in p.stdout.decode(), p.stdout.decode())
        check("old HQ: two batches, each with features as an unknown field",
              seen["batches"] == 2 and seen["unknown9"] == 2, seen)
        p = gb("sync", "status", "--format", "json")
        out = p.stdout.decode()
        check("old HQ: nothing pending", '"pending":0' in out, out)
        check("old HQ: nothing refused", '"attention":[]' in out, out)
    finally:
        srv.shutdown()


def main():
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    cleanups = []
    try:
        new_hq(tmp, cleanups)
        old_hq(tmp)
    finally:
        for c in reversed(cleanups):
            c()
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())

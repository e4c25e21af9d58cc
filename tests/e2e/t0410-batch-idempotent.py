#!/usr/bin/env python3
# Delivery is at-least-once, apply is idempotent (SPEC §4): a batch built
# independently of the C code (protobuf text format encoded by protoc,
# deflated by Python's zlib without the preset dictionary) and POSTed five
# times gets five byte-identical acks, and the store holds each record
# once.  The same again with five copies sent at the same moment, which
# the group commit may put into one transaction, and with the batch
# deflated differently.  Starts and stops its own server.
import os
import shutil
import signal
import sqlite3
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
    return subprocess.run(["gridbook-hq", "--store", "sqlite:" + store] +
                          list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)


def enroll(store, role):
    p = hq(store, "device", "enroll", "--grid", GRID, "--role", role)
    out = dict(line.split(": ", 1) for line in
               p.stdout.decode().splitlines() if ": " in line)
    return out.get("device"), out.get("token")


def records(device, ms):
    """Three good records (an enterprise, a check of it, another
    enterprise) and one with a bad USCC."""
    # Each enterprise its own code: HQ refuses a second current one of
    # the grid with a code it holds.
    good, good2 = (hqclient.uscc("91330782MA%07d" % ((ms // 1000 + n) % 10**7))
                   for n in (0, 1))
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    e1, c1, e2, e3 = (hqclient.uuid7(ms, n) for n in range(4))
    v = ms << 16
    ent = ('enterprise { uscc: "%s" name: "%s" type: COMPANY '
           'community: "S01-C02" address: "文昌街道新风路18号" '
           'industry: "制造业" employees: 56 status: ACTIVE }')
    chk = ('contract_check { enterprise: "%s" check_date: %d '
           'coordinator: "K0001" employees_total: 56 contracts_signed: 50 '
           'insured: 48 hiring_registered: 56 wage_arrears: 0 '
           'findings: "劳动合同签订基本规范" outcome: COMPLIANT }' %
           (hqclient.idbytes(e1), (ms - 86400000) // 86400000))
    return [
        hqclient.record(e1, GRID, device, "K0001", v, ms,
                        ent % (good, "望川区永丰食品有限公司")),
        hqclient.record(c1, GRID, device, "K0001", v + 1, ms, chk),
        hqclient.record(e2, GRID, device, "K0001", v + 2, ms,
                        ent % (good2, "望川区金桥物流有限公司")),
        hqclient.record(e3, GRID, device, "K0001", v + 3, ms,
                        ent % (bad, "望川区校验错误有限公司")),
    ]


def count(store, sql):
    db = sqlite3.connect("file:%s?mode=ro" % store, uri=True)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def main():
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    store = os.path.join(tmp, "hq.db")
    server = None
    try:
        p = hq(store, "seed", SEEDS)
        check("seed", p.returncode == 0, p.stderr.decode())
        device, token = enroll(store, "coordinator")
        check("enroll", device and token, "")

        port = free_port()
        base = "http://127.0.0.1:%d" % port
        env = dict(os.environ, GRIDBOOK_NOW=NOW)
        log = open(os.path.join(tmp, "serve.log"), "wb")
        server = subprocess.Popen(
            ["gridbook-hq", "serve", "--store", "sqlite:" + store,
             "--listen", "127.0.0.1:%d" % port],
            stdout=log, stderr=log, env=env)
        for _ in range(100):
            try:
                if hqclient.http("GET", base + "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)

        text = hqclient.batch(device, GRID, 1, records(device, NOW_MS - 7200000))
        body = zlib.compress(hqclient.encode("Batch", text))
        check("a plain zlib stream (no preset dictionary)",
              body[0] == 0x78 and not body[1] & 0x20)
        acks = []
        for i in range(5):
            status, _, ack = hqclient.post_batch(base, token, raw=body)
            check("post %d: 200" % (i + 1), status == 200, ack[:200])
            acks.append(ack)
        check("five byte-identical acks", all(a == acks[0] for a in acks))
        txt = hqclient.decode("Ack", acks[0])
        check("ack seq", "seq: 1" in txt, txt)
        check("three accepted", txt.count("status: ACCEPTED") == 3, txt)
        check("one rejected", txt.count("status: REJECTED") == 1, txt)
        check("the rejection names the field", 'reason_code: "invalid"' in txt
              and "uscc" in txt, txt)

        # The same batch deflated otherwise is the same batch.
        status, _, ack = hqclient.post_batch(
            base, token, raw=zlib.compress(hqclient.encode("Batch", text), 1))
        check("re-deflated: same ack", status == 200 and ack == acks[0])

        # Five copies of another batch at once.  This one says what the
        # device had left to send: seven versions, the oldest from 08:30.
        text2 = hqclient.batch(device, GRID, 2,
                               records(device, NOW_MS - 3600000))
        text2 += "pending: 7\noldest_pending: %d\n" % (NOW_MS - 5400000)
        body2 = zlib.compress(hqclient.encode("Batch", text2))
        got = [None] * 5

        def send(i):
            got[i] = hqclient.post_batch(base, token, raw=body2)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check("concurrent posts: all 200",
              all(g and g[0] == 200 for g in got), [g and g[0] for g in got])
        check("concurrent posts: byte-identical acks",
              all(g and g[2] == got[0][2] for g in got))
        check("concurrent posts: three accepted",
              hqclient.decode("Ack", got[0][2]).count("status: ACCEPTED") == 3)

        # A clean stop.
        server.send_signal(signal.SIGTERM)
        rc = server.wait(timeout=20)
        server = None
        check("SIGTERM stops the server with status 0", rc == 0, rc)

        check("each record held once",
              count(store, "SELECT count(*) FROM record_current") == 6)
        check("each version in the history once",
              count(store, "SELECT count(*) FROM record_history") == 6)
        check("no id twice",
              count(store, "SELECT count(DISTINCT id) FROM record_history")
              == 6)
        check("two batches recorded",
              count(store, "SELECT count(*) FROM batch") == 2)
        p = hq(store, "report", "sync-health", "--level", "grid", "--from",
               "2026-03-12", "--to", "2026-03-12", "--format", "json")
        check("sync-health", p.returncode == 0, p.stderr.decode())
        try:
            import json
            rep = json.loads(p.stdout.decode())
            devs = [d for d in rep["details"]["devices"]
                    if d["device"] == device]
            row = [r for r in rep["rows"] if r["unit"] == GRID][0]
        except (ValueError, KeyError, IndexError) as e:
            devs, row = [], {}
            check("sync-health JSON", False, "%s: %s" % (e, p.stdout[:300]))
        check("sync-health: the device's unsent versions",
              len(devs) == 1 and devs[0].get("unsent") == 7, devs)
        check("sync-health: the oldest of them",
              len(devs) == 1 and
              devs[0].get("oldest_unsent") == "2026-03-12 08:30", devs)
        check("sync-health: the grid's unsent versions",
              row.get("unsent") == 7 and
              row.get("oldest_unsent") == "2026-03-12 08:30", row)
        check("two rejections logged, once each",
              count(store, "SELECT count(*) FROM rejection") == 2)
        check("the check refers to its enterprise",
              count(store, "SELECT count(*) FROM record_current c JOIN "
                    "record_current e ON e.kind = 'enterprise' AND "
                    "lower(hex(e.id)) = replace(json_extract(c.body, "
                    "'$.enterprise'), '-', '') WHERE c.kind = "
                    "'contract_check'") == 2)
    finally:
        if server:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# Turns (SPEC §6, a district at once), on by default (--batch-queue-ms
# 100; 0 turns them off): a client that says
# "Gridbook-Admission: turn" is not held at HQ for a batch slot; it is
# answered at once, 503 with Retry-After (whole seconds, for clients
# that read only that) and Retry-After-Ms, its device's turn.  A device
# holds one turn at a time; a client that says nothing still waits for a
# slot (--batch-wait) as before.  A real `gridbook sync` takes its turns
# and completes while every slot is held by bodies kept back, and a
# report answers meanwhile.  HQ's writer and its batch connections run
# at --bulk-nice, the rest of HQ at its own priority.
# Written at protocol level on raw sockets, beside the real binaries.
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hqclient  # noqa: E402
import hqtest  # noqa: E402
from hqtest import answer, connect, post_head, turn_head, wait_for  # noqa: E402

BODY_S = 8
WAIT_S = 2
# HQ starts at the priority of this test, which a run beside others may
# have lowered (nice -n 10 tests/run-all): the writer's --bulk-nice is
# set above it, since a nice value can only be raised.
OWN_NICE = os.getpriority(os.PRIO_PROCESS, 0)
BULK_NICE = min(19, OWN_NICE + 7)
t = hqtest.Test()
hq = hqtest.HQ(t, t.path("hq.db"), [
    "--max-batches", "4", "--batch-wait", str(WAIT_S),
    "--bulk-nice", str(BULK_NICE),
    "--header-timeout", "60", "--body-timeout", str(BODY_S),
    "--limit-log-interval", "1"])
t.check("seed", hq.seed())
hq.start()
port = hq.port


def post(head, body, timeout=10):
    s = connect(port)
    s.sendall(head + body)
    got = answer(s, timeout)
    s.close()
    return got


# ---- a batch of a device taking turns goes in while slots are free ----
dev_a, tok_a = hq.enroll("coordinator")
body = hqtest.batch_body(dev_a, 1, n=2)
st, hdrs, text = post(turn_head(tok_a, len(body)), body)
t.check("a batch with a turn asked for, HQ idle: 200", st == 200,
        (st, text[:200]))

# The laptop of the last part, made before its turn comes.
lap = hqtest.laptop(t, hq, "lap", 40)

# ---- every slot taken by bodies held back ----
slow = []
for i in range(4):
    _, tok = hq.enroll("coordinator")
    s = connect(port)
    s.sendall(post_head(tok, 1000))
    slow.append(s)
t.check("4 bodies held back take the 4 slots",
        wait_for(lambda: hq.counts()[0] == 4, 20), hq.counts())

dev_b, tok_b = hq.enroll("coordinator")
body_b = hqtest.batch_body(dev_b, 1, n=1)
t0 = time.monotonic()
st, hdrs, text = post(turn_head(tok_b, len(body_b)), body_b)
took = time.monotonic() - t0
t.check("no slot, a turn asked for: 503", st == 503, (st, text[:200]))
t.check("... answered without waiting for a slot (--batch-wait %d s)" %
        WAIT_S, took < WAIT_S, took)
ms_b = int(hdrs.get("retry-after-ms", "-1"))
t.check("... with Retry-After-Ms", ms_b >= 1, hdrs)
t.check("... and whole seconds in Retry-After, rounded up",
        hdrs.get("retry-after") == str(max(1, (ms_b + 999) // 1000)), hdrs)
t.check("... saying so", b"turn comes in" in text, text[:200])

# The same device again before its turn: the same turn, not a later one.
body_b2 = hqtest.batch_body(dev_b, 2, after=1, n=1)
st2, hdrs2, _ = post(turn_head(tok_b, len(body_b2)), body_b2)
ms_b2 = int(hdrs2.get("retry-after-ms", "-1"))
t.check("the device's second batch: 503, the same turn",
        st2 == 503 and 1 <= ms_b2 <= ms_b, (st2, ms_b, ms_b2))

# A client that does not ask for turns waits for a slot, then 503.
dev_c, tok_c = hq.enroll("coordinator")
body_c = hqtest.batch_body(dev_c, 1, n=1)
t0 = time.monotonic()
st, hdrs, _ = post(post_head(tok_c, len(body_c)), body_c, WAIT_S + 10)
took = time.monotonic() - t0
t.check("no turn asked for: 503 after --batch-wait", st == 503 and
        took >= WAIT_S - 0.5, (st, took))
t.check("... with Retry-After and no Retry-After-Ms",
        "retry-after" in hdrs and "retry-after-ms" not in hdrs, hdrs)

# A report and /healthz answer while every slot is held.
_, viewer = hq.enroll("viewer")
st, _, _ = hqclient.http(
    "GET", hq.url + "/v1/reports/contract-rate?level=district&from="
    "2026-11-01&to=2026-11-30", headers={"Authorization": "Bearer " +
                                         viewer}, timeout=10)
t.check("a report while every slot is held: 200", st == 200, st)
t.check("/healthz while every slot is held", hq.health()[0] == 200)

# ---- a real laptop takes its turns and completes ----
# The bodies held back are cut at --body-timeout; the laptop, turned
# away meanwhile, comes back on its turns and is let in.
t.check("the slots are still held", hq.counts()[0] == 4, hq.counts())
rc, out = hqtest.sync(lap)
t.check("gridbook sync with every slot held at first: exits 0", rc == 0,
        out[-400:])
t.check("... it sent its records", "sent 40 records" in out, out[-400:])
t.check("... it waited for turns",
        wait_for(lambda: "for its turn, then" in hq.log_text(), 10),
        hq.log_text()[-600:])
# The count of turns is written at the end of its interval.
t.check("turns given are logged once per interval",
        wait_for(lambda: "batches given a later turn" in hq.log_text(), 10),
        hq.log_text()[-600:])
for s in slow:
    s.close()

# ---- the priorities: the writer at --bulk-nice, the main thread not ----
def nices(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = int(fields[16])
        except (OSError, IndexError, ValueError):
            pass
    return out


n = nices(hq.proc.pid)
t.check("the main thread keeps its priority",
        n.get(hq.proc.pid) == OWN_NICE, (OWN_NICE, n))
t.check("a thread (the writer) at --bulk-nice %d" % BULK_NICE,
        BULK_NICE in n.values(), n)
p = subprocess.run(["gridbook-hq", "serve", "--bulk-nice", "20"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
t.check("--bulk-nice 20 is a usage error", p.returncode == 2,
        p.stderr[-200:])
help_text = subprocess.run(["gridbook-hq", "serve", "--help"],
                           stdout=subprocess.PIPE,
                           env=dict(os.environ, LANGUAGE="en",
                                    LC_ALL="C.UTF-8")).stdout.decode()
t.check("every limit in --help", all(
    o in help_text for o in ("--batch-queue-ms", "--bulk-nice")))
m = re.search(r"0: no turns \((\d+)\)", help_text)
t.check("--help gives turns on by default (--batch-queue-ms above 0)",
        m is not None and int(m.group(1)) > 0, help_text[-1500:])
t.check("HQ stops cleanly", hq.stop() == 0)
t.finish()

#!/usr/bin/env python3
# Turns spread out devices that compete for a slow writer; a device
# alone is never given one (issue 10).  HQ lets in as many batches as
# two of its writer's groups for --batch-queue-ms hold, at least two:
# with a writer slow enough for one batch a group that is two, while a
# client keeps up to five batches of its device in flight.  A lone
# device whose window is over that bound has no one to give way to: its
# batches are let in and wait for its own, and
# `gridbook sync --retry-for 0` (no waiting for a busy HQ) does not end
# in failure.  A second device, which does compete, still gets a turn.
#
# The writer is made slow for real, and for as long as the test needs
# it: the test holds the store's write lock (BEGIN IMMEDIATE on the
# SQLite file, as a slow disk or a long checkpoint would), so that the
# batches let in stay under way until it lets go, well within the
# writer's busy timeout (10 s).  Written at protocol level on raw
# sockets, beside the real binaries.
import os
import select
import socket
import sqlite3
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hqtest  # noqa: E402
from hqtest import answer, connect, post_head, turn_head, wait_for  # noqa: E402

# Each wait below ends as soon as what it waits for is there; the lock
# is held for a few of them and must be let go before the writer's own
# busy timeout (BUSY_MS of store_sqlite.c, 10 s) refuses the batches.
STEP_S = 4
t = hqtest.Test()
if hqtest.skip_on_pg("the writer is held by the SQLite file's lock"):
    t.finish()
# --max-batches 5, the client's window: a group of the writer is then
# at most two batches (half of it), and HQ gives turns past two groups,
# four batches, whatever the writer's speed: one short of the window.
# --max-device-batches 6: a batch whose answer is on its way still
# counts for its device a moment, beside a window of five.
hq = hqtest.HQ(t, t.path("hq.db"), ["--max-batches", "5",
                                    "--max-device-batches", "6",
                                    "--limit-log-interval", "1"])
t.check("seed", hq.seed())
hq.start()
port = hq.port


def send(token, body):
    """A batch taking turns, sent whole; the open socket."""
    s = connect(port)
    s.sendall(turn_head(token, len(body)) + body)
    return s


def under_way(n):
    return wait_for(lambda: hq.counts()[0] == n, STEP_S)


def lock_store():
    """A connection holding the store's write lock (the writer waits)."""
    db = sqlite3.connect(hq.store, timeout=10, isolation_level=None,
                         check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    return db


def readable(s, timeout):
    """Whether an answer (or EOF) is waiting on s within timeout."""
    return bool(select.select([s], [], [], timeout)[0])


# ---- one device, five batches in flight, the writer held ----
# Both devices are enrolled first: enrolling writes to the store too.
dev_a, tok_a = hq.enroll("coordinator")
dev_b, tok_b = hq.enroll("coordinator")
bodies = [hqtest.batch_body(dev_a, i, after=i - 1 if i > 1 else 0, n=2)
          for i in range(1, 6)]
lock = lock_store()
socks = []
for i, body in enumerate(bodies, 1):
    socks.append(send(tok_a, body))
    # Each batch is let in (counted under way) before the next goes,
    # so that HQ sees them one after the other, as a window fills.
    if not under_way(i):
        break
got = hq.counts()[0]
t.check("a lone device's 5 batches are all let in with the writer held",
        got == 5, (got, hq.log_text()[-600:]))
early = [i + 1 for i, s in enumerate(socks) if readable(s, 0)]
t.check("... none is answered before the writer is free (no turn)",
        not early, early)

# ---- a second device competes: it is given a turn ----
s_b = send(tok_b, hqtest.batch_body(dev_b, 1, n=1))
st_b, hdrs_b, text_b = answer(s_b, STEP_S)
s_b.close()
t.check("another device while the writer is behind: a turn (503)",
        st_b == 503 and int(hdrs_b.get("retry-after-ms", "0")) >= 1,
        (st_b, hdrs_b, text_b[:200]))

lock.rollback()
lock.close()
answers = [answer(s, 30) for s in socks]
for s in socks:
    s.close()
t.check("... and once the writer is free every batch is acknowledged",
        [a[0] for a in answers] == [200] * len(socks),
        [(a[0], a[2][:120]) for a in answers])

# ---- a real laptop alone, with --retry-for 0 ----
# It sends one batch alone, then, once that one is acknowledged, five at
# a time.  The writer is held from that first ack on: the proxy below
# takes the store's lock before it passes the ack to the laptop, so
# that the five find the writer behind, as a slow disk would keep them.
class LockAtFirstAck:
    """A TCP proxy to HQ that takes the store's write lock (self.lock)
    once, when HQ answers the first batch, before passing that on."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.url = "http://127.0.0.1:%d" % self.srv.getsockname()[1]
        self.mu = threading.Lock()
        self.lock = None
        self.taken = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
                u = socket.create_connection(("127.0.0.1", port), 10)
            except OSError:
                return
            batch = []
            threading.Thread(target=self.pump, args=(c, u, batch, False),
                             daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, batch, True),
                             daemon=True).start()

    def pump(self, src, dst, batch, answers):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not answers and not batch:
                    batch.append(data.startswith(b"POST /v1/batches"))
                if answers and batch and batch[0]:
                    with self.mu:
                        if not self.taken.is_set():
                            self.lock = lock_store()
                            # HQ counts the batch until its answer is
                            # sent: the five after it find its slot
                            # given back.
                            wait_for(lambda: hq.counts()[0] == 0, STEP_S)
                            self.taken.set()
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.srv.close()


proxy = LockAtFirstAck()
lap = hqtest.laptop(t, hq, "lap", 300)
p = subprocess.Popen(["gridbook", "--db", lap, "sync", "--server",
                      proxy.url, "--retry-for", "0", "--batch-records", "10"],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
t.procs.append(p)
t.check("the laptop's first batch is acknowledged, then the writer held",
        proxy.taken.wait(30))
t.check("... its next five batches are let in",
        wait_for(lambda: hq.counts()[0] == 5 or p.poll() is not None,
                 STEP_S) and p.poll() is None,
        (hq.counts(), p.poll()))
with proxy.mu:
    if proxy.lock:
        proxy.lock.rollback()
        proxy.lock.close()
try:
    out = p.communicate(timeout=60)[0].decode("utf-8", "replace")
except subprocess.TimeoutExpired:
    p.kill()
    out = p.communicate()[0].decode("utf-8", "replace")
t.check("gridbook sync --retry-for 0 of a lone laptop: exits 0",
        p.returncode == 0, out[-600:])
t.check("... it sent its records", "sent 300 records" in out, out[-400:])
t.check("... and was never given a turn",
        "for its turn" not in hq.log_text(), hq.log_text()[-600:])
proxy.close()

# ---- a client that waits for a slot is someone to give way to ----
# A client that takes no turns waits at HQ for a slot; while it waits, a
# device with batches under way is not alone, and a batch more of it is
# given a turn rather than let in past the one waiting.
dev_c, tok_c = hq.enroll("coordinator")
dev_w, tok_w = hq.enroll("coordinator")
lock = lock_store()
# Four batches under way fill what HQ lets in (at most four with
# --max-batches 5), so that the client below waits.
first = []
for i in range(1, 5):
    first.append(send(tok_c, hqtest.batch_body(dev_c, i, after=i - 1, n=1,
                                               start=10 + i)))
    if not under_way(i):
        break
t.check("the writer held: a device's four batches are let in",
        hq.counts()[0] == 4, hq.counts())
body_w = hqtest.batch_body(dev_w, 1, n=1, start=20)
s_w = connect(port)
s_w.sendall(post_head(tok_w, len(body_w)) + body_w)
t.check("... a client that takes no turns waits for a slot (not let in)",
        not wait_for(lambda: hq.counts()[0] > 4, 1) and
        not readable(s_w, 0), hq.counts())
s_c3 = send(tok_c, hqtest.batch_body(dev_c, 5, after=4, n=1, start=15))
st3, hdrs3, text3 = answer(s_c3, STEP_S)
s_c3.close()
t.check("... the first device's next batch is given a turn, not let in "
        "past it", st3 == 503 and int(hdrs3.get("retry-after-ms", "0")) >= 1,
        (st3, hdrs3, text3[:200], hq.counts()))
lock.rollback()
lock.close()
got = [answer(s, 30)[0] for s in first + [s_w]]
for s in first + [s_w]:
    s.close()
t.check("... and once the writer is free all five are acknowledged",
        got == [200] * 5, got)
t.check("HQ stops cleanly", hq.stop() == 0)
t.finish()

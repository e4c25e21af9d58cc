#!/usr/bin/env python3
# Oversize bodies over real HTTP (SPEC §6: "bodies over a size limit
# (413)"), from raw sockets of the tests' own while a real laptop syncs
# into the same HQ:
#   1. Chunked bodies of 17 and 40 MiB, past twice and four times the
#      8 MiB limit, get their 413 naming the limit and the size, with
#      "Connection: close", once the body has been sent; nothing of them
#      is stored, one audit entry each is written.  Four of 17 MiB at
#      once do the same, and HQ's peak RSS stays under 256 MiB.
#   2. A Content-Length over the limit is refused at the headers: with
#      Expect: 100-continue the 413 comes instead of "100 Continue", so
#      the body is never sent; without it the 413 comes after the
#      headers alone.
#   3. Chunked bodies past the limit that never end, sent as fast as HQ
#      reads them or trickled, hold no batch slot once past it (a second
#      laptop syncs meanwhile without waiting for one), and are cut off
#      at the body deadline.
# Starts and stops its own server.
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hqtest  # noqa: E402
from hqtest import answer, closed, connect, wait_for  # noqa: E402

MIB = 1 << 20
LIMIT = "8388608"
BODY_S = 8

t = hqtest.Test()
hq = hqtest.HQ(t, t.path("hq.db"), [
    "--body-timeout", str(BODY_S), "--max-batches", "3", "--batch-wait", "5",
    "--limit-log-interval", "1"])
t.check("seed", hq.seed())
hq.start()
port = hq.port
dev, tok = hq.enroll("coordinator")
hexdev = dev.replace("-", "").upper()


def stored():
    """What HQ holds of the hostile device: batches, versions, refused
    records."""
    return tuple(hq.sql("SELECT count(*) FROM %s WHERE lower(hex(device)) = "
                        "lower('%s')" %
                        (table, hexdev)) for table in
                 ("batch", "record_history", "rejection"))


def audits():
    return int(hq.sql("SELECT count(*) FROM audit_log") or -1)


def head(extra):
    return ("POST /v1/batches HTTP/1.1\r\nHost: hq\r\n"
            "Authorization: Bearer %s\r\n"
            "Content-Type: application/x-protobuf\r\n"
            "Content-Encoding: deflate\r\n%s\r\n" % (tok, extra)).encode()


CHUNK = os.urandom(64 << 10)
PIECE = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"


def chunked_post(mib, src="127.0.0.1"):
    """POSTs a chunked body of mib MiB and its last chunk; returns the
    answer (status 0 when HQ closed the connection instead)."""
    s = connect(port, src, timeout=30)
    if not s:
        return 0, {}, b""
    try:
        s.sendall(head("Transfer-Encoding: chunked\r\n"))
        for _ in range(mib * 16):
            s.sendall(PIECE)
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    try:
        return answer(s, 30)
    finally:
        s.close()


def rss_kib():
    with open("/proc/%d/status" % hq.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


# The real laptop: 400 enterprises, 20 a batch, while the bodies come.
lap = hqtest.laptop(t, hq, "lap", 400, seed=7)
laptop = subprocess.Popen(["gridbook", "--db", lap, "sync",
                           "--batch-records", "20"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

# ---- 1. chunked bodies past twice the limit ----
before, a0 = stored(), audits()
for n, mib in enumerate((17, 40)):
    what = "%d MiB chunked" % mib
    st, hdrs, body = chunked_post(mib)
    text = body.decode("utf-8", "replace")
    t.check(what + ": 413", st == 413, "%s %s" % (st, text[:300]))
    t.check(what + ": the limit named", LIMIT in text, text[:300])
    t.check(what + ": the size received named",
            "%d bytes" % (mib * MIB) in text, text[:300])
    t.check(what + ": Connection: close",
            hdrs.get("connection", "").lower() == "close", hdrs)
    t.check(what + ": nothing stored", stored() == before,
            "%s %s" % (stored(), before))
    t.check(what + ": one audit entry", audits() == a0 + n + 1,
            "%d %d" % (audits(), a0))
    t.check(what + ": the entry is a 413 of the device naming the limit",
            hq.sql("SELECT count(*) FROM audit_log WHERE status = 413 AND "
                   "lower(hex(device)) = lower('%s') AND detail LIKE '%%%d bytes%%%s%%'" %
                   (hexdev, mib * MIB, LIMIT)) == "1")

# Four at once, from four addresses.
answers = [None] * 4


def one(i):
    answers[i] = chunked_post(17, "127.0.0.%d" % (20 + i))


ths = [threading.Thread(target=one, args=(i,)) for i in range(4)]
for th in ths:
    th.start()
for th in ths:
    th.join()
t.check("four at once: each a 413", [a[0] for a in answers] == [413] * 4,
        [a[0] for a in answers])
t.check("four at once: nothing stored", stored() == before)
t.check("four at once: an audit entry each", audits() == a0 + 6,
        "%d %d" % (audits(), a0))

# ---- 2. a declared length over the limit, refused at the headers ----
a1 = audits()
s = connect(port)
s.sendall(head("Content-Length: %d\r\nExpect: 100-continue\r\n" %
               (17 * MIB)))
st, hdrs, body = answer(s, 10)
t.check("declared 17 MiB with Expect: 413, not 100 Continue", st == 413,
        "%s %s" % (st, body[:200]))
t.check("declared 17 MiB with Expect: the limit named",
        LIMIT.encode() in body and b"%d" % (17 * MIB) in body, body[:200])
t.check("declared 17 MiB with Expect: Connection: close",
        hdrs.get("connection", "").lower() == "close", hdrs)
t.check("declared 17 MiB with Expect: the connection ends, no body read",
        wait_for(lambda: closed(s), 10))
s.close()
s = connect(port)
s.sendall(head("Content-Length: %d\r\n" % (17 * MIB)))
st, _, body = answer(s, 10)
t.check("declared 17 MiB, headers only: 413 without the body", st == 413,
        "%s %s" % (st, body[:200]))
s.close()
t.check("declared lengths: an audit entry each", audits() == a1 + 2,
        "%d %d" % (audits(), a1))
t.check("declared lengths: nothing stored", stored() == before)

# ---- 3. past the limit, and never ending ----
# Four bodies past the limit go on, one as fast as HQ reads it, three
# trickled: past the limit they hold no batch slot, so a second laptop
# syncs meanwhile, before any of them is cut off (with --max-batches 3
# the trickled three would otherwise keep it out until the body
# deadline: it takes its turns, the first laptop's batches being under
# way too, but waits no more than half of that deadline, --retry-for);
# each is cut off at the body deadline, not before.
lap2 = hqtest.laptop(t, hq, "lap2", 100, seed=8, start=400)
cut = [None] * 4
past = threading.Barrier(5)


def endless(i):
    """A chunked body of 9 MiB, then more chunks (64 KiB ones at once for
    i == 0, one byte every 0.2 s for the others) until HQ closes the
    connection or 6 body deadlines have passed; cut[i] is set to the
    seconds it lasted when it was cut off."""
    s = connect(port, "127.0.0.%d" % (30 + i), timeout=5)
    t0 = time.monotonic()
    try:
        s.sendall(head("Transfer-Encoding: chunked\r\n"))
        for _ in range(9 * 16):
            s.sendall(PIECE)
        past.wait(30)
        while time.monotonic() - t0 < 6 * BODY_S:
            s.sendall(PIECE if i == 0 else b"1\r\nx\r\n")
            if i:
                time.sleep(0.2)
    except (OSError, threading.BrokenBarrierError):
        cut[i] = time.monotonic() - t0
        past.abort()  # cut off before the others were past the limit
    finally:
        s.close()


ths = [threading.Thread(target=endless, args=(i,)) for i in range(4)]
for th in ths:
    th.start()
try:
    past.wait(60)
except threading.BrokenBarrierError:
    pass


def slots():
    """"cut" once one of the four has been cut off, "free" when none
    holds a batch slot, else None."""
    if any(c is not None for c in cut):
        return "cut"
    return "free" if hq.counts()[0] == 0 else None


state = wait_for(slots, 10)
t.check("four bodies past the limit hold no batch slot, and go on",
        state == "free", (state, hq.counts(), cut))
rc, out = hqtest.sync(lap2, "--batch-records", "20", "--retry-for",
                      str(BODY_S // 2))
cut_then = list(cut)
t.check("a laptop syncs while they go on, no slot waited for", rc == 0,
        out[-400:])
t.check("... before any of them is cut off",
        all(c is None for c in cut_then), cut_then)
for th in ths:
    th.join()
t.check("an endless chunked body sent fast is cut off at the deadline",
        cut[0] is not None, cut)
t.check("endless chunked bodies trickled are cut off at the deadline",
        all(c is not None for c in cut[1:]), cut)
t.check("the body deadline is logged",
        wait_for(lambda: "limit reached: body deadline" in hq.log_text(),
                 10), hq.log_text()[-600:])
t.check("endless bodies: nothing stored", stored() == before)

# ---- the laptop, and HQ's memory ----
try:
    out, _ = laptop.communicate(timeout=300)
except subprocess.TimeoutExpired:
    laptop.kill()
    out, _ = laptop.communicate()
t.check("the laptop's sync went through", laptop.returncode == 0,
        out.decode()[-400:])
t.check("HQ holds the laptops' 500",
        hq.sql("SELECT count(*) FROM record_current") == "500")
t.check("/healthz after it all", hq.health()[0] == 200)
rss = rss_kib()
print("HQ peak RSS: %d KiB" % rss)
t.check("HQ's peak RSS under 256 MiB", 0 < rss < 256 * 1024, rss)
t.check("HQ stops cleanly", hq.stop() == 0)
p = hq.cmd("audit", "verify")
t.check("audit verify passes", p.returncode == 0, p.stderr)
t.finish()

# Shared by the Python e2e tests of HQ's availability (t08xx): a private
# gridbook-hq on a free loopback port with its store in a temp dir, grid
# files enrolled as devices, hostile sockets from chosen loopback source
# addresses, bounded waits, and the closing "N passed, N failed" line.
# The hostile clients speak HTTP on raw sockets; batches are built with
# hqclient.py (protoc and zlib), independent of the C wire code.
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import checks  # noqa: E402
import hqclient  # noqa: E402
import pglib  # noqa: E402

if "gridbook-hq" not in os.environ.get("PATH", "") and \
        os.path.isdir(os.path.join(TOP, "build")):
    os.environ["PATH"] = (os.path.join(TOP, "build") + os.pathsep +
                          os.environ["PATH"])
SEEDS = os.environ.get("GRIDBOOK_SEEDS", os.path.join(TOP, "seeds"))
GRID = "S01-G1"
for v in ("GRIDBOOK_DB", "GRIDBOOK_NOW", "GRIDBOOK_HQ_STORE"):
    os.environ.pop(v, None)


def on_pg():
    """Whether the test runs HQ on PostgreSQL (GRIDBOOK_TEST_STORE=pg)."""
    return os.environ.get("GRIDBOOK_TEST_STORE", "sqlite") == "pg"


def skip_on_pg(why):
    """On PostgreSQL, says that a part is skipped and why; returns whether
    it is skipped."""
    if on_pg():
        print("skipped on PostgreSQL: %s" % why)
    return on_pg()


def store_spec(cleanups, path):
    """The --store of a test's HQ: sqlite:path, or on PostgreSQL a fresh
    database (pglib.database), whose removal is appended to cleanups."""
    want = os.environ.get("GRIDBOOK_TEST_STORE", "sqlite")
    if want == "sqlite":
        return "sqlite:" + path
    if want != "pg":
        raise RuntimeError("GRIDBOOK_TEST_STORE=%s: not sqlite or pg" % want)
    return pglib.database(cleanups)


def query(spec, sql, *args):
    """The rows of sql (in SQLite's words, with ? for each of args) on the
    store spec, each a tuple; on PostgreSQL through psql and pglib.py's
    dialect."""
    if spec.startswith("sqlite:"):
        db = sqlite3.connect("file:%s?mode=ro" % spec[7:], uri=True,
                             timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()
    return pglib.query(spec, sql, args)


class Test:
    """Counts checks; cleans up every process and directory it made."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gridbook-e2e.")
        self.procs = []
        self.cleanups = []

    def check(self, what, cond, detail=""):
        return checks.check(what, cond, detail)

    def path(self, name):
        return os.path.join(self.dir, name)

    def finish(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for c in reversed(self.cleanups):
            try:
                c()
            except Exception as e:  # a cleanup must not hide the result
                print("cleanup: %s" % e, file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)
        sys.exit(checks.summary())


def wait_for(fn, timeout=20.0, step=0.05):
    """Calls fn until it returns something true or timeout seconds have
    passed; returns the last value."""
    end = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < end:
        time.sleep(step)
        v = fn()
    return v


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class HQ:
    """gridbook-hq serve on 127.0.0.1 with a store at store (a file), or
    on PostgreSQL a fresh database (store_spec)."""

    def __init__(self, t, store, args=()):
        self.t = t
        self.store = store
        self.spec = store_spec(t.cleanups, store)
        self.args = list(args)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = t.path("hq.log")
        self.proc = None

    def cmd(self, *args):
        return subprocess.run(["gridbook-hq", "--store", self.spec] +
                              list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def seed(self):
        return self.cmd("seed", SEEDS).returncode == 0

    def health(self):
        """(status, text) of /healthz, or (0, error)."""
        try:
            st, _, body = hqclient.http("GET", self.url + "/healthz",
                                        timeout=5)
            return st, body.decode("utf-8", "replace")
        except OSError as e:
            return 0, str(e)

    def counts(self):
        """(batches under way, batches held) from /healthz's headers."""
        try:
            st, h, _ = hqclient.http("GET", self.url + "/healthz", timeout=5)
            h = {k.lower(): v for k, v in h.items()}
            return (int(h.get("x-batches-under-way", -1)),
                    int(h.get("x-batches-held", -1)))
        except (OSError, ValueError):
            return -1, -1

    def start(self, wait_ok=True):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["gridbook-hq", "serve", "--store", self.spec,
             "--listen", "127.0.0.1:%d" % self.port] + self.args,
            stdout=logf, stderr=logf)
        logf.close()
        self.t.procs.append(self.proc)
        want = (lambda: self.health()[0] == 200) if wait_ok else \
            (lambda: self.health()[0] != 0)
        # Its own answer: a server that has exited (its port taken by a
        # run beside this one) is not taken for another one's.
        up = wait_for(lambda: self.proc.poll() is not None or want(), 20)
        if not up or self.proc.poll() is not None:
            raise RuntimeError("gridbook-hq did not start: " +
                               self.log_text()[-500:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def enroll(self, role):
        p = self.cmd("device", "enroll", "--grid", GRID, "--role", role)
        out = dict(line.split(": ", 1) for line in
                   p.stdout.decode().splitlines() if ": " in line)
        return out.get("device"), out.get("token")

    def sql(self, q):
        """The text of q on the store as the sqlite3 shell gives it (rows
        on lines, columns between |); "" when it fails."""
        if self.spec.startswith("sqlite:"):
            p = subprocess.run(["sqlite3", self.store, q],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            return p.stdout.decode().strip()
        try:
            return pglib.sql_at(self.spec, q).strip()
        except pglib.Error as e:
            print("sql: %s" % e, file=sys.stderr)
            return ""


def laptop(t, hq, name, rows, seed=1, start=0):
    """A grid file enrolled as a coordinator's device holding rows
    enterprises from bench/gen_csv.py.  Returns its path."""
    f = t.path(name + ".grid")
    subprocess.run(["gridbook", "--db", f, "init", "--grid", GRID,
                    "--staff", "K0001"], check=True,
                   stdout=subprocess.DEVNULL)
    p = hq.cmd("device", "enroll", "--grid", GRID, "--role", "coordinator")
    # setup reads the device id and the token from enroll's output.
    subprocess.run(["gridbook", "--db", f, "sync", "setup", "--server",
                    hq.url, "--token", "-"], input=p.stdout,
                   check=True, stdout=subprocess.DEVNULL)
    if rows:
        csv = t.path(name + ".csv")
        subprocess.run([sys.executable,
                        os.path.join(TOP, "bench", "gen_csv.py"),
                        "--grid", GRID, "--rows", str(rows),
                        "--seed", str(seed), "--start", str(start), csv],
                       check=True)
        subprocess.run(["gridbook", "--db", f, "import", "enterprise", csv],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return f


def sync(f, *args, timeout=120):
    """Runs gridbook sync on grid file f: (exit status, stdout+stderr)."""
    p = subprocess.run(["gridbook", "--db", f, "sync"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def grid_device(f):
    p = subprocess.run(["sqlite3", f, "SELECT value FROM meta WHERE key = "
                        "'device'"], stdout=subprocess.PIPE)
    return p.stdout.decode().strip()


def connect(port, src="127.0.0.1", timeout=10):
    """A TCP connection to HQ from loopback source address src (any of
    127.0.0.0/8 is this host), or None when HQ refused or closed it."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    return s


def post_head(token, length):
    return ("POST /v1/batches HTTP/1.1\r\nHost: hq\r\n"
            "Authorization: Bearer %s\r\n"
            "Content-Type: application/x-protobuf\r\n"
            "Content-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" %
            (token, length)).encode()


def turn_head(token, length):
    """post_head of a client that takes turns (Gridbook-Admission)."""
    return post_head(token, length).replace(
        b"\r\n\r\n", b"\r\nGridbook-Admission: turn\r\n\r\n", 1)


def batch_body(device, seq, after=0, n=1, ms=None, start=0):
    """A deflated Batch of n new enterprises of device, seq, after."""
    if ms is None:
        ms = int(time.time() * 1000)
    recs = []
    for i in range(n):
        rid = hqclient.uuid7(ms, start + i)
        # HQ refuses a second enterprise of the grid with a USCC it holds:
        # each device's records get codes of their own.
        serial = zlib.crc32(("%s/%d/%d" % (device, seq, start + i))
                            .encode()) % 10000000
        code = hqclient.uscc("91330782MA%07d" % serial)
        recs.append(hqclient.record(
            rid, GRID, device, "K0001", (ms << 16) + start + i, ms,
            'enterprise { uscc: "%s" name: "文昌街道顺达五金有限公司%d" '
            'type: COMPANY community: "S01-C02" '
            'address: "文昌街道新风路%d号" industry: "制造业" '
            'employees: 12 status: ACTIVE }' % (code, seq, start + i + 1)))
    text = hqclient.batch(device, GRID, seq, recs)
    if after:
        text += "after: %d\n" % after
    return zlib.compress(hqclient.encode("Batch", text))


def answer(s, timeout=10):
    """Reads an HTTP answer from s: (status, headers dict, body), status
    0 when the connection closed first or nothing came in time."""
    s.settimeout(timeout)
    data = b""
    end = time.monotonic() + timeout
    try:
        while b"\r\n\r\n" not in data and time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if b"\r\n\r\n" not in data:
        return 0, {}, b""
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    try:
        while len(body) < n and time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except OSError:
        pass
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        status = 0
    return status, hdrs, body


def closed(s, timeout=0.0):
    """True when the peer has closed s (EOF or reset) within timeout;
    what it sent before is read and dropped."""
    s.settimeout(timeout if timeout > 0 else 0.001)
    try:
        while True:
            if s.recv(65536) == b"":
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except OSError:
        return False

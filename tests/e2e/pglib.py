#!/usr/bin/env python3
# A throwaway PostgreSQL 15 for the tests of the PostgreSQL store: a
# cluster made with initdb in a fresh temp dir, served by pg_ctl on a free
# port of 127.0.0.1 with its unix socket inside that dir, one database,
# trust authentication for the one test user, and everything removed on
# stop.  PostgreSQL refuses to run as root, and CI runs as root, so then
# the cluster belongs to an unprivileged user (nobody) and initdb, pg_ctl
# and postgres run as that user.
#
# fsync is off: the cluster is thrown away after each test, and the tests
# of gridbook's own durability kill gridbook-hq, never PostgreSQL, so
# flushing its files to disk would only slow every test down.
#
# PGLIB_CONF adds settings of its own to postgresql.conf, separated by
# semicolons, after those above: the benchmarks give more memory.
#
# As a module:
#     with pglib.Postgres() as pg:
#         pg.url      postgresql://gridbook@127.0.0.1:PORT/gridbook
#         pg.psql("SELECT 1")
# The cluster is stopped and removed when the block ends, on an exception,
# and on SIGTERM, SIGINT or SIGHUP.
#
# As a command, for the shell tests:
#     pglib.py start DIR    prints the URL; DIR (which must exist) keeps
#                           what stop needs to find the cluster
#     pglib.py stop DIR     stops it (pg_ctl -m fast) and removes it
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

USER = "gridbook"     # the PostgreSQL role the tests connect as
DATABASE = "gridbook"
START_SECONDS = 60    # bound on the cluster coming up
STATE = "pglib.json"  # in the DIR of the command line


class Error(Exception):
    pass


def bindir():
    """The directory of initdb and pg_ctl: PGBIN, then PostgreSQL 15 of
    Debian, then any other version there, then PATH."""
    env = os.environ.get("PGBIN")
    cands = ([env] if env else []) + ["/usr/lib/postgresql/15/bin"] + \
        sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in cands:
        if os.access(os.path.join(d, "initdb"), os.X_OK) and \
                os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(found)
    raise Error("initdb and pg_ctl not found (install postgresql: "
                "make deps)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def owner():
    """The user the cluster runs as: this one, or nobody under root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam(os.environ.get("PGLIB_USER", "nobody"))


def as_owner(argv, who):
    """argv run as who (from owner()), or as is when who is None."""
    if who is None:
        return argv
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=%d" % who.pw_uid,
                "--regid=%d" % who.pw_gid, "--clear-groups", "--"] + argv
    return ["runuser", "-u", who.pw_name, "--"] + argv


def run(argv, who, cwd, timeout=120):
    """Runs argv as who; raises Error with its output when it fails."""
    p = subprocess.run(as_owner(argv, who), cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, env=dict(os.environ, LC_ALL="C"))
    if p.returncode != 0:
        raise Error("%s failed (%d): %s" % (os.path.basename(argv[0]),
                                           p.returncode,
                                           p.stdout.decode(errors="replace")
                                           [-2000:]))
    return p.stdout.decode(errors="replace")


class Postgres:
    """One throwaway cluster.  start() and stop() may also be called by
    hand; stop() is safe to call twice."""

    def __init__(self, top=None, port=None, dir=None):
        self.bin = bindir()
        self.who = owner()
        self.dir = dir      # the temp dir that holds everything
        self.port = port
        self.top = top
        self.url = None
        self._signals = {}

    # ---- the parts of the temp dir ----
    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def data(self):
        return self._path("data")

    @property
    def sockdir(self):
        return self._path("sock")

    def _make_url(self):
        self.url = "postgresql://%s@127.0.0.1:%d/%s" % (USER, self.port,
                                                       DATABASE)

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="gridbook-pg.", dir=self.top)
        try:
            if self.who:
                os.chown(self.dir, self.who.pw_uid, self.who.pw_gid)
            os.chmod(self.dir, 0o700)
            run(["mkdir", "-m", "0700", self.sockdir], self.who, self.dir)
            run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U",
                 USER, "-A", "trust", "-E", "UTF8", "--locale=C",
                 "--no-sync"], self.who, self.dir)
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                # Only the test user, only on this machine.
                f.write("local all %s trust\n" % USER)
                f.write("host all %s 127.0.0.1/32 trust\n" % USER)
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write("\n# pglib.py: a throwaway cluster for tests\n")
                f.write("listen_addresses = '127.0.0.1'\n")
                f.write("unix_socket_directories = '%s'\n" % self.sockdir)
                f.write("fsync = off\n")
                f.write("full_page_writes = off\n")
                f.write("synchronous_commit = off\n")
                f.write("max_connections = 100\n")
                f.write("shared_buffers = 32MB\n")
                f.write("log_min_messages = warning\n")
                # Settings of the caller's, after these so that they win
                # (the benchmarks: "shared_buffers = 1GB; fsync = on").
                for line in os.environ.get("PGLIB_CONF", "").split(";"):
                    if line.strip():
                        f.write(line.strip() + "\n")
            self._serve()
            self._make_url()
            self.psql("CREATE DATABASE %s" % DATABASE, db="postgres")
        except BaseException:
            self.stop()
            raise
        return self

    def _serve(self):
        """pg_ctl start on a free port; another port when the first one
        was taken in between."""
        last = None
        for _ in range(3):
            port = self.port or free_port()
            try:
                run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                     "-l", self._path("log"), "-w", "-t",
                     str(START_SECONDS), "-o", "-p %d" % port, "start"],
                    self.who, self.dir, timeout=START_SECONDS + 10)
            except Error as e:
                last = e
                if self.port:
                    break
                continue
            self.port = port
            self._wait_ready()
            return
        log = ""
        try:
            with open(self._path("log"), errors="replace") as f:
                log = f.read()[-2000:]
        except OSError:
            pass
        raise Error("postgres did not start: %s %s" % (last, log))

    def _wait_ready(self):
        ready = os.path.join(self.bin, "pg_isready")
        end = time.monotonic() + START_SECONDS
        while True:
            p = subprocess.run([ready, "-q", "-h", "127.0.0.1", "-p",
                                str(self.port), "-U", USER, "-d",
                                "postgres"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if p.returncode == 0:
                return
            if time.monotonic() > end:
                raise Error("postgres on port %d does not accept "
                            "connections after %d s" %
                            (self.port, START_SECONDS))
            time.sleep(0.05)

    def psql(self, sql, db=DATABASE, check=True, args=()):
        """Runs sql through psql (stops at the first error); returns its
        output, unaligned and tuples only."""
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", USER, "-d", db] +
                           list(args), input=sql.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        if check and p.returncode != 0:
            raise Error("psql: %s" % p.stderr.decode(errors="replace"))
        return p.stdout.decode()

    def stop(self):
        if not self.dir or not os.path.isdir(self.dir):
            return
        if os.path.exists(self._path("data", "postmaster.pid")):
            try:
                run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                     "-m", "fast", "-w", "-t", "30", "stop"], self.who,
                    self.dir, timeout=40)
            except (Error, subprocess.TimeoutExpired) as e:
                print("pglib: %s" % e, file=sys.stderr)
                self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def _kill(self):
        """SIGKILL of the postmaster, when pg_ctl could not stop it."""
        try:
            with open(self._path("data", "postmaster.pid")) as f:
                pid = int(f.readline())
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    # ---- the state of the command line ----
    def save(self, state_dir):
        with open(os.path.join(state_dir, STATE), "w") as f:
            json.dump({"dir": self.dir, "port": self.port, "url": self.url},
                      f)

    @classmethod
    def load(cls, state_dir):
        with open(os.path.join(state_dir, STATE)) as f:
            st = json.load(f)
        pg = cls(port=st["port"], dir=st["dir"])
        pg.url = st["url"]
        return pg

    # ---- as a context manager ----
    def _on_signal(self, signum, frame):
        raise SystemExit(128 + signum)

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                self._signals[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread
                pass
        try:
            return self.start()
        except BaseException:
            self._restore()
            raise

    def _restore(self):
        for sig, h in self._signals.items():
            signal.signal(sig, h)
        self._signals = {}

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self._restore()
        return False


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop", "url"):
        print("usage: pglib.py start|stop|url DIR", file=sys.stderr)
        return 2
    cmd, state_dir = argv[1], argv[2]
    try:
        if cmd == "start":
            pg = Postgres()
            pg.start()
            try:
                pg.save(state_dir)
            except OSError:
                pg.stop()
                raise
            print(pg.url)
        elif cmd == "url":
            print(Postgres.load(state_dir).url)
        else:
            try:
                pg = Postgres.load(state_dir)
            except FileNotFoundError:
                return 0  # nothing started
            pg.stop()
            os.unlink(os.path.join(state_dir, STATE))
    except (Error, OSError, subprocess.TimeoutExpired) as e:
        print("pglib: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

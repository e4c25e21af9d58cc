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
#     pglib.py newdb BASE   makes a fresh database with the test dialect
#                           (below) on the cluster at BASE (a URL without
#                           the database) and prints its URL
#     pglib.py copydb URL   copies the database at URL (to which nothing
#                           is connected) and prints the copy's URL
#     pglib.py dropdb URL   drops it again, closing its connections
#
# A run of many tests (tests/run-all) starts one cluster and gives each
# test a database of its own on it: its BASE is in GRIDBOOK_TEST_PG_CLUSTER,
# and database() below (pg_database in lib.sh) then makes a database there
# instead of starting a cluster.
#
# The test dialect: the e2e tests read HQ's store with the same queries on
# both stores, written in SQLite's words; a fresh database gets the few
# functions of SQLite they use (hex, instr, json_extract, total,
# group_concat), in the test's database only, never in gridbook's schema.
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


CLUSTER_ENV = "GRIDBOOK_TEST_PG_CLUSTER"

# SQLite's functions that the e2e tests' queries use, on PostgreSQL.
DIALECT = r"""
CREATE FUNCTION hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT
    AS $$SELECT upper(encode($1, 'hex'))$$;
CREATE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql
    IMMUTABLE STRICT
    AS $$SELECT $1::jsonb #>> string_to_array(substr($2, 3), '.')$$;
CREATE FUNCTION total_step(double precision, bigint)
    RETURNS double precision LANGUAGE sql IMMUTABLE
    AS $$SELECT $1 + coalesce($2, 0)$$;
CREATE AGGREGATE total(bigint) (SFUNC = total_step,
    STYPE = double precision, INITCOND = '0');
CREATE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE
    STRICT AS $$SELECT strpos($1, $2)$$;
CREATE FUNCTION group_concat_step(text, anyelement) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2::text
        ELSE $1 || ',' || $2::text END$$;
CREATE AGGREGATE group_concat(anyelement) (SFUNC = group_concat_step,
    STYPE = text);
"""


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


def sql_at(url, sql):
    """Runs sql through psql on the database at url; returns its output,
    unaligned and tuples only, or raises Error."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                        "ON_ERROR_STOP=1", "-d", url], input=sql.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    if p.returncode != 0:
        raise Error("psql: %s" % p.stderr.decode(errors="replace"))
    return p.stdout.decode()


NULL = "\x1e"  # what query() has psql print for NULL
SEP = "\x1f"   # and between columns


def literal(v):
    """v (None, int or str) as an SQL literal."""
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def query(url, sql, args=()):
    """The rows of sql on the database at url, each a tuple: each ? of sql
    is the next of args as a literal, NULL is None and a whole number an
    int (as sqlite3 of Python gives them)."""
    parts = sql.split("?")
    if len(parts) != len(args) + 1:
        raise Error("%d arguments for %d ? in %s" % (len(args),
                                                     len(parts) - 1, sql))
    text = parts[0] + "".join(literal(a) + p
                              for a, p in zip(args, parts[1:]))
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                        "ON_ERROR_STOP=1", "-F", SEP, "-P", "null=" + NULL,
                        "-d", url, "-c", text],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    if p.returncode != 0:
        raise Error("psql: %s" % p.stderr.decode(errors="replace"))

    def value(f):
        if f == NULL:
            return None
        try:
            return int(f)
        except ValueError:
            return f
    return [tuple(value(f) for f in line.split(SEP))
            for line in p.stdout.decode().split("\n") if line != ""]


def newdb(base):
    """A fresh database with the test dialect on the cluster at base (a
    URL without the database); returns its URL."""
    name = "t%d_%s" % (os.getpid(), os.urandom(4).hex())
    sql_at(base + "/postgres", "CREATE DATABASE %s" % name)
    url = base + "/" + name
    try:
        sql_at(url, DIALECT)
    except Error:
        dropdb(url)
        raise
    return url


def copydb(url):
    """A copy of the database at url (nothing may be connected to it) on
    the same cluster; returns its URL."""
    base, name = url.rsplit("/", 1)
    copy = "%s_%s" % (name, os.urandom(3).hex())
    sql_at(base + "/postgres",
           "CREATE DATABASE %s TEMPLATE %s" % (copy, name))
    return base + "/" + copy


def dropdb(url):
    """Drops the database at url (made by newdb), closing what is still
    connected to it."""
    base, name = url.rsplit("/", 1)
    sql_at(base + "/postgres",
           "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def database(cleanups):
    """The URL of a fresh database with the test dialect: on the cluster
    of the run when there is one (GRIDBOOK_TEST_PG_CLUSTER), else on a
    cluster of its own.  What removes it again is appended to cleanups
    (a list of functions of no argument)."""
    base = os.environ.get(CLUSTER_ENV)
    if base:
        url = newdb(base)
        cleanups.append(lambda: dropdb(url))
        return url
    pg = Postgres()
    pg.start()
    cleanups.append(pg.stop)
    try:
        url = newdb(pg.url.rsplit("/", 1)[0])
    except Error:
        pg.stop()
        raise
    return url


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop", "url", "newdb",
                                         "copydb", "dropdb"):
        print("usage: pglib.py start|stop|url DIR, newdb BASE or "
              "copydb|dropdb URL", file=sys.stderr)
        return 2
    cmd, state_dir = argv[1], argv[2]
    try:
        if cmd == "newdb":
            print(newdb(state_dir))
        elif cmd == "copydb":
            print(copydb(state_dir))
        elif cmd == "dropdb":
            dropdb(state_dir)
        elif cmd == "start":
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

#!/usr/bin/env python3
# The interactive prompt of `gridbook KIND add`, driven through a
# pseudo-terminal as a person would: required fields that are missing are
# asked for, defaults are taken with Enter, an invalid answer is refused
# with its message and asked again (also when a rule between two fields
# breaks), and Ctrl-C or the end of input at any question leaves nothing
# written.
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import checks  # noqa: E402
from checks import check  # noqa: E402
if not shutil.which("gridbook"):
    os.environ["PATH"] = (os.path.join(TOP, "build") + os.pathsep
                          + os.environ["PATH"])
os.environ.setdefault("GRIDBOOK_SEEDS", os.path.join(TOP, "seeds"))
os.environ["GRIDBOOK_NOW"] = "2026-03-12 10:00"
os.environ.pop("GRIDBOOK_TZ", None)



def gb(*args, stdin=subprocess.DEVNULL):
    p = subprocess.run(["gridbook"] + list(args), stdin=stdin,
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


class Session:
    """gridbook running on a pseudo-terminal, read with timeouts."""

    def __init__(self, args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvp("gridbook", ["gridbook"] + args)
            finally:
                os._exit(127)
        self.buf = ""
        self.pos = 0

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            return None
        if not data:
            return None
        self.buf += data.decode("utf-8", "replace")
        return True

    def expect(self, pattern, timeout=10):
        """Waits for pattern after what was already matched; returns the
        text up to and including the match, or None."""
        end = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                seen = self.buf[self.pos:m.end()]
                self.pos = m.end()
                return seen
            left = end - time.time()
            if left <= 0 or self.read_some(left) is None:
                return None

    def send(self, text):
        os.write(self.fd, text.encode("utf-8"))

    def finish(self, timeout=10):
        """Reads to the end; returns the exit status."""
        end = time.time() + timeout
        while time.time() < end and self.read_some(end - time.time()):
            pass
        for _ in range(100):
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(st)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        return -1


def count(kind):
    rc, out, _ = gb(kind, "list", "--all", "--format", "csv")
    return len(out.splitlines()) - 1 if rc == 0 else -1


def main():
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(checks.summary())


def run(tmp):
    os.environ["GRIDBOOK_DB"] = os.path.join(tmp, "grid.db")
    rc, _, err = gb("init", "--grid", "S01-G1", "--staff", "K0001")
    check("init", rc == 0, err)
    rc, ent, err = gb("enterprise", "add", "--uscc", "91110105MA01ABCD13",
                      "--name", "望川精密机械有限公司", "--community",
                      "S01-C01", "--employees", "40")
    check("enterprise add", rc == 0, err)

    # A complete entry with one bad answer and one broken rule.
    s = Session(["contract_check", "add", "--findings", "两人未签合同"])
    check("asks enterprise", s.expect(r"enterprise \(enterprise\): "))
    s.send("望川\r")
    got = s.expect(r"check_date\) \[2026-03-12\]: ")
    check("shows today as default", got is not None, s.buf[-300:])
    s.send("\r")
    got = s.expect(r"coordinator\) \[[^\]]*K0001\)\]: ")
    check("shows me as default", got is not None, s.buf[-300:])
    s.send("\r")
    check("asks employees_total", s.expect(r"employees_total\): "))
    s.send("四十\r")
    got = s.expect(r"employees_total\): ")
    check("re-asks after a bad number", got is not None
          and "not a whole number" in got, s.buf[-300:])
    s.send("40\r")
    check("asks contracts_signed", s.expect(r"contracts_signed\): "))
    s.send("45\r")
    check("asks insured", s.expect(r"insured\): "))
    s.send("30\r")
    check("asks hiring_registered", s.expect(r"hiring_registered\): "))
    s.send("40\r")
    got = s.expect(r"outcome\) \[compliant\]: ")
    check("lists outcome choices", got is not None
          and "2) notice" in got and "3) rectify_order" in got, s.buf[-300:])
    s.send("2\r")
    got = s.expect(r"deadline\): ")
    check("a notice asks its deadline, saying why", got is not None
          and "overdue or rectified on time" in got, s.buf[-300:])
    s.send("2026/3/26\r")
    got = s.expect(r"contracts_signed\) \[45\]: ")
    check("re-asks a field that breaks a rule", got is not None
          and "exceeds employees_total" in got, s.buf[-400:])
    s.send("38\r")
    got = s.expect(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-"
                   r"[0-9a-f]{12}")
    check("prints the new id", got is not None, s.buf[-300:])
    check("exit 0", s.finish() == 0)
    rc, out, err = gb("contract_check", "list", "--format", "csv")
    rows = out.splitlines()
    check("record stored", rc == 0 and len(rows) == 2, out + err)
    if len(rows) == 2:
        check("answers stored", ",40,38,30,40," in rows[1]
              and ",notice,2026-03-26" in rows[1] and "两人未签合同" in rows[1]
              and ent.strip() in rows[1] and "K0001" in rows[1], rows[1])

    # Ctrl-C in the middle: nothing written.
    before = count("contract_check")
    s = Session(["contract_check", "add"])
    check("asks enterprise again", s.expect(r"enterprise \(enterprise\): "))
    s.send("望川\r")
    s.expect(r"check_date\)[^:]*: ")
    s.send("\r")
    s.expect(r"coordinator\)[^:]*: ")
    s.send("\r")
    check("asks employees_total again", s.expect(r"employees_total\): "))
    s.send("\x03")
    got = s.expect(r"cancelled, nothing saved")
    check("says cancelled", got is not None, s.buf[-300:])
    check("ctrl-c exits 1", s.finish() == 1)
    check("nothing written after ctrl-c", count("contract_check") == before)

    # End of input (Ctrl-D) at a question: the same.
    s = Session(["dispute", "add", "--workers", "2"])
    check("asks the dispute's enterprise, optional",
          s.expect(r"\(enterprise\): "))
    s.send("\r")
    got = s.expect(r"category\): ")
    check("asks dispute category", got is not None
          and "1) wages" in got, s.buf[-300:])
    s.send("\x04")
    check("eof says cancelled", s.expect(r"cancelled, nothing saved"))
    check("eof exits 1", s.finish() == 1)
    check("nothing written after eof", count("dispute") == 0)

    # A reference given as the start of a name that fits two people is
    # asked again with the candidates.  A handover is entered on an
    # officer's laptop: a grid file whose staff is the area's chief.
    os.environ["GRIDBOOK_DB"] = os.path.join(tmp, "police.db")
    rc, _, err = gb("init", "--grid", "S01-G1", "--staff", "J0004")
    check("init a chief's file", rc == 0, err)
    s = Session(["handover", "add", "--area", "PA-02", "--from-officer",
                 "J0004", "--open-items", "交接一件待办"])
    check("asks handover time", s.expect(r"\(time\) \[2026-03-12 10:00\]: "))
    s.send("\r")
    check("asks to_officer", s.expect(r"to_officer\): "))
    s.send("丁\r")
    got = s.expect(r"to_officer\): ")
    check("ambiguous name re-asked", got is not None
          and ("丁涛" in got or "J0005" in got), s.buf[-400:])
    s.send("丁涛\r")
    check("handover id", s.expect(r"[0-9a-f]{8}-[0-9a-f]{4}-7"))
    check("handover exit 0", s.finish() == 0)
    rc, out, _ = gb("handover", "list", "--format", "csv")
    check("handover stored", "J0005" in out and "交接一件待办" in out, out)


if __name__ == "__main__":
    main()

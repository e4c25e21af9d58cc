#!/usr/bin/env python3
# The prompt asks what a record needs to count in HQ's reports, and warns
# before saving one that cannot: a night patrol entered through a
# pseudo-terminal, answered in Chinese, is asked its guards; with one
# guard it is warned about and, answered no, not saved; Ctrl-C at that
# question saves nothing; answered yes (是) it is saved; with two guards
# nothing is asked.  On the command line the warning is printed and the
# record saved, so scripts go on.  The pty session comes from t0120.
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "prompt_lib", os.path.join(HERE, "t0120-prompt.py"))
lib = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lib)
Session, check, gb, count = lib.Session, lib.check, lib.gb, lib.count


def patrol(guards_answer, confirm):
    """A night patrol with leader and guards asked; returns the session
    after the answers, the warning text and whether it was asked."""
    s = Session(["patrol", "add", "--start", "昨天 22:10", "--end",
                 "今天 00:40"])
    check("asks the area", s.expect(r"\(area\): "))
    s.send("东风\r")
    got = s.expect(r"\(leader\) \[[^\]]*J0001\)\]: ")
    check("leader defaults to me", got is not None, s.buf[-300:])
    s.send("\r")
    got = s.expect(r"\(guards\): ")
    check("asks the guards, saying why", got is not None
          and "two or more guards" in got, s.buf[-300:])
    s.send(guards_answer + "\r")
    s.expect(r"\(mode\) \[foot\]: ")
    s.send("\r")
    s.expect(r"\(incidents\) \[0\]: ")
    s.send("\r")
    if confirm is None:
        return s, None
    got = s.expect(r"save it anyway\? \[y/N\]: ")
    check("warns before saving", got is not None
          and "does not count in HQ's night-patrol report" in got,
          s.buf[-400:])
    s.send(confirm)
    return s, got


def run(tmp):
    os.environ["GRIDBOOK_DB"] = os.path.join(tmp, "police.db")
    rc, _, err = gb("init", "--grid", "S01-G1", "--staff", "J0001")
    check("init", rc == 0, err)

    s, _ = patrol("于慧敏", "n\r")
    check("no: not saved", s.expect(r"not saved"))
    check("no: exit 1", s.finish() == 1)
    check("no: nothing written", count("patrol") == 0)

    s, _ = patrol("于慧敏", "\x03")
    check("ctrl-c at the question: cancelled",
          s.expect(r"cancelled, nothing saved"))
    check("ctrl-c: exit 1", s.finish() == 1)
    check("ctrl-c: nothing written", count("patrol") == 0)

    s, _ = patrol("于慧敏", "是\r")
    check("是: saved", s.expect(r"[0-9a-f]{8}-[0-9a-f]{4}-7"))
    check("是: exit 0", s.finish() == 0)
    check("是: one patrol", count("patrol") == 1)

    s, _ = patrol("于慧敏，高慧", None)
    check("two guards: saved without a question",
          s.expect(r"[0-9a-f]{8}-[0-9a-f]{4}-7"))
    check("two guards: no warning", "save it anyway" not in s.buf, s.buf)
    check("two guards: exit 0", s.finish() == 0)
    rc, out, _ = gb("patrol", "list", "--format", "csv")
    check("the guards stored as codes", "B0001,B0002" in out, out)

    # A day patrol needs no guards to count: no warning.
    rc, _, err = gb("patrol", "add", "--area", "PA-01", "--start",
                    "今天 09:00", "--end", "今天 10:00")
    check("day patrol saved", rc == 0, err)
    check("day patrol: no warning", "warning" not in err, err)
    # On the command line a night patrol with no guards is saved, warned.
    rc, out, err = gb("patrol", "add", "--area", "PA-01", "--start",
                      "昨天 23:00", "--end", "今天 01:00")
    check("script: saved", rc == 0 and out.strip(), err)
    check("script: warned", "warning: guards: a night patrol with 0 guards"
          in err, err)


def main():
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(lib.checks.summary())


if __name__ == "__main__":
    main()

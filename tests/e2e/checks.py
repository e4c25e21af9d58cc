# The counting every Python e2e test does, in one place: check() counts a
# condition and says what failed, run() runs a program with its output
# captured, and summary() prints the closing "N passed, N failed" line
# that tests/run-all sums and gives the exit status.  hqtest.Test counts
# through it too.
import subprocess
import sys

passed = 0
failed = 0


def check(what, cond, detail=""):
    """Counts cond; on failure prints what and up to 600 characters of
    detail to stderr.  Returns cond, so that a test can stop early."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (what, str(detail)[:600]), file=sys.stderr)
    return cond


def run(*args, **kw):
    """Runs args with stdout and stderr captured (bytes); never raises on
    a non-zero exit: the caller checks returncode."""
    return subprocess.run(list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, **kw)


def summary():
    """Prints the closing line; returns the exit status (1 on a failure)."""
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0

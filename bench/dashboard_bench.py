#!/usr/bin/env python3
# The dashboard benchmark (BENCHMARKS.md, "Dashboard"): how soon GET /
# paints and how soon every report is drawn, in Debian's headless
# Chromium over loopback, against an existing HQ store.
#
#   bench/dashboard_bench.py STORE FROM TO [RUNS]
#       STORE      an HQ SQLite store (build/demo/hq.db from make demo, or
#                  one kept by KEEP=1 bench/report_bench.sh)
#       FROM, TO   the period the page is asked for (custom period)
#       RUNS       page loads, each in a fresh tab with nothing cached
#                  (default 7)
#
# It starts its own gridbook-hq on the store (binaries from build/ or
# PATH), enrolls a viewer device, and for each run opens the page, signs
# in and waits until every report and the sync panel are drawn.  First
# paint is Chromium's first-contentful-paint of the page; "all reports" is
# from the start of navigation to the last report drawn after signing in
# with the token already typed (sign-in happens at once on load, from the
# tab's sessionStorage).  Before each run a one-line page is opened the
# same way, as the same-run baseline of what a fresh tab costs.  Prints
# each run and the median, min and max.
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import cdp  # noqa: E402

if not shutil.which("gridbook-hq"):
    os.environ["PATH"] = os.path.join(TOP, "build") + os.pathsep + \
        os.environ["PATH"]


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: dashboard_bench.py STORE FROM TO [RUNS]")
    store, frm, to = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    hq = ["gridbook-hq", "--store", "sqlite:" + store]
    out = subprocess.run(hq + ["device", "enroll", "--grid", "S01-G1",
                               "--role", "viewer", "--name", "看板基准"],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    token = re.search(r"token: (\S+)", out).group(1)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = "http://127.0.0.1:%d" % port
    srv = subprocess.Popen(hq + ["serve", "--listen", "127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    b = None
    try:
        end = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        b = cdp.Browser()
        paints, alls, bases = [], [], []
        for i in range(runs + 1):
            # The same-run baseline: a one-line page in a fresh tab, which
            # is what opening a tab in this browser costs before any page.
            p = b.page(1366, 900)
            p.call("Page.navigate", url="data:text/html;charset=utf-8,"
                   "<p>gridbook</p>")
            base = p.wait("(performance.getEntriesByName("
                          "'first-contentful-paint')[0] || {}).startTime",
                          "the baseline page", 30)
            p.call("Page.close")
            p = b.page(1366, 900)
            p.call("Network.enable")
            p.call("Network.setCacheDisabled", cacheDisabled=True)
            # Signed in already (the tab's sessionStorage), custom period.
            p.call("Page.addScriptToEvaluateOnNewDocument", source=(
                "sessionStorage.setItem('gridbook.token', %s);"
                "sessionStorage.setItem('gridbook.period', 'custom');"
                "sessionStorage.setItem('gridbook.from', %s);"
                "sessionStorage.setItem('gridbook.to', %s);" %
                (json.dumps(token), json.dumps(frm), json.dumps(to))))
            p.call("Page.navigate", url=url + "/")
            p.wait("document.body && document.body.dataset.state === "
                   "'ready'", "the reports", 120)
            t = json.loads(p.eval(
                "JSON.stringify({fcp: (performance.getEntriesByName("
                "'first-contentful-paint')[0] || {}).startTime,"
                " done: window.gbTimes.done,"
                " errors: document.querySelectorAll('.error').length})"))
            if t["errors"]:
                raise SystemExit("the page shows %d errors" % t["errors"])
            p.call("Page.close")
            if i == 0:
                continue  # warms the store's page cache; not counted
            paints.append(t["fcp"])
            alls.append(t["done"])
            bases.append(base)
            print("run %d: first paint %.0f ms, all reports %.0f ms "
                  "(one-line page: first paint %.0f ms)" %
                  (i, t["fcp"], t["done"], base))
        for what, v in (("first paint", paints), ("all reports", alls),
                        ("one-line page, first paint", bases)):
            print("%s: median %.0f ms, min %.0f, max %.0f (%d runs)" %
                  (what, statistics.median(v), min(v), max(v), len(v)))
    finally:
        if b:
            b.close()
        srv.terminate()
        srv.wait()


main()

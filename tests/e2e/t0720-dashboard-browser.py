#!/usr/bin/env python3
# The dashboard (GET /) in Debian's headless Chromium, against a district
# whose laptops were filled by gridbook-gen and synced over HTTP, two of
# them left unsynced.  A bad token and a coordinator's token each give one
# sign-in error; with a viewer token every figure, chart bar and list the
# page draws equals the report's JSON text (fetched here independently,
# numbers kept as the text the server wrote: 100.00 stays 100.00), bars
# are as long as their figures and coloured by the target, incomplete
# grids are greyed and named, each report offers only its levels, a
# drill-down opens with one click, the CSV downloads equal what is shown,
# the page switches to English and back, and the print layout fits A4
# landscape.  Screenshots (overview, one report, print, the sign-in
# error, the overview in English) go to build/dashboard/ for review.
import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, HERE)
import checks  # noqa: E402
from checks import check  # noqa: E402
import cdp  # noqa: E402

os.environ.setdefault("GRIDBOOK_SEEDS", os.path.join(TOP, "seeds"))
if not shutil.which("gridbook-hq"):
    os.environ["PATH"] = os.path.join(TOP, "build") + os.pathsep + \
        os.environ["PATH"]
BUILD = os.path.dirname(os.path.realpath(shutil.which("gridbook-hq")))
GEN = os.path.join(BUILD, "bench", "gridbook-gen")
NOW = "2026-03-01 10:00"  # the page's period: last month, 02-01..02-28
FROM, TO = "2026-02-01", "2026-02-28"
UNSYNCED = {"S03-G4-police", "S06-G4-labour", "S06-G4-police"}
ENV = dict(os.environ, GRIDBOOK_NOW=NOW, GRIDBOOK_TZ="Asia/Shanghai")
ENV.pop("GRIDBOOK_DB", None)



def same(what, got, want):
    return check(what, got == want, "got %r wanted %r" % (got, want))


def run(*args, **kw):
    r = subprocess.run(list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (args[:3], r.returncode,
                                                r.stderr.decode()[-600:]))
    return r.stdout.decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Raw(str):
    """A JSON number, as the text the server wrote."""


def report(url, token, name, level, lang=None):
    q = "%s/v1/reports/%s?level=%s&from=%s&to=%s" % (url, name, level,
                                                     FROM, TO)
    if lang:
        q += "&lang=" + lang
    req = urllib.request.Request(q, headers={
        "Authorization": "Bearer " + token, "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode()
    return json.loads(text, parse_float=Raw, parse_int=Raw)


# The targets of SPEC §3 the bars are coloured by: key, which way, goal.
GOALS = {
    "contract-rate": ("rate_pct", "up", 100), "check-coverage":
    ("coverage_pct", "up", 100), "rectification": ("overdue", "zero", 0),
    "disputes": ("closed_low_pct", "up", 100),
    "staffing": ("per_officer", "down", 3000),
    "night-patrol": ("share_pct", "up", 100),
    "reception": ("avg_hours", "up", 5),
    "requests": ("on_time_pct", "up", 100),
    "daily-reports": ("share_pct", "up", 100),
    "patrol-teams": ("share_pct", "up", 100),
    "sync-health": ("not_synced", "zero", 0),
}
PREV = {"contract-rate": "prev_rate_pct"}
# The coded values the page shows in Chinese.
ZH_VALUES = {"coordinator": "协调员", "officer": "民警", "viewer": "查看",
             "active": "在用", "revoked": "已吊销", "alarm": "报警",
             "help": "求助", "inquiry": "咨询", "urgent": "紧急",
             "normal": "一般", "low": "低"}
CJK = re.compile("[\u3400-\u9fff]")


# The reasons staffing gives, in Chinese (until HQ writes them so).
ZH_WHY = [(r"^more than (\d+) residents per officer$", r"每名民警对应居民超过 \1 人"),
          (r"^officers: (\d+), not 3-4$", r"民警 \1 名,应为 3–4 名"),
          (r"^guards: (\d+), not 2-3$", r"保安 \1 名,应为 2–3 名")]
zh_why_seen = 0
zh_from_hq = 0  # reasons HQ wrote in Chinese itself (?lang=zh_CN)


def zh_why(s):
    global zh_why_seen, zh_from_hq
    if CJK.search(s) and ("民警" in s or "保安" in s):
        zh_from_hq += 1
        return s
    out = []
    for part in s.split("; "):
        for pat, rep in ZH_WHY:
            if re.match(pat, part):
                out.append(re.sub(pat, rep, part))
                break
        else:
            return s
    zh_why_seen += 1
    return ";".join(out)


def shown(v, lang):
    if v is None:
        return "-"
    if isinstance(v, Raw):
        return str(v)
    if v is True or v is False:
        return "✓" if v else "✗"
    if lang != "zh":
        return v
    return ZH_VALUES[v] if v in ZH_VALUES else zh_why(v)


def incomplete_codes(j):
    c = j["completeness"]
    if "incomplete" in c:
        return [x["code"] for x in c["incomplete"]]
    return list(c["not_synced"])


def row_incomplete(j, row):
    if row.get("complete") in (True, False):
        return not row["complete"]
    u = row["unit"]
    codes = incomplete_codes(j)
    if j["level"] == "grid":
        return u in codes
    return j["level"] == "street" and any(g.startswith(u + "-")
                                          for g in codes)


DOM = r"""(function () {
  function tbl(t) {
    var rows = Array.prototype.slice.call(t.rows);
    return {keys: Array.prototype.map.call(rows[0].cells, function (x) { return x.dataset.key; }),
            heads: Array.prototype.map.call(rows[0].cells, function (x) { return x.textContent; }),
            rows: rows.slice(1).map(function (tr) {
              return {unit: tr.dataset.unit || null, cls: tr.className,
                      cells: Array.prototype.map.call(tr.cells, function (x) { return x.textContent; })};
            })};
  }
  function all(root, sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); }
  var out = {tiles: {}, cards: {}, lang: document.documentElement.lang,
             errors: all(document, ".error, .banner").filter(function (e) {
               return !e.hidden && e.offsetParent !== null; }).map(function (e) { return e.textContent; }),
             chips: all(document, "#sync .chip").map(function (c) { return c.dataset.grid; })};
  all(document, ".kpis .kpi").forEach(function (k) {
    var f = k.querySelector(".fig .v");
    out.tiles[k.dataset.report] = f ? f.textContent : null;
  });
  all(document, "section.card").forEach(function (sec) {
    var svg = sec.querySelector("svg.chart"), cp = sec.querySelector(".complete");
    var mt = sec.querySelector("table[data-list=rows]"), k = sec.querySelector(".body .kpi .fig .v");
    var c = {level: sec.dataset.level || null, title: sec.querySelector("h2").textContent,
      main: mt ? tbl(mt) : null, kpi: k ? k.textContent : null,
      max: svg ? +svg.dataset.max : null, plot: svg ? +svg.dataset.plot : null,
      bars: all(sec, "svg.chart rect.bar").map(function (r) {
        return {unit: r.dataset.unit, value: r.dataset.value, width: +r.getAttribute("width"),
                cls: r.getAttribute("class")}; }),
      vals: all(sec, "svg.chart text.val").map(function (x) { return [x.dataset.unit, x.textContent]; }),
      nodata: all(sec, "svg.chart text.nodata").map(function (x) { return x.dataset.unit; }),
      lists: {}, buttons: all(sec, ".drill button").map(function (b) { return b.dataset.list; }),
      levels: all(sec, ".levels button").map(function (b) { return b.dataset.level; }),
      complete: cp ? cp.textContent : null,
      incomplete: cp ? all(cp, ".grid").map(function (x) { return x.dataset.code; }) : [],
      errors: sec.querySelectorAll(".error").length};
    all(sec, "div.list").forEach(function (l) {
      c.lists[l.dataset.list] = {hidden: l.hidden, table: tbl(l.querySelector("table"))};
    });
    out.cards[sec.dataset.report] = c;
  });
  return JSON.stringify(out);
})()"""

exact_trailing = 0


def compare_card(name, j, c, lang, levels):
    """Every figure, bar and list of one report's card against j."""
    global exact_trailing
    w = "%s (%s, %s)" % (name, j["level"], lang)
    same(w + ": level", c["level"], j["level"])
    same(w + ": levels offered", "|".join(c["levels"]), levels)
    same(w + ": no error", c["errors"], 0)
    keys = [col["key"] for col in j["columns"]]
    m = c["main"]
    if not check(w + ": a table", m is not None):
        return
    same(w + ": columns", m["keys"], keys)
    if lang == "zh":
        check(w + ": headers in Chinese",
              all(CJK.search(h) for h in m["heads"]), m["heads"])
    else:
        check(w + ": headers in English",
              not any(CJK.search(h) for h in m["heads"]), m["heads"])
    rows = j["rows"] + [j["total"]]
    same(w + ": rows", len(m["rows"]), len(rows))
    for i, (r, d) in enumerate(zip(rows, m["rows"])):
        want = [shown(r[k], lang) for k in keys]
        if i == len(rows) - 1:
            want[0] = "合计" if lang == "zh" else "total"
        same(w + ": row %s" % r["unit"], d["cells"], want)
        for k in keys:
            if isinstance(r[k], Raw) and re.search(r"\.\d*0$", r[k]):
                exact_trailing += 1
        if i < len(rows) - 1:
            same(w + ": %s greyed" % r["unit"], "incomplete" in d["cls"],
                 row_incomplete(j, r))
    key, way, goal = GOALS[name]
    vals = [r[key] for r in j["rows"]]
    prev = [r[PREV[name]] for r in j["rows"]] if name in PREV else []
    mx = 0 if way == "zero" else goal
    for v in vals + prev:
        if v is not None and float(v) > mx:
            mx = float(v)
    mx = mx or 1
    same(w + ": chart scale", c["max"], mx)
    bars = {b["unit"]: b for b in c["bars"]}
    texts = dict(c["vals"])
    for r in j["rows"]:
        v = r[key]
        if v is None:
            check(w + ": %s drawn as no data" % r["unit"],
                  r["unit"] in c["nodata"] and r["unit"] not in bars)
            continue
        b = bars.get(r["unit"])
        if not check(w + ": a bar for %s" % r["unit"], b is not None):
            continue
        same(w + ": bar %s" % r["unit"], b["value"], str(v))
        same(w + ": bar label %s" % r["unit"], texts.get(r["unit"]), str(v))
        check(w + ": bar %s length" % r["unit"],
              abs(b["width"] - float(v) / mx * c["plot"]) < 0.01,
              (b["width"], v, mx))
        meets = (float(v) >= goal if way == "up" else
                 float(v) <= goal if way == "down" else float(v) == 0)
        same(w + ": bar %s coloured as meeting the target" % r["unit"],
             "g-ok" in b["cls"], meets)
        same(w + ": bar %s greyed" % r["unit"], "incomplete" in b["cls"],
             row_incomplete(j, r))
    same(w + ": bars", len(c["bars"]) + len(c["nodata"]), len(j["rows"]))
    same(w + ": district figure", c["kpi"], shown(j["total"][key], lang))
    same(w + ": lists", sorted(c["lists"]), sorted(j["details"]))
    same(w + ": list buttons", c["buttons"], list(j["details"]))
    for k, lrows in j["details"].items():
        t = c["lists"].get(k)
        if not t:
            continue
        t = t["table"]
        lkeys = list(lrows[0]) if lrows else []
        same(w + ": list %s columns" % k, t["keys"], lkeys)
        same(w + ": list %s rows" % k, [x["cells"] for x in t["rows"]],
             [[shown(r[x], lang) for x in lkeys] for r in lrows])
        if lang == "zh" and lrows:
            check(w + ": list %s headers in Chinese" % k,
                  all(CJK.search(h) for h in t["heads"]), t["heads"])
    cj = j["completeness"]
    done_n = cj.get("complete", cj.get("synced"))
    has = "%s / %s" % (done_n, cj["grids"])
    check(w + ": completeness", c["complete"] and has in c["complete"],
          (c["complete"], has))
    same(w + ": incomplete grids named", c["incomplete"], incomplete_codes(j))


def compare_all(p, url, token, lang, reports):
    d = json.loads(p.eval(DOM))
    same("page language", d["lang"], "zh-CN" if lang == "zh" else "en")
    same("no error on the page (%s)" % lang, d["errors"], [])
    same("a card per report (%s)" % lang, sorted(d["cards"]),
         sorted(r["name"] for r in reports))
    for r in reports:
        c = d["cards"].get(r["name"])
        if not c or not c["level"]:
            check("%s drawn" % r["name"], False)
            continue
        # What the page asked for: the report in the page's language.
        j = report(url, token, r["name"], c["level"],
                   "zh_CN" if lang == "zh" else "en")
        compare_card(r["name"], j, c, lang, r["levels"])
        key = GOALS[r["name"]][0]
        same("%s overview figure (%s)" % (r["name"], lang),
             d["tiles"].get(r["name"]), shown(j["total"][key], lang))
        if lang == "zh":
            check("%s title in Chinese" % r["name"], CJK.search(c["title"]),
                  c["title"])
        else:
            check("%s title in English" % r["name"],
                  not CJK.search(c["title"]), c["title"])
    sh = report(url, token, "sync-health", "grid")
    same("the sync panel names the grids not heard from (%s)" % lang,
         sorted(d["chips"]),
         sorted(set(g["grid"] for g in sh["details"]["not_synced"]) |
                set(incomplete_codes(sh))))
    return d


def submit(p, token):
    p.eval("document.getElementById('token').value = %s;"
           "document.querySelector('#signin button').click()" %
           json.dumps(token))


def wait_ready(p, what):
    p.wait("document.body.dataset.state === 'ready' && "
           "!document.querySelector('section.loading')", what, 60)


def wait_file(d, name, what):
    path = os.path.join(d, name)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload"):
            with open(path, "rb") as f:
                data = f.read()
            if data:
                return data
        time.sleep(0.05)
    check(what + ": downloaded", False, name)
    return None


def csv_rows(data):
    check("CSV starts with a BOM", data.startswith(b"\xef\xbb\xbf"))
    text = data.decode("utf-8-sig")
    return [r for r in csv.reader(io.StringIO(text))]


def new_shape(p, b, url, viewer):
    """The completeness the reports are moving to (grids complete, the
    others named with a reason, what was left out, a flag on each row),
    put by the browser in place of night-patrol's answer; the old fields
    beside it name another grid, so the page must read the new first."""
    q = "%s/v1/reports/night-patrol?level=grid&from=%s&to=%s" % (url, FROM,
                                                                 TO)
    req = urllib.request.Request(q, headers={
        "Authorization": "Bearer " + viewer})
    text = urllib.request.urlopen(req, timeout=30).read().decode()
    names = {r["unit"]: r["name"]
             for r in report(url, viewer, "sync-health", "grid")["rows"]}
    comp = json.dumps({
        "grids": 32, "complete": 30, "synced": 31, "not_synced": ["S01-G1"],
        "incomplete": [
            {"code": "S01-G2", "name": names["S01-G2"],
             "reason": "unsent_backlog"},
            {"code": "S06-G4", "name": names["S06-G4"],
             "reason": "never_synced"}],
        "left_out": {"nights": 2, "days": 0, "weeks": 0},
        "text": "30 of 32 grids complete"}, ensure_ascii=False)
    i = text.index('"completeness":')
    body = text[:i] + '"completeness":' + comp + "}\n"
    # HQ's own rows carry "complete" already: the stand-in's flags
    # replace them.
    body = re.sub(r',"complete":(true|false|null|"[^"]*")', "", body)
    for g, ok in (("S01-G1", "true"), ("S01-G2", "false"),
                  ("S06-G4", "false")):
        body = body.replace('{"unit":"%s",' % g,
                            '{"unit":"%s","complete":%s,' % (g, ok))
    check("the stand-in answer was made", '"complete":false' in body)
    p.call("Fetch.enable", patterns=[
        {"urlPattern": "*/v1/reports/night-patrol?level=grid*"}])
    b.events.clear()
    p.eval("document.querySelector('#r-night-patrol .levels "
           "button[data-level=grid]').click()")
    end = time.monotonic() + 30
    paused = None
    while not paused and time.monotonic() < end:
        paused = next((e for e in b.events
                       if e.get("method") == "Fetch.requestPaused"), None)
        if not paused:
            p.eval("1")  # reads the events that have come
            time.sleep(0.02)
    if not check("the page asked for night-patrol by grid", paused):
        p.call("Fetch.disable")
        return
    import base64
    p.call("Fetch.fulfillRequest", requestId=paused["params"]["requestId"],
           responseCode=200, responseHeaders=[
               {"name": "Content-Type",
                "value": "application/json; charset=utf-8"}],
           body=base64.b64encode(body.encode()).decode())
    p.wait("!document.querySelector('section.loading')", "the stand-in")
    p.call("Fetch.disable")
    c = json.loads(p.eval(DOM))["cards"]["night-patrol"]
    grey = sorted(r["unit"] for r in c["main"]["rows"]
                  if "incomplete" in r["cls"])
    same("new shape: the rows flagged incomplete are greyed", grey,
         ["S01-G2", "S06-G4"])
    same("new shape: the incomplete grids named", c["incomplete"],
         ["S01-G2", "S06-G4"])
    for w in ("30 / 32", names["S01-G2"] + "(尚有未发送数据)",
              names["S06-G4"] + "(从未同步)", "2 晚"):
        check("new shape: the completeness line says " + w,
              w in (c["complete"] or ""), c["complete"])
    bars = {x["unit"]: x["cls"] for x in c["bars"]}
    check("new shape: greyed bars", "incomplete" in bars.get("S01-G2", "")
          and "incomplete" not in bars.get("S01-G1", "incomplete"), bars)


def setup(tmp):
    store = os.path.join(tmp, "hq.db")
    hq = ["gridbook-hq", "--store", "sqlite:" + store]
    run(*hq, "seed", os.environ["GRIDBOOK_SEEDS"])
    grids = os.path.join(tmp, "grids")
    run(GEN, "--out", grids, "--seed", "2026", "--grids", "all",
        "--from", "2026-01-20", "--to", TO)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    srv = subprocess.Popen(hq + ["serve", "--listen", "127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(tmp, "hq.log"), "w"),
                           env=ENV)
    end = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > end or srv.poll() is not None:
                raise RuntimeError("gridbook-hq did not start")
            time.sleep(0.05)

    def sync(f):
        name = os.path.basename(f)[:-3]
        grid = name.rsplit("-", 1)[0]
        role = "coordinator" if name.endswith("-labour") else "officer"
        tok = run(*hq, "device", "enroll", "--grid", grid, "--role", role,
                  "--name", name)
        run("gridbook", "--db", f, "sync", "setup", "--server", url,
            "--token", "-", input=tok.encode())
        if name not in UNSYNCED:
            run("gridbook", "--db", f, "sync")
        return tok

    files = sorted(os.path.join(grids, f) for f in os.listdir(grids)
                   if f.endswith(".db"))
    with ThreadPoolExecutor(2) as ex:
        toks = list(ex.map(sync, files))
    coord = re.search(r"token: (\S+)", toks[0]).group(1)
    viewer = re.search(r"token: (\S+)", run(
        *hq, "device", "enroll", "--grid", "S01-G1", "--role", "viewer",
        "--name", "区指挥中心大屏")).group(1)
    return srv, url, viewer, coord


def main():
    chrome = cdp.chromium_path()
    if not check("chromium is installed (make deps)", chrome is not None):
        return
    tmp = tempfile.mkdtemp(prefix="gridbook-e2e.")
    shots = os.path.join(BUILD, "dashboard")
    os.makedirs(shots, exist_ok=True)
    srv = b = None
    try:
        srv, url, viewer, coord = setup(tmp)
        page = urllib.request.urlopen(url + "/", timeout=10).read().decode()
        reports = json.loads(re.search(r"var REPORTS = (\[.*?\]);\n", page,
                                       re.S).group(1))
        same("the page knows HQ's date", re.search(
            r'var TODAY = "([0-9-]+)"', page).group(1), "2026-03-01")
        b = cdp.Browser(chrome)
        p = b.page(1366, 900)
        dl = os.path.join(tmp, "downloads")
        os.makedirs(dl)
        b.call("Browser.setDownloadBehavior", behavior="allow",
               downloadPath=dl, eventsEnabled=True)
        p.call("Page.navigate", url=url + "/")
        p.wait("document.readyState === 'complete' && "
               "document.body.dataset.state === 'signin'", "the page")
        same("default period ends yesterday (last month on the 1st)",
             p.eval("[document.getElementById('period').value,"
                    "document.getElementById('from').value,"
                    "document.getElementById('to').value].join(' ')"),
             "last_month %s %s" % (FROM, TO))

        # A bad token, then a token that is not a viewer's: one error each.
        for tok, want in (("not-a-token-1234", "查看令牌无效"),
                          (coord, "不是查看令牌")):
            submit(p, tok)
            p.wait("!document.getElementById('signin-error').hidden && "
                   "document.body.dataset.state === 'signin'",
                   "the sign-in error", 30)
            time.sleep(0)  # every request has answered: state is signin
            d = json.loads(p.eval(DOM))
            same("one sign-in error for %s" % want, len(d["errors"]), 1)
            check("it says what is wrong", d["errors"] and
                  want in d["errors"][0], d["errors"])
            same("no report drawn", d["cards"], {})
            same("and no 'loading' left standing", p.eval(
                "document.getElementById('status').textContent"), "")
        p.screenshot(os.path.join(shots, "signin-error.png"),
                     clip={"x": 0, "y": 0, "width": 1366, "height": 300})

        # The viewer's token: every report, every figure.
        submit(p, viewer)
        wait_ready(p, "the reports")
        times = json.loads(p.eval("JSON.stringify(window.gbTimes)"))
        print("all reports drawn in %.0f ms (this machine, %s)" %
              (times["done"] - times["start"], "not a timed check"))
        compare_all(p, url, viewer, "zh", reports)
        check("numbers keep their trailing zeros (some were checked)",
              exact_trailing > 0, exact_trailing)
        check("staffing's reasons shown in Chinese (some were checked)",
              zh_why_seen + zh_from_hq > 0, (zh_why_seen, zh_from_hq))
        p.screenshot(os.path.join(shots, "overview.png"),
                     clip={"x": 0, "y": 0, "width": 1366, "height": 1500})
        box = json.loads(p.eval(
            "JSON.stringify(document.getElementById('r-contract-rate')"
            ".getBoundingClientRect())"))
        p.screenshot(os.path.join(shots, "report.png"), clip={
            "x": 0, "y": box["y"] + p.eval("window.scrollY") - 8,
            "width": 1366, "height": box["height"] + 16})

        # The CSV of a report's table is what it shows.
        d = json.loads(p.eval(DOM))
        p.eval("document.querySelector('#r-contract-rate .head .csv').click()")
        data = wait_file(dl, "contract-rate_street_%s_%s.csv" % (FROM, TO),
                         "contract-rate CSV")
        if data:
            m = d["cards"]["contract-rate"]["main"]
            same("contract-rate CSV = the table shown", csv_rows(data),
                 [m["heads"]] + [r["cells"] for r in m["rows"]])

        # A bar clicked marks its row in the table.
        p.eval("document.querySelector('#r-contract-rate svg.chart "
               "rect.bar[data-unit=S03]').dispatchEvent(new MouseEvent("
               "'click', {bubbles: true}))")
        same("a bar clicked marks its row", p.eval(
            "Array.prototype.map.call(document.querySelectorAll("
            "'#r-contract-rate tr.hl'), function (t) {"
            " return t.dataset.unit; }).join()"), "S03")

        # A drill-down, one click away, and its CSV.
        p.eval("document.querySelector('#r-rectification .drill "
               "button[data-list=overdue]').click()")
        d = json.loads(p.eval(DOM))
        lst = d["cards"]["rectification"]["lists"]["overdue"]
        same("the overdue list opens with one click", lst["hidden"], False)
        j = report(url, viewer, "rectification", "street")
        check("there are overdue orders to list", len(j["details"]["overdue"]))
        p.eval("document.querySelector('#r-rectification "
               "div.list[data-list=overdue] .csv').click()")
        data = wait_file(dl, "rectification-overdue_street_%s_%s.csv" %
                         (FROM, TO), "overdue CSV")
        if data:
            rows = csv_rows(data)
            same("overdue CSV = the list shown", rows,
                 [lst["table"]["heads"]] +
                 [r["cells"] for r in lst["table"]["rows"]])
            same("overdue CSV = the report's list", rows[1:],
                 [[shown(r[k], "zh") for k in r]
                  for r in j["details"]["overdue"]])

        # Another level, offered by the report: the grids greyed.
        p.eval("document.querySelector('#r-night-patrol .levels "
               "button[data-level=grid]').click()")
        p.wait("document.getElementById('r-night-patrol').dataset.level"
               " === 'grid' && !document.querySelector('section.loading')",
               "night-patrol by grid")
        d = json.loads(p.eval(DOM))
        c = d["cards"]["night-patrol"]
        j = report(url, viewer, "night-patrol", "grid")
        compare_card("night-patrol", j, c, "zh",
                     [r for r in reports if r["name"] == "night-patrol"][0]
                     ["levels"])
        grey = sorted(r["unit"] for r in c["main"]["rows"]
                      if "incomplete" in r["cls"])
        same("the grids whose officers did not sync are greyed", grey,
             ["S03-G4", "S06-G4"])
        check("and named with their names", "临江街道" in c["complete"] and
              "北塘街道" in c["complete"], c["complete"])
        for r in reports:
            lv = r["levels"].split("|")
            same("%s offers only its levels" % r["name"],
                 d["cards"][r["name"]]["levels"], lv)
        check("labour reports offer no police area",
              "area" not in d["cards"]["contract-rate"]["levels"])

        new_shape(p, b, url, viewer)

        # Print: A4 landscape, nothing cut at the right.
        p.call("Emulation.setEmulatedMedia", media="print")
        p.call("Emulation.setDeviceMetricsOverride", width=1047, height=740,
               deviceScaleFactor=1, mobile=False)
        wide = p.eval(
            "Math.max.apply(null, Array.prototype.map.call("
            "document.querySelectorAll('main *'), function (e) {"
            " return e.getBoundingClientRect().right; }))")
        check("printed, nothing passes the A4 landscape width", wide <= 1047,
              wide)
        same("and no scrolling sideways",
             p.eval("document.documentElement.scrollWidth"), 1047)
        p.screenshot(os.path.join(shots, "print.png"),
                     clip={"x": 0, "y": 0, "width": 1047, "height": 1480})
        pdf = p.call("Page.printToPDF", landscape=True, paperWidth=11.69,
                     paperHeight=8.27, preferCSSPageSize=True,
                     printBackground=True)
        import base64
        with open(os.path.join(shots, "print.pdf"), "wb") as f:
            f.write(base64.b64decode(pdf["data"]))
        p.call("Emulation.setEmulatedMedia", media="")
        p.call("Emulation.setDeviceMetricsOverride", width=1366, height=900,
               deviceScaleFactor=1, mobile=False)

        # English, then Chinese again.
        p.eval("document.getElementById('lang').click()")
        p.wait("document.documentElement.lang === 'en'", "English")
        wait_ready(p, "the reports in English")
        compare_all(p, url, viewer, "en", reports)
        p.screenshot(os.path.join(shots, "overview-en.png"),
                     clip={"x": 0, "y": 0, "width": 1366, "height": 1500})
        same("the page's title in English",
             p.eval("document.getElementById('apptitle').textContent"),
             "grid management HQ")
        same("the controls in English",
             p.eval("document.querySelector('[data-t=period]').textContent"),
             "period")
        p.eval("document.getElementById('lang').click()")
        p.wait("document.documentElement.lang === 'zh-CN'", "Chinese")
        wait_ready(p, "the reports in Chinese")
        same("the controls in Chinese again",
             p.eval("document.querySelector('[data-t=period]').textContent"),
             "统计期间")
    except (cdp.Error, RuntimeError, OSError) as e:
        check("the browser test ran", False, e)
    finally:
        if b:
            b.close()
        if srv:
            srv.terminate()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


main()
sys.exit(checks.summary())

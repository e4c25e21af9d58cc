#!/usr/bin/env bash
# The HQ dashboard (GET /): served without a token as one self-contained
# HTML page (no resource from another origin) that fetches every report
# from /v1/reports/ with a viewer token; the reports it lists are the
# ones the server has, each fetched as the page would, at the level the
# page would ask for.  Its script must parse (node, when installed), and
# with headless chromium installed a screenshot is taken of it showing
# real reports; without chromium that part is skipped.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-03-01 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_HQ_STORE="sqlite:$T/hq.db"
unset GRIDBOOK_DB

ok "seed" gridbook-hq seed "${GRIDBOOK_SEEDS:-$top/seeds}"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
gridbook-hq serve --listen 127.0.0.1:$PORT 2>"$T/serve.log" &
PID=$!
E2E_CLEANUPS+=("kill $PID 2>/dev/null; wait $PID 2>/dev/null")
for _ in $(seq 100); do
	curl -fs "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done

code=$(curl -s -o "$T/page.html" -D "$T/page.hdr" -w '%{http_code}' "$URL/")
same "GET / without a token" "$code" 200
hdr=$(tr -d '\r' <"$T/page.hdr")
has "served as HTML" "$hdr" "Content-Type: text/html; charset=utf-8"
has "not cached" "$hdr" "Cache-Control: no-store"
has "nothing from elsewhere (CSP)" "$hdr" "default-src 'none'"
page=$(cat "$T/page.html")
has "a page" "$page" "<!DOCTYPE html>"
has "titled in Chinese and English" "$page" \
	"<title>gridbook 指挥中心 / HQ dashboard</title>"
has "fetches the reports" "$page" 'fetch("/v1/reports/"'
has "with the token" "$page" '"Authorization": "Bearer " + token'
has "kept in sessionStorage" "$page" "sessionStorage.setItem"
has "asks for the level" "$page" '<select id="level">'
for w in 'src="http' "src='http" 'href="http' "@import" "cdn"; do
	case $page in *"$w"*) fail "the page loads something from elsewhere: $w" ;;
	*) pass ;; esac
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/")
same "POST / is not allowed" "$code" 405
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/index.html")
same "no other page under /" "$code" 404
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/reports/disputes")
same "the reports still need a token" "$code" 401

# The reports the page lists, with the levels it knows for each.
python3 - "$T/page.html" >"$T/list.txt" <<'PY'
import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"var REPORTS = (\[.*?\]);\n", page, re.S)
for r in json.loads(m.group(1)):
    print(r["name"], r["levels"], "yes" if r["summary"] else "no")
PY
same "the page lists the eleven reports" "$(wc -l <"$T/list.txt")" 11
help=$(gridbook-hq report --help 2>&1)
VIEWER=$(gridbook-hq device enroll --grid S01-G1 --role viewer \
	--name 区指挥中心大屏 2>/dev/null | awk '/^token: /{print $2}')
while read -r name levels summary; do
	has "$name is a report of gridbook-hq" "$help" "  $name "
	same "$name has a summary" "$summary" yes
	has "$name takes district" "|$levels|" "|district|"
	code=$(curl -s -o "$T/r.json" -w '%{http_code}' \
		-H "Authorization: Bearer $VIEWER" -H "Accept: application/json" \
		"$URL/v1/reports/$name?level=district&from=2026-02-01&to=2026-02-28")
	same "$name as the page fetches it" "$code" 200
	ok "$name has what the page draws" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("title", "columns", "rows", "total", "details", "completeness"):
    assert k in j, k
assert "text" in j["completeness"]' "$T/r.json"
done <"$T/list.txt"

# The script parses, and run by node against a small stand-in for the
# browser (elements, sessionStorage, fetch answering with a real report)
# it fetches all eleven reports with the token and draws each as a table
# with its total row.
if command -v node >/dev/null 2>&1; then
	python3 - "$T/page.html" >"$T/page.js" <<'PY'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
print(re.search(r"<script>(.*)</script>", page, re.S).group(1))
PY
	ok "the page's script parses" node --check "$T/page.js"
	curl -s -o "$T/rect.json" -H "Authorization: Bearer $VIEWER" \
		"$URL/v1/reports/rectification?level=street&from=2026-02-01&to=2026-02-28"
	cat >"$T/run.js" <<'JS'
const fs = require("fs");
const js = fs.readFileSync(process.argv[2], "utf8");
const report = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
function N(tag) { this.tagName = tag; this.children = []; this.className = "";
	this.t = ""; this.value = ""; }
N.prototype.appendChild = function (c) { this.children.push(c); return c; };
N.prototype.addEventListener = function () {};
Object.defineProperty(N.prototype, "textContent", {
	get() { return this.t + this.children.map(c => c.textContent).join(" "); },
	set(v) { this.t = String(v); this.children = []; } });
const ids = {};
["f", "token", "from", "to", "level", "status", "out"].forEach(i => ids[i] = new N("x"));
global.document = { getElementById: i => ids[i], createElement: t => new N(t) };
const kept = { "gridbook.token": "TOKEN-1" };
global.sessionStorage = { getItem: k => kept[k] || null, setItem: (k, v) => { kept[k] = v; } };
const calls = [];
global.fetch = (url, o) => { calls.push(url + " " + o.headers.Authorization);
	return Promise.resolve({ ok: true, json: () => Promise.resolve(report) }); };
eval(js);
setTimeout(() => {
	let tables = 0, totals = 0;
	(function walk(n) { if (n.tagName === "table") tables++;
		if (n.className === "total") totals++; n.children.forEach(walk); })(ids.out);
	console.log("fetches " + calls.length);
	console.log(calls.filter(c => /^\/v1\/reports\/[a-z-]+\?level=\w+&from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d Bearer TOKEN-1$/.test(c)).length);
	console.log("sections " + ids.out.children.length + " totals " + totals +
		" tables>=" + (tables >= 11));
	console.log(ids.out.children[0].textContent.includes(report.rows[0].name) ? "drawn" : "not drawn");
}, 100);
JS
	ok "the page runs" node "$T/run.js" "$T/page.js" "$T/rect.json"
	same "and draws every report" "$(tr '\n' ';' <"$T/.out")" \
		"fetches 11;11;sections 11 totals 11 tables>=true;drawn;"
fi

# A screenshot, only where headless chromium is already installed.
chrome=""
for c in chromium chromium-browser google-chrome; do
	command -v "$c" >/dev/null 2>&1 && { chrome=$c; break; }
done
if [ -n "$chrome" ]; then
	ok "screenshot" timeout 60 "$chrome" --headless --disable-gpu \
		--no-sandbox --window-size=1280,2400 \
		--screenshot="$T/dashboard.png" "$URL/"
	[ -s "$T/dashboard.png" ] && pass || fail "no screenshot"
	if [ -n "${DASHBOARD_PNG:-}" ]; then
		cp "$T/dashboard.png" "$DASHBOARD_PNG"
	fi
else
	echo "chromium is not installed: no screenshot" >&2
fi

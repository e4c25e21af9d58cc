#!/usr/bin/env bash
# The HQ dashboard (GET /): served without a token as one self-contained
# HTML page (no resource from another origin) that fetches every report
# from /v1/reports/ with a viewer token; the reports it lists are the
# ones the server has, each fetched as the page would, at each level the
# page offers for it; the page carries HQ's date, from which it counts its
# periods.  Its script must parse (node, when installed).  What the page
# draws is checked in a real browser by t0720-dashboard-browser.py.
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
has "fetches the reports" "$page" 'return "/v1/reports/" + encodeURIComponent(name)'
has "with the token" "$page" '"Authorization": "Bearer " + STATE.token'
has "kept in sessionStorage" "$page" 'sessionStorage.setItem("gridbook.token"'
has "a password field" "$page" '<input id="token" type="password"'
has "Chinese by default" "$page" '<html lang="zh-CN">'
has "HQ's date in the page" "$page" 'var TODAY = "2026-03-01";'
has "the styles compiled in" "$page" "@page { size: A4 landscape"
for m in @CSS@ @DATA@ @JS@; do
	case $page in *"$m"*) fail "marker $m left in the page" ;; *) pass ;; esac
done
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
	for lv in ${levels//|/ }; do
		code=$(curl -s -o /dev/null -w '%{http_code}' \
			-H "Authorization: Bearer $VIEWER" \
			"$URL/v1/reports/$name?level=$lv&from=2026-02-01&to=2026-02-28&lang=zh_CN")
		same "$name at $lv, a level the page offers" "$code" 200
	done
	code=$(curl -s -o "$T/r.json" -w '%{http_code}' \
		-H "Authorization: Bearer $VIEWER" -H "Accept: application/json" \
		"$URL/v1/reports/$name?level=district&from=2026-02-01&to=2026-02-28&lang=zh_CN")
	same "$name as the page fetches it" "$code" 200
	ok "$name has what the page draws" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("title", "columns", "rows", "total", "details", "completeness"):
    assert k in j, k
assert "text" in j["completeness"]' "$T/r.json"
done <"$T/list.txt"

# The script parses.
if command -v node >/dev/null 2>&1; then
	python3 - "$T/page.html" >"$T/page.js" <<'PY'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
print(re.search(r"<script>(.*)</script>", page, re.S).group(1))
PY
	ok "the page's script parses" node --check "$T/page.js"
fi

#!/usr/bin/env bash
# gridbook status on a generated grid: the rectification orders past their
# deadline and the open requests past theirs that it lists are exactly the
# ones HQ's rectification and requests reports list for the grid, once the
# laptops have synced -- also after an order is rectified, one is voided
# and a request is resolved.  Each list names the command that acts on
# it; today's entries, unsent work and the last sync are shown.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-03-01 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_HQ_STORE="sqlite:$T/hq.db"
unset GRIDBOOK_DB
gen="$(dirname "$(command -v gridbook)")/bench/gridbook-gen"

ok "seed" gridbook-hq seed "${GRIDBOOK_SEEDS:-$top/seeds}"
ok "generate a grid" "$gen" --out "$T/gen" --grids S01-G1 --scale 2 \
	--from 2026-01-05 --to 2026-02-28
LAB="$T/gen/S01-G1-labour.db"
POL="$T/gen/S01-G1-police.db"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
gridbook-hq serve --listen 127.0.0.1:$PORT 2>"$T/serve.log" &
PID=$!
E2E_CLEANUPS+=("kill $PID 2>/dev/null; wait $PID 2>/dev/null")
for _ in $(seq 100); do
	curl -fs "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done

ok "status before any sync" gridbook --db "$LAB" status
has "unsent work and the command" "$(cat "$T/.out")" "sync setup"
has "today's entries by kind" "$(cat "$T/.out")" "劳动合同检查"

for f in "$LAB" "$POL"; do
	case $f in *-labour.db) role=coordinator ;; *) role=officer ;; esac
	gridbook-hq device enroll --grid S01-G1 --role $role 2>/dev/null |
		gridbook --db "$f" sync setup --server "$URL" --token - >/dev/null
	ok "sync $(basename "$f")" gridbook --db "$f" sync
done
ok "labour pulls the police records" gridbook --db "$LAB" sync

# compare WHAT: status's lists against HQ's report details, as sorted lines.
compare() {
	gridbook --db "$LAB" status --format json >"$T/lab.json"
	gridbook --db "$POL" status --format json >"$T/pol.json"
	gridbook-hq report rectification --level grid --from 2025-12-01 \
		--to 2026-03-01 --format json >"$T/rect.json"
	gridbook-hq report requests --level grid --from 2025-12-01 \
		--to 2026-03-01 --format json >"$T/req.json"
	python3 - "$T" <<'EOF' >"$T/cmp.txt"
import json, sys
t = sys.argv[1]
lab = json.load(open(t + "/lab.json"))
pol = json.load(open(t + "/pol.json"))
rect = json.load(open(t + "/rect.json"))["details"]["overdue"]
req = json.load(open(t + "/req.json"))["details"]["open_past_deadline"]
mine_o = sorted("%s %s %s %d" % (o["enterprise"], o["check_date"],
    o["deadline"], o["days_overdue"]) for o in lab["overdue_orders"])
hq_o = sorted("%s %s %s %d" % (r["enterprise_id"], r["check_date"],
    r["deadline"], r["days_overdue"]) for r in rect if r["grid"] == "S01-G1")
mine_r = sorted(r["id"] for r in pol["late_requests"])
hq_r = sorted(r["id"] for r in req)
print(len(mine_o), len(mine_r))
print("orders", "same" if mine_o == hq_o else "differ %s %s" % (mine_o, hq_o))
print("requests", "same" if mine_r == hq_r else "differ %s %s" % (mine_r, hq_r))
# After a sync each laptop holds the grid's other records too.
print("both files alike", lab["overdue_orders"] == pol["overdue_orders"] and
      lab["late_requests"] == pol["late_requests"])
EOF
	has "$1: orders" "$(cat "$T/cmp.txt")" "orders same"
	has "$1: requests" "$(cat "$T/cmp.txt")" "requests same"
	has "$1: both laptops" "$(cat "$T/cmp.txt")" "both files alike True"
}
compare "after the sync"
read -r norders nreqs < <(head -n 1 "$T/cmp.txt")
[ "$norders" -ge 2 ] && pass || fail "too few overdue orders to compare: $norders"
[ "$nreqs" -ge 2 ] && pass || fail "too few late requests to compare: $nreqs"

ok "status as text" gridbook --db "$LAB" status
has "orders with the command" "$(cat "$T/.out")" \
	"overdue rectification orders: $norders  -> gridbook rectification add"
ok "status as text" gridbook --db "$POL" status
has "requests with the command" "$(cat "$T/.out")" \
	"open requests past deadline: $nreqs  -> gridbook request edit"
ok "list --status overdue gives the same orders" \
	gridbook --db "$LAB" contract_check list --status overdue --format json
same "as many" "$(grep -c '"id"' "$T/.out")" "$norders"
ok "request list --status overdue" \
	gridbook --db "$POL" request list --status overdue --format json
same "as many requests" "$(grep -c '"id"' "$T/.out")" "$nreqs"
ok "request list --status open" gridbook --db "$POL" request list --status open
fails 2 "a state the kind does not have" \
	gridbook --db "$POL" patrol list --status open
has "names the states" "$(cat "$T/.err")" "not a state of patrol"

# Rectify one order, void another, resolve a request; sync; compare again.
o1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["overdue_orders"][0]["id"])' "$T/lab.json")
o2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["overdue_orders"][1]["id"])' "$T/lab.json")
r1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["late_requests"][0]["id"])' "$T/pol.json")
ok "rectify an order" gridbook --db "$LAB" rectification add --check "$o1" \
	--result rectified --date 今天
ok "void an order" gridbook --db "$LAB" contract_check void "$o2" --reason 录入错误
ok "resolve a request" gridbook --db "$POL" request edit "$r1" \
	--resolved-at now --result 已回电答复
ok "sync labour" gridbook --db "$LAB" sync
ok "sync police" gridbook --db "$POL" sync
ok "labour pulls the police changes" gridbook --db "$LAB" sync
compare "after the changes"
same "two orders fewer" "$(head -n 1 "$T/cmp.txt" | cut -d' ' -f1)" "$((norders - 2))"
same "one request fewer" "$(head -n 1 "$T/cmp.txt" | cut -d' ' -f2)" "$((nreqs - 1))"
ok "status after the sync" gridbook --db "$LAB" status
has "nothing unsent" "$(cat "$T/.out")" "none; last sync 2026-03-01 10:00"

# --limit N lists the newest N, oldest first like the whole list.
gridbook --db "$LAB" contract_check list --format json >"$T/all.json"
gridbook --db "$LAB" contract_check list --limit 3 --format json >"$T/l3.json"
same "--limit 3 gives the newest three" "$(python3 -c 'import json,sys
a = [r["id"] for r in json.load(open(sys.argv[1]))]
b = [r["id"] for r in json.load(open(sys.argv[2]))]
print(len(a) > 3 and a[-3:] == b)' "$T/all.json" "$T/l3.json")" True

#!/usr/bin/env bash
# The definitions of SPEC §3 end to end.  An officer's laptop of police
# area PA-01 enters requests with the real client (a default deadline
# follows an edited priority, one set by hand does not, a Saturday request
# of low priority counts its five working days from Monday) and syncs to a
# private gridbook-hq.  The requests report over a period ending today
# then shows on time + late + open past deadline + pending = received, the
# nights and days not yet ended left out, null for the grids nothing
# covers, the completeness with its reasons in JSON and CSV, one list with
# --list and ?list=, and a time zone other than the store's is refused.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"
export GRIDBOOK_TZ=Asia/Shanghai

ms() { # local time -> ms since 1970
	echo "$(date -d "$1 +0800" +%s)000"
}
deadline() { # grid file, record id -> its deadline (ms)
	sqlite3 "$1" "SELECT json_extract(body, '\$.deadline') FROM record
		WHERE id = '$2'"
}

ok "seed" hq_seed
# HQ's clock is Saturday 03-07 12:00 ("now" of the reports below).
GRIDBOOK_NOW="2026-03-07 12:00" ok "serve" hq_start
DB="$T/pa01.db"
ok "init the officer's laptop" gridbook --db "$DB" init --grid S01-G1 \
	--staff J0001
ok "enrol it" enroll "$DB" officer
VIEWER=$(gridbook-hq device enroll --grid S01-G1 --role viewer \
	--store "$HQ_SPEC" 2>/dev/null | awk '/^token: /{print $2}')

# Friday 03-06 09:00.  Q1: normal, due 03-07 09:00; raised to urgent it is
# due 10:00, and resolved at 09:30: on time.
export GRIDBOOK_NOW="2026-03-06 09:00"
ok "Q1" gridbook --db "$DB" request add --area PA-01 --category help \
	--priority normal --subject 老人走失
q1=$(cat "$T/.out")
same "Q1: default deadline from normal" "$(deadline "$DB" "$q1")" \
	"$(ms '2026-03-07 09:00')"
ok "Q1 raised to urgent" gridbook --db "$DB" request edit "$q1" \
	--priority urgent
same "Q1: the deadline follows the priority" "$(deadline "$DB" "$q1")" \
	"$(ms '2026-03-06 10:00')"
# Q3: normal with a deadline set by hand (11:00); made low, it keeps it.
ok "Q3" gridbook --db "$DB" request add --area PA-01 --category inquiry \
	--priority normal --deadline '2026-03-06 11:00' --subject 咨询暂住登记
q3=$(cat "$T/.out")
ok "Q3 made low" gridbook --db "$DB" request edit "$q3" --priority low
same "Q3: a deadline set by hand stays" "$(deadline "$DB" "$q3")" \
	"$(ms '2026-03-06 11:00')"
export GRIDBOOK_NOW="2026-03-06 09:30"
ok "Q1 resolved" gridbook --db "$DB" request edit "$q1" \
	--resolved-at '2026-03-06 09:30'

# Saturday 03-07 10:00, Q2 of low priority: its five working days start
# on Monday 03-09 00:00, so it is due Monday 03-16 00:00.
export GRIDBOOK_NOW="2026-03-07 12:00"
ok "Q2" gridbook --db "$DB" request add --area PA-01 --category help \
	--priority low --received-at '2026-03-07 10:00' --subject 邻里纠纷
q2=$(cat "$T/.out")
same "Q2: due the Monday after next, 00:00" "$(deadline "$DB" "$q2")" \
	"$(ms '2026-03-16 00:00')"
ok "sync" gridbook --db "$DB" sync

# The week to today, run at 03-07 12:00: as-of is now.  Q1 on time, Q3
# past its deadline, Q2 pending: 3 = 1 + 0 + 1 + 1; on time 1 / (1 + 1).
export GRIDBOOK_HQ_STORE="$HQ_SPEC"
Q="level=grid&from=2026-03-02&to=2026-03-07"
curl -s -H "Authorization: Bearer $VIEWER" \
	"$HQ_URL/v1/reports/requests?$Q" >"$T/rq.json"
python3 - "$T/rq.json" <<'PY' && pass || fail "requests: the figures"
import json, sys
d = json.load(open(sys.argv[1]))
row = {r["unit"]: r for r in d["rows"]}
g = row["S01-G1"]
assert (g["received"], g["on_time"], g["late"], g["open_past_deadline"],
        g["pending"]) == (3, 1, 0, 1, 1), g
assert g["on_time"] + g["late"] + g["open_past_deadline"] + g["pending"] \
    == g["received"]
assert g["on_time_pct"] == 50.0 and g["complete"] is True, g
# Nothing came from the other grids: no figure, not zero.
assert row["S01-G2"]["received"] is None, row["S01-G2"]
assert row["S01-G2"]["complete"] is False
c = d["completeness"]
assert c["grids"] == 32 and c["complete"] == 1, c
assert len(c["incomplete"]) == 31, c
assert c["incomplete"][0] == {"code": "S01-G2", "name": "文昌街道第二网格",
                              "reason": "never_synced"}, c["incomplete"][0]
assert c["left_out"] == {}, c
assert c["text"].startswith("1 of 32 grids complete (officer devices)"), c
assert len(d["details"]["open_past_deadline"]) == 1
PY
# Night 03-07 and day 03-07 have not ended: left out, and said so.
curl -s -H "Authorization: Bearer $VIEWER" \
	"$HQ_URL/v1/reports/night-patrol?$Q" >"$T/np.json"
python3 - "$T/np.json" <<'PY' && pass || fail "night-patrol: left out"
import json, sys
d = json.load(open(sys.argv[1]))
g = {r["unit"]: r for r in d["rows"]}["S01-G1"]
assert g["nights"] == 2 * 5 and g["complying"] == 0, g
assert d["completeness"]["left_out"] == {"nights": 1}, d["completeness"]
assert "nights not yet ended, left out: 1" in d["completeness"]["text"]
PY
ok "daily-reports from the command line" gridbook-hq report daily-reports \
	--level grid --from 2026-03-02 --to 2026-03-07 --format json
has "one day left out" "$(cat "$T/.out")" '"left_out":{"days":1}'

# CSV: the rows, then the completeness and the lists as sections.
curl -s -H "Accept: text/csv" -H "Authorization: Bearer $VIEWER" \
	"$HQ_URL/v1/reports/requests?$Q" >"$T/rq.csv"
has "CSV: complete column" "$(head -n 1 "$T/rq.csv")" ",pending,"
has "CSV: S01-G1 complete" "$(cat "$T/rq.csv")" ",0,true
S01-G2,文昌街道第二网格,,,,,,,,,,,,,0,false"
has "CSV: completeness" "$(cat "$T/rq.csv")" "
completeness,grids,complete,text
,32,1,"
has "CSV: incomplete grids" "$(cat "$T/rq.csv")" "
incomplete,grid,name,reason
,S01-G2,文昌街道第二网格,never_synced"
has "CSV: the drill-down list" "$(cat "$T/rq.csv")" "
open_past_deadline,id,area,category,priority,officer,received,deadline,hours_past
,$q3,PA-01,inquiry,low,J0001,2026-03-06 09:00,2026-03-06 11:00,25.00"

# One list: ?list= over HTTP, --list from the command line.
code=$(curl -s -o "$T/l.csv" -w '%{http_code}' -D "$T/l.hdr" \
	-H "Authorization: Bearer $VIEWER" \
	"$HQ_URL/v1/reports/requests?$Q&list=open_past_deadline")
same "?list=: 200" "$code" 200
has "?list=: CSV" "$(cat "$T/l.hdr")" "text/csv"
same "?list=: the one list" "$(cat "$T/l.csv")" \
	"id,area,category,priority,officer,received,deadline,hours_past
$q3,PA-01,inquiry,low,J0001,2026-03-06 09:00,2026-03-06 11:00,25.00"
code=$(curl -s -o "$T/l.txt" -w '%{http_code}' \
	-H "Authorization: Bearer $VIEWER" \
	"$HQ_URL/v1/reports/requests?$Q&list=nope")
same "?list=nope: 400" "$code" 400
has "naming the lists" "$(cat "$T/l.txt")" "open_past_deadline, incomplete"
ok "--list incomplete" gridbook-hq report requests --level grid \
	--from 2026-03-02 --to 2026-03-07 --list incomplete
same "--list: header and 31 grids" "$(wc -l <"$T/.out")" 32
has "--list: the first" "$(head -n 2 "$T/.out")" "grid,name,reason
S01-G2,文昌街道第二网格,never_synced"
fails 2 "--list nope" gridbook-hq report requests --from 2026-03-02 \
	--to 2026-03-07 --list nope

# The store was made in Asia/Shanghai: another zone is refused.
GRIDBOOK_TZ=UTC fails 2 "another time zone" gridbook-hq report requests \
	--from 2026-03-02 --to 2026-03-07
has "says which" "$(cat "$T/.err")" "GRIDBOOK_TZ: UTC is not the time zone of this store (Asia/Shanghai"
GRIDBOOK_TZ=+08:00 ok "the same zone by another name" gridbook-hq report \
	requests --from 2026-03-02 --to 2026-03-07

# An idle laptop: its last batch came on 03-07, before the week 03-02..03-08
# ended.  On Monday 03-09 it syncs with nothing to send: the pull that
# catches it up is its sync after the period, so the grid is complete.
ok "stop HQ" hq_stop
GRIDBOOK_NOW="2026-03-09 12:00" ok "HQ on Monday" hq_start
grid_reason() {
	curl -s -H "Authorization: Bearer $VIEWER" \
		"$HQ_URL/v1/reports/requests?level=grid&from=2026-03-02&to=2026-03-08" |
		python3 -c 'import json,sys
d = json.load(sys.stdin)
print(next((i["reason"] for i in d["completeness"]["incomplete"]
            if i["code"] == "S01-G1"), "complete"))'
}
same "before: not synced since the period ended" "$(grid_reason)" \
	not_synced_since_end
GRIDBOOK_NOW="2026-03-09 12:00" ok "a sync with nothing to send" \
	gridbook --db "$DB" sync
has "... sent nothing" "$(cat "$T/.out" "$T/.err")" "0"
same "after: the grid is complete" "$(grid_reason)" complete

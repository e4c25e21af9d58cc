#!/usr/bin/env bash
# The HQ reports end to end: four weeks of field work for two grids made
# by gridbook-gen, synced by the real client to a private gridbook-hq, then
# every report at every level it takes, over HTTP (JSON, and CSV with
# Accept: text/csv) and from the command line (table, json, csv): all five
# must show the same rows and the same numbers, and HTTP and CLI the same
# JSON.  Then who may read reports (viewer tokens only; others 403 and
# audited), what bad parameters get, and the command's help.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-03-01 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
# sqlite:FILE, or a PostgreSQL database (GRIDBOOK_TEST_STORE=pg).
hq_store "$T/hq.db"
export GRIDBOOK_HQ_STORE=$HQ_SPEC
unset GRIDBOOK_DB
gen="$(dirname "$(command -v gridbook)")/bench/gridbook-gen"
FROM=2026-02-02
TO=2026-02-22

ok "seed" gridbook-hq seed "${GRIDBOOK_SEEDS:-$top/seeds}"
ok "generate two grids" "$gen" --out "$T/gen" --grids S01-G1,S05-G2 \
	--from 2026-01-26 --to 2026-02-22

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
gridbook-hq serve --listen 127.0.0.1:$PORT 2>"$T/serve.log" &
PID=$!
E2E_CLEANUPS+=("kill $PID 2>/dev/null; wait $PID 2>/dev/null")
for _ in $(seq 100); do
	curl -fs "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done

enroll() { # grid role -> the enrolment output (device: and token: lines)
	gridbook-hq device enroll --grid "$1" --role "$2" --name "$3" 2>/dev/null
}
for f in "$T"/gen/*.db; do
	g=$(basename "$f" | cut -d- -f1,2)
	case $f in *-labour.db) role=coordinator ;; *) role=officer ;; esac
	enroll "$g" "$role" "$g $role" >"$T/enrol.txt"
	ok "set up $(basename "$f")" gridbook --db "$f" sync setup \
		--server "$URL" --token - <"$T/enrol.txt"
	ok "sync $(basename "$f")" gridbook --db "$f" sync
done
# One edit and one void after the first sync, synced too.
LAB="$T/gen/S01-G1-labour.db"
ent=$(sqlite3 "$LAB" "SELECT id FROM record WHERE kind = 'enterprise' AND
	voided = 0 ORDER BY id LIMIT 1")
ok "close an enterprise" gridbook --db "$LAB" enterprise edit "$ent" \
	--status closed
dis=$(sqlite3 "$LAB" "SELECT id FROM record WHERE kind = 'dispute' AND
	voided = 0 ORDER BY id LIMIT 1")
ok "void a dispute" gridbook --db "$LAB" dispute void "$dis" \
	--reason 重复录入
ok "sync the edits" gridbook --db "$LAB" sync

VIEWER=$(enroll S01-G1 viewer 区指挥中心 | awk '/^token: /{print $2}')
same "viewer token" "${#VIEWER}" 43

levels_of() {
	case $1 in
	staffing | night-patrol | reception | requests | daily-reports)
		echo district street grid area ;;
	patrol-teams) echo district street grid area community ;;
	*) echo district street grid ;;
	esac
}

# Every report at every level, in the five forms, into $T/out.
REPORTS="contract-rate check-coverage rectification disputes staffing
night-patrol reception requests daily-reports patrol-teams sync-health"
mkdir "$T/out"
n=0
for r in $REPORTS; do
	n=$((n + 1))
	for l in $(levels_of "$r"); do
		q="level=$l&from=$FROM&to=$TO"
		o="$T/out/$r.$l"
		code=$(curl -s -o "$o.http.json" -w '%{http_code}' \
			-H "Authorization: Bearer $VIEWER" "$URL/v1/reports/$r?$q")
		same "$r $l: HTTP JSON status" "$code" 200
		code=$(curl -s -o "$o.http.csv" -w '%{http_code}' \
			-D "$o.hdr" -H "Accept: text/csv" \
			-H "Authorization: Bearer $VIEWER" "$URL/v1/reports/$r?$q")
		same "$r $l: HTTP CSV status" "$code" 200
		has "$r $l: CSV content type" "$(cat "$o.hdr")" "text/csv"
		for f in table json csv; do
			ok "$r $l: CLI $f" gridbook-hq report "$r" --level "$l" \
				--from $FROM --to $TO --format $f
			cp "$T/.out" "$o.cli.$f"
		done
	done
done
same "eleven reports" "$n" 11

# The rows and the total row of every form, one line each, values joined
# with '|' and an empty value shown as '-', must be the same (the complete
# column is true/false in JSON and CSV, yes/no in the table); HTTP and CLI
# JSON must be the same text.  One line of output per check.
python3 - "$T/out" >"$T/compare.txt" <<'PY'
import csv, glob, io, json, os, re, sys
d = sys.argv[1]

def rows(fmt, path):
    text = open(path, encoding="utf-8").read()
    out = []
    if fmt == "json":
        j = json.loads(text, parse_float=str, parse_int=str)
        keys = [c["key"] for c in j["columns"]]
        for r in j["rows"] + [j["total"]]:
            out.append("|".join(
                "-" if r[k] is None else
                ("true" if r[k] else "false") if isinstance(r[k], bool) else
                str(r[k]) for k in keys))
    elif fmt == "csv":
        # The main table is what comes before the first empty line.
        main = text.split("\n\n")[0] + "\n"
        for r in list(csv.reader(io.StringIO(main)))[1:]:
            out.append("|".join(v if v != "" else "-" for v in r))
    else:
        # The table: the block after the first blank line, header first.
        for line in text.split("\n\n")[1].split("\n")[1:]:
            v = re.split(r" {2,}", line.strip())
            v[-1] = {"yes": "true", "no": "false"}.get(v[-1], v[-1])
            out.append("|".join(v))
    return out

for base in sorted(glob.glob(os.path.join(d, "*.http.json"))):
    name = os.path.basename(base)[: -len(".http.json")]
    p = os.path.join(d, name)
    want = rows("json", p + ".http.json")
    print("ok" if len(want) >= 2 else "FAIL %s: %d rows" % (name, len(want)))
    for fmt, path in (("csv", p + ".http.csv"), ("table", p + ".cli.table"),
                      ("json", p + ".cli.json"), ("csv", p + ".cli.csv")):
        got = rows(fmt, path)
        if got == want:
            print("ok")
        else:
            diff = [(a, b) for a, b in zip(got, want) if a != b][:2]
            print("FAIL %s: %s differs from HTTP JSON: %s" % (
                name, os.path.basename(path), diff or (len(got), len(want))))
    same = open(p + ".http.json").read() == open(p + ".cli.json").read()
    print("ok" if same else "FAIL %s: HTTP and CLI JSON differ" % name)
PY
while read -r line; do
	case $line in ok) pass ;; *) fail "$line" ;; esac
done <"$T/compare.txt"
same "every form of every report compared" \
	"$(grep -c . "$T/compare.txt")" "$((40 * 6))"

# Numbers that must be there: the synced grids and the district.
curl -s -H "Authorization: Bearer $VIEWER" \
	"$URL/v1/reports/staffing?level=district&from=$FROM&to=$TO" >"$T/s.json"
has "staffing: 55 of 59 areas meet" "$(cat "$T/s.json")" \
	'"total":{"unit":"total","name":"望川区","areas":59,'
has "staffing: meeting" "$(cat "$T/s.json")" '"meeting":55,'
curl -s -H "Authorization: Bearer $VIEWER" \
	"$URL/v1/reports/requests?level=grid&from=$FROM&to=$TO" >"$T/r.json"
# Both officer laptops synced on 03-01, after the period, with nothing
# left: their grids are complete; the other 30 have no officer laptop.
has "completeness: two grids complete" "$(cat "$T/r.json")" \
	'"completeness":{"grids":32,"complete":2,"incomplete":[{"code":"S01-G2",'
has "completeness: why" "$(cat "$T/r.json")" '"reason":"never_synced"}'
has "completeness: two grids synced" "$(cat "$T/r.json")" \
	'"synced":2,"role":"officer"'
gridbook-hq report sync-health --level grid --from $FROM --to $TO >"$T/sh.txt"
has "sync-health names the grids not synced" "$(cat "$T/sh.txt")" \
	"2 of 32 grids complete as of 2026-02-23 00:00; incomplete: S01-G2 (never synced),"
has "and lists the devices" "$(cat "$T/sh.txt")" "S05-G2 coordinator"
# Every laptop that synced said, in its last batch, that nothing was left;
# the ones enrolled since have said nothing yet.
gridbook-hq report sync-health --level grid --from $FROM --to $TO \
	--format json >"$T/sh.json"
python3 - "$T/sh.json" <<'PY' && pass || fail "sync-health: unsent"
import json, sys
d = json.load(open(sys.argv[1]))["details"]["devices"]
synced = [x for x in d if x["last_sync"]]
assert len(synced) == 4, d
assert all(x["unsent"] == 0 and x["oldest_unsent"] is None
           for x in synced), synced
assert all(x["unsent"] is None for x in d if not x["last_sync"]), d
PY
python3 - "$T/r.json" <<'PY' && pass || fail "requests: total is the sum"
import json, sys
d = json.load(open(sys.argv[1]))
assert sum(r["received"] for r in d["rows"] if r["received"] is not None) \
    == d["total"]["received"] > 50
# Grids no officer laptop covers show no figure, and are not complete.
nulls = [r for r in d["rows"] if r["received"] is None]
assert len(nulls) == 30 and not any(r["complete"] for r in nulls), nulls
assert all(r["complete"] for r in d["rows"] if r["received"] is not None)
assert d["as_of"] == "2026-02-23 00:00", d["as_of"]
PY
# The closed enterprise and the voided dispute count no more.
gridbook-hq report check-coverage --level grid --from $FROM --to $TO \
	--format csv >"$T/cc.csv"
active=$(grep '^S01-G1,' "$T/cc.csv" | cut -d, -f3)
held=$(sqlite3 "$LAB" "SELECT count(*) FROM record WHERE kind =
	'enterprise' AND voided = 0 AND json_extract(body, '\$.status') =
	'active'" 2>/dev/null || echo "?")
[ "$held" = "?" ] || same "active enterprises as the laptop has them" \
	"$active" "$held"

# ---- who may read, and bad requests ----
# (Enrolled only now: a laptop that has never synced leaves its grid
# incomplete, which the numbers above do not expect.)
OFFICER=$(enroll S01-G1 officer 周春梅笔记本 | awk '/^token: /{print $2}')
COORD=$(enroll S05-G2 coordinator 南苑笔记本 | awk '/^token: /{print $2}')
status() { curl -s -o "$T/e.txt" -w '%{http_code}' "$@"; }
Q="level=grid&from=$FROM&to=$TO"
same "no token: 401" "$(status "$URL/v1/reports/disputes?$Q")" 401
same "officer token: 403" "$(status -H "Authorization: Bearer $OFFICER" \
	"$URL/v1/reports/disputes?$Q")" 403
has "and says why" "$(cat "$T/e.txt")" "viewer"
same "coordinator token: 403" "$(status -H "Authorization: Bearer $COORD" \
	"$URL/v1/reports/disputes?$Q")" 403
ok "audit log" gridbook-hq audit
has "the refusal is audited" "$(cat "$T/.out")" "403	report"
same "unknown report: 404" "$(status -H "Authorization: Bearer $VIEWER" \
	"$URL/v1/reports/nope?$Q")" 404
same "bad level: 400" "$(status -H "Authorization: Bearer $VIEWER" \
	"$URL/v1/reports/disputes?level=area&from=$FROM&to=$TO")" 400
has "naming the levels" "$(cat "$T/e.txt")" "district|street|grid"
same "no dates: 400" "$(status -H "Authorization: Bearer $VIEWER" \
	"$URL/v1/reports/disputes")" 400
same "bad date: 400" "$(status -H "Authorization: Bearer $VIEWER" \
	"$URL/v1/reports/disputes?from=2026-02-30&to=$TO")" 400
same "a viewer still may not sync: 403" \
	"$(status -H "Authorization: Bearer $VIEWER" "$URL/v1/changes")" 403

ok "report --help" gridbook-hq report --help
help=$(cat "$T/.out")
for r in $REPORTS; do has "help lists $r" "$help" "  $r "; done
fails 2 "report without dates" gridbook-hq report disputes
has "says what is missing" "$(cat "$T/.err")" "--from"
fails 2 "unknown report" gridbook-hq report nope --from $FROM --to $TO
fails 2 "bad format" gridbook-hq report disputes --from $FROM --to $TO \
	--format xml
fails 2 "bad level" gridbook-hq report disputes --from $FROM --to $TO \
	--level area
fails 2 "to before from" gridbook-hq report disputes --from $TO --to $FROM
ok "top-level help lists report" gridbook-hq --help
has "report command" "$(cat "$T/.out")" "report"

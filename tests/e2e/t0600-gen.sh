#!/usr/bin/env bash
# gridbook-gen (bench/gridbook-gen.c): two runs with one seed give the same
# record content -- every kind, with record ids replaced by what they point
# at -- and another seed other content; a grid's data does not depend on
# the other grids generated; every file is a sound SQLite file with every
# kind in it, entered as the right person; nothing lies after "now" when
# the period reaches today; the whole district's month takes seconds; bad
# options and existing files are refused.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-03-15 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
unset GRIDBOOK_DB
gen="$(dirname "$(command -v gridbook)")/bench/gridbook-gen"
GRIDS=S01-G1,S05-G2
PERIOD=(--from 2026-02-16 --to 2026-03-08)
LABOUR="enterprise contract_check rectification dispute employment"
POLICE="patrol handover daily_report reception request"

# export DIR: every kind of every file of DIR as CSV into DIR/exp/.
export_all() {
	mkdir -p "$1/exp"
	for f in "$1"/*.db; do
		local b kinds
		b=$(basename "$f" .db)
		case $b in *-labour) kinds=$LABOUR ;; *) kinds=$POLICE ;; esac
		for k in $kinds; do
			gridbook --db "$f" export "$k" --format csv \
				>"$1/exp/$b.$k.csv" || return 1
		done
	done
}

# normal DIR: one sorted line per record of every exported file, the id
# column dropped and references to records replaced by the content of the
# record they name (an enterprise by its credit code, a check by its row).
normal() {
	python3 - "$1/exp" <<'PY'
import csv, glob, os, sys
d = sys.argv[1]
out = []
def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))
for path in sorted(glob.glob(os.path.join(d, "*.enterprise.csv"))):
    base = path[: -len(".enterprise.csv")]
    key = {}
    for kind in ("enterprise", "contract_check", "rectification",
                 "dispute", "employment"):
        for r in rows(base + "." + kind + ".csv"):
            rid = r.pop("id")
            for ref in ("enterprise", "check"):
                if r.get(ref):
                    r[ref] = key[r[ref]]
            line = "|".join(r[c] for c in sorted(r))
            key[rid] = r["uscc"] if kind == "enterprise" else "(" + line + ")"
            out.append(os.path.basename(base) + " " + kind + " " + line)
for path in sorted(glob.glob(os.path.join(d, "*-police.*.csv"))):
    name = os.path.basename(path)
    for r in rows(path):
        r.pop("id")
        out.append(name + " " + "|".join(r[c] for c in sorted(r)))
for line in sorted(out):
    print(line)
PY
}

# counts DIR: "file kind n" for every kind of every file.
counts() {
	for f in "$1"/*.db; do
		sqlite3 "$f" "SELECT '$(basename "$f")', kind, count(*) FROM record
			WHERE voided = 0 GROUP BY kind ORDER BY kind"
	done
}

ok "generate a" "$gen" --out "$T/a" --seed 11 --grids "$GRIDS" "${PERIOD[@]}"
summary=$(cat "$T/.err")
ok "generate b, same seed" "$gen" --out "$T/b" --seed 11 --grids "$GRIDS" \
	"${PERIOD[@]}"
ok "generate c, another seed" "$gen" --out "$T/c" --seed 12 --grids "$GRIDS" \
	"${PERIOD[@]}"
ok "generate d, one grid alone" "$gen" --out "$T/d" --seed 11 --grids S05-G2 \
	"${PERIOD[@]}"
has "a line per grid" "$summary" "S05-G2: enterprise "
has "a total line" "$summary" "total, 2 grids, 2026-02-16..2026-03-08, seed 11"
same "four files in a" "$(ls "$T/a" | grep -c '\.db$')" "4"

for f in "$T"/a/*.db "$T"/c/*.db; do
	same "integrity of $(basename "$f")" \
		"$(sqlite3 "$f" 'PRAGMA integrity_check')" "ok"
done

for d in a b c d; do
	ok "export $d" export_all "$T/$d"
done
normal "$T/a" >"$T/a.txt"
normal "$T/b" >"$T/b.txt"
normal "$T/c" >"$T/c.txt"
normal "$T/d" >"$T/d.txt"
same "records exported" "$(wc -l <"$T/a.txt")" \
	"$(counts "$T/a" | awk -F'|' '{ n += $3 } END { print n }')"
ok "same seed, same content" cmp "$T/a.txt" "$T/b.txt"
same "same seed, same counts" "$(counts "$T/a")" "$(counts "$T/b")"
if cmp -s "$T/a.txt" "$T/c.txt"; then
	fail "another seed gives other content"
else
	pass
fi
same "a grid does not depend on the others" \
	"$(grep '^S05-G2' "$T/a.txt")" "$(cat "$T/d.txt")"

# Every kind is there, and the labour file is entered by the grid's first
# coordinator, the police file by the chief of its first area.
for k in $LABOUR; do
	n=$(sqlite3 "$T/a/S01-G1-labour.db" \
		"SELECT count(*) FROM record WHERE kind = '$k'")
	[ "$n" -gt 0 ] && pass || fail "no $k in S01-G1-labour"
done
for k in $POLICE; do
	n=$(sqlite3 "$T/a/S01-G1-police.db" \
		"SELECT count(*) FROM record WHERE kind = '$k'")
	[ "$n" -gt 0 ] && pass || fail "no $k in S01-G1-police"
done
same "labour author" "$(sqlite3 "$T/a/S01-G1-labour.db" \
	"SELECT DISTINCT staff FROM record")" "K0001"
same "police author" "$(sqlite3 "$T/a/S01-G1-police.db" \
	"SELECT DISTINCT staff FROM record")" "J0001"
same "grid of the file" "$(sqlite3 "$T/a/S05-G2-police.db" \
	"SELECT DISTINCT grid FROM record")" "S05-G2"

# Something for the reports to show.
q() { sqlite3 "$T/a/$1" "$2"; }
t() { echo "CAST(json_extract(body, '\$.$1') AS INTEGER)"; }
same "every dispute status" "$(q S01-G1-labour.db "SELECT group_concat(s)
	FROM (SELECT DISTINCT json_extract(body, '\$.status') s FROM record
	WHERE kind = 'dispute' ORDER BY s)")" "closed,escalated,mediated,open"
same "a check with no employees" "$(q S01-G1-labour.db "SELECT count(*)
	FROM record WHERE kind = 'contract_check' AND voided = 0
	AND json_extract(body, '\$.employees_total') = 0")" "1"
has "rectification orders" "$(q S01-G1-labour.db "SELECT DISTINCT
	json_extract(body, '\$.outcome') FROM record
	WHERE kind = 'contract_check'")" "rectify_order"
same "orders carry deadlines" "$(q S01-G1-labour.db "SELECT count(*)
	FROM record WHERE kind = 'contract_check'
	AND json_extract(body, '\$.outcome') = 'rectify_order'
	AND json_extract(body, '\$.deadline') IS NULL")" "0"
same "closed enterprises" "$(q S05-G2-labour.db "SELECT count(*) > 0
	FROM record WHERE kind = 'enterprise' AND status = 'closed'")" "1"
same "PA-43 has one guard, so each patrol has one at most" \
	"$(q S05-G2-police.db "SELECT max(length(json_extract(body,
	'\$.guards'))) FROM record WHERE kind = 'patrol'
	AND json_extract(body, '\$.area') = 'PA-43'")" "5"
same "night patrols cross midnight" "$(q S01-G1-police.db "SELECT count(*) > 0
	FROM record WHERE kind = 'patrol' AND date(json_extract(body,
	'\$.end') / 1000, 'unixepoch', '+8 hours') > day")" "1"
same "some requests are unresolved" "$(q S01-G1-police.db "SELECT count(*) > 0
	FROM record WHERE kind = 'request'
	AND json_extract(body, '\$.resolved_at') IS NULL")" "1"
same "some requests are late" "$(q S01-G1-police.db "SELECT count(*) > 0
	FROM record WHERE kind = 'request'
	AND $(t resolved_at) > $(t deadline)")" "1"
same "daily reports are written at weekends too" "$(q S01-G1-police.db "SELECT
	count(*) > 0 FROM record WHERE kind = 'daily_report'
	AND strftime('%w', day) IN ('0', '6')")" "1"
# A period up to today: nothing after now (10:00), nothing resolved later.
ok "a period up to today" "$gen" --out "$T/e" --seed 3 --grids S01-G1 \
	--from 2026-03-13 --to 2026-03-15
same "nothing after now" "$(sqlite3 "$T/e/S01-G1-police.db" "SELECT count(*)
	FROM record WHERE max(coalesce($(t end), 0), coalesce($(t time), 0),
	coalesce($(t received_at), 0), coalesce($(t resolved_at), 0))
	> 1773540000000")" "0"
same "but up to it" "$(sqlite3 "$T/e/S01-G1-police.db" "SELECT count(*) > 0
	FROM record WHERE day = '2026-03-15'")" "1"

# The whole district, a month: quick.
start=$SECONDS
ok "the whole district" "$gen" --out "$T/all" --seed 1
same "64 files" "$(ls "$T/all" | grep -c '\.db$')" "64"
[ $((SECONDS - start)) -lt 60 ] && pass || fail "took $((SECONDS - start)) s"
has "32 grids" "$(cat "$T/.err")" "total, 32 grids, 2026-02-13..2026-03-14"
voided=0
for f in "$T"/all/*-labour.db; do
	voided=$((voided + $(sqlite3 "$f" \
		"SELECT count(*) FROM record WHERE voided = 1")))
done
[ "$voided" -gt 0 ] && pass || fail "no mistaken check kept voided"
has "voided ones are counted apart" "$(cat "$T/.err")" "(and $voided voided)"

# Refusals.
fails 1 "existing files are not overwritten" "$gen" --out "$T/a" \
	--grids S01-G1 "${PERIOD[@]}"
has "the file is named" "$(cat "$T/.err")" "already exists"
fails 2 "--to after today" "$gen" --out "$T/x" --to 2026-03-16
fails 2 "unknown grid" "$gen" --out "$T/x" --grids S09-G9
fails 2 "--from after --to" "$gen" --out "$T/x" --from 2026-03-10 \
	--to 2026-03-01
fails 2 "bad scale" "$gen" --out "$T/x" --scale -1
fails 2 "no --out" "$gen" --seed 3
ok "--help" "$gen" --help
has "help names the options" "$(cat "$T/.out")" "--scale F"

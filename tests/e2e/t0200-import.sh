#!/usr/bin/env bash
# gridbook import and export: a 10,000-line enterprise file with one bad
# line imports nothing and names the line and the field; fixed, it imports
# whole; Chinese text round-trips through export and a second grid file;
# --skip-bad sets bad lines aside; Excel's BOM, checks naming enterprises
# by USCC, duplicates, unknown and missing columns, voided records.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-03-15 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
gen="$top/bench/gen_csv.py"
unset GRIDBOOK_DB

count() { # FILE KIND: records of KIND in the grid file
	sqlite3 "$1" "SELECT count(*) FROM record WHERE kind = '$2'"
}
newgrid() { # FILE
	gridbook --db "$1" init --grid S01-G1 --staff K0001 >/dev/null
}

newgrid "$T/a.grid"
python3 "$gen" --grid S01-G1 --rows 10000 --bad-line 7431 "$T/bad.csv"
python3 "$gen" --grid S01-G1 --rows 10000 "$T/good.csv"

# One bad line: nothing is imported, the line and the field are named.
fails 1 "a file with a bad line is refused" \
	gridbook --db "$T/a.grid" import enterprise "$T/bad.csv"
err=$(cat "$T/.err")
has "the bad line is named" "$err" "bad.csv:7431:"
has "the field is named" "$err" "uscc"
has "the count is given" "$err" "1 bad line of 10,000"
same "only the bad line is reported" \
	"$(grep -c '^.*bad.csv:[0-9]*:' "$T/.err")" "1"
same "nothing was imported" "$(count "$T/a.grid" enterprise)" "0"
same "nothing in the outbox" \
	"$(sqlite3 "$T/a.grid" 'SELECT count(*) FROM outbox')" "0"

# Fixed: every line imports.
ok "the fixed file imports" \
	gridbook --db "$T/a.grid" import enterprise "$T/good.csv"
has "a summary is printed" "$(cat "$T/.err")" \
	"imported 10,000 enterprise records"
same "all 10,000 imported" "$(count "$T/a.grid" enterprise)" "10000"
same "one outbox entry each" \
	"$(sqlite3 "$T/a.grid" 'SELECT count(*) FROM outbox')" "10000"

# Importing the same file again: every USCC is in the grid already.
fails 1 "a second import of the same enterprises is refused" \
	gridbook --db "$T/a.grid" import enterprise "$T/good.csv"
has "a known USCC is named" "$(cat "$T/.err")" \
	"the grid holds an enterprise with code"
same "still 10,000" "$(count "$T/a.grid" enterprise)" "10000"

# Round trip: export, import into a second grid, export again.
ok "export csv" gridbook --db "$T/a.grid" export enterprise --format csv \
	-o "$T/e1.csv"
same "no temporary file is left" "$(ls "$T" | grep -c 'e1.csv.tmp')" "0"
newgrid "$T/b.grid"
ok "the export imports into a second grid" \
	gridbook --db "$T/b.grid" import enterprise "$T/e1.csv"
ok "export of the second grid" \
	gridbook --db "$T/b.grid" export enterprise -o "$T/e2.csv"
if cmp -s "$T/e1.csv" "$T/e2.csv"; then pass; else
	fail "the two exports differ: $(diff "$T/e1.csv" "$T/e2.csv" | head -5)"
fi
gridbook --db "$T/a.grid" export enterprise >"$T/e1-stdout.csv"
if cmp -s "$T/e1.csv" "$T/e1-stdout.csv"; then pass; else
	fail "export to stdout and to -o differ"
fi
# The names, addresses (commas, quotes) and communities came through; a
# community given by name was stored as its code.
out=$(python3 - "$T/good.csv" "$T/e1.csv" "$top/seeds/communities.csv" <<'EOF'
import csv, sys
src = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
exp = {r["uscc"]: r for r in csv.DictReader(open(sys.argv[2], encoding="utf-8-sig"))}
codes = {r["name"]: r["code"] for r in csv.DictReader(open(sys.argv[3], encoding="utf-8"))}
bad = 0
for r in src:
    e = exp.get(r["uscc"])
    want = dict(r, community=codes.get(r["community"], r["community"]))
    if e is None or any(e[k] != want[k] for k in want):
        bad += 1
print(len(exp), bad, sum(1 for r in src if "," in r["address"] or '"' in r["address"]))
EOF
)
set -- $out
same "every line is in the export" "$1" "10000"
same "every value came back (names, communities as codes)" "$2" "0"
[ "${3:-0}" -gt 0 ] && pass || fail "no address needed CSV quoting"
has "Chinese names are exported" "$(sed -n 2p "$T/e1.csv")" "市"

# JSON: parses, same count and names as the CSV.
ok "export json" gridbook --db "$T/a.grid" export enterprise --format json \
	-o "$T/e1.json"
out=$(python3 - "$T/e1.json" "$T/e1.csv" <<'EOF'
import csv, json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
c = list(csv.DictReader(open(sys.argv[2], encoding="utf-8-sig")))
ok = (len(j) == len(c)
      and [x["values"]["name"] for x in j] == [r["name"] for r in c]
      and [x["id"] for x in j] == [r["id"] for r in c]
      and all(x["kind"] == "enterprise" and x["voided"] is False
              and isinstance(x["version"], int)
              and isinstance(x["values"]["employees"], int) for x in j))
print(len(j), "same" if ok else "differ")
EOF
)
same "the JSON export parses with the same records" "$out" "10000 same"

# --skip-bad: the good lines go in, the bad one into the reject file.
newgrid "$T/c.grid"
ok "--skip-bad imports the good lines" \
	gridbook --db "$T/c.grid" import enterprise "$T/bad.csv" \
	--skip-bad "$T/rejects.csv"
has "the skipped count is printed" "$(cat "$T/.err")" "skipped 1 bad line"
same "9,999 imported" "$(count "$T/c.grid" enterprise)" "9999"
out=$(python3 - "$T/rejects.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
print(len(rows), rows[0]["line"], "uscc" in rows[0]["reason"],
      list(rows[0].keys())[-2:] == ["line", "reason"], rows[0]["name"] != "")
EOF
)
same "the reject file holds the bad line, its number and reason" "$out" \
	"1 7431 True True True"
# The reject file, corrected, imports as it is (line and reason ignored).
python3 - "$T/rejects.csv" "$T/fixed.csv" <<'EOF'
import csv, sys
A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
w = csv.DictWriter(open(sys.argv[2], "w", encoding="utf-8", newline=""),
                   fieldnames=list(rows[0].keys()))
w.writeheader()
for r in rows:
    c = r["uscc"][:17]
    s = sum(A.index(ch) * pow(3, i, 31) for i, ch in enumerate(c))
    r["uscc"] = c + A[(31 - s % 31) % 31]
    w.writerow(r)
EOF
ok "a corrected reject file imports" \
	gridbook --db "$T/c.grid" import enterprise "$T/fixed.csv"
same "now 10,000" "$(count "$T/c.grid" enterprise)" "10000"

# A file saved by Excel: BOM and CRLF line ends.
newgrid "$T/d.grid"
python3 "$gen" --grid S01-G1 --rows 50 --bom --crlf "$T/bom.csv"
ok "a file with a BOM imports" \
	gridbook --db "$T/d.grid" import enterprise "$T/bom.csv"
same "50 imported from the BOM file" "$(count "$T/d.grid" enterprise)" "50"

# Contract checks naming their enterprise by USCC (and one by name); the
# coordinator by name; an empty coordinator takes the device's staff.
python3 - "$T/good.csv" "$T/checks.csv" <<'EOF'
import csv, sys
src = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
active = [r for r in src if r["status"] == "active"]
w = csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""))
w.writerow(["enterprise", "check_date", "coordinator", "employees_total",
            "contracts_signed", "insured", "hiring_registered", "findings",
            "outcome", "deadline"])
for i, r in enumerate(active[:300]):
    n = int(r["employees"])
    outcome = "rectify_order" if i % 10 == 0 else "compliant"
    w.writerow([r["uscc"].lower() if i % 7 == 0 else r["uscc"],
                "2026-03-%02d" % (1 + i % 14), "冯秀兰" if i % 2 else "",
                n, n - (i % 3 if n > 2 else 0), n, n,
                "未签合同%d人，已当场告知\n次日复查" % (i % 3) if i % 3 else "",
                outcome, "2026-04-30" if outcome == "rectify_order" else ""])
EOF
ok "contract checks naming enterprises by USCC import" \
	gridbook --db "$T/a.grid" import contract_check "$T/checks.csv"
same "300 checks" "$(count "$T/a.grid" contract_check)" "300"
out=$(sqlite3 "$T/a.grid" "SELECT count(*) FROM record c JOIN record e ON
	e.id = json_extract(c.body, '\$.enterprise') AND e.kind = 'enterprise'
	WHERE c.kind = 'contract_check' AND
	json_extract(c.body, '\$.coordinator') = 'K0001'")
same "each check names its enterprise by id, the coordinator by code" \
	"$out" "300"
want=$(grep -c ',2026-03-0[56],' "$T/checks.csv")
same "export --from --to takes the dates inclusive" \
	"$(gridbook --db "$T/a.grid" export contract_check --from 2026-03-05 \
		--to 2026-03-06 | python3 -c 'import csv, sys
print(len(list(csv.DictReader(sys.stdin))))')" "$want"
gridbook --db "$T/a.grid" export contract_check -o "$T/checks-out.csv" \
	2>/dev/null
newgrid "$T/e.grid"
gridbook --db "$T/e.grid" import enterprise "$T/e1.csv" 2>/dev/null
ok "exported checks (multi-line findings) import into another grid" \
	gridbook --db "$T/e.grid" import contract_check "$T/checks-out.csv"
gridbook --db "$T/e.grid" export contract_check -o "$T/checks-out2.csv" \
	2>/dev/null
if cmp -s "$T/checks-out.csv" "$T/checks-out2.csv"; then pass; else
	fail "the check exports differ"
fi

# Header errors: unknown column, missing required field, repeated column.
printf 'uscc,name,community,employees,colour\n' >"$T/unknown.csv"
fails 1 "an unknown column is refused" \
	gridbook --db "$T/d.grid" import enterprise "$T/unknown.csv"
has "the unknown column is named" "$(cat "$T/.err")" "colour"
printf 'uscc,community,employees\n' >"$T/noname.csv"
fails 1 "a missing required column is refused" \
	gridbook --db "$T/d.grid" import enterprise "$T/noname.csv"
has "the missing field is named" "$(cat "$T/.err")" "'name'"
printf 'uscc,name,Name,community,employees\n' >"$T/twice.csv"
fails 1 "a repeated column is refused" \
	gridbook --db "$T/d.grid" import enterprise "$T/twice.csv"
has "the repeated column is named" "$(cat "$T/.err")" "name"

# Duplicates inside one file, several bad lines all reported.
{
	head -n 4 "$T/good.csv"
	sed -n 3p "$T/good.csv"
	printf '91330782MA0000000,某某公司,company,S01-C01,,,5,active\n'
	printf '%s\n' "$(sed -n 6p "$T/good.csv" | sed 's/,S01-C0[0-9],/,S09-C99,/; s/,[^,]*社区,/,S09-C99,/')"
} >"$T/dups.csv"
newgrid "$T/f.grid"
fails 1 "duplicates within a file are refused" \
	gridbook --db "$T/f.grid" import enterprise "$T/dups.csv"
err=$(cat "$T/.err")
has "the duplicate USCC names the first line" "$err" \
	"dups.csv:5: uscc: "
has "... which is line 3" "$err" "is on line 3 too"
has "a short USCC on line 6" "$err" "dups.csv:6: uscc"
has "an unknown community on line 7" "$err" "dups.csv:7: community"
has "three bad lines counted" "$err" "3 bad lines of 6"
same "nothing imported" "$(count "$T/f.grid" enterprise)" "0"

# Rows CSV cannot read are bad lines too, and the rest is still checked.
{
	head -n 3 "$T/good.csv"
	printf '91330782000012HJ5R,a\0b,company,S01-C01,,,5,active\n'
	sed -n 5,6p "$T/good.csv"
	printf '"91330782000013B9GP,x,company,S01-C01,,,5,active\n'
} >"$T/csverr.csv"
fails 1 "unreadable rows are refused" \
	gridbook --db "$T/f.grid" import enterprise "$T/csverr.csv"
err=$(cat "$T/.err")
has "a NUL byte is named with its line" "$err" "csverr.csv: line 4: a NUL"
has "an unclosed quote is named" "$err" "line 7: a quoted field"
has "both counted" "$err" "2 bad lines of 6"

# Daily reports: one per officer and date.  They are imported on an
# officer's laptop, in a grid file whose staff is an officer.
gridbook --db "$T/p.grid" init --grid S01-G1 --staff J0002 >/dev/null
printf 'officer,date,households,summary\nJ0002,2026-03-10,5,走访\n周春梅,2026-03-10,3,巡查\nJ0002,2026-03-10,4,重复\n' \
	>"$T/daily.csv"
fails 1 "two daily reports of one officer and date are refused" \
	gridbook --db "$T/p.grid" import daily_report "$T/daily.csv"
has "the second report is named" "$(cat "$T/.err")" "daily.csv:4: date"
sed -i '$d' "$T/daily.csv"
ok "distinct daily reports import" \
	gridbook --db "$T/p.grid" import daily_report "$T/daily.csv"
fails 1 "a daily report the grid holds already is refused" \
	gridbook --db "$T/p.grid" import daily_report "$T/daily.csv"
has "... naming the existing one" "$(cat "$T/.err")" "already"

# Ids: a given id is kept; a bad or repeated id is a bad line.
id=$(sed -n 2p "$T/e1.csv" | cut -d, -f1)
same "an imported id is kept" \
	"$(sqlite3 "$T/b.grid" "SELECT count(*) FROM record WHERE id = '$id'")" "1"
printf 'id,uscc,name,community,employees\nnot-a-uuid,%s,甲公司,S01-C01,3\n' \
	"$(sed -n 2p "$T/good.csv" | cut -d, -f1)" >"$T/badid.csv"
fails 1 "a bad id is refused" \
	gridbook --db "$T/f.grid" import enterprise "$T/badid.csv"
has "the id is named" "$(cat "$T/.err")" "badid.csv:2: id"

# Voided records: export --all carries them, import keeps them voided.
ok "an enterprise can be voided" gridbook --db "$T/b.grid" enterprise void \
	"$id" --reason "重复录入"
same "export leaves it out" \
	"$(gridbook --db "$T/b.grid" export enterprise | wc -l)" "10000"
ok "export --all" gridbook --db "$T/b.grid" export enterprise --all \
	-o "$T/all.csv"
has "--all adds the void columns" "$(head -n 1 "$T/all.csv")" \
	",voided,void_reason"
has "the voided record is marked" "$(grep "$id" "$T/all.csv")" ",1,重复录入"
newgrid "$T/g.grid"
ok "export --all imports" \
	gridbook --db "$T/g.grid" import enterprise "$T/all.csv"
same "the record is voided in the new grid" \
	"$(sqlite3 "$T/g.grid" "SELECT voided, void_reason FROM record WHERE id = '$id'")" \
	"1|重复录入"

# Usage.
ok "import --help" gridbook import --help
has "import help names --skip-bad" "$(cat "$T/.out")" "--skip-bad"
ok "export --help" gridbook export --help
fails 2 "import without a file is a usage error" \
	gridbook --db "$T/a.grid" import enterprise
fails 2 "an unknown kind is a usage error" \
	gridbook --db "$T/a.grid" import shops "$T/good.csv"
fails 2 "an unknown format is a usage error" \
	gridbook --db "$T/a.grid" export enterprise --format xml
fails 1 "a missing file fails" \
	gridbook --db "$T/a.grid" import enterprise "$T/nope.csv"

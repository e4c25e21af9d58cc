#!/usr/bin/env bash
# CSV for Excel and WPS (SPEC §7): an export in Chinese starts with a BOM,
# has its headers in Chinese and the enterprise's name beside its id, and
# a cell that would run as a formula neutralised; it imports back into a
# new grid file as it is, and so does the same file saved as GB18030
# without BOM (what Excel writes on a Chinese PC): exporting the imported
# records gives the same file.  A file that is neither is refused with its
# line.  The catalogue here holds only the labels the test reads.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-12-02 10:00"
unset GRIDBOOK_DB

mkdir -p "$T/locale/zh_CN/LC_MESSAGES"
cat >"$T/zh.po" <<'EOF'
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "enterprise"
msgstr "企业"
msgid "labour-contract check"
msgstr "劳动合同检查"
msgid "record id"
msgstr "记录编号"
msgid "%s (name)"
msgstr "%s名称"
msgid "check date"
msgstr "检查日期"
msgid "coordinator"
msgstr "协调员"
msgid "employees in total"
msgstr "职工总数"
msgid "employees with a signed contract"
msgstr "已签合同人数"
msgid "employees insured"
msgstr "参保人数"
msgid "employees with hiring registered"
msgstr "用工备案人数"
msgid "wage arrears (yuan)"
msgstr "欠薪金额（元）"
msgid "findings"
msgstr "检查发现"
msgid "outcome"
msgstr "处理结果"
msgid "rectification deadline"
msgstr "整改期限"
EOF
msgfmt -o "$T/locale/zh_CN/LC_MESSAGES/gridbook.mo" "$T/zh.po"
zh() { GRIDBOOK_LOCALEDIR="$T/locale" LANG=C.UTF-8 LANGUAGE=zh_CN "$@"; }

for f in a b c e; do
	gridbook --db "$T/$f.db" init --grid S01-G1 --staff K0001 >/dev/null
done
A="--db $T/a.db"
gridbook $A enterprise add --uscc 91350100M000100Y43 \
	--name 望川市文昌精密机械有限公司 --community S01-C01 --employees 48 >/dev/null
gridbook $A contract_check add --enterprise 文昌精密 --employees-total 48 \
	--contracts-signed 41 --insured 40 --hiring-registered 45 \
	--outcome rectify_order --deadline 2026-12-20 \
	--findings '=HYPERLINK("http://example.invalid","7 人未签")' >/dev/null
gridbook $A contract_check add --enterprise 91350100M000100Y43 \
	--employees-total 48 --contracts-signed 48 --insured 48 \
	--hiring-registered 48 --findings '-合同齐全, 无欠薪' --check-date 昨天 \
	>/dev/null

ok "export enterprises" zh gridbook $A export enterprise -o "$T/ent.csv"
ok "export checks in Chinese" zh gridbook $A export contract_check \
	-o "$T/cc.csv"
same "the file starts with a BOM" "$(head -c 3 "$T/cc.csv" | od -An -tx1 | tr -d ' ')" "efbbbf"
head1=$(head -n 1 "$T/cc.csv" | sed 's/^\xef\xbb\xbf//')
same "headers in Chinese, names beside ids" "$head1" \
	"记录编号,企业,企业名称,检查日期,协调员,协调员名称,职工总数,已签合同人数,参保人数,用工备案人数,欠薪金额（元）,检查发现,处理结果,整改期限"
has "the enterprise's name is beside its id" "$(cat "$T/cc.csv")" \
	",望川市文昌精密机械有限公司,"
has "the coordinator's name is beside the code" "$(cat "$T/cc.csv")" \
	",K0001,冯秀兰,"
has "a formula cell is neutralised" "$(cat "$T/cc.csv")" \
	"\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"7 人未签\"\")\""
has "a cell starting with - is neutralised" "$(cat "$T/cc.csv")" \
	"\"'-合同齐全, 无欠薪\""
nform=$(python3 - "$T/cc.csv" <<'EOF'
import csv, sys
bad = 0
for row in csv.reader(open(sys.argv[1], encoding="utf-8-sig")):
    for cell in row:
        if cell[:1] in ("=", "+", "@", "\t", "\r") or (
                cell[:1] == "-" and not cell[1:].replace(".", "").isdigit()):
            bad += 1
print(bad)
EOF
)
same "no cell of the export starts a formula" "$nform" 0

# Into a new file, in Chinese, with BOM.
ok "import the enterprises" zh gridbook --db "$T/b.db" import enterprise "$T/ent.csv"
ok "import the Chinese checks" zh gridbook --db "$T/b.db" import contract_check "$T/cc.csv"
ok "export them again" zh gridbook --db "$T/b.db" export contract_check -o "$T/cc2.csv"
# The same Chinese files in an English session (SPEC §7: either language).
ok "Chinese headers import in English: enterprises" env GRIDBOOK_LOCALEDIR="$T/locale" \
	LANG=C.UTF-8 LANGUAGE= gridbook --db "$T/e.db" import enterprise "$T/ent.csv"
ok "Chinese headers import in English: checks" env GRIDBOOK_LOCALEDIR="$T/locale" \
	LANG=C.UTF-8 LANGUAGE= gridbook --db "$T/e.db" import contract_check "$T/cc.csv"
ok "and export as the Chinese session's" zh gridbook --db "$T/e.db" export contract_check -o "$T/cc3.csv"
same "the English session's import is the same" "$(cmp "$T/cc.csv" "$T/cc3.csv" && echo same)" same
same "the round trip gives the same file" "$(cmp "$T/cc.csv" "$T/cc2.csv" && echo same)" same
ok "the formula text is stored as typed" gridbook --db "$T/b.db" contract_check list --format json
has "stored findings" "$(cat "$T/.out")" '"findings":"=HYPERLINK('

# GB18030 without BOM, as Excel saves it.
python3 - "$T/cc.csv" "$T/cc-gb.csv" "$T/ent.csv" "$T/ent-gb.csv" <<'EOF'
import sys
for src, dst in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    text = open(src, encoding="utf-8-sig").read()
    open(dst, "wb").write(text.replace("\n", "\r\n").encode("gb18030"))
EOF
same "the GB18030 file is not UTF-8" "$(python3 -c 'import sys
try:
    open(sys.argv[1], encoding="utf-8").read(); print("utf-8")
except UnicodeDecodeError: print("not")' "$T/cc-gb.csv")" not
ok "import GB18030 enterprises" zh gridbook --db "$T/c.db" import enterprise "$T/ent-gb.csv"
ok "import GB18030 checks" zh gridbook --db "$T/c.db" import contract_check "$T/cc-gb.csv"
ok "export them again" zh gridbook --db "$T/c.db" export contract_check -o "$T/cc3.csv"
same "GB18030 round trip gives the same file" "$(cmp "$T/cc.csv" "$T/cc3.csv" && echo same)" same

# English: field names as headers (no catalogue), still with BOM.
ok "export in English" gridbook $A export contract_check -o "$T/en.csv"
same "English header" "$(head -n 1 "$T/en.csv" | sed 's/^\xef\xbb\xbf//' | cut -d, -f1-4)" \
	"id,enterprise,enterprise_name,check_date"
gridbook --db "$T/d.db" init --grid S01-G1 --staff K0001 >/dev/null
gridbook $A export enterprise -o "$T/en-ent.csv" 2>/dev/null
ok "English enterprises import" gridbook --db "$T/d.db" import enterprise "$T/en-ent.csv"
ok "the English file imports" gridbook --db "$T/d.db" import contract_check "$T/en.csv"

printf 'uscc,name\n91350100M000100Y43,ok\n\xff\x80,x\n' >"$T/bad.csv"
fails 1 "neither UTF-8 nor GB18030" gridbook --db "$T/d.db" import enterprise "$T/bad.csv"
has "names the line" "$(cat "$T/.err")" "line 3"

#!/usr/bin/env bash
# A kind is one entry of the kinds table plus its proto message: `make
# testkind` builds the three programs with the test kind fire_check
# (tests/testkind/: 消防检查, a fire-safety check by an officer) and
# nothing else changed, and here it is entered (its rules between fields
# refuse what they should), listed, exported, imported into another grid
# file and synced through a real gridbook-hq to a second laptop, which
# lists what the first entered.  The ordinary build knows no such kind.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
# The test build goes under the build directory of the programs under
# test, so that two runs from one tree each build and run their own.
BD=$(cd "$(dirname "$(command -v gridbook 2>/dev/null ||
	echo "$top/build/gridbook")")" && pwd)
TK="$BD/testkind"
if ! make -C "$top" --no-print-directory B="${BD#"$top"/}" testkind >"$T/make.log" 2>&1; then
	fail "make testkind: $(grep -m 3 -E 'error|Error' "$T/make.log")"
	exit 1
fi
fails 2 "the ordinary build has no fire_check" gridbook fire_check list
export PATH="$TK:$PATH"
. "$top/tests/e2e/sync-lib.sh"
[ "$(command -v gridbook)" = "$TK/gridbook" ] && pass ||
	fail "not the test build: $(command -v gridbook)"

A="$T/a.grid"
B="$T/b.grid"
hq_seed
ok "the test build's HQ starts" hq_start
ok "init A" gridbook --db "$A" init --grid S01-G1 --staff J0002
ok "init B" gridbook --db "$B" init --grid S01-G1 --staff J0003
ok "A is enrolled" enroll "$A" officer
ok "B is enrolled" enroll "$B" officer

ok "help lists the kind" gridbook --help
has "help names fire_check" "$(cat "$T/.out")" "fire_check"

# add, with the entry's defaults and rules.
ok "add" gridbook --db "$A" fire_check add --date 2026-11-24 \
	--place "桂花园小区 3 号楼地下车库" --hazards 2 --rectified 1 \
	--result hazard_found --note "消防通道堆放杂物，已责令清理"
F1=$(cat "$T/.out")
ok "add" gridbook --db "$A" fire_check add --date 2026-11-25 \
	--place 文昌路农贸市场
F2=$(cat "$T/.out")
fails 1 "rectified above hazards is refused" gridbook --db "$A" fire_check \
	add --date 2026-11-25 --place 便民超市 --hazards 1 --rectified 3
has "the rule is named" "$(cat "$T/.err")" "rectified (3) exceeds hazards (1)"
fails 1 "a hazard without a note is refused" gridbook --db "$A" fire_check \
	add --date 2026-11-25 --place 便民超市 --hazards 1 --result hazard_found
has "the rule is named" "$(cat "$T/.err")" \
	"note: required when result is hazard_found"
ok "show" gridbook --db "$A" fire_check show "$F2" --format json
has "the default officer is the file's" "$(cat "$T/.out")" '"officer":"J0002"'
has "the default result" "$(cat "$T/.out")" '"result":"passed"'

# list, with the entry's columns.
ok "list" gridbook --db "$A" fire_check list
has "list shows the place" "$(cat "$T/.out")" "文昌路农贸市场"
has "list shows the result" "$(cat "$T/.out")" "hazard_found"
same "list has a line each" "$(grep -c 'J0002\|冯桂英' "$T/.out")" 2
ok "edit" gridbook --db "$A" fire_check edit "$F2" --hazards 0 \
	--note 复查无隐患
ok "void" gridbook --db "$A" fire_check add --date 2026-11-26 \
	--place 重复录入
ok "void" gridbook --db "$A" fire_check void "$(cat "$T/.out")" \
	--reason 重复录入

# export, the same as list, and import into another file.
ok "export" gridbook --db "$A" export fire_check --all -o "$T/a.csv"
ok "list csv" gridbook --db "$A" fire_check list --all --format csv
cmp -s "$T/.out" "$T/a.csv" && pass || fail "list and export differ"
same "export has a header and three records" "$(grep -c . "$T/a.csv")" 4
ok "init C" gridbook --db "$T/c.grid" init --grid S01-G1 --staff J0002
ok "import" gridbook --db "$T/c.grid" import fire_check "$T/a.csv"
ok "export C" gridbook --db "$T/c.grid" export fire_check --all -o "$T/c.csv"
cmp -s "$T/a.csv" "$T/c.csv" && pass ||
	fail "export, import, export differ: $(diff "$T/a.csv" "$T/c.csv" | head -4)"
printf 'date,place,hazards,rectified,result,note\n%s\n%s\n' \
	"2026-11-27,滨河小学食堂,0,0,passed," \
	"2026-11-27,新华书店,3,3,hazard_found,灭火器过期三具，已现场更换" \
	>"$T/b.csv"
ok "import new records into B" gridbook --db "$B" import fire_check "$T/b.csv"
fails 1 "import checks the rules" gridbook --db "$B" import fire_check \
	<(printf 'date,place,hazards,rectified\n2026-11-27,药店,1,2\n')
has "import names the rule" "$(cat "$T/.err")" "exceeds hazards"

# sync through HQ: both laptops end with all five current records.
ok "A syncs" gridbook --db "$A" sync
has "A sent its versions" "$(cat "$T/.out")" "sent"
ok "B syncs" gridbook --db "$B" sync
ok "A syncs again" gridbook --db "$A" sync
same "HQ holds the kind's records" \
	"$(hq_sql "SELECT count(*) FROM record_current WHERE kind = 'fire_check'")" 5
same "HQ holds the edit" \
	"$(hq_sql "SELECT json_extract(body, '$.note') FROM record_current
		WHERE kind = 'fire_check' AND json_extract(body, '$.place') = '文昌路农贸市场'")" \
	复查无隐患
same "nothing was rejected" "$(hq_sql "SELECT count(*) FROM rejection")" 0
for f in "$A" "$B"; do
	ok "list $(basename "$f")" gridbook --db "$f" fire_check list --format csv
	same "$(basename "$f") has the four current records" \
		"$(tail -n +2 "$T/.out" | grep -c .)" 4
	has "$(basename "$f") has A's edit" "$(cat "$T/.out")" 复查无隐患
	has "$(basename "$f") has B's import" "$(cat "$T/.out")" 新华书店
done
ok "export A" gridbook --db "$A" export fire_check --all --format json
cp "$T/.out" "$T/a.json"
ok "export B" gridbook --db "$B" export fire_check --all --format json
cmp -s "$T/.out" "$T/a.json" && pass || fail "A and B hold different records"

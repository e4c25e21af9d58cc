#!/usr/bin/env bash
# Records through the command line, for each of the ten kinds: add, list,
# show, edit (history keeps the earlier value), void (gone from list, kept
# in list --all).  Chinese text round-trips through add, list, show, CSV
# and JSON; a second daily report of an officer for a date edits the first.
# Labour kinds are entered in a coordinator's grid file, policing kinds in
# a police chief's file of the same grid.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
command -v gridbook >/dev/null || export PATH="$top/build:$PATH"
S=${GRIDBOOK_SEEDS:-$top/seeds}
export GRIDBOOK_SEEDS=$S
export GRIDBOOK_NOW="2026-03-12 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_DB="$T/grid.db"
G=S01-G1

# Reference codes of the grid, read from the seeds (lib.sh).
AREA=$(first_of police_areas.csv)
COMM=$(first_of communities.csv)
COMM_NAME=$(awk -F, -v c="$COMM" '$1 == c {print $3}' "$S/communities.csv")
AREA_NAME=$(awk -F, -v c="$AREA" '$1 == c {print $3}' "$S/police_areas.csv")
COORD=$(staff_of coordinator | head -n 1)
COORD_NAME=$(awk -F, -v c="$COORD" '$1 == c {print $2}' "$S/staff.csv")
CHIEF=$(staff_of chief "$AREA" | head -n 1)
OFF1=$(staff_of officer "$AREA" | head -n 1)
OFF2=$(staff_of officer "$AREA" | sed -n 2p)
OFF1_NAME=$(awk -F, -v c="$OFF1" '$1 == c {print $2}' "$S/staff.csv")
OFF2_NAME=$(awk -F, -v c="$OFF2" '$1 == c {print $2}' "$S/staff.csv")
GUARD1=$(staff_of guard "$AREA" | head -n 1)
GUARD2=$(staff_of guard "$AREA" | sed -n 2p)
GUARD1_NAME=$(awk -F, -v c="$GUARD1" '$1 == c {print $2}' "$S/staff.csv")
for v in AREA COMM COORD CHIEF OFF1 OFF2 GUARD1 GUARD2; do
	[ -n "${!v}" ] || { fail "no $v for $G in the seeds"; exit 1; }
done

uscc() { # the 17 first characters: a valid code with its check character
	python3 - "$1" <<'EOF'
import sys
A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
b = sys.argv[1]
print(b + A[(31 - sum(A.index(c) * w for c, w in zip(b, W)) % 31) % 31])
EOF
}

ok "init" gridbook init --grid "$G" --staff "$COORD"
has "init names the grid" "$(cat "$T/.out")" "$G"
ME=$COORD # the author of what is entered

# add KIND ARGS...: adds a record; its id goes into $ID.
add() {
	local kind=$1
	shift
	ok "$kind add" gridbook "$kind" add "$@" </dev/null
	ID=$(cat "$T/.out")
	same "$kind add prints one id" \
		"$(printf '%s' "$ID" | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$')" 1
}

rows() { # KIND [OPTIONS]: the number of records list gives
	gridbook "$@" --format csv | tail -n +2 | grep -c .
}

# cycle KIND ID TEXT SHOWN FIELD OLD NEW OLDSHOWN NEWSHOWN: the whole life
# of a record.  TEXT is a value (Chinese) that show, CSV and JSON carry and
# SHOWN what the list table shows of it; FIELD is edited from OLD to NEW,
# which show and history give as OLDSHOWN and NEWSHOWN.
cycle() {
	local kind=$1 id=$2 text=$3 shown=$4 field=$5 old=$6 new=$7
	local oldshown=$8 newshown=$9 short out n
	n=$(rows "$kind" list)
	ok "$kind list" gridbook "$kind" list
	out=$(cat "$T/.out")
	# The table shows a prefix of the id that show and edit take.
	short=$(awk 'NR > 2 && length($1) >= 13 {print $1}' "$T/.out" |
		while read -r p; do
			case $id in "$p"*) echo "$p" ;; esac
		done | head -n 1)
	if [ -n "$short" ]; then pass; else
		fail "$kind list shows the record"
		short=$id
	fi
	has "$kind list shows the text" "$out" "$shown"
	has "$kind list counts" "$out" "$n record"
	ok "$kind show by id prefix" gridbook "$kind" show "$short"
	out=$(cat "$T/.out")
	has "$kind show gives the full id" "$out" "$id"
	has "$kind show has the text" "$out" "$text"
	has "$kind show has the old value" "$out" "$oldshown"
	has "$kind show has the author" "$out" "$ME"
	ok "$kind csv" gridbook "$kind" list --format csv
	out=$(cat "$T/.out")
	has "$kind csv header" "$(head -n 1 "$T/.out")" "id,"
	has "$kind csv header names the field" "$(head -n 1 "$T/.out")" "$field"
	has "$kind csv row" "$out" "$id,"
	has "$kind csv text" "$(grep "^$id," "$T/.out")" "$text"
	ok "$kind json" gridbook "$kind" list --format json
	out=$(cat "$T/.out")
	has "$kind json id" "$out" "\"id\":\"$id\""
	has "$kind json text" "$out" "$text"
	cp "$T/.out" "$T/json"
	ok "$kind json parses" python3 -c '
import json, sys
a = [r for r in json.load(open(sys.argv[1])) if r["id"] == sys.argv[2]]
assert len(a) == 1 and not a[0]["voided"] and a[0]["version"] > 0
assert sys.argv[3] in json.dumps(a[0]["values"], ensure_ascii=False)
' "$T/json" "$id" "$text"

	ok "$kind edit" gridbook "$kind" edit "$short" "--$field" "$new"
	same "$kind edit prints the id" "$(cat "$T/.out")" "$id"
	ok "$kind show after edit" gridbook "$kind" show "$id"
	has "$kind show has the new value" "$(cat "$T/.out")" "$newshown"
	ok "$kind history" gridbook "$kind" history "$id"
	out=$(cat "$T/.out")
	has "$kind history version 1" "$out" "#1"
	has "$kind history version 2" "$out" "#2"
	has "$kind history keeps the earlier value" "$out" \
		"$field: $oldshown"
	has "$kind history shows the new value" "$out" "$newshown"
	same "$kind history has two versions" \
		"$(grep -c '^#[0-9]' "$T/.out")" 2

	fails 2 "$kind void without a reason" gridbook "$kind" void "$id"
	ok "$kind void" gridbook "$kind" void "$short" --reason "录入重复，作废"
	same "$kind void prints the id" "$(cat "$T/.out")" "$id"
	ok "$kind list after void" gridbook "$kind" list
	out=$(cat "$T/.out")
	case "$out" in *"$short"*) fail "$kind voided record still listed" ;;
	*) pass ;; esac
	has "$kind list after void counts" "$out" "$((n - 1)) record"
	ok "$kind list --all" gridbook "$kind" list --all
	out=$(cat "$T/.out")
	has "$kind list --all shows the voided record" "$out" "$short"
	has "$kind list --all marks it" "$out" "voided"
	same "$kind list --all counts it" "$(rows "$kind" list --all)" "$n"
	ok "$kind csv --all" gridbook "$kind" list --all --format csv
	has "$kind csv --all has a voided column" \
		"$(head -n 1 "$T/.out")" ",voided"
	same "$kind csv --all marks it" \
		"$(grep "^$id," "$T/.out" | grep -c ',1,[^,]*$')" 1
	ok "$kind show voided" gridbook "$kind" show "$id"
	has "$kind show gives the reason" "$(cat "$T/.out")" "录入重复，作废"
	fails 1 "$kind edit of a voided record" \
		gridbook "$kind" edit "$id" "--$field" "$old"
	has "$kind edit of a voided record says so" "$(cat "$T/.err")" "voided"
	ok "$kind history after void" gridbook "$kind" history "$id"
	same "$kind history has three versions" \
		"$(grep -c '^#[0-9]' "$T/.out")" 3
}

U1=$(uscc 91110105MA01WCJX2)
U2=$(uscc 92110105MA0TT7Y3Q)

# Records the others refer to, kept throughout.
add enterprise --uscc "$U1" --name 望川精密机械有限公司 --type company \
	--community "$COMM" --address 文昌路12号 --industry 机械制造 \
	--employees 40
E1=$ID
add contract_check --enterprise "$E1" --check-date 2026-03-02 \
	--employees-total 40 --contracts-signed 35 --insured 30 \
	--hiring-registered 38 --outcome rectify_order --deadline 2026-04-02 \
	--findings 五人未签订劳动合同
CK1=$ID

# 1 enterprise: name given by its start, community by name.
add enterprise --uscc "$U2" --name 桂园小吃店 --type individual \
	--community "${COMM_NAME:0:2}" --address "文昌路 8 号, 底商" \
	--industry 餐饮 --employees 6
cycle enterprise "$ID" 桂园小吃店 桂园小吃店 employees 6 9 6 9
ok "enterprise list shows the community by name" gridbook enterprise list
has "community name in the table" "$(cat "$T/.out")" "$COMM_NAME"
ok "enterprise csv" gridbook enterprise list --all --format csv
has "a comma in a value is quoted" "$(cat "$T/.out")" '"文昌路 8 号, 底商"'
ok "enterprise list --community" gridbook enterprise list \
	--community "$COMM_NAME"
has "community filter keeps the enterprise" "$(cat "$T/.out")" "望川精密"

# 2 contract_check, naming the enterprise by the start of its name.
add contract_check --enterprise 望川精密 --check-date 2026-03-10 \
	--employees-total 40 --contracts-signed 40 --insured 40 \
	--hiring-registered 40 --wage-arrears 1,200.5 --outcome notice \
	--findings 工资表未按月公示
CK2=$ID
ok "contract_check show" gridbook contract_check show "$CK2"
has "the enterprise is shown by name" "$(cat "$T/.out")" "望川精密机械有限公司"
has "money is written with two decimals" "$(cat "$T/.out")" "1200.50"
has "the coordinator defaults to the laptop's staff" "$(cat "$T/.out")" \
	"$COORD_NAME ($COORD)"
ok "contract_check list --from" gridbook contract_check list \
	--from 2026-03-05 --format csv
same "the date filter keeps one" "$(tail -n +2 "$T/.out" | wc -l)" 1
has "the later check" "$(cat "$T/.out")" "$CK2"
ok "contract_check list --staff" gridbook contract_check list \
	--staff "$COORD_NAME" --format csv
same "the staff filter keeps both" "$(tail -n +2 "$T/.out" | wc -l)" 2
ok "contract_check list --status" gridbook contract_check list \
	--status rectify_order --format csv
same "the status filter keeps one" "$(tail -n +2 "$T/.out" | wc -l)" 1
ok "contract_check list --limit" gridbook contract_check list --limit 1 \
	--format csv
same "the limit keeps one" "$(tail -n +2 "$T/.out" | wc -l)" 1
cycle contract_check "$CK2" 工资表未按月公示 望川精密 contracts_signed 40 39 \
	40 39

# 3 rectification of the order.
add rectification --check "$CK1" --date 2026-03-11 --result not_yet \
	--note 已下达整改通知，企业承诺月底前补签
cycle rectification "$ID" 已下达整改通知 已下达整改通知 result not_yet \
	rectified not_yet rectified
ok "rectification list" gridbook rectification list --all
has "the check is shown by enterprise" "$(cat "$T/.out")" "望川精密"

# 4 dispute: two fields changed at once go into one version.
add dispute --enterprise "$E1" --workers 5 --category wages \
	--received-date 2026-03-01 --level street --status open \
	--note 拖欠三个月工资
D=$ID
cycle dispute "$D" 拖欠三个月工资 望川精密 workers 5 6 5 6

# 5 employment.
add employment --enterprise "$U1" --date 2026-03-01 --headcount 40 \
	--hires 3 --separations 1 --vacancies 2
ok "employment show" gridbook employment show "$ID"
has "the enterprise named by USCC is shown by name" "$(cat "$T/.out")" \
	"望川精密机械有限公司"
cycle employment "$ID" "$E1" 望川精密 headcount 40 42 40 42

# The policing kinds go into the grid file of an officer's laptop: here
# the chief of the area is its staff.
export GRIDBOOK_DB="$T/police.db"
ok "init a chief's file" gridbook init --grid "$G" --staff "$CHIEF"
ME=$CHIEF

# 6 patrol: the guards as a list of names and codes.
add patrol --area "$AREA" --start "2026-03-11 22:00" \
	--end "2026-03-12 02:00" --leader "$CHIEF" \
	--guards "$GUARD1_NAME,$GUARD2" --mode foot --communities "$COMM" \
	--incidents 1 --note 夜巡发现一处消防通道堵塞
P=$ID
ok "patrol csv" gridbook patrol list --format csv
has "guards are stored as codes" "$(cat "$T/.out")" "\"$GUARD1,$GUARD2\""
has "times are local" "$(cat "$T/.out")" "2026-03-11 22:00"
ok "patrol list" gridbook patrol list
has "the area is shown by name" "$(cat "$T/.out")" "$AREA_NAME"
has "guards are shown by name" "$(cat "$T/.out")" "$GUARD1_NAME"
cycle patrol "$P" 夜巡发现一处消防通道堵塞 夜巡发现一处消防通道堵塞 incidents \
	1 2 1 2

# 7 handover.
add handover --area "$AREA" --time "2026-03-12 08:00" \
	--from-officer "$OFF1" --to-officer "$OFF2" \
	--open-items 两起纠纷待回访 --note 交接正常
cycle handover "$ID" 两起纠纷待回访 两起纠纷待回访 open_items 两起纠纷待回访 一起纠纷待回访 \
	两起纠纷待回访 一起纠纷待回访

# 8 daily_report; a second report for the same officer and date edits it.
add daily_report --officer "$OFF1" --date 2026-03-11 --households 12 \
	--resident-checks 5 --temporary-checks 3 --key-checks 1 --places 4 \
	--disputes-mediated 1 --summary 走访辖区商户，排查隐患
DR=$ID
ok "a second daily report for the date" gridbook daily_report add \
	--officer "$OFF1_NAME" --date 2026-03-11 --places 6 </dev/null
same "it edits the first" "$(cat "$T/.out")" "$DR"
has "and says so" "$(cat "$T/.err")" "already has a daily report"
ok "daily_report csv" gridbook daily_report list --format csv
same "still one report" "$(tail -n +2 "$T/.out" | wc -l)" 1
has "the new value" "$(cat "$T/.out")" ",6,"
has "the other values kept" "$(cat "$T/.out")" "走访辖区商户，排查隐患"
ok "daily_report history" gridbook daily_report history "$DR"
has "places changed" "$(cat "$T/.out")" "places: 4"
# Bring it back to one version for the common cycle: a fresh date.
add daily_report --officer "$OFF2" --date 2026-03-10 --households 8 \
	--summary 入户核查暂住人口
cycle daily_report "$ID" 入户核查暂住人口 "$OFF2_NAME" households 8 9 \
	8 9

# 9 reception.
add reception --officer "$OFF1" --room "$AREA" --start "2026-03-11 09:00" \
	--end "2026-03-11 11:30" --visitors 6 --note 接待群众咨询户籍
cycle reception "$ID" 接待群众咨询户籍 接待群众咨询户籍 visitors 6 7 6 7

# 10 request: the deadline comes from the priority.
add request --area "$AREA" --received-at "2026-03-11 20:15" \
	--channel phone --category help --priority urgent --officer "$OFF2" \
	--subject 老人走失求助 --resolved-at "2026-03-11 20:50" \
	--result 已找到并护送回家
RQ=$ID
ok "request show" gridbook request show "$RQ"
has "urgent: the deadline is one hour on" "$(cat "$T/.out")" \
	"2026-03-11 21:15"
cycle request "$RQ" 老人走失求助 老人走失求助 subject 老人走失求助 儿童走失求助 \
	老人走失求助 儿童走失求助

# Back on the coordinator's laptop.
export GRIDBOOK_DB="$T/grid.db"
ME=$COORD

# An optional field cleared with an empty value.
ok "clear a note" gridbook dispute add --workers 2 --category other \
	--received-date 2026-03-03 --note 临时备注 </dev/null
D2=$(cat "$T/.out")
ok "edit --note ''" gridbook dispute edit "$D2" --note ''
ok "edit --FIELD=VALUE" gridbook dispute edit "$D2" --workers=3
ok "dispute csv" gridbook dispute list --format csv
has "the value given with =" "$(grep "^$D2," "$T/.out")" ",3,"
case "$(cat "$T/.out")" in *临时备注*) fail "the note was not cleared" ;;
*) pass ;; esac
ok "history shows the cleared note" gridbook dispute history "$D2"
has "the old note is kept" "$(cat "$T/.out")" "note: 临时备注"

# Help for every kind and verb.
for k in enterprise contract_check rectification dispute employment \
	patrol handover daily_report reception request; do
	ok "$k --help" gridbook "$k" --help
	for v in add edit void list show history; do
		ok "$k $v --help" gridbook "$k" "$v" --help
	done
done
ok "init --help" gridbook init --help
ok "ref --help" gridbook ref --help
fails 2 "a kind without a verb" gridbook patrol
fails 2 "an unknown verb" gridbook patrol fly

# Reference data.
ok "ref" gridbook ref
has "ref lists communities" "$(cat "$T/.out")" "$COMM_NAME"
ok "ref staff" gridbook ref staff
has "ref staff lists the coordinator" "$(cat "$T/.out")" "$COORD_NAME"
ok "ref areas" gridbook ref areas
has "ref areas lists the area" "$(cat "$T/.out")" "$AREA_NAME"

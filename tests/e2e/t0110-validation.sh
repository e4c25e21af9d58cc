#!/usr/bin/env bash
# Entry is refused when a value breaks a rule of SPEC §2: exit 1, and the
# message names the field; nothing is written.  Missing required fields
# without a terminal exit 2 and list every one of them.  init refuses to
# overwrite a file and makes it private (0600).  A grid file takes only the
# kinds its staff's role writes (a coordinator labour, an officer or chief
# policing, a guard none), by add, edit, void and import alike: exit 1,
# nothing written.  Labour kinds are tried in a coordinator's file,
# policing kinds in an officer's.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
command -v gridbook >/dev/null || export PATH="$top/build:$PATH"
S=${GRIDBOOK_SEEDS:-$top/seeds}
export GRIDBOOK_SEEDS=$S
export GRIDBOOK_NOW="2026-03-12 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_DB="$T/grid.db"
G=S01-G1

AREA=$(first_of police_areas.csv)
COMM=$(first_of communities.csv)
OTHER_COMM=$(awk -F, -v g="$G" 'NR > 1 && $2 != g {print $1; exit}' \
	"$S/communities.csv")
OTHER_STAFF=$(awk -F, -v g="$G" 'NR > 1 && $4 != g && $3 == "officer" \
	{print $1; exit}' "$S/staff.csv")
COORD=$(staff_of coordinator | head -n 1)
COORD_NAME=$(awk -F, -v c="$COORD" '$1 == c {print $2}' "$S/staff.csv")
CHIEF=$(staff_of chief "$AREA" | head -n 1)
OFF1=$(staff_of officer "$AREA" | head -n 1)
OFF1_NAME=$(awk -F, -v c="$OFF1" '$1 == c {print $2}' "$S/staff.csv")
OFF2=$(staff_of officer "$AREA" | sed -n 2p)
GUARD1=$(staff_of guard "$AREA" | head -n 1)
GUARD2=$(staff_of guard "$AREA" | sed -n 2p)
for v in AREA COMM OTHER_COMM OTHER_STAFF COORD CHIEF OFF1 OFF2 GUARD1 \
	GUARD2; do
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
records() { # the number of records, voided too, in the grid file
	local n=0 k
	for k in enterprise contract_check rectification dispute employment \
		patrol handover daily_report reception request; do
		n=$((n + $(gridbook "$k" list --all --format csv | tail -n +2 |
			grep -c .)))
	done
	echo "$n"
}

# init.
fails 2 "init without --grid" gridbook init
(unset GRIDBOOK_DB; fails 2 "init without a file" gridbook init --grid "$G")
fails 1 "init of a grid not in the seeds" gridbook init --grid S99-G9
has "the grid is named" "$(cat "$T/.err")" "S99-G9"
[ -e "$GRIDBOOK_DB" ] && fail "a failed init left a file" || pass
fails 1 "init with staff not of the grid" gridbook init --grid "$G" \
	--staff "$OTHER_STAFF"
has "the staff option is named" "$(cat "$T/.err")" "--staff"
[ -e "$GRIDBOOK_DB" ] && fail "a failed init left a file" || pass
fails 1 "init with a seeds dir that does not exist" gridbook init \
	--grid "$G" --seeds "$T/nowhere"
[ -e "$GRIDBOOK_DB" ] && fail "a failed init left a file" || pass
ok "init" gridbook init --grid "$G" --staff "$COORD"
same "the grid file is private" "$(stat -c %a "$GRIDBOOK_DB")" 600
cp "$GRIDBOOK_DB" "$T/before"
fails 1 "init refuses to overwrite" gridbook init --grid "$G"
has "and says so" "$(cat "$T/.err")" "already exists"
ok "the file is untouched" cmp "$GRIDBOOK_DB" "$T/before"
fails 1 "a grid file that does not exist" \
	gridbook --db "$T/missing.db" patrol list
has "the file is named" "$(cat "$T/.err")" "missing.db"
[ -e "$T/missing.db" ] && fail "listing created a file" || pass
(unset GRIDBOOK_DB; fails 1 "no grid file given" gridbook patrol list)

U1=$(uscc 91110105MA01WCJX2)
ok "an enterprise" gridbook enterprise add --uscc "$U1" \
	--name 望川精密机械有限公司 --community "$COMM" --employees 40
E1=$(cat "$T/.out")
ok "a compliant check" gridbook contract_check add --enterprise "$E1" \
	--check-date 2026-03-02 --employees-total 40 --contracts-signed 40 \
	--insured 40 --hiring-registered 40 --outcome compliant
CK=$(cat "$T/.out")
ok "a second enterprise" gridbook enterprise add \
	--uscc "$(uscc 93110105MA0XK2WB1)" --name 文昌便民超市 \
	--community "$COMM" --employees 8
E2=$(cat "$T/.out")
N=$(records)

# bad NAME FIELD ARGS...: the command is refused with exit 1 and a message
# that names FIELD.
bad() {
	local what=$1 field=$2
	shift 2
	fails 1 "$what" gridbook "$@" </dev/null
	has "$what: the field is named" "$(cat "$T/.err")" "$field"
	has "$what: one line on stderr" "$(head -c 10 "$T/.err")" "gridbook: "
}

check() { # contract_check add with ARGS over a valid base
	local -A v=([enterprise]=$E1 [check-date]=2026-03-10
		[employees-total]=40 [contracts-signed]=30 [insured]=30
		[hiring-registered]=30 [outcome]=notice)
	local args=() k
	while [ $# -gt 0 ]; do v[$1]=$2; shift 2; done
	for k in "${!v[@]}"; do
		[ -n "${v[$k]}" ] && args+=("--$k" "${v[$k]}")
	done
	printf '%s\0' contract_check add "${args[@]}"
}
bad_check() { # NAME FIELD KEY VALUE...
	local what=$1 field=$2
	shift 2
	local -a a
	mapfile -d '' a < <(check "$@")
	bad "$what" "$field" "${a[@]}"
}

bad_check "signed exceeds total" contracts_signed contracts-signed 41
bad_check "insured exceeds total" insured insured 45
bad_check "registered exceeds total" hiring_registered \
	hiring-registered 50
bad_check "a negative count" contracts_signed contracts-signed -1
bad_check "an order without a deadline" deadline outcome rectify_order
bad_check "a deadline before the check" deadline outcome rectify_order \
	deadline 2026-03-01
bad_check "a deadline on the check date" deadline outcome rectify_order \
	deadline 2026-03-10
bad_check "a check date in the future" check_date check-date 2026-03-13
bad_check "a check date that is no date" check_date check-date 2026-02-30
bad_check "an unknown outcome" outcome outcome warning
bad_check "an enterprise that does not exist" enterprise enterprise 不存在的公司
bad_check "a coordinator who is an officer" coordinator coordinator "$OFF1"
bad_check "wage arrears with three decimals" wage_arrears wage-arrears 1.005
bad "a bad USCC" uscc enterprise add --uscc 91110105MA01WCJX2Z \
	--name 错误代码公司 --community "$COMM" --employees 3
bad "a USCC of the wrong length" uscc enterprise add --uscc 9111010 \
	--name 错误代码公司 --community "$COMM" --employees 3
bad "a USCC already recorded" uscc enterprise add --uscc "$U1" \
	--name 重复登记公司 --community "$COMM" --employees 3
has "the holder is named" "$(cat "$T/.err")" 望川精密机械有限公司
bad "an edit to a USCC already recorded" uscc enterprise edit "$E2" \
	--uscc "$U1"
bad "a community not in the grid" community enterprise add \
	--uscc "$(uscc 92110105MA0TT7Y3Q)" --name 外网格商店 \
	--community "$OTHER_COMM" --employees 3
fails 2 "an empty enterprise name" gridbook enterprise add \
	--uscc "$(uscc 92110105MA0TT7Y3Q)" --name "   " --community "$COMM" \
	--employees 3 </dev/null
has "an empty name is missing" "$(cat "$T/.err")" "missing required field: name"
bad "a follow-up of a compliant check" check rectification add \
	--check "$CK" --date 2026-03-11 --result rectified
bad "a follow-up of no check" check rectification add \
	--check 0000aaaa-0000-7000-8000-000000000000 --date 2026-03-11 \
	--result rectified
bad "a dispute closed before it was received" closed_date dispute add \
	--workers 3 --category wages --received-date 2026-03-05 \
	--status closed --closed-date 2026-03-01
bad "a closed dispute without a date" closed_date dispute add \
	--workers 3 --category wages --received-date 2026-03-05 --status closed
bad "an unknown dispute category" category dispute add --workers 3 \
	--category 工资 --received-date 2026-03-05
bad "a dispute of no workers" workers dispute add --workers 0 \
	--category wages --received-date 2026-03-05
bad "negative hires" hires employment add --enterprise "$E1" \
	--date 2026-03-01 --headcount 40 --hires -3
bad "negative headcount" headcount employment add --enterprise "$E1" \
	--date 2026-03-01 --headcount -1
bad "negative vacancies" vacancies employment add --enterprise "$E1" \
	--date 2026-03-01 --headcount 4 --vacancies -2
same "nothing was written by refused entries" "$(records)" "$N"

# The policing kinds, in the grid file of an officer's laptop.
export GRIDBOOK_DB="$T/police.db"
ok "init an officer's file" gridbook init --grid "$G" --staff "$OFF1"
bad "a patrol ending before it starts" end patrol add --area "$AREA" \
	--start "2026-03-11 22:00" --end "2026-03-11 21:00" --leader "$CHIEF"
bad "a patrol over 24 hours" end patrol add --area "$AREA" \
	--start "2026-03-10 08:00" --end "2026-03-11 09:00" --leader "$CHIEF"
bad "a patrol in the future" start patrol add --area "$AREA" \
	--start "2026-03-12 22:00" --end "2026-03-12 23:00" --leader "$CHIEF"
bad "a patrol led by a guard" leader patrol add --area "$AREA" \
	--start "2026-03-11 22:00" --end "2026-03-11 23:00" --leader "$GUARD1"
bad "an officer as a guard" guards patrol add --area "$AREA" \
	--start "2026-03-11 22:00" --end "2026-03-11 23:00" \
	--leader "$CHIEF" --guards "$GUARD1,$OFF1"
bad "an unknown patrol mode" mode patrol add --area "$AREA" \
	--start "2026-03-11 22:00" --end "2026-03-11 23:00" \
	--leader "$CHIEF" --mode horse
bad "a time that is no time" start patrol add --area "$AREA" \
	--start "昨晚十点" --end "2026-03-11 23:00" --leader "$CHIEF"
bad "an area not in the grid" area patrol add --area PA-99 \
	--start "2026-03-11 22:00" --end "2026-03-11 23:00" --leader "$CHIEF"
bad "a handover to oneself" to_officer handover add --area "$AREA" \
	--time "2026-03-12 08:00" --from-officer "$OFF1" --to-officer "$OFF1"
bad "a reception ending before it starts" end reception add \
	--officer "$OFF1" --room "$AREA" --start "2026-03-11 11:00" \
	--end "2026-03-11 09:00"
bad "a request resolved before it was received" resolved_at request add \
	--area "$AREA" --received-at "2026-03-11 20:00" --category help \
	--officer "$OFF2" --resolved-at "2026-03-11 19:00"
bad "an unknown request priority" priority request add --area "$AREA" \
	--category help --officer "$OFF2" --priority 特急
bad "a daily report in the future" date daily_report add --officer "$OFF1" \
	--date 2026-03-13
bad "a staff member of another grid" officer daily_report add \
	--officer "$OTHER_STAFF" --date 2026-03-11
same "nothing was written by refused policing entries" "$(records)" 0
fails 2 "an empty patrol" gridbook patrol add </dev/null
has "patrol fields are listed" "$(cat "$T/.err")" "area, start, end"
same "nothing was written by an incomplete patrol" "$(records)" 0

# What the file's staff may not write is refused before anything is asked
# or checked.
POL=$GRIDBOOK_DB
export GRIDBOOK_DB="$T/grid.db"
PATROL_ARGS=(--area "$AREA" --start "2026-03-11 22:00" \
	--end "2026-03-11 23:00" --leader "$CHIEF" --guards "$GUARD1,$GUARD2" \
	--mode foot)
fails 1 "a coordinator's file refuses a patrol" gridbook patrol add \
	"${PATROL_ARGS[@]}" </dev/null
same "and says who enters patrols and who this file's staff is" \
	"$(cat "$T/.err")" \
	"gridbook: patrol records are entered by officers; this file's staff $COORD $COORD_NAME is a coordinator"
fails 1 "... also when fields are missing" gridbook patrol add </dev/null
has "... before asking for them" "$(cat "$T/.err")" "entered by officers"
fails 1 "a coordinator's file refuses a daily report" gridbook daily_report \
	add --officer "$OFF1" --date 2026-03-11 </dev/null
has "the kind is named" "$(cat "$T/.err")" "daily_report records"
fails 1 "a coordinator's file refuses to edit a patrol" gridbook patrol edit \
	0123abcd --note 补记
has "edit says why" "$(cat "$T/.err")" "entered by officers"
fails 1 "a coordinator's file refuses to void a patrol" gridbook patrol void \
	0123abcd --reason 误录
has "void says why" "$(cat "$T/.err")" "entered by officers"
same "nothing was written by refused kinds" "$(records)" "$N"
fails 1 "an officer's file refuses a contract check" gridbook --db "$POL" \
	contract_check add --enterprise "$E1" --check-date 2026-03-10 \
	--employees-total 40 --contracts-signed 30 --insured 30 \
	--hiring-registered 30 --outcome notice </dev/null
same "and says why" "$(cat "$T/.err")" \
	"gridbook: contract_check records are entered by coordinators; this file's staff $OFF1 $OFF1_NAME is an officer"
fails 1 "an officer's file refuses an enterprise" gridbook --db "$POL" \
	enterprise add --uscc "$(uscc 92110105MA0TT7Y3Q)" --name 警务室隔壁商店 \
	--community "$COMM" --employees 3 </dev/null
has "enterprise: says why" "$(cat "$T/.err")" "entered by coordinators"
same "nothing was written in the officer's file" \
	"$(GRIDBOOK_DB=$POL records)" 0

# Import likewise: the whole file is refused, nothing imported.
printf 'area,start,end,leader,guards,mode\n%s,2026-03-11 22:00,2026-03-11 23:00,%s,"%s,%s",foot\n' \
	"$AREA" "$CHIEF" "$GUARD1" "$GUARD2" >"$T/patrols.csv"
fails 1 "a coordinator's file refuses a patrol import" gridbook import \
	patrol "$T/patrols.csv"
same "import says why" "$(cat "$T/.err")" \
	"gridbook: patrol records are entered by officers; this file's staff $COORD $COORD_NAME is a coordinator"
ok "the same import in the officer's file" gridbook --db "$POL" import \
	patrol "$T/patrols.csv"
printf 'uscc,name,community,employees\n%s,望川区汇通物流有限公司,%s,12\n' \
	"$(uscc 91110105MA01XQ7K3)" "$COMM" >"$T/ents.csv"
fails 1 "an officer's file refuses an enterprise import" gridbook --db "$POL" \
	import enterprise "$T/ents.csv"
has "import says why" "$(cat "$T/.err")" \
	"enterprise records are entered by coordinators; this file's staff $OFF1 $OFF1_NAME is an officer"
ok "the same import in the coordinator's file" gridbook import enterprise \
	"$T/ents.csv"
same "one enterprise more" "$(records)" $((N + 1))
N=$((N + 1))
same "the officer's file holds only the patrol" \
	"$(GRIDBOOK_DB=$POL records)" 1

# A guard enters nothing; a chief enters policing kinds; a file with no
# staff set has nothing to check.
ok "init a guard's file" gridbook --db "$T/guard.db" init --grid "$G" \
	--staff "$GUARD1"
fails 1 "a guard's file refuses a patrol" gridbook --db "$T/guard.db" \
	patrol add "${PATROL_ARGS[@]}" </dev/null
has "... saying the staff is a guard" "$(cat "$T/.err")" "is a guard"
fails 1 "a guard's file refuses a dispute" gridbook --db "$T/guard.db" \
	dispute add --workers 3 --category wages --received-date 2026-03-05 \
	</dev/null
has "... saying so too" "$(cat "$T/.err")" "is a guard"
ok "init a chief's file" gridbook --db "$T/chief.db" init --grid "$G" \
	--staff "$CHIEF"
ok "a chief's file takes a patrol" gridbook --db "$T/chief.db" patrol add \
	"${PATROL_ARGS[@]}" </dev/null
fails 1 "a chief's file refuses a dispute" gridbook --db "$T/chief.db" \
	dispute add --workers 3 --category wages --received-date 2026-03-05 \
	</dev/null
has "... saying the staff is a chief" "$(cat "$T/.err")" "is a chief"
ok "init a file without staff" gridbook --db "$T/nobody.db" init --grid "$G"
ok "it takes a patrol" gridbook --db "$T/nobody.db" patrol add \
	"${PATROL_ARGS[@]}" </dev/null
ok "and a dispute" gridbook --db "$T/nobody.db" dispute add --workers 3 \
	--category wages --received-date 2026-03-05 </dev/null

# Usage errors: exit 2.
fails 2 "an unknown option" gridbook patrol add --colour red
has "the option is named" "$(cat "$T/.err")" "gridbook: unknown option --colour"
has "the help of the command is pointed to" "$(cat "$T/.err")" \
	"try 'gridbook patrol add --help'"
fails 2 "the daemon with an unknown option" gridbook-syncd --colour red
has "the daemon names itself" "$(cat "$T/.err")" \
	"gridbook-syncd: unknown option --colour"
has "... and its help" "$(cat "$T/.err")" "try 'gridbook-syncd --help'"
fails 2 "an option without its value" gridbook patrol add --area
fails 2 "an option given twice" gridbook patrol add --area "$AREA" \
	--area "$AREA"
fails 2 "list with a bad date" gridbook patrol list --from 2026-13-01
fails 2 "list with a bad format" gridbook patrol list --format xml
fails 2 "list with a bad limit" gridbook patrol list --limit none
fails 2 "a date filter on enterprises" gridbook enterprise list \
	--from 2026-03-01
fails 2 "a community filter on patrols" gridbook patrol list \
	--community "$COMM"
fails 2 "a staff filter on disputes" gridbook dispute list --staff "$OFF1"
fails 2 "a status filter on patrols" gridbook patrol list --status open
fails 2 "a status that is none of the kind's" gridbook dispute list \
	--status finished
fails 2 "edit without an id" gridbook patrol edit --note x
fails 2 "edit without a change" gridbook contract_check edit "$CK"
fails 2 "void without a reason" gridbook contract_check void "$CK"
fails 2 "void with an empty reason" gridbook contract_check void "$CK" \
	--reason "  "
fails 1 "show of no such record" gridbook patrol show 0123abcd
fails 1 "show of a record of another kind" gridbook patrol show "$CK"
has "the kind is named" "$(cat "$T/.err")" contract_check

# Missing required fields without a terminal: exit 2, every one listed.
fails 2 "a check with fields missing" gridbook contract_check add \
	--enterprise "$E1" </dev/null
err=$(cat "$T/.err")
has "missing fields are listed" "$err" \
	"missing required fields: employees_total, contracts_signed, insured, hiring_registered"
fails 2 "a dispute without its category" gridbook dispute add \
	--workers 3 </dev/null
has "a single missing field" "$(cat "$T/.err")" \
	"missing required field: category"
fails 2 "missing fields when stdin is a file" gridbook contract_check add \
	--enterprise "$E1" <"$T/before"
same "nothing was written by incomplete entries" "$(records)" "$N"

# An edit that breaks a rule changes nothing.
bad "an edit that breaks a rule" contracts_signed contract_check edit "$CK" \
	--contracts-signed 99
ok "show after the refused edit" gridbook contract_check show "$CK"
has "the old value stays" "$(grep '^contracts_signed ' "$T/.out")" " 40"
ok "history after the refused edit" gridbook contract_check history "$CK"
same "still one version" "$(grep -c '^#[0-9]' "$T/.out")" 1

# A voided record cannot be voided again or edited.
ok "void" gridbook contract_check void "$CK" --reason 重复录入
fails 1 "void twice" gridbook contract_check void "$CK" --reason 再次作废
has "void twice says voided" "$(cat "$T/.err")" voided
bad "edit a voided record" voided contract_check edit "$CK" --insured 30

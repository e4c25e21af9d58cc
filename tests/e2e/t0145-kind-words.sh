#!/usr/bin/env bash
# What a kind's table entry says for it, word for word, in English and in
# Chinese: a second daily report of an officer for a date (added onto the
# first, refused on an edit, refused twice in an import file or against
# the grid), the paragraph of the add help, a second USCC in an enterprise
# file, the count warning of a night patrol with one guard, and a
# request's deadline, derived from its priority and following it on an
# edit.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
command -v gridbook >/dev/null || export PATH="$top/build:$PATH"
S=${GRIDBOOK_SEEDS:-$top/seeds}
export GRIDBOOK_SEEDS=$S
export GRIDBOOK_NOW="2026-03-12 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
unset LANGUAGE LC_ALL LC_MESSAGES
export LANG=C
G=S01-G1

AREA=$(first_of police_areas.csv)
COMM=$(first_of communities.csv)
COORD=$(staff_of coordinator | head -n 1)
CHIEF=$(staff_of chief "$AREA" | head -n 1)
OFF1=$(staff_of officer "$AREA" | head -n 1)
OFF1_NAME=$(awk -F, -v c="$OFF1" '$1 == c {print $2}' "$S/staff.csv")
GUARD1=$(staff_of guard "$AREA" | head -n 1)
for v in AREA COMM COORD CHIEF OFF1 GUARD1; do
	[ -n "${!v}" ] || { fail "no $v for $G in the seeds"; exit 1; }
done
zh() { env LANG=zh_CN.UTF-8 "$@"; }

# The police side.
export GRIDBOOK_DB="$T/police.grid"
ok "init" gridbook init --grid "$G" --staff "$CHIEF"

ok "a daily report" gridbook daily_report add --officer "$OFF1" \
	--date 2026-03-11 --households 3 </dev/null
DR=$(cat "$T/.out")
ok "a second one for the date" gridbook daily_report add \
	--officer "$OFF1" --date 2026-03-11 --places 2 </dev/null
same "it goes onto the first" "$(cat "$T/.out")" "$DR"
same "and says so by the officer's name" "$(cat "$T/.err")" \
	"gridbook: $OFF1_NAME already has a daily report for 2026-03-11; updating it"
ok "a third one, in Chinese" zh gridbook daily_report add \
	--officer "$OFF1" --date 2026-03-11 --places 4 </dev/null
same "the Chinese words" "$(cat "$T/.err")" \
	"gridbook：$OFF1_NAME 在 2026-03-11 已有每日工作报告；将更新该报告"

ok "a report of another date" gridbook daily_report add \
	--officer "$OFF1" --date 2026-03-10 --places 2 </dev/null
DR2=$(cat "$T/.out")
fails 1 "an edit onto the first's date" gridbook daily_report edit "$DR2" \
	--date 2026-03-11 </dev/null
same "is refused naming the other" "$(cat "$T/.err")" \
	"gridbook: date: $OFF1 already has a daily report for 2026-03-11 ($DR)"
fails 1 "the same in Chinese" zh gridbook daily_report edit "$DR2" \
	--date 2026-03-11 </dev/null
same "the Chinese refusal" "$(cat "$T/.err")" \
	"gridbook: date：$OFF1 在 2026-03-11 已有每日工作报告（$DR）"

ok "add help" gridbook daily_report add --help
same "ends with the entry's paragraph" "$(tail -n 2 "$T/.out")" "
An officer has one report per date: adding a second one edits the first."
ok "edit help" gridbook daily_report edit --help
same "an edit's help has none" \
	"$(grep -c 'one report per date' "$T/.out")" 0
ok "add help of a kind without the rule" gridbook patrol add --help
same "has none either" "$(grep -c 'one report per date' "$T/.out")" 0

printf 'officer,date,households\n%s,2026-03-09,1\n%s,2026-03-09,2\n' \
	"$OFF1" "$OFF1" >"$T/twice.csv"
fails 1 "one officer and date twice in a file" \
	gridbook import daily_report "$T/twice.csv"
has "names the other line" "$(cat "$T/.err")" \
	"twice.csv:3: date: the daily report of $OFF1 on 2026-03-09 is on line 2 too"
printf 'officer,date,households\n%s,2026-03-11,1\n' "$OFF1" >"$T/held.csv"
fails 1 "a report the grid holds" gridbook import daily_report "$T/held.csv"
has "names the holder" "$(cat "$T/.err")" \
	"held.csv:2: date: the grid holds the daily report of $OFF1 on 2026-03-11 already ($DR); edit it instead"
fails 1 "the same in Chinese" zh gridbook import daily_report "$T/held.csv"
has "the Chinese words" "$(cat "$T/.err")" \
	"date：网格中已有 $OFF1 在 2026-03-11 的每日工作报告（$DR）；请改为编辑它"

ok "a night patrol with one guard" gridbook patrol add --area "$AREA" \
	--start "2026-03-11 23:00" --end "2026-03-12 01:00" \
	--guards "$GUARD1" </dev/null
same "is saved with the report's warning" "$(cat "$T/.err")" \
	"gridbook: warning: guards: a night patrol with 1 guards does not count in HQ's night-patrol report (it needs two or more)"
ok "a day patrol with one guard" gridbook patrol add --area "$AREA" \
	--start "2026-03-11 09:00" --end "2026-03-11 11:00" \
	--guards "$GUARD1" </dev/null
same "has none" "$(cat "$T/.err")" ""

ok "an urgent request" gridbook request add --area "$AREA" \
	--received-at "2026-03-12 09:00" --category inquiry \
	--priority urgent --subject 咨询居住证办理 </dev/null
RQ=$(cat "$T/.out")
ok "show it" gridbook request show "$RQ" --format json
has "its deadline is an hour on" "$(cat "$T/.out")" \
	'"deadline":"1773280800000"'
ok "made normal" gridbook request edit "$RQ" --priority normal </dev/null
ok "show it again" gridbook request show "$RQ" --format json
has "the deadline follows, a day on" "$(cat "$T/.out")" \
	'"deadline":"1773363600000"'

# The labour side.
export GRIDBOOK_DB="$T/labour.grid"
ok "init" gridbook init --grid "$G" --staff "$COORD"
U=91110108MA01C4XQ2A
printf 'uscc,name,type,community,employees,status\n' >"$T/ent.csv"
printf '%s,望川五金有限公司,company,%s,12,active\n' "$U" "$COMM" >>"$T/ent.csv"
printf '%s,望川五金二厂,company,%s,8,active\n' "$U" "$COMM" >>"$T/ent.csv"
fails 1 "one USCC twice in a file" gridbook import enterprise "$T/ent.csv"
has "names the other line" "$(cat "$T/.err")" \
	"ent.csv:3: uscc: $U is on line 2 too"
fails 1 "the same in Chinese" zh gridbook import enterprise "$T/ent.csv"
has "the Chinese words" "$(cat "$T/.err")" "uscc：$U 也在第 2 行"
head -n 2 "$T/ent.csv" >"$T/one.csv"
ok "one of them imports" gridbook import enterprise "$T/one.csv"
fails 1 "and again is refused" gridbook import enterprise "$T/one.csv"
has "the grid holds it" "$(cat "$T/.err")" \
	"one.csv:2: uscc: the grid holds an enterprise with code $U already"

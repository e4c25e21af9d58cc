#!/usr/bin/env bash
# What people type: dates as 2026-12-01, 2026/12/01, 12-01, 今天, 昨天 and
# now, the same for record fields and for --from/--to; names matched
# anywhere in the name, with ambiguous ones listing the candidates;
# init --staff on an existing file.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
export GRIDBOOK_NOW="2026-12-02 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_DB="$T/g.db"

ok "init without staff" gridbook init --grid S01-G1
has "says how to set the staff" "$(cat "$T/.out")" "--staff"
ok "init --staff on the existing file" gridbook init --grid S01-G1 --staff 冯秀
has "says who" "$(cat "$T/.out")" "now entering as 冯秀兰 (K0001)"
fails 1 "init of another grid on the file" gridbook init --grid S01-G2 --staff K0001
has "names both grids" "$(cat "$T/.err")" "grid S01-G1, not S01-G2"
fails 1 "init without --staff still refuses an existing file" gridbook init --grid S01-G1

gridbook enterprise add --uscc 91350100M000100Y43 --name 望川市文昌精密机械有限公司 \
	--community S01-C01 --employees 48 >/dev/null
gridbook enterprise add --uscc 91330782000012HJ5R --name 望川市文昌食品有限公司 \
	--community S01-C01 --employees 20 >/dev/null
check() { gridbook contract_check add --employees-total 1 --contracts-signed 1 \
	--insured 1 --hiring-registered 1 "$@"; }
ok "a name matched in its middle" check --enterprise 精密机械 --check-date 2026/12/01
ok "昨天" check --enterprise 食品 --check-date 昨天
ok "12-01 is this year's" check --enterprise 精密 --check-date 12-01
ok "今天" check --enterprise 食品 --check-date 今天
fails 1 "an ambiguous name" check --enterprise 文昌
has "lists the candidates by name and USCC" "$(cat "$T/.err")" \
	"望川市文昌精密机械有限公司 91350100M000100Y43; 望川市文昌食品有限公司 91330782000012HJ5R"
fails 1 "a date that does not exist" check --enterprise 食品 --check-date 2026/02/30
has "says why" "$(cat "$T/.err")" "2026-02 has 28 days"

rows() { gridbook contract_check list "$@" --format csv | tail -n +2 | grep -c .; }
same "--from 12-01 --to 今天" "$(rows --from 12-01 --to 今天)" 4
same "--from 2026/12/02" "$(rows --from 2026/12/02)" 1
same "--to 昨天" "$(rows --to 昨天)" 3
fails 2 "a bad --from" gridbook contract_check list --from 明年
has "names the option and the forms" "$(cat "$T/.err")" "--from: \"明年\" is not a date"

ok "init --staff 周春梅 for police work" gridbook init --staff 周春梅
ok "times without seconds, 昨天 and 今天" gridbook patrol add --area PA-01 \
	--start '昨天 22:10' --end '今天 00:40' --guards B0001,B0002 --mode foot
ok "a time with seconds" gridbook reception add --room PA-01 \
	--start '2026/12/01 09:00:30' --end '12-01 11:30' --visitors 4
ok "now" gridbook handover add --area PA-01 --time now --to-officer 梁卫东
gridbook patrol list --format json >"$T/p.json"
same "the patrol's start" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["values"]["start"])' "$T/p.json")" \
	"$(python3 -c 'import datetime as d; print(int(d.datetime(2026,12,1,22,10,tzinfo=d.timezone(d.timedelta(hours=8))).timestamp()*1000))')"
ok "list handovers of today" gridbook handover list --from 今天
has "the handover" "$(cat "$T/.out")" "梁卫东"

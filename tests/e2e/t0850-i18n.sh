#!/usr/bin/env bash
# The Chinese interface.  The catalogue covers every message of the
# current sources (none untranslated, none fuzzy, formats as msgfmt
# --check wants), and the check finds a string nobody translated.
# LANG=zh_CN.UTF-8 gets Chinese messages naming the field, also where the
# locale is not installed; choice values are typed and shown in Chinese
# and the codes keep working in English.  gridbook-hq answers each report
# request in the language it asks for (?lang=, Accept-Language) whatever
# its own.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
command -v gridbook >/dev/null || export PATH="$top/build:$PATH"
export GRIDBOOK_SEEDS=${GRIDBOOK_SEEDS:-$top/seeds}
export GRIDBOOK_NOW="2026-03-12 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_DB="$T/grid.db"
unset LANGUAGE LC_ALL LC_MESSAGES
export LANG=C

# A locale directory holding C.UTF-8 only: there zh_CN.UTF-8 is "not
# installed", as on a machine where nobody generated it.
mkdir -p "$T/loc"
ln -s /usr/lib/locale/C.utf8 "$T/loc/C.utf8"
bare() { LOCPATH="$T/loc" "$@"; }

# gaps DIR: the msgids of DIR's sources zh_CN.po does not translate, or
# translates fuzzily, one per line.
gaps() {
	"$top/po/extract.sh" "$1" >"$T/g.pot" 2>/dev/null || return 1
	msgmerge --quiet --no-fuzzy-matching -o "$T/merged.po" \
		"$top/po/zh_CN.po" "$T/g.pot" 2>/dev/null || return 1
	{ msgattrib --untranslated --no-obsolete "$T/merged.po"
	  msgattrib --only-fuzzy --no-obsolete "$T/merged.po"; } 2>/dev/null |
		grep '^msgid "..*"' || true
}

ids=$("$top/po/extract.sh" "$top" 2>/dev/null | grep -c '^msgid "..*"')
[ "$ids" -gt 700 ] && pass || fail "only $ids msgids extracted"
same "every msgid of the sources is translated" "$(gaps "$top")" ""
same "zh_CN.po holds no fuzzy entry" \
	"$(msgattrib --only-fuzzy "$top/po/zh_CN.po" | grep -c '^msgid')" 0
ok "msgfmt --check zh_CN.po" msgfmt --check -o /dev/null "$top/po/zh_CN.po"
# The same check on a copy of the sources with one new message.
mkdir -p "$T/src"
cp -r "$top/common" "$top/client" "$top/server" "$T/src/"
printf 'const char *gb_probe = N_("a message of %s nobody translated");\n' \
	today >>"$T/src/common/i18n.c"
same "a new message is found untranslated" "$(gaps "$T/src")" \
	'msgid "a message of today nobody translated"'

ok "init" gridbook init --grid S01-G1 --staff K0001
ok "an enterprise" gridbook enterprise add --uscc 91110105MA01ABCD13 \
	--name 望川五金制品有限公司 --community 东风 --employees 40
check() { # OUTCOME [env...]: a contract check with that outcome
	local o=$1; shift
	env "$@" gridbook contract_check add --enterprise 望川五金 \
		--check-date 2026-03-10 --employees-total 40 \
		--contracts-signed 36 --insured 38 --hiring-registered 40 \
		--deadline 2026-04-10 --outcome "$o"
}

fails 1 "a bad outcome in Chinese" check 整顿 LANG=zh_CN.UTF-8
err=$(cat "$T/.err")
has "the message names the field" "$err" "outcome："
has "the message is Chinese" "$err" "“整顿”不是以下之一"
has "the choices show their words" "$err" "rectify_order (责令改正)"
fails 1 "the same without the locale installed" bare check 整顿 \
	LANG=zh_CN.UTF-8
same "the same Chinese message" "$(cat "$T/.err")" "$err"
fails 1 "LANGUAGE over C.UTF-8" check 整顿 LANG=C.UTF-8 LANGUAGE=zh_CN
same "LANGUAGE gives the Chinese message" "$(cat "$T/.err")" "$err"
fails 1 "a bad outcome in English" check 整顿
same "the English message" "$(cat "$T/.err")" \
	'gridbook: outcome: "整顿" is not one of compliant, notice, rectify_order, referred'
fails 2 "a missing field in Chinese" env LANG=zh_CN.UTF-8 gridbook \
	contract_check add --enterprise 望川五金 </dev/null
has "missing fields are named in Chinese" "$(cat "$T/.err")" \
	"缺少必填字段：employees_total"

ok "the outcome typed in Chinese" check 责令改正 LANG=zh_CN.UTF-8
ok "a Chinese word typed in an English session" check 催告
ok "the code typed in a Chinese session" check referred LANG=zh_CN.UTF-8
ok "the list in Chinese" env LANG=zh_CN.UTF-8 gridbook contract_check list
zh=$(cat "$T/.out")
has "headings in Chinese" "$zh" "处理结果"
has "rectify_order shown as 责令改正" "$zh" "责令改正"
has "notice shown as 催告" "$zh" "催告"
has "referred shown as 移交查处" "$zh" "移交查处"
has "the count in Chinese" "$zh" "3 条记录"
ok "the list in English" gridbook contract_check list
en=$(cat "$T/.out")
has "English headings are the field names" "$en" "outcome"
has "English shows the codes" "$en" "rectify_order"
has "notice as its code" "$en" "notice"
ok "the list without the locale installed" bare env LANG=zh_CN.UTF-8 \
	gridbook contract_check list
same "the same Chinese list" "$(cat "$T/.out")" "$zh"
ok "ref staff in Chinese" env LANG=zh_CN.UTF-8 gridbook ref staff
has "ref headings in Chinese" "$(cat "$T/.out")" "代码   名称    角色"
has "roles in Chinese" "$(cat "$T/.out")" "K0001  冯秀兰  劳动关系协调员"
ok "ref staff in English" gridbook ref staff
has "roles as codes in English" "$(cat "$T/.out")" "K0001  冯秀兰  coordinator"
ok "help in Chinese" env LANG=zh_CN.UTF-8 gridbook --help
has "kinds by their Chinese names" "$(cat "$T/.out")" \
	"  handover         交接班日志
  daily_report     每日工作报告"
ok "syncd help" env LANG=zh_CN.UTF-8 gridbook-syncd --help
has "gridbook-syncd speaks Chinese" "$(cat "$T/.out")" "用法：gridbook-syncd"
ok "hq help" env LANG=zh_CN.UTF-8 gridbook-hq --help
has "gridbook-hq speaks Chinese" "$(cat "$T/.out")" "命令："

# serve NAME [env...]: a private HQ with its own store; sets URL and TOKEN.
serve() {
	local name=$1; shift
	local port
	export GRIDBOOK_HQ_STORE="sqlite:$T/$name.db"
	gridbook-hq seed "$GRIDBOOK_SEEDS" >/dev/null 2>&1 ||
		fail "seed $name"
	TOKEN=$(gridbook-hq device enroll --grid S01-G1 --role viewer \
		--name 区指挥中心 2>/dev/null | awk '/^token: /{print $2}')
	port=$(free_port)
	URL=http://127.0.0.1:$port
	env "$@" gridbook-hq serve --listen 127.0.0.1:$port \
		2>"$T/$name.log" &
	local pid=$!
	E2E_CLEANUPS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	for _ in $(seq 200); do
		curl -fs "$URL/healthz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "$name did not come up"
}
R=/v1/reports/contract-rate?from=2026-03-01\&to=2026-03-12
get() { # [curl args...] QUERY: the body of the report
	local q=${*: -1}
	curl -s -H "Authorization: Bearer $TOKEN" "${@:1:$#-1}" "$URL$R$q"
}
title() { grep -o '"title":"[^"]*"' | head -n 1; }

serve english
same "the server's own language" "$(get '' | title)" \
	'"title":"labour-contract signing rate"'
same "?lang=zh_CN" "$(get '&lang=zh_CN' | title)" '"title":"劳动合同签订率"'
has "column labels in Chinese" "$(get '&lang=zh-CN')" '"label":"签订率 %"'
same "Accept-Language" \
	"$(get -H 'Accept-Language: en;q=0.5, zh-CN;q=0.9' '' | title)" \
	'"title":"劳动合同签订率"'
same "?lang=en over Accept-Language" \
	"$(get -H 'Accept-Language: zh-CN' '&lang=en' | title)" \
	'"title":"labour-contract signing rate"'
same "?lang=fr is refused" \
	"$(get -o /dev/null -w '%{http_code}' '&lang=fr')" 400
has "the refusal names lang" "$(get '&lang=fr')" \
	'lang: "fr" is not one of zh_CN, en'
has "a refusal in the asked language" \
	"$(get '&lang=zh_CN&level=nation')" "level：“nation”"

serve chinese LANG=zh_CN.UTF-8 LOCPATH="$T/loc"
same "a Chinese server without the locale" "$(get '' | title)" \
	'"title":"劳动合同签订率"'
same "answers ?lang=en in English" "$(get '&lang=en' | title)" \
	'"title":"labour-contract signing rate"'
same "and ?lang=zh_CN in Chinese" "$(get '&lang=zh_CN' | title)" \
	'"title":"劳动合同签订率"'

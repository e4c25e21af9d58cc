#!/usr/bin/env bash
# Refusals for now (SPEC §4): HQ's clock runs two days behind (GRIDBOOK_NOW,
# common/gbtime.c).  An enterprise written now has a version more than 24 h
# ahead of HQ's clock, and so has a contract check dated today, which is
# also "in the future" for HQ: both are refused as transient, not as the
# record's fault, and the reason of both names the version and HQ's clock
# (the cause), not the check's date (a consequence).  They
# wait, listed as waiting in sync status, not as refused; a second sync
# sends them again by itself and they wait again.  Once HQ's clock is
# right, the next sync delivers them as they were written, unedited.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

G="$T/a.grid"
hq_seed
hq_start
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator
ok "a first sync brings the reference data" gridbook --db "$G" sync

hq_stop
behind=$(($(date +%s%3N) - 2 * 86400000))
GRIDBOOK_NOW=$behind hq_start
ok "an enterprise is written" gridbook --db "$G" enterprise add \
	--uscc "$(uscc 4711)" --name 望川市青石机电有限公司 \
	--community S01-C01 --employees 36
ok "a contract check of it, dated today" gridbook --db "$G" contract_check add \
	--enterprise 望川市青石 --employees-total 36 --contracts-signed 36 \
	--insured 35 --hiring-registered 36 --outcome compliant \
	--findings '合同齐全,社保一人待补缴'
before=$(local_versions "$G")

ok "the sync goes through" gridbook --db "$G" sync
has "both are refused for now" "$(cat "$T/.out")" \
	"2 refused for now, sent again later"
case "$(cat "$T/.err")" in *"HQ refused"*) fail "told they were refused" ;;
*) pass ;; esac
same "HQ holds neither" "$(hq_sql 'SELECT count(*) FROM record_current')" "0"
same "nothing is left in the outbox" \
	"$(sqlite3 "$G" 'SELECT count(*) FROM outbox')" "0"
ok "sync status" gridbook --db "$G" sync status
has "status lists them as waiting" "$(cat "$T/.out")" "waiting       2 records"
has "with HQ's reason" "$(cat "$T/.out")" "HQ's clock"
has "nothing is listed as refused" "$(cat "$T/.out")" "refused       none"
ok "sync status --format json" gridbook --db "$G" sync status --format json
same "the JSON says two waiting, none refused" "$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print(len(s["waiting"]), sorted(w["kind"] for w in s["waiting"]),
      all(w["status"] == "waiting" for w in s["waiting"]), s["attention"],
      all(w["reason"].startswith("version: written at") and
          "more than 24 h ahead of HQ\x27s clock (" in w["reason"]
          for w in s["waiting"]))
' "$(cat "$T/.out")")" "2 ['contract_check', 'enterprise'] True [] True"

ok "a second sync, HQ still behind" gridbook --db "$G" sync
has "they went again and wait again" "$(cat "$T/.out")" \
	"sent 2 records in 1 batch (2 refused for now"
same "they were tried twice" \
	"$(sqlite3 "$G" 'SELECT group_concat(tries) FROM sync_retry')" "2,2"

# HQ's clock is put right.
hq_stop
hq_start
ok "the next sync" gridbook --db "$G" sync
has "both are accepted" "$(cat "$T/.out")" "(2 accepted)"
same "nothing waits" "$(sqlite3 "$G" 'SELECT count(*) FROM sync_retry')" "0"
same "the file's versions are those first written" \
	"$(local_versions "$G")" "$before"
same "HQ holds them at those versions" "$(hq_versions)" "$before"
ok "sync status" gridbook --db "$G" sync status --format json
has "nothing waiting" "$(cat "$T/.out")" '"waiting":[]'
has "nothing refused" "$(cat "$T/.out")" '"attention":[]'

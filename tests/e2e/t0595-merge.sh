#!/usr/bin/env bash
# The field merge with real laptops and a real HQ (SPEC §4, edits).
# (a) Two coordinators' laptops change one enterprise offline from the
# same version, A its address, B its headcount: after syncs both laptops
# and HQ hold both changes, with no conflict.  (b) Both change the
# headcount: the newer value stands everywhere, the conflict shows in
# sync status, gridbook status and gridbook conflicts on both laptops
# and at HQ (gridbook-hq conflicts, GET /v1/conflicts); A keeps B's
# value, and after syncs the conflict is gone on A, at HQ and on B.
# (c) A patrol voided on one officer's laptop and edited on another's
# without seeing the void: the void stands everywhere, flagged as a
# conflict, until one of them keeps the edit, which then holds everywhere.
# (d) Three officers of one police area edit one patrol at once: every
# laptop shows the same record, as HQ does, and a value one of them
# chooses ends the conflict on all three.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

A="$T/a.grid" B="$T/b.grid"
P1="$T/p1.grid" P2="$T/p2.grid" P3="$T/p3.grid"
hq_seed
hq_start
grid_new "$A"
grid_new "$B"
ok "coordinator laptop A is enrolled" enroll "$A" coordinator
ok "coordinator laptop B is enrolled" enroll "$B" coordinator
for p in "$P1:J0001" "$P2:J0002" "$P3:J0003"; do
	f=${p%%:*}
	gridbook --db "$f" init --grid S01-G1 --staff "${p#*:}" >/dev/null
	ok "officer laptop $(basename "$f") is enrolled" enroll "$f" officer
done
VIEWER_TOK=$(gridbook-hq device enroll --grid S01-G1 --role viewer \
	--name 区指挥中心 --store "$HQ_SPEC" 2>/dev/null |
	awk '/^token: /{print $2}')
[ -n "$VIEWER_TOK" ] && pass || fail "no viewer token"

syncs() { # FILE...: one round of sync on each, in order
	for f in "$@"; do
		ok "sync $(basename "$f")" gridbook --db "$f" sync
	done
}
hexid() { printf '%s' "$1" | tr -d -; }
hq_body() { # ID: the body of HQ's current record
	hq_sql "SELECT body FROM record_current WHERE lower(hex(id)) = '$(hexid "$1")'"
}
hq_conflicts() { # ID: field|kept|lost of HQ's field conflicts of the record
	hq_sql "SELECT field || '|' || coalesce(kept_value, '-') || '|' ||
		coalesce(lost_value, '-') FROM field_conflict
		WHERE lower(hex(id)) = '$(hexid "$1")' ORDER BY 1"
}
local_conflicts() { # FILE ID: the same on a laptop
	sqlite3 "$1" "SELECT field || '|' || coalesce(kept_value, '-') || '|' ||
		coalesce(lost_value, '-') FROM field_conflict WHERE id = '$2'
		ORDER BY 1"
}
show() { gridbook --db "$1" "$2" show "$3" 2>&1; }
body() { sqlite3 "$1" "SELECT body FROM record WHERE id = '$2'"; }
json_of() { gridbook --db "$1" "$2" show "$3" --format json 2>&1; }

# ---- (a) disjoint fields --------------------------------------------------
E=$(gridbook --db "$A" enterprise add --uscc "$(uscc 41)" \
	--name 华盛电子科技有限公司 --community S01-C04 --employees 75 2>"$T/add.err")
[ -n "$E" ] && pass || fail "the enterprise was not added: $(cat "$T/add.err")"
syncs "$A" "$B"
same "B holds the enterprise" "$(json_of "$B" enterprise "$E" | grep -c 华盛电子)" 1
# Offline, from the same version.
ok "A sets the address" gridbook --db "$A" enterprise edit "$E" \
	--address 砖桥路88号
ok "B sets the headcount" gridbook --db "$B" enterprise edit "$E" \
	--employees 82
syncs "$A" "$B" "$A" "$B"
for f in "$A" "$B"; do
	j=$(json_of "$f" enterprise "$E")
	has "$(basename "$f") keeps A's address" "$j" '"address":"砖桥路88号"'
	has "$(basename "$f") keeps B's headcount" "$j" '"employees":82'
	has "no conflict on $(basename "$f")" \
		"$(gridbook --db "$f" sync status)" "conflicts     none"
done
same "both laptops show the same enterprise" "$(show "$A" enterprise "$E")" \
	"$(show "$B" enterprise "$E")"
has "HQ keeps the address" "$(hq_body "$E")" '"address":"砖桥路88号"'
has "HQ keeps the headcount" "$(hq_body "$E")" '"employees":82'
same "no conflict at HQ" "$(hq_conflicts "$E")" ""
same "HQ's record is A's, byte for byte" "$(hq_body "$E")" "$(body "$A" "$E")"
ok "gridbook conflicts with none" gridbook --db "$A" conflicts
same "... says so" "$(cat "$T/.out")" "no conflicts"

# ---- (b) the same field ---------------------------------------------------
ok "A sets the headcount to 90" gridbook --db "$A" enterprise edit "$E" \
	--employees 90
ok "B sets it to 95, later" gridbook --db "$B" enterprise edit "$E" \
	--employees 95
syncs "$A" "$B" "$A"
for f in "$A" "$B"; do
	n=$(basename "$f")
	has "$n: the newer headcount stands" "$(json_of "$f" enterprise "$E")" \
		'"employees":95'
	ok "$n: sync status" gridbook --db "$f" sync status
	has "$n: sync status counts the conflict" "$(cat "$T/.out")" \
		"1 conflict: run gridbook conflicts"
	has "$n: sync status as JSON" \
		"$(gridbook --db "$f" sync status --format json)" '"conflicts":1'
	ok "$n: gridbook conflicts" gridbook --db "$f" conflicts
	has "$n: lists the enterprise" "$(cat "$T/.out")" "$E"
	has "$n: by name" "$(cat "$T/.out")" "华盛电子科技有限公司"
	has "$n: and the field" "$(cat "$T/.out")" "employees"
	has "$n: who wrote theirs" "$(cat "$T/.out")" "冯秀兰"
	has "$n: gridbook status lists it" "$(gridbook --db "$f" status)" \
		"gridbook conflicts"
	has "$n: show names it" "$(show "$f" enterprise "$E")" \
		"employees  -> gridbook conflicts"
	same "$n: kept and lost as HQ keeps them" "$(local_conflicts "$f" "$E")" \
		"employees|95|90"
done
same "HQ holds the same conflict" "$(hq_conflicts "$E")" "employees|95|90"
cj=$(gridbook --db "$A" conflicts --format json)
has "on A, mine is 90" "$cj" '"mine":{"value":"90"'
has "on A, theirs is 95" "$cj" '"theirs":{"value":"95"'
has "on B, mine is 95" "$(gridbook --db "$B" conflicts --format json)" \
	'"mine":{"value":"95"'
ok "gridbook-hq conflicts" gridbook-hq conflicts --grid S01-G1 \
	--store "$HQ_SPEC"
has "... lists the enterprise" "$(cat "$T/.out")" "$E"
v1=$(curl -s -H "Authorization: Bearer $VIEWER_TOK" \
	"$HQ_URL/v1/conflicts?grid=S01-G1")
has "GET /v1/conflicts lists it" "$v1" "$E"
has "... with the field" "$v1" "employees"
fails 2 "resolving needs --keep" gridbook --db "$A" conflicts "$E" employees
fails 2 "a field the kind lacks" gridbook --db "$A" conflicts "$E" colour \
	--keep mine
fails 1 "a field with no conflict" gridbook --db "$A" conflicts "$E" address \
	--keep mine
fails 1 "a record that is not there" gridbook --db "$A" conflicts \
	0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee employees --keep mine
ok "A keeps theirs" gridbook --db "$A" conflicts "${E:0:13}" employees \
	--keep theirs
has "... and says so" "$(cat "$T/.out")" "resolved"
has "A shows 95" "$(json_of "$A" enterprise "$E")" '"employees":95'
same "the conflict is gone on A" "$(local_conflicts "$A" "$E")" ""
has "A's sync status" "$(gridbook --db "$A" sync status)" "conflicts     none"
syncs "$A" "$B"
same "gone at HQ" "$(hq_conflicts "$E")" ""
v2=$(curl -s -H "Authorization: Bearer $VIEWER_TOK" \
	"$HQ_URL/v1/conflicts?grid=S01-G1")
case "$v2" in *"$E"*) fail "GET /v1/conflicts still lists it: $v2" ;; *) pass ;; esac
same "gone on B" "$(local_conflicts "$B" "$E")" ""
has "B's sync status" "$(gridbook --db "$B" sync status)" "conflicts     none"
has "HQ shows 95" "$(hq_body "$E")" '"employees":95'
same "A and B show the same enterprise" "$(show "$A" enterprise "$E")" \
	"$(show "$B" enterprise "$E")"

# ---- (c) a void against an edit that did not see it -----------------------
P=$(gridbook --db "$P1" patrol add --area PA-01 --start "2026-11-30 20:00" \
	--end "2026-11-30 23:00" --leader J0001 --mode foot --incidents 0 \
	2>"$T/add.err")
[ -n "$P" ] && pass || fail "the patrol was not added: $(cat "$T/add.err")"
syncs "$P1" "$P2"
ok "P1 voids the patrol" gridbook --db "$P1" patrol void "$P" --reason 重复录入
ok "P2 edits it later, not seeing the void" gridbook --db "$P2" patrol edit \
	"$P" --incidents 2
syncs "$P2" "$P1" "$P2"
for f in "$P1" "$P2"; do
	n=$(basename "$f")
	has "$n: the void stands" "$(show "$f" patrol "$P")" "重复录入"
	same "$n: voided in the file" \
		"$(sqlite3 "$f" "SELECT voided FROM record WHERE id = '$P'")" 1
	same "$n: the void is a conflict" "$(local_conflicts "$f" "$P")" \
		"void|重复录入|-"
	has "$n: gridbook conflicts lists it" \
		"$(gridbook --db "$f" conflicts)" "$P"
done
same "HQ keeps the void" "$(hq_sql "SELECT voided FROM record_current WHERE lower(hex(id)) = '$(hexid "$P")'")" 1
same "HQ flags it" "$(hq_conflicts "$P")" "void|重复录入|-"
same "P1 and P2 show the same patrol" "$(show "$P1" patrol "$P")" \
	"$(show "$P2" patrol "$P")"
same "HQ's patrol is P2's" "$(hq_body "$P")" "$(body "$P2" "$P")"
fails 2 "a void is not resolved with a value" gridbook --db "$P2" conflicts \
	"$P" void --keep 3
# P2 keeps its edit: the record is no longer voided, by a choice made
# once, and everywhere.
ok "P2 keeps its edit over the void" gridbook --db "$P2" conflicts "$P" void \
	--keep mine
syncs "$P2" "$P1"
for f in "$P1" "$P2"; do
	n=$(basename "$f")
	same "$n: no longer voided" \
		"$(sqlite3 "$f" "SELECT voided FROM record WHERE id = '$P'")" 0
	same "$n: no conflict left" "$(local_conflicts "$f" "$P")" ""
	has "$n: the edit stands" "$(json_of "$f" patrol "$P")" '"incidents":2'
done
same "HQ: no longer voided" "$(hq_sql "SELECT voided FROM record_current WHERE lower(hex(id)) = '$(hexid "$P")'")" 0
same "HQ: no conflict left" "$(hq_conflicts "$P")" ""

# ---- (d) three officers, one patrol ---------------------------------------
Q=$(gridbook --db "$P1" patrol add --area PA-01 --start "2026-12-01 08:00" \
	--end "2026-12-01 10:00" --leader J0001 --mode foot --incidents 0 \
	2>"$T/add.err")
[ -n "$Q" ] && pass || fail "the second patrol was not added: $(cat "$T/add.err")"
syncs "$P1" "$P2" "$P3"
ok "P1 notes the patrol" gridbook --db "$P1" patrol edit "$Q" --note 巡逻正常
ok "P2 counts an incident" gridbook --db "$P2" patrol edit "$Q" --incidents 1
ok "P3 notes it too and changes the mode" gridbook --db "$P3" patrol edit \
	"$Q" --note 发现可疑人员已盘查 --mode bicycle
ok "P1 adds a guard" gridbook --db "$P1" patrol edit "$Q" --guards B0001
syncs "$P3" "$P1" "$P2" "$P3" "$P1" "$P2"
s1=$(show "$P1" patrol "$Q")
same "P2 shows what P1 shows" "$(show "$P2" patrol "$Q")" "$s1"
same "P3 shows what P1 shows" "$(show "$P3" patrol "$Q")" "$s1"
j=$(json_of "$P1" patrol "$Q")
has "P2's incident is kept" "$j" '"incidents":1'
has "P3's mode is kept" "$j" '"mode":"bicycle"'
has "P1's guard is kept" "$j" '"guards":"B0001"'
has "the newer note stands" "$j" '"note":"发现可疑人员已盘查"'
for f in "$P1" "$P2" "$P3"; do
	same "$(basename "$f"): the same conflict" "$(local_conflicts "$f" "$Q")" \
		"note|发现可疑人员已盘查|巡逻正常"
done
same "HQ's conflict too" "$(hq_conflicts "$Q")" "note|发现可疑人员已盘查|巡逻正常"
hb=$(hq_body "$Q")
for v in '"incidents":1' '"mode":"bicycle"' '"guards":"B0001"' \
	'"note":"发现可疑人员已盘查"'; do
	has "HQ holds $v" "$hb" "$v"
done
same "HQ's current version is the laptops'" \
	"$(hq_sql "SELECT version FROM record_current WHERE lower(hex(id)) = '$(hexid "$Q")'")" \
	"$(sqlite3 "$P1" "SELECT version FROM record WHERE id = '$Q'")"
same "every laptop holds every version HQ holds" \
	"$(local_versions "$P3" | grep "$(hexid "$Q")")" \
	"$(hq_versions | grep "$(hexid "$Q")")"
same "HQ's patrol is P2's, byte for byte" "$(hq_body "$Q")" "$(body "$P2" "$Q")"

# One of the three sets the note anew: the conflict ends on all three.
ok "P2 resolves the note with a value of its own" gridbook --db "$P2" \
	conflicts "$Q" note --keep 巡逻正常，发现可疑人员已盘查
syncs "$P2" "$P1" "$P3"
for f in "$P1" "$P2" "$P3"; do
	n=$(basename "$f")
	same "$n: no conflict left" "$(local_conflicts "$f" "$Q")" ""
	has "$n: the note chosen" "$(json_of "$f" patrol "$Q")" \
		'"note":"巡逻正常，发现可疑人员已盘查"'
done
same "none at HQ" "$(hq_conflicts "$Q")" ""
same "P3 shows what P1 shows, again" "$(show "$P3" patrol "$Q")" \
	"$(show "$P1" patrol "$Q")"

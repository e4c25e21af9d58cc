#!/usr/bin/env bash
# The README's tours run as written on a new machine, today: the indented
# commands of "Five minutes as a grid coordinator", "... as a community
# officer" and "Headquarters and sync" are taken from README.md and run
# with bash -e in a fresh HOME from the source tree, once in English and
# once in Chinese.  Only the port is changed (8470 may be taken on a
# shared machine).  A command of the README that fails fails this test.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE GRIDBOOK_TZ
B=$(dirname "$(command -v gridbook)")

# The tours as one script: the indented lines of the three sections.
python3 - "$top/README.md" >"$T/tour.sh" <<'EOF'
import sys
want = ("## Five minutes as a grid coordinator",
        "## Five minutes as a community officer", "## Headquarters and sync")
on = False
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("## "):
        on = line.strip() in want
    elif on and line.startswith("    "):
        print(line[4:].rstrip("\n"))
EOF
n=$(grep -c '^gridbook\|^check=' "$T/tour.sh")
[ "$n" -ge 25 ] && pass || fail "only $n commands taken from README.md"
has "the tour has no placeholders" "$(grep -c '<[a-z ]*>' "$T/tour.sh")" 0

# run LANGNAME ENV...: the tour in a new HOME, stopping what it started.
run() {
	local name=$1; shift
	local home="$T/home-$name" port
	port=$(free_port)
	mkdir -p "$home"
	{
		echo 'set -e'
		echo 'trap '"'"'kill $(jobs -p) 2>/dev/null; [ -f ~/S01-G1.db.syncd ] && kill $(cat ~/S01-G1.db.syncd) 2>/dev/null; true'"'"' EXIT'
		sed "s/8470/$port/g" "$T/tour.sh"
	} >"$T/tour-$name.sh"
	(cd "$top" && env HOME="$home" "$@" bash "$T/tour-$name.sh") \
		>"$T/out-$name.txt" 2>"$T/err-$name.txt"
	local rc=$?
	same "the $name tour runs to its end" "$rc" 0
	[ $rc -eq 0 ] || tail -n 15 "$T/err-$name.txt" >&2
	[ -s "$home/hq-backup.db" ] && pass || fail "$name: no HQ backup"
	[ -s "$home/checks.csv" ] && pass || fail "$name: no checks.csv"
}
run en LANG=C.UTF-8
has "the coordinator's check is listed" "$(cat "$T/out-en.txt")" "望川市文昌精密"
has "status names what needs doing" "$(cat "$T/out-en.txt")" \
	"overdue rectification orders: 0"
has "the officer's open request" "$(cat "$T/out-en.txt")" "老人走失"
has "sync-health lists the device" "$(cat "$T/out-en.txt")" "S01-G1"
zh=(LANG=C.UTF-8 LANGUAGE=zh_CN)
[ -d "$B/locale" ] && zh+=(GRIDBOOK_LOCALEDIR="$B/locale")
run zh "${zh[@]}"

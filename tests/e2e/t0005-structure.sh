#!/usr/bin/env bash
# The house rules and the walls, as make check and make graph check them:
# banned.h last in every C file, no assignment in a condition, the
# committed clang-format style (tests/check/style.py); the include and
# link graphs of the built tree with no wall crossed, no arrow to a
# higher layer, no circle, and no third-party header in a new room
# (tests/check/graph.py).  Prints the summed "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(dirname "$(command -v gridbook)")
pass=0
fail=0
for cmd in "$top/tests/check/style.py" \
	"$top/tests/check/graph.py --build $B"; do
	out=$($cmd 2>&1)
	echo "$out" | grep -v ' passed, '
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		continue
	fi
	pass=$((pass + ${line%% passed*}))
	f=${line#*passed, }
	fail=$((fail + ${f%% failed}))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

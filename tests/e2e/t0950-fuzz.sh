#!/usr/bin/env bash
# A short run of each fuzz harness (tests/fuzz/, built by make fuzz when
# clang is there): 60 s each unless FUZZ_SECONDS says otherwise, all
# three at once (FUZZ_JOBS), so about a minute in all: enough to catch what
# a change breaks at the edges without costing the test run much;
# SECURITY.md gives the long run.  First, the seeds of fuzz_batch taken
# once each in order must reach every outcome of a record, and versions
# of one record from both of its devices, so that the merge of a
# record's versions is fuzzed from real edits.  Without the harnesses
# built this says so and passes.
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(dirname "$(command -v gridbook)")
if ! ls "$B"/fuzz/fuzz_* >/dev/null 2>&1; then
	echo "no fuzz harnesses in $B/fuzz (make fuzz needs clang): skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
pass=0
fail=0
check() { # WHAT CONDITION-STATUS
	if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1"; fi
}

seeds="$B/fuzz/corpus/batch"
acks=$(cd "$seeds" && FUZZ_BATCH_SHOW=1 "$B/fuzz/fuzz_batch" batch-1 \
	batch-3 batch-10 batch-40 edits-a edits-b edits-a2 2>&1)
for outcome in accepted duplicate stale conflict rejected; do
	grep -Eq "^  [0-9a-f-]{36} [0-9]+ $outcome" <<<"$acks"
	check "the seeds of fuzz_batch reach a record $outcome" $?
done
# "batch N of DEVICE: ..." then "  ID VERSION STATUS ...": a record with
# three versions or more taken in, from both devices.
awk '/^batch [0-9]+ of / { dev = $4 }
     /^  [0-9a-f-]+ [0-9]+ (accepted|stale)/ {
	if (!seen[$1 " " $2]++) n[$1]++
	devs[$1] = devs[$1] (index(devs[$1], dev) ? "" : dev)
     }
     END { for (id in n) if (n[id] >= 3 && devs[id] ~ /fuzz:/ &&
			     devs[id] ~ /fuzz-b:/) found = 1
	   exit !found }' <<<"$acks"
check "the seeds of fuzz_batch hold three versions of a record from both devices" $?
echo "$pass passed, $fail failed (the seeds)"

"$top/tests/fuzz/run" "$B" "${FUZZ_SECONDS:-60}" "${FUZZ_JOBS:-3}" | tee "$B/fuzz/run.out"
line=$(tail -n 1 "$B/fuzz/run.out")
p=${line%% passed*}
f=${line#*passed, }
f=${f%% failed*}
case "$p$f" in *[!0-9]*|'') p=0 f=1 ;; esac
echo "$((pass + p)) passed, $((fail + f)) failed"
[ $((fail + f)) -eq 0 ]

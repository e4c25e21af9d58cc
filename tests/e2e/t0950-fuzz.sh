#!/usr/bin/env bash
# A short run of each fuzz harness (tests/fuzz/, built by make fuzz when
# clang is there): 60 s each unless FUZZ_SECONDS says otherwise, two at
# a time (FUZZ_JOBS), so about two minutes in all: enough to catch what
# a change breaks at the edges without costing the test run much;
# SECURITY.md gives the long run.  Without the harnesses built this says
# so and passes.
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(dirname "$(command -v gridbook)")
if ! ls "$B"/fuzz/fuzz_* >/dev/null 2>&1; then
	echo "no fuzz harnesses in $B/fuzz (make fuzz needs clang): skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
exec "$top/tests/fuzz/run" "$B" "${FUZZ_SECONDS:-60}" "${FUZZ_JOBS:-2}"

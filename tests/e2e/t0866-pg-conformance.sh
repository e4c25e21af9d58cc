#!/usr/bin/env bash
# The store conformance cases of tests/unit/test_store.c on PostgreSQL: a
# unit run has them on SQLite only, since it starts no server; here the
# same binary runs them on both, PostgreSQL in a throwaway cluster
# (pglib.py), each build (plain, and ASan+UBSan where built) on a database
# of its own.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
B=$(dirname "$(command -v gridbook-hq)")
if [ ! -x "$B/unit/test_store" ]; then
	fail "no $B/unit/test_store: make all first"
	exit 1
fi
pg_database || exit 1

n=0
for t in "$B/unit/test_store" "$B/unit-asan/test_store"; do
	[ -x "$t" ] || continue
	n=$((n + 1))
	# In the collation of a Chinese deployment where the machine has it,
	# so that a store ordering codes by the database's collation, not
	# bytewise as SQLite does, is caught (test_facts).
	db=${PG##*/}_conform$n
	# Dropped before the cluster stops, when it is the test's own.
	E2E_CLEANUPS=("psql -X -q \"$PG\" -c \"DROP DATABASE IF EXISTS $db WITH (FORCE)\""
		"${E2E_CLEANUPS[@]}")
	if locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
		psql -X -q "$PG" -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'zh_CN.utf8' LC_CTYPE 'zh_CN.utf8'"
	else
		psql -X -q "$PG" -c "CREATE DATABASE $db"
	fi
	GRIDBOOK_TEST_PG=${PG%/*}/$db "$t" >"$T/out" 2>"$T/err"
	rc=$?
	line=$(tail -n 1 "$T/out")
	if [ $rc -eq 0 ]; then pass; else
		fail "$t on PostgreSQL: $line $(head -c 1500 "$T/err")"; fi
	# Both stores ran: twice the checks of one.
	p=${line%% passed*}
	[ "${p:-0}" -ge 150 ] && pass || fail "$t: only [$line]"
done
[ $n -ge 1 ] && pass || fail "no test_store binary ran"

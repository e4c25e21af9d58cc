# Sourced by the e2e scripts: a private temp dir removed on exit, checks
# that count, and the closing "N passed, N failed" line.
#   ok "what" cmd...        the command must exit 0
#   fails N "what" cmd...   the command must exit with status N
#   same "what" got want    two strings must be equal
#   has "what" text needle  text must contain needle
set -u
E2E_PASS=0
E2E_FAIL=0
T=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-e2e.XXXXXX")
E2E_CLEANUPS=()
e2e_exit() {
	local rc=$?
	for c in "${E2E_CLEANUPS[@]+"${E2E_CLEANUPS[@]}"}"; do eval "$c" || true; done
	rm -rf "$T"
	echo "$E2E_PASS passed, $E2E_FAIL failed"
	if [ $E2E_FAIL -ne 0 ] || [ $rc -ne 0 ]; then exit 1; fi
	exit 0
}
trap e2e_exit EXIT
pass() { E2E_PASS=$((E2E_PASS + 1)); }
fail() { E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL: $*" >&2; }
ok() {
	local what=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then pass; else
		fail "$what (exit $?): $(head -c 600 "$T/.err")"; fi
}
fails() {
	local want=$1 what=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	local rc=$?
	if [ $rc -eq "$want" ]; then pass; else
		fail "$what: exit $rc, wanted $want: $(head -c 600 "$T/.err")"; fi
}
same() {
	if [ "$2" = "$3" ]; then pass; else
		fail "$1: got [$2] wanted [$3]"; fi
}
has() {
	case "$2" in *"$3"*) pass ;; *) fail "$1: [$3] not in [$(printf '%s' "$2" | head -c 600)]" ;; esac
}
# PostgreSQL for the tests (pglib.py):
#   pg_database          PG becomes the URL of a fresh database on a
#                        throwaway PostgreSQL 15: the cluster of the run
#                        when tests/run-all started one
#                        (GRIDBOOK_TEST_PG_CLUSTER), else one of this
#                        test's own; removed at exit
#   hq_store FILE        HQ_SPEC becomes the --store of the test's HQ:
#                        sqlite:FILE, or with GRIDBOOK_TEST_STORE=pg a
#                        fresh database (pg_database)
#   on_pg                whether the test runs HQ on PostgreSQL
#   store_sql SPEC SQL   a query on the store SPEC, in SQLite's words (on
#                        PostgreSQL through psql and pglib.py's dialect)
#   store_copy SPEC NAME COPY becomes the --store of a copy of the store
#                        SPEC (that no server holds open), for a test to
#                        spoil
#   skip_on_pg WHY       on PostgreSQL, says that a part is skipped and why
#                        and returns 0 (so: skip_on_pg "..." || { part; })
E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PGLIB="$E2E_LIB/pglib.py"
pg_database() {
	if [ -n "${GRIDBOOK_TEST_PG_CLUSTER:-}" ]; then
		PG=$("$PGLIB" newdb "$GRIDBOOK_TEST_PG_CLUSTER" 2>"$T/pg.err")
		[ -n "$PG" ] && E2E_CLEANUPS+=("\"$PGLIB\" dropdb \"$PG\"")
	else
		mkdir -p "$T/pg"
		local url
		url=$("$PGLIB" start "$T/pg" 2>"$T/pg.err")
		[ -n "$url" ] && E2E_CLEANUPS+=("\"$PGLIB\" stop \"$T/pg\"")
		PG=
		[ -n "$url" ] && PG=$("$PGLIB" newdb "${url%/*}" 2>"$T/pg.err")
	fi
	if [ -z "$PG" ]; then
		fail "throwaway PostgreSQL: $(cat "$T/pg.err")"
		return 1
	fi
}
on_pg() { [ "${GRIDBOOK_TEST_STORE:-sqlite}" = pg ]; }
hq_store() {
	case "${GRIDBOOK_TEST_STORE:-sqlite}" in
	sqlite) HQ_SPEC="sqlite:$1" ;;
	pg) pg_database || exit 1; HQ_SPEC=$PG ;;
	*)
		fail "GRIDBOOK_TEST_STORE=$GRIDBOOK_TEST_STORE: not sqlite or pg"
		exit 1
		;;
	esac
}
store_sql() {
	case "$1" in
	sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;;
	*) psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	esac
}
store_copy() {
	case "$1" in
	sqlite:*) cp "${1#sqlite:}" "$T/$2.db" && COPY="sqlite:$T/$2.db" ;;
	*)
		COPY=$("$PGLIB" copydb "$1") || return 1
		E2E_CLEANUPS=("\"$PGLIB\" dropdb \"$COPY\"" "${E2E_CLEANUPS[@]}")
		;;
	esac
}
skip_on_pg() {
	on_pg || return 1
	echo "skipped on PostgreSQL: $1"
}
# Picks a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# The reference codes of grid $G in the seeds $S, for the tests that
# enter records by hand.
staff_of() { # ROLE [AREA]: the codes of the grid's staff with that role
	awk -F, -v g="$G" -v r="$1" -v a="${2:-}" \
		'NR > 1 && $4 == g && $3 == r && (a == "" || $5 == a) {print $1}' \
		"$S/staff.csv"
}
first_of() { # FILE: the code of the grid's first area or community
	awk -F, -v g="$G" 'NR > 1 && $2 == g {print $1; exit}' "$S/$1"
}

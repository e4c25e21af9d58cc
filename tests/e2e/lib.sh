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

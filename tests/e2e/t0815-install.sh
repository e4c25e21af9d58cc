#!/usr/bin/env bash
# make install PREFIX=... into a temporary prefix: the installed binaries
# work (a grid file made and a record entered with them), each man page
# renders with man -l and no warnings, the bash completion completes
# commands, verbs and options, the systemd units name the installed
# binaries, and the catalogues the build made are installed.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
# The build directory is where the gridbook on PATH lives (tests/run-all
# puts it first); without one the install would build into the sources.
if ! command -v gridbook >/dev/null 2>&1; then
	fail "no gridbook on PATH: run through tests/run-all or make test"
	exit 1
fi
B=$(dirname "$(command -v gridbook)")
P="$T/prefix"

ok "make install" make -s -C "$top" B="$(realpath --relative-to="$top" "$B")" \
	install PREFIX="$P"
for b in gridbook gridbook-syncd gridbook-hq; do
	[ -x "$P/bin/$b" ] && pass || fail "$b not installed"
done
ok "installed gridbook runs" env -i PATH=/usr/bin:/bin "$P/bin/gridbook" --version
ok "installed gridbook-hq runs" env -i PATH=/usr/bin:/bin "$P/bin/gridbook-hq" --help
ok "installed gridbook-syncd runs" env -i PATH=/usr/bin:/bin "$P/bin/gridbook-syncd" --help
ok "installed gridbook makes a grid file" \
	"$P/bin/gridbook" --db "$T/g.db" init --grid S01-G1 --staff K0001
ok "and takes a record" "$P/bin/gridbook" --db "$T/g.db" daily_report list

for m in man1/gridbook.1 man8/gridbook-syncd.8 man8/gridbook-hq.8; do
	f="$P/share/man/$m"
	out=$(MANWIDTH=80 man --warnings -l "$f" 2>"$T/man.err")
	has "man -l $m renders" "$out" "NAME"
	same "man -l $m has no warnings" "$(cat "$T/man.err")" ""
done
has "gridbook.1 tells of status" "$(MANWIDTH=80 man -l "$P/share/man/man1/gridbook.1" 2>/dev/null)" "status"

# The completion, run as bash runs it.
complete_words() {
	PATH="$P/bin:$PATH" bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_gridbook; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$P/share/bash-completion/completions/gridbook" "$@"
}
same "a command" "$(complete_words gridbook stat)" status
same "a kind" "$(complete_words gridbook pat)" patrol
has "the verbs of a kind" "$(complete_words gridbook patrol "")" history
same "an option of list" "$(complete_words gridbook patrol list --lim)" --limit
same "an option of conflicts" "$(complete_words gridbook conflicts --ke)" --keep
same "what --keep takes" "$(complete_words gridbook conflicts 0190 note --keep th)" \
	theirs
same "an option of syncd" "$(complete_words gridbook-syncd --dae)" --daemon
same "a command of hq" "$(complete_words gridbook-hq back)" backup
[ -L "$P/share/bash-completion/completions/gridbook-hq" ] && pass ||
	fail "no completion for gridbook-hq"

U="$P/lib/systemd/user/gridbook-syncd@.service"
has "the user unit runs the installed daemon" "$(cat "$U")" \
	"ExecStart=$P/bin/gridbook-syncd --db %I --syslog"
has "as Type=notify" "$(cat "$U")" "Type=notify"
has "the hq unit runs the installed server" \
	"$(cat "$P/lib/systemd/system/gridbook-hq.service")" "ExecStart=$P/bin/gridbook-hq serve"
if command -v systemd-analyze >/dev/null 2>&1; then
	ok "systemd-analyze verify" systemd-analyze verify "$U"
fi
for mo in "$B"/locale/*/LC_MESSAGES/gridbook.mo; do
	[ -e "$mo" ] || continue
	l=${mo#"$B"/locale/}
	[ -e "$P/share/locale/$l" ] && pass || fail "catalogue $l not installed"
done

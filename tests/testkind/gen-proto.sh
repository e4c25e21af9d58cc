#!/bin/sh
# tests/testkind/gen-proto.sh PROTO MESSAGES: PROTO (proto/gridbook.proto)
# with the test kind added: its member in Record's body, then the messages
# of MESSAGES (tests/testkind/testkind.proto), on stdout.  The member's
# line is the first line of MESSAGES that starts with "// member:".
set -eu
member=$(sed -n 's|^// member: *||p' "$2" | head -n 1)
[ -n "$member" ] || { echo "$0: no '// member:' line in $2" >&2; exit 1; }
grep -q '^  oneof body {$' "$1" || { echo "$0: no oneof body in $1" >&2; exit 1; }
sed "/^  oneof body {\$/a\\
    $member" "$1"
echo
grep -v '^// member:' "$2"

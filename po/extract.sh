#!/bin/sh
# Writes to standard output the message template of the current sources of
# gridbook, gridbook-syncd and gridbook-hq: every string marked with _(),
# N_(), C_(), NC_() or ngettext().  `make po` merges it into po/*.po; the
# catalogue test merges it too, so that a string without a translation
# fails there.
#   po/extract.sh [TOPDIR]
set -eu
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
exec xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ \
	--keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=ngettext:1,2 \
	--add-comments=TRANSLATORS: --package-name=gridbook \
	--msgid-bugs-address=- --no-wrap --sort-by-file -o - \
	$(ls common/*.[ch] client/*.[ch] server/*.[ch] | LC_ALL=C sort)

#!/bin/sh
# Writes the C file of server/dashboard_assets.h (the dashboard page's
# HTML, styles and script, kept as their own files in server/) to stdout.
set -eu
emit() {
	printf 'const char %s[] =\n' "$1"
	# Backslashes and quotes escaped, and every "?" too, so that no "??x"
	# in the script is read as a C trigraph.
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
		-e 's/^/\t"/' -e 's/$/\\n"/' "$2"
	printf ';\n'
}
echo '/* Generated from server/dashboard.* by tests/gen-assets.sh; do not edit. */'
echo '#include "dashboard_assets.h"'
emit dashboard_html server/dashboard.html
emit dashboard_css server/dashboard.css
emit dashboard_js server/dashboard.js

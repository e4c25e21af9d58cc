#!/bin/sh
# Writes the C file of common/schema.h from schema/client/*.sql,
# schema/server/*.sql and schema/pg/*.sql (numbered, applied in name
# order) to stdout.
set -eu
emit() {
	side=$1
	n=0
	for f in $(ls schema/$side/*.sql 2>/dev/null | sort); do
		n=$((n + 1))
		printf 'static const char %s_%d[] =\n' "$side" "$n"
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
		printf ';\n'
	done
	printf 'const char *const gb_schema_%s[] = {' "$side"
	i=1
	while [ $i -le $n ]; do printf '%s_%d, ' "$side" "$i"; i=$((i + 1)); done
	printf 'NULL};\nconst int gb_schema_%s_n = %d;\n' "$side" "$n"
}
echo '/* Generated from schema/ by tests/gen-schema.sh; do not edit. */'
echo '#include <stddef.h>'
echo '#include "schema.h"'
emit client
emit server
emit pg

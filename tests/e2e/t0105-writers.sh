#!/usr/bin/env bash
# One writer for records: `KIND list --format csv|json` and `export KIND`
# give the same bytes for the same records, with and without --all (the
# CSV that import reads back, the JSON with the author), and `show
# --format json` gives the object list and export give for that record.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
command -v gridbook >/dev/null || export PATH="$top/build:$PATH"
S=${GRIDBOOK_SEEDS:-$top/seeds}
export GRIDBOOK_SEEDS=$S
export GRIDBOOK_NOW="2026-03-12 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
export GRIDBOOK_DB="$T/grid.db"
G=S01-G1
COMM=$(awk -F, -v g="$G" 'NR > 1 && $2 == g {print $1; exit}' \
	"$S/communities.csv")
COORD=$(awk -F, -v g="$G" 'NR > 1 && $4 == g && $3 == "coordinator" \
	{print $1; exit}' "$S/staff.csv")
[ -n "$COMM" ] && [ -n "$COORD" ] || { fail "no community or coordinator"; exit 1; }

ok "init" gridbook init --grid "$G" --staff "$COORD"
ok "enterprise add" gridbook enterprise add --uscc 91350100M000100Y43 \
	--name 澄江纺织有限公司 --community "$COMM" --employees 120 \
	--address "滨河路 3 号, 东门" --industry 纺织
E1=$(cat "$T/.out")
ok "enterprise add" gridbook enterprise add --uscc 91330782000012HJ5R \
	--name 叶记面馆 --type individual --community "$COMM" --employees 4
E2=$(cat "$T/.out")
ok "check add" gridbook contract_check add --enterprise "$E1" \
	--check-date 2026-03-02 --employees-total 120 --contracts-signed 110 \
	--insured 100 --hiring-registered 118 --outcome notice \
	--deadline 2026-04-01 --findings "十人未签合同（车间）"
ok "check add" gridbook contract_check add --enterprise "$E2" \
	--check-date 2026-03-05 --employees-total 4 --contracts-signed 4 \
	--insured 4 --hiring-registered 4
ok "void" gridbook enterprise void "$E2" --reason 重复登记

for kind in enterprise contract_check; do
	for all in "" --all; do
		ok "$kind list $all csv" gridbook "$kind" list $all --format csv
		cp "$T/.out" "$T/list.csv"
		ok "$kind export $all csv" gridbook export "$kind" $all
		cp "$T/.out" "$T/export.csv"
		if cmp -s "$T/list.csv" "$T/export.csv"; then pass; else
			fail "$kind $all: list and export CSV differ:" \
				"$(diff "$T/list.csv" "$T/export.csv" | head -5)"
		fi
		ok "$kind list $all json" gridbook "$kind" list $all --format json
		cp "$T/.out" "$T/list.json"
		ok "$kind export $all json" gridbook export "$kind" $all --format json
		cp "$T/.out" "$T/export.json"
		if cmp -s "$T/list.json" "$T/export.json"; then pass; else
			fail "$kind $all: list and export JSON differ:" \
				"$(diff "$T/list.json" "$T/export.json" | head -5)"
		fi
	done
done

# The shape: every key, the author among them; the voided one is in
# --all only.
keys=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print(len(a), " ".join(a[0].keys()), sorted(r["voided"] for r in a))
' "$T/export.json")
same "the record keys" "$keys" \
	"2 id kind version created_at updated_at staff device voided void_reason values [False, False]"
ok "enterprise export --all json" gridbook export enterprise --all --format json
got=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print(sorted((r["values"]["name"], r["voided"], r["void_reason"], r["staff"]) for r in a))
' "$T/.out")
same "voided in --all, with its reason and author" "$got" \
	"[('叶记面馆', True, '重复登记', '$COORD'), ('澄江纺织有限公司', False, None, '$COORD')]"

# show gives the object of the array.
ok "enterprise list json" gridbook enterprise list --format json
cp "$T/.out" "$T/list.json"
ok "show json" gridbook enterprise show "$E1" --format json
python3 - "$T/.out" "$T/list.json" "$E1" <<'EOF' && pass || fail "show json is not the listed object"
import json, sys
one = json.load(open(sys.argv[1]))
listed = [r for r in json.load(open(sys.argv[2])) if r["id"] == sys.argv[3]]
sys.exit(0 if listed == [one] else 1)
EOF

# What export writes, import reads back: into a fresh file and out again.
ok "export --all csv" gridbook export enterprise --all -o "$T/e.csv"
ok "init b" gridbook --db "$T/b.db" init --grid "$G" --staff "$COORD"
ok "import" gridbook --db "$T/b.db" import enterprise "$T/e.csv"
ok "list b" gridbook --db "$T/b.db" enterprise list --all --format csv
if cmp -s "$T/.out" "$T/e.csv"; then pass; else
	fail "listed after import differs from the export:" \
		"$(diff "$T/e.csv" "$T/.out" | head -5)"
fi

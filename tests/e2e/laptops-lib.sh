# Sourced after lib.sh by the tests of many laptops on one PostgreSQL
# (t0870, t0872), with top the checkout: sets SEEDS (the district) and B
# (the build, where gridbook-gen is), the zone of the generated work, and
# no store or clock from outside; then, with PG the database's URL and
# LAPTOPS the grid files of gridbook-gen (*-labour.db a coordinator's,
# *-police.db an officer's):
#   laptops_enroll URL   enrols each laptop's device and sets its file up
#                        to sync with URL; prints how many were
#   laptops_records      how many records the laptops hold in all
#   laptops_held N TOTAL checks what PostgreSQL holds after the laptops
#                        synced to the end: every version the laptops
#                        hold and no other, every record once and TOTAL
#                        of them (laptops_records before the laptops
#                        pulled each other's), each grid's change numbers
#                        and each device's batches unique and without a
#                        gap, N devices' batches
SEEDS=${GRIDBOOK_SEEDS:-$top/seeds}
B=$(dirname "$(command -v gridbook-hq)")
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE
if [ ! -x "$B/bench/gridbook-gen" ]; then
	fail "no $B/bench/gridbook-gen: make all first"
	exit 1
fi
export GRIDBOOK_TZ=Asia/Shanghai

laptops_enroll() {
	local f g role n=0
	for f in "${LAPTOPS[@]}"; do
		g=$(basename "$f")
		g=${g%-*}
		case "$f" in *-police.db) role=officer ;; *) role=coordinator ;; esac
		gridbook-hq device enroll --grid "$g" --role "$role" \
			--store "$PG" 2>>"$T/enroll.err" |
			gridbook --db "$f" sync setup --server "$1" --token - \
				>/dev/null 2>>"$T/enroll.err" &&
			n=$((n + 1))
	done
	echo "$n"
}
laptops_records() {
	local f n=0
	for f in "${LAPTOPS[@]}"; do
		n=$((n + $(sqlite3 "$f" "SELECT count(*) FROM record")))
	done
	echo "$n"
}
laptops_sql() { psql -X -qAt "$PG" -c "$1"; }
laptops_held() {
	local f total=$2
	for f in "${LAPTOPS[@]}"; do
		sqlite3 "$f" "SELECT replace(id, '-', '') || '|' || version FROM
			(SELECT id, version FROM record UNION
			 SELECT id, version FROM record_history)"
	done | sort -u >"$T/laptops"
	for f in "${LAPTOPS[@]}"; do
		sqlite3 "$f" "SELECT replace(id, '-', '') FROM record"
	done | sort -u >"$T/laptop-ids"
	laptops_sql "SELECT DISTINCT encode(id, 'hex') || '|' || version
		FROM record_history" | sort >"$T/hq"
	laptops_sql "SELECT encode(id, 'hex') FROM record_current" |
		sort >"$T/hq-ids"
	same "HQ holds every version the laptops hold, and no other" \
		"$(comm -3 "$T/laptops" "$T/hq" | head -n 5)" ""
	same "HQ holds every record of the laptops" \
		"$(comm -3 "$T/laptop-ids" "$T/hq-ids" | head -n 5)" ""
	same "every record once" "$(uniq -d "$T/hq-ids" | head -n 5)" ""
	same "as many records as the laptops entered" \
		"$(wc -l <"$T/hq-ids")" "$total"
	same "no version twice" \
		"$(laptops_sql "SELECT count(*) FROM (SELECT id, version, device
			FROM record_history GROUP BY 1, 2, 3
			HAVING count(*) > 1) t")" 0
	same "each grid's change numbers are unique" \
		"$(laptops_sql "SELECT count(*) FROM (SELECT grid, seq FROM
			record_history GROUP BY 1, 2 HAVING count(*) > 1) t")" 0
	same "each grid's change numbers have no gap" \
		"$(laptops_sql "SELECT count(*) FROM (SELECT grid FROM
			record_history GROUP BY grid
			HAVING max(seq) <> count(*)) t")" 0
	same "each device's batches have no gap" \
		"$(laptops_sql "SELECT count(*) FROM (SELECT device FROM batch
			GROUP BY device HAVING max(seq) <> count(*)) t")" 0
	same "every device sent batches" \
		"$(laptops_sql "SELECT count(DISTINCT device) FROM batch")" "$1"
}

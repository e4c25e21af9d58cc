#!/usr/bin/env bash
# The same generated dataset gives byte-identical JSON reports from both
# stores (issue 15).  Five weeks of field work of four grids (gridbook-gen)
# and two pairs of laptops that changed one record each without seeing
# the other's change (two coordinators' laptops one enterprise's
# headcount, two officers' laptops one patrol: one voided it, the other
# edited it) are loaded through the server's own ingest (bench/load_store
# load) into a fresh SQLite store and into a fresh PostgreSQL 15 in a
# throwaway cluster (pglib.py), so that ingest's merge runs on each.
# Then every report at every level, as JSON from gridbook-hq report, for
# a month in the past and for one not yet over, and the conflicts
# listing must come out byte for byte the same from both, and hold what
# the concurrent edits left: the field conflicts, counted in the reports.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"
SEEDS=${GRIDBOOK_SEEDS:-$top/seeds}
B=$(dirname "$(command -v gridbook-hq)")
for f in "$B/bench/gridbook-gen" "$B/bench/load_store"; do
	if [ ! -x "$f" ]; then
		fail "no $f: make all first"
		exit 1
	fi
done
# One clock for the field work, the loads and the reports, so that the
# times ingest records (a device's last batch, when a conflict was seen)
# are the same in both stores.
export GRIDBOOK_TZ=Asia/Shanghai GRIDBOOK_NOW="2026-11-03 18:00"

pg_database || exit 1

ok "gridbook-gen" "$B/bench/gridbook-gen" --out "$T/gen" \
	--grids S01-G1,S01-G2,S03-G1,S05-G2 --from 2026-09-22 \
	--to 2026-10-31 --seed 11 --seeds "$SEEDS"

# ---- two pairs of laptops, each changing one record apart ------------------
# A coordinator's laptop X enters an enterprise and an officer's laptop Y
# a patrol; through a SQLite HQ of their own the pairs (A, C) and (P1, P2)
# get them, then change them offline and never sync again.  What the six
# laptops hold goes to both stores by load_store alone, X and Y first.
X="$T/x.grid" Y="$T/y.grid" A="$T/a.grid" C="$T/c.grid"
P1="$T/p1.grid" P2="$T/p2.grid"
hq_seed "$SEEDS"
hq_start
for f in "$X" "$A" "$C"; do
	grid_new "$f"
	ok "coordinator laptop $(basename "$f") is enrolled" enroll "$f" \
		coordinator
done
for p in "$Y:J0003" "$P1:J0001" "$P2:J0002"; do
	f=${p%%:*}
	gridbook --db "$f" init --grid S01-G1 --staff "${p#*:}" >/dev/null
	ok "officer laptop $(basename "$f") is enrolled" enroll "$f" officer
done
E=$(gridbook --db "$X" enterprise add --uscc "$(uscc 86801)" \
	--name 望川市南桥纺织有限公司 --community S01-C01 --employees 64 \
	2>"$T/add.err")
[ -n "$E" ] && pass || fail "the enterprise was not added: $(cat "$T/add.err")"
P=$(gridbook --db "$Y" patrol add --area PA-01 --start "2026-10-14 21:00" \
	--end "2026-10-15 01:00" --leader J0001 --guards B0001,B0002 \
	--mode foot --incidents 0 2>"$T/add.err")
[ -n "$P" ] && pass || fail "the patrol was not added: $(cat "$T/add.err")"
for f in "$X" "$Y" "$A" "$C" "$P1" "$P2"; do
	ok "sync $(basename "$f")" gridbook --db "$f" sync
done
hq_stop
# Each edit at a time of its own, later than the syncs, as laptops' clocks
# are: two versions of one time would be one version to the merge.
at() { local t=$1; shift; GRIDBOOK_NOW="2026-11-03 $t" "$@"; }
ok "A sets the headcount to 70" at 18:10 gridbook --db "$A" enterprise \
	edit "$E" --employees 70
ok "C sets it to 72 and the address, later" at 18:20 gridbook --db "$C" \
	enterprise edit "$E" --employees 72 --address 南桥路16号
ok "P1 voids the patrol" at 18:10 gridbook --db "$P1" patrol void "$P" \
	--reason 重复录入
ok "P2 edits it later, not seeing the void" at 18:20 gridbook --db "$P2" \
	patrol edit "$P" --incidents 1
# load_store takes a directory's files as <grid>-labour.db (its
# coordinator's device) and <grid>-police.db (its officer's): one pair
# to a directory.
mkdir "$T/base" "$T/first" "$T/second"
cp "$X" "$T/base/S01-G1-labour.db"
cp "$Y" "$T/base/S01-G1-police.db"
cp "$A" "$T/first/S01-G1-labour.db"
cp "$P1" "$T/first/S01-G1-police.db"
cp "$C" "$T/second/S01-G1-labour.db"
cp "$P2" "$T/second/S01-G1-police.db"

# ---- the same load into each store -----------------------------------------
"$B/bench/load_store" load "$T/hq-sq.db" "$SEEDS" "$T/gen" "$T/base" \
	"$T/first" "$T/second" >"$T/load-sq.out" 2>&1 && pass ||
	fail "load_store load into SQLite: $(tail -3 "$T/load-sq.out")"
"$B/bench/load_store" load "$PG" "$SEEDS" "$T/gen" "$T/base" \
	"$T/first" "$T/second" >"$T/load-pg.out" 2>&1 && pass ||
	fail "load_store load into PostgreSQL: $(tail -3 "$T/load-pg.out")"
counts() { sed -n 's/^loaded \(.*\) in .*/\1/p' "$1"; }
same "both loads took the same records" "$(counts "$T/load-pg.out")" \
	"$(counts "$T/load-sq.out")"
n=$(counts "$T/load-sq.out" | awk '{print $1}')
[ "${n:-0}" -gt 1000 ] && pass || fail "records loaded: [$n]"

SQ="sqlite:$T/hq-sq.db"
# The merge ran on both: the enterprise holds C's address and one of
# the headcounts, in conflict, the patrol stays voided, in conflict.
for st in "$SQ" "$PG"; do
	ok "conflicts on $st" gridbook-hq conflicts --store "$st" --format json
	c=$(cat "$T/.out")
	has "$st: the headcount in conflict" "$c" '"field":"employees"'
	has "$st: the void in conflict" "$c" '"field":"void"'
	has "$st: C's headcount kept" "$c" '"kept":{"value":"72"'
done
hexid() { printf '%s' "$1" | tr -d - | tr a-f A-F; }
has "SQLite: the merge kept C's address" "$(sqlite3 "$T/hq-sq.db" \
	"SELECT body FROM record_current WHERE hex(id) = '$(hexid "$E")'")" \
	'"address":"南桥路16号"'
has "PostgreSQL: the merge kept C's address" "$(psql -X -At "$PG" -c \
	"SELECT body FROM record_current WHERE id = '\\x$(hexid "$E")'")" \
	'"address":"南桥路16号"'

# ---- every report at every level, and the conflicts listing ----------------
REPORTS=$(LANGUAGE=C LANG=C gridbook-hq report --help |
	sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
same "reports listed" "$(echo "$REPORTS" | wc -l)" 11
compare() { # WHAT ARGS...: gridbook-hq ARGS on both stores, the same out
	local what=$1 rs rp
	shift
	gridbook-hq "$@" --store "$SQ" >"$T/sq.txt" 2>"$T/sq.err"
	rs=$?
	gridbook-hq "$@" --store "$PG" >"$T/pg.txt" 2>"$T/pg.err"
	rp=$?
	if [ $rs -ne $rp ]; then
		fail "$what: exit $rs on SQLite, $rp on PostgreSQL:" \
			"$(head -c 300 "$T/sq.err") | $(head -c 300 "$T/pg.err")"
	elif ! cmp -s "$T/sq.txt" "$T/pg.txt"; then
		fail "$what differs between the stores:" \
			"$(diff "$T/sq.txt" "$T/pg.txt" | head -20)"
	else
		pass
	fi
	return $rs
}
mkdir "$T/out"
ran=0
for now in "2026-11-03 18:00" "2026-10-20 09:30"; do
	for r in $REPORTS; do
		for l in district street grid area community; do
			# A level a report does not take is refused on both.
			GRIDBOOK_NOW="$now" compare "$r $l as of $now" report \
				"$r" --level "$l" --from 2026-10-01 \
				--to 2026-10-31 --format json || continue
			ran=$((ran + 1))
			cat "$T/sq.txt" >>"$T/out/all.json"
		done
	done
done
# Something to compare: 40 report-levels, each at two moments; figures in
# them, drill-down lists, and the conflicts the merge left counted.
same "reports and levels compared" "$ran" 80
grep -q '"rate_pct":[1-9]' "$T/out/all.json" && pass ||
	fail "no signing rate in the reports"
grep -q '"open_past_deadline":\[{' "$T/out/all.json" && pass ||
	fail "no request open past its deadline listed"
grep -q '"conflicts":[1-9]' "$T/out/all.json" && pass ||
	fail "no record in conflict counted in the reports"
for f in json csv table; do
	compare "conflicts as $f" conflicts --format "$f"
	compare "conflicts of S01-G1 as $f" conflicts --grid S01-G1 \
		--format "$f"
done

# ---- the facts rebuilt from the records --------------------------------------
# A store whose facts are of another rollup version rebuilds them from its
# records at the next command.  PostgreSQL reads the records through a
# cursor, 10,000 rows (a row a field of a record) to a fetch: the store
# holds many times that, so records run across fetches.
n=$(psql -X -At "$PG" -c "SELECT count(*) FROM record_current r LEFT JOIN
	LATERAL json_each_text(r.body::json) j ON true WHERE r.voided = 0 OR
	r.conflicts > 0")
[ "${n:-0}" -gt 30000 ] && pass || fail "rows of the records: [$n]"
psql -X -q "$PG" -c "UPDATE meta SET value = 'stale' WHERE key =
	'rollup_version'; DELETE FROM rf_request; DELETE FROM rr_daily" &&
	pass || fail "facts made stale on PostgreSQL"
sqlite3 "$T/hq-sq.db" "UPDATE meta SET value = 'stale' WHERE key =
	'rollup_version'" && pass || fail "facts made stale on SQLite"
for r in $REPORTS; do
	GRIDBOOK_NOW="2026-11-03 18:00" compare "$r rebuilt" report "$r" \
		--level district --from 2026-10-01 --to 2026-10-31 --format json
	cat "$T/pg.txt" >>"$T/out/rebuilt.json"
done
same "PostgreSQL's facts rebuilt" "$(psql -X -At "$PG" -c "SELECT value
	FROM meta WHERE key = 'rollup_version'")" \
	"$(sqlite3 "$T/hq-sq.db" "SELECT value FROM meta WHERE key =
	'rollup_version'")"
same "requests rebuilt on PostgreSQL" \
	"$(psql -X -At "$PG" -c "SELECT count(*) FROM rf_request")" \
	"$(sqlite3 "$T/hq-sq.db" "SELECT count(*) FROM rf_request")"
grep -q '"open_past_deadline":\[{' "$T/out/rebuilt.json" && pass ||
	fail "rebuilt: no request open past its deadline listed"

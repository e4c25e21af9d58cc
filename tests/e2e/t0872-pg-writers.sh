#!/usr/bin/env bash
# Several writers in one gridbook-hq on PostgreSQL (serve --writers):
# one instance with three writers on one throwaway PostgreSQL 15
# (pglib.py), and twelve laptops of six grids (a coordinator's and an
# officer's each, a week of field work from gridbook-gen) syncing at once
# in small batches, so that a sync's window holds several batches, each
# after the one before, while other grids' batches are applied beside
# them.  Every writer applies groups, every laptop syncs to the end, and
# then PostgreSQL holds every record once, every version the laptops hold
# and nothing else, no version twice, each grid's change numbers unique
# and without a gap, and each device's batches without a gap.  A SQLite
# store refuses a second writer.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/laptops-lib.sh"

# ---- SQLite has one writer ---------------------------------------------------
fails 2 "a SQLite store refuses --writers 2" gridbook-hq serve \
	--store "sqlite:$T/one.db" --listen "127.0.0.1:$(free_port)" \
	--writers 2
has "and says why" "$(cat "$T/.err")" "one writer"
fails 2 "--writers 0 is refused" gridbook-hq serve \
	--store "sqlite:$T/one.db" --writers 0

pg_database || exit 1

ok "seed the district into PostgreSQL" gridbook-hq seed "$SEEDS" --store "$PG"
GRIDS=$(awk -F, 'NR > 1 {print $1}' "$SEEDS/grids.csv" | head -n 6 | paste -sd,)
ok "gridbook-gen: six grids, a week" "$B/bench/gridbook-gen" \
	--out "$T/gen" --grids "$GRIDS" --from 2026-11-01 --to 2026-11-07 \
	--seed 11 --seeds "$SEEDS"
LAPTOPS=("$T"/gen/*-labour.db "$T"/gen/*-police.db)
same "twelve laptops" "${#LAPTOPS[@]}" 12

PORT=$(free_port)
gridbook-hq serve --store "$PG" --listen "127.0.0.1:$PORT" --writers 3 \
	--verbose >"$T/hq.log" 2>&1 &
HQ=$!
E2E_CLEANUPS=("kill $HQ 2>/dev/null; wait $HQ 2>/dev/null" "${E2E_CLEANUPS[@]}")
up() {
	for _ in $(seq 200); do
		curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 &&
			return 0
		sleep 0.05
	done
	return 1
}
ok "HQ starts with three writers" up
has "and says so" "$(cat "$T/hq.log")" "3 writers"

same "twelve laptops enrolled" "$(laptops_enroll "http://127.0.0.1:$PORT")" 12
TOTAL=$(laptops_records)

SYNCS=()
for f in "${LAPTOPS[@]}"; do
	gridbook --db "$f" sync --batch-records 10 --retry-for 60 \
		>"$f.log" 2>&1 &
	SYNCS+=($!)
done
E2E_CLEANUPS+=("kill ${SYNCS[*]} 2>/dev/null")
bad=0
for p in "${SYNCS[@]}"; do wait "$p" || bad=$((bad + 1)); done
same "every laptop synced to the end in one sync" "$bad" 0
for f in "${LAPTOPS[@]}"; do
	same "$(basename "$f"): nothing left to send" \
		"$(gridbook --db "$f" sync status --format json |
			grep -o '"pending":[0-9]*')" '"pending":0'
done

for w in 0 1 2; do
	n=$(grep -c "writer $w: a group of" "$T/hq.log")
	[ "$n" -gt 0 ] && pass || fail "writer $w applied no group"
done
same "no group failed" "$(grep -c 'failed\|run again' "$T/hq.log")" 0

# ---- what PostgreSQL holds ---------------------------------------------------
laptops_held 12 "$TOTAL"

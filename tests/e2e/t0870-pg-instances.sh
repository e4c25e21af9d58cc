#!/usr/bin/env bash
# Several gridbook-hq instances on one PostgreSQL (issue 15): three
# instances on one throwaway PostgreSQL 15 (pglib.py) behind a round-robin
# TCP proxy (rrproxy.py: each new connection to the next instance, a
# refused one to the next live one), and thirty laptops of fifteen grids
# (a coordinator's and an officer's each, two weeks of field work from
# gridbook-gen) syncing at once in small batches, so that the batches of
# one sync's window land on different instances and wait there for the
# one before (told by NOTIFY when another instance applied it), and a
# batch sent again lands elsewhere than its first try.  One instance is
# killed with SIGKILL mid-run and started again.  Every laptop syncs to
# the end, and then PostgreSQL holds every record once, every version
# the laptops hold and nothing else, no version twice, each grid's change
# numbers unique and without a gap, and each device's batches without a
# gap.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/laptops-lib.sh"

mkdir -p "$T/proxy"
# A fresh database: on the run's cluster under tests/run-all, else on a
# cluster of the test's own (lib.sh).
pg_database || exit 1
sql() { laptops_sql "$1"; }

ok "seed the district into PostgreSQL" gridbook-hq seed "$SEEDS" --store "$PG"
GRIDS=$(awk -F, 'NR > 1 {print $1}' "$SEEDS/grids.csv" | head -n 15 | paste -sd,)
ok "gridbook-gen: fifteen grids, two weeks" "$B/bench/gridbook-gen" \
	--out "$T/gen" --grids "$GRIDS" --from 2026-11-01 --to 2026-11-14 \
	--seed 7 --seeds "$SEEDS"
LAPTOPS=("$T"/gen/*-labour.db "$T"/gen/*-police.db)
same "thirty laptops" "${#LAPTOPS[@]}" 30

# ---- three instances and the proxy -----------------------------------------
PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
PIDS=()
hq_up() { # I: starts instance I on its port and waits for /healthz
	gridbook-hq serve --store "$PG" --listen "127.0.0.1:${PORTS[$1]}" \
		>>"$T/hq$1.log" 2>&1 &
	PIDS[$1]=$!
	for _ in $(seq 200); do
		curl -sf "http://127.0.0.1:${PORTS[$1]}/healthz" >/dev/null 2>&1 &&
			return 0
		sleep 0.05
	done
	return 1
}
hq_down_all() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	return 0
}
# Before the database is dropped (pg_database).
E2E_CLEANUPS=("hq_down_all" "${E2E_CLEANUPS[@]}")
for i in 0 1 2; do ok "instance $i starts on PostgreSQL" hq_up "$i"; done
PX=$(free_port)
python3 "$top/tests/e2e/rrproxy.py" "$PX" "$T/proxy" "${PORTS[@]}" \
	>"$T/proxy.err" 2>&1 &
PROXY=$!
E2E_CLEANUPS+=("kill $PROXY 2>/dev/null")
for _ in $(seq 100); do [ -e "$T/proxy/ready" ] && break; sleep 0.05; done

# ---- thirty laptops --------------------------------------------------------
same "thirty laptops enrolled" "$(laptops_enroll "http://127.0.0.1:$PX")" 30
TOTAL=$(laptops_records)

# A laptop syncs until a round ends with nothing left to send, a bounded
# number of rounds; each round is a new process, so new connections.
sync_to_end() { # FILE
	for _ in $(seq 60); do
		if gridbook --db "$1" sync --batch-records 20 --retry-for 30 \
			>>"$1.log" 2>&1 &&
			gridbook --db "$1" sync status --format json 2>>"$1.log" |
			grep -q '"pending":0,'; then
			touch "$1.done"
			return 0
		fi
		sleep 0.2
	done
	return 1
}
SYNCS=()
for f in "${LAPTOPS[@]}"; do
	sync_to_end "$f" &
	SYNCS+=($!)
done
E2E_CLEANUPS+=("kill ${SYNCS[*]} 2>/dev/null")

# Mid-run, instance 1 dies without a word, and comes back once the proxy
# has had a connection refused by it and sent it elsewhere (at most 20 s).
for _ in $(seq 300); do
	[ "$(sql "SELECT count(*) FROM record_current")" -ge $((TOTAL / 5)) ] &&
		break
	sleep 0.1
done
kill -9 "${PIDS[1]}"
wait "${PIDS[1]}" 2>/dev/null
at_kill=$(sql "SELECT count(*) FROM record_current")
[ "$at_kill" -lt "$TOTAL" ] && pass ||
	fail "the kill came after the end: $at_kill of $TOTAL records held"
wait_refused() {
	for _ in $(seq 200); do
		grep -q "^refused ${PORTS[1]}\$" "$T/proxy/log" && return 0
		sleep 0.1
	done
	return 1
}
ok "a connection to the dead instance is refused" wait_refused
ok "instance 1 starts again" hq_up 1

bad=0
for p in "${SYNCS[@]}"; do wait "$p" || bad=$((bad + 1)); done
same "every laptop synced to the end" "$bad" 0
for f in "${LAPTOPS[@]}"; do
	[ -e "$f.done" ] || fail "$(basename "$f"): $(tail -n 3 "$f.log")"
done

# ---- what the proxy saw ----------------------------------------------------
for i in 0 1 2; do
	n=$(grep -c "^conn [0-9]* ${PORTS[$i]}\$" "$T/proxy/log")
	[ "$n" -gt 0 ] && pass || fail "instance $i took no connection"
done
n=$(grep -c "^refused ${PORTS[1]}\$" "$T/proxy/log")
[ "$n" -gt 0 ] && pass ||
	fail "no connection came to the dead instance and went elsewhere"

# ---- what PostgreSQL holds -------------------------------------------------
laptops_held 30 "$TOTAL"

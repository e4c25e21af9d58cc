#!/usr/bin/env bash
# Ingest on PostgreSQL (BENCHMARKS.md, "Ingest on PostgreSQL"), run by
# bench/run after the reports on PostgreSQL (PGINGEST=0 skips it), or
# alone:
#
#   bench/pg_ingest.sh [BUILD_DIR]
#       RECORDS=240000  about this many versions, in GRIDS police files
#       GRIDS=S01-G1,S02-G1,S03-G1
#       RUNS=3          rounds; each round runs every way once, in turn
#       PGLIB_CONF      settings of the throwaway cluster (default: 1 GB
#                       of shared buffers, and durable: fsync,
#                       synchronous_commit and full_page_writes on)
#       KEEP=1          keep the work directory
#       PG_SERVE_ARGS   more arguments of the PostgreSQL servers' serve
#                       (e.g. "--writers 1")
#
# The rows: the police grid files of GRIDS made by gridbook-gen (--scale
# 100: public requests above all, then patrols, handovers, daily reports
# and reception hours), each enrolled as an officer's device of its grid.
# Each round pushes all of them at once, one `gridbook sync` process a
# file, started together, and times from their start until the last has
# exited, four ways, and COPY:
#
#   sqlite  one gridbook-hq serve on a fresh seeded SQLite store
#   pg-1    one gridbook-hq serve on a fresh seeded PostgreSQL database
#   pg-3    three gridbook-hq serve on one such database, file i pushed to
#           instance i (a device keeps to one instance here, so the order
#           of its batches across instances is not exercised; that is
#           what the tests of several instances are for)
#   copy    PostgreSQL's own COPY of the very rows pg-1 left in
#           record_history and record_current (dumped with COPY TO after
#           the first pg-1 run, text format) into the same two tables of
#           a fresh seeded database (same shape, keys and indexes), one
#           psql, in one transaction: the versions ingest keeps, and
#           nothing of what makes them (HTTP, protobuf, validation,
#           merge, report facts, batches and acks)
#   copy-all  the same with the rows pg-1 left in the report fact tables
#           too, which ingest writes in the same transactions: every row
#           of the push but those of the batches and devices
#
# Every database of a round is a copy of one seeded template (CREATE
# DATABASE ... TEMPLATE), made before the round and not timed, as are the
# grid files' copies.  After each push the store must hold every version.
# Printed: each run, then the medians and the ratios pg-1 and pg-3 to
# copy and to copy-all (target >= 0.5 of the COPY of the same rows:
# copy-all) and pg-1 / sqlite.  The processes of HQ, clients
# and PostgreSQL share the same 2 cores; CPU seconds of HQ and of
# PostgreSQL (its backends) are printed for each run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
RECORDS=${RECORDS:-240000}
GRIDS=${GRIDS:-S01-G1,S02-G1,S03-G1}
RUNS=${RUNS:-3}
export PGLIB_CONF=${PGLIB_CONF:-"shared_buffers = 1GB; fsync = on; synchronous_commit = on; full_page_writes = on"}
PGLIB="$top/tests/e2e/pglib.py"
# What COPY writes: the two tables of the versions (copy), and with them
# the report facts ingest writes beside them in the same transactions
# (copy-all: every row of a fact table that pg-1 left).
RECORD_TABLES="record_history record_current"
FACT_TABLES="rf_enterprise rf_check rf_rect rf_dispute rf_patrol rr_night
rf_daily rr_daily rf_reception rr_reception rf_request rr_sync rf_conflict"
# Versions gridbook-gen writes a day into one police file at --scale 100.
PER_DAY=516
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE

for f in "$B/gridbook" "$B/gridbook-hq" "$B/bench/gridbook-gen"; do
	[ -x "$f" ] || { echo "pg_ingest: $f is not built (make)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-pgingest.XXXXXX")
mkdir "$W/pg"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	"$PGLIB" stop "$W/pg" >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" = 1 ]; then echo "   kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

now_ns() { date +%s%N; }
secs() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e9 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {
	if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR/2] + v[NR/2+1]) / 2) }'; }
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' \
	"/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# CPU seconds of every postgres process so far (the cluster's backends
# come and go with connections; those gone are counted by their parent
# in cutime/cstime).
pg_cpu() { local pm c; pm=$(head -1 "$PGDATA/postmaster.pid")
	{ cat "/proc/$pm/stat"
	  for c in $(pgrep -P "$pm"); do cat "/proc/$c/stat" 2>/dev/null; done
	} | awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 }
		END { printf "%.1f", s / hz }'; }

IFS=, read -r -a grids <<<"$GRIDS"
ng=${#grids[@]}
days=$(( (RECORDS + ng * PER_DAY - 1) / (ng * PER_DAY) ))
to=$(date -d yesterday +%F)
from=$(date -d "$to - $((days - 1)) days" +%F)
echo "== Ingest on PostgreSQL: about $RECORDS versions from $ng laptops" \
	"at once, $RUNS rounds (sqlite, pg-1, pg-3, copy)"
"$B/bench/gridbook-gen" --out "$W/gen" --grids "$GRIDS" --scale 100 \
	--from "$from" --to "$to" --seeds "$top/seeds" >"$W/gen.out" 2>&1
N=0
for i in $(seq 0 $((ng - 1))); do
	mv "$W/gen/${grids[$i]}-police.db" "$W/g$i.raw"
	n=$(sqlite3 "$W/g$i.raw" "SELECT count(*) FROM outbox")
	N=$((N + n))
done
rm -rf "$W/gen"
echo "   $N versions ($from..$to, gridbook-gen --scale 100), $ng files"

PG=$("$PGLIB" start "$W/pg")
PGDATA=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['dir'])" \
	"$W/pg/pglib.json" 2>/dev/null || true)/data
base=${PG%/*}
echo "   $(psql -X -At "$PG" -c "SELECT version()" | cut -d, -f1); $PGLIB_CONF;" \
	"sqlite $(sqlite3 --version | cut -d' ' -f1); $(nproc) cpus, $(uname -sr)"

# Templates: a seeded store of each kind with the devices enrolled, and
# for each a copy of every grid file set up with its token.
PORTS=()
for i in 1 2 3; do PORTS+=("$(free_port)"); done
"$B/gridbook-hq" seed "$top/seeds" --store "sqlite:$W/hq.tpl" >/dev/null
psql -X -q "$PG" -c "CREATE DATABASE tpl"
"$B/gridbook-hq" seed "$top/seeds" --store "$base/tpl" >/dev/null
for i in $(seq 0 $((ng - 1))); do
	for k in sq pg; do
		s="sqlite:$W/hq.tpl"
		[ "$k" = pg ] && s="$base/tpl"
		cp "$W/g$i.raw" "$W/g$i.$k"
		"$B/gridbook-hq" device enroll --grid "${grids[$i]}" 2>/dev/null \
			--role officer --name "bench $i" --store "$s" |
			"$B/gridbook" --db "$W/g$i.$k" sync setup \
				--server "http://127.0.0.1:${PORTS[0]}" \
				--token - >/dev/null
	done
	rm -f "$W/g$i.raw"
done
sqlite3 "$W/hq.tpl" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f "$W/hq.tpl-wal" "$W/hq.tpl-shm" "$W/hq.tpl-hq.lock"

# push KIND STORE NINST: starts NINST instances on STORE, pushes every
# file of KIND at once (file i to instance i mod NINST), stops them;
# sets T (ns) and CPU (HQ's, PostgreSQL's).
push() {
	local kind=$1 store=$2 ni=$3 p0 t0 t1 hcpu=0 pids=() cl=()
	CPU=
	for i in $(seq 0 $((ng - 1))); do
		rm -f "$W/run$i.db" "$W/run$i.db-journal"
		cp "$W/g$i.$kind" "$W/run$i.db"
	done
	sync
	for j in $(seq 0 $((ni - 1))); do
		# shellcheck disable=SC2086 # PG_SERVE_ARGS: words
		"$B/gridbook-hq" serve --store "$store" --quiet \
			--listen "127.0.0.1:${PORTS[$j]}" \
			${PG_SERVE_ARGS:+$([ "$kind" = sq ] || echo $PG_SERVE_ARGS)} \
			>>"$W/hq$j.log" 2>&1 &
		pids+=($!)
		PIDS+=($!)
	done
	for j in $(seq 0 $((ni - 1))); do
		for _ in $(seq 400); do
			curl -sf "http://127.0.0.1:${PORTS[$j]}/healthz" \
				>/dev/null 2>&1 && break
			sleep 0.05
		done
	done
	p0=0
	[ "$kind" = pg ] && p0=$(pg_cpu)
	t0=$(now_ns)
	for i in $(seq 0 $((ng - 1))); do
		"$B/gridbook" --db "$W/run$i.db" sync --server \
			"http://127.0.0.1:${PORTS[$((i % ni))]}" \
			>"$W/sync$i.out" 2>&1 &
		cl+=($!)
	done
	for c in "${cl[@]}"; do
		wait "$c" || { echo "pg_ingest: a sync failed:" >&2
			cat "$W"/sync*.out >&2; exit 1; }
	done
	t1=$(now_ns)
	# PostgreSQL's CPU while HQ's connections are still there to count.
	[ "$kind" = pg ] && CPU=", PostgreSQL $(awk -v a="$p0" -v b="$(pg_cpu)" \
		'BEGIN { printf "%.1f", b - a }') s"
	for p in "${pids[@]}"; do
		hcpu=$(awk -v a="$hcpu" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }')
		kill "$p"
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
	CPU="HQ $hcpu s${CPU:-}"
	T=$((t1 - t0))
}

# A fresh database from the template, named db$1.
newdb() {
	psql -X -q "$PG" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS db$1" \
		-c "CREATE DATABASE db$1 TEMPLATE tpl"
}
held() { # STORE-URL: versions held
	psql -X -At "$1" -c "SELECT count(*) FROM record_history"
}

declare -A R
for r in $(seq 1 "$RUNS"); do
	rm -f "$W/hq.db" "$W/hq.db-wal" "$W/hq.db-shm" "$W/hq.db-hq.lock"
	cp "$W/hq.tpl" "$W/hq.db"
	push sq "sqlite:$W/hq.db" 1
	n=$(sqlite3 "$W/hq.db" "SELECT count(*) FROM record_history")
	[ "$n" = "$N" ] || { echo "pg_ingest: sqlite holds $n of $N" >&2; exit 1; }
	R[sqlite]+=" $((N * 1000000000 / T))"
	printf '   round %d: sqlite %7d rec/s (%s s; %s)\n' "$r" \
		$((N * 1000000000 / T)) "$(secs $T)" "$CPU"

	for ni in 1 3; do
		newdb "$ni"
		push pg "$base/db$ni" "$ni"
		n=$(held "$base/db$ni")
		[ "$n" = "$N" ] || { echo "pg_ingest: pg-$ni holds $n of $N" >&2
			exit 1; }
		R[pg-$ni]+=" $((N * 1000000000 / T))"
		printf '            pg-%d   %7d rec/s (%s s; %s)\n' "$ni" \
			$((N * 1000000000 / T)) "$(secs $T)" "$CPU"
		if [ ! -f "$W/record_history.copy" ]; then
			for t in $RECORD_TABLES $FACT_TABLES; do
				psql -X -q "$base/db$ni" \
					-c "\\copy $t TO '$W/$t.copy'"
			done
		fi
	done

	for k in copy copy-all; do
		tables=$RECORD_TABLES
		[ "$k" = copy-all ] && tables="$RECORD_TABLES $FACT_TABLES"
		args=()
		for t in $tables; do args+=(-c "\\copy $t FROM '$W/$t.copy'"); done
		newdb c
		sync
		p0=$(pg_cpu)
		t0=$(now_ns)
		psql -X -q -v ON_ERROR_STOP=1 -1 "$base/dbc" "${args[@]}"
		t1=$(now_ns)
		T=$((t1 - t0))
		n=$(held "$base/dbc")
		[ "$n" = "$N" ] || { echo "pg_ingest: $k holds $n of $N" >&2
			exit 1; }
		R[$k]+=" $((N * 1000000000 / T))"
		printf '            %-8s %7d rec/s (%s s; PostgreSQL %s s)\n' \
			"$k" $((N * 1000000000 / T)) "$(secs $T)" \
			"$(awk -v a="$p0" -v b="$(pg_cpu)" 'BEGIN { printf "%.1f", b - a }')"
	done
	psql -X -q "$PG" -c "DROP DATABASE db1" -c "DROP DATABASE db3" \
		-c "DROP DATABASE dbc"
done

declare -A M
# shellcheck disable=SC2086
for k in sqlite pg-1 pg-3 copy copy-all; do M[$k]=$(median ${R[$k]}); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "   median rec/s: sqlite ${M[sqlite]}, pg-1 ${M[pg-1]}, pg-3 ${M[pg-3]}," \
	"copy ${M[copy]}, copy-all ${M[copy-all]}"
echo "   ratios: pg-1 / copy $(ratio "${M[pg-1]}" "${M[copy]}")," \
	"pg-3 / copy $(ratio "${M[pg-3]}" "${M[copy]}");" \
	"pg-1 / copy-all $(ratio "${M[pg-1]}" "${M[copy-all]}")," \
	"pg-3 / copy-all $(ratio "${M[pg-3]}" "${M[copy-all]}") (target >= 0.5);" \
	"pg-1 / sqlite $(ratio "${M[pg-1]}" "${M[sqlite]}")"

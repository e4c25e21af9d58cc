#!/usr/bin/env bash
# The client's side of a push, two builds against each other: the same
# grid file pushed whole by `gridbook sync` of BASE and of NEW, to the
# same gridbook-hq (BASE's) on loopback, each run from fresh copies.
# For a change to the client's CPU a record, which the ratio of the sync
# benchmark hides (HQ's work sets the end-to-end time).  Results go into
# BENCHMARKS.md by hand.
#
#   bench/client_ab.sh BASE_BUILD NEW_BUILD
#       RECORDS=100000  about this many versions in the grid file
#       RUNS=6          pairs of timed runs, BASE and NEW alternating
#       CALLGRIND=1     one more run each under valgrind --tool=callgrind:
#                       the client's instructions, which do not depend on
#                       how busy the machine is (0: skip)
#       STRACE=1        one more run each under strace -c: the client's
#                       page writes (pwrite64) and fdatasync calls (0: skip)
#       KEEP=1          keep the work directory (its path is printed)
#       MODE=push       push: as below; pull: the other way, the client's
#                       pull of the grid's other devices' records (below)
#
# The grid file is the police file of S01-G1 by BASE's gridbook-gen
# (public requests above all, as in the sync benchmark), set up to sync
# by each side's own gridbook (packing its outbox entries; not timed).
# Timed: the whole gridbook sync process, start to exit; CPU is its user
# plus system time (/usr/bin/time).  Printed: each run, then for each side
# the median and the spread (min-max) of wall and CPU time, CPU a record,
# and the ratios NEW / BASE of the medians and of the instructions.
#
# MODE=pull: the labour file and the police file of S01-G1 by BASE's
# gridbook-gen (about RECORDS versions together) are pushed once to the
# store's template by BASE's client (not timed); the timed process is
# then the `gridbook sync` of a third device of the grid, an officer
# whose file each side's own gridbook has just made (gridbook init), so
# that it pushes nothing and pulls every version of the other two, as a
# laptop does in the load test (labour and police records).  Checked:
# the file holds every version HQ holds.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: bench/client_ab.sh BASE_BUILD NEW_BUILD" >&2; exit 2; }
BASE=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
RECORDS=${RECORDS:-100000}
RUNS=${RUNS:-6}
CALLGRIND=${CALLGRIND:-1}
STRACE=${STRACE:-1}
MODE=${MODE:-push}
KEEP=${KEEP:-0}
GRID=S01-G1
PER_DAY=516 # versions a day of the police file at --scale 100
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE

for f in "$BASE/gridbook" "$BASE/gridbook-hq" "$BASE/bench/gridbook-gen" \
	"$NEW/gridbook"; do
	[ -x "$f" ] || { echo "client_ab: $f is not built (make)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "client_ab: needs /usr/bin/time" >&2; exit 1; }
command -v valgrind >/dev/null 2>&1 || CALLGRIND=0
command -v strace >/dev/null 2>&1 || STRACE=0
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-clientab.XXXXXX")
HQ_PID=
cleanup() {
	if [ -n "$HQ_PID" ]; then
		kill "$HQ_PID" 2>/dev/null || true
		wait "$HQ_PID" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then
		echo "   work directory kept: $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"

[ "$MODE" = push ] || [ "$MODE" = pull ] ||
	{ echo "client_ab: MODE is push or pull" >&2; exit 2; }
# Two files a day in pull mode: labour about 0.3 times police a day,
# besides its enterprises.
per_day=$PER_DAY
[ "$MODE" = pull ] && per_day=$((PER_DAY * 13 / 10))
days=$(( (RECORDS + per_day - 1) / per_day ))
to=$(date -d yesterday +%F)
from=$(date -d "$to - $((days - 1)) days" +%F)
"$BASE/bench/gridbook-gen" --out "$W/gen" --grids "$GRID" --scale 100 \
	--from "$from" --to "$to" --seeds "$top/seeds" >"$W/gen.out" 2>&1
"$BASE/gridbook-hq" seed "$top/seeds" --store "sqlite:$W/hq.tpl" >"$W/seed.log" 2>&1
enroll() { # ROLE NAME: the token on stdout
	"$BASE/gridbook-hq" device enroll --grid "$GRID" --role "$1" \
		--name "$2" --store "sqlite:$W/hq.tpl" 2>"$W/enroll.err"
}
# serve: gridbook-hq of BASE on the store $W/hq.db, waited for.
serve() {
	"$BASE/gridbook-hq" serve --store "sqlite:$W/hq.db" \
		--listen "127.0.0.1:$PORT" --quiet >>"$W/hq.log" 2>&1 &
	HQ_PID=$!
	for _ in $(seq 200); do
		curl -sf "$URL/healthz" >/dev/null 2>&1 && break
		sleep 0.05
	done
}
unserve() {
	kill "$HQ_PID"
	wait "$HQ_PID" 2>/dev/null || true
	HQ_PID=
}
if [ "$MODE" = push ]; then
	mv "$W/gen/$GRID-police.db" "$W/grid.raw"
	rm -rf "$W/gen"
	N=$(sqlite3 "$W/grid.raw" "SELECT count(*) FROM outbox")
	enroll officer ab >"$W/token"
	for side in base new; do
		B=$BASE
		[ "$side" = new ] && B=$NEW
		cp "$W/grid.raw" "$W/grid.$side"
		"$B/gridbook" --db "$W/grid.$side" sync setup --server "$URL" \
			--token - <"$W/token" >"$W/setup.$side"
	done
else
	# The two files go to the template by BASE's client.
	enroll coordinator ab-labour >"$W/token.labour"
	enroll officer ab-police >"$W/token.police"
	enroll officer ab-pull >"$W/token"
	cp "$W/hq.tpl" "$W/hq.db"
	serve
	for f in labour police; do
		"$BASE/gridbook" --db "$W/gen/$GRID-$f.db" sync setup \
			--server "$URL" --token - <"$W/token.$f" >"$W/setup.$f"
		rm -f "$W/token.$f"
		"$BASE/gridbook" --db "$W/gen/$GRID-$f.db" sync >"$W/fill.$f" \
			2>&1 || { cat "$W/fill.$f" >&2; exit 1; }
	done
	unserve
	rm -rf "$W/gen"
	sqlite3 "$W/hq.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	mv "$W/hq.db" "$W/hq.tpl"
	rm -f "$W/hq.db-wal" "$W/hq.db-shm" "$W/hq.db-hq.lock"
	N=$(sqlite3 "$W/hq.tpl" "SELECT count(*) FROM record_history")
	for side in base new; do
		B=$BASE
		[ "$side" = new ] && B=$NEW
		"$B/gridbook" --db "$W/grid.$side" init --grid "$GRID" \
			--seeds "$top/seeds" >"$W/init.$side"
		"$B/gridbook" --db "$W/grid.$side" sync setup --server "$URL" \
			--token - <"$W/token" >"$W/setup.$side"
	done
fi
rm -f "$W/token"
sqlite3 "$W/hq.tpl" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f "$W/hq.tpl-wal" "$W/hq.tpl-shm" "$W/hq.tpl-hq.lock"
echo "== The client's $MODE: $N versions, BASE $BASE against NEW $NEW," \
	"$RUNS runs each, alternating; gridbook-hq of BASE"
echo "   sqlite $(sqlite3 --version | cut -d' ' -f1), $(nproc) cpus," \
	"$(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"

# push SIDE [WRAPPER...]: one push of side's template by side's client
# to a fresh store; the client's wall ms and CPU ms into $W/last.
push() {
	local side=$1 B=$BASE
	shift
	[ "$side" = new ] && B=$NEW
	rm -f "$W/grid.db" "$W/grid.db-journal" "$W/hq.db" "$W/hq.db-wal" \
		"$W/hq.db-shm" "$W/hq.db-hq.lock"
	cp "$W/grid.$side" "$W/grid.db"
	cp "$W/hq.tpl" "$W/hq.db"
	sync
	serve
	local t0 t1 u s
	t0=$(date +%s%N)
	/usr/bin/time -f "%U %S" -o "$W/t" "$@" "$B/gridbook" --db "$W/grid.db" \
		sync >"$W/sync.out" 2>"$W/sync.err" ||
		{ cat "$W/sync.err" >&2; exit 1; }
	t1=$(date +%s%N)
	unserve
	local n
	if [ "$MODE" = push ]; then
		n=$(sqlite3 "$W/hq.db" "SELECT count(*) FROM record_history")
		[ "$n" = "$N" ] || { echo "client_ab: HQ holds $n of $N versions" >&2; exit 1; }
	else
		n=$(sqlite3 "$W/grid.db" "SELECT (SELECT count(*) FROM record
			WHERE heads IS NULL) + (SELECT count(*) FROM record_history)")
		[ "$n" = "$N" ] || { echo "client_ab: the file holds $n of $N versions" >&2; exit 1; }
	fi
	read -r u s <"$W/t"
	echo "$(( (t1 - t0) / 1000000 )) $(awk -v u="$u" -v s="$s" \
		'BEGIN { printf "%d", (u + s) * 1000 }')" >"$W/last"
}

# The second push of a pair was the slower one in wall time whichever
# build made it (the first one's files still being written back), so the
# order alternates: base first in odd runs, new first in even ones.
for run in $(seq 1 "$RUNS"); do
	order="base new"
	[ $((run % 2)) = 0 ] && order="new base"
	for side in $order; do
		push "$side"
		read -r wall cpu <"$W/last"
		echo "$side $wall $cpu" >>"$W/runs"
		echo "   run $run $side: wall $wall ms, cpu $cpu ms"
	done
done

stats() { # side column: median min max
	awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$W/runs" | sort -n |
		awk '{ v[NR] = $1 } END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR] }'
}
for what in wall cpu; do
	col=2
	[ "$what" = cpu ] && col=3
	read -r bm blo bhi <<<"$(stats base $col)"
	read -r nm nlo nhi <<<"$(stats new $col)"
	awk -v w="$what" -v bm="$bm" -v blo="$blo" -v bhi="$bhi" -v nm="$nm" \
		-v nlo="$nlo" -v nhi="$nhi" -v n="$N" 'BEGIN {
		printf "   median %s: base %d ms (%d-%d), new %d ms (%d-%d), new / base %.3f",
			w, bm, blo, bhi, nm, nlo, nhi, nm / bm
		if (w == "cpu")
			printf "; %.1f / %.1f us a record", bm * 1000 / n, nm * 1000 / n
		print "" }'
done

if [ "$CALLGRIND" = 1 ]; then
	for side in base new; do
		push "$side" valgrind --tool=callgrind --trace-children=no \
			--callgrind-out-file="$W/cg.$side"
		awk '/^(summary|totals):/ { print $2; exit }' "$W/cg.$side" \
			>"$W/ir.$side"
	done
	awk -v b="$(cat "$W/ir.base")" -v n="$(cat "$W/ir.new")" -v r="$N" 'BEGIN {
		printf "   instructions (callgrind): base %.0f (%.0f a record), new %.0f (%.0f a record), new / base %.3f\n",
			b, b / r, n, n / r, n / b }'
fi
if [ "$STRACE" = 1 ]; then
	for side in base new; do
		push "$side" strace -f -qq -c -e trace=pwrite64,fdatasync \
			-o "$W/st.$side"
		awk -v s="$side" '$NF == "pwrite64" { w = $4 } $NF == "fdatasync" { f = $4 }
			END { printf "   %s: %d page writes (pwrite64), %d fdatasync\n", s, w, f }' \
			"$W/st.$side"
	done
fi

#!/usr/bin/env bash
# The sync benchmark (BENCHMARKS.md, "Sync"), run by bench/run after the
# CSV import benchmark, or alone:
#
#   bench/sync_bench.sh [BUILD_DIR]
#       RECORDS=1000000  about this many versions in the grid file
#       RUNS=3           pairs of runs (end-to-end, then plain insert)
#       SYNC_ARGS=       extra options of gridbook sync, such as
#                        "--batch-records 2000 --batch-bytes 1048576"
#       KEEP=1           keep the work directory (its path is printed)
#
# End-to-end: the police grid file of S01-G1 made by gridbook-gen (a
# chief's file: public requests above all, and patrols, handovers, daily
# reports and reception hours), enrolled as an officer's device, is pushed
# whole by `gridbook sync` to `gridbook-hq serve` on 127.0.0.1 with a
# fresh SQLite store.  The time is that of the whole gridbook sync process
# (start-up, every batch and its ack, the short pull that follows); making
# the grid file, seeding the store and enrolling are not timed.
#
# Plain insert: build/bench/plain_server_insert writes the same versions
# from the same grid file into a fresh copy of the same seeded store with
# the server's store code, history and current rows as ingest writes an
# accepted version, in one transaction (BEGIN to COMMIT is timed; reading
# and preparing the records is not).
#
# The two alternate, RUNS times each; the median records/s of each and
# their ratio are printed.  Target: ratio >= 0.5.  Also printed: bytes the
# client sent and received (its send and receive calls, counted with
# strace when installed), the deflated and plain protobuf Batch sizes of
# the same versions in batches of 500 and of 20 (the codec the client
# uses, from plain_server_insert --wire), CPU seconds of client and server,
# and peak RSS of the client (/usr/bin/time -v) and of the server (VmHWM).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
RECORDS=${RECORDS:-1000000}
RUNS=${RUNS:-3}
SYNC_ARGS=${SYNC_ARGS:-}
GRID=S01-G1
# Versions gridbook-gen writes a day into the police file of S01-G1 at
# --scale 100 (measured: 188,618 in 365 days).
PER_DAY=516
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE

for f in "$B/gridbook" "$B/gridbook-hq" "$B/bench/gridbook-gen" \
	"$B/bench/plain_server_insert"; do
	[ -x "$f" ] || { echo "sync_bench: $f is not built (make)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-syncbench.XXXXXX")
HQ_PID=
cleanup() {
	if [ -n "$HQ_PID" ]; then
		kill "$HQ_PID" 2>/dev/null || true
		wait "$HQ_PID" 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "   kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT

now_ns() { date +%s%N; }
secs() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e9 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {
	if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR/2] + v[NR/2+1]) / 2) }'; }
# CPU seconds (user + system) of a running process.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' \
	"/proc/$1/stat"; }
kb_of() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
have_time=0
[ -x /usr/bin/time ] && have_time=1
have_strace=0
command -v strace >/dev/null 2>&1 && have_strace=1

echo "== Sync: about $RECORDS versions pushed to gridbook-hq on loopback," \
	"$RUNS runs each, alternating"
echo "   sqlite $(sqlite3 --version | cut -d' ' -f1), $(nproc) cpus, $(uname -srm)"

# The grid file.  gridbook-gen's period may not reach past yesterday.
days=$(( (RECORDS + PER_DAY - 1) / PER_DAY ))
to=$(date -d yesterday +%F)
from=$(date -d "$to - $((days - 1)) days" +%F)
t0=$(now_ns)
"$B/bench/gridbook-gen" --out "$W/gen" --grids "$GRID" --scale 100 \
	--from "$from" --to "$to" --seeds "$top/seeds" >"$W/gen.out" 2>&1
t1=$(now_ns)
mv "$W/gen/$GRID-police.db" "$W/grid.tpl"
rm -rf "$W/gen"
N=$(sqlite3 "$W/grid.tpl" "SELECT count(*) FROM outbox")
echo "   grid file: $N versions ($from..$to, gridbook-gen --scale 100," \
	"$(secs $((t1 - t0))) s), $(du -m "$W/grid.tpl" | cut -f1) MB"
sqlite3 "$W/grid.tpl" "SELECT kind, count(*) FROM record GROUP BY kind
	ORDER BY 2 DESC" | awk -F'|' '{ printf "%s%s %s", (NR > 1 ? ", " : "   "), $1, $2 }
	END { print "" }'

# The seeded store with the device enrolled, and the grid file set up to
# sync as that device: the templates every run starts from.
"$B/gridbook-hq" seed "$top/seeds" --store "sqlite:$W/hq.tpl" >"$W/seed.log" 2>&1
"$B/gridbook-hq" device enroll --grid "$GRID" --role officer --name bench \
	--store "sqlite:$W/hq.tpl" 2>"$W/enroll.err" |
	"$B/gridbook" --db "$W/grid.tpl" sync setup --server "$URL" \
		--token - >"$W/setup.out"
sqlite3 "$W/hq.tpl" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f "$W/hq.tpl-wal" "$W/hq.tpl-shm" "$W/hq.tpl-hq.lock"

fresh() { # copies the templates to grid.db and NAME
	rm -f "$W/grid.db" "$W/grid.db-journal" "$W/$1" "$W/$1-wal" \
		"$W/$1-shm" "$W/$1-hq.lock"
	cp "$W/grid.tpl" "$W/grid.db"
	cp "$W/hq.tpl" "$W/$1"
	sync
}

hq_start() {
	"$B/gridbook-hq" serve --store "sqlite:$W/hq.db" --listen "127.0.0.1:$PORT" \
		--quiet >>"$W/hq.log" 2>&1 &
	HQ_PID=$!
	for _ in $(seq 200); do
		curl -sf "$URL/healthz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "sync_bench: gridbook-hq did not start: $(tail -n 5 "$W/hq.log")" >&2
	exit 1
}

e2e=()
pla=()
for run in $(seq 1 "$RUNS"); do
	fresh hq.db
	hq_start
	cmd=("$B/gridbook" --db "$W/grid.db" sync)
	# shellcheck disable=SC2206
	[ -n "$SYNC_ARGS" ] && cmd+=($SYNC_ARGS)
	[ "$have_time" = 1 ] && cmd=(/usr/bin/time -v -o "$W/time.txt" "${cmd[@]}")
	[ "$have_strace" = 1 ] && cmd=(strace -f -qq --seccomp-bpf -e signal=none \
		-e trace=sendto,sendmsg,recvfrom,recvmsg -o "$W/strace.txt" "${cmd[@]}")
	t0=$(now_ns)
	"${cmd[@]}" >"$W/sync.out" 2>"$W/sync.err" ||
		{ cat "$W/sync.err" >&2; exit 1; }
	t1=$(now_ns)
	hq_kb=$(kb_of "$HQ_PID")
	hq_cpu=$(cpu_of "$HQ_PID")
	kill "$HQ_PID"
	wait "$HQ_PID" 2>/dev/null || true
	HQ_PID=
	n=$(sqlite3 "$W/hq.db" "SELECT count(*) FROM record_history")
	[ "$n" = "$N" ] || { echo "sync_bench: HQ holds $n of $N versions" >&2
		cat "$W/sync.out" >&2; exit 1; }
	batches=$(sqlite3 "$W/hq.db" "SELECT count(*) FROM batch")
	extra=""
	if [ "$have_time" = 1 ]; then
		cl_kb=$(awk -F': ' '/Maximum resident/ { print $2 }' "$W/time.txt")
		cl_cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
			END { printf "%.1f", u + s }' "$W/time.txt")
		extra="client $cl_cpu s CPU, $(mb "$cl_kb") peak RSS; "
	fi
	extra="${extra}server $hq_cpu s CPU, $(mb "$hq_kb") peak RSS"
	if [ "$have_strace" = 1 ]; then
		read -r up down <<<"$(awk '
			/^[0-9]+ +(sendto|sendmsg)\(/ && $NF ~ /^[0-9]+$/ { u += $NF }
			/^[0-9]+ +(recvfrom|recvmsg)\(/ && $NF ~ /^[0-9]+$/ { d += $NF }
			END { print u + 0, d + 0 }' "$W/strace.txt")"
		wire=$(awk -v u="$up" -v d="$down" -v n="$N" 'BEGIN {
			printf "client sent %.1f MB (%.1f bytes a record), received %.1f MB (%.2f bytes a record)",
				u / 1e6, u / n, d / 1e6, d / n }')
	fi

	rm -f "$W/plain.db" "$W/plain.db-wal" "$W/plain.db-shm" "$W/plain.db-hq.lock"
	cp "$W/hq.tpl" "$W/plain.db"
	sync
	wireopt=()
	[ "$run" = 1 ] && wireopt=(--wire 20,500)
	"$B/bench/plain_server_insert" "${wireopt[@]}" "$W/grid.tpl" \
		"$W/plain.db" >"$W/plain.out" ||
		{ echo "sync_bench: plain_server_insert failed" >&2; exit 1; }
	[ "$run" = 1 ] && grep '^wire:' "$W/plain.out" >"$W/wire.out"
	line=$(grep ' rows in ' "$W/plain.out")
	ps=$(awk '{ print $(NF - 3) }' <<<"$line")
	pn=$(awk '{ print $2 }' <<<"$line")
	[ "$pn" = "$N" ] || { echo "sync_bench: plain insert wrote $pn" >&2; exit 1; }
	ck=$(awk '/checkpoint after the commit/ { print $(NF - 1) }' "$W/plain.out")

	a=$(( N * 1000000000 / (t1 - t0) ))
	b=$(awk -v n="$N" -v s="$ps" 'BEGIN { printf "%d", n / s }')
	e2e+=("$a")
	pla+=("$b")
	printf '   run %d: end-to-end %7d rec/s (%s s, %d batches)   plain insert %7d rec/s (%s s, then checkpoint %s s)\n' \
		"$run" "$a" "$(secs $((t1 - t0)))" "$batches" "$b" "$ps" "$ck"
	echo "          $extra"
	[ "$have_strace" = 1 ] && echo "          $wire"
	rm -f "$W/plain.db" "$W/plain.db-wal"
done

me=$(median "${e2e[@]}")
mp=$(median "${pla[@]}")
ratio=$(awk -v a="$me" -v b="$mp" 'BEGIN { printf "%.2f", a / b }')
echo "   median: end-to-end $me rec/s, plain insert $mp rec/s"
echo "   ratio end-to-end / plain insert: $ratio (target >= 0.5)"
sed 's/^/   /' "$W/wire.out"
echo "   (targets: deflated/protobuf <= 0.33 for large batches, <= 0.5 for 20)"

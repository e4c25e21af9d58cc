#!/usr/bin/env bash
# The load benchmark (BENCHMARKS.md, "A district at once"), run by
# bench/run after the sync benchmark, or alone:
#
#   bench/load_bench.sh [BUILD_DIR]
#       DEVICES=100      laptops syncing at the same moment
#       DAYS=510         days of field work in each grid file (about 500k
#                        versions in all for 100 devices)
#       RUNS=3           runs, each on fresh copies of the same files
#       HQ_ARGS=         extra options of gridbook-hq serve
#       ALT_ARGS=        when set, the even runs take these instead of
#                        HQ_ARGS: two settings alternated in one call
#       ALT_BUILD=DIR    when set, the even runs take gridbook, gridbook-hq
#                        and plain_server_insert from this build instead:
#                        two trees alternated on the same files.  The
#                        store's template is then made by its gridbook-hq,
#                        so its schema must be no newer than BUILD's (the
#                        newer HQ brings the copy up to date as it starts,
#                        before any device is let go)
#       KEEP=1           keep the work directory (its path is printed)
#
# The grid files are made by gridbook-gen for the 32 seeded grids, a
# labour file (a coordinator's) and a police file (an officer's) of each,
# as many rounds of it as DEVICES needs (each round has new record ids);
# device I takes file I of the sorted list, so 100 devices cover every
# grid, some twice.  Each is enrolled as its own device.  Not timed.
#
# A run: fresh copies of the seeded store and the grid files; gridbook-hq
# serve on 127.0.0.1; then DEVICES `gridbook sync` processes are started
# at the same moment (all forked first, each waiting on its stdin, then
# let go in one loop of writes: "released in" below), while a viewer
# asks for three district reports (contract-rate, requests, sync-health)
# every second, one after the other, timing each.  The sync processes run
# at nice 19, HQ and the viewer at the bench's own nice (0): in a
# district the laptops are machines of their own, not processes on HQ's
# cores, and at nice 19 they take what HQ leaves instead of a share
# beside it.  The plain insert runs at the bench's nice as before.  The run ends when
# every sync process has exited.  All devices come from 127.0.0.1, where
# a real district's come from many addresses: the per-address limits are
# raised for that (--max-address-connections, --max-address-rate); every
# other limit keeps its default.
#
# Printed per run: versions to send; versions HQ holds; duplicates (a
# version held twice, in history or as two current rows of one id); lost
# (a version its device counts as sent that HQ does not hold); devices
# that did not finish (exit status not 0, or versions left in the
# outbox) and of those how many stopped at a transient refusal (503 or
# 429: on this build the client gives up a round at the first one);
# permanent failures (records HQ rejected, and devices that stopped at a
# refusal other than 503/429); aggregate versions/s (held / wall time of
# the whole run); the plain one-transaction insert of the same versions
# into a fresh copy of the same store (build/bench/plain_server_insert,
# every grid file in one transaction; see sync_bench.sh) in the same run,
# and the ratio; batch latency p50/p99 (HQ's log: headers in to ack,
# held time included); report latency p50/p99 during ingest (the
# viewer's, whole HTTP request); HQ peak RSS (VmHWM); the largest size of
# the store's WAL seen (once a second); CPU seconds of HQ
# and of all the sync processes.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
DEVICES=${DEVICES:-100}
DAYS=${DAYS:-510}
RUNS=${RUNS:-3}
HQ_ARGS=${HQ_ARGS:-}
ALT_ARGS=${ALT_ARGS-}
ALT_BUILD=${ALT_BUILD:+$(cd "$ALT_BUILD" && pwd)}
TB=${ALT_BUILD:-$B} # the build that makes the store's template
unset GRIDBOOK_DB GRIDBOOK_NOW GRIDBOOK_HQ_STORE

for f in "$B/gridbook" "$B/gridbook-hq" "$B/bench/gridbook-gen" \
	"$B/bench/plain_server_insert" ${ALT_BUILD:+"$ALT_BUILD/gridbook" \
	"$ALT_BUILD/gridbook-hq" "$ALT_BUILD/bench/plain_server_insert"}; do
	[ -x "$f" ] || { echo "load_bench: $f is not built (make)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-loadbench.XXXXXX")
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
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"

echo "== A district at once: $DEVICES gridbook sync processes started together" \
	"against one gridbook-hq, $RUNS runs"
echo "   sqlite $(sqlite3 --version | cut -d' ' -f1), $(nproc) cpus, $(uname -srm)"

# ---- the grid files and the store, once ----
to=$(date -d yesterday +%F)
from=$(date -d "$to - $((DAYS - 1)) days" +%F)
rounds=$(( (DEVICES + 63) / 64 ))
t0=$(now_ns)
mkdir "$W/tpl"
for r in $(seq 1 "$rounds"); do
	"$B/bench/gridbook-gen" --out "$W/gen$r" --grids all --seed "$r" \
		--from "$from" --to "$to" --seeds "$top/seeds" \
		>"$W/gen$r.out" 2>&1 ||
		{ cat "$W/gen$r.out" >&2; exit 1; }
	for f in "$W/gen$r"/*.db; do
		mv "$f" "$W/tpl/r$r-$(basename "$f")"
	done
	rm -rf "$W/gen$r"
done
ls "$W/tpl" | grep '\.db$' | sort | head -n "$DEVICES" >"$W/files"
[ "$(wc -l <"$W/files")" = "$DEVICES" ] ||
	{ echo "load_bench: gridbook-gen made too few files" >&2; exit 1; }
"$TB/gridbook-hq" seed "$top/seeds" --store "sqlite:$W/hq.tpl" >"$W/seed.log" 2>&1
: >"$W/devices"
i=0
while read -r f; do
	i=$((i + 1))
	g=$(sed -E 's/^r[0-9]+-(S[0-9]+-G[0-9]+)-.*/\1/' <<<"$f")
	case "$f" in *-labour.db) role=coordinator ;; *) role=officer ;; esac
	mv "$W/tpl/$f" "$W/tpl/d$i.db"
	"$TB/gridbook-hq" device enroll --grid "$g" --role "$role" \
		--name "load $i" --store "sqlite:$W/hq.tpl" 2>>"$W/enroll.err" |
		"$B/gridbook" --db "$W/tpl/d$i.db" sync setup --server "$URL" \
			--token - >>"$W/setup.out"
	echo "d$i $g $role" >>"$W/devices"
done <"$W/files"
rm -f "$W"/tpl/r*.db "$W"/tpl/*-journal
viewer=$("$TB/gridbook-hq" device enroll --grid S01-G1 --role viewer \
	--name "load viewer" --store "sqlite:$W/hq.tpl" 2>/dev/null |
	sed -n 's/^token: //p')
sqlite3 "$W/hq.tpl" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f "$W/hq.tpl-wal" "$W/hq.tpl-shm" "$W/hq.tpl-hq.lock"
N=0
for i in $(seq 1 "$DEVICES"); do
	N=$((N + $(sqlite3 "$W/tpl/d$i.db" "SELECT count(*) FROM outbox")))
done
t1=$(now_ns)
echo "   $DEVICES grid files ($rounds rounds of gridbook-gen over the 32 grids," \
	"$from..$to): $N versions, $(du -sm "$W/tpl" | cut -f1) MB; made in" \
	"$(secs $((t1 - t0))) s"

# The run itself: forks every sync at once, polls the reports, waits.
cat >"$W/drive.py" <<'PY'
import json, os, subprocess, sys, threading, time, urllib.request
gridbook, url, token, ndev, work, frm, to = sys.argv[1:8]
ndev = int(ndev)
stop = threading.Event()
lat = []
wal = [0]
errors = []
def viewer():
    names = ("contract-rate", "requests", "sync-health")
    while not stop.is_set():
        t_next = time.monotonic() + 1.0
        for n in names:
            req = urllib.request.Request(
                "%s/v1/reports/%s?level=district&from=%s&to=%s" %
                (url, n, frm, to),
                headers={"Authorization": "Bearer " + token})
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                    st = r.status
            except Exception as e:
                st = getattr(e, "code", 0)
            lat.append(((time.monotonic() - t0) * 1000.0, st))
        try:
            wal[0] = max(wal[0], os.stat(os.path.join(work,
                                                      "hq.db-wal")).st_size)
        except OSError:
            pass
        stop.wait(max(0.0, t_next - time.monotonic()))
th = threading.Thread(target=viewer)
th.start()
# Every process is started first, each waiting for a line on its stdin,
# then all are let go in one loop of writes.
procs = []
t_spawn = time.monotonic()
for i in range(1, ndev + 1):
    out = open(os.path.join(work, "sync%d.out" % i), "wb")
    procs.append(subprocess.Popen(
        ["nice", "-n", "19", "sh", "-c", 'read _ && exec "$0" "$@"',
         gridbook, "--db",
         os.path.join(work, "d%d.db" % i), "sync"],
        stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT))
    out.close()
t0 = time.monotonic()
for p in procs:
    p.stdin.write(b"go\n")
    p.stdin.close()
t_forked = time.monotonic() - t0
rcs = [p.wait() for p in procs]
wall = time.monotonic() - t0
stop.set()
th.join()
import resource
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"rcs": rcs, "wall": wall, "forked": t_forked, "reports": lat,
           "clients_cpu": ru.ru_utime + ru.ru_stime, "wal": wal[0]},
          open(os.path.join(work, "drive.json"), "w"))
PY

pct() { # P FILE: the P-th percentile of the numbers in FILE
	sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
		printf "%.0f", v[i] }'
}

for run in $(seq 1 "$RUNS"); do
	R="$W/run"
	rm -rf "$R"
	mkdir "$R"
	cp "$W"/tpl/d*.db "$R/"
	cp "$W/hq.tpl" "$R/hq.db"
	sync
	args=$HQ_ARGS
	if [ -n "${ALT_ARGS+set}" ] && [ $((run % 2)) = 0 ]; then
		args=$ALT_ARGS
	fi
	RB=$B
	if [ -n "$ALT_BUILD" ] && [ $((run % 2)) = 0 ]; then
		RB=$ALT_BUILD
	fi
	# shellcheck disable=SC2086
	"$RB/gridbook-hq" serve --store "sqlite:$R/hq.db" --listen "127.0.0.1:$PORT" \
		--max-address-connections 2000 --max-address-rate 100000 \
		$args >"$R/hq.log" 2>&1 &
	HQ_PID=$!
	for _ in $(seq 200); do
		curl -sf "$URL/healthz" >/dev/null 2>&1 && break
		sleep 0.05
	done
	python3 "$W/drive.py" "$RB/gridbook" "$URL" "$viewer" "$DEVICES" "$R" \
		"$from" "$to"
	hq_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$HQ_PID/status")
	hq_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' \
		"/proc/$HQ_PID/stat")
	kill "$HQ_PID"
	wait "$HQ_PID" 2>/dev/null || true
	HQ_PID=

	# What HQ holds, and what each device counts as sent.
	sqlite3 "$R/hq.db" "SELECT lower(hex(id)) || '|' || version
		FROM record_history" | sort >"$R/held"
	held=$(sort -u "$R/held" | wc -l)
	dup_h=$(( $(wc -l <"$R/held") - held ))
	dup_c=$(sqlite3 "$R/hq.db" "SELECT count(*) - count(DISTINCT id)
		FROM record_current")
	rejected=$(sqlite3 "$R/hq.db" "SELECT count(*) FROM rejection")
	: >"$R/sent"
	unfinished=0
	transient=0
	other=0
	for i in $(seq 1 "$DEVICES"); do
		f="$R/d$i.db"
		dev=$(sqlite3 "$f" "SELECT value FROM meta WHERE key = 'device'")
		sqlite3 "$f" "SELECT replace(v.id, '-', '') || '|' || v.version
			FROM (SELECT id, version, device FROM record UNION
			      SELECT id, version, device FROM record_history) v
			WHERE v.device = '$dev' AND NOT EXISTS (SELECT 1
			FROM outbox o WHERE o.id = v.id AND
			o.version = v.version)" >>"$R/sent"
		left=$(sqlite3 "$f" "SELECT count(*) FROM outbox")
		rc=$(python3 -c "import json; print(json.load(open('$R/drive.json'))['rcs'][$i - 1])")
		if [ "$rc" != 0 ] || [ "$left" != 0 ]; then
			unfinished=$((unfinished + 1))
			if grep -qE 'answered (503|429)' "$R/sync$i.out"; then
				transient=$((transient + 1))
			else
				other=$((other + 1))
			fi
		fi
	done
	lost=$(sort -u "$R/sent" | comm -23 - <(sort -u "$R/held") | wc -l)
	python3 -c "
import json
d = json.load(open('$R/drive.json'))
print('%.3f %.2f %.1f %d' % (d['wall'], d['forked'], d['clients_cpu'],
                            d['wal'] >> 20))
open('$R/rep.ms', 'w').write(''.join('%.1f\n' % l for l, s in d['reports']))
print(sum(1 for l, s in d['reports'] if s != 200), len(d['reports']))" \
		>"$R/drive.txt"
	read -r wall forked cl_cpu wal_mb <<<"$(sed -n 1p "$R/drive.txt")"
	read -r rep_bad rep_n <<<"$(sed -n 2p "$R/drive.txt")"
	sed -nE 's/.* records in ([0-9]+) ms$/\1/p' "$R/hq.log" >"$R/batch.ms"
	nb=$(wc -l <"$R/batch.ms")
	# A batch let in on its device's turn: the wait for the turn, and
	# that wait and the time to the ack together.
	sed -nE 's/.* waited ([0-9]+) ms for its turn, then .* records in ([0-9]+) ms$/\1 \2/p' \
		"$R/hq.log" >"$R/turn.ms"
	awk '{ print $1 }' "$R/turn.ms" >"$R/turn.wait"
	awk '{ print $1 + $2 }' "$R/turn.ms" >"$R/turn.total"
	nt=$(wc -l <"$R/turn.ms")
	turned=$(sed -nE 's/.*limit reached: batches given a later turn, ([0-9]+) times.*/\1/p' \
		"$R/hq.log" | awk '{ n += $1 } END { print n + 0 }')
	refused=$(grep -cE ': 503 |limit reached' "$R/hq.log" || true)

	# The plain insert of the same versions, same run.
	cp "$W/hq.tpl" "$R/plain.db"
	sync
	files=()
	for i in $(seq 1 "$DEVICES"); do files+=("$W/tpl/d$i.db"); done
	"$RB/bench/plain_server_insert" "${files[@]}" "$R/plain.db" >"$R/plain.out" ||
		{ echo "load_bench: plain_server_insert failed" >&2; exit 1; }
	line=$(grep ' rows in ' "$R/plain.out")
	ps=$(awk '{ print $(NF - 3) }' <<<"$line")
	pn=$(awk '{ print $2 }' <<<"$line")

	rate=$(awk -v n="$held" -v s="$wall" 'BEGIN { printf "%d", n / s }')
	prate=$(awk -v n="$pn" -v s="$ps" 'BEGIN { printf "%d", n / s }')
	ratio=$(awk -v a="$rate" -v b="$prate" 'BEGIN { printf "%.2f", a / b }')
	echo "   run $run${args:+ ($args)}${ALT_BUILD:+ ($RB)}: $N versions to send (released in $forked s, done in $wall s)"
	echo "          held $held, duplicates $((dup_h + dup_c)), lost $lost"
	echo "          devices that did not finish: $unfinished ($transient at a" \
		"503/429, $other otherwise)"
	echo "          permanent failures: $rejected records rejected, $other devices"
	echo "          aggregate $rate versions/s; plain insert $prate versions/s" \
		"($pn in $ps s); ratio $ratio (target >= 0.5)"
	echo "          batch latency p50 $(pct 50 "$R/batch.ms") ms, p99" \
		"$(pct 99 "$R/batch.ms") ms over $nb batches (target p99 < 500;" \
		"HQ's headers to ack, from the slot on for a batch let in on a turn)"
	echo "          turns: $turned batches turned away with a turn; $nt let in" \
		"after waiting for one: wait p50 $(pct 50 "$R/turn.wait") ms, p99" \
		"$(pct 99 "$R/turn.wait") ms; wait and ack p50 $(pct 50 "$R/turn.total")" \
		"ms, p99 $(pct 99 "$R/turn.total") ms"
	echo "          report latency p50 $(pct 50 "$R/rep.ms") ms, p99" \
		"$(pct 99 "$R/rep.ms") ms over $rep_n requests, $rep_bad not 200" \
		"(target p99 < 100)"
	echo "          HQ peak RSS $((hq_kb / 1024)) MiB (target < 256);" \
		"WAL at most $wal_mb MiB; $refused refusal lines in HQ's log"
	echo "          CPU: HQ $hq_cpu s, the sync processes $cl_cpu s" \
		"of $(nproc) cpus x $wall s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

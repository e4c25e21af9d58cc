#!/usr/bin/env bash
# Backups while people work.  gridbook-hq backup while eight devices sync
# (four grids, a coordinator's and an officer's laptop each): the copy
# passes integrity_check and serves as a store.  A second backup taken
# while the server is frozen mid-sync (SIGSTOP) gives, restored, every
# report equal to the original's at that moment (its files copied while
# frozen, read back as SQLite recovers them).  gridbook backup of a
# grid file while gridbook-syncd works on it restores to the same
# records.  A backup never replaces an existing file.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
if skip_on_pg "all of it: the backup is a copy of SQLite's file (pg_dump on PostgreSQL)"; then
	exit 0
fi
. "$top/tests/e2e/sync-lib.sh"
export GRIDBOOK_NOW="2026-03-01 10:00"
export GRIDBOOK_TZ="Asia/Shanghai"
gen="$(dirname "$(command -v gridbook)")/bench/gridbook-gen"
FROM=2026-02-16
TO=2026-02-28
REPORTS="contract-rate check-coverage rectification disputes staffing
night-patrol reception requests daily-reports patrol-teams sync-health"

wait_for() {
	local what=$1; shift
	for _ in $(seq 400); do
		"$@" >/dev/null 2>&1 && { pass; return 0; }
		sleep 0.05
	done
	fail "$what: not within 20 s"
	return 1
}
# reports STORE OUT: every report at grid level over the period, as JSON.
reports() {
	: >"$2"
	for r in $REPORTS; do
		gridbook-hq report "$r" --level grid --from $FROM --to $TO \
			--format json --store "sqlite:$1" >>"$2" 2>&1
	done
}
versions() { sqlite3 "$1" "SELECT count(*) FROM record_history"; }

hq_seed
hq_start
ok "generate four grids" "$gen" --out "$T/gen" --from $FROM --to $TO \
	--grids S01-G1,S01-G2,S02-G1,S02-G2
n=0
for f in "$T"/gen/*.db; do
	case $f in *-labour.db) role=coordinator ;; *) role=officer ;; esac
	g=$(basename "$f" | cut -d- -f1,2)
	gridbook-hq device enroll --grid "$g" --role $role \
		--store "sqlite:$HQ_STORE" 2>/dev/null |
		gridbook --db "$f" sync setup --server "$HQ_URL" --token - \
			>/dev/null && n=$((n + 1))
done
same "eight devices" "$n" 8

# Eight devices syncing at once, in small batches so that it lasts.
PIDS=()
for f in "$T"/gen/*.db; do
	gridbook-syncd --db "$f" --batch-records 25 --interval 0.2 \
		--backoff-max 0.5 >>"$T/syncd.log" 2>&1 &
	PIDS+=($!)
done
E2E_CLEANUPS+=("kill ${PIDS[*]} 2>/dev/null")
some_arrived() { [ "$(versions "$HQ_STORE")" -gt 0 ]; }
wait_for "the first batches arrive" some_arrived
ok "backup while they sync" gridbook-hq backup "$T/b1.db" \
	--store "sqlite:$HQ_STORE"
has "it says it checked" "$(cat "$T/.err")" "integrity ok"
same "the copy passes integrity_check" "$(sqlite3 "$T/b1.db" 'PRAGMA integrity_check')" ok

# Frozen mid-sync: the original cannot move while we look at both.  The
# original is its file and its WAL, read as SQLite would after a crash at
# this moment.  Frozen in the middle of a commit, the writer may have
# written a transaction that no reader (the backup included) sees yet but
# that recovery takes: then it is thawed and frozen again, a few times.
frozen_same() {
	rm -rf "$T/frozen" "$T/b2.db"
	kill -STOP "$HQ_PID"
	gridbook-hq backup "$T/b2.db" --store "sqlite:$HQ_STORE" \
		>"$T/b2.out" 2>&1 || { kill -CONT "$HQ_PID"; return 2; }
	mkdir "$T/frozen"
	cp "$HQ_STORE" "$T/frozen/hq.db"
	[ -e "$HQ_STORE-wal" ] && cp "$HQ_STORE-wal" "$T/frozen/hq.db-wal"
	kill -CONT "$HQ_PID"
	reports "$T/frozen/hq.db" "$T/orig.json"
	reports "$T/b2.db" "$T/b2.json"
	cmp -s "$T/orig.json" "$T/b2.json"
}
E2E_CLEANUPS+=("kill -CONT $HQ_PID 2>/dev/null")
tries=0
until frozen_same || [ $tries -ge 8 ]; do
	tries=$((tries + 1))
	sleep 0.1
done
same "backup of the frozen store" "$(sqlite3 "$T/b2.db" 'PRAGMA integrity_check')" ok
same "eleven reports" "$(grep -c '"report":' "$T/orig.json")" 11
same "the restored copy's reports equal the original's at its moment" \
	"$(cmp "$T/orig.json" "$T/b2.json" && echo same)" same
at_backup=$(versions "$T/b2.db")

all_sent() {
	for f in "$T"/gen/*.db; do
		gridbook --db "$f" sync status --format json |
			grep -q '"pending":0' || return 1
	done
}
wait_for "every device sends everything" all_sent
kill -TERM "${PIDS[@]}"
for p in "${PIDS[@]}"; do wait "$p"; done
total=$(versions "$HQ_STORE")
echo "versions in the frozen backup: $at_backup of $total"
[ "$at_backup" -gt 0 ] && [ "$at_backup" -le "$total" ] && pass ||
	fail "versions in the backup: $at_backup of $total"

# The first copy serves as a store.
hq_stop
cp "$T/b1.db" "$HQ_STORE.restored"
PORT2=$(free_port)
gridbook-hq serve --store "sqlite:$HQ_STORE.restored" \
	--listen "127.0.0.1:$PORT2" >>"$T/hq2.log" 2>&1 &
P2=$!
E2E_CLEANUPS+=("kill $P2 2>/dev/null")
wait_for "the restored store serves" curl -sf "http://127.0.0.1:$PORT2/healthz"
kill "$P2"; wait "$P2" 2>/dev/null
fails 1 "a backup does not replace a file" gridbook-hq backup "$T/b1.db" \
	--store "sqlite:$HQ_STORE"
has "saying so" "$(cat "$T/.err")" "the file exists"

# A grid file, while gridbook-syncd works on it.
hq_start
F="$T/laptop.db"
grid_new "$F"
enroll "$F" coordinator
for i in 1 2 3 4 5; do
	gridbook --db "$F" enterprise add --uscc "$(uscc $i)" \
		--name "望川市文昌第${i}机械厂" --community S01-C01 --employees 9 >/dev/null
done
gridbook-syncd --db "$F" --interval 0.05 >>"$T/syncd2.log" 2>&1 &
SP=$!
E2E_CLEANUPS+=("kill $SP 2>/dev/null")
ok "gridbook backup while syncd runs" gridbook --db "$F" backup "$T/laptop-bk.db"
kill "$SP"; wait "$SP" 2>/dev/null
same "the copy passes integrity_check" "$(sqlite3 "$T/laptop-bk.db" 'PRAGMA integrity_check')" ok
ok "the copy opens as a grid file" gridbook --db "$T/laptop-bk.db" enterprise list
# The five written here; the daemon may already have pulled the other
# devices' records of the grid before the copy, or not.
same "with the records" "$(grep -c '望川市文昌第' "$T/.out")" "5"
fails 1 "gridbook backup does not replace a file" \
	gridbook --db "$F" backup "$T/laptop-bk.db"
fails 2 "backup needs a file" gridbook --db "$F" backup

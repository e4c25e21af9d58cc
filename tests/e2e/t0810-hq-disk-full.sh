#!/usr/bin/env bash
# HQ on a small disk (a tmpfs of 40 MiB mounted for the test; skipped,
# and said so, only where mounting is impossible): the disk fills during
# a push and HQ refuses batches with 503 and Retry-After before it is
# full (the free-space margin), /healthz says why, a restart on the full
# disk still serves and says why, and once space is freed HQ takes
# batches again by itself; then with no margin at all the disk really
# fills in the middle of a transaction, which is refused whole (503).  In
# the end HQ holds every version of both laptops once, each batch it
# holds whole, and the store is sound.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
if skip_on_pg "all of it: the disk that fills is that of SQLite's file"; then
	exit 0
fi
DISK="$T/disk"
mkdir "$DISK"
if ! mount -t tmpfs -o size=40m tmpfs "$DISK" 2>"$T/mount.err"; then
	echo "SKIPPED: cannot mount a tmpfs: $(cat "$T/mount.err")"
	exit 0
fi
E2E_CLEANUPS+=("umount '$DISK'")
. "$top/tests/e2e/sync-lib.sh"
HQ_STORE="$DISK/hq.db"
HQ_SPEC="sqlite:$HQ_STORE"
MARGIN=6 # MiB, more than the 4 MiB reserve of store_sqlite.c
hq_start_args() {
	gridbook-hq serve --store "sqlite:$HQ_STORE" \
		--listen "127.0.0.1:$HQ_PORT" "$@" >>"$T/hq.log" 2>&1 &
	HQ_PID=$!
	for _ in $(seq 200); do
		[ "$(health_status)" != 000 ] && return 0
		sleep 0.05
	done
	echo "gridbook-hq did not start: $(tail -n 5 "$T/hq.log")" >&2
	return 1
}
health_status() {
	curl -s -o "$T/health" -w '%{http_code}' "$HQ_URL/healthz" 2>/dev/null
}
free_kib() { df -k --output=avail "$DISK" | tail -n 1 | tr -d ' '; }
# Fills the disk until KIB KiB are left free (0: until it is full).
fill_to() {
	local want=$1 have
	have=$(free_kib)
	if [ "$want" -eq 0 ]; then
		dd if=/dev/zero of="$DISK/filler$2" bs=64k 2>/dev/null
	elif [ "$have" -gt "$want" ]; then
		fallocate -l $(((have - want) * 1024)) "$DISK/filler$2"
	fi
}
# Every batch HQ holds is whole: its record count is what its history
# holds of it, and no version is held twice.
hq_whole() {
	hq_sql "SELECT (SELECT count(*) FROM record_history) ||
		' ' || (SELECT count(*) FROM (SELECT DISTINCT id, version
			FROM record_history)) ||
		' ' || (SELECT coalesce(sum(records), 0) FROM batch)"
}
laptop() { # FILE ROWS SEED START
	grid_new "$1"
	enroll "$1" coordinator
	python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows "$2" \
		--seed "$3" --start "$4" "$T/rows.csv"
	gridbook --db "$1" import enterprise "$T/rows.csv" >/dev/null
}
# One push with --retry-for 0, so that a refusal for room ends it and
# is seen; a 503 with a turn (turns are on by default, and under load the
# writer's queue may be shorter than one laptop's window) is no such
# refusal, so that push goes again, at most 30 times.  Its exit status.
sync_once() { # FILE
	local rc=1
	for _ in $(seq 30); do
		gridbook --db "$1" sync --retry-for 0 >"$T/sync.out" 2>&1
		rc=$?
		grep -q "turn comes in" "$T/sync.out" || return $rc
	done
	return $rc
}
sync_until() { # FILE WANT-EXIT: at most 30 rounds until it exits WANT
	local i rc
	for i in $(seq 30); do
		gridbook --db "$1" sync --retry-for 0 >"$T/sync.out" 2>&1
		rc=$?
		[ "$rc" = "$2" ] && return 0
	done
	return 1
}

hq_seed
ok "HQ starts on the small disk" hq_start_args --free-space-margin $MARGIN
same "/healthz ok with room" "$(health_status)" 200
A="$T/a.grid"
ok "laptop A" laptop "$A" 12000 1 0

# ---- the margin: refused before the disk is full ----
fill_to $((MARGIN * 1024 + 3 * 1024)) 1
sync_once "$A"
rc=$?
same "the push stops when the disk is short of room: exit 1" "$rc" 1
has "... at a 503" "$(cat "$T/sync.out")" "answered 503"
has "... naming the margin" "$(cat "$T/sync.out")" "under the margin of"
got=$(hq_whole)
set -- $got
same "every batch held whole, no version twice, after the refusal" \
	"$1 $2" "$3 $3"
[ "$1" -gt 0 ] && [ "$1" -lt 12000 ] && pass ||
	fail "the disk did not fill part way: $1 versions held"
[ "$(free_kib)" -gt 0 ] && pass || fail "the disk filled up after all"
same "/healthz says so: 503" "$(health_status)" 503
has "... and why" "$(cat "$T/health")" "batches are refused until there is room"
curl -s -o /dev/null -D "$T/headers" "$HQ_URL/healthz"
has "... with Retry-After" "$(tr -d '\r' <"$T/headers")" "Retry-After: 10"

# ---- full at start: still starts and says why ----
hq_stop
fill_to 0 2
ok "HQ starts on a full disk" hq_start_args --free-space-margin $MARGIN
same "/healthz on the full disk: 503" "$(health_status)" 503
has "the log says why" "$(cat "$T/hq.log")" "under the margin of"
sync_once "$A"
same "a batch on the full disk: exit 1" "$?" 1
has "... at a 503" "$(cat "$T/sync.out")" "answered 503"
curl -s -o /dev/null -w '%{http_code}' "$HQ_URL/v1/reports/enterprises" \
	>"$T/report.status"
[ "$(cat "$T/report.status")" != 000 ] && pass ||
	fail "HQ on a full disk does not answer reports"

# ---- space comes back: HQ takes batches again, without a restart ----
rm -f "$DISK"/filler*
for _ in $(seq 100); do
	[ "$(health_status)" = 200 ] && break
	sleep 0.1
done
same "/healthz ok once space is freed" "$(health_status)" 200
ok "A's push completes" sync_until "$A" 0
has "... sending the rest" "$(cat "$T/sync.out")" "sent"
same "HQ holds A's versions, each once" \
	"$(hq_versions | sort)" "$(local_versions "$A" | sort)"

# ---- no margin: the disk fills in the middle of a transaction ----
hq_stop
ok "HQ starts with no margin" hq_start_args --free-space-margin 0
B="$T/b.grid"
ok "laptop B" laptop "$B" 12000 2 20000
fill_to 2048 3
sync_once "$B"
same "the push stops when the disk is full: exit 1" "$?" 1
has "... at a 503 saying the disk is full" "$(cat "$T/sync.out")" \
	"the disk is full"
got=$(hq_whole)
set -- $got
same "every batch held whole, no version twice, after a full disk" \
	"$1 $2" "$3 $3"
[ -n "$HQ_PID" ] && kill -0 "$HQ_PID" 2>/dev/null && pass ||
	fail "HQ did not survive a full disk"
rm -f "$DISK"/filler*
ok "B's push completes once space is freed" sync_until "$B" 0
ok "A syncs again" sync_until "$A" 0
same "HQ holds both laptops' versions, each once" \
	"$(hq_versions | sort)" "$(local_versions "$A" | sort)"
same "... which B holds too" \
	"$(local_versions "$B" | sort)" "$(local_versions "$A" | sort)"
got=$(hq_whole)
set -- $got
same "every batch whole at the end" "$1 $2" "$3 $3"
hq_stop
same "the store is sound" "$(hq_sql 'PRAGMA integrity_check')" ok

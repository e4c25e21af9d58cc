#!/usr/bin/env bash
# The last error when it is the laptop's own disk (SPEC §4: the daemon
# reports its last error): the grid file lives on a small tmpfs, which is
# then filled.  gridbook sync fails, saying so, and sync status shows that
# error although the grid file could not take it (it is kept in the small
# file beside it that sync setup made).  Space freed, the next sync
# delivers everything once and the error shows as resolved.  Needs to
# mount a tmpfs (root); elsewhere it says so and checks nothing.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

M="$T/small"
mkdir "$M"
if ! mount -t tmpfs -o size=3m tmpfs "$M" 2>/dev/null; then
	echo "cannot mount a tmpfs here (not root?): nothing checked"
	exit 0
fi
unmount() { umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null; return 0; }
E2E_CLEANUPS+=("unmount")

G="$M/a.grid"
hq_seed
hq_start
grid_new "$G"
ok "the device is enrolled" enroll "$G" coordinator
[ -f "$G-sync-error" ] && pass || fail "sync setup made no side file"
python3 "$top/bench/gen_csv.py" --grid S01-G1 --rows 200 --start 0 \
	"$T/e.csv"
ok "200 enterprises imported" gridbook --db "$G" import enterprise "$T/e.csv"

# The disk fills up.
dd if=/dev/zero of="$M/fill" bs=4k >/dev/null 2>&1
same "the disk is full" "$(df --output=avail "$M" | tail -n 1 | tr -d ' ')" "0"
fails 1 "gridbook sync fails on the full disk" \
	gridbook --db "$G" sync --batch-records 50
has "it says why" "$(cat "$T/.err")" "full"
case "$(sqlite3 "$G" "SELECT value FROM meta WHERE key = 'sync_last_error'")" in
*full*) fail "the grid file took the error: the disk was not full enough" ;;
*) pass ;;
esac
ok "sync status still reads" gridbook --db "$G" sync status
has "sync status shows the disk's error" "$(cat "$T/.out")" "disk is full"
case "$(cat "$T/.out")" in *"since resolved"*) fail "shown as resolved" ;;
*) pass ;; esac

# Space comes back.
rm -f "$M/fill"
ok "the next sync delivers" gridbook --db "$G" sync --batch-records 50
ok "sync status" gridbook --db "$G" sync status
has "the error is resolved" "$(cat "$T/.out")" "since resolved"
same "HQ holds each version once" "$(hq_versions)" "$(local_versions "$G")"
same "nothing pending" "$(sqlite3 "$G" 'SELECT count(*) FROM outbox')" "0"

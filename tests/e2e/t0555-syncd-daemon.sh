#!/usr/bin/env bash
# gridbook-syncd as a service: --daemon detaches and syncs, logging to a
# file; a second daemon on the same grid file is refused naming the
# first one's pid; SIGHUP after logrotate's move opens the log again;
# SIGTERM stops it cleanly and frees the lock.  In the foreground under
# systemd (Type=notify) it says READY=1 and STOPPING=1 on NOTIFY_SOCKET.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/sync-lib.sh"

# wait_for WHAT CMD...: polls CMD (up to 10 s) until it succeeds.
wait_for() {
	local what=$1; shift
	for _ in $(seq 200); do
		"$@" >/dev/null 2>&1 && { pass; return 0; }
		sleep 0.05
	done
	fail "$what: not within 10 s"
	return 1
}
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
pending() { gridbook --db "$F" sync status --format json | grep -q '"pending":0'; }

hq_seed
hq_start
F="$T/S01-G1.db"
grid_new "$F"
enroll "$F" coordinator
gridbook --db "$F" enterprise add --uscc "$(uscc 1)" --name 望川市文昌精密机械有限公司 \
	--community S01-C01 --employees 48 >/dev/null

ok "--daemon returns at once" gridbook-syncd --db "$F" --daemon \
	--log "$T/syncd.log" --interval 0.2
wait_for "the daemon writes its pid" grep -q '^[0-9]' "$F.syncd"
PID=$(cat "$F.syncd")
E2E_CLEANUPS+=("kill $PID 2>/dev/null")
wait_for "the daemon runs" alive "$PID"
same "it is not our child" "$(ps -o ppid= -p "$PID" | tr -d ' ')" 1
wait_for "it syncs what was entered" pending
has "it logs to the file" "$(cat "$T/syncd.log")" "syncing $F"

fails 1 "a second daemon on the same file is refused" \
	gridbook-syncd --db "$F" --once
has "naming the first one" "$(cat "$T/.err")" \
	"another gridbook-syncd (pid $PID) is syncing this grid file"
G="$T/other.db"
grid_new "$G"
enroll "$G" coordinator
ok "another grid file has its own daemon" gridbook-syncd --db "$G" --once

mv "$T/syncd.log" "$T/syncd.log.1"
kill -HUP "$PID"
wait_for "SIGHUP opens the log again" grep -q "log reopened" "$T/syncd.log"
alive "$PID" && pass || fail "SIGHUP stopped the daemon"

kill -TERM "$PID"
wait_for "SIGTERM stops it" dead "$PID"
has "cleanly" "$(cat "$T/syncd.log")" "stopping"
ok "the lock is free again" gridbook-syncd --db "$F" --once

fails 1 "no grid file, no lock file" gridbook-syncd --db "$T/none.db" --once
[ ! -e "$T/none.db.syncd" ] && pass || fail "a lock file beside nothing"

# systemd's Type=notify, with a socket of our own.
python3 - "$F" "$HQ_URL" <<'EOF' >"$T/notify.txt" 2>&1
import os, signal, socket, subprocess, sys, tempfile
d = tempfile.mkdtemp()
path = os.path.join(d, "notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(10)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen(["gridbook-syncd", "--db", sys.argv[1], "--server",
                      sys.argv[2], "--interval", "0.2"], env=env,
                     stderr=subprocess.DEVNULL)
print(s.recv(256).decode())
p.send_signal(signal.SIGTERM)
print(s.recv(256).decode())
print("exit", p.wait(10))
EOF
has "READY=1" "$(cat "$T/notify.txt")" "READY=1"
has "STOPPING=1" "$(cat "$T/notify.txt")" "STOPPING=1"
has "exit 0 on SIGTERM" "$(cat "$T/notify.txt")" "exit 0"

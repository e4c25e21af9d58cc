#!/usr/bin/env bash
# make demo: the whole of gridbook on one machine, from nothing.
#   tests/demo.sh BUILD_DIR
# Starts gridbook-hq on 127.0.0.1 with its embedded SQLite store, seeds the
# reference district 望川区, generates a month of field work for all 32
# grids in real grid files (a coordinator's and an officer's laptop per
# grid), enrolls each laptop as a device, syncs them over HTTP and prints
# the district summary of every report.  KEEP=1 leaves the server running
# (and says where); otherwise it is stopped at the end.  Everything lives
# in build/demo/ so it can be looked at afterwards.
set -euo pipefail
B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$top" && cd "$B" && pwd)
export PATH="$B:$B/bench:$PATH"
export GRIDBOOK_SEEDS="$top/seeds"
D="$B/demo"
start=$SECONDS

step() { printf '\n== %s\n' "$*"; }

rm -rf "$D"
mkdir -p "$D"
STORE="sqlite:$D/hq.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$port"

step "seeding the reference district into $D/hq.db"
gridbook-hq --store "$STORE" seed "$top/seeds"

step "starting gridbook-hq on $URL"
gridbook-hq --store "$STORE" serve --listen "127.0.0.1:$port" \
	>"$D/hq.log" 2>&1 &
hq=$!
stop_server() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "gridbook-hq left running as pid $hq on $URL (log $D/hq.log)"
	else
		kill "$hq" 2>/dev/null && wait "$hq" 2>/dev/null || true
	fi
}
trap stop_server EXIT
for _ in $(seq 1 100); do
	curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "$URL/healthz" >/dev/null

to=$(python3 -c 'import datetime as d; print((d.datetime.utcnow()+d.timedelta(hours=8)).date()-d.timedelta(days=1))')
from=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$to')-d.timedelta(days=29))")
today=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$to')+d.timedelta(days=1))")
step "generating field work $from .. $to for all 32 grids"
gridbook-gen --out "$D/grids" --seed 2026 --grids all --from "$from" --to "$to"

step "enrolling each laptop and syncing it"
n=0
for f in "$D"/grids/*.db; do
	name=$(basename "$f" .db)
	grid=${name%-*}
	case $name in
	*-labour) role=coordinator ;;
	*) role=officer ;;
	esac
	gridbook-hq --store "$STORE" device enroll --grid "$grid" --role "$role" \
		--name "$name" 2>/dev/null |
		gridbook --db "$f" sync setup --server "$URL" --token - >/dev/null
	gridbook --db "$f" sync >/dev/null 2>"$D/sync-$name.log" || {
		echo "sync of $name failed:" >&2
		cat "$D/sync-$name.log" >&2
		exit 1
	}
	n=$((n + 1))
	printf '\r  %d laptops synced' "$n"
done
echo
viewer=$(gridbook-hq --store "$STORE" device enroll --grid S01-G1 --role viewer \
	--name 区指挥中心 2>/dev/null | sed -n 's/^token: //p')

step "district reports, $from .. $to"
reports=$(gridbook-hq report --help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' || true)
if [ -z "$reports" ]; then
	echo "(gridbook-hq report is not built yet)"
else
	for r in $reports; do
		# The field work ends yesterday; the syncs were just now.
		rto=$to
		[ "$r" = sync-health ] && rto=$today
		echo
		gridbook-hq --store "$STORE" report "$r" --level district \
			--from "$from" --to "$rto"
	done
fi

step "done in $((SECONDS - start)) s"
echo "HQ over HTTP (viewer token):"
echo "  curl -H 'Authorization: Bearer $viewer' '$URL/v1/reports/contract-rate?level=street&from=$from&to=$to'"
echo "grid files: $D/grids/   server store: $D/hq.db   server log: $D/hq.log"

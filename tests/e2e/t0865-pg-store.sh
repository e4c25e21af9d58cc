#!/usr/bin/env bash
# The commands of gridbook-hq on --store postgresql://..., against a
# throwaway PostgreSQL 15 (pglib.py), side by side with the same on
# SQLite: the seeds load alike (and a second load changes nothing),
# enrolment, listing and revocation of devices give the same lines but
# for ids and times, a grid that is not there and a device that is not
# there are refused alike, and the audit log checks out and names the
# entry edited by hand, and a report reads the same.  Programs starting at
# once on a new database all find its schema made once; devices enrolled
# at once all get an entry of one unbroken audit chain.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
unset GRIDBOOK_HQ_STORE GRIDBOOK_TZ
SEEDS=${GRIDBOOK_SEEDS:-$top/seeds}

pg_database || exit 1
SQ="sqlite:$T/hq.db"

# On both stores, from here on: the output of each, with ids and times
# made alike.
both() {
	local what=$1; shift
	local rc_sq rc_pg
	gridbook-hq "$@" --store "$SQ" >"$T/sq.out" 2>"$T/sq.err"
	rc_sq=$?
	gridbook-hq "$@" --store "$PG" >"$T/pg.out" 2>"$T/pg.err"
	rc_pg=$?
	same "$what: exit status alike" "$rc_pg" "$rc_sq"
}
norm() {
	sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/g' \
		-e 's/^token: .*/token: TOKEN/' -e 's/last hash [0-9a-f]{64}/last hash HASH/' "$1"
}
alike() {
	same "$1: output alike" "$(norm "$T/pg.out")" "$(norm "$T/sq.out")"
	same "$1: messages alike" "$(norm "$T/pg.err")" "$(norm "$T/sq.err")"
}

both "seed" seed "$SEEDS"
alike "seed"
has "seed: rows read" "$(cat "$T/pg.out")" "rows read"
rows=$(psql -X -At "$PG" -c "SELECT (SELECT count(*) FROM community) || ' '
	|| (SELECT count(*) FROM police_area) || ' ' ||
	(SELECT count(*) FROM staff) || ' ' ||
	(SELECT count(*) FROM area_community)")
want=$(sqlite3 "$T/hq.db" "SELECT (SELECT count(*) FROM community) || ' '
	|| (SELECT count(*) FROM police_area) || ' ' ||
	(SELECT count(*) FROM staff) || ' ' ||
	(SELECT count(*) FROM area_community)")
same "seed: the same reference rows" "$rows" "$want"
both "seed again" seed "$SEEDS"
alike "seed again"
has "seed again: nothing changed" "$(cat "$T/pg.out")" ", 0 new or changed"
same "seed: ref_version alike" \
	"$(psql -X -At "$PG" -c "SELECT value FROM meta WHERE key = 'ref_version'")" \
	"$(sqlite3 "$T/hq.db" "SELECT value FROM meta WHERE key = 'ref_version'")"

both "enroll" device enroll --grid S01-G1 --role coordinator --name "刘建国的笔记本"
alike "enroll"
PGDEV=$(sed -n 's/^device: //p' "$T/pg.out")
SQDEV=$(sed -n 's/^device: //p' "$T/sq.out")
both "enroll an officer" device enroll --grid S01-G2 --role officer --name "社区民警 陈志强"
alike "enroll an officer"
both "enroll in a grid not there" device enroll --grid S09-G9 --role officer
alike "enroll in a grid not there"
has "enroll in a grid not there: refused" "$(cat "$T/pg.err")" "S09-G9 is not in the store"

gridbook-hq device revoke "$SQDEV" --store "$SQ" >"$T/sq.out" 2>"$T/sq.err"
rc_sq=$?
gridbook-hq device revoke "$PGDEV" --store "$PG" >"$T/pg.out" 2>"$T/pg.err"
same "revoke: exit status alike" "$?" "$rc_sq"
alike "revoke"
both "revoke a device not there" device revoke 01a23b25-cff2-7000-bf89-000000000000
alike "revoke a device not there"
has "revoke a device not there: refused" "$(cat "$T/pg.err")" "no device"

both "device list" device list
alike "device list"
same "device list: two devices" "$(wc -l <"$T/pg.out")" 2
has "device list: the revoked one" "$(cat "$T/pg.out")" "$PGDEV	S01-G1	coordinator	revoked"

both "audit" audit
alike "audit"
both "audit verify" audit verify
alike "audit verify"
has "audit verify: 3 entries" "$(cat "$T/pg.out")" "3 entries check out"

# An entry edited by hand is named.
psql -X -q "$PG" -c "UPDATE audit_log SET detail = 'S01-G1 viewer' WHERE seq = 1"
fails 1 "audit verify after an edit" gridbook-hq audit verify --store "$PG"
has "audit verify names the edited entry" "$(cat "$T/.err")" "audit entry 1: its content does not match its hash"
psql -X -q "$PG" -c "UPDATE audit_log SET detail = 'S01-G1 coordinator' WHERE seq = 1"
ok "audit verify after the edit is undone" gridbook-hq audit verify --store "$PG"

# Four programs at once on a new database: the schema is made once and
# each finds it; then six enrolments at once, each its own audit entry on
# one chain.
# Named after the test's own, as the cluster may be the run's; dropped
# before the cluster stops when it is the test's own.
fresh=${PG##*/}_fresh
E2E_CLEANUPS=("psql -X -q \"$PG\" -c \"DROP DATABASE IF EXISTS $fresh WITH (FORCE)\""
	"${E2E_CLEANUPS[@]}")
psql -X -q "$PG" -c "CREATE DATABASE $fresh"
FRESH=${PG%/*}/$fresh
pids=()
for i in 1 2 3 4; do
	gridbook-hq device list --store "$FRESH" >"$T/fresh$i.out" 2>"$T/fresh$i.err" &
	pids+=($!)
done
bad=0
for i in 1 2 3 4; do
	wait "${pids[$((i - 1))]}" || { bad=$((bad + 1)); cat "$T/fresh$i.err" >&2; }
done
same "programs at once on a new database all start" "$bad" 0
same "the schema made once" \
	"$(psql -X -At "$FRESH" -c "SELECT value FROM meta WHERE key = 'schema_version'")" \
	"$(ls "$top"/schema/pg/*.sql | wc -l)"
ok "seed of the new database" gridbook-hq seed "$SEEDS" --store "$FRESH"
pids=()
for i in 1 2 3 4 5 6; do
	gridbook-hq device enroll --grid S01-G1 --role officer --name "巡逻 $i" \
		--store "$FRESH" >"$T/en$i.out" 2>"$T/en$i.err" &
	pids+=($!)
done
bad=0
for i in 1 2 3 4 5 6; do
	wait "${pids[$((i - 1))]}" || { bad=$((bad + 1)); cat "$T/en$i.err" >&2; }
done
same "enrolments at once all succeed" "$bad" 0
ok "audit verify after enrolments at once" gridbook-hq audit verify --store "$FRESH"
has "six entries on one chain" "$(cat "$T/.out")" "6 entries check out"

# backup on PostgreSQL is pg_dump's, checked; restored by pg_restore into
# an empty database it holds the same devices on the same audit chain.
ok "backup of the PostgreSQL store" gridbook-hq backup "$T/hq.dump" --store "$FRESH"
has "backup: says it checked" "$(cat "$T/.err")" "pg_dump, checked"
fails 1 "backup over a file there already" gridbook-hq backup "$T/hq.dump" --store "$FRESH"
has "backup over a file: why" "$(cat "$T/.err")" "the file exists"
restored=${fresh}_r
E2E_CLEANUPS=("psql -X -q \"$PG\" -c \"DROP DATABASE IF EXISTS $restored WITH (FORCE)\""
	"${E2E_CLEANUPS[@]}")
psql -X -q "$PG" -c "CREATE DATABASE $restored"
RESTORED=${PG%/*}/$restored
ok "pg_restore of the backup" pg_restore --no-owner --dbname "$RESTORED" "$T/hq.dump"
gridbook-hq device list --store "$FRESH" >"$T/dev-a.out" 2>&1
gridbook-hq device list --store "$RESTORED" >"$T/dev-b.out" 2>&1
same "restored: the same devices" "$(cat "$T/dev-b.out")" "$(cat "$T/dev-a.out")"
ok "restored: the audit chain checks out" gridbook-hq audit verify --store "$RESTORED"
has "restored: six entries" "$(cat "$T/.out")" "6 entries check out"
fails 1 "backup of a database not there" gridbook-hq backup "$T/none.dump" \
	--store "${PG%/*}/no_such_db_$$"

# Reports run on both (t0867 and t0868 compare them with records), and
# so does serve (t0870: several servers on one database).
ok "report on PostgreSQL" gridbook-hq report contract-rate --level street \
	--from 2026-11-01 --to 2026-11-30 --format json --store "$PG"
has "report on PostgreSQL: the streets" "$(cat "$T/.out")" '"rows":[{'
both "report" report contract-rate --level street --from 2026-11-01 \
	--to 2026-11-30 --format json
alike "report"
port=$(free_port)
gridbook-hq serve --store "$PG" --listen "127.0.0.1:$port" >"$T/serve.log" 2>&1 &
spid=$!
up=0
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { up=1; break; }
	sleep 0.1
done
same "serve on PostgreSQL answers /healthz" "$up" 1
kill "$spid" 2>/dev/null
wait "$spid"
same "serve on PostgreSQL stops cleanly on SIGTERM" "$?" 0
fails 2 "a store that is neither" gridbook-hq device list --store mysql://x
has "a store that is neither: named" "$(cat "$T/.err")" "is not sqlite:PATH or postgresql://"

# A database that is not there: the URL is named without its password.
fails 1 "a database not there" gridbook-hq device list \
	--store "postgresql://gridbook:s3cret@127.0.0.1:1/none"
has "a database not there: named" "$(cat "$T/.err")" "connecting to postgresql://127.0.0.1:1/none"
case "$(cat "$T/.err")" in *s3cret*) fail "the password is in the message" ;; *) pass ;; esac

-- gridbook-hq on PostgreSQL 15: the central store (server/store_pg.c),
-- the same tables as schema/server/001, 003 and 005 for SQLite, keyed so
-- that a Citus cluster can spread them over its nodes by grid.  The
-- PostgreSQL migrations start from the shape the SQLite store had reached
-- when this store was added (no PostgreSQL store holds anything older),
-- and every later migration of schema/server gets its counterpart here;
-- tests/e2e/t0860-pg-schema.py checks that every table and column of
-- schema/server has one, with the type it maps to (INTEGER bigint, BLOB
-- bytea, TEXT text).
--
-- Three kinds of table (docs/citus.md has the calls that distribute them):
--   reference  small, read by every grid, changed by seed and enrolment:
--              one copy on every node.  district, street, grid,
--              community, police_area, area_community, staff, meta, device.
--   per grid   the records, batches and facts of one grid: distributed by
--              the column grid, so every primary key and unique
--              constraint includes grid (Citus enforces uniqueness within
--              a shard only), and a grid's rows live on one node.
--   local      the audit log, one hash chain in one order: on the
--              coordinator only.
-- Where a lookup of today's store interface comes without the grid (a
-- record by id, a batch by device and seq), grid is the last column of
-- the key, so that the key's index still serves it on one server.
--
-- Record and device ids are UUIDs stored as 16 bytes (bytea); times are
-- ms UTC in bigint; flags are bigint 0/1 as in the SQLite store.

CREATE TABLE meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);

-- The version of the reference data as a whole (see schema/server/001).
INSERT INTO meta (key, value) VALUES ('ref_version', '1');

CREATE TABLE district (
	code text PRIMARY KEY,
	name text NOT NULL
);

CREATE TABLE street (
	code text PRIMARY KEY,
	name text NOT NULL
);

CREATE TABLE grid (
	code   text PRIMARY KEY,
	street text NOT NULL REFERENCES street (code),
	name   text NOT NULL
);

CREATE TABLE community (
	code           text PRIMARY KEY,
	grid           text NOT NULL REFERENCES grid (code),
	name           text NOT NULL,
	population     bigint NOT NULL DEFAULT 0,
	criminal_cases bigint NOT NULL DEFAULT 0,
	patrol_team    bigint NOT NULL DEFAULT 0
);

CREATE INDEX community_grid ON community (grid);

CREATE TABLE police_area (
	code text PRIMARY KEY,
	grid text NOT NULL REFERENCES grid (code),
	name text NOT NULL,
	room text NOT NULL DEFAULT ''
);

CREATE INDEX police_area_grid ON police_area (grid);

CREATE TABLE area_community (
	area      text NOT NULL REFERENCES police_area (code),
	community text NOT NULL REFERENCES community (code),
	PRIMARY KEY (area, community)
);

-- role: coordinator, officer, chief, guard.  area is NULL for coordinators.
CREATE TABLE staff (
	code text PRIMARY KEY,
	name text NOT NULL,
	role text NOT NULL
	     CHECK (role IN ('coordinator', 'officer', 'chief', 'guard')),
	grid text NOT NULL REFERENCES grid (code),
	area text REFERENCES police_area (code)
);

CREATE INDEX staff_grid ON staff (grid);

-- Enrolled devices; only a BLAKE2b-256 hash of the token is kept.  A
-- reference table, although each device is of one grid: a request is
-- authenticated by its token before its grid is known, so the token's
-- hash must be unique over the whole store and found on any node.
-- Enrolment and revocation are rare; what changes with every batch
-- (last_seen, pending, oldest_pending of the SQLite table) is kept per
-- grid in device_sync, so that a batch never writes a reference table.
CREATE TABLE device (
	id         bytea PRIMARY KEY,
	grid       text NOT NULL REFERENCES grid (code),
	role       text NOT NULL
	           CHECK (role IN ('coordinator', 'officer', 'viewer')),
	name       text NOT NULL DEFAULT '',
	token_hash bytea NOT NULL UNIQUE,
	revoked    bigint NOT NULL DEFAULT 0,
	created_at bigint NOT NULL,
	revoked_at bigint
);

-- Per grid: when each device last had a batch applied and what it said
-- it still had to send then (schema/server/003): the pending versions
-- besides that batch, and the time the oldest was written; NULL until
-- the device says, oldest_pending NULL when nothing was left.
CREATE TABLE device_sync (
	device         bytea NOT NULL,
	grid           text NOT NULL,
	last_seen      bigint NOT NULL,
	pending        bigint,
	oldest_pending bigint,
	PRIMARY KEY (device, grid)
);

-- Every batch applied, written in the transaction that applies it; grid
-- is the device's (a batch is of one grid).
CREATE TABLE batch (
	device      bytea NOT NULL,
	seq         bigint NOT NULL,
	grid        text NOT NULL,
	items_hash  bytea NOT NULL,
	records     bigint NOT NULL,
	ack         bytea NOT NULL,
	received_at bigint NOT NULL,
	PRIMARY KEY (device, seq, grid)
);

-- The last change sequence given out in each grid.  The store locks the
-- row at a transaction's first version of the grid and holds it until
-- the transaction ends (counting the numbers itself and writing the last
-- one back, store_pg.c): transactions writing one grid then commit in the
-- order of their numbers, so a /v1/changes reader that has seen seq N
-- never misses a smaller one committed later by another gridbook-hq
-- instance (a sequence would give numbers in the order they were asked
-- for, not committed).  Numbers are per grid, as the cursors of
-- /v1/changes are.
CREATE TABLE change_seq (
	grid text PRIMARY KEY,
	seq  bigint NOT NULL
);

-- Every version of every record accepted into the history, as the
-- protobuf bytes received (see schema/server/001).  seq is the change
-- sequence of its grid (change_seq) that /v1/changes pages through, so
-- the key (grid, seq) is also the index of that scan.
CREATE TABLE record_history (
	seq          bigint NOT NULL,
	id           bytea NOT NULL,
	version      bigint NOT NULL,
	device       bytea NOT NULL,
	kind         text NOT NULL,
	grid         text NOT NULL,
	content_hash bytea NOT NULL,
	raw          bytea NOT NULL,
	received_at  bigint NOT NULL,
	PRIMARY KEY (grid, seq),
	UNIQUE (id, version, device, grid)
);

-- The current version of every record, with the columns the reports
-- filter on (see schema/server/001).  A record keeps its grid: ingest
-- refuses a version that names another.
CREATE TABLE record_current (
	id          bytea NOT NULL,
	kind        text NOT NULL,
	grid        text NOT NULL,
	device      bytea NOT NULL,
	staff       text NOT NULL DEFAULT '',
	version     bigint NOT NULL,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL,
	voided      bigint NOT NULL DEFAULT 0,
	void_reason text,
	day         text,
	community   text,
	person      text,
	status      text,
	body        text NOT NULL,
	PRIMARY KEY (id, grid)
);

CREATE INDEX record_current_grid_kind ON record_current (grid, kind, day);
CREATE INDEX record_current_kind_day ON record_current (kind, day);

-- A version whose id, version and device were already held with other
-- content.  Set aside here, never applied.
CREATE TABLE conflict (
	seq          bigint GENERATED ALWAYS AS IDENTITY,
	id           bytea NOT NULL,
	version      bigint NOT NULL,
	device       bytea NOT NULL,
	kind         text NOT NULL,
	grid         text NOT NULL,
	content_hash bytea NOT NULL,
	raw          bytea NOT NULL,
	received_at  bigint NOT NULL,
	PRIMARY KEY (seq, grid),
	UNIQUE (id, version, device, content_hash, grid)
);

-- Records refused in a batch, with the reason the device was told; grid
-- is that of the batch (the device's), which a refused record may not
-- name validly itself.
CREATE TABLE rejection (
	seq         bigint GENERATED ALWAYS AS IDENTITY,
	device      bytea NOT NULL,
	grid        text NOT NULL,
	batch_seq   bigint NOT NULL,
	id          text NOT NULL,
	version     bigint NOT NULL,
	code        text NOT NULL,
	reason      text NOT NULL,
	raw         bytea,
	received_at bigint NOT NULL,
	PRIMARY KEY (seq, grid)
);

-- Refused requests (403) and administrative acts, and their hash chain
-- (schema/server/005): local tables of the coordinator.  Each entry holds
-- the hash of the one before it, so entries are written one at a time in
-- one order (store_pg.c takes a lock for it); distributing them would buy
-- nothing and break that order.
CREATE TABLE audit_log (
	seq    bigint PRIMARY KEY,
	at     bigint NOT NULL,
	device bytea,
	grid   text NOT NULL DEFAULT '',
	action text NOT NULL,
	status bigint NOT NULL,
	detail text NOT NULL DEFAULT '',
	remote text NOT NULL DEFAULT ''
);

CREATE TABLE audit_chain (
	seq  bigint PRIMARY KEY,
	prev bytea NOT NULL,
	hash bytea NOT NULL
);

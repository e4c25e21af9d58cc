-- gridbook-hq: the central store.  Reference data loaded from seeds/, the
-- enrolled devices, every version of every record received (history), the
-- current version of each record with columns the reports filter on, the
-- batches applied with the ack each one got, conflicts, rejections and the
-- audit log.  Record and device ids are UUIDs stored as 16-byte BLOBs;
-- UUIDv7 ids are time-ordered, so new rows land at the end of the B-tree.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- The version of the reference data as a whole; the seed loader bumps it
-- when anything changed, and /v1/changes cursors carry it so that clients
-- pull the reference data again.
INSERT INTO meta (key, value) VALUES ('ref_version', '1');

CREATE TABLE district (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE street (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE grid (
	code   TEXT PRIMARY KEY,
	street TEXT NOT NULL REFERENCES street (code),
	name   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE community (
	code           TEXT PRIMARY KEY,
	grid           TEXT NOT NULL REFERENCES grid (code),
	name           TEXT NOT NULL,
	population     INTEGER NOT NULL DEFAULT 0,
	criminal_cases INTEGER NOT NULL DEFAULT 0,
	patrol_team    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX community_grid ON community (grid);

CREATE TABLE police_area (
	code TEXT PRIMARY KEY,
	grid TEXT NOT NULL REFERENCES grid (code),
	name TEXT NOT NULL,
	room TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX police_area_grid ON police_area (grid);

CREATE TABLE area_community (
	area      TEXT NOT NULL REFERENCES police_area (code),
	community TEXT NOT NULL REFERENCES community (code),
	PRIMARY KEY (area, community)
) WITHOUT ROWID;

-- role: coordinator, officer, chief, guard.  area is NULL for coordinators.
CREATE TABLE staff (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	role TEXT NOT NULL
	     CHECK (role IN ('coordinator', 'officer', 'chief', 'guard')),
	grid TEXT NOT NULL REFERENCES grid (code),
	area TEXT REFERENCES police_area (code)
) WITHOUT ROWID;

CREATE INDEX staff_grid ON staff (grid);

-- Enrolled devices.  Only a BLAKE2b-256 hash of the token is kept.
CREATE TABLE device (
	id         BLOB PRIMARY KEY,
	grid       TEXT NOT NULL REFERENCES grid (code),
	role       TEXT NOT NULL
	           CHECK (role IN ('coordinator', 'officer', 'viewer')),
	name       TEXT NOT NULL DEFAULT '',
	token_hash BLOB NOT NULL UNIQUE,
	revoked    INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER,
	last_seen  INTEGER
) WITHOUT ROWID;

-- Every batch applied, written in the transaction that applies it.  A batch
-- sent again is answered with the stored ack; items_hash (of the ids and
-- versions it carried) tells a resend from a reused sequence number.
CREATE TABLE batch (
	device      BLOB NOT NULL,
	seq         INTEGER NOT NULL,
	items_hash  BLOB NOT NULL,
	records     INTEGER NOT NULL,
	ack         BLOB NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (device, seq)
) WITHOUT ROWID;

-- Every version of every record ever accepted into the history (current
-- and stale ones), as the protobuf bytes received, unknown fields
-- included.  seq is the change sequence that /v1/changes pages through.
CREATE TABLE record_history (
	seq          INTEGER PRIMARY KEY,
	id           BLOB NOT NULL,
	version      INTEGER NOT NULL,
	device       BLOB NOT NULL,
	kind         TEXT NOT NULL,
	grid         TEXT NOT NULL,
	content_hash BLOB NOT NULL,
	raw          BLOB NOT NULL,
	received_at  INTEGER NOT NULL,
	UNIQUE (id, version, device)
);

CREATE INDEX record_history_grid_seq ON record_history (grid, seq);

-- The current version of every record.  day is the local date
-- (YYYY-MM-DD) of the kind's date field, community/person/status copies of
-- its community, staff and status fields, for the reports; body is the JSON
-- object of the kind's values (record.h).
CREATE TABLE record_current (
	id          BLOB PRIMARY KEY,
	kind        TEXT NOT NULL,
	grid        TEXT NOT NULL,
	device      BLOB NOT NULL,
	staff       TEXT NOT NULL DEFAULT '',
	version     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	voided      INTEGER NOT NULL DEFAULT 0,
	void_reason TEXT,
	day         TEXT,
	community   TEXT,
	person      TEXT,
	status      TEXT,
	body        TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX record_current_grid_kind ON record_current (grid, kind, day);
CREATE INDEX record_current_kind_day ON record_current (kind, day);

-- A version whose id, version and device were already held with other
-- content.  Set aside here, never applied.
CREATE TABLE conflict (
	seq          INTEGER PRIMARY KEY,
	id           BLOB NOT NULL,
	version      INTEGER NOT NULL,
	device       BLOB NOT NULL,
	kind         TEXT NOT NULL,
	grid         TEXT NOT NULL,
	content_hash BLOB NOT NULL,
	raw          BLOB NOT NULL,
	received_at  INTEGER NOT NULL,
	UNIQUE (id, version, device, content_hash)
);

-- Records refused in a batch, with the reason the device was told.
CREATE TABLE rejection (
	seq         INTEGER PRIMARY KEY,
	device      BLOB NOT NULL,
	batch_seq   INTEGER NOT NULL,
	id          TEXT NOT NULL,
	version     INTEGER NOT NULL,
	code        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	raw         BLOB,
	received_at INTEGER NOT NULL
);

-- Refused requests (403) and administrative acts.
CREATE TABLE audit_log (
	seq    INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL,
	device BLOB,
	grid   TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL,
	status INTEGER NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	remote TEXT NOT NULL DEFAULT ''
);

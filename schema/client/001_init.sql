-- gridbook client: one file per grid.  Reference data pulled from HQ (or
-- loaded from seeds/ at init), the records entered here and by other
-- devices of the grid, every earlier version, and the change log (outbox)
-- that the sync daemon drains.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE community (
	code           TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	street         TEXT NOT NULL,
	grid           TEXT NOT NULL,
	population     INTEGER NOT NULL DEFAULT 0,
	criminal_cases INTEGER NOT NULL DEFAULT 0,
	patrol_team    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE police_area (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	grid TEXT NOT NULL,
	room TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE area_community (
	area      TEXT NOT NULL,
	community TEXT NOT NULL,
	PRIMARY KEY (area, community)
) WITHOUT ROWID;

-- role: coordinator, officer, chief, guard.  area is empty for coordinators.
CREATE TABLE staff (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	grid TEXT NOT NULL,
	area TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- The current version of every record.  day/community/person/status/title
-- are copied out of body for filtering and listing: day is the local date
-- of the kind's date field, person its staff field.  body is the JSON
-- object of the kind's values (record.h).
CREATE TABLE record (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	grid        TEXT NOT NULL,
	device      TEXT NOT NULL,
	staff       TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	version     INTEGER NOT NULL,
	voided      INTEGER NOT NULL DEFAULT 0,
	void_reason TEXT,
	day         TEXT,
	community   TEXT,
	person      TEXT,
	status      TEXT,
	title       TEXT,
	body        TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX record_kind_day ON record (kind, day);

-- Every earlier version, moved here when a newer one replaces it, and
-- versions from other devices that arrived after a newer one.  Two devices
-- may stamp the same HLC value, so the device is part of the key.
CREATE TABLE record_history (
	id          TEXT NOT NULL,
	version     INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	device      TEXT NOT NULL,
	staff       TEXT NOT NULL DEFAULT '',
	updated_at  INTEGER NOT NULL,
	voided      INTEGER NOT NULL DEFAULT 0,
	void_reason TEXT,
	body        TEXT NOT NULL,
	PRIMARY KEY (id, version, device)
) WITHOUT ROWID;

-- The change log: one row per version written on this device, in order,
-- until HQ has acknowledged it.
CREATE TABLE outbox (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL,
	version INTEGER NOT NULL
);

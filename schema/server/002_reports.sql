-- gridbook-hq: the facts the reports read (server/rollup.c writes them,
-- server/reports.c reads them).  A GROUP BY over millions of stored
-- records takes seconds, so the reports never read record_current: ingest
-- keeps these small tables up to date in the transaction that applies each
-- batch, and a report reads only the rows of its period through an index
-- on the day.  Days are local dates as days since 1970-01-01 (gbtime.h);
-- instants are ms UTC; ids are the records' 16-byte ids.
--
-- rf_* tables hold one row per current, non-voided record of a kind, with
-- the values the reports need; a new version of a record replaces its row
-- and a voided one removes it.  rr_* tables are additive counters: by grid
-- (active enterprises), and by day, night or ISO week for what patrols,
-- daily reports and receptions feed, where a record's old contribution is
-- taken off before its new one is added and a counter that reaches zero
-- is deleted, so that a row exists exactly when something counts; and
-- batches by device and day of receipt (rr_sync).

-- Enterprises: the unit of the labour reports, and whether active.
CREATE TABLE rf_enterprise (
	id        BLOB PRIMARY KEY,
	grid      TEXT NOT NULL,
	community TEXT NOT NULL DEFAULT '',
	name      TEXT NOT NULL DEFAULT '',
	active    INTEGER NOT NULL
) WITHOUT ROWID;

-- Active enterprises per grid, kept with rf_enterprise: check-coverage's
-- denominator, so that the report does not count every enterprise held.
CREATE TABLE rr_active (
	grid        TEXT PRIMARY KEY,
	enterprises INTEGER NOT NULL
) WITHOUT ROWID;

-- Labour-contract checks.  day is the check date, deadline the
-- rectification deadline (days) or NULL.  The index covers the period
-- scans of contract-rate, check-coverage and rectification.
CREATE TABLE rf_check (
	id         BLOB PRIMARY KEY,
	grid       TEXT NOT NULL,
	enterprise BLOB NOT NULL,
	day        INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	signed     INTEGER NOT NULL,
	total      INTEGER NOT NULL,
	outcome    TEXT NOT NULL,
	deadline   INTEGER
) WITHOUT ROWID;

CREATE INDEX rf_check_day ON rf_check (day, grid, enterprise, version,
	signed, total, outcome, deadline);

-- Rectification follow-ups: which check, dated when, rectified or not.
CREATE TABLE rf_rect (
	id        BLOB PRIMARY KEY,
	chk       BLOB NOT NULL,
	day       INTEGER NOT NULL,
	rectified INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX rf_rect_check ON rf_rect (chk, rectified, day);

-- Labour disputes by received date.
CREATE TABLE rf_dispute (
	id     BLOB PRIMARY KEY,
	grid   TEXT NOT NULL,
	day    INTEGER NOT NULL,
	level  TEXT NOT NULL,
	status TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX rf_dispute_day ON rf_dispute (day, grid, level, status);

-- Patrols that would make a night comply (led by an officer, at least two
-- distinct guards), and per police area and night (the night of day D is
-- D 22:00 to D+1 06:00 local) how many such patrols overlap it.
CREATE TABLE rf_patrol (
	id    BLOB PRIMARY KEY,
	area  TEXT NOT NULL,
	start_at INTEGER NOT NULL,
	end_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE rr_night (
	night   INTEGER NOT NULL,
	area    TEXT NOT NULL,
	patrols INTEGER NOT NULL,
	PRIMARY KEY (night, area)
) WITHOUT ROWID;

-- Daily work reports, and per officer and day how many there are.
CREATE TABLE rf_daily (
	id      BLOB PRIMARY KEY,
	officer TEXT NOT NULL,
	day     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE rr_daily (
	day     INTEGER NOT NULL,
	officer TEXT NOT NULL,
	reports INTEGER NOT NULL,
	PRIMARY KEY (day, officer)
) WITHOUT ROWID;

-- Reception hours, and per officer and ISO week (the day number of its
-- Monday) the ms of reception overlapping the week.
CREATE TABLE rf_reception (
	id      BLOB PRIMARY KEY,
	officer  TEXT NOT NULL,
	start_at INTEGER NOT NULL,
	end_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE rr_reception (
	week    INTEGER NOT NULL,
	officer TEXT NOT NULL,
	ms      INTEGER NOT NULL,
	PRIMARY KEY (week, officer)
) WITHOUT ROWID;

-- Public requests by the local day they were received; deadline is the
-- one given or the default of the priority; resolved is NULL while open.
CREATE TABLE rf_request (
	id       BLOB PRIMARY KEY,
	area     TEXT NOT NULL,
	day      INTEGER NOT NULL,
	received INTEGER NOT NULL,
	deadline INTEGER NOT NULL,
	resolved INTEGER,
	category TEXT NOT NULL,
	priority TEXT NOT NULL,
	officer  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX rf_request_day ON rf_request (day, area, category, received,
	deadline, resolved, priority, officer);

-- Batches applied per device and local day of receipt, with the grid and
-- role of the device, for sync-health and the completeness of each report.
CREATE TABLE rr_sync (
	device  BLOB NOT NULL,
	day     INTEGER NOT NULL,
	grid    TEXT NOT NULL,
	role    TEXT NOT NULL,
	batches INTEGER NOT NULL,
	records INTEGER NOT NULL,
	last_at INTEGER NOT NULL,
	PRIMARY KEY (device, day)
) WITHOUT ROWID;

CREATE INDEX rr_sync_day ON rr_sync (day, grid, role);

-- The facts are built from the records already held when this migration
-- runs on a store that has some (rollup_ensure); '1' means up to date.
INSERT INTO meta (key, value) VALUES ('rollup_version',
	CASE WHEN EXISTS (SELECT 1 FROM record_current)
	       OR EXISTS (SELECT 1 FROM batch) THEN '0' ELSE '1' END);

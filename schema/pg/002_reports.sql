-- gridbook-hq on PostgreSQL 15: the facts the reports read, as
-- schema/server/002_reports.sql and 004_report_definitions.sql leave them
-- for SQLite (the meaning of every table and column is written there).
-- Days are local dates as days since 1970-01-01, instants ms UTC, ids the
-- records' 16-byte ids.
--
-- All of them are per grid, distributed by grid: a report of a grid reads
-- one node, and a district's report sums what each node answers.  So each
-- table has the grid of the record it comes from, also those whose
-- SQLite table has none (a police area, an officer and a follow-up are of
-- one grid: the record's, which validation checks against the reference
-- data), and every key includes it.  For the additive counters (rr_*)
-- adding grid to the key splits no counter: what they count by (an area,
-- an officer, a device) is of one grid already.

-- Enterprises: the unit of the labour reports, and whether active.
CREATE TABLE rf_enterprise (
	id        bytea NOT NULL,
	grid      text NOT NULL,
	community text NOT NULL DEFAULT '',
	name      text NOT NULL DEFAULT '',
	active    bigint NOT NULL,
	PRIMARY KEY (id, grid)
);

-- Active enterprises per grid.
CREATE TABLE rr_active (
	grid        text PRIMARY KEY,
	enterprises bigint NOT NULL
);

-- Labour-contract checks; the index covers the period scans.
CREATE TABLE rf_check (
	id         bytea NOT NULL,
	grid       text NOT NULL,
	enterprise bytea NOT NULL,
	day        bigint NOT NULL,
	version    bigint NOT NULL,
	signed     bigint NOT NULL,
	total      bigint NOT NULL,
	outcome    text NOT NULL,
	deadline   bigint,
	PRIMARY KEY (id, grid)
);

CREATE INDEX rf_check_day ON rf_check (day, grid, enterprise, version,
	signed, total, outcome, deadline);

-- Rectification follow-ups: which check, dated when, rectified or not.
CREATE TABLE rf_rect (
	id        bytea NOT NULL,
	grid      text NOT NULL,
	chk       bytea NOT NULL,
	day       bigint NOT NULL,
	rectified bigint NOT NULL,
	PRIMARY KEY (id, grid)
);

CREATE INDEX rf_rect_check ON rf_rect (chk, rectified, day);

-- Labour disputes by received date, with their enterprise (NULL when the
-- dispute names none).
CREATE TABLE rf_dispute (
	id         bytea NOT NULL,
	grid       text NOT NULL,
	day        bigint NOT NULL,
	level      text NOT NULL,
	status     text NOT NULL,
	enterprise bytea,
	PRIMARY KEY (id, grid)
);

CREATE INDEX rf_dispute_day ON rf_dispute (day, grid, level, status,
	enterprise);

-- Patrols (with their leader), and per night, police area and leader how
-- many overlap the night.
CREATE TABLE rf_patrol (
	id       bytea NOT NULL,
	grid     text NOT NULL,
	area     text NOT NULL,
	start_at bigint NOT NULL,
	end_at   bigint NOT NULL,
	leader   text NOT NULL DEFAULT '',
	PRIMARY KEY (id, grid)
);

CREATE TABLE rr_night (
	night   bigint NOT NULL,
	area    text NOT NULL,
	leader  text NOT NULL,
	grid    text NOT NULL,
	patrols bigint NOT NULL,
	PRIMARY KEY (night, area, leader, grid)
);

-- Daily work reports, and per officer and day how many there are.
CREATE TABLE rf_daily (
	id      bytea NOT NULL,
	grid    text NOT NULL,
	officer text NOT NULL,
	day     bigint NOT NULL,
	PRIMARY KEY (id, grid)
);

CREATE TABLE rr_daily (
	day     bigint NOT NULL,
	officer text NOT NULL,
	grid    text NOT NULL,
	reports bigint NOT NULL,
	PRIMARY KEY (day, officer, grid)
);

-- Reception hours, and per officer and ISO week the ms of reception.
CREATE TABLE rf_reception (
	id       bytea NOT NULL,
	grid     text NOT NULL,
	officer  text NOT NULL,
	start_at bigint NOT NULL,
	end_at   bigint NOT NULL,
	PRIMARY KEY (id, grid)
);

CREATE TABLE rr_reception (
	week    bigint NOT NULL,
	officer text NOT NULL,
	grid    text NOT NULL,
	ms      bigint NOT NULL,
	PRIMARY KEY (week, officer, grid)
);

-- Public requests by the local day they were received.
CREATE TABLE rf_request (
	id       bytea NOT NULL,
	grid     text NOT NULL,
	area     text NOT NULL,
	day      bigint NOT NULL,
	received bigint NOT NULL,
	deadline bigint NOT NULL,
	resolved bigint,
	category text NOT NULL,
	priority text NOT NULL,
	officer  text NOT NULL DEFAULT '',
	PRIMARY KEY (id, grid)
);

CREATE INDEX rf_request_day ON rf_request (day, area, category, received,
	deadline, resolved, priority, officer);

-- Batches applied per device and local day of receipt.
CREATE TABLE rr_sync (
	device  bytea NOT NULL,
	day     bigint NOT NULL,
	grid    text NOT NULL,
	role    text NOT NULL,
	batches bigint NOT NULL,
	records bigint NOT NULL,
	last_at bigint NOT NULL,
	PRIMARY KEY (device, day, grid)
);

CREATE INDEX rr_sync_day ON rr_sync (day, grid, role);

-- A new store holds no records, so its facts are up to date: '2' is the
-- version of the facts of schema/server/004.
INSERT INTO meta (key, value) VALUES ('rollup_version', '2');

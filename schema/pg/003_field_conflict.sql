-- gridbook-hq on PostgreSQL 15: the field merge at HQ, as
-- schema/server/006_field_conflict.sql has it for SQLite (the meaning of
-- each column is written there).  The current record of each record is
-- the merge of the versions held; beside it, its heads and how many field
-- conflicts the merge left open, one row per open field conflict, and the
-- report fact of records in conflict.  All per grid: every key includes
-- grid.
ALTER TABLE record_current ADD COLUMN heads text;
ALTER TABLE record_current ADD COLUMN conflicts bigint NOT NULL DEFAULT 0;

CREATE TABLE field_conflict (
	id            bytea NOT NULL,
	field         text NOT NULL,
	kind          text NOT NULL,
	grid          text NOT NULL,
	kept_version  bigint NOT NULL,
	kept_device   bytea NOT NULL,
	kept_staff    text NOT NULL DEFAULT '',
	kept_value    text,
	lost_version  bigint NOT NULL,
	lost_device   bytea NOT NULL,
	lost_staff    text NOT NULL DEFAULT '',
	lost_value    text,
	detected      bigint NOT NULL,
	PRIMARY KEY (id, field, lost_version, lost_device, grid)
);

CREATE INDEX field_conflict_grid ON field_conflict (grid, detected);

CREATE TABLE rf_conflict (
	id        bytea NOT NULL,
	kind      text NOT NULL,
	grid      text NOT NULL,
	area      text NOT NULL DEFAULT '',
	person    text NOT NULL DEFAULT '',
	day       bigint,
	conflicts bigint NOT NULL,
	PRIMARY KEY (id, grid)
);

CREATE INDEX rf_conflict_kind ON rf_conflict (kind, day);

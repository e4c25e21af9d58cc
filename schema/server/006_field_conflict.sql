-- The field merge at HQ (SPEC §4, edits).  The current record of each
-- record is the merge (common/merge.c) of the versions held; ingest keeps
-- beside it what the next version needs to be merged cheaply: the heads
-- (the versions no other version saw, as decimal versions separated by
-- commas; NULL in rows written before this, which had one head, their
-- version) and how many field conflicts the merge left open.
ALTER TABLE record_current ADD COLUMN heads TEXT;
ALTER TABLE record_current ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;

-- One row per field on which two versions of a record disagree without
-- either having seen the other, until a version that saw both resolves
-- it: the value kept (that of the newer version, or the void, which
-- stands) and the value lost, each with its version, device and staff.
-- field is the kind's field name, or "void" (its values are then the
-- void reason, '' for a void without one, or NULL for not voided).
-- detected is when HQ received the later of the two versions.  Ingest
-- writes a record's rows again each time it merges the record; not to be
-- confused with the conflict table (the same id and version received
-- twice with different content).
CREATE TABLE field_conflict (
	id            BLOB NOT NULL,
	field         TEXT NOT NULL,
	kind          TEXT NOT NULL,
	grid          TEXT NOT NULL,
	kept_version  INTEGER NOT NULL,
	kept_device   BLOB NOT NULL,
	kept_staff    TEXT NOT NULL DEFAULT '',
	kept_value    TEXT,
	lost_version  INTEGER NOT NULL,
	lost_device   BLOB NOT NULL,
	lost_staff    TEXT NOT NULL DEFAULT '',
	lost_value    TEXT,
	detected      INTEGER NOT NULL,
	PRIMARY KEY (id, field, lost_version, lost_device)
) WITHOUT ROWID;

CREATE INDEX field_conflict_grid ON field_conflict (grid, detected);

-- The report fact of records in conflict (server/rollup.c writes it,
-- server/reports.c reads it): one row per record with an open field
-- conflict, with what places it in a report's unit (its grid, its area
-- field and its officer or staff field, whose area the report looks up)
-- and its day as days since 1970-01-01, NULL for a kind without one.
CREATE TABLE rf_conflict (
	id        BLOB PRIMARY KEY,
	kind      TEXT NOT NULL,
	grid      TEXT NOT NULL,
	area      TEXT NOT NULL DEFAULT '',
	person    TEXT NOT NULL DEFAULT '',
	day       INTEGER,
	conflicts INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX rf_conflict_kind ON rf_conflict (kind, day);

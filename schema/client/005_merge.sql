-- The field merge of SPEC §4 on the laptop (client/db.c, common/merge.h).
--
-- Every version names the versions it was made from (bases: versions as
-- decimal numbers separated by spaces; NULL for a new record and for
-- versions from devices that send none) and the fields whose conflict
-- it resolves (resolves: bit i for field i, bit 16, GB_RESOLVES_VOID, for the void).
--
-- The row of table record is then one of two things.  With heads NULL it
-- is one version, the only one nobody else saw, whose content is the
-- merged record: as before, the version itself is not in record_history.
-- With heads set (the versions no other one saw, as bases are written)
-- it is the merge of every version of the record, which are all in
-- record_history, the newest included; its version, device and staff are
-- those of the newest version, and bases and resolves say nothing.  A
-- new edit names the heads (or the row's version) as its bases.
ALTER TABLE record ADD COLUMN bases TEXT;
ALTER TABLE record ADD COLUMN resolves INTEGER NOT NULL DEFAULT 0;
ALTER TABLE record ADD COLUMN heads TEXT;
ALTER TABLE record_history ADD COLUMN bases TEXT;
ALTER TABLE record_history ADD COLUMN resolves INTEGER NOT NULL DEFAULT 0;

-- The fields on which two versions of a record disagree without either
-- having seen the other, as the merge of the versions held finds them:
-- the version whose value stands (kept) and each one whose value does
-- not (lost), with the value, the author and the time of each.  field is
-- the kind's field name, or 'void' for the void, whose value is the
-- void reason of a voided version and NULL for one not voided.  Written
-- again each time a version of the record is merged; `gridbook
-- conflicts` lists and resolves them, `gridbook sync status` counts them.
CREATE TABLE field_conflict (
	id           TEXT NOT NULL,
	field        TEXT NOT NULL,
	kept_version INTEGER NOT NULL,
	kept_device  TEXT NOT NULL,
	kept_staff   TEXT NOT NULL DEFAULT '',
	kept_at      INTEGER NOT NULL,
	kept_value   TEXT,
	lost_version INTEGER NOT NULL,
	lost_device  TEXT NOT NULL,
	lost_staff   TEXT NOT NULL DEFAULT '',
	lost_at      INTEGER NOT NULL,
	lost_value   TEXT,
	PRIMARY KEY (id, field, lost_version, lost_device)
) WITHOUT ROWID;

-- gridbook-hq: the facts for the definitions of SPEC §3 as clarified.
--
-- A patrol's facts keep its leader, and the nights counted per area are
-- counted per leader too, so that a report asks the staff table for the
-- leader's role when it runs: a re-seed that changes a role then changes
-- the reports at once, with no fact left holding the old role.  Patrols
-- with two or more guards are kept whatever their leader's role.
DROP TABLE rr_night;
CREATE TABLE rr_night (
	night   INTEGER NOT NULL,
	area    TEXT NOT NULL,
	leader  TEXT NOT NULL,
	patrols INTEGER NOT NULL,
	PRIMARY KEY (night, area, leader)
) WITHOUT ROWID;
ALTER TABLE rf_patrol ADD COLUMN leader TEXT NOT NULL DEFAULT '';

-- A dispute keeps its enterprise (NULL when it names none): disputes of
-- a voided enterprise do not count.
ALTER TABLE rf_dispute ADD COLUMN enterprise BLOB;
DROP INDEX rf_dispute_day;
CREATE INDEX rf_dispute_day ON rf_dispute (day, grid, level, status,
	enterprise);

-- The facts are built again (rollup_ensure) on a store that holds
-- records; '2' is the version of the facts this schema describes.
UPDATE meta SET value = CASE WHEN EXISTS (SELECT 1 FROM record_current)
	OR EXISTS (SELECT 1 FROM batch) THEN '0' ELSE '2' END
	WHERE key = 'rollup_version';

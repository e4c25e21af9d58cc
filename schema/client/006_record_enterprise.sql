-- The enterprise a record names (its "enterprise" field; NULL for a kind
-- without one, and for the enterprises themselves) as a column of its
-- own, copied out of body when a version is stored like day and
-- community, and indexed where it is set.  It replaces the expression
-- index of 002, which parsed the JSON body of every row stored (about
-- 9,000 instructions a row, an eighth of a pull's) and held an entry for
-- every row of a kind without the field.  The index finds the
-- records that follow an enterprise to another community.  A gridbook
-- of schema 5 refuses a file of this version (its schema is newer).
ALTER TABLE record ADD COLUMN enterprise TEXT;
UPDATE record SET enterprise = json_extract(body, '$.enterprise')
	WHERE kind <> 'enterprise';
DROP INDEX record_enterprise;
CREATE INDEX record_enterprise_of ON record (enterprise)
	WHERE enterprise IS NOT NULL;

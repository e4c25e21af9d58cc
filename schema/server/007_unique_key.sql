-- The key of a kind's uniqueness rule that HQ checks (common/kinds.c:
-- an enterprise's USCC in its grid), indexed, so that ingest finds a
-- record holding the same key in a look-up, not by reading every
-- enterprise of the grid for each one that arrives.  Only enterprises
-- are in it, so that no other kind's rows pay for it.  The expression is
-- the one store_sqlite.c's find_key writes for the key field.
CREATE INDEX record_current_uscc ON record_current
	(grid, CAST(json_extract(body, '$.uscc') AS TEXT))
	WHERE kind = 'enterprise';

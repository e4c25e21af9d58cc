-- The key of a kind's uniqueness rule that HQ checks (common/kinds.c:
-- an enterprise's USCC in its grid), indexed as in
-- schema/server/007_unique_key.sql; the expression is the one
-- store_pg.c's find_key writes for the key field.  Only enterprises are
-- in it, so that no other kind's rows pay for it.
CREATE INDEX record_current_uscc ON record_current
	(grid, ((body::jsonb) ->> 'uscc'))
	WHERE kind = 'enterprise';

-- As schema/server/008_current_indexes.sql: the two indexes of
-- record_current by kind and day served no query (a record is found by
-- its id and grid, the primary key; an enterprise by its USCC, 004; the
-- facts are built again by reading every row), and each cost every
-- version applied an index entry written.
DROP INDEX IF EXISTS record_current_grid_kind;
DROP INDEX IF EXISTS record_current_kind_day;

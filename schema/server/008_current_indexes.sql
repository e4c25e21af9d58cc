-- The two indexes of record_current by kind and day were for reports that
-- counted from it; the reports read the facts of 002_reports.sql instead,
-- and nothing looks up the current records by grid, kind or day: a record
-- is found by its id (the primary key), an enterprise by its USCC (007),
-- and the facts are built again by reading every row.  Each cost every
-- version applied an index entry written (and, for an edit, one deleted).
-- A kind given a uniqueness rule later needs its own partial index, as
-- 007 gives the enterprise's.
DROP INDEX IF EXISTS record_current_grid_kind;
DROP INDEX IF EXISTS record_current_kind_day;

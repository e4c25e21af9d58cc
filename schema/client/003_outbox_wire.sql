-- Each outbox row keeps the version it logs as it goes on the wire: its
-- entry in a Batch (the records field, tag and length, then the packed
-- Record), made when the version is written.  The sync engine then builds
-- a batch by joining these bytes, without reading the version back from
-- its JSON body.  NULL (rows logged before this migration) means: pack it
-- from the stored version when it is sent.  A change of device id (sync
-- setup) packs every row again.  The bytes go when HQ acknowledges the
-- row.
ALTER TABLE outbox ADD COLUMN wire BLOB;

-- What each device still had to send when it built its latest batch
-- applied (Batch.pending, Batch.oldest_pending): the versions in its
-- outbox besides that batch and those before it, and the time the oldest
-- of them was written (ms UTC).  NULL until a device says; oldest_pending
-- NULL when nothing was left.  Read by sync-health.
ALTER TABLE device ADD COLUMN pending INTEGER;
ALTER TABLE device ADD COLUMN oldest_pending INTEGER;

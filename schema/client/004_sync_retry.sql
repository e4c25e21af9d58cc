-- Versions HQ refused for now only (a transient refusal: HQ's clock
-- behind the version's, a reference HQ does not hold yet), with its
-- reason.  They leave the outbox with the ack, as every answered version
-- does, and wait here; each round of sync puts those not queued back at
-- the end of the outbox before it pushes (queued 1), so they go again
-- unedited.  The ack of that sending removes the row, or, refused for now
-- again, makes it wait once more (queued 0, tries + 1).  `gridbook sync
-- status` shows them as waiting.
CREATE TABLE sync_retry (
	id          TEXT NOT NULL,
	version     INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	reason_code TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL DEFAULT '',
	batch       INTEGER NOT NULL DEFAULT 0,
	at          INTEGER NOT NULL,
	tries       INTEGER NOT NULL DEFAULT 1,
	queued      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (id, version)
) WITHOUT ROWID;

-- gridbook client: what the sync engine (client/sync.c) keeps in the grid
-- file besides the outbox of 001.  Its settings and progress are meta rows
-- whose keys start with "sync_": the server, the device token, the CA
-- file, the next batch number, the /v1/changes cursor, the times of the
-- last success and the last error, and that error's text.

-- The batch being delivered, at most one row: its per-device number and
-- the outbox rows lo..hi it holds.  It is written before the batch is
-- sent and removed in the transaction that records the ack, so that a
-- batch cut off by a crash, a kill or a lost link is sent again as the
-- same batch (same number, same records), which HQ answers with the ack
-- it stored the first time.
CREATE TABLE sync_batch (
	seq        INTEGER PRIMARY KEY,
	lo         INTEGER NOT NULL,
	hi         INTEGER NOT NULL,
	records    INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

-- Versions HQ refused (rejected) or set aside (conflict), with its
-- reason, shown by `gridbook sync status` until a later version of the
-- same record is accepted.
CREATE TABLE attention (
	id          TEXT NOT NULL,
	version     INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('rejected', 'conflict')),
	reason_code TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL DEFAULT '',
	batch       INTEGER NOT NULL DEFAULT 0,
	at          INTEGER NOT NULL,
	PRIMARY KEY (id, version)
) WITHOUT ROWID;

-- The records that name an enterprise (checks, disputes, employment), so
-- that storing a version of an enterprise, as sync does for every one it
-- pulls down, finds the records that follow its community (db.c) without
-- reading the whole table: a grid of tens of thousands of records is
-- pulled in seconds rather than minutes.
CREATE INDEX record_enterprise ON record (json_extract(body, '$.enterprise'))
	WHERE kind <> 'enterprise';

-- The audit log as a hash chain (SPEC §6): for each entry of audit_log
-- (same seq) the hash of the entry before it (prev; 32 zero bytes for the
-- first) and its own (hash), BLAKE2b-256 over prev and the entry's
-- fields, so that an entry edited or deleted by hand breaks the chain
-- where it was.  `gridbook-hq audit verify` walks it.  Entries written
-- before this get theirs when the store is next opened for writing
-- (store_sqlite.c, the only writer of both tables).
CREATE TABLE IF NOT EXISTS audit_chain (
	seq  INTEGER PRIMARY KEY,
	prev BLOB NOT NULL,
	hash BLOB NOT NULL
);

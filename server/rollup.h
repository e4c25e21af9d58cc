/*
 * The report facts (schema/server/002_reports.sql), kept by ingest.  For
 * every batch newly applied, inside the writer transaction, the records
 * the batch made current replace their facts (a voided record's facts are
 * removed), the counters those facts feed are adjusted, and the batch is
 * counted for its device and day.  The facts therefore commit or roll
 * back with the records they describe.  They are written through the
 * store's facts operations (store.h), so any store that has them keeps
 * them: the SQLite store and the PostgreSQL one.
 */
#ifndef GB_ROLLUP_H
#define GB_ROLLUP_H

#include <stdint.h>

#include "err.h"
#include "record.h"
#include "store.h"
#include "wire.h"

/* What applying one item of a batch made of its record's current
 * version (ingest.c). */
struct rollup_item {
	/* The record as it now stands (the item's own version, or the
	 * merge of the versions held), or NULL when the item left it as it
	 * was (a duplicate, a refusal).  Borrowed. */
	const struct gb_record *cur;
	/* Owned by ingest: cur when it is a merge, else NULL. */
	struct gb_record *merged;
	/* 1 when the record went through the merge: its conflict fact is
	 * written again, from conflicts (the field conflicts left open). */
	int remerged;
	int conflicts;
	/* 1 when the record had no current version before this item: it
	 * has no facts yet, so none are read or deleted. */
	int fresh;
};

/*
 * Brings the facts up to date after batch b of device dev was applied at
 * now_ms, done[i] saying what item i made of its record (rollup_item).
 * Called by the writer inside its transaction.  Returns 0, or -1 with
 * err (GB_EDB).
 */
int rollup_batch(struct store *st, const struct store_device *dev,
		 const struct wire_batch *b, const struct rollup_item *done,
		 int64_t now_ms, struct gb_err *err);

/*
 * Replaces the facts of record r (its current version, voided or not).
 * Inside the writer transaction.  Returns 0, or -1 with err.
 */
int rollup_record(struct store *st, const struct gb_record *r,
		  struct gb_err *err);

/*
 * Builds every fact again from the records and batches held, in one
 * transaction of its own: for a store that held records before it had
 * facts, and for tests.  Returns 0, or -1 with err.
 */
int rollup_rebuild(struct store *st, struct gb_err *err);

/* Rebuilds when the store says its facts are not built yet (a store
 * upgraded from before the facts existed); otherwise does nothing. */
int rollup_ensure(struct store *st, struct gb_err *err);

#endif

/*
 * The report facts (schema/server/002_reports.sql), kept by ingest.  For
 * every batch newly applied, inside the writer transaction, the records
 * the batch made current replace their facts (a voided record's facts are
 * removed), the counters those facts feed are adjusted, and the batch is
 * counted for its device and day.  The facts therefore commit or roll
 * back with the records they describe.  Only a SQLite store has them.
 */
#ifndef GB_ROLLUP_H
#define GB_ROLLUP_H

#include <stdint.h>

#include "err.h"
#include "record.h"
#include "store.h"
#include "wire.h"

/*
 * Brings the facts up to date after batch b of device dev was applied
 * with ack (items in the order of b) at now_ms: every item acked
 * ACCEPTED is now the current version of its record.  Called by the
 * writer inside its transaction.  Returns 0, or -1 with err (GB_EDB).
 */
int rollup_batch(struct store *st, const struct store_device *dev,
		 const struct wire_batch *b, const struct wire_ack *ack,
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

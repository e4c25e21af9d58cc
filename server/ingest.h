/*
 * Applying batches from devices (SPEC §4), by group commit.  HTTP threads
 * authenticate and decode a batch, then hand it to ingest_batch(), which
 * queues it and waits; one writer thread takes every batch waiting in the
 * queue, applies them all in one transaction, commits once and wakes each
 * waiting request with its ack.  A batch already applied (same device and
 * sequence number) gets the ack it got the first time, byte for byte, and
 * changes nothing.
 *
 * Per record, in batch order:
 *   not decodable, no device or no grid            REJECTED, with the reason
 *   not the sender's to write: a kind its role     REJECTED as forbidden,
 *     may not write, another grid, another device    and in the audit log
 *   invalid (gb_validate)                          REJECTED, with the reason
 *   ... only by HQ's clock: valid as of the        REJECTED, transient (sent
 *     version's own time, or its version more        again later, unedited)
 *     than 24 h ahead of HQ's clock
 *   a reference HQ does not hold (yet)             REJECTED, transient
 *   same id, version and device, same content      DUPLICATE
 *   same id, version and device, other content     CONFLICT (set aside)
 *   seen by a version already merged (an ancestor  STALE (history only)
 *     of a head of the record, merge.h)
 *   otherwise                                      ACCEPTED (merged in)
 * A record refused does not stop the rest of its batch.
 *
 * The current record is the merge (common/merge.h) of the versions held,
 * with its heads and field conflicts beside it (schema/server/006).  An
 * edit made from every head and newer than all of them, on a record with
 * no conflict open, is that merge by itself and costs no read of the
 * history; any other version is merged with the versions held.  So a
 * version lower than the current one but made without seeing it is
 * accepted, and its changes count.
 *
 * To a device that says it reads them (Batch.features), the ack goes in
 * compact form with HQ's high-water batch number for it, and a batch
 * numbered at or below that mark that is not the one HQ holds under its
 * number (a grid file restored from an older copy) is answered "renumber"
 * instead of 409, nothing applied (proto/gridbook.proto, Ack).  What is
 * stored is always the full ack, which an older device gets.
 */
#ifndef GB_INGEST_H
#define GB_INGEST_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "store.h"
#include "wire.h"

struct ingest;
struct ingest_item;

/*
 * What the HTTP layer lets the writer know of a batch request while the
 * writer holds it for the batch it follows (hdr.after).  held is called
 * once, when the batch starts to wait: it gives back the batch slot the
 * request took, since a held batch only waits.  gone is asked while the
 * batch waits: 1 when the device's connection is closed, and the batch
 * is then dropped (GB_EBUSY; the device sends it again in order).  Both
 * are called by the writer with its lock held, so they must be quick and
 * take no lock of their own that the HTTP threads hold while they wait
 * for ingest.  arg is borrowed.
 */
struct ingest_watch {
	void (*held)(void *arg);
	int (*gone)(void *arg);
	void *arg;
};

/*
 * One request for the writer: a batch to apply for dev, or (batch NULL)
 * an audit entry to write.  The inputs are borrowed until the request is
 * done.  rc and err are the outcome: 0 with the encoded Ack appended to
 * ack, or -1 with err (GB_ECONFLICT when the device reused a sequence
 * number for other records; GB_EBUSY when the batch it must follow,
 * hdr.after, did not come in time; GB_EDB when the store failed).
 */
struct ingest_req {
	const struct store_device *dev;
	const struct wire_batch *batch;
	const struct store_audit *audit;
	const char *seen;   /* a device caught up (ingest_seen), or NULL */
	const char *grid;   /* of seen: the device's grid */
	const char *remote; /* the peer's address, for audit entries; may be
			       NULL */
	struct gb_buf *ack;
	int rc;
	struct gb_err err;
	/* Private to ingest.c. */
	struct ingest_item *items; /* ingest_prepare's work, owned */
	unsigned char items_hash[STORE_HASH_LEN];
	int64_t wait_until;		  /* while held for hdr.after: ms */
	const struct ingest_watch *watch; /* borrowed, or NULL */
	int told_held;			  /* watch->held was called */
	int superseded; /* the device sent this batch again meanwhile */
	int renumber;	/* answered "renumber": not applied */
	int done;
	int lane; /* the writer it was given to */
	struct ingest_req *next;
};

/* Starts the writer thread on st (borrowed; it must outlive the ingest).
 * On success *out is freed by ingest_stop(). */
int ingest_start(struct ingest **out, struct store *st, struct gb_err *err);
/*
 * Starts one more writer thread, on st2: another connection of the same
 * store (borrowed; it must outlive the ingest), for a store that more
 * than one writer may write at once (PostgreSQL: store_is_pg).  The
 * writers take the grids between them: a grid's requests go to one
 * writer while any of them is queued, held or being applied there, and
 * a grid with none goes to the writer with the fewest.  Up to
 * INGEST_WRITERS_MAX writers in all; called before any request.
 */
#define INGEST_WRITERS_MAX 8
int ingest_add_writer(struct ingest *ing, struct store *st2,
		      struct gb_err *err);
/* Lets the writer finish every request already queued, then stops it and
 * frees ing.  Requests made after the stop began fail with GB_EINTR.
 * NULL is a no-op. */
void ingest_stop(struct ingest *ing);

/*
 * Whether dev may send batch b at all: dev is not a viewer and the header
 * names dev and its grid.  Returns 0, or -1 with err (GB_EFORBIDDEN)
 * naming what is not allowed; the whole batch is then refused (403).
 * What each record may be (its kind, grid and author device) is checked
 * when it is applied, and a record that breaks it is refused alone, so
 * that one such record does not block the device's queue.
 */
int ingest_check(const struct store_device *dev, const struct wire_batch *b,
		 struct gb_err *err);

/* How long a batch is held for the batch it follows (default 30 s).  The
 * holds under way end by the new bound too: 0, set before the HTTP
 * server stops (it waits for the requests under way), refuses every
 * held batch at once with GB_EBUSY. */
void ingest_set_hold(struct ingest *ing, int64_t ms);

/* What the writer's groups took lately, in µs (moving averages over its
 * last groups; 0 before the first batch), any thread: *apply a batch,
 * applied, and *commit a group's commit.  A group of n batches takes
 * about *commit + n * *apply. */
void ingest_cost_us(struct ingest *ing, int64_t *apply, int64_t *commit);
/* The nice value of the writer thread (0 to 19; it starts at 0): above
 * 0 a report or /healthz, which runs at 0 on its own thread, gets a CPU
 * before the writer when they want one at the same time.  Taken by the
 * writer at its next turn. */
void ingest_set_nice(struct ingest *ing, int nice);
/* Checks b (ingest_check), then applies it through the writer and waits.
 * On success the encoded Ack is appended to ack.  A batch held for the
 * one it follows is dropped (GB_EBUSY) when the device sends the same
 * batch again: the device started again from an earlier batch, and
 * sends the later ones again too, so those held of it are dropped as
 * well. */
int ingest_batch(struct ingest *ing, const struct store_device *dev,
		 const struct wire_batch *b, struct gb_buf *ack,
		 struct gb_err *err);
/* ingest_batch for a request from the address remote (borrowed), which
 * the audit entries of its refused records name. */
int ingest_batch_from(struct ingest *ing, const struct store_device *dev,
		      const char *remote, const struct wire_batch *b,
		      struct gb_buf *ack, struct gb_err *err);
/* ingest_batch_from, with watch (borrowed, may be NULL) told while the
 * batch is held. */
int ingest_batch_watched(struct ingest *ing, const struct store_device *dev,
			 const char *remote, const struct wire_batch *b,
			 struct gb_buf *ack, const struct ingest_watch *watch,
			 struct gb_err *err);

/* How many batches the writer holds for the batches they follow now
 * (any thread). */
size_t ingest_held(struct ingest *ing);

/*
 * Records through the writer that device (borrowed, as its grid) is caught up:
 * it has pulled the last page of its grid's changes, which a client asks for
 * only after a push that left nothing to send (client/sync.c, sync_round).
 * Its last sync becomes now and its backlog none, so an idle laptop counts
 * as synced for the completeness of a period (SPEC §3) without a batch.
 */
int ingest_seen(struct ingest *ing, const char *device, const char *grid,
		struct gb_err *err);

/* Writes an audit entry through the writer and waits. */
int ingest_audit(struct ingest *ing, const struct store_audit *a,
		 struct gb_err *err);

/*
 * The work on a batch request that needs no store, done by the HTTP
 * thread before the request is queued so that the writer does less: for
 * each record, whether the device may write it, its values as JSON, its
 * content hash and report columns, the rules it must keep that need no
 * lookup (gb_validate, as of now_ms); and the batch's items hash.
 * ingest_apply does it for a request that comes without it, and frees
 * it (ingest_req_release) when the request is done.
 */
void ingest_prepare(struct ingest_req *r, int64_t now_ms);
void ingest_req_release(struct ingest_req *r);

/*
 * The writer's work, also for tests: applies the n requests in one
 * transaction of st, each batch under its own savepoint, and fills in each
 * request's rc and err.  Access must have been checked (ingest_check).
 * A batch that names a batch to follow (hdr.after) is applied only after
 * that one is: in this transaction when it is among the requests
 * (whatever their order), else when the store holds it.  A batch whose
 * predecessor is neither is left alone with rc 1 (the writer thread holds
 * it for a later transaction).  Each batch's grid is taken first
 * (store_ops.grid_lock), all of them at the start, in order.  Returns 0
 * when the transaction committed, -1 when it failed as a whole (then
 * every request failed too, and nothing was stored); one the store lost
 * for now (GB_EBUSY: a deadlock with another server's writer, a
 * connection lost) is run again first, a few times.
 */
int ingest_apply(struct store *st, struct ingest_req *const *reqs, size_t n,
		 int64_t now_ms, struct gb_err *err);

#endif

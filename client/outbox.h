/*
 * The outbox of the grid file (SPEC §5, schema/client/003): the change log
 * of the versions written on this laptop that HQ has not answered yet,
 * the batches written down for sending (sync_batch), the versions HQ
 * refused for now (sync_retry) and those it refused or set aside
 * (attention).  This module owns those four tables: the record writers
 * append to the outbox through it, the sync engine (sync.c) reads its
 * batches, records HQ's answers and repacks it through it, and no one
 * else speaks SQL to them.
 *
 * Rows are numbered (seq) in the order they are appended; a batch is a
 * range lo..hi of them, written down under its number before it is sent,
 * so that it goes again unchanged after a crash.  All functions run in
 * the caller's transaction when one is open (db_begin), unless they say
 * otherwise, and return 0 or -1 with err filled.
 */
#ifndef GB_OUTBOX_H
#define GB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "record.h"

/*
 * Appends the change-log entry of version r, just written in the caller's
 * transaction, with its entry in a Batch once the file can sync (it holds
 * a sync token); until then the entry is left out, and outbox_repack
 * packs it when sync is set up.
 */
int outbox_append(struct gb_db *db, const struct gb_record *r,
		  struct gb_err *err);

/* One outbox row as outbox_each gives it; every pointer is borrowed for
 * the call. */
struct outbox_entry {
	int64_t seq;
	const char *id;
	uint64_t version;
	/* The version's kind when it was packed now, NULL when the row
	 * kept its entry (the kind is then not read). */
	const struct gb_kind *kind;
	const void *wire; /* the version's Batch entry, len bytes */
	size_t len;
};

/*
 * Calls cb for each outbox row seq lo..hi, at most max_n of them, in
 * order, with its version's Batch entry: the one the row keeps, or one
 * packed now from the version the file holds.  A row whose version the
 * file does not hold (a hand-edited file) leaves the outbox for the
 * attention list and is skipped.  cb returns 0 to go on, 1 to stop
 * (outbox_each then returns 0), -1 to fail (returned, err as cb left it).
 */
int outbox_each(struct gb_db *db, int64_t lo, int64_t hi, size_t max_n,
		int (*cb)(void *arg, const struct outbox_entry *e), void *arg,
		struct gb_err *err);

/* The number of outbox rows into *n. */
int outbox_count(struct gb_db *db, long *n, struct gb_err *err);
/* The number of outbox rows into *n and the HLC version of the first of
 * them into *first (0 when none), read at once. */
int outbox_pending(struct gb_db *db, long *n, uint64_t *first,
		   struct gb_err *err);

/*
 * What the outbox holds after row hi, for HQ's sync-health: *n rows (an
 * upper bound: rows numbered in order, less hi) and *oldest, the HLC
 * version of the first of them (0 when none).
 */
int outbox_after(struct gb_db *db, int64_t hi, uint64_t *n, uint64_t *oldest,
		 struct gb_err *err);

/* ---- batches written down (sync_batch) ------------------------------ */

/* The first batch written down numbered above after: 1 with its number
 * and rows, 0 when there is none. */
int outbox_batch_next(struct gb_db *db, uint64_t after, uint64_t *seq,
		      int64_t *lo, int64_t *hi, struct gb_err *err);
/* The highest number and the highest row of the batches written down
 * (0 when none); either pointer may be NULL. */
int outbox_batch_top(struct gb_db *db, uint64_t *seq, int64_t *hi,
		     struct gb_err *err);
/* Writes down batch seq of the n rows lo..hi. */
int outbox_batch_add(struct gb_db *db, uint64_t seq, int64_t lo, int64_t hi,
		     size_t n, struct gb_err *err);
/* Forgets batch seq (never sent, or empty). */
int outbox_batch_drop(struct gb_db *db, uint64_t seq, struct gb_err *err);
/* Gives batch seq the number to. */
int outbox_batch_renumber(struct gb_db *db, uint64_t seq, uint64_t to,
			  struct gb_err *err);
/* The oldest batch written down: its number and records into *seq and
 * *n, both 0 when none. */
int outbox_batch_first(struct gb_db *db, uint64_t *seq, long *n,
		       struct gb_err *err);

/* ---- HQ's answers ---------------------------------------------------- */

enum outbox_fate {
	OUTBOX_STAYS,	 /* not answered: goes in the next batch */
	OUTBOX_TAKEN,	 /* accepted, duplicate or stale */
	OUTBOX_WAITING,	 /* refused for now: sync_retry */
	OUTBOX_REJECTED, /* refused: attention */
	OUTBOX_CONFLICT, /* set aside: attention */
};

/* One version of a batch with what HQ answered; borrowed for the call. */
struct outbox_answer {
	int64_t seq; /* its outbox row */
	const char *id;
	uint64_t version;
	const struct gb_kind *kind; /* NULL: the record's, looked up */
	enum outbox_fate fate;
	const char *reason_code, *reason; /* HQ's words, or NULL */
};

/*
 * Records the answers to batch seq of rows lo..hi, in the caller's
 * transaction: the versions answered leave the outbox (one range DELETE
 * when all are), those taken clear the refusals of earlier versions of
 * their record, the refused ones go into the attention list and those
 * refused for now into sync_retry, which forgets the versions sent again
 * from there and answered otherwise.  The batch's row is the guard: when
 * it is gone another process recorded this batch first, and nothing is
 * touched.  Returns 1 when recorded, 0 when the guard was gone, -1.
 */
int outbox_ack(struct gb_db *db, uint64_t seq, int64_t lo, int64_t hi,
	       const struct outbox_answer *a, size_t n, struct gb_err *err);

/* ---- versions refused for now (sync_retry) --------------------------- */

/* A version by record id. */
struct outbox_key {
	char id[GB_ID_LEN];
	uint64_t version;
};

/*
 * Puts the versions refused for now back at the end of the outbox, in a
 * transaction of its own, unless they are queued there already.  Their
 * entries are packed when they are sent.
 */
int outbox_retry_requeue(struct gb_db *db, struct gb_err *err);
/* The versions refused for now and not queued whose version lies above
 * ceiling (or is stored negative), oldest first: in *out (caller frees),
 * *n of them. */
int outbox_retry_above(struct gb_db *db, uint64_t ceiling,
		       struct outbox_key **out, size_t *n, struct gb_err *err);
/* Version old of id, refused for now, was re-stamped as version to: it
 * goes into the outbox again (queued).  With to 0 it is gone (nothing to
 * send) and is forgotten. */
int outbox_retry_restamped(struct gb_db *db, const char *id, uint64_t old,
			   uint64_t to, struct gb_err *err);

/* ---- the attention list ---------------------------------------------- */

/* One refused version as outbox_attention_each gives it; borrowed for
 * the call. */
struct outbox_refused {
	const char *id;
	uint64_t version;
	const char *kind, *status, *reason_code, *reason;
	int64_t at;	   /* ms UTC */
	const char *title; /* the record's title, NULL when none */
};

/* Calls cb for the refused versions (attention), or when waiting is set
 * for those refused for now (sync_retry, status "waiting"), newest
 * first.  cb returns 0 to go on, -1 to stop (returned). */
int outbox_attention_each(struct gb_db *db, int waiting,
			  int (*cb)(void *arg, const struct outbox_refused *a),
			  void *arg, struct gb_err *err);

/* ---- repacking ------------------------------------------------------- */

enum outbox_pack {
	OUTBOX_PACK_MISSING, /* the rows without an entry (sync setup) */
	OUTBOX_PACK_ALL,     /* every row (the device id changed) */
	OUTBOX_UNPACK,	     /* drop every entry (no token to pack under) */
};

/* Packs again the Batch entries of the outbox rows from the versions the
 * file holds, as how says, in the caller's transaction; what names the
 * step in err. */
int outbox_repack(struct gb_db *db, enum outbox_pack how, const char *what,
		  struct gb_err *err);

#endif

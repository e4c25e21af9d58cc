/*
 * The sync engine (sync.h): the outbox goes up in numbered batches and the
 * grid's changes come down in pages, with every step that matters made
 * durable in the grid file before the next one starts.
 *
 * Delivery is exactly-once because of the order of three transactions.
 * First the batch's identity (its number and the outbox rows lo..hi it
 * holds) is written to table sync_batch.  Then it is sent, outside any
 * transaction, so that the CLI can write while the network is slow.  Only
 * when the ack is in hand does one transaction remove the acknowledged
 * outbox rows, keep the refused ones in table attention, drop the
 * sync_batch row and advance the batch number.  A process killed anywhere
 * in between finds the sync_batch row on its next start and sends the
 * same batch again: same number, same versions loaded from record or
 * record_history (a version's content never changes), which HQ answers
 * with the ack it stored when it first applied the batch.  Rows are
 * appended to the outbox with ever larger seq while the batch's last row
 * is still there, so lo..hi keeps meaning the same rows.
 *
 * The client and HQ work at the same time: up to SYNC_WINDOW batches are
 * on the wire at once, each on its own connection, and one more is loaded,
 * written down (its own sync_batch row) and deflated meanwhile.  Each
 * names the batch before it (hdr.after), and HQ applies a batch only once
 * it holds that one, so a device's batches are still applied in order
 * (a check may name an enterprise of the batch before) while HQ decodes
 * one as it applies another.  Acks are recorded in order, each in one
 * transaction with writing down the next batch, so the grid file is
 * written once per batch.  After a crash the batches written down go
 * again, in order, as they were.  A batch written down behind those on
 * the wire was never sent, so it may be dropped and built again (when an
 * ack leaves versions out, which must go first).  A push sends one batch
 * alone until HQ acknowledges one in full, so that a number HQ holds for
 * other content (a file restored from a copy) is found out with nothing
 * behind it, and renumbered.
 *
 * `gridbook sync` and the daemon may work on one file at once.  Both then
 * find the same batches in sync_batch and send them; HQ applies each
 * once, and the process whose ack comes second finds the batch's row gone
 * and leaves everything as it is.  The row guards the outbox rows too:
 * while it is there they are the batch's (outbox seq numbers start again
 * from 1 only when the outbox empties), so one range DELETE removes them.
 * Batch numbers only ever grow.
 *
 * The tables behind all this (outbox, sync_batch, sync_retry, attention)
 * belong to outbox.c, which reads a batch's rows with their packed Batch
 * entries and records what HQ answered; this file decides what to send,
 * when, and what an answer means, and speaks no SQL.
 *
 * Going down, each page of /v1/changes is applied together with the
 * cursor that follows it, so a page is either applied and passed or
 * fetched again.
 *
 * Batches say that this end reads compact acks (Batch.features): an ack
 * then names only the versions HQ did not accept, and says HQ's
 * high-water batch number for the device.  A grid file restored from an
 * older copy numbers its batches from where the copy stood, below what HQ
 * holds from the device; HQ answers such a batch "renumber" (never 409),
 * and any ack or page whose high-water lies above every number this file
 * gave tells the same.  The file then numbers its batches above HQ's mark
 * (the batch at hand takes the next number, those built behind it are
 * built again), and notes the mark it had (meta sync_own_seq), which its
 * pulls send as seq= until one ends: HQ then serves the device its own
 * records from the file's cursor too, so the records the copy lacks come
 * back.  Nothing is applied twice: the versions the copy still held as
 * unsent go again and come back duplicate.
 *
 * A version refused for now (transient: HQ's clock, a reference HQ does
 * not hold yet) leaves the outbox with its ack into table sync_retry, and
 * the next round puts it back at the end of the outbox before it pushes.
 * A round that finds HQ busy (503, 429) waits what HQ asked plus a random
 * part, and pushes again from the first batch not acknowledged, up to a
 * bound on its waiting (sync_opts.retry_for_ms).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "outbox.h"
#include "sync.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

/* How many times one push renumbers a batch whose number HQ already
 * holds under other content before giving up for this round. */
#define MAX_RENUMBER 32
/* A guard against a server whose pages never end. */
#define MAX_PAGES 100000

/* item.ack of a version a compact ack does not name: accepted. */
#define ACK_ACCEPTED (-2)

/* One record of a batch: what its ack is matched against. */
struct item {
	int64_t oseq; /* its outbox row */
	uint64_t version;
	const struct gb_kind *kind;
	char id[GB_ID_LEN];
	/* The ack item that names it, -1 while none, ACK_ACCEPTED. */
	long ack;
};

/* A batch: its identity as written in sync_batch, its records, and its
 * body as sent. */
struct batch {
	uint64_t seq;
	uint64_t after; /* the batch it follows on the wire, 0: none */
	int64_t lo, hi;
	/* What the outbox holds after hi, told to HQ (batch_backlog). */
	int has_backlog;
	uint64_t backlog;
	int64_t backlog_oldest; /* Unix ms of the first of them, 0: none */
	size_t n, alloc;
	struct item *items;   /* owned */
	struct gb_buf packed; /* the records as Batch entries */
	struct gb_buf body;   /* the deflated Batch numbered seq */
};

/* ---- small helpers ------------------------------------------------------ */

/* Copies s (NULL as "") into out of n bytes, cut to fit. */
static void copy_str(char *out, size_t n, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= n)
		len = n - 1;
	memcpy(out, s ? s : "", len);
	out[len] = '\0';
}

/* A meta value as an unsigned number; def when unset or not a number. */
static uint64_t meta_u64(struct gb_db *db, const char *key, uint64_t def)
{
	char *v = db_meta_get(db, key), *end;
	unsigned long long n;

	if (!v)
		return def;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *end)
		n = def;
	free(v);
	return n;
}

static int meta_set_u64(struct gb_db *db, const char *key, uint64_t v,
			struct gb_err *err)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	return db_meta_set(db, key, s, err);
}

static int meta_set_i64(struct gb_db *db, const char *key, int64_t v,
			struct gb_err *err)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return db_meta_set(db, key, s, err);
}

static int stopped(const struct sync_opts *o)
{
	return o && o->stop && *o->stop;
}

/* Records a batch: --batch-records, but never more than HQ takes in one
 * (WIRE_MAX_RECORDS), which would have the batch refused every time. */
static size_t opt_records(const struct sync_opts *o)
{
	size_t n = o && o->max_records ? o->max_records : SYNC_MAX_RECORDS;

	return n < WIRE_MAX_RECORDS ? n : WIRE_MAX_RECORDS;
}

static size_t opt_bytes(const struct sync_opts *o)
{
	return o && o->max_bytes ? o->max_bytes : SYNC_MAX_BYTES;
}

/* ---- the batch ---------------------------------------------------------- */

static void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	gb_buf_init(&b->packed, GB_BUF_NOLIMIT);
	gb_buf_init(&b->body, GB_BUF_NOLIMIT);
}

/* Empties b for another batch, keeping its memory. */
static void batch_clear(struct batch *b)
{
	b->seq = 0;
	b->after = 0;
	b->lo = b->hi = 0;
	b->has_backlog = 0;
	b->backlog = 0;
	b->backlog_oldest = 0;
	b->n = 0;
	gb_buf_reset(&b->packed);
	gb_buf_reset(&b->body);
}

static void batch_release(struct batch *b)
{
	free(b->items);
	gb_buf_release(&b->packed);
	gb_buf_release(&b->body);
	memset(b, 0, sizeof(*b));
}

/* Appends the item of version v of record id (of kind k, NULL when not
 * read) with its outbox row. */
static void batch_add(struct batch *b, const char *id, uint64_t v,
		      const struct gb_kind *k, int64_t oseq)
{
	struct item *it;

	if (b->n == b->alloc) {
		b->alloc = b->alloc ? 2 * b->alloc : 64;
		b->items = xrealloc(b->items, b->alloc * sizeof(*b->items));
	}
	it = &b->items[b->n++];
	it->oseq = oseq;
	it->version = v;
	it->kind = k;
	copy_str(it->id, sizeof(it->id), id);
	it->ack = -1;
}

/* What batch_fill adds the rows of the outbox to. */
struct fill {
	struct batch *b;
	const struct sync_io *io;
	size_t max_bytes;
	struct gb_err *err;
};

static int fill_one(void *arg, const struct outbox_entry *e)
{
	struct fill *f = arg;
	struct batch *b = f->b;

	if (b->n > 0 && b->packed.len + e->len > f->max_bytes)
		return 1;
	if (gb_buf_add(&b->packed, e->wire, e->len, f->err))
		return -1;
	batch_add(b, e->id, e->version, e->kind, e->seq);
	if (f->io && f->io->post_poll && b->n % 32 == 0)
		f->io->post_poll(f->io->arg);
	return 0;
}

/*
 * Loads into b the versions of the outbox rows lo..hi, at most max_n of
 * them and max_bytes of packed records (but always at least one), as
 * outbox_each gives them.  io->post_poll, when there is one, is called
 * now and then, so that the batches on the wire meanwhile move on.  b->lo
 * and b->hi become the rows taken.  Returns 0 (b->n may be 0) or -1.
 */
static int batch_fill(struct gb_db *db, const struct sync_io *io,
		      struct batch *b, int64_t lo, int64_t hi, size_t max_n,
		      size_t max_bytes, struct gb_err *err)
{
	struct fill f = {b, io, max_bytes, err};

	if (outbox_each(db, lo, hi, max_n, fill_one, &f, err))
		return -1;
	if (b->n) {
		b->lo = b->items[0].oseq;
		b->hi = b->items[b->n - 1].oseq;
	}
	return 0;
}

/*
 * Notes in b what the outbox holds after it, in the caller's transaction,
 * for HQ's sync-health: rows are numbered in the order they are written,
 * so the last number less b->hi counts them, two key look-ups instead of a
 * count that would grow with the backlog on every batch.  Rows that left
 * the outbox out of order (a version dropped as missing) still count, so
 * the figure is an upper bound.  It is a report, not part of the batch:
 * when it cannot be read the batch goes without it.
 */
static void batch_backlog(struct gb_db *db, struct batch *b)
{
	struct gb_err ignored;
	uint64_t next;

	memset(&ignored, 0, sizeof(ignored));
	b->has_backlog = 0;
	if (outbox_after(db, b->hi, &b->backlog, &next, &ignored))
		return;
	b->backlog_oldest = next > 0 ? gb_hlc_ms(next) : 0;
	if (!b->backlog_oldest)
		b->backlog = 0;
	/* HQ refuses a batch whose figures are absurd (wire.c): a version
	 * stamped past 2999 must not hold up the push for ever. */
	b->has_backlog =
	    b->backlog <= WIRE_MAX_PENDING &&
	    (!b->backlog_oldest || gb_time_sane(b->backlog_oldest));
}

/* Deflates b's records under its number into b->body, with the backlog
 * batch_take noted. */
static int batch_encode(struct gb_db *db, struct batch *b, struct gb_err *err)
{
	struct wire_batch_hdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	copy_str(hdr.device, sizeof(hdr.device), db_device(db));
	copy_str(hdr.grid, sizeof(hdr.grid), db_grid(db));
	hdr.seq = b->seq;
	hdr.after = b->after;
	hdr.has_pending = b->has_backlog;
	hdr.pending = b->backlog;
	hdr.oldest_pending = b->backlog_oldest;
	hdr.features = WIRE_FEATURE_ACK;
	return wire_batch_encode_packed(&hdr, b->packed.data, b->packed.len,
					&b->body, err);
}

/*
 * Takes the batch that goes after batch number after (0: the first one),
 * in the caller's transaction: the sync_batch row numbered above after,
 * loaded again with the same versions (it was written down before a
 * crash, a kill or a lost link, or by the other process); else the next
 * outbox rows, after those of every written-down batch, under the next
 * number, written down.  b->after becomes after: HQ applies b only once
 * it holds that batch.  Returns 1 with b filled (not deflated yet), 0
 * when there is nothing to send, -1.
 */
static int batch_take(struct gb_db *db, const struct sync_opts *o,
		      const struct sync_io *io, uint64_t after, struct batch *b,
		      struct gb_err *err)
{
	int64_t from, lo, hi;
	uint64_t next, top;
	int rc, ret = -1;

	batch_clear(b);
	rc = outbox_batch_next(db, after, &b->seq, &lo, &hi, err);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		if (batch_fill(db, io, b, lo, hi, SIZE_MAX, SIZE_MAX, err))
			goto out;
		if (b->n) {
			/* As written down, which the ack is recorded
			 * against, whatever rows of it are left. */
			b->lo = lo;
			b->hi = hi;
			ret = 1;
			goto out;
		}
		/* Nothing of it is left (only a hand-edited file gets
		 * here): let it go and build a new one. */
		next = meta_u64(db, "sync_next_seq", 1);
		if (outbox_batch_drop(db, b->seq, err) ||
		    meta_set_u64(db, "sync_next_seq",
				 next > b->seq ? next : b->seq + 1, err))
			goto out;
	}
	batch_clear(b);
	/* A new batch takes the rows after those of the batches written
	 * down, and a number above theirs. */
	if (outbox_batch_top(db, &top, &from, err))
		goto out;
	next = meta_u64(db, "sync_next_seq", 1);
	b->seq = next > top ? next : top + 1;
	if (b->seq == 0)
		b->seq = 1;
	if (batch_fill(db, io, b, from + 1, INT64_MAX, opt_records(o),
		       opt_bytes(o), err))
		goto out;
	if (b->n == 0) {
		ret = 0;
		goto out;
	}
	if (outbox_batch_add(db, b->seq, b->lo, b->hi, b->n, err))
		goto out;
	ret = 1;
out:
	if (ret <= 0) {
		batch_clear(b);
	} else {
		b->after = after;
		batch_backlog(db, b);
	}
	return ret;
}

/* batch_take in a transaction of its own, so that a batch is either
 * fully written down or not at all, then deflated outside it.  Returns
 * as batch_take. */
static int batch_prepare(struct gb_db *db, const struct sync_opts *o,
			 const struct sync_io *io, uint64_t after,
			 struct batch *b, struct gb_err *err)
{
	int rc;

	if (db_begin(db, err))
		return -1;
	rc = batch_take(db, o, io, after, b, err);
	if (rc < 0) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db, err) || (rc == 1 && batch_encode(db, b, err))) {
		batch_clear(b);
		return -1;
	}
	return rc;
}

/*
 * Forgets batch b, written down but never sent: it is built again later
 * (from the same rows, under the same number or the next).  Only a batch
 * that waits behind one in flight is ever dropped, and nothing is sent
 * after a batch whose ack is not recorded, so HQ has not seen it.
 */
static int batch_drop(struct gb_db *db, struct batch *b, struct gb_err *err)
{
	int rc = outbox_batch_drop(db, b->seq, err);

	batch_clear(b);
	return rc;
}

/* The highest batch number this file ever gave, into *out: the next
 * number less one, or a batch written down above it. */
static int file_high(struct gb_db *db, uint64_t *out, struct gb_err *err)
{
	uint64_t next = meta_u64(db, "sync_next_seq", 1), top;

	if (outbox_batch_top(db, &top, NULL, err))
		return -1;
	*out = next > 0 ? next - 1 : 0;
	if (top > *out)
		*out = top;
	return 0;
}

/*
 * HQ holds batches of this device up to hq, above every number this file
 * gave (high): the file was restored from an older copy.  In the caller's
 * transaction, new batches are numbered above hq from now on, and the
 * file notes its mark (sync_own_seq, unless noted already), which its
 * pulls send until one ends, so that HQ serves the device its own records
 * back.  Nothing happens when hq is not above high.
 */
static int note_behind(struct gb_db *db, uint64_t high, uint64_t hq,
		       struct gb_err *err)
{
	char *own;

	if (hq <= high)
		return 0;
	own = db_meta_get(db, "sync_own_seq");
	if (!own && meta_set_u64(db, "sync_own_seq", high, err))
		return -1;
	free(own);
	if (meta_u64(db, "sync_next_seq", 1) <= hq)
		return meta_set_u64(db, "sync_next_seq", hq + 1, err);
	return 0;
}

/*
 * Gives the batch in flight a new number after HQ said that it holds
 * another batch under this one (a grid file restored from a copy sends
 * numbers it already used), above hq (HQ's high-water when it said it,
 * else 0), and deflates it again.  The batch was not
 * applied under the old number, so sending it under a new one loses and
 * repeats nothing.  No batch may wait behind it (see batch_drop).
 */
static int batch_renumber(struct gb_db *db, struct batch *b, uint64_t hq,
			  struct gb_err *err)
{
	uint64_t next, fresh, high, top;

	if (db_begin(db, err))
		return -1;
	if (file_high(db, &high, err) || outbox_batch_top(db, &top, NULL, err))
		goto fail;
	next = meta_u64(db, "sync_next_seq", 1);
	fresh = next > b->seq ? next : b->seq;
	if (top > fresh)
		fresh = top;
	/* Above HQ's mark, when a renumber answer said it. */
	if (hq > fresh)
		fresh = hq;
	fresh++;
	if (note_behind(db, high, hq, err))
		goto fail;
	if (outbox_batch_renumber(db, b->seq, fresh, err) ||
	    meta_set_u64(db, "sync_next_seq", fresh, err))
		goto fail;
	batch_backlog(db, b);
	if (db_commit(db, err))
		return -1;
	b->seq = fresh;
	return batch_encode(db, b, err);
fail:
	db_rollback(db);
	return -1;
}

/* ---- the ack ------------------------------------------------------------ */

/* The index in b of the version an ack item names, looking first where it
 * should be (items come in batch order); -1 when none. */
static long batch_find(const struct batch *b, size_t hint,
		       const struct wire_ack_item *it)
{
	if (hint < b->n && b->items[hint].ack < 0 &&
	    b->items[hint].version == it->version &&
	    strcmp(b->items[hint].id, it->id) == 0)
		return (long)hint;
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].ack < 0 && b->items[i].version == it->version &&
		    strcmp(b->items[i].id, it->id) == 0)
			return (long)i;
	return -1;
}

/* Marks the versions of b that ack a names; a compact ack accepted the
 * others (ACK_ACCEPTED).  Returns 1 when it answers them all, 0 when it
 * leaves some out. */
static int ack_match(struct batch *b, const struct wire_ack *a)
{
	size_t matched = 0;

	for (size_t k = 0; k < a->n; k++) {
		long i = batch_find(b, k, &a->items[k]);

		if (i >= 0) {
			b->items[i].ack = (long)k;
			matched++;
		}
	}
	for (size_t i = 0; a->records && i < b->n; i++) {
		if (b->items[i].ack == -1) {
			b->items[i].ack = ACK_ACCEPTED;
			matched++;
		}
	}
	return matched == b->n;
}

/* 1 when the ack answers batch b: its number (when sent) is b's, and it
 * names at least one of b's versions, or (compact) it counts as many
 * records as b holds. */
static int ack_matches(const struct batch *b, const struct wire_ack *a)
{
	if (a->seq && a->seq != b->seq)
		return 0;
	if (a->records)
		return a->seq == b->seq && a->records == b->n;
	for (size_t k = 0; k < a->n; k++)
		if (batch_find(b, k, &a->items[k]) >= 0)
			return 1;
	return 0;
}

/*
 * Records the ack a of batch b (matched by ack_match), in the caller's
 * transaction: the versions HQ took (accepted, duplicate, stale) leave
 * the outbox and clear any refusal of an earlier version of their record;
 * refused ones (rejected, conflict) leave it too and go into the
 * attention list with HQ's reason, but those refused for now (transient)
 * into sync_retry, for the next round; versions the ack does not name
 * stay for the next batch.  The batch is done and the next number is set.
 * What the ack said is added to r.
 *
 * The batch's sync_batch row is the guard: while it is there nobody has
 * recorded this ack, and the outbox rows lo..hi are the batch's own (its
 * last row is there, so a new row takes a higher seq).  When it is gone,
 * the other process recorded the ack first and nothing is touched.  With
 * the guard held and every version named, one range DELETE removes the
 * batch's rows.
 */
static int ack_record(struct gb_db *db, const struct batch *b,
		      const struct wire_ack *a, struct sync_result *r,
		      struct gb_err *err)
{
	static const struct wire_ack_item accepted = {.status = WIRE_ACCEPTED};
	struct outbox_answer *ans = xcalloc(b->n ? b->n : 1, sizeof(*ans));
	struct sync_result got = {0};
	int64_t now = gb_now_ms();
	int rc = -1, recorded;
	uint64_t next;

	for (size_t i = 0; i < b->n; i++) {
		const struct item *rec = &b->items[i];
		struct outbox_answer *x = &ans[i];
		const struct wire_ack_item *it;

		x->seq = rec->oseq;
		x->id = rec->id;
		x->version = rec->version;
		x->kind = rec->kind;
		x->fate = OUTBOX_STAYS;
		if (rec->ack == -1)
			continue;
		it = rec->ack >= 0 ? &a->items[rec->ack] : &accepted;
		x->reason_code = it->reason_code;
		x->reason = it->reason;
		got.sent++;
		switch (it->status) {
		case WIRE_ACCEPTED:
			got.accepted++;
			x->fate = OUTBOX_TAKEN;
			break;
		case WIRE_DUPLICATE:
			got.duplicate++;
			x->fate = OUTBOX_TAKEN;
			break;
		case WIRE_STALE:
			got.stale++;
			x->fate = OUTBOX_TAKEN;
			break;
		case WIRE_REJECTED:
			if (it->transient) {
				got.waiting++;
				x->fate = OUTBOX_WAITING;
				break;
			}
			got.rejected++;
			x->fate = OUTBOX_REJECTED;
			break;
		case WIRE_CONFLICT:
			got.conflict++;
			x->fate = OUTBOX_CONFLICT;
			break;
		}
	}
	recorded = outbox_ack(db, b->seq, b->lo, b->hi, ans, b->n, err);
	if (recorded < 0)
		goto out;
	/* Not recorded: another process (gridbook sync beside the daemon)
	 * sent this batch too and recorded its ack first; its counts are
	 * that process's. */
	if (recorded) {
		r->sent += got.sent;
		r->accepted += got.accepted;
		r->duplicate += got.duplicate;
		r->stale += got.stale;
		r->rejected += got.rejected;
		r->conflict += got.conflict;
		r->waiting += got.waiting;
	}
	/* HQ's clock, for the warning of a clock far off and for
	 * re-stamping (retry_restamp); one outside the years a date may be
	 * written in is no clock. */
	if (a->server_time && gb_time_sane(a->server_time)) {
		r->hq_time = a->server_time;
		r->hq_skew = a->server_time - now;
		if (meta_set_i64(db, "sync_hq_time", r->hq_time, err) ||
		    meta_set_i64(db, "sync_hq_skew", r->hq_skew, err))
			goto out;
	}
	/* Never lower: a `gridbook sync` and the daemon may both have sent
	 * this batch, and the other may have gone on since. */
	next = meta_u64(db, "sync_next_seq", 1);
	if (next < b->seq + 1)
		next = b->seq + 1;
	if (meta_set_u64(db, "sync_next_seq", next, err) ||
	    meta_set_i64(db, "sync_last_ok", now, err))
		goto out;
	rc = 0;
out:
	free(ans);
	return rc;
}

static void result_add(struct sync_result *res, const struct sync_result *r)
{
	res->batches++;
	res->sent += r->sent;
	res->accepted += r->accepted;
	res->duplicate += r->duplicate;
	res->stale += r->stale;
	res->rejected += r->rejected;
	res->conflict += r->conflict;
	res->waiting += r->waiting;
	if (r->hq_time) {
		res->hq_time = r->hq_time;
		res->hq_skew = r->hq_skew;
	}
}

/*
 * Records the ack of b and, when after is not NULL, takes the batch that
 * follows the one numbered after_seq into *after (batch_take), in one
 * transaction: the grid file is written once per batch.  Returns 0 (with
 * *taken the result of batch_take), or -1 with nothing recorded.
 */
static int ack_apply(struct gb_db *db, const struct sync_opts *o,
		     const struct sync_io *io, const struct batch *b,
		     const struct wire_ack *a, struct batch *after,
		     uint64_t after_seq, int *taken, struct sync_result *res,
		     struct gb_err *err)
{
	struct sync_result r = {0};
	uint64_t high = 0;
	int rc = 0, failed;

	if (taken)
		*taken = 0;
	if (db_begin(db, err))
		return -1;
	/* HQ's mark above every number given here: a restored file. */
	failed =
	    (a->device_seq && (file_high(db, &high, err) ||
			       note_behind(db, high, a->device_seq, err))) ||
	    ack_record(db, b, a, &r, err);
	if (!failed && after) {
		rc = batch_take(db, o, io, after_seq, after, err);
		failed = rc < 0;
	}
	if (failed) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db, err)) {
		if (after)
			batch_clear(after);
		return -1;
	}
	result_add(res, &r);
	if (taken)
		*taken = rc;
	if (rc == 1 && batch_encode(db, after, err)) {
		*taken = 0;
		return -1;
	}
	return 0;
}

/* ---- pushing ------------------------------------------------------------ */

/* Tells the caller how far the push is. */
static void progress(const struct sync_opts *o, const struct sync_result *res,
		     long start, long total)
{
	long done = res->sent - start;

	if (o && o->progress)
		o->progress(o->progress_arg, done, total > done ? total : done);
}

/*
 * The batches of a push, in the order they go: q[0..sent) on the wire
 * (req their requests), q[sent..n) written down and deflated, not sent.
 * Each names the one before it in hdr.after.
 */
struct queue {
	struct batch *q[SYNC_WINDOW + 1];
	int req[SYNC_WINDOW + 1];
	struct batch store[SYNC_WINDOW + 2];
	size_t n, sent;
	struct batch *spare;
};

static void queue_init(struct queue *qu)
{
	memset(qu, 0, sizeof(*qu));
	for (size_t i = 0; i < SYNC_WINDOW + 2; i++)
		batch_init(&qu->store[i]);
	for (size_t i = 0; i < SYNC_WINDOW + 1; i++)
		qu->q[i] = &qu->store[i];
	qu->spare = &qu->store[SYNC_WINDOW + 1];
}

static void queue_release(struct queue *qu)
{
	for (size_t i = 0; i < SYNC_WINDOW + 2; i++)
		batch_release(&qu->store[i]);
}

/* The number of the last batch of the queue, 0 when it is empty. */
static uint64_t queue_last(const struct queue *qu)
{
	return qu->n ? qu->q[qu->n - 1]->seq : 0;
}

/* Moves the spare batch (just taken) to the end of the queue. */
static void queue_push(struct queue *qu)
{
	struct batch *t = qu->q[qu->n];

	qu->q[qu->n] = qu->spare;
	qu->req[qu->n] = -1;
	qu->spare = t;
	batch_clear(qu->spare);
	qu->n++;
}

/* Takes q[0] off the queue (its ack is recorded). */
static void queue_pop(struct queue *qu)
{
	struct batch *t = qu->q[0];

	for (size_t i = 1; i < qu->n; i++) {
		qu->q[i - 1] = qu->q[i];
		qu->req[i - 1] = qu->req[i];
	}
	qu->n--;
	qu->sent--;
	qu->q[qu->n] = t;
	batch_clear(t);
}

/* Forgets the batches written down and not sent: they are built again
 * later, from the same rows (nothing was sent after them). */
static int queue_drop(struct gb_db *db, struct queue *qu, struct gb_err *err)
{
	while (qu->n > qu->sent) {
		if (batch_drop(db, qu->q[qu->n - 1], err))
			return -1;
		qu->n--;
	}
	return 0;
}

/* Abandons the requests behind the first one on the wire: their batches
 * stay written down, to be dropped (queue_drop) or sent again. */
static void queue_abort_behind(struct queue *qu, const struct sync_io *io)
{
	for (size_t i = 1; i < qu->sent; i++) {
		if (qu->req[i] >= 0)
			io->post_abort(io->arg, qu->req[i]);
		qu->req[i] = -1;
	}
	if (qu->sent > 1)
		qu->sent = 1;
}

/*
 * Sends batches until the outbox is empty, or only one when one is set.
 *
 * Up to SYNC_WINDOW batches are on the wire at once, each on its own
 * connection, and one more is loaded, written down and deflated while
 * they are: HQ decodes the next while it applies one, and applies a
 * device's batches in order because each names the one before it
 * (hdr.after) and HQ holds it until that one is applied.  Acks are
 * recorded in order, each in one transaction with taking the next batch.
 * Every batch sent is written down before, and stays so until its ack
 * is recorded, so a crash or a failed request leaves batches that go
 * again, in order, as they were, and HQ answers those it applied with
 * their stored acks.  One batch goes alone until HQ has acknowledged one
 * of this push in full: HQ holding a batch's number for other content (a
 * file restored from a copy) is found out then, and the batch is
 * renumbered, with nothing sent behind it.  An ack that leaves versions
 * out puts the push back to one batch at a time and those versions go
 * next.  When a request fails, those behind it are abandoned and the
 * push fails.  Returns 1 when at least one ack was recorded, 0 when
 * nothing was pending, -1 on error.
 */
static int push(struct gb_db *db, const struct sync_io *io,
		const struct sync_opts *o, struct sync_result *res, int one,
		struct gb_err *err)
{
	struct queue qu;
	struct gb_err later = {GB_OK, ""};
	struct wire_ack ack;
	struct gb_buf resp;
	long total = 0, start = res->sent;
	size_t window = 1;
	int failed_later = 0, no_more = 0, tries = 0, behind;
	int rc, ret = 0;

	memset(&ack, 0, sizeof(ack));
	queue_init(&qu);
	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	if (!one && o && o->progress) {
		if (outbox_count(db, &total, err))
			goto fail;
	}
	rc = batch_prepare(db, o, io, 0, qu.spare, err);
	if (rc <= 0) {
		ret = rc;
		goto out;
	}
	queue_push(&qu);
	for (;;) {
		struct batch *take;
		int whole, taken = 0;

		/* On the wire, in order, as many as the window takes. */
		while (qu.sent < qu.n && qu.sent < window && !stopped(o)) {
			struct batch *b = qu.q[qu.sent];

			if (io->post_start(io->arg, b->body.data, b->body.len,
					   &qu.req[qu.sent], err))
				goto fail;
			qu.sent++;
		}
		if (qu.sent == 0) {
			gb_error(err, GB_EINTR, _("stopped"));
			goto fail;
		}
		/* One more written down while they fly. */
		if (!one && !no_more && !failed_later && qu.n == qu.sent &&
		    qu.n < SYNC_WINDOW + 1 && !stopped(o)) {
			rc = batch_prepare(db, o, io, queue_last(&qu), qu.spare,
					   &later);
			failed_later = rc < 0;
			no_more = rc == 0;
			if (rc > 0)
				queue_push(&qu);
			continue;
		}

		gb_buf_reset(&resp);
		wire_ack_release(&ack);
		rc = io->post_finish(io->arg, qu.req[0], &resp, err);
		qu.req[0] = -1; /* over */
		if (rc == 0 &&
		    wire_ack_decode(resp.data, resp.len, &ack, err) < 0) {
			gb_error_prefix(err, _("ack of batch %" PRIu64),
					qu.q[0]->seq);
			goto fail;
		}
		/* HQ holds batches of this device up to device_seq, this
		 * number among them for other records (a restored file):
		 * numbered above them, alone, and those behind built again
		 * (they follow a batch that HQ did not apply). */
		if (rc == 0 && ack.renumber) {
			if (ack.seq != qu.q[0]->seq || tries >= MAX_RENUMBER) {
				gb_error(err, GB_ECONFLICT,
					 _("HQ asks to renumber batch "
					   "%" PRIu64 " again and again"),
					 qu.q[0]->seq);
				goto fail;
			}
			tries++;
			queue_abort_behind(&qu, io);
			if (queue_drop(db, &qu, err) ||
			    batch_renumber(db, qu.q[0], ack.device_seq, err))
				goto fail;
			qu.sent = 0;
			no_more = 0;
			window = 1;
			continue;
		}
		if (rc == 0 && !ack_matches(qu.q[0], &ack)) {
			gb_error(err, GB_ECONFLICT,
				 _("the server's ack does not answer batch "
				   "%" PRIu64),
				 qu.q[0]->seq);
			rc = -1;
		}
		if (rc < 0) {
			/* HQ holds another batch under this number (it said
			 * so, or its ack is another batch's): it is
			 * renumbered, unless batches went behind it. */
			if (err->code != GB_ECONFLICT || qu.sent > 1 ||
			    tries >= MAX_RENUMBER)
				goto fail;
			tries++;
			if (queue_drop(db, &qu, err) ||
			    batch_renumber(db, qu.q[0], 0, err))
				goto fail;
			qu.sent = 0; /* to go again */
			no_more = 0;
			/* Alone again: HQ may hold the new number too (a
			 * restored file's numbers run on), and a batch sent
			 * behind it would follow that other batch. */
			window = 1;
			continue;
		}
		whole = ack_match(qu.q[0], &ack);
		tries = 0;
		/* HQ's mark above this file's: restored (ack_apply notes
		 * it).  The batches behind were numbered below the mark. */
		behind = 0;
		if (ack.device_seq) {
			uint64_t high;

			if (file_high(db, &high, err))
				goto fail;
			behind = ack.device_seq > high;
		}
		if (behind)
			queue_abort_behind(&qu, io);
		/* HQ gave turns: its queue is full, and each batch goes
		 * on a turn of its own (the rest of a window would be
		 * turned away, and built again). */
		window =
		    one || !whole || behind || res->turns ? 1 : SYNC_WINDOW;
		/* Versions the ack left out go before the batches built
		 * behind them. */
		if ((!whole || behind) && queue_drop(db, &qu, err))
			goto fail;
		if (!whole || behind)
			no_more = 0;
		take = one || no_more || failed_later || stopped(o) ? NULL
								    : qu.spare;
		if (ack_apply(db, o, io, qu.q[0], &ack, take, queue_last(&qu),
			      &taken, res, err))
			goto fail;
		ret = 1;
		progress(o, res, start, total);
		queue_pop(&qu);
		if (taken)
			queue_push(&qu);
		else if (take)
			no_more = 1;
		if (one)
			break;
		if (qu.n == 0) {
			if (failed_later) {
				*err = later;
				goto fail;
			}
			rc = batch_prepare(db, o, io, 0, qu.spare, err);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break;
			queue_push(&qu);
			no_more = 0;
		}
	}
	goto out;
fail:
	ret = -1;
	/* The requests left running are abandoned (their batches stay
	 * written down and go again). */
	for (size_t i = 0; i < qu.sent; i++)
		if (qu.req[i] >= 0)
			io->post_abort(io->arg, qu.req[i]);
out:
	wire_ack_release(&ack);
	gb_buf_release(&resp);
	queue_release(&qu);
	return ret;
}

int sync_push_batch(struct gb_db *db, const struct sync_io *io,
		    const struct sync_opts *o, struct sync_result *res,
		    struct gb_err *err)
{
	return push(db, io, o, res, 1, err);
}

int sync_push(struct gb_db *db, const struct sync_io *io,
	      const struct sync_opts *o, struct sync_result *res,
	      struct gb_err *err)
{
	return push(db, io, o, res, 0, err) < 0 ? -1 : 0;
}

/* ---- pulling ------------------------------------------------------------ */

/*
 * Stores one page and its cursor, in the caller's transaction.  A record
 * that cannot be stored (another kind under the same id) is counted as
 * refused and skipped; only a failing file fails the page.  asked is the
 * high-water the page was asked with (seq=): a page whose device_seq is
 * above it held the device's own records too (a restored file, noted),
 * and the last page of a pull ends the catching up.  Counts go into r.
 */
static int page_store(struct gb_db *db, const struct wire_page *p,
		      uint64_t asked, struct sync_result *r, struct gb_err *err)
{
	char *own;

	if (note_behind(db, asked, p->device_seq, err))
		return -1;
	own = db_meta_get(db, "sync_own_seq");
	if (own && !p->more && db_meta_del(db, "sync_own_seq", err)) {
		free(own);
		return -1;
	}
	free(own);
	if (p->ncommunities || p->nareas || p->nstaff) {
		if (db_ref_replace(db, p, err))
			return -1;
		r->ref_updated = 1;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct gb_err e;
		int applied;

		r->received++;
		if (db_record_put_remote(db, p->recs[i], &applied, &e)) {
			if (e.code == GB_EDB || e.code == GB_EINTERNAL) {
				*err = e;
				return -1;
			}
			r->refused++;
			continue;
		}
		r->applied += applied;
	}
	r->received += (long)p->nrefused;
	r->refused += (long)p->nrefused;
	if (p->next_cursor[0] &&
	    db_meta_set(db, "sync_cursor", p->next_cursor, err))
		return -1;
	return 0;
}

/*
 * Applies the n pages fetched, in order, in one transaction (page_store),
 * and releases them.  Each commit costs the rollback journal's syncs and
 * writes again the pages of the indexes that every page of records
 * touches: a pull of 49,924 versions made 134 fdatasync and 13,069 page
 * writes at a commit a page, 52 and 9,023 at a commit a group.
 */
static int pages_apply(struct gb_db *db, struct wire_page *pages, size_t n,
		       uint64_t asked, struct sync_result *res,
		       struct gb_err *err)
{
	struct sync_result r = {0};
	int rc = -1;

	if (!n)
		return 0;
	if (db_begin(db, err))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (page_store(db, &pages[i], asked, &r, err)) {
			db_rollback(db);
			goto out;
		}
	if (meta_set_i64(db, "sync_last_ok", gb_now_ms(), err)) {
		db_rollback(db);
		goto out;
	}
	if (db_commit(db, err))
		goto out;
	res->received += r.received;
	res->applied += r.applied;
	res->refused += r.refused;
	res->ref_updated |= r.ref_updated;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		wire_page_release(&pages[i]);
		wire_page_init(&pages[i]);
	}
	return rc;
}

/*
 * Pages are fetched PULL_GROUP at a time before any is stored, and then
 * stored in one transaction: the file is not held while HQ answers, and
 * it commits once a group.  A group holds at most PULL_GROUP pages of up
 * to 2,000 records decoded (some megabytes).  The high-water asked with
 * (seq=) stays what it was when the group began: storing a page changes
 * it only by noting sync_own_seq at that same value (note_behind), or by
 * ending the pull.
 */
#define PULL_GROUP 4

int sync_pull(struct gb_db *db, const struct sync_io *io,
	      const struct sync_opts *o, struct sync_result *res,
	      struct gb_err *err)
{
	char *cursor = db_meta_get(db, "sync_cursor");
	struct wire_page pages[PULL_GROUP];
	struct gb_buf resp;
	struct gb_err e;
	uint64_t high;
	size_t np;
	long n = 0;
	int ret = -1, last = 0, failed = 0;

	for (size_t i = 0; i < PULL_GROUP; i++)
		wire_page_init(&pages[i]);
	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	while (!last && !failed && n < MAX_PAGES) {
		/* The own high-water: the one noted while the file catches
		 * up on its own records, else the highest number given. */
		high = meta_u64(db, "sync_own_seq", UINT64_MAX);
		if (high == UINT64_MAX && file_high(db, &high, err))
			goto out;
		for (np = 0; np < PULL_GROUP && !last && n < MAX_PAGES; n++) {
			struct wire_page *p = &pages[np];

			if (stopped(o)) {
				gb_error(err, GB_EINTR, _("stopped"));
				failed = 1;
				break;
			}
			gb_buf_reset(&resp);
			if (io->get_changes(io->arg, cursor ? cursor : "", high,
					    &resp, err)) {
				failed = 1;
				break;
			}
			if (wire_page_decode(resp.data, resp.len, p, err)) {
				gb_error_prefix(err, _("changes"));
				wire_page_release(p);
				wire_page_init(p);
				failed = 1;
				break;
			}
			np++;
			/* Stop unless the server says more and moved the
			 * cursor. */
			if (!p->more || !p->next_cursor[0] ||
			    (cursor && strcmp(cursor, p->next_cursor) == 0))
				last = 1;
			else {
				free(cursor);
				cursor = xstrdup(p->next_cursor);
			}
		}
		/* After a failure what was fetched before it is stored all
		 * the same, so that the next pull goes on from there; the
		 * failure is what the caller is told. */
		if (pages_apply(db, pages, np, high, res, failed ? &e : err) &&
		    !failed)
			goto out;
	}
	ret = failed ? -1 : 0;
out:
	for (size_t i = 0; i < PULL_GROUP; i++)
		wire_page_release(&pages[i]);
	gb_buf_release(&resp);
	free(cursor);
	return ret;
}

/* ---- rounds and state --------------------------------------------------- */

/*
 * The last error when the grid file cannot take it (its disk is full, the
 * file fails): a file beside it, FILE-sync-error, of ERRFILE_LEN bytes
 * made when sync is set up and then only overwritten in place, so that
 * writing it needs no new space.  It holds "MS\nMESSAGE\n", NUL-padded;
 * sync status shows it when it is newer than the error in the file.
 */
#define ERRFILE_LEN 512

/* The side file's path (caller frees), NULL for a file without a path
 * (in memory). */
static char *errfile_path(struct gb_db *db)
{
	const char *f = db_file_name(db);

	return f && *f ? xasprintf("%s-sync-error", f) : NULL;
}

/* Makes the side file (ERRFILE_LEN NUL bytes, owner only) unless it is
 * there already.  Best effort. */
static void errfile_make(struct gb_db *db)
{
	char *path = errfile_path(db), zero[ERRFILE_LEN];
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		memset(zero, 0, sizeof(zero));
		if (write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero))
			(void)ftruncate(fd, 0);
		close(fd);
	}
	free(path);
}

/* Writes err at ms into the side file, in place.  Best effort. */
static void errfile_write(struct gb_db *db, int64_t ms, const char *msg)
{
	char *path = errfile_path(db), buf[ERRFILE_LEN];
	int fd;

	if (!path)
		return;
	memset(buf, 0, sizeof(buf));
	snprintf(buf, sizeof(buf) - 1, "%" PRId64 "\n%s\n", ms, msg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf))
			(void)fdatasync(fd);
		close(fd);
	}
	free(path);
}

/* Reads the side file into *ms and *msg (caller frees), when it holds an
 * error; else leaves them. */
static void errfile_read(struct gb_db *db, int64_t *ms, char **msg)
{
	char *path = errfile_path(db), buf[ERRFILE_LEN + 1], *nl, *end;
	long long at;
	ssize_t n;
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	n = pread(fd, buf, ERRFILE_LEN, 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	errno = 0;
	at = strtoll(buf, &end, 10);
	if (errno || end == buf || *end != '\n' || at <= 0)
		return;
	nl = strchr(end + 1, '\n');
	if (nl)
		*nl = '\0';
	*ms = at;
	free(*msg);
	*msg = xstrdup(end + 1);
}

/* Takes the side file's error into st when it is newer than the one the
 * grid file holds (which it could not take). */
static void errfile_newer(struct gb_db *db, struct sync_status *st)
{
	int64_t at = 0;
	char *msg = NULL;

	errfile_read(db, &at, &msg);
	if (msg && at > st->last_error_at) {
		free(st->last_error);
		st->last_error = msg;
		st->last_error_at = at;
		msg = NULL;
	}
	free(msg);
}

void sync_note_error(struct gb_db *db, const struct gb_err *e)
{
	const char *msg = e->msg[0] ? e->msg : "?";
	int64_t now = gb_now_ms();
	struct gb_err ignored;

	if (db_begin(db, &ignored))
		goto side;
	if (meta_set_i64(db, "sync_last_error_at", now, &ignored) ||
	    db_meta_set(db, "sync_last_error", msg, &ignored)) {
		db_rollback(db);
		goto side;
	}
	if (db_commit(db, &ignored) == 0)
		return;
side:
	errfile_write(db, now, msg);
}

/*
 * Puts the versions refused for now (sync_retry) back at the end of the
 * outbox, in one transaction, so that this round sends them again: once
 * a round, whatever the round finds, unless they are in the outbox
 * already (queued, their answer not recorded yet).  Their Batch entries are
 * packed when they are sent (outbox.wire NULL).
 */
static int retry_requeue(struct gb_db *db, struct gb_err *err)
{
	return outbox_retry_requeue(db, err);
}

/* Waits ms on the real clock, a tenth of a second at a time, cut short
 * when o->stop is set. */
static void nap_ms(const struct sync_opts *o, long ms)
{
	struct timespec ts;

	while (ms > 0 && !stopped(o)) {
		long step = ms < 100 ? ms : 100;

		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/*
 * After HQ said busy (err, GB_EBUSY) for the attempt-th time in a row:
 * waits what it asked (Retry-After) plus a random part below a cap that
 * doubles from 500 ms up to SYNC_RETRY_CAP_MS ("full jitter", so that
 * devices turned away together do not come back together), unless that
 * would take the round's waiting past its bound (*left ms).  When HQ
 * names its wait, the random part stays below that wait (at least
 * 500 ms): HQ knows its queue, and a district's devices turned away
 * again and again would otherwise come back up to half a minute after
 * it has room, with HQ idle meanwhile.  When HQ gave this device a turn
 * (Retry-After-Ms), it waits for that turn with SYNC_TURN_JITTER_MS of
 * jitter at most.  Returns 0
 * after the wait (go on), -1 when the round must fail with err.
 */
static int busy_wait(const struct sync_io *io, const struct sync_opts *o,
		     int attempt, long *left, struct sync_result *res,
		     const struct gb_err *err)
{
	long cap = 500, wait;
	int exact = io->retry_exact && io->retry_exact(io->arg);
	long ra = io->retry_after_ms ? io->retry_after_ms(io->arg) : -1;

	if (err->code != GB_EBUSY || stopped(o) || *left <= 0)
		return -1;
	for (int i = 0; i < attempt && cap < SYNC_RETRY_CAP_MS; i++)
		cap *= 2;
	if (cap > SYNC_RETRY_CAP_MS)
		cap = SYNC_RETRY_CAP_MS;
	if (ra > 0 && cap > ra)
		cap = ra > 500 ? ra : 500;
	/* A turn: HQ spread the devices already, one writer's batch time
	 * apart; a little jitter keeps two timers from meeting. */
	if (exact && ra >= 0)
		cap = SYNC_TURN_JITTER_MS;
	if (ra < 0)
		ra = 0;
	wait = ra + (long)gb_random_uniform((uint32_t)cap + 1);
	if (ra > *left)
		return -1;
	if (wait > *left)
		wait = *left;
	*left -= wait;
	res->busy_waits++;
	if (exact && ra >= 0)
		res->turns++;
	if (o->busy)
		o->busy(o->busy_arg, wait, err);
	if (o->sleep_ms)
		o->sleep_ms(o->busy_arg, wait);
	else
		nap_ms(o, wait);
	return stopped(o) ? -1 : 0;
}

/*
 * Re-stamps the versions waiting because they lie more than 24 h ahead
 * of HQ's clock hq_time (those written while this laptop's clock ran
 * ahead), once this laptop's clock is within SYNC_CLOCK_OFF_MS of HQ's:
 * waiting longer would not help them, and with the clock right a new
 * version is one HQ takes.  In one transaction the file's clock is set
 * back to the newest version HQ could hold (db_clock_rewind), then each
 * of them, oldest first, gets the next version with the same id and
 * values (db_record_restamp) and goes back into the outbox.  Their old
 * versions never reached HQ or any other laptop (HQ refused them), so
 * they are replaced, not kept.  *n says how many.  Returns 0 or -1.
 */
static int retry_restamp(struct gb_db *db, int64_t hq_time, long *n,
			 struct gb_err *err)
{
	int64_t limit = hq_time + GB_HLC_AHEAD_MS, skew = hq_time - gb_now_ms();
	uint64_t ceiling = ((uint64_t)(limit + 1) << 16) - 1;
	struct outbox_key *rows = NULL;
	size_t nrows = 0;

	*n = 0;
	if (skew > SYNC_CLOCK_OFF_MS || skew < -SYNC_CLOCK_OFF_MS)
		return 0;
	if (outbox_retry_above(db, ceiling, &rows, &nrows, err))
		return -1;
	if (nrows == 0)
		return 0;
	if (db_begin(db, err)) {
		free(rows);
		return -1;
	}
	if (db_clock_rewind(db, limit, err))
		goto fail;
	for (size_t i = 0; i < nrows; i++) {
		uint64_t v = 0;
		int gone;

		gone = db_record_restamp(db, rows[i].id, rows[i].version, limit,
					 &v, err);
		if (gone < 0)
			goto fail;
		/* The row goes; a version the file no longer holds (voided
		 * and purged by hand) has nothing to send. */
		if (outbox_retry_restamped(db, rows[i].id, rows[i].version,
					   gone ? 0 : v, err))
			goto fail;
		if (!gone)
			(*n)++;
	}
	free(rows);
	return db_commit(db, err);
fail:
	free(rows);
	db_rollback(db);
	*n = 0;
	return -1;
}

/* Pushes everything pending, waiting for a busy HQ within *left ms. */
static int push_all(struct gb_db *db, const struct sync_io *io,
		    const struct sync_opts *o, struct sync_result *res,
		    long *left, struct gb_err *err)
{
	int attempt = 0;

	/* Each attempt resumes from the first batch not acknowledged (the
	 * batches are written down). */
	for (long sent = res->sent;; sent = res->sent) {
		if (sync_push(db, io, o, res, err) == 0)
			return 0;
		/* Batches went through since the last wait: HQ is busy
		 * again, not still. */
		if (res->sent > sent)
			attempt = 0;
		if (busy_wait(io, o, attempt++, left, res, err))
			return -1;
	}
}

int sync_round(struct gb_db *db, const struct sync_io *io,
	       const struct sync_opts *o, struct sync_result *res,
	       struct gb_err *err)
{
	long left = o && o->retry_for_ms ? o->retry_for_ms : SYNC_RETRY_FOR_MS;
	int attempt = 0, rc;

	memset(res, 0, sizeof(*res));
	if (!*db_device(db) || !*db_grid(db))
		return gb_error(err, GB_EINVAL,
				_("the grid file has no grid or device id; "
				  "create it with gridbook init"));
	if (retry_requeue(db, err) || push_all(db, io, o, res, &left, err))
		goto fail;
	/* HQ answered, and refused versions for now that waiting will not
	 * help: re-stamped, they go in this round. */
	if (res->waiting && res->hq_time) {
		if (retry_restamp(db, res->hq_time, &res->restamped, err))
			goto fail;
		if (res->restamped) {
			/* Counted once, by the answer to their new version. */
			res->waiting -= res->restamped;
			res->sent -= res->restamped;
			if (push_all(db, io, o, res, &left, err))
				goto fail;
		}
	}
	/* The pull resumes from its cursor. */
	for (;;) {
		rc = sync_pull(db, io, o, res, err);
		if (rc == 0)
			break;
		if (busy_wait(io, o, attempt++, &left, res, err))
			goto fail;
	}
	return 0;
fail:
	if (err->code != GB_EINTR)
		sync_note_error(db, err);
	return -1;
}

void sync_config_get(struct gb_db *db, struct sync_config *c)
{
	c->server = db_meta_get(db, "sync_server");
	c->token = db_meta_get(db, "sync_token");
	c->cacert = db_meta_get(db, "sync_cacert");
	if (c->cacert && !*c->cacert) {
		free(c->cacert);
		c->cacert = NULL;
	}
	c->pin = db_meta_get(db, "sync_pin");
	if (c->pin && !*c->pin) {
		free(c->pin);
		c->pin = NULL;
	}
	c->proxy = db_meta_get(db, "sync_proxy");
	if (c->proxy && !*c->proxy) {
		free(c->proxy);
		c->proxy = NULL;
	}
}

void sync_config_release(struct sync_config *c)
{
	/* The token must not linger in freed memory. */
	if (c->token)
		gb_wipe(c->token, strlen(c->token));
	free(c->server);
	free(c->token);
	free(c->cacert);
	free(c->pin);
	free(c->proxy);
	memset(c, 0, sizeof(*c));
}

int sync_config_check(const char *server, const char *token, const char *cacert,
		      struct gb_err *err)
{
	if (server && transport_check_url(server, err))
		return -1;
	if (token && (!*token || strlen(token) > 1024))
		return gb_error(err, GB_EUSAGE,
				_("the token must be given and at most 1024 "
				  "characters long"));
	if (token) {
		for (const char *p = token; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return gb_error(err, GB_EUSAGE,
						_("the token may not contain "
						  "spaces or control "
						  "characters"));
	}
	if (cacert && *cacert && access(cacert, R_OK) != 0)
		return gb_error(err, GB_EUSAGE, _("CA file %s: %s"), cacert,
				strerror(errno));
	return 0;
}

int sync_config_set(struct gb_db *db, const char *server, const char *token,
		    const char *cacert, struct gb_err *err)
{
	char *abs = NULL;
	int rc = -1;

	if (sync_config_check(server, token, cacert, err))
		return -1;
	if (cacert && *cacert) {
		abs = realpath(cacert, NULL);
		if (!abs) {
			gb_error(err, GB_EUSAGE, _("CA file %s: %s"), cacert,
				 strerror(errno));
			goto out;
		}
	}
	if (db_begin(db, err))
		goto out;
	if ((server && db_meta_set(db, "sync_server", server, err)) ||
	    (token && db_meta_set(db, "sync_token", token, err)) ||
	    (cacert && db_meta_set(db, "sync_cacert", abs ? abs : "", err)) ||
	    (token && outbox_repack(db, OUTBOX_PACK_MISSING,
				    _("cannot set up sync"), err))) {
		db_rollback(db);
		goto out;
	}
	if (db_commit(db, err))
		goto out;
	errfile_make(db);
	rc = 0;
out:
	free(abs);
	return rc;
}

int sync_token_arg(const char *arg, struct gb_err *err)
{
	if (!arg || !strcmp(arg, "-"))
		return 0;
	return gb_error(err, GB_EUSAGE,
			_("--token: a token on the command line is seen by "
			  "every user of this machine (ps, shell history); "
			  "give --token - and the token on standard input, or "
			  "store it once with gridbook sync setup --token -"));
}

int sync_config_check_tls(const char *pin, const char *proxy,
			  struct gb_err *err)
{
	if (pin && *pin) {
		const char *p = pin;

		/* sha256//BASE64 of 32 bytes, ';' between several. */
		for (;;) {
			size_t n;

			if (strncmp(p, "sha256//", 8) != 0)
				goto bad_pin;
			p += 8;
			n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				      "opqrstuvwxyz0123456789+/=");
			if (n != 44)
				goto bad_pin;
			p += n;
			if (!*p)
				break;
			if (*p++ != ';')
				goto bad_pin;
		}
	}
	if (proxy && *proxy && strncasecmp(proxy, "http://", 7) != 0 &&
	    strncasecmp(proxy, "https://", 8) != 0)
		return gb_error(err, GB_EUSAGE,
				_("--proxy: \"%.100s\" is not an http:// or "
				  "https:// URL"),
				proxy);
	return 0;
bad_pin:
	return gb_error(err, GB_EUSAGE,
			_("--pin: \"%.100s\" is not sha256// and the base64 "
			  "SHA-256 of HQ's public key (';' between several)"),
			pin);
}

int sync_config_set_tls(struct gb_db *db, const char *pin, const char *proxy,
			struct gb_err *err)
{
	if (sync_config_check_tls(pin, proxy, err))
		return -1;
	if (!pin && !proxy)
		return 0;
	if (db_begin(db, err))
		return -1;
	if ((pin && db_meta_set(db, "sync_pin", pin, err)) ||
	    (proxy && db_meta_set(db, "sync_proxy", proxy, err))) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, err);
}

int sync_device_set(struct gb_db *db, const char *id, struct gb_err *err)
{
	const char *what = _("cannot change the device id");
	char old[GB_ID_LEN], now[GB_ID_LEN], *token = NULL;
	size_t i;
	int rc = -1;

	if (!gb_uuid_valid(id))
		return gb_error(err, GB_EUSAGE,
				_("device id \"%s\" is not a UUID"), id);
	for (i = 0; id[i] && i + 1 < sizeof(now); i++)
		now[i] =
		    (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
	now[i] = '\0';
	copy_str(old, sizeof(old), db_device(db));
	if (strcmp(old, now) == 0)
		return 0;
	if (db_begin(db, err))
		return -1;
	if (db_device_rename(db, old, now, what, err) ||
	    db_meta_set(db, "device", now, err))
		goto out;
	/* Without a token the file does not pack entries yet: drop those
	 * under the old id, and sync_config_set packs them with the token. */
	token = db_meta_get(db, "sync_token");
	if (outbox_repack(db, token && *token ? OUTBOX_PACK_ALL : OUTBOX_UNPACK,
			  what, err))
		goto out;
	rc = 0;
out:
	free(token);
	if (rc) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, err);
}

/* A meta value as a signed number, 0 when unset. */
static int64_t meta_i64(struct gb_db *db, const char *key)
{
	char *v = db_meta_get(db, key), *end;
	long long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end)
		n = 0;
	free(v);
	return n;
}

void sync_status_release(struct sync_status *st)
{
	for (size_t i = 0; i < st->natt; i++) {
		free(st->att[i].reason);
		free(st->att[i].title);
	}
	for (size_t i = 0; i < st->nwait; i++) {
		free(st->wait[i].reason);
		free(st->wait[i].title);
	}
	free(st->wait);
	free(st->att);
	free(st->last_error);
	free(st->server);
	free(st->cursor);
	memset(st, 0, sizeof(*st));
}

/* Where attention_read puts what it reads. */
struct att_list {
	struct sync_attention **list;
	size_t *n, alloc;
};

static int attention_one(void *arg, const struct outbox_refused *r)
{
	struct att_list *l = arg;
	struct sync_attention *a;

	if (*l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		*l->list = xrealloc(*l->list, l->alloc * sizeof(**l->list));
	}
	a = &(*l->list)[(*l->n)++];
	memset(a, 0, sizeof(*a));
	copy_str(a->id, sizeof(a->id), r->id);
	a->version = r->version;
	copy_str(a->kind, sizeof(a->kind), r->kind);
	copy_str(a->status, sizeof(a->status), r->status);
	copy_str(a->reason_code, sizeof(a->reason_code), r->reason_code);
	a->reason = xstrdup(r->reason);
	a->at = r->at;
	if (r->title)
		a->title = xstrdup(r->title);
	return 0;
}

/* Reads the attention list into *list (*n of them), newest first: the
 * versions HQ refused or set aside (table attention), or when waiting is
 * set those it refused for now (sync_retry, status "waiting"). */
static int attention_read(struct gb_db *db, int waiting,
			  struct sync_attention **list, size_t *n,
			  struct gb_err *err)
{
	struct att_list l = {list, n, 0};

	return outbox_attention_each(db, waiting, attention_one, &l, err);
}

int sync_status_get(struct gb_db *db, struct sync_status *st,
		    struct gb_err *err)
{
	uint64_t first;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	/* One read transaction, so the numbers agree with each other. */
	if (db_begin_read(db, _("cannot read the sync state"), err))
		return -1;
	if (outbox_pending(db, &st->pending, &first, err))
		goto out;
	if (first)
		st->oldest = gb_hlc_ms(first);
	if (outbox_batch_first(db, &st->inflight, &st->inflight_records, err))
		goto out;
	st->next_seq = meta_u64(db, "sync_next_seq", 1);
	st->last_ok = meta_i64(db, "sync_last_ok");
	st->last_error_at = meta_i64(db, "sync_last_error_at");
	st->last_error = db_meta_get(db, "sync_last_error");
	errfile_newer(db, st);
	st->server = db_meta_get(db, "sync_server");
	st->cursor = db_meta_get(db, "sync_cursor");
	st->own_from = meta_u64(db, "sync_own_seq", 0);
	st->hq_time = meta_i64(db, "sync_hq_time");
	st->hq_skew = meta_i64(db, "sync_hq_skew");
	if (attention_read(db, 0, &st->att, &st->natt, err) ||
	    attention_read(db, 1, &st->wait, &st->nwait, err))
		goto out;
	rc = 0;
out:
	db_end_read(db);
	return rc;
}

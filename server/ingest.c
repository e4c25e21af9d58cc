/*
 * Group commit of device batches.  One transaction per batch costs a sync
 * of the disk per batch, which on a small server leaves most of the insert
 * rate unused; so HTTP threads do the parallel work (authenticate,
 * inflate, unpack, check access) and queue the decoded batch, and a single
 * writer thread applies every batch waiting in the queue in one
 * transaction with one sync.  Each batch runs under its own savepoint: a
 * batch that fails (a reused sequence number, a store error) is undone
 * alone and the rest of the group commits.
 *
 * A device may post its next batch before the ack of the one before has
 * come back (the batch then names that one in hdr.after): the HTTP
 * threads decode and prepare it while the writer applies the first, and
 * the writer applies it only once the one it follows is applied, in the
 * same transaction when both are waiting, so that a device's batches are
 * still applied in its order (a check may name an enterprise of the batch
 * before).  A batch whose predecessor does not come within HOLD_MS is
 * refused with GB_EBUSY (503) and the device sends both again.
 *
 * A held batch only waits: it gives its batch slot back to the HTTP
 * layer at once (struct ingest_watch), so that batches waiting for ones
 * that will not come cannot keep other devices out.  It is dropped
 * early, while it waits, when its device's connection is gone or the
 * device sends the same batch again (it started again from an earlier
 * batch): nothing waits for a batch that will not come.
 *
 * On a store that several may write at once (PostgreSQL) there may be
 * more writers than one (ingest_add_writer), each a lane: a thread on a
 * store connection of its own, with its own queue and held batches.  A
 * grid's requests go to one lane while any of them is queued, held or
 * applied there (lane_pick, lane_done), so that a device's batches stay
 * in one writer's order and two lanes never wait for each other's
 * grids; a grid with none goes to the lane with the fewest.  One writer
 * then builds its batches while the database applies another's.
 *
 * Idempotence: a batch is recorded as applied, with the exact ack bytes
 * it was answered with, in the transaction that applies it.  A batch seen
 * before is answered from that record and changes nothing, so delivery
 * can be at-least-once while every record is held exactly once.
 *
 * Several servers on one store (PostgreSQL): before a batch or its
 * records are looked up, the writer takes the batch's grid
 * (store_ops.grid_lock), so that the writers of one grid take turns and
 * each sees what the one before committed: the same batch sent again to
 * another server is found there, and a record is merged from the version
 * committed last.  A group takes the grids of its batches at its start,
 * in order of their codes, so that two groups rarely wait for each
 * other's grids; when they do (a deadlock) or lose another race, the
 * store drops the transaction and the writer runs the same group again,
 * up to RETRY_MAX times, before any device hears of it.  A batch held
 * for one another server is applying is looked at again when the store
 * says that another server committed batches (store_ops.watch), and
 * every WATCH_POLL_MS in case that word was lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "crypto.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "ingest.h"
#include "kinds.h"
#include "log.h"
#include "merge.h"
#include "record_cols.h"
#include "rollup.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

/* Requests taken at once by the writer (held ones and new ones); a
 * transaction takes at most twice as many. */
#define GROUP_MAX 256
/* A transaction takes in requests that come while it is applied until
 * it holds this many records. */
#define TXN_RECORDS 2500
/* A refused record is kept as its id, reason and this many of its first
 * bytes, enough to see what it was, not enough to store anything. */
#define REJECT_RAW_MAX 1024
/* How long a batch waits for the batch it follows (hdr.after): as long
 * as a client waits on a transfer that does not move. */
#define HOLD_MS 30000
/* The writer counts as idle, and checkpoints, when no request has come
 * this long after its last commit. */
#define IDLE_MS 100
/* While batches are held, the writer looks this often whether their
 * connections are still there. */
#define HELD_POLL_MS 200
/* On a store other servers write too, a group lost to a race is run
 * again this many times; and held batches are looked at again this
 * often even when the store's word that one was committed elsewhere
 * does not come. */
#define RETRY_MAX 5
#define WATCH_POLL_MS 1000

/* One writer thread, on a store connection of its own, with its queue
 * and the batches it holds.  All but st and thread with ing->mu. */
struct lane {
	struct ingest *ing;
	struct store *st; /* borrowed */
	pthread_t thread;
	pthread_cond_t work; /* the writer waits on it for requests */
	struct ingest_req *head, *tail;
	/* Batches held for the batch they follow, oldest first. */
	struct ingest_req *held[GROUP_MAX];
	size_t nheld;
	int nice_set; /* the nice value the writer has */
	/* Another server committed batches (ingest.watching): poke is set,
	 * and the held batches are looked at again by look_at (a mono_ms
	 * time) in any case. */
	int poke;
	int64_t look_at;
};

/* A grid with requests in a lane (queued, held or in its group): n of
 * them.  Its requests go to that lane until none is left (lane_pick). */
struct bound {
	char grid[GB_CODE_LEN];
	int lane;
	size_t n;
};

struct ingest {
	pthread_mutex_t mu;
	pthread_cond_t done; /* requesters wait on it for their outcome */
	struct lane lanes[INGEST_WRITERS_MAX];
	int nlanes;
	struct bound *bound;
	size_t nbound, bound_cap;
	unsigned turn;	 /* lane_pick's lane to look at first */
	int64_t hold_ms; /* HOLD_MS, or what ingest_set_hold set */
	int nice;	 /* the writers' (ingest_set_nice) */
	/* The writer's wall time, in µs, moving averages over its groups
	 * (ingest_cost_us): applying one batch (the group's time to its
	 * commit, over the batches in it), and the commit of a group. */
	atomic_llong apply_us, commit_us;
	atomic_int lanes_busy; /* lanes with grids bound (lanes_note) */
	int stopping;
	/* Other servers apply batches on the store (store_ops.watch). */
	int watching;
};

/* What an HTTP thread works out for one record before the writer takes
 * it (ingest_prepare): everything that does not need the store. */
struct ingest_item {
	struct store_version v; /* rec, raw, body, hash, report columns */
	struct gb_buf body;	/* the values as JSON (v.body) */
	char day[11];		/* v.day when the kind keeps a time */
	enum gb_code code;	/* GB_OK, or why the record is refused */
	char *reason;		/* owned, with code */
	int transient;		/* code may pass by itself (version_bounds) */
	/* The rules that need no lookup (gb_validate without one): GB_OK,
	 * or the rule broken, applied only to a version not held yet. */
	enum gb_code vcode;
	char *vreason;	/* owned, with vcode */
	int vtransient; /* vcode is HQ's clock's doing (prepare_item) */
};

/* What applying one batch needs at hand. */
struct apply {
	struct store *st;
	struct ingest_req *req;
	int64_t now;
	struct gb_lookup lookup;
	/* Per item of the batch, what it made of its record's current
	 * version, for the report facts (rollup.h); the records merged are
	 * owned here. */
	struct rollup_item *done;
};

/* The lookup of validate.h answered by the store, inside the writer
 * transaction, for the grid of the batch.  missing notes that a look-up
 * found nothing: the refusal that follows is then transient (reference
 * data not seeded yet, a record HQ does not hold yet). */
struct lookup_arg {
	struct store *st;
	const char *grid;
	int missing;
};

static int lookup_find(void *arg, enum gb_ref ref, const char *key,
		       const char *attr, char *out, size_t n,
		       struct gb_err *err)
{
	struct lookup_arg *a = arg;
	int rc = a->st->ops->find(a->st, a->grid, ref, key, attr, out, n, err),
	    known = 1;

	/* Known in another grid (moved, or never this grid's) is the
	 * record's mistake; not known at all may come yet. */
	if (rc == 0 && a->st->ops->ref_known(a->st, ref, key, &known, err) < 0)
		return -1;
	if (rc == 0 && !known)
		a->missing = 1;
	return rc;
}

/*
 * The report rollups: called once for each batch newly applied (hence
 * once per grid per batch, a batch being of one grid), inside the writer
 * transaction, after the batch's records are stored and before it
 * commits.  The facts kept there (rollup.c) commit or roll back with the
 * records they count.
 */
static int rollup_batch_applied(struct store *st,
				const struct store_device *dev,
				const struct wire_batch *b,
				const struct rollup_item *done, int64_t now,
				struct gb_err *err)
{
	return rollup_batch(st, dev, b, done, now, err);
}

/* The hash that tells a resent batch from another batch with the same
 * sequence number: of the ids and versions it carries, in order. */
static void items_hash(const struct wire_batch *b,
		       unsigned char out[STORE_HASH_LEN])
{
	struct gb_hash h;

	gb_hash_init(&h, STORE_HASH_LEN);
	for (size_t i = 0; i < b->n; i++) {
		const struct wire_item *it = &b->items[i];
		const char *id = it->rec ? it->rec->id : it->id;
		uint64_t v = it->rec ? it->rec->version : it->version;
		unsigned char vb[8];

		for (int k = 0; k < 8; k++)
			vb[k] = (unsigned char)(v >> (56 - 8 * k));
		gb_hash_update(&h, (const unsigned char *)id, strlen(id) + 1);
		gb_hash_update(&h, vb, sizeof(vb));
	}
	gb_hash_final(&h, out);
}

/* The hash of what gb_record_same_content compares: kind, void state and
 * values (body is the values' JSON). */
static void content_hash(const struct gb_record *r, const char *body,
			 unsigned char out[STORE_HASH_LEN])
{
	struct gb_hash h;
	const char *reason = r->void_reason ? r->void_reason : "";
	const char *voided = r->voided ? "1" : "0";

	gb_hash_init(&h, STORE_HASH_LEN);
	gb_hash_update(&h, (const unsigned char *)r->kind->name,
		       strlen(r->kind->name) + 1);
	gb_hash_update(&h, (const unsigned char *)voided, 2);
	gb_hash_update(&h, (const unsigned char *)reason, strlen(reason) + 1);
	gb_hash_update(&h, (const unsigned char *)body, strlen(body));
	gb_hash_final(&h, out);
}

/* Where each kind of gb_kinds keeps its columns, by its index there:
 * found once, not by a search of the field names per version. */
static struct gb_colmap *colmaps;
static pthread_once_t colmaps_once = PTHREAD_ONCE_INIT;

static void colmaps_make(void)
{
	colmaps = xcalloc((size_t)gb_nkinds, sizeof(*colmaps));
	for (int i = 0; i < gb_nkinds; i++)
		gb_colmap_init(&colmaps[i], &gb_kinds[i]);
}

/* The report columns of r (record_cols.h): the local date of its date
 * field, kept in day when the kind keeps a time, and its community, staff
 * and status fields. */
static void derive(const struct gb_record *r, struct store_version *v,
		   char day[11])
{
	struct gb_record_cols c;
	const struct gb_colmap *m = NULL;

	pthread_once(&colmaps_once, colmaps_make);
	if (r->kind >= gb_kinds && r->kind < gb_kinds + gb_nkinds)
		m = &colmaps[r->kind - gb_kinds];
	gb_record_cols(r, m, &c);
	v->day = c.day;
	if (c.day == c.daybuf) {
		memcpy(day, c.daybuf, sizeof(c.daybuf));
		v->day = day;
	}
	v->community = c.community;
	v->person = c.person;
	v->status = c.status;
}

static void ack_set(struct wire_ack_item *out, enum wire_status status,
		    enum gb_code code, const char *reason)
{
	out->status = status;
	out->transient = 0;
	if (code != GB_OK)
		snprintf(out->reason_code, sizeof(out->reason_code), "%s",
			 gb_code_name(code));
	free(out->reason);
	out->reason = reason ? xstrdup(reason) : NULL;
}

/*
 * Refuses one record: logged in the store and told in the ack, marked
 * transient when the reason may pass by itself (the device then sends the
 * same version again later).  A record the device may not write
 * (GB_EFORBIDDEN) is also written to the audit log (SPEC §6), in the same
 * transaction, so the entry is there exactly when the refusal is.
 */
static int reject(struct apply *a, const struct wire_item *it,
		  struct wire_ack_item *out, enum gb_code code,
		  const char *reason, int transient)
{
	const struct wire_batch *b = a->req->batch;
	const struct store_device *dev = a->req->dev;
	struct store_rejection rj = {
	    .device = dev->id,
	    .batch_seq = b->hdr.seq,
	    .id = out->id,
	    /* The version as sent is in the ack and the raw bytes; the
	     * row keeps only one SQLite can hold as it is (version_bounds
	     * says why one of 2^63 or more is refused). */
	    .version = out->version <= (uint64_t)GB_HLC_MAX ? out->version : 0,
	    .code = gb_code_name(code),
	    .reason = reason,
	    .raw = it->raw,
	    .raw_len =
		it->raw_len < REJECT_RAW_MAX ? it->raw_len : REJECT_RAW_MAX,
	    .at = a->now,
	};
	struct store_audit au = {
	    .at = a->now,
	    .device = dev->id,
	    .grid = dev->grid,
	    .action = "batch",
	    .status = gb_code_http(code),
	    .remote = a->req->remote ? a->req->remote : "",
	};
	char *detail;
	int rc;

	ack_set(out, WIRE_REJECTED, code, reason);
	out->transient = transient && code != GB_EFORBIDDEN;
	if (a->st->ops->rejection_put(a->st, &rj, &a->req->err) < 0)
		return -1;
	if (code != GB_EFORBIDDEN)
		return 0;
	detail = xasprintf("batch %" PRIu64 ": %s", b->hdr.seq, reason);
	au.detail = detail;
	rc = a->st->ops->audit_put(a->st, &au, &a->req->err);
	free(detail);
	return rc;
}

/*
 * Whether the sending device dev may write r: a kind its role writes
 * (gb_kind_role_allows), for its grid, and r says it was written by dev.
 * Returns 0, or -1 with err (GB_EFORBIDDEN) naming the record and the
 * rule.
 */
static int may_write(const struct store_device *dev, const struct gb_record *r,
		     struct gb_err *err)
{
	if (auth_may_write(dev, r->kind, r->grid, err) < 0)
		return gb_error_prefix(err, _("record %s"), r->id);
	if (strcasecmp(r->device, dev->id) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("record %s: written by device %s, not by "
				  "the sending device %s"),
				r->id, r->device, dev->id);
	return 0;
}

/* 1 when version v of device d is newer than the current one (HLC order,
 * device id as tie-break). */
static int newer(uint64_t v, const char *d, const struct store_current *cur)
{
	return v > cur->version ||
	       (v == cur->version && strcmp(d, cur->device) > 0);
}

/* Marks item out refused, with code and reason (copied). */
static void refuse(struct ingest_item *out, enum gb_code code,
		   const char *reason)
{
	out->code = code;
	out->reason = xstrdup(reason);
}

/*
 * Checks version v against HQ's clock now_ms (gb_hlc_bounds, the one
 * check of versions).  Returns 0 when it is in bounds, else -1 with err
 * naming the field, the bound and, for the bound that is HQ's clock, that
 * clock; *transient is then 1 when the refusal may pass by itself.
 *
 * Only the 24 h ahead of HQ's clock is transient (SPEC §4: HQ's clock):
 * HQ's clock may be behind, or the device's ahead and set right later
 * (the device then re-stamps the version).  A version of 2^63 or more,
 * or one whose time lies before 2000, never becomes valid by waiting,
 * whatever either clock does, so it is permanent: a transient refusal
 * would only make the device send it again at every sync, for ever.
 * It is the device's to write again, which gives a version in bounds.
 */
static int version_bounds(uint64_t v, int64_t now_ms, int *transient,
			  struct gb_err *err)
{
	char at[32], hq[32];

	*transient = 0;
	switch (gb_hlc_bounds(v, now_ms)) {
	case GB_HLC_IN_BOUNDS:
		return 0;
	case GB_HLC_TOO_BIG:
		return gb_error(err, GB_EINVAL,
				_("version: %" PRIu64 " is 2^63 or more "
				  "(a version stays below %" PRIu64 ")"),
				v, (uint64_t)GB_HLC_MAX + 1);
	case GB_HLC_BEFORE_2000:
		gb_time_format_utc(gb_hlc_ms(v), at);
		return gb_error(err, GB_EINVAL,
				_("version: %" PRIu64 " was written at %s, "
				  "before 2000-01-01T00:00Z"),
				v, at);
	case GB_HLC_AHEAD:
		break;
	}
	gb_time_format_utc(gb_hlc_ms(v), at);
	gb_time_format_utc(now_ms, hq);
	*transient = 1;
	return gb_error(err, GB_EINVAL,
			_("version: written at %s, more than 24 h ahead of "
			  "HQ's clock (%s)"),
			at, hq);
}

/*
 * Works out out for record it, sent by dev: refused when it could not be
 * read, names no device or grid, or is not dev's to write (may_write);
 * else its values as JSON, content hash and report columns.
 */
static void prepare_item(const struct store_device *dev,
			 const struct wire_item *it, int64_t now_ms,
			 struct ingest_item *out)
{
	const struct gb_record *r = it->rec;
	struct gb_err verr = {GB_OK, ""}, hdr = {GB_OK, ""};
	int ahead;

	memset(out, 0, sizeof(*out));
	gb_buf_init(&out->body, GB_BUF_NOLIMIT);
	if (!r) {
		refuse(out, it->code ? it->code : GB_EPROTO,
		       it->reason[0] ? it->reason
				     : _("the record could not be read"));
		return;
	}
	if (!r->device[0]) {
		refuse(out, GB_EPROTO,
		       _("device: missing (the id of the device that wrote "
			 "this version)"));
		return;
	}
	if (!r->grid[0]) {
		refuse(out, GB_EPROTO,
		       _("grid: missing (the grid the record belongs to)"));
		return;
	}
	/* Refused alone, so the device's other records still go through
	 * and its queue is not held up (SPEC §2, §6). */
	if (may_write(dev, r, &verr) < 0)
		goto refused;
	/* A version that can never be valid is refused before anything
	 * looks it up: none of 2^63 or more reaches a bind (SQLite INTEGER
	 * is signed).  One ahead of HQ's clock is refused below, after the
	 * rules that may say more about a device whose clock is ahead. */
	if (version_bounds(r->version, now_ms, &out->transient, &verr) < 0 &&
	    !out->transient)
		goto refused;
	out->transient = 0;
	if (gb_validate_header(r, now_ms, &verr) < 0) {
		int64_t then = gb_hlc_ms(r->version);
		struct gb_err e2;

		/* Times ahead of HQ's clock but not of the version's: HQ's
		 * clock is behind (SPEC §4), a transient refusal. */
		if (!(then > now_ms && gb_validate_header(r, then, &e2) == 0))
			goto refused;
		hdr = verr;
	}
	if (gb_record_values_json(r, &out->body, &verr) < 0)
		goto refused;
	out->v.rec = r;
	out->v.raw = it->raw;
	out->v.raw_len = it->raw_len;
	out->v.body = gb_buf_str(&out->body);
	content_hash(r, out->v.body, out->v.hash);
	derive(r, &out->v, out->day);
	if (gb_validate(r, NULL, now_ms, &verr) < 0) {
		int64_t then = gb_hlc_ms(r->version);
		struct gb_err e2;

		out->vcode = verr.code;
		out->vreason = xstrdup(verr.msg);
		/* Valid as of the time the device wrote the version, which
		 * is later than HQ's now: only HQ's clock (or the device's)
		 * is in the way, and the version goes once it is right. */
		out->vtransient =
		    then > now_ms && gb_validate(r, NULL, then, &e2) == 0;
		if (!out->vtransient)
			return;
		/* Then the version says why, naming both clocks, when it
		 * lies beyond HQ's bound itself. */
		if (version_bounds(r->version, now_ms, &ahead, &e2) < 0) {
			free(out->vreason);
			out->vreason = xstrdup(e2.msg);
		}
		return;
	}
	/* A time of the header ahead of HQ's clock while the version is
	 * not: that time is what is told.  With the version ahead too, the
	 * version is (below). */
	if (hdr.code != GB_OK &&
	    version_bounds(r->version, now_ms, &ahead, &verr) == 0) {
		char hq[32];

		gb_time_format_utc(now_ms, hq);
		out->vcode = hdr.code;
		out->vreason = xasprintf(_("%s (HQ's clock: %s)"), hdr.msg, hq);
		out->vtransient = 1;
		return;
	}
	if (version_bounds(r->version, now_ms, &out->vtransient, &verr) < 0) {
		out->vcode = verr.code;
		out->vreason = xstrdup(verr.msg);
	}
	return;
refused:
	refuse(out, verr.code, verr.msg);
}

void ingest_prepare(struct ingest_req *r, int64_t now_ms)
{
	const struct wire_batch *b = r->batch;

	if (!b || r->items)
		return;
	r->items = xcalloc(b->n ? b->n : 1, sizeof(*r->items));
	for (size_t i = 0; i < b->n; i++)
		prepare_item(r->dev, &b->items[i], now_ms, &r->items[i]);
	items_hash(b, r->items_hash);
}

void ingest_req_release(struct ingest_req *r)
{
	if (!r->items)
		return;
	for (size_t i = 0; i < r->batch->n; i++) {
		gb_buf_release(&r->items[i].body);
		free(r->items[i].reason);
		free(r->items[i].vreason);
	}
	free(r->items);
	r->items = NULL;
}

/*
 * Whether r is a sequential edit of the record whose current version is
 * cur: newer than every head, made from all of them (or sent without
 * bases, by an older client: it saw every lower version), with no field
 * conflict open that it would have to carry.  The merge of the versions
 * held is then r itself, so the history need not be read.
 */
static int sequential(const struct gb_record *r,
		      const struct store_current *cur)
{
	if (cur->conflicts || cur->nheads < 0 ||
	    !newer(r->version, r->device, cur))
		return 0;
	for (int h = 0; h < cur->nheads && r->nbase > 0; h++) {
		int seen = 0;

		for (int b = 0; b < r->nbase && !seen; b++)
			seen = r->base[b] == cur->heads[h];
		if (!seen)
			return 0;
	}
	return 1;
}

/* The versions of one record read back from the history. */
struct held {
	struct gb_record **recs; /* owned */
	int64_t *received;
	size_t n, cap;
};

static int held_add(void *arg, const void *raw, size_t n, int64_t received,
		    struct gb_err *err)
{
	struct held *h = arg;
	struct gb_record *r;
	struct gb_err e;

	(void)err;
	/* Every version in the history was read once already; one that no
	 * longer reads (a format dropped since) is left out of the merge
	 * rather than blocking the record for good. */
	if (wire_record_unpack(raw, n, &r, &e) < 0) {
		log_warnx("a stored version no longer reads: %s", e.msg);
		return 0;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 8;
		h->recs = xrealloc(h->recs, h->cap * sizeof(*h->recs));
		h->received =
		    xrealloc(h->received, h->cap * sizeof(*h->received));
	}
	h->recs[h->n] = r;
	h->received[h->n++] = received;
	return 0;
}

static void held_release(struct held *h)
{
	for (size_t i = 0; i < h->n; i++)
		gb_record_free(h->recs[i]);
	free(h->recs);
	free(h->received);
	memset(h, 0, sizeof(*h));
}

/* The value field f (or GB_MERGE_VOID) has in r, as field_conflict
 * keeps it: the void reason ("" for none) when voided, NULL when not. */
static const char *conflict_value(const struct gb_record *r, int f)
{
	if (f < GB_MERGE_VOID)
		return r->val[f];
	if (!r->voided)
		return NULL;
	return r->void_reason ? r->void_reason : "";
}

/* The field conflicts of m over the versions of h, one per field and
 * pair of versions, into c (m->nconf places); returns how many. */
static size_t conflicts_of(const struct gb_merge *m, const struct held *h,
			   struct store_field_conflict *c)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nconf; i++) {
		const struct gb_conflict *g = &m->conf[i];
		const struct gb_record *k = h->recs[g->kept],
				       *l = h->recs[g->lost];
		int again = 0;

		for (size_t j = 0; j < i && !again; j++)
			again = m->conf[j].field == g->field &&
				m->conf[j].kept == g->kept &&
				m->conf[j].lost == g->lost;
		if (again)
			continue;
		c[n].id = k->id;
		c[n].grid = k->grid;
		c[n].kind = k->kind->name;
		c[n].field = g->field < GB_MERGE_VOID
				 ? k->kind->fields[g->field].name
				 : "void";
		c[n].kept_version = k->version;
		c[n].kept_device = k->device;
		c[n].kept_staff = k->staff;
		c[n].kept_value = conflict_value(k, g->field);
		c[n].lost_version = l->version;
		c[n].lost_device = l->device;
		c[n].lost_staff = l->staff;
		c[n].lost_value = conflict_value(l, g->field);
		c[n].detected = h->received[g->kept] > h->received[g->lost]
				    ? h->received[g->kept]
				    : h->received[g->lost];
		n++;
	}
	return n;
}

/*
 * Merges r, just added to the history, with the versions of its record
 * held (merge.h) and makes the merge the current version: its values,
 * void, newest version and device, its heads and its field conflicts.
 * The ack: accepted when r is a head of the merge (it counts in the
 * record as it stands, even when lower than the current version), stale
 * when a version merged before saw it.  Returns -1 only when the store
 * fails.
 */
static int merge_item(struct apply *a, const struct gb_record *r,
		      struct wire_ack_item *out, struct rollup_item *done)
{
	struct store *st = a->st;
	struct gb_err *err = &a->req->err;
	struct held h;
	struct gb_version *gv = NULL;
	struct store_field_conflict *fc = NULL;
	struct store_version cv;
	struct gb_merge m;
	struct gb_buf body;
	uint64_t *heads = NULL;
	size_t self = SIZE_MAX, nh = 0, nfc;
	char day[11];
	int head = 0, rc = -1;

	memset(&h, 0, sizeof(h));
	memset(&m, 0, sizeof(m));
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	/* The newest GB_MERGE_MAX_VERSIONS: a record edited more often
	 * than that merges over its latest versions. */
	if (st->ops->history_each(st, r->id, GB_MERGE_MAX_VERSIONS, held_add,
				  &h, err) < 0)
		goto out;
	gv = xcalloc(h.n ? h.n : 1, sizeof(*gv));
	for (size_t i = 0; i < h.n; i++) {
		const struct gb_record *v = h.recs[i];

		gv[i].rec = v;
		gv[i].base = v->base;
		gv[i].nbase = (size_t)v->nbase;
		gv[i].base_known = v->nbase > 0;
		gv[i].resolves = v->resolves;
		if (v->version == r->version && !strcmp(v->device, r->device))
			self = i;
	}
	if (self == SIZE_MAX || gb_merge(gv, h.n, &m, err) < 0) {
		/* r is older than the newest GB_MERGE_MAX_VERSIONS, which
		 * stand for what it could add. */
		if (self == SIZE_MAX)
			ack_set(out, WIRE_STALE, GB_OK, NULL);
		rc = self == SIZE_MAX ? 0 : -1;
		goto out;
	}
	heads = xcalloc(m.nheads ? m.nheads : 1, sizeof(*heads));
	for (size_t i = 0; i < m.nheads; i++) {
		uint64_t ver = h.recs[m.heads[i]]->version;

		head |= m.heads[i] == self;
		/* In HLC order: two heads of one version are one base. */
		if (nh == 0 || heads[nh - 1] != ver)
			heads[nh++] = ver;
	}
	fc = xcalloc(m.nconf ? m.nconf : 1, sizeof(*fc));
	nfc = conflicts_of(&m, &h, fc);
	memset(&cv, 0, sizeof(cv));
	if (gb_record_values_json(m.rec, &body, err) < 0)
		goto out;
	cv.rec = m.rec;
	cv.body = gb_buf_str(&body);
	derive(m.rec, &cv, day);
	cv.received_at = a->now;
	cv.heads = heads;
	cv.nheads = nh;
	cv.conflicts = (int)nfc;
	if (st->ops->current_put(st, &cv, err) < 0 ||
	    st->ops->field_conflicts_put(st, r->id, fc, nfc, err) < 0)
		goto out;
	done->cur = done->merged = m.rec;
	done->conflicts = (int)nfc;
	done->remerged = 1;
	m.rec = NULL;
	ack_set(out, head ? WIRE_ACCEPTED : WIRE_STALE, GB_OK, NULL);
	rc = 0;
out:
	gb_buf_release(&body);
	free(fc);
	free(heads);
	gb_merge_release(&m);
	free(gv);
	held_release(&h);
	return rc;
}

/* Tells the store which records apply_item is about to look up: those
 * of the batch that passed the checks before the store. */
static int prefetch(struct store *st, const struct wire_batch *b,
		    struct ingest_req *req)
{
	const char **ids = xcalloc(b->n ? b->n : 1, sizeof(*ids));
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].rec && req->items[i].code == GB_OK)
			ids[n++] = b->items[i].rec->id;
	rc = st->ops->current_prefetch(st, ids, n, &req->err);
	free(ids);
	return rc;
}

/* Applies one record of a batch, prepared as pi, and fills its ack item.
 * Returns -1 only when the store fails (the batch is then undone). */
static int apply_item(struct apply *a, const struct wire_item *it,
		      const struct ingest_item *pi, struct wire_ack_item *out,
		      struct rollup_item *done)
{
	struct store *st = a->st;
	struct gb_err *err = &a->req->err;
	const struct gb_record *r = it->rec;
	unsigned char held[STORE_HASH_LEN];
	struct store_version v;
	struct store_current cur;
	struct gb_err verr = {GB_OK, ""};
	struct lookup_arg *la;
	int has_cur, found;

	snprintf(out->id, sizeof(out->id), "%s", r ? r->id : it->id);
	out->version = r ? r->version : it->version;
	if (pi->code != GB_OK)
		return reject(a, it, out, pi->code, pi->reason, pi->transient);
	v = pi->v;
	v.received_at = a->now;

	/* A version is only ever held for a record that has a current
	 * version, so a new record needs no look in the history. */
	has_cur = st->ops->current_get(st, r->id, &cur, err);
	found = has_cur;
	if (has_cur > 0)
		found = st->ops->version_get(st, r->id, r->version, r->device,
					     held, err);
	if (found < 0)
		return -1;
	if (found) {
		if (memcmp(held, v.hash, STORE_HASH_LEN) == 0) {
			ack_set(out, WIRE_DUPLICATE, GB_OK, NULL);
			return 0;
		}
		if (st->ops->conflict_put(st, &v, err) < 0)
			return -1;
		ack_set(out, WIRE_CONFLICT, GB_ECONFLICT,
			_("this id and version were received before with "
			  "other content; set aside"));
		return 0;
	}

	if (pi->vcode != GB_OK)
		return reject(a, it, out, pi->vcode, pi->vreason,
			      pi->vtransient);
	la = a->lookup.arg;
	la->missing = 0;
	if (gb_validate_refs(r, &a->lookup, &verr) < 0) {
		/* The store failing a look-up (for now, too: a race lost to
		 * another server) fails the batch, not the record. */
		if (verr.code == GB_EDB || verr.code == GB_EBUSY) {
			*err = verr;
			return -1;
		}
		return reject(a, it, out, verr.code, verr.msg, la->missing);
	}
	if (has_cur && strcmp(cur.kind, r->kind->name) != 0) {
		gb_error(&verr, GB_EINVAL, _("id %s is already a %s record"),
			 r->id, cur.kind);
		return reject(a, it, out, verr.code, verr.msg, 0);
	}
	if (has_cur && strcmp(cur.grid, r->grid) != 0) {
		gb_error(&verr, GB_EFORBIDDEN,
			 _("record %s belongs to grid %s"), r->id, cur.grid);
		return reject(a, it, out, verr.code, verr.msg, 0);
	}
	/* The uniqueness rule of the kind's entry, checked here too: two
	 * laptops may each have entered the same enterprise offline.  A
	 * rule whose second record edits the first (daily reports) is the
	 * devices' to keep; HQ counts such records once. */
	if (!r->voided && r->kind->unique.mode == GB_UNIQUE_REFUSE) {
		char holder[GB_ID_LEN];
		int dup = st->ops->find_key(st, r, holder, err);

		if (dup < 0)
			return -1;
		if (dup) {
			gb_error(&verr, GB_EEXIST,
				 _("%s: %s is already recorded at HQ for "
				   "record %s"),
				 r->kind->unique.key[0],
				 gb_record_get(r, r->kind->unique.key[0]),
				 holder);
			return reject(a, it, out, verr.code, verr.msg, 0);
		}
	}
	if (st->ops->history_put(st, &v, err) < 0)
		return -1;
	if (has_cur && !sequential(r, &cur))
		return merge_item(a, r, out, done);
	/* A new record, or an edit made from every head and newer than
	 * all of them: the merge of what is held is this version itself
	 * (merge.h), with nothing to read. */
	if (st->ops->current_put(st, &v, err) < 0)
		return -1;
	done->cur = r;
	done->fresh = !has_cur;
	ack_set(out, WIRE_ACCEPTED, GB_OK, NULL);
	return 0;
}

/*
 * The answer to a device that reads compact acks (Batch.features): the
 * full ack a (the one stored) in compact form, with HQ's high-water high
 * for the device, encoded into req->ack.  Returns 0 or -1 with req->err.
 */
static int reply_compact(struct ingest_req *req, struct wire_ack *a,
			 uint64_t high)
{
	if (wire_ack_compact(a, &req->err) < 0)
		return -1;
	a->device_seq = high;
	return wire_ack_encode(a, req->ack, &req->err);
}

/* The stored ack of a batch resent, in req->ack, made compact as above. */
static int replay_compact(struct ingest_req *req, uint64_t high)
{
	struct wire_ack a;
	int rc = -1;

	if (wire_ack_decode(req->ack->data, req->ack->len, &a, &req->err) < 0)
		goto out;
	rc = reply_compact(req, &a, high);
out:
	wire_ack_release(&a);
	return rc;
}

/*
 * The "renumber" answer (proto Ack): batch b is not applied, and the
 * device is told HQ's high-water for it, above which it numbers the same
 * records again.  Only to a device that reads it; the batch is then done
 * without being applied, and a batch that follows it fails (ready).
 */
static int reply_renumber(struct ingest_req *req, uint64_t high)
{
	struct wire_ack a;

	memset(&a, 0, sizeof(a));
	a.seq = req->batch->hdr.seq;
	a.server_time = gb_now_ms();
	a.device_seq = high;
	a.renumber = 1;
	req->renumber = 1;
	gb_buf_reset(req->ack);
	return wire_ack_encode(&a, req->ack, &req->err);
}

/* Applies one batch (inside its savepoint).  Returns -1 with req->err
 * when the batch must be undone. */
static int apply_batch(struct apply *a)
{
	struct ingest_req *req = a->req;
	const struct wire_batch *b = req->batch;
	struct store *st = a->st;
	const unsigned char *ih = req->items_hash;
	unsigned char held[STORE_HASH_LEN];
	struct lookup_arg la = {st, b->hdr.grid, 0};
	int compact = (b->hdr.features & WIRE_FEATURE_ACK) != 0;
	struct wire_ack ack;
	uint64_t high = 0;
	int found, rc = -1;

	memset(&ack, 0, sizeof(ack));
	req->renumber = 0;
	gb_buf_reset(req->ack);
	/* Its grid first: what is read below is then what the last server
	 * to apply a batch of the grid committed. */
	if (st->ops->grid_lock(st, b->hdr.grid, &req->err) < 0)
		return -1;
	found = st->ops->batch_get(st, req->dev->id, b->hdr.seq, held, req->ack,
				   &req->err);
	if (found < 0)
		return -1;
	if (compact &&
	    st->ops->batch_high(st, req->dev->id, 0, &high, &req->err) < 0)
		return -1;
	if (found) {
		if (memcmp(held, ih, STORE_HASH_LEN) == 0)
			return compact ? replay_compact(req, high) : 0;
		gb_buf_reset(req->ack);
		if (compact)
			return reply_renumber(req, high);
		return gb_error(&req->err, GB_ECONFLICT,
				_("batch %" PRIu64 " of device %s was applied "
				  "before with other records; a new batch "
				  "needs a new sequence number"),
				b->hdr.seq, req->dev->id);
	}
	/* A number at or below the mark that HQ does not hold: the device
	 * numbers from an older copy of its file.  Its batches are never
	 * applied under a number below one applied before. */
	if (compact && b->hdr.seq <= high)
		return reply_renumber(req, high);
	a->lookup.arg = &la;
	a->lookup.find = lookup_find;
	ack.seq = b->hdr.seq;
	ack.server_time = a->now;
	ack.n = b->n;
	ack.items = xcalloc(b->n ? b->n : 1, sizeof(*ack.items));
	a->done = xcalloc(b->n ? b->n : 1, sizeof(*a->done));
	if (prefetch(st, b, req) < 0)
		goto out;
	for (size_t i = 0; i < b->n; i++)
		if (apply_item(a, &b->items[i], &req->items[i], &ack.items[i],
			       &a->done[i]) < 0)
			goto out;
	if (wire_ack_encode(&ack, req->ack, &req->err) < 0 ||
	    st->ops->batch_put(st, req->dev->id, b->hdr.seq, ih, b->n,
			       req->ack->data, req->ack->len, a->now,
			       &req->err) < 0 ||
	    st->ops->device_seen(st, req->dev->id, a->now,
				 b->hdr.has_pending ? (int64_t)b->hdr.pending
						    : -1,
				 b->hdr.oldest_pending, &req->err) < 0 ||
	    rollup_batch_applied(st, req->dev, b, a->done, a->now, &req->err) <
		0)
		goto out;
	/* Stored in full, for any device that sends this batch again;
	 * answered compact to one that reads it. */
	if (compact &&
	    reply_compact(req, &ack, high > b->hdr.seq ? high : b->hdr.seq) < 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; a->done && i < b->n; i++)
		gb_record_free(a->done[i].merged);
	free(a->done);
	a->done = NULL;
	wire_ack_release(&ack);
	if (rc < 0)
		gb_buf_reset(req->ack);
	return rc;
}

static void fail_all(struct ingest_req *const *reqs, size_t n,
		     const struct gb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		ingest_req_release(reqs[i]);
		reqs[i]->rc = -1;
		reqs[i]->err = *err;
		if (reqs[i]->ack)
			gb_buf_reset(reqs[i]->ack);
	}
}

/*
 * Whether r may be applied now: 1 when it is no batch, follows no batch
 * (hdr.after 0) or follows one applied, in this group (reqs) or before;
 * 0 when that one is in the group still to do, or neither in it nor in
 * the store; -1 with r->err when it failed in this group or the store
 * fails.  The group may hold several copies of that batch (one held from
 * a push the device gave up, one sent since): one applied is enough.
 */
static int ready(struct store *st, struct ingest_req *const *reqs, size_t n,
		 struct ingest_req *r)
{
	const struct wire_batch *b = r->batch;
	unsigned char h[STORE_HASH_LEN];
	int pending = 0, failed = 0, found;

	if (!b || !b->hdr.after)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const struct ingest_req *p = reqs[i];

		if (p == r || !p->batch || p->batch->hdr.seq != b->hdr.after ||
		    strcmp(p->dev->id, r->dev->id) != 0)
			continue;
		if (p->rc == 0 && !p->renumber)
			return 1;
		if (p->rc == 1)
			pending = 1;
		else
			failed = 1;
	}
	if (failed && !pending)
		return gb_error(&r->err, GB_EBUSY,
				_("batch %" PRIu64 " follows batch %" PRIu64
				  ", which failed: send both again"),
				b->hdr.seq, b->hdr.after);
	found =
	    st->ops->batch_get(st, r->dev->id, b->hdr.after, h, NULL, &r->err);
	if (found <= 0 || !pending)
		return found;
	/* A copy still to do may wait for a batch that never comes while
	 * the store holds this one already: then it is a copy of the one
	 * stored.  One with other records fails (ECONFLICT), and r then
	 * with it. */
	for (size_t i = 0; i < n; i++) {
		const struct ingest_req *p = reqs[i];

		if (p != r && p->batch && p->rc == 1 &&
		    p->batch->hdr.seq == b->hdr.after &&
		    strcmp(p->dev->id, r->dev->id) == 0 &&
		    memcmp(p->items_hash, h, STORE_HASH_LEN) == 0)
			return 1;
	}
	return 0;
}

/* Readies requests reqs[from..n) for a group: not done yet. */
static void group_add(struct ingest_req *const *reqs, size_t from, size_t n,
		      int64_t now_ms)
{
	for (size_t i = from; i < n; i++) {
		reqs[i]->rc = 1;
		gb_err_clear(&reqs[i]->err);
		ingest_prepare(reqs[i], now_ms);
	}
}

static int grid_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Takes the grids of the batches among reqs[from..n) still to do, in
 * order of their codes (grid_lock), in the open transaction and outside
 * any savepoint, so that they are held to its end.  Two groups that take
 * their grids this way never wait for each other in a circle; only the
 * batches a group takes in later (writer_main) may.  Returns 0, or -1
 * with err when the store failed (the transaction is then lost).
 */
static int group_lock(struct store *st, struct ingest_req *const *reqs,
		      size_t from, size_t n, struct gb_err *err)
{
	const char **grids = xcalloc(n - from + 1, sizeof(*grids));
	size_t k = 0;
	int rc = 0;

	for (size_t i = from; i < n; i++)
		if (reqs[i]->rc == 1 && reqs[i]->batch)
			grids[k++] = reqs[i]->batch->hdr.grid;
	qsort(grids, k, sizeof(*grids), grid_cmp);
	for (size_t i = 0; i < k && rc == 0; i++)
		if (i == 0 || strcmp(grids[i], grids[i - 1]) != 0)
			rc = st->ops->grid_lock(st, grids[i], err);
	free(grids);
	return rc;
}

/*
 * Applies what can be applied of reqs[0..n) in the open transaction: in
 * the order they came, but a batch after the one it follows, in passes
 * until one does nothing.  Adds the records applied to *records.
 * Returns 0, or -1 when the store dropped the transaction (every request
 * has then failed).
 */
static int group_run(struct store *st, struct ingest_req *const *reqs, size_t n,
		     int64_t now_ms, size_t *records, struct gb_err *err)
{
	struct apply a;
	int progress;

	do {
		progress = 0;
		for (size_t i = 0; i < n; i++) {
			struct ingest_req *r = reqs[i];
			int rc;

			if (r->rc != 1)
				continue;
			rc = ready(st, reqs, n, r);
			if (rc == 0)
				continue;
			progress = 1;
			if (rc < 0) {
				r->rc = -1;
				continue;
			}
			memset(&a, 0, sizeof(a));
			a.st = st;
			a.req = r;
			a.now = now_ms;
			rc = st->ops->savepoint(st, &r->err);
			if (rc == 0)
				rc = r->batch ? apply_batch(&a)
				     : r->audit
					 ? st->ops->audit_put(st, r->audit,
							      &r->err)
					 : st->ops->device_seen(st, r->seen,
								now_ms, 0, 0,
								&r->err);
			if (rc == 0)
				rc = st->ops->release(st, &r->err);
			r->rc = rc;
			if (rc == 0) {
				*records += r->batch ? r->batch->n : 0;
				continue;
			}
			if (st->ops->rollback_to(st) < 0) {
				/* The store dropped the whole transaction:
				 * what the group did so far is gone too. */
				*err = r->err;
				st->ops->rollback(st);
				fail_all(reqs, n, err);
				return -1;
			}
		}
	} while (progress);
	return 0;
}

/* Commits the group; the requests done are freed of their prepared
 * work. */
static int group_commit(struct store *st, struct ingest_req *const *reqs,
			size_t n, struct gb_err *err)
{
	if (st->ops->commit(st, err) < 0) {
		fail_all(reqs, n, err);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (reqs[i]->rc != 1)
			ingest_req_release(reqs[i]);
	return 0;
}

/* Opens the writer transaction for reqs[0..n), readied afresh, and
 * takes their grids.  Returns 0, or -1 with every request failed. */
static int group_begin(struct store *st, struct ingest_req *const *reqs,
		       size_t n, int64_t now_ms, struct gb_err *err)
{
	group_add(reqs, 0, n, now_ms);
	if (st->ops->begin(st, err) < 0) {
		fail_all(reqs, n, err);
		return -1;
	}
	if (group_lock(st, reqs, 0, n, err) < 0) {
		st->ops->rollback(st);
		fail_all(reqs, n, err);
		return -1;
	}
	return 0;
}

/* Whether a group that failed as a whole with err, after attempt runs
 * before this one, is worth running again: the store lost it to another
 * server (or for now), and not too often yet.  Then it waits a moment,
 * a random part of a few ms, so that two servers that deadlocked do
 * not meet again at once. */
static int group_again(const struct gb_err *err, int attempt)
{
	struct timespec ts = {0, 0};

	if (err->code != GB_EBUSY || attempt >= RETRY_MAX)
		return 0;
	ts.tv_nsec =
	    (long)(1 + gb_random_uniform(5u * (uint32_t)(attempt + 1))) *
	    1000000;
	nanosleep(&ts, NULL);
	return 1;
}

int ingest_apply(struct store *st, struct ingest_req *const *reqs, size_t n,
		 int64_t now_ms, struct gb_err *err)
{
	for (int attempt = 0;; attempt++) {
		size_t records = 0;
		int rc = group_begin(st, reqs, n, now_ms, err);

		if (rc == 0)
			rc = group_run(st, reqs, n, now_ms, &records, err);
		if (rc == 0)
			rc = group_commit(st, reqs, n, err);
		if (rc == 0 || !group_again(err, attempt))
			return rc;
	}
}

/* ---- the writer thread ---- */

/* Milliseconds of a clock that only goes forward (holds are timed on
 * it, not on the wall clock, which tests may pin). */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts the lanes with grids bound into ing->lanes_busy, with ing->mu
 * held. */
static void lanes_note(struct ingest *ing)
{
	int busy[INGEST_WRITERS_MAX] = {0}, k = 0;

	for (size_t i = 0; i < ing->nbound; i++)
		if (!busy[ing->bound[i].lane]++)
			k++;
	atomic_store(&ing->lanes_busy, k);
}

/* The grid of request r: its batch's, or for a device caught up its
 * device's; NULL for an audit entry. */
static const char *req_grid(const struct ingest_req *r)
{
	return r->batch ? r->batch->hdr.grid : r->seen ? r->grid : NULL;
}

/* The lane for request r, which is counted there until lane_done, with
 * ing->mu held: its grid's lane while the grid has requests in one,
 * else the lane with the fewest requests of grids (the next in turn of
 * those with as few); lane 0 for a request of no grid (an audit
 * entry). */
static int lane_pick(struct ingest *ing, const struct ingest_req *r)
{
	size_t load[INGEST_WRITERS_MAX] = {0};
	const char *grid = req_grid(r);
	struct bound *b;
	int best;

	if (!grid || ing->nlanes == 1)
		return 0;
	for (size_t i = 0; i < ing->nbound; i++) {
		b = &ing->bound[i];
		if (!strcmp(b->grid, grid)) {
			b->n++;
			return b->lane;
		}
		load[b->lane] += b->n;
	}
	best = ing->turn++ % ing->nlanes;
	for (int j = 1; j < ing->nlanes; j++) {
		int k = (best + j) % ing->nlanes;

		if (load[k] < load[best])
			best = k;
	}
	if (ing->nbound == ing->bound_cap) {
		ing->bound_cap = ing->bound_cap ? 2 * ing->bound_cap : 16;
		ing->bound =
		    xrealloc(ing->bound, ing->bound_cap * sizeof(*ing->bound));
	}
	b = &ing->bound[ing->nbound++];
	snprintf(b->grid, sizeof(b->grid), "%s", grid);
	b->lane = best;
	b->n = 1;
	lanes_note(ing);
	return best;
}

/* Request r is done (handed back): it no longer counts in its lane,
 * with ing->mu held. */
static void lane_done(struct ingest *ing, struct ingest_req *r)
{
	const char *grid = req_grid(r);

	r->done = 1;
	if (!grid || ing->nlanes == 1)
		return;
	for (size_t i = 0; i < ing->nbound; i++) {
		struct bound *b = &ing->bound[i];

		if (strcmp(b->grid, grid) != 0)
			continue;
		if (--b->n == 0) {
			*b = ing->bound[--ing->nbound];
			lanes_note(ing);
		}
		return;
	}
}

/* Refuses held request i (GB_EBUSY, why) and takes it off the held
 * list, with ing->mu held. */
static void held_drop(struct lane *l, size_t i, const char *why)
{
	struct ingest_req *r = l->held[i];

	r->rc = -1;
	gb_error(&r->err, GB_EBUSY,
		 _("batch %" PRIu64 " was dropped while it waited for batch "
		   "%" PRIu64 ": %s; send both again"),
		 r->batch->hdr.seq, r->batch->hdr.after, why);
	if (r->ack)
		gb_buf_reset(r->ack);
	ingest_req_release(r);
	lane_done(l->ing, r);
	l->held[i] = l->held[--l->nheld];
}

/* Drops the held batches whose device sent them again or whose
 * connection is gone, with ing->mu held, and wakes their requesters. */
static void held_prune(struct lane *l)
{
	int dropped = 0;

	for (size_t i = 0; i < l->nheld;) {
		struct ingest_req *r = l->held[i];

		if (r->superseded) {
			held_drop(l, i, _("the device sent it again"));
		} else if (r->watch && r->watch->gone &&
			   r->watch->gone(r->watch->arg)) {
			held_drop(l, i, _("its connection is closed"));
		} else {
			i++;
			continue;
		}
		dropped = 1;
	}
	if (dropped)
		pthread_cond_broadcast(&l->ing->done);
}

/* Waits on ing->work, with ing->mu held, until a request comes, the
 * ingest stops, the first hold ends (ingest_set_hold may bring it
 * closer meanwhile), or, while batches are held, another server
 * commits batches or WATCH_POLL_MS pass (when the store has others):
 * returns 0.  Returns 1 when idle_at (a mono_ms
 * time; 0: none) passes first.  While batches are held it looks every
 * HELD_POLL_MS whether they are still wanted (held_prune).  Of
 * lane l: its requests and held batches. */
static int writer_wait(struct lane *l, int64_t idle_at)
{
	struct ingest *ing = l->ing;
	struct timespec ts;

	while (!l->head && !ing->stopping) {
		int64_t until = idle_at ? idle_at : INT64_MAX, now, wake;

		held_prune(l);
		/* Another server committed batches: one held here may follow
		 * one of them. */
		if (l->poke && l->nheld) {
			l->poke = 0;
			return 0;
		}
		l->poke = 0;
		for (size_t i = 0; i < l->nheld; i++)
			if (l->held[i]->wait_until < until)
				until = l->held[i]->wait_until;
		if (ing->watching && l->nheld && l->look_at < until)
			until = l->look_at;
		if (until == INT64_MAX && l->nheld == 0) {
			pthread_cond_wait(&l->work, &ing->mu);
			continue;
		}
		now = mono_ms();
		if (idle_at && now >= idle_at)
			return 1;
		if (now >= until)
			return 0;
		wake = until;
		if (l->nheld && now + HELD_POLL_MS < wake)
			wake = now + HELD_POLL_MS;
		ts.tv_sec = (time_t)(wake / 1000);
		ts.tv_nsec = (long)(wake % 1000) * 1000000;
		pthread_cond_timedwait(&l->work, &ing->mu, &ts);
	}
	held_prune(l);
	return 0;
}

/*
 * After a group: a request done is handed back; a batch still waiting
 * for the one it follows is held for the next group, until its hold
 * ends, the ingest stops, or too many are held: then it is refused
 * (GB_EBUSY), and the device sends it again.  With ing->mu held.
 */
static void writer_settle(struct lane *l, struct ingest_req *r, int64_t now)
{
	struct ingest *ing = l->ing;

	if (r->rc != 1) {
		lane_done(ing, r);
		return;
	}
	/* The hold may have been cut (ingest_set_hold) while r was in the
	 * group. */
	if (!r->wait_until || r->wait_until > now + ing->hold_ms)
		r->wait_until = now + ing->hold_ms;
	if (!ing->stopping && now < r->wait_until && l->nheld < GROUP_MAX) {
		l->held[l->nheld++] = r;
		if (!r->told_held && r->watch && r->watch->held)
			r->watch->held(r->watch->arg);
		r->told_held = 1;
		return;
	}
	r->rc = -1;
	gb_error(&r->err, GB_EBUSY,
		 _("batch %" PRIu64 " follows batch %" PRIu64
		   ", which has not come: send both again"),
		 r->batch->hdr.seq, r->batch->hdr.after);
	if (r->ack)
		gb_buf_reset(r->ack);
	lane_done(ing, r);
}

/* Moves what is queued to group[*n..cap), with ing->mu held. */
static void writer_take(struct lane *l, struct ingest_req **group, size_t *n,
			size_t cap)
{
	while (l->head && *n < cap) {
		group[(*n)++] = l->head;
		l->head = l->head->next;
	}
	if (!l->head)
		l->tail = NULL;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Folds a group of n requests, begun at start (µs) and committed from
 * commit (µs) to now, into ing's averages.  Audit entries and marks ride
 * along in a group and cost next to nothing: only batches count.  A
 * quarter of each new group, so that the averages follow the load
 * within a few groups. */
static void cost_note(struct ingest *ing, struct ingest_req *const *group,
		      size_t n, int64_t start, int64_t commit)
{
	int64_t now = mono_us(), apply, was;
	size_t batches = 0;

	for (size_t i = 0; i < n; i++)
		if (group[i]->batch)
			batches++;
	if (!batches)
		return;
	apply = (commit - start) / (int64_t)batches;
	/* Two lanes ending groups at once may lose one's update: an
	 * average of a few groups' does not mind. */
	was = atomic_load(&ing->apply_us);
	atomic_store(&ing->apply_us, was ? (3 * was + apply) / 4 : apply);
	was = atomic_load(&ing->commit_us);
	atomic_store(&ing->commit_us,
		     was ? (3 * was + now - commit) / 4 : now - commit);
}

/* With several lanes, a batch costs the ingest a lane's time over the
 * lanes that have grids to apply: they apply theirs at once.  Without
 * ing->mu: the HTTP threads ask with their slot lock held, which the
 * writer takes with ing->mu held (ingest_watch.held). */
void ingest_cost_us(struct ingest *ing, int64_t *apply, int64_t *commit)
{
	int k = atomic_load(&ing->lanes_busy);

	*apply = atomic_load(&ing->apply_us);
	*commit = atomic_load(&ing->commit_us);
	if (k > 1)
		*apply /= k;
}

/* Takes the nice value ingest_set_nice asked for, with ing->mu held.
 * On Linux the nice value is the calling thread's: only the writer's
 * changes.  A value it may not take (lower than it has, unprivileged) is
 * left as it is. */
static void writer_nice(struct lane *l)
{
	if (l->ing->nice == l->nice_set)
		return;
	if (setpriority(PRIO_PROCESS, 0, l->ing->nice) < 0)
		log_warnx("the writer keeps its priority: %s", strerror(errno));
	l->nice_set = l->ing->nice;
}

/*
 * The writer: takes the held batches and every request waiting, applies
 * them in one transaction, and while that goes on and the transaction
 * holds fewer than TXN_RECORDS records, applies in it the requests that
 * came meanwhile too, then commits once.  A device with several batches
 * on the wire thus has them applied under one commit: the pages at the
 * end of each B-tree are written once for all of them.
 *
 * The WAL is checkpointed when no request has come for IDLE_MS after a
 * commit, and on the way out, so that a push is not stopped for it;
 * between requests only when it nears its bound (store.h, checkpoint).
 */
static void *writer_main(void *arg)
{
	struct lane *l = arg;
	struct ingest *ing = l->ing;
	struct ingest_req *group[2 * GROUP_MAX];
	struct gb_err err;
	int64_t now, idle_at = 0, t_start, t_commit;

	for (;;) {
		size_t n = 0, done = 0, records = 0;
		int64_t at;
		int rc, watching, lanes;

		pthread_mutex_lock(&ing->mu);
		writer_nice(l);
		if (writer_wait(l, idle_at)) {
			pthread_mutex_unlock(&ing->mu);
			idle_at = 0;
			rc = l->st->ops->checkpoint(l->st, STORE_CKPT_IDLE,
						    &err);
			if (rc < 0)
				log_warnx("%s", err.msg);
			else if (rc == 1) /* a command holds the store */
				idle_at = mono_ms() + IDLE_MS;
			continue;
		}
		writer_nice(l);
		/* The held ones first: they came first. */
		for (size_t i = 0; i < l->nheld; i++)
			group[n++] = l->held[i];
		l->nheld = 0;
		writer_take(l, group, &n, GROUP_MAX);
		watching = ing->watching;
		lanes = ing->nlanes;
		pthread_mutex_unlock(&ing->mu);
		if (n == 0)
			break; /* stopping, and nothing left */

		t_start = mono_us();
		at = gb_now_ms();
		for (int attempt = 0;; attempt++) {
			records = 0;
			rc = group_begin(l->st, group, n, at, &err);
			while (rc == 0) {
				rc = group_run(l->st, group, n, at, &records,
					       &err);
				/* With other servers on the store, what came
				 * meanwhile waits for the next group: this one
				 * holds its grids until it commits, and would
				 * take more of them out of order. */
				if (rc < 0 || records >= TXN_RECORDS ||
				    watching)
					break;
				done = n;
				pthread_mutex_lock(&ing->mu);
				writer_take(l, group, &n, 2 * GROUP_MAX);
				pthread_mutex_unlock(&ing->mu);
				if (n == done)
					break;
				group_add(group, done, n, at);
				rc = group_lock(l->st, group, done, n, &err);
				if (rc < 0) {
					l->st->ops->rollback(l->st);
					fail_all(group, n, &err);
				}
			}
			t_commit = mono_us();
			if (rc == 0)
				rc = group_commit(l->st, group, n, &err);
			if (rc == 0 || !group_again(&err, attempt))
				break;
			log_warnx("a group of %zu requests is run again: %s", n,
				  err.msg);
		}
		if (rc < 0)
			log_warnx("a group of %zu requests failed: %s", n,
				  err.msg);
		else if (lanes > 1)
			log_debug("writer %d: a group of %zu requests",
				  (int)(l - ing->lanes), n);
		cost_note(ing, group, n, t_start, t_commit);
		now = mono_ms();
		pthread_mutex_lock(&ing->mu);
		for (size_t i = 0; i < n; i++)
			writer_settle(l, group[i], now);
		l->look_at = now + WATCH_POLL_MS;
		pthread_cond_broadcast(&ing->done);
		pthread_mutex_unlock(&ing->mu);

		idle_at = now + IDLE_MS;
		if (l->st->ops->checkpoint(l->st, STORE_CKPT_BUSY, &err) < 0)
			log_warnx("%s", err.msg);
	}
	if (l->st->ops->checkpoint(l->st, STORE_CKPT_FINAL, &err) < 0)
		log_warnx("%s", err.msg);
	return NULL;
}

/* The store's word that another server committed batches (store_ops.
 * watch), from a thread of the store's. */
static void writer_poke(void *arg)
{
	struct ingest *ing = arg;

	pthread_mutex_lock(&ing->mu);
	for (int k = 0; k < ing->nlanes; k++) {
		ing->lanes[k].poke = 1;
		pthread_cond_signal(&ing->lanes[k].work);
	}
	pthread_mutex_unlock(&ing->mu);
}

/* Starts the writer of lane k on st. */
static int lane_start(struct ingest *ing, int k, struct store *st,
		      struct gb_err *err)
{
	struct lane *l = &ing->lanes[k];
	pthread_condattr_t ca;
	int rc;

	l->ing = ing;
	l->st = st;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->work, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&l->thread, NULL, writer_main, l);
	if (rc != 0) {
		pthread_cond_destroy(&l->work);
		return gb_error(err, GB_EINTERNAL,
				_("starting the writer thread: %s"),
				strerror(rc));
	}
	pthread_mutex_lock(&ing->mu);
	ing->nlanes = k + 1;
	pthread_mutex_unlock(&ing->mu);
	return 0;
}

int ingest_start(struct ingest **out, struct store *st, struct gb_err *err)
{
	struct ingest *ing = xcalloc(1, sizeof(*ing));
	int rc;

	ing->hold_ms = HOLD_MS;
	atomic_init(&ing->apply_us, 0);
	atomic_init(&ing->commit_us, 0);
	atomic_init(&ing->lanes_busy, 0);
	pthread_mutex_init(&ing->mu, NULL);
	pthread_cond_init(&ing->done, NULL);
	if (lane_start(ing, 0, st, err) < 0) {
		pthread_cond_destroy(&ing->done);
		pthread_mutex_destroy(&ing->mu);
		free(ing);
		return -1;
	}
	rc = st->ops->watch(st, writer_poke, ing, err);
	if (rc < 0) {
		ingest_stop(ing);
		return -1;
	}
	pthread_mutex_lock(&ing->mu);
	ing->watching = rc;
	pthread_mutex_unlock(&ing->mu);
	*out = ing;
	return 0;
}

int ingest_add_writer(struct ingest *ing, struct store *st2, struct gb_err *err)
{
	if (ing->nlanes == INGEST_WRITERS_MAX)
		return gb_error(err, GB_EINVAL, _("at most %d writers"),
				INGEST_WRITERS_MAX);
	return lane_start(ing, ing->nlanes, st2, err);
}

void ingest_stop(struct ingest *ing)
{
	struct gb_err err;

	if (!ing)
		return;
	ing->lanes[0].st->ops->watch(ing->lanes[0].st, NULL, NULL, &err);
	pthread_mutex_lock(&ing->mu);
	ing->stopping = 1;
	for (int k = 0; k < ing->nlanes; k++)
		pthread_cond_signal(&ing->lanes[k].work);
	pthread_mutex_unlock(&ing->mu);
	for (int k = 0; k < ing->nlanes; k++) {
		pthread_join(ing->lanes[k].thread, NULL);
		pthread_cond_destroy(&ing->lanes[k].work);
	}
	pthread_cond_destroy(&ing->done);
	pthread_mutex_destroy(&ing->mu);
	free(ing->bound);
	free(ing);
}

void ingest_set_hold(struct ingest *ing, int64_t ms)
{
	int64_t until = mono_ms() + ms;

	pthread_mutex_lock(&ing->mu);
	ing->hold_ms = ms;
	/* The holds under way end by the new bound too: the writer, woken,
	 * refuses those that are over. */
	for (int k = 0; k < ing->nlanes; k++) {
		struct lane *l = &ing->lanes[k];

		for (size_t i = 0; i < l->nheld; i++)
			if (l->held[i]->wait_until > until)
				l->held[i]->wait_until = until;
		pthread_cond_signal(&l->work);
	}
	pthread_mutex_unlock(&ing->mu);
}

void ingest_set_nice(struct ingest *ing, int nice)
{
	pthread_mutex_lock(&ing->mu);
	ing->nice = nice;
	for (int k = 0; k < ing->nlanes; k++)
		pthread_cond_signal(&ing->lanes[k].work);
	pthread_mutex_unlock(&ing->mu);
}

/* A batch of r's device with r's sequence number is held: the device
 * started again from r, so that one and the later ones held of it are
 * marked to be dropped (held_prune).  Those of lane l, the lane of r's
 * grid, with ing->mu held. */
static void held_supersede(struct lane *l, const struct ingest_req *r)
{
	const struct wire_batch *b = r->batch;
	int again = 0;

	for (size_t i = 0; i < l->nheld; i++) {
		const struct ingest_req *h = l->held[i];

		if (h->batch->hdr.seq == b->hdr.seq &&
		    strcmp(h->dev->id, r->dev->id) == 0)
			again = 1;
	}
	if (!again)
		return;
	for (size_t i = 0; i < l->nheld; i++) {
		struct ingest_req *h = l->held[i];

		if (h->batch->hdr.seq >= b->hdr.seq &&
		    strcmp(h->dev->id, r->dev->id) == 0)
			h->superseded = 1;
	}
}

/* Queues r and waits until the writer has done it. */
static int submit(struct ingest *ing, struct ingest_req *r, struct gb_err *err)
{
	struct lane *l;

	r->done = 0;
	r->next = NULL;
	pthread_mutex_lock(&ing->mu);
	if (ing->stopping) {
		pthread_mutex_unlock(&ing->mu);
		return gb_error(err, GB_EINTR, _("the server is stopping"));
	}
	r->lane = lane_pick(ing, r);
	l = &ing->lanes[r->lane];
	if (r->batch)
		held_supersede(l, r);
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	pthread_cond_signal(&l->work);
	while (!r->done)
		pthread_cond_wait(&ing->done, &ing->mu);
	pthread_mutex_unlock(&ing->mu);
	if (r->rc < 0 && err)
		*err = r->err;
	return r->rc;
}

int ingest_check(const struct store_device *dev, const struct wire_batch *b,
		 struct gb_err *err)
{
	if (auth_may_sync(dev, err) < 0)
		return -1;
	if (strcasecmp(b->hdr.device, dev->id) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("the batch names device %s, but the token is "
				  "that of device %s"),
				b->hdr.device, dev->id);
	if (strcmp(b->hdr.grid, dev->grid) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("device %s belongs to grid %s, not %s"),
				dev->id, dev->grid, b->hdr.grid);
	return 0;
}

int ingest_batch(struct ingest *ing, const struct store_device *dev,
		 const struct wire_batch *b, struct gb_buf *ack,
		 struct gb_err *err)
{
	return ingest_batch_watched(ing, dev, NULL, b, ack, NULL, err);
}

int ingest_batch_from(struct ingest *ing, const struct store_device *dev,
		      const char *remote, const struct wire_batch *b,
		      struct gb_buf *ack, struct gb_err *err)
{
	return ingest_batch_watched(ing, dev, remote, b, ack, NULL, err);
}

int ingest_batch_watched(struct ingest *ing, const struct store_device *dev,
			 const char *remote, const struct wire_batch *b,
			 struct gb_buf *ack, const struct ingest_watch *watch,
			 struct gb_err *err)
{
	struct ingest_req r;
	int rc;

	if (ingest_check(dev, b, err) < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.remote = remote;
	r.dev = dev;
	r.batch = b;
	r.ack = ack;
	r.watch = watch;
	ingest_prepare(&r, gb_now_ms());
	rc = submit(ing, &r, err);
	ingest_req_release(&r);
	return rc;
}

size_t ingest_held(struct ingest *ing)
{
	size_t n;

	pthread_mutex_lock(&ing->mu);
	n = 0;
	for (int k = 0; k < ing->nlanes; k++)
		n += ing->lanes[k].nheld;
	pthread_mutex_unlock(&ing->mu);
	return n;
}

int ingest_seen(struct ingest *ing, const char *device, const char *grid,
		struct gb_err *err)
{
	struct ingest_req r;

	memset(&r, 0, sizeof(r));
	r.seen = device;
	r.grid = grid;
	return submit(ing, &r, err);
}

int ingest_audit(struct ingest *ing, const struct store_audit *a,
		 struct gb_err *err)
{
	struct ingest_req r;

	memset(&r, 0, sizeof(r));
	r.audit = a;
	return submit(ing, &r, err);
}

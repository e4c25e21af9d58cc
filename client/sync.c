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
 * `gridbook sync` and the daemon may work on one file at once.  Both then
 * find the same batch in sync_batch and send it; HQ applies it once, and
 * the process whose ack comes second finds the outbox rows gone and
 * leaves everything as it is.  Outbox seq numbers start again from 1 when
 * the outbox empties, so an ack removes a row only when its id and
 * version are still the ones sent, and batch numbers only ever grow.
 *
 * Going down, each page of /v1/changes is applied together with the
 * cursor that follows it, so a page is either applied and passed or
 * fetched again.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "gbtime.h"
#include "i18n.h"
#include "id.h"
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

/* The batch being delivered. */
struct batch {
	uint64_t seq;
	int64_t lo, hi;
	size_t n, alloc;
	int64_t *oseq;		 /* the outbox row of each record */
	struct gb_record **recs; /* owned */
	unsigned char *acked;	 /* 1 once an ack item matched it */
};

/* ---- small helpers ------------------------------------------------------ */

static sqlite3 *sq(struct gb_db *db)
{
	return db_sqlite(db);
}

/* Fills err with the connection's error after what.  Returns -1. */
static int sql_fail(struct gb_db *db, const char *what, struct gb_err *err)
{
	return gb_error(err, GB_EDB, "%s: %s", what, sqlite3_errmsg(sq(db)));
}

/* Prepares sql into *s, or fails with err naming what. */
static int prep(struct gb_db *db, const char *sql, sqlite3_stmt **s,
		const char *what, struct gb_err *err)
{
	if (sqlite3_prepare_v2(sq(db), sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return sql_fail(db, what, err);
	}
	return 0;
}

/* Steps a statement that returns no rows and resets it for reuse. */
static int run(struct gb_db *db, sqlite3_stmt *s, const char *what,
	       struct gb_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sql_fail(db, what, err);
	return 0;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

static void copy_str(char *out, size_t n, const char *s)
{
	snprintf(out, n, "%s", s ? s : "");
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

static size_t opt_records(const struct sync_opts *o)
{
	return o && o->max_records ? o->max_records : SYNC_MAX_RECORDS;
}

static size_t opt_bytes(const struct sync_opts *o)
{
	return o && o->max_bytes ? o->max_bytes : SYNC_MAX_BYTES;
}

/* ---- loading the versions of a batch ----------------------------------- */

/* One version of a record written on this device, from the current row
 * or from history; the record's grid and creation time are the same in
 * every version. */
static const char version_sql[] =
    "SELECT id, kind, grid, device, staff, created_at, updated_at, "
    "version, voided, void_reason, body FROM record WHERE id = ?1 AND "
    "version = ?2 AND device = ?3 "
    "UNION ALL "
    "SELECT h.id, h.kind, r.grid, h.device, h.staff, r.created_at, "
    "h.updated_at, h.version, h.voided, h.void_reason, h.body FROM "
    "record_history h JOIN record r ON r.id = h.id WHERE h.id = ?1 AND "
    "h.version = ?2 AND h.device = ?3 LIMIT 1";

/* The statements a batch is loaded with, prepared once per batch. */
struct loader {
	sqlite3_stmt *version;
	sqlite3_stmt *json;
};

static void loader_release(struct loader *l)
{
	sqlite3_finalize(l->version);
	sqlite3_finalize(l->json);
	memset(l, 0, sizeof(*l));
}

static int loader_init(struct gb_db *db, struct loader *l, struct gb_err *err)
{
	memset(l, 0, sizeof(*l));
	if (prep(db, version_sql, &l->version, _("cannot read a version"),
		 err) ||
	    prep(db, "SELECT key, value FROM json_each(?1)", &l->json,
		 _("cannot read a version"), err)) {
		loader_release(l);
		return -1;
	}
	return 0;
}

/* Fills the values of r from its stored JSON body; keys the kind does not
 * know are skipped. */
static int body_parse(struct gb_db *db, struct loader *l, struct gb_record *r,
		      const char *body, struct gb_err *err)
{
	int rc;

	sqlite3_bind_text(l->json, 1, body, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(l->json)) == SQLITE_ROW) {
		int i = gb_kind_field(r->kind, col_text(l->json, 0));

		if (i < 0 || sqlite3_column_type(l->json, 1) == SQLITE_NULL)
			continue;
		gb_record_set(r, i, col_text(l->json, 1));
	}
	sqlite3_reset(l->json);
	sqlite3_clear_bindings(l->json);
	if (rc != SQLITE_DONE)
		return gb_error(err, GB_EDB,
				_("record %s: bad stored body: %s"), r->id,
				sqlite3_errmsg(sq(db)));
	return 0;
}

/*
 * Loads version v of record id as written by this device.  Returns 1 with
 * *out (caller frees), 0 when the file does not hold it, -1 on error.
 */
static int version_load(struct gb_db *db, struct loader *l, const char *id,
			uint64_t v, struct gb_record **out, struct gb_err *err)
{
	sqlite3_stmt *s = l->version;
	const struct gb_kind *k;
	struct gb_record *r = NULL;
	int rc, ret = -1;

	*out = NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)v);
	sqlite3_bind_text(s, 3, db_device(db), -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		sql_fail(db, _("cannot read a version"), err);
		goto out;
	}
	k = gb_kind_find(col_text(s, 1));
	if (!k) {
		ret = 0;
		goto out;
	}
	r = gb_record_new(k);
	copy_str(r->id, sizeof(r->id), col_text(s, 0));
	copy_str(r->grid, sizeof(r->grid), col_text(s, 2));
	copy_str(r->device, sizeof(r->device), col_text(s, 3));
	copy_str(r->staff, sizeof(r->staff), col_text(s, 4));
	r->created_at = sqlite3_column_int64(s, 5);
	r->updated_at = sqlite3_column_int64(s, 6);
	r->version = (uint64_t)sqlite3_column_int64(s, 7);
	r->voided = sqlite3_column_int(s, 8) != 0;
	if (r->voided && sqlite3_column_type(s, 9) != SQLITE_NULL)
		gb_record_set_void_reason(r, col_text(s, 9));
	if (body_parse(db, l, r, col_text(s, 10), err))
		goto out;
	*out = r;
	r = NULL;
	ret = 1;
out:
	gb_record_free(r);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

/* ---- the batch ---------------------------------------------------------- */

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		gb_record_free(b->recs[i]);
	free(b->recs);
	free(b->oseq);
	free(b->acked);
	memset(b, 0, sizeof(*b));
}

/* Appends a record (taking it) with its outbox row. */
static void batch_add(struct batch *b, struct gb_record *r, int64_t oseq)
{
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? 2 * b->alloc : 64;
		b->recs = xrealloc(b->recs, b->alloc * sizeof(*b->recs));
		b->oseq = xrealloc(b->oseq, b->alloc * sizeof(*b->oseq));
		b->acked = xrealloc(b->acked, b->alloc);
	}
	b->recs[b->n] = r;
	b->oseq[b->n] = oseq;
	b->acked[b->n] = 0;
	b->n++;
}

/*
 * An outbox row whose version the file does not hold (it cannot happen
 * unless the file was edited by hand) would block the queue forever, so
 * it leaves the outbox and is kept in the attention list instead.
 */
static int version_missing(struct gb_db *db, int64_t oseq, const char *id,
			   uint64_t v, struct gb_err *err)
{
	static const char sql[] =
	    "INSERT OR REPLACE INTO attention (id, version, kind, status, "
	    "reason_code, reason, batch, at) VALUES (?1, ?2, coalesce("
	    "(SELECT kind FROM record WHERE id = ?1), ''), 'rejected', "
	    "'missing', ?3, 0, ?4)";
	sqlite3_stmt *s = NULL, *d = NULL;
	int rc = -1;

	if (prep(db, sql, &s, _("cannot note a missing version"), err) ||
	    prep(db, "DELETE FROM outbox WHERE seq = ?1", &d,
		 _("cannot note a missing version"), err))
		goto out;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)v);
	sqlite3_bind_text(s, 3, _("this version is missing from the grid file"),
			  -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, gb_now_ms());
	sqlite3_bind_int64(d, 1, oseq);
	if (run(db, s, _("cannot note a missing version"), err) ||
	    run(db, d, _("cannot note a missing version"), err))
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(d);
	return rc;
}

/* Loads the records of outbox rows lo..hi into b (a batch sent before,
 * being sent again). */
static int batch_reload(struct gb_db *db, struct batch *b, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	struct loader l = {0};
	int rc, ret = -1;

	if (loader_init(db, &l, err) ||
	    prep(db,
		 "SELECT seq, id, version FROM outbox WHERE seq BETWEEN ?1 "
		 "AND ?2 ORDER BY seq",
		 &s, _("cannot read the outbox"), err))
		goto out;
	sqlite3_bind_int64(s, 1, b->lo);
	sqlite3_bind_int64(s, 2, b->hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct gb_record *r;
		int found =
		    version_load(db, &l, col_text(s, 1),
				 (uint64_t)sqlite3_column_int64(s, 2), &r, err);

		if (found < 0)
			goto out;
		/* A missing version is left out here and dealt with when
		 * the next new batch is built. */
		if (found)
			batch_add(b, r, sqlite3_column_int64(s, 0));
	}
	if (rc != SQLITE_DONE) {
		sql_fail(db, _("cannot read the outbox"), err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	loader_release(&l);
	return ret;
}

/*
 * Takes the next outbox rows, at most o's record count and packed size
 * (but always at least one), into b.  Returns 0 (b->n may be 0 when the
 * outbox is empty) or -1.
 */
static int batch_build(struct gb_db *db, const struct sync_opts *o,
		       struct batch *b, struct gb_err *err)
{
	size_t max_n = opt_records(o), max_bytes = opt_bytes(o), bytes = 0;
	sqlite3_stmt *s = NULL;
	struct loader l = {0};
	struct gb_buf packed;
	int rc, ret = -1;

	gb_buf_init(&packed, GB_BUF_NOLIMIT);
	if (loader_init(db, &l, err) ||
	    prep(db,
		 "SELECT seq, id, version FROM outbox ORDER BY seq LIMIT ?1",
		 &s, _("cannot read the outbox"), err))
		goto out;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max_n);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t oseq = sqlite3_column_int64(s, 0);
		uint64_t v = (uint64_t)sqlite3_column_int64(s, 2);
		char id[GB_ID_LEN];
		struct gb_record *r;
		int found;

		copy_str(id, sizeof(id), col_text(s, 1));
		found = version_load(db, &l, id, v, &r, err);
		if (found < 0)
			goto out;
		if (!found) {
			if (version_missing(db, oseq, id, v, err))
				goto out;
			continue;
		}
		gb_buf_reset(&packed);
		if (wire_record_pack(r, &packed, err)) {
			gb_error_prefix(err, _("record %s"), r->id);
			gb_record_free(r);
			goto out;
		}
		if (b->n > 0 && bytes + packed.len > max_bytes) {
			gb_record_free(r);
			break;
		}
		bytes += packed.len;
		batch_add(b, r, oseq);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sql_fail(db, _("cannot read the outbox"), err);
		goto out;
	}
	if (b->n) {
		b->lo = b->oseq[0];
		b->hi = b->oseq[b->n - 1];
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	loader_release(&l);
	gb_buf_release(&packed);
	return ret;
}

/* Writes down the identity of b before it is sent. */
static int batch_persist(struct gb_db *db, const struct batch *b,
			 struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (prep(db,
		 "INSERT INTO sync_batch (seq, lo, hi, records, created_at) "
		 "VALUES (?1, ?2, ?3, ?4, ?5)",
		 &s, _("cannot record the batch"), err))
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)b->seq);
	sqlite3_bind_int64(s, 2, b->lo);
	sqlite3_bind_int64(s, 3, b->hi);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)b->n);
	sqlite3_bind_int64(s, 5, gb_now_ms());
	rc = run(db, s, _("cannot record the batch"), err);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Finds the batch in flight (1) or gives the next one its number and
 * writes it down (1), or finds nothing to send (0).  b is filled in both
 * first cases.  One transaction, so a batch is either fully recorded or
 * not at all.
 */
static int batch_prepare(struct gb_db *db, const struct sync_opts *o,
			 struct batch *b, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	memset(b, 0, sizeof(*b));
	if (db_begin(db, err))
		return -1;
	if (prep(db, "SELECT seq, lo, hi FROM sync_batch ORDER BY seq LIMIT 1",
		 &s, _("cannot read the batch in flight"), err))
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		b->seq = (uint64_t)sqlite3_column_int64(s, 0);
		b->lo = sqlite3_column_int64(s, 1);
		b->hi = sqlite3_column_int64(s, 2);
		sqlite3_finalize(s);
		s = NULL;
		if (batch_reload(db, b, err))
			goto out;
		if (b->n) {
			ret = 1;
			goto out;
		}
		/* Nothing of it is left (only a hand-edited file gets
		 * here): let it go and build a new one. */
		if (prep(db, "DELETE FROM sync_batch", &s,
			 _("cannot drop an empty batch"), err) ||
		    run(db, s, _("cannot drop an empty batch"), err) ||
		    meta_set_u64(db, "sync_next_seq", b->seq + 1, err))
			goto out;
	} else if (rc != SQLITE_DONE) {
		sql_fail(db, _("cannot read the batch in flight"), err);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	batch_release(b);
	b->seq = meta_u64(db, "sync_next_seq", 1);
	if (b->seq == 0)
		b->seq = 1;
	if (batch_build(db, o, b, err))
		goto out;
	if (b->n == 0) {
		ret = 0;
		goto out;
	}
	if (batch_persist(db, b, err))
		goto out;
	ret = 1;
out:
	sqlite3_finalize(s);
	if (ret < 0) {
		db_rollback(db);
		batch_release(b);
	} else if (db_commit(db, err)) {
		batch_release(b);
		ret = -1;
	}
	return ret;
}

/*
 * Gives the batch in flight a new number after HQ said that it holds
 * another batch under this one (a grid file restored from a copy sends
 * numbers it already used).  The batch was not applied under the old
 * number, so sending it under a new one loses and repeats nothing.
 */
static int batch_renumber(struct gb_db *db, struct batch *b, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	uint64_t next, fresh;
	int rc = -1;

	if (db_begin(db, err))
		return -1;
	next = meta_u64(db, "sync_next_seq", 1);
	fresh = (next > b->seq ? next : b->seq) + 1;
	if (prep(db, "UPDATE sync_batch SET seq = ?2 WHERE seq = ?1", &s,
		 _("cannot renumber the batch"), err))
		goto out;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)b->seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)fresh);
	if (run(db, s, _("cannot renumber the batch"), err) ||
	    meta_set_u64(db, "sync_next_seq", fresh, err))
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	if (rc) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db, err))
		return -1;
	b->seq = fresh;
	return 0;
}

/* ---- the ack ------------------------------------------------------------ */

/* The index in b of the version an ack item names, looking first where it
 * should be (items come in batch order); -1 when none. */
static long batch_find(const struct batch *b, size_t hint,
		       const struct wire_ack_item *it)
{
	if (hint < b->n && !b->acked[hint] &&
	    b->recs[hint]->version == it->version &&
	    strcmp(b->recs[hint]->id, it->id) == 0)
		return (long)hint;
	for (size_t i = 0; i < b->n; i++)
		if (!b->acked[i] && b->recs[i]->version == it->version &&
		    strcmp(b->recs[i]->id, it->id) == 0)
			return (long)i;
	return -1;
}

/* 1 when the ack answers batch b: its number (when sent) is b's, and it
 * names at least one of b's versions. */
static int ack_matches(const struct batch *b, const struct wire_ack *a)
{
	if (a->seq && a->seq != b->seq)
		return 0;
	for (size_t k = 0; k < a->n; k++)
		if (batch_find(b, k, &a->items[k]) >= 0)
			return 1;
	return 0;
}

/* The statements of ack_apply. */
enum { A_DEL_OUTBOX, A_CLEAR_ATT, A_PUT_ATT, A_DEL_BATCH, A_COUNT };

static const char *const ack_sql[A_COUNT] = {
    [A_DEL_OUTBOX] = "DELETE FROM outbox WHERE seq = ?1 AND id = ?2 AND "
		     "version = ?3",
    [A_CLEAR_ATT] = "DELETE FROM attention WHERE id = ?1 AND version <= ?2",
    [A_PUT_ATT] = "INSERT OR REPLACE INTO attention (id, version, kind, "
		  "status, reason_code, reason, batch, at) VALUES (?1, ?2, "
		  "?3, ?4, ?5, ?6, ?7, ?8)",
    [A_DEL_BATCH] = "DELETE FROM sync_batch WHERE seq = ?1",
};

/*
 * Records the ack of batch b in one transaction: the versions HQ took
 * (accepted, duplicate, stale) leave the outbox and clear any refusal of
 * an earlier version of their record; refused ones (rejected, conflict)
 * leave it too and go into the attention list with HQ's reason; versions
 * the ack does not name stay for the next batch.  The batch is done and
 * the next number is set.
 */
static int ack_apply(struct gb_db *db, struct batch *b,
		     const struct wire_ack *a, struct sync_result *res,
		     struct gb_err *err)
{
	sqlite3_stmt *st[A_COUNT] = {NULL};
	struct sync_result r = {0};
	int64_t now = gb_now_ms();
	uint64_t next;
	int rc = -1;

	if (db_begin(db, err))
		return -1;
	for (int i = 0; i < A_COUNT; i++)
		if (prep(db, ack_sql[i], &st[i], _("cannot record the ack"),
			 err))
			goto out;
	for (size_t k = 0; k < a->n; k++) {
		const struct wire_ack_item *it = &a->items[k];
		long i = batch_find(b, k, it);
		const struct gb_record *rec;
		const char *status = NULL;

		if (i < 0)
			continue;
		b->acked[i] = 1;
		rec = b->recs[i];
		sqlite3_bind_int64(st[A_DEL_OUTBOX], 1, b->oseq[i]);
		sqlite3_bind_text(st[A_DEL_OUTBOX], 2, rec->id, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st[A_DEL_OUTBOX], 3,
				   (sqlite3_int64)rec->version);
		if (run(db, st[A_DEL_OUTBOX], _("cannot record the ack"), err))
			goto out;
		/* Gone already: another process (gridbook sync beside the
		 * daemon) sent this batch too and recorded its ack first.
		 * Outbox seq numbers are reused once the outbox empties,
		 * hence the id and version in the condition. */
		if (sqlite3_changes(sq(db)) == 0)
			continue;
		r.sent++;
		switch (it->status) {
		case WIRE_ACCEPTED:
			r.accepted++;
			break;
		case WIRE_DUPLICATE:
			r.duplicate++;
			break;
		case WIRE_STALE:
			r.stale++;
			break;
		case WIRE_REJECTED:
			r.rejected++;
			status = "rejected";
			break;
		case WIRE_CONFLICT:
			r.conflict++;
			status = "conflict";
			break;
		}
		if (!status) {
			sqlite3_bind_text(st[A_CLEAR_ATT], 1, rec->id, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st[A_CLEAR_ATT], 2,
					   (sqlite3_int64)rec->version);
			if (run(db, st[A_CLEAR_ATT], _("cannot record the ack"),
				err))
				goto out;
			continue;
		}
		sqlite3_bind_text(st[A_PUT_ATT], 1, rec->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[A_PUT_ATT], 2,
				   (sqlite3_int64)rec->version);
		sqlite3_bind_text(st[A_PUT_ATT], 3, rec->kind->name, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st[A_PUT_ATT], 4, status, -1, SQLITE_STATIC);
		sqlite3_bind_text(st[A_PUT_ATT], 5, it->reason_code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st[A_PUT_ATT], 6,
				  it->reason ? it->reason : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st[A_PUT_ATT], 7, (sqlite3_int64)b->seq);
		sqlite3_bind_int64(st[A_PUT_ATT], 8, now);
		if (run(db, st[A_PUT_ATT], _("cannot record the ack"), err))
			goto out;
	}
	sqlite3_bind_int64(st[A_DEL_BATCH], 1, (sqlite3_int64)b->seq);
	/* Never lower: a `gridbook sync` and the daemon may both have sent
	 * this batch, and the other may have gone on since. */
	next = meta_u64(db, "sync_next_seq", 1);
	if (next < b->seq + 1)
		next = b->seq + 1;
	if (run(db, st[A_DEL_BATCH], _("cannot record the ack"), err) ||
	    meta_set_u64(db, "sync_next_seq", next, err) ||
	    meta_set_i64(db, "sync_last_ok", now, err))
		goto out;
	rc = 0;
out:
	for (int i = 0; i < A_COUNT; i++)
		sqlite3_finalize(st[i]);
	if (rc) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db, err))
		return -1;
	res->batches++;
	res->sent += r.sent;
	res->accepted += r.accepted;
	res->duplicate += r.duplicate;
	res->stale += r.stale;
	res->rejected += r.rejected;
	res->conflict += r.conflict;
	return 0;
}

/* ---- pushing ------------------------------------------------------------ */

int sync_push_batch(struct gb_db *db, const struct sync_io *io,
		    const struct sync_opts *o, struct sync_result *res,
		    struct gb_err *err)
{
	struct wire_batch_hdr hdr;
	struct wire_ack ack;
	struct gb_buf body, resp;
	struct batch b;
	int rc, ret = -1;

	memset(&ack, 0, sizeof(ack));
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	rc = batch_prepare(db, o, &b, err);
	if (rc <= 0) {
		ret = rc;
		goto out;
	}
	memset(&hdr, 0, sizeof(hdr));
	copy_str(hdr.device, sizeof(hdr.device), db_device(db));
	copy_str(hdr.grid, sizeof(hdr.grid), db_grid(db));
	for (int tries = 0;; tries++) {
		if (stopped(o)) {
			gb_error(err, GB_EINTR, _("stopped"));
			goto out;
		}
		hdr.seq = b.seq;
		gb_buf_reset(&resp);
		wire_ack_release(&ack);
		if (wire_batch_encode(&hdr, b.recs, b.n, &body, err))
			goto out;
		if (io->post_batch(io->arg, body.data, body.len, &resp, err)) {
			if (err->code != GB_ECONFLICT || tries >= MAX_RENUMBER)
				goto out;
		} else {
			if (wire_ack_decode(resp.data, resp.len, &ack, err)) {
				gb_error_prefix(err, _("ack of batch %" PRIu64),
						b.seq);
				goto out;
			}
			if (ack_matches(&b, &ack))
				break;
			if (tries >= MAX_RENUMBER) {
				gb_error(err, GB_EPROTO,
					 _("the server's ack does not answer "
					   "batch %" PRIu64),
					 b.seq);
				goto out;
			}
		}
		/* HQ holds another batch under this number. */
		if (batch_renumber(db, &b, err))
			goto out;
	}
	if (ack_apply(db, &b, &ack, res, err))
		goto out;
	ret = 1;
out:
	wire_ack_release(&ack);
	gb_buf_release(&body);
	gb_buf_release(&resp);
	batch_release(&b);
	return ret;
}

/* The number of outbox rows, or -1. */
static long outbox_count(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	long n = -1;

	if (prep(db, "SELECT count(*) FROM outbox", &s,
		 _("cannot read the outbox"), err))
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		sql_fail(db, _("cannot read the outbox"), err);
	sqlite3_finalize(s);
	return n;
}

int sync_push(struct gb_db *db, const struct sync_io *io,
	      const struct sync_opts *o, struct sync_result *res,
	      struct gb_err *err)
{
	long total = outbox_count(db, err), start = res->sent;
	int rc;

	if (total < 0)
		return -1;
	for (;;) {
		if (stopped(o))
			return gb_error(err, GB_EINTR, _("stopped"));
		rc = sync_push_batch(db, io, o, res, err);
		if (rc <= 0)
			return rc;
		if (o && o->progress) {
			long done = res->sent - start;

			o->progress(o->progress_arg, done,
				    total > done ? total : done);
		}
	}
}

/* ---- pulling ------------------------------------------------------------ */

enum {
	P_DEL_AREA_COMM,
	P_DEL_AREA,
	P_DEL_COMM,
	P_DEL_STAFF,
	P_COMM,
	P_AREA,
	P_AREA_COMM,
	P_STAFF,
	P_COUNT
};

static const char *const ref_sql[P_COUNT] = {
    [P_DEL_AREA_COMM] = "DELETE FROM area_community WHERE area IN "
			"(SELECT code FROM police_area WHERE grid = ?1)",
    [P_DEL_AREA] = "DELETE FROM police_area WHERE grid = ?1",
    [P_DEL_COMM] = "DELETE FROM community WHERE grid = ?1",
    [P_DEL_STAFF] = "DELETE FROM staff WHERE grid = ?1",
    [P_COMM] = "INSERT OR REPLACE INTO community (code, name, street, "
	       "grid, population, criminal_cases, patrol_team) VALUES "
	       "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [P_AREA] = "INSERT OR REPLACE INTO police_area (code, name, grid, "
	       "room) VALUES (?1, ?2, ?3, ?4)",
    [P_AREA_COMM] = "INSERT OR IGNORE INTO area_community (area, "
		    "community) VALUES (?1, ?2)",
    [P_STAFF] = "INSERT OR REPLACE INTO staff (code, name, role, grid, "
		"area) VALUES (?1, ?2, ?3, ?4, ?5)",
};

/* grid when the row names one, else the file's. */
static const char *row_grid(struct gb_db *db, const char *grid)
{
	return grid[0] ? grid : db_grid(db);
}

static void bind_count(sqlite3_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v < 0 ? 0 : v);
}

/*
 * Replaces the grid's reference data with what page p carries: HQ sends
 * all of it, whenever any of it changed.  Runs in the caller's
 * transaction.
 */
static int ref_replace(struct gb_db *db, const struct wire_page *p,
		       struct gb_err *err)
{
	const char *what = _("cannot store the reference data");
	const char *grid = db_grid(db);
	sqlite3_stmt *st[P_COUNT] = {NULL};
	int rc = -1;

	for (int i = 0; i < P_COUNT; i++)
		if (prep(db, ref_sql[i], &st[i], what, err))
			goto out;
	for (int i = P_DEL_AREA_COMM; i <= P_DEL_STAFF; i++) {
		sqlite3_bind_text(st[i], 1, grid, -1, SQLITE_STATIC);
		if (run(db, st[i], what, err))
			goto out;
	}
	for (size_t i = 0; i < p->ncommunities; i++) {
		const struct wire_community *c = &p->communities[i];
		sqlite3_stmt *s = st[P_COMM];

		sqlite3_bind_text(s, 1, c->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, c->name ? c->name : c->code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, c->street, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, row_grid(db, c->grid), -1,
				  SQLITE_STATIC);
		bind_count(s, 5, c->population);
		bind_count(s, 6, c->criminal_cases);
		bind_count(s, 7, c->patrol_team);
		if (run(db, s, what, err))
			goto out;
	}
	for (size_t i = 0; i < p->nareas; i++) {
		const struct wire_area *a = &p->areas[i];
		sqlite3_stmt *s = st[P_AREA];

		sqlite3_bind_text(s, 1, a->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, a->name ? a->name : a->code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, row_grid(db, a->grid), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 4, a->room ? a->room : "", -1,
				  SQLITE_STATIC);
		if (run(db, s, what, err))
			goto out;
		for (size_t k = 0; k < a->ncommunities; k++) {
			s = st[P_AREA_COMM];
			sqlite3_bind_text(s, 1, a->code, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, a->communities[k], -1,
					  SQLITE_STATIC);
			if (run(db, s, what, err))
				goto out;
		}
	}
	for (size_t i = 0; i < p->nstaff; i++) {
		const struct wire_staff *f = &p->staff[i];
		sqlite3_stmt *s = st[P_STAFF];

		sqlite3_bind_text(s, 1, f->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, f->name ? f->name : f->code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, f->role, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, row_grid(db, f->grid), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 5, f->area, -1, SQLITE_STATIC);
		if (run(db, s, what, err))
			goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < P_COUNT; i++)
		sqlite3_finalize(st[i]);
	return rc;
}

/*
 * Applies one page and stores its cursor, in one transaction.  A record
 * that cannot be stored (another kind under the same id) is counted as
 * refused and skipped; only a failing file fails the page.
 */
static int page_apply(struct gb_db *db, const struct wire_page *p,
		      struct sync_result *res, struct gb_err *err)
{
	struct sync_result r = {0};

	if (db_begin(db, err))
		return -1;
	if (p->ncommunities || p->nareas || p->nstaff) {
		if (ref_replace(db, p, err))
			goto fail;
		r.ref_updated = 1;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct gb_err e;
		int applied;

		r.received++;
		if (db_record_put_remote(db, p->recs[i], &applied, &e)) {
			if (e.code == GB_EDB || e.code == GB_EINTERNAL) {
				*err = e;
				goto fail;
			}
			r.refused++;
			continue;
		}
		r.applied += applied;
	}
	r.received += (long)p->nrefused;
	r.refused += (long)p->nrefused;
	if ((p->next_cursor[0] &&
	     db_meta_set(db, "sync_cursor", p->next_cursor, err)) ||
	    meta_set_i64(db, "sync_last_ok", gb_now_ms(), err))
		goto fail;
	if (db_commit(db, err))
		return -1;
	res->received += r.received;
	res->applied += r.applied;
	res->refused += r.refused;
	res->ref_updated |= r.ref_updated;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int sync_pull(struct gb_db *db, const struct sync_io *io,
	      const struct sync_opts *o, struct sync_result *res,
	      struct gb_err *err)
{
	char *cursor = db_meta_get(db, "sync_cursor");
	struct wire_page page;
	struct gb_buf resp;
	int ret = -1;

	wire_page_init(&page);
	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	for (long n = 0; n < MAX_PAGES; n++) {
		if (stopped(o)) {
			gb_error(err, GB_EINTR, _("stopped"));
			goto out;
		}
		gb_buf_reset(&resp);
		if (io->get_changes(io->arg, cursor ? cursor : "", &resp, err))
			goto out;
		wire_page_release(&page);
		if (wire_page_decode(resp.data, resp.len, &page, err)) {
			gb_error_prefix(err, _("changes"));
			goto out;
		}
		if (page_apply(db, &page, res, err))
			goto out;
		/* Stop unless the server says more and moved the cursor. */
		if (!page.more || !page.next_cursor[0] ||
		    (cursor && strcmp(cursor, page.next_cursor) == 0))
			break;
		free(cursor);
		cursor = xstrdup(page.next_cursor);
	}
	ret = 0;
out:
	wire_page_release(&page);
	gb_buf_release(&resp);
	free(cursor);
	return ret;
}

/* ---- rounds and state --------------------------------------------------- */

void sync_note_error(struct gb_db *db, const struct gb_err *e)
{
	struct gb_err ignored;

	if (db_begin(db, &ignored))
		return;
	if (meta_set_i64(db, "sync_last_error_at", gb_now_ms(), &ignored) ||
	    db_meta_set(db, "sync_last_error", e->msg[0] ? e->msg : "?",
			&ignored)) {
		db_rollback(db);
		return;
	}
	db_commit(db, &ignored);
}

int sync_round(struct gb_db *db, const struct sync_io *io,
	       const struct sync_opts *o, struct sync_result *res,
	       struct gb_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!*db_device(db) || !*db_grid(db))
		return gb_error(err, GB_EINVAL,
				_("the grid file has no grid or device id; "
				  "create it with gridbook init"));
	if (sync_push(db, io, o, res, err) < 0 ||
	    sync_pull(db, io, o, res, err) < 0) {
		if (err->code != GB_EINTR)
			sync_note_error(db, err);
		return -1;
	}
	return 0;
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
}

void sync_config_release(struct sync_config *c)
{
	/* The token must not linger in freed memory. */
	if (c->token)
		sodium_memzero(c->token, strlen(c->token));
	free(c->server);
	free(c->token);
	free(c->cacert);
	memset(c, 0, sizeof(*c));
}

int sync_config_set(struct gb_db *db, const char *server, const char *token,
		    const char *cacert, struct gb_err *err)
{
	char *abs = NULL;
	int rc = -1;

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
	if (cacert && *cacert) {
		abs = realpath(cacert, NULL);
		if (!abs || access(abs, R_OK) != 0) {
			gb_error(err, GB_EUSAGE, _("CA file %s: %s"), cacert,
				 strerror(errno));
			goto out;
		}
	}
	if (db_begin(db, err))
		goto out;
	if ((server && db_meta_set(db, "sync_server", server, err)) ||
	    (token && db_meta_set(db, "sync_token", token, err)) ||
	    (cacert && db_meta_set(db, "sync_cacert", abs ? abs : "", err))) {
		db_rollback(db);
		goto out;
	}
	if (db_commit(db, err))
		goto out;
	rc = 0;
out:
	free(abs);
	return rc;
}

int sync_device_set(struct gb_db *db, const char *id, struct gb_err *err)
{
	static const char *const sql[] = {
	    "UPDATE record SET device = ?2 WHERE device = ?1",
	    "UPDATE record_history SET device = ?2 WHERE device = ?1",
	};
	char old[GB_ID_LEN], now[GB_ID_LEN];
	sqlite3_stmt *s = NULL;
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
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (prep(db, sql[i], &s, _("cannot change the device id"), err))
			goto out;
		sqlite3_bind_text(s, 1, old, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
		if (run(db, s, _("cannot change the device id"), err))
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (db_meta_set(db, "device", now, err))
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
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
	free(st->att);
	free(st->last_error);
	free(st->server);
	free(st->cursor);
	memset(st, 0, sizeof(*st));
}

/* Reads the attention list into st, newest first. */
static int attention_read(struct gb_db *db, struct sync_status *st,
			  struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t alloc = 0;
	int rc;

	if (prep(db,
		 "SELECT a.id, a.version, a.kind, a.status, a.reason_code, "
		 "a.reason, a.at, r.title FROM attention a LEFT JOIN record r "
		 "ON r.id = a.id ORDER BY a.at DESC, a.id, a.version",
		 &s, _("cannot read the attention list"), err))
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sync_attention *a;

		if (st->natt == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			st->att = xrealloc(st->att, alloc * sizeof(*st->att));
		}
		a = &st->att[st->natt++];
		memset(a, 0, sizeof(*a));
		copy_str(a->id, sizeof(a->id), col_text(s, 0));
		a->version = (uint64_t)sqlite3_column_int64(s, 1);
		copy_str(a->kind, sizeof(a->kind), col_text(s, 2));
		copy_str(a->status, sizeof(a->status), col_text(s, 3));
		copy_str(a->reason_code, sizeof(a->reason_code),
			 col_text(s, 4));
		a->reason = xstrdup(col_text(s, 5));
		a->at = sqlite3_column_int64(s, 6);
		if (sqlite3_column_type(s, 7) != SQLITE_NULL)
			a->title = xstrdup(col_text(s, 7));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sql_fail(db, _("cannot read the attention list"), err);
	return 0;
}

int sync_status_get(struct gb_db *db, struct sync_status *st,
		    struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	/* One read transaction, so the numbers agree with each other. */
	if (sqlite3_exec(sq(db), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(db, _("cannot read the sync state"), err);
	if (prep(db,
		 "SELECT count(*), (SELECT version FROM outbox ORDER BY seq "
		 "LIMIT 1) FROM outbox",
		 &s, _("cannot read the outbox"), err))
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sql_fail(db, _("cannot read the outbox"), err);
		goto out;
	}
	st->pending = (long)sqlite3_column_int64(s, 0);
	if (sqlite3_column_type(s, 1) != SQLITE_NULL)
		st->oldest = gb_hlc_ms((uint64_t)sqlite3_column_int64(s, 1));
	sqlite3_finalize(s);
	if (prep(db, "SELECT seq, records FROM sync_batch ORDER BY seq LIMIT 1",
		 &s, _("cannot read the batch in flight"), err))
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		st->inflight = (uint64_t)sqlite3_column_int64(s, 0);
		st->inflight_records = (long)sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		rc = sql_fail(db, _("cannot read the batch in flight"), err);
		goto out;
	}
	rc = -1;
	st->next_seq = meta_u64(db, "sync_next_seq", 1);
	st->last_ok = meta_i64(db, "sync_last_ok");
	st->last_error_at = meta_i64(db, "sync_last_error_at");
	st->last_error = db_meta_get(db, "sync_last_error");
	st->server = db_meta_get(db, "sync_server");
	st->cursor = db_meta_get(db, "sync_cursor");
	if (attention_read(db, st, err))
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_exec(sq(db), "COMMIT", NULL, NULL, NULL);
	return rc;
}

/*
 * The outbox (outbox.h): the change log of this laptop's versions, the
 * batches written down for sending, and what HQ refused.
 *
 * A row is appended in the transaction that writes its version, with the
 * version's Batch entry packed then (schema/client/003) once the file
 * holds a sync token, so that sending a batch is reading blobs.  A row
 * without one (logged before that, or packed under an old device id) has
 * its version read back from the file when it is sent: the current row
 * when it is that version (and not a merge of several, schema/client/005),
 * else the row in history, with its JSON body read by SQLite's own
 * json_each(); one statement reads a whole range.
 *
 * The exactly-once rules of the sync engine (sync.c) rest on two things
 * kept here: rows are numbered ever higher while a batch's last row is
 * still there, so lo..hi keeps meaning the same rows; and a batch's
 * sync_batch row is deleted in the transaction that records its answer,
 * so that whoever deletes it is the one who records it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_int.h"
#include "gbtime.h"
#include "i18n.h"
#include "outbox.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

/* ---- appending ---------------------------------------------------------- */

int outbox_append(struct gb_db *db, const struct gb_record *r,
		  struct gb_err *err)
{
	sqlite3_stmt *s = db_stmt(db, S_OUTBOX_ADD,
				  "INSERT INTO outbox (id, version, wire) "
				  "VALUES (?1, ?2, ?3)",
				  err);

	if (!s)
		return -1;
	gb_buf_reset(&db->wire);
	if (db->packs && wire_batch_add(r, &db->wire, err)) {
		gb_error_prefix(err, _("record %s"), r->id);
		db_stmt_done(s);
		return -1;
	}
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->version);
	if (db->packs)
		sqlite3_bind_blob(s, 3, db->wire.data, (int)db->wire.len,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	return db_step_done(db, s, _("cannot log the change"), err);
}

/* ---- loading the versions of a batch ----------------------------------- */

/*
 * The outbox rows seq ?1..?2 (at most ?3 of them) with the version each
 * names as this device (?4) wrote it: the current row when it is that
 * version (and not a merge of several, schema/client/005), else the row
 * in history, whose record gives the grid and the creation time (the
 * same in every version).  One statement for the whole batch; a row
 * whose version the file does not hold has NULL kinds.
 */
static const char range_sql[] =
    "SELECT o.seq, o.id, o.version, r.grid, r.created_at, "
    "r.version = o.version AND r.device = ?4 AND r.heads IS NULL, "
    "r.kind, r.device, r.staff, r.updated_at, r.voided, r.void_reason, "
    "r.body, r.bases, r.resolves, "
    "h.kind, h.device, h.staff, h.updated_at, h.voided, h.void_reason, "
    "h.body, h.bases, h.resolves "
    "FROM outbox o LEFT JOIN record r ON r.id = o.id "
    "LEFT JOIN record_history h ON NOT (r.version = o.version AND "
    "r.device = ?4 AND r.heads IS NULL) AND h.id = o.id AND "
    "h.version = o.version AND h.device = ?4 "
    "WHERE o.seq BETWEEN ?1 AND ?2 ORDER BY o.seq LIMIT ?3";

enum {
	RC_SEQ,
	RC_ID,
	RC_VERSION,
	RC_GRID,
	RC_CREATED,
	RC_CURRENT,
	/* kind, device, staff, updated_at, voided, reason, body, bases,
	 * resolves */
	RC_CUR,
	RC_HIST = RC_CUR + 9
};

/* The outbox rows seq ?1..?2, at most ?3, with the Batch entry each
 * keeps (schema/client/003; NULL when it must be packed at sending). */
static const char outbox_sql[] =
    "SELECT seq, id, version, wire FROM outbox WHERE seq BETWEEN ?1 AND ?2 "
    "ORDER BY seq LIMIT ?3";

/* The statements a batch is loaded with, prepared once per handle
 * (db_stmt): a push reads a batch every few hundred records, and
 * preparing the join below cost more than reading the entries.  range
 * is prepared only when a row has no entry to read. */
struct loader {
	sqlite3_stmt *outbox;
	sqlite3_stmt *range;
};

static void loader_release(struct loader *l)
{
	db_stmt_done(l->outbox);
	db_stmt_done(l->range);
	memset(l, 0, sizeof(*l));
}

static int loader_init(struct gb_db *db, struct loader *l, struct gb_err *err)
{
	memset(l, 0, sizeof(*l));
	l->outbox = db_stmt(db, S_OB_READ, outbox_sql, err);
	return l->outbox ? 0 : -1;
}

/*
 * The version on the current row of l->range.  Returns 1 with *out
 * (caller frees), 0 when the file does not hold it (or holds it under a
 * kind this program does not know), -1 on error.
 */
static int version_read(struct gb_db *db, struct loader *l,
			struct gb_record **out, struct gb_err *err)
{
	sqlite3_stmt *s = l->range;
	int c = sqlite3_column_int(s, RC_CURRENT) ? RC_CUR : RC_HIST;
	const struct gb_kind *k;
	struct gb_record *r;
	uint64_t *bases;
	size_t nbases;

	*out = NULL;
	if (sqlite3_column_type(s, c) == SQLITE_NULL)
		return 0;
	k = gb_kind_find(db_col_text(s, c));
	if (!k)
		return 0;
	r = gb_record_new(k);
	db_copy_str(r->id, sizeof(r->id), db_col_text(s, RC_ID));
	db_copy_str(r->grid, sizeof(r->grid), db_col_text(s, RC_GRID));
	db_copy_str(r->device, sizeof(r->device), db_col_text(s, c + 1));
	db_copy_str(r->staff, sizeof(r->staff), db_col_text(s, c + 2));
	r->created_at = sqlite3_column_int64(s, RC_CREATED);
	r->updated_at = sqlite3_column_int64(s, c + 3);
	r->version = (uint64_t)sqlite3_column_int64(s, RC_VERSION);
	r->voided = sqlite3_column_int(s, c + 4) != 0;
	if (r->voided && sqlite3_column_type(s, c + 5) != SQLITE_NULL)
		gb_record_set_void_reason(r, db_col_text(s, c + 5));
	if (db_body_parse(db, r, db_col_text(s, c + 6), err)) {
		gb_record_free(r);
		return -1;
	}
	db_versions_parse(db_col_text(s, c + 7), &bases, &nbases);
	for (size_t i = 0; i < nbases && i < GB_MAX_BASE; i++)
		r->base[r->nbase++] = bases[i];
	free(bases);
	r->resolves = (uint32_t)sqlite3_column_int64(s, c + 8);
	*out = r;
	return 1;
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
	const char *what = _("cannot note a missing version");
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (db_prep(db, sql, &s, what, err))
		goto out;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)v);
	sqlite3_bind_text(s, 3, _("this version is missing from the grid file"),
			  -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, gb_now_ms());
	if (db_step_done(db, s, what, err) ||
	    db_exec_i64(db, "DELETE FROM outbox WHERE seq = ?1", 1, oseq, 0, 0,
			what, err))
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/*
 * The Batch entry of the version outbox row oseq logs, packed from the
 * version the file holds, into one.  Returns 1, 0 when the file does not
 * hold it (version_missing has taken the row out of the outbox), -1.
 */
static int version_pack(struct gb_db *db, struct loader *l, int64_t oseq,
			struct gb_buf *one, const struct gb_kind **kind,
			struct gb_err *err)
{
	sqlite3_stmt *s;
	struct gb_record *r = NULL;
	int rc, ret = -1;

	if (!l->range)
		l->range = db_stmt(db, S_OB_RANGE, range_sql, err);
	s = l->range;
	if (!s)
		return -1;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, oseq);
	sqlite3_bind_int64(s, 2, oseq);
	sqlite3_bind_int64(s, 3, 1);
	sqlite3_bind_text(s, 4, db_device(db), -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		db_sql_fail(db, _("cannot read the outbox"), err);
		goto out;
	}
	rc = version_read(db, l, &r, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		char id[GB_ID_LEN];

		db_copy_str(id, sizeof(id), db_col_text(s, RC_ID));
		ret = version_missing(
			  db, oseq, id,
			  (uint64_t)sqlite3_column_int64(s, RC_VERSION), err)
			  ? -1
			  : 0;
		goto out;
	}
	if (wire_batch_add(r, one, err)) {
		gb_error_prefix(err, _("record %s"), r->id);
		goto out;
	}
	*kind = r->kind;
	ret = 1;
out:
	gb_record_free(r);
	sqlite3_reset(s);
	return ret;
}

int outbox_each(struct gb_db *db, int64_t lo, int64_t hi, size_t max_n,
		int (*cb)(void *arg, const struct outbox_entry *e), void *arg,
		struct gb_err *err)
{
	struct loader l;
	struct gb_buf one;
	sqlite3_stmt *s;
	int rc, ret = -1;

	gb_buf_init(&one, GB_BUF_NOLIMIT);
	if (loader_init(db, &l, err))
		goto out;
	s = l.outbox;
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, hi);
	sqlite3_bind_int64(s, 3, max_n > INT64_MAX ? -1 : (sqlite3_int64)max_n);
	for (;;) {
		struct outbox_entry e;
		int more;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		e.seq = sqlite3_column_int64(s, 0);
		e.id = db_col_text(s, 1);
		e.version = (uint64_t)sqlite3_column_int64(s, 2);
		e.wire = sqlite3_column_blob(s, 3);
		e.len = (size_t)sqlite3_column_bytes(s, 3);
		e.kind = NULL;
		if (!e.wire || !e.len) {
			int found;

			gb_buf_reset(&one);
			found = version_pack(db, &l, e.seq, &one, &e.kind, err);
			if (found < 0)
				goto out;
			if (!found)
				continue;
			e.wire = one.data;
			e.len = one.len;
		}
		more = cb(arg, &e);
		if (more < 0)
			goto out;
		if (more)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_sql_fail(db, _("cannot read the outbox"), err);
		goto out;
	}
	ret = 0;
out:
	loader_release(&l);
	gb_buf_release(&one);
	return ret;
}

int outbox_count(struct gb_db *db, long *n, struct gb_err *err)
{
	int64_t v;

	if (db_query_i64(db, "SELECT count(*) FROM outbox", 0, 0, 0, 0, &v,
			 _("cannot read the outbox"), err))
		return -1;
	*n = (long)v;
	return 0;
}

int outbox_pending(struct gb_db *db, long *n, uint64_t *first,
		   struct gb_err *err)
{
	const char *what = _("cannot read the outbox");
	sqlite3_stmt *s = NULL;
	int rc;

	*n = 0;
	*first = 0;
	if (db_prep(db,
		    "SELECT count(*), (SELECT version FROM outbox ORDER BY "
		    "seq LIMIT 1) FROM outbox",
		    &s, what, err))
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*n = (long)sqlite3_column_int64(s, 0);
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			*first = (uint64_t)sqlite3_column_int64(s, 1);
	} else {
		db_sql_fail(db, what, err);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Rows are numbered in the order they are written, so the last number
 * less hi counts them: two key look-ups instead of a count that would
 * grow with the backlog on every batch.  Rows that left the outbox out
 * of order (a version dropped as missing) still count.
 */
int outbox_after(struct gb_db *db, int64_t hi, uint64_t *n, uint64_t *oldest,
		 struct gb_err *err)
{
	const char *what = _("cannot read the outbox");
	int64_t top, next;

	if (db_stmt_i64(db, S_OB_TOP, "SELECT max(seq) FROM outbox", 0, 0, 0, 0,
			&top, what, err) ||
	    db_stmt_i64(db, S_OB_NEXT,
			"SELECT version FROM outbox WHERE seq > ?1 ORDER BY "
			"seq LIMIT 1",
			1, hi, 0, 0, &next, what, err))
		return -1;
	*n = top > hi ? (uint64_t)(top - hi) : 0;
	*oldest = next > 0 ? (uint64_t)next : 0;
	return 0;
}

/* ---- batches written down ----------------------------------------------- */

int outbox_batch_next(struct gb_db *db, uint64_t after, uint64_t *seq,
		      int64_t *lo, int64_t *hi, struct gb_err *err)
{
	const char *what = _("cannot read the batch in flight");
	sqlite3_stmt *s = db_stmt(db, S_OB_BATCH_NEXT,
				  "SELECT seq, lo, hi FROM sync_batch WHERE "
				  "seq > ?1 ORDER BY seq LIMIT 1",
				  err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)after);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(s, 0);
		*lo = sqlite3_column_int64(s, 1);
		*hi = sqlite3_column_int64(s, 2);
	} else if (rc != SQLITE_DONE) {
		db_sql_fail(db, what, err);
	}
	db_stmt_done(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int outbox_batch_top(struct gb_db *db, uint64_t *seq, int64_t *hi,
		     struct gb_err *err)
{
	const char *what = _("cannot read the batch in flight");
	int64_t v;

	if (seq) {
		if (db_stmt_i64(db, S_OB_BATCH_TOP,
				"SELECT max(seq) FROM sync_batch", 0, 0, 0, 0,
				&v, what, err))
			return -1;
		*seq = v > 0 ? (uint64_t)v : 0;
	}
	if (hi &&
	    db_stmt_i64(db, S_OB_BATCH_HI, "SELECT max(hi) FROM sync_batch", 0,
			0, 0, 0, hi, what, err))
		return -1;
	return 0;
}

int outbox_batch_add(struct gb_db *db, uint64_t seq, int64_t lo, int64_t hi,
		     size_t n, struct gb_err *err)
{
	const char *what = _("cannot record the batch");
	sqlite3_stmt *s =
	    db_stmt(db, S_OB_BATCH_ADD,
		    "INSERT INTO sync_batch (seq, lo, hi, records, "
		    "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
		    err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)n);
	sqlite3_bind_int64(s, 5, gb_now_ms());
	return db_step_done(db, s, what, err);
}

int outbox_batch_drop(struct gb_db *db, uint64_t seq, struct gb_err *err)
{
	sqlite3_stmt *s = db_stmt(db, S_OB_BATCH_DROP,
				  "DELETE FROM sync_batch WHERE seq = ?1", err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	return db_step_done(db, s, _("cannot drop a batch"), err);
}

int outbox_batch_renumber(struct gb_db *db, uint64_t seq, uint64_t to,
			  struct gb_err *err)
{
	return db_exec_i64(db, "UPDATE sync_batch SET seq = ?2 WHERE seq = ?1",
			   2, (int64_t)seq, (int64_t)to, 0,
			   _("cannot renumber the batch"), err);
}

int outbox_batch_first(struct gb_db *db, uint64_t *seq, long *n,
		       struct gb_err *err)
{
	const char *what = _("cannot read the batch in flight");
	sqlite3_stmt *s = NULL;
	int rc;

	*seq = 0;
	*n = 0;
	if (db_prep(db,
		    "SELECT seq, records FROM sync_batch ORDER BY seq LIMIT 1",
		    &s, what, err))
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(s, 0);
		*n = (long)sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		db_sql_fail(db, what, err);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* ---- the answers -------------------------------------------------------- */

/* The statements of outbox_ack. */
enum {
	A_DEL_BATCH,
	A_DEL_RANGE,
	A_DEL_OUTBOX,
	A_ANY_ATT,
	A_CLEAR_ATT,
	A_PUT_ATT,
	A_PUT_RETRY,
	A_ANY_RETRY,
	A_DEL_RETRY,
	A_COUNT
};

static const char *const ack_sql[A_COUNT] = {
    [A_DEL_BATCH] = "DELETE FROM sync_batch WHERE seq = ?1 AND lo = ?2 AND "
		    "hi = ?3",
    [A_DEL_RANGE] = "DELETE FROM outbox WHERE seq BETWEEN ?1 AND ?2",
    [A_DEL_OUTBOX] = "DELETE FROM outbox WHERE seq = ?1 AND id = ?2 AND "
		     "version = ?3",
    [A_ANY_ATT] = "SELECT EXISTS (SELECT 1 FROM attention)",
    [A_CLEAR_ATT] = "DELETE FROM attention WHERE id = ?1 AND version <= ?2",
    [A_PUT_ATT] = "INSERT OR REPLACE INTO attention (id, version, kind, "
		  "status, reason_code, reason, batch, at) VALUES (?1, ?2, "
		  "coalesce(?3, (SELECT kind FROM record WHERE id = ?1), "
		  "''), ?4, ?5, ?6, ?7, ?8)",
    [A_PUT_RETRY] = "INSERT OR REPLACE INTO sync_retry (id, version, kind, "
		    "reason_code, reason, batch, at, tries) VALUES (?1, ?2, "
		    "coalesce(?3, (SELECT kind FROM record WHERE id = ?1), "
		    "''), ?4, ?5, ?6, ?7, coalesce((SELECT tries + 1 FROM "
		    "sync_retry WHERE id = ?1 AND version = ?2), 1))",
    [A_ANY_RETRY] = "SELECT EXISTS (SELECT 1 FROM sync_retry)",
    [A_DEL_RETRY] = "DELETE FROM sync_retry WHERE id = ?1 AND version = ?2",
};

_Static_assert(S_OB_ACK_FIRST + A_COUNT - 1 == S_OB_ACK_LAST,
	       "one cached statement for each of outbox_ack's");

/* outbox_ack's statement i, prepared on first use and kept by the handle
 * (an ack comes every few hundred records), into st[i]. */
static sqlite3_stmt *ack_stmt(struct gb_db *db, sqlite3_stmt **st, int i,
			      struct gb_err *err)
{
	if (!st[i])
		st[i] = db_stmt(db, (enum stmt_id)(S_OB_ACK_FIRST + i),
				ack_sql[i], err);
	return st[i];
}

/* The first column of the one row of a SELECT EXISTS statement. */
static int exists(struct gb_db *db, sqlite3_stmt *s, int *out, const char *what,
		  struct gb_err *err)
{
	int rc = sqlite3_step(s);

	*out = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	db_stmt_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_sql_fail(db, what, err);
	return 0;
}

/* Binds the version's id, number and kind (or NULL: the record's) to
 * ?1, ?2 and ?3 of s. */
static void bind_version(sqlite3_stmt *s, const struct outbox_answer *x,
			 int with_kind)
{
	sqlite3_bind_text(s, 1, x->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)x->version);
	if (!with_kind)
		return;
	if (x->kind)
		sqlite3_bind_text(s, 3, x->kind->name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
}

int outbox_ack(struct gb_db *db, uint64_t seq, int64_t lo, int64_t hi,
	       const struct outbox_answer *a, size_t n, struct gb_err *err)
{
	const char *what = _("cannot record the ack");
	sqlite3_stmt *st[A_COUNT] = {NULL};
	int64_t now = gb_now_ms();
	int whole = 1, att = 0, retry = 0, rc = -1;
	sqlite3_stmt *s;

	for (size_t i = 0; i < n; i++)
		if (a[i].fate == OUTBOX_STAYS)
			whole = 0;
	s = ack_stmt(db, st, A_DEL_BATCH, err);
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	if (db_step_done(db, s, what, err))
		goto out;
	/* Gone already: another process (gridbook sync beside the daemon)
	 * sent this batch too and recorded its ack first.  A row of this
	 * number with other rows would mean a bug, and sending the batch
	 * for ever: stop instead. */
	if (sqlite3_changes(db_sqlite(db)) == 0) {
		int64_t held;

		if (db_query_i64(db,
				 "SELECT count(*) FROM sync_batch WHERE "
				 "seq = ?1",
				 1, (int64_t)seq, 0, 0, &held, what, err))
			goto out;
		if (held) {
			gb_error(err, GB_EINTERNAL,
				 _("batch %" PRIu64 " is written down with "
				   "other outbox rows"),
				 seq);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (whole) {
		s = ack_stmt(db, st, A_DEL_RANGE, err);
		if (!s)
			goto out;
		sqlite3_bind_int64(s, 1, lo);
		sqlite3_bind_int64(s, 2, hi);
		if (db_step_done(db, s, what, err))
			goto out;
	}
	if (!ack_stmt(db, st, A_ANY_ATT, err) ||
	    !ack_stmt(db, st, A_ANY_RETRY, err) ||
	    exists(db, st[A_ANY_ATT], &att, what, err) ||
	    exists(db, st[A_ANY_RETRY], &retry, what, err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct outbox_answer *x = &a[i];
		const char *status = NULL;

		switch (x->fate) {
		case OUTBOX_STAYS:
			continue;
		case OUTBOX_TAKEN:
			break;
		case OUTBOX_WAITING:
			status = "waiting";
			break;
		case OUTBOX_REJECTED:
			status = "rejected";
			break;
		case OUTBOX_CONFLICT:
			status = "conflict";
			break;
		}
		if (!whole) {
			s = ack_stmt(db, st, A_DEL_OUTBOX, err);
			if (!s)
				goto out;
			sqlite3_bind_int64(s, 1, x->seq);
			sqlite3_bind_text(s, 2, x->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, (sqlite3_int64)x->version);
			if (db_step_done(db, s, what, err))
				goto out;
		}
		/* A version sent again from sync_retry is answered: it
		 * waits no more, or (below) waits once more. */
		if (retry && x->fate != OUTBOX_WAITING) {
			s = ack_stmt(db, st, A_DEL_RETRY, err);
			if (!s)
				goto out;
			bind_version(s, x, 0);
			if (db_step_done(db, s, what, err))
				goto out;
		}
		if (x->fate == OUTBOX_TAKEN) {
			/* Nothing to clear when the list is empty, which
			 * it nearly always is. */
			if (!att)
				continue;
			s = ack_stmt(db, st, A_CLEAR_ATT, err);
			if (!s)
				goto out;
			bind_version(s, x, 0);
			if (db_step_done(db, s, what, err))
				goto out;
			continue;
		}
		if (x->fate == OUTBOX_WAITING) {
			s = ack_stmt(db, st, A_PUT_RETRY, err);
			if (!s)
				goto out;
			bind_version(s, x, 1);
			sqlite3_bind_text(s, 4, x->reason_code, -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(s, 5, x->reason ? x->reason : "", -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(s, 6, (sqlite3_int64)seq);
			sqlite3_bind_int64(s, 7, now);
			if (db_step_done(db, s, what, err))
				goto out;
			continue;
		}
		s = ack_stmt(db, st, A_PUT_ATT, err);
		if (!s)
			goto out;
		bind_version(s, x, 1);
		sqlite3_bind_text(s, 4, status, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, x->reason_code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, x->reason ? x->reason : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, (sqlite3_int64)seq);
		sqlite3_bind_int64(s, 8, now);
		if (db_step_done(db, s, what, err))
			goto out;
		att = 1;
	}
	rc = 1;
out:
	for (int i = 0; i < A_COUNT; i++)
		db_stmt_done(st[i]);
	return rc;
}

/* ---- versions refused for now ------------------------------------------- */

int outbox_retry_requeue(struct gb_db *db, struct gb_err *err)
{
	const char *what = _("cannot put back the versions refused for now");
	int64_t n;

	if (db_query_i64(db, "SELECT count(*) FROM sync_retry WHERE queued = 0",
			 0, 0, 0, 0, &n, what, err))
		return -1;
	if (n == 0)
		return 0;
	if (db_begin(db, err))
		return -1;
	if (db_exec_i64(db,
			"INSERT INTO outbox (id, version) SELECT id, version "
			"FROM sync_retry WHERE queued = 0 ORDER BY at, batch, "
			"id, version",
			0, 0, 0, 0, what, err) ||
	    db_exec_i64(db, "UPDATE sync_retry SET queued = 1 WHERE queued = 0",
			0, 0, 0, 0, what, err)) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, err);
}

int outbox_retry_above(struct gb_db *db, uint64_t ceiling,
		       struct outbox_key **out, size_t *n, struct gb_err *err)
{
	const char *what = _("cannot re-stamp the waiting records");
	struct outbox_key *rows = NULL;
	size_t alloc = 0;
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (db_prep(db,
		    "SELECT id, version FROM sync_retry WHERE queued = 0 AND "
		    "(version > ?1 OR version < 0) ORDER BY version",
		    &s, what, err))
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ceiling);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			rows = xrealloc(rows, alloc * sizeof(*rows));
		}
		db_copy_str(rows[*n].id, sizeof(rows[*n].id),
			    db_col_text(s, 0));
		rows[(*n)++].version = (uint64_t)sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_DONE) {
		db_sql_fail(db, what, err);
		sqlite3_finalize(s);
		free(rows);
		*n = 0;
		return -1;
	}
	sqlite3_finalize(s);
	*out = rows;
	return 0;
}

int outbox_retry_restamped(struct gb_db *db, const char *id, uint64_t old,
			   uint64_t to, struct gb_err *err)
{
	const char *what = _("cannot re-stamp the waiting records");
	sqlite3_stmt *s = NULL;
	int rc;

	if (db_prep(db,
		    !to ? "DELETE FROM sync_retry WHERE id = ?1 AND "
			  "version = ?2"
			: "UPDATE sync_retry SET version = ?3, queued = 1 "
			  "WHERE id = ?1 AND version = ?2",
		    &s, what, err))
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)old);
	if (to)
		sqlite3_bind_int64(s, 3, (sqlite3_int64)to);
	rc = db_step_done(db, s, what, err);
	sqlite3_finalize(s);
	s = NULL;
	if (rc || !to)
		return rc;
	if (db_prep(db, "INSERT INTO outbox (id, version) VALUES (?1, ?2)", &s,
		    what, err))
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
	rc = db_step_done(db, s, what, err);
	sqlite3_finalize(s);
	return rc;
}

/* ---- the attention list ------------------------------------------------- */

int outbox_attention_each(struct gb_db *db, int waiting,
			  int (*cb)(void *arg, const struct outbox_refused *a),
			  void *arg, struct gb_err *err)
{
	const char *what = _("cannot read the attention list");
	sqlite3_stmt *s = NULL;
	int rc;

	if (db_prep(db,
		    waiting ? "SELECT a.id, a.version, a.kind, 'waiting', "
			      "a.reason_code, a.reason, a.at, r.title FROM "
			      "sync_retry a LEFT JOIN record r ON r.id = a.id "
			      "ORDER BY a.at DESC, a.id, a.version"
			    : "SELECT a.id, a.version, a.kind, a.status, "
			      "a.reason_code, a.reason, a.at, r.title FROM "
			      "attention a LEFT JOIN record r ON r.id = a.id "
			      "ORDER BY a.at DESC, a.id, a.version",
		    &s, what, err))
		return -1;
	for (;;) {
		struct outbox_refused a;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		a.id = db_col_text(s, 0);
		a.version = (uint64_t)sqlite3_column_int64(s, 1);
		a.kind = db_col_text(s, 2);
		a.status = db_col_text(s, 3);
		a.reason_code = db_col_text(s, 4);
		a.reason = db_col_text(s, 5);
		a.at = sqlite3_column_int64(s, 6);
		a.title = sqlite3_column_type(s, 7) != SQLITE_NULL
			      ? db_col_text(s, 7)
			      : NULL;
		if (cb(arg, &a)) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	if (rc != SQLITE_DONE)
		db_sql_fail(db, what, err);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- repacking ---------------------------------------------------------- */

int outbox_repack(struct gb_db *db, enum outbox_pack how, const char *what,
		  struct gb_err *err)
{
	sqlite3_stmt *q = NULL, *up = NULL;
	int64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct loader l;
	struct gb_buf one;
	int rc, ret = -1;

	if (how == OUTBOX_UNPACK)
		return db_exec(db, "UPDATE outbox SET wire = NULL", what, err);
	gb_buf_init(&one, GB_BUF_NOLIMIT);
	memset(&l, 0, sizeof(l));
	if (loader_init(db, &l, err) ||
	    db_prep(db,
		    how == OUTBOX_PACK_ALL
			? "SELECT seq FROM outbox ORDER BY seq"
			: "SELECT seq FROM outbox WHERE wire IS NULL ORDER BY "
			  "seq",
		    &q, what, err) ||
	    db_prep(db, "UPDATE outbox SET wire = ?2 WHERE seq = ?1", &up, what,
		    err))
		goto out;
	for (;;) {
		rc = sqlite3_step(q);
		if (rc != SQLITE_ROW)
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			seqs = xrealloc(seqs, cap * sizeof(*seqs));
		}
		seqs[n++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE) {
		db_sql_fail(db, what, err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gb_kind *kind;
		int found;

		gb_buf_reset(&one);
		found = version_pack(db, &l, seqs[i], &one, &kind, err);
		if (found < 0)
			goto out;
		if (!found)
			continue;
		sqlite3_bind_int64(up, 1, seqs[i]);
		sqlite3_bind_blob(up, 2, one.data, (int)one.len, SQLITE_STATIC);
		if (db_step_done(db, up, what, err))
			goto out;
	}
	ret = 0;
out:
	free(seqs);
	sqlite3_finalize(q);
	sqlite3_finalize(up);
	loader_release(&l);
	gb_buf_release(&one);
	return ret;
}

/*
 * Tests of sync.c against an in-memory HQ behind a fake struct sync_io,
 * which applies a batch as soon as its request begins (as HQ does while
 * the client builds the next) and answers when it ends: batches bounded
 * by count and size and sent one at a time in outbox order, the next one
 * written down while one is on the wire; a batch whose ack was lost, or
 * that never arrived, sent again under the same number with the same
 * versions, also when the process died with two batches written down, so
 * that HQ holds every version once; refusals kept in the attention list
 * and cleared by a later accepted version, also in the same batch; a
 * batch renumbered when HQ holds its number for other content; an ack
 * that leaves a version out; a version gone from the file; a stop
 * request; the versions sent equal to the stored ones, bodies that db.c
 * never writes included; pages of changes applied with their cursor; the
 * state sync status reads; the device id HQ assigns taken over by the
 * versions not sent yet; and the server URLs the transport accepts.  The
 * grid file lives in a temporary directory.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "db.h"
#include "db_int.h"
#include "gbtime.h"
#include "id.h"
#include "sync.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#ifndef GB_SEEDDIR
#define GB_SEEDDIR "seeds"
#endif

#define MAX_HELD 4096
#define MAX_BATCHES 256

/* The fake HQ. */
struct fake {
	/* Every version held, with how many times it was applied. */
	struct {
		char id[GB_ID_LEN];
		uint64_t version;
		int times;
	} held[MAX_HELD];
	size_t nheld;
	/* Every batch applied: its number, versions and the ack given. */
	struct {
		uint64_t seq;
		size_t n;
		char (*ids)[GB_ID_LEN];
		uint64_t *versions;
		struct gb_buf ack;
	} batches[MAX_BATCHES];
	size_t nbatches;
	/* What each post carried, in order. */
	uint64_t post_seq[MAX_BATCHES];
	size_t post_n[MAX_BATCHES];
	size_t posts;
	/* A resend whose versions differ from the first sending. */
	int resend_differs;
	/* The next fail_before posts fail before being applied, the next
	 * fail_after after (the ack is lost). */
	int fail_before, fail_after;
	/* Post number fail_nth (from 1) fails before being applied. */
	size_t fail_nth;
	/* Versions of this record are rejected. */
	char reject[GB_ID_LEN];
	/* Pages served by get_changes, in turn. */
	struct gb_buf pages[4];
	size_t npages, next_page;
	char cursors[4][WIRE_CURSOR_LEN];
	/* Set by the fake after the given number of posts. */
	volatile sig_atomic_t *stop;
	size_t stop_after;
	/* Called once, after a batch is applied and before its ack goes
	 * back: another process at work meanwhile. */
	void (*meanwhile)(void *ctx);
	void *ctx;
	/* Only this version of reject is rejected, when not 0. */
	uint64_t reject_version;
	/* The ack of post number lose_at (from 1) is lost. */
	size_t lose_at;
	/* The next batch is applied and acknowledged without its last
	 * record, as by a server that stopped short. */
	int short_ack;
	/* The requests begun by fake_start: each applied at once, its
	 * answer given by fake_finish. */
	struct {
		int started, result;
		struct gb_buf answer;
		struct gb_err error;
	} req[SYNC_WINDOW];
	int flying, most_flying, aborted;
	/* Starts beyond the window (never, if the engine is right), batch
	 * numbers that went backwards, and batches that named a batch to
	 * follow that was not applied (HQ would hold them and refuse). */
	int overlaps, out_of_order, not_after;
	/* What each post named in hdr.after. */
	uint64_t post_after[MAX_BATCHES];
	uint64_t last_new_seq;
	/* When db is set, the sync_batch rows of the file as each post
	 * finished, in the order they finished. */
	struct gb_db *db;
	size_t finishes;
	long rows_at_finish[MAX_BATCHES];
	/* Every version applied, in order, as decoded. */
	struct gb_record *got[MAX_HELD];
	size_t ngot;
	/* The seq= of the last get_changes. */
	uint64_t get_seq;
	/* get_changes number get_fail_at (from 1) fails; gets counts them. */
	size_t get_fail_at, gets;
	/* As a newer HQ: compact acks with device_seq to a batch that reads
	 * them, and "renumber" instead of 409. */
	int compact;
	/* Versions of this record are refused for now (transient). */
	char transient[GB_ID_LEN];
	/* The next busy posts are refused with GB_EBUSY before being
	 * applied, HQ asking for retry_after ms (-1: not saying). */
	int busy;
	long retry_after;
	/* That wait is a turn HQ gave, to the millisecond (Retry-After-Ms). */
	int exact;
	/* The waits the engine asked for, and the size of the last ack. */
	long waits[16];
	size_t nwaits;
	size_t last_ack_len;
};

/* The highest batch number the fake holds. */
static uint64_t fake_high(const struct fake *f)
{
	uint64_t h = 0;

	for (size_t k = 0; k < f->nbatches; k++)
		if (f->batches[k].seq > h)
			h = f->batches[k].seq;
	return h;
}

/* The answer the fake gives to batch b for the stored full ack in
 * stored: as it is, or compact (a newer HQ to a newer device). */
static int fake_reply(struct fake *f, const struct wire_batch *b,
		      const struct gb_buf *stored, struct gb_buf *resp,
		      struct gb_err *err)
{
	struct wire_ack a;
	struct gb_buf out;
	int rc;

	if (!f->compact || !(b->hdr.features & WIRE_FEATURE_ACK)) {
		f->last_ack_len = stored->len;
		return gb_buf_add(resp, stored->data, stored->len, err);
	}
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	rc = wire_ack_decode(stored->data, stored->len, &a, err);
	if (rc == 0)
		rc = wire_ack_compact(&a, err);
	a.device_seq = fake_high(f);
	if (rc == 0)
		rc = wire_ack_encode(&a, &out, err);
	if (rc == 0) {
		f->last_ack_len = out.len;
		rc = gb_buf_add(resp, out.data, out.len, err);
	}
	wire_ack_release(&a);
	gb_buf_release(&out);
	return rc;
}

static int held_find(struct fake *f, const char *id, uint64_t v)
{
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i].version == v && strcmp(f->held[i].id, id) == 0)
			return (int)i;
	return -1;
}

static long count(struct gb_db *db, const char *sql);

/* What HQ does with one posted batch: the answer into resp, or -1 with
 * err. */
static int fake_post(struct fake *f, const void *body, size_t len,
		     struct gb_buf *resp, struct gb_err *err)
{
	struct wire_batch b;
	struct wire_ack a;
	size_t k, n;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (wire_batch_decode(body, len, &b, err))
		return -1;
	n = b.n;
	if (f->posts < MAX_BATCHES) {
		f->post_seq[f->posts] = b.hdr.seq;
		f->post_n[f->posts] = n;
		f->post_after[f->posts] = b.hdr.after;
	}
	f->posts++;
	if (f->stop && f->posts >= f->stop_after)
		*f->stop = 1;
	if (f->fail_nth && f->posts == f->fail_nth) {
		f->fail_nth = 0;
		gb_error(err, GB_EIO, "cannot reach hq: connection refused");
		goto out;
	}
	if (f->fail_before > 0) {
		f->fail_before--;
		gb_error(err, GB_EIO, "cannot reach hq: connection refused");
		goto out;
	}
	if (f->busy > 0) {
		f->busy--;
		gb_error(err, GB_EBUSY, "hq answered 503: busy");
		goto out;
	}
	if (b.hdr.after) {
		for (k = 0; k < f->nbatches; k++)
			if (f->batches[k].seq == b.hdr.after)
				break;
		if (k == f->nbatches) {
			f->not_after++;
			gb_error(err, GB_EBUSY,
				 "batch %" PRIu64 " follows batch %" PRIu64
				 ", which has not come",
				 b.hdr.seq, b.hdr.after);
			goto out;
		}
	}
	for (k = 0; k < f->nbatches; k++)
		if (f->batches[k].seq == b.hdr.seq)
			break;
	if (k < f->nbatches) {
		/* A batch seen before: the stored ack, if it is the same
		 * batch; else the number is taken (409). */
		int same = f->batches[k].n == n;

		for (size_t i = 0; same && i < n; i++)
			same =
			    b.items[i].version == f->batches[k].versions[i] &&
			    !strcmp(b.items[i].id, f->batches[k].ids[i]);
		if (!same && f->compact &&
		    (b.hdr.features & WIRE_FEATURE_ACK)) {
			struct gb_buf out;

			f->resend_differs++;
			a.seq = b.hdr.seq;
			a.device_seq = fake_high(f);
			a.renumber = 1;
			gb_buf_init(&out, GB_BUF_NOLIMIT);
			rc = wire_ack_encode(&a, &out, err);
			if (rc == 0)
				rc = gb_buf_add(resp, out.data, out.len, err);
			gb_buf_release(&out);
			goto out;
		}
		if (!same) {
			f->resend_differs++;
			gb_error(err, GB_ECONFLICT,
				 "batch %" PRIu64 " was already received "
				 "with other records",
				 b.hdr.seq);
			goto out;
		}
		rc = fake_reply(f, &b, &f->batches[k].ack, resp, err);
		goto out;
	}
	if (b.hdr.seq <= f->last_new_seq)
		f->out_of_order++;
	f->last_new_seq = b.hdr.seq;
	if (f->short_ack && n > 1) {
		f->short_ack = 0;
		n--;
	}
	a.seq = b.hdr.seq;
	a.n = n;
	a.items = xcalloc(n + 1, sizeof(*a.items));
	k = f->nbatches++;
	f->batches[k].seq = b.hdr.seq;
	f->batches[k].n = b.n;
	f->batches[k].ids = xcalloc(b.n + 1, GB_ID_LEN);
	f->batches[k].versions = xcalloc(b.n + 1, sizeof(uint64_t));
	for (size_t i = 0; i < b.n; i++) {
		memcpy(f->batches[k].ids[i], b.items[i].id, GB_ID_LEN);
		f->batches[k].versions[i] = b.items[i].version;
	}
	for (size_t i = 0; i < n; i++) {
		struct wire_ack_item *it = &a.items[i];
		int h;

		memcpy(it->id, b.items[i].id, GB_ID_LEN);
		it->version = b.items[i].version;
		if (!strcmp(b.items[i].id, f->reject) &&
		    (!f->reject_version ||
		     f->reject_version == b.items[i].version)) {
			it->status = WIRE_REJECTED;
			snprintf(it->reason_code, sizeof(it->reason_code),
				 "invalid");
			it->reason = xstrdup("community S01-C99 is not a "
					     "community of grid S01-G1");
			continue;
		}
		if (!strcmp(b.items[i].id, f->transient)) {
			it->status = WIRE_REJECTED;
			it->transient = 1;
			snprintf(it->reason_code, sizeof(it->reason_code),
				 "invalid");
			it->reason = xstrdup("version: more than 24 h ahead of "
					     "HQ's clock");
			continue;
		}
		h = held_find(f, b.items[i].id, b.items[i].version);
		if (h >= 0) {
			f->held[h].times++;
			it->status = WIRE_DUPLICATE;
			continue;
		}
		if (f->nheld < MAX_HELD) {
			memcpy(f->held[f->nheld].id, b.items[i].id, GB_ID_LEN);
			f->held[f->nheld].version = b.items[i].version;
			f->held[f->nheld].times = 1;
			f->nheld++;
		}
		if (f->ngot < MAX_HELD && b.items[i].rec)
			f->got[f->ngot++] = gb_record_dup(b.items[i].rec);
		it->status = WIRE_ACCEPTED;
	}
	gb_buf_init(&f->batches[k].ack, GB_BUF_NOLIMIT);
	if (wire_ack_encode(&a, &f->batches[k].ack, err))
		goto out;
	if (f->meanwhile) {
		void (*fn)(void *) = f->meanwhile;

		f->meanwhile = NULL;
		fn(f->ctx);
	}
	if (f->fail_after > 0 || f->lose_at == f->posts) {
		if (f->fail_after > 0)
			f->fail_after--;
		gb_error(err, GB_EIO, "cannot reach hq: connection reset");
		goto out;
	}
	rc = fake_reply(f, &b, &f->batches[k].ack, resp, err);
out:
	wire_ack_release(&a);
	wire_batch_release(&b);
	return rc;
}

/* The request is applied as soon as it begins, as HQ applies a batch
 * while the client builds the next one. */
static int fake_start(void *arg, const void *body, size_t len, int *req,
		      struct gb_err *err)
{
	struct fake *f = arg;
	int i;

	for (i = 0; i < SYNC_WINDOW && f->req[i].started; i++)
		;
	if (i == SYNC_WINDOW) {
		f->overlaps++;
		return gb_error(err, GB_EINTERNAL, "too many posts running");
	}
	gb_buf_reset(&f->req[i].answer);
	f->req[i].result =
	    fake_post(f, body, len, &f->req[i].answer, &f->req[i].error);
	f->req[i].started = 1;
	if (++f->flying > f->most_flying)
		f->most_flying = f->flying;
	*req = i;
	return 0;
}

static int fake_finish(void *arg, int req, struct gb_buf *resp,
		       struct gb_err *err)
{
	struct fake *f = arg;

	if (req < 0 || req >= SYNC_WINDOW || !f->req[req].started)
		return gb_error(err, GB_EINTERNAL, "no such post running");
	f->req[req].started = 0;
	f->flying--;
	if (f->db && f->finishes < MAX_BATCHES)
		f->rows_at_finish[f->finishes] =
		    count(f->db, "SELECT count(*) FROM sync_batch");
	f->finishes++;
	if (f->req[req].result) {
		*err = f->req[req].error;
		return -1;
	}
	return gb_buf_add(resp, f->req[req].answer.data, f->req[req].answer.len,
			  err);
}

static void fake_abort(void *arg, int req)
{
	struct fake *f = arg;

	if (req >= 0 && req < SYNC_WINDOW && f->req[req].started) {
		f->req[req].started = 0;
		f->flying--;
		f->aborted++;
	}
}

static int fake_get(void *arg, const char *cursor, uint64_t seq,
		    struct gb_buf *resp, struct gb_err *err)
{
	struct fake *f = arg;
	size_t i = f->next_page;

	f->get_seq = seq;
	if (++f->gets == f->get_fail_at)
		return gb_error(err, GB_EIO, "connection reset");
	if (!f->npages) {
		/* No pages set: an empty last page. */
		struct wire_page p;

		wire_page_init(&p);
		return wire_page_encode(&p, resp, err);
	}

	/* The page after the cursor: the first one for "", else the one
	 * after the page that gave this cursor. */
	if (!*cursor) {
		i = 0;
	} else {
		for (i = 0; i < f->npages; i++)
			if (!strcmp(f->cursors[i], cursor))
				break;
		i++;
	}
	if (i >= f->npages)
		i = f->npages - 1;
	f->next_page = i + 1;
	return gb_buf_add(resp, f->pages[i].data, f->pages[i].len, err);
}

static void fake_release(struct fake *f)
{
	for (size_t k = 0; k < f->nbatches; k++) {
		free(f->batches[k].ids);
		free(f->batches[k].versions);
		gb_buf_release(&f->batches[k].ack);
	}
	for (size_t i = 0; i < f->npages; i++)
		gb_buf_release(&f->pages[i]);
	for (size_t i = 0; i < f->ngot; i++)
		gb_record_free(f->got[i]);
	for (int i = 0; i < SYNC_WINDOW; i++)
		gb_buf_release(&f->req[i].answer);
	free(f);
}

static long fake_retry_after(void *arg)
{
	struct fake *f = arg;

	return f->retry_after;
}

static int fake_retry_exact(void *arg)
{
	const struct fake *f = arg;

	return f->exact;
}

static void fake_sleep(void *arg, long ms)
{
	struct fake *f = arg;

	if (f->nwaits < sizeof(f->waits) / sizeof(f->waits[0]))
		f->waits[f->nwaits++] = ms;
}

static struct fake *fake_new(struct sync_io *io)
{
	struct fake *f = xcalloc(1, sizeof(*f));

	for (int i = 0; i < SYNC_WINDOW; i++)
		gb_buf_init(&f->req[i].answer, GB_BUF_NOLIMIT);
	io->post_start = fake_start;
	io->post_poll = NULL;
	io->post_finish = fake_finish;
	io->post_abort = fake_abort;
	io->get_changes = fake_get;
	io->retry_after_ms = fake_retry_after;
	io->retry_exact = fake_retry_exact;
	io->arg = f;
	f->retry_after = -1;
	return f;
}

/* 1 when the fake holds every version once and nothing else. */
static int held_once(const struct fake *f, size_t want)
{
	if (f->nheld != want)
		return 0;
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i].times != 1)
			return 0;
	return 1;
}

/* ---- the grid file ---------------------------------------------------- */

static char tmpdir[256];

/* A grid file; one set up to sync (a token stored) when token is set. */
static struct gb_db *grid_open(const char *name, int token)
{
	struct gb_db *db = NULL;
	struct gb_err err;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (db_open(&db, path, DB_CREATE, &err) ||
	    db_load_seeds(db, GB_SEEDDIR, "S01-G1", &err) ||
	    (!*db_grid(db) && db_meta_set(db, "grid", "S01-G1", &err)) ||
	    db_meta_set(db, "staff", "K0001", &err) ||
	    (token && sync_config_set(db, NULL, "test-token", NULL, &err))) {
		fprintf(stderr, "grid file: %s\n", err.msg);
		exit(1);
	}
	return db;
}

static struct gb_db *grid_new(const char *name)
{
	return grid_open(name, 1);
}

static void grid_remove(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	for (;;) {
		e = readdir(d);
		if (!e)
			break;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* Writes n enterprises (in one transaction); ids into ids when given. */
static void add_enterprises(struct gb_db *db, int n, char (*ids)[GB_ID_LEN])
{
	const struct gb_kind *k = gb_kind_find("enterprise");
	struct gb_err err;

	if (db_begin(db, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		struct gb_record *r = gb_record_new(k);
		char name[64];

		snprintf(name, sizeof(name), "东风五金加工厂%04d", i);
		gb_record_set_name(r, "uscc", "91110108551385082Q");
		gb_record_set_name(r, "name", name);
		gb_record_set_name(r, "type", "company");
		gb_record_set_name(r, "community", "S01-C01");
		gb_record_set_name(r, "address", "东风路12号");
		gb_record_set_name(r, "employees", "35");
		gb_record_set_name(r, "status", "active");
		if (db_record_insert(db, r, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			exit(1);
		}
		if (ids)
			memcpy(ids[i], r->id, GB_ID_LEN);
		gb_record_free(r);
	}
	if (db_commit(db, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
}

/* The number a query gives. */
static long count(struct gb_db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long n = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* ---- tests ------------------------------------------------------------ */

/* 1200 records go in three batches of at most 500, numbered 1, 2, 3, in
 * outbox order, and leave the outbox empty. */
static void test_push_batches(void)
{
	struct gb_db *db = grid_new("push.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct sync_status st;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	add_enterprises(db, 1200, NULL);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 1200);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3);
	CHECK(f->post_seq[0] == 1 && f->post_seq[1] == 2 &&
	      f->post_seq[2] == 3);
	CHECK(f->post_n[0] == 500 && f->post_n[1] == 500 &&
	      f->post_n[2] == 200);
	CHECK(res.sent == 1200 && res.accepted == 1200 && res.batches == 3);
	CHECK(held_once(f, 1200));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.pending == 0 && st.next_seq == 4 && st.last_ok > 0 &&
	      st.inflight == 0 && st.natt == 0);
	sync_status_release(&st);
	/* Nothing pending: nothing sent. */
	CHECK(sync_push_batch(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3);
	fake_release(f);
	db_close(db);
}

/* The byte bound cuts batches short, but a batch holds at least one
 * record. */
static void test_push_bytes(void)
{
	struct gb_db *db = grid_new("bytes.grid");
	struct sync_opts o = {.max_bytes = 1000};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;
	int ok = 1;

	add_enterprises(db, 40, NULL);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts > 4 && f->posts < 40);
	for (size_t i = 0; i < f->posts; i++)
		ok &= f->post_n[i] >= 1 && f->post_n[i] < 20;
	CHECK(ok);
	CHECK(held_once(f, 40));
	/* A record bigger than the bound still goes, alone. */
	o.max_bytes = 10;
	add_enterprises(db, 2, NULL);
	f->posts = 0;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 2 && f->post_n[0] == 1);
	CHECK(held_once(f, 42));
	fake_release(f);
	db_close(db);
}

/* A batch whose ack is lost, and one that never arrives, are sent again
 * under the same number with the same versions; HQ applies each once. */
static void test_resend(void)
{
	struct gb_db *db = grid_new("resend.grid");
	struct sync_opts o = {.max_records = 10};
	struct sync_result res = {0};
	struct sync_status st;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	add_enterprises(db, 25, NULL);
	f->fail_after = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(err.code == GB_EIO);
	CHECK(f->nheld == 10);
	/* Still pending, and written down as batch 1. */
	CHECK(count(db, "SELECT count(*) FROM outbox") == 25);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.inflight == 1 && st.inflight_records == 10 &&
	      st.pending == 25);
	sync_status_release(&st);
	/* More records written meanwhile do not join the batch. */
	add_enterprises(db, 3, NULL);
	f->fail_before = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(f->posts == 2 && f->post_seq[1] == 1 && f->post_n[1] == 10);
	/* Now it goes through: batch 1 again (the stored ack), then 2, 3. */
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->post_seq[2] == 1 && f->post_n[2] == 10);
	CHECK(f->posts == 5 && f->post_seq[3] == 2 && f->post_seq[4] == 3);
	CHECK(f->resend_differs == 0);
	CHECK(res.sent == 28);
	CHECK(held_once(f, 28));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	/* A new handle on the file (a restarted daemon) finds the batch
	 * in flight too. */
	add_enterprises(db, 5, NULL);
	f->fail_after = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	db_close(db);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/resend.grid", tmpdir);
		CHECK(db_open(&db, path, 0, &err) == 0);
	}
	f->posts = 0;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 1 && f->post_seq[0] == 4 && f->post_n[0] == 5);
	CHECK(held_once(f, 33));
	CHECK(f->resend_differs == 0);
	fake_release(f);
	db_close(db);
}

/* A rejected record goes to the attention list with HQ's reason, the
 * records around it are taken, and its next version, once accepted,
 * clears the entry. */
static void test_reject(void)
{
	struct gb_db *db = grid_new("reject.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct sync_status st;
	char ids[5][GB_ID_LEN];
	struct gb_record *r = NULL;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	add_enterprises(db, 5, ids);
	memcpy(f->reject, ids[2], GB_ID_LEN);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == 4 && res.rejected == 1);
	CHECK(held_once(f, 4));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.natt == 1);
	if (st.natt == 1) {
		CHECK_STR(st.att[0].id, ids[2]);
		CHECK_STR(st.att[0].kind, "enterprise");
		CHECK_STR(st.att[0].status, "rejected");
		CHECK_STR(st.att[0].reason_code, "invalid");
		CHECK(strstr(st.att[0].reason, "S01-C99") != NULL);
		CHECK_STR(st.att[0].title, "东风五金加工厂0002");
	}
	sync_status_release(&st);
	/* Edited: the new version is accepted and the entry goes. */
	f->reject[0] = '\0';
	CHECK(db_record_get(db, NULL, ids[2], &r, &err) == 0);
	if (r) {
		gb_record_set_name(r, "community", "S01-C02");
		CHECK(db_record_update(db, r, &err) == 0);
		gb_record_free(r);
	}
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == 1);
	CHECK(count(db, "SELECT count(*) FROM attention") == 0);
	fake_release(f);
	db_close(db);
}

/* HQ holds batch 1 of this device with other records (a grid file
 * restored from a copy): the batch is renumbered and delivered. */
static void test_renumber(void)
{
	struct gb_db *db = grid_new("renumber.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	f->nbatches = 2;
	f->batches[0].seq = 1;
	f->batches[1].seq = 2;
	gb_buf_init(&f->batches[0].ack, GB_BUF_NOLIMIT);
	gb_buf_init(&f->batches[1].ack, GB_BUF_NOLIMIT);
	add_enterprises(db, 3, NULL);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3 && f->post_seq[2] == 3);
	CHECK(res.accepted == 3);
	CHECK(held_once(f, 3));
	CHECK(count(db, "SELECT value FROM meta WHERE key = "
			"'sync_next_seq'") == 4);
	fake_release(f);
	db_close(db);
}

/* A stop request ends the push between batches, with what was sent
 * recorded and the rest pending. */
static void test_stop(void)
{
	struct gb_db *db = grid_new("stop.grid");
	volatile sig_atomic_t stop = 0;
	struct sync_opts o = {.max_records = 10, .stop = &stop};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	add_enterprises(db, 50, NULL);
	f->stop = &stop;
	f->stop_after = 2;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(err.code == GB_EINTR);
	CHECK(f->posts == 2 && res.sent == 20);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 30);
	stop = 0;
	f->stop = NULL;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(held_once(f, 50));
	fake_release(f);
	db_close(db);
}

/* Encodes a page into f's next slot. */
static void page_add(struct fake *f, struct wire_page *p)
{
	struct gb_err err;

	snprintf(f->cursors[f->npages], WIRE_CURSOR_LEN, "%s", p->next_cursor);
	gb_buf_init(&f->pages[f->npages], GB_BUF_NOLIMIT);
	if (wire_page_encode(p, &f->pages[f->npages], &err)) {
		fprintf(stderr, "page: %s\n", err.msg);
		exit(1);
	}
	f->npages++;
}

/* Two pages: reference data and a record of another device, then a newer
 * version of it; each page's cursor is stored with it. */
static void test_pull(void)
{
	struct gb_db *db = grid_new("pull.grid");
	const struct gb_kind *k = gb_kind_find("patrol");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct wire_community comm[2];
	struct wire_staff staff[1];
	struct gb_record *recs[1], *got = NULL;
	struct wire_page p;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_uuidgen g;
	struct gb_err err;
	char *cur;
	char id[GB_ID_LEN], dev[GB_ID_LEN];

	gb_uuidgen_init(&g);
	gb_uuid7(&g, gb_now_ms(), id);
	gb_uuid7(&g, gb_now_ms(), dev);
	memset(comm, 0, sizeof(comm));
	memset(staff, 0, sizeof(staff));
	snprintf(comm[0].code, GB_CODE_LEN, "S01-C01");
	snprintf(comm[0].grid, GB_CODE_LEN, "S01-G1");
	snprintf(comm[0].street, GB_CODE_LEN, "S01");
	comm[0].name = "东风社区";
	comm[0].population = 2600;
	comm[0].criminal_cases = 82;
	comm[0].patrol_team = 6;
	snprintf(comm[1].code, GB_CODE_LEN, "S01-C02");
	snprintf(comm[1].grid, GB_CODE_LEN, "S01-G1");
	snprintf(comm[1].street, GB_CODE_LEN, "S01");
	comm[1].name = "新风社区";
	comm[1].population = 3066;
	comm[1].criminal_cases = -1;
	comm[1].patrol_team = -1;
	snprintf(staff[0].code, GB_CODE_LEN, "K0001");
	snprintf(staff[0].grid, GB_CODE_LEN, "S01-G1");
	snprintf(staff[0].role, GB_CODE_LEN, "coordinator");
	staff[0].name = "冯秀兰";

	recs[0] = gb_record_new(k);
	memcpy(recs[0]->id, id, GB_ID_LEN);
	snprintf(recs[0]->grid, GB_CODE_LEN, "S01-G1");
	memcpy(recs[0]->device, dev, GB_ID_LEN);
	snprintf(recs[0]->staff, GB_CODE_LEN, "J0002");
	recs[0]->created_at = gb_now_ms();
	recs[0]->updated_at = recs[0]->created_at;
	recs[0]->version = gb_hlc_next(0, recs[0]->created_at);
	gb_record_set_name(recs[0], "area", "PA-01");
	gb_record_set_name(recs[0], "start", "1767268800000");
	gb_record_set_name(recs[0], "end", "1767276000000");
	gb_record_set_name(recs[0], "leader", "J0002");
	gb_record_set_name(recs[0], "guards", "B0001,B0002");
	gb_record_set_name(recs[0], "mode", "foot");
	gb_record_set_name(recs[0], "incidents", "0");

	wire_page_init(&p);
	p.communities = comm;
	p.ncommunities = 2;
	p.staff = staff;
	p.nstaff = 1;
	p.recs = recs;
	p.n = 1;
	snprintf(p.next_cursor, WIRE_CURSOR_LEN, "r1.s10");
	p.more = 1;
	page_add(f, &p);
	recs[0]->version++;
	gb_record_set_name(recs[0], "incidents", "2");
	wire_page_init(&p);
	p.recs = recs;
	p.n = 1;
	snprintf(p.next_cursor, WIRE_CURSOR_LEN, "r1.s11");
	page_add(f, &p);

	CHECK(sync_pull(db, &io, &o, &res, &err) == 0);
	CHECK(res.received == 2 && res.applied == 2 && res.ref_updated);
	CHECK(count(db, "SELECT count(*) FROM community") == 2);
	CHECK(count(db, "SELECT population FROM community WHERE code = "
			"'S01-C01'") == 2600);
	CHECK(count(db, "SELECT count(*) FROM staff") == 1);
	CHECK(count(db, "SELECT count(*) FROM police_area") == 0);
	cur = db_meta_get(db, "sync_cursor");
	CHECK_STR(cur, "r1.s11");
	free(cur);
	CHECK(db_record_get(db, k, id, &got, &err) == 0);
	if (got) {
		CHECK_STR(gb_record_get(got, "incidents"), "2");
		CHECK(got->version == recs[0]->version);
		gb_record_free(got);
	}
	/* Pulled records are not sent back. */
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	/* The next pull starts from the stored cursor. */
	memset(&res, 0, sizeof(res));
	CHECK(sync_pull(db, &io, &o, &res, &err) == 0);
	CHECK(f->next_page == 2);
	gb_record_free(recs[0]);
	fake_release(f);
	db_close(db);
}

static int count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * Pages are stored a group at a time, in one transaction: four pages of
 * records, one commit.  A page that cannot be fetched fails the pull
 * after the pages fetched before it are stored with their cursor, and
 * the next pull goes on from there.
 */
static void test_pull_group(void)
{
	struct gb_db *db = grid_new("pullgroup.grid");
	const struct gb_kind *k = gb_kind_find("patrol");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct gb_record *recs[4];
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_uuidgen g;
	struct gb_err err;
	char dev[GB_ID_LEN];
	char *cur;
	int commits = 0;

	gb_uuidgen_init(&g);
	gb_uuid7(&g, gb_now_ms(), dev);
	for (int i = 0; i < 4; i++) {
		struct wire_page p;
		struct gb_record *r = gb_record_new(k);

		gb_uuid7(&g, gb_now_ms(), r->id);
		snprintf(r->grid, GB_CODE_LEN, "S01-G1");
		memcpy(r->device, dev, GB_ID_LEN);
		snprintf(r->staff, GB_CODE_LEN, "J0002");
		r->created_at = gb_now_ms();
		r->updated_at = r->created_at;
		r->version = gb_hlc_next(0, r->created_at) + (uint64_t)i;
		gb_record_set_name(r, "area", "PA-01");
		gb_record_set_name(r, "start", "1767268800000");
		gb_record_set_name(r, "end", "1767276000000");
		gb_record_set_name(r, "leader", "J0002");
		gb_record_set_name(r, "guards", "B0001,B0002");
		gb_record_set_name(r, "mode", "foot");
		gb_record_set_name(r, "incidents", "0");
		recs[i] = r;
		wire_page_init(&p);
		p.recs = &recs[i];
		p.n = 1;
		snprintf(p.next_cursor, WIRE_CURSOR_LEN, "r1.s%d", 20 + i);
		p.more = i < 3;
		page_add(f, &p);
	}

	sqlite3_commit_hook(db_sqlite(db), count_commit, &commits);
	CHECK(sync_pull(db, &io, &o, &res, &err) == 0);
	sqlite3_commit_hook(db_sqlite(db), NULL, NULL);
	CHECK(res.received == 4 && res.applied == 4);
	CHECK(f->gets == 4);
	CHECK(commits == 1);
	cur = db_meta_get(db, "sync_cursor");
	CHECK_STR(cur, "r1.s23");
	free(cur);
	db_close(db);

	/* The third page fails: the first two are kept, then the rest. */
	db = grid_new("pullgroup2.grid");
	f->gets = 0;
	f->get_fail_at = 3;
	memset(&res, 0, sizeof(res));
	CHECK(sync_pull(db, &io, &o, &res, &err) == -1);
	CHECK(err.code == GB_EIO);
	CHECK(res.received == 2 && res.applied == 2);
	CHECK(count(db, "SELECT count(*) FROM record") == 2);
	cur = db_meta_get(db, "sync_cursor");
	CHECK_STR(cur, "r1.s21");
	free(cur);
	f->get_fail_at = 0;
	memset(&res, 0, sizeof(res));
	CHECK(sync_pull(db, &io, &o, &res, &err) == 0);
	CHECK(res.received == 2 && res.applied == 2);
	CHECK(count(db, "SELECT count(*) FROM record") == 4);
	for (int i = 0; i < 4; i++)
		gb_record_free(recs[i]);
	fake_release(f);
	db_close(db);
}

/* A failed round is noted as the last error; a good one as success. */
static void test_round_state(void)
{
	struct gb_db *db = grid_new("round.grid");
	struct sync_opts o = {0};
	struct sync_result res;
	struct sync_status st;
	struct wire_page p;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	wire_page_init(&p);
	snprintf(p.next_cursor, WIRE_CURSOR_LEN, "c1");
	page_add(f, &p);
	add_enterprises(db, 3, NULL);
	f->fail_before = 1;
	CHECK(sync_round(db, &io, &o, &res, &err) == -1);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.pending == 3 && st.oldest > 0 && st.last_ok == 0 &&
	      st.last_error_at > 0);
	CHECK(st.last_error && strstr(st.last_error, "connection refused"));
	sync_status_release(&st);
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.sent == 3);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.pending == 0 && st.last_ok >= st.last_error_at);
	CHECK_STR(st.cursor, "c1");
	sync_status_release(&st);
	fake_release(f);
	db_close(db);
}

/* The number of outbox rows logging a current version whose Batch entry
 * equals the one packed from the version read back from the file; -1
 * when one differs. */
static int outbox_wire_same(struct gb_db *db)
{
	sqlite3_stmt *s = NULL;
	struct gb_buf one;
	struct gb_err err;
	int n = 0;

	gb_buf_init(&one, GB_BUF_NOLIMIT);
	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT id, version, wire FROM outbox", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct gb_record *r = NULL;
		const char *id = (const char *)sqlite3_column_text(s, 0);

		if (db_record_get(db, NULL, id, &r, &err) || !r)
			n = -1000;
		else if (r->version == (uint64_t)sqlite3_column_int64(s, 1)) {
			gb_buf_reset(&one);
			if (wire_batch_add(r, &one, &err) ||
			    one.len != (size_t)sqlite3_column_bytes(s, 2) ||
			    memcmp(one.data, sqlite3_column_blob(s, 2),
				   one.len) != 0) {
				fprintf(stderr, "  entry differs: %s\n", id);
				n = -1000;
			}
			n++;
		}
		gb_record_free(r);
	}
	sqlite3_finalize(s);
	gb_buf_release(&one);
	return n < 0 ? -1 : n;
}

/* The id HQ gave at enrollment replaces the file's own in the versions
 * written here, which then go under it.  A file packs the Batch entries
 * of its outbox only once it holds a token (before, sync setup would pack
 * them again anyway); the token packs those left out, a new device id
 * every one. */
static void test_device_set(void)
{
	static const char hq_id[] = "01A21F71-2A9B-7000-BBA9-7717ABE6A438";
	static const char first_id[] = "01a21f71-0000-7000-8000-000000000001";
	struct gb_db *db = grid_open("device.grid", 0);
	struct sync_opts o = {0};
	struct sync_result res = {0};
	char ids[2][GB_ID_LEN];
	struct gb_record *r = NULL;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	add_enterprises(db, 2, ids);
	CHECK(db_record_get(db, NULL, ids[0], &r, &err) == 0);
	if (r) {
		gb_record_set_name(r, "employees", "36");
		CHECK(db_record_update(db, r, &err) == 0);
		gb_record_free(r);
	}
	CHECK(count(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") == 3);
	CHECK(sync_device_set(db, "not-a-uuid", &err) == -1);
	CHECK(err.code == GB_EUSAGE);
	CHECK(sync_device_set(db, first_id, &err) == 0);
	CHECK(count(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") == 3);
	/* The token: the entries left out are packed. */
	CHECK(sync_config_set(db, NULL, "test-token", NULL, &err) == 0);
	CHECK(count(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") == 0);
	CHECK(outbox_wire_same(db) == 2);
	CHECK(sync_device_set(db, hq_id, &err) == 0);
	CHECK_STR(db_device(db), "01a21f71-2a9b-7000-bba9-7717abe6a438");
	CHECK(count(db, "SELECT count(*) FROM record WHERE device = "
			"'01a21f71-2a9b-7000-bba9-7717abe6a438'") == 2);
	CHECK(count(db, "SELECT count(*) FROM record_history WHERE device = "
			"'01a21f71-2a9b-7000-bba9-7717abe6a438'") == 1);
	/* The outbox's Batch entries are packed again under the new id. */
	CHECK(count(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") == 0);
	CHECK(outbox_wire_same(db) == 2);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == 3);
	CHECK(held_once(f, 3));
	for (size_t i = 0; i < f->ngot; i++)
		CHECK_STR(f->got[i]->device,
			  "01a21f71-2a9b-7000-bba9-7717abe6a438");
	fake_release(f);
	db_close(db);
}

/* https anywhere; http only to this machine; nothing else. */
static void test_urls(void)
{
	static const char *const good[] = {
	    "https://hq.example.org", "https://hq.example.org:8443/gridbook/",
	    "http://127.0.0.1:8470",  "http://127.8.9.10:1",
	    "http://localhost:8470",  "http://[::1]:8470",
	};
	static const char *const bad[] = {
	    "http://hq.example.org",
	    "http://10.0.0.1:8470",
	    "http://[::2]:8470",
	    "ftp://hq.example.org",
	    "https://user:secret@hq.example.org",
	    "https://hq.example.org/?a=b",
	    "hq.example.org",
	    "",
	};
	struct gb_err err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(transport_check_url(good[i], &err) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.code = GB_OK;
		CHECK(transport_check_url(bad[i], &err) == -1);
		CHECK(err.code == GB_EUSAGE);
	}
	CHECK(transport_check_url("http://192.0.2.1", &err) == -1);
	CHECK(strstr(err.msg, "plain http") != NULL);
}

/* What the second process does while the first waits for its ack. */
struct second {
	struct gb_db *db;
	const struct sync_io *io;
	int rc;
};

/* Sends everything (the same batch first), then writes two records,
 * which take outbox seq numbers freed by the first ones. */
static void second_process(void *arg)
{
	struct second *p = arg;
	struct sync_result res = {0};
	struct gb_err err;

	p->rc = sync_push(p->db, p->io, NULL, &res, &err);
	add_enterprises(p->db, 2, NULL);
}

/* gridbook sync and the daemon send the same batch; the one whose ack
 * comes late finds it recorded and touches nothing, not even the new
 * outbox rows that reuse the batch's seq numbers. */
static void test_two_processes(void)
{
	struct gb_db *db = grid_new("two.grid"), *db2 = NULL;
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct second p = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;
	char path[512];

	snprintf(path, sizeof(path), "%s/two.grid", tmpdir);
	CHECK(db_open(&db2, path, 0, &err) == 0);
	add_enterprises(db, 3, NULL);
	p.db = db2;
	p.io = &io;
	f->meanwhile = second_process;
	f->ctx = &p;
	CHECK(sync_push_batch(db, &io, &o, &res, &err) == 1);
	CHECK(p.rc == 0);
	CHECK(res.sent == 0);
	CHECK(f->posts == 2 && f->post_seq[1] == 1);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 2);
	CHECK(count(db, "SELECT min(seq) FROM outbox") == 1);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->post_seq[2] == 2);
	CHECK(held_once(f, 5));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	fake_release(f);
	db_close(db2);
	db_close(db);
}

/* The ids of the outbox rows of written-down batch seq, in order, joined
 * by commas; caller frees. */
static char *batch_ids(struct gb_db *db, uint64_t seq)
{
	sqlite3_stmt *s = NULL;
	char *out = NULL;

	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT group_concat(id) FROM (SELECT o.id FROM "
			       "outbox o, sync_batch b WHERE b.seq = ?1 AND "
			       "o.seq BETWEEN b.lo AND b.hi ORDER BY o.seq)",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			out = xstrdup((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	return out ? out : xstrdup("");
}

/* The ids of the versions the fake applied in batch seq, joined. */
static char *fake_ids(const struct fake *f, uint64_t seq)
{
	struct gb_buf b;
	struct gb_err err;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	for (size_t k = 0; k < f->nbatches; k++) {
		if (f->batches[k].seq != seq)
			continue;
		for (size_t i = 0; i < f->batches[k].n; i++)
			gb_buf_addf(&b, &err, "%s%s", i ? "," : "",
				    f->batches[k].ids[i]);
	}
	gb_buf_adds(&b, "", &err);
	return gb_buf_detach(&b, NULL);
}

/* 1 when the fake took the versions in the order of ids. */
static int got_in_order(const struct fake *f, char (*ids)[GB_ID_LEN], size_t n)
{
	if (f->ngot != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(f->got[i]->id, ids[i]) != 0)
			return 0;
	return 1;
}

/* While a batch is on the wire the next one is written down (two
 * sync_batch rows); HQ gets them one at a time and in order. */
static void test_overlap(void)
{
	struct gb_db *db = grid_new("overlap.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	char ids[1200][GB_ID_LEN];
	struct gb_err err;

	f->db = db;
	add_enterprises(db, 1200, ids);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3);
	CHECK(f->post_seq[0] == 1 && f->post_seq[1] == 2 &&
	      f->post_seq[2] == 3);
	CHECK(f->rows_at_finish[0] == 2 && f->rows_at_finish[1] == 2 &&
	      f->rows_at_finish[2] == 1);
	CHECK(f->overlaps == 0 && f->out_of_order == 0 && f->not_after == 0);
	/* Batch 1 alone; once its ack is in, 2 and 3 on the wire at once,
	 * each naming the one before it. */
	CHECK(f->most_flying == 2);
	CHECK(f->post_after[0] == 0 && f->post_after[1] == 1 &&
	      f->post_after[2] == 2);
	CHECK(res.sent == 1200 && res.batches == 3);
	CHECK(got_in_order(f, ids, 1200));
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	fake_release(f);
	db_close(db);
}

/*
 * With many batches the window fills: SYNC_WINDOW on the wire at once,
 * each naming the one before it, HQ applying them in order.  A batch that
 * never arrives makes HQ refuse those behind it (they name it), the push
 * fails and abandons them; a lost ack leaves the batches behind it
 * applied.  Either way the next push sends what is written down again, in
 * order, and HQ holds every record once, applied in order.
 */
static void test_window(void)
{
	struct gb_db *db = grid_new("window.grid");
	struct sync_opts o = {.max_records = 2};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	char ids[60][GB_ID_LEN];
	struct gb_err err;
	int chained = 1;

	f->db = db;
	add_enterprises(db, 20, ids);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 10 && res.batches == 10 && res.sent == 20);
	CHECK(f->most_flying == SYNC_WINDOW);
	CHECK(f->overlaps == 0 && f->out_of_order == 0 && f->not_after == 0);
	for (size_t i = 1; i < f->posts; i++)
		chained &= f->post_after[i] == f->post_seq[i - 1];
	CHECK(chained);
	CHECK(got_in_order(f, ids, 20));
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);

	/* Batch 12 (the second of the next push) never arrives; 13, sent
	 * behind it with the window open, is refused. */
	add_enterprises(db, 20, ids + 20);
	f->posts = 0;
	f->lose_at = 0;
	f->fail_before = 0;
	f->fail_nth = 2;
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(err.code == GB_EIO);
	CHECK(res.batches == 1);
	CHECK(f->not_after >= 1);
	CHECK(f->flying == 0);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 18);
	/* The ack of batch 16 is lost; 17 and 18 behind it were applied. */
	f->posts = 0;
	f->lose_at = 4;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(f->flying == 0);
	memset(&res, 0, sizeof(res));
	f->lose_at = 0;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->flying == 0 && f->overlaps == 0 && f->out_of_order == 0);
	CHECK(f->resend_differs == 0);
	CHECK(held_once(f, 40));
	CHECK(got_in_order(f, ids, 40));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	fake_release(f);
	db_close(db);
}

/* Reopens the grid file at name, as a restarted process does. */
static struct gb_db *grid_reopen(struct gb_db *db, const char *name)
{
	struct gb_err err;
	char path[512];

	db_close(db);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (db_open(&db, path, 0, &err)) {
		fprintf(stderr, "reopen: %s\n", err.msg);
		exit(1);
	}
	return db;
}

/* A process that dies with two batches written down (the one in flight
 * and the one behind it) is followed by one that sends both again, in
 * order, under the same numbers with the same versions: once when the
 * first ack was lost, once when the second was. */
static void test_crash_two_batches(void)
{
	struct gb_db *db = grid_new("crash2.grid");
	struct sync_opts o = {.max_records = 10};
	struct sync_result res = {0};
	struct sync_status st;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	char ids[30][GB_ID_LEN];
	char *two, *three, *sent;
	struct gb_err err;

	add_enterprises(db, 25, ids);
	/* The ack of batch 1 is lost: 1 and 2 are written down. */
	f->lose_at = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(err.code == GB_EIO);
	CHECK(f->posts == 1 && f->nheld == 10);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 2);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 25);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.inflight == 1 && st.inflight_records == 10);
	sync_status_release(&st);
	two = batch_ids(db, 2);
	CHECK(strlen(two) == 10 * 36 + 9);
	add_enterprises(db, 3, ids + 25);
	db = grid_reopen(db, "crash2.grid");
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 4);
	CHECK(f->post_seq[1] == 1 && f->post_n[1] == 10);
	CHECK(f->post_seq[2] == 2 && f->post_n[2] == 10);
	CHECK(f->post_seq[3] == 3 && f->post_n[3] == 8);
	sent = fake_ids(f, 2);
	CHECK_STR(sent, two);
	free(sent);
	CHECK(f->resend_differs == 0 && f->out_of_order == 0);
	CHECK(res.sent == 28 && res.duplicate == 0);
	CHECK(held_once(f, 28));
	CHECK(got_in_order(f, ids, 28));
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);

	/* The ack of the second batch of a push is lost: the first is
	 * recorded and the third written down beside the second. */
	add_enterprises(db, 3, NULL);
	memset(&res, 0, sizeof(res));
	f->posts = 0;
	f->lose_at = 2;
	o.max_records = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(res.sent == 1);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 2);
	CHECK(count(db, "SELECT min(seq) FROM sync_batch") == 5);
	three = batch_ids(db, 6);
	CHECK(strlen(three) == 36);
	db = grid_reopen(db, "crash2.grid");
	f->posts = 0;
	f->lose_at = 0;
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 2 && f->post_seq[0] == 5 && f->post_seq[1] == 6);
	sent = fake_ids(f, 6);
	CHECK_STR(sent, three);
	free(sent);
	CHECK(res.sent == 2);
	CHECK(held_once(f, 31));
	CHECK(f->resend_differs == 0 && f->out_of_order == 0);
	free(two);
	free(three);
	fake_release(f);
	db_close(db);
}

/* HQ holds batches 1 and 2 under other content: the batch is renumbered
 * twice, the batch built behind it each time is built again, and every
 * version arrives once and in order. */
static void test_renumber_overlap(void)
{
	struct gb_db *db = grid_new("renumber2.grid");
	struct sync_opts o = {.max_records = 10};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	char ids[25][GB_ID_LEN];
	struct gb_err err;

	f->nbatches = 2;
	f->batches[0].seq = 1;
	f->batches[1].seq = 2;
	gb_buf_init(&f->batches[0].ack, GB_BUF_NOLIMIT);
	gb_buf_init(&f->batches[1].ack, GB_BUF_NOLIMIT);
	add_enterprises(db, 25, ids);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 5);
	CHECK(f->post_seq[0] == 1 && f->post_seq[1] == 2 &&
	      f->post_seq[2] == 3 && f->post_seq[3] == 4 &&
	      f->post_seq[4] == 5);
	CHECK(res.sent == 25 && res.batches == 3);
	CHECK(held_once(f, 25));
	CHECK(got_in_order(f, ids, 25));
	CHECK(count(db, "SELECT value FROM meta WHERE key = "
			"'sync_next_seq'") == 6);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	fake_release(f);
	db_close(db);
}

/* An ack that leaves a version out: that version goes in the next batch,
 * before those of the batch that had been built behind (which is built
 * again, under the same number). */
static void test_short_ack(void)
{
	struct gb_db *db = grid_new("short.grid");
	struct sync_opts o = {.max_records = 10};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	char ids[25][GB_ID_LEN];
	struct gb_err err;

	add_enterprises(db, 25, ids);
	f->short_ack = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3);
	CHECK(f->post_seq[1] == 2 && f->post_n[1] == 10);
	CHECK(f->post_seq[2] == 3 && f->post_n[2] == 6);
	CHECK(f->resend_differs == 0);
	CHECK(res.sent == 25);
	CHECK(held_once(f, 25));
	CHECK(got_in_order(f, ids, 25));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	fake_release(f);
	db_close(db);
}

/* What test_renumber_window's io does besides the fake's. */
struct writer_io {
	struct fake *f;
	struct gb_db *db;
	size_t at; /* after this finish (from 1), n records are written */
	int n;
	char (*ids)[GB_ID_LEN];
};

static struct writer_io wio;

static int wio_start(void *arg, const void *body, size_t len, int *req,
		     struct gb_err *err)
{
	(void)arg;
	return fake_start(wio.f, body, len, req, err);
}

static int wio_finish(void *arg, int req, struct gb_buf *resp,
		      struct gb_err *err)
{
	int rc;

	(void)arg;
	rc = fake_finish(wio.f, req, resp, err);
	if (wio.f->finishes == wio.at)
		add_enterprises(wio.db, wio.n, wio.ids);
	return rc;
}

static void wio_abort(void *arg, int req)
{
	(void)arg;
	fake_abort(wio.f, req);
}

/*
 * HQ holds batches 3 and 4 under other content (a grid file restored from
 * a copy), and the window is open (batches 1 and 2 went through) when 3
 * comes back refused with nothing behind it.  Records written meanwhile
 * make a batch to build behind the renumbered one: it waits until HQ has
 * taken the renumbered batch in full, for its new number (4) may be taken
 * too.  Sent at once, it would name 4, which HQ holds, and be applied
 * before the records of 3.
 */
static void test_renumber_window(void)
{
	struct gb_db *db = grid_new("renumber3.grid");
	struct sync_opts o = {.max_records = 2};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	char ids[8][GB_ID_LEN];
	struct gb_err err;
	int chained = 1;

	f->nbatches = 2;
	f->batches[0].seq = 3;
	f->batches[1].seq = 4;
	gb_buf_init(&f->batches[0].ack, GB_BUF_NOLIMIT);
	gb_buf_init(&f->batches[1].ack, GB_BUF_NOLIMIT);
	add_enterprises(db, 6, ids);
	wio = (struct writer_io){f, db, 3, 2, ids + 6};
	io.post_start = wio_start;
	io.post_finish = wio_finish;
	io.post_abort = wio_abort;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.sent == 8 && res.accepted == 8);
	CHECK(f->overlaps == 0 && f->flying == 0);
	/* 1, 2 and 3 once each, 4 twice (refused both times), then the
	 * records of 3 as 5 and those written meanwhile as 6. */
	CHECK(f->posts == 6);
	CHECK(f->post_seq[4] == 5 && f->post_seq[5] == 6);
	for (size_t i = 5; i < f->posts; i++)
		chained &= f->post_after[i] == f->post_seq[i - 1];
	CHECK(chained);
	CHECK(held_once(f, 8));
	CHECK(got_in_order(f, ids, 8));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	fake_release(f);
	db_close(db);
}

/* Two versions of one record in one batch: the first rejected, the
 * second accepted, which clears the first's entry in the attention list;
 * the other way round the entry stays. */
static void test_reject_then_accept(void)
{
	struct gb_db *db = grid_new("reject2.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	char ids[3][GB_ID_LEN];
	struct gb_record *r = NULL;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;
	uint64_t v1 = 0, v2 = 0;

	add_enterprises(db, 3, ids);
	CHECK(db_record_get(db, NULL, ids[1], &r, &err) == 0);
	if (r) {
		v1 = r->version;
		gb_record_set_name(r, "employees", "40");
		CHECK(db_record_update(db, r, &err) == 0);
		v2 = r->version;
		gb_record_free(r);
	}
	CHECK(v2 > v1);
	memcpy(f->reject, ids[1], GB_ID_LEN);
	f->reject_version = v1;
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.rejected == 1 && res.accepted == 3);
	CHECK(count(db, "SELECT count(*) FROM attention") == 0);

	r = NULL;
	CHECK(db_record_get(db, NULL, ids[2], &r, &err) == 0);
	if (r) {
		v1 = r->version;
		gb_record_set_name(r, "employees", "41");
		CHECK(db_record_update(db, r, &err) == 0);
		v2 = r->version;
		gb_record_free(r);
	}
	memcpy(f->reject, ids[2], GB_ID_LEN);
	f->reject_version = v2;
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.rejected == 1 && res.accepted == 0);
	CHECK(count(db, "SELECT count(*) FROM attention") == 1);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	fake_release(f);
	db_close(db);
}

/* 1 when a and b are the same version with the same values. */
static int same_version(const struct gb_record *a, const struct gb_record *b)
{
	return a && b && a->kind == b->kind && !strcmp(a->id, b->id) &&
	       a->version == b->version && !strcmp(a->grid, b->grid) &&
	       !strcmp(a->device, b->device) && !strcmp(a->staff, b->staff) &&
	       a->created_at == b->created_at &&
	       a->updated_at == b->updated_at && gb_record_same_content(a, b) &&
	       !strcmp(a->void_reason ? a->void_reason : "",
		       b->void_reason ? b->void_reason : "");
}

/* Sets the stored body of record id to body, as a hand edit would. */
static void body_set(struct gb_db *db, const char *id, const char *body)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db_sqlite(db),
			       "UPDATE record SET body = ?2 WHERE id = ?1", -1,
			       &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s\n", sqlite3_errmsg(db_sqlite(db)));
		exit(1);
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, body, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fprintf(stderr, "%s\n", sqlite3_errmsg(db_sqlite(db)));
		exit(1);
	}
	sqlite3_finalize(s);
}

/* The versions sent are the versions stored, as db.c reads them back
 * with json_each(): values with quotes, backslashes, control characters
 * and characters beyond the BMP as db.c writes them, a voided record, and
 * bodies edited by hand into JSON that db.c never writes (escapes of
 * every kind, spaces, numbers with fractions, true, null, unknown and
 * repeated keys). */
static void test_bodies(void)
{
	static const char *const names[] = {
	    "东风\"五金\"加工厂", "back\\slash/厂", "两行\n\t名称\r",
	    "控制\x01字符\x1f",	  "表情😀加工厂",    "",
	};
	static const char *const edited[] = {
	    "{\"uscc\":\"91110108551385082Q\",\"name\":\"\\u4e1c\\u98ce "
	    "\\\"\\u4e94\\u91d1\\\" \\\\ \\/ \\b\\f\\n\\r\\t\",\"type\":"
	    "\"company\",\"community\":\"S01-C01\",\"employees\":35,"
	    "\"status\":\"active\"}",
	    "{ \"uscc\" : \"91110108551385082Q\" ,\n\t\"name\":\"\\ud83d\\ude00"
	    "\\u00e9\\u0041\" , \"type\":\"company\", \"community\" : "
	    "\"S01-C01\" , \"employees\" : 0 , \"status\":\"active\" } ",
	    "{\"uscc\":\"91110108551385082Q\",\"name\":\"厂\",\"type\":"
	    "\"company\",\"community\":\"S01-C01\",\"address\":35.50,"
	    "\"industry\":true,\"employees\":-0,\"status\":\"active\","
	    "\"extra\":{\"a\":[1,2]}}",
	    "{\"uscc\":\"91110108551385082Q\",\"name\":\"a\",\"name\":\"b\","
	    "\"type\":\"company\",\"community\":\"S01-C01\",\"address\":null,"
	    "\"industry\":\"\",\"employees\":12,\"status\":\"active\","
	    "\"unknown_key\":\"x\"}",
	    "{\"employees\":7,\"status\":\"closed\",\"uscc\":"
	    "\"91110108551385082Q\",\"type\":\"company\",\"community\":"
	    "\"S01-C01\",\"name\":\"倒序\"}",
	    "{\"uscc\":\"91110108551385082Q\",\"name\":\"x\\u0000y\","
	    "\"type\":\"company\",\"community\":\"S01-C01\",\"employees\":1,"
	    "\"status\":\"active\",\"address\":\"\\u00C9\\u00c9\"}",
	};
	size_t nn = sizeof(names) / sizeof(names[0]);
	size_t ne = sizeof(edited) / sizeof(edited[0]);
	struct gb_db *db = grid_new("bodies.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	char ids[16][GB_ID_LEN];
	struct gb_record *r = NULL;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;
	int same = 1;

	add_enterprises(db, (int)(nn + ne + 1), ids);
	for (size_t i = 0; i < nn; i++) {
		r = NULL;
		CHECK(db_record_get(db, NULL, ids[i], &r, &err) == 0);
		if (!r)
			continue;
		gb_record_set_name(r, "address", names[i]);
		gb_record_set_name(r, "industry", names[nn - 1 - i]);
		CHECK(db_record_update(db, r, &err) == 0);
		gb_record_free(r);
	}
	/* The Batch entry each outbox row keeps is byte for byte the one
	 * packed from the version as stored. */
	CHECK(outbox_wire_same(db) == (int)(nn + ne + 1));
	/* Bodies edited by hand are read back from their JSON: the rows'
	 * entries go (as after a change of device id) and the versions are
	 * packed from the file when sent. */
	CHECK(sqlite3_exec(db_sqlite(db), "UPDATE outbox SET wire = NULL", NULL,
			   NULL, NULL) == SQLITE_OK);
	for (size_t i = 0; i < ne; i++)
		body_set(db, ids[nn + i], edited[i]);
	r = NULL;
	CHECK(db_record_get(db, NULL, ids[nn + ne], &r, &err) == 0);
	if (r) {
		r->voided = 1;
		gb_record_set_void_reason(r, "重复登记，\"作废\"");
		CHECK(db_record_update(db, r, &err) == 0);
		gb_record_free(r);
	}
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == (long)(nn + ne + 1 + nn + 1));
	for (size_t i = 0; i < f->ngot; i++) {
		struct gb_record *g = f->got[i], *want = NULL;
		struct gb_record *hist = NULL;

		if (db_record_get(db, NULL, g->id, &want, &err)) {
			same = 0;
			continue;
		}
		/* Earlier versions of the updated records are in history;
		 * only the current ones are compared. */
		if (want->version == g->version && !same_version(g, want)) {
			fprintf(stderr, "  differs: %s %s\n", g->id,
				g->val[1] ? g->val[1] : "(null)");
			same = 0;
		}
		gb_record_free(want);
		gb_record_free(hist);
	}
	CHECK(same);
	CHECK(f->ngot == nn + ne + 1 + nn + 1);
	fake_release(f);
	db_close(db);
}

/* A written-down batch whose first version has gone from the file (a hand
 * edit): it goes again without it, the missing version is listed for the
 * user, and the batch's rows still leave the outbox with its ack. */
static void test_missing_version(void)
{
	struct gb_db *db = grid_new("missing.grid");
	struct sync_opts o = {.max_records = 10};
	struct sync_result res = {0};
	char ids[12][GB_ID_LEN], sql[128];
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	add_enterprises(db, 12, ids);
	f->fail_before = 1;
	CHECK(sync_push(db, &io, &o, &res, &err) == -1);
	CHECK(f->nheld == 0);
	snprintf(sql, sizeof(sql), "DELETE FROM record WHERE id = '%s'",
		 ids[0]);
	CHECK(sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(db_sqlite(db), "UPDATE outbox SET wire = NULL", NULL,
			   NULL, NULL) == SQLITE_OK);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->post_seq[1] == 1 && f->post_n[1] == 9);
	CHECK(res.sent == 11);
	CHECK(held_once(f, 11));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_batch") == 0);
	CHECK(count(db, "SELECT count(*) FROM attention WHERE reason_code = "
			"'missing'") == 1);
	fake_release(f);
	db_close(db);
}

/* An HQ that reads compact acks answers a batch of 500 accepted records
 * in a few bytes, naming only the one it refused; the outbox empties and
 * the refusal is listed as with a full ack.  The batch says it reads
 * them; an HQ that does not (the fake's default) sends full acks, which
 * the same engine records (every other test). */
static void test_compact(void)
{
	struct gb_db *db = grid_new("compact.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct sync_status st;
	char ids[600][GB_ID_LEN];
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	f->compact = 1;
	add_enterprises(db, 600, ids);
	CHECK(sync_push_batch(db, &io, &o, &res, &err) == 1);
	CHECK(res.accepted == 500 && res.sent == 500);
	CHECK(f->last_ack_len > 0 && f->last_ack_len < 32);
	memcpy(f->reject, ids[550], GB_ID_LEN);
	memset(&res, 0, sizeof(res));
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == 99 && res.rejected == 1 && res.sent == 100);
	CHECK(held_once(f, 599));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.natt == 1 && st.next_seq == 3);
	if (st.natt == 1)
		CHECK_STR(st.att[0].id, ids[550]);
	sync_status_release(&st);
	fake_release(f);
	db_close(db);
}

/* HQ says busy three times, asking for 2 s: one round waits each time
 * at least that (plus jitter below the cap), then resumes and delivers
 * everything once.  With a bound below what HQ asks, the round gives up
 * with the busy error, noted for sync status. */
static void test_busy(void)
{
	struct gb_db *db = grid_new("busy.grid");
	struct sync_opts o = {.max_records = 100, .sleep_ms = fake_sleep};
	struct sync_result res = {0};
	struct sync_status st;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;
	int ok = 1;

	o.busy_arg = f;
	add_enterprises(db, 300, NULL);
	f->fail_nth = 0;
	f->busy = 3;
	f->retry_after = 2000;
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.busy_waits == 3 && f->nwaits == 3);
	for (size_t i = 0; i < f->nwaits; i++)
		ok &= f->waits[i] >= 2000 && f->waits[i] <= 2000 + 2000;
	CHECK(ok);
	CHECK(res.accepted == 300 && held_once(f, 300));
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);

	/* Turned away ten times in a row, asked for 1 s each time: the
	 * random part stays below what HQ asks, not doubling to 30 s. */
	add_enterprises(db, 50, NULL);
	f->busy = 10;
	f->retry_after = 1000;
	f->nwaits = 0;
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(f->nwaits == 10);
	ok = 1;
	for (size_t i = 0; i < f->nwaits; i++)
		ok &= f->waits[i] >= 1000 && f->waits[i] <= 2000;
	CHECK(ok);
	CHECK(held_once(f, 350));
	f->retry_after = 2000;

	/* Busy in the middle of a push: the round goes on from there. */
	add_enterprises(db, 300, NULL);
	f->busy = 0;
	f->fail_nth = f->posts + 2;
	f->nwaits = 0;
	CHECK(sync_round(db, &io, &o, &res, &err) < 0);
	CHECK(err.code == GB_EIO);
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(held_once(f, 650));

	/* HQ asks for more than the round may wait. */
	add_enterprises(db, 10, NULL);
	f->busy = 100;
	f->retry_after = 5000;
	f->nwaits = 0;
	o.retry_for_ms = 3000;
	CHECK(sync_round(db, &io, &o, &res, &err) < 0);
	CHECK(err.code == GB_EBUSY && f->nwaits == 0);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.last_error && strstr(st.last_error, "busy"));
	CHECK(st.pending == 10);
	sync_status_release(&st);
	/* No Retry-After: the waits stay under the bound in all. */
	f->retry_after = -1;
	f->nwaits = 0;
	CHECK(sync_round(db, &io, &o, &res, &err) < 0);
	{
		long sum = 0;

		for (size_t i = 0; i < f->nwaits; i++)
			sum += f->waits[i];
		CHECK(f->nwaits > 0 && sum <= 3000);
	}
	/* Never waiting: the first busy ends the round. */
	o.retry_for_ms = -1;
	f->nwaits = 0;
	CHECK(sync_round(db, &io, &o, &res, &err) < 0);
	CHECK(err.code == GB_EBUSY && f->nwaits == 0);
	f->busy = 0;
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(held_once(f, 660));
	fake_release(f);
	db_close(db);
}

/* HQ gives turns (Retry-After-Ms, exact): the round waits each turn with
 * at most SYNC_TURN_JITTER_MS more, counts the turns, and sends the rest
 * of its batches one at a time; a round without turns uses the window. */
static void test_turns(void)
{
	struct gb_db *db = grid_new("turns.grid");
	struct sync_opts o = {.max_records = 50, .sleep_ms = fake_sleep};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;
	int ok = 1;

	o.busy_arg = f;
	add_enterprises(db, 500, NULL);
	f->busy = 3;
	f->retry_after = 700;
	f->exact = 1;
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.busy_waits == 3 && res.turns == 3 && f->nwaits == 3);
	for (size_t i = 0; i < f->nwaits; i++)
		ok &= f->waits[i] >= 700 &&
		      f->waits[i] <= 700 + SYNC_TURN_JITTER_MS;
	CHECK(ok);
	CHECK(held_once(f, 500));
	CHECK(f->most_flying == 1);
	/* No turns: the window again. */
	add_enterprises(db, 500, NULL);
	f->exact = 0;
	f->most_flying = 0;
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.turns == 0 && held_once(f, 1000));
	CHECK(f->most_flying > 1);
	fake_release(f);
	db_close(db);
}

/* A version refused for now leaves the outbox into sync_retry and is
 * shown as waiting; the next round sends it again, unedited, and once HQ
 * takes it nothing waits. */
static void test_transient(void)
{
	struct gb_db *db = grid_new("transient.grid");
	struct sync_opts o = {0};
	struct sync_result res = {0};
	struct sync_status st;
	char ids[3][GB_ID_LEN];
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	f->compact = 1;
	add_enterprises(db, 3, ids);
	memcpy(f->transient, ids[1], GB_ID_LEN);
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == 2 && res.waiting == 1 && res.rejected == 0);
	CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_retry") == 1);
	CHECK(count(db, "SELECT count(*) FROM attention") == 0);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.nwait == 1 && st.natt == 0 && st.pending == 0);
	if (st.nwait == 1) {
		CHECK_STR(st.wait[0].id, ids[1]);
		CHECK_STR(st.wait[0].status, "waiting");
		CHECK(strstr(st.wait[0].reason, "HQ's clock") != NULL);
	}
	sync_status_release(&st);
	/* Still refused: it waits again, tried twice. */
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.waiting == 1 && res.sent == 1);
	CHECK(count(db, "SELECT tries FROM sync_retry") == 2);
	/* HQ takes it now. */
	f->transient[0] = '\0';
	CHECK(sync_round(db, &io, &o, &res, &err) == 0);
	CHECK(res.accepted == 1 && res.waiting == 0);
	CHECK(count(db, "SELECT count(*) FROM sync_retry") == 0);
	CHECK(held_once(f, 3));
	fake_release(f);
	db_close(db);
}

/* A file behind what HQ holds from the device (restored from a copy): HQ
 * answers its first batch "renumber" with its high-water 7; the batch goes
 * again as 8, the next as 9, with no 409; the file notes its own mark (1)
 * for the pull, which asks with it and ends the catching up. */
static void test_restored(void)
{
	struct gb_db *db = grid_new("restored.grid");
	struct sync_opts o = {.max_records = 2};
	struct sync_result res = {0};
	struct sync_status st;
	struct wire_page p;
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	f->compact = 1;
	for (int k = 0; k < 7; k++) {
		f->batches[k].seq = (uint64_t)k + 1;
		gb_buf_init(&f->batches[k].ack, GB_BUF_NOLIMIT);
	}
	f->nbatches = 7;
	wire_page_init(&p);
	p.device_seq = 9;
	snprintf(p.next_cursor, sizeof(p.next_cursor), "1.5");
	gb_buf_init(&f->pages[0], GB_BUF_NOLIMIT);
	CHECK(wire_page_encode(&p, &f->pages[0], &err) == 0);
	f->npages = 1;
	add_enterprises(db, 4, NULL);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3);
	CHECK(f->post_seq[0] == 1 && f->post_seq[1] == 8 &&
	      f->post_seq[2] == 9);
	CHECK(res.accepted == 4 && held_once(f, 4));
	/* The file had given number 1 (to the batch HQ did not apply). */
	CHECK(count(db, "SELECT value FROM meta WHERE key = "
			"'sync_own_seq'") == 1);
	CHECK(sync_status_get(db, &st, &err) == 0);
	CHECK(st.next_seq == 10 && st.own_from == 1);
	sync_status_release(&st);
	CHECK(count(db, "SELECT count(*) FROM meta WHERE key = "
			"'sync_own_seq'") == 1);
	CHECK(sync_pull(db, &io, &o, &res, &err) == 0);
	CHECK(f->get_seq == 1);
	CHECK(count(db, "SELECT count(*) FROM meta WHERE key = "
			"'sync_own_seq'") == 0);
	/* Caught up: the next pull asks with the file's own mark. */
	CHECK(sync_pull(db, &io, &o, &res, &err) == 0);
	CHECK(f->get_seq == 9);
	fake_release(f);
	db_close(db);
}

/* A file that HQ's ack shows behind (its first batch is one HQ holds, the
 * same, resent: the stored ack with HQ's high-water 5) numbers the next
 * batch above 5, never under a number HQ holds. */
static void test_restored_ack(void)
{
	struct gb_db *db = grid_new("restored2.grid");
	struct sync_opts o = {.max_records = 2};
	struct sync_result res = {0};
	struct sync_io io;
	struct fake *f = fake_new(&io);
	struct gb_err err;

	f->compact = 1;
	add_enterprises(db, 2, NULL);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 1 && f->post_seq[0] == 1);
	/* Batches 2..5 came from another copy of the file meanwhile. */
	for (int k = 1; k < 5; k++) {
		f->batches[k].seq = (uint64_t)k + 1;
		gb_buf_init(&f->batches[k].ack, GB_BUF_NOLIMIT);
	}
	f->nbatches = 5;
	/* The file is put back to before batch 1 was acknowledged. */
	CHECK(sqlite3_exec(db_sqlite(db),
			   "UPDATE meta SET value = '1' WHERE key = "
			   "'sync_next_seq'",
			   NULL, NULL, NULL) == SQLITE_OK);
	add_enterprises(db, 2, NULL);
	CHECK(sync_push(db, &io, &o, &res, &err) == 0);
	CHECK(f->posts == 3 && f->post_seq[1] == 1 && f->post_seq[2] == 6);
	CHECK(f->resend_differs == 1);
	CHECK(held_once(f, 4));
	CHECK(count(db, "SELECT value FROM meta WHERE key = "
			"'sync_next_seq'") == 7);
	fake_release(f);
	db_close(db);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/gridbook-sync-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_push_batches();
	test_push_bytes();
	test_resend();
	test_reject();
	test_renumber();
	test_stop();
	test_pull();
	test_pull_group();
	test_round_state();
	test_device_set();
	test_two_processes();
	test_overlap();
	test_window();
	test_crash_two_batches();
	test_renumber_overlap();
	test_renumber_window();
	test_short_ack();
	test_reject_then_accept();
	test_bodies();
	test_missing_version();
	test_compact();
	test_busy();
	test_turns();
	test_transient();
	test_restored();
	test_restored_ack();
	test_urls();
	grid_remove();
	return check_done();
}

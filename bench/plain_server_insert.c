/*
 * plain_server_insert: the yardstick of the sync benchmark.  It takes the
 * versions waiting in a grid file's outbox -- the very versions `gridbook
 * sync` would push, in the order it would push them -- and writes them
 * into a server store the way ingest stores an accepted version: for each
 * one a history row (store history_put) and the current row (store
 * current_put), through the store code of gridbook-hq (store_sqlite.c,
 * so the same schema, indexes, pragmas and prepared statements), all in
 * ONE writer transaction.  It does nothing else: no HTTP, no protobuf
 * decoding, no validation or reference lookups, no look at what the store
 * already holds, no batch bookkeeping, no report rollups, no acks.  What
 * the whole sync path does on top of this is what the benchmark measures
 * (bench/sync_bench.sh, BENCHMARKS.md).
 *
 * Everything a version needs is made before the clock starts: the
 * records are read out of the grid file (db_record_list and
 * db_record_history), packed to the protobuf bytes kept in the history
 * (wire_record_pack), and given their JSON body, content hash and report
 * columns exactly as ingest derives them.  The time reported is from
 * BEGIN to the end of COMMIT; the checkpoint the server would run after
 * it is timed and printed separately.
 *
 * With --wire it also prints, after the insert, what the same versions
 * cost on the wire when grouped into batches as the sync engine groups
 * them (at most N records and SYNC_MAX_BYTES packed bytes a batch): the
 * plain protobuf Batch size and the deflated body size, from the codec
 * the client uses (wire_batch_encode).
 *
 *     plain_server_insert [--wire N[,N...]] GRID.db... STORE.db
 *
 * With several grid files (the load benchmark, bench/load_bench.sh) the
 * versions of all of them go into the one transaction, file after file.
 * STORE.db is a server store (a fresh or seeded one; it is migrated if
 * needed) that no server is using.  The result is the line
 * "plain_server_insert: N rows in S s, R rows/s" on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "db_int.h"
#include "err.h"
#include "gbtime.h"
#include "i18n.h"
#include "kinds.h"
#include "record.h"
#include "record_cols.h"
#include "store.h"
#include "sync.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define MAX_WIRE_SIZES 8

/* One version to insert, with what ingest would derive from it.  The
 * strings are offsets into the arena until everything is built. */
struct item {
	struct gb_record *rec; /* owned */
	size_t raw_off, raw_len;
	size_t body_off;
	unsigned char hash[STORE_HASH_LEN];
	char day[11];
	int has_day;
	struct store_version v;
};

struct versions {
	struct item *items;
	size_t n, alloc;
	struct gb_buf arena; /* raw bytes and bodies, NUL-terminated */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reading the outbox ------------------------------------------------ */

/* A version of a record held in the grid file: the current ones from
 * db_record_list, older ones from db_record_history. */
struct pool {
	struct gb_record **recs; /* owned */
	size_t n, alloc;
};

static void pool_add(struct pool *p, struct gb_record *r)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 4096;
		p->recs = xrealloc(p->recs, p->alloc * sizeof(*p->recs));
	}
	p->recs[p->n++] = r;
}

static int pool_take(void *arg, const struct gb_record *r)
{
	pool_add(arg, gb_record_dup(r));
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct gb_record *x = *(struct gb_record *const *)a;
	const struct gb_record *y = *(struct gb_record *const *)b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->version < y->version ? -1 : x->version > y->version;
}

/* The version (id, version) in the sorted pool, or NULL. */
static struct gb_record *pool_find(const struct pool *p, const char *id,
				   uint64_t version)
{
	struct gb_record key, *kp = &key, **hit;

	snprintf(key.id, sizeof(key.id), "%s", id);
	key.version = version;
	hit = bsearch(&kp, p->recs, p->n, sizeof(*p->recs), rec_cmp);
	return hit ? *hit : NULL;
}

/* A query on the grid file that returns one text column; cb is called for
 * each row. */
static int each_row(struct gb_db *db, const char *sql,
		    int (*cb)(void *arg, sqlite3_stmt *st), void *arg,
		    struct gb_err *err)
{
	sqlite3 *h = db_sqlite(db);
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, "%s", sqlite3_errmsg(h));
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		if (cb(arg, st) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		gb_error(err, GB_EDB, "%s", sqlite3_errmsg(h));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

struct older_arg {
	struct gb_db *db;
	struct pool *pool;
	struct gb_err *err;
};

/* Adds every earlier version of the record in the row's first column. */
static int older_add(void *arg, sqlite3_stmt *st)
{
	struct older_arg *a = arg;
	const char *id = (const char *)sqlite3_column_text(st, 0);
	struct pool tmp = {0};
	int rc;

	rc = db_record_history(a->db, id ? id : "", pool_take, &tmp, a->err);
	/* The last one is the current version, already in the pool. */
	for (size_t i = 0; i < tmp.n; i++) {
		if (rc == 0 && i + 1 < tmp.n)
			pool_add(a->pool, tmp.recs[i]);
		else
			gb_record_free(tmp.recs[i]);
	}
	free(tmp.recs);
	return rc;
}

struct order_arg {
	struct pool *pool;
	struct versions *out;
	struct gb_err *err;
};

/* Appends the outbox row's version to the list to insert. */
static int order_add(void *arg, sqlite3_stmt *st)
{
	struct order_arg *a = arg;
	const char *id = (const char *)sqlite3_column_text(st, 0);
	uint64_t v = (uint64_t)sqlite3_column_int64(st, 1);
	struct gb_record *r = pool_find(a->pool, id ? id : "", v);
	struct versions *o = a->out;

	if (!r)
		return gb_error(a->err, GB_ENOTFOUND,
				"outbox names %s version %" PRIu64
				", which the file does not hold",
				id ? id : "", v);
	if (o->n == o->alloc) {
		o->alloc = o->alloc ? 2 * o->alloc : 4096;
		o->items = xrealloc(o->items, o->alloc * sizeof(*o->items));
	}
	memset(&o->items[o->n], 0, sizeof(o->items[o->n]));
	o->items[o->n++].rec = gb_record_dup(r);
	return 0;
}

/*
 * Fills out with the versions of the outbox of the grid file at path, in
 * outbox order (the order sync pushes them in).
 */
static int versions_load(const char *path, struct versions *out,
			 struct gb_err *err)
{
	struct db_filter f = {0};
	struct gb_db *db = NULL;
	struct pool pool = {0};
	struct older_arg oa;
	struct order_arg ord;
	int ret = -1;

	if (db_open(&db, path, DB_READONLY, err))
		return -1;
	f.with_voided = 1;
	for (int k = 0; k < gb_nkinds; k++)
		if (db_record_list(db, &gb_kinds[k], &f, pool_take, &pool, err))
			goto out;
	oa.db = db;
	oa.pool = &pool;
	oa.err = err;
	if (each_row(db,
		     "SELECT id FROM outbox GROUP BY id HAVING count(*) > 1 "
		     "UNION SELECT o.id FROM outbox o JOIN record r ON "
		     "r.id = o.id WHERE o.version <> r.version",
		     older_add, &oa, err))
		goto out;
	qsort(pool.recs, pool.n, sizeof(*pool.recs), rec_cmp);
	ord.pool = &pool;
	ord.out = out;
	ord.err = err;
	if (each_row(db, "SELECT id, version FROM outbox ORDER BY seq",
		     order_add, &ord, err))
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < pool.n; i++)
		gb_record_free(pool.recs[i]);
	free(pool.recs);
	db_close(db);
	return ret;
}

/* ---- what ingest derives ----------------------------------------------- */

/* The content hash of server/ingest.c: kind, void state and values (body
 * is the values' JSON). */
static void content_hash(const struct gb_record *r, const char *body,
			 unsigned char out[STORE_HASH_LEN])
{
	crypto_generichash_state h;
	const char *reason = r->void_reason ? r->void_reason : "";
	const char *voided = r->voided ? "1" : "0";

	crypto_generichash_init(&h, NULL, 0, STORE_HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)r->kind->name,
				  strlen(r->kind->name) + 1);
	crypto_generichash_update(&h, (const unsigned char *)voided, 2);
	crypto_generichash_update(&h, (const unsigned char *)reason,
				  strlen(reason) + 1);
	crypto_generichash_update(&h, (const unsigned char *)body,
				  strlen(body));
	crypto_generichash_final(&h, out, STORE_HASH_LEN);
}

/* The report columns as server/ingest.c takes them (record_cols.h): the
 * local date of the kind's date field, and its community, staff and
 * status fields.  A day worked out from a time is kept in it->day, which
 * v.day points to once the items stop moving. */
static void derive(struct item *it)
{
	struct store_version *v = &it->v;
	struct gb_record_cols c;

	gb_record_cols(it->rec, NULL, &c);
	v->day = c.day;
	if (c.day == c.daybuf) {
		memcpy(it->day, c.daybuf, sizeof(c.daybuf));
		it->has_day = 1;
		v->day = NULL;
	}
	v->community = c.community;
	v->person = c.person;
	v->status = c.status;
}

/* Packs, serialises and hashes every version, so that the timed part has
 * nothing left to compute. */
static int versions_prepare(struct versions *vs, int64_t now,
			    struct gb_err *err)
{
	struct gb_buf tmp;
	int ret = -1;

	gb_buf_init(&tmp, GB_BUF_NOLIMIT);
	gb_buf_init(&vs->arena, GB_BUF_NOLIMIT);
	for (size_t i = 0; i < vs->n; i++) {
		struct item *it = &vs->items[i];

		it->raw_off = vs->arena.len;
		if (wire_record_pack(it->rec, &vs->arena, err))
			goto out;
		it->raw_len = vs->arena.len - it->raw_off;
		gb_buf_reset(&tmp);
		if (gb_record_values_json(it->rec, &tmp, err))
			goto out;
		it->body_off = vs->arena.len;
		if (gb_buf_add(&vs->arena, tmp.data, tmp.len, err) ||
		    gb_buf_add(&vs->arena, "", 1, err))
			goto out;
		content_hash(it->rec, gb_buf_str(&tmp), it->hash);
		derive(it);
		it->v.received_at = now;
	}
	/* The arena no longer moves: point into it. */
	for (size_t i = 0; i < vs->n; i++) {
		struct item *it = &vs->items[i];

		it->v.rec = it->rec;
		it->v.raw = vs->arena.data + it->raw_off;
		it->v.raw_len = it->raw_len;
		it->v.body = vs->arena.data + it->body_off;
		memcpy(it->v.hash, it->hash, STORE_HASH_LEN);
		if (it->has_day)
			it->v.day = it->day;
	}
	ret = 0;
out:
	gb_buf_release(&tmp);
	return ret;
}

static void versions_release(struct versions *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		gb_record_free(vs->items[i].rec);
	free(vs->items);
	gb_buf_release(&vs->arena);
	memset(vs, 0, sizeof(*vs));
}

/* ---- the insert -------------------------------------------------------- */

static int insert_all(const struct versions *vs, const char *store_path,
		      struct gb_err *err)
{
	struct store *st = NULL;
	double t0, t1, t2;
	int ret = -1;

	if (store_sqlite_open(&st, store_path, STORE_SERVE, err))
		return -1;
	t0 = mono_s();
	if (st->ops->begin(st, err))
		goto out;
	for (size_t i = 0; i < vs->n; i++) {
		const struct store_version *v = &vs->items[i].v;

		if (st->ops->history_put(st, v, err) ||
		    st->ops->current_put(st, v, err)) {
			st->ops->rollback(st);
			goto out;
		}
	}
	if (st->ops->commit(st, err))
		goto out;
	t1 = mono_s();
	if (st->ops->checkpoint(st, STORE_CKPT_FINAL, err) < 0)
		goto out;
	t2 = mono_s();
	printf("plain_server_insert: checkpoint after the commit %.3f s\n",
	       t2 - t1);
	printf("plain_server_insert: %zu rows in %.3f s, %.0f rows/s\n", vs->n,
	       t1 - t0, t1 > t0 ? (double)vs->n / (t1 - t0) : 0.0);
	ret = 0;
out:
	st->ops->close(st);
	return ret;
}

/* ---- the wire ---------------------------------------------------------- */

/* Groups the versions into batches as sync.c's batch_build does (at most
 * max_n records, and SYNC_MAX_BYTES of packed records unless one record
 * alone is larger) and prints the sizes of the plain and deflated Batch. */
static int wire_stats(const struct versions *vs, size_t max_n,
		      struct gb_err *err)
{
	struct wire_batch_hdr h;
	struct gb_record **recs = xcalloc(max_n, sizeof(*recs));
	struct gb_buf body, plain;
	uint64_t nbody = 0, nplain = 0, nbatches = 0;
	size_t i = 0;
	int ret = -1;

	gb_buf_init(&body, GB_BUF_NOLIMIT);
	gb_buf_init(&plain, GB_BUF_NOLIMIT);
	memset(&h, 0, sizeof(h));
	if (vs->n) {
		snprintf(h.device, sizeof(h.device), "%s",
			 vs->items[0].rec->device);
		snprintf(h.grid, sizeof(h.grid), "%s", vs->items[0].rec->grid);
	}
	while (i < vs->n) {
		size_t n = 0, bytes = 0;

		while (i < vs->n && n < max_n &&
		       (n == 0 ||
			bytes + vs->items[i].raw_len <= SYNC_MAX_BYTES)) {
			bytes += vs->items[i].raw_len;
			recs[n++] = vs->items[i++].rec;
		}
		h.seq = ++nbatches;
		gb_buf_reset(&plain);
		if (wire_batch_encode(&h, recs, n, &body, err) ||
		    wire_inflate(body.data, body.len, WIRE_MAX_INFLATED, &plain,
				 err))
			goto out;
		nbody += body.len;
		nplain += plain.len;
	}
	printf("wire: batches of up to %zu records: %" PRIu64 " batches, "
	       "protobuf %" PRIu64 " bytes (%.1f a record), deflated %" PRIu64
	       " bytes (%.1f a record), ratio %.3f\n",
	       max_n, nbatches, nplain,
	       vs->n ? (double)nplain / (double)vs->n : 0.0, nbody,
	       vs->n ? (double)nbody / (double)vs->n : 0.0,
	       nplain ? (double)nbody / (double)nplain : 0.0);
	ret = 0;
out:
	gb_buf_release(&plain);
	gb_buf_release(&body);
	free(recs);
	return ret;
}

/* ---- main -------------------------------------------------------------- */

/* Parses "20,500" into sizes; returns the count or -1. */
static int parse_sizes(const char *s, size_t *sizes)
{
	int n = 0;

	while (*s) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || v == 0 || v > 100000 ||
		    n == MAX_WIRE_SIZES || (*end && *end != ','))
			return -1;
		sizes[n++] = v;
		s = *end ? end + 1 : end;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct versions vs;
	struct gb_err err;
	size_t sizes[MAX_WIRE_SIZES];
	int nsizes = 0, status = 1, a = 1;
	double t0;

	gb_i18n_init();
	gb_err_clear(&err);
	memset(&vs, 0, sizeof(vs));
	if (a + 1 < argc && strcmp(argv[a], "--wire") == 0) {
		nsizes = parse_sizes(argv[a + 1], sizes);
		if (nsizes <= 0) {
			fprintf(stderr,
				"plain_server_insert: --wire: bad "
				"batch sizes %s\n",
				argv[a + 1]);
			return 2;
		}
		a += 2;
	}
	if (argc - a < 2) {
		fprintf(stderr, "usage: plain_server_insert [--wire N[,N...]] "
				"GRID.db... STORE.db\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "plain_server_insert: libsodium failed\n");
		return 1;
	}
	t0 = mono_s();
	for (; a < argc - 1; a++)
		if (versions_load(argv[a], &vs, &err))
			goto out;
	if (versions_prepare(&vs, gb_now_ms(), &err))
		goto out;
	printf("plain_server_insert: %zu versions read and prepared in "
	       "%.1f s (not timed)\n",
	       vs.n, mono_s() - t0);
	fflush(stdout);
	if (insert_all(&vs, argv[a], &err))
		goto out;
	fflush(stdout);
	for (int i = 0; i < nsizes; i++)
		if (wire_stats(&vs, sizes[i], &err))
			goto out;
	status = 0;
out:
	if (status)
		fprintf(stderr, "plain_server_insert: %s\n", err.msg);
	versions_release(&vs);
	return status;
}

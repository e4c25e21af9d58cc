/*
 * The store conformance cases: the same calls through store_ops, the same
 * answers, on every store.  Always on SQLite (":memory:"); also on
 * PostgreSQL when GRIDBOOK_TEST_PG names an empty database (as
 * tests/e2e/t0866-pg-conformance.sh does with a throwaway one), so that a
 * unit run needs no server.  Reference data (changed or not, parents
 * that must exist, lookups in and out of the grid), devices, batches and
 * record versions, savepoints that undo, the pages of /v1/changes, the
 * report facts ingest writes (every kind of fact row, the counters, and
 * rollup.c keeping them through the store) and as reports read them, and
 * the audit chain; and on PostgreSQL,
 * two servers applying the same batch at once, and the readers of a serving
 * store; several servers on one database: a grid's writers take turns
 * (the same batch is applied once, two edits of a record both merge),
 * a deadlock loses the whole transaction, which ingest then runs again,
 * and a batch committed by one is heard of by the others; the writer
 * of a serving store sends its writes without waiting for each.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "crypto.h"
#include "gbtime.h"
#include "ingest.h"
#include "kinds.h"
#include "record.h"
#include "rollup.h"
#include "store.h"
#include "store_pg.h"
#include "uscc.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define DEV_A "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a01"
#define DEV_B "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a02"
#define REC_1 "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1b01"
#define REC_H "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1b09"
#define NOT_THERE "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1c99"
/* Devices of the tests of several servers (test_servers), in grids
 * S01-G1 and S01-G2. */
#define DEV_G1 "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a11"
#define DEV_G2 "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a12"
#define DEV_G1B "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a13"
#define REC_M "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1b21"
#define VBASE ((uint64_t)INT64_C(1767225600000) << 16)

static const char *which; /* the store under test, for messages */
static char first_head[65];

#define CHECK_S(cond)                                                          \
	do {                                                                   \
		int ok_ = (cond);                                              \
		CHECK(ok_);                                                    \
		if (!ok_)                                                      \
			fprintf(stderr, "  (on %s)\n", which);                 \
	} while (0)

static int put(struct store *st, enum store_table t, const char *const *cols)
{
	struct gb_err err;
	int changed = -1;

	if (st->ops->ref_put(st, t, cols, &changed, &err) < 0) {
		fprintf(stderr, "  ref_put: %s\n", err.msg);
		return -1;
	}
	return changed;
}

static void test_reference(struct store *st)
{
	const char *district[] = {"D01", "南湖区"};
	const char *street[] = {"S01", "东关街道"};
	const char *grid1[] = {"S01-G1", "S01", "第一网格"};
	const char *grid2[] = {"S01-G2", "S01", "第二网格"};
	const char *comm[] = {"S01-C01", "S01-G1", "东关社区",
			      "3200",	 "4",	   "2"};
	const char *comm2[] = {"S01-C01", "S01-G1", "东关社区",
			       "3300",	  "4",	    "2"};
	const char *area[] = {"S01-P1", "S01-G1", "东关警务区", "101"};
	const char *ac[] = {"S01-P1", "S01-C01"};
	const char *staff[] = {"S01-M01", "陈志强", "officer", "S01-G1",
			       "S01-P1"};
	const char *coord[] = {"S01-W01", "王秀英", "coordinator", "S01-G1",
			       ""};
	const char *orphan[] = {"S09-G9", "S09", "无街道网格"};
	struct gb_err err;
	char out[64];
	int known;

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(put(st, STORE_T_DISTRICT, district) == 1);
	CHECK_S(put(st, STORE_T_STREET, street) == 1);
	CHECK_S(put(st, STORE_T_GRID, grid1) == 1);
	CHECK_S(put(st, STORE_T_GRID, grid2) == 1);
	CHECK_S(put(st, STORE_T_COMMUNITY, comm) == 1);
	CHECK_S(put(st, STORE_T_AREA, area) == 1);
	CHECK_S(put(st, STORE_T_AREA_COMMUNITY, ac) == 1);
	CHECK_S(put(st, STORE_T_STAFF, staff) == 1);
	CHECK_S(put(st, STORE_T_STAFF, coord) == 1);
	/* The same again changes nothing; a different value does. */
	CHECK_S(put(st, STORE_T_COMMUNITY, comm) == 0);
	CHECK_S(put(st, STORE_T_AREA_COMMUNITY, ac) == 0);
	CHECK_S(put(st, STORE_T_STAFF, coord) == 0);
	CHECK_S(put(st, STORE_T_COMMUNITY, comm2) == 1);
	CHECK_S(st->ops->ref_touch(st, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);

	/* A parent that is not there, named. */
	CHECK_S(st->ops->begin(st, &err) == 0);
	known = 0;
	CHECK_S(st->ops->ref_put(st, STORE_T_GRID, orphan, &known, &err) == -1);
	CHECK_S(err.code == GB_ENOTFOUND && strstr(err.msg, "S09"));
	st->ops->rollback(st);

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->grid_exists(st, "S01-G1", &err) == 1);
	CHECK_S(st->ops->grid_exists(st, "S09-G9", &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_COMMUNITY, "S01-C01", NULL,
			      NULL, 0, &err) == 1);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_COMMUNITY, "S01-C01", NULL,
			      NULL, 0, &err) == 0);
	out[0] = '\0';
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_AREA, "S01-P1", "room", out,
			      sizeof(out), &err) == 1);
	CHECK_S(!strcmp(out, "101"));
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_STAFF, "S01-M01", "role",
			      out, sizeof(out), &err) == 1);
	CHECK_S(!strcmp(out, "officer"));
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_STAFF, "S01-M99", "role",
			      out, sizeof(out), &err) == 0);
	CHECK_S(st->ops->ref_known(st, GB_REF_STAFF, "S01-M01", &known, &err) ==
		    0 &&
		known == 1);
	CHECK_S(st->ops->ref_known(st, GB_REF_AREA, "S09-P9", &known, &err) ==
		    0 &&
		known == 0);
	st->ops->rollback(st);
}

/* The reference data the writer holds for validation (find): a unit
 * added in the transaction is found in it, and one added by a seed
 * committed before (ref_touch) by the next transaction. */
static void test_ref_cache(struct store *st)
{
	const char *m2[] = {"S01-M92", "李建国", "officer", "S01-G2", ""};
	const char *m3[] = {"S01-M93", "赵丽娟", "officer", "S01-G2", ""};
	struct gb_err err;
	char out[64];

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M92", "role",
			      out, sizeof(out), &err) == 0);
	CHECK_S(put(st, STORE_T_STAFF, m2) == 1);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M92", "role",
			      out, sizeof(out), &err) == 1);
	CHECK_S(st->ops->ref_touch(st, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	out[0] = '\0';
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M92", "role",
			      out, sizeof(out), &err) == 1);
	CHECK_S(!strcmp(out, "officer"));
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M93", "role",
			      out, sizeof(out), &err) == 0);
	st->ops->commit(st, &err);
	/* A seed in a transaction of its own, then a writer's. */
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(put(st, STORE_T_STAFF, m3) == 1);
	CHECK_S(st->ops->ref_touch(st, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M93", "role",
			      out, sizeof(out), &err) == 1);
	st->ops->rollback(st);
}

/* On PostgreSQL: a seed committed by another instance (a second store
 * on the same database) is seen by this one's next transaction, though
 * this one held the grid's reference data before it. */
static void test_ref_cache_other(struct store *st, const char *url)
{
	const char *m4[] = {"S01-M94", "孙国华", "officer", "S01-G2", ""};
	struct store *other = NULL;
	struct gb_err err;
	char out[64];

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M94", "role",
			      out, sizeof(out), &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(store_pg_open(&other, url, STORE_ADMIN, &err) == 0);
	if (!other)
		return;
	CHECK_S(other->ops->begin(other, &err) == 0);
	CHECK_S(put(other, STORE_T_STAFF, m4) == 1);
	CHECK_S(other->ops->ref_touch(other, &err) == 0);
	CHECK_S(other->ops->commit(other, &err) == 0);
	other->ops->close(other);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M94", "role",
			      out, sizeof(out), &err) == 1);
	st->ops->rollback(st);

	/* A member seeded by the other while this writer's transaction,
	 * which loaded the grid already, is still open is found in it too,
	 * as ref_known finds it: else a record naming it would be refused
	 * for good, not for now. */
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M95", "role",
			      out, sizeof(out), &err) == 0);
	other = NULL;
	CHECK_S(store_pg_open(&other, url, STORE_ADMIN, &err) == 0);
	if (other) {
		const char *m5[] = {"S01-M95", "钱志刚", "officer", "S01-G2",
				    ""};

		CHECK_S(other->ops->begin(other, &err) == 0);
		CHECK_S(put(other, STORE_T_STAFF, m5) == 1);
		CHECK_S(other->ops->ref_touch(other, &err) == 0);
		CHECK_S(other->ops->commit(other, &err) == 0);
		other->ops->close(other);
	}
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_STAFF, "S01-M95", "role",
			      out, sizeof(out), &err) == 1 &&
		!strcmp(out, "officer"));
	{
		int known = 0;

		CHECK_S(st->ops->ref_known(st, GB_REF_STAFF, "S01-M95", &known,
					   &err) == 0 &&
			known);
	}
	st->ops->rollback(st);
}

static int count_dev(void *arg, const struct store_device *d)
{
	long *n = arg;

	(void)d;
	(*n)++;
	return 0;
}

static void test_devices(struct store *st)
{
	struct store_device a = {
	    DEV_A,	   "S01-G1", "coordinator", "刘建国的笔记本", 0,
	    1764750000000, 0};
	struct store_device b = {DEV_B, "S01-G1",      "officer", "",
				 0,	1764750001000, 0};
	struct store_device got;
	unsigned char ta[STORE_HASH_LEN], tb[STORE_HASH_LEN],
	    tc[STORE_HASH_LEN];
	struct gb_err err;
	long n = 0;

	memset(ta, 0xa1, sizeof(ta));
	memset(tb, 0xb2, sizeof(tb));
	memset(tc, 0xc3, sizeof(tc));
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_put(st, &a, ta, &err) == 0);
	CHECK_S(st->ops->device_put(st, &b, tb, &err) == 0);
	CHECK_S(st->ops->device_seen(st, DEV_A, 1764750005000, 3, 1764740000000,
				     &err) == 0);
	CHECK_S(st->ops->device_seen(st, DEV_A, 1764750006000, -1, 0, &err) ==
		0);
	CHECK_S(st->ops->commit(st, &err) == 0);

	memset(&got, 0, sizeof(got));
	CHECK_S(st->ops->device_by_token(st, ta, &got, &err) == 1);
	CHECK_S(!strcmp(got.id, DEV_A) && !strcmp(got.grid, "S01-G1") &&
		!strcmp(got.role, "coordinator") &&
		!strcmp(got.name, "刘建国的笔记本") && !got.revoked &&
		got.created_at == 1764750000000 &&
		got.last_seen == 1764750006000);
	CHECK_S(st->ops->device_by_token(st, tc, &got, &err) == 0);

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_revoke(st, DEV_B, 1764750009000, &err) == 0);
	CHECK_S(st->ops->device_revoke(st, NOT_THERE, 1764750009000, &err) ==
		-1);
	CHECK_S(err.code == GB_ENOTFOUND);
	st->ops->rollback(st);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_revoke(st, DEV_B, 1764750009000, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->device_by_token(st, tb, &got, &err) == 1 &&
		got.revoked == 1 && got.last_seen == 0);
	CHECK_S(st->ops->device_list(st, count_dev, &n, &err) == 0 && n == 2);
}

/* A version of an enterprise record, as ingest would hand it over. */
static struct gb_record *enterprise(uint64_t version)
{
	struct gb_record *r = gb_record_new(gb_kind_find("enterprise"));

	snprintf(r->id, sizeof(r->id), "%s", REC_1);
	snprintf(r->grid, sizeof(r->grid), "S01-G1");
	snprintf(r->device, sizeof(r->device), "%s", DEV_A);
	snprintf(r->staff, sizeof(r->staff), "S01-W01");
	r->created_at = 1764750000000;
	r->updated_at = 1764750000000 + (int64_t)version;
	r->version = version;
	return r;
}

static void test_records(struct store *st)
{
	unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN],
	    got[STORE_HASH_LEN];
	struct gb_record *r1 = enterprise(100), *r2 = enterprise(200);
	struct store_version v1 = {
	    r1,	  "raw-1",   5,	   {0},	 "{\"name\":\"南苑服装厂\"}",
	    NULL, "S01-C01", NULL, NULL, 1764750010000,
	    NULL, 0,	     0};
	struct store_version v2 = {
	    r2,	  "raw-2",   5,	   {0},	 "{\"name\":\"南苑第二服装厂\"}",
	    NULL, "S01-C01", NULL, NULL, 1764750020000,
	    NULL, 0,	     0};
	struct store_rejection rj = {DEV_A, 1,	       "not-an-id",
				     1,	    "invalid", "id: not a UUID",
				     NULL,  0,	       1764750020000};
	struct store_current cur;
	struct gb_buf ack;
	struct gb_err err;
	uint64_t high = 99;
	char out[64];

	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memcpy(v1.hash, h1, sizeof(h1));
	memcpy(v2.hash, h2, sizeof(h2));
	gb_buf_init(&ack, 1 << 16);

	CHECK_S(st->ops->batch_high(st, DEV_A, 1, &high, &err) == 0 &&
		high == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->batch_get(st, DEV_A, 1, got, NULL, &err) == 0);
	CHECK_S(st->ops->current_get(st, REC_1, &cur, &err) == 0);
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->history_put(st, &v1, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v1, &err) == 0);
	CHECK_S(st->ops->batch_put(st, DEV_A, 1, h1, 1, "ack-1", 5,
				   1764750010000, &err) == 0);
	CHECK_S(st->ops->release(st, &err) == 0);
	/* A batch undone by its savepoint leaves nothing. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->history_put(st, &v2, &err) == 0);
	CHECK_S(st->ops->batch_put(st, DEV_A, 2, h2, 1, "ack-2", 5,
				   1764750020000, &err) == 0);
	CHECK_S(st->ops->rollback_to(st) == 0);
	/* The same version again is refused by the store's key, and the
	 * savepoint keeps the transaction. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->history_put(st, &v1, &err) == -1);
	CHECK_S(st->ops->rollback_to(st) == 0);
	CHECK_S(st->ops->rejection_put(st, &rj, &err) == 0);
	CHECK_S(st->ops->conflict_put(st, &v2, &err) == 0);
	CHECK_S(st->ops->conflict_put(st, &v2, &err) == 0);
	/* Inside the transaction, what it wrote is seen. */
	CHECK_S(st->ops->batch_high(st, DEV_A, 0, &high, &err) == 0 &&
		high == 1);
	CHECK_S(st->ops->commit(st, &err) == 0);

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->batch_get(st, DEV_A, 1, got, &ack, &err) == 1);
	CHECK_S(!memcmp(got, h1, sizeof(h1)) && ack.len == 5 &&
		!memcmp(ack.data, "ack-1", 5));
	CHECK_S(st->ops->batch_get(st, DEV_A, 2, got, NULL, &err) == 0);
	CHECK_S(st->ops->version_get(st, REC_1, 100, DEV_A, got, &err) == 1 &&
		!memcmp(got, h1, sizeof(h1)));
	CHECK_S(st->ops->version_get(st, REC_1, 200, DEV_A, got, &err) == 0);
	CHECK_S(st->ops->version_get(st, REC_1, 100, DEV_B, got, &err) == 0);
	memset(&cur, 0, sizeof(cur));
	CHECK_S(st->ops->current_get(st, REC_1, &cur, &err) == 1);
	CHECK_S(!strcmp(cur.kind, "enterprise") && cur.version == 100 &&
		!strcmp(cur.device, DEV_A) && !strcmp(cur.grid, "S01-G1"));
	/* A newer current version replaces it. */
	CHECK_S(st->ops->history_put(st, &v2, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v2, &err) == 0);
	CHECK_S(st->ops->current_get(st, REC_1, &cur, &err) == 1 &&
		cur.version == 200);
	out[0] = '\0';
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_ENTERPRISE, REC_1, "name",
			      out, sizeof(out), &err) == 1);
	CHECK_S(!strcmp(out, "南苑第二服装厂"));
	CHECK_S(st->ops->find(st, "S01-G2", GB_REF_ENTERPRISE, REC_1, "name",
			      out, sizeof(out), &err) == 0);
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_CHECK, REC_1, "name", out,
			      sizeof(out), &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->batch_high(st, DEV_A, 1, &high, &err) == 0 &&
		high == 1);

	gb_buf_release(&ack);
	gb_record_free(r1);
	gb_record_free(r2);
}

/* /v1/changes of the grid after test_records: the reference data when
 * the caller's version differs, the two versions in order, pages by
 * limit, the caller's own versions left out and moved past, nothing for
 * another grid. */
static void test_changes(struct store *st)
{
	struct store_changes c;
	struct gb_err err;
	uint64_t ref, next;

	CHECK_S(st->ops->changes(st, "S01-G1", 0, 0, NULL, 100, 1 << 20, &c,
				 &err) == 0);
	ref = c.ref_version;
	next = c.next_seq;
	CHECK_S(c.with_ref && ref == 2);
	CHECK_S(c.page.ncommunities == 1 && c.page.nareas == 1 &&
		c.page.nstaff == 2);
	CHECK_S(c.page.ncommunities == 1 &&
		!strcmp(c.page.communities[0].code, "S01-C01") &&
		!strcmp(c.page.communities[0].street, "S01") &&
		c.page.communities[0].population == 3300);
	CHECK_S(c.page.nareas == 1 && c.page.areas[0].ncommunities == 1 &&
		!strcmp(c.page.areas[0].room, "101"));
	CHECK_S(c.page.nstaff == 2 &&
		!strcmp(c.page.staff[0].code, "S01-M01") &&
		!strcmp(c.page.staff[0].area, "S01-P1") &&
		!strcmp(c.page.staff[1].area, ""));
	CHECK_S(c.page.n == 2 && !c.page.more && next > 0);
	CHECK_S(c.page.n == 2 && c.page.raw_len[0] == 5 &&
		!memcmp(c.page.raw[0], "raw-1", 5) &&
		!memcmp(c.page.raw[1], "raw-2", 5));
	store_changes_release(&c);

	CHECK_S(st->ops->changes(st, "S01-G1", ref, next, NULL, 100, 1 << 20,
				 &c, &err) == 0);
	CHECK_S(!c.with_ref && c.page.n == 0 && c.next_seq == next);
	store_changes_release(&c);

	CHECK_S(st->ops->changes(st, "S01-G1", ref, 0, NULL, 1, 1 << 20, &c,
				 &err) == 0);
	CHECK_S(c.page.n == 1 && c.page.more && c.next_seq < next);
	store_changes_release(&c);

	CHECK_S(st->ops->changes(st, "S01-G1", ref, 0, DEV_A, 100, 1 << 20, &c,
				 &err) == 0);
	CHECK_S(c.page.n == 0 && !c.page.more && c.next_seq == next);
	store_changes_release(&c);

	CHECK_S(st->ops->changes(st, "S01-G2", 0, 0, NULL, 100, 1 << 20, &c,
				 &err) == 0);
	CHECK_S(c.with_ref && c.page.ncommunities == 0 && c.page.n == 0);
	store_changes_release(&c);
}

struct audit_seen {
	int n;
	char actions[64];
};

static int audit_cb(void *arg, const struct store_audit *a)
{
	struct audit_seen *s = arg;
	size_t k = strlen(s->actions);

	s->n++;
	snprintf(s->actions + k, sizeof(s->actions) - k, "%s%s", k ? "," : "",
		 a->action);
	return 0;
}

static void test_audit(struct store *st)
{
	struct store_audit e[] = {
	    {1764750000000, DEV_A, "S01-G1", "enroll", 0, "S01-G1 coordinator",
	     "local"},
	    {1764750001000, NULL, "", "batch", 403, "网格员 S01-W01",
	     "127.0.0.1"},
	    {1764750002000, DEV_B, "S01-G1", "revoke", 0, "", "local"},
	};
	struct audit_seen seen = {0, ""};
	struct gb_err err;
	char head[65] = "";
	long n = -1;

	CHECK_S(st->ops->audit_verify(st, &n, head, sizeof(head), &err) == 0 &&
		n == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		CHECK_S(st->ops->audit_put(st, &e[i], &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->audit_verify(st, &n, head, sizeof(head), &err) == 0);
	CHECK_S(n == 3 && strlen(head) == 64);
	/* The chain is the same whichever store wrote it: the head of the
	 * first store run is the one every other must reach. */
	if (!first_head[0])
		snprintf(first_head, sizeof(first_head), "%s", head);
	CHECK_S(!strcmp(head, first_head));
	CHECK_S(st->ops->audit_list(st, 2, audit_cb, &seen, &err) == 0);
	CHECK_S(seen.n == 2 && !strcmp(seen.actions, "batch,revoke"));
}

/* Another server's connection, in a thread: the same batch and version as
 * the main connection's open transaction. */
struct racer {
	struct store *st;
	const struct store_version *v;
	int batch_rc, batch_code, version_rc, version_code;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	unsigned char h[STORE_HASH_LEN];
	struct gb_err err;

	memset(h, 0x33, sizeof(h));
	r->batch_rc = r->version_rc = 99;
	if (r->st->ops->begin(r->st, &err) < 0)
		return NULL;
	r->batch_rc = r->st->ops->batch_put(r->st, DEV_A, 7, h, 1, "ack-7b", 6,
					    1764750070000, &err);
	r->batch_code = err.code;
	r->st->ops->rollback(r->st);
	if (r->st->ops->begin(r->st, &err) < 0)
		return NULL;
	r->version_rc = r->st->ops->history_put(r->st, r->v, &err);
	r->version_code = err.code;
	r->st->ops->rollback(r->st);
	return NULL;
}

/*
 * Two servers on one PostgreSQL apply the same batch and version: the
 * second waits for the first (or comes after it) and is told GB_EBUSY,
 * to try again, and the first one's ack is what is stored.  Whichever
 * way the two interleave, the outcome is the same.
 */
static void test_race(struct store *st, const char *url)
{
	struct gb_record *r = enterprise(700);
	struct store_version v = {r,	"raw-7", 5,    {0},  "{}",
				  NULL, NULL,	 NULL, NULL, 1764750070000,
				  NULL, 0,	 0};
	struct racer rc = {NULL, &v, 0, 0, 0, 0};
	unsigned char h[STORE_HASH_LEN], got[STORE_HASH_LEN];
	struct gb_buf ack;
	struct gb_err err;
	pthread_t t;

	memset(h, 0x77, sizeof(h));
	memcpy(v.hash, h, sizeof(h));
	gb_buf_init(&ack, 1 << 16);
	CHECK_S(store_pg_open(&rc.st, url, STORE_ADMIN, &err) == 0);
	if (!rc.st)
		goto out;
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->batch_put(st, DEV_A, 7, h, 1, "ack-7a", 6,
				   1764750070000, &err) == 0);
	CHECK_S(st->ops->history_put(st, &v, &err) == 0);
	CHECK_S(pthread_create(&t, NULL, race, &rc) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	pthread_join(t, NULL);
	CHECK_S(rc.batch_rc == -1 && rc.batch_code == GB_EBUSY);
	CHECK_S(rc.version_rc == -1 && rc.version_code == GB_EBUSY);
	CHECK_S(st->ops->batch_get(st, DEV_A, 7, got, &ack, &err) == 1);
	CHECK_S(!memcmp(got, h, sizeof(h)) && ack.len == 6 &&
		!memcmp(ack.data, "ack-7a", 6));
	rc.st->ops->close(rc.st);
out:
	gb_buf_release(&ack);
	gb_record_free(r);
}

struct reader_arg {
	struct store *st;
	int ok;
};

/* An HTTP thread's work: authenticate and page through changes. */
static void *reader(void *arg)
{
	struct reader_arg *a = arg;
	unsigned char ta[STORE_HASH_LEN];
	struct store_device d;
	struct store_changes c;
	struct gb_err err;

	memset(ta, 0xa1, sizeof(ta));
	for (int i = 0; i < 40; i++) {
		if (a->st->ops->device_by_token(a->st, ta, &d, &err) != 1 ||
		    strcmp(d.id, DEV_A) != 0)
			return NULL;
		if (a->st->ops->changes(a->st, "S01-G1", 0, 0, NULL, 100,
					1 << 20, &c, &err) < 0)
			return NULL;
		store_changes_release(&c);
	}
	a->ok = 1;
	return NULL;
}

/*
 * A serving store on PostgreSQL: what any thread may call uses
 * connections of its own, which see what is committed and not what the
 * writer's open transaction holds, and several threads at once each get
 * their own.
 */
static void test_serve_readers(const char *url)
{
	struct store_device e = {"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a05",
				 "S01-G1",
				 "viewer",
				 "",
				 0,
				 1764750080000,
				 0};
	struct reader_arg ra[4];
	unsigned char te[STORE_HASH_LEN], h[STORE_HASH_LEN];
	struct store_device got;
	struct store *st = NULL;
	struct gb_err err;
	uint64_t high = 0;
	pthread_t t[4];
	int started = 0;

	memset(te, 0xe5, sizeof(te));
	memset(h, 0x88, sizeof(h));
	CHECK_S(store_pg_open(&st, url, STORE_SERVE, &err) == 0);
	if (!st)
		return;
	for (int i = 0; i < 4; i++) {
		ra[i].st = st;
		ra[i].ok = 0;
		if (pthread_create(&t[i], NULL, reader, &ra[i]) == 0)
			started++;
	}
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_put(st, &e, te, &err) == 0);
	CHECK_S(st->ops->batch_put(st, DEV_A, 8, h, 0, "ack-8", 5,
				   1764750080000, &err) == 0);
	CHECK_S(st->ops->device_by_token(st, te, &got, &err) == 0);
	CHECK_S(st->ops->batch_high(st, DEV_A, 1, &high, &err) == 0 &&
		high == 7);
	CHECK_S(st->ops->batch_high(st, DEV_A, 0, &high, &err) == 0 &&
		high == 8);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->device_by_token(st, te, &got, &err) == 1 &&
		!strcmp(got.role, "viewer"));
	CHECK_S(st->ops->batch_high(st, DEV_A, 1, &high, &err) == 0 &&
		high == 8);
	for (int i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		CHECK_S(ra[i].ok);
	}
	CHECK_S(started == 4);
	st->ops->close(st);
}

/* Every operation of store_ops is there: a store written before an
 * operation was added to the interface fails here, not with a NULL call
 * in a server. */
/* What the field merge asks of a store, after test_records: a record's
 * versions newest first, its field conflicts replaced and listed, and
 * the versions held outside a clock's bounds. */
struct seen {
	int n;
	char first[16];
	char last_field[16];
	uint64_t version;
	int current;
};

static int each_version(void *arg, const void *raw, size_t n,
			int64_t received_at, struct gb_err *err)
{
	struct seen *sn = arg;

	(void)received_at;
	(void)err;
	if (sn->n++ == 0)
		snprintf(sn->first, sizeof(sn->first), "%.*s", (int)n,
			 (const char *)raw);
	return 0;
}

static int each_conflict(void *arg, const struct store_field_conflict *c)
{
	struct seen *sn = arg;

	sn->n++;
	snprintf(sn->last_field, sizeof(sn->last_field), "%s/%s", c->field,
		 c->lost_value ? c->lost_value : "-");
	sn->version = c->kept_version;
	return 0;
}

static int each_outside(void *arg, const char *grid, const char *id,
			const char *device, uint64_t version, int current)
{
	struct seen *sn = arg;

	(void)grid;
	(void)id;
	(void)device;
	sn->n++;
	sn->version = version;
	sn->current = current;
	return 0;
}

/* The fields of the conflicts listed, in order, comma-separated. */
struct fields_seen {
	char list[128];
	struct store_conflict_key last;
	char id[GB_ID_LEN], dev[GB_ID_LEN], field[32];
};

static int each_field(void *arg, const struct store_field_conflict *c)
{
	struct fields_seen *fs = arg;
	size_t n = strlen(fs->list);

	snprintf(fs->list + n, sizeof(fs->list) - n, "%s%s", n ? "," : "",
		 c->field);
	snprintf(fs->id, sizeof(fs->id), "%s", c->id);
	snprintf(fs->dev, sizeof(fs->dev), "%s", c->lost_device);
	snprintf(fs->field, sizeof(fs->field), "%s", c->field);
	fs->last.detected = c->detected;
	fs->last.id = fs->id;
	fs->last.field = fs->field;
	fs->last.lost_version = c->lost_version;
	fs->last.lost_device = fs->dev;
	return 0;
}

/* Pages of the field conflicts: in byte order of the field names on
 * both stores ("a_b" before "ab", whatever PostgreSQL's collation), each
 * page after the last of the one before, the last one short. */
static void test_conflict_pages(struct store *st)
{
	struct store_field_conflict c[4] = {
	    {REC_1, "S01-G1", "enterprise", "ab", 200, 100, DEV_A, DEV_B,
	     "K0001", "K0002", "1", "2", 1764750030000, NULL, NULL},
	    {REC_1, "S01-G1", "enterprise", "a_b", 200, 100, DEV_A, DEV_B,
	     "K0001", "K0002", "1", "2", 1764750030000, NULL, NULL},
	    {REC_1, "S01-G1", "enterprise", "b", 200, 100, DEV_A, DEV_B,
	     "K0001", "K0002", "1", "2", 1764750030000, NULL, NULL},
	    {REC_1, "S01-G1", "enterprise", "a", 200, 100, DEV_A, DEV_B,
	     "K0001", "K0002", "1", "2", 1764750020000, NULL, NULL},
	};
	struct fields_seen fs, next;
	struct store_conflict_key bad;
	struct gb_err err;

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->field_conflicts_put(st, REC_1, c, 4, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	memset(&fs, 0, sizeof(fs));
	CHECK_S(st->ops->field_conflict_list(st, NULL, NULL, 0, each_field, &fs,
					     &err) == 0);
	CHECK_S(!strcmp(fs.list, "a,a_b,ab,b"));
	memset(&fs, 0, sizeof(fs));
	CHECK_S(st->ops->field_conflict_list(st, "S01-G1", NULL, 2, each_field,
					     &fs, &err) == 0);
	CHECK_S(!strcmp(fs.list, "a,a_b"));
	memset(&next, 0, sizeof(next));
	CHECK_S(st->ops->field_conflict_list(st, "S01-G1", &fs.last, 2,
					     each_field, &next, &err) == 0);
	CHECK_S(!strcmp(next.list, "ab,b"));
	memset(&fs, 0, sizeof(fs));
	CHECK_S(st->ops->field_conflict_list(st, "S01-G1", &next.last, 2,
					     each_field, &fs, &err) == 0);
	CHECK_S(fs.list[0] == '\0');
	bad = next.last;
	bad.id = "not-a-uuid";
	CHECK_S(st->ops->field_conflict_list(st, NULL, &bad, 2, each_field, &fs,
					     &err) < 0 &&
		err.code == GB_EUSAGE);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->field_conflicts_put(st, REC_1, NULL, 0, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
}

static void test_merge_ops(struct store *st)
{
	struct store_field_conflict c = {
	    REC_1, "S01-G1", "enterprise",  "employees", 200,
	    100,   DEV_A,    DEV_B,	    "K0001",	 "K0002",
	    "50",  "60",     1764750030000, NULL,	 NULL};
	struct seen sn;
	struct gb_err err;

	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->history_each(st, REC_1, 10, each_version, &sn, &err) ==
		0);
	CHECK_S(sn.n == 2 && !strcmp(sn.first, "raw-2"));
	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->history_each(st, REC_1, 1, each_version, &sn, &err) ==
		0);
	CHECK_S(sn.n == 1);

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->field_conflicts_put(st, REC_1, &c, 1, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->field_conflict_list(st, "S01-G1", NULL, 0,
					     each_conflict, &sn, &err) == 0);
	CHECK_S(sn.n == 1 && !strcmp(sn.last_field, "employees/60") &&
		sn.version == 200);
	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->field_conflict_list(st, "S01-G2", NULL, 0,
					     each_conflict, &sn, &err) == 0);
	CHECK_S(sn.n == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->field_conflicts_put(st, REC_1, NULL, 0, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->field_conflict_list(st, NULL, NULL, 0, each_conflict,
					     &sn, &err) == 0);
	CHECK_S(sn.n == 0);

	/* Of versions 100 (history) and 200 (current): 100 is below 150. */
	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->versions_outside(st, 150, 1000, each_outside, &sn,
					  &err) == 0);
	CHECK_S(sn.n == 1 && sn.version == 100 && sn.current == 0);
	memset(&sn, 0, sizeof(sn));
	CHECK_S(st->ops->versions_outside(st, 250, 1000, each_outside, &sn,
					  &err) == 0);
	CHECK_S(sn.n == 2);
}

/* The heads of the merge and the field conflicts it left open, kept
 * with the current version (ingest's sequential test reads them back):
 * two heads, one that is not the version itself, none (the version
 * alone), more than GB_MAX_BASE.  Undone at the end. */
static void test_heads(struct store *st)
{
	struct gb_record *r = enterprise(500);
	uint64_t two[] = {400, 500}, one[] = {400}, many[GB_MAX_BASE + 1];
	struct store_version v = {
	    r,	  "raw-h",   5,	   {0},	 "{\"name\":\"南苑服装厂\"}",
	    NULL, "S01-C01", NULL, NULL, 1764750040000,
	    two,  2,	     2};
	struct store_current cur;
	struct gb_err err;

	snprintf(r->id, sizeof(r->id), "%s", REC_H);
	for (size_t i = 0; i < GB_MAX_BASE + 1; i++)
		many[i] = 300 + i;
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v, &err) == 0);
	memset(&cur, 0x5a, sizeof(cur));
	CHECK_S(st->ops->current_get(st, REC_H, &cur, &err) == 1);
	CHECK_S(cur.version == 500 && cur.nheads == 2 && cur.heads[0] == 400 &&
		cur.heads[1] == 500 && cur.conflicts == 2);
	v.heads = one;
	v.nheads = 1;
	v.conflicts = 1;
	CHECK_S(st->ops->current_put(st, &v, &err) == 0);
	memset(&cur, 0x5a, sizeof(cur));
	CHECK_S(st->ops->current_get(st, REC_H, &cur, &err) == 1);
	CHECK_S(cur.nheads == 1 && cur.heads[0] == 400 && cur.conflicts == 1);
	v.heads = NULL;
	v.nheads = 0;
	v.conflicts = 0;
	CHECK_S(st->ops->current_put(st, &v, &err) == 0);
	memset(&cur, 0x5a, sizeof(cur));
	CHECK_S(st->ops->current_get(st, REC_H, &cur, &err) == 1);
	CHECK_S(cur.nheads == 1 && cur.heads[0] == 500 && cur.conflicts == 0);
	v.heads = many;
	v.nheads = GB_MAX_BASE + 1;
	CHECK_S(st->ops->current_put(st, &v, &err) == 0);
	memset(&cur, 0x5a, sizeof(cur));
	CHECK_S(st->ops->current_get(st, REC_H, &cur, &err) == 1);
	CHECK_S(cur.nheads == -1 && cur.conflicts == 0);
	st->ops->rollback(st);
	gb_record_free(r);
}

/* ---- report facts, written by ingest ---- */

#define REC_F "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d01"
#define REC_E "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d02"

/*
 * Ids bound in turn by the writer's statements (store_sqlite.c keeps the
 * bytes of the last id bound in each place): records and devices that
 * follow one another, one id that is not a UUID between them, a fact
 * whose reference changes; each is read back as its own.  Undone at the
 * end, so the tests after see nothing of it.
 */
static void test_ids_in_turn(struct store *st)
{
	static const char *const ids[] = {
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1e01",
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1e02",
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1e03",
	};
	static const char *const devs[] = {DEV_A, DEV_B, DEV_A};
	struct gb_record *r[3];
	struct store_version v[3];
	struct store_fact f, got;
	struct store_current cur;
	unsigned char h[STORE_HASH_LEN];
	struct gb_err err;
	char buf[512];

	CHECK_S(st->ops->begin(st, &err) == 0);
	for (int i = 0; i < 3; i++) {
		r[i] = enterprise(300 + (uint64_t)i);
		snprintf(r[i]->id, sizeof(r[i]->id), "%s", ids[i]);
		snprintf(r[i]->device, sizeof(r[i]->device), "%s", devs[i]);
		memset(&v[i], 0, sizeof(v[i]));
		v[i].rec = r[i];
		v[i].raw = "raw";
		v[i].raw_len = 3;
		memset(v[i].hash, 0x40 + i, sizeof(v[i].hash));
		v[i].body = "{\"name\":\"河西五金店\"}";
		CHECK_S(st->ops->current_get(st, ids[i], &cur, &err) == 0);
		CHECK_S(st->ops->history_put(st, &v[i], &err) == 0);
		CHECK_S(st->ops->current_put(st, &v[i], &err) == 0);
	}
	CHECK_S(st->ops->current_get(st, "not-a-uuid", &cur, &err) == 0);
	for (int k = 0; k < 6; k++) {
		int i = (k * 2) % 3;

		memset(&cur, 0, sizeof(cur));
		CHECK_S(st->ops->current_get(st, ids[i], &cur, &err) == 1 &&
			cur.version == 300 + (uint64_t)i &&
			!strcmp(cur.device, devs[i]));
		CHECK_S(st->ops->version_get(st, ids[i], 300 + (uint64_t)i,
					     devs[i], h, &err) == 1 &&
			h[0] == 0x40 + i);
		CHECK_S(
		    st->ops->version_get(st, ids[i], 300 + (uint64_t)i,
					 strcmp(devs[i], DEV_A) ? DEV_A : DEV_B,
					 h, &err) == 0);
		/* Not a UUID, found so only at its last character, then the
		 * id bound before it again. */
		CHECK_S(st->ops->current_get(st,
					     "ffffffff-ffff-7fff-bfff-"
					     "fffffffffffz",
					     &cur, &err) == 0);
		CHECK_S(st->ops->current_get(st, ids[i], &cur, &err) == 1 &&
			cur.version == 300 + (uint64_t)i);
		CHECK_S(st->ops->current_get(st, "", &cur, &err) == 0);
	}
	/* A fact's reference in turn with its own id. */
	memset(&f, 0, sizeof(f));
	f.kind = STORE_F_CHECK;
	f.grid = "S01-G1";
	f.resolved = -1;
	f.outcome = "pass";
	for (int i = 0; i < 3; i++) {
		f.id = ids[i];
		f.ref = ids[(i + 1) % 3];
		f.version = 300 + (uint64_t)i;
		CHECK_S(st->ops->fact_put(st, &f, &err) == 0);
	}
	for (int i = 2; i >= 0; i--) {
		CHECK_S(st->ops->fact_get(st, STORE_F_CHECK, ids[i], "S01-G1",
					  &got, buf, sizeof(buf), &err) == 1 &&
			got.ref && !strcmp(got.ref, ids[(i + 1) % 3]) &&
			got.version == 300 + (uint64_t)i);
	}
	st->ops->rollback(st);
	for (int i = 0; i < 3; i++)
		gb_record_free(r[i]);
}

/* 1 when a and b are both NULL or the same text. */
static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* 1 when the fact read back (got) holds what was written (f), for the
 * members of its kind; text written NULL comes back "" but ref NULL. */
static int same_fact(const struct store_fact *f, const struct store_fact *got)
{
	const char *const put[] = {f->community, f->name,     f->area,
				   f->leader,	 f->officer,  f->person,
				   f->outcome,	 f->level,    f->status,
				   f->category,	 f->priority, f->kind_name};
	const char *const back[] = {
	    got->community, got->name,	   got->area,	  got->leader,
	    got->officer,   got->person,   got->outcome,  got->level,
	    got->status,    got->category, got->priority, got->kind_name};

	for (size_t i = 0; i < sizeof(put) / sizeof(put[0]); i++)
		if (put[i] && !same_str(put[i], back[i]))
			return 0;
	return got->kind == f->kind && same_str(got->id, f->id) &&
	       same_str(got->grid, f->grid) && same_str(got->ref, f->ref) &&
	       got->day == f->day && got->has_day == f->has_day &&
	       got->version == f->version &&
	       got->contracts_signed == f->contracts_signed &&
	       got->employees_total == f->employees_total &&
	       got->deadline == f->deadline &&
	       got->has_deadline == f->has_deadline &&
	       got->received == f->received && got->resolved == f->resolved &&
	       got->start == f->start && got->end == f->end &&
	       got->active == f->active && got->rectified == f->rectified &&
	       got->conflicts == f->conflicts;
}

/* One fact of each kind, as ingest would write it: every member its kind
 * uses set, NULL and "none" among them. */
static void facts_sample(struct store_fact f[STORE_F_COUNT])
{
	memset(f, 0, STORE_F_COUNT * sizeof(*f));
	for (int k = 0; k < STORE_F_COUNT; k++) {
		f[k].kind = (enum store_fact_kind)k;
		f[k].id = REC_F;
		f[k].grid = "S01-G1";
		f[k].resolved = -1;
	}
	f[STORE_F_ENTERPRISE].community = "S01-C01";
	f[STORE_F_ENTERPRISE].name = "南苑服装厂";
	f[STORE_F_ENTERPRISE].active = 1;
	f[STORE_F_CHECK].ref = REC_E;
	f[STORE_F_CHECK].day = 20514;
	f[STORE_F_CHECK].version = UINT64_C(116200000000000001);
	f[STORE_F_CHECK].contracts_signed = 38;
	f[STORE_F_CHECK].employees_total = 40;
	f[STORE_F_CHECK].outcome = "rectify";
	f[STORE_F_CHECK].has_deadline = 1;
	f[STORE_F_CHECK].deadline = 20544;
	f[STORE_F_RECT].ref = REC_E;
	f[STORE_F_RECT].day = 20530;
	f[STORE_F_RECT].rectified = 1;
	f[STORE_F_DISPUTE].day = 20515;
	f[STORE_F_DISPUTE].level = "street";
	f[STORE_F_DISPUTE].status = "open";
	f[STORE_F_REQUEST].area = "S01-A01";
	f[STORE_F_REQUEST].day = 20516;
	f[STORE_F_REQUEST].received = 1772438400000;
	f[STORE_F_REQUEST].deadline = 1772467200000;
	f[STORE_F_REQUEST].category = "noise";
	f[STORE_F_REQUEST].priority = "normal";
	f[STORE_F_REQUEST].officer = NULL; /* stored as "" */
	f[STORE_F_PATROL].area = "S01-A01";
	f[STORE_F_PATROL].leader = "S01-P01";
	f[STORE_F_PATROL].start = 1772460000000;
	f[STORE_F_PATROL].end = 1772467200000;
	f[STORE_F_DAILY].officer = "S01-P01";
	f[STORE_F_DAILY].day = 20517;
	f[STORE_F_RECEPTION].officer = "S01-P01";
	f[STORE_F_RECEPTION].start = 1772420400000;
	f[STORE_F_RECEPTION].end = 1772431200000;
	f[STORE_F_CONFLICT].kind_name = "patrol";
	f[STORE_F_CONFLICT].area = "S01-A01";
	f[STORE_F_CONFLICT].person = "S01-P01";
	f[STORE_F_CONFLICT].conflicts = 2;
}

struct fact_walk {
	int records, rec1, batches, dev_a;
	char name[64];
};

static int each_fact_record(void *arg, const struct gb_record *r, int conflicts,
			    struct gb_err *err)
{
	struct fact_walk *w = arg;
	const char *name = gb_record_get(r, "name");

	(void)conflicts;
	(void)err;
	w->records++;
	if (!strcmp(r->id, REC_1) && !strcmp(r->grid, "S01-G1") &&
	    !strcmp(r->kind->name, "enterprise")) {
		w->rec1++;
		snprintf(w->name, sizeof(w->name), "%s", name ? name : "");
	}
	return 0;
}

static int each_fact_batch(void *arg, const char *device, const char *grid,
			   const char *role, int64_t records,
			   int64_t received_at, struct gb_err *err)
{
	struct fact_walk *w = arg;

	(void)records;
	(void)received_at;
	(void)err;
	w->batches++;
	w->dev_a += !strcmp(device, DEV_A) && !strcmp(grid, "S01-G1") &&
		    !strcmp(role, "coordinator");
	return 0;
}

/* The counter of c for (key, a, b) of S01-G1, or -1 when not held. */
static int64_t counter(struct store *st, enum store_counter c, int64_t key,
		       const char *a, const char *b)
{
	struct gb_err err;
	int64_t v = -99;
	int rc = st->ops->counter_get(st, c, "S01-G1", key, a, b, &v, &err);

	if (rc < 0)
		fprintf(stderr, "  counter_get: %s\n", err.msg);
	return rc == 1 ? v : rc == 0 && v == 0 ? -1 : -99;
}

/* The fact rows of every kind written, read back, replaced, deleted;
 * the counters summed, a period counter gone at zero and the count of
 * active enterprises kept; the version of the facts; what the facts are
 * built from; all undone by the rollback at the end. */
static void test_facts(struct store *st)
{
	struct store_fact f[STORE_F_COUNT], got;
	struct fact_walk w;
	struct gb_err err;
	char buf[512], version[16];

	facts_sample(f);
	CHECK_S(st->ops->facts_version(st, version, sizeof(version), &err) ==
		    1 &&
		!strcmp(version, "2"));
	CHECK_S(st->ops->begin(st, &err) == 0);
	for (int k = 0; k < STORE_F_COUNT; k++) {
		CHECK_S(st->ops->fact_get(st, f[k].kind, REC_F, "S01-G1", &got,
					  buf, sizeof(buf), &err) == 0);
		CHECK_S(st->ops->fact_put(st, &f[k], &err) == 0);
		memset(&got, 0, sizeof(got));
		CHECK_S(st->ops->fact_get(st, f[k].kind, REC_F, "S01-G1", &got,
					  buf, sizeof(buf), &err) == 1);
		CHECK_S(same_fact(&f[k], &got));
		if (!same_fact(&f[k], &got))
			fprintf(stderr, "  fact kind %d read back otherwise\n",
				k);
	}
	CHECK_S(!strcmp(got.officer ? got.officer : "-", "") ||
		f[STORE_F_CONFLICT].officer == NULL);
	/* A row too big for the buffer is an error, not a cut string. */
	CHECK_S(st->ops->fact_get(st, STORE_F_ENTERPRISE, REC_F, "S01-G1", &got,
				  buf, 20, &err) == -1);

	/* Replaced: the new values, and "none" where there were some. */
	f[STORE_F_CHECK].has_deadline = 0;
	f[STORE_F_CHECK].deadline = 0;
	f[STORE_F_CHECK].outcome = "compliant";
	f[STORE_F_REQUEST].resolved = 1772445600000;
	f[STORE_F_DISPUTE].ref = REC_E;
	f[STORE_F_CONFLICT].has_day = 1;
	f[STORE_F_CONFLICT].day = 20518;
	for (int k = 0; k < STORE_F_COUNT; k++) {
		CHECK_S(st->ops->fact_put(st, &f[k], &err) == 0);
		CHECK_S(st->ops->fact_get(st, f[k].kind, REC_F, "S01-G1", &got,
					  buf, sizeof(buf), &err) == 1 &&
			same_fact(&f[k], &got));
	}
	/* Another record's row is another row; deleting goes. */
	CHECK_S(st->ops->fact_get(st, STORE_F_DAILY, REC_E, "S01-G1", &got, buf,
				  sizeof(buf), &err) == 0);
	for (int k = 0; k < STORE_F_COUNT; k++) {
		CHECK_S(st->ops->fact_del(st, f[k].kind, REC_F, "S01-G1",
					  &err) == 0);
		CHECK_S(st->ops->fact_get(st, f[k].kind, REC_F, "S01-G1", &got,
					  buf, sizeof(buf), &err) == 0);
	}
	CHECK_S(st->ops->fact_del(st, STORE_F_DAILY, REC_F, "S01-G1", &err) ==
		0);

	/* Counters. */
	CHECK_S(counter(st, STORE_C_NIGHT, 20516, "S01-A01", "S01-P01") == -1);
	CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20516,
				     "S01-A01", "S01-P01", 1, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20516,
				     "S01-A01", "S01-P01", 2, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20516,
				     "S01-A01", "S01-P02", 1, &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, 20516, "S01-A01", "S01-P01") == 3);
	CHECK_S(counter(st, STORE_C_NIGHT, 20516, "S01-A01", "S01-P02") == 1);
	CHECK_S(counter(st, STORE_C_NIGHT, 20517, "S01-A01", "S01-P01") == -1);
	CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20516,
				     "S01-A01", "S01-P01", -3, &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, 20516, "S01-A01", "S01-P01") == -1);
	CHECK_S(counter(st, STORE_C_NIGHT, 20516, "S01-A01", "S01-P02") == 1);
	CHECK_S(st->ops->counter_add(st, STORE_C_DAILY, "S01-G1", 20517,
				     "S01-P01", NULL, 2, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_DAILY, "S01-G1", 20517,
				     "S01-P01", NULL, -1, &err) == 0);
	CHECK_S(counter(st, STORE_C_DAILY, 20517, "S01-P01", NULL) == 1);
	CHECK_S(st->ops->counter_add(st, STORE_C_RECEPTION, "S01-G1", 20510,
				     "S01-P01", NULL, 10800000, &err) == 0);
	CHECK_S(counter(st, STORE_C_RECEPTION, 20510, "S01-P01", NULL) ==
		10800000);
	CHECK_S(st->ops->counter_add(st, STORE_C_RECEPTION, "S01-G1", 20510,
				     "S01-P01", NULL, -10800000, &err) == 0);
	CHECK_S(counter(st, STORE_C_RECEPTION, 20510, "S01-P01", NULL) == -1);
	/* The active enterprises of a grid stay at zero. */
	CHECK_S(st->ops->counter_add(st, STORE_C_ACTIVE, "S01-G1", 0, NULL,
				     NULL, 1, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_ACTIVE, "S01-G1", 0, NULL,
				     NULL, -1, &err) == 0);
	CHECK_S(counter(st, STORE_C_ACTIVE, 0, NULL, NULL) == 0);
	CHECK_S(st->ops->sync_add(st, DEV_A, "S01-G1", "officer", 20517, 1, 500,
				  1772438400000, &err) == 0);
	CHECK_S(st->ops->sync_add(st, DEV_A, "S01-G1", "officer", 20517, 1, 20,
				  1772438500000, &err) == 0);

	/* What the facts are built from: the enterprise of test_records and
	 * the batches of DEV_A (a coordinator's device of S01-G1). */
	memset(&w, 0, sizeof(w));
	CHECK_S(st->ops->fact_records(st, each_fact_record, &w, &err) == 0);
	CHECK_S(w.records >= 1 && w.rec1 == 1 &&
		!strncmp(w.name, "南苑", strlen("南苑")));
	CHECK_S(st->ops->fact_batches(st, each_fact_batch, &w, &err) == 0);
	CHECK_S(w.batches >= 1 && w.dev_a == w.batches);

	CHECK_S(st->ops->facts_built(st, "9", &err) == 0);
	CHECK_S(st->ops->facts_version(st, version, sizeof(version), &err) ==
		    1 &&
		!strcmp(version, "9"));
	CHECK_S(st->ops->fact_put(st, &f[STORE_F_PATROL], &err) == 0);
	CHECK_S(st->ops->facts_clear(st, &err) == 0);
	CHECK_S(st->ops->fact_get(st, STORE_F_PATROL, REC_F, "S01-G1", &got,
				  buf, sizeof(buf), &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, 20516, "S01-A01", "S01-P02") == -1);
	CHECK_S(counter(st, STORE_C_DAILY, 20517, "S01-P01", NULL) == -1);
	CHECK_S(counter(st, STORE_C_ACTIVE, 0, NULL, NULL) == -1);
	st->ops->rollback(st);
	CHECK_S(st->ops->facts_version(st, version, sizeof(version), &err) ==
		    1 &&
		!strcmp(version, "2"));
}

/* A patrol of two guards from 22:30 to 01:30 (Asia/Shanghai), as
 * ingest hands it to rollup. */
static struct gb_record *patrol(uint64_t version, const char *leader)
{
	struct gb_record *r = gb_record_new(gb_kind_find("patrol"));

	snprintf(r->id, sizeof(r->id), "%s", REC_F);
	snprintf(r->grid, sizeof(r->grid), "S01-G1");
	snprintf(r->device, sizeof(r->device), "%s", DEV_A);
	r->version = version;
	gb_record_set_name(r, "area", "S01-A01");
	gb_record_set_name(r, "leader", leader);
	gb_record_set_name(r, "guards", "S01-B01,S01-B02");
	gb_record_set_name(r, "start", "1772461800000");
	gb_record_set_name(r, "end", "1772472600000");
	return r;
}

/* A record of kind with the given field values (pairs, NULL-ended), of
 * S01-G1 from DEV_A. */
static struct gb_record *record_of(const char *kind, const char *id,
				   uint64_t version, const char *const *kv)
{
	struct gb_record *r = gb_record_new(gb_kind_find(kind));

	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->grid, sizeof(r->grid), "S01-G1");
	snprintf(r->device, sizeof(r->device), "%s", DEV_A);
	r->version = version;
	for (; kv[0]; kv += 2)
		gb_record_set_name(r, kv[0], kv[1]);
	return r;
}

/* rollup.c's other counters on the store, in the writer transaction: a
 * daily report moved to another day, a reception's ms in its week, and
 * the active enterprises of the grid. */
static void rollup_others(struct store *st)
{
	static const char *const d1[] = {"officer", "S01-P01", "date",
					 "2026-03-02", NULL};
	static const char *const d2[] = {"officer", "S01-P01", "date",
					 "2026-03-03", NULL};
	/* Monday 2 March 2026, 09:00 to 12:00 in Asia/Shanghai. */
	static const char *const rc[] = {
	    "officer",	     "S01-P01", "room",		 "S01-A01", "start",
	    "1772413200000", "end",	"1772424000000", NULL};
	static const char *const e1[] = {"status", "active", "name",
					 "南苑服装厂", NULL};
	static const char *const e2[] = {"status", "closed", "name",
					 "南苑服装厂", NULL};
	struct gb_record *r;
	struct gb_err err;
	int32_t day, monday = 0;
	int64_t active = 0;

	CHECK_S(gb_date_parse("2026-03-02", &day, NULL) == 0);
	r = record_of("daily_report", REC_E, 500, d1);
	CHECK_S(rollup_record(st, r, &err) == 0);
	gb_record_free(r);
	CHECK_S(counter(st, STORE_C_DAILY, day, "S01-P01", NULL) == 1);
	r = record_of("daily_report", REC_E, 600, d2);
	CHECK_S(rollup_record(st, r, &err) == 0);
	gb_record_free(r);
	CHECK_S(counter(st, STORE_C_DAILY, day, "S01-P01", NULL) == -1);
	CHECK_S(counter(st, STORE_C_DAILY, day + 1, "S01-P01", NULL) == 1);

	monday = day - (gb_weekday(day) - 1);
	r = record_of("reception", REC_F, 700, rc);
	CHECK_S(rollup_record(st, r, &err) == 0);
	gb_record_free(r);
	CHECK_S(counter(st, STORE_C_RECEPTION, monday, "S01-P01", NULL) ==
		3 * 3600000);

	CHECK_S(st->ops->counter_get(st, STORE_C_ACTIVE, "S01-G1", 0, NULL,
				     NULL, &active, &err) >= 0);
	r = record_of("enterprise", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d03", 800,
		      e1);
	CHECK_S(rollup_record(st, r, &err) == 0);
	gb_record_free(r);
	CHECK_S(counter(st, STORE_C_ACTIVE, 0, NULL, NULL) == active + 1);
	r = record_of("enterprise", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d03", 900,
		      e2);
	CHECK_S(rollup_record(st, r, &err) == 0);
	gb_record_free(r);
	CHECK_S(counter(st, STORE_C_ACTIVE, 0, NULL, NULL) == active);
}

/* rollup.c on the store: a patrol counts for its night under its
 * leader, a new version moves it, a voided one takes it off, and a
 * rebuild from what the store holds gives the same counters. */
static void test_rollup(struct store *st)
{
	struct gb_record *r1 = patrol(300, "S01-P01"),
			 *r2 = patrol(400, "S01-P02");
	int32_t night = gb_local_day(1772461800000);
	struct gb_err err;

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(rollup_record(st, r1, &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, night, "S01-A01", "S01-P01") == 1);
	CHECK_S(rollup_record(st, r1, &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, night, "S01-A01", "S01-P01") == 1);
	CHECK_S(rollup_record(st, r2, &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, night, "S01-A01", "S01-P01") == -1);
	CHECK_S(counter(st, STORE_C_NIGHT, night, "S01-A01", "S01-P02") == 1);
	CHECK_S(counter(st, STORE_C_NIGHT, night - 1, "S01-A01", "S01-P02") ==
		-1);
	r2->voided = 1;
	CHECK_S(rollup_record(st, r2, &err) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, night, "S01-A01", "S01-P02") == -1);
	rollup_others(st);
	st->ops->rollback(st);
	/* The rebuild: from the enterprise and batches held, in a
	 * transaction of its own, and marked built. */
	CHECK_S(rollup_rebuild(st, &err) == 0);
	CHECK_S(rollup_ensure(st, &err) == 0);
	gb_record_free(r1);
	gb_record_free(r2);
}

/* find_key, the uniqueness rule of the kinds table (an enterprise's
 * USCC): another current enterprise of the grid with the code is found,
 * named by its id; the record itself, another code, another grid and a
 * voided holder are not. */
static void test_find_key(struct store *st)
{
	static const char id9[] = "0190f0c4-7c1e-7d11-8a00-00000000f901";
	struct gb_record *held = enterprise(900), *probe = enterprise(901);
	struct store_version v = {
	    held,
	    "raw-9",
	    5,
	    {0},
	    "{\"uscc\":\"91330782MA2KEY9999\",\"name\":\"龙山纸业有限公司\"}",
	    NULL,
	    "S01-C01",
	    NULL,
	    NULL,
	    1764750090000,
	    NULL,
	    0,
	    0};
	char holder[GB_ID_LEN] = "";
	struct gb_err err;

	snprintf(held->id, sizeof(held->id), "%s", id9);
	gb_record_set_name(held, "uscc", "91330782MA2KEY9999");
	memset(v.hash, 0x99, sizeof(v.hash));
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v, &err) == 0);
	gb_record_set_name(probe, "uscc", "91330782MA2KEY9999");
	CHECK_S(st->ops->find_key(st, probe, holder, &err) == 1);
	CHECK_S(strcmp(holder, id9) == 0);
	CHECK_S(st->ops->find_key(st, held, holder, &err) == 0);
	gb_record_set_name(probe, "uscc", "91330782MA2KEY9998");
	CHECK_S(st->ops->find_key(st, probe, holder, &err) == 0);
	gb_record_set_name(probe, "uscc", NULL);
	CHECK_S(st->ops->find_key(st, probe, holder, &err) == 0);
	gb_record_set_name(probe, "uscc", "91330782MA2KEY9999");
	snprintf(probe->grid, sizeof(probe->grid), "S01-G2");
	CHECK_S(st->ops->find_key(st, probe, holder, &err) == 0);
	snprintf(probe->grid, sizeof(probe->grid), "S01-G1");
	held->voided = 1;
	held->version = 902;
	CHECK_S(st->ops->current_put(st, &v, &err) == 0);
	CHECK_S(st->ops->find_key(st, probe, holder, &err) == 0);
	st->ops->rollback(st);
	gb_record_free(held);
	gb_record_free(probe);
}

static void test_ops_complete(struct store *st)
{
	typedef void (*fn)(void);
	fn f[sizeof(struct store_ops) / sizeof(fn)];

	_Static_assert(sizeof(struct store_ops) % sizeof(fn) == 0,
		       "store_ops holds only function pointers");
	memcpy(f, st->ops, sizeof(f));
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		CHECK_S(f[i] != NULL);
		if (!f[i])
			fprintf(stderr, "  store_ops member %zu is NULL\n", i);
	}
}

/* The rows of a fact query as text: per row its texts and then its
 * numbers ("-" for a null one), separated by '|', rows by ";". */
struct fact_text {
	char buf[2048];
	size_t len;
	int stop_at; /* when > 0: the callback fails at this row */
	int rows;    /* seen so far */
};

static int fact_row(void *arg, const struct store_fact_row *r,
		    struct gb_err *err)
{
	struct fact_text *t = arg;
	size_t n = sizeof(t->buf);

	if (++t->rows == t->stop_at)
		return gb_error(err, GB_EINVAL, "stopped at row %d", t->rows);
	for (int i = 0; i < STORE_FACT_NS && r->s[i]; i++)
		t->len += (size_t)snprintf(t->buf + t->len, n - t->len, "%s|",
					   r->s[i]);
	for (int i = 0; i < STORE_FACT_NI; i++) {
		if (r->null & 1u << i)
			t->len +=
			    (size_t)snprintf(t->buf + t->len, n - t->len, "-|");
		else if (r->i[i])
			t->len += (size_t)snprintf(t->buf + t->len, n - t->len,
						   "%lld|", (long long)r->i[i]);
	}
	t->len += (size_t)snprintf(t->buf + t->len, n - t->len, ";");
	return t->len < n ? 0 : -1;
}

/* The rows of fact over from..to (key may be NULL) in snapshot f. */
static const char *facts_of(struct store *st, struct store_facts *f,
			    enum store_query fact, int32_t from, int32_t to,
			    const char *key, struct fact_text *t)
{
	struct store_fact_query q = {fact, from, to, key};
	struct gb_err err;

	memset(t, 0, sizeof(*t));
	if (st->ops->facts_read(st, f, &q, fact_row, t, &err) < 0) {
		fprintf(stderr, "  facts_read %d: %s\n", (int)fact, err.msg);
		return "(failed)";
	}
	return t->buf;
}

/*
 * The report facts as reports read them, after the reference data and
 * devices of the tests before (it adds reference data, so it comes
 * last): the reference data ordered bytewise by code (S01-m02
 * after S01-W01, as SQLite compares text, whatever the database's
 * collation), a community's lowest area, the devices with what they said
 * of their backlog, and no rows, not an error, from facts nothing has
 * written yet.
 */
static void test_fact_reads(struct store *st)
{
	const char *area0[] = {"S01-P0", "S01-G1", "西门警务区", "102"};
	const char *ac0[] = {"S01-P0", "S01-C01"};
	const char *guard[] = {"S01-m02", "赵德胜", "guard", "S01-G1",
			       "S01-P1"};
	const char *chief[] = {"S01-M03", "孙丽华", "chief", "S01-G1",
			       "S01-P0"};
	struct store_fact_query bad = {STORE_Q_COUNT, 0, 0, NULL};
	struct store_facts *f = NULL;
	struct fact_text t;
	struct gb_err err;
	int32_t d0 = 20400, d1 = 20430;

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(put(st, STORE_T_AREA, area0) == 1);
	CHECK_S(put(st, STORE_T_AREA_COMMUNITY, ac0) == 1);
	CHECK_S(put(st, STORE_T_STAFF, guard) == 1);
	CHECK_S(put(st, STORE_T_STAFF, chief) == 1);
	CHECK_S(st->ops->ref_touch(st, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);

	CHECK_S(st->ops->facts_begin(st, &f, &err) == 0 && f);
	if (!f)
		return;
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_DISTRICT, 0, 0, NULL, &t),
			"D01|南湖区|;"));
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_STREET, 0, 0, NULL, &t),
			"S01|东关街道|;"));
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_GRID, 0, 0, NULL, &t),
			"S01-G1|S01|第一网格|;S01-G2|S01|第二网格|;"));
	CHECK_S(
	    !strcmp(facts_of(st, f, STORE_Q_AREA, 0, 0, NULL, &t),
		    "S01-P0|S01-G1|西门警务区|;S01-P1|S01-G1|东关警务区|;"));
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_COMMUNITY, 0, 0, NULL, &t),
			"S01-C01|S01-G1|东关社区|S01-P0|3300|4|2|;"));
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_STAFF, 0, 0, NULL, &t),
			"S01-M01|陈志强|officer|S01-G1|S01-P1|;"
			"S01-M03|孙丽华|chief|S01-G1|S01-P0|;"
			"S01-W01|王秀英|coordinator|S01-G1||;"
			"S01-m02|赵德胜|guard|S01-G1|S01-P1|;"));
	/* DEV_A said 3 unsent, the oldest at 1764740000000, and then
	 * nothing (pending -1): what it said stands.  DEV_B, revoked, never
	 * said. */
	/* The devices in any order. */
	facts_of(st, f, STORE_Q_DEVICES, 0, 0, NULL, &t);
	CHECK_S(strstr(t.buf, DEV_A "|S01-G1|coordinator|刘建国的笔记本|3|"
				    "1764740000000|1764750006000|;") &&
		strstr(t.buf, DEV_B "|S01-G1|officer||1|-|;") && t.rows == 2);
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_DEVICE_SYNC, d0, d1, NULL, &t),
			DEV_A "|S01-G1|coordinator|刘建国的笔记本|3|"
			      "1764740000000|1764750006000|;" DEV_B
			      "|S01-G1|officer||1|-|;"));
	/* No batch has left day counts. */
	CHECK_S(!strcmp(facts_of(st, f, STORE_Q_SYNCED_GRIDS, d0, d1, NULL, &t),
			""));
	CHECK_S(!strcmp(
	    facts_of(st, f, STORE_Q_SYNCED_GRIDS, d0, d1, "officer", &t), ""));
	for (int k = STORE_Q_ACTIVE; k <= STORE_Q_DAILY; k++)
		CHECK_S(!strcmp(
		    facts_of(st, f, (enum store_query)k, d0, d1, NULL, &t),
		    ""));
	CHECK_S(!strcmp(
	    facts_of(st, f, STORE_Q_CONFLICTS, d0, d1, "patrol", &t), ""));
	/* A callback's failure stops the read with its error. */
	memset(&t, 0, sizeof(t));
	t.stop_at = 2;
	{
		struct store_fact_query q = {STORE_Q_STAFF, 0, 0, NULL};

		CHECK_S(st->ops->facts_read(st, f, &q, fact_row, &t, &err) ==
			    -1 &&
			err.code == GB_EINVAL && t.rows == 2);
	}
	CHECK_S(st->ops->facts_read(st, f, &bad, fact_row, &t, &err) == -1 &&
		err.code == GB_EINTERNAL);
	st->ops->facts_end(st, f);
	st->ops->facts_end(st, NULL);
}

/* ---- several servers on one PostgreSQL ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/*
 * Waits until n connections to the database of url wait for a lock (the
 * row of a grid another writer holds), for at most bound_ms; whether they
 * do.  A test that then lets the lock go knows the others were waiting
 * for it, where a fixed sleep only made it likely, and goes on as soon
 * as they are.
 */
static int lock_waiters(const char *url, long n, long bound_ms)
{
	int64_t end = gb_now_ms() + bound_ms;
	char cmd[1024];
	long got = 0;

	/* Through psql: libpq is store_pg.c's alone. */
	snprintf(cmd, sizeof(cmd),
		 "psql -X -A -t -q '%s' -c \"SELECT count(*) FROM "
		 "pg_stat_activity WHERE datname = current_database() AND "
		 "wait_event_type = 'Lock'\"",
		 url);
	while (gb_now_ms() < end) {
		FILE *f = popen(cmd, "r");
		char line[32] = "";

		if (!f)
			break;
		if (fgets(line, sizeof(line), f))
			got = strtol(line, NULL, 10);
		if (pclose(f) != 0)
			fprintf(stderr, "  psql failed: %s\n", cmd);
		if (got >= n)
			break;
		sleep_ms(10);
	}
	return got >= n;
}

/* Opens another server's handle on url, with the PostgreSQL setting
 * options (PGOPTIONS, e.g. "-c deadlock_timeout=10s") for its
 * connections; NULL on failure. */
static struct store *server_open(const char *url, const char *options)
{
	struct store *st = NULL;
	struct gb_err err;

	setenv("PGOPTIONS", options ? options : "", 1);
	if (store_pg_open(&st, url, STORE_ADMIN, &err) < 0)
		fprintf(stderr, "  %s\n", err.msg);
	unsetenv("PGOPTIONS");
	return st;
}

struct turn {
	struct store *st;
	atomic_int locked; /* the first grid is held */
	int found, put_rc, lock_rc, commit_rc;
	int64_t locked_at; /* when it had the grid */
};

/* The second server's writer, applying batch 21 of DEV_G1 as ingest
 * does: the grid, then whether the batch is there, then the batch. */
static void *second_writer(void *arg)
{
	struct turn *t = arg;
	unsigned char h[STORE_HASH_LEN], got[STORE_HASH_LEN];
	struct gb_err err;

	memset(h, 0x21, sizeof(h));
	t->found = t->put_rc = t->lock_rc = t->commit_rc = 99;
	if (t->st->ops->begin(t->st, &err) < 0)
		return NULL;
	t->lock_rc = t->st->ops->grid_lock(t->st, "S01-G1", &err);
	t->locked_at = gb_now_ms();
	t->found = t->st->ops->batch_get(t->st, DEV_G1, 21, got, NULL, &err);
	if (t->found == 0)
		t->put_rc = t->st->ops->batch_put(
		    t->st, DEV_G1, 21, h, 0, "ack-y", 5, 1764750210000, &err);
	t->commit_rc = t->st->ops->commit(t->st, &err);
	return NULL;
}

/*
 * The same batch at two servers at once (a device that tried again
 * elsewhere): the second waits for the grid the first holds and then
 * finds the batch applied, instead of failing on its key.
 */
static void test_grid_turns(struct store *st, const char *url)
{
	struct turn t;
	unsigned char h[STORE_HASH_LEN], got[STORE_HASH_LEN];
	struct gb_buf ack;
	struct gb_err err;
	pthread_t th;
	int64_t commit_at;

	memset(&t, 0, sizeof(t));
	memset(h, 0x21, sizeof(h));
	gb_buf_init(&ack, 1 << 16);
	t.st = server_open(url, NULL);
	CHECK_S(t.st != NULL);
	if (!t.st)
		goto out;
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->grid_lock(st, "S01-G1", &err) == 0);
	CHECK_S(st->ops->grid_lock(st, "S01-G1", &err) == 0); /* again: held */
	CHECK_S(st->ops->batch_get(st, DEV_G1, 21, got, NULL, &err) == 0);
	CHECK_S(pthread_create(&th, NULL, second_writer, &t) == 0);
	CHECK_S(lock_waiters(url, 1, 10000)); /* the second waits for it */
	CHECK_S(st->ops->batch_put(st, DEV_G1, 21, h, 0, "ack-x", 5,
				   1764750210000, &err) == 0);
	commit_at = gb_now_ms();
	CHECK_S(st->ops->commit(st, &err) == 0);
	pthread_join(th, NULL);
	CHECK_S(t.lock_rc == 0 && t.locked_at >= commit_at);
	CHECK_S(t.found == 1 && t.put_rc == 99 && t.commit_rc == 0);
	CHECK_S(st->ops->batch_get(st, DEV_G1, 21, got, &ack, &err) == 1 &&
		ack.len == 5 && !memcmp(ack.data, "ack-x", 5));
	t.st->ops->close(t.st);
out:
	gb_buf_release(&ack);
}

struct crossing {
	struct store *st;
	atomic_int holds; /* its first grid is held */
	int rc_first, rc_second, rc_commit;
};

/* A writer that takes S01-G2, then S01-G1. */
static void *crossing_writer(void *arg)
{
	struct crossing *c = arg;
	struct gb_err err;

	c->rc_first = c->rc_second = c->rc_commit = 99;
	if (c->st->ops->begin(c->st, &err) < 0)
		return NULL;
	c->rc_first = c->st->ops->grid_lock(c->st, "S01-G2", &err);
	atomic_store(&c->holds, 1);
	c->rc_second = c->st->ops->grid_lock(c->st, "S01-G1", &err);
	c->rc_commit = c->st->ops->commit(c->st, &err);
	return NULL;
}

/*
 * Two writers take two grids in opposite orders: PostgreSQL fails one
 * of them (the one whose deadlock check comes first: here always the
 * other server's, which waits 10 s before it looks), and that one's
 * transaction is lost as a whole (rollback_to -1, GB_EBUSY), so that
 * the locks it held go and the other goes on.
 */
static void test_deadlock(struct store *st, const char *url)
{
	struct crossing c;
	struct gb_err err;
	pthread_t th;

	memset(&c, 0, sizeof(c));
	c.st = server_open(url, "-c deadlock_timeout=10s");
	CHECK_S(c.st != NULL);
	if (!c.st)
		return;
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->grid_lock(st, "S01-G1", &err) == 0);
	CHECK_S(pthread_create(&th, NULL, crossing_writer, &c) == 0);
	while (!atomic_load(&c.holds))
		sleep_ms(10);
	CHECK_S(lock_waiters(url, 1, 10000)); /* it waits for S01-G1 */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	gb_err_clear(&err);
	CHECK_S(st->ops->grid_lock(st, "S01-G2", &err) == -1 &&
		err.code == GB_EBUSY);
	CHECK_S(st->ops->rollback_to(st) == -1);
	pthread_join(th, NULL);
	CHECK_S(c.rc_first == 0 && c.rc_second == 0 && c.rc_commit == 0);
	/* The lost transaction is gone: the store begins a new one. */
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->grid_lock(st, "S01-G2", &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	c.st->ops->close(c.st);
}

struct group_arg {
	struct store *st;
	struct ingest_req *reqs[2];
	int rc;
	struct gb_err err;
};

static void *group_writer(void *arg)
{
	struct group_arg *g = arg;

	g->rc = ingest_apply(g->st, g->reqs, 2, gb_now_ms(), &g->err);
	return NULL;
}

/*
 * A group lost to a deadlock is run again by ingest, and every batch
 * of it is applied, none refused: ingest applies a batch of S01-G1 and
 * one of S01-G2 (taking S01-G1, then waiting for S01-G2) while another
 * server holds S01-G2 and then asks for S01-G1.
 */
static void test_group_again(struct store *st, const char *url)
{
	struct store_device d1 = {DEV_G1,	 "S01-G1", "coordinator", "", 0,
				  1764750200000, 0};
	struct store_device d2 = {DEV_G2,	 "S01-G2", "coordinator", "", 0,
				  1764750200000, 0};
	struct wire_batch b1, b2;
	struct ingest_req r1, r2;
	struct group_arg g;
	struct gb_buf a1, a2;
	struct store *other;
	unsigned char h[STORE_HASH_LEN];
	struct gb_err err;
	pthread_t th;

	memset(&b1, 0, sizeof(b1));
	memset(&b2, 0, sizeof(b2));
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&g, 0, sizeof(g));
	snprintf(b1.hdr.device, sizeof(b1.hdr.device), "%s", DEV_G1);
	snprintf(b1.hdr.grid, sizeof(b1.hdr.grid), "S01-G1");
	b1.hdr.seq = 22;
	snprintf(b2.hdr.device, sizeof(b2.hdr.device), "%s", DEV_G2);
	snprintf(b2.hdr.grid, sizeof(b2.hdr.grid), "S01-G2");
	b2.hdr.seq = 1;
	gb_buf_init(&a1, 1 << 16);
	gb_buf_init(&a2, 1 << 16);
	r1.dev = &d1;
	r1.batch = &b1;
	r1.ack = &a1;
	r2.dev = &d2;
	r2.batch = &b2;
	r2.ack = &a2;
	g.st = st;
	g.reqs[0] = &r1;
	g.reqs[1] = &r2;
	other = server_open(url, "-c deadlock_timeout=10s");
	CHECK_S(other != NULL);
	if (!other)
		goto out;
	CHECK_S(other->ops->begin(other, &err) == 0);
	CHECK_S(other->ops->grid_lock(other, "S01-G2", &err) == 0);
	CHECK_S(pthread_create(&th, NULL, group_writer, &g) == 0);
	/* ingest holds S01-G1 and waits for S01-G2 */
	CHECK_S(lock_waiters(url, 1, 10000));
	CHECK_S(other->ops->grid_lock(other, "S01-G1", &err) == 0);
	CHECK_S(other->ops->commit(other, &err) == 0);
	pthread_join(th, NULL);
	CHECK_S(g.rc == 0);
	CHECK_S(r1.rc == 0 && r2.rc == 0);
	if (r1.rc || r2.rc)
		fprintf(stderr, "  %s / %s\n", r1.err.msg, r2.err.msg);
	CHECK_S(st->ops->batch_get(st, DEV_G1, 22, h, NULL, &err) == 1);
	CHECK_S(st->ops->batch_get(st, DEV_G2, 1, h, NULL, &err) == 1);
	other->ops->close(other);
out:
	gb_buf_release(&a1);
	gb_buf_release(&a2);
}

static void wake_count(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

/* Whether *n reaches at least 1 within ms. */
static int woken_within(atomic_int *n, long ms)
{
	for (long t = 0; t < ms && atomic_load(n) == 0; t += 20)
		sleep_ms(20);
	return atomic_load(n) > 0;
}

/*
 * A batch committed by another server is heard of (watch), once the
 * listener is connected (it wakes once then, for what it missed); a
 * batch committed by this server's own writer is not; and once watch
 * is stopped, nothing more.
 */
static void test_watch(struct store *st, const char *url)
{
	unsigned char h[STORE_HASH_LEN];
	struct store *other = server_open(url, NULL);
	struct gb_err err;
	atomic_int n;

	atomic_init(&n, 0);
	memset(h, 0x23, sizeof(h));
	CHECK_S(other != NULL);
	if (!other)
		return;
	CHECK_S(st->ops->watch(st, wake_count, &n, &err) == 1);
	CHECK_S(woken_within(&n, 5000));
	atomic_store(&n, 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->batch_put(st, DEV_G1, 23, h, 0, "ack-23", 6,
				   1764750230000, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	sleep_ms(500);
	CHECK_S(atomic_load(&n) == 0);
	CHECK_S(other->ops->begin(other, &err) == 0);
	CHECK_S(other->ops->batch_put(other, DEV_G1, 24, h, 0, "ack-24", 6,
				      1764750240000, &err) == 0);
	CHECK_S(other->ops->batch_put(other, DEV_G1, 25, h, 0, "ack-25", 6,
				      1764750250000, &err) == 0);
	sleep_ms(300);
	CHECK_S(atomic_load(&n) == 0); /* not before the commit */
	CHECK_S(other->ops->commit(other, &err) == 0);
	CHECK_S(woken_within(&n, 5000));
	CHECK_S(st->ops->watch(st, NULL, NULL, &err) == 0);
	atomic_store(&n, 0);
	CHECK_S(other->ops->begin(other, &err) == 0);
	CHECK_S(other->ops->batch_put(other, DEV_G1, 26, h, 0, "ack-26", 6,
				      1764750260000, &err) == 0);
	CHECK_S(other->ops->commit(other, &err) == 0);
	sleep_ms(500);
	CHECK_S(atomic_load(&n) == 0);
	other->ops->close(other);
}

struct held_arg {
	struct ingest *ing;
	const struct store_device *dev;
	const struct wire_batch *b;
	struct gb_buf *ack;
	int rc;
	struct gb_err err;
};

static void *held_sender(void *arg)
{
	struct held_arg *h = arg;

	h->rc = ingest_batch(h->ing, h->dev, h->b, h->ack, &h->err);
	return NULL;
}

/*
 * The order of a device's batches across servers: a batch that follows
 * one not applied yet waits at this server, and is applied as soon as
 * another server applies the one before (watch), not when its hold
 * ends.
 */
static void test_held_elsewhere(struct store *st, const char *url)
{
	struct store_device d1 = {DEV_G1,	 "S01-G1", "coordinator", "", 0,
				  1764750200000, 0};
	unsigned char h[STORE_HASH_LEN];
	struct store *other = server_open(url, NULL);
	struct ingest *ing = NULL;
	struct wire_batch b;
	struct held_arg ha;
	struct gb_buf ack;
	struct gb_err err;
	pthread_t th;

	memset(&b, 0, sizeof(b));
	memset(&ha, 0, sizeof(ha));
	memset(h, 0x27, sizeof(h));
	gb_buf_init(&ack, 1 << 16);
	snprintf(b.hdr.device, sizeof(b.hdr.device), "%s", DEV_G1);
	snprintf(b.hdr.grid, sizeof(b.hdr.grid), "S01-G1");
	b.hdr.seq = 28;
	b.hdr.after = 27;
	CHECK_S(other != NULL);
	CHECK_S(ingest_start(&ing, st, &err) == 0);
	if (!other || !ing)
		goto out;
	ingest_set_hold(ing, 60000);
	ha.ing = ing;
	ha.dev = &d1;
	ha.b = &b;
	ha.ack = &ack;
	ha.rc = 99;
	CHECK_S(pthread_create(&th, NULL, held_sender, &ha) == 0);
	for (int i = 0; i < 250 && ingest_held(ing) == 0; i++)
		sleep_ms(20);
	CHECK_S(ingest_held(ing) == 1);
	CHECK_S(other->ops->begin(other, &err) == 0);
	CHECK_S(other->ops->batch_put(other, DEV_G1, 27, h, 0, "ack-27", 6,
				      1764750270000, &err) == 0);
	CHECK_S(other->ops->commit(other, &err) == 0);
	/* Long before its hold ends (looked at again then, it would go
	 * too). */
	for (int i = 0; i < 500 && ingest_held(ing) > 0; i++)
		sleep_ms(20);
	CHECK_S(ingest_held(ing) == 0);
	ingest_set_hold(ing, 0);
	pthread_join(th, NULL);
	CHECK_S(ha.rc == 0);
	if (ha.rc != 0)
		fprintf(stderr, "  %s\n", ha.err.msg);
	ingest_stop(ing);
	ing = NULL;
	CHECK_S(st->ops->batch_get(st, DEV_G1, 28, h, NULL, &err) == 1);
out:
	ingest_stop(ing);
	if (other)
		other->ops->close(other);
	gb_buf_release(&ack);
}

struct rebuilder {
	struct store *st;
	int rc;
	int64_t done_at;
};

static void *rebuilding(void *arg)
{
	struct rebuilder *r = arg;
	struct gb_err err;

	r->rc = rollup_rebuild(r->st, &err);
	r->done_at = gb_now_ms();
	if (r->rc < 0)
		fprintf(stderr, "  %s\n", err.msg);
	return NULL;
}

/* Another server building the facts again waits for a writer that
 * holds a grid, and so counts what that one commits. */
static void test_rebuild_waits(struct store *st, const char *url)
{
	struct rebuilder r = {server_open(url, NULL), 99, 0};
	struct gb_err err;
	pthread_t th;
	int64_t commit_at;

	CHECK_S(r.st != NULL);
	if (!r.st)
		return;
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->grid_lock(st, "S01-G2", &err) == 0);
	CHECK_S(pthread_create(&th, NULL, rebuilding, &r) == 0);
	CHECK_S(lock_waiters(url, 1, 10000));
	commit_at = gb_now_ms();
	CHECK_S(st->ops->commit(st, &err) == 0);
	pthread_join(th, NULL);
	CHECK_S(r.rc == 0 && r.done_at >= commit_at);
	r.st->ops->close(r.st);
}

/* An enterprise REC_M of S01-G1 by device at version VBASE + v, made
 * from VBASE + base (0: a new record), into a batch of one. */
static void merge_batch(struct wire_batch *b, const char *device, uint64_t seq,
			uint64_t v, uint64_t base, const char *name,
			const char *employees)
{
	struct gb_record *r = gb_record_new(gb_kind_find("enterprise"));
	char uscc[19] = "91330782MA2000921";
	struct gb_buf raw;
	struct gb_err err;

	uscc[17] = gb_uscc_check_char(uscc);
	uscc[18] = '\0';
	snprintf(r->id, sizeof(r->id), "%s", REC_M);
	snprintf(r->grid, sizeof(r->grid), "S01-G1");
	snprintf(r->device, sizeof(r->device), "%s", device);
	snprintf(r->staff, sizeof(r->staff), "S01-W01");
	r->created_at = r->updated_at = 1767225600000;
	r->version = VBASE + v;
	if (base) {
		r->base[0] = VBASE + base;
		r->nbase = 1;
	}
	gb_record_set_name(r, "uscc", uscc);
	gb_record_set_name(r, "name", name);
	gb_record_set_name(r, "type", "company");
	gb_record_set_name(r, "community", "S01-C01");
	gb_record_set_name(r, "employees", employees);
	gb_record_set_name(r, "status", "active");
	memset(b, 0, sizeof(*b));
	snprintf(b->hdr.device, sizeof(b->hdr.device), "%s", device);
	snprintf(b->hdr.grid, sizeof(b->hdr.grid), "S01-G1");
	b->hdr.seq = seq;
	b->items = xcalloc(1, sizeof(*b->items));
	b->n = 1;
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	CHECK_S(wire_record_pack(r, &raw, &err) == 0);
	b->items[0].rec = r;
	snprintf(b->items[0].id, sizeof(b->items[0].id), "%s", r->id);
	b->items[0].version = r->version;
	b->items[0].raw = gb_buf_detach(&raw, &b->items[0].raw_len);
}

struct merger {
	struct store *st;
	struct ingest_req req;
	struct ingest_req *reqs[1];
	int rc;
	struct gb_err err;
};

static void *merging(void *arg)
{
	struct merger *m = arg;

	m->reqs[0] = &m->req;
	m->rc = ingest_apply(m->st, m->reqs, 1, gb_now_ms(), &m->err);
	return NULL;
}

/*
 * Two edits of one record from the same version, at two servers at
 * once, each in its own device's batch: the one that comes second reads
 * the record as the first left it, so the merge keeps both (two heads),
 * instead of each merging with the version before and the later commit
 * taking the place of the other.  Both start together when a third
 * writer lets the grid go.
 */
static void test_merge_across(struct store *st, const char *url)
{
	struct store_device d1 = {DEV_G1,	 "S01-G1", "coordinator", "", 0,
				  1764750200000, 0};
	struct store_device d3 = {DEV_G1B,	 "S01-G1", "coordinator", "", 0,
				  1764750200000, 0};
	unsigned char t3[STORE_HASH_LEN];
	struct store *y = server_open(url, NULL), *z = server_open(url, NULL);
	struct wire_batch b0, b1, b2;
	struct merger m0, m1, m2;
	struct gb_buf a0, a1, a2;
	struct store_current cur;
	struct gb_err err;
	pthread_t t1, t2;

	memset(t3, 0xd3, sizeof(t3));
	memset(&m0, 0, sizeof(m0));
	memset(&m1, 0, sizeof(m1));
	memset(&m2, 0, sizeof(m2));
	gb_buf_init(&a0, 1 << 16);
	gb_buf_init(&a1, 1 << 16);
	gb_buf_init(&a2, 1 << 16);
	merge_batch(&b0, DEV_G1, 41, 1000, 0, "东关精密机械有限公司", "40");
	merge_batch(&b1, DEV_G1, 42, 2000, 1000, "东关精密机械有限公司", "50");
	merge_batch(&b2, DEV_G1B, 1, 3000, 1000, "东关精密机械股份公司", "40");
	CHECK_S(y != NULL && z != NULL);
	if (!y || !z)
		goto out;
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_put(st, &d3, t3, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	m0.st = st;
	m0.req.dev = &d1;
	m0.req.batch = &b0;
	m0.req.ack = &a0;
	merging(&m0);
	CHECK_S(m0.rc == 0 && m0.req.rc == 0);
	m1 = m0;
	m1.req.batch = &b1;
	m1.req.ack = &a1;
	m2.st = y;
	m2.req.dev = &d3;
	m2.req.batch = &b2;
	m2.req.ack = &a2;
	CHECK_S(z->ops->begin(z, &err) == 0);
	CHECK_S(z->ops->grid_lock(z, "S01-G1", &err) == 0);
	CHECK_S(pthread_create(&t1, NULL, merging, &m1) == 0);
	CHECK_S(pthread_create(&t2, NULL, merging, &m2) == 0);
	CHECK_S(lock_waiters(url, 2, 10000)); /* both wait for z */
	CHECK_S(z->ops->commit(z, &err) == 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK_S(m1.rc == 0 && m1.req.rc == 0 && m2.rc == 0 && m2.req.rc == 0);
	memset(&cur, 0, sizeof(cur));
	CHECK_S(st->ops->current_get(st, REC_M, &cur, &err) == 1);
	CHECK_S(cur.version == VBASE + 3000 && cur.nheads == 2);
	if (cur.nheads != 2)
		fprintf(stderr, "  heads: %d\n", cur.nheads);
out:
	if (y)
		y->ops->close(y);
	if (z)
		z->ops->close(z);
	wire_batch_release(&b0);
	wire_batch_release(&b1);
	wire_batch_release(&b2);
	gb_buf_release(&a0);
	gb_buf_release(&a1);
	gb_buf_release(&a2);
}

static int last_seen_of(void *arg, const struct store_device *d)
{
	if (!strcmp(d->id, DEV_G2))
		*(int64_t *)arg = d->last_seen;
	return 0;
}

/* Two instances' writers of a grid take turns, each with the time its
 * group began: the one that waited commits the earlier time last, and
 * the device's last sync stays the later one. */
static void test_seen_order(struct store *st)
{
	int64_t seen = 0, later = gb_now_ms() + 3600000; /* after any so far */
	struct gb_err err;

	struct store_facts *f = NULL;
	struct fact_text t;
	char want[128];

	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_seen(st, DEV_G2, later, 5, 1764740000000,
				     &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_seen(st, DEV_G2, later - 1000, 9, 1764730000000,
				     &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->device_list(st, last_seen_of, &seen, &err) == 0);
	CHECK_S(seen == later);
	/* And what it still had to send is the later sync's too. */
	snprintf(want, sizeof(want),
		 DEV_G2 "|S01-G2|coordinator||5|1764740000000|%lld|;",
		 (long long)later);
	CHECK_S(st->ops->facts_begin(st, &f, &err) == 0 && f);
	if (f) {
		facts_of(st, f, STORE_Q_DEVICES, 0, 0, NULL, &t);
		CHECK_S(strstr(t.buf, want) != NULL);
		if (!strstr(t.buf, want))
			fprintf(stderr, "  devices: %s\n", t.buf);
		st->ops->facts_end(st, f);
	}
}

/* The devices of the tests of several servers, then the tests. */
/*
 * The writer of a serving store on PostgreSQL sends its writes without
 * waiting for them (pipeline mode): a read sees the writes before it; a
 * write that failed (a version held already) fails the savepoint's
 * release, as GB_EBUSY, and rolling back to the savepoint keeps the
 * transaction; more writes than it keeps unread at once go through; a
 * failure just before COMMIT fails the commit; a connection cut in a
 * transaction fails it, and the next one connects again.  current_prefetch
 * answers current_get for records with a current row and without, a record
 * given one since included.
 */
static void test_pipeline(const char *url)
{
	static const char *const ids[] = {
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d01", /* new, given a row */
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d02", /* new, many versions */
	    REC_1,				    /* has a row */
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d01", /* twice in the batch */
	    "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1d03", /* new, then changed */
	};
	struct gb_record *held = enterprise(100), *n1 = enterprise(1),
			 *n2 = enterprise(1), *n3 = enterprise(1);
	struct store_version vh = {held, "raw-1", 5, {0},  "{}", NULL, NULL,
				   NULL, NULL,	  0, NULL, 0,	 0};
	struct store_version v1 = vh, v2 = vh, v3 = vh;
	struct store_current cur;
	struct store *st = NULL;
	unsigned char got[STORE_HASH_LEN];
	struct gb_err err;
	char cmd[1024];
	int ok = 1;

	CHECK_S(store_pg_open(&st, url, STORE_SERVE, &err) == 0);
	if (!st)
		return;
	snprintf(n1->id, sizeof(n1->id), "%s", ids[0]);
	snprintf(n2->id, sizeof(n2->id), "%s", ids[1]);
	v1.rec = n1;
	v2.rec = n2;
	v3.rec = n3;
	memset(v1.hash, 0x31, sizeof(v1.hash));
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->current_prefetch(st, ids, 4, &err) == 0);
	CHECK_S(st->ops->current_get(st, ids[0], &cur, &err) == 0);
	CHECK_S(st->ops->current_get(st, REC_1, &cur, &err) == 1 &&
		cur.version == 200);
	CHECK_S(st->ops->history_put(st, &v1, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v1, &err) == 0);
	CHECK_S(st->ops->current_get(st, ids[0], &cur, &err) == 1 &&
		cur.version == 1 && !strcmp(cur.kind, "enterprise"));
	CHECK_S(st->ops->current_get(st, ids[1], &cur, &err) == 0);
	CHECK_S(st->ops->release(st, &err) == 0);

	/* New, then changed, in one batch: its row is added, then
	 * replaced, both sent at the release. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->current_prefetch(st, &ids[4], 1, &err) == 0);
	snprintf(n3->id, sizeof(n3->id), "%s", ids[4]);
	CHECK_S(st->ops->history_put(st, &v3, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v3, &err) == 0);
	n3->version = 2;
	CHECK_S(st->ops->history_put(st, &v3, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v3, &err) == 0);
	CHECK_S(st->ops->release(st, &err) == 0);
	CHECK_S(st->ops->current_get(st, ids[4], &cur, &err) == 1 &&
		cur.version == 2);

	/* A version held already: its key fails the write, which the
	 * release tells. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	(void)st->ops->history_put(st, &vh, &err);
	err.code = GB_OK;
	CHECK_S(st->ops->release(st, &err) == -1 && err.code == GB_EBUSY);
	CHECK_S(st->ops->rollback_to(st) == 0);
	CHECK_S(st->ops->current_get(st, ids[0], &cur, &err) == 1);

	/* The same, told first by a look-up: every call after it tells the
	 * first failure (not that the transaction was aborted), and the
	 * savepoint still undoes it. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	(void)st->ops->history_put(st, &vh, &err);
	err.code = GB_OK;
	CHECK_S(st->ops->find(st, "S01-G1", GB_REF_STAFF, "S01-W01", NULL, NULL,
			      0, &err) == -1 &&
		err.code == GB_EBUSY);
	err.code = GB_OK;
	CHECK_S(st->ops->current_get(st, ids[1], &cur, &err) == -1 &&
		err.code == GB_EBUSY);
	err.code = GB_OK;
	CHECK_S(st->ops->release(st, &err) == -1 && err.code == GB_EBUSY);
	CHECK_S(st->ops->rollback_to(st) == 0);
	CHECK_S(st->ops->current_get(st, ids[0], &cur, &err) == 1);

	/* Many more writes than are sent unread at once. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	for (uint64_t i = 1; ok && i <= 700; i++) {
		n2->version = i;
		ok = st->ops->history_put(st, &v2, &err) == 0;
	}
	CHECK_S(ok);
	CHECK_S(st->ops->current_put(st, &v2, &err) == 0);
	CHECK_S(st->ops->release(st, &err) == 0);

	/* Counters go as rows of one statement a table: the same counter
	 * twice in a savepoint, then again in the next one, and one in a
	 * savepoint undone; a key of the same codes in another order is
	 * another counter. */
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	for (int i = 0; i < 3; i++)
		CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20600,
					     "S01-A01", "S01-P01", 1,
					     &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20600,
				     "S01-P01", "S01-A01", 5, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_DAILY, "S01-G1", 20600,
				     "S01-P01", NULL, 2, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_DAILY, "S01-G1", 20601,
				     "S01-P01", NULL, 4, &err) == 0);
	CHECK_S(st->ops->release(st, &err) == 0);
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_NIGHT, "S01-G1", 20600,
				     "S01-A01", "S01-P01", 10, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_DAILY, "S01-G1", 20601,
				     "S01-P01", NULL, -4, &err) == 0);
	CHECK_S(st->ops->release(st, &err) == 0);
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->counter_add(st, STORE_C_DAILY, "S01-G1", 20600,
				     "S01-P01", NULL, 100, &err) == 0);
	CHECK_S(st->ops->rollback_to(st) == 0);
	CHECK_S(counter(st, STORE_C_NIGHT, 20600, "S01-A01", "S01-P01") == 13);
	CHECK_S(counter(st, STORE_C_NIGHT, 20600, "S01-P01", "S01-A01") == 5);
	CHECK_S(counter(st, STORE_C_DAILY, 20600, "S01-P01", NULL) == 2);
	CHECK_S(counter(st, STORE_C_DAILY, 20601, "S01-P01", NULL) == -1);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->version_get(st, ids[1], 700, DEV_A, got, &err) == 1);
	CHECK_S(st->ops->version_get(st, ids[1], 1, DEV_A, got, &err) == 1);

	/* A failure just before COMMIT: the COMMIT was not run, so the
	 * group may be run again (GB_EBUSY, not "may have committed"). */
	CHECK_S(st->ops->begin(st, &err) == 0);
	(void)st->ops->history_put(st, &vh, &err);
	err.code = GB_OK;
	CHECK_S(st->ops->commit(st, &err) == -1 && err.code == GB_EBUSY);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->current_get(st, ids[1], &cur, &err) == 1 &&
		cur.version == 700);
	CHECK_S(st->ops->commit(st, &err) == 0);

	/* The writer's connection cut in the middle of a transaction (as
	 * by a restart of PostgreSQL): the transaction fails as passing,
	 * and the next one connects again and prepares its statements
	 * again. */
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->savepoint(st, &err) == 0);
	CHECK_S(st->ops->current_get(st, ids[0], &cur, &err) == 1);
	snprintf(cmd, sizeof(cmd),
		 "psql -X -q -t '%s' -c \"SELECT pg_terminate_backend(pid) "
		 "FROM pg_stat_activity WHERE datname = current_database() "
		 "AND pid <> pg_backend_pid()\" >/dev/null",
		 url);
	CHECK_S(system(cmd) == 0);
	n1->version = 2;
	(void)st->ops->history_put(st, &v1, &err);
	err.code = GB_OK;
	CHECK_S(st->ops->release(st, &err) == -1 && err.code == GB_EBUSY);
	st->ops->rollback(st);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->history_put(st, &v1, &err) == 0);
	CHECK_S(st->ops->current_put(st, &v1, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->current_get(st, ids[0], &cur, &err) == 1 &&
		cur.version == 2);
	CHECK_S(st->ops->commit(st, &err) == 0);

	st->ops->close(st);
	gb_record_free(held);
	gb_record_free(n1);
	gb_record_free(n2);
	gb_record_free(n3);
}

static void test_servers(struct store *st, const char *url)
{
	struct store_device d1 = {DEV_G1,	 "S01-G1", "coordinator", "", 0,
				  1764750200000, 0};
	struct store_device d2 = {DEV_G2,	 "S01-G2", "coordinator", "", 0,
				  1764750200000, 0};
	unsigned char t1[STORE_HASH_LEN], t2[STORE_HASH_LEN];
	struct gb_err err;

	memset(t1, 0xd1, sizeof(t1));
	memset(t2, 0xd2, sizeof(t2));
	CHECK_S(st->ops->begin(st, &err) == 0);
	CHECK_S(st->ops->device_put(st, &d1, t1, &err) == 0);
	CHECK_S(st->ops->device_put(st, &d2, t2, &err) == 0);
	CHECK_S(st->ops->commit(st, &err) == 0);
	test_grid_turns(st, url);
	test_deadlock(st, url);
	test_group_again(st, url);
	test_watch(st, url);
	test_held_elsewhere(st, url);
	test_seen_order(st);
	test_rebuild_waits(st, url);
	test_merge_across(st, url);
}

static void run_all(struct store *st, const char *name)
{
	which = name;
	test_ops_complete(st);
	test_find_key(st);
	test_reference(st);
	test_devices(st);
	test_records(st);
	test_changes(st);
	test_merge_ops(st);
	test_conflict_pages(st);
	test_heads(st);
	test_ids_in_turn(st);
	test_audit(st);
	/* The reads first: they hold the devices' and the day counts' state
	 * as the tests before left it, which rollup's batches change. */
	test_fact_reads(st);
	test_facts(st);
	test_rollup(st);
	test_ref_cache(st);
}

int main(void)
{
	const char *pg = getenv("GRIDBOOK_TEST_PG");
	struct store *st = NULL;
	struct gb_err err;

	if (gb_crypto_init() < 0)
		return 1;
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	CHECK(store_sqlite_open(&st, ":memory:", STORE_ADMIN, &err) == 0);
	if (st) {
		run_all(st, "SQLite");
		st->ops->close(st);
	}
	if (pg && *pg) {
		st = NULL;
		CHECK(store_pg_open(&st, pg, STORE_ADMIN, &err) == 0);
		if (!st)
			fprintf(stderr, "%s\n", err.msg);
		if (st) {
			run_all(st, "PostgreSQL");
			test_ref_cache_other(st, pg);
			test_race(st, pg);
			test_servers(st, pg);
			st->ops->close(st);
			test_serve_readers(pg);
			test_pipeline(pg);
		}
	}
	return check_done();
}

/*
 * The ingest rules through the store interface, on a temporary SQLite
 * store loaded with the reference district: accepted, duplicate, stale,
 * conflict and rejected records; a batch applied twice giving the same ack
 * byte for byte and storing nothing more; a group of batches in one
 * transaction where a later batch refers to an enterprise sent by an
 * earlier one; a reused sequence number failing alone; access rules (a
 * batch refused whole, a record refused alone and audited);
 * change pages; tokens; the writer thread.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"
#include "gbtime.h"
#include "ingest.h"
#include "reports.h"
#include "seed.h"
#include "store.h"
#include "uscc.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define GRID "S01-G1"
#define DEV_C "01900000-0000-7000-8000-0000000000c1"
#define DEV_O "01900000-0000-7000-8000-0000000000f1"
/* Second laptops of the grid's coordinator and of an officer. */
#define DEV_C2 "01900000-0000-7000-8000-0000000000c2"
#define DEV_O2 "01900000-0000-7000-8000-0000000000f2"

/* Enterprise names. */
#define N_HENGDA "望川区恒达机械有限公司"
#define N_BADCODE "望川区错码商贸有限公司"
#define N_OTHER "望川区另一个名字有限公司"
#define N_HENGDA2 "望川区恒达机械股份有限公司"
#define N_HENGDA0 "望川区恒达机械旧名有限公司"
#define N_XINYUAN "望川区鑫源纺织有限公司"
#define N_REUSED "望川区复用序号有限公司"
#define N_CHENGUANG "望川区晨光电子有限公司"
#define N_NODEV "望川区无设备有限公司"
#define N_PARALLEL "望川区并发测试有限公司"

/* Versions count from 2026-01-01T00:00Z, within the bounds HQ keeps
 * (gb_hlc_bounds); the tests name them by what they add to it. */
#define VBASE ((uint64_t)INT64_C(1767225600000) << 16)

static char dir[64];
static char path[128];
static int64_t now;

static const struct store_device coord = {DEV_C, GRID, "coordinator", "test", 0,
					  0,	 0};
static const struct store_device officer = {DEV_O, GRID, "officer", "test",
					    0,	   0,	 0};
static const struct store_device coord2 = {
    DEV_C2, GRID, "coordinator", "test", 0, 0, 0};
static const struct store_device officer2 = {DEV_O2, GRID, "officer", "test",
					     0,	     0,	   0};

static void rec_id(int n, char *out)
{
	snprintf(out, GB_ID_LEN, "0190a000-0000-7000-8000-%012d", n);
}

static void common(struct gb_record *r, int n, uint64_t version,
		   const char *device, const char *staff)
{
	rec_id(n, r->id);
	snprintf(r->grid, sizeof(r->grid), "%s", GRID);
	snprintf(r->device, sizeof(r->device), "%s", device);
	snprintf(r->staff, sizeof(r->staff), "%s", staff);
	r->created_at = now - 3600000;
	r->updated_at = now - 3600000;
	r->version = VBASE + version;
}

static struct gb_record *enterprise(int n, uint64_t version, const char *name,
				    int valid_uscc)
{
	struct gb_record *r = gb_record_new(gb_kind_find("enterprise"));
	char uscc[19];

	/* Each enterprise its own code: HQ refuses a second current
	 * enterprise of a grid with the same one. */
	snprintf(uscc, sizeof(uscc), "91330782MA2%06d", n % 1000000);
	uscc[17] = gb_uscc_check_char(uscc);
	if (!valid_uscc)
		uscc[17] = uscc[17] == '0' ? '1' : '0';
	uscc[18] = '\0';
	common(r, n, version, DEV_C, "K0001");
	gb_record_set_name(r, "uscc", uscc);
	gb_record_set_name(r, "name", name);
	gb_record_set_name(r, "type", "company");
	gb_record_set_name(r, "community", "S01-C01");
	gb_record_set_name(r, "employees", "40");
	gb_record_set_name(r, "status", "active");
	return r;
}

static struct gb_record *check_of(int n, uint64_t version, int ent,
				  const char *outcome)
{
	struct gb_record *r = gb_record_new(gb_kind_find("contract_check"));
	char eid[GB_ID_LEN];

	rec_id(ent, eid);
	common(r, n, version, DEV_C, "K0001");
	gb_record_set_name(r, "enterprise", eid);
	gb_record_set_name(r, "check_date", "2026-03-10");
	gb_record_set_name(r, "coordinator", "K0001");
	gb_record_set_name(r, "employees_total", "40");
	gb_record_set_name(r, "contracts_signed", "30");
	gb_record_set_name(r, "insured", "28");
	gb_record_set_name(r, "hiring_registered", "35");
	gb_record_set_name(r, "outcome", outcome);
	if (strcmp(outcome, "rectify_order") == 0)
		gb_record_set_name(r, "deadline", "2026-04-10");
	return r;
}

static struct gb_record *rectification_of(int n, int chk)
{
	struct gb_record *r = gb_record_new(gb_kind_find("rectification"));
	char cid[GB_ID_LEN];

	rec_id(chk, cid);
	common(r, n, 100, DEV_C, "K0001");
	gb_record_set_name(r, "check", cid);
	gb_record_set_name(r, "date", "2026-03-11");
	gb_record_set_name(r, "result", "rectified");
	return r;
}

static void batch_init(struct wire_batch *b, const struct store_device *d,
		       uint64_t seq)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->hdr.device, sizeof(b->hdr.device), "%s", d->id);
	snprintf(b->hdr.grid, sizeof(b->hdr.grid), "%s", d->grid);
	b->hdr.seq = seq;
}

/* Appends r (taken) with its packed bytes, as wire_batch_decode would. */
static void batch_add(struct wire_batch *b, struct gb_record *r)
{
	struct wire_item *it;
	struct gb_buf raw;
	struct gb_err err;

	b->items = xrealloc(b->items, (b->n + 1) * sizeof(*b->items));
	it = &b->items[b->n++];
	memset(it, 0, sizeof(*it));
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	CHECK(wire_record_pack(r, &raw, &err) == 0);
	it->rec = r;
	snprintf(it->id, sizeof(it->id), "%s", r->id);
	it->version = r->version;
	it->raw = gb_buf_detach(&raw, &it->raw_len);
}

/* Applies batches as one group; returns the group's result. */
static int apply(struct store *st, struct ingest_req *reqs, size_t n)
{
	struct ingest_req *ptrs[8];
	struct gb_err err;

	for (size_t i = 0; i < n; i++)
		ptrs[i] = &reqs[i];
	return ingest_apply(st, ptrs, n, now, &err);
}

static int apply1(struct store *st, const struct store_device *d,
		  const struct wire_batch *b, struct gb_buf *ack)
{
	struct ingest_req r;

	memset(&r, 0, sizeof(r));
	r.dev = d;
	r.batch = b;
	r.ack = ack;
	if (apply(st, &r, 1) < 0)
		return -1;
	return r.rc;
}

/* The statuses of an ack as letters: A D S R C. */
static void statuses(const struct gb_buf *ack, char *out, size_t n)
{
	static const char letter[] = "?ADSRC";
	struct wire_ack a;
	struct gb_err err;
	size_t i = 0;

	out[0] = '\0';
	if (wire_ack_decode(ack->data, ack->len, &a, &err) < 0) {
		fprintf(stderr, "ack: %s\n", err.msg);
		snprintf(out, n, "undecodable");
		wire_ack_release(&a);
		return;
	}
	for (; i < a.n && i + 1 < n; i++)
		out[i] = letter[a.items[i].status <= 5 ? a.items[i].status : 0];
	out[i] = '\0';
	wire_ack_release(&a);
}

/* The reason_code and reason of ack item i. */
static void reason(const struct gb_buf *ack, size_t i, char *code, char *why,
		   size_t n)
{
	struct wire_ack a;
	struct gb_err err;

	code[0] = why[0] = '\0';
	if (wire_ack_decode(ack->data, ack->len, &a, &err) == 0 && i < a.n) {
		snprintf(code, 32, "%s", a.items[i].reason_code);
		snprintf(why, n, "%s",
			 a.items[i].reason ? a.items[i].reason : "");
	}
	wire_ack_release(&a);
}

static long count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	long n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static void text(const char *sql, char *out, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	out[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void test_rules(struct store *st)
{
	struct wire_batch b1, b2, b3, b4, again;
	struct gb_buf ack, ack2;
	char s[32], code[32], why[256], name[128];

	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	gb_buf_init(&ack2, GB_BUF_NOLIMIT);

	/* A new enterprise, one with a bad USCC, and a check of the first
	 * enterprise in the same batch. */
	batch_init(&b1, &coord, 1);
	batch_add(&b1, enterprise(1, 1000, N_HENGDA, 1));
	batch_add(&b1, enterprise(2, 1000, N_BADCODE, 0));
	batch_add(&b1, check_of(3, 1000, 1, "compliant"));
	CHECK(apply1(st, &coord, &b1, &ack) == 0);
	statuses(&ack, s, sizeof(s));
	CHECK_STR(s, "ARA");
	reason(&ack, 1, code, why, sizeof(why));
	CHECK_STR(code, "invalid");
	CHECK(strstr(why, "uscc") != NULL);
	CHECK(count("SELECT count(*) FROM record_current") == 2);
	CHECK(count("SELECT count(*) FROM record_history") == 2);
	CHECK(count("SELECT count(*) FROM rejection") == 1);
	CHECK(count("SELECT count(*) FROM batch") == 1);
	text("SELECT day || '/' || person || '/' || status FROM "
	     "record_current WHERE kind = 'contract_check'",
	     name, sizeof(name));
	CHECK_STR(name, "2026-03-10/K0001/compliant");

	/* The same batch again: the same ack, byte for byte, and nothing
	 * stored. */
	CHECK(apply1(st, &coord, &b1, &ack2) == 0);
	CHECK(ack.len == ack2.len && memcmp(ack.data, ack2.data, ack.len) == 0);
	CHECK(count("SELECT count(*) FROM record_history") == 2);
	CHECK(count("SELECT count(*) FROM rejection") == 1);

	/* Also when it arrives decoded afresh, as a resend would. */
	batch_init(&again, &coord, 1);
	batch_add(&again, enterprise(1, 1000, N_HENGDA, 1));
	batch_add(&again, enterprise(2, 1000, N_BADCODE, 0));
	batch_add(&again, check_of(3, 1000, 1, "compliant"));
	CHECK(apply1(st, &coord, &again, &ack2) == 0);
	CHECK(ack.len == ack2.len && memcmp(ack.data, ack2.data, ack.len) == 0);

	/* Same id and version: same content is a duplicate, other content a
	 * conflict, set aside and never applied. */
	batch_init(&b2, &coord, 2);
	batch_add(&b2, enterprise(1, 1000, N_HENGDA, 1));
	batch_add(&b2, enterprise(1, 1000, N_OTHER, 1));
	CHECK(apply1(st, &coord, &b2, &ack) == 0);
	statuses(&ack, s, sizeof(s));
	CHECK_STR(s, "DC");
	reason(&ack, 1, code, why, sizeof(why));
	CHECK_STR(code, "conflict");
	CHECK(count("SELECT count(*) FROM conflict") == 1);
	text("SELECT json_extract(body, '$.name') FROM record_current "
	     "WHERE kind = 'enterprise'",
	     name, sizeof(name));
	CHECK_STR(name, N_HENGDA);

	/* A newer version becomes current; an older one arriving later goes
	 * to history only. */
	batch_init(&b3, &coord, 3);
	batch_add(&b3, enterprise(1, 3000, N_HENGDA2, 1));
	CHECK(apply1(st, &coord, &b3, &ack) == 0);
	statuses(&ack, s, sizeof(s));
	CHECK_STR(s, "A");
	batch_init(&b4, &coord, 4);
	batch_add(&b4, enterprise(1, 2000, N_HENGDA0, 1));
	CHECK(apply1(st, &coord, &b4, &ack) == 0);
	statuses(&ack, s, sizeof(s));
	CHECK_STR(s, "S");
	text("SELECT json_extract(body, '$.name') || '/' || (version & 65535) "
	     "FROM "
	     "record_current WHERE kind = 'enterprise'",
	     name, sizeof(name));
	CHECK_STR(name, N_HENGDA2 "/3000");
	CHECK(count("SELECT count(*) FROM record_history WHERE kind = "
		    "'enterprise'") == 3);

	wire_batch_release(&b1);
	wire_batch_release(&again);
	wire_batch_release(&b2);
	wire_batch_release(&b3);
	wire_batch_release(&b4);
	gb_buf_release(&ack);
	gb_buf_release(&ack2);
}

static void test_group(struct store *st)
{
	struct wire_batch b5, b6, reused, b7, b8;
	struct gb_buf a5, a6, ar, a7, a8;
	struct ingest_req reqs[3];
	struct store_audit audit = {.at = now,
				    .device = DEV_C,
				    .grid = GRID,
				    .action = "test",
				    .status = 403,
				    .detail = "细节",
				    .remote = ""};
	char s[32], code[32], why[256];
	long hist = count("SELECT count(*) FROM record_history");

	gb_buf_init(&a5, GB_BUF_NOLIMIT);
	gb_buf_init(&a6, GB_BUF_NOLIMIT);
	gb_buf_init(&ar, GB_BUF_NOLIMIT);
	gb_buf_init(&a7, GB_BUF_NOLIMIT);
	gb_buf_init(&a8, GB_BUF_NOLIMIT);

	/* The check in batch 6 refers to the enterprise of batch 5, both in
	 * one transaction. */
	batch_init(&b5, &coord, 5);
	batch_add(&b5, enterprise(10, 1000, N_XINYUAN, 1));
	batch_init(&b6, &coord, 6);
	batch_add(&b6, check_of(11, 1000, 10, "rectify_order"));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = &coord;
	reqs[0].batch = &b5;
	reqs[0].ack = &a5;
	reqs[1].batch = &b6;
	reqs[1].ack = &a6;
	reqs[2].audit = &audit;
	CHECK(apply(st, reqs, 3) == 0);
	CHECK(reqs[0].rc == 0 && reqs[1].rc == 0 && reqs[2].rc == 0);
	statuses(&a5, s, sizeof(s));
	CHECK_STR(s, "A");
	statuses(&a6, s, sizeof(s));
	CHECK_STR(s, "A");
	CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'test'") ==
	      1);

	/* A reused sequence number with other records fails alone; the
	 * batch beside it in the group commits. */
	batch_init(&reused, &coord, 1);
	batch_add(&reused, enterprise(12, 1000, N_REUSED, 1));
	batch_init(&b7, &coord, 7);
	batch_add(&b7, rectification_of(13, 11));
	batch_add(&b7, rectification_of(14, 3));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = &coord;
	reqs[0].batch = &reused;
	reqs[0].ack = &ar;
	reqs[1].batch = &b7;
	reqs[1].ack = &a7;
	CHECK(apply(st, reqs, 2) == 0);
	CHECK(reqs[0].rc == -1 && reqs[0].err.code == GB_ECONFLICT);
	CHECK(ar.len == 0);
	CHECK(reqs[1].rc == 0);
	/* A follow-up of the rectify order is accepted; one of a compliant
	 * check is refused, by a rule that reads the check from the store. */
	statuses(&a7, s, sizeof(s));
	CHECK_STR(s, "AR");
	reason(&a7, 1, code, why, sizeof(why));
	CHECK(strstr(why, "compliant") != NULL);
	CHECK(count("SELECT count(*) FROM record_current WHERE id = "
		    "X'0190a000000070008000000000000012'") == 0);
	CHECK(count("SELECT count(*) FROM record_history") == hist + 3);

	/* A record that could not be decoded is refused with its reason, and
	 * one without a device too; the rest of the batch applies. */
	batch_init(&b8, &coord, 8);
	batch_add(&b8, enterprise(15, 1000, N_CHENGUANG, 1));
	b8.items = xrealloc(b8.items, 3 * sizeof(*b8.items));
	memset(&b8.items[1], 0, sizeof(b8.items[1]));
	rec_id(16, b8.items[1].id);
	b8.items[1].version = 5;
	b8.items[1].code = GB_EPROTO;
	snprintf(b8.items[1].reason, sizeof(b8.items[1].reason),
		 "type: unknown value 9");
	b8.n = 2;
	batch_add(&b8, enterprise(17, 1000, N_NODEV, 1));
	b8.items[2].rec->device[0] = '\0';
	CHECK(apply1(st, &coord, &b8, &a8) == 0);
	statuses(&a8, s, sizeof(s));
	CHECK_STR(s, "ARR");
	reason(&a8, 1, code, why, sizeof(why));
	CHECK_STR(code, "malformed");
	CHECK_STR(why, "type: unknown value 9");

	wire_batch_release(&b5);
	wire_batch_release(&b6);
	wire_batch_release(&reused);
	wire_batch_release(&b7);
	wire_batch_release(&b8);
	gb_buf_release(&a5);
	gb_buf_release(&a6);
	gb_buf_release(&ar);
	gb_buf_release(&a7);
	gb_buf_release(&a8);
}

static struct gb_record *daily_of(int n, const char *device)
{
	struct gb_record *r = gb_record_new(gb_kind_find("daily_report"));

	common(r, n, 1000, device, "J0002");
	gb_record_set_name(r, "officer", "J0002");
	gb_record_set_name(r, "date", "2026-03-11");
	gb_record_set_name(r, "households", "12");
	gb_record_set_name(r, "resident_checks", "5");
	gb_record_set_name(r, "temporary_checks", "3");
	gb_record_set_name(r, "key_checks", "1");
	gb_record_set_name(r, "places", "4");
	gb_record_set_name(r, "disputes_mediated", "1");
	gb_record_set_name(r, "summary", "走访和平社区商户，调解邻里纠纷一起");
	return r;
}

/* The batch-level checks of ingest_check: a refusal there is a 403 for
 * the whole batch. */
static void test_access_batch(void)
{
	struct store_device viewer = coord, other = coord;
	struct wire_batch b;
	struct gb_err err;

	snprintf(viewer.role, sizeof(viewer.role), "viewer");
	snprintf(other.grid, sizeof(other.grid), "S01-G2");

	batch_init(&b, &coord, 9);
	batch_add(&b, enterprise(20, 1000, "望川区测试有限公司", 1));
	CHECK(ingest_check(&coord, &b, &err) == 0);
	/* What a record may be is not checked here any more: a policing
	 * record in a coordinator's batch is refused alone when applied. */
	batch_add(&b, daily_of(21, DEV_C));
	CHECK(ingest_check(&coord, &b, &err) == 0);
	/* The header names another device than the token's. */
	CHECK(ingest_check(&officer, &b, &err) == -1 &&
	      err.code == GB_EFORBIDDEN && strstr(err.msg, DEV_C));
	/* The header's grid is not the device's. */
	CHECK(ingest_check(&other, &b, &err) == -1 &&
	      err.code == GB_EFORBIDDEN && strstr(err.msg, "S01-G2"));
	/* A viewer sends nothing. */
	CHECK(ingest_check(&viewer, &b, &err) == -1 &&
	      err.code == GB_EFORBIDDEN && strstr(err.msg, "viewer"));
	wire_batch_release(&b);
}

/*
 * Records a device may not write -- a kind of the other role, another
 * grid, another author device -- are refused one by one, with reason
 * "forbidden" and an entry in the audit log, and the rest of the batch
 * applies; so one such record cannot block a device's queue.
 */
static void test_access_records(struct store *st)
{
	struct wire_batch b, again, bo;
	struct gb_buf ack, ack2, ao;
	char s[32], code[32], why[256], id[GB_ID_LEN];
	struct gb_err err;
	long audits = count("SELECT count(*) FROM audit_log WHERE action = "
			    "'batch'");
	long rejections = count("SELECT count(*) FROM rejection");
	long current = count("SELECT count(*) FROM record_current");

	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	gb_buf_init(&ack2, GB_BUF_NOLIMIT);
	gb_buf_init(&ao, GB_BUF_NOLIMIT);

	batch_init(&b, &coord, 9);
	batch_add(&b, enterprise(30, 1000, "望川区华美服饰有限公司", 1));
	batch_add(&b, daily_of(31, DEV_C));
	batch_add(&b, enterprise(32, 1000, "望川区他机商贸有限公司", 1));
	snprintf(b.items[2].rec->device, GB_ID_LEN, "%s", DEV_O);
	batch_add(&b, enterprise(33, 1000, "望川区邻格建材有限公司", 1));
	snprintf(b.items[3].rec->grid, GB_CODE_LEN, "S01-G2");
	batch_add(&b, enterprise(34, 1000, "望川区无网格物流有限公司", 1));
	b.items[4].rec->grid[0] = '\0';
	batch_add(&b, check_of(35, 1000, 30, "compliant"));
	CHECK(ingest_check(&coord, &b, &err) == 0);
	CHECK(apply1(st, &coord, &b, &ack) == 0);
	statuses(&ack, s, sizeof(s));
	CHECK_STR(s, "ARRRRA");

	rec_id(31, id);
	reason(&ack, 1, code, why, sizeof(why));
	CHECK_STR(code, "forbidden");
	CHECK(strstr(why, id) != NULL);
	CHECK(strstr(why, "a coordinator's device may not write daily_report "
			  "records") != NULL);
	reason(&ack, 2, code, why, sizeof(why));
	CHECK_STR(code, "forbidden");
	CHECK(strstr(why, "written by device " DEV_O) != NULL);
	reason(&ack, 3, code, why, sizeof(why));
	CHECK_STR(code, "forbidden");
	CHECK(strstr(why, "belongs to grid " GRID ", not S01-G2") != NULL);
	reason(&ack, 4, code, why, sizeof(why));
	CHECK_STR(code, "malformed");
	CHECK(strstr(why, "grid") != NULL);

	/* The good records are current, the refused ones logged; each
	 * forbidden one has its audit entry, naming the record. */
	CHECK(count("SELECT count(*) FROM record_current") == current + 2);
	CHECK(count("SELECT count(*) FROM rejection") == rejections + 4);
	CHECK(count("SELECT count(*) FROM rejection WHERE code = "
		    "'forbidden'") == 3);
	CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'batch'") ==
	      audits + 3);
	CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'batch' "
		    "AND status = 403 AND hex(device) = upper(replace('" DEV_C
		    "', '-', '')) AND detail = 'batch 9: record "
		    "0190a000-0000-7000-8000-000000000031: a coordinator''s "
		    "device may not write daily_report records'") == 1);

	/* Sent again, the batch gets the same ack and writes no second
	 * audit entry. */
	batch_init(&again, &coord, 9);
	batch_add(&again, enterprise(30, 1000, "望川区华美服饰有限公司", 1));
	batch_add(&again, daily_of(31, DEV_C));
	batch_add(&again, enterprise(32, 1000, "望川区他机商贸有限公司", 1));
	snprintf(again.items[2].rec->device, GB_ID_LEN, "%s", DEV_O);
	batch_add(&again, enterprise(33, 1000, "望川区邻格建材有限公司", 1));
	snprintf(again.items[3].rec->grid, GB_CODE_LEN, "S01-G2");
	batch_add(&again, enterprise(34, 1000, "望川区无网格物流有限公司", 1));
	again.items[4].rec->grid[0] = '\0';
	batch_add(&again, check_of(35, 1000, 30, "compliant"));
	CHECK(apply1(st, &coord, &again, &ack2) == 0);
	CHECK(ack.len == ack2.len && memcmp(ack.data, ack2.data, ack.len) == 0);
	CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'batch'") ==
	      audits + 3);
	CHECK(count("SELECT count(*) FROM rejection") == rejections + 4);

	/* An officer's device: its daily report goes in, a labour record
	 * beside it is refused. */
	batch_init(&bo, &officer, 1);
	batch_add(&bo, enterprise(36, 1000, "望川区警送商贸有限公司", 1));
	snprintf(bo.items[0].rec->device, GB_ID_LEN, "%s", DEV_O);
	batch_add(&bo, daily_of(37, DEV_O));
	CHECK(apply1(st, &officer, &bo, &ao) == 0);
	statuses(&ao, s, sizeof(s));
	CHECK_STR(s, "RA");
	reason(&ao, 0, code, why, sizeof(why));
	CHECK_STR(code, "forbidden");
	CHECK(strstr(why, "an officer's device may not write enterprise "
			  "records") != NULL);
	CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'batch'") ==
	      audits + 4);
	CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'batch' "
		    "AND status = 403 AND grid = '" GRID "' AND hex(device) = "
		    "upper(replace('" DEV_O "', '-', ''))") == 1);

	wire_batch_release(&b);
	wire_batch_release(&again);
	wire_batch_release(&bo);
	gb_buf_release(&ack);
	gb_buf_release(&ack2);
	gb_buf_release(&ao);
}

static void test_changes(struct store *st)
{
	struct store_changes ch;
	struct gb_err err;
	long hist = count("SELECT count(*) FROM record_history WHERE grid = "
			  "'" GRID "'");
	long maxseq = count("SELECT max(seq) FROM record_history");
	uint64_t ref;

	/* The officer's device gets the grid's reference data and every
	 * version the coordinator's device sent. */
	CHECK(st->ops->changes(st, GRID, 0, 0, DEV_O, 500, 1 << 20, &ch,
			       &err) == 0);
	CHECK(ch.with_ref == 1);
	CHECK(ch.page.ncommunities == 5);
	CHECK(ch.page.nareas == 2);
	CHECK(ch.page.nareas == 2 && ch.page.areas[0].ncommunities >= 2);
	CHECK(ch.page.nstaff > 5);
	CHECK((long)ch.page.n == hist);
	CHECK(ch.page.more == 0);
	CHECK((long)ch.next_seq == maxseq);
	ref = ch.ref_version;
	store_changes_release(&ch);

	/* From that cursor on: nothing new, no reference data. */
	CHECK(st->ops->changes(st, GRID, ref, (uint64_t)maxseq, DEV_O, 500,
			       1 << 20, &ch, &err) == 0);
	CHECK(ch.with_ref == 0 && ch.page.n == 0 && ch.page.ncommunities == 0);
	store_changes_release(&ch);

	/* In pages of two. */
	CHECK(st->ops->changes(st, GRID, ref, 0, DEV_O, 2, 1 << 20, &ch,
			       &err) == 0);
	CHECK(ch.page.n == 2 && ch.page.more == 1);
	CHECK(ch.page.raw && ch.page.raw_len[0] > 0);
	store_changes_release(&ch);

	/* Its own versions are not sent back to a device, but the cursor
	 * moves past them. */
	CHECK(st->ops->changes(st, GRID, ref, 0, DEV_C, 500, 1 << 20, &ch,
			       &err) == 0);
	CHECK(ch.page.n == 0 && ch.page.more == 0);
	CHECK((long)ch.next_seq == maxseq);
	store_changes_release(&ch);

	/* Another grid sees none of it. */
	CHECK(st->ops->changes(st, "S01-G2", ref, 0, NULL, 500, 1 << 20, &ch,
			       &err) == 0);
	CHECK(ch.page.n == 0);
	store_changes_release(&ch);
}

static void test_tokens(struct store *st)
{
	struct store_device d = officer, got;
	unsigned char hash[STORE_HASH_LEN];
	char token[AUTH_TOKEN_LEN], header[AUTH_TOKEN_LEN + 16];
	struct gb_err err;

	auth_token_new(token, hash);
	CHECK(strlen(token) == 43);
	d.created_at = now;
	CHECK(st->ops->begin(st, &err) == 0);
	CHECK(st->ops->device_put(st, &d, hash, &err) == 0);
	CHECK(st->ops->commit(st, &err) == 0);
	snprintf(header, sizeof(header), "Bearer %s", token);
	CHECK(auth_bearer(st, header, &got, &err) == 0);
	CHECK_STR(got.id, DEV_O);
	CHECK_STR(got.role, "officer");
	CHECK(auth_bearer(st, NULL, &got, &err) == -1 && err.code == GB_EAUTH);
	CHECK(auth_bearer(st, "Bearer nonsense", &got, &err) == -1 &&
	      err.code == GB_EAUTH);
	header[10] = header[10] == 'A' ? 'B' : 'A';
	CHECK(auth_bearer(st, header, &got, &err) == -1 &&
	      err.code == GB_EAUTH);
	header[10] = token[3];
	CHECK(st->ops->begin(st, &err) == 0);
	CHECK(st->ops->device_revoke(st, DEV_O, now, &err) == 0);
	CHECK(st->ops->commit(st, &err) == 0);
	CHECK(auth_bearer(st, header, &got, &err) == -1 &&
	      err.code == GB_EAUTH && strstr(err.msg, "revoked"));
	CHECK(st->ops->begin(st, &err) == 0);
	CHECK(st->ops->device_revoke(st, "01900000-0000-7000-8000-00000000dead",
				     now, &err) == -1 &&
	      err.code == GB_ENOTFOUND);
	st->ops->rollback(st);
}

struct poster {
	struct ingest *ing;
	uint64_t seq;
	int n;
	int rc;
	char statuses[8];
};

static void *post_thread(void *arg)
{
	struct poster *p = arg;
	struct wire_batch b;
	struct gb_buf ack;
	struct gb_err err;

	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	batch_init(&b, &coord, p->seq);
	batch_add(&b, enterprise(p->n, 1000, N_PARALLEL, 1));
	p->rc = ingest_batch(p->ing, &coord, &b, &ack, &err);
	if (p->rc == 0)
		statuses(&ack, p->statuses, sizeof(p->statuses));
	wire_batch_release(&b);
	gb_buf_release(&ack);
	return NULL;
}

/* Batches that name the batch they follow (hdr.after) are applied after
 * it, whatever order they come in; one whose predecessor is not there
 * waits (rc 1) and changes nothing. */
static void test_after(struct store *st)
{
	struct wire_batch b20, b21, b22, b23, b24, b24x, b25;
	struct gb_buf a20, a21, a22, a23, a24, a24x, a25;
	struct ingest_req reqs[2];
	char s[32];
	long hist;

	gb_buf_init(&a20, GB_BUF_NOLIMIT);
	gb_buf_init(&a21, GB_BUF_NOLIMIT);
	gb_buf_init(&a22, GB_BUF_NOLIMIT);
	gb_buf_init(&a23, GB_BUF_NOLIMIT);
	gb_buf_init(&a24, GB_BUF_NOLIMIT);
	gb_buf_init(&a24x, GB_BUF_NOLIMIT);
	gb_buf_init(&a25, GB_BUF_NOLIMIT);

	/* 21 (a check of the enterprise in 20) comes first in the group. */
	batch_init(&b20, &coord, 20);
	batch_add(&b20, enterprise(40, 1000, N_XINYUAN "二厂", 1));
	batch_init(&b21, &coord, 21);
	b21.hdr.after = 20;
	batch_add(&b21, check_of(41, 1000, 40, "compliant"));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = &coord;
	reqs[0].batch = &b21;
	reqs[0].ack = &a21;
	reqs[1].batch = &b20;
	reqs[1].ack = &a20;
	CHECK(apply(st, reqs, 2) == 0);
	CHECK(reqs[0].rc == 0 && reqs[1].rc == 0);
	statuses(&a20, s, sizeof(s));
	CHECK_STR(s, "A");
	statuses(&a21, s, sizeof(s));
	CHECK_STR(s, "A");

	/* 23 follows 22, which has not come: it waits, nothing stored. */
	hist = count("SELECT count(*) FROM record_history");
	batch_init(&b23, &coord, 23);
	b23.hdr.after = 22;
	batch_add(&b23, check_of(43, 1000, 42, "compliant"));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = &coord;
	reqs[0].batch = &b23;
	reqs[0].ack = &a23;
	CHECK(apply(st, reqs, 1) == 0);
	CHECK(reqs[0].rc == 1 && a23.len == 0);
	CHECK(count("SELECT count(*) FROM record_history") == hist);
	CHECK(count("SELECT count(*) FROM batch WHERE seq = 23") == 0);
	/* Held, it goes with 22 in the next group. */
	batch_init(&b22, &coord, 22);
	batch_add(&b22, enterprise(42, 1000, N_XINYUAN "三厂", 1));
	reqs[1].dev = &coord;
	reqs[1].batch = &b22;
	reqs[1].ack = &a22;
	CHECK(apply(st, reqs, 2) == 0);
	CHECK(reqs[0].rc == 0 && reqs[1].rc == 0);
	statuses(&a23, s, sizeof(s));
	CHECK_STR(s, "A");
	CHECK(count("SELECT count(*) FROM record_history") == hist + 2);

	/* 25 follows 24; the 24 in its group reuses 24's number for other
	 * records and fails, so 25 fails too (the device sends both
	 * again). */
	batch_init(&b24, &coord, 24);
	batch_add(&b24, enterprise(44, 1000, N_XINYUAN "四厂", 1));
	CHECK(apply1(st, &coord, &b24, &a24) == 0);
	batch_init(&b24x, &coord, 24);
	batch_add(&b24x, enterprise(45, 1000, N_XINYUAN "五厂", 1));
	batch_init(&b25, &coord, 25);
	b25.hdr.after = 24;
	batch_add(&b25, enterprise(46, 1000, N_XINYUAN "六厂", 1));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = &coord;
	reqs[0].batch = &b24x;
	reqs[0].ack = &a24x;
	reqs[1].batch = &b25;
	reqs[1].ack = &a25;
	CHECK(apply(st, reqs, 2) == 0);
	CHECK(reqs[0].rc == -1 && reqs[0].err.code == GB_ECONFLICT);
	CHECK(reqs[1].rc == -1 && reqs[1].err.code == GB_EBUSY);
	CHECK(a25.len == 0);
	/* Alone, 25 follows the 24 the store holds. */
	CHECK(apply1(st, &coord, &b25, &a25) == 0);
	statuses(&a25, s, sizeof(s));
	CHECK_STR(s, "A");

	wire_batch_release(&b20);
	wire_batch_release(&b21);
	wire_batch_release(&b22);
	wire_batch_release(&b23);
	wire_batch_release(&b24);
	wire_batch_release(&b24x);
	wire_batch_release(&b25);
	gb_buf_release(&a20);
	gb_buf_release(&a21);
	gb_buf_release(&a22);
	gb_buf_release(&a23);
	gb_buf_release(&a24);
	gb_buf_release(&a24x);
	gb_buf_release(&a25);
}

/*
 * Two copies of one batch at HQ: one from a push given up, held for a
 * batch that never comes (the device built that one again), and one sent
 * again since, naming a batch HQ holds.  The batch after them waits for
 * neither once one of them is applied: in an earlier group, or in its
 * own.
 */
static void test_after_copies(struct store *st)
{
	struct wire_batch b59, b61, b61old, b62, b70, b72, b72old, b73;
	struct gb_buf a59, a61, a61old, a62, a70, a72, a72old, a73;
	struct ingest_req reqs[3];
	char s[32];

	gb_buf_init(&a59, GB_BUF_NOLIMIT);
	gb_buf_init(&a61, GB_BUF_NOLIMIT);
	gb_buf_init(&a61old, GB_BUF_NOLIMIT);
	gb_buf_init(&a62, GB_BUF_NOLIMIT);
	gb_buf_init(&a70, GB_BUF_NOLIMIT);
	gb_buf_init(&a72, GB_BUF_NOLIMIT);
	gb_buf_init(&a72old, GB_BUF_NOLIMIT);
	gb_buf_init(&a73, GB_BUF_NOLIMIT);

	/* 61 applied after 59; its old copy (after 60) still held when 62
	 * comes. */
	batch_init(&b59, &coord, 59);
	batch_add(&b59, enterprise(59, 1000, N_PARALLEL "五十九厂", 1));
	CHECK(apply1(st, &coord, &b59, &a59) == 0);
	batch_init(&b61, &coord, 61);
	b61.hdr.after = 59;
	batch_add(&b61, enterprise(61, 1000, N_PARALLEL "六十一厂", 1));
	CHECK(apply1(st, &coord, &b61, &a61) == 0);
	batch_init(&b61old, &coord, 61);
	b61old.hdr.after = 60;
	batch_add(&b61old, enterprise(61, 1000, N_PARALLEL "六十一厂", 1));
	batch_init(&b62, &coord, 62);
	b62.hdr.after = 61;
	batch_add(&b62, enterprise(62, 1000, N_PARALLEL "六十二厂", 1));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = &coord;
	reqs[0].batch = &b61old;
	reqs[0].ack = &a61old;
	reqs[1].batch = &b62;
	reqs[1].ack = &a62;
	CHECK(apply(st, reqs, 2) == 0);
	CHECK(reqs[0].rc == 1);
	CHECK(reqs[1].rc == 0);
	statuses(&a62, s, sizeof(s));
	CHECK_STR(s, "A");
	ingest_req_release(&reqs[0]);
	ingest_req_release(&reqs[1]);

	/* The same with the new copy of 72 in the group. */
	batch_init(&b70, &coord, 70);
	batch_add(&b70, enterprise(70, 1000, N_PARALLEL "七十厂", 1));
	CHECK(apply1(st, &coord, &b70, &a70) == 0);
	batch_init(&b72old, &coord, 72);
	b72old.hdr.after = 71;
	batch_add(&b72old, enterprise(72, 1000, N_PARALLEL "七十二厂", 1));
	batch_init(&b72, &coord, 72);
	b72.hdr.after = 70;
	batch_add(&b72, enterprise(72, 1000, N_PARALLEL "七十二厂", 1));
	batch_init(&b73, &coord, 73);
	b73.hdr.after = 72;
	batch_add(&b73, enterprise(73, 1000, N_PARALLEL "七十三厂", 1));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = reqs[2].dev = &coord;
	reqs[0].batch = &b72old;
	reqs[0].ack = &a72old;
	reqs[1].batch = &b72;
	reqs[1].ack = &a72;
	reqs[2].batch = &b73;
	reqs[2].ack = &a73;
	CHECK(apply(st, reqs, 3) == 0);
	CHECK(reqs[0].rc == 1);
	CHECK(reqs[1].rc == 0 && reqs[2].rc == 0);
	statuses(&a73, s, sizeof(s));
	CHECK_STR(s, "A");
	CHECK(count("SELECT count(*) FROM batch WHERE seq IN (72, 73)") == 2);
	for (int i = 0; i < 3; i++)
		ingest_req_release(&reqs[i]);

	/* A copy of 72 with other records (a restored file): 74, before
	 * it in the group, is not applied after the 72 the store holds,
	 * but refused with it. */
	wire_batch_release(&b72old);
	wire_batch_release(&b73);
	batch_init(&b72old, &coord, 72);
	batch_add(&b72old, enterprise(75, 1000, N_PARALLEL "七十五厂", 1));
	batch_init(&b73, &coord, 74);
	b73.hdr.after = 72;
	batch_add(&b73, enterprise(74, 1000, N_PARALLEL "七十四厂", 1));
	gb_buf_reset(&a72old);
	gb_buf_reset(&a73);
	memset(reqs, 0, sizeof(reqs));
	reqs[0].dev = reqs[1].dev = &coord;
	reqs[0].batch = &b73;
	reqs[0].ack = &a73;
	reqs[1].batch = &b72old;
	reqs[1].ack = &a72old;
	CHECK(apply(st, reqs, 2) == 0);
	CHECK(reqs[1].rc == -1 && reqs[1].err.code == GB_ECONFLICT);
	CHECK(reqs[0].rc == -1 && reqs[0].err.code == GB_EBUSY);
	CHECK(count("SELECT count(*) FROM batch WHERE seq = 74") == 0);

	wire_batch_release(&b59);
	wire_batch_release(&b61);
	wire_batch_release(&b61old);
	wire_batch_release(&b62);
	wire_batch_release(&b70);
	wire_batch_release(&b72);
	wire_batch_release(&b72old);
	wire_batch_release(&b73);
	gb_buf_release(&a59);
	gb_buf_release(&a61);
	gb_buf_release(&a61old);
	gb_buf_release(&a62);
	gb_buf_release(&a70);
	gb_buf_release(&a72);
	gb_buf_release(&a72old);
	gb_buf_release(&a73);
}

struct follower {
	struct ingest *ing;
	uint64_t seq, after;
	int n;
	int delay_ms;
	int rc;
	enum gb_code code;
	char statuses[8];
};

/* Posts one batch of one enterprise after delay_ms. */
static void *follow_thread(void *arg)
{
	struct follower *f = arg;
	struct wire_batch b;
	struct gb_buf ack;
	struct gb_err err = {GB_OK, ""};

	usleep((useconds_t)f->delay_ms * 1000);
	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	batch_init(&b, &coord, f->seq);
	b.hdr.after = f->after;
	batch_add(&b, enterprise(f->n, 1000, N_PARALLEL "分厂", 1));
	f->rc = ingest_batch(f->ing, &coord, &b, &ack, &err);
	f->code = err.code;
	if (f->rc == 0)
		statuses(&ack, f->statuses, sizeof(f->statuses));
	wire_batch_release(&b);
	gb_buf_release(&ack);
	return NULL;
}

/* The writer holds a batch for the one it follows, which comes later from
 * another connection; one whose predecessor never comes is refused with
 * GB_EBUSY when its hold ends. */
static void test_writer_hold(struct store *st)
{
	struct follower f[3];
	pthread_t t[3];
	struct ingest *ing = NULL;
	struct gb_err err;

	CHECK(ingest_start(&ing, st, &err) == 0);
	ingest_set_hold(ing, 2000);
	memset(f, 0, sizeof(f));
	f[0] = (struct follower){ing, 111, 110, 111, 0, 0, GB_OK, ""};
	f[1] = (struct follower){ing, 110, 0, 110, 150, 0, GB_OK, ""};
	f[2] = (struct follower){ing, 121, 120, 121, 0, 0, GB_OK, ""};
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, follow_thread, &f[i]);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(f[0].rc == 0 && f[1].rc == 0);
	CHECK_STR(f[0].statuses, "A");
	CHECK_STR(f[1].statuses, "A");
	CHECK(f[2].rc == -1 && f[2].code == GB_EBUSY);
	CHECK(count("SELECT count(*) FROM batch WHERE seq IN (110, 111)") == 2);
	CHECK(count("SELECT count(*) FROM batch WHERE seq = 121") == 0);
	ingest_stop(ing);
}

/* Milliseconds of the monotonic clock. */
static int64_t elapsed_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A server about to stop (gridbook-hq serve, before it stops the HTTP
 * side, which waits for the requests under way) sets the hold to 0: a
 * batch held already is refused at once, not when its hold would end. */
static void test_writer_unhold(struct store *st)
{
	struct follower f = {NULL, 131, 130, 131, 0, 0, GB_OK, ""};
	struct ingest *ing = NULL;
	struct gb_err err;
	int64_t t0;
	pthread_t t;

	CHECK(ingest_start(&ing, st, &err) == 0);
	ingest_set_hold(ing, 20000);
	f.ing = ing;
	t0 = elapsed_ms();
	pthread_create(&t, NULL, follow_thread, &f);
	usleep(200 * 1000);
	ingest_set_hold(ing, 0);
	pthread_join(t, NULL);
	CHECK(f.rc == -1 && f.code == GB_EBUSY);
	CHECK(elapsed_ms() - t0 < 5000);
	CHECK(count("SELECT count(*) FROM batch WHERE seq = 131") == 0);
	ingest_stop(ing);
}

/* A batch posted with an ingest_watch: how often the writer said it is
 * held, and whether its connection is to look gone. */
struct watched {
	struct ingest *ing;
	uint64_t seq, after;
	int n;
	pthread_mutex_t mu;
	int held, gone;
	int rc;
	enum gb_code code;
	char msg[256];
};

static void watched_held(void *arg)
{
	struct watched *w = arg;

	pthread_mutex_lock(&w->mu);
	w->held++;
	pthread_mutex_unlock(&w->mu);
}

static int watched_gone(void *arg)
{
	struct watched *w = arg;
	int gone;

	pthread_mutex_lock(&w->mu);
	gone = w->gone;
	pthread_mutex_unlock(&w->mu);
	return gone;
}

static int watched_get(struct watched *w, int *field)
{
	int v;

	pthread_mutex_lock(&w->mu);
	v = *field;
	pthread_mutex_unlock(&w->mu);
	return v;
}

static void *watched_thread(void *arg)
{
	struct watched *w = arg;
	const struct ingest_watch watch = {watched_held, watched_gone, w};
	struct wire_batch b;
	struct gb_buf ack;
	struct gb_err err = {GB_OK, ""};

	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	batch_init(&b, &coord, w->seq);
	b.hdr.after = w->after;
	batch_add(&b, enterprise(w->n, 1000, N_PARALLEL "分厂", 1));
	w->rc =
	    ingest_batch_watched(w->ing, &coord, NULL, &b, &ack, &watch, &err);
	w->code = err.code;
	snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
	wire_batch_release(&b);
	gb_buf_release(&ack);
	return NULL;
}

/* Waits, up to 5 s, until *field of w is at least want. */
static int watched_wait(struct watched *w, int *field, int want)
{
	for (int i = 0; i < 500; i++) {
		if (watched_get(w, field) >= want)
			return 1;
		usleep(10 * 1000);
	}
	return 0;
}

/* A held batch tells its watch once that it waits (its HTTP slot goes
 * back); when its connection is gone it is dropped at once, long before
 * its hold ends; and when its device sends the same batch again, the
 * copy held and the later batch held of it are dropped. */
static void test_writer_watch(struct store *st)
{
	struct watched w[4];
	pthread_t t[4];
	struct ingest *ing = NULL;
	struct gb_err err;
	int64_t t0;

	memset(w, 0, sizeof(w));
	CHECK(ingest_start(&ing, st, &err) == 0);
	ingest_set_hold(ing, 20000);
	for (int i = 0; i < 4; i++) {
		w[i].ing = ing;
		pthread_mutex_init(&w[i].mu, NULL);
	}
	/* Gone. */
	w[0].seq = 151, w[0].after = 150, w[0].n = 151;
	t0 = elapsed_ms();
	pthread_create(&t[0], NULL, watched_thread, &w[0]);
	CHECK(watched_wait(&w[0], &w[0].held, 1));
	pthread_mutex_lock(&w[0].mu);
	w[0].gone = 1;
	pthread_mutex_unlock(&w[0].mu);
	pthread_join(t[0], NULL);
	CHECK(w[0].rc == -1 && w[0].code == GB_EBUSY);
	CHECK(strstr(w[0].msg, "connection is closed") != NULL);
	CHECK(w[0].held == 1);
	CHECK(elapsed_ms() - t0 < 5000);
	/* Sent again: 161 and 162 held, then 161 again. */
	w[1].seq = 161, w[1].after = 160, w[1].n = 161;
	w[2].seq = 162, w[2].after = 161, w[2].n = 162;
	w[3].seq = 161, w[3].after = 160, w[3].n = 161;
	pthread_create(&t[1], NULL, watched_thread, &w[1]);
	pthread_create(&t[2], NULL, watched_thread, &w[2]);
	CHECK(watched_wait(&w[1], &w[1].held, 1));
	CHECK(watched_wait(&w[2], &w[2].held, 1));
	pthread_create(&t[3], NULL, watched_thread, &w[3]);
	pthread_join(t[1], NULL);
	pthread_join(t[2], NULL);
	CHECK(w[1].rc == -1 && w[1].code == GB_EBUSY);
	CHECK(strstr(w[1].msg, "sent it again") != NULL);
	CHECK(w[2].rc == -1 && w[2].code == GB_EBUSY);
	CHECK(watched_wait(&w[3], &w[3].held, 1));
	ingest_set_hold(ing, 0);
	pthread_join(t[3], NULL);
	CHECK(w[3].rc == -1 && w[3].code == GB_EBUSY);
	CHECK(elapsed_ms() - t0 < 10000);
	CHECK(count("SELECT count(*) FROM batch WHERE seq IN (151, 161, "
		    "162)") == 0);
	for (int i = 0; i < 4; i++)
		pthread_mutex_destroy(&w[i].mu);
	ingest_stop(ing);
}

static void test_writer(struct store *st)
{
	struct poster p[4];
	pthread_t t[4];
	struct ingest *ing = NULL;
	struct gb_err err;
	long hist = count("SELECT count(*) FROM record_history");

	CHECK(ingest_start(&ing, st, &err) == 0);
	for (int i = 0; i < 4; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].ing = ing;
		p[i].seq = 100 + (uint64_t)i;
		p[i].n = 100 + i;
		pthread_create(&t[i], NULL, post_thread, &p[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(p[i].rc == 0);
		CHECK_STR(p[i].statuses, "A");
	}
	ingest_stop(ing);
	CHECK(count("SELECT count(*) FROM record_history") == hist + 4);
}

/* Bytes of the store's main file (pages reach it only by a checkpoint). */
static long long file_size(void)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* Pushes batches seq from..to-1 of 30 new enterprises each; 1 when all
 * were accepted. */
static int push_run(struct ingest *ing, uint64_t from, uint64_t to, int *n)
{
	struct gb_err err;
	int ok = 1;

	for (uint64_t seq = from; seq < to && ok; seq++) {
		struct wire_batch b;
		struct gb_buf ack;
		char s[64];

		gb_buf_init(&ack, GB_BUF_NOLIMIT);
		batch_init(&b, &coord, seq);
		for (int i = 0; i < 30; i++, (*n)++)
			batch_add(&b, enterprise(*n, 1000, N_PARALLEL, 1));
		ok = ingest_batch(ing, &coord, &b, &ack, &err) == 0;
		if (ok) {
			statuses(&ack, s, sizeof(s));
			ok = strspn(s, "A") == 30;
		}
		wire_batch_release(&b);
		gb_buf_release(&ack);
	}
	return ok;
}

/* The writer checkpoints when no request has come for a while after a
 * commit: a push of a few thousand records, one batch after another,
 * leaves a WAL of more than the idle threshold (1,000 pages) but far
 * below the busy one, and its pages are in the main file soon after the
 * last batch, not only when the WAL reaches its bound. */
static void test_writer_idle(struct store *st)
{
	struct ingest *ing = NULL;
	struct gb_err err;
	long long before;
	int n = 200000;

	CHECK(ingest_start(&ing, st, &err) == 0);
	before = file_size();
	CHECK(push_run(ing, 300, 400, &n));
	for (int i = 0; i < 50 && file_size() <= before; i++)
		usleep(100 * 1000);
	CHECK(before > 0 && file_size() > before);
	ingest_stop(ing);
}

/* While a command holds the write byte of the lock file, the idle writer
 * does not wait for it (the next batch would wait behind it): it tries
 * again a little later, and checkpoints soon after the byte is free,
 * with no batch to prompt it. */
static void test_writer_idle_locked(struct store *st)
{
	struct ingest *ing = NULL;
	struct flock fl;
	struct gb_err err;
	long long before;
	char lock[sizeof(path) + 16];
	int fd, n = 300000;

	snprintf(lock, sizeof(lock), "%s-hq.lock", path);
	fd = open(lock, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 1; /* the write byte (store_sqlite.c) */
	fl.l_len = 1;
	CHECK(fcntl(fd, F_OFD_SETLK, &fl) == 0);
	CHECK(ingest_start(&ing, st, &err) == 0);
	before = file_size();
	CHECK(push_run(ing, 400, 500, &n));
	usleep(500 * 1000);
	CHECK(file_size() == before);
	/* The writer is free: another batch goes in at once (a writer
	 * waiting for the byte would wait for ever: the alarm ends it). */
	alarm(60);
	CHECK(push_run(ing, 500, 501, &n));
	alarm(0);
	usleep(500 * 1000);
	CHECK(file_size() == before);
	fl.l_type = F_UNLCK;
	CHECK(fcntl(fd, F_OFD_SETLK, &fl) == 0);
	close(fd);
	for (int i = 0; i < 50 && file_size() <= before; i++)
		usleep(100 * 1000);
	CHECK(file_size() > before);
	ingest_stop(ing);
}

/* ---- the field merge (SPEC §4, edits) ---- */

/* Version ver of enterprise n written on device d from the versions in
 * base (nbase of them; 0: an older client that sends none), with field
 * set to value (NULL: as created). */
static struct gb_record *ent_edit(int n, uint64_t ver, const char *d,
				  const uint64_t *base, int nbase,
				  const char *field, const char *value)
{
	struct gb_record *r = enterprise(n, ver, N_HENGDA, 1);

	snprintf(r->device, sizeof(r->device), "%s", d);
	for (int i = 0; i < nbase; i++)
		r->base[i] = VBASE + base[i];
	r->nbase = nbase;
	if (field)
		gb_record_set_name(r, field, value);
	return r;
}

static uint64_t merge_seq = 100000;

/* Sends r (taken) alone in a batch of device d; returns its status
 * letter. */
static char send1(struct store *st, const struct store_device *d,
		  struct gb_record *r)
{
	struct wire_batch b;
	struct gb_buf ack;
	char s[8] = "";

	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	batch_init(&b, d, merge_seq++);
	batch_add(&b, r);
	if (apply1(st, d, &b, &ack) == 0)
		statuses(&ack, s, sizeof(s));
	wire_batch_release(&b);
	gb_buf_release(&ack);
	return s[0] ? s[0] : '-';
}

/* The uniqueness rule of the kinds table at HQ: a second current
 * enterprise of the grid with a USCC already held is refused, naming the
 * holder; the holder's own edits pass, and once it is voided the code is
 * free again. */
static void test_unique(struct store *st)
{
	struct gb_record *e1 = enterprise(8801, 1000, "临江机械厂", 1);
	struct gb_record *e2 = enterprise(8802, 1000, "临江机械有限公司", 1);
	struct gb_record *e3 = enterprise(8803, 1000, "沙河食品厂", 1);
	char s[8], code[32], why[256], id1[GB_ID_LEN], uscc[32];
	struct wire_batch b;
	struct gb_buf ack;

	/* The batches own the records they are given. */
	snprintf(id1, sizeof(id1), "%s", e1->id);
	snprintf(uscc, sizeof(uscc), "%s", gb_record_get(e1, "uscc"));
	gb_record_set_name(e2, "uscc", uscc);
	CHECK(send1(st, &coord, e1) == 'A');
	CHECK(send1(st, &coord, e3) == 'A');

	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	batch_init(&b, &coord, merge_seq++);
	batch_add(&b, e2);
	CHECK(apply1(st, &coord, &b, &ack) == 0);
	statuses(&ack, s, sizeof(s));
	CHECK_STR(s, "R");
	reason(&ack, 0, code, why, sizeof(why));
	CHECK_STR(code, gb_code_name(GB_EEXIST));
	CHECK(strstr(why, "uscc: ") == why && strstr(why, id1) != NULL);
	wire_batch_release(&b);
	gb_buf_release(&ack);

	/* An edit of e3 that takes e1's code is refused as well. */
	e3 = enterprise(8803, 1001, "沙河食品厂", 1);
	gb_record_set_name(e3, "uscc", uscc);
	CHECK(send1(st, &coord, e3) == 'R');
	/* e1's own edit, and then its void, pass. */
	e1 = enterprise(8801, 1001, "临江机械厂（改制）", 1);
	CHECK(send1(st, &coord, e1) == 'A');
	e1 = enterprise(8801, 1002, "临江机械厂（改制）", 1);
	e1->voided = 1;
	gb_record_set_void_reason(e1, "重复登记");
	CHECK(send1(st, &coord, e1) == 'A');
	e2 = enterprise(8802, 1000, "临江机械有限公司", 1);
	gb_record_set_name(e2, "uscc", uscc);
	CHECK(send1(st, &coord, e2) == 'A');
}

/* Writes every number of out that is a version (VBASE or more) as what
 * it adds to VBASE, the way the tests name versions. */
static void versions_short(char *out, size_t size)
{
	char tmp[768];
	size_t k = 0;

	for (const char *p = out; *p && k + 24 < sizeof(tmp);) {
		if (*p >= '0' && *p <= '9') {
			char *end;
			unsigned long long v = strtoull(p, &end, 10);

			if (v >= VBASE)
				k += (size_t)snprintf(tmp + k, sizeof(tmp) - k,
						      "%llu", v - VBASE);
			else
				k +=
				    (size_t)snprintf(tmp + k, sizeof(tmp) - k,
						     "%.*s", (int)(end - p), p);
			p = end;
		} else {
			tmp[k++] = *p++;
		}
	}
	if (k > size - 1)
		k = size - 1;
	memcpy(out, tmp, k);
	out[k] = '\0';
}

/* The answer of sql about record n (?1 in sql is its id, as text). */
static void about(int n, const char *sql, char *out, size_t size)
{
	char id[GB_ID_LEN], hex[33], q[768];
	size_t k = 0;

	rec_id(n, id);
	for (const char *p = id; *p && k < 32; p++)
		if (*p != '-')
			hex[k++] = *p;
	hex[k] = '\0';
	/* The id is ours, in hex: writing it into the test's own SQL is
	 * safe. */
	snprintf(q, sizeof(q), "SELECT (%s) FROM (SELECT x'%s' AS rid)", sql,
		 hex);
	text(q, out, size);
	versions_short(out, size);
}

static void test_merge(struct store *st)
{
	const uint64_t b1000[] = {1000}, b1900_2000[] = {1900, 2000},
		       b2000[] = {2000};
	char s[256];

	/* Disjoint fields from the same base: both changes are kept, the
	 * record has two heads and no conflict. */
	CHECK(send1(st, &coord,
		    ent_edit(9001, 1000, DEV_C, NULL, 0, NULL, NULL)) == 'A');
	CHECK(send1(st, &coord2,
		    ent_edit(9001, 2000, DEV_C2, b1000, 1, "employees",
			     "50")) == 'A');
	CHECK(send1(st, &coord,
		    ent_edit(9001, 2100, DEV_C, b1000, 1, "name", N_XINYUAN)) ==
	      'A');
	about(9001,
	      "SELECT json_extract(body, '$.name') || '/' || "
	      "json_extract(body, '$.employees') || '/' || version || '/' || "
	      "heads || '/' || conflicts FROM record_current WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, N_XINYUAN "/50/2100/2000,2100/0");
	about(9001, "SELECT count(*) FROM field_conflict WHERE id = rid", s,
	      sizeof(s));
	CHECK_STR(s, "0");

	/* The same field: the newer version wins it, the other is kept as
	 * the conflict's lost value; a version lower than the current one
	 * but made without seeing it is accepted and merged. */
	CHECK(send1(st, &coord,
		    ent_edit(9002, 1000, DEV_C, NULL, 0, NULL, NULL)) == 'A');
	CHECK(send1(st, &coord2,
		    ent_edit(9002, 2000, DEV_C2, b1000, 1, "employees",
			     "50")) == 'A');
	CHECK(send1(st, &coord,
		    ent_edit(9002, 1900, DEV_C, b1000, 1, "employees", "60")) ==
	      'A');
	about(9002,
	      "SELECT json_extract(body, '$.employees') || '/' || version || "
	      "'/' || heads || '/' || conflicts FROM record_current WHERE id "
	      "= rid",
	      s, sizeof(s));
	CHECK_STR(s, "50/2000/1900,2000/1");
	about(9002,
	      "SELECT group_concat(field || ':' || kept_value || '@' || "
	      "kept_version || ':' || lost_value || '@' || lost_version || "
	      "':' || kept_staff || ':' || kind || ':' || grid) FROM "
	      "field_conflict WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, "employees:50@2000:60@1900:K0001:enterprise:" GRID);
	about(9002,
	      "SELECT kind || '/' || grid || '/' || conflicts FROM rf_conflict "
	      "WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, "enterprise/" GRID "/1");

	/* Delivered again, in a batch of its own: a duplicate, nothing
	 * changes. */
	CHECK(send1(st, &coord,
		    ent_edit(9002, 1900, DEV_C, b1000, 1, "employees", "60")) ==
	      'D');
	about(9002, "SELECT count(*) FROM field_conflict WHERE id = rid", s,
	      sizeof(s));
	CHECK_STR(s, "1");

	/* A version that saw both and says it resolves the field clears
	 * the conflict, here keeping the value that lost. */
	{
		struct gb_record *r = ent_edit(9002, 2500, DEV_C, b1900_2000, 2,
					       "employees", "60");

		r->resolves = 1u << gb_kind_field(r->kind, "employees");
		CHECK(send1(st, &coord, r) == 'A');
	}
	about(9002,
	      "SELECT json_extract(body, '$.employees') || '/' || "
	      "ifnull(heads, 'one') || '/' || conflicts FROM record_current "
	      "WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, "60/one/0");
	about(9002,
	      "SELECT count(*) FROM field_conflict WHERE id = rid) + (SELECT "
	      "count(*) FROM rf_conflict WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, "0");

	/* A void and an edit that did not see each other, in both orders:
	 * the void stands and the record is in conflict on the void. */
	for (int order = 0; order < 2; order++) {
		int n = 9003 + order;
		struct gb_record *v = ent_edit(n, order ? 1900 : 2000, DEV_C,
					       b1000, 1, NULL, NULL);
		struct gb_record *e = ent_edit(n, order ? 2000 : 2100, DEV_C2,
					       b1000, 1, "employees", "45");

		v->voided = 1;
		gb_record_set_void_reason(v, "重复录入");
		CHECK(send1(st, &coord,
			    ent_edit(n, 1000, DEV_C, NULL, 0, NULL, NULL)) ==
		      'A');
		if (order) {
			CHECK(send1(st, &coord2, e) == 'A');
			CHECK(send1(st, &coord, v) == 'A');
		} else {
			CHECK(send1(st, &coord, v) == 'A');
			CHECK(send1(st, &coord2, e) == 'A');
		}
		about(n,
		      "SELECT voided || '/' || void_reason || '/' || "
		      "json_extract(body, '$.employees') || '/' || conflicts "
		      "FROM record_current WHERE id = rid",
		      s, sizeof(s));
		CHECK_STR(s, "1/重复录入/45/1");
		about(n,
		      "SELECT field || ':' || kept_value || ':' || "
		      "ifnull(lost_value, 'not voided') FROM field_conflict "
		      "WHERE id = rid",
		      s, sizeof(s));
		CHECK_STR(s, "void:重复录入:not voided");
		/* A voided record counts in no report, but its conflict
		 * does. */
		about(n,
		      "SELECT (SELECT count(*) FROM rf_enterprise WHERE id = "
		      "rid) || '/' || (SELECT count(*) FROM rf_conflict WHERE "
		      "id = rid)",
		      s, sizeof(s));
		CHECK_STR(s, "0/1");
	}

	/* Versions from an older client, with no bases: last writer wins,
	 * as before, and no conflict. */
	CHECK(send1(st, &coord,
		    ent_edit(9005, 1000, DEV_C, NULL, 0, NULL, NULL)) == 'A');
	CHECK(send1(st, &coord2,
		    ent_edit(9005, 3000, DEV_C2, NULL, 0, "employees", "50")) ==
	      'A');
	CHECK(send1(st, &coord,
		    ent_edit(9005, 2000, DEV_C, NULL, 0, "employees", "60")) ==
	      'S');
	about(9005,
	      "SELECT json_extract(body, '$.employees') || '/' || version || "
	      "'/' || ifnull(heads, 'one') || '/' || conflicts FROM "
	      "record_current WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, "50/3000/one/0");

	/* A true ancestor arriving after the version made from it: stale,
	 * and the record is as that version made it. */
	CHECK(send1(st, &coord,
		    ent_edit(9006, 1000, DEV_C, NULL, 0, NULL, NULL)) == 'A');
	{
		struct gb_record *r =
		    ent_edit(9006, 3000, DEV_C, b2000, 1, "name", N_CHENGUANG);

		gb_record_set_name(r, "employees", "50");
		CHECK(send1(st, &coord, r) == 'A');
	}
	CHECK(send1(st, &coord2,
		    ent_edit(9006, 2000, DEV_C2, b1000, 1, "employees",
			     "50")) == 'S');
	about(9006,
	      "SELECT json_extract(body, '$.name') || '/' || "
	      "json_extract(body, '$.employees') || '/' || version || '/' || "
	      "ifnull(heads, 'one') || '/' || conflicts FROM record_current "
	      "WHERE id = rid",
	      s, sizeof(s));
	CHECK_STR(s, N_CHENGUANG "/50/3000/one/0");
	about(9006, "SELECT count(*) FROM record_history WHERE id = rid", s,
	      sizeof(s));
	CHECK_STR(s, "3");

	/* The reports that read enterprises say how many of the unit's
	 * records hold a conflict: the two voided ones above. */
	{
		struct report *rep = NULL;
		struct gb_err err;
		const struct report_val *v;

		CHECK(report_run(st, "check-coverage", "grid", "2026-03-01",
				 "2026-03-12", now, &rep, &err) == 0);
		v = rep ? report_get(rep, GRID, "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 2);
		v = rep ? report_get(rep, "S01-G2", "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 0);
		v = rep ? report_get(rep, "total", "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 2);
		report_free(rep);
		rep = NULL;
		/* Not those that read no enterprise. */
		CHECK(report_run(st, "disputes", "district", "2026-03-01",
				 "2026-03-12", now, &rep, &err) == 0);
		v = rep ? report_get(rep, "total", "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 0);
		report_free(rep);
	}

	/* A daily report two laptops of officers changed apart counts at
	 * the police area of its officer (J0002, PA-01), and in the period
	 * of its date only. */
	{
		struct gb_record *a = daily_of(9010, DEV_O2);
		struct gb_record *b = daily_of(9010, DEV_O);
		struct report *rep = NULL;
		struct gb_err err;
		const struct report_val *v;

		a->version = VBASE + 2000;
		a->base[0] = VBASE + 1000;
		a->nbase = 1;
		gb_record_set_name(a, "households", "15");
		b->version = VBASE + 1900;
		b->base[0] = VBASE + 1000;
		b->nbase = 1;
		gb_record_set_name(b, "households", "20");
		CHECK(send1(st, &officer, daily_of(9010, DEV_O)) == 'A');
		CHECK(send1(st, &officer2, a) == 'A');
		CHECK(send1(st, &officer, b) == 'A');
		CHECK(report_run(st, "daily-reports", "area", "2026-03-01",
				 "2026-03-12", now, &rep, &err) == 0);
		v = rep ? report_get(rep, "PA-01", "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 1);
		v = rep ? report_get(rep, "PA-02", "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 0);
		report_free(rep);
		rep = NULL;
		CHECK(report_run(st, "daily-reports", "grid", "2026-03-01",
				 "2026-03-12", now, &rep, &err) == 0);
		v = rep ? report_get(rep, GRID, "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 1);
		report_free(rep);
		rep = NULL;
		CHECK(report_run(st, "daily-reports", "area", "2026-03-01",
				 "2026-03-10", now, &rep, &err) == 0);
		v = rep ? report_get(rep, "total", "conflicts") : NULL;
		CHECK(v && v->type == RV_INT && v->i == 0);
		report_free(rep);
	}
}

int main(void)
{
	struct store *st = NULL, *second = NULL;
	struct seed_stats stats;
	struct gb_err err;
	char cmd[160];

	CHECK(auth_init(&err) == 0);
	CHECK(gb_time_parse("2026-03-12 10:00", &now, &err) == 0);
	snprintf(dir, sizeof(dir), "/tmp/gridbook-ingest.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/hq.db", dir);

	CHECK(store_sqlite_open(&st, path, STORE_SERVE, &err) == 0);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		return check_done();
	}
	/* One server per store file. */
	CHECK(store_sqlite_open(&second, path, STORE_SERVE, &err) == -1 &&
	      err.code == GB_EEXIST);
	CHECK(seed_load(st, GB_SEEDDIR, &stats, &err) == 0);
	CHECK(stats.rows > 700 && stats.changed == stats.rows);
	CHECK(seed_load(st, GB_SEEDDIR, &stats, &err) == 0);
	CHECK(stats.changed == 0);
	CHECK(seed_load(st, "/nonexistent", &stats, &err) == -1 &&
	      err.code == GB_ENOTFOUND);

	test_rules(st);
	test_group(st);
	test_access_batch();
	test_changes(st);
	/* After test_changes, which counts what the coordinator sent. */
	test_access_records(st);
	test_merge(st);
	test_unique(st);
	test_tokens(st);
	test_writer(st);
	test_after(st);
	test_after_copies(st);
	test_writer_hold(st);
	test_writer_unhold(st);
	test_writer_watch(st);
	test_writer_idle(st);
	test_writer_idle_locked(st);
	st->ops->close(st);

	/* Reopened, the schema is not applied twice. */
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == 0);
	if (st)
		st->ops->close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done();
}

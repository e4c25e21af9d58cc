/*
 * The HQ reports (server/reports.c) and the facts ingest keeps for them
 * (server/rollup.c), on temporary SQLite stores loaded with the reference
 * district.
 *
 * 1. A small fixed data set sent through ingest (voided records, edited
 *    records, a closed enterprise, a check of an enterprise with no
 *    employees, a patrol across midnight, a patrol with one guard, a
 *    reception spanning two ISO weeks, a request resolved exactly at its
 *    deadline, ...) and every number of every report checked against the
 *    value worked out by hand in the comment beside it.
 * 2. A few weeks of realistic field work made by bench/gridbook-gen for
 *    three grids, loaded through ingest, then edited and voided at
 *    random: every report at every level is compared with a slow
 *    reference implementation below, written directly over the stored
 *    records (record_current) and the reference tables, which shares no
 *    code with the fast path.  Then the facts are rebuilt from scratch and
 *    every report must come out the same.
 * 3. The writers, the parameters and who may read.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"
#include "db.h"
#include "gbtime.h"
#include "ingest.h"
#include "reports.h"
#include "rollup.h"
#include "seed.h"
#include "store.h"
#include "utf8.h"
#include "uscc.h"
#include "validate.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define HOUR INT64_C(3600000)

/* Versions count from 2026-01-01T00:00Z, within the bounds HQ keeps
 * (gb_hlc_bounds); the tests name them by what they add to it. */
#define VBASE ((uint64_t)INT64_C(1767225600000) << 16)

static char dir[64];
static const char *argv0;

/* ---- devices and batches ---- */

struct dev {
	struct store_device d;
	uint64_t seq;
	long batches, records; /* sent, for sync-health */
	/* What its batches say it has left to send (Batch.pending); pending
	 * -1: they say nothing. */
	int64_t pending, oldest;
};

static void dev_init(struct store *st, struct dev *v, const char *id,
		     const char *grid, const char *role)
{
	unsigned char hash[STORE_HASH_LEN];
	char token[AUTH_TOKEN_LEN];
	struct gb_err err;

	memset(v, 0, sizeof(*v));
	v->pending = -1;
	snprintf(v->d.id, sizeof(v->d.id), "%s", id);
	snprintf(v->d.grid, sizeof(v->d.grid), "%s", grid);
	snprintf(v->d.role, sizeof(v->d.role), "%s", role);
	snprintf(v->d.name, sizeof(v->d.name), "%s", "测试笔记本");
	v->d.created_at = 1;
	auth_token_new(token, hash);
	CHECK(st->ops->begin(st, &err) == 0);
	CHECK(st->ops->device_put(st, &v->d, hash, &err) == 0);
	CHECK(st->ops->commit(st, &err) == 0);
}

/* Sends the n records (taken) as one batch of v at now; every record must
 * be accepted unless allow_refused.  Returns the records refused. */
static int send(struct store *st, struct dev *v, int64_t now,
		struct gb_record **recs, size_t n, int allow_refused)
{
	struct wire_batch b;
	struct ingest_req req, *rp = &req;
	struct wire_ack ack;
	struct gb_buf out;
	struct gb_err err;
	int refused = 0;

	memset(&b, 0, sizeof(b));
	snprintf(b.hdr.device, sizeof(b.hdr.device), "%s", v->d.id);
	snprintf(b.hdr.grid, sizeof(b.hdr.grid), "%s", v->d.grid);
	b.hdr.seq = ++v->seq;
	if (v->pending >= 0) {
		b.hdr.has_pending = 1;
		b.hdr.pending = (uint64_t)v->pending;
		b.hdr.oldest_pending = v->oldest;
	}
	b.items = xcalloc(n ? n : 1, sizeof(*b.items));
	b.n = n;
	for (size_t i = 0; i < n; i++) {
		struct wire_item *it = &b.items[i];
		struct gb_buf raw;

		gb_buf_init(&raw, GB_BUF_NOLIMIT);
		CHECK(wire_record_pack(recs[i], &raw, &err) == 0);
		it->rec = recs[i];
		snprintf(it->id, sizeof(it->id), "%s", recs[i]->id);
		it->version = recs[i]->version;
		it->raw = gb_buf_detach(&raw, &it->raw_len);
	}
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	memset(&req, 0, sizeof(req));
	req.dev = &v->d;
	req.batch = &b;
	req.ack = &out;
	CHECK(ingest_apply(st, &rp, 1, now, &err) == 0);
	CHECK(req.rc == 0);
	if (req.rc != 0)
		fprintf(stderr, "batch: %s\n", req.err.msg);
	CHECK(wire_ack_decode(out.data, out.len, &ack, &err) == 0);
	for (size_t i = 0; i < ack.n; i++) {
		if (ack.items[i].status == WIRE_ACCEPTED)
			continue;
		refused++;
		if (!allow_refused)
			fprintf(stderr, "record %s (%s): status %d: %s\n",
				ack.items[i].id, recs[i]->kind->name,
				ack.items[i].status,
				ack.items[i].reason ? ack.items[i].reason : "");
	}
	if (!allow_refused)
		CHECK(refused == 0);
	wire_ack_release(&ack);
	gb_buf_release(&out);
	wire_batch_release(&b);
	v->batches++;
	v->records += (long)n;
	return refused;
}

static int64_t at(const char *local)
{
	struct gb_err err;
	int64_t ms = 0;

	CHECK(gb_time_parse(local, &ms, &err) == 0);
	return ms;
}

/*
 * A record of kind for v: id number n, version; then "field=value" words
 * ending with NULL.  A value starting with '@' is a local time
 * ("@2026-03-02 21:00") written as ms.
 */
static struct gb_record *mk(const char *kind, const struct dev *v, int n,
			    uint64_t version, const char *staff, ...)
{
	struct gb_record *r = gb_record_new(gb_kind_find(kind));
	const char *kv;
	va_list ap;

	snprintf(r->id, sizeof(r->id), "0190b000-0000-7000-8000-%012d", n);
	snprintf(r->grid, sizeof(r->grid), "%s", v->d.grid);
	snprintf(r->device, sizeof(r->device), "%s", v->d.id);
	snprintf(r->staff, sizeof(r->staff), "%s", staff);
	r->created_at = at("2026-02-01 08:00");
	r->updated_at = r->created_at;
	r->version = VBASE + version;
	va_start(ap, staff);
	for (;;) {
		kv = va_arg(ap, const char *);
		if (!kv)
			break;
		const char *eq = strchr(kv, '=');
		char name[32], val[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - kv), kv);
		if (eq[1] == '@')
			snprintf(val, sizeof(val), "%lld",
				 (long long)at(eq + 2));
		else
			snprintf(val, sizeof(val), "%s", eq + 1);
		CHECK(gb_record_set_name(r, name, val) == 0);
	}
	va_end(ap);
	return r;
}

static struct gb_record *voided(struct gb_record *r, uint64_t version)
{
	r->voided = 1;
	r->version = VBASE + version;
	gb_record_set_void_reason(r, "录入错误");
	return r;
}

static void id_of(int n, char *out)
{
	snprintf(out, GB_ID_LEN, "0190b000-0000-7000-8000-%012d", n);
}

static const char *uscc_of(int n, char *out)
{
	snprintf(out, 19, "91350102MA%07dX", n);
	out[17] = gb_uscc_check_char(out);
	out[18] = '\0';
	return out;
}

/* ---- the fixture ---- */

static struct report *run(struct store *st, const char *name, const char *level,
			  const char *from, const char *to, int64_t now)
{
	struct report *r = NULL;
	struct gb_err err;

	if (report_run(st, name, level, from, to, now, &r, &err) < 0) {
		fprintf(stderr, "report %s %s: %s\n", name, level, err.msg);
		CHECK(0);
	}
	return r;
}

static const char *val(const struct report *r, const char *unit,
		       const char *key)
{
	static char buf[8][256];
	static int k;
	const struct report_val *v = r ? report_get(r, unit, key) : NULL;
	char *b = buf[k++ % 8];

	if (!v) {
		snprintf(b, 256, "(no %s/%s)", unit, key);
		return b;
	}
	report_val_text(v, b, 256);
	return v->type == RV_NULL ? "null" : b;
}

/* The text of detail table key, row i, column col ("" when none). */
static const char *det(const struct report *r, const char *key, size_t i,
		       const char *col)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ % 4];

	b[0] = '\0';
	for (int t = 0; r && t < r->ndetails; t++) {
		const struct report_table *d = &r->details[t];

		if (strcmp(d->key, key) != 0 || i >= d->nrows)
			continue;
		for (int c = 0; c < d->ncols; c++)
			if (!strcmp(d->cols[c].key, col))
				return report_val_text(
				    &d->cells[i * (size_t)d->ncols + c], b,
				    512);
	}
	return b;
}

static size_t ndet(const struct report *r, const char *key)
{
	for (int t = 0; r && t < r->ndetails; t++)
		if (!strcmp(r->details[t].key, key))
			return r->details[t].nrows;
	return (size_t)-1;
}

/* Labour records of grid S01-G1 and one enterprise of S01-G2. */
static void fixture_labour(struct store *st, struct dev *dc, struct dev *dc2,
			   int64_t t1, int64_t t2)
{
	char e[7][GB_ID_LEN], c[11][GB_ID_LEN], u[19];
	struct gb_record *recs[32];
	size_t n = 0;

	for (int i = 1; i <= 6; i++)
		id_of(i, e[i]);
	for (int i = 1; i <= 10; i++)
		id_of(100 + i, c[i]);
	/* S01-G2's laptop synced once, on 2026-02-20, before the period. */
	recs[0] = mk("enterprise", dc2, 21, 100, "K0003", NULL);
	gb_record_set_name(recs[0], "uscc", uscc_of(21, u));
	gb_record_set_name(recs[0], "name", "望川区江南纸业有限公司");
	gb_record_set_name(recs[0], "type", "company");
	gb_record_set_name(recs[0], "community", "S01-C06");
	gb_record_set_name(recs[0], "employees", "12");
	gb_record_set_name(recs[0], "status", "active");
	send(st, dc2, at("2026-02-20 10:00"), recs, 1, 0);

	/* E1, E2, E6 active; E3 closed; E4 closed then edited to active;
	 * E5 voided. */
	{
		static const char *const names[] = {"",
						    "望川区恒达机械有限公司",
						    "望川区鑫源纺织有限公司",
						    "望川区晨光电子有限公司",
						    "望川区永兴五金店",
						    "望川区华盛食品厂",
						    "望川区东湖物流有限公司"};
		static const char *const status[] = {
		    "",	      "active", "active", "closed",
		    "closed", "active", "active"};

		for (int i = 1; i <= 6; i++) {
			struct gb_record *r = mk(
			    "enterprise", dc, i, 100, "K0001", "type=company",
			    "community=S01-C01", "employees=40", NULL);

			gb_record_set_name(r, "uscc", uscc_of(i, u));
			gb_record_set_name(r, "name", names[i]);
			gb_record_set_name(r, "status", status[i]);
			recs[n++] = r;
		}
	}
#define CHK(i, v, ent, date, total, sgn, outcome, deadline)                    \
	mk("contract_check", dc, 100 + (i), v, "K0001", "enterprise=" ent,     \
	   "check_date=" date, "coordinator=K0001", "employees_total=" total,  \
	   "contracts_signed=" sgn, "insured=0", "hiring_registered=0",        \
	   "outcome=" outcome, deadline, NULL)
	recs[n++] =
	    CHK(1, 100, "", "2026-03-03", "40", "30", "compliant", NULL);
	recs[n++] = CHK(2, 100, "", "2026-03-10", "40", "36", "notice", NULL);
	recs[n++] = CHK(3, 100, "", "2026-03-05", "10", "5", "rectify_order",
			"deadline=2026-03-12");
	recs[n++] = CHK(4, 200, "", "2026-03-05", "10", "8", "rectify_order",
			"deadline=2026-03-09");
	recs[n++] = CHK(5, 100, "", "2026-03-06", "0", "0", "compliant", NULL);
	recs[n++] = CHK(6, 100, "", "2026-03-04", "20", "10", "rectify_order",
			"deadline=2026-03-08");
	recs[n++] =
	    CHK(7, 100, "", "2026-03-04", "30", "30", "compliant", NULL);
	recs[n++] =
	    CHK(8, 100, "", "2026-03-12", "40", "40", "compliant", NULL);
	recs[n++] =
	    CHK(9, 100, "", "2026-02-20", "40", "20", "compliant", NULL);
	recs[n++] =
	    CHK(10, 100, "", "2026-02-25", "50", "45", "compliant", NULL);
	/* Enterprises of the checks: C1 C2 C8 C9 of E1, C3 C4 of E2, C5 of
	 * E4, C6 of E3, C7 of E5, C10 of E6. */
	{
		static const int of[] = {0, 1, 1, 2, 2, 4, 3, 5, 1, 1, 6};

		for (int i = 1; i <= 10; i++)
			gb_record_set_name(recs[5 + i], "enterprise", e[of[i]]);
	}
	/* Disputes of S01-G1. */
#define DSP(i, v, date, level, status, closed)                                 \
	mk("dispute", dc, 200 + (i), v, "K0001", "workers=3",                  \
	   "category=wages", "received_date=" date, "level=" level,            \
	   "status=" status, closed, NULL)
	recs[n++] = DSP(1, 100, "2026-03-03", "community", "mediated", NULL);
	recs[n++] = DSP(2, 100, "2026-03-04", "street", "closed",
			"closed_date=2026-03-10");
	recs[n++] = DSP(3, 100, "2026-03-05", "district", "closed",
			"closed_date=2026-03-06");
	recs[n++] = DSP(4, 100, "2026-03-06", "community", "open", NULL);
	recs[n++] = DSP(5, 100, "2026-03-07", "street", "escalated", NULL);
	recs[n++] = DSP(6, 100, "2026-03-08", "community", "closed",
			"closed_date=2026-03-08");
	recs[n++] = DSP(7, 100, "2026-03-09", "community", "open", NULL);
	recs[n++] = DSP(8, 100, "2026-02-28", "community", "closed",
			"closed_date=2026-03-01");
	/* An order and a dispute of E5, which is voided below: neither
	 * counts anywhere. */
	recs[n] = CHK(11, 100, "", "2026-03-05", "30", "20", "rectify_order",
		      "deadline=2026-03-09");
	gb_record_set_name(recs[n++], "enterprise", e[5]);
	recs[n] = DSP(9, 100, "2026-03-05", "community", "closed",
		      "closed_date=2026-03-06");
	gb_record_set_name(recs[n++], "enterprise", e[5]);
	send(st, dc, t1, recs, n, 0);

	/* Then edits and voids, and the follow-ups. */
	n = 0;
	recs[n++] = mk("enterprise", dc, 4, 300, "K0001", "type=company",
		       "community=S01-C01", "employees=40", "status=active",
		       "name=望川区永兴五金店", NULL);
	gb_record_set_name(recs[n - 1], "uscc", uscc_of(4, u));
	recs[n] = mk("enterprise", dc, 5, 100, "K0001", "type=company",
		     "community=S01-C01", "employees=40", "status=active",
		     "name=望川区华盛食品厂", NULL);
	gb_record_set_name(recs[n], "uscc", uscc_of(5, u));
	recs[n] = voided(recs[n], 300);
	n++;
	recs[n] = CHK(8, 100, "", "2026-03-12", "40", "40", "compliant", NULL);
	gb_record_set_name(recs[n], "enterprise", e[1]);
	recs[n] = voided(recs[n], 300);
	n++;
	recs[n] = CHK(9, 300, "", "2026-03-01", "40", "24", "compliant", NULL);
	gb_record_set_name(recs[n++], "enterprise", e[1]);
#define RCT(i, v, chk, date, result)                                           \
	mk("rectification", dc, 300 + (i), v, "K0001", "date=" date,           \
	   "result=" result, NULL)
	recs[n] = RCT(1, 100, 3, "2026-03-11", "rectified");
	gb_record_set_name(recs[n++], "check", c[3]);
	recs[n] = RCT(2, 100, 4, "2026-03-08", "rectified");
	gb_record_set_name(recs[n++], "check", c[4]);
	recs[n] = RCT(3, 100, 4, "2026-03-10", "rectified");
	gb_record_set_name(recs[n++], "check", c[4]);
	recs[n] = RCT(4, 100, 6, "2026-03-07", "rectified");
	gb_record_set_name(recs[n++], "check", c[6]);
	recs[n++] = DSP(7, 300, "2026-03-09", "community", "mediated", NULL);
	recs[n] = DSP(6, 100, "2026-03-08", "community", "closed",
		      "closed_date=2026-03-08");
	recs[n] = voided(recs[n], 300);
	n++;
	send(st, dc, t2, recs, n, 0);
	n = 0;
	recs[n] = RCT(2, 300, 4, "2026-03-08", "not_yet");
	gb_record_set_name(recs[n++], "check", c[4]);
	recs[n] = RCT(4, 100, 6, "2026-03-07", "rectified");
	gb_record_set_name(recs[n], "check", c[6]);
	recs[n] = voided(recs[n], 300);
	n++;
	send(st, dc, t2, recs, n, 0);
#undef CHK
#undef DSP
#undef RCT
}

/* Policing records of grid S01-G1: areas PA-01 (chief J0001, officers
 * J0002 J0003, guards B0001 B0002) and PA-02 (chief J0004, officers
 * J0005-J0007, guards B0003-B0005). */
static void fixture_police(struct store *st, struct dev *dof, int64_t t1,
			   int64_t t2)
{
	struct gb_record *recs[64];
	size_t n = 0;
	char day[16], text[64];

#define DAILY                                                                  \
	"households=3", "resident_checks=1", "temporary_checks=0",             \
	    "key_checks=0", "places=1", "disputes_mediated=0", NULL
#define PAT(i, v, area, leader, guards, s, e)                                  \
	mk("patrol", dof, 400 + (i), v, "J0001", "area=" area,                 \
	   "leader=" leader, "guards=" guards, "mode=foot", "incidents=0",     \
	   "start=@" s, "end=@" e, NULL)
	recs[n++] = PAT(1, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-02 21:00", "2026-03-03 01:00");
	recs[n++] = PAT(2, 100, "PA-01", "J0002", "B0001", "2026-03-03 22:00",
			"2026-03-04 02:00");
	recs[n++] = PAT(3, 100, "PA-01", "J0003", "B0001,B0002",
			"2026-03-05 05:00", "2026-03-05 07:00");
	recs[n++] =
	    mk("patrol", dof, 404, 100, "J0001", "area=PA-01", "leader=J0001",
	       "mode=vehicle", "incidents=0", "start=@2026-03-05 23:00",
	       "end=@2026-03-06 01:00", NULL);
	recs[n++] = PAT(5, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-06 22:00", "2026-03-06 23:00");
	recs[n++] = PAT(6, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-07 22:00", "2026-03-07 23:30");
	recs[n++] = PAT(7, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-08 14:00", "2026-03-08 16:00");
	recs[n++] = PAT(8, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-09 20:00", "2026-03-09 22:00");
	recs[n++] = PAT(9, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-10 06:00", "2026-03-10 08:00");
	recs[n++] = PAT(10, 100, "PA-01", "J0002", "B0002,B0001",
			"2026-03-10 22:30", "2026-03-11 00:30");
	recs[n++] = PAT(11, 100, "PA-01", "J0003", "B0001,B0002",
			"2026-03-11 23:00", "2026-03-12 05:00");
	recs[n++] = PAT(12, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-12 21:00", "2026-03-13 07:00");
	recs[n++] = PAT(13, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-14 03:00", "2026-03-14 05:00");
	recs[n++] = PAT(16, 100, "PA-02", "J0004", "B0003,B0004,B0005",
			"2026-03-02 23:00", "2026-03-03 01:00");
#define REC(i, v, officer, room, s, e)                                         \
	mk("reception", dof, 500 + (i), v, "J0001", "officer=" officer,        \
	   "room=" room, "visitors=2", "start=@" s, "end=@" e, NULL)
	recs[n++] = REC(1, 100, "J0001", "PA-01", "2026-03-02 09:00",
			"2026-03-02 12:00");
	recs[n++] = REC(2, 100, "J0001", "PA-01", "2026-03-08 22:00",
			"2026-03-09 01:00");
	recs[n++] = REC(3, 100, "J0001", "PA-01", "2026-03-10 09:00",
			"2026-03-10 13:00");
	recs[n++] = REC(4, 100, "J0002", "PA-01", "2026-03-03 09:00",
			"2026-03-03 11:00");
	recs[n++] = REC(5, 100, "J0003", "PA-01", "2026-03-04 08:00",
			"2026-03-04 14:00");
	recs[n++] = REC(6, 100, "J0003", "PA-01", "2026-03-11 08:00",
			"2026-03-11 14:00");
	recs[n++] = REC(7, 100, "J0001", "PA-01", "2026-03-01 20:00",
			"2026-03-01 23:00");
#define REQ(i, v, area, pri, cat, recv, extra)                                 \
	mk("request", dof, 600 + (i), v, "J0001", "area=" area,                \
	   "received_at=@" recv, "channel=phone", "category=" cat,             \
	   "priority=" pri, "officer=J0002", extra, NULL)
	recs[n++] = REQ(1, 100, "PA-01", "urgent", "alarm", "2026-03-03 10:00",
			"resolved_at=@2026-03-03 11:00");
	recs[n++] = mk("request", dof, 602, 100, "J0001", "area=PA-01",
		       "received_at=@2026-03-04 10:00", "channel=walk_in",
		       "category=help", "priority=normal", "officer=J0002",
		       "deadline=@2026-03-05 10:00",
		       "resolved_at=@2026-03-05 12:00", NULL);
	recs[n++] =
	    REQ(3, 100, "PA-01", "low", "inquiry", "2026-03-13 09:00", NULL);
	recs[n++] =
	    REQ(4, 100, "PA-01", "normal", "help", "2026-03-14 09:00", NULL);
	recs[n++] =
	    REQ(6, 100, "PA-01", "urgent", "alarm", "2026-03-05 09:00", NULL);
	recs[n++] =
	    REQ(7, 100, "PA-02", "normal", "inquiry", "2026-03-06 10:00", NULL);
	recs[n++] =
	    REQ(8, 100, "PA-01", "normal", "alarm", "2026-03-01 10:00", NULL);
	send(st, dof, t1, recs, n, 0);

	/* Daily reports: J0001 every day 03-02..03-15; J0002 every day but
	 * 03-05 and 03-06 (and 03-07 twice, one of them an edit of what was
	 * dated 03-06); one of J0003 after the period. */
	n = 0;
	for (int d = 2; d <= 15; d++) {
		for (int who = 1; who <= 2; who++) {
			if (who == 2 && (d == 5 || d == 6))
				continue;
			snprintf(day, sizeof(day), "date=2026-03-%02d", d);
			snprintf(text, sizeof(text), "officer=J000%d", who);
			recs[n++] = mk("daily_report", dof, 700 + d * 2 + who,
				       100, "J0001", text, day, DAILY);
		}
	}
	recs[n++] = mk("daily_report", dof, 780, 100, "J0001", "officer=J0002",
		       "date=2026-03-05", DAILY);
	recs[n++] = mk("daily_report", dof, 781, 100, "J0001", "officer=J0002",
		       "date=2026-03-06", DAILY);
	recs[n++] = mk("daily_report", dof, 782, 100, "J0001", "officer=J0003",
		       "date=2026-03-16", DAILY);
	send(st, dof, t2, recs, n, 0);

	/* Edits and voids, and what happened after 03-14 noon. */
	n = 0;
	recs[n] = mk("daily_report", dof, 780, 100, "J0001", "officer=J0002",
		     "date=2026-03-05", DAILY);
	recs[n] = voided(recs[n], 300);
	n++;
	recs[n++] = mk("daily_report", dof, 781, 300, "J0001", "officer=J0002",
		       "date=2026-03-07", DAILY);
	recs[n++] = PAT(5, 300, "PA-01", "J0001", "B0001", "2026-03-06 22:00",
			"2026-03-06 23:00");
	recs[n] = PAT(6, 100, "PA-01", "J0001", "B0001,B0002",
		      "2026-03-07 22:00", "2026-03-07 23:30");
	recs[n] = voided(recs[n], 300);
	n++;
	recs[n++] = PAT(14, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-14 22:00", "2026-03-14 23:00");
	recs[n++] = PAT(15, 100, "PA-01", "J0001", "B0001,B0002",
			"2026-03-16 02:00", "2026-03-16 03:00");
	recs[n++] = REC(4, 300, "J0002", "PA-01", "2026-03-03 09:00",
			"2026-03-03 12:00");
	recs[n] = REC(5, 100, "J0003", "PA-01", "2026-03-04 08:00",
		      "2026-03-04 14:00");
	recs[n] = voided(recs[n], 300);
	n++;
	recs[n++] = REC(8, 100, "J0002", "PA-01", "2026-03-16 09:00",
			"2026-03-16 12:00");
	recs[n++] = REQ(5, 100, "PA-01", "urgent", "alarm", "2026-03-15 20:00",
			"resolved_at=@2026-03-17 10:00");
	recs[n] =
	    REQ(6, 100, "PA-01", "urgent", "alarm", "2026-03-05 09:00", NULL);
	recs[n] = voided(recs[n], 300);
	n++;
	recs[n++] = REQ(7, 300, "PA-02", "normal", "inquiry",
			"2026-03-06 10:00", "resolved_at=@2026-03-06 20:00");
	/* Q9: low, received on Saturday 03-14 at 10:00, sent with no
	 * deadline: HQ gives it the default, five working days from Monday
	 * 03-16 00:00, due 03-23 00:00. */
	recs[n++] =
	    REQ(9, 100, "PA-02", "low", "inquiry", "2026-03-14 10:00", NULL);
	/* The officer's laptop still had three versions to send, the
	 * oldest written on 03-14 at 18:00. */
	dof->pending = 3;
	dof->oldest = at("2026-03-14 18:00");
	send(st, dof, t2, recs, n, 0);
#undef REC
#undef REQ
}

/*
 * Seeds st again from a copy of the reference district changed by the
 * shell commands edit (run in the copy's directory, name).  Returns the
 * rows that changed.
 */
static long reseed(struct store *st, const char *name, const char *edit)
{
	struct seed_stats stats = {0, 0};
	struct gb_err err;
	char cmd[2048], path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' && cp -r '%s' '%s' && cd '%s' && { %s; }", path,
		 GB_SEEDDIR, path, path, edit);
	CHECK(system(cmd) == 0);
	CHECK(seed_load(st, path, &stats, &err) == 0);
	return stats.changed;
}

/* Every report at every level over from..to as JSON, one after the
 * other. */
static void every_json(struct store *st, const char *from, const char *to,
		       int64_t now, struct gb_buf *out)
{
	static const char *const levels[] = {"district", "street", "grid",
					     "area", "community"};
	struct gb_err err;

	for (size_t k = 0; k < reports_count(); k++)
		for (size_t l = 0; l < 5; l++) {
			struct report *r = NULL;

			if (report_run(st, reports_name(k), levels[l], from, to,
				       now, &r, &err) == 0)
				CHECK(report_write_json(r, out, &err) == 0);
			report_free(r);
		}
}

/* The reports before and after the facts are built again from nothing
 * must be the same text. */
static void check_rebuild_same(struct store *st, const char *from,
			       const char *to, int64_t now)
{
	struct gb_buf before, after;
	struct gb_err err;

	gb_buf_init(&before, GB_BUF_NOLIMIT);
	gb_buf_init(&after, GB_BUF_NOLIMIT);
	every_json(st, from, to, now, &before);
	CHECK(rollup_rebuild(st, &err) == 0);
	every_json(st, from, to, now, &after);
	CHECK(before.len > 10000);
	CHECK(before.len == after.len &&
	      !strcmp(gb_buf_str(&before), gb_buf_str(&after)));
	gb_buf_release(&before);
	gb_buf_release(&after);
}

/*
 * A record made and edited in one batch: the first version is new (its
 * facts are written without reading any), the second finds them and
 * takes them off.  A daily report dated 03-05 then re-dated 03-06, and a
 * patrol entered and voided, all in one batch of a fresh store: J0002
 * covers one day, no night counts, and a rebuild gives the same facts.
 */
static void test_fresh_in_one_batch(void)
{
	const char *F = "2026-03-02", *T = "2026-03-15";
	int64_t now = at("2026-03-20 10:00");
	struct store *st = NULL;
	struct gb_record *recs[4];
	struct seed_stats stats;
	struct dev dofs, *dof = &dofs; /* as DAILY and PAT name it */
	struct gb_err err;
	struct report *r;
	char path[128];

	snprintf(path, sizeof(path), "%s/fresh.db", dir);
	CHECK(store_sqlite_open(&st, path, STORE_SERVE, &err) == 0);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK(seed_load(st, GB_SEEDDIR, &stats, &err) == 0);
	dev_init(st, dof, "0190c000-0000-7000-8000-0000000000f2", "S01-G1",
		 "officer");
	recs[0] = mk("daily_report", dof, 900, 100, "J0001", "officer=J0002",
		     "date=2026-03-05", DAILY);
	recs[1] = mk("daily_report", dof, 900, 200, "J0001", "officer=J0002",
		     "date=2026-03-06", DAILY);
	recs[2] = PAT(550, 100, "PA-01", "J0001", "B0001,B0002",
		      "2026-03-03 22:00", "2026-03-04 01:00");
	recs[3] = PAT(550, 100, "PA-01", "J0001", "B0001,B0002",
		      "2026-03-03 22:00", "2026-03-04 01:00");
	recs[3] = voided(recs[3], 200);
	send(st, dof, now, recs, 4, 0);

	r = run(st, "daily-reports", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "covered"), "1");
	report_free(r);
	r = run(st, "night-patrol", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "complying"), "0");
	report_free(r);
	check_rebuild_same(st, F, T, now);
	st->ops->close(st);
}
#undef DAILY
#undef PAT

static void test_writers(struct store *st);
static void test_params(struct store *st);
static void test_upgrade(struct store *st, const char *path, int64_t now);

static void test_fixture(void)
{
	struct store *st = NULL;
	struct dev dc, dc2, dof, viewer;
	struct seed_stats stats;
	struct gb_err err;
	struct report *r;
	char path[128];
	/* The period is Monday 2026-03-02 .. Sunday 2026-03-15: 14 days,
	 * two whole ISO weeks (W10, W11); the report runs on 2026-03-20,
	 * so "as of" is the end of 03-15, 2026-03-16 00:00. */
	const char *F = "2026-03-02", *T = "2026-03-15";
	int64_t now = at("2026-03-20 10:00");
	int64_t t1 = at("2026-03-14 12:00"), t2 = now;

	snprintf(path, sizeof(path), "%s/fixture.db", dir);
	CHECK(store_sqlite_open(&st, path, STORE_SERVE, &err) == 0);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK(seed_load(st, GB_SEEDDIR, &stats, &err) == 0);
	dev_init(st, &dc, "0190c000-0000-7000-8000-0000000000c1", "S01-G1",
		 "coordinator");
	dev_init(st, &dc2, "0190c000-0000-7000-8000-0000000000c2", "S01-G2",
		 "coordinator");
	dev_init(st, &dof, "0190c000-0000-7000-8000-0000000000f1", "S01-G1",
		 "officer");
	dev_init(st, &viewer, "0190c000-0000-7000-8000-0000000000a1", "S01-G1",
		 "viewer");
	fixture_labour(st, &dc, &dc2, t1, t2);
	fixture_police(st, &dof, t1, t2);

	/*
	 * contract-rate.  Active enterprises: E1, E2, E4 (closed, then
	 * edited to active), E6; E3 is closed, E5 voided.  Latest check in
	 * 03-02..03-15: E1 C2 (03-10, 40/36; the later C8 is voided), E2 C4
	 * (same date as C3, higher version: 10/8), E4 C5 (0/0, no
	 * employees).  C6 (E3 closed) and C7 (E5 voided) do not count.  So
	 * 3 enterprises, 50 employees, 44 signed: 88.00 %.  Previous period
	 * 02-16..03-01: E1 C9 as edited (03-01, 40/24), E6 C10 (50/45): 90
	 * and 69, 76.67 %; change 88 - 76.667 = 11.33 points.
	 */
	r = run(st, "contract-rate", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "enterprises"), "3");
	CHECK_STR(val(r, "S01-G1", "employees"), "50");
	CHECK_STR(val(r, "S01-G1", "signed"), "44");
	CHECK_STR(val(r, "S01-G1", "rate_pct"), "88.00");
	CHECK_STR(val(r, "S01-G1", "prev_rate_pct"), "76.67");
	CHECK_STR(val(r, "S01-G1", "delta_pp"), "11.33");
	/* S01-G2 has no check at all: nothing to divide. */
	CHECK_STR(val(r, "S01-G2", "rate_pct"), "null");
	CHECK_STR(val(r, "S01-G2", "delta_pp"), "null");
	CHECK_STR(val(r, "total", "rate_pct"), "88.00");
	CHECK(r && r->has_prev && r->prev_from == r->from - 14);
	/* Completeness: only S01-G1's coordinator laptop synced since 03-02
	 * (S01-G2's last batch was on 02-20). */
	CHECK(r && r->grids == 32 && r->synced == 1);
	CHECK(r && r->nnot_synced == 31 && r->synced_role &&
	      !strcmp(r->synced_role, "coordinator"));
	report_free(r);

	/* check-coverage: S01-G1 active E1 E2 E4 E6 (4), checked E1 E2 E4
	 * (3): 75.00 %.  S01-G2 has one active enterprise, but its laptop
	 * has sent nothing since 02-20, before the period: not 0.00 % but
	 * null (unknown), and left out of the street and the district:
	 * street S01 is 4 and 3, 75.00 %, not 5 and 3. */
	r = run(st, "check-coverage", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "active"), "4");
	CHECK_STR(val(r, "S01-G1", "checked"), "3");
	CHECK_STR(val(r, "S01-G1", "coverage_pct"), "75.00");
	CHECK_STR(val(r, "S01-G1", "complete"), "true");
	CHECK_STR(val(r, "S01-G2", "coverage_pct"), "null");
	CHECK_STR(val(r, "S01-G2", "active"), "null");
	CHECK_STR(val(r, "S01-G2", "complete"), "false");
	CHECK_STR(val(r, "S01-G3", "coverage_pct"), "null");
	report_free(r);
	r = run(st, "check-coverage", "street", F, T, now);
	CHECK_STR(val(r, "S01", "active"), "4");
	CHECK_STR(val(r, "S01", "coverage_pct"), "75.00");
	CHECK_STR(val(r, "S01", "complete"), "false");
	CHECK_STR(val(r, "S02", "active"), "null");
	CHECK_STR(val(r, "total", "coverage_pct"), "75.00");
	report_free(r);

	/*
	 * rectification.  In the period: notice C2; orders C3 (deadline
	 * 03-12), C4 (03-09), C6 (03-08, closed E3 still counts): 1 + 3 =
	 * 4 issued.  C3 rectified 03-11: on time.  C4's 03-08 follow-up
	 * was edited to not_yet, its first rectified one is 03-10, after
	 * 03-09: rectified, late.  C6's only follow-up is voided: overdue
	 * as of 03-16, 03-16 - 03-08 = 8 days.  C11 is an order of the
	 * voided E5: it does not count (it would be overdue).  Orders 3 =
	 * on time 1 + late 1 + overdue 1 + pending 0.
	 */
	r = run(st, "rectification", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "notices"), "1");
	CHECK_STR(val(r, "S01-G1", "orders"), "3");
	CHECK_STR(val(r, "S01-G1", "issued"), "4");
	CHECK_STR(val(r, "S01-G1", "rectified"), "2");
	CHECK_STR(val(r, "S01-G1", "on_time"), "1");
	CHECK_STR(val(r, "S01-G1", "late"), "1");
	CHECK_STR(val(r, "S01-G1", "overdue"), "1");
	CHECK_STR(val(r, "S01-G1", "pending"), "0");
	CHECK(ndet(r, "overdue") == 1);
	CHECK_STR(det(r, "overdue", 0, "enterprise"), "望川区晨光电子有限公司");
	CHECK_STR(det(r, "overdue", 0, "deadline"), "2026-03-08");
	CHECK_STR(det(r, "overdue", 0, "days_overdue"), "8");
	report_free(r);
	/* Periods ending earlier.  On time and rectified are outcomes:
	 * what is known now, whenever the follow-up was dated.  As of the
	 * end of 03-07 (as-of date 03-08): C3 rectified 03-11 <= 03-12, on
	 * time; C4 (due 03-09, rectified 03-10, late) and C6 (due 03-08)
	 * were not yet due and not rectified: 2 pending, 0 overdue;
	 * rectified 2 (C3, C4); 3 = 1 + 0 + 0 + 2. */
	r = run(st, "rectification", "grid", F, "2026-03-07", now);
	CHECK_STR(val(r, "S01-G1", "overdue"), "0");
	CHECK_STR(val(r, "S01-G1", "rectified"), "2");
	CHECK_STR(val(r, "S01-G1", "on_time"), "1");
	CHECK_STR(val(r, "S01-G1", "late"), "0");
	CHECK_STR(val(r, "S01-G1", "pending"), "2");
	report_free(r);
	/* As of the end of 03-08, C6's deadline day is over: one day
	 * overdue; C4 still pending (due 03-09): 3 = 1 + 0 + 1 + 1. */
	r = run(st, "rectification", "grid", F, "2026-03-08", now);
	CHECK_STR(val(r, "S01-G1", "overdue"), "1");
	CHECK_STR(val(r, "S01-G1", "pending"), "1");
	CHECK_STR(det(r, "overdue", 0, "days_overdue"), "1");
	report_free(r);
	/* As of the end of 03-09, C4 (deadline 03-09, rectified 03-10) is
	 * overdue too: 3 = 1 + 0 + 2 + 0; as of the end of 03-10 it is
	 * rectified, late: 3 = 1 + 1 + 1 + 0. */
	r = run(st, "rectification", "grid", F, "2026-03-09", now);
	CHECK_STR(val(r, "S01-G1", "overdue"), "2");
	CHECK_STR(val(r, "S01-G1", "late"), "0");
	report_free(r);
	r = run(st, "rectification", "grid", F, "2026-03-10", now);
	CHECK_STR(val(r, "S01-G1", "overdue"), "1");
	CHECK_STR(val(r, "S01-G1", "rectified"), "2");
	CHECK_STR(val(r, "S01-G1", "on_time"), "1");
	CHECK_STR(val(r, "S01-G1", "late"), "1");
	CHECK_STR(val(r, "S01-G1", "pending"), "0");
	report_free(r);

	/*
	 * disputes received 03-02..03-15: D1 community mediated, D2 street
	 * closed, D3 district closed, D4 community open, D5 street
	 * escalated, D7 community mediated (edited from open); D6 voided,
	 * D8 received 02-28, D9 of the voided E5.  6 received: community 3,
	 * street 2, district
	 * 1; open 1, mediated 2, escalated 1, closed 2; no longer open 5;
	 * settled low D1 D2 D7 = 3: 60.00 %.
	 */
	r = run(st, "disputes", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "received"), "6");
	CHECK_STR(val(r, "S01-G1", "community"), "3");
	CHECK_STR(val(r, "S01-G1", "street"), "2");
	CHECK_STR(val(r, "S01-G1", "district"), "1");
	CHECK_STR(val(r, "S01-G1", "open"), "1");
	CHECK_STR(val(r, "S01-G1", "mediated"), "2");
	CHECK_STR(val(r, "S01-G1", "escalated"), "1");
	CHECK_STR(val(r, "S01-G1", "closed"), "2");
	CHECK_STR(val(r, "S01-G1", "not_open"), "5");
	CHECK_STR(val(r, "S01-G1", "closed_low"), "3");
	CHECK_STR(val(r, "S01-G1", "closed_low_pct"), "60.00");
	report_free(r);

	/*
	 * staffing (reference data).  PA-01: 2510 + 3066 = 5576 residents,
	 * J0001 J0002 J0003 = 3 officers, 2 guards, 1858.7 per officer:
	 * meets.  PA-02: 2860 + 3637 + 4952 = 11449, 4 officers, 3 guards,
	 * 2862.25 -> 2862.3: meets.  PA-37 misses by 9029 / 3 = 3009.7; the
	 * district has 55 of 59 areas meeting (seeds/README.md).
	 */
	r = run(st, "staffing", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "residents"), "5576");
	CHECK_STR(val(r, "PA-01", "officers"), "3");
	CHECK_STR(val(r, "PA-01", "guards"), "2");
	CHECK_STR(val(r, "PA-01", "per_officer"), "1858.7");
	CHECK_STR(val(r, "PA-02", "per_officer"), "2862.3");
	CHECK_STR(val(r, "PA-02", "meeting"), "1");
	CHECK_STR(val(r, "PA-37", "per_officer"), "3009.7");
	CHECK_STR(val(r, "PA-37", "meeting"), "0");
	CHECK_STR(val(r, "PA-27", "per_officer"), "3000.0");
	CHECK_STR(val(r, "PA-27", "meeting"), "1");
	CHECK_STR(val(r, "total", "areas"), "59");
	CHECK_STR(val(r, "total", "meeting"), "55");
	CHECK(ndet(r, "not_meeting") == 4);
	CHECK_STR(det(r, "not_meeting", 0, "area"), "PA-08");
	CHECK_STR(det(r, "not_meeting", 0, "officers"), "2");
	report_free(r);
	r = run(st, "staffing", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "areas"), "2");
	CHECK_STR(val(r, "S01-G1", "residents"), "17025");
	CHECK_STR(val(r, "S01-G1", "officers"), "7");
	CHECK_STR(val(r, "S01-G1", "guards"), "5");
	CHECK_STR(val(r, "S01-G1", "per_officer"), "2432.1");
	report_free(r);

	/*
	 * night-patrol, nights of 03-02..03-15 (each 22:00 to 06:00).
	 * PA-01: 02 P1 (21:00-01:00, across midnight) yes; 03 P2 has one
	 * guard: no; 04 P3 (03-05 05:00-07:00) yes; 05 P4 has no
	 * guard at all: no; 06 P5 edited down to one guard:
	 * no; 07 P6 voided: no; 08 P7 by day: no; 09 P8 ends at 22:00 and
	 * P9 starts at 06:00, neither overlaps: no; 10 P10 yes; 11 P11 yes;
	 * 12 P12 yes; 13 P13 (03-14 03:00) yes; 14 P14 yes; 15 P15 (03-16
	 * 02:00) yes.  8 of 14 nights: 57.14 %; missed 03, 05..09.  PA-02:
	 * P16 on 02 only: 1 of 14.  S01-G1: 9 of 28, 32.14 %.  No other
	 * grid's officer laptop has sent anything: PA-03 and the rest are
	 * null, and the district is S01-G1's 28 area-nights, not 59 x 14 =
	 * 826 with 798 unknown ones counted as missed.
	 */
	r = run(st, "night-patrol", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "nights"), "14");
	CHECK_STR(val(r, "PA-01", "complying"), "8");
	CHECK_STR(val(r, "PA-01", "missed"), "6");
	CHECK_STR(val(r, "PA-01", "share_pct"), "57.14");
	CHECK_STR(val(r, "PA-02", "complying"), "1");
	CHECK_STR(val(r, "PA-03", "complying"), "null");
	CHECK_STR(val(r, "PA-03", "share_pct"), "null");
	CHECK_STR(det(r, "missed", 0, "area"), "PA-01");
	CHECK_STR(det(r, "missed", 0, "nights"),
		  "2026-03-03, 2026-03-05..2026-03-09");
	CHECK_STR(val(r, "total", "nights"), "28"); /* 2 areas x 14 */
	CHECK_STR(val(r, "total", "complying"), "9");
	CHECK(r && r->left_key && !strcmp(r->left_key, "nights") &&
	      r->left_out == 0);
	report_free(r);
	r = run(st, "night-patrol", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "nights"), "28");
	CHECK_STR(val(r, "S01-G1", "complying"), "9");
	CHECK_STR(val(r, "S01-G1", "share_pct"), "32.14");
	report_free(r);

	/*
	 * reception, ISO weeks W10 (03-02..03-08) and W11 (03-09..03-15).
	 * J0001: W10 3 h (03-02) + 2 h of the reception 03-08 22:00-03-09
	 * 01:00 = 5 h (meets), W11 its other 1 h + 4 h (03-10) = 5 h
	 * (meets); the one of 03-01 is in W09.  J0002: W10 3 h (edited from
	 * 2 h): below; W11 none (03-16 is W12): below.  J0003: W10 voided:
	 * 0 h below; W11 6 h.  PA-01: 3 officers, 6 officer-weeks, 5 + 5 +
	 * 3 + 6 = 19 h, 3.17 h per officer-week, 3 below, 50.00 %.  PA-02:
	 * 4 officers, nothing: 8 below.  S01-G1: 7 officers, 14
	 * officer-weeks, 19 h, 1.36, 11 below, 21.43 %.
	 */
	r = run(st, "reception", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "officers"), "3");
	CHECK_STR(val(r, "PA-01", "weeks"), "2");
	CHECK_STR(val(r, "PA-01", "officer_weeks"), "6");
	CHECK_STR(val(r, "PA-01", "hours"), "19.00");
	CHECK_STR(val(r, "PA-01", "avg_hours"), "3.17");
	CHECK_STR(val(r, "PA-01", "below"), "3");
	CHECK_STR(val(r, "PA-01", "meeting_pct"), "50.00");
	CHECK_STR(val(r, "PA-02", "below"), "8");
	CHECK_STR(det(r, "below_target", 0, "officer"), "J0002");
	CHECK_STR(det(r, "below_target", 0, "week"), "2026-W10");
	CHECK_STR(det(r, "below_target", 0, "hours"), "3.00");
	CHECK_STR(det(r, "below_target", 1, "week"), "2026-W11");
	CHECK_STR(det(r, "below_target", 2, "officer"), "J0003");
	CHECK_STR(det(r, "below_target", 2, "hours"), "0.00");
	report_free(r);
	r = run(st, "reception", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "officer_weeks"), "14");
	CHECK_STR(val(r, "S01-G1", "hours"), "19.00");
	CHECK_STR(val(r, "S01-G1", "avg_hours"), "1.36");
	CHECK_STR(val(r, "S01-G1", "below"), "11");
	CHECK_STR(val(r, "S01-G1", "meeting_pct"), "21.43");
	report_free(r);
	/* 03-03..03-15 holds only W11 whole. */
	r = run(st, "reception", "area", "2026-03-03", T, now);
	CHECK_STR(val(r, "PA-01", "weeks"), "1");
	CHECK_STR(val(r, "PA-01", "hours"), "11.00");
	report_free(r);

	/*
	 * requests received 03-02..03-15, as of 03-16 00:00.  Q1 urgent
	 * 03-03 10:00, deadline 11:00 (from the priority), resolved at
	 * 11:00 exactly: on time, 1 h.  Q2 normal, deadline 03-05 10:00,
	 * resolved 12:00: late, 26 h.  Q3 low 03-13 (Friday) 09:00, deadline
	 * 5 working days on, 03-20 09:00: open, not past.  Q4 normal 03-14
	 * 09:00, deadline 03-15 09:00: open past deadline by 15 h.  Q5
	 * urgent 03-15 20:00, resolved 03-17 10:00, after as-of but known
	 * now (resolved is an outcome): late (deadline 21:00), 38 h.  Q6
	 * voided, Q8 received 03-01.  Q7 (PA-02) edited to resolved 03-06
	 * 20:00, 10 h after: on time.  Q9 (PA-02) low, Saturday 03-14, due
	 * 03-23 00:00.  S01-G1: 7 received (alarm Q1 Q5, help Q2 Q4,
	 * inquiry Q3 Q7 Q9), 4 resolved, 2 on time, 2 late, 3 open: Q4 past
	 * deadline, Q3 and Q9 pending; 7 = 2 + 2 + 1 + 2.  On time 2 /
	 * (4 + 1) = 40.00 %; median of 1, 10, 26, 38 h = (10 + 26) / 2 =
	 * 18.00.  PA-01: Q1 Q2 Q5 resolved, 1 on time, Q4 past: 1 / (3 + 1)
	 * = 25.00 %, median of 1, 26, 38 = 26.00.
	 */
	r = run(st, "requests", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "received"), "7");
	CHECK_STR(val(r, "S01-G1", "alarm"), "2");
	CHECK_STR(val(r, "S01-G1", "help"), "2");
	CHECK_STR(val(r, "S01-G1", "inquiry"), "3");
	CHECK_STR(val(r, "S01-G1", "resolved"), "4");
	CHECK_STR(val(r, "S01-G1", "on_time"), "2");
	CHECK_STR(val(r, "S01-G1", "late"), "2");
	CHECK_STR(val(r, "S01-G1", "open"), "3");
	CHECK_STR(val(r, "S01-G1", "open_past_deadline"), "1");
	CHECK_STR(val(r, "S01-G1", "pending"), "2");
	CHECK_STR(val(r, "S01-G1", "on_time_pct"), "40.00");
	CHECK_STR(val(r, "S01-G1", "median_hours"), "18.00");
	CHECK(ndet(r, "open_past_deadline") == 1);
	CHECK_STR(det(r, "open_past_deadline", 0, "hours_past"), "15.00");
	CHECK_STR(det(r, "open_past_deadline", 0, "deadline"),
		  "2026-03-15 09:00");
	report_free(r);
	r = run(st, "requests", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "on_time_pct"), "25.00");
	CHECK_STR(val(r, "PA-01", "median_hours"), "26.00");
	CHECK_STR(val(r, "PA-02", "on_time_pct"), "100.00");
	CHECK_STR(val(r, "PA-03", "median_hours"), "null");
	report_free(r);
	/* Now earlier than the end of the period: as of 03-15 20:30, Q4
	 * is 11.5 h past its deadline; Q3 and Q9 are not yet due. */
	r = run(st, "requests", "grid", F, T, at("2026-03-15 20:30"));
	CHECK_STR(val(r, "S01-G1", "open_past_deadline"), "1");
	CHECK_STR(val(r, "S01-G1", "pending"), "2");
	CHECK_STR(det(r, "open_past_deadline", 0, "hours_past"), "11.50");
	report_free(r);
	/* As of 03-23 00:00 (the period to 03-22, run on 03-25), Q9 is due
	 * at that very instant: still pending, not past (counted from its
	 * own hour, it would have been due Friday 03-20 10:00). */
	r = run(st, "requests", "area", F, "2026-03-22",
		at("2026-03-25 10:00"));
	CHECK_STR(val(r, "PA-02", "open_past_deadline"), "0");
	CHECK_STR(val(r, "PA-02", "pending"), "1");
	report_free(r);

	/*
	 * daily-reports, 14 days.  J0001 every day (14); J0002 all but 03-05
	 * (its report voided) and 03-06 (its report re-dated 03-07, a day
	 * already covered): 12; J0003 only after the period; the four of
	 * PA-02 none.  PA-01 3 officers x 14 = 42, 26 covered, 61.90 %.
	 * S01-G1 7 x 14 = 98, 26, 26.53 %.
	 */
	r = run(st, "daily-reports", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "officer_days"), "42");
	CHECK_STR(val(r, "PA-01", "covered"), "26");
	CHECK_STR(val(r, "PA-01", "share_pct"), "61.90");
	CHECK_STR(det(r, "gaps", 0, "officer"), "J0002");
	CHECK_STR(det(r, "gaps", 0, "missed"), "2");
	CHECK_STR(det(r, "gaps", 0, "days"), "2026-03-05..2026-03-06");
	CHECK_STR(det(r, "gaps", 1, "days"), "2026-03-02..2026-03-15");
	report_free(r);
	r = run(st, "daily-reports", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "officer_days"), "98");
	CHECK_STR(val(r, "S01-G1", "covered"), "26");
	CHECK_STR(val(r, "S01-G1", "missed"), "72");
	CHECK_STR(val(r, "S01-G1", "share_pct"), "26.53");
	report_free(r);

	/*
	 * patrol-teams (reference data).  S01-G1: C01 2510/82 cases/6: 1.5
	 * per mille needs 6 x 2000 >= 2510 x 3 (12000 >= 7530) yes; C02 3066
	 * /103/8: 2 per mille, 8000 >= 6132 yes; C03 yes; C04 yes; C05 4952
	 * /34/6: 12000 >= 14856 no.  4 of 5, 80.00 %.  S01-C23 has exactly
	 * 100 cases and 14 per 7000 = 2 per mille: meets; S02-C02 has 100
	 * cases and 10 per 6454: needs 13.  District: 120 of 141.
	 */
	r = run(st, "patrol-teams", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "communities"), "5");
	CHECK_STR(val(r, "S01-G1", "meeting"), "4");
	CHECK_STR(val(r, "S01-G1", "share_pct"), "80.00");
	CHECK_STR(val(r, "total", "communities"), "141");
	CHECK_STR(val(r, "total", "meeting"), "120");
	CHECK_STR(val(r, "total", "share_pct"), "85.11");
	report_free(r);
	r = run(st, "patrol-teams", "community", F, T, now);
	CHECK_STR(val(r, "S01-C23", "meeting"), "1");
	CHECK_STR(val(r, "S01-C23", "per_mille"), "2.00");
	CHECK_STR(val(r, "S02-C02", "meeting"), "0");
	CHECK(ndet(r, "below_target") == 21);
	for (size_t i = 0; i < ndet(r, "below_target"); i++)
		if (!strcmp(det(r, "below_target", i, "community"),
			    "S02-C02")) {
			CHECK_STR(det(r, "below_target", i, "needed"), "13");
			CHECK_STR(det(r, "below_target", i, "target_per_mille"),
				  "2.0");
		}
	report_free(r);

	/*
	 * sync-health.  S01-G1: the coordinator's and the officer's laptops
	 * (the viewer does not count); batches received in the period are
	 * those of 03-14 (one of the coordinator's, one of the officer's);
	 * both synced last on 03-20.  S01-G2: one device, last batch 02-20,
	 * not synced since the period began.
	 */
	r = run(st, "sync-health", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "devices"), "2");
	CHECK_STR(val(r, "S01-G1", "synced"), "1");
	CHECK_STR(val(r, "S01-G1", "batches"), "2");
	CHECK_STR(val(r, "S01-G1", "last_sync"), "2026-03-20 10:00");
	CHECK_STR(val(r, "S01-G2", "synced"), "0");
	CHECK_STR(val(r, "S01-G2", "batches"), "0");
	CHECK_STR(val(r, "S01-G2", "last_sync"), "2026-02-20 10:00");
	CHECK_STR(val(r, "total", "grids"), "32");
	CHECK_STR(val(r, "total", "synced"), "1");
	CHECK_STR(val(r, "total", "devices"), "3");
	CHECK(ndet(r, "devices") == 3);
	/* Left unsent: what the officer's latest batch said (3, the oldest
	 * from 03-14 18:00, 30 hours before the period's end, 03-16 00:00);
	 * the coordinators' batches said nothing. */
	CHECK_STR(val(r, "S01-G1", "unsent"), "3");
	CHECK_STR(val(r, "S01-G1", "oldest_unsent"), "2026-03-14 18:00");
	CHECK_STR(val(r, "S01-G2", "unsent"), "null");
	CHECK_STR(val(r, "S01-G2", "oldest_unsent"), "null");
	CHECK_STR(val(r, "total", "unsent"), "3");
	for (size_t i = 0; i < ndet(r, "devices"); i++) {
		int officer = !strcmp(det(r, "devices", i, "role"), "officer");

		CHECK_STR(det(r, "devices", i, "unsent"), officer ? "3" : "");
		CHECK_STR(det(r, "devices", i, "oldest_unsent"),
			  officer ? "2026-03-14 18:00" : "");
		CHECK_STR(det(r, "devices", i, "unsent_hours"),
			  officer ? "30.00" : "");
	}
	CHECK(ndet(r, "not_synced") == 31);
	CHECK(r && r->synced == 1 && !r->synced_role);
	report_free(r);
	/* Records in the period: the batches of 03-14, the coordinator's 6
	 * enterprises, 11 checks and 9 disputes and the officer's 14
	 * patrols, 7 receptions and 7 requests: 26 + 28 = 54. */
	r = run(st, "sync-health", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "records"), "54");
	report_free(r);

	/* A rebuild from the stored records gives the same facts. */
	{
		struct report *a = run(st, "night-patrol", "area", F, T, now);
		struct report *b;
		struct gb_buf ja, jb;

		CHECK(rollup_rebuild(st, &err) == 0);
		b = run(st, "night-patrol", "area", F, T, now);
		gb_buf_init(&ja, GB_BUF_NOLIMIT);
		gb_buf_init(&jb, GB_BUF_NOLIMIT);
		CHECK(a && b && report_write_json(a, &ja, &err) == 0 &&
		      report_write_json(b, &jb, &err) == 0);
		CHECK_STR(gb_buf_str(&ja), gb_buf_str(&jb));
		gb_buf_release(&ja);
		gb_buf_release(&jb);
		report_free(a);
		report_free(b);
	}

	/*
	 * Time not yet lived.  The night of 03-15 ends at 03-16 06:00: at
	 * 03-16 03:00 it is left out (13 nights; PA-01 7 complying, P15 of
	 * 03-16 02:00 not yet counted: 53.85 %), at 06:00 it counts (14,
	 * 8).  Daily reports: 03-15 ended at 03-16 00:00, all 14 count.
	 */
	r = run(st, "night-patrol", "area", F, T, at("2026-03-16 03:00"));
	CHECK_STR(val(r, "PA-01", "nights"), "13");
	CHECK_STR(val(r, "PA-01", "complying"), "7");
	CHECK_STR(val(r, "PA-01", "share_pct"), "53.85");
	CHECK(r && r->left_out == 1);
	report_free(r);
	r = run(st, "night-patrol", "area", F, T, at("2026-03-16 06:00"));
	CHECK_STR(val(r, "PA-01", "nights"), "14");
	CHECK_STR(val(r, "PA-01", "complying"), "8");
	CHECK(r && r->left_out == 0);
	report_free(r);
	r = run(st, "daily-reports", "area", F, T, at("2026-03-16 03:00"));
	CHECK_STR(val(r, "PA-01", "days"), "14");
	CHECK(r && r->left_out == 0);
	report_free(r);
	/*
	 * A period ending today, run at 03-15 12:00: tonight (03-15), today
	 * and ISO week W11 (ends 03-16 00:00) have not ended and are left
	 * out.  night-patrol PA-01: 03-02..03-14, 13 nights, 7 complying.
	 * daily-reports PA-01: 13 days x 3 officers = 39; J0001 13, J0002
	 * 13 - 2 (03-05, 03-06) = 11, J0003 0: 24, 61.54 % (not 26 / 42
	 * with today as a missing day).  reception PA-01: W10 only, J0001
	 * 5 h, J0002 3 h, J0003 0 h: 8 h, 2 below of 3, 33.33 %.
	 */
	{
		int64_t noon = at("2026-03-15 12:00");

		r = run(st, "night-patrol", "area", F, T, noon);
		CHECK_STR(val(r, "PA-01", "nights"), "13");
		CHECK_STR(val(r, "PA-01", "complying"), "7");
		CHECK(r && r->left_out == 1);
		report_free(r);
		r = run(st, "daily-reports", "area", F, T, noon);
		CHECK_STR(val(r, "PA-01", "days"), "13");
		CHECK_STR(val(r, "PA-01", "officer_days"), "39");
		CHECK_STR(val(r, "PA-01", "covered"), "24");
		CHECK_STR(val(r, "PA-01", "share_pct"), "61.54");
		CHECK(r && r->left_key && !strcmp(r->left_key, "days") &&
		      r->left_out == 1);
		report_free(r);
		r = run(st, "reception", "area", F, T, noon);
		CHECK_STR(val(r, "PA-01", "weeks"), "1");
		CHECK_STR(val(r, "PA-01", "officer_weeks"), "3");
		CHECK_STR(val(r, "PA-01", "hours"), "8.00");
		CHECK_STR(val(r, "PA-01", "below"), "2");
		CHECK_STR(val(r, "PA-01", "meeting_pct"), "33.33");
		CHECK(r && r->left_key && !strcmp(r->left_key, "weeks") &&
		      r->left_out == 1);
		report_free(r);
	}
	/*
	 * A period ending in the future, 03-16..03-22, run at 03-20 10:00:
	 * nights 03-16..03-19 have ended (4, 3 left out), none with a
	 * patrol: 0 of 4; days 03-16..03-19 (4, 3 left out), 3 officers x 4
	 * = 12, only J0003's report of 03-16: 8.33 %; W12 ends 03-23: no
	 * week counts, 1 left out, nothing to divide.
	 */
	r = run(st, "night-patrol", "area", "2026-03-16", "2026-03-22", now);
	CHECK_STR(val(r, "PA-01", "nights"), "4");
	CHECK_STR(val(r, "PA-01", "share_pct"), "0.00");
	CHECK(r && r->left_out == 3);
	report_free(r);
	r = run(st, "daily-reports", "area", "2026-03-16", "2026-03-22", now);
	CHECK_STR(val(r, "PA-01", "officer_days"), "12");
	CHECK_STR(val(r, "PA-01", "covered"), "1");
	CHECK_STR(val(r, "PA-01", "share_pct"), "8.33");
	CHECK(r && r->left_out == 3);
	report_free(r);
	r = run(st, "reception", "area", "2026-03-16", "2026-03-22", now);
	CHECK_STR(val(r, "PA-01", "officer_weeks"), "0");
	CHECK_STR(val(r, "PA-01", "meeting_pct"), "null");
	CHECK(r && r->left_out == 1);
	report_free(r);

	/*
	 * A re-seed: J0002 becomes a guard, S01-C01's population goes from
	 * 2510 to 4010.  Reports read roles and populations as they are now,
	 * before any rebuild.  night-patrol PA-01: P10 (night 03-10) was led
	 * by J0002: 7 of 14, 50.00 %.  staffing PA-01: 4010 + 3066 = 7076
	 * residents, officers J0001 J0003 (2), guards 3, 3538.0 per
	 * officer: misses.  daily-reports PA-01: 2 x 14 = 28, J0001's 14:
	 * 50.00 %.  patrol-teams S01-G1: C01 6 x 2000 = 12000 < 4010 x 3 =
	 * 12030 misses: 3 of 5, 60.00 %.  Then facts rebuilt from nothing
	 * give every report the same.
	 */
	CHECK(reseed(st, "reseed1",
		     "sed -i 's/^J0002,冯桂英,officer,/J0002,冯桂英,guard,/' "
		     "staff.csv && sed -i 's/^S01-C01,S01-G1,东风社区,2510,/"
		     "S01-C01,S01-G1,东风社区,4010,/' communities.csv") == 2);
	r = run(st, "night-patrol", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "complying"), "7");
	CHECK_STR(val(r, "PA-01", "share_pct"), "50.00");
	report_free(r);
	r = run(st, "staffing", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "residents"), "7076");
	CHECK_STR(val(r, "PA-01", "officers"), "2");
	CHECK_STR(val(r, "PA-01", "guards"), "3");
	CHECK_STR(val(r, "PA-01", "per_officer"), "3538.0");
	CHECK_STR(val(r, "PA-01", "meeting"), "0");
	report_free(r);
	r = run(st, "daily-reports", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "officer_days"), "28");
	CHECK_STR(val(r, "PA-01", "share_pct"), "50.00");
	report_free(r);
	r = run(st, "patrol-teams", "grid", F, T, now);
	CHECK_STR(val(r, "S01-G1", "meeting"), "3");
	CHECK_STR(val(r, "S01-G1", "share_pct"), "60.00");
	report_free(r);
	check_rebuild_same(st, F, T, now);
	/* And back as it was. */
	CHECK(reseed(st, "reseed0", "true") == 2);
	r = run(st, "night-patrol", "area", F, T, now);
	CHECK_STR(val(r, "PA-01", "complying"), "8");
	report_free(r);

	test_writers(st);
	test_params(st);
	test_upgrade(st, path, now);
}

/* ---- generated data, edited at random ---- */

#define GEN_GRIDS "S01-G1,S03-G4,S05-G2"
#define GEN_FROM "2026-01-05"
#define GEN_TO "2026-02-22"
#define GEN_NOW "2026-03-01 10:00"
#define BATCH 150

struct loader {
	struct store *st;
	struct dev dev;
	int64_t now;
	struct gb_record *batch[BATCH];
	size_t n;
	struct gb_record **keep; /* every fifth record, to edit later */
	size_t nkeep, cap;
	long seen;
};

static void flush(struct loader *l)
{
	if (l->n)
		send(l->st, &l->dev, l->now, l->batch, l->n, 0);
	l->n = 0;
}

static int collect(void *arg, const struct gb_record *r)
{
	struct loader *l = arg;

	l->batch[l->n++] = gb_record_dup(r);
	if (++l->seen % 5 == 0) {
		if (l->nkeep == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->keep = xrealloc(l->keep, l->cap * sizeof(*l->keep));
		}
		l->keep[l->nkeep++] = gb_record_dup(r);
	}
	if (l->n == BATCH)
		flush(l);
	return 0;
}

static void set_ms(struct gb_record *r, const char *field, int64_t ms)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", (long long)ms);
	gb_record_set_name(r, field, s);
}

static int64_t get_ms(const struct gb_record *r, const char *field)
{
	const char *s = gb_record_get(r, field);

	return s ? strtoll(s, NULL, 10) : 0;
}

static void shift_date(struct gb_record *r, const char *field, int days)
{
	struct gb_err err;
	int32_t d;
	char s[16];

	if (!gb_record_get(r, field) ||
	    gb_date_parse(gb_record_get(r, field), &d, &err) < 0)
		return;
	gb_date_format(d + days, s);
	gb_record_set_name(r, field, s);
}

/* A new version of r that changes what the reports count (and may make
 * it invalid, in which case the server refuses it and nothing changes). */
static void mutate(struct gb_record *r, long k)
{
	const char *kind = r->kind->name;
	const char *v;
	int64_t t;

	r->version += 1000;
	r->updated_at += 1000;
	if (k % 7 == 0) {
		r->voided = 1;
		gb_record_set_void_reason(r, "重复录入");
		return;
	}
	if (!strcmp(kind, "enterprise")) {
		v = gb_record_get(r, "status");
		gb_record_set_name(r, "status",
				   v && !strcmp(v, "active") ? "closed"
							     : "active");
	} else if (!strcmp(kind, "contract_check")) {
		if (k % 2) {
			char s[24];

			snprintf(s, sizeof(s), "%lld",
				 (long long)(get_ms(r, "employees_total") / 2));
			gb_record_set_name(r, "contracts_signed", s);
			gb_record_set_name(r, "insured", "0");
			gb_record_set_name(r, "hiring_registered", "0");
		} else {
			shift_date(r, "check_date", -3);
		}
	} else if (!strcmp(kind, "rectification")) {
		v = gb_record_get(r, "result");
		gb_record_set_name(r, "result",
				   v && !strcmp(v, "rectified") ? "not_yet"
								: "rectified");
	} else if (!strcmp(kind, "dispute")) {
		v = gb_record_get(r, "status");
		if (v && !strcmp(v, "open"))
			gb_record_set_name(r, "status", "mediated");
		else
			gb_record_set_name(r, "level", "street");
	} else if (!strcmp(kind, "patrol")) {
		if (k % 2 && gb_record_get(r, "guards")) {
			char g[GB_CODE_LEN];

			snprintf(g, sizeof(g), "%.5s",
				 gb_record_get(r, "guards"));
			gb_record_set_name(r, "guards", g);
		} else {
			set_ms(r, "start", get_ms(r, "start") - 3 * HOUR);
			set_ms(r, "end", get_ms(r, "end") - 3 * HOUR);
		}
	} else if (!strcmp(kind, "daily_report")) {
		shift_date(r, "date", -1);
	} else if (!strcmp(kind, "reception")) {
		set_ms(r, "start", get_ms(r, "start") + 30 * HOUR);
		set_ms(r, "end", get_ms(r, "end") + 30 * HOUR);
	} else if (!strcmp(kind, "request")) {
		t = get_ms(r, "received_at");
		if (gb_record_get(r, "resolved_at"))
			gb_record_set_name(r, "resolved_at", NULL);
		else if (k % 2 && gb_record_get(r, "deadline"))
			gb_record_set_name(r, "resolved_at",
					   gb_record_get(r, "deadline"));
		else
			set_ms(r, "resolved_at", t + 30 * 60000);
	}
}

/* Loads one grid file through ingest as its own device, then sends new
 * versions of every fifth record.  Returns the records refused. */
static int load_file(struct store *st, const char *path, const char *grid,
		     const char *role, int64_t now)
{
	static const char *const labour[] = {"enterprise",    "contract_check",
					     "rectification", "dispute",
					     "employment",    NULL};
	static const char *const police[] = {
	    "patrol", "handover", "daily_report", "reception", "request", NULL};
	const char *const *kinds = strcmp(role, "officer") ? labour : police;
	struct db_filter f;
	struct gb_db *db = NULL;
	struct loader l;
	struct gb_err err;
	int refused = 0;

	memset(&l, 0, sizeof(l));
	memset(&f, 0, sizeof(f));
	f.with_voided = 1;
	if (db_open(&db, path, DB_READONLY, &err) < 0) {
		fprintf(stderr, "%s: %s\n", path, err.msg);
		CHECK(0);
		return 0;
	}
	l.st = st;
	l.now = now;
	dev_init(st, &l.dev, db_device(db), grid, role);
	for (int i = 0; kinds[i]; i++) {
		CHECK(db_record_list(db, gb_kind_find(kinds[i]), &f, collect,
				     &l, &err) == 0);
		flush(&l);
	}
	db_close(db);
	for (size_t i = 0; i < l.nkeep; i++) {
		mutate(l.keep[i], (long)i);
		l.batch[l.n++] = l.keep[i];
		if (l.n == BATCH || i + 1 == l.nkeep) {
			refused +=
			    send(st, &l.dev, now + HOUR, l.batch, l.n, 1);
			l.n = 0;
		}
	}
	free(l.keep);
	return refused;
}

/* ---- the reference: the definitions of SPEC §3 over record_current ---- */

#define K 16 /* counters per unit */

struct refv {
	char unit[GB_CODE_LEN];
	const char *key;
	char text[96];
};

struct ref {
	struct refv *v;
	size_t n, cap;
	/* what the drill-down lists should hold */
	long details;
	const char *details_key;
	/* completeness */
	int synced;
};

struct units {
	char (*code)[GB_CODE_LEN];
	int n;
	int64_t *c;	   /* (n + 1) * K counters; unit n is the total */
	unsigned char *ok; /* per unit: its grid is covered */
};

static sqlite3 *refdb;
static int64_t ref_now;
/* Coverage (SPEC §3): the report's role, or NULL for the reports whose
 * units are never null; the grids a device of that role sent a batch to
 * since the period began, as "|S01-G1|S03-G4|"; and the units being
 * counted, for ref_put. */
static const char *ref_role;
static char ref_covered[1024];
static const struct units *ref_units;

static void ref_put(struct ref *f, const char *unit, const char *key,
		    const struct report_val *v)
{
	struct refv *e;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	e = &f->v[f->n++];
	snprintf(e->unit, sizeof(e->unit), "%s", unit);
	e->key = key;
	report_val_text(v, e->text, sizeof(e->text));
	if (v->type == RV_NULL)
		snprintf(e->text, sizeof(e->text), "null");
	/* A unit nothing covers shows no figure; the district has one
	 * when any grid is covered. */
	if (ref_role && ref_units) {
		int i = -1;

		for (int k = 0; k < ref_units->n && i < 0; k++)
			if (!strcmp(ref_units->code[k], unit))
				i = k;
		if (i >= 0 ? !ref_units->ok[i] : !ref_covered[0])
			snprintf(e->text, sizeof(e->text), "null");
	}
}

static void put_int(struct ref *f, const char *u, const char *key, int64_t i)
{
	struct report_val v = {RV_INT, i, 0, 0, NULL};

	ref_put(f, u, key, &v);
}

static void put_num(struct ref *f, const char *u, const char *key, double d,
		    int dec, int null)
{
	struct report_val v = {null ? RV_NULL : RV_NUM, 0, d, dec, NULL};

	ref_put(f, u, key, &v);
}

static void put_pct(struct ref *f, const char *u, const char *key, int64_t num,
		    int64_t den)
{
	put_num(f, u, key, den ? 100.0 * (double)num / (double)den : 0, 2,
		den == 0);
}

/* Loads the units: sql yields each one's code and its grid. */
static void units_load(struct units *u, const char *sql)
{
	sqlite3_stmt *q = NULL;
	char g[GB_CODE_LEN + 2];

	memset(u, 0, sizeof(*u));
	CHECK(sqlite3_prepare_v2(refdb, sql, -1, &q, NULL) == SQLITE_OK);
	u->code = xcalloc(400, sizeof(*u->code));
	u->ok = xcalloc(400, 1);
	while (sqlite3_step(q) == SQLITE_ROW && u->n < 400) {
		snprintf(g, sizeof(g), "|%s|",
			 (const char *)sqlite3_column_text(q, 1));
		u->ok[u->n] = !ref_role || strstr(ref_covered, g) != NULL;
		snprintf(u->code[u->n++], GB_CODE_LEN, "%s",
			 (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	u->c = xcalloc(((size_t)u->n + 1) * K, sizeof(int64_t));
	ref_units = u;
}

static void units_free(struct units *u)
{
	free(u->code);
	free(u->c);
	free(u->ok);
	ref_units = NULL;
}

static int unit_ix(const struct units *u, const char *code)
{
	for (int i = 0; code && i < u->n; i++)
		if (!strcmp(u->code[i], code))
			return i;
	return -1;
}

/* Adds v to counter k of unit i and of the total; what a grid not
 * covered sent counts nowhere. */
static void cnt(struct units *u, int i, int k, int64_t v)
{
	if (i < 0 || !u->ok[i])
		return;
	u->c[(size_t)i * K + (size_t)k] += v;
	u->c[(size_t)u->n * K + (size_t)k] += v;
}

static const int64_t *ctr(const struct units *u, int i)
{
	return &u->c[(size_t)i * K];
}

static const char *uname(const struct units *u, int i)
{
	return i == u->n ? "total" : u->code[i];
}

static sqlite3_stmt *refq(const char *sql, const char *from, const char *to)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(refdb, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "reference: %s\n", sqlite3_errmsg(refdb));
		CHECK(0);
		return NULL;
	}
	if (from)
		sqlite3_bind_text(q, 1, from, -1, SQLITE_TRANSIENT);
	if (to)
		sqlite3_bind_text(q, 2, to, -1, SQLITE_TRANSIENT);
	return q;
}

static const char *txt(sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);

	return s ? s : "";
}

/* The period and its "as of", computed here from the definitions. */
struct per {
	const char *from, *to;
	int32_t d0, d1;
	int64_t as_of;
	char asof_day[16];
	/* The last night and the last day of the period that had ended by
	 * now (d0 - 1 when none). */
	int32_t night1, day1;
};

static void per_init(struct per *p, const char *from, const char *to)
{
	struct gb_err err;

	p->from = from;
	p->to = to;
	CHECK(gb_date_parse(from, &p->d0, &err) == 0);
	CHECK(gb_date_parse(to, &p->d1, &err) == 0);
	p->as_of = gb_day_start(p->d1 + 1);
	if (ref_now < p->as_of)
		p->as_of = ref_now;
	gb_date_format(gb_local_day(p->as_of), p->asof_day);
	/* Night D ends at D+1 06:00, day D at D+1 00:00: the last of each
	 * that has, walking back from the end of the period. */
	for (p->night1 = p->d1;
	     p->night1 >= p->d0 &&
	     ref_now < gb_day_start(p->night1 + 1) + 6 * HOUR;
	     p->night1--)
		;
	for (p->day1 = p->d1;
	     p->day1 >= p->d0 && ref_now < gb_day_start(p->day1 + 1); p->day1--)
		;
}

#define ACTIVE_ENT                                                             \
	"e AS (SELECT lower(hex(id)) hid, grid FROM record_current WHERE "     \
	"kind = 'enterprise' AND voided = 0 AND json_extract(body, "           \
	"'$.status') = 'active') "
#define CHECKS_IN                                                              \
	"c AS (SELECT replace(json_extract(body, '$.enterprise'), '-', '') "   \
	"ent, json_extract(body, '$.check_date') d, version v, id, "           \
	"json_extract(body, '$.contracts_signed') s, json_extract(body, "      \
	"'$.employees_total') t FROM record_current WHERE kind = "             \
	"'contract_check' AND voided = 0 AND json_extract(body, "              \
	"'$.check_date') BETWEEN ?1 AND ?2) "

static void ref_rate_period(struct units *g, const char *from, const char *to,
			    int off)
{
	sqlite3_stmt *q = refq("WITH " ACTIVE_ENT ", " CHECKS_IN
			       ", l AS (SELECT c.*, row_number() OVER "
			       "(PARTITION BY ent ORDER BY d DESC, v DESC, id "
			       "DESC) rn FROM c) SELECT e.grid, l.t, l.s FROM "
			       "l JOIN e ON e.hid = l.ent WHERE l.rn = 1",
			       from, to);

	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(g, txt(q, 0));

		cnt(g, i, off, 1);
		cnt(g, i, off + 1, sqlite3_column_int64(q, 1));
		cnt(g, i, off + 2, sqlite3_column_int64(q, 2));
	}
	sqlite3_finalize(q);
}

static void ref_contract_rate(struct ref *f, const struct per *p)
{
	struct units g;
	char pf[16], pt[16];

	units_load(&g, "SELECT code, code FROM grid ORDER BY code");
	gb_date_format(p->d0 - (p->d1 - p->d0 + 1), pf);
	gb_date_format(p->d0 - 1, pt);
	ref_rate_period(&g, p->from, p->to, 0);
	ref_rate_period(&g, pf, pt, 3);
	for (int i = 0; i <= g.n; i++) {
		const int64_t *a = ctr(&g, i);
		double r0 = a[1] ? 100.0 * (double)a[2] / (double)a[1] : 0;
		double r1 = a[4] ? 100.0 * (double)a[5] / (double)a[4] : 0;

		put_int(f, uname(&g, i), "enterprises", a[0]);
		put_int(f, uname(&g, i), "employees", a[1]);
		put_int(f, uname(&g, i), "signed", a[2]);
		put_pct(f, uname(&g, i), "rate_pct", a[2], a[1]);
		put_pct(f, uname(&g, i), "prev_rate_pct", a[5], a[4]);
		put_num(f, uname(&g, i), "delta_pp", r0 - r1, 2,
			!a[1] || !a[4]);
	}
	units_free(&g);
}

static void ref_check_coverage(struct ref *f, const struct per *p)
{
	struct units g;
	sqlite3_stmt *q;

	units_load(&g, "SELECT code, code FROM grid ORDER BY code");
	q = refq("WITH " ACTIVE_ENT "SELECT grid FROM e", NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		cnt(&g, unit_ix(&g, txt(q, 0)), 0, 1);
	sqlite3_finalize(q);
	q = refq("WITH " ACTIVE_ENT ", " CHECKS_IN
		 "SELECT DISTINCT e.grid, e.hid FROM c JOIN e ON e.hid = c.ent",
		 p->from, p->to);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		cnt(&g, unit_ix(&g, txt(q, 0)), 1, 1);
	sqlite3_finalize(q);
	for (int i = 0; i <= g.n; i++) {
		const int64_t *a = ctr(&g, i);

		put_int(f, uname(&g, i), "active", a[0]);
		put_int(f, uname(&g, i), "checked", a[1]);
		put_int(f, uname(&g, i), "unchecked", a[0] - a[1]);
		put_pct(f, uname(&g, i), "coverage_pct", a[1], a[0]);
	}
	units_free(&g);
}

static void ref_rectification(struct ref *f, const struct per *p)
{
	struct units g;
	sqlite3_stmt *q;

	units_load(&g, "SELECT code, code FROM grid ORDER BY code");
	q = refq("WITH k AS (SELECT lower(hex(id)) hid, grid, "
		 "replace(json_extract(body, '$.enterprise'), '-', '') ent, "
		 "json_extract(body, '$.outcome') o, json_extract(body, "
		 "'$.deadline') dl FROM record_current WHERE kind = "
		 "'contract_check' AND voided = 0 AND json_extract(body, "
		 "'$.check_date') BETWEEN ?1 AND ?2), r AS (SELECT "
		 "replace(json_extract(body, '$.check'), '-', '') chk, "
		 "json_extract(body, '$.date') d FROM record_current WHERE "
		 "kind = 'rectification' AND voided = 0 AND json_extract(body, "
		 "'$.result') = 'rectified') SELECT k.grid, k.o, k.dl, (SELECT "
		 "min(r.d) FROM r WHERE r.chk = k.hid) FROM k WHERE k.ent IN "
		 "(SELECT lower(hex(id)) FROM record_current WHERE kind = "
		 "'enterprise' AND voided = 0)",
		 p->from, p->to);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(&g, txt(q, 0));
		const char *dl = (const char *)sqlite3_column_text(q, 2);
		const char *first = (const char *)sqlite3_column_text(q, 3);
		/* rectified before the as-of date */
		int before = first && strcmp(first, p->asof_day) < 0;

		if (!strcmp(txt(q, 1), "notice")) {
			cnt(&g, i, 0, 1);
			continue;
		}
		if (strcmp(txt(q, 1), "rectify_order") != 0)
			continue;
		cnt(&g, i, 1, 1);
		cnt(&g, i, 2, first != NULL);
		if (first && (!dl || strcmp(first, dl) <= 0))
			cnt(&g, i, 3, 1); /* on time */
		else if (before)
			cnt(&g, i, 5, 1); /* late */
		else if (dl && strcmp(dl, p->asof_day) < 0) {
			cnt(&g, i, 4, 1); /* overdue */
			f->details += i >= 0 && g.ok[i];
		} else
			cnt(&g, i, 6, 1); /* pending */
	}
	sqlite3_finalize(q);
	f->details_key = "overdue";
	for (int i = 0; i <= g.n; i++) {
		const int64_t *a = ctr(&g, i);

		put_int(f, uname(&g, i), "notices", a[0]);
		put_int(f, uname(&g, i), "orders", a[1]);
		put_int(f, uname(&g, i), "issued", a[0] + a[1]);
		put_int(f, uname(&g, i), "rectified", a[2]);
		put_int(f, uname(&g, i), "on_time", a[3]);
		put_int(f, uname(&g, i), "late", a[5]);
		put_int(f, uname(&g, i), "overdue", a[4]);
		put_int(f, uname(&g, i), "pending", a[6]);
		/* Every order counts once. */
		CHECK(a[1] == a[3] + a[5] + a[4] + a[6]);
	}
	units_free(&g);
}

static void ref_disputes(struct ref *f, const struct per *p)
{
	static const char *const names[] = {
	    "community", "street",    "district", "open",
	    "mediated",	 "escalated", "closed"};
	struct units g;
	sqlite3_stmt *q;

	units_load(&g, "SELECT code, code FROM grid ORDER BY code");
	/* Disputes of a voided enterprise do not count. */
	q = refq("SELECT grid, json_extract(body, '$.level'), "
		 "json_extract(body, '$.status') FROM record_current d WHERE "
		 "kind = 'dispute' AND voided = 0 AND json_extract(body, "
		 "'$.received_date') BETWEEN ?1 AND ?2 AND "
		 "(coalesce(json_extract(d.body, '$.enterprise'), '') = '' OR "
		 "EXISTS (SELECT 1 FROM record_current e WHERE e.kind = "
		 "'enterprise' AND e.voided = 0 AND lower(hex(e.id)) = "
		 "replace(json_extract(d.body, '$.enterprise'), '-', '')))",
		 p->from, p->to);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(&g, txt(q, 0));
		const char *lv = txt(q, 1), *stt = txt(q, 2);

		cnt(&g, i, 0, 1);
		for (int k = 0; k < 3; k++)
			cnt(&g, i, 1 + k, !strcmp(lv, names[k]));
		for (int k = 3; k < 7; k++)
			cnt(&g, i, 1 + k, !strcmp(stt, names[k]));
		cnt(&g, i, 8,
		    strcmp(lv, "district") != 0 &&
			(!strcmp(stt, "mediated") || !strcmp(stt, "closed")));
	}
	sqlite3_finalize(q);
	for (int i = 0; i <= g.n; i++) {
		const int64_t *a = ctr(&g, i);

		put_int(f, uname(&g, i), "received", a[0]);
		for (int k = 0; k < 7; k++)
			put_int(f, uname(&g, i), names[k], a[1 + k]);
		put_int(f, uname(&g, i), "not_open", a[0] - a[4]);
		put_int(f, uname(&g, i), "closed_low", a[8]);
		put_pct(f, uname(&g, i), "closed_low_pct", a[8], a[0] - a[4]);
	}
	units_free(&g);
}

static void ref_staffing(struct ref *f, const struct per *p)
{
	struct units a;
	sqlite3_stmt *q;

	(void)p;
	units_load(&a, "SELECT code, grid FROM police_area ORDER BY code");
	q = refq("SELECT pa.code, (SELECT coalesce(sum(c.population), 0) "
		 "FROM area_community ac JOIN community c ON c.code = "
		 "ac.community WHERE ac.area = pa.code), (SELECT count(*) FROM "
		 "staff s WHERE s.area = pa.code AND s.role IN ('officer', "
		 "'chief')), (SELECT count(*) FROM staff s WHERE s.area = "
		 "pa.code AND s.role = 'guard') FROM police_area pa",
		 NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(&a, txt(q, 0));
		int64_t res = sqlite3_column_int64(q, 1);
		int64_t off = sqlite3_column_int64(q, 2);
		int64_t grd = sqlite3_column_int64(q, 3);

		cnt(&a, i, 0, 1);
		cnt(&a, i, 1, res);
		cnt(&a, i, 2, off);
		cnt(&a, i, 3, grd);
		cnt(&a, i, 4,
		    off >= 3 && off <= 4 && grd >= 2 && grd <= 3 &&
			(double)res / (double)off <= 3000.0);
	}
	sqlite3_finalize(q);
	for (int i = 0; i <= a.n; i++) {
		const int64_t *c = ctr(&a, i);

		put_int(f, uname(&a, i), "areas", c[0]);
		put_int(f, uname(&a, i), "residents", c[1]);
		put_int(f, uname(&a, i), "officers", c[2]);
		put_int(f, uname(&a, i), "guards", c[3]);
		put_num(f, uname(&a, i), "per_officer",
			c[2] ? (double)c[1] / (double)c[2] : 0, 1, !c[2]);
		put_int(f, uname(&a, i), "meeting", c[4]);
	}
	units_free(&a);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The number of distinct codes in "B0001,B0002,B0001". */
static int ref_distinct(const char *list)
{
	char buf[256], *p[32];
	int n = 0, d = 0;

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *s = buf; *s && n < 32;) {
		char *comma = strchr(s, ',');

		p[n++] = s;
		if (!comma)
			break;
		*comma = '\0';
		s = comma + 1;
	}
	qsort(p, (size_t)n, sizeof(*p), strp_cmp);
	for (int i = 0; i < n; i++)
		d += p[i][0] && (i == 0 || strcmp(p[i], p[i - 1]) != 0);
	return d;
}

struct span {
	char who[GB_CODE_LEN];
	int64_t start, end;
	int ok;
};

static void ref_night_patrol(struct ref *f, const struct per *p)
{
	struct units a;
	struct span *s = xcalloc(20000, sizeof(*s));
	size_t n = 0;
	sqlite3_stmt *q;

	units_load(&a, "SELECT code, grid FROM police_area ORDER BY code");
	q = refq("SELECT json_extract(r.body, '$.area'), CAST(json_extract("
		 "r.body, '$.start') AS INTEGER), CAST(json_extract(r.body, "
		 "'$.end') AS INTEGER), json_extract(r.body, '$.guards'), "
		 "st.role FROM record_current r LEFT JOIN staff st ON st.code "
		 "= json_extract(r.body, '$.leader') WHERE r.kind = 'patrol' "
		 "AND r.voided = 0",
		 NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW && n < 20000) {
		snprintf(s[n].who, GB_CODE_LEN, "%s", txt(q, 0));
		s[n].start = sqlite3_column_int64(q, 1);
		s[n].end = sqlite3_column_int64(q, 2);
		s[n].ok = ref_distinct(txt(q, 3)) >= 2 &&
			  (!strcmp(txt(q, 4), "officer") ||
			   !strcmp(txt(q, 4), "chief"));
		n++;
	}
	sqlite3_finalize(q);
	for (int i = 0; i < a.n; i++)
		for (int32_t d = p->d0; d <= p->night1; d++) {
			int64_t n0 = gb_day_start(d) + 22 * HOUR;
			int64_t n1 = gb_day_start(d + 1) + 6 * HOUR;
			int good = 0;

			for (size_t k = 0; k < n && !good; k++)
				good = s[k].ok &&
				       !strcmp(s[k].who, a.code[i]) &&
				       s[k].start < n1 && s[k].end > n0;
			cnt(&a, i, 0, 1);
			cnt(&a, i, 1, good);
		}
	/* The drill-down lists each area that missed a night. */
	for (int i = 0; i < a.n; i++)
		f->details += ctr(&a, i)[1] < ctr(&a, i)[0];
	f->details_key = "missed";
	for (int i = 0; i <= a.n; i++) {
		const int64_t *c = ctr(&a, i);

		put_int(f, uname(&a, i), "nights", c[0]);
		put_int(f, uname(&a, i), "complying", c[1]);
		put_int(f, uname(&a, i), "missed", c[0] - c[1]);
		put_pct(f, uname(&a, i), "share_pct", c[1], c[0]);
	}
	free(s);
	units_free(&a);
}

/* Officers and chiefs with an area: code and area. */
static int ref_officers(char (*code)[GB_CODE_LEN], char (*area)[GB_CODE_LEN],
			int max)
{
	sqlite3_stmt *q = refq("SELECT code, area FROM staff WHERE role IN "
			       "('officer', 'chief') AND area IS NOT NULL "
			       "ORDER BY code",
			       NULL, NULL);
	int n = 0;

	while (q && sqlite3_step(q) == SQLITE_ROW && n < max) {
		snprintf(code[n], GB_CODE_LEN, "%s", txt(q, 0));
		snprintf(area[n], GB_CODE_LEN, "%s", txt(q, 1));
		n++;
	}
	sqlite3_finalize(q);
	return n;
}

static void ref_reception(struct ref *f, const struct per *p)
{
	char(*code)[GB_CODE_LEN] = xcalloc(400, GB_CODE_LEN);
	char(*area)[GB_CODE_LEN] = xcalloc(400, GB_CODE_LEN);
	struct span *s = xcalloc(20000, sizeof(*s));
	int32_t weeks[600];
	int nw = 0, no = ref_officers(code, area, 400);
	size_t n = 0;
	struct units a;
	sqlite3_stmt *q;

	units_load(&a, "SELECT code, grid FROM police_area ORDER BY code");
	for (int32_t d = p->d0; d + 6 <= p->d1; d++)
		if (gb_weekday(d) == 1 && gb_day_start(d + 7) <= ref_now)
			weeks[nw++] = d;
	q = refq("SELECT json_extract(body, '$.officer'), CAST(json_extract("
		 "body, '$.start') AS INTEGER), CAST(json_extract(body, "
		 "'$.end') AS INTEGER) FROM record_current WHERE kind = "
		 "'reception' AND voided = 0",
		 NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW && n < 20000) {
		snprintf(s[n].who, GB_CODE_LEN, "%s", txt(q, 0));
		s[n].start = sqlite3_column_int64(q, 1);
		s[n].end = sqlite3_column_int64(q, 2);
		n++;
	}
	sqlite3_finalize(q);
	for (int o = 0; o < no; o++) {
		int i = unit_ix(&a, area[o]);

		cnt(&a, i, 0, 1);
		for (int w = 0; w < nw; w++) {
			int64_t w0 = gb_day_start(weeks[w]);
			int64_t w1 = gb_day_start(weeks[w] + 7), ms = 0;

			for (size_t k = 0; k < n; k++) {
				int64_t lo = s[k].start > w0 ? s[k].start : w0;
				int64_t hi = s[k].end < w1 ? s[k].end : w1;

				if (!strcmp(s[k].who, code[o]) && hi > lo)
					ms += hi - lo;
			}
			cnt(&a, i, 1, 1);
			cnt(&a, i, 2, ms);
			cnt(&a, i, 3, ms < 5 * HOUR);
			f->details += i >= 0 && a.ok[i] && ms < 5 * HOUR;
		}
	}
	f->details_key = "below_target";
	for (int i = 0; i <= a.n; i++) {
		const int64_t *c = ctr(&a, i);

		put_int(f, uname(&a, i), "officers", c[0]);
		put_int(f, uname(&a, i), "weeks", nw);
		put_int(f, uname(&a, i), "officer_weeks", c[1]);
		put_num(f, uname(&a, i), "hours", (double)c[2] / HOUR, 2, 0);
		put_num(f, uname(&a, i), "avg_hours",
			c[1] ? (double)c[2] / (double)c[1] / HOUR : 0, 2,
			!c[1]);
		put_int(f, uname(&a, i), "below", c[3]);
		put_pct(f, uname(&a, i), "meeting_pct", c[1] - c[3], c[1]);
	}
	free(code);
	free(area);
	free(s);
	units_free(&a);
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void ref_requests(struct ref *f, const struct per *p)
{
	static const char *const cats[] = {"alarm", "help", "inquiry"};
	struct units a;
	int64_t *dur = xcalloc(20000, sizeof(*dur));
	int *dur_unit = xcalloc(20000, sizeof(*dur_unit));
	size_t nd = 0;
	sqlite3_stmt *q;

	units_load(&a, "SELECT code, grid FROM police_area ORDER BY code");
	q = refq("SELECT json_extract(body, '$.area'), json_extract(body, "
		 "'$.category'), CAST(json_extract(body, '$.received_at') AS "
		 "INTEGER), json_extract(body, '$.deadline'), "
		 "json_extract(body, '$.priority'), CAST(json_extract(body, "
		 "'$.resolved_at') AS INTEGER) FROM record_current WHERE kind "
		 "= 'request' AND voided = 0",
		 NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(&a, txt(q, 0));
		int64_t recv = sqlite3_column_int64(q, 2);
		int32_t day = gb_local_day(recv);
		int64_t dl = sqlite3_column_type(q, 3) == SQLITE_NULL
				 ? gb_request_deadline(recv, txt(q, 4))
				 : strtoll(txt(q, 3), NULL, 10);
		int resolved = sqlite3_column_type(q, 5) != SQLITE_NULL;
		int64_t res = sqlite3_column_int64(q, 5);

		if (day < p->d0 || day > p->d1 || i < 0)
			continue;
		cnt(&a, i, 0, 1);
		for (int k = 0; k < 3; k++)
			cnt(&a, i, 1 + k, !strcmp(txt(q, 1), cats[k]));
		if (resolved) {
			cnt(&a, i, 4, 1);
			cnt(&a, i, 5, res <= dl);
			dur_unit[nd] = i;
			dur[nd++] = res - recv;
		} else {
			cnt(&a, i, 6, 1);
			cnt(&a, i, 7, dl < p->as_of);
			cnt(&a, i, 8, dl >= p->as_of);
			f->details += a.ok[i] && dl < p->as_of;
		}
	}
	sqlite3_finalize(q);
	f->details_key = "open_past_deadline";
	for (int i = 0; i <= a.n; i++) {
		const int64_t *c = ctr(&a, i);
		int64_t *v = xcalloc(nd + 1, sizeof(*v));
		size_t m = 0;

		for (size_t k = 0; k < nd; k++)
			if ((i == a.n || dur_unit[k] == i) && a.ok[dur_unit[k]])
				v[m++] = dur[k];
		qsort(v, m, sizeof(*v), i64_cmp);
		put_int(f, uname(&a, i), "received", c[0]);
		for (int k = 0; k < 3; k++)
			put_int(f, uname(&a, i), cats[k], c[1 + k]);
		put_int(f, uname(&a, i), "resolved", c[4]);
		put_int(f, uname(&a, i), "on_time", c[5]);
		put_int(f, uname(&a, i), "late", c[4] - c[5]);
		put_int(f, uname(&a, i), "open", c[6]);
		put_int(f, uname(&a, i), "open_past_deadline", c[7]);
		put_int(f, uname(&a, i), "pending", c[8]);
		/* received = on time + late + past deadline + pending */
		CHECK(c[0] == c[5] + (c[4] - c[5]) + c[7] + c[8]);
		put_pct(f, uname(&a, i), "on_time_pct", c[5], c[4] + c[7]);
		put_num(f, uname(&a, i), "median_hours",
			m == 0 ? 0
			: m % 2 == 1
			    ? (double)v[m / 2] / HOUR
			    : ((double)v[m / 2 - 1] + (double)v[m / 2]) / 2 /
				  HOUR,
			2, m == 0);
		free(v);
	}
	free(dur);
	free(dur_unit);
	units_free(&a);
}

static void ref_daily_reports(struct ref *f, const struct per *p)
{
	char(*code)[GB_CODE_LEN] = xcalloc(400, GB_CODE_LEN);
	char(*area)[GB_CODE_LEN] = xcalloc(400, GB_CODE_LEN);
	int no = ref_officers(code, area, 400);
	int64_t ndays = p->day1 - p->d0 + 1;
	long *covered = xcalloc(400, sizeof(long));
	char day1[16];
	struct units a;
	sqlite3_stmt *q;

	units_load(&a, "SELECT code, grid FROM police_area ORDER BY code");
	gb_date_format(p->day1, day1);
	q = refq("SELECT DISTINCT json_extract(body, '$.officer'), "
		 "json_extract(body, '$.date') FROM record_current WHERE kind "
		 "= 'daily_report' AND voided = 0 AND json_extract(body, "
		 "'$.date') BETWEEN ?1 AND ?2",
		 p->from, day1);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		for (int o = 0; o < no; o++)
			if (!strcmp(code[o], txt(q, 0)))
				covered[o]++;
	sqlite3_finalize(q);
	for (int o = 0; o < no; o++) {
		int i = unit_ix(&a, area[o]);

		cnt(&a, i, 0, 1);
		cnt(&a, i, 1, ndays);
		cnt(&a, i, 2, covered[o]);
		f->details += i >= 0 && a.ok[i] && covered[o] < ndays;
	}
	f->details_key = "gaps";
	for (int i = 0; i <= a.n; i++) {
		const int64_t *c = ctr(&a, i);

		put_int(f, uname(&a, i), "officers", c[0]);
		put_int(f, uname(&a, i), "days", ndays);
		put_int(f, uname(&a, i), "officer_days", c[1]);
		put_int(f, uname(&a, i), "covered", c[2]);
		put_int(f, uname(&a, i), "missed", c[1] - c[2]);
		put_pct(f, uname(&a, i), "share_pct", c[2], c[1]);
	}
	free(code);
	free(area);
	free(covered);
	units_free(&a);
}

static void ref_patrol_teams(struct ref *f, const struct per *p)
{
	struct units g;
	sqlite3_stmt *q;

	(void)p;
	units_load(&g, "SELECT code, code FROM grid ORDER BY code");
	q = refq("SELECT grid, CASE WHEN criminal_cases >= 100 THEN "
		 "patrol_team * 1000 >= population * 2 ELSE patrol_team * 2000 "
		 ">= population * 3 END, population, patrol_team FROM "
		 "community",
		 NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(&g, txt(q, 0));

		cnt(&g, i, 0, 1);
		cnt(&g, i, 1, sqlite3_column_int(q, 1));
		cnt(&g, i, 2, sqlite3_column_int64(q, 2));
		cnt(&g, i, 3, sqlite3_column_int64(q, 3));
		f->details += !sqlite3_column_int(q, 1);
	}
	sqlite3_finalize(q);
	f->details_key = "below_target";
	for (int i = 0; i <= g.n; i++) {
		const int64_t *c = ctr(&g, i);

		put_int(f, uname(&g, i), "communities", c[0]);
		put_int(f, uname(&g, i), "meeting", c[1]);
		put_int(f, uname(&g, i), "not_meeting", c[0] - c[1]);
		put_pct(f, uname(&g, i), "share_pct", c[1], c[0]);
		put_int(f, uname(&g, i), "population", c[2]);
		put_int(f, uname(&g, i), "team", c[3]);
		put_num(f, uname(&g, i), "per_mille",
			c[2] ? 1000.0 * (double)c[3] / (double)c[2] : 0, 2,
			!c[2]);
	}
	units_free(&g);
}

static void ref_sync_health(struct ref *f, const struct per *p)
{
	struct units g;
	int64_t *last;
	sqlite3_stmt *q;

	units_load(&g, "SELECT code, code FROM grid ORDER BY code");
	last = xcalloc((size_t)g.n + 1, sizeof(*last));
	q = refq("SELECT grid FROM device WHERE role != 'viewer'", NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		cnt(&g, unit_ix(&g, txt(q, 0)), 0, 1);
	sqlite3_finalize(q);
	q = refq("SELECT d.grid, b.received_at, b.records FROM batch b JOIN "
		 "device d ON d.id = b.device",
		 NULL, NULL);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int i = unit_ix(&g, txt(q, 0));
		int64_t t = sqlite3_column_int64(q, 1);

		if (i < 0)
			continue;
		if (t > last[i])
			last[i] = t;
		if (t > last[g.n])
			last[g.n] = t;
		if (t >= gb_day_start(p->d0) && t < gb_day_start(p->d1 + 1)) {
			cnt(&g, i, 1, 1);
			cnt(&g, i, 2, sqlite3_column_int64(q, 2));
		}
	}
	sqlite3_finalize(q);
	for (int i = 0; i < g.n; i++)
		cnt(&g, i, 3, last[i] >= gb_day_start(p->d0));
	for (int i = 0; i <= g.n; i++) {
		const int64_t *c = ctr(&g, i);
		char t[32] = "null";

		if (last[i] > 0)
			gb_time_format(last[i], t);
		put_int(f, uname(&g, i), "devices", c[0]);
		put_int(f, uname(&g, i), "batches", c[1]);
		put_int(f, uname(&g, i), "records", c[2]);
		put_int(f, uname(&g, i), "synced", c[3]);
		put_int(f, uname(&g, i), "not_synced",
			(i == g.n ? g.n : 1) - c[3]);
		{
			struct report_val v = {RV_TEXT, 0, 0, 0, t};

			if (last[i] == 0)
				v.type = RV_NULL;
			ref_put(f, uname(&g, i), "last_sync", &v);
		}
	}
	f->details_key = "not_synced";
	f->details = g.n - (long)ctr(&g, g.n)[3];
	free(last);
	units_free(&g);
}

/* Grids from which a device of role (any when NULL) sent a batch since
 * the period began. */
static int ref_synced(const struct per *p, const char *role)
{
	sqlite3_stmt *q = refq("SELECT count(DISTINCT d.grid) FROM batch b "
			       "JOIN device d ON d.id = b.device WHERE "
			       "b.received_at >= ?1 AND (?2 IS NULL OR d.role "
			       "= ?2)",
			       NULL, NULL);
	int n = -1;

	sqlite3_bind_int64(q, 1, gb_day_start(p->d0));
	if (role)
		sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
	if (q && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* Sets ref_covered: the grids from which a device of role (any when
 * NULL) sent a batch since the period began. */
static void ref_cover(const struct per *p, const char *role)
{
	sqlite3_stmt *q = refq("SELECT DISTINCT d.grid FROM batch b JOIN "
			       "device d ON d.id = b.device WHERE "
			       "b.received_at >= ?1 AND (?2 IS NULL OR d.role "
			       "= ?2) ORDER BY 1",
			       NULL, NULL);
	size_t n = 0;

	ref_covered[0] = '\0';
	sqlite3_bind_int64(q, 1, gb_day_start(p->d0));
	if (role)
		sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		n += (size_t)snprintf(ref_covered + n, sizeof(ref_covered) - n,
				      "%s%s|", n ? "" : "|", txt(q, 0));
	sqlite3_finalize(q);
}

/* The grids complete as of the period's as-of: every device of role
 * (any but viewers when NULL) not revoked sent its last batch at or after
 * as-of and said it held nothing older unsent. */
static int ref_complete(const struct per *p, const char *role)
{
	sqlite3_stmt *q = refq(
	    "SELECT count(*) FROM grid g WHERE EXISTS (SELECT 1 FROM device d "
	    "WHERE d.grid = g.code AND d.role != 'viewer' AND d.revoked = 0 "
	    "AND (?2 IS NULL OR d.role = ?2)) AND NOT EXISTS (SELECT 1 FROM "
	    "device d WHERE d.grid = g.code AND d.role != 'viewer' AND "
	    "d.revoked = 0 AND (?2 IS NULL OR d.role = ?2) AND (coalesce(("
	    "SELECT max(b.received_at) FROM batch b WHERE b.device = d.id), "
	    "0) < ?1 OR coalesce(d.pending, 0) > 0 AND coalesce("
	    "d.oldest_pending, 0) < ?1))",
	    NULL, NULL);
	int n = -1;

	sqlite3_bind_int64(q, 1, p->as_of);
	if (role)
		sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
	if (q && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

static const struct {
	const char *name, *level, *role;
	void (*ref)(struct ref *f, const struct per *p);
} refs[] = {
    {"contract-rate", "grid", "coordinator", ref_contract_rate},
    {"check-coverage", "grid", "coordinator", ref_check_coverage},
    {"rectification", "grid", "coordinator", ref_rectification},
    {"disputes", "grid", "coordinator", ref_disputes},
    {"staffing", "area", NULL, ref_staffing},
    {"night-patrol", "area", "officer", ref_night_patrol},
    {"reception", "area", "officer", ref_reception},
    {"requests", "area", "officer", ref_requests},
    {"daily-reports", "area", "officer", ref_daily_reports},
    {"patrol-teams", "grid", NULL, ref_patrol_teams},
    {"sync-health", "grid", NULL, ref_sync_health},
};

#define NREFS (sizeof(refs) / sizeof(refs[0]))

static int mismatches;

/* Compares report name over from..to with the reference, value by
 * value, and its district row with its total at every level. */
static void compare(struct store *st, size_t k, const char *from,
		    const char *to)
{
	static const char *const levels[] = {"district", "street", "grid",
					     "area"};
	struct ref f;
	struct per p;
	struct report *r =
	    run(st, refs[k].name, refs[k].level, from, to, ref_now);
	size_t bad = 0;

	memset(&f, 0, sizeof(f));
	per_init(&p, from, to);
	/* Staffing, patrol-teams and sync-health read no device's records:
	 * their units are never null. */
	ref_role = refs[k].role;
	ref_cover(&p, refs[k].role);
	refs[k].ref(&f, &p);
	for (size_t i = 0; r && i < f.n; i++) {
		const char *got = val(r, f.v[i].unit, f.v[i].key);

		if (strcmp(got, f.v[i].text) == 0)
			continue;
		if (bad++ < 8)
			fprintf(stderr,
				"%s %s..%s %s %s: report %s, reference %s\n",
				refs[k].name, from, to, f.v[i].unit, f.v[i].key,
				got, f.v[i].text);
	}
	CHECK(f.n > 0 && bad == 0);
	mismatches += (int)bad;
	if (f.details_key) {
		CHECK(r && ndet(r, f.details_key) == (size_t)f.details);
		if (r && ndet(r, f.details_key) != (size_t)f.details)
			fprintf(stderr, "%s %s..%s: %zu %s, reference %ld\n",
				refs[k].name, from, to, ndet(r, f.details_key),
				f.details_key, f.details);
	}
	CHECK(r && r->synced == ref_synced(&p, refs[k].role));
	CHECK(r && r->complete == ref_complete(&p, refs[k].role));
	/* The same total at every level, and the district row is it. */
	for (size_t l = 0; r && l < 4; l++) {
		struct report *o;

		if (!strcmp(levels[l], "area") &&
		    !strstr(reports_levels(refs[k].name), "area"))
			continue;
		o = run(st, refs[k].name, levels[l], from, to, ref_now);
		for (int c = 2; o && c < r->main.ncols; c++) {
			const char *key = r->main.cols[c].key;

			CHECK_STR(val(o, "total", key), val(r, "total", key));
			if (l == 0)
				CHECK_STR(val(o, "D01", key),
					  val(r, "total", key));
		}
		report_free(o);
	}
	report_free(r);
	free(f.v);
}

static void compare_all(struct store *st)
{
	static const char *const periods[][2] = {
	    {GEN_FROM, GEN_TO},		  /* the whole of it */
	    {"2026-01-19", "2026-01-28"}, /* ten days inside */
	    {"2026-02-09", "2026-03-10"}, /* on past "now" */
	    {"2026-02-23", "2026-02-28"}, /* after the data */
	};

	for (size_t k = 0; k < NREFS; k++)
		for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]);
		     i++)
			compare(st, k, periods[i][0], periods[i][1]);
}

/* Every report at every level as JSON, one after the other. */
static void all_json(struct store *st, struct gb_buf *out)
{
	static const char *const levels[] = {"district", "street", "grid",
					     "area"};
	struct gb_err err;

	for (size_t k = 0; k < reports_count(); k++)
		for (size_t l = 0; l < 4; l++) {
			struct report *r = NULL;

			if (report_run(st, reports_name(k), levels[l], GEN_FROM,
				       GEN_TO, ref_now, &r, &err) == 0)
				CHECK(report_write_json(r, out, &err) == 0);
			report_free(r);
		}
}

static void test_generated(void)
{
	static const char *const grids[] = {"S01-G1", "S03-G4", "S05-G2"};
	struct store *st = NULL;
	struct seed_stats stats;
	struct gb_buf before, after;
	struct gb_err err;
	char path[160], gen[512], cmd[1200];
	int refused = 0;
	const char *slash = strrchr(argv0, '/');

	ref_now = at(GEN_NOW) + 2 * HOUR;
	snprintf(gen, sizeof(gen), "%.*s/../bench/gridbook-gen",
		 slash ? (int)(slash - argv0) : 1, slash ? argv0 : ".");
	if (access(gen, X_OK) != 0) {
		fprintf(stderr, "%s is not built (make all)\n", gen);
		CHECK(0);
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "GRIDBOOK_NOW='" GEN_NOW "' GRIDBOOK_TZ=Asia/Shanghai '%s' "
		 "--out '%s/gen' --grids " GEN_GRIDS " --from " GEN_FROM
		 " --to " GEN_TO " --seed 7 --seeds '%s' >'%s/gen.out' 2>&1 || "
		 "{ cat '%s/gen.out' >&2; exit 1; }",
		 gen, dir, GB_SEEDDIR, dir, dir);
	CHECK(system(cmd) == 0);

	snprintf(path, sizeof(path), "%s/generated.db", dir);
	CHECK(store_sqlite_open(&st, path, STORE_SERVE, &err) == 0);
	if (!st)
		return;
	CHECK(seed_load(st, GB_SEEDDIR, &stats, &err) == 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/gen/%s-labour.db", dir,
			 grids[i]);
		refused +=
		    load_file(st, path, grids[i], "coordinator", at(GEN_NOW));
		snprintf(path, sizeof(path), "%s/gen/%s-police.db", dir,
			 grids[i]);
		refused +=
		    load_file(st, path, grids[i], "officer", at(GEN_NOW));
	}
	/* An edit that broke a rule would be refused and change nothing;
	 * almost all must go in for the comparison to mean something. */
	CHECK(refused < 60);

	snprintf(path, sizeof(path), "%s/generated.db", dir);
	CHECK(sqlite3_open_v2(path, &refdb, SQLITE_OPEN_READONLY, NULL) ==
	      SQLITE_OK);
	compare_all(st);
	CHECK(mismatches == 0);

	/* Built again from the stored records, the facts give the same
	 * reports. */
	gb_buf_init(&before, GB_BUF_NOLIMIT);
	gb_buf_init(&after, GB_BUF_NOLIMIT);
	all_json(st, &before);
	CHECK(rollup_rebuild(st, &err) == 0);
	all_json(st, &after);
	CHECK(before.len > 10000);
	CHECK(before.len == after.len &&
	      !strcmp(gb_buf_str(&before), gb_buf_str(&after)));
	gb_buf_release(&before);
	gb_buf_release(&after);

	/* Re-seeded with every third officer a guard and every chief whose
	 * number is a multiple of four an officer, and the populations of
	 * the communities up by 30 %: the reports agree with the reference
	 * over the new reference data at once, and with the facts built
	 * again from nothing. */
	CHECK(
	    reseed(st, "reseed-gen",
		   "awk -F, 'BEGIN { OFS = \",\" } NR > 1 && $3 == "
		   "\"officer\" && substr($1, 2) % 3 == 0 { $3 = \"guard\" } "
		   "NR > 1 && $3 == \"chief\" && substr($1, 2) % 4 == 0 { $3 "
		   "= \"officer\" } { print }' staff.csv >s.tmp && mv s.tmp "
		   "staff.csv && awk -F, 'BEGIN { OFS = \",\" } NR > 1 { $4 "
		   "= int($4 * 13 / 10) } { print }' communities.csv >c.tmp && "
		   "mv c.tmp communities.csv") > 100);
	mismatches = 0;
	compare_all(st);
	CHECK(mismatches == 0);
	check_rebuild_same(st, GEN_FROM, GEN_TO, ref_now);
	sqlite3_close(refdb);
	refdb = NULL;
	st->ops->close(st);
}

/* ---- writers, parameters, access ---- */

static int json_valid(const char *text)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int ok = 0;

	if (sqlite3_open(":memory:", &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT json_valid(?1)", -1, &q, NULL) ==
		SQLITE_OK) {
		sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
		ok = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return ok;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_writers(struct store *st)
{
	struct report *r = run(st, "contract-rate", "grid", "2026-03-02",
			       "2026-03-15", at("2026-03-20 10:00"));
	struct gb_buf t, j, c;
	struct gb_err err;
	const char *p, *end;
	int width = -1, same = 1, rows = 0;

	gb_buf_init(&t, GB_BUF_NOLIMIT);
	gb_buf_init(&j, GB_BUF_NOLIMIT);
	gb_buf_init(&c, GB_BUF_NOLIMIT);
	CHECK(r && report_write_table(r, &t, &err) == 0);
	CHECK(r && report_write_json(r, &j, &err) == 0);
	CHECK(r && report_write_csv(r, &c, &err) == 0);

	/* The table: a title, the period, then the rows, every line of the
	 * same display width (the last column is numeric, right-aligned,
	 * and the grid names are Chinese), nulls shown as "-". */
	CHECK(strncmp(gb_buf_str(&t), "contract-rate: ", 15) == 0);
	CHECK(strstr(gb_buf_str(&t),
		     "period 2026-03-02..2026-03-15, level grid, as of "
		     "2026-03-16 00:00") != NULL);
	CHECK(strstr(gb_buf_str(&t), "previous period 2026-02-16..2026-03-01"));
	p = strstr(gb_buf_str(&t), "\n\n");
	for (p = p ? p + 2 : ""; *p && *p != '\n'; p = end + 1) {
		char line[512];

		end = strchr(p, '\n');
		if (!end)
			break;
		snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
		if (width < 0)
			width = gb_utf8_width(line);
		same &= gb_utf8_width(line) == width;
		rows++;
	}
	CHECK(rows == 1 + 32 + 1); /* header, grids, total */
	CHECK(same);
	CHECK(strstr(gb_buf_str(&t), "文昌街道第一网格") != NULL);
	/* S01-G1's laptop synced after the period (03-20): complete;
	 * S01-G2's last batch came on 02-20; S01-G3 has no laptop. */
	CHECK(strstr(gb_buf_str(&t),
		     "1 of 32 grids complete (coordinator devices) as of "
		     "2026-03-16 00:00; incomplete: S01-G2 (not synced since "
		     "the period ended), S01-G3 (never synced)") != NULL);

	/* JSON: valid, with the documented keys. */
	CHECK(json_valid(gb_buf_str(&j)));
	CHECK(strncmp(gb_buf_str(&j), "{\"report\":\"contract-rate\"", 25) ==
	      0);
	CHECK(strstr(gb_buf_str(&j), "\"as_of\":\"2026-03-16 00:00\""));
	CHECK(strstr(gb_buf_str(&j),
		     "\"previous\":{\"from\":\"2026-02-16\",\"to\":"
		     "\"2026-03-01\"}"));
	CHECK(strstr(gb_buf_str(&j), "{\"unit\":\"S01-G1\",\"name\":"
				     "\"文昌街道第一网格\",\"enterprises\":3,"
				     "\"employees\":50,\"signed\":44,"
				     "\"rate_pct\":88.00,"
				     "\"prev_rate_pct\":76.67,"
				     "\"delta_pp\":11.33,\"conflicts\":0,"
				     "\"complete\":true}"));
	CHECK(strstr(gb_buf_str(&j), "\"rate_pct\":null"));
	CHECK(strstr(gb_buf_str(&j),
		     "{\"unit\":\"S01-G2\",\"name\":\"文昌街道第二网格\","
		     "\"enterprises\":null,\"employees\":null,\"signed\":"
		     "null,\"rate_pct\":null,\"prev_rate_pct\":null,"
		     "\"delta_pp\":null,\"conflicts\":0,\"complete\":false}"));
	CHECK(strstr(gb_buf_str(&j),
		     "\"completeness\":{\"grids\":32,\"complete\":1,"
		     "\"incomplete\":[{\"code\":\"S01-G2\",\"name\":"
		     "\"文昌街道第二网格\",\"reason\":"
		     "\"not_synced_since_end\"},{\"code\":\"S01-G3\","));
	CHECK(strstr(gb_buf_str(&j), "\"reason\":\"never_synced\"}"));
	CHECK(strstr(gb_buf_str(&j), "\"left_out\":{},\"text\":\"1 of 32 "
				     "grids complete"));
	CHECK(strstr(gb_buf_str(&j), "\"synced\":1,\"role\":"
				     "\"coordinator\",\"not_synced\":["
				     "\"S01-G2\","));

	/* CSV: the header, one line per grid, the total; nulls empty;
	 * then the completeness and the incomplete grids (31 of them) and
	 * the drill-down lists, each a section after an empty line. */
	p = strstr(gb_buf_str(&c), "\n\n");
	CHECK(p && lines(gb_buf_str(&c)) - lines(p + 1) == 1 + 32 + 1);
	CHECK(strncmp(gb_buf_str(&c),
		      "unit,name,enterprises,employees,signed,rate_pct,"
		      "prev_rate_pct,delta_pp,conflicts,complete\n",
		      strlen("unit,name,enterprises,employees,signed,rate_pct,"
			     "prev_rate_pct,delta_pp,conflicts,complete\n")) ==
	      0);
	CHECK(strstr(gb_buf_str(&c), "\nS01-G1,文昌街道第一网格,3,50,44,88.00,"
				     "76.67,11.33,0,true\n"));
	CHECK(strstr(gb_buf_str(&c),
		     "\nS01-G2,文昌街道第二网格,,,,,,,0,false\n"));
	CHECK(strstr(gb_buf_str(&c), "\ntotal,"));
	CHECK(strstr(gb_buf_str(&c), "\n\ncompleteness,grids,complete,text\n"
				     ",32,1,\"1 of 32 grids complete"));
	CHECK(
	    strstr(gb_buf_str(&c),
		   "\n\nincomplete,grid,name,reason\n,S01-G2,文昌街道第二网格,"
		   "not_synced_since_end\n,S01-G3,"));
	CHECK(p && lines(p + 1) == 1 + 2 + 1 + 1 + 31);
	gb_buf_release(&c);
	/* --list: one list, plain CSV; a list the report has not is
	 * refused, naming those it has. */
	gb_buf_init(&c, GB_BUF_NOLIMIT);
	CHECK(r && report_write_list_csv(r, "incomplete", &c, &err) == 0);
	CHECK(strncmp(gb_buf_str(&c),
		      "grid,name,reason\nS01-G2,文昌街道第二网格,"
		      "not_synced_since_end\n",
		      strlen("grid,name,reason\nS01-G2,文昌街道第二网格,"
			     "not_synced_since_end\n")) == 0);
	CHECK(lines(gb_buf_str(&c)) == 1 + 31);
	CHECK(r && report_write_list_csv(r, "overdue", &c, &err) == -1 &&
	      err.code == GB_EUSAGE && strstr(err.msg, "incomplete"));
	report_free(r);
	gb_buf_release(&t);
	gb_buf_release(&j);
	gb_buf_release(&c);

	/* Every report writes in every form, with the details in JSON. */
	for (size_t k = 0; k < reports_count(); k++) {
		gb_buf_init(&j, GB_BUF_NOLIMIT);
		r = run(st, reports_name(k), "district", "2026-03-02",
			"2026-03-15", at("2026-03-20 10:00"));
		CHECK(r && report_write_json(r, &j, &err) == 0 &&
		      json_valid(gb_buf_str(&j)));
		CHECK(r && report_write_table(r, &j, &err) == 0);
		CHECK(r && report_write_csv(r, &j, &err) == 0);
		CHECK(reports_summary(k) && strlen(reports_summary(k)) > 20);
		report_free(r);
		gb_buf_release(&j);
	}
}

static void test_params(struct store *st)
{
	struct store_device dev;
	struct report *r = NULL;
	struct gb_err err;
	int64_t now = at("2026-03-20 10:00");

	CHECK(report_run(st, "nope", "grid", "2026-03-01", "2026-03-02", now,
			 &r, &err) == -1 &&
	      err.code == GB_ENOTFOUND && !r);
	CHECK(report_run(st, "contract-rate", "area", "2026-03-01",
			 "2026-03-02", now, &r, &err) == -1 &&
	      err.code == GB_EUSAGE && strstr(err.msg, "district|street|grid"));
	CHECK(report_run(st, "requests", "community", "2026-03-01",
			 "2026-03-02", now, &r, &err) == -1 &&
	      err.code == GB_EUSAGE);
	CHECK(report_run(st, "disputes", NULL, NULL, "2026-03-02", now, &r,
			 &err) == -1 &&
	      err.code == GB_EUSAGE && strstr(err.msg, "from"));
	CHECK(report_run(st, "disputes", NULL, "2026-02-30", "2026-03-02", now,
			 &r, &err) == -1 &&
	      err.code == GB_EUSAGE && strstr(err.msg, "from"));
	CHECK(report_run(st, "disputes", NULL, "2026-03-05", "2026-03-02", now,
			 &r, &err) == -1 &&
	      err.code == GB_EUSAGE);
	CHECK(report_run(st, "disputes", NULL, "2000-01-01", "2026-03-02", now,
			 &r, &err) == -1 &&
	      err.code == GB_EUSAGE);
	/* One day, level left out: the district. */
	CHECK(report_run(st, "disputes", NULL, "2026-03-05", "2026-03-05", now,
			 &r, &err) == 0);
	CHECK(r && !strcmp(r->level, "district") && r->main.nrows == 1);
	CHECK_STR(val(r, "D01", "received"), "1"); /* D3 */
	report_free(r);
	CHECK(strcmp(reports_levels("patrol-teams"),
		     "district|street|grid|area|community") == 0);
	CHECK(reports_levels("nope") == NULL);

	memset(&dev, 0, sizeof(dev));
	snprintf(dev.role, sizeof(dev.role), "viewer");
	CHECK(reports_may_read(&dev, &err) == 0);
	snprintf(dev.role, sizeof(dev.role), "officer");
	CHECK(reports_may_read(&dev, &err) == -1 && err.code == GB_EFORBIDDEN);
	snprintf(dev.role, sizeof(dev.role), "coordinator");
	CHECK(reports_may_read(&dev, &err) == -1);
}

/* Every report at every level over the fixture's period, as JSON. */
static void fixture_json(struct store *st, int64_t now, struct gb_buf *out)
{
	static const char *const levels[] = {"district", "street", "grid",
					     "area", "community"};
	struct gb_err err;

	for (size_t k = 0; k < reports_count(); k++)
		for (size_t l = 0; l < 5; l++) {
			struct report *r = NULL;

			if (report_run(st, reports_name(k), levels[l],
				       "2026-03-02", "2026-03-15", now, &r,
				       &err) == 0)
				CHECK(report_write_json(r, out, &err) == 0);
			report_free(r);
		}
}

/*
 * A store that held records before the facts existed: taken back to
 * schema version 1 (the fact tables and their mark dropped, and the
 * device columns of 003), it is
 * migrated when opened, its facts are built from the records it holds by
 * rollup_ensure, and every report comes out as before.  Closes st.
 */
static void test_upgrade(struct store *st, const char *path, int64_t now)
{
	static const char *const drop =
	    "DROP TABLE rf_enterprise; DROP TABLE rr_active; "
	    "DROP TABLE rf_check; "
	    "DROP TABLE rf_rect; DROP TABLE rf_dispute; "
	    "DROP TABLE rf_patrol; DROP TABLE rr_night; "
	    "DROP TABLE rf_daily; DROP TABLE rr_daily; "
	    "DROP TABLE rf_reception; DROP TABLE rr_reception; "
	    "DROP TABLE rf_request; DROP TABLE rr_sync; "
	    "DELETE FROM meta WHERE key = 'rollup_version'; "
	    "ALTER TABLE device DROP COLUMN pending; "
	    "ALTER TABLE device DROP COLUMN oldest_pending; "
	    "DROP TABLE field_conflict; DROP TABLE rf_conflict; "
	    "ALTER TABLE record_current DROP COLUMN heads; "
	    "ALTER TABLE record_current DROP COLUMN conflicts; "
	    "DROP INDEX record_current_uscc; "
	    "PRAGMA user_version = 1;";
	struct gb_buf before, after;
	struct gb_err err;
	sqlite3 *db = NULL;
	struct report *r = NULL;

	gb_buf_init(&before, GB_BUF_NOLIMIT);
	gb_buf_init(&after, GB_BUF_NOLIMIT);
	/* Such a store never heard what devices had left to send. */
	st->ops->close(st);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
	      sqlite3_exec(db,
			   "UPDATE device SET pending = NULL, "
			   "oldest_pending = NULL",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	db = NULL;
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == 0);
	if (!st)
		return;
	fixture_json(st, now, &before);
	st->ops->close(st);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
	      sqlite3_exec(db, drop, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == 0);
	if (!st)
		return;
	/* Not built yet: the reports see no records, and no batch either,
	 * so nothing covers the grid. */
	r = run(st, "disputes", "grid", "2026-03-02", "2026-03-15", now);
	CHECK_STR(val(r, "S01-G1", "received"), "null");
	report_free(r);
	CHECK(rollup_ensure(st, &err) == 0);
	fixture_json(st, now, &after);
	CHECK(before.len > 10000);
	CHECK(before.len == after.len &&
	      !strcmp(gb_buf_str(&before), gb_buf_str(&after)));
	/* Built once: a second call changes nothing. */
	CHECK(rollup_ensure(st, &err) == 0);
	st->ops->close(st);
	gb_buf_release(&before);
	gb_buf_release(&after);
}

/*
 * The reporting time zone belongs to the store: kept from GRIDBOOK_TZ
 * when the store is made, then a GRIDBOOK_TZ naming another zone is
 * refused and an unset one takes the store's.  Leaves GRIDBOOK_TZ as
 * Asia/Shanghai.
 */
static void test_tz(void)
{
	struct store *st = NULL;
	struct gb_err err;
	char path[128];

	snprintf(path, sizeof(path), "%s/tz.db", dir);
	setenv("GRIDBOOK_TZ", "UTC", 1);
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == 0);
	if (st)
		st->ops->close(st);
	st = NULL;
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == -1 && !st &&
	      err.code == GB_EUSAGE && strstr(err.msg, "GRIDBOOK_TZ") &&
	      strstr(err.msg, "UTC"));
	/* The same zone by another name is the same zone. */
	setenv("GRIDBOOK_TZ", "+00:00", 1);
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == 0);
	if (st)
		st->ops->close(st);
	st = NULL;
	setenv("GRIDBOOK_TZ", "nowhere", 1);
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == -1 &&
	      err.code == GB_EUSAGE && strstr(err.msg, "nowhere"));
	unsetenv("GRIDBOOK_TZ");
	CHECK(store_sqlite_open(&st, path, STORE_ADMIN, &err) == 0);
	CHECK(gb_tz_offset_min() == 0);
	if (st)
		st->ops->close(st);
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
}

int main(int argc, char **argv)
{
	struct gb_err err;
	char cmd[160];

	(void)argc;
	argv0 = argv[0];
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	unsetenv("GRIDBOOK_NOW");
	CHECK(auth_init(&err) == 0);
	snprintf(dir, sizeof(dir), "/tmp/gridbook-reports.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);

	test_fixture();
	test_fresh_in_one_batch();
	test_generated();
	test_tz();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	return check_done();
}

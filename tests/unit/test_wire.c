/*
 * Tests of the wire codec: the proto agrees with the kind tables, every
 * kind survives a round trip, and hostile bodies (bad enums, bad UTF-8,
 * garbage, truncation, zip and allocation bombs, oversized bodies) are
 * refused cleanly, per record where they can be.  Hand-made messages are
 * built with the generated protobuf-c code, as a client of another
 * version would build them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>
#include <zlib.h>

#include "check.h"
#include "gridbook.pb-c.h"
#include "kinds.h"
#include "record.h"
#include "wire.h"
#include "wire_sample.h"
#include "xalloc.h"

#include "banned.h"

#define ID1 "0195a3c2-8000-7001-8a00-00000000a001"
#define ID2 "0195a3c2-8000-7002-8a00-00000000a002"
#define ID3 "0195a3c2-8000-7003-8a00-00000000a003"

static int has_bytes(const void *hay, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp((const char *)hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static int has_text(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		return 1;
	fprintf(stderr, "  \"%s\" not in \"%s\"\n", needle, hay ? hay : "");
	return 0;
}

/* A value of the right type for any field; all of them differ from the
 * first choice or zero so that a lost field shows. */
static const char *full_value(const struct gb_field *f)
{
	int n = 0;

	switch (f->type) {
	case GB_T_TEXT:
		return f->flags & GB_F_LONG
			   ? "走访临江街道团结社区，发现消防通道堵塞，"
			     "已通知物业处理；\"引号\"与换行\n均保留"
			   : "望川鑫达科技有限公司";
	case GB_T_INT:
		return "42";
	case GB_T_MONEY:
		return "1200.50";
	case GB_T_DATE:
		return "2025-03-03";
	case GB_T_TIME:
		return "1740967200000";
	case GB_T_ENUM:
		while (f->choices[n])
			n++;
		return f->choices[n - 1];
	case GB_T_REF:
		switch (f->ref) {
		case GB_REF_ENTERPRISE:
		case GB_REF_CHECK:
			return ID2;
		case GB_REF_COMMUNITY:
			return "S03-C07";
		case GB_REF_AREA:
			return "PA-22";
		default:
			return "J0080";
		}
	case GB_T_LIST:
		return f->ref == GB_REF_STAFF ? "B0055,B0056,B0057"
					      : "S03-C06,S03-C07";
	case GB_T_USCC:
		return "91320506MA1X2Y3Z4K";
	}
	return "?";
}

static struct gb_record *make_record(const struct gb_kind *k, int all)
{
	struct gb_record *r = gb_record_new(k);

	memcpy(r->id, ID1, sizeof(ID1));
	memcpy(r->grid, "S03-G2", 7);
	memcpy(r->device, SAMPLE_DEVICE, sizeof(SAMPLE_DEVICE));
	memcpy(r->staff, "J0080", 6);
	r->created_at = INT64_C(1740960000000);
	r->updated_at = INT64_C(1740963600123);
	r->version = (UINT64_C(1740963600123) << 16) | 7;
	for (int i = 0; i < k->nfields; i++)
		if (all || (k->fields[i].flags & GB_F_REQUIRED))
			gb_record_set(r, i, full_value(&k->fields[i]));
	return r;
}

static int same_record(const struct gb_record *a, const struct gb_record *b)
{
	if (!a || !b || !gb_record_same_content(a, b) || strcmp(a->id, b->id) ||
	    strcmp(a->grid, b->grid) || strcmp(a->device, b->device) ||
	    strcmp(a->staff, b->staff) || a->created_at != b->created_at ||
	    a->updated_at != b->updated_at || a->version != b->version)
		return 0;
	return 1;
}

static int quiet;

static struct gb_record *round_trip(const struct gb_record *r)
{
	struct gb_record *back = NULL;
	struct gb_err err = {GB_OK, ""};
	struct gb_buf b;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (wire_record_pack(r, &b, &err) ||
	    wire_record_unpack(b.data, b.len, &back, &err))
		if (!quiet)
			fprintf(stderr, "  %s: %s\n", r->kind->name, err.msg);
	gb_buf_release(&b);
	return back;
}

/* Checks a copy of the enterprise table with one field changed. */
static void check_drift(const char *field, enum gb_ftype type,
			const char *rename, const char *want)
{
	static const char *const more_status[] = {"active", "closed",
						  "suspended", NULL};
	const struct gb_kind *ent = gb_kind_find("enterprise");
	struct gb_field fields[GB_MAX_FIELDS];
	struct gb_kind k = *ent;
	struct gb_err err = {GB_OK, ""};
	int i = gb_kind_field(ent, field);

	memcpy(fields, ent->fields, sizeof(fields[0]) * (size_t)ent->nfields);
	fields[i].type = type;
	if (rename)
		fields[i].name = rename;
	if (!want) {
		fields[i].choices = more_status;
		want = "field status has 3 choices but enum "
		       "gridbook.Enterprise.Status has 2";
	}
	k.fields = fields;
	CHECK(wire_kind_check(&k, &err) == -1);
	CHECK(err.code == GB_EINTERNAL && has_text(err.msg, want));
}

static void test_schema(void)
{
	struct gb_err err = {GB_OK, ""};
	int rc = wire_schema_check(&err);

	if (rc)
		fprintf(stderr, "proto and kinds.c disagree: %s\n", err.msg);
	CHECK(rc == 0);

	/* A table that drifts from the proto is named with its field. */
	check_drift("employees", GB_T_TEXT, NULL,
		    "field employees is text in kinds.c and should be string, "
		    "but gridbook.Enterprise.employees is int64");
	check_drift("name", GB_T_TEXT, "legal_name",
		    "field legal_name has no field of that name");
	check_drift("status", GB_T_ENUM, NULL, NULL);
}

/* The check every program runs at start, over whole tables that do not
 * match the proto: one field of another type, a kind the proto lacks,
 * a kind left out of the table the proto has. */
static void test_schema_table(void)
{
	static const struct gb_field extra_fields[] = {
	    {"serial", "serial", GB_T_TEXT, 0, GB_REF_NONE, NULL, NULL, 0, 0},
	};
	struct gb_kind table[64];
	struct gb_field fields[GB_MAX_FIELDS];
	struct gb_err err = {GB_OK, ""};
	const struct gb_kind *patrol = gb_kind_find("patrol");
	int n = gb_nkinds, p = (int)(patrol - gb_kinds);

	CHECK(n + 1 <= 64);
	memcpy(table, gb_kinds, sizeof(table[0]) * (size_t)n);
	CHECK(wire_schema_check_table(table, n, &err) == 0);

	memcpy(fields, patrol->fields,
	       sizeof(fields[0]) * (size_t)patrol->nfields);
	fields[gb_kind_field(patrol, "incidents")].type = GB_T_TEXT;
	table[p].fields = fields;
	CHECK(wire_schema_check_table(table, n, &err) == -1);
	CHECK(has_text(err.msg, "kind patrol: field incidents is text"));
	table[p] = gb_kinds[p];

	table[n] = gb_kinds[0];
	table[n].name = "vehicle_check";
	table[n].fields = extra_fields;
	table[n].nfields = 1;
	CHECK(wire_schema_check_table(table, n + 1, &err) == -1);
	CHECK(has_text(err.msg, "kind vehicle_check: no message member"));

	CHECK(wire_schema_check_table(table + 1, n - 1, &err) == -1);
	CHECK(has_text(err.msg, "member enterprise of gridbook.Record's body "
				"is not a kind"));
}

static void test_kinds_round_trip(void)
{
	for (int i = 0; i < gb_nkinds; i++) {
		for (int all = 0; all <= 1; all++) {
			struct gb_record *r = make_record(&gb_kinds[i], all);
			struct gb_record *back;

			if (!all) {
				r->voided = 1;
				gb_record_set_void_reason(r, "重复录入");
			}
			back = round_trip(r);
			CHECK(same_record(r, back));
			if (!same_record(r, back))
				fprintf(stderr, "  kind %s (all=%d)\n",
					gb_kinds[i].name, all);
			gb_record_free(back);
			gb_record_free(r);
		}
	}
}

static void test_values(void)
{
	const struct gb_kind *k = gb_kind_find("contract_check");
	struct gb_record *r = make_record(k, 1), *back;
	struct gb_err err = {GB_OK, ""};
	struct gb_buf b;

	/* Money is carried in fen and comes back in canonical form. */
	gb_record_set_name(r, "wage_arrears", "12");
	back = round_trip(r);
	CHECK(back &&
	      strcmp(gb_record_get(back, "wage_arrears"), "12.00") == 0);
	gb_record_free(back);
	gb_record_set_name(r, "wage_arrears", "-3.5");
	back = round_trip(r);
	CHECK(back &&
	      strcmp(gb_record_get(back, "wage_arrears"), "-3.50") == 0);
	gb_record_free(back);
	gb_record_set_name(r, "wage_arrears", "92233720368547758.07");
	quiet = 1;
	back = round_trip(r);
	quiet = 0;
	CHECK(back == NULL);
	gb_record_free(back);

	/* A bad canonical value is refused when packing, naming the field. */
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	gb_record_set_name(r, "wage_arrears", "1.234");
	CHECK(wire_record_pack(r, &b, &err) == -1 && err.code == GB_EINVAL &&
	      has_text(err.msg, "wage_arrears"));
	gb_record_set_name(r, "wage_arrears", "0.00");
	gb_record_set_name(r, "insured", "12a");
	CHECK(wire_record_pack(r, &b, &err) == -1 &&
	      has_text(err.msg, "insured"));
	gb_record_set_name(r, "insured", "3");
	gb_record_set_name(r, "outcome", "approved");
	CHECK(wire_record_pack(r, &b, &err) == -1 &&
	      has_text(err.msg, "outcome"));
	gb_record_set_name(r, "outcome", "notice");
	gb_record_set_name(r, "enterprise", "not-an-id");
	CHECK(wire_record_pack(r, &b, &err) == -1 &&
	      has_text(err.msg, "enterprise"));
	gb_record_set_name(r, "enterprise", ID2);
	CHECK(wire_record_pack(r, &b, &err) == 0);
	gb_buf_release(&b);
	gb_record_free(r);

	/* A list with an empty item has no wire form. */
	r = make_record(gb_kind_find("patrol"), 1);
	gb_record_set_name(r, "guards", "B0055,,B0056");
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(wire_record_pack(r, &b, &err) == -1 &&
	      has_text(err.msg, "guards"));
	gb_buf_release(&b);
	gb_record_free(r);
}

/* ---- hand-made batches --------------------------------------------- */

static Gridbook__Record *record_msg(const struct gb_record *r)
{
	Gridbook__Record *m;
	struct gb_buf b;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (wire_record_pack(r, &b, NULL))
		abort();
	m = gridbook__record__unpack(NULL, b.len, (uint8_t *)b.data);
	gb_buf_release(&b);
	if (!m)
		abort();
	return m;
}

static uint8_t test_device[16] = {0x01, 0x95, 0xa3, 0xc2, 0x7b, 0x10,
				  0x7c, 0x4e, 0x9a, 0x51, 0x3f, 0x6d,
				  0x2e, 0x8b, 0x1c, 0x07};

static void batch_init(Gridbook__Batch *bt)
{
	gridbook__batch__init(bt);
	bt->has_protocol = 1;
	bt->protocol = 1;
	bt->has_device = 1;
	bt->device.data = test_device;
	bt->device.len = 16;
	bt->grid = "S03-G2";
	bt->has_seq = 1;
	bt->seq = 7;
}

/* Packs and deflates a hand-made batch into out. */
static void batch_body(const Gridbook__Batch *bt, struct gb_buf *out)
{
	size_t n = gridbook__batch__get_packed_size(bt);
	uint8_t *p = xmalloc(n + 1);

	gridbook__batch__pack(bt, p);
	gb_buf_reset(out);
	if (wire_deflate(p, n, out, NULL))
		abort();
	free(p);
}

/* A batch of three enterprises whose second is changed by edit(). */
static int decode_edited(void (*edit)(Gridbook__Record *),
			 struct wire_batch *wb, struct gb_err *err)
{
	const char *ids[] = {ID1, ID2, ID3};
	Gridbook__Record *ms[3];
	Gridbook__Batch bt;
	struct gb_buf body;
	int rc;

	for (int i = 0; i < 3; i++) {
		struct gb_record *r =
		    make_record(gb_kind_find("enterprise"), 1);

		memcpy(r->id, ids[i], GB_ID_LEN);
		ms[i] = record_msg(r);
		gb_record_free(r);
	}
	edit(ms[1]);
	batch_init(&bt);
	bt.n_records = 3;
	bt.records = ms;
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	batch_body(&bt, &body);
	rc = wire_batch_decode(body.data, body.len, wb, err);
	gb_buf_release(&body);
	for (int i = 0; i < 3; i++)
		gridbook__record__free_unpacked(ms[i], NULL);
	return rc;
}

static void edit_enum(Gridbook__Record *m)
{
	m->enterprise->type = (Gridbook__Enterprise__Type)9;
}

static void edit_utf8(Gridbook__Record *m)
{
	free(m->enterprise->name);
	m->enterprise->name = xstrdup("望川\xff\xfe科技");
}

static void edit_date(Gridbook__Record *m)
{
	Gridbook__ContractCheck *c = xmalloc(sizeof(*c));

	gridbook__enterprise__free_unpacked(m->enterprise, NULL);
	gridbook__contract_check__init(c);
	c->has_check_date = 1;
	c->check_date = 2000000;
	m->contract_check = c;
	m->body_case = GRIDBOOK__RECORD__BODY_CONTRACT_CHECK;
}

static void edit_short_ref(Gridbook__Record *m)
{
	Gridbook__Dispute *d = xmalloc(sizeof(*d));

	gridbook__enterprise__free_unpacked(m->enterprise, NULL);
	gridbook__dispute__init(d);
	d->has_enterprise = 1;
	d->enterprise.len = 3;
	d->enterprise.data = (uint8_t *)xstrdup("abc");
	m->dispute = d;
	m->body_case = GRIDBOOK__RECORD__BODY_DISPUTE;
}

static void edit_no_body(Gridbook__Record *m)
{
	gridbook__enterprise__free_unpacked(m->enterprise, NULL);
	m->enterprise = NULL;
	m->body_case = GRIDBOOK__RECORD__BODY__NOT_SET;
}

static void edit_list(Gridbook__Record *m)
{
	Gridbook__Patrol *p = xmalloc(sizeof(*p));

	gridbook__enterprise__free_unpacked(m->enterprise, NULL);
	gridbook__patrol__init(p);
	p->n_guards = 2;
	p->guards = xcalloc(2, sizeof(char *));
	p->guards[0] = xstrdup("B0055");
	p->guards[1] = xstrdup("B0056,B0057");
	m->patrol = p;
	m->body_case = GRIDBOOK__RECORD__BODY_PATROL;
}

static void check_refused(void (*edit)(Gridbook__Record *), enum gb_code code,
			  const char *reason)
{
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;

	CHECK(decode_edited(edit, &wb, &err) == 0);
	CHECK(wb.n == 3);
	if (wb.n == 3) {
		CHECK(wb.items[0].rec && wb.items[2].rec);
		CHECK(wb.items[1].rec == NULL);
		CHECK(wb.items[1].code == code);
		CHECK(has_text(wb.items[1].reason, reason));
		CHECK_STR(wb.items[1].id, ID2);
		CHECK(wb.items[1].raw && wb.items[1].raw_len > 16);
		CHECK(wb.items[1].version != 0);
	}
	wire_batch_release(&wb);
}

static void edit_oversize(Gridbook__Record *m)
{
	size_t n = WIRE_MAX_RECORD + 100;
	char *a = xmalloc(n + 1);
	uint64_t x = 88172645463325252ull;

	/* Letters that do not compress much, so that only the record's own
	 * cap can refuse it. */
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a[i] = (char)('a' + x % 26);
	}
	a[n] = '\0';
	free(m->enterprise->address);
	m->enterprise->address = a;
}

/* A NUL inside a string: protobuf-c would hand C the text cut short at
 * it.  The batch is packed with a marker, which becomes "AB\0DE". */
static void test_nul_in_text(void)
{
	struct gb_record *r = make_record(gb_kind_find("enterprise"), 1);
	struct gb_err err = {GB_OK, ""};
	Gridbook__Record *ms[2];
	Gridbook__Batch bt;
	struct wire_batch wb;
	struct gb_buf body;
	uint8_t *p, *hit = NULL;
	size_t n;

	memcpy(r->id, ID1, GB_ID_LEN);
	ms[0] = record_msg(r);
	memcpy(r->id, ID2, GB_ID_LEN);
	ms[1] = record_msg(r);
	free(ms[1]->enterprise->name);
	ms[1]->enterprise->name = xstrdup("望川ABXDE纸业");
	batch_init(&bt);
	bt.n_records = 2;
	bt.records = ms;
	n = gridbook__batch__get_packed_size(&bt);
	p = xmalloc(n);
	gridbook__batch__pack(&bt, p);
	for (size_t i = 0; i + 5 <= n && !hit; i++)
		if (!memcmp(p + i, "ABXDE", 5))
			hit = p + i;
	CHECK(hit != NULL);
	if (hit)
		hit[2] = 0;
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	CHECK(wire_deflate(p, n, &body, NULL) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.n == 2);
	if (wb.n == 2) {
		CHECK(wb.items[0].rec != NULL);
		CHECK(wb.items[1].rec == NULL);
		CHECK(wb.items[1].code == GB_EINVAL);
		CHECK(has_text(wb.items[1].reason, "name: text contains the "
						   "control character U+0000"));
		CHECK_STR(wb.items[1].id, ID2);
	}
	wire_batch_release(&wb);
	gb_buf_release(&body);
	free(p);
	gridbook__record__free_unpacked(ms[0], NULL);
	gridbook__record__free_unpacked(ms[1], NULL);
	gb_record_free(r);
}

/* The bases and resolved fields of a version (SPEC §4) go over the wire
 * and come back as sent; more bases than GB_MAX_BASE, or a resolved bit
 * that names no field of the kind, refuse that record alone. */
static void test_bases(void)
{
	struct gb_record *r = make_record(gb_kind_find("enterprise"), 1);
	struct gb_record *back = NULL;
	struct gb_err err = {GB_OK, ""};
	Gridbook__Record *ms[3];
	Gridbook__Batch bt;
	struct wire_batch wb;
	struct gb_buf buf, body;
	uint8_t *p;
	size_t n;

	r->base[0] = UINT64_C(0x0195a3c27b100001);
	r->base[1] = UINT64_C(0x0195a3c27b100002);
	r->nbase = 2;
	r->resolves = 1u << 4 | GB_RESOLVES_VOID;
	gb_buf_init(&buf, GB_BUF_NOLIMIT);
	CHECK(wire_record_pack(r, &buf, &err) == 0);
	CHECK(wire_record_unpack(buf.data, buf.len, &back, &err) == 0);
	if (back) {
		CHECK(back->nbase == 2);
		CHECK(back->base[0] == r->base[0]);
		CHECK(back->base[1] == r->base[1]);
		CHECK(back->resolves == r->resolves);
	}
	gb_record_free(back);
	gb_buf_release(&buf);

	memcpy(r->id, ID1, GB_ID_LEN);
	ms[0] = record_msg(r);
	memcpy(r->id, ID2, GB_ID_LEN);
	ms[1] = record_msg(r);
	free(ms[1]->bases);
	ms[1]->n_bases = GB_MAX_BASE + 1;
	ms[1]->bases = xcalloc(ms[1]->n_bases, sizeof(*ms[1]->bases));
	memcpy(r->id, ID3, GB_ID_LEN);
	ms[2] = record_msg(r);
	ms[2]->resolves = 1u << 15;
	batch_init(&bt);
	bt.n_records = 3;
	bt.records = ms;
	n = gridbook__batch__get_packed_size(&bt);
	p = xmalloc(n);
	gridbook__batch__pack(&bt, p);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	CHECK(wire_deflate(p, n, &body, NULL) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.n == 3);
	if (wb.n == 3) {
		CHECK(wb.items[0].rec != NULL);
		CHECK(wb.items[1].rec == NULL);
		CHECK(has_text(wb.items[1].reason, "base: 9 versions named"));
		CHECK(wb.items[2].rec == NULL);
		CHECK(has_text(wb.items[2].reason, "resolves: bits 0x8000"));
	}
	wire_batch_release(&wb);
	gb_buf_release(&body);
	free(p);
	for (int i = 0; i < 3; i++)
		gridbook__record__free_unpacked(ms[i], NULL);
	gb_record_free(r);
}

/* More records than a batch may hold: the batch is refused as a whole,
 * before anything is made of its records. */
static void test_record_count(void)
{
	struct wire_batch_hdr h = {
	    .device = SAMPLE_DEVICE, .grid = SAMPLE_GRID, .seq = 9};
	size_t n = WIRE_MAX_RECORDS + 1;
	struct gb_record **recs = xcalloc(n, sizeof(*recs));
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;
	struct gb_buf body;
	struct sample sm;

	sample_init(&sm);
	for (size_t i = 0; i < n; i++)
		recs[i] = sample_next(&sm);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	CHECK(wire_batch_encode(&h, recs, n - 1, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.n == WIRE_MAX_RECORDS);
	wire_batch_release(&wb);
	CHECK(wire_batch_encode(&h, recs, n, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	CHECK(has_text(err.msg, "records: 2001 is over the limit of 2000"));
	CHECK(wb.n == 0 && wb.items == NULL);
	gb_buf_release(&body);
	for (size_t i = 0; i < n; i++)
		gb_record_free(recs[i]);
	free(recs);
}

static void test_refused_items(void)
{
	check_refused(edit_oversize, GB_ETOOBIG, "over the limit of 65536");
	check_refused(edit_enum, GB_EINVAL, "type: unknown value 9");
	check_refused(edit_utf8, GB_EPROTO, "name: not valid UTF-8");
	check_refused(edit_date, GB_EINVAL, "check_date: day 2000000");
	check_refused(edit_short_ref, GB_EPROTO,
		      "enterprise: not a 16-byte id");
	check_refused(edit_no_body, GB_EPROTO, "no body");
	check_refused(edit_list, GB_EPROTO, "guards: item 2");
	test_nul_in_text();
	test_bases();
	test_record_count();
}

/* ---- batch round trip and header --------------------------------- */

static void test_batch_round_trip(void)
{
	struct wire_batch_hdr h = {
	    .device = SAMPLE_DEVICE, .grid = SAMPLE_GRID, .seq = 42};
	struct gb_record *recs[30];
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;
	struct sample s;
	struct gb_buf body;
	int ok = 1;

	sample_init(&s);
	for (int i = 0; i < 30; i++)
		recs[i] = sample_next(&s);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	CHECK(wire_batch_encode(&h, recs, 30, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK_STR(wb.hdr.device, SAMPLE_DEVICE);
	CHECK_STR(wb.hdr.grid, SAMPLE_GRID);
	CHECK(wb.hdr.seq == 42);
	CHECK(!wb.hdr.has_pending && wb.hdr.pending == 0 &&
	      wb.hdr.oldest_pending == 0);
	CHECK(wb.n == 30);
	for (size_t i = 0; i < wb.n && i < 30; i++) {
		struct gb_record *again = NULL;

		ok &= same_record(recs[i], wb.items[i].rec);
		ok &= wb.items[i].code == GB_OK;
		ok &= strcmp(wb.items[i].id, recs[i]->id) == 0;
		ok &= wb.items[i].version == recs[i]->version;
		ok &= wire_record_unpack(wb.items[i].raw, wb.items[i].raw_len,
					 &again, &err) == 0;
		ok &= same_record(recs[i], again);
		gb_record_free(again);
	}
	CHECK(ok);
	wire_batch_release(&wb);

	/* An empty batch is a batch. */
	CHECK(wire_batch_encode(&h, NULL, 0, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.n == 0 && wb.hdr.seq == 42 && wb.hdr.features == 0);
	wire_batch_release(&wb);

	/* What the device reads in answers travels in the header. */
	h.features = WIRE_FEATURE_ACK;
	CHECK(wire_batch_encode(&h, NULL, 0, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.hdr.features == WIRE_FEATURE_ACK);
	wire_batch_release(&wb);
	h.features = 0;

	/* What the device has left to send travels in the header; nothing
	 * left has no oldest time. */
	h.has_pending = 1;
	h.pending = 1234;
	h.oldest_pending = 1772000000123;
	CHECK(wire_batch_encode(&h, recs, 2, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.n == 2 && wb.hdr.has_pending && wb.hdr.pending == 1234 &&
	      wb.hdr.oldest_pending == 1772000000123);
	wire_batch_release(&wb);
	h.pending = 0;
	h.oldest_pending = 0;
	CHECK(wire_batch_encode(&h, recs, 2, &body, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.hdr.has_pending && wb.hdr.pending == 0 &&
	      wb.hdr.oldest_pending == 0);
	wire_batch_release(&wb);
	h.has_pending = 0;

	/* A record that cannot be packed fails the encoding, named. */
	memcpy(recs[3]->id, "nope", 5);
	CHECK(wire_batch_encode(&h, recs, 30, &body, &err) == -1 &&
	      has_text(err.msg, "nope"));
	gb_buf_release(&body);
	for (int i = 0; i < 30; i++)
		gb_record_free(recs[i]);
}

static void check_header(void (*edit)(Gridbook__Batch *), const char *what)
{
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;
	Gridbook__Batch bt;
	struct gb_buf body;

	batch_init(&bt);
	edit(&bt);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	batch_body(&bt, &body);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, what));
	CHECK(wb.n == 0 && wb.items == NULL);
	gb_buf_release(&body);
}

static void hdr_no_protocol(Gridbook__Batch *b)
{
	b->has_protocol = 0;
}

static void hdr_protocol_2(Gridbook__Batch *b)
{
	b->protocol = 2;
}

static void hdr_short_device(Gridbook__Batch *b)
{
	b->device.len = 15;
}

static void hdr_no_grid(Gridbook__Batch *b)
{
	b->grid = NULL;
}

static void hdr_no_seq(Gridbook__Batch *b)
{
	b->has_seq = 0;
}

static void hdr_pending_huge(Gridbook__Batch *b)
{
	b->has_pending = 1;
	b->pending = UINT64_MAX;
}

static void hdr_oldest_absurd(Gridbook__Batch *b)
{
	b->has_pending = 1;
	b->pending = 1;
	b->has_oldest_pending = 1;
	b->oldest_pending = INT64_MAX;
}

static void hdr_oldest_before_1900(Gridbook__Batch *b)
{
	b->has_pending = 1;
	b->pending = 1;
	b->has_oldest_pending = 1;
	b->oldest_pending = -2300000000000; /* 1897 */
}

static void test_batch_header(void)
{
	check_header(hdr_no_protocol, "protocol: missing");
	check_header(hdr_protocol_2, "protocol: version 2");
	check_header(hdr_short_device, "device: not a 16-byte id");
	check_header(hdr_no_grid, "grid: missing");
	check_header(hdr_no_seq, "seq: missing");
	check_header(hdr_pending_huge, "pending: 18446744073709551615");
	check_header(hdr_oldest_absurd, "oldest_pending: 9223372036854775807");
	check_header(hdr_oldest_before_1900, "oldest_pending: -2300000000000");
}

/* ---- hostile bodies ------------------------------------------------ */

static void test_garbage(void)
{
	struct wire_batch_hdr h = {
	    .device = SAMPLE_DEVICE, .grid = SAMPLE_GRID, .seq = 1};
	static const uint8_t junk_pb[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	struct gb_err err = {GB_OK, ""};
	struct gb_record *recs[5];
	struct wire_batch wb;
	struct gb_buf body, z;
	struct sample s;
	char *copy;

	sample_init(&s);
	for (int i = 0; i < 5; i++)
		recs[i] = sample_next(&s);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	CHECK(wire_batch_encode(&h, recs, 5, &body, &err) == 0);

	/* Truncated. */
	CHECK(wire_batch_decode(body.data, body.len / 2, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, "truncated"));
	/* Not zlib at all. */
	CHECK(wire_batch_decode("hello, world", 12, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO);
	CHECK(wire_batch_decode("", 0, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO);
	/* A flipped byte in the middle: the checksum or the stream breaks. */
	copy = xmalloc(body.len);
	memcpy(copy, body.data, body.len);
	copy[body.len / 2] ^= 0x55;
	CHECK(wire_batch_decode(copy, body.len, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO);
	free(copy);
	/* Trailing bytes after the stream. */
	CHECK(gb_buf_add(&body, "xyz", 3, &err) == 0);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, "follow"));
	/* Valid zlib around invalid protobuf. */
	gb_buf_init(&z, GB_BUF_NOLIMIT);
	CHECK(wire_deflate(junk_pb, sizeof(junk_pb), &z, &err) == 0);
	CHECK(wire_batch_decode(z.data, z.len, &wb, &err) == -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, "Batch"));
	gb_buf_release(&z);
	gb_buf_release(&body);
	for (int i = 0; i < 5; i++)
		gb_record_free(recs[i]);
}

/* 100 MB of zeros deflated: about 100 kB on the wire. */
static void test_zip_bomb(void)
{
	static unsigned char zeros[1 << 16], out[1 << 16];
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;
	struct gb_buf bomb, small;
	z_stream z;
	size_t left = (size_t)100 << 20;

	memset(&z, 0, sizeof(z));
	gb_buf_init(&bomb, GB_BUF_NOLIMIT);
	CHECK(deflateInit(&z, 9) == Z_OK);
	do {
		size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

		left -= n;
		z.next_in = zeros;
		z.avail_in = (uInt)n;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
			gb_buf_add(&bomb, out, sizeof(out) - z.avail_out, NULL);
		} while (z.avail_out == 0);
	} while (left);
	deflateEnd(&z);
	printf("zip bomb: 100 MiB of zeros in %zu bytes\n", bomb.len);

	CHECK(wire_batch_decode(bomb.data, bomb.len, &wb, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	printf("  refused: %s\n", err.msg);
	/* The inflated bytes held never pass the limit asked for. */
	gb_buf_init(&small, GB_BUF_NOLIMIT);
	CHECK(wire_inflate(bomb.data, bomb.len, 1 << 20, &small, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	CHECK(small.len <= (1 << 20) && small.alloc <= (2 << 20));
	gb_buf_release(&small);
	gb_buf_release(&bomb);
}

/* Records of four bytes each, with enough randomness to stay within the
 * inflation ratio, that cost a C struct of well over a hundred bytes each
 * when unpacked: the memory budget must stop them. */
static void test_alloc_bomb(void)
{
	size_t n = (size_t)4 << 20;
	uint8_t *pb = xmalloc(n);
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;
	struct sample s;
	uLongf zn;
	Bytef *zb;

	sample_init(&s);
	for (size_t i = 0; i < n; i += 4) {
		pb[i] = 0x2a;	  /* field 5 (records), length-delimited */
		pb[i + 1] = 0x02; /* of two bytes: */
		pb[i + 2] = 0x38; /* field 7 (version), varint */
		pb[i + 3] = (uint8_t)(sample_rand(&s) & 0x7f);
	}
	/* Plain zlib at level 1: quick, and a body need not use the
	 * dictionary. */
	zn = compressBound(n);
	zb = xmalloc(zn);
	CHECK(compress2(zb, &zn, pb, n, 1) == Z_OK);
	CHECK(zn * WIRE_MAX_RATIO > n);
	CHECK(wire_batch_decode(zb, zn, &wb, &err) == -1);
	CHECK(err.code == GB_ETOOBIG && has_text(err.msg, "memory"));
	printf("alloc bomb: %lu bytes inflate to %zu: %s\n", (unsigned long)zn,
	       n, err.msg);
	free(zb);
	free(pb);
}

static void test_body_cap(void)
{
	size_t n = (size_t)WIRE_MAX_BODY + 1;
	char *big = xcalloc(1, n);
	struct gb_err err = {GB_OK, ""};
	struct wire_batch wb;
	struct wire_page pg;

	CHECK(wire_batch_decode(big, n, &wb, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	CHECK(wire_page_decode(big, n, &pg, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	free(big);
}

static void test_plain_zlib(void)
{
	static const char text[] = "没有预设字典的数据也能解压 plain zlib";
	unsigned char z[256];
	uLongf zn = sizeof(z);
	struct gb_err err = {GB_OK, ""};
	struct gb_buf out;

	CHECK(compress(z, &zn, (const Bytef *)text, sizeof(text)) == Z_OK);
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	CHECK(wire_inflate(z, zn, 1 << 20, &out, &err) == 0);
	CHECK(out.len == sizeof(text) && memcmp(out.data, text, out.len) == 0);
	gb_buf_release(&out);
}

/* ---- unknown fields ------------------------------------------------ */

static void test_unknown_fields(void)
{
	/* Field 99 as a varint: key (99 << 3) | 0 = 792, then 42. */
	static const uint8_t extra[] = {0x98, 0x06, 0x2a};
	struct gb_record *r = make_record(gb_kind_find("patrol"), 1);
	struct gb_err err = {GB_OK, ""};
	Gridbook__Record *m;
	Gridbook__Batch bt;
	struct wire_batch wb;
	struct wire_page pg, back;
	struct gb_buf b, body;
	void *raw[1];
	size_t raw_len[1];

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(wire_record_pack(r, &b, &err) == 0);
	CHECK(gb_buf_add(&b, extra, sizeof(extra), &err) == 0);
	m = gridbook__record__unpack(NULL, b.len, (uint8_t *)b.data);
	CHECK(m != NULL && m->base.n_unknown_fields == 1);
	batch_init(&bt);
	bt.n_records = 1;
	bt.records = &m;
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	batch_body(&bt, &body);
	CHECK(wire_batch_decode(body.data, body.len, &wb, &err) == 0);
	CHECK(wb.n == 1 && same_record(r, wb.items[0].rec));
	CHECK(wb.n == 1 && has_bytes(wb.items[0].raw, wb.items[0].raw_len,
				     extra, sizeof(extra)));

	/* The server sends the bytes it kept on to the other devices. */
	wire_page_init(&pg);
	pg.recs = xcalloc(1, sizeof(*pg.recs));
	pg.recs[0] = gb_record_dup(r);
	pg.n = 1;
	raw[0] = wb.items[0].raw;
	raw_len[0] = wb.items[0].raw_len;
	pg.raw = raw;
	pg.raw_len = raw_len;
	CHECK(wire_page_encode(&pg, &body, &err) == 0);
	CHECK(wire_page_decode(body.data, body.len, &back, &err) == 0);
	CHECK(back.n == 1 && same_record(r, back.recs[0]));
	wire_page_release(&back);
	wire_page_release(&pg);

	wire_batch_release(&wb);
	gridbook__record__free_unpacked(m, NULL);
	gb_buf_release(&body);
	gb_buf_release(&b);
	gb_record_free(r);
}

/* ---- acks and pages ------------------------------------------------ */

static void test_ack(void)
{
	struct wire_ack_item items[3] = {
	    {ID1, 11, WIRE_ACCEPTED, "", NULL, 0},
	    {ID2, 12, WIRE_REJECTED, "invalid",
	     "contracts_signed (52) exceeds employees_total (40)", 0},
	    {"", 0, WIRE_REJECTED, "malformed", "id: missing", 0},
	};
	struct wire_ack a = {9, INT64_C(1740960000000), items, 3, 0, 0, 0},
			back;
	struct gb_err err = {GB_OK, ""};
	Gridbook__Ack__Item bad_item;
	Gridbook__Ack__Item *bad_items[1] = {&bad_item};
	Gridbook__Ack bad;
	uint8_t pb[256];
	size_t n;
	struct gb_buf b;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(wire_ack_encode(&a, &b, &err) == 0);
	CHECK(wire_ack_decode(b.data, b.len, &back, &err) == 0);
	CHECK(back.seq == 9 && back.server_time == a.server_time);
	CHECK(back.n == 3);
	if (back.n == 3) {
		CHECK_STR(back.items[0].id, ID1);
		CHECK(back.items[0].status == WIRE_ACCEPTED);
		CHECK(back.items[0].reason == NULL);
		CHECK_STR(back.items[0].reason_code, "");
		CHECK(back.items[1].version == 12);
		CHECK_STR(back.items[1].reason_code, "invalid");
		CHECK_STR(back.items[1].reason, items[1].reason);
		CHECK_STR(back.items[2].id, "");
	}
	wire_ack_release(&back);

	/* An unknown status fails the ack. */
	gridbook__ack__init(&bad);
	gridbook__ack__item__init(&bad_item);
	bad_item.has_status = 1;
	bad_item.status = (Gridbook__Ack__Status)17;
	bad.n_items = 1;
	bad.items = bad_items;
	n = gridbook__ack__pack(&bad, pb);
	CHECK(wire_ack_decode(pb, n, &back, &err) == -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, "unknown status 17"));
	CHECK(wire_ack_decode("\xff\xff", 2, &back, &err) == -1);
	CHECK(err.code == GB_EPROTO);
	gb_buf_release(&b);
}

/* The compact form: only what was not accepted, the records counted,
 * HQ's high-water and the transient mark kept; an empty batch's ack stays
 * full; a compact ack naming more items than records is refused; the
 * renumber answer. */
static void test_ack_compact(void)
{
	struct wire_ack_item items[4] = {
	    {ID1, 11, WIRE_ACCEPTED, "", NULL, 0},
	    {ID2, 12, WIRE_REJECTED, "invalid", xstrdup("version: ahead"), 1},
	    {ID3, 13, WIRE_ACCEPTED, "", NULL, 0},
	    {ID1, 14, WIRE_DUPLICATE, "", NULL, 0},
	};
	struct wire_ack a = {9, 1740960000000, NULL, 4, 0, 0, 0}, back,
			empty = {3, 1, NULL, 0, 0, 0, 0};
	struct gb_err err = {GB_OK, ""};
	Gridbook__Ack bad = GRIDBOOK__ACK__INIT;
	Gridbook__Ack__Item it1 = GRIDBOOK__ACK__ITEM__INIT,
			    it2 = GRIDBOOK__ACK__ITEM__INIT;
	Gridbook__Ack__Item *its[2] = {&it1, &it2};
	uint8_t pb[64];
	struct gb_buf b;
	size_t full;

	a.items = xcalloc(4, sizeof(*a.items));
	memcpy(a.items, items, sizeof(items));
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(wire_ack_encode(&a, &b, &err) == 0);
	full = b.len;
	CHECK(wire_ack_compact(&a, &err) == 0);
	CHECK(a.records == 4 && a.n == 2);
	CHECK(wire_ack_compact(&a, &err) == 0 && a.n == 2);
	a.device_seq = 77;
	CHECK(wire_ack_encode(&a, &b, &err) == 0);
	CHECK(b.len < full);
	CHECK(wire_ack_decode(b.data, b.len, &back, &err) == 0);
	CHECK(back.records == 4 && back.n == 2 && back.device_seq == 77 &&
	      !back.renumber);
	if (back.n == 2) {
		CHECK_STR(back.items[0].id, ID2);
		CHECK(back.items[0].transient == 1);
		CHECK(back.items[1].status == WIRE_DUPLICATE &&
		      back.items[1].version == 14 && !back.items[1].transient);
	}
	wire_ack_release(&back);
	wire_ack_release(&a);

	CHECK(wire_ack_compact(&empty, &err) == 0 && empty.records == 0);
	empty.renumber = 1;
	empty.device_seq = 5;
	CHECK(wire_ack_encode(&empty, &b, &err) == 0);
	CHECK(b.len < 16);
	CHECK(wire_ack_decode(b.data, b.len, &back, &err) == 0);
	CHECK(back.renumber && back.device_seq == 5 && back.seq == 3 &&
	      back.n == 0);
	wire_ack_release(&back);

	/* One record counted, two items: refused. */
	bad.has_records = 1;
	bad.records = 1;
	it1.has_status = it2.has_status = 1;
	it1.status = it2.status = GRIDBOOK__ACK__STATUS__DUPLICATE;
	bad.n_items = 2;
	bad.items = its;
	CHECK(wire_ack_decode(pb, gridbook__ack__pack(&bad, pb), &back, &err) ==
	      -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, "ack records"));
	gb_buf_release(&b);
}

/* 1 when needle[0..n) occurs in hay[0..m). */
static int contains(const char *hay, size_t m, const void *needle, size_t n)
{
	for (size_t i = 0; n <= m && i <= m - n; i++)
		if (!memcmp(hay + i, needle, n))
			return 1;
	return 0;
}

/* A page of stored versions carries each one's stored bytes as they are,
 * not unpacked and packed again: a version whose fields were stored in
 * another order than protobuf-c packs them (its first field last) is
 * found byte for byte in the page, and still decodes to the same
 * record. */
static void test_page_stored(void)
{
	struct gb_err err = {GB_OK, ""};
	struct wire_page pg, back;
	struct gb_buf body, plain, raw;
	struct sample s;
	size_t head;

	sample_init(&s);
	wire_page_init(&pg);
	pg.n = 3;
	pg.recs = xcalloc(pg.n, sizeof(*pg.recs));
	pg.raw = xcalloc(pg.n, sizeof(*pg.raw));
	pg.raw_len = xcalloc(pg.n, sizeof(*pg.raw_len));
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	for (size_t i = 0; i < pg.n; i++) {
		struct gb_record *r = sample_next(&s);

		gb_buf_reset(&raw);
		CHECK(wire_record_pack(r, &raw, &err) == 0);
		pg.raw[i] = xmalloc(raw.len);
		pg.raw_len[i] = raw.len;
		/* The first field (a tag and a one-byte length) moved to the
		 * end. */
		head = (size_t)2 + (unsigned char)raw.data[1];
		CHECK(raw.len > head && !(raw.data[1] & 0x80));
		memcpy(pg.raw[i], raw.data + head, raw.len - head);
		memcpy(pg.raw[i] + raw.len - head, raw.data, head);
		gb_record_free(r);
	}
	sample_init(&s);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	gb_buf_init(&plain, GB_BUF_NOLIMIT);
	CHECK(wire_page_encode(&pg, &body, &err) == 0);
	CHECK(wire_inflate(body.data, body.len, 1u << 24, &plain, &err) == 0);
	for (size_t i = 0; i < pg.n; i++)
		CHECK(
		    contains(plain.data, plain.len, pg.raw[i], pg.raw_len[i]));
	CHECK(wire_page_decode(body.data, body.len, &back, &err) == 0);
	CHECK(back.n == 3 && back.nrefused == 0);
	for (size_t i = 0; i < back.n && i < 3; i++) {
		struct gb_record *r = sample_next(&s);

		CHECK(same_record(r, back.recs[i]));
		gb_record_free(r);
	}
	wire_page_release(&back);
	gb_buf_release(&raw);
	gb_buf_release(&plain);
	gb_buf_release(&body);
	/* The raw bytes are the caller's (store_changes_release). */
	for (size_t i = 0; i < pg.n; i++)
		free(pg.raw[i]);
	free(pg.raw);
	free(pg.raw_len);
	pg.raw = NULL;
	pg.raw_len = NULL;
	wire_page_release(&pg);
}

static void test_page(void)
{
	struct gb_err err = {GB_OK, ""};
	struct wire_page pg, back;
	struct gb_buf body;
	struct sample s;

	sample_init(&s);
	wire_page_init(&pg);
	pg.n = 4;
	pg.recs = xcalloc(pg.n, sizeof(*pg.recs));
	for (size_t i = 0; i < pg.n; i++)
		pg.recs[i] = sample_next(&s);
	pg.ncommunities = 2;
	pg.communities = xcalloc(2, sizeof(*pg.communities));
	snprintf(pg.communities[0].code, GB_CODE_LEN, "S03-C06");
	snprintf(pg.communities[0].grid, GB_CODE_LEN, "S03-G2");
	snprintf(pg.communities[0].street, GB_CODE_LEN, "S03");
	pg.communities[0].name = xstrdup("团结社区");
	pg.communities[0].population = 3340;
	pg.communities[0].criminal_cases = 153;
	pg.communities[0].patrol_team = 7;
	snprintf(pg.communities[1].code, GB_CODE_LEN, "S03-C07");
	pg.communities[1].population = -1;
	pg.communities[1].criminal_cases = 0;
	pg.communities[1].patrol_team = -1;
	pg.nareas = 1;
	pg.areas = xcalloc(1, sizeof(*pg.areas));
	snprintf(pg.areas[0].code, GB_CODE_LEN, "PA-22");
	snprintf(pg.areas[0].grid, GB_CODE_LEN, "S03-G2");
	pg.areas[0].name = xstrdup("临江三警务区");
	pg.areas[0].room = xstrdup("团结社区警务室");
	pg.areas[0].ncommunities = 2;
	pg.areas[0].communities = xcalloc(2, sizeof(char *));
	pg.areas[0].communities[0] = xstrdup("S03-C06");
	pg.areas[0].communities[1] = xstrdup("S03-C07");
	pg.nstaff = 1;
	pg.staff = xcalloc(1, sizeof(*pg.staff));
	snprintf(pg.staff[0].code, GB_CODE_LEN, "J0080");
	snprintf(pg.staff[0].grid, GB_CODE_LEN, "S03-G2");
	snprintf(pg.staff[0].role, GB_CODE_LEN, "officer");
	snprintf(pg.staff[0].area, GB_CODE_LEN, "PA-22");
	pg.staff[0].name = xstrdup("郭磊");
	snprintf(pg.next_cursor, sizeof(pg.next_cursor), "1740960000000:812");
	pg.device_seq = 31;
	pg.more = 1;

	gb_buf_init(&body, GB_BUF_NOLIMIT);
	CHECK(wire_page_encode(&pg, &body, &err) == 0);
	CHECK(wire_page_decode(body.data, body.len, &back, &err) == 0);
	CHECK(back.n == 4 && back.nrefused == 0);
	for (size_t i = 0; i < back.n && i < 4; i++)
		CHECK(same_record(pg.recs[i], back.recs[i]));
	CHECK(back.ncommunities == 2 && back.nareas == 1 && back.nstaff == 1);
	if (back.ncommunities == 2 && back.nareas == 1 && back.nstaff == 1) {
		CHECK_STR(back.communities[0].name, "团结社区");
		CHECK_STR(back.communities[0].street, "S03");
		CHECK(back.communities[0].population == 3340);
		CHECK(back.communities[0].criminal_cases == 153);
		CHECK(back.communities[0].patrol_team == 7);
		CHECK(back.communities[1].name == NULL);
		CHECK(back.communities[1].population == -1);
		CHECK(back.communities[1].criminal_cases == 0);
		CHECK_STR(back.areas[0].room, "团结社区警务室");
		CHECK(back.areas[0].ncommunities == 2);
		CHECK_STR(back.areas[0].communities[1], "S03-C07");
		CHECK_STR(back.staff[0].name, "郭磊");
		CHECK_STR(back.staff[0].role, "officer");
		CHECK_STR(back.staff[0].area, "PA-22");
	}
	CHECK_STR(back.next_cursor, "1740960000000:812");
	CHECK(back.device_seq == 31);
	CHECK(back.more == 1);
	wire_page_release(&back);
	CHECK(back.n == 0 && back.recs == NULL);

	/* A bad row fails the page and leaks nothing (ASan checks). */
	free(pg.staff[0].name);
	pg.staff[0].name = xstrdup("郭\xc0磊");
	CHECK(wire_page_encode(&pg, &body, &err) == 0);
	CHECK(wire_page_decode(body.data, body.len, &back, &err) == -1);
	CHECK(err.code == GB_EPROTO && has_text(err.msg, "staff 1"));
	wire_page_release(&pg);
	gb_buf_release(&body);
}

/* ---- compression --------------------------------------------------- */

static double batch_ratio(int n, size_t *wire_len, size_t *raw_len)
{
	struct wire_batch_hdr h = {
	    .device = SAMPLE_DEVICE, .grid = SAMPLE_GRID, .seq = 1};
	struct gb_record **recs = xcalloc((size_t)n, sizeof(*recs));
	struct gb_err err = {GB_OK, ""};
	struct gb_buf body, raw;
	struct sample s;

	sample_init(&s);
	for (int i = 0; i < n; i++)
		recs[i] = sample_next(&s);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	if (wire_batch_encode(&h, recs, (size_t)n, &body, &err) ||
	    wire_inflate(body.data, body.len, WIRE_MAX_INFLATED, &raw, &err))
		fprintf(stderr, "  %s\n", err.msg);
	*wire_len = body.len;
	*raw_len = raw.len;
	gb_buf_release(&raw);
	gb_buf_release(&body);
	for (int i = 0; i < n; i++)
		gb_record_free(recs[i]);
	free(recs);
	return *raw_len ? (double)*wire_len / (double)*raw_len : 1.0;
}

static void test_compression(void)
{
	size_t w, r;
	double q;

	q = batch_ratio(20, &w, &r);
	printf("compression, 20 records: %zu of %zu bytes, ratio %.3f\n", w, r,
	       q);
	CHECK(q <= 0.5);
	q = batch_ratio(1000, &w, &r);
	printf("compression, 1000 records: %zu of %zu bytes, ratio %.3f\n", w,
	       r, q);
	CHECK(q <= 0.33);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_schema();
	test_schema_table();
	test_kinds_round_trip();
	test_values();
	test_refused_items();
	test_batch_round_trip();
	test_batch_header();
	test_garbage();
	test_zip_bomb();
	test_alloc_bomb();
	test_body_cap();
	test_plain_zlib();
	test_unknown_fields();
	test_ack();
	test_ack_compact();
	test_page();
	test_page_stored();
	test_compression();
	return check_done();
}

/*
 * Unit tests for the merge of a record's versions (common/merge.c): each
 * case of SPEC §4 on its own, then a property test in which three laptops
 * edit one record offline, each from what it has seen, and exchange
 * versions in random orders: whatever order the versions are merged in,
 * every holder of the same versions shows the same record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kinds.h"
#include "merge.h"
#include "record.h"

#include "banned.h"

#define ID "019a0000-0000-7000-8000-000000000001"
#define DEV_A "019a0000-0000-7000-8000-00000000000a"
#define DEV_B "019a0000-0000-7000-8000-00000000000b"
#define DEV_C "019a0000-0000-7000-8000-00000000000c"

static const struct gb_kind *ent;
static int f_name, f_address, f_employees, f_industry;

struct ver {
	struct gb_record *rec;
	uint64_t base[GB_MERGE_MAX_BASE];
	size_t nbase;
	int base_known;
	uint32_t resolves;
};

#define MAXV 64
static struct ver vs[MAXV];
static size_t nvs;

static void reset(void)
{
	for (size_t i = 0; i < nvs; i++)
		gb_record_free(vs[i].rec);
	nvs = 0;
}

/* A version by device dev with the given bases (0-terminated, or no
 * bases at all with base_known 0 when the first is (uint64_t)-1). */
static struct ver *add(uint64_t version, const char *dev, const uint64_t *base)
{
	if (nvs == MAXV)
		abort();
	struct ver *v = &vs[nvs++];

	memset(v, 0, sizeof(*v));
	v->rec = gb_record_new(ent);
	snprintf(v->rec->id, sizeof(v->rec->id), "%s", ID);
	snprintf(v->rec->device, sizeof(v->rec->device), "%s", dev);
	snprintf(v->rec->grid, sizeof(v->rec->grid), "%s", "S01-G1");
	snprintf(v->rec->staff, sizeof(v->rec->staff), "%s", "K0001");
	v->rec->version = version;
	v->rec->created_at = (int64_t)version;
	v->rec->updated_at = (int64_t)version;
	v->base_known = 1;
	if (base && base[0] == (uint64_t)-1) {
		v->base_known = 0;
		return v;
	}
	for (; base && *base; base++)
		v->base[v->nbase++] = *base;
	return v;
}

/* A copy of the values of the version with that version number. */
static void copy_from(struct ver *to, uint64_t version)
{
	for (size_t i = 0; i < nvs; i++)
		if (vs[i].rec->version == version) {
			for (int f = 0; f < ent->nfields; f++)
				gb_record_set(to->rec, f, vs[i].rec->val[f]);
			to->rec->voided = vs[i].rec->voided;
			gb_record_set_void_reason(to->rec,
						  vs[i].rec->void_reason);
			return;
		}
}

static int run(const size_t *pick, size_t n, struct gb_merge *m)
{
	struct gb_version *in = calloc(n, sizeof(*in));
	struct gb_err err;

	for (size_t i = 0; i < n; i++) {
		const struct ver *v = &vs[pick ? pick[i] : i];

		in[i].rec = v->rec;
		in[i].base = v->base;
		in[i].nbase = v->nbase;
		in[i].base_known = v->base_known;
		in[i].resolves = v->resolves;
	}
	int rc = gb_merge(in, n, m, &err);

	free(in);
	return rc;
}

static int merged(struct gb_merge *m)
{
	return run(NULL, nvs, m);
}

/* The version number of the version a conflict index points at. */
static uint64_t ver_of(size_t idx)
{
	return vs[idx].rec->version;
}

static const char *val(const struct gb_merge *m, int f)
{
	return m->rec->val[f] ? m->rec->val[f] : "";
}

static void creation(void)
{
	struct ver *c = add(100, DEV_A, NULL);

	gb_record_set(c->rec, f_name, "望川市文昌精密机械有限公司");
	gb_record_set(c->rec, f_address, "文昌路 12 号");
	gb_record_set(c->rec, f_employees, "48");
}

static void test_disjoint(void)
{
	const uint64_t b100[] = {100, 0};
	struct gb_merge m;

	creation();
	struct ver *a = add(200, DEV_A, b100);

	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	struct ver *b = add(210, DEV_B, b100);

	copy_from(b, 100);
	gb_record_set(b->rec, f_employees, "52");
	CHECK(merged(&m) == 0);
	CHECK_STR(val(&m, f_address), "文昌路 18 号");
	CHECK_STR(val(&m, f_employees), "52");
	CHECK_STR(val(&m, f_name), "望川市文昌精密机械有限公司");
	CHECK(m.nconf == 0);
	CHECK(m.nheads == 2);
	CHECK(m.nheads == 2 && ver_of(m.heads[0]) == 200 &&
	      ver_of(m.heads[1]) == 210);
	CHECK(m.rec->version == 210);
	CHECK(m.rec->created_at == 100);
	CHECK(!m.rec->voided);
	gb_merge_release(&m);
	reset();
}

static void test_same_field(void)
{
	const uint64_t b100[] = {100, 0};
	const uint64_t heads[] = {200, 210, 0};
	struct gb_merge m;

	creation();
	struct ver *a = add(200, DEV_A, b100);

	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	struct ver *b = add(210, DEV_B, b100);

	copy_from(b, 100);
	gb_record_set(b->rec, f_address, "东风路 3 号");
	CHECK(merged(&m) == 0);
	/* The newer version wins the field; both values kept. */
	CHECK_STR(val(&m, f_address), "东风路 3 号");
	CHECK(m.nconf == 1);
	CHECK(m.nconf == 1 && m.conf[0].field == f_address &&
	      ver_of(m.conf[0].kept) == 210 && ver_of(m.conf[0].lost) == 200);
	CHECK(m.nconf == 1 &&
	      !strcmp(vs[m.conf[0].lost].rec->val[f_address], "文昌路 18 号"));
	gb_merge_release(&m);

	/* A later edit of another field that saw both heads does not end
	 * the conflict: nobody chose. */
	struct ver *e = add(300, DEV_A, heads);

	copy_from(e, 210);
	gb_record_set(e->rec, f_industry, "制造业");
	CHECK(merged(&m) == 0);
	CHECK(m.nconf == 1);
	CHECK_STR(val(&m, f_industry), "制造业");
	gb_merge_release(&m);

	/* Keeping the value that lost ends it. */
	const uint64_t b300[] = {300, 0};
	struct ver *r = add(400, DEV_B, b300);

	copy_from(r, 300);
	gb_record_set(r->rec, f_address, "文昌路 18 号");
	r->resolves = 1u << f_address;
	CHECK(merged(&m) == 0);
	CHECK_STR(val(&m, f_address), "文昌路 18 号");
	CHECK(m.nconf == 0);
	CHECK_STR(val(&m, f_industry), "制造业");
	gb_merge_release(&m);
	reset();

	/* Keeping the value that already wins ends it too, but only
	 * because the version says it resolves the field. */
	creation();
	a = add(200, DEV_A, b100);
	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	b = add(210, DEV_B, b100);
	copy_from(b, 100);
	gb_record_set(b->rec, f_address, "东风路 3 号");
	r = add(300, DEV_A, heads);
	copy_from(r, 210);
	CHECK(merged(&m) == 0);
	CHECK(m.nconf == 1);
	gb_merge_release(&m);
	r->resolves = 1u << f_address;
	CHECK(merged(&m) == 0);
	CHECK(m.nconf == 0);
	CHECK_STR(val(&m, f_address), "东风路 3 号");
	gb_merge_release(&m);
	reset();

	/* Both set the same value: no conflict. */
	creation();
	a = add(200, DEV_A, b100);
	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	b = add(210, DEV_B, b100);
	copy_from(b, 100);
	gb_record_set(b->rec, f_address, "文昌路 18 号");
	CHECK(merged(&m) == 0);
	CHECK(m.nconf == 0);
	gb_merge_release(&m);
	reset();
}

static void voids(int void_first)
{
	const uint64_t b100[] = {100, 0};
	struct gb_merge m;

	creation();
	struct ver *v = add(void_first ? 200 : 210, DEV_A, b100);

	copy_from(v, 100);
	v->rec->voided = 1;
	gb_record_set_void_reason(v->rec, "重复录入");
	struct ver *e = add(void_first ? 210 : 200, DEV_B, b100);

	copy_from(e, 100);
	gb_record_set(e->rec, f_employees, "60");
	CHECK(merged(&m) == 0);
	/* The void stands whichever is newer; the edit is kept and the
	 * record flagged. */
	CHECK(m.rec->voided);
	CHECK(m.rec->void_reason && !strcmp(m.rec->void_reason, "重复录入"));
	CHECK_STR(val(&m, f_employees), "60");
	CHECK(m.nconf == 1);
	CHECK(m.nconf == 1 && m.conf[0].field == GB_MERGE_VOID &&
	      m.conf[0].kept == 1 && m.conf[0].lost == 2);
	gb_merge_release(&m);

	/* An edit that saw both does not un-void it, and leaves the
	 * conflict for someone to resolve. */
	const uint64_t heads[] = {200, 210, 0};
	struct ver *x = add(300, DEV_C, heads);

	copy_from(x, v->rec->version);
	gb_record_set(x->rec, f_employees, "60");
	gb_record_set(x->rec, f_industry, "制造业");
	CHECK(merged(&m) == 0);
	CHECK(m.rec->voided);
	CHECK(m.nconf == 1);
	gb_merge_release(&m);
	/* Resolving it, keeping the void, ends it. */
	x->resolves = 1u << GB_MERGE_VOID;
	CHECK(merged(&m) == 0);
	CHECK(m.rec->voided);
	CHECK(m.nconf == 0);
	CHECK_STR(val(&m, f_employees), "60");
	gb_merge_release(&m);

	/* Un-voiding on purpose, after seeing the void, does. */
	const uint64_t b300[] = {300, 0};
	struct ver *u = add(400, DEV_A, b300);

	copy_from(u, 300);
	u->rec->voided = 0;
	gb_record_set_void_reason(u->rec, NULL);
	CHECK(merged(&m) == 0);
	CHECK(!m.rec->voided);
	CHECK(m.rec->void_reason == NULL);
	CHECK(m.nconf == 0);
	gb_merge_release(&m);
	reset();
}

static void test_void_edit(void)
{
	voids(1);
	voids(0);

	/* A void concurrent with an un-void: the void stands. */
	const uint64_t b100[] = {100, 0};
	const uint64_t b200[] = {200, 0};
	struct gb_merge m;

	creation();
	struct ver *v = add(200, DEV_A, b100);

	copy_from(v, 100);
	v->rec->voided = 1;
	gb_record_set_void_reason(v->rec, "企业已注销");
	/* The un-void is the newer of the two. */
	struct ver *u = add(310, DEV_B, b200);

	copy_from(u, 200);
	u->rec->voided = 0;
	gb_record_set_void_reason(u->rec, NULL);
	struct ver *w = add(300, DEV_C, b200);

	copy_from(w, 200);
	w->rec->voided = 1;
	gb_record_set_void_reason(w->rec, "企业已迁出");
	CHECK(merged(&m) == 0);
	CHECK(m.rec->voided);
	CHECK(m.rec->void_reason && !strcmp(m.rec->void_reason, "企业已迁出"));
	CHECK(m.nconf == 1 && m.conf[0].field == GB_MERGE_VOID);
	gb_merge_release(&m);
	reset();
}

static void test_three_devices(void)
{
	const uint64_t b100[] = {100, 0};
	struct gb_merge m;

	creation();
	struct ver *a = add(200, DEV_A, b100);

	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	struct ver *b = add(205, DEV_B, b100);

	copy_from(b, 100);
	gb_record_set(b->rec, f_employees, "52");
	struct ver *c = add(205, DEV_C, b100);

	copy_from(c, 100);
	gb_record_set(c->rec, f_employees, "55");
	gb_record_set(c->rec, f_industry, "批发和零售业");
	CHECK(merged(&m) == 0);
	CHECK_STR(val(&m, f_address), "文昌路 18 号");
	/* Same version number: the device id breaks the tie. */
	CHECK_STR(val(&m, f_employees), "55");
	CHECK_STR(val(&m, f_industry), "批发和零售业");
	CHECK(m.nconf == 1 && m.conf[0].field == f_employees &&
	      m.conf[0].kept == 3 && m.conf[0].lost == 2);
	CHECK(m.nheads == 3);
	CHECK(!strcmp(m.rec->device, DEV_C));
	gb_merge_release(&m);
	reset();
}

static void test_unseen_base(void)
{
	const uint64_t b100[] = {100, 0};
	const uint64_t b150[] = {150, 0};
	struct gb_merge m;

	/* B edits from version 150, which was refused at HQ and never
	 * arrived: B is taken to have seen every lower version. */
	creation();
	struct ver *a = add(120, DEV_A, b100);

	copy_from(a, 100);
	gb_record_set(a->rec, f_industry, "制造业");
	struct ver *b = add(200, DEV_B, b150);

	copy_from(b, 100);
	gb_record_set(b->rec, f_address, "东风路 3 号");
	CHECK(merged(&m) == 0);
	CHECK_STR(val(&m, f_address), "东风路 3 号");
	/* B did not hold A's industry: taken as seen, B's empty value is
	 * a change that wins, as with an older client. */
	CHECK(m.rec->val[f_industry] == NULL);
	CHECK(m.nconf == 0);
	CHECK(m.nheads == 1);
	gb_merge_release(&m);
	reset();
}

static void test_old_clients(void)
{
	const uint64_t none[] = {(uint64_t)-1};
	struct gb_merge m;

	/* No bases at all: last writer wins, as before. */
	creation();
	vs[0].base_known = 0;
	struct ver *a = add(200, DEV_A, none);

	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	struct ver *b = add(210, DEV_B, none);

	copy_from(b, 100);
	gb_record_set(b->rec, f_employees, "52");
	CHECK(merged(&m) == 0);
	CHECK_STR(val(&m, f_address), "文昌路 12 号");
	CHECK_STR(val(&m, f_employees), "52");
	CHECK(m.nconf == 0);
	CHECK(m.nheads == 1);
	gb_merge_release(&m);
	reset();
}

static void test_bad_input(void)
{
	const uint64_t loop[] = {300, 0};
	struct gb_merge m;

	CHECK(run(NULL, 0, &m) == -1);
	creation();
	add(100, DEV_A, NULL);
	CHECK(merged(&m) == -1);
	reset();

	/* A base that is not lower cannot make a cycle. */
	creation();
	struct ver *a = add(200, DEV_A, loop);

	copy_from(a, 100);
	gb_record_set(a->rec, f_address, "文昌路 18 号");
	struct ver *b = add(300, DEV_B, (const uint64_t[]){200, 0});

	copy_from(b, 200);
	CHECK(merged(&m) == 0);
	CHECK_STR(val(&m, f_address), "文昌路 18 号");
	gb_merge_release(&m);
	reset();
}

/* ---- property: any order of the same versions, the same record ---- */

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct laptop {
	const char *dev;
	unsigned char has[64]; /* indexes into vs */
	uint64_t clock;
};

/* The merge over what laptop l holds, as text, into out. */
static void describe(const size_t *pick, size_t n, char *out, size_t cap)
{
	struct gb_merge m;
	size_t len = 0;

	out[0] = 0;
	if (run(pick, n, &m) != 0)
		return;
	for (int f = 0; f < ent->nfields; f++)
		len += (size_t)snprintf(out + len, cap - len, "%s|",
					m.rec->val[f] ? m.rec->val[f] : "");
	len += (size_t)snprintf(out + len, cap - len, "v%d:%s|%llu|",
				m.rec->voided,
				m.rec->void_reason ? m.rec->void_reason : "",
				(unsigned long long)m.rec->version);
	for (size_t i = 0; i < m.nconf && len < cap; i++)
		len += (size_t)snprintf(
		    out + len, cap - len, "c%d:%llu/%llu ", m.conf[i].field,
		    (unsigned long long)vs[pick[m.conf[i].kept]].rec->version,
		    (unsigned long long)vs[pick[m.conf[i].lost]].rec->version);
	gb_merge_release(&m);
}

static size_t held(const struct laptop *l, size_t *pick)
{
	size_t n = 0;

	for (size_t i = 0; i < nvs; i++)
		if (l->has[i])
			pick[n++] = i;
	return n;
}

static void shuffle(size_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd() % i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static void edit_on(struct laptop *l)
{
	size_t pick[64], n = held(l, pick);
	struct gb_merge m;

	if (run(pick, n, &m) != 0)
		return;
	uint64_t base[GB_MERGE_MAX_BASE];
	size_t nb = 0;

	for (size_t i = 0; i < m.nheads && nb < GB_MERGE_MAX_BASE; i++)
		base[nb++] = vs[pick[m.heads[i]]].rec->version;
	base[nb] = 0;
	uint64_t top = m.rec->version;

	l->clock = (l->clock > top ? l->clock : top) + 1 + rnd() % 3;
	struct gb_record *cur = gb_record_dup(m.rec);

	gb_merge_release(&m);
	struct ver *v = add(l->clock, l->dev, NULL);

	memcpy(v->base, base, sizeof(base));
	v->nbase = nb;
	for (int f = 0; f < ent->nfields; f++)
		gb_record_set(v->rec, f, cur->val[f]);
	v->rec->voided = cur->voided;
	gb_record_set_void_reason(v->rec, cur->void_reason);
	gb_record_free(cur);
	static const char *const addr[] = {"文昌路 12 号", "文昌路 18 号",
					   "东风路 3 号", "凤凰街 7 号"};
	static const char *const emp[] = {"48", "52", "55", "60"};
	switch (rnd() % 5) {
	case 0:
		gb_record_set(v->rec, f_address, addr[rnd() % 4]);
		break;
	case 1:
		gb_record_set(v->rec, f_employees, emp[rnd() % 4]);
		break;
	case 2:
		gb_record_set(v->rec, f_address, addr[rnd() % 4]);
		gb_record_set(v->rec, f_employees, emp[rnd() % 4]);
		break;
	case 3:
		v->rec->voided = !v->rec->voided;
		gb_record_set_void_reason(v->rec,
					  v->rec->voided ? "重复录入" : NULL);
		break;
	default:
		gb_record_set(v->rec, f_address, addr[rnd() % 4]);
		v->resolves = 1u << f_address;
		break;
	}
	l->has[nvs - 1] = 1;
}

static void test_property(void)
{
	int diverged = 0, order_dep = 0, rounds = 0;

	for (int trial = 0; trial < 300; trial++) {
		struct laptop lap[3] = {
		    {DEV_A, {0}, 0}, {DEV_B, {0}, 0}, {DEV_C, {0}, 0}};

		creation();
		for (int i = 0; i < 3; i++)
			lap[i].has[0] = 1;
		int steps = 3 + (int)(rnd() % 12);

		for (int s = 0; s < steps && nvs < 60; s++) {
			struct laptop *l = &lap[rnd() % 3];

			if (rnd() % 3) {
				edit_on(l);
				continue;
			}
			/* l and another exchange everything (through HQ). */
			struct laptop *o = &lap[rnd() % 3];

			for (size_t i = 0; i < nvs; i++)
				l->has[i] = o->has[i] = l->has[i] | o->has[i];
		}
		/* Everyone syncs in the end. */
		for (int i = 0; i < 3; i++)
			for (size_t k = 0; k < nvs; k++)
				lap[i].has[k] = 1;
		char want[2048], got[2048];
		size_t pick[64], n = held(&lap[0], pick);

		describe(pick, n, want, sizeof(want));
		for (int i = 1; i < 3; i++) {
			size_t p2[64], n2 = held(&lap[i], p2);

			shuffle(p2, n2);
			/* describe names conflicts by version, not index. */
			describe(p2, n2, got, sizeof(got));
			diverged += strcmp(want, got) != 0;
		}
		for (int k = 0; k < 5; k++) {
			size_t p3[64];

			memcpy(p3, pick, n * sizeof(size_t));
			shuffle(p3, n);
			describe(p3, n, got, sizeof(got));
			order_dep += strcmp(want, got) != 0;
			rounds++;
		}
		reset();
	}
	CHECK(diverged == 0);
	CHECK(order_dep == 0);
	CHECK(rounds == 1500);
}

/* Without concurrent edits there is never a conflict, and the record is
 * the last version's. */
static void test_sequential(void)
{
	for (int trial = 0; trial < 100; trial++) {
		struct laptop l = {DEV_A, {0}, 0};

		creation();
		l.has[0] = 1;
		for (int s = 0; s < 20; s++)
			edit_on(&l);
		size_t pick[64], n = held(&l, pick);
		struct gb_merge m;

		CHECK(run(pick, n, &m) == 0);
		CHECK(m.nconf == 0);
		CHECK(m.nheads == 1);
		const struct gb_record *last = vs[nvs - 1].rec;
		int same = 1;

		for (int f = 0; f < ent->nfields; f++)
			same &=
			    (m.rec->val[f] == NULL) == (last->val[f] == NULL) &&
			    (!last->val[f] ||
			     !strcmp(m.rec->val[f], last->val[f]));
		CHECK(same && m.rec->voided == last->voided);
		gb_merge_release(&m);
		reset();
	}
}

int main(void)
{
	ent = gb_kind_find("enterprise");
	f_name = gb_kind_field(ent, "name");
	f_address = gb_kind_field(ent, "address");
	f_employees = gb_kind_field(ent, "employees");
	f_industry = gb_kind_field(ent, "industry");
	CHECK(ent && f_name >= 0 && f_address >= 0 && f_employees >= 0 &&
	      f_industry >= 0);
	test_disjoint();
	test_same_field();
	test_void_edit();
	test_three_devices();
	test_unseen_base();
	test_old_clients();
	test_bad_input();
	test_property();
	test_sequential();
	return check_done();
}

/*
 * The report facts, kept by ingest (see rollup.h and
 * schema/server/002_reports.sql).
 *
 * Why not triggers, and why not a GROUP BY at report time: a GROUP BY over
 * ten million stored records takes tens of seconds, and a trigger on
 * record_current cost almost half the insert rate.  So the writer, once
 * per applied batch, goes through the records the batch made current and
 * rewrites their facts, with statements the store prepares once: one small
 * row per record of a kind a report reads (none for handovers and
 * employment monitoring), plus, for the kinds whose reports count per day,
 * night or week, a counter per unit and day that the record's old facts
 * are taken off and its new ones added to.  A report then reads the rows
 * of its period only, so its time depends on the period and the number of
 * units, not on how much is stored.
 *
 * Facts hold only what does not depend on other records: an enterprise's
 * status and a check's enterprise are joined when the report runs, so a
 * closed enterprise or a new follow-up never needs other facts rewritten.
 * Nor do they hold anything of the reference data: a patrol counts under
 * its leader, whose role the report reads from the staff table, and
 * populations, areas and officers are read there too, so that a re-seed
 * that changes them changes every report at once (SPEC §3: facts always
 * agree with the current reference data) with no fact to bring up to
 * date.
 *
 * The facts live in the store (store.h, "report facts, written by
 * ingest"): this file decides which rows and counters a version changes,
 * from the record's facts before and what it now is, and the store writes
 * them in its own SQL.  So it works on any store that has those
 * operations.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gbtime.h"
#include "hmap.h"
#include "i18n.h"
#include "id.h"
#include "rollup.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

#define HOUR_MS INT64_C(3600000)
#define ROLLUP_VERSION "2"
#define MAX_GUARDS 32
/* Room for the strings of one fact row read back (store.h). */
#define FACT_BUF 512

/* A counter change not yet written: delta for (key, a, b) of counter c
 * of grid. */
struct pending {
	enum store_counter c;
	int64_t key;
	char *grid, *a, *b;
	int64_t delta;
};

/* What one call needs at hand.  Counter changes are summed in memory,
 * per counter, and written once each by ctx_flush: a batch of patrols or
 * daily reports touches the same few counters over and over. */
struct ctx {
	struct store *st;
	struct gb_err *err;
	struct pending *pend; /* npend of them, in the order first added */
	size_t npend, cap;
	struct gb_hmap index; /* counter key (counter_key) -> n: its pend */
	struct gb_buf key;    /* scratch for counter_key */
	/* The record at hand is new (rollup_item.fresh): it has no fact
	 * row, and fact_get and fact_del need not ask the store. */
	int fresh;
};

/* The store's operations on the facts, with the context's store and
 * error. */
static int fact_put(struct ctx *c, const struct store_fact *f)
{
	struct store_fact g = *f;

	g.fresh = c->fresh;
	return c->st->ops->fact_put(c->st, &g, c->err);
}

/* Deletes the fact row of kind of r, if there is one. */
static int fact_del(struct ctx *c, enum store_fact_kind kind,
		    const struct gb_record *r)
{
	if (c->fresh)
		return 0;
	return c->st->ops->fact_del(c->st, kind, r->id, r->grid, c->err);
}

/* The fact row of kind that r has now into out (strings in buf): 1 when
 * there is one, 0 when none, -1 on error. */
static int fact_get(struct ctx *c, enum store_fact_kind kind,
		    const struct gb_record *r, struct store_fact *out,
		    char buf[FACT_BUF])
{
	if (c->fresh)
		return 0;
	return c->st->ops->fact_get(c->st, kind, r->id, r->grid, out, buf,
				    FACT_BUF, c->err);
}

/* A fact row of kind for r, to be filled in. */
static struct store_fact fact_of(enum store_fact_kind kind,
				 const struct gb_record *r)
{
	struct store_fact f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.id = r->id;
	f.grid = r->grid;
	f.resolved = -1;
	return f;
}

/* 1 when s is a record id (as the store keeps ids). */
static int is_id(const char *s)
{
	unsigned char b[16];

	return gb_uuid_bytes(s, b) == 0;
}

/* An integer field; 0 when empty or not a number. */
static int64_t num(const struct gb_record *r, const char *field)
{
	int64_t v = 0;

	if (gb_record_int(r, field, &v) < 0)
		return 0;
	return v;
}

/* A TIME field (ms text), or -1 when empty or malformed. */
static int64_t instant(const struct gb_record *r, const char *field)
{
	const char *s = gb_record_get(r, field);
	char *end;
	long long v;

	if (!s)
		return -1;
	v = strtoll(s, &end, 10);
	return *end || end == s ? -1 : (int64_t)v;
}

/* A DATE field as a day number; 0 with *ok 0 when empty or malformed. */
static int32_t date_of(const struct gb_record *r, const char *field, int *ok)
{
	const char *s = gb_record_get(r, field);
	int32_t d = 0;

	*ok = s && gb_date_parse(s, &d, NULL) == 0;
	return *ok ? d : 0;
}

/* ---- kinds with one fact row ---- */

/* Adds delta to the count of active enterprises of grid. */
static int active_add(struct ctx *c, const char *grid, int delta)
{
	return c->st->ops->counter_add(c->st, STORE_C_ACTIVE, grid, 0, NULL,
				       NULL, delta, c->err);
}

/* An enterprise's row, and the count of active ones per grid that
 * check-coverage divides by (kept here so that the report does not count
 * every enterprise ever entered). */
static int enterprise_replace(struct ctx *c, const struct gb_record *r)
{
	const char *status = gb_record_get(r, "status");
	int active = status && !strcmp(status, "active");
	struct store_fact old, f;
	char buf[FACT_BUF];
	int had = fact_get(c, STORE_F_ENTERPRISE, r, &old, buf);

	if (had < 0)
		return -1;
	if (had && old.active && active_add(c, old.grid, -1) < 0)
		return -1;
	if (fact_del(c, STORE_F_ENTERPRISE, r) < 0)
		return -1;
	if (r->voided)
		return 0;
	f = fact_of(STORE_F_ENTERPRISE, r);
	f.community = gb_record_get(r, "community");
	f.name = gb_record_get(r, "name");
	f.active = active;
	if (fact_put(c, &f) < 0)
		return -1;
	return active ? active_add(c, r->grid, 1) : 0;
}

/* The put functions below write the one fact row of r and return 1, or
 * return 0 when r counts in no report (then its old row goes), or -1. */
static int check_put(struct ctx *c, const struct gb_record *r)
{
	struct store_fact f = fact_of(STORE_F_CHECK, r);
	int ok, has_deadline;
	int32_t day = date_of(r, "check_date", &ok);
	int32_t deadline = date_of(r, "deadline", &has_deadline);

	/* Validation makes sure of these; a record without them counts in
	 * no report. */
	f.ref = gb_record_get(r, "enterprise");
	f.outcome = gb_record_get(r, "outcome");
	if (!ok || !is_id(f.ref) || !f.outcome)
		return 0;
	f.day = day;
	f.version = r->version;
	f.contracts_signed = num(r, "contracts_signed");
	f.employees_total = num(r, "employees_total");
	f.has_deadline = has_deadline;
	f.deadline = deadline;
	return fact_put(c, &f) < 0 ? -1 : 1;
}

static int rect_put(struct ctx *c, const struct gb_record *r)
{
	struct store_fact f = fact_of(STORE_F_RECT, r);
	const char *result = gb_record_get(r, "result");
	int ok;
	int32_t day = date_of(r, "date", &ok);

	f.ref = gb_record_get(r, "check");
	if (!ok || !is_id(f.ref))
		return 0;
	f.day = day;
	f.rectified = result && !strcmp(result, "rectified");
	return fact_put(c, &f) < 0 ? -1 : 1;
}

static int dispute_put(struct ctx *c, const struct gb_record *r)
{
	struct store_fact f = fact_of(STORE_F_DISPUTE, r);
	int ok;
	int32_t day = date_of(r, "received_date", &ok);

	f.level = gb_record_get(r, "level");
	f.status = gb_record_get(r, "status");
	if (!ok || !f.level || !f.status)
		return 0;
	f.day = day;
	f.ref = gb_record_get(r, "enterprise");
	if (!is_id(f.ref))
		f.ref = NULL;
	return fact_put(c, &f) < 0 ? -1 : 1;
}

static int request_put(struct ctx *c, const struct gb_record *r)
{
	struct store_fact f = fact_of(STORE_F_REQUEST, r);
	const char *priority = gb_record_get(r, "priority");
	int64_t received = instant(r, "received_at");
	int64_t deadline = instant(r, "deadline");
	int64_t resolved = instant(r, "resolved_at");

	if (deadline < 0 && received >= 0)
		deadline = gb_request_deadline(received, priority);
	f.area = gb_record_get(r, "area");
	f.category = gb_record_get(r, "category");
	if (received < 0 || deadline < 0 || !f.area || !f.category)
		return 0;
	f.day = gb_local_day(received);
	f.received = received;
	f.deadline = deadline;
	f.resolved = resolved;
	f.priority = priority;
	f.officer = gb_record_get(r, "officer");
	return fact_put(c, &f) < 0 ? -1 : 1;
}

/* ---- counters ---- */

/* The key of counter (key, a, b) of grid in the index, built in c->key. */
static void counter_key(struct ctx *c, enum store_counter counter, int64_t key,
			const char *grid, const char *a, const char *b)
{
	gb_buf_reset(&c->key);
	gb_buf_add(&c->key, &counter, sizeof(counter), NULL);
	gb_buf_add(&c->key, &key, sizeof(key), NULL);
	/* each part with its NUL: "ab","c" is not "a","bc" */
	gb_buf_add(&c->key, grid, strlen(grid) + 1, NULL);
	gb_buf_add(&c->key, a, strlen(a) + 1, NULL);
	gb_buf_add(&c->key, b, strlen(b) + 1, NULL);
}

/* Adds delta to counter (key, a, b) of grid, in memory until ctx_flush;
 * b is NULL for a counter of one code. */
static int counter_add(struct ctx *c, enum store_counter counter,
		       const char *grid, int64_t key, const char *a,
		       const char *b, int64_t delta)
{
	struct gb_hmap_ent *e;
	int added;

	if (!a)
		a = "";
	if (!b)
		b = "";
	counter_key(c, counter, key, grid, a, b);
	e = gb_hmap_put(&c->index, c->key.data, c->key.len, &added);
	if (!added) {
		c->pend[e->n].delta += delta;
		return 0;
	}
	if (c->npend == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->pend = xrealloc(c->pend, c->cap * sizeof(*c->pend));
	}
	c->pend[c->npend].c = counter;
	c->pend[c->npend].key = key;
	c->pend[c->npend].grid = xstrdup(grid);
	c->pend[c->npend].a = xstrdup(a);
	c->pend[c->npend].b = xstrdup(b);
	c->pend[c->npend].delta = delta;
	e->n = (int64_t)c->npend++;
	return 0;
}

/* Forgets the counter changes not written. */
static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->npend; i++) {
		free(c->pend[i].grid);
		free(c->pend[i].a);
		free(c->pend[i].b);
	}
	free(c->pend);
	gb_hmap_release(&c->index);
	gb_buf_release(&c->key);
	c->pend = NULL;
	c->npend = c->cap = 0;
}

/* Writes the summed counter changes, once per counter (none for a net
 * change of zero), and releases them. */
static int ctx_flush(struct ctx *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->npend && rc == 0; i++) {
		const struct pending *p = &c->pend[i];

		if (p->delta != 0)
			rc = c->st->ops->counter_add(
			    c->st, p->c, p->grid, p->key, p->a,
			    p->c == STORE_C_NIGHT ? p->b : NULL, p->delta,
			    c->err);
	}
	ctx_release(c);
	return rc;
}

/* Adds sign to the counter of every night [D 22:00, D+1 06:00) that the
 * patrol [start, end) of area and leader overlaps. */
static int nights_add(struct ctx *c, const char *grid, const char *area,
		      const char *leader, int64_t start, int64_t end, int sign)
{
	int32_t first, last;
	int64_t n0;

	if (end <= start)
		return 0;
	/* The local days run GB_MS_PER_DAY apart (gbtime.h: a fixed
	 * offset), so the zone is read once, not twice a night. */
	first = gb_local_day(start) - 1;
	last = gb_local_day(end - 1);
	n0 = gb_day_start(first) + 22 * HOUR_MS;
	for (int32_t d = first; d <= last; d++, n0 += GB_MS_PER_DAY) {
		if (start < n0 + 8 * HOUR_MS && end > n0 &&
		    counter_add(c, STORE_C_NIGHT, grid, d, area, leader, sign) <
			0)
			return -1;
	}
	return 0;
}

/* Adds sign times the overlap of the reception [start, end) with each
 * ISO week it touches to the officer's counter of that week. */
static int weeks_add(struct ctx *c, const char *grid, const char *officer,
		     int64_t start, int64_t end, int sign)
{
	int32_t first, last;
	int64_t w0;

	if (end <= start)
		return 0;
	first = gb_local_day(start);
	first -= gb_weekday(first) - 1;
	last = gb_local_day(end - 1);
	w0 = gb_day_start(first);
	for (int32_t w = first; w <= last; w += 7, w0 += 7 * GB_MS_PER_DAY) {
		int64_t w1 = w0 + 7 * GB_MS_PER_DAY;
		int64_t lo = start > w0 ? start : w0, hi = end < w1 ? end : w1;

		if (hi > lo && counter_add(c, STORE_C_RECEPTION, grid, w,
					   officer, NULL, sign * (hi - lo)) < 0)
			return -1;
	}
	return 0;
}

/* The number of distinct codes in a LIST value ("B0001,B0002"). */
static int distinct_codes(const char *list)
{
	const char *seen[MAX_GUARDS];
	size_t len[MAX_GUARDS];
	int n = 0;

	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t l = comma ? (size_t)(comma - list) : strlen(list);
		int dup = l == 0;

		for (int i = 0; i < n && !dup; i++)
			dup = len[i] == l && !memcmp(seen[i], list, l);
		if (!dup && n < MAX_GUARDS) {
			seen[n] = list;
			len[n++] = l;
		}
		list = comma ? comma + 1 : NULL;
	}
	return n;
}

/*
 * The facts of a patrol: only a patrol that has at least two distinct
 * guards is kept, and it counts for every night it overlaps, under its
 * area and its leader.  Whether the leader is an officer is asked of the
 * staff table when a report runs, so that a re-seed that changes a role
 * needs no fact rewritten.
 */
static int patrol_replace(struct ctx *c, const struct gb_record *r)
{
	struct store_fact old, f = fact_of(STORE_F_PATROL, r);
	char buf[FACT_BUF];
	int had = fact_get(c, STORE_F_PATROL, r, &old, buf);

	if (had < 0)
		return -1;
	if (had && (nights_add(c, old.grid, old.area, old.leader, old.start,
			       old.end, -1) < 0 ||
		    fact_del(c, STORE_F_PATROL, r) < 0))
		return -1;
	f.area = gb_record_get(r, "area");
	f.leader = gb_record_get(r, "leader");
	f.start = instant(r, "start");
	f.end = instant(r, "end");
	if (r->voided || !f.area || !f.leader || f.start < 0 ||
	    f.end <= f.start || distinct_codes(gb_record_get(r, "guards")) < 2)
		return 0;
	if (fact_put(c, &f) < 0)
		return -1;
	return nights_add(c, r->grid, f.area, f.leader, f.start, f.end, 1);
}

static int daily_replace(struct ctx *c, const struct gb_record *r)
{
	struct store_fact old, f = fact_of(STORE_F_DAILY, r);
	char buf[FACT_BUF];
	int32_t day;
	int ok;
	int had = fact_get(c, STORE_F_DAILY, r, &old, buf);

	if (had < 0)
		return -1;
	if (had && (counter_add(c, STORE_C_DAILY, old.grid, old.day,
				old.officer, NULL, -1) < 0 ||
		    fact_del(c, STORE_F_DAILY, r) < 0))
		return -1;
	f.officer = gb_record_get(r, "officer");
	day = date_of(r, "date", &ok);
	if (r->voided || !f.officer || !ok)
		return 0;
	f.day = day;
	if (fact_put(c, &f) < 0)
		return -1;
	return counter_add(c, STORE_C_DAILY, r->grid, day, f.officer, NULL, 1);
}

static int reception_replace(struct ctx *c, const struct gb_record *r)
{
	struct store_fact old, f = fact_of(STORE_F_RECEPTION, r);
	char buf[FACT_BUF];
	int had = fact_get(c, STORE_F_RECEPTION, r, &old, buf);

	if (had < 0)
		return -1;
	if (had &&
	    (weeks_add(c, old.grid, old.officer, old.start, old.end, -1) < 0 ||
	     fact_del(c, STORE_F_RECEPTION, r) < 0))
		return -1;
	f.officer = gb_record_get(r, "officer");
	f.start = instant(r, "start");
	f.end = instant(r, "end");
	if (r->voided || !f.officer || f.start < 0 || f.end <= f.start)
		return 0;
	if (fact_put(c, &f) < 0)
		return -1;
	return weeks_add(c, r->grid, f.officer, f.start, f.end, 1);
}

/*
 * The conflict fact of r, which the merge left with n field conflicts
 * open: a row while n > 0, placed by its grid, its area field and its
 * officer (or staff) field, and dated by its date field, for the
 * conflicts column of every report (reports.c).
 */
static int conflict_replace(struct ctx *c, const struct gb_record *r, int n)
{
	const struct gb_kind *k = r->kind;
	struct store_fact f = fact_of(STORE_F_CONFLICT, r);
	int i = k->date_field ? gb_kind_field(k, k->date_field) : -1;

	if (n <= 0)
		return fact_del(c, STORE_F_CONFLICT, r);
	f.person = gb_record_get(r, "officer");
	if (!f.person && k->staff_field)
		f.person = gb_record_get(r, k->staff_field);
	f.kind_name = k->name;
	f.area = gb_record_get(r, "area");
	if (i >= 0 && r->val[i] && k->fields[i].type == GB_T_DATE) {
		f.day = date_of(r, k->date_field, &f.has_day);
	} else if (i >= 0 && r->val[i]) {
		int64_t ms = instant(r, k->date_field);

		f.has_day = ms >= 0;
		if (ms >= 0)
			f.day = gb_local_day(ms);
	}
	f.conflicts = n;
	return fact_put(c, &f);
}

/* ---- one record ---- */

/*
 * Replaces the one fact row of r: put writes it, replacing the old one
 * (returning 1), or returns 0 when r counts in no report, and only then
 * is the old row deleted; a voided record's row is deleted.
 */
static int simple_replace(struct ctx *c, const struct gb_record *r,
			  enum store_fact_kind kind,
			  int (*put)(struct ctx *, const struct gb_record *))
{
	int rc = r->voided ? 0 : put(c, r);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return fact_del(c, kind, r);
}

/* The facts of r, by the report hook of its kind's entry (kinds.c). */
static int record_replace(struct ctx *c, const struct gb_record *r)
{
	switch (r->kind->hook) {
	case GB_HOOK_ENTERPRISE:
		return enterprise_replace(c, r);
	case GB_HOOK_CHECK:
		return simple_replace(c, r, STORE_F_CHECK, check_put);
	case GB_HOOK_RECT:
		return simple_replace(c, r, STORE_F_RECT, rect_put);
	case GB_HOOK_DISPUTE:
		return simple_replace(c, r, STORE_F_DISPUTE, dispute_put);
	case GB_HOOK_REQUEST:
		return simple_replace(c, r, STORE_F_REQUEST, request_put);
	case GB_HOOK_PATROL:
		return patrol_replace(c, r);
	case GB_HOOK_DAILY:
		return daily_replace(c, r);
	case GB_HOOK_RECEPTION:
		return reception_replace(c, r);
	case GB_HOOK_NONE:
		break;
	}
	return 0; /* handover, employment: no report reads them */
}

static void ctx_init(struct ctx *c, struct store *st, struct gb_err *err)
{
	memset(c, 0, sizeof(*c));
	gb_buf_init(&c->key, GB_BUF_NOLIMIT);
	c->st = st;
	c->err = err;
}

int rollup_record(struct store *st, const struct gb_record *r,
		  struct gb_err *err)
{
	struct ctx c;

	ctx_init(&c, st, err);
	if (record_replace(&c, r) < 0) {
		ctx_release(&c);
		return -1;
	}
	return ctx_flush(&c);
}

/* Counts a batch for its device and the local day it arrived. */
static int sync_add(struct ctx *c, const char *device, const char *grid,
		    const char *role, int64_t batches, int64_t records,
		    int64_t at)
{
	return c->st->ops->sync_add(c->st, device, grid, role, gb_local_day(at),
				    batches, records, at, c->err);
}

int rollup_batch(struct store *st, const struct store_device *dev,
		 const struct wire_batch *b, const struct rollup_item *items,
		 int64_t now_ms, struct gb_err *err)
{
	struct ctx c;

	ctx_init(&c, st, err);
	for (size_t i = 0; i < b->n; i++) {
		const struct gb_record *r = items[i].cur;

		c.fresh = items[i].fresh;
		if (r && (record_replace(&c, r) < 0 ||
			  (items[i].remerged &&
			   conflict_replace(&c, r, items[i].conflicts) < 0))) {
			ctx_release(&c);
			return gb_error_prefix(err, _("record %s"), r->id);
		}
	}
	if (ctx_flush(&c) < 0)
		return -1;
	return sync_add(&c, dev->id, b->hdr.grid, dev->role, 1, (int64_t)b->n,
			now_ms);
}

/* ---- building everything again ---- */

/* The facts of one current record, as the store hands it over. */
static int rebuild_record(void *arg, const struct gb_record *r, int conflicts,
			  struct gb_err *err)
{
	struct ctx *c = arg;

	(void)err; /* c->err is the same */
	if ((!r->voided && record_replace(c, r) < 0) ||
	    (conflicts > 0 && conflict_replace(c, r, conflicts) < 0))
		return -1;
	return 0;
}

/* One batch applied, counted again for its device and day. */
static int rebuild_batch(void *arg, const char *device, const char *grid,
			 const char *role, int64_t records, int64_t received_at,
			 struct gb_err *err)
{
	(void)err;
	return sync_add(arg, device, grid, role, 1, records, received_at);
}

int rollup_rebuild(struct store *st, struct gb_err *err)
{
	const struct store_ops *o = st->ops;
	struct ctx c;

	ctx_init(&c, st, err);
	if (o->begin(st, err) < 0)
		return -1;
	if (o->facts_clear(st, err) < 0 ||
	    o->fact_records(st, rebuild_record, &c, err) < 0 ||
	    ctx_flush(&c) < 0 ||
	    o->fact_batches(st, rebuild_batch, &c, err) < 0 ||
	    o->facts_built(st, ROLLUP_VERSION, err) < 0)
		goto fail;
	return o->commit(st, err);
fail:
	ctx_release(&c);
	o->rollback(st);
	return -1;
}

int rollup_ensure(struct store *st, struct gb_err *err)
{
	char version[16];
	int found = st->ops->facts_version(st, version, sizeof(version), err);

	if (found < 0)
		return -1;
	return found && !strcmp(version, ROLLUP_VERSION)
		   ? 0
		   : rollup_rebuild(st, err);
}

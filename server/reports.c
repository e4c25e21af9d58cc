/*
 * The reports for headquarters (SPEC §3; see reports.h).
 *
 * Each report reads the facts of its period (ingest keeps them, by day,
 * night or week) and the reference data through the store's fact queries
 * (store.h, "report facts, read by reports"), adds them up per unit of
 * the level asked for and for the whole district, and fills a neutral
 * result: a table with one row per unit, a total row, drill-down lists and
 * the completeness of the data.  Nothing here scans the stored records, so
 * a report costs about the same over ten million records as over one
 * million; what it costs grows with the length of the period and the
 * number of units.
 *
 * A report is computed in one snapshot of the facts (facts_begin), so its
 * numbers agree with each other even while the writer applies batches.
 * The store selects and orders the facts; what they add up to is decided
 * here, so that every store gives the same numbers, and no SQL is
 * written here.
 *
 * What the figures mean follows SPEC §3.  Outcomes (on time, resolved,
 * the median) use everything known when the report runs; states (overdue,
 * open past deadline, pending) say where things stood at as-of.  Nights,
 * officer-days and ISO weeks that have not ended by now are left out of
 * both sides of a share, and counted as left out.  A grid from which no
 * device of the report's role has sent a batch since the period began is
 * unknown: its units show null, and it is left out of the totals above
 * it.  Every report says which grids are complete (every device synced
 * after as-of with nothing older unsent) and marks each row.
 *
 * The writers at the end (table, JSON, CSV) turn every value into text
 * with one function, so the three forms show the same digits.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "gbtime.h"
#include "i18n.h"
#include "json.h"
#include "id.h"
#include "reports.h"
#include "table.h"
#include "xalloc.h"

#include "banned.h"

#define HOUR_MS INT64_C(3600000)
/* The longest period a report takes, in days (about ten years). */
#define MAX_DAYS 3660
#define RECEPTION_TARGET_MS (5 * HOUR_MS)

enum level { L_DISTRICT, L_STREET, L_GRID, L_AREA, L_COMMUNITY, L_COUNT };

static const char *const level_names[L_COUNT] = {
    "district", "street", "grid", "area", "community",
};

#define LV(l) (1u << (l))
#define LV_LABOUR (LV(L_DISTRICT) | LV(L_STREET) | LV(L_GRID))
#define LV_POLICING (LV_LABOUR | LV(L_AREA))

/* ---- reference data ---- */

/* A street, grid or area: parent is the index of the street of a grid,
 * the grid of an area. */
struct ref_unit {
	char code[GB_CODE_LEN]; /* first: the key of find() */
	char *name;
	int parent;
};

struct ref_comm {
	char code[GB_CODE_LEN];
	char *name;
	int grid, area; /* indexes; area -1 when none */
	int64_t population, cases, team;
};

struct ref_staff {
	char code[GB_CODE_LEN];
	char *name;
	char role[16];
	int grid, area; /* indexes; area -1 when none */
};

struct world {
	char dcode[GB_CODE_LEN];
	char *dname;
	struct ref_unit *streets, *grids, *areas;
	size_t nstreets, ngrids, nareas;
	struct ref_comm *comms;
	size_t ncomms;
	struct ref_staff *staff;
	size_t nstaff;
};

static int code_cmp(const void *key, const void *elem)
{
	return strcmp(key, (const char *)elem);
}

/* The index of code in an array sorted by code whose elements begin with
 * their code, or -1. */
static int find(const void *base, size_t n, size_t size, const char *code)
{
	const char *p;

	if (!base || !code)
		return -1;
	p = bsearch(code, base, n, size, code_cmp);
	return p ? (int)((size_t)(p - (const char *)base) / size) : -1;
}

#define FIND(arr, n, code) find((arr), (n), sizeof(*(arr)), (code))

static void world_free(struct world *w)
{
	for (size_t i = 0; i < w->nstreets; i++)
		free(w->streets[i].name);
	for (size_t i = 0; i < w->ngrids; i++)
		free(w->grids[i].name);
	for (size_t i = 0; i < w->nareas; i++)
		free(w->areas[i].name);
	for (size_t i = 0; i < w->ncomms; i++)
		free(w->comms[i].name);
	for (size_t i = 0; i < w->nstaff; i++)
		free(w->staff[i].name);
	free(w->streets);
	free(w->grids);
	free(w->areas);
	free(w->comms);
	free(w->staff);
	free(w->dname);
	memset(w, 0, sizeof(*w));
}

static void *grow(void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 32;
	return xrealloc(p, *cap * size);
}

/* What loads one kind of unit: the array, its count and capacity, and
 * the units (sorted) its parent codes (column s1, when parents is not
 * NULL) are looked up in; the name is the last text. */
struct unit_load {
	struct ref_unit **out;
	size_t *n, cap;
	const struct ref_unit *parents;
	size_t nparents;
};

static int unit_row(void *arg, const struct store_fact_row *r,
		    struct gb_err *err)
{
	struct unit_load *l = arg;
	struct ref_unit *u;

	(void)err;
	*l->out = grow(*l->out, *l->n, &l->cap, sizeof(**l->out));
	u = &(*l->out)[(*l->n)++];
	snprintf(u->code, sizeof(u->code), "%s", r->s[0]);
	u->parent = l->parents ? FIND(l->parents, l->nparents, r->s[1]) : -1;
	u->name = xstrdup(r->s[l->parents ? 2 : 1]);
	return 0;
}

/* Loads streets, grids or areas (fact f), sorted by code.  parents
 * (sorted) resolve the parent codes; NULL for streets. */
static int load_units(struct store *st, struct store_facts *f,
		      enum store_query fact, struct ref_unit **out, size_t *n,
		      const struct ref_unit *parents, size_t nparents,
		      struct gb_err *err)
{
	struct unit_load l = {out, n, 0, parents, nparents};
	struct store_fact_query q = {fact, 0, 0, NULL};

	return st->ops->facts_read(st, f, &q, unit_row, &l, err);
}

struct world_load {
	struct world *w;
	size_t cap;
};

static int district_row(void *arg, const struct store_fact_row *r,
			struct gb_err *err)
{
	struct world *w = ((struct world_load *)arg)->w;

	(void)err;
	snprintf(w->dcode, sizeof(w->dcode), "%s", r->s[0]);
	free(w->dname);
	w->dname = xstrdup(r->s[1]);
	return 0;
}

static int comm_row(void *arg, const struct store_fact_row *r,
		    struct gb_err *err)
{
	struct world_load *l = arg;
	struct world *w = l->w;
	struct ref_comm *c;

	(void)err;
	w->comms = grow(w->comms, w->ncomms, &l->cap, sizeof(*c));
	c = &w->comms[w->ncomms++];
	snprintf(c->code, sizeof(c->code), "%s", r->s[0]);
	c->grid = FIND(w->grids, w->ngrids, r->s[1]);
	c->name = xstrdup(r->s[2]);
	c->area = FIND(w->areas, w->nareas, r->s[3]);
	c->population = r->i[0];
	c->cases = r->i[1];
	c->team = r->i[2];
	return 0;
}

static int staff_row(void *arg, const struct store_fact_row *r,
		     struct gb_err *err)
{
	struct world_load *l = arg;
	struct world *w = l->w;
	struct ref_staff *s;

	(void)err;
	w->staff = grow(w->staff, w->nstaff, &l->cap, sizeof(*s));
	s = &w->staff[w->nstaff++];
	snprintf(s->code, sizeof(s->code), "%s", r->s[0]);
	s->name = xstrdup(r->s[1]);
	snprintf(s->role, sizeof(s->role), "%s", r->s[2]);
	s->grid = FIND(w->grids, w->ngrids, r->s[3]);
	s->area = FIND(w->areas, w->nareas, r->s[4]);
	return 0;
}

static int world_load(struct store *st, struct store_facts *f, struct world *w,
		      struct gb_err *err)
{
	struct world_load l = {w, 0};
	struct store_fact_query q = {STORE_Q_DISTRICT, 0, 0, NULL};

	memset(w, 0, sizeof(*w));
	snprintf(w->dcode, sizeof(w->dcode), "district");
	w->dname = xstrdup("");
	if (st->ops->facts_read(st, f, &q, district_row, &l, err) < 0 ||
	    load_units(st, f, STORE_Q_STREET, &w->streets, &w->nstreets, NULL,
		       0, err) < 0 ||
	    load_units(st, f, STORE_Q_GRID, &w->grids, &w->ngrids, w->streets,
		       w->nstreets, err) < 0 ||
	    load_units(st, f, STORE_Q_AREA, &w->areas, &w->nareas, w->grids,
		       w->ngrids, err) < 0)
		goto fail;
	q.fact = STORE_Q_COMMUNITY;
	if (st->ops->facts_read(st, f, &q, comm_row, &l, err) < 0)
		goto fail;
	l.cap = 0;
	q.fact = STORE_Q_STAFF;
	if (st->ops->facts_read(st, f, &q, staff_row, &l, err) < 0)
		goto fail;
	return 0;
fail:
	world_free(w);
	return -1;
}

/* 1 for the staff who count as officers: officers and chiefs of an area. */
static int is_officer(const struct ref_staff *s)
{
	return s->area >= 0 &&
	       (!strcmp(s->role, "officer") || !strcmp(s->role, "chief"));
}

/* ---- values and tables ---- */

static void v_int(struct report_val *v, int64_t i)
{
	v->type = RV_INT;
	v->i = i;
}

static void v_num(struct report_val *v, double d, int dec)
{
	v->type = RV_NUM;
	v->d = d;
	v->dec = dec;
}

static void v_text(struct report_val *v, const char *s)
{
	v->type = RV_TEXT;
	v->s = xstrdup(s ? s : "");
}

/* num / den as a percentage, or null for an empty denominator. */
static void v_pct(struct report_val *v, int64_t num, int64_t den)
{
	if (den > 0)
		v_num(v, 100.0 * (double)num / (double)den, 2);
}

static void v_date(struct report_val *v, int32_t day)
{
	char s[16];

	gb_date_format(day, s);
	v_text(v, s);
}

static void v_time(struct report_val *v, int64_t ms)
{
	char s[32];

	gb_time_format(ms, s);
	v_text(v, s);
}

static void v_hours(struct report_val *v, double ms)
{
	v_num(v, ms / (double)HOUR_MS, 2);
}

const char *report_val_text(const struct report_val *v, char *buf, size_t n)
{
	double d, scale;

	buf[0] = '\0';
	switch (v->type) {
	case RV_NULL:
		break;
	case RV_INT:
		snprintf(buf, n, "%lld", (long long)v->i);
		break;
	case RV_NUM:
		/* Rounded here once, so that a value that rounds to zero is
		 * never written "-0.00". */
		scale = pow(10.0, v->dec);
		d = round(v->d * scale) / scale;
		if (d == 0.0)
			d = 0.0;
		snprintf(buf, n, "%.*f", v->dec, d);
		if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
			memmove(buf, buf + 1, strlen(buf));
		break;
	case RV_TEXT:
		snprintf(buf, n, "%s", v->s ? v->s : "");
		break;
	case RV_BOOL:
		snprintf(buf, n, "%s", v->i ? "true" : "false");
		break;
	}
	return buf;
}

static void table_init(struct report_table *t, const char *key,
		       const char *title, const struct report_col *cols,
		       int ncols)
{
	memset(t, 0, sizeof(*t));
	t->key = key;
	t->title = title;
	t->cols = cols;
	t->ncols = ncols;
}

/* Appends a row of null values and returns it. */
static struct report_val *table_add(struct report_table *t)
{
	struct report_val *row;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols *
						  sizeof(*t->cells));
	}
	row = &t->cells[t->nrows++ * (size_t)t->ncols];
	memset(row, 0, (size_t)t->ncols * sizeof(*row));
	return row;
}

static void vals_free(struct report_val *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].s);
}

static void table_release(struct report_table *t)
{
	vals_free(t->cells, t->nrows * (size_t)t->ncols);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	table_release(&r->main);
	vals_free(r->total, (size_t)r->main.ncols);
	free(r->total);
	for (int i = 0; i < r->ndetails; i++)
		table_release(&r->details[i]);
	for (size_t i = 0; i < r->nnot_synced; i++)
		free(r->not_synced[i]);
	free(r->not_synced);
	for (size_t i = 0; i < r->nincomplete; i++)
		free(r->incomplete[i].name);
	free(r->incomplete);
	free(r->cols);
	free(r);
}

/* ---- one run ---- */

struct run;

struct report_def {
	const char *name;
	const char *title;   /* N_() */
	const char *summary; /* N_(), one line for --help */
	unsigned levels;
	/* Whose devices enter its records, or NULL for a report of
	 * reference data and syncs, whose units are never null. */
	const char *role;
	const struct report_col *cols;
	int ncols;
	int nf; /* counters per unit */
	int (*gather)(struct run *x);
	/* Fills the row values after the unit's code and name from the
	 * counters a of unit u (u == nunits: the total). */
	void (*fill)(struct run *x, int u, const int64_t *a,
		     struct report_val *row);
	/* Frees run.extra; NULL when the report keeps none. */
	void (*release)(struct run *x);
	int has_prev; /* compares with the previous period */
	/* What it leaves out while it has not ended: "nights", "days",
	 * "weeks", or NULL. */
	const char *left_key;
};

struct run {
	struct store *st;
	struct store_facts *facts; /* the snapshot read */
	struct world w;
	const struct report_def *def;
	struct report *r;
	enum level level;
	int nunits;
	int32_t from, to, ndays;
	int64_t as_of;
	int32_t asof_day; /* the local day as_of falls in */
	/* The last day that had begun by as_of: the day before asof_day
	 * when as_of is its midnight (the end of a past period), else
	 * asof_day itself (now, today). */
	int32_t asof_last;
	int64_t now;
	/* Of the period, the leading nights, days and whole ISO weeks that
	 * had ended by now: only those count (SPEC §3). */
	int32_t nights_lived, days_lived, weeks_lived, week0;
	unsigned char *covered;	 /* per grid: sent since the period began */
	unsigned char *complete; /* per grid */
	int64_t *acc;		 /* (nunits + 1) * def->nf counters */
	int64_t *conf;		 /* nunits + 1: records in conflict */
	void *extra;		 /* what a report keeps besides counters */
	struct gb_err *err;
};

/* Reads the rows of fact over from..to (key: a role, a kind, or NULL)
 * into cb, as struct store_ops.facts_read does. */
static int read_facts(struct run *x, enum store_query fact, int32_t from,
		      int32_t to, const char *key,
		      int (*cb)(void *arg, const struct store_fact_row *r,
				struct gb_err *err),
		      void *arg)
{
	struct store_fact_query q = {fact, from, to, key};

	return x->st->ops->facts_read(x->st, x->facts, &q, cb, arg, x->err);
}

static int units_at(const struct world *w, enum level l)
{
	switch (l) {
	case L_DISTRICT:
		return 1;
	case L_STREET:
		return (int)w->nstreets;
	case L_GRID:
		return (int)w->ngrids;
	case L_AREA:
		return (int)w->nareas;
	case L_COMMUNITY:
	case L_COUNT:
		break;
	}
	return (int)w->ncomms;
}

static const char *unit_code(const struct run *x, int u)
{
	const struct world *w = &x->w;

	switch (x->level) {
	case L_DISTRICT:
		return w->dcode;
	case L_STREET:
		return w->streets[u].code;
	case L_GRID:
		return w->grids[u].code;
	case L_AREA:
		return w->areas[u].code;
	case L_COMMUNITY:
	case L_COUNT:
		break;
	}
	return w->comms[u].code;
}

static const char *unit_name(const struct run *x, int u)
{
	const struct world *w = &x->w;

	switch (x->level) {
	case L_DISTRICT:
		return w->dname;
	case L_STREET:
		return w->streets[u].name;
	case L_GRID:
		return w->grids[u].name;
	case L_AREA:
		return w->areas[u].name;
	case L_COMMUNITY:
	case L_COUNT:
		break;
	}
	return w->comms[u].name;
}

/* The unit at the run's level of grid gi, area ai or community ci (each
 * an index, or -1); -1 when it has none at this level. */
static int unit_of_grid(const struct run *x, int gi)
{
	if (gi < 0)
		return -1;
	switch (x->level) {
	case L_DISTRICT:
		return 0;
	case L_STREET:
		return x->w.grids[gi].parent;
	case L_GRID:
		return gi;
	default:
		return -1;
	}
}

static int unit_of_area(const struct run *x, int ai)
{
	if (ai < 0)
		return -1;
	if (x->level == L_AREA)
		return ai;
	return unit_of_grid(x, x->w.areas[ai].parent);
}

static int unit_of_comm(const struct run *x, int ci)
{
	if (ci < 0)
		return -1;
	if (x->level == L_COMMUNITY)
		return ci;
	if (x->level == L_AREA)
		return x->w.comms[ci].area;
	return unit_of_grid(x, x->w.comms[ci].grid);
}

static int64_t *counters(struct run *x, int u)
{
	return &x->acc[(size_t)u * (size_t)x->def->nf];
}

/* Adds v to counter f of unit u (when u >= 0) and of the total. */
static void add(struct run *x, int u, int f, int64_t v)
{
	if (u >= 0)
		counters(x, u)[f] += v;
	counters(x, x->nunits)[f] += v;
}

static int grid_index(const struct run *x, const char *code)
{
	return FIND(x->w.grids, x->w.ngrids, code);
}

/* 1 when what grid gi's devices sent counts in this report: always for a
 * report of reference data, else when the grid is covered (a unit none of
 * whose grids is covered shows null, and the grids not covered are left
 * out of the totals above them, so that unknown never counts as zero). */
static int counts(const struct run *x, int gi)
{
	if (!x->def->role)
		return 1;
	return gi >= 0 && x->covered[gi];
}

static int area_index(const struct run *x, const char *code)
{
	return FIND(x->w.areas, x->w.nareas, code);
}

static int staff_index(const struct run *x, const char *code)
{
	return FIND(x->w.staff, x->w.nstaff, code);
}

/* What a day bitmap is loaded with (day_bitmap). */
struct bitmap_load {
	struct run *x;
	unsigned char *ok;
	int (*key_index)(const struct run *, const char *);
	int (*row_ok)(const struct run *, const struct store_fact_row *);
};

static int bitmap_row(void *arg, const struct store_fact_row *r,
		      struct gb_err *err)
{
	struct bitmap_load *l = arg;
	struct run *x = l->x;
	size_t n = (size_t)x->ndays;
	int ki = l->key_index(x, r->s[0]);
	int64_t d = r->i[0] - x->from;

	(void)err;
	if (ki >= 0 && d >= 0 && (size_t)d < n &&
	    (!l->row_ok || l->row_ok(x, r)))
		l->ok[(size_t)ki * n + (size_t)d] = 1;
	return 0;
}

/*
 * Loads a day bitmap: one row of ndays bytes for each of nrows keys, a byte
 * set where the fact (whose rows name a key code in s0 and a day in i0)
 * names that key on a day of the report's period.  Codes that key_index()
 * does not know, days outside the range and rows that row_ok (when not
 * NULL) refuses are passed over.  The bitmap is returned in *out, for the
 * caller to free, even on failure.
 */
static int day_bitmap(struct run *x, enum store_query fact, size_t nrows,
		      int (*key_index)(const struct run *, const char *),
		      int (*row_ok)(const struct run *,
				    const struct store_fact_row *),
		      unsigned char **out)
{
	struct bitmap_load l = {x, NULL, key_index, row_ok};

	l.ok = xcalloc(nrows * (size_t)x->ndays + 1, 1);
	*out = l.ok;
	return read_facts(x, fact, x->from, x->to, NULL, bitmap_row, &l);
}

static struct report_table *detail(struct run *x, const char *key,
				   const char *title,
				   const struct report_col *cols, int ncols)
{
	struct report *r = x->r;
	struct report_table *t = &r->details[r->ndetails++];

	table_init(t, key, title, cols, ncols);
	return t;
}

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Writes days d0..d0+n-1 whose flag is 0 in miss as date ranges
 * ("2026-02-03..2026-02-05, 2026-02-10") into v. */
static void v_ranges(struct report_val *v, int32_t d0, const unsigned char *ok,
		     int n)
{
	struct gb_buf b;
	char s[16];

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	for (int i = 0; i < n; i++) {
		int j = i;

		if (ok[i])
			continue;
		while (j + 1 < n && !ok[j + 1])
			j++;
		if (b.len)
			gb_buf_adds(&b, ", ", NULL);
		gb_date_format(d0 + i, s);
		gb_buf_adds(&b, s, NULL);
		if (j > i) {
			gb_date_format(d0 + j, s);
			gb_buf_addf(&b, NULL, "..%s", s);
		}
		i = j;
	}
	v_text(v, gb_buf_str(&b));
	gb_buf_release(&b);
}

/* ---- contract-rate ---- */

enum { CR_ENT, CR_TOTAL, CR_SIGNED, CR_PENT, CR_PTOTAL, CR_PSIGNED, CR_NF };

static const struct report_col cr_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"enterprises", N_("enterprises checked")},
    {"employees", N_("employees")},
    {"signed", N_("contracts signed")},
    {"rate_pct", N_("rate %")},
    {"prev_rate_pct", N_("previous rate %")},
    {"delta_pp", N_("change (points)")},
    {"complete", N_("complete")},
};

/* What cr_period adds up: the counters from off, and the enterprise of
 * the row before. */
struct cr_load {
	struct run *x;
	int off;
	int have;
	char last[GB_ID_LEN];
};

static int cr_row(void *arg, const struct store_fact_row *r, struct gb_err *err)
{
	struct cr_load *l = arg;
	struct run *x = l->x;
	const char *ent = r->s[1];
	int u, gi;

	(void)err;
	if (!*ent)
		return 0;
	if (l->have && !strcmp(l->last, ent))
		return 0; /* an earlier check of the same enterprise */
	snprintf(l->last, sizeof(l->last), "%s", ent);
	l->have = 1;
	gi = grid_index(x, r->s[0]);
	if (!counts(x, gi))
		return 0;
	u = unit_of_grid(x, gi);
	add(x, u, l->off + CR_ENT, 1);
	add(x, u, l->off + CR_TOTAL, r->i[1]);
	add(x, u, l->off + CR_SIGNED, r->i[0]);
	return 0;
}

/* The latest check (by date, then version) of each active enterprise
 * dated in from..to, added to counters off.. of its enterprise's grid.
 * The checks come by enterprise, the latest first. */
static int cr_period(struct run *x, int32_t from, int32_t to, int off)
{
	struct cr_load l = {x, off, 0, ""};

	return read_facts(x, STORE_Q_CHECKS, from, to, NULL, cr_row, &l);
}

static int cr_gather(struct run *x)
{
	if (cr_period(x, x->from, x->to, 0) < 0)
		return -1;
	return cr_period(x, x->r->prev_from, x->r->prev_to, CR_PENT);
}

static void cr_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)x;
	(void)u;
	v_int(&row[0], a[CR_ENT]);
	v_int(&row[1], a[CR_TOTAL]);
	v_int(&row[2], a[CR_SIGNED]);
	v_pct(&row[3], a[CR_SIGNED], a[CR_TOTAL]);
	v_pct(&row[4], a[CR_PSIGNED], a[CR_PTOTAL]);
	if (a[CR_TOTAL] > 0 && a[CR_PTOTAL] > 0)
		v_num(&row[5], row[3].d - row[4].d, 2);
}

/* ---- check-coverage ---- */

enum { CC_ACTIVE, CC_CHECKED, CC_NF };

static const struct report_col cc_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"active", N_("active enterprises")},
    {"checked", N_("checked")},
    {"unchecked", N_("not checked")},
    {"coverage_pct", N_("coverage %")},
    {"complete", N_("complete")},
};

/* Where grid_count adds the (grid, count) rows of a fact: counter f. */
struct count_load {
	struct run *x;
	int f;
};

static int grid_count(void *arg, const struct store_fact_row *r,
		      struct gb_err *err)
{
	struct count_load *l = arg;
	int gi = grid_index(l->x, r->s[0]);

	(void)err;
	if (counts(l->x, gi))
		add(l->x, unit_of_grid(l->x, gi), l->f, r->i[0]);
	return 0;
}

static int cc_gather(struct run *x)
{
	struct count_load active = {x, CC_ACTIVE}, checked = {x, CC_CHECKED};

	if (read_facts(x, STORE_Q_ACTIVE, 0, 0, NULL, grid_count, &active) < 0)
		return -1;
	return read_facts(x, STORE_Q_CHECKED, x->from, x->to, NULL, grid_count,
			  &checked);
}

static void cc_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)x;
	(void)u;
	v_int(&row[0], a[CC_ACTIVE]);
	v_int(&row[1], a[CC_CHECKED]);
	v_int(&row[2], a[CC_ACTIVE] - a[CC_CHECKED]);
	v_pct(&row[3], a[CC_CHECKED], a[CC_ACTIVE]);
}

/* ---- rectification ---- */

enum {
	RE_NOTICES,
	RE_ORDERS,
	RE_RECTIFIED,
	RE_ONTIME,
	RE_LATE,
	RE_OVERDUE,
	RE_PENDING,
	RE_NF
};

/* orders = on_time + late + overdue + pending: each order counts in one
 * of them (see re_gather). */
static const struct report_col re_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"notices", N_("notices")},
    {"orders", N_("orders")},
    {"issued", N_("issued")},
    {"rectified", N_("orders rectified")},
    {"on_time", N_("rectified on time")},
    {"late", N_("rectified late")},
    {"overdue", N_("overdue")},
    {"pending", N_("pending")},
    {"complete", N_("complete")},
};

static const struct report_col re_overdue_cols[] = {
    {"grid", N_("grid")},
    {"enterprise", N_("enterprise")},
    {"enterprise_id", N_("enterprise id")},
    {"check_date", N_("check date")},
    {"deadline", N_("deadline")},
    {"days_overdue", N_("days overdue")},
};

/*
 * Orders, with F the date of an order's earliest rectified follow-up
 * (whenever it was entered), D its deadline and A the as-of date.  On time
 * (an outcome): F <= D.  Otherwise, late: F a day begun by the as-of
 * instant (so after D; a follow-up dated today counts in a period that
 * ends today); overdue (a state): D < A and not rectified by then;
 * pending (a state): not yet due at A and not rectified by then.  An order
 * rectified on time after A counts as on time, not as pending, so that every
 * order counts once.  Checks of a voided enterprise do not count.
 */
struct detail_load {
	struct run *x;
	struct report_table *t;
};

static int re_row(void *arg, const struct store_fact_row *r, struct gb_err *err)
{
	struct detail_load *l = arg;
	struct run *x = l->x;
	int gi = grid_index(x, r->s[0]);
	int u = unit_of_grid(x, gi);
	int has_deadline = !(r->null & 1u << 1);
	int has_rect = !(r->null & 1u << 2);
	int32_t deadline = (int32_t)r->i[1];
	int32_t first = (int32_t)r->i[2];
	struct report_val *row;

	(void)err;
	if (!counts(x, gi))
		return 0;
	if (strcmp(r->s[1], "rectify_order") != 0) {
		add(x, u, RE_NOTICES, 1);
		return 0;
	}
	add(x, u, RE_ORDERS, 1);
	if (has_rect)
		add(x, u, RE_RECTIFIED, 1);
	if (has_rect && (!has_deadline || first <= deadline)) {
		add(x, u, RE_ONTIME, 1);
		return 0;
	}
	if (has_rect && first <= x->asof_last) {
		add(x, u, RE_LATE, 1);
		return 0;
	}
	if (!has_deadline || deadline >= x->asof_day) {
		add(x, u, RE_PENDING, 1);
		return 0;
	}
	add(x, u, RE_OVERDUE, 1);
	row = table_add(l->t);
	v_text(&row[0], r->s[0]);
	v_text(&row[1], r->s[2]);
	v_text(&row[2], r->s[3]);
	v_date(&row[3], (int32_t)r->i[0]);
	v_date(&row[4], deadline);
	v_int(&row[5], x->asof_day - deadline);
	return 0;
}

static int re_gather(struct run *x)
{
	struct detail_load l = {x, NULL};

	l.t = detail(x, "overdue", N_("overdue rectification orders"),
		     re_overdue_cols, NCOLS(re_overdue_cols));
	return read_facts(x, STORE_Q_ORDERS, x->from, x->to, NULL, re_row, &l);
}

static void re_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)x;
	(void)u;
	v_int(&row[0], a[RE_NOTICES]);
	v_int(&row[1], a[RE_ORDERS]);
	v_int(&row[2], a[RE_NOTICES] + a[RE_ORDERS]);
	v_int(&row[3], a[RE_RECTIFIED]);
	v_int(&row[4], a[RE_ONTIME]);
	v_int(&row[5], a[RE_LATE]);
	v_int(&row[6], a[RE_OVERDUE]);
	v_int(&row[7], a[RE_PENDING]);
}

/* ---- disputes ---- */

enum {
	DI_RECEIVED,
	DI_LV_COMMUNITY,
	DI_LV_STREET,
	DI_LV_DISTRICT,
	DI_OPEN,
	DI_MEDIATED,
	DI_ESCALATED,
	DI_CLOSED,
	DI_LOW,
	DI_NF
};

static const struct report_col di_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"received", N_("received")},
    {"community", N_("at community")},
    {"street", N_("at street")},
    {"district", N_("at district")},
    {"open", N_("open")},
    {"mediated", N_("mediated")},
    {"escalated", N_("escalated")},
    {"closed", N_("closed")},
    {"not_open", N_("no longer open")},
    {"closed_low", N_("settled low")},
    {"closed_low_pct", N_("settled low %")},
    {"complete", N_("complete")},
};

static int di_row(void *arg, const struct store_fact_row *r, struct gb_err *err)
{
	static const char *const levels[] = {"community", "street", "district"};
	static const char *const statuses[] = {"open", "mediated", "escalated",
					       "closed"};
	struct run *x = arg;
	int gi = grid_index(x, r->s[0]);
	int u = unit_of_grid(x, gi);
	const char *level = r->s[1], *status = r->s[2];
	int64_t n = r->i[0];

	(void)err;
	if (!counts(x, gi))
		return 0;
	add(x, u, DI_RECEIVED, n);
	for (int i = 0; i < 3; i++)
		if (!strcmp(level, levels[i]))
			add(x, u, DI_LV_COMMUNITY + i, n);
	for (int i = 0; i < 4; i++)
		if (!strcmp(status, statuses[i]))
			add(x, u, DI_OPEN + i, n);
	if ((!strcmp(status, "mediated") || !strcmp(status, "closed")) &&
	    (!strcmp(level, "community") || !strcmp(level, "street")))
		add(x, u, DI_LOW, n);
	return 0;
}

static int di_gather(struct run *x)
{
	return read_facts(x, STORE_Q_DISPUTES, x->from, x->to, NULL, di_row, x);
}

static void di_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	int64_t not_open = a[DI_RECEIVED] - a[DI_OPEN];

	(void)x;
	(void)u;
	for (int i = 0; i < 8; i++)
		v_int(&row[i], a[DI_RECEIVED + i]);
	v_int(&row[8], not_open);
	v_int(&row[9], a[DI_LOW]);
	v_pct(&row[10], a[DI_LOW], not_open);
}

/* ---- staffing ---- */

enum { SF_AREAS, SF_RESIDENTS, SF_OFFICERS, SF_GUARDS, SF_MEETING, SF_NF };

#define SF_MAX_PER_OFFICER 3000

static const struct report_col sf_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"areas", N_("police areas")},
    {"residents", N_("residents")},
    {"officers", N_("officers")},
    {"guards", N_("guards")},
    {"per_officer", N_("residents per officer")},
    {"meeting", N_("areas meeting target")},
    {"meeting_pct", N_("meeting %")},
    {"complete", N_("complete")},
};

static const struct report_col sf_miss_cols[] = {
    {"area", N_("area")},
    {"name", N_("name")},
    {"grid", N_("grid")},
    {"residents", N_("residents")},
    {"officers", N_("officers")},
    {"guards", N_("guards")},
    {"per_officer", N_("residents per officer")},
    {"why", N_("why")},
};

static int sf_gather(struct run *x)
{
	const struct world *w = &x->w;
	struct report_table *t =
	    detail(x, "not_meeting", N_("police areas below the target"),
		   sf_miss_cols, NCOLS(sf_miss_cols));
	int64_t *res = xcalloc(w->nareas + 1, sizeof(*res));
	int64_t *off = xcalloc(w->nareas + 1, sizeof(*off));
	int64_t *grd = xcalloc(w->nareas + 1, sizeof(*grd));

	for (size_t i = 0; i < w->ncomms; i++)
		if (w->comms[i].area >= 0)
			res[w->comms[i].area] += w->comms[i].population;
	for (size_t i = 0; i < w->nstaff; i++) {
		if (w->staff[i].area < 0)
			continue;
		if (is_officer(&w->staff[i]))
			off[w->staff[i].area]++;
		else if (!strcmp(w->staff[i].role, "guard"))
			grd[w->staff[i].area]++;
	}
	for (size_t a = 0; a < w->nareas; a++) {
		int u = unit_of_area(x, (int)a);
		int ok_ratio =
		    off[a] > 0 && res[a] <= SF_MAX_PER_OFFICER * off[a];
		int ok_off = off[a] >= 3 && off[a] <= 4;
		int ok_grd = grd[a] >= 2 && grd[a] <= 3;
		struct report_val *row;
		struct gb_buf why;

		add(x, u, SF_AREAS, 1);
		add(x, u, SF_RESIDENTS, res[a]);
		add(x, u, SF_OFFICERS, off[a]);
		add(x, u, SF_GUARDS, grd[a]);
		if (ok_ratio && ok_off && ok_grd) {
			add(x, u, SF_MEETING, 1);
			continue;
		}
		gb_buf_init(&why, GB_BUF_NOLIMIT);
		if (!ok_ratio)
			gb_buf_addf(&why, NULL,
				    _("more than %d residents per officer"),
				    SF_MAX_PER_OFFICER);
		if (!ok_off)
			gb_buf_addf(&why, NULL, _("%sofficers: %lld, not 3-4"),
				    why.len ? "; " : "", (long long)off[a]);
		if (!ok_grd)
			gb_buf_addf(&why, NULL, _("%sguards: %lld, not 2-3"),
				    why.len ? "; " : "", (long long)grd[a]);
		row = table_add(t);
		v_text(&row[0], w->areas[a].code);
		v_text(&row[1], w->areas[a].name);
		v_text(&row[2], w->areas[a].parent >= 0
				    ? w->grids[w->areas[a].parent].code
				    : "");
		v_int(&row[3], res[a]);
		v_int(&row[4], off[a]);
		v_int(&row[5], grd[a]);
		if (off[a] > 0)
			v_num(&row[6], (double)res[a] / (double)off[a], 1);
		v_text(&row[7], gb_buf_str(&why));
		gb_buf_release(&why);
	}
	free(res);
	free(off);
	free(grd);
	return 0;
}

static void sf_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)x;
	(void)u;
	v_int(&row[0], a[SF_AREAS]);
	v_int(&row[1], a[SF_RESIDENTS]);
	v_int(&row[2], a[SF_OFFICERS]);
	v_int(&row[3], a[SF_GUARDS]);
	if (a[SF_OFFICERS] > 0)
		v_num(&row[4], (double)a[SF_RESIDENTS] / (double)a[SF_OFFICERS],
		      1);
	v_int(&row[5], a[SF_MEETING]);
	v_pct(&row[6], a[SF_MEETING], a[SF_AREAS]);
}

/*
 * Counts the days set in the first n of row f of a day bitmap (the days
 * that have ended) and, when some are not, adds a row to t that names the
 * key (its code, name and where it belongs) with the days missed and their
 * ranges.  Returns the days set.
 */
static int64_t day_gaps(struct run *x, struct report_table *t,
			const unsigned char *f, int n, const char *code,
			const char *name, const char *place)
{
	struct report_val *row;
	int64_t good = 0;

	for (int d = 0; d < n; d++)
		good += f[d];
	if (good == n)
		return good;
	row = table_add(t);
	v_text(&row[0], code);
	v_text(&row[1], name);
	v_text(&row[2], place);
	v_int(&row[3], n - good);
	v_ranges(&row[4], x->from, f, n);
	return good;
}

/* ---- night-patrol ---- */

enum { NP_AREAS, NP_NIGHTS, NP_OK, NP_NF };

static const struct report_col np_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"areas", N_("police areas")},
    {"nights", N_("area-nights")},
    {"complying", N_("complying")},
    {"missed", N_("missed")},
    {"share_pct", N_("complying %")},
    {"complete", N_("complete")},
};

static const struct report_col np_miss_cols[] = {
    {"area", N_("area")},     {"name", N_("name")},
    {"grid", N_("grid")},     {"missed", N_("nights missed")},
    {"nights", N_("nights")},
};

/* A night's fact counts when its leader (s1) is, by the staff table as
 * it is now, an officer or a chief. */
static int np_led_by_officer(const struct run *x,
			     const struct store_fact_row *r)
{
	int si = staff_index(x, r->s[1]);

	return si >= 0 && (!strcmp(x->w.staff[si].role, "officer") ||
			   !strcmp(x->w.staff[si].role, "chief"));
}

static int np_gather(struct run *x)
{
	const struct world *w = &x->w;
	struct report_table *t =
	    detail(x, "missed", N_("nights without a complying patrol"),
		   np_miss_cols, NCOLS(np_miss_cols));
	size_t n = (size_t)x->ndays;
	unsigned char *ok;
	int rc = -1;

	if (day_bitmap(x, STORE_Q_NIGHTS, w->nareas, area_index,
		       np_led_by_officer, &ok) < 0)
		goto out;
	for (size_t a = 0; a < w->nareas; a++) {
		const struct ref_unit *ar = &w->areas[a];
		int u = unit_of_area(x, (int)a);
		int64_t good;

		if (!counts(x, ar->parent))
			continue;
		good = day_gaps(
		    x, t, &ok[a * n], x->nights_lived, ar->code, ar->name,
		    ar->parent >= 0 ? w->grids[ar->parent].code : "");
		add(x, u, NP_AREAS, 1);
		add(x, u, NP_NIGHTS, x->nights_lived);
		add(x, u, NP_OK, good);
	}
	rc = 0;
out:
	free(ok);
	return rc;
}

static void np_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)x;
	(void)u;
	v_int(&row[0], a[NP_AREAS]);
	v_int(&row[1], a[NP_NIGHTS]);
	v_int(&row[2], a[NP_OK]);
	v_int(&row[3], a[NP_NIGHTS] - a[NP_OK]);
	v_pct(&row[4], a[NP_OK], a[NP_NIGHTS]);
}

/* ---- reception ---- */

enum { RC_OFFICERS, RC_WEEKS, RC_MS, RC_BELOW, RC_NF };

static const struct report_col rc_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"officers", N_("officers")},
    {"weeks", N_("ISO weeks")},
    {"officer_weeks", N_("officer-weeks")},
    {"hours", N_("hours")},
    {"avg_hours", N_("hours per officer-week")},
    {"below", N_("officer-weeks below 5 h")},
    {"meeting_pct", N_("meeting %")},
    {"complete", N_("complete")},
};

static const struct report_col rc_below_cols[] = {
    {"officer", N_("officer")}, {"name", N_("name")},	{"area", N_("area")},
    {"week", N_("week")},	{"hours", N_("hours")},
};

/* The ISO weeks lying wholly inside the period: the day of the first
 * Monday and how many. */
static int whole_weeks(int32_t from, int32_t to, int32_t *first)
{
	int32_t m = from + (8 - gb_weekday(from)) % 7;

	*first = m;
	return m + 6 <= to ? (to - m + 1) / 7 : 0;
}

/* The ms of reception per officer (staff index) and week of the
 * period, nw to an officer. */
struct rc_load {
	struct run *x;
	int64_t *ms;
};

static int rc_row(void *arg, const struct store_fact_row *r, struct gb_err *err)
{
	struct rc_load *l = arg;
	struct run *x = l->x;
	int nw = x->weeks_lived;
	int si = staff_index(x, r->s[0]);
	int64_t k = (r->i[0] - x->week0) / 7;

	(void)err;
	if (si >= 0 && k >= 0 && k < nw)
		l->ms[(size_t)si * (size_t)nw + (size_t)k] += r->i[1];
	return 0;
}

static int rc_gather(struct run *x)
{
	const struct world *w = &x->w;
	struct report_table *t =
	    detail(x, "below_target",
		   N_("officers below 5 hours of reception in a week"),
		   rc_below_cols, NCOLS(rc_below_cols));
	int32_t w0 = x->week0;
	int nw = x->weeks_lived;
	struct rc_load l = {x, NULL};
	int64_t *ms = xcalloc(w->nstaff * (size_t)nw + 1, sizeof(*ms));
	int rc = -1;

	l.ms = ms;
	if (read_facts(x, STORE_Q_RECEPTION, w0, w0 + 7 * (nw - 1), NULL,
		       rc_row, &l) < 0)
		goto out;
	for (size_t s = 0; s < w->nstaff; s++) {
		const struct ref_staff *p = &w->staff[s];
		int u = unit_of_area(x, p->area);

		if (!is_officer(p) || !counts(x, w->areas[p->area].parent))
			continue;
		add(x, u, RC_OFFICERS, 1);
		add(x, u, RC_WEEKS, nw);
		for (int k = 0; k < nw; k++) {
			int64_t v = ms[s * (size_t)nw + (size_t)k];
			struct report_val *row;
			char label[16];
			int y, wk;

			add(x, u, RC_MS, v);
			if (v >= RECEPTION_TARGET_MS)
				continue;
			add(x, u, RC_BELOW, 1);
			gb_iso_week(w0 + 7 * k, &y, &wk);
			snprintf(label, sizeof(label), "%04d-W%02d", y, wk);
			row = table_add(t);
			v_text(&row[0], p->code);
			v_text(&row[1], p->name);
			v_text(&row[2], w->areas[p->area].code);
			v_text(&row[3], label);
			v_hours(&row[4], (double)v);
		}
	}
	rc = 0;
out:
	free(ms);
	return rc;
}

static void rc_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)u;
	v_int(&row[0], a[RC_OFFICERS]);
	v_int(&row[1], x->weeks_lived);
	v_int(&row[2], a[RC_WEEKS]);
	v_hours(&row[3], (double)a[RC_MS]);
	if (a[RC_WEEKS] > 0)
		v_hours(&row[4], (double)a[RC_MS] / (double)a[RC_WEEKS]);
	v_int(&row[5], a[RC_BELOW]);
	v_pct(&row[6], a[RC_WEEKS] - a[RC_BELOW], a[RC_WEEKS]);
}

/* ---- requests ---- */

enum {
	RQ_RECEIVED,
	RQ_ALARM,
	RQ_HELP,
	RQ_INQUIRY,
	RQ_RESOLVED,
	RQ_ONTIME,
	RQ_OPEN,
	RQ_PAST,
	RQ_PENDING,
	RQ_NF
};

static const struct report_col rq_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"received", N_("received")},
    {"alarm", N_("alarms")},
    {"help", N_("help")},
    {"inquiry", N_("inquiries")},
    {"resolved", N_("resolved")},
    {"on_time", N_("on time")},
    {"late", N_("late")},
    {"open", N_("open")},
    {"open_past_deadline", N_("open past deadline")},
    {"pending", N_("open, not yet due")},
    {"on_time_pct", N_("on time %")},
    {"median_hours", N_("median hours to resolve")},
    {"complete", N_("complete")},
};

static const struct report_col rq_open_cols[] = {
    {"id", N_("request")},	  {"area", N_("area")},
    {"category", N_("category")}, {"priority", N_("priority")},
    {"officer", N_("officer")},	  {"received", N_("received")},
    {"deadline", N_("deadline")}, {"hours_past", N_("hours past deadline")},
};

/* Times to resolve (ms) per unit and for the total, for the medians. */
struct durations {
	int64_t *v;
	size_t n, cap;
};

static void dur_add(struct durations *d, int64_t ms)
{
	d->v = grow(d->v, d->n, &d->cap, sizeof(*d->v));
	d->v[d->n++] = ms;
}

/* Rearranges v[0..n-1] so that v[k] is the value a sort would put there,
 * with nothing larger before it (Hoare's selection): linear time, where
 * sorting a year of requests to find a median would cost more than
 * reading them. */
static void select_kth(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		int64_t pivot = v[lo + (hi - lo) / 2], t;
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* The median of v[0..n-1] (n > 0), reordering v. */
static double median(int64_t *v, size_t n)
{
	int64_t below;

	select_kth(v, n, n / 2);
	if (n % 2)
		return (double)v[n / 2];
	below = v[0];
	for (size_t i = 1; i < n / 2; i++)
		if (v[i] > below)
			below = v[i];
	return ((double)below + (double)v[n / 2]) / 2.0;
}

/* Orders rows of open requests oldest first: received (local times sort
 * as text), then id. */
static int rq_open_cmp(const void *a, const void *b)
{
	const struct report_val *x = a, *y = b;
	int c = strcmp(x[5].s, y[5].s);

	return c ? c : strcmp(x[0].s, y[0].s);
}

/* What rq_row fills: the list of open requests past their deadline,
 * the times to resolve, and the area of the row before. */
struct rq_load {
	struct run *x;
	struct report_table *t;
	struct durations *dur;
	char last[GB_CODE_LEN];
	int ai;
};

static int rq_row(void *arg, const struct store_fact_row *r, struct gb_err *err)
{
	static const char *const cats[] = {"alarm", "help", "inquiry"};
	struct rq_load *l = arg;
	struct run *x = l->x;
	const char *area = r->s[0], *cat = r->s[1];
	int64_t received = r->i[0];
	int64_t deadline = r->i[1];
	int64_t resolved = r->i[2];
	struct report_val *row;
	int u;

	(void)err;
	/* The rows of a day come area by area: look an area up only when
	 * it changes. */
	if (strcmp(area, l->last) != 0) {
		snprintf(l->last, sizeof(l->last), "%s", area);
		l->ai = area_index(x, area);
	}
	if (l->ai < 0 || !counts(x, x->w.areas[l->ai].parent))
		return 0;
	u = unit_of_area(x, l->ai);
	add(x, u, RQ_RECEIVED, 1);
	for (int i = 0; i < 3; i++)
		if (!strcmp(cat, cats[i]))
			add(x, u, RQ_ALARM + i, 1);
	/* Resolved is an outcome: whenever it was entered. */
	if (!(r->null & 1u << 2)) {
		add(x, u, RQ_RESOLVED, 1);
		if (resolved <= deadline)
			add(x, u, RQ_ONTIME, 1);
		if (u >= 0)
			dur_add(&l->dur[u], resolved - received);
		dur_add(&l->dur[x->nunits], resolved - received);
		return 0;
	}
	add(x, u, RQ_OPEN, 1);
	if (deadline >= x->as_of) {
		add(x, u, RQ_PENDING, 1);
		return 0;
	}
	add(x, u, RQ_PAST, 1);
	row = table_add(l->t);
	v_text(&row[0], r->s[4]);
	v_text(&row[1], r->s[0]);
	v_text(&row[2], r->s[1]);
	v_text(&row[3], r->s[2]);
	v_text(&row[4], r->s[3]);
	v_time(&row[5], received);
	v_time(&row[6], deadline);
	v_hours(&row[7], (double)(x->as_of - deadline));
	return 0;
}

static int rq_gather(struct run *x)
{
	struct rq_load l = {x, NULL, NULL, "", -1};

	l.t = detail(x, "open_past_deadline",
		     N_("open requests past their deadline"), rq_open_cols,
		     NCOLS(rq_open_cols));
	l.dur = xcalloc((size_t)x->nunits + 1, sizeof(*l.dur));
	x->extra = l.dur;
	if (read_facts(x, STORE_Q_REQUESTS, x->from, x->to, NULL, rq_row, &l) <
	    0)
		return -1;
	if (l.t->nrows > 1)
		qsort(l.t->cells, l.t->nrows,
		      (size_t)l.t->ncols * sizeof(*l.t->cells), rq_open_cmp);
	return 0;
}

static void rq_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	struct durations *d = &((struct durations *)x->extra)[u];

	for (int i = 0; i < 6; i++)
		v_int(&row[i], a[RQ_RECEIVED + i]);
	v_int(&row[6], a[RQ_RESOLVED] - a[RQ_ONTIME]);
	v_int(&row[7], a[RQ_OPEN]);
	v_int(&row[8], a[RQ_PAST]);
	v_int(&row[9], a[RQ_PENDING]);
	v_pct(&row[10], a[RQ_ONTIME], a[RQ_RESOLVED] + a[RQ_PAST]);
	if (d->n > 0)
		v_hours(&row[11], median(d->v, d->n));
}

static void rq_release(struct run *x)
{
	struct durations *d = x->extra;

	for (int u = 0; d && u <= x->nunits; u++)
		free(d[u].v);
	free(d);
	x->extra = NULL;
}

/* ---- daily-reports ---- */

enum { DR_OFFICERS, DR_DAYS, DR_COVERED, DR_NF };

static const struct report_col dr_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"officers", N_("officers")},
    {"days", N_("days")},
    {"officer_days", N_("officer-days")},
    {"covered", N_("with a report")},
    {"missed", N_("without")},
    {"share_pct", N_("covered %")},
    {"complete", N_("complete")},
};

static const struct report_col dr_gap_cols[] = {
    {"officer", N_("officer")}, {"name", N_("name")},
    {"area", N_("area")},	{"missed", N_("days without a report")},
    {"days", N_("days")},
};

static int dr_gather(struct run *x)
{
	const struct world *w = &x->w;
	struct report_table *t =
	    detail(x, "gaps", N_("officers with days without a report"),
		   dr_gap_cols, NCOLS(dr_gap_cols));
	size_t n = (size_t)x->ndays;
	unsigned char *ok;
	int rc = -1;

	if (day_bitmap(x, STORE_Q_DAILY, w->nstaff, staff_index, NULL, &ok) < 0)
		goto out;
	for (size_t s = 0; s < w->nstaff; s++) {
		const struct ref_staff *p = &w->staff[s];
		int u = unit_of_area(x, p->area);
		int64_t good;

		if (!is_officer(p) || !counts(x, w->areas[p->area].parent))
			continue;
		good = day_gaps(x, t, &ok[s * n], x->days_lived, p->code,
				p->name, w->areas[p->area].code);
		add(x, u, DR_OFFICERS, 1);
		add(x, u, DR_DAYS, x->days_lived);
		add(x, u, DR_COVERED, good);
	}
	rc = 0;
out:
	free(ok);
	return rc;
}

static void dr_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)u;
	v_int(&row[0], a[DR_OFFICERS]);
	v_int(&row[1], x->days_lived);
	v_int(&row[2], a[DR_DAYS]);
	v_int(&row[3], a[DR_COVERED]);
	v_int(&row[4], a[DR_DAYS] - a[DR_COVERED]);
	v_pct(&row[5], a[DR_COVERED], a[DR_DAYS]);
}

/* ---- patrol-teams ---- */

enum { PT_COMMS, PT_MEETING, PT_POP, PT_TEAM, PT_NF };

#define PT_CASES_HIGH 100

static const struct report_col pt_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"communities", N_("communities")},
    {"meeting", N_("meeting target")},
    {"not_meeting", N_("below target")},
    {"share_pct", N_("meeting %")},
    {"population", N_("population")},
    {"team", N_("patrol team")},
    {"per_mille", N_("team per 1000")},
    {"complete", N_("complete")},
};

static const struct report_col pt_miss_cols[] = {
    {"community", N_("community")},
    {"name", N_("name")},
    {"grid", N_("grid")},
    {"population", N_("population")},
    {"criminal_cases", N_("criminal cases")},
    {"team", N_("patrol team")},
    {"per_mille", N_("team per 1000")},
    {"target_per_mille", N_("target per 1000")},
    {"needed", N_("team needed")},
};

static int pt_gather(struct run *x)
{
	const struct world *w = &x->w;
	struct report_table *t = detail(
	    x, "below_target", N_("communities below the patrol-team target"),
	    pt_miss_cols, NCOLS(pt_miss_cols));

	for (size_t i = 0; i < w->ncomms; i++) {
		const struct ref_comm *c = &w->comms[i];
		int u = unit_of_comm(x, (int)i);
		int high = c->cases >= PT_CASES_HIGH;
		/* In integers: team / pop >= 2/1000 or 1.5/1000. */
		int meets = high ? c->team * 1000 >= c->population * 2
				 : c->team * 2000 >= c->population * 3;
		struct report_val *row;

		if (c->grid < 0)
			continue;
		add(x, u, PT_COMMS, 1);
		add(x, u, PT_MEETING, meets);
		add(x, u, PT_POP, c->population);
		add(x, u, PT_TEAM, c->team);
		if (meets)
			continue;
		row = table_add(t);
		v_text(&row[0], c->code);
		v_text(&row[1], c->name);
		v_text(&row[2], w->grids[c->grid].code);
		v_int(&row[3], c->population);
		v_int(&row[4], c->cases);
		v_int(&row[5], c->team);
		if (c->population > 0)
			v_num(&row[6],
			      1000.0 * (double)c->team / (double)c->population,
			      2);
		v_num(&row[7], high ? 2.0 : 1.5, 1);
		v_int(&row[8], high ? (c->population * 2 + 999) / 1000
				    : (c->population * 3 + 1999) / 2000);
	}
	return 0;
}

static void pt_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	(void)x;
	(void)u;
	v_int(&row[0], a[PT_COMMS]);
	v_int(&row[1], a[PT_MEETING]);
	v_int(&row[2], a[PT_COMMS] - a[PT_MEETING]);
	v_pct(&row[3], a[PT_MEETING], a[PT_COMMS]);
	v_int(&row[4], a[PT_POP]);
	v_int(&row[5], a[PT_TEAM]);
	if (a[PT_POP] > 0)
		v_num(&row[6], 1000.0 * (double)a[PT_TEAM] / (double)a[PT_POP],
		      2);
}

/* ---- sync-health ---- */

enum {
	SH_GRIDS,
	SH_SYNCED,
	SH_DEVICES,
	SH_BATCHES,
	SH_RECORDS,
	SH_PENDING,
	SH_TOLD, /* devices that said what they had left (SH_PENDING) */
	SH_NF
};

static const struct report_col sh_cols[] = {
    {"unit", N_("unit")},
    {"name", N_("name")},
    {"grids", N_("grids")},
    {"synced", N_("synced")},
    {"not_synced", N_("not synced")},
    {"devices", N_("devices")},
    {"batches", N_("batches")},
    {"records", N_("records")},
    {"last_sync", N_("last sync")},
    {"unsent", N_("unsent")},
    {"oldest_unsent", N_("oldest unsent")},
    {"complete", N_("complete")},
};

/* unsent, oldest_unsent: what the device said it had left to send when
 * it built its latest batch applied (Batch.pending); unsent_hours: how
 * long the oldest of those had waited by the end of the period. */
static const struct report_col sh_dev_cols[] = {
    {"device", N_("device")},
    {"grid", N_("grid")},
    {"role", N_("role")},
    {"name", N_("name")},
    {"status", N_("status")},
    {"last_sync", N_("last sync")},
    {"batches", N_("batches")},
    {"records", N_("records")},
    {"unsent", N_("unsent")},
    {"oldest_unsent", N_("oldest unsent")},
    {"unsent_hours", N_("unsent for (h)")},
};

static const struct report_col sh_grid_cols[] = {
    {"grid", N_("grid")},
    {"name", N_("name")},
    {"last_sync", N_("last sync")},
};

/* The latest batch time per unit (and the total), and per grid; the
 * oldest unsent version per unit. */
struct sync_extra {
	int64_t *unit_last;
	int64_t *grid_last;
	int64_t *unit_oldest;
};

/* A device of STORE_Q_DEVICE_SYNC: counted in its unit, and a row of
 * the devices list. */
static int sh_row(void *arg, const struct store_fact_row *r, struct gb_err *err)
{
	struct detail_load *l = arg;
	struct run *x = l->x;
	struct sync_extra *e = x->extra;
	int gi = grid_index(x, r->s[1]);
	int u = unit_of_grid(x, gi);
	int told = !(r->null & 1u << 1);
	int64_t at = r->i[6], oldest = r->i[2];
	struct report_val *row;

	(void)err;
	if (gi < 0)
		return 0;
	add(x, u, SH_DEVICES, 1);
	add(x, u, SH_BATCHES, r->i[4]);
	add(x, u, SH_RECORDS, r->i[5]);
	if (told) {
		add(x, u, SH_PENDING, r->i[1]);
		add(x, u, SH_TOLD, 1);
	}
	if (oldest > 0) {
		if (u >= 0 &&
		    (!e->unit_oldest[u] || oldest < e->unit_oldest[u]))
			e->unit_oldest[u] = oldest;
		if (!e->unit_oldest[x->nunits] ||
		    oldest < e->unit_oldest[x->nunits])
			e->unit_oldest[x->nunits] = oldest;
	}
	if (u >= 0 && at > e->unit_last[u])
		e->unit_last[u] = at;
	if (at > e->unit_last[x->nunits])
		e->unit_last[x->nunits] = at;
	if (at > e->grid_last[gi])
		e->grid_last[gi] = at;
	row = table_add(l->t);
	v_text(&row[0], r->s[0]);
	v_text(&row[1], r->s[1]);
	v_text(&row[2], r->s[2]);
	v_text(&row[3], r->s[3]);
	v_text(&row[4], r->i[0] ? "revoked" : "active");
	if (at > 0)
		v_time(&row[5], at);
	v_int(&row[6], r->i[4]);
	v_int(&row[7], r->i[5]);
	if (told)
		v_int(&row[8], r->i[1]);
	if (oldest > 0) {
		v_time(&row[9], oldest);
		v_hours(&row[10],
			(double)(x->as_of > oldest ? x->as_of - oldest : 0));
	}
	return 0;
}

static int sh_gather(struct run *x)
{
	const struct world *w = &x->w;
	struct detail_load l = {x, NULL};
	struct report_table *ns;
	struct sync_extra *e = xcalloc(1, sizeof(*e));

	l.t = detail(x, "devices", N_("devices"), sh_dev_cols,
		     NCOLS(sh_dev_cols));
	ns = detail(x, "not_synced",
		    N_("grids not synced since the period began"), sh_grid_cols,
		    NCOLS(sh_grid_cols));
	x->extra = e;
	e->unit_last = xcalloc((size_t)x->nunits + 1, sizeof(int64_t));
	e->grid_last = xcalloc(w->ngrids + 1, sizeof(int64_t));
	e->unit_oldest = xcalloc((size_t)x->nunits + 1, sizeof(int64_t));
	if (read_facts(x, STORE_Q_DEVICE_SYNC, x->from, x->to, NULL, sh_row,
		       &l) < 0)
		return -1;
	for (size_t g = 0; g < w->ngrids; g++) {
		int u = unit_of_grid(x, (int)g);
		int synced = 1;
		struct report_val *row;

		for (size_t i = 0; i < x->r->nnot_synced; i++)
			if (!strcmp(x->r->not_synced[i], w->grids[g].code))
				synced = 0;
		add(x, u, SH_GRIDS, 1);
		add(x, u, SH_SYNCED, synced);
		if (synced)
			continue;
		row = table_add(ns);
		v_text(&row[0], w->grids[g].code);
		v_text(&row[1], w->grids[g].name);
		if (e->grid_last[g] > 0)
			v_time(&row[2], e->grid_last[g]);
	}
	return 0;
}

static void sh_fill(struct run *x, int u, const int64_t *a,
		    struct report_val *row)
{
	struct sync_extra *e = x->extra;

	v_int(&row[0], a[SH_GRIDS]);
	v_int(&row[1], a[SH_SYNCED]);
	v_int(&row[2], a[SH_GRIDS] - a[SH_SYNCED]);
	v_int(&row[3], a[SH_DEVICES]);
	v_int(&row[4], a[SH_BATCHES]);
	v_int(&row[5], a[SH_RECORDS]);
	if (e->unit_last[u] > 0)
		v_time(&row[6], e->unit_last[u]);
	/* unsent, oldest_unsent: of those of its devices that said; none
	 * has said: unknown, not nothing. */
	if (a[SH_TOLD])
		v_int(&row[7], a[SH_PENDING]);
	if (e->unit_oldest[u] > 0)
		v_time(&row[8], e->unit_oldest[u]);
}

static void sh_release(struct run *x)
{
	struct sync_extra *e = x->extra;

	if (e) {
		free(e->unit_last);
		free(e->grid_last);
		free(e->unit_oldest);
	}
	free(e);
	x->extra = NULL;
}

/* ---- the table of reports ---- */

/* name, title, summary, levels, role, columns, counters per unit, gather,
 * fill, release, has_prev, left_key */
#define DEF(n, t, s, lv, role, cols, nf, g, f, rel, prev, left)                \
	{                                                                      \
		n, t, s, lv, role, cols, NCOLS(cols), nf, g, f, rel, prev,     \
		    left                                                       \
	}

static const struct report_def defs[] = {
    DEF("contract-rate", N_("labour-contract signing rate"),
	N_("signed / employees over the latest check of each active "
	   "enterprise, with the change from the previous period"),
	LV_LABOUR, "coordinator", cr_cols, CR_NF * 2, cr_gather, cr_fill, NULL,
	1, NULL),
    DEF("check-coverage", N_("check coverage"),
	N_("active enterprises with at least one check in the period"),
	LV_LABOUR, "coordinator", cc_cols, CC_NF, cc_gather, cc_fill, NULL, 0,
	NULL),
    DEF("rectification", N_("rectification"),
	N_("notices and orders issued; orders rectified on time, late, "
	   "overdue (with the overdue enterprises) and pending"),
	LV_LABOUR, "coordinator", re_cols, RE_NF, re_gather, re_fill, NULL, 0,
	NULL),
    DEF("disputes", N_("labour disputes"),
	N_("disputes received by level and status; share settled at "
	   "community or street level"),
	LV_LABOUR, "coordinator", di_cols, DI_NF, di_gather, di_fill, NULL, 0,
	NULL),
    DEF("staffing", N_("police area staffing"),
	N_("residents per officer, officers and guards per police area"),
	LV_POLICING, NULL, sf_cols, SF_NF, sf_gather, sf_fill, NULL, 0, NULL),
    DEF("night-patrol", N_("night patrols"),
	N_("share of nights with a patrol led by an officer with two or "
	   "more guards"),
	LV_POLICING, "officer", np_cols, NP_NF, np_gather, np_fill, NULL, 0,
	"nights"),
    DEF("reception", N_("police room reception"),
	N_("reception hours per officer per ISO week, officers below "
	   "5 hours"),
	LV_POLICING, "officer", rc_cols, RC_NF, rc_gather, rc_fill, NULL, 0,
	"weeks"),
    DEF("requests", N_("public requests"),
	N_("requests by category, resolved by the deadline, median time "
	   "to resolve, open past deadline"),
	LV_POLICING, "officer", rq_cols, RQ_NF, rq_gather, rq_fill, rq_release,
	0, NULL),
    DEF("daily-reports", N_("daily work reports"),
	N_("share of officer-days with a daily report; officers with "
	   "gaps"),
	LV_POLICING, "officer", dr_cols, DR_NF, dr_gather, dr_fill, NULL, 0,
	"days"),
    DEF("patrol-teams", N_("mass patrol teams"),
	N_("communities whose patrol team meets 2 per 1000 residents "
	   "(100+ criminal cases a year) or 1.5"),
	LV_POLICING | LV(L_COMMUNITY), NULL, pt_cols, PT_NF, pt_gather, pt_fill,
	NULL, 0, NULL),
    DEF("sync-health", N_("sync health"),
	N_("per device and grid: last sync, batches and records in the "
	   "period, versions left unsent at the last sync and the oldest of "
	   "them; grids not synced"),
	LV_LABOUR, NULL, sh_cols, SH_NF, sh_gather, sh_fill, sh_release, 0,
	NULL),
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

size_t reports_count(void)
{
	return NDEFS;
}

const char *reports_name(size_t i)
{
	return i < NDEFS ? defs[i].name : NULL;
}

const char *reports_summary(size_t i)
{
	return i < NDEFS ? _(defs[i].summary) : NULL;
}

static const struct report_def *def_find(const char *name)
{
	for (size_t i = 0; name && i < NDEFS; i++)
		if (!strcmp(defs[i].name, name))
			return &defs[i];
	return NULL;
}

static void levels_text(unsigned levels, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (int l = 0; l < L_COUNT; l++)
		if (levels & LV(l))
			o +=
			    (size_t)snprintf(out + o, n > o ? n - o : 0, "%s%s",
					     o ? "|" : "", level_names[l]);
}

const char *reports_levels(const char *name)
{
	static const char *const texts[] = {
	    "district|street|grid",
	    "district|street|grid|area",
	    "district|street|grid|area|community",
	};
	const struct report_def *d = def_find(name);

	if (!d)
		return NULL;
	if (d->levels & LV(L_COMMUNITY))
		return texts[2];
	return d->levels & LV(L_AREA) ? texts[1] : texts[0];
}

int reports_may_read(const struct store_device *dev, struct gb_err *err)
{
	if (strcmp(dev->role, "viewer") != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("a %s device may not read reports (viewer "
				  "devices only)"),
				dev->role);
	return 0;
}

/* ---- completeness ---- */

/* The reasons a grid is not complete, the worst first (struct
 * report_incomplete). */
static const char *const incomplete_reasons[] = {
    "never_synced", "not_synced_since_end", "unsent_backlog"};

/*
 * Coverage and completeness, per grid, for devices of the report's role
 * (any but viewers when it has none).
 *
 * A grid is covered when such a device sent a batch on or after the
 * first day of the period: what it entered for the period may then be
 * in.
 *
 * A grid is complete when each such device that is not revoked sent its
 * latest batch at or after as-of and said in it that it held nothing
 * written before as-of unsent (a device that says nothing of its backlog
 * is taken at its batches).
 */
/* Per grid: a device of the role has synced since the period began
 * (seen), the worst reason it is not complete (why: 0 none, else 1 + the
 * index in incomplete_reasons) and whether it has such a device. */
struct completeness_load {
	struct run *x;
	unsigned char *seen, *why, *has_dev;
};

static int synced_row(void *arg, const struct store_fact_row *r,
		      struct gb_err *err)
{
	struct completeness_load *l = arg;
	int gi = grid_index(l->x, r->s[0]);

	(void)err;
	if (gi >= 0)
		l->seen[gi] = 1;
	return 0;
}

static int device_row(void *arg, const struct store_fact_row *r,
		      struct gb_err *err)
{
	struct completeness_load *l = arg;
	struct run *x = l->x;
	int gi = grid_index(x, r->s[1]);
	int64_t last = r->i[3], oldest = r->i[2];
	int told = !(r->null & 1u << 1);
	int w = 0;

	(void)err;
	if (r->i[0] || (x->def->role && strcmp(r->s[2], x->def->role) != 0))
		return 0; /* revoked, or not of the role */
	if (gi < 0)
		return 0;
	l->has_dev[gi] = 1;
	if (last <= 0)
		w = 1;
	else if (last < x->as_of)
		w = 2;
	else if (told && r->i[1] > 0 && (oldest <= 0 || oldest < x->as_of))
		w = 3;
	if (w && (!l->why[gi] || w < l->why[gi]))
		l->why[gi] = (unsigned char)w;
	return 0;
}

static int completeness(struct run *x)
{
	struct report *r = x->r;
	size_t ng = x->w.ngrids;
	unsigned char *seen = xcalloc(ng + 1, 1);
	/* per grid: 0 complete so far, else 1 + the worst reason */
	unsigned char *why = xcalloc(ng + 1, 1);
	unsigned char *has_dev = xcalloc(ng + 1, 1);
	struct completeness_load l = {x, seen, why, has_dev};
	int rc = -1;

	if (read_facts(x, STORE_Q_SYNCED_GRIDS, x->from, x->to, x->def->role,
		       synced_row, &l) < 0 ||
	    read_facts(x, STORE_Q_DEVICES, 0, 0, NULL, device_row, &l) < 0)
		goto out;
	r->synced_role = x->def->role;
	r->grids = (int)ng;
	r->not_synced = xcalloc(ng + 1, sizeof(char *));
	r->incomplete = xcalloc(ng + 1, sizeof(*r->incomplete));
	x->covered = seen;
	x->complete = xcalloc(ng + 1, 1);
	seen = NULL;
	for (size_t g = 0; g < ng; g++) {
		struct report_incomplete *in;

		if (x->covered[g])
			r->synced++;
		else
			r->not_synced[r->nnot_synced++] =
			    xstrdup(x->w.grids[g].code);
		if (!has_dev[g])
			why[g] = 1;
		if (!why[g]) {
			x->complete[g] = 1;
			r->complete++;
			continue;
		}
		in = &r->incomplete[r->nincomplete++];
		snprintf(in->code, sizeof(in->code), "%s", x->w.grids[g].code);
		in->name = xstrdup(x->w.grids[g].name);
		in->reason = incomplete_reasons[why[g] - 1];
	}
	rc = 0;
out:
	free(seen);
	free(why);
	free(has_dev);
	return rc;
}

/* Whether unit u at the run's level has a grid covered (*cov) and has
 * every grid complete (the return). */
static int unit_state(const struct run *x, int u, int *cov)
{
	const struct world *w = &x->w;
	int all = 1, gi;

	*cov = 0;
	if (u < x->nunits && (x->level == L_AREA || x->level == L_COMMUNITY)) {
		gi = x->level == L_AREA ? w->areas[u].parent : w->comms[u].grid;
		*cov = gi >= 0 && x->covered[gi];
		return gi >= 0 && x->complete[gi];
	}
	for (size_t g = 0; g < w->ngrids; g++) {
		if (u < x->nunits && unit_of_grid(x, (int)g) != u)
			continue;
		*cov |= x->covered[g];
		all &= x->complete[g];
	}
	return all;
}

/*
 * The nights, days and whole ISO weeks of the period that had ended by
 * now (the night of D ends at D+1 06:00 local, day D at D+1 00:00, a
 * week at its next Monday 00:00), and how many the report leaves out.
 */
static void lived(struct run *x)
{
	const struct report_def *d = x->def;
	int32_t today = gb_local_day(x->now);
	int32_t last_night = gb_local_day(x->now - 6 * HOUR_MS) - 1;
	int32_t n;
	int nw = whole_weeks(x->from, x->to, &x->week0);

	n = last_night - x->from + 1;
	x->nights_lived = n < 0 ? 0 : n > x->ndays ? x->ndays : n;
	n = today - 1 - x->from + 1;
	x->days_lived = n < 0 ? 0 : n > x->ndays ? x->ndays : n;
	n = today - x->week0 - 7;
	n = n < 0 ? 0 : n / 7 + 1;
	x->weeks_lived = n > nw ? nw : n;
	x->r->left_key = d->left_key;
	if (!d->left_key)
		return;
	if (!strcmp(d->left_key, "nights"))
		x->r->left_out = x->ndays - x->nights_lived;
	else if (!strcmp(d->left_key, "days"))
		x->r->left_out = x->ndays - x->days_lived;
	else
		x->r->left_out = nw - x->weeks_lived;
}

/* ---- running a report ---- */

static int parse_day(const char *what, const char *s, int32_t *day,
		     struct gb_err *err)
{
	if (!s || !*s)
		return gb_error(err, GB_EUSAGE,
				_("%s: a date YYYY-MM-DD is needed"), what);
	if (gb_date_parse(s, day, err) < 0) {
		err->code = GB_EUSAGE;
		return gb_error_prefix(err, "%s", what);
	}
	return 0;
}

/* The kinds whose records each report reads, for its conflicts column;
 * a report not named reads reference data or syncs only. */
static const struct {
	const char *report, *kinds;
} report_kinds[] = {
    {"contract-rate", "enterprise contract_check"},
    {"check-coverage", "enterprise contract_check"},
    {"rectification", "contract_check rectification"},
    {"disputes", "dispute"},
    {"night-patrol", "patrol"},
    {"reception", "reception"},
    {"requests", "request"},
    {"daily-reports", "daily_report"},
};

/*
 * Counts per unit the records of the report's kinds that hold a field
 * conflict not yet resolved (SPEC §4), from the conflict facts that
 * ingest keeps (STORE_Q_CONFLICTS, a row per such record): those dated in the
 * period (from the previous one's start for a report that compares
 * with it) and those of a kind without a date.  A record is placed by
 * its area, else its officer's area, at the area level, and by its grid
 * above; the total counts them all.
 */
static int conflict_row(void *arg, const struct store_fact_row *r,
			struct gb_err *err)
{
	struct run *x = arg;
	const char *area = r->s[1];
	const char *person = r->s[2];
	int ai = *area ? area_index(x, area) : -1, u;

	(void)err;
	if (ai < 0 && *person) {
		int si = staff_index(x, person);

		ai = si >= 0 ? x->w.staff[si].area : -1;
	}
	u = x->level == L_AREA || x->level == L_COMMUNITY
		? unit_of_area(x, ai)
		: unit_of_grid(x, grid_index(x, r->s[0]));
	if (u >= 0)
		x->conf[u]++;
	x->conf[x->nunits]++;
	return 0;
}

static int conflicts_gather(struct run *x)
{
	const char *kinds = NULL;
	int32_t from = x->def->has_prev ? x->r->prev_from : x->from;
	char kind[32];

	for (size_t i = 0; i < sizeof(report_kinds) / sizeof(report_kinds[0]);
	     i++)
		if (!strcmp(report_kinds[i].report, x->def->name))
			kinds = report_kinds[i].kinds;
	if (!kinds)
		return 0;
	while (*kinds) {
		size_t len = strcspn(kinds, " ");

		snprintf(kind, sizeof(kind), "%.*s", (int)len, kinds);
		if (read_facts(x, STORE_Q_CONFLICTS, from, x->to, kind,
			       conflict_row, x) < 0)
			return -1;
		kinds += len;
		kinds += *kinds == ' ';
	}
	return 0;
}

/* Fills the row of unit u (u == nunits: the total) after its code and
 * name: null figures when nothing covers it, then the records in
 * conflict, and whether it is complete in the last column. */
static void fill_row(struct run *x, int u, struct report_val *row)
{
	const struct report_def *d = x->def;
	int cov, complete = unit_state(x, u, &cov);

	if (!d->role || cov)
		d->fill(x, u, counters(x, u), row + 2);
	v_int(&row[d->ncols - 1], x->conf[u]);
	row[d->ncols].type = RV_BOOL;
	row[d->ncols].i = complete;
}

static int build(struct run *x)
{
	struct report *r = x->r;
	const struct report_def *d = x->def;
	int rc = -1;

	x->nunits = units_at(&x->w, x->level);
	x->acc =
	    xcalloc(((size_t)x->nunits + 1) * (size_t)d->nf, sizeof(*x->acc));
	x->conf = xcalloc((size_t)x->nunits + 1, sizeof(*x->conf));
	lived(x);
	if (completeness(x) < 0 || d->gather(x) < 0 || conflicts_gather(x) < 0)
		goto out;
	for (int u = 0; u < x->nunits; u++) {
		struct report_val *row = table_add(&r->main);

		v_text(&row[0], unit_code(x, u));
		v_text(&row[1], unit_name(x, u));
		fill_row(x, u, row);
	}
	r->total = xcalloc((size_t)r->main.ncols, sizeof(*r->total));
	/* The total is the whole district. */
	v_text(&r->total[0], "total");
	v_text(&r->total[1], x->w.dname[0] ? x->w.dname : _("total"));
	fill_row(x, x->nunits, r->total);
	rc = 0;
out:
	if (d->release)
		d->release(x);
	free(x->acc);
	free(x->conf);
	x->conf = NULL;
	free(x->covered);
	free(x->complete);
	x->acc = NULL;
	x->covered = x->complete = NULL;
	return rc;
}

int report_run(struct store *st, const char *name, const char *level,
	       const char *from, const char *to, int64_t now_ms,
	       struct report **out, struct gb_err *err)
{
	struct run x;
	struct report *r = NULL;
	char allowed[64];
	int rc = -1, l;

	memset(&x, 0, sizeof(x));
	x.err = err;
	x.def = def_find(name);
	if (!x.def)
		return gb_error(err, GB_ENOTFOUND,
				_("no report \"%s\" (gridbook-hq report --help "
				  "lists them)"),
				name ? name : "");
	levels_text(x.def->levels, allowed, sizeof(allowed));
	for (l = 0; l < L_COUNT; l++)
		if (!strcmp(level ? level : "district", level_names[l]))
			break;
	if (l == L_COUNT || !(x.def->levels & LV(l)))
		return gb_error(err, GB_EUSAGE,
				_("level: \"%s\" is not one of %s for %s"),
				level, allowed, name);
	x.level = (enum level)l;
	if (parse_day("from", from, &x.from, err) < 0 ||
	    parse_day("to", to, &x.to, err) < 0)
		return -1;
	if (x.to < x.from)
		return gb_error(err, GB_EUSAGE, _("from: %s is after to: %s"),
				from, to);
	if (x.to - x.from + 1 > MAX_DAYS)
		return gb_error(err, GB_EUSAGE,
				_("the period is longer than %d days"),
				MAX_DAYS);
	x.ndays = x.to - x.from + 1;
	x.as_of = gb_day_start(x.to + 1);
	if (now_ms < x.as_of)
		x.as_of = now_ms;
	x.asof_day = gb_local_day(x.as_of);
	x.asof_last = gb_local_day(x.as_of - 1);
	x.now = now_ms;

	r = xcalloc(1, sizeof(*r));
	r->name = x.def->name;
	r->title = x.def->title;
	snprintf(r->level, sizeof(r->level), "%s", level_names[l]);
	r->from = x.from;
	r->to = x.to;
	r->prev_to = x.from - 1;
	r->prev_from = x.from - x.ndays;
	r->has_prev = x.def->has_prev;
	r->as_of = x.as_of;
	/* The report's columns, and the records in conflict before the
	 * last (complete). */
	r->cols = xcalloc((size_t)x.def->ncols + 1, sizeof(*r->cols));
	memcpy(r->cols, x.def->cols,
	       (size_t)(x.def->ncols - 1) * sizeof(*r->cols));
	r->cols[x.def->ncols - 1].key = "conflicts";
	r->cols[x.def->ncols - 1].label = N_("conflicts");
	r->cols[x.def->ncols] = x.def->cols[x.def->ncols - 1];
	table_init(&r->main, "rows", x.def->title, r->cols, x.def->ncols + 1);
	x.r = r;

	x.st = st;
	if (!st->ops->facts_begin) {
		gb_error(err, GB_EINTERNAL,
			 "reports: the store keeps no report facts");
		goto out;
	}
	/* One snapshot: the report's numbers agree with each other. */
	if (st->ops->facts_begin(st, &x.facts, err) < 0)
		goto out;
	if (world_load(st, x.facts, &x.w, err) < 0 || build(&x) < 0)
		goto out;
	*out = r;
	r = NULL;
	rc = 0;
out:
	if (x.facts)
		st->ops->facts_end(st, x.facts);
	world_free(&x.w);
	report_free(r);
	return rc;
}

const struct report_val *report_get(const struct report *r, const char *unit,
				    const char *key)
{
	int c;

	for (c = 0; c < r->main.ncols; c++)
		if (!strcmp(r->main.cols[c].key, key))
			break;
	if (c == r->main.ncols)
		return NULL;
	if (!strcmp(unit, "total"))
		return &r->total[c];
	for (size_t i = 0; i < r->main.nrows; i++) {
		const struct report_val *row =
		    &r->main.cells[i * (size_t)r->main.ncols];

		if (row[0].s && !strcmp(row[0].s, unit))
			return &row[c];
	}
	return NULL;
}

/* ---- writers ---- */

#define VAL_MAX 4096

/* The reason of an incomplete grid, as the text says it. */
static const char *reason_text(const char *reason)
{
	if (!strcmp(reason, "never_synced"))
		return _("never synced");
	if (!strcmp(reason, "not_synced_since_end"))
		return _("not synced since the period ended");
	return _("older versions unsent");
}

/* The completeness line: "1 of 32 grids complete (officer devices) as of
 * 2026-03-16 00:00; incomplete: S01-G2 (never synced), ...; nights not yet
 * ended, left out: 2". */
static int completeness_text(const struct report *r, struct gb_buf *b,
			     struct gb_err *err)
{
	char as_of[32];

	gb_time_format(r->as_of, as_of);
	if (r->synced_role
		? gb_buf_addf(b, err,
			      _("%d of %d grids complete (%s devices) as of "
				"%s"),
			      r->complete, r->grids, r->synced_role, as_of)
		: gb_buf_addf(b, err, _("%d of %d grids complete as of %s"),
			      r->complete, r->grids, as_of))
		return -1;
	for (size_t i = 0; i < r->nincomplete; i++)
		if (gb_buf_addf(b, err, "%s%s (%s)",
				i ? ", " : _("; incomplete: "),
				r->incomplete[i].code,
				reason_text(r->incomplete[i].reason)))
			return -1;
	if (!r->left_key || !r->left_out)
		return 0;
	if (!strcmp(r->left_key, "nights"))
		return gb_buf_addf(b, err,
				   _("; nights not yet ended, left out: %lld"),
				   (long long)r->left_out);
	if (!strcmp(r->left_key, "days"))
		return gb_buf_addf(b, err,
				   _("; days not yet ended, left out: %lld"),
				   (long long)r->left_out);
	return gb_buf_addf(b, err,
			   _("; ISO weeks not yet ended, left out: %lld"),
			   (long long)r->left_out);
}

/* A value as the table shows it: yes or no in the user's language. */
static const char *cell_text(const struct report_val *v, char *buf)
{
	if (v->type == RV_BOOL) {
		snprintf(buf, VAL_MAX, "%s", v->i ? _("yes") : _("no"));
		return buf;
	}
	return report_val_text(v, buf, VAL_MAX);
}

/* Writes rows (nrows of t, then extra when not NULL) as aligned columns
 * under the translated labels (table.h); numbers go right, text left, an
 * empty value shows as "-". */
static int write_aligned(const struct report_table *t,
			 const struct report_val *extra, struct gb_buf *b,
			 struct gb_err *err)
{
	int nc = t->ncols, rc;
	size_t nr = t->nrows + (extra ? 1 : 0);
	const char *labels[GB_TABLE_MAX_COLS];
	char *buf = xmalloc(VAL_MAX);
	struct gb_table tab;

	assert(nc <= GB_TABLE_MAX_COLS);
	gb_table_init(&tab, nc);
	tab.flags = GB_TABLE_NO_RULE;
	for (int c = 0; c < nc; c++) {
		labels[c] = t->cols[c].label;
		gb_table_column(&tab, c, 0, 1);
	}
	gb_table_header_tr(&tab, labels);
	for (size_t i = 0; i < nr; i++) {
		const struct report_val *row =
		    i < t->nrows ? &t->cells[i * (size_t)nc] : extra;

		gb_table_row(&tab);
		for (int c = 0; c < nc; c++) {
			const char *s = cell_text(&row[c], buf);

			gb_table_cell(&tab, c, s[0] ? s : "-");
			if (row[c].type == RV_TEXT)
				gb_table_column(&tab, c, 0, 0);
		}
	}
	rc = gb_table_write(&tab, b, err);
	gb_table_release(&tab);
	free(buf);
	return rc;
}

static void period_text(const struct report *r, char *from, char *to,
			char *as_of)
{
	gb_date_format(r->from, from);
	gb_date_format(r->to, to);
	gb_time_format(r->as_of, as_of);
}

int report_write_table(const struct report *r, struct gb_buf *out,
		       struct gb_err *err)
{
	char from[16], to[16], as_of[32], pf[16], pt[16];

	period_text(r, from, to, as_of);
	if (gb_buf_addf(out, err, "%s: %s\n", r->name, _(r->title)) ||
	    gb_buf_addf(out, err, _("period %s..%s, level %s, as of %s\n"),
			from, to, r->level, as_of))
		return -1;
	if (r->has_prev) {
		gb_date_format(r->prev_from, pf);
		gb_date_format(r->prev_to, pt);
		if (gb_buf_addf(out, err, _("previous period %s..%s\n"), pf,
				pt))
			return -1;
	}
	if (gb_buf_adds(out, "\n", err) ||
	    write_aligned(&r->main, r->total, out, err))
		return -1;
	for (int i = 0; i < r->ndetails; i++) {
		const struct report_table *t = &r->details[i];

		if (gb_buf_addf(out, err, "\n%s (%zu):\n", _(t->title),
				t->nrows))
			return -1;
		if (t->nrows && write_aligned(t, NULL, out, err))
			return -1;
	}
	if (gb_buf_adds(out, "\n", err) || completeness_text(r, out, err))
		return -1;
	return gb_buf_adds(out, "\n", err);
}

static int json_val(struct gb_buf *b, const struct report_val *v, char *buf,
		    struct gb_err *err)
{
	switch (v->type) {
	case RV_NULL:
		return gb_buf_adds(b, "null", err);
	case RV_TEXT:
		return gb_json_str(b, v->s ? v->s : "", err);
	case RV_BOOL:
		return gb_buf_adds(b, v->i ? "true" : "false", err);
	default:
		return gb_buf_adds(b, report_val_text(v, buf, VAL_MAX), err);
	}
}

/* Writes one row as an object of its columns. */
static int json_row(struct gb_buf *b, const struct report_table *t,
		    const struct report_val *row, char *buf, struct gb_err *err)
{
	if (gb_buf_adds(b, "{", err))
		return -1;
	for (int c = 0; c < t->ncols; c++)
		if ((c && gb_buf_adds(b, ",", err)) ||
		    gb_json_str(b, t->cols[c].key, err) ||
		    gb_buf_adds(b, ":", err) || json_val(b, &row[c], buf, err))
			return -1;
	return gb_buf_adds(b, "}", err);
}

static int json_rows(struct gb_buf *b, const struct report_table *t, char *buf,
		     struct gb_err *err)
{
	if (gb_buf_adds(b, "[", err))
		return -1;
	for (size_t i = 0; i < t->nrows; i++)
		if ((i && gb_buf_adds(b, ",\n", err)) ||
		    json_row(b, t, &t->cells[i * (size_t)t->ncols], buf, err))
			return -1;
	return gb_buf_adds(b, "]", err);
}

static int json_key(struct gb_buf *b, const char *key, const char *text,
		    struct gb_err *err)
{
	if (gb_buf_adds(b, ",\n", err) || gb_json_str(b, key, err) ||
	    gb_buf_adds(b, ":", err))
		return -1;
	return text ? gb_json_str(b, text, err) : 0;
}

int report_write_json(const struct report *r, struct gb_buf *out,
		      struct gb_err *err)
{
	char from[16], to[16], as_of[32], pf[16], pt[16];
	char *buf = xmalloc(VAL_MAX);
	struct gb_buf text;
	int rc = -1;

	gb_buf_init(&text, GB_BUF_NOLIMIT);
	period_text(r, from, to, as_of);
	if (gb_buf_adds(out, "{\"report\":", err) ||
	    gb_json_str(out, r->name, err) ||
	    json_key(out, "title", _(r->title), err) ||
	    json_key(out, "level", r->level, err) ||
	    json_key(out, "from", from, err) || json_key(out, "to", to, err) ||
	    json_key(out, "as_of", as_of, err))
		goto out;
	if (r->has_prev) {
		gb_date_format(r->prev_from, pf);
		gb_date_format(r->prev_to, pt);
		if (json_key(out, "previous", NULL, err) ||
		    gb_buf_adds(out, "{\"from\":", err) ||
		    gb_json_str(out, pf, err) ||
		    gb_buf_adds(out, ",\"to\":", err) ||
		    gb_json_str(out, pt, err) || gb_buf_adds(out, "}", err))
			goto out;
	}
	if (json_key(out, "columns", NULL, err) || gb_buf_adds(out, "[", err))
		goto out;
	for (int c = 0; c < r->main.ncols; c++)
		if ((c && gb_buf_adds(out, ",", err)) ||
		    gb_buf_adds(out, "{\"key\":", err) ||
		    gb_json_str(out, r->main.cols[c].key, err) ||
		    gb_buf_adds(out, ",\"label\":", err) ||
		    gb_json_str(out, _(r->main.cols[c].label), err) ||
		    gb_buf_adds(out, "}", err))
			goto out;
	if (gb_buf_adds(out, "]", err) || json_key(out, "rows", NULL, err) ||
	    json_rows(out, &r->main, buf, err) ||
	    json_key(out, "total", NULL, err) ||
	    json_row(out, &r->main, r->total, buf, err) ||
	    json_key(out, "details", NULL, err) || gb_buf_adds(out, "{", err))
		goto out;
	for (int i = 0; i < r->ndetails; i++)
		if ((i && gb_buf_adds(out, ",\n", err)) ||
		    gb_json_str(out, r->details[i].key, err) ||
		    gb_buf_adds(out, ":", err) ||
		    json_rows(out, &r->details[i], buf, err))
			goto out;
	if (gb_buf_adds(out, "}", err) ||
	    json_key(out, "completeness", NULL, err) ||
	    gb_buf_addf(out, err,
			"{\"grids\":%d,\"complete\":%d,"
			"\"incomplete\":[",
			r->grids, r->complete))
		goto out;
	for (size_t i = 0; i < r->nincomplete; i++)
		if ((i && gb_buf_adds(out, ",", err)) ||
		    gb_buf_adds(out, "{\"code\":", err) ||
		    gb_json_str(out, r->incomplete[i].code, err) ||
		    gb_buf_adds(out, ",\"name\":", err) ||
		    gb_json_str(out, r->incomplete[i].name, err) ||
		    gb_buf_adds(out, ",\"reason\":", err) ||
		    gb_json_str(out, r->incomplete[i].reason, err) ||
		    gb_buf_adds(out, "}", err))
			goto out;
	if (gb_buf_adds(out, "],\"left_out\":{", err) ||
	    (r->left_key &&
	     (gb_json_str(out, r->left_key, err) ||
	      gb_buf_addf(out, err, ":%lld", (long long)r->left_out))) ||
	    gb_buf_adds(out, "},\"text\":", err) ||
	    completeness_text(r, &text, err) ||
	    gb_json_str(out, gb_buf_str(&text), err) ||
	    gb_buf_addf(out, err, ",\"synced\":%d,\"role\":", r->synced) ||
	    gb_json_str(out, r->synced_role, err) ||
	    gb_buf_adds(out, ",\"not_synced\":[", err))
		goto out;
	for (size_t i = 0; i < r->nnot_synced; i++)
		if ((i && gb_buf_adds(out, ",", err)) ||
		    gb_json_str(out, r->not_synced[i], err))
			goto out;
	if (gb_buf_adds(out, "]}}\n", err))
		goto out;
	rc = 0;
out:
	gb_buf_release(&text);
	free(buf);
	return rc;
}

static int csv_row(struct gb_buf *b, const struct report_val *row, int nc,
		   char *buf, struct gb_err *err)
{
	for (int c = 0; c < nc; c++)
		if ((c && gb_buf_adds(b, ",", err)) ||
		    gb_csv_cell(b, report_val_text(&row[c], buf, VAL_MAX), err))
			return -1;
	return gb_buf_adds(b, "\n", err);
}

/* Writes the header of a table (its column keys), after lead when lead is
 * not NULL. */
static int csv_header(struct gb_buf *b, const char *lead,
		      const struct report_table *t, struct gb_err *err)
{
	if (lead && (gb_csv_field(b, lead, err) || gb_buf_adds(b, ",", err)))
		return -1;
	for (int c = 0; c < t->ncols; c++)
		if ((c && gb_buf_adds(b, ",", err)) ||
		    gb_csv_field(b, t->cols[c].key, err))
			return -1;
	return gb_buf_adds(b, "\n", err);
}

/* Writes the rows of t, each after an empty field when lead is set. */
static int csv_rows(struct gb_buf *b, int lead, const struct report_table *t,
		    char *buf, struct gb_err *err)
{
	for (size_t i = 0; i < t->nrows; i++)
		if ((lead && gb_buf_adds(b, ",", err)) ||
		    csv_row(b, &t->cells[i * (size_t)t->ncols], t->ncols, buf,
			    err))
			return -1;
	return 0;
}

static const struct report_col incomplete_cols[] = {
    {"grid", N_("grid")},
    {"name", N_("name")},
    {"reason", N_("reason")},
};

/* The incomplete grids as a table like the drill-down lists (the caller
 * releases it). */
static void incomplete_table(const struct report *r, struct report_table *t)
{
	table_init(t, "incomplete", N_("incomplete grids"), incomplete_cols,
		   NCOLS(incomplete_cols));
	for (size_t i = 0; i < r->nincomplete; i++) {
		struct report_val *row = table_add(t);

		v_text(&row[0], r->incomplete[i].code);
		v_text(&row[1], r->incomplete[i].name);
		v_text(&row[2], r->incomplete[i].reason);
	}
}

int report_write_csv(const struct report *r, struct gb_buf *out,
		     struct gb_err *err)
{
	const struct report_table *t = &r->main;
	char *buf = xmalloc(VAL_MAX);
	struct report_table inc;
	struct gb_buf text;
	char key[32];
	int rc = -1;

	gb_buf_init(&text, GB_BUF_NOLIMIT);
	incomplete_table(r, &inc);
	if (csv_header(out, NULL, t, err) || csv_rows(out, 0, t, buf, err) ||
	    csv_row(out, r->total, t->ncols, buf, err))
		goto out;
	/* The completeness, a section of one row. */
	snprintf(key, sizeof(key), "%s_left_out",
		 r->left_key ? r->left_key : "");
	if (completeness_text(r, &text, err) ||
	    gb_buf_adds(out, "\ncompleteness,grids,complete,", err) ||
	    (r->left_key &&
	     (gb_csv_field(out, key, err) || gb_buf_adds(out, ",", err))) ||
	    gb_buf_addf(out, err, "text\n,%d,%d,", r->grids, r->complete) ||
	    (r->left_key &&
	     gb_buf_addf(out, err, "%lld,", (long long)r->left_out)) ||
	    gb_csv_field(out, gb_buf_str(&text), err) ||
	    gb_buf_adds(out, "\n\n", err) ||
	    csv_header(out, inc.key, &inc, err) ||
	    csv_rows(out, 1, &inc, buf, err))
		goto out;
	for (int i = 0; i < r->ndetails; i++)
		if (gb_buf_adds(out, "\n", err) ||
		    csv_header(out, r->details[i].key, &r->details[i], err) ||
		    csv_rows(out, 1, &r->details[i], buf, err))
			goto out;
	rc = 0;
out:
	table_release(&inc);
	gb_buf_release(&text);
	free(buf);
	return rc;
}

int report_write_list_csv(const struct report *r, const char *list,
			  struct gb_buf *out, struct gb_err *err)
{
	const struct report_table *t = NULL;
	struct report_table inc;
	struct gb_buf names;
	char *buf = NULL;
	int rc = -1;

	incomplete_table(r, &inc);
	gb_buf_init(&names, GB_BUF_NOLIMIT);
	for (int i = 0; i < r->ndetails; i++)
		if (list && !strcmp(list, r->details[i].key))
			t = &r->details[i];
	if (list && !strcmp(list, inc.key))
		t = &inc;
	if (!t) {
		for (int i = 0; i < r->ndetails; i++)
			gb_buf_addf(&names, NULL, "%s, ", r->details[i].key);
		gb_buf_adds(&names, inc.key, NULL);
		gb_error(err, GB_EUSAGE,
			 _("list: \"%s\" is not one of the lists of %s (%s)"),
			 list ? list : "", r->name, gb_buf_str(&names));
		goto out;
	}
	buf = xmalloc(VAL_MAX);
	if (csv_header(out, NULL, t, err) || csv_rows(out, 0, t, buf, err))
		goto out;
	rc = 0;
out:
	free(buf);
	gb_buf_release(&names);
	table_release(&inc);
	return rc;
}

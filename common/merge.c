/*
 * The merge of a record's versions (merge.h).  The versions are put in
 * merge order once; a version's ancestors are a bit set over that order,
 * the union of its bases and their ancestors.  Walking the versions in
 * order, the value a version saw for a field is that of its newest
 * ancestor that changed the field, so whether it changed the field is
 * known before any later version needs it.  The newest version that
 * changed a field can never be another's ancestor, so it is always a
 * head: it gives the value, and the other heads only say whether there
 * is a conflict.  The cost is O(n^2) in the versions of one record, which
 * are few; GB_MERGE_MAX_VERSIONS bounds the worst case.
 */
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "merge.h"
#include "xalloc.h"

#include "banned.h"

#define NF (GB_MERGE_VOID + 1) /* the kind's fields and the void */

struct mstate {
	const struct gb_version *v;
	size_t n, words;
	size_t *order;	   /* rank -> index into v */
	uint64_t *anc;	   /* n bit sets of words words, by rank */
	unsigned char *ch; /* n * NF: changed[rank][field] */
	uint64_t *cover;   /* scratch bit set */
};

static const struct gb_record *rec_at(const struct mstate *m, size_t r)
{
	return m->v[m->order[r]].rec;
}

static uint64_t *anc_of(const struct mstate *m, size_t r)
{
	return m->anc + r * m->words;
}

static int bit(const uint64_t *set, size_t r)
{
	return (int)((set[r / 64] >> (r % 64)) & 1);
}

static void bit_set(uint64_t *set, size_t r)
{
	set[r / 64] |= (uint64_t)1 << (r % 64);
}

int gb_version_before(const struct gb_record *a, const struct gb_record *b)
{
	if (a->version != b->version)
		return a->version < b->version;
	return strcmp(a->device, b->device) < 0;
}

/* What qsort orders: C11's qsort passes no context, so each entry
 * carries its record. */
struct sort_ent {
	const struct gb_record *rec;
	size_t idx;
};

static int cmp_ent(const void *pa, const void *pb)
{
	const struct gb_record *a = ((const struct sort_ent *)pa)->rec;
	const struct gb_record *b = ((const struct sort_ent *)pb)->rec;

	if (gb_version_before(a, b))
		return -1;
	if (gb_version_before(b, a))
		return 1;
	return 0;
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Whether two versions hold the same value for field f (the void: the
 * same voided flag and, when voided, the same reason). */
static int same_value(const struct gb_record *a, const struct gb_record *b,
		      int f)
{
	if (f < GB_MERGE_VOID)
		return str_eq(a ? a->val[f] : NULL, b ? b->val[f] : NULL);
	if (!a || !b) {
		const struct gb_record *x = a ? a : b;

		return !x || !x->voided;
	}
	if (!!a->voided != !!b->voided)
		return 0;
	return !a->voided || str_eq(a->void_reason, b->void_reason);
}

/*
 * The heads for field f among the versions of set (NULL: all of them)
 * that changed f, newest first, into heads (n places); returns how many.
 */
static size_t field_heads(struct mstate *m, const uint64_t *set, int f,
			  size_t *heads)
{
	size_t nh = 0;

	memset(m->cover, 0, m->words * sizeof(uint64_t));
	for (size_t r = m->n; r-- > 0;) {
		if ((set && !bit(set, r)) || !m->ch[r * NF + (size_t)f])
			continue;
		if (!bit(m->cover, r))
			heads[nh++] = r;
		const uint64_t *a = anc_of(m, r);

		for (size_t w = 0; w < m->words; w++)
			m->cover[w] |= a[w];
	}
	return nh;
}

/*
 * The rank whose value field f has over set (NULL: all versions), or -1
 * when no version of the set changed it (the field is empty, not voided).
 * For the void, a voided head wins over newer heads that are not voided.
 */
static long field_winner(struct mstate *m, const uint64_t *set, int f,
			 size_t *scratch)
{
	if (f < GB_MERGE_VOID) {
		for (size_t r = m->n; r-- > 0;)
			if ((!set || bit(set, r)) && m->ch[r * NF + (size_t)f])
				return (long)r;
		return -1;
	}
	size_t nh = field_heads(m, set, f, scratch);

	for (size_t i = 0; i < nh; i++)
		if (rec_at(m, scratch[i])->voided)
			return (long)scratch[i];
	return nh ? (long)scratch[0] : -1;
}

/* Ranks whose version is ver, among those below limit: [*lo, *hi). */
static void ranks_of(const struct mstate *m, uint64_t ver, size_t limit,
		     size_t *lo, size_t *hi)
{
	size_t a = 0, b = limit;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (rec_at(m, mid)->version < ver)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < limit && rec_at(m, a)->version == ver)
		a++;
	*hi = a;
}

static void build_ancestors(struct mstate *m)
{
	for (size_t r = 0; r < m->n; r++) {
		const struct gb_version *gv = &m->v[m->order[r]];
		uint64_t *a = anc_of(m, r);

		int all_lower = !gv->base_known;

		/* Only lower versions can be bases, so the graph has no
		 * cycle whatever a device sends.  A base that is not held
		 * (not lower, refused, not yet arrived) says too little:
		 * such a version is taken to have seen every lower one, as
		 * an older client's is, until its bases arrive. */
		for (size_t b = 0; b < gv->nbase && !all_lower; b++) {
			size_t lo, hi;

			ranks_of(m, gv->base[b], r, &lo, &hi);
			all_lower = lo == hi || b >= GB_MERGE_MAX_BASE;
		}
		if (all_lower) {
			for (size_t q = 0; q < r; q++)
				bit_set(a, q);
			continue;
		}
		for (size_t b = 0; b < gv->nbase; b++) {
			size_t lo, hi;

			ranks_of(m, gv->base[b], r, &lo, &hi);
			for (size_t q = lo; q < hi; q++) {
				const uint64_t *qa = anc_of(m, q);

				for (size_t w = 0; w < m->words; w++)
					a[w] |= qa[w];
				bit_set(a, q);
			}
		}
	}
}

static void mark_changes(struct mstate *m, int nfields, size_t *scratch)
{
	for (size_t r = 0; r < m->n; r++) {
		const struct gb_version *gv = &m->v[m->order[r]];
		const uint64_t *a = anc_of(m, r);

		for (int f = 0; f < NF; f++) {
			if (f >= nfields && f < GB_MERGE_VOID)
				continue;
			long w = field_winner(m, a, f, scratch);
			const struct gb_record *saw =
			    w < 0 ? NULL : rec_at(m, (size_t)w);

			m->ch[r * NF + (size_t)f] =
			    !same_value(saw, gv->rec, f) ||
			    ((gv->resolves >> f) & 1);
		}
	}
}

static void add_conflict(struct gb_merge *out, size_t *cap, int f, size_t kept,
			 size_t lost)
{
	if (out->nconf == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		out->conf = xrealloc(out->conf, *cap * sizeof(*out->conf));
	}
	out->conf[out->nconf].field = f;
	out->conf[out->nconf].kept = kept;
	out->conf[out->nconf].lost = lost;
	out->nconf++;
}

/* Whether neither of ranks a and b saw the other. */
static int concurrent(const struct mstate *m, size_t a, size_t b)
{
	return a != b && !bit(anc_of(m, a), b) && !bit(anc_of(m, b), a);
}

static void merge_result(struct mstate *m, int nfields, size_t *scratch,
			 struct gb_merge *out)
{
	size_t cap = 0;
	struct gb_record *rec = gb_record_dup(rec_at(m, m->n - 1));

	rec->created_at = rec_at(m, 0)->created_at;
	for (int f = 0; f < NF; f++) {
		if (f >= nfields && f < GB_MERGE_VOID)
			continue;
		long w = field_winner(m, NULL, f, scratch);
		const struct gb_record *win =
		    w < 0 ? NULL : rec_at(m, (size_t)w);

		if (f < GB_MERGE_VOID) {
			gb_record_set(rec, f, win ? win->val[f] : NULL);
		} else {
			rec->voided = win && win->voided;
			gb_record_set_void_reason(
			    rec, rec->voided ? win->void_reason : NULL);
		}
		size_t nh = field_heads(m, NULL, f, scratch);

		for (size_t i = 0; i < nh; i++)
			if ((long)scratch[i] != w &&
			    !same_value(win, rec_at(m, scratch[i]), f))
				add_conflict(out, &cap, f, m->order[w],
					     m->order[scratch[i]]);
		if (f != GB_MERGE_VOID || !rec->voided)
			continue;
		/* The void stands; an edit it did not see, or that did
		 * not see it, is a conflict of its own. */
		for (size_t e = 0; e < m->n; e++) {
			int edits = 0;

			for (int g = 0; g < nfields && !edits; g++)
				edits = m->ch[e * NF + (size_t)g];
			if (edits && concurrent(m, (size_t)w, e) &&
			    !rec_at(m, e)->voided)
				add_conflict(out, &cap, f, m->order[w],
					     m->order[e]);
		}
	}
	out->rec = rec;
	/* The heads of the whole record: versions nobody saw. */
	memset(m->cover, 0, m->words * sizeof(uint64_t));
	out->heads = xcalloc(m->n, sizeof(size_t));
	for (size_t r = m->n; r-- > 0;) {
		if (!bit(m->cover, r))
			out->heads[out->nheads++] = r;
		const uint64_t *a = anc_of(m, r);

		for (size_t w = 0; w < m->words; w++)
			m->cover[w] |= a[w];
	}
	/* Newest first above; HLC order for the caller. */
	for (size_t i = 0; i < out->nheads / 2; i++) {
		size_t t = out->heads[i];

		out->heads[i] = out->heads[out->nheads - 1 - i];
		out->heads[out->nheads - 1 - i] = t;
	}
	for (size_t i = 0; i < out->nheads; i++)
		out->heads[i] = m->order[out->heads[i]];
}

int gb_merge(const struct gb_version *v, size_t n, struct gb_merge *out,
	     struct gb_err *err)
{
	struct mstate m = {.v = v, .n = n};
	struct sort_ent *ents = NULL;
	size_t *scratch = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > GB_MERGE_MAX_VERSIONS)
		return gb_error(err, GB_EUSAGE,
				_("a record's versions to merge (%zu) must be "
				  "1 to %d"),
				n, GB_MERGE_MAX_VERSIONS);
	m.words = (n + 63) / 64;
	ents = xcalloc(n, sizeof(*ents));
	for (size_t i = 0; i < n; i++) {
		ents[i].rec = v[i].rec;
		ents[i].idx = i;
	}
	qsort(ents, n, sizeof(*ents), cmp_ent);
	m.order = xcalloc(n, sizeof(size_t));
	for (size_t r = 0; r < n; r++)
		m.order[r] = ents[r].idx;
	for (size_t r = 1; r < n; r++)
		if (cmp_ent(&ents[r - 1], &ents[r]) == 0) {
			gb_error(err, GB_EUSAGE,
				 _("version %llu of record %s is given twice"),
				 (unsigned long long)rec_at(&m, r)->version,
				 rec_at(&m, r)->id);
			goto out;
		}
	m.anc = xcalloc(n * m.words, sizeof(uint64_t));
	m.ch = xcalloc(n * NF, 1);
	m.cover = xcalloc(m.words, sizeof(uint64_t));
	scratch = xcalloc(n, sizeof(size_t));
	build_ancestors(&m);
	mark_changes(&m, v[0].rec->kind->nfields, scratch);
	merge_result(&m, v[0].rec->kind->nfields, scratch, out);
	rc = 0;
out:
	free(scratch);
	free(m.cover);
	free(m.ch);
	free(m.anc);
	free(m.order);
	free(ents);
	return rc;
}

void gb_merge_release(struct gb_merge *m)
{
	gb_record_free(m->rec);
	free(m->conf);
	free(m->heads);
	memset(m, 0, sizeof(*m));
}

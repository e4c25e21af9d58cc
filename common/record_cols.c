/*
 * The derived columns of a version (record_cols.h).  One function for
 * both ends: a version's day is what lists on the laptop and reports at
 * HQ count it under, so the two must never read a time differently.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gbtime.h"
#include "record_cols.h"

#include "banned.h"

void gb_colmap_init(struct gb_colmap *m, const struct gb_kind *k)
{
	m->date = gb_kind_field(k, k->date_field);
	m->community = gb_kind_field(k, k->community_field);
	m->staff = gb_kind_field(k, k->staff_field);
	m->status = gb_kind_field(k, k->status_field);
	m->title = gb_kind_field(k, k->title_field);
}

/* The value of field i of r, NULL for none or i < 0. */
static const char *field(const struct gb_record *r, int i)
{
	return i >= 0 ? r->val[i] : NULL;
}

void gb_record_cols(const struct gb_record *r, const struct gb_colmap *m,
		    struct gb_record_cols *c)
{
	const struct gb_kind *k = r->kind;
	struct gb_colmap own;
	const char *v;

	if (!m) {
		gb_colmap_init(&own, k);
		m = &own;
	}
	memset(c, 0, sizeof(*c));
	v = field(r, m->date);
	if (v && k->fields[m->date].type == GB_T_TIME) {
		char *end;
		long long ms;

		errno = 0;
		ms = strtoll(v, &end, 10);
		if (!errno && end != v && !*end) {
			gb_date_format(gb_local_day(ms), c->daybuf);
			c->day = c->daybuf;
		}
	} else if (v) {
		c->day = v;
	}
	c->community = field(r, m->community);
	c->person = field(r, m->staff);
	c->status = field(r, m->status);
	c->title = field(r, m->title);
}

/*
 * Whole-record validation (SPEC §2).  A record reaches here from the command
 * line, from a CSV import, or from another device through the server, so
 * none of its values is trusted: each is checked again with the rules of
 * its type (field.c, but strictly: a value from the wire must already be in
 * canonical form), then against the clock, then against the grid's
 * reference data and records through the caller's lookup, and last come
 * the rules that tie several fields together, which each kind's entry
 * lists as data (kinds.h, struct gb_rule).  The first broken rule is
 * reported, in field order, so a record gets the same message on the
 * device and on the server.  Defaults live here too, since the request
 * deadline is a rule about other fields.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "uscc.h"
#include "utf8.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

#define HOUR_MS INT64_C(3600000)
/* A minute of clock skew between devices is not "the future". */
#define SKEW_MS INT64_C(60000)
/* Nothing gridbook records is older than 2000 or over two years ahead. */
#define EPOCH_2000 10957
#define HORIZON_MS (731 * GB_MS_PER_DAY)
#define SHOW_LEN 64
#define ATTR_LEN 64
/* A record's own times may lie this far ahead of HQ's clock (SPEC §4). */
#define AHEAD_MS (24 * HOUR_MS)

/* Quotes s for a message (SHOW_LEN bytes of out). */
static void show(const char *s, char *out)
{
	gb_utf8_excerpt(s, out, SHOW_LEN);
}

/* Parses a canonical TIME or INT: an optional '-' and decimal digits.
 * Returns 0, or -1 when s is anything else or out of range (what strtoll
 * would refuse with ERANGE): one pass, as every TIME of every version
 * comes through here. */
static int parse_num(const char *s, int64_t *out)
{
	const char *p = s + (*s == '-');
	uint64_t lim =
	    *s == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;

	if (!*p)
		return -1;
	for (; *p; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';

		if (d > 9 || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*s != '-')
		*out = (int64_t)v;
	else if (v > (uint64_t)INT64_MAX)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return 0;
}

/* A value by name, with "" taken as empty.  Borrowed. */
static const char *get(const struct gb_record *r, const char *name)
{
	const char *v = gb_record_get(r, name);

	return v && *v ? v : NULL;
}

/* A TIME field as ms; 0 when set and well formed. */
static int get_ms(const struct gb_record *r, const char *name, int64_t *ms)
{
	const char *v = get(r, name);

	return v ? parse_num(v, ms) : -1;
}

/* A DATE field as a day number; 0 when set and well formed. */
static int get_day(const struct gb_record *r, const char *name, int32_t *day)
{
	const char *v = get(r, name);

	return v ? gb_date_parse(v, day, NULL) : -1;
}

/* Local readable text of an instant, for messages (at least 32 bytes). */
static void when(int64_t ms, char *out)
{
	gb_time_format(ms, out);
}

/*
 * The checks of the value's type, strictly: what gb_field_parse would
 * refuse is refused with its message, and a value it would only accept by
 * rewriting is refused too where the spelling matters (enum codes, dates,
 * times, credit codes).  *canon receives the parsed form (caller frees),
 * which LIST lookups walk.
 */
static int check_type(const struct gb_field *f, const char *v, char **canon,
		      struct gb_err *err)
{
	char shown[SHOW_LEN], list[160];
	size_t used = 0;
	int64_t ms;

	*canon = NULL;
	switch (f->type) {
	case GB_T_ENUM:
		if (gb_choice_index(f->choices, v) >= 0) {
			*canon = xstrdup(v);
			return 0;
		}
		list[0] = '\0';
		for (int i = 0; f->choices && f->choices[i]; i++) {
			int w = snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ", " : "", f->choices[i]);

			if (w < 0 || (size_t)w >= sizeof(list) - used)
				break;
			used += (size_t)w;
		}
		show(v, shown);
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is not one of %s"), f->name,
				shown, list);
	case GB_T_TIME:
		if (parse_num(v, &ms) == 0) {
			*canon = xstrdup(v);
			return 0;
		}
		show(v, shown);
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is not a time (milliseconds "
				  "since 1970)"),
				f->name, shown);
	case GB_T_USCC:
		if (gb_uscc_check(v, err) < 0) {
			if (err)
				err->code = GB_EINVAL;
			return gb_error_prefix(err, "%s", f->name);
		}
		*canon = xstrdup(v);
		return 0;
	default:
		break;
	}
	if (gb_field_parse(f, v, canon, err) < 0)
		return -1;
	if (f->type == GB_T_DATE && *canon && strcmp(*canon, v) != 0) {
		free(*canon);
		*canon = NULL;
		show(v, shown);
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is not a date (YYYY-MM-DD)"),
				f->name, shown);
	}
	return 0;
}

/* The bounds of a record's DATE and TIME values against one clock
 * reading, each worked out (in the zone, gbtime.h) when a field first
 * needs it: a record has several such fields. */
struct bounds {
	int64_t now_ms;
	unsigned have;	     /* which of the below are worked out */
	int64_t start_2000;  /* 2000-01-01 00:00 local, ms */
	int32_t horizon_day; /* the local day two years from now */
	int32_t today;
};

#define HAVE_START 1u
#define HAVE_HORIZON 2u
#define HAVE_TODAY 4u

static void bounds_init(struct bounds *b, int64_t now_ms)
{
	b->now_ms = now_ms;
	b->have = 0;
	b->start_2000 = 0;
	b->horizon_day = b->today = 0;
}

static int64_t start_2000(struct bounds *b)
{
	if (!(b->have & HAVE_START)) {
		b->start_2000 = gb_day_start(EPOCH_2000);
		b->have |= HAVE_START;
	}
	return b->start_2000;
}

static int32_t horizon_day(struct bounds *b)
{
	if (!(b->have & HAVE_HORIZON)) {
		b->horizon_day = gb_local_day(b->now_ms + HORIZON_MS);
		b->have |= HAVE_HORIZON;
	}
	return b->horizon_day;
}

static int32_t today(struct bounds *b)
{
	if (!(b->have & HAVE_TODAY)) {
		b->today = gb_local_day(b->now_ms);
		b->have |= HAVE_TODAY;
	}
	return b->today;
}

/*
 * DATE and TIME values lie between 2000-01-01 and two years from now; those
 * of things that happened (GB_F_PAST) not after now (a minute of skew
 * allowed) or, for dates, not after today.
 */
static int check_when(const struct gb_field *f, const char *v,
		      struct bounds *bd, struct gb_err *err)
{
	int64_t now_ms = bd->now_ms;
	char text[32];
	int32_t day;
	int64_t ms;

	if (f->type == GB_T_DATE) {
		if (gb_date_parse(v, &day, NULL) < 0)
			return 0;
		if (day < EPOCH_2000)
			return gb_error(err, GB_EINVAL,
					_("%s: %s is before 2000-01-01"),
					f->name, v);
		if (day > horizon_day(bd))
			return gb_error(err, GB_EINVAL,
					_("%s: %s is more than two years "
					  "ahead"),
					f->name, v);
		if ((f->flags & GB_F_PAST) && day > today(bd))
			return gb_error(err, GB_EINVAL,
					_("%s: %s is in the future"), f->name,
					v);
		return 0;
	}
	if (parse_num(v, &ms) < 0)
		return 0;
	if (ms < start_2000(bd)) {
		when(ms, text);
		return gb_error(err, GB_EINVAL,
				_("%s: %s is before 2000-01-01"), f->name,
				text);
	}
	if (ms > now_ms + HORIZON_MS) {
		when(ms, text);
		return gb_error(err, GB_EINVAL,
				_("%s: %s is more than two years ahead"),
				f->name, text);
	}
	if ((f->flags & GB_F_PAST) && ms > now_ms + SKEW_MS) {
		when(ms, text);
		return gb_error(err, GB_EINVAL, _("%s: %s is in the future"),
				f->name, text);
	}
	return 0;
}

static int not_found(const struct gb_field *f, const char *key,
		     struct gb_err *err)
{
	char shown[SHOW_LEN];

	show(key, shown);
	switch (f->ref) {
	case GB_REF_COMMUNITY:
		return gb_error(err, GB_EINVAL,
				_("%s: no community \"%s\" in this grid"),
				f->name, shown);
	case GB_REF_AREA:
		return gb_error(err, GB_EINVAL,
				_("%s: no police area \"%s\" in this grid"),
				f->name, shown);
	case GB_REF_STAFF:
		return gb_error(err, GB_EINVAL,
				_("%s: no staff member \"%s\" in this grid"),
				f->name, shown);
	case GB_REF_ENTERPRISE:
		return gb_error(err, GB_EINVAL,
				_("%s: no enterprise record \"%s\""), f->name,
				shown);
	case GB_REF_CHECK:
		return gb_error(err, GB_EINVAL,
				_("%s: no contract check record \"%s\""),
				f->name, shown);
	default:
		return gb_error(err, GB_EINTERNAL, "%s: no reference type",
				f->name);
	}
}

/* Checks that key exists, and for staff fields that the person holds the
 * role the field asks for. */
static int check_ref(const struct gb_field *f, const char *key,
		     const struct gb_lookup *lk, struct gb_err *err)
{
	unsigned roles = f->flags & (GB_F_OFFICER | GB_F_GUARD | GB_F_COORD);
	char role[ATTR_LEN] = "", shown[SHOW_LEN];
	const char *attr = NULL;
	int found, ok;

	if (f->ref == GB_REF_STAFF && roles)
		attr = "role";
	found = lk->find(lk->arg, f->ref, key, attr, role, sizeof(role), err);
	if (found < 0)
		return -1;
	if (!found)
		return not_found(f, key, err);
	if (!attr)
		return 0;
	role[sizeof(role) - 1] = '\0';
	show(key, shown);
	if (roles & GB_F_OFFICER) {
		ok = strcmp(role, "officer") == 0 || strcmp(role, "chief") == 0;
		if (!ok)
			return gb_error(err, GB_EINVAL,
					_("%s: %s has the role \"%s\", not "
					  "officer or chief"),
					f->name, shown, role);
	} else if (roles & GB_F_GUARD) {
		if (strcmp(role, "guard") != 0)
			return gb_error(err, GB_EINVAL,
					_("%s: %s has the role \"%s\", not "
					  "guard"),
					f->name, shown, role);
	} else if (strcmp(role, "coordinator") != 0) {
		return gb_error(err, GB_EINVAL,
				_("%s: %s has the role \"%s\", not "
				  "coordinator"),
				f->name, shown, role);
	}
	return 0;
}

/* Looks up every element of a canonical LIST value in turn. */
static int check_list_refs(const struct gb_field *f, const char *canon,
			   const struct gb_lookup *lk, struct gb_err *err)
{
	char *copy = xstrdup(canon), *p = copy;
	int rc = 0;

	while (p && rc == 0) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p)
			rc = check_ref(f, p, lk, err);
		p = comma ? comma + 1 : NULL;
	}
	free(copy);
	return rc;
}

/*
 * The code point of the first invisible or direction control in s, or 0:
 * zero-width spaces and joiners, bidi embeddings, overrides and isolates,
 * the Arabic letter mark and the byte order mark.  In a name they make
 * two different names look the same, or a name read backwards.  s is
 * valid UTF-8.
 */
static unsigned invisible_at(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned cp;

		if (p[0] == 0xd8 && p[1] == 0x9c)
			return 0x061c;
		if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
			return 0xfeff;
		if (p[0] != 0xe2 || !p[1] || !p[2])
			continue;
		cp = 0x2000u | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
		if ((cp >= 0x200b && cp <= 0x200f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2060 && cp <= 0x2064) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return cp;
	}
	return 0;
}

/* Refuses an invisible or direction control in one-line text (names,
 * addresses, subjects); notes may quote anything printable. */
static int check_invisible(const struct gb_field *f, const char *v,
			   struct gb_err *err)
{
	char shown[SHOW_LEN];
	unsigned cp;

	if (f->type != GB_T_TEXT || (f->flags & GB_F_LONG))
		return 0;
	cp = invisible_at(v);
	if (!cp)
		return 0;
	show(v, shown);
	return gb_error(err, GB_EINVAL,
			_("%s: \"%s\" contains the invisible or direction "
			  "control U+%04X"),
			f->name, shown, cp);
}

/* Every rule that concerns field i alone, in the order required, type,
 * dates, references. */
static int check_field(const struct gb_record *r, int i,
		       const struct gb_lookup *lk, struct bounds *bd,
		       struct gb_err *err)
{
	const struct gb_field *f = &r->kind->fields[i];
	const char *v = r->val[i];
	char *canon = NULL;
	int rc = -1;

	if ((!v || !*v) && !(f->flags & GB_F_REQUIRED))
		return 0;
	if (v && *v && check_type(f, v, &canon, err) < 0)
		goto out;
	if (canon && check_invisible(f, canon, err) < 0)
		goto out;
	if (!canon) {
		if (!(f->flags & GB_F_REQUIRED)) {
			rc = 0;
			goto out;
		}
		gb_error(err, GB_EINVAL, _("%s: required (%s)"), f->name,
			 _(f->label));
		goto out;
	}
	if ((f->type == GB_T_DATE || f->type == GB_T_TIME) &&
	    check_when(f, canon, bd, err) < 0)
		goto out;
	if (lk && lk->find && f->type == GB_T_REF &&
	    check_ref(f, canon, lk, err) < 0)
		goto out;
	if (lk && lk->find && f->type == GB_T_LIST &&
	    check_list_refs(f, canon, lk, err) < 0)
		goto out;
	rc = 0;
out:
	free(canon);
	return rc;
}

/* GB_RULE_FOLLOWS_UP: REF a names a check that asked for a follow-up,
 * and DATE b is not before its date. */
static int rule_follows_up(const struct gb_record *r, const struct gb_rule *u,
			   const struct gb_lookup *lk, struct gb_err *err)
{
	const char *check = get(r, u->a);
	char attr[ATTR_LEN] = "", shown[SHOW_LEN];
	int32_t day, checked;
	int found;

	if (!lk || !lk->find || !check)
		return 0;
	show(check, shown);
	found = lk->find(lk->arg, GB_REF_CHECK, check, "outcome", attr,
			 sizeof(attr), err);
	if (found < 0)
		return -1;
	attr[sizeof(attr) - 1] = '\0';
	if (!found)
		return gb_error(err, GB_EINVAL,
				_("%s: no contract check record \"%s\""), u->a,
				shown);
	if (strcmp(attr, "notice") != 0 && strcmp(attr, "rectify_order") != 0)
		return gb_error(err, GB_EINVAL,
				_("%s: check %s has the outcome \"%s\"; only "
				  "notice and rectify_order are followed up"),
				u->a, shown, attr);
	attr[0] = '\0';
	found = lk->find(lk->arg, GB_REF_CHECK, check, "check_date", attr,
			 sizeof(attr), err);
	if (found < 0)
		return -1;
	attr[sizeof(attr) - 1] = '\0';
	if (found && get_day(r, u->b, &day) == 0 &&
	    gb_date_parse(attr, &checked, NULL) == 0 && day < checked)
		return gb_error(err, GB_EINVAL,
				_("%s: %s is before the check's %s %s"), u->b,
				get(r, u->b), "check_date", attr);
	return 0;
}

/* The value of DATE or TIME field name of r as a number to compare (days
 * or ms), and in *idx the field's index for moment_text.  Returns 0, or
 * -1 when the field is empty or not a date. */
static int moment(const struct gb_record *r, const char *name, int64_t *at,
		  int *idx)
{
	int i = gb_kind_field(r->kind, name);
	const char *v;
	int32_t day;

	if (i < 0)
		return -1;
	v = r->val[i];
	if (!v || !*v)
		return -1;
	*idx = i;
	if (r->kind->fields[i].type == GB_T_TIME)
		return parse_num(v, at);
	if (gb_date_parse(v, &day, NULL) < 0)
		return -1;
	*at = day;
	return 0;
}

/* The text of a moment for a message (32 bytes): the date as typed, or
 * the local time.  Made only for a rule that is broken. */
static void moment_text(const struct gb_record *r, int idx, int64_t at,
			char *text)
{
	if (r->kind->fields[idx].type == GB_T_TIME)
		when(at, text);
	else
		snprintf(text, 32, "%s", r->val[idx]);
}

/* Whether ENUM field name of r holds choice is. */
static int holds(const struct gb_record *r, const char *name, const char *is)
{
	const char *v = get(r, name);

	return v && strcmp(v, is) == 0;
}

/* Whether code is one of the comma-separated list. */
static int in_list(const char *list, const char *code)
{
	size_t n = strlen(code);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, code, n) == 0 && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

/* The message of a rule that carries its own (translated), else fmt, which
 * has the same arguments: the compiler checks them against fmt. */
__attribute__((format_arg(2))) static const char *rule_msg(const char *msg,
							   const char *fmt)
{
	return msg ? _(msg) : fmt;
}

/* Checks one rule of r's kind; lk may be NULL (rules that need it hold).
 * Returns 0, or -1 with err. */
static int check_rule(const struct gb_record *r, const struct gb_rule *u,
		      const struct gb_lookup *lk, struct gb_err *err)
{
	const char *a, *b;
	char ta[32], tb[32], shown[SHOW_LEN];
	int64_t x, y;
	int ia, ib;

	switch (u->op) {
	case GB_RULE_AT_MOST:
		if (gb_record_int(r, u->a, &x) == 0 &&
		    gb_record_int(r, u->b, &y) == 0 && x > y)
			return gb_error(
			    err, GB_EINVAL,
			    _("%s (%" PRId64 ") exceeds %s (%" PRId64 ")"),
			    u->a, x, u->b, y);
		return 0;
	case GB_RULE_AFTER:
	case GB_RULE_NOT_BEFORE:
	case GB_RULE_WITHIN_DAY:
		if (moment(r, u->a, &x, &ia) < 0 ||
		    moment(r, u->b, &y, &ib) < 0)
			return 0;
		if (!(u->op == GB_RULE_AFTER && x <= y) &&
		    !(u->op == GB_RULE_NOT_BEFORE && x < y) &&
		    !(u->op == GB_RULE_WITHIN_DAY && x - y > 24 * HOUR_MS))
			return 0;
		moment_text(r, ia, x, ta);
		moment_text(r, ib, y, tb);
		if (u->op == GB_RULE_AFTER && x <= y)
			return gb_error(err, GB_EINVAL,
					_("%s: %s is not after %s %s"), u->a,
					ta, u->b, tb);
		if (u->op == GB_RULE_NOT_BEFORE && x < y)
			return gb_error(err, GB_EINVAL,
					_("%s: %s is before %s %s"), u->a, ta,
					u->b, tb);
		if (u->op == GB_RULE_WITHIN_DAY && x - y > 24 * HOUR_MS)
			return gb_error(err, GB_EINVAL,
					_("%s: %s is more than 24 hours after "
					  "%s %s"),
					u->a, ta, u->b, tb);
		return 0;
	case GB_RULE_FOLLOWS_UP:
		return rule_follows_up(r, u, lk, err);
	case GB_RULE_END:
		return 0;
	default:
		break;
	}
	/* The rules below compare values as they are. */
	a = get(r, u->a);
	b = a && u->b && (u->op == GB_RULE_DIFFERENT || u->op == GB_RULE_NOT_IN)
		? get(r, u->b)
		: NULL;
	switch (u->op) {
	case GB_RULE_REQUIRED_WHEN:
		if (!a && holds(r, u->b, u->is))
			return gb_error(err, GB_EINVAL,
					_("%s: required when %s is %s"), u->a,
					u->b, u->is);
		return 0;
	case GB_RULE_EMPTY_WHEN:
		if (a && holds(r, u->b, u->is))
			return gb_error(err, GB_EINVAL,
					_("%s: must be empty while %s is %s"),
					u->a, u->b, u->is);
		return 0;
	case GB_RULE_DIFFERENT:
		if (a && b && strcmp(a, b) == 0) {
			show(a, shown);
			return gb_error(err, GB_EINVAL,
					rule_msg(u->msg, "%s: %s is also %s"),
					u->a, shown, u->b);
		}
		return 0;
	case GB_RULE_NOT_IN:
		if (a && b && in_list(b, a)) {
			show(a, shown);
			return gb_error(
			    err, GB_EINVAL,
			    rule_msg(u->msg, "%s: %s is among them"), u->b,
			    shown);
		}
		return 0;
	default:
		break;
	}
	return 0;
}

/* Checks the rules of r's kind, in order; with refs_only, just those
 * that look other records up.  Returns 0, or -1 with err. */
static int check_rules(const struct gb_record *r, const struct gb_lookup *lk,
		       int refs_only, struct gb_err *err)
{
	const struct gb_rule *u = r->kind->rules;

	for (; u && u->op != GB_RULE_END; u++) {
		if (refs_only && u->op != GB_RULE_FOLLOWS_UP)
			continue;
		if (check_rule(r, u, lk, err) < 0)
			return -1;
	}
	return 0;
}

int gb_validate(const struct gb_record *r, const struct gb_lookup *lk,
		int64_t now_ms, struct gb_err *err)
{
	struct bounds bd;

	if (!r || !r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	bounds_init(&bd, now_ms);
	for (int i = 0; i < r->kind->nfields; i++)
		if (check_field(r, i, lk, &bd, err) < 0)
			return -1;
	return check_rules(r, lk, 0, err);
}

int gb_validate_refs(const struct gb_record *r, const struct gb_lookup *lk,
		     struct gb_err *err)
{
	if (!r || !r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (!lk || !lk->find)
		return 0;
	for (int i = 0; i < r->kind->nfields; i++) {
		const struct gb_field *f = &r->kind->fields[i];
		char *canon = NULL;
		int rc = 0;

		if ((f->type != GB_T_REF && f->type != GB_T_LIST) ||
		    !r->val[i] || !*r->val[i])
			continue;
		if (check_type(f, r->val[i], &canon, err) < 0)
			return -1;
		if (canon && f->type == GB_T_REF)
			rc = check_ref(f, canon, lk, err);
		else if (canon)
			rc = check_list_refs(f, canon, lk, err);
		free(canon);
		if (rc < 0)
			return -1;
	}
	if (r->staff[0]) {
		char shown[SHOW_LEN];
		int found = lk->find(lk->arg, GB_REF_STAFF, r->staff, NULL,
				     NULL, 0, err);

		if (found < 0)
			return -1;
		show(r->staff, shown);
		if (!found)
			return gb_error(err, GB_EINVAL,
					_("staff: the author \"%s\" is no "
					  "staff member of grid %s"),
					shown, r->grid);
	}
	return check_rules(r, lk, 1, err);
}

/* A record's own time (created_at, updated_at) between 2000-01-01
 * (start_2000, local midnight) and a day after now. */
static int check_own_time(const char *name, int64_t ms, int64_t start_2000,
			  int64_t now_ms, struct gb_err *err)
{
	char text[32];

	if (ms < start_2000) {
		if (ms < 0 || !gb_time_sane(ms))
			return gb_error(err, GB_EINVAL,
					_("%s: %" PRId64 " ms is before "
					  "2000-01-01"),
					name, ms);
		when(ms, text);
		return gb_error(err, GB_EINVAL,
				_("%s: %s is before 2000-01-01"), name, text);
	}
	if (ms > now_ms + AHEAD_MS) {
		if (!gb_time_sane(ms))
			return gb_error(err, GB_EINVAL,
					_("%s: %" PRId64 " ms is more than 24 "
					  "hours ahead of the server's clock"),
					name, ms);
		when(ms, text);
		return gb_error(err, GB_EINVAL,
				_("%s: %s is more than 24 hours ahead of the "
				  "server's clock"),
				name, text);
	}
	return 0;
}

/* 1 when s holds only letters, digits, '-' and '_' (or nothing). */
static int staff_code_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

int gb_validate_header(const struct gb_record *r, int64_t now_ms,
		       struct gb_err *err)
{
	char shown[SHOW_LEN];
	int64_t start_2000;

	if (!gb_uuid_valid(r->id) || r->id[14] != '7' ||
	    !strchr("89ab", r->id[19])) {
		show(r->id, shown);
		return gb_error(err, GB_EINVAL,
				_("id: \"%s\" is not a UUIDv7 (version 7, "
				  "variant 10)"),
				shown);
	}
	start_2000 = gb_day_start(EPOCH_2000);
	if (check_own_time("created_at", r->created_at, start_2000, now_ms,
			   err) < 0 ||
	    check_own_time("updated_at", r->updated_at, start_2000, now_ms,
			   err) < 0)
		return -1;
	if (!staff_code_ok(r->staff)) {
		show(r->staff, shown);
		return gb_error(err, GB_EINVAL,
				_("staff: \"%s\" is not a staff code (letters, "
				  "digits, '-' and '_')"),
				shown);
	}
	return r->void_reason ? gb_validate_void_reason(r->void_reason, err)
			      : 0;
}

int gb_validate_void_reason(const char *reason, struct gb_err *err)
{
	static const struct gb_field void_field = {"void_reason",
						   N_("void reason"),
						   GB_T_TEXT,
						   0,
						   GB_REF_NONE,
						   NULL,
						   NULL,
						   0,
						   0};
	char shown[SHOW_LEN], *canon = NULL;
	size_t chars = 0;
	int rc;

	/* The reason is text like any other: no control characters, no
	 * more than a name's length, so that the record stays small. */
	rc = gb_field_parse(&void_field, reason, &canon, err);
	free(canon);
	if (rc < 0)
		return -1;
	for (const char *p = reason; *p; p++)
		chars += (*p & 0xc0) != 0x80;
	if (chars > GB_VOID_REASON_MAX) {
		show(reason, shown);
		return gb_error(err, GB_EINVAL,
				_("void_reason: \"%s\" is longer than %d "
				  "characters"),
				shown, GB_VOID_REASON_MAX);
	}
	return check_invisible(&void_field, reason, err);
}

void gb_record_apply_defaults(struct gb_record *r, int64_t now_ms,
			      const char *me)
{
	const struct gb_kind *k = r->kind;
	char text[32];
	int64_t received, deadline;
	const char *priority;
	int i;

	for (i = 0; i < k->nfields; i++) {
		const char *d = k->fields[i].dflt;

		if (!d || (r->val[i] && *r->val[i]))
			continue;
		if (strcmp(d, "@today") == 0) {
			gb_date_format(gb_local_day(now_ms), text);
			gb_record_set(r, i, text);
		} else if (strcmp(d, "@now") == 0) {
			/* Whole seconds: the readable form (CSV, tables) shows
			 * no milliseconds, so an exported record imports back
			 * the same. */
			snprintf(text, sizeof(text), "%" PRId64,
				 now_ms - ((now_ms % 1000) + 1000) % 1000);
			gb_record_set(r, i, text);
		} else if (strcmp(d, "@me") == 0) {
			if (me && *me)
				gb_record_set(r, i, me);
		} else {
			gb_record_set(r, i, d);
		}
	}
	if (!k->deadline.field)
		return;
	i = gb_kind_field(k, k->deadline.field);
	priority = get(r, k->deadline.priority);
	if (i < 0 || (r->val[i] && *r->val[i]) || !priority ||
	    get_ms(r, k->deadline.received, &received) < 0)
		return;
	deadline = gb_request_deadline(received, priority);
	if (deadline < 0)
		return;
	snprintf(text, sizeof(text), "%" PRId64, deadline);
	gb_record_set(r, i, text);
}

int64_t gb_request_deadline(int64_t received_ms, const char *priority)
{
	if (!priority)
		return -1;
	if (strcmp(priority, "urgent") == 0)
		return received_ms + HOUR_MS;
	if (strcmp(priority, "normal") == 0)
		return received_ms + 24 * HOUR_MS;
	if (strcmp(priority, "low") == 0) {
		int32_t day = gb_local_day(received_ms);
		int wd = gb_weekday(day);

		/* A weekend request starts its five working days at the
		 * next Monday 00:00 (SPEC §3), not at the hour it came. */
		if (wd >= 6)
			return gb_add_working_days(gb_day_start(day + 8 - wd),
						   5);
		return gb_add_working_days(received_ms, 5);
	}
	return -1;
}

/* 1 when the deadline text of r is empty or one that the priority and
 * received time of r give by default (by the rule of today, or by the
 * earlier one that counted a weekend request's days from its hour). */
static int deadline_is_default(const struct gb_record *r)
{
	const struct gb_kind *k = r->kind;
	const char *dl = get(r, k->deadline.field),
		   *priority = get(r, k->deadline.priority);
	int64_t received, t;

	if (!dl || !*dl)
		return 1;
	if (get_ms(r, k->deadline.field, &t) < 0 ||
	    get_ms(r, k->deadline.received, &received) < 0)
		return 0;
	if (t == gb_request_deadline(received, priority))
		return 1;
	return priority && strcmp(priority, "low") == 0 &&
	       t == gb_add_working_days(received, 5);
}

void gb_request_deadline_follow(struct gb_record *r,
				const struct gb_record *old, int by_hand)
{
	const char *a, *b;
	int64_t received, deadline;
	char text[32];
	int i, changed = 0;

	const struct gb_kind *k = r->kind;

	if (by_hand || !old || !k->deadline.field || !deadline_is_default(old))
		return;
	for (i = 0; i < 2; i++) {
		const char *f = i ? k->deadline.priority : k->deadline.received;

		a = get(old, f);
		b = get(r, f);
		changed |= strcmp(a ? a : "", b ? b : "") != 0;
	}
	if (!changed)
		return;
	i = gb_kind_field(k, k->deadline.field);
	if (i < 0 || get_ms(r, k->deadline.received, &received) < 0)
		return;
	deadline = gb_request_deadline(received, get(r, k->deadline.priority));
	if (deadline < 0) {
		gb_record_set(r, i, NULL);
		return;
	}
	snprintf(text, sizeof(text), "%" PRId64, deadline);
	gb_record_set(r, i, text);
}

int gb_patrol_is_night(int64_t start_ms, int64_t end_ms)
{
	int32_t first, last;

	if (end_ms <= start_ms)
		return 0;
	/* Days are 16 hours long (06:00-22:00): anything longer meets a
	 * night, which also keeps the loop below to a few turns. */
	if (end_ms - start_ms > 16 * HOUR_MS)
		return 1;
	first = gb_local_day(start_ms) - 1;
	last = gb_local_day(end_ms - 1);
	for (int32_t d = first; d <= last; d++) {
		int64_t night = gb_day_start(d) + 22 * HOUR_MS;

		if (start_ms < night + 8 * HOUR_MS && end_ms > night)
			return 1;
	}
	return 0;
}

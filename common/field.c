/*
 * Field parsing: what a person types at a prompt, on the command line or in
 * a CSV cell becomes the canonical text of kinds.h, or a message that names
 * the field, the value and the rule.  Only what one value alone can decide
 * is checked here; validate.c runs these checks again on values that arrive
 * already canonical and adds the rules that need the clock, other fields or
 * the database.  Input is forgiving where people and spreadsheets differ
 * harmlessly (dates with slashes, thousands separators, enum prefixes,
 * Chinese list punctuation); output has one spelling only, so that stored
 * values compare equal whenever they mean the same thing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "gbtime.h"
#include "i18n.h"
#include "uscc.h"
#include "utf8.h"
#include "xalloc.h"

#include "banned.h"

#define TEXT_MAX_CHARS 200
#define LONG_MAX_BYTES 4000
#define LIST_MAX_BYTES 4000
/* Yuan amounts have at most this many digits before the point. */
#define MONEY_MAX_DIGITS 12
/* Room for a value quoted in a message: 60 bytes and "...". */
#define SHOW_LEN 64

/* Quotes s for a message (SHOW_LEN bytes of out). */
static void show(const char *s, char *out)
{
	gb_utf8_excerpt(s, out, SHOW_LEN);
}

/* The byte length of the white-space character at p, or 0: ASCII white
 * space, no-break space and the ideographic space of Chinese input. */
static size_t space_at(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	if (*u == ' ' || (*u >= '\t' && *u <= '\r'))
		return 1;
	if (u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	return 0;
}

/* The byte length of the white-space character that ends [b, e), or 0. */
static size_t space_before(const char *b, const char *e)
{
	size_t len = (size_t)(e - b);

	for (size_t k = 1; k <= 3 && k <= len; k++)
		if (space_at(e - k) == k)
			return k;
	return 0;
}

/* A copy of s without surrounding white space; caller frees. */
static char *trim_dup(const char *s)
{
	const char *b = s, *e;
	size_t k;

	for (k = space_at(b); k > 0; k = space_at(b))
		b += k;
	e = b + strlen(b);
	for (k = space_before(b, e); k > 0; k = space_before(b, e))
		e -= k;
	return xstrndup(b, (size_t)(e - b));
}

/* Turns each "\r\n" of s into "\n" in place: notes pasted from Windows. */
static void crlf_to_lf(char *s)
{
	char *w = s;

	for (const char *p = s; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*w++ = *p;
	*w = '\0';
}

/*
 * Checks text for field f: valid UTF-8, no control characters (long text
 * may hold newlines and tabs), and not too long.  Returns 0 or -1 with err.
 */
static int check_text(const struct gb_field *f, const char *s, int is_long,
		      struct gb_err *err)
{
	size_t len = strlen(s), chars = 0;
	char shown[SHOW_LEN];

	if (!gb_utf8_valid(s, len))
		return gb_error(err, GB_EINVAL,
				_("%s: text is not valid UTF-8"), f->name);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned cp = 0;

		if (*p < 0x20 || *p == 0x7f)
			cp = *p;
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			cp = p[1];
		if (cp && !(is_long && (cp == '\n' || cp == '\t'))) {
			show(s, shown);
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" contains the control "
					  "character U+%04X"),
					f->name, shown, cp);
		}
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	if (is_long && len > LONG_MAX_BYTES) {
		show(s, shown);
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is longer than %d bytes"),
				f->name, shown, LONG_MAX_BYTES);
	}
	if (!is_long && chars > TEXT_MAX_CHARS) {
		show(s, shown);
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is longer than %d characters"),
				f->name, shown, TEXT_MAX_CHARS);
	}
	return 0;
}

static int parse_int(const struct gb_field *f, const char *s, char **out,
		     struct gb_err *err)
{
	const char *p = s + (*s == '+' || *s == '-');
	char shown[SHOW_LEN], *end;
	long long n;

	show(s, shown);
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is not a whole number"), f->name,
				shown);
	errno = 0;
	n = strtoll(s, &end, 10);
	if ((errno == ERANGE && *s == '-') || (errno != ERANGE && n < f->min))
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is below the minimum %" PRId64),
				f->name, shown, f->min);
	if (errno == ERANGE || n > f->max)
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is above the maximum %" PRId64),
				f->name, shown, f->max);
	*out = xi64str(n);
	return 0;
}

/*
 * Yuan: digits, optionally grouped by thousands with commas ("1,200"),
 * then at most two decimals.  Grouping must be regular, so that "12,50"
 * (a decimal comma) is refused rather than read as 1250.
 */
static int parse_money(const struct gb_field *f, const char *s, char **out,
		       struct gb_err *err)
{
	char shown[SHOW_LEN], ip[MONEY_MAX_DIGITS + 2], dec[3] = "00";
	const char *p = s, *digits;
	size_t seg = 0, ni = 0, nd = 0;
	int commas = 0, lead = 1;

	show(s, shown);
	if (*p == '-' && p[1] >= '0' && p[1] <= '9')
		return gb_error(err, GB_EINVAL, _("%s: \"%s\" is below zero"),
				f->name, shown);
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			seg++;
			if (lead && *p == '0')
				continue;
			lead = 0;
			if (ni <= MONEY_MAX_DIGITS)
				ip[ni] = *p;
			ni++;
		} else if (*p == ',') {
			if (seg == 0 || seg > 3 || (commas && seg != 3))
				goto bad;
			commas++;
			seg = 0;
		} else {
			break;
		}
	}
	if (seg == 0 || (commas && seg != 3))
		goto bad;
	if (*p == '.') {
		digits = ++p;
		nd = strspn(digits, "0123456789");
		if (nd == 0 || digits[nd] != '\0')
			goto bad;
		if (nd > 2)
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" has more than two "
					  "decimals"),
					f->name, shown);
		memcpy(dec, digits, nd);
		p += nd;
	}
	if (*p)
		goto bad;
	if (ni > MONEY_MAX_DIGITS)
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" is above the maximum %s"),
				f->name, shown, "999999999999.99");
	if (ni == 0)
		ip[ni++] = '0';
	ip[ni] = '\0';
	*out = xasprintf("%s.%s", ip, dec);
	return 0;
bad:
	return gb_error(err, GB_EINVAL,
			_("%s: \"%s\" is not an amount of money (like "
			  "1200.50)"),
			f->name, shown);
}

/* Dates and times as people type them (gbtime.h: slashes, "12-01",
 * 今天, now ...); the one parser shared with --from and --to. */
static int parse_date(const struct gb_field *f, const char *s, char **out,
		      struct gb_err *err)
{
	char canon[16];
	int32_t day;

	if (gb_date_input(s, &day, err) < 0)
		return gb_error_prefix(err, "%s", f->name);
	gb_date_format(day, canon);
	*out = xstrdup(canon);
	return 0;
}

static int parse_time(const struct gb_field *f, const char *s, char **out,
		      struct gb_err *err)
{
	int64_t ms;

	if (gb_time_input(s, &ms, err) < 0) {
		if (err)
			err->code = GB_EINVAL;
		return gb_error_prefix(err, "%s", f->name);
	}
	*out = xi64str(ms);
	return 0;
}

/* Writes the choices of f that start with the first len bytes of prefix
 * (all of them when prefix is NULL) as "a, b, c" into out (size n). */
static void choices_list(const struct gb_field *f, const char *prefix,
			 size_t len, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; f->choices[i] && used < n; i++) {
		int w;

		if (prefix && strncmp(f->choices[i], prefix, len) != 0)
			continue;
		w = snprintf(out + used, n - used, "%s%s", used ? ", " : "",
			     f->choices[i]);
		if (w >= 0 && (size_t)w < n - used &&
		    gb_choice_word(f, f->choices[i]) != f->choices[i])
			w +=
			    snprintf(out + used + w, n - used - (size_t)w,
				     " (%s)", gb_choice_word(f, f->choices[i]));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/*
 * An enum code, spelled loosely: any case, '-' or ' ' for '_', or a prefix
 * that only one code starts with ("rect" for rectify_order); or the word
 * of a code in the user's language or in Chinese ("责令改正").
 */
static int parse_enum(const struct gb_field *f, const char *s, char **out,
		      struct gb_err *err)
{
	char norm[64], shown[SHOW_LEN], list[400];
	size_t len = strlen(s);
	int match = -1, nmatch = 0;

	if (!f->choices)
		return gb_error(err, GB_EINTERNAL, "%s: enum without choices",
				f->name);
	if (len < sizeof(norm)) {
		for (size_t i = 0; i <= len; i++) {
			char c = s[i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			else if (c == '-' || c == ' ')
				c = '_';
			norm[i] = c;
		}
		match = gb_choice_index(f->choices, norm);
		for (int i = 0; match < 0 && f->choices[i]; i++)
			if (strncmp(f->choices[i], norm, len) == 0)
				nmatch++;
		for (int i = 0; match < 0 && nmatch == 1; i++)
			if (strncmp(f->choices[i], norm, len) == 0)
				match = i;
	}
	if (match < 0 && nmatch == 0)
		match = gb_choice_by_word(f, s);
	if (match >= 0) {
		*out = xstrdup(f->choices[match]);
		return 0;
	}
	show(s, shown);
	if (nmatch > 1) {
		choices_list(f, norm, len, list, sizeof(list));
		return gb_error(err, GB_EINVAL,
				_("%s: \"%s\" could be any of %s"), f->name,
				shown, list);
	}
	choices_list(f, NULL, 0, list, sizeof(list));
	return gb_error(err, GB_EINVAL, _("%s: \"%s\" is not one of %s"),
			f->name, shown, list);
}

/* A credit code with the spaces people type for readability taken out and
 * letters made upper case. */
static int parse_uscc(const struct gb_field *f, const char *s, char **out,
		      struct gb_err *err)
{
	char *code = xmalloc(strlen(s) + 1), *w = code;
	size_t k;

	while (*s) {
		k = space_at(s);
		if (k) {
			s += k;
			continue;
		}
		*w++ = (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
		s++;
	}
	*w = '\0';
	if (gb_uscc_check(code, err) < 0) {
		free(code);
		if (err)
			err->code = GB_EINVAL;
		return gb_error_prefix(err, "%s", f->name);
	}
	*out = code;
	return 0;
}

/* The byte length of the list separator at p, or 0: ',' ';' white space,
 * and the full-width comma, semicolon and enumeration comma (、). */
static size_t sep_at(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	if (*u == ',' || *u == ';')
		return 1;
	if (u[0] == 0xef && u[1] == 0xbc && (u[2] == 0x8c || u[2] == 0x9b))
		return 3;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x81)
		return 3;
	return space_at(p);
}

static int parse_list(const struct gb_field *f, const char *s, char **out,
		      struct gb_err *err)
{
	struct gb_buf b;
	char **item = NULL, shown[SHOW_LEN];
	size_t nitem = 0, k;
	int rc = -1;

	gb_buf_init(&b, LIST_MAX_BYTES);
	while (*s) {
		const char *e = s;

		k = sep_at(s);
		if (k > 0) {
			s += k;
			continue;
		}
		while (*e && sep_at(e) == 0)
			e++;
		item = xrealloc(item, (nitem + 1) * sizeof(*item));
		item[nitem++] = xstrndup(s, (size_t)(e - s));
		s = e;
	}
	for (size_t i = 0; i < nitem; i++) {
		if (check_text(f, item[i], 0, err) < 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(item[i], item[j]) == 0) {
				show(item[i], shown);
				gb_error(err, GB_EINVAL,
					 _("%s: \"%s\" is listed twice"),
					 f->name, shown);
				goto out;
			}
		if ((i && gb_buf_adds(&b, ",", NULL) < 0) ||
		    gb_buf_adds(&b, item[i], NULL) < 0) {
			gb_error(err, GB_EINVAL,
				 _("%s: the list is longer than %d bytes"),
				 f->name, LIST_MAX_BYTES);
			goto out;
		}
	}
	*out = nitem ? gb_buf_detach(&b, NULL) : NULL;
	rc = 0;
out:
	for (size_t i = 0; i < nitem; i++)
		free(item[i]);
	free(item);
	gb_buf_release(&b);
	return rc;
}

int gb_field_parse(const struct gb_field *f, const char *input, char **out,
		   struct gb_err *err)
{
	char *s = NULL;
	int rc = -1;

	*out = NULL;
	if (!input)
		return 0;
	s = trim_dup(input);
	if (!*s) {
		rc = 0;
		goto out;
	}
	switch (f->type) {
	case GB_T_TEXT:
	case GB_T_REF:
		if (f->flags & GB_F_LONG)
			crlf_to_lf(s);
		if (check_text(f, s, !!(f->flags & GB_F_LONG), err) < 0)
			goto out;
		*out = s;
		s = NULL;
		rc = 0;
		break;
	case GB_T_INT:
		rc = parse_int(f, s, out, err);
		break;
	case GB_T_MONEY:
		rc = parse_money(f, s, out, err);
		break;
	case GB_T_DATE:
		rc = parse_date(f, s, out, err);
		break;
	case GB_T_TIME:
		rc = parse_time(f, s, out, err);
		break;
	case GB_T_ENUM:
		rc = parse_enum(f, s, out, err);
		break;
	case GB_T_LIST:
		rc = parse_list(f, s, out, err);
		break;
	case GB_T_USCC:
		rc = parse_uscc(f, s, out, err);
		break;
	default:
		gb_error(err, GB_EINTERNAL, "%s: unknown field type %d",
			 f->name, (int)f->type);
		break;
	}
out:
	free(s);
	return rc;
}

char *gb_field_format(const struct gb_field *f, const char *canon)
{
	char text[32], *end;
	long long ms;

	if (!canon)
		return NULL;
	if (f->type == GB_T_TIME && *canon) {
		errno = 0;
		ms = strtoll(canon, &end, 10);
		if (errno == 0 && *end == '\0') {
			gb_time_format((int64_t)ms, text);
			return xstrdup(text);
		}
	}
	return xstrdup(canon);
}

char *gb_field_show(const struct gb_field *f, const char *canon)
{
	if (canon && f->type == GB_T_ENUM)
		return xstrdup(gb_choice_word(f, canon));
	return gb_field_format(f, canon);
}

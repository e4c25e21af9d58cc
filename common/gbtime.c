/*
 * Calendar arithmetic for gridbook (see gbtime.h).  China keeps one time
 * zone with no daylight saving, so local time is UTC plus a fixed offset
 * and all conversions are integer arithmetic: Howard Hinnant's
 * days_from_civil / civil_from_days turn a proleptic Gregorian date into a
 * day count and back.  Nothing here reads the C library's idea of a time
 * zone (mktime, localtime, the TZ variable), so results never depend on
 * how the machine is set up, only on GRIDBOOK_TZ.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gbtime.h"
#include "i18n.h"
#include "utf8.h"

#include "banned.h"

#define DEFAULT_OFFSET_MIN 480
#define MIN_YEAR 1900
#define MAX_YEAR 2999
#define MS_PER_MIN INT64_C(60000)

/* The arguments of a "%.*s" that shows at most 40 columns of a value
 * without cutting a character in two. */
#define SHOWN(s) (int)gb_utf8_prefix((s), 40), (s)

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of day z counted from 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Floor division and its remainder, for instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* The remainder taken as it is rather than as a - floor_div(a, b) * b,
 * whose product overflows for a within a day of INT64_MIN. */
static int64_t floor_mod(int64_t a, int64_t b)
{
	int64_t r = a % b;

	if (r != 0 && ((r < 0) != (b < 0)))
		r += b;
	return r;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Reads exactly n digits at s into *v.  Returns 0, or -1 if one of them is
 * not a digit. */
static int digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/*
 * Reads an offset "+hh:mm", "-hh:mm", "+hhmm" or "+hh" that makes up the
 * whole of s.  Returns 0 with the offset in minutes, or -1.
 */
static int parse_offset(const char *s, int *min)
{
	int sign, hh, mm = 0;

	if (*s != '+' && *s != '-')
		return -1;
	sign = *s == '-' ? -1 : 1;
	s++;
	if (digits(s, 2, &hh))
		return -1;
	s += 2;
	if (*s == ':' || is_digit(*s)) {
		s += *s == ':';
		if (digits(s, 2, &mm) || s[2])
			return -1;
	} else if (*s) {
		return -1;
	}
	if (hh > 23 || mm > 59)
		return -1;
	*min = sign * (hh * 60 + mm);
	return 0;
}

int gb_tz_parse(const char *tz, int *offset_min)
{
	static const char *const utc_names[] = {"UTC", "Z", "GMT", "Etc/UTC"};
	static const char *const cst_names[] = {
	    "Asia/Shanghai", "PRC", "Asia/Chongqing", "Asia/Harbin"};
	size_t i;

	if (!tz || !*tz)
		return -1;
	for (i = 0; i < sizeof(utc_names) / sizeof(utc_names[0]); i++)
		if (!strcmp(tz, utc_names[i])) {
			*offset_min = 0;
			return 0;
		}
	for (i = 0; i < sizeof(cst_names) / sizeof(cst_names[0]); i++)
		if (!strcmp(tz, cst_names[i])) {
			*offset_min = DEFAULT_OFFSET_MIN;
			return 0;
		}
	if (!strncmp(tz, "UTC", 3) && (tz[3] == '+' || tz[3] == '-'))
		tz += 3;
	return parse_offset(tz, offset_min);
}

/*
 * GRIDBOOK_TZ is configuration, read on each call so that tests can change
 * it between calls (and HQ sets it to its store's zone when it names
 * none).  A value we cannot read falls back to Asia/Shanghai, the zone
 * every deployment uses.  Turning a date into a day asks for the offset
 * several times a record, so each thread keeps the last value it parsed
 * and parses again only when the variable's text differs from it: the
 * cache is keyed on the text, not on where getenv found it.  Values too
 * long to keep are parsed every time.
 */
#define TZ_CACHE_LEN 48

static _Thread_local struct {
	int set;		 /* the cache holds a value */
	int off;		 /* its offset, the fallback included */
	char text[TZ_CACHE_LEN]; /* the value, "" for unset */
} tz_cache;

/* What gb_tz_offset_min gives for the variable's value tz (NULL: unset). */
static int offset_of(const char *tz)
{
	int off;

	if (gb_tz_parse(tz, &off) == 0)
		return off;
	return DEFAULT_OFFSET_MIN;
}

int gb_tz_offset_min(void)
{
	const char *tz = getenv("GRIDBOOK_TZ");
	const char *key = tz ? tz : "";
	size_t n;

	/* Unset and "" both fall back: one key for the two. */
	if (tz_cache.set && strcmp(tz_cache.text, key) == 0)
		return tz_cache.off;
	n = strlen(key);
	if (n >= sizeof(tz_cache.text))
		return offset_of(tz);
	memcpy(tz_cache.text, key, n + 1);
	tz_cache.off = offset_of(tz);
	tz_cache.set = 1;
	return tz_cache.off;
}

int64_t gb_now_ms(void)
{
	const char *pin = getenv("GRIDBOOK_NOW");
	struct timespec ts;
	int64_t ms;

	if (pin && *pin && gb_time_parse(pin, &ms, NULL) == 0)
		return ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t gb_today(void)
{
	return gb_local_day(gb_now_ms());
}

/*
 * Checks the "YYYY-MM-DD" at the start of s (exactly 10 characters) and
 * turns it into a day.  Returns 0; -1 when the text does not have the
 * form; -2 when it has the form but the date does not exist or lies
 * outside the years we accept, with *why saying which in words.
 */
static int date_at(const char *s, int64_t *day, const char **why, char *whybuf,
		   size_t whylen)
{
	int y, m, d;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (m < 1 || m > 12 || d < 1)
		return -1;
	if (y < MIN_YEAR || y > MAX_YEAR) {
		snprintf(whybuf, whylen, _("years %d-%d"), MIN_YEAR, MAX_YEAR);
		*why = whybuf;
		return -2;
	}
	if (d > month_days(y, m)) {
		if (d > 31)
			return -1;
		snprintf(whybuf, whylen, _("%04d-%02d has %d days"), y, m,
			 month_days(y, m));
		*why = whybuf;
		return -2;
	}
	*day = days_from_civil(y, m, d);
	return 0;
}

int gb_date_parse(const char *s, int32_t *day, struct gb_err *err)
{
	char whybuf[64];
	const char *why = NULL;
	int64_t d;
	int rc;

	if (!s)
		s = "";
	rc =
	    strlen(s) == 10 ? date_at(s, &d, &why, whybuf, sizeof(whybuf)) : -1;
	if (rc == -2)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" is not a date (%s)"), SHOWN(s),
				why);
	if (rc)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" is not a date (YYYY-MM-DD)"),
				SHOWN(s));
	*day = (int32_t)d;
	return 0;
}

/* Writes v as n decimal digits at p (v >= 0) and returns the end. */
static char *put_digits(char *p, int64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/*
 * Writes "YYYY-MM-DD" at p and returns the end.  Years past 0-9999 cannot
 * come from a parsed date; they are clamped so the text keeps its width.
 */
static char *put_date(char *p, int64_t y, int m, int d)
{
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	return put_digits(p, d, 2);
}

void gb_date_format(int32_t day, char *out)
{
	int64_t y;
	int m, d;

	civil_from_days(day, &y, &m, &d);
	*put_date(out, y, m, d) = '\0';
}

int gb_time_sane(int64_t ms)
{
	return ms >= days_from_civil(MIN_YEAR, 1, 1) * GB_MS_PER_DAY &&
	       ms < days_from_civil(MAX_YEAR + 1, 1, 1) * GB_MS_PER_DAY;
}

/*
 * A bare number of ms is accepted as an instant only inside the same years
 * as a written date, so that a stray digit string cannot become an absurd
 * time.
 */
static int parse_ms_number(const char *s, int64_t *ms)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-')
		p++;
	if (!is_digit(*p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	if (!gb_time_sane(v))
		return -1;
	*ms = v;
	return 0;
}

int gb_time_parse(const char *s, int64_t *ms, struct gb_err *err)
{
	char whybuf[64];
	const char *why = NULL, *p;
	int64_t day = 0, frac = 0;
	int hh, mm, ss = 0, off, rc, n;

	if (!s)
		s = "";
	if (parse_ms_number(s, ms) == 0)
		return 0;
	if (strlen(s) < 16)
		goto bad_form;
	rc = date_at(s, &day, &why, whybuf, sizeof(whybuf));
	if (rc == -1)
		goto bad_form;
	if (s[10] != ' ' && s[10] != 'T')
		goto bad_form;
	if (digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm))
		goto bad_form;
	p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &ss))
			goto bad_form;
		p += 3;
		/* Fractions of a second, as in our own UTC form; digits past
		 * the millisecond are dropped. */
		if (*p == '.') {
			p++;
			for (n = 0; is_digit(p[n]); n++)
				if (n < 3)
					frac = frac * 10 + (p[n] - '0');
			if (n == 0 || n > 9)
				goto bad_form;
			for (; n < 3; n++)
				frac *= 10;
			while (is_digit(*p))
				p++;
		}
	}
	if (*p == '\0')
		off = gb_tz_offset_min();
	else if (!strcmp(p, "Z"))
		off = 0;
	else if (parse_offset(p, &off))
		goto bad_form;
	if (rc == -2)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" is not a time (%s)"), SHOWN(s),
				why);
	if (hh > 23 || mm > 59 || ss > 59)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" is not a time (HH:MM:SS runs "
				  "from 00:00:00 to 23:59:59)"),
				SHOWN(s));
	*ms = day * GB_MS_PER_DAY + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 +
	      frac - off * MS_PER_MIN;
	return 0;

bad_form:
	return gb_error(err, GB_EINVAL,
			_("\"%.*s\" is not a time (YYYY-MM-DD HH:MM[:SS], "
			  "optionally followed by Z or +hh:mm)"),
			SHOWN(s));
}

/*
 * ms shifted by off minutes into local time.  An instant within 10^7
 * minutes of the ends of int64_t (none a date we accept, but a TIME value
 * from the wire may be one) wraps around as two's complement does instead
 * of overflowing, which is undefined; every other instant is as before.
 */
static int64_t to_local(int64_t ms, int off)
{
	return (int64_t)((uint64_t)ms + (uint64_t)((int64_t)off * MS_PER_MIN));
}

/* Splits an instant, shifted by off minutes, into date and time of day. */
static void split(int64_t ms, int off, int64_t *y, int *mo, int *d, int *h,
		  int *mi, int *s, int *frac)
{
	int64_t local = to_local(ms, off);
	int64_t tod = floor_mod(local, GB_MS_PER_DAY);

	civil_from_days(floor_div(local, GB_MS_PER_DAY), y, mo, d);
	*h = (int)(tod / 3600000);
	*mi = (int)(tod / 60000 % 60);
	*s = (int)(tod / 1000 % 60);
	*frac = (int)(tod % 1000);
}

void gb_time_format(int64_t ms, char *out)
{
	int64_t y;
	int mo, d, h, mi, s, frac;
	char *p;

	split(ms, gb_tz_offset_min(), &y, &mo, &d, &h, &mi, &s, &frac);
	p = put_date(out, y, mo, d);
	*p++ = ' ';
	p = put_digits(p, h, 2);
	*p++ = ':';
	p = put_digits(p, mi, 2);
	if (s) {
		*p++ = ':';
		p = put_digits(p, s, 2);
	}
	*p = '\0';
}

void gb_time_format_utc(int64_t ms, char *out)
{
	int64_t y;
	int mo, d, h, mi, s, frac;
	char *p;

	split(ms, 0, &y, &mo, &d, &h, &mi, &s, &frac);
	p = put_date(out, y, mo, d);
	*p++ = 'T';
	p = put_digits(p, h, 2);
	*p++ = ':';
	p = put_digits(p, mi, 2);
	*p++ = ':';
	p = put_digits(p, s, 2);
	*p++ = '.';
	p = put_digits(p, frac, 3);
	*p++ = 'Z';
	*p = '\0';
}

int32_t gb_local_day(int64_t ms)
{
	return (int32_t)floor_div(to_local(ms, gb_tz_offset_min()),
				  GB_MS_PER_DAY);
}

int64_t gb_day_start(int32_t day)
{
	return (int64_t)day * GB_MS_PER_DAY - gb_tz_offset_min() * MS_PER_MIN;
}

int gb_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday. */
	return (int)floor_mod((int64_t)day + 3, 7) + 1;
}

/*
 * ISO 8601 weeks begin on Monday and belong to the year that holds their
 * Thursday, so week 1 is the week with the year's first Thursday.
 */
void gb_iso_week(int32_t day, int *year, int *week)
{
	int64_t thursday = (int64_t)day - gb_weekday(day) + 4;
	int64_t y;
	int m, d;

	civil_from_days(thursday, &y, &m, &d);
	*year = (int)y;
	*week = (int)((thursday - days_from_civil(y, 1, 1)) / 7 + 1);
}

/*
 * Working days are counted on local dates.  A start on a weekend is first
 * moved to the neighbouring Friday (counting forwards) or Monday (counting
 * backwards), which makes Saturday + 1 the following Monday; from a
 * weekday, every 5 working days are exactly one week.
 */
int64_t gb_add_working_days(int64_t ms, int n)
{
	int off = gb_tz_offset_min();
	int64_t local = ms + off * MS_PER_MIN;
	int64_t day = floor_div(local, GB_MS_PER_DAY);
	int64_t tod = local - day * GB_MS_PER_DAY;
	int64_t step = n > 0 ? 1 : -1;
	int64_t left = n > 0 ? n : -(int64_t)n;
	int wd;

	if (n == 0)
		return ms;
	wd = gb_weekday((int32_t)day);
	if (wd >= 6)
		day += n > 0 ? 5 - wd : 8 - wd;
	day += step * (left / 5) * 7;
	left %= 5;
	while (left > 0) {
		day += step;
		wd = gb_weekday((int32_t)day);
		if (wd <= 5)
			left--;
	}
	return day * GB_MS_PER_DAY + tod - off * MS_PER_MIN;
}

/* ---- input as people type it ------------------------------------------ */

/* The words that name a day relative to today. */
static const struct {
	const char *word;
	int delta;
} day_words[] = {
    {"今天", 0},  {"today", 0}, {"昨天", -1},	 {"yesterday", -1},
    {"前天", -2}, {"明天", 1},	{"tomorrow", 1},
};

/* Reads 1 to max digits at *p into *v, advancing *p; returns the count. */
static int some_digits(const char **p, int max, int *v)
{
	int k = 0;

	*v = 0;
	while (k < max && is_digit((*p)[k])) {
		*v = *v * 10 + ((*p)[k] - '0');
		k++;
	}
	*p += k;
	return k;
}

/* Skips a date separator at *p and returns it: '-', '/', '.', or 'Y' for
 * 年 and 'M' for 月; 0 when there is none. */
static int date_sep(const char **p)
{
	char c = **p;

	if (c == '-' || c == '/' || c == '.') {
		(*p)++;
		return c;
	}
	if (!strncmp(*p, "年", 3) || !strncmp(*p, "月", 3)) {
		c = (*p)[2] == '\xb4' ? 'Y' : 'M';
		*p += 3;
		return c;
	}
	return 0;
}

/*
 * Reads the date at the start of s as gb_date_input describes, leaving
 * *end after it.  Returns 0; -1 when the text has no date form; -2 when
 * the form is right but the date does not exist, with err filled.
 */
static int date_prefix(const char *s, int32_t *day, const char **end,
		       struct gb_err *err)
{
	const char *p = s;
	char iso[48];
	int a, b, c, na, nb, nc, sep;
	int64_t y;
	int m, d;

	for (size_t i = 0; i < sizeof(day_words) / sizeof(day_words[0]); i++) {
		size_t n = strlen(day_words[i].word);

		if (!strncmp(s, day_words[i].word, n)) {
			*day = gb_today() + day_words[i].delta;
			*end = s + n;
			return 0;
		}
	}
	na = some_digits(&p, 4, &a);
	sep = na ? date_sep(&p) : 0;
	if (!sep)
		return -1;
	nb = some_digits(&p, 2, &b);
	if (nb == 0)
		return -1;
	if (na == 4) {
		/* The same separator twice, or 年 then 月. */
		if (date_sep(&p) != (sep == 'Y' ? 'M' : sep))
			return -1;
		nc = some_digits(&p, 2, &c);
		if (nc == 0)
			return -1;
		if (!strncmp(p, "日", 3))
			p += 3;
		y = a;
		m = b;
		d = c;
	} else if (na <= 2) {
		/* Month and day of this year. */
		if (!strncmp(p, "日", 3))
			p += 3;
		civil_from_days(gb_today(), &y, &m, &d);
		m = a;
		d = b;
	} else {
		return -1;
	}
	if (is_digit(*p))
		return -1;
	snprintf(iso, sizeof(iso), "%04d-%02d-%02d", (int)y, m, d);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	if (gb_date_parse(iso, day, err) < 0)
		return -2;
	*end = p;
	return 0;
}

/* s without leading and trailing blanks, copied into buf (size n). */
static const char *trimmed(const char *s, char *buf, size_t n)
{
	size_t len;

	if (!s)
		s = "";
	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
		       s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

int gb_date_input(const char *s, int32_t *day, struct gb_err *err)
{
	char buf[64];
	const char *t = trimmed(s, buf, sizeof(buf)), *end = NULL;
	int32_t d;
	int rc;

	rc = date_prefix(t, &d, &end, err);
	if (rc == -2)
		return -1;
	if (rc < 0 || *end)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" is not a date (YYYY-MM-DD, "
				  "YYYY/MM/DD, MM-DD, 今天 or 昨天)"),
				SHOWN(t));
	*day = d;
	return 0;
}

/* Reads "H:MM" or "HH:MM[:SS]" making up the whole of p into ms of the
 * day.  Returns 0, 1 when the form is right but a part is out of range, or
 * -1. */
static int time_of_day(const char *p, int64_t *tod)
{
	int hh, mm, ss = 0, nh;

	nh = some_digits(&p, 2, &hh);
	if (nh == 0 || *p++ != ':')
		return -1;
	if (some_digits(&p, 2, &mm) != 2)
		return -1;
	if (*p == ':') {
		p++;
		if (some_digits(&p, 2, &ss) != 2)
			return -1;
	}
	if (*p)
		return -1;
	if (hh > 23 || mm > 59 || ss > 59)
		return 1;
	*tod = ((int64_t)hh * 3600 + mm * 60 + ss) * 1000;
	return 0;
}

int gb_time_input(const char *s, int64_t *ms, struct gb_err *err)
{
	char buf[96];
	const char *t = trimmed(s, buf, sizeof(buf)), *end = NULL;
	int64_t tod = 0;
	int32_t day;
	int rc;

	if (!strcmp(t, "now") || !strcmp(t, "现在")) {
		*ms = gb_now_ms();
		return 0;
	}
	/* The strict form first: it alone takes offsets and ms numbers. */
	if (gb_time_parse(t, ms, NULL) == 0)
		return 0;
	rc = date_prefix(t, &day, &end, err);
	if (rc == -2)
		return -1;
	if (rc < 0) {
		/* A time of day alone is today's. */
		day = gb_today();
		end = t;
	} else if (*end == ' ' || *end == 'T') {
		while (*end == ' ')
			end++;
		if (*end == 'T')
			end++;
	} else if (*end) {
		goto bad;
	}
	rc = time_of_day(end, &tod);
	if (rc == 1)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" is not a time (HH:MM:SS runs "
				  "from 00:00:00 to 23:59:59)"),
				SHOWN(t));
	if (rc < 0)
		goto bad;
	*ms = gb_day_start(day) + tod;
	return 0;
bad:
	return gb_error(err, GB_EINVAL,
			_("\"%.*s\" is not a time (YYYY-MM-DD HH:MM[:SS], "
			  "now, or 今天/昨天 HH:MM)"),
			SHOWN(t));
}

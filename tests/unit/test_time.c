/*
 * Tests of gbtime.c: dates and instants, fixed offsets, ISO weeks and
 * working days.  Most checks are exact examples; a few sweep every date
 * we accept and compare against a plain independent computation.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gbtime.h"

#include "banned.h"

static int32_t day_of(const char *s)
{
	struct gb_err err;
	int32_t d = INT32_MIN;

	CHECK(gb_date_parse(s, &d, &err) == 0);
	return d;
}

static int64_t ms_of(const char *s)
{
	struct gb_err err;
	int64_t ms = INT64_MIN;

	if (gb_time_parse(s, &ms, &err)) {
		fprintf(stderr, "cannot parse %s: %s\n", s, err.msg);
		CHECK(0);
	}
	return ms;
}

static const char *date_str(int32_t day, char *buf)
{
	gb_date_format(day, buf);
	return buf;
}

static const char *time_str(int64_t ms, char *buf)
{
	gb_time_format(ms, buf);
	return buf;
}

static const char *utc_str(int64_t ms, char *buf)
{
	gb_time_format_utc(ms, buf);
	return buf;
}

static void test_offsets(void)
{
	unsetenv("GRIDBOOK_TZ");
	CHECK(gb_tz_offset_min() == 480);
	setenv("GRIDBOOK_TZ", "+08:00", 1);
	CHECK(gb_tz_offset_min() == 480);
	setenv("GRIDBOOK_TZ", "-05:30", 1);
	CHECK(gb_tz_offset_min() == -330);
	setenv("GRIDBOOK_TZ", "+05:45", 1);
	CHECK(gb_tz_offset_min() == 345);
	setenv("GRIDBOOK_TZ", "UTC", 1);
	CHECK(gb_tz_offset_min() == 0);
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	CHECK(gb_tz_offset_min() == 480);
	setenv("GRIDBOOK_TZ", "nowhere", 1);
	CHECK(gb_tz_offset_min() == 480);
	setenv("GRIDBOOK_TZ", "+08:", 1);
	CHECK(gb_tz_offset_min() == 480);
	unsetenv("GRIDBOOK_TZ");
}

/* The offset as gbtime.c first found it: GRIDBOOK_TZ read and parsed at
 * every call, Asia/Shanghai for what it cannot read. */
static int ref_offset(void)
{
	int off;

	if (gb_tz_parse(getenv("GRIDBOOK_TZ"), &off) == 0)
		return off;
	return 480;
}

static void *offset_in_thread(void *arg)
{
	*(int *)arg = gb_tz_offset_min();
	return NULL;
}

/*
 * The kept offset against a fresh reading: every form a zone is named
 * in, bad ones, unset and empty, values longer than the cache keeps
 * (one that begins like the value kept before it), a value changed in
 * place under the pointer getenv returns (putenv), in a seeded random
 * order with repeats, and a second thread after a change.
 */
static void test_offsets_kept(void)
{
	static const char *const zones[] = {
	    "UTC",
	    "Z",
	    "GMT",
	    "Etc/UTC",
	    "Asia/Shanghai",
	    "PRC",
	    "Asia/Chongqing",
	    "Asia/Harbin",
	    "+08:00",
	    "-05:30",
	    "+0545",
	    "+05",
	    "-12",
	    "+23:59",
	    "-00:00",
	    "+00",
	    "UTC+03:00",
	    "UTC-0930",
	    "UTC+05",
	    "UTC+5",
	    "UTC",
	    "utc",
	    "+24:00",
	    "+08:60",
	    "+8:00",
	    "+08:",
	    "+08:0",
	    "+08:000",
	    "08:00",
	    "+08:00 ",
	    " +08:00",
	    "Asia/Shanghai ",
	    "Asia/Shangha",
	    "nowhere",
	    "",
	    NULL,
	    "+05:30xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    "+05:30xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    "+05:30xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    "UTCxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
	size_t nz = sizeof(zones) / sizeof(zones[0]);
	static char inplace[] = "GRIDBOOK_TZ=+05:30";
	uint64_t x = 88172645463325252u;
	int bad = 0, off = 0;
	pthread_t th;

	for (int i = 0; i < 4000; i++) {
		const char *z;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		z = zones[x % nz];
		if (z)
			setenv("GRIDBOOK_TZ", z, 1);
		else
			unsetenv("GRIDBOOK_TZ");
		for (int k = 0; k < 1 + (int)(x >> 60) % 3; k++)
			bad += gb_tz_offset_min() != ref_offset();
	}
	CHECK(bad == 0);

	/* The same pointer, other contents. */
	unsetenv("GRIDBOOK_TZ");
	CHECK(putenv(inplace) == 0);
	CHECK(gb_tz_offset_min() == 330);
	memcpy(inplace + 12, "-05:30", 6);
	CHECK(gb_tz_offset_min() == -330);
	memcpy(inplace + 12, "UTC\0\0\0", 6);
	CHECK(gb_tz_offset_min() == 0);
	unsetenv("GRIDBOOK_TZ");
	CHECK(gb_tz_offset_min() == 480);

	/* Each thread keeps its own; a change is seen by all. */
	setenv("GRIDBOOK_TZ", "UTC", 1);
	CHECK(gb_tz_offset_min() == 0);
	setenv("GRIDBOOK_TZ", "+05:45", 1);
	CHECK(pthread_create(&th, NULL, offset_in_thread, &off) == 0);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(off == 345);
	CHECK(gb_tz_offset_min() == 345);
	unsetenv("GRIDBOOK_TZ");
}

/*
 * The instants at the ends of int64_t, which a TIME value from the wire
 * may hold: shifting them into local time wraps around instead of
 * overflowing (undefined, and fatal under UBSan), and the text and day
 * are those the wrapped instant always gave.
 */
static void test_extreme_instants(void)
{
	static const struct {
		const char *tz, *max_text, *min_text;
		int32_t max_day, min_day;
	} cases[] = {
	    {NULL, "0000-05-17 00:47:04", "0000-05-17 00:47:04", 622191233,
	     622191233},
	    {"UTC", "9999-08-17 07:12:55", "0000-05-16 16:47:04", -622191233,
	     622191232},
	    {"-05:30", "9999-08-17 01:42:55", "9999-08-17 01:42:55", -622191233,
	     -622191233},
	    {"+05:45", "0000-05-16 22:32:04", "0000-05-16 22:32:04", 622191232,
	     622191232},
	    {"+23:59", "0000-05-17 16:46:04", "0000-05-17 16:46:04", 622191233,
	     622191233},
	    {"-23:59", "9999-08-16 07:13:55", "9999-08-16 07:13:55", -622191234,
	     -622191234},
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].tz)
			setenv("GRIDBOOK_TZ", cases[i].tz, 1);
		else
			unsetenv("GRIDBOOK_TZ");
		CHECK_STR(time_str(INT64_MAX, buf), cases[i].max_text);
		CHECK_STR(time_str(INT64_MIN, buf), cases[i].min_text);
		CHECK(gb_local_day(INT64_MAX) == cases[i].max_day);
		CHECK(gb_local_day(INT64_MIN) == cases[i].min_day);
	}
	unsetenv("GRIDBOOK_TZ");
}

static void test_dates(void)
{
	struct gb_err err;
	char buf[16];
	int32_t d;

	CHECK(day_of("1970-01-01") == 0);
	CHECK(day_of("2026-03-10") == 20522);
	CHECK(day_of("1969-12-31") == -1);
	CHECK_STR(date_str(20522, buf), "2026-03-10");
	CHECK_STR(date_str(-1, buf), "1969-12-31");
	CHECK_STR(date_str(day_of("1900-01-01"), buf), "1900-01-01");
	CHECK_STR(date_str(day_of("2999-12-31"), buf), "2999-12-31");
	CHECK(day_of("2024-02-29") == day_of("2024-03-01") - 1);
	CHECK(day_of("2000-02-29") == day_of("2000-03-01") - 1);

	CHECK(gb_date_parse("2026-02-29", &d, &err) == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK_STR(err.msg,
		  "\"2026-02-29\" is not a date (2026-02 has 28 days)");
	CHECK(gb_date_parse("1900-02-29", &d, &err) == -1);
	CHECK(gb_date_parse("2026-04-31", &d, &err) == -1);
	CHECK(gb_date_parse("2026-13-01", &d, &err) == -1);
	CHECK_STR(err.msg, "\"2026-13-01\" is not a date (YYYY-MM-DD)");
	CHECK(gb_date_parse("2026-00-10", &d, &err) == -1);
	CHECK(gb_date_parse("2026-03-00", &d, &err) == -1);
	CHECK(gb_date_parse("2026-03-32", &d, &err) == -1);
	CHECK(gb_date_parse("2026-3-10", &d, &err) == -1);
	CHECK(gb_date_parse("2026/03/10", &d, &err) == -1);
	CHECK(gb_date_parse("2026-03-10 ", &d, &err) == -1);
	CHECK(gb_date_parse("", &d, &err) == -1);
	CHECK_STR(err.msg, "\"\" is not a date (YYYY-MM-DD)");
	CHECK(gb_date_parse(NULL, &d, &err) == -1);
	CHECK(gb_date_parse("1899-12-31", &d, &err) == -1);
	CHECK_STR(err.msg, "\"1899-12-31\" is not a date (years 1900-2999)");
	CHECK(gb_date_parse("3000-01-01", &d, &err) == -1);
	CHECK(gb_date_parse("２０２６-03-10", &d, &err) == -1);
	CHECK(gb_date_parse("2026-02-29", NULL, NULL) == -1);
}

/* Every date we accept reads back as written, one day after another. */
static void test_date_sweep(void)
{
	struct gb_err err;
	char buf[16];
	int32_t d, first = day_of("1900-01-01"), last = day_of("2999-12-31");
	int bad = 0;

	for (d = first; d <= last; d++) {
		int32_t back = INT32_MIN;

		gb_date_format(d, buf);
		if (gb_date_parse(buf, &back, &err) || back != d)
			bad++;
		if (gb_weekday(d) !=
		    (d == first ? 1 : gb_weekday(d - 1) % 7 + 1))
			bad++;
	}
	CHECK(bad == 0);
	/* 1900-01-01 was a Monday. */
	CHECK(gb_weekday(first) == 1);
}

static void test_times(void)
{
	struct gb_err err;
	char buf[32];
	int64_t ms;

	unsetenv("GRIDBOOK_TZ");
	ms = ms_of("2026-03-10 08:30");
	CHECK(ms == INT64_C(1773102600000));
	CHECK_STR(utc_str(ms, buf), "2026-03-10T00:30:00.000Z");
	CHECK_STR(time_str(ms, buf), "2026-03-10 08:30");
	CHECK(ms_of("2026-03-10T08:30") == ms);
	CHECK(ms_of("2026-03-10 08:30:00") == ms);
	CHECK(ms_of("2026-03-10 00:30Z") == ms);
	CHECK(ms_of("2026-03-10T00:30:00.000Z") == ms);
	CHECK(ms_of("2026-03-10 06:00+05:30") == ms);
	CHECK(ms_of("2026-03-09 19:30-05:00") == ms);
	CHECK(ms_of("2026-03-10 08:30+0800") == ms);
	CHECK(ms_of("1773102600000") == ms);
	CHECK(ms_of("2026-03-10T00:30:00.5Z") == ms + 500);
	CHECK(ms_of("2026-03-10T00:30:00.123456Z") == ms + 123);

	ms = ms_of("2026-03-10 08:30:15");
	CHECK_STR(time_str(ms, buf), "2026-03-10 08:30:15");
	CHECK_STR(time_str(ms + 999, buf), "2026-03-10 08:30:15");
	CHECK_STR(utc_str(ms + 7, buf), "2026-03-10T00:30:15.007Z");

	/* Before 1970, floor division keeps the date right. */
	CHECK(ms_of("1969-12-31 23:59:59Z") == -1000);
	CHECK_STR(utc_str(-1, buf), "1969-12-31T23:59:59.999Z");
	CHECK_STR(time_str(ms_of("1900-01-01 00:00"), buf), "1900-01-01 00:00");

	CHECK(gb_time_parse("2026-03-10 24:00", &ms, &err) == -1);
	CHECK(strstr(err.msg, "\"2026-03-10 24:00\" is not a time") != NULL);
	CHECK(gb_time_parse("2026-03-10 08:60", &ms, &err) == -1);
	CHECK(gb_time_parse("2026-03-10 08:30:60", &ms, &err) == -1);
	CHECK(gb_time_parse("2026-03-10 8:30", &ms, &err) == -1);
	CHECK(strstr(err.msg, "YYYY-MM-DD HH:MM") != NULL);
	CHECK(gb_time_parse("2026-02-29 10:00", &ms, &err) == -1);
	CHECK_STR(err.msg,
		  "\"2026-02-29 10:00\" is not a time (2026-02 has 28 days)");
	CHECK(gb_time_parse("2026-03-10", &ms, &err) == -1);
	CHECK(gb_time_parse("2026-03-10 08:30 ", &ms, &err) == -1);
	CHECK(gb_time_parse("2026-03-10 08:30+8", &ms, &err) == -1);
	CHECK(gb_time_parse("2026-03-10 08:30+08:", &ms, &err) == -1);
	CHECK(gb_time_parse("2026-03-10 08:30:00.", &ms, &err) == -1);
	CHECK(gb_time_parse("yesterday", &ms, &err) == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK(gb_time_parse("", &ms, &err) == -1);
	CHECK(gb_time_parse("-", &ms, &err) == -1);
	CHECK(gb_time_parse("99999999999999999999", &ms, &err) == -1);
	/* A bare number must lie in the years a date may have. */
	CHECK(gb_time_parse("32503680000000", &ms, &err) == -1);
	CHECK(gb_time_parse("-2208988800001", &ms, &err) == -1);
	CHECK(gb_time_parse("-2208988800000", &ms, &err) == 0);
	CHECK(gb_time_parse("0", &ms, &err) == 0 && ms == 0);
}

/* Formatting then parsing gives the instant back, to the second, in
 * several zones. */
static void test_round_trips(void)
{
	static const char *const zones[] = {"+08:00",	    "-05:30", "UTC",
					    "+05:45",	    "-12:00", "+14:00",
					    "Asia/Shanghai"};
	char buf[32], ubuf[32];
	int64_t start = ms_of("1969-06-30 12:00Z"), step, ms;
	size_t z;
	int i, bad = 0;

	/* An odd step visits every hour, minute and second over time. */
	step = INT64_C(7) * 3600000 + 13 * 60000 + 17 * 1000 + 3;
	for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		setenv("GRIDBOOK_TZ", zones[z], 1);
		for (i = 0, ms = start; i < 20000; i++, ms += step) {
			int64_t back = INT64_MIN;
			int64_t whole = ms - ((ms % 1000) + 1000) % 1000;
			struct gb_err err;

			gb_time_format(ms, buf);
			if (gb_time_parse(buf, &back, &err) || back != whole)
				bad++;
			gb_time_format_utc(ms, ubuf);
			if (gb_time_parse(ubuf, &back, &err) || back != ms)
				bad++;
			if (gb_day_start(gb_local_day(ms)) > ms ||
			    gb_day_start(gb_local_day(ms) + 1) <= ms)
				bad++;
		}
	}
	CHECK(bad == 0);

	setenv("GRIDBOOK_TZ", "-05:30", 1);
	ms = ms_of("2026-03-10 08:30");
	CHECK_STR(utc_str(ms, buf), "2026-03-10T14:00:00.000Z");
	CHECK_STR(time_str(ms, buf), "2026-03-10 08:30");
	setenv("GRIDBOOK_TZ", "UTC", 1);
	CHECK_STR(time_str(ms, buf), "2026-03-10 14:00");
	unsetenv("GRIDBOOK_TZ");
	CHECK_STR(time_str(ms, buf), "2026-03-10 22:00");
}

static void test_days(void)
{
	int32_t d = day_of("2026-03-10");

	unsetenv("GRIDBOOK_TZ");
	/* Local midnight in Shanghai is 16:00 UTC the day before. */
	CHECK(gb_day_start(d) == ms_of("2026-03-09 16:00Z"));
	CHECK(gb_local_day(ms_of("2026-03-09 16:00Z")) == d);
	CHECK(gb_local_day(ms_of("2026-03-09 15:59:59Z")) == d - 1);
	CHECK(gb_local_day(ms_of("2026-03-10 23:59:59")) == d);
	setenv("GRIDBOOK_TZ", "UTC", 1);
	CHECK(gb_day_start(d) == INT64_C(20522) * GB_MS_PER_DAY);
	CHECK(gb_local_day(-1) == -1);
	unsetenv("GRIDBOOK_TZ");

	CHECK(gb_weekday(0) == 4);
	CHECK(gb_weekday(-1) == 3);
	CHECK(gb_weekday(d) == 2);
	CHECK(gb_weekday(day_of("2026-03-14")) == 6);
	CHECK(gb_weekday(day_of("2026-03-15")) == 7);
}

static void test_now(void)
{
	char buf[16];

	unsetenv("GRIDBOOK_TZ");
	setenv("GRIDBOOK_NOW", "2026-03-10 23:30", 1);
	CHECK(gb_now_ms() == ms_of("2026-03-10 23:30"));
	CHECK_STR(date_str(gb_today(), buf), "2026-03-10");
	setenv("GRIDBOOK_TZ", "UTC", 1);
	/* The pinned text is local time in whatever zone is set. */
	CHECK(gb_now_ms() == ms_of("2026-03-10 23:30Z"));
	setenv("GRIDBOOK_NOW", "2026-03-10 23:30+08:00", 1);
	CHECK_STR(date_str(gb_today(), buf), "2026-03-10");
	unsetenv("GRIDBOOK_TZ");
	setenv("GRIDBOOK_NOW", "1773102600000", 1);
	CHECK(gb_now_ms() == INT64_C(1773102600000));
	unsetenv("GRIDBOOK_NOW");
	CHECK(gb_now_ms() > ms_of("2024-01-01 00:00"));
	CHECK(gb_now_ms() < ms_of("2999-01-01 00:00"));
}

/* Week-year and week the long way: week 1 holds January 4th. */
static void iso_week_slow(int32_t d, int *year, int *week)
{
	char buf[16];
	int y;

	gb_date_format(d, buf);
	y = (buf[0] - '0') * 1000 + (buf[1] - '0') * 100 + (buf[2] - '0') * 10 +
	    (buf[3] - '0') + 1;
	for (;; y--) {
		char jan4[32];
		int32_t j, monday;

		snprintf(jan4, sizeof(jan4), "%04d-01-04", y);
		if (gb_date_parse(jan4, &j, NULL))
			continue;
		monday = j - (gb_weekday(j) - 1);
		if (monday <= d) {
			*year = y;
			*week = (d - monday) / 7 + 1;
			return;
		}
	}
}

static void check_week(const char *date, int year, int week)
{
	int y = 0, w = 0;

	gb_iso_week(day_of(date), &y, &w);
	if (y != year || w != week)
		fprintf(stderr, "%s: %d-W%02d, expected %d-W%02d\n", date, y, w,
			year, week);
	CHECK(y == year && w == week);
}

static void test_iso_weeks(void)
{
	int32_t d, first = day_of("1901-01-01"), last = day_of("2998-12-31");
	int bad = 0;

	check_week("2020-12-31", 2020, 53);
	check_week("2021-01-01", 2020, 53);
	check_week("2021-01-03", 2020, 53);
	check_week("2021-01-04", 2021, 1);
	check_week("2026-01-01", 2026, 1);
	check_week("2026-03-10", 2026, 11);
	check_week("2027-01-01", 2026, 53);
	check_week("2008-12-29", 2009, 1);
	check_week("2010-01-03", 2009, 53);
	check_week("2024-12-30", 2025, 1);
	check_week("1970-01-01", 1970, 1);

	for (d = first; d <= last; d += 3) {
		int y, w, ys, ws;

		gb_iso_week(d, &y, &w);
		iso_week_slow(d, &ys, &ws);
		if (y != ys || w != ws || w < 1 || w > 53)
			bad++;
	}
	CHECK(bad == 0);
}

/* Working days one at a time, for comparison. */
static int64_t add_working_slow(int64_t ms, int n)
{
	int64_t day = GB_MS_PER_DAY;

	while (n > 0) {
		ms += day;
		if (gb_weekday(gb_local_day(ms)) <= 5)
			n--;
	}
	while (n < 0) {
		ms -= day;
		if (gb_weekday(gb_local_day(ms)) <= 5)
			n++;
	}
	return ms;
}

static void test_working_days(void)
{
	char buf[32];
	int64_t fri = ms_of("2026-03-13 10:00");
	int64_t sat = ms_of("2026-03-14 09:15");
	int64_t sun = ms_of("2026-03-15 18:00");
	int64_t ms;
	int i, n, bad = 0;

	unsetenv("GRIDBOOK_TZ");
	CHECK_STR(time_str(gb_add_working_days(fri, 1), buf),
		  "2026-03-16 10:00");
	CHECK_STR(time_str(gb_add_working_days(sat, 1), buf),
		  "2026-03-16 09:15");
	CHECK_STR(time_str(gb_add_working_days(sun, 1), buf),
		  "2026-03-16 18:00");
	CHECK_STR(time_str(gb_add_working_days(fri, 5), buf),
		  "2026-03-20 10:00");
	CHECK_STR(time_str(gb_add_working_days(sat, 5), buf),
		  "2026-03-20 09:15");
	CHECK_STR(
	    time_str(gb_add_working_days(ms_of("2026-03-11 14:00"), 10), buf),
	    "2026-03-25 14:00");
	CHECK(gb_add_working_days(sat, 0) == sat);
	CHECK_STR(
	    time_str(gb_add_working_days(ms_of("2026-03-16 10:00"), -1), buf),
	    "2026-03-13 10:00");
	CHECK_STR(time_str(gb_add_working_days(sun, -1), buf),
		  "2026-03-13 18:00");
	CHECK_STR(time_str(gb_add_working_days(sat, -5), buf),
		  "2026-03-09 09:15");
	/* 07:00 in Shanghai is 23:00 UTC the day before: the local date is
	 * what counts. */
	CHECK_STR(
	    time_str(gb_add_working_days(ms_of("2026-03-13 07:00"), 1), buf),
	    "2026-03-16 07:00");
	/* A low-priority request received on a Thursday is due the next
	 * Thursday. */
	CHECK_STR(
	    time_str(gb_add_working_days(ms_of("2026-03-12 16:45:30"), 5), buf),
	    "2026-03-19 16:45:30");

	for (i = 0; i < 14; i++) {
		ms = ms_of("2026-03-09 11:11") + i * GB_MS_PER_DAY;
		for (n = -23; n <= 23; n++)
			if (gb_add_working_days(ms, n) !=
			    add_working_slow(ms, n))
				bad++;
	}
	setenv("GRIDBOOK_TZ", "-05:30", 1);
	for (i = 0; i < 14; i++) {
		ms = ms_of("2026-03-09 23:11") + i * GB_MS_PER_DAY;
		for (n = -12; n <= 12; n++)
			if (gb_add_working_days(ms, n) !=
			    add_working_slow(ms, n))
				bad++;
	}
	unsetenv("GRIDBOOK_TZ");
	CHECK(bad == 0);
	/* Large counts: 5000 working days are exactly 1000 weeks. */
	CHECK(gb_add_working_days(fri, 5000) == fri + 7000 * GB_MS_PER_DAY);
}

/* What people type: every form of gb_date_input and gb_time_input, with
 * "now" pinned so that 今天 and 12-01 have a known year. */
static void test_input(void)
{
	struct gb_err err;
	int32_t d = 0;
	int64_t ms = 0;

	unsetenv("GRIDBOOK_TZ");
	setenv("GRIDBOOK_NOW", "2026-12-02 00:30", 1);
	CHECK(gb_date_input("2026-12-01", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("2026/12/01", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input(" 2026.12.1 ", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("2026年12月1日", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("12-01", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("3/5", &d, &err) == 0 && d == day_of("2026-03-05"));
	CHECK(gb_date_input("12月1日", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("今天", &d, &err) == 0 &&
	      d == day_of("2026-12-02"));
	CHECK(gb_date_input("today", &d, &err) == 0 &&
	      d == day_of("2026-12-02"));
	CHECK(gb_date_input("昨天", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("yesterday", &d, &err) == 0 &&
	      d == day_of("2026-12-01"));
	CHECK(gb_date_input("2026/1-5", &d, &err) == -1);
	CHECK(gb_date_input("2026-02-29", &d, &err) == -1);
	CHECK_STR(err.msg,
		  "\"2026-02-29\" is not a date (2026-02 has 28 days)");
	CHECK(gb_date_input("13-01", &d, &err) == -1);
	CHECK(gb_date_input("2026-12-01 10:00", &d, &err) == -1);
	CHECK(strstr(err.msg, "MM-DD") != NULL);
	CHECK(gb_date_input("", &d, &err) == -1);
	CHECK(gb_date_input(NULL, &d, &err) == -1);

	CHECK(gb_time_input("now", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-02 00:30"));
	CHECK(gb_time_input("现在", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-02 00:30"));
	CHECK(gb_time_input("2026/12/01 22:10", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-01 22:10"));
	CHECK(gb_time_input("2026-12-01 22:10:30", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-01 22:10:30"));
	CHECK(gb_time_input("12-01 9:05", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-01 09:05"));
	CHECK(gb_time_input("昨天 22:10", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-01 22:10"));
	CHECK(gb_time_input("今天 00:10", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-02 00:10"));
	CHECK(gb_time_input("08:15", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-02 08:15"));
	CHECK(gb_time_input("2026-12-01T22:10+08:00", &ms, &err) == 0 &&
	      ms == ms_of("2026-12-01 22:10"));
	CHECK(gb_time_input("2026-12-01 24:00", &ms, &err) == -1);
	CHECK(strstr(err.msg, "23:59:59") != NULL);
	CHECK(gb_time_input("2026-12-01", &ms, &err) == -1);
	CHECK(gb_time_input("yesterday evening", &ms, &err) == -1);
	CHECK(strstr(err.msg, "is not a time") != NULL);
	unsetenv("GRIDBOOK_NOW");
}

int main(void)
{
	test_input();
	test_offsets();
	test_offsets_kept();
	test_extreme_instants();
	test_dates();
	test_date_sweep();
	test_times();
	test_round_trips();
	test_days();
	test_now();
	test_iso_weeks();
	test_working_days();
	return check_done();
}

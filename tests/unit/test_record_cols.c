/*
 * Tests of record_cols.c: a TIME date field files a version under its
 * local day (Asia/Shanghai by default: 16:30 UTC is the next day there),
 * a DATE field as written, an empty one and a time that is not a number
 * under none; the other columns are the kind's fields, NULL where the kind
 * has none or the field is empty; a map made once gives what a lookup
 * each time gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kinds.h"
#include "record.h"
#include "record_cols.h"

#include "banned.h"

int main(void)
{
	const struct gb_kind *patrol = gb_kind_find("patrol");
	const struct gb_kind *daily = gb_kind_find("daily_report");
	struct gb_record *r;
	struct gb_record_cols c, c2;
	struct gb_colmap m;

	unsetenv("GRIDBOOK_TZ");
	/* 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Beijing. */
	r = gb_record_new(patrol);
	gb_record_set_name(r, "start", "1796056200000");
	gb_record_set_name(r, "leader", "J0901");
	gb_record_set_name(r, "area", "PA-91");
	gb_record_cols(r, NULL, &c);
	CHECK_STR(c.day, "2026-12-01");
	CHECK(c.day == c.daybuf);
	CHECK_STR(c.person, "J0901");
	CHECK_STR(c.title, "PA-91");
	CHECK(c.community == NULL);
	CHECK(c.status == NULL);
	gb_colmap_init(&m, patrol);
	gb_record_cols(r, &m, &c2);
	CHECK_STR(c2.day, c.day);
	CHECK(c2.person == c.person && c2.title == c.title);
	/* A time that is not a number files under no day. */
	gb_record_set_name(r, "start", "12:30");
	gb_record_cols(r, &m, &c);
	CHECK(c.day == NULL);
	gb_record_set_name(r, "start", NULL);
	gb_record_cols(r, &m, &c);
	CHECK(c.day == NULL);
	gb_record_free(r);

	/* A DATE field as written, borrowed from the record. */
	r = gb_record_new(daily);
	gb_record_set_name(r, "date", "2026-12-01");
	gb_record_set_name(r, "officer", "J0902");
	gb_record_cols(r, NULL, &c);
	CHECK_STR(c.day, "2026-12-01");
	CHECK(c.day == gb_record_get(r, "date"));
	CHECK_STR(c.person, "J0902");
	gb_record_free(r);

	/* Another zone, another day. */
	setenv("GRIDBOOK_TZ", "-05:00", 1);
	r = gb_record_new(patrol);
	gb_record_set_name(r, "start", "1796056200000");
	gb_record_cols(r, NULL, &c);
	CHECK_STR(c.day, "2026-11-30");
	gb_record_free(r);
	return check_done();
}

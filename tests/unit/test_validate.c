/*
 * Tests of validate.c: a valid record of each kind, then for each rule one
 * record that keeps it and one that breaks it, whose message must name the
 * field.  References go to a small fake grid held in a static table.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "gbtime.h"
#include "record.h"
#include "uscc.h"
#include "validate.h"

#include "banned.h"

/* One row of the fake grid: a unit or record, with its role (staff) or
 * outcome (checks), and the check date of a check. */
static const struct row {
	enum gb_ref ref;
	const char *key;
	const char *a; /* role or outcome */
	const char *check_date;
} grid[] = {
    {GB_REF_COMMUNITY, "S03-C07", NULL, NULL},
    {GB_REF_COMMUNITY, "S03-C08", NULL, NULL},
    {GB_REF_AREA, "PA-05", NULL, NULL},
    {GB_REF_STAFF, "P01", "officer", NULL},	/* 王海涛 */
    {GB_REF_STAFF, "P02", "chief", NULL},	/* 李建军 */
    {GB_REF_STAFF, "G01", "guard", NULL},	/* 刘强 */
    {GB_REF_STAFF, "G02", "guard", NULL},	/* 赵磊 */
    {GB_REF_STAFF, "W01", "coordinator", NULL}, /* 陈丽华 */
    {GB_REF_ENTERPRISE, "019c8a10-7e2f-7a3b-9c41-2d5e6f708192", NULL, NULL},
    {GB_REF_CHECK, "chk-notice", "notice", "2026-01-05"},
    {GB_REF_CHECK, "chk-order", "rectify_order", "2026-01-10"},
    {GB_REF_CHECK, "chk-ok", "compliant", "2026-01-12"},
};

#define ENT "019c8a10-7e2f-7a3b-9c41-2d5e6f708192"

static int fake_find(void *arg, enum gb_ref ref, const char *key,
		     const char *attr, char *out, size_t n, struct gb_err *err)
{
	const char *v = "";

	(void)arg;
	if (strcmp(key, "BROKEN") == 0)
		return gb_error(err, GB_EDB, "lookup: database is locked");
	for (size_t i = 0; i < sizeof(grid) / sizeof(grid[0]); i++) {
		if (grid[i].ref != ref || strcmp(grid[i].key, key) != 0)
			continue;
		if (!attr)
			return 1;
		if (strcmp(attr, "role") == 0 || strcmp(attr, "outcome") == 0)
			v = grid[i].a ? grid[i].a : "";
		else if (strcmp(attr, "check_date") == 0)
			v = grid[i].check_date ? grid[i].check_date : "";
		snprintf(out, n, "%s", v);
		return 1;
	}
	return 0;
}

static const struct gb_lookup lookup = {NULL, fake_find};
static const struct gb_lookup *lk = &lookup;
static int64_t now;

/* Local "YYYY-MM-DD HH:MM" as canonical ms text, from a ring of buffers. */
static const char *at(const char *local)
{
	static char ring[8][24];
	static int next;
	char *b = ring[next++ % 8];
	int64_t ms = 0;

	if (gb_time_parse(local, &ms, NULL) < 0) {
		fprintf(stderr, "bad time in test: %s\n", local);
		exit(2);
	}
	snprintf(b, sizeof(ring[0]), "%" PRId64, ms);
	return b;
}

static const char *ms_text(int64_t ms)
{
	static char ring[8][24];
	static int next;
	char *b = ring[next++ % 8];

	snprintf(b, sizeof(ring[0]), "%" PRId64, ms);
	return b;
}

/* A record of kind with name/value pairs, ending with NULL. */
static struct gb_record *mk(const char *kind, ...)
{
	struct gb_record *r = gb_record_new(gb_kind_find(kind));
	const char *name, *val;
	va_list ap;

	va_start(ap, kind);
	for (name = va_arg(ap, const char *); name;
	     name = va_arg(ap, const char *)) {
		val = va_arg(ap, const char *);
		if (gb_record_set_name(r, name, val) < 0) {
			fprintf(stderr, "no field %s.%s\n", kind, name);
			exit(2);
		}
	}
	va_end(ap);
	return r;
}

static void set(struct gb_record *r, const char *name, const char *val)
{
	if (gb_record_set_name(r, name, val) < 0) {
		fprintf(stderr, "no field %s\n", name);
		exit(2);
	}
}

static void valid(int line, const struct gb_record *r,
		  const struct gb_lookup *l)
{
	struct gb_err err = {0};
	int rc = gb_validate(r, l, now, &err);

	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "line %d: refused: %s\n", line, err.msg);
	/* HQ's two halves agree. */
	CHECK(gb_validate(r, NULL, now, &err) == 0);
	CHECK(gb_validate_refs(r, l, &err) == 0);
}

/* HQ's two halves refuse what gb_validate refuses, with its message when
 * the first half passes. */
static void halves_refuse(int line, const struct gb_record *r,
			  const struct gb_lookup *l, const char *msg)
{
	struct gb_err err = {0};

	if (gb_validate(r, NULL, now, &err) == 0) {
		CHECK(gb_validate_refs(r, l, &err) == -1);
		CHECK_STR(err.msg, msg);
		if (strcmp(err.msg, msg) != 0)
			fprintf(stderr, "line %d: halves differ\n", line);
	}
}

/* Expects a refusal whose message starts with field and contains part. */
static void refused(int line, const struct gb_record *r,
		    const struct gb_lookup *l, const char *field,
		    const char *part)
{
	struct gb_err err = {0};
	int rc = gb_validate(r, l, now, &err);
	size_t n = strlen(field);
	int named = strncmp(err.msg, field, n) == 0 &&
		    (err.msg[n] == ':' || err.msg[n] == ' ');

	CHECK(rc == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK(named);
	halves_refuse(line, r, l, err.msg);
	CHECK(strstr(err.msg, part) != NULL);
	if (rc != -1 || !named || !strstr(err.msg, part))
		fprintf(stderr, "line %d: got \"%s\", wanted %s ... %s\n", line,
			err.msg, field, part);
}

#define VALID(r) valid(__LINE__, r, lk)
#define VALID_NOLK(r) valid(__LINE__, r, NULL)
#define REFUSED(r, f, part) refused(__LINE__, r, lk, f, part)
#define REFUSED_NOLK(r, f, part) refused(__LINE__, r, NULL, f, part)

static void msg_is(const struct gb_record *r, const char *want)
{
	struct gb_err err = {0};

	CHECK(gb_validate(r, lk, now, &err) == -1);
	CHECK_STR(err.msg, want);
}

static void test_enterprise(void)
{
	char code[19] = "91350100M00010032";
	struct gb_record *r;
	struct gb_err err = {0};

	code[17] = gb_uscc_check_char(code);
	r = mk("enterprise", "uscc", code, "name", "福州闽江电子有限公司",
	       "type", "company", "community", "S03-C07", "employees", "40",
	       "status", "active", NULL);
	VALID(r);

	set(r, "name", NULL);
	msg_is(r, "name: required (enterprise name)");
	set(r, "name", "   ");
	REFUSED(r, "name", "required");
	set(r, "name", "福州\x01闽江");
	REFUSED(r, "name", "control character");
	set(r, "name", "福州\xff");
	REFUSED(r, "name", "UTF-8");
	set(r, "name", "福州闽江电子有限公司");
	VALID(r);

	set(r, "uscc", "91350100M000100Y44");
	REFUSED(r, "uscc", "check character");
	set(r, "uscc", "91350100m000100y43"); /* from the wire: no rewriting */
	REFUSED(r, "uscc", "lowercase");
	set(r, "uscc", "91350100M000100Y43");
	VALID(r);

	set(r, "type", "Company");
	REFUSED(r, "type", "is not one of company, individual");
	set(r, "type", "comp");
	REFUSED(r, "type", "is not one of");
	set(r, "type", "individual");
	VALID(r);

	set(r, "employees", "-1");
	REFUSED(r, "employees", "below the minimum 0");
	set(r, "employees", "4x");
	REFUSED(r, "employees", "not a whole number");
	set(r, "employees", "0");
	VALID(r);

	set(r, "community", "S03-C99");
	REFUSED(r, "community", "no community \"S03-C99\"");
	VALID_NOLK(r); /* without a lookup references go unchecked */
	set(r, "community", "BROKEN");
	CHECK(gb_validate(r, lk, now, &err) == -1);
	CHECK(err.code == GB_EDB);
	CHECK_STR(err.msg, "lookup: database is locked");
	set(r, "community", "S03-C08");
	VALID(r);

	/* The first broken rule in field order wins. */
	set(r, "uscc", NULL);
	set(r, "status", "gone");
	REFUSED(r, "uscc", "required");
	gb_record_free(r);
}

static struct gb_record *good_check(void)
{
	return mk("contract_check", "enterprise", ENT, "check_date",
		  "2026-02-20", "coordinator", "W01", "employees_total", "40",
		  "contracts_signed", "38", "insured", "35",
		  "hiring_registered", "40", "wage_arrears", "0.00", "findings",
		  "两名员工试用期未签合同\n已当场告知", "outcome", "compliant",
		  NULL);
}

static void test_contract_check(void)
{
	struct gb_record *r = good_check();

	VALID(r);
	set(r, "contracts_signed", "52");
	msg_is(r, "contracts_signed (52) exceeds employees_total (40)");
	set(r, "contracts_signed", "40");
	VALID(r);
	set(r, "insured", "41");
	REFUSED(r, "insured", "exceeds employees_total (40)");
	set(r, "insured", "0");
	set(r, "hiring_registered", "41");
	REFUSED(r, "hiring_registered", "exceeds employees_total (40)");
	set(r, "hiring_registered", "12");
	VALID(r);

	set(r, "outcome", "rectify_order");
	msg_is(r, "deadline: required when outcome is rectify_order");
	set(r, "deadline", "2026-03-20");
	VALID(r);
	set(r, "deadline", "2026-02-20");
	REFUSED(r, "deadline", "is not after check_date 2026-02-20");
	set(r, "deadline", "2026-02-21");
	VALID(r);
	set(r, "outcome", "notice");
	set(r, "deadline", NULL);
	VALID(r);

	/* Dates: not in the future (a check date of today is fine), not
	 * before 2000, not absurdly far ahead, canonical. */
	set(r, "check_date", "2026-03-03");
	msg_is(r, "check_date: 2026-03-03 is in the future");
	set(r, "check_date", "2026-03-02");
	VALID(r);
	set(r, "check_date", "1999-12-31");
	REFUSED(r, "check_date", "before 2000-01-01");
	set(r, "check_date", "2000-01-01");
	VALID(r);
	set(r, "check_date", "2026/02/20");
	REFUSED(r, "check_date", "not a date (YYYY-MM-DD)");
	set(r, "check_date", "2026-02-30");
	REFUSED(r, "check_date", "not a date");
	set(r, "check_date", "2026-02-20");
	set(r, "deadline", "2028-03-01");
	VALID(r);
	set(r, "deadline", "2028-03-05");
	REFUSED(r, "deadline", "more than two years ahead");
	set(r, "deadline", NULL);

	set(r, "coordinator", "P01");
	REFUSED(r, "coordinator", "P01 has the role \"officer\"");
	set(r, "coordinator", "W09");
	REFUSED(r, "coordinator", "no staff member \"W09\"");
	set(r, "coordinator", "W01");
	set(r, "enterprise", "019c8a10-0000-7000-8000-000000000000");
	REFUSED(r, "enterprise", "no enterprise record");
	set(r, "enterprise", ENT);
	set(r, "wage_arrears", "12,50");
	REFUSED(r, "wage_arrears", "not an amount");
	set(r, "wage_arrears", "-1.00");
	REFUSED(r, "wage_arrears", "below zero");
	set(r, "wage_arrears", "3600.00");
	VALID(r);
	set(r, "findings", "欠薪\x1b[31m");
	REFUSED(r, "findings", "control character");
	set(r, "findings", NULL);
	VALID(r);
	set(r, "employees_total", NULL);
	REFUSED(r, "employees_total", "required (employees in total)");
	gb_record_free(r);
}

static void test_rectification(void)
{
	struct gb_record *r = mk("rectification", "check", "chk-notice", "date",
				 "2026-02-01", "result", "rectified", NULL);

	VALID(r);
	set(r, "check", "chk-order");
	VALID(r);
	set(r, "check", "chk-ok");
	REFUSED(r, "check", "outcome \"compliant\"");
	set(r, "check", "chk-none");
	REFUSED(r, "check", "no contract check record \"chk-none\"");
	set(r, "check", "chk-notice");
	set(r, "date", "2026-01-05");
	VALID(r);
	set(r, "date", "2026-01-04");
	REFUSED(r, "date", "before the check's check_date 2026-01-05");
	set(r, "date", "2026-03-03");
	REFUSED(r, "date", "in the future");
	set(r, "date", "2026-02-01");
	set(r, "result", "done");
	REFUSED(r, "result", "is not one of rectified, not_yet, escalated");
	gb_record_free(r);
}

static void test_dispute(void)
{
	struct gb_record *r =
	    mk("dispute", "workers", "3", "category", "wages", "received_date",
	       "2026-02-01", "level", "community", "status", "open", "note",
	       "三名工人反映一月工资未发", NULL);

	VALID(r);
	set(r, "status", "closed");
	msg_is(r, "closed_date: required when status is closed");
	set(r, "closed_date", "2026-02-10");
	VALID(r);
	set(r, "closed_date", "2026-02-01");
	VALID(r);
	set(r, "closed_date", "2026-01-31");
	REFUSED(r, "closed_date", "before received_date 2026-02-01");
	set(r, "closed_date", "2026-02-10");
	set(r, "status", "open");
	msg_is(r, "closed_date: must be empty while status is open");
	set(r, "status", "mediated");
	VALID(r);
	set(r, "workers", "0");
	REFUSED(r, "workers", "below the minimum 1");
	set(r, "workers", "3");
	set(r, "enterprise", ENT);
	VALID(r);
	set(r, "enterprise", "nope");
	REFUSED(r, "enterprise", "no enterprise record");
	gb_record_free(r);
}

static void test_employment(void)
{
	struct gb_record *r = mk("employment", "enterprise", ENT, "date",
				 "2026-02-28", "headcount", "120", "hires", "5",
				 "separations", "2", "vacancies", "8", NULL);

	VALID(r);
	set(r, "vacancies", "-2");
	REFUSED(r, "vacancies", "below the minimum 0");
	gb_record_free(r);
}

static void test_patrol(void)
{
	struct gb_record *r =
	    mk("patrol", "area", "PA-05", "start", at("2026-03-01 22:00"),
	       "end", at("2026-03-02 01:00"), "leader", "P01", "guards",
	       "G01,G02", "mode", "foot", "communities", "S03-C07,S03-C08",
	       "incidents", "0", NULL);

	VALID(r);
	set(r, "end", at("2026-03-01 22:00"));
	REFUSED(r, "end", "is not after start 2026-03-01 22:00");
	set(r, "end", at("2026-03-01 21:00"));
	REFUSED(r, "end", "is not after start");
	set(r, "start", at("2026-02-28 22:00"));
	set(r, "end", at("2026-03-01 22:00"));
	VALID(r); /* exactly 24 h */
	set(r, "start", at("2026-02-28 21:59"));
	REFUSED(r, "end", "more than 24 hours after start");
	set(r, "start", at("2026-03-01 22:00"));
	set(r, "end", at("2026-03-02 01:00"));

	/* The clock: a minute of skew, no more. */
	set(r, "end", ms_text(now + 30000));
	VALID(r);
	set(r, "end", ms_text(now + 120000));
	REFUSED(r, "end", "is in the future");
	set(r, "end", at("2026-03-02 01:00"));
	set(r, "start", at("1999-12-31 23:00"));
	REFUSED(r, "start", "before 2000-01-01");
	set(r, "start", "2026-03-01 22:00");
	REFUSED(r, "start", "not a time");
	set(r, "start", at("2026-03-01 22:00"));

	set(r, "leader", "G01");
	REFUSED(r, "leader",
		"G01 has the role \"guard\", not officer or chief");
	set(r, "leader", "P02");
	VALID(r);
	set(r, "leader", "P01");
	set(r, "guards", "G01,P02");
	REFUSED(r, "guards", "P02 has the role \"chief\", not guard");
	set(r, "guards", "G01,G09");
	REFUSED(r, "guards", "no staff member \"G09\"");
	set(r, "guards", "G01,G01");
	REFUSED(r, "guards", "\"G01\" is listed twice");
	set(r, "guards", NULL);
	VALID(r);
	/* Leader among guards: staff roles keep this from passing with a
	 * lookup, so it is checked without one. */
	set(r, "guards", "G01,P01");
	REFUSED_NOLK(r, "guards", "P01 leads the patrol");
	set(r, "guards", "P011,G01");
	VALID_NOLK(r);
	set(r, "guards", "G01,G02");
	set(r, "communities", "S03-C07,S03-C99");
	REFUSED(r, "communities", "no community \"S03-C99\"");
	set(r, "communities", "S03-C07");
	set(r, "area", "PA-99");
	REFUSED(r, "area", "no police area \"PA-99\"");
	set(r, "area", "PA-05");
	set(r, "mode", "car");
	REFUSED(r, "mode", "is not one of foot, bicycle, vehicle");
	set(r, "mode", "vehicle");
	VALID(r);
	gb_record_free(r);
}

/*
 * A TIME value is an optional '-' and digits that fit in 64 bits, nothing
 * else: the edges of that range, signs, blanks and other spellings of a
 * number, each with the message it has always had.  The patrol is
 * 07:00-08:00 of the morning the tests run in.
 */
static void test_time_numbers(void)
{
	static const struct {
		const char *start, *msg;
	} cases[] = {
	    {"9223372036854775808", "start: \"9223372036854775808\" is not a "
				    "time (milliseconds since 1970)"},
	    {"18446744073709551616", "start: \"18446744073709551616\" is not "
				     "a time (milliseconds since 1970)"},
	    {"-9223372036854775809", "start: \"-9223372036854775809\" is not "
				     "a time (milliseconds since 1970)"},
	    {"-9223372036854775808",
	     "start: 0000-05-17 00:47:04 is before 2000-01-01"},
	    {"9223372036854775807",
	     "start: 0000-05-17 00:47:04 is more than two years ahead"},
	    {"-0", "start: 1970-01-01 08:00 is before 2000-01-01"},
	    {"-1", "start: 1970-01-01 07:59:59 is before 2000-01-01"},
	    {"-", "start: \"-\" is not a time (milliseconds since 1970)"},
	    {"--1", "start: \"--1\" is not a time (milliseconds since 1970)"},
	    {"+1772406000000", "start: \"+1772406000000\" is not a time "
			       "(milliseconds since 1970)"},
	    {"1772406000000 ", "start: \"1772406000000 \" is not a time "
			       "(milliseconds since 1970)"},
	    {" 1772406000000", "start: \" 1772406000000\" is not a time "
			       "(milliseconds since 1970)"},
	    {"1e3", "start: \"1e3\" is not a time (milliseconds since 1970)"},
	    {"0x1f", "start: \"0x1f\" is not a time (milliseconds since 1970)"},
	    {"1772406000000a", "start: \"1772406000000a\" is not a time "
			       "(milliseconds since 1970)"},
	    {"１７７２４０６００００００",
	     "start: \"１７７２４０６００００００\" "
	     "is not a time (milliseconds since "
	     "1970)"},
	    {"1772409600000", "end: 2026-03-02 08:00 is not after start "
			      "2026-03-02 08:00"},
	    {"1772323140000", "end: 2026-03-02 08:00 is more than 24 hours "
			      "after start 2026-03-01 07:59"},
	};
	struct gb_record *r =
	    mk("patrol", "area", "PA-05", "start", "1772406000000", "end",
	       "1772409600000", "leader", "P01", "mode", "foot", "incidents",
	       "0", NULL);

	VALID(r);
	set(r, "start", "0001772406000000");
	VALID(r);
	set(r, "start", "1772323200000"); /* exactly 24 h */
	VALID(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set(r, "start", cases[i].start);
		msg_is(r, cases[i].msg);
	}
	gb_record_free(r);
}

static void test_handover(void)
{
	struct gb_record *r =
	    mk("handover", "area", "PA-05", "time", at("2026-03-02 08:30"),
	       "from_officer", "P01", "to_officer", "P02", "open_items",
	       "幸福里小区3号楼噪音投诉待回访", NULL);

	VALID(r);
	set(r, "to_officer", "P01");
	REFUSED(r, "to_officer", "P01 is also from_officer");
	set(r, "to_officer", "G02");
	REFUSED(r, "to_officer", "G02 has the role \"guard\"");
	set(r, "to_officer", "P02");
	set(r, "time", at("2026-03-02 11:00"));
	REFUSED(r, "time", "in the future");
	gb_record_free(r);
}

static void test_daily_reception(void)
{
	struct gb_record *d =
	    mk("daily_report", "officer", "P01", "date", "2026-03-02",
	       "households", "12", "resident_checks", "30", "temporary_checks",
	       "6", "key_checks", "1", "places", "4", "disputes_mediated", "1",
	       "summary", "走访幸福里社区", NULL);
	struct gb_record *r = mk("reception", "officer", "P02", "room", "PA-05",
				 "start", at("2026-02-27 09:00"), "end",
				 at("2026-02-27 11:30"), "visitors", "7", NULL);

	VALID(d);
	set(d, "date", "2026-03-03");
	REFUSED(d, "date", "2026-03-03 is in the future");
	set(d, "date", "2026-03-02");
	set(d, "officer", "W01");
	REFUSED(d, "officer", "W01 has the role \"coordinator\"");

	VALID(r);
	set(r, "end", at("2026-02-27 08:00"));
	REFUSED(r, "end", "is not after start");
	set(r, "end", at("2026-02-28 09:01"));
	REFUSED(r, "end", "more than 24 hours");
	set(r, "end", at("2026-02-28 09:00"));
	VALID(r);
	set(r, "room", "PA-01");
	REFUSED(r, "room", "no police area");
	gb_record_free(d);
	gb_record_free(r);
}

static void test_request(void)
{
	struct gb_record *r = mk(
	    "request", "area", "PA-05", "received_at", at("2026-03-02 08:00"),
	    "channel", "phone", "category", "help", "priority", "normal",
	    "officer", "P01", "deadline", at("2026-03-03 08:00"), "resolved_at",
	    at("2026-03-02 09:00"), "subject", "老人走失求助", NULL);

	VALID(r);
	set(r, "resolved_at", at("2026-03-02 08:00"));
	VALID(r);
	set(r, "resolved_at", at("2026-03-02 07:59"));
	REFUSED(r, "resolved_at", "is before received_at 2026-03-02 08:00");
	set(r, "resolved_at", NULL);
	VALID(r);
	set(r, "deadline", at("2026-03-02 08:00"));
	REFUSED(r, "deadline", "is not after received_at");
	set(r, "deadline", at("2026-03-02 08:01"));
	VALID(r);
	set(r, "channel", "walk-in");
	REFUSED(r, "channel", "is not one of phone, walk_in, online");
	gb_record_free(r);
}

static void test_defaults(void)
{
	struct gb_record *r = gb_record_new(gb_kind_find("contract_check"));
	/* 00:30 in Beijing is still the previous day in UTC. */
	int64_t t = 0;

	CHECK(gb_time_parse("2026-03-02 00:30", &t, NULL) == 0);
	gb_record_apply_defaults(r, t, "W01");
	CHECK_STR(gb_record_get(r, "check_date"), "2026-03-02");
	CHECK_STR(gb_record_get(r, "coordinator"), "W01");
	CHECK_STR(gb_record_get(r, "wage_arrears"), "0.00");
	CHECK_STR(gb_record_get(r, "outcome"), "compliant");
	CHECK(gb_record_get(r, "enterprise") == NULL);
	CHECK(gb_record_get(r, "deadline") == NULL);
	gb_record_free(r);

	/* Never overwritten; no "@me" without a staff member. */
	r = mk("patrol", "mode", "vehicle", NULL);
	gb_record_apply_defaults(r, now, NULL);
	CHECK_STR(gb_record_get(r, "mode"), "vehicle");
	CHECK_STR(gb_record_get(r, "incidents"), "0");
	CHECK(gb_record_get(r, "leader") == NULL);
	gb_record_apply_defaults(r, now, "");
	CHECK(gb_record_get(r, "leader") == NULL);
	gb_record_apply_defaults(r, now, "P02");
	CHECK_STR(gb_record_get(r, "leader"), "P02");
	gb_record_apply_defaults(r, now, "P01");
	CHECK_STR(gb_record_get(r, "leader"), "P02");
	gb_record_free(r);

	r = gb_record_new(gb_kind_find("handover"));
	gb_record_apply_defaults(r, now, "P01");
	CHECK_STR(gb_record_get(r, "time"), ms_text(now));
	gb_record_free(r);

	/* The request deadline follows priority and received_at. */
	r = mk("request", "area", "PA-05", "category", "alarm", NULL);
	gb_record_apply_defaults(r, now, "P01");
	CHECK_STR(gb_record_get(r, "received_at"), ms_text(now));
	CHECK_STR(gb_record_get(r, "priority"), "normal");
	CHECK_STR(gb_record_get(r, "channel"), "phone");
	CHECK_STR(gb_record_get(r, "officer"), "P01");
	CHECK_STR(gb_record_get(r, "deadline"),
		  ms_text(now + 24 * INT64_C(3600000)));
	VALID(r);
	gb_record_free(r);

	r = mk("request", "priority", "urgent", "received_at",
	       at("2026-03-02 08:00"), NULL);
	gb_record_apply_defaults(r, now, "P01");
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-02 09:00"));
	gb_record_free(r);

	r = mk("request", "priority", "low", "received_at",
	       at("2026-02-27 10:00"), NULL); /* a Friday */
	gb_record_apply_defaults(r, now, "P01");
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-06 10:00"));
	gb_record_free(r);

	r = mk("request", "priority", "low", "received_at",
	       at("2026-02-27 10:00"), "deadline", at("2026-02-27 12:00"),
	       NULL);
	gb_record_apply_defaults(r, now, "P01");
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-02-27 12:00"));
	gb_record_free(r);
}

static void test_deadline(void)
{
	int64_t t = 0, want = 0;

	CHECK(gb_time_parse("2026-03-06 16:00", &t, NULL) == 0);
	CHECK(gb_request_deadline(t, "urgent") == t + INT64_C(3600000));
	CHECK(gb_request_deadline(t, "normal") == t + INT64_C(86400000));
	CHECK(gb_time_parse("2026-03-13 16:00", &want, NULL) == 0);
	CHECK(gb_request_deadline(t, "low") == want);
	CHECK(gb_request_deadline(t, "soon") == -1);
	CHECK(gb_request_deadline(t, NULL) == -1);
	/* A weekend request of low priority starts its five working days
	 * at the next Monday 00:00: Saturday 03-07 10:00 and Sunday 03-08
	 * 23:00 are both due Monday 03-16 00:00 (Monday 03-09 + 5), not
	 * Friday 03-13 at the hour they came. */
	CHECK(gb_time_parse("2026-03-07 10:00", &t, NULL) == 0);
	CHECK(gb_time_parse("2026-03-16 00:00", &want, NULL) == 0);
	CHECK(gb_request_deadline(t, "low") == want);
	CHECK(gb_time_parse("2026-03-08 23:00", &t, NULL) == 0);
	CHECK(gb_request_deadline(t, "low") == want);
	/* Other priorities count hours, weekend or not. */
	CHECK(gb_request_deadline(t, "urgent") == t + INT64_C(3600000));
}

/* The default deadline follows an edited priority or received time until
 * a deadline is set by hand. */
static void test_deadline_follow(void)
{
	struct gb_record *old, *r;

	/* Normal, received 03-02 08:00, its default 03-03 08:00; raised to
	 * urgent: 03-02 09:00, not 24 h. */
	old = mk("request", "priority", "normal", "received_at",
		 at("2026-03-02 08:00"), "deadline", at("2026-03-03 08:00"),
		 NULL);
	r = gb_record_dup(old);
	gb_record_set_name(r, "priority", "urgent");
	gb_request_deadline_follow(r, old, 0);
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-02 09:00"));
	gb_record_free(r);
	/* The same edit giving a deadline keeps that one. */
	r = gb_record_dup(old);
	gb_record_set_name(r, "priority", "urgent");
	gb_record_set_name(r, "deadline", at("2026-03-02 12:00"));
	gb_request_deadline_follow(r, old, 1);
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-02 12:00"));
	gb_record_free(r);
	/* A new received time moves it too: 03-02 10:00 + 24 h. */
	r = gb_record_dup(old);
	gb_record_set_name(r, "received_at", at("2026-03-02 10:00"));
	gb_request_deadline_follow(r, old, 0);
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-03 10:00"));
	gb_record_free(r);
	/* An edit of something else leaves it. */
	r = gb_record_dup(old);
	gb_record_set_name(r, "subject", "噪音扰民");
	gb_request_deadline_follow(r, old, 0);
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-03 08:00"));
	gb_record_free(r);
	gb_record_free(old);

	/* Set by hand once (03-05 12:00): a new priority leaves it. */
	old = mk("request", "priority", "normal", "received_at",
		 at("2026-03-02 08:00"), "deadline", at("2026-03-05 12:00"),
		 NULL);
	r = gb_record_dup(old);
	gb_record_set_name(r, "priority", "urgent");
	gb_request_deadline_follow(r, old, 0);
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-05 12:00"));
	gb_record_free(r);
	gb_record_free(old);

	/* A Saturday low request entered before the weekend rule, due
	 * Friday 03-13 10:00 by the old count, is a default too: made
	 * normal, it is due 03-08 10:00. */
	old = mk("request", "priority", "low", "received_at",
		 at("2026-03-07 10:00"), "deadline", at("2026-03-13 10:00"),
		 NULL);
	r = gb_record_dup(old);
	gb_record_set_name(r, "priority", "normal");
	gb_request_deadline_follow(r, old, 0);
	CHECK_STR(gb_record_get(r, "deadline"), at("2026-03-08 10:00"));
	gb_record_free(r);
	gb_record_free(old);

	/* Other kinds are left alone. */
	old = mk("patrol", "mode", "foot", NULL);
	r = gb_record_dup(old);
	gb_record_set_name(r, "mode", "vehicle");
	gb_request_deadline_follow(r, old, 0);
	CHECK_STR(gb_record_get(r, "mode"), "vehicle");
	gb_record_free(r);
	gb_record_free(old);
}

static int night(const char *a, const char *b)
{
	int64_t s = 0, e = 0;

	if (gb_time_parse(a, &s, NULL) < 0 || gb_time_parse(b, &e, NULL) < 0)
		return -1;
	return gb_patrol_is_night(s, e);
}

static void test_night(void)
{
	CHECK(night("2026-03-01 20:00", "2026-03-01 22:00") == 0);
	CHECK(night("2026-03-01 21:00", "2026-03-01 22:01") == 1);
	CHECK(night("2026-03-01 23:00", "2026-03-01 23:30") == 1);
	CHECK(night("2026-03-02 05:00", "2026-03-02 06:00") == 1);
	CHECK(night("2026-03-02 06:00", "2026-03-02 07:00") == 0);
	CHECK(night("2026-03-02 06:00", "2026-03-02 22:00") == 0);
	CHECK(night("2026-03-02 05:59", "2026-03-02 22:00") == 1);
	CHECK(night("2026-03-02 06:00", "2026-03-02 22:01") == 1);
	CHECK(night("2026-03-02 10:00", "2026-03-02 10:00") == 0);
	CHECK(night("2026-03-02 12:00", "2026-03-02 10:00") == 0);
	CHECK(night("2026-03-01 20:00", "2026-03-02 20:00") == 1);
	/* Local time decides: 23:00 UTC is 07:00 in Beijing. */
	CHECK(night("2026-03-01T23:00Z", "2026-03-01T23:30Z") == 0);
	setenv("GRIDBOOK_TZ", "UTC", 1);
	CHECK(night("2026-03-01T23:00Z", "2026-03-01T23:30Z") == 1);
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
}

/* Expects gb_validate_header to refuse r naming field, with part in the
 * message. */
static void header_refused(int line, const struct gb_record *r,
			   const char *field, const char *part)
{
	struct gb_err err = {0};
	int rc = gb_validate_header(r, now, &err);

	CHECK(rc == -1 && err.code == GB_EINVAL);
	CHECK(strncmp(err.msg, field, strlen(field)) == 0);
	CHECK(strstr(err.msg, part) != NULL);
	if (rc != -1 || strncmp(err.msg, field, strlen(field)) ||
	    !strstr(err.msg, part))
		fprintf(stderr, "line %d: got \"%s\", wanted %s ... %s\n", line,
			err.msg, field, part);
}

#define HEADER_REFUSED(r, f, part) header_refused(__LINE__, r, f, part)

/* The common fields a device sets itself, as HQ checks them (issue of
 * records from 1900, from 10^7 ms, with ids not of UUIDv7 layout, with an
 * author of another grid, with controls in text). */
static void test_header(void)
{
	struct gb_record *r =
	    mk("enterprise", "uscc", "91350100M000100Y43", "name",
	       "望川市东风印刷有限公司", "community", "S03-C07", "employees",
	       "12", "type", "company", "status", "active", NULL);
	struct gb_err err = {0};
	char longer[3 * (GB_VOID_REASON_MAX + 1) + 1] = "";

	snprintf(r->id, sizeof(r->id), "%s", ENT);
	snprintf(r->staff, sizeof(r->staff), "W01");
	r->created_at = now - 3600000;
	r->updated_at = now;
	CHECK(gb_validate_header(r, now, &err) == 0);
	CHECK(gb_validate_refs(r, lk, &err) == 0);

	snprintf(r->id, sizeof(r->id), "019c8a10-7e2f-4a3b-9c41-2d5e6f708192");
	HEADER_REFUSED(r, "id", "UUIDv7");
	snprintf(r->id, sizeof(r->id), "019c8a10-7e2f-7a3b-cc41-2d5e6f708192");
	HEADER_REFUSED(r, "id", "UUIDv7");
	snprintf(r->id, sizeof(r->id), "%s", ENT);

	/* 1900-01-01 UTC, 10^7 ms, a day and a minute ahead, 10^15. */
	r->created_at = INT64_C(-2208988800000);
	HEADER_REFUSED(r, "created_at", "before 2000-01-01");
	r->created_at = INT64_C(10000000);
	HEADER_REFUSED(r, "created_at", "before 2000-01-01");
	r->created_at = now;
	r->updated_at = now + 24 * 3600000 + 60000;
	HEADER_REFUSED(r, "updated_at", "24 hours ahead");
	r->updated_at = INT64_C(1000000000000000);
	HEADER_REFUSED(r, "updated_at", "24 hours ahead");
	r->updated_at = now + 23 * 3600000;
	CHECK(gb_validate_header(r, now, &err) == 0);

	snprintf(r->staff, sizeof(r->staff), "W0\x01");
	HEADER_REFUSED(r, "staff", "not a staff code");
	/* An author of another grid is not found in this one. */
	snprintf(r->staff, sizeof(r->staff), "K0001");
	CHECK(gb_validate_header(r, now, &err) == 0);
	CHECK(gb_validate_refs(r, lk, &err) == -1);
	CHECK(strstr(err.msg, "staff") == err.msg && strstr(err.msg, "K0001"));
	snprintf(r->staff, sizeof(r->staff), "W01");

	r->voided = 1;
	gb_record_set_void_reason(r, "重复录入");
	CHECK(gb_validate_header(r, now, &err) == 0);
	gb_record_set_void_reason(r, "重复\x1b[31m录入");
	HEADER_REFUSED(r, "void_reason", "control character");
	gb_record_set_void_reason(r, "重复\xe2\x80\xae录入");
	HEADER_REFUSED(r, "void_reason", "U+202E");
	for (int i = 0; i <= GB_VOID_REASON_MAX; i++)
		memcpy(longer + 3 * i, "废", 4);
	gb_record_set_void_reason(r, longer);
	HEADER_REFUSED(r, "void_reason", "longer than");
	CHECK(gb_validate_void_reason(longer, &err) == -1);
	gb_record_set_void_reason(r, NULL);
	r->voided = 0;

	/* Bidi and zero-width controls in a name; plain text passes. */
	set(r, "name", "望川市\xe2\x80\x8b东风印刷有限公司");
	REFUSED(r, "name", "U+200B");
	set(r, "name", "\xe2\x80\xae司公限有刷印风东");
	REFUSED(r, "name", "U+202E");
	set(r, "name", "东风\xef\xbb\xbf印刷");
	REFUSED(r, "name", "U+FEFF");
	set(r, "name", "东风\xe2\x81\xa6印刷");
	REFUSED(r, "name", "U+2066");
	set(r, "name", "望川市东风印刷有限公司");
	VALID(r);
	gb_record_free(r);
}

/* The derived deadline is the request entry's (kinds.h, deadline): a
 * kind whose entry has none keeps an empty deadline of its own empty,
 * and the entries name fields the kind has. */
static void test_deadline_entry(void)
{
	struct gb_record *old, *r;
	int with = 0;

	for (int i = 0; i < gb_nkinds; i++) {
		const struct gb_kind *k = &gb_kinds[i];

		if (!k->deadline.field)
			continue;
		with++;
		CHECK(gb_kind_field(k, k->deadline.field) >= 0);
		CHECK(gb_kind_field(k, k->deadline.received) >= 0);
		CHECK(gb_kind_field(k, k->deadline.priority) >= 0);
	}
	CHECK(with == 1);
	CHECK(gb_kind_find("request")->deadline.field != NULL);
	/* A check's deadline is a field of its own, never derived. */
	r = mk("contract_check", "check_date", "2026-03-01", NULL);
	gb_record_apply_defaults(r, now, "L01");
	CHECK(gb_record_get(r, "deadline") == NULL);
	old = gb_record_dup(r);
	gb_request_deadline_follow(r, old, 0);
	CHECK(gb_record_get(r, "deadline") == NULL);
	gb_record_free(old);
	gb_record_free(r);
}

/* A vector of records keeps copies of what it was handed. */
static void test_record_vec(void)
{
	struct gb_record_vec rv = {NULL, 0, 0};
	struct gb_record *r = mk("request", "subject", "噪音扰民", NULL);

	for (int i = 0; i < 40; i++)
		CHECK(gb_record_vec_push(&rv, r) == 0);
	gb_record_set_name(r, "subject", "占道经营");
	CHECK(rv.n == 40);
	CHECK(rv.v[0] != r);
	CHECK_STR(gb_record_get(rv.v[39], "subject"), "噪音扰民");
	gb_record_free(r);
	gb_record_vec_release(&rv);
	CHECK(rv.n == 0 && rv.v == NULL);
	gb_record_vec_release(&rv);
}

int main(void)
{
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	/* A Monday morning in Beijing. */
	if (gb_time_parse("2026-03-02 10:00", &now, NULL) < 0)
		return 2;
	test_enterprise();
	test_contract_check();
	test_rectification();
	test_dispute();
	test_employment();
	test_patrol();
	test_time_numbers();
	test_handover();
	test_daily_reception();
	test_request();
	test_defaults();
	test_deadline();
	test_deadline_follow();
	test_deadline_entry();
	test_record_vec();
	test_night();
	test_header();
	return check_done();
}

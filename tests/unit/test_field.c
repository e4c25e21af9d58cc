/*
 * Tests of field.c: each type's accepted spellings and their canonical
 * form, and for each rule one refusal whose message names the field.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "field.h"
#include "kinds.h"
#include "uscc.h"
#include "utf8.h"

#include "banned.h"

static const struct gb_field *fld(const char *kind, const char *name)
{
	const struct gb_kind *k = gb_kind_find(kind);
	int i = k ? gb_kind_field(k, name) : -1;

	if (i < 0) {
		fprintf(stderr, "no field %s.%s\n", kind, name);
		exit(2);
	}
	return &k->fields[i];
}

/* Parses in and checks the canonical result (NULL for empty). */
static void ok(int line, const char *kind, const char *name, const char *in,
	       const char *want)
{
	struct gb_err err = {0};
	char *out = (char *)"unset";
	int rc = gb_field_parse(fld(kind, name), in, &out, &err);

	if (rc != 0)
		fprintf(stderr, "line %d: %s refused: %s\n", line, in, err.msg);
	CHECK(rc == 0);
	if (!want) {
		CHECK(rc == 0 && out == NULL);
	} else {
		if (rc == 0)
			CHECK_STR(out, want);
	}
	if (rc == 0)
		free(out);
}

/*
 * Parses in, expects a refusal whose message starts with "name: " and
 * contains part; the message must be valid UTF-8 whatever the input.
 */
static void bad(int line, const char *kind, const char *name, const char *in,
		const char *part)
{
	struct gb_err err = {0};
	char *out = NULL, prefix[64];
	int rc = gb_field_parse(fld(kind, name), in, &out, &err);

	snprintf(prefix, sizeof(prefix), "%s: ", name);
	CHECK(rc == -1);
	CHECK(out == NULL);
	CHECK(err.code == GB_EINVAL);
	CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0);
	CHECK(strstr(err.msg, part) != NULL);
	CHECK(gb_utf8_valid(err.msg, strlen(err.msg)));
	if (rc != -1 || strstr(err.msg, part) == NULL ||
	    strncmp(err.msg, prefix, strlen(prefix)) != 0)
		fprintf(stderr, "line %d: %s: got \"%s\", wanted \"%s\"\n",
			line, in, err.msg, part);
	free(out);
}

#define OK(k, f, in, want) ok(__LINE__, k, f, in, want)
#define BAD(k, f, in, part) bad(__LINE__, k, f, in, part)

/* The exact message of a refusal. */
static void msg_is(const char *kind, const char *name, const char *in,
		   const char *want)
{
	struct gb_err err = {0};
	char *out = NULL;

	CHECK(gb_field_parse(fld(kind, name), in, &out, &err) == -1);
	CHECK_STR(err.msg, want);
	free(out);
}

static char *repeat(const char *unit, int n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * (size_t)n + 1);

	for (int i = 0; i < n; i++)
		memcpy(s + len * (size_t)i, unit, len);
	s[len * (size_t)n] = '\0';
	return s;
}

static void test_empty(void)
{
	OK("enterprise", "name", NULL, NULL);
	OK("enterprise", "name", "", NULL);
	OK("enterprise", "name", " \t\n ", NULL);
	OK("enterprise", "name", "\xe3\x80\x80 ", NULL); /* ideographic */
	OK("contract_check", "employees_total", "  ", NULL);
	OK("patrol", "guards", " , ;", NULL);
}

static void test_text(void)
{
	char *s;

	OK("enterprise", "name", "  福州闽江电子有限公司  ",
	   "福州闽江电子有限公司");
	OK("enterprise", "name", "\xe3\x80\x80陈建国\xc2\xa0", "陈建国");
	OK("enterprise", "address", "鼓楼区 五四路 88 号",
	   "鼓楼区 五四路 88 号");
	BAD("enterprise", "name", "闽江\x01电子", "U+0001");
	BAD("enterprise", "name", "闽江\n电子", "U+000A");
	BAD("enterprise", "name", "a\xc2\x85z", "U+0085");
	BAD("enterprise", "name", "\xff\xfe", "not valid UTF-8");
	BAD("enterprise", "name", "ab\xe4\xb8", "not valid UTF-8");
	/* Long text keeps newlines and tabs; CRLF becomes LF. */
	OK("contract_check", "findings", "两人未签合同\r\n\t已告知",
	   "两人未签合同\n\t已告知");
	BAD("contract_check", "findings", "bell\x07", "U+0007");
	BAD("contract_check", "findings", "cr\ronly", "U+000D");

	s = repeat("张", 200);
	OK("enterprise", "name", s, s);
	free(s);
	s = repeat("张", 201);
	BAD("enterprise", "name", s, "longer than 200 characters");
	free(s);
	s = repeat("a", 4000);
	OK("contract_check", "findings", s, s);
	free(s);
	s = repeat("说", 1334); /* 4002 bytes */
	BAD("contract_check", "findings", s, "longer than 4000 bytes");
	free(s);
}

static void test_int(void)
{
	OK("contract_check", "employees_total", "40", "40");
	OK("contract_check", "employees_total", " +7 ", "7");
	OK("contract_check", "employees_total", "007", "7");
	OK("contract_check", "employees_total", "0", "0");
	OK("contract_check", "employees_total", "-0", "0");
	OK("contract_check", "employees_total", "1000000000", "1000000000");
	msg_is("contract_check", "employees_total", "-3",
	       "employees_total: \"-3\" is below the minimum 0");
	msg_is("contract_check", "employees_total", "12a",
	       "employees_total: \"12a\" is not a whole number");
	BAD("contract_check", "employees_total", "1000000001",
	    "above the maximum 1000000000");
	BAD("contract_check", "employees_total", "99999999999999999999999",
	    "above the maximum");
	BAD("contract_check", "employees_total", "-99999999999999999999999",
	    "below the minimum");
	BAD("contract_check", "employees_total", "1 2", "not a whole number");
	BAD("contract_check", "employees_total", "+", "not a whole number");
	BAD("contract_check", "employees_total", "4.5", "not a whole number");
	BAD("contract_check", "employees_total", "\xef\xbc\x94", /* ４ */
	    "not a whole number");
	BAD("dispute", "workers", "0", "below the minimum 1");
	OK("dispute", "workers", "1", "1");
}

static void test_money(void)
{
	OK("contract_check", "wage_arrears", "1200", "1200.00");
	OK("contract_check", "wage_arrears", "1200.5", "1200.50");
	OK("contract_check", "wage_arrears", "1,200.50", "1200.50");
	OK("contract_check", "wage_arrears", "1,234,567.8", "1234567.80");
	OK("contract_check", "wage_arrears", "0", "0.00");
	OK("contract_check", "wage_arrears", "0.05", "0.05");
	OK("contract_check", "wage_arrears", "000120", "120.00");
	OK("contract_check", "wage_arrears", "999999999999.99",
	   "999999999999.99");
	BAD("contract_check", "wage_arrears", "-5", "below zero");
	BAD("contract_check", "wage_arrears", "1.234",
	    "more than two decimals");
	BAD("contract_check", "wage_arrears", "12,50", "not an amount");
	BAD("contract_check", "wage_arrears", "1,2000", "not an amount");
	BAD("contract_check", "wage_arrears", "1234,567", "not an amount");
	BAD("contract_check", "wage_arrears", ",100", "not an amount");
	BAD("contract_check", "wage_arrears", "100,", "not an amount");
	BAD("contract_check", "wage_arrears", "1.", "not an amount");
	BAD("contract_check", "wage_arrears", ".5", "not an amount");
	BAD("contract_check", "wage_arrears", "12 元", "not an amount");
	BAD("contract_check", "wage_arrears", "abc", "not an amount");
	BAD("contract_check", "wage_arrears", "1000000000000", "maximum");
}

static void test_date(void)
{
	OK("contract_check", "check_date", "2026-01-05", "2026-01-05");
	OK("contract_check", "check_date", "2026/01/05", "2026-01-05");
	OK("contract_check", "check_date", "2026/1/5", "2026-01-05");
	OK("contract_check", "check_date", "2024/2/29", "2024-02-29");
	OK("contract_check", "check_date", "2026.3.1", "2026-03-01");
	msg_is("contract_check", "check_date", "2026-13-01",
	       "check_date: \"2026-13-01\" is not a date (YYYY-MM-DD, "
	       "YYYY/MM/DD, MM-DD, 今天 or 昨天)");
	BAD("contract_check", "check_date", "2026-02-29", "not a date");
	BAD("contract_check", "check_date", "2026/1-5", "not a date");
	BAD("contract_check", "check_date", "26/1/5", "not a date");
	BAD("contract_check", "check_date", "2026-01-05x", "not a date");
	BAD("contract_check", "check_date", "2026-001-05", "not a date");
	BAD("contract_check", "check_date", "5 Jan 2026", "not a date");
}

static void test_time(void)
{
	/* 17:00 in Beijing is 09:00 UTC. */
	OK("patrol", "start", "2025-11-27 17:00", "1764234000000");
	OK("patrol", "start", "2025-11-27T09:00Z", "1764234000000");
	OK("patrol", "start", "1764234000000", "1764234000000");
	OK("patrol", "start", "  2025-11-27 17:00:30 ", "1764234030000");
	BAD("patrol", "start", "tomorrow", "tomorrow");
	BAD("patrol", "start", "2025-11-27 25:00", "not a time");
}

static void test_enum(void)
{
	OK("contract_check", "outcome", "rectify_order", "rectify_order");
	OK("contract_check", "outcome", "Rectify-Order", "rectify_order");
	OK("contract_check", "outcome", "rect", "rectify_order");
	OK("contract_check", "outcome", "NOTICE", "notice");
	OK("contract_check", "outcome", "ref", "referred");
	OK("request", "channel", "walk in", "walk_in");
	OK("request", "channel", "Walk-In", "walk_in");
	msg_is("contract_check", "outcome", "fine",
	       "outcome: \"fine\" is not one of compliant, notice, "
	       "rectify_order, referred");
	BAD("contract_check", "outcome", "re",
	    "\"re\" could be any of rectify_order, referred");
	BAD("contract_check", "outcome", "rectify_orders", "is not one of");
	BAD("contract_check", "outcome", "责令改正", "is not one of");
}

static void test_uscc(void)
{
	char code[19] = "91350100M00010032";

	code[17] = gb_uscc_check_char(code);
	code[18] = '\0';
	CHECK(code[17] != '\0');
	OK("enterprise", "uscc", code, code);
	OK("enterprise", "uscc", "91350100M000100Y43", "91350100M000100Y43");
	OK("enterprise", "uscc", " 9135 0100 m000 100y 43 ",
	   "91350100M000100Y43");
	BAD("enterprise", "uscc", "91350100M000100Y44", "check character");
	BAD("enterprise", "uscc", "91350100M000100", "18");
}

static void test_ref_list(void)
{
	OK("patrol", "leader", "  P01 ", "P01");
	OK("patrol", "leader", "王海涛", "王海涛");
	BAD("patrol", "leader", "P\x01", "U+0001");
	OK("patrol", "guards", "G01", "G01");
	OK("patrol", "guards", "G01, G02；G03、G04，G05 G06;;G07",
	   "G01,G02,G03,G04,G05,G06,G07");
	OK("patrol", "guards", "刘强、赵磊", "刘强,赵磊");
	BAD("patrol", "guards", "G01,G02,G01", "\"G01\" is listed twice");
	BAD("patrol", "communities", "S03-C07 S03-C07",
	    "\"S03-C07\" is listed twice");
	BAD("patrol", "guards", "G01,\xff", "not valid UTF-8");
}

static void test_format(void)
{
	const struct gb_field *start = fld("patrol", "start");
	const struct gb_field *name = fld("enterprise", "name");
	char *s;

	s = gb_field_format(start, "1764234000000");
	CHECK_STR(s, "2025-11-27 17:00");
	free(s);
	s = gb_field_format(start, "1764234030000");
	CHECK_STR(s, "2025-11-27 17:00:30");
	free(s);
	s = gb_field_format(start, "not a number");
	CHECK_STR(s, "not a number");
	free(s);
	s = gb_field_format(name, "陈建国");
	CHECK_STR(s, "陈建国");
	free(s);
	CHECK(gb_field_format(name, NULL) == NULL);
	CHECK(gb_field_format(start, NULL) == NULL);
}

int main(void)
{
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	test_empty();
	test_text();
	test_int();
	test_money();
	test_date();
	test_time();
	test_enum();
	test_uscc();
	test_ref_list();
	test_format();
	return check_done();
}

/*
 * Tests of table.c, the printer both the client's lists and HQ's reports
 * use: columns padded by display width (a Chinese character is two
 * columns), numbers aligned right, a cell over its column's limit cut with
 * "…", the rule under the header or none, no blank at the end of a line,
 * a newline in a cell shown as a space, and a buffer's cap honoured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "table.h"
#include "xalloc.h"

#include "banned.h"

/* The table as text; the caller frees it. */
static char *text(const struct gb_table *t)
{
	struct gb_buf b;
	size_t len;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(gb_table_write(t, &b, NULL) == 0);
	return gb_buf_detach(&b, &len);
}

static void test_widths(void)
{
	static const char *const head[] = {"code", "name", "employees"};
	struct gb_table t;
	char *s;

	gb_table_init(&t, 3);
	gb_table_header(&t, head);
	gb_table_column(&t, 2, 0, 1);
	gb_table_row(&t);
	gb_table_cell(&t, 0, "S01-C01");
	gb_table_cell(&t, 1, "东风社区");
	gb_table_cell(&t, 2, "48");
	gb_table_row(&t);
	gb_table_cell(&t, 0, "S01-C02");
	gb_table_cell(&t, 1, "文昌街道第一社区");
	gb_table_cell(&t, 2, "1200");
	CHECK(gb_table_body_rows(&t) == 2);
	s = text(&t);
	CHECK_STR(s, "code     name              employees\n"
		     "------------------------------------\n"
		     "S01-C01  东风社区                 48\n"
		     "S01-C02  文昌街道第一社区       1200\n");
	free(s);

	/* HQ's tables have no rule. */
	t.flags = GB_TABLE_NO_RULE;
	s = text(&t);
	CHECK_STR(s, "code     name              employees\n"
		     "S01-C01  东风社区                 48\n"
		     "S01-C02  文昌街道第一社区       1200\n");
	free(s);
	gb_table_release(&t);
}

static void test_cut_and_blanks(void)
{
	static const char *const head[] = {"kind", "subject", "who"};
	struct gb_table t;
	char *s;

	gb_table_init(&t, 3);
	gb_table_header(&t, head);
	gb_table_column(&t, 1, 8, 0);
	gb_table_row(&t);
	gb_table_cell(&t, 0, "request");
	gb_table_cell(&t, 1, "老人走失请求协助查找");
	gb_table_cell(&t, 2, "周春梅");
	gb_table_row(&t);
	gb_table_cell(&t, 0, "patrol");
	gb_table_cell(&t, 1, "night\nshift");
	/* The last cell empty: the line ends at the last text. */
	gb_table_row(&t);
	gb_table_cell(&t, 0, "handover");
	gb_table_cell(&t, 1, NULL);
	s = text(&t);
	/* 8 columns: three characters (6) and the ellipsis, one over. */
	CHECK_STR(s, "kind      subject   who\n"
		     "--------------------------\n"
		     "request   老人走…   周春梅\n"
		     "patrol    night s…\n"
		     "handover\n");
	free(s);
	gb_table_release(&t);
}

static void test_plain_and_tr(void)
{
	static const char *const msgids[] = {"id", "status"};
	struct gb_table t;
	char *s;

	gb_table_init(&t, 2);
	t.flags = GB_TABLE_PLAIN;
	gb_table_row(&t);
	gb_table_cell(&t, 0, "author");
	gb_table_cell(&t, 1, "冯秀兰 (K0001)");
	gb_table_row(&t);
	gb_table_cell(&t, 0, "version");
	gb_table_cell_take(&t, 1, xstrdup("2"));
	s = text(&t);
	CHECK_STR(s, "author   冯秀兰 (K0001)\n"
		     "version  2\n");
	free(s);
	gb_table_release(&t);

	/* No catalogue is bound here, so _() gives the msgids back. */
	gb_table_init(&t, 2);
	gb_table_header_tr(&t, msgids);
	s = text(&t);
	CHECK_STR(s, "id  status\n"
		     "----------\n");
	free(s);
	gb_table_release(&t);
}

static void test_cap(void)
{
	static const char *const head[] = {"name"};
	struct gb_table t;
	struct gb_buf b;
	struct gb_err err;

	gb_table_init(&t, 1);
	gb_table_header(&t, head);
	for (int i = 0; i < 100; i++) {
		gb_table_row(&t);
		gb_table_cell(&t, 0, "望川市文昌精密机械有限公司");
	}
	gb_buf_init(&b, 256);
	CHECK(gb_table_write(&t, &b, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	gb_buf_release(&b);
	gb_table_release(&t);
}

int main(void)
{
	test_widths();
	test_cut_and_blanks();
	test_plain_and_tr();
	test_cap();
	return check_done();
}

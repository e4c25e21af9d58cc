/*
 * Tests of csv.c: what spreadsheets save (a BOM, CRLF, quoted fields with
 * commas, quotes and line breaks, Chinese text), the line numbers a person
 * sees in an editor, the errors for broken files, the writer's quoting,
 * and one pass over a file the size of a large import.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "csv.h"

#include "banned.h"

/* A FILE holding exactly len bytes of s, NULs included. */
static FILE *open_bytes(const char *s, size_t len)
{
	FILE *fp = tmpfile();

	if (!fp) {
		perror("tmpfile");
		exit(1);
	}
	if (len)
		fwrite(s, 1, len, fp);
	rewind(fp);
	return fp;
}

static FILE *open_str(const char *s)
{
	return open_bytes(s, strlen(s));
}

/* Reads the next row and checks its line and fields ("|"-joined). */
static void expect_row(struct gb_csv *c, long line, const char *joined)
{
	struct gb_err err;
	char buf[512];
	size_t n = 0;
	int i, rc;

	rc = gb_csv_next(c, &err);
	if (rc != 1) {
		fprintf(stderr, "expected a row, got %d (%s)\n", rc,
			rc < 0 ? err.msg : "end");
		CHECK(rc == 1);
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < c->nfields; i++) {
		int w = snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "|" : "",
				 c->field[i]);

		if (w < 0 || (size_t)w >= sizeof(buf) - n)
			break;
		n += (size_t)w;
	}
	if (c->line != line)
		fprintf(stderr, "row \"%s\" on line %ld, expected %ld\n", buf,
			c->line, line);
	CHECK(c->line == line);
	CHECK_STR(buf, joined);
}

static void expect_end(struct gb_csv *c)
{
	struct gb_err err;

	CHECK(gb_csv_next(c, &err) == 0);
	CHECK(gb_csv_next(c, &err) == 0);
}

static void test_basic(void)
{
	struct gb_csv c;
	FILE *fp = open_str("uscc,name,employees\n"
			    "91350100M000100Y43,福州市鼓楼区林记小吃店,12\n"
			    "91110000600037341L,北京示例科技有限公司,350\n");

	gb_csv_init(&c, fp);
	expect_row(&c, 1, "uscc|name|employees");
	CHECK(c.nfields == 3);
	expect_row(&c, 2, "91350100M000100Y43|福州市鼓楼区林记小吃店|12");
	expect_row(&c, 3, "91110000600037341L|北京示例科技有限公司|350");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
}

static void test_bom_and_line_ends(void)
{
	struct gb_csv c;
	FILE *fp;

	/* Excel's "CSV UTF-8": a BOM and CRLF. */
	fp = open_str("\xef\xbb\xbfname,community\r\n张伟,S03-C07\r\n"
		      "王秀英,S03-C08\r\n");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "name|community");
	CHECK_STR(c.field[0], "name");
	expect_row(&c, 2, "张伟|S03-C07");
	expect_row(&c, 3, "王秀英|S03-C08");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	/* A file that begins with EF but no BOM keeps its first bytes:
	 * U+F900 is a CJK compatibility ideograph. */
	fp = open_str("\xef\xa4\x80,x\n");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "\xef\xa4\x80|x");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	fp = open_str("\xef\xbb");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "\xef\xbb");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	fp = open_str("\xef\r\nabc");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "\xef");
	expect_row(&c, 2, "abc");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	fp = open_str("\xef\xbb\xbf");
	gb_csv_init(&c, fp);
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	fp = open_str("");
	gb_csv_init(&c, fp);
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	/* Old Mac line ends, mixed with the others, and no final line
	 * end. */
	fp = open_str("a,b\rc,d\r\ne\nf");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "a|b");
	expect_row(&c, 2, "c|d");
	expect_row(&c, 3, "e");
	expect_row(&c, 4, "f");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	/* Blank lines are skipped but still counted. */
	fp = open_str("\r\n\na\n\n\r\nb\n\n");
	gb_csv_init(&c, fp);
	expect_row(&c, 3, "a");
	expect_row(&c, 6, "b");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
}

static void test_quotes(void)
{
	struct gb_csv c;
	FILE *fp;

	fp = open_str("\"a,b\",\"he said \"\"hi\"\"\",c\n"
		      "\"\",x,\n"
		      ",\n"
		      "\"\"\n"
		      "ab\"c,\"ab\"cd,\"q\" ,\"\"\"\"\n");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "a,b|he said \"hi\"|c");
	expect_row(&c, 2, "|x|");
	CHECK(c.nfields == 3);
	expect_row(&c, 3, "|");
	CHECK(c.nfields == 2);
	expect_row(&c, 4, "");
	CHECK(c.nfields == 1);
	/* Quotes inside an unquoted field are text; so is what follows a
	 * closing quote. */
	expect_row(&c, 5, "ab\"c|abcd|q |\"");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
}

/* Line breaks inside quotes: the next row's line is the line a person
 * sees it on. */
static void test_embedded_newlines(void)
{
	struct gb_csv c;
	struct gb_err err;
	FILE *fp;

	fp = open_str("officer,summary\n"
		      "李娜,\"走访三坊七巷社区12户\n调解纠纷1起\n"
		      "核查暂住人口5人\"\n"
		      "陈刚,\"巡逻，无异常\"\n"
		      "\n"
		      "周敏,\"a\r\nb\",\"c\rd\"\r\n"
		      "吴昊,end\n");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "officer|summary");
	expect_row(&c, 2,
		   "李娜|走访三坊七巷社区12户\n调解纠纷1起\n核查暂住人口5人");
	expect_row(&c, 5, "陈刚|巡逻，无异常");
	expect_row(&c, 7, "周敏|a\r\nb|c\rd");
	expect_row(&c, 10, "吴昊|end");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);

	/* A quote never closed is reported on the line where it opened. */
	fp = open_str("name,note\n"
		      "张伟,\"two\nlines\"\n"
		      "王芳,\"never closed\n"
		      "刘洋,more\n"
		      "\n");
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "name|note");
	expect_row(&c, 2, "张伟|two\nlines");
	CHECK(gb_csv_next(&c, &err) == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK(strncmp(err.msg, "line 4: ", 8) == 0);
	CHECK(strstr(err.msg, "never closed") != NULL);
	CHECK(c.nfields == 0);
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
}

static void test_limits(void)
{
	struct gb_csv c;
	struct gb_err err;
	struct gb_buf in;
	FILE *fp;
	int i;

	/* GB_CSV_MAX_FIELDS fields are fine, one more is not; the reader
	 * goes on with the next row. */
	gb_buf_init(&in, GB_BUF_NOLIMIT);
	for (i = 0; i < GB_CSV_MAX_FIELDS; i++)
		gb_buf_addf(&in, NULL, "%s%d", i ? "," : "", i);
	gb_buf_adds(&in, "\n", NULL);
	for (i = 0; i <= GB_CSV_MAX_FIELDS; i++)
		gb_buf_addf(&in, NULL, "%s%d", i ? "," : "", i);
	gb_buf_adds(&in, "\nafter,it\n", NULL);
	fp = open_bytes(in.data, in.len);
	gb_csv_init(&c, fp);
	CHECK(gb_csv_next(&c, &err) == 1);
	CHECK(c.nfields == GB_CSV_MAX_FIELDS);
	CHECK_STR(c.field[GB_CSV_MAX_FIELDS - 1], "63");
	CHECK(gb_csv_next(&c, &err) == -1);
	CHECK_STR(err.msg, "line 2: the row has more than 64 fields");
	expect_row(&c, 3, "after|it");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
	gb_buf_release(&in);

	/* A row over 1 MiB. */
	gb_buf_init(&in, GB_BUF_NOLIMIT);
	gb_buf_adds(&in, "a,b\nx,\"", NULL);
	for (i = 0; i < 1100; i++)
		gb_buf_adds(&in,
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "0123456789\n",
			    NULL);
	gb_buf_adds(&in, "\",y\nlast\n", NULL);
	fp = open_bytes(in.data, in.len);
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "a|b");
	CHECK(gb_csv_next(&c, &err) == -1);
	CHECK(err.code == GB_ETOOBIG);
	CHECK_STR(err.msg, "line 2: the row is longer than 1 MiB");
	expect_row(&c, 1103, "last");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
	gb_buf_release(&in);

	/* A NUL byte means this is not a text file. */
	fp = open_bytes("ok\nbad\0,x\nfine\n", 15);
	gb_csv_init(&c, fp);
	expect_row(&c, 1, "ok");
	CHECK(gb_csv_next(&c, &err) == -1);
	CHECK(strncmp(err.msg, "line 2: ", 8) == 0);
	CHECK(strstr(err.msg, "NUL") != NULL);
	expect_row(&c, 3, "fine");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
}

static const char *field_str(struct gb_buf *b, const char *s)
{
	struct gb_err err;

	gb_buf_reset(b);
	CHECK(gb_csv_field(b, s, &err) == 0);
	return gb_buf_str(b);
}

static void test_writer(void)
{
	static const char *const values[] = {
	    "plain",	"",	     "a,b",    "say \"hi\"",   "two\nlines",
	    "cr\rhere", " lead",     "trail ", "福州市鼓楼区", "\"",
	    ",",	"mid space", "\r\n",
	};
	struct gb_buf b, row;
	struct gb_csv c;
	struct gb_err err;
	FILE *fp;
	size_t i, n = sizeof(values) / sizeof(values[0]);

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK_STR(field_str(&b, "plain"), "plain");
	CHECK_STR(field_str(&b, ""), "");
	CHECK_STR(field_str(&b, NULL), "");
	CHECK_STR(field_str(&b, "a,b"), "\"a,b\"");
	CHECK_STR(field_str(&b, "say \"hi\""), "\"say \"\"hi\"\"\"");
	CHECK_STR(field_str(&b, "\""), "\"\"\"\"");
	CHECK_STR(field_str(&b, "two\nlines"), "\"two\nlines\"");
	CHECK_STR(field_str(&b, "cr\rhere"), "\"cr\rhere\"");
	CHECK_STR(field_str(&b, " lead"), "\" lead\"");
	CHECK_STR(field_str(&b, "trail "), "\"trail \"");
	CHECK_STR(field_str(&b, "mid space"), "mid space");
	CHECK_STR(field_str(&b, "张伟"), "张伟");
	gb_buf_release(&b);

	/* What the writer writes, the reader reads back. */
	gb_buf_init(&row, GB_BUF_NOLIMIT);
	for (i = 0; i < n; i++) {
		if (i)
			gb_buf_add(&row, ",", 1, NULL);
		CHECK(gb_csv_field(&row, values[i], &err) == 0);
	}
	gb_buf_adds(&row, "\r\nnext\r\n", NULL);
	fp = open_bytes(row.data, row.len);
	gb_csv_init(&c, fp);
	CHECK(gb_csv_next(&c, &err) == 1);
	CHECK(c.nfields == (int)n);
	for (i = 0; i < n && i < (size_t)c.nfields; i++)
		CHECK_STR(c.field[i], values[i]);
	/* Three line breaks inside quotes: two LFs, a CR and a CRLF. */
	expect_row(&c, 5, "next");
	expect_end(&c);
	gb_csv_release(&c);
	fclose(fp);
	gb_buf_release(&row);
}

/* An import-sized file: 100,000 rows of Chinese text, some quoted. */
static void test_large(void)
{
	struct gb_csv c;
	struct gb_err err;
	struct timespec t0, t1;
	FILE *fp = tmpfile();
	long rows = 0, bad = 0;
	int i, rc;

	if (!fp) {
		perror("tmpfile");
		exit(1);
	}
	fputs("\xef\xbb\xbfuscc,name,type,community,address,employees\r\n", fp);
	for (i = 0; i < 100000; i++)
		fprintf(fp,
			"91350100M%09d,福州市鼓楼区第%d号小吃店,individual,"
			"S03-C07,\"鼓楼区东街%d号, 二层\",%d\r\n",
			i, i, i, i % 500);
	rewind(fp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gb_csv_init(&c, fp);
	for (;;) {
		rc = gb_csv_next(&c, &err);
		if (rc != 1)
			break;
		rows++;
		if (c.nfields != 6 || c.line != rows)
			bad++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(rc == 0);
	CHECK(rows == 100001);
	CHECK(bad == 0);
	gb_csv_release(&c);
	fclose(fp);
	fprintf(stderr, "read 100,001 rows in %.0f ms\n",
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* One cell through gb_csv_cell, as text. */
static void expect_cell(const char *in, const char *want)
{
	struct gb_buf b;
	struct gb_err err;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(gb_csv_cell(&b, in, &err) == 0);
	CHECK_STR(gb_buf_str(&b), want);
	gb_buf_release(&b);
}

/* Formula cells are neutralised, and read back as they were. */
static void test_neutralise(void)
{
	static const char *const round[] = {
	    "=HYPERLINK(\"http://x\")",
	    "+1+2",
	    "-1+2",
	    "@SUM(A1)",
	    "\tx",
	    "\rx",
	    "'=x",
	    "''+y",
	    "'",
	    "'plain",
	    "-",
	    "=",
	    "plain",
	    "-12",
	    "+3.5",
	    "",
	};

	expect_cell("=1+2", "'=1+2");
	expect_cell("@cmd", "'@cmd");
	expect_cell("-1+2", "'-1+2");
	expect_cell("+86 138", "'+86 138");
	expect_cell("\tx", "'\tx");
	expect_cell("'=x", "''=x");
	expect_cell("=a,b", "\"'=a,b\"");
	expect_cell("-12", "-12");
	expect_cell("-3.50", "-3.50");
	expect_cell("'plain", "'plain");
	expect_cell("望川市文昌", "望川市文昌");
	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		struct gb_buf b;
		struct gb_csv c;
		struct gb_err err;
		FILE *fp;

		gb_buf_init(&b, GB_BUF_NOLIMIT);
		CHECK(gb_csv_cell(&b, round[i], &err) == 0);
		CHECK(gb_buf_adds(&b, ",end\n", &err) == 0);
		fp = open_str(gb_buf_str(&b));
		gb_csv_init(&c, fp);
		CHECK(gb_csv_next(&c, &err) == 1);
		CHECK(c.nfields == 2);
		if (c.nfields == 2)
			CHECK_STR(gb_csv_unneutral(c.field[0]), round[i]);
		gb_csv_release(&c);
		fclose(fp);
		gb_buf_release(&b);
	}
}

/* UTF-8 stays as it is; GB18030 is converted; neither is refused. */
static void test_gb18030(void)
{
	/* "名称,人数\n望川,3\n" in GB18030. */
	static const char gb[] = "\xc3\xfb\xb3\xc6,\xc8\xcb\xca\xfd\n"
				 "\xcd\xfb\xb4\xa8,3\n";
	static const char utf[] = "\xef\xbb\xbf名称,人数\n望川,3\n";
	struct gb_err err;
	struct gb_csv c;
	FILE *fp, *out;
	int conv = -1;

	fp = open_str(utf);
	CHECK(gb_csv_utf8(fp, &out, &conv, &err) == 0);
	CHECK(out == fp && conv == 0);
	gb_csv_init(&c, out);
	expect_row(&c, 1, "名称|人数");
	gb_csv_release(&c);
	fclose(fp);

	fp = open_str(gb);
	CHECK(gb_csv_utf8(fp, &out, &conv, &err) == 0);
	CHECK(out != fp && conv == 1);
	if (out && out != fp) {
		gb_csv_init(&c, out);
		expect_row(&c, 1, "名称|人数");
		expect_row(&c, 2, "望川|3");
		gb_csv_release(&c);
		fclose(out);
	}
	fclose(fp);

	/* A lone 0x80 and 0xff are GB18030 nowhere. */
	fp = open_str("a,b\nok,1\n\xff\x80,2\n");
	CHECK(gb_csv_utf8(fp, &out, &conv, &err) == -1);
	CHECK(strstr(err.msg, "line 3") != NULL);
	fclose(fp);
}

int main(void)
{
	test_neutralise();
	test_gb18030();
	test_basic();
	test_bom_and_line_ends();
	test_quotes();
	test_embedded_newlines();
	test_limits();
	test_writer();
	test_large();
	return check_done();
}

/*
 * Tests of utf8.c: every boundary of well-formed UTF-8, the malformed
 * sequences hostile input carries, and the terminal widths of the text
 * gridbook shows (Chinese names, fullwidth punctuation, combining marks).
 */
#include <string.h>

#include "check.h"
#include "utf8.h"

#include "banned.h"

static int valid(const char *s)
{
	return gb_utf8_valid(s, strlen(s));
}

static void test_valid(void)
{
	CHECK(valid(""));
	CHECK(valid("hello, world"));
	CHECK(valid("张伟 王秀英 李娜"));
	CHECK(valid("鼓楼区东街街道三坊七巷社区"));
	CHECK(valid("\x7f"));
	CHECK(valid("\xc2\x80"));	  /* U+0080 */
	CHECK(valid("\xdf\xbf"));	  /* U+07FF */
	CHECK(valid("\xe0\xa0\x80"));	  /* U+0800 */
	CHECK(valid("\xed\x9f\xbf"));	  /* U+D7FF */
	CHECK(valid("\xee\x80\x80"));	  /* U+E000 */
	CHECK(valid("\xef\xbf\xbf"));	  /* U+FFFF */
	CHECK(valid("\xf0\x90\x80\x80")); /* U+10000 */
	CHECK(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	CHECK(valid("\xf0\xa0\x80\x80")); /* U+20000, a CJK extension B */
	CHECK(gb_utf8_valid("a\0b", 3));

	CHECK(!valid("\x80")); /* a lone continuation byte */
	CHECK(!valid("\xbf"));
	CHECK(!valid("\xc0\x80"));	   /* overlong NUL */
	CHECK(!valid("\xc1\xbf"));	   /* overlong */
	CHECK(!valid("\xe0\x80\x80"));	   /* overlong */
	CHECK(!valid("\xe0\x9f\xbf"));	   /* overlong */
	CHECK(!valid("\xf0\x80\x80\x80")); /* overlong */
	CHECK(!valid("\xf0\x8f\xbf\xbf")); /* overlong */
	CHECK(!valid("\xed\xa0\x80"));	   /* U+D800, a surrogate */
	CHECK(!valid("\xed\xbf\xbf"));	   /* U+DFFF */
	CHECK(!valid("\xf4\x90\x80\x80")); /* U+110000 */
	CHECK(!valid("\xf5\x80\x80\x80"));
	CHECK(!valid("\xfe"));
	CHECK(!valid("\xff"));
	CHECK(!valid("\xe4\xb8")); /* 中 cut short */
	CHECK(!valid("\xe4\xb8\x41"));
	CHECK(!valid("abc\xe4"));
	CHECK(!valid("\xc3\x28"));
	/* A length that cuts a character in two. */
	CHECK(!gb_utf8_valid("中", 2));
	CHECK(gb_utf8_valid("中", 3));
	CHECK(gb_utf8_valid("中", 0));
	/* GBK bytes of 张伟, as an old spreadsheet might save them. */
	CHECK(!valid("\xd5\xc5\xce\xb0"));
}

static void test_width(void)
{
	CHECK(gb_utf8_width("") == 0);
	CHECK(gb_utf8_width(NULL) == 0);
	CHECK(gb_utf8_width("abc") == 3);
	CHECK(gb_utf8_width("张伟") == 4);
	CHECK(gb_utf8_width("网格S03-G2") == 10);
	CHECK(gb_utf8_width("e\xcc\x81") == 1);	   /* e and U+0301 */
	CHECK(gb_utf8_width("ＡＢ，") == 6);	   /* fullwidth forms */
	CHECK(gb_utf8_width("ｱ") == 1);		   /* halfwidth katakana */
	CHECK(gb_utf8_width("、。「」") == 8);	   /* CJK punctuation */
	CHECK(gb_utf8_width("\xe3\x80\x80") == 2); /* ideographic space */
	CHECK(gb_utf8_width("한국") == 4);
	CHECK(gb_utf8_width("😀") == 2);
	CHECK(gb_utf8_width("\xf0\xa0\x80\x80") == 2);
	CHECK(gb_utf8_width("é") == 1);
	CHECK(gb_utf8_width("a\xe2\x80\x8b"
			    "b") == 2); /* zero-width space */
	CHECK(gb_utf8_width("\xef\xbb\xbf"
			    "a") == 1); /* BOM */
	/* Malformed bytes show as one replacement character each. */
	CHECK(gb_utf8_width("\xff\xfe") == 2);
	CHECK(gb_utf8_width("\xe4\xb8") == 2);
	CHECK(gb_utf8_width("张\xe4\xb8") == 4);
}

static void test_prefix(void)
{
	const char *name = "张伟abc";

	CHECK(gb_utf8_prefix(name, 0) == 0);
	CHECK(gb_utf8_prefix(name, -3) == 0);
	CHECK(gb_utf8_prefix(name, 1) == 0);
	CHECK(gb_utf8_prefix(name, 2) == 3);
	CHECK(gb_utf8_prefix(name, 3) == 3);
	CHECK(gb_utf8_prefix(name, 4) == 6);
	CHECK(gb_utf8_prefix(name, 5) == 7);
	CHECK(gb_utf8_prefix(name, 7) == 9);
	CHECK(gb_utf8_prefix(name, 100) == strlen(name));
	/* A combining mark stays with its letter. */
	CHECK(gb_utf8_prefix("e\xcc\x81x", 1) == 3);
	CHECK(gb_utf8_prefix("", 5) == 0);
	CHECK(gb_utf8_prefix(NULL, 5) == 0);
	CHECK(gb_utf8_prefix("\xff\xff", 1) == 1);
}

int main(void)
{
	test_valid();
	test_width();
	test_prefix();
	return check_done();
}

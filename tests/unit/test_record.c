/*
 * Tests of record.c's JSON of the values: for every kind, on values drawn
 * at random from text that needs escaping (quotes, backslashes, every
 * control byte), Chinese names and addresses, empty and missing values,
 * and values long enough to pass the writer's chunk, the text is byte for
 * byte what gb_json_str and gb_buf_add write one piece at a time; under a
 * buffer's cap it fails at the same sizes, with the same error, and
 * leaves the buffer released.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "json.h"
#include "kinds.h"
#include "record.h"

#include "banned.h"

/* The values' JSON as record.c first wrote it. */
static int ref_values_json(const struct gb_record *r, struct gb_buf *out,
			   struct gb_err *err)
{
	const struct gb_kind *k = r->kind;

	if (gb_buf_add(out, "{", 1, err))
		return -1;
	for (int i = 0; i < k->nfields; i++) {
		const char *v = r->val[i];

		if ((i && gb_buf_add(out, ",", 1, err)) ||
		    gb_json_str(out, k->fields[i].name, err) ||
		    gb_buf_add(out, ":", 1, err))
			return -1;
		if (v && k->fields[i].type == GB_T_INT) {
			if (gb_buf_adds(out, v, err))
				return -1;
		} else if (gb_json_str(out, v, err)) {
			return -1;
		}
	}
	return gb_buf_add(out, "}", 1, err);
}

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A value of up to max bytes from pieces that each need another path of
 * the writer. */
static void random_value(uint64_t *x, char *out, size_t max)
{
	static const char *const pieces[] = {
	    "王秀英",
	    "李建国",
	    "张伟",
	    "刘芳",
	    "陈志强",
	    "杨丽娟",
	    "黄海涛",
	    "四川省成都市武侯区人民南路四段12号",
	    "劳动合同",
	    "\"",
	    "\\",
	    "\n",
	    "\r",
	    "\t",
	    "\b",
	    "\f",
	    "\x01",
	    "\x1f",
	    "\x7f",
	    " ",
	    "a",
	    "1796056200000",
	    "-42",
	    "0",
	    "S03-C07",
	    "note: \"拖欠工资\"\\n",
	    "\xe2\x80\x8b",
	    "\xef\xbb\xbf",
	    "/",
	    "<script>",
	    "'"};
	size_t np = sizeof(pieces) / sizeof(pieces[0]), n = 0;
	int k = (int)(next_rand(x) % 12);

	if (next_rand(x) % 7 == 0)
		k = 400 + (int)(next_rand(x) % 800);
	out[0] = '\0';
	for (int i = 0; i < k; i++) {
		const char *p = pieces[next_rand(x) % np];
		size_t len = strlen(p);

		if (n + len >= max)
			break;
		memcpy(out + n, p, len);
		n += len;
	}
	/* Every control byte once in a while, one at a time. */
	if (next_rand(x) % 5 == 0 && n + 1 < max) {
		out[n++] = (char)(1 + next_rand(x) % 31);
	}
	out[n] = '\0';
}

/* One record through both writers, into empty buffers and after text
 * already there, with no cap and with caps around its length. */
static int same_json(const struct gb_record *r)
{
	struct gb_buf a, b;
	struct gb_err ea, eb;
	size_t full;
	int ok = 1;

	gb_buf_init(&a, GB_BUF_NOLIMIT);
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	ok &= gb_record_values_json(r, &a, &ea) == 0;
	ok &= ref_values_json(r, &b, &eb) == 0;
	ok &= a.len == b.len && strcmp(gb_buf_str(&a), gb_buf_str(&b)) == 0;
	full = b.len;
	ok &= gb_buf_add(&a, "[", 1, &ea) == 0 &&
	      gb_buf_add(&b, "[", 1, &eb) == 0;
	ok &= gb_record_values_json(r, &a, &ea) == 0;
	ok &= ref_values_json(r, &b, &eb) == 0;
	ok &= a.len == b.len && strcmp(gb_buf_str(&a), gb_buf_str(&b)) == 0;
	gb_buf_release(&a);
	gb_buf_release(&b);

	for (size_t cap = full > 3 ? full - 3 : 0; cap <= full + 1; cap++) {
		int ra, rb;

		gb_buf_init(&a, cap);
		gb_buf_init(&b, cap);
		memset(&ea, 0, sizeof(ea));
		memset(&eb, 0, sizeof(eb));
		ra = gb_record_values_json(r, &a, &ea);
		rb = ref_values_json(r, &b, &eb);
		ok &= ra == rb && a.len == b.len &&
		      strcmp(gb_buf_str(&a), gb_buf_str(&b)) == 0;
		if (ra < 0)
			ok &= ea.code == eb.code &&
			      strcmp(ea.msg, eb.msg) == 0 && a.data == NULL;
		gb_buf_release(&a);
		gb_buf_release(&b);
	}
	return ok;
}

static void test_values_json(void)
{
	static char v[8192];
	uint64_t x = 0x2545f4914f6cdd1du;
	int bad = 0, n = 0;

	for (int round = 0; round < 40; round++) {
		for (int ki = 0; ki < gb_nkinds; ki++) {
			const struct gb_kind *k = &gb_kinds[ki];
			struct gb_record *r = gb_record_new(k);

			for (int i = 0; i < k->nfields; i++) {
				if (next_rand(&x) % 4 == 0)
					continue;
				random_value(&x, v, sizeof(v));
				gb_record_set(r, i, v);
			}
			bad += !same_json(r);
			n++;
			gb_record_free(r);
		}
	}
	CHECK(n == 40 * gb_nkinds);
	CHECK(bad == 0);
}

/* Runs of plain text of every length around the writer's chunk of 2048
 * bytes and twice that, alone and after other values, and escapes that
 * fall on its edge. */
static void test_values_json_edges(void)
{
	const struct gb_kind *k = gb_kind_find("patrol");
	static char v[4200];
	int bad = 0;

	for (int len = 1; len < (int)sizeof(v); len++) {
		struct gb_record *r;

		if (len > 64 && len < 1990)
			continue;
		if (len > 2110 && len < 4030)
			continue;
		r = gb_record_new(k);
		memset(v, 'x', (size_t)len);
		v[len] = '\0';
		gb_record_set_name(r, "note", v);
		bad += !same_json(r);
		gb_record_set_name(r, "area", "四川省成都市");
		v[len / 2] = '\n';
		gb_record_set_name(r, "note", v);
		bad += !same_json(r);
		gb_record_free(r);
	}
	CHECK(bad == 0);
}

/* The fixed form: field order, numbers bare, empty as null. */
static void test_values_json_form(void)
{
	const struct gb_kind *k = gb_kind_find("patrol");
	struct gb_record *r = gb_record_new(k);
	struct gb_buf b;
	struct gb_err err;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	gb_record_set_name(r, "start", "1796056200000");
	gb_record_set_name(r, "leader", "J0901");
	gb_record_set_name(r, "note", "王建华说：\"已处理\"\n");
	CHECK(gb_record_values_json(r, &b, &err) == 0);
	CHECK(strstr(gb_buf_str(&b), "\"leader\":\"J0901\"") != NULL);
	CHECK(strstr(gb_buf_str(&b),
		     "\"note\":\"王建华说：\\\"已处理\\\"\\n\"") != NULL);
	CHECK(gb_buf_str(&b)[0] == '{');
	CHECK(gb_buf_str(&b)[b.len - 1] == '}');
	gb_buf_release(&b);
	gb_record_free(r);
}

int main(void)
{
	test_values_json_form();
	test_values_json();
	test_values_json_edges();
	return check_done();
}

/*
 * Tests of hmap.c: string keys as the import keys them (names, codes and
 * keys of fields joined by \x1f), byte keys with NULs inside as the
 * report counters pack them, growth far past the first size with every
 * entry still found, and the values the map owns freed with it (the
 * sanitizer build catches a leak or a double free).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hmap.h"
#include "xalloc.h"

#include "banned.h"

static void test_strings(void)
{
	struct gb_hmap m;
	struct gb_hmap_ent *e;
	int added = -1;

	gb_hmap_init(&m);
	CHECK(gb_hmap_gets(&m, "东风社区") == NULL);
	CHECK(gb_hmap_len(&m) == 0);

	e = gb_hmap_puts(&m, "东风社区", &added);
	CHECK(added == 1);
	CHECK(e->val == NULL && e->n == 0);
	e->val = xstrdup("S01-C01");
	e->n = 3;
	e = gb_hmap_puts(&m, "community\x1f文昌精密", &added);
	CHECK(added == 1);
	e->n = -1;

	e = gb_hmap_puts(&m, "东风社区", &added);
	CHECK(added == 0);
	CHECK_STR(e->val, "S01-C01");
	CHECK(e->n == 3);
	CHECK(gb_hmap_len(&m) == 2);

	/* A key that is a prefix of another is another key. */
	CHECK(gb_hmap_gets(&m, "东风") == NULL);
	CHECK(gb_hmap_gets(&m, "community") == NULL);
	e = gb_hmap_gets(&m, "community\x1f文昌精密");
	CHECK(e && e->n == -1);
	CHECK_STR(e->key, "community\x1f文昌精密");
	CHECK(gb_hmap_gets(&m, "") == NULL);
	e = gb_hmap_puts(&m, "", NULL);
	CHECK(e && e->klen == 0);
	CHECK(gb_hmap_gets(&m, "") == e);

	gb_hmap_release(&m);
	CHECK(gb_hmap_len(&m) == 0);
	CHECK(gb_hmap_gets(&m, "东风社区") == NULL);
	/* Released, it is empty and can be filled again. */
	gb_hmap_puts(&m, "冯秀兰", &added)->val = xstrdup("K0001");
	CHECK(added == 1);
	CHECK_STR(gb_hmap_gets(&m, "冯秀兰")->val, "K0001");
	gb_hmap_release(&m);
}

/* A counter's key: a statement's address, a day, a code. */
static size_t packed(char *out, const void *sql, int64_t day, const char *code)
{
	size_t n = strlen(code);

	memcpy(out, &sql, sizeof(sql));
	memcpy(out + sizeof(sql), &day, sizeof(day));
	memcpy(out + sizeof(sql) + sizeof(day), code, n);
	return sizeof(sql) + sizeof(day) + n;
}

static void test_bytes(void)
{
	static const char sql_a[] = "a", sql_b[] = "b";
	struct gb_hmap m;
	char k[64];
	size_t n;
	int added;

	gb_hmap_init(&m);
	/* Day 0 and day 256 differ only in bytes after a NUL. */
	n = packed(k, sql_a, 0, "PA-01\tB0001");
	gb_hmap_put(&m, k, n, &added)->n = 1;
	CHECK(added);
	n = packed(k, sql_a, 256, "PA-01\tB0001");
	gb_hmap_put(&m, k, n, &added)->n = 2;
	CHECK(added);
	n = packed(k, sql_b, 0, "PA-01\tB0001");
	gb_hmap_put(&m, k, n, &added)->n = 3;
	CHECK(added);
	CHECK(gb_hmap_len(&m) == 3);

	n = packed(k, sql_a, 0, "PA-01\tB0001");
	CHECK(gb_hmap_get(&m, k, n) && gb_hmap_get(&m, k, n)->n == 1);
	n = packed(k, sql_a, 256, "PA-01\tB0001");
	CHECK(gb_hmap_get(&m, k, n) && gb_hmap_get(&m, k, n)->n == 2);
	n = packed(k, sql_b, 0, "PA-01\tB0001");
	CHECK(gb_hmap_get(&m, k, n) && gb_hmap_get(&m, k, n)->n == 3);
	/* The same bytes, one shorter, are not the key. */
	CHECK(gb_hmap_get(&m, k, n - 1) == NULL);
	gb_hmap_release(&m);
}

static void test_growth(void)
{
	struct gb_hmap m;
	char key[32];
	int bad = 0, added;

	gb_hmap_init(&m);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "91350100M%09d", i);
		gb_hmap_puts(&m, key, &added)->n = i;
		if (!added)
			bad++;
		if (i % 7 == 0)
			gb_hmap_gets(&m, key)->val = xstrdup(key);
	}
	CHECK(bad == 0);
	CHECK(gb_hmap_len(&m) == 20000);
	/* At most half full, and a power of two. */
	CHECK(m.cap >= 2 * m.len);
	CHECK((m.cap & (m.cap - 1)) == 0);
	for (int i = 0; i < 20000; i++) {
		struct gb_hmap_ent *e;

		snprintf(key, sizeof(key), "91350100M%09d", i);
		e = gb_hmap_gets(&m, key);
		if (!e || e->n != i ||
		    (i % 7 == 0 ? !e->val || strcmp(e->val, key) : !!e->val))
			bad++;
	}
	CHECK(bad == 0);
	snprintf(key, sizeof(key), "91350100M%09d", 20000);
	CHECK(gb_hmap_gets(&m, key) == NULL);
	gb_hmap_release(&m);
}

int main(void)
{
	test_strings();
	test_bytes();
	test_growth();
	return check_done();
}

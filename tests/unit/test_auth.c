/*
 * Tests of auth.c: tokens hash the same way every time and malformed
 * ones are refused, and refused tokens (401) are counted per address so
 * that the audit log gets one entry per address per interval, with the
 * count of every 401 in it, however many come.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"

#include "banned.h"

static void test_tokens(void)
{
	char text[AUTH_TOKEN_LEN];
	unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	struct gb_err err;

	auth_token_new(text, h1);
	CHECK(strlen(text) == 43);
	CHECK(auth_token_hash(text, h2, &err) == 0);
	CHECK(memcmp(h1, h2, STORE_HASH_LEN) == 0);
	text[5] = '*';
	CHECK(auth_token_hash(text, h2, &err) == -1 && err.code == GB_EAUTH);
	CHECK(auth_token_hash("", h2, &err) == -1);
}

struct flushed {
	long total;
	int calls;
	char last[64];
};

static void on_flush(void *arg, const char *addr, long count, int64_t since)
{
	struct flushed *f = arg;

	(void)since;
	f->total += count;
	f->calls++;
	snprintf(f->last, sizeof(f->last), "%s", addr);
}

static void test_fails(void)
{
	struct auth_fails *f = malloc(sizeof(*f));
	struct flushed fl = {0, 0, ""};
	long count = 0, written = 0;
	int64_t since = 0, t0 = INT64_C(1764633600000);
	int due = 0;

	auth_fails_init(f, 60000);
	/* 500 401s in a minute from one address: one entry at once. */
	for (int i = 0; i < 500; i++) {
		if (auth_fails_note(f, "203.0.113.7", t0 + i * 100, &count,
				    &since)) {
			due++;
			written += count;
		}
	}
	CHECK(due == 1 && written == 1);
	/* Another address gets its own entry. */
	CHECK(auth_fails_note(f, "198.51.100.20", t0 + 1000, &count, &since));
	CHECK(count == 1 && since == t0 + 1000);
	/* After the interval the next one carries the count of the rest. */
	CHECK(auth_fails_note(f, "203.0.113.7", t0 + 60000, &count, &since));
	CHECK(count == 500 && since == t0 + 100);
	CHECK(!auth_fails_note(f, "203.0.113.7", t0 + 60001, &count, &since));
	/* What is left goes out at the end, and only once. */
	auth_fails_flush(f, on_flush, &fl);
	CHECK(fl.calls == 1 && fl.total == 1);
	CHECK_STR(fl.last, "203.0.113.7");
	auth_fails_flush(f, on_flush, &fl);
	CHECK(fl.calls == 1);
	/* A full table forgets the address seen longest ago, and keeps
	 * working. */
	for (int i = 0; i < AUTH_FAIL_ADDRS + 10; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 250, i % 250);
		CHECK(
		    auth_fails_note(f, addr, t0 + 200000 + i, &count, &since));
	}
	auth_fails_release(f);
	free(f);
}

int main(void)
{
	struct gb_err err;

	if (auth_init(&err) < 0)
		return 2;
	test_tokens();
	test_fails();
	return check_done();
}

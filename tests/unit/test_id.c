/*
 * Tests of id.c: UUIDv7 layout, ids that sort in the order they were made
 * (within one millisecond, across many, and when the clock goes back),
 * a hybrid logical clock that never goes backwards and never wraps, and
 * the bounds of a version (SPEC §4, clocks) at each of their edges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "id.h"

#include "banned.h"

#define HOUR_MS INT64_C(3600000)

static int is_lower_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static int layout_ok(const char *id)
{
	int i;

	if (strlen(id) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				return 0;
		} else if (!is_lower_hex(id[i])) {
			return 0;
		}
	}
	/* Version 7, and the variant bits 10 in the top of byte 8. */
	return id[14] == '7' && strchr("89ab", id[19]) != NULL;
}

static void test_layout(void)
{
	struct gb_uuidgen g;
	char id[37], other[37];
	int i, bad = 0;

	gb_uuidgen_init(&g);
	gb_uuid7(&g, INT64_C(0x0123456789ab), id);
	CHECK(layout_ok(id));
	CHECK(strncmp(id, "01234567-89ab-7000-", 19) == 0);
	CHECK(gb_uuid7_ms(id) == INT64_C(0x0123456789ab));
	CHECK(gb_uuid_valid(id));

	gb_uuid7(&g, INT64_C(1773102600000), id);
	CHECK(gb_uuid7_ms(id) == INT64_C(1773102600000));
	for (i = 0; i < 2000; i++) {
		gb_uuid7(&g, INT64_C(1773102600000) + i / 3, id);
		if (!layout_ok(id) || !gb_uuid_valid(id))
			bad++;
	}
	CHECK(bad == 0);

	/* Two generators in the same millisecond still differ: the low 62
	 * bits are random. */
	{
		struct gb_uuidgen g2;

		gb_uuidgen_init(&g);
		gb_uuidgen_init(&g2);
		gb_uuid7(&g, INT64_C(1773102600000), id);
		gb_uuid7(&g2, INT64_C(1773102600000), other);
		CHECK(strcmp(id, other) != 0);
		CHECK(strncmp(id, other, 19) == 0);
	}
}

static void test_valid(void)
{
	CHECK(gb_uuid_valid("0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6b"));
	CHECK(gb_uuid_valid("0195D2A8-3C4E-7B21-9F3A-6C1D2E4F5A6B"));
	CHECK(!gb_uuid_valid("0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6"));
	CHECK(!gb_uuid_valid("0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6b0"));
	CHECK(!gb_uuid_valid("0195d2a83c4e-7b21-9f3a-6c1d2e4f5a6b0"));
	CHECK(!gb_uuid_valid("0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6g"));
	CHECK(!gb_uuid_valid("{0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6b}"));
	CHECK(!gb_uuid_valid(""));
	CHECK(!gb_uuid_valid(NULL));
	CHECK(gb_uuid7_ms("0195D2A8-3C4E-7B21-9F3A-6C1D2E4F5A6B") ==
	      INT64_C(0x0195d2a83c4e));
	CHECK(gb_uuid7_ms("not an id") == -1);
}

/* Ids in strcmp order, as made: many per millisecond, a clock that jumps
 * back an hour, and more than 4096 in one millisecond. */
static void test_order(void)
{
	struct gb_uuidgen g;
	char prev[37], id[37];
	int64_t now = INT64_C(1773102600000), last_ms = 0;
	int i, bad = 0, ms_back = 0;

	gb_uuidgen_init(&g);
	gb_uuid7(&g, now, prev);
	for (i = 0; i < 30000; i++) {
		/* Ten ids per millisecond, then a jump back at 10000 and a
		 * burst in one millisecond from 20000. */
		if (i < 20000 && i % 10 == 0)
			now++;
		if (i == 10000)
			now -= HOUR_MS;
		gb_uuid7(&g, now, id);
		if (strcmp(prev, id) >= 0)
			bad++;
		if (gb_uuid7_ms(id) < last_ms)
			ms_back++;
		last_ms = gb_uuid7_ms(id);
		memcpy(prev, id, sizeof(id));
	}
	CHECK(bad == 0);
	CHECK(ms_back == 0);
	/* The ids made after the clock went back kept the millisecond they
	 * had reached. */
	CHECK(last_ms >= INT64_C(1773102600000) + 1000);

	/* Ids made later at a later time sort after, whatever generator
	 * made them. */
	{
		struct gb_uuidgen a, b;
		char x[37], y[37];

		gb_uuidgen_init(&a);
		gb_uuidgen_init(&b);
		for (i = 0; i < 100; i++)
			gb_uuid7(&a, INT64_C(1773102600000), x);
		gb_uuid7(&b, INT64_C(1773102600001), y);
		CHECK(strcmp(x, y) < 0);
	}

	/* The counter restarts in each new millisecond. */
	gb_uuidgen_init(&g);
	gb_uuid7(&g, 5000, id);
	gb_uuid7(&g, 5000, id);
	CHECK(g.seq == 1);
	gb_uuid7(&g, 5001, id);
	CHECK(g.seq == 0 && g.last_ms == 5001);
	gb_uuid7(&g, 4000, id);
	CHECK(g.seq == 1 && g.last_ms == 5001);
}

static void test_hlc(void)
{
	uint64_t v = 0, prev;
	int64_t wall = INT64_C(1773102600000), max_wall = 0;
	int i, bad = 0, behind = 0;

	CHECK(gb_hlc_next(0, wall) == (uint64_t)wall << 16);
	CHECK(gb_hlc_ms(gb_hlc_next(0, wall)) == wall);
	CHECK(gb_hlc_next((uint64_t)wall << 16, wall) ==
	      ((uint64_t)wall << 16) + 1);
	CHECK(gb_hlc_next(((uint64_t)wall << 16) + 5, wall - HOUR_MS) ==
	      ((uint64_t)wall << 16) + 6);
	CHECK(gb_hlc_next(((uint64_t)wall << 16) + 5, wall + 1) ==
	      (uint64_t)(wall + 1) << 16);
	CHECK(gb_hlc_merge((uint64_t)wall << 16, ((uint64_t)wall << 16) + 9,
			   wall) == ((uint64_t)wall << 16) + 9);
	CHECK(gb_hlc_merge(((uint64_t)wall << 16) + 9, (uint64_t)wall << 16,
			   wall) == ((uint64_t)wall << 16) + 9);

	/* A wall clock that steps back an hour, twice, and stands still:
	 * versions keep rising and never fall below the latest wall time
	 * seen. */
	prev = 0;
	for (i = 0; i < 20000; i++) {
		if (i == 5000 || i == 12000)
			wall -= HOUR_MS;
		else if (i % 3 == 0)
			wall += 7;
		if (wall > max_wall)
			max_wall = wall;
		v = gb_hlc_next(prev, wall);
		if (v <= prev)
			bad++;
		if (gb_hlc_ms(v) < max_wall)
			behind++;
		prev = v;
	}
	CHECK(bad == 0);
	CHECK(behind == 0);

	/* After taking in a version from a device whose clock runs ahead,
	 * the next local version is newer still. */
	{
		uint64_t remote = ((uint64_t)(max_wall + HOUR_MS) << 16) + 3;
		uint64_t local = gb_hlc_merge(v, remote, wall);

		CHECK(local == remote);
		CHECK(gb_hlc_next(local, wall) == remote + 1);
	}
}

/* Text and 16-byte forms of an id convert both ways, upper case reads as
 * lower, and anything else is refused. */
static void test_bytes(void)
{
	struct gb_uuidgen g;
	unsigned char b[16];
	char id[37], back[37];

	gb_uuidgen_init(&g);
	gb_uuid7(&g, INT64_C(1764201600000), id);
	CHECK(gb_uuid_bytes(id, b) == 0);
	gb_uuid_text(b, 16, back);
	CHECK_STR(back, id);
	CHECK(b[6] >> 4 == 7);
	CHECK(gb_uuid_bytes("01A21F7F-0B7E-7000-BE19-A55AB5A83A23", b) == 0);
	gb_uuid_text(b, 16, back);
	CHECK_STR(back, "01a21f7f-0b7e-7000-be19-a55ab5a83a23");
	CHECK(gb_uuid_bytes("01a21f7f-0b7e-7000-be19-a55ab5a83a2", b) == -1);
	CHECK(gb_uuid_bytes("01a21f7f-0b7e-7000-be19-a55ab5a83a233", b) == -1);
	CHECK(gb_uuid_bytes("01a21f7f+0b7e-7000-be19-a55ab5a83a23", b) == -1);
	CHECK(gb_uuid_bytes("01a21f7f-0b7e-7000-be19-a55ab5a83a2g", b) == -1);
	CHECK(gb_uuid_bytes("01a2", b) == -1);
	CHECK(gb_uuid_bytes("", b) == -1);
	CHECK(gb_uuid_bytes(NULL, b) == -1);
	gb_uuid_text(b, 15, back);
	CHECK_STR(back, "");
	gb_uuid_text(NULL, 16, back);
	CHECK_STR(back, "");
}

/* The reading of an id's text as id.c first wrote it, digit by digit
 * with a test of each character's class: the reference the table-driven
 * reading is compared against. */
static int ref_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int ref_uuid_bytes(const char *s, unsigned char *out)
{
	int n = 0;

	if (!s)
		return -1;
	for (int i = 0; i < 36; i += 2) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			i--;
			continue;
		}
		hi = ref_hex(s[i]);
		if (hi < 0)
			return -1;
		lo = ref_hex(s[i + 1]);
		if (lo < 0)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
	}
	return s[36] == '\0' ? 0 : -1;
}

static int ref_uuid_valid(const char *s)
{
	if (!s)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (ref_hex(s[i]) < 0) {
			return 0;
		}
	}
	return s[36] == '\0';
}

/* One input through both readings: the same answer, and the same 16
 * bytes written (all of them for an id, those before the first bad
 * character for anything else). */
static int same_reading(const char *s)
{
	unsigned char a[16], b[16];
	int ra, rb;

	memset(a, 0xa5, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	ra = gb_uuid_bytes(s, a);
	rb = ref_uuid_bytes(s, b);
	return ra == rb && memcmp(a, b, 16) == 0 &&
	       gb_uuid_valid(s) == ref_uuid_valid(s) &&
	       gb_uuid_valid(s) == (ra == 0);
}

/* xorshift64*, so that a failure can be replayed. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * UINT64_C(2685821657736338717);
}

/*
 * gb_uuid_bytes and gb_uuid_valid against the reference on random ids in
 * lower, upper and mixed case; with each byte of 0-255 put at each of the
 * 37 positions (a digit, a dash, the end); cut to every length; and with
 * bytes after the end.  Also the heap copy of a short id, so that ASan
 * sees a reading past the NUL.
 */
static void test_bytes_reference(void)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
	int bad = 0, valid = 0, n = 0;

	for (int round = 0; round < 300; round++) {
		char id[64];

		for (int i = 0; i < 36; i++) {
			uint64_t r = next_rand(&x);

			if (i == 8 || i == 13 || i == 18 || i == 23)
				id[i] = '-';
			else if (round % 3 == 0)
				id[i] = hex[r % 16];
			else if (round % 3 == 1)
				id[i] = hex[r % 10 ? 10 + r % 6 + 6 : 0];
			else
				id[i] = hex[r % 22];
		}
		id[36] = '\0';
		valid += gb_uuid_valid(id);
		bad += !same_reading(id);
		n++;
		/* Every byte at one position of this round's id. */
		{
			int at = round % 37;

			for (int c = 1; c < 256; c++) {
				char t[64];

				memcpy(t, id, 37);
				t[at] = (char)c;
				t[37] = '\0';
				bad += !same_reading(t);
				n++;
			}
		}
		/* Every length, on the heap exactly as long as it is. */
		for (int len = 0; len <= 36; len++) {
			char *t = malloc((size_t)len + 1);

			memcpy(t, id, (size_t)len);
			t[len] = '\0';
			bad += !same_reading(t);
			free(t);
			n++;
		}
		/* Longer than an id. */
		{
			char t[64];

			memcpy(t, id, 36);
			t[36] = hex[round % 22];
			t[37] = '\0';
			bad += !same_reading(t);
			n++;
		}
	}
	CHECK(valid == 300);
	CHECK(n == 300 * (1 + 255 + 37 + 1));
	CHECK(bad == 0);
	CHECK(same_reading(NULL));
	CHECK(same_reading(""));
	CHECK(same_reading("0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6b"));
	CHECK(same_reading("0195D2A8-3C4E-7B21-9F3A-6C1D2E4F5A6B"));
	CHECK(same_reading("0195d2a8x3c4e-7b21-9f3a-6c1d2e4f5a6b"));
	CHECK(same_reading("0195d2a83c4e-7b21-9f3a-6c1d2e4f5a6b0"));
	CHECK(gb_uuid7_ms("0195D2A8-3C4E-7B21-9F3A-6C1D2E4F5A6B") ==
	      INT64_C(0x0195d2a83c4e));
	CHECK(gb_uuid7_ms("0195d2a8-3c4e-7b21-9f3a-6c1d2e4f5a6") == -1);
}

/* 2026-12-03T08:50:00Z, the clock the bounds are checked against. */
#define NOW_MS INT64_C(1796287800000)
#define V(ms) ((uint64_t)(ms) << 16)

/* Each bound at its edge: the last version in and the first out. */
static void test_bounds(void)
{
	CHECK(gb_hlc_bounds(V(NOW_MS), NOW_MS) == GB_HLC_IN_BOUNDS);
	/* 2^63 - 1 is the largest version, yet its time part (year 6429)
	 * is far ahead of any clock; 2^63 and 2^64 - 1 break the first
	 * bound, whatever the clock. */
	CHECK(gb_hlc_bounds(UINT64_C(0x7fffffffffffffff), NOW_MS) ==
	      GB_HLC_AHEAD);
	CHECK(gb_hlc_bounds(UINT64_C(0x7fffffffffffffff), INT64_MAX) ==
	      GB_HLC_IN_BOUNDS);
	CHECK(gb_hlc_bounds(UINT64_C(0x8000000000000000), NOW_MS) ==
	      GB_HLC_TOO_BIG);
	CHECK(gb_hlc_bounds(UINT64_C(0x8000000000000000), INT64_MAX) ==
	      GB_HLC_TOO_BIG);
	CHECK(gb_hlc_bounds(UINT64_MAX, NOW_MS) == GB_HLC_TOO_BIG);
	CHECK(gb_hlc_bounds(0, NOW_MS) == GB_HLC_BEFORE_2000);
	CHECK(gb_hlc_bounds(1, NOW_MS) == GB_HLC_BEFORE_2000);
	/* 1999-12-31T23:59:59.999Z, with the largest logical counter, and
	 * 2000-01-01T00:00:00.000Z with the smallest. */
	CHECK(gb_hlc_bounds(V(INT64_C(946684799999)) | 0xffff, NOW_MS) ==
	      GB_HLC_BEFORE_2000);
	CHECK(gb_hlc_bounds(V(INT64_C(946684800000)), NOW_MS) ==
	      GB_HLC_IN_BOUNDS);
	CHECK(GB_HLC_MIN_MS == INT64_C(946684800000));
	/* Now + 24 h exactly is in, a millisecond more is out. */
	CHECK(gb_hlc_bounds(V(NOW_MS + 24 * HOUR_MS) | 0xffff, NOW_MS) ==
	      GB_HLC_IN_BOUNDS);
	CHECK(gb_hlc_bounds(V(NOW_MS + 24 * HOUR_MS + 1), NOW_MS) ==
	      GB_HLC_AHEAD);
	/* 2999-01-01T00:00Z, the hostile year. */
	CHECK(gb_hlc_bounds(V(INT64_C(32472144000000)), NOW_MS) ==
	      GB_HLC_AHEAD);
	/* A clock before 2000 holds every version back, and one far out
	 * of range does not overflow. */
	CHECK(gb_hlc_bounds(V(NOW_MS), 0) == GB_HLC_AHEAD);
	CHECK(gb_hlc_bounds(V(NOW_MS), INT64_MAX) == GB_HLC_IN_BOUNDS);
	CHECK(gb_hlc_bounds(V(NOW_MS), INT64_MIN) == GB_HLC_AHEAD);
}

/* The clock never wraps: from the largest version, or from one already
 * beyond it (a store written before the bounds), there is no next one;
 * and a version out of bounds never moves the clock. */
static void test_hlc_bounded(void)
{
	uint64_t local = V(NOW_MS) + 3;

	CHECK(gb_hlc_next(UINT64_C(0x7ffffffffffffffe), NOW_MS) ==
	      UINT64_C(0x7fffffffffffffff));
	CHECK(gb_hlc_next(UINT64_C(0x7fffffffffffffff), NOW_MS) == 0);
	CHECK(gb_hlc_next(UINT64_C(0x8000000000000000), NOW_MS) == 0);
	CHECK(gb_hlc_next(UINT64_MAX, NOW_MS) == 0);
	CHECK(gb_hlc_next(UINT64_MAX, INT64_MAX) == 0);
	/* A wall clock past 2^47 ms (the year 6429) gives no version
	 * either: its time part alone would reach 2^63. */
	CHECK(gb_hlc_next(0, (INT64_C(1) << 47) - 1) ==
	      V((INT64_C(1) << 47) - 1));
	CHECK(gb_hlc_next(0, INT64_C(1) << 47) == 0);
	CHECK(gb_hlc_next(0, INT64_MAX) == 0);

	CHECK(gb_hlc_merge(local, UINT64_MAX, NOW_MS) == local);
	CHECK(gb_hlc_merge(local, UINT64_C(0x8000000000000000), NOW_MS) ==
	      local);
	CHECK(gb_hlc_merge(local, V(INT64_C(32472144000000)), NOW_MS) == local);
	CHECK(gb_hlc_merge(local, V(NOW_MS + 24 * HOUR_MS + 1), NOW_MS) ==
	      local);
	CHECK(gb_hlc_merge(local, V(NOW_MS + 24 * HOUR_MS), NOW_MS) ==
	      V(NOW_MS + 24 * HOUR_MS));
	CHECK(gb_hlc_merge(local, 0, NOW_MS) == local);
	CHECK(gb_hlc_merge(0, 1, NOW_MS) == 0);
	/* After refusing 2^64 - 1, the next local version is an ordinary
	 * one, not 0. */
	CHECK(gb_hlc_next(gb_hlc_merge(local, UINT64_MAX, NOW_MS), NOW_MS) ==
	      local + 1);
}

int main(void)
{
	test_layout();
	test_bytes();
	test_bytes_reference();
	test_valid();
	test_order();
	test_hlc();
	test_bounds();
	test_hlc_bounded();
	return check_done();
}

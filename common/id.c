/*
 * Record ids and versions (see id.h).  An id is a UUIDv7 (RFC 9562,
 * section 5.7) laid out as
 *
 *   48 bits  unix_ts_ms, big-endian
 *    4 bits  version, 0111
 *   12 bits  rand_a, used as a counter (RFC 9562, section 6.2, method 1)
 *    2 bits  variant, 10
 *   62 bits  rand_b, from the system's randomness (crypto.h)
 *
 * The counter starts at 0 in each new millisecond and counts the ids made
 * within it, so the text of the ids sorts in the order they were made.
 * When the clock reads earlier than the last id's millisecond (an NTP
 * step, a laptop whose clock was wrong), the generator stays on the last
 * millisecond; when 4096 ids have been made in one millisecond it moves on
 * to the next.  Either way ids from one generator only ever increase.
 *
 * Versions are a hybrid logical clock packed into a uint64_t: wall-clock
 * ms in the high 48 bits, a logical counter in the low 16, so comparing
 * versions is comparing integers.  Versions stay below 2^63 so that SQLite
 * (signed INTEGER) orders them as C does, and gb_hlc_bounds is the one
 * check of a version against a clock, used by HQ on what it is sent and
 * by the laptop on what it writes and pulls.
 */
#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "id.h"

#include "banned.h"

#define MAX_MS ((INT64_C(1) << 48) - 1)
#define MAX_SEQ 0xfff

void gb_uuidgen_init(struct gb_uuidgen *g)
{
	g->last_ms = -1;
	g->seq = 0;
}

void gb_uuid7(struct gb_uuidgen *g, int64_t now_ms, char *out)
{
	unsigned char b[16];
	uint64_t ms;
	int i;

	if (now_ms < 0)
		now_ms = 0;
	if (now_ms > MAX_MS)
		now_ms = MAX_MS;
	if (now_ms > g->last_ms) {
		g->last_ms = now_ms;
		g->seq = 0;
	} else if (g->seq < MAX_SEQ) {
		g->seq++;
	} else {
		g->last_ms++;
		g->seq = 0;
	}
	ms = (uint64_t)g->last_ms;

	gb_random(b + 8, 8);
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (g->seq >> 8));
	b[7] = (unsigned char)(g->seq & 0xff);
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));

	gb_uuid_text(b, 16, out);
}

void gb_uuid_text(const void *blob, int len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = blob;
	int o = 0;

	if (!b || len != 16) {
		out[0] = '\0';
		return;
	}
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
}

/* The value of each byte as a hex digit, either case; -1 for any other
 * byte, NUL among them.  Written out by the preprocessor from the test
 * each byte once went through. */
#define HEX1(c)                                                                \
	((c) >= '0' && (c) <= '9'   ? (c) - '0'                                \
	 : (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10                           \
	 : (c) >= 'A' && (c) <= 'F' ? (c) - 'A' + 10                           \
				    : -1)
#define HEX4(c) HEX1(c), HEX1((c) + 1), HEX1((c) + 2), HEX1((c) + 3)
#define HEX16(c) HEX4(c), HEX4((c) + 4), HEX4((c) + 8), HEX4((c) + 12)
#define HEX64(c) HEX16(c), HEX16((c) + 16), HEX16((c) + 32), HEX16((c) + 48)
static const signed char hex_digit[256] = {HEX64(0), HEX64(64), HEX64(128),
					   HEX64(192)};
#undef HEX64
#undef HEX16
#undef HEX4
#undef HEX1

/* Where the 16 bytes of an id start in its text: two hex digits each,
 * the four dashes at 8, 13, 18 and 23 between them. */
static const unsigned char byte_at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
					  19, 21, 24, 26, 28, 30, 32, 34};

static int hex_value(char ch)
{
	return hex_digit[(unsigned char)ch];
}

/*
 * The server converts every id it binds, and HQ's acks and the laptops'
 * pushes carry them too, so this is a table look-up a digit.  One pass in
 * the order of the text, each byte read only after the one before it
 * passed: a short string ends at its NUL, which is no hex digit and no
 * dash, and nothing past it is read.  On a bad id out holds the bytes
 * before the first bad character.
 */
int gb_uuid_bytes(const char *s, unsigned char *out)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!s)
		return -1;
	for (int i = 0; i < 16; i++) {
		int at = byte_at[i];
		int hi, lo;

		if ((i == 4 || i == 6 || i == 8 || i == 10) && u[at - 1] != '-')
			return -1;
		hi = hex_digit[u[at]];
		if (hi < 0)
			return -1;
		lo = hex_digit[u[at + 1]];
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return u[36] == '\0' ? 0 : -1;
}

int gb_uuid_valid(const char *s)
{
	unsigned char b[16];

	return gb_uuid_bytes(s, b) == 0;
}

int64_t gb_uuid7_ms(const char *s)
{
	int64_t ms = 0;
	int i;

	if (!gb_uuid_valid(s))
		return -1;
	for (i = 0; i < 13; i++)
		if (i != 8)
			ms = (ms << 4) | hex_value(s[i]);
	return ms;
}

enum gb_hlc_bound gb_hlc_bounds(uint64_t v, int64_t now_ms)
{
	int64_t ms;

	if (v > (uint64_t)GB_HLC_MAX)
		return GB_HLC_TOO_BIG;
	ms = gb_hlc_ms(v);
	if (ms < GB_HLC_MIN_MS)
		return GB_HLC_BEFORE_2000;
	/* now_ms + 24 h cannot overflow for any clock in 48 bits; a clock
	 * reading beyond that is clamped as gb_hlc_next clamps it. */
	if (now_ms > MAX_MS)
		now_ms = MAX_MS;
	if (ms > now_ms + GB_HLC_AHEAD_MS)
		return GB_HLC_AHEAD;
	return GB_HLC_IN_BOUNDS;
}

uint64_t gb_hlc_next(uint64_t last, int64_t wall_ms)
{
	uint64_t wall, next;

	if (wall_ms < 0)
		wall_ms = 0;
	if (wall_ms > MAX_MS)
		wall_ms = MAX_MS;
	wall = (uint64_t)wall_ms << 16;
	next = wall > last ? wall : last + 1;
	/* last + 1 wraps to 0 at 2^64 - 1; either way past the bound. */
	if (next > (uint64_t)GB_HLC_MAX || next == 0)
		return 0;
	return next;
}

uint64_t gb_hlc_merge(uint64_t local, uint64_t remote, int64_t now_ms)
{
	if (gb_hlc_bounds(remote, now_ms) != GB_HLC_IN_BOUNDS)
		return local;
	return local > remote ? local : remote;
}

int64_t gb_hlc_ms(uint64_t v)
{
	return (int64_t)(v >> 16);
}

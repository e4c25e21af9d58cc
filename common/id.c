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

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One pass, in the order of the text (a short string ends at its NUL,
 * which is no hex digit): the server converts every id it binds. */
int gb_uuid_bytes(const char *s, unsigned char *out)
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
		hi = hex_value(s[i]);
		if (hi < 0)
			return -1;
		lo = hex_value(s[i + 1]);
		if (lo < 0)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
	}
	return s[36] == '\0' ? 0 : -1;
}

int gb_uuid_valid(const char *s)
{
	int i;

	if (!s)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (hex_value(s[i]) < 0) {
			return 0;
		}
	}
	return s[36] == '\0';
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

/*
 * Record ids and versions.  Ids are UUIDv7 (RFC 9562): 48 bits of Unix ms,
 * then a 12-bit counter that keeps ids made in one millisecond in order,
 * then 62 random bits (libsodium).  Versions are a hybrid logical clock:
 * 48 bits of ms and a 16-bit logical counter in one uint64_t, so plain
 * integer order is HLC order and the clock never goes backwards even when
 * the wall clock does.
 */
#ifndef GB_ID_H
#define GB_ID_H

#include <stdint.h>

struct gb_uuidgen {
	int64_t last_ms;
	uint16_t seq;
};

/* Initialises a generator. */
void gb_uuidgen_init(struct gb_uuidgen *g);
/* Writes a new lowercase UUIDv7 "xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx"
 * into out (37 bytes).  Ids from one generator strictly increase even if
 * now_ms goes backwards. */
void gb_uuid7(struct gb_uuidgen *g, int64_t now_ms, char *out);
/* 1 when s is a UUID in lowercase or uppercase text form. */
int gb_uuid_valid(const char *s);
/* Writes the lowercase text form of a 16-byte id into out (37 bytes);
 * "" when blob is NULL or len is not 16. */
void gb_uuid_text(const void *blob, int len, char *out);
/* Reads a UUID in text form (either case) into 16 bytes.  Returns 0, or
 * -1 when s is not a UUID. */
int gb_uuid_bytes(const char *s, unsigned char *out);
/* The ms timestamp inside a UUIDv7 (-1 when s is not a UUID). */
int64_t gb_uuid7_ms(const char *s);

/*
 * The bounds of a version (SPEC §4, clocks).  Versions are stored as
 * SQLite INTEGER, which is signed: one at or above 2^63 would be stored
 * negative and sort before every other.  A version's time part lies
 * between 2000-01-01T00:00Z and 24 h after the clock it is checked
 * against (HQ's at HQ, the laptop's own when it writes or pulls).
 */
#define GB_HLC_MAX INT64_MAX		    /* 2^63 - 1, the largest version */
#define GB_HLC_MIN_MS INT64_C(946684800000) /* 2000-01-01T00:00Z */
#define GB_HLC_AHEAD_MS (24 * INT64_C(3600000))

/* Which bound a version breaks, GB_HLC_IN_BOUNDS (0) when none. */
enum gb_hlc_bound {
	GB_HLC_IN_BOUNDS = 0,
	GB_HLC_TOO_BIG,	    /* >= 2^63 */
	GB_HLC_BEFORE_2000, /* time part before 2000-01-01T00:00Z */
	GB_HLC_AHEAD,	    /* time part more than 24 h after now_ms */
};

/* Whether version v is in bounds for a clock reading now_ms: the first
 * bound it breaks, in the order of the enum, or GB_HLC_IN_BOUNDS.  The
 * one check of versions, on both sides. */
enum gb_hlc_bound gb_hlc_bounds(uint64_t v, int64_t now_ms);

/* The next HLC version after last for a wall clock reading: the larger of
 * (wall_ms << 16) and last + 1, or 0 (no version) when that would be
 * 2^63 or more: the clock never wraps, and the caller refuses to write. */
uint64_t gb_hlc_next(uint64_t last, int64_t wall_ms);
/* Merges a remote version into the local clock: the larger of both, but
 * local alone when remote is out of bounds for now_ms (gb_hlc_bounds), so
 * a version from a clock far ahead never drags this one along. */
uint64_t gb_hlc_merge(uint64_t local, uint64_t remote, int64_t now_ms);
/* The ms part of a version. */
int64_t gb_hlc_ms(uint64_t v);

#endif

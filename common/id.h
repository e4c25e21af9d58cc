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

/* The next HLC version after last for a wall clock reading: the larger of
 * (wall_ms << 16) and last + 1. */
uint64_t gb_hlc_next(uint64_t last, int64_t wall_ms);
/* Merges a remote version into the local clock: the larger of both. */
uint64_t gb_hlc_merge(uint64_t local, uint64_t remote);
/* The ms part of a version. */
int64_t gb_hlc_ms(uint64_t v);

#endif

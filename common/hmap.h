/*
 * The one hash map of the tree: open addressing with linear probing over
 * keys of bytes (a string, a 16-byte id, or a few fields packed end to
 * end), copied into the map.  It keeps at most half its slots used, so a
 * lookup probes few slots, and it grows by doubling.  Each entry carries a
 * text value the map owns and a number, which is all its users need: a
 * line number, a count, an index into an array of their own.
 */
#ifndef GB_HMAP_H
#define GB_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct gb_hmap_ent {
	char *key; /* owned, klen bytes and a NUL; NULL marks a free slot */
	size_t klen;
	uint64_t hash;
	char *val; /* owned (freed by gb_hmap_release), NULL until set */
	int64_t n; /* the caller's, 0 when added */
};

struct gb_hmap {
	struct gb_hmap_ent *e; /* cap slots, NULL while empty */
	size_t cap, len;       /* cap is 0 or a power of two */
};

/* FNV-1a over the klen bytes of key, folded to 32 bits: the map's hash,
 * and the one the fixed-size tables of the tree (HQ's per-address rates
 * and turns, the client's enterprise cache) pick their slots with. */
uint32_t gb_hash(const void *key, size_t klen);

/* Sets up an empty map; it allocates nothing until the first put. */
void gb_hmap_init(struct gb_hmap *m);
/* Frees every key and value and leaves the map empty and reusable. */
void gb_hmap_release(struct gb_hmap *m);

/* The entry of key (klen bytes), or NULL.  Borrowed: valid until the next
 * gb_hmap_put or gb_hmap_release. */
struct gb_hmap_ent *gb_hmap_get(const struct gb_hmap *m, const void *key,
				size_t klen);
/* The entry of key, added with val NULL and n 0 when missing; *added (may
 * be NULL) tells which.  Borrowed like gb_hmap_get's.  Never NULL. */
struct gb_hmap_ent *gb_hmap_put(struct gb_hmap *m, const void *key, size_t klen,
				int *added);

/* The same for a NUL-terminated string key. */
struct gb_hmap_ent *gb_hmap_gets(const struct gb_hmap *m, const char *key);
struct gb_hmap_ent *gb_hmap_puts(struct gb_hmap *m, const char *key,
				 int *added);

/* The number of entries. */
size_t gb_hmap_len(const struct gb_hmap *m);

#endif

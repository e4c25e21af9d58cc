/*
 * The hash map (hmap.h).  FNV-1a over the key bytes, whose hash each entry
 * keeps (folded to 32 bits), so that growing rehashes nothing and a probe
 * compares bytes only when the hashes agree.  Nothing is ever removed, which is
 * why a free slot ends every probe: the users fill a map for one run (an
 * import, a batch's counters) and release it whole.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xalloc.h"

#include "banned.h"

#define MIN_CAP 64

uint32_t gb_hash(const void *key, size_t klen)
{
	const unsigned char *p = key;
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < klen; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return (uint32_t)(h ^ h >> 32);
}

void gb_hmap_init(struct gb_hmap *m)
{
	m->e = NULL;
	m->cap = m->len = 0;
}

void gb_hmap_release(struct gb_hmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->e[i].key);
		free(m->e[i].val);
	}
	free(m->e);
	gb_hmap_init(m);
}

/* The slot of key in e (cap slots, a power of two): its entry, or the
 * free slot where it would go. */
static struct gb_hmap_ent *slot(struct gb_hmap_ent *e, size_t cap,
				const void *key, size_t klen, uint32_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (e[i].key && (e[i].hash != h || e[i].klen != klen ||
			    memcmp(e[i].key, key, klen) != 0))
		i = (i + 1) & (cap - 1);
	return &e[i];
}

struct gb_hmap_ent *gb_hmap_get(const struct gb_hmap *m, const void *key,
				size_t klen)
{
	struct gb_hmap_ent *s;

	if (!m->cap)
		return NULL;
	s = slot(m->e, m->cap, key, klen, gb_hash(key, klen));
	return s->key ? s : NULL;
}

struct gb_hmap_ent *gb_hmap_put(struct gb_hmap *m, const void *key, size_t klen,
				int *added)
{
	uint32_t h = gb_hash(key, klen);
	struct gb_hmap_ent *s;

	/* A key is a name or a few codes; 4 GiB would be no key at all. */
	assert(klen < UINT32_MAX);
	if (2 * (m->len + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : MIN_CAP;
		struct gb_hmap_ent *e = xcalloc(cap, sizeof(*e));

		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key)
				*slot(e, cap, m->e[i].key, m->e[i].klen,
				      m->e[i].hash) = m->e[i];
		free(m->e);
		m->e = e;
		m->cap = cap;
	}
	s = slot(m->e, m->cap, key, klen, h);
	if (added)
		*added = !s->key;
	if (!s->key) {
		s->key = xmalloc(klen + 1);
		memcpy(s->key, key, klen);
		s->key[klen] = '\0';
		s->klen = (uint32_t)klen;
		s->hash = h;
		m->len++;
	}
	return s;
}

struct gb_hmap_ent *gb_hmap_gets(const struct gb_hmap *m, const char *key)
{
	return gb_hmap_get(m, key, strlen(key));
}

struct gb_hmap_ent *gb_hmap_puts(struct gb_hmap *m, const char *key, int *added)
{
	return gb_hmap_put(m, key, strlen(key), added);
}

size_t gb_hmap_len(const struct gb_hmap *m)
{
	return m->len;
}

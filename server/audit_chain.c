/*
 * The hash chain of the audit log (audit_chain.h).  The bytes hashed are
 * fixed: a label with the chain's version, the previous hash, then each
 * field as a length and its bytes (integers as 8 bytes big-endian), so
 * that no two entries hash alike by moving bytes from one field to the
 * next.  Changing any of it breaks every log already written.
 */
#include <string.h>

#include "audit_chain.h"
#include "crypto.h"
#include "id.h"

#include "banned.h"

static void hash_i64(struct gb_hash *h, int64_t v)
{
	unsigned char b[8];

	for (int k = 0; k < 8; k++)
		b[k] = (unsigned char)((uint64_t)v >> (56 - 8 * k));
	gb_hash_update(h, b, sizeof(b));
}

static void hash_bytes(struct gb_hash *h, const void *p, size_t n)
{
	hash_i64(h, (int64_t)n);
	if (n)
		gb_hash_update(h, p, n);
}

static void hash_str(struct gb_hash *h, const char *s)
{
	hash_bytes(h, s ? s : "", s ? strlen(s) : 0);
}

void audit_chain_hash(const unsigned char prev[AUDIT_CHAIN_HASH_LEN],
		      const struct audit_chain_entry *e,
		      unsigned char out[AUDIT_CHAIN_HASH_LEN])
{
	struct gb_hash h;

	gb_hash_init(&h, AUDIT_CHAIN_HASH_LEN);
	gb_hash_update(&h, "gridbook audit 1", 16);
	gb_hash_update(&h, prev, AUDIT_CHAIN_HASH_LEN);
	hash_i64(&h, e->seq);
	hash_i64(&h, e->at);
	hash_bytes(&h, e->device, e->device ? e->device_len : 0);
	hash_str(&h, e->grid);
	hash_str(&h, e->action);
	hash_i64(&h, e->status);
	hash_str(&h, e->detail);
	hash_str(&h, e->remote);
	gb_hash_final(&h, out);
}

void audit_chain_device(struct audit_chain_entry *e, const char *device,
			unsigned char buf[16])
{
	if (device && gb_uuid_bytes(device, buf) == 0) {
		e->device = buf;
		e->device_len = 16;
	} else if (device) {
		e->device = device;
		e->device_len = strlen(device);
	} else {
		e->device = NULL;
		e->device_len = 0;
	}
}

/*
 * The hash chain of the audit log (SPEC §6), as every store keeps it: each
 * entry has the BLAKE2b-256 hash of the entry before it (32 zero bytes for
 * the first) and its own, over that hash and the entry's fields as
 * stored, so that an entry edited or deleted by hand breaks the chain
 * where it was.  One definition for every store, so that a store's log
 * checks out the same whichever store wrote it.
 */
#ifndef GB_AUDIT_CHAIN_H
#define GB_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_CHAIN_HASH_LEN 32

/* One entry as the chain hashes it: the column values as stored; all
 * pointers borrowed.  device is the 16 bytes of a UUID, or the text given
 * when it is not one (audit_chain_device), or NULL. */
struct audit_chain_entry {
	int64_t seq, at;
	const void *device;
	size_t device_len;
	const char *grid, *action, *detail, *remote; /* NULL hashes as "" */
	int status;
};

/* The hash of entry e following prev, into out. */
void audit_chain_hash(const unsigned char prev[AUDIT_CHAIN_HASH_LEN],
		      const struct audit_chain_entry *e,
		      unsigned char out[AUDIT_CHAIN_HASH_LEN]);

/* Sets e->device and e->device_len to the device id as the stores keep
 * it: its 16 bytes in buf when it is a UUID, else the text itself
 * (borrowed), or none when device is NULL. */
void audit_chain_device(struct audit_chain_entry *e, const char *device,
			unsigned char buf[16]);

#endif

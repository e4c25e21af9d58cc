/*
 * Device tokens and what a device may do (SPEC §6).  A token is 32 random
 * bytes shown once, as URL-safe base64 without padding, at enrolment; the
 * store keeps only its BLAKE2b-256 hash.  A coordinator's device writes
 * labour kinds, an officer's policing kinds, each only for its own grid; a
 * viewer reads reports only.
 */
#ifndef GB_AUTH_H
#define GB_AUTH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kinds.h"
#include "store.h"

/* Text length of a token plus NUL. */
#define AUTH_TOKEN_LEN 48

/* Initialises libsodium; call once before threads start.  Returns 0, or
 * -1 with err. */
int auth_init(struct gb_err *err);

/* Makes a new token: its text (AUTH_TOKEN_LEN bytes) and its hash. */
void auth_token_new(char text[AUTH_TOKEN_LEN],
		    unsigned char hash[STORE_HASH_LEN]);

/* Wipes a secret (sodium_memzero). */
void auth_wipe(void *p, size_t n);

/* The hash of a token given as text.  Fails with GB_EAUTH when the text
 * is not a token. */
int auth_token_hash(const char *text, unsigned char hash[STORE_HASH_LEN],
		    struct gb_err *err);

/*
 * Finds the device of an "Authorization: Bearer TOKEN" header value
 * (header may be NULL).  Fails with GB_EAUTH when the header is missing or
 * malformed, the token unknown or the device revoked; GB_EDB when the
 * store fails.
 */
int auth_bearer(struct store *st, const char *header, struct store_device *dev,
		struct gb_err *err);

/* 1 when role is one a device may be enrolled with. */
int auth_role_valid(const char *role);

/* Whether dev may write records of kind k for grid: grid is dev's and
 * gb_kind_role_allows(k, dev->role).  Returns 0, or -1 with err
 * (GB_EFORBIDDEN) saying why ("a coordinator's device may not write
 * patrol records"). */
int auth_may_write(const struct store_device *dev, const struct gb_kind *k,
		   const char *grid, struct gb_err *err);

/* Whether dev may read the changes of its grid (not a viewer). */
int auth_may_sync(const struct store_device *dev, struct gb_err *err);

/*
 * Refused tokens (401), counted per address (or any key: HQ counts other
 * refusals of unknown senders per address and status too) so that the
 * audit log gets one entry per key per interval, with a count, however
 * many come.
 * The first 401 of an address writes an entry at once; those after it
 * within the interval are only counted, and the count goes into the
 * entry of the next 401 after the interval, or of auth_fails_flush.
 */
#define AUTH_FAIL_ADDRS 512
#define AUTH_FAIL_INTERVAL_MS 60000

struct auth_fails {
	pthread_mutex_t mu;
	int64_t interval_ms;
	struct auth_fail_slot {
		char addr[80];	 /* the key; "" when free */
		int64_t since;	 /* the first 401 not yet in an entry */
		int64_t written; /* when the last entry was written */
		long pending;	 /* 401s not yet in an entry */
	} slot[AUTH_FAIL_ADDRS];
};

void auth_fails_init(struct auth_fails *f, int64_t interval_ms);
void auth_fails_release(struct auth_fails *f);
/* Counts one 401 from addr at now.  Returns 1 when an entry is due now:
 * *count 401s since *since; else 0.  When the table is full the address
 * seen longest ago is forgotten (its count with it). */
int auth_fails_note(struct auth_fails *f, const char *addr, int64_t now,
		    long *count, int64_t *since);
/* Calls cb for each address with 401s not in an entry yet, and forgets
 * them. */
void auth_fails_flush(struct auth_fails *f,
		      void (*cb)(void *arg, const char *addr, long count,
				 int64_t since),
		      void *arg);

#endif

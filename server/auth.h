/*
 * Device tokens and what a device may do (SPEC §6).  A token is 32 random
 * bytes shown once, as URL-safe base64 without padding, at enrolment; the
 * store keeps only its BLAKE2b-256 hash.  A coordinator's device writes
 * labour kinds, an officer's policing kinds, each only for its own grid; a
 * viewer reads reports only.
 */
#ifndef GB_AUTH_H
#define GB_AUTH_H

#include <stddef.h>

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
int auth_bearer(struct store *st, const char *header,
		struct store_device *dev, struct gb_err *err);

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

#endif

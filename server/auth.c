/*
 * Tokens and permissions of enrolled devices.  The token itself never
 * reaches the store: only its BLAKE2b-256 hash does, so a copy of the
 * store does not let anyone send as a device.  A lookup by hash needs no
 * constant-time comparison, since the hash of a guess tells nothing about
 * the hashes stored.  Raw token bytes are wiped after use.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "crypto.h"
#include "i18n.h"

#include "banned.h"

#define TOKEN_BYTES 32

int auth_init(struct gb_err *err)
{
	if (gb_crypto_init() < 0)
		return gb_error(err, GB_EINTERNAL,
				_("libsodium could not be initialised"));
	return 0;
}

void auth_token_new(char text[AUTH_TOKEN_LEN],
		    unsigned char hash[STORE_HASH_LEN])
{
	unsigned char raw[TOKEN_BYTES];

	gb_random(raw, sizeof(raw));
	gb_base64(text, AUTH_TOKEN_LEN, raw, sizeof(raw));
	gb_hash_once(hash, STORE_HASH_LEN, raw, sizeof(raw));
	gb_wipe(raw, sizeof(raw));
}

void auth_wipe(void *p, size_t n)
{
	gb_wipe(p, n);
}

int auth_token_hash(const char *text, unsigned char hash[STORE_HASH_LEN],
		    struct gb_err *err)
{
	unsigned char raw[TOKEN_BYTES];
	size_t n = 0;
	int rc = -1;

	if (gb_base64_decode(raw, sizeof(raw), text, &n) || n != sizeof(raw)) {
		gb_error(err, GB_EAUTH, _("the token is malformed"));
		goto out;
	}
	gb_hash_once(hash, STORE_HASH_LEN, raw, sizeof(raw));
	rc = 0;
out:
	gb_wipe(raw, sizeof(raw));
	return rc;
}

int auth_bearer(struct store *st, const char *header, struct store_device *dev,
		struct gb_err *err)
{
	unsigned char hash[STORE_HASH_LEN];
	int found;

	if (!header || !*header)
		return gb_error(err, GB_EAUTH,
				_("no token: send Authorization: Bearer "
				  "TOKEN"));
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return gb_error(err, GB_EAUTH,
				_("the Authorization header is not "
				  "\"Bearer TOKEN\""));
	header += 7;
	while (*header == ' ')
		header++;
	if (auth_token_hash(header, hash, err) < 0)
		return -1;
	found = st->ops->device_by_token(st, hash, dev, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_EAUTH, _("the token is not known"));
	if (dev->revoked)
		return gb_error(err, GB_EAUTH, _("device %s is revoked"),
				dev->id);
	return 0;
}

int auth_role_valid(const char *role)
{
	return !strcmp(role, "coordinator") || !strcmp(role, "officer") ||
	       !strcmp(role, "viewer");
}

/* "a coordinator's device" and the like, for messages. */
static const char *role_device(const char *role)
{
	if (!strcmp(role, "coordinator"))
		return _("a coordinator's device");
	if (!strcmp(role, "officer"))
		return _("an officer's device");
	if (!strcmp(role, "viewer"))
		return _("a viewer's device");
	return _("this device");
}

int auth_may_write(const struct store_device *dev, const struct gb_kind *k,
		   const char *grid, struct gb_err *err)
{
	if (strcmp(dev->grid, grid) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("device %s belongs to grid %s, not %s"),
				dev->id, dev->grid, grid);
	if (gb_kind_role_allows(k, dev->role))
		return 0;
	return gb_error(err, GB_EFORBIDDEN, _("%s may not write %s records"),
			role_device(dev->role), k->name);
}

int auth_may_sync(const struct store_device *dev, struct gb_err *err)
{
	if (!strcmp(dev->role, "viewer"))
		return gb_error(err, GB_EFORBIDDEN,
				_("a viewer device reads reports only"));
	return 0;
}

void auth_fails_init(struct auth_fails *f, int64_t interval_ms)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->interval_ms = interval_ms > 0 ? interval_ms : AUTH_FAIL_INTERVAL_MS;
}

void auth_fails_release(struct auth_fails *f)
{
	pthread_mutex_destroy(&f->mu);
}

int auth_fails_note(struct auth_fails *f, const char *addr, int64_t now,
		    long *count, int64_t *since)
{
	struct auth_fail_slot *s = NULL, *oldest = NULL;
	int due = 0;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < AUTH_FAIL_ADDRS && !s; i++) {
		struct auth_fail_slot *c = &f->slot[i];

		if (c->addr[0] && strcmp(c->addr, addr) == 0)
			s = c;
		else if (!oldest || !c->addr[0] ||
			 (oldest->addr[0] && c->written < oldest->written))
			oldest = c;
	}
	if (!s) {
		s = oldest;
		memset(s, 0, sizeof(*s));
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->written = now - f->interval_ms;
	}
	if (!s->pending)
		s->since = now;
	s->pending++;
	if (now - s->written >= f->interval_ms) {
		*count = s->pending;
		*since = s->since;
		s->pending = 0;
		s->written = now;
		due = 1;
	}
	pthread_mutex_unlock(&f->mu);
	return due;
}

void auth_fails_flush(struct auth_fails *f,
		      void (*cb)(void *arg, const char *addr, long count,
				 int64_t since),
		      void *arg)
{
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < AUTH_FAIL_ADDRS; i++) {
		struct auth_fail_slot *s = &f->slot[i];

		if (s->addr[0] && s->pending)
			cb(arg, s->addr, s->pending, s->since);
		s->pending = 0;
	}
	pthread_mutex_unlock(&f->mu);
}

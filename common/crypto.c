/*
 * The one module that includes libsodium (crypto.h).  Initialisation is
 * once per process, from whichever function is called first; it can fail
 * only when the system cannot give randomness, and then nothing random
 * can be trusted: gb_random stops the program, the others do not need
 * randomness and go on.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#include "banned.h"

_Static_assert(sizeof(crypto_generichash_state) <=
		   sizeof(((struct gb_hash *)0)->state),
	       "struct gb_hash holds a crypto_generichash_state");
_Static_assert(_Alignof(crypto_generichash_state) <= 64,
	       "struct gb_hash is aligned for a crypto_generichash_state");

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;

static void setup(void)
{
	init_rc = sodium_init() < 0 ? -1 : 0;
}

int gb_crypto_init(void)
{
	pthread_once(&once, setup);
	return init_rc;
}

void gb_random(void *buf, size_t n)
{
	if (gb_crypto_init() < 0) {
		fprintf(stderr, "gridbook: the system gives no randomness\n");
		abort();
	}
	randombytes_buf(buf, n);
}

uint32_t gb_random_uniform(uint32_t upper)
{
	if (upper < 2)
		return 0;
	if (gb_crypto_init() < 0) {
		fprintf(stderr, "gridbook: the system gives no randomness\n");
		abort();
	}
	return randombytes_uniform(upper);
}

void gb_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

void gb_hash_init(struct gb_hash *h, size_t len)
{
	gb_crypto_init();
	h->len = len;
	crypto_generichash_init((crypto_generichash_state *)h->state, NULL, 0,
				len);
}

void gb_hash_update(struct gb_hash *h, const void *p, size_t n)
{
	crypto_generichash_update((crypto_generichash_state *)h->state, p, n);
}

void gb_hash_final(struct gb_hash *h, unsigned char *out)
{
	crypto_generichash_final((crypto_generichash_state *)h->state, out,
				 h->len);
}

void gb_hash_once(unsigned char *out, size_t len, const void *p, size_t n)
{
	gb_crypto_init();
	crypto_generichash(out, len, p, n, NULL, 0);
}

void gb_hex(char *out, size_t size, const void *bin, size_t n)
{
	if (!size)
		return;
	if (n > (size - 1) / 2)
		n = (size - 1) / 2;
	sodium_bin2hex(out, size, bin, n);
}

size_t gb_base64_len(size_t n)
{
	return sodium_base64_ENCODED_LEN(
	    n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void gb_base64(char *out, size_t size, const void *bin, size_t n)
{
	sodium_bin2base64(out, size, bin, n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int gb_base64_decode(void *bin, size_t size, const char *text, size_t *n)
{
	const char *end = NULL;

	*n = 0;
	if (sodium_base642bin(bin, size, text, strlen(text), NULL, n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    (end && *end))
		return -1;
	return 0;
}

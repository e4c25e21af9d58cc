/*
 * Randomness, wiping, hashing and the text forms of binary values: the
 * one room of libsodium.  Everything gridbook needs of it goes through
 * here, so that the choice of library, and its initialisation, is made
 * once.  The hash is BLAKE2b (libsodium's crypto_generichash), of any
 * length from 16 to 64 bytes.
 */
#ifndef GB_CRYPTO_H
#define GB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Initialises the library (also done by every function below on first
 * use).  Returns 0, or -1 when the system gives no randomness at all. */
int gb_crypto_init(void);

/* n random bytes into buf; aborts, as xmalloc does, when the system gives
 * no randomness, since no id or token could be trusted then. */
void gb_random(void *buf, size_t n);
/* A uniform random number in [0, upper), 0 when upper < 2. */
uint32_t gb_random_uniform(uint32_t upper);

/* Overwrites n bytes at p with zeros in a way the compiler keeps. */
void gb_wipe(void *p, size_t n);

/* A hash being computed: init, any number of updates, final. */
struct gb_hash {
	_Alignas(64) unsigned char state[384];
	size_t len;
};
void gb_hash_init(struct gb_hash *h, size_t len);
void gb_hash_update(struct gb_hash *h, const void *p, size_t n);
/* Writes the hash (h->len bytes, the length given to init) to out. */
void gb_hash_final(struct gb_hash *h, unsigned char *out);
/* The len-byte hash of n bytes at p, into out. */
void gb_hash_once(unsigned char *out, size_t len, const void *p, size_t n);

/* Lowercase hex of n bytes into out (2n + 1 bytes with the NUL; cut to
 * what fits in size). */
void gb_hex(char *out, size_t size, const void *bin, size_t n);
/* URL-safe base64 without padding of n bytes into out, which must hold
 * gb_base64_len(n) bytes with the NUL. */
size_t gb_base64_len(size_t n);
void gb_base64(char *out, size_t size, const void *bin, size_t n);
/* Decodes URL-safe unpadded base64 text (all of it) into at most size
 * bytes of bin, *n the bytes written.  Returns 0, or -1 when the text is
 * not such base64 or does not fit. */
int gb_base64_decode(void *bin, size_t size, const char *text, size_t *n);

#endif

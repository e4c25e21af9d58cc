/*
 * Tests of crypto.c, the one room of libsodium: BLAKE2b against its
 * published vectors, whole and in pieces; the text forms round-trip and
 * refuse what is not theirs; random numbers stay in their range; a wipe
 * leaves zeros.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "crypto.h"

#include "banned.h"

static void hex_of(const unsigned char *b, size_t n, char *out, size_t size)
{
	gb_hex(out, size, b, n);
}

static void test_hash(void)
{
	unsigned char h[64], h2[64];
	char hex[129];
	struct gb_hash st;

	/* BLAKE2b-512 of "abc" (RFC 7693, appendix A). */
	gb_hash_once(h, 64, "abc", 3);
	hex_of(h, 64, hex, sizeof(hex));
	CHECK_STR(hex,
		  "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6"
		  "fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925a"
		  "b92386edd4009923");
	/* BLAKE2b-256 of nothing. */
	gb_hash_once(h, 32, "", 0);
	hex_of(h, 32, hex, sizeof(hex));
	CHECK_STR(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab4"
		       "5cdf12fe3a8");
	/* In pieces, the same. */
	gb_hash_init(&st, 64);
	gb_hash_update(&st, "a", 1);
	gb_hash_update(&st, "", 0);
	gb_hash_update(&st, "bc", 2);
	gb_hash_final(&st, h2);
	gb_hash_once(h, 64, "abc", 3);
	CHECK(memcmp(h, h2, 64) == 0);
}

static void test_text(void)
{
	unsigned char raw[32], back[32];
	char text[64], hex[8];
	size_t n = 0;

	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)(i * 37 + 251);
	CHECK(gb_base64_len(32) == 44);
	gb_base64(text, sizeof(text), raw, sizeof(raw));
	CHECK(strlen(text) == 43);
	CHECK(strchr(text, '+') == NULL && strchr(text, '/') == NULL &&
	      strchr(text, '=') == NULL);
	CHECK(gb_base64_decode(back, sizeof(back), text, &n) == 0);
	CHECK(n == 32 && memcmp(raw, back, 32) == 0);
	CHECK(gb_base64_decode(back, sizeof(back), "ab$d", &n) == -1);
	CHECK(gb_base64_decode(back, sizeof(back), "abc=", &n) == -1);
	/* Longer than the room given: refused, not cut. */
	CHECK(gb_base64_decode(back, 8, text, &n) == -1);
	/* Hex is cut to what fits, never past its size. */
	memset(hex, 'x', sizeof(hex));
	gb_hex(hex, sizeof(hex), raw, sizeof(raw));
	CHECK(strlen(hex) == 6);
	gb_hex(hex, 0, raw, sizeof(raw));
	CHECK(hex[7] == 0 || hex[7] == 'x');
}

static void test_random(void)
{
	unsigned char a[16] = {0}, b[16] = {0}, zero[16] = {0};
	int seen[7] = {0}, all = 1;

	CHECK(gb_crypto_init() == 0);
	gb_random(a, sizeof(a));
	gb_random(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	for (int i = 0; i < 2000; i++) {
		uint32_t v = gb_random_uniform(7);

		if (v >= 7) {
			all = 0;
			break;
		}
		seen[v]++;
	}
	CHECK(all);
	for (int i = 0; i < 7; i++)
		CHECK(seen[i] > 0);
	CHECK(gb_random_uniform(0) == 0);
	CHECK(gb_random_uniform(1) == 0);
	gb_wipe(a, sizeof(a));
	CHECK(memcmp(a, zero, sizeof(a)) == 0);
}

int main(void)
{
	test_hash();
	test_text();
	test_random();
	return check_done();
}

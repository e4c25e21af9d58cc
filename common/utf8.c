/*
 * UTF-8 validation and display widths (see utf8.h).  Validation follows
 * the table of well-formed byte sequences in the Unicode standard
 * (chapter 3, table 3-7), so overlong forms, UTF-16 surrogates and code
 * points past U+10FFFF are all refused.  Widths follow Unicode's East
 * Asian Width property closely enough for tables of Chinese text: the
 * wide and fullwidth blocks take two columns, combining marks and other
 * zero-width characters none.  The C library's wcwidth() is not used
 * because it depends on the locale the program happens to run in.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#include "banned.h"

struct range {
	uint32_t lo, hi;
};

static const struct range wide[] = {
    {0x1100, 0x115f},	/* Hangul Jamo initial consonants */
    {0x2e80, 0x303e},	/* CJK radicals, punctuation, ideographic space */
    {0x3041, 0x33ff},	/* kana, bopomofo, CJK compatibility */
    {0x3400, 0x4dbf},	/* CJK extension A */
    {0x4e00, 0x9fff},	/* CJK unified ideographs */
    {0xa000, 0xa4cf},	/* Yi */
    {0xac00, 0xd7a3},	/* Hangul syllables */
    {0xf900, 0xfaff},	/* CJK compatibility ideographs */
    {0xfe30, 0xfe4f},	/* CJK compatibility forms */
    {0xff00, 0xff60},	/* fullwidth forms */
    {0xffe0, 0xffe6},	/* fullwidth signs */
    {0x1f300, 0x1f64f}, /* pictographs and emoticons */
    {0x1f900, 0x1f9ff}, /* supplemental pictographs */
    {0x20000, 0x2fffd}, /* CJK extensions B-F */
    {0x30000, 0x3fffd}, /* CJK extension G and later */
};

static const struct range zero[] = {
    {0x0300, 0x036f},	/* combining diacritical marks */
    {0x0483, 0x0489},	/* Cyrillic combining marks */
    {0x0591, 0x05bd},	/* Hebrew points */
    {0x0610, 0x061a},	/* Arabic marks */
    {0x064b, 0x065f},	/* Arabic vowel marks */
    {0x1160, 0x11ff},	/* Hangul Jamo medial vowels, final consonants */
    {0x1ab0, 0x1aff},	/* combining diacritical marks extended */
    {0x1dc0, 0x1dff},	/* combining diacritical marks supplement */
    {0x200b, 0x200f},	/* zero-width space, joiners, direction marks */
    {0x2060, 0x2064},	/* word joiner, invisible operators */
    {0x20d0, 0x20ff},	/* combining marks for symbols */
    {0x302a, 0x302d},	/* ideographic tone marks */
    {0x3099, 0x309a},	/* kana voicing marks */
    {0xfe00, 0xfe0f},	/* variation selectors */
    {0xfe20, 0xfe2f},	/* combining half marks */
    {0xfeff, 0xfeff},	/* zero-width no-break space (byte order mark) */
    {0xe0100, 0xe01ef}, /* variation selectors supplement */
};

/*
 * Decodes the character at s, of which at most avail bytes may be read.
 * Returns its byte length and stores the code point in *cp, or returns 0
 * when s does not begin a well-formed sequence.  A NUL byte never passes
 * as a continuation byte, so a NUL-terminated string may be passed with
 * avail = SIZE_MAX.
 */
static size_t decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2)
		return 0; /* a continuation byte, or an overlong 2-byte form */
	if (c < 0xe0) {
		n = 2;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c < 0xf5) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char b = s[i];

		if (b < lo || b > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		v = (v << 6) | (b & 0x3f);
	}
	*cp = v;
	return n;
}

int gb_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;
	uint32_t cp;
	size_t n;

	while (p < end) {
		/* ASCII runs are the common case. */
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = decode(p, (size_t)(end - p), &cp);
		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

static int in_ranges(uint32_t cp, const struct range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* The columns one code point takes. */
static int cp_width(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (in_ranges(cp, zero, sizeof(zero) / sizeof(zero[0])))
		return 0;
	if (cp >= 0x1100 && in_ranges(cp, wide, sizeof(wide) / sizeof(wide[0])))
		return 2;
	return 1;
}

/*
 * Steps over one character of a NUL-terminated string, giving its width.
 * A byte that does not begin a well-formed sequence counts as one column,
 * as a terminal shows it as one replacement character.
 */
static size_t step(const char *s, int *width)
{
	uint32_t cp;
	size_t n = decode((const unsigned char *)s, SIZE_MAX, &cp);

	if (!n) {
		*width = 1;
		return 1;
	}
	*width = cp_width(cp);
	return n;
}

int gb_utf8_width(const char *s)
{
	int cols = 0, w;

	if (!s)
		return 0;
	while (*s) {
		s += step(s, &w);
		cols += w;
	}
	return cols;
}

size_t gb_utf8_prefix(const char *s, int cols)
{
	const char *p = s;
	size_t n;
	int used = 0, w;

	if (!s)
		return 0;
	while (*p) {
		n = step(p, &w);
		if (used + w > cols)
			break;
		used += w;
		p += n;
	}
	return (size_t)(p - s);
}

void gb_utf8_excerpt(const char *s, char *out, size_t size)
{
	size_t len = strlen(s), n = len, i;
	int valid = gb_utf8_valid(s, len);

	if (n > size - 4) {
		n = size - 4;
		while (n > 0 && valid && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || (!valid && ch >= 0x80))
			ch = '?';
		out[i] = (char)ch;
	}
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

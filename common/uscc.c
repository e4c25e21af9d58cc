/*
 * The check of a unified social credit code (GB 32100-2015, see uscc.h).
 * A code has 18 characters:
 *
 *   position 1      the registration authority (9 = market regulation,
 *                   5 = civil affairs, 1 = organisation establishment ...)
 *   position 2      the kind of entity under that authority (1 = company,
 *                   2 = individual business, 3 = cooperative ...)
 *   positions 3-8   the administrative division code, six digits
 *   positions 9-17  the organisation code
 *   position 18     the check character
 *
 * Each character stands for its index in the 31-character alphabet.  The
 * check value is 31 minus (the sum of value times weight over positions
 * 1-17, mod 31), where 31 becomes 0, and the weight of position i is
 * 3^(i-1) mod 31.  Field staff copy codes from paper licences, so the
 * errors say exactly what is wrong and where: a lowercase letter, a letter
 * the code never uses (I, O, Z, S, V look like 1, 0, 2, 5, U), or the
 * check character that was expected.  The check catches every single
 * changed character and every swap of two neighbours.
 */
#include <string.h>

#include "i18n.h"
#include "uscc.h"
#include "utf8.h"

#include "banned.h"

#define USCC_LEN 18

/* The arguments of a "%.*s" that shows at most 40 columns of a value
 * without cutting a character in two. */
#define SHOWN(s) (int)gb_utf8_prefix((s), 40), (s)

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static const int weights[USCC_LEN - 1] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
					  29, 25, 13, 8,  24, 10, 30, 28};

/* The value of a character, or -1 when it is not in the alphabet. */
static int char_value(char ch)
{
	const char *p;

	if (ch == '\0')
		return -1;
	p = strchr(alphabet, ch);
	return p ? (int)(p - alphabet) : -1;
}

char gb_uscc_check_char(const char *first17)
{
	int i, v, sum = 0;

	for (i = 0; i < USCC_LEN - 1; i++) {
		v = char_value(first17[i]);
		if (v < 0)
			return '\0';
		sum += v * weights[i];
	}
	return alphabet[(31 - sum % 31) % 31];
}

/* The number of characters (not bytes) in UTF-8 text. */
static size_t count_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* The byte length of the UTF-8 character that begins at s (1 when s does
 * not begin a well-formed sequence). */
static size_t char_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n, i;

	if (c < 0xc0)
		return 1;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/* Explains why the character at s, position pos (1-based), is refused. */
static int bad_char(const char *code, const char *s, size_t pos,
		    struct gb_err *err)
{
	static const char look_alike[] = "I1O0Z2S5VU";
	char ch = *s;
	const char *p;
	int len = (int)char_len(s);

	if (ch >= 'a' && ch <= 'z' && char_value((char)(ch - 'a' + 'A')) >= 0)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\": character %zu \"%c\" is lowercase "
				  "(write \"%c\")"),
				SHOWN(code), pos, ch, ch - 'a' + 'A');
	if (ch >= 'a' && ch <= 'z')
		ch = (char)(ch - 'a' + 'A');
	p = ch >= 'A' && ch <= 'Z' ? strchr(look_alike, ch) : NULL;
	if (p && (p - look_alike) % 2 == 0)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\": character %zu \"%c\" is never "
				  "used in these codes (no I, O, Z, S or V; is "
				  "it \"%c\"?)"),
				SHOWN(code), pos, *s, p[1]);
	if ((unsigned char)*s < 0x20 || *s == 0x7f)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\": character %zu is a control "
				  "character (0x%02x)"),
				SHOWN(code), pos, (unsigned)(unsigned char)*s);
	return gb_error(err, GB_EINVAL,
			_("\"%.*s\": character %zu \"%.*s\" is not allowed "
			  "(only digits and capital letters other than I, O, "
			  "Z, S and V)"),
			SHOWN(code), pos, len, s);
}

int gb_uscc_check(const char *s, struct gb_err *err)
{
	const char *p;
	size_t n, pos;
	char want;

	if (!s)
		s = "";
	n = count_chars(s);
	if (n != USCC_LEN)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\" has %zu characters, a unified "
				  "social credit code has 18"),
				SHOWN(s), n);
	/* Eighteen characters but more bytes: some are not ASCII. */
	for (p = s, pos = 1; *p; p += char_len(p), pos++)
		if (char_value(*p) < 0)
			return bad_char(s, p, pos, err);
	for (pos = 3; pos <= 8; pos++)
		if (s[pos - 1] < '0' || s[pos - 1] > '9')
			return gb_error(err, GB_EINVAL,
					_("\"%.*s\": character %zu \"%c\" "
					  "should be a digit (characters 3-8 "
					  "are the administrative division "
					  "code)"),
					SHOWN(s), pos, s[pos - 1]);
	want = gb_uscc_check_char(s);
	if (s[USCC_LEN - 1] != want)
		return gb_error(err, GB_EINVAL,
				_("\"%.*s\": check character is \"%c\", "
				  "expected \"%c\" (a character may be "
				  "mistyped)"),
				SHOWN(s), s[USCC_LEN - 1], want);
	return 0;
}

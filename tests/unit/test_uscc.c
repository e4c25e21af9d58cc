/*
 * Tests of uscc.c: published codes pass, codes made with the check
 * character pass, and every kind of damage a hand-copied code suffers is
 * caught with a message that says what and where.
 */
#include <string.h>

#include "check.h"
#include "uscc.h"

#include "banned.h"

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Codes printed on real business licences. */
static const char *const published[] = {
    "91350100M000100Y43",
    "91110000600037341L",
    "91440300708461136T",
};

static int valid(const char *s)
{
	struct gb_err err;

	return gb_uscc_check(s, &err) == 0;
}

/* Completes 17 characters with their check character. */
static void complete(const char *first17, char *out)
{
	memcpy(out, first17, 17);
	out[17] = gb_uscc_check_char(first17);
	out[18] = '\0';
}

static void test_valid(void)
{
	char code[19];
	size_t i;
	int v;

	for (i = 0; i < sizeof(published) / sizeof(published[0]); i++) {
		CHECK(valid(published[i]));
		CHECK(gb_uscc_check_char(published[i]) == published[i][17]);
	}

	/* An individual business (92), a social organisation (51) and a
	 * company in Pudong (91310115). */
	complete("92320506MA1N8Q2K0", code);
	CHECK(code[17] != '\0' && valid(code));
	complete("51330100MJ9X7A3B5", code);
	CHECK(code[17] != '\0' && valid(code));
	complete("91310115MA1K4LRT2", code);
	CHECK(code[17] != '\0' && valid(code));

	/* Each check value 0..30 occurs, including the one where 31 - 0
	 * wraps to 0. */
	for (v = 0; v < 31; v++) {
		char first[18] = "9144030069272543";

		first[16] = alphabet[v];
		first[17] = '\0';
		complete(first, code);
		CHECK(valid(code));
	}
	{
		int seen0 = 0;

		for (v = 0; v < 31; v++) {
			char first[18] = "9144030069272543";

			first[16] = alphabet[v];
			first[17] = '\0';
			if (gb_uscc_check_char(first) == '0')
				seen0 = 1;
		}
		CHECK(seen0);
	}

	CHECK(gb_uscc_check_char("91350100M000100Y") == '\0');
	CHECK(gb_uscc_check_char("91350100M000100yX") == '\0');
	CHECK(gb_uscc_check_char("91350100M00O100Y4") == '\0');
}

static void test_length(void)
{
	struct gb_err err;

	CHECK(gb_uscc_check("91350100M000100Y4", &err) == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK_STR(err.msg, "\"91350100M000100Y4\" has 17 characters, a unified "
			   "social credit code has 18");
	CHECK(gb_uscc_check("91350100M000100Y433", &err) == -1);
	CHECK(strstr(err.msg, "has 19 characters") != NULL);
	CHECK(gb_uscc_check("", &err) == -1);
	CHECK(strstr(err.msg, "has 0 characters") != NULL);
	CHECK(gb_uscc_check(NULL, &err) == -1);
	/* A name typed into the code field counts as characters, not
	 * bytes. */
	CHECK(gb_uscc_check("福州市鼓楼区林记小吃店", &err) == -1);
	CHECK(strstr(err.msg, "has 11 characters") != NULL);
	CHECK(gb_uscc_check(" 91350100M000100Y43", &err) == -1);
}

static void test_bad_chars(void)
{
	struct gb_err err;

	CHECK(gb_uscc_check("91350100m000100Y43", &err) == -1);
	CHECK_STR(err.msg, "\"91350100m000100Y43\": character 9 \"m\" is "
			   "lowercase (write \"M\")");
	CHECK(gb_uscc_check("91350100M000100y43", &err) == -1);
	CHECK(strstr(err.msg, "character 16 \"y\" is lowercase") != NULL);

	CHECK(gb_uscc_check("91350100M0O0100Y43", &err) == -1);
	CHECK_STR(err.msg,
		  "\"91350100M0O0100Y43\": character 11 \"O\" is never "
		  "used in these codes (no I, O, Z, S or V; is it \"0\"?)");
	CHECK(gb_uscc_check("91350100M000I00Y43", &err) == -1);
	CHECK(strstr(err.msg, "character 13 \"I\" is never used") != NULL);
	CHECK(strstr(err.msg, "is it \"1\"?") != NULL);
	CHECK(gb_uscc_check("9135010ZM000100Y43", &err) == -1);
	CHECK(strstr(err.msg, "character 8 \"Z\"") != NULL);
	CHECK(gb_uscc_check("91350100S000100Y43", &err) == -1);
	CHECK(strstr(err.msg, "\"S\" is never used") != NULL);
	CHECK(gb_uscc_check("91350100V000100Y43", &err) == -1);
	CHECK(strstr(err.msg, "\"V\" is never used") != NULL);
	CHECK(gb_uscc_check("91350100o000100Y43", &err) == -1);
	CHECK(strstr(err.msg, "\"o\" is never used") != NULL);

	CHECK(gb_uscc_check("91350100M000100Y4-", &err) == -1);
	CHECK(strstr(err.msg, "character 18 \"-\" is not allowed") != NULL);
	CHECK(gb_uscc_check("91350100M000100Y4 ", &err) == -1);
	CHECK(strstr(err.msg, "character 18 \" \" is not allowed") != NULL);
	CHECK(gb_uscc_check("91350100M000100Y4\t", &err) == -1);
	CHECK(strstr(err.msg, "control character") != NULL);
	/* A fullwidth digit, as Chinese input methods type it. */
	CHECK(gb_uscc_check("91350100M000100Y4３", &err) == -1);
	CHECK(strstr(err.msg, "character 18 \"３\" is not allowed") != NULL);

	/* The administrative division code is six digits, even when the
	 * check character agrees. */
	{
		char code[19];

		complete("9135A100M000100Y4", code);
		CHECK(gb_uscc_check(code, &err) == -1);
		CHECK(strstr(err.msg, "character 5 \"A\" should be a digit") !=
		      NULL);
	}
}

static void test_check_char(void)
{
	struct gb_err err;

	CHECK(gb_uscc_check("91350100M000100Y44", &err) == -1);
	CHECK_STR(err.msg, "\"91350100M000100Y44\": check character is \"4\", "
			   "expected \"3\" (a character may be mistyped)");
	CHECK(gb_uscc_check("91110000600037341M", &err) == -1);
	CHECK(strstr(err.msg, "expected \"L\"") != NULL);
}

/* Every single changed character and every swap of two neighbours is
 * caught, in every published code. */
static void test_damage(void)
{
	size_t i, k, a;
	int missed = 0, tried = 0;

	for (k = 0; k < sizeof(published) / sizeof(published[0]); k++) {
		char code[19];

		for (i = 0; i < 18; i++) {
			for (a = 0; a < 31; a++) {
				memcpy(code, published[k], 19);
				if (code[i] == alphabet[a])
					continue;
				code[i] = alphabet[a];
				tried++;
				if (valid(code))
					missed++;
			}
		}
		for (i = 0; i + 1 < 18; i++) {
			char t;

			memcpy(code, published[k], 19);
			if (code[i] == code[i + 1])
				continue;
			t = code[i];
			code[i] = code[i + 1];
			code[i + 1] = t;
			tried++;
			if (valid(code))
				missed++;
		}
	}
	CHECK(tried > 1500);
	CHECK(missed == 0);
}

int main(void)
{
	test_valid();
	test_length();
	test_bad_chars();
	test_check_char();
	test_damage();
	return check_done();
}

/*
 * Tests of i18n.c and the choice words of kinds.c: the language a request
 * asks for (?lang= and Accept-Language), the per-thread locale objects,
 * every choice code having a word, the Chinese words accepted on input
 * whatever the user's language, and table headings.  The catalogue is the
 * one the build made (build/locale); the process itself speaks English.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "field.h"
#include "i18n.h"
#include "kinds.h"

#include "banned.h"

static const struct gb_field *fld(const char *kind, const char *name)
{
	const struct gb_kind *k = gb_kind_find(kind);
	int i = k ? gb_kind_field(k, name) : -1;

	if (i < 0) {
		fprintf(stderr, "no field %s.%s\n", kind, name);
		exit(2);
	}
	return &k->fields[i];
}

/* Points GRIDBOOK_LOCALEDIR at build/locale, beside the directory of
 * this binary (build/unit or build/unit-asan). */
static void use_build_catalogue(void)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		exit(2);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		exit(2);
	*slash = '\0';
	if (snprintf(dir, sizeof(dir), "%s/../locale", exe) >= (int)sizeof(dir))
		exit(2);
	setenv("GRIDBOOK_LOCALEDIR", dir, 1);
}

static void test_lang_parse(void)
{
	static const char *const zh[] = {"zh_CN", "zh-CN", "zh", "ZH_cn",
					 "zh_CN.UTF-8"};
	static const char *const en[] = {"en", "en_US", "EN-gb"};
	static const char *const bad[] = {"fr", "", "zhx", "e", "chinese"};
	struct gb_err err = {0};
	enum gb_lang l;

	for (size_t i = 0; i < sizeof(zh) / sizeof(zh[0]); i++)
		CHECK(gb_lang_parse(zh[i], &l, &err) == 0 && l == GB_LANG_ZH);
	for (size_t i = 0; i < sizeof(en) / sizeof(en[0]); i++)
		CHECK(gb_lang_parse(en[i], &l, &err) == 0 && l == GB_LANG_EN);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(gb_lang_parse(bad[i], &l, &err) == -1);
		CHECK(err.code == GB_EUSAGE);
		CHECK(strstr(err.msg, "lang: ") == err.msg);
	}
	CHECK(gb_lang_parse(NULL, &l, &err) == -1);
}

static void test_accept_language(void)
{
	CHECK(gb_lang_accept(NULL) == GB_LANG_DEFAULT);
	CHECK(gb_lang_accept("") == GB_LANG_DEFAULT);
	CHECK(gb_lang_accept("zh-CN,zh;q=0.9,en;q=0.8") == GB_LANG_ZH);
	CHECK(gb_lang_accept("en-US,en;q=0.9,zh-CN;q=0.8") == GB_LANG_EN);
	CHECK(gb_lang_accept("fr-FR, de;q=0.5") == GB_LANG_DEFAULT);
	CHECK(gb_lang_accept("fr;q=1.0, zh;q=0.5") == GB_LANG_ZH);
	CHECK(gb_lang_accept("en;q=0.3, zh;q=0.7") == GB_LANG_ZH);
	CHECK(gb_lang_accept("zh;q=0, en") == GB_LANG_EN);
	CHECK(gb_lang_accept("zh-TW ; q=0.2") == GB_LANG_ZH);
	CHECK(gb_lang_accept("*") == GB_LANG_DEFAULT);
	CHECK(gb_lang_accept("zh;q=bad") == GB_LANG_DEFAULT);
}

/* Every choice of every kind has a word; in Chinese the words of a field
 * differ from each other and from its codes, so input is unambiguous. */
static void test_every_choice_has_a_word(locale_t zh)
{
	for (int k = 0; k < gb_nkinds; k++) {
		for (int i = 0; i < gb_kinds[k].nfields; i++) {
			const struct gb_field *f = &gb_kinds[k].fields[i];
			locale_t old;

			if (f->type != GB_T_ENUM)
				continue;
			old = uselocale(zh);
			for (int c = 0; f->choices[c]; c++) {
				const char *w =
				    gb_choice_word(f, f->choices[c]);
				int ok = gb_choice_has_word(f, f->choices[c]) &&
					 w != f->choices[c] && *w &&
					 gb_choice_index(f->choices, w) < 0 &&
					 gb_choice_by_word(f, w) == c;

				if (!ok)
					fprintf(stderr,
						"%s.%s: %s has no good "
						"word (%s)\n",
						gb_kinds[k].name, f->name,
						f->choices[c], w);
				CHECK(ok);
			}
			uselocale(old);
		}
	}
}

static void test_words(locale_t zh, locale_t en)
{
	const struct gb_field *outcome = fld("contract_check", "outcome");
	const struct gb_field *mode = fld("patrol", "mode");
	const struct gb_field *ds = fld("dispute", "status");
	const struct gb_field *es = fld("enterprise", "status");
	struct gb_err err = {0};
	locale_t old;
	char *out = NULL;

	/* English, the process's language: codes are the words. */
	CHECK_STR(gb_choice_word(outcome, "rectify_order"), "rectify_order");
	CHECK_STR(gb_field_heading(outcome), "outcome");
	CHECK(gb_choice_word(outcome, NULL) == NULL);
	CHECK_STR(gb_pgettext("no such context", "rectify_order"),
		  "rectify_order");

	old = uselocale(zh);
	CHECK_STR(gb_choice_word(outcome, "rectify_order"), "责令改正");
	CHECK_STR(gb_choice_word(outcome, "notice"), "催告");
	CHECK_STR(gb_choice_word(mode, "foot"), "步巡");
	/* One code, two words: closed of a dispute and of an enterprise. */
	CHECK_STR(gb_choice_word(ds, "closed"), "已结案");
	CHECK_STR(gb_choice_word(es, "closed"), "已注销");
	CHECK_STR(gb_field_heading(outcome), "处理结果");
	out = gb_field_show(outcome, "referred");
	CHECK_STR(out, "移交查处");
	free(out);
	CHECK(gb_field_parse(outcome, "bogus", &out, &err) == -1);
	CHECK(strstr(err.msg, "outcome") == err.msg);
	CHECK(strstr(err.msg, "rectify_order (责令改正)") != NULL);
	uselocale(old);

	uselocale(en);
	CHECK_STR(gb_choice_word(outcome, "rectify_order"), "rectify_order");
	uselocale(old);

	/* Chinese is understood in an English process too. */
	CHECK(gb_field_parse(outcome, "责令改正", &out, &err) == 0);
	CHECK_STR(out, "rectify_order");
	free(out);
	CHECK(gb_field_parse(outcome, " 催告 ", &out, &err) == 0);
	CHECK_STR(out, "notice");
	free(out);
	CHECK(gb_field_parse(outcome, "责令", &out, &err) == 0);
	CHECK_STR(out, "rectify_order");
	free(out);
	CHECK(gb_field_parse(mode, "车巡", &out, &err) == 0);
	CHECK_STR(out, "vehicle");
	free(out);
	CHECK(gb_field_parse(outcome, "rect", &out, &err) == 0);
	CHECK_STR(out, "rectify_order");
	free(out);
	/* "劳动" starts two dispute categories: no choice. */
	CHECK(gb_field_parse(fld("dispute", "category"), "劳动", &out, &err) ==
	      -1);
	CHECK(gb_field_parse(outcome, "改正", &out, &err) == -1);
	CHECK(strstr(err.msg, "outcome: \"改正\" is not one of ") == err.msg);
	CHECK(strstr(err.msg, "责令") == NULL);
}

/* A kind's label in Chinese is its Chinese name, so help shows it once;
 * in English the label is shown beside it. */
static void test_kind_glosses(locale_t zh)
{
	locale_t old;

	for (int k = 0; k < gb_nkinds; k++)
		CHECK(gb_kind_gloss(&gb_kinds[k]) != NULL);
	old = uselocale(zh);
	for (int k = 0; k < gb_nkinds; k++) {
		const char *g = gb_kind_gloss(&gb_kinds[k]);

		if (g)
			fprintf(stderr, "%s: label %s, name %s\n",
				gb_kinds[k].name, g, gb_kinds[k].zh);
		CHECK(g == NULL);
	}
	uselocale(old);
}

struct worker {
	locale_t loc;
	const char *want;
	int bad;
};

static void *translate_often(void *arg)
{
	struct worker *w = arg;
	const struct gb_field *outcome = fld("contract_check", "outcome");
	locale_t old = uselocale(w->loc);

	for (int i = 0; i < 2000; i++)
		if (strcmp(gb_choice_word(outcome, "rectify_order"), w->want))
			w->bad++;
	uselocale(old);
	return NULL;
}

/* Two threads in two languages at once, as two report requests are. */
static void test_threads(locale_t zh, locale_t en)
{
	struct worker a = {zh, "责令改正", 0}, b = {en, "rectify_order", 0};
	pthread_t ta, tb;

	CHECK(pthread_create(&ta, NULL, translate_often, &a) == 0);
	CHECK(pthread_create(&tb, NULL, translate_often, &b) == 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(a.bad == 0);
	CHECK(b.bad == 0);
}

int main(void)
{
	locale_t zh, en;

	unsetenv("LANGUAGE");
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "C.UTF-8", 1);
	use_build_catalogue();
	gb_i18n_init();
	zh = gb_i18n_locale(GB_LANG_ZH);
	en = gb_i18n_locale(GB_LANG_EN);
	CHECK(gb_i18n_locale(GB_LANG_DEFAULT) == (locale_t)0);
	CHECK(en != (locale_t)0);
	CHECK(zh != (locale_t)0);
	test_lang_parse();
	test_accept_language();
	if (zh != (locale_t)0 && en != (locale_t)0) {
		test_every_choice_has_a_word(zh);
		test_words(zh, en);
		test_kind_glosses(zh);
		test_threads(zh, en);
	}
	return check_done();
}

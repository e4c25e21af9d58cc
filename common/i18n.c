/*
 * Locale setup and the choice of language.  The programs speak the
 * language of LANG/LC_MESSAGES (SPEC §7); gridbook-hq also answers each
 * report request in the language it asks for, by switching the locale of
 * the serving thread with uselocale() to one of the objects made here.
 * Catalogues are found without installing: a program run from build/
 * reads build/locale/, an installed one $(PREFIX)/share/locale.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

#include "banned.h"

#ifndef GB_LOCALEDIR
#define GB_LOCALEDIR "/usr/local/share/locale"
#endif

#define DOMAIN "gridbook"

/* Made once by gb_i18n_init before threads start; read-only after. */
static locale_t lang_locale[3];
static char build_localedir[PATH_MAX];

/* The directory of the running program plus "/locale" when that exists
 * (the build tree), else NULL. */
static const char *beside_program(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	struct stat st;
	int w;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	w = snprintf(build_localedir, sizeof(build_localedir), "%s/locale",
		     exe);
	if (w < 0 || (size_t)w >= sizeof(build_localedir))
		return NULL;
	if (stat(build_localedir, &st) < 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return build_localedir;
}

/* The locale name the environment gives messages, as setlocale would read
 * it; NULL when none is set. */
static const char *messages_env(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return v;
	}
	return NULL;
}

/*
 * setlocale refused the environment's locale, most often because it is
 * not generated on this machine.  gettext ignores LANGUAGE only when
 * messages are in the "C" locale, so C.UTF-8 with LANGUAGE set to the
 * wanted name still gives the wanted catalogue.
 */
static void fall_back(void)
{
	const char *want = messages_env();
	const char *lang = getenv("LANGUAGE");

	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "C");
	if (!want || !strcmp(want, "C") || !strcmp(want, "POSIX") ||
	    !strncmp(want, "C.", 2))
		return;
	if (!lang || !*lang)
		setenv("LANGUAGE", want, 1);
}

/* A copy of the process's locale with messages in the first of names
 * that is installed; (locale_t)0 when none is. */
static locale_t messages_in(const char *const *names)
{
	for (; *names; names++) {
		locale_t base = duplocale(LC_GLOBAL_LOCALE);
		locale_t l;

		if (base == (locale_t)0)
			return (locale_t)0;
		l = newlocale(LC_MESSAGES_MASK, *names, base);
		if (l != (locale_t)0)
			return l;
		freelocale(base);
	}
	return (locale_t)0;
}

/* Which covered language a tag such as "zh-CN", "zh_CN.UTF-8" or "en"
 * names, by its first subtag; GB_LANG_DEFAULT for any other. */
static enum gb_lang lang_of(const char *s, size_t n)
{
	if (n >= 2 && (s[0] | 0x20) == 'z' && (s[1] | 0x20) == 'h' &&
	    (n == 2 || s[2] == '-' || s[2] == '_' || s[2] == '.' ||
	     s[2] == ':'))
		return GB_LANG_ZH;
	if (n >= 2 && (s[0] | 0x20) == 'e' && (s[1] | 0x20) == 'n' &&
	    (n == 2 || s[2] == '-' || s[2] == '_' || s[2] == '.' ||
	     s[2] == ':'))
		return GB_LANG_EN;
	return GB_LANG_DEFAULT;
}

/*
 * No zh_CN locale is installed, yet a request may ask for Chinese.  A
 * C.UTF-8 object serves when LANGUAGE names Chinese, since gettext reads
 * LANGUAGE in every messages locale but "C".  That holds when LANGUAGE
 * names Chinese already (fall_back set it), or when it is unset and the
 * process speaks English anyway: messages then stay in "C", which ignores
 * the LANGUAGE set here.  Returns (locale_t)0 when neither holds.
 */
static locale_t zh_by_language(void)
{
	static const char *const c_utf8[] = {"C.UTF-8", "C.utf8", NULL};
	const char *lang = getenv("LANGUAGE");
	const char *msgs = setlocale(LC_MESSAGES, NULL);

	if (lang && *lang) {
		if (lang_of(lang, strlen(lang)) != GB_LANG_ZH)
			return (locale_t)0;
	} else {
		if (!msgs || (strcmp(msgs, "C") && strcmp(msgs, "POSIX") &&
			      strncmp(msgs, "C.", 2)))
			return (locale_t)0;
		setlocale(LC_MESSAGES, "C");
		setenv("LANGUAGE", "zh_CN", 1);
	}
	return messages_in(c_utf8);
}

void gb_i18n_init(void)
{
	static const char *const en[] = {"C", NULL};
	static const char *const zh[] = {"zh_CN.UTF-8", "zh_CN.utf8", "zh_CN",
					 NULL};
	const char *dir = getenv("GRIDBOOK_LOCALEDIR");

	if (!setlocale(LC_ALL, ""))
		fall_back();
	/* Numbers are written and parsed the C way whatever the locale. */
	setlocale(LC_NUMERIC, "C");
	if (!dir || !*dir)
		dir = beside_program();
	bindtextdomain(DOMAIN, dir ? dir : GB_LOCALEDIR);
	bind_textdomain_codeset(DOMAIN, "UTF-8");
	textdomain(DOMAIN);
	if (lang_locale[GB_LANG_EN] == (locale_t)0)
		lang_locale[GB_LANG_EN] = messages_in(en);
	if (lang_locale[GB_LANG_ZH] == (locale_t)0)
		lang_locale[GB_LANG_ZH] = messages_in(zh);
	if (lang_locale[GB_LANG_ZH] == (locale_t)0)
		lang_locale[GB_LANG_ZH] = zh_by_language();
}

const char *gb_pgettext(const char *ctx, const char *msgid)
{
	char key[256];
	const char *t;
	int w = snprintf(key, sizeof(key), "%s\004%s", ctx, msgid);

	if (w < 0 || (size_t)w >= sizeof(key))
		return msgid;
	t = gettext(key);
	return t == key ? msgid : t;
}

int gb_lang_parse(const char *s, enum gb_lang *out, struct gb_err *err)
{
	enum gb_lang l = s ? lang_of(s, strlen(s)) : GB_LANG_DEFAULT;

	if (l == GB_LANG_DEFAULT)
		return gb_error(err, GB_EUSAGE,
				_("lang: \"%.20s\" is not one of zh_CN, en"),
				s ? s : "");
	*out = l;
	return 0;
}

/* The q value of one Accept-Language item's parameters ";q=0.8", in
 * thousandths; 1000 when there is none, -1 when it is malformed. */
static int q_of(const char *p, const char *end)
{
	int q = 1000, scale = 100;

	while (p < end && (*p == ' ' || *p == ';'))
		p++;
	if (p == end)
		return q;
	if (end - p < 3 || (p[0] | 0x20) != 'q' || p[1] != '=')
		return -1;
	p += 2;
	if (*p == '1')
		return 1000;
	if (*p != '0')
		return -1;
	q = 0;
	for (p++; p < end && *p == '.'; p++)
		;
	for (; p < end && *p >= '0' && *p <= '9' && scale > 0; p++) {
		q += (*p - '0') * scale;
		scale /= 10;
	}
	return q;
}

enum gb_lang gb_lang_accept(const char *header)
{
	enum gb_lang best = GB_LANG_DEFAULT;
	int best_q = 0;
	const char *p = header;

	while (p && *p) {
		const char *end = strchr(p, ',');
		const char *tag, *semi;
		size_t n;
		int q;

		if (!end)
			end = p + strlen(p);
		while (p < end && *p == ' ')
			p++;
		tag = p;
		semi = memchr(tag, ';', (size_t)(end - tag));
		n = (size_t)((semi ? semi : end) - tag);
		while (n > 0 && tag[n - 1] == ' ')
			n--;
		q = q_of(semi ? semi : end, end);
		if (q > best_q && lang_of(tag, n) != GB_LANG_DEFAULT) {
			best = lang_of(tag, n);
			best_q = q;
		}
		p = *end ? end + 1 : end;
	}
	return best;
}

locale_t gb_i18n_locale(enum gb_lang lang)
{
	if (lang != GB_LANG_EN && lang != GB_LANG_ZH)
		return (locale_t)0;
	return lang_locale[lang];
}

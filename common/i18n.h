/*
 * Every user-facing string goes through _() so that a catalogue can
 * translate it (gettext, domain "gridbook").  N_() marks a string for
 * extraction where it is translated later, as in static tables.  C_() and
 * NC_() do the same for a word whose translation depends on what it is
 * about (the context): "closed" of an enterprise is not "closed" of a
 * dispute.
 */
#ifndef GB_I18N_H
#define GB_I18N_H

#include <libintl.h>
#include <locale.h>

#include "err.h"

#define _(s) gettext(s)
#define N_(s) (s)
/* The translation of s in context ctx (msgctxt in the catalogue). */
#define C_(ctx, s) gb_pgettext(ctx, s)
/* Marks s in context ctx for extraction and expands to `ctx, s`, two
 * initializers of a table row that gb_pgettext() later translates. */
#define NC_(ctx, s) ctx, s

/* The languages the catalogues cover; English is the source language. */
enum gb_lang { GB_LANG_DEFAULT, GB_LANG_EN, GB_LANG_ZH };

/*
 * Sets the locale from the environment, binds the text domain and makes
 * the locale objects gb_i18n_locale() returns; call once, before any
 * thread starts.  Catalogues are looked for under GRIDBOOK_LOCALEDIR when
 * set, else beside the program in locale/ (the build tree), else under
 * GB_LOCALEDIR (set when building; $(PREFIX)/share/locale).  When the
 * environment names a locale that is not installed (LANG=zh_CN.UTF-8 on a
 * machine without it), messages still come in that language: the locale
 * becomes C.UTF-8 and LANGUAGE, unless already set, names the language.
 */
void gb_i18n_init(void);

/* The translation of msgid in context ctx; msgid itself when there is
 * none.  Static or from the catalogue, never freed. */
const char *gb_pgettext(const char *ctx, const char *msgid);

/*
 * Parses a language a request names (`?lang=`): "zh_CN", "zh-CN", "zh",
 * "en", "en_US" ... in any case.  Returns 0 with *out set, or -1 with err
 * (GB_EUSAGE) naming the value and the languages there are.
 */
int gb_lang_parse(const char *s, enum gb_lang *out, struct gb_err *err);

/* The language an Accept-Language header prefers among those covered
 * (highest q, the first of equals); GB_LANG_DEFAULT when it names none or
 * header is NULL. */
enum gb_lang gb_lang_accept(const char *header);

/*
 * A locale object whose messages are in lang and whose other categories
 * are the process's, for uselocale() in a thread serving one request.
 * Returns (locale_t)0 for GB_LANG_DEFAULT and when the locale lang needs
 * is not installed (messages then stay in the process's language).  The
 * object is static and shared; never free it.
 */
locale_t gb_i18n_locale(enum gb_lang lang);

#endif

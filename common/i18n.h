/*
 * Every user-facing string goes through _() so that a catalogue can
 * translate it (gettext, domain "gridbook").  N_() marks a string for
 * extraction where it is translated later, as in static tables.
 */
#ifndef GB_I18N_H
#define GB_I18N_H

#include <libintl.h>

#define _(s) gettext(s)
#define N_(s) (s)

/* Binds the text domain and the locale from the environment. */
void gb_i18n_init(void);

#endif

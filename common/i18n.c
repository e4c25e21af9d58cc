/*
 * Locale setup.  Catalogues live under GRIDBOOK_LOCALEDIR when set (tests
 * and the build tree), else the system locale directory.
 */
#include <locale.h>
#include <stdlib.h>

#include "i18n.h"

void gb_i18n_init(void)
{
	const char *dir = getenv("GRIDBOOK_LOCALEDIR");

	setlocale(LC_ALL, "");
	/* Numbers are written and parsed the C way whatever the locale. */
	setlocale(LC_NUMERIC, "C");
	bindtextdomain("gridbook", dir ? dir : "/usr/share/locale");
	bind_textdomain_codeset("gridbook", "UTF-8");
	textdomain("gridbook");
}

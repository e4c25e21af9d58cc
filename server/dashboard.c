/*
 * The HQ dashboard (GET /, SPEC §7): one self-contained page, its styles
 * and script inline, nothing loaded from elsewhere.  The page is kept as
 * three source files (server/dashboard.html, .css, .js) compiled in by
 * tests/gen-assets.sh; here they are put together with the data the page
 * needs before it can fetch anything: the reports there are, with the
 * summary and the levels of each (from reports.h, so the page cannot fall
 * behind the reports), and HQ's local date, from which the page counts
 * its periods (they end yesterday, HQ's yesterday, whatever the clock of
 * the browser says).
 *
 * The page holds no figure, so it is served without a token; every
 * number it shows comes through the authenticated report route.
 */
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "dashboard.h"
#include "dashboard_assets.h"
#include "gbtime.h"
#include "json.h"
#include "reports.h"

#include "banned.h"

/* Appends the list of reports and the date as two script statements. */
static int add_data(struct gb_buf *out, struct gb_err *err)
{
	char today[16];

	if (gb_buf_adds(out, "var REPORTS = [", err))
		return -1;
	for (size_t i = 0; i < reports_count(); i++) {
		const char *name = reports_name(i);
		const char *levels = reports_levels(name);

		if ((i && gb_buf_adds(out, ",\n", err)) ||
		    gb_buf_adds(out, "{\"name\":", err) ||
		    gb_json_str(out, name, err) ||
		    gb_buf_adds(out, ",\"summary\":", err) ||
		    gb_json_str(out, reports_summary(i), err) ||
		    gb_buf_adds(out, ",\"levels\":", err) ||
		    gb_json_str(out, levels ? levels : "district", err) ||
		    gb_buf_adds(out, "}", err))
			return -1;
	}
	gb_date_format(gb_today(), today);
	return gb_buf_addf(out, err, "];\nvar TODAY = \"%s\";\n", today);
}

/* Appends the HTML from *at up to the next marker line ("@CSS@" and the
 * like, alone on a line) and leaves *at past that line, *mark at the
 * marker; at the end of the HTML *mark is NULL.  Returns 0, or -1 with
 * err when out is full. */
static int add_until_marker(struct gb_buf *out, const char **at,
			    const char **mark, struct gb_err *err)
{
	const char *p = *at;

	*mark = NULL;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);

		if (p[0] == '@' && eol && n >= 3 && eol[-1] == '@') {
			*mark = p;
			break;
		}
		p += n;
	}
	if (gb_buf_add(out, *at, (size_t)(p - *at), err))
		return -1;
	*at = *mark ? strchr(p, '\n') + 1 : p;
	return 0;
}

int dashboard_page(struct gb_buf *out, struct gb_err *err)
{
	const char *at = dashboard_html;

	for (;;) {
		const char *mark;
		int rc = 0;

		if (add_until_marker(out, &at, &mark, err))
			return -1;
		if (!mark)
			return 0;
		if (!strncmp(mark, "@CSS@\n", 6))
			rc = gb_buf_adds(out, dashboard_css, err);
		else if (!strncmp(mark, "@DATA@\n", 7))
			rc = add_data(out, err);
		else if (!strncmp(mark, "@JS@\n", 5))
			rc = gb_buf_adds(out, dashboard_js, err);
		if (rc)
			return -1;
	}
}

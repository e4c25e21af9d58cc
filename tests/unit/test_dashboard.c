/*
 * The dashboard page as dashboard_page() puts it together: every marker
 * of server/dashboard.html replaced, the styles and the script in it once,
 * the list of reports and HQ's date written before the script, and a
 * buffer too small for the page refused rather than cut.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "dashboard.h"
#include "reports.h"

#include "banned.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

int main(void)
{
	struct gb_buf b, small;
	struct gb_err err;
	const char *page;
	char want[64];

	setenv("GRIDBOOK_NOW", "2026-03-01 10:00", 1);
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	CHECK(dashboard_page(&b, &err) == 0);
	page = gb_buf_str(&b);
	CHECK(!strncmp(page, "<!DOCTYPE html>\n", 16));
	CHECK(strstr(page, "</html>\n") != NULL);
	CHECK(count(page, "@CSS@") == 0);
	CHECK(count(page, "@DATA@") == 0);
	CHECK(count(page, "@JS@") == 0);
	CHECK(count(page, "@page { size: A4 landscape") == 1);
	CHECK(count(page, "function readJSON(") == 1);
	CHECK(count(page, "var TODAY = \"2026-03-01\";\n") == 1);
	/* The data come before the script that reads them. */
	CHECK(strstr(page, "var REPORTS = [") < strstr(page, "function Num("));
	CHECK(count(page, "{\"name\":") == reports_count());
	for (size_t i = 0; i < reports_count(); i++) {
		snprintf(want, sizeof(want), "{\"name\":\"%s\"",
			 reports_name(i));
		CHECK(count(page, want) == 1);
	}
	CHECK(strstr(page, "\"levels\":\"district|street|grid|area|"
			   "community\"") != NULL);
	/* Nothing from elsewhere: the one address is SVG's namespace name. */
	CHECK(count(page, "http") ==
	      count(page, "\"http://www.w3.org/2000/svg\""));

	gb_buf_init(&small, 4096);
	CHECK(dashboard_page(&small, &err) == -1);
	gb_buf_release(&small);
	gb_buf_release(&b);
	return check_done();
}

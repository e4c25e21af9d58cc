/*
 * The HQ dashboard served at GET / (SPEC §7): a self-contained HTML page
 * that fetches the reports from /v1/reports/NAME with a viewer token the
 * user types in.  The page itself holds no data and needs no token.
 */
#ifndef GB_DASHBOARD_H
#define GB_DASHBOARD_H

#include "buf.h"
#include "err.h"

/* Appends the page (UTF-8 HTML, the current list of reports and HQ's
 * local date, gb_today(), written into it) to out.  Returns 0, or -1
 * with err when out is full. */
int dashboard_page(struct gb_buf *out, struct gb_err *err);

#endif

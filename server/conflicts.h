/*
 * The field conflicts HQ holds (SPEC §4, edits), listed for people: a
 * field two laptops changed without seeing each other's change, the
 * value kept and the other one, who wrote each and when HQ saw the
 * second.  The command line (gridbook-hq conflicts) and HTTP (GET
 * /v1/conflicts) both go through conflicts_write, so both show the same
 * rows.  Ingest writes the conflicts (store.h, field_conflicts_put);
 * this module only reads them.
 */
#ifndef GB_CONFLICTS_H
#define GB_CONFLICTS_H

#include "buf.h"
#include "err.h"
#include "store.h"

enum conflicts_format { CONFLICTS_TABLE, CONFLICTS_JSON, CONFLICTS_CSV };

/* The format named by s ("table", "json", "csv") into *out; -1 with err
 * (GB_EUSAGE) for any other. */
int conflicts_format_parse(const char *s, enum conflicts_format *out,
			   struct gb_err *err);

/*
 * Which grid's conflicts dev may read when it asks for grid (NULL: no
 * grid named): a viewer (HQ) any grid, or every grid when none is named;
 * a field device only its own grid's, which it holds the records of
 * anyway (GET /v1/changes), and its own grid when none is named.  Sets
 * *use to the grid to list (NULL: every grid; borrowed from grid or dev)
 * and returns 0, or -1 with err (GB_EFORBIDDEN) naming the grid.
 */
int conflicts_may_read(const struct store_device *dev, const char *grid,
		       const char **use, struct gb_err *err);

/* The most a page of GET /v1/conflicts holds, and what it holds when
 * the request names no limit. */
#define CONFLICTS_PAGE_MAX 10000
#define CONFLICTS_PAGE_DEFAULT 1000

/*
 * A page of the listing: the conflicts after the one named by after
 * (NULL: from the first), which is the "next" of the page before, at
 * most limit of them (0: every one).
 */
struct conflicts_page {
	const char *after;
	size_t limit;
};

/* Checks a page's cursor and limit as a request gives them (either may
 * be NULL: from the first, CONFLICTS_PAGE_DEFAULT) into *out, which
 * borrows after.  Returns 0, or -1 with err (GB_EUSAGE) naming it. */
int conflicts_page_parse(const char *after, const char *limit,
			 struct conflicts_page *out, struct gb_err *err);

/*
 * Appends the field conflicts of grid (NULL: every grid) to out in
 * format f: an aligned table for a terminal (values cut to a width),
 * a JSON object {"conflicts": [...], "count": N}, or CSV for Excel and
 * WPS (BOM, headers in the user's language, cells neutralised).  With
 * page (NULL: every conflict), those of that page; a JSON page that is
 * not the last also has "next", the cursor of the page after it.  Reads
 * st from any thread.  Returns 0, or -1 with err.
 */
int conflicts_write(struct store *st, const char *grid, enum conflicts_format f,
		    const struct conflicts_page *page, struct gb_buf *out,
		    struct gb_err *err);

#endif

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

/*
 * Appends the field conflicts of grid (NULL: every grid) to out in
 * format f: an aligned table for a terminal (values cut to a width),
 * a JSON object {"conflicts": [...], "count": N}, or CSV for Excel and
 * WPS (BOM, headers in the user's language, cells neutralised).  Reads
 * st from any thread.  Returns 0, or -1 with err.
 */
int conflicts_write(struct store *st, const char *grid, enum conflicts_format f,
		    struct gb_buf *out, struct gb_err *err);

#endif

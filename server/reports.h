/*
 * The reports for headquarters (SPEC §3), computed from the facts that
 * ingest keeps (rollup.h) and the reference data, never from the stored
 * records themselves, so that a report over a period reads only that
 * period's facts.
 *
 * One implementation computes a report into a neutral result (struct
 * report: one row per unit at the level asked for, a total row, drill-down
 * lists and the completeness of the data), and three writers render it as
 * an aligned terminal table, JSON or CSV.  The CLI (gridbook-hq report)
 * and HTTP (GET /v1/reports/NAME) both go through report_run and these
 * writers, so every form shows the same numbers.
 *
 * Periods are local dates, both ends included.  "As of" is the end of the
 * last day, or now when that is earlier; the previous period is the same
 * number of days just before the first.
 */
#ifndef GB_REPORTS_H
#define GB_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "store.h"

enum report_vtype { RV_NULL, RV_INT, RV_NUM, RV_TEXT };

/* One value: a count, a number shown with dec decimals (rates are
 * percentages, hours are hours), a text, or nothing (an empty
 * denominator). */
struct report_val {
	enum report_vtype type;
	int64_t i;
	double d;
	int dec;
	char *s; /* owned, RV_TEXT only */
};

struct report_col {
	const char *key;   /* JSON key and CSV header */
	const char *label; /* table header, marked with N_() */
};

/* Rows of values, ncols to a row, row-major. */
struct report_table {
	const char *key;   /* "overdue" ... (details) */
	const char *title; /* marked with N_() */
	const struct report_col *cols;
	int ncols;
	struct report_val *cells; /* owned */
	size_t nrows, cap;
};

#define REPORT_MAX_DETAILS 3

struct report {
	const char *name;  /* "contract-rate"; static */
	const char *title; /* N_() */
	char level[16];
	int32_t from, to;	    /* the period, local days */
	int32_t prev_from, prev_to; /* the previous period */
	int has_prev;		    /* the report compares with it */
	int64_t as_of;
	/* One row per unit; the first two columns are the unit's code and
	 * name.  total has main.ncols values, the code being "total". */
	struct report_table main;
	struct report_val *total; /* owned */
	struct report_table details[REPORT_MAX_DETAILS];
	int ndetails;
	/* Completeness: of the grids in scope, those from which a device of
	 * the role that enters this report's records (any role when
	 * synced_role is NULL) has sent a batch since the period began. */
	int grids, synced;
	char **not_synced; /* owned codes */
	size_t nnot_synced;
	const char *synced_role; /* static, or NULL */
};

/* The reports there are, for --help: name and one line, i < count. */
size_t reports_count(void);
const char *reports_name(size_t i);
const char *reports_summary(size_t i); /* translated */
/* The levels a report accepts, e.g. "district|street|grid|area", or NULL
 * for an unknown report. */
const char *reports_levels(const char *name);

/*
 * Computes report name for the period from..to (YYYY-MM-DD) at level
 * (NULL: district) as of now_ms, reading store st (any thread).  On
 * success *out is a report the caller frees with report_free().  Fails
 * with GB_ENOTFOUND for an unknown report, GB_EUSAGE for a bad level or
 * date (the message names the parameter), GB_EDB when the store fails.
 */
int report_run(struct store *st, const char *name, const char *level,
	       const char *from, const char *to, int64_t now_ms,
	       struct report **out, struct gb_err *err);
void report_free(struct report *r);

/* The writers: append the report to out.  The table is for a terminal
 * (columns aligned by display width, Chinese names included); JSON is one
 * object {report, title, level, from, to, as_of, [previous,] columns,
 * rows, total, details, completeness}; CSV is the header, the rows and the
 * total row. */
int report_write_table(const struct report *r, struct gb_buf *out,
		       struct gb_err *err);
int report_write_json(const struct report *r, struct gb_buf *out,
		      struct gb_err *err);
int report_write_csv(const struct report *r, struct gb_buf *out,
		     struct gb_err *err);

/* A value of the main table: the row of unit (its code, or "total") and
 * the column key.  NULL when there is no such row or column.  Borrowed. */
const struct report_val *report_get(const struct report *r, const char *unit,
				    const char *key);
/* A value as the writers show it, into buf (size n): "" when null. */
const char *report_val_text(const struct report_val *v, char *buf, size_t n);

/* Whether dev may read reports: viewer devices (HQ) only.  Returns 0, or
 * -1 with err (GB_EFORBIDDEN). */
int reports_may_read(const struct store_device *dev, struct gb_err *err);

#endif

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

enum report_vtype { RV_NULL, RV_INT, RV_NUM, RV_TEXT, RV_BOOL };

/* One value: a count, a number shown with dec decimals (rates are
 * percentages, hours are hours), a text, yes or no (RV_BOOL, in i), or
 * nothing (an empty denominator, or a unit nothing covers). */
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

/* A grid whose data for the period is not complete, and why: one of
 * "never_synced" (a device of the grid has never sent a batch, or the
 * grid has no device), "not_synced_since_end" (a device's last batch came
 * before as-of), "unsent_backlog" (a device said at its last batch that
 * it still held versions written before as-of). */
struct report_incomplete {
	char code[GB_CODE_LEN];
	char *name;	    /* owned */
	const char *reason; /* static */
};

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
	/* The columns of main (owned): the report's own, then before the
	 * last ("complete") "conflicts", the records of its kinds in the
	 * unit that hold a field conflict not yet resolved (SPEC §4). */
	struct report_col *cols;
	struct report_table details[REPORT_MAX_DETAILS];
	int ndetails;
	/* Coverage: of the grids, those from which a device of the role
	 * that enters this report's records (any role when synced_role is
	 * NULL) has sent a batch since the period began.  A unit with no
	 * such grid shows null figures. */
	int grids, synced;
	char **not_synced; /* owned codes */
	size_t nnot_synced;
	const char *synced_role; /* static, or NULL */
	/* Completeness (SPEC §3): the grids every device of which (of that
	 * role, revoked ones aside) has synced at or after as-of with
	 * nothing older left unsent; the others, in code order. */
	int complete;
	struct report_incomplete *incomplete; /* owned */
	size_t nincomplete;
	/* Nights, days or ISO weeks of the period left out because they had
	 * not ended when the report ran ("nights", "days", "weeks"; NULL for
	 * a report that counts none). */
	const char *left_key;
	int64_t left_out;
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
 * rows, total, details, completeness}, completeness being {grids,
 * complete, incomplete: [{code, name, reason}], left_out: {nights|days|
 * weeks}, text, synced, role, not_synced}; every row, the total too, ends
 * with "complete".  CSV is the header, the rows and the total row, then
 * after an empty line each a section whose header row starts with its
 * name and whose rows start with an empty field: the completeness, the
 * incomplete grids and each drill-down list. */
int report_write_table(const struct report *r, struct gb_buf *out,
		       struct gb_err *err);
int report_write_json(const struct report *r, struct gb_buf *out,
		      struct gb_err *err);
int report_write_csv(const struct report *r, struct gb_buf *out,
		     struct gb_err *err);
/* One drill-down list (a key of details, or "incomplete": the incomplete
 * grids) as CSV: its header and rows.  Fails with GB_EUSAGE naming the
 * lists the report has when it has no list of that name. */
int report_write_list_csv(const struct report *r, const char *list,
			  struct gb_buf *out, struct gb_err *err);

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

/*
 * The reader of the reference district's seed files (seeds/README.md),
 * the one both sides use: HQ's `gridbook-hq seed` loads every row, a
 * laptop's `gridbook init` the rows of its grid.  A file is read by
 * column name, so columns may come in another order or among others, and
 * every value is checked before a caller sees it: codes short and
 * printable, text valid UTF-8, names present, counts whole and not
 * negative, staff roles known.  What the values refer to is the store's
 * to check.
 */
#ifndef GB_SEEDS_H
#define GB_SEEDS_H

#include <stdint.h>
#include <stdio.h>

#include "csv.h"
#include "err.h"

/* The files, parents before children: a loader that goes in this order
 * meets every code after the unit it names. */
enum gb_seeds_file {
	GB_SEEDS_DISTRICT,
	GB_SEEDS_STREETS,
	GB_SEEDS_GRIDS,
	GB_SEEDS_COMMUNITIES,
	GB_SEEDS_AREAS,
	GB_SEEDS_AREA_COMMUNITIES,
	GB_SEEDS_STAFF,
	GB_SEEDS_NFILES
};

#define GB_SEEDS_MAXCOLS 6

/* The roles of staff (staff.csv, column role), NULL-terminated: one
 * list for the seeds' check and for what is counted of each. */
extern const char *const gb_staff_roles[];

/* What a column holds, and so how it is checked. */
enum gb_seeds_type {
	GB_SEEDS_CODE,	  /* a code, required */
	GB_SEEDS_OPTCODE, /* a code or empty */
	GB_SEEDS_NAME,	  /* text, required */
	GB_SEEDS_TEXT,	  /* text, may be empty */
	GB_SEEDS_COUNT,	  /* a whole number of 0 or more */
	GB_SEEDS_ROLE	  /* coordinator, officer, chief or guard */
};

struct gb_seeds_spec {
	const char *file;
	int ncols;
	const char *cols[GB_SEEDS_MAXCOLS];
	enum gb_seeds_type types[GB_SEEDS_MAXCOLS];
};

/* The columns of each file, indexed by enum gb_seeds_file. */
extern const struct gb_seeds_spec gb_seeds_specs[GB_SEEDS_NFILES];

/* An open seed file. */
struct gb_seeds {
	const struct gb_seeds_spec *spec;
	char path[4096]; /* dir/file, for messages */
	FILE *fp;	 /* owned; NULL when closed */
	struct gb_csv csv;
	int col[GB_SEEDS_MAXCOLS]; /* where each spec column is in the file */
	/* The current row in the spec's column order: text borrowed until
	 * the next gb_seeds_next, and the value of each COUNT column. */
	const char *v[GB_SEEDS_MAXCOLS];
	int64_t n[GB_SEEDS_MAXCOLS];
};

/* Opens dir/file of which and maps its header row to the spec's columns.
 * Returns 0, or -1 with err naming the file (GB_ENOTFOUND when it is
 * missing); sd is then closed. */
int gb_seeds_open(struct gb_seeds *sd, const char *dir,
		  enum gb_seeds_file which, struct gb_err *err);
/* Reads and checks the next row into sd->v and sd->n.  Returns 1, 0 at the
 * end, or -1 with err naming the file, the line, the column and the rule
 * (GB_EINVAL for a bad value). */
int gb_seeds_next(struct gb_seeds *sd, struct gb_err *err);
/* The physical line where the current row began. */
long gb_seeds_line(const struct gb_seeds *sd);
/* Closes the file; a no-op when it is closed. */
void gb_seeds_close(struct gb_seeds *sd);

#endif

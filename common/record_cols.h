/*
 * The columns a store copies out of a version (SPEC §5): the local day of
 * the kind's date field, and its community, staff, status and title
 * fields, kept beside the body so that lists and reports filter and sort
 * on indexed columns.  The grid file (client/db_records.c) and HQ's
 * ingest (server/ingest.c) both take them from here, so that a laptop
 * and HQ file a version under the same day.
 */
#ifndef GB_RECORD_COLS_H
#define GB_RECORD_COLS_H

#include "kinds.h"
#include "record.h"

/* Where a kind's columns come from: the index of each field in the
 * kind, -1 for none (kinds.h names them). */
struct gb_colmap {
	int date, community, staff, status, title;
};

/* Fills m for kind k. */
void gb_colmap_init(struct gb_colmap *m, const struct gb_kind *k);

/* The columns of one version.  The pointers are borrowed from the record
 * (or, day, from daybuf) and NULL when the field is empty or the kind
 * has none. */
struct gb_record_cols {
	const char *day; /* YYYY-MM-DD: a DATE field as it is, a TIME
			  * field's local day (gb_local_day) */
	const char *community;
	const char *person; /* the staff field */
	const char *status;
	const char *title;
	char daybuf[11];
};

/* Fills c from r, whose kind's fields m locates (NULL: looked up now,
 * which costs a search of the field names per column). */
void gb_record_cols(const struct gb_record *r, const struct gb_colmap *m,
		    struct gb_record_cols *c);

#endif

/*
 * Loading the reference district from a seed directory (seeds/README.md)
 * into the store: district, streets, grids, communities, police areas and
 * the communities each covers, and staff.  Loading is idempotent: rows are
 * inserted or updated by code, a second load of the same files changes
 * nothing, and rows missing from the files are left as they are.
 */
#ifndef GB_SEED_H
#define GB_SEED_H

#include "err.h"
#include "store.h"

struct seed_stats {
	long rows;    /* rows read */
	long changed; /* rows new or different */
};

/*
 * Loads every file of dir in one transaction.  On a bad file (missing, a
 * missing column, a bad value, a code that refers to nothing) nothing is
 * stored and err names the file, the line and the rule.  stats may be
 * NULL.
 */
int seed_load(struct store *st, const char *dir, struct seed_stats *stats,
	      struct gb_err *err);

#endif

/*
 * Consistent copies of a SQLite file while others write to it: the grid
 * file of a laptop (gridbook backup) and the store of HQ (gridbook-hq
 * backup), through SQLite's online backup API.
 */
#ifndef GB_BACKUP_H
#define GB_BACKUP_H

#include "err.h"

/*
 * Copies the SQLite database at src to dst as one read transaction of
 * src sees it, so the copy is a state src passed through, however many
 * writers are at work.  The copy is written beside dst, checked with
 * PRAGMA integrity_check, synced and renamed into place, so dst is never
 * half a copy.  Refuses (GB_EEXIST) to replace an existing dst.  *pages
 * gets the number of pages copied.  Returns 0, or -1 with err.
 */
int gb_sqlite_backup(const char *src, const char *dst, long *pages,
		     struct gb_err *err);

/* Runs PRAGMA integrity_check on the database at path (read-only).
 * Returns 0 when it says "ok", else -1 with err quoting what it said. */
int gb_sqlite_check(const char *path, struct gb_err *err);

#endif

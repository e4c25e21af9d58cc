/*
 * What the files of the SQLite store share and no other module sees:
 * store_sqlite.c holds the connections, store_sqlite_facts.c writes the
 * report facts on the writer, store_sqlite_reports.c reads them on the
 * connection it hands over (store.h, "report facts, read by reports").
 * It is the one header of the server that includes <sqlite3.h>
 * (tests/check/rooms.txt), so the three files see SQLite through it.
 */
#ifndef GB_STORE_SQLITE_INT_H
#define GB_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "err.h"
#include "store.h"

/*
 * Calls cb for each row of the fact query q on db, a read-only
 * connection inside the read transaction of a snapshot (the facts_read
 * of store.h, on the connection store_sqlite.c holds for it).
 */
int store_sqlite_facts_query(
    struct sqlite3 *db, const struct store_fact_query *q,
    int (*cb)(void *arg, const struct store_fact_row *r, struct gb_err *err),
    void *arg, struct gb_err *err);

#endif

/*
 * The PostgreSQL store of gridbook-hq (store.h; server/store_pg.c, the one
 * file that includes libpq).  Its schema is schema/pg/, keyed by grid so
 * that Citus can distribute it (docs/citus.md).
 */
#ifndef GB_STORE_PG_H
#define GB_STORE_PG_H

#include "err.h"
#include "store.h"

/*
 * Connects to the PostgreSQL database named by url (a libpq connection
 * URI, "postgresql://USER@HOST:PORT/DB"; a password may come from
 * ~/.pgpass or PGPASSWORD) and brings its schema up to date, several
 * programs starting at once included.  In STORE_SERVE mode the functions
 * store.h marks "any thread" use connections of their own.  The caller
 * closes it with s->ops->close(s).
 */
int store_pg_open(struct store **out, const char *url, enum store_mode mode,
		  struct gb_err *err);

/*
 * Copies the database named by url to file, which must not exist, by
 * PostgreSQL's own pg_dump (custom format: pg_restore takes it back),
 * one consistent snapshot also while servers write, and checks the copy
 * by reading its table of contents back (pg_restore --list).  Returns
 * 0, or -1 with err (GB_EEXIST for a file there already).
 */
int store_pg_backup(const char *url, const char *file, struct gb_err *err);

#endif

/*
 * The numbered SQL migrations of schema/client and schema/server (SQLite)
 * and schema/pg (PostgreSQL), built into the binaries (build/gen/schema.c
 * is made from the .sql files).  Migration i (from 0) brings a database
 * from schema version i to i + 1: SQLite's user_version, the
 * schema_version of meta on PostgreSQL (store_pg.c).
 */
#ifndef GB_SCHEMA_H
#define GB_SCHEMA_H

extern const char *const gb_schema_client[];
extern const int gb_schema_client_n;
extern const char *const gb_schema_server[];
extern const int gb_schema_server_n;
extern const char *const gb_schema_pg[];
extern const int gb_schema_pg_n;

#endif

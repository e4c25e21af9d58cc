/*
 * The report facts of the SQLite store (store_sqlite_facts.c): the part
 * of store_sqlite.c's table of store_ops headed "report facts, written by
 * ingest", with the statements it keeps prepared on the writer
 * connection.  Only store_sqlite.c includes this header; it embeds a
 * struct sqf in its store and calls these with it.
 */
#ifndef GB_STORE_SQLITE_FACTS_H
#define GB_STORE_SQLITE_FACTS_H

#include "store.h"
#include "store_sqlite_int.h"

/* The statements the facts keep prepared, at most. */
#define SQF_CACHE 48

/* The facts' state in a SQLite store: its writer connection (borrowed)
 * and the statements prepared on it, each the first time it is needed
 * and kept until sqf_release. */
struct sqf {
	sqlite3 *db;
	struct sq_ids *ids;	    /* the store's, borrowed */
	const char *sql[SQF_CACHE]; /* by address: string constants */
	sqlite3_stmt *stmt[SQF_CACHE];
	int n;
};

/* Sets f up on the writer connection db, binding ids through the
 * store's holders ids (borrowed); nothing is prepared yet. */
void sqf_init(struct sqf *f, sqlite3 *db, struct sq_ids *ids);
/* Finalizes the statements of f (before db is closed). */
void sqf_release(struct sqf *f);

/* The operations of store_ops (store.h) of the same names, with the
 * facts' state of the store they are called on. */
int sqf_fact_put(struct sqf *f, const struct store_fact *fact,
		 struct gb_err *err);
int sqf_fact_del(struct sqf *f, enum store_fact_kind kind, const char *id,
		 const char *grid, struct gb_err *err);
int sqf_fact_get(struct sqf *f, enum store_fact_kind kind, const char *id,
		 const char *grid, struct store_fact *out, char *buf,
		 size_t size, struct gb_err *err);
int sqf_counter_add(struct sqf *f, enum store_counter c, const char *grid,
		    int64_t key, const char *a, const char *b, int64_t delta,
		    struct gb_err *err);
int sqf_counter_get(struct sqf *f, enum store_counter c, const char *grid,
		    int64_t key, const char *a, const char *b, int64_t *value,
		    struct gb_err *err);
int sqf_sync_add(struct sqf *f, const char *device, const char *grid,
		 const char *role, int64_t day, int64_t batches,
		 int64_t records, int64_t at, struct gb_err *err);
int sqf_facts_version(struct sqf *f, char *version, size_t n,
		      struct gb_err *err);
int sqf_facts_clear(struct sqf *f, struct gb_err *err);
int sqf_facts_built(struct sqf *f, const char *version, struct gb_err *err);
int sqf_fact_records(struct sqf *f,
		     int (*cb)(void *arg, const struct gb_record *r,
			       int conflicts, struct gb_err *err),
		     void *arg, struct gb_err *err);
int sqf_fact_batches(struct sqf *f,
		     int (*cb)(void *arg, const char *device, const char *grid,
			       const char *role, int64_t records,
			       int64_t received_at, struct gb_err *err),
		     void *arg, struct gb_err *err);

#endif

/*
 * The inside of the grid file, shared by the modules of the client's store
 * and by no one else: db_sql.c (the statement helpers below, which every
 * other module of the store stands on), db_settings.c (the meta table),
 * db.c (opening, migrations, transactions), the table families
 * db_records.c, db_ref.c, db_seed.c, and outbox.c.  Everything that speaks SQL
 * on the laptop includes this header; the commands, the sync engine and the
 * daemon see only db.h and outbox.h, whose functions take and give plain
 * values.  (Unit tests and benchmarks include it too, to look at the
 * file.)  It is the one room of <sqlite3.h> on the laptop.
 */
#ifndef GB_DB_INT_H
#define GB_DB_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "buf.h"
#include "err.h"
#include "id.h"
#include "kinds.h"
#include "record.h"
#include "record_cols.h"
#include "validate.h"

/*
 * The statements prepared once per handle, of every module of the store.
 * The SQL of each is in the module that owns its table; they are prepared
 * on first use (db_stmt).
 */
enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_META_GET,
	S_META_SET,
	S_REC_INSERT,
	S_REC_PUT,
	S_REC_OLD,
	S_HIST_MOVE,
	S_HIST_ADD,
	S_OUTBOX_ADD,
	S_ENT_COMMUNITY,
	S_ENT_DEPENDENTS,
	S_REC_GET,
	S_REC_PREFIX,
	S_JSON_EACH,
	S_STAFF_GET,
	S_COMMUNITY_GET,
	S_AREA_GET,
	S_REC_ATTR,
	S_HIST_HAS,
	S_HIST_DEL,
	S_HIST_ALL,
	S_CONF_ANY,
	S_CONF_DEL,
	S_CONF_ADD,
	S_CONF_OF,
	S_REC_EXISTS,
	/* outbox.c: what a push runs for every batch. */
	S_OB_READ,
	S_OB_RANGE,
	S_OB_TOP,
	S_OB_NEXT,
	S_OB_BATCH_NEXT,
	S_OB_BATCH_TOP,
	S_OB_BATCH_HI,
	S_OB_BATCH_ADD,
	S_OB_BATCH_DROP,
	S_OB_ACK_FIRST,
	S_OB_ACK_LAST = S_OB_ACK_FIRST + 8,
	S_COUNT
};

/* Kinds whose uniqueness statement the handle keeps, at most. */
#define DB_KEY_STMT_MAX 32

struct gb_db {
	sqlite3 *sq;
	char *path;
	int readonly;
	int syncd; /* opened by the file's gridbook-syncd (DB_SYNCD) */
	sqlite3_stmt *st[S_COUNT];
	/* db_record_find_key's statements, by kind (index in gb_kinds). */
	sqlite3_stmt *key_st[DB_KEY_STMT_MAX];

	/* Meta values every command needs, refreshed by db_meta_set. */
	char grid[GB_CODE_LEN];
	char device[GB_ID_LEN];
	char staff[GB_CODE_LEN];
	/* The file holds a sync token: outbox rows carry their Batch entry
	 * (outbox_append).  Before, the entry would be packed again anyway
	 * when sync is set up, under the device id HQ gives. */
	int packs;

	/*
	 * The transaction state.  in_txn: db_begin is open.  hlc: the last
	 * version handed out, valid while a write transaction is open;
	 * hlc_dirty: it must be stored before COMMIT.
	 */
	int in_txn;
	uint64_t hlc;
	int hlc_dirty;
	struct gb_uuidgen ids;

	/* The body of the version being written, and its Batch entry for
	 * the outbox; reused. */
	struct gb_buf body;
	struct gb_buf wire;
	/* The communities of enterprises looked up, so that an import of
	 * many checks asks once per enterprise (see enterprise_community). */
	struct ent_slot *ent_cache;
	unsigned ent_gen;
	/* Per kind (by index in gb_kinds), where its list fields are. */
	struct kind_cols *cols;

	struct gb_lookup lk;
};

/*
 * A slot of the enterprise cache: valid while gen equals the handle's
 * ent_gen, which moves on whenever an enterprise is written or another
 * process may have written one.
 */
struct ent_slot {
	unsigned gen;
	char id[GB_ID_LEN];
	char community[GB_CODE_LEN];
};

#define ENT_CACHE_SLOTS 2048

/* Where a kind's derived columns come from (record_cols.h), and the
 * index of its "enterprise" field (-1 for none): a kind without a
 * community field of its own files under its enterprise's. */
struct kind_cols {
	struct gb_colmap m;
	int enterprise;
};

/*
 * How a record writer holds its transaction: it joined the caller's
 * db_begin, runs one of its own, or joined a transaction that the caller
 * opened with plain SQL on db_sqlite() (a store module, or a test).
 */
enum txn_mode { TXN_JOINED, TXN_OWN, TXN_FOREIGN };

/* The underlying connection.  Borrowed. */
sqlite3 *db_sqlite(struct gb_db *db);

/*
 * Fills err with the connection's last error after what went wrong.
 * A busy file gets words a person can act on.  Returns -1.
 */
int db_sql_fail(struct gb_db *db, const char *what, struct gb_err *err);
/* The cached statement id, prepared from sql on first use (sql is the
 * same text at every call of one id).  Borrowed; NULL with err set when
 * it does not prepare. */
sqlite3_stmt *db_stmt(struct gb_db *db, enum stmt_id id, const char *sql,
		      struct gb_err *err);
/* Makes a cached statement ready for its next use and drops the pointers
 * bound to it.  NULL is a no-op. */
void db_stmt_done(sqlite3_stmt *s);
/* Binds v, or NULL when v is NULL or empty.  The text must outlive the
 * statement's next reset. */
int db_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Runs a statement that returns no rows, then readies it again.  Returns
 * 0, or -1 with err naming what. */
int db_step_done(struct gb_db *db, sqlite3_stmt *s, const char *what,
		 struct gb_err *err);
/* Column i as text, "" when NULL.  Valid until the next step. */
const char *db_col_text(sqlite3_stmt *s, int i);
/* Copies s (NULL as "") into out of n bytes, cut to fit. */
void db_copy_str(char *out, size_t n, const char *s);
/* Prepares sql into *s (the caller finalizes it), or fails with err
 * naming what (*s NULL). */
int db_prep(struct gb_db *db, const char *sql, sqlite3_stmt **s,
	    const char *what, struct gb_err *err);
/* Runs SQL text of ours (no values in it), failing with err naming what. */
int db_exec(struct gb_db *db, const char *sql, const char *what,
	    struct gb_err *err);
/* Runs one statement of ours with the first n of up to three numbers
 * bound and no rows.  Returns 0 or -1 with err. */
int db_exec_i64(struct gb_db *db, const char *sql, int n, int64_t a, int64_t b,
		int64_t c, const char *what, struct gb_err *err);
/* The first column of the first row of a query of ours with the first n
 * of up to two numbers bound, as a number into *out; def when there is
 * no row or it is NULL.  Returns 0 or -1 with err. */
int db_query_i64(struct gb_db *db, const char *sql, int n, int64_t a, int64_t b,
		 int64_t def, int64_t *out, const char *what,
		 struct gb_err *err);
/* db_query_i64 on statement id, prepared on first use and kept by the
 * handle (db_stmt), for a query run again and again. */
int db_stmt_i64(struct gb_db *db, enum stmt_id id, const char *sql, int n,
		int64_t a, int64_t b, int64_t def, int64_t *out,
		const char *what, struct gb_err *err);

/* Reloads the meta values the handle caches (grid, device, staff, and
 * whether a sync token is set) after they may have changed. */
void db_meta_cache_load(struct gb_db *db);
/* Setting key into out of n bytes (cut to fit), *found 1 when it is set,
 * else out "" and *found 0.  Returns 0 or -1 with err naming what. */
int db_meta_read(struct gb_db *db, const char *key, char *out, size_t n,
		 int *found, const char *what, struct gb_err *err);
/* Stores setting key as it is, without the checks and the cache of
 * db_meta_set (the clock's row).  Returns 0 or -1 with err naming what. */
int db_meta_put(struct gb_db *db, const char *key, const char *value,
		const char *what, struct gb_err *err);

/* Fills the values of r from its stored JSON body with SQLite's
 * json_each(); keys the kind does not know are skipped.  Returns 0 or -1
 * with err naming the record. */
int db_body_parse(struct gb_db *db, struct gb_record *r, const char *body,
		  struct gb_err *err);
/*
 * Reads the versions of text s (decimal numbers separated by spaces, as
 * the bases and heads columns hold them, schema/client/005) into *out,
 * which the caller frees; *n of them.  A NULL or empty s gives none.
 * What is not a number ends the list: only the store writes these
 * columns.
 */
void db_versions_parse(const char *s, uint64_t **out, size_t *n);

/* How many candidates an ambiguous name or prefix lists. */
#define MAX_CANDIDATES 5
/* The shortest id prefix accepted for a record. */
#define MIN_ID_PREFIX 4

/* Where the derived columns of kind k come from. */
static inline const struct kind_cols *db_kind_cols(struct gb_db *db,
						   const struct gb_kind *k)
{
	return &db->cols[k - gb_kinds];
}

/*
 * Makes sure a write runs in a transaction: joins db_begin, joins a
 * transaction begun with plain SQL (then reading the clock now), or begins
 * one of its own.  *mode tells db_txn_leave which.  db_txn_leave ends
 * what db_txn_enter began: commits an own transaction when rc is 0 and
 * rolls it back otherwise; returns rc, or -1 when committing fails.
 */
int db_txn_enter(struct gb_db *db, enum txn_mode *mode, struct gb_err *err);
int db_txn_leave(struct gb_db *db, enum txn_mode mode, int rc,
		 struct gb_err *err);
/* The next version of the file's clock at wall time now_ms, inside a
 * write transaction, into *v. */
int db_hlc_next(struct gb_db *db, int64_t now_ms, uint64_t *v,
		struct gb_err *err);

/* 1 when s could be the start of an id: hex digits and dashes. */
int db_looks_like_id(const char *s);
/*
 * Finds the full id of a record from an id or a unique id prefix (at least
 * MIN_ID_PREFIX characters).  With kind set only records of that kind
 * count, and a record of another kind is named in the error (and
 * *wrong_kind set when wrong_kind is not NULL).  Returns 0 with full
 * (GB_ID_LEN bytes) filled, or -1 with GB_ENOTFOUND or GB_EAMBIGUOUS.
 */
int db_record_find(struct gb_db *db, const struct gb_kind *kind,
		   const char *input, char *full, int *wrong_kind,
		   struct gb_err *err);

#endif

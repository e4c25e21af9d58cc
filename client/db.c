/*
 * The grid file (db.h): opening it, its migrations, transactions, the
 * meta table and the helpers every module of the client's store shares
 * (db_int.h).  The table families live beside it: the records in
 * db_records.c, the reference data in db_ref.c, the seeds in db_seed.c,
 * the outbox in outbox.c.  This file calls none of them.
 *
 * Every record write and its change-log (outbox) row go in one
 * transaction, together with the hybrid logical clock kept in meta "hlc":
 * a write transaction reads the clock when it begins, hands out versions
 * in memory and stores the last one just before COMMIT, so versions never
 * go backwards, neither across the processes sharing the file (the CLI and
 * gridbook-syncd) nor when the wall clock jumps back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "db_int.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "schema.h"
#include "xalloc.h"

#include "banned.h"

/* How long a statement waits for the other process holding the file. */
#define BUSY_TIMEOUT_MS 10000
/* The first SQLite release free of the WAL-reset race (SPEC §5). */
#define WAL_SAFE_VERSION 3051003

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_JSON_EACH] = "SELECT key, value FROM json_each(?1)",
    [S_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
};

/*
 * Fills err with the connection's last error after what went wrong.
 * A busy file gets words a person can act on.  Returns -1.
 */
int db_sql_fail(struct gb_db *db, const char *what, struct gb_err *err)
{
	int rc = sqlite3_errcode(db->sq);

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return gb_error(err, GB_EDB,
				_("%s: grid file %s is busy (another gridbook "
				  "process is writing it)"),
				what, db->path);
	if (rc == SQLITE_READONLY)
		return gb_error(err, GB_EDB, _("%s: grid file %s is read-only"),
				what, db->path);
	return gb_error(err, GB_EDB, "%s: %s", what, sqlite3_errmsg(db->sq));
}

sqlite3_stmt *db_stmt(struct gb_db *db, enum stmt_id id, const char *sql,
		      struct gb_err *err)
{
	if (!db->st[id] &&
	    sqlite3_prepare_v3(db->sq, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &db->st[id], NULL) != SQLITE_OK) {
		db_sql_fail(db, _("cannot prepare a statement"), err);
		db->st[id] = NULL;
	}
	return db->st[id];
}

/* The cached statement id of this file's stmt_sql[]. */
static sqlite3_stmt *stmt(struct gb_db *db, enum stmt_id id, struct gb_err *err)
{
	return db_stmt(db, id, stmt_sql[id], err);
}

int db_prep(struct gb_db *db, const char *sql, sqlite3_stmt **s,
	    const char *what, struct gb_err *err)
{
	if (sqlite3_prepare_v2(db->sq, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return db_sql_fail(db, what, err);
	}
	return 0;
}

int db_exec_i64(struct gb_db *db, const char *sql, int n, int64_t a, int64_t b,
		int64_t c, const char *what, struct gb_err *err)
{
	const int64_t v[3] = {a, b, c};
	sqlite3_stmt *s = NULL;
	int rc;

	if (db_prep(db, sql, &s, what, err))
		return -1;
	for (int i = 0; i < n && i < 3; i++)
		sqlite3_bind_int64(s, i + 1, v[i]);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_sql_fail(db, what, err);
	return 0;
}

int db_query_i64(struct gb_db *db, const char *sql, int n, int64_t a, int64_t b,
		 int64_t def, int64_t *out, const char *what,
		 struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = def;
	if (db_prep(db, sql, &s, what, err))
		return -1;
	if (n > 0)
		sqlite3_bind_int64(s, 1, a);
	if (n > 1)
		sqlite3_bind_int64(s, 2, b);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_sql_fail(db, what, err);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Makes a cached statement ready for its next use and drops the pointers
 * bound to it. */
void db_stmt_done(sqlite3_stmt *s)
{
	if (!s)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Binds s, or NULL when s is NULL or empty.  The text must outlive the
 * statement's next reset. */
int db_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (!v || !*v)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows, then readies it again.  Returns
 * 0, or -1 with err naming what. */
int db_step_done(struct gb_db *db, sqlite3_stmt *s, const char *what,
		 struct gb_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_sql_fail(db, what, err);
		db_stmt_done(s);
		return -1;
	}
	db_stmt_done(s);
	return 0;
}

/* Column i as text, "" when NULL. */
const char *db_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

/* Copies s into a fixed buffer of n bytes, cutting it if it is longer. */
void db_copy_str(char *out, size_t n, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= n)
		len = n - 1;
	if (len)
		memcpy(out, s, len);
	out[len] = '\0';
}

int db_body_parse(struct gb_db *db, struct gb_record *r, const char *body,
		  struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_JSON_EACH, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		int i = gb_kind_field(r->kind, db_col_text(s, 0));

		if (i < 0 || sqlite3_column_type(s, 1) == SQLITE_NULL)
			continue;
		/* INT values come back as integers; their text is the
		 * canonical decimal form. */
		gb_record_set(r, i, db_col_text(s, 1));
	}
	if (rc != SQLITE_DONE) {
		gb_error(err, GB_EDB, _("record %s: bad stored body: %s"),
			 r->id, sqlite3_errmsg(db->sq));
		db_stmt_done(s);
		return -1;
	}
	db_stmt_done(s);
	return 0;
}

void db_versions_parse(const char *s, uint64_t **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (s && *s) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || end == s)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = (uint64_t)v;
		s = end;
		while (*s == ' ')
			s++;
	}
}

/* ---- meta ---------------------------------------------------------------- */

char *db_meta_get(struct gb_db *db, const char *key)
{
	sqlite3_stmt *s = stmt(db, S_META_GET, NULL);
	char *v = NULL;

	if (!s)
		return NULL;
	db_bind_text(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = xstrdup(db_col_text(s, 0));
	db_stmt_done(s);
	return v;
}

/* Reloads the cached meta values after they may have changed. */
static void meta_cache_load(struct gb_db *db)
{
	static const char *const keys[] = {"grid", "device", "staff"};
	char *dst[] = {db->grid, db->device, db->staff};
	size_t len[] = {sizeof(db->grid), sizeof(db->device),
			sizeof(db->staff)};

	char *token;

	for (int i = 0; i < 3; i++) {
		char *v = db_meta_get(db, keys[i]);

		db_copy_str(dst[i], len[i], v);
		free(v);
	}
	token = db_meta_get(db, "sync_token");
	db->packs = token && *token;
	free(token);
}

int db_meta_set(struct gb_db *db, const char *key, const char *value,
		struct gb_err *err)
{
	sqlite3_stmt *s;
	size_t cap = 0;

	if (strcmp(key, "grid") == 0 || strcmp(key, "staff") == 0)
		cap = GB_CODE_LEN;
	else if (strcmp(key, "device") == 0)
		cap = GB_ID_LEN;
	if (cap && strlen(value) >= cap)
		return gb_error(err, GB_EINVAL,
				_("%s \"%s\" is too long (at most %zu bytes)"),
				key, value, cap - 1);
	s = stmt(db, S_META_SET, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (db_step_done(db, s, _("cannot save a setting"), err))
		return -1;
	if (cap || strcmp(key, "sync_token") == 0)
		meta_cache_load(db);
	return 0;
}

int db_meta_del(struct gb_db *db, const char *key, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (db_prep(db, "DELETE FROM meta WHERE key = ?1", &s,
		    _("cannot save a setting"), err))
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = db_step_done(db, s, _("cannot save a setting"), err);
	sqlite3_finalize(s);
	if (rc == 0 && strcmp(key, "sync_token") == 0)
		meta_cache_load(db);
	return rc;
}

const char *db_file_name(struct gb_db *db)
{
	const char *f = sqlite3_db_filename(db->sq, "main");

	return f ? f : "";
}

const char *db_grid(struct gb_db *db)
{
	return db->grid;
}

const char *db_device(struct gb_db *db)
{
	return db->device;
}

const char *db_staff(struct gb_db *db)
{
	return db->staff;
}

sqlite3 *db_sqlite(struct gb_db *db)
{
	return db->sq;
}

/* ---- transactions and the clock ---------------------------------------- */

/* Reads the last version handed out from meta into db->hlc. */
static int hlc_load(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_META_GET, err);
	int rc;

	if (!s)
		return -1;
	db->hlc = 0;
	db->hlc_dirty = 0;
	sqlite3_bind_text(s, 1, "hlc", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		db->hlc = strtoull(db_col_text(s, 0), NULL, 10);
	} else if (rc != SQLITE_DONE) {
		db_sql_fail(db, _("cannot read the clock"), err);
		db_stmt_done(s);
		return -1;
	}
	db_stmt_done(s);
	return 0;
}

/* Stores db->hlc in meta when it moved. */
static int hlc_store(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s;
	char v[24];

	if (!db->hlc_dirty)
		return 0;
	s = stmt(db, S_META_SET, err);
	if (!s)
		return -1;
	snprintf(v, sizeof(v), "%" PRIu64, db->hlc);
	sqlite3_bind_text(s, 1, "hlc", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, v, -1, SQLITE_STATIC);
	if (db_step_done(db, s, _("cannot save the clock"), err))
		return -1;
	db->hlc_dirty = 0;
	return 0;
}

/*
 * The next version for a write made at now_ms, into *v.  Returns 0, or -1
 * with err when there is none within the bounds of this laptop's clock
 * (gb_hlc_bounds): the clock never wraps, and a version HQ can only
 * refuse is not written.  The grid file's clock runs ahead of the
 * laptop's when the laptop's clock was set back from a time far ahead;
 * `gridbook sync` re-stamps the records written then (sync.c) and sets
 * it back, once HQ's clock says the laptop's is right.
 */
int db_hlc_next(struct gb_db *db, int64_t now_ms, uint64_t *v,
		struct gb_err *err)
{
	uint64_t next = gb_hlc_next(db->hlc, now_ms);
	char at[32], wall[32];

	if (next == 0)
		return gb_error(err, GB_EINVAL,
				_("cannot write: the clock of this grid file "
				  "is at %" PRIu64 ", its last version (a "
				  "version stays below 2^63); see `gridbook "
				  "check`"),
				db->hlc);
	gb_time_format_utc(now_ms, wall);
	if (now_ms < GB_HLC_MIN_MS)
		return gb_error(err, GB_EINVAL,
				_("cannot write: this laptop's clock reads "
				  "%s, before 2000-01-01; set the clock "
				  "right"),
				wall);
	if (gb_hlc_bounds(next, now_ms) != GB_HLC_IN_BOUNDS) {
		gb_time_format_utc(gb_hlc_ms(next), at);
		return gb_error(err, GB_EINVAL,
				_("cannot write: the clock of this grid file "
				  "is at %s, more than 24 h ahead of this "
				  "laptop's clock (%s); if the laptop's clock "
				  "is right, `gridbook sync` re-stamps the "
				  "records written ahead and sets it back"),
				at, wall);
	}
	db->hlc = next;
	db->hlc_dirty = 1;
	*v = next;
	return 0;
}

int db_begin(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s;

	if (db->in_txn || !sqlite3_get_autocommit(db->sq))
		return gb_error(err, GB_EINTERNAL,
				"a transaction is already open");
	s = stmt(db, S_BEGIN, err);
	if (!s || db_step_done(db, s, _("cannot start writing"), err))
		return -1;
	/* Another process may have written since we last looked. */
	db->ent_gen++;
	if (hlc_load(db, err)) {
		s = stmt(db, S_ROLLBACK, NULL);
		if (s)
			db_step_done(db, s, "rollback", NULL);
		return -1;
	}
	db->in_txn = 1;
	return 0;
}

int db_begin_read(struct gb_db *db, const char *what, struct gb_err *err)
{
	return db_exec(db, "BEGIN", what, err);
}

void db_end_read(struct gb_db *db)
{
	sqlite3_exec(db->sq, "COMMIT", NULL, NULL, NULL);
}

int db_commit(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s;

	if (!db->in_txn)
		return gb_error(err, GB_EINTERNAL, "no transaction is open");
	if (hlc_store(db, err))
		goto fail;
	s = stmt(db, S_COMMIT, err);
	if (!s || db_step_done(db, s, _("cannot save the changes"), err))
		goto fail;
	db->in_txn = 0;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

void db_rollback(struct gb_db *db)
{
	sqlite3_stmt *s;

	if (!sqlite3_get_autocommit(db->sq)) {
		s = stmt(db, S_ROLLBACK, NULL);
		if (s)
			db_step_done(db, s, "rollback", NULL);
	}
	db->in_txn = 0;
	db->hlc_dirty = 0;
	db->ent_gen++;
	meta_cache_load(db);
}

/*
 * Makes sure a write runs in a transaction: joins db_begin, joins a
 * transaction begun with plain SQL (then reading the clock now), or begins
 * one of its own.  *mode tells txn_leave which.
 */
int db_txn_enter(struct gb_db *db, enum txn_mode *mode, struct gb_err *err)
{
	if (db->in_txn) {
		*mode = TXN_JOINED;
		return 0;
	}
	if (!sqlite3_get_autocommit(db->sq)) {
		*mode = TXN_FOREIGN;
		return hlc_load(db, err);
	}
	*mode = TXN_OWN;
	return db_begin(db, err);
}

/* Ends what txn_enter began: commits an own transaction when rc is 0 and
 * rolls it back otherwise.  Returns rc, or -1 when committing fails. */
int db_txn_leave(struct gb_db *db, enum txn_mode mode, int rc,
		 struct gb_err *err)
{
	switch (mode) {
	case TXN_JOINED:
		return rc;
	case TXN_FOREIGN:
		if (rc == 0 && hlc_store(db, err))
			return -1;
		return rc;
	case TXN_OWN:
		if (rc == 0)
			return db_commit(db, err);
		db_rollback(db);
		return rc;
	}
	return rc;
}

/* ---- opening ------------------------------------------------------------ */

/* Reads PRAGMA user_version into *v. */
static int user_version(struct gb_db *db, int *v, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db->sq, "PRAGMA user_version", -1, &s, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		if (sqlite3_errcode(db->sq) == SQLITE_NOTADB)
			gb_error(err, GB_EDB, _("%s is not a grid file"),
				 db->path);
		else
			db_sql_fail(db, db->path, err);
		goto out;
	}
	*v = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Runs SQL text of ours (no values in it), failing with err naming what. */
int db_exec(struct gb_db *db, const char *sql, const char *what,
	    struct gb_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->sq, sql, NULL, NULL, &msg) != SQLITE_OK) {
		gb_error(err, GB_EDB, "%s: %s", what,
			 msg ? msg : sqlite3_errmsg(db->sq));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* 1 when the file already holds tables, 0 when it is empty. */
static int has_tables(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->sq, "SELECT 1 FROM sqlite_schema LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return db_sql_fail(db, db->path, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = db_sql_fail(db, db->path, err);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Brings the schema from version i to i + 1 in one transaction that also
 * sets user_version, so a crash leaves either version.  A second process
 * opening the same new file waits on BEGIN IMMEDIATE and then finds the
 * work done.  The first migration also gives the file its device id.
 */
static int migrate_one(struct gb_db *db, int i, struct gb_err *err)
{
	char sql[64], id[GB_ID_LEN];
	int v;

	if (db_exec(db, "BEGIN IMMEDIATE", db->path, err))
		return -1;
	if (user_version(db, &v, err))
		goto fail;
	if (v != i)
		return db_exec(db, "COMMIT", db->path, err);
	if (i == 0) {
		int t = has_tables(db, err);

		if (t < 0)
			goto fail;
		if (t) {
			gb_error(err, GB_EDB,
				 _("%s is not a grid file (it holds other "
				   "tables)"),
				 db->path);
			goto fail;
		}
	}
	if (db_exec(db, gb_schema_client[i], _("cannot set up the grid file"),
		    err))
		goto fail;
	if (i == 0) {
		gb_uuid7(&db->ids, gb_now_ms(), id);
		if (db_meta_set(db, "device", id, err))
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
	if (db_exec(db, sql, db->path, err) ||
	    db_exec(db, "COMMIT", db->path, err))
		goto fail;
	return 0;
fail:
	/* The statement cache may hold statements on tables rolled away. */
	for (int k = 0; k < S_COUNT; k++) {
		sqlite3_finalize(db->st[k]);
		db->st[k] = NULL;
	}
	sqlite3_exec(db->sq, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Brings the schema up to date, or refuses a file of a newer program. */
static int migrate(struct gb_db *db, struct gb_err *err)
{
	int v;

	if (user_version(db, &v, err))
		return -1;
	if (v > gb_schema_client_n)
		return gb_error(err, GB_EDB,
				_("grid file %s has schema version %d, newer "
				  "than this gridbook knows (%d); upgrade "
				  "gridbook"),
				db->path, v, gb_schema_client_n);
	if (db->readonly) {
		if (v == 0)
			return gb_error(err, GB_EDB, _("%s is not a grid file"),
					db->path);
		if (v < gb_schema_client_n)
			return gb_error(err, GB_EDB,
					_("grid file %s needs upgrading; open "
					  "it once for writing"),
					db->path);
		return 0;
	}
	for (; v < gb_schema_client_n; v++)
		if (migrate_one(db, v, err))
			return -1;
	return 0;
}

/*
 * Sets the connection up: wait for the other process, and the durability
 * of SPEC §5.  Every write the user is told about survives a power cut
 * (synchronous=FULL).  The CLI and the daemon write one file from two
 * connections; with WAL that meets the WAL-reset race of SQLite before
 * 3.51.3 (sqlite.org/wal.html#walresetbug), which can corrupt the file,
 * so older SQLite (Debian 12 has 3.40.1) uses a rollback journal.
 */
static int configure(struct gb_db *db, struct gb_err *err)
{
	if (db_exec(db, "PRAGMA foreign_keys = OFF; PRAGMA synchronous = FULL",
		    db->path, err))
		return -1;
	if (db->readonly)
		return 0;
	if (sqlite3_libversion_number() >= WAL_SAFE_VERSION)
		return db_exec(db, "PRAGMA journal_mode = WAL", db->path, err);
	return db_exec(db, "PRAGMA journal_mode = TRUNCATE", db->path, err);
}

int db_open(struct gb_db **out, const char *path, unsigned flags,
	    struct gb_err *err)
{
	struct gb_db *db = xcalloc(1, sizeof(*db));
	int created = 0, v;
	struct stat sb;

	*out = NULL;
	db->path = xstrdup(path);
	db->readonly = !!(flags & DB_READONLY);
	gb_uuidgen_init(&db->ids);
	gb_buf_init(&db->body, GB_BUF_NOLIMIT);
	gb_buf_init(&db->wire, GB_BUF_NOLIMIT);
	db->ent_cache = xcalloc(ENT_CACHE_SLOTS, sizeof(*db->ent_cache));
	db->ent_gen = 1;
	db->cols = xcalloc((size_t)gb_nkinds, sizeof(*db->cols));
	for (int i = 0; i < gb_nkinds; i++) {
		const struct gb_kind *k = &gb_kinds[i];
		struct kind_cols *c = &db->cols[i];

		gb_colmap_init(&c->m, k);
		c->enterprise = gb_kind_field(k, "enterprise");
	}
	db->lk.arg = db;
	if (flags & DB_CREATE) {
		/* O_EXCL: never take over a file that is already there, and
		 * give it 0600 from the first moment it exists. */
		int fd =
		    open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0) {
			if (errno == EEXIST)
				gb_error(err, GB_EEXIST,
					 _("%s already exists; refusing to "
					   "overwrite it"),
					 path);
			else
				gb_error(err, GB_EIO, _("cannot create %s: %s"),
					 path, strerror(errno));
			goto fail;
		}
		close(fd);
		created = 1;
	} else if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			gb_error(err, GB_ENOTFOUND,
				 _("grid file %s does not exist (create it "
				   "with gridbook init)"),
				 path);
		else
			gb_error(err, GB_EIO, _("cannot open %s: %s"), path,
				 strerror(errno));
		goto fail;
	} else if (!S_ISREG(sb.st_mode)) {
		gb_error(err, GB_EIO, _("%s is not a regular file"), path);
		goto fail;
	}
	/* No SQLITE_OPEN_CREATE: SQLite must never make the file itself.
	 * A handle is used by one thread, so the connection needs no
	 * mutex of its own; and SQLite's memory statistics, which nothing
	 * here reads, take a process-wide mutex on every allocation: off,
	 * before the first connection (later the call fails harmlessly). */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(
		path, &db->sq,
		(db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		if (db->sq)
			gb_error(err, GB_EDB, _("cannot open %s: %s"), path,
				 sqlite3_errmsg(db->sq));
		else
			gb_error(err, GB_EDB, _("cannot open %s"), path);
		goto fail;
	}
	/* The daemon may be committing right now: wait for it rather than
	 * fail, from the very first read. */
	sqlite3_busy_timeout(db->sq, BUSY_TIMEOUT_MS);
	/* Reading the header first tells a foreign file from a grid file
	 * before any pragma writes to it. */
	if (user_version(db, &v, err) || configure(db, err) || migrate(db, err))
		goto fail;
	meta_cache_load(db);
	*out = db;
	return 0;
fail:
	db_close(db);
	if (created)
		unlink(path);
	return -1;
}

void db_close(struct gb_db *db)
{
	if (!db)
		return;
	if (db->in_txn)
		db_rollback(db);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->sq);
	gb_buf_release(&db->body);
	gb_buf_release(&db->wire);
	free(db->ent_cache);
	free(db->cols);
	free(db->path);
	free(db);
}

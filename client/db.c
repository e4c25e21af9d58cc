/*
 * The grid file (db.h): one SQLite database per grid on the field laptop.
 *
 * Every record write and its change-log (outbox) row go in one
 * transaction, together with the hybrid logical clock kept in meta "hlc":
 * a write transaction reads the clock when it begins, hands out versions
 * in memory and stores the last one just before COMMIT, so versions never
 * go backwards, neither across the processes sharing the file (the CLI and
 * gridbook-syncd) nor when the wall clock jumps back.
 *
 * `gridbook import` writes a hundred thousand records in one transaction,
 * so the write path does no per-row work beyond what the row needs: the
 * statements are prepared once per handle and kept in struct gb_db, the
 * JSON body is built in one reused buffer, and the clock is read and
 * written once per transaction.  Bodies are read back with SQLite's own
 * json_each() rather than a parser of ours.
 *
 * The columns day, community, person, status and title of table record are
 * copied out of the body when a version is stored (kinds.h names the
 * fields), so that lists filter and sort on indexed columns.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "merge.h"
#include "schema.h"
#include "seeds.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

/* How long a statement waits for the other process holding the file. */
#define BUSY_TIMEOUT_MS 10000
/* The first SQLite release free of the WAL-reset race (SPEC §5). */
#define WAL_SAFE_VERSION 3051003
/* How many candidates an ambiguous name or prefix lists. */
#define MAX_CANDIDATES 5
/* The shortest id prefix accepted for a record. */
#define MIN_ID_PREFIX 4

/*
 * The statements prepared once per handle.  The SQL of each is in
 * stmt_sql[] below; they are prepared on first use.
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
	S_COUNT
};

#define REC_COLS                                                               \
	"id, kind, grid, device, staff, created_at, updated_at, version, "     \
	"voided, void_reason, body, bases, resolves"

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [S_REC_INSERT] = "INSERT INTO record (id, kind, grid, device, staff, "
		     "created_at, updated_at, version, voided, void_reason, "
		     "day, community, person, status, title, body, bases, "
		     "resolves, heads) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		     "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
		     "?19)",
    [S_REC_PUT] = "INSERT OR REPLACE INTO record (id, kind, grid, device, "
		  "staff, created_at, updated_at, version, voided, "
		  "void_reason, day, community, person, status, title, "
		  "body, bases, resolves, heads) VALUES (?1, ?2, ?3, ?4, "
		  "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		  "?17, ?18, ?19)",
    [S_REC_OLD] = "SELECT kind, grid, created_at, version, device, "
		  "community, heads FROM record WHERE id = ?1",
    /* Only a row that is one version (heads NULL) goes to history: a
     * merged row's versions are all there already. */
    [S_HIST_MOVE] = "INSERT OR IGNORE INTO record_history (id, version, "
		    "kind, device, staff, updated_at, voided, void_reason, "
		    "body, bases, resolves) SELECT id, version, kind, "
		    "device, staff, updated_at, voided, void_reason, body, "
		    "bases, resolves FROM record WHERE id = ?1 AND heads IS "
		    "NULL",
    [S_HIST_ADD] = "INSERT OR IGNORE INTO record_history (id, version, "
		   "kind, device, staff, updated_at, voided, void_reason, "
		   "body, bases, resolves) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		   "?7, ?8, ?9, ?10, ?11)",
    [S_OUTBOX_ADD] = "INSERT INTO outbox (id, version, wire) VALUES (?1, ?2, "
		     "?3)",
    [S_ENT_COMMUNITY] = "SELECT community FROM record WHERE id = ?1 AND "
			"kind = 'enterprise'",
    [S_ENT_DEPENDENTS] = "UPDATE record SET community = ?1 WHERE kind <> "
			 "'enterprise' AND community IS NOT ?1 AND "
			 "json_extract(body, '$.enterprise') = ?2",
    [S_REC_GET] = "SELECT " REC_COLS " FROM record WHERE id = ?1",
    [S_REC_PREFIX] = "SELECT id, kind FROM record WHERE id >= ?1 AND "
		     "id < ?2 AND (?3 IS NULL OR kind = ?3) ORDER BY id "
		     "LIMIT 6",
    [S_JSON_EACH] = "SELECT key, value FROM json_each(?1)",
    [S_STAFF_GET] = "SELECT name, role, area FROM staff WHERE code = ?1",
    [S_COMMUNITY_GET] = "SELECT name FROM community WHERE code = ?1",
    [S_AREA_GET] = "SELECT name, room FROM police_area WHERE code = ?1",
    [S_REC_ATTR] = "SELECT CASE WHEN ?3 IS NULL THEN NULL ELSE "
		   "json_extract(body, ?3) END, voided, status, community, "
		   "title, day FROM record WHERE id = ?1 AND kind = ?2",
    [S_HIST_HAS] = "SELECT 1 FROM record_history WHERE id = ?1 AND "
		   "version = ?2 AND device = ?3",
    [S_HIST_DEL] = "DELETE FROM record_history WHERE id = ?1 AND "
		   "version = ?2 AND device = ?3",
    /* The newest GB_MERGE_MAX_VERSIONS, as HQ merges them. */
    [S_HIST_ALL] = "SELECT version, device, staff, updated_at, voided, "
		   "void_reason, body, bases, resolves FROM record_history "
		   "WHERE id = ?1 ORDER BY version DESC, device DESC LIMIT ?2",
    [S_CONF_ANY] = "SELECT EXISTS (SELECT 1 FROM field_conflict WHERE "
		   "id = ?1)",
    [S_CONF_DEL] = "DELETE FROM field_conflict WHERE id = ?1",
    [S_CONF_ADD] = "INSERT OR REPLACE INTO field_conflict (id, field, "
		   "kept_version, kept_device, kept_staff, kept_at, "
		   "kept_value, lost_version, lost_device, lost_staff, "
		   "lost_at, lost_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		   "?7, ?8, ?9, ?10, ?11, ?12)",
    [S_CONF_OF] = "SELECT kept_version, lost_version FROM field_conflict "
		  "WHERE id = ?1 AND field = ?2",
};

struct gb_db {
	sqlite3 *sq;
	char *path;
	int readonly;
	sqlite3_stmt *st[S_COUNT];

	/* Meta values every command needs, refreshed by db_meta_set. */
	char grid[GB_CODE_LEN];
	char device[GB_ID_LEN];
	char staff[GB_CODE_LEN];
	/* The file holds a sync token: outbox rows carry their Batch entry
	 * (outbox_add).  Before, the entry would be packed again anyway
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

/* The indexes of a kind's date, community, staff, status and title fields
 * (-1 for none), and whether it has an "enterprise" field. */
struct kind_cols {
	int date, community, staff, status, title, enterprise;
};

/*
 * How a record writer holds its transaction: it joined the caller's
 * db_begin, runs one of its own, or joined a transaction that the caller
 * opened with plain SQL on db_sqlite().
 */
enum txn_mode { TXN_JOINED, TXN_OWN, TXN_FOREIGN };

/* The columns copied out of a version for filtering and listing. */
struct derived {
	char day[11];
	const char *community;
	const char *person;
	const char *status;
	const char *title;
};

/*
 * Fills err with the connection's last error after what went wrong.
 * A busy file gets words a person can act on.  Returns -1.
 */
static int sql_fail(struct gb_db *db, const char *what, struct gb_err *err)
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

/* The cached statement id, prepared on first use.  NULL with err set when
 * it does not prepare. */
static sqlite3_stmt *stmt(struct gb_db *db, enum stmt_id id, struct gb_err *err)
{
	if (!db->st[id] && sqlite3_prepare_v3(db->sq, stmt_sql[id], -1,
					      SQLITE_PREPARE_PERSISTENT,
					      &db->st[id], NULL) != SQLITE_OK) {
		sql_fail(db, _("cannot prepare a statement"), err);
		db->st[id] = NULL;
	}
	return db->st[id];
}

/* Makes a cached statement ready for its next use and drops the pointers
 * bound to it. */
static void stmt_done(sqlite3_stmt *s)
{
	if (!s)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Binds s, or NULL when s is NULL or empty.  The text must outlive the
 * statement's next reset. */
static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (!v || !*v)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows, then readies it again.  Returns
 * 0, or -1 with err naming what. */
static int step_done(struct gb_db *db, sqlite3_stmt *s, const char *what,
		     struct gb_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sql_fail(db, what, err);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* Column i as text, "" when NULL. */
static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

/* Copies s into a fixed buffer of n bytes, cutting it if it is longer. */
static void copy_str(char *out, size_t n, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= n)
		len = n - 1;
	if (len)
		memcpy(out, s, len);
	out[len] = '\0';
}

/* ---- meta ---------------------------------------------------------------- */

char *db_meta_get(struct gb_db *db, const char *key)
{
	sqlite3_stmt *s = stmt(db, S_META_GET, NULL);
	char *v = NULL;

	if (!s)
		return NULL;
	bind_text(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = xstrdup(col_text(s, 0));
	stmt_done(s);
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

		copy_str(dst[i], len[i], v);
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
	if (step_done(db, s, _("cannot save a setting"), err))
		return -1;
	if (cap || strcmp(key, "sync_token") == 0)
		meta_cache_load(db);
	return 0;
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

struct sqlite3 *db_sqlite(struct gb_db *db)
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
		db->hlc = strtoull(col_text(s, 0), NULL, 10);
	} else if (rc != SQLITE_DONE) {
		sql_fail(db, _("cannot read the clock"), err);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
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
	if (step_done(db, s, _("cannot save the clock"), err))
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
static int hlc_next(struct gb_db *db, int64_t now_ms, uint64_t *v,
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
	if (!s || step_done(db, s, _("cannot start writing"), err))
		return -1;
	/* Another process may have written since we last looked. */
	db->ent_gen++;
	if (hlc_load(db, err)) {
		s = stmt(db, S_ROLLBACK, NULL);
		if (s)
			step_done(db, s, "rollback", NULL);
		return -1;
	}
	db->in_txn = 1;
	return 0;
}

int db_commit(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s;

	if (!db->in_txn)
		return gb_error(err, GB_EINTERNAL, "no transaction is open");
	if (hlc_store(db, err))
		goto fail;
	s = stmt(db, S_COMMIT, err);
	if (!s || step_done(db, s, _("cannot save the changes"), err))
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
			step_done(db, s, "rollback", NULL);
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
static int txn_enter(struct gb_db *db, enum txn_mode *mode, struct gb_err *err)
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
static int txn_leave(struct gb_db *db, enum txn_mode mode, int rc,
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
			sql_fail(db, db->path, err);
		goto out;
	}
	*v = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Runs SQL text of ours (no values in it), failing with err naming what. */
static int exec(struct gb_db *db, const char *sql, const char *what,
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
		return sql_fail(db, db->path, err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = sql_fail(db, db->path, err);
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

	if (exec(db, "BEGIN IMMEDIATE", db->path, err))
		return -1;
	if (user_version(db, &v, err))
		goto fail;
	if (v != i)
		return exec(db, "COMMIT", db->path, err);
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
	if (exec(db, gb_schema_client[i], _("cannot set up the grid file"),
		 err))
		goto fail;
	if (i == 0) {
		gb_uuid7(&db->ids, gb_now_ms(), id);
		if (db_meta_set(db, "device", id, err))
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
	if (exec(db, sql, db->path, err) || exec(db, "COMMIT", db->path, err))
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
	if (exec(db, "PRAGMA foreign_keys = OFF; PRAGMA synchronous = FULL",
		 db->path, err))
		return -1;
	if (db->readonly)
		return 0;
	if (sqlite3_libversion_number() >= WAL_SAFE_VERSION)
		return exec(db, "PRAGMA journal_mode = WAL", db->path, err);
	return exec(db, "PRAGMA journal_mode = TRUNCATE", db->path, err);
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

		c->date = gb_kind_field(k, k->date_field);
		c->community = gb_kind_field(k, k->community_field);
		c->staff = gb_kind_field(k, k->staff_field);
		c->status = gb_kind_field(k, k->status_field);
		c->title = gb_kind_field(k, k->title_field);
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

/* ---- writing records ---------------------------------------------------- */

/*
 * The community of the enterprise with id ent, copied into out (n bytes);
 * out is "" when there is none.  Answers are kept in a small direct-mapped
 * cache: an import of checks names the same enterprises again and again,
 * and a search of the record table costs about as much as the insert.
 */
static int enterprise_community(struct gb_db *db, const char *ent, char *out,
				size_t n, struct gb_err *err)
{
	sqlite3_stmt *s;
	int rc;

	struct ent_slot *slot;
	unsigned h = 2166136261u;

	/* FNV-1a over the id picks the slot. */
	for (const char *p = ent; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	slot = &db->ent_cache[h % ENT_CACHE_SLOTS];
	if (slot->gen == db->ent_gen && strcmp(slot->id, ent) == 0) {
		copy_str(out, n, slot->community);
		return 0;
	}
	s = stmt(db, S_ENT_COMMUNITY, err);
	if (!s)
		return -1;
	bind_text(s, 1, ent);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sql_fail(db, _("cannot look up an enterprise"), err);
		stmt_done(s);
		return -1;
	}
	copy_str(out, n, rc == SQLITE_ROW ? col_text(s, 0) : "");
	stmt_done(s);
	if (rc == SQLITE_ROW) {
		slot->gen = db->ent_gen;
		copy_str(slot->id, sizeof(slot->id), ent);
		copy_str(slot->community, sizeof(slot->community), out);
	}
	return 0;
}

/* Where the derived columns of kind k come from. */
static const struct kind_cols *kind_cols(struct gb_db *db,
					 const struct gb_kind *k)
{
	return &db->cols[k - gb_kinds];
}

/*
 * Fills d with the derived columns of r.  ent_comm (GB_CODE_LEN bytes)
 * holds the community found through an enterprise; d points into it and
 * into r.
 */
static int derive(struct gb_db *db, const struct gb_record *r,
		  struct derived *d, char *ent_comm, struct gb_err *err)
{
	const struct gb_kind *k = r->kind;
	const struct kind_cols *c = kind_cols(db, k);

	memset(d, 0, sizeof(*d));
	if (c->date >= 0) {
		const char *v = r->val[c->date];

		if (v && k->fields[c->date].type == GB_T_TIME) {
			char *end;
			long long ms;

			errno = 0;
			ms = strtoll(v, &end, 10);
			if (!errno && end != v && !*end)
				gb_date_format(gb_local_day(ms), d->day);
		} else if (v) {
			copy_str(d->day, sizeof(d->day), v);
		}
	}
	if (c->community >= 0) {
		d->community = r->val[c->community];
	} else if (c->enterprise >= 0 && r->val[c->enterprise]) {
		if (enterprise_community(db, r->val[c->enterprise], ent_comm,
					 GB_CODE_LEN, err))
			return -1;
		d->community = ent_comm;
	}
	d->person = c->staff >= 0 ? r->val[c->staff] : NULL;
	d->status = c->status >= 0 ? r->val[c->status] : NULL;
	d->title = c->title >= 0 ? r->val[c->title] : NULL;
	return 0;
}

/* Builds the JSON body of r in db->body. */
static int make_body(struct gb_db *db, const struct gb_record *r,
		     struct gb_err *err)
{
	gb_buf_reset(&db->body);
	return gb_record_values_json(r, &db->body, err);
}

/* The longest text of GB_MAX_BASE versions (versions_text). */
#define BASES_TEXT_LEN (GB_MAX_BASE * 21)

/*
 * Writes n versions as decimal numbers separated by spaces into out (cap
 * bytes, room for every one: 21 bytes a version).  "" for none.
 */
static void versions_text(const uint64_t *v, size_t n, char *out, size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%" PRIu64,
					i ? " " : "", v[i]);
}

/*
 * Reads the versions of text s (versions_text) into *out, which the
 * caller frees; *n of them.  A NULL or empty s gives none.  What is not
 * a number ends the list: only this file writes these columns.
 */
static void versions_parse(const char *s, uint64_t **out, size_t *n)
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

/*
 * Stores r as the current row with statement which (S_REC_INSERT or
 * S_REC_PUT).  heads NULL: the row is the version r itself, with its
 * bases; else it is the merge of the record's versions, whose heads are
 * given as versions_text writes them (schema/client/005).  A duplicate
 * id on insert fails with GB_EEXIST.
 */
static int write_current(struct gb_db *db, enum stmt_id which,
			 const struct gb_record *r, const char *heads,
			 struct gb_err *err)
{
	char ent_comm[GB_CODE_LEN], bases[BASES_TEXT_LEN];
	struct derived d;
	sqlite3_stmt *s;
	int rc;

	if (derive(db, r, &d, ent_comm, err) || make_body(db, r, err))
		return -1;
	s = stmt(db, which, err);
	if (!s)
		return -1;
	versions_text(r->base, heads ? 0 : (size_t)r->nbase, bases,
		      sizeof(bases));
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->grid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->staff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->created_at);
	sqlite3_bind_int64(s, 7, r->updated_at);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)r->version);
	sqlite3_bind_int(s, 9, r->voided ? 1 : 0);
	bind_text(s, 10, r->voided ? r->void_reason : NULL);
	bind_text(s, 11, d.day);
	bind_text(s, 12, d.community);
	bind_text(s, 13, d.person);
	bind_text(s, 14, d.status);
	bind_text(s, 15, d.title);
	sqlite3_bind_text(s, 16, gb_buf_str(&db->body), (int)db->body.len,
			  SQLITE_STATIC);
	bind_text(s, 17, bases);
	sqlite3_bind_int64(s, 18, heads ? 0 : (sqlite3_int64)r->resolves);
	if (heads)
		sqlite3_bind_text(s, 19, heads, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 19);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db->sq) & 0xff) ==
			SQLITE_CONSTRAINT &&
		    which == S_REC_INSERT)
			gb_error(err, GB_EEXIST, _("record %s already exists"),
				 r->id);
		else
			sql_fail(db, _("cannot save the record"), err);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* Appends the change-log entry of version r, just written, with its
 * entry in a Batch (schema/client/003) once the file can sync (packs);
 * until then the entry is left out (NULL), and sync setup packs it. */
static int outbox_add(struct gb_db *db, const struct gb_record *r,
		      struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_ADD, err);

	if (!s)
		return -1;
	gb_buf_reset(&db->wire);
	if (db->packs && wire_batch_add(r, &db->wire, err)) {
		gb_error_prefix(err, _("record %s"), r->id);
		stmt_done(s);
		return -1;
	}
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->version);
	if (db->packs)
		sqlite3_bind_blob(s, 3, db->wire.data, (int)db->wire.len,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	return step_done(db, s, _("cannot log the change"), err);
}

/* Moves the current version of id into history. */
static int history_move(struct gb_db *db, const char *id, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_HIST_MOVE, err);

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return step_done(db, s, _("cannot keep the earlier version"), err);
}

/*
 * After an enterprise changed community, the records that name it (checks,
 * disputes, employment) follow, so that their community column stays
 * true.  Rare, hence the scan.
 */
static int enterprise_moved(struct gb_db *db, const struct gb_record *r,
			    const char *old_community, struct gb_err *err)
{
	const char *now = gb_record_get(r, "community");
	sqlite3_stmt *s;

	db->ent_gen++;
	if (strcmp(now ? now : "", old_community) == 0)
		return 0;
	s = stmt(db, S_ENT_DEPENDENTS, err);
	if (!s)
		return -1;
	bind_text(s, 1, now);
	sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
	return step_done(db, s, _("cannot update the records of an enterprise"),
			 err);
}

/* What is stored of the current row of a record, for writers. */
struct old_row {
	int found;
	char kind[32];
	char grid[GB_CODE_LEN];
	int64_t created_at;
	uint64_t version;
	char device[GB_ID_LEN];
	char community[GB_CODE_LEN];
	/* merged 0: the row is one version, its own head; 1: it is the
	 * merge of versions all kept in history (schema/client/005).  heads
	 * are the versions no other one saw, in HLC order; owned. */
	int merged;
	uint64_t *heads;
	size_t nheads;
};

static void old_row_release(struct old_row *o)
{
	free(o->heads);
	o->heads = NULL;
	o->nheads = 0;
}

/* Reads the current row of id into o, which the caller releases with
 * old_row_release() (also when it fails). */
static int old_row_get(struct gb_db *db, const char *id, struct old_row *o,
		       struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_REC_OLD, err);
	int rc;

	memset(o, 0, sizeof(*o));
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o->found = 1;
		copy_str(o->kind, sizeof(o->kind), col_text(s, 0));
		copy_str(o->grid, sizeof(o->grid), col_text(s, 1));
		o->created_at = sqlite3_column_int64(s, 2);
		o->version = (uint64_t)sqlite3_column_int64(s, 3);
		copy_str(o->device, sizeof(o->device), col_text(s, 4));
		copy_str(o->community, sizeof(o->community), col_text(s, 5));
		if (sqlite3_column_type(s, 6) != SQLITE_NULL)
			versions_parse(col_text(s, 6), &o->heads, &o->nheads);
		o->merged = o->nheads > 0;
		if (!o->merged) {
			o->heads = xmalloc(sizeof(*o->heads));
			o->heads[0] = o->version;
			o->nheads = 1;
		}
	} else if (rc != SQLITE_DONE) {
		sql_fail(db, _("cannot read the record"), err);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Whether v is among the n versions of set. */
static int has_version(const uint64_t *set, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

/*
 * Sets the bases of r, a new version of record o, to the heads of o: the
 * versions its merged state rests on (common/merge.h).  A version names
 * at most GB_MAX_BASE of them; with more heads than that (as many
 * laptops editing one record at once), it names the versions of must
 * (nmust, the two sides of the conflicts it resolves) and the newest
 * heads.  Leaving a head out is safe: the merge then takes the new
 * version not to have seen it, so what that head changed stays where
 * nobody else changed it, the new version agrees with it on every field
 * it shows, and a conflict it is part of stays a conflict; nothing is
 * lost and nothing wins silently.
 */
static void bases_pick(struct gb_record *r, const struct old_row *o,
		       const uint64_t *must, size_t nmust)
{
	size_t n = 0;

	if (o->nheads <= GB_MAX_BASE) {
		for (size_t i = 0; i < o->nheads; i++)
			r->base[n++] = o->heads[i];
	} else {
		for (size_t i = 0; i < nmust && n < GB_MAX_BASE; i++)
			if (!has_version(r->base, n, must[i]))
				r->base[n++] = must[i];
		for (size_t i = o->nheads; i-- > 0 && n < GB_MAX_BASE;)
			if (!has_version(r->base, n, o->heads[i]))
				r->base[n++] = o->heads[i];
	}
	qsort(r->base, n, sizeof(r->base[0]), cmp_u64);
	r->nbase = (int)n;
}

/* The name field_conflict gives field f of kind k (the void: "void"). */
static const char *conflict_field(const struct gb_kind *k, int f)
{
	return f < GB_MERGE_VOID ? k->fields[f].name : DB_FIELD_VOID;
}

/*
 * The versions of the conflicts of record id on the fields r->resolves
 * names, into must (room for GB_MAX_BASE); *n of them.
 */
static int resolved_versions(struct gb_db *db, const struct gb_record *r,
			     uint64_t *must, size_t *n, struct gb_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if (!r->resolves)
		return 0;
	s = stmt(db, S_CONF_OF, err);
	if (!s)
		return -1;
	for (int f = 0; f <= GB_MERGE_VOID; f++) {
		if (!((r->resolves >> f) & 1) ||
		    (f < GB_MERGE_VOID && f >= r->kind->nfields))
			continue;
		sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, conflict_field(r->kind, f), -1,
				  SQLITE_STATIC);
		for (;;) {
			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW)
				break;
			for (int c = 0; c < 2; c++) {
				uint64_t v =
				    (uint64_t)sqlite3_column_int64(s, c);

				if (*n < GB_MAX_BASE &&
				    !has_version(must, *n, v))
					must[(*n)++] = v;
			}
		}
		stmt_done(s);
		if (rc != SQLITE_DONE)
			return sql_fail(db, _("cannot read the conflicts"),
					err);
	}
	return 0;
}

/* Puts version r into history. */
static int history_add(struct gb_db *db, const struct gb_record *r,
		       struct gb_err *err)
{
	char bases[BASES_TEXT_LEN];
	sqlite3_stmt *s;

	if (make_body(db, r, err))
		return -1;
	s = stmt(db, S_HIST_ADD, err);
	if (!s)
		return -1;
	versions_text(r->base, (size_t)r->nbase, bases, sizeof(bases));
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->version);
	sqlite3_bind_text(s, 3, r->kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->staff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->updated_at);
	sqlite3_bind_int(s, 7, r->voided ? 1 : 0);
	bind_text(s, 8, r->voided ? r->void_reason : NULL);
	sqlite3_bind_text(s, 9, gb_buf_str(&db->body), (int)db->body.len,
			  SQLITE_STATIC);
	bind_text(s, 10, bases);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)r->resolves);
	return step_done(db, s, _("cannot keep the earlier version"), err);
}

/* Runs S_HIST_HAS or S_HIST_DEL for version r->version by r->device of
 * r->id.  For S_HIST_HAS returns 1 when history holds it, else 0. */
static int history_one(struct gb_db *db, enum stmt_id which,
		       const struct gb_record *r, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, which, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->version);
	sqlite3_bind_text(s, 3, r->device, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	stmt_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_fail(db, _("cannot read the history"), err);
	return rc == SQLITE_ROW;
}

/* 1 when the record id has conflicts in field_conflict, else 0. */
static int has_conflicts(struct gb_db *db, const char *id, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_CONF_ANY, err);
	int rc, any = 0;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		any = sqlite3_column_int(s, 0);
	stmt_done(s);
	if (rc != SQLITE_ROW)
		return sql_fail(db, _("cannot read the conflicts"), err);
	return any;
}

/* The versions of one record read back for the merge; owned. */
struct vset {
	struct gb_record **rec;
	size_t n, cap;
};

static void vset_release(struct vset *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		gb_record_free(vs->rec[i]);
	free(vs->rec);
	memset(vs, 0, sizeof(*vs));
}

static int body_parse(struct gb_db *db, struct gb_record *r, const char *body,
		      struct gb_err *err);

/* Reads the versions of record id (of kind k, row o) from history: every
 * one, or for a record edited more often than GB_MERGE_MAX_VERSIONS the
 * newest that many, which HQ merges too and which stand for what the
 * older ones could add. */
static int versions_load(struct gb_db *db, const struct gb_kind *k,
			 const char *id, const struct old_row *o,
			 struct vset *vs, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_HIST_ALL, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, GB_MERGE_MAX_VERSIONS);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		struct gb_record *r = gb_record_new(k);
		uint64_t *b;
		size_t nb;

		if (vs->n == vs->cap) {
			vs->cap = vs->cap ? vs->cap * 2 : 8;
			vs->rec = xrealloc(vs->rec, vs->cap * sizeof(*vs->rec));
		}
		vs->rec[vs->n++] = r;
		copy_str(r->id, sizeof(r->id), id);
		copy_str(r->grid, sizeof(r->grid), o->grid);
		r->created_at = o->created_at;
		r->version = (uint64_t)sqlite3_column_int64(s, 0);
		copy_str(r->device, sizeof(r->device), col_text(s, 1));
		copy_str(r->staff, sizeof(r->staff), col_text(s, 2));
		r->updated_at = sqlite3_column_int64(s, 3);
		r->voided = sqlite3_column_int(s, 4) != 0;
		if (r->voided && sqlite3_column_type(s, 5) != SQLITE_NULL)
			gb_record_set_void_reason(r, col_text(s, 5));
		versions_parse(col_text(s, 7), &b, &nb);
		for (size_t i = 0; i < nb && i < GB_MAX_BASE; i++)
			r->base[r->nbase++] = b[i];
		free(b);
		r->resolves = (uint32_t)sqlite3_column_int64(s, 8);
		if (body_parse(db, r, col_text(s, 6), err)) {
			stmt_done(s);
			return -1;
		}
	}
	stmt_done(s);
	if (rc != SQLITE_DONE)
		return sql_fail(db, _("cannot read the history"), err);
	return 0;
}

/* What field_conflict keeps as the value of field f of r (merge.h). */
static const char *side_value(const struct gb_record *r, int f)
{
	if (f < GB_MERGE_VOID)
		return r->val[f];
	if (!r->voided)
		return NULL;
	return r->void_reason ? r->void_reason : "";
}

static void bind_side(sqlite3_stmt *s, int i, const struct gb_record *r, int f)
{
	const char *v = side_value(r, f);

	sqlite3_bind_int64(s, i, (sqlite3_int64)r->version);
	sqlite3_bind_text(s, i + 1, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i + 2, r->staff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, i + 3, r->updated_at);
	if (v)
		sqlite3_bind_text(s, i + 4, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i + 4);
}

/* Writes the conflicts of merge m over the versions vs of record id
 * anew. */
static int conflicts_store(struct gb_db *db, const char *id,
			   const struct vset *vs, const struct gb_merge *m,
			   struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_CONF_DEL, err);

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (step_done(db, s, _("cannot save the conflicts"), err))
		return -1;
	for (size_t i = 0; i < m->nconf; i++) {
		const struct gb_conflict *c = &m->conf[i];
		const struct gb_record *kept = vs->rec[c->kept];

		s = stmt(db, S_CONF_ADD, err);
		if (!s)
			return -1;
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, conflict_field(kept->kind, c->field),
				  -1, SQLITE_STATIC);
		bind_side(s, 3, kept, c->field);
		bind_side(s, 8, vs->rec[c->lost], c->field);
		if (step_done(db, s, _("cannot save the conflicts"), err))
			return -1;
	}
	return 0;
}

/*
 * Makes the current row of record o (found) the merge of every version
 * held, v (new, just stamped) among them: the row moves to history when
 * it is one version, v goes there too, and common/merge.c computes the
 * record, its heads and its conflicts from all of them.  When one version
 * saw every other and no conflict is left, the row is that version again
 * (heads NULL) and it leaves history.  *changed is 0 when the row is what
 * it was.
 */
static int record_remerge(struct gb_db *db, const struct gb_kind *k,
			  const char *id, const struct old_row *o, int *changed,
			  struct gb_err *err);

static int record_merge(struct gb_db *db, const struct gb_record *v,
			const struct old_row *o, int *changed,
			struct gb_err *err)
{
	*changed = 0;
	if (history_move(db, v->id, err) || history_add(db, v, err))
		return -1;
	return record_remerge(db, v->kind, v->id, o, changed, err);
}

/* record_merge once the versions are all in history: the current row of
 * record id (of kind k, row o) made anew from them. */
static int record_remerge(struct gb_db *db, const struct gb_kind *k,
			  const char *id, const struct old_row *o, int *changed,
			  struct gb_err *err)
{
	struct vset vs = {0};
	struct gb_version *gv = NULL;
	struct gb_merge m;
	struct gb_buf heads;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	gb_buf_init(&heads, GB_BUF_NOLIMIT);
	*changed = 0;
	if (versions_load(db, k, id, o, &vs, err))
		goto out;
	gv = xcalloc(vs.n ? vs.n : 1, sizeof(*gv));
	for (size_t i = 0; i < vs.n; i++) {
		gv[i].rec = vs.rec[i];
		gv[i].base = vs.rec[i]->base;
		gv[i].nbase = (size_t)vs.rec[i]->nbase;
		gv[i].base_known = vs.rec[i]->nbase > 0;
		gv[i].resolves = vs.rec[i]->resolves;
	}
	if (gb_merge(gv, vs.n, &m, err)) {
		gb_error_prefix(err, _("record %s"), id);
		goto out;
	}
	if (m.nheads == 1 && m.nconf == 0) {
		/* One version saw all the others: it is the record.  The
		 * merged copy is that version with its bases. */
		const struct gb_record *h = vs.rec[m.heads[0]];

		if (write_current(db, S_REC_PUT, m.rec, NULL, err) ||
		    history_one(db, S_HIST_DEL, h, err) < 0)
			goto out;
		*changed = o->merged || h->version != o->version ||
			   strcmp(h->device, o->device) != 0;
	} else {
		/* In HLC order; two heads of one version (two devices) are
		 * one base, as a base names a version only. */
		for (size_t i = 0; i < m.nheads; i++) {
			uint64_t hv = vs.rec[m.heads[i]]->version;

			if (i && hv == vs.rec[m.heads[i - 1]]->version)
				continue;
			if (gb_buf_addf(&heads, err, "%s%" PRIu64, i ? " " : "",
					hv))
				goto out;
		}
		if (write_current(db, S_REC_PUT, m.rec, gb_buf_str(&heads),
				  err))
			goto out;
		*changed = 1;
	}
	if (conflicts_store(db, id, &vs, &m, err))
		goto out;
	if (*changed && strcmp(k->name, "enterprise") == 0 &&
	    enterprise_moved(db, m.rec, o->community, err))
		goto out;
	rc = 0;
out:
	gb_buf_release(&heads);
	gb_merge_release(&m);
	free(gv);
	vset_release(&vs);
	return rc;
}

/*
 * Makes v, a new version of the record whose row is o (found or not),
 * part of the grid file; writes no change-log entry.  The quick way,
 * which is what the merge gives then: a version that saw every head (it
 * names them all as bases, or names none and is newer than all) and is
 * newer than them, of a record with no conflict, simply becomes the row.
 * Anything else is merged (record_merge).  *changed is 1 when the row was
 * written anew.
 */
static int version_settle(struct gb_db *db, const struct gb_record *v,
			  const struct old_row *o, int *changed,
			  struct gb_err *err)
{
	int quick = 1;

	*changed = 0;
	if (o->found) {
		for (size_t i = 0; i < o->nheads && quick; i++)
			quick = o->heads[i] < v->version &&
				(v->nbase == 0 ||
				 has_version(v->base, (size_t)v->nbase,
					     o->heads[i]));
		if (quick && o->merged) {
			int any = has_conflicts(db, v->id, err);

			if (any < 0)
				return -1;
			quick = !any;
		}
		if (!quick)
			return record_merge(db, v, o, changed, err);
		if (history_move(db, v->id, err))
			return -1;
	}
	if (write_current(db, S_REC_PUT, v, NULL, err))
		return -1;
	*changed = 1;
	if (strcmp(v->kind->name, "enterprise") == 0 &&
	    enterprise_moved(db, v, o->community, err))
		return -1;
	return 0;
}

int db_record_insert(struct gb_db *db, struct gb_record *r, struct gb_err *err)
{
	enum txn_mode mode;
	int64_t now;
	int rc = -1;

	if (!r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (txn_enter(db, &mode, err))
		return -1;
	now = gb_now_ms();
	if (!r->id[0])
		gb_uuid7(&db->ids, now, r->id);
	copy_str(r->grid, sizeof(r->grid), db->grid);
	copy_str(r->device, sizeof(r->device), db->device);
	copy_str(r->staff, sizeof(r->staff), db->staff);
	r->created_at = now;
	r->updated_at = now;
	if (hlc_next(db, now, &r->version, err))
		goto out;
	/* A new record rests on nothing. */
	r->nbase = 0;
	r->resolves = 0;
	if (write_current(db, S_REC_INSERT, r, NULL, err) ||
	    outbox_add(db, r, err))
		goto out;
	if (strcmp(r->kind->name, "enterprise") == 0)
		db->ent_gen++;
	rc = 0;
out:
	return txn_leave(db, mode, rc, err);
}

/* db_record_update and db_record_resolve: r resolves the conflicts of the
 * fields of resolves. */
static int record_edit(struct gb_db *db, struct gb_record *r, uint32_t resolves,
		       struct gb_err *err)
{
	uint64_t must[GB_MAX_BASE];
	struct old_row o;
	enum txn_mode mode;
	size_t nmust;
	int64_t now;
	int rc = -1, changed;

	if (!r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (txn_enter(db, &mode, err))
		return -1;
	if (old_row_get(db, r->id, &o, err))
		goto out;
	if (!o.found) {
		gb_error(err, GB_ENOTFOUND, _("no record with id %s"), r->id);
		goto out;
	}
	if (strcmp(o.kind, r->kind->name) != 0) {
		gb_error(err, GB_EINVAL, _("record %s is of kind %s, not %s"),
			 r->id, o.kind, r->kind->name);
		goto out;
	}
	r->resolves = resolves;
	if (resolved_versions(db, r, must, &nmust, err))
		goto out;
	bases_pick(r, &o, must, nmust);
	now = gb_now_ms();
	if (hlc_next(db, now, &r->version, err))
		goto out;
	copy_str(r->grid, sizeof(r->grid), o.grid);
	copy_str(r->device, sizeof(r->device), db->device);
	copy_str(r->staff, sizeof(r->staff), db->staff);
	r->created_at = o.created_at;
	r->updated_at = now;
	if (!r->voided)
		gb_record_set_void_reason(r, NULL);
	if (version_settle(db, r, &o, &changed, err) || outbox_add(db, r, err))
		goto out;
	rc = 0;
out:
	old_row_release(&o);
	return txn_leave(db, mode, rc, err);
}

int db_record_update(struct gb_db *db, struct gb_record *r, struct gb_err *err)
{
	return record_edit(db, r, 0, err);
}

int db_record_resolve(struct gb_db *db, struct gb_record *r, uint32_t resolves,
		      struct gb_err *err)
{
	uint32_t known = GB_RESOLVES_VOID;

	if (r->kind)
		known |= (1u << r->kind->nfields) - 1;
	if (!resolves || (resolves & ~known))
		return gb_error(err, GB_EUSAGE,
				"resolves 0x%x names no field of the record",
				(unsigned)resolves);
	return record_edit(db, r, resolves, err);
}

int db_record_put_remote(struct gb_db *db, const struct gb_record *r,
			 int *applied, struct gb_err *err)
{
	struct old_row o;
	enum txn_mode mode;
	int rc = -1, held = 0;

	*applied = 0;
	memset(&o, 0, sizeof(o));
	if (!r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (!gb_uuid_valid(r->id))
		return gb_error(err, GB_EPROTO, _("bad record id \"%s\""),
				r->id);
	/* Stored, it would turn negative (SQLite INTEGER is signed) and
	 * sort before every version: not taken, and counted as refused. */
	if (r->version > (uint64_t)GB_HLC_MAX)
		return gb_error(err, GB_EINVAL,
				_("record %s: version %" PRIu64 " is 2^63 or "
				  "more (a version stays below %" PRIu64 ")"),
				r->id, r->version, (uint64_t)GB_HLC_MAX + 1);
	if (txn_enter(db, &mode, err))
		return -1;
	if (old_row_get(db, r->id, &o, err))
		goto out;
	if (o.found && strcmp(o.kind, r->kind->name) != 0) {
		gb_error(err, GB_ECONFLICT,
			 _("record %s is of kind %s here, not %s"), r->id,
			 o.kind, r->kind->name);
		goto out;
	}
	/* A version held already (delivered twice) changes nothing.  One
	 * newer than every head is not held: a version held is a head or
	 * was seen by one, and a version sees only lower ones. */
	if (o.found) {
		int newest = 1;

		for (size_t i = 0; i < o.nheads && newest; i++)
			newest = r->version > o.heads[i];
		held = !o.merged && r->version == o.version &&
		       strcmp(r->device, o.device) == 0;
		if (!held && !newest) {
			held = history_one(db, S_HIST_HAS, r, err);
			if (held < 0)
				goto out;
		}
	}
	if (!held && version_settle(db, r, &o, applied, err))
		goto out;
	/* Later local edits must be newer than anything seen, but a
	 * version out of the bounds of this laptop's clock is kept without
	 * moving the clock (gb_hlc_merge): it is HQ's to hold and `gridbook
	 * check` names it, while one clock far ahead must not carry every
	 * laptop of the grid along. */
	{
		uint64_t merged =
		    gb_hlc_merge(db->hlc, r->version, gb_now_ms());

		if (merged != db->hlc) {
			db->hlc = merged;
			db->hlc_dirty = 1;
		}
	}
	rc = 0;
out:
	old_row_release(&o);
	if (rc)
		*applied = 0;
	return txn_leave(db, mode, rc, err);
}

/*
 * Replaces version old by the number to in the bases of every version of
 * record id that names it: the rows of history and the current row when
 * it is one version.
 */
static int bases_renumber(struct gb_db *db, const char *id, uint64_t old,
			  uint64_t to, struct gb_err *err)
{
	static const char *const sel[] = {
	    "SELECT version, device, bases FROM record_history WHERE id = ?1 "
	    "AND bases IS NOT NULL",
	    "SELECT version, device, bases FROM record WHERE id = ?1 AND "
	    "bases IS NOT NULL AND heads IS NULL",
	};
	static const char *const upd[] = {
	    "UPDATE record_history SET bases = ?4 WHERE id = ?1 AND "
	    "version = ?2 AND device = ?3",
	    "UPDATE record SET bases = ?4 WHERE id = ?1 AND version = ?2 AND "
	    "device = ?3",
	};
	const char *what = _("cannot re-stamp a record");
	sqlite3_stmt *s = NULL, *u = NULL;
	int rc = -1, step;

	for (int t = 0; t < 2; t++) {
		if (sqlite3_prepare_v2(db->sq, sel[t], -1, &s, NULL) !=
			SQLITE_OK ||
		    sqlite3_prepare_v2(db->sq, upd[t], -1, &u, NULL) !=
			SQLITE_OK) {
			sql_fail(db, what, err);
			goto out;
		}
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		for (;;) {
			step = sqlite3_step(s);
			if (step != SQLITE_ROW)
				break;
			char text[BASES_TEXT_LEN];
			uint64_t *b;
			size_t nb;
			int hit = 0;

			versions_parse(col_text(s, 2), &b, &nb);
			for (size_t i = 0; i < nb; i++)
				if (b[i] == old) {
					b[i] = to;
					hit = 1;
				}
			if (hit) {
				qsort(b, nb, sizeof(*b), cmp_u64);
				versions_text(
				    b, nb < GB_MAX_BASE ? nb : GB_MAX_BASE,
				    text, sizeof(text));
				sqlite3_bind_text(u, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_int64(u, 2,
						   sqlite3_column_int64(s, 0));
				sqlite3_bind_text(u, 3, col_text(s, 1), -1,
						  SQLITE_STATIC);
				sqlite3_bind_text(u, 4, text, -1,
						  SQLITE_STATIC);
				step = sqlite3_step(u);
				sqlite3_reset(u);
				sqlite3_clear_bindings(u);
			}
			free(b);
			if (hit && step != SQLITE_DONE) {
				sql_fail(db, what, err);
				goto out;
			}
		}
		if (step != SQLITE_DONE) {
			sql_fail(db, what, err);
			goto out;
		}
		sqlite3_finalize(s);
		sqlite3_finalize(u);
		s = u = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

int db_version_renumber(struct gb_db *db, const char *id, uint64_t old,
			uint64_t to, int64_t updated_at, struct gb_err *err)
{
	static const char *const sql[] = {
	    "UPDATE record SET version = ?1, updated_at = ?2 WHERE id = ?3 "
	    "AND version = ?4 AND device = ?5 AND heads IS NULL",
	    "UPDATE record_history SET version = ?1, updated_at = ?2 WHERE "
	    "id = ?3 AND version = ?4 AND device = ?5",
	};
	const char *what = _("cannot re-stamp a record");
	const struct gb_kind *k;
	struct old_row o;
	enum txn_mode mode;
	int rc = -1, found = 0, changed;

	memset(&o, 0, sizeof(o));
	if (txn_enter(db, &mode, err))
		return -1;
	for (size_t i = 0; i < 2 && !found; i++) {
		sqlite3_stmt *s = NULL;

		if (sqlite3_prepare_v2(db->sq, sql[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			sql_fail(db, what, err);
			goto out;
		}
		sqlite3_bind_int64(s, 1, (sqlite3_int64)to);
		sqlite3_bind_int64(s, 2, updated_at);
		sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)old);
		sqlite3_bind_text(s, 5, db->device, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sql_fail(db, what, err);
			sqlite3_finalize(s);
			goto out;
		}
		found = sqlite3_changes(db->sq) > 0;
		sqlite3_finalize(s);
	}
	if (!found) {
		rc = 1;
		goto out;
	}
	/* The versions made from it name it anew, and the record is merged
	 * again: its heads, its order and its conflicts follow. */
	if (bases_renumber(db, id, old, to, err) ||
	    old_row_get(db, id, &o, err))
		goto out;
	k = gb_kind_find(o.kind);
	if (!o.found || !k) {
		gb_error(err, GB_EDB, _("no record with id %s"), id);
		goto out;
	}
	if (history_move(db, id, err) ||
	    record_remerge(db, k, id, &o, &changed, err))
		goto out;
	rc = 0;
out:
	old_row_release(&o);
	return txn_leave(db, mode, rc < 0 ? -1 : 0, err) < 0 ? -1 : rc;
}

/* ---- reading records ---------------------------------------------------- */

/*
 * Fills the values of r from a JSON body with json_each().  Keys the kind
 * does not know (from a newer program) are skipped.
 */
static int body_parse(struct gb_db *db, struct gb_record *r, const char *body,
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
		int i = gb_kind_field(r->kind, col_text(s, 0));

		if (i < 0 || sqlite3_column_type(s, 1) == SQLITE_NULL)
			continue;
		/* INT values come back as integers; their text is the
		 * canonical decimal form. */
		gb_record_set(r, i, col_text(s, 1));
	}
	if (rc != SQLITE_DONE) {
		gb_error(err, GB_EDB, _("record %s: bad stored body: %s"),
			 r->id, sqlite3_errmsg(db->sq));
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/*
 * Makes a record, values still empty, of the current row of s, whose
 * first ten columns are those of REC_COLS.  Caller frees *out.
 */
static int row_header(sqlite3_stmt *s, struct gb_record **out,
		      struct gb_err *err)
{
	const char *kname = col_text(s, 1);
	const struct gb_kind *k = gb_kind_find(kname);
	struct gb_record *r;

	*out = NULL;
	if (!k)
		return gb_error(err, GB_EDB,
				_("record %s has a kind this gridbook does "
				  "not know: %s"),
				col_text(s, 0), kname);
	r = gb_record_new(k);
	copy_str(r->id, sizeof(r->id), col_text(s, 0));
	copy_str(r->grid, sizeof(r->grid), col_text(s, 2));
	copy_str(r->device, sizeof(r->device), col_text(s, 3));
	copy_str(r->staff, sizeof(r->staff), col_text(s, 4));
	r->created_at = sqlite3_column_int64(s, 5);
	r->updated_at = sqlite3_column_int64(s, 6);
	r->version = (uint64_t)sqlite3_column_int64(s, 7);
	r->voided = sqlite3_column_int(s, 8) != 0;
	if (sqlite3_column_type(s, 9) != SQLITE_NULL)
		gb_record_set_void_reason(r, col_text(s, 9));
	*out = r;
	return 0;
}

/*
 * Makes a record of the current row of s, whose columns are REC_COLS:
 * its values, and the bases and resolves of the version it is (none for
 * a merged row).  Caller frees *out.
 */
static int row_record(struct gb_db *db, sqlite3_stmt *s, struct gb_record **out,
		      struct gb_err *err)
{
	uint64_t *b;
	size_t nb;

	if (row_header(s, out, err))
		return -1;
	if (body_parse(db, *out, col_text(s, 10), err)) {
		gb_record_free(*out);
		*out = NULL;
		return -1;
	}
	versions_parse(col_text(s, 11), &b, &nb);
	for (size_t i = 0; i < nb && i < GB_MAX_BASE; i++)
		(*out)->base[(*out)->nbase++] = b[i];
	free(b);
	(*out)->resolves = (uint32_t)sqlite3_column_int64(s, 12);
	return 0;
}

/* 1 when s could be the start of an id: hex digits and dashes. */
static int looks_like_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

/*
 * Finds the full id of a record from an id or a unique id prefix (at least
 * MIN_ID_PREFIX characters).  With kind set only records of that kind
 * count, and a record of another kind is named in the error (and
 * *wrong_kind set when wrong_kind is not NULL).  Returns 0 with full
 * (GB_ID_LEN bytes) filled, or -1 with GB_ENOTFOUND or GB_EAMBIGUOUS.
 */
static int record_find(struct gb_db *db, const struct gb_kind *kind,
		       const char *input, char *full, int *wrong_kind,
		       struct gb_err *err)
{
	char lo[GB_ID_LEN], hi[GB_ID_LEN], cand[MAX_CANDIDATES][GB_ID_LEN];
	char other[32] = "";
	size_t len = strlen(input);
	sqlite3_stmt *s;
	int n = 0, rc, pass;

	if (wrong_kind)
		*wrong_kind = 0;

	if (len >= GB_ID_LEN || !looks_like_id(input))
		return gb_error(err, GB_ENOTFOUND, _("no record with id %s"),
				input);
	if (len < MIN_ID_PREFIX)
		return gb_error(err, GB_ENOTFOUND,
				_("id prefix %s is too short (give at least "
				  "%d characters)"),
				input, MIN_ID_PREFIX);
	for (size_t i = 0; i <= len; i++)
		lo[i] = (char)tolower((unsigned char)input[i]);
	/* Every id starting with lo sorts in [lo, hi). */
	memcpy(hi, lo, len + 1);
	hi[len - 1]++;
	s = stmt(db, S_REC_PREFIX, err);
	if (!s)
		return -1;
	/* First among the kind asked for; then, to say what it is, any. */
	for (pass = 0; pass < 2 && n == 0; pass++) {
		if (pass == 1 && !kind)
			break;
		sqlite3_bind_text(s, 1, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, hi, -1, SQLITE_STATIC);
		if (pass == 0 && kind)
			sqlite3_bind_text(s, 3, kind->name, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 3);
		for (;;) {
			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW)
				break;
			if (pass == 1) {
				copy_str(other, sizeof(other), col_text(s, 1));
				copy_str(cand[0], GB_ID_LEN, col_text(s, 0));
				break;
			}
			if (n < MAX_CANDIDATES)
				copy_str(cand[n], GB_ID_LEN, col_text(s, 0));
			n++;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			sql_fail(db, _("cannot look up a record"), err);
			stmt_done(s);
			return -1;
		}
		stmt_done(s);
	}
	if (n == 1) {
		copy_str(full, GB_ID_LEN, cand[0]);
		return 0;
	}
	if (wrong_kind)
		*wrong_kind = n == 0 && other[0];
	if (n == 0 && other[0])
		return gb_error(err, GB_ENOTFOUND,
				_("record %s is of kind %s, not %s"), cand[0],
				other, kind->name);
	if (n == 0)
		return gb_error(err, GB_ENOTFOUND,
				len == GB_ID_LEN - 1
				    ? _("no record with id %s")
				    : _("no record with an id starting "
					"with %s"),
				input);
	{
		char list[MAX_CANDIDATES * (GB_ID_LEN + 2)] = "";
		size_t off = 0;

		for (int i = 0; i < n && i < MAX_CANDIDATES; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
						"%s%s", i ? ", " : "", cand[i]);
		return gb_error(err, GB_EAMBIGUOUS,
				_("id prefix %s matches more than one record: "
				  "%s%s"),
				input, list, n > MAX_CANDIDATES ? ", ..." : "");
	}
}

int db_record_get(struct gb_db *db, const struct gb_kind *kind, const char *id,
		  struct gb_record **out, struct gb_err *err)
{
	char full[GB_ID_LEN];
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if (record_find(db, kind, id, full, NULL, err))
		return -1;
	s = stmt(db, S_REC_GET, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, full, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* The body must be read before s moves on. */
		rc = row_record(db, s, out, err);
	} else if (rc == SQLITE_DONE) {
		rc = gb_error(err, GB_ENOTFOUND, _("no record with id %s"),
			      full);
	} else {
		rc = sql_fail(db, _("cannot read the record"), err);
	}
	stmt_done(s);
	return rc;
}

/*
 * Runs a statement prepared by the caller whose rows have the columns
 * REC_COLS and calls cb with each as a record.  The statement is not a
 * cached one, so cb may use the handle freely.  Returns 0, or -1 (err
 * untouched when cb stopped).
 */
static int each_row(struct gb_db *db, sqlite3_stmt *s,
		    int (*cb)(void *arg, const struct gb_record *r), void *arg,
		    struct gb_err *err)
{
	struct gb_record *r;
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (row_record(db, s, &r, err))
			return -1;
		rc = cb(arg, r);
		gb_record_free(r);
		if (rc)
			return -1;
	}
	if (rc != SQLITE_DONE)
		return sql_fail(db, _("cannot read the records"), err);
	return 0;
}

int db_record_history(struct gb_db *db, const char *id,
		      int (*cb)(void *arg, const struct gb_record *r),
		      void *arg, struct gb_err *err)
{
	static const char hist_sql[] =
	    "SELECT h.id, h.kind, r.grid, h.device, h.staff, "
	    "r.created_at, h.updated_at, h.version, h.voided, "
	    "h.void_reason, h.body, h.bases, h.resolves FROM "
	    "record_history h JOIN record r "
	    "ON r.id = h.id WHERE h.id = ?1 ORDER BY h.version, h.device";
	/* A merged row is no version: its versions are all in history. */
	static const char cur_sql[] =
	    "SELECT " REC_COLS " FROM record WHERE id = ?1 AND heads IS NULL";
	const char *sqls[] = {hist_sql, cur_sql};
	char full[GB_ID_LEN];
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (record_find(db, NULL, id, full, NULL, err))
		return -1;
	for (int i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(db->sq, sqls[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			sql_fail(db, _("cannot read the history"), err);
			goto out;
		}
		sqlite3_bind_text(s, 1, full, -1, SQLITE_STATIC);
		if (each_row(db, s, cb, arg, err))
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int db_kind_has_state(const struct gb_kind *kind, enum db_state st)
{
	if (!strcmp(kind->name, "request"))
		return st != DB_STATE_ANY;
	if (!strcmp(kind->name, "contract_check"))
		return st == DB_STATE_OVERDUE;
	return 0;
}

/*
 * The condition of a derived state; ?8 is now (ms UTC), ?9 today's local
 * date.  An overdue order is HQ's (server/reports.c, rectification): an
 * order with a deadline before today and no rectified follow-up dated
 * today or earlier; an overdue request is open with its deadline before
 * now (sync-health and the requests report say "open past deadline").
 */
static const char *state_cond(const struct gb_kind *kind, enum db_state st)
{
	if (!strcmp(kind->name, "contract_check"))
		return " AND status = 'rectify_order' AND "
		       "json_extract(body, '$.deadline') < ?9 AND NOT EXISTS "
		       "(SELECT 1 FROM record f WHERE f.kind = "
		       "'rectification' AND f.voided = 0 AND f.status = "
		       "'rectified' AND json_extract(f.body, '$.check') = "
		       "record.id AND f.day <= ?9)";
	switch (st) {
	case DB_STATE_OPEN:
		return " AND json_extract(body, '$.resolved_at') IS NULL";
	case DB_STATE_RESOLVED:
		return " AND json_extract(body, '$.resolved_at') IS NOT NULL";
	case DB_STATE_OVERDUE:
		return " AND json_extract(body, '$.resolved_at') IS NULL AND "
		       "CAST(json_extract(body, '$.deadline') AS INTEGER) < ?8";
	case DB_STATE_ANY:
		break;
	}
	return "";
}

int db_count_entered(struct gb_db *db, int64_t from, int64_t to,
		     void (*cb)(void *arg, const char *kind, long n), void *arg,
		     struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->sq,
			       "SELECT kind, count(*) FROM record WHERE "
			       "created_at >= ?1 AND created_at < ?2 AND "
			       "voided = 0 GROUP BY kind ORDER BY kind",
			       -1, &s, NULL) != SQLITE_OK)
		return sql_fail(db, _("cannot count records"), err);
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		cb(arg, col_text(s, 0), (long)sqlite3_column_int64(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sql_fail(db, _("cannot count records"), err);
	return 0;
}

/*
 * The records come in the order of the index on (kind, day) and the id,
 * one at a time; each record's values are read by a second, prepared
 * statement over json_each() (see row_record).  A single statement
 * joining json_each() was measured slower: it decodes the record's
 * columns again for every value.
 */
int db_record_list(struct gb_db *db, const struct gb_kind *kind,
		   const struct db_filter *f,
		   int (*cb)(void *arg, const struct gb_record *r), void *arg,
		   struct gb_err *err)
{
	/* The filters in the order of their parameters ?2 ... ?6. */
	static const char *const conds[] = {
	    " AND day >= ?2",	" AND day <= ?3",   " AND community = ?4",
	    " AND person = ?5", " AND status = ?6",
	};
	const char *vals[5] = {NULL};
	struct gb_buf sql, outer;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	gb_buf_init(&sql, GB_BUF_NOLIMIT);
	gb_buf_init(&outer, GB_BUF_NOLIMIT);
	if (f) {
		/* A kind without a date field has no day to filter on. */
		if (kind->date_field) {
			vals[0] = f->from;
			vals[1] = f->to;
		}
		vals[2] = f->community;
		vals[3] = f->staff;
		vals[4] = f->status;
	}
	/* sort_day, after the columns each_row reads, orders the outer
	 * query of a limit. */
	if (gb_buf_adds(&sql,
			"SELECT " REC_COLS ", day AS sort_day FROM record "
			"WHERE kind = ?1",
			err))
		goto out;
	for (int i = 0; i < 5; i++)
		if (vals[i] && gb_buf_adds(&sql, conds[i], err))
			goto out;
	if ((!f || !f->with_voided) &&
	    gb_buf_adds(&sql, " AND voided = 0", err))
		goto out;
	if (f && f->state && db_kind_has_state(kind, f->state) &&
	    gb_buf_adds(&sql, state_cond(kind, f->state), err))
		goto out;
	/* A limit keeps the newest records, shown oldest first. */
	if (f && f->limit > 0) {
		if (gb_buf_adds(&sql, " ORDER BY day DESC, id DESC LIMIT ?7",
				err))
			goto out;
		gb_buf_reset(&outer);
		if (gb_buf_adds(&outer, "SELECT * FROM (", err) ||
		    gb_buf_adds(&outer, gb_buf_str(&sql), err) ||
		    gb_buf_adds(&outer, ") ORDER BY sort_day, id", err))
			goto out;
		gb_buf_reset(&sql);
		if (gb_buf_adds(&sql, gb_buf_str(&outer), err))
			goto out;
	} else if (gb_buf_adds(&sql, " ORDER BY day, id LIMIT ?7", err)) {
		goto out;
	}
	if (sqlite3_prepare_v2(db->sq, gb_buf_str(&sql), -1, &s, NULL) !=
	    SQLITE_OK) {
		sql_fail(db, _("cannot list records"), err);
		goto out;
	}
	sqlite3_bind_text(s, 1, kind->name, -1, SQLITE_STATIC);
	for (int i = 0; i < 5; i++)
		if (vals[i])
			sqlite3_bind_text(s, i + 2, vals[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, f && f->limit > 0 ? f->limit : -1);
	if (f && f->state) {
		char today[16];

		gb_date_format(gb_local_day(f->now), today);
		sqlite3_bind_int64(s, 8, f->now);
		sqlite3_bind_text(s, 9, today, -1, SQLITE_TRANSIENT);
	}
	rc = each_row(db, s, cb, arg, err);
out:
	sqlite3_finalize(s);
	gb_buf_release(&outer);
	gb_buf_release(&sql);
	return rc;
}

/* The column of table record that holds field name of k as it is, or
 * NULL. */
static const char *key_column(const struct gb_kind *k, const char *name)
{
	int i = gb_kind_field(k, name);

	if (k->date_field && !strcmp(name, k->date_field) && i >= 0 &&
	    k->fields[i].type == GB_T_DATE)
		return "day";
	if (k->staff_field && !strcmp(name, k->staff_field))
		return "person";
	return NULL;
}

int db_record_find_key(struct gb_db *db, const struct gb_record *r, char *id,
		       struct gb_err *err)
{
	const struct gb_unique *u = &r->kind->unique;
	sqlite3_stmt *s = NULL;
	struct gb_buf sql;
	int rc = -1, n = 0;

	if (u->mode == GB_UNIQUE_NONE)
		return 0;
	gb_buf_init(&sql, GB_BUF_NOLIMIT);
	gb_buf_adds(&sql,
		    "SELECT id FROM record WHERE kind = ?1 AND voided = 0 "
		    "AND id <> ?2",
		    NULL);
	for (; n < 3 && u->key[n]; n++) {
		if (!gb_record_get(r, u->key[n])) {
			rc = 0;
			goto out;
		}
		/* The columns copied out of body are indexed with kind:
		 * the date (when a DATE) and the staff member. */
		if (key_column(r->kind, u->key[n]))
			gb_buf_addf(&sql, NULL, " AND %s = ?%d",
				    key_column(r->kind, u->key[n]), 4 + 2 * n);
		else
			gb_buf_addf(&sql, NULL,
				    " AND CAST(json_extract(body, ?%d) AS "
				    "TEXT) = ?%d",
				    3 + 2 * n, 4 + 2 * n);
	}
	gb_buf_adds(&sql, " ORDER BY id LIMIT 1", NULL);
	if (sqlite3_prepare_v2(db->sq, gb_buf_str(&sql), -1, &s, NULL) !=
	    SQLITE_OK) {
		rc = sql_fail(db, _("cannot look up a record"), err);
		goto out;
	}
	sqlite3_bind_text(s, 1, r->kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "$.%s", u->key[i]);
		sqlite3_bind_text(s, 3 + 2 * i, path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4 + 2 * i, gb_record_get(r, u->key[i]), -1,
				  SQLITE_STATIC);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_str(id, GB_ID_LEN, col_text(s, 0));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sql_fail(db, _("cannot look up a record"), err);
	}
out:
	sqlite3_finalize(s);
	gb_buf_release(&sql);
	return rc;
}

/* ---- conflicts ---------------------------------------------------------- */

int db_conflict_count(struct gb_db *db, long *n, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	*n = 0;
	if (sqlite3_prepare_v2(db->sq,
			       "SELECT count(*) FROM (SELECT DISTINCT id, "
			       "field FROM field_conflict)",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sql_fail(db, _("cannot read the conflicts"), err);
		goto out;
	}
	*n = (long)sqlite3_column_int64(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Side c of a conflict from columns i..i+4 of s (borrowed from s). */
static void conflict_side(sqlite3_stmt *s, int i, struct db_conflict_side *c)
{
	c->version = (uint64_t)sqlite3_column_int64(s, i);
	copy_str(c->device, sizeof(c->device), col_text(s, i + 1));
	copy_str(c->staff, sizeof(c->staff), col_text(s, i + 2));
	c->at = sqlite3_column_int64(s, i + 3);
	c->value = sqlite3_column_type(s, i + 4) == SQLITE_NULL
		       ? NULL
		       : col_text(s, i + 4);
}

int db_conflict_list(struct gb_db *db, const char *id, const char *field,
		     int (*cb)(void *arg, const struct db_conflict *c),
		     void *arg, struct gb_err *err)
{
	static const char sql[] =
	    "SELECT c.id, r.kind, r.title, c.field, c.kept_version, "
	    "c.kept_device, c.kept_staff, c.kept_at, c.kept_value, "
	    "c.lost_version, c.lost_device, c.lost_staff, c.lost_at, "
	    "c.lost_value FROM field_conflict c JOIN record r ON r.id = c.id "
	    "WHERE (?1 IS NULL OR c.id = ?1) AND (?2 IS NULL OR c.field = ?2) "
	    "ORDER BY c.id, c.field, c.lost_version, c.lost_device";
	sqlite3_stmt *s = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK) {
		sql_fail(db, _("cannot read the conflicts"), err);
		goto out;
	}
	bind_text(s, 1, id);
	bind_text(s, 2, field);
	for (;;) {
		step = sqlite3_step(s);
		if (step != SQLITE_ROW)
			break;
		struct db_conflict c;
		const char *fname = col_text(s, 3);

		memset(&c, 0, sizeof(c));
		copy_str(c.id, sizeof(c.id), col_text(s, 0));
		c.kind = gb_kind_find(col_text(s, 1));
		if (!c.kind)
			continue;
		c.title = sqlite3_column_type(s, 2) == SQLITE_NULL
			      ? NULL
			      : col_text(s, 2);
		if (strcmp(fname, DB_FIELD_VOID) == 0) {
			c.field = GB_MERGE_VOID;
			c.field_name = DB_FIELD_VOID;
		} else {
			c.field = gb_kind_field(c.kind, fname);
			if (c.field < 0)
				continue;
			c.field_name = c.kind->fields[c.field].name;
		}
		conflict_side(s, 4, &c.kept);
		conflict_side(s, 9, &c.lost);
		if (cb(arg, &c))
			goto out;
	}
	if (step != SQLITE_DONE) {
		sql_fail(db, _("cannot read the conflicts"), err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* ---- reference data ---------------------------------------------------- */

/* The seed files are read and checked by seeds.c, as HQ reads them; what
 * is here is which rows of them a grid file keeps, and where. */

#define SEED_NAME_LEN 256 /* a value seed_find copies out */

/*
 * Finds the first row of a seed file whose code (first column) is code,
 * or the first row at all when code is NULL, and copies its first nv
 * columns into v.  Returns 1 found, 0 not, -1 on error.
 */
static int seed_find(const char *dir, enum gb_seeds_file which,
		     const char *code, char (*v)[SEED_NAME_LEN], int nv,
		     struct gb_err *err)
{
	struct gb_seeds sd;
	int rc;

	if (gb_seeds_open(&sd, dir, which, err))
		return -1;
	for (;;) {
		rc = gb_seeds_next(&sd, err);
		if (rc != 1)
			break;
		if (code && strcmp(sd.v[0], code) != 0)
			continue;
		for (int i = 0; i < nv; i++)
			copy_str(v[i], SEED_NAME_LEN, sd.v[i]);
		break;
	}
	gb_seeds_close(&sd);
	return rc;
}

/*
 * How one seed file is stored: the rows whose column gridcol is the grid
 * (all rows when gridcol is -1) go through the INSERT sql, with the text
 * columns textcols bound first, then the grid's street when street is
 * set, then nnum count columns from numcol on.
 */
struct seed_load {
	enum gb_seeds_file which;
	int gridcol;
	const char *sql;
	int textcols[GB_SEEDS_MAXCOLS];
	int ntext;
	int with_street;
	int numcol, nnum;
};

static const struct seed_load seed_loads[] = {
    {GB_SEEDS_COMMUNITIES,
     1,
     "INSERT INTO community (code, name, grid, street, population, "
     "criminal_cases, patrol_team) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
     {0, 2, 1},
     3,
     1,
     3,
     3},
    {GB_SEEDS_AREAS,
     1,
     "INSERT INTO police_area (code, name, grid, room) VALUES "
     "(?1, ?2, ?3, ?4)",
     {0, 2, 1, 3},
     4,
     0,
     0,
     0},
    /* The rows of this grid's areas, which are loaded by now. */
    {GB_SEEDS_AREA_COMMUNITIES,
     -1,
     "INSERT INTO area_community (area, community) SELECT ?1, ?2 "
     "WHERE EXISTS (SELECT 1 FROM police_area WHERE code = ?1)",
     {0, 1},
     2,
     0,
     0,
     0},
    {GB_SEEDS_STAFF,
     3,
     "INSERT INTO staff (code, name, role, grid, area) VALUES "
     "(?1, ?2, ?3, ?4, ?5)",
     {0, 1, 2, 3, 4},
     5,
     0,
     0,
     0},
};

static int seed_store(struct gb_db *db, const char *dir,
		      const struct seed_load *ld, const char *grid,
		      const char *street, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	struct gb_seeds sd;
	int rc = -1, got;

	if (gb_seeds_open(&sd, dir, ld->which, err))
		return -1;
	if (sqlite3_prepare_v2(db->sq, ld->sql, -1, &s, NULL) != SQLITE_OK) {
		sql_fail(db, _("cannot store reference data"), err);
		goto out;
	}
	for (;;) {
		got = gb_seeds_next(&sd, err);
		if (got != 1)
			break;
		int p = 1;

		if (ld->gridcol >= 0 && strcmp(sd.v[ld->gridcol], grid) != 0)
			continue;
		for (int i = 0; i < ld->ntext; i++)
			sqlite3_bind_text(s, p++, sd.v[ld->textcols[i]], -1,
					  SQLITE_STATIC);
		if (ld->with_street)
			sqlite3_bind_text(s, p++, street, -1, SQLITE_STATIC);
		for (int i = 0; i < ld->nnum; i++)
			sqlite3_bind_int64(s, p++, sd.n[ld->numcol + i]);
		if (step_done(db, s, _("cannot store reference data"), err)) {
			gb_error_prefix(err, "%s:%ld", sd.path,
					gb_seeds_line(&sd));
			goto out;
		}
	}
	if (got == 0)
		rc = 0;
out:
	sqlite3_finalize(s);
	gb_seeds_close(&sd);
	return rc;
}

/* 1 when the file holds records, 0 when none, -1 on error. */
static int has_records(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->sq, "SELECT 1 FROM record LIMIT 1", -1, &s,
			       NULL) != SQLITE_OK)
		return sql_fail(db, _("cannot read records"), err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = sql_fail(db, _("cannot read records"), err);
	sqlite3_finalize(s);
	return rc;
}

int db_load_seeds(struct gb_db *db, const char *dir, const char *grid,
		  struct gb_err *err)
{
	/* grids.csv: code, street, name; streets.csv and district.csv:
	 * code, name. */
	char g[3][SEED_NAME_LEN], st[2][SEED_NAME_LEN], d[2][SEED_NAME_LEN];
	enum txn_mode mode;
	size_t i;
	int rc = -1, found;

	found = seed_find(dir, GB_SEEDS_GRIDS, grid, g, 3, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_ENOTFOUND,
				_("grid %s is not in the seeds (%s)"), grid,
				dir);
	if (strlen(grid) >= GB_CODE_LEN)
		return gb_error(err, GB_EINVAL, _("grid code %s is too long"),
				grid);
	found = seed_find(dir, GB_SEEDS_STREETS, g[1], st, 2, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_EINVAL,
				_("street %s of grid %s is not in the seeds "
				  "(%s)"),
				g[1], grid, dir);
	found = seed_find(dir, GB_SEEDS_DISTRICT, NULL, d, 2, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_EINVAL,
				_("the seeds (%s) name no district"), dir);

	if (txn_enter(db, &mode, err))
		return -1;
	if (db->grid[0] && strcmp(db->grid, grid) != 0) {
		int h = has_records(db, err);

		if (h < 0)
			goto out;
		if (h) {
			gb_error(err, GB_EINVAL,
				 _("this grid file holds the records of grid "
				   "%s, not %s"),
				 db->grid, grid);
			goto out;
		}
	}
	/* The file holds one grid, so its reference data goes as a whole. */
	if (exec(db,
		 "DELETE FROM area_community; DELETE FROM community; "
		 "DELETE FROM police_area; DELETE FROM staff",
		 _("cannot replace reference data"), err))
		goto out;
	for (i = 0; i < sizeof(seed_loads) / sizeof(seed_loads[0]); i++)
		if (seed_store(db, dir, &seed_loads[i], grid, g[1], err))
			goto out;
	if (db_meta_set(db, "grid", grid, err) ||
	    db_meta_set(db, "grid_name", g[2], err) ||
	    db_meta_set(db, "street", g[1], err) ||
	    db_meta_set(db, "street_name", st[1], err) ||
	    db_meta_set(db, "district", d[0], err) ||
	    db_meta_set(db, "district_name", d[1], err))
		goto out;
	rc = 0;
out:
	return txn_leave(db, mode, rc, err);
}

/* ---- lookups for validation -------------------------------------------- */

/* Copies v into out (n bytes) when out is given. */
static void put_out(char *out, size_t n, const char *v)
{
	if (out && n)
		copy_str(out, n, v);
}

/*
 * Looks up a unit (staff, community, area) with cached statement which,
 * whose columns are named by cols.  attr picks a column.
 */
static int find_unit(struct gb_db *db, enum stmt_id which,
		     const char *const *cols, const char *key, const char *attr,
		     char *out, size_t n, struct gb_err *err)
{
	sqlite3_stmt *s;
	int col = -1, rc;

	if (attr) {
		for (int i = 0; cols[i]; i++)
			if (strcmp(cols[i], attr) == 0)
				col = i;
		if (col < 0)
			return gb_error(err, GB_EINTERNAL,
					"no attribute %s to look up", attr);
	}
	s = stmt(db, which, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (col >= 0)
			put_out(out, n, col_text(s, col));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sql_fail(db, _("cannot look up reference data"), err);
	}
	stmt_done(s);
	return rc;
}

/*
 * Looks up a record of kind k, voided ones only when with_voided; attr is
 * a field of its body.  Validation asks this for every imported row, so
 * fields copied into columns (status, community, title, a DATE date) are
 * read from there rather than by parsing the body.
 */
static int find_record(struct gb_db *db, const struct gb_kind *k,
		       const char *key, const char *attr, char *out, size_t n,
		       int with_voided, struct gb_err *err)
{
	const struct kind_cols *c = kind_cols(db, k);
	char path[64];
	sqlite3_stmt *s;
	int rc, col = 0, i = attr ? gb_kind_field(k, attr) : -1;

	if (attr && i < 0)
		return gb_error(err, GB_EINTERNAL, "no attribute %s to look up",
				attr);
	if (i >= 0 && i == c->status)
		col = 2;
	else if (i >= 0 && i == c->community)
		col = 3;
	else if (i >= 0 && i == c->title)
		col = 4;
	else if (i >= 0 && i == c->date && k->fields[i].type == GB_T_DATE)
		col = 5;
	else if (i >= 0)
		snprintf(path, sizeof(path), "$.%s", k->fields[i].name);
	s = stmt(db, S_REC_ATTR, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->name, -1, SQLITE_STATIC);
	if (i >= 0 && col == 0)
		sqlite3_bind_text(s, 3, path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && !with_voided && sqlite3_column_int(s, 1)) {
		rc = 0;
	} else if (rc == SQLITE_ROW) {
		if (i >= 0)
			put_out(out, n, col_text(s, col));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sql_fail(db, _("cannot look up a record"), err);
	}
	stmt_done(s);
	return rc;
}

static int lookup_find(void *arg, enum gb_ref ref, const char *key,
		       const char *attr, char *out, size_t n,
		       struct gb_err *err)
{
	static const char *const staff_cols[] = {"name", "role", "area", NULL};
	static const char *const comm_cols[] = {"name", NULL};
	static const char *const area_cols[] = {"name", "room", NULL};
	struct gb_db *db = arg;

	if (!key || !*key)
		return 0;
	switch (ref) {
	case GB_REF_STAFF:
		return find_unit(db, S_STAFF_GET, staff_cols, key, attr, out, n,
				 err);
	case GB_REF_COMMUNITY:
		return find_unit(db, S_COMMUNITY_GET, comm_cols, key, attr, out,
				 n, err);
	case GB_REF_AREA:
		return find_unit(db, S_AREA_GET, area_cols, key, attr, out, n,
				 err);
	case GB_REF_ENTERPRISE:
		return find_record(db, gb_kind_find("enterprise"), key, attr,
				   out, n, 0, err);
	case GB_REF_CHECK:
		return find_record(db, gb_kind_find("contract_check"), key,
				   attr, out, n, 0, err);
	case GB_REF_NONE:
		break;
	}
	return gb_error(err, GB_EINTERNAL, "lookup of an unknown reference");
}

const struct gb_lookup *db_lookup(struct gb_db *db)
{
	db->lk.arg = db;
	db->lk.find = lookup_find;
	return &db->lk;
}

/* ---- resolving what people type ---------------------------------------- */

/* How each kind of reference is named in messages. */
static const char *ref_noun(enum gb_ref ref)
{
	switch (ref) {
	case GB_REF_COMMUNITY:
		return _("community");
	case GB_REF_AREA:
		return _("police area");
	case GB_REF_STAFF:
		return _("staff member");
	case GB_REF_ENTERPRISE:
		return _("enterprise");
	case GB_REF_CHECK:
		return _("contract check");
	case GB_REF_NONE:
		break;
	}
	return "?";
}

/*
 * Runs a candidate query (columns: code, name) with input bound to ?1.
 * Returns the number of rows (up to MAX_CANDIDATES + 1), the first code in
 * first (n bytes) and "code name" of up to MAX_CANDIDATES in list.  -1 on
 * error.
 */
static int candidates(struct gb_db *db, const char *sql, const char *input,
		      char *first, size_t n, char *list, size_t ln,
		      struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t off = 0;
	int count = 0, rc;

	list[0] = '\0';
	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK)
		return sql_fail(db, _("cannot look up a name"), err);
	sqlite3_bind_text(s, 1, input, -1, SQLITE_STATIC);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		const char *code = col_text(s, 0), *name = col_text(s, 1);
		const char *shown = code;

		/* A third column, when there is one, is what the list shows
		 * and the second column the code it shows beside it. */
		if (sqlite3_column_count(s) > 2) {
			shown = name;
			name = col_text(s, 2);
		}
		if (count == 0)
			copy_str(first, n, code);
		if (count < MAX_CANDIDATES && off < ln) {
			int w = snprintf(list + off, ln - off, "%s%s%s%s",
					 count ? "; " : "", shown,
					 *shown && *name ? " " : "", name);

			/* Only whole candidates: a cut one could end inside
			 * a character. */
			if (w > 0 && (size_t)w < ln - off) {
				off += (size_t)w;
			} else {
				list[off] = '\0';
				off = ln;
			}
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		sql_fail(db, _("cannot look up a name"), err);
		count = -1;
	}
	sqlite3_finalize(s);
	return count;
}

/*
 * The candidate queries tried in turn for each reference.  ?1 is the
 * input.  Names compare as UTF-8 text: instr() finds a prefix of Chinese
 * names as well as of Latin ones; a name that starts with the input wins
 * over one that holds it further in, so "文昌" names 文昌街道 before
 * 望川市文昌精密机械有限公司.  Each query returns at most one row
 * more than a message lists, so a count above MAX_CANDIDATES reads as
 * "more than".
 */
#define LIM " LIMIT 6"
static const char *const staff_q[] = {
    "SELECT code, name FROM staff WHERE code = ?1",
    "SELECT code, name FROM staff WHERE code = ?1 COLLATE NOCASE" LIM,
    "SELECT code, name FROM staff WHERE name = ?1 ORDER BY code" LIM,
    "SELECT code, name FROM staff WHERE instr(name, ?1) = 1 "
    "ORDER BY code" LIM,
    "SELECT code, name FROM staff WHERE instr(name, ?1) > 1 "
    "ORDER BY code" LIM,
    NULL,
};
static const char *const community_q[] = {
    "SELECT code, name FROM community WHERE code = ?1",
    "SELECT code, name FROM community WHERE code = ?1 COLLATE NOCASE" LIM,
    "SELECT code, name FROM community WHERE name = ?1 ORDER BY code" LIM,
    "SELECT code, name FROM community WHERE instr(name, ?1) = 1 "
    "ORDER BY code" LIM,
    "SELECT code, name FROM community WHERE instr(name, ?1) > 1 "
    "ORDER BY code" LIM,
    NULL,
};
static const char *const area_q[] = {
    "SELECT code, name FROM police_area WHERE code = ?1",
    "SELECT code, name FROM police_area WHERE code = ?1 COLLATE NOCASE" LIM,
    "SELECT code, name FROM police_area WHERE name = ?1 OR room = ?1 "
    "ORDER BY code" LIM,
    "SELECT code, name FROM police_area WHERE instr(name, ?1) = 1 OR "
    "instr(room, ?1) = 1 ORDER BY code" LIM,
    "SELECT code, name FROM police_area WHERE instr(name, ?1) > 1 OR "
    "instr(room, ?1) > 1 ORDER BY code" LIM,
    NULL,
};
/* Enterprises are listed by name and USCC, what people tell them apart
 * by; the id would fill the message without helping. */
#define ENT_SHOWN                                                              \
	"'', title || ' ' || coalesce(json_extract(body, '$.uscc'), '')"
static const char *const enterprise_q[] = {
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND json_extract(body, '$.uscc') = upper(?1) "
    "ORDER BY id" LIM,
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND title = ?1 ORDER BY id" LIM,
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND instr(title, ?1) = 1 ORDER BY title, id" LIM,
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND instr(title, ?1) > 1 ORDER BY title, id" LIM,
    NULL,
};

/* Tries the queries of q in turn; the first with any rows decides. */
static int resolve_by(struct gb_db *db, const char *const *q, enum gb_ref ref,
		      const char *input, char *out, size_t n,
		      struct gb_err *err)
{
	/* The list leaves room in a message for the input and the words. */
	char first[GB_ID_LEN], list[170];

	for (int i = 0; q[i]; i++) {
		int c = candidates(db, q[i], input, first, sizeof(first), list,
				   sizeof(list), err);

		if (c < 0)
			return -1;
		if (c == 0)
			continue;
		if (c > 1)
			return gb_error(err, GB_EAMBIGUOUS,
					_("\"%s\" matches more than one %s "
					  "(%s%s): give more of the name or "
					  "the code"),
					input, ref_noun(ref), list,
					c > MAX_CANDIDATES ? "; ..." : "");
		if (strlen(first) >= n)
			return gb_error(err, GB_EINTERNAL,
					"no room for code %s", first);
		copy_str(out, n, first);
		return 1;
	}
	return 0;
}

int db_resolve(struct gb_db *db, enum gb_ref ref, const char *input, char *out,
	       size_t n, struct gb_err *err)
{
	const char *const *q = NULL;
	const struct gb_kind *kind = NULL;
	char full[GB_ID_LEN];
	struct gb_err e2;
	int rc, wrong = 0;

	if (!input || !*input)
		return gb_error(err, GB_ENOTFOUND, _("no %s given"),
				ref_noun(ref));
	switch (ref) {
	case GB_REF_STAFF:
		q = staff_q;
		break;
	case GB_REF_COMMUNITY:
		q = community_q;
		break;
	case GB_REF_AREA:
		q = area_q;
		break;
	case GB_REF_ENTERPRISE:
		kind = gb_kind_find("enterprise");
		break;
	case GB_REF_CHECK:
		kind = gb_kind_find("contract_check");
		break;
	case GB_REF_NONE:
		return gb_error(err, GB_EINTERNAL, "nothing to resolve");
	}
	if (q) {
		rc = resolve_by(db, q, ref, input, out, n, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return gb_error(err, GB_ENOTFOUND,
					_("no %s with code or name \"%s\""),
					ref_noun(ref), input);
		return 0;
	}
	/* Records: an id or id prefix first, then (enterprises) a USCC or
	 * the name. */
	gb_err_clear(&e2);
	if (looks_like_id(input) && strlen(input) >= MIN_ID_PREFIX) {
		if (record_find(db, kind, input, full, &wrong, &e2) == 0) {
			if (strlen(full) >= n)
				return gb_error(err, GB_EINTERNAL,
						"no room for an id");
			copy_str(out, n, full);
			return 0;
		}
		if (e2.code != GB_ENOTFOUND || ref == GB_REF_CHECK) {
			if (err)
				*err = e2;
			return -1;
		}
	}
	if (ref == GB_REF_ENTERPRISE) {
		rc = resolve_by(db, enterprise_q, ref, input, out, n, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			return 0;
	}
	/* A record of another kind is worth naming. */
	if (wrong) {
		if (err)
			*err = e2;
		return -1;
	}
	if (ref == GB_REF_ENTERPRISE)
		return gb_error(err, GB_ENOTFOUND,
				_("no enterprise with id, USCC or name "
				  "\"%s\""),
				input);
	return gb_error(err, GB_ENOTFOUND, _("no contract check with id %s"),
			input);
}

char *db_ref_name(struct gb_db *db, enum gb_ref ref, const char *code)
{
	char name[512] = "";
	int rc = 0;

	if (!code)
		return NULL;
	switch (ref) {
	case GB_REF_STAFF:
	case GB_REF_COMMUNITY:
	case GB_REF_AREA:
		rc = lookup_find(db, ref, code, "name", name, sizeof(name),
				 NULL);
		break;
	case GB_REF_ENTERPRISE:
		rc = find_record(db, gb_kind_find("enterprise"), code, "name",
				 name, sizeof(name), 1, NULL);
		break;
	case GB_REF_CHECK:
	case GB_REF_NONE:
		break;
	}
	return xstrdup(rc == 1 && name[0] ? name : code);
}

/* ---- clock bounds ------------------------------------------------------- */

/* The largest version whose time part is at most ms (ms >= 0). */
static uint64_t version_ceiling(int64_t ms)
{
	if (ms >= INT64_C(1) << 47)
		return (uint64_t)GB_HLC_MAX;
	return ((uint64_t)(ms + 1) << 16) - 1;
}

int db_versions_out_of_bounds(struct gb_db *db, int64_t now_ms,
			      struct db_bad_version **out, size_t *n,
			      struct gb_err *err)
{
	/* Stored negative is 2^63 or more, written before the bounds. */
	static const char sql[] =
	    "SELECT id, device, version, 1 FROM record "
	    "WHERE version < ?1 OR version > ?2 "
	    "UNION ALL SELECT id, device, version, 0 FROM record_history "
	    "WHERE version < ?1 OR version > ?2 ORDER BY 1, 3";
	sqlite3_stmt *s = NULL;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK)
		return sql_fail(db, _("cannot read the versions"), err);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(GB_HLC_MIN_MS << 16));
	sqlite3_bind_int64(s, 2,
			   (sqlite3_int64)version_ceiling(
			       now_ms < 0 ? 0 : now_ms + GB_HLC_AHEAD_MS));
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		struct db_bad_version *b;

		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			*out = xrealloc(*out, alloc * sizeof(**out));
		}
		b = &(*out)[(*n)++];
		copy_str(b->id, sizeof(b->id), col_text(s, 0));
		copy_str(b->device, sizeof(b->device), col_text(s, 1));
		b->version = (uint64_t)sqlite3_column_int64(s, 2);
		b->current = sqlite3_column_int(s, 3);
		b->bound = gb_hlc_bounds(b->version, now_ms);
	}
	if (rc != SQLITE_DONE) {
		sql_fail(db, _("cannot read the versions"), err);
		sqlite3_finalize(s);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int db_clock_rewind(struct gb_db *db, int64_t limit_ms, struct gb_err *err)
{
	static const char sql[] =
	    "SELECT max(v) FROM (SELECT max(version) AS v FROM record "
	    "WHERE version BETWEEN 0 AND ?1 UNION ALL SELECT max(version) "
	    "FROM record_history WHERE version BETWEEN 0 AND ?1)";
	uint64_t ceiling = version_ceiling(limit_ms < 0 ? 0 : limit_ms);
	sqlite3_stmt *s = NULL;
	int rc;

	if (!db->in_txn)
		return gb_error(err, GB_EINTERNAL, "no transaction is open");
	if (db->hlc <= ceiling)
		return 0;
	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK)
		return sql_fail(db, _("cannot read the clock"), err);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ceiling);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sql_fail(db, _("cannot read the clock"), err);
		sqlite3_finalize(s);
		return -1;
	}
	db->hlc = (uint64_t)sqlite3_column_int64(s, 0);
	db->hlc_dirty = 1;
	sqlite3_finalize(s);
	return 0;
}

int db_record_restamp(struct gb_db *db, const char *id, uint64_t old,
		      int64_t limit_ms, uint64_t *version, struct gb_err *err)
{
	/* After the version itself (db_version_renumber, which renumbers
	 * the bases that name it and merges the record again): the
	 * record's created_at when the wrong clock gave it too, and the
	 * packed outbox entries of the record, whose bases may name the
	 * old number, are packed again when sent. */
	static const char *const sql[] = {
	    "UPDATE record SET created_at = ?2 WHERE id = ?3 AND "
	    "created_at > ?6",
	    "UPDATE outbox SET wire = NULL WHERE id = ?3",
	};
	const char *what = _("cannot re-stamp a record");
	int64_t now = gb_now_ms();
	uint64_t v, saved;
	int found, saved_dirty;

	if (!db->in_txn)
		return gb_error(err, GB_EINTERNAL, "no transaction is open");
	saved = db->hlc;
	saved_dirty = db->hlc_dirty;
	if (hlc_next(db, now, &v, err))
		return -1;
	found = db_version_renumber(db, id, old, v, now, err);
	if (found < 0)
		return -1;
	if (found > 0) {
		/* Nothing was stamped: the clock stays where it was. */
		db->hlc = saved;
		db->hlc_dirty = saved_dirty;
		return 1;
	}
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s = NULL;
		int rc;

		if (sqlite3_prepare_v2(db->sq, sql[i], -1, &s, NULL) !=
		    SQLITE_OK)
			return sql_fail(db, what, err);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
		if (i == 0)
			sqlite3_bind_int64(s, 6, limit_ms);
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			sql_fail(db, what, err);
			sqlite3_finalize(s);
			return -1;
		}
		sqlite3_finalize(s);
	}
	*version = v;
	return 0;
}

/*
 * The grid file (db.h): opening it, its migrations and transactions.  It
 * stands on the statement helpers of db_sql.c and on the meta table of
 * db_settings.c, where the clock below keeps its last version.  The
 * table families live beside it: the records in db_records.c, the
 * reference data in db_ref.c, the seeds in db_seed.c, the outbox in
 * outbox.c.  This file calls none of them.
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
#include <sys/file.h>
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
};

/* The cached statement id of this file's stmt_sql[]. */
static sqlite3_stmt *stmt(struct gb_db *db, enum stmt_id id, struct gb_err *err)
{
	return db_stmt(db, id, stmt_sql[id], err);
}

const char *db_file_name(struct gb_db *db)
{
	const char *f = sqlite3_db_filename(db->sq, "main");

	return f ? f : "";
}

/* ---- transactions and the clock ---------------------------------------- */

/* Reads the last version handed out from meta into db->hlc. */
static int hlc_load(struct gb_db *db, struct gb_err *err)
{
	char v[24];
	int found;

	db->hlc = 0;
	db->hlc_dirty = 0;
	if (db_meta_read(db, "hlc", v, sizeof(v), &found,
			 _("cannot read the clock"), err))
		return -1;
	if (found)
		db->hlc = strtoull(v, NULL, 10);
	return 0;
}

/* Stores db->hlc in meta when it moved. */
static int hlc_store(struct gb_db *db, struct gb_err *err)
{
	char v[24];

	if (!db->hlc_dirty)
		return 0;
	snprintf(v, sizeof(v), "%" PRIu64, db->hlc);
	if (db_meta_put(db, "hlc", v, _("cannot save the clock"), err))
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
	db_meta_cache_load(db);
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

/*
 * Whether a gridbook-syncd holds the lock of the grid file at path (its
 * flock() on "<path>.syncd", syncd_main.c): 1, with its pid (from the
 * file, "?" when it says none) in pid; 0 when none does.
 */
static int syncd_running(const char *path, char *pid, size_t n)
{
	char lock[4096];
	ssize_t got;
	int fd, held;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.syncd", path) >=
	    sizeof(lock))
		return 0;
	fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	got = held ? read(fd, pid, n - 1) : 0;
	pid[got > 0 ? got : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	if (held && !*pid)
		snprintf(pid, n, "?");
	close(fd);
	return held;
}

/* Brings the schema up to date, or refuses a file of a newer program. */
static int migrate(struct gb_db *db, struct gb_err *err)
{
	char pid[32];

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
	/* A daemon on the file that did not migrate it is older than this
	 * program, and would store rows as its schema was (006: without
	 * record.enterprise, so that they would not follow their
	 * enterprise). */
	if (v > 0 && v < gb_schema_client_n && !db->syncd &&
	    syncd_running(db->path, pid, sizeof(pid)))
		return gb_error(err, GB_EBUSY,
				_("grid file %s needs upgrading, but an older "
				  "gridbook-syncd (pid %s) is syncing it: "
				  "restart gridbook-syncd (the new one "
				  "upgrades it) and try again"),
				db->path, pid);
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
 *
 * Deleted content is zeroed in the pages a change writes anyway
 * (secure_delete=FAST), not in the pages it frees too: Debian builds
 * SQLite with secure_delete on, and then every ack, which frees the
 * outbox pages of its batch, wrote each of them once more, zeroed, and
 * journalled it first (40 % of a push's page writes).  What such a page
 * held is a copy of versions the file keeps in record and history.
 */
static int configure(struct gb_db *db, struct gb_err *err)
{
	if (db_exec(db,
		    "PRAGMA foreign_keys = OFF; PRAGMA synchronous = FULL; "
		    "PRAGMA secure_delete = FAST",
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
	db->syncd = !!(flags & DB_SYNCD);
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
	db_meta_cache_load(db);
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
	for (int i = 0; i < DB_KEY_STMT_MAX; i++)
		sqlite3_finalize(db->key_st[i]);
	sqlite3_close(db->sq);
	gb_buf_release(&db->body);
	gb_buf_release(&db->wire);
	free(db->ent_cache);
	free(db->cols);
	free(db->path);
	free(db);
}

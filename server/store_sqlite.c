/*
 * The embedded SQLite store of gridbook-hq (store.h).
 *
 * Durability (SPEC §5): the file is in WAL mode with synchronous=FULL, and
 * the SQLite of Debian 12 (3.40.1) has the WAL-reset race: a checkpoint
 * running in one connection while another connection commits a
 * transaction that restarts the WAL can lose pages.  So the server has
 * exactly one writing connection, which alone checkpoints (automatic
 * checkpoints are off; the writer checkpoints by hand when it has nothing
 * else to do, or when the WAL nears its bound), and its readers are read-only
 * connections that never checkpoint, not even on close
 * (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE).
 *
 * Commands (seed, device enroll ...) may write while a server runs.  To
 * keep them out of the race, a lock file beside the store ("PATH-hq.lock")
 * serialises the two: byte 0 is held by a running server for its life
 * (a second server on the same file is refused), and byte 1 is held by a
 * command for the length of each of its write transactions and by the
 * server for the length of each checkpoint.  A command never checkpoints
 * while a server holds the file (SQLite checkpoints on close only when the
 * closing connection is the last one).
 *
 * The locks are open file description locks (Linux F_OFD_SETLK): unlike
 * classic POSIX record locks they belong to the open file, not to the
 * process, so two stores opened in one process exclude each other too and
 * closing one does not drop the other's lock.
 *
 * The writer keeps its statements prepared for the life of the store;
 * readers prepare theirs per call.  Ids are kept as 16-byte BLOBs.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "audit_chain.h"
#include "crypto.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "log.h"
#include "ref_cache.h"
#include "schema.h"
#include "store.h"
#include "store_sqlite_facts.h"
#include "store_sqlite_int.h"
#include "xalloc.h"

#include "banned.h"

#define BUSY_MS 10000
#define POOL_MAX 8
/* When the writer is idle, checkpoint once the WAL holds this many pages
 * (4 MiB at 4 KiB, SQLite's own default), so that a quiet server keeps
 * its WAL small; while batches keep coming, only once it holds
 * CKPT_BUSY_FRAMES (64 MiB): a checkpoint copies the hot pages at the end
 * of the B-trees again each time, so fewer of them cost less per record,
 * but a longer WAL costs every page read that misses the cache a longer
 * search of the WAL index (at 1 GiB a push of a million records was no
 * faster). */
#define CKPT_IDLE_FRAMES 1000
#define CKPT_BUSY_FRAMES 16000
/* A PASSIVE checkpoint does not wait for readers, so under continuous
 * load (a viewer polling reports while devices push) it may never
 * catch up with the end of the WAL, and the WAL never restarts: past
 * this many pages (256 MiB) the writer waits for the readers (RESTART)
 * so that it does.  journal_size_limit then cuts the file back. */
#define CKPT_HARD_FRAMES 65536
/* The free space on the store's disk below which batches are refused
 * (store_ops.room), by default; and how often it is looked at. */
#define MARGIN_DEFAULT ((int64_t)256 << 20)
#define ROOM_EVERY_MS 100
/* A server keeps this much of its disk in a file beside the store
 * ("PATH-hq.reserve") while there is room, and gives it back when it
 * starts on a disk too full to open the store (its WAL index and a
 * first transaction need some), so that a store full at start still
 * starts, refuses batches and says why. */
#define RESERVE_BYTES ((int64_t)4 << 20)
#define BYTE_SERVER 0
#define BYTE_WRITE 1

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_BATCH_GET,
	S_BATCH_PUT,
	S_BATCH_HIGH,
	S_VERSION_GET,
	S_CURRENT_GET,
	S_HISTORY_PUT,
	S_CURRENT_PUT,
	S_CONFLICT_PUT,
	S_HISTORY_EACH,
	S_FCONF_DEL,
	S_FCONF_PUT,
	S_REJECTION_PUT,
	S_FIND_COMMUNITY,
	S_FIND_AREA,
	S_FIND_STAFF,
	S_FIND_RECORD,
	S_KNOWN_COMMUNITY,
	S_KNOWN_AREA,
	S_KNOWN_STAFF,
	S_KNOWN_RECORD,
	S_DEVICE_SEEN,
	S_AUDIT_PUT,
	S_AUDIT_LAST,
	S_AUDIT_CHAIN,
	S_REF_VERSION,
	S_REF_COMMUNITY,
	S_REF_AREA,
	S_REF_STAFF,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT batch",
    [S_RELEASE] = "RELEASE batch",
    [S_ROLLBACK_TO] = "ROLLBACK TO batch",
    [S_BATCH_GET] = "SELECT items_hash, ack FROM batch "
		    "WHERE device = ?1 AND seq = ?2",
    [S_BATCH_PUT] = "INSERT INTO batch (device, seq, items_hash, records, "
		    "ack, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_BATCH_HIGH] = "SELECT max(seq) FROM batch WHERE device = ?1",
    [S_VERSION_GET] = "SELECT content_hash FROM record_history "
		      "WHERE id = ?1 AND version = ?2 AND device = ?3",
    [S_CURRENT_GET] = "SELECT kind, version, device, grid, heads, "
		      "conflicts FROM record_current WHERE id = ?1",
    [S_HISTORY_PUT] = "INSERT INTO record_history (id, version, device, "
		      "kind, grid, content_hash, raw, received_at) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_CURRENT_PUT] =
	"INSERT OR REPLACE INTO record_current (id, kind, grid, "
	"device, staff, version, created_at, updated_at, voided, "
	"void_reason, day, community, person, status, body, heads, "
	"conflicts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	"?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_CONFLICT_PUT] = "INSERT OR IGNORE INTO conflict (id, version, "
		       "device, kind, grid, content_hash, raw, "
		       "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		       "?8)",
    [S_HISTORY_EACH] = "SELECT raw, received_at FROM record_history "
		       "WHERE id = ?1 ORDER BY version DESC, device DESC "
		       "LIMIT ?2",
    [S_FCONF_DEL] = "DELETE FROM field_conflict WHERE id = ?1",
    [S_FCONF_PUT] = "INSERT OR IGNORE INTO field_conflict (id, field, "
		    "kind, grid, kept_version, kept_device, kept_staff, "
		    "kept_value, lost_version, lost_device, lost_staff, "
		    "lost_value, detected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		    "?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [S_REJECTION_PUT] = "INSERT INTO rejection (device, batch_seq, id, "
			"version, code, reason, raw, received_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_FIND_COMMUNITY] = "SELECT code FROM community "
			 "WHERE code = ?1 AND grid = ?2",
    [S_FIND_AREA] = "SELECT room FROM police_area "
		    "WHERE code = ?1 AND grid = ?2",
    [S_FIND_STAFF] = "SELECT role FROM staff WHERE code = ?1 AND grid = ?2",
    [S_FIND_RECORD] = "SELECT json_extract(body, ?4) FROM record_current "
		      "WHERE id = ?1 AND kind = ?2 AND grid = ?3",
    [S_KNOWN_COMMUNITY] = "SELECT 1 FROM community WHERE code = ?1",
    [S_KNOWN_AREA] = "SELECT 1 FROM police_area WHERE code = ?1",
    [S_KNOWN_STAFF] = "SELECT 1 FROM staff WHERE code = ?1",
    [S_KNOWN_RECORD] = "SELECT 1 FROM record_current WHERE id = ?1",
    [S_DEVICE_SEEN] = "UPDATE device SET last_seen = ?2, pending = "
		      "iif(?3 >= 0, ?3, pending), oldest_pending = "
		      "iif(?3 >= 0, nullif(?4, 0), oldest_pending) "
		      "WHERE id = ?1",
    [S_AUDIT_PUT] = "INSERT INTO audit_log (at, device, grid, action, "
		    "status, detail, remote, seq) VALUES (?1, ?2, ?3, ?4, "
		    "?5, ?6, ?7, ?8)",
    [S_AUDIT_CHAIN] = "INSERT INTO audit_chain (seq, prev, hash) VALUES "
		      "(?1, ?2, ?3)",
    [S_AUDIT_LAST] = "SELECT l.seq, c.hash FROM audit_log l LEFT JOIN "
		     "audit_chain c USING (seq) ORDER BY l.seq DESC LIMIT 1",
    [S_REF_VERSION] = "SELECT value FROM meta WHERE key = 'ref_version'",
    /* The reference data of one grid, as S_FIND_* answer it. */
    [S_REF_COMMUNITY] = "SELECT code, code FROM community WHERE grid = ?1",
    [S_REF_AREA] = "SELECT code, room FROM police_area WHERE grid = ?1",
    [S_REF_STAFF] = "SELECT code, role FROM staff WHERE grid = ?1",
};

/* Kinds whose uniqueness statement find_key keeps, at most. */
#define KEY_STMT_MAX 32

struct sqlite_store {
	struct store base; /* first: a struct store * is one of these */
	enum store_mode mode;
	char *path;
	sqlite3 *db; /* the writer; in STORE_ADMIN mode the only one */
	sqlite3_stmt *stmt[S_COUNT];
	sqlite3_stmt *key_stmt[KEY_STMT_MAX]; /* find_key's, by kind */
	int lock_fd; /* PATH-hq.lock, or -1 for ":memory:" */
	/* Pages in the WAL after the last commit, not yet checkpointed as
	 * far as the writer knows; read by sq_room in any thread. */
	atomic_int wal_frames;
	int page_size;
	pthread_mutex_t pool_mu;
	sqlite3 *pool[POOL_MAX]; /* idle read-only connections */
	int npool;
	/* The ids the writer's statements bind (writer only). */
	struct sq_ids ids;
	/* The report facts, on the writer (store_sqlite_facts.c). */
	struct sqf facts;
	/* The reference data of the grids looked up so far (writer only),
	 * valid for ref_version of meta; ref_fresh is 1 once that version
	 * was checked in the current transaction. */
	struct ref_grid *refs;
	uint64_t ref_version;
	int ref_fresh;
	int ref_written; /* this transaction wrote reference data */
	/* The room on the store's disk (sq_room), any thread. */
	char *dir;		/* the directory of path */
	char *reserve;		/* PATH-hq.reserve (STORE_SERVE) */
	int64_t margin;		/* bytes */
	atomic_llong room_at;	/* ms (monotonic) of the last look */
	atomic_llong room_free; /* bytes free then, -1 when unknown */
};

static struct sqlite_store *impl(struct store *s)
{
	return (struct sqlite_store *)s;
}

/* what is marked with N_() and translated only here, on failure, so that
 * the statements of the hot path pay nothing for their messages. */
static int db_fail(sqlite3 *db, struct gb_err *err, const char *what)
{
	/* A full disk passes (sq_room then refuses batches until there is
	 * room): GB_EBUSY, a 503 that the device tries again. */
	if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL)
		return gb_error(err, GB_EBUSY,
				_("store: %s: the disk is full; try again "
				  "later"),
				_(what));
	return gb_error(err, GB_EDB, _("store: %s: %s"), _(what),
			sqlite3_errmsg(db));
}

/* Binds a UUID as 16 bytes; a string that is not a UUID is bound as text,
 * which then matches no BLOB key. */
static void bind_uuid(sqlite3_stmt *st, int i, const char *id)
{
	unsigned char b[16];

	if (id && gb_uuid_bytes(id, b) == 0)
		sqlite3_bind_blob(st, i, b, 16, SQLITE_TRANSIENT);
	else if (id)
		sqlite3_bind_text(st, i, id, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Column col of st as text into out[0..n), cut as snprintf would cut
 * it, without its format parsing (a record's kind and grid are read so
 * for every version with a current row). */
static void copy_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	size_t len;

	if (!n)
		return;
	len = v ? strnlen(v, n - 1) : 0;
	if (len)
		memcpy(out, v, len);
	out[len] = '\0';
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return xstrdup(v ? v : "");
}

/* The writer's cached statement, reset and unbound, or NULL with err. */
static sqlite3_stmt *stmt(struct sqlite_store *s, enum stmt_id id,
			  struct gb_err *err)
{
	sqlite3_stmt *st = s->stmt[id];

	if (!st) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
				       NULL) != SQLITE_OK) {
			db_fail(s->db, err, N_("preparing a statement"));
			return NULL;
		}
		st = s->stmt[id];
	}
	return st;
}

static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows; resets it. */
static int run(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
	       struct gb_err *err)
{
	int rc = sqlite3_step(st);

	stmt_done(st);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, what);
	return 0;
}

/* run for the statements of every version (history, current) whose
 * callers bind each of their parameters on every use: reset, but their
 * bindings left, never to be read again before they are bound anew
 * (clearing them was a tenth of binding them). */
static int run_bound(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
		     struct gb_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, what);
	return 0;
}

static int lock_byte(int fd, int byte, short type, int wait)
{
	struct flock fl;
	int rc;

	if (fd < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	fl.l_pid = 0;
	do
		rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
	while (rc < 0 && errno == EINTR && wait);
	return rc;
}

/* ---- transactions ---- */

static int sq_begin(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;

	if (s->mode == STORE_ADMIN &&
	    lock_byte(s->lock_fd, BYTE_WRITE, F_WRLCK, 1) < 0)
		return gb_error(err, GB_EIO, _("store: locking %s-hq.lock: %s"),
				s->path, strerror(errno));
	q = stmt(s, S_BEGIN, err);
	if (!q || run(s, q, N_("starting a transaction"), err) < 0) {
		if (s->mode == STORE_ADMIN)
			lock_byte(s->lock_fd, BYTE_WRITE, F_UNLCK, 0);
		return -1;
	}
	s->ref_fresh = 0;
	s->ref_written = 0;
	return 0;
}

static int sq_commit(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_COMMIT, err);
	int rc = q ? run(s, q, N_("committing"), err) : -1;

	if (rc < 0 && sqlite3_get_autocommit(s->db) == 0) {
		/* A failed COMMIT may leave the transaction open. */
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	s->ref_fresh = 0;
	s->ref_written = 0;
	if (s->mode == STORE_ADMIN)
		lock_byte(s->lock_fd, BYTE_WRITE, F_UNLCK, 0);
	return rc;
}

static void sq_rollback(struct store *st)
{
	struct sqlite_store *s = impl(st);

	if (sqlite3_get_autocommit(s->db) == 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->ref_fresh = 0;
	s->ref_written = 0;
	if (s->mode == STORE_ADMIN)
		lock_byte(s->lock_fd, BYTE_WRITE, F_UNLCK, 0);
}

static int sq_savepoint(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_SAVEPOINT, err);

	return q ? run(s, q, N_("opening a savepoint"), err) : -1;
}

static int sq_release(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_RELEASE, err);

	return q ? run(s, q, N_("releasing a savepoint"), err) : -1;
}

static int sq_rollback_to(struct store *st)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;

	/* Some errors (a full disk, an I/O error) make SQLite roll back the
	 * whole transaction by itself; then there is nothing to go back to. */
	if (sqlite3_get_autocommit(s->db))
		return -1;
	q = stmt(s, S_ROLLBACK_TO, NULL);
	if (!q || run(s, q, "rollback to", NULL) < 0)
		return -1;
	q = stmt(s, S_RELEASE, NULL);
	if (!q || run(s, q, "release", NULL) < 0)
		return -1;
	return 0;
}

/* ---- the schema ---- */

static int user_version(sqlite3 *db, int *out, struct gb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_fail(db, err, N_("reading the schema version"));
		goto out;
	}
	*out = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int audit_chain_fill(struct sqlite_store *s, struct gb_err *err);

static int sq_migrate(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	char sql[64];
	int v;

	if (sq_begin(st, err) < 0)
		return -1;
	if (user_version(s->db, &v, err) < 0)
		goto fail;
	if (v > gb_schema_server_n) {
		gb_error(err, GB_EDB,
			 _("store: %s has schema version %d, newer than this "
			   "program knows (%d)"),
			 s->path, v, gb_schema_server_n);
		goto fail;
	}
	for (; v < gb_schema_server_n; v++) {
		if (sqlite3_exec(s->db, gb_schema_server[v], NULL, NULL,
				 NULL) != SQLITE_OK) {
			db_fail(s->db, err, N_("applying the schema"));
			goto fail;
		}
		/* A PRAGMA takes no parameters; v is an int we control. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			db_fail(s->db, err, N_("applying the schema"));
			goto fail;
		}
	}
	if (audit_chain_fill(s, err) < 0)
		goto fail;
	return sq_commit(st, err);
fail:
	sq_rollback(st);
	return -1;
}

/* ---- batches and records ---- */

static int sq_batch_get(struct store *st, const char *device, uint64_t seq,
			unsigned char items_hash[STORE_HASH_LEN],
			struct gb_buf *ack, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_BATCH_GET, err);
	int rc;

	if (!q)
		return -1;
	sq_uuid_bind(&s->ids.dev, q, 1, device);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(q, 0);
		int hn = sqlite3_column_bytes(q, 0);

		memset(items_hash, 0, STORE_HASH_LEN);
		if (h && hn == STORE_HASH_LEN)
			memcpy(items_hash, h, STORE_HASH_LEN);
		if (ack &&
		    gb_buf_add(ack, sqlite3_column_blob(q, 1),
			       (size_t)sqlite3_column_bytes(q, 1), err) < 0) {
			stmt_done(q);
			return -1;
		}
		stmt_done(q);
		return 1;
	}
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, N_("reading a batch"));
	return 0;
}

static int sq_batch_put(struct store *st, const char *device, uint64_t seq,
			const unsigned char items_hash[STORE_HASH_LEN],
			size_t nrecords, const void *ack, size_t ack_len,
			int64_t received_at, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_BATCH_PUT, err);

	if (!q)
		return -1;
	sq_uuid_bind(&s->ids.dev, q, 1, device);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
	sqlite3_bind_blob(q, 3, items_hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)nrecords);
	sqlite3_bind_blob(q, 5, ack ? ack : "", (int)ack_len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, received_at);
	return run(s, q, N_("recording a batch"), err);
}

static int reader_get(struct sqlite_store *s, sqlite3 **out,
		      struct gb_err *err);
static void reader_put(struct sqlite_store *s, sqlite3 *db);
static sqlite3_stmt *reader_stmt(struct sqlite_store *s, sqlite3 *db,
				 const char *sql, struct gb_err *err);
static void reader_stmt_done(struct sqlite_store *s, sqlite3_stmt *q);

static int sq_batch_high(struct store *st, const char *device, int reader,
			 uint64_t *seq, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = NULL;
	sqlite3 *db = NULL;
	int rc;

	*seq = 0;
	if (!reader) {
		q = stmt(s, S_BATCH_HIGH, err);
		if (!q)
			return -1;
	} else {
		if (reader_get(s, &db, err) < 0)
			return -1;
		q = reader_stmt(s, db, stmt_sql[S_BATCH_HIGH], err);
		if (!q) {
			reader_put(s, db);
			return -1;
		}
	}
	bind_uuid(q, 1, device);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		*seq = (uint64_t)sqlite3_column_int64(q, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(reader ? db : s->db, err, N_("reading a batch"));
	if (reader) {
		reader_stmt_done(s, q);
		reader_put(s, db);
	} else {
		stmt_done(q);
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int sq_version_get(struct store *st, const char *id, uint64_t version,
			  const char *device,
			  unsigned char hash[STORE_HASH_LEN],
			  struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_VERSION_GET, err);
	int rc;

	if (!q)
		return -1;
	sq_uuid_bind(&s->ids.rec, q, 1, id);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)version);
	sq_uuid_bind(&s->ids.dev, q, 3, device);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(q, 0);

		memset(hash, 0, STORE_HASH_LEN);
		if (h && sqlite3_column_bytes(q, 0) == STORE_HASH_LEN)
			memcpy(hash, h, STORE_HASH_LEN);
		stmt_done(q);
		return 1;
	}
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, N_("reading a record version"));
	return 0;
}

static int sq_current_get(struct store *st, const char *id,
			  struct store_current *out, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_CURRENT_GET, err);
	int rc;

	if (!q)
		return -1;
	sq_uuid_bind(&s->ids.rec, q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		copy_col(q, 0, out->kind, sizeof(out->kind));
		out->version = (uint64_t)sqlite3_column_int64(q, 1);
		gb_uuid_text(sqlite3_column_blob(q, 2),
			     sqlite3_column_bytes(q, 2), out->device);
		copy_col(q, 3, out->grid, sizeof(out->grid));
		store_heads_parse((const char *)sqlite3_column_text(q, 4),
				  out->version, out);
		out->conflicts = sqlite3_column_int(q, 5);
		sqlite3_reset(q); /* its one parameter bound each time */
		return 1;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, N_("reading a record"));
	return 0;
}

/* Binds the columns history and conflict rows share: id, version, device,
 * kind, grid, content_hash, raw, received_at. */
static void bind_version(struct sqlite_store *s, sqlite3_stmt *q,
			 const struct store_version *v)
{
	const struct gb_record *r = v->rec;

	sq_uuid_bind(&s->ids.rec, q, 1, r->id);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)r->version);
	sq_uuid_bind(&s->ids.dev, q, 3, r->device);
	bind_text(q, 4, r->kind->name);
	bind_text(q, 5, r->grid);
	sqlite3_bind_blob(q, 6, v->hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(q, 7, v->raw ? v->raw : "", (int)v->raw_len,
			  SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, v->received_at);
}

static int sq_history_put(struct store *st, const struct store_version *v,
			  struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_HISTORY_PUT, err);

	if (!q)
		return -1;
	bind_version(s, q, v);
	return run_bound(s, q, N_("storing a record version"), err);
}

static int sq_conflict_put(struct store *st, const struct store_version *v,
			   struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_CONFLICT_PUT, err);

	if (!q)
		return -1;
	bind_version(s, q, v);
	return run_bound(s, q, N_("storing a conflict"), err);
}

static int sq_current_put(struct store *st, const struct store_version *v,
			  struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	const struct gb_record *r = v->rec;
	sqlite3_stmt *q = stmt(s, S_CURRENT_PUT, err);
	const char *heads;
	struct gb_buf b;
	int rc;

	if (!q)
		return -1;
	sq_uuid_bind(&s->ids.rec, q, 1, r->id);
	bind_text(q, 2, r->kind->name);
	bind_text(q, 3, r->grid);
	sq_uuid_bind(&s->ids.dev, q, 4, r->device);
	bind_text(q, 5, r->staff);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)r->version);
	sqlite3_bind_int64(q, 7, r->created_at);
	sqlite3_bind_int64(q, 8, r->updated_at);
	sqlite3_bind_int(q, 9, r->voided ? 1 : 0);
	bind_text(q, 10, r->void_reason);
	bind_text(q, 11, v->day);
	bind_text(q, 12, v->community);
	bind_text(q, 13, v->person);
	bind_text(q, 14, v->status);
	bind_text(q, 15, v->body ? v->body : "{}");
	/* The heads' text goes when b does: copied in. */
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	heads = store_heads_text(v, &b);
	if (heads)
		sqlite3_bind_text(q, 16, heads, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 16);
	sqlite3_bind_int(q, 17, v->conflicts);
	rc = run_bound(s, q, N_("storing the current version"), err);
	gb_buf_release(&b);
	return rc;
}

static int sq_history_each(struct store *st, const char *id, size_t limit,
			   int (*cb)(void *arg, const void *raw, size_t n,
				     int64_t received_at, struct gb_err *err),
			   void *arg, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_HISTORY_EACH, err);
	int step, rc = 0;

	if (!q)
		return -1;
	sq_uuid_bind(&s->ids.rec, q, 1, id);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)limit);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW || rc != 0)
			break;
		rc = cb(arg, sqlite3_column_blob(q, 0),
			(size_t)sqlite3_column_bytes(q, 0),
			sqlite3_column_int64(q, 1), err);
	}
	stmt_done(q);
	if (rc < 0)
		return -1;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(s->db, err, N_("reading a record's versions"));
	return 0;
}

static int sq_field_conflicts_put(struct store *st, const char *id,
				  const struct store_field_conflict *c,
				  size_t n, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_FCONF_DEL, err);

	if (!q)
		return -1;
	bind_uuid(q, 1, id);
	if (run(s, q, N_("storing field conflicts"), err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		q = stmt(s, S_FCONF_PUT, err);
		if (!q)
			return -1;
		bind_uuid(q, 1, c[i].id);
		bind_text(q, 2, c[i].field);
		bind_text(q, 3, c[i].kind);
		bind_text(q, 4, c[i].grid);
		sqlite3_bind_int64(q, 5, (sqlite3_int64)c[i].kept_version);
		bind_uuid(q, 6, c[i].kept_device);
		bind_text(q, 7, c[i].kept_staff ? c[i].kept_staff : "");
		bind_text(q, 8, c[i].kept_value);
		sqlite3_bind_int64(q, 9, (sqlite3_int64)c[i].lost_version);
		bind_uuid(q, 10, c[i].lost_device);
		bind_text(q, 11, c[i].lost_staff ? c[i].lost_staff : "");
		bind_text(q, 12, c[i].lost_value);
		sqlite3_bind_int64(q, 13, c[i].detected);
		if (run(s, q, N_("storing field conflicts"), err) < 0)
			return -1;
	}
	return 0;
}

static int sq_field_conflict_list(
    struct store *st, const char *grid, const struct store_conflict_key *after,
    size_t limit, int (*cb)(void *arg, const struct store_field_conflict *c),
    void *arg, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1, step = SQLITE_DONE, stop = 0;

	if (reader_get(s, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT f.id, f.field, f.kind, f.grid, "
			       "f.kept_version, f.kept_device, f.kept_staff, "
			       "f.kept_value, f.lost_version, f.lost_device, "
			       "f.lost_staff, f.lost_value, f.detected, "
			       "k.name, l.name FROM field_conflict f "
			       "LEFT JOIN staff k ON k.code = f.kept_staff "
			       "LEFT JOIN staff l ON l.code = f.lost_staff "
			       "WHERE (?1 IS NULL OR f.grid = ?1) AND (?2 IS "
			       "NULL OR (f.detected, f.id, f.field, "
			       "f.lost_version, f.lost_device) > (?2, ?3, ?4, "
			       "?5, ?6)) ORDER BY f.detected, f.id, f.field, "
			       "f.lost_version, f.lost_device LIMIT ?7",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	bind_text(q, 1, grid);
	if (after) {
		unsigned char id[16], dev[16];

		if (gb_uuid_bytes(after->id, id) < 0 ||
		    gb_uuid_bytes(after->lost_device, dev) < 0) {
			rc = gb_error(err, GB_EUSAGE,
				      _("not a field conflict's key"));
			goto out;
		}
		sqlite3_bind_int64(q, 2, after->detected);
		sqlite3_bind_blob(q, 3, id, 16, SQLITE_TRANSIENT);
		bind_text(q, 4, after->field);
		sqlite3_bind_int64(q, 5, (sqlite3_int64)after->lost_version);
		sqlite3_bind_blob(q, 6, dev, 16, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(q, 7, limit ? (sqlite3_int64)limit : -1);
	for (;;) {
		struct store_field_conflict c;
		char id[GB_ID_LEN], kd[GB_ID_LEN], ld[GB_ID_LEN];

		if (stop)
			break;
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		gb_uuid_text(sqlite3_column_blob(q, 0),
			     sqlite3_column_bytes(q, 0), id);
		gb_uuid_text(sqlite3_column_blob(q, 5),
			     sqlite3_column_bytes(q, 5), kd);
		gb_uuid_text(sqlite3_column_blob(q, 9),
			     sqlite3_column_bytes(q, 9), ld);
		c.id = id;
		c.field = (const char *)sqlite3_column_text(q, 1);
		c.kind = (const char *)sqlite3_column_text(q, 2);
		c.grid = (const char *)sqlite3_column_text(q, 3);
		c.kept_version = (uint64_t)sqlite3_column_int64(q, 4);
		c.kept_device = kd;
		c.kept_staff = (const char *)sqlite3_column_text(q, 6);
		c.kept_value = (const char *)sqlite3_column_text(q, 7);
		c.lost_version = (uint64_t)sqlite3_column_int64(q, 8);
		c.lost_device = ld;
		c.lost_staff = (const char *)sqlite3_column_text(q, 10);
		c.lost_value = (const char *)sqlite3_column_text(q, 11);
		c.detected = sqlite3_column_int64(q, 12);
		c.kept_name = (const char *)sqlite3_column_text(q, 13);
		c.lost_name = (const char *)sqlite3_column_text(q, 14);
		stop = cb(arg, &c) != 0;
	}
	if (!stop && step != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	db_fail(db, err, N_("reading field conflicts"));
out:
	sqlite3_finalize(q);
	reader_put(s, db);
	return rc;
}

static int sq_rejection_put(struct store *st, const struct store_rejection *r,
			    struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_REJECTION_PUT, err);

	if (!q)
		return -1;
	bind_uuid(q, 1, r->device);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)r->batch_seq);
	bind_text(q, 3, r->id ? r->id : "");
	sqlite3_bind_int64(q, 4, (sqlite3_int64)r->version);
	bind_text(q, 5, r->code);
	bind_text(q, 6, r->reason ? r->reason : "");
	if (r->raw)
		sqlite3_bind_blob(q, 7, r->raw, (int)r->raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, r->at);
	return run(s, q, N_("recording a rejection"), err);
}

/* Attribute names come from validate.c; only plain names are accepted so
 * that the JSON path built from them means what it says. */
static int attr_ok(const char *attr)
{
	if (!*attr || strlen(attr) > 48)
		return 0;
	for (const char *p = attr; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			return 0;
	return 1;
}

/*
 * The reference data of a grid in memory.  Validation looks up the
 * communities, police areas and staff a record names, several per
 * record; one SQL query each was a tenth of the server's work.  So the
 * writer loads a grid's units once and answers from memory for as long
 * as the ref_version of meta, which every change of reference data moves
 * (sq_ref_touch, by seed), stays the same: it is read once per
 * transaction, under the write lock, so a seed run by a command between
 * two transactions is seen by the next one.  A transaction that writes
 * reference data itself bypasses the cache until it ends.
 */
static void ref_cache_drop(struct sqlite_store *s)
{
	ref_cache_free(&s->refs);
}

/* Reads the units of one type of grid g into g. */
static int ref_cache_load_type(struct sqlite_store *s, struct ref_grid *g,
			       int t, enum stmt_id id, struct gb_err *err)
{
	sqlite3_stmt *q = stmt(s, id, err);
	int rc;

	if (!q)
		return -1;
	bind_text(q, 1, g->grid);
	for (;;) {
		rc = sqlite3_step(q);
		if (rc != SQLITE_ROW)
			break;
		ref_grid_add(g, t, (const char *)sqlite3_column_text(q, 0),
			     (const char *)sqlite3_column_text(q, 1));
	}
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, N_("looking up a reference"));
	ref_grid_sort(g, t);
	return 0;
}

/* The cached reference data of grid, loaded when missing, or NULL with
 * err. */
static struct ref_grid *ref_cache_grid(struct sqlite_store *s, const char *grid,
				       struct gb_err *err)
{
	static const enum stmt_id load[REF_NTYPES] = {
	    [REF_COMMUNITY] = S_REF_COMMUNITY,
	    [REF_AREA] = S_REF_AREA,
	    [REF_STAFF] = S_REF_STAFF,
	};
	struct ref_grid *g;

	if (!s->ref_fresh || sqlite3_get_autocommit(s->db)) {
		sqlite3_stmt *q = stmt(s, S_REF_VERSION, err);
		uint64_t v = 0;
		int rc;

		if (!q)
			return NULL;
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			v = (uint64_t)sqlite3_column_int64(q, 0);
		stmt_done(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			db_fail(s->db, err, N_("looking up a reference"));
			return NULL;
		}
		if (v != s->ref_version)
			ref_cache_drop(s);
		s->ref_version = v;
		s->ref_fresh = 1;
	}
	g = ref_cache_get(s->refs, grid);
	if (g)
		return g;
	g = ref_cache_new(&s->refs, grid);
	for (int t = 0; t < REF_NTYPES; t++)
		if (ref_cache_load_type(s, g, t, load[t], err) < 0) {
			ref_cache_drop(s);
			return NULL;
		}
	return g;
}

/* sq_find for a community, area or staff member of grid, from memory. */
static int ref_cache_find(struct sqlite_store *s, const char *grid, int t,
			  const char *key, const char *attr, char *out,
			  size_t n, struct gb_err *err)
{
	struct ref_grid *g = ref_cache_grid(s, grid, err);
	const struct ref_unit *u;

	if (!g)
		return -1;
	u = ref_grid_find(g, t, key);
	if (!u)
		return 0;
	/* Copied as snprintf would (cut to n - 1 bytes), for a tenth of
	 * its instructions: validation asks this several times a record. */
	if (attr && out && n) {
		size_t len = strlen(u->attr);

		if (len > n - 1)
			len = n - 1;
		memcpy(out, u->attr, len);
		out[len] = '\0';
	}
	return 1;
}

static int sq_ref_known(struct store *st, enum gb_ref ref, const char *key,
			int *known, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	enum stmt_id id;
	sqlite3_stmt *q;
	int rc;

	*known = 0;
	switch (ref) {
	case GB_REF_COMMUNITY:
		id = S_KNOWN_COMMUNITY;
		break;
	case GB_REF_AREA:
		id = S_KNOWN_AREA;
		break;
	case GB_REF_STAFF:
		id = S_KNOWN_STAFF;
		break;
	case GB_REF_ENTERPRISE:
	case GB_REF_CHECK:
		id = S_KNOWN_RECORD;
		break;
	default:
		return gb_error(err, GB_EINTERNAL,
				"store: lookup of an unknown reference type");
	}
	q = stmt(s, id, err);
	if (!q)
		return -1;
	if (id == S_KNOWN_RECORD)
		sq_uuid_bind(&s->ids.ref, q, 1, key);
	else
		bind_text(q, 1, key);
	rc = sqlite3_step(q);
	*known = rc == SQLITE_ROW;
	stmt_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s->db, err, N_("looking up a reference"));
	return 0;
}

static int sq_find(struct store *st, const char *grid, enum gb_ref ref,
		   const char *key, const char *attr, char *out, size_t n,
		   struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	char path[64];
	const char *kind = NULL;
	enum stmt_id id;
	sqlite3_stmt *q;
	int rc;

	if (attr && !attr_ok(attr))
		return gb_error(err, GB_EINTERNAL,
				"store: lookup of a bad attribute");
	if (!s->ref_written && grid && key) {
		if (ref == GB_REF_COMMUNITY)
			return ref_cache_find(s, grid, REF_COMMUNITY, key, attr,
					      out, n, err);
		if (ref == GB_REF_AREA)
			return ref_cache_find(s, grid, REF_AREA, key, attr, out,
					      n, err);
		if (ref == GB_REF_STAFF)
			return ref_cache_find(s, grid, REF_STAFF, key, attr,
					      out, n, err);
	}
	switch (ref) {
	case GB_REF_COMMUNITY:
		id = S_FIND_COMMUNITY;
		break;
	case GB_REF_AREA:
		id = S_FIND_AREA;
		break;
	case GB_REF_STAFF:
		id = S_FIND_STAFF;
		break;
	case GB_REF_ENTERPRISE:
		id = S_FIND_RECORD;
		kind = "enterprise";
		break;
	case GB_REF_CHECK:
		id = S_FIND_RECORD;
		kind = "contract_check";
		break;
	default:
		return gb_error(err, GB_EINTERNAL,
				"store: lookup of an unknown reference type");
	}
	q = stmt(s, id, err);
	if (!q)
		return -1;
	if (kind) {
		snprintf(path, sizeof(path), "$.%s", attr ? attr : "id");
		sq_uuid_bind(&s->ids.ref, q, 1, key);
		bind_text(q, 2, kind);
		bind_text(q, 3, grid);
		sqlite3_bind_text(q, 4, path, -1, SQLITE_TRANSIENT);
	} else {
		bind_text(q, 1, key);
		bind_text(q, 2, grid);
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		if (attr && out && n)
			copy_col(q, 0, out, n);
		stmt_done(q);
		return 1;
	}
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return db_fail(s->db, err, N_("looking up a reference"));
	return 0;
}

/* The key is matched by the JSON of the body with the paths written into
 * the statement (field names are the kinds table's, [a-z_]), so that an
 * index on the expression can serve it. */
static int sq_find_key(struct store *st, const struct gb_record *r,
		       char *holder, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	const struct gb_unique *u = &r->kind->unique;
	size_t k = (size_t)(r->kind - gb_kinds);
	sqlite3_stmt *q;
	int rc, n;

	for (n = 0; n < 3 && u->key[n]; n++)
		if (!gb_record_get(r, u->key[n]))
			return 0;
	if (n == 0)
		return 0;
	if (k >= KEY_STMT_MAX)
		return gb_error(err, GB_EINTERNAL, "store: kind %s past %d",
				r->kind->name, KEY_STMT_MAX);
	/* One statement a kind, prepared the first time it is needed and
	 * kept (ingest asks once per record of the kind). */
	if (!s->key_stmt[k]) {
		struct gb_buf sql;

		gb_buf_init(&sql, GB_BUF_NOLIMIT);
		gb_buf_adds(&sql,
			    "SELECT id FROM record_current WHERE grid = ?1 AND "
			    "voided = 0 AND id <> ?3",
			    NULL);
		/* The kind and the key's expression are written out as the
		 * partial index of schema/server/007 has them, so that it is
		 * used (they are the kinds table's identifiers, not input). */
		gb_buf_addf(&sql, NULL, " AND kind = '%s'", r->kind->name);
		for (int i = 0; i < n; i++)
			gb_buf_addf(&sql, NULL,
				    " AND CAST(json_extract(body, '$.%s') AS "
				    "TEXT) = ?%d",
				    u->key[i], 4 + i);
		gb_buf_adds(&sql, " LIMIT 1", NULL);
		rc = sqlite3_prepare_v3(s->db, gb_buf_str(&sql), -1,
					SQLITE_PREPARE_PERSISTENT,
					&s->key_stmt[k], NULL);
		gb_buf_release(&sql);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(s->key_stmt[k]);
			s->key_stmt[k] = NULL;
			return db_fail(s->db, err,
				       N_("looking up a reference"));
		}
	}
	q = s->key_stmt[k];
	bind_text(q, 1, r->grid);
	sq_uuid_bind(&s->ids.rec, q, 3, r->id);
	for (int i = 0; i < n; i++)
		bind_text(q, 4 + i, gb_record_get(r, u->key[i]));
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		gb_uuid_text(sqlite3_column_blob(q, 0),
			     sqlite3_column_bytes(q, 0), holder);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_fail(s->db, err, N_("looking up a reference"));
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

/* ---- reference data ---- */

struct ref_table {
	const char *upsert;
	int ncols;
	unsigned int_cols;   /* bit i: column i is an integer */
	unsigned null_empty; /* bit i: an empty column i is NULL */
	/* Parents that must exist: column index, query, what to call it. */
	struct {
		int col;
		const char *sql;
		const char *what;
	} parent[2];
};

#define UPD(c) c " IS NOT excluded." c

/* The SQL below is laid out by hand: clang-format 14 splits the column
 * names of UPD() into pieces. */
/* clang-format off */
static const struct ref_table ref_tables[] = {
	[STORE_T_DISTRICT] = {
		"INSERT INTO district (code, name) VALUES (?1, ?2) "
		"ON CONFLICT (code) DO UPDATE SET name = excluded.name "
		"WHERE " UPD("name"),
		2, 0, 0, {{-1, NULL, NULL}, {-1, NULL, NULL}}},
	[STORE_T_STREET] = {
		"INSERT INTO street (code, name) VALUES (?1, ?2) "
		"ON CONFLICT (code) DO UPDATE SET name = excluded.name "
		"WHERE " UPD("name"),
		2, 0, 0, {{-1, NULL, NULL}, {-1, NULL, NULL}}},
	[STORE_T_GRID] = {
		"INSERT INTO grid (code, street, name) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (code) DO UPDATE SET street = excluded.street, "
		"name = excluded.name WHERE " UPD("street") " OR " UPD("name"),
		3, 0, 0,
		{{1, "SELECT 1 FROM street WHERE code = ?1", N_("street")},
		 {-1, NULL, NULL}}},
	[STORE_T_COMMUNITY] = {
		"INSERT INTO community (code, grid, name, population, "
		"criminal_cases, patrol_team) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (code) DO UPDATE SET grid = excluded.grid, "
		"name = excluded.name, population = excluded.population, "
		"criminal_cases = excluded.criminal_cases, "
		"patrol_team = excluded.patrol_team WHERE " UPD("grid")
		" OR " UPD("name") " OR " UPD("population") " OR "
		UPD("criminal_cases") " OR " UPD("patrol_team"),
		6, 1u << 3 | 1u << 4 | 1u << 5, 0,
		{{1, "SELECT 1 FROM grid WHERE code = ?1", N_("grid")},
		 {-1, NULL, NULL}}},
	[STORE_T_AREA] = {
		"INSERT INTO police_area (code, grid, name, room) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (code) DO UPDATE SET "
		"grid = excluded.grid, name = excluded.name, "
		"room = excluded.room WHERE " UPD("grid") " OR " UPD("name")
		" OR " UPD("room"),
		4, 0, 0,
		{{1, "SELECT 1 FROM grid WHERE code = ?1", N_("grid")},
		 {-1, NULL, NULL}}},
	[STORE_T_AREA_COMMUNITY] = {
		"INSERT OR IGNORE INTO area_community (area, community) "
		"VALUES (?1, ?2)",
		2, 0, 0,
		{{0, "SELECT 1 FROM police_area WHERE code = ?1",
		  N_("police area")},
		 {1, "SELECT 1 FROM community WHERE code = ?1",
		  N_("community")}}},
	[STORE_T_STAFF] = {
		"INSERT INTO staff (code, name, role, grid, area) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (code) DO UPDATE SET "
		"name = excluded.name, role = excluded.role, "
		"grid = excluded.grid, area = excluded.area WHERE "
		UPD("name") " OR " UPD("role") " OR " UPD("grid") " OR "
		UPD("area"),
		5, 0, 1u << 4,
		{{3, "SELECT 1 FROM grid WHERE code = ?1", N_("grid")},
		 {4, "SELECT 1 FROM police_area WHERE code = ?1",
		  N_("police area")}}},
};
/* clang-format on */

/* 1 when the one-parameter query finds a row for key. */
static int exists(sqlite3 *db, const char *sql, const char *key,
		  struct gb_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("preparing a statement"));
		goto out;
	}
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		rc = 1;
	else if (step == SQLITE_DONE)
		rc = 0;
	else
		db_fail(db, err, N_("looking up a reference"));
out:
	sqlite3_finalize(q);
	return rc;
}

static int sq_ref_put(struct store *st, enum store_table t,
		      const char *const *cols, int *changed, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	const struct ref_table *rt;
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if ((unsigned)t >= sizeof(ref_tables) / sizeof(ref_tables[0]))
		return gb_error(err, GB_EINTERNAL, "store: no such table");
	rt = &ref_tables[t];
	*changed = 0;
	ref_cache_drop(s);
	s->ref_written = 1;
	for (int p = 0; p < 2; p++) {
		const char *key;
		int found;

		if (rt->parent[p].col < 0)
			continue;
		key = cols[rt->parent[p].col];
		if (!key || !*key)
			continue;
		found = exists(s->db, rt->parent[p].sql, key, err);
		if (found < 0)
			return -1;
		if (!found)
			return gb_error(err, GB_ENOTFOUND,
					_("%s \"%s\" is not known"),
					_(rt->parent[p].what), key);
	}
	if (sqlite3_prepare_v2(s->db, rt->upsert, -1, &q, NULL) != SQLITE_OK) {
		db_fail(s->db, err, N_("preparing a statement"));
		goto out;
	}
	for (int i = 0; i < rt->ncols; i++) {
		const char *v = cols[i] ? cols[i] : "";

		if ((rt->null_empty >> i & 1) && !*v)
			sqlite3_bind_null(q, i + 1);
		else if (rt->int_cols >> i & 1)
			sqlite3_bind_int64(q, i + 1, strtoll(v, NULL, 10));
		else
			sqlite3_bind_text(q, i + 1, v, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s->db, err, N_("storing reference data"));
		goto out;
	}
	*changed = sqlite3_changes(s->db) > 0;
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

static int sq_ref_touch(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);

	ref_cache_drop(s);
	s->ref_written = 1;
	if (sqlite3_exec(s->db,
			 "UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
			 "WHERE key = 'ref_version'",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s->db, err, N_("marking reference data"));
	return 0;
}

static int sq_grid_exists(struct store *st, const char *grid,
			  struct gb_err *err)
{
	return exists(impl(st)->db, "SELECT 1 FROM grid WHERE code = ?1", grid,
		      err);
}

/* ---- read connections ---- */

static int reader_get(struct sqlite_store *s, sqlite3 **out, struct gb_err *err)
{
	sqlite3 *db = NULL;

	if (s->mode == STORE_ADMIN) {
		*out = s->db;
		return 0;
	}
	pthread_mutex_lock(&s->pool_mu);
	if (s->npool > 0)
		db = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_mu);
	if (db) {
		*out = db;
		return 0;
	}
	if (sqlite3_open_v2(s->path, &db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, _("store: opening %s to read: %s"),
			 s->path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_busy_timeout(db, BUSY_MS);
	*out = db;
	return 0;
}

/* Closes a read connection and the statements it kept. */
static void reader_close(sqlite3 *db)
{
	sqlite3_stmt *q;

	if (!db)
		return;
	for (q = sqlite3_next_stmt(db, NULL); q;
	     q = sqlite3_next_stmt(db, NULL))
		sqlite3_finalize(q);
	sqlite3_close(db);
}

static void reader_put(struct sqlite_store *s, sqlite3 *db)
{
	if (s->mode == STORE_ADMIN || !db)
		return;
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_lock(&s->pool_mu);
	if (s->npool < POOL_MAX) {
		s->pool[s->npool++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&s->pool_mu);
	reader_close(db);
}

/*
 * The statement sql on the read connection db, prepared once and kept by
 * the connection while it stays in the pool: the lookups of every batch
 * and every page of changes (the device by its token, its high-water
 * batch, the page's rows) were parsed and planned afresh each time, a
 * few per cent of HQ's CPU in a district's sync.  In admin mode db is
 * the store's own connection, whose statements stay its own: the
 * statement is prepared for the one use.  Give it back with
 * reader_stmt_done(); NULL with err when it cannot be prepared.
 */
static sqlite3_stmt *reader_stmt(struct sqlite_store *s, sqlite3 *db,
				 const char *sql, struct gb_err *err)
{
	sqlite3_stmt *q = NULL;

	if (s->mode != STORE_ADMIN)
		for (q = sqlite3_next_stmt(db, NULL); q;
		     q = sqlite3_next_stmt(db, q))
			if (!sqlite3_stmt_busy(q) &&
			    strcmp(sqlite3_sql(q), sql) == 0)
				return q;
	if (sqlite3_prepare_v3(
		db, sql, -1,
		s->mode != STORE_ADMIN ? SQLITE_PREPARE_PERSISTENT : 0, &q,
		NULL) != SQLITE_OK) {
		db_fail(db, err, N_("preparing a statement"));
		sqlite3_finalize(q);
		return NULL;
	}
	return q;
}

/* Makes a statement of reader_stmt() ready for its next use, or
 * finalizes it in admin mode. */
static void reader_stmt_done(struct sqlite_store *s, sqlite3_stmt *q)
{
	if (!q)
		return;
	if (s->mode == STORE_ADMIN) {
		sqlite3_finalize(q);
		return;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* ---- devices and the audit log ---- */

static int sq_device_put(struct store *st, const struct store_device *d,
			 const unsigned char token_hash[STORE_HASH_LEN],
			 struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO device (id, grid, role, name, "
			       "token_hash, created_at) VALUES (?1, ?2, ?3, "
			       "?4, ?5, ?6)",
			       -1, &q, NULL) != SQLITE_OK) {
		db_fail(s->db, err, N_("preparing a statement"));
		goto out;
	}
	bind_uuid(q, 1, d->id);
	bind_text(q, 2, d->grid);
	bind_text(q, 3, d->role);
	bind_text(q, 4, d->name);
	sqlite3_bind_blob(q, 5, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, d->created_at);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s->db, err, N_("enrolling a device"));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

#define DEVICE_COLS "id, grid, role, name, revoked, created_at, last_seen"

static void device_row(sqlite3_stmt *q, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	gb_uuid_text(sqlite3_column_blob(q, 0), sqlite3_column_bytes(q, 0),
		     d->id);
	copy_col(q, 1, d->grid, sizeof(d->grid));
	copy_col(q, 2, d->role, sizeof(d->role));
	copy_col(q, 3, d->name, sizeof(d->name));
	d->revoked = sqlite3_column_int(q, 4);
	d->created_at = sqlite3_column_int64(q, 5);
	d->last_seen = sqlite3_column_int64(q, 6);
}

static int sq_device_by_token(struct store *st,
			      const unsigned char token_hash[STORE_HASH_LEN],
			      struct store_device *out, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (reader_get(s, &db, err) < 0)
		return -1;
	q = reader_stmt(
	    s, db, "SELECT " DEVICE_COLS " FROM device WHERE token_hash = ?1",
	    err);
	if (!q)
		goto out;
	sqlite3_bind_blob(q, 1, token_hash, STORE_HASH_LEN, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		device_row(q, out);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		db_fail(db, err, N_("looking up a device"));
	}
out:
	reader_stmt_done(s, q);
	reader_put(s, db);
	return rc;
}

static int sq_device_revoke(struct store *st, const char *id, int64_t at,
			    struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db,
			       "UPDATE device SET revoked = 1, revoked_at = "
			       "coalesce(revoked_at, ?2) WHERE id = ?1",
			       -1, &q, NULL) != SQLITE_OK) {
		db_fail(s->db, err, N_("preparing a statement"));
		goto out;
	}
	bind_uuid(q, 1, id);
	sqlite3_bind_int64(q, 2, at);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s->db, err, N_("revoking a device"));
		goto out;
	}
	if (sqlite3_changes(s->db) == 0) {
		gb_error(err, GB_ENOTFOUND, _("no device %s"), id);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

static int sq_device_seen(struct store *st, const char *id, int64_t at,
			  int64_t pending, int64_t oldest, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q = stmt(s, S_DEVICE_SEEN, err);

	if (!q)
		return -1;
	bind_uuid(q, 1, id);
	sqlite3_bind_int64(q, 2, at);
	sqlite3_bind_int64(q, 3, pending);
	sqlite3_bind_int64(q, 4, oldest);
	return run(s, q, N_("updating a device"), err);
}

static int sq_device_list(struct store *st,
			  int (*cb)(void *arg, const struct store_device *d),
			  void *arg, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	struct store_device d;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (reader_get(s, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT " DEVICE_COLS
			       " FROM device ORDER BY created_at, id",
			       -1, &q, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("preparing a statement"));
		goto out;
	}
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		device_row(q, &d);
		if (cb(arg, &d) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_fail(db, err, N_("listing devices"));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	reader_put(s, db);
	return rc;
}

/* ---- the audit log's hash chain ---- */

#define AUDIT_HASH_LEN AUDIT_CHAIN_HASH_LEN

/* Reads the entry of a row of "SELECT seq, at, device, grid, action,
 * status, detail, remote, prev, hash" (borrowed from the statement). */
static void audit_row_read(sqlite3_stmt *q, struct audit_chain_entry *r)
{
	r->seq = sqlite3_column_int64(q, 0);
	r->at = sqlite3_column_int64(q, 1);
	r->device = sqlite3_column_blob(q, 2);
	r->device_len = (size_t)sqlite3_column_bytes(q, 2);
	r->grid = (const char *)sqlite3_column_text(q, 3);
	r->action = (const char *)sqlite3_column_text(q, 4);
	r->status = sqlite3_column_int(q, 5);
	r->detail = (const char *)sqlite3_column_text(q, 6);
	r->remote = (const char *)sqlite3_column_text(q, 7);
}

#define AUDIT_COLS                                                             \
	"l.seq, l.at, l.device, l.grid, l.action, l.status, l.detail, "        \
	"l.remote, c.prev, c.hash FROM audit_log l LEFT JOIN audit_chain c "   \
	"USING (seq)"

/* Gives the entries that have no hash yet (written before the chain,
 * schema/server/005) theirs, in order, in the open transaction. */
static int audit_chain_fill(struct sqlite_store *s, struct gb_err *err)
{
	unsigned char prev[AUDIT_HASH_LEN] = {0}, h[AUDIT_HASH_LEN];
	sqlite3_stmt *q = NULL, *up = NULL;
	int rc = -1, step, any = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT EXISTS (SELECT 1 FROM audit_log l WHERE "
			       "NOT EXISTS (SELECT 1 FROM audit_chain c WHERE "
			       "c.seq = l.seq))",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW)
		goto fail;
	any = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (!any)
		return 0;
	if (sqlite3_prepare_v2(s->db, "SELECT " AUDIT_COLS " ORDER BY l.seq",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO audit_chain (seq, prev, hash) "
			       "VALUES (?1, ?2, ?3)",
			       -1, &up, NULL) != SQLITE_OK)
		goto fail;
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		struct audit_chain_entry r;

		if (sqlite3_column_type(q, 9) != SQLITE_NULL &&
		    sqlite3_column_bytes(q, 9) == AUDIT_HASH_LEN) {
			memcpy(prev, sqlite3_column_blob(q, 9), AUDIT_HASH_LEN);
			continue;
		}
		audit_row_read(q, &r);
		audit_chain_hash(prev, &r, h);
		sqlite3_bind_int64(up, 1, r.seq);
		sqlite3_bind_blob(up, 2, prev, AUDIT_HASH_LEN,
				  SQLITE_TRANSIENT);
		sqlite3_bind_blob(up, 3, h, AUDIT_HASH_LEN, SQLITE_TRANSIENT);
		if (sqlite3_step(up) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(up);
		memcpy(prev, h, AUDIT_HASH_LEN);
	}
	if (step != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	db_fail(s->db, err, N_("sealing the audit log"));
out:
	sqlite3_finalize(q);
	sqlite3_finalize(up);
	return rc;
}

static int sq_audit_put(struct store *st, const struct store_audit *a,
			struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *last = stmt(s, S_AUDIT_LAST, err);
	sqlite3_stmt *q;
	unsigned char prev[AUDIT_HASH_LEN] = {0}, h[AUDIT_HASH_LEN], dev[16];
	struct audit_chain_entry r = {
	    .at = a->at,
	    .grid = a->grid ? a->grid : "",
	    .action = a->action,
	    .status = a->status,
	    .detail = a->detail ? a->detail : "",
	    .remote = a->remote ? a->remote : "",
	};
	int step;

	if (!last)
		return -1;
	step = sqlite3_step(last);
	if (step == SQLITE_ROW) {
		r.seq = sqlite3_column_int64(last, 0) + 1;
		if (sqlite3_column_bytes(last, 1) == AUDIT_HASH_LEN)
			memcpy(prev, sqlite3_column_blob(last, 1),
			       AUDIT_HASH_LEN);
	} else {
		r.seq = 1;
	}
	stmt_done(last);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(s->db, err, N_("writing the audit log"));
	/* The device as bind_uuid stores it. */
	if (a->device && gb_uuid_bytes(a->device, dev) == 0) {
		r.device = dev;
		r.device_len = sizeof(dev);
	} else if (a->device) {
		r.device = a->device;
		r.device_len = strlen(a->device);
	}
	audit_chain_hash(prev, &r, h);
	q = stmt(s, S_AUDIT_PUT, err);
	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, a->at);
	bind_uuid(q, 2, a->device);
	bind_text(q, 3, r.grid);
	bind_text(q, 4, a->action);
	sqlite3_bind_int(q, 5, a->status);
	bind_text(q, 6, r.detail);
	bind_text(q, 7, r.remote);
	sqlite3_bind_int64(q, 8, r.seq);
	if (run(s, q, N_("writing the audit log"), err) < 0)
		return -1;
	q = stmt(s, S_AUDIT_CHAIN, err);
	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, r.seq);
	sqlite3_bind_blob(q, 2, prev, AUDIT_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(q, 3, h, AUDIT_HASH_LEN, SQLITE_TRANSIENT);
	return run(s, q, N_("writing the audit log"), err);
}

static int sq_audit_verify(struct store *st, long *n, char *head,
			   size_t head_len, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	unsigned char prev[AUDIT_HASH_LEN] = {0}, h[AUDIT_HASH_LEN];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t last = 0;
	int rc = -1, step;

	*n = 0;
	if (reader_get(s, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_COLS " ORDER BY l.seq", -1,
			       &q, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("reading the audit log"));
		goto out;
	}
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		struct audit_chain_entry r;

		audit_row_read(q, &r);
		if (r.seq != last + 1 && last == 0) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": is the first; the "
				   "entries before it were deleted"),
				 r.seq);
			rc = 1;
			goto out;
		}
		if (r.seq != last + 1) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": follows entry "
				   "%" PRId64 "; the entries between were "
				   "deleted"),
				 r.seq, last);
			rc = 1;
			goto out;
		}
		if (sqlite3_column_bytes(q, 8) != AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(q, 8), prev, AUDIT_HASH_LEN)) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": does not hold the "
				   "hash of entry %" PRId64 " before it; an "
				   "entry was deleted or rewritten"),
				 r.seq, last);
			rc = 1;
			goto out;
		}
		audit_chain_hash(prev, &r, h);
		if (sqlite3_column_bytes(q, 9) != AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(q, 9), h, AUDIT_HASH_LEN)) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": its content does "
				   "not match its hash; it was edited"),
				 r.seq);
			rc = 1;
			goto out;
		}
		memcpy(prev, h, AUDIT_HASH_LEN);
		last = r.seq;
		(*n)++;
	}
	if (step != SQLITE_DONE) {
		db_fail(db, err, N_("reading the audit log"));
		goto out;
	}
	/* A chain entry past the last entry: the end was cut off. */
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(
		db, "SELECT min(seq) FROM audit_chain WHERE seq > ?1", -1, &q,
		NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 1, last) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		db_fail(db, err, N_("reading the audit log"));
		goto out;
	}
	if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
		gb_error(err, GB_EINVAL,
			 _("audit entry %" PRId64 ": deleted (its hash is "
			   "still in the chain)"),
			 (int64_t)sqlite3_column_int64(q, 0));
		rc = 1;
		goto out;
	}
	gb_hex(head, head_len, prev,
	       head_len / 2 < AUDIT_HASH_LEN ? head_len / 2 : AUDIT_HASH_LEN);
	rc = 0;
out:
	sqlite3_finalize(q);
	reader_put(s, db);
	return rc;
}

static int sq_audit_list(struct store *st, long limit,
			 int (*cb)(void *arg, const struct store_audit *a),
			 void *arg, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (reader_get(s, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT at, device, grid, action, status, "
			       "detail, remote FROM (SELECT * FROM audit_log "
			       "ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
			       -1, &q, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("preparing a statement"));
		goto out;
	}
	sqlite3_bind_int64(q, 1, limit > 0 ? limit : -1);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		char dev[GB_ID_LEN];
		struct store_audit a = {
		    sqlite3_column_int64(q, 0),
		    dev,
		    (const char *)sqlite3_column_text(q, 2),
		    (const char *)sqlite3_column_text(q, 3),
		    sqlite3_column_int(q, 4),
		    (const char *)sqlite3_column_text(q, 5),
		    (const char *)sqlite3_column_text(q, 6),
		};

		gb_uuid_text(sqlite3_column_blob(q, 1),
			     sqlite3_column_bytes(q, 1), dev);
		if (!dev[0])
			a.device = NULL;
		if (cb(arg, &a) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_fail(db, err, N_("reading the audit log"));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	reader_put(s, db);
	return rc;
}

static int sq_versions_outside(struct store *st, uint64_t lo, uint64_t hi,
			       int (*cb)(void *arg, const char *grid,
					 const char *id, const char *device,
					 uint64_t version, int current),
			       void *arg, struct gb_err *err)
{
	/* ?1 and ?2 are below 2^63; a version stored negative is below ?1. */
	static const char sql[] =
	    "SELECT c.grid, c.id, c.device, c.version, 1 FROM record_current c "
	    "WHERE c.version < ?1 OR c.version > ?2 UNION ALL "
	    "SELECT h.grid, h.id, h.device, h.version, 0 FROM record_history h "
	    "WHERE (h.version < ?1 OR h.version > ?2) AND NOT EXISTS (SELECT 1 "
	    "FROM record_current c WHERE c.id = h.id AND c.version = h.version "
	    "AND c.device = h.device) ORDER BY 1, 2, 4";
	struct sqlite_store *s = impl(st);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (lo > (uint64_t)INT64_MAX || hi > (uint64_t)INT64_MAX)
		return gb_error(err, GB_EINTERNAL, "bounds of 2^63 or more");
	if (reader_get(s, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("preparing a statement"));
		goto out;
	}
	sqlite3_bind_int64(q, 1, (sqlite3_int64)lo);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)hi);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		char id[GB_ID_LEN], dev[GB_ID_LEN];

		gb_uuid_text(sqlite3_column_blob(q, 1),
			     sqlite3_column_bytes(q, 1), id);
		gb_uuid_text(sqlite3_column_blob(q, 2),
			     sqlite3_column_bytes(q, 2), dev);
		if (cb(arg, (const char *)sqlite3_column_text(q, 0), id, dev,
		       (uint64_t)sqlite3_column_int64(q, 3),
		       sqlite3_column_int(q, 4)) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_fail(db, err, N_("reading the record versions"));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	reader_put(s, db);
	return rc;
}

/* ---- /v1/changes ---- */

void store_changes_release(struct store_changes *c)
{
	struct wire_page *p = &c->page;

	for (size_t i = 0; p->raw && i < p->n; i++)
		free(p->raw[i]);
	free(p->raw);
	free(p->raw_len);
	p->raw = NULL;
	p->raw_len = NULL;
	wire_page_release(p);
	memset(c, 0, sizeof(*c));
}

/* Grows an array of elements of size sz holding n to room for n + 1. */
static void *grow(void *p, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(p, *cap * sz);
}

static int load_ref(sqlite3 *db, const char *grid, struct wire_page *p,
		    struct gb_err *err)
{
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db,
			       "SELECT c.code, c.name, g.street, c.grid, "
			       "c.population, c.criminal_cases, c.patrol_team "
			       "FROM community c JOIN grid g ON g.code = "
			       "c.grid WHERE c.grid = ?1 ORDER BY c.code",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		struct wire_community *m;

		p->communities =
		    grow(p->communities, p->ncommunities, &cap, sizeof(*m));
		m = &p->communities[p->ncommunities++];
		memset(m, 0, sizeof(*m));
		copy_col(q, 0, m->code, sizeof(m->code));
		m->name = dup_col(q, 1);
		copy_col(q, 2, m->street, sizeof(m->street));
		copy_col(q, 3, m->grid, sizeof(m->grid));
		m->population = sqlite3_column_int64(q, 4);
		m->criminal_cases = sqlite3_column_int64(q, 5);
		m->patrol_team = sqlite3_column_int64(q, 6);
	}
	if (step != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(q);
	q = NULL;

	cap = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT code, name, grid, room FROM police_area "
			       "WHERE grid = ?1 ORDER BY code",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		struct wire_area *a;

		p->areas = grow(p->areas, p->nareas, &cap, sizeof(*a));
		a = &p->areas[p->nareas++];
		memset(a, 0, sizeof(*a));
		copy_col(q, 0, a->code, sizeof(a->code));
		a->name = dup_col(q, 1);
		copy_col(q, 2, a->grid, sizeof(a->grid));
		a->room = dup_col(q, 3);
	}
	if (step != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(q);
	q = NULL;

	if (sqlite3_prepare_v2(db,
			       "SELECT ac.area, ac.community FROM "
			       "area_community ac JOIN police_area a ON "
			       "a.code = ac.area WHERE a.grid = ?1 "
			       "ORDER BY ac.area, ac.community",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		const char *area = (const char *)sqlite3_column_text(q, 0);

		for (size_t i = 0; area && i < p->nareas; i++) {
			struct wire_area *a = &p->areas[i];

			if (strcmp(a->code, area) != 0)
				continue;
			a->communities =
			    xrealloc(a->communities,
				     (a->ncommunities + 1) * sizeof(char *));
			a->communities[a->ncommunities++] = dup_col(q, 1);
			break;
		}
	}
	if (step != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(q);
	q = NULL;

	cap = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT code, name, role, grid, "
			       "coalesce(area, '') FROM staff WHERE grid = ?1 "
			       "ORDER BY code",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		struct wire_staff *m;

		p->staff = grow(p->staff, p->nstaff, &cap, sizeof(*m));
		m = &p->staff[p->nstaff++];
		memset(m, 0, sizeof(*m));
		copy_col(q, 0, m->code, sizeof(m->code));
		m->name = dup_col(q, 1);
		copy_col(q, 2, m->role, sizeof(m->role));
		copy_col(q, 3, m->grid, sizeof(m->grid));
		copy_col(q, 4, m->area, sizeof(m->area));
	}
	if (step != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	db_fail(db, err, N_("reading reference data"));
out:
	sqlite3_finalize(q);
	return rc;
}

static int load_records(struct sqlite_store *s, sqlite3 *db, const char *grid,
			uint64_t seq, const char *exclude, size_t limit,
			size_t max_bytes, struct store_changes *c,
			struct gb_err *err)
{
	struct wire_page *p = &c->page;
	sqlite3_stmt *q = NULL;
	size_t cap = 0, bytes = 0, rows = 0;
	int rc = -1, step;

	q = reader_stmt(s, db,
			"SELECT seq, raw FROM record_history WHERE grid = ?1 "
			"AND seq > ?2 AND device IS NOT ?3 ORDER BY seq "
			"LIMIT ?4",
			err);
	if (!q)
		return -1;
	sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
	bind_uuid(q, 3, exclude);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)limit + 1);
	c->next_seq = seq;
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		size_t n = (size_t)sqlite3_column_bytes(q, 1);

		if (p->n == limit || (p->n > 0 && bytes + n > max_bytes)) {
			p->more = 1;
			break;
		}
		rows++;
		if (n > WIRE_MAX_RECORD) {
			/* Taken in before records had a size cap: no device
			 * could read a page holding it, so the grid's pull
			 * would stop here for good.  It is passed over, and
			 * the cursor moves on. */
			c->next_seq = (uint64_t)sqlite3_column_int64(q, 0);
			log_warnx("changes of grid %s: the version at change "
				  "%" PRIu64 " is %zu bytes, over the limit "
				  "of %u bytes a record; skipped",
				  grid, c->next_seq, n, WIRE_MAX_RECORD);
			continue;
		}
		if (p->n == cap) {
			cap = cap ? cap * 2 : 16;
			p->raw = xrealloc(p->raw, cap * sizeof(*p->raw));
			p->raw_len =
			    xrealloc(p->raw_len, cap * sizeof(*p->raw_len));
			/* wire_page_release frees recs[i]: all NULL here. */
			p->recs = xrealloc(p->recs, cap * sizeof(*p->recs));
		}
		p->raw[p->n] = xmalloc(n ? n : 1);
		if (n)
			memcpy(p->raw[p->n], sqlite3_column_blob(q, 1), n);
		p->raw_len[p->n] = n;
		p->recs[p->n] = NULL;
		p->n++;
		bytes += n;
		c->next_seq = (uint64_t)sqlite3_column_int64(q, 0);
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto fail;
	/* Every row the query gave was read, some of them skipped: there
	 * may be more after them. */
	if (rows > limit)
		p->more = 1;
	reader_stmt_done(s, q);
	q = NULL;
	if (!p->more) {
		/* What is left are the caller's own versions: move past them
		 * so they are not scanned again. */
		q = reader_stmt(s, db,
				"SELECT max(seq) FROM record_history WHERE "
				"grid = ?1",
				err);
		if (!q)
			return -1;
		sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_ROW)
			goto fail;
		if (sqlite3_column_type(q, 0) != SQLITE_NULL &&
		    (uint64_t)sqlite3_column_int64(q, 0) > c->next_seq)
			c->next_seq = (uint64_t)sqlite3_column_int64(q, 0);
	}
	rc = 0;
	goto out;
fail:
	db_fail(db, err, N_("reading changes"));
out:
	reader_stmt_done(s, q);
	return rc;
}

static int sq_changes(struct store *st, const char *grid, uint64_t ref_version,
		      uint64_t seq, const char *exclude, size_t limit,
		      size_t max_bytes, struct store_changes *out,
		      struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (reader_get(s, &db, err) < 0)
		return -1;
	/* One read transaction, so the page is one consistent snapshot. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("reading changes"));
		goto out;
	}
	q = reader_stmt(s, db,
			"SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
			"'ref_version'",
			err);
	if (!q)
		goto out;
	if (sqlite3_step(q) != SQLITE_ROW) {
		db_fail(db, err, N_("reading changes"));
		goto out;
	}
	out->ref_version = (uint64_t)sqlite3_column_int64(q, 0);
	if (out->ref_version != ref_version) {
		out->with_ref = 1;
		if (load_ref(db, grid, &out->page, err) < 0)
			goto out;
	}
	if (load_records(s, db, grid, seq, exclude, limit, max_bytes, out,
			 err) < 0)
		goto out;
	rc = 0;
out:
	reader_stmt_done(s, q);
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	reader_put(s, db);
	if (rc < 0)
		store_changes_release(out);
	return rc;
}

/* ---- opening and closing ---- */

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqlite_store *s = arg;

	(void)db;
	(void)name;
	atomic_store(&s->wal_frames, frames);
	return SQLITE_OK;
}

/*
 * Checkpoints when the WAL has grown past CKPT_IDLE_FRAMES pages (idle,
 * final) or CKPT_BUSY_FRAMES (busy).  Only the server's writer calls this,
 * holding the write byte of the lock file so that no command commits
 * meanwhile; idle, it only tries for the byte, and while a command holds
 * it returns 1 (the writer tries again later).  PASSIVE: readers are never
 * blocked.
 */
static int sq_checkpoint(struct store *st, int mode, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	int rc, wait = mode != STORE_CKPT_IDLE;

	int frames = atomic_load(&s->wal_frames), nlog = 0, nckpt = 0;
	int hard = frames >= CKPT_HARD_FRAMES;

	if (s->mode != STORE_SERVE ||
	    frames <
		(mode == STORE_CKPT_BUSY ? CKPT_BUSY_FRAMES : CKPT_IDLE_FRAMES))
		return 0;
	if (hard)
		wait = 1;
	if (lock_byte(s->lock_fd, BYTE_WRITE, F_WRLCK, wait) < 0) {
		if (!wait && (errno == EAGAIN || errno == EACCES))
			return 1;
		return gb_error(err, GB_EIO, _("store: locking %s-hq.lock: %s"),
				s->path, strerror(errno));
	}
	rc = sqlite3_wal_checkpoint_v2(s->db, "main",
				       hard ? SQLITE_CHECKPOINT_RESTART
					    : SQLITE_CHECKPOINT_PASSIVE,
				       &nlog, &nckpt);
	lock_byte(s->lock_fd, BYTE_WRITE, F_UNLCK, 0);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return db_fail(s->db, err, N_("checkpointing"));
	/* What a reader kept from being copied is still to copy (and, for
	 * a RESTART kept from finishing, the next commit tries again). */
	atomic_store(&s->wal_frames, nlog > nckpt ? nlog - nckpt : 0);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes free on the disk of dir now, or -1. */
static int64_t disk_free(const char *dir)
{
	struct statvfs vfs;

	if (statvfs(dir, &vfs) < 0)
		return -1;
	return (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
}

/* Makes the reserve file when it is missing and the disk has room for
 * it beyond the margin; a failure only leaves it missing. */
static void reserve_make(struct sqlite_store *s)
{
	int64_t free_b = disk_free(s->dir);
	struct stat sb;
	int fd;

	if (!s->reserve || stat(s->reserve, &sb) == 0 ||
	    free_b < s->margin + 2 * RESERVE_BYTES)
		return;
	fd = open(s->reserve, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (posix_fallocate(fd, 0, (off_t)RESERVE_BYTES) != 0) {
		close(fd);
		unlink(s->reserve);
		return;
	}
	close(fd);
}

/* Bytes free to this process on the disk of the store, as last looked
 * at (at most ROOM_EVERY_MS ago), or -1 when statvfs fails. */
static int64_t room_free(struct sqlite_store *s)
{
	int64_t now = mono_ms(), at = atomic_load(&s->room_at);
	struct statvfs vfs;
	int64_t free_b = -1;

	if (at && now - at < ROOM_EVERY_MS)
		return atomic_load(&s->room_free);
	if (statvfs(s->dir, &vfs) == 0)
		free_b = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	atomic_store(&s->room_free, free_b);
	atomic_store(&s->room_at, now);
	reserve_make(s); /* when it was given back and room came back */
	return free_b;
}

static int sq_room(struct store *st, struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	int64_t free_b;

	if (!s->dir || s->margin <= 0)
		return 0; /* ":memory:", or the margin is off */
	free_b = room_free(s);
	if (free_b < 0)
		return 0;
	/* The pages in the WAL take as much room again in the store when
	 * they are checkpointed: that room is not free. */
	free_b -= (int64_t)atomic_load(&s->wal_frames) * s->page_size;
	if (free_b >= s->margin)
		return 0;
	if (free_b < 0)
		free_b = 0;
	return gb_error(err, GB_EBUSY,
			_("store: %" PRId64 " KiB free on the disk of %s "
			  "beyond what its WAL needs, under the margin of "
			  "%" PRId64 " KiB: batches are refused until there "
			  "is room"),
			free_b >> 10, s->path, s->margin >> 10);
}

static void sq_set_margin(struct store *st, int64_t bytes)
{
	struct sqlite_store *s = impl(st);

	s->margin = bytes;
	atomic_store(&s->room_at, 0); /* look again */
	reserve_make(s);
}

static void sq_close(struct store *st)
{
	struct sqlite_store *s = impl(st);

	if (!s)
		return;
	for (int i = 0; i < s->npool; i++)
		reader_close(s->pool[i]);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (int i = 0; i < KEY_STMT_MAX; i++)
		sqlite3_finalize(s->key_stmt[i]);
	sqf_release(&s->facts);
	ref_cache_drop(s);
	/* The close may checkpoint (when this is the last connection); do it
	 * holding the write byte, like every checkpoint. */
	lock_byte(s->lock_fd, BYTE_WRITE, F_WRLCK, 1);
	sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_mutex_destroy(&s->pool_mu);
	free(s->reserve);
	free(s->dir);
	free(s->path);
	free(s);
}

/* ---- report facts, written by ingest (store_sqlite_facts.c) ---- */

static int sq_fact_put(struct store *st, const struct store_fact *f,
		       struct gb_err *err)
{
	return sqf_fact_put(&impl(st)->facts, f, err);
}

static int sq_fact_del(struct store *st, enum store_fact_kind kind,
		       const char *id, const char *grid, struct gb_err *err)
{
	return sqf_fact_del(&impl(st)->facts, kind, id, grid, err);
}

static int sq_fact_get(struct store *st, enum store_fact_kind kind,
		       const char *id, const char *grid, struct store_fact *out,
		       char *buf, size_t size, struct gb_err *err)
{
	return sqf_fact_get(&impl(st)->facts, kind, id, grid, out, buf, size,
			    err);
}

static int sq_counter_add(struct store *st, enum store_counter c,
			  const char *grid, int64_t key, const char *a,
			  const char *b, int64_t delta, struct gb_err *err)
{
	return sqf_counter_add(&impl(st)->facts, c, grid, key, a, b, delta,
			       err);
}

static int sq_counter_get(struct store *st, enum store_counter c,
			  const char *grid, int64_t key, const char *a,
			  const char *b, int64_t *value, struct gb_err *err)
{
	return sqf_counter_get(&impl(st)->facts, c, grid, key, a, b, value,
			       err);
}

static int sq_sync_add(struct store *st, const char *device, const char *grid,
		       const char *role, int64_t day, int64_t batches,
		       int64_t records, int64_t at, struct gb_err *err)
{
	return sqf_sync_add(&impl(st)->facts, device, grid, role, day, batches,
			    records, at, err);
}

static int sq_facts_version(struct store *st, char *version, size_t n,
			    struct gb_err *err)
{
	return sqf_facts_version(&impl(st)->facts, version, n, err);
}

static int sq_facts_clear(struct store *st, struct gb_err *err)
{
	return sqf_facts_clear(&impl(st)->facts, err);
}

static int sq_facts_built(struct store *st, const char *version,
			  struct gb_err *err)
{
	return sqf_facts_built(&impl(st)->facts, version, err);
}

static int sq_fact_records(struct store *st,
			   int (*cb)(void *arg, const struct gb_record *r,
				     int conflicts, struct gb_err *err),
			   void *arg, struct gb_err *err)
{
	return sqf_fact_records(&impl(st)->facts, cb, arg, err);
}

static int sq_fact_batches(struct store *st,
			   int (*cb)(void *arg, const char *device,
				     const char *grid, const char *role,
				     int64_t records, int64_t received_at,
				     struct gb_err *err),
			   void *arg, struct gb_err *err)
{
	return sqf_fact_batches(&impl(st)->facts, cb, arg, err);
}

/* ---- report facts, read by reports (store_sqlite_reports.c) ---- */

/* A snapshot: a reader inside its read transaction. */
struct store_facts {
	sqlite3 *db;
};

static int sq_facts_begin(struct store *st, struct store_facts **out,
			  struct gb_err *err)
{
	struct sqlite_store *s = impl(st);
	sqlite3 *db = NULL;

	*out = NULL;
	if (reader_get(s, &db, err) < 0)
		return -1;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, err, N_("reading report facts"));
		reader_put(s, db);
		return -1;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->db = db;
	return 0;
}

static void sq_facts_end(struct store *st, struct store_facts *f)
{
	if (!f)
		return;
	if (sqlite3_get_autocommit(f->db) == 0)
		sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
	reader_put(impl(st), f->db);
	free(f);
}

static int sq_facts_read(struct store *st, struct store_facts *f,
			 const struct store_fact_query *q,
			 int (*cb)(void *arg, const struct store_fact_row *r,
				   struct gb_err *err),
			 void *arg, struct gb_err *err)
{
	(void)st;
	return store_sqlite_facts_query(f->db, q, cb, arg, err);
}

/* One writing connection per file (SPEC §5): no other server writes the
 * grid, and none commits a batch this one should hear of. */
static int sq_grid_lock(struct store *st, const char *grid, struct gb_err *err)
{
	(void)st;
	(void)grid;
	(void)err;
	return 0;
}

/* A look-up costs a function call here, not a round trip. */
static int sq_current_prefetch(struct store *st, const char *const *ids,
			       size_t n, struct gb_err *err)
{
	(void)st;
	(void)ids;
	(void)n;
	(void)err;
	return 0;
}

static int sq_watch(struct store *st, void (*wake)(void *arg), void *arg,
		    struct gb_err *err)
{
	(void)st;
	(void)wake;
	(void)arg;
	(void)err;
	return 0;
}

static const struct store_ops sqlite_ops = {
    .close = sq_close,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .checkpoint = sq_checkpoint,
    .room = sq_room,
    .set_margin = sq_set_margin,
    .grid_lock = sq_grid_lock,
    .watch = sq_watch,
    .batch_get = sq_batch_get,
    .batch_put = sq_batch_put,
    .batch_high = sq_batch_high,
    .version_get = sq_version_get,
    .current_get = sq_current_get,
    .current_prefetch = sq_current_prefetch,
    .history_put = sq_history_put,
    .current_put = sq_current_put,
    .conflict_put = sq_conflict_put,
    .history_each = sq_history_each,
    .field_conflicts_put = sq_field_conflicts_put,
    .field_conflict_list = sq_field_conflict_list,
    .rejection_put = sq_rejection_put,
    .find = sq_find,
    .find_key = sq_find_key,
    .ref_known = sq_ref_known,
    .ref_put = sq_ref_put,
    .ref_touch = sq_ref_touch,
    .grid_exists = sq_grid_exists,
    .device_put = sq_device_put,
    .device_by_token = sq_device_by_token,
    .device_revoke = sq_device_revoke,
    .device_seen = sq_device_seen,
    .device_list = sq_device_list,
    .audit_put = sq_audit_put,
    .audit_list = sq_audit_list,
    .audit_verify = sq_audit_verify,
    .changes = sq_changes,
    .versions_outside = sq_versions_outside,
    /* report facts, written by ingest (store_sqlite_facts.c) */
    .fact_put = sq_fact_put,
    .fact_del = sq_fact_del,
    .fact_get = sq_fact_get,
    .counter_add = sq_counter_add,
    .counter_get = sq_counter_get,
    .sync_add = sq_sync_add,
    .facts_version = sq_facts_version,
    .facts_clear = sq_facts_clear,
    .facts_built = sq_facts_built,
    .fact_records = sq_fact_records,
    .fact_batches = sq_fact_batches,
    /* report facts, read by reports (store_sqlite_reports.c) */
    .facts_begin = sq_facts_begin,
    .facts_end = sq_facts_end,
    .facts_read = sq_facts_read,
};

const char *store_sqlite_version(int *race_fixed)
{
	*race_fixed = sqlite3_libversion_number() >= 3051003;
	return sqlite3_libversion();
}

/*
 * SQLite's own memory statistics take a process-wide mutex on every
 * allocation, and nothing here reads them: they go, before the first
 * connection is opened (afterwards the call fails harmlessly).  Every
 * connection is used by one thread at a time (the writer by the thread
 * that holds the transaction, a reader by the thread that took it from
 * the pool), so they are opened without their own mutex too.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The page size of db's main file (4096 when it cannot be read). */
static int page_size(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	int n = 4096;

	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n > 0 ? n : 4096;
}

static int exec_pragma(sqlite3 *db, const char *sql, struct gb_err *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, sql);
	return 0;
}

/* Writes the zone of a new store, in a transaction of its own. */
static int tz_store(struct sqlite_store *s, const char *zone,
		    struct gb_err *err)
{
	sqlite3_stmt *q = NULL;
	int step = SQLITE_ERROR;

	if (sq_begin(&s->base, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO meta (key, value) "
			       "VALUES ('tz', ?1)",
			       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, zone, -1, SQLITE_STATIC);
		step = sqlite3_step(q);
	}
	sqlite3_finalize(q);
	if (step != SQLITE_DONE) {
		db_fail(s->db, err, N_("storing the time zone"));
		sq_rollback(&s->base);
		return -1;
	}
	return sq_commit(&s->base, err);
}

/*
 * The reporting time zone is a property of the store (SPEC §3): the facts
 * hold local days, so ingest and every report must use the zone they were
 * made in.  A new store keeps the zone GRIDBOOK_TZ names (Asia/Shanghai
 * when it names none); a store that has one refuses a GRIDBOOK_TZ that
 * names another, and when GRIDBOOK_TZ is not set, sets it to the store's
 * zone for this process (gbtime.c reads it there).
 */
static int tz_settle(struct sqlite_store *s, struct gb_err *err)
{
	const char *env = getenv("GRIDBOOK_TZ");
	sqlite3_stmt *q = NULL;
	char stored[64] = "";
	int env_off = 0, stored_off, rc, step;

	if (env && *env && gb_tz_parse(env, &env_off) < 0)
		return gb_error(err, GB_EUSAGE,
				_("GRIDBOOK_TZ: \"%.40s\" is not a time zone "
				  "(+hh:mm, UTC or Asia/Shanghai)"),
				env);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'tz'",
			       -1, &q, NULL) != SQLITE_OK)
		return db_fail(s->db, err, N_("reading the time zone"));
	step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		copy_col(q, 0, stored, sizeof(stored));
	sqlite3_finalize(q);
	q = NULL;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(s->db, err, N_("reading the time zone"));
	if (!stored[0]) {
		snprintf(stored, sizeof(stored), "%s",
			 env && *env ? env : "Asia/Shanghai");
		if (tz_store(s, stored, err) < 0)
			return -1;
	}
	if (gb_tz_parse(stored, &stored_off) < 0)
		return gb_error(err, GB_EDB,
				_("store: time zone \"%.40s\" is not one this "
				  "program knows"),
				stored);
	if (env && *env && env_off != stored_off)
		return gb_error(err, GB_EUSAGE,
				_("GRIDBOOK_TZ: %.40s is not the time zone of "
				  "this store (%s, set when it was created)"),
				env, stored);
	rc = 0;
	if (!env || !*env)
		rc = setenv("GRIDBOOK_TZ", stored, 1) == 0
			 ? 0
			 : gb_error(err, GB_EINTERNAL,
				    _("setting GRIDBOOK_TZ: %s"),
				    strerror(errno));
	return rc;
}

int store_sqlite_open(struct store **out, const char *path,
		      enum store_mode mode, struct gb_err *err)
{
	struct sqlite_store *s = xcalloc(1, sizeof(*s));
	int memory = strcmp(path, ":memory:") == 0;
	char *lock_path = NULL;
	int fd;

	s->base.ops = &sqlite_ops;
	s->mode = memory ? STORE_ADMIN : mode;
	s->path = xstrdup(path);
	s->lock_fd = -1;
	s->margin = MARGIN_DEFAULT;
	atomic_init(&s->room_at, 0);
	atomic_init(&s->room_free, -1);
	atomic_init(&s->wal_frames, 0);
	if (!memory) {
		const char *slash = strrchr(path, '/');

		s->dir = slash ? xstrndup(path, (size_t)(slash - path) + 1)
			       : xstrdup(".");
	}
	pthread_mutex_init(&s->pool_mu, NULL);
	if (!memory) {
		lock_path = xasprintf("%s-hq.lock", path);
		s->lock_fd =
		    open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lock_fd < 0) {
			gb_error(err, GB_EIO, _("store: opening %s: %s"),
				 lock_path, strerror(errno));
			goto fail;
		}
		if (mode == STORE_SERVE &&
		    lock_byte(s->lock_fd, BYTE_SERVER, F_WRLCK, 0) < 0) {
			gb_error(err, GB_EEXIST,
				 _("store: %s is in use by another "
				   "gridbook-hq serve"),
				 path);
			goto fail;
		}
		if (mode == STORE_SERVE) {
			s->reserve = xasprintf("%s-hq.reserve", path);
			if (disk_free(s->dir) < RESERVE_BYTES)
				unlink(s->reserve);
		}
		/* Create the file 0600 before SQLite opens it. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			gb_error(err, GB_EIO, _("store: opening %s: %s"), path,
				 strerror(errno));
			goto fail;
		}
		close(fd);
	}
	pthread_once(&sqlite_once, sqlite_setup);
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, _("store: opening %s: %s"), path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqf_init(&s->facts, s->db, &s->ids);
	sqlite3_busy_timeout(s->db, BUSY_MS);
	sqlite3_extended_result_codes(s->db, 1);
	if ((!memory && exec_pragma(s->db, "PRAGMA journal_mode = WAL", err)) ||
	    exec_pragma(s->db, "PRAGMA synchronous = FULL", err) ||
	    exec_pragma(s->db, "PRAGMA foreign_keys = ON", err) ||
	    exec_pragma(s->db, "PRAGMA wal_autocheckpoint = 0", err) ||
	    /* 64 MiB: the WAL file is cut back to this when it restarts. */
	    exec_pragma(s->db, "PRAGMA journal_size_limit = 67108864", err) ||
	    exec_pragma(s->db, "PRAGMA cache_size = -65536", err) ||
	    exec_pragma(s->db, "PRAGMA temp_store = MEMORY", err))
		goto fail;
	if (mode == STORE_SERVE)
		sqlite3_wal_hook(s->db, wal_hook, s);
	s->page_size = page_size(s->db);
	if (sq_migrate(&s->base, err) < 0 || tz_settle(s, err) < 0)
		goto fail;
	free(lock_path);
	*out = &s->base;
	return 0;
fail:
	free(lock_path);
	sq_close(&s->base);
	return -1;
}

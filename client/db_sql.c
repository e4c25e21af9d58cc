/*
 * The statement helpers every module of the client's store shares
 * (db_int.h): preparing and caching statements, binding and reading
 * values, the error words of a failed statement, and reading a stored
 * body.  They know the handle and SQLite and nothing of any table, so
 * that db.c (opening, migrations, transactions), db_settings.c (the meta
 * table) and the table families all stand on this file and it on none of
 * them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "i18n.h"
#include "xalloc.h"

#include "banned.h"

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

/* db_query_i64's work on s, prepared: binds, steps and reads, and leaves
 * s to the caller to finalize or reset. */
static int query_i64_on(struct gb_db *db, sqlite3_stmt *s, int n, int64_t a,
			int64_t b, int64_t *out, const char *what,
			struct gb_err *err)
{
	int rc;

	if (n > 0)
		sqlite3_bind_int64(s, 1, a);
	if (n > 1)
		sqlite3_bind_int64(s, 2, b);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
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
	rc = query_i64_on(db, s, n, a, b, out, what, err);
	sqlite3_finalize(s);
	return rc;
}

int db_stmt_i64(struct gb_db *db, enum stmt_id id, const char *sql, int n,
		int64_t a, int64_t b, int64_t def, int64_t *out,
		const char *what, struct gb_err *err)
{
	sqlite3_stmt *s = db_stmt(db, id, sql, err);
	int rc;

	*out = def;
	if (!s)
		return -1;
	rc = query_i64_on(db, s, n, a, b, out, what, err);
	db_stmt_done(s);
	return rc;
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
	sqlite3_stmt *s = db_stmt(db, S_JSON_EACH,
				  "SELECT key, value FROM json_each(?1)", err);
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

sqlite3 *db_sqlite(struct gb_db *db)
{
	return db->sq;
}

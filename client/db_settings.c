/*
 * The meta table of the grid file (db.h): the settings of the file, the
 * grid's own names that seeding stores, and what sync keeps there (its
 * server, token, cursor, pin, proxy, last error).  The values every
 * command asks for (grid, device, staff, whether a sync token is set)
 * are cached in the handle and reloaded when they may have changed.  The
 * clock of db.c keeps its last version here too (db_meta_read,
 * db_meta_put), since it is a row of this table.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_int.h"
#include "i18n.h"
#include "xalloc.h"

#include "banned.h"

static const char *const meta_sql[] = {
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
};

/* The cached statement id, S_META_GET or S_META_SET. */
static sqlite3_stmt *stmt(struct gb_db *db, enum stmt_id id, struct gb_err *err)
{
	return db_stmt(db, id, meta_sql[id], err);
}

int db_meta_read(struct gb_db *db, const char *key, char *out, size_t n,
		 int *found, const char *what, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_META_GET, err);
	int rc;

	*found = 0;
	out[0] = '\0';
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		db_copy_str(out, n, db_col_text(s, 0));
		*found = 1;
	} else if (rc != SQLITE_DONE) {
		db_sql_fail(db, what, err);
		db_stmt_done(s);
		return -1;
	}
	db_stmt_done(s);
	return 0;
}

int db_meta_put(struct gb_db *db, const char *key, const char *value,
		const char *what, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_META_SET, err);

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return db_step_done(db, s, what, err);
}

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
void db_meta_cache_load(struct gb_db *db)
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
	size_t cap = 0;

	if (strcmp(key, "grid") == 0 || strcmp(key, "staff") == 0)
		cap = GB_CODE_LEN;
	else if (strcmp(key, "device") == 0)
		cap = GB_ID_LEN;
	if (cap && strlen(value) >= cap)
		return gb_error(err, GB_EINVAL,
				_("%s \"%s\" is too long (at most %zu bytes)"),
				key, value, cap - 1);
	if (db_meta_put(db, key, value, _("cannot save a setting"), err))
		return -1;
	if (cap || strcmp(key, "sync_token") == 0)
		db_meta_cache_load(db);
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
		db_meta_cache_load(db);
	return rc;
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

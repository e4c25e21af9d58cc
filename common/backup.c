/*
 * Online backups of SQLite files (backup.h).  sqlite3_backup_step(-1)
 * copies every page inside one read transaction of the source, which is
 * what makes the copy consistent: a writer in another process commits
 * around it (WAL) or waits (rollback journal), and the copy holds either
 * all of a transaction or none of it.  Only a busy source is retried;
 * every other failure removes the partial copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backup.h"
#include "i18n.h"
#include "xalloc.h"

#include "banned.h"

/* How long a busy source may keep the copy waiting, in ms. */
#define BUSY_MS 30000

int gb_sqlite_check(const char *path, struct gb_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		gb_error(err, GB_EIO, _("%s: cannot open: %s"), path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) !=
	    SQLITE_OK) {
		gb_error(err, GB_EDB, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		gb_error(err, GB_EDB, _("%s: integrity check failed: %s"), path,
			 sqlite3_errmsg(db));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		gb_error(err, GB_EDB, _("%s: integrity check says: %s"), path,
			 (const char *)sqlite3_column_text(st, 0));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* Flushes the file at path to the disk.  Returns 0 or -1 with err. */
static int sync_file(const char *path, struct gb_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return gb_error(err, GB_EIO, "%s: %s", path, strerror(errno));
	rc = fsync(fd);
	close(fd);
	if (rc)
		return gb_error(err, GB_EIO, _("%s: cannot sync: %s"), path,
				strerror(errno));
	return 0;
}

int gb_sqlite_backup(const char *src, const char *dst, long *pages,
		     struct gb_err *err)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *bk = NULL;
	char *tmp = xasprintf("%s.tmp", dst);
	int ret = -1, rc, waited = 0;

	*pages = 0;
	if (access(dst, F_OK) == 0) {
		gb_error(err, GB_EEXIST,
			 _("%s: the file exists; a backup does not replace "
			   "a file"),
			 dst);
		goto out;
	}
	if (access(src, R_OK) != 0) {
		gb_error(err, GB_ENOTFOUND, "%s: %s", src, strerror(errno));
		goto out;
	}
	unlink(tmp);
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		gb_error(err, GB_EIO, _("%s: cannot open: %s"), src,
			 from ? sqlite3_errmsg(from) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(from, BUSY_MS);
	if (sqlite3_open_v2(tmp, &to,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		gb_error(err, GB_EIO, _("%s: cannot create: %s"), tmp,
			 to ? sqlite3_errmsg(to) : "out of memory");
		goto out;
	}
	bk = sqlite3_backup_init(to, "main", from, "main");
	if (!bk) {
		gb_error(err, GB_EDB, _("%s: cannot start the backup: %s"), src,
			 sqlite3_errmsg(to));
		goto out;
	}
	for (;;) {
		rc = sqlite3_backup_step(bk, -1);
		if (rc == SQLITE_DONE)
			break;
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
		    waited < BUSY_MS) {
			sqlite3_sleep(50);
			waited += 50;
			continue;
		}
		gb_error(err, GB_EDB, _("%s: the backup failed: %s"), src,
			 sqlite3_errstr(rc));
		goto out;
	}
	*pages = sqlite3_backup_pagecount(bk);
	rc = sqlite3_backup_finish(bk);
	bk = NULL;
	if (rc != SQLITE_OK) {
		gb_error(err, GB_EDB, _("%s: the backup failed: %s"), src,
			 sqlite3_errstr(rc));
		goto out;
	}
	/* The copy stands alone: no WAL beside it to carry around. */
	if (sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL,
			 NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, "%s: %s", tmp, sqlite3_errmsg(to));
		goto out;
	}
	sqlite3_close(to);
	to = NULL;
	if (gb_sqlite_check(tmp, err) || sync_file(tmp, err))
		goto out;
	if (rename(tmp, dst)) {
		gb_error(err, GB_EIO, _("%s: cannot rename to %s: %s"), tmp,
			 dst, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (bk)
		sqlite3_backup_finish(bk);
	sqlite3_close(to);
	sqlite3_close(from);
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

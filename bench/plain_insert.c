/*
 * plain_insert: the yardstick of the CSV import benchmark.  It reads an
 * enterprise CSV file the way gridbook import does (common/csv.c) and
 * inserts every row into a fresh database holding the client schema
 * (schema/client), so the `record` table and its index are the very same,
 * with one prepared statement in one transaction, synchronous=FULL and the
 * journal mode the client uses.  It does nothing else: no parsing of
 * values, no validation, no name resolution, no version history and no
 * change log.  What gridbook import does on top of this is what the
 * benchmark measures (bench/run, BENCHMARKS.md).
 *
 *     plain_insert FILE.csv NEW.db
 *
 * Prints "plain_insert: N rows in S s, R rows/s" on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "csv.h"
#include "err.h"
#include "id.h"
#include "json.h"
#include "record.h"
#include "schema.h"

#include "banned.h"

/* The first SQLite free of the WAL-reset race (SPEC §5). */
#define WAL_SAFE_VERSION 3051003

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql, struct gb_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	gb_error(err, GB_EDB, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* The column of name in the header, or -1. */
static int column(const struct gb_csv *c, const char *name)
{
	for (int i = 0; i < c->nfields; i++)
		if (!strcmp(c->field[i], name))
			return i;
	return -1;
}

/* Appends the JSON object of the row's values, header names as keys and
 * the employee count as a number, as the client stores a record body. */
static int row_json(const struct gb_csv *c, char **names, int ncols,
		    int num_col, struct gb_buf *b, struct gb_err *err)
{
	gb_buf_reset(b);
	if (gb_buf_add(b, "{", 1, err))
		return -1;
	for (int i = 0; i < ncols; i++) {
		const char *v =
		    i < c->nfields && *c->field[i] ? c->field[i] : NULL;

		if ((i && gb_buf_add(b, ",", 1, err)) ||
		    gb_json_str(b, names[i], err) || gb_buf_add(b, ":", 1, err))
			return -1;
		if ((i == num_col && v) ? gb_buf_adds(b, v, err)
					: gb_json_str(b, v, err))
			return -1;
	}
	return gb_buf_add(b, "}", 1, err);
}

static int bind_opt(sqlite3_stmt *st, int i, const struct gb_csv *c, int col)
{
	if (col < 0 || col >= c->nfields || !*c->field[col])
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, c->field[col], -1, SQLITE_STATIC);
}

static int run(const char *csvpath, const char *dbpath, struct gb_err *err)
{
	static const char insert_sql[] =
	    "INSERT INTO record (id, kind, grid, device, staff, "
	    "created_at, updated_at, version, voided, void_reason, day, "
	    "community, person, status, title, body) VALUES (?, "
	    "'enterprise', 'S01-G1', ?, 'K0001', ?, ?, ?, 0, NULL, NULL, "
	    "?, NULL, ?, ?, ?)";
	struct gb_uuidgen gen;
	struct gb_csv c;
	struct gb_buf body;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	FILE *fp = NULL;
	char *names[GB_CSV_MAX_FIELDS] = {0};
	char device[GB_ID_LEN], id[GB_ID_LEN];
	int ncols = 0, col_comm, col_status, col_name, col_emp, rc, ret = -1;
	uint64_t version = 0;
	long rows = 0;
	double t0 = mono_s(), t;

	gb_uuidgen_init(&gen);
	gb_csv_init(&c, NULL);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	fp = fopen(csvpath, "rb");
	if (!fp) {
		gb_error(err, GB_EIO, "%s: %s", csvpath, strerror(errno));
		goto out;
	}
	c.fp = fp;
	if (sqlite3_open_v2(dbpath, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, "%s: %s", dbpath, sqlite3_errmsg(db));
		goto out;
	}
	if (exec(db,
		 sqlite3_libversion_number() >= WAL_SAFE_VERSION
		     ? "PRAGMA journal_mode=WAL"
		     : "PRAGMA journal_mode=TRUNCATE",
		 err) ||
	    exec(db, "PRAGMA synchronous=FULL", err))
		goto out;
	for (int i = 0; i < gb_schema_client_n; i++)
		if (exec(db, gb_schema_client[i], err))
			goto out;

	rc = gb_csv_next(&c, err);
	if (rc <= 0) {
		if (rc == 0)
			gb_error(err, GB_EINVAL, "%s: empty", csvpath);
		goto out;
	}
	ncols = c.nfields;
	for (int i = 0; i < ncols; i++) {
		size_t n = strlen(c.field[i]) + 1;

		names[i] = malloc(n);
		if (!names[i]) {
			gb_error(err, GB_EINTERNAL, "out of memory");
			goto out;
		}
		memcpy(names[i], c.field[i], n);
	}
	col_comm = column(&c, "community");
	col_status = column(&c, "status");
	col_name = column(&c, "name");
	col_emp = column(&c, "employees");

	if (sqlite3_prepare_v2(db, insert_sql, -1, &st, NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, "%s", sqlite3_errmsg(db));
		goto out;
	}
	gb_uuid7(&gen, wall_ms(), device);
	if (exec(db, "BEGIN IMMEDIATE", err))
		goto out;
	for (;;) {
		rc = gb_csv_next(&c, err);
		if (rc <= 0)
			break;
		int64_t now = wall_ms();

		if (row_json(&c, names, ncols, col_emp, &body, err))
			goto out;
		gb_uuid7(&gen, now, id);
		version = gb_hlc_next(version, now);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)version);
		bind_opt(st, 6, &c, col_comm);
		bind_opt(st, 7, &c, col_status);
		bind_opt(st, 8, &c, col_name);
		sqlite3_bind_text(st, 9, gb_buf_str(&body), (int)body.len,
				  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			gb_error(err, GB_EDB, "line %ld: %s", c.line,
				 sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(st);
		rows++;
	}
	if (rc < 0)
		goto out;
	if (exec(db, "COMMIT", err))
		goto out;
	t = mono_s() - t0;
	printf("plain_insert: %ld rows in %.3f s, %.0f rows/s\n", rows, t,
	       t > 0 ? (double)rows / t : 0.0);
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (int i = 0; i < ncols; i++)
		free(names[i]);
	gb_buf_release(&body);
	gb_csv_release(&c);
	if (fp)
		fclose(fp);
	return ret;
}

int main(int argc, char **argv)
{
	struct gb_err err;

	if (argc != 3) {
		fprintf(stderr, "usage: plain_insert FILE.csv NEW.db\n");
		return 2;
	}
	if (access(argv[2], F_OK) == 0) {
		fprintf(stderr, "plain_insert: %s exists; give a new file\n",
			argv[2]);
		return 1;
	}
	if (run(argv[1], argv[2], &err)) {
		fprintf(stderr, "plain_insert: %s\n", err.msg);
		return 1;
	}
	return 0;
}

/*
 * The seeds of the grid file (db.h, db_load_seeds): the reference data of
 * a grid read from the district's seed directory (seeds/README.md) when
 * the file is made, before HQ sends its own with the first sync.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "db_int.h"
#include "i18n.h"

#include "banned.h"

/* ---- reference data ---------------------------------------------------- */

/* The seed files, each with the columns read from it. */
enum seed_file {
	SEED_DISTRICT,
	SEED_STREETS,
	SEED_GRIDS,
	SEED_COMMUNITIES,
	SEED_AREAS,
	SEED_AREA_COMMUNITIES,
	SEED_STAFF,
	SEED_NFILES
};

#define SEED_MAXCOLS 6
#define SEED_NAME_LEN 256

static const struct seed_spec {
	const char *file;
	const char *cols[SEED_MAXCOLS + 1];
} seed_specs[SEED_NFILES] = {
    [SEED_DISTRICT] = {"district.csv", {"code", "name", NULL}},
    [SEED_STREETS] = {"streets.csv", {"code", "name", NULL}},
    [SEED_GRIDS] = {"grids.csv", {"code", "street", "name", NULL}},
    [SEED_COMMUNITIES] = {"communities.csv",
			  {"code", "grid", "name", "population",
			   "criminal_cases", "patrol_team", NULL}},
    [SEED_AREAS] = {"police_areas.csv", {"code", "grid", "name", "room", NULL}},
    [SEED_AREA_COMMUNITIES] = {"area_communities.csv",
			       {"area", "community", NULL}},
    [SEED_STAFF] = {"staff.csv",
		    {"code", "name", "role", "grid", "area", NULL}},
};

static const char *const staff_roles[] = {"coordinator", "officer", "chief",
					  "guard", NULL};

/* An open seed file: the CSV reader and where each wanted column is. */
struct seed {
	const struct seed_spec *spec;
	char path[4096];
	FILE *fp;
	struct gb_csv csv;
	int col[SEED_MAXCOLS];
	const char *v[SEED_MAXCOLS]; /* the current row, by spec column */
};

static void seed_close(struct seed *sd)
{
	if (!sd->fp)
		return;
	gb_csv_release(&sd->csv);
	fclose(sd->fp);
	sd->fp = NULL;
}

/* Opens dir/file and maps the header row to the spec's columns, which may
 * stand in any order among others. */
static int seed_open(struct seed *sd, const char *dir, enum seed_file which,
		     struct gb_err *err)
{
	const struct seed_spec *sp = &seed_specs[which];
	int n;

	memset(sd, 0, sizeof(*sd));
	sd->spec = sp;
	n = snprintf(sd->path, sizeof(sd->path), "%s/%s", dir, sp->file);
	if (n < 0 || (size_t)n >= sizeof(sd->path))
		return gb_error(err, GB_EIO, _("seed directory name too long"));
	sd->fp = fopen(sd->path, "r");
	if (!sd->fp)
		return gb_error(err, GB_EIO, _("cannot read %s: %s"), sd->path,
				strerror(errno));
	gb_csv_init(&sd->csv, sd->fp);
	n = gb_csv_next(&sd->csv, err);
	if (n < 0) {
		gb_error_prefix(err, "%s", sd->path);
		goto fail;
	}
	if (n == 0) {
		gb_error(err, GB_EINVAL, _("%s is empty"), sd->path);
		goto fail;
	}
	for (int i = 0; sp->cols[i]; i++) {
		sd->col[i] = -1;
		for (int j = 0; j < sd->csv.nfields; j++)
			if (strcmp(sd->csv.field[j], sp->cols[i]) == 0)
				sd->col[i] = j;
		if (sd->col[i] < 0) {
			gb_error(err, GB_EINVAL, _("%s: no column \"%s\""),
				 sd->path, sp->cols[i]);
			goto fail;
		}
	}
	return 0;
fail:
	seed_close(sd);
	return -1;
}

/* Reads the next row into sd->v.  Returns 1, 0 at the end, -1 on error. */
static int seed_next(struct seed *sd, struct gb_err *err)
{
	int rc = gb_csv_next(&sd->csv, err);

	if (rc < 0)
		return gb_error_prefix(err, "%s", sd->path);
	if (rc == 0)
		return 0;
	for (int i = 0; sd->spec->cols[i]; i++) {
		if (sd->col[i] >= sd->csv.nfields)
			return gb_error(err, GB_EINVAL,
					_("%s:%ld: no value for column \"%s\""),
					sd->path, sd->csv.line,
					sd->spec->cols[i]);
		sd->v[i] = sd->csv.field[sd->col[i]];
	}
	return 1;
}

/* Parses column i of the current row as a count into *out. */
static int seed_int(struct seed *sd, int i, int64_t *out, struct gb_err *err)
{
	const char *v = sd->v[i];
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < 0)
		return gb_error(err, GB_EINVAL,
				_("%s:%ld: %s \"%s\" is not a count"), sd->path,
				sd->csv.line, sd->spec->cols[i], v);
	*out = n;
	return 0;
}

/*
 * Finds the first row of a seed file whose code (first column) is code,
 * or the first row at all when code is NULL, and copies its first nv
 * columns into v.  Returns 1 found, 0 not, -1 on error.
 */
static int seed_find(const char *dir, enum seed_file which, const char *code,
		     char (*v)[SEED_NAME_LEN], int nv, struct gb_err *err)
{
	struct seed sd;
	int rc;

	if (seed_open(&sd, dir, which, err))
		return -1;
	for (;;) {
		rc = seed_next(&sd, err);
		if (rc != 1)
			break;
		if (code && strcmp(sd.v[0], code) != 0)
			continue;
		for (int i = 0; i < nv; i++)
			db_copy_str(v[i], SEED_NAME_LEN, sd.v[i]);
		break;
	}
	seed_close(&sd);
	return rc;
}

/*
 * How one seed file is stored: the rows whose column gridcol is the grid
 * (all rows when gridcol is -1) go through the INSERT sql, with the text
 * columns textcols bound first, then the grid's street when street is
 * set, then nnum count columns from numcol on.
 */
struct seed_load {
	enum seed_file which;
	int gridcol;
	const char *sql;
	int textcols[SEED_MAXCOLS];
	int ntext;
	int with_street;
	int numcol, nnum;
};

static const struct seed_load seed_loads[] = {
    {SEED_COMMUNITIES,
     1,
     "INSERT INTO community (code, name, grid, street, population, "
     "criminal_cases, patrol_team) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
     {0, 2, 1},
     3,
     1,
     3,
     3},
    {SEED_AREAS,
     1,
     "INSERT INTO police_area (code, name, grid, room) VALUES "
     "(?1, ?2, ?3, ?4)",
     {0, 2, 1, 3},
     4,
     0,
     0,
     0},
    /* The rows of this grid's areas, which are loaded by now. */
    {SEED_AREA_COMMUNITIES,
     -1,
     "INSERT INTO area_community (area, community) SELECT ?1, ?2 "
     "WHERE EXISTS (SELECT 1 FROM police_area WHERE code = ?1)",
     {0, 1},
     2,
     0,
     0,
     0},
    {SEED_STAFF,
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
	struct seed sd;
	int rc = -1, got;

	if (seed_open(&sd, dir, ld->which, err))
		return -1;
	if (sqlite3_prepare_v2(db->sq, ld->sql, -1, &s, NULL) != SQLITE_OK) {
		db_sql_fail(db, _("cannot store reference data"), err);
		goto out;
	}
	for (;;) {
		got = seed_next(&sd, err);
		if (got != 1)
			break;
		int p = 1;

		if (ld->gridcol >= 0 && strcmp(sd.v[ld->gridcol], grid) != 0)
			continue;
		if (ld->which == SEED_STAFF &&
		    gb_choice_index(staff_roles, sd.v[2]) < 0) {
			gb_error(err, GB_EINVAL,
				 _("%s:%ld: role \"%s\" is not one of "
				   "coordinator, officer, chief, guard"),
				 sd.path, sd.csv.line, sd.v[2]);
			goto out;
		}
		for (int i = 0; i < ld->ntext; i++)
			sqlite3_bind_text(s, p++, sd.v[ld->textcols[i]], -1,
					  SQLITE_STATIC);
		if (ld->with_street)
			sqlite3_bind_text(s, p++, street, -1, SQLITE_STATIC);
		for (int i = 0; i < ld->nnum; i++) {
			int64_t v = 0;

			if (seed_int(&sd, ld->numcol + i, &v, err)) {
				db_stmt_done(s);
				goto out;
			}
			sqlite3_bind_int64(s, p++, v);
		}
		if (db_step_done(db, s, _("cannot store reference data"),
				 err)) {
			gb_error_prefix(err, "%s:%ld", sd.path, sd.csv.line);
			goto out;
		}
	}
	if (got == 0)
		rc = 0;
out:
	sqlite3_finalize(s);
	seed_close(&sd);
	return rc;
}

/* 1 when the file holds records, 0 when none, -1 on error. */
static int has_records(struct gb_db *db, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->sq, "SELECT 1 FROM record LIMIT 1", -1, &s,
			       NULL) != SQLITE_OK)
		return db_sql_fail(db, _("cannot read records"), err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = db_sql_fail(db, _("cannot read records"), err);
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

	found = seed_find(dir, SEED_GRIDS, grid, g, 3, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_ENOTFOUND,
				_("grid %s is not in the seeds (%s)"), grid,
				dir);
	if (strlen(grid) >= GB_CODE_LEN)
		return gb_error(err, GB_EINVAL, _("grid code %s is too long"),
				grid);
	found = seed_find(dir, SEED_STREETS, g[1], st, 2, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_EINVAL,
				_("street %s of grid %s is not in the seeds "
				  "(%s)"),
				g[1], grid, dir);
	found = seed_find(dir, SEED_DISTRICT, NULL, d, 2, err);
	if (found < 0)
		return -1;
	if (!found)
		return gb_error(err, GB_EINVAL,
				_("the seeds (%s) name no district"), dir);

	if (db_txn_enter(db, &mode, err))
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
	if (db_exec(db,
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
	return db_txn_leave(db, mode, rc, err);
}

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
#include "seeds.h"

#include "banned.h"

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
			db_copy_str(v[i], SEED_NAME_LEN, sd.v[i]);
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
		db_sql_fail(db, _("cannot store reference data"), err);
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
		if (db_step_done(db, s, _("cannot store reference data"),
				 err)) {
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

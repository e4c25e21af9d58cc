/*
 * gridbook init --grid G [--staff CODE] [--seeds DIR]: makes the grid file
 * a laptop works in.  It creates a new file (never overwriting one: a grid
 * file holds records that may not have reached HQ yet), loads the grid's
 * reference data from the seed directory, and records who enters records
 * on this laptop, so that "@me" defaults name the right person.  If any
 * step fails the half-made file is removed, so a retry starts clean.
 * On a file that exists, init --staff only changes who enters records
 * (the message for a missing --staff says to run it so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "db.h"
#include "i18n.h"
#include "opts.h"
#include "seeds.h"
#include "xalloc.h"

#include "banned.h"

#ifndef GB_SEEDDIR
#define GB_SEEDDIR "seeds"
#endif

static void init_usage(FILE *fp)
{
	fprintf(fp,
		_("usage: gridbook --db FILE init --grid G [--staff CODE] "
		  "[--seeds DIR]\n\n"
		  "Creates the grid file FILE (it must not exist yet) and "
		  "loads the reference\ndata of grid G: communities, police "
		  "areas and staff.\n\n"
		  "  --grid G       the grid code, e.g. S01-G1\n"
		  "  --staff CODE   who enters records on this laptop: a staff "
		  "code or a\n"
		  "                 part of a name of the grid's staff; on an "
		  "existing FILE,\n"
		  "                 init --staff changes only that\n"
		  "  --seeds DIR    the reference data (default "
		  "$GRIDBOOK_SEEDS, else %s)\n"),
		GB_SEEDDIR);
}

/* The number of rows of reference table t of grid (of staff, of role
 * when given), or -1. */
static long count_rows(struct gb_db *db, enum db_ref_table t, const char *grid,
		       const char *role)
{
	struct gb_err ignored;
	long n;

	return db_ref_count(db, t, grid, role, &n, &ignored) ? -1 : n;
}

/* Prints what the new file holds. */
static void print_summary(struct gb_db *db, const char *path, const char *grid)
{
	/* In the order of gb_staff_roles. */
	static const char *const plural[] = {N_("coordinators"), N_("chiefs"),
					     N_("officers"), N_("guards")};
	char *name = db_meta_get(db, "grid_name");
	char *me = db_meta_get(db, "staff");

	printf(_("created %s for grid %s %s\n"), path, grid, name ? name : "");
	printf(_("  communities   %ld\n"),
	       count_rows(db, DB_REF_COMMUNITIES, grid, NULL));
	printf(_("  police areas  %ld\n"),
	       count_rows(db, DB_REF_AREAS, grid, NULL));
	printf(_("  staff        "));
	for (size_t i = 0; gb_staff_roles[i]; i++)
		printf("%s %s %ld", i ? "," : "",
		       i < sizeof(plural) / sizeof(plural[0])
			   ? _(plural[i])
			   : gb_staff_roles[i],
		       count_rows(db, DB_REF_STAFF, grid, gb_staff_roles[i]));
	printf("\n");
	if (me && *me) {
		char *who = db_ref_name(db, GB_REF_STAFF, me);

		printf(_("  entering as   %s (%s)\n"), who ? who : me, me);
		free(who);
	} else {
		printf(_("  entering as   nobody yet: records name their staff "
			 "with --coordinator,\n"
			 "                --officer and the like (or run init "
			 "again with --staff)\n"));
	}
	free(me);
	free(name);
}

/* Removes the file db_open created and what SQLite may have left beside
 * it. */
static void remove_grid_file(const char *path)
{
	static const char *const ext[] = {"", "-journal", "-wal", "-shm"};

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char *p = xasprintf("%s%s", path, ext[i]);

		unlink(p);
		free(p);
	}
}

/* init --staff on an existing file: sets who enters records, nothing
 * else.  A --grid must be the file's grid. */
static int set_staff(struct gb_cli *cli, const char *grid, const char *staff)
{
	struct gb_db *db = cmd_open_db(cli, 0);
	struct gb_err err;
	char code[64], *who = NULL;
	int status = 1;

	if (!db)
		return 1;
	if (grid && strcmp(grid, db_grid(db))) {
		gb_error(&err, GB_EEXIST,
			 _("%s is the file of grid %s, not %s; give another "
			   "--db to make a file for %s"),
			 cli->db_path, db_grid(db), grid, grid);
		goto fail;
	}
	if (db_resolve(db, GB_REF_STAFF, staff, code, sizeof(code), &err)) {
		gb_error_prefix(&err, "--staff");
		goto fail;
	}
	if (db_meta_set(db, "staff", code, &err))
		goto fail;
	who = db_ref_name(db, GB_REF_STAFF, code);
	printf(_("%s: now entering as %s (%s)\n"), cli->db_path,
	       who ? who : code, code);
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	free(who);
	db_close(db);
	return status;
}

int cmd_init(struct gb_cli *cli, int argc, char **argv)
{
	const char *grid = NULL, *staff = NULL, *seeds = NULL;
	int help = 0, npos, status = 1, created = 0;
	const struct gb_opt spec[] = {
	    {"grid", 1, &grid, NULL},
	    {"staff", 1, &staff, NULL},
	    {"seeds", 1, &seeds, NULL},
	    {"help", 0, NULL, &help},
	};
	char code[64], *pos[1];
	struct gb_db *db = NULL;
	struct gb_err err;

	if (gb_opts_parse(spec, 4, argc, argv, pos, 0, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "init", &err);
	if (help) {
		init_usage(stdout);
		return 0;
	}
	if (cli->db_path && staff && access(cli->db_path, F_OK) == 0)
		return set_staff(cli, grid, staff);
	if (!grid || !*grid) {
		gb_error(&err, GB_EUSAGE, _("--grid is required"));
		return gb_opts_usage_error(cli->prog, "init", &err);
	}
	if (!cli->db_path) {
		gb_error(&err, GB_EUSAGE,
			 _("init needs the file to create: give --db FILE "
			   "or set GRIDBOOK_DB"));
		return gb_opts_usage_error(cli->prog, "init", &err);
	}
	if (!seeds || !*seeds)
		seeds = getenv("GRIDBOOK_SEEDS");
	if (!seeds || !*seeds)
		seeds = GB_SEEDDIR;
	db = cmd_open_db(cli, DB_CREATE);
	if (!db)
		return 1;
	created = 1;
	if (db_load_seeds(db, seeds, grid, &err))
		goto fail;
	if (!*db_grid(db) && db_meta_set(db, "grid", grid, &err))
		goto fail;
	if (staff) {
		if (db_resolve(db, GB_REF_STAFF, staff, code, sizeof(code),
			       &err)) {
			gb_error_prefix(&err, "--staff");
			goto fail;
		}
		if (db_meta_set(db, "staff", code, &err))
			goto fail;
	}
	print_summary(db, cli->db_path, grid);
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	db_close(db);
	if (status && created)
		remove_grid_file(cli->db_path);
	if (fflush(stdout) != 0 && !status)
		status = 1;
	return status;
}

/*
 * gridbook ref [communities|areas|staff]: the reference data of the grid
 * file, as aligned tables, so that a person can look up the codes and
 * names that record fields take.  Reference data is owned by HQ and only
 * read here (db_ref_rows).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "i18n.h"
#include "opts.h"
#include "table.h"

#include "banned.h"

struct ref_view {
	const char *name;  /* what the command line says */
	const char *title; /* N_() heading */
	enum db_ref_table table;
	const char *cols[8];
	int right[8]; /* 1: numbers, aligned right */
};

static const struct ref_view views[] = {
    {"communities",
     N_("communities"),
     DB_REF_COMMUNITIES,
     {N_("code"), N_("name"), N_("population"), N_("criminal_cases"),
      N_("patrol_team"), N_("area"), NULL},
     {0, 0, 1, 1, 1, 0}},
    {"areas",
     N_("police areas"),
     DB_REF_AREAS,
     {N_("code"), N_("name"), N_("room"), N_("communities"), N_("officers"),
      N_("guards"), NULL},
     {0, 0, 0, 0, 1, 1}},
    {"staff",
     N_("staff"),
     DB_REF_STAFF,
     {N_("code"), N_("name"), N_("role"), N_("area"), NULL},
     {0, 0, 0, 0}},
};

#define NVIEWS ((int)(sizeof(views) / sizeof(views[0])))

static void ref_usage(FILE *fp)
{
	fprintf(fp, _("usage: gridbook ref [communities|areas|staff]\n\n"
		      "Lists the grid's communities, police areas and staff "
		      "with their codes;\nwith no argument, all three.\n"));
}

/* The staff roles, in the words people read (the codes in English). */
static const struct {
	const char *ctx, *code;
} roles[] = {
    {NC_("staff role", "coordinator")},
    {NC_("staff role", "officer")},
    {NC_("staff role", "chief")},
    {NC_("staff role", "guard")},
};

/* What a cell of column col shows for value v: a role as its word, any
 * other value as it is. */
static const char *shown(const char *col, const char *v)
{
	if (!v || strcmp(col, "role") != 0)
		return v;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].code, v) == 0)
			return gb_pgettext(roles[i].ctx, v);
	return v;
}

/* What print_view's rows go into. */
struct view_out {
	const struct ref_view *v;
	struct gb_table *t;
};

static int view_row(void *arg, const char *const *cells, int n)
{
	struct view_out *o = arg;

	gb_table_row(o->t);
	for (int c = 0; c < n && o->v->cols[c]; c++)
		gb_table_cell(o->t, c, shown(o->v->cols[c], cells[c]));
	return 0;
}

/* Prints one view as a table.  Returns 0 or -1 with err. */
static int print_view(struct gb_db *db, const struct ref_view *v,
		      const char *grid, int heading, struct gb_err *err)
{
	struct gb_table t;
	struct view_out o = {v, &t};
	int ncols = 0, ret = -1;

	while (ncols < 8 && v->cols[ncols])
		ncols++;
	gb_table_init(&t, ncols);
	gb_table_header_tr(&t, v->cols);
	for (int c = 0; c < ncols; c++)
		gb_table_column(&t, c, 0, v->right[c]);
	if (db_ref_rows(db, v->table, grid, view_row, &o, err))
		goto out;
	if (heading)
		printf("%s (%d)\n", _(v->title), gb_table_body_rows(&t));
	gb_table_print(&t, stdout);
	ret = 0;
out:
	gb_table_release(&t);
	return ret;
}

int cmd_ref(struct gb_cli *cli, int argc, char **argv)
{
	int help = 0, npos, status = 1, which = -1;
	const struct gb_opt spec[] = {{"help", 0, NULL, &help}};
	struct gb_db *db = NULL;
	char *pos[1];
	struct gb_err err;

	if (gb_opts_parse(spec, 1, argc, argv, pos, 1, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "ref", &err);
	if (help) {
		ref_usage(stdout);
		return 0;
	}
	if (npos == 1) {
		size_t len = strlen(pos[0]);

		/* "community", "area" and other starts of a name do too. */
		for (int i = 0; i < NVIEWS && len; i++)
			if (!strncmp(views[i].name, pos[0], len))
				which = i;
		if (which < 0) {
			gb_error(&err, GB_EUSAGE,
				 _("'%s' is not one of communities, areas, "
				   "staff"),
				 pos[0]);
			return gb_opts_usage_error(cli->prog, "ref", &err);
		}
	}
	db = cmd_open_db(cli, DB_READONLY);
	if (!db)
		return 1;
	for (int i = 0; i < NVIEWS; i++) {
		if (which >= 0 && i != which)
			continue;
		if (which < 0 && i > 0)
			printf("\n");
		if (print_view(db, &views[i], db_grid(db), which < 0, &err))
			goto fail;
	}
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	db_close(db);
	if (fflush(stdout) != 0 && !status)
		status = 1;
	return status;
}

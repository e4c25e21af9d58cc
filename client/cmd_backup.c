/*
 * gridbook backup FILE: a consistent copy of the grid file, safe to take
 * while gridbook-syncd or another command writes to it (common/backup.c),
 * checked with integrity_check before it gets its name.  Restoring is
 * copying it back (or pointing --db at it).
 */
#include <stdio.h>
#include <string.h>

#include "backup.h"
#include "cmd.h"
#include "err.h"
#include "i18n.h"
#include "opts.h"

#include "banned.h"

static const char usage_text[] =
    N_("usage: gridbook backup FILE\n"
       "\n"
       "Copies the grid file to FILE as it stands at one moment, also while\n"
       "gridbook-syncd or another command is writing to it, and checks the\n"
       "copy (integrity_check).  FILE must not exist.  To restore, copy FILE\n"
       "back in place of the grid file while nothing uses it, or use it as\n"
       "--db FILE.\n");

int cmd_backup(struct gb_cli *cli, int argc, char **argv)
{
	int help = 0, npos = 0;
	struct gb_err err;
	char *pos[1];
	long pages;

	if (gb_opts_parse(NULL, 0, argc, argv, pos, 1, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "backup", &err);
	if (help) {
		fputs(_(usage_text), stdout);
		return 0;
	}
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE, _("backup needs the FILE to write"));
		return gb_opts_usage_error(cli->prog, "backup", &err);
	}
	if (!cli->db_path) {
		fprintf(stderr,
			_("%s: no grid file: give --db FILE or set "
			  "GRIDBOOK_DB\n"),
			cli->prog);
		return 1;
	}
	if (gb_sqlite_backup(cli->db_path, pos[0], &pages, &err))
		return cmd_fail(cli, &err);
	fprintf(stderr, _("backed up %s to %s (%ld pages, integrity ok)\n"),
		cli->db_path, pos[0], pages);
	return 0;
}

/*
 * What every command of the CLI does the same way: report a failure
 * (the message on stderr, the exit status of its code) and open the grid
 * file the global options named.  Kept apart from main.c so that the
 * commands need only this and the modules below them, never the program
 * that dispatches to them.
 */
#include <stdio.h>

#include "cmd.h"
#include "db.h"
#include "err.h"
#include "i18n.h"

#include "banned.h"

int cmd_fail(const struct gb_cli *cli, const struct gb_err *err)
{
	fprintf(stderr, "%s: %s\n", cli->prog, err->msg);
	return gb_code_exit(err->code);
}

struct gb_db *cmd_open_db(const struct gb_cli *cli, unsigned flags)
{
	struct gb_db *db = NULL;
	struct gb_err err;

	if (!cli->db_path) {
		fprintf(stderr,
			_("%s: no grid file: give --db FILE or set "
			  "GRIDBOOK_DB\n"),
			cli->prog);
		return NULL;
	}
	if (db_open(&db, cli->db_path, flags, &err)) {
		cmd_fail(cli, &err);
		return NULL;
	}
	return db;
}

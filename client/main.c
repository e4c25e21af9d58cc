/*
 * gridbook: the field client.  Parses the global options, finds the
 * command and runs it.  Kinds are commands of their own ("gridbook patrol
 * add ..."), so the table of kinds in kinds.c is also the command table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "err.h"
#include "i18n.h"
#include "kinds.h"
#include "wire.h"

#include "banned.h"

static const struct {
	const char *name;
	int (*fn)(struct gb_cli *, int, char **);
	const char *help;
} commands[] = {
    {"init", cmd_init,
     N_("create the file of a grid and load its reference data")},
    {"import", cmd_import, N_("import records of one kind from a CSV file")},
    {"export", cmd_export, N_("export records of one kind as CSV or JSON")},
    {"ref", cmd_ref, N_("list the grid's communities, police areas and staff")},
    {"sync", cmd_sync, N_("exchange records with HQ; sync status, setup")},
    {"check", cmd_check,
     N_("list the versions held out of bounds (a clock "
	"that was wrong)")},
    {"conflicts", cmd_conflicts,
     N_("fields two laptops changed at once: "
	"list them, keep one")},
    {"backup", cmd_backup,
     N_("copy the grid file while it is in use, "
	"checked")},
    {"status", cmd_status,
     N_("what needs you today: overdue orders, late "
	"requests, unsent and refused records")},
};

#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static void usage(FILE *fp)
{
	fprintf(fp, _("usage: gridbook [--db FILE] <command> [options]\n\n"));
	fprintf(fp, _("The grid file comes from --db or GRIDBOOK_DB.\n\n"));
	fprintf(fp, _("commands:\n"));
	for (int i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-16s %s\n", commands[i].name,
			_(commands[i].help));
	fprintf(fp, _("\nrecord kinds (gridbook KIND add|edit|void|list|show|"
		      "history):\n"));
	for (int i = 0; i < gb_nkinds; i++) {
		const char *gloss = gb_kind_gloss(&gb_kinds[i]);

		fprintf(fp, "  %-16s %s%s%s\n", gb_kinds[i].name,
			gb_kinds[i].zh, gloss ? " " : "", gloss ? gloss : "");
	}
	fprintf(fp, _("\n'gridbook <command> --help' tells more.\n"));
}

int main(int argc, char **argv)
{
	struct gb_cli cli = {"gridbook", getenv("GRIDBOOK_DB")};
	const struct gb_kind *kind;
	int i = 1;

	gb_i18n_init();
	if (wire_start_check("gridbook"))
		return 1;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			cli.db_path = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--db=", 5)) {
			cli.db_path = argv[i] + 5;
			i++;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("gridbook 0.1\n");
			return 0;
		} else {
			fprintf(stderr, _("gridbook: unknown option %s\n"),
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (int c = 0; c < NCOMMANDS; c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(&cli, argc - i, argv + i);
	kind = gb_kind_find(argv[i]);
	if (kind)
		return cmd_record(&cli, kind, argc - i, argv + i);
	fprintf(stderr, _("gridbook: '%s' is not a command or a record kind\n"),
		argv[i]);
	usage(stderr);
	return 2;
}

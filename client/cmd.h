/*
 * The commands of the gridbook CLI, one cmd_<verb>.c each.  main.c parses
 * the global options and hands each command its own argv (argv[0] is the
 * command name).  A command returns the process exit status: 0 ok, 1
 * failure, 2 usage error; it prints its own messages on stderr.
 */
#ifndef GB_CMD_H
#define GB_CMD_H

#include "kinds.h"

struct gb_cli {
	const char *prog;    /* "gridbook" */
	const char *db_path; /* --db or GRIDBOOK_DB; NULL when neither */
};

int cmd_init(struct gb_cli *cli, int argc, char **argv);
/* argv[0] is the kind name, argv[1] the verb (add edit void list show
 * history). */
int cmd_record(struct gb_cli *cli, const struct gb_kind *kind, int argc,
	       char **argv);
int cmd_import(struct gb_cli *cli, int argc, char **argv);
int cmd_export(struct gb_cli *cli, int argc, char **argv);
int cmd_ref(struct gb_cli *cli, int argc, char **argv);
/* A consistent copy of the grid file. */
int cmd_backup(struct gb_cli *cli, int argc, char **argv);
/* What needs the laptop's user today. */
int cmd_status(struct gb_cli *cli, int argc, char **argv);
/* sync, sync status, sync setup. */
int cmd_sync(struct gb_cli *cli, int argc, char **argv);
/* cmd_check.c: the versions held out of bounds, changing nothing. */
int cmd_check(struct gb_cli *cli, int argc, char **argv);
/* The fields two laptops changed at once: list, resolve. */
int cmd_conflicts(struct gb_cli *cli, int argc, char **argv);

/* Prints "gridbook: <msg>" on stderr and returns the exit status of code.
 * For commands. */
struct gb_err;
int cmd_fail(const struct gb_cli *cli, const struct gb_err *err);
/* Opens the grid file named by --db/GRIDBOOK_DB, reporting on stderr a
 * missing option or file.  Returns NULL after printing. */
struct gb_db *cmd_open_db(const struct gb_cli *cli, unsigned flags);

/*
 * Whether records of kind k may be entered in db: the file's staff (meta
 * "staff") must have a role that writes k (gb_kind_role_allows), so that
 * a laptop does not collect records its device may not send.  A file
 * with no staff set, or whose staff is not in its reference data, has
 * nothing to check.  Returns 0, or -1 with err (GB_EFORBIDDEN naming the
 * kind, the staff and the role; GB_EDB when the lookup fails).  Defined
 * in cmd_record.c; import uses it too.
 */
int cmd_check_author(struct gb_db *db, const struct gb_kind *k,
		     struct gb_err *err);

/*
 * CSV for spreadsheets (SPEC §7), written by export and list --format csv
 * and read back by import; defined in cmd_export.c.  The header is in the
 * user's language when a catalogue translates it (the field labels),
 * else the field names; beside each reference a column holds the names
 * it stands for; cells that a spreadsheet would run as formulas are
 * neutralised (gb_csv_cell).  The caller writes GB_CSV_BOM first.
 */
struct gb_buf;
struct gb_record;
int cmd_csv_labels(void);
int cmd_csv_header(struct gb_buf *b, const struct gb_kind *k, int all,
		   struct gb_err *err);
/* db (borrowed) names the references. */
int cmd_csv_row(struct gb_db *db, struct gb_buf *b, const struct gb_record *r,
		int all, struct gb_err *err);

/* What a header cell names, in either language. */
enum cmd_csv_col {
	CSV_COL_UNKNOWN,
	CSV_COL_FIELD, /* field *field of the kind */
	CSV_COL_NAME,  /* the names beside a reference: ignored */
	CSV_COL_ID,
	CSV_COL_VOIDED,
	CSV_COL_VOID_REASON,
};
/* h is the trimmed header cell. */
enum cmd_csv_col cmd_csv_column(const struct gb_kind *k, const char *h,
				int *field);

#endif

/*
 * Option parsing for the commands of gridbook, gridbook-syncd and
 * gridbook-hq.  Every command takes long options only ("--from
 * 2026-03-01" or "--from=2026-03-01"), '-' and '_' alike in names so that
 * "--employees-total" names the field employees_total, "--help" (or "-h")
 * everywhere, and "--" to end the options.  Words that are not options are
 * positional arguments (a record id) and may come before, between or
 * after the options.
 */
#ifndef GB_OPTS_H
#define GB_OPTS_H

#include "err.h"

struct gb_opt {
	const char *name; /* long name without the dashes */
	int has_arg;	  /* 1: takes a value, 0: a flag */
	const char **val; /* has_arg: where the value goes (borrowed from
			     argv); NULL when unused */
	int *flag;	  /* set to 1 when given; may be NULL */
};

/*
 * Parses argv[1..argc-1] (argv[0] names the command) against the nspec
 * options of spec.  Values are stored as pointers into argv.  Positional
 * words go, in order, into pos (room for maxpos) and their count into
 * *npos.  "--help" and "-h" set *help (which may be NULL when the command
 * has none) and stop parsing there, so that a broken command line still
 * gets its help.  Returns 0, or -1 with err (GB_EUSAGE) naming an unknown
 * option, an option given twice, a missing value or a surplus word.
 */
int gb_opts_parse(const struct gb_opt *spec, int nspec, int argc, char **argv,
		  char **pos, int maxpos, int *npos, int *help,
		  struct gb_err *err);

/*
 * Prints a usage error on stderr, "<prog>: <msg>", and a hint to run
 * "<prog> <cmd> --help" (just "<prog> --help" when cmd is NULL), cmd being
 * the command words given (e.g. "patrol list").  prog is the program's
 * name ("gridbook", "gridbook-hq").  Returns 2, the exit status of a usage
 * error.
 */
int gb_opts_usage_error(const char *prog, const char *cmd,
			const struct gb_err *err);

#endif

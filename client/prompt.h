/*
 * Reading field values from a person: the shared step that turns what was
 * typed (on the command line or at a prompt) into a field's canonical
 * value, and the interactive prompt that `gridbook KIND add` falls back to
 * when required fields are missing and stdin is a terminal.
 *
 * The prompt reads lines from stdin and writes its questions on stderr, so
 * stdout carries only the new record's id.  It never writes to the grid
 * file: the caller stores the record once every answer is in, so Ctrl-C or
 * the end of input at any question leaves nothing behind.
 */
#ifndef GB_PROMPT_H
#define GB_PROMPT_H

#include <signal.h>
#include <stdio.h>

#include "db.h"
#include "err.h"
#include "kinds.h"
#include "record.h"

/*
 * Turns input for field f into its canonical value: gb_field_parse(), then
 * for a REF the reference, and for a LIST each of its items (separated
 * by commas, "，", "、" or blanks), resolved with db_resolve() to a code
 * or id.  *out is set to a value the caller frees, or to NULL when
 * the input is empty.  Returns 0, or -1 with err naming the field.
 */
int prompt_value(struct gb_db *db, const struct gb_field *f, const char *input,
		 char **out, struct gb_err *err);

/* The readable form of a canonical value for a person: names for
 * references (several joined with ", "), local time for instants.  With
 * with_code set, a reference whose name differs from its code shows both:
 * "王建国 (J0001)".  Caller frees; NULL for NULL. */
char *prompt_display(struct gb_db *db, const struct gb_field *f,
		     const char *canon, int with_code);

struct prompt {
	struct gb_db *db; /* borrowed */
	FILE *in;	  /* borrowed: stdin */
	FILE *out;	  /* borrowed: stderr */
	char *line;	  /* owned: the last line read */
	size_t cap;
	struct sigaction old_int;
};

/* Starts a prompt session on stdin/stderr: Ctrl-C from now on cancels
 * the question being asked instead of killing the process.  Release it
 * with prompt_end(). */
void prompt_begin(struct prompt *p, struct gb_db *db);
/* Restores the previous Ctrl-C handling and frees the line buffer. */
void prompt_end(struct prompt *p);

/*
 * Asks for field idx of r until a valid answer comes and stores the
 * canonical value in r.  dflt (canonical, may be NULL) is shown in
 * brackets and taken when the answer is empty; ENUM choices are listed
 * with numbers, and a number or a code is accepted; a REF takes a code or
 * the start of a name.  A required field with no default must get a value.
 * problem, when not NULL, is said first (why the question is asked
 * again).  Returns 0, or -1 with err GB_EINTR when the person pressed
 * Ctrl-C or input ended.
 */
int prompt_field(struct prompt *p, struct gb_record *r, int idx,
		 const char *dflt, const char *problem, struct gb_err *err);

/*
 * Asks a yes-or-no question (question is shown with " [y/N]: ").  Returns
 * 1 for yes (y, yes, 是, 好), 0 for no or an empty answer, -1 with err
 * GB_EINTR when the person pressed Ctrl-C or input ended.
 */
int prompt_confirm(struct prompt *p, const char *question, struct gb_err *err);

#endif

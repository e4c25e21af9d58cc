/*
 * Turning what a person typed (or a CSV cell) into a field's canonical text
 * (kinds.h), and back into the form people read and CSV files carry.
 */
#ifndef GB_FIELD_H
#define GB_FIELD_H

#include "err.h"
#include "kinds.h"

/*
 * Parses input for field f.  On success returns 0 and sets *out to a newly
 * allocated canonical value the caller frees, or to NULL when input is
 * empty or only white space.  On failure returns -1 with err (GB_EINVAL)
 * naming the field, the value and the rule ("check_date: "2026-13-01" is
 * not a date (YYYY-MM-DD)").  Checks here are those of one value alone:
 * type, UTF-8, enum membership, INT range, USCC checksum.  REF values are
 * kept as given (trimmed); resolving names to codes needs the database.
 */
int gb_field_parse(const struct gb_field *f, const char *input, char **out,
		   struct gb_err *err);

/* The readable form of a canonical value: local "YYYY-MM-DD HH:MM" for
 * TIME, the value itself otherwise.  Caller frees; NULL for NULL. */
char *gb_field_format(const struct gb_field *f, const char *canon);

/* The form of a canonical value shown to people in tables and prompts:
 * gb_field_format's, with a choice code as its word in the user's
 * language ("责令改正").  Caller frees; NULL for NULL. */
char *gb_field_show(const struct gb_field *f, const char *canon);

#endif

/*
 * CSV as RFC 4180 writes it and spreadsheets (Excel, WPS) save it: comma
 * separated, fields quoted with '"' when they hold a comma, quote, CR or
 * LF, quotes doubled inside; CRLF or LF line ends; a UTF-8 byte order mark
 * at the start is skipped.  The reader streams from a FILE* and counts
 * physical lines so errors can name the line a person sees in an editor.
 */
#ifndef GB_CSV_H
#define GB_CSV_H

#include <stdio.h>

#include "buf.h"
#include "err.h"

#define GB_CSV_MAX_FIELDS 64

struct gb_csv {
	FILE *fp;	   /* borrowed */
	long line;	   /* physical line where the current row began */
	long next_line;	   /* physical line of the next row */
	struct gb_buf row; /* the fields of the row, NUL-separated */
	char *field[GB_CSV_MAX_FIELDS]; /* point into row */
	int nfields;
	int started;
};

/* Reads from fp (borrowed). */
void gb_csv_init(struct gb_csv *c, FILE *fp);
void gb_csv_release(struct gb_csv *c);

/* Reads the next row into c->field / c->nfields.  Returns 1 for a row, 0
 * at end of file, -1 on error (a quote never closed, a row over 1 MiB or
 * GB_CSV_MAX_FIELDS fields) with err naming the line.  Blank lines are
 * skipped. */
int gb_csv_next(struct gb_csv *c, struct gb_err *err);

/* Appends one field to out, quoted when needed (no separator). */
int gb_csv_field(struct gb_buf *out, const char *s, struct gb_err *err);

/* The byte order mark that tells Excel and WPS a CSV file is UTF-8. */
#define GB_CSV_BOM "\xef\xbb\xbf"

/*
 * Appends one cell of a file meant for a spreadsheet: as gb_csv_field, but
 * a value a spreadsheet would run as a formula -- one starting with = + -
 * @, a tab or a CR, after any number of apostrophes -- gets one more
 * apostrophe in front, which spreadsheets show as text.  Plain numbers
 * ("-12", "+3.5") are left alone.  gb_csv_unneutral undoes it.
 */
int gb_csv_cell(struct gb_buf *out, const char *s, struct gb_err *err);
/* A cell as it was before gb_csv_cell: s itself, or s past the one
 * apostrophe gb_csv_cell added.  Borrowed from s. */
const char *gb_csv_unneutral(const char *s);

/*
 * Makes the text of fp (borrowed, at its start) UTF-8 for gb_csv_init:
 * UTF-8 (with or without BOM) is kept as it is and *out is fp, rewound
 * when it is a regular file; anything else is read as GB18030 (what Excel
 * saves on a Chinese PC) and *out is a temporary file of its UTF-8 text
 * that the caller fcloses.  *converted says which.  A file from a pipe is
 * copied to a temporary file either way.  Fails with GB_EINVAL when the
 * text is neither, naming the line of the first bad byte.
 */
int gb_csv_utf8(FILE *fp, FILE **out, int *converted, struct gb_err *err);

#endif

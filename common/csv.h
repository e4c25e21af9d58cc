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
	FILE *fp;               /* borrowed */
	long line;              /* physical line where the current row began */
	long next_line;         /* physical line of the next row */
	struct gb_buf row;      /* the fields of the row, NUL-separated */
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

#endif

/*
 * The one printer of aligned text tables, for the client's lists and HQ's
 * reports alike.  Cells are UTF-8; columns are padded by display width
 * (gb_utf8_width: a Chinese character is two columns), so a column of
 * Chinese names lines up with one of codes, and a cell wider than its
 * column's limit is cut at a character boundary and ends in "…".
 */
#ifndef GB_TABLE_H
#define GB_TABLE_H

#include <stdio.h>

#include "buf.h"
#include "err.h"

#define GB_TABLE_MAX_COLS 24

enum gb_table_flags {
	GB_TABLE_PLAIN = 1 << 0,   /* the first row is no header */
	GB_TABLE_NO_RULE = 1 << 1, /* no rule of dashes under the header */
};

struct gb_table {
	int ncols;
	int maxw[GB_TABLE_MAX_COLS];  /* column width limit, 0 = none */
	int right[GB_TABLE_MAX_COLS]; /* 1: align right (numbers) */
	char **cells;		      /* owned: nrows * ncols, NULL = empty */
	int nrows;		      /* rows including the header row */
	int alloc;
	unsigned flags; /* enum gb_table_flags, set after gb_table_init */
};

/* Starts an empty table with ncols columns (at most GB_TABLE_MAX_COLS). */
void gb_table_init(struct gb_table *t, int ncols);
/* Frees every cell. */
void gb_table_release(struct gb_table *t);

/* Sets the width limit of column col (display columns, at least 2) and
 * whether it aligns right. */
void gb_table_column(struct gb_table *t, int col, int maxw, int right);

/* Adds the header row: labels holds t->ncols labels (borrowed, copied),
 * shown as they are.  gb_table_header_tr translates each with _() first,
 * for a static list of N_() labels. */
void gb_table_header(struct gb_table *t, const char *const *labels);
void gb_table_header_tr(struct gb_table *t, const char *const *msgids);

/* Starts a new row (the first row is the header); its cells are empty. */
void gb_table_row(struct gb_table *t);
/* Sets cell col of the last row to a copy of s (NULL = empty). */
void gb_table_cell(struct gb_table *t, int col, const char *s);
/* Sets cell col of the last row and takes ownership of s. */
void gb_table_cell_take(struct gb_table *t, int col, char *s);

/* The number of rows after the header. */
int gb_table_body_rows(const struct gb_table *t);

/* Appends the table to b: the header row, a rule of dashes under it
 * (unless GB_TABLE_NO_RULE), then the other rows; two spaces between
 * columns, no trailing blanks.  A GB_TABLE_PLAIN table has no header or
 * rule.  Returns 0, or -1 with err set when b's cap is passed. */
int gb_table_write(const struct gb_table *t, struct gb_buf *b,
		   struct gb_err *err);
/* Writes the table to fp, as gb_table_write lays it out. */
void gb_table_print(const struct gb_table *t, FILE *fp);

#endif

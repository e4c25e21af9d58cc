/*
 * A small printer of aligned text tables for the terminal.  Cells are
 * UTF-8; columns are padded by display width (gb_utf8_width), so a column
 * of Chinese names lines up with one of codes, and a cell wider than its
 * column's limit is cut at a character boundary and ends in "…".
 */
#ifndef GB_TABLE_H
#define GB_TABLE_H

#include <stdio.h>

#define TABLE_MAX_COLS 24

struct table {
	int ncols;
	int maxw[TABLE_MAX_COLS];  /* column width limit, 0 = none */
	int right[TABLE_MAX_COLS]; /* 1: align right (numbers) */
	char **cells;		   /* owned: nrows * ncols, NULL = empty */
	int nrows;		   /* rows including the header row */
	int alloc;
	int plain; /* 1: the first row is no header */
};

/* Starts an empty table with ncols columns (at most TABLE_MAX_COLS). */
void table_init(struct table *t, int ncols);
/* Frees every cell. */
void table_release(struct table *t);

/* Sets the width limit of column col (display columns, at least 2) and
 * whether it aligns right. */
void table_column(struct table *t, int col, int maxw, int right);

/* Starts a new row (the first row is the header); its cells are empty. */
void table_row(struct table *t);
/* Sets cell col of the last row to a copy of s (NULL = empty). */
void table_cell(struct table *t, int col, const char *s);
/* Sets cell col of the last row and takes ownership of s. */
void table_cell_take(struct table *t, int col, char *s);

/* The number of rows after the header. */
int table_body_rows(const struct table *t);

/* Writes the table to fp: the header row, a rule of dashes under it, then
 * the other rows; two spaces between columns, no trailing blanks.  A
 * plain table (t->plain set after table_init) has no header or rule. */
void table_print(const struct table *t, FILE *fp);

#endif

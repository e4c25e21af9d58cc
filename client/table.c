/*
 * Aligned tables for list output (table.h).  The table is kept whole in
 * memory until it is printed, because a column's width is known only once
 * every cell of it has been seen.  Control characters in cells (a newline
 * in a note) are shown as spaces so that one row stays one line.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "utf8.h"
#include "xalloc.h"

#include "banned.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column wide */

void table_init(struct table *t, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
}

void table_release(struct table *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->alloc = 0;
}

void table_column(struct table *t, int col, int maxw, int right)
{
	if (col < 0 || col >= t->ncols)
		return;
	t->maxw[col] = maxw > 0 && maxw < 2 ? 2 : maxw;
	t->right[col] = right;
}

void table_row(struct table *t)
{
	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16;
		t->cells =
		    xrealloc(t->cells, (size_t)t->alloc * (size_t)t->ncols *
					   sizeof(*t->cells));
	}
	memset(t->cells + (size_t)t->nrows * (size_t)t->ncols, 0,
	       (size_t)t->ncols * sizeof(*t->cells));
	t->nrows++;
}

void table_cell_take(struct table *t, int col, char *s)
{
	char **c;

	if (!t->nrows || col < 0 || col >= t->ncols) {
		free(s);
		return;
	}
	c = &t->cells[(size_t)(t->nrows - 1) * (size_t)t->ncols + (size_t)col];
	free(*c);
	*c = s;
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void table_cell(struct table *t, int col, const char *s)
{
	table_cell_take(t, col, xstrdup(s));
}

int table_body_rows(const struct table *t)
{
	return t->nrows > 0 ? t->nrows - 1 : 0;
}

static const char *cell(const struct table *t, int row, int col)
{
	const char *s = t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];

	return s ? s : "";
}

static int cell_width(const struct table *t, int row, int col)
{
	int w = gb_utf8_width(cell(t, row, col));

	if (w < 0)
		w = (int)strlen(cell(t, row, col));
	if (t->maxw[col] && w > t->maxw[col])
		w = t->maxw[col];
	return w;
}

static void pad(FILE *fp, int n)
{
	for (; n > 0; n--)
		fputc(' ', fp);
}

/* Writes cell s in a column of width w; returns the columns written. */
static int put_cell(const struct table *t, FILE *fp, const char *s, int col,
		    int w)
{
	int sw = gb_utf8_width(s), used;

	if (sw < 0)
		sw = (int)strlen(s);
	if (t->maxw[col] && sw > t->maxw[col]) {
		char *cut = xstrndup(s, gb_utf8_prefix(s, t->maxw[col] - 1));

		fputs(cut, fp);
		fputs(ELLIPSIS, fp);
		/* A wide character that did not fit may leave a column over,
		 * which the caller pads. */
		used = gb_utf8_width(cut) + 1;
		free(cut);
		return used;
	}
	if (t->right[col])
		pad(fp, w - sw);
	fputs(s, fp);
	return t->right[col] ? w : sw;
}

void table_print(const struct table *t, FILE *fp)
{
	int w[TABLE_MAX_COLS] = {0};
	int last = t->ncols - 1;

	for (int r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			int cw = cell_width(t, r, c);

			if (cw > w[c])
				w[c] = cw;
		}
	for (int r = 0; r < t->nrows; r++) {
		/* Blanks are owed, not written, until something follows them,
		 * so that no line ends in spaces. */
		int owed = 0;

		for (int c = 0; c < t->ncols; c++) {
			const char *s = cell(t, r, c);
			int used;

			if (!*s) {
				owed += w[c] + (c < last ? 2 : 0);
				continue;
			}
			pad(fp, owed);
			used = put_cell(t, fp, s, c, w[c]);
			owed = (w[c] - used) + (c < last ? 2 : 0);
			if (owed < 0)
				owed = 0;
		}
		fputc('\n', fp);
		if (r == 0 && !t->plain) {
			int total = 0;

			for (int c = 0; c < t->ncols; c++)
				total += w[c] + (c < last ? 2 : 0);
			for (int i = 0; i < total; i++)
				fputc('-', fp);
			fputc('\n', fp);
		}
	}
}

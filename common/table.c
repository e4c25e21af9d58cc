/*
 * Aligned tables (table.h).  The table is kept whole in memory until it is
 * written, because a column's width is known only once every cell of it
 * has been seen.  Control characters in cells (a newline in a note) are
 * shown as spaces so that one row stays one line.
 */
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "table.h"
#include "utf8.h"
#include "xalloc.h"

#include "banned.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column wide */

void gb_table_init(struct gb_table *t, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > GB_TABLE_MAX_COLS ? GB_TABLE_MAX_COLS : ncols;
}

void gb_table_release(struct gb_table *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->alloc = 0;
}

void gb_table_column(struct gb_table *t, int col, int maxw, int right)
{
	if (col < 0 || col >= t->ncols)
		return;
	t->maxw[col] = maxw > 0 && maxw < 2 ? 2 : maxw;
	t->right[col] = right;
}

void gb_table_row(struct gb_table *t)
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

void gb_table_header(struct gb_table *t, const char *const *labels)
{
	gb_table_row(t);
	for (int c = 0; c < t->ncols; c++)
		gb_table_cell(t, c, labels[c]);
}

void gb_table_header_tr(struct gb_table *t, const char *const *msgids)
{
	gb_table_row(t);
	for (int c = 0; c < t->ncols; c++)
		gb_table_cell(t, c, _(msgids[c]));
}

void gb_table_cell_take(struct gb_table *t, int col, char *s)
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

void gb_table_cell(struct gb_table *t, int col, const char *s)
{
	gb_table_cell_take(t, col, xstrdup(s));
}

int gb_table_body_rows(const struct gb_table *t)
{
	return t->nrows > 0 ? t->nrows - 1 : 0;
}

static const char *cell(const struct gb_table *t, int row, int col)
{
	const char *s = t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];

	return s ? s : "";
}

static int cell_width(const struct gb_table *t, int row, int col)
{
	int w = gb_utf8_width(cell(t, row, col));

	if (w < 0)
		w = (int)strlen(cell(t, row, col));
	if (t->maxw[col] && w > t->maxw[col])
		w = t->maxw[col];
	return w;
}

/* Appends n bytes ch. */
static int fill(struct gb_buf *b, char ch, int n, struct gb_err *err)
{
	for (; n > 0; n--)
		if (gb_buf_add(b, &ch, 1, err))
			return -1;
	return 0;
}

/* Appends cell s in a column of width w; *used is the columns written. */
static int put_cell(const struct gb_table *t, struct gb_buf *b, const char *s,
		    int col, int w, int *used, struct gb_err *err)
{
	int sw = gb_utf8_width(s);

	if (sw < 0)
		sw = (int)strlen(s);
	if (t->maxw[col] && sw > t->maxw[col]) {
		size_t cut = gb_utf8_prefix(s, t->maxw[col] - 1);
		char *head = xstrndup(s, cut);
		int rc;

		/* A wide character that did not fit may leave a column over,
		 * which the caller pads. */
		*used = gb_utf8_width(head) + 1;
		rc = gb_buf_adds(b, head, err) || gb_buf_adds(b, ELLIPSIS, err)
			 ? -1
			 : 0;
		free(head);
		return rc;
	}
	if (t->right[col] && fill(b, ' ', w - sw, err))
		return -1;
	*used = t->right[col] ? w : sw;
	return gb_buf_adds(b, s, err);
}

int gb_table_write(const struct gb_table *t, struct gb_buf *b,
		   struct gb_err *err)
{
	int w[GB_TABLE_MAX_COLS] = {0};
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
			if (fill(b, ' ', owed, err) ||
			    put_cell(t, b, s, c, w[c], &used, err))
				return -1;
			owed = (w[c] - used) + (c < last ? 2 : 0);
			if (owed < 0)
				owed = 0;
		}
		if (gb_buf_adds(b, "\n", err))
			return -1;
		if (r == 0 &&
		    !(t->flags & (GB_TABLE_PLAIN | GB_TABLE_NO_RULE))) {
			int total = 0;

			for (int c = 0; c < t->ncols; c++)
				total += w[c] + (c < last ? 2 : 0);
			if (fill(b, '-', total, err) ||
			    gb_buf_adds(b, "\n", err))
				return -1;
		}
	}
	return 0;
}

void gb_table_print(const struct gb_table *t, FILE *fp)
{
	struct gb_buf b;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_table_write(t, &b, NULL) == 0)
		fwrite(b.data ? b.data : "", 1, b.len, fp);
	gb_buf_release(&b);
}

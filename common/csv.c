/*
 * A streaming CSV reader and a field writer (see csv.h).  Imports of a
 * hundred thousand lines pass through gb_csv_next(), so it reads with
 * getc_unlocked() and gathers bytes in a small local chunk before they go
 * into the row buffer, rather than paying for a lock and a function call
 * per byte.
 *
 * The reader is lenient where spreadsheets and hand edits differ from RFC
 * 4180 but the meaning is plain: a lone CR ends a line as CRLF and LF do, a
 * quote inside an unquoted field is an ordinary character, and text after
 * a closing quote is kept as part of the field.  It is strict where going
 * on would silently change data: a quoted field still open at the end of
 * the file, a NUL byte, a row over 1 MiB or over GB_CSV_MAX_FIELDS fields.
 * After an error in one row the reader has consumed that row, so a caller
 * may report it and go on with the next.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "i18n.h"

#include "banned.h"

#define ROW_MAX (1024 * 1024)
#define CHUNK 4096

enum row_fault { FAULT_NONE, FAULT_NUL, FAULT_SIZE, FAULT_FIELDS };

/* The state of reading one row. */
struct reader {
	struct gb_csv *c;
	unsigned char pre[3]; /* bytes read while looking for a BOM */
	int npre, ipre;
	char chunk[CHUNK]; /* bytes not yet in c->row */
	size_t nchunk;
	size_t len;        /* the row's length so far, chunk included */
	enum row_fault fault;
	long fault_line;
};

static int get(struct reader *r)
{
	if (r->ipre < r->npre)
		return r->pre[r->ipre++];
	return getc_unlocked(r->c->fp);
}

/* After a CR: swallows the LF of a CRLF.  Returns 1 when there was one. */
static int eat_lf(struct reader *r)
{
	int ch;

	if (r->ipre < r->npre) {
		if (r->pre[r->ipre] != '\n')
			return 0;
		r->ipre++;
		return 1;
	}
	ch = getc_unlocked(r->c->fp);
	if (ch == '\n')
		return 1;
	if (ch != EOF)
		ungetc(ch, r->c->fp);
	return 0;
}

static void set_fault(struct reader *r, enum row_fault f)
{
	if (r->fault == FAULT_NONE) {
		r->fault = f;
		r->fault_line = r->c->next_line;
	}
}

static int flush(struct reader *r, struct gb_err *err)
{
	if (r->nchunk && gb_buf_add(&r->c->row, r->chunk, r->nchunk, err))
		return -1;
	r->nchunk = 0;
	return 0;
}

/* Appends one byte to the row.  Past the row cap bytes are dropped and the
 * row is marked faulty; once a row is faulty nothing more is kept. */
static int put_byte(struct reader *r, char ch, struct gb_err *err)
{
	if (r->fault != FAULT_NONE)
		return 0;
	if (r->len >= ROW_MAX) {
		set_fault(r, FAULT_SIZE);
		return 0;
	}
	if (r->nchunk == CHUNK && flush(r, err))
		return -1;
	r->chunk[r->nchunk++] = ch;
	r->len++;
	return 0;
}

/* Appends one byte of a field's text, where NUL has no place: it would cut
 * the field short. */
static int put(struct reader *r, int ch, struct gb_err *err)
{
	if (ch == '\0') {
		set_fault(r, FAULT_NUL);
		return 0;
	}
	return put_byte(r, (char)ch, err);
}

/*
 * Reads the first bytes of the file and keeps them for the parser unless
 * they are a UTF-8 byte order mark.  Up to three bytes are held back since
 * a file may well begin with EF but no BOM (U+F900 and its neighbours are
 * Chinese characters).
 */
static void skip_bom(struct reader *r)
{
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
	int ch, i;

	for (i = 0; i < 3; i++) {
		ch = getc_unlocked(r->c->fp);
		if (ch == EOF)
			break;
		r->pre[r->npre++] = (unsigned char)ch;
		if (ch != bom[i])
			break;
	}
	if (r->npre == 3 && ch == bom[2])
		r->npre = 0;
}

static int read_error(struct reader *r, struct gb_err *err)
{
	return gb_error(err, GB_EIO, _("line %ld: cannot read: %s"),
			r->c->next_line, strerror(errno));
}

/*
 * Reads one field whose first character is ch, quoted or not.  Returns
 * the character that ended it (',', '\n', '\r' or EOF), or -2 on an error
 * with err filled.
 */
static int read_field(struct reader *r, int ch, struct gb_err *err)
{
	long opened;

	if (ch == '"') {
		opened = r->c->next_line;
		for (;;) {
			ch = get(r);
			if (ch == EOF) {
				if (ferror(r->c->fp)) {
					read_error(r, err);
					return -2;
				}
				gb_error(err, GB_EINVAL,
					 _("line %ld: a quoted field starts "
					   "here and is never closed (a '\"' "
					   "is missing)"),
					 opened);
				return -2;
			}
			if (ch == '"') {
				ch = get(r);
				if (ch != '"')
					break;
			} else if (ch == '\n') {
				r->c->next_line++;
			} else if (ch == '\r') {
				if (eat_lf(r)) {
					if (put(r, '\r', err))
						return -2;
					ch = '\n';
				}
				r->c->next_line++;
			}
			if (put(r, ch, err))
				return -2;
		}
	}
	/* An unquoted field, or what follows a closing quote. */
	while (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF) {
		if (put(r, ch, err))
			return -2;
		ch = get(r);
	}
	if (ch == EOF && ferror(r->c->fp)) {
		read_error(r, err);
		return -2;
	}
	return ch;
}

static int row_fault_error(struct reader *r, struct gb_err *err)
{
	switch (r->fault) {
	case FAULT_NUL:
		return gb_error(err, GB_EINVAL,
				_("line %ld: a NUL byte in the text (is this "
				  "a CSV file?)"),
				r->fault_line);
	case FAULT_SIZE:
		return gb_error(err, GB_ETOOBIG,
				_("line %ld: the row is longer than 1 MiB"),
				r->c->line);
	case FAULT_FIELDS:
		return gb_error(err, GB_ETOOBIG,
				_("line %ld: the row has more than %d fields"),
				r->c->line, GB_CSV_MAX_FIELDS);
	case FAULT_NONE:
		break;
	}
	return 0;
}

void gb_csv_init(struct gb_csv *c, FILE *fp)
{
	c->fp = fp;
	c->line = 0;
	c->next_line = 1;
	/* The cap of the buffer is a backstop: put() stops at ROW_MAX. */
	gb_buf_init(&c->row, ROW_MAX + GB_CSV_MAX_FIELDS + CHUNK);
	c->nfields = 0;
	c->started = 0;
}

void gb_csv_release(struct gb_csv *c)
{
	gb_buf_release(&c->row);
	c->nfields = 0;
}

int gb_csv_next(struct gb_csv *c, struct gb_err *err)
{
	struct reader r;
	size_t off[GB_CSV_MAX_FIELDS];
	int ch, i, nf = 0;

	r.c = c;
	r.npre = r.ipre = 0;
	r.nchunk = 0;
	r.len = 0;
	r.fault = FAULT_NONE;
	r.fault_line = 0;
	c->nfields = 0;
	gb_buf_reset(&c->row);
	if (!c->started) {
		c->started = 1;
		skip_bom(&r);
	}

	/* Blank lines before the row are skipped, but counted. */
	for (;;) {
		ch = get(&r);
		if (ch == '\n') {
			c->next_line++;
		} else if (ch == '\r') {
			eat_lf(&r);
			c->next_line++;
		} else {
			break;
		}
	}
	if (ch == EOF)
		return ferror(c->fp) ? read_error(&r, err) : 0;
	c->line = c->next_line;

	for (;;) {
		if (nf < GB_CSV_MAX_FIELDS)
			off[nf] = r.len;
		else
			set_fault(&r, FAULT_FIELDS);
		ch = read_field(&r, ch, err);
		if (ch == -2)
			return -1;
		if (put_byte(&r, '\0', err))
			return -1;
		nf++;
		if (ch != ',')
			break;
		ch = get(&r);
	}
	if (ch == '\r')
		eat_lf(&r);
	if (ch != EOF)
		c->next_line++;
	if (r.fault != FAULT_NONE)
		return row_fault_error(&r, err);
	if (flush(&r, err))
		return -1;
	for (i = 0; i < nf; i++)
		c->field[i] = c->row.data + off[i];
	c->nfields = nf;
	return 1;
}

/* Whether a value must be quoted to read back the same: a separator,
 * quote or line end inside, or a space at either end that a spreadsheet
 * might trim. */
static int needs_quotes(const char *s, size_t n)
{
	if (strpbrk(s, ",\"\r\n"))
		return 1;
	return n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
}

int gb_csv_field(struct gb_buf *out, const char *s, struct gb_err *err)
{
	const char *p, *run;
	size_t n;

	if (!s)
		s = "";
	n = strlen(s);
	if (!needs_quotes(s, n))
		return gb_buf_add(out, s, n, err);
	if (gb_buf_add(out, "\"", 1, err))
		return -1;
	for (run = p = s; *p; p++) {
		if (*p != '"')
			continue;
		/* Copies through this quote, then adds the second one. */
		if (gb_buf_add(out, run, (size_t)(p - run) + 1, err) ||
		    gb_buf_add(out, "\"", 1, err))
			return -1;
		run = p + 1;
	}
	if (gb_buf_add(out, run, (size_t)(p - run), err))
		return -1;
	return gb_buf_add(out, "\"", 1, err);
}

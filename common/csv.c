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
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "i18n.h"
#include "utf8.h"

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
	size_t len; /* the row's length so far, chunk included */
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

/* Whether s is a plain decimal number, which a spreadsheet reads as a
 * number and never as a formula. */
static int plain_number(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+');
	int digits = 0;

	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return digits > 0 && *p == '\0';
}

/* Whether s, past its leading apostrophes, starts a formula. */
static int formula_like(const char *s)
{
	while (*s == '\'')
		s++;
	return *s && strchr("=+-@\t\r", *s) != NULL;
}

int gb_csv_cell(struct gb_buf *out, const char *s, struct gb_err *err)
{
	struct gb_buf tmp;
	int rc;

	if (!s || !formula_like(s) || plain_number(s))
		return gb_csv_field(out, s, err);
	gb_buf_init(&tmp, GB_BUF_NOLIMIT);
	rc = gb_buf_add(&tmp, "'", 1, err) || gb_buf_adds(&tmp, s, err) ||
	     gb_csv_field(out, gb_buf_str(&tmp), err);
	gb_buf_release(&tmp);
	return rc ? -1 : 0;
}

const char *gb_csv_unneutral(const char *s)
{
	if (s && s[0] == '\'' && formula_like(s + 1) && !plain_number(s + 1))
		return s + 1;
	return s;
}

/* The physical line (from 1) at byte off of text. */
static long line_at(const char *text, size_t off)
{
	long line = 1;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* Converts text[0..n) from GB18030 to UTF-8 into fp.  Returns 0, or the
 * offset + 1 of the first byte that is not GB18030. */
static size_t gb18030_to(FILE *fp, char *text, size_t n)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	char outb[8192], *in = text;
	size_t left = n, bad = 0;

	if (cd == (iconv_t)-1)
		return 1;
	while (left > 0) {
		char *o = outb;
		size_t room = sizeof(outb);
		size_t r = iconv(cd, &in, &left, &o, &room);

		fwrite(outb, 1, (size_t)(o - outb), fp);
		if (r == (size_t)-1 && errno != E2BIG) {
			bad = (size_t)(in - text) + 1;
			break;
		}
	}
	iconv_close(cd);
	return bad;
}

int gb_csv_utf8(FILE *fp, FILE **out, int *converted, struct gb_err *err)
{
	struct gb_buf all;
	struct stat st;
	char chunk[65536];
	size_t n, bad;
	FILE *tmp = NULL;
	int regular = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
	int ret = -1;

	*out = NULL;
	*converted = 0;
	gb_buf_init(&all, GB_BUF_NOLIMIT);
	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), fp);
		if (n == 0)
			break;
		if (gb_buf_add(&all, chunk, n, err))
			goto out;
	}
	if (ferror(fp)) {
		gb_error(err, GB_EIO, _("cannot read the file: %s"),
			 strerror(errno));
		goto out;
	}
	if (gb_utf8_valid(all.data ? all.data : "", all.len)) {
		if (regular && fseek(fp, 0, SEEK_SET) == 0) {
			clearerr(fp);
			*out = fp;
			ret = 0;
			goto out;
		}
		tmp = tmpfile();
		if (!tmp || fwrite(all.data, 1, all.len, tmp) != all.len)
			goto tmp_fail;
	} else {
		tmp = tmpfile();
		if (!tmp)
			goto tmp_fail;
		bad = gb18030_to(tmp, all.data, all.len);
		if (bad) {
			gb_error(err, GB_EINVAL,
				 _("line %ld: the file is neither UTF-8 nor "
				   "GB18030 text"),
				 line_at(all.data, bad - 1));
			goto out;
		}
		*converted = 1;
	}
	if (fflush(tmp) || fseek(tmp, 0, SEEK_SET))
		goto tmp_fail;
	*out = tmp;
	tmp = NULL;
	ret = 0;
	goto out;
tmp_fail:
	gb_error(err, GB_EIO, _("cannot write a temporary file: %s"),
		 strerror(errno));
out:
	if (tmp)
		fclose(tmp);
	gb_buf_release(&all);
	return ret;
}

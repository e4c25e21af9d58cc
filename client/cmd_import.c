/*
 * gridbook import KIND FILE.csv: loads many records of one kind at once,
 * typically a spreadsheet of enterprises that a street office already
 * keeps.  It works in two phases so that a file is imported whole or not
 * at all.  Phase 1 reads and checks every line -- each cell parsed, names
 * resolved to codes, defaults applied, the record validated, duplicates
 * within the file and against the grid found -- and keeps the good
 * records in memory.  If any line is bad, nothing is written and every bad
 * line is reported with the line number a person sees in an editor, unless
 * --skip-bad asks to import the good lines and set the bad ones aside in a
 * file of their own.  Phase 2 inserts all good records in one transaction,
 * so a crash or a kill leaves the grid with all of them or none.
 *
 * Imports of 100,000 lines are normal, so the per-line path avoids work
 * that repeats: a line names one of a few communities or enterprises, so
 * name resolution and the lookups of validation go through hash maps
 * (hmap.h) keyed by the text asked for, and each record is validated once.
 * Good records are not kept as 100,000 allocated structures but packed
 * one after another into a single buffer (struct import, arena), which
 * phase 2 reads back into one reused record.
 */
#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "csv.h"
#include "db.h"
#include "err.h"
#include "field.h"
#include "gbtime.h"
#include "i18n.h"
#include "hmap.h"
#include "id.h"
#include "kinds.h"
#include "opts.h"
#include "record.h"
#include "uscc.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

/* What a column of the file holds. */
enum col_what {
	COL_FIELD,	 /* a field of the kind */
	COL_ID,		 /* the record id */
	COL_VOIDED,	 /* the voided flag of an export with --all */
	COL_VOID_REASON, /* its reason */
	COL_IGNORED,	 /* "line" and "reason" of a reject file */
	COL_UNNAMED	 /* an empty header cell: its cells must be empty */
};

struct col {
	enum col_what what;
	int field; /* COL_FIELD: index in the kind */
};

struct import {
	struct gb_db *db;
	const struct gb_kind *kind;
	const char *path;     /* as given, for messages */
	const char *rej_path; /* --skip-bad, or NULL */
	char *rej_tmp;	      /* rej_path + ".tmp" */
	FILE *rej;
	int bom;      /* the input began with a UTF-8 BOM */
	int progress; /* stderr is a terminal */
	int64_t now;
	const char *me; /* db_staff, or NULL when unset */
	const struct gb_lookup *dblk;
	struct gb_lookup lk; /* dblk behind the lookup cache */

	struct col cols[GB_CSV_MAX_FIELDS];
	int ncols;
	char *header[GB_CSV_MAX_FIELDS]; /* owned copies, as written */

	struct gb_hmap resolved; /* "ref\x1finput" -> code, or n = -1 and err */
	struct gb_hmap looked;	 /* "ref\x1fattr\x1fkey" -> n = found, val */
	struct gb_hmap ids;	 /* id -> line */
	/* The keys of the kind's uniqueness rule (kinds.h) seen so far: a
	 * key refused twice (an enterprise's USCC) -> line, 0 for records
	 * of the grid; a pair of values that has one record (a daily
	 * report's officer and date) "k0\x1fk1" -> line. */
	struct gb_hmap once;
	struct gb_hmap pairs;
	struct gb_hmap ent_ids; /* uscc -> id (n: how many) of the grid */
	int ent_ids_loaded;
	struct gb_buf key;  /* scratch for building keys */
	struct gb_buf line; /* scratch for writing reject rows */

	/*
	 * The good records of phase 1, packed one after another: the id,
	 * '0' or '1' for voided, the void reason, then each field's value
	 * in field order, every string NUL-terminated and "" for empty.
	 */
	struct gb_buf arena;
	size_t ngood;
	int f_once, f_pair0, f_pair1;	    /* their fields' indices, or -1 */
	const char *t_checked, *t_imported; /* progress words, translated */
	long nbad;
	long nlines; /* data rows read */
	long total;  /* data rows in the file, for progress; 0 unknown */
};

static const char usage_text[] =
    N_("usage: gridbook import KIND FILE.csv [--skip-bad REJECTS.csv]\n"
       "\n"
       "Imports records of one kind from a CSV file (UTF-8, comma separated,\n"
       "as Excel or WPS save it, with or without a byte order mark; or\n"
       "GB18030, as Excel saves CSV on a Chinese PC).  The header row names\n"
       "the kind's fields ('-' and '_' alike), in English or in your\n"
       "language as export writes them; other columns:\n"
       "  id            the record id (a UUID); an id the grid holds already\n"
       "                is refused\n"
       "  voided, void_reason\n"
       "                written by 'gridbook export --all': a line with\n"
       "                voided 1 is imported as a voided record\n"
       "  line, reason  written to a reject file: ignored, so a corrected\n"
       "                reject file imports as it is\n"
       "  FIELD_name    the names export writes beside references: ignored\n"
       "Any other column is refused.  Names of communities, staff and\n"
       "enterprises (or USCC codes) resolve to their codes, as on the\n"
       "command line; empty cells take the field's default.\n"
       "\n"
       "Every line is checked first.  If any is bad, nothing is imported and\n"
       "each bad line is reported as FILE:LINE (the header is line 1).\n"
       "Otherwise all records are written in one transaction: all or none.\n"
       "A second enterprise with the same USCC, and a second daily report of\n"
       "an officer for one date, are bad lines.\n"
       "\n"
       "  --skip-bad REJECTS.csv   import the good lines and write the\n"
       "                           bad ones to REJECTS.csv with their line\n"
       "                           number and the reason\n");

/* Writes n with thousands separators ("45,000") into out. */
static const char *fmt_count(long n, char *out, size_t size)
{
	char digits[32];
	size_t len, o = 0;

	snprintf(digits, sizeof(digits), "%ld", n < 0 ? 0 : n);
	len = strlen(digits);
	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

/* Shows "<what> 45,000/100,000" in place on the terminal, about every 1%
 * of total (every 1,000 lines when the total is unknown). */
static void import_progress(const struct import *im, const char *what,
			    long done, long total, int last)
{
	char a[32], b[32];
	long step = total > 0 ? total / 100 : 1000;

	if (!im->progress)
		return;
	if (step < 1)
		step = 1;
	if (!last && done % step)
		return;
	if (total > 0)
		fprintf(stderr, "\r%s %s/%s", what,
			fmt_count(done, a, sizeof(a)),
			fmt_count(total, b, sizeof(b)));
	else
		fprintf(stderr, "\r%s %s", what, fmt_count(done, a, sizeof(a)));
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Sets the scratch key to the parts a, b and c joined by '\x1f' (c may be
 * NULL).  Returns 0 or -1 with err. */
static int import_key(struct import *im, const char *a, const char *b,
		      const char *c, struct gb_err *err)
{
	gb_buf_reset(&im->key);
	if (gb_buf_adds(&im->key, a, err) ||
	    gb_buf_add(&im->key, "\x1f", 1, err) ||
	    gb_buf_adds(&im->key, b, err))
		return -1;
	if (c && (gb_buf_add(&im->key, "\x1f", 1, err) ||
		  gb_buf_adds(&im->key, c, err)))
		return -1;
	return 0;
}

/* The tag of a reference type in cache keys: "1" for communities... */
static const char *ref_tag(enum gb_ref ref)
{
	static const char *const tags[] = {"0", "1", "2", "3", "4", "5"};

	return (unsigned)ref < sizeof(tags) / sizeof(tags[0]) ? tags[ref] : "?";
}

/*
 * The lookup of validation behind a cache: during phase 1 nothing is
 * written, so an answer once given stays true for the whole file.  Only
 * found / not found answers are kept; a lookup error is passed on.
 */
static int import_find(void *arg, enum gb_ref ref, const char *key,
		       const char *attr, char *out, size_t n,
		       struct gb_err *err)
{
	struct import *im = arg;
	struct gb_hmap_ent *e;
	char val[512];
	int rc, added;

	if (import_key(im, ref_tag(ref), attr ? attr : "", key, err))
		return -1;
	e = gb_hmap_gets(&im->looked, gb_buf_str(&im->key));
	if (!e) {
		val[0] = '\0';
		rc = im->dblk->find(im->dblk->arg, ref, key, attr, val,
				    sizeof(val), err);
		if (rc < 0)
			return rc;
		e = gb_hmap_puts(&im->looked, gb_buf_str(&im->key), &added);
		e->n = rc;
		e->val = attr && rc == 1 ? xstrdup(val) : NULL;
	}
	if (e->n == 1 && attr && out && n)
		snprintf(out, n, "%s", e->val ? e->val : "");
	return (int)e->n;
}

/*
 * Loads the USCC and id of every current enterprise of the grid, once: a
 * file of checks names thousands of enterprises by USCC, and asking the
 * database for each would scan every record each time.
 */
static int ent_id_one(void *arg, const char *uscc, const char *id)
{
	struct import *im = arg;
	struct gb_hmap_ent *e;
	int added;

	e = gb_hmap_puts(&im->ent_ids, uscc, &added);
	if (added)
		e->val = xstrdup(id);
	e->n++;
	return 0;
}

static int import_load_ent_ids(struct import *im, struct gb_err *err)
{
	im->ent_ids_loaded = 1;
	return db_field_values(im->db, gb_kind_find("enterprise"), "uscc",
			       ent_id_one, im, err);
}

/* The id of the one current enterprise whose USCC is input, or NULL (no
 * such code, or several: db_resolve then says which).  Borrowed. */
static const char *import_ent_by_uscc(struct import *im, const char *input,
				      struct gb_err *err, int *failed)
{
	struct gb_hmap_ent *e;
	char code[32];
	size_t n = 0;

	*failed = 0;
	for (const char *p = input; *p && n + 1 < sizeof(code); p++)
		if (*p != ' ')
			code[n++] = (*p >= 'a' && *p <= 'z')
					? (char)(*p - 'a' + 'A')
					: *p;
	code[n] = '\0';
	if (n != 18 || gb_uscc_check(code, NULL))
		return NULL;
	if (!im->ent_ids_loaded && import_load_ent_ids(im, err)) {
		*failed = 1;
		return NULL;
	}
	e = gb_hmap_gets(&im->ent_ids, code);
	return e && e->n == 1 ? e->val : NULL;
}

/* Resolves one reference as db_resolve does, through the cache.  Returns 0
 * and a borrowed code in *code, or -1 with err. */
static int import_resolve(struct import *im, enum gb_ref ref, const char *input,
			  const char **code, struct gb_err *err)
{
	struct gb_hmap_ent *e;
	struct gb_err rerr;
	char out[GB_ID_LEN + GB_CODE_LEN];
	int added;

	if (import_key(im, ref_tag(ref), input, NULL, err))
		return -1;
	e = gb_hmap_gets(&im->resolved, gb_buf_str(&im->key));
	if (!e && ref == GB_REF_ENTERPRISE) {
		int failed;
		const char *id = import_ent_by_uscc(im, input, err, &failed);

		if (failed)
			return -1;
		if (id) {
			e = gb_hmap_puts(&im->resolved, gb_buf_str(&im->key),
					 &added);
			e->val = xstrdup(id);
		}
	}
	if (!e) {
		gb_err_clear(&rerr);
		if (db_resolve(im->db, ref, input, out, sizeof(out), &rerr)) {
			/* A failing database is not the line's fault. */
			if (rerr.code != GB_ENOTFOUND &&
			    rerr.code != GB_EAMBIGUOUS &&
			    rerr.code != GB_EINVAL) {
				*err = rerr;
				return -1;
			}
			e = gb_hmap_puts(&im->resolved, gb_buf_str(&im->key),
					 &added);
			e->n = -1;
			e->val = xstrdup(rerr.msg);
		} else {
			e = gb_hmap_puts(&im->resolved, gb_buf_str(&im->key),
					 &added);
			e->val = xstrdup(out);
		}
	}
	if (e->n < 0)
		return gb_error(err, GB_EINVAL, "%s", e->val);
	*code = e->val;
	return 0;
}

/* Replaces the REF or LIST value of field i of r, as typed, by the codes
 * it names.  Returns 0, or -1 with err (GB_EINVAL for the line's fault,
 * anything else for the database's). */
static int import_resolve_field(struct import *im, struct gb_record *r, int i,
				struct gb_err *err)
{
	const struct gb_field *f = &r->kind->fields[i];
	struct gb_buf out;
	const char *p, *code;
	char *item = NULL;
	int ret = -1;

	gb_buf_init(&out, GB_BUF_NOLIMIT);
	if (f->type == GB_T_REF) {
		if (import_resolve(im, f->ref, r->val[i], &code, err))
			goto out;
		if (strcmp(code, r->val[i]))
			gb_record_set(r, i, code);
		ret = 0;
		goto out;
	}
	/* A LIST: resolve each comma-separated item. */
	for (p = r->val[i]; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			free(item);
			item = xstrndup(p, len);
			if (import_resolve(im, f->ref, item, &code, err))
				goto out;
			if ((out.len && gb_buf_add(&out, ",", 1, err)) ||
			    gb_buf_adds(&out, code, err))
				goto out;
		}
		if (!end)
			break;
		p = end + 1;
	}
	gb_record_set(r, i, gb_buf_str(&out));
	ret = 0;
out:
	if (ret && err->code == GB_EINVAL)
		gb_error_prefix(err, "%s", f->name);
	free(item);
	gb_buf_release(&out);
	return ret;
}

/* Whether s is empty or only white space. */
static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* Copies s without surrounding white space into out (size n); returns
 * out, truncated when longer. */
static char *trim_copy(const char *s, char *out, size_t n)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
		       s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

/* The columns import knows by their names alone. */
static int is_own_column(const char *name)
{
	static const char *const own[] = {"id",	  "voided", "void_reason",
					  "line", "reason", ""};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (gb_name_eq(name, own[i]))
			return 1;
	return 0;
}

/*
 * cmd_csv_column, in the user's language first and then in each language
 * of the catalogues, so that a file exported in Chinese imports in an
 * English session and the other way round (SPEC §7).
 */
static enum cmd_csv_col csv_column_any(const struct gb_kind *k, const char *h,
				       int *f)
{
	enum cmd_csv_col c = cmd_csv_column(k, h, f);
	static const enum gb_lang langs[] = {GB_LANG_ZH, GB_LANG_EN};

	for (size_t i = 0; c == CSV_COL_UNKNOWN && i < 2; i++) {
		locale_t loc = gb_i18n_locale(langs[i]), old;

		if (!loc)
			continue;
		old = uselocale(loc);
		c = cmd_csv_column(k, h, f);
		uselocale(old);
	}
	return c;
}

/*
 * Reads the header row and maps each column.  An unknown or repeated
 * column, or a required field with neither a column nor a default, is an
 * error of the whole file.  Returns 0 or -1 with err.
 */
static int import_header(struct import *im, struct gb_csv *c,
			 struct gb_err *err)
{
	const struct gb_kind *k = im->kind;
	int seen[GB_MAX_FIELDS] = {0};
	int seen_id = 0, seen_void = 0, seen_reason = 0;
	int rc = gb_csv_next(c, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return gb_error(err, GB_EINVAL,
				_("%s: the file is empty: the first line must "
				  "name the columns"),
				im->path);
	im->ncols = c->nfields;
	for (int i = 0; i < c->nfields; i++) {
		struct col *col = &im->cols[i];
		char name[128];
		int f;

		im->header[i] = xstrdup(c->field[i]);
		trim_copy(c->field[i], name, sizeof(name));
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		f = gb_kind_field(k, name);
		/* The header of an export in the user's language. */
		if (f < 0 && !is_own_column(name))
			switch (csv_column_any(k, name, &f)) {
			case CSV_COL_NAME:
				col->what = COL_IGNORED;
				continue;
			case CSV_COL_ID:
				snprintf(name, sizeof(name), "id");
				break;
			case CSV_COL_VOIDED:
				snprintf(name, sizeof(name), "voided");
				break;
			case CSV_COL_VOID_REASON:
				snprintf(name, sizeof(name), "void_reason");
				break;
			case CSV_COL_FIELD:
			case CSV_COL_UNKNOWN:
				break;
			}
		if (f >= 0) {
			if (seen[f]++)
				goto twice;
			col->what = COL_FIELD;
			col->field = f;
		} else if (!strcmp(name, "id")) {
			if (seen_id++)
				goto twice;
			col->what = COL_ID;
		} else if (!strcmp(name, "voided")) {
			if (seen_void++)
				goto twice;
			col->what = COL_VOIDED;
		} else if (gb_name_eq(name, "void_reason")) {
			if (seen_reason++)
				goto twice;
			col->what = COL_VOID_REASON;
		} else if (!strcmp(name, "line") || !strcmp(name, "reason")) {
			col->what = COL_IGNORED;
		} else if (!*name) {
			col->what = COL_UNNAMED;
		} else {
			return gb_error(err, GB_EINVAL,
					_("%s:1: unknown column '%s': %s has "
					  "no such field"),
					im->path, name, k->name);
		}
		continue;
	twice:
		return gb_error(err, GB_EINVAL,
				_("%s:1: column '%s' appears twice"), im->path,
				name);
	}
	for (int f = 0; f < k->nfields; f++)
		if ((k->fields[f].flags & GB_F_REQUIRED) && !seen[f] &&
		    !k->fields[f].dflt)
			return gb_error(err, GB_EINVAL,
					_("%s:1: no column for the required "
					  "field '%s' (%s)"),
					im->path, k->fields[f].name,
					_(k->fields[f].label));
	return 0;
}

/* Whether the grid already holds a record with this id: 1 yes, 0 no, -1
 * on a database error with err. */
static int import_id_taken(struct import *im, const char *id,
			   struct gb_err *err)
{
	return db_record_exists(im->db, id, err);
}

/* Loads the keys of the grid's current records of a kind whose rule
 * refuses a second one (the USCCs of enterprises), line 0 in once. */
static int key_one(void *arg, const char *key, const char *id)
{
	struct import *im = arg;
	int added;

	(void)id;
	gb_hmap_puts(&im->once, key, &added);
	return 0;
}

static int import_load_once(struct import *im, struct gb_err *err)
{
	return db_field_values(im->db, im->kind, im->kind->unique.key[0],
			       key_one, im, err);
}

/*
 * Checks the record of one line against the other lines and the grid:
 * ids, USCCs of enterprises, and daily reports (one per officer and
 * date).  Voided records are left out: a voided duplicate is how a
 * mistake is usually put right.  Remembers the keys of a good line.
 * Returns 0 when unique, -1 with err (GB_EINVAL for a duplicate).
 */
static int import_check_unique(struct import *im, const struct gb_record *r,
			       long line, struct gb_err *err)
{
	const struct gb_unique *u = &im->kind->unique;
	const char *key = NULL, *k0 = NULL, *k1 = NULL;
	struct gb_hmap_ent *e;
	char a[32];
	int rc, added;

	if (r->id[0]) {
		e = gb_hmap_gets(&im->ids, r->id);
		if (e)
			return gb_error(err, GB_EINVAL,
					_("id: %s is on line %s too"), r->id,
					fmt_count(e->n, a, sizeof(a)));
		rc = import_id_taken(im, r->id, err);
		if (rc < 0)
			return -1;
		if (rc)
			return gb_error(err, GB_EINVAL,
					_("id: the grid holds a record with "
					  "id %s already"),
					r->id);
	}
	if (!r->voided && im->f_once >= 0) {
		key = r->val[im->f_once];
		e = key ? gb_hmap_gets(&im->once, key) : NULL;
		if (e && e->n)
			return gb_error(err, GB_EINVAL,
					gb_kind_msg(u->dup_line,
						    N_("%s is on line %s too")),
					key, fmt_count(e->n, a, sizeof(a)));
		if (e)
			return gb_error(
			    err, GB_EINVAL,
			    gb_kind_msg(u->dup_grid,
					N_("the grid holds %s already")),
			    key);
	}
	if (!r->voided && im->f_pair0 >= 0 && im->f_pair1 >= 0) {
		char id[GB_ID_LEN];

		k0 = r->val[im->f_pair0];
		k1 = r->val[im->f_pair1];
		if (k0 && k1) {
			if (import_key(im, k0, k1, NULL, err))
				return -1;
			e = gb_hmap_gets(&im->pairs, gb_buf_str(&im->key));
			if (e)
				return gb_error(
				    err, GB_EINVAL,
				    gb_kind_msg(
					u->dup_line,
					N_("%s on %s is on line %s too")),
				    k0, k1, fmt_count(e->n, a, sizeof(a)));
			rc = db_record_find_key(im->db, r, id, err);
			if (rc < 0)
				return -1;
			if (rc)
				return gb_error(
				    err, GB_EINVAL,
				    gb_kind_msg(u->dup_grid,
						N_("the grid holds %s on %s "
						   "already (%s); edit it "
						   "instead")),
				    k0, k1, id);
		} else {
			k0 = NULL;
		}
	}
	if (r->id[0])
		gb_hmap_puts(&im->ids, r->id, &added)->n = line;
	if (key)
		gb_hmap_puts(&im->once, key, &added)->n = line;
	if (k0) {
		if (import_key(im, k0, k1, NULL, err))
			return -1;
		gb_hmap_puts(&im->pairs, gb_buf_str(&im->key), &added)->n =
		    line;
	}
	return 0;
}

/* Parses the voided flag of an export with --all: "", 0, 1, true, false. */
static int parse_voided(const char *s, int *out)
{
	char v[16];

	trim_copy(s, v, sizeof(v));
	if (!*v || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*out = 0;
		return 0;
	}
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*out = 1;
		return 0;
	}
	return -1;
}

/*
 * Builds and checks the record of the current row of c.  Returns 0 with
 * *out set to a good record the caller frees, 1 when the line is bad
 * (err says why, naming the field), or -1 when the check itself failed
 * (a database error) and the import must stop.
 */
static int import_row(struct import *im, struct gb_csv *c,
		      struct gb_record **out, struct gb_err *err)
{
	const struct gb_kind *k = im->kind;
	struct gb_record *r = gb_record_new(k);
	int ret = 1;

	*out = NULL;
	gb_err_clear(err);
	if (c->nfields > im->ncols) {
		for (int i = im->ncols; i < c->nfields; i++)
			if (!blank(c->field[i])) {
				gb_error(err, GB_EINVAL,
					 _("%d values, but the header names "
					   "%d columns"),
					 c->nfields, im->ncols);
				goto out;
			}
	}
	for (int i = 0; i < im->ncols && i < c->nfields; i++) {
		const struct col *col = &im->cols[i];
		/* What export neutralised for spreadsheets reads back as
		 * it was. */
		const char *cell = gb_csv_unneutral(c->field[i]);
		char id[64];
		char *canon;

		switch (col->what) {
		case COL_FIELD:
			if (gb_field_parse(&k->fields[col->field], cell, &canon,
					   err))
				goto out;
			free(r->val[col->field]);
			r->val[col->field] = canon;
			break;
		case COL_ID:
			trim_copy(cell, id, sizeof(id));
			if (!*id)
				break;
			if (!gb_uuid_valid(id) || strlen(id) >= GB_ID_LEN) {
				gb_error(err, GB_EINVAL,
					 _("id: \"%s\" is not a UUID"), id);
				goto out;
			}
			for (char *p = id; *p; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p - 'A' + 'a');
			memcpy(r->id, id, strlen(id) + 1);
			break;
		case COL_VOIDED:
			if (parse_voided(cell, &r->voided)) {
				gb_error(err, GB_EINVAL,
					 _("voided: \"%s\" is not 0 or 1"),
					 cell);
				goto out;
			}
			break;
		case COL_VOID_REASON:
			if (!blank(cell))
				gb_record_set_void_reason(r, cell);
			break;
		case COL_UNNAMED:
			if (!blank(cell)) {
				gb_error(err, GB_EINVAL,
					 _("column %d has a value but no name "
					   "in the header"),
					 i + 1);
				goto out;
			}
			break;
		case COL_IGNORED:
			break;
		}
	}
	if (!r->voided)
		gb_record_set_void_reason(r, NULL);
	for (int i = 0; i < k->nfields; i++) {
		enum gb_ftype t = k->fields[i].type;

		if (r->val[i] && (t == GB_T_REF || t == GB_T_LIST) &&
		    import_resolve_field(im, r, i, err)) {
			if (err->code != GB_EINVAL)
				ret = -1;
			goto out;
		}
	}
	gb_record_apply_defaults(r, im->now, im->me);
	if (gb_validate(r, im->dblk ? &im->lk : NULL, im->now, err)) {
		if (err->code != GB_EINVAL)
			ret = -1;
		goto out;
	}
	if (import_check_unique(im, r, c->line, err)) {
		if (err->code != GB_EINVAL)
			ret = -1;
		goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	gb_record_free(r);
	return ret;
}

/* Packs a good record into the arena (see struct import). */
static int import_keep(struct import *im, const struct gb_record *r,
		       struct gb_err *err)
{
	struct gb_buf *a = &im->arena;

	if (gb_buf_add(a, r->id, strlen(r->id) + 1, err) ||
	    gb_buf_add(a, r->voided ? "1" : "0", 1, err) ||
	    gb_buf_add(a, r->void_reason ? r->void_reason : "",
		       r->void_reason ? strlen(r->void_reason) + 1 : 1, err))
		return -1;
	for (int i = 0; i < r->kind->nfields; i++) {
		const char *v = r->val[i] ? r->val[i] : "";

		if (gb_buf_add(a, v, strlen(v) + 1, err))
			return -1;
	}
	im->ngood++;
	return 0;
}

/*
 * Unpacks the record at *p of the arena into r and moves *p past it.  The
 * values and the void reason of r then point into the arena, borrowed:
 * import_unpack_clear() must drop them before r is freed or refilled.
 */
static void import_unpack(struct import *im, char **p, struct gb_record *r)
{
	char *q = *p;
	size_t n = strlen(q);

	memcpy(r->id, q, n + 1);
	q += n + 1;
	r->voided = *q++ == '1';
	r->void_reason = *q ? q : NULL;
	q += strlen(q) + 1;
	for (int i = 0; i < im->kind->nfields; i++) {
		r->val[i] = *q ? q : NULL;
		q += strlen(q) + 1;
	}
	*p = q;
}

static void import_unpack_clear(struct gb_record *r)
{
	r->void_reason = NULL;
	for (int i = 0; i < GB_MAX_FIELDS; i++)
		r->val[i] = NULL;
}

/* Appends one CSV row of n cells and a line end to the reject file. */
static int import_reject_row(struct import *im, const char *const *cells, int n,
			     struct gb_err *err)
{
	gb_buf_reset(&im->line);
	for (int i = 0; i < n; i++)
		if ((i && gb_buf_add(&im->line, ",", 1, err)) ||
		    gb_csv_field(&im->line, cells[i] ? cells[i] : "", err))
			return -1;
	if (gb_buf_add(&im->line, "\n", 1, err))
		return -1;
	if (fwrite(im->line.data, 1, im->line.len, im->rej) != im->line.len)
		return gb_error(err, GB_EIO, _("%s: write failed"),
				im->rej_tmp);
	return 0;
}

/* Starts the reject file with the input's columns (less its own line and
 * reason columns) and then "line" and "reason". */
static int import_reject_open(struct import *im, struct gb_err *err)
{
	const char *cells[GB_CSV_MAX_FIELDS + 2];
	int n = 0;

	im->rej_tmp = xasprintf("%s.tmp", im->rej_path);
	im->rej = fopen(im->rej_tmp, "wb");
	if (!im->rej)
		return gb_error(err, GB_EIO, _("%s: cannot create: %s"),
				im->rej_tmp, strerror(errno));
	if (im->bom && fwrite("\xef\xbb\xbf", 1, 3, im->rej) != 3)
		return gb_error(err, GB_EIO, _("%s: write failed"),
				im->rej_tmp);
	for (int i = 0; i < im->ncols; i++)
		if (im->cols[i].what != COL_IGNORED)
			cells[n++] = im->header[i];
	cells[n++] = "line";
	cells[n++] = "reason";
	return import_reject_row(im, cells, n, err);
}

/* Sets a bad line aside in the reject file: its cells as read, then its
 * line number and the reason. */
static int import_reject(struct import *im, struct gb_csv *c,
			 const char *reason, struct gb_err *err)
{
	const char *cells[GB_CSV_MAX_FIELDS + 2];
	char line[32];
	int n = 0;

	for (int i = 0; i < im->ncols; i++)
		if (im->cols[i].what != COL_IGNORED)
			cells[n++] = i < c->nfields ? c->field[i] : "";
	snprintf(line, sizeof(line), "%ld", c->line);
	cells[n++] = line;
	cells[n++] = reason;
	return import_reject_row(im, cells, n, err);
}

/* Closes the reject file and moves it into place.  Returns 0 or -1. */
static int import_reject_close(struct import *im, struct gb_err *err)
{
	FILE *fp = im->rej;

	im->rej = NULL;
	if (fflush(fp) || fsync(fileno(fp))) {
		fclose(fp);
		return gb_error(err, GB_EIO, _("%s: write failed: %s"),
				im->rej_tmp, strerror(errno));
	}
	if (fclose(fp))
		return gb_error(err, GB_EIO, _("%s: write failed: %s"),
				im->rej_tmp, strerror(errno));
	if (rename(im->rej_tmp, im->rej_path))
		return gb_error(err, GB_EIO, _("%s: cannot rename to %s: %s"),
				im->rej_tmp, im->rej_path, strerror(errno));
	return 0;
}

/* Counts the data rows of the file for progress, then rewinds it.  Leaves
 * im->total 0 when the file cannot be rewound or read. */
static void import_count(struct import *im, FILE *fp)
{
	struct gb_csv c;
	struct gb_err err;
	long n = -1;
	int rc;

	if (fseek(fp, 0, SEEK_SET))
		return;
	gb_csv_init(&c, fp);
	for (;;) {
		rc = gb_csv_next(&c, &err);
		if (rc <= 0)
			break;
		n++;
	}
	gb_csv_release(&c);
	if (rc == 0 && n > 0)
		im->total = n;
	if (fseek(fp, 0, SEEK_SET))
		im->total = -1;
	clearerr(fp);
}

/* Phase 1: reads and checks every line.  Returns 0 when the file could
 * be read to its end (bad lines are counted in im->nbad), -1 when not. */
static int import_check(struct import *im, FILE *fp, struct gb_err *err)
{
	struct gb_csv c;
	struct gb_record *r;
	int rc, ret = -1;

	gb_csv_init(&c, fp);
	if (import_header(im, &c, err))
		goto out;
	if (im->rej_path && import_reject_open(im, err))
		goto out;
	for (;;) {
		struct gb_err lerr;
		const char *where = "";

		rc = gb_csv_next(&c, &lerr);
		if (rc == 0)
			break;
		im->nlines++;
		if (rc < 0) {
			/* A row CSV cannot read (a NUL byte, too long, a
			 * quote never closed) is a bad line like any other;
			 * only a failing read stops the import.  The message
			 * names the line itself. */
			if (lerr.code == GB_EIO) {
				*err = lerr;
				gb_error_prefix(err, "%s", im->path);
				goto out;
			}
			c.nfields = 0;
			rc = 1;
		} else {
			rc = import_row(im, &c, &r, &lerr);
			where = ":";
		}
		if (rc < 0) {
			*err = lerr;
			gb_error_prefix(err, "%s:%ld", im->path, c.line);
			goto out;
		}
		if (rc == 0) {
			rc = import_keep(im, r, err);
			gb_record_free(r);
			if (rc)
				goto out;
		} else {
			im->nbad++;
			if (im->rej) {
				if (import_reject(im, &c, lerr.msg, err))
					goto out;
			} else {
				if (im->progress)
					fputs("\r\033[K", stderr);
				if (*where)
					fprintf(stderr, "%s:%ld: %s\n",
						im->path, c.line, lerr.msg);
				else
					fprintf(stderr, "%s: %s\n", im->path,
						lerr.msg);
			}
		}
		import_progress(im, im->t_checked, im->nlines, im->total, 0);
	}
	import_progress(im, im->t_checked, im->nlines, im->total, 1);
	ret = 0;
out:
	gb_csv_release(&c);
	return ret;
}

/* Phase 2: writes every good record in one transaction. */
static int import_write(struct import *im, struct gb_err *err)
{
	struct gb_record *r = gb_record_new(im->kind);
	long total = (long)im->ngood;
	char *p = im->arena.data;
	int ret = -1;

	if (db_begin(im->db, err))
		goto out;
	for (long i = 0; i < total; i++) {
		import_unpack(im, &p, r);
		if (db_record_insert(im->db, r, err)) {
			db_rollback(im->db);
			gb_error_prefix(err, _("nothing imported"));
			goto out;
		}
		import_progress(im, im->t_imported, i + 1, total, 0);
	}
	if (db_commit(im->db, err)) {
		db_rollback(im->db);
		gb_error_prefix(err, _("nothing imported"));
		goto out;
	}
	import_progress(im, im->t_imported, total, total, 1);
	ret = 0;
out:
	import_unpack_clear(r);
	gb_record_free(r);
	return ret;
}

/* Whether a regular file begins with a UTF-8 byte order mark, so that a
 * reject file can keep one for Excel; rewinds it.  Anything else (a pipe)
 * is left unread and counts as having none. */
static int has_bom(FILE *fp)
{
	unsigned char b[3];
	struct stat st;
	int bom;

	if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode))
		return 0;
	bom = fread(b, 1, 3, fp) == 3 && b[0] == 0xef && b[1] == 0xbb &&
	      b[2] == 0xbf;
	if (fseek(fp, 0, SEEK_SET))
		return 0;
	clearerr(fp);
	return bom;
}

int cmd_import(struct gb_cli *cli, int argc, char **argv)
{
	const char *skip = NULL;
	struct gb_opt spec[] = {{"skip-bad", 1, &skip, NULL}};
	struct import im;
	struct gb_err err;
	char *pos[2];
	char a[32], b[32];
	FILE *fp = NULL, *text = NULL;
	int npos = 0, help = 0, ret = 1, converted = 0;

	memset(&im, 0, sizeof(im));
	gb_buf_init(&im.key, GB_BUF_NOLIMIT);
	gb_buf_init(&im.line, GB_BUF_NOLIMIT);
	gb_buf_init(&im.arena, GB_BUF_NOLIMIT);
	if (gb_opts_parse(spec, 1, argc, argv, pos, 2, &npos, &help, &err))
		goto usage;
	if (help) {
		fputs(_(usage_text), stdout);
		ret = 0;
		goto out;
	}
	if (npos != 2) {
		gb_error(&err, GB_EUSAGE,
			 _("import needs a record kind and a CSV file"));
		goto usage;
	}
	im.kind = gb_kind_find(pos[0]);
	if (!im.kind) {
		gb_error(&err, GB_EUSAGE, _("'%s' is not a record kind"),
			 pos[0]);
		goto usage;
	}
	im.path = pos[1];
	/* The kind's uniqueness rule (kinds.h): a key refused twice (an
	 * enterprise's USCC), or two values that have one record (a daily
	 * report's officer and date). */
	im.f_once = im.kind->unique.mode == GB_UNIQUE_REFUSE
			? gb_kind_field(im.kind, im.kind->unique.key[0])
			: -1;
	im.f_pair0 = im.kind->unique.mode == GB_UNIQUE_EDITS
			 ? gb_kind_field(im.kind, im.kind->unique.key[0])
			 : -1;
	im.f_pair1 = im.f_pair0 < 0
			 ? -1
			 : gb_kind_field(im.kind, im.kind->unique.key[1]);
	im.t_checked = _("checked");
	im.t_imported = _("imported");
	im.rej_path = skip && *skip ? skip : NULL;

	if (!strcmp(im.path, "-")) {
		fp = stdin;
	} else {
		fp = fopen(im.path, "rb");
		if (!fp) {
			fprintf(stderr, _("%s: %s: cannot open: %s\n"),
				cli->prog, im.path, strerror(errno));
			ret = 1;
			goto out;
		}
		im.bom = has_bom(fp);
	}
	/* GB18030 (Excel's "CSV" on a Chinese PC) becomes UTF-8 here. */
	if (gb_csv_utf8(fp, &text, &converted, &err)) {
		gb_error_prefix(&err, "%s", im.path);
		goto fail;
	}
	if (text != fp) {
		if (fp != stdin)
			fclose(fp);
		fp = text;
	}
	if (converted)
		im.bom = 1;
	im.db = cmd_open_db(cli, 0);
	if (!im.db)
		goto out;
	if (cmd_check_author(im.db, im.kind, &err))
		goto fail;
	im.now = gb_now_ms();
	im.me = *db_staff(im.db) ? db_staff(im.db) : NULL;
	im.dblk = db_lookup(im.db);
	if (im.dblk && !im.dblk->find)
		im.dblk = NULL;
	im.lk.arg = &im;
	im.lk.find = import_find;
	im.progress = isatty(STDERR_FILENO);
	if (im.progress && fp != stdin)
		import_count(&im, fp);
	if (im.f_once >= 0 && import_load_once(&im, &err))
		goto fail;

	if (import_check(&im, fp, &err))
		goto fail;
	if (im.nbad && !im.rej) {
		fprintf(stderr,
			ngettext("%s: %s: %s bad line of %s, nothing "
				 "imported\n",
				 "%s: %s: %s bad lines of %s, nothing "
				 "imported\n",
				 (unsigned long)im.nbad),
			cli->prog, im.path, fmt_count(im.nbad, a, sizeof(a)),
			fmt_count(im.nlines, b, sizeof(b)));
		goto out;
	}
	if (import_write(&im, &err))
		goto fail;
	if (im.rej && import_reject_close(&im, &err))
		goto fail;
	fprintf(stderr,
		ngettext("imported %s %s record\n", "imported %s %s records\n",
			 (unsigned long)im.ngood),
		fmt_count((long)im.ngood, a, sizeof(a)), im.kind->name);
	if (im.rej_path)
		fprintf(stderr,
			ngettext("skipped %s bad line, written to %s\n",
				 "skipped %s bad lines, written to %s\n",
				 (unsigned long)im.nbad),
			fmt_count(im.nbad, a, sizeof(a)), im.rej_path);
	ret = 0;
	goto out;
usage:
	ret = gb_opts_usage_error(cli->prog, "import", &err);
	goto out;
fail:
	ret = cmd_fail(cli, &err);
	if (!ret)
		ret = 1;
out:
	if (im.rej) {
		fclose(im.rej);
		unlink(im.rej_tmp);
	}
	free(im.rej_tmp);
	gb_buf_release(&im.arena);
	for (int i = 0; i < im.ncols; i++)
		free(im.header[i]);
	gb_hmap_release(&im.resolved);
	gb_hmap_release(&im.looked);
	gb_hmap_release(&im.ids);
	gb_hmap_release(&im.once);
	gb_hmap_release(&im.pairs);
	gb_hmap_release(&im.ent_ids);
	gb_buf_release(&im.key);
	gb_buf_release(&im.line);
	if (im.db)
		db_close(im.db);
	if (fp && fp != stdin)
		fclose(fp);
	return ret;
}

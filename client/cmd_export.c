/*
 * gridbook export KIND: writes the current records of one kind as CSV or
 * JSON, for a spreadsheet, for another program, or to be imported into
 * another grid file.  The CSV form is exactly what `gridbook import`
 * reads back: a header of "id" and the field names, values in the form a
 * person types them (local times, codes for references), so an export
 * imported into an empty grid and exported again gives the same file.
 * Records stream from the database to the output one at a time; a file
 * named with -o is written beside its final name and renamed into place,
 * so a reader never sees half an export.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "csv.h"
#include "db.h"
#include "err.h"
#include "field.h"
#include "gbtime.h"
#include "i18n.h"
#include "json.h"
#include "kinds.h"
#include "opts.h"
#include "prompt.h"
#include "record.h"
#include "xalloc.h"

#include "banned.h"

struct export
{
	struct gb_db *db; /* borrowed: names beside references */
	const struct gb_kind *kind;
	FILE *out;	 /* borrowed */
	int json;	 /* else CSV */
	int all;	 /* voided records too, with their state */
	long n;		 /* records written */
	struct gb_buf b; /* one row or object, reused */
	struct gb_err err;
};

static const char usage_text[] =
    N_("usage: gridbook export KIND [--format csv|json] [--from DATE]\n"
       "                       [--to DATE] [--community C] [--staff S]\n"
       "                       [--status S] [--all] [-o FILE]\n"
       "\n"
       "Writes the current records of one kind, by date then id.\n"
       "  --format csv    (the default) for Excel and WPS: UTF-8 with a byte\n"
       "                  order mark, a header in your language (the field\n"
       "                  names when there is no translation), then one line\n"
       "                  per record, as 'gridbook import' reads it back;\n"
       "                  times are local YYYY-MM-DD HH:MM, references are\n"
       "                  codes and record ids with their names beside them,\n"
       "                  and a cell starting with = + - @ gets a ' in front\n"
       "  --format json   an array of objects with id, kind, version,\n"
       "                  created_at, updated_at (ms since 1970 UTC),\n"
       "                  staff, device (the author), voided, void_reason\n"
       "                  and values (canonical: times in ms), as list\n"
       "                  and show write them\n"
       "  --from, --to    local dates, inclusive, of the kind's date field\n"
       "  --community, --staff, --status\n"
       "                  only records of that unit, person or status\n"
       "  --all           voided records too; the CSV then ends with the\n"
       "                  columns voided and void_reason, which import\n"
       "                  honours (a voided line becomes a voided record)\n"
       "  -o FILE         write to FILE (replaced whole) instead of stdout\n");

/* The header of the names column beside a reference field. */
static const char name_col_fmt[] = N_("%s (name)");

/* Whether a field holds references, which get a names column. */
static int has_names(const struct gb_field *f)
{
	return f->type == GB_T_REF || f->type == GB_T_LIST;
}

/*
 * Whether the headers are written in the user's language: when gettext
 * translates a kind's label, a catalogue for the user's language is
 * there.  Without one the field names are the headers, the English that
 * programs read.
 */
int cmd_csv_labels(void)
{
	const char *probe = gb_kinds[0].label;

	return gettext(probe) != probe;
}

int cmd_csv_header(struct gb_buf *b, const struct gb_kind *k, int all,
		   struct gb_err *err)
{
	int labels = cmd_csv_labels();

	if (gb_csv_cell(b, labels ? _("record id") : "id", err))
		return -1;
	for (int i = 0; i < k->nfields; i++) {
		const struct gb_field *f = &k->fields[i];
		char *h;
		int rc;

		if (gb_buf_add(b, ",", 1, err) ||
		    gb_csv_cell(b, labels ? _(f->label) : f->name, err))
			return -1;
		if (!has_names(f))
			continue;
		h = labels ? xasprintf(_(name_col_fmt), _(f->label))
			   : xasprintf("%s_name", f->name);
		rc = gb_buf_add(b, ",", 1, err) || gb_csv_cell(b, h, err);
		free(h);
		if (rc)
			return -1;
	}
	if (all &&
	    (gb_buf_add(b, ",", 1, err) ||
	     gb_csv_cell(b, labels ? _("voided") : "voided", err) ||
	     gb_buf_add(b, ",", 1, err) ||
	     gb_csv_cell(b, labels ? _("void reason") : "void_reason", err)))
		return -1;
	return gb_buf_add(b, "\n", 1, err);
}

int cmd_csv_row(struct gb_db *db, struct gb_buf *b, const struct gb_record *r,
		int all, struct gb_err *err)
{
	const struct gb_kind *k = r->kind;

	if (gb_csv_cell(b, r->id, err))
		return -1;
	for (int i = 0; i < k->nfields; i++) {
		const struct gb_field *f = &k->fields[i];
		char *v = gb_field_format(f, r->val[i]);
		char *names = NULL;
		int rc = gb_buf_add(b, ",", 1, err) ||
			 gb_csv_cell(b, v ? v : "", err);

		if (!rc && has_names(f)) {
			names = r->val[i] ? prompt_display(db, f, r->val[i], 0)
					  : NULL;
			rc = gb_buf_add(b, ",", 1, err) ||
			     gb_csv_cell(b, names ? names : "", err);
		}
		free(names);
		free(v);
		if (rc)
			return -1;
	}
	if (all && (gb_buf_adds(b, r->voided ? ",1," : ",0,", err) ||
		    gb_csv_cell(b, r->void_reason ? r->void_reason : "", err)))
		return -1;
	return gb_buf_add(b, "\n", 1, err);
}

/* Whether h is s, ignoring ASCII case and '-' for '_'. */
static int header_is(const char *h, const char *s)
{
	for (; *h && *s; h++, s++) {
		char x = *h >= 'A' && *h <= 'Z' ? (char)(*h - 'A' + 'a') : *h;
		char y = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;

		x = x == '-' ? '_' : x;
		y = y == '-' ? '_' : y;
		if (x != y)
			return 0;
	}
	return *h == *s;
}

/* Whether h is the names column of field f in one of the languages. */
static int is_name_col(const struct gb_field *f, const char *h)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s_name", f->name);
	if (header_is(h, buf))
		return 1;
	snprintf(buf, sizeof(buf), name_col_fmt, f->label);
	if (header_is(h, buf))
		return 1;
	snprintf(buf, sizeof(buf), _(name_col_fmt), _(f->label));
	return header_is(h, buf);
}

enum cmd_csv_col cmd_csv_column(const struct gb_kind *k, const char *h,
				int *field)
{
	static const struct {
		const char *name, *label;
		enum cmd_csv_col col;
	} extra[] = {
	    {"id", N_("record id"), CSV_COL_ID},
	    {"voided", N_("voided"), CSV_COL_VOIDED},
	    {"void_reason", N_("void reason"), CSV_COL_VOID_REASON},
	};

	for (int i = 0; i < k->nfields; i++) {
		const struct gb_field *f = &k->fields[i];

		if (header_is(h, f->name) || header_is(h, f->label) ||
		    header_is(h, _(f->label))) {
			*field = i;
			return CSV_COL_FIELD;
		}
	}
	for (int i = 0; i < k->nfields; i++)
		if (has_names(&k->fields[i]) && is_name_col(&k->fields[i], h))
			return CSV_COL_NAME;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (header_is(h, extra[i].name) ||
		    header_is(h, extra[i].label) ||
		    header_is(h, _(extra[i].label)))
			return extra[i].col;
	return CSV_COL_UNKNOWN;
}

/* Appends the JSON object of r to e->b (gb_record_json, the shape list
 * and show write too), after a comma unless first. */
static int export_json_obj(struct export *e, const struct gb_record *r)
{
	struct gb_err *err = &e->err;

	if (gb_buf_adds(&e->b, e->n ? ",\n" : "\n", err) ||
	    gb_record_json(r, &e->b, err))
		return -1;
	return 0;
}

static int export_one(void *arg, const struct gb_record *r)
{
	struct export *e = arg;
	int rc;

	gb_buf_reset(&e->b);
	rc = e->json ? export_json_obj(e, r)
		     : cmd_csv_row(e->db, &e->b, r, e->all, &e->err);
	if (rc)
		return -1;
	if (fwrite(e->b.data, 1, e->b.len, e->out) != e->b.len) {
		gb_error(&e->err, GB_EIO, _("write failed: %s"),
			 strerror(errno));
		return -1;
	}
	e->n++;
	return 0;
}

/* Writes the CSV header or the opening of the JSON array. */
static int export_start(struct export *e)
{
	const struct gb_kind *k = e->kind;
	struct gb_err *err = &e->err;

	gb_buf_reset(&e->b);
	if (e->json) {
		if (gb_buf_add(&e->b, "[", 1, err))
			return -1;
	} else if (gb_buf_adds(&e->b, GB_CSV_BOM, err) ||
		   cmd_csv_header(&e->b, k, e->all, err)) {
		return -1;
	}
	if (fwrite(e->b.data, 1, e->b.len, e->out) != e->b.len)
		return gb_error(err, GB_EIO, _("write failed: %s"),
				strerror(errno));
	return 0;
}

/* Resolves what was typed for a filter (a name or a code) to a code in
 * out; returns 0, or -1 with err. */
static int export_filter_ref(struct gb_db *db, enum gb_ref ref, const char *opt,
			     const char *in, char *out, size_t n,
			     struct gb_err *err)
{
	if (db_resolve(db, ref, in, out, n, err))
		return gb_error_prefix(err, "--%s", opt);
	return 0;
}

int cmd_export(struct gb_cli *cli, int argc, char **argv)
{
	const char *format = NULL, *from = NULL, *to = NULL, *community = NULL,
		   *staff = NULL, *status = NULL, *ofile = NULL;
	int all = 0;
	struct gb_opt spec[] = {
	    {"format", 1, &format, NULL}, {"from", 1, &from, NULL},
	    {"to", 1, &to, NULL},	  {"community", 1, &community, NULL},
	    {"staff", 1, &staff, NULL},	  {"status", 1, &status, NULL},
	    {"all", 0, NULL, &all},	  {"output", 1, &ofile, NULL},
	};
	char community_code[GB_CODE_LEN], staff_code[GB_CODE_LEN];
	char from_buf[16], to_buf[16];
	char **args = NULL, *pos[1];
	struct db_filter f;
	struct export e;
	struct gb_db *db = NULL;
	struct gb_err err;
	char *tmp = NULL;
	int npos = 0, help = 0, ret = 1;
	int32_t day;

	memset(&e, 0, sizeof(e));
	memset(&f, 0, sizeof(f));
	gb_buf_init(&e.b, GB_BUF_NOLIMIT);
	/* opts.h takes long options only; -o is the one short option. */
	args = xcalloc((size_t)argc + 1, sizeof(*args));
	for (int i = 0; i < argc; i++)
		args[i] = !strcmp(argv[i], "-o") ? "--output" : argv[i];
	if (gb_opts_parse(spec, (int)(sizeof(spec) / sizeof(spec[0])), argc,
			  args, pos, 1, &npos, &help, &err))
		goto usage;
	if (help) {
		fputs(_(usage_text), stdout);
		ret = 0;
		goto out;
	}
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE, _("export needs a record kind"));
		goto usage;
	}
	e.kind = gb_kind_find(pos[0]);
	if (!e.kind) {
		gb_error(&err, GB_EUSAGE, _("'%s' is not a record kind"),
			 pos[0]);
		goto usage;
	}
	if (format && strcmp(format, "csv") && strcmp(format, "json")) {
		gb_error(&err, GB_EUSAGE,
			 _("--format: \"%s\" is not csv or json"), format);
		goto usage;
	}
	e.json = format && !strcmp(format, "json");
	e.all = all;
	if ((from || to) && !e.kind->date_field) {
		gb_error(&err, GB_EUSAGE,
			 _("%s records have no date: --from and --to do not "
			   "apply"),
			 e.kind->name);
		goto usage;
	}
	if (from && gb_date_input(from, &day, &err)) {
		gb_error_prefix(&err, "--from");
		goto usage;
	}
	if (from) {
		gb_date_format(day, from_buf);
		from = from_buf;
	}
	if (to && gb_date_input(to, &day, &err)) {
		gb_error_prefix(&err, "--to");
		goto usage;
	}
	if (to) {
		gb_date_format(day, to_buf);
		to = to_buf;
	}
	if (status && e.kind->status_field) {
		int s = gb_kind_field(e.kind, e.kind->status_field);

		if (gb_choice_index(e.kind->fields[s].choices, status) < 0) {
			gb_error(&err, GB_EUSAGE,
				 _("--status: \"%s\" is not a %s of %s"),
				 status, e.kind->status_field, e.kind->name);
			goto usage;
		}
	} else if (status) {
		gb_error(&err, GB_EUSAGE, _("%s records have no status"),
			 e.kind->name);
		goto usage;
	}
	if (community && !e.kind->community_field) {
		gb_error(&err, GB_EUSAGE, _("%s records have no community"),
			 e.kind->name);
		goto usage;
	}
	if (staff && !e.kind->staff_field) {
		gb_error(&err, GB_EUSAGE, _("%s records name no staff"),
			 e.kind->name);
		goto usage;
	}

	db = cmd_open_db(cli, DB_READONLY);
	if (!db)
		goto out;
	if (community &&
	    export_filter_ref(db, GB_REF_COMMUNITY, "community", community,
			      community_code, sizeof(community_code), &err))
		goto fail;
	if (staff && export_filter_ref(db, GB_REF_STAFF, "staff", staff,
				       staff_code, sizeof(staff_code), &err))
		goto fail;
	f.from = from;
	f.to = to;
	f.community = community ? community_code : NULL;
	f.staff = staff ? staff_code : NULL;
	f.status = status;
	f.with_voided = all;

	if (ofile) {
		tmp = xasprintf("%s.tmp", ofile);
		e.out = fopen(tmp, "wb");
		if (!e.out) {
			gb_error(&err, GB_EIO, _("%s: cannot create: %s"), tmp,
				 strerror(errno));
			goto fail;
		}
	} else {
		e.out = stdout;
	}
	e.db = db;
	if (export_start(&e)) {
		err = e.err;
		goto fail;
	}
	if (db_record_list(db, e.kind, &f, export_one, &e, &err)) {
		if (e.err.code != GB_OK)
			err = e.err;
		goto fail;
	}
	if (e.json && fputs(e.n ? "\n]\n" : "]\n", e.out) == EOF) {
		gb_error(&err, GB_EIO, _("write failed: %s"), strerror(errno));
		goto fail;
	}
	if (fflush(e.out) || (ofile && fsync(fileno(e.out)))) {
		gb_error(&err, GB_EIO, _("%s: write failed: %s"),
			 ofile ? tmp : _("standard output"), strerror(errno));
		goto fail;
	}
	if (ofile) {
		FILE *fp = e.out;

		e.out = NULL;
		if (fclose(fp)) {
			gb_error(&err, GB_EIO, _("%s: write failed: %s"), tmp,
				 strerror(errno));
			goto fail;
		}
		if (rename(tmp, ofile)) {
			gb_error(&err, GB_EIO, _("%s: cannot rename to %s: %s"),
				 tmp, ofile, strerror(errno));
			goto fail;
		}
		fprintf(stderr,
			ngettext("exported %ld %s record to %s\n",
				 "exported %ld %s records to %s\n",
				 (unsigned long)e.n),
			e.n, e.kind->name, ofile);
	}
	ret = 0;
	goto out;
usage:
	ret = gb_opts_usage_error(cli->prog, "export", &err);
	goto out;
fail:
	ret = cmd_fail(cli, &err);
	if (!ret)
		ret = 1;
out:
	if (ofile && e.out) {
		fclose(e.out);
		unlink(tmp);
	}
	free(tmp);
	free(args);
	gb_buf_release(&e.b);
	if (db)
		db_close(db);
	return ret;
}

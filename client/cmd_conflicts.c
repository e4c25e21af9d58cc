/*
 * gridbook conflicts: the fields on which two laptops changed one record
 * without either seeing the other (SPEC §4), and their resolution.
 *
 * The merge of a record's versions (common/merge.h, client/db.c) keeps
 * the newer value of such a field, or the void, and records the conflict
 * with both values.  Listing shows, for each, this laptop's value
 * ("mine": the one written here, or when neither side was, the one that
 * stands) beside the other ("theirs"), who wrote that and when.
 * Resolving writes one new version that keeps the value chosen and says
 * it resolves the field; its bases name both sides, so the merge on
 * every laptop and at HQ that receives it ends the conflict the same way,
 * with nothing to send back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "db.h"
#include "gbtime.h"
#include "i18n.h"
#include "json.h"
#include "opts.h"
#include "prompt.h"
#include "record.h"
#include "table.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

static const char usage_text[] =
    N_("usage: gridbook conflicts [--format table|json]\n"
       "       gridbook conflicts RECORD-ID FIELD --keep mine|theirs|VALUE\n"
       "\n"
       "Lists the fields that this laptop and another changed in one record\n"
       "without either seeing the other's change: the value that stands is\n"
       "the newer one (a void always stands), and both are kept until someone\n"
       "chooses.  \"mine\" is the value written on this laptop (or, when\n"
       "neither was, the one that stands), \"theirs\" the other.\n"
       "\n"
       "With a record and a field, resolves that conflict: --keep mine or\n"
       "--keep theirs keeps that value, --keep VALUE sets another one.  FIELD\n"
       "is a field name, or \"void\" for a void made without seeing an edit\n"
       "(keep the void, or keep the edited record).  The choice goes to HQ\n"
       "and every laptop of the grid with the next sync and ends the conflict\n"
       "there too.\n");

/* One side of a conflict, copied out of db_conflict_list. */
struct side {
	char device[GB_ID_LEN];
	char staff[GB_CODE_LEN];
	int64_t at;
	char *value; /* owned; NULL: empty, or for the void not voided */
};

struct conflict {
	char id[GB_ID_LEN];
	const struct gb_kind *kind;
	char *title; /* owned */
	int field;
	const char *field_name;
	struct side mine, theirs;
};

struct clist {
	struct gb_db *db;
	struct conflict *v;
	size_t n, alloc;
};

static void side_copy(struct side *to, const struct db_conflict_side *from)
{
	snprintf(to->device, sizeof(to->device), "%s", from->device);
	snprintf(to->staff, sizeof(to->staff), "%s", from->staff);
	to->at = from->at;
	to->value = from->value ? xstrdup(from->value) : NULL;
}

/* Copies each conflict, with mine and theirs told apart by the device
 * that wrote each side. */
static int clist_push(void *arg, const struct db_conflict *c)
{
	struct clist *l = arg;
	struct conflict *x;
	int lost_mine = strcmp(c->lost.device, db_device(l->db)) == 0;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	x = &l->v[l->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->id, sizeof(x->id), "%s", c->id);
	x->kind = c->kind;
	x->title = c->title ? xstrdup(c->title) : NULL;
	x->field = c->field;
	x->field_name = c->field_name;
	side_copy(&x->mine, lost_mine ? &c->lost : &c->kept);
	side_copy(&x->theirs, lost_mine ? &c->kept : &c->lost);
	return 0;
}

static void clist_release(struct clist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].title);
		free(l->v[i].mine.value);
		free(l->v[i].theirs.value);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

/* The readable form of a side's value.  Caller frees. */
static char *side_text(struct gb_db *db, const struct conflict *c,
		       const struct side *s)
{
	char *v;

	if (c->field == GB_MAX_FIELDS)
		return s->value ? xasprintf(_("voided: %s"), s->value)
				: xstrdup(_("not voided (edited)"));
	v = prompt_display(db, &c->kind->fields[c->field], s->value, 1);
	return v ? v : xstrdup(_("(empty)"));
}

static char *staff_name(struct gb_db *db, const char *code)
{
	struct gb_field f = {"staff", "",   GB_T_REF, 0, GB_REF_STAFF,
			     NULL,    NULL, 0,	      0};

	return code[0] ? prompt_display(db, &f, code, 1) : xstrdup("");
}

static char *when_text(int64_t ms)
{
	char text[32];

	gb_time_format(ms, text);
	return xstrdup(text);
}

static const char *field_label(const struct conflict *c)
{
	if (c->field == GB_MAX_FIELDS)
		return _("voided");
	return _(c->kind->fields[c->field].label);
}

/* The header row of print_table. */
static const char *const conflict_head[] = {
    N_("kind"), N_("record"), N_("name"), N_("field"),
    N_("mine"), N_("theirs"), N_("who"),  N_("when")};

static void print_table(struct gb_db *db, const struct clist *l)
{
	struct gb_table t;

	gb_table_init(&t, 8);
	gb_table_header_tr(&t, conflict_head);
	gb_table_column(&t, 2, 24, 0);
	gb_table_column(&t, 4, 24, 0);
	gb_table_column(&t, 5, 24, 0);
	for (size_t i = 0; i < l->n; i++) {
		const struct conflict *c = &l->v[i];

		gb_table_row(&t);
		gb_table_cell(&t, 0, c->kind->name);
		gb_table_cell(&t, 1, c->id);
		gb_table_cell(&t, 2, c->title);
		gb_table_cell_take(
		    &t, 3, xasprintf("%s (%s)", c->field_name, field_label(c)));
		gb_table_cell_take(&t, 4, side_text(db, c, &c->mine));
		gb_table_cell_take(&t, 5, side_text(db, c, &c->theirs));
		gb_table_cell_take(&t, 6, staff_name(db, c->theirs.staff));
		gb_table_cell_take(&t, 7, when_text(c->theirs.at));
	}
	gb_table_print(&t, stdout);
	gb_table_release(&t);
	printf(_("\nto resolve one: gridbook conflicts RECORD-ID FIELD --keep "
		 "mine|theirs|VALUE\n"));
}

static int side_json(struct gb_buf *b, const char *key, const struct side *s,
		     struct gb_err *err)
{
	char at[32];

	gb_time_format(s->at, at);
	if (gb_buf_addf(b, err, ",\"%s\":{\"value\":", key))
		return -1;
	if (s->value ? gb_json_str(b, s->value, err)
		     : gb_buf_adds(b, "null", err))
		return -1;
	return gb_buf_adds(b, ",\"staff\":", err) ||
	       gb_json_str(b, s->staff, err) ||
	       gb_buf_adds(b, ",\"device\":", err) ||
	       gb_json_str(b, s->device, err) ||
	       gb_buf_adds(b, ",\"at\":", err) || gb_json_str(b, at, err) ||
	       gb_buf_adds(b, "}", err);
}

static int print_json(const struct clist *l, struct gb_err *err)
{
	struct gb_buf b;
	int rc = -1;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_buf_adds(&b, "[", err))
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		const struct conflict *c = &l->v[i];

		if (gb_buf_adds(&b, i ? ",{\"kind\":" : "{\"kind\":", err) ||
		    gb_json_str(&b, c->kind->name, err) ||
		    gb_buf_adds(&b, ",\"id\":", err) ||
		    gb_json_str(&b, c->id, err) ||
		    gb_buf_adds(&b, ",\"title\":", err) ||
		    gb_json_str(&b, c->title ? c->title : "", err) ||
		    gb_buf_adds(&b, ",\"field\":", err) ||
		    gb_json_str(&b, c->field_name, err) ||
		    side_json(&b, "mine", &c->mine, err) ||
		    side_json(&b, "theirs", &c->theirs, err) ||
		    gb_buf_adds(&b, "}", err))
			goto out;
	}
	if (gb_buf_adds(&b, "]\n", err))
		goto out;
	fwrite(b.data, 1, b.len, stdout);
	rc = 0;
out:
	gb_buf_release(&b);
	return rc;
}

static int conflicts_list(struct gb_cli *cli, const char *format)
{
	struct clist l = {0};
	struct gb_db *db;
	struct gb_err err;
	int ret = 1;

	if (format && strcmp(format, "table") && strcmp(format, "json")) {
		gb_error(&err, GB_EUSAGE,
			 _("--format: \"%s\" is not table or json"), format);
		return gb_opts_usage_error(cli->prog, "conflicts", &err);
	}
	db = cmd_open_db(cli, DB_READONLY);
	if (!db)
		return 1;
	l.db = db;
	if (db_conflict_list(db, NULL, NULL, clist_push, &l, &err)) {
		ret = cmd_fail(cli, &err);
		goto out;
	}
	if (format && !strcmp(format, "json")) {
		if (print_json(&l, &err)) {
			ret = cmd_fail(cli, &err);
			goto out;
		}
	} else if (!l.n) {
		printf(_("no conflicts\n"));
	} else {
		print_table(db, &l);
	}
	ret = 0;
out:
	clist_release(&l);
	db_close(db);
	return ret;
}

static int str_same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * The side of the conflicts l (all of one record and field) that keep
 * names: mine, or theirs when every other side holds one value.  NULL
 * with err (GB_EUSAGE) when theirs is not one value.
 */
static const struct side *side_chosen(const struct clist *l, const char *keep,
				      struct gb_err *err)
{
	const struct side *theirs = NULL;

	if (!strcmp(keep, "mine")) {
		for (size_t i = 0; i < l->n; i++)
			if (!strcmp(l->v[i].mine.device, db_device(l->db)))
				return &l->v[i].mine;
		return &l->v[0].mine;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct side *s = &l->v[i].theirs;

		if (theirs && !str_same(theirs->value, s->value)) {
			gb_error(err, GB_EUSAGE,
				 _("%s of %s %s has %zu other values; give "
				   "the one to keep with --keep VALUE"),
				 l->v[0].field_name, l->v[0].kind->name,
				 l->v[0].id, l->n);
			return NULL;
		}
		theirs = s;
	}
	return theirs;
}

static int conflicts_resolve(struct gb_cli *cli, const char *id,
			     const char *field, const char *keep)
{
	struct clist l = {0};
	struct gb_record *r = NULL;
	struct gb_db *db;
	const struct side *side = NULL;
	struct gb_err err;
	char *canon = NULL, *shown = NULL;
	int f, ret = 1;
	uint32_t bit;

	db = cmd_open_db(cli, 0);
	if (!db)
		return 1;
	l.db = db;
	if (db_record_get(db, NULL, id, &r, &err))
		goto fail;
	if (!strcmp(field, DB_FIELD_VOID) || !strcmp(field, "voided")) {
		f = GB_MAX_FIELDS;
		bit = GB_RESOLVES_VOID;
	} else {
		f = gb_kind_field(r->kind, field);
		if (f < 0) {
			gb_error(&err, GB_EUSAGE,
				 _("a %s has no field %s (and a void is "
				   "\"void\")"),
				 r->kind->name, field);
			ret = gb_opts_usage_error(cli->prog, "conflicts", &err);
			goto out;
		}
		bit = 1u << f;
	}
	if (cmd_check_author(db, r->kind, &err) ||
	    db_conflict_list(db, r->id,
			     f == GB_MAX_FIELDS ? DB_FIELD_VOID
						: r->kind->fields[f].name,
			     clist_push, &l, &err))
		goto fail;
	if (!l.n) {
		gb_error(&err, GB_ENOTFOUND,
			 _("%s %s has no conflict on %s (gridbook conflicts "
			   "lists them)"),
			 r->kind->name, r->id, field);
		goto fail;
	}
	if (!strcmp(keep, "mine") || !strcmp(keep, "theirs")) {
		side = side_chosen(&l, keep, &err);
		if (!side) {
			ret = gb_opts_usage_error(cli->prog, "conflicts", &err);
			goto out;
		}
	} else if (f == GB_MAX_FIELDS) {
		gb_error(&err, GB_EUSAGE,
			 _("--keep: a void is resolved with mine or theirs, "
			   "not a value"));
		ret = gb_opts_usage_error(cli->prog, "conflicts", &err);
		goto out;
	} else if (prompt_value(db, &r->kind->fields[f], keep, &canon, &err)) {
		goto fail;
	}
	if (f == GB_MAX_FIELDS) {
		r->voided = side->value != NULL;
		gb_record_set_void_reason(r, side->value);
	} else {
		gb_record_set(r, f, side ? side->value : canon);
	}
	if (!r->voided && gb_validate(r, db_lookup(db), gb_now_ms(), &err))
		goto fail;
	if (db_record_resolve(db, r, bit, &err))
		goto fail;
	if (f == GB_MAX_FIELDS)
		shown = xstrdup(r->voided ? _("the void") : _("the edits"));
	else
		shown = prompt_display(db, &r->kind->fields[f], r->val[f], 1);
	printf(_("%s %s: %s kept; the conflict on %s is resolved and goes to "
		 "HQ with the next sync\n"),
	       r->kind->name, r->id, shown ? shown : _("(empty)"),
	       l.v[0].field_name);
	ret = 0;
	goto out;
fail:
	ret = cmd_fail(cli, &err);
out:
	free(shown);
	free(canon);
	clist_release(&l);
	gb_record_free(r);
	db_close(db);
	return ret;
}

int cmd_conflicts(struct gb_cli *cli, int argc, char **argv)
{
	const char *format = NULL, *keep = NULL;
	int help = 0, npos = 0, ret;
	const struct gb_opt spec[] = {
	    {"format", 1, &format, NULL},
	    {"keep", 1, &keep, NULL},
	};
	struct gb_err err;
	char *pos[2];

	if (gb_opts_parse(spec, 2, argc, argv, pos, 2, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "conflicts", &err);
	if (help) {
		fputs(_(usage_text), stdout);
		return 0;
	}
	if (npos == 0 && !keep)
		ret = conflicts_list(cli, format);
	else if (npos != 2 || !keep || !*keep || format) {
		gb_error(&err, GB_EUSAGE,
			 _("to resolve a conflict give the record, the field "
			   "and --keep mine|theirs|VALUE"));
		ret = gb_opts_usage_error(cli->prog, "conflicts", &err);
	} else {
		ret = conflicts_resolve(cli, pos[0], pos[1], keep);
	}
	if (fflush(stdout) && !ret)
		ret = 1;
	return ret;
}

/*
 * gridbook KIND add|edit|void|list|show|history: entering and reading the
 * records of one kind.  Everything here is driven by the kind's field
 * table (kinds.h): each field is a --flag, a prompt question, a CSV column
 * and a JSON key, so this one file serves all ten kinds.
 *
 * A record is built in memory, completed (defaults, then the prompt when
 * required fields are missing and a person is at the terminal), validated
 * with the same code the server runs, and only then written, in one call
 * that commits the record and its change-log entry together.  Nothing is
 * written before the end, so a refused or cancelled entry leaves no trace.
 * Before anything is asked, the kind is checked against the role of the
 * file's staff (cmd_check_author): a coordinator's laptop takes no patrol,
 * since HQ would refuse it from that device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "csv.h"
#include "db.h"
#include "field.h"
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

/* The shortest id prefix a list table shows: "xxxxxxxx-xxxx", the
 * millisecond of a UUIDv7. */
#define SHORT_ID 13
/* Width limits of table columns, in terminal columns. */
#define COL_TEXT 24
#define COL_LONG 30

enum out_format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* Flushes stdout and turns a write error (a full disk, a closed pipe)
 * into exit status 1. */
static int finish_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, _("gridbook: writing the output failed: %s\n"),
			strerror(errno));
		return status ? status : 1;
	}
	return status;
}

static int parse_format(const char *s, enum out_format *out, struct gb_err *err)
{
	if (!s || !strcmp(s, "table"))
		*out = FMT_TABLE;
	else if (!strcmp(s, "csv"))
		*out = FMT_CSV;
	else if (!strcmp(s, "json"))
		*out = FMT_JSON;
	else
		return gb_error(err, GB_EUSAGE,
				_("--format: \"%s\" is not one of table, csv, "
				  "json"),
				s);
	return 0;
}

/* Reports a usage error of "gridbook KIND verb".  Returns 2. */
static int usage_error(const struct gb_cli *cli, const struct gb_kind *k,
		       const char *verb, const struct gb_err *err)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "%s %s", k->name, verb);
	return gb_opts_usage_error(cli->prog, cmd, err);
}

/* The staff member entering records on this laptop, or NULL. */
static const char *me(struct gb_db *db)
{
	const char *s = db_staff(db);

	return s && *s ? s : NULL;
}

/* A staff role with its article, for messages: "a coordinator". */
static const char *role_phrase(const char *role)
{
	static const struct {
		const char *role, *phrase;
	} phrases[] = {
	    {"coordinator", N_("a coordinator")},
	    {"officer", N_("an officer")},
	    {"chief", N_("a chief")},
	    {"guard", N_("a guard")},
	};

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (!strcmp(role, phrases[i].role))
			return _(phrases[i].phrase);
	return role;
}

int cmd_check_author(struct gb_db *db, const struct gb_kind *k,
		     struct gb_err *err)
{
	const struct gb_lookup *lk = db_lookup(db);
	const char *staff = me(db);
	char role[32], *name;
	int found;

	if (!staff || !lk || !lk->find)
		return 0;
	found = lk->find(lk->arg, GB_REF_STAFF, staff, "role", role,
			 sizeof(role), err);
	if (found < 0)
		return -1;
	if (!found || gb_kind_role_allows(k, role))
		return 0;
	name = db_ref_name(db, GB_REF_STAFF, staff);
	if (k->role == GB_ROLE_LABOUR)
		gb_error(err, GB_EFORBIDDEN,
			 _("%s records are entered by coordinators; this "
			   "file's staff %s %s is %s"),
			 k->name, staff, name ? name : "", role_phrase(role));
	else
		gb_error(err, GB_EFORBIDDEN,
			 _("%s records are entered by officers; this file's "
			   "staff %s %s is %s"),
			 k->name, staff, name ? name : "", role_phrase(role));
	free(name);
	return -1;
}

/* -------------------------------------------------------------------- */
/* Help texts                                                           */

/* The placeholder a help text shows for a field's value. */
static const char *value_hint(const struct gb_field *f)
{
	switch (f->type) {
	case GB_T_INT:
		return "N";
	case GB_T_MONEY:
		return "YUAN";
	case GB_T_DATE:
		return "DATE";
	case GB_T_TIME:
		return "TIME";
	case GB_T_ENUM:
		return "CHOICE";
	case GB_T_REF:
		return f->ref == GB_REF_ENTERPRISE || f->ref == GB_REF_CHECK
			   ? "ID"
			   : "CODE";
	case GB_T_LIST:
		return "CODE,...";
	case GB_T_USCC:
		return "USCC";
	default:
		return "TEXT";
	}
}

static void field_help(FILE *fp, const struct gb_field *f)
{
	char flag[64];
	size_t i;

	snprintf(flag, sizeof(flag), "--%s %s", f->name, value_hint(f));
	for (i = 2; flag[i] && flag[i] != ' '; i++)
		if (flag[i] == '_')
			flag[i] = '-';
	fprintf(fp, "  %-28s %s", flag, _(f->label));
	if (f->flags & GB_F_REQUIRED)
		fprintf(fp, _(", required"));
	if (f->dflt) {
		if (!strcmp(f->dflt, "@today"))
			fprintf(fp, _(", default today"));
		else if (!strcmp(f->dflt, "@now"))
			fprintf(fp, _(", default now"));
		else if (!strcmp(f->dflt, "@me"))
			fprintf(fp, _(", default you (init --staff)"));
		else
			fprintf(fp, _(", default %s"), f->dflt);
	}
	fputc('\n', fp);
	if (f->type == GB_T_ENUM && f->choices) {
		fprintf(fp, "  %-28s", "");
		for (int c = 0; f->choices[c]; c++) {
			const char *w = gb_choice_word(f, f->choices[c]);

			fprintf(fp, "%s%s", c ? " | " : " ", f->choices[c]);
			if (w != f->choices[c])
				fprintf(fp, " %s", w);
		}
		fputc('\n', fp);
	}
}

static void kind_usage(FILE *fp, const struct gb_kind *k)
{
	fprintf(fp, _("usage: gridbook %s <verb> [options]\n\n"), k->name);
	if (gb_kind_gloss(k))
		fprintf(fp, "%s %s (%s)\n\n", k->name, k->zh, gb_kind_gloss(k));
	else
		fprintf(fp, "%s %s\n\n", k->name, k->zh);
	fprintf(fp, _("verbs:\n"
		      "  add       add a record; missing required fields are "
		      "asked for\n"
		      "  edit      change fields of a record: edit ID --FIELD "
		      "VALUE...\n"
		      "  void      void a record, keeping it: void ID --reason "
		      "TEXT\n"
		      "  list      list records\n"
		      "  show      show one record: show ID\n"
		      "  history   show every version of a record: history "
		      "ID\n"));
	fprintf(fp, _("\n'gridbook %s <verb> --help' tells more.\n"), k->name);
}

static void add_help(FILE *fp, const struct gb_kind *k, int edit)
{
	if (edit)
		fprintf(fp,
			_("usage: gridbook %s edit ID [--FIELD VALUE]...\n\n"
			  "Writes a new version of the record with the given "
			  "fields changed;\nan empty value (--FIELD '') "
			  "clears an optional field.  ID may be\nthe start "
			  "of an id, as list shows it.\n\n"),
			k->name);
	else
		fprintf(fp,
			_("usage: gridbook %s add [--FIELD VALUE]...\n\n"
			  "Adds a record (%s) and prints its id.  When "
			  "required fields are\nmissing and stdin is a "
			  "terminal they are asked for; otherwise the\n"
			  "command fails and lists them.\n\n"),
			k->name, k->zh);
	fprintf(fp,
		_("fields ('-' and '_' alike; --FIELD=VALUE works too):\n"));
	for (int i = 0; i < k->nfields; i++)
		field_help(fp, &k->fields[i]);
	fprintf(fp,
		_("\nDATE is 2026-12-01, 2026/12/01, 12-01, 今天 or 昨天; TIME "
		  "is a DATE and HH:MM[:SS]\nlocal time, or now.  A CODE may "
		  "also be a part of a name (staff,\ncommunities, areas); an "
		  "enterprise ID may be its USCC or a part of its\nname.\n"));
	if (k->unique.help && !edit)
		fputs(_(k->unique.help), fp);
}

/* -------------------------------------------------------------------- */
/* Reading field values from the command line                           */

/* Fills spec with one option per field of k, storing into vals, and
 * "--help"; returns the number of entries. */
static int field_opts(const struct gb_kind *k, struct gb_opt *spec,
		      const char **vals, int *help)
{
	int n = 0;

	for (int i = 0; i < k->nfields; i++) {
		spec[n].name = k->fields[i].name;
		spec[n].has_arg = 1;
		spec[n].val = &vals[i];
		spec[n].flag = NULL;
		n++;
	}
	spec[n].name = "help";
	spec[n].has_arg = 0;
	spec[n].val = NULL;
	spec[n].flag = help;
	return n + 1;
}

/* Sets in r every field given on the command line (vals[i] not NULL),
 * parsed and resolved; an empty value clears the field.  Returns 0 or -1
 * with err naming the field. */
static int apply_given(struct gb_db *db, struct gb_record *r,
		       const char *const *vals, struct gb_err *err)
{
	for (int i = 0; i < r->kind->nfields; i++) {
		char *canon = NULL;

		if (!vals[i])
			continue;
		if (prompt_value(db, &r->kind->fields[i], vals[i], &canon, err))
			return -1;
		gb_record_set(r, i, canon);
		free(canon);
	}
	return 0;
}

/* The field a validation message is about: the longest field name that
 * the message starts with, followed by ':' or ' '.  -1 when none. */
static int err_field(const struct gb_kind *k, const char *msg)
{
	int best = -1;
	size_t best_len = 0;

	for (int i = 0; i < k->nfields; i++) {
		size_t n = strlen(k->fields[i].name);

		if (!strncmp(msg, k->fields[i].name, n) &&
		    (msg[n] == ':' || msg[n] == ' ') && n > best_len) {
			best = i;
			best_len = n;
		}
	}
	return best;
}

/*
 * Refuses r when its kind's uniqueness rule (kinds.h, struct gb_unique)
 * says a second record with the same key is refused and another current
 * record of the grid has it (r may be a new record, with an empty id, or
 * an edited one).  Returns 0 or -1 with err (GB_EEXIST) naming the holder.
 */
static int check_unique(struct gb_db *db, const struct gb_record *r,
			struct gb_err *err)
{
	const struct gb_kind *k = r->kind;
	struct gb_record *other = NULL;
	char id[GB_ID_LEN];
	const char *title;
	int found;

	if (k->unique.mode != GB_UNIQUE_REFUSE)
		return 0;
	found = db_record_find_key(db, r, id, err);
	if (found <= 0)
		return found;
	if (db_record_get(db, k, id, &other, err))
		return -1;
	title = k->title_field ? gb_record_get(other, k->title_field) : NULL;
	gb_error(err, GB_EEXIST, _("%s: %s is already recorded for %s (%s)"),
		 k->unique.key[0], gb_record_get(r, k->unique.key[0]),
		 title ? title : "?", other->id);
	gb_record_free(other);
	return -1;
}

/*
 * For a kind whose uniqueness rule makes a second record edit the first
 * (a daily report: one per officer per date): the id of the other record
 * with r's key, written into id.  Returns 1 when there is one, 0 when not,
 * -1 on error.
 */
static int daily_twin(struct gb_db *db, const struct gb_record *r, char *id,
		      struct gb_err *err)
{
	if (r->kind->unique.mode != GB_UNIQUE_EDITS)
		return 0;
	return db_record_find_key(db, r, id, err);
}

/* -------------------------------------------------------------------- */
/* add                                                                  */

/* The distinct codes of a LIST value "a,b,a". */
static int distinct_codes(const char *list)
{
	char seen[16][GB_CODE_LEN];
	int n = 0;

	while (list && *list) {
		size_t len = strcspn(list, ",");
		int dup = 0;

		for (int i = 0; i < n; i++)
			if (strlen(seen[i]) == len &&
			    !strncmp(seen[i], list, len))
				dup = 1;
		if (!dup && len && len < GB_CODE_LEN && n < 16) {
			memcpy(seen[n], list, len);
			seen[n++][len] = '\0';
		}
		list += len + (list[len] == ',');
	}
	return n;
}

/* The instant of a TIME value, 0 when there is none. */
static int64_t time_val(const struct gb_record *r, const char *field)
{
	const char *v = gb_record_get(r, field);
	char *end;
	long long ms;

	if (!v)
		return 0;
	ms = strtoll(v, &end, 10);
	return *end ? 0 : (int64_t)ms;
}

/*
 * Why r, valid as it is, cannot count in HQ's reports, written into out
 * (n bytes); 0 when nothing is wrong, 1 with the reason.
 */
static int cannot_count(const struct gb_record *r, char *out, size_t n)
{
	enum gb_report_hook hook = r->kind->hook;

	if (hook == GB_HOOK_PATROL) {
		int64_t s = time_val(r, "start"), e = time_val(r, "end");
		int g = distinct_codes(gb_record_get(r, "guards"));

		if (s && e && gb_patrol_is_night(s, e) && g < 2) {
			snprintf(out, n,
				 _("guards: a night patrol with %d guards "
				   "does not count in HQ's night-patrol "
				   "report (it needs two or more)"),
				 g);
			return 1;
		}
	}
	/* A rectification order without a deadline, which would never
	 * count overdue, is refused by its kind's rules (kinds.c). */
	return 0;
}

/*
 * Whether the prompt asks field i of r though it is optional: one of the
 * fields its kind's entry asks (kinds.h, ask; a deadline only for a
 * notice or an order, once the outcome is known).  *why, when not NULL,
 * says what it counts for.
 */
static int counting_field(const struct gb_record *r, int i, const char **why)
{
	const struct gb_kind *k = r->kind;
	const char *name = k->fields[i].name;

	for (int j = 0; j < 3 && k->ask[j]; j++) {
		const char *o = gb_record_get(r, "outcome");

		if (strcmp(k->ask[j], name))
			continue;
		if (!strcmp(name, "deadline") &&
		    (!o || !strcmp(o, "compliant") || !strcmp(o, "referred")))
			return 0;
		*why = k->ask_why;
		return 1;
	}
	return 0;
}

static void print_missing(const struct gb_kind *k, const struct gb_record *r)
{
	struct gb_buf b;
	int n = 0;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	for (int i = 0; i < k->nfields; i++)
		if ((k->fields[i].flags & GB_F_REQUIRED) && !r->val[i]) {
			if (n++)
				gb_buf_adds(&b, ", ", NULL);
			gb_buf_adds(&b, k->fields[i].name, NULL);
		}
	if (n == 1)
		fprintf(stderr, _("gridbook: missing required field: %s\n"),
			gb_buf_str(&b));
	else
		fprintf(stderr, _("gridbook: missing required fields: %s\n"),
			gb_buf_str(&b));
	fprintf(stderr,
		_("give them as --FIELD VALUE, or run in a terminal to be "
		  "asked; see 'gridbook %s add --help'\n"),
		k->name);
	gb_buf_release(&b);
}

/*
 * Validates r, and while a prompt session is open asks again for the
 * field a broken rule names.  Returns 0 or -1 with err.
 */
static int validate_or_ask(struct gb_db *db, struct gb_record *r,
			   struct prompt *pr, int64_t now, struct gb_err *err)
{
	for (;;) {
		char *cur;
		int fi, rc;

		if (!gb_validate(r, db_lookup(db), now, err))
			return 0;
		if (!pr || err->code != GB_EINVAL)
			return -1;
		fi = err_field(r->kind, err->msg);
		if (fi < 0)
			return -1;
		cur = xstrdup(r->val[fi]);
		rc = prompt_field(pr, r, fi, cur, err->msg, err);
		free(cur);
		if (rc)
			return -1;
	}
}

/*
 * A daily report for an officer and date that already has one: the given
 * fields are written onto that one as a new version.
 */
struct daily_ctx {
	struct gb_db *db;
	const struct gb_record *entered; /* what was typed and defaulted */
	const unsigned char *given;	 /* which fields were typed */
	int64_t now;
};

static int add_onto_daily(const struct daily_ctx *c, const char *id,
			  struct gb_err *err)
{
	const struct gb_unique *u = &c->entered->kind->unique;
	struct gb_record *old = NULL, *r = NULL;
	const char *key;
	char *who = NULL;
	int f, ret = -1;

	if (db_record_get(c->db, c->entered->kind, id, &old, err))
		goto out;
	r = gb_record_dup(old);
	for (int i = 0; i < r->kind->nfields; i++)
		if (c->given[i])
			gb_record_set(r, i, c->entered->val[i]);
	key = gb_record_get(r, u->key[0]);
	f = gb_kind_field(r->kind, u->key[0]);
	who = f >= 0 && r->kind->fields[f].ref
		  ? db_ref_name(c->db, r->kind->fields[f].ref, key)
		  : NULL;
	fprintf(stderr,
		gb_kind_msg(u->onto, N_("gridbook: %s already has one for %s; "
					"updating it\n")),
		who ? who : key, gb_record_get(r, u->key[1]));
	if (gb_validate(r, db_lookup(c->db), c->now, err))
		goto out;
	if (!gb_record_same_content(old, r) && db_record_update(c->db, r, err))
		goto out;
	printf("%s\n", r->id);
	ret = 0;
out:
	free(who);
	gb_record_free(r);
	gb_record_free(old);
	return ret;
}

static int record_add(struct gb_cli *cli, const struct gb_kind *k, int argc,
		      char **argv)
{
	const char *vals[GB_MAX_FIELDS] = {0};
	unsigned char given[GB_MAX_FIELDS] = {0};
	struct gb_opt spec[GB_MAX_FIELDS + 1];
	struct gb_record *r = NULL, *full = NULL;
	struct gb_db *db = NULL;
	struct prompt pr;
	int help = 0, npos, nspec, missing = 0, prompting = 0, status = 1;
	int found;
	char *pos[1], twin[GB_ID_LEN], why[256];
	struct gb_err err;
	int64_t now = gb_now_ms();

	nspec = field_opts(k, spec, vals, &help);
	if (gb_opts_parse(spec, nspec, argc, argv, pos, 0, &npos, &help, &err))
		return usage_error(cli, k, "add", &err);
	if (help) {
		add_help(stdout, k, 0);
		return 0;
	}
	db = cmd_open_db(cli, 0);
	if (!db)
		return 1;
	if (cmd_check_author(db, k, &err))
		goto fail;
	r = gb_record_new(k);
	if (apply_given(db, r, vals, &err))
		goto fail;
	for (int i = 0; i < k->nfields; i++)
		given[i] = r->val[i] != NULL;
	full = gb_record_dup(r);
	gb_record_apply_defaults(full, now, me(db));
	for (int i = 0; i < k->nfields; i++)
		if ((k->fields[i].flags & GB_F_REQUIRED) && !full->val[i])
			missing++;

	/* A daily report already on file for this officer and date takes
	 * the entry, so nothing needs asking. */
	found = daily_twin(db, full, twin, &err);
	if (found < 0)
		goto fail;
	if (found == 1) {
		struct daily_ctx c = {db, full, given, now};

		if (add_onto_daily(&c, twin, &err))
			goto fail;
		status = 0;
		goto out;
	}

	if (missing && !isatty(STDIN_FILENO)) {
		print_missing(k, full);
		status = 2;
		goto out;
	}
	if (missing) {
		prompt_begin(&pr, db);
		prompting = 1;
		fprintf(stderr,
			_("new %s (%s): Enter accepts the [default], Ctrl-C "
			  "cancels\n"),
			k->name, k->zh);
		for (int i = 0; i < k->nfields; i++) {
			const char *counts = NULL;

			if (given[i] ||
			    (!(k->fields[i].flags & GB_F_REQUIRED) &&
			     !counting_field(r, i, &counts)))
				continue;
			if (counts)
				fprintf(stderr, _("  (%s)\n"), _(counts));
			if (prompt_field(&pr, r, i, full->val[i], NULL, &err))
				goto fail;
			given[i] = 1;
		}
		gb_record_apply_defaults(r, now, me(db));
	} else {
		gb_record_free(r);
		r = full;
		full = NULL;
	}
	if (validate_or_ask(db, r, prompting ? &pr : NULL, now, &err))
		goto fail;
	/* Valid, but HQ's reports would not count it: said before it is
	 * saved, and at the prompt asked. */
	if (cannot_count(r, why, sizeof(why))) {
		fprintf(stderr, _("gridbook: warning: %s\n"), why);
		if (!prompting && isatty(STDIN_FILENO)) {
			prompt_begin(&pr, db);
			prompting = 1;
		}
		if (prompting) {
			int yes =
			    prompt_confirm(&pr, _("save it anyway?"), &err);

			if (yes < 0)
				goto fail;
			if (!yes) {
				fprintf(stderr,
					_("gridbook: not saved; add it "
					  "again with the missing fields\n"));
				status = 1;
				goto out;
			}
		}
	}
	if (prompting) {
		prompt_end(&pr);
		prompting = 0;
	}
	if (check_unique(db, r, &err))
		goto fail;
	/* The prompt may have named an officer and date that have one. */
	found = daily_twin(db, r, twin, &err);
	if (found < 0)
		goto fail;
	if (found == 1) {
		struct daily_ctx c = {db, r, given, now};

		if (add_onto_daily(&c, twin, &err))
			goto fail;
		status = 0;
		goto out;
	}
	if (db_record_insert(db, r, &err))
		goto fail;
	printf("%s\n", r->id);
	status = 0;
	goto out;
fail:
	if (err.code == GB_EINTR) {
		fprintf(stderr, _("gridbook: cancelled, nothing saved\n"));
		status = 1;
	} else {
		status = cmd_fail(cli, &err);
	}
out:
	if (prompting)
		prompt_end(&pr);
	gb_record_free(full);
	gb_record_free(r);
	db_close(db);
	return finish_output(status);
}

/* -------------------------------------------------------------------- */
/* edit and void                                                        */

/* Loads the record of kind k named by id (or an id prefix) for a change:
 * a voided record is refused.  Caller frees *out. */
static int load_for_change(struct gb_db *db, const struct gb_kind *k,
			   const char *id, struct gb_record **out,
			   struct gb_err *err)
{
	if (db_record_get(db, k, id, out, err))
		return -1;
	if ((*out)->voided) {
		gb_error(err, GB_EINVAL,
			 _("%s %s is voided and cannot be changed"), k->name,
			 (*out)->id);
		gb_record_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int record_edit(struct gb_cli *cli, const struct gb_kind *k, int argc,
		       char **argv)
{
	const char *vals[GB_MAX_FIELDS] = {0};
	struct gb_opt spec[GB_MAX_FIELDS + 1];
	struct gb_record *old = NULL, *r = NULL;
	struct gb_db *db = NULL;
	int help = 0, npos, nspec, status = 1, any = 0, found, dl;
	char *pos[1], twin[GB_ID_LEN];
	struct gb_err err;

	nspec = field_opts(k, spec, vals, &help);
	if (gb_opts_parse(spec, nspec, argc, argv, pos, 1, &npos, &help, &err))
		return usage_error(cli, k, "edit", &err);
	if (help) {
		add_help(stdout, k, 1);
		return 0;
	}
	for (int i = 0; i < k->nfields; i++)
		any |= vals[i] != NULL;
	if (npos != 1 || !any) {
		gb_error(&err, GB_EUSAGE,
			 npos != 1 ? _("edit needs the id of a record")
				   : _("nothing to change: give --FIELD "
				       "VALUE"));
		return usage_error(cli, k, "edit", &err);
	}
	db = cmd_open_db(cli, 0);
	if (!db)
		return 1;
	if (cmd_check_author(db, k, &err) ||
	    load_for_change(db, k, pos[0], &old, &err))
		goto fail;
	r = gb_record_dup(old);
	if (apply_given(db, r, vals, &err))
		goto fail;
	/* A default deadline follows a new priority or received time. */
	dl = k->deadline.field ? gb_kind_field(k, k->deadline.field) : -1;
	gb_request_deadline_follow(r, old, dl >= 0 && vals[dl]);
	if (gb_validate(r, db_lookup(db), gb_now_ms(), &err) ||
	    check_unique(db, r, &err))
		goto fail;
	found = daily_twin(db, r, twin, &err);
	if (found < 0)
		goto fail;
	if (found == 1) {
		gb_error(&err, GB_EEXIST,
			 gb_kind_msg(k->unique.edit_twin,
				     N_("%s already has one for %s (%s)")),
			 gb_record_get(r, k->unique.key[0]),
			 gb_record_get(r, k->unique.key[1]), twin);
		goto fail;
	}
	if (gb_record_same_content(old, r)) {
		fprintf(stderr, _("gridbook: nothing changed\n"));
	} else if (db_record_update(db, r, &err)) {
		goto fail;
	}
	printf("%s\n", r->id);
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	gb_record_free(r);
	gb_record_free(old);
	db_close(db);
	return finish_output(status);
}

static int record_void(struct gb_cli *cli, const struct gb_kind *k, int argc,
		       char **argv)
{
	const char *reason = NULL;
	int help = 0, npos, status = 1;
	const struct gb_opt spec[] = {
	    {"reason", 1, &reason, NULL},
	    {"help", 0, NULL, &help},
	};
	struct gb_record *r = NULL;
	struct gb_db *db = NULL;
	char *pos[1], *why = NULL;
	struct gb_err err;

	if (gb_opts_parse(spec, 2, argc, argv, pos, 1, &npos, &help, &err))
		return usage_error(cli, k, "void", &err);
	if (help) {
		printf(_("usage: gridbook %s void ID --reason TEXT\n\n"
			 "Marks the record voided, keeping it and every "
			 "earlier version: records\nare never deleted.  The "
			 "reason is required.\n"),
		       k->name);
		return 0;
	}
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE, _("void needs the id of a record"));
		return usage_error(cli, k, "void", &err);
	}
	why = reason ? xstrdup(reason) : NULL;
	if (!why || !why[strspn(why, " \t\r\n")]) {
		free(why);
		gb_error(&err, GB_EUSAGE,
			 _("--reason is required: say why the record is "
			   "voided"));
		return usage_error(cli, k, "void", &err);
	}
	if (gb_validate_void_reason(why, &err) < 0) {
		free(why);
		err.code = GB_EUSAGE;
		return usage_error(cli, k, "void", &err);
	}
	db = cmd_open_db(cli, 0);
	if (!db)
		goto out;
	if (cmd_check_author(db, k, &err) ||
	    load_for_change(db, k, pos[0], &r, &err))
		goto fail;
	r->voided = 1;
	gb_record_set_void_reason(r, why);
	if (db_record_update(db, r, &err))
		goto fail;
	printf("%s\n", r->id);
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	free(why);
	gb_record_free(r);
	db_close(db);
	return finish_output(status);
}

/* -------------------------------------------------------------------- */
/* Output of records                                                    */

static int print_json(const struct gb_record_vec *rv, struct gb_err *err)
{
	struct gb_buf b;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_buf_adds(&b, "[", err))
		return -1;
	for (int i = 0; i < rv->n; i++)
		if (gb_buf_adds(&b, i ? ",\n" : "\n", err) ||
		    gb_record_json(rv->v[i], &b, err))
			return -1;
	if (gb_buf_adds(&b, rv->n ? "\n]\n" : "]\n", err))
		return -1;
	fwrite(b.data, 1, b.len, stdout);
	gb_buf_release(&b);
	return 0;
}

/* The CSV of export (cmd_csv_row), so a listed file imports too. */
static int print_csv(struct gb_db *db, const struct gb_kind *k,
		     const struct gb_record_vec *rv, int with_voided,
		     struct gb_err *err)
{
	struct gb_buf b;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_buf_adds(&b, GB_CSV_BOM, err) ||
	    cmd_csv_header(&b, k, with_voided, err))
		goto fail;
	for (int n = 0; n < rv->n; n++)
		if (cmd_csv_row(db, &b, rv->v[n], with_voided, err))
			goto fail;
	fwrite(b.data, 1, b.len, stdout);
	gb_buf_release(&b);
	return 0;
fail:
	gb_buf_release(&b);
	return -1;
}

/* What short_id_len carries from one id to the next. */
struct short_id {
	char prev[GB_ID_LEN];
	size_t len;
};

static int short_id_one(void *arg, const char *id)
{
	struct short_id *si = arg;
	size_t same = 0;

	while (si->prev[same] && si->prev[same] == id[same])
		same++;
	if (same + 1 > si->len)
		si->len = same + 1;
	snprintf(si->prev, sizeof(si->prev), "%s", id);
	return 0;
}

/*
 * The length of id prefix that tells every record of kind k in the file
 * apart (voided ones too, since show and edit take them), at least
 * SHORT_ID.  Ids made in different milliseconds differ within SHORT_ID
 * characters; those made in one millisecond (an import, or a pinned test
 * clock) need more.  Returns SHORT_ID when the ids cannot be read.
 */
static size_t short_id_len(struct gb_db *db, const struct gb_kind *k)
{
	struct short_id si = {"", SHORT_ID};
	struct gb_err ignored;

	if (db_record_ids(db, k, short_id_one, &si, &ignored))
		return SHORT_ID;
	return si.len;
}

static int column_width(const struct gb_field *f)
{
	if (f->type == GB_T_TEXT)
		return f->flags & GB_F_LONG ? COL_LONG : COL_TEXT;
	if (f->type == GB_T_REF || f->type == GB_T_LIST)
		return COL_TEXT;
	return 0;
}

static void print_table(struct gb_db *db, const struct gb_kind *k,
			const struct gb_record_vec *rv, size_t idlen,
			int with_voided)
{
	const char *const *cols = k->list_cols[0] ? k->list_cols : NULL;
	const char *head[GB_TABLE_MAX_COLS];
	int idx[GB_TABLE_MAX_COLS], ncols = 0, c;
	struct gb_table t;

	for (c = 0; cols && c < GB_MAX_LIST_COLS && cols[c] &&
		    ncols < GB_TABLE_MAX_COLS - 2;
	     c++) {
		int fi = gb_kind_field(k, cols[c]);

		if (fi >= 0)
			idx[ncols++] = fi;
	}
	/* A kind without list columns shows its first fields. */
	for (c = 0; !cols && c < k->nfields && c < 6; c++)
		idx[ncols++] = c;
	gb_table_init(&t, ncols + 1 + !!with_voided);
	head[0] = "id";
	for (c = 0; c < ncols; c++) {
		const struct gb_field *f = &k->fields[idx[c]];

		head[c + 1] = gb_field_heading(f);
		gb_table_column(&t, c + 1, column_width(f),
				f->type == GB_T_INT || f->type == GB_T_MONEY);
	}
	head[ncols + 1] = "voided"; /* shown only with_voided */
	gb_table_header(&t, head);
	for (int n = 0; n < rv->n; n++) {
		const struct gb_record *r = rv->v[n];

		gb_table_row(&t);
		gb_table_cell_take(&t, 0, xstrndup(r->id, idlen));
		for (c = 0; c < ncols; c++)
			gb_table_cell_take(&t, c + 1,
					   prompt_display(db,
							  &k->fields[idx[c]],
							  r->val[idx[c]], 0));
		if (with_voided && r->voided)
			gb_table_cell(&t, ncols + 1, _("voided"));
	}
	gb_table_print(&t, stdout);
	gb_table_release(&t);
	if (rv->n == 1)
		printf(_("1 record\n"));
	else
		printf(_("%d records\n"), rv->n);
}

/* -------------------------------------------------------------------- */
/* list                                                                 */

/* Reads a --from or --to date as people type it (gbtime.h) and writes
 * it as YYYY-MM-DD into out (16 bytes); *v then points at out. */
static int check_date_opt(const char *opt, const char **v, char *out,
			  struct gb_err *err)
{
	int32_t day;

	if (!*v)
		return 0;
	if (gb_date_input(*v, &day, err)) {
		err->code = GB_EUSAGE;
		return gb_error_prefix(err, "--%s", opt);
	}
	gb_date_format(day, out);
	*v = out;
	return 0;
}

/* The states of list --status that follow from several fields. */
static const struct {
	const char *name;
	enum db_state state;
} states[] = {
    {"open", DB_STATE_OPEN},
    {"resolved", DB_STATE_RESOLVED},
    {"overdue", DB_STATE_OVERDUE},
};

static enum db_state state_named(const char *s)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (gb_name_eq(s, states[i].name))
			return states[i].state;
	return DB_STATE_ANY;
}

/* The states kind k has, "open, resolved, overdue", written into buf
 * (64 bytes); returns buf, or "none" translated. */
static const char *state_list(const struct gb_kind *k, char *buf)
{
	const size_t size = 64;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		int w;

		if (!db_kind_has_state(k, states[i].state))
			continue;
		w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			     states[i].name);
		if (w > 0 && (size_t)w < size - used)
			used += (size_t)w;
	}
	return used ? buf : _("none");
}

static int record_list(struct gb_cli *cli, const struct gb_kind *k, int argc,
		       char **argv)
{
	const char *from = NULL, *to = NULL, *community = NULL, *staff = NULL;
	const char *status_v = NULL, *limit = NULL, *format = NULL;
	int all = 0, help = 0, npos, status = 1;
	const struct gb_opt spec[] = {
	    {"from", 1, &from, NULL},		{"to", 1, &to, NULL},
	    {"community", 1, &community, NULL}, {"staff", 1, &staff, NULL},
	    {"status", 1, &status_v, NULL},	{"all", 0, NULL, &all},
	    {"limit", 1, &limit, NULL},		{"format", 1, &format, NULL},
	    {"help", 0, NULL, &help},
	};
	char comm_code[GB_CODE_LEN * 2], staff_code[GB_CODE_LEN * 2], *pos[1];
	char *status_canon = NULL, from_buf[16], to_buf[16], states_buf[64];
	enum out_format fmt;
	struct db_filter f;
	struct gb_record_vec rv = {NULL, 0, 0};
	struct gb_db *db = NULL;
	struct gb_err err;

	if (gb_opts_parse(spec, (int)(sizeof(spec) / sizeof(spec[0])), argc,
			  argv, pos, 0, &npos, &help, &err))
		return usage_error(cli, k, "list", &err);
	if (help) {
		printf(_("usage: gridbook %s list [--from DATE] [--to DATE] "
			 "[--community C]\n"
			 "       [--staff S] [--status X] [--all] [--limit N] "
			 "[--format table|csv|json]\n\n"
			 "Lists the current version of each record, by date. "
			 " --all includes voided\nrecords; dates are local "
			 "and inclusive.  --limit N lists the newest N.\n"
			 "--status takes a value of the kind's status field, "
			 "or for requests open,\nresolved or overdue (open "
			 "past the deadline), for contract checks overdue\n"
			 "(rectification orders past their deadline).\n"),
		       k->name);
		return 0;
	}
	/* A filter the kind has nothing for would silently match nothing
	 * (or everything), so it is refused. */
	if ((from || to) && !k->date_field)
		gb_error(&err, GB_EUSAGE,
			 _("%s records have no date to "
			   "filter on"),
			 k->name);
	else if (community && !k->community_field &&
		 gb_kind_field(k, "enterprise") < 0)
		gb_error(&err, GB_EUSAGE,
			 _("%s records have no community "
			   "to filter on"),
			 k->name);
	else if (staff && !k->staff_field)
		gb_error(&err, GB_EUSAGE,
			 _("%s records have no staff "
			   "member to filter on"),
			 k->name);
	else
		err.code = GB_OK;
	if (err.code != GB_OK)
		return usage_error(cli, k, "list", &err);
	memset(&f, 0, sizeof(f));
	if (parse_format(format, &fmt, &err) ||
	    check_date_opt("from", &from, from_buf, &err) ||
	    check_date_opt("to", &to, to_buf, &err))
		return usage_error(cli, k, "list", &err);
	if (limit) {
		char *end;

		errno = 0;
		f.limit = strtol(limit, &end, 10);
		if (errno || end == limit || *end || f.limit < 1) {
			gb_error(&err, GB_EUSAGE,
				 _("--limit: \"%s\" is not a positive whole "
				   "number"),
				 limit);
			return usage_error(cli, k, "list", &err);
		}
	}
	f.state = status_v ? state_named(status_v) : DB_STATE_ANY;
	f.now = gb_now_ms();
	if (status_v && f.state && db_kind_has_state(k, f.state)) {
		status_v = NULL; /* a state, not a value of the status field */
	} else if (status_v && !k->status_field) {
		gb_error(&err, GB_EUSAGE,
			 _("--status: \"%s\" is not a state of %s records "
			   "(%s)"),
			 status_v, k->name, state_list(k, states_buf));
		return usage_error(cli, k, "list", &err);
	}
	if (status_v) {
		int si = gb_kind_field(k, k->status_field);

		f.state = DB_STATE_ANY;
		if (gb_field_parse(&k->fields[si], status_v, &status_canon,
				   &err)) {
			err.code = GB_EUSAGE;
			gb_error_prefix(&err, "--status");
			return usage_error(cli, k, "list", &err);
		}
	}
	f.from = from;
	f.to = to;
	f.status = status_canon;
	f.with_voided = all;
	db = cmd_open_db(cli, DB_READONLY);
	if (!db)
		goto out;
	if (community) {
		if (db_resolve(db, GB_REF_COMMUNITY, community, comm_code,
			       sizeof(comm_code), &err)) {
			gb_error_prefix(&err, "--community");
			goto fail;
		}
		f.community = comm_code;
	}
	if (staff) {
		if (db_resolve(db, GB_REF_STAFF, staff, staff_code,
			       sizeof(staff_code), &err)) {
			gb_error_prefix(&err, "--staff");
			goto fail;
		}
		f.staff = staff_code;
	}
	if (db_record_list(db, k, &f, gb_record_vec_push, &rv, &err))
		goto fail;
	if (fmt == FMT_JSON) {
		if (print_json(&rv, &err))
			goto fail;
	} else if (fmt == FMT_CSV) {
		if (print_csv(db, k, &rv, all, &err))
			goto fail;
	} else {
		print_table(db, k, &rv, short_id_len(db, k), all);
	}
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	gb_record_vec_release(&rv);
	free(status_canon);
	db_close(db);
	return finish_output(status);
}

/* -------------------------------------------------------------------- */
/* show and history                                                     */

static int count_version(void *arg, const struct gb_record *r)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static char *when_text(int64_t ms)
{
	char text[32];

	gb_time_format(ms, text);
	return xstrdup(text);
}

static char *staff_text(struct gb_db *db, const char *code)
{
	struct gb_field f = {"staff", "",   GB_T_REF, 0, GB_REF_STAFF,
			     NULL,    NULL, 0,	      0};

	return code[0] ? prompt_display(db, &f, code, 1) : xstrdup("");
}

static void show_line(struct gb_table *t, const char *name, const char *label,
		      char *value)
{
	gb_table_row(t);
	gb_table_cell(t, 0, name);
	gb_table_cell(t, 1, label);
	gb_table_cell_take(t, 2, value);
}

/* Appends to the buffer arg each field in conflict once, comma
 * separated (db_conflict_list lists them by field). */
static int conflict_field_add(void *arg, const struct db_conflict *c)
{
	struct gb_buf *b = arg;
	const char *last = b->len ? strrchr(gb_buf_str(b), ' ') : NULL;

	last = last ? last + 1 : gb_buf_str(b);
	if (b->len && !strcmp(last, c->field_name))
		return 0;
	return gb_buf_addf(b, NULL, "%s%s", b->len ? ", " : "", c->field_name)
		   ? -1
		   : 0;
}

static void show_table(struct gb_db *db, const struct gb_record *r,
		       int nversions)
{
	const struct gb_kind *k = r->kind;
	struct gb_buf conf;
	struct gb_table t;

	printf("%s %s  %s\n", k->name, k->zh, r->id);
	gb_table_init(&t, 3);
	t.flags = GB_TABLE_PLAIN;
	for (int i = 0; i < k->nfields; i++)
		show_line(&t, k->fields[i].name, _(k->fields[i].label),
			  prompt_display(db, &k->fields[i], r->val[i], 1));
	show_line(&t, "author", _("entered by"), staff_text(db, r->staff));
	show_line(&t, "device", _("device"), xstrdup(r->device));
	show_line(&t, "created_at", _("created"), when_text(r->created_at));
	show_line(&t, "updated_at", _("updated"), when_text(r->updated_at));
	show_line(&t, "version", _("version"),
		  xasprintf("%d (%" PRIu64 ")", nversions, r->version));
	if (r->voided)
		show_line(&t, "voided", _("voided"),
			  xasprintf(_("yes: %s"),
				    r->void_reason ? r->void_reason : ""));
	else
		show_line(&t, "voided", _("voided"), xstrdup(_("no")));
	gb_buf_init(&conf, GB_BUF_NOLIMIT);
	if (db_conflict_list(db, r->id, NULL, conflict_field_add, &conf,
			     NULL) == 0 &&
	    conf.len)
		show_line(&t, "conflicts", _("conflicts"),
			  xasprintf(_("%s  -> gridbook conflicts"),
				    gb_buf_str(&conf)));
	gb_buf_release(&conf);
	gb_table_print(&t, stdout);
	gb_table_release(&t);
}

static int record_show(struct gb_cli *cli, const struct gb_kind *k, int argc,
		       char **argv)
{
	const char *format = NULL;
	int help = 0, npos, status = 1, nversions = 0;
	const struct gb_opt spec[] = {
	    {"format", 1, &format, NULL},
	    {"help", 0, NULL, &help},
	};
	struct gb_record *r = NULL;
	struct gb_db *db = NULL;
	enum out_format fmt;
	struct gb_buf b;
	char *pos[1];
	struct gb_err err;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_opts_parse(spec, 2, argc, argv, pos, 1, &npos, &help, &err))
		return usage_error(cli, k, "show", &err);
	if (help) {
		printf(_("usage: gridbook %s show ID [--format table|json]\n\n"
			 "Shows every field of a record, who entered it, "
			 "when, its version and\nwhether it is voided.  ID "
			 "may be the start of an id.\n"),
		       k->name);
		return 0;
	}
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE, _("show needs the id of a record"));
		return usage_error(cli, k, "show", &err);
	}
	if (parse_format(format, &fmt, &err))
		return usage_error(cli, k, "show", &err);
	if (fmt == FMT_CSV) {
		gb_error(&err, GB_EUSAGE,
			 _("--format: show writes table or json"));
		return usage_error(cli, k, "show", &err);
	}
	db = cmd_open_db(cli, DB_READONLY);
	if (!db)
		goto out;
	if (db_record_get(db, k, pos[0], &r, &err) ||
	    db_record_history(db, r->id, count_version, &nversions, &err))
		goto fail;
	if (fmt == FMT_JSON) {
		if (gb_record_json(r, &b, &err) || gb_buf_adds(&b, "\n", &err))
			goto fail;
		fwrite(b.data, 1, b.len, stdout);
	} else {
		show_table(db, r, nversions);
	}
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	gb_buf_release(&b);
	gb_record_free(r);
	db_close(db);
	return finish_output(status);
}

struct history_ctx {
	struct gb_db *db;
	struct gb_record *prev; /* owned: the version before */
	int n;
};

static void history_value(struct history_ctx *h, const struct gb_field *f,
			  const char *old, const char *now, int first)
{
	char *a = prompt_display(h->db, f, old, 1);
	char *b = prompt_display(h->db, f, now, 1);

	if (first)
		printf("    %s: %s\n", f->name, b);
	else
		printf("    %s: %s \xe2\x86\x92 %s\n", f->name,
		       a ? a : _("(empty)"), b ? b : _("(empty)"));
	free(a);
	free(b);
}

static int history_cb(void *arg, const struct gb_record *r)
{
	struct history_ctx *h = arg;
	const struct gb_record *p = h->prev;
	char *who = staff_text(h->db, r->staff);
	char *when = when_text(r->updated_at);
	int changed = 0;

	h->n++;
	printf("#%d  %s  %s  (%" PRIu64 ")\n", h->n, when, who, r->version);
	for (int i = 0; i < r->kind->nfields; i++) {
		const char *old = p ? p->val[i] : NULL, *now = r->val[i];

		if (p ? (!old != !now || (old && strcmp(old, now))) : !!now) {
			history_value(h, &r->kind->fields[i], old, now, !p);
			changed++;
		}
	}
	if (r->voided && (!p || !p->voided)) {
		printf(_("    voided: %s\n"),
		       r->void_reason ? r->void_reason : "");
		changed++;
	} else if (!r->voided && p && p->voided) {
		printf(_("    no longer voided\n"));
		changed++;
	}
	if (!changed)
		printf(_("    (no change)\n"));
	gb_record_free(h->prev);
	h->prev = gb_record_dup(r);
	free(who);
	free(when);
	return 0;
}

static int record_history(struct gb_cli *cli, const struct gb_kind *k, int argc,
			  char **argv)
{
	int help = 0, npos, status = 1;
	const struct gb_opt spec[] = {{"help", 0, NULL, &help}};
	struct history_ctx h = {NULL, NULL, 0};
	struct gb_record *r = NULL;
	char *pos[1];
	struct gb_err err;

	if (gb_opts_parse(spec, 1, argc, argv, pos, 1, &npos, &help, &err))
		return usage_error(cli, k, "history", &err);
	if (help) {
		printf(_("usage: gridbook %s history ID\n\n"
			 "Shows every version of a record, oldest first: the "
			 "first with all its\nvalues, each later one with "
			 "what it changed.\n"),
		       k->name);
		return 0;
	}
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE,
			 _("history needs the id of a record"));
		return usage_error(cli, k, "history", &err);
	}
	h.db = cmd_open_db(cli, DB_READONLY);
	if (!h.db)
		goto out;
	if (db_record_get(h.db, k, pos[0], &r, &err))
		goto fail;
	printf("%s %s  %s\n", k->name, k->zh, r->id);
	if (db_record_history(h.db, r->id, history_cb, &h, &err))
		goto fail;
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	gb_record_free(h.prev);
	gb_record_free(r);
	db_close(h.db);
	return finish_output(status);
}

/* -------------------------------------------------------------------- */

int cmd_record(struct gb_cli *cli, const struct gb_kind *kind, int argc,
	       char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct gb_cli *, const struct gb_kind *, int,
			  char **);
	} verbs[] = {
	    {"add", record_add},   {"edit", record_edit},
	    {"void", record_void}, {"list", record_list},
	    {"show", record_show}, {"history", record_history},
	};

	if (argc < 2) {
		kind_usage(stderr, kind);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		kind_usage(stdout, kind);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].verb))
			return verbs[i].fn(cli, kind, argc - 1, argv + 1);
	fprintf(stderr, _("gridbook: %s: unknown verb '%s'\n"), kind->name,
		argv[1]);
	kind_usage(stderr, kind);
	return 2;
}

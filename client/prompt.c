/*
 * Field input for the CLI (prompt.h): the parse-and-resolve step shared by
 * command-line flags and the prompt, the readable display of values, and
 * the question-and-answer loop of the interactive prompt.
 *
 * Ctrl-C during a question must cancel the whole entry without killing
 * the process half-way, so while a prompt session is open SIGINT only sets
 * a flag; the handler is installed without SA_RESTART so that a getline()
 * blocked on the terminal returns at once and the question loop sees it.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "i18n.h"
#include "prompt.h"
#include "xalloc.h"

#include "banned.h"

/* Set by the SIGINT handler while a prompt session is open. */
static volatile sig_atomic_t prompt_interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	prompt_interrupted = 1;
}

/* Trims ASCII white space from both ends of s in place; returns s moved
 * past the leading blanks. */
static char *trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int resolve_one(struct gb_db *db, const struct gb_field *f,
		       const char *item, struct gb_buf *out, struct gb_err *err)
{
	char code[GB_ID_LEN + GB_CODE_LEN];

	if (db_resolve(db, f->ref, item, code, sizeof(code), err))
		return gb_error_prefix(err, "%s", f->name);
	return gb_buf_adds(out, code, err);
}

int prompt_value(struct gb_db *db, const struct gb_field *f, const char *input,
		 char **out, struct gb_err *err)
{
	char *canon = NULL, *item, *next;
	struct gb_buf b;
	int ret = -1, n = 0;

	*out = NULL;
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_field_parse(f, input, &canon, err))
		goto out;
	if (!canon || (f->type != GB_T_REF && f->type != GB_T_LIST)) {
		*out = canon;
		canon = NULL;
		ret = 0;
		goto out;
	}
	if (f->type == GB_T_REF) {
		if (resolve_one(db, f, trim(canon), &b, err))
			goto out;
	} else {
		for (item = canon; item; item = next) {
			next = strchr(item, ',');
			if (next)
				*next++ = '\0';
			item = trim(item);
			if (!*item)
				continue;
			if ((n++ && gb_buf_add(&b, ",", 1, err)) ||
			    resolve_one(db, f, item, &b, err))
				goto out;
		}
	}
	*out = b.len ? gb_buf_detach(&b, NULL) : NULL;
	ret = 0;
out:
	gb_buf_release(&b);
	free(canon);
	return ret;
}

/* A contract check is named by its enterprise and date, or NULL when it
 * cannot be read. */
static char *check_name(struct gb_db *db, const char *id)
{
	struct gb_record *r = NULL;
	const char *ent, *date;
	char *name = NULL, *s = NULL;

	if (db_record_get(db, gb_kind_find("contract_check"), id, &r, NULL))
		return NULL;
	ent = gb_record_get(r, "enterprise");
	date = gb_record_get(r, "check_date");
	if (ent)
		name = db_ref_name(db, GB_REF_ENTERPRISE, ent);
	s = xasprintf("%s %s", name ? name : "?", date ? date : "");
	free(name);
	gb_record_free(r);
	return s;
}

static char *display_ref(struct gb_db *db, enum gb_ref ref, const char *code,
			 int with_code)
{
	char *name, *s;

	name = ref == GB_REF_CHECK ? check_name(db, code)
				   : db_ref_name(db, ref, code);
	if (!name || !with_code || !strcmp(name, code))
		return name ? name : xstrdup(code);
	s = xasprintf("%s (%s)", name, code);
	free(name);
	return s;
}

char *prompt_display(struct gb_db *db, const struct gb_field *f,
		     const char *canon, int with_code)
{
	struct gb_buf b;
	const char *p = canon;

	if (!canon)
		return NULL;
	if (f->type == GB_T_REF)
		return display_ref(db, f->ref, canon, with_code);
	if (f->type != GB_T_LIST)
		return gb_field_show(f, canon);
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	while (*p) {
		size_t n = strcspn(p, ",");
		char *code = xstrndup(p, n), *one;

		one = display_ref(db, f->ref, code, with_code);
		if (b.len)
			gb_buf_adds(&b, ", ", NULL);
		gb_buf_adds(&b, one, NULL);
		free(one);
		free(code);
		p += n;
		if (*p == ',')
			p++;
	}
	return gb_buf_detach(&b, NULL);
}

void prompt_begin(struct prompt *p, struct gb_db *db)
{
	struct sigaction sa;

	memset(p, 0, sizeof(*p));
	p->db = db;
	p->in = stdin;
	p->out = stderr;
	prompt_interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: getline must return */
	sigaction(SIGINT, &sa, &p->old_int);
}

void prompt_end(struct prompt *p)
{
	sigaction(SIGINT, &p->old_int, NULL);
	free(p->line);
	p->line = NULL;
	p->cap = 0;
}

static void list_choices(FILE *out, const char *const *choices)
{
	fputs("   ", out);
	for (int i = 0; choices[i]; i++)
		fprintf(out, " %d) %s", i + 1, choices[i]);
	fputc('\n', out);
}

/* The choice a number stands for ("2" -> the second), or NULL. */
static const char *choice_by_number(const char *const *choices, const char *s)
{
	char *end;
	long n;
	int count = 0;

	if (!isdigit((unsigned char)*s))
		return NULL;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end)
		return NULL;
	while (choices[count])
		count++;
	return n >= 1 && n <= count ? choices[n - 1] : NULL;
}

/* Reads one answer into p->line.  Returns the trimmed answer, or NULL when
 * the person cancelled (Ctrl-C or end of input). */
static char *read_answer(struct prompt *p)
{
	ssize_t n;

	if (prompt_interrupted)
		return NULL;
	fflush(p->out);
	n = getline(&p->line, &p->cap, p->in);
	if (n < 0 || prompt_interrupted) {
		clearerr(p->in);
		fputc('\n', p->out);
		return NULL;
	}
	return trim(p->line);
}

int prompt_field(struct prompt *p, struct gb_record *r, int idx,
		 const char *dflt, const char *problem, struct gb_err *err)
{
	const struct gb_field *f = &r->kind->fields[idx];
	char *shown = prompt_display(p->db, f, dflt, 1);
	int ret = -1;

	if (problem)
		fprintf(p->out, "  %s\n", problem);
	if (f->type == GB_T_ENUM && f->choices)
		list_choices(p->out, f->choices);
	for (;;) {
		const char *ans, *pick;
		char *canon = NULL;
		struct gb_err e;

		if (shown)
			fprintf(p->out, "%s (%s) [%s]: ", _(f->label), f->name,
				shown);
		else
			fprintf(p->out, "%s (%s): ", _(f->label), f->name);
		ans = read_answer(p);
		if (!ans) {
			gb_error(err, GB_EINTR, _("cancelled"));
			goto out;
		}
		if (!*ans) {
			if (dflt) {
				gb_record_set(r, idx, dflt);
				break;
			}
			if (!(f->flags & GB_F_REQUIRED) && !problem) {
				gb_record_set(r, idx, NULL);
				break;
			}
			fprintf(p->out, _("  %s: a value is required\n"),
				f->name);
			continue;
		}
		pick = f->type == GB_T_ENUM && f->choices
			   ? choice_by_number(f->choices, ans)
			   : NULL;
		if (prompt_value(p->db, f, pick ? pick : ans, &canon, &e)) {
			fprintf(p->out, "  %s\n", e.msg);
			continue;
		}
		gb_record_set(r, idx, canon);
		free(canon);
		break;
	}
	ret = 0;
out:
	free(shown);
	return ret;
}

int prompt_confirm(struct prompt *p, const char *question, struct gb_err *err)
{
	static const char *const yes[] = {"y",	 "yes", "Y",  "YES",
					  "Yes", "是",	"好", "是的"};
	const char *ans;

	fprintf(p->out, "%s [y/N]: ", question);
	ans = read_answer(p);
	if (!ans)
		return gb_error(err, GB_EINTR, _("cancelled"));
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcmp(ans, yes[i]))
			return 1;
	return 0;
}

/*
 * gridbook status: what needs the person at this laptop today, each item
 * with the command that acts on it.  What was entered today, by kind; what
 * has not reached HQ yet and when the last sync was; what HQ refused or
 * set aside as conflicting; the grid's rectification orders past their
 * deadline and its open requests past theirs.  The last two are the rows
 * HQ's reports list as overdue for the grid (db_state in db.h holds the
 * one definition the laptop uses), so a coordinator sees on the laptop
 * what the district sees at HQ.  Nothing here writes to the file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "db.h"
#include "gbtime.h"
#include "i18n.h"
#include "json.h"
#include "kinds.h"
#include "opts.h"
#include "prompt.h"
#include "record.h"
#include "sync.h"
#include "table.h"
#include "utf8.h"
#include "xalloc.h"

#include "banned.h"

static const char usage_text[] =
    N_("usage: gridbook status [--format table|json]\n"
       "\n"
       "What needs you today: records entered today by kind, work not yet\n"
       "sent to HQ and the last sync, records HQ refused or found in\n"
       "conflict, the grid's rectification orders past their deadline and\n"
       "its open requests past their deadline (as HQ's reports count them),\n"
       "each with the command that acts on it.\n");

/* Room for every kind of kinds.c. */
#define STATUS_KINDS 16

/* Records entered today, per kind. */
struct entered {
	char kind[STATUS_KINDS][32];
	long n[STATUS_KINDS];
	int nk;
	long total;
};

static void entered_add(void *arg, const char *kind, long n)
{
	struct entered *e = arg;

	if (e->nk >= STATUS_KINDS)
		return;
	snprintf(e->kind[e->nk], sizeof(e->kind[0]), "%s", kind);
	e->n[e->nk++] = n;
	e->total += n;
}

/* The most fields in conflict the text lists (gridbook conflicts lists
 * them all). */
#define STATUS_CONFLICTS 10

/* The fields in conflict on this laptop, one per record and field. */
struct fields {
	struct field_item {
		char id[GB_ID_LEN];
		const struct gb_kind *kind;
		char *title; /* owned */
		const char *field;
	} * v;
	int n, alloc;
};

static int fields_push(void *arg, const struct db_conflict *c)
{
	struct fields *fs = arg;
	struct field_item *it;

	/* Several versions may disagree on one field: listed once. */
	if (fs->n && !strcmp(fs->v[fs->n - 1].id, c->id) &&
	    !strcmp(fs->v[fs->n - 1].field, c->field_name))
		return 0;
	if (fs->n == fs->alloc) {
		fs->alloc = fs->alloc ? fs->alloc * 2 : 8;
		fs->v = xrealloc(fs->v, (size_t)fs->alloc * sizeof(*fs->v));
	}
	it = &fs->v[fs->n++];
	snprintf(it->id, sizeof(it->id), "%s", c->id);
	it->kind = c->kind;
	it->title = c->title ? xstrdup(c->title) : NULL;
	it->field = c->field_name;
	return 0;
}

static void fields_release(struct fields *fs)
{
	for (int i = 0; i < fs->n; i++)
		free(fs->v[i].title);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

struct status {
	struct gb_db *db;
	int64_t now;
	int32_t today;
	struct entered entered;
	struct sync_status sync;
	long refused, conflicts;
	struct fields fields; /* fields in conflict here (gridbook conflicts) */
	struct gb_record_vec orders;   /* overdue rectification orders */
	struct gb_record_vec requests; /* open requests past deadline */
};

/*
 * The records HQ set aside as conflicting: the attention entries HQ
 * marked "conflict".  The fields in conflict that the merge on this
 * laptop found (gridbook conflicts) are counted beside them.
 */
static long status_conflicts(const struct sync_status *st)
{
	long n = 0;

	for (size_t i = 0; i < st->natt; i++)
		if (!strcmp(st->att[i].status, "conflict"))
			n++;
	return n;
}

static int status_gather(struct status *s, struct gb_err *err)
{
	struct db_filter f;
	int64_t start = gb_day_start(s->today);

	if (db_count_entered(s->db, start, start + GB_MS_PER_DAY, entered_add,
			     &s->entered, err))
		return -1;
	if (sync_status_get(s->db, &s->sync, err))
		return -1;
	s->conflicts = status_conflicts(&s->sync);
	s->refused = (long)s->sync.natt - s->conflicts;
	if (db_conflict_list(s->db, NULL, NULL, fields_push, &s->fields, err))
		return -1;
	memset(&f, 0, sizeof(f));
	f.state = DB_STATE_OVERDUE;
	f.now = s->now;
	if (db_record_list(s->db, gb_kind_find("contract_check"), &f,
			   gb_record_vec_push, &s->orders, err) ||
	    db_record_list(s->db, gb_kind_find("request"), &f,
			   gb_record_vec_push, &s->requests, err))
		return -1;
	return 0;
}

/* The whole days an order's deadline lies behind today. */
static int days_overdue(const struct status *s, const struct gb_record *r)
{
	int32_t day;

	if (gb_date_parse(gb_record_get(r, "deadline"), &day, NULL))
		return 0;
	return (int)(s->today - day);
}

/* The instant a TIME field holds, or 0. */
static int64_t time_of(const struct gb_record *r, const char *field)
{
	const char *v = gb_record_get(r, field);
	char *end;
	long long ms;

	if (!v)
		return 0;
	ms = strtoll(v, &end, 10);
	return *end ? 0 : (int64_t)ms;
}

static char *display(struct gb_db *db, const struct gb_record *r,
		     const char *field)
{
	int i = gb_kind_field(r->kind, field);
	char *s;

	if (i < 0)
		return NULL;
	s = prompt_display(db, &r->kind->fields[i], r->val[i], 0);
	return s;
}

static char *when(int64_t ms)
{
	char t[32];

	if (!ms)
		return xstrdup(_("never"));
	gb_time_format(ms, t);
	return xstrdup(t);
}

/* Prints a line's label padded to 14 terminal columns, which a
 * translated (Chinese) label fills two to a character. */
static void label(const char *s)
{
	int w = gb_utf8_width(s);

	fputs(s, stdout);
	do
		putchar(' ');
	while (++w < 14);
}

/* The header rows of print_text's three tables. */
static const char *const field_head[] = {N_("kind"), N_("id"), N_("name"),
					 N_("field")};
static const char *const order_head[] = {N_("id"), N_("enterprise"),
					 N_("check date"), N_("deadline"),
					 N_("days overdue")};
static const char *const request_head[] = {
    N_("id"),	   N_("received"), N_("priority"),  N_("subject"),
    N_("officer"), N_("deadline"), N_("hours past")};

static void print_text(const struct status *s)
{
	const char *grid = db_grid(s->db), *staff = db_staff(s->db);
	char *gname = db_meta_get(s->db, "grid_name");
	char *sname = *staff ? db_ref_name(s->db, GB_REF_STAFF, staff) : NULL;
	char day[16], *a, *b;
	struct gb_table t;

	gb_date_format(s->today, day);
	printf("%s %s  %s (%s)  %s\n\n", grid, gname ? gname : "",
	       sname ? sname : "", staff, day);
	free(gname);
	free(sname);

	label(_("entered today"));
	if (!s->entered.nk)
		printf(_("nothing yet"));
	for (int i = 0; i < s->entered.nk; i++) {
		const struct gb_kind *k = gb_kind_find(s->entered.kind[i]);

		printf("%s%s %ld", i ? ", " : "", k ? k->zh : "",
		       s->entered.n[i]);
		if (k)
			printf(" (%s)", k->name);
	}
	putchar('\n');

	a = when(s->sync.oldest);
	b = when(s->sync.last_ok);
	label(_("unsent"));
	if (!s->sync.server)
		printf(_("%ld records; sync is not set up  -> gridbook sync "
			 "setup --server URL --token -\n"),
		       s->sync.pending);
	else if (s->sync.pending)
		printf(_("%ld records, the oldest from %s; last sync %s  -> "
			 "gridbook sync\n"),
		       s->sync.pending, a, b);
	else
		printf(_("none; last sync %s\n"), b);
	free(a);
	free(b);
	label(_("refused"));
	if (s->refused)
		printf(_("%ld records HQ refused  -> gridbook sync status, "
			 "then edit or void them\n"),
		       s->refused);
	else
		printf(_("none\n"));
	label(_("conflicts"));
	if (s->fields.n)
		printf(ngettext("%d field changed on two laptops at once  -> "
				"gridbook conflicts\n",
				"%d fields changed on two laptops at once  -> "
				"gridbook conflicts\n",
				(unsigned long)s->fields.n),
		       s->fields.n);
	if (s->conflicts) {
		if (s->fields.n)
			label("");
		printf(_("%ld records in conflict  -> gridbook sync status\n"),
		       s->conflicts);
	}
	if (!s->fields.n && !s->conflicts)
		printf(_("none\n"));
	if (s->fields.n) {
		gb_table_init(&t, 4);
		gb_table_header_tr(&t, field_head);
		gb_table_column(&t, 2, 30, 0);
		for (int i = 0; i < s->fields.n && i < STATUS_CONFLICTS; i++) {
			const struct field_item *it = &s->fields.v[i];

			gb_table_row(&t);
			gb_table_cell(&t, 0, it->kind->name);
			gb_table_cell(&t, 1, it->id);
			gb_table_cell(&t, 2, it->title);
			gb_table_cell(&t, 3, it->field);
		}
		gb_table_print(&t, stdout);
		gb_table_release(&t);
		if (s->fields.n > STATUS_CONFLICTS)
			printf(_("... and %d more: gridbook conflicts lists "
				 "them all\n"),
			       s->fields.n - STATUS_CONFLICTS);
	}

	putchar('\n');
	printf(_("overdue rectification orders: %d"), s->orders.n);
	if (s->orders.n)
		printf(_("  -> gridbook rectification add --check ID --result "
			 "rectified"));
	putchar('\n');
	if (s->orders.n) {
		gb_table_init(&t, 5);
		gb_table_header_tr(&t, order_head);
		gb_table_column(&t, 1, 30, 0);
		gb_table_column(&t, 4, 0, 1);
		for (int i = 0; i < s->orders.n; i++) {
			const struct gb_record *r = s->orders.v[i];

			gb_table_row(&t);
			gb_table_cell(&t, 0, r->id);
			gb_table_cell_take(&t, 1,
					   display(s->db, r, "enterprise"));
			gb_table_cell(&t, 2, gb_record_get(r, "check_date"));
			gb_table_cell(&t, 3, gb_record_get(r, "deadline"));
			gb_table_cell_take(&t, 4,
					   xasprintf("%d", days_overdue(s, r)));
		}
		gb_table_print(&t, stdout);
		gb_table_release(&t);
	}
	putchar('\n');
	printf(_("open requests past deadline: %d"), s->requests.n);
	if (s->requests.n)
		printf(_("  -> gridbook request edit ID --resolved-at now "
			 "--result TEXT"));
	putchar('\n');
	if (!s->requests.n)
		return;
	gb_table_init(&t, 7);
	gb_table_header_tr(&t, request_head);
	gb_table_column(&t, 3, 24, 0);
	gb_table_column(&t, 6, 0, 1);
	for (int i = 0; i < s->requests.n; i++) {
		const struct gb_record *r = s->requests.v[i];
		int64_t dl = time_of(r, "deadline");

		gb_table_row(&t);
		gb_table_cell(&t, 0, r->id);
		gb_table_cell_take(&t, 1, display(s->db, r, "received_at"));
		gb_table_cell(&t, 2, gb_record_get(r, "priority"));
		gb_table_cell(&t, 3, gb_record_get(r, "subject"));
		gb_table_cell_take(&t, 4, display(s->db, r, "officer"));
		gb_table_cell_take(&t, 5, display(s->db, r, "deadline"));
		gb_table_cell_take(
		    &t, 6,
		    xasprintf("%.1f", (double)(s->now - dl) / 3600000.0));
	}
	gb_table_print(&t, stdout);
	gb_table_release(&t);
}

/* Appends "key":"text" (or null), after a comma. */
/* Appends ,"fields_in_conflict":[{"kind","id","title","field"}...]. */
static int fields_json(struct gb_buf *b, const struct fields *fs,
		       struct gb_err *err)
{
	if (gb_buf_adds(b, ",\"fields_in_conflict\":[", err))
		return -1;
	for (int i = 0; i < fs->n; i++) {
		const struct field_item *it = &fs->v[i];

		if (gb_buf_adds(b, i ? ",{\"kind\":" : "{\"kind\":", err) ||
		    gb_json_str(b, it->kind->name, err) ||
		    gb_buf_adds(b, ",\"id\":", err) ||
		    gb_json_str(b, it->id, err) ||
		    gb_buf_adds(b, ",\"title\":", err) ||
		    gb_json_str(b, it->title ? it->title : "", err) ||
		    gb_buf_adds(b, ",\"field\":", err) ||
		    gb_json_str(b, it->field, err) || gb_buf_adds(b, "}", err))
			return -1;
	}
	return gb_buf_adds(b, "]", err);
}

static int json_kv(struct gb_buf *b, const char *key, const char *v,
		   struct gb_err *err)
{
	return gb_buf_addf(b, err, ",\"%s\":", key) || gb_json_str(b, v, err);
}

static int json_time(struct gb_buf *b, const char *key, int64_t ms,
		     struct gb_err *err)
{
	char t[32];

	if (!ms)
		return gb_buf_addf(b, err, ",\"%s\":null", key);
	gb_time_format_utc(ms, t);
	return json_kv(b, key, t, err);
}

static int print_json(const struct status *s, struct gb_err *err)
{
	struct gb_buf b;
	char day[16];
	int rc = -1;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	gb_date_format(s->today, day);
	if (gb_buf_adds(&b, "{\"grid\":", err) ||
	    gb_json_str(&b, db_grid(s->db), err) ||
	    json_kv(&b, "staff", db_staff(s->db), err) ||
	    json_kv(&b, "today", day, err) ||
	    gb_buf_adds(&b, ",\"entered_today\":{", err))
		goto out;
	for (int i = 0; i < s->entered.nk; i++)
		if (gb_buf_adds(&b, i ? "," : "", err) ||
		    gb_json_str(&b, s->entered.kind[i], err) ||
		    gb_buf_addf(&b, err, ":%ld", s->entered.n[i]))
			goto out;
	if (gb_buf_addf(&b, err, "},\"unsent\":%ld", s->sync.pending) ||
	    json_time(&b, "oldest_unsent", s->sync.oldest, err) ||
	    json_time(&b, "last_sync", s->sync.last_ok, err) ||
	    gb_buf_addf(&b, err, ",\"refused\":%ld,\"conflicts\":%ld",
			s->refused, s->conflicts) ||
	    fields_json(&b, &s->fields, err) ||
	    gb_buf_adds(&b, ",\"overdue_orders\":[", err))
		goto out;
	for (int i = 0; i < s->orders.n; i++) {
		const struct gb_record *r = s->orders.v[i];
		char *name = display(s->db, r, "enterprise");
		int bad = gb_buf_adds(&b, i ? ",{\"id\":" : "{\"id\":", err) ||
			  gb_json_str(&b, r->id, err) ||
			  json_kv(&b, "enterprise",
				  gb_record_get(r, "enterprise"), err) ||
			  json_kv(&b, "enterprise_name", name, err) ||
			  json_kv(&b, "check_date",
				  gb_record_get(r, "check_date"), err) ||
			  json_kv(&b, "deadline", gb_record_get(r, "deadline"),
				  err) ||
			  gb_buf_addf(&b, err, ",\"days_overdue\":%d}",
				      days_overdue(s, r));

		free(name);
		if (bad)
			goto out;
	}
	if (gb_buf_adds(&b, "],\"late_requests\":[", err))
		goto out;
	for (int i = 0; i < s->requests.n; i++) {
		const struct gb_record *r = s->requests.v[i];

		if (gb_buf_adds(&b, i ? ",{\"id\":" : "{\"id\":", err) ||
		    gb_json_str(&b, r->id, err) ||
		    json_kv(&b, "area", gb_record_get(r, "area"), err) ||
		    json_kv(&b, "priority", gb_record_get(r, "priority"),
			    err) ||
		    json_kv(&b, "officer", gb_record_get(r, "officer"), err) ||
		    json_time(&b, "received_at", time_of(r, "received_at"),
			      err) ||
		    json_time(&b, "deadline", time_of(r, "deadline"), err) ||
		    gb_buf_adds(&b, "}", err))
			goto out;
	}
	if (gb_buf_adds(&b, "]}\n", err))
		goto out;
	fwrite(b.data, 1, b.len, stdout);
	rc = 0;
out:
	gb_buf_release(&b);
	return rc;
}

int cmd_status(struct gb_cli *cli, int argc, char **argv)
{
	const char *format = NULL;
	int help = 0, npos = 0, ret = 1;
	const struct gb_opt spec[] = {{"format", 1, &format, NULL}};
	struct status s;
	struct gb_err err;
	char *pos[1];

	memset(&s, 0, sizeof(s));
	if (gb_opts_parse(spec, 1, argc, argv, pos, 0, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "status", &err);
	if (help) {
		fputs(_(usage_text), stdout);
		return 0;
	}
	if (format && strcmp(format, "table") && strcmp(format, "json")) {
		gb_error(&err, GB_EUSAGE,
			 _("--format: \"%s\" is not table or json"), format);
		return gb_opts_usage_error(cli->prog, "status", &err);
	}
	s.db = cmd_open_db(cli, DB_READONLY);
	if (!s.db)
		return 1;
	s.now = gb_now_ms();
	s.today = gb_local_day(s.now);
	if (status_gather(&s, &err))
		goto fail;
	if (format && !strcmp(format, "json")) {
		if (print_json(&s, &err))
			goto fail;
	} else {
		print_text(&s);
	}
	ret = 0;
	goto out;
fail:
	ret = cmd_fail(cli, &err);
out:
	fields_release(&s.fields);
	gb_record_vec_release(&s.orders);
	gb_record_vec_release(&s.requests);
	sync_status_release(&s.sync);
	db_close(s.db);
	if (fflush(stdout) && !ret)
		ret = 1;
	return ret;
}

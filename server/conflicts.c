/*
 * The field conflicts listed for people (conflicts.h).  The store gives
 * the rows (field_conflict, written by ingest when it merges a record);
 * this module turns each into the words of a table, a JSON object or a
 * CSV line.  One conflict is one field of one record: the value HQ
 * keeps (the newer version's, or the void, which stands), the other
 * value, the staff and device that wrote each, and when HQ received the
 * later of the two.  Values are shown as the record shows them: a
 * choice by its word, a time in local time, the void as "voided" with
 * its reason.  JSON keeps the values as they are stored, so that a
 * program can use them, and versions as strings (they pass 2^53).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflicts.h"
#include "csv.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "json.h"
#include "table.h"
#include "xalloc.h"

#include "banned.h"

/* The widest a value is shown in the table, in columns. */
#define TABLE_VALUE_COLS 24
#define NCOL 8

/* One conflict as text: the cells of a table or CSV row, owned. */
struct row {
	char *cell[NCOL];
};

struct rows {
	struct row *r;
	size_t n, cap;
	enum conflicts_format f;
	struct gb_buf *json; /* CONFLICTS_JSON: written as they come */
	struct gb_err *err;
	int failed;
	size_t limit;	/* 0: no limit */
	int more;	/* a row beyond the limit came */
	char next[192]; /* the key of the last row taken, as a cursor */
};

static const char *const col_label[NCOL] = {
    N_("record"),      N_("kind"),    N_("field"),    N_("kept value"),
    N_("other value"), N_("kept by"), N_("other by"), N_("detected"),
};

int conflicts_format_parse(const char *s, enum conflicts_format *out,
			   struct gb_err *err)
{
	if (!s || !strcmp(s, "table"))
		*out = CONFLICTS_TABLE;
	else if (!strcmp(s, "json"))
		*out = CONFLICTS_JSON;
	else if (!strcmp(s, "csv"))
		*out = CONFLICTS_CSV;
	else
		return gb_error(err, GB_EUSAGE,
				_("--format: \"%s\" is not table, json or csv"),
				s);
	return 0;
}

int conflicts_may_read(const struct store_device *dev, const char *grid,
		       const char **use, struct gb_err *err)
{
	if (!strcmp(dev->role, "viewer")) {
		*use = grid && *grid ? grid : NULL;
		return 0;
	}
	if (grid && *grid && strcmp(grid, dev->grid) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("device %s of grid %s may not read the "
				  "conflicts of grid %s"),
				dev->id, dev->grid, grid);
	*use = dev->grid;
	return 0;
}

/* A value as people read it: a choice by its word, a time in local
 * time, the void as "voided" or "not voided".  Into buf (n bytes) or
 * static; "" for an empty value. */
static const char *shown(const struct gb_kind *k, const char *field,
			 const char *value, char *buf, size_t n)
{
	int i = k ? gb_kind_field(k, field) : -1;

	if (!strcmp(field, "void")) {
		if (!value)
			return _("not voided");
		if (!*value)
			return _("voided");
		snprintf(buf, n, _("voided: %s"), value);
		return buf;
	}
	if (!value)
		return "";
	if (i >= 0 && k->fields[i].type == GB_T_ENUM)
		return gb_choice_word(&k->fields[i], value);
	if (i >= 0 && k->fields[i].type == GB_T_TIME) {
		char *end;
		long long ms = strtoll(value, &end, 10);

		if (!*end && end != value && n >= 20) {
			gb_time_format((int64_t)ms, buf);
			return buf;
		}
	}
	return value;
}

/* "冯秀兰 K0001 (7bfee37b)": the staff's name and code and the end of the
 * device id (its start is the time it was made, alike for devices
 * enrolled together). */
static char *who(const char *name, const char *staff, const char *device)
{
	size_t n = device ? strlen(device) : 0;

	return xasprintf("%s%s%s (%s)", name && *name ? name : "",
			 name && *name ? " " : "",
			 staff && *staff ? staff : "-",
			 device ? device + (n > 8 ? n - 8 : 0) : "");
}

static int json_opt(struct gb_buf *b, const char *s, struct gb_err *err)
{
	return s ? gb_json_str(b, s, err) : gb_buf_adds(b, "null", err);
}

static int json_side(struct gb_buf *b, const char *key, const char *value,
		     uint64_t version, const char *device, const char *staff,
		     const char *name, struct gb_err *err)
{
	return gb_buf_addf(b, err, ",\"%s\":{\"value\":", key) ||
	       json_opt(b, value, err) ||
	       gb_buf_addf(b, err, ",\"version\":\"%" PRIu64 "\",\"device\":",
			   version) ||
	       gb_json_str(b, device ? device : "", err) ||
	       gb_buf_adds(b, ",\"staff\":", err) ||
	       gb_json_str(b, staff ? staff : "", err) ||
	       gb_buf_adds(b, ",\"staff_name\":", err) ||
	       json_opt(b, name, err) || gb_buf_adds(b, "}", err);
}

static int json_one(struct rows *rs, const struct store_field_conflict *c)
{
	struct gb_buf *b = rs->json;
	char when[32];

	gb_time_format(c->detected, when);
	return gb_buf_adds(b, rs->n ? ",\n{\"id\":" : "{\"id\":", rs->err) ||
	       gb_json_str(b, c->id, rs->err) ||
	       gb_buf_adds(b, ",\"kind\":", rs->err) ||
	       gb_json_str(b, c->kind ? c->kind : "", rs->err) ||
	       gb_buf_adds(b, ",\"grid\":", rs->err) ||
	       gb_json_str(b, c->grid ? c->grid : "", rs->err) ||
	       gb_buf_adds(b, ",\"field\":", rs->err) ||
	       gb_json_str(b, c->field ? c->field : "", rs->err) ||
	       json_side(b, "kept", c->kept_value, c->kept_version,
			 c->kept_device, c->kept_staff, c->kept_name,
			 rs->err) ||
	       json_side(b, "other", c->lost_value, c->lost_version,
			 c->lost_device, c->lost_staff, c->lost_name,
			 rs->err) ||
	       gb_buf_adds(b, ",\"detected\":", rs->err) ||
	       gb_json_str(b, when, rs->err) ||
	       gb_buf_addf(b, rs->err, ",\"detected_ms\":%" PRId64 "}",
			   c->detected);
}

static int row_add(void *arg, const struct store_field_conflict *c)
{
	struct rows *rs = arg;
	const struct gb_kind *k = gb_kind_find(c->kind ? c->kind : "");
	int fi = k && c->field ? gb_kind_field(k, c->field) : -1;
	char buf[512], when[32];
	struct row *r;

	if (rs->limit && rs->n == rs->limit) {
		rs->more = 1;
		return 1;
	}
	snprintf(rs->next, sizeof(rs->next), "%" PRId64 ".%" PRIu64 ".%s.%s.%s",
		 c->detected, c->lost_version, c->id, c->lost_device, c->field);
	if (rs->f == CONFLICTS_JSON) {
		if (json_one(rs, c) < 0) {
			rs->failed = 1;
			return 1;
		}
		rs->n++;
		return 0;
	}
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 16;
		rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	r = &rs->r[rs->n++];
	gb_time_format(c->detected, when);
	r->cell[0] = xstrdup(c->id);
	r->cell[1] = xstrdup(k ? k->zh : c->kind ? c->kind : "");
	r->cell[2] = xstrdup(fi >= 0 ? gb_field_heading(&k->fields[fi])
			     : !strcmp(c->field, "void") ? _("void")
							 : c->field);
	r->cell[3] =
	    xstrdup(shown(k, c->field, c->kept_value, buf, sizeof(buf)));
	r->cell[4] =
	    xstrdup(shown(k, c->field, c->lost_value, buf, sizeof(buf)));
	r->cell[5] = who(c->kept_name, c->kept_staff, c->kept_device);
	r->cell[6] = who(c->lost_name, c->lost_staff, c->lost_device);
	r->cell[7] = xstrdup(when);
	return 0;
}

static void rows_release(struct rows *rs)
{
	for (size_t i = 0; i < rs->n && rs->r; i++)
		for (int c = 0; c < NCOL; c++)
			free(rs->r[i].cell[c]);
	free(rs->r);
	rs->r = NULL;
}

/* Writes the table: the values cut to TABLE_VALUE_COLS columns, "-" for
 * an empty cell, then the count. */
static int write_table(const struct rows *rs, struct gb_buf *out,
		       struct gb_err *err)
{
	struct gb_table t;
	int rc;

	if (rs->n == 0)
		return gb_buf_adds(out, _("no field conflicts\n"), err);
	gb_table_init(&t, NCOL);
	t.flags = GB_TABLE_NO_RULE;
	gb_table_header_tr(&t, col_label);
	gb_table_column(&t, 3, TABLE_VALUE_COLS, 0);
	gb_table_column(&t, 4, TABLE_VALUE_COLS, 0);
	for (size_t i = 0; i < rs->n; i++) {
		gb_table_row(&t);
		for (int c = 0; c < NCOL; c++)
			gb_table_cell(
			    &t, c, *rs->r[i].cell[c] ? rs->r[i].cell[c] : "-");
	}
	rc = gb_table_write(&t, out, err);
	gb_table_release(&t);
	if (rc)
		return -1;
	return gb_buf_addf(
	    out, err,
	    ngettext("%zu field conflict\n", "%zu field conflicts\n", rs->n),
	    rs->n);
}

static int write_csv(const struct rows *rs, struct gb_buf *out,
		     struct gb_err *err)
{
	if (gb_buf_adds(out, GB_CSV_BOM, err))
		return -1;
	for (int c = 0; c < NCOL; c++)
		if ((c && gb_buf_adds(out, ",", err)) ||
		    gb_csv_field(out, _(col_label[c]), err))
			return -1;
	if (gb_buf_adds(out, "\r\n", err))
		return -1;
	for (size_t i = 0; i < rs->n; i++) {
		for (int c = 0; c < NCOL; c++)
			if ((c && gb_buf_adds(out, ",", err)) ||
			    gb_csv_cell(out, rs->r[i].cell[c], err))
				return -1;
		if (gb_buf_adds(out, "\r\n", err))
			return -1;
	}
	return 0;
}

/* A field name in a cursor: what the kinds' field names are made of. */
static int field_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* The key a cursor names (conflicts_write's "next":
 * DETECTED.LOST_VERSION.ID.LOST_DEVICE.FIELD) into *k, which points
 * into buf (a copy of the cursor).  0, or -1 when it is not one. */
static int cursor_key(const char *cur, char *buf, size_t size,
		      struct store_conflict_key *k)
{
	unsigned char u[16];
	char *p, *end, *dot;

	if (!cur || strlen(cur) >= size)
		return -1;
	snprintf(buf, size, "%s", cur);
	p = buf;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	k->detected = strtoll(p, &end, 10);
	if (errno || *end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	k->lost_version = strtoull(end + 1, &p, 10);
	if (errno || *p != '.')
		return -1;
	k->id = ++p;
	dot = strchr(p, '.');
	if (!dot)
		return -1;
	*dot = '\0';
	k->lost_device = p = dot + 1;
	dot = strchr(p, '.');
	if (!dot)
		return -1;
	*dot = '\0';
	k->field = dot + 1;
	if (gb_uuid_bytes(k->id, u) < 0 ||
	    gb_uuid_bytes(k->lost_device, u) < 0 || !field_name_ok(k->field))
		return -1;
	return 0;
}

int conflicts_page_parse(const char *after, const char *limit,
			 struct conflicts_page *out, struct gb_err *err)
{
	struct store_conflict_key k;
	char buf[192], *end;
	unsigned long long n = CONFLICTS_PAGE_DEFAULT;

	if (after && cursor_key(after, buf, sizeof(buf), &k) < 0)
		return gb_error(err, GB_EUSAGE,
				_("after: \"%.40s\" is not a cursor given by "
				  "/v1/conflicts"),
				after);
	if (limit) {
		errno = 0;
		n = strtoull(limit, &end, 10);
		if (errno || end == limit || *end || *limit < '0' ||
		    *limit > '9' || n < 1 || n > CONFLICTS_PAGE_MAX)
			return gb_error(err, GB_EUSAGE,
					_("limit: \"%.20s\" is not a number "
					  "from 1 to %d"),
					limit, CONFLICTS_PAGE_MAX);
	}
	out->after = after;
	out->limit = (size_t)n;
	return 0;
}

int conflicts_write(struct store *st, const char *grid, enum conflicts_format f,
		    const struct conflicts_page *page, struct gb_buf *out,
		    struct gb_err *err)
{
	struct store_conflict_key key, *after = NULL;
	char buf[192];
	struct rows rs;
	int rc = -1;

	memset(&rs, 0, sizeof(rs));
	rs.f = f;
	rs.json = out;
	rs.err = err;
	if (page && page->after) {
		if (cursor_key(page->after, buf, sizeof(buf), &key) < 0)
			return gb_error(err, GB_EUSAGE,
					_("after: \"%.40s\" is not a cursor "
					  "given by /v1/conflicts"),
					page->after);
		after = &key;
	}
	rs.limit = page ? page->limit : 0;
	if (f == CONFLICTS_JSON && gb_buf_adds(out, "{\"conflicts\":[", err))
		return -1;
	/* One beyond the page tells whether a page follows. */
	if (st->ops->field_conflict_list(st, grid, after,
					 rs.limit ? rs.limit + 1 : 0, row_add,
					 &rs, err) < 0 ||
	    rs.failed)
		goto out;
	if (f == CONFLICTS_JSON && rs.more)
		rc = gb_buf_addf(out, err,
				 "],\n\"count\":%zu,\n\"next\":\"%s\"}\n", rs.n,
				 rs.next);
	else if (f == CONFLICTS_JSON)
		rc = gb_buf_addf(out, err, "],\n\"count\":%zu}\n", rs.n);
	else if (f == CONFLICTS_CSV)
		rc = write_csv(&rs, out, err);
	else
		rc = write_table(&rs, out, err);
out:
	if (f != CONFLICTS_JSON)
		rows_release(&rs);
	return rc;
}

/*
 * The report facts, kept by ingest (see rollup.h and
 * schema/server/002_reports.sql).
 *
 * Why not triggers, and why not a GROUP BY at report time: a GROUP BY over
 * ten million stored records takes tens of seconds, and a trigger on
 * record_current cost almost half the insert rate.  So the writer, once
 * per applied batch, goes through the records the batch made current and
 * rewrites their facts with statements prepared once per store: one small
 * row per record of a kind a report reads (none for handovers and
 * employment monitoring), plus, for the kinds whose reports count per day,
 * night or week, a counter per unit and day that the record's old facts
 * are taken off and its new ones added to.  A report then reads the rows
 * of its period only, so its time depends on the period and the number of
 * units, not on how much is stored.
 *
 * Facts hold only what does not depend on other records: an enterprise's
 * status and a check's enterprise are joined when the report runs, so a
 * closed enterprise or a new follow-up never needs other facts rewritten.
 * Nor do they hold anything of the reference data: a patrol counts under
 * its leader, whose role the report reads from the staff table, and
 * populations, areas and officers are read there too, so that a re-seed
 * that changes them changes every report at once (SPEC §3: facts always
 * agree with the current reference data) with no fact to bring up to
 * date.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gbtime.h"
#include "hmap.h"
#include "i18n.h"
#include "id.h"
#include "rollup.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

#define HOUR_MS INT64_C(3600000)
#define ROLLUP_VERSION "2"
#define MAX_GUARDS 32

/* The statements, each a named constant so that its address is stable
 * (store_sqlite_cached keys on it). */
static const char SQL_ENT_PUT[] =
    "INSERT OR REPLACE INTO rf_enterprise (id, grid, community, name, "
    "active) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ENT_DEL[] = "DELETE FROM rf_enterprise WHERE id = ?1";
static const char SQL_ENT_GET[] =
    "SELECT grid, active FROM rf_enterprise WHERE id = ?1";
static const char SQL_ACTIVE_ADD[] =
    "INSERT INTO rr_active (grid, enterprises) VALUES (?1, ?2) "
    "ON CONFLICT (grid) DO UPDATE SET "
    "enterprises = enterprises + excluded.enterprises";
static const char SQL_CHECK_PUT[] =
    "INSERT OR REPLACE INTO rf_check (id, grid, enterprise, day, version, "
    "signed, total, outcome, deadline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
    "?8, ?9)";
static const char SQL_CHECK_DEL[] = "DELETE FROM rf_check WHERE id = ?1";
static const char SQL_RECT_PUT[] =
    "INSERT OR REPLACE INTO rf_rect (id, chk, day, rectified) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_RECT_DEL[] = "DELETE FROM rf_rect WHERE id = ?1";
static const char SQL_DISPUTE_PUT[] =
    "INSERT OR REPLACE INTO rf_dispute (id, grid, day, level, status, "
    "enterprise) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_DISPUTE_DEL[] = "DELETE FROM rf_dispute WHERE id = ?1";
static const char SQL_REQUEST_PUT[] =
    "INSERT OR REPLACE INTO rf_request (id, area, day, received, "
    "deadline, resolved, category, priority, officer) VALUES (?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_REQUEST_DEL[] = "DELETE FROM rf_request WHERE id = ?1";

/* A patrol counts per area and leader: the two travel as one code,
 * "area<TAB>leader", through the counters and fact_get. */
static const char SQL_PATROL_GET[] =
    "SELECT area || char(9) || leader, start_at, end_at FROM rf_patrol "
    "WHERE id = ?1";
static const char SQL_PATROL_DEL[] = "DELETE FROM rf_patrol WHERE id = ?1";
static const char SQL_PATROL_PUT[] =
    "INSERT INTO rf_patrol (id, area, leader, start_at, end_at) "
    "VALUES (?1, substr(?2, 1, instr(?2, char(9)) - 1), "
    "substr(?2, instr(?2, char(9)) + 1), ?3, ?4)";
static const char SQL_NIGHT_ADD[] =
    "INSERT INTO rr_night (night, area, leader, patrols) VALUES (?1, "
    "substr(?2, 1, instr(?2, char(9)) - 1), "
    "substr(?2, instr(?2, char(9)) + 1), ?3) "
    "ON CONFLICT (night, area, leader) DO UPDATE SET "
    "patrols = patrols + excluded.patrols";
static const char SQL_NIGHT_GC[] =
    "DELETE FROM rr_night WHERE night = ?1 AND "
    "area = substr(?2, 1, instr(?2, char(9)) - 1) AND "
    "leader = substr(?2, instr(?2, char(9)) + 1) AND patrols <= 0";

static const char SQL_DAILY_GET[] =
    "SELECT officer, day FROM rf_daily WHERE id = ?1";
static const char SQL_DAILY_DEL[] = "DELETE FROM rf_daily WHERE id = ?1";
static const char SQL_DAILY_PUT[] =
    "INSERT INTO rf_daily (id, officer, day) VALUES (?1, ?2, ?3)";
static const char SQL_DAY_ADD[] =
    "INSERT INTO rr_daily (day, officer, reports) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (day, officer) DO UPDATE SET "
    "reports = reports + excluded.reports";
static const char SQL_DAY_GC[] =
    "DELETE FROM rr_daily WHERE day = ?1 AND officer = ?2 AND reports <= 0";

static const char SQL_RECEPTION_GET[] =
    "SELECT officer, start_at, end_at FROM rf_reception WHERE id = ?1";
static const char SQL_RECEPTION_DEL[] =
    "DELETE FROM rf_reception WHERE id = ?1";
static const char SQL_RECEPTION_PUT[] =
    "INSERT INTO rf_reception (id, officer, start_at, end_at) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_WEEK_ADD[] =
    "INSERT INTO rr_reception (week, officer, ms) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (week, officer) DO UPDATE SET ms = ms + excluded.ms";
static const char SQL_WEEK_GC[] =
    "DELETE FROM rr_reception WHERE week = ?1 AND officer = ?2 AND ms <= 0";

static const char SQL_CONFLICT_PUT[] =
    "INSERT OR REPLACE INTO rf_conflict (id, kind, grid, area, person, day, "
    "conflicts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_CONFLICT_DEL[] = "DELETE FROM rf_conflict WHERE id = ?1";

static const char SQL_SYNC_ADD[] =
    "INSERT INTO rr_sync (device, day, grid, role, batches, records, "
    "last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (device, day) DO UPDATE SET "
    "batches = batches + excluded.batches, "
    "records = records + excluded.records, "
    "last_at = max(last_at, excluded.last_at), grid = excluded.grid, "
    "role = excluded.role";

/* A counter change not yet written: delta for (key, code) of the
 * counter table whose statements are add_sql and gc_sql. */
struct pending {
	const char *add_sql, *gc_sql;
	int64_t key;
	char *code;
	int64_t delta;
};

/* What one call needs at hand.  Counter changes are summed in memory,
 * per counter, and written once each by ctx_flush: a batch of patrols or
 * daily reports touches the same few counters over and over. */
struct ctx {
	struct store *st;
	sqlite3 *db;
	struct gb_err *err;
	struct pending *pend; /* npend of them, in the order first added */
	size_t npend, cap;
	struct gb_hmap index; /* counter key (counter_key) -> n: its pend */
	struct gb_buf key;    /* scratch for counter_key */
};

static int fail(struct ctx *c, const char *what)
{
	return gb_error(c->err, GB_EDB, _("report facts: %s: %s"), what,
			sqlite3_errmsg(c->db));
}

static sqlite3_stmt *prep(struct ctx *c, const char *sql)
{
	return store_sqlite_cached(c->st, sql, c->err);
}

/* Steps a statement that returns no rows, and resets it. */
static int done(struct ctx *c, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE)
		return fail(c, what);
	return 0;
}

/* Binds a record id as its 16 bytes (as record_current keeps it). */
static void bind_id(sqlite3_stmt *q, int i, const char *id)
{
	unsigned char b[16];

	if (gb_uuid_bytes(id, b) == 0)
		sqlite3_bind_blob(q, i, b, 16, SQLITE_TRANSIENT);
	else
		sqlite3_bind_text(q, i, id ? id : "", -1, SQLITE_TRANSIENT);
}

static void bind_str(sqlite3_stmt *q, int i, const char *s)
{
	sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* An integer field; 0 when empty or not a number. */
static int64_t num(const struct gb_record *r, const char *field)
{
	int64_t v = 0;

	if (gb_record_int(r, field, &v) < 0)
		return 0;
	return v;
}

/* A TIME field (ms text), or -1 when empty or malformed. */
static int64_t instant(const struct gb_record *r, const char *field)
{
	const char *s = gb_record_get(r, field);
	char *end;
	long long v;

	if (!s)
		return -1;
	v = strtoll(s, &end, 10);
	return *end || end == s ? -1 : (int64_t)v;
}

/* A DATE field as a day number; 0 with *ok 0 when empty or malformed. */
static int32_t date_of(const struct gb_record *r, const char *field, int *ok)
{
	const char *s = gb_record_get(r, field);
	int32_t d = 0;

	*ok = s && gb_date_parse(s, &d, NULL) == 0;
	return *ok ? d : 0;
}

/* ---- kinds with one fact row ---- */

/* Adds delta to the count of active enterprises of grid. */
static int active_add(struct ctx *c, const char *grid, int delta)
{
	sqlite3_stmt *q = prep(c, SQL_ACTIVE_ADD);

	if (!q)
		return -1;
	bind_str(q, 1, grid);
	sqlite3_bind_int(q, 2, delta);
	return done(c, q, "enterprise");
}

/* An enterprise's row, and the count of active ones per grid that
 * check-coverage divides by (kept here so that the report does not count
 * every enterprise ever entered). */
/*
 * Reads the fact row that get_sql holds for r: its code (column 0) into
 * code, and its integers (columns 1 and, when b is not NULL, 2) into a and
 * b.  Returns 1 when there is such a row, 0 when there is none, and -1 on
 * error.
 */
static int fact_get(struct ctx *c, const char *get_sql,
		    const struct gb_record *r, const char *what, char *code,
		    size_t size, int64_t *a, int64_t *b)
{
	sqlite3_stmt *q = prep(c, get_sql);
	int rc;

	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		snprintf(code, size, "%s",
			 (const char *)sqlite3_column_text(q, 0));
		*a = sqlite3_column_int64(q, 1);
		if (b)
			*b = sqlite3_column_int64(q, 2);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(c, what);
	return rc == SQLITE_ROW;
}

/* Deletes the fact row that del_sql holds for r, if there is one. */
static int fact_del(struct ctx *c, const char *del_sql,
		    const struct gb_record *r, const char *what)
{
	sqlite3_stmt *q = prep(c, del_sql);

	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	return done(c, q, what);
}

/*
 * Writes the fact row of a record that spans a time: its id, the code it
 * counts for and its start and end.
 */
static int fact_put_span(struct ctx *c, const char *put_sql,
			 const struct gb_record *r, const char *code,
			 int64_t start, int64_t end, const char *what)
{
	sqlite3_stmt *q = prep(c, put_sql);

	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, code);
	sqlite3_bind_int64(q, 3, start);
	sqlite3_bind_int64(q, 4, end);
	return done(c, q, what);
}

static int enterprise_replace(struct ctx *c, const struct gb_record *r)
{
	const char *status = gb_record_get(r, "status");
	int active = status && !strcmp(status, "active");
	sqlite3_stmt *q;
	char old_grid[GB_CODE_LEN];
	int64_t was_active = 0;
	int had = fact_get(c, SQL_ENT_GET, r, "enterprise", old_grid,
			   sizeof(old_grid), &was_active, NULL);

	if (had < 0)
		return -1;
	if (had && was_active && active_add(c, old_grid, -1) < 0)
		return -1;
	if (fact_del(c, SQL_ENT_DEL, r, "enterprise") < 0)
		return -1;
	if (r->voided)
		return 0;
	q = prep(c, SQL_ENT_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, r->grid);
	bind_str(q, 3, gb_record_get(r, "community"));
	bind_str(q, 4, gb_record_get(r, "name"));
	sqlite3_bind_int(q, 5, active);
	if (done(c, q, "enterprise") < 0)
		return -1;
	return active ? active_add(c, r->grid, 1) : 0;
}

static int check_put(struct ctx *c, const struct gb_record *r)
{
	sqlite3_stmt *q;
	int ok, has_deadline;
	int32_t day = date_of(r, "check_date", &ok);
	int32_t deadline = date_of(r, "deadline", &has_deadline);
	unsigned char ent[16];

	/* Validation makes sure of these; a record without them counts in
	 * no report. */
	if (!ok || gb_uuid_bytes(gb_record_get(r, "enterprise"), ent) < 0 ||
	    !gb_record_get(r, "outcome"))
		return 0;
	q = prep(c, SQL_CHECK_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, r->grid);
	sqlite3_bind_blob(q, 3, ent, 16, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 4, day);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)r->version);
	sqlite3_bind_int64(q, 6, num(r, "contracts_signed"));
	sqlite3_bind_int64(q, 7, num(r, "employees_total"));
	bind_str(q, 8, gb_record_get(r, "outcome"));
	if (has_deadline)
		sqlite3_bind_int(q, 9, deadline);
	else
		sqlite3_bind_null(q, 9);
	return done(c, q, "check") < 0 ? -1 : 1;
}

static int rect_put(struct ctx *c, const struct gb_record *r)
{
	const char *result = gb_record_get(r, "result");
	unsigned char chk[16];
	sqlite3_stmt *q;
	int ok;
	int32_t day = date_of(r, "date", &ok);

	if (!ok || gb_uuid_bytes(gb_record_get(r, "check"), chk) < 0)
		return 0;
	q = prep(c, SQL_RECT_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	sqlite3_bind_blob(q, 2, chk, 16, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 3, day);
	sqlite3_bind_int(q, 4, result && !strcmp(result, "rectified"));
	return done(c, q, "rectification") < 0 ? -1 : 1;
}

static int dispute_put(struct ctx *c, const struct gb_record *r)
{
	unsigned char ent[16];
	sqlite3_stmt *q;
	int ok;
	int32_t day = date_of(r, "received_date", &ok);

	if (!ok || !gb_record_get(r, "level") || !gb_record_get(r, "status"))
		return 0;
	q = prep(c, SQL_DISPUTE_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, r->grid);
	sqlite3_bind_int(q, 3, day);
	bind_str(q, 4, gb_record_get(r, "level"));
	bind_str(q, 5, gb_record_get(r, "status"));
	if (gb_uuid_bytes(gb_record_get(r, "enterprise"), ent) == 0)
		sqlite3_bind_blob(q, 6, ent, 16, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 6);
	return done(c, q, "dispute") < 0 ? -1 : 1;
}

static int request_put(struct ctx *c, const struct gb_record *r)
{
	const char *priority = gb_record_get(r, "priority");
	int64_t received = instant(r, "received_at");
	int64_t deadline = instant(r, "deadline");
	int64_t resolved = instant(r, "resolved_at");
	sqlite3_stmt *q;

	if (deadline < 0 && received >= 0)
		deadline = gb_request_deadline(received, priority);
	if (received < 0 || deadline < 0 || !gb_record_get(r, "area") ||
	    !gb_record_get(r, "category"))
		return 0;
	q = prep(c, SQL_REQUEST_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, gb_record_get(r, "area"));
	sqlite3_bind_int(q, 3, gb_local_day(received));
	sqlite3_bind_int64(q, 4, received);
	sqlite3_bind_int64(q, 5, deadline);
	if (resolved >= 0)
		sqlite3_bind_int64(q, 6, resolved);
	else
		sqlite3_bind_null(q, 6);
	bind_str(q, 7, gb_record_get(r, "category"));
	bind_str(q, 8, priority);
	bind_str(q, 9, gb_record_get(r, "officer"));
	return done(c, q, "request") < 0 ? -1 : 1;
}

/* ---- counters ---- */

/* Writes delta to the counter (key, code) of a counter table; a counter
 * that falls to zero goes. */
static int counter_write(struct ctx *c, const struct pending *p)
{
	sqlite3_stmt *q = prep(c, p->add_sql);

	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, p->key);
	bind_str(q, 2, p->code);
	sqlite3_bind_int64(q, 3, p->delta);
	if (done(c, q, "counter") < 0)
		return -1;
	if (p->delta >= 0)
		return 0;
	q = prep(c, p->gc_sql);
	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, p->key);
	bind_str(q, 2, p->code);
	return done(c, q, "counter");
}

/* The key of counter (key, code) of the table whose statement is add_sql,
 * built in c->key: the statement's address, the key and the code. */
static void counter_key(struct ctx *c, const char *add_sql, int64_t key,
			const char *code)
{
	gb_buf_reset(&c->key);
	gb_buf_add(&c->key, &add_sql, sizeof(add_sql), NULL);
	gb_buf_add(&c->key, &key, sizeof(key), NULL);
	gb_buf_adds(&c->key, code, NULL);
}

/* Adds delta to the counter (key, code) of a counter table, in memory
 * until ctx_flush. */
static int counter_add(struct ctx *c, const char *add_sql, const char *gc_sql,
		       int64_t key, const char *code, int64_t delta)
{
	struct gb_hmap_ent *e;
	int added;

	if (!code)
		code = "";
	counter_key(c, add_sql, key, code);
	e = gb_hmap_put(&c->index, c->key.data, c->key.len, &added);
	if (!added) {
		c->pend[e->n].delta += delta;
		return 0;
	}
	if (c->npend == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->pend = xrealloc(c->pend, c->cap * sizeof(*c->pend));
	}
	c->pend[c->npend].add_sql = add_sql;
	c->pend[c->npend].gc_sql = gc_sql;
	c->pend[c->npend].key = key;
	c->pend[c->npend].code = xstrdup(code);
	c->pend[c->npend].delta = delta;
	e->n = (int64_t)c->npend++;
	return 0;
}

/* Forgets the counter changes not written. */
static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->npend; i++)
		free(c->pend[i].code);
	free(c->pend);
	gb_hmap_release(&c->index);
	gb_buf_release(&c->key);
	c->pend = NULL;
	c->npend = c->cap = 0;
}

/* Writes the summed counter changes, once per counter (none for a net
 * change of zero), and releases them. */
static int ctx_flush(struct ctx *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->npend && rc == 0; i++)
		if (c->pend[i].delta != 0)
			rc = counter_write(c, &c->pend[i]);
	ctx_release(c);
	return rc;
}

/* Adds sign to the counter of every night [D 22:00, D+1 06:00) that the
 * patrol [start, end) overlaps; key is "area<TAB>leader". */
static int nights_add(struct ctx *c, const char *area, int64_t start,
		      int64_t end, int sign)
{
	if (end <= start)
		return 0;
	for (int32_t d = gb_local_day(start) - 1; d <= gb_local_day(end - 1);
	     d++) {
		int64_t n0 = gb_day_start(d) + 22 * HOUR_MS;

		if (start < n0 + 8 * HOUR_MS && end > n0 &&
		    counter_add(c, SQL_NIGHT_ADD, SQL_NIGHT_GC, d, area, sign) <
			0)
			return -1;
	}
	return 0;
}

/* Adds sign times the overlap of the reception [start, end) with each
 * ISO week it touches to the officer's counter of that week. */
static int weeks_add(struct ctx *c, const char *officer, int64_t start,
		     int64_t end, int sign)
{
	int32_t first, last;

	if (end <= start)
		return 0;
	first = gb_local_day(start);
	first -= gb_weekday(first) - 1;
	last = gb_local_day(end - 1);
	for (int32_t w = first; w <= last; w += 7) {
		int64_t w0 = gb_day_start(w), w1 = gb_day_start(w + 7);
		int64_t lo = start > w0 ? start : w0, hi = end < w1 ? end : w1;

		if (hi > lo && counter_add(c, SQL_WEEK_ADD, SQL_WEEK_GC, w,
					   officer, sign * (hi - lo)) < 0)
			return -1;
	}
	return 0;
}

/* The number of distinct codes in a LIST value ("B0001,B0002"). */
static int distinct_codes(const char *list)
{
	const char *seen[MAX_GUARDS];
	size_t len[MAX_GUARDS];
	int n = 0;

	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t l = comma ? (size_t)(comma - list) : strlen(list);
		int dup = l == 0;

		for (int i = 0; i < n && !dup; i++)
			dup = len[i] == l && !memcmp(seen[i], list, l);
		if (!dup && n < MAX_GUARDS) {
			seen[n] = list;
			len[n++] = l;
		}
		list = comma ? comma + 1 : NULL;
	}
	return n;
}

/*
 * The facts of a patrol: only a patrol that has at least two distinct
 * guards is kept, and it counts for every night it overlaps, under its
 * area and its leader.  Whether the leader is an officer is asked of the
 * staff table when a report runs, so that a re-seed that changes a role
 * needs no fact rewritten.
 */
static int patrol_replace(struct ctx *c, const struct gb_record *r)
{
	const char *area = gb_record_get(r, "area");
	const char *leader = gb_record_get(r, "leader");
	int64_t start = instant(r, "start"), end = instant(r, "end");
	char old_key[2 * GB_CODE_LEN + 2], key[2 * GB_CODE_LEN + 2];
	int64_t old_start = 0, old_end = 0;
	int had = fact_get(c, SQL_PATROL_GET, r, "patrol", old_key,
			   sizeof(old_key), &old_start, &old_end);

	if (had < 0)
		return -1;
	if (had && (nights_add(c, old_key, old_start, old_end, -1) < 0 ||
		    fact_del(c, SQL_PATROL_DEL, r, "patrol") < 0))
		return -1;
	if (r->voided || !area || !leader || start < 0 || end <= start ||
	    distinct_codes(gb_record_get(r, "guards")) < 2 ||
	    strchr(area, '\t') || strchr(leader, '\t'))
		return 0;
	snprintf(key, sizeof(key), "%s\t%s", area, leader);
	if (fact_put_span(c, SQL_PATROL_PUT, r, key, start, end, "patrol") < 0)
		return -1;
	return nights_add(c, key, start, end, 1);
}

static int daily_replace(struct ctx *c, const struct gb_record *r)
{
	sqlite3_stmt *q;
	const char *officer = gb_record_get(r, "officer");
	char old_officer[GB_CODE_LEN];
	int64_t old_day = 0;
	int32_t day;
	int ok;
	int had = fact_get(c, SQL_DAILY_GET, r, "daily report", old_officer,
			   sizeof(old_officer), &old_day, NULL);

	if (had < 0)
		return -1;
	if (had && (counter_add(c, SQL_DAY_ADD, SQL_DAY_GC, old_day,
				old_officer, -1) < 0 ||
		    fact_del(c, SQL_DAILY_DEL, r, "daily report") < 0))
		return -1;
	day = date_of(r, "date", &ok);
	if (r->voided || !officer || !ok)
		return 0;
	q = prep(c, SQL_DAILY_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, officer);
	sqlite3_bind_int(q, 3, day);
	if (done(c, q, "daily report") < 0)
		return -1;
	return counter_add(c, SQL_DAY_ADD, SQL_DAY_GC, day, officer, 1);
}

static int reception_replace(struct ctx *c, const struct gb_record *r)
{
	const char *officer = gb_record_get(r, "officer");
	int64_t start = instant(r, "start"), end = instant(r, "end");
	char old_officer[GB_CODE_LEN];
	int64_t old_start = 0, old_end = 0;
	int had = fact_get(c, SQL_RECEPTION_GET, r, "reception", old_officer,
			   sizeof(old_officer), &old_start, &old_end);

	if (had < 0)
		return -1;
	if (had && (weeks_add(c, old_officer, old_start, old_end, -1) < 0 ||
		    fact_del(c, SQL_RECEPTION_DEL, r, "reception") < 0))
		return -1;
	if (r->voided || !officer || start < 0 || end <= start)
		return 0;
	if (fact_put_span(c, SQL_RECEPTION_PUT, r, officer, start, end,
			  "reception") < 0)
		return -1;
	return weeks_add(c, officer, start, end, 1);
}

/*
 * The conflict fact of r, which the merge left with n field conflicts
 * open: a row while n > 0, placed by its grid, its area field and its
 * officer (or staff) field, and dated by its date field, for the
 * conflicts column of every report (reports.c).
 */
static int conflict_replace(struct ctx *c, const struct gb_record *r, int n)
{
	const struct gb_kind *k = r->kind;
	const char *person = gb_record_get(r, "officer");
	sqlite3_stmt *q;
	int i = k->date_field ? gb_kind_field(k, k->date_field) : -1;

	if (n <= 0)
		return fact_del(c, SQL_CONFLICT_DEL, r, "conflict");
	if (!person && k->staff_field)
		person = gb_record_get(r, k->staff_field);
	q = prep(c, SQL_CONFLICT_PUT);
	if (!q)
		return -1;
	bind_id(q, 1, r->id);
	bind_str(q, 2, k->name);
	bind_str(q, 3, r->grid);
	bind_str(q, 4, gb_record_get(r, "area"));
	bind_str(q, 5, person);
	if (i >= 0 && r->val[i] && k->fields[i].type == GB_T_DATE) {
		int ok;

		sqlite3_bind_int(q, 6, date_of(r, k->date_field, &ok));
		if (!ok)
			sqlite3_bind_null(q, 6);
	} else if (i >= 0 && r->val[i]) {
		int64_t ms = instant(r, k->date_field);

		if (ms >= 0)
			sqlite3_bind_int(q, 6, gb_local_day(ms));
	}
	sqlite3_bind_int(q, 7, n);
	return done(c, q, "conflict");
}

/* ---- one record ---- */

/*
 * Replaces the one fact row of r: put writes it with INSERT OR REPLACE
 * (returning 1), or returns 0 when r counts in no report, and only then
 * is the old row deleted; a voided record's row is deleted.
 */
static int simple_replace(struct ctx *c, const struct gb_record *r,
			  const char *del_sql,
			  int (*put)(struct ctx *, const struct gb_record *))
{
	int rc = r->voided ? 0 : put(c, r);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return fact_del(c, del_sql, r, r->kind->name);
}

static int record_replace(struct ctx *c, const struct gb_record *r)
{
	const char *k = r->kind->name;

	if (!strcmp(k, "enterprise"))
		return enterprise_replace(c, r);
	if (!strcmp(k, "contract_check"))
		return simple_replace(c, r, SQL_CHECK_DEL, check_put);
	if (!strcmp(k, "rectification"))
		return simple_replace(c, r, SQL_RECT_DEL, rect_put);
	if (!strcmp(k, "dispute"))
		return simple_replace(c, r, SQL_DISPUTE_DEL, dispute_put);
	if (!strcmp(k, "request"))
		return simple_replace(c, r, SQL_REQUEST_DEL, request_put);
	if (!strcmp(k, "patrol"))
		return patrol_replace(c, r);
	if (!strcmp(k, "daily_report"))
		return daily_replace(c, r);
	if (!strcmp(k, "reception"))
		return reception_replace(c, r);
	return 0; /* handover, employment: no report reads them */
}

static int ctx_init(struct ctx *c, struct store *st, struct gb_err *err)
{
	memset(c, 0, sizeof(*c));
	gb_buf_init(&c->key, GB_BUF_NOLIMIT);
	c->st = st;
	c->err = err;
	c->db = store_sqlite_writer(st);
	if (!c->db)
		return gb_error(err, GB_EINTERNAL,
				_("report facts need a SQLite store"));
	return 0;
}

int rollup_record(struct store *st, const struct gb_record *r,
		  struct gb_err *err)
{
	struct ctx c;

	if (ctx_init(&c, st, err) < 0)
		return -1;
	if (record_replace(&c, r) < 0) {
		ctx_release(&c);
		return -1;
	}
	return ctx_flush(&c);
}

/* Counts a batch for its device and the local day it arrived. */
static int sync_add(struct ctx *c, const char *device, const char *grid,
		    const char *role, int64_t batches, int64_t records,
		    int64_t at)
{
	sqlite3_stmt *q = prep(c, SQL_SYNC_ADD);

	if (!q)
		return -1;
	bind_id(q, 1, device);
	sqlite3_bind_int(q, 2, gb_local_day(at));
	bind_str(q, 3, grid);
	bind_str(q, 4, role);
	sqlite3_bind_int64(q, 5, batches);
	sqlite3_bind_int64(q, 6, records);
	sqlite3_bind_int64(q, 7, at);
	return done(c, q, "sync");
}

int rollup_batch(struct store *st, const struct store_device *dev,
		 const struct wire_batch *b, const struct rollup_item *items,
		 int64_t now_ms, struct gb_err *err)
{
	struct ctx c;

	if (ctx_init(&c, st, err) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct gb_record *r = items[i].cur;

		if (r && (record_replace(&c, r) < 0 ||
			  (items[i].remerged &&
			   conflict_replace(&c, r, items[i].conflicts) < 0))) {
			ctx_release(&c);
			return gb_error_prefix(err, _("record %s"), r->id);
		}
	}
	if (ctx_flush(&c) < 0)
		return -1;
	return sync_add(&c, dev->id, b->hdr.grid, dev->role, 1, (int64_t)b->n,
			now_ms);
}

/* ---- building everything again ---- */

static const char *const fact_tables[] = {
    "rf_enterprise", "rr_active",  "rf_check", "rf_rect",     "rf_dispute",
    "rf_patrol",     "rr_night",   "rf_daily", "rr_daily",    "rf_reception",
    "rr_reception",  "rf_request", "rr_sync",  "rf_conflict",
};

/* Rebuilds the facts of every current record, reading its values back
 * from the JSON body record_current keeps. */
static int rebuild_records(struct ctx *c)
{
	sqlite3_stmt *q = NULL, *vals = NULL;
	struct gb_record *r = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(c->db,
			       "SELECT id, kind, grid, version, voided, body, "
			       "conflicts FROM record_current "
			       "WHERE voided = 0 OR conflicts > 0",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "SELECT key, value FROM json_each(?1)",
			       -1, &vals, NULL) != SQLITE_OK) {
		fail(c, "reading records");
		goto out;
	}
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		const struct gb_kind *k =
		    gb_kind_find((const char *)sqlite3_column_text(q, 1));

		if (!k)
			continue;
		r = gb_record_new(k);
		gb_uuid_text(sqlite3_column_blob(q, 0),
			     sqlite3_column_bytes(q, 0), r->id);
		snprintf(r->grid, sizeof(r->grid), "%s",
			 (const char *)sqlite3_column_text(q, 2));
		r->version = (uint64_t)sqlite3_column_int64(q, 3);
		r->voided = sqlite3_column_int(q, 4);
		sqlite3_bind_text(vals, 1,
				  (const char *)sqlite3_column_text(q, 5), -1,
				  SQLITE_TRANSIENT);
		for (;;) {
			step = sqlite3_step(vals);
			if (step != SQLITE_ROW)
				break;
			if (sqlite3_column_type(vals, 1) != SQLITE_NULL)
				gb_record_set_name(
				    r,
				    (const char *)sqlite3_column_text(vals, 0),
				    (const char *)sqlite3_column_text(vals, 1));
		}
		sqlite3_reset(vals);
		if (step != SQLITE_DONE) {
			fail(c, "reading a record");
			goto out;
		}
		if ((!r->voided && record_replace(c, r) < 0) ||
		    (sqlite3_column_int(q, 6) > 0 &&
		     conflict_replace(c, r, sqlite3_column_int(q, 6)) < 0))
			goto out;
		gb_record_free(r);
		r = NULL;
	}
	if (step != SQLITE_DONE) {
		fail(c, "reading records");
		goto out;
	}
	rc = 0;
out:
	gb_record_free(r);
	sqlite3_finalize(vals);
	sqlite3_finalize(q);
	return rc;
}

/* Counts again every batch applied, by device and day. */
static int rebuild_sync(struct ctx *c)
{
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(c->db,
			       "SELECT b.device, d.grid, d.role, b.records, "
			       "b.received_at FROM batch b JOIN device d ON "
			       "d.id = b.device",
			       -1, &q, NULL) != SQLITE_OK) {
		fail(c, "reading batches");
		goto out;
	}
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		char dev[GB_ID_LEN];

		gb_uuid_text(sqlite3_column_blob(q, 0),
			     sqlite3_column_bytes(q, 0), dev);
		if (sync_add(c, dev, (const char *)sqlite3_column_text(q, 1),
			     (const char *)sqlite3_column_text(q, 2), 1,
			     sqlite3_column_int64(q, 3),
			     sqlite3_column_int64(q, 4)) < 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		fail(c, "reading batches");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

int rollup_rebuild(struct store *st, struct gb_err *err)
{
	struct ctx c;
	char sql[64];

	if (ctx_init(&c, st, err) < 0 || st->ops->begin(st, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(fact_tables) / sizeof(fact_tables[0]);
	     i++) {
		/* The names are the constants above, not input. */
		snprintf(sql, sizeof(sql), "DELETE FROM %s", fact_tables[i]);
		if (sqlite3_exec(c.db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			fail(&c, "clearing");
			goto fail;
		}
	}
	if (rebuild_records(&c) < 0 || ctx_flush(&c) < 0 ||
	    rebuild_sync(&c) < 0)
		goto fail;
	if (sqlite3_exec(c.db,
			 "INSERT OR REPLACE INTO meta (key, value) VALUES "
			 "('rollup_version', '" ROLLUP_VERSION "')",
			 NULL, NULL, NULL) != SQLITE_OK) {
		fail(&c, "marking the facts built");
		goto fail;
	}
	return st->ops->commit(st, err);
fail:
	ctx_release(&c);
	st->ops->rollback(st);
	return -1;
}

int rollup_ensure(struct store *st, struct gb_err *err)
{
	sqlite3 *db = store_sqlite_writer(st);
	sqlite3_stmt *q = NULL;
	int built = 0;

	if (!db)
		return 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT value FROM meta WHERE key = "
			       "'rollup_version'",
			       -1, &q, NULL) != SQLITE_OK)
		return gb_error(err, GB_EDB, _("report facts: %s"),
				sqlite3_errmsg(db));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		built = !strcmp((const char *)sqlite3_column_text(q, 0),
				ROLLUP_VERSION);
	sqlite3_finalize(q);
	return built ? 0 : rollup_rebuild(st, err);
}

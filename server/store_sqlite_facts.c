/*
 * The report facts of the SQLite store (store.h, "report facts, written
 * by ingest"; the tables are schema/server/002_reports.sql and its
 * followers).  Ingest (rollup.c) says which fact rows and counters change;
 * this file holds the SQL that writes them, on the writer connection,
 * each statement prepared once per store (cached) and reset after each
 * use: a batch of a thousand records runs these statements
 * thousands of times.
 *
 * Each kind of fact row is one table with the record's id as its key.
 * Its columns are described once (struct fact_table), in the order the
 * statements that write and read it bind and return them, so that a put
 * and a get of the same kind cannot disagree.  The tables whose SQLite
 * form has no grid column (an area, an officer and a follow-up are of
 * one grid) take the grid from the caller.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "id.h"
#include "store_sqlite_facts.h"

#include "banned.h"

/* How a column of a fact table maps to a member of struct store_fact. */
enum col_type {
	COL_TEXT,     /* const char *; NULL is stored as "" */
	COL_REF,      /* const char * id, stored as 16 bytes; NULL as NULL */
	COL_I64,      /* int64_t */
	COL_U64,      /* uint64_t, stored as a signed integer */
	COL_INT,      /* int */
	COL_DAY_OPT,  /* int64_t day, NULL unless has_day */
	COL_DEADLINE, /* int64_t deadline, NULL unless has_deadline */
	COL_OPEN      /* int64_t instant, NULL when -1 */
};

struct col {
	size_t off;
	enum col_type type;
};

#define C(member, type)                                                        \
	{                                                                      \
		offsetof(struct store_fact, member), type                      \
	}

/* A fact table: its statements and its columns after the id. */
struct fact_table {
	const char *what; /* for messages */
	const char *put, *del, *get;
	struct col cols[9];
	int ncols;
};

static const struct fact_table tables[STORE_F_COUNT] = {
    [STORE_F_ENTERPRISE] =
	{"enterprise",
	 "INSERT OR REPLACE INTO rf_enterprise (id, grid, community, name, "
	 "active) VALUES (?1, ?2, ?3, ?4, ?5)",
	 "DELETE FROM rf_enterprise WHERE id = ?1",
	 "SELECT grid, community, name, active FROM rf_enterprise "
	 "WHERE id = ?1",
	 {C(grid, COL_TEXT), C(community, COL_TEXT), C(name, COL_TEXT),
	  C(active, COL_INT)},
	 4},
    [STORE_F_CHECK] =
	{"check",
	 "INSERT OR REPLACE INTO rf_check (id, grid, enterprise, day, "
	 "version, signed, total, outcome, deadline) VALUES (?1, ?2, ?3, ?4, "
	 "?5, ?6, ?7, ?8, ?9)",
	 "DELETE FROM rf_check WHERE id = ?1",
	 "SELECT grid, enterprise, day, version, signed, total, outcome, "
	 "deadline FROM rf_check WHERE id = ?1",
	 {C(grid, COL_TEXT), C(ref, COL_REF), C(day, COL_I64),
	  C(version, COL_U64), C(contracts_signed, COL_I64),
	  C(employees_total, COL_I64), C(outcome, COL_TEXT),
	  C(deadline, COL_DEADLINE)},
	 8},
    [STORE_F_RECT] = {"rectification",
		      "INSERT OR REPLACE INTO rf_rect (id, chk, day, "
		      "rectified) VALUES (?1, ?2, ?3, ?4)",
		      "DELETE FROM rf_rect WHERE id = ?1",
		      "SELECT chk, day, rectified FROM rf_rect WHERE id = ?1",
		      {C(ref, COL_REF), C(day, COL_I64), C(rectified, COL_INT)},
		      3},
    [STORE_F_DISPUTE] =
	{"dispute",
	 "INSERT OR REPLACE INTO rf_dispute (id, grid, day, level, status, "
	 "enterprise) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	 "DELETE FROM rf_dispute WHERE id = ?1",
	 "SELECT grid, day, level, status, enterprise FROM rf_dispute "
	 "WHERE id = ?1",
	 {C(grid, COL_TEXT), C(day, COL_I64), C(level, COL_TEXT),
	  C(status, COL_TEXT), C(ref, COL_REF)},
	 5},
    [STORE_F_REQUEST] =
	{"request",
	 "INSERT OR REPLACE INTO rf_request (id, area, day, received, "
	 "deadline, resolved, category, priority, officer) VALUES (?1, ?2, "
	 "?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	 "DELETE FROM rf_request WHERE id = ?1",
	 "SELECT area, day, received, deadline, resolved, category, priority, "
	 "officer FROM rf_request WHERE id = ?1",
	 {C(area, COL_TEXT), C(day, COL_I64), C(received, COL_I64),
	  C(deadline, COL_I64), C(resolved, COL_OPEN), C(category, COL_TEXT),
	  C(priority, COL_TEXT), C(officer, COL_TEXT)},
	 8},
    [STORE_F_PATROL] = {"patrol",
			"INSERT OR REPLACE INTO rf_patrol (id, area, leader, "
			"start_at, end_at) VALUES (?1, ?2, ?3, ?4, ?5)",
			"DELETE FROM rf_patrol WHERE id = ?1",
			"SELECT area, leader, start_at, end_at FROM rf_patrol "
			"WHERE id = ?1",
			{C(area, COL_TEXT), C(leader, COL_TEXT),
			 C(start, COL_I64), C(end, COL_I64)},
			4},
    [STORE_F_DAILY] = {"daily report",
		       "INSERT OR REPLACE INTO rf_daily (id, officer, day) "
		       "VALUES (?1, ?2, ?3)",
		       "DELETE FROM rf_daily WHERE id = ?1",
		       "SELECT officer, day FROM rf_daily WHERE id = ?1",
		       {C(officer, COL_TEXT), C(day, COL_I64)},
		       2},
    [STORE_F_RECEPTION] = {"reception",
			   "INSERT OR REPLACE INTO rf_reception (id, officer, "
			   "start_at, end_at) VALUES (?1, ?2, ?3, ?4)",
			   "DELETE FROM rf_reception WHERE id = ?1",
			   "SELECT officer, start_at, end_at FROM rf_reception "
			   "WHERE id = ?1",
			   {C(officer, COL_TEXT), C(start, COL_I64),
			    C(end, COL_I64)},
			   3},
    [STORE_F_CONFLICT] =
	{"conflict",
	 "INSERT OR REPLACE INTO rf_conflict (id, kind, grid, area, person, "
	 "day, conflicts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	 "DELETE FROM rf_conflict WHERE id = ?1",
	 "SELECT kind, grid, area, person, day, conflicts FROM rf_conflict "
	 "WHERE id = ?1",
	 {C(kind_name, COL_TEXT), C(grid, COL_TEXT), C(area, COL_TEXT),
	  C(person, COL_TEXT), C(day, COL_DAY_OPT), C(conflicts, COL_I64)},
	 6},
};

/*
 * The counters: parameters ?1 the key, ?2 code a, ?3 code b, ?4 the
 * delta and ?5 the grid, each statement using those it needs.  gc is
 * NULL for a counter that stays when it falls to zero.
 */
static const struct {
	const char *add, *gc, *get;
} counters[STORE_C_COUNT] = {
    [STORE_C_ACTIVE] = {"INSERT INTO rr_active (grid, enterprises) VALUES "
			"(?5, ?4) ON CONFLICT (grid) DO UPDATE SET "
			"enterprises = enterprises + excluded.enterprises",
			NULL,
			"SELECT enterprises FROM rr_active WHERE grid = ?5"},
    [STORE_C_NIGHT] = {"INSERT INTO rr_night (night, area, leader, patrols) "
		       "VALUES (?1, ?2, ?3, ?4) "
		       "ON CONFLICT (night, area, leader) DO UPDATE SET "
		       "patrols = patrols + excluded.patrols",
		       "DELETE FROM rr_night WHERE night = ?1 AND area = ?2 "
		       "AND leader = ?3 AND patrols <= 0",
		       "SELECT patrols FROM rr_night WHERE night = ?1 AND "
		       "area = ?2 AND leader = ?3"},
    [STORE_C_DAILY] = {"INSERT INTO rr_daily (day, officer, reports) VALUES "
		       "(?1, ?2, ?4) ON CONFLICT (day, officer) DO UPDATE SET "
		       "reports = reports + excluded.reports",
		       "DELETE FROM rr_daily WHERE day = ?1 AND officer = ?2 "
		       "AND reports <= 0",
		       "SELECT reports FROM rr_daily WHERE day = ?1 AND "
		       "officer = ?2"},
    [STORE_C_RECEPTION] = {"INSERT INTO rr_reception (week, officer, ms) "
			   "VALUES (?1, ?2, ?4) ON CONFLICT (week, officer) "
			   "DO UPDATE SET ms = ms + excluded.ms",
			   "DELETE FROM rr_reception WHERE week = ?1 AND "
			   "officer = ?2 AND ms <= 0",
			   "SELECT ms FROM rr_reception WHERE week = ?1 AND "
			   "officer = ?2"},
};

static const char SQL_SYNC_ADD[] =
    "INSERT INTO rr_sync (device, day, grid, role, batches, records, "
    "last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (device, day) DO UPDATE SET "
    "batches = batches + excluded.batches, "
    "records = records + excluded.records, "
    "last_at = max(last_at, excluded.last_at), grid = excluded.grid, "
    "role = excluded.role";
static const char SQL_VERSION_GET[] =
    "SELECT value FROM meta WHERE key = 'rollup_version'";
static const char SQL_VERSION_PUT[] =
    "INSERT OR REPLACE INTO meta (key, value) VALUES "
    "('rollup_version', ?1)";

/* Every table of facts and counters, for facts_clear. */
static const char *const fact_tables[] = {
    "rf_enterprise", "rr_active",  "rf_check", "rf_rect",     "rf_dispute",
    "rf_patrol",     "rr_night",   "rf_daily", "rr_daily",    "rf_reception",
    "rr_reception",  "rf_request", "rr_sync",  "rf_conflict",
};

static int fail(struct sqf *sf, const char *what, struct gb_err *err)
{
	return gb_error(err, GB_EDB, _("report facts: %s: %s"), what,
			sqlite3_errmsg(sf->db));
}

void sqf_init(struct sqf *sf, sqlite3 *db, struct sq_ids *ids)
{
	memset(sf, 0, sizeof(*sf));
	sf->db = db;
	sf->ids = ids;
}

void sqf_release(struct sqf *sf)
{
	for (int i = 0; i < sf->n; i++)
		sqlite3_finalize(sf->stmt[i]);
	sf->n = 0;
}

/*
 * The statement of sql on the writer, prepared the first time and kept:
 * sql is one of the string constants of this file, and its address the
 * key.  The caller resets it after use.  NULL with err when it cannot be
 * prepared.
 */
static sqlite3_stmt *cached(struct sqf *sf, const char *sql, struct gb_err *err)
{
	sqlite3_stmt *q = NULL;

	for (int i = 0; i < sf->n; i++)
		if (sf->sql[i] == sql)
			return sf->stmt[i];
	if (sf->n == SQF_CACHE) {
		gb_error(err, GB_EINTERNAL,
			 "report facts: statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(sf->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q,
			       NULL) != SQLITE_OK) {
		fail(sf, "preparing a statement", err);
		sqlite3_finalize(q);
		return NULL;
	}
	sf->sql[sf->n] = sql;
	sf->stmt[sf->n++] = q;
	return q;
}

/* Steps a statement that returns no rows, and resets it.  Its bindings
 * are left: every caller binds each parameter of its statement on every
 * use (bind_counter those the statement has), so none is read stale, and
 * clearing them cost a tenth of binding them. */
static int done(struct sqf *sf, sqlite3_stmt *q, const char *what,
		struct gb_err *err)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return fail(sf, what, err);
	return 0;
}

/* Binds a record id as its 16 bytes (as record_current keeps it),
 * through holder u (store_sqlite_int.h); text that is not a UUID as
 * text, which then matches no id; NULL as "". */
static void bind_id(struct sq_uuid *u, sqlite3_stmt *q, int i, const char *id)
{
	if (id)
		sq_uuid_bind(u, q, i, id);
	else
		sqlite3_bind_text(q, i, "", -1, SQLITE_STATIC);
}

/* Binds text, NULL as "".  The statements are reset before the caller's
 * strings go, so they are not copied. */
static void bind_str(sqlite3_stmt *q, int i, const char *s)
{
	sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_STATIC);
}

static const void *member(const struct store_fact *f, const struct col *c)
{
	return (const char *)f + c->off;
}

static void bind_col(struct sqf *sf, sqlite3_stmt *q, int i,
		     const struct store_fact *f, const struct col *c)
{
	const void *m = member(f, c);
	int64_t v;

	switch (c->type) {
	case COL_TEXT:
		bind_str(q, i, *(const char *const *)m);
		break;
	case COL_REF:
		if (*(const char *const *)m)
			bind_id(&sf->ids->ref, q, i, *(const char *const *)m);
		else
			sqlite3_bind_null(q, i);
		break;
	case COL_I64:
		sqlite3_bind_int64(q, i, *(const int64_t *)m);
		break;
	case COL_U64:
		sqlite3_bind_int64(q, i, (sqlite3_int64) * (const uint64_t *)m);
		break;
	case COL_INT:
		sqlite3_bind_int(q, i, *(const int *)m);
		break;
	case COL_DAY_OPT:
		if (f->has_day)
			sqlite3_bind_int64(q, i, f->day);
		else
			sqlite3_bind_null(q, i);
		break;
	case COL_DEADLINE:
		if (f->has_deadline)
			sqlite3_bind_int64(q, i, f->deadline);
		else
			sqlite3_bind_null(q, i);
		break;
	case COL_OPEN:
		v = *(const int64_t *)m;
		if (v >= 0)
			sqlite3_bind_int64(q, i, v);
		else
			sqlite3_bind_null(q, i);
		break;
	}
}

int sqf_fact_put(struct sqf *sf, const struct store_fact *fact,
		 struct gb_err *err)
{
	const struct fact_table *t;
	sqlite3_stmt *q;

	if ((unsigned)fact->kind >= STORE_F_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: kind %d",
				(int)fact->kind);
	t = &tables[fact->kind];
	q = cached(sf, t->put, err);
	if (!q)
		return -1;
	bind_id(&sf->ids->rec, q, 1, fact->id);
	for (int i = 0; i < t->ncols; i++)
		bind_col(sf, q, i + 2, fact, &t->cols[i]);
	return done(sf, q, t->what, err);
}

int sqf_fact_del(struct sqf *sf, enum store_fact_kind kind, const char *id,
		 const char *grid, struct gb_err *err)
{
	sqlite3_stmt *q;

	(void)grid; /* the id alone is the key here */
	if ((unsigned)kind >= STORE_F_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: kind %d",
				(int)kind);
	q = cached(sf, tables[kind].del, err);
	if (!q)
		return -1;
	bind_id(&sf->ids->rec, q, 1, id);
	return done(sf, q, tables[kind].what, err);
}

/* Copies text into buf at *used; returns where, or NULL when it does not
 * fit. */
static const char *keep(char *buf, size_t size, size_t *used, const char *s)
{
	size_t n = strlen(s) + 1;
	char *at = buf + *used;

	if (n > size - *used)
		return NULL;
	memcpy(at, s, n);
	*used += n;
	return at;
}

/* Reads column i of q into the member of out that c names; strings go
 * into buf.  Returns 0, or -1 when buf is too small. */
static int read_col(sqlite3_stmt *q, int i, struct store_fact *out,
		    const struct col *c, char *buf, size_t size, size_t *used)
{
	void *m = (char *)out + c->off;
	int null = sqlite3_column_type(q, i) == SQLITE_NULL;
	char id[GB_ID_LEN];
	const char *text;

	switch (c->type) {
	case COL_TEXT:
		text = (const char *)sqlite3_column_text(q, i);
		*(const char **)m = keep(buf, size, used, text ? text : "");
		return *(const char **)m ? 0 : -1;
	case COL_REF:
		*(const char **)m = NULL;
		if (null)
			return 0;
		gb_uuid_text(sqlite3_column_blob(q, i),
			     sqlite3_column_bytes(q, i), id);
		*(const char **)m = keep(buf, size, used, id);
		return *(const char **)m ? 0 : -1;
	case COL_I64:
		*(int64_t *)m = sqlite3_column_int64(q, i);
		return 0;
	case COL_U64:
		*(uint64_t *)m = (uint64_t)sqlite3_column_int64(q, i);
		return 0;
	case COL_INT:
		*(int *)m = sqlite3_column_int(q, i);
		return 0;
	case COL_DAY_OPT:
		out->has_day = !null;
		out->day = sqlite3_column_int64(q, i);
		return 0;
	case COL_DEADLINE:
		out->has_deadline = !null;
		out->deadline = sqlite3_column_int64(q, i);
		return 0;
	case COL_OPEN:
		*(int64_t *)m = null ? -1 : sqlite3_column_int64(q, i);
		return 0;
	}
	return 0;
}

int sqf_fact_get(struct sqf *sf, enum store_fact_kind kind, const char *id,
		 const char *grid, struct store_fact *out, char *buf,
		 size_t size, struct gb_err *err)
{
	const struct fact_table *t;
	sqlite3_stmt *q;
	size_t used = 0;
	int rc, bad = 0;

	if ((unsigned)kind >= STORE_F_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: kind %d",
				(int)kind);
	t = &tables[kind];
	q = cached(sf, t->get, err);
	if (!q)
		return -1;
	bind_id(&sf->ids->rec, q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->kind = kind;
		out->resolved = -1;
		out->id = keep(buf, size, &used, id);
		/* A table without a grid column: the record's, as asked. */
		out->grid = keep(buf, size, &used, grid ? grid : "");
		bad = !out->id || !out->grid;
		for (int i = 0; i < t->ncols && !bad; i++)
			bad = read_col(q, i, out, &t->cols[i], buf, size,
				       &used) < 0;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(sf, t->what, err);
	if (bad)
		return gb_error(err, GB_EINTERNAL,
				"report facts: %s: %zu bytes are too few",
				t->what, size);
	return rc == SQLITE_ROW;
}

/* Binds the counter parameters that q has (see counters). */
static void bind_counter(sqlite3_stmt *q, const char *grid, int64_t key,
			 const char *a, const char *b, int64_t delta)
{
	int n = sqlite3_bind_parameter_count(q);

	sqlite3_bind_int64(q, 1, key);
	bind_str(q, 2, a);
	if (n >= 3)
		bind_str(q, 3, b);
	if (n >= 4)
		sqlite3_bind_int64(q, 4, delta);
	if (n >= 5)
		bind_str(q, 5, grid);
}

int sqf_counter_add(struct sqf *sf, enum store_counter c, const char *grid,
		    int64_t key, const char *a, const char *b, int64_t delta,
		    struct gb_err *err)
{
	sqlite3_stmt *q;

	if ((unsigned)c >= STORE_C_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: counter %d",
				(int)c);
	q = cached(sf, counters[c].add, err);
	if (!q)
		return -1;
	bind_counter(q, grid, key, a, b, delta);
	if (done(sf, q, "counter", err) < 0)
		return -1;
	if (delta >= 0 || !counters[c].gc)
		return 0;
	q = cached(sf, counters[c].gc, err);
	if (!q)
		return -1;
	bind_counter(q, grid, key, a, b, 0);
	return done(sf, q, "counter", err);
}

int sqf_counter_get(struct sqf *sf, enum store_counter c, const char *grid,
		    int64_t key, const char *a, const char *b, int64_t *value,
		    struct gb_err *err)
{
	sqlite3_stmt *q;
	int rc;

	*value = 0;
	if ((unsigned)c >= STORE_C_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: counter %d",
				(int)c);
	q = cached(sf, counters[c].get, err);
	if (!q)
		return -1;
	bind_counter(q, grid, key, a, b, 0);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(sf, "counter", err);
	return rc == SQLITE_ROW;
}

int sqf_sync_add(struct sqf *sf, const char *device, const char *grid,
		 const char *role, int64_t day, int64_t batches,
		 int64_t records, int64_t at, struct gb_err *err)
{
	sqlite3_stmt *q = cached(sf, SQL_SYNC_ADD, err);

	if (!q)
		return -1;
	bind_id(&sf->ids->dev, q, 1, device);
	sqlite3_bind_int64(q, 2, day);
	bind_str(q, 3, grid);
	bind_str(q, 4, role);
	sqlite3_bind_int64(q, 5, batches);
	sqlite3_bind_int64(q, 6, records);
	sqlite3_bind_int64(q, 7, at);
	return done(sf, q, "sync", err);
}

int sqf_facts_version(struct sqf *sf, char *version, size_t n,
		      struct gb_err *err)
{
	sqlite3_stmt *q = cached(sf, SQL_VERSION_GET, err);
	const char *v;
	int rc, found = 0;

	if (!q)
		return -1;
	rc = sqlite3_step(q);
	v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
	if (v) {
		snprintf(version, n, "%s", v);
		found = 1;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(sf, "version", err);
	return found;
}

int sqf_facts_clear(struct sqf *sf, struct gb_err *err)
{
	sqlite3 *db = sf->db;
	char sql[64];

	for (size_t i = 0; i < sizeof(fact_tables) / sizeof(fact_tables[0]);
	     i++) {
		/* The names are the constants above, not input. */
		snprintf(sql, sizeof(sql), "DELETE FROM %s", fact_tables[i]);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return fail(sf, "clearing", err);
	}
	return 0;
}

int sqf_facts_built(struct sqf *sf, const char *version, struct gb_err *err)
{
	sqlite3_stmt *q = cached(sf, SQL_VERSION_PUT, err);

	if (!q)
		return -1;
	bind_str(q, 1, version);
	return done(sf, q, "marking the facts built", err);
}

int sqf_fact_records(struct sqf *sf,
		     int (*cb)(void *arg, const struct gb_record *r,
			       int conflicts, struct gb_err *err),
		     void *arg, struct gb_err *err)
{
	sqlite3 *db = sf->db;
	sqlite3_stmt *q = NULL, *vals = NULL;
	struct gb_record *r = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, kind, grid, version, voided, body, "
			       "conflicts FROM record_current "
			       "WHERE voided = 0 OR conflicts > 0",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT key, value FROM json_each(?1)", -1,
			       &vals, NULL) != SQLITE_OK) {
		fail(sf, "reading records", err);
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
			fail(sf, "reading a record", err);
			goto out;
		}
		if (cb(arg, r, sqlite3_column_int(q, 6), err) < 0)
			goto out;
		gb_record_free(r);
		r = NULL;
	}
	if (step != SQLITE_DONE) {
		fail(sf, "reading records", err);
		goto out;
	}
	rc = 0;
out:
	gb_record_free(r);
	sqlite3_finalize(vals);
	sqlite3_finalize(q);
	return rc;
}

int sqf_fact_batches(struct sqf *sf,
		     int (*cb)(void *arg, const char *device, const char *grid,
			       const char *role, int64_t records,
			       int64_t received_at, struct gb_err *err),
		     void *arg, struct gb_err *err)
{
	sqlite3 *db = sf->db;
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db,
			       "SELECT b.device, d.grid, d.role, b.records, "
			       "b.received_at FROM batch b JOIN device d ON "
			       "d.id = b.device",
			       -1, &q, NULL) != SQLITE_OK) {
		fail(sf, "reading batches", err);
		goto out;
	}
	for (;;) {
		step = sqlite3_step(q);
		if (step != SQLITE_ROW)
			break;
		char dev[GB_ID_LEN];

		gb_uuid_text(sqlite3_column_blob(q, 0),
			     sqlite3_column_bytes(q, 0), dev);
		if (cb(arg, dev, (const char *)sqlite3_column_text(q, 1),
		       (const char *)sqlite3_column_text(q, 2),
		       sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4),
		       err) < 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		fail(sf, "reading batches", err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

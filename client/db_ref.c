/*
 * The reference data of the grid file as records point to it (db.h):
 * the lookups validation makes (db_lookup), resolving what a person typed
 * for a staff member, community, area, enterprise or record (db_resolve),
 * and the names lists show (db_ref_name).  Staff, communities and police
 * areas come from the seeds (db_seed.c) and then from HQ (db_ref_replace).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_int.h"
#include "i18n.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

static const char *const stmt_sql[S_COUNT] = {
    [S_STAFF_GET] = "SELECT name, role, area FROM staff WHERE code = ?1",
    [S_COMMUNITY_GET] = "SELECT name FROM community WHERE code = ?1",
    [S_AREA_GET] = "SELECT name, room FROM police_area WHERE code = ?1",
    [S_REC_ATTR] = "SELECT CASE WHEN ?3 IS NULL THEN NULL ELSE "
		   "json_extract(body, ?3) END, voided, status, community, "
		   "title, day FROM record WHERE id = ?1 AND kind = ?2",
};

/* The cached statement id of this file's stmt_sql[]. */
static sqlite3_stmt *stmt(struct gb_db *db, enum stmt_id id, struct gb_err *err)
{
	return db_stmt(db, id, stmt_sql[id], err);
}

/* ---- lookups for validation -------------------------------------------- */

/* Copies v into out (n bytes) when out is given. */
static void put_out(char *out, size_t n, const char *v)
{
	if (out && n)
		db_copy_str(out, n, v);
}

/*
 * Looks up a unit (staff, community, area) with cached statement which,
 * whose columns are named by cols.  attr picks a column.
 */
static int find_unit(struct gb_db *db, enum stmt_id which,
		     const char *const *cols, const char *key, const char *attr,
		     char *out, size_t n, struct gb_err *err)
{
	sqlite3_stmt *s;
	int col = -1, rc;

	if (attr) {
		for (int i = 0; cols[i]; i++)
			if (strcmp(cols[i], attr) == 0)
				col = i;
		if (col < 0)
			return gb_error(err, GB_EINTERNAL,
					"no attribute %s to look up", attr);
	}
	s = stmt(db, which, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (col >= 0)
			put_out(out, n, db_col_text(s, col));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_sql_fail(db, _("cannot look up reference data"), err);
	}
	db_stmt_done(s);
	return rc;
}

/*
 * Looks up a record of kind k, voided ones only when with_voided; attr is
 * a field of its body.  Validation asks this for every imported row, so
 * fields copied into columns (status, community, title, a DATE date) are
 * read from there rather than by parsing the body.
 */
static int find_record(struct gb_db *db, const struct gb_kind *k,
		       const char *key, const char *attr, char *out, size_t n,
		       int with_voided, struct gb_err *err)
{
	const struct kind_cols *c = db_kind_cols(db, k);
	char path[64];
	sqlite3_stmt *s;
	int rc, col = 0, i = attr ? gb_kind_field(k, attr) : -1;

	if (attr && i < 0)
		return gb_error(err, GB_EINTERNAL, "no attribute %s to look up",
				attr);
	if (i >= 0 && i == c->m.status)
		col = 2;
	else if (i >= 0 && i == c->m.community)
		col = 3;
	else if (i >= 0 && i == c->m.title)
		col = 4;
	else if (i >= 0 && i == c->m.date && k->fields[i].type == GB_T_DATE)
		col = 5;
	else if (i >= 0)
		snprintf(path, sizeof(path), "$.%s", k->fields[i].name);
	s = stmt(db, S_REC_ATTR, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->name, -1, SQLITE_STATIC);
	if (i >= 0 && col == 0)
		sqlite3_bind_text(s, 3, path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && !with_voided && sqlite3_column_int(s, 1)) {
		rc = 0;
	} else if (rc == SQLITE_ROW) {
		if (i >= 0)
			put_out(out, n, db_col_text(s, col));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_sql_fail(db, _("cannot look up a record"), err);
	}
	db_stmt_done(s);
	return rc;
}

static int lookup_find(void *arg, enum gb_ref ref, const char *key,
		       const char *attr, char *out, size_t n,
		       struct gb_err *err)
{
	static const char *const staff_cols[] = {"name", "role", "area", NULL};
	static const char *const comm_cols[] = {"name", NULL};
	static const char *const area_cols[] = {"name", "room", NULL};
	struct gb_db *db = arg;

	if (!key || !*key)
		return 0;
	switch (ref) {
	case GB_REF_STAFF:
		return find_unit(db, S_STAFF_GET, staff_cols, key, attr, out, n,
				 err);
	case GB_REF_COMMUNITY:
		return find_unit(db, S_COMMUNITY_GET, comm_cols, key, attr, out,
				 n, err);
	case GB_REF_AREA:
		return find_unit(db, S_AREA_GET, area_cols, key, attr, out, n,
				 err);
	case GB_REF_ENTERPRISE:
		return find_record(db, gb_kind_find("enterprise"), key, attr,
				   out, n, 0, err);
	case GB_REF_CHECK:
		return find_record(db, gb_kind_find("contract_check"), key,
				   attr, out, n, 0, err);
	case GB_REF_NONE:
		break;
	}
	return gb_error(err, GB_EINTERNAL, "lookup of an unknown reference");
}

const struct gb_lookup *db_lookup(struct gb_db *db)
{
	db->lk.arg = db;
	db->lk.find = lookup_find;
	return &db->lk;
}

/* ---- resolving what people type ---------------------------------------- */

/* How each kind of reference is named in messages. */
static const char *ref_noun(enum gb_ref ref)
{
	switch (ref) {
	case GB_REF_COMMUNITY:
		return _("community");
	case GB_REF_AREA:
		return _("police area");
	case GB_REF_STAFF:
		return _("staff member");
	case GB_REF_ENTERPRISE:
		return _("enterprise");
	case GB_REF_CHECK:
		return _("contract check");
	case GB_REF_NONE:
		break;
	}
	return "?";
}

/*
 * Runs a candidate query (columns: code, name) with input bound to ?1.
 * Returns the number of rows (up to MAX_CANDIDATES + 1), the first code in
 * first (n bytes) and "code name" of up to MAX_CANDIDATES in list.  -1 on
 * error.
 */
static int candidates(struct gb_db *db, const char *sql, const char *input,
		      char *first, size_t n, char *list, size_t ln,
		      struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t off = 0;
	int count = 0, rc;

	list[0] = '\0';
	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK)
		return db_sql_fail(db, _("cannot look up a name"), err);
	sqlite3_bind_text(s, 1, input, -1, SQLITE_STATIC);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		const char *code = db_col_text(s, 0), *name = db_col_text(s, 1);
		const char *shown = code;

		/* A third column, when there is one, is what the list shows
		 * and the second column the code it shows beside it. */
		if (sqlite3_column_count(s) > 2) {
			shown = name;
			name = db_col_text(s, 2);
		}
		if (count == 0)
			db_copy_str(first, n, code);
		if (count < MAX_CANDIDATES && off < ln) {
			int w = snprintf(list + off, ln - off, "%s%s%s%s",
					 count ? "; " : "", shown,
					 *shown && *name ? " " : "", name);

			/* Only whole candidates: a cut one could end inside
			 * a character. */
			if (w > 0 && (size_t)w < ln - off) {
				off += (size_t)w;
			} else {
				list[off] = '\0';
				off = ln;
			}
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		db_sql_fail(db, _("cannot look up a name"), err);
		count = -1;
	}
	sqlite3_finalize(s);
	return count;
}

/*
 * The candidate queries tried in turn for each reference.  ?1 is the
 * input.  Names compare as UTF-8 text: instr() finds a prefix of Chinese
 * names as well as of Latin ones; a name that starts with the input wins
 * over one that holds it further in, so "文昌" names 文昌街道 before
 * 望川市文昌精密机械有限公司.  Each query returns at most one row
 * more than a message lists, so a count above MAX_CANDIDATES reads as
 * "more than".
 */
#define LIM " LIMIT 6"
static const char *const staff_q[] = {
    "SELECT code, name FROM staff WHERE code = ?1",
    "SELECT code, name FROM staff WHERE code = ?1 COLLATE NOCASE" LIM,
    "SELECT code, name FROM staff WHERE name = ?1 ORDER BY code" LIM,
    "SELECT code, name FROM staff WHERE instr(name, ?1) = 1 "
    "ORDER BY code" LIM,
    "SELECT code, name FROM staff WHERE instr(name, ?1) > 1 "
    "ORDER BY code" LIM,
    NULL,
};
static const char *const community_q[] = {
    "SELECT code, name FROM community WHERE code = ?1",
    "SELECT code, name FROM community WHERE code = ?1 COLLATE NOCASE" LIM,
    "SELECT code, name FROM community WHERE name = ?1 ORDER BY code" LIM,
    "SELECT code, name FROM community WHERE instr(name, ?1) = 1 "
    "ORDER BY code" LIM,
    "SELECT code, name FROM community WHERE instr(name, ?1) > 1 "
    "ORDER BY code" LIM,
    NULL,
};
static const char *const area_q[] = {
    "SELECT code, name FROM police_area WHERE code = ?1",
    "SELECT code, name FROM police_area WHERE code = ?1 COLLATE NOCASE" LIM,
    "SELECT code, name FROM police_area WHERE name = ?1 OR room = ?1 "
    "ORDER BY code" LIM,
    "SELECT code, name FROM police_area WHERE instr(name, ?1) = 1 OR "
    "instr(room, ?1) = 1 ORDER BY code" LIM,
    "SELECT code, name FROM police_area WHERE instr(name, ?1) > 1 OR "
    "instr(room, ?1) > 1 ORDER BY code" LIM,
    NULL,
};
/* Enterprises are listed by name and USCC, what people tell them apart
 * by; the id would fill the message without helping. */
#define ENT_SHOWN                                                              \
	"'', title || ' ' || coalesce(json_extract(body, '$.uscc'), '')"
static const char *const enterprise_q[] = {
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND json_extract(body, '$.uscc') = upper(?1) "
    "ORDER BY id" LIM,
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND title = ?1 ORDER BY id" LIM,
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND instr(title, ?1) = 1 ORDER BY title, id" LIM,
    "SELECT id, " ENT_SHOWN " FROM record WHERE kind = 'enterprise' AND "
    "voided = 0 AND instr(title, ?1) > 1 ORDER BY title, id" LIM,
    NULL,
};

/* Tries the queries of q in turn; the first with any rows decides. */
static int resolve_by(struct gb_db *db, const char *const *q, enum gb_ref ref,
		      const char *input, char *out, size_t n,
		      struct gb_err *err)
{
	/* The list leaves room in a message for the input and the words. */
	char first[GB_ID_LEN], list[170];

	for (int i = 0; q[i]; i++) {
		int c = candidates(db, q[i], input, first, sizeof(first), list,
				   sizeof(list), err);

		if (c < 0)
			return -1;
		if (c == 0)
			continue;
		if (c > 1)
			return gb_error(err, GB_EAMBIGUOUS,
					_("\"%s\" matches more than one %s "
					  "(%s%s): give more of the name or "
					  "the code"),
					input, ref_noun(ref), list,
					c > MAX_CANDIDATES ? "; ..." : "");
		if (strlen(first) >= n)
			return gb_error(err, GB_EINTERNAL,
					"no room for code %s", first);
		db_copy_str(out, n, first);
		return 1;
	}
	return 0;
}

int db_resolve(struct gb_db *db, enum gb_ref ref, const char *input, char *out,
	       size_t n, struct gb_err *err)
{
	const char *const *q = NULL;
	const struct gb_kind *kind = NULL;
	char full[GB_ID_LEN];
	struct gb_err e2;
	int rc, wrong = 0;

	if (!input || !*input)
		return gb_error(err, GB_ENOTFOUND, _("no %s given"),
				ref_noun(ref));
	switch (ref) {
	case GB_REF_STAFF:
		q = staff_q;
		break;
	case GB_REF_COMMUNITY:
		q = community_q;
		break;
	case GB_REF_AREA:
		q = area_q;
		break;
	case GB_REF_ENTERPRISE:
		kind = gb_kind_find("enterprise");
		break;
	case GB_REF_CHECK:
		kind = gb_kind_find("contract_check");
		break;
	case GB_REF_NONE:
		return gb_error(err, GB_EINTERNAL, "nothing to resolve");
	}
	if (q) {
		rc = resolve_by(db, q, ref, input, out, n, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return gb_error(err, GB_ENOTFOUND,
					_("no %s with code or name \"%s\""),
					ref_noun(ref), input);
		return 0;
	}
	/* Records: an id or id prefix first, then (enterprises) a USCC or
	 * the name. */
	gb_err_clear(&e2);
	if (db_looks_like_id(input) && strlen(input) >= MIN_ID_PREFIX) {
		if (db_record_find(db, kind, input, full, &wrong, &e2) == 0) {
			if (strlen(full) >= n)
				return gb_error(err, GB_EINTERNAL,
						"no room for an id");
			db_copy_str(out, n, full);
			return 0;
		}
		if (e2.code != GB_ENOTFOUND || ref == GB_REF_CHECK) {
			if (err)
				*err = e2;
			return -1;
		}
	}
	if (ref == GB_REF_ENTERPRISE) {
		rc = resolve_by(db, enterprise_q, ref, input, out, n, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			return 0;
	}
	/* A record of another kind is worth naming. */
	if (wrong) {
		if (err)
			*err = e2;
		return -1;
	}
	if (ref == GB_REF_ENTERPRISE)
		return gb_error(err, GB_ENOTFOUND,
				_("no enterprise with id, USCC or name "
				  "\"%s\""),
				input);
	return gb_error(err, GB_ENOTFOUND, _("no contract check with id %s"),
			input);
}

char *db_ref_name(struct gb_db *db, enum gb_ref ref, const char *code)
{
	char name[512] = "";
	int rc = 0;

	if (!code)
		return NULL;
	switch (ref) {
	case GB_REF_STAFF:
	case GB_REF_COMMUNITY:
	case GB_REF_AREA:
		rc = lookup_find(db, ref, code, "name", name, sizeof(name),
				 NULL);
		break;
	case GB_REF_ENTERPRISE:
		rc = find_record(db, gb_kind_find("enterprise"), code, "name",
				 name, sizeof(name), 1, NULL);
		break;
	case GB_REF_CHECK:
	case GB_REF_NONE:
		break;
	}
	return xstrdup(rc == 1 && name[0] ? name : code);
}

/* ---- reference data as tables ------------------------------------------- */

/* The SQL of each table of db_ref_rows, one parameter: the grid. */
static const struct {
	const char *name; /* in messages */
	const char *rows, *count;
	int ncols;
} ref_tables[] = {
    [DB_REF_COMMUNITIES] =
	{"communities",
	 "SELECT c.code, c.name, c.population, c.criminal_cases,"
	 " c.patrol_team, coalesce(ac.area, '')"
	 " FROM community c LEFT JOIN area_community ac"
	 " ON ac.community = c.code WHERE c.grid = ?1 ORDER BY c.code",
	 "SELECT count(*) FROM community WHERE grid = ?1", 6},
    [DB_REF_AREAS] =
	{"areas",
	 "SELECT a.code, a.name, a.room,"
	 " (SELECT group_concat(community, ',') FROM"
	 "  (SELECT community FROM area_community WHERE area = a.code"
	 "   ORDER BY community)),"
	 " (SELECT count(*) FROM staff s WHERE s.area = a.code"
	 "  AND s.role IN ('officer', 'chief')),"
	 " (SELECT count(*) FROM staff s WHERE s.area = a.code"
	 "  AND s.role = 'guard')"
	 " FROM police_area a WHERE a.grid = ?1 ORDER BY a.code",
	 "SELECT count(*) FROM police_area WHERE grid = ?1", 6},
    [DB_REF_STAFF] =
	{"staff",
	 "SELECT code, name, role, area FROM staff WHERE grid = ?1"
	 " ORDER BY code",
	 "SELECT count(*) FROM staff WHERE grid = ?1 AND (?2 IS NULL OR "
	 "role = ?2)",
	 4},
};

/* What reading table t is called in an error: "reading NAME". */
static const char *ref_reading(enum db_ref_table t, char *buf, size_t n)
{
	snprintf(buf, n, _("reading %s"), ref_tables[t].name);
	return buf;
}

int db_ref_rows(struct gb_db *db, enum db_ref_table t, const char *grid,
		int (*cb)(void *arg, const char *const *cells, int n),
		void *arg, struct gb_err *err)
{
	const char *cells[8];
	char what[64];
	sqlite3_stmt *s = NULL;
	int rc, ret = -1, n = ref_tables[t].ncols;

	if (db_prep(db, ref_tables[t].rows, &s, ref_reading(t, what, 64), err))
		return -1;
	db_bind_text(s, 1, grid);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		for (int c = 0; c < n; c++)
			cells[c] = (const char *)sqlite3_column_text(s, c);
		if (cb(arg, cells, n))
			break; /* -1: the callback's err */
	}
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc != SQLITE_ROW)
		db_sql_fail(db, what, err);
	sqlite3_finalize(s);
	return ret;
}

int db_ref_count(struct gb_db *db, enum db_ref_table t, const char *grid,
		 const char *role, long *n, struct gb_err *err)
{
	char what[64];
	sqlite3_stmt *s = NULL;
	int rc;

	*n = 0;
	if (db_prep(db, ref_tables[t].count, &s, ref_reading(t, what, 64), err))
		return -1;
	db_bind_text(s, 1, grid);
	if (t == DB_REF_STAFF)
		db_bind_text(s, 2, role);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = (long)sqlite3_column_int64(s, 0);
	else
		db_sql_fail(db, what, err);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* ---- reference data from HQ ------------------------------------------- */

enum {
	P_DEL_AREA_COMM,
	P_DEL_AREA,
	P_DEL_COMM,
	P_DEL_STAFF,
	P_COMM,
	P_AREA,
	P_AREA_COMM,
	P_STAFF,
	P_COUNT
};

static const char *const ref_sql[P_COUNT] = {
    [P_DEL_AREA_COMM] = "DELETE FROM area_community WHERE area IN "
			"(SELECT code FROM police_area WHERE grid = ?1)",
    [P_DEL_AREA] = "DELETE FROM police_area WHERE grid = ?1",
    [P_DEL_COMM] = "DELETE FROM community WHERE grid = ?1",
    [P_DEL_STAFF] = "DELETE FROM staff WHERE grid = ?1",
    [P_COMM] = "INSERT OR REPLACE INTO community (code, name, street, "
	       "grid, population, criminal_cases, patrol_team) VALUES "
	       "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [P_AREA] = "INSERT OR REPLACE INTO police_area (code, name, grid, "
	       "room) VALUES (?1, ?2, ?3, ?4)",
    [P_AREA_COMM] = "INSERT OR IGNORE INTO area_community (area, "
		    "community) VALUES (?1, ?2)",
    [P_STAFF] = "INSERT OR REPLACE INTO staff (code, name, role, grid, "
		"area) VALUES (?1, ?2, ?3, ?4, ?5)",
};

/* grid when the row names one, else the file's. */
static const char *row_grid(struct gb_db *db, const char *grid)
{
	return grid[0] ? grid : db_grid(db);
}

static void bind_count(sqlite3_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v < 0 ? 0 : v);
}

int db_ref_replace(struct gb_db *db, const struct wire_page *p,
		   struct gb_err *err)
{
	const char *what = _("cannot store the reference data");
	const char *grid = db_grid(db);
	sqlite3_stmt *st[P_COUNT] = {NULL};
	int rc = -1;

	for (int i = 0; i < P_COUNT; i++)
		if (db_prep(db, ref_sql[i], &st[i], what, err))
			goto out;
	for (int i = P_DEL_AREA_COMM; i <= P_DEL_STAFF; i++) {
		sqlite3_bind_text(st[i], 1, grid, -1, SQLITE_STATIC);
		if (db_step_done(db, st[i], what, err))
			goto out;
	}
	for (size_t i = 0; i < p->ncommunities; i++) {
		const struct wire_community *c = &p->communities[i];
		sqlite3_stmt *s = st[P_COMM];

		sqlite3_bind_text(s, 1, c->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, c->name ? c->name : c->code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, c->street, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, row_grid(db, c->grid), -1,
				  SQLITE_STATIC);
		bind_count(s, 5, c->population);
		bind_count(s, 6, c->criminal_cases);
		bind_count(s, 7, c->patrol_team);
		if (db_step_done(db, s, what, err))
			goto out;
	}
	for (size_t i = 0; i < p->nareas; i++) {
		const struct wire_area *a = &p->areas[i];
		sqlite3_stmt *s = st[P_AREA];

		sqlite3_bind_text(s, 1, a->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, a->name ? a->name : a->code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, row_grid(db, a->grid), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 4, a->room ? a->room : "", -1,
				  SQLITE_STATIC);
		if (db_step_done(db, s, what, err))
			goto out;
		for (size_t k = 0; k < a->ncommunities; k++) {
			s = st[P_AREA_COMM];
			sqlite3_bind_text(s, 1, a->code, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, a->communities[k], -1,
					  SQLITE_STATIC);
			if (db_step_done(db, s, what, err))
				goto out;
		}
	}
	for (size_t i = 0; i < p->nstaff; i++) {
		const struct wire_staff *f = &p->staff[i];
		sqlite3_stmt *s = st[P_STAFF];

		sqlite3_bind_text(s, 1, f->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, f->name ? f->name : f->code, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, f->role, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, row_grid(db, f->grid), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 5, f->area, -1, SQLITE_STATIC);
		if (db_step_done(db, s, what, err))
			goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < P_COUNT; i++)
		sqlite3_finalize(st[i]);
	return rc;
}

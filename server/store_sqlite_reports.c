/*
 * The report facts of the SQLite store, as reports read them (store.h,
 * "report facts, read by reports"): the SQL of each fact query over the
 * tables ingest keeps (schema/server/002_reports.sql and after) and the
 * reference data.
 *
 * store_sqlite.c opens the snapshot (a read-only connection of its pool
 * inside one read transaction, so that every query of a report sees the
 * same commit) and asks here.  Each query is prepared when it is asked
 * for, as the readers of the store do, and its columns go into a struct
 * store_fact_row by a pattern: 's' a text, 'u' a 16-byte id as UUID text, both
 * into the next s[]; 'i' a number and 'n' a number that may be NULL, into the
 * next i[].
 *
 * Where facts meet (checks and their enterprises), the facts of the
 * period come first (CROSS JOIN keeps SQLite to that order) and the other
 * side is looked up by its key, never scanned once per row.
 */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "id.h"
#include "store_sqlite_int.h"

#include "banned.h"

/* How a query is bound: the period as ?1 and ?2; only its first day as
 * ?1 and the key as ?2 (NULL for none); the key as ?1 and the period as
 * ?2 and ?3; nothing. */
enum fact_bind { FB_PERIOD, FB_FROM_KEY, FB_KEY_PERIOD, FB_NONE };

struct fact_sql {
	const char *sql;
	enum fact_bind bind;
	const char *cols; /* s u i n, one per column */
};

/* Indexed by enum store_query. */
static const struct fact_sql facts[STORE_Q_COUNT] = {
    [STORE_Q_DISTRICT] = {"SELECT code, name FROM district ORDER BY code "
			  "LIMIT 1",
			  FB_NONE, "ss"},
    [STORE_Q_STREET] = {"SELECT code, name FROM street ORDER BY code", FB_NONE,
			"ss"},
    [STORE_Q_GRID] = {"SELECT code, street, name FROM grid ORDER BY code",
		      FB_NONE, "sss"},
    [STORE_Q_AREA] = {"SELECT code, grid, name FROM police_area "
		      "ORDER BY code",
		      FB_NONE, "sss"},
    [STORE_Q_COMMUNITY] = {"SELECT c.code, c.grid, c.name, (SELECT "
			   "min(area) FROM area_community ac WHERE "
			   "ac.community = c.code), c.population, "
			   "c.criminal_cases, c.patrol_team FROM community c "
			   "ORDER BY c.code",
			   FB_NONE, "ssssiii"},
    [STORE_Q_STAFF] = {"SELECT code, name, role, grid, coalesce(area, '') "
		       "FROM staff ORDER BY code",
		       FB_NONE, "sssss"},
    [STORE_Q_ACTIVE] = {"SELECT grid, enterprises FROM rr_active", FB_NONE,
			"si"},
    [STORE_Q_CHECKS] = {"SELECT e.grid, c.enterprise, c.signed, c.total "
			"FROM rf_check c CROSS JOIN rf_enterprise e ON e.id "
			"= c.enterprise WHERE c.day BETWEEN ?1 AND ?2 AND "
			"e.active = 1 ORDER BY c.enterprise, c.day DESC, "
			"c.version DESC, c.id DESC",
			FB_PERIOD, "suii"},
    [STORE_Q_CHECKED] = {"SELECT e.grid, count(DISTINCT c.enterprise) "
			 "FROM rf_check c CROSS JOIN rf_enterprise e ON e.id "
			 "= c.enterprise WHERE c.day BETWEEN ?1 AND ?2 AND "
			 "e.active = 1 GROUP BY e.grid",
			 FB_PERIOD, "si"},
    [STORE_Q_ORDERS] = {"SELECT c.grid, c.outcome, e.name, c.enterprise, "
			"c.day, c.deadline, (SELECT min(r.day) FROM rf_rect "
			"r WHERE r.chk = c.id AND r.rectified = 1) FROM "
			"rf_check c CROSS JOIN rf_enterprise e ON e.id = "
			"c.enterprise WHERE c.day BETWEEN ?1 AND ?2 AND "
			"c.outcome IN ('notice', 'rectify_order') ORDER BY "
			"c.deadline, c.grid, c.day, c.enterprise, c.id",
			FB_PERIOD, "sssuinn"},
    [STORE_Q_DISPUTES] = {"SELECT grid, level, status, count(*) FROM "
			  "rf_dispute d WHERE day BETWEEN ?1 AND ?2 AND "
			  "(d.enterprise IS NULL OR EXISTS (SELECT 1 FROM "
			  "rf_enterprise e WHERE e.id = d.enterprise)) GROUP "
			  "BY grid, level, status",
			  FB_PERIOD, "sssi"},
    [STORE_Q_NIGHTS] = {"SELECT area, leader, night FROM rr_night WHERE "
			"night BETWEEN ?1 AND ?2 AND patrols > 0",
			FB_PERIOD, "ssi"},
    [STORE_Q_RECEPTION] = {"SELECT officer, week, ms FROM rr_reception "
			   "WHERE week BETWEEN ?1 AND ?2",
			   FB_PERIOD, "sii"},
    /* The id of an open request only: the reports list those alone,
     * and most are resolved. */
    [STORE_Q_REQUESTS] = {"SELECT area, category, priority, officer, CASE "
			  "WHEN resolved IS NULL THEN id END, "
			  "received, deadline, resolved FROM rf_request "
			  "WHERE day BETWEEN ?1 AND ?2",
			  FB_PERIOD, "ssssuiin"},
    [STORE_Q_DAILY] = {"SELECT officer, day FROM rr_daily WHERE day "
		       "BETWEEN ?1 AND ?2 AND reports > 0",
		       FB_PERIOD, "si"},
    [STORE_Q_DEVICES] = {"SELECT id, grid, role, name, revoked, pending, "
			 "oldest_pending, last_seen FROM device WHERE role "
			 "!= 'viewer'",
			 FB_NONE, "usssinii"},
    [STORE_Q_DEVICE_SYNC] = {"SELECT id, grid, role, name, revoked, "
			     "pending, oldest_pending, last_seen FROM device "
			     "WHERE role != 'viewer' ORDER BY grid, "
			     "created_at, id",
			     FB_NONE, "usssinii"},
    /* Asked device by device, one probe of rr_sync's key each, because
     * the rows of every day since the period began are, for a period
     * years back, most of rr_sync. */
    [STORE_Q_SYNCED_GRIDS] = {"SELECT DISTINCT d.grid FROM device d WHERE "
			      "(?2 IS NULL OR d.role = ?2) AND EXISTS "
			      "(SELECT 1 FROM rr_sync s WHERE s.device = "
			      "d.id AND s.day >= ?1)",
			      FB_FROM_KEY, "s"},
    [STORE_Q_CONFLICTS] = {"SELECT grid, area, person FROM rf_conflict "
			   "WHERE kind = ?1 AND (day IS NULL OR day BETWEEN "
			   "?2 AND ?3)",
			   FB_KEY_PERIOD, "sss"},
};

/* The per-device sums of STORE_Q_DEVICE_SYNC, asked once a device: a
 * probe of rr_sync's key each, where one join would read every day of
 * every device. */
static const char SQL_DEVICE_DAYS[] =
    "SELECT sum(batches), sum(records) FROM rr_sync WHERE device = ?1 AND "
    "day BETWEEN ?2 AND ?3";
static const char SQL_DEVICE_LAST[] =
    "SELECT last_at FROM rr_sync WHERE device = ?1 ORDER BY day DESC "
    "LIMIT 1";

/* The fact queries of the reference data, whose failure says so. */
static int is_ref(enum store_query f)
{
	return f <= STORE_Q_STAFF;
}

static int fail(sqlite3 *db, enum store_query f, struct gb_err *err)
{
	return gb_error(err, GB_EDB, _("store: %s: %s"),
			is_ref(f) ? _("reading reference data")
				  : _("reading report facts"),
			sqlite3_errmsg(db));
}

/* Fills r from the current row of q by the pattern cols; ids go into
 * ids, which r then points into.  r was zeroed once for the query: every
 * row fills the same members, so the others stay 0 and NULL. */
static void row_fill(sqlite3_stmt *q, const char *cols,
		     struct store_fact_row *r, char ids[][GB_ID_LEN])
{
	int ns = 0, ni = 0;

	r->null = 0;
	for (int c = 0; cols[c]; c++) {
		const char *t;

		switch (cols[c]) {
		case 's':
			t = (const char *)sqlite3_column_text(q, c);
			r->s[ns++] = t ? t : "";
			break;
		case 'u':
			gb_uuid_text(sqlite3_column_blob(q, c),
				     sqlite3_column_bytes(q, c), ids[ns]);
			r->s[ns] = ids[ns];
			ns++;
			break;
		case 'n':
			if (sqlite3_column_type(q, c) == SQLITE_NULL)
				r->null |= 1u << ni;
			/* fall through */
		default:
			r->i[ni++] = sqlite3_column_int64(q, c);
			break;
		}
	}
}

/* The sums of STORE_Q_DEVICE_SYNC for the device of q's current row,
 * into r's i4..i6. */
static int device_sync(sqlite3_stmt *q, sqlite3_stmt *days, sqlite3_stmt *last,
		       const struct store_fact_query *fq,
		       struct store_fact_row *r)
{
	int rc = 0;

	sqlite3_bind_value(days, 1, sqlite3_column_value(q, 0));
	sqlite3_bind_int(days, 2, fq->from);
	sqlite3_bind_int(days, 3, fq->to);
	sqlite3_bind_value(last, 1, sqlite3_column_value(q, 0));
	if (sqlite3_step(days) != SQLITE_ROW) {
		rc = -1;
		goto out;
	}
	r->i[4] = sqlite3_column_int64(days, 0);
	r->i[5] = sqlite3_column_int64(days, 1);
	r->i[6] = 0;
	switch (sqlite3_step(last)) {
	case SQLITE_ROW:
		r->i[6] = sqlite3_column_int64(last, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = -1;
	}
out:
	sqlite3_reset(days);
	sqlite3_reset(last);
	return rc;
}

int store_sqlite_facts_query(sqlite3 *db, const struct store_fact_query *q,
			     int (*cb)(void *arg,
				       const struct store_fact_row *r,
				       struct gb_err *err),
			     void *arg, struct gb_err *err)
{
	const struct fact_sql *fs;
	sqlite3_stmt *st = NULL, *days = NULL, *last = NULL;
	struct store_fact_row row;
	char ids[STORE_FACT_NS][GB_ID_LEN];
	int step = SQLITE_DONE, rc = -1;

	if (q->fact < 0 || q->fact >= STORE_Q_COUNT)
		return gb_error(err, GB_EINTERNAL, "store: no report fact %d",
				(int)q->fact);
	fs = &facts[q->fact];
	if (sqlite3_prepare_v2(db, fs->sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (q->fact == STORE_Q_DEVICE_SYNC &&
	    (sqlite3_prepare_v2(db, SQL_DEVICE_DAYS, -1, &days, NULL) !=
		 SQLITE_OK ||
	     sqlite3_prepare_v2(db, SQL_DEVICE_LAST, -1, &last, NULL) !=
		 SQLITE_OK))
		goto fail;
	switch (fs->bind) {
	case FB_PERIOD:
		sqlite3_bind_int(st, 1, q->from);
		sqlite3_bind_int(st, 2, q->to);
		break;
	case FB_FROM_KEY:
		sqlite3_bind_int(st, 1, q->from);
		if (q->key)
			sqlite3_bind_text(st, 2, q->key, -1, SQLITE_STATIC);
		break;
	case FB_KEY_PERIOD:
		if (q->key)
			sqlite3_bind_text(st, 1, q->key, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, q->from);
		sqlite3_bind_int(st, 3, q->to);
		break;
	case FB_NONE:
		break;
	}
	memset(&row, 0, sizeof(row));
	for (;;) {
		step = sqlite3_step(st);
		if (step != SQLITE_ROW)
			break;
		row_fill(st, fs->cols, &row, ids);
		if (days && device_sync(st, days, last, q, &row) < 0)
			goto fail;
		if (cb(arg, &row, err) < 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	fail(db, q->fact, err);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(days);
	sqlite3_finalize(last);
	return rc;
}

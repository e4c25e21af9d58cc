/*
 * The records of the grid file (db.h): the current version of each record
 * (table record), the earlier ones (record_history) and the fields in
 * conflict (field_conflict); writing them, merging what arrives, and
 * reading them back for lists, history and re-stamping.
 *
 * `gridbook import` writes a hundred thousand records in one transaction,
 * so the write path does no per-row work beyond what the row needs: the
 * statements are prepared once per handle (db_stmt), the JSON body is
 * built in one reused buffer, and the clock is read and written once per
 * transaction (db.c).  Bodies are read back with SQLite's own json_each()
 * rather than a parser of ours.  Each version written goes into the
 * outbox in the same transaction (outbox_append).
 *
 * The columns day, community, person, status and title of table record are
 * copied out of the body when a version is stored (record_cols.h), so that
 * lists filter and sort on indexed columns; so is enterprise, the
 * enterprise a record names, by which the records that follow an
 * enterprise to another community are found.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "db_int.h"
#include "gbtime.h"
#include "hmap.h"
#include "i18n.h"
#include "id.h"
#include "merge.h"
#include "outbox.h"
#include "xalloc.h"

#include "banned.h"

#define REC_COLS                                                               \
	"id, kind, grid, device, staff, created_at, updated_at, version, "     \
	"voided, void_reason, body, bases, resolves"

static const char *const stmt_sql[S_COUNT] = {
    [S_REC_INSERT] = "INSERT INTO record (id, kind, grid, device, staff, "
		     "created_at, updated_at, version, voided, void_reason, "
		     "day, community, person, status, title, body, bases, "
		     "resolves, heads, enterprise) VALUES (?1, ?2, ?3, ?4, "
		     "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		     "?17, ?18, ?19, ?20)",
    [S_REC_PUT] = "INSERT OR REPLACE INTO record (id, kind, grid, device, "
		  "staff, created_at, updated_at, version, voided, "
		  "void_reason, day, community, person, status, title, "
		  "body, bases, resolves, heads, enterprise) VALUES (?1, "
		  "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
		  "?15, ?16, ?17, ?18, ?19, ?20)",
    [S_REC_OLD] = "SELECT kind, grid, created_at, version, device, "
		  "community, heads FROM record WHERE id = ?1",
    /* Only a row that is one version (heads NULL) goes to history: a
     * merged row's versions are all there already. */
    [S_HIST_MOVE] = "INSERT OR IGNORE INTO record_history (id, version, "
		    "kind, device, staff, updated_at, voided, void_reason, "
		    "body, bases, resolves) SELECT id, version, kind, "
		    "device, staff, updated_at, voided, void_reason, body, "
		    "bases, resolves FROM record WHERE id = ?1 AND heads IS "
		    "NULL",
    [S_HIST_ADD] = "INSERT OR IGNORE INTO record_history (id, version, "
		   "kind, device, staff, updated_at, voided, void_reason, "
		   "body, bases, resolves) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		   "?7, ?8, ?9, ?10, ?11)",
    [S_ENT_COMMUNITY] = "SELECT community FROM record WHERE id = ?1 AND "
			"kind = 'enterprise'",
    /* By the index record_enterprise_of (schema/client/006). */
    [S_ENT_DEPENDENTS] = "UPDATE record SET community = ?1 WHERE "
			 "enterprise = ?2 AND community IS NOT ?1",
    [S_REC_GET] = "SELECT " REC_COLS " FROM record WHERE id = ?1",
    [S_REC_PREFIX] = "SELECT id, kind FROM record WHERE id >= ?1 AND "
		     "id < ?2 AND (?3 IS NULL OR kind = ?3) ORDER BY id "
		     "LIMIT 6",
    [S_HIST_HAS] = "SELECT 1 FROM record_history WHERE id = ?1 AND "
		   "version = ?2 AND device = ?3",
    [S_HIST_DEL] = "DELETE FROM record_history WHERE id = ?1 AND "
		   "version = ?2 AND device = ?3",
    /* The newest GB_MERGE_MAX_VERSIONS, as HQ merges them. */
    [S_HIST_ALL] = "SELECT version, device, staff, updated_at, voided, "
		   "void_reason, body, bases, resolves FROM record_history "
		   "WHERE id = ?1 ORDER BY version DESC, device DESC LIMIT ?2",
    [S_CONF_ANY] = "SELECT EXISTS (SELECT 1 FROM field_conflict WHERE "
		   "id = ?1)",
    [S_CONF_DEL] = "DELETE FROM field_conflict WHERE id = ?1",
    [S_CONF_ADD] = "INSERT OR REPLACE INTO field_conflict (id, field, "
		   "kept_version, kept_device, kept_staff, kept_at, "
		   "kept_value, lost_version, lost_device, lost_staff, "
		   "lost_at, lost_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		   "?7, ?8, ?9, ?10, ?11, ?12)",
    [S_REC_EXISTS] = "SELECT 1 FROM record WHERE id = ?1",
    [S_CONF_OF] = "SELECT kept_version, lost_version FROM field_conflict "
		  "WHERE id = ?1 AND field = ?2",
};

/* The cached statement id of this file's stmt_sql[]. */
static sqlite3_stmt *stmt(struct gb_db *db, enum stmt_id id, struct gb_err *err)
{
	return db_stmt(db, id, stmt_sql[id], err);
}

/* ---- writing records ---------------------------------------------------- */

/*
 * The community of the enterprise with id ent, copied into out (n bytes);
 * out is "" when there is none.  Answers are kept in a small direct-mapped
 * cache: an import of checks names the same enterprises again and again,
 * and a search of the record table costs about as much as the insert.
 */
static int enterprise_community(struct gb_db *db, const char *ent, char *out,
				size_t n, struct gb_err *err)
{
	sqlite3_stmt *s;
	int rc;
	struct ent_slot *slot;

	slot = &db->ent_cache[gb_hash(ent, strlen(ent)) % ENT_CACHE_SLOTS];
	if (slot->gen == db->ent_gen && strcmp(slot->id, ent) == 0) {
		db_copy_str(out, n, slot->community);
		return 0;
	}
	s = stmt(db, S_ENT_COMMUNITY, err);
	if (!s)
		return -1;
	db_bind_text(s, 1, ent);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_sql_fail(db, _("cannot look up an enterprise"), err);
		db_stmt_done(s);
		return -1;
	}
	db_copy_str(out, n, rc == SQLITE_ROW ? db_col_text(s, 0) : "");
	db_stmt_done(s);
	if (rc == SQLITE_ROW) {
		slot->gen = db->ent_gen;
		db_copy_str(slot->id, sizeof(slot->id), ent);
		db_copy_str(slot->community, sizeof(slot->community), out);
	}
	return 0;
}

/*
 * Fills d with the derived columns of r (record_cols.h), and for a kind
 * without a community field of its own the community of its enterprise.
 * ent_comm (GB_CODE_LEN bytes) holds that; d points into it and into r.
 */
static int derive(struct gb_db *db, const struct gb_record *r,
		  struct gb_record_cols *d, char *ent_comm, struct gb_err *err)
{
	const struct kind_cols *c = db_kind_cols(db, r->kind);

	gb_record_cols(r, &c->m, d);
	if (c->m.community < 0 && c->enterprise >= 0 && r->val[c->enterprise]) {
		if (enterprise_community(db, r->val[c->enterprise], ent_comm,
					 GB_CODE_LEN, err))
			return -1;
		d->community = ent_comm;
	}
	return 0;
}

/* The enterprise r names, for column enterprise (schema/client/006):
 * the value of its "enterprise" field, NULL for a kind without one. */
static const char *record_enterprise(struct gb_db *db,
				     const struct gb_record *r)
{
	const struct kind_cols *c = db_kind_cols(db, r->kind);

	return c->enterprise >= 0 ? r->val[c->enterprise] : NULL;
}

/* Builds the JSON body of r in db->body. */
static int make_body(struct gb_db *db, const struct gb_record *r,
		     struct gb_err *err)
{
	gb_buf_reset(&db->body);
	return gb_record_values_json(r, &db->body, err);
}

/* The longest text of GB_MAX_BASE versions (versions_text). */
#define BASES_TEXT_LEN (GB_MAX_BASE * 21)

/*
 * Writes n versions as decimal numbers separated by spaces into out (cap
 * bytes, room for every one: 21 bytes a version).  "" for none.
 */
static void versions_text(const uint64_t *v, size_t n, char *out, size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%" PRIu64,
					i ? " " : "", v[i]);
}

/*
 * Stores r as the current row with statement which (S_REC_INSERT or
 * S_REC_PUT).  heads NULL: the row is the version r itself, with its
 * bases; else it is the merge of the record's versions, whose heads are
 * given as versions_text writes them (schema/client/005).  A duplicate
 * id on insert fails with GB_EEXIST.
 */
static int write_current(struct gb_db *db, enum stmt_id which,
			 const struct gb_record *r, const char *heads,
			 struct gb_err *err)
{
	char ent_comm[GB_CODE_LEN], bases[BASES_TEXT_LEN];
	struct gb_record_cols d;
	sqlite3_stmt *s;
	int rc;

	if (derive(db, r, &d, ent_comm, err) || make_body(db, r, err))
		return -1;
	s = stmt(db, which, err);
	if (!s)
		return -1;
	versions_text(r->base, heads ? 0 : (size_t)r->nbase, bases,
		      sizeof(bases));
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->grid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->staff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->created_at);
	sqlite3_bind_int64(s, 7, r->updated_at);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)r->version);
	sqlite3_bind_int(s, 9, r->voided ? 1 : 0);
	db_bind_text(s, 10, r->voided ? r->void_reason : NULL);
	db_bind_text(s, 11, d.day);
	db_bind_text(s, 12, d.community);
	db_bind_text(s, 13, d.person);
	db_bind_text(s, 14, d.status);
	db_bind_text(s, 15, d.title);
	sqlite3_bind_text(s, 16, gb_buf_str(&db->body), (int)db->body.len,
			  SQLITE_STATIC);
	db_bind_text(s, 17, bases);
	sqlite3_bind_int64(s, 18, heads ? 0 : (sqlite3_int64)r->resolves);
	if (heads)
		sqlite3_bind_text(s, 19, heads, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 19);
	db_bind_text(s, 20, record_enterprise(db, r));
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		/* Only the id taken (record is WITHOUT ROWID: its key's
		 * code): another constraint is a failure to store. */
		if (sqlite3_extended_errcode(db->sq) ==
			SQLITE_CONSTRAINT_PRIMARYKEY &&
		    which == S_REC_INSERT)
			gb_error(err, GB_EEXIST, _("record %s already exists"),
				 r->id);
		else
			db_sql_fail(db, _("cannot save the record"), err);
		db_stmt_done(s);
		return -1;
	}
	db_stmt_done(s);
	return 0;
}

/* Moves the current version of id into history. */
static int history_move(struct gb_db *db, const char *id, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_HIST_MOVE, err);

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return db_step_done(db, s, _("cannot keep the earlier version"), err);
}

/*
 * After an enterprise changed community, the records that name it (checks,
 * disputes, employment) follow, so that their community column stays
 * true.  Rare, hence the scan.
 */
static int enterprise_moved(struct gb_db *db, const struct gb_record *r,
			    const char *old_community, struct gb_err *err)
{
	const char *now = gb_record_get(r, "community");
	sqlite3_stmt *s;

	db->ent_gen++;
	if (strcmp(now ? now : "", old_community) == 0)
		return 0;
	s = stmt(db, S_ENT_DEPENDENTS, err);
	if (!s)
		return -1;
	db_bind_text(s, 1, now);
	sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
	return db_step_done(
	    db, s, _("cannot update the records of an enterprise"), err);
}

/* What is stored of the current row of a record, for writers. */
struct old_row {
	int found;
	char kind[32];
	char grid[GB_CODE_LEN];
	int64_t created_at;
	uint64_t version;
	char device[GB_ID_LEN];
	char community[GB_CODE_LEN];
	/* merged 0: the row is one version, its own head; 1: it is the
	 * merge of versions all kept in history (schema/client/005).  heads
	 * are the versions no other one saw, in HLC order; owned. */
	int merged;
	uint64_t *heads;
	size_t nheads;
};

static void old_row_release(struct old_row *o)
{
	free(o->heads);
	o->heads = NULL;
	o->nheads = 0;
}

/* Reads the current row of id into o, which the caller releases with
 * old_row_release() (also when it fails). */
static int old_row_get(struct gb_db *db, const char *id, struct old_row *o,
		       struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_REC_OLD, err);
	int rc;

	memset(o, 0, sizeof(*o));
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o->found = 1;
		db_copy_str(o->kind, sizeof(o->kind), db_col_text(s, 0));
		db_copy_str(o->grid, sizeof(o->grid), db_col_text(s, 1));
		o->created_at = sqlite3_column_int64(s, 2);
		o->version = (uint64_t)sqlite3_column_int64(s, 3);
		db_copy_str(o->device, sizeof(o->device), db_col_text(s, 4));
		db_copy_str(o->community, sizeof(o->community),
			    db_col_text(s, 5));
		if (sqlite3_column_type(s, 6) != SQLITE_NULL)
			db_versions_parse(db_col_text(s, 6), &o->heads,
					  &o->nheads);
		o->merged = o->nheads > 0;
		if (!o->merged) {
			o->heads = xmalloc(sizeof(*o->heads));
			o->heads[0] = o->version;
			o->nheads = 1;
		}
	} else if (rc != SQLITE_DONE) {
		db_sql_fail(db, _("cannot read the record"), err);
		db_stmt_done(s);
		return -1;
	}
	db_stmt_done(s);
	return 0;
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Whether v is among the n versions of set. */
static int has_version(const uint64_t *set, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

/*
 * Sets the bases of r, a new version of record o, to the heads of o: the
 * versions its merged state rests on (common/merge.h).  A version names
 * at most GB_MAX_BASE of them; with more heads than that (as many
 * laptops editing one record at once), it names the versions of must
 * (nmust, the two sides of the conflicts it resolves) and the newest
 * heads.  Leaving a head out is safe: the merge then takes the new
 * version not to have seen it, so what that head changed stays where
 * nobody else changed it, the new version agrees with it on every field
 * it shows, and a conflict it is part of stays a conflict; nothing is
 * lost and nothing wins silently.
 */
static void bases_pick(struct gb_record *r, const struct old_row *o,
		       const uint64_t *must, size_t nmust)
{
	size_t n = 0;

	if (o->nheads <= GB_MAX_BASE) {
		for (size_t i = 0; i < o->nheads; i++)
			r->base[n++] = o->heads[i];
	} else {
		for (size_t i = 0; i < nmust && n < GB_MAX_BASE; i++)
			if (!has_version(r->base, n, must[i]))
				r->base[n++] = must[i];
		for (size_t i = o->nheads; i-- > 0 && n < GB_MAX_BASE;)
			if (!has_version(r->base, n, o->heads[i]))
				r->base[n++] = o->heads[i];
	}
	qsort(r->base, n, sizeof(r->base[0]), cmp_u64);
	r->nbase = (int)n;
}

/* The name field_conflict gives field f of kind k (the void: "void"). */
static const char *conflict_field(const struct gb_kind *k, int f)
{
	return f < GB_MERGE_VOID ? k->fields[f].name : DB_FIELD_VOID;
}

/*
 * The versions of the conflicts of record id on the fields r->resolves
 * names, into must (room for GB_MAX_BASE); *n of them.
 */
static int resolved_versions(struct gb_db *db, const struct gb_record *r,
			     uint64_t *must, size_t *n, struct gb_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if (!r->resolves)
		return 0;
	s = stmt(db, S_CONF_OF, err);
	if (!s)
		return -1;
	for (int f = 0; f <= GB_MERGE_VOID; f++) {
		if (!((r->resolves >> f) & 1) ||
		    (f < GB_MERGE_VOID && f >= r->kind->nfields))
			continue;
		sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, conflict_field(r->kind, f), -1,
				  SQLITE_STATIC);
		for (;;) {
			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW)
				break;
			for (int c = 0; c < 2; c++) {
				uint64_t v =
				    (uint64_t)sqlite3_column_int64(s, c);

				if (*n < GB_MAX_BASE &&
				    !has_version(must, *n, v))
					must[(*n)++] = v;
			}
		}
		db_stmt_done(s);
		if (rc != SQLITE_DONE)
			return db_sql_fail(db, _("cannot read the conflicts"),
					   err);
	}
	return 0;
}

/* Puts version r into history. */
static int history_add(struct gb_db *db, const struct gb_record *r,
		       struct gb_err *err)
{
	char bases[BASES_TEXT_LEN];
	sqlite3_stmt *s;

	if (make_body(db, r, err))
		return -1;
	s = stmt(db, S_HIST_ADD, err);
	if (!s)
		return -1;
	versions_text(r->base, (size_t)r->nbase, bases, sizeof(bases));
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->version);
	sqlite3_bind_text(s, 3, r->kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->staff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->updated_at);
	sqlite3_bind_int(s, 7, r->voided ? 1 : 0);
	db_bind_text(s, 8, r->voided ? r->void_reason : NULL);
	sqlite3_bind_text(s, 9, gb_buf_str(&db->body), (int)db->body.len,
			  SQLITE_STATIC);
	db_bind_text(s, 10, bases);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)r->resolves);
	return db_step_done(db, s, _("cannot keep the earlier version"), err);
}

/* Runs S_HIST_HAS or S_HIST_DEL for version r->version by r->device of
 * r->id.  For S_HIST_HAS returns 1 when history holds it, else 0. */
static int history_one(struct gb_db *db, enum stmt_id which,
		       const struct gb_record *r, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, which, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->version);
	sqlite3_bind_text(s, 3, r->device, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	db_stmt_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_sql_fail(db, _("cannot read the history"), err);
	return rc == SQLITE_ROW;
}

/* 1 when the record id has conflicts in field_conflict, else 0. */
static int has_conflicts(struct gb_db *db, const char *id, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_CONF_ANY, err);
	int rc, any = 0;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		any = sqlite3_column_int(s, 0);
	db_stmt_done(s);
	if (rc != SQLITE_ROW)
		return db_sql_fail(db, _("cannot read the conflicts"), err);
	return any;
}

/* The versions of one record read back for the merge; owned. */
struct vset {
	struct gb_record **rec;
	size_t n, cap;
};

static void vset_release(struct vset *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		gb_record_free(vs->rec[i]);
	free(vs->rec);
	memset(vs, 0, sizeof(*vs));
}

/* Reads the versions of record id (of kind k, row o) from history: every
 * one, or for a record edited more often than GB_MERGE_MAX_VERSIONS the
 * newest that many, which HQ merges too and which stand for what the
 * older ones could add. */
static int versions_load(struct gb_db *db, const struct gb_kind *k,
			 const char *id, const struct old_row *o,
			 struct vset *vs, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_HIST_ALL, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, GB_MERGE_MAX_VERSIONS);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		struct gb_record *r = gb_record_new(k);
		uint64_t *b;
		size_t nb;

		if (vs->n == vs->cap) {
			vs->cap = vs->cap ? vs->cap * 2 : 8;
			vs->rec = xrealloc(vs->rec, vs->cap * sizeof(*vs->rec));
		}
		vs->rec[vs->n++] = r;
		db_copy_str(r->id, sizeof(r->id), id);
		db_copy_str(r->grid, sizeof(r->grid), o->grid);
		r->created_at = o->created_at;
		r->version = (uint64_t)sqlite3_column_int64(s, 0);
		db_copy_str(r->device, sizeof(r->device), db_col_text(s, 1));
		db_copy_str(r->staff, sizeof(r->staff), db_col_text(s, 2));
		r->updated_at = sqlite3_column_int64(s, 3);
		r->voided = sqlite3_column_int(s, 4) != 0;
		if (r->voided && sqlite3_column_type(s, 5) != SQLITE_NULL)
			gb_record_set_void_reason(r, db_col_text(s, 5));
		db_versions_parse(db_col_text(s, 7), &b, &nb);
		for (size_t i = 0; i < nb && i < GB_MAX_BASE; i++)
			r->base[r->nbase++] = b[i];
		free(b);
		r->resolves = (uint32_t)sqlite3_column_int64(s, 8);
		if (db_body_parse(db, r, db_col_text(s, 6), err)) {
			db_stmt_done(s);
			return -1;
		}
	}
	db_stmt_done(s);
	if (rc != SQLITE_DONE)
		return db_sql_fail(db, _("cannot read the history"), err);
	return 0;
}

/* What field_conflict keeps as the value of field f of r (merge.h). */
static const char *side_value(const struct gb_record *r, int f)
{
	if (f < GB_MERGE_VOID)
		return r->val[f];
	if (!r->voided)
		return NULL;
	return r->void_reason ? r->void_reason : "";
}

static void bind_side(sqlite3_stmt *s, int i, const struct gb_record *r, int f)
{
	const char *v = side_value(r, f);

	sqlite3_bind_int64(s, i, (sqlite3_int64)r->version);
	sqlite3_bind_text(s, i + 1, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i + 2, r->staff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, i + 3, r->updated_at);
	if (v)
		sqlite3_bind_text(s, i + 4, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i + 4);
}

/* Writes the conflicts of merge m over the versions vs of record id
 * anew. */
static int conflicts_store(struct gb_db *db, const char *id,
			   const struct vset *vs, const struct gb_merge *m,
			   struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_CONF_DEL, err);

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (db_step_done(db, s, _("cannot save the conflicts"), err))
		return -1;
	for (size_t i = 0; i < m->nconf; i++) {
		const struct gb_conflict *c = &m->conf[i];
		const struct gb_record *kept = vs->rec[c->kept];

		s = stmt(db, S_CONF_ADD, err);
		if (!s)
			return -1;
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, conflict_field(kept->kind, c->field),
				  -1, SQLITE_STATIC);
		bind_side(s, 3, kept, c->field);
		bind_side(s, 8, vs->rec[c->lost], c->field);
		if (db_step_done(db, s, _("cannot save the conflicts"), err))
			return -1;
	}
	return 0;
}

/*
 * Makes the current row of record o (found) the merge of every version
 * held, v (new, just stamped) among them: the row moves to history when
 * it is one version, v goes there too, and common/merge.c computes the
 * record, its heads and its conflicts from all of them.  When one version
 * saw every other and no conflict is left, the row is that version again
 * (heads NULL) and it leaves history.  *changed is 0 when the row is what
 * it was.
 */
static int record_remerge(struct gb_db *db, const struct gb_kind *k,
			  const char *id, const struct old_row *o, int *changed,
			  struct gb_err *err);

static int record_merge(struct gb_db *db, const struct gb_record *v,
			const struct old_row *o, int *changed,
			struct gb_err *err)
{
	*changed = 0;
	if (history_move(db, v->id, err) || history_add(db, v, err))
		return -1;
	return record_remerge(db, v->kind, v->id, o, changed, err);
}

/* record_merge once the versions are all in history: the current row of
 * record id (of kind k, row o) made anew from them. */
static int record_remerge(struct gb_db *db, const struct gb_kind *k,
			  const char *id, const struct old_row *o, int *changed,
			  struct gb_err *err)
{
	struct vset vs = {0};
	struct gb_version *gv = NULL;
	struct gb_merge m;
	struct gb_buf heads;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	gb_buf_init(&heads, GB_BUF_NOLIMIT);
	*changed = 0;
	if (versions_load(db, k, id, o, &vs, err))
		goto out;
	gv = xcalloc(vs.n ? vs.n : 1, sizeof(*gv));
	for (size_t i = 0; i < vs.n; i++) {
		gv[i].rec = vs.rec[i];
		gv[i].base = vs.rec[i]->base;
		gv[i].nbase = (size_t)vs.rec[i]->nbase;
		gv[i].base_known = vs.rec[i]->nbase > 0;
		gv[i].resolves = vs.rec[i]->resolves;
	}
	if (gb_merge(gv, vs.n, &m, err)) {
		gb_error_prefix(err, _("record %s"), id);
		goto out;
	}
	if (m.nheads == 1 && m.nconf == 0) {
		/* One version saw all the others: it is the record.  The
		 * merged copy is that version with its bases. */
		const struct gb_record *h = vs.rec[m.heads[0]];

		if (write_current(db, S_REC_PUT, m.rec, NULL, err) ||
		    history_one(db, S_HIST_DEL, h, err) < 0)
			goto out;
		*changed = o->merged || h->version != o->version ||
			   strcmp(h->device, o->device) != 0;
	} else {
		/* In HLC order; two heads of one version (two devices) are
		 * one base, as a base names a version only. */
		for (size_t i = 0; i < m.nheads; i++) {
			uint64_t hv = vs.rec[m.heads[i]]->version;

			if (i && hv == vs.rec[m.heads[i - 1]]->version)
				continue;
			if (gb_buf_addf(&heads, err, "%s%" PRIu64, i ? " " : "",
					hv))
				goto out;
		}
		if (write_current(db, S_REC_PUT, m.rec, gb_buf_str(&heads),
				  err))
			goto out;
		*changed = 1;
	}
	if (conflicts_store(db, id, &vs, &m, err))
		goto out;
	if (*changed && strcmp(k->name, "enterprise") == 0 &&
	    enterprise_moved(db, m.rec, o->community, err))
		goto out;
	rc = 0;
out:
	gb_buf_release(&heads);
	gb_merge_release(&m);
	free(gv);
	vset_release(&vs);
	return rc;
}

/*
 * Makes v, a new version of the record whose row is o (found or not),
 * part of the grid file; writes no change-log entry.  The quick way,
 * which is what the merge gives then: a version that saw every head (it
 * names them all as bases, or names none and is newer than all) and is
 * newer than them, of a record with no conflict, simply becomes the row.
 * Anything else is merged (record_merge).  *changed is 1 when the row was
 * written anew.
 */
static int version_settle(struct gb_db *db, const struct gb_record *v,
			  const struct old_row *o, int *changed,
			  struct gb_err *err)
{
	int quick = 1;

	*changed = 0;
	if (o->found) {
		for (size_t i = 0; i < o->nheads && quick; i++)
			quick = o->heads[i] < v->version &&
				(v->nbase == 0 ||
				 has_version(v->base, (size_t)v->nbase,
					     o->heads[i]));
		if (quick && o->merged) {
			int any = has_conflicts(db, v->id, err);

			if (any < 0)
				return -1;
			quick = !any;
		}
		if (!quick)
			return record_merge(db, v, o, changed, err);
		if (history_move(db, v->id, err))
			return -1;
	}
	if (write_current(db, S_REC_PUT, v, NULL, err))
		return -1;
	*changed = 1;
	if (strcmp(v->kind->name, "enterprise") == 0 &&
	    enterprise_moved(db, v, o->community, err))
		return -1;
	return 0;
}

int db_record_insert(struct gb_db *db, struct gb_record *r, struct gb_err *err)
{
	enum txn_mode mode;
	int64_t now;
	int rc = -1;

	if (!r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (db_txn_enter(db, &mode, err))
		return -1;
	now = gb_now_ms();
	if (!r->id[0])
		gb_uuid7(&db->ids, now, r->id);
	db_copy_str(r->grid, sizeof(r->grid), db->grid);
	db_copy_str(r->device, sizeof(r->device), db->device);
	db_copy_str(r->staff, sizeof(r->staff), db->staff);
	r->created_at = now;
	r->updated_at = now;
	if (db_hlc_next(db, now, &r->version, err))
		goto out;
	/* A new record rests on nothing. */
	r->nbase = 0;
	r->resolves = 0;
	if (write_current(db, S_REC_INSERT, r, NULL, err) ||
	    outbox_append(db, r, err))
		goto out;
	if (strcmp(r->kind->name, "enterprise") == 0)
		db->ent_gen++;
	rc = 0;
out:
	return db_txn_leave(db, mode, rc, err);
}

/* db_record_update and db_record_resolve: r resolves the conflicts of the
 * fields of resolves. */
static int record_edit(struct gb_db *db, struct gb_record *r, uint32_t resolves,
		       struct gb_err *err)
{
	uint64_t must[GB_MAX_BASE];
	struct old_row o;
	enum txn_mode mode;
	size_t nmust;
	int64_t now;
	int rc = -1, changed;

	if (!r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (db_txn_enter(db, &mode, err))
		return -1;
	if (old_row_get(db, r->id, &o, err))
		goto out;
	if (!o.found) {
		gb_error(err, GB_ENOTFOUND, _("no record with id %s"), r->id);
		goto out;
	}
	if (strcmp(o.kind, r->kind->name) != 0) {
		gb_error(err, GB_EINVAL, _("record %s is of kind %s, not %s"),
			 r->id, o.kind, r->kind->name);
		goto out;
	}
	r->resolves = resolves;
	if (resolved_versions(db, r, must, &nmust, err))
		goto out;
	bases_pick(r, &o, must, nmust);
	now = gb_now_ms();
	if (db_hlc_next(db, now, &r->version, err))
		goto out;
	db_copy_str(r->grid, sizeof(r->grid), o.grid);
	db_copy_str(r->device, sizeof(r->device), db->device);
	db_copy_str(r->staff, sizeof(r->staff), db->staff);
	r->created_at = o.created_at;
	r->updated_at = now;
	if (!r->voided)
		gb_record_set_void_reason(r, NULL);
	if (version_settle(db, r, &o, &changed, err) ||
	    outbox_append(db, r, err))
		goto out;
	rc = 0;
out:
	old_row_release(&o);
	return db_txn_leave(db, mode, rc, err);
}

int db_record_update(struct gb_db *db, struct gb_record *r, struct gb_err *err)
{
	return record_edit(db, r, 0, err);
}

int db_record_resolve(struct gb_db *db, struct gb_record *r, uint32_t resolves,
		      struct gb_err *err)
{
	uint32_t known = GB_RESOLVES_VOID;

	if (r->kind)
		known |= (1u << r->kind->nfields) - 1;
	if (!resolves || (resolves & ~known))
		return gb_error(err, GB_EUSAGE,
				"resolves 0x%x names no field of the record",
				(unsigned)resolves);
	return record_edit(db, r, resolves, err);
}

/*
 * Stores r, a version from elsewhere, as the row of a record the file
 * does not hold: 1 when it did so, 0 (nothing written) when the file
 * holds a record of r's id, -1 on failure.  This is what version_settle
 * makes of a version of a record not found, without reading the row
 * first: most versions a pull brings are of new records, and that read
 * was about a tenth of storing one.
 */
static int remote_new(struct gb_db *db, const struct gb_record *r,
		      struct gb_err *err)
{
	struct gb_err e;

	if (write_current(db, S_REC_INSERT, r, NULL, &e)) {
		if (e.code == GB_EEXIST)
			return 0;
		*err = e;
		return -1;
	}
	if (strcmp(r->kind->name, "enterprise") == 0 &&
	    enterprise_moved(db, r, "", err))
		return -1;
	return 1;
}

/* Makes r, a version from elsewhere of a record the file holds, part of
 * it: nothing when the version is held already, else version_settle.
 * *applied is 1 when the row was written anew. */
static int remote_held(struct gb_db *db, const struct gb_record *r,
		       int *applied, struct gb_err *err)
{
	struct old_row o;
	int rc = -1, held = 0;

	if (old_row_get(db, r->id, &o, err))
		goto out;
	if (o.found && strcmp(o.kind, r->kind->name) != 0) {
		gb_error(err, GB_ECONFLICT,
			 _("record %s is of kind %s here, not %s"), r->id,
			 o.kind, r->kind->name);
		goto out;
	}
	/* A version held already (delivered twice) changes nothing.  One
	 * newer than every head is not held: a version held is a head or
	 * was seen by one, and a version sees only lower ones. */
	if (o.found) {
		int newest = 1;

		for (size_t i = 0; i < o.nheads && newest; i++)
			newest = r->version > o.heads[i];
		held = !o.merged && r->version == o.version &&
		       strcmp(r->device, o.device) == 0;
		if (!held && !newest) {
			held = history_one(db, S_HIST_HAS, r, err);
			if (held < 0)
				goto out;
		}
	}
	if (!held && version_settle(db, r, &o, applied, err))
		goto out;
	rc = 0;
out:
	old_row_release(&o);
	return rc;
}

int db_record_put_remote(struct gb_db *db, const struct gb_record *r,
			 int *applied, struct gb_err *err)
{
	enum txn_mode mode;
	int rc = -1, added;

	*applied = 0;
	if (!r->kind)
		return gb_error(err, GB_EINTERNAL, "record without a kind");
	if (!gb_uuid_valid(r->id))
		return gb_error(err, GB_EPROTO, _("bad record id \"%s\""),
				r->id);
	/* Stored, it would turn negative (SQLite INTEGER is signed) and
	 * sort before every version: not taken, and counted as refused. */
	if (r->version > (uint64_t)GB_HLC_MAX)
		return gb_error(err, GB_EINVAL,
				_("record %s: version %" PRIu64 " is 2^63 or "
				  "more (a version stays below %" PRIu64 ")"),
				r->id, r->version, (uint64_t)GB_HLC_MAX + 1);
	if (db_txn_enter(db, &mode, err))
		return -1;
	added = remote_new(db, r, err);
	if (added < 0 || (!added && remote_held(db, r, applied, err)))
		goto out;
	if (added)
		*applied = 1;
	/* Later local edits must be newer than anything seen, but a
	 * version out of the bounds of this laptop's clock is kept without
	 * moving the clock (gb_hlc_merge): it is HQ's to hold and `gridbook
	 * check` names it, while one clock far ahead must not carry every
	 * laptop of the grid along. */
	{
		uint64_t merged =
		    gb_hlc_merge(db->hlc, r->version, gb_now_ms());

		if (merged != db->hlc) {
			db->hlc = merged;
			db->hlc_dirty = 1;
		}
	}
	rc = 0;
out:
	if (rc)
		*applied = 0;
	return db_txn_leave(db, mode, rc, err);
}

/*
 * Replaces version old by the number to in the bases of every version of
 * record id that names it: the rows of history and the current row when
 * it is one version.
 */
static int bases_renumber(struct gb_db *db, const char *id, uint64_t old,
			  uint64_t to, struct gb_err *err)
{
	static const char *const sel[] = {
	    "SELECT version, device, bases FROM record_history WHERE id = ?1 "
	    "AND bases IS NOT NULL",
	    "SELECT version, device, bases FROM record WHERE id = ?1 AND "
	    "bases IS NOT NULL AND heads IS NULL",
	};
	static const char *const upd[] = {
	    "UPDATE record_history SET bases = ?4 WHERE id = ?1 AND "
	    "version = ?2 AND device = ?3",
	    "UPDATE record SET bases = ?4 WHERE id = ?1 AND version = ?2 AND "
	    "device = ?3",
	};
	const char *what = _("cannot re-stamp a record");
	sqlite3_stmt *s = NULL, *u = NULL;
	int rc = -1, step;

	for (int t = 0; t < 2; t++) {
		if (sqlite3_prepare_v2(db->sq, sel[t], -1, &s, NULL) !=
			SQLITE_OK ||
		    sqlite3_prepare_v2(db->sq, upd[t], -1, &u, NULL) !=
			SQLITE_OK) {
			db_sql_fail(db, what, err);
			goto out;
		}
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		for (;;) {
			step = sqlite3_step(s);
			if (step != SQLITE_ROW)
				break;
			char text[BASES_TEXT_LEN];
			uint64_t *b;
			size_t nb;
			int hit = 0;

			db_versions_parse(db_col_text(s, 2), &b, &nb);
			for (size_t i = 0; i < nb; i++)
				if (b[i] == old) {
					b[i] = to;
					hit = 1;
				}
			if (hit) {
				qsort(b, nb, sizeof(*b), cmp_u64);
				versions_text(
				    b, nb < GB_MAX_BASE ? nb : GB_MAX_BASE,
				    text, sizeof(text));
				sqlite3_bind_text(u, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_int64(u, 2,
						   sqlite3_column_int64(s, 0));
				sqlite3_bind_text(u, 3, db_col_text(s, 1), -1,
						  SQLITE_STATIC);
				sqlite3_bind_text(u, 4, text, -1,
						  SQLITE_STATIC);
				step = sqlite3_step(u);
				sqlite3_reset(u);
				sqlite3_clear_bindings(u);
			}
			free(b);
			if (hit && step != SQLITE_DONE) {
				db_sql_fail(db, what, err);
				goto out;
			}
		}
		if (step != SQLITE_DONE) {
			db_sql_fail(db, what, err);
			goto out;
		}
		sqlite3_finalize(s);
		sqlite3_finalize(u);
		s = u = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

int db_version_renumber(struct gb_db *db, const char *id, uint64_t old,
			uint64_t to, int64_t updated_at, struct gb_err *err)
{
	static const char *const sql[] = {
	    "UPDATE record SET version = ?1, updated_at = ?2 WHERE id = ?3 "
	    "AND version = ?4 AND device = ?5 AND heads IS NULL",
	    "UPDATE record_history SET version = ?1, updated_at = ?2 WHERE "
	    "id = ?3 AND version = ?4 AND device = ?5",
	};
	const char *what = _("cannot re-stamp a record");
	const struct gb_kind *k;
	struct old_row o;
	enum txn_mode mode;
	int rc = -1, found = 0, changed;

	memset(&o, 0, sizeof(o));
	if (db_txn_enter(db, &mode, err))
		return -1;
	for (size_t i = 0; i < 2 && !found; i++) {
		sqlite3_stmt *s = NULL;

		if (sqlite3_prepare_v2(db->sq, sql[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			db_sql_fail(db, what, err);
			goto out;
		}
		sqlite3_bind_int64(s, 1, (sqlite3_int64)to);
		sqlite3_bind_int64(s, 2, updated_at);
		sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)old);
		sqlite3_bind_text(s, 5, db->device, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			db_sql_fail(db, what, err);
			sqlite3_finalize(s);
			goto out;
		}
		found = sqlite3_changes(db->sq) > 0;
		sqlite3_finalize(s);
	}
	if (!found) {
		rc = 1;
		goto out;
	}
	/* The versions made from it name it anew, and the record is merged
	 * again: its heads, its order and its conflicts follow. */
	if (bases_renumber(db, id, old, to, err) ||
	    old_row_get(db, id, &o, err))
		goto out;
	k = gb_kind_find(o.kind);
	if (!o.found || !k) {
		gb_error(err, GB_EDB, _("no record with id %s"), id);
		goto out;
	}
	if (history_move(db, id, err) ||
	    record_remerge(db, k, id, &o, &changed, err))
		goto out;
	rc = 0;
out:
	old_row_release(&o);
	return db_txn_leave(db, mode, rc < 0 ? -1 : 0, err) < 0 ? -1 : rc;
}

/* ---- reading records ---------------------------------------------------- */

/*
 * Makes a record, values still empty, of the current row of s, whose
 * first ten columns are those of REC_COLS.  Caller frees *out.
 */
static int row_header(sqlite3_stmt *s, struct gb_record **out,
		      struct gb_err *err)
{
	const char *kname = db_col_text(s, 1);
	const struct gb_kind *k = gb_kind_find(kname);
	struct gb_record *r;

	*out = NULL;
	if (!k)
		return gb_error(err, GB_EDB,
				_("record %s has a kind this gridbook does "
				  "not know: %s"),
				db_col_text(s, 0), kname);
	r = gb_record_new(k);
	db_copy_str(r->id, sizeof(r->id), db_col_text(s, 0));
	db_copy_str(r->grid, sizeof(r->grid), db_col_text(s, 2));
	db_copy_str(r->device, sizeof(r->device), db_col_text(s, 3));
	db_copy_str(r->staff, sizeof(r->staff), db_col_text(s, 4));
	r->created_at = sqlite3_column_int64(s, 5);
	r->updated_at = sqlite3_column_int64(s, 6);
	r->version = (uint64_t)sqlite3_column_int64(s, 7);
	r->voided = sqlite3_column_int(s, 8) != 0;
	if (sqlite3_column_type(s, 9) != SQLITE_NULL)
		gb_record_set_void_reason(r, db_col_text(s, 9));
	*out = r;
	return 0;
}

/*
 * Makes a record of the current row of s, whose columns are REC_COLS:
 * its values, and the bases and resolves of the version it is (none for
 * a merged row).  Caller frees *out.
 */
static int row_record(struct gb_db *db, sqlite3_stmt *s, struct gb_record **out,
		      struct gb_err *err)
{
	uint64_t *b;
	size_t nb;

	if (row_header(s, out, err))
		return -1;
	if (db_body_parse(db, *out, db_col_text(s, 10), err)) {
		gb_record_free(*out);
		*out = NULL;
		return -1;
	}
	db_versions_parse(db_col_text(s, 11), &b, &nb);
	for (size_t i = 0; i < nb && i < GB_MAX_BASE; i++)
		(*out)->base[(*out)->nbase++] = b[i];
	free(b);
	(*out)->resolves = (uint32_t)sqlite3_column_int64(s, 12);
	return 0;
}

int db_looks_like_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

int db_record_find(struct gb_db *db, const struct gb_kind *kind,
		   const char *input, char *full, int *wrong_kind,
		   struct gb_err *err)
{
	char lo[GB_ID_LEN], hi[GB_ID_LEN], cand[MAX_CANDIDATES][GB_ID_LEN];
	char other[32] = "";
	size_t len = strlen(input);
	sqlite3_stmt *s;
	int n = 0, rc, pass;

	if (wrong_kind)
		*wrong_kind = 0;

	if (len >= GB_ID_LEN || !db_looks_like_id(input))
		return gb_error(err, GB_ENOTFOUND, _("no record with id %s"),
				input);
	if (len < MIN_ID_PREFIX)
		return gb_error(err, GB_ENOTFOUND,
				_("id prefix %s is too short (give at least "
				  "%d characters)"),
				input, MIN_ID_PREFIX);
	for (size_t i = 0; i <= len; i++)
		lo[i] = (char)tolower((unsigned char)input[i]);
	/* Every id starting with lo sorts in [lo, hi). */
	memcpy(hi, lo, len + 1);
	hi[len - 1]++;
	s = stmt(db, S_REC_PREFIX, err);
	if (!s)
		return -1;
	/* First among the kind asked for; then, to say what it is, any. */
	for (pass = 0; pass < 2 && n == 0; pass++) {
		if (pass == 1 && !kind)
			break;
		sqlite3_bind_text(s, 1, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, hi, -1, SQLITE_STATIC);
		if (pass == 0 && kind)
			sqlite3_bind_text(s, 3, kind->name, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 3);
		for (;;) {
			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW)
				break;
			if (pass == 1) {
				db_copy_str(other, sizeof(other),
					    db_col_text(s, 1));
				db_copy_str(cand[0], GB_ID_LEN,
					    db_col_text(s, 0));
				break;
			}
			if (n < MAX_CANDIDATES)
				db_copy_str(cand[n], GB_ID_LEN,
					    db_col_text(s, 0));
			n++;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			db_sql_fail(db, _("cannot look up a record"), err);
			db_stmt_done(s);
			return -1;
		}
		db_stmt_done(s);
	}
	if (n == 1) {
		db_copy_str(full, GB_ID_LEN, cand[0]);
		return 0;
	}
	if (wrong_kind)
		*wrong_kind = n == 0 && other[0];
	if (n == 0 && other[0])
		return gb_error(err, GB_ENOTFOUND,
				_("record %s is of kind %s, not %s"), cand[0],
				other, kind->name);
	if (n == 0)
		return gb_error(err, GB_ENOTFOUND,
				len == GB_ID_LEN - 1
				    ? _("no record with id %s")
				    : _("no record with an id starting "
					"with %s"),
				input);
	{
		char list[MAX_CANDIDATES * (GB_ID_LEN + 2)] = "";
		size_t off = 0;

		for (int i = 0; i < n && i < MAX_CANDIDATES; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
						"%s%s", i ? ", " : "", cand[i]);
		return gb_error(err, GB_EAMBIGUOUS,
				_("id prefix %s matches more than one record: "
				  "%s%s"),
				input, list, n > MAX_CANDIDATES ? ", ..." : "");
	}
}

int db_record_get(struct gb_db *db, const struct gb_kind *kind, const char *id,
		  struct gb_record **out, struct gb_err *err)
{
	char full[GB_ID_LEN];
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if (db_record_find(db, kind, id, full, NULL, err))
		return -1;
	s = stmt(db, S_REC_GET, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, full, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* The body must be read before s moves on. */
		rc = row_record(db, s, out, err);
	} else if (rc == SQLITE_DONE) {
		rc = gb_error(err, GB_ENOTFOUND, _("no record with id %s"),
			      full);
	} else {
		rc = db_sql_fail(db, _("cannot read the record"), err);
	}
	db_stmt_done(s);
	return rc;
}

/*
 * Runs a statement prepared by the caller whose rows have the columns
 * REC_COLS and calls cb with each as a record.  The statement is not a
 * cached one, so cb may use the handle freely.  Returns 0, or -1 (err
 * untouched when cb stopped).
 */
static int each_row(struct gb_db *db, sqlite3_stmt *s,
		    int (*cb)(void *arg, const struct gb_record *r), void *arg,
		    struct gb_err *err)
{
	struct gb_record *r;
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (row_record(db, s, &r, err))
			return -1;
		rc = cb(arg, r);
		gb_record_free(r);
		if (rc)
			return -1;
	}
	if (rc != SQLITE_DONE)
		return db_sql_fail(db, _("cannot read the records"), err);
	return 0;
}

int db_record_history(struct gb_db *db, const char *id,
		      int (*cb)(void *arg, const struct gb_record *r),
		      void *arg, struct gb_err *err)
{
	static const char hist_sql[] =
	    "SELECT h.id, h.kind, r.grid, h.device, h.staff, "
	    "r.created_at, h.updated_at, h.version, h.voided, "
	    "h.void_reason, h.body, h.bases, h.resolves FROM "
	    "record_history h JOIN record r "
	    "ON r.id = h.id WHERE h.id = ?1 ORDER BY h.version, h.device";
	/* A merged row is no version: its versions are all in history. */
	static const char cur_sql[] =
	    "SELECT " REC_COLS " FROM record WHERE id = ?1 AND heads IS NULL";
	const char *sqls[] = {hist_sql, cur_sql};
	char full[GB_ID_LEN];
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (db_record_find(db, NULL, id, full, NULL, err))
		return -1;
	for (int i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(db->sq, sqls[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			db_sql_fail(db, _("cannot read the history"), err);
			goto out;
		}
		sqlite3_bind_text(s, 1, full, -1, SQLITE_STATIC);
		if (each_row(db, s, cb, arg, err))
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int db_kind_has_state(const struct gb_kind *kind, enum db_state st)
{
	if (kind->hook == GB_HOOK_REQUEST)
		return st != DB_STATE_ANY;
	if (kind->hook == GB_HOOK_CHECK)
		return st == DB_STATE_OVERDUE;
	return 0;
}

/*
 * The condition of a derived state; ?8 is now (ms UTC), ?9 today's local
 * date.  An overdue order is HQ's (server/reports.c, rectification): an
 * order with a deadline before today and no rectified follow-up dated
 * today or earlier; an overdue request is open with its deadline before
 * now (sync-health and the requests report say "open past deadline").
 */
static const char *state_cond(const struct gb_kind *kind, enum db_state st)
{
	if (kind->hook == GB_HOOK_CHECK)
		return " AND status = 'rectify_order' AND "
		       "json_extract(body, '$.deadline') < ?9 AND NOT EXISTS "
		       "(SELECT 1 FROM record f WHERE f.kind = "
		       "'rectification' AND f.voided = 0 AND f.status = "
		       "'rectified' AND json_extract(f.body, '$.check') = "
		       "record.id AND f.day <= ?9)";
	switch (st) {
	case DB_STATE_OPEN:
		return " AND json_extract(body, '$.resolved_at') IS NULL";
	case DB_STATE_RESOLVED:
		return " AND json_extract(body, '$.resolved_at') IS NOT NULL";
	case DB_STATE_OVERDUE:
		return " AND json_extract(body, '$.resolved_at') IS NULL AND "
		       "CAST(json_extract(body, '$.deadline') AS INTEGER) < ?8";
	case DB_STATE_ANY:
		break;
	}
	return "";
}

int db_count_entered(struct gb_db *db, int64_t from, int64_t to,
		     void (*cb)(void *arg, const char *kind, long n), void *arg,
		     struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->sq,
			       "SELECT kind, count(*) FROM record WHERE "
			       "created_at >= ?1 AND created_at < ?2 AND "
			       "voided = 0 GROUP BY kind ORDER BY kind",
			       -1, &s, NULL) != SQLITE_OK)
		return db_sql_fail(db, _("cannot count records"), err);
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		cb(arg, db_col_text(s, 0), (long)sqlite3_column_int64(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_sql_fail(db, _("cannot count records"), err);
	return 0;
}

/*
 * The records come in the order of the index on (kind, day) and the id,
 * one at a time; each record's values are read by a second, prepared
 * statement over json_each() (see row_record).  A single statement
 * joining json_each() was measured slower: it decodes the record's
 * columns again for every value.
 */
int db_record_list(struct gb_db *db, const struct gb_kind *kind,
		   const struct db_filter *f,
		   int (*cb)(void *arg, const struct gb_record *r), void *arg,
		   struct gb_err *err)
{
	/* The filters in the order of their parameters ?2 ... ?6. */
	static const char *const conds[] = {
	    " AND day >= ?2",	" AND day <= ?3",   " AND community = ?4",
	    " AND person = ?5", " AND status = ?6",
	};
	const char *vals[5] = {NULL};
	struct gb_buf sql, outer;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	gb_buf_init(&sql, GB_BUF_NOLIMIT);
	gb_buf_init(&outer, GB_BUF_NOLIMIT);
	if (f) {
		/* A kind without a date field has no day to filter on. */
		if (kind->date_field) {
			vals[0] = f->from;
			vals[1] = f->to;
		}
		vals[2] = f->community;
		vals[3] = f->staff;
		vals[4] = f->status;
	}
	/* sort_day, after the columns each_row reads, orders the outer
	 * query of a limit. */
	if (gb_buf_adds(&sql,
			"SELECT " REC_COLS ", day AS sort_day FROM record "
			"WHERE kind = ?1",
			err))
		goto out;
	for (int i = 0; i < 5; i++)
		if (vals[i] && gb_buf_adds(&sql, conds[i], err))
			goto out;
	if ((!f || !f->with_voided) &&
	    gb_buf_adds(&sql, " AND voided = 0", err))
		goto out;
	if (f && f->state && db_kind_has_state(kind, f->state) &&
	    gb_buf_adds(&sql, state_cond(kind, f->state), err))
		goto out;
	/* A limit keeps the newest records, shown oldest first. */
	if (f && f->limit > 0) {
		if (gb_buf_adds(&sql, " ORDER BY day DESC, id DESC LIMIT ?7",
				err))
			goto out;
		gb_buf_reset(&outer);
		if (gb_buf_adds(&outer, "SELECT * FROM (", err) ||
		    gb_buf_adds(&outer, gb_buf_str(&sql), err) ||
		    gb_buf_adds(&outer, ") ORDER BY sort_day, id", err))
			goto out;
		gb_buf_reset(&sql);
		if (gb_buf_adds(&sql, gb_buf_str(&outer), err))
			goto out;
	} else if (gb_buf_adds(&sql, " ORDER BY day, id LIMIT ?7", err)) {
		goto out;
	}
	if (sqlite3_prepare_v2(db->sq, gb_buf_str(&sql), -1, &s, NULL) !=
	    SQLITE_OK) {
		db_sql_fail(db, _("cannot list records"), err);
		goto out;
	}
	sqlite3_bind_text(s, 1, kind->name, -1, SQLITE_STATIC);
	for (int i = 0; i < 5; i++)
		if (vals[i])
			sqlite3_bind_text(s, i + 2, vals[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, f && f->limit > 0 ? f->limit : -1);
	if (f && f->state) {
		char today[16];

		gb_date_format(gb_local_day(f->now), today);
		sqlite3_bind_int64(s, 8, f->now);
		sqlite3_bind_text(s, 9, today, -1, SQLITE_TRANSIENT);
	}
	rc = each_row(db, s, cb, arg, err);
out:
	sqlite3_finalize(s);
	gb_buf_release(&outer);
	gb_buf_release(&sql);
	return rc;
}

/* The column of table record that holds field name of k as it is, or
 * NULL. */
static const char *key_column(const struct gb_kind *k, const char *name)
{
	int i = gb_kind_field(k, name);

	if (k->date_field && !strcmp(name, k->date_field) && i >= 0 &&
	    k->fields[i].type == GB_T_DATE)
		return "day";
	if (k->staff_field && !strcmp(name, k->staff_field))
		return "person";
	return NULL;
}

int db_record_find_key(struct gb_db *db, const struct gb_record *r, char *id,
		       struct gb_err *err)
{
	const struct gb_unique *u = &r->kind->unique;
	size_t k = (size_t)(r->kind - gb_kinds);
	sqlite3_stmt *s;
	int rc, n;

	if (u->mode == GB_UNIQUE_NONE)
		return 0;
	for (n = 0; n < 3 && u->key[n]; n++)
		if (!gb_record_get(r, u->key[n]))
			return 0;
	if (k >= DB_KEY_STMT_MAX)
		return gb_error(err, GB_EINTERNAL, "db: kind %s past %d",
				r->kind->name, DB_KEY_STMT_MAX);
	/* One statement a kind, kept once prepared: an import asks once a
	 * line. */
	if (!db->key_st[k]) {
		struct gb_buf sql;

		gb_buf_init(&sql, GB_BUF_NOLIMIT);
		gb_buf_adds(
		    &sql,
		    "SELECT id FROM record WHERE kind = ?1 AND voided = "
		    "0 AND id <> ?2",
		    NULL);
		for (int i = 0; i < n; i++) {
			/* The columns copied out of body are indexed with
			 * kind: the date (when a DATE) and the staff
			 * member. */
			if (key_column(r->kind, u->key[i]))
				gb_buf_addf(&sql, NULL, " AND %s = ?%d",
					    key_column(r->kind, u->key[i]),
					    4 + 2 * i);
			else
				gb_buf_addf(&sql, NULL,
					    " AND CAST(json_extract(body, "
					    "?%d) AS TEXT) = ?%d",
					    3 + 2 * i, 4 + 2 * i);
		}
		gb_buf_adds(&sql, " ORDER BY id LIMIT 1", NULL);
		rc = db_prep(db, gb_buf_str(&sql), &db->key_st[k],
			     _("cannot look up a record"), err);
		gb_buf_release(&sql);
		if (rc)
			return -1;
	}
	s = db->key_st[k];
	sqlite3_bind_text(s, 1, r->kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "$.%s", u->key[i]);
		sqlite3_bind_text(s, 3 + 2 * i, path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4 + 2 * i, gb_record_get(r, u->key[i]), -1,
				  SQLITE_STATIC);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		db_copy_str(id, GB_ID_LEN, db_col_text(s, 0));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_sql_fail(db, _("cannot look up a record"), err);
	}
	db_stmt_done(s);
	return rc;
}

/* ---- conflicts ---------------------------------------------------------- */

int db_conflict_count(struct gb_db *db, long *n, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	*n = 0;
	if (sqlite3_prepare_v2(db->sq,
			       "SELECT count(*) FROM (SELECT DISTINCT id, "
			       "field FROM field_conflict)",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		db_sql_fail(db, _("cannot read the conflicts"), err);
		goto out;
	}
	*n = (long)sqlite3_column_int64(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Side c of a conflict from columns i..i+4 of s (borrowed from s). */
static void conflict_side(sqlite3_stmt *s, int i, struct db_conflict_side *c)
{
	c->version = (uint64_t)sqlite3_column_int64(s, i);
	db_copy_str(c->device, sizeof(c->device), db_col_text(s, i + 1));
	db_copy_str(c->staff, sizeof(c->staff), db_col_text(s, i + 2));
	c->at = sqlite3_column_int64(s, i + 3);
	c->value = sqlite3_column_type(s, i + 4) == SQLITE_NULL
		       ? NULL
		       : db_col_text(s, i + 4);
}

int db_conflict_list(struct gb_db *db, const char *id, const char *field,
		     int (*cb)(void *arg, const struct db_conflict *c),
		     void *arg, struct gb_err *err)
{
	static const char sql[] =
	    "SELECT c.id, r.kind, r.title, c.field, c.kept_version, "
	    "c.kept_device, c.kept_staff, c.kept_at, c.kept_value, "
	    "c.lost_version, c.lost_device, c.lost_staff, c.lost_at, "
	    "c.lost_value FROM field_conflict c JOIN record r ON r.id = c.id "
	    "WHERE (?1 IS NULL OR c.id = ?1) AND (?2 IS NULL OR c.field = ?2) "
	    "ORDER BY c.id, c.field, c.lost_version, c.lost_device";
	sqlite3_stmt *s = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK) {
		db_sql_fail(db, _("cannot read the conflicts"), err);
		goto out;
	}
	db_bind_text(s, 1, id);
	db_bind_text(s, 2, field);
	for (;;) {
		step = sqlite3_step(s);
		if (step != SQLITE_ROW)
			break;
		struct db_conflict c;
		const char *fname = db_col_text(s, 3);

		memset(&c, 0, sizeof(c));
		db_copy_str(c.id, sizeof(c.id), db_col_text(s, 0));
		c.kind = gb_kind_find(db_col_text(s, 1));
		if (!c.kind)
			continue;
		c.title = sqlite3_column_type(s, 2) == SQLITE_NULL
			      ? NULL
			      : db_col_text(s, 2);
		if (strcmp(fname, DB_FIELD_VOID) == 0) {
			c.field = GB_MERGE_VOID;
			c.field_name = DB_FIELD_VOID;
		} else {
			c.field = gb_kind_field(c.kind, fname);
			if (c.field < 0)
				continue;
			c.field_name = c.kind->fields[c.field].name;
		}
		conflict_side(s, 4, &c.kept);
		conflict_side(s, 9, &c.lost);
		if (cb(arg, &c))
			goto out;
	}
	if (step != SQLITE_DONE) {
		db_sql_fail(db, _("cannot read the conflicts"), err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* ---- clock bounds ------------------------------------------------------- */

/* The largest version whose time part is at most ms (ms >= 0). */
static uint64_t version_ceiling(int64_t ms)
{
	if (ms >= INT64_C(1) << 47)
		return (uint64_t)GB_HLC_MAX;
	return ((uint64_t)(ms + 1) << 16) - 1;
}

int db_versions_out_of_bounds(struct gb_db *db, int64_t now_ms,
			      struct db_bad_version **out, size_t *n,
			      struct gb_err *err)
{
	/* Stored negative is 2^63 or more, written before the bounds. */
	static const char sql[] =
	    "SELECT id, device, version, 1 FROM record "
	    "WHERE version < ?1 OR version > ?2 "
	    "UNION ALL SELECT id, device, version, 0 FROM record_history "
	    "WHERE version < ?1 OR version > ?2 ORDER BY 1, 3";
	sqlite3_stmt *s = NULL;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK)
		return db_sql_fail(db, _("cannot read the versions"), err);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(GB_HLC_MIN_MS << 16));
	sqlite3_bind_int64(s, 2,
			   (sqlite3_int64)version_ceiling(
			       now_ms < 0 ? 0 : now_ms + GB_HLC_AHEAD_MS));
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		struct db_bad_version *b;

		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			*out = xrealloc(*out, alloc * sizeof(**out));
		}
		b = &(*out)[(*n)++];
		db_copy_str(b->id, sizeof(b->id), db_col_text(s, 0));
		db_copy_str(b->device, sizeof(b->device), db_col_text(s, 1));
		b->version = (uint64_t)sqlite3_column_int64(s, 2);
		b->current = sqlite3_column_int(s, 3);
		b->bound = gb_hlc_bounds(b->version, now_ms);
	}
	if (rc != SQLITE_DONE) {
		db_sql_fail(db, _("cannot read the versions"), err);
		sqlite3_finalize(s);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int db_clock_rewind(struct gb_db *db, int64_t limit_ms, struct gb_err *err)
{
	static const char sql[] =
	    "SELECT max(v) FROM (SELECT max(version) AS v FROM record "
	    "WHERE version BETWEEN 0 AND ?1 UNION ALL SELECT max(version) "
	    "FROM record_history WHERE version BETWEEN 0 AND ?1)";
	uint64_t ceiling = version_ceiling(limit_ms < 0 ? 0 : limit_ms);
	sqlite3_stmt *s = NULL;
	int rc;

	if (!db->in_txn)
		return gb_error(err, GB_EINTERNAL, "no transaction is open");
	if (db->hlc <= ceiling)
		return 0;
	if (sqlite3_prepare_v2(db->sq, sql, -1, &s, NULL) != SQLITE_OK)
		return db_sql_fail(db, _("cannot read the clock"), err);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ceiling);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		db_sql_fail(db, _("cannot read the clock"), err);
		sqlite3_finalize(s);
		return -1;
	}
	db->hlc = (uint64_t)sqlite3_column_int64(s, 0);
	db->hlc_dirty = 1;
	sqlite3_finalize(s);
	return 0;
}

int db_record_restamp(struct gb_db *db, const char *id, uint64_t old,
		      int64_t limit_ms, uint64_t *version, struct gb_err *err)
{
	/* After the version itself (db_version_renumber, which renumbers
	 * the bases that name it and merges the record again): the
	 * record's created_at when the wrong clock gave it too, and the
	 * packed outbox entries of the record, whose bases may name the
	 * old number, are packed again when sent. */
	static const char *const sql[] = {
	    "UPDATE record SET created_at = ?2 WHERE id = ?3 AND "
	    "created_at > ?6",
	    "UPDATE outbox SET wire = NULL WHERE id = ?3",
	};
	const char *what = _("cannot re-stamp a record");
	int64_t now = gb_now_ms();
	uint64_t v, saved;
	int found, saved_dirty;

	if (!db->in_txn)
		return gb_error(err, GB_EINTERNAL, "no transaction is open");
	saved = db->hlc;
	saved_dirty = db->hlc_dirty;
	if (db_hlc_next(db, now, &v, err))
		return -1;
	found = db_version_renumber(db, id, old, v, now, err);
	if (found < 0)
		return -1;
	if (found > 0) {
		/* Nothing was stamped: the clock stays where it was. */
		db->hlc = saved;
		db->hlc_dirty = saved_dirty;
		return 1;
	}
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s = NULL;
		int rc;

		if (sqlite3_prepare_v2(db->sq, sql[i], -1, &s, NULL) !=
		    SQLITE_OK)
			return db_sql_fail(db, what, err);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
		if (i == 0)
			sqlite3_bind_int64(s, 6, limit_ms);
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			db_sql_fail(db, what, err);
			sqlite3_finalize(s);
			return -1;
		}
		sqlite3_finalize(s);
	}
	*version = v;
	return 0;
}

/* ---- what imports and lists ask ----------------------------------------- */

int db_record_exists(struct gb_db *db, const char *id, struct gb_err *err)
{
	sqlite3_stmt *s = stmt(db, S_REC_EXISTS, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_sql_fail(db, _("cannot read the record"), err);
	db_stmt_done(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int db_field_values(struct gb_db *db, const struct gb_kind *k,
		    const char *field,
		    int (*cb)(void *arg, const char *value, const char *id),
		    void *arg, struct gb_err *err)
{
	const char *what = _("cannot read the records");
	sqlite3_stmt *s = NULL;
	char path[64];
	int rc, ret = -1;

	snprintf(path, sizeof(path), "$.%s", field);
	if (db_prep(db,
		    "SELECT json_extract(body, ?2), id FROM record "
		    "WHERE kind = ?1 AND voided = 0",
		    &s, what, err))
		return -1;
	sqlite3_bind_text(s, 1, k->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_TRANSIENT);
	for (;;) {
		const char *v, *id;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		v = (const char *)sqlite3_column_text(s, 0);
		id = (const char *)sqlite3_column_text(s, 1);
		if (v && id && cb(arg, v, id))
			goto out;
	}
	if (rc != SQLITE_DONE)
		db_sql_fail(db, what, err);
	else
		ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

int db_record_ids(struct gb_db *db, const struct gb_kind *k,
		  int (*cb)(void *arg, const char *id), void *arg,
		  struct gb_err *err)
{
	const char *what = _("cannot read the records");
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	if (db_prep(db, "SELECT id FROM record WHERE kind = ?1 ORDER BY id", &s,
		    what, err))
		return -1;
	sqlite3_bind_text(s, 1, k->name, -1, SQLITE_STATIC);
	for (;;) {
		const char *id;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		id = (const char *)sqlite3_column_text(s, 0);
		if (id && cb(arg, id))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		db_sql_fail(db, what, err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

int db_device_rename(struct gb_db *db, const char *old, const char *now,
		     const char *what, struct gb_err *err)
{
	static const char *const sql[] = {
	    "UPDATE record SET device = ?2 WHERE device = ?1",
	    "UPDATE record_history SET device = ?2 WHERE device = ?1",
	    "UPDATE field_conflict SET kept_device = ?2 WHERE "
	    "kept_device = ?1",
	    "UPDATE field_conflict SET lost_device = ?2 WHERE "
	    "lost_device = ?1",
	};
	sqlite3_stmt *s = NULL;
	int rc = 0;

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && !rc; i++) {
		if (db_prep(db, sql[i], &s, what, err))
			return -1;
		sqlite3_bind_text(s, 1, old, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
		rc = db_step_done(db, s, what, err);
		sqlite3_finalize(s);
		s = NULL;
	}
	return rc;
}

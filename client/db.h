/*
 * The grid file: one SQLite database per grid on the field laptop (SPEC §5).
 * It holds the grid's reference data, the current and earlier versions of
 * every record, and the change log the sync daemon drains.  Every write of
 * a record and its change-log entry commit in one transaction, with
 * synchronous=FULL, and with a rollback journal (journal_mode=TRUNCATE)
 * unless the linked SQLite is free of the WAL-reset race (>= 3.51.3).
 */
#ifndef GB_DB_H
#define GB_DB_H

#include <stdint.h>

#include "err.h"
#include "id.h"
#include "record.h"
#include "validate.h"

struct gb_db; /* opaque */

enum db_open_flags {
	DB_CREATE = 1 << 0, /* make a new file; refuse if one exists */
	DB_READONLY = 1 << 1,
	DB_SYNCD = 1 << 2 /* the caller is the file's gridbook-syncd and holds
			     its lock (syncd_main.c) */
};

/*
 * Opens (or with DB_CREATE creates, mode 0600) the grid file at path and
 * brings its schema up to date (schema/client, PRAGMA user_version).
 * On success *out is a handle the caller frees with db_close().  Fails
 * with GB_EEXIST when DB_CREATE finds a file there, GB_ENOTFOUND when
 * there is no file to open (none is created), and GB_EDB for a file that
 * is not a grid file or comes from a newer gridbook.  A file that needs
 * migrating is not migrated while a gridbook-syncd other than the
 * caller runs on it (GB_EBUSY): that one is older than this gridbook
 * (it would have migrated the file itself), and would go on writing the
 * file as its older schema was.  A new file gets its device id here.  A
 * handle is for one thread.
 */
int db_open(struct gb_db **out, const char *path, unsigned flags,
	    struct gb_err *err);
void db_close(struct gb_db *db);

/* Settings kept in the file: "grid", "device", "staff" (who is entering),
 * "district", "street", and what sync adds.  db_meta_get returns a copy
 * the caller frees, or NULL when unset. */
char *db_meta_get(struct gb_db *db, const char *key);
int db_meta_set(struct gb_db *db, const char *key, const char *value,
		struct gb_err *err);
/* Removes setting key (nothing when unset).  Returns 0 or -1 with err. */
int db_meta_del(struct gb_db *db, const char *key, struct gb_err *err);
/* The absolute path of the file as SQLite opened it, "" for one in
 * memory.  Borrowed; valid until db_close. */
const char *db_file_name(struct gb_db *db);

/* Shortcuts for the meta values every command needs; borrowed, "" when
 * unset; valid until db_close. */
const char *db_grid(struct gb_db *db);
const char *db_device(struct gb_db *db);
const char *db_staff(struct gb_db *db);

/* An explicit transaction (BEGIN IMMEDIATE).  The record writers below
 * join it when one is open (or one a store module began with plain SQL),
 * else run in one of their own.  When a writer fails inside the caller's
 * transaction the caller rolls it back. */
int db_begin(struct gb_db *db, struct gb_err *err);
/* A read transaction (BEGIN), so that what several reads return agrees;
 * what names the step in err.  db_end_read ends it. */
int db_begin_read(struct gb_db *db, const char *what, struct gb_err *err);
void db_end_read(struct gb_db *db);
int db_commit(struct gb_db *db, struct gb_err *err);
void db_rollback(struct gb_db *db);

/*
 * Loads the reference data of grid from the seed directory (see
 * seeds/README.md): communities, police areas, their communities and the
 * staff.  Replaces what the file held for that grid and sets the meta
 * values grid, grid_name, street, street_name, district, district_name.
 * Fails with GB_ENOTFOUND when the grid is not in the seeds or a seed file
 * is missing, GB_EINVAL for a broken seed file (naming file and line, as
 * seeds.h words it) or when the file already holds records of another
 * grid.
 */
int db_load_seeds(struct gb_db *db, const char *dir, const char *grid,
		  struct gb_err *err);

/*
 * Replaces the grid's reference data with what page p from HQ carries
 * (HQ sends all of it whenever any of it changed), in the caller's
 * transaction.  Rows that name no grid are the file's grid's.
 */
struct wire_page;
int db_ref_replace(struct gb_db *db, const struct wire_page *p,
		   struct gb_err *err);

/* The lookup that validation uses against this file (validate.h). */
const struct gb_lookup *db_lookup(struct gb_db *db);

/*
 * Resolves what a person typed for a reference to its code or id: an exact
 * code or id, a unique id prefix (records), a USCC (enterprises), or a
 * unique prefix of the name (staff, communities, areas, enterprises;
 * Chinese too).  Writes the code into out.  Fails with GB_ENOTFOUND or
 * GB_EAMBIGUOUS (listing a few candidates) naming the input.
 */
int db_resolve(struct gb_db *db, enum gb_ref ref, const char *input, char *out,
	       size_t n, struct gb_err *err);
/* The display name of a reference ("王建国", "和平社区", an enterprise's
 * name, voided ones too), or a copy of the code when unknown or when the
 * reference has no name (checks).  NULL for a NULL code.  Caller frees. */
char *db_ref_name(struct gb_db *db, enum gb_ref ref, const char *code);

/*
 * Writes a new record: assigns its id (unless r->id is set), grid, device,
 * author staff, times and HLC version, and stores it with its change-log
 * entry.  Does not validate; callers run gb_validate first.
 */
int db_record_insert(struct gb_db *db, struct gb_record *r, struct gb_err *err);
/* Writes r as a new version of the stored record with the same id: the
 * old version goes to history, the new one gets a fresh HLC version and
 * updated_at (created_at and grid stay, device and staff become this
 * device's), as its bases the heads the current record rests on (see
 * Conflicts below; r->base and r->resolves are set here), and a
 * change-log entry.  Voiding is an update with r->voided = 1 and the
 * reason set.  GB_ENOTFOUND when there is no such record, GB_EINVAL when
 * it is of another kind. */
int db_record_update(struct gb_db *db, struct gb_record *r, struct gb_err *err);
/* db_record_update for a version that resolves the conflicts of the
 * fields of resolves (bit i for field i, GB_RESOLVES_VOID for the void):
 * its bases then name the versions of those conflicts too.  GB_EUSAGE
 * when resolves names no field of the kind. */
int db_record_resolve(struct gb_db *db, struct gb_record *r, uint32_t resolves,
		      struct gb_err *err);
/*
 * Stores a version that came from elsewhere (sync down).  One that saw
 * every head of the record and is newer than them becomes the current
 * record as it is; any other is merged with every version the file holds
 * (common/merge.h), its own unsent ones too, and the merge gives the
 * current record, its heads and its conflicts.  A version held already
 * changes nothing.  Writes no change-log entry.  *applied is set to 1
 * when the current record was written anew.
 */
int db_record_put_remote(struct gb_db *db, const struct gb_record *r,
			 int *applied, struct gb_err *err);

/*
 * Conflicts (SPEC §4, schema/client/005): fields on which two versions of
 * a record disagree without either having seen the other.  The writers
 * above merge every version held (common/merge.h) whenever one arrives
 * that did not see them all, and keep what the merge finds; the row of
 * the record then shows the value that stands (the newer, or the void).
 * An edit names the heads it was made from as its bases; one written
 * with db_record_resolve ends the conflicts of the fields it names, here
 * and wherever the version goes.
 */
#define DB_FIELD_VOID "void" /* the field name of the void */

struct db_conflict_side {
	uint64_t version;
	char device[GB_ID_LEN];
	char staff[GB_CODE_LEN];
	int64_t at;	   /* its updated_at, ms UTC */
	const char *value; /* borrowed for the call; NULL: empty, or for
			    * the void not voided (else the reason) */
};

struct db_conflict {
	char id[GB_ID_LEN];
	const struct gb_kind *kind; /* static */
	const char *title;	    /* the record's title value; borrowed */
	int field;		    /* index, or GB_MAX_FIELDS for the void */
	const char *field_name;	    /* static */
	struct db_conflict_side kept, lost;
};

/* The number of fields in conflict (a record and a field count once,
 * however many versions disagree on it). */
int db_conflict_count(struct gb_db *db, long *n, struct gb_err *err);
/* Calls cb for each conflict, by record then field, of the record id
 * (full id) and field name when given (NULL: all).  cb returns 0 to go
 * on, -1 to stop (the result is then -1 with err untouched). */
int db_conflict_list(struct gb_db *db, const char *id, const char *field,
		     int (*cb)(void *arg, const struct db_conflict *c),
		     void *arg, struct gb_err *err);

/*
 * Gives version old of record id, written on this device, the number to
 * and the time updated_at (re-stamping what a clock far ahead wrote,
 * SPEC §4), keeping the merge whole: the versions made from it name the
 * new number as their base, and the record is merged again, so its heads and
 * conflicts follow.  The caller gives every re-stamped version of a
 * record a number above those of the versions before it, in their
 * order.  Joins the caller's transaction.  Returns 0, 1 when the file
 * holds no such version (nothing done), or -1 with err.  The outbox
 * entries of the record's unsent versions name the old numbers: the
 * caller packs them again.
 */
int db_version_renumber(struct gb_db *db, const char *id, uint64_t old,
			uint64_t to, int64_t updated_at, struct gb_err *err);

/* Loads the current version of the record with this id or unique id
 * prefix (at least 4 characters, any case).  kind may be NULL (any kind);
 * a record of another kind is GB_ENOTFOUND saying what it is; a prefix
 * of several records GB_EAMBIGUOUS listing some.  Caller frees *out. */
int db_record_get(struct gb_db *db, const struct gb_kind *kind, const char *id,
		  struct gb_record **out, struct gb_err *err);

/* Calls cb for every version of a record (id or unique prefix), oldest
 * first, the current one last; the record passed is borrowed for the
 * call.  cb returns 0 to go on, -1 to stop (the result is then -1 with err
 * untouched). */
int db_record_history(struct gb_db *db, const char *id,
		      int (*cb)(void *arg, const struct gb_record *r),
		      void *arg, struct gb_err *err);

/* States that follow from several fields rather than one status field. */
enum db_state {
	DB_STATE_ANY = 0,
	DB_STATE_OPEN,	   /* requests: not resolved */
	DB_STATE_RESOLVED, /* requests: resolved */
	/* requests: open past their deadline at f->now; contract checks:
	 * rectification orders whose deadline day is over at f->now with no
	 * rectified follow-up dated by then (as HQ's rectification report
	 * counts them overdue) */
	DB_STATE_OVERDUE,
};

struct db_filter {
	/* Local dates YYYY-MM-DD, inclusive, of the kind's date field; or
	 * NULL.  Kinds without a date field (enterprise) ignore them. */
	const char *from, *to;
	const char *community; /* code, or NULL */
	const char *staff;     /* code (the kind's staff field), or NULL */
	const char *status;    /* status field value, or NULL */
	int with_voided;       /* include voided records */
	long limit;	       /* 0 = all, else the newest limit records */
	enum db_state state;   /* DB_STATE_ANY, or one the kind has */
	int64_t now;	       /* ms UTC, for DB_STATE_OVERDUE */
};

/* Whether kind has state s (db_state above): the states are those of the
 * report its entry feeds (kinds.h, hook): open, resolved and overdue for
 * the requests report, overdue for the rectification orders of checks. */
int db_kind_has_state(const struct gb_kind *kind, enum db_state s);

/* Calls cb(arg, kind, n) for each kind with records entered (created) in
 * [from, to), ms UTC, not voided.  Returns 0 or -1 with err. */
int db_count_entered(struct gb_db *db, int64_t from, int64_t to,
		     void (*cb)(void *arg, const char *kind, long n), void *arg,
		     struct gb_err *err);

/* Calls cb for each current record of kind matching f, by date then id
 * (with a limit: the newest that many, still oldest first).
 * cb returns 0 to go on, -1 to stop (db_record_list then returns -1 with
 * err untouched). */
int db_record_list(struct gb_db *db, const struct gb_kind *kind,
		   const struct db_filter *f,
		   int (*cb)(void *arg, const struct gb_record *r), void *arg,
		   struct gb_err *err);

/* Another current record of r's kind, not voided and not r itself, with
 * the values r has in the key of its kind's uniqueness rule (kinds.h,
 * struct gb_unique): 1 and *id filled (GB_ID_LEN bytes), 0 when none or
 * when the kind has no rule or r leaves a key field empty, -1 on error. */
int db_record_find_key(struct gb_db *db, const struct gb_record *r, char *id,
		       struct gb_err *err);

/*
 * Gives every version and conflict written under device id old the id
 * now (HQ gave this laptop another), in the caller's transaction; what
 * names the step in err.  Returns 0 or -1.
 */
int db_device_rename(struct gb_db *db, const char *old, const char *now,
		     const char *what, struct gb_err *err);

/* ---- clock bounds (SPEC §4) --------------------------------------------- */

/* A version held out of the bounds of a clock (gb_hlc_bounds). */
struct db_bad_version {
	char id[GB_ID_LEN];
	char device[GB_ID_LEN];
	uint64_t version; /* as stored; one stored negative reads >= 2^63 */
	int current;	  /* 1: the current version, 0: one in history */
	enum gb_hlc_bound bound;
};

/*
 * The versions this file holds out of the bounds of a clock reading
 * now_ms, current and earlier ones, by id: in *out (caller frees), their
 * number in *n.  Changes nothing.  Returns 0 or -1 with err.
 */
int db_versions_out_of_bounds(struct gb_db *db, int64_t now_ms,
			      struct db_bad_version **out, size_t *n,
			      struct gb_err *err);

/*
 * Re-stamping the versions written while this laptop's clock ran ahead
 * (sync.c, once HQ's clock says it is right), in the caller's
 * transaction (db_begin).  db_clock_rewind sets the file's clock back to
 * the newest version held whose time part is at most limit_ms, when it
 * stands above that: the versions above are the ones about to be
 * re-stamped, or other devices' ones that never moved it.
 * db_record_restamp gives version old of record id, written on this
 * device, the next version of the clock, with updated_at now and
 * created_at now when it lay after limit_ms: same id, same values, only
 * the times the wrong clock gave.  *version is the new one.  Returns 0,
 * 1 when the file holds no such version (nothing done), -1 with err.
 */
int db_clock_rewind(struct gb_db *db, int64_t limit_ms, struct gb_err *err);
int db_record_restamp(struct gb_db *db, const char *id, uint64_t old,
		      int64_t limit_ms, uint64_t *version, struct gb_err *err);

/* ---- reference data as tables (db_ref.c) ------------------------------- */

enum db_ref_table { DB_REF_COMMUNITIES, DB_REF_AREAS, DB_REF_STAFF };

/*
 * Calls cb for each row of reference table t of grid, by code, with its
 * cells as text (NULL for none), borrowed for the call:
 *   communities  code, name, population, criminal_cases, patrol_team,
 *                area ("" when none)
 *   areas        code, name, room, communities (comma-separated),
 *                officers and chiefs, guards
 *   staff        code, name, role, area
 * cb returns 0 to go on, -1 to stop (returned).  Returns 0 or -1 with err.
 */
int db_ref_rows(struct gb_db *db, enum db_ref_table t, const char *grid,
		int (*cb)(void *arg, const char *const *cells, int n),
		void *arg, struct gb_err *err);
/* The number of rows of reference table t of grid into *n; of staff,
 * with role given, of that role only.  Returns 0 or -1 with err. */
int db_ref_count(struct gb_db *db, enum db_ref_table t, const char *grid,
		 const char *role, long *n, struct gb_err *err);

/* ---- what imports and lists ask of the records (db_records.c) ---------- */

/* 1 when the file holds a record with this id (any kind, voided too), 0
 * when not, -1 with err. */
int db_record_exists(struct gb_db *db, const char *id, struct gb_err *err);
/* Calls cb with the value of field and the id of every current record
 * of kind k that is not voided and has a value there (both borrowed for
 * the call).  cb returns 0 to go on, -1 to stop (returned).  Returns 0
 * or -1 with err. */
int db_field_values(struct gb_db *db, const struct gb_kind *k,
		    const char *field,
		    int (*cb)(void *arg, const char *value, const char *id),
		    void *arg, struct gb_err *err);
/* Calls cb with the id of every record of kind k, voided ones too, in
 * id order; borrowed for the call.  cb returns 0 to go on, -1 to stop
 * (returned).  Returns 0 or -1 with err. */
int db_record_ids(struct gb_db *db, const struct gb_kind *k,
		  int (*cb)(void *arg, const char *id), void *arg,
		  struct gb_err *err);

#endif

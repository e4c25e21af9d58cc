/*
 * The central store of gridbook-hq, as an interface: a table of functions
 * and the state behind it, so that ingest, auth and the HTTP layer work the
 * same on the embedded SQLite store (store_sqlite.c) and on a PostgreSQL
 * store added later.
 *
 * Writes happen inside the writer transaction (begin .. commit), which
 * only the ingest writer thread (or a command) opens; ingest applies a
 * whole group of batches in one such transaction, each batch under a
 * savepoint so that a batch that fails leaves no trace.  Lookups made
 * inside the writer transaction see what it has written so far, so a
 * record can refer to an enterprise sent earlier in the same group.  The
 * read functions marked "any thread" may be called from HTTP threads while
 * the writer works; the others belong to the thread that opened the
 * transaction.
 *
 * Every function returns 0 on success or -1 with err filled; lookups
 * return 1 found, 0 not found, -1 on error.  Ids are UUID text
 * (record.h); a store keeps them in whatever form suits it.
 */
#ifndef GB_STORE_H
#define GB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kinds.h"
#include "record.h"
#include "wire.h"

#define STORE_HASH_LEN 32 /* BLAKE2b-256 */

enum store_mode {
	/* The server: one writer connection, which alone checkpoints, and
	 * separate read-only connections for the HTTP threads. */
	STORE_SERVE,
	/* A command (seed, device ...): one connection, used by one thread,
	 * that may write while a server runs on the same store. */
	STORE_ADMIN
};

struct store_device {
	char id[GB_ID_LEN];
	char grid[GB_CODE_LEN];
	char role[16]; /* coordinator, officer, viewer */
	char name[128];
	int revoked;
	int64_t created_at;
	int64_t last_seen; /* 0 when never */
};

/* What ingest needs to know of a record's current version: the newest
 * version held, the heads of the merge (merge.h; nheads -1 when there
 * are more than GB_MAX_BASE, which no single edit can have seen) and how
 * many field conflicts it left open. */
struct store_current {
	char kind[32];
	char grid[GB_CODE_LEN];
	uint64_t version;
	char device[GB_ID_LEN];
	uint64_t heads[GB_MAX_BASE];
	int nheads;
	int conflicts;
};

/* One version to be written: the record, its bytes as received, and what
 * ingest derived from it. */
struct store_version {
	const struct gb_record *rec; /* borrowed */
	const void *raw;	     /* borrowed protobuf Record bytes */
	size_t raw_len;
	unsigned char hash[STORE_HASH_LEN]; /* of the content */
	const char *body;		    /* JSON of the values; borrowed */
	/* Report columns (see schema/server); NULL when the kind has none. */
	const char *day, *community, *person, *status;
	int64_t received_at;
	/* For current_put: the heads of the merge (borrowed; nheads 0 means
	 * rec->version alone) and the field conflicts it left open. */
	const uint64_t *heads;
	size_t nheads;
	int conflicts;
};

/* One field on which two versions of a record disagree (merge.h), as
 * HQ keeps and lists it.  All borrowed.  field is a field name or
 * "void"; a value is NULL when empty (for the void: not voided). */
struct store_field_conflict {
	const char *id, *grid, *kind, *field;
	uint64_t kept_version, lost_version;
	const char *kept_device, *lost_device;
	const char *kept_staff, *lost_staff;
	const char *kept_value, *lost_value;
	int64_t detected; /* ms UTC: the later of the two was received */
	/* The staff's names from the reference data, when listed; NULL
	 * when not known. */
	const char *kept_name, *lost_name;
};

/* Where a field conflict stands in the listing's order (the key a page
 * of field_conflict_list starts after). */
struct store_conflict_key {
	int64_t detected;
	const char *id, *field;
	uint64_t lost_version;
	const char *lost_device;
};

/* A record refused in a batch. */
struct store_rejection {
	const char *device;
	uint64_t batch_seq;
	const char *id;
	uint64_t version;
	const char *code; /* gb_code_name() */
	const char *reason;
	const void *raw; /* may be NULL */
	size_t raw_len;
	int64_t at;
};

struct store_audit {
	int64_t at;
	const char *device; /* NULL when unknown */
	const char *grid;   /* "" when unknown */
	const char *action; /* "batch", "changes", "enroll", "revoke" ... */
	int status;	    /* the HTTP status answered, or 0 */
	const char *detail;
	const char *remote; /* the peer address, "" for commands */
};

/* Reference tables the seed loader fills; cols are the CSV columns of
 * seeds/README.md in that order. */
enum store_table {
	STORE_T_DISTRICT,	/* code, name */
	STORE_T_STREET,		/* code, name */
	STORE_T_GRID,		/* code, street, name */
	STORE_T_COMMUNITY,	/* code, grid, name, population,
				   criminal_cases, patrol_team */
	STORE_T_AREA,		/* code, grid, name, room */
	STORE_T_AREA_COMMUNITY, /* area, community */
	STORE_T_STAFF		/* code, name, role, grid, area */
};

/*
 * A page of /v1/changes as the store answers it.  The records are the
 * protobuf bytes as received: page.raw[i] (page.raw_len[i]) for i <
 * page.n, with page.recs[i] NULL; all owned here, like the reference rows
 * (filled only when with_ref).  The caller sets page.next_cursor from
 * ref_version and next_seq.
 */
struct store_changes {
	struct wire_page page;
	int with_ref;	      /* the reference data of the grid is in page */
	uint64_t ref_version; /* of the reference data now */
	uint64_t next_seq;    /* the last change covered by this page */
};

/* Frees what a changes query filled in and zeroes it. */
void store_changes_release(struct store_changes *c);

/*
 * The heads of a record's merge as a store keeps them (store.c): a text
 * column of decimal versions separated by commas, NULL when the one head
 * is the version itself.  store_heads_parse fills out->heads and
 * out->nheads from text (NULL: the one version ver; nheads -1 beyond
 * GB_MAX_BASE).  store_heads_text writes v's heads into b and returns
 * them, or NULL (b untouched) for the column's NULL.
 */
void store_heads_parse(const char *text, uint64_t ver,
		       struct store_current *out);
const char *store_heads_text(const struct store_version *v, struct gb_buf *b);

/*
 * ---- The report facts (schema/server/002_reports.sql, schema/pg/002) ----
 *
 * Ingest (rollup.c) decides which facts a version changes, from the
 * record as it was and as it now stands; the store keeps them, in the
 * writer transaction, so that they commit or roll back with the records
 * they describe.  A fact row is of one current record (its id and grid)
 * and holds the values a report needs of it; a counter is a sum by unit
 * and period that fact rows feed.
 */
enum store_fact_kind {
	STORE_F_ENTERPRISE, /* community, name, active */
	STORE_F_CHECK,	    /* ref (the enterprise), day, version, signed,
			       total, outcome, deadline (has_deadline) */
	STORE_F_RECT,	    /* ref (the check), day, rectified */
	STORE_F_DISPUTE,    /* day, level, status, ref (the enterprise, or
			       NULL) */
	STORE_F_REQUEST,    /* area, day, received, deadline (an instant),
			       resolved (-1 while open), category, priority,
			       officer */
	STORE_F_PATROL,	    /* area, leader, start, end */
	STORE_F_DAILY,	    /* officer, day */
	STORE_F_RECEPTION,  /* officer, start, end */
	STORE_F_CONFLICT,   /* kind, area, person, day (has_day),
			       conflicts: a record the merge left with field
			       conflicts open */
	STORE_F_COUNT
};

/* One fact row.  The strings are borrowed; NULL text is stored as "" (but
 * ref stays NULL).  Days are local days since 1970-01-01 (gbtime.h),
 * instants ms UTC; which members a kind uses is said in the enum. */
struct store_fact {
	enum store_fact_kind kind;
	const char *id, *grid; /* of the record */
	const char *ref;       /* the id of the record it refers to */
	const char *community, *name, *area, *leader, *officer, *person;
	const char *outcome, *level, *status, *category, *priority;
	const char *kind_name; /* STORE_F_CONFLICT: the record's kind */
	int64_t day;
	int has_day; /* STORE_F_CONFLICT: day is set */
	uint64_t version;
	int64_t contracts_signed, employees_total;
	int64_t deadline;
	int has_deadline; /* STORE_F_CHECK: deadline is set */
	int64_t received, resolved, start, end;
	int active, rectified;
	int64_t conflicts;
	/* The record had no fact row before (a new record), so that the
	 * store may add the row without looking for one to replace. */
	int fresh;
};

/* The counters the fact rows feed, each by a key (a day number), a code
 * a and for nights a second code b. */
enum store_counter {
	STORE_C_ACTIVE,	   /* the active enterprises of grid (key, a and b
			      unused) */
	STORE_C_NIGHT,	   /* patrols overlapping the night of day key, by
			      police area a and leader b */
	STORE_C_DAILY,	   /* daily reports of day key, by officer a */
	STORE_C_RECEPTION, /* ms of reception in the ISO week whose Monday
			      is day key, by officer a */
	STORE_C_COUNT
};

/*
 * ---- The report facts, as reports read them ----
 *
 * Ingest keeps the report facts current (SPEC §3: a row per check, order,
 * dispute, request, and counts per night, day and week); reports read
 * them, with the reference data, through facts_read below.  A report
 * reads one snapshot: facts_begin opens it (a read transaction, any
 * thread) and facts_end closes it, so that its numbers agree with each
 * other while the writer applies batches.
 *
 * Each query names a fact (enum store_query) and the period it covers;
 * its rows come to a callback as plain texts and numbers.  What a row
 * holds is said beside each fact: s0.. are the texts, i0.. the numbers.
 * Days are local day numbers (gbtime.h), times ms UTC, ids UUID text.
 * The store selects and orders; what the figures mean (SPEC §3:
 * outcomes and states, time not yet lived, unknown is not zero) is
 * decided by the reports, from these rows.
 */
enum store_query {
	/* Reference data, each ordered by code.  DISTRICT: s0 code, s1
	 * name; the first district only. */
	STORE_Q_DISTRICT,
	STORE_Q_STREET, /* s0 code, s1 name */
	STORE_Q_GRID,	/* s0 code, s1 street, s2 name */
	STORE_Q_AREA,	/* s0 code, s1 grid, s2 name */
	/* s0 code, s1 grid, s2 name, s3 its area (the lowest code of its
	 * police areas, "" when none); i0 population, i1 criminal cases a
	 * year, i2 mass patrol team. */
	STORE_Q_COMMUNITY,
	STORE_Q_STAFF, /* s0 code, s1 name, s2 role, s3 grid, s4 area or "" */
	/* Active enterprises per grid: s0 grid, i0 enterprises. */
	STORE_Q_ACTIVE,
	/* The checks dated in the period of active enterprises, by
	 * enterprise and for each the newest first (check date, version,
	 * id): s0 the enterprise's grid, s1 the enterprise id ("" when not
	 * a UUID); i0 contracts signed, i1 employees total. */
	STORE_Q_CHECKS,
	/* Per grid, the active enterprises with a check dated in the
	 * period: s0 grid, i0 enterprises. */
	STORE_Q_CHECKED,
	/* The checks dated in the period with outcome notice or
	 * rectify_order, by deadline (none first), grid, check date,
	 * enterprise and id: s0 grid, s1
	 * outcome, s2 enterprise name, s3 enterprise id; i0 check date,
	 * i1 deadline (null when none), i2 the earliest date of a
	 * rectified follow-up (null when none). */
	STORE_Q_ORDERS,
	/* Disputes received in the period, not of a voided enterprise,
	 * counted by grid, level and status: s0 grid, s1 level, s2
	 * status; i0 disputes. */
	STORE_Q_DISPUTES,
	/* Nights in the period with a patrol of an area: s0 area, s1 the
	 * patrol's leader; i0 the night's date.  Only patrols with two or
	 * more guards are facts of a night. */
	STORE_Q_NIGHTS,
	/* Reception per officer and ISO week, the weeks' Mondays in the
	 * period: s0 officer; i0 Monday, i1 ms of reception. */
	STORE_Q_RECEPTION,
	/* Requests received in the period, by day and area: s0 area, s1
	 * category, s2 priority, s3 officer, s4 id while not resolved (""
	 * for one resolved: only open ones are listed); i0 received, i1
	 * deadline, i2 resolved (null while not resolved). */
	STORE_Q_REQUESTS,
	/* Officer-days in the period with a daily report: s0 officer; i0
	 * day. */
	STORE_Q_DAILY,
	/* The devices but viewers, in no particular order: s0 id, s1
	 * grid, s2 role, s3 name; i0 revoked (1 or 0), i1 versions it said
	 * it had left unsent at its last batch (null when it did not
	 * say), i2 the oldest of them (0 when none), i3 its last batch (0
	 * when never). */
	STORE_Q_DEVICES,
	/* As STORE_Q_DEVICES, by grid, enrolment and id, and i4 batches,
	 * i5 records it sent on days of the period, i6 the time of its
	 * last batch by the day counts (0 when none). */
	STORE_Q_DEVICE_SYNC,
	/* The grids of the devices of role key (any device when key is
	 * NULL) that sent a batch on a day from the period's first on (to
	 * is not used): s0 grid, each once. */
	STORE_Q_SYNCED_GRIDS,
	/* Records of kind key holding a field conflict not yet resolved,
	 * dated in the period or of a kind without a date: s0 grid, s1
	 * area or "", s2 person (staff code) or "". */
	STORE_Q_CONFLICTS,
	STORE_Q_COUNT
};

#define STORE_FACT_NS 6
#define STORE_FACT_NI 8

/* One row of a fact query.  The texts are borrowed for the call and
 * never NULL ("" when empty); bit k of null is set when i[k] is not
 * known (it is then 0). */
struct store_fact_row {
	const char *s[STORE_FACT_NS];
	int64_t i[STORE_FACT_NI];
	unsigned null;
};

/* What a fact query asks: the fact, the period (local days, both
 * included) and for some facts a key (a role, a kind; NULL when none). */
struct store_fact_query {
	enum store_query fact;
	int32_t from, to;
	const char *key;
};

/* A snapshot of the facts (facts_begin); the store's own. */
struct store_facts;

struct store;

/* Modes of store_ops.checkpoint.  BUSY: requests are coming, only a WAL
 * near its bound is worth stopping for.  IDLE: nothing is waiting, a
 * smaller WAL is worth the work now, if no command holds the store.
 * FINAL: as IDLE, on the way out, waiting for a command to finish. */
enum { STORE_CKPT_BUSY, STORE_CKPT_IDLE, STORE_CKPT_FINAL };

struct store_ops {
	/* Closes the store and frees it. */
	void (*close)(struct store *s);
	/* Brings the schema up to date (schema/server). */
	int (*migrate)(struct store *s, struct gb_err *err);

	/*
	 * The writer transaction, and savepoints inside it.  A write
	 * (history_put, current_put, the facts ...) may tell its failure
	 * late: the store may send it without waiting (PostgreSQL, serving)
	 * and fail the next call that waits for an answer instead, at the
	 * latest release or commit, so that the failures of the work since
	 * a savepoint are the savepoint's.
	 */
	int (*begin)(struct store *s, struct gb_err *err);
	int (*commit)(struct store *s, struct gb_err *err);
	void (*rollback)(struct store *s);
	int (*savepoint)(struct store *s, struct gb_err *err);
	int (*release)(struct store *s, struct gb_err *err);
	/* Undoes the work since the savepoint and drops it.  Returns -1
	 * when the whole transaction was lost (rolled back by the store):
	 * also when the work failed because another server on the store
	 * wrote at the same time (a deadlock, a key written by both), where
	 * the same work in a new transaction will do; the error of the
	 * statement that failed is then GB_EBUSY. */
	int (*rollback_to)(struct store *s);
	/* Housekeeping outside any transaction (SQLite: a checkpoint when
	 * the WAL has grown), in one of the STORE_CKPT_ modes.  Writer
	 * thread only.  Returns 0, 1 when an idle checkpoint was put off
	 * (a command holds the store: try again later), or -1 with err. */
	int (*checkpoint)(struct store *s, int mode, struct gb_err *err);
	/* Whether there is room for more batches (any thread): the disk of
	 * the store has more than the margin (set_margin) free, beyond
	 * what checkpointing its WAL will take.  Returns 0, or -1 with err
	 * (GB_EBUSY) saying what is free and the margin.  The disk is
	 * looked at at most every 100 ms, so it may be called for every
	 * request. */
	int (*room)(struct store *s, struct gb_err *err);
	/* Sets the margin of room, in bytes (before serving). */
	void (*set_margin)(struct store *s, int64_t bytes);

	/*
	 * Holds grid for the writer transaction (writer thread only): the
	 * writer of another server on the same store that asks for it waits
	 * until this transaction ends.  Ingest takes the grid of a batch
	 * before it looks the batch or its records up, so that two servers
	 * never both read a record, a batch or a grid's facts and then write
	 * them.  A store with one writer (SQLite) has nothing to do.
	 * Locks taken in a savepoint rolled back may be gone with it.
	 */
	int (*grid_lock)(struct store *s, const char *grid, struct gb_err *err);
	/*
	 * Calls wake(arg), from a thread of the store's, soon after another
	 * server on the same store commits a batch (PostgreSQL: LISTEN/
	 * NOTIFY), so that a batch held for the one before it is looked at
	 * again; wake must be quick and may be called spuriously.  wake NULL
	 * stops it (wake is not called once watch returns).  Returns 1 when
	 * watching: other servers may apply batches, and since a wake-up can
	 * be lost (the store reconnecting) the caller also looks now and
	 * then by itself; 0 when the store has one writer and nothing to
	 * watch (SQLite); -1 with err.
	 */
	int (*watch)(struct store *s, void (*wake)(void *arg), void *arg,
		     struct gb_err *err);

	/* The batch (device, seq) if applied: its items hash and, appended
	 * to ack, the ack it got (ack may be NULL: only whether it is
	 * applied). */
	int (*batch_get)(struct store *s, const char *device, uint64_t seq,
			 unsigned char items_hash[STORE_HASH_LEN],
			 struct gb_buf *ack, struct gb_err *err);
	int (*batch_put)(struct store *s, const char *device, uint64_t seq,
			 const unsigned char items_hash[STORE_HASH_LEN],
			 size_t nrecords, const void *ack, size_t ack_len,
			 int64_t received_at, struct gb_err *err);
	/* The highest batch number applied from device, 0 when none, into
	 * *seq: in the writer's transaction (reader 0, writer thread only),
	 * or as committed (reader 1, any thread). */
	int (*batch_high)(struct store *s, const char *device, int reader,
			  uint64_t *seq, struct gb_err *err);

	/* The content hash of version (id, version, device) if held. */
	int (*version_get)(struct store *s, const char *id, uint64_t version,
			   const char *device,
			   unsigned char hash[STORE_HASH_LEN],
			   struct gb_err *err);
	/* The current version of id if any. */
	int (*current_get)(struct store *s, const char *id,
			   struct store_current *out, struct gb_err *err);
	/*
	 * Ingest's word, before it applies a batch, that current_get will
	 * be asked for these n ids in the writer's transaction: a store
	 * that pays a round trip a statement (PostgreSQL) looks them up at
	 * once; SQLite does nothing.  What it learns holds until the
	 * transaction or the savepoint ends, and is kept up to date by
	 * current_put.
	 */
	int (*current_prefetch)(struct store *s, const char *const *ids,
				size_t n, struct gb_err *err);
	/* Adds a version to the history (every version received). */
	int (*history_put)(struct store *s, const struct store_version *v,
			   struct gb_err *err);
	/* Makes v the current version of its record. */
	int (*current_put)(struct store *s, const struct store_version *v,
			   struct gb_err *err);
	/*
	 * Calls cb for each version of record id in the history, newest
	 * first (versions alike by device, the higher id first), at most
	 * limit of them: its protobuf bytes as received
	 * (borrowed for the call) and when they were received.  cb returns
	 * 0 to go on, -1 (with err) to stop with an error.  Writer thread.
	 */
	int (*history_each)(struct store *s, const char *id, size_t limit,
			    int (*cb)(void *arg, const void *raw, size_t n,
				      int64_t received_at, struct gb_err *err),
			    void *arg, struct gb_err *err);
	/* Replaces the field conflicts of record id by the n of c (n may be
	 * 0: the record has none left).  Writer thread. */
	int (*field_conflicts_put)(struct store *s, const char *id,
				   const struct store_field_conflict *c,
				   size_t n, struct gb_err *err);
	/* Calls cb for each field conflict of grid (NULL: every grid),
	 * oldest detected first, then by record, field, lost version and
	 * device (any thread), from the one after *after (NULL: from the
	 * first), at most limit of them (0: all); cb returns 0 to go on. */
	int (*field_conflict_list)(
	    struct store *s, const char *grid,
	    const struct store_conflict_key *after, size_t limit,
	    int (*cb)(void *arg, const struct store_field_conflict *c),
	    void *arg, struct gb_err *err);
	/* Sets aside a version that conflicts with the one held. */
	int (*conflict_put)(struct store *s, const struct store_version *v,
			    struct gb_err *err);
	int (*rejection_put)(struct store *s, const struct store_rejection *r,
			     struct gb_err *err);
	/*
	 * The find of struct gb_lookup (validate.h), for the records and
	 * reference data of grid: communities, police areas and staff of the
	 * grid; enterprise and contract-check records by id.  The SQLite
	 * store answers the reference data of a grid from memory, checked
	 * against the ref_version marker once per transaction; records are
	 * always looked up in the transaction, so they include what it has
	 * written so far.
	 */
	int (*find)(struct store *s, const char *grid, enum gb_ref ref,
		    const char *key, const char *attr, char *out, size_t n,
		    struct gb_err *err);
	/* Another current record of r's kind and grid, not voided and not
	 * r itself, with r's values of the key of its kind's uniqueness rule
	 * (kinds.h, struct gb_unique): 1 with its id (GB_ID_LEN) in holder,
	 * 0 when none or r leaves a key field empty, -1 on error.  In the
	 * transaction, like find. */
	int (*find_key)(struct store *s, const struct gb_record *r,
			char *holder, struct gb_err *err);
	/* Whether HQ holds the reference key (as find, ref) in any grid:
	 * *known 1 or 0.  A reference find misses that is not known at all
	 * may come yet (not seeded, a record not received yet); one known in
	 * another grid will not.  Writer thread. */
	int (*ref_known)(struct store *s, enum gb_ref ref, const char *key,
			 int *known, struct gb_err *err);

	/* Inserts or updates one reference row; *changed is set to 1 when
	 * the row is new or differs.  Fails with GB_ENOTFOUND naming a
	 * parent (street, grid, area, community) that is not there. */
	int (*ref_put)(struct store *s, enum store_table t,
		       const char *const *cols, int *changed,
		       struct gb_err *err);
	/* Marks the reference data as changed (clients pull it again, and
	 * a server drops the reference data find holds in memory): every
	 * transaction that changes reference data must call it. */
	int (*ref_touch)(struct store *s, struct gb_err *err);
	/* 1 when grid is a known grid code. */
	int (*grid_exists)(struct store *s, const char *grid,
			   struct gb_err *err);

	/* Devices.  device_by_token may be called from any thread. */
	int (*device_put)(struct store *s, const struct store_device *d,
			  const unsigned char token_hash[STORE_HASH_LEN],
			  struct gb_err *err);
	int (*device_by_token)(struct store *s,
			       const unsigned char token_hash[STORE_HASH_LEN],
			       struct store_device *out, struct gb_err *err);
	/* Fails with GB_ENOTFOUND when there is no such device. */
	int (*device_revoke)(struct store *s, const char *id, int64_t at,
			     struct gb_err *err);
	/* A batch of the device was applied at at; pending and oldest are
	 * what it said it had left to send (wire_batch_hdr), pending -1
	 * when it did not say. */
	int (*device_seen)(struct store *s, const char *id, int64_t at,
			   int64_t pending, int64_t oldest, struct gb_err *err);
	/* Calls cb for each device, oldest first; cb returns 0 to go on. */
	int (*device_list)(struct store *s,
			   int (*cb)(void *arg, const struct store_device *d),
			   void *arg, struct gb_err *err);

	int (*audit_put)(struct store *s, const struct store_audit *a,
			 struct gb_err *err);
	/*
	 * Walks the audit log's hash chain from its first entry (any
	 * thread).  Returns 0 when every entry checks out: *n entries, and
	 * the hash of the last one in hex in head (at least 65 bytes) for
	 * the record; 1 with err (GB_EINVAL) naming the first entry that
	 * does not (deleted, edited, or not holding the hash before it);
	 * -1 with err when the store fails.
	 */
	int (*audit_verify)(struct store *s, long *n, char *head,
			    size_t head_len, struct gb_err *err);
	/* The last limit entries of the audit log, oldest first. */
	int (*audit_list)(struct store *s, long limit,
			  int (*cb)(void *arg, const struct store_audit *a),
			  void *arg, struct gb_err *err);

	/*
	 * One page of /v1/changes for grid (any thread): the reference data
	 * of the grid when ref_version differs from the store's, then the
	 * versions received after seq from devices other than exclude (may
	 * be NULL), at most limit of them and about max_bytes.  Fills out,
	 * which the caller releases with store_changes_release().
	 */
	int (*changes)(struct store *s, const char *grid, uint64_t ref_version,
		       uint64_t seq, const char *exclude, size_t limit,
		       size_t max_bytes, struct store_changes *out,
		       struct gb_err *err);

	/*
	 * Calls cb for every version held (current or in history) outside
	 * lo..hi, by grid and id: those written before the bounds were kept
	 * (gridbook-hq check).  A version stored negative (2^63 or more)
	 * comes as it was sent.  current is 1 for the current version.
	 * Changes nothing.  cb returns 0 to go on, else the walk stops.
	 */
	int (*versions_outside)(struct store *s, uint64_t lo, uint64_t hi,
				int (*cb)(void *arg, const char *grid,
					  const char *id, const char *device,
					  uint64_t version, int current),
				void *arg, struct gb_err *err);

	/* ---- report facts, written by ingest ----
	 * All in the writer transaction, writer thread only (the
	 * rebuilding ones: in a transaction of their own, see rollup.h). */
	/* Writes fact f, replacing the row of the same kind and record. */
	int (*fact_put)(struct store *s, const struct store_fact *f,
			struct gb_err *err);
	/* Deletes the fact row of kind of record (id, grid), if any. */
	int (*fact_del)(struct store *s, enum store_fact_kind kind,
			const char *id, const char *grid, struct gb_err *err);
	/* The fact row of kind of record (id, grid) into out: 1 found, 0
	 * not.  Its strings are written into buf (size bytes; 512 hold
	 * any), out pointing there. */
	int (*fact_get)(struct store *s, enum store_fact_kind kind,
			const char *id, const char *grid,
			struct store_fact *out, char *buf, size_t size,
			struct gb_err *err);
	/* Adds delta to counter c of grid for (key, a, b) (a and b NULL
	 * when unused).  A period counter (not STORE_C_ACTIVE) that falls to
	 * 0 or below goes, so that it is held exactly when something
	 * counts. */
	int (*counter_add)(struct store *s, enum store_counter c,
			   const char *grid, int64_t key, const char *a,
			   const char *b, int64_t delta, struct gb_err *err);
	/* What counter c of grid holds for (key, a, b) into *value: 1 held,
	 * 0 not (*value 0). */
	int (*counter_get)(struct store *s, enum store_counter c,
			   const char *grid, int64_t key, const char *a,
			   const char *b, int64_t *value, struct gb_err *err);
	/* Counts batches (with records records) of device, of grid and
	 * role, received on local day day, the last at at. */
	int (*sync_add)(struct store *s, const char *device, const char *grid,
			const char *role, int64_t day, int64_t batches,
			int64_t records, int64_t at, struct gb_err *err);
	/* The version of the facts held (rollup.h) into version (n bytes):
	 * 1, or 0 when the store has none written. */
	int (*facts_version)(struct store *s, char *version, size_t n,
			     struct gb_err *err);
	/* Deletes every fact and counter (to build them again). */
	int (*facts_clear)(struct store *s, struct gb_err *err);
	/* Marks the facts as built in version. */
	int (*facts_built)(struct store *s, const char *version,
			   struct gb_err *err);
	/* What the facts are built from: cb for each current record that is
	 * not voided or has field conflicts open, with its values, and
	 * conflicts the number open (r borrowed for the call); cb returns
	 * 0 to go on, -1 (with err) to stop with an error. */
	int (*fact_records)(struct store *s,
			    int (*cb)(void *arg, const struct gb_record *r,
				      int conflicts, struct gb_err *err),
			    void *arg, struct gb_err *err);
	/* cb for each batch applied: its device, the device's grid and
	 * role, its records and when it was received. */
	int (*fact_batches)(struct store *s,
			    int (*cb)(void *arg, const char *device,
				      const char *grid, const char *role,
				      int64_t records, int64_t received_at,
				      struct gb_err *err),
			    void *arg, struct gb_err *err);
	/* ---- report facts, read by reports ---- */

	/* Opens a snapshot of the facts and the reference data (any
	 * thread), for the caller to close with facts_end. */
	int (*facts_begin)(struct store *s, struct store_facts **out,
			   struct gb_err *err);
	/* Closes the snapshot f (NULL: nothing). */
	void (*facts_end)(struct store *s, struct store_facts *f);
	/*
	 * Calls cb for each row of query q in snapshot f, in the order the
	 * fact names (enum store_query).  cb returns 0 to go on, -1 (with
	 * err) to stop with an error.  Fails with GB_EDB when the store
	 * fails, GB_EINTERNAL for a fact it does not know.
	 */
	int (*facts_read)(struct store *s, struct store_facts *f,
			  const struct store_fact_query *q,
			  int (*cb)(void *arg, const struct store_fact_row *r,
				    struct gb_err *err),
			  void *arg, struct gb_err *err);
};

/* The common head of every store; an implementation embeds it first. */
struct store {
	const struct store_ops *ops;
};

/*
 * Opens the SQLite store at path (created if missing, mode 0600) in the
 * given mode and brings its schema up to date.  In STORE_SERVE mode it
 * fails with GB_EEXIST when another server holds the same file.  The
 * caller closes it with s->ops->close(s).
 */
int store_sqlite_open(struct store **out, const char *path,
		      enum store_mode mode, struct gb_err *err);

/* The version of the linked SQLite; *race_fixed is set to 1 when it is
 * free of the WAL-reset race (3.51.3 or later). */
const char *store_sqlite_version(int *race_fixed);

#endif

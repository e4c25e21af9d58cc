/*
 * The PostgreSQL store of gridbook-hq (store.h, store_pg.h), through
 * libpq; no other file includes libpq-fe.h.  The schema is schema/pg/,
 * compiled in (gb_schema_pg), keyed by grid for Citus (docs/citus.md).
 *
 * Several gridbook-hq programs may share one database, so nothing here
 * relies on being the only writer: the schema is brought up to date under
 * an advisory lock (programs starting at once migrate one after the
 * other), reference data are written with INSERT .. ON CONFLICT, and the
 * audit log's entries, each holding the hash of the one before
 * (audit_chain.h), are appended under a second advisory lock held to the
 * end of the transaction, so that two writers never chain from the same
 * entry.
 *
 * Batches and record versions are written as ingest asks (the same
 * answers as the SQLite store: tests/unit/test_store.c), with the change
 * sequence of each grid taken from its row of change_seq; a batch or
 * version applied by two servers at once costs the second a GB_EBUSY
 * (race_or_fail), never a second copy.  /v1/changes pages through a
 * grid's change sequence in one snapshot.
 *
 * Connections: the writer's, used by the thread that holds the writer
 * transaction (in STORE_ADMIN mode the only one), and in STORE_SERVE
 * mode a pool of readers for the functions store.h lets any thread call,
 * each seeing only what is committed, as the SQLite store's read-only
 * connections do.  The report facts are written here by ingest
 * ("report facts, written by ingest" below) and read by the reports
 * ("report facts, read by reports") with the meanings of the SQLite
 * store.
 *
 * Several servers: each has its own writer transaction (READ COMMITTED),
 * and ingest takes the grid of each batch (grid_lock: the grid's row of
 * change_seq, locked to the end of the transaction) before it looks up
 * the batch or its records, so that the writers of one grid's batches
 * take turns and each reads what the one before committed.  Locks taken
 * in different orders may deadlock, and PostgreSQL then fails one
 * statement: the writer transaction is lost as a whole (rollback_to says
 * so) and ingest runs it again (is_race).  A batch committed is announced with
 * NOTIFY, which a listener thread (watch) hears for the ingest of this
 * server, whose next batch of that device may be waiting for it.
 *
 * Statements are always bound (PQexecParams); bytea parameters and every
 * result come in binary, so ids and hashes travel as their bytes and
 * integers as 8-byte big-endian bigints: every integer column of
 * schema/pg is a bigint.  A serving writer runs its transaction in
 * libpq's pipeline mode and sends a batch's rows as one statement a
 * table ("the writer's pipeline", "rows sent together" below), so that
 * ingest pays a round trip a batch, not a statement a record.
 */
#include <assert.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit_chain.h"
#include "crypto.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "log.h"
#include "ref_cache.h"
#include "schema.h"
#include "store.h"
#include "store_pg.h"
#include "xalloc.h"

#include "banned.h"

/* Advisory lock keys (pg_advisory_xact_lock): the schema's migration and
 * the end of the audit chain.  Any two fixed numbers would do; these
 * spell "gbmigr" and "gbaudi". */
#define LOCK_MIGRATE "110165334796658"
#define LOCK_AUDIT "110165332567401"
/* Entries of the audit log read per query by audit_verify. */
#define AUDIT_PAGE 5000
#define STR_(x) #x
#define STR(x) STR_(x)
#define PARAM_MAX 17
/* Idle reader connections kept (STORE_SERVE). */
#define POOL_MAX 8
/* Statements kept prepared on the writer connection. */
#define PREP_MAX 96
/* Writes sent in the writer's pipeline before their results are read:
 * a few tens of bytes of results each, well within what the sockets
 * hold, so that the server never waits for this side to read. */
#define PIPE_MAX 256
/* Rows of one statement sent as one (rows_add), at most; and the
 * parameters of such a statement.  ROWS_HASH: slots of the index of a
 * statement's rows by key, a power of two above ROWS_MAX. */
#define ROWS_MAX 256
#define ROWS_COLS 17
#define ROWS_HASH 512
/* The statements whose rows go together: a version's row of the history
 * and of the current records, a row of each fact table, and a change of
 * each counter; of the current records and the facts, rows known to be
 * new (no row to replace: a plain INSERT, sent before the others of its
 * table) and the others (INSERT ... ON CONFLICT DO UPDATE). */
enum {
	ROWS_HISTORY,
	ROWS_CURRENT_NEW,
	ROWS_CURRENT,
	ROWS_FACT_NEW,
	ROWS_FACT = ROWS_FACT_NEW + STORE_F_COUNT,
	ROWS_COUNTER = ROWS_FACT + STORE_F_COUNT,
	ROWS_N = ROWS_COUNTER + STORE_C_COUNT
};
/* Grids whose change sequence a transaction keeps in memory at once. */
#define SEQ_MAX 32
/* The channel of NOTIFY on which a server tells the others that it
 * committed batches. */
#define CHANNEL "gb_batch"
/* The listener (watch) looks this often whether it is to stop, and
 * waits this long before connecting again when its connection broke. */
#define WATCH_TICK_MS 200
#define WATCH_RETRY_MS 1000

struct pg_store {
	struct store base; /* first: a struct store * is one of these */
	enum store_mode mode;
	PGconn *conn; /* the writer; in STORE_ADMIN mode the only one */
	char *url;    /* for the readers' connections */
	char *name;   /* postgresql://HOST:PORT/DB, without user or password */
	int64_t margin;
	pthread_mutex_t pool_mu;
	PGconn *pool[POOL_MAX]; /* idle readers (STORE_SERVE) */
	int npool;
	/* The statements prepared on the writer connection, by the address
	 * of their SQL (string constants); statement i is named "gbI". */
	const char *prep[PREP_MAX];
	int nprep;
	/* Whether the report fact queries are prepared on conn (STORE_ADMIN
	 * mode, where conn is also the reader); each reader of the pool has
	 * them from its start (reader_get). */
	int facts_prepared;
	/* The grids' reference data the writer holds (ref_cache_grid),
	 * valid for ref_version of meta; ref_fresh is 1 once that version
	 * was read in the writer's transaction. */
	struct ref_grid *refs;
	int64_t ref_version;
	int ref_fresh;
	int ref_written; /* this transaction wrote reference data */
	/* The change sequences of the grids the writer transaction has
	 * written versions of (seq_next): the row of change_seq, locked,
	 * held seq when locked or last written back, and the last number
	 * given out since. */
	struct {
		char grid[GB_CODE_LEN];
		int64_t held, next;
	} seqs[SEQ_MAX];
	int nseqs;
	/* A statement of the writer transaction failed for what another
	 * server's writer did at the same moment (is_race): the transaction
	 * is lost as a whole, and rollback_to says so. */
	int raced;
	/* The writer transaction has sent its NOTIFY (pg_batch_put). */
	int notified;
	/* In STORE_SERVE mode the writer's transaction runs in libpq's
	 * pipeline mode (pipe): a statement whose result is not needed (a
	 * write: exec_wr, rows_add) is sent and not waited for,
	 * and the next one that is waited for reads the results of those
	 * before it (pipe_wait).  pending of them are unread, the what of
	 * each in whats; late_what is that of the write whose failure
	 * pipe_wait gave instead of the result waited for. */
	int pipe;
	int pending;
	struct rows *rows[ROWS_N]; /* rows_add, made when first needed */
	int sending_rows;	   /* rows_send is sending its statement */
	/* The ids current_prefetch found without a current row, sorted,
	 * each with whether current_put has given it one since; valid in
	 * the writer's transaction until it or its savepoint ends. */
	struct absent {
		unsigned char id[16];
		int gone;
	} * absent;
	size_t nabsent;
	const char *whats[PIPE_MAX];
	const char *late_what;
	/* In the pipeline the first failure of the transaction is the one
	 * told from then on (w_fail); no_answer: the last wait got no sync
	 * (the connection failed). */
	int stuck;
	struct gb_err stuck_err;
	int no_answer;
	/* The backend of the writer connection, whose own notifications
	 * the listener ignores. */
	atomic_int writer_pid;
	/* The listener thread (watch), when running. */
	pthread_t watcher;
	int watching;
	atomic_int watch_stop;
	void (*wake)(void *arg);
	void *wake_arg;
};

static struct pg_store *impl(struct store *s)
{
	return (struct pg_store *)s;
}

/* ---- statements ---- */

/* The parameters of one statement, held here (numbers and ids are
 * converted into the struct, strings and bytes borrowed). */
struct params {
	int n;
	const char *v[PARAM_MAX];
	int len[PARAM_MAX];
	int fmt[PARAM_MAX];
	int64_t i64[PARAM_MAX]; /* the number of a p_i64 parameter */
	char num[PARAM_MAX][24];
	unsigned char uuid[PARAM_MAX][16];
};

/* A text parameter; NULL is SQL NULL. */
static void p_text(struct params *p, const char *s)
{
	assert(p->n < PARAM_MAX);
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

/* A bigint parameter, in text as "%" PRId64 writes it; the number is
 * kept too, for the binary arrays of rows_add. */
static void p_i64(struct params *p, int64_t v)
{
	assert(p->n < PARAM_MAX);
	gb_i64_text(p->num[p->n], v);
	p->i64[p->n] = v;
	p_text(p, p->num[p->n]);
}
static void p_bytes(struct params *p, const void *b, size_t n)
{
	assert(p->n < PARAM_MAX && n <= INT32_MAX);
	p->v[p->n] = b;
	p->len[p->n] = (int)n;
	p->fmt[p->n] = 1;
	p->n++;
}

/* A UUID as its 16 bytes; text that is not a UUID as its bytes, which
 * then match no id (as the SQLite store binds it). */
static void p_uuid(struct params *p, const char *id)
{
	assert(p->n < PARAM_MAX);
	if (id && gb_uuid_bytes(id, p->uuid[p->n]) == 0)
		p_bytes(p, p->uuid[p->n], 16);
	else if (id)
		p_bytes(p, id, strlen(id));
	else
		p_text(p, NULL);
}

/* The first line of a libpq message, into out. */
static void first_line(const char *msg, char *out, size_t n)
{
	size_t k = msg ? strcspn(msg, "\n") : 0;

	snprintf(out, n, "%.*s", (int)k, msg ? msg : "");
}

/*
 * Fills err for a failed statement (res may be NULL) and returns -1.
 * What PostgreSQL says is passing (out of disk or memory, a serialization
 * failure or deadlock, a server shutting down, a connection lost) is
 * GB_EBUSY, which a device tries again; the rest GB_EDB.  what is marked
 * with N_().
 */
static int pg_fail(PGconn *c, PGresult *res, struct gb_err *err,
		   const char *what)
{
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[200];

	first_line(primary ? primary : PQerrorMessage(c), msg, sizeof(msg));
	if (PQstatus(c) != CONNECTION_OK ||
	    (state && (!strncmp(state, "53", 2) || !strncmp(state, "08", 2) ||
		       !strcmp(state, "40001") || !strcmp(state, "40P01") ||
		       !strncmp(state, "57P", 3))))
		return gb_error(err, GB_EBUSY, _("store: %s: %s"), _(what),
				msg);
	return gb_error(err, GB_EDB, _("store: %s: %s"), _(what), msg);
}

/* Whether PostgreSQL failed a statement for what another transaction
 * did at the same moment: a deadlock or a serialization failure.  A
 * unique key both wrote is not among them: it fails the one statement
 * (race_or_fail), the savepoint keeps the rest, and under the grid lock
 * ingest takes it cannot happen to a batch or a version. */
static int is_race(const PGresult *res)
{
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state && (!strcmp(state, "40P01") || !strcmp(state, "40001"));
}

/*
 * Runs sql with the parameters p (may be NULL), results in binary.
 * Returns the result, which the caller frees with PQclear, or NULL with
 * err when the statement failed.
 */
static PGresult *run(PGconn *c, const char *sql, const struct params *p,
		     const char *what, struct gb_err *err)
{
	PGresult *res =
	    PQexecParams(c, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
			 p ? p->len : NULL, p ? p->fmt : NULL, 1);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_fail(c, res, err, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Runs a statement whose result is not needed. */
static int exec(PGconn *c, const char *sql, const struct params *p,
		const char *what, struct gb_err *err)
{
	PGresult *res = run(c, sql, p, what, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

static int race_or_fail(PGconn *c, PGresult *res, struct gb_err *err,
			const char *what);

/* ---- the writer's pipeline ---- */

/*
 * In STORE_SERVE mode the writer's transaction runs in libpq's pipeline
 * mode (s->pipe, from BEGIN to COMMIT): a write is sent and not waited
 * for (exec_later), so that ingest's rows of a version and of its report
 * facts cost no round trip each; the next statement that is waited for
 * ends what was sent with a sync and reads every result up to it
 * (pipe_wait).  PostgreSQL runs the statements in the order sent, so a
 * read sees the writes before it; a write that failed fails the
 * statement waited for after it (whose caller then fails the
 * transaction, or the savepoint: RELEASE is waited for, so a batch's
 * failures are its own), and its words are kept (late_what).
 */

/* What a failed statement on the writer was doing: the write pipe_wait
 * found failed, when that is what failed, else what. */
static const char *what_of(struct pg_store *s, const char *what)
{
	const char *w = s->late_what ? s->late_what : what;

	s->late_what = NULL;
	return w;
}

/*
 * Ends what the writer sent in its pipeline with a sync and reads every
 * result up to it.  Returns the result of the statement sent last (the
 * one waited for), or, when one before it failed, that failure (those
 * after it were not run; s->late_what says what it was); NULL when the
 * connection failed.  A lost race marks the transaction (s->raced).
 * The caller frees the result.
 */
static PGresult *pipe_wait(struct pg_store *s)
{
	PGresult *last = NULL, *bad = NULL;
	int k = 0, nulls = 0, synced = 0;

	s->late_what = NULL;
	if (PQpipelineSync(s->conn)) {
		for (;;) {
			PGresult *res = PQgetResult(s->conn);
			ExecStatusType st;

			if (!res) {
				/* one after the results of each statement */
				if (PQstatus(s->conn) != CONNECTION_OK ||
				    ++nulls > k + 1)
					break;
				continue;
			}
			st = PQresultStatus(res);
			if (st == PGRES_PIPELINE_SYNC) {
				PQclear(res);
				synced = 1;
				break;
			}
			if (st == PGRES_PIPELINE_ABORTED) {
				PQclear(res);
			} else if (st != PGRES_COMMAND_OK &&
				   st != PGRES_TUPLES_OK) {
				s->raced |= is_race(res);
				if (!bad) {
					bad = res;
					if (k < s->pending)
						s->late_what = s->whats[k];
				} else {
					PQclear(res);
				}
			} else {
				PQclear(last);
				last = res;
			}
			k++;
		}
	}
	s->pending = 0;
	s->no_answer = !synced && !bad;
	if (bad || !synced) {
		PQclear(last);
		return bad;
	}
	return last;
}

static void rows_drop(struct pg_store *s);
static int writer_reset(struct pg_store *s);

/* Leaves the pipeline, dropping the rows held and reading what is left
 * of it, so that the writer connection takes PQexec again. */
static void pipe_off(struct pg_store *s)
{
	if (!s->pipe)
		return;
	rows_drop(s);
	if (s->pending > 0)
		PQclear(pipe_wait(s));
	s->late_what = NULL;
	s->pipe = 0;
	if (!PQexitPipelineMode(s->conn))
		(void)writer_reset(s); /* what is left of it goes with it */
}

/*
 * The index in s->prep of sql, prepared on the writer connection the
 * first time (in the pipeline, waited for), its name in name: then the
 * statements of ingest's hot path are parsed and planned once per
 * connection, not once per record.  -1 when PREP_MAX are prepared
 * already (sql is then sent as it is); -2 with *fail (may be NULL) when
 * preparing failed.
 */
static int prep_get(struct pg_store *s, const char *sql, int n, char name[16],
		    PGresult **fail)
{
	PGresult *res;
	int i = 0;

	while (i < s->nprep && s->prep[i] != sql)
		i++;
	if (i == PREP_MAX)
		return -1;
	snprintf(name, 16, "gb%d", i);
	if (i < s->nprep)
		return i;
	if (s->pipe)
		res = PQsendPrepare(s->conn, name, sql, n, NULL) ? pipe_wait(s)
								 : NULL;
	else
		res = PQprepare(s->conn, name, sql, n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		*fail = res;
		return -2;
	}
	PQclear(res);
	s->prep[s->nprep++] = sql;
	return i;
}

static int rows_send_all(struct pg_store *s, struct gb_err *err);

/* Sends sql, prepared (prep_get) when prepare, in the writer's
 * pipeline, after the rows held (rows_send_all) unless it is one of
 * theirs.  Returns 0, or -1 with *fail (may be NULL). */
static int pipe_send(struct pg_store *s, const char *sql, int prepare, int n,
		     const char *const *v, const int *len, const int *fmt,
		     PGresult **fail)
{
	struct gb_err err;
	char name[16];
	int i;

	*fail = NULL;
	if (!s->sending_rows && rows_send_all(s, &err) < 0)
		return -1;
	i = prepare ? prep_get(s, sql, n, name, fail) : -1;
	if (i == -2)
		return -1;
	if (i >= 0 ? PQsendQueryPrepared(s->conn, name, n, v, len, fmt, 1)
		   : PQsendQueryParams(s->conn, sql, n, NULL, v, len, fmt, 1))
		return 0;
	return -1;
}

/*
 * Fills err for a statement of the writer that failed (res, may be NULL)
 * and returns -1; one that lost a race marks the transaction (s->raced).
 * In the pipeline the first failure of the transaction is the one told
 * from then on: what fails after it fails for it (PostgreSQL aborted the
 * transaction), and whether the work is worth doing again is the first
 * one's to say.
 */
static int w_fail(struct pg_store *s, PGresult *res, struct gb_err *err,
		  const char *what)
{
	struct gb_err mine;

	s->raced |= is_race(res);
	if (!err)
		err = &mine;
	if (s->stuck) {
		*err = s->stuck_err;
		return -1;
	}
	race_or_fail(s->conn, res, err, what_of(s, what));
	if (s->pipe) {
		s->stuck = 1;
		s->stuck_err = *err;
	}
	return -1;
}

/* The result res of a statement on the writer connection, or NULL with
 * err (res freed) when it failed (w_fail). */
static PGresult *w_checked(struct pg_store *s, PGresult *res, const char *what,
			   struct gb_err *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		w_fail(s, res, err, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Runs sql, not kept prepared, on the writer connection: waited for in
 * the pipeline, else at once.  What libpq returns. */
static PGresult *exec_plain_w(struct pg_store *s, const char *sql, int n,
			      const char *const *v, const int *len,
			      const int *fmt)
{
	PGresult *res;

	if (s->pipe)
		return pipe_send(s, sql, 0, n, v, len, fmt, &res) < 0
			   ? res
			   : pipe_wait(s);
	return PQexecParams(s->conn, sql, n, NULL, v, len, fmt, 1);
}

/* As run and exec, on the writer connection, for a statement not kept
 * prepared (exec_w). */
static PGresult *wrun(struct pg_store *s, const char *sql,
		      const struct params *p, const char *what,
		      struct gb_err *err)
{
	return w_checked(s,
			 exec_plain_w(s, sql, p ? p->n : 0, p ? p->v : NULL,
				      p ? p->len : NULL, p ? p->fmt : NULL),
			 what, err);
}

static int wexec(struct pg_store *s, const char *sql, const struct params *p,
		 const char *what, struct gb_err *err)
{
	PGresult *res = wrun(s, sql, p, what, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * Runs sql on the writer connection as a prepared statement (prep_get),
 * waiting for its result: sql must be a string constant (its address is
 * the key).  Returns what libpq returns.
 */
static PGresult *exec_w(struct pg_store *s, const char *sql, int n,
			const char *const *v, const int *len, const int *fmt)
{
	PGresult *res = NULL;
	char name[16];
	int i;

	if (s->pipe)
		return pipe_send(s, sql, 1, n, v, len, fmt, &res) < 0
			   ? res
			   : pipe_wait(s);
	i = prep_get(s, sql, n, name, &res);
	if (i == -2)
		return res;
	res = i < 0 ? PQexecParams(s->conn, sql, n, NULL, v, len, fmt, 1)
		    : PQexecPrepared(s->conn, name, n, v, len, fmt, 1);
	if (PQresultStatus(res) == PGRES_FATAL_ERROR)
		s->raced |= is_race(res);
	return res;
}

/*
 * A write whose result is not needed, sql prepared (exec_w) when prepare:
 * in the pipeline sent and not waited for (its failure comes with the
 * next statement waited for, pipe_wait), else run at once.  Returns 0,
 * or -1 with err; one that lost a race to another server (a key both
 * wrote) is GB_EBUSY (race_or_fail).
 */
static int exec_later(struct pg_store *s, const char *sql, int prepare, int n,
		      const char *const *v, const int *len, const int *fmt,
		      const char *what, struct gb_err *err)
{
	PGresult *res = NULL;
	ExecStatusType st;

	if (s->pipe) {
		if (pipe_send(s, sql, prepare, n, v, len, fmt, &res) < 0)
			goto fail;
		s->whats[s->pending++] = what;
		if (s->pending < PIPE_MAX)
			return 0;
		res = pipe_wait(s);
	} else {
		res = prepare
			  ? exec_w(s, sql, n, v, len, fmt)
			  : PQexecParams(s->conn, sql, n, NULL, v, len, fmt, 1);
	}
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
fail:
	w_fail(s, res, err, what);
	PQclear(res);
	return -1;
}

/* As run, on the writer connection through exec_w. */
static PGresult *run_w(struct pg_store *s, const char *sql,
		       const struct params *p, const char *what,
		       struct gb_err *err)
{
	return w_checked(s,
			 exec_w(s, sql, p ? p->n : 0, p ? p->v : NULL,
				p ? p->len : NULL, p ? p->fmt : NULL),
			 what, err);
}

/* A write on the writer connection (exec_later, prepared). */
static int exec_wr(struct pg_store *s, const char *sql, const struct params *p,
		   const char *what, struct gb_err *err)
{
	return exec_later(s, sql, 1, p ? p->n : 0, p ? p->v : NULL,
			  p ? p->len : NULL, p ? p->fmt : NULL, what, err);
}

/* ---- rows sent together ---- */

/*
 * In the pipeline the writes of ingest's hot path (a version's rows of
 * the history and of the current records, a record's fact row) are not
 * sent one by one: the parameters of each row are added to those of the
 * rows before it of the same statement, one array a parameter, and sent
 * as one statement, INSERT ... SELECT * FROM unnest($1::bytea[], ...),
 * made from the one-row statement (rows_sql).  The rows held go before
 * any other statement is sent (rows_send_all, from pipe_send), so that
 * PostgreSQL sees each table's writes in the order they were made, and
 * those of other tables before anything that might read them; the
 * tables held are written by nothing else in between (no foreign key or
 * trigger joins them).  A row whose key (its record and grid, or a
 * counter's codes and grid) is among those held goes after them, since
 * one statement may not update a row twice.
 */
struct rows {
	char *sql;		  /* the statement of many rows */
	char type[ROWS_COLS + 1]; /* of each parameter: b bytea, t text,
				     i bigint */
	const char *what;
	int n;
	struct gb_buf col[ROWS_COLS];
	int hasnull[ROWS_COLS];
	unsigned char id[ROWS_MAX][16];
	char grid[ROWS_MAX][GB_CODE_LEN];
	unsigned short at[ROWS_HASH]; /* by key: 1 + the row, or 0 */
};

/*
 * The statement of many rows of one-row sql, INSERT ... VALUES ($a, $b,
 * ...) ...: the VALUES list becomes SELECT * FROM unnest($a::T[], ...),
 * T the type of each parameter (type); when plain, without the ON
 * CONFLICT clause right after the list.  NULL when sql has no such list.
 */
static char *rows_sql(const char *sql, const char *type, int plain)
{
	static const char *const names[] = {"bytea", "text", "bigint"};
	const char *v = strstr(sql, "VALUES ("),
		   *end = v ? strchr(v, ')') : NULL;
	struct gb_buf b;
	struct gb_err err;
	int first = 1;

	if (!end)
		return NULL;
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	gb_buf_add(&b, sql, (size_t)(v - sql), &err);
	gb_buf_adds(&b, "SELECT * FROM unnest(", &err);
	for (const char *at = v + 8; at < end; at++) {
		char *after;
		long k;

		if (*at != '$')
			continue;
		k = strtol(at + 1, &after, 10);
		if (k < 1 || k > (long)strlen(type)) {
			gb_buf_release(&b);
			return NULL;
		}
		gb_buf_addf(&b, &err, "%s$%ld::%s[]", first ? "" : ", ", k,
			    names[strchr("bti", type[k - 1]) - "bti"]);
		first = 0;
		at = after - 1;
	}
	gb_buf_adds(&b, ")", &err);
	/* What follows the list, but for the ON CONFLICT clause when plain. */
	if (!plain || strncmp(end + 1, " ON CONFLICT", 12) != 0)
		gb_buf_adds(&b, end + 1, &err);
	if (gb_buf_add(&b, "", 1, &err) < 0) {
		gb_buf_release(&b);
		return NULL;
	}
	return (char *)b.data;
}

static void put_be32(unsigned char *at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		at[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* The header of a one-dimensional array in binary, of n elements of
 * type t (b bytea, t text, i bigint), before the elements. */
#define ARRAY_HEADER 20
static void array_header(unsigned char h[ARRAY_HEADER], char t, size_t n,
			 int hasnull)
{
	static const uint32_t oid[] = {17, 25, 20}; /* bytea text int8 */

	put_be32(h, 1);
	put_be32(h + 4, (uint32_t)hasnull);
	put_be32(h + 8, oid[strchr("bti", t) - "bti"]);
	put_be32(h + 12, (uint32_t)n);
	put_be32(h + 16, 1); /* the lower bound */
}

/* Sends the rows held of r as one statement, not waited for. */
static int rows_send(struct pg_store *s, struct rows *r, struct gb_err *err)
{
	const char *v[ROWS_COLS] = {0};
	int len[ROWS_COLS] = {0}, fmt[ROWS_COLS] = {0};
	int ncols = (int)strlen(r->type), rc = 0;

	if (r->n == 0)
		return 0;
	/* The header of each array (one dimension of n), before its
	 * elements: room for it was kept by rows_add. */
	for (int c = 0; c < ncols; c++) {
		array_header((unsigned char *)r->col[c].data, r->type[c],
			     (size_t)r->n, r->hasnull[c]);
		v[c] = r->col[c].data;
		len[c] = (int)r->col[c].len;
		fmt[c] = 1;
	}
	r->n = 0;
	memset(r->at, 0, sizeof(r->at));
	s->sending_rows = 1;
	rc = exec_later(s, r->sql, 1, ncols, v, len, fmt, r->what, err);
	s->sending_rows = 0;
	for (int c = 0; c < ncols; c++) {
		gb_buf_reset(&r->col[c]);
		r->hasnull[c] = 0;
	}
	return rc;
}

/* Sends every statement of rows held (before any other statement). */
static int rows_send_all(struct pg_store *s, struct gb_err *err)
{
	for (int i = 0; i < ROWS_N; i++)
		if (s->rows[i] && s->rows[i]->n > 0 &&
		    rows_send(s, s->rows[i], err) < 0)
			return -1;
	return 0;
}

/* Drops the rows held (the transaction or savepoint is undone). */
static void rows_drop(struct pg_store *s)
{
	for (int i = 0; i < ROWS_N; i++) {
		struct rows *r = s->rows[i];

		if (!r)
			continue;
		r->n = 0;
		memset(r->at, 0, sizeof(r->at));
		for (int c = 0; c < ROWS_COLS; c++) {
			gb_buf_reset(&r->col[c]);
			r->hasnull[c] = 0;
		}
	}
}

static void rows_free(struct pg_store *s)
{
	for (int i = 0; i < ROWS_N; i++) {
		if (!s->rows[i])
			continue;
		for (int c = 0; c < ROWS_COLS; c++)
			gb_buf_release(&s->rows[i]->col[c]);
		free(s->rows[i]->sql);
		free(s->rows[i]);
	}
}

/* Adds one element of a parameter of type t to the array col: v, or
 * for a bigint *num when not NULL (the number v says). */
static int rows_elem(struct gb_buf *col, int *hasnull, char t, const char *v,
		     int len, int fmt, const int64_t *num, struct gb_err *err)
{
	unsigned char n4[4], i8[8];
	const void *at = v;
	size_t n;

	if (!v) {
		*hasnull = 1;
		put_be32(n4, 0xffffffffu); /* -1: NULL */
		return gb_buf_add(col, n4, 4, err);
	}
	n = fmt ? (size_t)len : strlen(v);
	if (t == 'i') {
		uint64_t x =
		    num ? (uint64_t)*num : (uint64_t)strtoll(v, NULL, 10);

		for (int i = 0; i < 8; i++)
			i8[i] = (unsigned char)(x >> (56 - 8 * i));
		at = i8;
		n = 8;
	}
	put_be32(n4, (uint32_t)n);
	if (gb_buf_add(col, n4, 4, err) < 0)
		return -1;
	return gb_buf_add(col, at, n, err);
}

/* The key of a row whose parameter k is its record's id (p_uuid): its
 * 16 bytes, or, for an id that is not a UUID, 16 zeros (which stands
 * for all such ids: their rows then merely go in more statements). */
static const unsigned char *rows_key(const struct params *p, int k)
{
	static const unsigned char none[16];

	return p->fmt[k] && p->len[k] == 16 ? (const unsigned char *)p->v[k]
					    : none;
}

/* The slot in r->at of key (id, grid): the one of the row held with that
 * key, or the free one where it goes. */
static unsigned short *rows_slot(struct rows *r, const unsigned char id[16],
				 const char *grid)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	unsigned short *at;

	for (int i = 0; i < 16; i++)
		h = (h ^ id[i]) * 16777619u;
	for (const char *g = grid; *g; g++)
		h = (h ^ (unsigned char)*g) * 16777619u;
	for (;; h++) {
		at = &r->at[h & (ROWS_HASH - 1)];
		if (!*at || (!memcmp(r->id[*at - 1], id, 16) &&
			     !strcmp(r->grid[*at - 1], grid)))
			return at;
	}
}

/*
 * A write of the statement sql (a constant, INSERT ... VALUES) whose
 * rows go together (the slot's; plain: without its ON CONFLICT clause),
 * its parameters p of the types type; key (16 bytes) and grid its key,
 * or key NULL.  Out of the pipeline it is written at once.
 */
static int rows_add(struct pg_store *s, int slot, int plain, const char *sql,
		    const char *type, const unsigned char *key,
		    const char *grid, const struct params *p, const char *what,
		    struct gb_err *err)
{
	struct rows *r = s->rows[slot];
	unsigned char id[16] = {0};
	unsigned short *at = NULL;
	int n = p->n;

	if (!s->pipe || (int)strlen(type) != n || n > ROWS_COLS)
		return exec_later(s, sql, 1, n, p->v, p->len, p->fmt, what,
				  err);
	if (!r) {
		char *many = rows_sql(sql, type, plain);

		if (!many)
			return exec_later(s, sql, 1, n, p->v, p->len, p->fmt,
					  what, err);
		r = s->rows[slot] = xcalloc(1, sizeof(*r));
		r->sql = many;
		snprintf(r->type, sizeof(r->type), "%s", type);
		r->what = what;
		for (int c = 0; c < ROWS_COLS; c++)
			gb_buf_init(&r->col[c], GB_BUF_NOLIMIT);
	}
	/* All of them, in their order: a table's new rows go before the
	 * others of that table. */
	if (r->n == ROWS_MAX && rows_send_all(s, err) < 0)
		return -1;
	if (key) {
		memcpy(id, key, 16);
		if (!grid)
			grid = "";
		at = rows_slot(r, id, grid);
		if (*at) {
			if (rows_send_all(s, err) < 0)
				return -1;
			at = rows_slot(r, id, grid);
		}
	}
	for (int c = 0; c < n; c++) {
		static const unsigned char room[ARRAY_HEADER];

		if ((r->n == 0 &&
		     gb_buf_add(&r->col[c], room, sizeof(room), err) < 0) ||
		    rows_elem(&r->col[c], &r->hasnull[c], type[c], p->v[c],
			      p->len[c], p->fmt[c],
			      p->v[c] == p->num[c] ? &p->i64[c] : NULL,
			      err) < 0)
			return -1;
	}
	memcpy(r->id[r->n], id, 16);
	snprintf(r->grid[r->n], sizeof(r->grid[0]), "%s", grid ? grid : "");
	r->n++;
	if (at)
		*at = (unsigned short)r->n;
	return 0;
}

/* The rows a statement touched. */
static long affected(PGresult *res)
{
	return strtol(PQcmdTuples(res), NULL, 10);
}

/* A bigint (or int, smallint, boolean) column of a binary result; 0 when
 * NULL. */
static int64_t col_i64(const PGresult *r, int row, int col)
{
	const unsigned char *b;
	uint64_t v = 0;
	int n;

	if (PQgetisnull(r, row, col))
		return 0;
	b = (const unsigned char *)PQgetvalue(r, row, col);
	n = PQgetlength(r, row, col);
	if (n != 1 && n != 2 && n != 4 && n != 8)
		return 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | b[i];
	if (n < 8 && (b[0] & 0x80)) /* sign-extend */
		v |= ~(uint64_t)0 << (8 * n);
	return (int64_t)v;
}

/* A text column into out; "" when NULL. */
static void col_text(const PGresult *r, int row, int col, char *out, size_t n)
{
	snprintf(out, n, "%s",
		 PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* A text column, borrowed from r; NULL when NULL. */
static const char *col_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* ---- connections ---- */

/* Notices (a table that exists already ...) are PostgreSQL talking to a
 * person at a terminal; errors come back with each statement.  libpq
 * would print them on stderr, and only main prints. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A new connection to s->url, or NULL with err.  The first one names the
 * store (s->name) without the user and password the URL may hold, from
 * what libpq made of it, connected or not. */
static PGconn *connect_db(struct pg_store *s, struct gb_err *err)
{
	/* Defaults the URL may override, the URL, then what it may not
	 * (libpq takes the last value given for each keyword). */
	static const char *const keys[] = {"application_name",
					   "connect_timeout", "dbname",
					   "client_encoding", NULL};
	const char *vals[] = {"gridbook-hq", "10", s->url, "UTF8", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	char msg[200];

	if (!c) {
		gb_error(err, GB_EDB, _("store: connecting to %s: %s"),
			 "PostgreSQL", "out of memory");
		return NULL;
	}
	if (!s->name)
		s->name = xasprintf(
		    "postgresql://%s:%s/%s", PQhost(c) ? PQhost(c) : "",
		    PQport(c) ? PQport(c) : "", PQdb(c) ? PQdb(c) : "");
	if (PQstatus(c) != CONNECTION_OK) {
		first_line(PQerrorMessage(c), msg, sizeof(msg));
		gb_error(err, GB_EDB, _("store: connecting to %s: %s"), s->name,
			 msg);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static int facts_prepare(PGconn *c, struct gb_err *err);

/*
 * A connection for one reader, any thread: in STORE_SERVE mode one of
 * the pool (or a new one), which sees only what is committed; in
 * STORE_ADMIN mode the one connection of the store.  Give it back with
 * reader_put.
 */
static int reader_get(struct pg_store *s, PGconn **out, struct gb_err *err)
{
	PGconn *c = NULL;

	if (s->mode == STORE_ADMIN) {
		*out = s->conn;
		return 0;
	}
	pthread_mutex_lock(&s->pool_mu);
	if (s->npool > 0)
		c = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_mu);
	if (!c) {
		c = connect_db(s, err);
		if (c && facts_prepare(c, err) < 0) {
			PQfinish(c);
			c = NULL;
		}
	}
	*out = c;
	return c ? 0 : -1;
}

/* Takes the connection back, idle: one that broke is closed. */
static void reader_put(struct pg_store *s, PGconn *c)
{
	if (s->mode == STORE_ADMIN || !c)
		return;
	if (PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
	if (PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) == PQTRANS_IDLE) {
		pthread_mutex_lock(&s->pool_mu);
		if (s->npool < POOL_MAX) {
			s->pool[s->npool++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&s->pool_mu);
	}
	PQfinish(c);
}

/* Opens a read-only snapshot on c unless c is in a transaction already
 * (the one connection of STORE_ADMIN in a command's transaction); *own
 * says whether to end it (read_end). */
static int read_begin(PGconn *c, int *own, const char *what, struct gb_err *err)
{
	*own = PQtransactionStatus(c) == PQTRANS_IDLE;
	if (*own && exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			 NULL, what, err) < 0)
		return -1;
	return 0;
}

static void read_end(PGconn *c, int own)
{
	if (own && PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
}

/* ---- the change sequence of each grid ---- */

/*
 * Every version gets the next number of its grid.  Taking it from the
 * row of change_seq for each version made that row as many new row
 * versions in one transaction, each found by walking past the ones
 * before: the cost of a transaction grew with the square of its versions
 * (10,000 versions took seconds).  So the row is locked once, at the
 * first version of the grid in the transaction (held to its end, which
 * keeps the grid's versions committing in the order of their numbers),
 * the numbers are counted here, and the row is written back before each
 * savepoint and at commit.  A savepoint rolled back takes back its rows
 * and the locks it took, so what is counted here is dropped with it:
 * the rows hold what was written back when the savepoint opened.
 */
static int seq_flush(struct pg_store *s, struct gb_err *err)
{
	struct params p;

	for (int i = 0; i < s->nseqs; i++) {
		if (s->seqs[i].next == s->seqs[i].held)
			continue;
		memset(&p, 0, sizeof(p));
		p_text(&p, s->seqs[i].grid);
		p_i64(&p, s->seqs[i].next);
		if (exec_wr(s, "UPDATE change_seq SET seq = $2 WHERE grid = $1",
			    &p, N_("storing a record version"), err) < 0)
			return -1;
		s->seqs[i].held = s->seqs[i].next;
	}
	return 0;
}

/* The index in s->seqs of grid, locking its row of change_seq (made when
 * missing) the first time in the transaction; -1 with err. */
static int seq_take(struct pg_store *s, const char *grid, struct gb_err *err)
{
	struct params p;
	PGresult *res;
	int i;

	for (i = 0; i < s->nseqs; i++)
		if (!strcmp(s->seqs[i].grid, grid))
			return i;
	if (s->nseqs == SEQ_MAX) {
		/* Written back, the rows stay locked; read again below. */
		if (seq_flush(s, err) < 0)
			return -1;
		s->nseqs = 0;
	}
	memset(&p, 0, sizeof(p));
	p_text(&p, grid);
	res =
	    run_w(s,
		  "INSERT INTO change_seq AS c (grid, seq) VALUES ($1, 0) "
		  "ON CONFLICT (grid) DO UPDATE SET seq = c.seq RETURNING seq",
		  &p, N_("storing a record version"), err);
	if (!res)
		return -1;
	i = s->nseqs++;
	snprintf(s->seqs[i].grid, sizeof(s->seqs[i].grid), "%s", grid);
	s->seqs[i].held = s->seqs[i].next = col_i64(res, 0, 0);
	PQclear(res);
	return i;
}

/* The next change number of grid into *out, in the writer transaction. */
static int seq_next(struct pg_store *s, const char *grid, int64_t *out,
		    struct gb_err *err)
{
	int i = seq_take(s, grid, err);

	if (i < 0)
		return -1;
	*out = ++s->seqs[i].next;
	return 0;
}

/*
 * The grid's lock is its row of change_seq, the one seq_next locks: a
 * row of a table distributed by grid (docs/citus.md), so that Citus
 * locks it on the node of the grid, and the change numbers of the grid
 * commit in order with it.  Held to the end of the transaction (or of
 * the savepoint it was taken in, if that is rolled back).
 */
static int pg_grid_lock(struct store *st, const char *grid, struct gb_err *err)
{
	return seq_take(impl(st), grid, err) < 0 ? -1 : 0;
}

/* ---- transactions ---- */

static void ref_cache_drop(struct pg_store *s);

/* The writer connects again: a new connection has no statement
 * prepared, and what was read on the old one is read again.  -1 when it
 * could not. */
static int writer_reset(struct pg_store *s)
{
	PQreset(s->conn);
	s->nprep = 0;
	s->facts_prepared = 0;
	ref_cache_drop(s);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return -1;
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	atomic_store(&s->writer_pid, PQbackendPID(s->conn));
	return 0;
}

/* A writer whose connection broke (PostgreSQL restarted) connects again
 * here, between transactions. */
static int pg_begin(struct store *st, struct gb_err *err)
{
	struct pg_store *s = impl(st);

	if (PQstatus(s->conn) != CONNECTION_OK && writer_reset(s) < 0)
		return pg_fail(s->conn, NULL, err,
			       N_("starting a transaction"));
	s->nseqs = 0;
	s->nabsent = 0;
	s->raced = 0;
	s->notified = 0;
	s->ref_fresh = 0;
	s->ref_written = 0;
	s->stuck = 0;
	if (s->mode == STORE_SERVE) {
		if (!PQenterPipelineMode(s->conn))
			return pg_fail(s->conn, NULL, err,
				       N_("starting a transaction"));
		s->pipe = 1;
		s->pending = 0;
		if (exec_later(s, "BEGIN", 1, 0, NULL, NULL, NULL,
			       N_("starting a transaction"), err) < 0) {
			pipe_off(s);
			return -1;
		}
		return 0;
	}
	return wexec(s, "BEGIN", NULL, N_("starting a transaction"), err);
}

static int pg_commit(struct store *st, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	PGresult *res = NULL;
	int rc = -1;

	if (seq_flush(s, err) < 0)
		goto out;
	s->no_answer = 0;
	res = wrun(s, "COMMIT", NULL, N_("committing"), err);
	if (!res) {
		/* A COMMIT that lost a race was rolled back and may be run
		 * again; one that got no answer (the connection broke) may
		 * have committed, and running its group again would write
		 * the group's audit entries twice: not busy, failed.  In the
		 * pipeline a COMMIT after a write that failed was not run
		 * (the write's failure is told), and one that was answered
		 * was not lost. */
		if (err->code == GB_EBUSY && !s->raced &&
		    (!s->pipe || s->no_answer))
			err->code = GB_EDB;
		goto out;
	}
	/* COMMIT of a transaction that failed rolls it back, and says so
	 * only in its tag. */
	if (!strcmp(PQcmdStatus(res), "ROLLBACK")) {
		gb_error(err, GB_EDB, _("store: %s: %s"), _("committing"),
			 _("the transaction had failed and was rolled back"));
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	s->nseqs = 0;
	s->nabsent = 0;
	s->ref_fresh = 0;
	s->ref_written = 0;
	pipe_off(s);
	s->stuck = 0;
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	return rc;
}

static void pg_rollback(struct store *st)
{
	struct pg_store *s = impl(st);

	s->nseqs = 0;
	s->nabsent = 0;
	s->raced = 0;
	s->ref_fresh = 0;
	s->ref_written = 0;
	pipe_off(s);
	s->stuck = 0;
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

static int pg_savepoint(struct store *st, struct gb_err *err)
{
	struct pg_store *s = impl(st);

	/* The change sequences written back go unwaited before it: the
	 * rows are this transaction's, locked, so that only a broken
	 * connection fails them, which fails the transaction anyway. */
	if (seq_flush(s, err) < 0)
		return -1;
	return exec_later(s, "SAVEPOINT batch", 1, 0, NULL, NULL, NULL,
			  N_("opening a savepoint"), err);
}

static int pg_release(struct store *st, struct gb_err *err)
{
	return wexec(impl(st), "RELEASE SAVEPOINT batch", NULL,
		     N_("releasing a savepoint"), err);
}

static int pg_rollback_to(struct store *st)
{
	struct pg_store *s = impl(st);

	/* What was sent is read first: a race lost there is the
	 * transaction's. */
	rows_drop(s);
	if (s->pipe && s->pending > 0)
		PQclear(pipe_wait(s));
	if (PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		return -1;
	s->nseqs = 0; /* the rows hold what the savepoint began with */
	s->nabsent = 0;
	/* A race lost: the locks this transaction holds are what the other
	 * one waits for (a deadlock), or it read what is no longer so;
	 * only all of it again, in a new transaction, is sure to do. */
	if (s->raced) {
		pg_rollback(st);
		return -1;
	}
	s->notified = 0; /* a NOTIFY in the savepoint went with it */
	s->stuck = 0;	 /* what failed is undone with it */
	if (wexec(s, "ROLLBACK TO SAVEPOINT batch", NULL, "rollback to", NULL) <
		0 ||
	    wexec(s, "RELEASE SAVEPOINT batch", NULL, "release", NULL) < 0)
		return -1;
	return 0;
}

/* PostgreSQL checkpoints by itself. */
static int pg_checkpoint(struct store *st, int mode, struct gb_err *err)
{
	(void)st;
	(void)mode;
	(void)err;
	return 0;
}

/* The disk of a PostgreSQL server is not this program's to look at; a
 * full one fails the transaction with GB_EBUSY (pg_fail). */
static int pg_room(struct store *st, struct gb_err *err)
{
	(void)st;
	(void)err;
	return 0;
}

static void pg_set_margin(struct store *st, int64_t bytes)
{
	impl(st)->margin = bytes;
}

/* ---- the schema ---- */

/* The schema version of the store: the schema_version of meta, 0 when
 * there is no meta yet (a new database).  Returns 0 or -1 with err. */
static int schema_version(struct pg_store *s, int *v, struct gb_err *err)
{
	PGresult *res = wrun(s, "SELECT to_regclass('meta') IS NOT NULL", NULL,
			     N_("reading the schema version"), err);
	int have_meta;

	if (!res)
		return -1;
	have_meta = col_i64(res, 0, 0) != 0;
	PQclear(res);
	*v = 0;
	if (!have_meta)
		return 0;
	res = wrun(
	    s, "SELECT value::bigint FROM meta WHERE key = 'schema_version'",
	    NULL, N_("reading the schema version"), err);
	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		*v = (int)col_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

/* Under the advisory lock, so that programs starting at once on a new
 * database migrate one after the other, the second finding it done. */
static int pg_migrate(struct store *st, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct params p;
	PGresult *res = NULL;
	char num[16];
	int v;

	if (pg_begin(st, err) < 0)
		return -1;
	/* The schema's scripts go by the simple query protocol, which the
	 * pipeline does not take. */
	pipe_off(s);
	if (wexec(s, "SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ")", NULL,
		  N_("applying the schema"), err) < 0 ||
	    schema_version(s, &v, err) < 0)
		goto fail;
	if (v > gb_schema_pg_n) {
		gb_error(err, GB_EDB,
			 _("store: %s has schema version %d, newer than this "
			   "program knows (%d)"),
			 s->name, v, gb_schema_pg_n);
		goto fail;
	}
	for (; v < gb_schema_pg_n; v++) {
		/* Several statements and no parameters: the simple query
		 * protocol, inside the transaction. */
		res = PQexec(s->conn, gb_schema_pg[v]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK) {
			pg_fail(s->conn, res, err, N_("applying the schema"));
			goto fail;
		}
		PQclear(res);
		res = NULL;
		snprintf(num, sizeof(num), "%d", v + 1);
		memset(&p, 0, sizeof(p));
		p_text(&p, num);
		if (wexec(s,
			  "INSERT INTO meta (key, value) VALUES "
			  "('schema_version', $1) ON CONFLICT (key) DO UPDATE "
			  "SET value = excluded.value",
			  &p, N_("applying the schema"), err) < 0)
			goto fail;
	}
	return pg_commit(st, err);
fail:
	PQclear(res);
	pg_rollback(st);
	return -1;
}

/* Reads the time zone of the store into out ("" when it has none). */
static int tz_read(struct pg_store *s, char *out, size_t n, struct gb_err *err)
{
	PGresult *res = wrun(s, "SELECT value FROM meta WHERE key = 'tz'", NULL,
			     N_("reading the time zone"), err);

	if (!res)
		return -1;
	out[0] = '\0';
	if (PQntuples(res) == 1)
		col_text(res, 0, 0, out, n);
	PQclear(res);
	return 0;
}

/*
 * The reporting time zone is a property of the store (SPEC §3), as in the
 * SQLite store: a new store keeps the zone GRIDBOOK_TZ names
 * (Asia/Shanghai when it names none); a store that has one refuses a
 * GRIDBOOK_TZ that names another, and when GRIDBOOK_TZ is not set, sets it
 * to the store's zone for this process.  Of programs making the store at
 * once, the first one's zone is kept (ON CONFLICT DO NOTHING).
 */
static int tz_settle(struct pg_store *s, struct gb_err *err)
{
	const char *env = getenv("GRIDBOOK_TZ");
	char stored[64] = "";
	int env_off = 0, stored_off;
	struct params p;

	if (env && *env && gb_tz_parse(env, &env_off) < 0)
		return gb_error(err, GB_EUSAGE,
				_("GRIDBOOK_TZ: \"%.40s\" is not a time zone "
				  "(+hh:mm, UTC or Asia/Shanghai)"),
				env);
	if (tz_read(s, stored, sizeof(stored), err) < 0)
		return -1;
	if (!stored[0]) {
		memset(&p, 0, sizeof(p));
		p_text(&p, env && *env ? env : "Asia/Shanghai");
		if (wexec(s,
			  "INSERT INTO meta (key, value) VALUES ('tz', $1) "
			  "ON CONFLICT (key) DO NOTHING",
			  &p, N_("storing the time zone"), err) < 0 ||
		    tz_read(s, stored, sizeof(stored), err) < 0)
			return -1;
	}
	if (gb_tz_parse(stored, &stored_off) < 0)
		return gb_error(err, GB_EDB,
				_("store: time zone \"%.40s\" is not one this "
				  "program knows"),
				stored);
	if (env && *env && env_off != stored_off)
		return gb_error(err, GB_EUSAGE,
				_("GRIDBOOK_TZ: %.40s is not the time zone of "
				  "this store (%s, set when it was created)"),
				env, stored);
	if ((!env || !*env) && setenv("GRIDBOOK_TZ", stored, 1) != 0)
		return gb_error(err, GB_EINTERNAL, _("setting GRIDBOOK_TZ: %s"),
				strerror(errno));
	return 0;
}

/* ---- batches and records ---- */

/*
 * Several gridbook-hq instances may apply the same batch or the same
 * version at once (a device that tried again elsewhere).  Both look it up
 * first and find nothing; the second insert then waits on the key until
 * the first commits, and fails.  That is not an error of the store but a
 * race that the device wins by trying again, when the answer is the one
 * stored: GB_EBUSY.
 */
static int race_or_fail(PGconn *c, PGresult *res, struct gb_err *err,
			const char *what)
{
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (state && !strcmp(state, "23505"))
		return gb_error(err, GB_EBUSY,
				_("store: %s: written at the same time by "
				  "another server; try again"),
				_(what));
	return pg_fail(c, res, err, what);
}

static void copy_hash(const PGresult *r, int row, int col,
		      unsigned char out[STORE_HASH_LEN])
{
	memset(out, 0, STORE_HASH_LEN);
	if (!PQgetisnull(r, row, col) &&
	    PQgetlength(r, row, col) == STORE_HASH_LEN)
		memcpy(out, PQgetvalue(r, row, col), STORE_HASH_LEN);
}

static int pg_batch_get(struct store *st, const char *device, uint64_t seq,
			unsigned char items_hash[STORE_HASH_LEN],
			struct gb_buf *ack, struct gb_err *err)
{
	struct params p;
	PGresult *res;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, device);
	p_i64(&p, (int64_t)seq);
	res = run_w(impl(st),
		    "SELECT items_hash, ack FROM batch WHERE device = $1 AND "
		    "seq = $2",
		    &p, N_("reading a batch"), err);
	if (!res)
		return -1;
	if (PQntuples(res) > 0) {
		copy_hash(res, 0, 0, items_hash);
		rc = 1;
		if (ack && gb_buf_add(ack, PQgetvalue(res, 0, 1),
				      (size_t)PQgetlength(res, 0, 1), err) < 0)
			rc = -1;
	}
	PQclear(res);
	return rc;
}

/* The batch is of its device's grid, taken from device. */
static int pg_batch_put(struct store *st, const char *device, uint64_t seq,
			const unsigned char items_hash[STORE_HASH_LEN],
			size_t nrecords, const void *ack, size_t ack_len,
			int64_t received_at, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct params p;
	PGresult *res;
	long n;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, device);
	p_i64(&p, (int64_t)seq);
	p_bytes(&p, items_hash, STORE_HASH_LEN);
	p_i64(&p, (int64_t)nrecords);
	p_bytes(&p, ack ? ack : "", ack_len);
	p_i64(&p, received_at);
	res = exec_w(s,
		     "INSERT INTO batch (device, seq, grid, items_hash, "
		     "records, ack, received_at) SELECT $1, $2, grid, $3, "
		     "$4, $5, $6 FROM device WHERE id = $1",
		     p.n, p.v, p.len, p.fmt);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		w_fail(s, res, err, N_("recording a batch"));
		PQclear(res);
		return -1;
	}
	n = affected(res);
	PQclear(res);
	if (n == 0)
		return gb_error(err, GB_ENOTFOUND, _("no device %s"), device);
	/* Sent on commit, once however many batches the transaction
	 * holds: a server holding the next batch of a device looks again
	 * (watch). */
	if (!s->notified && exec_wr(s, "SELECT pg_notify('" CHANNEL "', '')",
				    NULL, N_("recording a batch"), err) < 0)
		return -1;
	s->notified = 1;
	return 0;
}

static int pg_batch_high(struct store *st, const char *device, int reader,
			 uint64_t *seq, struct gb_err *err)
{
	static const char sql[] =
	    "SELECT max(seq) FROM batch WHERE device = $1";
	struct pg_store *s = impl(st);
	PGconn *c = s->conn;
	struct params p;
	PGresult *res;

	*seq = 0;
	if (reader && reader_get(s, &c, err) < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p_uuid(&p, device);
	/* The writer's in its transaction (and pipeline), prepared. */
	res = reader ? run(c, sql, &p, N_("reading a batch"), err)
		     : run_w(s, sql, &p, N_("reading a batch"), err);
	if (res)
		*seq = (uint64_t)col_i64(res, 0, 0);
	PQclear(res);
	if (reader)
		reader_put(s, c);
	return res ? 0 : -1;
}

static int pg_version_get(struct store *st, const char *id, uint64_t version,
			  const char *device,
			  unsigned char hash[STORE_HASH_LEN],
			  struct gb_err *err)
{
	struct params p;
	PGresult *res;
	int found;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	p_i64(&p, (int64_t)version);
	p_uuid(&p, device);
	res = run_w(impl(st),
		    "SELECT content_hash FROM record_history WHERE id = $1 AND "
		    "version = $2 AND device = $3",
		    &p, N_("reading a record version"), err);
	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	if (found)
		copy_hash(res, 0, 0, hash);
	PQclear(res);
	return found;
}

static int absent_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* The entry of absent for id, or NULL. */
static struct absent *absent_find(struct pg_store *s, const char *id)
{
	unsigned char key[16];

	if (!s->nabsent || gb_uuid_bytes(id, key) < 0)
		return NULL;
	return bsearch(key, s->absent, s->nabsent, sizeof(*s->absent),
		       absent_cmp);
}

/* id has a current row now. */
static void absent_drop(struct pg_store *s, const char *id)
{
	struct absent *e = absent_find(s, id);

	if (e)
		e->gone = 1;
}

/*
 * One statement for the records of a batch: those without a current row
 * are kept in s->absent, so that current_get answers for them with no
 * round trip.  The grid's lock (grid_lock) is held, so no other server
 * gives them one before this transaction ends.
 */
static int pg_current_prefetch(struct store *st, const char *const *ids,
			       size_t n, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	unsigned char hdr[ARRAY_HEADER];
	struct params p;
	struct gb_buf arr;
	PGresult *res;
	size_t k = 0;
	int nonull = 0;

	s->nabsent = 0;
	free(s->absent);
	s->absent = xcalloc(n ? n : 1, sizeof(*s->absent));
	for (size_t i = 0; i < n; i++)
		if (gb_uuid_bytes(ids[i], s->absent[k].id) == 0)
			k++;
	if (k == 0)
		return 0;
	qsort(s->absent, k, sizeof(*s->absent), absent_cmp);
	n = k; /* a record twice in the batch is one entry */
	k = 1;
	for (size_t i = 1; i < n; i++)
		if (memcmp(s->absent[i].id, s->absent[k - 1].id, 16))
			s->absent[k++] = s->absent[i];
	/* The ids as a bytea[] in binary, as rows_send sends its arrays. */
	gb_buf_init(&arr, GB_BUF_NOLIMIT);
	array_header(hdr, 'b', k, 0);
	if (gb_buf_add(&arr, hdr, sizeof(hdr), err) < 0)
		goto fail;
	for (size_t i = 0; i < k; i++)
		if (rows_elem(&arr, &nonull, 'b', (const char *)s->absent[i].id,
			      16, 1, NULL, err) < 0)
			goto fail;
	memset(&p, 0, sizeof(p));
	p_bytes(&p, arr.data, arr.len);
	res = run_w(s,
		    "SELECT id FROM record_current WHERE id = ANY($1::bytea[])",
		    &p, N_("reading a record"), err);
	gb_buf_release(&arr);
	if (!res)
		return -1;
	s->nabsent = k;
	for (int r = 0; r < PQntuples(res); r++) {
		struct absent *e;

		if (PQgetlength(res, r, 0) != 16)
			continue;
		e = bsearch(PQgetvalue(res, r, 0), s->absent, s->nabsent,
			    sizeof(*s->absent), absent_cmp);
		if (e)
			e->gone = 1; /* it has one */
	}
	PQclear(res);
	return 0;
fail:
	gb_buf_release(&arr);
	return -1;
}

static int pg_current_get(struct store *st, const char *id,
			  struct store_current *out, struct gb_err *err)
{
	struct absent *e = absent_find(impl(st), id);
	struct params p;
	PGresult *res;
	int found;

	if (e && !e->gone)
		return 0;
	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	res = run_w(impl(st),
		    "SELECT kind, version, device, grid, heads, conflicts "
		    "FROM record_current WHERE id = $1 LIMIT 1",
		    &p, N_("reading a record"), err);
	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	if (found) {
		col_text(res, 0, 0, out->kind, sizeof(out->kind));
		out->version = (uint64_t)col_i64(res, 0, 1);
		gb_uuid_text(PQgetvalue(res, 0, 2), PQgetlength(res, 0, 2),
			     out->device);
		col_text(res, 0, 3, out->grid, sizeof(out->grid));
		store_heads_parse(col_str(res, 0, 4), out->version, out);
		out->conflicts = (int)col_i64(res, 0, 5);
	}
	PQclear(res);
	return found;
}

/* The parameters history and conflict rows share: $1 id, $2 version,
 * $3 device, $4 kind, $5 grid, $6 content_hash, $7 raw, $8 received_at. */
static void version_params(struct params *p, const struct store_version *v)
{
	const struct gb_record *r = v->rec;

	memset(p, 0, sizeof(*p));
	p_uuid(p, r->id);
	p_i64(p, (int64_t)r->version);
	p_uuid(p, r->device);
	p_text(p, r->kind->name);
	p_text(p, r->grid);
	p_bytes(p, v->hash, STORE_HASH_LEN);
	p_bytes(p, v->raw ? v->raw : "", v->raw_len);
	p_i64(p, v->received_at);
}

/* The change sequence of the version is the next of its grid
 * (seq_next). */
static int pg_history_put(struct store *st, const struct store_version *v,
			  struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct params p;
	int64_t seq;

	if (seq_next(s, v->rec->grid, &seq, err) < 0)
		return -1;
	version_params(&p, v);
	p_i64(&p, seq);
	return rows_add(
	    s, ROWS_HISTORY, 0,
	    "INSERT INTO record_history (seq, id, version, device, kind, "
	    "grid, content_hash, raw, received_at) VALUES ($9, $1, $2, $3, "
	    "$4, $5, $6, $7, $8)",
	    "bibttbbii", NULL, NULL, &p, N_("storing a record version"), err);
}

static int pg_conflict_put(struct store *st, const struct store_version *v,
			   struct gb_err *err)
{
	struct params p;

	version_params(&p, v);
	return exec_wr(
	    impl(st),
	    "INSERT INTO conflict (id, version, device, kind, grid, "
	    "content_hash, raw, received_at) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8) ON CONFLICT DO NOTHING",
	    &p, N_("storing a conflict"), err);
}

static int pg_current_put(struct store *st, const struct store_version *v,
			  struct gb_err *err)
{
	const struct gb_record *r = v->rec;
	struct params p;
	const char *sql =
	    "INSERT INTO record_current (id, kind, grid, device, staff, "
	    "version, created_at, updated_at, voided, void_reason, day, "
	    "community, person, status, body, heads, conflicts) VALUES ($1, "
	    "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
	    "$16, $17) "
	    "ON CONFLICT (id, grid) DO UPDATE SET kind = excluded.kind, "
	    "device = excluded.device, staff = excluded.staff, "
	    "version = excluded.version, created_at = excluded.created_at, "
	    "updated_at = excluded.updated_at, voided = excluded.voided, "
	    "void_reason = excluded.void_reason, day = excluded.day, "
	    "community = excluded.community, person = excluded.person, "
	    "status = excluded.status, body = excluded.body, "
	    "heads = excluded.heads, conflicts = excluded.conflicts";
	struct absent *e;
	struct gb_buf b;
	int rc, fresh;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, r->id);
	p_text(&p, r->kind->name);
	p_text(&p, r->grid);
	p_uuid(&p, r->device);
	p_text(&p, r->staff);
	p_i64(&p, (int64_t)r->version);
	p_i64(&p, r->created_at);
	p_i64(&p, r->updated_at);
	p_i64(&p, r->voided ? 1 : 0);
	p_text(&p, r->void_reason);
	p_text(&p, v->day);
	p_text(&p, v->community);
	p_text(&p, v->person);
	p_text(&p, v->status);
	p_text(&p, v->body ? v->body : "{}");
	gb_buf_init(&b, GB_BUF_NOLIMIT);
	p_text(&p, store_heads_text(v, &b));
	p_i64(&p, v->conflicts);
	/* Keyed by id ($1) and grid ($3); a record found without a current
	 * row when its batch began gets one by a plain INSERT. */
	e = absent_find(impl(st), r->id);
	fresh = e && !e->gone;
	rc = rows_add(impl(st), fresh ? ROWS_CURRENT_NEW : ROWS_CURRENT, fresh,
		      sql, "bttbtiiiittttttti", rows_key(&p, 0), r->grid, &p,
		      N_("storing the current version"), err);
	gb_buf_release(&b);
	absent_drop(impl(st), r->id);
	return rc;
}

/* The rejection is of the batch's grid: its device's. */
static int pg_rejection_put(struct store *st, const struct store_rejection *r,
			    struct gb_err *err)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, r->device);
	p_i64(&p, (int64_t)r->batch_seq);
	p_text(&p, r->id ? r->id : "");
	p_i64(&p, (int64_t)r->version);
	p_text(&p, r->code);
	p_text(&p, r->reason ? r->reason : "");
	if (r->raw)
		p_bytes(&p, r->raw, r->raw_len);
	else
		p_text(&p, NULL);
	p_i64(&p, r->at);
	return wexec(
	    impl(st),
	    "INSERT INTO rejection (device, grid, batch_seq, id, "
	    "version, code, reason, raw, received_at) VALUES ($1, "
	    "coalesce((SELECT grid FROM device WHERE id = $1), ''), $2, "
	    "$3, $4, $5, $6, $7::bytea, $8)",
	    &p, N_("recording a rejection"), err);
}

/* ---- /v1/changes ---- */

/* Grows an array of elements of size sz holding n to room for n + 1. */
static void *grow(void *p, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(p, *cap * sz);
}

/* The reference data of grid into p, as the SQLite store gives them. */
static int load_ref(PGconn *c, const char *grid, struct wire_page *p,
		    struct gb_err *err)
{
	struct params k;
	PGresult *res;
	size_t cap = 0;
	int n;

	memset(&k, 0, sizeof(k));
	p_text(&k, grid);
	res = run(c,
		  "SELECT c.code, c.name, g.street, c.grid, c.population, "
		  "c.criminal_cases, c.patrol_team FROM community c JOIN grid "
		  "g ON g.code = c.grid WHERE c.grid = $1 ORDER BY c.code",
		  &k, N_("reading reference data"), err);
	if (!res)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		struct wire_community *m;

		p->communities =
		    grow(p->communities, p->ncommunities, &cap, sizeof(*m));
		m = &p->communities[p->ncommunities++];
		memset(m, 0, sizeof(*m));
		col_text(res, i, 0, m->code, sizeof(m->code));
		m->name = xstrdup(PQgetvalue(res, i, 1));
		col_text(res, i, 2, m->street, sizeof(m->street));
		col_text(res, i, 3, m->grid, sizeof(m->grid));
		m->population = col_i64(res, i, 4);
		m->criminal_cases = col_i64(res, i, 5);
		m->patrol_team = col_i64(res, i, 6);
	}
	PQclear(res);

	cap = 0;
	res = run(c,
		  "SELECT code, name, grid, room FROM police_area WHERE grid = "
		  "$1 ORDER BY code",
		  &k, N_("reading reference data"), err);
	if (!res)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		struct wire_area *ar;

		p->areas = grow(p->areas, p->nareas, &cap, sizeof(*ar));
		ar = &p->areas[p->nareas++];
		memset(ar, 0, sizeof(*ar));
		col_text(res, i, 0, ar->code, sizeof(ar->code));
		ar->name = xstrdup(PQgetvalue(res, i, 1));
		col_text(res, i, 2, ar->grid, sizeof(ar->grid));
		ar->room = xstrdup(PQgetvalue(res, i, 3));
	}
	PQclear(res);

	res = run(c,
		  "SELECT ac.area, ac.community FROM area_community ac JOIN "
		  "police_area a ON a.code = ac.area WHERE a.grid = $1 "
		  "ORDER BY ac.area, ac.community",
		  &k, N_("reading reference data"), err);
	if (!res)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		const char *area = PQgetvalue(res, i, 0);

		for (size_t j = 0; j < p->nareas; j++) {
			struct wire_area *ar = &p->areas[j];

			if (strcmp(ar->code, area) != 0)
				continue;
			ar->communities =
			    xrealloc(ar->communities,
				     (ar->ncommunities + 1) * sizeof(char *));
			ar->communities[ar->ncommunities++] =
			    xstrdup(PQgetvalue(res, i, 1));
			break;
		}
	}
	PQclear(res);

	cap = 0;
	res = run(c,
		  "SELECT code, name, role, grid, coalesce(area, '') FROM "
		  "staff WHERE grid = $1 ORDER BY code",
		  &k, N_("reading reference data"), err);
	if (!res)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		struct wire_staff *m;

		p->staff = grow(p->staff, p->nstaff, &cap, sizeof(*m));
		m = &p->staff[p->nstaff++];
		memset(m, 0, sizeof(*m));
		col_text(res, i, 0, m->code, sizeof(m->code));
		m->name = xstrdup(PQgetvalue(res, i, 1));
		col_text(res, i, 2, m->role, sizeof(m->role));
		col_text(res, i, 3, m->grid, sizeof(m->grid));
		col_text(res, i, 4, m->area, sizeof(m->area));
	}
	PQclear(res);
	return 0;
}

/* The versions of grid after seq from devices other than exclude, paged
 * as the SQLite store pages them (its load_records says why each step):
 * at most limit and about max_bytes, a version over the record limit
 * passed over, and the cursor moved past the caller's own versions when
 * nothing else is left. */
static int load_records(PGconn *db, const char *grid, uint64_t seq,
			const char *exclude, size_t limit, size_t max_bytes,
			struct store_changes *c, struct gb_err *err)
{
	struct wire_page *p = &c->page;
	size_t cap = 0, bytes = 0, rows = 0;
	struct params k;
	PGresult *res;
	int nrows;

	memset(&k, 0, sizeof(k));
	p_text(&k, grid);
	p_i64(&k, (int64_t)seq);
	p_uuid(&k, exclude);
	p_i64(&k, (int64_t)limit + 1);
	res = run(db,
		  "SELECT seq, raw FROM record_history WHERE grid = $1 AND "
		  "seq > $2 AND device IS DISTINCT FROM $3::bytea "
		  "ORDER BY seq LIMIT $4",
		  &k, N_("reading changes"), err);
	if (!res)
		return -1;
	c->next_seq = seq;
	nrows = PQntuples(res);
	for (int i = 0; i < nrows; i++) {
		size_t n = (size_t)PQgetlength(res, i, 1);

		if (p->n == limit || (p->n > 0 && bytes + n > max_bytes)) {
			p->more = 1;
			break;
		}
		rows++;
		if (n > WIRE_MAX_RECORD) {
			c->next_seq = (uint64_t)col_i64(res, i, 0);
			log_warnx("changes of grid %s: the version at change "
				  "%" PRIu64 " is %zu bytes, over the limit "
				  "of %u bytes a record; skipped",
				  grid, c->next_seq, n, WIRE_MAX_RECORD);
			continue;
		}
		if (p->n == cap) {
			cap = cap ? cap * 2 : 16;
			p->raw = xrealloc(p->raw, cap * sizeof(*p->raw));
			p->raw_len =
			    xrealloc(p->raw_len, cap * sizeof(*p->raw_len));
			/* wire_page_release frees recs[i]: all NULL here. */
			p->recs = xrealloc(p->recs, cap * sizeof(*p->recs));
		}
		p->raw[p->n] = xmalloc(n ? n : 1);
		if (n)
			memcpy(p->raw[p->n], PQgetvalue(res, i, 1), n);
		p->raw_len[p->n] = n;
		p->recs[p->n] = NULL;
		p->n++;
		bytes += n;
		c->next_seq = (uint64_t)col_i64(res, i, 0);
	}
	PQclear(res);
	if (rows > limit)
		p->more = 1;
	if (!p->more) {
		memset(&k, 0, sizeof(k));
		p_text(&k, grid);
		res = run(db,
			  "SELECT max(seq) FROM record_history WHERE grid = $1",
			  &k, N_("reading changes"), err);
		if (!res)
			return -1;
		if (!PQgetisnull(res, 0, 0) &&
		    (uint64_t)col_i64(res, 0, 0) > c->next_seq)
			c->next_seq = (uint64_t)col_i64(res, 0, 0);
		PQclear(res);
	}
	return 0;
}

/* In one snapshot (REPEATABLE READ) when no transaction is open.  The
 * change sequence of a grid is given out in commit order (change_seq),
 * so a cursor past seq N never skips a version committed later. */
static int pg_changes(struct store *st, const char *grid, uint64_t ref_version,
		      uint64_t seq, const char *exclude, size_t limit,
		      size_t max_bytes, struct store_changes *out,
		      struct gb_err *err)
{
	struct pg_store *s = impl(st);
	PGconn *c = NULL;
	PGresult *res;
	int rc = -1, own = 0;

	memset(out, 0, sizeof(*out));
	if (reader_get(s, &c, err) < 0)
		return -1;
	if (read_begin(c, &own, N_("reading changes"), err) < 0)
		goto out;
	res = run(c, "SELECT value::bigint FROM meta WHERE key = 'ref_version'",
		  NULL, N_("reading changes"), err);
	if (!res)
		goto out;
	out->ref_version = (uint64_t)col_i64(res, 0, 0);
	PQclear(res);
	if (out->ref_version != ref_version) {
		out->with_ref = 1;
		if (load_ref(c, grid, &out->page, err) < 0)
			goto out;
	}
	if (load_records(c, grid, seq, exclude, limit, max_bytes, out, err) < 0)
		goto out;
	rc = 0;
out:
	read_end(c, own);
	reader_put(s, c);
	if (rc < 0)
		store_changes_release(out);
	return rc;
}

/* ---- reference data and lookups ---- */

/* Attribute names come from validate.c; only plain names are accepted so
 * that the JSON key built from them means what it says. */
static int attr_ok(const char *attr)
{
	if (!*attr || strlen(attr) > 48)
		return 0;
	for (const char *p = attr; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			return 0;
	return 1;
}

/* 1 when the query with the one parameter key finds a row, 0 when not,
 * -1 with err. */
static int exists(struct pg_store *s, const char *sql, const char *key,
		  int key_is_id, struct gb_err *err)
{
	struct params p;
	PGresult *res;
	int found;

	memset(&p, 0, sizeof(p));
	if (key_is_id)
		p_uuid(&p, key);
	else
		p_text(&p, key);
	res = run_w(s, sql, &p, N_("looking up a reference"), err);
	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found;
}

static int pg_ref_known(struct store *st, enum gb_ref ref, const char *key,
			int *known, struct gb_err *err)
{
	const char *sql;
	int found;

	*known = 0;
	switch (ref) {
	case GB_REF_COMMUNITY:
		sql = "SELECT 1 FROM community WHERE code = $1";
		break;
	case GB_REF_AREA:
		sql = "SELECT 1 FROM police_area WHERE code = $1";
		break;
	case GB_REF_STAFF:
		sql = "SELECT 1 FROM staff WHERE code = $1";
		break;
	case GB_REF_ENTERPRISE:
	case GB_REF_CHECK:
		sql = "SELECT 1 FROM record_current WHERE id = $1";
		break;
	default:
		return gb_error(err, GB_EINTERNAL,
				"store: lookup of an unknown reference type");
	}
	found = exists(impl(st), sql, key,
		       ref == GB_REF_ENTERPRISE || ref == GB_REF_CHECK, err);
	if (found < 0)
		return -1;
	*known = found;
	return 0;
}

/* The reference data are looked up in the database each time: unlike the
 * SQLite store's writer, a program here is not the only one that may
 * change them, and a cache checked against ref_version per transaction
 * can come when batches do. */
/*
 * The reference data of a grid in memory, as the SQLite store holds it.
 * Validation looks up the communities, police areas and staff a record
 * names, several per record: one statement each was half of the
 * statements ingest sent for a public request, each a round trip.  So
 * the writer loads a grid's units once and answers from memory for as
 * long as the ref_version of meta, which every change of reference data
 * moves (pg_ref_touch, by seed on any instance), stays the same: it is
 * read once per writer transaction, so a seed committed between two
 * transactions is seen by the next one.  A transaction that writes
 * reference data itself bypasses the cache until it ends.
 */
static void ref_cache_drop(struct pg_store *s)
{
	ref_cache_free(&s->refs);
}

/* The cached reference data of grid, loaded when missing, or NULL with
 * err. */
static struct ref_grid *ref_cache_grid(struct pg_store *s, const char *grid,
				       struct gb_err *err)
{
	static const char *const load[REF_NTYPES] = {
	    [REF_COMMUNITY] = "SELECT code, code FROM community WHERE "
			      "grid = $1",
	    [REF_AREA] = "SELECT code, room FROM police_area WHERE grid = "
			 "$1",
	    [REF_STAFF] = "SELECT code, role FROM staff WHERE grid = $1",
	};
	struct ref_grid *g;
	struct params p;

	/* In the pipeline the connection is busy, not idle in the
	 * transaction, while writes are unread. */
	if (!s->ref_fresh ||
	    (!s->pipe && PQtransactionStatus(s->conn) != PQTRANS_INTRANS)) {
		PGresult *res = run_w(s,
				      "SELECT value FROM meta WHERE key = "
				      "'ref_version'",
				      NULL, N_("looking up a reference"), err);
		int64_t v = 0;

		if (!res)
			return NULL;
		if (PQntuples(res) > 0)
			v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		if (v != s->ref_version)
			ref_cache_drop(s);
		s->ref_version = v;
		s->ref_fresh = 1;
	}
	g = ref_cache_get(s->refs, grid);
	if (g)
		return g;
	g = ref_cache_new(&s->refs, grid);
	memset(&p, 0, sizeof(p));
	p_text(&p, grid);
	for (int t = 0; t < REF_NTYPES; t++) {
		PGresult *res =
		    run_w(s, load[t], &p, N_("looking up a reference"), err);
		int n;

		if (!res) {
			ref_cache_drop(s);
			return NULL;
		}
		n = PQntuples(res);
		for (int i = 0; i < n; i++)
			ref_grid_add(g, t, PQgetvalue(res, i, 0),
				     PQgetvalue(res, i, 1));
		PQclear(res);
		ref_grid_sort(g, t);
	}
	return g;
}

/* pg_find for a community, area or staff member of grid, from memory. */
static int ref_cache_find(struct pg_store *s, const char *grid, int t,
			  const char *key, const char *attr, char *out,
			  size_t n, struct gb_err *err)
{
	struct ref_grid *g = ref_cache_grid(s, grid, err);
	const struct ref_unit *u;

	if (!g)
		return -1;
	u = ref_grid_find(g, t, key);
	if (!u)
		return 0;
	if (attr && out && n)
		snprintf(out, n, "%s", u->attr);
	return 1;
}

static int pg_find(struct store *st, const char *grid, enum gb_ref ref,
		   const char *key, const char *attr, char *out, size_t n,
		   struct gb_err *err)
{
	struct pg_store *s = impl(st);
	const char *sql, *kind = NULL;
	struct params p;
	PGresult *res;
	int found;

	if (attr && !attr_ok(attr))
		return gb_error(err, GB_EINTERNAL,
				"store: lookup of a bad attribute");
	/* From memory when there; a unit not there is looked up below
	 * too: a seed on another server may have committed it since the
	 * grid was loaded in this transaction, and ref_known, which tells
	 * a refusal for now from one for good, reads the database. */
	if (!s->ref_written && grid && key &&
	    (ref == GB_REF_COMMUNITY || ref == GB_REF_AREA ||
	     ref == GB_REF_STAFF)) {
		int t = ref == GB_REF_COMMUNITY ? REF_COMMUNITY
			: ref == GB_REF_AREA	? REF_AREA
						: REF_STAFF;

		found = ref_cache_find(s, grid, t, key, attr, out, n, err);
		if (found != 0)
			return found;
	}
	switch (ref) {
	case GB_REF_COMMUNITY:
		sql =
		    "SELECT code FROM community WHERE code = $1 AND grid = $2";
		break;
	case GB_REF_AREA:
		sql = "SELECT room FROM police_area WHERE code = $1 AND "
		      "grid = $2";
		break;
	case GB_REF_STAFF:
		sql = "SELECT role FROM staff WHERE code = $1 AND grid = $2";
		break;
	case GB_REF_ENTERPRISE:
		kind = "enterprise";
		sql = "SELECT body::jsonb ->> $4 FROM record_current "
		      "WHERE id = $1 AND kind = $2 AND grid = $3";
		break;
	case GB_REF_CHECK:
		kind = "contract_check";
		sql = "SELECT body::jsonb ->> $4 FROM record_current "
		      "WHERE id = $1 AND kind = $2 AND grid = $3";
		break;
	default:
		return gb_error(err, GB_EINTERNAL,
				"store: lookup of an unknown reference type");
	}
	memset(&p, 0, sizeof(p));
	if (kind) {
		p_uuid(&p, key);
		p_text(&p, kind);
		p_text(&p, grid);
		p_text(&p, attr ? attr : "id");
	} else {
		p_text(&p, key);
		p_text(&p, grid);
	}
	res = run_w(s, sql, &p, N_("looking up a reference"), err);
	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	if (found && attr && out && n)
		col_text(res, 0, 0, out, n);
	PQclear(res);
	return found;
}

static int pg_find_key(struct store *st, const struct gb_record *r,
		       char *holder, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	const struct gb_unique *u = &r->kind->unique;
	struct gb_buf sql;
	struct params p;
	PGresult *res;
	int n, found = 0;

	memset(&p, 0, sizeof(p));
	gb_buf_init(&sql, GB_BUF_NOLIMIT);
	gb_buf_adds(&sql,
		    "SELECT encode(id, 'hex')::uuid::text FROM record_current "
		    "WHERE grid = $1 AND voided = 0 AND id <> $2",
		    NULL);
	/* The kind and the key fields are written out, not bound, as the
	 * partial index of schema/pg/004 has them (they are the kinds
	 * table's identifiers, not input). */
	gb_buf_addf(&sql, NULL, " AND kind = '%s'", r->kind->name);
	p_text(&p, r->grid);
	p_uuid(&p, r->id);
	for (n = 0; n < 3 && u->key[n]; n++) {
		if (!gb_record_get(r, u->key[n]))
			goto out;
		gb_buf_addf(&sql, NULL, " AND ((body::jsonb) ->> '%s') = $%d",
			    u->key[n], 3 + n);
		p_text(&p, gb_record_get(r, u->key[n]));
	}
	if (n == 0)
		goto out;
	gb_buf_adds(&sql, " LIMIT 1", NULL);
	/* run, not run_w: the text is built here, and run_w's statements
	 * are keyed by the address of a constant. */
	res = wrun(s, gb_buf_str(&sql), &p, N_("looking up a reference"), err);
	if (!res) {
		found = -1;
		goto out;
	}
	found = PQntuples(res) > 0;
	if (found)
		col_text(res, 0, 0, holder, GB_ID_LEN);
	PQclear(res);
out:
	gb_buf_release(&sql);
	return found;
}

struct ref_table {
	const char *upsert;
	int ncols;
	unsigned int_cols;   /* bit i: column i is an integer */
	unsigned null_empty; /* bit i: an empty column i is NULL */
	/* Parents that must exist: column index, query, what to call it. */
	struct {
		int col;
		const char *sql;
		const char *what;
	} parent[2];
};

/* A column of the row held (t) differs from the one offered. */
#define UPD(c) "t." c " IS DISTINCT FROM excluded." c

/* One entry a table, its SQL laid out as it reads. */
/* clang-format off */
static const struct ref_table ref_tables[] = {
	[STORE_T_DISTRICT] = {
		"INSERT INTO district AS t (code, name) VALUES ($1, $2) "
		"ON CONFLICT (code) DO UPDATE SET name = excluded.name "
		"WHERE " UPD("name"),
		2, 0, 0, {{-1, NULL, NULL}, {-1, NULL, NULL}}},
	[STORE_T_STREET] = {
		"INSERT INTO street AS t (code, name) VALUES ($1, $2) "
		"ON CONFLICT (code) DO UPDATE SET name = excluded.name "
		"WHERE " UPD("name"),
		2, 0, 0, {{-1, NULL, NULL}, {-1, NULL, NULL}}},
	[STORE_T_GRID] = {
		"INSERT INTO grid AS t (code, street, name) VALUES ($1, $2, $3) "
		"ON CONFLICT (code) DO UPDATE SET street = excluded.street, "
		"name = excluded.name WHERE " UPD("street") " OR " UPD("name"),
		3, 0, 0,
		{{1, "SELECT 1 FROM street WHERE code = $1", N_("street")},
		 {-1, NULL, NULL}}},
	[STORE_T_COMMUNITY] = {
		"INSERT INTO community AS t (code, grid, name, population, "
		"criminal_cases, patrol_team) VALUES ($1, $2, $3, $4, $5, $6) "
		"ON CONFLICT (code) DO UPDATE SET grid = excluded.grid, "
		"name = excluded.name, population = excluded.population, "
		"criminal_cases = excluded.criminal_cases, "
		"patrol_team = excluded.patrol_team WHERE " UPD("grid")
		" OR " UPD("name") " OR " UPD("population") " OR "
		UPD("criminal_cases") " OR " UPD("patrol_team"),
		6, 1u << 3 | 1u << 4 | 1u << 5, 0,
		{{1, "SELECT 1 FROM grid WHERE code = $1", N_("grid")},
		 {-1, NULL, NULL}}},
	[STORE_T_AREA] = {
		"INSERT INTO police_area AS t (code, grid, name, room) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE SET "
		"grid = excluded.grid, name = excluded.name, "
		"room = excluded.room WHERE " UPD("grid") " OR " UPD("name")
		" OR " UPD("room"),
		4, 0, 0,
		{{1, "SELECT 1 FROM grid WHERE code = $1", N_("grid")},
		 {-1, NULL, NULL}}},
	[STORE_T_AREA_COMMUNITY] = {
		"INSERT INTO area_community (area, community) "
		"VALUES ($1, $2) ON CONFLICT DO NOTHING",
		2, 0, 0,
		{{0, "SELECT 1 FROM police_area WHERE code = $1",
		  N_("police area")},
		 {1, "SELECT 1 FROM community WHERE code = $1",
		  N_("community")}}},
	[STORE_T_STAFF] = {
		"INSERT INTO staff AS t (code, name, role, grid, area) "
		"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET "
		"name = excluded.name, role = excluded.role, "
		"grid = excluded.grid, area = excluded.area WHERE "
		UPD("name") " OR " UPD("role") " OR " UPD("grid") " OR "
		UPD("area"),
		5, 0, 1u << 4,
		{{3, "SELECT 1 FROM grid WHERE code = $1", N_("grid")},
		 {4, "SELECT 1 FROM police_area WHERE code = $1",
		  N_("police area")}}},
};
/* clang-format on */

static int pg_ref_put(struct store *st, enum store_table t,
		      const char *const *cols, int *changed, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	const struct ref_table *rt;
	struct params p;
	PGresult *res;

	*changed = 0;
	s->ref_written = 1;
	if ((unsigned)t >= sizeof(ref_tables) / sizeof(ref_tables[0]))
		return gb_error(err, GB_EINTERNAL, "store: no such table");
	rt = &ref_tables[t];
	for (int k = 0; k < 2; k++) {
		const char *key;
		int found;

		if (rt->parent[k].col < 0)
			continue;
		key = cols[rt->parent[k].col];
		if (!key || !*key)
			continue;
		found = exists(s, rt->parent[k].sql, key, 0, err);
		if (found < 0)
			return -1;
		if (!found)
			return gb_error(err, GB_ENOTFOUND,
					_("%s \"%s\" is not known"),
					_(rt->parent[k].what), key);
	}
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < rt->ncols; i++) {
		const char *v = cols[i] ? cols[i] : "";

		if ((rt->null_empty >> i & 1) && !*v)
			p_text(&p, NULL);
		else if (rt->int_cols >> i & 1)
			p_i64(&p, strtoll(v, NULL, 10));
		else
			p_text(&p, v);
	}
	res = run_w(s, rt->upsert, &p, N_("storing reference data"), err);
	if (!res)
		return -1;
	*changed = affected(res) > 0;
	PQclear(res);
	return 0;
}

static int pg_ref_touch(struct store *st, struct gb_err *err)
{
	return wexec(impl(st),
		     "UPDATE meta SET value = (value::bigint + 1)::text "
		     "WHERE key = 'ref_version'",
		     NULL, N_("marking reference data"), err);
}

static int pg_grid_exists(struct store *st, const char *grid,
			  struct gb_err *err)
{
	return exists(impl(st), "SELECT 1 FROM grid WHERE code = $1", grid, 0,
		      err);
}

/* ---- devices ---- */

static int pg_device_put(struct store *st, const struct store_device *d,
			 const unsigned char token_hash[STORE_HASH_LEN],
			 struct gb_err *err)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, d->id);
	p_text(&p, d->grid);
	p_text(&p, d->role);
	p_text(&p, d->name);
	p_bytes(&p, token_hash, STORE_HASH_LEN);
	p_i64(&p, d->created_at);
	return wexec(impl(st),
		     "INSERT INTO device (id, grid, role, name, token_hash, "
		     "created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		     &p, N_("enrolling a device"), err);
}

/* A device with when it was last seen (device_sync, per grid). */
#define DEVICE_SELECT                                                          \
	"SELECT d.id, d.grid, d.role, d.name, d.revoked, d.created_at, "       \
	"s.last_seen FROM device d LEFT JOIN device_sync s ON "                \
	"s.device = d.id AND s.grid = d.grid "

static void device_row(const PGresult *r, int row, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	gb_uuid_text(PQgetvalue(r, row, 0), PQgetlength(r, row, 0), d->id);
	col_text(r, row, 1, d->grid, sizeof(d->grid));
	col_text(r, row, 2, d->role, sizeof(d->role));
	col_text(r, row, 3, d->name, sizeof(d->name));
	d->revoked = (int)col_i64(r, row, 4);
	d->created_at = col_i64(r, row, 5);
	d->last_seen = col_i64(r, row, 6);
}

static int pg_device_by_token(struct store *st,
			      const unsigned char token_hash[STORE_HASH_LEN],
			      struct store_device *out, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	PGconn *c = NULL;
	struct params p;
	PGresult *res;
	int found = -1;

	if (reader_get(s, &c, err) < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p_bytes(&p, token_hash, STORE_HASH_LEN);
	res = run(c, DEVICE_SELECT "WHERE d.token_hash = $1", &p,
		  N_("looking up a device"), err);
	if (res) {
		found = PQntuples(res) > 0;
		if (found)
			device_row(res, 0, out);
	}
	PQclear(res);
	reader_put(s, c);
	return found;
}

static int pg_device_revoke(struct store *st, const char *id, int64_t at,
			    struct gb_err *err)
{
	struct params p;
	PGresult *res;
	long n;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	p_i64(&p, at);
	res = wrun(impl(st),
		   "UPDATE device SET revoked = 1, revoked_at = "
		   "coalesce(revoked_at, $2) WHERE id = $1",
		   &p, N_("revoking a device"), err);
	if (!res)
		return -1;
	n = affected(res);
	PQclear(res);
	if (n == 0)
		return gb_error(err, GB_ENOTFOUND, _("no device %s"), id);
	return 0;
}

/* What a batch changes of its device goes to device_sync, per grid, so
 * that no batch writes the reference table device (docs/citus.md).  Two
 * instances' writers of the device's grid take turns (grid_lock), but
 * each took its time when its group began, before it waited: the last
 * sync seen never goes back for the one that waited. */
/* What a device still had to send is taken only from a sync no older
 * than the one stored: a server whose group began earlier may commit
 * later. */
static int pg_device_seen(struct store *st, const char *id, int64_t at,
			  int64_t pending, int64_t oldest, struct gb_err *err)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	p_i64(&p, at);
	p_i64(&p, pending);
	p_i64(&p, oldest);
	return exec_wr(
	    impl(st),
	    "INSERT INTO device_sync AS t (device, grid, last_seen, "
	    "pending, oldest_pending) SELECT id, grid, $2::bigint, "
	    "CASE WHEN $3::bigint >= 0 THEN $3::bigint END, "
	    "CASE WHEN $3::bigint >= 0 THEN nullif($4::bigint, 0) END "
	    "FROM device WHERE id = $1 "
	    "ON CONFLICT (device, grid) DO UPDATE SET "
	    "last_seen = greatest(t.last_seen, excluded.last_seen), "
	    "pending = CASE WHEN $3::bigint >= 0 AND excluded.last_seen "
	    ">= t.last_seen THEN excluded.pending ELSE t.pending END, "
	    "oldest_pending = CASE WHEN $3::bigint >= 0 AND "
	    "excluded.last_seen >= t.last_seen THEN excluded.oldest_pending "
	    "ELSE t.oldest_pending END",
	    &p, N_("updating a device"), err);
}

static int pg_device_list(struct store *st,
			  int (*cb)(void *arg, const struct store_device *d),
			  void *arg, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct store_device d;
	PGconn *c = NULL;
	PGresult *res;

	if (reader_get(s, &c, err) < 0)
		return -1;
	res = run(c, DEVICE_SELECT "ORDER BY d.created_at, d.id", NULL,
		  N_("listing devices"), err);
	for (int i = 0; res && i < PQntuples(res); i++) {
		device_row(res, i, &d);
		if (cb(arg, &d) != 0)
			break;
	}
	PQclear(res);
	reader_put(s, c);
	return res ? 0 : -1;
}

/* ---- the audit log and its hash chain ---- */

/* Reads the entry of a row of AUDIT_SELECT (borrowed from r). */
static void audit_row(const PGresult *r, int row, struct audit_chain_entry *e)
{
	e->seq = col_i64(r, row, 0);
	e->at = col_i64(r, row, 1);
	e->device = PQgetisnull(r, row, 2) ? NULL : PQgetvalue(r, row, 2);
	e->device_len = (size_t)PQgetlength(r, row, 2);
	e->grid = col_str(r, row, 3);
	e->action = col_str(r, row, 4);
	e->status = (int)col_i64(r, row, 5);
	e->detail = col_str(r, row, 6);
	e->remote = col_str(r, row, 7);
}

#define AUDIT_SELECT                                                           \
	"SELECT l.seq, l.at, l.device, l.grid, l.action, l.status, l.detail, " \
	"l.remote, c.prev, c.hash FROM audit_log l LEFT JOIN audit_chain c "   \
	"USING (seq) "

/* Appends the entry, chained to the last one, in the open transaction. */
static int audit_append(struct pg_store *s, const struct store_audit *a,
			struct gb_err *err)
{
	unsigned char prev[AUDIT_CHAIN_HASH_LEN] = {0};
	unsigned char h[AUDIT_CHAIN_HASH_LEN], dev[16];
	struct audit_chain_entry e = {
	    .seq = 1,
	    .at = a->at,
	    .grid = a->grid ? a->grid : "",
	    .action = a->action,
	    .status = a->status,
	    .detail = a->detail ? a->detail : "",
	    .remote = a->remote ? a->remote : "",
	};
	struct params p;
	PGresult *res;

	/* Held to the end of the transaction: the next writer chains from
	 * this entry, not from the one before it. */
	if (wexec(s, "SELECT pg_advisory_xact_lock(" LOCK_AUDIT ")", NULL,
		  N_("writing the audit log"), err) < 0)
		return -1;
	res =
	    wrun(s,
		 "SELECT l.seq, c.hash FROM audit_log l LEFT JOIN audit_chain "
		 "c USING (seq) ORDER BY l.seq DESC LIMIT 1",
		 NULL, N_("writing the audit log"), err);
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		e.seq = col_i64(res, 0, 0) + 1;
		if (PQgetlength(res, 0, 1) == AUDIT_CHAIN_HASH_LEN)
			memcpy(prev, PQgetvalue(res, 0, 1),
			       AUDIT_CHAIN_HASH_LEN);
	}
	PQclear(res);
	audit_chain_device(&e, a->device, dev);
	audit_chain_hash(prev, &e, h);
	memset(&p, 0, sizeof(p));
	p_i64(&p, e.seq);
	p_i64(&p, a->at);
	if (e.device)
		p_bytes(&p, e.device, e.device_len);
	else
		p_text(&p, NULL);
	p_text(&p, e.grid);
	p_text(&p, a->action);
	p_i64(&p, a->status);
	p_text(&p, e.detail);
	p_text(&p, e.remote);
	if (wexec(
		s,
		"INSERT INTO audit_log (seq, at, device, grid, action, status, "
		"detail, remote) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		&p, N_("writing the audit log"), err) < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p_i64(&p, e.seq);
	p_bytes(&p, prev, AUDIT_CHAIN_HASH_LEN);
	p_bytes(&p, h, AUDIT_CHAIN_HASH_LEN);
	return wexec(
	    s,
	    "INSERT INTO audit_chain (seq, prev, hash) VALUES ($1, $2, "
	    "$3)",
	    &p, N_("writing the audit log"), err);
}

/* In the caller's transaction, or in one of its own when there is none
 * (the lock of the chain lasts as long as a transaction). */
static int pg_audit_put(struct store *st, const struct store_audit *a,
			struct gb_err *err)
{
	struct pg_store *s = impl(st);
	int own = PQtransactionStatus(s->conn) == PQTRANS_IDLE;

	if (own && pg_begin(st, err) < 0)
		return -1;
	if (audit_append(s, a, err) < 0) {
		if (own)
			pg_rollback(st);
		return -1;
	}
	return own ? pg_commit(st, err) : 0;
}

/* Checks one page of the chain from the entry after *last; *more is set
 * when the page was full.  Returns 0, 1 with err at the first entry that
 * does not check out, -1 with err. */
static int audit_verify_page(PGconn *c, int64_t *last,
			     unsigned char prev[AUDIT_CHAIN_HASH_LEN], long *n,
			     int *more, struct gb_err *err)
{
	unsigned char h[AUDIT_CHAIN_HASH_LEN];
	struct params p;
	PGresult *res;
	int rc = 0, rows;

	memset(&p, 0, sizeof(p));
	p_i64(&p, *last);
	res = run(c,
		  AUDIT_SELECT "WHERE l.seq > $1 ORDER BY l.seq "
			       "LIMIT " STR(AUDIT_PAGE),
		  &p, N_("reading the audit log"), err);
	if (!res)
		return -1;
	rows = PQntuples(res);
	*more = rows == AUDIT_PAGE;
	for (int i = 0; i < rows; i++) {
		struct audit_chain_entry e;

		audit_row(res, i, &e);
		if (e.seq != *last + 1 && *last == 0) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": is the first; the "
				   "entries before it were deleted"),
				 e.seq);
			rc = 1;
			break;
		}
		if (e.seq != *last + 1) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": follows entry "
				   "%" PRId64 "; the entries between were "
				   "deleted"),
				 e.seq, *last);
			rc = 1;
			break;
		}
		if (PQgetlength(res, i, 8) != AUDIT_CHAIN_HASH_LEN ||
		    memcmp(PQgetvalue(res, i, 8), prev, AUDIT_CHAIN_HASH_LEN)) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": does not hold the "
				   "hash of entry %" PRId64 " before it; an "
				   "entry was deleted or rewritten"),
				 e.seq, *last);
			rc = 1;
			break;
		}
		audit_chain_hash(prev, &e, h);
		if (PQgetlength(res, i, 9) != AUDIT_CHAIN_HASH_LEN ||
		    memcmp(PQgetvalue(res, i, 9), h, AUDIT_CHAIN_HASH_LEN)) {
			gb_error(err, GB_EINVAL,
				 _("audit entry %" PRId64 ": its content does "
				   "not match its hash; it was edited"),
				 e.seq);
			rc = 1;
			break;
		}
		memcpy(prev, h, AUDIT_CHAIN_HASH_LEN);
		*last = e.seq;
		(*n)++;
	}
	PQclear(res);
	return rc;
}

/* The chain is read in one snapshot (REPEATABLE READ), in pages. */
static int pg_audit_verify(struct store *st, long *n, char *head,
			   size_t head_len, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	unsigned char prev[AUDIT_CHAIN_HASH_LEN] = {0};
	int64_t last = 0;
	struct params p;
	PGconn *c = NULL;
	PGresult *res = NULL;
	int rc = -1, more = 1, own = 0;

	*n = 0;
	if (reader_get(s, &c, err) < 0)
		return -1;
	if (read_begin(c, &own, N_("reading the audit log"), err) < 0)
		goto out;
	while (more) {
		rc = audit_verify_page(c, &last, prev, n, &more, err);
		if (rc != 0)
			goto out;
	}
	rc = -1;
	/* A chain entry past the last entry: the end was cut off. */
	memset(&p, 0, sizeof(p));
	p_i64(&p, last);
	res = run(c, "SELECT min(seq) FROM audit_chain WHERE seq > $1", &p,
		  N_("reading the audit log"), err);
	if (!res)
		goto out;
	if (!PQgetisnull(res, 0, 0)) {
		gb_error(err, GB_EINVAL,
			 _("audit entry %" PRId64 ": deleted (its hash is "
			   "still in the chain)"),
			 col_i64(res, 0, 0));
		rc = 1;
		goto out;
	}
	gb_hex(head, head_len, prev, AUDIT_CHAIN_HASH_LEN);
	rc = 0;
out:
	PQclear(res);
	read_end(c, own);
	reader_put(s, c);
	return rc;
}

static int pg_audit_list(struct store *st, long limit,
			 int (*cb)(void *arg, const struct store_audit *a),
			 void *arg, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	PGconn *c = NULL;
	struct params p;
	PGresult *res;

	if (reader_get(s, &c, err) < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	if (limit > 0)
		p_i64(&p, limit);
	else
		p_text(&p, NULL); /* LIMIT NULL: all */
	res = run(c,
		  "SELECT at, device, grid, action, status, detail, remote "
		  "FROM (SELECT * FROM audit_log ORDER BY seq DESC LIMIT "
		  "$1::bigint) l ORDER BY seq",
		  &p, N_("reading the audit log"), err);
	for (int i = 0; res && i < PQntuples(res); i++) {
		char dev[GB_ID_LEN];
		struct store_audit a = {
		    col_i64(res, i, 0),	     dev,
		    col_str(res, i, 2),	     col_str(res, i, 3),
		    (int)col_i64(res, i, 4), col_str(res, i, 5),
		    col_str(res, i, 6),
		};

		gb_uuid_text(PQgetisnull(res, i, 1) ? NULL
						    : PQgetvalue(res, i, 1),
			     PQgetlength(res, i, 1), dev);
		if (!dev[0])
			a.device = NULL;
		if (cb(arg, &a) != 0)
			break;
	}
	PQclear(res);
	reader_put(s, c);
	return res ? 0 : -1;
}

/* ---- opening and closing ---- */

/* ---- hearing of batches committed by other servers ---- */

/* Waits ms, or less when the listener is to stop. */
static void watch_pause(struct pg_store *s, int ms)
{
	for (int t = 0; t < ms && !atomic_load(&s->watch_stop);
	     t += WATCH_TICK_MS)
		poll(NULL, 0, WATCH_TICK_MS);
}

/*
 * The listener: a connection of its own that LISTENs on CHANNEL and
 * wakes the ingest for each notification but its own writer's.  When
 * the connection breaks it connects again, and wakes the ingest then
 * too, for what it may have missed meanwhile.
 */
static void *watch_main(void *arg)
{
	struct pg_store *s = arg;
	PGconn *c = NULL;
	struct gb_err err;
	int warned = 0; /* since the connection was last up */

	while (!atomic_load(&s->watch_stop)) {
		struct pollfd pfd;
		int woke = 0;

		if (!c) {
			c = connect_db(s, &err);
			if (c && exec(c, "LISTEN " CHANNEL, NULL,
				      N_("listening for batches"), &err) < 0) {
				PQfinish(c);
				c = NULL;
			}
			if (!c) {
				if (!warned)
					log_warnx("%s", err.msg);
				warned = 1;
				watch_pause(s, WATCH_RETRY_MS);
				continue;
			}
			warned = 0;
			s->wake(s->wake_arg);
		}
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, WATCH_TICK_MS) > 0 && !PQconsumeInput(c)) {
			PQfinish(c);
			c = NULL;
			continue;
		}
		for (;;) {
			PGnotify *note = PQnotifies(c);

			if (!note)
				break;
			if (note->be_pid != atomic_load(&s->writer_pid))
				woke = 1;
			PQfreemem(note);
		}
		if (woke)
			s->wake(s->wake_arg);
	}
	PQfinish(c);
	return NULL;
}

static void watch_stop(struct pg_store *s)
{
	if (!s->watching)
		return;
	atomic_store(&s->watch_stop, 1);
	pthread_join(s->watcher, NULL);
	s->watching = 0;
}

static int pg_watch(struct store *st, void (*wake)(void *arg), void *arg,
		    struct gb_err *err)
{
	struct pg_store *s = impl(st);
	int rc;

	watch_stop(s);
	if (!wake)
		return 0;
	s->wake = wake;
	s->wake_arg = arg;
	atomic_store(&s->watch_stop, 0);
	rc = pthread_create(&s->watcher, NULL, watch_main, s);
	if (rc != 0)
		return gb_error(err, GB_EINTERNAL,
				_("starting the listener thread: %s"),
				strerror(rc));
	s->watching = 1;
	return 1;
}

static void pg_close(struct store *st)
{
	struct pg_store *s = impl(st);

	if (!s)
		return;
	watch_stop(s);
	ref_cache_drop(s);
	for (int i = 0; i < s->npool; i++)
		PQfinish(s->pool[i]);
	PQfinish(s->conn);
	pthread_mutex_destroy(&s->pool_mu);
	free(s->url);
	free(s->absent);
	rows_free(s);
	free(s->name);
	free(s);
}

/* ---- the field merge: versions of a record, field conflicts ---- */

static int pg_history_each(struct store *st, const char *id, size_t limit,
			   int (*cb)(void *arg, const void *raw, size_t n,
				     int64_t received_at, struct gb_err *err),
			   void *arg, struct gb_err *err)
{
	struct params p;
	PGresult *res;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	p_i64(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	res = run_w(impl(st),
		    "SELECT raw, received_at FROM record_history WHERE id = $1 "
		    "ORDER BY version DESC, device DESC LIMIT $2",
		    &p, N_("reading a record's versions"), err);
	if (!res)
		return -1;
	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		rc =
		    cb(arg, PQgetvalue(res, i, 0),
		       (size_t)PQgetlength(res, i, 0), col_i64(res, i, 1), err);
	PQclear(res);
	return rc < 0 ? -1 : 0;
}

static int pg_field_conflicts_put(struct store *st, const char *id,
				  const struct store_field_conflict *c,
				  size_t n, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct params p;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	if (exec_wr(s, "DELETE FROM field_conflict WHERE id = $1", &p,
		    N_("storing field conflicts"), err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memset(&p, 0, sizeof(p));
		p_uuid(&p, c[i].id);
		p_text(&p, c[i].field);
		p_text(&p, c[i].kind);
		p_text(&p, c[i].grid);
		p_i64(&p, (int64_t)c[i].kept_version);
		p_uuid(&p, c[i].kept_device);
		p_text(&p, c[i].kept_staff ? c[i].kept_staff : "");
		p_text(&p, c[i].kept_value);
		p_i64(&p, (int64_t)c[i].lost_version);
		p_uuid(&p, c[i].lost_device);
		p_text(&p, c[i].lost_staff ? c[i].lost_staff : "");
		p_text(&p, c[i].lost_value);
		p_i64(&p, c[i].detected);
		if (exec_wr(s,
			    "INSERT INTO field_conflict (id, field, kind, "
			    "grid, kept_version, kept_device, kept_staff, "
			    "kept_value, lost_version, lost_device, "
			    "lost_staff, lost_value, detected) VALUES ($1, "
			    "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
			    "$13) ON CONFLICT DO NOTHING",
			    &p, N_("storing field conflicts"), err) < 0)
			return -1;
	}
	return 0;
}

static int pg_field_conflict_list(
    struct store *st, const char *grid, const struct store_conflict_key *after,
    size_t limit, int (*cb)(void *arg, const struct store_field_conflict *c),
    void *arg, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct params p;
	PGconn *c = NULL;
	PGresult *res;
	unsigned char key[16];

	memset(&p, 0, sizeof(p));
	p_text(&p, grid);
	if (after && (gb_uuid_bytes(after->id, key) < 0 ||
		      gb_uuid_bytes(after->lost_device, key) < 0))
		return gb_error(err, GB_EUSAGE,
				_("not a field conflict's key"));
	if (after) {
		p_i64(&p, after->detected);
		p_uuid(&p, after->id);
		p_text(&p, after->field);
		p_i64(&p, (int64_t)after->lost_version);
		p_uuid(&p, after->lost_device);
	} else {
		for (int i = 0; i < 5; i++)
			p_text(&p, NULL);
	}
	if (limit)
		p_i64(&p, (int64_t)limit);
	else
		p_text(&p, NULL);
	if (reader_get(s, &c, err) < 0)
		return -1;
	/* Fields in byte order, as SQLite orders them, whatever the
	 * database's collation. */
	res = run(c,
		  "SELECT f.id, f.field, f.kind, f.grid, f.kept_version, "
		  "f.kept_device, f.kept_staff, f.kept_value, f.lost_version, "
		  "f.lost_device, f.lost_staff, f.lost_value, f.detected, "
		  "k.name, l.name FROM field_conflict f LEFT JOIN staff k ON "
		  "k.code = f.kept_staff LEFT JOIN staff l ON l.code = "
		  "f.lost_staff WHERE ($1::text IS NULL OR f.grid = $1) AND "
		  "($2::bigint IS NULL OR (f.detected, f.id, f.field COLLATE "
		  "\"C\", f.lost_version, f.lost_device) > ($2, $3::bytea, "
		  "$4::text COLLATE \"C\", $5::bigint, $6::bytea)) ORDER BY "
		  "f.detected, f.id, f.field COLLATE \"C\", f.lost_version, "
		  "f.lost_device LIMIT $7::bigint",
		  &p, N_("reading field conflicts"), err);
	for (int i = 0; res && i < PQntuples(res); i++) {
		struct store_field_conflict f;
		char id[GB_ID_LEN], kd[GB_ID_LEN], ld[GB_ID_LEN];

		gb_uuid_text(PQgetvalue(res, i, 0), PQgetlength(res, i, 0), id);
		gb_uuid_text(PQgetvalue(res, i, 5), PQgetlength(res, i, 5), kd);
		gb_uuid_text(PQgetvalue(res, i, 9), PQgetlength(res, i, 9), ld);
		f.id = id;
		f.field = col_str(res, i, 1);
		f.kind = col_str(res, i, 2);
		f.grid = col_str(res, i, 3);
		f.kept_version = (uint64_t)col_i64(res, i, 4);
		f.kept_device = kd;
		f.kept_staff = col_str(res, i, 6);
		f.kept_value = col_str(res, i, 7);
		f.lost_version = (uint64_t)col_i64(res, i, 8);
		f.lost_device = ld;
		f.lost_staff = col_str(res, i, 10);
		f.lost_value = col_str(res, i, 11);
		f.detected = col_i64(res, i, 12);
		f.kept_name = col_str(res, i, 13);
		f.lost_name = col_str(res, i, 14);
		if (cb(arg, &f) != 0)
			break;
	}
	PQclear(res);
	reader_put(s, c);
	return res ? 0 : -1;
}

static int pg_versions_outside(struct store *st, uint64_t lo, uint64_t hi,
			       int (*cb)(void *arg, const char *grid,
					 const char *id, const char *device,
					 uint64_t version, int current),
			       void *arg, struct gb_err *err)
{
	/* $1 and $2 are below 2^63; a version stored negative is below $1. */
	struct pg_store *s = impl(st);
	struct params p;
	PGconn *c = NULL;
	PGresult *res;

	if (lo > (uint64_t)INT64_MAX || hi > (uint64_t)INT64_MAX)
		return gb_error(err, GB_EINTERNAL, "bounds of 2^63 or more");
	memset(&p, 0, sizeof(p));
	p_i64(&p, (int64_t)lo);
	p_i64(&p, (int64_t)hi);
	if (reader_get(s, &c, err) < 0)
		return -1;
	res = run(c,
		  "SELECT c.grid, c.id, c.device, c.version, 1::bigint FROM "
		  "record_current c WHERE c.version < $1 OR c.version > $2 "
		  "UNION ALL SELECT h.grid, h.id, h.device, h.version, "
		  "0::bigint FROM record_history h WHERE (h.version < $1 OR "
		  "h.version > $2) AND NOT EXISTS (SELECT 1 FROM "
		  "record_current c WHERE c.id = h.id AND c.grid = h.grid AND "
		  "c.version = h.version AND c.device = h.device) ORDER BY 1, "
		  "2, 4",
		  &p, N_("reading the record versions"), err);
	for (int i = 0; res && i < PQntuples(res); i++) {
		char id[GB_ID_LEN], dev[GB_ID_LEN];

		gb_uuid_text(PQgetvalue(res, i, 1), PQgetlength(res, i, 1), id);
		gb_uuid_text(PQgetvalue(res, i, 2), PQgetlength(res, i, 2),
			     dev);
		if (cb(arg, col_str(res, i, 0), id, dev,
		       (uint64_t)col_i64(res, i, 3),
		       (int)col_i64(res, i, 4)) != 0)
			break;
	}
	PQclear(res);
	reader_put(s, c);
	return res ? 0 : -1;
}

/* ---- report facts, written by ingest ----
 *
 * The tables of schema/pg/002_reports.sql, with the meanings of
 * store_sqlite_facts.c; every key here includes the grid (Citus), so the
 * record's grid goes with its id.  Each kind of fact row is described
 * once (struct pg_fact_table), its columns after id ($1) and grid ($2)
 * in the order its statements bind and return them. */

enum pg_col {
	PC_TEXT,     /* const char *; NULL is stored as "" */
	PC_REF,	     /* const char * id, as 16 bytes; NULL as NULL */
	PC_I64,	     /* int64_t */
	PC_U64,	     /* uint64_t, stored as a bigint */
	PC_INT,	     /* int */
	PC_DAY_OPT,  /* day, NULL unless has_day */
	PC_DEADLINE, /* deadline, NULL unless has_deadline */
	PC_OPEN	     /* an instant, NULL when -1 */
};

#define PCOL(member, type)                                                     \
	{                                                                      \
		offsetof(struct store_fact, member), type                      \
	}

static const struct pg_fact_table {
	const char *what, *put, *del, *get;
	struct {
		size_t off;
		enum pg_col type;
	} cols[8];
	int ncols;
} pg_facts[STORE_F_COUNT] = {
    [STORE_F_ENTERPRISE] =
	{N_("storing report facts"),
	 "INSERT INTO rf_enterprise (id, grid, community, name, active) "
	 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id, grid) DO UPDATE SET "
	 "community = excluded.community, name = excluded.name, "
	 "active = excluded.active",
	 "DELETE FROM rf_enterprise WHERE id = $1 AND grid = $2",
	 "SELECT community, name, active FROM rf_enterprise WHERE id = $1 "
	 "AND grid = $2",
	 {PCOL(community, PC_TEXT), PCOL(name, PC_TEXT), PCOL(active, PC_INT)},
	 3},
    [STORE_F_CHECK] =
	{N_("storing report facts"),
	 "INSERT INTO rf_check (id, grid, enterprise, day, version, signed, "
	 "total, outcome, deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	 "$9) ON CONFLICT (id, grid) DO UPDATE SET "
	 "enterprise = excluded.enterprise, day = excluded.day, "
	 "version = excluded.version, signed = excluded.signed, "
	 "total = excluded.total, outcome = excluded.outcome, "
	 "deadline = excluded.deadline",
	 "DELETE FROM rf_check WHERE id = $1 AND grid = $2",
	 "SELECT enterprise, day, version, signed, total, outcome, deadline "
	 "FROM rf_check WHERE id = $1 AND grid = $2",
	 {PCOL(ref, PC_REF), PCOL(day, PC_I64), PCOL(version, PC_U64),
	  PCOL(contracts_signed, PC_I64), PCOL(employees_total, PC_I64),
	  PCOL(outcome, PC_TEXT), PCOL(deadline, PC_DEADLINE)},
	 7},
    [STORE_F_RECT] =
	{N_("storing report facts"),
	 "INSERT INTO rf_rect (id, grid, chk, day, rectified) VALUES ($1, "
	 "$2, $3, $4, $5) ON CONFLICT (id, grid) DO UPDATE SET "
	 "chk = excluded.chk, day = excluded.day, "
	 "rectified = excluded.rectified",
	 "DELETE FROM rf_rect WHERE id = $1 AND grid = $2",
	 "SELECT chk, day, rectified FROM rf_rect WHERE id = $1 AND "
	 "grid = $2",
	 {PCOL(ref, PC_REF), PCOL(day, PC_I64), PCOL(rectified, PC_INT)},
	 3},
    [STORE_F_DISPUTE] =
	{N_("storing report facts"),
	 "INSERT INTO rf_dispute (id, grid, day, level, status, enterprise) "
	 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id, grid) DO UPDATE "
	 "SET day = excluded.day, level = excluded.level, "
	 "status = excluded.status, enterprise = excluded.enterprise",
	 "DELETE FROM rf_dispute WHERE id = $1 AND grid = $2",
	 "SELECT day, level, status, enterprise FROM rf_dispute WHERE "
	 "id = $1 AND grid = $2",
	 {PCOL(day, PC_I64), PCOL(level, PC_TEXT), PCOL(status, PC_TEXT),
	  PCOL(ref, PC_REF)},
	 4},
    [STORE_F_REQUEST] =
	{N_("storing report facts"),
	 "INSERT INTO rf_request (id, grid, area, day, received, deadline, "
	 "resolved, category, priority, officer) VALUES ($1, $2, $3, $4, $5, "
	 "$6, $7, $8, $9, $10) ON CONFLICT (id, grid) DO UPDATE SET "
	 "area = excluded.area, day = excluded.day, "
	 "received = excluded.received, deadline = excluded.deadline, "
	 "resolved = excluded.resolved, category = excluded.category, "
	 "priority = excluded.priority, officer = excluded.officer",
	 "DELETE FROM rf_request WHERE id = $1 AND grid = $2",
	 "SELECT area, day, received, deadline, resolved, category, "
	 "priority, officer FROM rf_request WHERE id = $1 AND grid = $2",
	 {PCOL(area, PC_TEXT), PCOL(day, PC_I64), PCOL(received, PC_I64),
	  PCOL(deadline, PC_I64), PCOL(resolved, PC_OPEN),
	  PCOL(category, PC_TEXT), PCOL(priority, PC_TEXT),
	  PCOL(officer, PC_TEXT)},
	 8},
    [STORE_F_PATROL] =
	{N_("storing report facts"),
	 "INSERT INTO rf_patrol (id, grid, area, leader, start_at, end_at) "
	 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id, grid) DO UPDATE "
	 "SET area = excluded.area, leader = excluded.leader, "
	 "start_at = excluded.start_at, end_at = excluded.end_at",
	 "DELETE FROM rf_patrol WHERE id = $1 AND grid = $2",
	 "SELECT area, leader, start_at, end_at FROM rf_patrol WHERE "
	 "id = $1 AND grid = $2",
	 {PCOL(area, PC_TEXT), PCOL(leader, PC_TEXT), PCOL(start, PC_I64),
	  PCOL(end, PC_I64)},
	 4},
    [STORE_F_DAILY] = {N_("storing report facts"),
		       "INSERT INTO rf_daily (id, grid, officer, day) VALUES "
		       "($1, $2, $3, $4) ON CONFLICT (id, grid) DO UPDATE SET "
		       "officer = excluded.officer, day = excluded.day",
		       "DELETE FROM rf_daily WHERE id = $1 AND grid = $2",
		       "SELECT officer, day FROM rf_daily WHERE id = $1 AND "
		       "grid = $2",
		       {PCOL(officer, PC_TEXT), PCOL(day, PC_I64)},
		       2},
    [STORE_F_RECEPTION] =
	{N_("storing report facts"),
	 "INSERT INTO rf_reception (id, grid, officer, start_at, end_at) "
	 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id, grid) DO UPDATE SET "
	 "officer = excluded.officer, start_at = excluded.start_at, "
	 "end_at = excluded.end_at",
	 "DELETE FROM rf_reception WHERE id = $1 AND grid = $2",
	 "SELECT officer, start_at, end_at FROM rf_reception WHERE id = $1 "
	 "AND grid = $2",
	 {PCOL(officer, PC_TEXT), PCOL(start, PC_I64), PCOL(end, PC_I64)},
	 3},
    [STORE_F_CONFLICT] =
	{N_("storing report facts"),
	 "INSERT INTO rf_conflict (id, grid, kind, area, person, day, "
	 "conflicts) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id, "
	 "grid) DO UPDATE SET kind = excluded.kind, area = excluded.area, "
	 "person = excluded.person, day = excluded.day, "
	 "conflicts = excluded.conflicts",
	 "DELETE FROM rf_conflict WHERE id = $1 AND grid = $2",
	 "SELECT kind, area, person, day, conflicts FROM rf_conflict WHERE "
	 "id = $1 AND grid = $2",
	 {PCOL(kind_name, PC_TEXT), PCOL(area, PC_TEXT), PCOL(person, PC_TEXT),
	  PCOL(day, PC_DAY_OPT), PCOL(conflicts, PC_I64)},
	 5},
};

/* The counters.  The parameters: STORE_C_ACTIVE $1 grid (and $2 the
 * delta); the others $1 the key, then code a (and for nights b), then
 * the grid, and last the delta (add only). */
static const struct {
	const char *add, *gc, *get;
} pg_counters[STORE_C_COUNT] = {
    [STORE_C_ACTIVE] = {"INSERT INTO rr_active (grid, enterprises) VALUES "
			"($1, $2) ON CONFLICT (grid) DO UPDATE SET "
			"enterprises = rr_active.enterprises + "
			"excluded.enterprises",
			NULL,
			"SELECT enterprises FROM rr_active WHERE grid = $1"},
    [STORE_C_NIGHT] = {"INSERT INTO rr_night (night, area, leader, grid, "
		       "patrols) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
		       "(night, area, leader, grid) DO UPDATE SET "
		       "patrols = rr_night.patrols + excluded.patrols",
		       "DELETE FROM rr_night WHERE night = $1 AND area = $2 "
		       "AND leader = $3 AND grid = $4 AND patrols <= 0",
		       "SELECT patrols FROM rr_night WHERE night = $1 AND "
		       "area = $2 AND leader = $3 AND grid = $4"},
    [STORE_C_DAILY] = {"INSERT INTO rr_daily (day, officer, grid, reports) "
		       "VALUES ($1, $2, $3, $4) ON CONFLICT (day, officer, "
		       "grid) DO UPDATE SET reports = rr_daily.reports + "
		       "excluded.reports",
		       "DELETE FROM rr_daily WHERE day = $1 AND officer = $2 "
		       "AND grid = $3 AND reports <= 0",
		       "SELECT reports FROM rr_daily WHERE day = $1 AND "
		       "officer = $2 AND grid = $3"},
    [STORE_C_RECEPTION] = {"INSERT INTO rr_reception (week, officer, grid, "
			   "ms) VALUES ($1, $2, $3, $4) ON CONFLICT (week, "
			   "officer, grid) DO UPDATE SET ms = rr_reception.ms "
			   "+ excluded.ms",
			   "DELETE FROM rr_reception WHERE week = $1 AND "
			   "officer = $2 AND grid = $3 AND ms <= 0",
			   "SELECT ms FROM rr_reception WHERE week = $1 AND "
			   "officer = $2 AND grid = $3"},
};

static const char *const pg_fact_tables[] = {
    "rf_enterprise", "rr_active",  "rf_check", "rf_rect",     "rf_dispute",
    "rf_patrol",     "rr_night",   "rf_daily", "rr_daily",    "rf_reception",
    "rr_reception",  "rf_request", "rr_sync",  "rf_conflict",
};

static int fact_kind_ok(enum store_fact_kind kind, struct gb_err *err)
{
	if ((unsigned)kind < STORE_F_COUNT)
		return 0;
	return gb_error(err, GB_EINTERNAL, "report facts: kind %d", (int)kind);
}

static int pg_fact_put(struct store *st, const struct store_fact *f,
		       struct gb_err *err)
{
	const struct pg_fact_table *t;
	char type[ROWS_COLS + 1] = "bt"; /* the id, the grid, then cols */
	struct params p;

	if (fact_kind_ok(f->kind, err) < 0)
		return -1;
	t = &pg_facts[f->kind];
	memset(&p, 0, sizeof(p));
	p_uuid(&p, f->id);
	p_text(&p, f->grid ? f->grid : "");
	for (int i = 0; i < t->ncols; i++) {
		const void *m = (const char *)f + t->cols[i].off;
		const char *s;

		type[2 + i] = t->cols[i].type == PC_TEXT  ? 't'
			      : t->cols[i].type == PC_REF ? 'b'
							  : 'i';

		switch (t->cols[i].type) {
		case PC_TEXT:
			s = *(const char *const *)m;
			p_text(&p, s ? s : "");
			break;
		case PC_REF:
			p_uuid(&p, *(const char *const *)m);
			break;
		case PC_I64:
			p_i64(&p, *(const int64_t *)m);
			break;
		case PC_U64:
			p_i64(&p, (int64_t) * (const uint64_t *)m);
			break;
		case PC_INT:
			p_i64(&p, *(const int *)m);
			break;
		case PC_DAY_OPT:
			if (f->has_day)
				p_i64(&p, f->day);
			else
				p_text(&p, NULL);
			break;
		case PC_DEADLINE:
			if (f->has_deadline)
				p_i64(&p, f->deadline);
			else
				p_text(&p, NULL);
			break;
		case PC_OPEN:
			if (*(const int64_t *)m >= 0)
				p_i64(&p, *(const int64_t *)m);
			else
				p_text(&p, NULL);
			break;
		}
	}
	/* Keyed by id ($1) and grid ($2). */
	return rows_add(impl(st),
			(f->fresh ? ROWS_FACT_NEW : ROWS_FACT) + (int)f->kind,
			f->fresh, t->put, type, rows_key(&p, 0),
			f->grid ? f->grid : "", &p, t->what, err);
}

static int pg_fact_del(struct store *st, enum store_fact_kind kind,
		       const char *id, const char *grid, struct gb_err *err)
{
	struct params p;

	if (fact_kind_ok(kind, err) < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	p_text(&p, grid ? grid : "");
	return exec_wr(impl(st), pg_facts[kind].del, &p, pg_facts[kind].what,
		       err);
}

/* Copies s into buf at *used: where, or NULL when it does not fit. */
static const char *fact_keep(char *buf, size_t size, size_t *used,
			     const char *s, size_t n)
{
	char *at = buf + *used;

	if (n + 1 > size - *used)
		return NULL;
	memcpy(at, s, n);
	at[n] = '\0';
	*used += n + 1;
	return at;
}

static int pg_fact_get(struct store *st, enum store_fact_kind kind,
		       const char *id, const char *grid, struct store_fact *out,
		       char *buf, size_t size, struct gb_err *err)
{
	const struct pg_fact_table *t;
	struct params p;
	PGresult *res;
	size_t used = 0;
	int bad = 0, found;

	if (fact_kind_ok(kind, err) < 0)
		return -1;
	t = &pg_facts[kind];
	memset(&p, 0, sizeof(p));
	p_uuid(&p, id);
	p_text(&p, grid ? grid : "");
	res = run_w(impl(st), t->get, &p, N_("reading report facts"), err);
	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	if (found) {
		memset(out, 0, sizeof(*out));
		out->kind = kind;
		out->resolved = -1;
		out->id = fact_keep(buf, size, &used, id, strlen(id));
		out->grid = fact_keep(buf, size, &used, grid ? grid : "",
				      grid ? strlen(grid) : 0);
		bad = !out->id || !out->grid;
	}
	for (int i = 0; found && !bad && i < t->ncols; i++) {
		void *m = (char *)out + t->cols[i].off;
		int null = PQgetisnull(res, 0, i);
		char ref[GB_ID_LEN];

		switch (t->cols[i].type) {
		case PC_TEXT:
			*(const char **)m =
			    fact_keep(buf, size, &used, PQgetvalue(res, 0, i),
				      (size_t)PQgetlength(res, 0, i));
			bad = !*(const char **)m;
			break;
		case PC_REF:
			*(const char **)m = NULL;
			if (null)
				break;
			gb_uuid_text(PQgetvalue(res, 0, i),
				     PQgetlength(res, 0, i), ref);
			*(const char **)m =
			    fact_keep(buf, size, &used, ref, strlen(ref));
			bad = !*(const char **)m;
			break;
		case PC_I64:
			*(int64_t *)m = col_i64(res, 0, i);
			break;
		case PC_U64:
			*(uint64_t *)m = (uint64_t)col_i64(res, 0, i);
			break;
		case PC_INT:
			*(int *)m = (int)col_i64(res, 0, i);
			break;
		case PC_DAY_OPT:
			out->has_day = !null;
			out->day = col_i64(res, 0, i);
			break;
		case PC_DEADLINE:
			out->has_deadline = !null;
			out->deadline = col_i64(res, 0, i);
			break;
		case PC_OPEN:
			*(int64_t *)m = null ? -1 : col_i64(res, 0, i);
			break;
		}
	}
	PQclear(res);
	if (bad)
		return gb_error(err, GB_EINTERNAL,
				"report facts: %zu bytes are too few", size);
	return found;
}

/* The parameters of counter c (see pg_counters), with the delta when
 * with_delta. */
static void counter_params(struct params *p, enum store_counter c,
			   const char *grid, int64_t key, const char *a,
			   const char *b, int64_t delta, int with_delta)
{
	memset(p, 0, sizeof(*p));
	if (c != STORE_C_ACTIVE) {
		p_i64(p, key);
		p_text(p, a ? a : "");
		if (c == STORE_C_NIGHT)
			p_text(p, b ? b : "");
	}
	p_text(p, grid ? grid : "");
	if (with_delta)
		p_i64(p, delta);
}

static int pg_counter_add(struct store *st, enum store_counter c,
			  const char *grid, int64_t key, const char *a,
			  const char *b, int64_t delta, struct gb_err *err)
{
	/* The types of the parameters (counter_params). */
	static const char *const types[STORE_C_COUNT] = {
	    [STORE_C_ACTIVE] = "ti",
	    [STORE_C_NIGHT] = "ittti",
	    [STORE_C_DAILY] = "itti",
	    [STORE_C_RECEPTION] = "itti",
	};
	struct params p;
	struct gb_hash h;
	unsigned char k16[16];

	if ((unsigned)c >= STORE_C_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: counter %d",
				(int)c);
	counter_params(&p, c, grid, key, a, b, delta, 1);
	/* Keyed by its codes: in a batch the rollup changes a counter once
	 * (rollup.c, ctx_flush), so that a batch's changes of one counter
	 * table go as one statement. */
	gb_hash_init(&h, sizeof(k16));
	gb_hash_update(&h, &key, sizeof(key));
	gb_hash_update(&h, a ? a : "", a ? strlen(a) + 1 : 1);
	gb_hash_update(&h, b ? b : "", b ? strlen(b) + 1 : 1);
	gb_hash_final(&h, k16);
	if (rows_add(impl(st), ROWS_COUNTER + (int)c, 0, pg_counters[c].add,
		     types[c], k16, grid ? grid : "", &p,
		     N_("storing report facts"), err) < 0)
		return -1;
	if (delta >= 0 || !pg_counters[c].gc)
		return 0;
	counter_params(&p, c, grid, key, a, b, 0, 0);
	return exec_wr(impl(st), pg_counters[c].gc, &p,
		       N_("storing report facts"), err);
}

static int pg_counter_get(struct store *st, enum store_counter c,
			  const char *grid, int64_t key, const char *a,
			  const char *b, int64_t *value, struct gb_err *err)
{
	struct params p;
	PGresult *res;
	int found;

	*value = 0;
	if ((unsigned)c >= STORE_C_COUNT)
		return gb_error(err, GB_EINTERNAL, "report facts: counter %d",
				(int)c);
	counter_params(&p, c, grid, key, a, b, 0, 0);
	res = run_w(impl(st), pg_counters[c].get, &p,
		    N_("reading report facts"), err);
	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	if (found)
		*value = col_i64(res, 0, 0);
	PQclear(res);
	return found;
}

static int pg_sync_add(struct store *st, const char *device, const char *grid,
		       const char *role, int64_t day, int64_t batches,
		       int64_t records, int64_t at, struct gb_err *err)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_uuid(&p, device);
	p_i64(&p, day);
	p_text(&p, grid ? grid : "");
	p_text(&p, role ? role : "");
	p_i64(&p, batches);
	p_i64(&p, records);
	p_i64(&p, at);
	return exec_wr(impl(st),
		       "INSERT INTO rr_sync (device, day, grid, role, batches, "
		       "records, last_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
		       "ON CONFLICT (device, day, grid) DO UPDATE SET "
		       "batches = rr_sync.batches + excluded.batches, "
		       "records = rr_sync.records + excluded.records, "
		       "last_at = greatest(rr_sync.last_at, excluded.last_at), "
		       "role = excluded.role",
		       &p, N_("storing report facts"), err);
}

static int pg_facts_version(struct store *st, char *version, size_t n,
			    struct gb_err *err)
{
	PGresult *res = run_w(impl(st),
			      "SELECT value FROM meta WHERE key = "
			      "'rollup_version'",
			      NULL, N_("reading report facts"), err);
	int found;

	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	if (found)
		col_text(res, 0, 0, version, n);
	PQclear(res);
	return found;
}

/*
 * Building the facts again (rollup_rebuild) takes every grid first, in
 * the byte order of their codes as ingest does (grid_lock, strcmp),
 * whatever the database's collation, so that no other
 * server's writer changes records or facts while they are counted, and
 * two servers starting at once on a store whose facts are of another
 * version build them one after the other, the second over the first.
 */
static int pg_facts_clear(struct store *st, struct gb_err *err)
{
	char sql[64];

	if (wexec(impl(st),
		  "INSERT INTO change_seq (grid, seq) SELECT code, 0 FROM grid "
		  "ORDER BY code COLLATE \"C\" ON CONFLICT (grid) DO NOTHING",
		  NULL, N_("storing report facts"), err) < 0 ||
	    wexec(impl(st),
		  "SELECT grid FROM change_seq ORDER BY grid COLLATE \"C\" "
		  "FOR UPDATE",
		  NULL, N_("storing report facts"), err) < 0)
		return -1;
	for (size_t i = 0;
	     i < sizeof(pg_fact_tables) / sizeof(pg_fact_tables[0]); i++) {
		/* The names are the constants above, not input. */
		snprintf(sql, sizeof(sql), "DELETE FROM %s", pg_fact_tables[i]);
		if (wexec(impl(st), sql, NULL, N_("storing report facts"),
			  err) < 0)
			return -1;
	}
	return 0;
}

static int pg_facts_built(struct store *st, const char *version,
			  struct gb_err *err)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_text(&p, version);
	return exec_wr(impl(st),
		       "INSERT INTO meta (key, value) VALUES "
		       "('rollup_version', $1) ON CONFLICT (key) DO UPDATE "
		       "SET value = excluded.value",
		       &p, N_("storing report facts"), err);
}

/* Rows of the current records read per FETCH by pg_fact_records. */
#define FACT_PAGE 10000

/*
 * Every current record with facts, one row per value of its body (one
 * with NULL key and value for a body that has none), by record.  The rows
 * are read through a cursor, FACT_PAGE at a time, so that a store of
 * millions of records is never held in memory at once; a record whose
 * rows run across two pages is carried over.  Runs in the writer's
 * transaction (rollup_rebuild), where cb writes the facts on the same
 * connection between fetches.
 */
static int pg_fact_records(struct store *st,
			   int (*cb)(void *arg, const struct gb_record *r,
				     int conflicts, struct gb_err *err),
			   void *arg, struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct gb_record *r = NULL;
	unsigned char last_id[16];
	char last_grid[GB_CODE_LEN] = "";
	int64_t conflicts = 0;
	int rc = 0, have = 0;

	if (wexec(
		s,
		"DECLARE gb_fact_records NO SCROLL CURSOR FOR SELECT r.id, "
		"r.kind, r.grid, r.version, r.voided, r.conflicts, j.key, "
		"j.value FROM record_current r LEFT JOIN LATERAL "
		"json_each_text(r.body::json) j ON true WHERE r.voided = 0 OR "
		"r.conflicts > 0 ORDER BY r.grid, r.id",
		NULL, N_("reading records"), err) < 0)
		return -1;
	while (rc == 0) {
		PGresult *res =
		    wrun(s, "FETCH " STR(FACT_PAGE) " FROM gb_fact_records",
			 NULL, N_("reading records"), err);
		int n;

		if (!res) {
			rc = -1;
			break;
		}
		n = PQntuples(res);
		for (int i = 0; rc == 0 && i < n; i++) {
			const struct gb_kind *k;
			const char *id = PQgetvalue(res, i, 0);
			const char *grid = PQgetvalue(res, i, 2);
			int same = PQgetlength(res, i, 0) == 16 && have &&
				   !memcmp(id, last_id, 16) &&
				   !strcmp(grid, last_grid);

			/* A row of another record: the one before is whole. */
			if (have && !same) {
				if (r)
					rc = cb(arg, r, (int)conflicts, err);
				gb_record_free(r);
				r = NULL;
				have = 0;
				if (rc < 0)
					break;
			}
			if (!have) {
				have = PQgetlength(res, i, 0) == 16;
				if (have)
					memcpy(last_id, id, 16);
				snprintf(last_grid, sizeof(last_grid), "%s",
					 grid);
				conflicts = col_i64(res, i, 5);
				k = gb_kind_find(PQgetvalue(res, i, 1));
				if (k) {
					r = gb_record_new(k);
					gb_uuid_text(id, PQgetlength(res, i, 0),
						     r->id);
					col_text(res, i, 2, r->grid,
						 sizeof(r->grid));
					r->version =
					    (uint64_t)col_i64(res, i, 3);
					r->voided = col_i64(res, i, 4) != 0;
				}
			}
			if (r && !PQgetisnull(res, i, 6) &&
			    !PQgetisnull(res, i, 7))
				gb_record_set_name(r, PQgetvalue(res, i, 6),
						   PQgetvalue(res, i, 7));
		}
		PQclear(res);
		if (n == 0)
			break;
	}
	if (rc == 0 && r)
		rc = cb(arg, r, (int)conflicts, err);
	gb_record_free(r);
	if (rc == 0 && wexec(s, "CLOSE gb_fact_records", NULL,
			     N_("reading records"), err) < 0)
		rc = -1;
	return rc < 0 ? -1 : 0;
}

static int pg_fact_batches(struct store *st,
			   int (*cb)(void *arg, const char *device,
				     const char *grid, const char *role,
				     int64_t records, int64_t received_at,
				     struct gb_err *err),
			   void *arg, struct gb_err *err)
{
	PGresult *res = wrun(impl(st),
			     "SELECT b.device, d.grid, d.role, b.records, "
			     "b.received_at FROM batch b JOIN device d ON "
			     "d.id = b.device",
			     NULL, N_("reading batches"), err);
	int rc = 0;

	if (!res)
		return -1;
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		char dev[GB_ID_LEN];

		gb_uuid_text(PQgetvalue(res, i, 0), PQgetlength(res, i, 0),
			     dev);
		rc = cb(arg, dev, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			col_i64(res, i, 3), col_i64(res, i, 4), err);
	}
	PQclear(res);
	return rc < 0 ? -1 : 0;
}

/* ---- report facts, read by reports ---- */

/*
 * The fact queries of store.h on the tables of schema/pg/002_reports.sql,
 * giving the same rows in the same order as the SQLite store
 * (store_sqlite_reports.c): codes are ordered bytewise (COLLATE "C", as
 * SQLite compares text), NULLs first where SQLite puts them, and sums
 * come back as bigints.  The pattern of each query's columns: 's' a text,
 * 'u' an id as UUID text, both into the next s[]; 'i' a number, 'n' one
 * that may be NULL, into the next i[].  Parameters: $1 and $2 the period
 * (or the first day and the key), $1 the key and $2 $3 the period for
 * the conflicts.
 */
enum pg_fact_bind { PF_PERIOD, PF_FROM_KEY, PF_KEY_PERIOD, PF_NONE };

static const struct {
	const char *sql;
	enum pg_fact_bind bind;
	const char *cols;
} pg_queries[STORE_Q_COUNT] = {
    [STORE_Q_DISTRICT] = {"SELECT code, name FROM district ORDER BY code "
			  "COLLATE \"C\" LIMIT 1",
			  PF_NONE, "ss"},
    [STORE_Q_STREET] = {"SELECT code, name FROM street ORDER BY code "
			"COLLATE \"C\"",
			PF_NONE, "ss"},
    [STORE_Q_GRID] = {"SELECT code, street, name FROM grid ORDER BY code "
		      "COLLATE \"C\"",
		      PF_NONE, "sss"},
    [STORE_Q_AREA] = {"SELECT code, grid, name FROM police_area ORDER BY "
		      "code COLLATE \"C\"",
		      PF_NONE, "sss"},
    [STORE_Q_COMMUNITY] = {"SELECT c.code, c.grid, c.name, a.area, "
			   "c.population, c.criminal_cases, c.patrol_team "
			   "FROM community c LEFT JOIN (SELECT community, "
			   "min(area COLLATE \"C\") AS area FROM "
			   "area_community GROUP BY community) a ON "
			   "a.community = c.code ORDER BY c.code COLLATE "
			   "\"C\"",
			   PF_NONE, "ssssiii"},
    [STORE_Q_STAFF] = {"SELECT code, name, role, grid, coalesce(area, '') "
		       "FROM staff ORDER BY code COLLATE \"C\"",
		       PF_NONE, "sssss"},
    [STORE_Q_ACTIVE] = {"SELECT grid, enterprises FROM rr_active", PF_NONE,
			"si"},
    [STORE_Q_CHECKS] = {"SELECT e.grid, c.enterprise, c.signed, c.total "
			"FROM rf_check c JOIN rf_enterprise e ON e.id = "
			"c.enterprise AND e.grid = c.grid WHERE c.day "
			"BETWEEN $1::bigint AND $2::bigint AND e.active = 1 "
			"ORDER BY c.enterprise, c.day DESC, c.version DESC, "
			"c.id DESC",
			PF_PERIOD, "suii"},
    [STORE_Q_CHECKED] = {"SELECT e.grid, count(DISTINCT c.enterprise) "
			 "FROM rf_check c JOIN rf_enterprise e ON e.id = "
			 "c.enterprise AND e.grid = c.grid WHERE c.day "
			 "BETWEEN $1::bigint AND $2::bigint AND e.active = 1 "
			 "GROUP BY e.grid",
			 PF_PERIOD, "si"},
    [STORE_Q_ORDERS] = {"SELECT c.grid, c.outcome, e.name, c.enterprise, "
			"c.day, c.deadline, (SELECT min(r.day) FROM rf_rect "
			"r WHERE r.chk = c.id AND r.grid = c.grid AND "
			"r.rectified = 1) FROM rf_check c JOIN rf_enterprise "
			"e ON e.id = c.enterprise AND e.grid = c.grid WHERE "
			"c.day BETWEEN $1::bigint AND $2::bigint AND "
			"c.outcome IN ('notice', 'rectify_order') ORDER BY "
			"c.deadline NULLS FIRST, c.grid COLLATE \"C\", c.day, "
			"c.enterprise, c.id",
			PF_PERIOD, "sssuinn"},
    [STORE_Q_DISPUTES] = {"SELECT d.grid, d.level, d.status, count(*) "
			  "FROM rf_dispute d WHERE d.day BETWEEN $1::bigint "
			  "AND $2::bigint AND (d.enterprise IS NULL OR EXISTS "
			  "(SELECT 1 FROM rf_enterprise e WHERE e.id = "
			  "d.enterprise AND e.grid = d.grid)) GROUP BY "
			  "d.grid, d.level, d.status",
			  PF_PERIOD, "sssi"},
    [STORE_Q_NIGHTS] = {"SELECT area, leader, night FROM rr_night WHERE "
			"night BETWEEN $1::bigint AND $2::bigint AND patrols "
			"> 0",
			PF_PERIOD, "ssi"},
    [STORE_Q_RECEPTION] = {"SELECT officer, week, ms FROM rr_reception "
			   "WHERE week BETWEEN $1::bigint AND $2::bigint",
			   PF_PERIOD, "sii"},
    [STORE_Q_REQUESTS] = {"SELECT area, category, priority, officer, CASE "
			  "WHEN resolved IS NULL THEN id END, "
			  "received, deadline, resolved FROM rf_request "
			  "WHERE day BETWEEN $1::bigint AND $2::bigint ORDER "
			  "BY day, area COLLATE \"C\"",
			  PF_PERIOD, "ssssuiin"},
    [STORE_Q_DAILY] = {"SELECT officer, day FROM rr_daily WHERE day "
		       "BETWEEN $1::bigint AND $2::bigint AND reports > 0",
		       PF_PERIOD, "si"},
    [STORE_Q_DEVICES] = {"SELECT d.id, d.grid, d.role, d.name, d.revoked, "
			 "s.pending, coalesce(s.oldest_pending, 0), "
			 "coalesce(s.last_seen, 0) FROM device d LEFT JOIN "
			 "device_sync s ON s.device = d.id AND s.grid = "
			 "d.grid WHERE d.role != 'viewer'",
			 PF_NONE, "usssinii"},
    [STORE_Q_DEVICE_SYNC] =
	{"SELECT d.id, d.grid, d.role, d.name, "
	 "d.revoked, s.pending, coalesce(s.oldest_pending, "
	 "0), coalesce(s.last_seen, 0), coalesce(y.batches, "
	 "0)::bigint, coalesce(y.records, 0)::bigint, "
	 "coalesce((SELECT z.last_at FROM rr_sync z WHERE "
	 "z.device = d.id ORDER BY z.day DESC LIMIT 1), 0) "
	 "FROM device d LEFT JOIN device_sync s ON "
	 "s.device = d.id AND s.grid = d.grid LEFT JOIN "
	 "(SELECT device, sum(batches) AS batches, "
	 "sum(records) AS records FROM rr_sync WHERE day "
	 "BETWEEN $1::bigint AND $2::bigint GROUP BY "
	 "device) y ON y.device = d.id WHERE d.role != "
	 "'viewer' ORDER BY d.grid COLLATE \"C\", "
	 "d.created_at, d.id",
	 PF_PERIOD, "usssiniiiii"},
    [STORE_Q_SYNCED_GRIDS] = {"SELECT DISTINCT d.grid FROM device d WHERE "
			      "($2::text IS NULL OR d.role = $2::text) AND "
			      "EXISTS (SELECT 1 FROM rr_sync y WHERE y.device "
			      "= d.id AND y.day >= $1::bigint)",
			      PF_FROM_KEY, "s"},
    [STORE_Q_CONFLICTS] = {"SELECT grid, area, person FROM rf_conflict "
			   "WHERE kind = $1::text AND (day IS NULL OR day "
			   "BETWEEN $2::bigint AND $3::bigint)",
			   PF_KEY_PERIOD, "sss"},
};

/*
 * Ends a pipeline of n commands sent on c: sends the sync, reads every
 * result and leaves pipeline mode.  The result of command skip + i goes
 * to keep[i] for i < nkeep (the caller frees them with PQclear), the
 * others are dropped.  sent is 0 when sending one of them failed.
 * Returns 0, or -1 with err when a command or the connection failed (the
 * first failure is told); after a failure c is best closed.
 */
static int pipeline_end(PGconn *c, int n, int sent, int skip, PGresult **keep,
			int nkeep, const char *what, struct gb_err *err)
{
	int rc = 0, got = 0, nulls = 0;

	if (!sent || !PQpipelineSync(c)) {
		pg_fail(c, NULL, err, what);
		PQexitPipelineMode(c);
		return -1;
	}
	/* Each command's result, then a NULL (PGRES_PIPELINE_ABORTED for
	 * those after a failure); then the sync's. */
	for (;;) {
		PGresult *res = PQgetResult(c);
		ExecStatusType st;

		if (!res) {
			if (PQstatus(c) != CONNECTION_OK || ++nulls > n)
				break;
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (rc == 0)
				rc = pg_fail(c, res, err, what);
			PQclear(res);
		} else if (got >= skip && got - skip < nkeep) {
			keep[got - skip] = res;
		} else {
			PQclear(res);
		}
		got++;
	}
	if (rc == 0 && got != n)
		rc = pg_fail(c, NULL, err, what);
	if (!PQexitPipelineMode(c) && rc == 0)
		rc = pg_fail(c, NULL, err, what);
	return rc;
}

/*
 * Each fact query is prepared once on each reader connection, as "gbqN"
 * for STORE_Q_N, so that a report's statements are parsed once per
 * connection rather than once per report.  All of them go in one round
 * trip (pipeline mode).  Returns 0, or -1 with err (c is then best
 * closed).
 */
static int facts_prepare(PGconn *c, struct gb_err *err)
{
	int sent = 1;

	if (!PQenterPipelineMode(c))
		return pg_fail(c, NULL, err, N_("reading report facts"));
	for (int q = 0; sent && q < STORE_Q_COUNT; q++) {
		char name[16];

		snprintf(name, sizeof(name), "gbq%d", q);
		sent = PQsendPrepare(c, name, pg_queries[q].sql, 0, NULL);
	}
	return pipeline_end(c, STORE_Q_COUNT, sent, 0, NULL, 0,
			    N_("reading report facts"), err);
}

/* The reference facts (STORE_Q_DISTRICT .. STORE_Q_STAFF): every report
 * reads all of them, so facts_begin fetches them with its BEGIN. */
#define PG_REFS (STORE_Q_STAFF + 1)

/* A snapshot: a reader in a repeatable-read transaction (own: begun
 * here, to be ended here), and the reference facts read in it. */
struct store_facts {
	PGconn *c;
	int own;
	PGresult *ref[PG_REFS];
};

/*
 * Opens the snapshot and reads the reference facts in it, in one round
 * trip: BEGIN (when the connection is not in a transaction already) and
 * the reference queries go in one pipeline.  Returns 0, or -1 with err.
 */
static int facts_open(struct store_facts *f, struct gb_err *err)
{
	PGconn *c = f->c;
	int sent = 1;

	if (!PQenterPipelineMode(c))
		return pg_fail(c, NULL, err, N_("reading report facts"));
	if (f->own)
		sent = PQsendQueryParams(c,
					 "BEGIN ISOLATION LEVEL REPEATABLE "
					 "READ READ ONLY",
					 0, NULL, NULL, NULL, NULL, 1);
	for (int q = 0; sent && q < PG_REFS; q++) {
		char name[16];

		snprintf(name, sizeof(name), "gbq%d", q);
		sent = PQsendQueryPrepared(c, name, 0, NULL, NULL, NULL, 1);
	}
	return pipeline_end(c, PG_REFS + f->own, sent, f->own, f->ref, PG_REFS,
			    N_("reading reference data"), err);
}

static void pg_facts_end(struct store *st, struct store_facts *f);

static int pg_facts_begin(struct store *st, struct store_facts **out,
			  struct gb_err *err)
{
	struct pg_store *s = impl(st);
	struct store_facts *f;
	PGconn *c = NULL;

	*out = NULL;
	if (reader_get(s, &c, err) < 0)
		return -1;
	if (s->mode == STORE_ADMIN && !s->facts_prepared) {
		if (facts_prepare(c, err) < 0)
			return -1;
		s->facts_prepared = 1;
	}
	f = xcalloc(1, sizeof(*f));
	f->c = c;
	f->own = PQtransactionStatus(c) == PQTRANS_IDLE;
	if (facts_open(f, err) < 0) {
		pg_facts_end(st, f);
		return -1;
	}
	*out = f;
	return 0;
}

static void pg_facts_end(struct store *st, struct store_facts *f)
{
	if (!f)
		return;
	for (int q = 0; q < PG_REFS; q++)
		PQclear(f->ref[q]);
	read_end(f->c, f->own);
	reader_put(impl(st), f->c);
	free(f);
}

static int pg_facts_read(struct store *st, struct store_facts *f,
			 const struct store_fact_query *q,
			 int (*cb)(void *arg, const struct store_fact_row *r,
				   struct gb_err *err),
			 void *arg, struct gb_err *err)
{
	struct params p;
	PGresult *res;
	const char *cols;
	char ids[STORE_FACT_NS][GB_ID_LEN];
	char name[16];
	struct store_fact_row row;
	int rc = 0;

	(void)st;
	if (q->fact < 0 || q->fact >= STORE_Q_COUNT)
		return gb_error(err, GB_EINTERNAL, "store: no report fact %d",
				(int)q->fact);
	memset(&p, 0, sizeof(p));
	switch (pg_queries[q->fact].bind) {
	case PF_PERIOD:
		p_i64(&p, q->from);
		p_i64(&p, q->to);
		break;
	case PF_FROM_KEY:
		p_i64(&p, q->from);
		p_text(&p, q->key);
		break;
	case PF_KEY_PERIOD:
		p_text(&p, q->key);
		p_i64(&p, q->from);
		p_i64(&p, q->to);
		break;
	case PF_NONE:
		break;
	}
	if (q->fact < PG_REFS && f->ref[q->fact]) {
		res = f->ref[q->fact];
	} else {
		ExecStatusType rs;

		snprintf(name, sizeof(name), "gbq%d", (int)q->fact);
		res = PQexecPrepared(f->c, name, p.n, p.v, p.len, p.fmt, 1);
		rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (rs != PGRES_TUPLES_OK) {
			pg_fail(f->c, res, err,
				q->fact <= STORE_Q_STAFF
				    ? N_("reading reference data")
				    : N_("reading report facts"));
			PQclear(res);
			return -1;
		}
	}
	cols = pg_queries[q->fact].cols;
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		int ns = 0, ni = 0;

		memset(&row, 0, sizeof(row));
		for (int c = 0; cols[c]; c++) {
			switch (cols[c]) {
			case 's':
				row.s[ns++] = PQgetisnull(res, i, c)
						  ? ""
						  : PQgetvalue(res, i, c);
				break;
			case 'u':
				gb_uuid_text(PQgetvalue(res, i, c),
					     PQgetlength(res, i, c), ids[ns]);
				row.s[ns] = ids[ns];
				ns++;
				break;
			case 'n':
				if (PQgetisnull(res, i, c))
					row.null |= 1u << ni;
				/* fall through */
			default:
				row.i[ni++] = col_i64(res, i, c);
				break;
			}
		}
		rc = cb(arg, &row, err);
	}
	if (res != (q->fact < PG_REFS ? f->ref[q->fact] : NULL))
		PQclear(res);
	return rc < 0 ? -1 : 0;
}

static const struct store_ops pg_ops = {
    .close = pg_close,
    .migrate = pg_migrate,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .checkpoint = pg_checkpoint,
    .room = pg_room,
    .set_margin = pg_set_margin,
    .grid_lock = pg_grid_lock,
    .watch = pg_watch,
    .batch_get = pg_batch_get,
    .batch_put = pg_batch_put,
    .batch_high = pg_batch_high,
    .version_get = pg_version_get,
    .current_get = pg_current_get,
    .current_prefetch = pg_current_prefetch,
    .history_put = pg_history_put,
    .current_put = pg_current_put,
    .conflict_put = pg_conflict_put,
    .rejection_put = pg_rejection_put,
    .find = pg_find,
    .find_key = pg_find_key,
    .ref_known = pg_ref_known,
    .ref_put = pg_ref_put,
    .ref_touch = pg_ref_touch,
    .grid_exists = pg_grid_exists,
    .device_put = pg_device_put,
    .device_by_token = pg_device_by_token,
    .device_revoke = pg_device_revoke,
    .device_seen = pg_device_seen,
    .device_list = pg_device_list,
    .audit_put = pg_audit_put,
    .audit_list = pg_audit_list,
    .audit_verify = pg_audit_verify,
    .changes = pg_changes,
    .history_each = pg_history_each,
    .field_conflicts_put = pg_field_conflicts_put,
    .field_conflict_list = pg_field_conflict_list,
    .versions_outside = pg_versions_outside,
    /* report facts, written by ingest */
    .fact_put = pg_fact_put,
    .fact_del = pg_fact_del,
    .fact_get = pg_fact_get,
    .counter_add = pg_counter_add,
    .counter_get = pg_counter_get,
    .sync_add = pg_sync_add,
    .facts_version = pg_facts_version,
    .facts_clear = pg_facts_clear,
    .facts_built = pg_facts_built,
    .fact_records = pg_fact_records,
    .fact_batches = pg_fact_batches,
    /* report facts, read by reports */
    .facts_begin = pg_facts_begin,
    .facts_end = pg_facts_end,
    .facts_read = pg_facts_read,
};

int store_pg_open(struct store **out, const char *url, enum store_mode mode,
		  struct gb_err *err)
{
	struct pg_store *s;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &pg_ops;
	s->mode = mode;
	s->url = xstrdup(url);
	pthread_mutex_init(&s->pool_mu, NULL);
	atomic_init(&s->writer_pid, 0);
	atomic_init(&s->watch_stop, 0);
	s->conn = connect_db(s, err);
	if (!s->conn || pg_migrate(&s->base, err) < 0 || tz_settle(s, err) < 0)
		goto fail;
	atomic_store(&s->writer_pid, PQbackendPID(s->conn));
	*out = &s->base;
	return 0;
fail:
	pg_close(&s->base);
	return -1;
}

/* ---- backup, by PostgreSQL's own tools ---- */

extern char **environ;

/* Runs argv (a program found on PATH) with its standard output to
 * /dev/null, and waits.  Returns 0 when it exited 0, or -1 with err
 * naming it. */
static int tool_run(char *const argv[], struct gb_err *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;

	if (posix_spawn_file_actions_init(&fa))
		return gb_error(err, GB_EIO, "%s: %s", argv[0],
				strerror(errno));
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return gb_error(err, GB_EIO,
				_("cannot run %s (from PostgreSQL's client "
				  "programs): %s"),
				argv[0], strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return gb_error(err, GB_EIO, "%s: %s", argv[0],
					strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return gb_error(err, GB_EDB,
				_("%s failed (its message is above)"), argv[0]);
	return 0;
}

int store_pg_backup(const char *url, const char *file, struct gb_err *err)
{
	char *dump[] = {"pg_dump",    "--format=custom", "--no-owner", "--file",
			(char *)file, "--dbname",	 (char *)url,  NULL};
	char *list[] = {"pg_restore", "--list", (char *)file, NULL};
	struct stat sb;

	if (stat(file, &sb) == 0)
		return gb_error(err, GB_EEXIST,
				_("%s: the file exists; a backup does not "
				  "replace a file"),
				file);
	if (tool_run(dump, err) < 0)
		return -1;
	return tool_run(list, err);
}

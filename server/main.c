/*
 * gridbook-hq: the central server and its administration commands.
 *   serve                    the HTTP server (ingest, changes, reports)
 *   seed DIR                 load the reference district
 *   device enroll|revoke|list
 *   audit                    the last entries of the audit log
 *   report NAME              a report for headquarters (reports.h)
 *   conflicts                the field conflicts held (conflicts.h)
 * The store comes from --store or GRIDBOOK_HQ_STORE.  Commands print, the
 * modules below them return errors.  The server stops cleanly on SIGTERM
 * or SIGINT: no new connections, requests in progress answered, the
 * writer's queue committed, the store closed.
 */
#include <pthread.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "auth.h"
#include "backup.h"
#include "conflicts.h"
#include "gbtime.h"
#include "http.h"
#include "i18n.h"
#include "id.h"
#include "ingest.h"
#include "log.h"
#include "opts.h"
#include "reports.h"
#include "rollup.h"
#include "seed.h"
#include "store.h"
#include "store_pg.h"
#include "utf8.h"
#include "wire.h"

#include "banned.h"

#define PROG "gridbook-hq"
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define DEFAULT_LISTEN "127.0.0.1:8470"

struct hq {
	const char *store; /* --store or GRIDBOOK_HQ_STORE */
};

static int fail(const struct gb_err *err)
{
	fprintf(stderr, PROG ": %s\n", err->msg);
	return gb_code_exit(err->code);
}

static int usage_error(const char *cmd, const struct gb_err *err)
{
	return gb_opts_usage_error(PROG, cmd, err);
}

/* Whether spec names a PostgreSQL store. */
static int store_is_pg(const char *spec)
{
	return spec && (strncmp(spec, "postgresql://", 13) == 0 ||
			strncmp(spec, "postgres://", 11) == 0);
}

/*
 * Opens the store named by spec: "sqlite:PATH", or a PostgreSQL database
 * by its libpq URI ("postgresql://USER@HOST:PORT/DB", or "postgres://";
 * store_pg.h), which several servers may share.
 */
static int store_open(struct store **out, const char *spec,
		      enum store_mode mode, struct gb_err *err)
{
	if (!spec || !*spec)
		return gb_error(err, GB_EUSAGE,
				_("no store: give --store sqlite:PATH or set "
				  "GRIDBOOK_HQ_STORE"));
	if (strncmp(spec, "sqlite:", 7) == 0 && spec[7])
		return store_sqlite_open(out, spec + 7, mode, err);
	if (store_is_pg(spec))
		return store_pg_open(out, spec, mode, err);
	return gb_error(err, GB_EUSAGE,
			_("--store: \"%s\" is not sqlite:PATH or "
			  "postgresql://..."),
			spec);
}

/* Parses a command's options.  Returns 0 to go on, or -1 when the command
 * is done: help printed or a usage error reported, *status its exit. */
static int parse(const char *cmd, const struct gb_opt *spec, int nspec,
		 int argc, char **argv, char **pos, int maxpos, int *npos,
		 void (*help)(FILE *), int *status)
{
	struct gb_err err;
	int want_help = 0;

	if (gb_opts_parse(spec, nspec, argc, argv, pos, maxpos, npos,
			  &want_help, &err) < 0) {
		*status = usage_error(cmd, &err);
		return -1;
	}
	if (want_help) {
		help(stdout);
		*status = 0;
		return -1;
	}
	return 0;
}

/* ---- serve ---- */

/* The free-space margin by default, MiB (store_ops.room). */
#define MARGIN_MIB 256
/* Writer threads of a PostgreSQL store by default (--writers): one
 * builds a batch while the database applies the one before. */
#define PG_WRITERS 2

static void serve_help(FILE *fp)
{
	struct http_limits l;

	http_limits_default(&l);
	fprintf(fp,
		_("usage: %s serve [--store sqlite:PATH] [--listen ADDR:PORT]\n"
		  "                   [--tls-cert FILE --tls-key FILE] "
		  "[--verbose|--quiet] [LIMITS]\n\n"
		  "Serves POST /v1/batches, GET /v1/changes, GET "
		  "/v1/reports/NAME and GET\n/healthz until SIGTERM or "
		  "SIGINT.  --listen defaults to %s.  Plain "
		  "HTTP is served on loopback\naddresses only; any other "
		  "address needs --tls-cert and --tls-key (PEM\nfiles), and "
		  "TLS support is new: put a TLS proxy in front for "
		  "production\nuntil it has been proven.\n"),
		PROG, DEFAULT_LISTEN);
	fprintf(fp,
		_("\nLIMITS (decided before a body is read; a 429 or 503 "
		  "carries Retry-After):\n"
		  "  --max-connections N          open connections in all "
		  "(%u)\n"
		  "  --max-address-connections N  open connections of one "
		  "address (%u)\n"
		  "  --max-address-rate N         requests a second of one "
		  "address, 429 (%u)\n"
		  "  --max-batches N              batches under way at once "
		  "(%u)\n"
		  "  --batch-queue-ms MS          the writer's time the "
		  "batches under way may\n"
		  "                               hold; past it a batch "
		  "waits, or is given a turn\n"
		  "                               (503 with Retry-After-Ms); "
		  "0: no turns (%u)\n"
		  "  --batch-wait S               seconds a batch waits for "
		  "one of those, then 503\n"
		  "                               (%u)\n"
		  "  --max-device-batches N       batches of one device in "
		  "flight, 429 (%u)\n"
		  "  --max-reports N              reports computed at once, "
		  "503 (%u)\n"
		  "  --header-timeout S           seconds to send the headers "
		  "(%u)\n"
		  "  --body-timeout S             seconds to send the body "
		  "(%u)\n"
		  "  --limit-log-interval S       limits reached are logged "
		  "this often (%u)\n"
		  "  --free-space-margin MIB      batches are refused, 503, "
		  "when the store's\n"
		  "                               disk has less free; 0: "
		  "off (%d)\n"
		  "/healthz answers 503 and says why while batches are "
		  "refused for room.\n"),
		l.connections, l.per_address, l.rate, l.batches, l.queue_ms,
		l.batch_wait_s, l.device_batches, l.reports, l.header_s,
		l.body_s, l.log_s, MARGIN_MIB);
	fprintf(fp,
		_("\nPRIORITY:\n"
		  "  --bulk-nice N                nice value (0-19) of the "
		  "writer and of the\n"
		  "                               connections that send "
		  "batches or pull changes,\n"
		  "                               so that reports and "
		  "/healthz get a CPU first (%u)\n"),
		l.bulk_nice);
	fprintf(fp,
		_("\nWRITERS:\n"
		  "  --writers N                  writer threads, each on a "
		  "connection of its own,\n"
		  "                               sharing the grids between "
		  "them: PostgreSQL only\n"
		  "                               (1 to %d; %d on PostgreSQL, "
		  "1 on SQLite)\n"),
		INGEST_WRITERS_MAX, PG_WRITERS);
}

/* Parses the value of a numeric option: min to max. */
static int number_parse(const char *opt, const char *text, unsigned min,
			unsigned max, unsigned *out, struct gb_err *err)
{
	unsigned long v;
	char *end;

	if (!text)
		return 0;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || *text == '-' || v < min || v > max)
		return gb_error(err, GB_EUSAGE,
				_("--%s: \"%s\" is not a number from %u to "
				  "%u"),
				opt, text, min, max);
	*out = (unsigned)v;
	return 0;
}

static int limit_parse(const char *opt, const char *text, unsigned max,
		       unsigned *out, struct gb_err *err)
{
	return number_parse(opt, text, 1, max, out, err);
}

/* Each connection holds a socket: the soft limit of open files goes up
 * to the hard one, so that --max-connections can be reached. */
static void files_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The writers after the first (--writers), each on a store of its own,
 * opened into more. */
static int writers_add(struct hq *hq, struct ingest *ing, struct store **more,
		       unsigned writers, struct gb_err *err)
{
	for (unsigned i = 1; i < writers; i++)
		if (store_open(&more[i], hq->store, STORE_SERVE, err) < 0 ||
		    ingest_add_writer(ing, more[i], err) < 0)
			return -1;
	return 0;
}

static void stores_close(struct store **more)
{
	for (int i = 0; i < INGEST_WRITERS_MAX; i++)
		if (more[i])
			more[i]->ops->close(more[i]);
}

static int cmd_serve(struct hq *hq, int argc, char **argv)
{
	const char *listen = DEFAULT_LISTEN;
	struct http_config cfg;
	int verbose = 0, quiet = 0, npos, status, sig, race_fixed;
	unsigned margin = MARGIN_MIB;
	const char *sqlite_v;
	const char *o_conn = NULL, *o_addr = NULL, *o_rate = NULL,
		   *o_batches = NULL, *o_wait = NULL, *o_dev = NULL,
		   *o_reports = NULL, *o_head = NULL, *o_body = NULL,
		   *o_log = NULL, *o_margin = NULL, *o_nice = NULL,
		   *o_queue = NULL, *o_writers = NULL;
	const struct gb_opt spec[] = {
	    {"store", 1, &hq->store, NULL},
	    {"listen", 1, &listen, NULL},
	    {"tls-cert", 1, &cfg.tls_cert, NULL},
	    {"tls-key", 1, &cfg.tls_key, NULL},
	    {"verbose", 0, NULL, &verbose},
	    {"quiet", 0, NULL, &quiet},
	    {"max-connections", 1, &o_conn, NULL},
	    {"max-address-connections", 1, &o_addr, NULL},
	    {"max-address-rate", 1, &o_rate, NULL},
	    {"max-batches", 1, &o_batches, NULL},
	    {"batch-wait", 1, &o_wait, NULL},
	    {"max-device-batches", 1, &o_dev, NULL},
	    {"max-reports", 1, &o_reports, NULL},
	    {"header-timeout", 1, &o_head, NULL},
	    {"body-timeout", 1, &o_body, NULL},
	    {"limit-log-interval", 1, &o_log, NULL},
	    {"free-space-margin", 1, &o_margin, NULL},
	    {"bulk-nice", 1, &o_nice, NULL},
	    {"batch-queue-ms", 1, &o_queue, NULL},
	    {"writers", 1, &o_writers, NULL},
	};
	struct store *st = NULL, *more[INGEST_WRITERS_MAX] = {NULL};
	unsigned writers = 0;
	struct ingest *ing = NULL;
	struct http_server *http = NULL;
	struct gb_err err;
	sigset_t sigs;
	char *pos[1];

	memset(&cfg, 0, sizeof(cfg));
	http_limits_default(&cfg.limits);
	if (parse("serve", spec, N(spec), argc, argv, pos, 0, &npos, serve_help,
		  &status) < 0)
		return status;
	cfg.listen = listen;
	/* The bounds keep the products of these in range.  A margin of 0
	 * lets the disk fill: a write that fails for it is refused as a
	 * whole and tried again (503), but the margin spares the store
	 * running into it. */
	if (limit_parse("max-connections", o_conn, 100000,
			&cfg.limits.connections, &err) < 0 ||
	    limit_parse("max-address-connections", o_addr, 100000,
			&cfg.limits.per_address, &err) < 0 ||
	    limit_parse("max-address-rate", o_rate, 1000000, &cfg.limits.rate,
			&err) < 0 ||
	    limit_parse("max-batches", o_batches, 10000, &cfg.limits.batches,
			&err) < 0 ||
	    limit_parse("batch-wait", o_wait, 600, &cfg.limits.batch_wait_s,
			&err) < 0 ||
	    number_parse("batch-queue-ms", o_queue, 0, 600000,
			 &cfg.limits.queue_ms, &err) < 0 ||
	    limit_parse("max-device-batches", o_dev, 1000,
			&cfg.limits.device_batches, &err) < 0 ||
	    limit_parse("max-reports", o_reports, 1000, &cfg.limits.reports,
			&err) < 0 ||
	    limit_parse("header-timeout", o_head, 3600, &cfg.limits.header_s,
			&err) < 0 ||
	    limit_parse("body-timeout", o_body, 3600, &cfg.limits.body_s,
			&err) < 0 ||
	    limit_parse("limit-log-interval", o_log, 3600, &cfg.limits.log_s,
			&err) < 0 ||
	    number_parse("free-space-margin", o_margin, 0, 1u << 20, &margin,
			 &err) < 0 ||
	    number_parse("bulk-nice", o_nice, 0, 19, &cfg.limits.bulk_nice,
			 &err) < 0 ||
	    number_parse("writers", o_writers, 1, INGEST_WRITERS_MAX, &writers,
			 &err) < 0)
		return usage_error("serve", &err);
	if (!writers)
		writers = store_is_pg(hq->store) ? PG_WRITERS : 1;
	if (writers > 1 && !store_is_pg(hq->store)) {
		gb_error(&err, GB_EUSAGE,
			 _("--writers: a SQLite store has one writer"));
		return usage_error("serve", &err);
	}
	log_init(PROG,
		 verbose ? LOG_LVL_DEBUG
		 : quiet ? LOG_LVL_WARN
			 : LOG_LVL_INFO,
		 1);
	/* Signals are taken by sigwait below; every thread started from
	 * here on inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (http_check(&cfg, &err) < 0)
		return usage_error("serve", &err);
	if (auth_init(&err) < 0 ||
	    store_open(&st, hq->store, STORE_SERVE, &err) < 0)
		return fail(&err);
	st->ops->set_margin(st, (int64_t)margin << 20);
	files_raise();
	if (rollup_ensure(st, &err) < 0) {
		st->ops->close(st);
		return fail(&err);
	}
	if (ingest_start(&ing, st, &err) < 0 ||
	    writers_add(hq, ing, more, writers, &err) < 0 ||
	    http_start(&http, &cfg, st, ing, &err) < 0) {
		ingest_stop(ing);
		stores_close(more);
		st->ops->close(st);
		return fail(&err);
	}
	ingest_set_nice(ing, (int)cfg.limits.bulk_nice);
	log_info("serving %s on %s%s", hq->store, cfg.listen,
		 cfg.tls_cert ? " with TLS" : "");
	if (writers > 1)
		log_info("%u writers", writers);
	if (st->ops->room(st, &err) < 0)
		log_warnx("%s", err.msg);
	/* What the SQLite store does about the WAL-reset race; a PostgreSQL
	 * store has no WAL of SQLite's to speak of. */
	if (!store_is_pg(hq->store)) {
		sqlite_v = store_sqlite_version(&race_fixed);
		log_info("SQLite %s%s", sqlite_v,
			 race_fixed ? ""
				    : ", with the WAL-reset race: one writer "
				      "connection, which alone checkpoints");
	}
	if (sigwait(&sigs, &sig) != 0)
		sig = SIGTERM;
	log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* http_stop waits for every request under way, and a batch held
	 * for the one it follows would keep it waiting up to the whole
	 * hold: such batches are refused now (503; the device sends them
	 * again). */
	ingest_set_hold(ing, 0);
	http_stop(http);
	ingest_stop(ing);
	stores_close(more);
	st->ops->close(st);
	log_info("stopped");
	return 0;
}

/* ---- seed ---- */

static void seed_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s seed DIR [--store sqlite:PATH]\n\n"
		  "Loads the reference district from the CSV files of DIR "
		  "(see seeds/README.md).\nLoading again changes only what "
		  "differs; rows missing from the files stay.\n"),
		PROG);
}

static int cmd_seed(struct hq *hq, int argc, char **argv)
{
	const struct gb_opt spec[] = {{"store", 1, &hq->store, NULL}};
	struct seed_stats stats;
	struct store *st = NULL;
	struct gb_err err;
	char *pos[1];
	int npos, status, rc;

	if (parse("seed", spec, N(spec), argc, argv, pos, 1, &npos, seed_help,
		  &status) < 0)
		return status;
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE, _("seed: which directory?"));
		return usage_error("seed", &err);
	}
	if (store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	rc = seed_load(st, pos[0], &stats, &err);
	st->ops->close(st);
	if (rc < 0)
		return fail(&err);
	printf(_("%ld rows read, %ld new or changed\n"), stats.rows,
	       stats.changed);
	return 0;
}

/* ---- device ---- */

static void device_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s device enroll --grid G --role ROLE [--name TEXT]\n"
		  "       %s device revoke ID\n"
		  "       %s device list\n"
		  "(each also takes --store sqlite:PATH)\n\n"
		  "enroll makes a device of grid G with role coordinator "
		  "(labour records),\nofficer (policing records) or viewer "
		  "(reports only), and prints its id and\ntoken.  The token "
		  "is shown this once: only its hash is kept.\n"),
		PROG, PROG, PROG);
}

/* Enrolls a device and writes the audit entry in one transaction, then
 * prints its id and token. */
static int device_enroll(struct store *st, const char *grid, const char *role,
			 const char *name, struct gb_err *err)
{
	struct store_device d;
	struct store_audit a;
	struct gb_uuidgen gen;
	unsigned char hash[STORE_HASH_LEN];
	char token[AUTH_TOKEN_LEN], detail[200];
	int found, rc = -1;

	memset(&d, 0, sizeof(d));
	gb_uuidgen_init(&gen);
	d.created_at = gb_now_ms();
	gb_uuid7(&gen, d.created_at, d.id);
	snprintf(d.grid, sizeof(d.grid), "%s", grid);
	snprintf(d.role, sizeof(d.role), "%s", role);
	snprintf(d.name, sizeof(d.name), "%s", name ? name : "");
	/* The device's name may be a person's: the audit log holds none. */
	snprintf(detail, sizeof(detail), "%s %s", d.grid, d.role);
	memset(&a, 0, sizeof(a));
	a.at = d.created_at;
	a.device = d.id;
	a.grid = d.grid;
	a.action = "enroll";
	a.detail = detail;
	a.remote = "local";
	auth_token_new(token, hash);
	if (st->ops->begin(st, err) < 0)
		goto out;
	found = st->ops->grid_exists(st, grid, err);
	if (found == 0)
		gb_error(err, GB_ENOTFOUND,
			 _("grid %s is not in the store (load the seeds "
			   "first: %s seed DIR)"),
			 grid, PROG);
	if (found <= 0 || st->ops->device_put(st, &d, hash, err) < 0 ||
	    st->ops->audit_put(st, &a, err) < 0) {
		st->ops->rollback(st);
		goto out;
	}
	if (st->ops->commit(st, err) < 0)
		goto out;
	printf("device: %s\ntoken: %s\n", d.id, token);
	fflush(stdout);
	fprintf(stderr,
		_("%s: the token is shown only this once; put it on "
		  "the device now\n"),
		PROG);
	rc = 0;
out:
	auth_wipe(token, sizeof(token));
	return rc;
}

static int device_revoke(struct store *st, const char *id, struct gb_err *err)
{
	struct store_audit a = {
	    .at = gb_now_ms(),
	    .device = id,
	    .grid = "",
	    .action = "revoke",
	    .detail = "",
	    .remote = "local",
	};

	if (!gb_uuid_valid(id))
		return gb_error(err, GB_EUSAGE, _("\"%s\" is not a device id"),
				id);
	if (st->ops->begin(st, err) < 0)
		return -1;
	if (st->ops->device_revoke(st, id, a.at, err) < 0 ||
	    st->ops->audit_put(st, &a, err) < 0) {
		st->ops->rollback(st);
		return -1;
	}
	return st->ops->commit(st, err);
}

static void when(int64_t ms, char *out)
{
	if (ms <= 0)
		snprintf(out, 20, "-");
	else
		gb_time_format(ms, out);
}

static int device_row(void *arg, const struct store_device *d)
{
	char created[32], seen[32];

	(void)arg;
	when(d->created_at, created);
	when(d->last_seen, seen);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d->id, d->grid, d->role,
	       d->revoked ? "revoked" : "active", created, seen, d->name);
	return 0;
}

static int cmd_device(struct hq *hq, int argc, char **argv)
{
	const char *grid = NULL, *role = NULL, *name = NULL;
	const struct gb_opt spec[] = {
	    {"store", 1, &hq->store, NULL},
	    {"grid", 1, &grid, NULL},
	    {"role", 1, &role, NULL},
	    {"name", 1, &name, NULL},
	};
	struct store *st = NULL;
	struct gb_err err;
	char *pos[2];
	int npos, status, rc;

	if (parse("device", spec, N(spec), argc, argv, pos, 2, &npos,
		  device_help, &status) < 0)
		return status;
	gb_err_clear(&err);
	if (npos == 0)
		gb_error(&err, GB_EUSAGE, _("device: enroll, revoke or list?"));
	else if (!strcmp(pos[0], "enroll") && (npos != 1 || !grid || !role))
		gb_error(&err, GB_EUSAGE,
			 _("device enroll needs --grid G and --role ROLE"));
	else if (!strcmp(pos[0], "enroll") && !auth_role_valid(role))
		gb_error(&err, GB_EUSAGE,
			 _("--role: \"%s\" is not coordinator, officer or "
			   "viewer"),
			 role);
	else if (!strcmp(pos[0], "enroll") && name &&
		 (strlen(name) >= sizeof(((struct store_device *)0)->name) ||
		  !gb_utf8_valid(name, strlen(name))))
		gb_error(&err, GB_EUSAGE,
			 _("--name: must be valid UTF-8 of at most %zu bytes"),
			 sizeof(((struct store_device *)0)->name) - 1);
	else if (!strcmp(pos[0], "revoke") && npos != 2)
		gb_error(&err, GB_EUSAGE,
			 _("device revoke needs the device "
			   "id"));
	else if (!strcmp(pos[0], "list") && npos != 1)
		gb_error(&err, GB_EUSAGE, _("device list takes no argument"));
	else if (strcmp(pos[0], "enroll") && strcmp(pos[0], "revoke") &&
		 strcmp(pos[0], "list"))
		gb_error(&err, GB_EUSAGE,
			 _("device: \"%s\" is not enroll, revoke or list"),
			 pos[0]);
	if (err.code != GB_OK)
		return usage_error("device", &err);
	if (auth_init(&err) < 0 ||
	    store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	if (!strcmp(pos[0], "enroll"))
		rc = device_enroll(st, grid, role, name, &err);
	else if (!strcmp(pos[0], "revoke"))
		rc = device_revoke(st, pos[1], &err);
	else
		rc = st->ops->device_list(st, device_row, NULL, &err);
	st->ops->close(st);
	return rc < 0 ? fail(&err) : 0;
}

/* ---- audit ---- */

static void audit_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s audit [--limit N] [--store sqlite:PATH]\n\n"
		  "Prints the last N (default 50) entries of the audit "
		  "log: refused requests\nand device enrolments and "
		  "revocations, oldest first, one per line:\ntime, "
		  "status, action, device, grid, peer, detail.\n"),
		PROG);
	fprintf(fp,
		_("\n       %s audit verify [--store sqlite:PATH]\n\n"
		  "Checks the hash chain of the audit log from its first "
		  "entry and names the\nfirst entry that does not check "
		  "out (edited, deleted, or not holding the\nhash of the "
		  "one before it); exits 1 then.  Prints the hash of the "
		  "last\nentry: kept elsewhere, it shows later that no "
		  "entry was cut off the end.\n"),
		PROG);
}

static int audit_row(void *arg, const struct store_audit *a)
{
	char at[32];

	(void)arg;
	gb_time_format(a->at, at);
	printf("%s\t%d\t%s\t%s\t%s\t%s\t%s\n", at, a->status, a->action,
	       a->device ? a->device : "-", a->grid && *a->grid ? a->grid : "-",
	       a->remote && *a->remote ? a->remote : "-",
	       a->detail ? a->detail : "");
	return 0;
}

/* audit verify: the chain checked, its length and head printed. */
static int audit_verify(struct hq *hq)
{
	struct store *st = NULL;
	struct gb_err err;
	char head[2 * 32 + 1] = "";
	long n = 0;
	int rc;

	if (store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	rc = st->ops->audit_verify(st, &n, head, sizeof(head), &err);
	st->ops->close(st);
	if (rc != 0)
		return fail(&err);
	printf(ngettext("audit log: %ld entry checks out; last hash %s\n",
			"audit log: %ld entries check out; last hash %s\n",
			(unsigned long)n),
	       n, head);
	return 0;
}

static int cmd_audit(struct hq *hq, int argc, char **argv)
{
	const char *limit_s = NULL;
	const struct gb_opt spec[] = {
	    {"store", 1, &hq->store, NULL},
	    {"limit", 1, &limit_s, NULL},
	};
	struct store *st = NULL;
	struct gb_err err;
	char *pos[1], *end;
	long limit = 50;
	int npos, status, rc;

	if (parse("audit", spec, N(spec), argc, argv, pos, 1, &npos, audit_help,
		  &status) < 0)
		return status;
	if (npos == 1 && strcmp(pos[0], "verify") != 0) {
		gb_error(&err, GB_EUSAGE,
			 _("audit: \"%s\" is not a subcommand (verify)"),
			 pos[0]);
		return usage_error("audit", &err);
	}
	if (npos == 1)
		return audit_verify(hq);
	if (limit_s) {
		limit = strtol(limit_s, &end, 10);
		if (end == limit_s || *end || limit < 1) {
			gb_error(&err, GB_EUSAGE,
				 _("--limit: \"%s\" is not a number of 1 or "
				   "more"),
				 limit_s);
			return usage_error("audit", &err);
		}
	}
	if (store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	rc = st->ops->audit_list(st, limit, audit_row, NULL, &err);
	st->ops->close(st);
	return rc < 0 ? fail(&err) : 0;
}

/* ---- report ---- */

static void report_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s report NAME --from YYYY-MM-DD --to YYYY-MM-DD\n"
		  "                   [--level LEVEL] [--format "
		  "table|json|csv] [--list LIST]\n"
		  "                   [--store sqlite:PATH]\n\n"
		  "Prints a report for headquarters over the local dates "
		  "--from..--to (both\nincluded), one row per unit of the "
		  "level (default district) and a total\nrow, with the "
		  "drill-down lists and how many grids are complete.  \"As "
		  "of\"\nis the end of --to, or now when that is earlier.  "
		  "The same report is served\nas GET /v1/reports/"
		  "NAME?level=&from=&to= (JSON, or CSV with Accept:\n"
		  "text/csv) to viewer devices.  --list prints one "
		  "drill-down list as CSV\n(\"incomplete\": the grids whose "
		  "data is not complete; ?list= over HTTP).\n\nreports:\n"),
		PROG);
	for (size_t i = 0; i < reports_count(); i++)
		fprintf(fp, "  %-15s %s\n", reports_name(i),
			reports_summary(i));
	fprintf(fp, _("\nlevels: district, street, grid; also area (police "
		      "area) for staffing,\nnight-patrol, reception, requests, "
		      "daily-reports and patrol-teams, and\ncommunity for "
		      "patrol-teams.\n"));
}

static int cmd_report(struct hq *hq, int argc, char **argv)
{
	const char *level = NULL, *from = NULL, *to = NULL, *format = "table";
	const char *list = NULL;
	const struct gb_opt spec[] = {
	    {"store", 1, &hq->store, NULL}, {"level", 1, &level, NULL},
	    {"from", 1, &from, NULL},	    {"to", 1, &to, NULL},
	    {"format", 1, &format, NULL},   {"list", 1, &list, NULL},
	};
	struct report *rep = NULL;
	struct store *st = NULL;
	struct gb_buf out;
	struct gb_err err;
	char *pos[1];
	int npos, status, rc;

	if (parse("report", spec, N(spec), argc, argv, pos, 1, &npos,
		  report_help, &status) < 0)
		return status;
	gb_err_clear(&err);
	if (npos != 1)
		gb_error(&err, GB_EUSAGE, _("report: which report?"));
	else if (!reports_levels(pos[0]))
		gb_error(&err, GB_EUSAGE,
			 _("report: no report \"%s\" (see --help)"), pos[0]);
	else if (!from || !to)
		gb_error(&err, GB_EUSAGE,
			 _("report needs --from and --to (YYYY-MM-DD)"));
	else if (strcmp(format, "table") && strcmp(format, "json") &&
		 strcmp(format, "csv"))
		gb_error(&err, GB_EUSAGE,
			 _("--format: \"%s\" is not table, json or csv"),
			 format);
	if (err.code != GB_OK)
		return usage_error("report", &err);
	if (store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	rc = rollup_ensure(st, &err);
	if (rc == 0)
		rc = report_run(st, pos[0], level, from, to, gb_now_ms(), &rep,
				&err);
	st->ops->close(st);
	if (rc == 0 && list)
		rc = report_write_list_csv(rep, list, &out, &err);
	else if (rc == 0)
		rc = !strcmp(format, "json")
			 ? report_write_json(rep, &out, &err)
		     : !strcmp(format, "csv")
			 ? report_write_csv(rep, &out, &err)
			 : report_write_table(rep, &out, &err);
	report_free(rep);
	if (rc == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	gb_buf_release(&out);
	if (rc < 0)
		return err.code == GB_EUSAGE ? usage_error("report", &err)
					     : fail(&err);
	return 0;
}

/* ---- conflicts ---- */

static void conflicts_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s conflicts [--grid G] [--format table|json|csv]\n"
		  "                      [--store sqlite:PATH]\n\n"
		  "Lists the field conflicts HQ holds: a field of a record "
		  "that two devices\nchanged without seeing each other's "
		  "change, or a void and an edit made\napart.  Each row "
		  "shows the record, the field, the value kept (the newer\n"
		  "one; a void stands), the other value, who wrote each "
		  "(staff and device)\nand when HQ received the later.  A "
		  "conflict goes once a device sends an\nedit made from both "
		  "that resolves it.  The same list is served as\nGET "
		  "/v1/conflicts?grid=G (JSON) to viewer devices, and to a "
		  "field device for\nits own grid.\n"),
		PROG);
}

static int cmd_conflicts(struct hq *hq, int argc, char **argv)
{
	const char *grid = NULL, *format = NULL;
	const struct gb_opt spec[] = {
	    {"store", 1, &hq->store, NULL},
	    {"grid", 1, &grid, NULL},
	    {"format", 1, &format, NULL},
	};
	enum conflicts_format f;
	struct store *st = NULL;
	struct gb_buf out;
	struct gb_err err;
	char *pos[1];
	int npos, status, rc;

	if (parse("conflicts", spec, N(spec), argc, argv, pos, 0, &npos,
		  conflicts_help, &status) < 0)
		return status;
	if (conflicts_format_parse(format, &f, &err) < 0)
		return usage_error("conflicts", &err);
	if (store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	if (grid && st->ops->grid_exists(st, grid, &err) == 0) {
		st->ops->close(st);
		gb_error(&err, GB_EUSAGE, _("--grid: no grid %s"), grid);
		return usage_error("conflicts", &err);
	}
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	rc = conflicts_write(st, grid, f, NULL, &out, &err);
	st->ops->close(st);
	if (rc == 0)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	gb_buf_release(&out);
	return rc < 0 ? fail(&err) : 0;
}

/* ---- backup ---- */

static void backup_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s backup FILE [--store sqlite:PATH|postgresql://"
		  "...]\n\n"
		  "Copies the store to FILE as it stands at one moment, also "
		  "while %s serve\nis taking in batches, and checks the copy "
		  "(integrity_check).  FILE must\nnot exist.  To restore, "
		  "stop the server and serve --store sqlite:FILE, or\ncopy "
		  "FILE in place of the store.\n\n"
		  "On PostgreSQL the copy is pg_dump's, in its custom format, "
		  "checked by\npg_restore --list; pg_restore --dbname=URL FILE "
		  "into an empty database\nrestores it.\n"),
		PROG, PROG);
}

static int cmd_backup(struct hq *hq, int argc, char **argv)
{
	const struct gb_opt spec[] = {{"store", 1, &hq->store, NULL}};
	struct gb_err err;
	char *pos[1];
	long pages;
	int npos, status;

	if (parse("backup", spec, N(spec), argc, argv, pos, 1, &npos,
		  backup_help, &status) < 0)
		return status;
	if (npos != 1) {
		gb_error(&err, GB_EUSAGE, _("backup needs the FILE to write"));
		return usage_error("backup", &err);
	}
	if (store_is_pg(hq->store)) {
		if (store_pg_backup(hq->store, pos[0], &err) < 0)
			return fail(&err);
		fprintf(stderr,
			_("backed up the PostgreSQL store to %s (pg_dump, "
			  "checked)\n"),
			pos[0]);
		return 0;
	}
	if (!hq->store || strncmp(hq->store, "sqlite:", 7) != 0 ||
	    !hq->store[7]) {
		gb_error(&err, GB_EUSAGE,
			 _("backup: the store must be sqlite:PATH or "
			   "postgresql://... (give --store or set "
			   "GRIDBOOK_HQ_STORE)"));
		return usage_error("backup", &err);
	}
	if (gb_sqlite_backup(hq->store + 7, pos[0], &pages, &err))
		return fail(&err);
	fprintf(stderr, _("backed up %s to %s (%ld pages, integrity ok)\n"),
		hq->store + 7, pos[0], pages);
	return 0;
}

/* ---- check ---- */

static void check_help(FILE *fp)
{
	fprintf(fp,
		_("usage: %s check [--store sqlite:PATH]\n\n"
		  "Lists the record versions the store holds out of bounds: "
		  "2^63 or more,\nwritten before 2000-01-01, or more than 24 h "
		  "ahead of HQ's clock, taken\nbefore HQ refused them.  "
		  "Changes nothing.  Exit status 1 when there are any.\n"),
		PROG);
}

struct check_arg {
	int64_t now;
	long n;
};

static int check_row(void *arg, const char *grid, const char *id,
		     const char *device, uint64_t version, int current)
{
	struct check_arg *c = arg;
	char at[32], why[128];

	switch (gb_hlc_bounds(version, c->now)) {
	case GB_HLC_TOO_BIG:
		snprintf(why, sizeof(why), "%s", _("2^63 or more"));
		break;
	case GB_HLC_BEFORE_2000:
		gb_time_format_utc(gb_hlc_ms(version), at);
		snprintf(why, sizeof(why),
			 _("written at %s, before 2000-01-01"), at);
		break;
	case GB_HLC_AHEAD:
		gb_time_format_utc(gb_hlc_ms(version), at);
		snprintf(why, sizeof(why),
			 _("written at %s, more than 24 h ahead of HQ's clock"),
			 at);
		break;
	case GB_HLC_IN_BOUNDS:
		return 0;
	}
	c->n++;
	printf("%s  %s  %s  %-20" PRIu64 "  %s  %s\n", grid ? grid : "", id,
	       current ? _("current") : _("earlier"), version, device, why);
	return 0;
}

static int cmd_check(struct hq *hq, int argc, char **argv)
{
	const struct gb_opt spec[] = {{"store", 1, &hq->store, NULL}};
	struct check_arg c = {gb_now_ms(), 0};
	struct store *st = NULL;
	struct gb_err err;
	char *pos[1], clock[32];
	int64_t hi_ms;
	int npos, status, rc;

	if (parse("check", spec, N(spec), argc, argv, pos, 0, &npos, check_help,
		  &status) < 0)
		return status;
	if (store_open(&st, hq->store, STORE_ADMIN, &err) < 0)
		return fail(&err);
	/* The store picks those outside the bounds of now; check_row says
	 * which bound each breaks. */
	hi_ms = c.now + GB_HLC_AHEAD_MS;
	rc = st->ops->versions_outside(st, (uint64_t)GB_HLC_MIN_MS << 16,
				       hi_ms >= INT64_C(1) << 47
					   ? (uint64_t)GB_HLC_MAX
					   : ((uint64_t)(hi_ms + 1) << 16) - 1,
				       check_row, &c, &err);
	st->ops->close(st);
	if (rc < 0)
		return fail(&err);
	gb_time_format_utc(c.now, clock);
	if (c.n == 0) {
		printf(_("no version out of bounds (HQ's clock: %s)\n"), clock);
		return 0;
	}
	fprintf(stderr,
		ngettext("%s: %ld version out of bounds (HQ's clock: %s)\n",
			 "%s: %ld versions out of bounds (HQ's clock: %s)\n",
			 (unsigned long)c.n),
		PROG, c.n, clock);
	return 1;
}

/* ---- main ---- */

static const struct {
	const char *name;
	int (*fn)(struct hq *, int, char **);
	const char *help;
} commands[] = {
    {"serve", cmd_serve, N_("serve devices over HTTP")},
    {"seed", cmd_seed, N_("load the reference district from a directory")},
    {"device", cmd_device, N_("enroll, revoke or list devices")},
    {"audit", cmd_audit,
     N_("show the last entries of the audit log, or verify its chain")},
    {"report", cmd_report, N_("print a report for headquarters")},
    {"conflicts", cmd_conflicts,
     N_("list the field conflicts of a grid or of all")},
    {"backup", cmd_backup, N_("copy the store while serving, checked")},
    {"check", cmd_check, N_("list the record versions held out of bounds")},
};

#define NCOMMANDS N(commands)

static void usage(FILE *fp)
{
	fprintf(fp,
		_("usage: %s [--store sqlite:PATH] <command> [options]\n\n"
		  "The store comes from --store or GRIDBOOK_HQ_STORE.\n\n"
		  "commands:\n"),
		PROG);
	for (int i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name,
			_(commands[i].help));
	fprintf(fp, _("\n'%s <command> --help' tells more.\n"), PROG);
}

int main(int argc, char **argv)
{
	struct hq hq = {getenv("GRIDBOOK_HQ_STORE")};
	int i = 1;

	gb_i18n_init();
	log_init(PROG, LOG_LVL_INFO, 0);
	if (wire_start_check(PROG))
		return 1;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--store") && i + 1 < argc) {
			hq.store = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--store=", 8)) {
			hq.store = argv[i] + 8;
			i++;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf(PROG " 0.1\n");
			return 0;
		} else {
			fprintf(stderr, _("%s: unknown option %s\n"), PROG,
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (int c = 0; c < NCOMMANDS; c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(&hq, argc - i, argv + i);
	fprintf(stderr, _("%s: '%s' is not a command\n"), PROG, argv[i]);
	usage(stderr);
	return 2;
}

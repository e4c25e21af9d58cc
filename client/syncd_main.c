/*
 * gridbook-syncd: the sync daemon of a field laptop.  It runs rounds of
 * sync (client/sync.c) for one grid file for as long as it lives: after a
 * round that went through it waits the interval; after a failure it
 * waits an exponentially growing, randomly jittered delay ("full
 * jitter": uniform between zero and a cap that doubles from 1 s up to
 * 5 min), so that a fleet of laptops coming back online does not hit HQ
 * in step.  It runs in the foreground, logging to stderr with
 * timestamps, for systemd or a terminal to look after.
 *
 * SIGTERM and SIGINT ask it to stop: the batch in flight is abandoned
 * (or, between requests, the round simply ends) and it exits 0.  Either
 * way nothing is lost, because sync.c writes a batch down before sending
 * it and sends the same batch again next time.  Killing it outright is
 * just as safe, only less polite.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "err.h"
#include "gbtime.h"
#include "i18n.h"
#include "log.h"
#include "opts.h"
#include "sync.h"
#include "transport.h"

#include "banned.h"

#define DEFAULT_INTERVAL_S 30.0
#define BACKOFF_BASE_S 1.0
#define BACKOFF_MAX_S 300.0

/*
 * Set by the signal handler, read by the loop, the engine and the
 * transport.  The one piece of state a signal handler can share.
 */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *fp)
{
	fprintf(
	    fp,
	    _("usage: gridbook-syncd --db FILE [--server URL] [--token -] "
	      "[--cacert FILE]\n"
	      "                      [--interval SECONDS] [--backoff-max "
	      "SECONDS] [--once]\n"
	      "                      [--batch-records N] [--batch-bytes N] "
	      "[--verbose]\n\n"
	      "Sends the records written in the grid file FILE to HQ and "
	      "fetches the\ngrid's changes, again and again, until "
	      "SIGTERM or SIGINT.\n\n"
	      "  --db FILE             the grid file (default "
	      "$GRIDBOOK_DB)\n"
	      "  --server URL          the HQ server (default: the one "
	      "given to\n"
	      "                        gridbook sync setup)\n"
	      "  --token -             read the device token from standard "
	      "input\n"
	      "                        (default: the one given to sync "
	      "setup)\n"
	      "  --cacert FILE         trust the CA certificate(s) in FILE "
	      "(PEM)\n"
	      "  --interval SECONDS    pause after a round that went "
	      "through (default %.0f)\n"
	      "  --backoff-max SECONDS the longest wait after failures "
	      "(default %.0f);\n"
	      "                        waits start at %.0f s and double, "
	      "with random jitter\n"
	      "  --once                one round, then exit: 0 when it "
	      "went through, 1 if not\n"
	      "  --batch-records N     at most N records a batch "
	      "(default %d)\n"
	      "  --batch-bytes N       at most N bytes of records a batch "
	      "(default %u)\n"
	      "  --verbose             log every round, not only the ones "
	      "that moved records\n"),
	    DEFAULT_INTERVAL_S, BACKOFF_MAX_S, BACKOFF_BASE_S, SYNC_MAX_RECORDS,
	    SYNC_MAX_BYTES);
}

static int usage_error(const struct gb_err *err)
{
	return gb_opts_usage_error("gridbook-syncd", NULL, err);
}

/* Parses seconds (fractions allowed) of at least min. */
static int parse_seconds(const char *name, const char *v, double min,
			 double *out, struct gb_err *err)
{
	char *end;
	double d;

	if (!v)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= min) || d > 86400.0 * 365)
		return gb_error(err, GB_EUSAGE,
				_("--%s: \"%s\" is not a number of seconds "
				  "(at least %g)"),
				name, v, min);
	*out = d;
	return 0;
}

static int parse_count(const char *name, const char *v, size_t *out,
		       struct gb_err *err)
{
	char *end;
	long long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n <= 0)
		return gb_error(err, GB_EUSAGE,
				_("--%s: \"%s\" is not a positive number"),
				name, v);
	*out = (size_t)n;
	return 0;
}

/* A random number in [0, 1) from a xorshift generator the caller keeps;
 * jitter needs spread, not secrecy. */
static double jitter_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return (double)(x >> 11) / 9007199254740992.0; /* 2^53 */
}

/* Sleeps seconds, waking early when a stop is asked for. */
static void nap(double seconds)
{
	struct timespec ts;

	while (seconds > 0 && !stop_requested) {
		double step = seconds < 0.1 ? seconds : 0.1;

		ts.tv_sec = 0;
		ts.tv_nsec = (long)(step * 1e9);
		nanosleep(&ts, NULL);
		seconds -= step;
	}
}

/* Logs what a round moved. */
static void log_result(const struct sync_result *r, int verbose)
{
	if (!verbose && !r->sent && !r->received && !r->ref_updated &&
	    !r->refused)
		return;
	log_info(_("sent %ld records in %ld batches (%ld accepted, %ld "
		   "duplicate, %ld stale, %ld rejected, %ld conflict); "
		   "received %ld (%ld applied%s)"),
		 r->sent, r->batches, r->accepted, r->duplicate, r->stale,
		 r->rejected, r->conflict, r->received, r->applied,
		 r->ref_updated ? _(", reference data updated") : "");
	if (r->rejected + r->conflict)
		log_warnx(_("HQ refused %ld records; see gridbook sync status"),
			  r->rejected + r->conflict);
	if (r->refused)
		log_warnx(_("%ld records from HQ could not be read or stored "
			    "here and were skipped"),
			  r->refused);
}

int main(int argc, char **argv)
{
	const char *db_path = getenv("GRIDBOOK_DB"), *server = NULL,
		   *token = NULL, *cacert = NULL, *interval_s = NULL,
		   *backoff_s = NULL, *recs = NULL, *bytes = NULL;
	int help = 0, once = 0, verbose = 0, npos, status = 1;
	const struct gb_opt spec[] = {
	    {"db", 1, &db_path, NULL},
	    {"server", 1, &server, NULL},
	    {"token", 1, &token, NULL},
	    {"cacert", 1, &cacert, NULL},
	    {"interval", 1, &interval_s, NULL},
	    {"backoff-max", 1, &backoff_s, NULL},
	    {"once", 0, NULL, &once},
	    {"batch-records", 1, &recs, NULL},
	    {"batch-bytes", 1, &bytes, NULL},
	    {"verbose", 0, NULL, &verbose},
	    {"help", 0, NULL, &help},
	};
	double interval = DEFAULT_INTERVAL_S, backoff_max = BACKOFF_MAX_S;
	struct transport_opts to = {0};
	struct sync_config cfg = {0};
	struct sync_opts so = {0};
	struct transport *t = NULL;
	struct gb_db *db = NULL;
	struct sigaction sa;
	struct sync_io io;
	struct gb_err err;
	uint64_t rng;
	char *pos[1], *tok = NULL;
	long failures = 0;

	gb_i18n_init();
	log_init("gridbook-syncd", LOG_LVL_INFO, 1);
	if (gb_opts_parse(spec, (int)(sizeof(spec) / sizeof(spec[0])), argc,
			  argv, pos, 0, &npos, &help, &err))
		return usage_error(&err);
	if (help) {
		usage(stdout);
		return 0;
	}
	if (parse_seconds("interval", interval_s, 0.01, &interval, &err) ||
	    parse_seconds("backoff-max", backoff_s, 0.01, &backoff_max, &err) ||
	    parse_count("batch-records", recs, &so.max_records, &err) ||
	    parse_count("batch-bytes", bytes, &so.max_bytes, &err))
		return usage_error(&err);
	if (!db_path || !*db_path) {
		gb_error(&err, GB_EUSAGE,
			 _("no grid file: give --db FILE or set GRIDBOOK_DB"));
		return usage_error(&err);
	}
	if (sync_token_arg(token, &err))
		return usage_error(&err);
	if (token) {
		size_t cap = 0;
		ssize_t n = getline(&tok, &cap, stdin);

		while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
			tok[--n] = '\0';
		if (n <= 0) {
			gb_error(&err, GB_EUSAGE,
				 _("--token -: no token on standard input"));
			return usage_error(&err);
		}
	}
	if (verbose)
		log_init("gridbook-syncd", LOG_LVL_DEBUG, 1);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a stop must cut a wait short. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (db_open(&db, db_path, 0, &err)) {
		log_warnx("%s", err.msg);
		return 1;
	}
	sync_config_get(db, &cfg);
	to.url = server ? server : cfg.server;
	to.token = tok ? tok : cfg.token;
	to.cacert = cacert ? cacert : cfg.cacert;
	to.pin = cfg.pin;
	to.proxy = cfg.proxy;
	to.stop = &stop_requested;
	if (!to.url) {
		log_warnx(_("no server: give --server URL or run gridbook sync "
			    "setup"));
		goto out;
	}
	if (transport_new(&t, &to, &err)) {
		log_warnx("%s", err.msg);
		goto out;
	}
	transport_io(t, &io);
	so.stop = &stop_requested;
	rng =
	    (uint64_t)gb_now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	if (!rng)
		rng = 1;
	log_info(_("syncing %s (grid %s) with %s every %g s"), db_path,
		 db_grid(db), to.url, interval);

	while (!stop_requested) {
		struct sync_result res;
		double cap, delay;

		if (sync_round(db, &io, &so, &res, &err) == 0) {
			if (failures)
				log_info(
				    _("sync works again after %ld failures"),
				    failures);
			failures = 0;
			log_result(&res, verbose);
			if (once) {
				status = 0;
				break;
			}
			nap(interval);
			continue;
		}
		if (err.code == GB_EINTR && stop_requested)
			break;
		log_result(&res, verbose);
		failures++;
		cap = BACKOFF_BASE_S;
		for (long i = 1; i < failures && cap < backoff_max; i++)
			cap *= 2;
		if (cap > backoff_max)
			cap = backoff_max;
		delay = cap * jitter_next(&rng);
		if (once) {
			log_warnx(_("sync failed: %s"), err.msg);
			break;
		}
		log_warnx(_("sync failed (attempt %ld): %s; retry in %.1f s "
			    "(backoff up to %g s)"),
			  failures, err.msg, delay, cap);
		nap(delay);
	}
	if (stop_requested) {
		log_info(_("stopping"));
		status = 0;
	}
out:
	transport_free(t);
	sync_config_release(&cfg);
	db_close(db);
	if (tok) {
		sodium_memzero(tok, strlen(tok));
		free(tok);
	}
	return status;
}

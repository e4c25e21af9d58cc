/*
 * gridbook-syncd: the sync daemon of a field laptop.  It runs rounds of
 * sync (client/sync.c) for one grid file for as long as it lives: after a
 * round that went through it waits the interval; after a failure it
 * waits an exponentially growing, randomly jittered delay ("full
 * jitter": uniform between zero and a cap that doubles from 1 s up to
 * 5 min), so that a fleet of laptops coming back online does not hit HQ
 * in step.  It runs in the foreground, logging to stderr with
 * timestamps, for systemd or a terminal to look after; or with --daemon
 * it detaches, logging to syslog or to --log FILE (SIGHUP reopens it for
 * logrotate).  Under systemd (Type=notify) it says READY=1 and STOPPING=1
 * on $NOTIFY_SOCKET, a datagram each: that protocol is one sendto(), so
 * it is written here rather than linked from libsystemd.
 *
 * One daemon per grid file: it holds an flock() on FILE.syncd, which
 * also names its pid, for as long as it runs; a second one on the same
 * file is refused at start.  The lock goes with the process however it
 * ends, so a crash leaves nothing to clean up.
 *
 * SIGTERM and SIGINT ask it to stop: the batch in flight is abandoned
 * (or, between requests, the round simply ends) and it exits 0.  Either
 * way nothing is lost, because sync.c writes a batch down before sending
 * it and sends the same batch again next time.  Killing it outright is
 * just as safe, only less polite.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "db.h"
#include "err.h"
#include "gbtime.h"
#include "i18n.h"
#include "log.h"
#include "opts.h"
#include "sync.h"
#include "transport.h"
#include "wire.h"

#include "banned.h"

#define DEFAULT_INTERVAL_S 30.0
#define BACKOFF_BASE_S 1.0
#define BACKOFF_MAX_S 300.0

/*
 * Set by the signal handler, read by the loop, the engine and the
 * transport.  The one piece of state a signal handler can share.
 */
static volatile sig_atomic_t stop_requested;

/* Set by SIGHUP: the log file is to be opened again. */
static volatile sig_atomic_t reopen_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

/*
 * Takes the lock of one daemon per grid file: an flock() on
 * "<db_path>.syncd", which then holds our pid for the message a second
 * daemon gives.  Returns the lock's descriptor (kept open, and inherited
 * across --daemon's forks), or -1 with err.
 */
static int lock_take(const char *db_path, struct gb_err *err)
{
	char path[4096], other[32] = "";
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s.syncd", db_path) >=
	    sizeof(path))
		return gb_error(err, GB_EUSAGE,
				_("--db: the path is too long"));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return gb_error(err, GB_EIO, _("%s: cannot open the lock: %s"),
				path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	n = read(fd, other, sizeof(other) - 1);
	other[n > 0 ? n : 0] = '\0';
	other[strcspn(other, "\n")] = '\0';
	close(fd);
	if (errno == EWOULDBLOCK || errno == EAGAIN || n >= 0)
		return gb_error(err, GB_EBUSY,
				_("%s: another gridbook-syncd (pid %s) is "
				  "syncing this grid file"),
				db_path, *other ? other : "?");
	return gb_error(err, GB_EIO, _("%s: cannot lock: %s"), path,
			strerror(errno));
}

/* Writes our pid into the lock file, after any fork. */
static void lock_note_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n)
		return;
	log_warnx(_("cannot write the pid into the lock file: %s"),
		  strerror(errno));
}

/*
 * Detaches from the terminal: fork, a new session, fork again (so the
 * daemon can never regain a terminal), "/" as working directory and
 * /dev/null on stdin, stdout and stderr.  The first parent exits 0 once
 * the daemon is on its way.  Returns 0 in the daemon, -1 with err.
 */
static int daemonise(struct gb_err *err)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return gb_error(err, GB_EIO, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return gb_error(err, GB_EIO, "setsid: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return gb_error(err, GB_EIO, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return gb_error(err, GB_EIO, "chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return gb_error(err, GB_EIO, "/dev/null: %s", strerror(errno));
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/*
 * Tells systemd how we are (sd_notify's protocol): one datagram with
 * state ("READY=1") on the AF_UNIX socket $NOTIFY_SOCKET names, a path or
 * "@" for the abstract namespace.  Nothing happens without the variable.
 */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	socklen_t salen;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, salen) < 0)
		log_debug("NOTIFY_SOCKET: %s", strerror(errno));
	close(fd);
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
	      "[--retry-for SECONDS]\n"
	      "                      [--verbose]\n\n"
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
	      "  --retry-for SECONDS   within a round, wait on a busy HQ "
	      "(503, 429) and go on\n"
	      "                        for up to SECONDS in all (default "
	      "%ld; 0: end the round)\n"
	      "  --verbose             log every round, not only the ones "
	      "that moved records\n"
	      "  --daemon              detach from the terminal; logs go to "
	      "syslog unless\n"
	      "                        --log says otherwise\n"
	      "  --log FILE            log to FILE (appended; SIGHUP opens "
	      "it again)\n"
	      "  --syslog              log to syslog (the journal)\n\n"
	      "One gridbook-syncd per grid file: FILE.syncd holds the lock "
	      "and the pid.\n"),
	    DEFAULT_INTERVAL_S, BACKOFF_MAX_S, BACKOFF_BASE_S, SYNC_MAX_RECORDS,
	    SYNC_MAX_BYTES, SYNC_RETRY_FOR_MS / 1000);
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

/* Sleeps seconds, waking early when a stop is asked for; a SIGHUP
 * meanwhile reopens the log file. */
static void nap(double seconds)
{
	struct timespec ts;

	while (seconds > 0 && !stop_requested) {
		if (reopen_requested) {
			struct gb_err err;

			reopen_requested = 0;
			if (log_reopen(&err))
				log_warnx("%s", err.msg);
			else
				log_info(_("log reopened"));
		}
		double step = seconds < 0.1 ? seconds : 0.1;

		ts.tv_sec = 0;
		ts.tv_nsec = (long)(step * 1e9);
		nanosleep(&ts, NULL);
		seconds -= step;
	}
}

/* Logs that HQ is busy and the round waits before it goes on. */
static void log_busy(void *arg, long wait_ms, const struct gb_err *why)
{
	(void)arg;
	log_info(_("HQ is busy (%s); the round goes on in %.1f s"), why->msg,
		 (double)wait_ms / 1000.0);
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
	if (r->hq_time &&
	    (r->hq_skew > SYNC_CLOCK_OFF_MS || r->hq_skew < -SYNC_CLOCK_OFF_MS))
		log_warnx(_("this laptop's clock is %" PRId64 " s off HQ's "
			    "(HQ's minus this one's); see gridbook sync "
			    "status"),
			  r->hq_skew / 1000);
	if (r->restamped)
		log_info(_("%ld records written while this laptop's clock was "
			   "ahead were re-stamped and sent again"),
			 r->restamped);
}

int main(int argc, char **argv)
{
	const char *db_path = getenv("GRIDBOOK_DB"), *server = NULL,
		   *token = NULL, *cacert = NULL, *interval_s = NULL,
		   *backoff_s = NULL, *recs = NULL, *bytes = NULL,
		   *retry_s = NULL, *log_file = NULL;
	int help = 0, once = 0, verbose = 0, npos, status = 1;
	int daemon_mode = 0, use_syslog = 0, lock_fd = -1;
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
	    {"retry-for", 1, &retry_s, NULL},
	    {"verbose", 0, NULL, &verbose},
	    {"daemon", 0, NULL, &daemon_mode},
	    {"log", 1, &log_file, NULL},
	    {"syslog", 0, NULL, &use_syslog},
	    {"help", 0, NULL, &help},
	};
	double interval = DEFAULT_INTERVAL_S, backoff_max = BACKOFF_MAX_S,
	       retry_for = -1;
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
	if (wire_start_check("gridbook-syncd"))
		return 1;
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
	    parse_count("batch-bytes", bytes, &so.max_bytes, &err) ||
	    parse_seconds("retry-for", retry_s, 0, &retry_for, &err))
		return usage_error(&err);
	if (retry_s)
		so.retry_for_ms = retry_for > 0 ? (long)(retry_for * 1000) : -1;
	if (retry_s && retry_for > 0 && so.retry_for_ms == 0)
		so.retry_for_ms = 1;
	if (!db_path || !*db_path) {
		gb_error(&err, GB_EUSAGE,
			 _("no grid file: give --db FILE or set GRIDBOOK_DB"));
		return usage_error(&err);
	}
	if (log_file && use_syslog) {
		gb_error(&err, GB_EUSAGE,
			 _("--log and --syslog: give one of them"));
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
	if (log_file && log_to_file(log_file, &err)) {
		log_warnx("%s", err.msg);
		return 1;
	}
	/* No lock file beside a grid file that is not there. */
	if (access(db_path, F_OK) != 0) {
		log_warnx(_("%s: no such grid file"), db_path);
		return 1;
	}
	lock_fd = lock_take(db_path, &err);
	if (lock_fd < 0) {
		log_warnx("%s", err.msg);
		return 1;
	}
	/* A relative --db or --log must still name the same file after the
	 * daemon's chdir("/"). */
	if (daemon_mode) {
		char *abs_db = realpath(db_path, NULL);

		if (abs_db)
			db_path = abs_db;
		if (log_file && *log_file != '/') {
			char *abs_log = realpath(log_file, NULL);

			if (abs_log && log_to_file(abs_log, &err) == 0)
				log_file = abs_log;
		}
		if (!log_file)
			use_syslog = 1;
	}
	if (use_syslog)
		log_to_syslog();
	if (daemon_mode && daemonise(&err)) {
		log_warnx("%s", err.msg);
		return 1;
	}
	lock_note_pid(lock_fd);
	{
		struct sigaction hup;

		memset(&hup, 0, sizeof(hup));
		hup.sa_handler = on_hup;
		sigemptyset(&hup.sa_mask);
		hup.sa_flags = SA_RESTART;
		sigaction(SIGHUP, &hup, NULL);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a stop must cut a wait short. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (db_open(&db, db_path, DB_SYNCD, &err)) {
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
	so.busy = log_busy;
	rng =
	    (uint64_t)gb_now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	if (!rng)
		rng = 1;
	log_info(_("syncing %s (grid %s) with %s every %g s"), db_path,
		 db_grid(db), to.url, interval);
	notify_systemd("READY=1");

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
		notify_systemd("STOPPING=1");
		log_info(_("stopping"));
		status = 0;
	}
out:
	transport_free(t);
	sync_config_release(&cfg);
	db_close(db);
	if (lock_fd >= 0)
		close(lock_fd);
	if (tok) {
		gb_wipe(tok, strlen(tok));
		free(tok);
	}
	return status;
}

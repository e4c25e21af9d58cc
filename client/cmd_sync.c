/*
 * gridbook sync: one round of sync by hand (everything pending goes up,
 * then the grid's changes come down), `sync status` to see what is
 * waiting and what HQ refused, and `sync setup` to say which server and
 * token the grid file uses.  The work is done by sync.c, shared with
 * gridbook-syncd; this file only parses, prints and reports progress.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "crypto.h"
#include "db.h"
#include "gbtime.h"
#include "i18n.h"
#include "json.h"
#include "opts.h"
#include "sync.h"
#include "table.h"
#include "transport.h"
#include "xalloc.h"

#include "banned.h"

static void sync_usage(FILE *fp)
{
	fprintf(fp,
		_("usage: gridbook sync [--server URL] [--token -] "
		  "[--batch-records N]\n"
		  "                     [--batch-bytes N] [--retry-for "
		  "SECONDS]\n"
		  "       gridbook sync status [--format text|json]\n"
		  "       gridbook sync setup --server URL [--token -] "
		  "[--device ID]\n"
		  "                           [--cacert FILE] [--pin "
		  "sha256//KEY] [--proxy URL]\n\n"
		  "Sends every record written here that HQ has not "
		  "acknowledged yet, in\nbatches, then fetches the grid's "
		  "reference data and the records of the\nother devices of "
		  "the grid.  Exits 0 when everything went, 1 on an error.\n"
		  "Records HQ refused are listed by 'gridbook sync status'; "
		  "edit them and\nsync again.\n\n"
		  "  --server URL        the HQ server (default: the one "
		  "given to sync setup)\n"
		  "  --token -           read the device token from standard "
		  "input (default:\n"
		  "                      the one given to sync setup)\n"
		  "  --batch-records N   at most N records a batch "
		  "(default %d)\n"
		  "  --batch-bytes N     at most N bytes of records a batch "
		  "(default %u)\n"
		  "  --retry-for SECONDS when HQ is busy, wait and go on for "
		  "up to SECONDS\n"
		  "                      in all (default %ld; 0: give up at "
		  "once)\n"),
		SYNC_MAX_RECORDS, SYNC_MAX_BYTES, SYNC_RETRY_FOR_MS / 1000);
}

static void status_usage(FILE *fp)
{
	fprintf(fp, _("usage: gridbook sync status [--format text|json]\n\n"
		      "Shows how many records wait to be sent and since "
		      "when, the last\nsuccessful sync, the last error, and "
		      "the records HQ refused with its\nreason.\n"));
}

static void setup_usage(FILE *fp)
{
	fprintf(
	    fp,
	    _("usage: gridbook sync setup --server URL [--token -] "
	      "[--device ID]\n"
	      "                           [--cacert FILE] [--pin "
	      "sha256//KEY] [--proxy URL]\n\n"
	      "Stores in the grid file (which is kept readable by its "
	      "owner only)\nwhere to sync to and as which device.\n\n"
	      "  --server URL    https://..., or http:// to this machine "
	      "only\n"
	      "  --token -       read the token gridbook-hq device enroll "
	      "printed from\n"
	      "                  standard input, where the whole "
	      "output of device\n"
	      "                  enroll (device: and token: lines) may be "
	      "piped; a token\n"
	      "                  on the command line is refused (other "
	      "users see it)\n"
	      "  --device ID     the device id device enroll printed; the "
	      "records written\n"
	      "                  here take it\n"
	      "  --cacert FILE   trust the CA certificate(s) in FILE (PEM) "
	      "for the server\n"
	      "                  instead of the system's; '' to go back\n"
	      "  --pin sha256//KEY  accept only a server whose public key "
	      "has this\n"
	      "                  SHA-256 (base64; ';' between several); '' "
	      "to drop it\n"
	      "  --proxy URL     send https through this proxy (never plain "
	      "http); the\n"
	      "                  proxy variables of the environment are "
	      "not used\n"));
}

/* Writes n with a comma every three digits ("4,200") into out. */
static void fmt_count(long n, char *out, size_t len)
{
	char digits[32];
	size_t nd, o = 0;
	int neg = n < 0;

	snprintf(digits, sizeof(digits), "%ld", neg ? -n : n);
	nd = strlen(digits);
	if (neg && o + 1 < len)
		out[o++] = '-';
	for (size_t i = 0; i < nd && o + 1 < len; i++) {
		if (i && (nd - i) % 3 == 0 && o + 2 < len)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* The progress line on a terminal: "sent 1,500/4,200 records". */
static void progress_line(void *arg, long done, long total)
{
	char d[32], t[32];

	(void)arg;
	fmt_count(done, d, sizeof(d));
	fmt_count(total, t, sizeof(t));
	fprintf(stderr, _("\rsent %s/%s records"), d, t);
	fflush(stderr);
}

/* Parses a positive count option.  Returns 0 or -1 with err. */
static int parse_size(const char *name, const char *v, size_t *out,
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

/* Tells the user, on stderr, that HQ is busy and the round waits. */
static void busy_line(void *arg, long wait_ms, const struct gb_err *why)
{
	const char *prog = arg;

	fprintf(stderr, _("%s: HQ is busy (%s); trying again in %.1f s\n"),
		prog, why->msg, (double)wait_ms / 1000.0);
	fflush(stderr);
}

/* Parses --retry-for: seconds (fractions allowed), 0 to never wait, into
 * ms for sync_opts.retry_for_ms.  Returns 0 or -1 with err. */
static int parse_retry_for(const char *v, long *out, struct gb_err *err)
{
	char *end;
	double d;

	if (!v)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= 0) || d > 86400.0)
		return gb_error(err, GB_EUSAGE,
				_("--retry-for: \"%s\" is not a number of "
				  "seconds from 0 to 86400"),
				v);
	*out = d > 0 ? (long)(d * 1000.0) : -1;
	if (d > 0 && *out == 0)
		*out = 1;
	return 0;
}

/*
 * After a round: the fields of records in conflict here, counted on
 * stderr with the command that lists them.  A file that cannot be read
 * for it is left to sync status: the round itself went well.
 */
static void conflicts_note(const struct gb_cli *cli, struct gb_db *db)
{
	struct gb_err err;
	long n;
	char c[32];

	if (db_conflict_count(db, &n, &err) || !n)
		return;
	fmt_count(n, c, sizeof(c));
	fprintf(stderr,
		ngettext("%s: %s conflict: run gridbook conflicts\n",
			 "%s: %s conflicts: run gridbook conflicts\n",
			 (unsigned long)n),
		cli->prog, c);
}

/* Prints what a round did, on stdout. */
static void print_result(const struct sync_result *r)
{
	const struct {
		long n;
		const char *what;
	} parts[] = {
	    {r->accepted, N_("accepted")},
	    {r->duplicate, N_("duplicate")},
	    {r->stale, N_("stale")},
	    {r->rejected, N_("rejected")},
	    {r->conflict, N_("conflict")},
	    {r->waiting, N_("refused for now, sent again later")},
	};
	char a[32], b[32];
	int first = 1;

	if (r->sent == 0) {
		printf(_("nothing to send\n"));
	} else {
		fmt_count(r->sent, a, sizeof(a));
		fmt_count(r->batches, b, sizeof(b));
		printf(ngettext("sent %s record", "sent %s records",
				(unsigned long)r->sent),
		       a);
		printf(ngettext(" in %s batch (", " in %s batches (",
				(unsigned long)r->batches),
		       b);
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			if (!parts[i].n)
				continue;
			fmt_count(parts[i].n, a, sizeof(a));
			printf("%s%s %s", first ? "" : ", ", a,
			       _(parts[i].what));
			first = 0;
		}
		printf(")\n");
	}
	fmt_count(r->received, a, sizeof(a));
	fmt_count(r->applied, b, sizeof(b));
	printf(ngettext("received %s record (%s new or newer here)",
			"received %s records (%s new or newer here)",
			(unsigned long)r->received),
	       a, b);
	if (r->ref_updated)
		printf(_("; reference data updated"));
	printf("\n");
}

static void read_enrollment(char **token, char **device);
static void fmt_age(int64_t ms, char *out, size_t n);

/* When this laptop's clock was more than SYNC_CLOCK_OFF_MS off HQ's at
 * HQ's last answer (skew: HQ's minus this one's), the words for it in
 * out: "this laptop's clock is 730 days ahead of HQ's (...)".  Returns
 * 1 then, else 0 with out empty. */
static int clock_off(int64_t hq_time, int64_t skew, char *out, size_t n)
{
	char age[32], hq[32];

	out[0] = '\0';
	if (!hq_time ||
	    (skew <= SYNC_CLOCK_OFF_MS && skew >= -SYNC_CLOCK_OFF_MS))
		return 0;
	fmt_age(skew < 0 ? -skew : skew, age, sizeof(age));
	gb_time_format_utc(hq_time, hq);
	if (skew < 0)
		snprintf(out, n,
			 _("this laptop's clock is %s ahead of HQ's (HQ's "
			   "clock: %s); records more than 24 h ahead of it "
			   "wait until this clock is set right"),
			 age, hq);
	else
		snprintf(out, n,
			 _("this laptop's clock is %s behind HQ's (HQ's "
			   "clock: %s); set it right"),
			 age, hq);
	return 1;
}

/* After a round: the clock far off, the versions re-stamped, and the
 * versions the file holds out of bounds (gridbook check lists them).
 * Looking for those reads every version (0.3-0.6 s for a million), so
 * it is done when the round brought versions in or re-stamped some, or
 * while the file is not known clean (meta sync_bounds_clean: a file
 * from before the bounds, or one that held some at the last look); a
 * write of this laptop never stamps one out of bounds. */
static void clock_report(const char *prog, struct gb_db *db,
			 const struct sync_result *r)
{
	struct db_bad_version *bad = NULL;
	struct gb_err err;
	char line[512], n[32], *clean;
	size_t nbad = 0;
	int look;

	if (clock_off(r->hq_time, r->hq_skew, line, sizeof(line)))
		fprintf(stderr, "%s: %s\n", prog, line);
	if (r->restamped) {
		fmt_count(r->restamped, n, sizeof(n));
		fprintf(stderr,
			ngettext("%s: %s record written while this laptop's "
				 "clock was ahead was re-stamped with this "
				 "clock, unchanged, and sent again\n",
				 "%s: %s records written while this laptop's "
				 "clock was ahead were re-stamped with this "
				 "clock, unchanged, and sent again\n",
				 (unsigned long)r->restamped),
			prog, n);
	}
	clean = db_meta_get(db, "sync_bounds_clean");
	look = r->received || r->restamped || !clean || strcmp(clean, "1");
	free(clean);
	if (!look)
		return;
	if (db_versions_out_of_bounds(db, gb_now_ms(), &bad, &nbad, &err) ||
	    db_meta_set(db, "sync_bounds_clean", nbad ? "0" : "1", &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		free(bad);
		return;
	}
	if (nbad) {
		fmt_count((long)nbad, n, sizeof(n));
		fprintf(stderr,
			ngettext("%s: this grid file holds %s version out of "
				 "the bounds of this laptop's clock; see "
				 "gridbook check\n",
				 "%s: this grid file holds %s versions out of "
				 "the bounds of this laptop's clock; see "
				 "gridbook check\n",
				 (unsigned long)nbad),
			prog, n);
	}
	free(bad);
}

static int cmd_sync_round(struct gb_cli *cli, int argc, char **argv)
{
	const char *server = NULL, *token = NULL, *recs = NULL, *bytes = NULL,
		   *retry = NULL;
	int help = 0, npos, status = 1, tty = isatty(STDERR_FILENO);
	const struct gb_opt spec[] = {
	    {"server", 1, &server, NULL},      {"token", 1, &token, NULL},
	    {"batch-records", 1, &recs, NULL}, {"batch-bytes", 1, &bytes, NULL},
	    {"retry-for", 1, &retry, NULL},    {"help", 0, NULL, &help},
	};
	struct transport_opts to = {0};
	struct sync_opts so = {0};
	struct sync_config cfg = {0};
	struct transport *t = NULL;
	struct sync_result res = {0};
	struct gb_db *db = NULL;
	struct sync_io io;
	struct gb_err err;
	char *pos[1], *tok = NULL;

	if (gb_opts_parse(spec, 6, argc, argv, pos, 0, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "sync", &err);
	if (help) {
		sync_usage(stdout);
		return 0;
	}
	if (parse_size("batch-records", recs, &so.max_records, &err) ||
	    parse_size("batch-bytes", bytes, &so.max_bytes, &err) ||
	    parse_retry_for(retry, &so.retry_for_ms, &err) ||
	    sync_token_arg(token, &err))
		return gb_opts_usage_error(cli->prog, "sync", &err);
	if (token) {
		char *dev = NULL;

		read_enrollment(&tok, &dev);
		free(dev);
		if (!tok) {
			gb_error(&err, GB_EUSAGE,
				 _("--token -: no token on standard input"));
			return gb_opts_usage_error(cli->prog, "sync", &err);
		}
	}
	db = cmd_open_db(cli, 0);
	if (!db)
		goto out_tok;
	sync_config_get(db, &cfg);
	to.url = server ? server : cfg.server;
	to.token = tok ? tok : cfg.token;
	to.cacert = cfg.cacert;
	to.pin = cfg.pin;
	to.proxy = cfg.proxy;
	if (!to.url) {
		gb_error(&err, GB_EUSAGE,
			 _("no server: run gridbook sync setup --server URL "
			   "--token -, or give --server"));
		goto fail;
	}
	if (transport_new(&t, &to, &err)) {
		/* sync status shows it too, as any failed round. */
		sync_note_error(db, &err);
		goto fail;
	}
	transport_io(t, &io);
	so.busy = busy_line;
	so.busy_arg = (void *)cli->prog;
	if (tty) {
		so.progress = progress_line;
		so.progress_arg = NULL;
	}
	/* A broken connection must be an error, not the end of us. */
	signal(SIGPIPE, SIG_IGN);
	if (sync_round(db, &io, &so, &res, &err)) {
		if (tty && res.sent)
			fprintf(stderr, "\n");
		if (res.sent) {
			char n[32];

			fmt_count(res.sent, n, sizeof(n));
			fprintf(stderr,
				ngettext("%s: %s record was delivered before "
					 "the error\n",
					 "%s: %s records were delivered before "
					 "the error\n",
					 (unsigned long)res.sent),
				cli->prog, n);
		}
		gb_error_prefix(&err, _("sync failed"));
		goto fail;
	}
	if (tty && res.sent)
		fprintf(stderr, "\n");
	print_result(&res);
	clock_report(cli->prog, db, &res);
	if (res.rejected + res.conflict > 0) {
		char n[32];

		fmt_count(res.rejected + res.conflict, n, sizeof(n));
		fprintf(stderr,
			ngettext("%s: HQ refused %s record; see gridbook "
				 "sync status\n",
				 "%s: HQ refused %s records; see gridbook "
				 "sync status\n",
				 (unsigned long)(res.rejected + res.conflict)),
			cli->prog, n);
	}
	conflicts_note(cli, db);
	if (res.refused > 0) {
		char n[32];

		fmt_count(res.refused, n, sizeof(n));
		fprintf(stderr,
			ngettext("%s: %s record from HQ could not be read or "
				 "stored here and was skipped\n",
				 "%s: %s records from HQ could not be read or "
				 "stored here and were skipped\n",
				 (unsigned long)res.refused),
			cli->prog, n);
	}
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	transport_free(t);
	sync_config_release(&cfg);
	db_close(db);
out_tok:
	if (tok) {
		gb_wipe(tok, strlen(tok));
		free(tok);
	}
	if (fflush(stdout) != 0 && !status)
		status = 1;
	return status;
}

/* "2 h 5 min", "3 min", "40 s", "4 days" for an age in ms. */
static void fmt_age(int64_t ms, char *out, size_t n)
{
	int64_t s = ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, n, _("%" PRId64 " s"), s);
	else if (s < 3600)
		snprintf(out, n, _("%" PRId64 " min"), s / 60);
	else if (s < 2 * 86400)
		snprintf(out, n, _("%" PRId64 " h %" PRId64 " min"), s / 3600,
			 s / 60 % 60);
	else
		snprintf(out, n, _("%" PRId64 " days"), s / 86400);
}

/* A time as "2026-03-01 10:22 (3 min ago)". */
static void fmt_when(int64_t ms, int64_t now, char *out, size_t n)
{
	char t[32], age[32];

	gb_time_format(ms, t);
	fmt_age(now - ms, age, sizeof(age));
	snprintf(out, n, _("%s (%s ago)"), t, age);
}

static void attention_table(const struct sync_attention *att, size_t n);

static void status_text(const struct sync_status *st, long conflicts)
{
	int64_t now = gb_now_ms();
	char w[96], c[32], w2[512];

	printf(_("server        %s\n"),
	       st->server ? st->server
			  : _("(not set up: gridbook sync setup)"));
	fmt_count(st->pending, c, sizeof(c));
	if (st->pending) {
		fmt_when(st->oldest, now, w, sizeof(w));
		printf(
		    ngettext("pending       %s record, from %s\n",
			     "pending       %s records, the oldest from %s\n",
			     (unsigned long)st->pending),
		    c, w);
	} else {
		printf(_("pending       0 records\n"));
	}
	if (st->inflight) {
		fmt_count(st->inflight_records, c, sizeof(c));
		printf(ngettext("in flight     batch %" PRIu64 " (%s record), "
				"sent again on the next sync\n",
				"in flight     batch %" PRIu64 " (%s records), "
				"sent again on the next sync\n",
				(unsigned long)st->inflight_records),
		       st->inflight, c);
	}
	if (st->last_ok) {
		fmt_when(st->last_ok, now, w, sizeof(w));
		printf(_("last success  %s\n"), w);
	} else {
		printf(_("last success  never\n"));
	}
	if (st->last_error_at) {
		fmt_when(st->last_error_at, now, w, sizeof(w));
		printf(_("last error    %s%s\n"), w,
		       st->last_ok > st->last_error_at ? _(", since resolved")
						       : "");
		printf("              %s\n",
		       st->last_error ? st->last_error : "");
	} else {
		printf(_("last error    none\n"));
	}
	if (clock_off(st->hq_time, st->hq_skew, w2, sizeof(w2)))
		printf(_("clock         %s\n"), w2);
	if (st->own_from)
		printf(_("restored      HQ holds batches of this device this "
			 "file lacks (after batch %" PRIu64 "); its own "
			 "records come back with the next sync\n"),
		       st->own_from);
	if (conflicts) {
		fmt_count(conflicts, c, sizeof(c));
		printf(ngettext("conflicts     %s conflict: run gridbook "
				"conflicts\n",
				"conflicts     %s conflicts: run gridbook "
				"conflicts\n",
				(unsigned long)conflicts),
		       c);
	} else {
		printf(_("conflicts     none\n"));
	}
	if (st->nwait) {
		fmt_count((long)st->nwait, c, sizeof(c));
		printf(ngettext("waiting       %s record HQ refused for now; "
				"it goes again by itself with the next "
				"sync:\n\n",
				"waiting       %s records HQ refused for now; "
				"they go again by themselves with the next "
				"sync:\n\n",
				(unsigned long)st->nwait),
		       c);
		attention_table(st->wait, st->nwait);
		printf("\n");
	}
	if (!st->natt) {
		printf(_("refused       none\n"));
		return;
	}
	fmt_count((long)st->natt, c, sizeof(c));
	printf(ngettext("refused       %s record; edit it (or void it) and "
			"sync again:\n\n",
			"refused       %s records; edit them (or void them) "
			"and sync again:\n\n",
			(unsigned long)st->natt),
	       c);
	attention_table(st->att, st->natt);
}

/* The header row of attention_table. */
static const char *const attention_head[] = {N_("kind"), N_("id"), N_("status"),
					     N_("record"), N_("reason")};

/* Prints a list of refused versions as a table. */
static void attention_table(const struct sync_attention *att, size_t n)
{
	struct gb_table t;

	gb_table_init(&t, 5);
	gb_table_header_tr(&t, attention_head);
	gb_table_column(&t, 3, 24, 0);
	for (size_t i = 0; i < n; i++) {
		const struct sync_attention *a = &att[i];

		gb_table_row(&t);
		gb_table_cell(&t, 0, a->kind);
		gb_table_cell(&t, 1, a->id);
		gb_table_cell(&t, 2, a->status);
		gb_table_cell(&t, 3, a->title);
		if (a->reason_code[0])
			gb_table_cell_take(
			    &t, 4,
			    xasprintf("%s: %s", a->reason_code,
				      a->reason ? a->reason : ""));
		else
			gb_table_cell(&t, 4, a->reason);
	}
	gb_table_print(&t, stdout);
	gb_table_release(&t);
}

/* Appends "key": time as UTC text, or null when 0. */
static int json_time(struct gb_buf *b, const char *key, int64_t ms,
		     struct gb_err *err)
{
	char t[32];

	if (gb_buf_addf(b, err, "\"%s\":", key))
		return -1;
	if (!ms)
		return gb_buf_adds(b, "null", err);
	gb_time_format_utc(ms, t);
	return gb_json_str(b, t, err);
}

static int attention_json(struct gb_buf *b, const struct sync_attention *att,
			  size_t n, struct gb_err *err);

static int status_json(const struct sync_status *st, long conflicts,
		       struct gb_err *err)
{
	int64_t now = gb_now_ms();
	char w2[512];
	struct gb_buf b;
	int rc = -1;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	if (gb_buf_adds(&b, "{\"server\":", err) ||
	    gb_json_str(&b, st->server, err) ||
	    gb_buf_addf(&b, err, ",\"pending\":%ld,", st->pending) ||
	    json_time(&b, "oldest_pending", st->pending ? st->oldest : 0,
		      err) ||
	    gb_buf_addf(&b, err, ",\"oldest_pending_age_s\":") ||
	    (st->pending
		 ? gb_buf_addf(&b, err, "%" PRId64, (now - st->oldest) / 1000)
		 : gb_buf_adds(&b, "null", err)) ||
	    gb_buf_addf(&b, err, ",\"in_flight\":") ||
	    (st->inflight
		 ? gb_buf_addf(&b, err,
			       "{\"batch\":%" PRIu64 ",\"records\":%ld}",
			       st->inflight, st->inflight_records)
		 : gb_buf_adds(&b, "null", err)) ||
	    gb_buf_addf(&b, err, ",\"next_batch\":%" PRIu64 ",",
			st->next_seq) ||
	    json_time(&b, "last_success", st->last_ok, err) ||
	    gb_buf_adds(&b, ",\"last_error\":", err))
		goto out;
	if (st->last_error_at) {
		if (gb_buf_adds(&b, "{", err) ||
		    json_time(&b, "at", st->last_error_at, err) ||
		    gb_buf_adds(&b, ",\"message\":", err) ||
		    gb_json_str(&b, st->last_error ? st->last_error : "",
				err) ||
		    gb_buf_addf(&b, err, ",\"resolved\":%s}",
				st->last_ok > st->last_error_at ? "true"
								: "false"))
			goto out;
	} else if (gb_buf_adds(&b, "null", err)) {
		goto out;
	}
	if (gb_buf_adds(&b, ",\"hq_clock\":", err) ||
	    (st->hq_time
		 ? gb_buf_addf(
		       &b, err,
		       "{\"at\":%" PRId64 ",\"ahead_of_this_ms\":%" PRId64
		       ",\"off\":%s}",
		       st->hq_time, st->hq_skew,
		       clock_off(st->hq_time, st->hq_skew, w2, sizeof(w2))
			   ? "true"
			   : "false")
		 : gb_buf_adds(&b, "null", err)))
		goto out;
	if (gb_buf_addf(&b, err, ",\"restored_after\":") ||
	    (st->own_from ? gb_buf_addf(&b, err, "%" PRIu64, st->own_from)
			  : gb_buf_adds(&b, "null", err)) ||
	    gb_buf_addf(&b, err, ",\"conflicts\":%ld", conflicts) ||
	    gb_buf_adds(&b, ",\"waiting\":", err) ||
	    attention_json(&b, st->wait, st->nwait, err) ||
	    gb_buf_adds(&b, ",\"attention\":", err) ||
	    attention_json(&b, st->att, st->natt, err) ||
	    gb_buf_adds(&b, "}\n", err))
		goto out;
	fwrite(b.data, 1, b.len, stdout);
	rc = 0;
out:
	gb_buf_release(&b);
	return rc;
}

/* Appends a list of refused versions as a JSON array. */
static int attention_json(struct gb_buf *b, const struct sync_attention *att,
			  size_t n, struct gb_err *err)
{
	if (gb_buf_adds(b, "[", err))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct sync_attention *a = &att[i];

		if ((i && gb_buf_adds(b, ",", err)) ||
		    gb_buf_adds(b, "{\"kind\":", err) ||
		    gb_json_str(b, a->kind, err) ||
		    gb_buf_adds(b, ",\"id\":", err) ||
		    gb_json_str(b, a->id, err) ||
		    gb_buf_addf(b, err, ",\"version\":%" PRIu64 ",\"status\":",
				a->version) ||
		    gb_json_str(b, a->status, err) ||
		    gb_buf_adds(b, ",\"reason_code\":", err) ||
		    gb_json_str(b, a->reason_code, err) ||
		    gb_buf_adds(b, ",\"reason\":", err) ||
		    gb_json_str(b, a->reason, err) ||
		    gb_buf_adds(b, ",\"title\":", err) ||
		    gb_json_str(b, a->title, err) || gb_buf_adds(b, ",", err) ||
		    json_time(b, "at", a->at, err) || gb_buf_adds(b, "}", err))
			return -1;
	}
	return gb_buf_adds(b, "]", err);
}

static int cmd_sync_status(struct gb_cli *cli, int argc, char **argv)
{
	const char *format = NULL;
	int help = 0, npos, status = 1;
	const struct gb_opt spec[] = {
	    {"format", 1, &format, NULL},
	    {"help", 0, NULL, &help},
	};
	struct sync_status st = {0};
	struct gb_db *db = NULL;
	struct gb_err err;
	char *pos[1];
	long conflicts = 0;

	if (gb_opts_parse(spec, 2, argc, argv, pos, 0, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "sync status", &err);
	if (help) {
		status_usage(stdout);
		return 0;
	}
	if (format && strcmp(format, "text") && strcmp(format, "json")) {
		gb_error(&err, GB_EUSAGE,
			 _("--format: \"%s\" is not text or json"), format);
		return gb_opts_usage_error(cli->prog, "sync status", &err);
	}
	db = cmd_open_db(cli, DB_READONLY);
	if (!db)
		return 1;
	if (sync_status_get(db, &st, &err) ||
	    db_conflict_count(db, &conflicts, &err))
		goto fail;
	if (format && !strcmp(format, "json")) {
		if (status_json(&st, conflicts, &err))
			goto fail;
	} else {
		status_text(&st, conflicts);
	}
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	sync_status_release(&st);
	db_close(db);
	if (fflush(stdout) != 0 && !status)
		status = 1;
	return status;
}

/* Cuts trailing blanks and line ends off s. */
static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
		     s[n - 1] == '\t'))
		s[--n] = '\0';
}

/*
 * Reads the token from standard input: either one line holding it, or
 * what gridbook-hq device enroll prints ("device: ID" and "token: TOKEN"
 * lines), in which case *device gets the id too.  Both are new strings,
 * NULL when absent.
 */
static void read_enrollment(char **token, char **device)
{
	char line[1100];

	*token = NULL;
	*device = NULL;
	for (int i = 0; i < 8 && fgets(line, sizeof(line), stdin); i++) {
		char *v = line;

		chomp(line);
		if (!strncmp(line, "device:", 7)) {
			for (v = line + 7; *v == ' '; v++)
				;
			free(*device);
			*device = xstrdup(v);
			continue;
		}
		if (!strncmp(line, "token:", 6))
			for (v = line + 6; *v == ' '; v++)
				;
		if (*v && !*token)
			*token = xstrdup(v);
	}
	gb_wipe(line, sizeof(line));
}

static int cmd_sync_setup(struct gb_cli *cli, int argc, char **argv)
{
	const char *server = NULL, *token = NULL, *cacert = NULL,
		   *device = NULL, *pin = NULL, *proxy = NULL;
	int help = 0, npos, status = 1;
	const struct gb_opt spec[] = {
	    {"server", 1, &server, NULL}, {"token", 1, &token, NULL},
	    {"cacert", 1, &cacert, NULL}, {"device", 1, &device, NULL},
	    {"pin", 1, &pin, NULL},	  {"proxy", 1, &proxy, NULL},
	    {"help", 0, NULL, &help},
	};
	struct gb_db *db = NULL;
	struct gb_err err;
	char *tok = NULL, *dev = NULL, *pos[1];
	struct stat sb;

	if (gb_opts_parse(spec, 7, argc, argv, pos, 0, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "sync setup", &err);
	if (help) {
		setup_usage(stdout);
		return 0;
	}
	if (!server && !token && !cacert && !device && !pin && !proxy) {
		gb_error(&err, GB_EUSAGE,
			 _("give --server, --token, --device, --cacert, --pin "
			   "or --proxy"));
		return gb_opts_usage_error(cli->prog, "sync setup", &err);
	}
	if (sync_token_arg(token, &err) ||
	    sync_config_check_tls(pin, proxy, &err))
		return gb_opts_usage_error(cli->prog, "sync setup", &err);
	if (token) {
		read_enrollment(&tok, &dev);
		if (!tok) {
			free(dev);
			gb_error(&err, GB_EUSAGE,
				 _("--token -: no token on standard input"));
			return gb_opts_usage_error(cli->prog, "sync setup",
						   &err);
		}
		token = tok;
		if (!device)
			device = dev;
	}
	db = cmd_open_db(cli, 0);
	if (!db)
		goto done;
	/* The file now holds a secret: its owner alone may read it. */
	if (stat(cli->db_path, &sb) == 0 && (sb.st_mode & 077) &&
	    chmod(cli->db_path, sb.st_mode & 0700) != 0) {
		gb_error(&err, GB_EIO, _("cannot make %s private: %s"),
			 cli->db_path, strerror(errno));
		goto fail;
	}
	/* Every setting is checked before any is stored; then the device id
	 * first: with the token then, the outbox entries are packed once,
	 * under the id HQ gave (sync.c, outbox_repack). */
	if (sync_config_check(server, token, cacert, &err) ||
	    (device && sync_device_set(db, device, &err)) ||
	    sync_config_set(db, server, token, cacert, &err) ||
	    sync_config_set_tls(db, pin, proxy, &err))
		goto fail;
	if (device)
		printf(_("device %s\n"), db_device(db));
	if (server)
		printf(_("server %s\n"), server);
	if (token)
		printf(_("token stored\n"));
	if (cacert && *cacert)
		printf(_("trusting the CA in %s\n"), cacert);
	else if (cacert)
		printf(_("trusting the system's CAs\n"));
	if (pin && *pin)
		printf(_("pinning the server's public key\n"));
	if (proxy && *proxy)
		printf(_("https through the proxy %s\n"), proxy);
	status = 0;
	goto out;
fail:
	status = cmd_fail(cli, &err);
out:
	db_close(db);
done:
	if (tok) {
		gb_wipe(tok, strlen(tok));
		free(tok);
	}
	free(dev);
	if (fflush(stdout) != 0 && !status)
		status = 1;
	return status;
}

int cmd_sync(struct gb_cli *cli, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "status"))
		return cmd_sync_status(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "setup"))
		return cmd_sync_setup(cli, argc - 1, argv + 1);
	return cmd_sync_round(cli, argc, argv);
}

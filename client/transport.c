/*
 * The HTTP transport of sync (transport.h), over one libcurl easy handle
 * driven by a multi handle, both kept for the life of the transport so
 * that successive batches and pages reuse one connection (and one TLS
 * session; the connection cache belongs to the multi handle).  The multi
 * interface lets a request run while the sync engine builds the next
 * batch: transport_start sends what the socket takes at once, and
 * transport_poll and transport_finish move the transfer on from there.
 *
 * Every wait is bounded: connecting gives up after 10 s, and a transfer
 * that moves fewer than 100 bytes a second for 30 s is cut off, which is
 * what a half-dead mobile link looks like; the daemon then backs off and
 * tries again.  The answer is held in a capped buffer, so a broken or
 * hostile server cannot make the client hold more than a batch may be.
 * TLS certificates are always verified; plain HTTP is allowed only to
 * this machine, where nothing travels over a network.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "i18n.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define CONNECT_TIMEOUT_MS 10000L
#define LOW_SPEED_LIMIT 100L /* bytes per second */
#define LOW_SPEED_TIME 30L   /* seconds */
/* Above any batch, page or ack a server sends. */
#define MAX_ANSWER ((size_t)WIRE_MAX_BODY + 4096)
/* How much of an error answer is quoted. */
#define MAX_QUOTE 160

/* Where a transfer writes its answer. */
struct sink {
	struct gb_buf *buf;
	size_t start; /* buf->len before the transfer */
	int over;     /* the answer passed MAX_ANSWER */
};

struct transport {
	CURL *h;
	CURLM *m;
	char *base; /* the URL without a trailing slash */
	struct curl_slist *post_headers;
	struct curl_slist *get_headers;
	const volatile sig_atomic_t *stop;
	char errbuf[CURL_ERROR_SIZE];
	/* The request running: its URL (owned), its answer so far, whether
	 * it has ended and how. */
	int busy, done;
	CURLcode result;
	char *url;
	struct gb_buf answer;
	struct sink sink;
};

/* 1 when host (as curl gives it, IPv6 in brackets) is this machine. */
static int host_is_loopback(const char *host)
{
	unsigned char a[16];
	char h[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (n >= 2 && n < sizeof(h) + 2 && host[0] == '[' &&
	    host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		return inet_pton(AF_INET6, h, a) == 1 &&
		       memcmp(a, &in6addr_loopback, 16) == 0;
	}
	return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

int transport_check_url(const char *url, struct gb_err *err)
{
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL;
	CURLU *u = curl_url();
	int rc = -1;

	if (!u)
		return gb_error(err, GB_EINTERNAL, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		gb_error(err, GB_EUSAGE,
			 _("server URL \"%s\" is not a URL like "
			   "https://hq.example.org"),
			 url);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		gb_error(err, GB_EUSAGE,
			 _("server URL \"%s\": only https (or http to this "
			   "machine) is supported"),
			 url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		gb_error(err, GB_EUSAGE,
			 _("server URL \"%s\" may not hold a user name; give "
			   "the token with --token"),
			 url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    strchr(url, '#')) {
		gb_error(err, GB_EUSAGE,
			 _("server URL \"%s\" may not hold a query or "
			   "fragment"),
			 url);
		goto out;
	}
	if (strcmp(scheme, "http") == 0 && !host_is_loopback(host)) {
		gb_error(err, GB_EUSAGE,
			 _("server URL \"%s\": plain http is allowed only to "
			   "this machine (127.0.0.1, ::1, localhost); use "
			   "https"),
			 url);
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

static size_t sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	size_t n = size * nmemb;

	if (k->buf->len - k->start + n > MAX_ANSWER) {
		k->over = 1;
		return 0;
	}
	if (gb_buf_add(k->buf, p, n, NULL)) {
		k->over = 1;
		return 0;
	}
	return n;
}

/* Asked by curl during a transfer: non-zero abandons it. */
static int xfer_check(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		      curl_off_t ultotal, curl_off_t ulnow)
{
	const struct transport *t = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return t->stop && *t->stop ? 1 : 0;
}

/* Wipes the strings of a header list (one holds the token) and frees it. */
static void headers_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	if (t->busy)
		curl_multi_remove_handle(t->m, t->h);
	if (t->m)
		curl_multi_cleanup(t->m);
	if (t->h)
		curl_easy_cleanup(t->h);
	free(t->url);
	gb_buf_release(&t->answer);
	headers_free(t->post_headers);
	headers_free(t->get_headers);
	free(t->base);
	free(t);
}

/* Builds a header list with the token; NULL when curl runs out of
 * memory. */
static struct curl_slist *headers_make(const char *token, int post)
{
	static const char *const post_h[] = {
	    "Content-Type: application/x-protobuf",
	    "Content-Encoding: deflate",
	    /* No "100 Continue" round trip before a batch. */
	    "Expect:",
	};
	struct curl_slist *l = NULL, *n;
	char *auth = xasprintf("Authorization: Bearer %s", token);

	n = curl_slist_append(l, auth);
	sodium_memzero(auth, strlen(auth));
	free(auth);
	if (!n)
		return NULL;
	l = n;
	n = curl_slist_append(l, "Accept: application/x-protobuf");
	if (!n)
		goto fail;
	l = n;
	for (size_t i = 0; post && i < sizeof(post_h) / sizeof(post_h[0]);
	     i++) {
		n = curl_slist_append(l, post_h[i]);
		if (!n)
			goto fail;
		l = n;
	}
	return l;
fail:
	headers_free(l);
	return NULL;
}

int transport_new(struct transport **out, const struct transport_opts *o,
		  struct gb_err *err)
{
	struct transport *t;
	long ct = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
					    : CONNECT_TIMEOUT_MS;
	long lst =
	    o->low_speed_time_s > 0 ? o->low_speed_time_s : LOW_SPEED_TIME;
	size_t n;
	CURLcode c = CURLE_OK;

	*out = NULL;
	if (!o->url || transport_check_url(o->url, err))
		return -1;
	if (!o->token || !*o->token)
		return gb_error(err, GB_EAUTH,
				_("no device token: run gridbook sync setup "
				  "--token TOKEN (an administrator gets one "
				  "from gridbook-hq device enroll)"));
	t = xcalloc(1, sizeof(*t));
	t->stop = o->stop;
	t->base = xstrdup(o->url);
	n = strlen(t->base);
	while (n > 0 && t->base[n - 1] == '/')
		t->base[--n] = '\0';
	gb_buf_init(&t->answer, MAX_ANSWER);
	t->h = curl_easy_init();
	t->m = curl_multi_init();
	t->post_headers = headers_make(o->token, 1);
	t->get_headers = headers_make(o->token, 0);
	if (!t->h || !t->m || !t->post_headers || !t->get_headers) {
		transport_free(t);
		return gb_error(err, GB_EINTERNAL,
				_("cannot set up the HTTP client"));
	}
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (c == CURLE_OK)                                             \
			c = curl_easy_setopt(t->h, opt, val);                  \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ct);
	SET(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
	SET(CURLOPT_LOW_SPEED_TIME, lst);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert && *o->cacert)
		SET(CURLOPT_CAINFO, o->cacert);
	SET(CURLOPT_USERAGENT, "gridbook/0.1");
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, xfer_check);
	SET(CURLOPT_XFERINFODATA, t);
#undef SET
	if (c != CURLE_OK) {
		gb_error(err, GB_EINTERNAL,
			 _("cannot set up the HTTP client: %s"),
			 curl_easy_strerror(c));
		transport_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* The first place where the n bytes of needle occur in p[0..len), or
 * NULL. */
static const char *find_bytes(const char *p, size_t len, const char *needle,
			      size_t n)
{
	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(p + i, needle, n) == 0)
			return p + i;
	return NULL;
}

/*
 * Quotes the server's explanation from an error answer into out: the
 * "error" or "message" string of a JSON object, else the first line of
 * the text, without control characters and cut to MAX_QUOTE bytes.
 */
static void quote_answer(const char *p, size_t n, char *out, size_t outn)
{
	static const char *const keys[] = {"\"error\"", "\"message\""};
	const char *end = p + n;
	size_t o = 0;

	for (size_t k = 0; n && p[0] == '{' && k < 2; k++) {
		const char *q = find_bytes(p, n, keys[k], strlen(keys[k]));

		if (!q)
			continue;
		q += strlen(keys[k]);
		while (q < end && (*q == ' ' || *q == ':'))
			q++;
		if (q < end && *q == '"') {
			p = q + 1;
			for (q = p; q < end && *q != '"'; q++)
				if (*q == '\\' && q + 1 < end)
					q++;
			end = q;
			break;
		}
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	for (; p < end && *p != '\n' && o + 1 < outn && o < MAX_QUOTE; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\\' && p + 1 < end)
			continue;
		if (ch == '\r' || ch == '\t')
			ch = ' ';
		if (ch < ' ' || ch == 0x7f)
			continue;
		out[o++] = (char)ch;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* The error for an HTTP status other than 2xx. */
static int status_error(long status, const char *url, const char *answer,
			size_t n, struct gb_err *err)
{
	enum gb_code code;
	char q[MAX_QUOTE + 1];

	if (status == 401)
		code = GB_EAUTH;
	else if (status == 403)
		code = GB_EFORBIDDEN;
	else if (status == 409)
		code = GB_ECONFLICT;
	else if (status == 413)
		code = GB_ETOOBIG;
	else if (status == 404)
		code = GB_ENOTFOUND;
	else if (status >= 400 && status < 500)
		code = GB_EPROTO;
	else
		code = GB_EIO;
	quote_answer(answer, n, q, sizeof(q));
	if (q[0])
		return gb_error(err, code, _("%s answered %ld: %s"), url,
				status, q);
	return gb_error(err, code, _("%s answered %ld"), url, status);
}

int transport_start(struct transport *t, const char *path, const void *body,
		    size_t len, struct gb_err *err)
{
	CURLcode c = CURLE_OK;
	CURLMcode mc;
	int running;

	if (t->busy)
		return gb_error(err, GB_EINTERNAL,
				_("another request to %s is still running"),
				t->base);
	free(t->url);
	t->url = xasprintf("%s%s", t->base, path);
	gb_buf_reset(&t->answer);
	t->sink.buf = &t->answer;
	t->sink.start = 0;
	t->sink.over = 0;
	t->errbuf[0] = '\0';
	t->done = 0;
	t->result = CURLE_OK;
	c = curl_easy_setopt(t->h, CURLOPT_URL, t->url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(t->h, CURLOPT_WRITEDATA, &t->sink);
	if (c == CURLE_OK && body) {
		c = curl_easy_setopt(t->h, CURLOPT_POSTFIELDS, body);
		if (c == CURLE_OK)
			c = curl_easy_setopt(t->h, CURLOPT_POSTFIELDSIZE_LARGE,
					     (curl_off_t)len);
		if (c == CURLE_OK)
			c = curl_easy_setopt(t->h, CURLOPT_HTTPHEADER,
					     t->post_headers);
	} else if (c == CURLE_OK) {
		c = curl_easy_setopt(t->h, CURLOPT_HTTPGET, 1L);
		if (c == CURLE_OK)
			c = curl_easy_setopt(t->h, CURLOPT_HTTPHEADER,
					     t->get_headers);
	}
	if (c != CURLE_OK)
		return gb_error(err, GB_EINTERNAL,
				_("cannot set up the request to %s: %s"),
				t->url, curl_easy_strerror(c));
	mc = curl_multi_add_handle(t->m, t->h);
	if (mc != CURLM_OK)
		return gb_error(err, GB_EINTERNAL,
				_("cannot set up the request to %s: %s"),
				t->url, curl_multi_strerror(mc));
	t->busy = 1;
	/* Connect, or on a kept connection send the request, now. */
	mc = curl_multi_perform(t->m, &running);
	(void)running;
	if (mc != CURLM_OK) {
		t->done = 1;
		t->result = CURLE_FAILED_INIT;
	}
	return 0;
}

/* Lets curl work on the request without waiting, and notes its end. */
static void drive(struct transport *t)
{
	CURLMsg *msg;
	int running, left;

	if (!t->busy || t->done)
		return;
	if (curl_multi_perform(t->m, &running) != CURLM_OK) {
		t->done = 1;
		t->result = CURLE_FAILED_INIT;
		return;
	}
	while ((msg = curl_multi_info_read(t->m, &left))) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->h) {
			t->done = 1;
			t->result = msg->data.result;
		}
	}
}

int transport_poll(struct transport *t, int wait_ms)
{
	if (!t->busy)
		return 1;
	drive(t);
	if (!t->done && wait_ms > 0) {
		/* A wait cut short (by a signal) is made up by a short
		 * sleep, so that the caller's loop never spins. */
		if (curl_multi_poll(t->m, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		drive(t);
	}
	return t->done;
}

int transport_finish(struct transport *t, struct gb_buf *resp,
		     struct gb_err *err)
{
	const char *url = t->url ? t->url : t->base;
	long status = 0;
	int rc = -1;

	if (!t->busy)
		return gb_error(err, GB_EINTERNAL,
				_("no request to %s is running"), t->base);
	while (!transport_poll(t, 200)) {
		/* The progress callback stops a transfer that moves; this
		 * stops one that waits for the server. */
		if (t->stop && *t->stop) {
			t->done = 1;
			t->result = CURLE_ABORTED_BY_CALLBACK;
		}
	}
	curl_multi_remove_handle(t->m, t->h);
	t->busy = 0;
	switch (t->result) {
	case CURLE_OK:
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		gb_error(err, GB_EINTR, _("%s: stopped"), url);
		goto out;
	case CURLE_WRITE_ERROR:
		if (t->sink.over) {
			gb_error(err, GB_ETOOBIG,
				 _("%s: the answer is over %zu bytes"), url,
				 MAX_ANSWER);
			goto out;
		}
		/* fall through */
	case CURLE_OPERATION_TIMEDOUT:
	default:
		gb_error(err, GB_EIO, _("cannot reach %s: %s"), url,
			 t->errbuf[0] ? t->errbuf
				      : curl_easy_strerror(t->result));
		goto out;
	}
	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		status_error(status, url, t->answer.data ? t->answer.data : "",
			     t->answer.len, err);
		goto out;
	}
	if (t->answer.len &&
	    gb_buf_add(resp, t->answer.data, t->answer.len, err))
		goto out;
	rc = 0;
out:
	gb_buf_reset(&t->answer);
	return rc;
}

int transport_request(struct transport *t, const char *path, const void *body,
		      size_t len, struct gb_buf *resp, struct gb_err *err)
{
	if (transport_start(t, path, body, len, err))
		return -1;
	return transport_finish(t, resp, err);
}

static int io_post_start(void *arg, const void *body, size_t len,
			 struct gb_err *err)
{
	return transport_start(arg, "/v1/batches", body ? body : "", len, err);
}

static void io_post_poll(void *arg)
{
	transport_poll(arg, 0);
}

static int io_post_finish(void *arg, struct gb_buf *resp, struct gb_err *err)
{
	return transport_finish(arg, resp, err);
}

static int io_get(void *arg, const char *cursor, struct gb_buf *resp,
		  struct gb_err *err)
{
	struct transport *t = arg;
	char *esc, *path;
	int rc;

	esc = curl_easy_escape(t->h, cursor, 0);
	if (!esc)
		return gb_error(err, GB_EINTERNAL, "out of memory");
	path = xasprintf("/v1/changes?since=%s", esc);
	curl_free(esc);
	rc = transport_request(t, path, NULL, 0, resp, err);
	free(path);
	return rc;
}

void transport_io(struct transport *t, struct sync_io *io)
{
	io->post_start = io_post_start;
	io->post_poll = io_post_poll;
	io->post_finish = io_post_finish;
	io->get_changes = io_get;
	io->arg = t;
}

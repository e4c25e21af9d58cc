/*
 * The HTTP transport of sync (transport.h), over SYNC_WINDOW libcurl easy
 * handles driven by one multi handle, all kept for the life of the
 * transport.  Each handle is a slot that runs one request at a time, so
 * that the sync engine can keep several batches on the wire at once, each
 * on a connection of its own, while it builds the next; the connections,
 * TLS handshake done, are kept in the multi handle's cache between
 * requests, so that successive batches and pages reuse them whichever
 * slot they take.  transport_start sends what the socket takes at once;
 * transport_poll and transport_finish move every running transfer on
 * from there, so that waiting for one request never stalls the others,
 * and transport_abort drops one, closing its connection.
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
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "crypto.h"
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
/* The records a page of /v1/changes is asked for: the most HQ gives
 * (WIRE_MAX_RECORDS), not its default of 500.  Each page is a request,
 * HQ's lookups of the device and one transaction of the file (its
 * journal synced to disk), the same for 2,000 records as for 500; a
 * page stays within HQ's byte limit a page either way. */
#define PULL_PAGE_RECORDS WIRE_MAX_RECORDS
/* How much of an error answer is quoted. */
#define MAX_QUOTE 160

/* Where a transfer writes its answer. */
struct sink {
	struct gb_buf *buf;
	size_t start; /* buf->len before the transfer */
	int over;     /* the answer passed MAX_ANSWER */
};

/*
 * One request place: an easy handle kept for the life of the transport,
 * and the request it runs, if any: its URL (owned), its answer so far,
 * whether it has ended and how.  busy is set from transport_start until
 * transport_finish or transport_abort; done once curl says it ended.
 */
struct slot {
	CURL *h;
	int busy, done;
	CURLcode result;
	char *url;
	struct gb_buf answer;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE];
};

struct transport {
	CURLM *m;
	char *base; /* the URL without a trailing slash */
	struct curl_slist *post_headers;
	struct curl_slist *get_headers;
	const volatile sig_atomic_t *stop;
	/* The Retry-After of the last 503 or 429, in ms; -1 when none;
	 * retry_exact when HQ gave it in ms (Retry-After-Ms, a turn). */
	long retry_after_ms;
	int retry_exact;
	struct slot slot[SYNC_WINDOW];
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
		gb_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < SYNC_WINDOW; i++)
		if (t->slot[i].busy)
			curl_multi_remove_handle(t->m, t->slot[i].h);
	if (t->m)
		curl_multi_cleanup(t->m);
	for (size_t i = 0; i < SYNC_WINDOW; i++) {
		struct slot *s = &t->slot[i];

		if (s->h)
			curl_easy_cleanup(s->h);
		free(s->url);
		gb_buf_release(&s->answer);
	}
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
	    /* Busy, HQ answers at once with a turn (Retry-After-Ms)
	     * instead of holding the batch for a slot. */
	    "Gridbook-Admission: turn",
	};
	struct curl_slist *l = NULL, *n;
	char *auth = xasprintf("Authorization: Bearer %s", token);

	n = curl_slist_append(l, auth);
	gb_wipe(auth, strlen(auth));
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

/*
 * Sets the options every request of s shares: the same for every slot,
 * so that which slot a request takes makes no difference.  Returns 0 or
 * -1 with err.
 */
static int slot_setup(struct transport *t, struct slot *s,
		      const struct transport_opts *o, struct gb_err *err)
{
	long ct = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
					    : CONNECT_TIMEOUT_MS;
	long lst =
	    o->low_speed_time_s > 0 ? o->low_speed_time_s : LOW_SPEED_TIME;
	CURLcode c = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (c == CURLE_OK)                                             \
			c = curl_easy_setopt(s->h, opt, val);                  \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* HQ speaks HTTP/1.1; asking for it also behind a proxy that offers
	 * HTTP/2 keeps one request to a connection, so that the requests of
	 * a window go side by side and an abandoned one takes only its own
	 * connection down. */
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ct);
	SET(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
	SET(CURLOPT_LOW_SPEED_TIME, lst);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert && *o->cacert) {
		/* That CA only: not also every CA in the system's directory,
		 * which libcurl would search besides the file. */
		SET(CURLOPT_CAINFO, o->cacert);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (o->pin && *o->pin)
		SET(CURLOPT_PINNEDPUBLICKEY, o->pin);
	/* A proxy only when one is named, and never for plain HTTP, which
	 * would hand it the token in clear: the proxy variables of the
	 * environment are not looked at. */
	if (o->proxy && *o->proxy && strncasecmp(t->base, "https://", 8) == 0) {
		SET(CURLOPT_PROXY, o->proxy);
	} else {
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_NOPROXY, "*");
	}
	SET(CURLOPT_USERAGENT, "gridbook/0.1");
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, &s->sink);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, xfer_check);
	SET(CURLOPT_XFERINFODATA, t);
#undef SET
	if (c != CURLE_OK)
		return gb_error(err, GB_EINTERNAL,
				_("cannot set up the HTTP client: %s"),
				curl_easy_strerror(c));
	return 0;
}

int transport_new(struct transport **out, const struct transport_opts *o,
		  struct gb_err *err)
{
	struct transport *t;
	size_t n;

	*out = NULL;
	if (!o->url || transport_check_url(o->url, err))
		return -1;
	if (!o->token || !*o->token)
		return gb_error(err, GB_EAUTH,
				_("no device token: run gridbook sync setup "
				  "--token - (an administrator gets one "
				  "from gridbook-hq device enroll)"));
	t = xcalloc(1, sizeof(*t));
	t->stop = o->stop;
	t->retry_after_ms = -1;
	t->base = xstrdup(o->url);
	n = strlen(t->base);
	while (n > 0 && t->base[n - 1] == '/')
		t->base[--n] = '\0';
	t->m = curl_multi_init();
	t->post_headers = headers_make(o->token, 1);
	t->get_headers = headers_make(o->token, 0);
	for (size_t i = 0; i < SYNC_WINDOW; i++) {
		gb_buf_init(&t->slot[i].answer, MAX_ANSWER);
		t->slot[i].h = curl_easy_init();
	}
	for (size_t i = 0; i < SYNC_WINDOW; i++) {
		if (!t->m || !t->post_headers || !t->get_headers ||
		    !t->slot[i].h) {
			gb_error(err, GB_EINTERNAL,
				 _("cannot set up the HTTP client"));
			goto fail;
		}
		if (slot_setup(t, &t->slot[i], o, err))
			goto fail;
	}
	*out = t;
	return 0;
fail:
	transport_free(t);
	return -1;
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
	else if (status == 429 || status == 503)
		code = GB_EBUSY;
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

/* The slot whose easy handle is h, or NULL. */
static struct slot *slot_of(struct transport *t, CURL *h)
{
	for (size_t i = 0; i < SYNC_WINDOW; i++)
		if (t->slot[i].busy && t->slot[i].h == h)
			return &t->slot[i];
	return NULL;
}

/* The running request in slot, or NULL when slot is out of range or
 * free. */
static struct slot *slot_busy(struct transport *t, int slot)
{
	if (slot < 0 || slot >= SYNC_WINDOW || !t->slot[slot].busy)
		return NULL;
	return &t->slot[slot];
}

/* A turn HQ gave (Retry-After-Ms: the milliseconds until this device may
 * send again, beside the whole seconds of Retry-After): taken instead of
 * Retry-After when it is a number from 0 to a day. */
static void retry_ms(struct transport *t, CURL *h)
{
	struct curl_header *hd = NULL;
	char *end;
	long v;

	if (curl_easy_header(h, "Retry-After-Ms", 0, CURLH_HEADER, -1, &hd) !=
		CURLHE_OK ||
	    !hd || !hd->value)
		return;
	errno = 0;
	v = strtol(hd->value, &end, 10);
	if (errno || end == hd->value || *end || v < 0 || v > 86400000L)
		return;
	t->retry_after_ms = v;
	t->retry_exact = 1;
}

/*
 * Lets curl work on every running request without waiting, and notes the
 * ends.  A failure of the multi handle itself (out of memory) ends every
 * request still running.
 */
static void drive(struct transport *t)
{
	CURLMsg *msg;
	int running, left, any = 0;

	for (size_t i = 0; i < SYNC_WINDOW; i++)
		if (t->slot[i].busy && !t->slot[i].done)
			any = 1;
	if (!any)
		return;
	if (curl_multi_perform(t->m, &running) != CURLM_OK) {
		for (size_t i = 0; i < SYNC_WINDOW; i++) {
			struct slot *s = &t->slot[i];

			if (s->busy && !s->done) {
				s->done = 1;
				s->result = CURLE_FAILED_INIT;
			}
		}
		return;
	}
	for (;;) {
		msg = curl_multi_info_read(t->m, &left);
		if (!msg)
			break;
		struct slot *s;

		if (msg->msg != CURLMSG_DONE)
			continue;
		s = slot_of(t, msg->easy_handle);
		if (s && !s->done) {
			s->done = 1;
			s->result = msg->data.result;
		}
	}
}

int transport_start(struct transport *t, const char *path, const void *body,
		    size_t len, int *slot, struct gb_err *err)
{
	struct slot *s = NULL;
	CURLcode c = CURLE_OK;
	CURLMcode mc;

	int i;

	for (i = 0; i < SYNC_WINDOW; i++)
		if (!t->slot[i].busy)
			break;
	if (i < SYNC_WINDOW)
		s = &t->slot[i];
	if (!s)
		return gb_error(err, GB_EINTERNAL,
				_("%d requests to %s are already running"),
				SYNC_WINDOW, t->base);
	free(s->url);
	s->url = xasprintf("%s%s", t->base, path);
	gb_buf_reset(&s->answer);
	s->sink.buf = &s->answer;
	s->sink.start = 0;
	s->sink.over = 0;
	s->errbuf[0] = '\0';
	s->done = 0;
	s->result = CURLE_OK;
	c = curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	if (c == CURLE_OK && body) {
		c = curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
		if (c == CURLE_OK)
			c = curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE,
					     (curl_off_t)len);
		if (c == CURLE_OK)
			c = curl_easy_setopt(s->h, CURLOPT_HTTPHEADER,
					     t->post_headers);
	} else if (c == CURLE_OK) {
		c = curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
		if (c == CURLE_OK)
			c = curl_easy_setopt(s->h, CURLOPT_HTTPHEADER,
					     t->get_headers);
	}
	if (c != CURLE_OK)
		return gb_error(err, GB_EINTERNAL,
				_("cannot set up the request to %s: %s"),
				s->url, curl_easy_strerror(c));
	mc = curl_multi_add_handle(t->m, s->h);
	if (mc != CURLM_OK)
		return gb_error(err, GB_EINTERNAL,
				_("cannot set up the request to %s: %s"),
				s->url, curl_multi_strerror(mc));
	s->busy = 1;
	*slot = i;
	/* Connect, or on a kept connection send the request, now. */
	drive(t);
	return 0;
}

int transport_poll(struct transport *t, int slot, int wait_ms)
{
	struct slot *s = slot_busy(t, slot);

	if (!s)
		return 1;
	drive(t);
	if (!s->done && wait_ms > 0) {
		/* A wait cut short (by a signal) is made up by a short
		 * sleep, so that the caller's loop never spins. */
		if (curl_multi_poll(t->m, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		drive(t);
	}
	return s->done;
}

void transport_abort(struct transport *t, int slot)
{
	struct slot *s = slot_busy(t, slot);

	if (!s)
		return;
	/* A transfer removed before its end takes its connection with it:
	 * curl closes it rather than keep one in an unknown state. */
	curl_multi_remove_handle(t->m, s->h);
	s->busy = 0;
	s->done = 0;
	gb_buf_reset(&s->answer);
}

int transport_finish(struct transport *t, int slot, struct gb_buf *resp,
		     struct gb_err *err)
{
	struct slot *s = slot_busy(t, slot);
	const char *url;
	long status = 0;
	int rc = -1;

	if (!s)
		return gb_error(err, GB_EINTERNAL,
				_("request %d to %s is not running"), slot,
				t->base);
	url = s->url ? s->url : t->base;
	while (!transport_poll(t, slot, 200)) {
		/* The progress callback stops a transfer that moves; this
		 * stops one that waits for the server. */
		if (t->stop && *t->stop) {
			s->done = 1;
			s->result = CURLE_ABORTED_BY_CALLBACK;
		}
	}
	curl_multi_remove_handle(t->m, s->h);
	s->busy = 0;
	switch (s->result) {
	case CURLE_OK:
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		gb_error(err, GB_EINTR, _("%s: stopped"), url);
		goto out;
	case CURLE_WRITE_ERROR:
		if (s->sink.over) {
			gb_error(err, GB_ETOOBIG,
				 _("%s: the answer is over %zu bytes"), url,
				 MAX_ANSWER);
			goto out;
		}
		/* fall through */
	case CURLE_OPERATION_TIMEDOUT:
	default:
		gb_error(err, GB_EIO, _("cannot reach %s: %s"), url,
			 s->errbuf[0] ? s->errbuf
				      : curl_easy_strerror(s->result));
		goto out;
	}
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 429 || status == 503) {
		curl_off_t ra = -1;

		/* Seconds, from either form of the header (curl reads an
		 * HTTP date too); capped so that the product stays sane. */
		if (curl_easy_getinfo(s->h, CURLINFO_RETRY_AFTER, &ra) !=
			CURLE_OK ||
		    ra < 0)
			ra = -1;
		if (ra > 86400)
			ra = 86400;
		t->retry_after_ms = ra < 0 ? -1 : (long)ra * 1000;
		t->retry_exact = 0;
		retry_ms(t, s->h);
	}
	if (status < 200 || status > 299) {
		status_error(status, url, s->answer.data ? s->answer.data : "",
			     s->answer.len, err);
		goto out;
	}
	if (s->answer.len &&
	    gb_buf_add(resp, s->answer.data, s->answer.len, err))
		goto out;
	rc = 0;
out:
	s->done = 0;
	gb_buf_reset(&s->answer);
	return rc;
}

int transport_request(struct transport *t, const char *path, const void *body,
		      size_t len, struct gb_buf *resp, struct gb_err *err)
{
	int slot;

	if (transport_start(t, path, body, len, &slot, err))
		return -1;
	return transport_finish(t, slot, resp, err);
}

static int io_post_start(void *arg, const void *body, size_t len, int *req,
			 struct gb_err *err)
{
	return transport_start(arg, "/v1/batches", body ? body : "", len, req,
			       err);
}

static void io_post_poll(void *arg)
{
	drive(arg);
}

static int io_post_finish(void *arg, int req, struct gb_buf *resp,
			  struct gb_err *err)
{
	return transport_finish(arg, req, resp, err);
}

static void io_post_abort(void *arg, int req)
{
	transport_abort(arg, req);
}

static int io_get(void *arg, const char *cursor, uint64_t seq,
		  struct gb_buf *resp, struct gb_err *err)
{
	struct transport *t = arg;
	char *esc, *path;
	int rc;

	esc = curl_easy_escape(t->slot[0].h, cursor, 0);
	if (!esc)
		return gb_error(err, GB_EINTERNAL, "out of memory");
	path = xasprintf("/v1/changes?since=%s&seq=%" PRIu64 "&limit=%d", esc,
			 seq, PULL_PAGE_RECORDS);
	curl_free(esc);
	rc = transport_request(t, path, NULL, 0, resp, err);
	free(path);
	return rc;
}

static long io_retry_after(void *arg)
{
	struct transport *t = arg;
	long ms = t->retry_after_ms;

	t->retry_after_ms = -1;
	return ms;
}

static int io_retry_exact(void *arg)
{
	const struct transport *t = arg;

	return t->retry_exact;
}

void transport_io(struct transport *t, struct sync_io *io)
{
	io->retry_after_ms = io_retry_after;
	io->retry_exact = io_retry_exact;
	io->post_start = io_post_start;
	io->post_poll = io_post_poll;
	io->post_finish = io_post_finish;
	io->post_abort = io_post_abort;
	io->get_changes = io_get;
	io->arg = t;
}

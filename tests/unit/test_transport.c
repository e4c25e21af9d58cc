/*
 * Tests of transport.c against a small HTTP/1.1 server that runs in a
 * thread of the test on 127.0.0.1 (a port the system picks), one thread
 * to a connection, keeping connections open between requests as HQ does.
 * What a request asks of it is in its body: "together ..." is answered
 * only once SYNC_WINDOW such requests are open at the same time (or, after
 * two seconds, with "alone"), so that a transport that ran its requests one
 * after the other fails instead of hanging; "busy" gets a 503 with a JSON
 * message, "drop" a connection closed without an answer, "hang" no answer
 * until the client goes away; anything else is echoed, and a GET gets its
 * path back.  Checked: SYNC_WINDOW posts on the wire at once, each finishing
 * with its own answer in any order, over kept connections the second
 * time; one more start refused while the window is full; 503 as GB_EBUSY and
 * 401 as GB_EAUTH with the server's message; a dropped connection as GB_EIO; an
 * abandoned request freeing its slot and closing its connection; the struct
 * sync_io functions; a stop request, also while the server is silent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "transport.h"
#include "xalloc.h"

#include "banned.h"

#define TOKEN "tok-5f0c9e2a7b41"
#define MAX_CONNS 64
#define MAX_REQ (64 * 1024)
/* A connection idle this long is closed by the server. */
#define IDLE_MS 3000
/* How long a "together" request waits for the other two. */
#define TOGETHER_MS 2000

struct server {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* The rest is guarded by mu. */
	int stop;
	int accepted;
	int together; /* "together" requests arrived so far */
	int hangs_seen, hangs_closed;
	char last_path[256];
	pthread_t conn[MAX_CONNS];
	int nconn;
};

struct conn {
	struct server *sv;
	int fd;
};

/* One request as the server read it. */
struct request {
	char method[8];
	char path[256];
	int auth_ok;  /* the device token came with it */
	int proto_ok; /* a POST said Content-Type application/x-protobuf */
	char *body;   /* NUL-terminated; owned */
	size_t len;
};

static volatile sig_atomic_t stop_flag;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int server_count(struct server *sv, const int *what)
{
	int n;

	pthread_mutex_lock(&sv->mu);
	n = *what;
	pthread_mutex_unlock(&sv->mu);
	return n;
}

/* Reads what the peer sends into buf[*have .. cap).  Returns the number
 * of bytes read, or 0 at the end, on an error or after IDLE_MS. */
static size_t read_more(int fd, char *buf, size_t *have, size_t cap)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	if (*have >= cap || poll(&p, 1, IDLE_MS) != 1)
		return 0;
	n = recv(fd, buf + *have, cap - *have, 0);
	if (n <= 0)
		return 0;
	*have += (size_t)n;
	return (size_t)n;
}

/* The value of a header line p (up to end) named name, or NULL. */
static const char *header_value(const char *p, const char *end,
				const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) <= n || strncasecmp(p, name, n) != 0 ||
	    p[n] != ':')
		return NULL;
	for (p += n + 1; p < end && *p == ' '; p++)
		;
	return p;
}

static int value_is(const char *v, const char *end, const char *want)
{
	return v && (size_t)(end - v) == strlen(want) &&
	       memcmp(v, want, strlen(want)) == 0;
}

/*
 * Reads one request from fd, keeping what follows it in buf (*have bytes,
 * room for MAX_REQ).  Returns 0, or -1 when the connection ended or sent
 * something that is not a request.
 */
static int read_request(int fd, char *buf, size_t *have, struct request *rq)
{
	char *end, *p, *next;
	size_t hlen, clen = 0;

	memset(rq, 0, sizeof(*rq));
	for (;;) {
		buf[*have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (!read_more(fd, buf, have, MAX_REQ))
			return -1;
	}
	hlen = (size_t)(end - buf) + 4;
	if (sscanf(buf, "%7s %255s", rq->method, rq->path) != 2)
		return -1;
	for (p = strstr(buf, "\r\n") + 2; p < end; p = next + 2) {
		const char *v;

		next = strstr(p, "\r\n");
		v = header_value(p, next, "Content-Length");
		if (v)
			clen = strtoul(v, NULL, 10);
		v = header_value(p, next, "Authorization");
		if (v)
			rq->auth_ok = value_is(v, next, "Bearer " TOKEN);
		v = header_value(p, next, "Content-Type");
		if (v)
			rq->proto_ok =
			    value_is(v, next, "application/x-protobuf");
	}
	if (clen > MAX_REQ - hlen)
		return -1;
	while (*have < hlen + clen)
		if (!read_more(fd, buf, have, MAX_REQ))
			return -1;
	rq->body = xmalloc(clen + 1);
	memcpy(rq->body, buf + hlen, clen);
	rq->body[clen] = '\0';
	rq->len = clen;
	memmove(buf, buf + hlen + clen, *have - hlen - clen);
	*have -= hlen + clen;
	return 0;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

static void answer(int fd, int status, const char *body, size_t n)
{
	char head[256];
	int k = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d Whatever\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 status, n);

	send_all(fd, head, (size_t)k);
	send_all(fd, body, n);
}

/* Waits until the "together" requests arrived make a group of
 * SYNC_WINDOW.
 * Returns 1 when they did, 0 when TOGETHER_MS passed first. */
static int wait_together(struct server *sv)
{
	struct timespec dl;
	int target, rc = 0, met;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += TOGETHER_MS / 1000;
	pthread_mutex_lock(&sv->mu);
	sv->together++;
	target = (sv->together + SYNC_WINDOW - 1) / SYNC_WINDOW * SYNC_WINDOW;
	pthread_cond_broadcast(&sv->cv);
	while (sv->together < target && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&sv->cv, &sv->mu, &dl);
	met = sv->together >= target;
	pthread_mutex_unlock(&sv->mu);
	return met;
}

/* Waits for the client to close fd, and counts it. */
static void wait_close(struct server *sv, int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	pthread_mutex_lock(&sv->mu);
	sv->hangs_seen++;
	pthread_mutex_unlock(&sv->mu);
	if (poll(&p, 1, IDLE_MS) == 1 && recv(fd, &c, 1, 0) == 0) {
		pthread_mutex_lock(&sv->mu);
		sv->hangs_closed++;
		pthread_mutex_unlock(&sv->mu);
	}
}

/* Answers one request.  Returns 1 when the connection is to be closed. */
static int serve(struct server *sv, int fd, const struct request *rq)
{
	static const char busy[] =
	    "{\"error\": \"HQ is busy applying batches, try again in a "
	    "minute\"}";
	static const char bad_token[] = "{\"error\": \"unknown device token\"}";
	char *out;

	pthread_mutex_lock(&sv->mu);
	snprintf(sv->last_path, sizeof(sv->last_path), "%s", rq->path);
	pthread_mutex_unlock(&sv->mu);
	if (!rq->auth_ok) {
		answer(fd, 401, bad_token, strlen(bad_token));
	} else if (strcmp(rq->method, "GET") == 0) {
		out = xasprintf("changes %s", rq->path);
		answer(fd, 200, out, strlen(out));
		free(out);
	} else if (!rq->proto_ok) {
		answer(fd, 415, "not protobuf", 12);
	} else if (strncmp(rq->body, "together ", 9) == 0) {
		if (wait_together(sv))
			answer(fd, 200, rq->body, rq->len);
		else
			answer(fd, 200, "alone", 5);
	} else if (strcmp(rq->body, "busy") == 0) {
		answer(fd, 503, busy, strlen(busy));
	} else if (strcmp(rq->body, "drop") == 0) {
		return 1;
	} else if (strcmp(rq->body, "hang") == 0) {
		wait_close(sv, fd);
		return 1;
	} else {
		answer(fd, 200, rq->body, rq->len);
	}
	return 0;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	char *buf = xmalloc(MAX_REQ + 1);
	size_t have = 0;
	struct request rq;

	while (read_request(c->fd, buf, &have, &rq) == 0) {
		int done = serve(c->sv, c->fd, &rq);

		free(rq.body);
		if (done)
			break;
	}
	close(c->fd);
	free(buf);
	free(c);
	return NULL;
}

static void *server_main(void *arg)
{
	struct server *sv = arg;

	for (;;) {
		struct pollfd p = {sv->fd, POLLIN, 0};
		struct conn *c;
		int fd, stop;

		pthread_mutex_lock(&sv->mu);
		stop = sv->stop;
		pthread_mutex_unlock(&sv->mu);
		if (stop)
			break;
		if (poll(&p, 1, 50) != 1)
			continue;
		fd = accept(sv->fd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&sv->mu);
		if (sv->nconn == MAX_CONNS) {
			pthread_mutex_unlock(&sv->mu);
			close(fd);
			continue;
		}
		c = xmalloc(sizeof(*c));
		c->sv = sv;
		c->fd = fd;
		sv->accepted++;
		if (pthread_create(&sv->conn[sv->nconn], NULL, conn_main, c)) {
			close(fd);
			free(c);
		} else {
			sv->nconn++;
		}
		pthread_mutex_unlock(&sv->mu);
	}
	/* No thread is started any more, so nconn stays as it is. */
	for (int i = 0; i < sv->nconn; i++)
		pthread_join(sv->conn[i], NULL);
	return NULL;
}

static int server_start(struct server *sv)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(sv, 0, sizeof(*sv));
	pthread_mutex_init(&sv->mu, NULL);
	pthread_cond_init(&sv->cv, NULL);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sv->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (sv->fd < 0 || bind(sv->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(sv->fd, 16) ||
	    getsockname(sv->fd, (struct sockaddr *)&a, &alen) ||
	    pthread_create(&sv->thread, NULL, server_main, sv)) {
		perror("test server");
		return -1;
	}
	sv->port = ntohs(a.sin_port);
	return 0;
}

/* Stops the server once its clients are gone (a connection still open
 * holds it for up to IDLE_MS). */
static void server_stop(struct server *sv)
{
	pthread_mutex_lock(&sv->mu);
	sv->stop = 1;
	pthread_mutex_unlock(&sv->mu);
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	pthread_cond_destroy(&sv->cv);
	pthread_mutex_destroy(&sv->mu);
}

/* Posts body and returns what transport_request returned; the answer is
 * in resp (reset first). */
static int post(struct transport *t, const char *body, struct gb_buf *resp,
		struct gb_err *err)
{
	gb_buf_reset(resp);
	gb_err_clear(err);
	return transport_request(t, "/v1/batches", body, strlen(body), resp,
				 err);
}

/*
 * SYNC_WINDOW batches on the wire at once: the server answers none before
 * it holds all of them.  The answers are taken last first, then from the
 * first on (2, 0, 1 for three), after polling until all have ended when
 * by_poll is set, else by waiting in transport_finish for each.
 */
static void test_window(struct transport *t, int by_poll)
{
	static const char *const names[] = {"李秀英", "王建国", "张丽华",
					    "陈志强", "赵桂兰", "孙海燕",
					    "周晓东", "吴春梅"};
	enum { W = SYNC_WINDOW };
	char body[W][64];
	int s[W], extra = -1, n;
	struct gb_buf resp;
	struct gb_err err;
	int64_t t0 = now_ms();

	_Static_assert(W <= sizeof(names) / sizeof(names[0]),
		       "a name for each batch of the window");
	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	for (int i = 0; i < W; i++) {
		s[i] = -1;
		snprintf(body[i], sizeof(body[i]), "together %s %d", names[i],
			 by_poll);
		CHECK(transport_start(t, "/v1/batches", body[i],
				      strlen(body[i]), &s[i], &err) == 0);
		CHECK(s[i] >= 0 && s[i] < SYNC_WINDOW);
	}
	for (int i = 0; i < W; i++)
		for (int j = i + 1; j < W; j++)
			CHECK(s[i] != s[j]);
	CHECK(transport_start(t, "/v1/batches", "one more", 8, &extra, &err) ==
	      -1);
	CHECK(err.code == GB_EINTERNAL);
	CHECK(extra == -1);
	if (by_poll) {
		do {
			n = 0;
			for (int i = 0; i < W; i++)
				n += transport_poll(t, s[i], 20);
		} while (n < W && now_ms() - t0 < 3 * TOGETHER_MS);
		CHECK(n == W);
	}
	for (int k = 0; k < W; k++) {
		int i = (k + W - 1) % W;

		gb_buf_reset(&resp);
		CHECK(transport_finish(t, s[i], &resp, &err) == 0);
		CHECK_STR(gb_buf_str(&resp), body[i]);
	}
	CHECK(now_ms() - t0 < TOGETHER_MS);
	gb_buf_release(&resp);
}

/* Answers that are errors, and calls on slots that run nothing. */
static void test_errors(struct transport *t, const char *url)
{
	struct transport_opts o = {0};
	struct transport *other = NULL;
	struct gb_buf resp;
	struct gb_err err;

	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	CHECK(post(t, "busy", &resp, &err) == -1);
	CHECK(err.code == GB_EBUSY);
	CHECK(strstr(err.msg, "answered 503: HQ is busy applying batches, "
			      "try again in a minute") != NULL);
	CHECK(post(t, "drop", &resp, &err) == -1);
	CHECK(err.code == GB_EIO);
	CHECK(strstr(err.msg, "/v1/batches") != NULL);
	/* The connections that saw those still serve. */
	CHECK(post(t, "刘洋 after errors", &resp, &err) == 0);
	CHECK_STR(gb_buf_str(&resp), "刘洋 after errors");

	o.url = url;
	o.token = "tok-unknown";
	CHECK(transport_new(&other, &o, &err) == 0);
	if (other) {
		CHECK(post(other, "周敏", &resp, &err) == -1);
		CHECK(err.code == GB_EAUTH);
		CHECK(strstr(err.msg, "answered 401: unknown device token") !=
		      NULL);
	}
	transport_free(other);
	o.token = "";
	CHECK(transport_new(&other, &o, &err) == -1);
	CHECK(err.code == GB_EAUTH);
	o.url = "http://192.0.2.1:8080";
	o.token = TOKEN;
	CHECK(transport_new(&other, &o, &err) == -1);
	CHECK(err.code == GB_EUSAGE);

	gb_err_clear(&err);
	CHECK(transport_finish(t, 1, &resp, &err) == -1);
	CHECK(err.code == GB_EINTERNAL);
	CHECK(transport_finish(t, SYNC_WINDOW, &resp, &err) == -1);
	CHECK(transport_finish(t, -1, &resp, &err) == -1);
	CHECK(transport_poll(t, 1, 0) == 1);
	transport_abort(t, 1);
	transport_abort(t, SYNC_WINDOW);
	gb_buf_release(&resp);
}

/* Requests abandoned while the server holds them: each frees its slot
 * at once and closes its connection. */
static void test_abort(struct transport *t, struct server *sv)
{
	static const char freed[] = "陈静 in a freed slot";
	enum { W = SYNC_WINDOW };
	int s[W], again = -1, extra = -1;
	int seen0 = server_count(sv, &sv->hangs_seen);
	int closed0 = server_count(sv, &sv->hangs_closed);
	struct gb_buf resp;
	struct gb_err err;
	int64_t t0 = now_ms();

	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	for (int i = 0; i < W; i++) {
		s[i] = -1;
		CHECK(transport_start(t, "/v1/batches", "hang", 4, &s[i],
				      &err) == 0);
	}
	while (server_count(sv, &sv->hangs_seen) < seen0 + W &&
	       now_ms() - t0 < 2000)
		for (int i = 0; i < W; i++)
			CHECK(transport_poll(t, s[i], 10) == 0);
	CHECK(server_count(sv, &sv->hangs_seen) == seen0 + W);
	CHECK(transport_start(t, "/v1/batches", "no room", 7, &extra, &err) ==
	      -1);
	CHECK(err.code == GB_EINTERNAL);

	transport_abort(t, s[1]);
	CHECK(transport_poll(t, s[1], 0) == 1);
	CHECK(transport_start(t, "/v1/batches", freed, strlen(freed), &again,
			      &err) == 0);
	CHECK(again == s[1]);
	CHECK(transport_finish(t, again, &resp, &err) == 0);
	CHECK_STR(gb_buf_str(&resp), freed);
	for (int i = 0; i < W; i++)
		if (i != 1)
			transport_abort(t, s[i]);
	t0 = now_ms();
	while (server_count(sv, &sv->hangs_closed) < closed0 + W &&
	       now_ms() - t0 < 2000)
		sleep_ms(10);
	CHECK(server_count(sv, &sv->hangs_closed) == closed0 + W);
	/* All the slots are free again. */
	gb_buf_reset(&resp);
	CHECK(post(t, "after the aborts", &resp, &err) == 0);
	CHECK_STR(gb_buf_str(&resp), "after the aborts");
	gb_buf_release(&resp);
}

/* The functions sync.c calls. */
static void test_io(struct transport *t, struct server *sv)
{
	struct sync_io io;
	static const char *const bodies[2] = {"赵磊 batch 41", "孙悦 batch 42"};
	int r[2] = {-1, -1};
	struct gb_buf resp;
	struct gb_err err;
	char path[256];

	memset(&io, 0, sizeof(io));
	transport_io(t, &io);
	CHECK(io.post_start && io.post_poll && io.post_finish &&
	      io.post_abort && io.get_changes && io.arg == t);
	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	for (int i = 0; i < 2; i++)
		CHECK(io.post_start(io.arg, bodies[i], strlen(bodies[i]), &r[i],
				    &err) == 0);
	CHECK(r[0] != r[1]);
	io.post_poll(io.arg);
	CHECK(io.post_finish(io.arg, r[1], &resp, &err) == 0);
	CHECK_STR(gb_buf_str(&resp), bodies[1]);
	gb_buf_reset(&resp);
	CHECK(io.post_finish(io.arg, r[0], &resp, &err) == 0);
	CHECK_STR(gb_buf_str(&resp), bodies[0]);
	pthread_mutex_lock(&sv->mu);
	snprintf(path, sizeof(path), "%s", sv->last_path);
	pthread_mutex_unlock(&sv->mu);
	CHECK_STR(path, "/v1/batches");

	CHECK(io.post_start(io.arg, "hang", 4, &r[0], &err) == 0);
	io.post_abort(io.arg, r[0]);

	gb_buf_reset(&resp);
	CHECK(io.get_changes(io.arg, "17 x/y", 42, &resp, &err) == 0);
	/* Pages of the most records HQ gives (WIRE_MAX_RECORDS). */
	CHECK_STR(gb_buf_str(&resp),
		  "changes /v1/changes?since=17%20x%2Fy&seq=42&limit=2000");
	gb_buf_reset(&resp);
	CHECK(transport_request(t, "/v1/changes?since=", NULL, 0, &resp,
				&err) == 0);
	CHECK_STR(gb_buf_str(&resp), "changes /v1/changes?since=");
	gb_buf_release(&resp);
}

static void on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* The stop flag: set by a signal while the server keeps silent, and set
 * before a request begins. */
static void test_stop(struct transport *t)
{
	struct sigaction sa;
	struct itimerval it;
	struct gb_buf resp;
	struct gb_err err;
	int s = -1;
	int64_t t0;

	gb_buf_init(&resp, GB_BUF_NOLIMIT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 150 * 1000;
	stop_flag = 0;
	t0 = now_ms();
	CHECK(transport_start(t, "/v1/batches", "hang", 4, &s, &err) == 0);
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(transport_finish(t, s, &resp, &err) == -1);
	CHECK(err.code == GB_EINTR);
	CHECK(stop_flag == 1);
	CHECK(now_ms() - t0 < 1500);

	CHECK(post(t, "吴婷 while stopped", &resp, &err) == -1);
	CHECK(err.code == GB_EINTR);
	stop_flag = 0;
	CHECK(post(t, "吴婷 after the stop", &resp, &err) == 0);
	CHECK_STR(gb_buf_str(&resp), "吴婷 after the stop");
	gb_buf_release(&resp);
}

int main(void)
{
	struct server sv;
	struct transport_opts o = {0};
	struct transport *t = NULL;
	struct gb_err err;
	char *url;

	if (server_start(&sv))
		return 1;
	url = xasprintf("http://127.0.0.1:%d/", sv.port);
	o.url = url;
	o.token = TOKEN;
	o.stop = &stop_flag;
	CHECK(transport_new(&t, &o, &err) == 0);
	if (t) {
		test_window(t, 1);
		CHECK(server_count(&sv, &sv.accepted) == SYNC_WINDOW);
		/* The second time over the same connections. */
		test_window(t, 0);
		CHECK(server_count(&sv, &sv.accepted) == SYNC_WINDOW);
		test_errors(t, url);
		test_abort(t, &sv);
		test_io(t, &sv);
		test_stop(t);
	}
	transport_free(t);
	server_stop(&sv);
	free(url);
	return check_done();
}

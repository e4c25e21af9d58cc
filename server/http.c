/*
 * The HTTP server of gridbook-hq: routing, authentication, body limits and
 * the mapping of errors to statuses.  This is the only file that includes
 * microhttpd.h.  Work is handed to ingest.c (batches, audit entries) and to
 * the store's read side (changes); nothing here writes to the store
 * directly.
 *
 * A batch request is checked as soon as its headers are in: an unknown
 * token (401), a declared Content-Length over the limit (413) or a wrong
 * content type (415) is answered before the body is read.  A chunked
 * body has no length to check there, and libmicrohttpd 0.9.75 cannot
 * queue an answer while a body is still coming in: once such a body
 * passes the limit, what was kept of it is freed, its batch slot given
 * back, and the rest read and counted but not kept, so that the client
 * gets its 413 (with "Connection: close") once the body has ended.  The
 * body deadline bounds how long a client may go on sending; what it
 * costs meanwhile is MHD's read buffer of the connection.
 *
 * Admission comes first (http.h): each connection has its own thread,
 * which costs little while it waits, so hundreds of idle or slow sockets
 * are held; what they may take is bounded instead.  MHD bounds the
 * connections in all and per address; a table per address bounds the
 * rate of requests, a table per device its batches in flight, counters
 * the batches and reports under way.  MHD's own timeout only closes a
 * connection that sends nothing at all, so a watchdog thread closes one
 * that trickles its headers or its body past the deadline (a shutdown
 * of its socket, which wakes its thread), and logs the limits reached
 * once per interval.  A batch held by ingest for the one it follows
 * gives its batch slot back (struct ingest_watch) and is dropped when
 * its connection closes.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conflicts.h"
#include "buf.h"
#include "crypto.h"
#include "dashboard.h"
#include "gbtime.h"
#include "hmap.h"
#include "http.h"
#include "i18n.h"
#include "log.h"
#include "reports.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define CHANGES_LIMIT 500
#define CHANGES_LIMIT_MAX 2000
#define CHANGES_MAX_BYTES (4u << 20)
#define PEM_MAX (1u << 20)
/* MHD closes a connection that sends nothing for this long; the header
 * and body deadlines (http_limits) bound one that sends slowly. */
#define IDLE_TIMEOUT_S 60
/* Each connection has a thread: a small stack lets hundreds of them
 * wait at little cost (the deepest request, a report, needs far less). */
#define THREAD_STACK (512u << 10)
/* How often the watchdog looks at the deadlines. */
#define WATCH_MS 250
/* The table of request rates per address: slots, and how many a lookup
 * probes before it takes over the one refilled longest ago. */
#define RATE_SLOTS 4096
#define RATE_PROBE 8
/* The table of turns per device (batch_turn): slots, and how many a
 * lookup probes before it takes over one whose turn is long past. */
#define TURN_SLOTS 4096
#define TURN_PROBE 8
/* A device's turn is due from this long before the time it was given
 * (the client's timer is not HQ's), and lapses this long after it: a
 * device that does not come back by then queues again. */
#define TURN_EARLY_MS 50
#define TURN_LATE_MS 10000
/* What a batch is taken to cost the writer before it has applied any
 * (ingest_cost_us). */
#define COST_GUESS_US 50000
/* A batch let in whose body has not come whole after this long counts
 * no more in the writer's time under way (slot_open): a client that
 * holds its body back takes a slot of lim.batches, not the queue. */
#define SLOW_BODY_MS 1000
/* Batches under way below which one is let in whatever the turns say,
 * so that the writer never runs dry for a turn not taken. */
#define BATCHES_FLOOR 2
/* The request header with which a client says it takes a turn (a 503
 * at once, with Retry-After-Ms) instead of waiting at HQ for a slot,
 * and the answer's header of that wait in milliseconds. */
#define TURN_HEADER "Gridbook-Admission"
#define RETRY_MS_HEADER "Retry-After-Ms"
/* Retry-After, seconds: of a refusal by rate or by window, by the
 * batches or reports under way, and by a disk short of room. */
#define RETRY_SOON "1"
#define RETRY_BUSY "2"
#define RETRY_FULL "10"

/* The limits that are logged when reached, once per interval. */
enum limit_id {
	L_CONNECTIONS,
	L_RATE,
	L_ROLE,
	L_DEVICE,
	L_BATCHES,
	L_TURNS,
	L_REPORTS,
	L_HEADERS,
	L_BODY,
	L_ROOM,
	L_CLOSED,
	L_COUNT
};

static const char *const limit_names[L_COUNT] = {
    [L_CONNECTIONS] = N_("connections in all or per address"),
    [L_RATE] = N_("requests a second per address"),
    [L_ROLE] = N_("batches refused at the headers for the role"),
    [L_DEVICE] = N_("batches in flight per device"),
    [L_BATCHES] = N_("batches under way"),
    [L_TURNS] = N_("batches given a later turn"),
    [L_REPORTS] = N_("reports computed at once"),
    [L_HEADERS] = N_("header deadline"),
    [L_BODY] = N_("body deadline"),
    [L_ROOM] = N_("free space on the store's disk"),
    [L_CLOSED] = N_("connections closed before their request was whole"),
};

/* One client address's bucket of requests (tokens, refilled at the
 * rate, up to twice the rate). */
struct rate_slot {
	char addr[64]; /* "" when free */
	double tokens;
	int64_t at; /* ms of the last refill */
};

/* A device's turn to send a batch (batch_turn): from at (ms, monotonic)
 * on; since is when it was first turned away in this wait. */
struct turn {
	char id[GB_ID_LEN]; /* "" when free */
	int64_t at, since;
};

/* The batches of one device in flight. */
struct device_count {
	char id[GB_ID_LEN];
	unsigned n;
};

/* What a connection is waiting for, against which deadline. */
enum conn_state { C_HEADERS, C_BODY, C_WORK };

/* One open connection, for the watchdog (MHD's socket context). */
struct conn {
	int fd;
	enum conn_state state;
	int64_t since; /* ms (CLOCK_MONOTONIC) the state began */
	struct conn *prev, *next;
};

/* What HQ offers over TLS (GnuTLS priorities): TLS 1.2 and 1.3 only,
 * key exchange by ephemeral elliptic-curve Diffie-Hellman only, so that
 * a key stolen later opens no recorded session, and AEAD ciphers. */
#define TLS_PRIORITIES                                                         \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:"       \
	"+ECDHE-ECDSA:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"                  \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD"

struct http_server {
	struct MHD_Daemon *d;
	struct store *st;   /* borrowed */
	struct ingest *ing; /* borrowed */
	char *cert, *key;   /* PEM text, kept for the daemon's life */
	struct http_limits lim;
	pthread_mutex_t slot_mu; /* batches, slot_free */
	unsigned batches;	 /* under way, at most lim.batches */
	int slots_closed;	 /* stopping: no more waiting for a slot */
	pthread_cond_t slot_free;
	unsigned slot_waiters;	   /* with slot_mu: batches in slot_wait */
	int64_t turns_end;	   /* with slot_mu: ms, the last turn given */
	unsigned turns_n;	   /* with slot_mu: turns given for turns_end */
	struct request *admitted;  /* with slot_mu: those holding a slot */
	struct turn *turns;	   /* with slot_mu: TURN_SLOTS */
	atomic_uint reports;	   /* being computed, at most lim.reports */
	atomic_uint hits[L_COUNT]; /* limits reached since the last log */
	pthread_mutex_t mu;	   /* conns, devices, rates */
	struct conn *conns;
	struct device_count *devices;
	size_t ndevices, devices_cap;
	struct rate_slot *rates; /* RATE_SLOTS */
	pthread_t watchdog;
	int watching;	     /* the watchdog runs */
	pthread_cond_t wake; /* with mu: the watchdog stops */
	int stopping;
	struct auth_fails fails; /* 401s, audited per address */
};

enum route_id {
	R_HEALTH,
	R_BATCHES,
	R_CHANGES,
	R_REPORTS,
	R_CONFLICTS,
	R_DASHBOARD
};

/* A route whose path ends in '/' takes every path under it, except "/"
 * itself, which is the dashboard and nothing else. */
static const struct route {
	const char *path;
	const char *method;
	enum route_id id;
} routes[] = {
    {"/healthz", MHD_HTTP_METHOD_GET, R_HEALTH},
    {"/v1/batches", MHD_HTTP_METHOD_POST, R_BATCHES},
    {"/v1/changes", MHD_HTTP_METHOD_GET, R_CHANGES},
    {"/v1/reports/", MHD_HTTP_METHOD_GET, R_REPORTS},
    {"/v1/conflicts", MHD_HTTP_METHOD_GET, R_CONFLICTS},
    {"/", MHD_HTTP_METHOD_GET, R_DASHBOARD},
};

/* The state of one request, kept by MHD between calls. */
struct request {
	struct http_server *h;
	const struct route *route;
	struct store_device dev; /* set once authenticated */
	struct gb_buf body;
	int too_big;	    /* the body passed the limit: not kept */
	uint64_t received;  /* bytes of body, kept or not */
	atomic_int counted; /* counts in http_server.batches */
	int device_counted; /* counts in the device's batches in flight */
	int report_counted; /* counts in http_server.reports */
	int fd;		    /* the connection's socket */
	int64_t started;    /* ms (monotonic) its headers were in */
	int64_t waited;	    /* ms its device waited for its turn, or -1 */
	/* With http_server.slot_mu, while counted: its place among those
	 * holding a slot, when it took it (ms), and whether its body is
	 * whole. */
	struct request *sprev, *snext;
	int64_t admitted;
	int whole;
};

/* ---- admission ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void http_limits_default(struct http_limits *l)
{
	l->connections = 2000;
	l->per_address = 600;
	l->rate = 200;
	l->batches = 32;
	l->batch_wait_s = 20;  /* under the client's 30 s without progress */
	l->device_batches = 5; /* SYNC_WINDOW of client/sync.h */
	l->reports = 8;
	l->header_s = 10;
	l->body_s = 60;
	l->log_s = 10;
	l->bulk_nice = 0;
	/* Turns: at 100 devices started together they bring the batch
	 * p99 under 500 ms at no loss of throughput (BENCHMARKS.md,
	 * "Turns on by default"). */
	l->queue_ms = 100;
}

static void limit_hit(struct http_server *h, enum limit_id id)
{
	atomic_fetch_add(&h->hits[id], 1);
}

/* 1 when addr may make one more request now (a token taken from its
 * bucket), 0 when it is over the rate. */
static int rate_take(struct http_server *h, const char *addr)
{
	uint32_t hash = gb_hash(addr, strlen(addr));
	struct rate_slot *slot = NULL, *oldest = NULL;
	int64_t now = mono_ms();
	double cap = 2.0 * h->lim.rate;
	int ok;

	pthread_mutex_lock(&h->mu);
	for (unsigned i = 0; i < RATE_PROBE; i++) {
		struct rate_slot *sl = &h->rates[(hash + i) % RATE_SLOTS];

		if (!strcmp(sl->addr, addr)) {
			slot = sl;
			break;
		}
		if (!oldest || !sl->addr[0] || sl->at < oldest->at)
			oldest = sl;
	}
	if (!slot) {
		/* A new address, or one that has not been seen since its
		 * slot was taken: a full bucket. */
		slot = oldest;
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
		slot->tokens = cap;
		slot->at = now;
	}
	slot->tokens += (double)(now - slot->at) * h->lim.rate / 1000.0;
	if (slot->tokens > cap)
		slot->tokens = cap;
	slot->at = now;
	ok = slot->tokens >= 1.0;
	if (ok)
		slot->tokens -= 1.0;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

/* Counts one more batch in flight of device id: returns 1, or 0 when it
 * has lim.device_batches already. */
static int device_take(struct http_server *h, const char *id)
{
	struct device_count *d = NULL;
	int ok = 1;

	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->ndevices; i++)
		if (!strcmp(h->devices[i].id, id))
			d = &h->devices[i];
	if (!d) {
		if (h->ndevices == h->devices_cap) {
			h->devices_cap =
			    h->devices_cap ? 2 * h->devices_cap : 64;
			h->devices = xrealloc(
			    h->devices, h->devices_cap * sizeof(*h->devices));
		}
		d = &h->devices[h->ndevices++];
		snprintf(d->id, sizeof(d->id), "%s", id);
		d->n = 0;
	}
	/* lim.device_batches is at least 1, so a new entry is taken. */
	if (d->n >= h->lim.device_batches)
		ok = 0;
	else
		d->n++;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static void device_give(struct http_server *h, const char *id)
{
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->ndevices; i++) {
		struct device_count *d = &h->devices[i];

		if (strcmp(d->id, id) != 0)
			continue;
		if (--d->n == 0)
			*d = h->devices[--h->ndevices];
		break;
	}
	pthread_mutex_unlock(&h->mu);
}

/*
 * The writer's group for lim.queue_ms: n, the most batches whose group
 * (about commit + n * apply, ingest_cost_us) takes half of it, at least
 * 1, and *group_ms that group's time.  A batch let in waits at most for
 * the group being applied and then its own: about lim.queue_ms.
 */
static unsigned group_size(struct http_server *h, int64_t *group_ms)
{
	int64_t apply, commit, n;

	ingest_cost_us(h->ing, &apply, &commit);
	if (apply <= 0)
		apply = COST_GUESS_US;
	n = ((int64_t)h->lim.queue_ms * 500 - commit) / apply;
	if (n < 1)
		n = 1;
	if (2 * n > (int64_t)h->lim.batches)
		n = h->lim.batches / 2 ? h->lim.batches / 2 : 1;
	if (group_ms) {
		*group_ms = (commit + n * apply) / 1000;
		if (*group_ms < 1)
			*group_ms = 1;
	}
	return (unsigned)n;
}

/* How many batches may be under way: a group being applied and the next
 * one waiting for it (at least BATCHES_FLOOR, at most lim.batches). */
static unsigned batches_allowed(struct http_server *h)
{
	unsigned n = 2 * group_size(h, NULL);

	if (n < BATCHES_FLOOR)
		n = BATCHES_FLOOR;
	return n < h->lim.batches ? n : h->lim.batches;
}

/* 1 when one more batch may be let in, with slot_mu held: fewer than
 * batches_allowed() (and over) of those whose bodies are whole or
 * coming are under way, and fewer than lim.batches in all.  over is 1
 * for a device whose turn is due: the turns are spaced by an estimate,
 * and a group that finds the writer a little behind is let in, not sent
 * back to wait again. */
static int slot_open_over(struct http_server *h, unsigned over)
{
	int64_t now = mono_ms();
	unsigned n = 0;

	if (h->slots_closed || h->batches >= h->lim.batches)
		return 0;
	if (!h->lim.queue_ms)
		return 1;
	/* Those whose bodies are slow to come are not the writer's yet. */
	for (const struct request *r = h->admitted; r; r = r->snext)
		if (r->whole || now - r->admitted < SLOW_BODY_MS)
			n++;
	return n < batches_allowed(h) + over;
}

static int slot_open(struct http_server *h)
{
	return slot_open_over(h, 0);
}

/* Takes the slot for r, with slot_mu held. */
static void slot_take(struct request *r)
{
	struct http_server *h = r->h;

	h->batches++;
	r->admitted = mono_ms();
	r->sprev = NULL;
	r->snext = h->admitted;
	if (h->admitted)
		h->admitted->sprev = r;
	h->admitted = r;
	atomic_store(&r->counted, 1);
}

/* Notes, with slot_mu taken here, that r's body is whole. */
static void slot_whole(struct request *r)
{
	pthread_mutex_lock(&r->h->slot_mu);
	r->whole = 1;
	pthread_mutex_unlock(&r->h->slot_mu);
}

/* Waits on slot_free, with slot_mu held, until a slot is open, HQ stops
 * or until (ms, monotonic) passes: returns slot_open(). */
static int slot_wait(struct http_server *h, int64_t until)
{
	for (;;) {
		int64_t now = mono_ms(), wake = now + WATCH_MS;
		struct timespec ts;

		if (slot_open(h) || h->slots_closed || now >= until)
			break;
		/* A slow body stops counting without a signal: looked at
		 * again every WATCH_MS, when that counts (with turns).
		 * Without, a waiter wakes only when signalled, so that the
		 * one signalled takes the slot given back. */
		if (wake > until || !h->lim.queue_ms)
			wake = until;
		ts.tv_sec = (time_t)(wake / 1000);
		ts.tv_nsec = (long)(wake % 1000) * 1000000;
		pthread_cond_timedwait(&h->slot_free, &h->slot_mu, &ts);
	}
	return slot_open(h);
}

/* The turn of device id, with slot_mu held, or NULL when it has none;
 * with make, a free entry (or one whose turn lapsed) is taken for it,
 * NULL when all those it may use are in use. */
static struct turn *turn_find(struct http_server *h, const char *id,
			      int64_t now, int make)
{
	uint32_t hash = gb_hash(id, strlen(id));
	struct turn *spare = NULL;

	for (unsigned i = 0; i < TURN_PROBE; i++) {
		struct turn *t = &h->turns[(hash + i) % TURN_SLOTS];
		int lapsed = !t->id[0] || t->at + TURN_LATE_MS < now;

		if (!lapsed && !strcmp(t->id, id))
			return t;
		if (lapsed && !spare)
			spare = t;
	}
	if (!make || !spare)
		return NULL;
	snprintf(spare->id, sizeof(spare->id), "%s", id);
	spare->since = now;
	spare->at = 0;
	return spare;
}

/* The next turn (ms, monotonic), with slot_mu held: turns go by groups
 * of group_size(), one group's time apart, so that each group of
 * devices comes back together while the writer applies the one before
 * and is applied as one group. */
static int64_t turn_next(struct http_server *h, int64_t now)
{
	int64_t group_ms;
	unsigned n = group_size(h, &group_ms);

	if (h->turns_end <= now) {
		/* The batches under way are the group before. */
		h->turns_end = now + group_ms;
		h->turns_n = 0;
	} else if (h->turns_n >= n) {
		h->turns_end += group_ms;
		h->turns_n = 0;
	}
	h->turns_n++;
	return h->turns_end;
}

/*
 * 1 when, with slot_mu held, the writer has no queue but that of device
 * id: none of the batches under way that slot_open() counts is another
 * device's, and no turn given is still to come.  Such a device competes
 * with no one (not even a client that waits here for a slot, one that
 * does not take turns), and its batches wait for its own only: its window of
 * batches in flight (lim.device_batches) may be more than
 * batches_allowed() of a slow writer, and a turn would only send it away
 * from an HQ it alone is using.
 */
static int device_alone(struct http_server *h, const char *id, int64_t now)
{
	if (h->turns_end > now || h->slot_waiters)
		return 0;
	for (const struct request *r = h->admitted; r; r = r->snext)
		if ((r->whole || now - r->admitted < SLOW_BODY_MS) &&
		    strcmp(r->dev.id, id) != 0)
			return 0;
	return 1;
}

/*
 * Takes one of the batch slots for r: returns 1, or 0 with *retry_ms the
 * wait HQ asks for (0: none, HQ is stopping or the wait ran out).  A
 * slot is open while fewer batches are under way than two of the
 * writer's groups for lim.queue_ms (batches_allowed), so that a batch
 * let in is applied within about that long.
 *
 * A client that takes turns (turns) never waits here: a batch that finds
 * no open slot, or finds devices with turns given before it, is
 * answered at once with a turn, the time from which its device may send
 * it again (turn_next: by groups, one group's time apart, so that the
 * batches come back as fast as the writer applies them and the wait is
 * the client's, not HQ's).  A device holds one turn at a time (its other
 * batches in flight get the same one).  A device whose turn is due is
 * let in before the others, whatever the queue holds, up to lim.batches
 * (the turns follow an estimate, and one sent back would only come
 * again); when all of those are taken it keeps its place, one group's
 * time later.  Turns spread out devices that compete: a device with no
 * turn that is alone (device_alone) is let in up to lim.batches, never
 * given a turn.  lim.queue_ms 0 gives no turns: every batch waits here.
 * Its wait, from its first turn to the slot, goes to r->waited.
 *
 * Any other client waits here up to lim.batch_wait_s for an open slot,
 * before its body is read, so a waiting batch costs its connection and
 * no more (TCP holds its body back).
 */
static int batch_slot_take(struct request *r, int turns, int64_t *retry_ms)
{
	struct http_server *h = r->h;
	int64_t now = mono_ms(), at;
	struct turn *t;
	int ok = 0, due;

	*retry_ms = 0;
	pthread_mutex_lock(&h->slot_mu);
	if (!turns || !h->lim.queue_ms) {
		h->slot_waiters++;
		ok = slot_wait(h, now + (int64_t)h->lim.batch_wait_s * 1000);
		h->slot_waiters--;
		if (ok)
			slot_take(r);
		goto out;
	}
	t = turn_find(h, r->dev.id, now, 0);
	due = t && t->at <= now + TURN_EARLY_MS;
	if (due || (!t && device_alone(h, r->dev.id, now)))
		ok = slot_open_over(h, h->lim.batches);
	else
		ok = slot_open(h) &&
		     (h->turns_end <= now || h->batches < BATCHES_FLOOR);
	if (ok) {
		slot_take(r);
		if (t) {
			r->waited = mono_ms() - t->since;
			t->id[0] = '\0';
		}
		goto out;
	}
	if (h->slots_closed)
		goto out;
	now = mono_ms();
	if (!t) {
		/* In line, after the last turn given; a turn is given only
		 * when it can be kept, or the device would come back to no
		 * turn and take another place in a group.  With none free it
		 * is turned away as busy (*retry_ms stays 0). */
		t = turn_find(h, r->dev.id, now, 1);
		if (!t)
			goto out;
		at = turn_next(h, now);
		t->at = at;
	} else if (due) {
		/* Its turn came while the writer was behind: it keeps its
		 * place, one group's time later. */
		int64_t group_ms;

		group_size(h, &group_ms);
		at = now + group_ms;
		t->at = at;
	} else {
		at = t->at;
	}
	*retry_ms = at > now ? at - now : 1;
out:
	pthread_mutex_unlock(&h->slot_mu);
	return ok;
}

/* Gives r's batch slot back, once (when ingest holds the batch, or when
 * the request ends). */
static void batch_slot_give(struct request *r)
{
	struct http_server *h = r->h;

	if (!atomic_exchange(&r->counted, 0))
		return;
	pthread_mutex_lock(&h->slot_mu);
	if (r->sprev)
		r->sprev->snext = r->snext;
	else
		h->admitted = r->snext;
	if (r->snext)
		r->snext->sprev = r->sprev;
	h->batches--;
	pthread_cond_signal(&h->slot_free);
	pthread_mutex_unlock(&h->slot_mu);
}

/* ingest_watch: the batch waits for the one it follows. */
static void watch_held(void *arg)
{
	batch_slot_give(arg);
}

/* ingest_watch: 1 when the peer closed r's connection or it failed. */
static int watch_gone(void *arg)
{
	const struct request *r = arg;
	struct pollfd p = {.fd = r->fd, .events = POLLRDHUP};

	if (r->fd < 0)
		return 0;
	if (poll(&p, 1, 0) < 0)
		return 0;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Sets the deadline state of connection c. */
static void conn_state(struct http_server *h, struct MHD_Connection *c,
		       enum conn_state state)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *cn = ci ? ci->socket_context : NULL;

	if (!cn)
		return;
	pthread_mutex_lock(&h->mu);
	cn->state = state;
	cn->since = mono_ms();
	pthread_mutex_unlock(&h->mu);
}

static void notify_connection(void *cls, struct MHD_Connection *c,
			      void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *h = cls;
	struct conn *cn = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		cn = xcalloc(1, sizeof(*cn));
		cn->fd = ci ? ci->connect_fd : -1;
		cn->state = C_HEADERS;
		cn->since = mono_ms();
		pthread_mutex_lock(&h->mu);
		cn->next = h->conns;
		if (h->conns)
			h->conns->prev = cn;
		h->conns = cn;
		pthread_mutex_unlock(&h->mu);
		*socket_context = cn;
		return;
	}
	if (!cn)
		return;
	pthread_mutex_lock(&h->mu);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		h->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	pthread_mutex_unlock(&h->mu);
	free(cn);
	*socket_context = NULL;
}

/* Closes the connections past their header or body deadline, with h->mu
 * held.  shutdown(), not close(): the socket stays MHD's, and its
 * thread, woken, sees the end of the stream and closes it. */
static void deadlines(struct http_server *h, int64_t now)
{
	int64_t head = (int64_t)h->lim.header_s * 1000;
	int64_t body = (int64_t)h->lim.body_s * 1000;

	for (struct conn *cn = h->conns; cn; cn = cn->next) {
		int over = (cn->state == C_HEADERS && now - cn->since > head) ||
			   (cn->state == C_BODY && now - cn->since > body);

		if (!over || cn->fd < 0)
			continue;
		shutdown(cn->fd, SHUT_RDWR);
		limit_hit(h, cn->state == C_HEADERS ? L_HEADERS : L_BODY);
		cn->state = C_WORK; /* once is enough */
	}
}

static void limits_log(struct http_server *h)
{
	for (int i = 0; i < L_COUNT; i++) {
		unsigned n = atomic_exchange(&h->hits[i], 0);

		if (n)
			log_warnx(_("limit reached: %s, %u times in the "
				    "last %u s"),
				  _(limit_names[i]), n, h->lim.log_s);
	}
}

static void *watchdog_main(void *arg)
{
	struct http_server *h = arg;
	int64_t next_log = mono_ms() + (int64_t)h->lim.log_s * 1000;
	struct timespec ts;

	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		int64_t now = mono_ms(), wake = now + WATCH_MS;

		deadlines(h, now);
		if (now >= next_log) {
			pthread_mutex_unlock(&h->mu);
			limits_log(h);
			pthread_mutex_lock(&h->mu);
			next_log = now + (int64_t)h->lim.log_s * 1000;
		}
		ts.tv_sec = (time_t)(wake / 1000);
		ts.tv_nsec = (long)(wake % 1000) * 1000000;
		pthread_cond_timedwait(&h->wake, &h->mu, &ts);
	}
	pthread_mutex_unlock(&h->mu);
	limits_log(h);
	return NULL;
}

/* ---- answers ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *type, const void *data, size_t len,
			     const char *const *headers)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)data,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	for (; headers && headers[0]; headers += 2)
		MHD_add_response_header(resp, headers[0], headers[1]);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
				  const char *msg, const char *const *headers)
{
	char line[320];

	snprintf(line, sizeof(line), "%s\n", msg);
	return reply(c, status, "text/plain; charset=utf-8", line, strlen(line),
		     headers);
}

static unsigned err_status(const struct gb_err *err)
{
	if (err->code == GB_EINTR)
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	return (unsigned)gb_code_http(err->code);
}

static void peer(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci;
	socklen_t len;

	snprintf(out, n, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	len = ci->client_addr->sa_family == AF_INET6
		  ? sizeof(struct sockaddr_in6)
		  : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, out, (socklen_t)n, NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(out, n, "?");
}

/* Writes an audit entry through the writer (best effort: a failure is
 * logged).  detail must hold no token and no personal data. */
static void audit(struct http_server *h, const struct request *r,
		  const char *action, unsigned status, const char *detail,
		  const char *remote)
{
	struct store_audit a = {
	    .at = gb_now_ms(),
	    .device = r && r->dev.id[0] ? r->dev.id : NULL,
	    .grid = r ? r->dev.grid : "",
	    .action = action,
	    .status = (int)status,
	    .detail = detail,
	    .remote = remote,
	};
	struct gb_err aerr;

	if (ingest_audit(h->ing, &a, &aerr) < 0)
		log_warnx("audit log: %s", aerr.msg);
}

/*
 * The audit entry of a refusal before any device is known (a 401, or a
 * request refused for its framing), when one is due: such refusals cost
 * nothing to send, so they are counted per address and status
 * (auth_fails) and written once per interval with their count.
 */
static void audit_anonymous(struct http_server *h, const char *action,
			    unsigned status, const char *remote,
			    const char *why)
{
	char key[80], detail[320], since_text[32];
	int64_t since;
	long count;

	snprintf(key, sizeof(key), "%s %u", remote, status);
	if (!auth_fails_note(&h->fails, key, gb_now_ms(), &count, &since))
		return;
	gb_time_format(since, since_text);
	snprintf(detail, sizeof(detail), "%ld refused since %s; last: %s",
		 count, since_text, why);
	audit(h, NULL, action, status, detail, remote);
}

/* Writes the counts auth_fails still holds ("ADDRESS STATUS" keys). */
static void audit_anonymous_flush(void *arg, const char *key, long count,
				  int64_t since)
{
	struct http_server *h = arg;
	char remote[80], detail[160], since_text[32];
	const char *sp = strrchr(key, ' ');
	unsigned status = sp ? (unsigned)strtoul(sp + 1, NULL, 10) : 0;

	snprintf(remote, sizeof(remote), "%.*s",
		 sp ? (int)(sp - key) : (int)strlen(key), key);
	gb_time_format(since, since_text);
	snprintf(detail, sizeof(detail), "%ld refused since %s", count,
		 since_text);
	audit(h, NULL, "http", status, detail, remote);
}

/* Answers an error.  Every refusal of a client's request (4xx) is written
 * to the audit log first: one entry each when the device is known, else
 * at most one per address and status per interval, with a count
 * (audit_anonymous).  A 401 says how to authenticate. */
static enum MHD_Result reply_err(struct http_server *h,
				 struct MHD_Connection *c, struct request *r,
				 const char *action, const struct gb_err *err)
{
	static const char *const www_auth[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					       "Bearer", NULL};
	unsigned status = err_status(err);
	char remote[64];

	peer(c, remote, sizeof(remote));
	if (status == MHD_HTTP_UNAUTHORIZED ||
	    (status >= 400 && status < 500 && !r->dev.id[0]))
		audit_anonymous(h, action, status, remote, err->msg);
	else if (status >= 400 && status < 500)
		audit(h, r, action, status, err->msg, remote);
	log_warnx("%s from %s%s%s: %u %s", action, remote,
		  r->dev.id[0] ? " device " : "", r->dev.id, status, err->msg);
	return reply_text(c, status, err->msg,
			  status == MHD_HTTP_UNAUTHORIZED ? www_auth : NULL);
}

/* An answer of status with msg, audited like reply_err's. */
static enum MHD_Result reply_refusal(struct http_server *h,
				     struct MHD_Connection *c,
				     struct request *r, const char *action,
				     unsigned status, const char *msg,
				     const char *const *headers)
{
	char remote[64];

	peer(c, remote, sizeof(remote));
	if (r->dev.id[0])
		audit(h, r, action, status, msg, remote);
	else
		audit_anonymous(h, action, status, remote, msg);
	log_warnx("%s from %s: %u %s", action, remote, status, msg);
	return reply_text(c, status, msg, headers);
}

/* ---- routes ---- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* 1 when the media type in value (parameters after ';' ignored) is want. */
static int media_is(const char *value, const char *want)
{
	size_t n = strlen(want);

	if (!value)
		return 0;
	while (*value == ' ')
		value++;
	return strncasecmp(value, want, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

static const char *const retry_soon[] = {MHD_HTTP_HEADER_RETRY_AFTER,
					 RETRY_SOON, NULL};
static const char *const retry_busy[] = {MHD_HTTP_HEADER_RETRY_AFTER,
					 RETRY_BUSY, NULL};
static const char *const retry_full[] = {MHD_HTTP_HEADER_RETRY_AFTER,
					 RETRY_FULL, NULL};
/* A 413 whose body was not read, or read and dropped: the connection
 * is not kept for another request. */
static const char *const conn_close[] = {MHD_HTTP_HEADER_CONNECTION, "close",
					 NULL};

/* The checks of a batch that need only the headers, cheapest and most
 * telling first: the token and its role, the declared size and types,
 * the room on the store's disk, then the slots (the device's, then one
 * of all), each taken only once the checks before it passed. */
static enum MHD_Result batch_start(struct http_server *h,
				   struct MHD_Connection *c, struct request *r)
{
	const char *len = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct gb_err err;
	unsigned long long n;
	int64_t wait_ms;
	int turns;
	char *end, msg[160];

	if (auth_bearer(h->st, header(c, MHD_HTTP_HEADER_AUTHORIZATION),
			&r->dev, &err) < 0) {
		memset(&r->dev, 0, sizeof(r->dev));
		return reply_err(h, c, r, "batch", &err);
	}
	if (auth_may_sync(&r->dev, &err) < 0) {
		limit_hit(h, L_ROLE);
		return reply_err(h, c, r, "batch", &err);
	}
	if (len) {
		errno = 0;
		n = strtoull(len, &end, 10);
		if (!errno && end != len && n > WIRE_MAX_BODY) {
			/* Before the body: with Expect: 100-continue the
			 * client never sends it. */
			snprintf(msg, sizeof(msg),
				 _("body of %llu bytes is over the limit of "
				   "%u bytes"),
				 n, WIRE_MAX_BODY);
			return reply_refusal(h, c, r, "batch",
					     MHD_HTTP_CONTENT_TOO_LARGE, msg,
					     conn_close);
		}
	}
	if (!media_is(header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
		      "application/x-protobuf"))
		return reply_refusal(h, c, r, "batch",
				     MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				     _("Content-Type must be "
				       "application/x-protobuf"),
				     NULL);
	if (!media_is(header(c, MHD_HTTP_HEADER_CONTENT_ENCODING), "deflate"))
		return reply_refusal(
		    h, c, r, "batch", MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    _("Content-Encoding must be deflate"), NULL);
	if (h->st->ops->room(h->st, &err) < 0) {
		limit_hit(h, L_ROOM);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, err.msg,
				  retry_full);
	}
	if (!device_take(h, r->dev.id)) {
		limit_hit(h, L_DEVICE);
		snprintf(msg, sizeof(msg),
			 _("device %s has %u batches in flight, the limit: "
			   "wait for their acks"),
			 r->dev.id, h->lim.device_batches);
		return reply_text(c, MHD_HTTP_TOO_MANY_REQUESTS, msg,
				  retry_soon);
	}
	r->device_counted = 1;
	turns = header(c, TURN_HEADER) &&
		!strcasecmp(header(c, TURN_HEADER), "turn");
	if (!batch_slot_take(r, turns, &wait_ms)) {
		char secs[24], ms[24];
		const char *turn[] = {MHD_HTTP_HEADER_RETRY_AFTER, secs,
				      RETRY_MS_HEADER, ms, NULL};

		if (!wait_ms) {
			limit_hit(h, L_BATCHES);
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  _("busy: too many batches at once; "
					    "try again shortly"),
					  retry_busy);
		}
		/* Whole seconds, rounded up, for a client that reads only
		 * Retry-After. */
		limit_hit(h, L_TURNS);
		snprintf(secs, sizeof(secs), "%" PRId64,
			 (wait_ms + 999) / 1000);
		snprintf(ms, sizeof(ms), "%" PRId64, wait_ms);
		snprintf(msg, sizeof(msg),
			 _("busy: the device's turn comes in %" PRId64 " ms"),
			 wait_ms);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg, turn);
	}
	return MHD_YES; /* now the body */
}

static enum MHD_Result batch_finish(struct http_server *h,
				    struct MHD_Connection *c, struct request *r)
{
	const struct ingest_watch watch = {watch_held, watch_gone, r};
	struct wire_batch b;
	struct gb_buf ack;
	struct gb_err err;
	enum MHD_Result ret;
	char remote[64];

	slot_whole(r);
	if (r->too_big) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 _("body of %llu bytes is over the limit of %u bytes"),
			 (unsigned long long)r->received, WIRE_MAX_BODY);
		return reply_refusal(h, c, r, "batch",
				     MHD_HTTP_CONTENT_TOO_LARGE, msg,
				     conn_close);
	}
	if (wire_batch_decode(r->body.data, r->body.len, &b, &err) < 0) {
		gb_error_prefix(&err, "batch");
		return reply_err(h, c, r, "batch", &err);
	}
	gb_buf_release(&r->body);
	gb_buf_init(&ack, GB_BUF_NOLIMIT);
	peer(c, remote, sizeof(remote));
	if (ingest_batch_watched(h->ing, &r->dev, remote, &b, &ack, &watch,
				 &err) < 0) {
		if (err.code == GB_EBUSY) {
			/* Transient: the device sends it again. */
			log_info("batch %" PRIu64 " of device %s: 503 %s",
				 b.hdr.seq, r->dev.id, err.msg);
			ret = reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					 err.msg, retry_busy);
		} else {
			ret = reply_err(h, c, r, "batch", &err);
		}
	} else {
		/* The time from the headers to the ack, held time and
		 * all, and the wait for its turn before those headers
		 * (batch_slot_take): bench/load_bench.sh reads them. */
		if (r->waited >= 0)
			log_info("batch %" PRIu64 " of device %s (%s): "
				 "waited %" PRId64 " ms for its turn, then "
				 "%zu records in %" PRId64 " ms",
				 b.hdr.seq, r->dev.id, r->dev.grid, r->waited,
				 b.n, mono_ms() - r->started);
		else
			log_info("batch %" PRIu64 " of device %s (%s): %zu "
				 "records in %" PRId64 " ms",
				 b.hdr.seq, r->dev.id, r->dev.grid, b.n,
				 mono_ms() - r->started);
		ret = reply(c, MHD_HTTP_OK, "application/x-protobuf",
			    ack.data ? ack.data : "", ack.len, NULL);
	}
	gb_buf_release(&ack);
	wire_batch_release(&b);
	return ret;
}

/* Parses a cursor "REF.SEQ" made by changes(); "" is the start. */
static int cursor_parse(const char *s, uint64_t *ref, uint64_t *seq)
{
	unsigned long long a, b;
	char *end;

	*ref = 0;
	*seq = 0;
	if (!s || !*s)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	a = strtoull(s, &end, 10);
	if (errno || *end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoull(end + 1, &end, 10);
	/* Both halves are bound as SQLite INTEGER, which is signed: a
	 * cursor HQ gave never reaches 2^63. */
	if (errno || *end || a > INT64_MAX || b > INT64_MAX)
		return -1;
	*ref = a;
	*seq = b;
	return 0;
}

static enum MHD_Result changes(struct http_server *h, struct MHD_Connection *c,
			       struct request *r)
{
	static const char *const deflated[] = {MHD_HTTP_HEADER_CONTENT_ENCODING,
					       "deflate", NULL};
	const char *since, *lim, *own, *exclude;
	struct store_changes ch;
	uint64_t ref, seq, asked = 0, high = 0;
	unsigned long long limit = CHANGES_LIMIT;
	struct gb_buf out;
	struct gb_err err;
	enum MHD_Result ret;
	char *end;

	if (auth_bearer(h->st, header(c, MHD_HTTP_HEADER_AUTHORIZATION),
			&r->dev, &err) < 0) {
		memset(&r->dev, 0, sizeof(r->dev));
		return reply_err(h, c, r, "changes", &err);
	}
	if (auth_may_sync(&r->dev, &err) < 0)
		return reply_err(h, c, r, "changes", &err);
	since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	if (cursor_parse(since, &ref, &seq) < 0) {
		gb_error(&err, GB_EUSAGE,
			 _("since: \"%.40s\" is not a cursor given by "
			   "/v1/changes"),
			 since);
		return reply_err(h, c, r, "changes", &err);
	}
	lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	if (lim) {
		errno = 0;
		limit = strtoull(lim, &end, 10);
		if (errno || end == lim || *end || limit < 1 ||
		    limit > CHANGES_LIMIT_MAX) {
			gb_error(&err, GB_EUSAGE,
				 _("limit: \"%.20s\" is not a number from 1 "
				   "to %d"),
				 lim, CHANGES_LIMIT_MAX);
			return reply_err(h, c, r, "changes", &err);
		}
	}
	/* seq=N: the device's own high-water batch number.  When HQ holds
	 * batches of it numbered above that, its file was restored from an
	 * older copy: its own records come back too (proto Ack).  Serving a
	 * device its own records grants nothing it could not read anyway. */
	exclude = r->dev.id;
	own = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seq");
	if (own) {
		errno = 0;
		asked = strtoull(own, &end, 10);
		if (errno || end == own || *end || *own < '0' || *own > '9') {
			gb_error(&err, GB_EUSAGE,
				 _("seq: \"%.20s\" is not a batch number"),
				 own);
			return reply_err(h, c, r, "changes", &err);
		}
		if (h->st->ops->batch_high(h->st, r->dev.id, 1, &high, &err) <
		    0)
			return reply_err(h, c, r, "changes", &err);
		if (high > asked)
			exclude = NULL;
	}
	if (h->st->ops->changes(h->st, r->dev.grid, ref, seq, exclude,
				(size_t)limit, CHANGES_MAX_BYTES, &ch,
				&err) < 0)
		return reply_err(h, c, r, "changes", &err);
	ch.page.device_seq = high;
	snprintf(ch.page.next_cursor, sizeof(ch.page.next_cursor),
		 "%" PRIu64 ".%" PRIu64, ch.ref_version, ch.next_seq);
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	if (wire_page_encode(&ch.page, &out, &err) < 0)
		ret = reply_err(h, c, r, "changes", &err);
	else
		ret = reply(c, MHD_HTTP_OK, "application/x-protobuf",
			    out.data ? out.data : "", out.len, deflated);
	/* Caught up: the device's last sync, even when it had nothing to
	 * send.  A failure here costs only that mark. */
	if (!ch.page.more &&
	    ingest_seen(h->ing, r->dev.id, r->dev.grid, &err) < 0)
		log_warnx(_("device %s: noting its sync: %s"), r->dev.id,
			  err.msg);
	gb_buf_release(&out);
	store_changes_release(&ch);
	return ret;
}

/* 1 when an Accept header value lists text/csv. */
static int accepts_csv(const char *accept)
{
	while (accept && *accept) {
		if (media_is(accept, "text/csv"))
			return 1;
		accept = strchr(accept, ',');
		if (accept)
			accept++;
	}
	return 0;
}

/* GET /v1/reports/NAME?level=&from=&to=: the report as JSON, or as CSV
 * when the client accepts text/csv (or asks with format=csv); with
 * list=NAME, that one drill-down list as CSV.  Viewer
 * devices only; any other token is refused with 403 and audited. */
static enum MHD_Result report_in(struct http_server *h,
				 struct MHD_Connection *c, struct request *r,
				 const char *url)
{
	const char *name = url + strlen("/v1/reports/");
	const char *format =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	const char *list =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "list");
	int csv = accepts_csv(header(c, MHD_HTTP_HEADER_ACCEPT)) ||
		  (format && !strcmp(format, "csv")) || list;
	struct report *rep = NULL;
	struct gb_buf out;
	struct gb_err err;
	enum MHD_Result ret;

	if (auth_bearer(h->st, header(c, MHD_HTTP_HEADER_AUTHORIZATION),
			&r->dev, &err) < 0) {
		memset(&r->dev, 0, sizeof(r->dev));
		return reply_err(h, c, r, "report", &err);
	}
	if (reports_may_read(&r->dev, &err) < 0)
		return reply_err(h, c, r, "report", &err);
	r->report_counted = 1;
	if (atomic_fetch_add(&h->reports, 1) >= h->lim.reports) {
		limit_hit(h, L_REPORTS);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  _("busy: too many reports at once; try "
				    "again shortly"),
				  retry_busy);
	}
	if (report_run(
		h->st, name,
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "level"),
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from"),
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to"),
		gb_now_ms(), &rep, &err) < 0)
		return reply_err(h, c, r, "report", &err);
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	if ((list  ? report_write_list_csv(rep, list, &out, &err)
	     : csv ? report_write_csv(rep, &out, &err)
		   : report_write_json(rep, &out, &err)) < 0)
		ret = reply_err(h, c, r, "report", &err);
	else
		ret = reply(c, MHD_HTTP_OK,
			    csv ? "text/csv; charset=utf-8"
				: "application/json; charset=utf-8",
			    out.data ? out.data : "", out.len, NULL);
	gb_buf_release(&out);
	report_free(rep);
	return ret;
}

/* A report in the language the request asks for: ?lang=, else
 * Accept-Language, else the server's.  Titles and labels are translated
 * while the answer is written, so this thread's locale is switched for
 * that time only. */
static enum MHD_Result report(struct http_server *h, struct MHD_Connection *c,
			      struct request *r, const char *url)
{
	const char *asked =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
	enum gb_lang lang =
	    gb_lang_accept(header(c, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	locale_t loc, old = (locale_t)0;
	struct gb_err err;
	enum MHD_Result ret;

	if (asked && gb_lang_parse(asked, &lang, &err) < 0)
		return reply_err(h, c, r, "report", &err);
	loc = gb_i18n_locale(lang);
	if (loc != (locale_t)0)
		old = uselocale(loc);
	ret = report_in(h, c, r, url);
	if (loc != (locale_t)0)
		uselocale(old);
	return ret;
}

/* GET /v1/conflicts[?grid=G][&limit=N][&after=CURSOR]: the field
 * conflicts held, as JSON (conflicts.h): of every grid or of G for a
 * viewer device; of its own grid for a field device, and 403 (audited)
 * for another grid.  A page holds up to N (CONFLICTS_PAGE_DEFAULT when
 * not named), and names the cursor of the next as "next". */
static enum MHD_Result conflicts(struct http_server *h,
				 struct MHD_Connection *c, struct request *r)
{
	const char *grid =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "grid");
	const char *use = NULL;
	struct conflicts_page page;
	struct gb_buf out;
	struct gb_err err;
	enum MHD_Result ret;

	if (auth_bearer(h->st, header(c, MHD_HTTP_HEADER_AUTHORIZATION),
			&r->dev, &err) < 0) {
		memset(&r->dev, 0, sizeof(r->dev));
		return reply_err(h, c, r, "conflicts", &err);
	}
	if (conflicts_may_read(&r->dev, grid, &use, &err) < 0)
		return reply_err(h, c, r, "conflicts", &err);
	if (conflicts_page_parse(
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"),
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"),
		&page, &err) < 0)
		return reply_err(h, c, r, "conflicts", &err);
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	if (conflicts_write(h->st, use, CONFLICTS_JSON, &page, &out, &err) < 0)
		ret = reply_err(h, c, r, "conflicts", &err);
	else
		ret = reply(c, MHD_HTTP_OK, "application/json; charset=utf-8",
			    out.data ? out.data : "", out.len, NULL);
	gb_buf_release(&out);
	return ret;
}

/* GET /: the dashboard page.  It holds no data (the reports it shows are
 * fetched with the viewer token the user types in), so no token is asked
 * for here. */
static enum MHD_Result dashboard(struct http_server *h,
				 struct MHD_Connection *c, struct request *r)
{
	static const char *const hdrs[] = {
	    "Cache-Control",
	    "no-store",
	    "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; "
	    "script-src 'unsafe-inline'; connect-src 'self'",
	    "X-Content-Type-Options",
	    "nosniff",
	    NULL};
	struct gb_buf out;
	struct gb_err err;
	enum MHD_Result ret;

	gb_buf_init(&out, GB_BUF_NOLIMIT);
	if (dashboard_page(&out, &err) < 0)
		ret = reply_err(h, c, r, "dashboard", &err);
	else
		ret = reply(c, MHD_HTTP_OK, "text/html; charset=utf-8",
			    out.data, out.len, hdrs);
	gb_buf_release(&out);
	return ret;
}

/* ---- the MHD callbacks ---- */

/* How a request says where its body ends. */
struct framing {
	int content_length;    /* Content-Length headers */
	int transfer_encoding; /* Transfer-Encoding headers */
};

static enum MHD_Result framing_count(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	(void)value;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
		f->content_length++;
	else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		f->transfer_encoding++;
	return MHD_YES;
}

/* Refuses a request whose body has more than one length: two
 * Content-Length headers, or one beside Transfer-Encoding.  A proxy in
 * front of HQ may read such a request as ending elsewhere than HQ does,
 * and take the rest for another request (request smuggling).  Returns
 * NULL when the framing is sound, else the message of the 400. */
static const char *framing_check(struct MHD_Connection *c)
{
	struct framing f = {0, 0};

	MHD_get_connection_values(c, MHD_HEADER_KIND, framing_count, &f);
	if (f.content_length > 1)
		return _("Content-Length: sent more than once");
	if (f.content_length && f.transfer_encoding)
		return _("Content-Length: sent beside Transfer-Encoding");
	if (f.transfer_encoding > 1)
		return _("Transfer-Encoding: sent more than once");
	return NULL;
}

/* GET /healthz when all is well: "ok", and in headers for a monitor
 * (and the tests) the batches under way and those held. */
static enum MHD_Result health(struct http_server *h, struct MHD_Connection *c)
{
	char under[16], held[24];
	const char *hdrs[] = {"X-Batches-Under-Way", under, "X-Batches-Held",
			      held, NULL};

	pthread_mutex_lock(&h->slot_mu);
	snprintf(under, sizeof(under), "%u", h->batches);
	pthread_mutex_unlock(&h->slot_mu);
	snprintf(held, sizeof(held), "%zu", ingest_held(h->ing));
	return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n", 3,
		     hdrs);
}

/* Lowers the priority of this connection's thread to lim.bulk_nice: it
 * sends batches or pulls changes, work that may wait a few ms for a
 * report or /healthz.  Each connection has its own thread (MHD's thread
 * per connection) and on Linux the nice value is the thread's, so the
 * other connections keep theirs; this one keeps it for its next
 * requests, which a laptop's are too (a thread may not raise its
 * priority again unprivileged). */
static void bulk(struct http_server *h)
{
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) < (int)h->lim.bulk_nice && !errno)
		setpriority(PRIO_PROCESS, 0, (int)h->lim.bulk_nice);
}

/* Finds the route of a request when its headers are in.  Answers 404 and
 * 405 at once, and checks a batch's headers before its body is read. */
static enum MHD_Result start(struct http_server *h, struct MHD_Connection *c,
			     struct request *r, const char *url,
			     const char *method)
{
	const struct route *path = NULL;
	const char *allow[3] = {MHD_HTTP_HEADER_ALLOW, NULL, NULL};
	const char *bad = framing_check(c);
	char msg[160];

	if (bad)
		return reply_refusal(h, c, r, "http", MHD_HTTP_BAD_REQUEST, bad,
				     NULL);

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);

		if (strcmp(url, routes[i].path) == 0 ||
		    (n > 1 && routes[i].path[n - 1] == '/' &&
		     strncmp(url, routes[i].path, n) == 0 && url[n]))
			path = &routes[i];
	}
	/* /healthz is left out of the rate, so that a monitor sees a
	 * flood for what it is. */
	if (!path || path->id != R_HEALTH) {
		char addr[64];

		peer(c, addr, sizeof(addr));
		if (!rate_take(h, addr)) {
			limit_hit(h, L_RATE);
			snprintf(msg, sizeof(msg),
				 _("%s is over the limit of %u requests a "
				   "second"),
				 addr, h->lim.rate);
			return reply_text(c, MHD_HTTP_TOO_MANY_REQUESTS, msg,
					  retry_soon);
		}
	}
	if (!path) {
		snprintf(msg, sizeof(msg), _("no such resource: %.100s"), url);
		return reply_text(c, MHD_HTTP_NOT_FOUND, msg, NULL);
	}
	if (strcmp(method, path->method) != 0) {
		allow[1] = path->method;
		snprintf(msg, sizeof(msg), _("%s takes %s only"), path->path,
			 path->method);
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, msg, allow);
	}
	r->route = path;
	if (path->id == R_BATCHES || path->id == R_CHANGES)
		bulk(h);
	if (path->id == R_BATCHES)
		return batch_start(h, c, r);
	return MHD_YES;
}

/* Answers a request once it has been received whole.  (Answering a GET
 * in the first call, before MHD knows the request is complete, would
 * close the connection after the answer.) */
static enum MHD_Result finish(struct http_server *h, struct MHD_Connection *c,
			      struct request *r, const char *url)
{
	struct gb_err err;

	conn_state(h, c, C_WORK);
	switch (r->route->id) {
	case R_HEALTH:
		/* A store short of room still serves reports and changes,
		 * but a monitor must see that it refuses batches. */
		if (h->st->ops->room(h->st, &err) < 0)
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  err.msg, retry_full);
		return health(h, c);
	case R_CHANGES:
		return changes(h, c, r);
	case R_BATCHES:
		return batch_finish(h, c, r);
	case R_REPORTS:
		return report(h, c, r, url);
	case R_CONFLICTS:
		return conflicts(h, c, r);
	case R_DASHBOARD:
		return dashboard(h, c, r);
	}
	return MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct http_server *h = cls;
	struct request *r = *con_cls;

	(void)version;
	if (!r) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		    c, MHD_CONNECTION_INFO_CONNECTION_FD);

		r = xcalloc(1, sizeof(*r));
		r->h = h;
		r->fd = ci ? ci->connect_fd : -1;
		r->started = mono_ms();
		r->waited = -1;
		atomic_init(&r->counted, 0);
		gb_buf_init(&r->body, WIRE_MAX_BODY);
		*con_cls = r;
		conn_state(h, c, C_BODY);
		return start(h, c, r, url, method);
	}
	if (*upload_size) {
		r->received += *upload_size;
		if (!r->too_big &&
		    (r->route->id != R_BATCHES ||
		     gb_buf_add(&r->body, upload, *upload_size, NULL) < 0)) {
			/* gb_buf released what it held; a body on a GET is
			 * not wanted either.  The rest is only counted, and
			 * the slot is for a batch that can be taken. */
			r->too_big = 1;
			gb_buf_release(&r->body);
			batch_slot_give(r);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return finish(h, c, r, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct http_server *h = cls;
	struct request *r = *con_cls;

	(void)toe;
	if (!r)
		return;
	batch_slot_give(r);
	if (r->device_counted)
		device_give(h, r->dev.id);
	if (r->report_counted)
		atomic_fetch_sub(&h->reports, 1);
	conn_state(h, c, C_HEADERS); /* the next request on it, if any */
	gb_buf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *h = cls;
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	/* MHD says so for every connection refused at a limit: counted,
	 * and logged once per interval instead. */
	if (strstr(line, "connection limit") || strstr(line, "per-IP") ||
	    strstr(line, "per IP")) {
		limit_hit(h, L_CONNECTIONS);
		return;
	}
	/* And for every connection that goes before its request is whole
	 * (a deadline, a client that gave up): counted too. */
	if (strstr(line, "closed") &&
	    (strstr(line, "reading request") || strstr(line, "incomplete"))) {
		limit_hit(h, L_CLOSED);
		return;
	}
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warnx("http: %s", line);
}

/* ---- start and stop ---- */

static int resolve(const char *listen, struct sockaddr_storage *ss,
		   int *loopback, struct gb_err *err)
{
	char host[256], port[16];
	const char *colon;
	struct addrinfo hints, *res = NULL;
	size_t hn;
	int rc;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			goto bad;
		hn = (size_t)(close - listen - 1);
		colon = close + 1;
		listen++;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			goto bad;
		hn = (size_t)(colon - listen);
	}
	if (hn == 0 || hn >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	memcpy(host, listen, hn);
	host[hn] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || !res)
		return gb_error(err, GB_EUSAGE, _("--listen %s: %s"), listen,
				gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	} else {
		*loopback = 0;
	}
	return 0;
bad:
	return gb_error(err, GB_EUSAGE,
			_("--listen: \"%s\" is not HOST:PORT or [V6]:PORT"),
			listen);
}

/* Reads a PEM file whole into a new string the caller frees. */
static int read_pem(const char *path, char **out, struct gb_err *err)
{
	struct gb_buf b;
	char chunk[4096];
	size_t n;
	int rc = -1;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return gb_error(err, GB_EIO, "%s: %s", path, strerror(errno));
	gb_buf_init(&b, PEM_MAX);
	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), fp);
		if (n == 0)
			break;
		if (gb_buf_add(&b, chunk, n, err) < 0) {
			gb_error_prefix(err, "%s", path);
			goto out;
		}
	}
	if (ferror(fp) || b.len == 0) {
		gb_error(err, GB_EIO, _("%s: empty or unreadable"), path);
		goto out;
	}
	*out = gb_buf_detach(&b, NULL);
	rc = 0;
out:
	gb_wipe(chunk, sizeof(chunk));
	gb_buf_release(&b);
	fclose(fp);
	return rc;
}

/*
 * Opens the listening socket of ss (the address where, as given) as MHD
 * would: SO_REUSEADDR, so that a restart binds past the connections of
 * the last one still in TIME_WAIT, IPv6 only on an IPv6 address, and the
 * system's backlog.  HQ opens it itself, so that an address it cannot
 * have is told once, naming the address and why; MHD, given the
 * address, would say "Failed to bind to port 0" (the port argument HQ
 * leaves 0) before HQ's own line.  Returns the socket, or -1 with err.
 */
static int listen_open(const struct sockaddr_storage *ss, const char *where,
		       struct gb_err *err)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	int on = 1, fd, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		errno = e;
		goto fail;
	}
	return fd;
fail:
	return gb_error(err, GB_EIO, _("cannot listen on %s: %s"), where,
			strerror(errno));
}

int http_check(const struct http_config *cfg, struct gb_err *err)
{
	struct sockaddr_storage ss;
	int loopback = 0, tls = cfg->tls_cert || cfg->tls_key;

	if (resolve(cfg->listen, &ss, &loopback, err) < 0)
		return -1;
	if (tls && !(cfg->tls_cert && cfg->tls_key))
		return gb_error(err, GB_EUSAGE,
				_("TLS needs both --tls-cert and --tls-key"));
	if (!loopback && !tls)
		return gb_error(err, GB_EUSAGE,
				_("--listen %s is not a loopback address: "
				  "plain HTTP is for loopback only; give "
				  "--tls-cert and --tls-key"),
				cfg->listen);
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return gb_error(err, GB_EUSAGE,
				_("this libmicrohttpd was built without TLS"));
	if (!cfg->limits.connections || !cfg->limits.per_address ||
	    !cfg->limits.rate || !cfg->limits.batches ||
	    !cfg->limits.batch_wait_s || !cfg->limits.device_batches ||
	    !cfg->limits.reports || !cfg->limits.header_s ||
	    !cfg->limits.body_s || !cfg->limits.log_s)
		return gb_error(err, GB_EUSAGE,
				_("every limit must be 1 or more"));
	if (cfg->limits.per_address > cfg->limits.connections)
		return gb_error(err, GB_EUSAGE,
				_("--max-address-connections (%u) is over "
				  "--max-connections (%u)"),
				cfg->limits.per_address,
				cfg->limits.connections);
	return 0;
}

int http_start(struct http_server **out, const struct http_config *cfg,
	       struct store *st, struct ingest *ing, struct gb_err *err)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	/* poll(), not select(): with hundreds of connections their sockets
	 * are past FD_SETSIZE. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int loopback = 0, tls = cfg->tls_cert || cfg->tls_key, rc, fd;
	struct MHD_OptionItem tls_opts[4] = {{MHD_OPTION_END, 0, NULL}};
	pthread_condattr_t ca;

	gb_err_clear(err);
	atomic_init(&h->reports, 0);
	for (int i = 0; i < L_COUNT; i++)
		atomic_init(&h->hits[i], 0);
	auth_fails_init(&h->fails, AUTH_FAIL_INTERVAL_MS);
	h->st = st;
	h->ing = ing;
	h->lim = cfg->limits;
	h->rates = xcalloc(RATE_SLOTS, sizeof(*h->rates));
	h->turns = xcalloc(TURN_SLOTS, sizeof(*h->turns));
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->slot_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_cond_init(&h->slot_free, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&h->watchdog, NULL, watchdog_main, h);
	if (rc != 0) {
		gb_error(err, GB_EINTERNAL,
			 _("starting the watchdog thread: %s"), strerror(rc));
		goto fail;
	}
	h->watching = 1;
	if (http_check(cfg, err) < 0 ||
	    resolve(cfg->listen, &ss, &loopback, err) < 0)
		goto fail;
	if (tls) {
		if (read_pem(cfg->tls_cert, &h->cert, err) < 0 ||
		    read_pem(cfg->tls_key, &h->key, err) < 0)
			goto fail;
		flags |= MHD_USE_TLS;
		tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT,
						      0, h->cert};
		tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY,
						      0, h->key};
		tls_opts[2] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The socket becomes MHD's: it closes it when it stops, and on its
	 * ways to fail after it took it (a bad certificate among them); a
	 * failure before that leaves it open to the end of HQ, which then
	 * exits. */
	fd = listen_open(&ss, cfg->listen, err);
	if (fd < 0)
		goto fail;
	h->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
	    MHD_OPTION_CONNECTION_LIMIT, h->lim.connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->lim.per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
	    MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!h->d) {
		gb_error(err, GB_EIO,
			 _("cannot serve on %s (with TLS: a bad certificate "
			   "or key)"),
			 cfg->listen);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	http_stop(h);
	return -1;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	/* The batches waiting for a slot are refused (503) rather than
	 * keeping the stop waiting. */
	pthread_mutex_lock(&h->slot_mu);
	h->slots_closed = 1;
	pthread_cond_broadcast(&h->slot_free);
	pthread_mutex_unlock(&h->slot_mu);
	if (h->d) {
		MHD_stop_daemon(h->d);
		/* The refusals counted since their last entry: no request
		 * is under way now, and the writer still runs. */
		auth_fails_flush(&h->fails, audit_anonymous_flush, h);
	}
	auth_fails_release(&h->fails);
	if (h->watching) {
		pthread_mutex_lock(&h->mu);
		h->stopping = 1;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->watchdog, NULL);
	}
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->slot_free);
	pthread_mutex_destroy(&h->slot_mu);
	pthread_mutex_destroy(&h->mu);
	free(h->rates);
	free(h->turns);
	free(h->devices);
	if (h->key)
		gb_wipe(h->key, strlen(h->key));
	free(h->key);
	free(h->cert);
	free(h);
}

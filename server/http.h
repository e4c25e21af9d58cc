/*
 * The HTTP face of gridbook-hq (SPEC §7), on libmicrohttpd:
 *   POST /v1/batches   a deflated protobuf Batch from a device token;
 *                      answers the Ack protobuf
 *   GET  /v1/changes   ?since=CURSOR&limit=N: a deflated ChangesPage of
 *                      the caller's grid
 *   GET  /healthz      "ok"
 * Errors are answered as one line of text naming what was wrong, with the
 * status of gb_code_http(); every 403 is also written to the audit log.
 * Each connection has its own thread, so a request may wait for the group
 * commit of ingest.c without holding up the others.
 *
 * Admission (SPEC §6) is decided before a body is read: requests per
 * second of an address (429), the token and its role (a viewer's batch
 * is refused at its headers), the batches of one device in flight (429),
 * the batches under way in all (a batch waits a while for one of them
 * before its body is read, then 503) and the reports computed at once
 * (503),
 * the room left on the store's disk (503); connections in all and per
 * address are held to their limits when accepted.  Every 429 and 503
 * carries Retry-After (seconds).  A client that sends
 * "Gridbook-Admission: turn" with its batch does not wait at HQ for a
 * slot: it is given a turn, a 503 with Retry-After-Ms too, the
 * milliseconds until its device may send again, turns one writer's
 * batch time apart, so that a district's batches wait on the laptops
 * and come back about as fast as the writer applies them.  A connection that
 * does not finish its headers, or its body, within its deadline is closed.
 * Reaching a limit is logged at most once per interval, with a count.
 */
#ifndef GB_HTTP_H
#define GB_HTTP_H

#include "err.h"
#include "ingest.h"
#include "store.h"

struct http_server;

/* The admission limits; 0 is not a valid value for any of them. */
struct http_limits {
	unsigned connections;	 /* open connections in all */
	unsigned per_address;	 /* open connections of one client address */
	unsigned rate;		 /* requests a second of one address; a
				    burst of twice as many is let through */
	unsigned batches;	 /* batches received, decoded or applied at
				    once (a batch held for the one it follows
				    is not counted) */
	unsigned batch_wait_s;	 /* how long a batch waits, before its body
				    is read, for one of those (a client that
				    takes turns does not wait) */
	unsigned queue_ms;	 /* the writer's time the batches under way
				    may hold (each costs what the writer
				    took for one lately): past it a batch
				    waits, or is given a turn */
	unsigned device_batches; /* batches of one device in flight, held
				    ones too: the client's window */
	unsigned reports;	 /* reports computed at once */
	unsigned header_s;	 /* from a connection's start, or the end of
				    its last request, to its headers */
	unsigned body_s;	 /* from the headers to the end of the body */
	unsigned log_s;		 /* limits reached are logged this often */
	unsigned bulk_nice;	 /* nice value (0-19) of the writer and of
				    the connections that send batches or pull
				    changes, so that reports and /healthz
				    get a CPU first */
};

/* Fills l with the defaults (shown by gridbook-hq serve --help). */
void http_limits_default(struct http_limits *l);

struct http_config {
	const char *listen;   /* "HOST:PORT", "[V6]:PORT" */
	const char *tls_cert; /* PEM file, or NULL */
	const char *tls_key;  /* PEM file, or NULL */
	struct http_limits limits;
};

/* Checks cfg without starting anything: the listen address parses, and
 * one that is not loopback comes with tls_cert and tls_key (GB_EUSAGE). */
int http_check(const struct http_config *cfg, struct gb_err *err);

/*
 * Starts serving.  A listen address that is not loopback is refused
 * (GB_EUSAGE) unless both tls_cert and tls_key are given; plain HTTP is
 * for loopback only.  st and ing are borrowed and must outlive the server.
 * On success *out is stopped and freed with http_stop().
 */
int http_start(struct http_server **out, const struct http_config *cfg,
	       struct store *st, struct ingest *ing, struct gb_err *err);
/* Stops accepting, lets the requests in progress finish, frees h. */
void http_stop(struct http_server *h);

#endif

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
 */
#ifndef GB_HTTP_H
#define GB_HTTP_H

#include "err.h"
#include "ingest.h"
#include "store.h"

struct http_server;

struct http_config {
	const char *listen;   /* "HOST:PORT", "[V6]:PORT" */
	const char *tls_cert; /* PEM file, or NULL */
	const char *tls_key;  /* PEM file, or NULL */
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

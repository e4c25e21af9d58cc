/*
 * The HTTP transport of sync: the one module of gridbook that talks to
 * libcurl.  It posts batches to and fetches change pages from one HQ
 * server over one reused connection, one request at a time, which may be
 * left running while the caller works (transport_start, transport_poll,
 * transport_finish), with the rules of SPEC §6: TLS with
 * certificate verification (optionally against a given CA file), plain
 * HTTP only to a loopback address, bounded waits so that a stalled link
 * is cut off instead of hanging the daemon, and capped answers.  An HTTP
 * error becomes a gb_err carrying the server's own message.
 */
#ifndef GB_TRANSPORT_H
#define GB_TRANSPORT_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "sync.h"

struct transport; /* opaque */

struct transport_opts {
	const char *url;    /* the server's base URL; borrowed for the call */
	const char *token;  /* the device token; copied, wiped on free */
	const char *cacert; /* a PEM CA file to trust instead of the
			       system's, or NULL */
	/* Polled during a transfer: when it becomes non-zero the request is
	 * abandoned with GB_EINTR.  May be NULL; borrowed for the life of
	 * the transport. */
	const volatile sig_atomic_t *stop;
	/* 0 for the defaults: 10 s to connect; a transfer slower than
	 * 100 bytes/s for 30 s is cut off. */
	long connect_timeout_ms;
	long low_speed_time_s;
};

/*
 * Checks a server URL: http or https, a host, no user name or password,
 * and plain http only when the host is a loopback address (127.0.0.0/8,
 * ::1, localhost).  Returns 0 or -1 with err (GB_EUSAGE) saying what is
 * wrong.
 */
int transport_check_url(const char *url, struct gb_err *err);

/* Makes a transport for o->url (checked as above).  The caller frees it
 * with transport_free(). */
int transport_new(struct transport **out, const struct transport_opts *o,
		  struct gb_err *err);
/* Closes the connection and wipes the token; NULL is a no-op. */
void transport_free(struct transport *t);

/* The functions sync.c calls, bound to t (which must outlive io). */
void transport_io(struct transport *t, struct sync_io *io);

/*
 * One request: POST body (Content-Type application/x-protobuf,
 * Content-Encoding deflate) when body is not NULL, else GET.  path starts
 * with "/" and is appended to the base URL.  The answer's body is
 * appended to resp (at most WIRE_MAX_BODY bytes).  Returns 0 for a 2xx
 * answer, or -1 with err: GB_EIO for a network failure or a 5xx, the
 * code of the status (401 GB_EAUTH, 403 GB_EFORBIDDEN, 409 GB_ECONFLICT,
 * 413 GB_ETOOBIG, other 4xx GB_EPROTO) with the server's message, or
 * GB_EINTR when stopped.
 */
int transport_request(struct transport *t, const char *path, const void *body,
		      size_t len, struct gb_buf *resp, struct gb_err *err);

/*
 * The same request in three steps, so that the caller can work while it
 * runs.  transport_start begins it (body is borrowed until
 * transport_finish returns) and sends what the connection takes at once;
 * it fails only when the request cannot begin (GB_EINTERNAL, or another
 * request still running), and then transport_finish must not be called.
 * transport_poll moves the request on, waiting at most wait_ms for the
 * network: 1 when it has ended, 0 while it runs.  transport_finish waits
 * for the end and returns as transport_request does.
 */
int transport_start(struct transport *t, const char *path, const void *body,
		    size_t len, struct gb_err *err);
int transport_poll(struct transport *t, int wait_ms);
int transport_finish(struct transport *t, struct gb_buf *resp,
		     struct gb_err *err);

#endif

/*
 * The HTTP transport of sync: the one module of gridbook that talks to
 * libcurl.  It posts batches to and fetches change pages from one HQ
 * server, up to SYNC_WINDOW requests at once, each on a connection of its
 * own, kept and reused from one request to the next.  A request may be
 * left running while the caller works (transport_start, transport_poll,
 * transport_finish, transport_abort), with the rules of SPEC §6: TLS with
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
#include "sync_io.h"

struct transport; /* opaque */

struct transport_opts {
	const char *url;    /* the server's base URL; borrowed for the call */
	const char *token;  /* the device token; copied, wiped on free */
	const char *cacert; /* a PEM CA file to trust instead of the
			       system's, or NULL */
	/* "sha256//BASE64[;sha256//...]": HQ's public key must be one of
	 * these (CURLOPT_PINNEDPUBLICKEY), or NULL. */
	const char *pin;
	/* A proxy for https (never for plain http), or NULL for none: the
	 * proxy variables of the environment are never used. */
	const char *proxy;
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
/* Closes the connections, abandoning the requests still running, and
 * wipes the token; NULL is a no-op. */
void transport_free(struct transport *t);

/* The functions sync.c calls, bound to t (which must outlive io): a post
 * is a request of its own (its handle is its slot), post_poll moves all
 * of them on, get_changes is transport_request. */
void transport_io(struct transport *t, struct sync_io *io);

/*
 * One request: POST body (Content-Type application/x-protobuf,
 * Content-Encoding deflate) when body is not NULL, else GET.  path starts
 * with "/" and is appended to the base URL.  The answer's body is
 * appended to resp (at most WIRE_MAX_BODY bytes).  Returns 0 for a 2xx
 * answer, or -1 with err: GB_EIO for a network failure or a 5xx other
 * than 503, GB_EBUSY for 503 or 429 (the server asks to come back a
 * little later; its Retry-After is kept for sync_io.retry_after_ms),
 * the code of the status (401 GB_EAUTH, 403 GB_EFORBIDDEN, 404
 * GB_ENOTFOUND, 409 GB_ECONFLICT, 413 GB_ETOOBIG, other 4xx GB_EPROTO),
 * each with the server's message quoted, or GB_EINTR when stopped.  It
 * takes a free slot (see below), and fails with GB_EINTERNAL when all
 * SYNC_WINDOW are running.
 */
int transport_request(struct transport *t, const char *path, const void *body,
		      size_t len, struct gb_buf *resp, struct gb_err *err);

/*
 * The same request in steps, so that the caller can work while it runs
 * and run up to SYNC_WINDOW of them at once, each in a slot of its own.
 *
 * transport_start begins a request in a free slot and sets *slot to it
 * (0 .. SYNC_WINDOW - 1); body is borrowed until transport_finish or
 * transport_abort of that slot returns.  It sends what the connection
 * takes at once.  It fails only when the request cannot begin (then
 * *slot is left alone and there is nothing to finish): GB_EINTERNAL when
 * all SYNC_WINDOW slots run a request, or when curl cannot set it up.
 *
 * transport_poll moves every running request on, waiting at most wait_ms
 * (0: not at all) for the network: 1 when the request in slot has ended
 * (or none runs there), 0 while it runs.
 *
 * transport_finish waits for the end of the request in slot, moving the
 * others on meanwhile, frees the slot and returns as transport_request
 * does; when the stop flag becomes set while it waits, it returns
 * GB_EINTR.  A slot with no request gives GB_EINTERNAL.
 *
 * transport_abort abandons the request in slot at once, whatever state
 * it is in, and frees the slot: its answer is never read, and a transfer
 * not ended takes its connection down with it (the server may have acted
 * on the request or not).  A slot with no request is left alone.
 */
int transport_start(struct transport *t, const char *path, const void *body,
		    size_t len, int *slot, struct gb_err *err);
int transport_poll(struct transport *t, int slot, int wait_ms);
int transport_finish(struct transport *t, int slot, struct gb_buf *resp,
		     struct gb_err *err);
void transport_abort(struct transport *t, int slot);

#endif

/*
 * The two requests of the sync protocol as the sync engine (sync.h)
 * calls them, and the window they share: the interface between the
 * engine and a transport that carries them (transport.h over libcurl,
 * or a test's own).  Apart from sync.h so that a transport sits below
 * the engine and needs nothing of it.
 */
#ifndef GB_SYNC_IO_H
#define GB_SYNC_IO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Batches on the wire at once in a push (see sync.c). */
#define SYNC_WINDOW 5

/*
 * The two requests of the protocol.  A batch is posted in steps so that
 * the engine can build the next batch while batches are on the wire, and
 * have up to SYNC_WINDOW of them there at once: post_start begins a
 * request and gives its handle, post_poll lets requests move on without
 * waiting, post_finish waits for the end of one, post_abort abandons one.
 * Answers are appended to resp; the calls that end a request return 0, or
 * -1 with err (GB_EIO when the server could not be reached or failed,
 * GB_EBUSY when HQ said to send again later, GB_EINTR when stopped,
 * GB_ECONFLICT when HQ holds another batch under this number, other codes
 * as the server said).
 */
struct sync_io {
	/* Begins POST /v1/batches with a deflated Batch; body is borrowed
	 * until post_finish or post_abort of the request.  Returns 0 with
	 * *req its handle (0 .. SYNC_WINDOW - 1, not in use by another
	 * request), or -1 with err when the request cannot begin (nothing
	 * is then to finish). */
	int (*post_start)(void *arg, const void *body, size_t len, int *req,
			  struct gb_err *err);
	/* Moves the requests on without blocking.  May be NULL. */
	void (*post_poll)(void *arg);
	/* Waits for request req to end; the answer is an Ack. */
	int (*post_finish)(void *arg, int req, struct gb_buf *resp,
			   struct gb_err *err);
	/* Abandons request req at once, whatever state it is in: its
	 * answer is not read (HQ may have applied it or not). */
	void (*post_abort)(void *arg, int req);
	/* GET /v1/changes?since=cursor ("" for the start)&seq=seq (the
	 * device's own high-water batch number, proto Ack); the answer is a
	 * deflated ChangesPage.  Never while a post is running. */
	int (*get_changes)(void *arg, const char *cursor, uint64_t seq,
			   struct gb_buf *resp, struct gb_err *err);
	/* After a request failed with GB_EBUSY: how long HQ asked to wait
	 * (its Retry-After, in ms), -1 when it did not say; reading it
	 * forgets it.  May be NULL. */
	long (*retry_after_ms)(void *arg);
	/* 1 when that wait was HQ's turn for this device, to the
	 * millisecond (Retry-After-Ms): HQ spaced the turns, so little
	 * jitter is added.  May be NULL. */
	int (*retry_exact)(void *arg);
	void *arg;
};

#endif

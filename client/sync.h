/*
 * The sync engine (SPEC §4, §5), shared by `gridbook sync` and
 * gridbook-syncd.  Up: the outbox of the grid file is drained in batches
 * of bounded record count and size; each batch is numbered and written
 * down before it is sent, so that after a crash or a kill the same batch
 * goes again and HQ answers it with the ack it stored, and the ack is
 * recorded (outbox rows removed, refusals kept for the user) in one
 * transaction.  Down: pages of /v1/changes bring reference data and the
 * other devices' records, each page applied with the new cursor in one
 * transaction.  Nothing is lost and nothing is sent twice as a new batch,
 * whenever the process dies.
 *
 * The engine does no network input/output of its own: it calls a struct
 * sync_io, which transport.c implements over libcurl and the unit tests
 * implement in memory.
 */
#ifndef GB_SYNC_H
#define GB_SYNC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "sync_io.h"

#define SYNC_MAX_RECORDS 500
#define SYNC_MAX_BYTES (256u << 10)

/* How long one round waits in all, by default, on an HQ that says "busy"
 * (503 or 429) before it gives up; and the cap of one wait. */
#define SYNC_RETRY_FOR_MS 300000L
#define SYNC_RETRY_CAP_MS 30000L
/* The most a wait for a turn HQ gave (Retry-After-Ms) is lengthened by
 * at random: HQ spaced the turns already. */
#define SYNC_TURN_JITTER_MS 20L

/* A laptop's clock further off HQ's than this is told so at sync, and its
 * versions written too far ahead are re-stamped only once it is nearer
 * (SPEC §4, clocks). */
#define SYNC_CLOCK_OFF_MS (5 * 60000L)

struct sync_opts {
	size_t max_records; /* per batch; 0 for SYNC_MAX_RECORDS */
	size_t max_bytes;   /* packed records per batch; 0 for default */
	/* Checked between batches and pages; when it becomes non-zero the
	 * round stops with GB_EINTR.  May be NULL; borrowed. */
	const volatile sig_atomic_t *stop;
	/* Called after each acknowledged batch with the records
	 * acknowledged so far in this round and the number there were to
	 * send (which grows when records are written meanwhile).  May be
	 * NULL. */
	void (*progress)(void *arg, long done, long total);
	void *progress_arg;
	/* How long a round may wait in all on an HQ that is busy (GB_EBUSY:
	 * 503, 429) before it fails: each time it waits what HQ asked
	 * (Retry-After) plus a random part ("full jitter") below a cap that
	 * doubles from 500 ms up to SYNC_RETRY_CAP_MS, then resumes from the
	 * first batch not acknowledged.  0 for SYNC_RETRY_FOR_MS, negative:
	 * never wait. */
	long retry_for_ms;
	/* Called before each such wait with its length and HQ's answer; may
	 * be NULL.  sleep_ms does the waiting (NULL: the real clock, cut
	 * short by stop); tests pass their own. */
	void (*busy)(void *arg, long wait_ms, const struct gb_err *why);
	void (*sleep_ms)(void *arg, long ms);
	void *busy_arg;
};

/* What one round did. */
struct sync_result {
	long batches;
	long sent; /* records acknowledged, whatever their status */
	long accepted, duplicate, stale, rejected, conflict;
	long waiting;	 /* of rejected, refused for now: sent again later */
	long busy_waits; /* times HQ said busy and the round waited */
	long turns;	 /* of those, waits for a turn HQ gave: the rest
			    of the round sends one batch at a time */
	long received;	 /* records pulled down */
	long applied;	 /* of those, became the current version here */
	long refused;	 /* pulled records that could not be read or stored */
	int ref_updated; /* reference data was replaced */
	/* HQ's clock (Ack.server_time) at the last ack of the round, 0 when
	 * no ack came, and how far it was ahead of this laptop's. */
	int64_t hq_time;
	int64_t hq_skew;
	long restamped; /* waiting versions given a version HQ takes */
};

/*
 * One round: puts the versions refused for now back into the outbox
 * (sync_retry), pushes everything pending, batch after batch (building each
 * while the one before is on the wire), then pulls every page of changes;
 * an HQ that says busy is waited for and the round goes on (see
 * sync_opts.retry_for_ms).
 * res (zeroed first) says what happened, also after a failure.  On
 * failure the error is also recorded in the file as the last error (sync
 * status shows it).  Returns 0 or -1 with err.
 */
int sync_round(struct gb_db *db, const struct sync_io *io,
	       const struct sync_opts *o, struct sync_result *res,
	       struct gb_err *err);

/* The two halves of a round, for tests and for callers that want one.
 * sync_push_batch sends one batch: 1 when one was sent and its ack
 * recorded, 0 when nothing was pending, -1 on error.  Neither records
 * the last error. */
int sync_push(struct gb_db *db, const struct sync_io *io,
	      const struct sync_opts *o, struct sync_result *res,
	      struct gb_err *err);
int sync_push_batch(struct gb_db *db, const struct sync_io *io,
		    const struct sync_opts *o, struct sync_result *res,
		    struct gb_err *err);
int sync_pull(struct gb_db *db, const struct sync_io *io,
	      const struct sync_opts *o, struct sync_result *res,
	      struct gb_err *err);

/* Records err as the last error, with the time (best effort): in the
 * grid file, or when it cannot take it (a full disk) in the small file
 * beside it that sync setup makes (FILE-sync-error), which
 * sync_status_get reads too. */
void sync_note_error(struct gb_db *db, const struct gb_err *err);

/* Where to sync to, kept in the grid file's meta.  Strings owned, NULL
 * when unset; release with sync_config_release (which wipes the token). */
struct sync_config {
	char *server;
	char *token;
	char *cacert;
	char *pin;   /* sha256//... of HQ's public key */
	char *proxy; /* for https only */
};

void sync_config_get(struct gb_db *db, struct sync_config *c);
void sync_config_release(struct sync_config *c);
/* Checks the settings sync_config_set would store, without the file:
 * the server URL (transport_check_url), the token's characters and that a
 * cacert file is readable.  Returns 0 or -1 with err (GB_EUSAGE). */
int sync_config_check(const char *server, const char *token, const char *cacert,
		      struct gb_err *err);
/* Stores the settings that are not NULL ("" clears cacert), checked first
 * (sync_config_check).  Returns 0 or -1 with err. */
int sync_config_set(struct gb_db *db, const char *server, const char *token,
		    const char *cacert, struct gb_err *err);
/* A --token argument: only "-" (read it from standard input) or none;
 * a token itself is refused, since the command lines of a machine are
 * visible to all its users.  Returns 0 or -1 with err (GB_EUSAGE). */
int sync_token_arg(const char *arg, struct gb_err *err);
/* Checks a public key pin ("sha256//BASE64", ';' between several) and a
 * proxy URL (http:// or https://); NULL or "" passes.  Returns 0 or -1
 * with err (GB_EUSAGE) naming the option. */
int sync_config_check_tls(const char *pin, const char *proxy,
			  struct gb_err *err);
/* Stores the pin and proxy that are not NULL ("" clears one), checked
 * first.  Returns 0 or -1 with err. */
int sync_config_set_tls(struct gb_db *db, const char *pin, const char *proxy,
			struct gb_err *err);

/*
 * Makes id this file's device id: HQ gives a device its id when an
 * administrator enrolls it (gridbook-hq device enroll), and accepts only
 * versions written under that id.  The versions written here under the
 * old id (current and in history) take the new one, in one transaction,
 * so that those not sent yet go as the enrolled device's.  Fails with
 * GB_EUSAGE when id is not a UUID.
 */
int sync_device_set(struct gb_db *db, const char *id, struct gb_err *err);

/* A version HQ refused or set aside. */
struct sync_attention {
	char id[GB_ID_LEN];
	uint64_t version;
	char kind[32];
	char status[16];      /* "rejected", "conflict" or "waiting" */
	char reason_code[32]; /* "invalid", "forbidden" ... */
	char *reason;	      /* owned */
	int64_t at;	      /* ms UTC, when the ack came */
	char *title;	      /* owned: the record's title, or NULL */
};

struct sync_status {
	long pending; /* outbox rows */
	/* Versions refused for now, sent again by the next round
	 * (status "waiting"); owned, newest first. */
	struct sync_attention *wait;
	size_t nwait;
	/* Set while the file pulls its own records back from HQ (restored
	 * from an older copy): the high-water it had then. */
	uint64_t own_from;
	int64_t oldest;	   /* ms UTC of the oldest unsent version, 0 */
	uint64_t next_seq; /* the number of the next new batch */
	/* The first batch written down but not acknowledged (sent, or
	 * about to be), 0 when none; another may wait behind it. */
	uint64_t inflight;
	long inflight_records;
	int64_t last_ok;	    /* ms UTC, 0 when never */
	int64_t last_error_at;	    /* ms UTC, 0 when never */
	char *last_error;	    /* owned, NULL when never */
	char *server;		    /* owned, NULL when not set up */
	char *cursor;		    /* owned, NULL before the first pull */
	struct sync_attention *att; /* owned, newest first */
	size_t natt;
	/* HQ's clock at the last ack, 0 when none came yet, and how far it
	 * was ahead of this laptop's then (negative: behind). */
	int64_t hq_time;
	int64_t hq_skew;
};

/* Reads the sync state of the file.  Release with sync_status_release,
 * also after a failure. */
int sync_status_get(struct gb_db *db, struct sync_status *st,
		    struct gb_err *err);
void sync_status_release(struct sync_status *st);

#endif

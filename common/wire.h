/*
 * The sync wire format (proto/gridbook.proto): records to and from
 * protobuf, batches deflated with zlib and a preset dictionary of common
 * field terms, acks and change pages.  Decoding is for hostile input: the
 * deflated body, the inflated size and the unpacked memory are all capped,
 * and a record that does not make sense is refused on its own rather than
 * failing the batch.  Only this module includes protobuf-c and zlib.
 */
#ifndef GB_WIRE_H
#define GB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "record.h"

#define WIRE_PROTOCOL 1
/* Limits applied when decoding a batch or page. */
#define WIRE_MAX_BODY (8u << 20)      /* deflated bytes */
#define WIRE_MAX_INFLATED (16u << 20) /* inflated bytes */
#define WIRE_MAX_RATIO 200	      /* inflated / deflated */
/* Records in one batch: the most a sender may be set to put in one
 * (gridbook sync --batch-records; 500 unless set). */
#define WIRE_MAX_RECORDS 2000
/* The packed size of one record.  Every field's own cap (common/field.c,
 * GB_VOID_REASON_MAX) keeps a valid record well below it, and a changes
 * page (4 MiB) always has room for one, so that any record accepted can
 * be served back to every device of its grid. */
#define WIRE_MAX_RECORD (64u << 10)
/* Batch.pending above this is refused: no grid file holds so many. */
#define WIRE_MAX_PENDING UINT64_C(1000000000)
/* Bits of Batch.features (proto/gridbook.proto): the device reads compact
 * acks, device_seq and renumber answers. */
#define WIRE_FEATURE_ACK 1u

struct wire_batch_hdr {
	char device[GB_ID_LEN];
	char grid[GB_CODE_LEN];
	uint64_t seq;
	uint64_t after; /* the batch HQ must apply first (proto), 0: none */
	/* What the device still had to send besides this batch and those
	 * before it (proto pending, oldest_pending): has_pending 0 when it
	 * did not say; oldest_pending 0 when nothing was left.  Decoding
	 * refuses more than WIRE_MAX_PENDING and a time outside
	 * gb_time_sane. */
	int has_pending;
	uint64_t pending;
	int64_t oldest_pending;
	uint32_t features; /* WIRE_FEATURE_ bits, 0 when not sent */
};

/* One decoded record of a batch: rec is NULL when it could not be turned
 * into a record (unknown enum value, bad UTF-8, a NUL inside a string,
 * over WIRE_MAX_RECORD, wrong sizes); then code
 * and reason say why, and id/version are what could be read.  raw is the
 * record's protobuf bytes as received, unknown fields included, for the
 * server's history. */
struct wire_item {
	struct gb_record *rec; /* owned */
	char id[GB_ID_LEN];
	uint64_t version;
	enum gb_code code;
	char reason[256];
	void *raw; /* owned */
	size_t raw_len;
};

struct wire_batch {
	struct wire_batch_hdr hdr;
	struct wire_item *items; /* owned */
	size_t n;
};

enum wire_status {
	WIRE_ACCEPTED = 1,
	WIRE_DUPLICATE = 2,
	WIRE_STALE = 3,
	WIRE_REJECTED = 4,
	WIRE_CONFLICT = 5
};

struct wire_ack_item {
	char id[GB_ID_LEN];
	uint64_t version;
	enum wire_status status;
	char reason_code[32]; /* gb_code_name() of the refusal, or "" */
	char *reason;	      /* owned, NULL when accepted */
	int transient;	      /* REJECTED for now only: send it again */
};

/*
 * An Ack.  records is 0 for the full form (one item per record of the
 * batch, in order); in the compact form it is the number of records of
 * the batch, and items are those not accepted.  device_seq is HQ's
 * high-water batch number of the device, 0 when not said; renumber set
 * means the batch was not applied and must go again numbered above it.
 */
struct wire_ack {
	uint64_t seq;
	int64_t server_time;
	struct wire_ack_item *items; /* owned */
	size_t n;
	uint32_t records;
	uint64_t device_seq;
	int renumber;
};

/* Converts a record to the packed protobuf Record message (appended to
 * out), and back (*out is a new record the caller frees with
 * gb_record_free).  Values go by the encodings at the top of
 * proto/gridbook.proto.  Both fail naming the field: GB_EINVAL for a value
 * that has no wire form or a received value that means nothing (an enum
 * value past the choices, a date outside 1900-2999), GB_EPROTO for bytes
 * that are not a Record of this format (bad UTF-8, an id not of 16 bytes,
 * no body of a known kind), GB_ETOOBIG past the unpacking memory cap. */
int wire_record_pack(const struct gb_record *r, struct gb_buf *out,
		     struct gb_err *err);
int wire_record_unpack(const void *p, size_t n, struct gb_record **out,
		       struct gb_err *err);

/* Packs and deflates a batch into out (cleared first).  Fails naming the
 * first record that cannot be packed. */
int wire_batch_encode(const struct wire_batch_hdr *h,
		      struct gb_record *const *recs, size_t n,
		      struct gb_buf *out, struct gb_err *err);
/*
 * The same in two steps, for a sender that needs each record's size as it
 * fills a batch and packs every record once: wire_batch_add appends r to
 * out as one entry of a Batch's records (its field header and the packed
 * Record; out's growth is the entry's size), and wire_batch_encode_packed
 * packs the header h before len bytes of such entries and deflates the
 * whole into out (cleared first), byte for byte what wire_batch_encode
 * gives for the same records.  Both return 0 or -1 with err as above.
 */
int wire_batch_add(const struct gb_record *r, struct gb_buf *out,
		   struct gb_err *err);
int wire_batch_encode_packed(const struct wire_batch_hdr *h, const void *recs,
			     size_t len, struct gb_buf *out,
			     struct gb_err *err);
/* Inflates (within the limits above) and unpacks a batch, with at most
 * four times the inflated size plus 1 MiB of memory for the unpacked
 * message and 1 KiB a record more for the items made of it, all counted
 * against one budget.  Fails as a whole only when the body itself is
 * bad: GB_ETOOBIG past a limit (WIRE_MAX_RECORDS included), GB_EPROTO for a
 * body that is not a deflated Batch or a header without protocol 1, a 16-byte
 * device, a grid and a seq (the message names the field).  Bad records are
 * reported per item.  On failure out is left empty; on success release it with
 * wire_batch_release. */
int wire_batch_decode(const void *body, size_t len, struct wire_batch *out,
		      struct gb_err *err);
/* Frees the items and empties b; safe on a batch that failed to decode. */
void wire_batch_release(struct wire_batch *b);

/* Reference rows of a ChangesPage (proto Community, PoliceArea, Staff).
 * Codes are held inline; names are owned strings, NULL when not sent. */
struct wire_community {
	char code[GB_CODE_LEN];
	char grid[GB_CODE_LEN];
	char street[GB_CODE_LEN];
	char *name;		/* owned */
	int64_t population;	/* -1 when not sent */
	int64_t criminal_cases; /* -1 when not sent */
	int64_t patrol_team;	/* -1 when not sent */
};

struct wire_area {
	char code[GB_CODE_LEN];
	char grid[GB_CODE_LEN];
	char *name;	    /* owned */
	char *room;	    /* owned: the police room's name */
	char **communities; /* owned, each owned: community codes */
	size_t ncommunities;
};

struct wire_staff {
	char code[GB_CODE_LEN];
	char grid[GB_CODE_LEN];
	char role[GB_CODE_LEN]; /* coordinator, officer, chief, guard */
	char area[GB_CODE_LEN]; /* "" when none */
	char *name;		/* owned */
};

#define WIRE_CURSOR_LEN 64

/* One page of GET /v1/changes.  Everything it points to is owned and
 * freed by wire_page_release, except raw/raw_len. */
struct wire_page {
	struct gb_record **recs; /* owned, each owned */
	size_t n;
	/* Encoding only, optional: when raw[i] is not NULL it is a packed
	 * Record as received (wire_item.raw) and is sent instead of recs[i],
	 * so that fields from a newer client reach the other devices;
	 * recs[i] may then be NULL.  Borrowed, never freed here. */
	void **raw;
	size_t *raw_len;
	/* Decoding only: the records that could not be read, as in a batch
	 * (rec NULL, code and reason say why). */
	struct wire_item *refused; /* owned */
	size_t nrefused;
	struct wire_community *communities; /* owned */
	size_t ncommunities;
	struct wire_area *areas; /* owned */
	size_t nareas;
	struct wire_staff *staff; /* owned */
	size_t nstaff;
	char next_cursor[WIRE_CURSOR_LEN]; /* "" when not sent */
	int more;
	uint64_t device_seq; /* HQ's high-water of the caller, 0: not said */
};

/* Empties a page (all counts 0, all pointers NULL). */
void wire_page_init(struct wire_page *p);
/* Packs and deflates a page into out (cleared first).  Fails naming the
 * record or row that cannot be encoded. */
int wire_page_encode(const struct wire_page *p, struct gb_buf *out,
		     struct gb_err *err);
/* Inflates and unpacks a page with the limits of a batch.  out is
 * initialised first; release it with wire_page_release even on failure. */
int wire_page_decode(const void *body, size_t len, struct wire_page *out,
		     struct gb_err *err);
/* Frees everything the page owns and empties it. */
void wire_page_release(struct wire_page *p);

/* Checks that proto/gridbook.proto and the kind tables of kinds.c agree:
 * every kind is a member of Record's body, every field of a kind has a
 * proto field of the same name and a matching type, every ENUM choice is
 * the proto enum value of the same (upper case) name at index + 1, and no
 * proto field of a kind is missing from its table.  Returns 0, or -1 with
 * err (GB_EINTERNAL) naming the kind and field that disagree. */
int wire_schema_check(struct gb_err *err);
/* The same check for a table of n kinds other than gb_kinds (a test's). */
int wire_schema_check_table(const struct gb_kind *kinds, int n,
			    struct gb_err *err);
/*
 * What every program runs first: wire_schema_check, and when the table and
 * the proto disagree a message on stderr, prefixed with prog, that names
 * the kind and field.  A program built from a table its wire format does
 * not carry would send or store records it cannot read back, so it must
 * not start.  Returns 0, or -1 after the message.
 */
int wire_start_check(const char *prog);
/* The same check for one kind table. */
int wire_kind_check(const struct gb_kind *k, struct gb_err *err);

/* Acks travel uncompressed: they are small. */
int wire_ack_encode(const struct wire_ack *a, struct gb_buf *out,
		    struct gb_err *err);
/* Decodes an ack (memory capped like a batch).  An unknown status or a
 * malformed id fails the whole ack with GB_EPROTO.  Release with
 * wire_ack_release, also after a failure. */
int wire_ack_decode(const void *p, size_t n, struct wire_ack *out,
		    struct gb_err *err);
void wire_ack_release(struct wire_ack *a);
/* Turns the full ack a of a batch into the compact form, in place: the
 * accepted items are dropped (their memory freed) and records becomes
 * the number of items there were.  An ack already compact, or of no
 * record, is left as it is.  Fails with GB_ETOOBIG, a unchanged, for more
 * records than Ack.records counts. */
int wire_ack_compact(struct wire_ack *a, struct gb_err *err);

/* zlib streams with the preset dictionary of wire.c (its id is in the
 * stream header; a stream without one inflates too).  wire_deflate appends
 * to out.  wire_inflate appends to out and stops with GB_ETOOBIG at
 * max_out bytes or at WIRE_MAX_RATIO times the input size, whichever is
 * smaller, so it never holds more than that; a corrupt or truncated
 * stream, trailing bytes or an unknown dictionary give GB_EPROTO. */
int wire_deflate(const void *in, size_t n, struct gb_buf *out,
		 struct gb_err *err);
/* wire_deflate at zlib level 1 (fastest) to 9 (smallest); other values
 * mean the default, 6, at which batches and pages go. */
int wire_deflate_level(const void *in, size_t n, int level, struct gb_buf *out,
		       struct gb_err *err);
int wire_inflate(const void *in, size_t n, size_t max_out, struct gb_buf *out,
		 struct gb_err *err);

#endif

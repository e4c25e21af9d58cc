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
#define WIRE_MAX_INFLATED (64u << 20) /* inflated bytes */
#define WIRE_MAX_RATIO 200            /* inflated / deflated */

struct wire_batch_hdr {
	char device[GB_ID_LEN];
	char grid[GB_CODE_LEN];
	uint64_t seq;
};

/* One decoded record of a batch: rec is NULL when it could not be turned
 * into a record (unknown enum value, bad UTF-8, wrong sizes); then code
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
	char *reason;         /* owned, NULL when accepted */
};

struct wire_ack {
	uint64_t seq;
	int64_t server_time;
	struct wire_ack_item *items; /* owned */
	size_t n;
};

/* Converts a record to the packed protobuf Record message (appended to
 * out), and back.  Both fail with GB_EPROTO/GB_EINVAL naming the field. */
int wire_record_pack(const struct gb_record *r, struct gb_buf *out,
		     struct gb_err *err);
int wire_record_unpack(const void *p, size_t n, struct gb_record **out,
		       struct gb_err *err);

/* Packs and deflates a batch into out (cleared first). */
int wire_batch_encode(const struct wire_batch_hdr *h,
		      struct gb_record *const *recs, size_t n,
		      struct gb_buf *out, struct gb_err *err);
/* Inflates (within the limits above) and unpacks a batch.  Fails as a
 * whole only when the body itself is bad (GB_ETOOBIG, GB_EPROTO); bad
 * records are reported per item.  Release with wire_batch_release. */
int wire_batch_decode(const void *body, size_t len, struct wire_batch *out,
		      struct gb_err *err);
void wire_batch_release(struct wire_batch *b);

/* Acks travel uncompressed: they are small. */
int wire_ack_encode(const struct wire_ack *a, struct gb_buf *out,
		    struct gb_err *err);
int wire_ack_decode(const void *p, size_t n, struct wire_ack *out,
		    struct gb_err *err);
void wire_ack_release(struct wire_ack *a);

/* zlib with the preset dictionary; inflate stops at max_out bytes and at
 * WIRE_MAX_RATIO times the input size, with GB_ETOOBIG. */
int wire_deflate(const void *in, size_t n, struct gb_buf *out,
		 struct gb_err *err);
int wire_inflate(const void *in, size_t n, size_t max_out, struct gb_buf *out,
		 struct gb_err *err);

#endif

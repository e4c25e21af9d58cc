/*
 * store_write: how fast a store takes record versions the way ingest
 * writes them, on SQLite and on PostgreSQL alike (store.h): per version a
 * history row and the current row, per batch of 500 a savepoint and the
 * batch row, twenty batches to a transaction as the group commit forms
 * them.  No HTTP, protobuf, validation or report facts: the store's own
 * share of ingest, to set beside PostgreSQL's COPY of the same rows
 * (bench/store_write.sh).
 *
 *   store_write STORE N
 *       STORE is sqlite:PATH (a new file) or a postgresql:// URL of an
 *       empty database; N versions of N/4 enterprises of grid S01-G1 by
 *       one device.  Prints "STORE N versions in S s: R versions/s".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "kinds.h"
#include "record.h"
#include "store.h"
#include "store_pg.h"

#include "banned.h"

#define BATCH 500
#define PER_TX 20
#define DEVICE "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a01"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const struct gb_err *err)
{
	fprintf(stderr, "store_write: %s: %s\n", what, err->msg);
	return 1;
}

/* The reference rows and the device the versions need. */
static int setup(struct store *st, struct gb_err *err)
{
	const char *street[] = {"S01", "东关街道"};
	const char *grid[] = {"S01-G1", "S01", "第一网格"};
	struct store_device d = {DEVICE,	"S01-G1", "coordinator", "", 0,
				 1764750000000, 0};
	unsigned char token[STORE_HASH_LEN];
	int changed;

	memset(token, 0x5a, sizeof(token));
	if (st->ops->begin(st, err) < 0)
		return -1;
	if (st->ops->ref_put(st, STORE_T_STREET, street, &changed, err) < 0 ||
	    st->ops->ref_put(st, STORE_T_GRID, grid, &changed, err) < 0 ||
	    st->ops->device_put(st, &d, token, err) < 0) {
		st->ops->rollback(st);
		return -1;
	}
	return st->ops->commit(st, err);
}

int main(int argc, char **argv)
{
	struct store *st = NULL;
	struct gb_record *r;
	struct gb_err err;
	unsigned char raw[300], h[STORE_HASH_LEN];
	char body[96];
	long n, done = 0;
	uint64_t seq = 0;
	double t0, t1;

	char *end = NULL;

	n = argc == 3 ? strtol(argv[2], &end, 10) : 0;
	if (argc != 3 || end == argv[2] || *end || n < 1) {
		fprintf(stderr, "usage: store_write STORE N\n");
		return 2;
	}
	gb_crypto_init();
	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	if (!strncmp(argv[1], "sqlite:", 7)) {
		if (store_sqlite_open(&st, argv[1] + 7, STORE_ADMIN, &err) < 0)
			return die("open", &err);
	} else if (store_pg_open(&st, argv[1], STORE_ADMIN, &err) < 0) {
		return die("open", &err);
	}
	if (setup(st, &err) < 0)
		return die("setup", &err);
	r = gb_record_new(gb_kind_find("enterprise"));
	snprintf(r->grid, sizeof(r->grid), "S01-G1");
	snprintf(r->device, sizeof(r->device), "%s", DEVICE);
	snprintf(r->staff, sizeof(r->staff), "S01-W01");
	gb_random(raw, sizeof(raw));
	t0 = now_s();
	while (done < n) {
		if (st->ops->begin(st, &err) < 0)
			return die("begin", &err);
		for (int b = 0; b < PER_TX && done < n; b++) {
			if (st->ops->savepoint(st, &err) < 0)
				return die("savepoint", &err);
			for (int i = 0; i < BATCH && done < n; i++, done++) {
				struct store_version v = {
				    r,	  raw,		 sizeof(raw), {0},
				    body, NULL,		 "S01-C01",   NULL,
				    NULL, 1764750000000, NULL,	      0,
				    0};
				unsigned char b16[16];

				/* UUIDv7-like ids, in order, four versions
				 * of each record. */
				memset(b16, 0, sizeof(b16));
				b16[0] = 0x01;
				b16[6] = 0x70;
				b16[8] = 0x80;
				for (int k = 0; k < 8; k++)
					b16[15 - k] =
					    (unsigned char)((done / 4) >>
							    (8 * k));
				gb_hex(body, sizeof(body), b16, 16);
				snprintf(r->id, sizeof(r->id),
					 "%.8s-%.4s-%.4s-%.4s-%.12s", body,
					 body + 8, body + 12, body + 16,
					 body + 20);
				r->version = (uint64_t)done + 1;
				r->created_at = 1764750000000;
				r->updated_at = 1764750000000 + done;
				snprintf(body, sizeof(body),
					 "{\"name\":\"南苑第%ld服装厂\"}",
					 done / 4);
				raw[0] = (unsigned char)done;
				gb_hash_once(v.hash, STORE_HASH_LEN, raw,
					     sizeof(raw));
				if (st->ops->history_put(st, &v, &err) < 0 ||
				    st->ops->current_put(st, &v, &err) < 0)
					return die("version", &err);
			}
			memset(h, 0, sizeof(h));
			if (st->ops->batch_put(st, DEVICE, ++seq, h, BATCH,
					       "ack", 3, 1764750000000,
					       &err) < 0 ||
			    st->ops->release(st, &err) < 0)
				return die("batch", &err);
		}
		if (st->ops->commit(st, &err) < 0)
			return die("commit", &err);
	}
	t1 = now_s();
	printf("%s %ld versions in %.2f s: %.0f versions/s\n",
	       !strncmp(argv[1], "sqlite:", 7) ? "sqlite" : "postgresql", n,
	       t1 - t0, (double)n / (t1 - t0));
	gb_record_free(r);
	st->ops->close(st);
	return 0;
}

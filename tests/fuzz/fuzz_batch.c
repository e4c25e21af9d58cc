/*
 * libFuzzer harness of HQ's way in for a batch body, as the HTTP thread
 * and the writer take it: inflate and unpack (wire_batch_decode, with its
 * limits and memory budget), the whole-batch access check (ingest_check),
 * then the per-record work -- may the device write it, the rules that need
 * no lookup, the references and the merge into the store -- in one writer
 * transaction (ingest_apply) on a real SQLite store of the reference
 * district.  The devices are two coordinators of S03-G2, the grid the
 * seed corpus (gen_corpus.c) is written for, so that well-formed inputs
 * go all the way into the store; a batch is taken as from the one its
 * header names (any other name is the first, and refused).
 *
 * The store lives as long as the run, so the versions of a record sent
 * in one input meet those of earlier inputs, from either device: the
 * edits, voids and concurrent versions of the corpus's edit batches go
 * through the merge of a record's versions.  For that a mutated input
 * must not be refused whole for reusing a batch number, so numbers below
 * RENUMBER_BELOW (those of the seeds and most mutations) are replaced by
 * a fresh one of the device's, and its `after` by the one before it;
 * numbers at or above it are kept, and reach the replay and reuse paths.
 * Every batch taken in adds to the store (its ack, its versions, its
 * refused records' prefixes), so after RESET_EVERY of them the store is
 * made again from the seeds: a 2-hour run would otherwise leave
 * gigabytes, and slow down as they grow.  The store's directory is
 * removed at exit.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "gbtime.h"
#include "ingest.h"
#include "rollup.h"
#include "seed.h"
#include "store.h"
#include "wire.h"

#include "banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RENUMBER_BELOW 1000
/* Batches taken in between two fresh stores: a batch of the corpus's
 * mutations adds some 10 KiB, and a fresh store costs about 0.1 s, so
 * the store stays near 10 MiB for about 1% of the time. */
#define RESET_EVERY 1000
/* Fresh batch numbers start here, above every kept one. */
#define FRESH_SEQ (UINT64_C(1) << 40)

static char dir[] = "/tmp/gridbook-fuzz.XXXXXX";
static struct store *st;
static unsigned applied; /* since the store was made */
/* SAMPLE_DEVICE of tests/unit/wire_sample.h, and gen_corpus.c's
 * second device. */
static const struct store_device devs[2] = {
    {"0195a3c2-7b10-7c4e-9a51-3f6d2e8b1c07", "S03-G2", "coordinator", "fuzz", 0,
     0, 0},
    {"0195a3c3-1f20-7d5a-8b62-4e7f3a9c2d18", "S03-G2", "coordinator", "fuzz-b",
     0, 0, 0}};
static uint64_t next_seq[2] = {FRESH_SEQ, FRESH_SEQ};
static int64_t now;

/* FUZZ_BATCH_SHOW set: each input's outcome on standard error, to see
 * which paths the seeds reach (fuzz_batch FILE...). */
static int show;

static void show_ack(const struct store_device *dev, const struct wire_batch *b,
		     const struct ingest_req *r, const struct gb_buf *ack)
{
	static const char *const status[] = {"?",     "accepted", "duplicate",
					     "stale", "rejected", "conflict"};
	struct wire_ack a;
	struct gb_err err;

	fprintf(stderr, "batch %" PRIu64 " of %s: %zu records", b->hdr.seq,
		dev->name, b->n);
	if (r->rc < 0 || wire_ack_decode(ack->data, ack->len, &a, &err) < 0) {
		fprintf(stderr, ", refused: %s\n", r->err.msg);
		return;
	}
	fputc('\n', stderr);
	for (size_t i = 0; i < a.n; i++)
		fprintf(stderr, "  %s %" PRIu64 " %s %s\n", a.items[i].id,
			a.items[i].version,
			status[a.items[i].status <= WIRE_CONFLICT
				   ? a.items[i].status
				   : 0],
			a.items[i].reason ? a.items[i].reason : "");
	wire_ack_release(&a);
}

/* Removes the files of the store (closed) and, when all is set, its
 * directory. */
static void store_remove(int all)
{
	static const char *const tails[] = {"", "-wal", "-shm", "-journal",
					    "-hq.lock"};
	char path[96];

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "%s/hq.db%s", dir, tails[i]);
		unlink(path);
	}
	if (all)
		rmdir(dir);
}

/* Closes the store, if open, and makes it again from the seeds. */
static void store_fresh(void)
{
	char path[96];
	struct gb_err err;

	if (st)
		st->ops->close(st);
	st = NULL;
	store_remove(0);
	snprintf(path, sizeof(path), "%s/hq.db", dir);
	if (store_sqlite_open(&st, path, STORE_SERVE, &err) < 0 ||
	    seed_load(st, GB_SEEDDIR, NULL, &err) < 0 ||
	    rollup_ensure(st, &err) < 0) {
		fprintf(stderr, "fuzz_batch: %s\n", err.msg);
		abort();
	}
	applied = 0;
}

static void at_exit(void)
{
	if (st)
		st->ops->close(st);
	st = NULL;
	store_remove(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gb_err err;

	(void)argc;
	(void)argv;
	if (auth_init(&err) < 0 || !mkdtemp(dir))
		abort();
	store_fresh();
	atexit(at_exit);
	/* The day of the seed corpus's records, so that they are not in
	 * the future. */
	now = INT64_C(1741046400000);
	show = getenv("FUZZ_BATCH_SHOW") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_req r, *rp = &r;
	struct wire_batch b;
	struct gb_buf ack;
	struct gb_err err;

	const struct store_device *dev = &devs[0];
	size_t d = 0;

	if (wire_batch_decode(data, size, &b, &err) < 0)
		return 0;
	if (!strcmp(b.hdr.device, devs[1].id))
		dev = &devs[d = 1];
	if (b.hdr.seq < RENUMBER_BELOW) {
		if (b.hdr.after)
			b.hdr.after = next_seq[d];
		b.hdr.seq = ++next_seq[d];
	}
	if (ingest_check(dev, &b, &err) == 0) {
		if (++applied > RESET_EVERY)
			store_fresh();
		gb_buf_init(&ack, GB_BUF_NOLIMIT);
		memset(&r, 0, sizeof(r));
		r.dev = dev;
		r.batch = &b;
		r.ack = &ack;
		r.remote = "127.0.0.1";
		ingest_apply(st, &rp, 1, now, &err);
		if (show)
			show_ack(dev, &b, &r, &ack);
		ingest_req_release(&r);
		gb_buf_release(&ack);
	}
	wire_batch_release(&b);
	return 0;
}

/*
 * libFuzzer harness of HQ's way in for a batch body, as the HTTP thread
 * and the writer take it: inflate and unpack (wire_batch_decode, with its
 * limits and memory budget), the whole-batch access check (ingest_check),
 * then the per-record work -- may the device write it, the rules that need
 * no lookup, the references and the merge into the store -- in one writer
 * transaction (ingest_apply) on a real SQLite store of the reference
 * district.  The device is a coordinator of S03-G2, the grid the seed
 * corpus (gen_corpus.c) is written for, so that well-formed inputs go all
 * the way into the store.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static struct store *st;
static const struct store_device dev = {
    "0195a3c2-7b10-7c4e-9a51-3f6d2e8b1c07", "S03-G2", "coordinator",
    "fuzz", 0, 0, 0};
static int64_t now;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/gridbook-fuzz.XXXXXX";
	char path[64];
	struct gb_err err;

	(void)argc;
	(void)argv;
	if (auth_init(&err) < 0 || !mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/hq.db", dir);
	if (store_sqlite_open(&st, path, STORE_SERVE, &err) < 0 ||
	    seed_load(st, GB_SEEDDIR, NULL, &err) < 0 ||
	    rollup_ensure(st, &err) < 0) {
		fprintf(stderr, "fuzz_batch: %s\n", err.msg);
		abort();
	}
	/* The day of the seed corpus's records, so that they are not in
	 * the future. */
	now = INT64_C(1741046400000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_req r, *rp = &r;
	struct wire_batch b;
	struct gb_buf ack;
	struct gb_err err;

	if (wire_batch_decode(data, size, &b, &err) < 0)
		return 0;
	if (ingest_check(&dev, &b, &err) == 0) {
		gb_buf_init(&ack, GB_BUF_NOLIMIT);
		memset(&r, 0, sizeof(r));
		r.dev = &dev;
		r.batch = &b;
		r.ack = &ack;
		r.remote = "127.0.0.1";
		ingest_apply(st, &rp, 1, now, &err);
		ingest_req_release(&r);
		gb_buf_release(&ack);
	}
	wire_batch_release(&b);
	return 0;
}

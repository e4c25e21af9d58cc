/*
 * What the field merge costs a laptop that pulls (BENCHMARKS.md, "Pull
 * merge on the laptop"): db_record_put_remote, as a page of /v1/changes
 * applies it, of N new enterprises, then of an edit of each made from
 * the version held (the quick way: the version becomes the row), then of
 * an edit of each from another device made from the first version, which
 * did not see the second (merged with every version held), in
 * transactions of 1,000 versions as sync applies pages.  Prints the
 * versions a second of each pass, and the CPU time a version (the
 * process's, so that other work on the machine and the disk's fsyncs
 * weigh less).
 *
 *   build/bench/pull_merge FILE [N]     N defaults to 20000; FILE is made
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "record.h"

#include "banned.h"

#define PAGE 1000

static double seconds(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const pass_name[] = {
	    "new records", "edits of the version held",
	    "edits another device made apart (merged)"};
	const uint64_t v0 = (uint64_t)1700000000000LL << 16;
	struct gb_record *r;
	struct gb_db *db;
	struct gb_err err;
	long n = 20000;
	char *end;

	if (argc < 2) {
		fprintf(stderr, "usage: pull_merge FILE [N]\n");
		return 2;
	}
	if (argc > 2) {
		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno || *end || n < 1) {
			fprintf(stderr, "pull_merge: N: %s\n", argv[2]);
			return 2;
		}
	}
	if (db_open(&db, argv[1], DB_CREATE, &err)) {
		fprintf(stderr, "pull_merge: %s\n", err.msg);
		return 1;
	}
	r = gb_record_new(gb_kind_find("enterprise"));
	gb_record_set_name(r, "uscc", "91330100MA2K8QAB1C");
	gb_record_set_name(r, "name", "远方贸易有限公司");
	gb_record_set_name(r, "type", "company");
	gb_record_set_name(r, "community", "S01-C01");
	gb_record_set_name(r, "status", "active");
	snprintf(r->grid, GB_CODE_LEN, "S01-G1");
	snprintf(r->staff, GB_CODE_LEN, "K0001");
	r->created_at = r->updated_at = 1700000000000LL;
	for (int pass = 0; pass < 3; pass++) {
		double t0 = seconds(CLOCK_MONOTONIC);
		double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);

		for (long i = 0; i < n; i++) {
			int applied;

			if (i % PAGE == 0 && db_begin(db, &err))
				goto fail;
			snprintf(r->id, GB_ID_LEN,
				 "0190abcd-0000-7000-8000-%012u",
				 (unsigned)(i % 100000000));
			snprintf(r->device, GB_ID_LEN,
				 "0190aaaa-bbbb-7ccc-8ddd-%012d",
				 pass == 2 ? 2 : 1);
			r->version =
			    v0 + (uint64_t)pass * 10000000 + (uint64_t)i;
			/* Pass 1 edits the new version, pass 2 the same one
			 * again, not having seen pass 1's. */
			r->nbase = pass ? 1 : 0;
			r->base[0] = v0 + (uint64_t)i;
			gb_record_set_name(r, "employees",
					   pass == 1 ? "41" : "40");
			gb_record_set_name(r, "address",
					   pass == 2 ? "人民路1号" : NULL);
			if (db_record_put_remote(db, r, &applied, &err))
				goto fail;
			if ((i % PAGE == PAGE - 1 || i == n - 1) &&
			    db_commit(db, &err))
				goto fail;
		}
		printf("%-42s %7.0f versions/s %6.1f us CPU each\n",
		       pass_name[pass],
		       (double)n / (seconds(CLOCK_MONOTONIC) - t0),
		       (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6 /
			   (double)n);
	}
	gb_record_free(r);
	db_close(db);
	return 0;
fail:
	fprintf(stderr, "pull_merge: %s\n", err.msg);
	gb_record_free(r);
	db_close(db);
	return 1;
}

/*
 * Writes the seed corpora of the fuzz harnesses from real encodings, so
 * that no binary file needs to be kept in git: batches of the sample
 * records of tests/unit/wire_sample.h (a day's work in grid S03-G2, all
 * ten kinds) as gridbook-syncd sends them, and the acks and changes pages
 * HQ answers.  CSV seeds come from bench/gen_csv.py (see the Makefile).
 *   gen_corpus DIR      writes the files of DIR/batch and DIR/client
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wire.h"
#include "wire_sample.h"
#include "xalloc.h"

#include "banned.h"

static void put(const char *dir, const char *name, int prefix,
		const struct gb_buf *b)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp || (prefix >= 0 && fputc(prefix, fp) == EOF) ||
	    (b->len && fwrite(b->data, 1, b->len, fp) != b->len) ||
	    fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {1, 3, 10, 40};
	char bdir[400], cdir[400], name[64];
	struct gb_err err;
	struct sample s;
	struct gb_buf out;
	uint64_t seq = 1;

	if (argc != 2)
		return 2;
	snprintf(bdir, sizeof(bdir), "%s/batch", argv[1]);
	snprintf(cdir, sizeof(cdir), "%s/client", argv[1]);
	mkdir(argv[1], 0755);
	mkdir(bdir, 0755);
	mkdir(cdir, 0755);
	sample_init(&s);
	gb_buf_init(&out, GB_BUF_NOLIMIT);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		struct gb_record **recs = xcalloc(n, sizeof(*recs));
		struct wire_batch_hdr h = {
		    .device = SAMPLE_DEVICE, .grid = SAMPLE_GRID, .seq = seq};
		struct wire_ack a = {0};
		struct wire_page pg;

		for (size_t i = 0; i < n; i++)
			recs[i] = sample_next(&s);
		if (wire_batch_encode(&h, recs, n, &out, &err))
			goto fail;
		snprintf(name, sizeof(name), "batch-%zu", n);
		put(bdir, name, -1, &out);

		a.seq = seq++;
		a.server_time = SAMPLE_START;
		a.n = n;
		a.items = xcalloc(n, sizeof(*a.items));
		for (size_t i = 0; i < n; i++) {
			memcpy(a.items[i].id, recs[i]->id, GB_ID_LEN);
			a.items[i].version = recs[i]->version;
			a.items[i].status = i % 3 ? WIRE_ACCEPTED : WIRE_REJECTED;
			if (a.items[i].status == WIRE_REJECTED) {
				snprintf(a.items[i].reason_code,
					 sizeof(a.items[i].reason_code),
					 "EINVAL");
				a.items[i].reason = xstrdup("name: required");
			}
		}
		gb_buf_reset(&out);
		if (wire_ack_encode(&a, &out, &err))
			goto fail;
		snprintf(name, sizeof(name), "ack-%zu", n);
		put(cdir, name, 1, &out);
		for (size_t i = 0; i < n; i++)
			free(a.items[i].reason);
		free(a.items);

		wire_page_init(&pg);
		pg.recs = recs;
		pg.n = n;
		pg.more = k % 2;
		snprintf(pg.next_cursor, sizeof(pg.next_cursor), "1.%zu", n);
		if (wire_page_encode(&pg, &out, &err))
			goto fail;
		snprintf(name, sizeof(name), "page-%zu", n);
		put(cdir, name, 0, &out);
		for (size_t i = 0; i < n; i++)
			gb_record_free(recs[i]);
		free(recs);
	}
	gb_buf_release(&out);
	return 0;
fail:
	fprintf(stderr, "gen_corpus: %s\n", err.msg);
	return 1;
}

/*
 * wire_dump: writes a sample batch of realistic records (see
 * tests/unit/wire_sample.h) to stdout, or measures the wire codec.
 *
 *   wire_dump [-n N]          the batch, inflated: a plain protobuf Batch
 *                             that protoc --decode=gridbook.Batch reads
 *   wire_dump -z [-n N]       the batch as sent: deflated with the preset
 *                             dictionary
 *   wire_dump --stats         sizes, compression ratios and codec speed
 *
 * The e2e test t0300 uses the first form to check that the bytes we send
 * are ordinary protobuf that any implementation of the .proto decodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/wire_sample.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

static int encode(size_t n, struct gb_buf *body, struct gb_err *err)
{
	struct wire_batch_hdr h = {
	    .device = SAMPLE_DEVICE, .grid = SAMPLE_GRID, .seq = 1};
	struct gb_record **recs = xcalloc(n + 1, sizeof(*recs));
	struct sample s;
	int rc;

	sample_init(&s);
	for (size_t i = 0; i < n; i++)
		recs[i] = sample_next(&s);
	rc = wire_batch_encode(&h, recs, n, body, err);
	for (size_t i = 0; i < n; i++)
		gb_record_free(recs[i]);
	free(recs);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stats(void)
{
	static const size_t sizes[] = {1, 20, 100, 1000};
	struct gb_err err = {GB_OK, ""};
	struct gb_buf body, raw;
	struct wire_batch wb;
	double t0, t1, t2;
	int reps = 20, rc = 1;

	gb_buf_init(&body, GB_BUF_NOLIMIT);
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	printf("records  protobuf  deflated  ratio\n");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		gb_buf_reset(&raw);
		if (encode(sizes[i], &body, &err) ||
		    wire_inflate(body.data, body.len, WIRE_MAX_INFLATED, &raw,
				 &err))
			goto out;
		printf("%7zu  %8zu  %8zu  %.3f\n", sizes[i], raw.len, body.len,
		       (double)body.len / (double)raw.len);
	}
	t0 = now_s();
	for (int i = 0; i < reps; i++)
		if (encode(1000, &body, &err))
			goto out;
	t1 = now_s();
	for (int i = 0; i < reps; i++) {
		if (wire_batch_decode(body.data, body.len, &wb, &err))
			goto out;
		wire_batch_release(&wb);
	}
	t2 = now_s();
	printf("encode 1000 records: %.1f ms (sample generation included)\n",
	       (t1 - t0) * 1000 / reps);
	printf("decode 1000 records: %.1f ms\n", (t2 - t1) * 1000 / reps);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "wire_dump: %s\n", err.msg);
	gb_buf_release(&raw);
	gb_buf_release(&body);
	return rc;
}

int main(int argc, char **argv)
{
	struct gb_err err = {GB_OK, ""};
	struct gb_buf body, raw;
	const struct gb_buf *out = &raw;
	size_t n = 20;
	int deflated = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stats") == 0)
			return stats();
		if (strcmp(argv[i], "-z") == 0) {
			deflated = 1;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			char *end;

			n = strtoul(argv[++i], &end, 10);
			if (*end || n > 100000) {
				fprintf(stderr, "wire_dump: bad count %s\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr,
				"usage: wire_dump [-z] [-n N] | --stats\n");
			return 2;
		}
	}
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	if (encode(n, &body, &err))
		goto out;
	if (deflated)
		out = &body;
	else if (wire_inflate(body.data, body.len, WIRE_MAX_INFLATED, &raw,
			      &err))
		goto out;
	if (fwrite(out->data, 1, out->len, stdout) != out->len ||
	    fflush(stdout)) {
		gb_error(&err, GB_EIO, "cannot write the batch");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "wire_dump: %s\n", err.msg);
	gb_buf_release(&raw);
	gb_buf_release(&body);
	return rc;
}

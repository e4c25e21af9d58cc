/*
 * Writes the seed corpora of the fuzz harnesses from real encodings, so
 * that no binary file needs to be kept in git: batches of the sample
 * records of tests/unit/wire_sample.h (a day's work in grid S03-G2, all
 * ten kinds) as gridbook-syncd sends them, and the acks and changes pages
 * HQ answers.  CSV seeds come from bench/gen_csv.py (see the Makefile).
 *
 * Beside them, batches that hold several versions of the same records,
 * for the merge of a record's versions at HQ: edits and voids of
 * records of the day by their own device, then by a second coordinator
 * of the grid (EDIT_DEVICE, fuzz_batch.c's second device), some made
 * without having seen the other's (concurrent), a void that an edit did
 * not see, a record voided and restored, a version sent again unchanged
 * and one sent again with other content, and a policing record edited
 * by a coordinator, which its role may not write.
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

/* The grid's second coordinator's laptop (fuzz_batch.c knows it). */
#define EDIT_DEVICE "0195a3c3-1f20-7d5a-8b62-4e7f3a9c2d18"
#define MINUTE INT64_C(60000)

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

/* A version of r made by device dt ms after r (HLC version of that
 * time), with field set to value when field is not NULL.  The caller
 * frees it. */
static struct gb_record *edit(const struct gb_record *r, const char *device,
			      int64_t dt, const char *field, const char *value)
{
	struct gb_record *e = gb_record_dup(r);

	snprintf(e->device, sizeof(e->device), "%s", device);
	e->updated_at = r->updated_at + dt;
	e->version = (uint64_t)e->updated_at << 16 | (r->version & 0xf);
	if (field)
		gb_record_set_name(e, field, value);
	return e;
}

/* A void of r by device, dt ms after it, with its reason. */
static struct gb_record *void_of(const struct gb_record *r, const char *device,
				 int64_t dt, const char *reason)
{
	struct gb_record *e = edit(r, device, dt, NULL, NULL);

	e->voided = 1;
	gb_record_set_void_reason(e, reason);
	return e;
}

/* Writes the batch of the n versions recs of device as DIR/name and
 * frees them. */
static int put_batch(const char *dir, const char *name, const char *device,
		     uint64_t seq, uint64_t after, struct gb_record **recs,
		     size_t n, struct gb_buf *out, struct gb_err *err)
{
	struct wire_batch_hdr h = {
	    .grid = SAMPLE_GRID, .seq = seq, .after = after};
	int rc;

	snprintf(h.device, sizeof(h.device), "%s", device);
	gb_buf_reset(out);
	rc = wire_batch_encode(&h, recs, n, out, err);
	if (rc == 0)
		put(dir, name, -1, out);
	for (size_t i = 0; i < n; i++)
		gb_record_free(recs[i]);
	return rc;
}

/*
 * The edit batches.  The records edited are the day's first two
 * enterprises, first contract check and first patrol, which the sample
 * batches hold too, so that the versions meet those they stored.
 * Returns 0, or -1 with err.
 */
static int put_edits(const char *dir, struct gb_buf *out, struct gb_err *err)
{
	struct gb_record *ent[2] = {NULL, NULL}, *chk = NULL, *pat = NULL;
	struct gb_record *v[16];
	struct sample s;
	size_t n, got = 0;
	int rc = -1;

	sample_init(&s);
	while (got < 4) {
		struct gb_record *r = sample_next(&s);
		const char *k = r->kind->name;

		if (!strcmp(k, "enterprise") && (!ent[0] || !ent[1])) {
			ent[ent[0] ? 1 : 0] = r;
		} else if (!strcmp(k, "contract_check") && !chk) {
			chk = r;
		} else if (!strcmp(k, "patrol") && !pat) {
			pat = r;
		} else {
			gb_record_free(r);
			continue;
		}
		got++;
	}

	/* Its own device: the record as first sent (a duplicate once
	 * batch-1 is in), two edits of it, an edit and a void of the
	 * second, the check sent again under its version with other
	 * content, then edited. */
	n = 0;
	v[n++] = gb_record_dup(ent[0]);
	v[n++] = edit(ent[0], SAMPLE_DEVICE, 10 * MINUTE, "employees", "61");
	v[n++] = edit(ent[0], SAMPLE_DEVICE, 20 * MINUTE, "name",
		      "望川鑫达科技股份有限公司");
	v[n++] = edit(ent[1], SAMPLE_DEVICE, 5 * MINUTE, "status", "closed");
	v[n++] = void_of(ent[1], SAMPLE_DEVICE, 30 * MINUTE,
			 "重复录入，与同一统一社会信用代码的记录重复");
	v[n++] = edit(chk, SAMPLE_DEVICE, 0, "findings",
		      "劳动合同已全部补签，复查合格");
	v[n++] = edit(chk, SAMPLE_DEVICE, 8 * MINUTE, "contracts_signed",
		      gb_record_get(chk, "employees_total"));
	if (put_batch(dir, "edits-a", SAMPLE_DEVICE, 5, 0, v, n, out, err))
		goto out;

	/* The second coordinator, who had not seen all of them: an edit
	 * of the first record between the two above and one after both,
	 * an edit of the second after its void (the void unseen), a void
	 * of the check, and a patrol its role may not write. */
	n = 0;
	v[n++] = edit(ent[0], EDIT_DEVICE, 15 * MINUTE, "employees", "58");
	v[n++] = edit(ent[0], EDIT_DEVICE, 25 * MINUTE, "address",
		      "临江街道人民路88号");
	v[n++] = edit(ent[1], EDIT_DEVICE, 35 * MINUTE, "employees", "12");
	v[n++] = void_of(chk, EDIT_DEVICE, 6 * MINUTE,
			 "检查对象填写错误，已重新录入");
	v[n++] = edit(pat, EDIT_DEVICE, 5 * MINUTE, "incidents", "1");
	if (put_batch(dir, "edits-b", EDIT_DEVICE, 1, 0, v, n, out, err))
		goto out;

	/* Its own device again, after edits-a: the first record voided
	 * and restored, and the second record's void sent once more. */
	n = 0;
	v[n++] = void_of(ent[0], SAMPLE_DEVICE, 40 * MINUTE, "误录，已作废");
	v[n++] = edit(ent[0], SAMPLE_DEVICE, 45 * MINUTE, "employees", "63");
	v[n++] = void_of(ent[1], SAMPLE_DEVICE, 30 * MINUTE,
			 "重复录入，与同一统一社会信用代码的记录重复");
	if (put_batch(dir, "edits-a2", SAMPLE_DEVICE, 6, 5, v, n, out, err))
		goto out;
	rc = 0;
out:
	gb_record_free(ent[0]);
	gb_record_free(ent[1]);
	gb_record_free(chk);
	gb_record_free(pat);
	return rc;
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
			a.items[i].status =
			    i % 3 ? WIRE_ACCEPTED : WIRE_REJECTED;
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
	if (put_edits(bdir, &out, &err))
		goto fail;
	gb_buf_release(&out);
	return 0;
fail:
	fprintf(stderr, "gen_corpus: %s\n", err.msg);
	return 1;
}

/*
 * load_store: the two halves of the report benchmark (bench/report_bench.sh,
 * BENCHMARKS.md "Reports").
 *
 *   load_store load STORE SEEDS GENDIR...
 *       seeds a fresh store and loads every grid file of each
 *       GENDIR (made by gridbook-gen) into it through the server's real ingest
 *       path, ingest_apply(): the records of DIR/<grid>-labour.db as that
 *       grid's coordinator device, those of DIR/<grid>-police.db as its
 *       officer device, in batches of 500, twenty batches to a
 *       transaction as the group commit forms them under load.  Validation,
 *       history, current rows and the report rollups are all written as
 *       for a batch that came over HTTP; only HTTP and the protobuf
 *       decoding are left out, which is what makes ten million records
 *       loadable in minutes rather than hours.
 *
 *   load_store time STORE... FROM TO RUNS
 *       runs every report at district level for the period FROM..TO,
 *       RUNS times each on each STORE, in process (report_run, then
 *       report_write_json: what GET /v1/reports/NAME does).  With one
 *       store it prints one line a report with every run and the median
 *       in milliseconds.  With several, the runs alternate between the
 *       stores (run k of a report on every store before run k + 1 on
 *       any), so that whatever else the machine is doing weighs on all of
 *       them alike, and each line gives, for every store in the order
 *       named, the median with the fastest and slowest run, then the
 *       ratio of the last store's median to the first's.
 *
 *   load_store dump STORE FROM TO
 *       prints every report at every level it takes for FROM..TO, as
 *       JSON and as CSV, each after a line "== NAME LEVEL FORMAT": what
 *       tests/e2e/t0867-pg-report-facts.sh compares between a SQLite and
 *       a PostgreSQL store holding the same facts.
 *
 * A STORE is a SQLite file or a PostgreSQL libpq URI (postgresql://...):
 * tests/e2e/t0868-pg-same-reports.sh loads the same grid files into one
 * of each and compares their reports.
 *
 * Going through ingest rather than writing rows directly keeps the facts
 * the reports read exactly those a real server would hold, but for one:
 * every batch is received now, so the sync rollup holds a single day a
 * device, where a fleet syncing daily leaves a row per device and day;
 * bench/report_bench.sh rewrites it so after loading.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "db.h"
#include "err.h"
#include "gbtime.h"
#include "ingest.h"
#include "kinds.h"
#include "record.h"
#include "reports.h"
#include "seed.h"
#include "store.h"
#include "store_pg.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

#define BATCH 500
#define PER_TX 20

struct loader {
	struct store *st;
	struct store_device dev;
	uint64_t seq;
	struct wire_batch b[PER_TX];
	int nb;
	long records, refused;
	int failed;
	struct gb_err err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Applies the batches held, in one transaction, and counts refusals. */
static int flush(struct loader *l)
{
	struct ingest_req req[PER_TX], *rp[PER_TX];
	struct gb_buf ack[PER_TX];
	int n = l->nb;

	if (l->nb && l->b[l->nb - 1].n == 0)
		n--;
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		memset(&req[i], 0, sizeof(req[i]));
		gb_buf_init(&ack[i], GB_BUF_NOLIMIT);
		req[i].dev = &l->dev;
		req[i].batch = &l->b[i];
		req[i].ack = &ack[i];
		rp[i] = &req[i];
	}
	/* A checkpoint after each group commit, as ingest's writer thread
	 * does when it is idle, so that the WAL stays small. */
	if (ingest_apply(l->st, rp, (size_t)n, gb_now_ms(), &l->err) < 0 ||
	    l->st->ops->checkpoint(l->st, STORE_CKPT_FINAL, &l->err) < 0)
		l->failed = 1;
	for (int i = 0; i < n; i++) {
		struct wire_ack a;
		struct gb_err e;

		if (req[i].rc < 0) {
			l->err = req[i].err;
			l->failed = 1;
		} else if (wire_ack_decode(ack[i].data, ack[i].len, &a, &e) ==
			   0) {
			for (size_t k = 0; k < a.n; k++)
				if (a.items[k].status != WIRE_ACCEPTED)
					l->refused++;
			wire_ack_release(&a);
		}
		gb_buf_release(&ack[i]);
		wire_batch_release(&l->b[i]);
		memset(&l->b[i], 0, sizeof(l->b[i]));
	}
	l->nb = 0;
	return l->failed ? -1 : 0;
}

static int collect(void *arg, const struct gb_record *r)
{
	struct loader *l = arg;
	struct wire_batch *b;
	struct wire_item *it;
	struct gb_buf raw;

	if (l->nb == 0 || l->b[l->nb - 1].n == BATCH) {
		if (l->nb == PER_TX && flush(l) < 0)
			return -1;
		b = &l->b[l->nb++];
		memset(b, 0, sizeof(*b));
		snprintf(b->hdr.device, sizeof(b->hdr.device), "%s", l->dev.id);
		snprintf(b->hdr.grid, sizeof(b->hdr.grid), "%s", l->dev.grid);
		b->hdr.seq = ++l->seq;
		b->items = xcalloc(BATCH, sizeof(*b->items));
	}
	b = &l->b[l->nb - 1];
	it = &b->items[b->n++];
	gb_buf_init(&raw, GB_BUF_NOLIMIT);
	if (wire_record_pack(r, &raw, &l->err) < 0) {
		gb_buf_release(&raw);
		b->n--;
		l->failed = 1;
		return -1;
	}
	it->rec = gb_record_dup(r);
	snprintf(it->id, sizeof(it->id), "%s", r->id);
	it->version = r->version;
	it->raw = gb_buf_detach(&raw, &it->raw_len);
	l->records++;
	return 0;
}

/* Loads one grid file as a device of grid with role. */
static int load_file(struct loader *l, const char *path, const char *grid,
		     const char *role)
{
	unsigned char hash[STORE_HASH_LEN];
	char token[AUTH_TOKEN_LEN];
	struct db_filter f;
	struct gb_db *db = NULL;
	int rc = -1;

	memset(&f, 0, sizeof(f));
	f.with_voided = 1;
	if (db_open(&db, path, DB_READONLY, &l->err) < 0)
		return -1;
	memset(&l->dev, 0, sizeof(l->dev));
	snprintf(l->dev.id, sizeof(l->dev.id), "%s", db_device(db));
	snprintf(l->dev.grid, sizeof(l->dev.grid), "%s", grid);
	snprintf(l->dev.role, sizeof(l->dev.role), "%s", role);
	snprintf(l->dev.name, sizeof(l->dev.name), "%s 笔记本", grid);
	l->dev.created_at = 1;
	l->seq = 0;
	auth_token_new(token, hash);
	if (l->st->ops->begin(l->st, &l->err) < 0 ||
	    l->st->ops->device_put(l->st, &l->dev, hash, &l->err) < 0 ||
	    l->st->ops->commit(l->st, &l->err) < 0)
		goto out;
	for (int k = 0; k < gb_nkinds; k++)
		if (db_record_list(db, &gb_kinds[k], &f, collect, l, &l->err) <
		    0)
			goto out;
	if (flush(l) < 0)
		goto out;
	rc = 0;
out:
	db_close(db);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct loader *l, const char *dir, long *files)
{
	struct dirent *e;
	DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	d = opendir(dir);
	if (!d) {
		gb_error(&l->err, GB_EIO, "%s: cannot open", dir);
		return -1;
	}
	for (;;) {
		e = readdir(d);
		if (!e)
			break;
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 3, ".db"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char grid[32];
		const char *dash = strrchr(names[i], '-');
		int police = strstr(names[i], "-police.db") != NULL;
		int r;

		snprintf(grid, sizeof(grid), "%.*s",
			 dash ? (int)(dash - names[i]) : 0, names[i]);
		r = load_file(l, path, grid,
			      police ? "officer" : "coordinator");
		free(path);
		if (r < 0)
			goto out;
		(*files)++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* Opens a SQLite file or a PostgreSQL URI as a serving store does. */
static int open_any(struct store **st, const char *spec, struct gb_err *err)
{
	if (!strncmp(spec, "postgresql://", 13) ||
	    !strncmp(spec, "postgres://", 11))
		return store_pg_open(st, spec, STORE_SERVE, err);
	return store_sqlite_open(st, spec, STORE_SERVE, err);
}

static int load(const char *store, const char *seeds, char **dirs, int ndirs)
{
	struct loader l;
	struct seed_stats stats;
	double t0 = now_s();
	long files = 0;
	int rc = 1;

	memset(&l, 0, sizeof(l));
	if (open_any(&l.st, store, &l.err) < 0 ||
	    seed_load(l.st, seeds, &stats, &l.err) < 0)
		goto out;
	for (int i = 0; i < ndirs; i++)
		if (load_dir(&l, dirs[i], &files) < 0)
			goto out;
	printf("loaded %ld records (%ld refused) from %ld files in %.1f s\n",
	       l.records, l.refused, files, now_s() - t0);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "load_store: %s\n", l.err.msg);
	if (l.st)
		l.st->ops->close(l.st);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_RUNS 64
#define MAX_STORES 8

/* Runs report name on st once: the milliseconds taken, or -1 on failure. */
static double time_one(struct store *st, const char *name, const char *from,
		       const char *to, struct gb_err *err)
{
	struct report *r = NULL;
	struct gb_buf out;
	double t0 = now_s(), ms;
	int bad;

	gb_buf_init(&out, GB_BUF_NOLIMIT);
	bad = report_run(st, name, "district", from, to, gb_now_ms(), &r, err);
	if (bad == 0)
		bad = report_write_json(r, &out, err);
	ms = (now_s() - t0) * 1000;
	gb_buf_release(&out);
	report_free(r);
	return bad < 0 ? -1 : ms;
}

static int time_reports(char **stores, int nstores, const char *from,
			const char *to, int runs)
{
	struct store *st[MAX_STORES] = {NULL};
	double ms[MAX_STORES][MAX_RUNS];
	struct gb_err err;
	int rc = 1;

	if (runs < 1 || runs > MAX_RUNS || nstores > MAX_STORES) {
		fprintf(stderr,
			"load_store: RUNS is 1..%d, stores at most %d\n",
			MAX_RUNS, MAX_STORES);
		return 2;
	}
	for (int s = 0; s < nstores; s++)
		if (open_any(&st[s], stores[s], &err) < 0)
			goto out;
	for (size_t i = 0; i < reports_count(); i++) {
		const char *name = reports_name(i);
		double med[MAX_STORES];

		for (int k = 0; k < runs; k++)
			for (int s = 0; s < nstores; s++) {
				ms[s][k] =
				    time_one(st[s], name, from, to, &err);
				if (ms[s][k] < 0)
					goto out;
			}
		printf("%-16s", name);
		if (nstores == 1)
			for (int k = 0; k < runs; k++)
				printf(" %8.2f", ms[0][k]);
		for (int s = 0; s < nstores; s++) {
			qsort(ms[s], (size_t)runs, sizeof(ms[s][0]),
			      cmp_double);
			med[s] = ms[s][runs / 2];
			if (nstores > 1)
				printf("  %8.2f [%.2f %.2f]", med[s], ms[s][0],
				       ms[s][runs - 1]);
		}
		if (nstores == 1)
			printf("   median %8.2f ms\n", med[0]);
		else
			printf("  %6.2fx\n",
			       med[0] > 0 ? med[nstores - 1] / med[0] : 0);
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "load_store: %s\n", err.msg);
	for (int s = 0; s < nstores; s++)
		if (st[s])
			st[s]->ops->close(st[s]);
	return rc;
}

/* One report at one level, as JSON and as CSV, on stdout. */
static int dump_one(struct store *st, const char *name, const char *level,
		    const char *from, const char *to, struct gb_err *err)
{
	struct report *r = NULL;
	struct gb_buf out;
	int rc;

	gb_buf_init(&out, GB_BUF_NOLIMIT);
	rc = report_run(st, name, level, from, to, gb_now_ms(), &r, err);
	if (rc == 0) {
		gb_buf_addf(&out, NULL, "== %s %s json\n", name, level);
		rc = report_write_json(r, &out, err);
	}
	if (rc == 0) {
		gb_buf_addf(&out, NULL, "\n== %s %s csv\n", name, level);
		rc = report_write_csv(r, &out, err);
	}
	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	gb_buf_release(&out);
	report_free(r);
	return rc;
}

static int dump_reports(const char *spec, const char *from, const char *to)
{
	struct store *st = NULL;
	struct gb_err err;
	int rc = 1;

	if (open_any(&st, spec, &err) < 0)
		goto out;
	for (size_t i = 0; i < reports_count(); i++) {
		const char *name = reports_name(i);
		const char *lv = reports_levels(name);

		while (*lv) {
			char level[16];
			size_t n = strcspn(lv, "|");

			snprintf(level, sizeof(level), "%.*s", (int)n, lv);
			if (dump_one(st, name, level, from, to, &err) < 0)
				goto out;
			lv += n;
			lv += *lv == '|';
		}
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "load_store: %s\n", err.msg);
	if (st)
		st->ops->close(st);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "dump"))
		return dump_reports(argv[2], argv[3], argv[4]);
	if (argc >= 5 && !strcmp(argv[1], "load"))
		return load(argv[2], argv[3], argv + 4, argc - 4);
	if (argc >= 6 && !strcmp(argv[1], "time"))
		return time_reports(argv + 2, argc - 5, argv[argc - 3],
				    argv[argc - 2],
				    (int)strtol(argv[argc - 1], NULL, 10));
	fprintf(stderr, "usage: load_store load STORE SEEDS GENDIR...\n"
			"       load_store time STORE... FROM TO RUNS\n"
			"       load_store dump STORE FROM TO\n");
	return 2;
}

/*
 * Tests of outbox.c on a grid file in a temporary directory: every
 * version written is appended, packed once the file holds a token and
 * packed on reading before; a range read stops where the reader says;
 * repacking fills the entries that are missing; a batch written down is
 * found again and renumbered; an answer takes the versions it names out
 * of the outbox into the attention list or sync_retry and leaves the
 * others, and a second answer to the same batch changes nothing; the
 * versions refused for now go back into the outbox once; a row whose
 * version the file does not hold leaves the outbox for the attention list.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "db_int.h"
#include "outbox.h"

#include "banned.h"

static char tmpdir[256];

/* What read_cb saw. */
struct seen {
	size_t n, stop_at, packed_now;
	int64_t seq[16];
	uint64_t version[16];
	char id[16][GB_ID_LEN];
};

static int read_cb(void *arg, const struct outbox_entry *e)
{
	struct seen *s = arg;

	if (s->stop_at && s->n == s->stop_at)
		return 1;
	if (s->n < 16) {
		s->seq[s->n] = e->seq;
		s->version[s->n] = e->version;
		snprintf(s->id[s->n], GB_ID_LEN, "%s", e->id);
	}
	if (e->kind)
		s->packed_now++;
	s->n += e->wire && e->len > 0;
	return 0;
}

static void read_all(struct gb_db *db, struct seen *s, size_t stop_at)
{
	struct gb_err err;

	memset(s, 0, sizeof(*s));
	s->stop_at = stop_at;
	CHECK(outbox_each(db, 1, INT64_MAX, SIZE_MAX, read_cb, s, &err) == 0);
}

/* What att_cb saw. */
struct att {
	size_t n;
	char status[4][16];
	char reason[4][64];
	char id[4][GB_ID_LEN];
};

static int att_cb(void *arg, const struct outbox_refused *r)
{
	struct att *a = arg;

	if (a->n < 4) {
		snprintf(a->status[a->n], 16, "%s", r->status);
		snprintf(a->reason[a->n], 64, "%s", r->reason);
		snprintf(a->id[a->n], GB_ID_LEN, "%s", r->id);
	}
	a->n++;
	return 0;
}

static long long sql_int(struct gb_db *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static long pending(struct gb_db *db)
{
	struct gb_err err;
	long n = -1;

	CHECK(outbox_count(db, &n, &err) == 0);
	return n;
}

static void add_enterprise(struct gb_db *db, const char *uscc, const char *name,
			   char *id)
{
	struct gb_record *r = gb_record_new(gb_kind_find("enterprise"));
	struct gb_err err;

	gb_record_set_name(r, "uscc", uscc);
	gb_record_set_name(r, "name", name);
	gb_record_set_name(r, "type", "company");
	gb_record_set_name(r, "community", "S09-C01");
	gb_record_set_name(r, "employees", "40");
	gb_record_set_name(r, "status", "active");
	CHECK(db_record_insert(db, r, &err) == 0);
	snprintf(id, GB_ID_LEN, "%s", r->id);
	gb_record_free(r);
}

int main(void)
{
	static const char *const names[] = {
	    "江南精密机械有限公司", "和平食品有限公司", "清河纺织有限公司",
	    "青山物流有限公司", "北岸建材有限公司"};
	static const char *const usccs[] = {
	    "91350100M000100Y43", "91350100M000200Y4X", "91350100M000300Y46",
	    "91350100M000400Y41", "91350100M000500Y47"};
	char ids[5][GB_ID_LEN], p[512];
	struct gb_db *db = NULL;
	struct gb_err err;
	struct seen s;
	struct att a;
	uint64_t seq, first, n_after, oldest;
	int64_t lo, hi;
	long n;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gb-test-outbox-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(p, sizeof(p), "%s/grid.db", tmpdir);
	if (db_open(&db, p, DB_CREATE, &err)) {
		fprintf(stderr, "db_open: %s\n", err.msg);
		return 1;
	}
	CHECK(db_meta_set(db, "grid", "S09-G1", &err) == 0);
	CHECK(db_meta_set(db, "staff", "K0901", &err) == 0);

	/* Without a token the entries are left out, and packed on
	 * reading. */
	for (int i = 0; i < 3; i++)
		add_enterprise(db, usccs[i], names[i], ids[i]);
	CHECK(pending(db) == 3);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") ==
	      3);
	read_all(db, &s, 0);
	CHECK(s.n == 3);
	CHECK(s.packed_now == 3);
	CHECK_STR(s.id[0], ids[0]);
	CHECK_STR(s.id[2], ids[2]);
	CHECK(s.seq[0] < s.seq[1] && s.seq[1] < s.seq[2]);
	CHECK(outbox_pending(db, &n, &first, &err) == 0);
	CHECK(n == 3 && first == s.version[0]);
	/* The reader stops where it says. */
	read_all(db, &s, 2);
	CHECK(s.n == 2);

	/* With a token a version is packed when written; repacking packs
	 * the others. */
	CHECK(db_meta_set(db, "sync_token", "t0k3n", &err) == 0);
	add_enterprise(db, usccs[3], names[3], ids[3]);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") ==
	      3);
	CHECK(db_begin(db, &err) == 0);
	CHECK(outbox_repack(db, OUTBOX_PACK_MISSING, "repack", &err) == 0);
	CHECK(db_commit(db, &err) == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") ==
	      0);
	read_all(db, &s, 0);
	CHECK(s.n == 4);
	CHECK(s.packed_now == 0);
	CHECK(db_begin(db, &err) == 0);
	CHECK(outbox_repack(db, OUTBOX_UNPACK, "unpack", &err) == 0);
	CHECK(outbox_repack(db, OUTBOX_PACK_ALL, "repack", &err) == 0);
	CHECK(db_commit(db, &err) == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE wire IS NULL") ==
	      0);

	/* A batch written down is found again, and renumbered. */
	CHECK(db_begin(db, &err) == 0);
	CHECK(outbox_batch_add(db, 7, s.seq[0], s.seq[3], 4, &err) == 0);
	CHECK(db_commit(db, &err) == 0);
	CHECK(outbox_batch_next(db, 0, &seq, &lo, &hi, &err) == 1);
	CHECK(seq == 7 && lo == s.seq[0] && hi == s.seq[3]);
	CHECK(outbox_batch_next(db, 7, &seq, &lo, &hi, &err) == 0);
	CHECK(outbox_batch_renumber(db, 7, 9, &err) == 0);
	seq = 0;
	hi = 0;
	CHECK(outbox_batch_top(db, &seq, &hi, &err) == 0);
	CHECK(seq == 9 && hi == s.seq[3]);
	CHECK(outbox_batch_first(db, &seq, &n, &err) == 0);
	CHECK(seq == 9 && n == 4);
	CHECK(outbox_after(db, s.seq[1], &n_after, &oldest, &err) == 0);
	CHECK(n_after == 2 && oldest == s.version[2]);

	/* The answer: one taken, one refused for now, one refused, one not
	 * named (it stays). */
	{
		struct outbox_answer ans[4];

		memset(ans, 0, sizeof(ans));
		for (int i = 0; i < 4; i++) {
			ans[i].seq = s.seq[i];
			ans[i].id = s.id[i];
			ans[i].version = s.version[i];
		}
		ans[0].fate = OUTBOX_TAKEN;
		ans[1].fate = OUTBOX_WAITING;
		ans[1].reason_code = "EINVAL";
		ans[1].reason = "HQ 的时钟慢了";
		ans[2].fate = OUTBOX_REJECTED;
		ans[2].reason_code = "EINVAL";
		ans[2].reason = "统一社会信用代码重复";
		ans[3].fate = OUTBOX_STAYS;
		CHECK(db_begin(db, &err) == 0);
		CHECK(outbox_ack(db, 9, s.seq[0], s.seq[3], ans, 4, &err) == 1);
		CHECK(db_commit(db, &err) == 0);
		CHECK(pending(db) == 1);
		CHECK(outbox_batch_first(db, &seq, &n, &err) == 0);
		CHECK(seq == 0 && n == 0);
		/* Once more, as by the other process: the guard is gone. */
		ans[3].fate = OUTBOX_TAKEN;
		CHECK(db_begin(db, &err) == 0);
		CHECK(outbox_ack(db, 9, s.seq[0], s.seq[3], ans, 4, &err) == 0);
		CHECK(db_commit(db, &err) == 0);
		CHECK(pending(db) == 1);
	}
	memset(&a, 0, sizeof(a));
	CHECK(outbox_attention_each(db, 0, att_cb, &a, &err) == 0);
	CHECK(a.n == 1);
	CHECK_STR(a.status[0], "rejected");
	CHECK_STR(a.reason[0], "统一社会信用代码重复");
	CHECK_STR(a.id[0], ids[2]);
	memset(&a, 0, sizeof(a));
	CHECK(outbox_attention_each(db, 1, att_cb, &a, &err) == 0);
	CHECK(a.n == 1);
	CHECK_STR(a.status[0], "waiting");
	CHECK_STR(a.id[0], ids[1]);

	/* Refused for now: back into the outbox once. */
	CHECK(outbox_retry_requeue(db, &err) == 0);
	CHECK(pending(db) == 2);
	CHECK(outbox_retry_requeue(db, &err) == 0);
	CHECK(pending(db) == 2);
	{
		struct outbox_key *rows = NULL;
		size_t nrows = 9;

		CHECK(outbox_retry_above(db, 0, &rows, &nrows, &err) == 0);
		CHECK(nrows == 0);
		free(rows);
	}

	/* A row whose version the file does not hold leaves the outbox for
	 * the attention list. */
	CHECK(db_exec(db,
		      "INSERT INTO outbox (id, version) VALUES "
		      "('01890000-0000-7000-8000-000000000000', 5)",
		      "test", &err) == 0);
	CHECK(pending(db) == 3);
	read_all(db, &s, 0);
	CHECK(s.n == 2);
	CHECK(pending(db) == 2);
	CHECK(sql_int(db, "SELECT count(*) FROM attention WHERE reason_code = "
			  "'missing'") == 1);

	/* A version written goes in with its record. */
	add_enterprise(db, usccs[4], names[4], ids[4]);
	CHECK(pending(db) == 3);

	db_close(db);
	unlink(p);
	snprintf(p, sizeof(p), "%s/grid.db-journal", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/grid.db-sync-error", tmpdir);
	unlink(p);
	rmdir(tmpdir);
	return check_done();
}

/*
 * Tests of db.c, the grid file: creating and opening (mode, migrations,
 * refusals), loading a grid's reference data from a small seed directory,
 * writing records with their change log and history, the clock that never
 * goes backwards, remote versions, lists and filters, resolving what
 * people type, the lookup validation uses, and the field merge of what
 * two laptops wrote apart (bases, merged pulls, conflicts and their
 * resolution, and any order of arrival giving the merge of all).  Every
 * file lives in a temporary directory removed at the end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "db.h"
#include "db_int.h"
#include "gbtime.h"
#include "id.h"
#include "merge.h"
#include "schema.h"
#include "sync.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

static char tmpdir[256];

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	if (!fp) {
		perror(p);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

/* Removes every file in dir and dir itself (one level deep). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	for (;;) {
		e = readdir(d);
		if (!e)
			break;
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_dir(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* A tiny district: two grids of street S09, the first with two
 * communities, one police area and five people. */
static void make_seeds(const char *dir)
{
	mkdir(dir, 0700);
	write_file(dir, "district.csv", "code,name\nD09,青山区\n");
	write_file(dir, "streets.csv",
		   "code,name\nS08,北岸街道\nS09,江南街道\n");
	write_file(dir, "grids.csv",
		   "code,street,name\n"
		   "S08-G1,S08,北岸街道第一网格\n"
		   "S09-G1,S09,江南街道第一网格\n"
		   "S09-G2,S09,江南街道第二网格\n");
	/* Columns in another order than usual: read by header name. */
	write_file(dir, "communities.csv",
		   "grid,code,name,population,criminal_cases,patrol_team\n"
		   "S09-G1,S09-C01,和平社区,4200,120,9\n"
		   "S09-G1,S09-C02,和顺社区,3000,50,5\n"
		   "S09-G2,S09-C03,清河社区,5100,80,8\n");
	write_file(dir, "police_areas.csv",
		   "code,grid,name,room\n"
		   "PA-91,S09-G1,江南一警务区,和平社区警务室\n"
		   "PA-92,S09-G2,江南二警务区,清河社区警务室\n");
	write_file(dir, "area_communities.csv",
		   "area,community\nPA-91,S09-C01\nPA-91,S09-C02\n"
		   "PA-92,S09-C03\n");
	write_file(dir, "staff.csv",
		   "code,name,role,grid,area\n"
		   "K0901,林晓燕,coordinator,S09-G1,\n"
		   "J0901,王建国,chief,S09-G1,PA-91\n"
		   "J0902,王建军,officer,S09-G1,PA-91\n"
		   "J0903,赵志强,officer,S09-G1,PA-91\n"
		   "B0901,陈大勇,guard,S09-G1,PA-91\n"
		   "J0910,刘洋,officer,S09-G2,PA-92\n");
}

/* One integer from SQL on the file. */
static long long sql_int(struct gb_db *db, const char *sql, const char *arg)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static struct gb_record *new_rec(const char *kind)
{
	return gb_record_new(gb_kind_find(kind));
}

static struct gb_record *enterprise(const char *uscc, const char *name,
				    const char *community)
{
	struct gb_record *r = new_rec("enterprise");

	gb_record_set_name(r, "uscc", uscc);
	gb_record_set_name(r, "name", name);
	gb_record_set_name(r, "type", "company");
	gb_record_set_name(r, "community", community);
	gb_record_set_name(r, "employees", "40");
	gb_record_set_name(r, "status", "active");
	return r;
}

static struct gb_record *check_of(const char *ent, const char *date,
				  const char *outcome)
{
	struct gb_record *r = new_rec("contract_check");

	gb_record_set_name(r, "enterprise", ent);
	gb_record_set_name(r, "check_date", date);
	gb_record_set_name(r, "coordinator", "K0901");
	gb_record_set_name(r, "employees_total", "40");
	gb_record_set_name(r, "contracts_signed", "32");
	gb_record_set_name(r, "insured", "30");
	gb_record_set_name(r, "hiring_registered", "35");
	gb_record_set_name(r, "wage_arrears", "0.00");
	gb_record_set_name(r, "findings",
			   "部分员工未签合同, \"试用期\"\n另有一行");
	gb_record_set_name(r, "outcome", outcome);
	if (strcmp(outcome, "rectify_order") == 0)
		gb_record_set_name(r, "deadline", "2024-04-01");
	return r;
}

static struct gb_db *open_new(const char *name)
{
	struct gb_db *db = NULL;
	struct gb_err err;
	char p[512];

	path_in(p, sizeof(p), name);
	if (db_open(&db, p, DB_CREATE, &err)) {
		fprintf(stderr, "db_open %s: %s\n", p, err.msg);
		exit(1);
	}
	return db;
}

static void test_open(void)
{
	struct gb_db *db = NULL, *db2 = NULL;
	struct gb_err err;
	struct stat sb;
	char p[512], q[512];
	mode_t old = umask(0);

	path_in(p, sizeof(p), "open.grid");
	CHECK(db_open(&db, p, DB_CREATE, &err) == 0);
	umask(old);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(sql_int(db, "PRAGMA user_version", NULL) == gb_schema_client_n);
	CHECK(gb_uuid_valid(db_device(db)));
	CHECK(strlen(db_device(db)) == 36);
	CHECK_STR(db_grid(db), "");
	CHECK_STR(db_staff(db), "");
	CHECK(sql_int(db, "SELECT count(*) FROM meta WHERE key = 'device'",
		      NULL) == 1);
	/* Rollback journal on SQLite before 3.51.3 (SPEC §5). */
	if (sqlite3_libversion_number() < 3051003) {
		sqlite3_stmt *s;

		sqlite3_prepare_v2(db_sqlite(db), "PRAGMA journal_mode", -1, &s,
				   NULL);
		CHECK(sqlite3_step(s) == SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(s, 0), "truncate");
		sqlite3_finalize(s);
	}
	CHECK(sql_int(db, "PRAGMA synchronous", NULL) == 2);
	/* Deleted content zeroed only in pages written anyway (FAST). */
	CHECK(sql_int(db, "PRAGMA secure_delete", NULL) == 2);

	/* Settings. */
	CHECK(db_meta_set(db, "staff", "K0901", &err) == 0);
	CHECK_STR(db_staff(db), "K0901");
	{
		char *v = db_meta_get(db, "staff");

		CHECK_STR(v, "K0901");
		free(v);
		CHECK(db_meta_get(db, "nothing") == NULL);
	}
	db_close(db);

	/* Creating over it is refused and names the path. */
	db = NULL;
	CHECK(db_open(&db, p, DB_CREATE, &err) == -1);
	CHECK(db == NULL);
	CHECK(err.code == GB_EEXIST);
	CHECK(strstr(err.msg, p) != NULL);

	/* Opening again keeps the device and the settings. */
	CHECK(db_open(&db, p, 0, &err) == 0);
	CHECK_STR(db_staff(db), "K0901");
	CHECK(sql_int(db, "PRAGMA user_version", NULL) == gb_schema_client_n);
	/* Two handles on one file, as the CLI and the daemon have. */
	CHECK(db_open(&db2, p, DB_READONLY, &err) == 0);
	CHECK_STR(db_device(db2), db_device(db));
	db_close(db2);
	db_close(db);

	/* A missing file is not created. */
	path_in(q, sizeof(q), "missing.grid");
	CHECK(db_open(&db, q, 0, &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, q) != NULL);
	CHECK(access(q, F_OK) != 0);
	CHECK(db_open(&db, q, DB_READONLY, &err) == -1);
	CHECK(access(q, F_OK) != 0);

	/* A file from a newer gridbook is refused. */
	{
		sqlite3 *sq;

		CHECK(sqlite3_open(p, &sq) == SQLITE_OK);
		CHECK(sqlite3_exec(sq, "PRAGMA user_version = 999", NULL, NULL,
				   NULL) == SQLITE_OK);
		sqlite3_close(sq);
		CHECK(db_open(&db, p, 0, &err) == -1);
		CHECK(err.code == GB_EDB);
		CHECK(strstr(err.msg, "newer") != NULL);
	}
	/* A text file and a foreign database are not grid files. */
	write_file(tmpdir, "notes.txt",
		   "this is not a database, only some notes\n"
		   "padding padding padding padding padding padding padding\n"
		   "padding padding padding padding padding padding padding\n");
	path_in(q, sizeof(q), "notes.txt");
	CHECK(db_open(&db, q, 0, &err) == -1);
	CHECK(strstr(err.msg, "not a grid file") != NULL);
	{
		sqlite3 *sq;

		path_in(q, sizeof(q), "other.db");
		CHECK(sqlite3_open(q, &sq) == SQLITE_OK);
		sqlite3_exec(sq, "CREATE TABLE t (x)", NULL, NULL, NULL);
		sqlite3_close(sq);
		CHECK(db_open(&db, q, 0, &err) == -1);
		CHECK(strstr(err.msg, "not a grid file") != NULL);
	}
	/* A failed create leaves no file behind. */
	path_in(q, sizeof(q), "nodir/x.grid");
	CHECK(db_open(&db, q, DB_CREATE, &err) == -1);
	CHECK(err.code == GB_EIO);
}

static void test_seeds(struct gb_db *db, const char *seeds)
{
	struct gb_err err;
	char *v;

	CHECK(db_load_seeds(db, seeds, "S09-G9", &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, "S09-G9") != NULL);
	CHECK(strstr(err.msg, seeds) != NULL);
	CHECK(db_load_seeds(db, "/nonexistent-seeds", "S09-G1", &err) == -1);

	CHECK(db_load_seeds(db, seeds, "S09-G1", &err) == 0);
	CHECK_STR(db_grid(db), "S09-G1");
	v = db_meta_get(db, "grid_name");
	CHECK_STR(v, "江南街道第一网格");
	free(v);
	v = db_meta_get(db, "street");
	CHECK_STR(v, "S09");
	free(v);
	v = db_meta_get(db, "street_name");
	CHECK_STR(v, "江南街道");
	free(v);
	v = db_meta_get(db, "district");
	CHECK_STR(v, "D09");
	free(v);
	v = db_meta_get(db, "district_name");
	CHECK_STR(v, "青山区");
	free(v);
	CHECK(sql_int(db, "SELECT count(*) FROM community", NULL) == 2);
	CHECK(sql_int(db, "SELECT count(*) FROM police_area", NULL) == 1);
	CHECK(sql_int(db, "SELECT count(*) FROM area_community", NULL) == 2);
	CHECK(sql_int(db, "SELECT count(*) FROM staff", NULL) == 5);
	CHECK(sql_int(db, "SELECT population FROM community WHERE code = ?1",
		      "S09-C01") == 4200);
	CHECK(sql_int(db, "SELECT count(*) FROM community WHERE street = ?1",
		      "S09") == 2);
	/* Loading again replaces rather than adds. */
	CHECK(db_load_seeds(db, seeds, "S09-G1", &err) == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM staff", NULL) == 5);
}

static void test_bad_seeds(void)
{
	char bad[512];
	struct gb_db *db = open_new("badseeds.grid");
	struct gb_err err;

	snprintf(bad, sizeof(bad), "%s/bad", tmpdir);
	make_seeds(bad);
	write_file(bad, "staff.csv",
		   "code,name,role,grid,area\nK0901,林晓燕,boss,S09-G1,\n");
	CHECK(db_load_seeds(db, bad, "S09-G1", &err) == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK(strstr(err.msg, "staff.csv:2") != NULL);
	/* Nothing of the failed load stays. */
	CHECK(sql_int(db, "SELECT count(*) FROM community", NULL) == 0);
	CHECK_STR(db_grid(db), "");
	write_file(bad, "staff.csv", "code,name,grid,area\n");
	CHECK(db_load_seeds(db, bad, "S09-G1", &err) == -1);
	CHECK(strstr(err.msg, "no column \"role\"") != NULL);
	write_file(bad, "staff.csv", "code,name,role,grid,area\n");
	write_file(bad, "communities.csv",
		   "code,grid,name,population,criminal_cases,patrol_team\n"
		   "S09-C01,S09-G1,和平社区,many,120,9\n");
	CHECK(db_load_seeds(db, bad, "S09-G1", &err) == -1);
	CHECK(strstr(err.msg, "communities.csv:2") != NULL);
	CHECK(strstr(err.msg, "population") != NULL);
	db_close(db);
	remove_dir(bad);
}

struct collect {
	int n;
	uint64_t versions[16];
	char ids[16][GB_ID_LEN];
	int voided[16];
	char vals[16][64];
	const char *field;
	int stop_after;
};

static int collect_cb(void *arg, const struct gb_record *r)
{
	struct collect *c = arg;

	if (c->n < 16) {
		c->versions[c->n] = r->version;
		snprintf(c->ids[c->n], GB_ID_LEN, "%s", r->id);
		c->voided[c->n] = r->voided;
		if (c->field) {
			const char *v = gb_record_get(r, c->field);

			snprintf(c->vals[c->n], 64, "%s", v ? v : "");
		}
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? -1 : 0;
}

static void test_write(struct gb_db *db, char *ent_id)
{
	struct gb_record *e =
	    enterprise("91330100MA2K8Q9X7L", "江南机械有限公司", "S09-C01");
	struct gb_record *c, *got = NULL;
	struct collect col = {0};
	struct gb_err err;
	uint64_t v1;
	int64_t created;

	setenv("GRIDBOOK_NOW", "2024-03-01 10:00", 1);
	CHECK(db_meta_set(db, "staff", "K0901", &err) == 0);
	CHECK(db_record_insert(db, e, &err) == 0);
	CHECK(gb_uuid_valid(e->id));
	CHECK_STR(e->grid, "S09-G1");
	CHECK_STR(e->device, db_device(db));
	CHECK_STR(e->staff, "K0901");
	CHECK(e->created_at == e->updated_at);
	CHECK(gb_hlc_ms(e->version) == e->created_at);
	snprintf(ent_id, GB_ID_LEN, "%s", e->id);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE id = ?1", e->id) ==
	      1);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE community = "
		      "'S09-C01' AND status = 'active' AND title = "
		      "'江南机械有限公司' AND day IS NULL",
		      NULL) == 1);
	/* A duplicate id is refused. */
	{
		struct gb_record *dup = gb_record_dup(e);

		CHECK(db_record_insert(db, dup, &err) == -1);
		CHECK(err.code == GB_EEXIST);
		gb_record_free(dup);
	}

	/* A check takes its community from its enterprise. */
	c = check_of(e->id, "2024-03-01", "rectify_order");
	CHECK(db_record_insert(db, c, &err) == 0);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "community = 'S09-C01' AND day = '2024-03-01' AND "
		      "person = 'K0901' AND status = 'rectify_order'",
		      c->id) == 1);

	/* Reading back: values as stored, INT as canonical text. */
	CHECK(db_record_get(db, NULL, c->id, &got, &err) == 0);
	CHECK(got && gb_record_same_content(got, c));
	CHECK_STR(gb_record_get(got, "employees_total"), "40");
	CHECK_STR(gb_record_get(got, "findings"),
		  "部分员工未签合同, \"试用期\"\n另有一行");
	CHECK(got->version == c->version && got->created_at == c->created_at);
	CHECK_STR(got->device, db_device(db));
	gb_record_free(got);

	/* Update: the old version goes to history, both in the outbox. */
	setenv("GRIDBOOK_NOW", "2024-03-01 10:05", 1);
	v1 = c->version;
	created = c->created_at;
	gb_record_set_name(c, "contracts_signed", "38");
	CHECK(db_record_update(db, c, &err) == 0);
	CHECK(c->version > v1);
	CHECK(c->created_at == created);
	CHECK(c->updated_at > created);
	CHECK(sql_int(db, "SELECT count(*) FROM record_history WHERE id = ?1",
		      c->id) == 1);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE id = ?1", c->id) ==
	      2);
	CHECK(sql_int(db,
		      "SELECT count(DISTINCT version) FROM outbox WHERE "
		      "id = ?1",
		      c->id) == 2);
	CHECK(db_record_get(db, gb_kind_find("contract_check"), c->id, &got,
			    &err) == 0);
	CHECK_STR(gb_record_get(got, "contracts_signed"), "38");
	gb_record_free(got);

	/* Void is an update that keeps the row. */
	c->voided = 1;
	gb_record_set_void_reason(c, "录入重复");
	CHECK(db_record_update(db, c, &err) == 0);
	CHECK(db_record_get(db, NULL, c->id, &got, &err) == 0);
	CHECK(got->voided == 1);
	CHECK_STR(got->void_reason, "录入重复");
	CHECK_STR(gb_record_get(got, "contracts_signed"), "38");
	gb_record_free(got);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox WHERE id = ?1", c->id) ==
	      3);

	/* History: oldest first, current last. */
	col.field = "contracts_signed";
	CHECK(db_record_history(db, c->id, collect_cb, &col, &err) == 0);
	CHECK(col.n == 3);
	CHECK(col.versions[0] == v1);
	CHECK(col.versions[0] < col.versions[1] &&
	      col.versions[1] < col.versions[2]);
	CHECK_STR(col.vals[0], "32");
	CHECK_STR(col.vals[1], "38");
	CHECK(col.voided[0] == 0 && col.voided[2] == 1);
	/* The callback can stop it. */
	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	err.code = GB_OK;
	CHECK(db_record_history(db, c->id, collect_cb, &col, &err) == -1);
	CHECK(col.n == 1 && err.code == GB_OK);

	/* Updating a missing record, or as another kind, fails. */
	{
		struct gb_record *x =
		    check_of(e->id, "2024-03-01", "compliant");

		snprintf(x->id, GB_ID_LEN, "%s",
			 "01900000-0000-7000-8000-000000000000");
		CHECK(db_record_update(db, x, &err) == -1);
		CHECK(err.code == GB_ENOTFOUND);
		snprintf(x->id, GB_ID_LEN, "%s", e->id);
		CHECK(db_record_update(db, x, &err) == -1);
		CHECK(err.code == GB_EINVAL);
		gb_record_free(x);
	}
	gb_record_free(c);
	gb_record_free(e);
}

static void test_get_prefix(struct gb_db *db, const char *ent_id)
{
	struct gb_record *got = NULL;
	struct gb_err err;
	char pre[24], upper[GB_ID_LEN];

	/* The enterprise and its first check were made in one pinned
	 * millisecond: their ids differ from the counter after "-7" on. */
	snprintf(pre, sizeof(pre), "%.18s", ent_id);
	CHECK(db_record_get(db, NULL, pre, &got, &err) == 0);
	CHECK(got && strcmp(got->id, ent_id) == 0);
	gb_record_free(got);
	snprintf(pre, sizeof(pre), "%.14s", ent_id);
	CHECK(db_record_get(db, NULL, pre, &got, &err) == -1);
	CHECK(err.code == GB_EAMBIGUOUS);
	for (int i = 0; ent_id[i]; i++)
		upper[i] =
		    (char)(ent_id[i] >= 'a' && ent_id[i] <= 'f' ? ent_id[i] - 32
								: ent_id[i]);
	upper[36] = '\0';
	CHECK(db_record_get(db, NULL, upper, &got, &err) == 0);
	CHECK(got && strcmp(got->id, ent_id) == 0);
	gb_record_free(got);

	/* Ids made in one minute share their first 8 characters. */
	CHECK(db_record_get(db, NULL, "0", &got, &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	snprintf(pre, sizeof(pre), "%.8s", ent_id);
	CHECK(db_record_get(db, NULL, pre, &got, &err) == -1);
	CHECK(err.code == GB_EAMBIGUOUS);
	CHECK(strstr(err.msg, pre) != NULL);
	CHECK(strstr(err.msg, ent_id) != NULL);
	/* With a kind, only that kind counts. */
	CHECK(db_record_get(db, gb_kind_find("enterprise"), pre, &got, &err) ==
	      0);
	CHECK(got && strcmp(got->id, ent_id) == 0);
	gb_record_free(got);
	/* The record is of another kind: said so. */
	CHECK(db_record_get(db, gb_kind_find("patrol"), ent_id, &got, &err) ==
	      -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, "enterprise") != NULL);
	CHECK(got == NULL);
	CHECK(db_record_get(db, NULL, "ffff", &got, &err) == -1);
	CHECK(err.code == GB_ENOTFOUND && strstr(err.msg, "ffff"));
	CHECK(db_record_get(db, NULL, "王建国", &got, &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
}

static void test_hlc(void)
{
	struct gb_db *a = open_new("hlc.grid"), *b = NULL;
	struct gb_record *r = new_rec("daily_report");
	struct gb_err err;
	char p[512];
	uint64_t v1, v2, v3, v4;

	path_in(p, sizeof(p), "hlc.grid");
	gb_record_set_name(r, "officer", "J0902");
	gb_record_set_name(r, "date", "2024-03-01");
	gb_record_set_name(r, "households", "12");
	setenv("GRIDBOOK_NOW", "2024-03-01 18:00", 1);
	CHECK(db_record_insert(a, r, &err) == 0);
	v1 = r->version;
	/* The wall clock goes back an hour. */
	setenv("GRIDBOOK_NOW", "2024-03-01 17:00", 1);
	gb_record_set_name(r, "households", "13");
	CHECK(db_record_update(a, r, &err) == 0);
	v2 = r->version;
	CHECK(v2 > v1);
	/* And stays there over a close and a reopen. */
	db_close(a);
	CHECK(db_open(&a, p, 0, &err) == 0);
	gb_record_set_name(r, "households", "14");
	CHECK(db_record_update(a, r, &err) == 0);
	v3 = r->version;
	CHECK(v3 > v2);
	/* A second handle on the file (another process) continues too. */
	CHECK(db_open(&b, p, 0, &err) == 0);
	setenv("GRIDBOOK_NOW", "2024-03-01 16:00", 1);
	gb_record_set_name(r, "households", "15");
	CHECK(db_record_update(b, r, &err) == 0);
	v4 = r->version;
	CHECK(v4 > v3);
	gb_record_set_name(r, "households", "16");
	CHECK(db_record_update(a, r, &err) == 0);
	CHECK(r->version > v4);
	/* Versions in the outbox strictly increase in order. */
	CHECK(sql_int(a,
		      "SELECT count(*) FROM outbox o1 JOIN outbox o2 ON "
		      "o2.seq > o1.seq AND o2.version <= o1.version",
		      NULL) == 0);
	CHECK(sql_int(a, "SELECT count(*) FROM outbox", NULL) == 5);
	/* Ids from one handle keep increasing too. */
	{
		struct gb_record *x = new_rec("daily_report"),
				 *y = new_rec("daily_report");

		gb_record_set_name(x, "officer", "J0903");
		gb_record_set_name(x, "date", "2024-03-01");
		gb_record_set_name(y, "officer", "J0903");
		gb_record_set_name(y, "date", "2024-03-02");
		CHECK(db_record_insert(b, x, &err) == 0);
		setenv("GRIDBOOK_NOW", "2024-03-01 15:00", 1);
		CHECK(db_record_insert(b, y, &err) == 0);
		CHECK(strcmp(y->id, x->id) > 0);
		CHECK(y->version > x->version);
		gb_record_free(x);
		gb_record_free(y);
	}
	db_close(b);
	db_close(a);
	gb_record_free(r);
}

static void test_rollback(struct gb_db *db)
{
	struct gb_record *r = new_rec("dispute"), *got = NULL;
	struct gb_err err;
	long long before = sql_int(db, "SELECT count(*) FROM outbox", NULL);
	long long recs = sql_int(db, "SELECT count(*) FROM record", NULL);

	gb_record_set_name(r, "workers", "3");
	gb_record_set_name(r, "category", "wages");
	gb_record_set_name(r, "received_date", "2024-03-02");
	gb_record_set_name(r, "level", "community");
	gb_record_set_name(r, "status", "open");
	CHECK(db_begin(db, &err) == 0);
	CHECK(db_begin(db, &err) == -1);
	CHECK(db_record_insert(db, r, &err) == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox", NULL) == before + 1);
	db_rollback(db);
	CHECK(db_record_get(db, NULL, r->id, &got, &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox", NULL) == before);
	CHECK(sql_int(db, "SELECT count(*) FROM record", NULL) == recs);
	CHECK(db_commit(db, &err) == -1);

	/* Committed, several writes in one transaction. */
	CHECK(db_begin(db, &err) == 0);
	r->id[0] = '\0';
	CHECK(db_record_insert(db, r, &err) == 0);
	gb_record_set_name(r, "status", "mediated");
	CHECK(db_record_update(db, r, &err) == 0);
	CHECK(db_commit(db, &err) == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM outbox", NULL) == before + 2);
	CHECK(db_record_get(db, NULL, r->id, &got, &err) == 0);
	CHECK_STR(gb_record_get(got, "status"), "mediated");
	gb_record_free(got);

	/* A transaction begun with plain SQL is joined. */
	CHECK(sqlite3_exec(db_sqlite(db), "BEGIN IMMEDIATE", NULL, NULL,
			   NULL) == SQLITE_OK);
	r->id[0] = '\0';
	CHECK(db_record_insert(db, r, &err) == 0);
	CHECK(sqlite3_exec(db_sqlite(db), "ROLLBACK", NULL, NULL, NULL) ==
	      SQLITE_OK);
	CHECK(db_record_get(db, NULL, r->id, &got, &err) == -1);
	gb_record_free(r);
}

static void test_remote(struct gb_db *db)
{
	static const char other[] = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
	struct gb_record *r =
	    enterprise("91330100MA2K8QAB1C", "远方贸易有限公司", "S09-C02");
	struct gb_record *got = NULL, *mine;
	struct collect col = {0};
	struct gb_err err;
	long long out = sql_int(db, "SELECT count(*) FROM outbox", NULL);
	int applied = -1;
	int64_t t0;

	gb_time_parse("2024-03-01 12:00", &t0, NULL);
	snprintf(r->id, GB_ID_LEN, "%s",
		 "0190abcd-0000-7000-8000-000000000001");
	snprintf(r->grid, GB_CODE_LEN, "S09-G1");
	snprintf(r->device, GB_ID_LEN, "%s", other);
	snprintf(r->staff, GB_CODE_LEN, "K0902");
	r->created_at = r->updated_at = t0;
	r->version = (uint64_t)t0 << 16;
	CHECK(db_record_put_remote(db, r, &applied, &err) == 0);
	CHECK(applied == 1);
	CHECK(db_record_get(db, NULL, r->id, &got, &err) == 0);
	CHECK(got->version == r->version);
	CHECK_STR(got->device, other);
	CHECK_STR(got->staff, "K0902");
	gb_record_free(got);
	/* No change-log entry for what came from elsewhere. */
	CHECK(sql_int(db, "SELECT count(*) FROM outbox", NULL) == out);

	/* The same again: nothing changes. */
	CHECK(db_record_put_remote(db, r, &applied, &err) == 0);
	CHECK(applied == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM record_history WHERE id = ?1",
		      r->id) == 0);

	/* An older version goes to history only. */
	gb_record_set_name(r, "employees", "35");
	r->version -= 5;
	CHECK(db_record_put_remote(db, r, &applied, &err) == 0);
	CHECK(applied == 0);
	CHECK(db_record_get(db, NULL, r->id, &got, &err) == 0);
	CHECK_STR(gb_record_get(got, "employees"), "40");
	gb_record_free(got);
	CHECK(sql_int(db, "SELECT count(*) FROM record_history WHERE id = ?1",
		      r->id) == 1);

	/* A newer one, far ahead of our clock, becomes current. */
	gb_record_set_name(r, "employees", "50");
	r->version = (uint64_t)(t0 + 86400000) << 16;
	CHECK(db_record_put_remote(db, r, &applied, &err) == 0);
	CHECK(applied == 1);
	CHECK(db_record_get(db, NULL, r->id, &got, &err) == 0);
	CHECK_STR(gb_record_get(got, "employees"), "50");
	gb_record_free(got);
	CHECK(db_record_history(db, r->id, collect_cb, &col, &err) == 0);
	CHECK(col.n == 3);
	CHECK(col.versions[2] == r->version);

	/* Equal version: the device id decides. */
	{
		struct gb_record *t = gb_record_dup(r);

		snprintf(t->device, GB_ID_LEN, "%s",
			 "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeef");
		gb_record_set_name(t, "employees", "51");
		CHECK(db_record_put_remote(db, t, &applied, &err) == 0);
		CHECK(applied == 1);
		snprintf(t->device, GB_ID_LEN, "%s",
			 "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeee0");
		gb_record_set_name(t, "employees", "52");
		CHECK(db_record_put_remote(db, t, &applied, &err) == 0);
		CHECK(applied == 0);
		gb_record_free(t);
	}

	/* A local edit after that is newer than the remote version, though
	 * the wall clock is a day behind it. */
	CHECK(db_record_get(db, NULL, r->id, &mine, &err) == 0);
	setenv("GRIDBOOK_NOW", "2024-03-01 12:30", 1);
	gb_record_set_name(mine, "employees", "55");
	CHECK(db_record_update(db, mine, &err) == 0);
	CHECK(mine->version > r->version);
	gb_record_free(mine);

	/* A bad id is refused. */
	snprintf(r->id, GB_ID_LEN, "not-an-id");
	CHECK(db_record_put_remote(db, r, &applied, &err) == -1);
	CHECK(applied == 0);
	gb_record_free(r);
}

/* ---- the field merge on the laptop (schema/client/005) ---- */

/* A laptop of the grid: a new file of its own (its own device id). */
static struct gb_db *laptop(const char *name, const char *seeds,
			    const char *staff)
{
	struct gb_db *db = open_new(name);
	struct gb_err err;

	CHECK(db_load_seeds(db, seeds, "S09-G1", &err) == 0);
	CHECK(db_meta_set(db, "staff", staff, &err) == 0);
	return db;
}

/* Version v, just written on one laptop, arriving on another (sync). */
static void ship(struct gb_db *to, const struct gb_record *v)
{
	struct gb_err err;
	int applied;

	CHECK(db_record_put_remote(to, v, &applied, &err) == 0);
}

/* Edits the record id on db at the time now: field = value (or voids it
 * when field is NULL).  Returns the version written; caller frees. */
static struct gb_record *edit_at(struct gb_db *db, const char *id,
				 const char *now, const char *field,
				 const char *value)
{
	struct gb_record *r = NULL;
	struct gb_err err;

	setenv("GRIDBOOK_NOW", now, 1);
	CHECK(db_record_get(db, NULL, id, &r, &err) == 0);
	if (!r)
		exit(1);
	if (field) {
		gb_record_set_name(r, field, value);
	} else {
		r->voided = 1;
		gb_record_set_void_reason(r, value);
	}
	CHECK(db_record_update(db, r, &err) == 0);
	return r;
}

/* The current record id on db; caller frees. */
static struct gb_record *current(struct gb_db *db, const char *id)
{
	struct gb_record *r = NULL;
	struct gb_err err;

	CHECK(db_record_get(db, NULL, id, &r, &err) == 0);
	if (!r)
		exit(1);
	return r;
}

/* Whether the two laptops show record id alike: values, void, version,
 * device, and the same conflicts. */
static int same_on_both(struct gb_db *a, struct gb_db *b, const char *id)
{
	struct gb_record *x = current(a, id), *y = current(b, id);
	static const char q[] =
	    "SELECT group_concat(field || ':' || kept_version || ':' || "
	    "coalesce(kept_value, '-') || ':' || lost_version || ':' || "
	    "coalesce(lost_value, '-'), ',') FROM (SELECT * FROM "
	    "field_conflict WHERE id = ?1 ORDER BY field, lost_version)";
	sqlite3_stmt *s;
	char ca[512] = "", cb[512] = "";
	int same = gb_record_same_content(x, y) && x->version == y->version &&
		   strcmp(x->device, y->device) == 0;

	for (int i = 0; i < 2; i++) {
		struct gb_db *d = i ? b : a;
		char *out = i ? cb : ca;

		if (sqlite3_prepare_v2(db_sqlite(d), q, -1, &s, NULL) !=
		    SQLITE_OK)
			return 0;
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(out, 512, "%s",
				 (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	gb_record_free(x);
	gb_record_free(y);
	return same && strcmp(ca, cb) == 0;
}

struct conflicts {
	int n;
	char field[4][32];
	char kept[4][64], lost[4][64];
	char lost_device[4][GB_ID_LEN];
};

static int conflicts_cb(void *arg, const struct db_conflict *c)
{
	struct conflicts *cs = arg;

	if (cs->n < 4) {
		snprintf(cs->field[cs->n], 32, "%s", c->field_name);
		snprintf(cs->kept[cs->n], 64, "%s",
			 c->kept.value ? c->kept.value : "(none)");
		snprintf(cs->lost[cs->n], 64, "%s",
			 c->lost.value ? c->lost.value : "(none)");
		snprintf(cs->lost_device[cs->n], GB_ID_LEN, "%s",
			 c->lost.device);
	}
	cs->n++;
	return 0;
}

static long conflict_count(struct gb_db *db)
{
	struct gb_err err;
	long n = -1;

	CHECK(db_conflict_count(db, &n, &err) == 0);
	return n;
}

/* A new enterprise on a, arrived on b: the base both edit from. */
static void shared_enterprise(struct gb_db *a, struct gb_db *b,
			      const char *uscc, const char *at, char *id)
{
	struct gb_record *e = enterprise(uscc, "和顺五金加工厂", "S09-C01");
	struct gb_err err;

	/* Each at its own time, after what the files hold: a clock set
	 * more than a day back is refused (SPEC §4). */
	setenv("GRIDBOOK_NOW", at, 1);
	CHECK(db_record_insert(a, e, &err) == 0);
	CHECK(e->nbase == 0);
	ship(b, e);
	snprintf(id, GB_ID_LEN, "%s", e->id);
	gb_record_free(e);
}

/* An edit names as its base the version it was made from, and after a
 * merge the heads the merged record rests on; a new record none. */
static void test_merge_bases(struct gb_db *a, struct gb_db *b)
{
	char id[GB_ID_LEN];
	struct gb_record *v0, *v1, *va, *vb, *v2;

	shared_enterprise(a, b, "91330100MA2K8QAC1A", "2024-05-06 09:00", id);
	v0 = current(a, id);
	CHECK(v0->nbase == 0);
	v1 = edit_at(a, id, "2024-05-06 09:10", "address", "解放路12号");
	CHECK(v1->nbase == 1 && v1->base[0] == v0->version);
	/* The base goes out with the version. */
	CHECK(sql_int(a,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "bases IS NOT NULL AND heads IS NULL",
		      id) == 1);
	ship(b, v1);
	va = edit_at(a, id, "2024-05-06 10:00", "address", "解放路14号");
	vb = edit_at(b, id, "2024-05-06 10:05", "employees", "45");
	CHECK(va->nbase == 1 && va->base[0] == v1->version);
	CHECK(vb->nbase == 1 && vb->base[0] == v1->version);
	ship(a, vb);
	/* Two heads now: the next edit names both. */
	CHECK(sql_int(a,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "heads IS NOT NULL",
		      id) == 1);
	v2 = edit_at(a, id, "2024-05-06 10:30", "industry", "制造业");
	CHECK(v2->nbase == 2);
	CHECK(v2->base[0] == va->version && v2->base[1] == vb->version);
	/* It saw both, so it is the record again, on both laptops. */
	CHECK(sql_int(a,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "heads IS NULL",
		      id) == 1);
	ship(b, va);
	ship(b, v2);
	CHECK(sql_int(b,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "heads IS NULL",
		      id) == 1);
	CHECK(same_on_both(a, b, id));
	gb_record_free(v0);
	gb_record_free(v1);
	gb_record_free(va);
	gb_record_free(vb);
	gb_record_free(v2);
}

/* A sets the address, B the headcount, from the same base, offline:
 * after both arrive everywhere, both changes stand, without conflict. */
static void test_merge_disjoint(struct gb_db *a, struct gb_db *b)
{
	char id[GB_ID_LEN];
	struct gb_record *va, *vb, *r;
	struct collect col = {0};
	struct gb_err err;

	shared_enterprise(a, b, "91330100MA2K8QAD1B", "2024-05-07 08:50", id);
	va = edit_at(a, id, "2024-05-07 09:00", "address", "人民路88号");
	vb = edit_at(b, id, "2024-05-07 09:30", "employees", "52");
	ship(a, vb);
	ship(b, va);
	for (int i = 0; i < 2; i++) {
		r = current(i ? b : a, id);
		CHECK_STR(gb_record_get(r, "address"), "人民路88号");
		CHECK_STR(gb_record_get(r, "employees"), "52");
		/* The newest version names the merged record. */
		CHECK(r->version == vb->version);
		gb_record_free(r);
	}
	CHECK(conflict_count(a) == 0 && conflict_count(b) == 0);
	CHECK(same_on_both(a, b, id));
	/* Delivered again: nothing changes. */
	ship(a, vb);
	ship(a, va);
	CHECK(same_on_both(a, b, id));
	/* History keeps every version, each as it was written. */
	col.field = "address";
	CHECK(db_record_history(a, id, collect_cb, &col, &err) == 0);
	CHECK(col.n == 3);
	CHECK_STR(col.vals[1], "人民路88号");
	CHECK_STR(col.vals[2], "");
	gb_record_free(va);
	gb_record_free(vb);
}

/* Both change the headcount: the newer value stands, on both laptops,
 * with a conflict keeping both; resolving it on one laptop ends it on
 * the other too. */
static void test_merge_same_field(struct gb_db *a, struct gb_db *b)
{
	char id[GB_ID_LEN];
	struct gb_record *va, *vb, *r, *vr;
	struct conflicts ca = {0}, cb = {0};
	struct gb_err err;

	shared_enterprise(a, b, "91330100MA2K8QAE1C", "2024-05-08 08:50", id);
	va = edit_at(a, id, "2024-05-08 09:00", "employees", "60");
	vb = edit_at(b, id, "2024-05-08 09:20", "employees", "58");
	ship(b, va);
	ship(a, vb);
	CHECK(conflict_count(a) == 1 && conflict_count(b) == 1);
	CHECK(db_conflict_list(a, id, NULL, conflicts_cb, &ca, &err) == 0);
	CHECK(db_conflict_list(b, NULL, "employees", conflicts_cb, &cb, &err) ==
	      0);
	CHECK(ca.n == 1 && cb.n >= 1);
	CHECK_STR(ca.field[0], "employees");
	CHECK_STR(ca.kept[0], "58");
	CHECK_STR(ca.lost[0], "60");
	CHECK_STR(ca.lost_device[0], db_device(a));
	r = current(a, id);
	CHECK_STR(gb_record_get(r, "employees"), "58");
	gb_record_free(r);
	CHECK(same_on_both(a, b, id));
	/* An edit of another field leaves the conflict as it is. */
	gb_record_free(edit_at(b, id, "2024-05-08 10:00", "industry", "零售"));
	CHECK(conflict_count(b) == 1);
	/* A keeps B's value ("theirs"): the version says it resolves the
	 * field and names both sides as bases. */
	setenv("GRIDBOOK_NOW", "2024-05-08 11:00", 1);
	vr = current(a, id);
	gb_record_set_name(vr, "employees", "58");
	CHECK(db_record_resolve(a, vr, 0, &err) == -1);
	CHECK(db_record_resolve(a, vr,
				1u << gb_kind_field(vr->kind, "employees"),
				&err) == 0);
	CHECK(vr->nbase == 2);
	CHECK(conflict_count(a) == 0);
	ship(b, vr);
	/* B's own edit of the industry was not on A yet: B still merges,
	 * but the headcount conflict is over there too. */
	CHECK(conflict_count(b) == 0);
	r = current(b, id);
	CHECK_STR(gb_record_get(r, "employees"), "58");
	CHECK_STR(gb_record_get(r, "industry"), "零售");
	gb_record_free(r);
	gb_record_free(va);
	gb_record_free(vb);
	gb_record_free(vr);
}

/* A patrol voided on A, edited on B later without seeing the void: the
 * void stands on both, flagged as a conflict. */
static void test_merge_void(struct gb_db *a, struct gb_db *b)
{
	struct gb_record *p = new_rec("patrol"), *va, *vb, *r;
	struct conflicts c = {0};
	struct gb_err err;
	char id[GB_ID_LEN];

	setenv("GRIDBOOK_NOW", "2024-05-09 20:00", 1);
	gb_record_set_name(p, "area", "PA-91");
	gb_record_set_name(p, "start", "1715256000000");
	gb_record_set_name(p, "end", "1715263200000");
	gb_record_set_name(p, "leader", "J0902");
	gb_record_set_name(p, "mode", "foot");
	CHECK(db_record_insert(a, p, &err) == 0);
	ship(b, p);
	snprintf(id, GB_ID_LEN, "%s", p->id);
	va = edit_at(a, id, "2024-05-09 21:00", NULL, "重复录入");
	vb = edit_at(b, id, "2024-05-09 22:00", "incidents", "2");
	ship(a, vb);
	ship(b, va);
	for (int i = 0; i < 2; i++) {
		r = current(i ? b : a, id);
		CHECK(r->voided);
		CHECK_STR(r->void_reason, "重复录入");
		/* B's change is kept beside the void. */
		CHECK_STR(gb_record_get(r, "incidents"), "2");
		gb_record_free(r);
	}
	CHECK(same_on_both(a, b, id));
	CHECK(db_conflict_list(a, id, DB_FIELD_VOID, conflicts_cb, &c, &err) ==
	      0);
	CHECK(c.n == 1);
	CHECK_STR(c.kept[0], "重复录入");
	CHECK_STR(c.lost[0], "(none)");
	/* Voided lists leave it out on both. */
	CHECK(sql_int(b, "SELECT voided FROM record WHERE id = ?1", id) == 1);
	gb_record_free(p);
	gb_record_free(va);
	gb_record_free(vb);
}

/* A's edit is not sent yet when B's arrives: the record is merged over
 * both, and A's version stays as it was written, ready to go. */
static void test_merge_unsent(struct gb_db *a, struct gb_db *b)
{
	char id[GB_ID_LEN];
	struct gb_record *va, *vb, *r;
	struct collect col = {0};
	struct gb_err err;

	shared_enterprise(a, b, "91330100MA2K8QAF1D", "2024-05-10 08:50", id);
	va = edit_at(a, id, "2024-05-10 09:30", "employees", "70");
	vb = edit_at(b, id, "2024-05-10 09:00", "address", "建设路3号");
	CHECK(sql_int(a, "SELECT count(*) FROM outbox WHERE id = ?1", id) == 2);
	ship(a, vb);
	r = current(a, id);
	CHECK_STR(gb_record_get(r, "employees"), "70");
	CHECK_STR(gb_record_get(r, "address"), "建设路3号");
	/* The newest is A's own, yet the row is a merge, not A's version. */
	CHECK(r->version == va->version);
	CHECK(r->nbase == 0);
	gb_record_free(r);
	/* A's version is in history as written: its address is empty. */
	CHECK(sql_int(a,
		      "SELECT count(*) FROM record_history WHERE id = ?1 "
		      "AND bases IS NOT NULL AND json_extract(body, "
		      "'$.address') IS NULL AND json_extract(body, "
		      "'$.employees') = 70",
		      id) == 1);
	col.field = "employees";
	CHECK(db_record_history(a, id, collect_cb, &col, &err) == 0);
	CHECK(col.n == 3);
	/* The file gets its token only now, so its outbox entries are
	 * packed from what it holds: A's version as written, with its
	 * base, not the merged record. */
	CHECK(sql_int(a, "SELECT count(*) FROM outbox WHERE wire IS NULL",
		      NULL) > 0);
	CHECK(sync_config_set(a, NULL, "test-token", NULL, &err) == 0);
	{
		struct gb_buf want;
		sqlite3_stmt *s = NULL;
		char v[24];

		gb_buf_init(&want, GB_BUF_NOLIMIT);
		CHECK(wire_batch_add(va, &want, &err) == 0);
		snprintf(v, sizeof(v), "%" PRIu64, va->version);
		CHECK(
		    sqlite3_prepare_v2(db_sqlite(a),
				       "SELECT wire FROM outbox WHERE id = ?1 "
				       "AND version = ?2",
				       -1, &s, NULL) == SQLITE_OK);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, v, -1, SQLITE_STATIC);
		CHECK(sqlite3_step(s) == SQLITE_ROW);
		CHECK((size_t)sqlite3_column_bytes(s, 0) == want.len &&
		      memcmp(sqlite3_column_blob(s, 0), want.data, want.len) ==
			  0);
		sqlite3_finalize(s);
		gb_buf_release(&want);
	}
	ship(b, va);
	CHECK(same_on_both(a, b, id));
	gb_record_free(va);
	gb_record_free(vb);
}

/* Nine laptops edit one record at once, so it has more heads than a
 * version may name: the next edit names the newest GB_MAX_BASE, and the
 * one left out keeps its change, with no conflict made up. */
static void test_merge_many_heads(struct gb_db *a, struct gb_db *b)
{
	char id[GB_ID_LEN];
	struct gb_record *base, *v, *r;
	uint64_t oldest = 0;

	shared_enterprise(a, b, "91330100MA2K8QAG1E", "2024-05-11 08:50", id);
	base = current(a, id);
	for (int i = 0; i < GB_MAX_BASE + 1; i++) {
		v = gb_record_dup(base);
		snprintf(v->device, GB_ID_LEN, "0190aaaa-bbbb-7ccc-8ddd-%012d",
			 i + 1);
		v->version = base->version + 1000 * (uint64_t)(i + 1);
		v->base[0] = base->version;
		v->nbase = 1;
		if (i == 0) {
			gb_record_set_name(v, "address", "滨江路1号");
			oldest = v->version;
		} else {
			gb_record_set_name(v, "industry", "制造业");
		}
		ship(a, v);
		gb_record_free(v);
	}
	CHECK(sql_int(a,
		      "SELECT length(heads) - length(replace(heads, ' ', "
		      "'')) + 1 FROM record WHERE id = ?1",
		      id) == GB_MAX_BASE + 1);
	v = edit_at(a, id, "2024-05-11 09:00", "employees", "66");
	CHECK(v->nbase == GB_MAX_BASE);
	CHECK(v->base[0] != oldest);
	r = current(a, id);
	CHECK_STR(gb_record_get(r, "address"), "滨江路1号");
	CHECK_STR(gb_record_get(r, "industry"), "制造业");
	CHECK_STR(gb_record_get(r, "employees"), "66");
	gb_record_free(r);
	CHECK(sql_int(a, "SELECT count(*) FROM field_conflict WHERE id = ?1",
		      id) == 0);
	/* The one left out is still a head beside the edit. */
	CHECK(sql_int(a,
		      "SELECT length(heads) - length(replace(heads, ' ', "
		      "'')) + 1 FROM record WHERE id = ?1",
		      id) == 2);
	gb_record_free(v);
	gb_record_free(base);
}

/* Versions written here re-stamped in order (a clock that ran ahead):
 * the record stays what it was, the later version names the new number
 * as its base, and a laptop that receives the re-stamped versions shows
 * the same record. */
static void test_merge_renumber(struct gb_db *a, struct gb_db *b)
{
	char id[GB_ID_LEN];
	struct gb_record *va1, *va2, *vb, *before, *after, *x;
	struct gb_err err;
	uint64_t n1, n2;

	shared_enterprise(a, b, "91330100MA2K8QAJ1G", "2024-05-12 08:50", id);
	va1 = edit_at(a, id, "2024-05-12 09:00", "employees", "44");
	va2 = edit_at(a, id, "2024-05-12 09:10", "address", "中山路9号");
	vb = edit_at(b, id, "2024-05-12 09:05", "industry", "印刷");
	ship(a, vb);
	before = current(a, id);
	n1 = va2->version + 100000;
	n2 = n1 + 100000;
	CHECK(db_begin(a, &err) == 0);
	CHECK(db_version_renumber(a, id, va1->version, n1, 1715500000000,
				  &err) == 0);
	CHECK(db_version_renumber(a, id, va2->version, n2, 1715500000001,
				  &err) == 0);
	CHECK(db_version_renumber(a, id, 12345, n2 + 1, 0, &err) == 1);
	CHECK(db_commit(a, &err) == 0);
	after = current(a, id);
	CHECK(gb_record_same_content(before, after));
	CHECK(after->version == n2);
	{
		char q[256];

		snprintf(q, sizeof(q),
			 "SELECT count(*) FROM record_history WHERE id = ?1 "
			 "AND version = %" PRIu64 " AND bases = '%" PRIu64 "'",
			 n2, n1);
		CHECK(sql_int(a, q, id) == 1);
		snprintf(q, sizeof(q),
			 "SELECT count(*) FROM record_history WHERE id = ?1 "
			 "AND version IN (%" PRIu64 ", %" PRIu64 ")",
			 va1->version, va2->version);
		CHECK(sql_int(a, q, id) == 0);
	}
	CHECK(sql_int(a, "SELECT count(*) FROM field_conflict WHERE id = ?1",
		      id) == 0);
	/* B receives them as re-stamped. */
	x = gb_record_dup(va1);
	x->version = n1;
	x->updated_at = 1715500000000;
	ship(b, x);
	gb_record_free(x);
	x = gb_record_dup(va2);
	x->version = n2;
	x->updated_at = 1715500000001;
	x->base[0] = n1;
	ship(b, x);
	gb_record_free(x);
	CHECK(same_on_both(a, b, id));
	gb_record_free(before);
	gb_record_free(after);
	gb_record_free(va1);
	gb_record_free(va2);
	gb_record_free(vb);
}

/* A small deterministic generator (xorshift), so a failure repeats. */
static uint64_t rnd_state = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

#define PROP_DEVS 3
#define PROP_EDITS 12

/* The merge of the versions v[i] for which set[i] is 1; *m released by
 * the caller. */
static void merge_of(struct gb_record **v, const int *set, int n,
		     struct gb_merge *m)
{
	struct gb_version gv[PROP_EDITS + 1];
	struct gb_err err;
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!set[i])
			continue;
		gv[k].rec = v[i];
		gv[k].base = v[i]->base;
		gv[k].nbase = (size_t)v[i]->nbase;
		gv[k].base_known = v[i]->nbase > 0;
		gv[k].resolves = v[i]->resolves;
		k++;
	}
	CHECK(gb_merge(gv, (size_t)k, m, &err) == 0);
}

/* The conflicts of m over the versions of set, as "field:kept:lost"
 * sorted, into out; or those field_conflict holds for id on db. */
static void conflicts_text(struct gb_db *db, const char *id,
			   const struct gb_merge *m, struct gb_record **v,
			   const int *set, int n, char *out, size_t cap)
{
	char lines[64][64];
	int nl = 0;
	size_t off = 0;

	if (db) {
		sqlite3_stmt *s;

		sqlite3_prepare_v2(db_sqlite(db),
				   "SELECT field || ':' || kept_version || ':' "
				   "|| lost_version FROM field_conflict WHERE "
				   "id = ?1",
				   -1, &s, NULL);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW && nl < 64)
			snprintf(lines[nl++], 64, "%s",
				 (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	} else {
		int idx[PROP_EDITS + 1], k = 0;

		for (int i = 0; i < n; i++)
			if (set[i])
				idx[k++] = i;
		for (size_t i = 0; i < m->nconf && nl < 64; i++) {
			const struct gb_conflict *c = &m->conf[i];
			const struct gb_record *kept = v[idx[c->kept]];
			const char *f = c->field < GB_MAX_FIELDS
					    ? kept->kind->fields[c->field].name
					    : DB_FIELD_VOID;
			char line[64];
			int dup = 0;

			snprintf(line, sizeof(line), "%s:%" PRIu64 ":%" PRIu64,
				 f, kept->version, v[idx[c->lost]]->version);
			for (int j = 0; j < nl && !dup; j++)
				dup = !strcmp(lines[j], line);
			if (!dup)
				snprintf(lines[nl++], 64, "%s", line);
		}
	}
	qsort(lines, (size_t)nl, sizeof(lines[0]),
	      (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < nl && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s;", lines[i]);
}

/*
 * Three devices edit one enterprise, each from what it has received so
 * far, and the versions reach a laptop file in random orders (an edit
 * even before the version it was made from): it ends with the record
 * and the conflicts the merge gives over all the versions, whichever way
 * each version was stored (as the new row, or merged).
 */
static void test_merge_property(struct gb_db *db)
{
	static const char *const fields[] = {"address", "industry",
					     "employees"};
	static const char *const vals[] = {"一", "二", "三", "四"};
	struct gb_record *v[PROP_EDITS + 1];
	int known[PROP_DEVS][PROP_EDITS + 1], all[PROP_EDITS + 1];
	char dev[PROP_DEVS][GB_ID_LEN];
	struct gb_merge truth;
	char want[4096], got[4096];
	struct gb_err err;
	static int nrecs;
	int n = 1;

	for (int d = 0; d < PROP_DEVS; d++)
		snprintf(dev[d], GB_ID_LEN, "0190cccc-bbbb-7ccc-8ddd-%012d",
			 d + 1);
	v[0] = enterprise("91330100MA2K8QAH1F", "和平印刷厂", "S09-C01");
	snprintf(v[0]->id, GB_ID_LEN, "0190dddd-0000-7000-8000-000000000001");
	snprintf(v[0]->grid, GB_CODE_LEN, "S09-G1");
	snprintf(v[0]->device, GB_ID_LEN, "%s", dev[0]);
	v[0]->created_at = v[0]->updated_at = 1714000000000;
	v[0]->version = (uint64_t)v[0]->created_at << 16;
	memset(known, 0, sizeof(known));
	for (int d = 0; d < PROP_DEVS; d++)
		known[d][0] = 1;
	for (; n <= PROP_EDITS; n++) {
		int d = (int)rnd(PROP_DEVS), f;
		struct gb_merge m;
		uint64_t top = 0;
		struct gb_record *e;

		/* It first hears of a few versions of the others. */
		for (int i = 1; i < n; i++)
			if (!known[d][i] && rnd(2) == 0)
				known[d][i] = 1;
		merge_of(v, known[d], n, &m);
		e = gb_record_dup(m.rec);
		e->nbase = 0;
		for (size_t h = 0; h < m.nheads && e->nbase < GB_MAX_BASE;
		     h++) {
			int idx[PROP_EDITS + 1], k = 0;

			for (int i = 0; i < n; i++)
				if (known[d][i])
					idx[k++] = i;
			e->base[e->nbase++] = v[idx[m.heads[h]]]->version;
		}
		for (int i = 0; i < n; i++)
			if (known[d][i] && v[i]->version > top)
				top = v[i]->version;
		e->version = top + 1000 * (1 + rnd(4)) + (uint64_t)d;
		e->updated_at = (int64_t)(e->version >> 16);
		snprintf(e->device, GB_ID_LEN, "%s", dev[d]);
		e->resolves = 0;
		f = (int)rnd(4);
		if (f == 3 && rnd(8) == 0) {
			e->voided = 1;
			gb_record_set_void_reason(e, "重复录入");
		} else {
			gb_record_set_name(e, fields[f % 3],
					   f % 3 == 2 ? (rnd(2) ? "50" : "60")
						      : vals[rnd(4)]);
		}
		gb_merge_release(&m);
		v[n] = e;
		known[d][n] = 1;
	}
	for (int i = 0; i < n; i++)
		all[i] = 1;
	merge_of(v, all, n, &truth);
	conflicts_text(NULL, NULL, &truth, v, all, n, want, sizeof(want));
	for (int run = 0; run < 8; run++) {
		int order[PROP_EDITS + 1];
		struct gb_record *r;
		char id[GB_ID_LEN];

		for (int i = 0; i < n; i++)
			order[i] = i;
		for (int i = n - 1; i > 0; i--) {
			int j = (int)rnd((unsigned)i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		/* Each order is another record of the one file, as if on
		 * another laptop; one transaction, as the file's fsyncs are
		 * not what is tested. */
		snprintf(id, sizeof(id), "0190dddd-%04x-7000-8000-%012d",
			 (unsigned)(nrecs / 100), nrecs % 100);
		nrecs++;
		CHECK(db_begin(db, &err) == 0);
		for (int i = 0; i < n; i++) {
			struct gb_record *c = gb_record_dup(v[order[i]]);

			snprintf(c->id, GB_ID_LEN, "%s", id);
			ship(db, c);
			gb_record_free(c);
		}
		CHECK(db_commit(db, &err) == 0);
		r = current(db, id);
		CHECK(gb_record_same_content(r, truth.rec));
		CHECK(r->version == truth.rec->version);
		CHECK_STR(r->device, truth.rec->device);
		conflicts_text(db, id, NULL, NULL, NULL, 0, got, sizeof(got));
		CHECK_STR(got, want);
		gb_record_free(r);
	}
	gb_merge_release(&truth);
	for (int i = 0; i < n; i++)
		gb_record_free(v[i]);
}

static void test_merge(const char *seeds)
{
	struct gb_db *a = laptop("merge-a.grid", seeds, "K0901");
	struct gb_db *b = laptop("merge-b.grid", seeds, "K0902");

	CHECK(strcmp(db_device(a), db_device(b)) != 0);
	test_merge_bases(a, b);
	test_merge_disjoint(a, b);
	test_merge_same_field(a, b);
	test_merge_void(a, b);
	test_merge_unsent(a, b);
	test_merge_many_heads(a, b);
	test_merge_renumber(a, b);
	db_close(b);
	b = open_new("merge-property.grid");
	for (int i = 0; i < 20; i++)
		test_merge_property(b);
	db_close(b);
	db_close(a);
	unsetenv("GRIDBOOK_NOW");
}

static void add_patrol(struct gb_db *db, const char *start, const char *end,
		       const char *leader)
{
	struct gb_record *r = new_rec("patrol");
	struct gb_err err;
	int64_t s, e;
	char buf[32];

	gb_time_parse(start, &s, NULL);
	gb_time_parse(end, &e, NULL);
	gb_record_set_name(r, "area", "PA-91");
	snprintf(buf, sizeof(buf), "%" PRId64, s);
	gb_record_set_name(r, "start", buf);
	snprintf(buf, sizeof(buf), "%" PRId64, e);
	gb_record_set_name(r, "end", buf);
	gb_record_set_name(r, "leader", leader);
	gb_record_set_name(r, "guards", "B0901");
	gb_record_set_name(r, "mode", "foot");
	gb_record_set_name(r, "incidents", "0");
	CHECK(db_record_insert(db, r, &err) == 0);
	gb_record_free(r);
}

static void test_list(struct gb_db *db)
{
	const struct gb_kind *k = gb_kind_find("patrol");
	struct db_filter f = {0};
	struct collect col = {0};
	struct gb_err err;

	/* 23:30 local on the 4th is 15:30 UTC: the day is local. */
	add_patrol(db, "2024-03-04 23:30", "2024-03-05 01:30", "J0901");
	add_patrol(db, "2024-03-03 08:00", "2024-03-03 10:00", "J0902");
	add_patrol(db, "2024-03-05 00:30", "2024-03-05 02:00", "J0901");
	add_patrol(db, "2024-03-02 20:00", "2024-03-02 22:30", "J0903");

	col.field = "leader";
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 4);
	CHECK_STR(col.vals[0], "J0903");
	CHECK_STR(col.vals[1], "J0902");
	CHECK_STR(col.vals[2], "J0901");
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE kind = 'patrol' "
		      "AND day = '2024-03-04'",
		      NULL) == 1);

	memset(&col, 0, sizeof(col));
	col.field = "leader";
	f.from = "2024-03-03";
	f.to = "2024-03-04";
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 2);

	memset(&col, 0, sizeof(col));
	memset(&f, 0, sizeof(f));
	f.staff = "J0901";
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 2);
	memset(&col, 0, sizeof(col));
	f.limit = 1;
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 1);

	/* Status and community on checks; voided ones only when asked. */
	memset(&col, 0, sizeof(col));
	memset(&f, 0, sizeof(f));
	k = gb_kind_find("contract_check");
	f.status = "rectify_order";
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 0);
	f.with_voided = 1;
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 1);
	memset(&col, 0, sizeof(col));
	f.community = "S09-C01";
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 1);
	memset(&col, 0, sizeof(col));
	f.community = "S09-C02";
	CHECK(db_record_list(db, k, &f, collect_cb, &col, &err) == 0);
	CHECK(col.n == 0);

	/* Enterprises have no date: from/to do not apply. */
	memset(&col, 0, sizeof(col));
	memset(&f, 0, sizeof(f));
	f.from = "2030-01-01";
	CHECK(db_record_list(db, gb_kind_find("enterprise"), &f, collect_cb,
			     &col, &err) == 0);
	CHECK(col.n == 2);
	memset(&col, 0, sizeof(col));
	CHECK(db_record_list(db, gb_kind_find("enterprise"), NULL, collect_cb,
			     &col, &err) == 0);
	CHECK(col.n == 2);
	/* A callback that stops. */
	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	err.code = GB_OK;
	CHECK(db_record_list(db, gb_kind_find("enterprise"), NULL, collect_cb,
			     &col, &err) == -1);
	CHECK(col.n == 1 && err.code == GB_OK);
}

/* A record of kind with two fields set, not written (its id empty). */
static struct gb_record *probe(const char *kind, const char *f1, const char *v1,
			       const char *f2, const char *v2)
{
	struct gb_record *r = new_rec(kind);

	r->id[0] = '\0';
	gb_record_set_name(r, f1, v1);
	if (f2)
		gb_record_set_name(r, f2, v2);
	return r;
}

/* The uniqueness rules of the kinds table: a daily report by officer and
 * date (the indexed columns), an enterprise by USCC (inside the body). */
static void test_unique_key(struct gb_db *db)
{
	struct gb_err err;
	char id[GB_ID_LEN];
	struct gb_record *p;

	/* test_hlc wrote to another file; this one has none yet. */
	p = probe("daily_report", "officer", "J0902", "date", "2024-03-01");
	CHECK(db_record_find_key(db, p, id, &err) == 0);
	{
		struct gb_record *r = new_rec("daily_report");
		struct gb_record *q;

		gb_record_set_name(r, "officer", "J0902");
		gb_record_set_name(r, "date", "2024-03-01");
		CHECK(db_record_insert(db, r, &err) == 0);
		CHECK(db_record_find_key(db, p, id, &err) == 1);
		CHECK_STR(id, r->id);
		/* Not the record itself. */
		CHECK(db_record_find_key(db, r, id, &err) == 0);
		q = probe("daily_report", "officer", "J0903", "date",
			  "2024-03-01");
		CHECK(db_record_find_key(db, q, id, &err) == 0);
		gb_record_free(q);
		q = probe("daily_report", "officer", "J0902", "date",
			  "2024-03-02");
		CHECK(db_record_find_key(db, q, id, &err) == 0);
		gb_record_free(q);
		/* A key left empty finds nothing. */
		q = probe("daily_report", "officer", "J0902", NULL, NULL);
		CHECK(db_record_find_key(db, q, id, &err) == 0);
		gb_record_free(q);
		r->voided = 1;
		gb_record_set_void_reason(r, "写错日期");
		CHECK(db_record_update(db, r, &err) == 0);
		CHECK(db_record_find_key(db, p, id, &err) == 0);
		gb_record_free(r);
	}
	gb_record_free(p);
	{
		struct gb_record *e = new_rec("enterprise");

		gb_record_set_name(e, "uscc", "91330106MA2KEY0001");
		gb_record_set_name(e, "name", "钱塘丝绸有限公司");
		CHECK(db_record_insert(db, e, &err) == 0);
		p = probe("enterprise", "uscc", "91330106MA2KEY0001", NULL,
			  NULL);
		CHECK(db_record_find_key(db, p, id, &err) == 1);
		CHECK_STR(id, e->id);
		gb_record_set_name(p, "uscc", "91330106MA2KEY0002");
		CHECK(db_record_find_key(db, p, id, &err) == 0);
		gb_record_free(p);
		/* A kind with no rule. */
		p = probe("patrol", "area", "PA-01", NULL, NULL);
		CHECK(db_record_find_key(db, p, id, &err) == 0);
		gb_record_free(p);
		gb_record_free(e);
	}
}

static void test_resolve(struct gb_db *db, const char *ent_id)
{
	struct gb_err err;
	char out[GB_ID_LEN];
	char *name;

	CHECK(db_resolve(db, GB_REF_STAFF, "J0901", out, sizeof(out), &err) ==
	      0);
	CHECK_STR(out, "J0901");
	CHECK(db_resolve(db, GB_REF_STAFF, "j0903", out, sizeof(out), &err) ==
	      0);
	CHECK_STR(out, "J0903");
	CHECK(db_resolve(db, GB_REF_STAFF, "赵", out, sizeof(out), &err) == 0);
	CHECK_STR(out, "J0903");
	CHECK(db_resolve(db, GB_REF_STAFF, "王建国", out, sizeof(out), &err) ==
	      0);
	CHECK_STR(out, "J0901");
	CHECK(db_resolve(db, GB_REF_STAFF, "王建", out, sizeof(out), &err) ==
	      -1);
	CHECK(err.code == GB_EAMBIGUOUS);
	CHECK(strstr(err.msg, "王建") != NULL);
	CHECK(strstr(err.msg, "J0901 王建国") != NULL);
	CHECK(strstr(err.msg, "J0902 王建军") != NULL);
	CHECK(db_resolve(db, GB_REF_STAFF, "刘洋", out, sizeof(out), &err) ==
	      -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, "刘洋") != NULL);
	CHECK(db_resolve(db, GB_REF_STAFF, "", out, sizeof(out), &err) == -1);

	CHECK(db_resolve(db, GB_REF_COMMUNITY, "和平", out, sizeof(out),
			 &err) == 0);
	CHECK_STR(out, "S09-C01");
	CHECK(db_resolve(db, GB_REF_COMMUNITY, "和", out, sizeof(out), &err) ==
	      -1);
	CHECK(err.code == GB_EAMBIGUOUS);
	CHECK(db_resolve(db, GB_REF_COMMUNITY, "清河", out, sizeof(out),
			 &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(db_resolve(db, GB_REF_AREA, "江南一", out, sizeof(out), &err) ==
	      0);
	CHECK_STR(out, "PA-91");
	CHECK(db_resolve(db, GB_REF_AREA, "和平社区警务室", out, sizeof(out),
			 &err) == 0);
	CHECK_STR(out, "PA-91");

	/* Enterprises: id, id prefix, USCC in any case, name prefix. */
	CHECK(db_resolve(db, GB_REF_ENTERPRISE, ent_id, out, sizeof(out),
			 &err) == 0);
	CHECK_STR(out, ent_id);
	CHECK(db_resolve(db, GB_REF_ENTERPRISE, "91330100ma2k8q9x7l", out,
			 sizeof(out), &err) == 0);
	CHECK_STR(out, ent_id);
	CHECK(db_resolve(db, GB_REF_ENTERPRISE, "江南", out, sizeof(out),
			 &err) == 0);
	CHECK_STR(out, ent_id);
	CHECK(db_resolve(db, GB_REF_ENTERPRISE, "0190abcd", out, sizeof(out),
			 &err) == 0);
	CHECK_STR(out, "0190abcd-0000-7000-8000-000000000001");
	/* A part of the name further in matches too. */
	CHECK(db_resolve(db, GB_REF_ENTERPRISE, "机械有限", out, sizeof(out),
			 &err) == 0);
	CHECK_STR(out, ent_id);
	CHECK(db_resolve(db, GB_REF_ENTERPRISE, "无此企业", out, sizeof(out),
			 &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, "无此企业") != NULL);
	{
		struct gb_record *e2 =
		    enterprise("91330100MA2K8QCD2E", "江南纺织厂", "S09-C02");

		CHECK(db_record_insert(db, e2, &err) == 0);
		CHECK(db_resolve(db, GB_REF_ENTERPRISE, "江南", out,
				 sizeof(out), &err) == -1);
		CHECK(err.code == GB_EAMBIGUOUS);
		CHECK(strstr(err.msg, "江南纺织厂") != NULL);
		CHECK(strstr(err.msg, "江南机械有限公司") != NULL);
		/* Candidates by name and USCC, not by id. */
		CHECK(strstr(err.msg, "91330100MA2K8QCD2E") != NULL);
		CHECK(strstr(err.msg, e2->id) == NULL);
		/* A prefix wins over a match further in: "纺织" starts no
		 * name, so the middle of 江南纺织厂 answers alone. */
		CHECK(db_resolve(db, GB_REF_ENTERPRISE, "纺织", out,
				 sizeof(out), &err) == 0);
		CHECK_STR(out, e2->id);
		CHECK(db_resolve(db, GB_REF_ENTERPRISE, "江南纺", out,
				 sizeof(out), &err) == 0);
		CHECK_STR(out, e2->id);
		/* A voided enterprise no longer answers to its name. */
		e2->voided = 1;
		gb_record_set_void_reason(e2, "重复登记");
		CHECK(db_record_update(db, e2, &err) == 0);
		CHECK(db_resolve(db, GB_REF_ENTERPRISE, "江南", out,
				 sizeof(out), &err) == 0);
		CHECK_STR(out, ent_id);
		gb_record_free(e2);
	}
	/* A check by id; an enterprise id is not a check. */
	CHECK(db_resolve(db, GB_REF_CHECK, ent_id, out, sizeof(out), &err) ==
	      -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, "enterprise") != NULL);

	name = db_ref_name(db, GB_REF_STAFF, "J0902");
	CHECK_STR(name, "王建军");
	free(name);
	name = db_ref_name(db, GB_REF_COMMUNITY, "S09-C02");
	CHECK_STR(name, "和顺社区");
	free(name);
	name = db_ref_name(db, GB_REF_AREA, "PA-91");
	CHECK_STR(name, "江南一警务区");
	free(name);
	name = db_ref_name(db, GB_REF_ENTERPRISE, ent_id);
	CHECK_STR(name, "江南机械有限公司");
	free(name);
	name = db_ref_name(db, GB_REF_STAFF, "X9999");
	CHECK_STR(name, "X9999");
	free(name);
}

static void test_lookup(struct gb_db *db, const char *ent_id)
{
	const struct gb_lookup *lk = db_lookup(db);
	struct gb_record *c;
	struct gb_err err;
	char out[64];

	CHECK(lk->find(lk->arg, GB_REF_STAFF, "J0901", "role", out, sizeof(out),
		       &err) == 1);
	CHECK_STR(out, "chief");
	CHECK(lk->find(lk->arg, GB_REF_STAFF, "J0910", NULL, NULL, 0, &err) ==
	      0);
	CHECK(lk->find(lk->arg, GB_REF_COMMUNITY, "S09-C02", NULL, NULL, 0,
		       &err) == 1);
	CHECK(lk->find(lk->arg, GB_REF_COMMUNITY, "S09-C03", NULL, NULL, 0,
		       &err) == 0);
	CHECK(lk->find(lk->arg, GB_REF_AREA, "PA-91", NULL, NULL, 0, &err) ==
	      1);
	CHECK(lk->find(lk->arg, GB_REF_AREA, "PA-92", NULL, NULL, 0, &err) ==
	      0);
	CHECK(lk->find(lk->arg, GB_REF_ENTERPRISE, ent_id, "status", out,
		       sizeof(out), &err) == 1);
	CHECK_STR(out, "active");
	CHECK(lk->find(lk->arg, GB_REF_ENTERPRISE, ent_id, "community", out,
		       sizeof(out), &err) == 1);
	CHECK_STR(out, "S09-C01");
	CHECK(lk->find(lk->arg, GB_REF_CHECK, ent_id, NULL, NULL, 0, &err) ==
	      0);

	c = check_of(ent_id, "2024-03-06", "rectify_order");
	CHECK(db_record_insert(db, c, &err) == 0);
	CHECK(lk->find(lk->arg, GB_REF_CHECK, c->id, "outcome", out,
		       sizeof(out), &err) == 1);
	CHECK_STR(out, "rectify_order");
	CHECK(lk->find(lk->arg, GB_REF_CHECK, c->id, "check_date", out,
		       sizeof(out), &err) == 1);
	CHECK_STR(out, "2024-03-06");
	CHECK(lk->find(lk->arg, GB_REF_CHECK, c->id, "deadline", out,
		       sizeof(out), &err) == 1);
	CHECK_STR(out, "2024-04-01");
	/* A voided check does not exist for validation. */
	c->voided = 1;
	gb_record_set_void_reason(c, "作废");
	CHECK(db_record_update(db, c, &err) == 0);
	CHECK(lk->find(lk->arg, GB_REF_CHECK, c->id, NULL, NULL, 0, &err) == 0);
	gb_record_free(c);

	/* When an enterprise moves, its records follow. */
	{
		struct gb_record *e = NULL;

		CHECK(db_record_get(db, NULL, ent_id, &e, &err) == 0);
		gb_record_set_name(e, "community", "S09-C02");
		CHECK(db_record_update(db, e, &err) == 0);
		CHECK(sql_int(db,
			      "SELECT count(*) FROM record WHERE kind = "
			      "'contract_check' AND community = 'S09-C01'",
			      NULL) == 0);
		CHECK(sql_int(db,
			      "SELECT count(*) FROM record WHERE kind = "
			      "'contract_check' AND community = 'S09-C02'",
			      NULL) == 2);
		gb_record_free(e);
	}
}

/*
 * A check pulled before its enterprise files under no community; the
 * enterprise, new to the file when it comes, brings its community to
 * the check.  A version pulled twice is held once.
 */
static void test_remote_new(void)
{
	struct gb_db *db = open_new("remote_new.grid");
	static const char other[] = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeee1";
	struct gb_record *e =
	    enterprise("91330100MA2K8QGH4J", "临平食品有限公司", "S09-C02");
	struct gb_record *c;
	struct gb_err err;
	int applied = -1;
	int64_t t0;

	gb_time_parse("2024-06-03 09:00", &t0, NULL);
	snprintf(e->id, GB_ID_LEN, "%s",
		 "0190abcd-0000-7000-8000-0000000000e1");
	c = check_of(e->id, "2024-06-03", "compliant");
	snprintf(c->id, GB_ID_LEN, "%s",
		 "0190abcd-0000-7000-8000-0000000000c1");
	snprintf(e->grid, GB_CODE_LEN, "S09-G1");
	snprintf(c->grid, GB_CODE_LEN, "S09-G1");
	snprintf(e->device, GB_ID_LEN, "%s", other);
	snprintf(c->device, GB_ID_LEN, "%s", other);
	e->created_at = e->updated_at = t0;
	e->version = (uint64_t)t0 << 16;
	c->created_at = c->updated_at = t0 + 1;
	c->version = (uint64_t)(t0 + 1) << 16;

	CHECK(db_record_put_remote(db, c, &applied, &err) == 0);
	CHECK(applied == 1);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "community IS NULL",
		      c->id) == 1);
	CHECK(db_record_put_remote(db, e, &applied, &err) == 0);
	CHECK(applied == 1);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "community = 'S09-C02'",
		      c->id) == 1);
	/* Again: held, nothing written. */
	CHECK(db_record_put_remote(db, c, &applied, &err) == 0);
	CHECK(applied == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM record_history WHERE id = ?1",
		      c->id) == 0);
	db_close(db);
	gb_record_free(c);
	gb_record_free(e);
}

/*
 * Schema 6 (schema/client/006): a file of schema 5, whose records name
 * their enterprise only in the JSON body, gets column enterprise filled
 * from it when opened, the index of 5 replaced by one on the column; the
 * records still follow their enterprise to another community, and new
 * ones carry the column as they are written.
 */
static void test_migrate_enterprise(const char *seeds)
{
	struct gb_record *e =
	    enterprise("91330100MA2K8QEF3G", "钱塘五金有限公司", "S09-C01");
	struct gb_record *c = check_of(NULL, "2024-05-06", "compliant");
	struct gb_record *c2, *got = NULL;
	struct gb_db *db = open_new("schema5.grid");
	struct gb_err err;
	sqlite3 *sq;
	char p[512];

	CHECK(db_load_seeds(db, seeds, "S09-G1", &err) == 0);
	CHECK(db_meta_set(db, "staff", "K0901", &err) == 0);
	CHECK(db_record_insert(db, e, &err) == 0);
	gb_record_set_name(c, "enterprise", e->id);
	CHECK(db_record_insert(db, c, &err) == 0);
	db_close(db);
	/* Back to schema 5 as it was. */
	path_in(p, sizeof(p), "schema5.grid");
	CHECK(sqlite3_open(p, &sq) == SQLITE_OK);
	CHECK(sqlite3_exec(sq,
			   "DROP INDEX record_enterprise_of; ALTER TABLE "
			   "record DROP COLUMN enterprise; CREATE INDEX "
			   "record_enterprise ON record (json_extract(body, "
			   "'$.enterprise')) WHERE kind <> 'enterprise'; "
			   "PRAGMA user_version = 5",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(sq);

	/* An older gridbook-syncd holds the file: it is not migrated under
	 * it (that one would store rows without the column), and the
	 * refusal names it.  The file's own daemon (DB_SYNCD) migrates. */
	{
		char lock[600];
		int fd;

		snprintf(lock, sizeof(lock), "%s.syncd", p);
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		      write(fd, "4242\n", 5) == 5);
		CHECK(db_open(&db, p, 0, &err) == -1 && err.code == GB_EBUSY &&
		      strstr(err.msg, "4242") != NULL);
		CHECK(db_open(&db, p, DB_READONLY, &err) == -1);
		close(fd);
		CHECK(sqlite3_open(p, &sq) == SQLITE_OK);
		{
			sqlite3_stmt *q = NULL;

			CHECK(sqlite3_prepare_v2(sq, "PRAGMA user_version", -1,
						 &q, NULL) == SQLITE_OK &&
			      sqlite3_step(q) == SQLITE_ROW &&
			      sqlite3_column_int(q, 0) == 5);
			sqlite3_finalize(q);
		}
		sqlite3_close(sq);
	}

	CHECK(db_open(&db, p, 0, &err) == 0);
	CHECK(sql_int(db, "PRAGMA user_version", NULL) == 6);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "enterprise IS NULL",
		      e->id) == 1);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE enterprise = ?1 AND "
		      "kind = 'contract_check' AND community = 'S09-C01'",
		      e->id) == 1);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM sqlite_schema WHERE name = "
		      "'record_enterprise'",
		      NULL) == 0);
	/* A check written now carries it too. */
	c2 = check_of(e->id, "2024-05-07", "compliant");
	CHECK(db_record_insert(db, c2, &err) == 0);
	CHECK(sql_int(db, "SELECT count(*) FROM record WHERE enterprise = ?1",
		      e->id) == 2);
	/* The enterprise moves: both checks follow. */
	gb_record_set_name(e, "community", "S09-C02");
	CHECK(db_record_update(db, e, &err) == 0);
	CHECK(sql_int(db,
		      "SELECT count(*) FROM record WHERE kind = "
		      "'contract_check' AND community = 'S09-C02' AND "
		      "enterprise = ?1",
		      e->id) == 2);
	CHECK(db_record_get(db, NULL, c->id, &got, &err) == 0);
	CHECK(got && gb_record_same_content(got, c));
	gb_record_free(got);
	db_close(db);
	gb_record_free(c2);
	gb_record_free(c);
	gb_record_free(e);
}

/*
 * The clock of a file never wraps and is never dragged out of bounds
 * (SPEC §4): a pulled version of 2^64 - 1 is not taken, one two years
 * ahead is kept without moving the clock, a file whose clock stands at
 * the last version refuses to write, and one whose clock is two years
 * ahead of the laptop's refuses until db_clock_rewind sets it back and
 * db_record_restamp gives the version written ahead a new one, same id,
 * same values.  db_versions_out_of_bounds names what is out of bounds.
 */
static void test_hlc_bounds(void)
{
	static const char other[] = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeef";
	struct gb_db *a = open_new("bounds.grid");
	struct gb_record *r = new_rec("daily_report"), *x;
	struct db_bad_version *bad = NULL;
	struct gb_err err;
	int64_t now, ahead;
	uint64_t v, old;
	size_t n = 0;
	int applied = -1;

	setenv("GRIDBOOK_NOW", "2026-12-03 16:50", 1);
	now = gb_now_ms();
	ahead = now + 730 * INT64_C(86400000);
	gb_record_set_name(r, "officer", "J0902");
	gb_record_set_name(r, "date", "2026-12-03");
	gb_record_set_name(r, "households", "12");
	CHECK(db_record_insert(a, r, &err) == 0);
	v = r->version;

	x = enterprise("91330100MA2K8QAB2E", "远方贸易有限公司", "S09-C02");
	snprintf(x->id, GB_ID_LEN, "%s",
		 "0190abcd-0000-7000-8000-0000000000f1");
	snprintf(x->grid, GB_CODE_LEN, "S09-G1");
	snprintf(x->device, GB_ID_LEN, "%s", other);
	x->created_at = x->updated_at = now;
	x->version = UINT64_MAX;
	CHECK(db_record_put_remote(a, x, &applied, &err) == -1);
	CHECK(err.code == GB_EINVAL && strstr(err.msg, "2^63") != NULL);
	CHECK(applied == 0);
	CHECK(sql_int(a, "SELECT count(*) FROM record WHERE id = ?1", x->id) ==
	      0);
	x->version = (uint64_t)ahead << 16;
	CHECK(db_record_put_remote(a, x, &applied, &err) == 0);
	CHECK(applied == 1);
	gb_record_set_name(r, "households", "13");
	CHECK(db_record_update(a, r, &err) == 0);
	CHECK(r->version == v + 1);
	CHECK(gb_hlc_ms(r->version) == now);
	CHECK(db_versions_out_of_bounds(a, now, &bad, &n, &err) == 0);
	CHECK(n == 1 && bad && strcmp(bad[0].id, x->id) == 0 &&
	      bad[0].bound == GB_HLC_AHEAD && bad[0].current == 1);
	free(bad);

	/* The last version: no next one. */
	CHECK(db_meta_set(a, "hlc", "9223372036854775807", &err) == 0);
	gb_record_set_name(r, "households", "14");
	CHECK(db_record_update(a, r, &err) == -1);
	CHECK(strstr(err.msg, "2^63") != NULL);

	/* Written two years ahead, then the laptop's clock is set right. */
	CHECK(db_meta_set(a, "hlc", "0", &err) == 0);
	setenv("GRIDBOOK_NOW", "2028-12-02 16:50", 1);
	CHECK(db_record_update(a, r, &err) == 0);
	old = r->version;
	CHECK(gb_hlc_ms(old) == ahead);
	setenv("GRIDBOOK_NOW", "2026-12-03 16:51", 1);
	gb_record_set_name(r, "households", "15");
	CHECK(db_record_update(a, r, &err) == -1);
	CHECK(strstr(err.msg, "24 h ahead of this laptop's clock") != NULL);
	CHECK(db_begin(a, &err) == 0);
	CHECK(db_clock_rewind(a, now + 60000 + 86400000, &err) == 0);
	CHECK(db_record_restamp(a, r->id, old, now + 60000 + 86400000, &v,
				&err) == 0);
	CHECK(db_record_restamp(a, r->id, old, now + 60000 + 86400000, &v,
				&err) == 1);
	CHECK(db_commit(a, &err) == 0);
	CHECK(gb_hlc_ms(v) == now + 60000);
	CHECK(sql_int(a,
		      "SELECT count(*) FROM record WHERE id = ?1 AND "
		      "json_extract(body, '$.households') = 14",
		      r->id) == 1);
	CHECK(sql_int(a,
		      "SELECT max(version) >> 16 FROM record_history WHERE "
		      "id = ?1",
		      r->id) <= now);
	gb_record_set_name(r, "households", "15");
	CHECK(db_record_update(a, r, &err) == 0);
	CHECK(r->version == v + 1);
	db_close(a);
	/* The clock test_hlc left, which the tests after it go on with. */
	setenv("GRIDBOOK_NOW", "2024-03-01 15:00", 1);
	gb_record_free(x);
	gb_record_free(r);
}

int main(void)
{
	char seeds[512], ent_id[GB_ID_LEN];
	struct gb_db *db;
	struct gb_err err;
	const char *t = getenv("TMPDIR");

	setenv("GRIDBOOK_TZ", "Asia/Shanghai", 1);
	snprintf(tmpdir, sizeof(tmpdir), "%s/gb-test-db-XXXXXX",
		 t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(seeds, sizeof(seeds), "%s/seeds", tmpdir);
	make_seeds(seeds);

	test_open();
	db = open_new("main.grid");
	test_seeds(db, seeds);
	test_bad_seeds();
	test_write(db, ent_id);
	test_get_prefix(db, ent_id);
	test_hlc();
	test_hlc_bounds();
	test_rollback(db);
	test_remote(db);
	test_remote_new();
	test_list(db);
	test_unique_key(db);
	test_resolve(db, ent_id);
	test_lookup(db, ent_id);
	test_merge(seeds);
	test_migrate_enterprise(seeds);
	/* A file with records is not loaded with another grid's seeds. */
	CHECK(db_load_seeds(db, seeds, "S09-G2", &err) == -1);
	CHECK(err.code == GB_EINVAL);
	db_close(db);

	remove_dir(tmpdir);
	return check_done();
}

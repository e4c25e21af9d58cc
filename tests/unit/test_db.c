/*
 * Tests of db.c, the grid file: creating and opening (mode, migrations,
 * refusals), loading a grid's reference data from a small seed directory,
 * writing records with their change log and history, the clock that never
 * goes backwards, remote versions, lists and filters, resolving what
 * people type, and the lookup validation uses.  Every file lives in a
 * temporary directory removed at the end.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "db.h"
#include "gbtime.h"
#include "id.h"
#include "schema.h"

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

static void test_daily(struct gb_db *db)
{
	struct gb_err err;
	char id[GB_ID_LEN];

	/* test_hlc wrote to another file; this one has none yet. */
	CHECK(db_daily_report_find(db, "J0902", "2024-03-01", id, &err) == 0);
	{
		struct gb_record *r = new_rec("daily_report");

		gb_record_set_name(r, "officer", "J0902");
		gb_record_set_name(r, "date", "2024-03-01");
		CHECK(db_record_insert(db, r, &err) == 0);
		CHECK(db_daily_report_find(db, "J0902", "2024-03-01", id,
					   &err) == 1);
		CHECK_STR(id, r->id);
		CHECK(db_daily_report_find(db, "J0903", "2024-03-01", id,
					   &err) == 0);
		CHECK(db_daily_report_find(db, "J0902", "2024-03-02", id,
					   &err) == 0);
		r->voided = 1;
		gb_record_set_void_reason(r, "写错日期");
		CHECK(db_record_update(db, r, &err) == 0);
		CHECK(db_daily_report_find(db, "J0902", "2024-03-01", id,
					   &err) == 0);
		gb_record_free(r);
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
	test_rollback(db);
	test_remote(db);
	test_list(db);
	test_daily(db);
	test_resolve(db, ent_id);
	test_lookup(db, ent_id);
	/* A file with records is not loaded with another grid's seeds. */
	CHECK(db_load_seeds(db, seeds, "S09-G2", &err) == -1);
	CHECK(err.code == GB_EINVAL);
	db_close(db);

	remove_dir(tmpdir);
	return check_done();
}

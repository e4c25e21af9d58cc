/*
 * Tests of seeds.c, the seed reader HQ and the laptop share: the committed
 * district reads whole with its row counts (seeds/README.md), columns are
 * found by name in any order, and every rule refuses its bad value with a
 * message naming the file, the line and the column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "seeds.h"

#include "banned.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	CHECK(fp != NULL);
	if (fp && fputs(text, fp) < 0)
		CHECK(!"written");
	CHECK(!fp || fclose(fp) == 0);
}

static void remove_file(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

/* The rows of file which in d, or -1 with err. */
static long count_rows(const char *d, enum gb_seeds_file which,
		       struct gb_err *err)
{
	struct gb_seeds sd;
	long n = 0;
	int rc;

	if (gb_seeds_open(&sd, d, which, err))
		return -1;
	for (;;) {
		rc = gb_seeds_next(&sd, err);
		if (rc != 1)
			break;
		n++;
	}
	gb_seeds_close(&sd);
	return rc < 0 ? -1 : n;
}

static void test_district(void)
{
	static const long rows[GB_SEEDS_NFILES] = {1, 6, 32, 141, 59, 141, 407};
	struct gb_seeds sd;
	struct gb_err err;

	for (int i = 0; i < GB_SEEDS_NFILES; i++)
		CHECK(count_rows(GB_SEEDDIR, (enum gb_seeds_file)i, &err) ==
		      rows[i]);
	CHECK(gb_seeds_open(&sd, GB_SEEDDIR, GB_SEEDS_DISTRICT, &err) == 0);
	CHECK(gb_seeds_next(&sd, &err) == 1);
	CHECK_STR(sd.v[0], "D01");
	CHECK_STR(sd.v[1], "望川区");
	CHECK(gb_seeds_line(&sd) == 2);
	CHECK(gb_seeds_next(&sd, &err) == 0);
	gb_seeds_close(&sd);
	gb_seeds_close(&sd); /* closed twice is a no-op */
}

static void test_columns(void)
{
	struct gb_seeds sd;
	struct gb_err err;

	/* Another order, and a column no reader wants. */
	write_file("communities.csv",
		   "name,note,patrol_team,code,criminal_cases,grid,population\n"
		   "和平社区,新建,9,S09-C01,12,S09-G1,5300\n");
	CHECK(gb_seeds_open(&sd, dir, GB_SEEDS_COMMUNITIES, &err) == 0);
	CHECK(gb_seeds_next(&sd, &err) == 1);
	CHECK_STR(sd.v[0], "S09-C01");
	CHECK_STR(sd.v[1], "S09-G1");
	CHECK_STR(sd.v[2], "和平社区");
	CHECK(sd.n[3] == 5300 && sd.n[4] == 12 && sd.n[5] == 9);
	gb_seeds_close(&sd);

	write_file("staff.csv", "code,name,grid,area\n");
	CHECK(gb_seeds_open(&sd, dir, GB_SEEDS_STAFF, &err) == -1);
	CHECK(err.code == GB_EINVAL);
	CHECK(strstr(err.msg, "staff.csv: no column \"role\"") != NULL);
	CHECK(sd.fp == NULL);

	write_file("staff.csv", "");
	CHECK(gb_seeds_open(&sd, dir, GB_SEEDS_STAFF, &err) == -1);
	CHECK(strstr(err.msg, "staff.csv: no header row") != NULL);

	remove_file("staff.csv");
	CHECK(gb_seeds_open(&sd, dir, GB_SEEDS_STAFF, &err) == -1);
	CHECK(err.code == GB_ENOTFOUND);
	CHECK(strstr(err.msg, "staff.csv") != NULL);
}

/* The message of the first bad row of staff.csv holding text. */
static const char *staff_error(const char *text, struct gb_err *err)
{
	write_file("staff.csv", text);
	if (count_rows(dir, GB_SEEDS_STAFF, err) >= 0)
		return "(read)";
	return err->msg;
}

static void test_rules(void)
{
	static const char head[] = "code,name,role,grid,area\n";
	char text[512];
	struct gb_err err;

#define STAFF(rows) (snprintf(text, sizeof(text), "%s%s", head, rows), text)
	CHECK_STR(staff_error(STAFF("K0901,林晓燕,coordinator,S09-G1,\n"
				    "J0901,陈建国,chief,S09-G1,PA-91\n"),
			      &err),
		  "(read)");
	CHECK(strstr(staff_error(STAFF("K0901,林晓燕,coordinator,S09-G1,\n"
				       "K0902,王丽娟,boss,S09-G1,\n"),
				 &err),
		     "/staff.csv:3: role: \"boss\" is not coordinator, "
		     "officer, chief or guard") != NULL);
	CHECK(err.code == GB_EINVAL);
	CHECK(strstr(staff_error(STAFF(",林晓燕,coordinator,S09-G1,\n"), &err),
		     "staff.csv:2: code: required") != NULL);
	CHECK(strstr(staff_error(STAFF("K0901,,coordinator,S09-G1,\n"), &err),
		     "staff.csv:2: name: required") != NULL);
	CHECK(strstr(staff_error(STAFF("K 0901,林晓燕,coordinator,S09-G1,\n"),
				 &err),
		     "code: \"K 0901\" is not a code") != NULL);
	CHECK(strstr(staff_error(STAFF("K0901,林晓燕,coordinator,S09-G1,"
				       "PA-01234567890123456789012345678\n"),
				 &err),
		     "area: \"PA-01234567890123456789012345678\" is longer "
		     "than 31 bytes") != NULL);
	CHECK(strstr(staff_error(STAFF("K0901,\xe6\x9e,coordinator,S09-G1,\n"),
				 &err),
		     "name: not valid UTF-8") != NULL);
	/* A row cut short: its missing grid is required, its area not. */
	CHECK(strstr(staff_error(STAFF("K0901,林晓燕,coordinator\n"), &err),
		     "staff.csv:2: grid: required") != NULL);
	CHECK_STR(staff_error(STAFF("K0901,林晓燕,coordinator,S09-G1\n"), &err),
		  "(read)");
#undef STAFF

	write_file("communities.csv",
		   "code,grid,name,population,criminal_cases,patrol_team\n"
		   "S09-C01,S09-G1,和平社区,5300,12,9\n"
		   "S09-C02,S09-G1,青山社区,-1,0,0\n");
	CHECK(count_rows(dir, GB_SEEDS_COMMUNITIES, &err) == -1);
	CHECK(strstr(err.msg, "communities.csv:3: population: \"-1\" is not "
			      "a whole number of 0 or more") != NULL);
	write_file("communities.csv",
		   "code,grid,name,population,criminal_cases,patrol_team\n"
		   "S09-C01,S09-G1,和平社区,many,12,9\n");
	CHECK(count_rows(dir, GB_SEEDS_COMMUNITIES, &err) == -1);
	CHECK(strstr(err.msg, "population: \"many\"") != NULL);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_seeds.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_district();
	test_columns();
	test_rules();
	remove_file("communities.csv");
	remove_file("staff.csv");
	rmdir(dir);
	return check_done();
}

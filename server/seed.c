/*
 * The seed loader.  Each file is read by column name, so a file whose
 * columns come in another order still loads, and each value is checked
 * before it reaches the store: codes short and printable, text valid
 * UTF-8, counts whole and not negative, staff roles known.  The store then
 * checks that every code refers to a unit loaded before it, which is why
 * the files are read parents first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "i18n.h"
#include "record.h"
#include "seed.h"
#include "utf8.h"
#include "xalloc.h"

#include "banned.h"

#define MAX_COLS 6

enum col_type { C_CODE, C_OPTCODE, C_TEXT, C_COUNT, C_ROLE };

struct seed_file {
	const char *name;
	enum store_table table;
	int ncols;
	const char *cols[MAX_COLS];
	enum col_type types[MAX_COLS];
};

/* Parents before children: the store refuses a code it does not know. */
static const struct seed_file files[] = {
    {"district.csv", STORE_T_DISTRICT, 2, {"code", "name"}, {C_CODE, C_TEXT}},
    {"streets.csv", STORE_T_STREET, 2, {"code", "name"}, {C_CODE, C_TEXT}},
    {"grids.csv",
     STORE_T_GRID,
     3,
     {"code", "street", "name"},
     {C_CODE, C_CODE, C_TEXT}},
    {"communities.csv",
     STORE_T_COMMUNITY,
     6,
     {"code", "grid", "name", "population", "criminal_cases", "patrol_team"},
     {C_CODE, C_CODE, C_TEXT, C_COUNT, C_COUNT, C_COUNT}},
    {"police_areas.csv",
     STORE_T_AREA,
     4,
     {"code", "grid", "name", "room"},
     {C_CODE, C_CODE, C_TEXT, C_TEXT}},
    {"area_communities.csv",
     STORE_T_AREA_COMMUNITY,
     2,
     {"area", "community"},
     {C_CODE, C_CODE}},
    {"staff.csv",
     STORE_T_STAFF,
     5,
     {"code", "name", "role", "grid", "area"},
     {C_CODE, C_TEXT, C_ROLE, C_CODE, C_OPTCODE}},
};

static int check_value(const struct seed_file *f, int c, const char *v,
		       struct gb_err *err)
{
	const char *name = f->cols[c];
	char *end;
	long long n;

	if (!gb_utf8_valid(v, strlen(v)))
		return gb_error(err, GB_EINVAL, _("%s: not valid UTF-8"), name);
	switch (f->types[c]) {
	case C_OPTCODE:
		if (!*v)
			return 0;
		/* fall through */
	case C_CODE:
		if (!*v)
			return gb_error(err, GB_EINVAL, _("%s: required"),
					name);
		if (strlen(v) >= GB_CODE_LEN)
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is longer than %d "
					  "bytes"),
					name, v, GB_CODE_LEN - 1);
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == ',' ||
			    (unsigned char)*p >= 0x7f)
				return gb_error(err, GB_EINVAL,
						_("%s: \"%s\" is not a code "
						  "(letters, digits, '-')"),
						name, v);
		return 0;
	case C_TEXT:
		if (!*v && strcmp(name, "name") == 0)
			return gb_error(err, GB_EINVAL, _("%s: required"),
					name);
		return 0;
	case C_COUNT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (!*v || *end || errno || n < 0)
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not a whole number "
					  "of 0 or more"),
					name, v);
		return 0;
	case C_ROLE:
		if (strcmp(v, "coordinator") && strcmp(v, "officer") &&
		    strcmp(v, "chief") && strcmp(v, "guard"))
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not coordinator, "
					  "officer, chief or guard"),
					name, v);
		return 0;
	}
	return 0;
}

static int load_file(struct store *st, const char *dir,
		     const struct seed_file *f, struct seed_stats *stats,
		     struct gb_err *err)
{
	char *path = xasprintf("%s/%s", dir, f->name);
	int map[MAX_COLS], got, rc = -1;
	const char *vals[MAX_COLS];
	struct gb_csv csv;
	FILE *fp;

	fp = fopen(path, "r");
	if (!fp) {
		gb_error(err, errno == ENOENT ? GB_ENOTFOUND : GB_EIO,
			 _("%s: %s"), path, strerror(errno));
		free(path);
		return -1;
	}
	gb_csv_init(&csv, fp);
	got = gb_csv_next(&csv, err);
	if (got <= 0) {
		if (got == 0)
			gb_error(err, GB_EINVAL, _("no header row"));
		goto fail;
	}
	for (int c = 0; c < f->ncols; c++) {
		map[c] = -1;
		for (int i = 0; i < csv.nfields; i++)
			if (strcmp(csv.field[i], f->cols[c]) == 0)
				map[c] = i;
		if (map[c] < 0) {
			gb_error(err, GB_EINVAL, _("no column \"%s\""),
				 f->cols[c]);
			goto fail;
		}
	}
	for (;;) {
		got = gb_csv_next(&csv, err);
		if (got <= 0)
			break;
		int changed = 0;

		for (int c = 0; c < f->ncols; c++) {
			vals[c] = map[c] < csv.nfields ? csv.field[map[c]] : "";
			if (check_value(f, c, vals[c], err) < 0) {
				gb_error_prefix(err, _("line %ld"), csv.line);
				goto fail;
			}
		}
		if (st->ops->ref_put(st, f->table, vals, &changed, err) < 0) {
			gb_error_prefix(err, _("line %ld"), csv.line);
			goto fail;
		}
		stats->rows++;
		stats->changed += changed;
	}
	if (got < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	gb_error_prefix(err, "%s", path);
out:
	gb_csv_release(&csv);
	fclose(fp);
	free(path);
	return rc;
}

int seed_load(struct store *st, const char *dir, struct seed_stats *stats,
	      struct gb_err *err)
{
	struct seed_stats local = {0, 0};

	if (st->ops->begin(st, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (load_file(st, dir, &files[i], &local, err) < 0)
			goto fail;
	if (local.changed && st->ops->ref_touch(st, err) < 0)
		goto fail;
	if (st->ops->commit(st, err) < 0)
		return -1;
	if (stats)
		*stats = local;
	return 0;
fail:
	st->ops->rollback(st);
	return -1;
}

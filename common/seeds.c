/*
 * Reading the seed files (seeds.h).  The columns and their rules are one
 * table, so that HQ and a laptop cannot come to disagree on what a seed
 * file may hold: a file one side refuses, the other refuses too, with the
 * same words.  Every message names the file first, then the line of the
 * row ("communities.csv:12: population: ..."), as a compiler would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "record.h"
#include "seeds.h"
#include "utf8.h"

#include "banned.h"

const char *const gb_staff_roles[] = {"coordinator", "chief", "officer",
				      "guard", NULL};

const struct gb_seeds_spec gb_seeds_specs[GB_SEEDS_NFILES] = {
    [GB_SEEDS_DISTRICT] = {"district.csv",
			   2,
			   {"code", "name"},
			   {GB_SEEDS_CODE, GB_SEEDS_NAME}},
    [GB_SEEDS_STREETS] = {"streets.csv",
			  2,
			  {"code", "name"},
			  {GB_SEEDS_CODE, GB_SEEDS_NAME}},
    [GB_SEEDS_GRIDS] = {"grids.csv",
			3,
			{"code", "street", "name"},
			{GB_SEEDS_CODE, GB_SEEDS_CODE, GB_SEEDS_NAME}},
    [GB_SEEDS_COMMUNITIES] = {"communities.csv",
			      6,
			      {"code", "grid", "name", "population",
			       "criminal_cases", "patrol_team"},
			      {GB_SEEDS_CODE, GB_SEEDS_CODE, GB_SEEDS_NAME,
			       GB_SEEDS_COUNT, GB_SEEDS_COUNT, GB_SEEDS_COUNT}},
    [GB_SEEDS_AREAS] = {"police_areas.csv",
			4,
			{"code", "grid", "name", "room"},
			{GB_SEEDS_CODE, GB_SEEDS_CODE, GB_SEEDS_NAME,
			 GB_SEEDS_TEXT}},
    [GB_SEEDS_AREA_COMMUNITIES] = {"area_communities.csv",
				   2,
				   {"area", "community"},
				   {GB_SEEDS_CODE, GB_SEEDS_CODE}},
    [GB_SEEDS_STAFF] = {"staff.csv",
			5,
			{"code", "name", "role", "grid", "area"},
			{GB_SEEDS_CODE, GB_SEEDS_NAME, GB_SEEDS_ROLE,
			 GB_SEEDS_CODE, GB_SEEDS_OPTCODE}},
};

void gb_seeds_close(struct gb_seeds *sd)
{
	if (!sd->fp)
		return;
	gb_csv_release(&sd->csv);
	fclose(sd->fp);
	sd->fp = NULL;
}

int gb_seeds_open(struct gb_seeds *sd, const char *dir,
		  enum gb_seeds_file which, struct gb_err *err)
{
	const struct gb_seeds_spec *sp = &gb_seeds_specs[which];
	int n;

	memset(sd, 0, sizeof(*sd));
	sd->spec = sp;
	n = snprintf(sd->path, sizeof(sd->path), "%s/%s", dir, sp->file);
	if (n < 0 || (size_t)n >= sizeof(sd->path))
		return gb_error(err, GB_EIO, _("seed directory name too long"));
	sd->fp = fopen(sd->path, "r");
	if (!sd->fp)
		return gb_error(err, errno == ENOENT ? GB_ENOTFOUND : GB_EIO,
				_("cannot read %s: %s"), sd->path,
				strerror(errno));
	gb_csv_init(&sd->csv, sd->fp);
	n = gb_csv_next(&sd->csv, err);
	if (n == 0)
		gb_error(err, GB_EINVAL, _("no header row"));
	if (n <= 0)
		goto fail;
	for (int i = 0; i < sp->ncols; i++) {
		sd->col[i] = -1;
		for (int j = 0; j < sd->csv.nfields; j++)
			if (strcmp(sd->csv.field[j], sp->cols[i]) == 0)
				sd->col[i] = j;
		if (sd->col[i] < 0) {
			gb_error(err, GB_EINVAL, _("no column \"%s\""),
				 sp->cols[i]);
			goto fail;
		}
	}
	return 0;
fail:
	gb_error_prefix(err, "%s", sd->path);
	gb_seeds_close(sd);
	return -1;
}

/* Checks value v of column c against its type; a count goes to *n. */
static int check_value(const struct gb_seeds_spec *sp, int c, const char *v,
		       int64_t *n, struct gb_err *err)
{
	const char *name = sp->cols[c];
	char *end;
	long long ll;

	if (!gb_utf8_valid(v, strlen(v)))
		return gb_error(err, GB_EINVAL, _("%s: not valid UTF-8"), name);
	switch (sp->types[c]) {
	case GB_SEEDS_OPTCODE:
		if (!*v)
			return 0;
		/* fall through */
	case GB_SEEDS_CODE:
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
	case GB_SEEDS_NAME:
		if (!*v)
			return gb_error(err, GB_EINVAL, _("%s: required"),
					name);
		return 0;
	case GB_SEEDS_TEXT:
		return 0;
	case GB_SEEDS_COUNT:
		errno = 0;
		ll = strtoll(v, &end, 10);
		if (!*v || *end || errno || ll < 0)
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not a whole number "
					  "of 0 or more"),
					name, v);
		*n = ll;
		return 0;
	case GB_SEEDS_ROLE:
		if (gb_choice_index(gb_staff_roles, v) < 0)
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not coordinator, "
					  "officer, chief or guard"),
					name, v);
		return 0;
	}
	return 0;
}

int gb_seeds_next(struct gb_seeds *sd, struct gb_err *err)
{
	const struct gb_seeds_spec *sp = sd->spec;
	int rc = gb_csv_next(&sd->csv, err);

	if (rc < 0)
		return gb_error_prefix(err, "%s", sd->path);
	if (rc == 0)
		return 0;
	for (int i = 0; i < sp->ncols; i++) {
		/* A row cut short leaves its last columns empty, which their
		 * type then allows or not. */
		sd->v[i] = sd->col[i] < sd->csv.nfields
			       ? sd->csv.field[sd->col[i]]
			       : "";
		sd->n[i] = 0;
		if (check_value(sp, i, sd->v[i], &sd->n[i], err))
			return gb_error_prefix(err, "%s:%ld", sd->path,
					       sd->csv.line);
	}
	return 1;
}

long gb_seeds_line(const struct gb_seeds *sd)
{
	return sd->csv.line;
}

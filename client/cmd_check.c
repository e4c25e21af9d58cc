/*
 * gridbook check: the versions the grid file holds out of the bounds of
 * a version (SPEC §4, clocks: 2^63 or more, a time before 2000, or more
 * than 24 h ahead of this laptop's clock), from a clock that was wrong or
 * from before the bounds were kept.  They are listed with what is wrong,
 * and nothing is changed: such a version is no longer taken into the
 * file's clock, and one of this laptop's that waits at HQ is re-stamped
 * by `gridbook sync` once the clock is right.  Exit 1 when any is found.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "db.h"
#include "gbtime.h"
#include "i18n.h"
#include "id.h"
#include "opts.h"

#include "banned.h"

static const char usage_text[] =
    N_("usage: gridbook check\n"
       "\n"
       "Lists the versions this grid file holds out of bounds: 2^63 or more,\n"
       "written before 2000-01-01, or more than 24 h ahead of this laptop's\n"
       "clock.  Changes nothing.  Exit status 1 when there are any.\n");

/* What is wrong with version v, in words, into out. */
static void bound_text(uint64_t v, enum gb_hlc_bound b, char *out, size_t n)
{
	char at[32];

	switch (b) {
	case GB_HLC_TOO_BIG:
		snprintf(out, n, "%s", _("2^63 or more"));
		return;
	case GB_HLC_BEFORE_2000:
		gb_time_format_utc(gb_hlc_ms(v), at);
		snprintf(out, n, _("written at %s, before 2000-01-01"), at);
		return;
	case GB_HLC_AHEAD:
		gb_time_format_utc(gb_hlc_ms(v), at);
		snprintf(out, n,
			 _("written at %s, more than 24 h ahead of this "
			   "laptop's clock"),
			 at);
		return;
	case GB_HLC_IN_BOUNDS:
		break;
	}
	snprintf(out, n, "%s", "");
}

int cmd_check(struct gb_cli *cli, int argc, char **argv)
{
	struct db_bad_version *bad = NULL;
	int help = 0, npos = 0, status = 1;
	int64_t now = gb_now_ms();
	struct gb_db *db;
	struct gb_err err;
	char *pos[1], clock[32];
	size_t n = 0;

	if (gb_opts_parse(NULL, 0, argc, argv, pos, 0, &npos, &help, &err))
		return gb_opts_usage_error(cli->prog, "check", &err);
	if (help) {
		fputs(_(usage_text), stdout);
		return 0;
	}
	db = cmd_open_db(cli, 0);
	if (!db)
		return 1;
	if (db_versions_out_of_bounds(db, now, &bad, &n, &err)) {
		status = cmd_fail(cli, &err);
		goto out;
	}
	gb_time_format_utc(now, clock);
	if (n == 0) {
		printf(_("no version out of bounds (this laptop's clock: "
			 "%s)\n"),
		       clock);
		status = 0;
		goto out;
	}
	printf(ngettext("%zu version out of bounds (this laptop's clock: "
			"%s):\n",
			"%zu versions out of bounds (this laptop's clock: "
			"%s):\n",
			(unsigned long)n),
	       n, clock);
	for (size_t i = 0; i < n; i++) {
		char why[128];

		bound_text(bad[i].version, bad[i].bound, why, sizeof(why));
		printf("%s  %s  %-20" PRIu64 "  %s  %s\n", bad[i].id,
		       bad[i].current ? _("current") : _("earlier"),
		       bad[i].version, bad[i].device, why);
	}
out:
	free(bad);
	db_close(db);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}

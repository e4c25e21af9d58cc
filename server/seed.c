/*
 * The seed loader.  The files are read and their values checked by the
 * seed reader both sides share (seeds.h), parents first; the store then
 * checks that every code refers to a unit loaded before it.
 */
#include <stdio.h>

#include "i18n.h"
#include "seed.h"
#include "seeds.h"

#include "banned.h"

/* The store's table of each seed file. */
static const enum store_table tables[GB_SEEDS_NFILES] = {
    [GB_SEEDS_DISTRICT] = STORE_T_DISTRICT,
    [GB_SEEDS_STREETS] = STORE_T_STREET,
    [GB_SEEDS_GRIDS] = STORE_T_GRID,
    [GB_SEEDS_COMMUNITIES] = STORE_T_COMMUNITY,
    [GB_SEEDS_AREAS] = STORE_T_AREA,
    [GB_SEEDS_AREA_COMMUNITIES] = STORE_T_AREA_COMMUNITY,
    [GB_SEEDS_STAFF] = STORE_T_STAFF,
};

static int load_file(struct store *st, const char *dir,
		     enum gb_seeds_file which, struct seed_stats *stats,
		     struct gb_err *err)
{
	struct gb_seeds sd;
	int got;

	if (gb_seeds_open(&sd, dir, which, err) < 0)
		return -1;
	for (;;) {
		got = gb_seeds_next(&sd, err);
		if (got <= 0)
			break;
		int changed = 0;

		if (st->ops->ref_put(st, tables[which], sd.v, &changed, err) <
		    0) {
			gb_error_prefix(err, "%s:%ld", sd.path,
					gb_seeds_line(&sd));
			got = -1;
			break;
		}
		stats->rows++;
		stats->changed += changed;
	}
	gb_seeds_close(&sd);
	return got < 0 ? -1 : 0;
}

int seed_load(struct store *st, const char *dir, struct seed_stats *stats,
	      struct gb_err *err)
{
	struct seed_stats local = {0, 0};

	if (st->ops->begin(st, err) < 0)
		return -1;
	for (int i = 0; i < GB_SEEDS_NFILES; i++)
		if (load_file(st, dir, (enum gb_seeds_file)i, &local, err) < 0)
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

/*
 * The reference data of grids held in memory by a store's writer, for
 * validation's look-ups of the communities, police areas and staff a
 * record names (several a record; a query each was a tenth of HQ's
 * work).  Each store fills a grid from its own tables and decides when
 * what it holds is out of date (its ref_version); this module only
 * keeps and searches it.  Writer thread only.
 */
#ifndef GB_REF_CACHE_H
#define GB_REF_CACHE_H

#include <stddef.h>

#include "record.h"

/* The reference types a grid holds, in the order of its arrays. */
enum ref_type { REF_COMMUNITY, REF_AREA, REF_STAFF, REF_NTYPES };

/* One unit: its code and the attribute a look-up may ask for (a
 * community's code, an area's room, a staff member's role). */
struct ref_unit {
	char *code;
	char *attr;
};

/* The reference data of one grid, each type sorted by code once
 * ref_grid_sort has run. */
struct ref_grid {
	char grid[GB_CODE_LEN];
	struct ref_unit *unit[REF_NTYPES];
	size_t n[REF_NTYPES];
	size_t cap[REF_NTYPES];
	struct ref_grid *next;
};

/* The grid of list held under its code, or NULL. */
struct ref_grid *ref_cache_get(struct ref_grid *list, const char *grid);
/* A new grid with no units, put first in *list. */
struct ref_grid *ref_cache_new(struct ref_grid **list, const char *grid);
/* Adds a unit of type t to g (code and attr copied; NULL as ""). */
void ref_grid_add(struct ref_grid *g, enum ref_type t, const char *code,
		  const char *attr);
/* Sorts the units of type t of g by code, for ref_grid_find. */
void ref_grid_sort(struct ref_grid *g, enum ref_type t);
/* The unit of type t with code, or NULL. */
const struct ref_unit *ref_grid_find(const struct ref_grid *g, enum ref_type t,
				     const char *code);
/* Frees every grid of *list and empties it. */
void ref_cache_free(struct ref_grid **list);

#endif

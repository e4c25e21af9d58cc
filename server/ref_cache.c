/* The reference data held by a store's writer (ref_cache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_cache.h"
#include "xalloc.h"

#include "banned.h"

struct ref_grid *ref_cache_get(struct ref_grid *list, const char *grid)
{
	for (; list; list = list->next)
		if (!strcmp(list->grid, grid))
			return list;
	return NULL;
}

struct ref_grid *ref_cache_new(struct ref_grid **list, const char *grid)
{
	struct ref_grid *g = xcalloc(1, sizeof(*g));

	snprintf(g->grid, sizeof(g->grid), "%s", grid);
	g->next = *list;
	*list = g;
	return g;
}

void ref_grid_add(struct ref_grid *g, enum ref_type t, const char *code,
		  const char *attr)
{
	if (g->n[t] == g->cap[t]) {
		g->cap[t] = g->cap[t] ? 2 * g->cap[t] : 16;
		g->unit[t] =
		    xrealloc(g->unit[t], g->cap[t] * sizeof(*g->unit[t]));
	}
	g->unit[t][g->n[t]].code = xstrdup(code ? code : "");
	g->unit[t][g->n[t]].attr = xstrdup(attr ? attr : "");
	g->n[t]++;
}

static int unit_cmp(const void *a, const void *b)
{
	const struct ref_unit *x = a, *y = b;

	return strcmp(x->code, y->code);
}

void ref_grid_sort(struct ref_grid *g, enum ref_type t)
{
	if (g->n[t] > 1)
		qsort(g->unit[t], g->n[t], sizeof(*g->unit[t]), unit_cmp);
}

const struct ref_unit *ref_grid_find(const struct ref_grid *g, enum ref_type t,
				     const char *code)
{
	struct ref_unit k;

	if (!g->n[t])
		return NULL;
	k.code = (char *)code;
	k.attr = NULL;
	return bsearch(&k, g->unit[t], g->n[t], sizeof(k), unit_cmp);
}

void ref_cache_free(struct ref_grid **list)
{
	while (*list) {
		struct ref_grid *g = *list;

		*list = g->next;
		for (int t = 0; t < REF_NTYPES; t++) {
			for (size_t i = 0; i < g->n[t]; i++) {
				free(g->unit[t][i].code);
				free(g->unit[t][i].attr);
			}
			free(g->unit[t]);
		}
		free(g);
	}
}

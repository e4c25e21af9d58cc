/*
 * What every store does alike, beside the interface (store.h): the heads
 * of a record's merge as the stores keep them, one text column of decimal
 * versions separated by commas, NULL when the one head is the version
 * itself (as rows written before the merge have it).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "store.h"

#include "banned.h"

void store_heads_parse(const char *text, uint64_t ver,
		       struct store_current *out)
{
	const char *p = text;

	out->nheads = 0;
	if (!p || !*p) {
		out->heads[out->nheads++] = ver;
		return;
	}
	while (*p) {
		char *end;
		unsigned long long h = strtoull(p, &end, 10);

		if (end == p)
			break;
		if (out->nheads == GB_MAX_BASE) {
			out->nheads = -1;
			return;
		}
		out->heads[out->nheads++] = (uint64_t)h;
		p = *end == ',' ? end + 1 : end;
	}
}

const char *store_heads_text(const struct store_version *v, struct gb_buf *b)
{
	if (v->nheads == 0 ||
	    (v->nheads == 1 && v->heads[0] == v->rec->version))
		return NULL;
	for (size_t i = 0; i < v->nheads; i++)
		gb_buf_addf(b, NULL, "%s%" PRIu64, i ? "," : "", v->heads[i]);
	return gb_buf_str(b);
}

/*
 * Records in memory: allocation, field access by name, comparison and the
 * JSON form of the values that the client stores and exports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "record.h"
#include "xalloc.h"

#include "banned.h"

struct gb_record *gb_record_new(const struct gb_kind *k)
{
	struct gb_record *r = xcalloc(1, sizeof(*r));

	r->kind = k;
	return r;
}

void gb_record_free(struct gb_record *r)
{
	if (!r)
		return;
	for (int i = 0; i < GB_MAX_FIELDS; i++)
		free(r->val[i]);
	free(r->void_reason);
	free(r);
}

struct gb_record *gb_record_dup(const struct gb_record *r)
{
	struct gb_record *c = xmalloc(sizeof(*c));

	*c = *r;
	c->void_reason = xstrdup(r->void_reason);
	for (int i = 0; i < GB_MAX_FIELDS; i++)
		c->val[i] = xstrdup(r->val[i]);
	return c;
}

int gb_record_vec_push(void *arg, const struct gb_record *r)
{
	struct gb_record_vec *rv = arg;

	if (rv->n == rv->alloc) {
		rv->alloc = rv->alloc ? rv->alloc * 2 : 32;
		rv->v = xrealloc(rv->v, (size_t)rv->alloc * sizeof(*rv->v));
	}
	rv->v[rv->n++] = gb_record_dup(r);
	return 0;
}

void gb_record_vec_release(struct gb_record_vec *rv)
{
	for (int i = 0; i < rv->n; i++)
		gb_record_free(rv->v[i]);
	free(rv->v);
	rv->v = NULL;
	rv->n = rv->alloc = 0;
}

const char *gb_record_get(const struct gb_record *r, const char *field)
{
	int i = gb_kind_field(r->kind, field);

	return i < 0 ? NULL : r->val[i];
}

void gb_record_set(struct gb_record *r, int idx, const char *canon)
{
	free(r->val[idx]);
	r->val[idx] = canon && *canon ? xstrdup(canon) : NULL;
}

int gb_record_set_name(struct gb_record *r, const char *field,
		       const char *canon)
{
	int i = gb_kind_field(r->kind, field);

	if (i < 0)
		return -1;
	gb_record_set(r, i, canon);
	return 0;
}

void gb_record_set_void_reason(struct gb_record *r, const char *reason)
{
	free(r->void_reason);
	r->void_reason = reason && *reason ? xstrdup(reason) : NULL;
}

int gb_record_int(const struct gb_record *r, const char *field, int64_t *out)
{
	const char *v = gb_record_get(r, field);
	char *end;
	long long n;

	if (!v)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end)
		return -1;
	*out = n;
	return 0;
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int gb_record_same_content(const struct gb_record *a, const struct gb_record *b)
{
	if (a->kind != b->kind || !a->voided != !b->voided ||
	    !str_eq(a->void_reason, b->void_reason))
		return 0;
	for (int i = 0; i < a->kind->nfields; i++)
		if (!str_eq(a->val[i], b->val[i]))
			return 0;
	return 1;
}

/*
 * The values' JSON is made for every version HQ takes in and every record
 * a laptop stores or exports, so it is written into a chunk on the stack
 * and handed to the buffer a chunk at a time rather than a few bytes per
 * call.  The text is what gb_json_str and gb_buf_add would write, byte
 * for byte; past the buffer's cap the whole fails, as they would.
 */
struct chunk {
	struct gb_buf *out;
	struct gb_err *err;
	size_t n;
	char b[2048];
};

static int chunk_flush(struct chunk *c)
{
	size_t n = c->n;

	c->n = 0;
	return gb_buf_add(c->out, c->b, n, c->err);
}

/* n bytes that do not fit what is left of the chunk. */
static int chunk_put_slow(struct chunk *c, const char *p, size_t n)
{
	if (chunk_flush(c))
		return -1;
	if (n > sizeof(c->b))
		return gb_buf_add(c->out, p, n, c->err);
	memcpy(c->b, p, n);
	c->n = n;
	return 0;
}

static inline int chunk_put(struct chunk *c, const char *p, size_t n)
{
	if (n > sizeof(c->b) - c->n)
		return chunk_put_slow(c, p, n);
	memcpy(c->b + c->n, p, n);
	c->n += n;
	return 0;
}

static inline int chunk_putc(struct chunk *c, char ch)
{
	if (c->n == sizeof(c->b) && chunk_flush(c))
		return -1;
	c->b[c->n++] = ch;
	return 0;
}

/* The chunk as a writer of gb_json_write. */
static int chunk_sink(void *arg, const char *p, size_t n)
{
	return chunk_put(arg, p, n);
}

/* s as a JSON string (null for NULL), as gb_json_str writes it. */
static int chunk_json_str(struct chunk *c, const char *s)
{
	return gb_json_write(s, chunk_sink, c);
}

int gb_record_values_json(const struct gb_record *r, struct gb_buf *out,
			  struct gb_err *err)
{
	const struct gb_kind *k = r->kind;
	struct chunk c;

	c.out = out;
	c.err = err;
	c.n = 0;
	if (chunk_putc(&c, '{'))
		return -1;
	for (int i = 0; i < k->nfields; i++) {
		const char *v = r->val[i];

		if ((i && chunk_putc(&c, ',')) ||
		    chunk_json_str(&c, k->fields[i].name) ||
		    chunk_putc(&c, ':'))
			return -1;
		if (v && k->fields[i].type == GB_T_INT) {
			if (chunk_put(&c, v, strlen(v)))
				return -1;
		} else if (chunk_json_str(&c, v)) {
			return -1;
		}
	}
	if (chunk_putc(&c, '}'))
		return -1;
	return chunk_flush(&c);
}

int gb_record_json(const struct gb_record *r, struct gb_buf *b,
		   struct gb_err *err)
{
	if (gb_buf_adds(b, "{\"id\":", err) || gb_json_str(b, r->id, err) ||
	    gb_buf_adds(b, ",\"kind\":", err) ||
	    gb_json_str(b, r->kind->name, err) ||
	    gb_buf_addf(b, err,
			",\"version\":%" PRIu64 ",\"created_at\":%" PRId64
			",\"updated_at\":%" PRId64,
			r->version, r->created_at, r->updated_at) ||
	    gb_buf_adds(b, ",\"staff\":", err) ||
	    gb_json_str(b, r->staff[0] ? r->staff : NULL, err) ||
	    gb_buf_adds(b, ",\"device\":", err) ||
	    gb_json_str(b, r->device[0] ? r->device : NULL, err) ||
	    gb_buf_adds(b, r->voided ? ",\"voided\":true" : ",\"voided\":false",
			err) ||
	    gb_buf_adds(b, ",\"void_reason\":", err) ||
	    gb_json_str(b, r->void_reason, err) ||
	    gb_buf_adds(b, ",\"values\":", err) ||
	    gb_record_values_json(r, b, err) || gb_buf_adds(b, "}", err))
		return -1;
	return 0;
}

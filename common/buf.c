/*
 * Capped growable buffers (see buf.h).  Growth doubles, so appending n bytes
 * one at a time costs O(n) overall.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "xalloc.h"

#include "banned.h"

void gb_buf_init(struct gb_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void gb_buf_release(struct gb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void gb_buf_reset(struct gb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int grow(struct gb_buf *b, size_t extra, struct gb_err *err)
{
	size_t need, n;

	if (extra > b->max || b->len > b->max - extra) {
		size_t max = b->max;

		gb_buf_release(b);
		return gb_error(err, GB_ETOOBIG, _("more than %zu bytes"), max);
	}
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	b->data = xrealloc(b->data, n);
	b->alloc = n;
	return 0;
}

int gb_buf_add(struct gb_buf *b, const void *p, size_t n, struct gb_err *err)
{
	if (grow(b, n, err))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int gb_buf_adds(struct gb_buf *b, const char *s, struct gb_err *err)
{
	return gb_buf_add(b, s, strlen(s), err);
}

int gb_buf_addf(struct gb_buf *b, struct gb_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return gb_error(err, GB_EINTERNAL, "bad format");
	if (grow(b, (size_t)n, err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *gb_buf_str(const struct gb_buf *b)
{
	return b->data ? b->data : "";
}

char *gb_buf_detach(struct gb_buf *b, size_t *len)
{
	char *p = b->data ? b->data : xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

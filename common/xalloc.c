/*
 * Aborting allocators.  A field laptop that cannot allocate a few bytes has
 * no useful way to go on, and every caller checking would hide real errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#include "banned.h"

static void oom(size_t n)
{
	fprintf(stderr, "gridbook: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

size_t gb_i64_text(char out[GB_I64_TEXT], int64_t v)
{
	char d[20], *q = out;
	uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
	size_t n = 0;

	do {
		d[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*q++ = '-';
	while (n)
		*q++ = d[--n];
	*q = '\0';
	return (size_t)(q - out);
}

char *xi64str(int64_t v)
{
	char t[GB_I64_TEXT];
	size_t n = gb_i64_text(t, v);
	char *p = xmalloc(n + 1);

	memcpy(p, t, n + 1);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len = strnlen(s, n);

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/*
 * Allocation that cannot fail: on out-of-memory these print a message and
 * abort, as tmux does.  Everything else in gridbook returns errors.
 */
#ifndef GB_XALLOC_H
#define GB_XALLOC_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns a copy the caller frees; xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A formatted string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* v in decimal, as "%" PRId64 writes it, in a string the caller frees:
 * the numbers of every record read or checked, where xasprintf cost
 * about 1,400 instructions a number. */
char *xi64str(int64_t v);
/* v in decimal as xi64str writes it, into out; returns its length. */
#define GB_I64_TEXT 21
size_t gb_i64_text(char out[GB_I64_TEXT], int64_t v);

#endif

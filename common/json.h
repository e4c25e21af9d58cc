/*
 * Writing JSON text.  gridbook only ever writes JSON from C; where it reads
 * JSON back (stored record bodies) it lets SQLite's json_each() parse it.
 */
#ifndef GB_JSON_H
#define GB_JSON_H

#include "buf.h"
#include "err.h"

/* Appends s as a JSON string literal with quotes; NULL appends null. */
int gb_json_str(struct gb_buf *b, const char *s, struct gb_err *err);
/* The same written through put(arg, bytes, n), which returns 0 or -1
 * (then so does this): for a writer of its own, such as a buffer on the
 * stack (gb_record_values_json). */
int gb_json_write(const char *s, int (*put)(void *arg, const char *p, size_t n),
		  void *arg);

#endif

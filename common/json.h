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

#endif

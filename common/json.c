/*
 * JSON string escaping (RFC 8259 §7).  Input is UTF-8 already checked by
 * the caller; bytes >= 0x80 pass through unchanged.
 */
#include <stdio.h>

#include "json.h"

#include "banned.h"

int gb_json_str(struct gb_buf *b, const char *s, struct gb_err *err)
{
	const unsigned char *p;
	const char *run;

	if (!s)
		return gb_buf_adds(b, "null", err);
	if (gb_buf_add(b, "\"", 1, err))
		return -1;
	run = s;
	p = (const unsigned char *)s;
	for (;;) {
		char esc[8];
		const char *e;

		/* The bytes that pass unchanged, taken as one run: a switch
		 * on every byte was most of what the JSON body of a record
		 * cost (HQ's ingest, a laptop's pull). */
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (gb_buf_add(b, run, (size_t)((const char *)p - run), err))
			return -1;
		if (!*p)
			break;
		switch (*p) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			e = esc;
		}
		if (gb_buf_adds(b, e, err))
			return -1;
		run = (const char *)++p;
	}
	return gb_buf_add(b, "\"", 1, err);
}

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
	for (p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		const char *e = NULL;

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
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				e = esc;
			}
		}
		if (!e)
			continue;
		if (gb_buf_add(b, run, (size_t)((const char *)p - run), err) ||
		    gb_buf_adds(b, e, err))
			return -1;
		run = (const char *)p + 1;
	}
	if (gb_buf_add(b, run, (size_t)((const char *)p - run), err))
		return -1;
	return gb_buf_add(b, "\"", 1, err);
}

/*
 * UTF-8 checks and terminal column widths.  Chinese characters take two
 * columns in a terminal, so aligned tables measure text with
 * gb_utf8_width() rather than strlen().
 */
#ifndef GB_UTF8_H
#define GB_UTF8_H

#include <stddef.h>

/* 1 when s is well-formed UTF-8 (no overlongs, surrogates or code points
 * past U+10FFFF). */
int gb_utf8_valid(const char *s, size_t len);
/* Display columns of a UTF-8 string: 2 for East Asian wide and fullwidth
 * characters, 0 for combining marks, 1 otherwise. */
int gb_utf8_width(const char *s);
/* The byte length of the longest prefix of s that fits in cols columns. */
size_t gb_utf8_prefix(const char *s, int cols);

/* Copies s into out (size bytes, at least 8) for quoting in a message:
 * cut at a character boundary with "..." when long, control characters
 * shown as '?', and every non-ASCII byte shown as '?' when s is not valid
 * UTF-8, so a message is always printable text of bounded size. */
void gb_utf8_excerpt(const char *s, char *out, size_t size);

#endif

/*
 * A growable byte buffer with a size cap, after curl's dynbuf: appending
 * past the cap fails and frees the contents, so a hostile input can never
 * make us hold more than we agreed to.  The contents are always
 * NUL-terminated so text can be used directly.
 */
#ifndef GB_BUF_H
#define GB_BUF_H

#include <stddef.h>

#include "err.h"

struct gb_buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t alloc;
	size_t max; /* the cap on len */
};

#define GB_BUF_NOLIMIT ((size_t)-1)

/* Sets up an empty buffer that may grow to max bytes. */
void gb_buf_init(struct gb_buf *b, size_t max);
/* Frees the contents and leaves the buffer empty and reusable. */
void gb_buf_release(struct gb_buf *b);
/* Empties the buffer but keeps its memory. */
void gb_buf_reset(struct gb_buf *b);

/* Append bytes, a string or formatted text.  Return 0, or -1 with err set
 * (GB_ETOOBIG) when the cap would be passed; the buffer is then released. */
int gb_buf_add(struct gb_buf *b, const void *p, size_t n, struct gb_err *err);
int gb_buf_adds(struct gb_buf *b, const char *s, struct gb_err *err);
int gb_buf_addf(struct gb_buf *b, struct gb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Text view: never NULL (an empty buffer gives ""). Borrowed. */
const char *gb_buf_str(const struct gb_buf *b);

/* Hands the contents to the caller (who frees them) and empties b.
 * Never returns NULL. */
char *gb_buf_detach(struct gb_buf *b, size_t *len);

#endif

/*
 * One error idiom for all of gridbook: a function returns 0 on success and
 * -1 on failure with a struct gb_err filled in.  The code decides the exit
 * status of a command and the HTTP status of a server answer; the message
 * names the subject and the rule, lowercase, with no trailing period.
 */
#ifndef GB_ERR_H
#define GB_ERR_H

enum gb_code {
	GB_OK = 0,
	GB_EINVAL,     /* a value breaks a validation rule */
	GB_EUSAGE,     /* the command line is wrong or incomplete */
	GB_ENOTFOUND,  /* a named thing does not exist */
	GB_EAMBIGUOUS, /* a name or prefix matches more than one thing */
	GB_EEXIST,     /* refusing to overwrite */
	GB_EIO,	       /* file or network input/output */
	GB_EDB,	       /* the database refused */
	GB_ECONFLICT,  /* same id and version, different content */
	GB_EAUTH,      /* missing or bad credentials */
	GB_EFORBIDDEN, /* credentials good, action not allowed */
	GB_ETOOBIG,    /* body or expansion over a limit */
	GB_EPROTO,     /* malformed wire data */
	GB_EINTR,      /* interrupted by the user */
	GB_EBUSY,      /* not now: try again a little later */
	GB_EINTERNAL
};

struct gb_err {
	enum gb_code code;
	char msg[256];
};

/* Fills err (which may be NULL) and returns -1, so callers can write
 * `return gb_error(err, GB_EINVAL, "...")`. */
int gb_error(struct gb_err *err, enum gb_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with "prefix: ".  Returns -1. */
int gb_error_prefix(struct gb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to GB_OK with an empty message. */
void gb_err_clear(struct gb_err *err);

/* The process exit status for a code: 0 ok, 2 usage, 1 everything else. */
int gb_code_exit(enum gb_code code);

/* The HTTP status for a code (400, 401, 403, 404, 409, 413, 500 ...). */
int gb_code_http(enum gb_code code);

/* A short stable name for a code ("invalid", "not_found" ...). */
const char *gb_code_name(enum gb_code code);

#endif

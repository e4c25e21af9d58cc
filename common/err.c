/*
 * The error helpers of err.h and the one table that maps an error code to
 * an exit status and an HTTP status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

#include "banned.h"

static const struct {
	const char *name;
	int exit_status;
	int http_status;
} code_table[] = {
    [GB_OK] = {"ok", 0, 200},
    [GB_EINVAL] = {"invalid", 1, 422},
    [GB_EUSAGE] = {"usage", 2, 400},
    [GB_ENOTFOUND] = {"not_found", 1, 404},
    [GB_EAMBIGUOUS] = {"ambiguous", 1, 400},
    [GB_EEXIST] = {"exists", 1, 409},
    [GB_EIO] = {"io", 1, 502},
    [GB_EDB] = {"database", 1, 500},
    [GB_ECONFLICT] = {"conflict", 1, 409},
    [GB_EAUTH] = {"unauthorized", 1, 401},
    [GB_EFORBIDDEN] = {"forbidden", 1, 403},
    [GB_ETOOBIG] = {"too_big", 1, 413},
    [GB_EPROTO] = {"malformed", 1, 400},
    [GB_EINTR] = {"interrupted", 1, 500},
    [GB_EBUSY] = {"busy", 1, 503},
    [GB_EINTERNAL] = {"internal", 1, 500},
};

int gb_error(struct gb_err *err, enum gb_code code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int gb_error_prefix(struct gb_err *err, const char *fmt, ...)
{
	char prefix[128], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* A message cut short still names its subject first. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) < 0)
		err->msg[0] = '\0';
	return -1;
}

void gb_err_clear(struct gb_err *err)
{
	if (!err)
		return;
	err->code = GB_OK;
	err->msg[0] = '\0';
}

static int code_ok(enum gb_code code)
{
	return (unsigned)code < sizeof(code_table) / sizeof(code_table[0]);
}

int gb_code_exit(enum gb_code code)
{
	return code_ok(code) ? code_table[code].exit_status : 1;
}

int gb_code_http(enum gb_code code)
{
	return code_ok(code) ? code_table[code].http_status : 500;
}

const char *gb_code_name(enum gb_code code)
{
	return code_ok(code) ? code_table[code].name : "internal";
}

/*
 * Logging for daemons and commands, after OpenBSD's log.h: log_warn and
 * friends write to stderr with the program name (and a timestamp when
 * log_init asked for one); fatal logs and exits 1.
 */
#ifndef GB_LOG_H
#define GB_LOG_H

#include "err.h"

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* prog is borrowed for the life of the process. */
void log_init(const char *prog, enum log_level level, int timestamps);
/* Lines go to stderr until one of these says otherwise: to the file at
 * path (borrowed for the life of the process, opened for appending), or
 * to syslog (facility daemon).  Returns 0 or -1 with err. */
int log_to_file(const char *path, struct gb_err *err);
void log_to_syslog(void);
/* Opens the log file again under its name, after logrotate has moved it
 * (SIGHUP).  Nothing to do for stderr or syslog.  Not for a signal
 * handler: call it from the loop that saw the signal. */
int log_reopen(struct gb_err *err);

void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif

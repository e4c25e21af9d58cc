/*
 * Logging for daemons and commands, after OpenBSD's log.h: log_warn and
 * friends write to stderr with the program name (and a timestamp when
 * log_init asked for one); fatal logs and exits 1.
 */
#ifndef GB_LOG_H
#define GB_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* prog is borrowed for the life of the process. */
void log_init(const char *prog, enum log_level level, int timestamps);
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif

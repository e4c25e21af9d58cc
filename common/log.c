/*
 * The process-wide logger.  Its settings are the one piece of global state
 * gridbook allows besides configuration.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "gridbook";
static enum log_level log_level = LOG_LVL_INFO;
static int log_stamps;

void log_init(const char *prog, enum log_level level, int timestamps)
{
	log_prog = prog;
	log_level = level;
	log_stamps = timestamps;
}

/* A line longer than this is cut (and still ends in a newline). */
#define LOG_LINE_MAX 2048

/* Formats the whole line first and writes it with one write(), so that
 * the lines of threads logging at once never interleave. */
static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = 0;
	int k;

	if (level > log_level)
		return;
	if (log_stamps) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		k = snprintf(line, sizeof(line), "%s.%03ldZ ", when,
			     ts.tv_nsec / 1000000);
		n = k > 0 ? (size_t)k : 0;
	}
	k = snprintf(line + n, sizeof(line) - n, "%s: ", log_prog);
	n += k > 0 ? (size_t)k : 0;
	if (n < sizeof(line) - 1) {
		k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += k > 0 ? (size_t)k : 0;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fflush(stderr);
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere left to say so */
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

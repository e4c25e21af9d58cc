/*
 * The process-wide logger.  Its settings are the one piece of global state
 * gridbook allows besides configuration.  Each line is formatted whole and
 * written with one write(), so lines of different threads never
 * interleave.  A daemon may send its lines to a file instead of stderr
 * (reopened by log_reopen after logrotate has moved it) or to syslog,
 * which the journal reads on systemd machines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "log.h"

#include "banned.h"

/* A line longer than this is cut (and ends with "..."). */
#define LINE_MAX_BYTES 2048

static const char *log_prog = "gridbook";
static enum log_level log_level = LOG_LVL_INFO;
static int log_stamps;
static int log_fd = STDERR_FILENO;
static const char *log_path; /* borrowed: the file of log_to_file */
static int log_syslog;

void log_init(const char *prog, enum log_level level, int timestamps)
{
	log_prog = prog;
	log_level = level;
	log_stamps = timestamps;
}

/* Opens path for appending, close-on-exec.  Returns the fd or -1. */
static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int log_to_file(const char *path, struct gb_err *err)
{
	int fd = open_log(path);

	if (fd < 0)
		return gb_error(err, GB_EIO, _("%s: cannot open the log: %s"),
				path, strerror(errno));
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	log_path = path;
	log_syslog = 0;
	return 0;
}

void log_to_syslog(void)
{
	openlog(log_prog, LOG_PID, LOG_DAEMON);
	log_syslog = 1;
}

int log_reopen(struct gb_err *err)
{
	int fd;

	if (!log_path)
		return 0;
	fd = open_log(log_path);
	if (fd < 0)
		return gb_error(err, GB_EIO, _("%s: cannot reopen the log: %s"),
				log_path, strerror(errno));
	/* The new file takes the old descriptor's number in one step, so a
	 * line written meanwhile goes to one file or the other. */
	dup2(fd, log_fd);
	close(fd);
	return 0;
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char line[LINE_MAX_BYTES];
	size_t n = 0;
	int w;

	if (level > log_level)
		return;
	if (log_syslog) {
		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(prio[level], "%s", line);
		return;
	}
	if (log_stamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		w = snprintf(line + n, sizeof(line) - n, ".%03ldZ ",
			     ts.tv_nsec / 1000000);
		n += w > 0 ? (size_t)w : 0;
	}
	w = snprintf(line + n, sizeof(line) - n, "%s: ", log_prog);
	n += w > 0 ? (size_t)w : 0;
	w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (w < 0)
		w = 0;
	if ((size_t)w >= sizeof(line) - n - 1) {
		n = sizeof(line) - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	} else {
		n += (size_t)w;
	}
	line[n++] = '\n';
	if (write(log_fd, line, n) < 0) {
		/* Nowhere left to say it. */
	}
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

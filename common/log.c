/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Logging for daemons and tools to stderr, one line per event, OpenBSD log.c style. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"

static const char	*log_prog = "isogate";
static int		 log_debugging;

void
log_init(const char *progname, int debug)
{
	log_prog = progname;
	log_debugging = debug;
}

static void
vlog(const char *level, const char *fmt, va_list ap, int with_errno)
{
	char		 msg[1024], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	int		 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_errno)
		fprintf(stderr, "%s.%03ldZ %s: %s%s: %s\n", ts,
		    now.tv_nsec / 1000000, log_prog, level, msg,
		    strerror(saved));
	else
		fprintf(stderr, "%s.%03ldZ %s: %s%s\n", ts,
		    now.tv_nsec / 1000000, log_prog, level, msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_debugging)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

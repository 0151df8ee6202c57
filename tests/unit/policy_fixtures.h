/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Helpers shared by the policy unit tests (static inline: a file may leave one unused). */

#ifndef ISOGATE_TESTS_POLICY_FIXTURES_H
#define ISOGATE_TESTS_POLICY_FIXTURES_H

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy.h"

static inline void assert_fmt(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* got must equal the formatted text. */
static inline void
assert_fmt(const char *got, const char *fmt, ...)
{
	va_list	 ap;
	char	*want;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&want, fmt, ap);
	va_end(ap);
	assert_int_not_equal(r, -1);
	if (strcmp(got, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, want);
	free(want);
}

static inline void
write_text(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Loads text that must fail; returns the errors (caller frees). */
static inline char *
load_errors(const char *name, const char *text, unsigned flags)
{
	struct policy	*p = (struct policy *)&p;	/* must stay */
	char		*errors = NULL;

	assert_int_equal(policy_load_buffer(name, text, strlen(text), flags,
	    &p, &errors), -EINVAL);
	assert_ptr_equal(p, (struct policy *)&p);
	assert_non_null(errors);
	return errors;
}

#endif

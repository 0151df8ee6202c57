/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Hand-built fields and schemas shared by the policy/schema.c unit tests. */

/*
 * Helpers are static inline, so a test file that leaves one unused
 * still builds under -Werror; each test program gets its own copy.
 */
#ifndef SCHEMA_FIXTURES_H
#define SCHEMA_FIXTURES_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/common.h"
#include "policy/policy.h"

/* Fields are built by hand: the tests must not depend on policy_load. */
static inline struct field
field_make(const char *name, enum field_type type)
{
	struct field	 f;

	memset(&f, 0, sizeof(f));
	f.name = (char *)name;
	f.type = type;
	f.max_len = POLICY_STRING_DEFAULT;
	return f;
}

static inline struct field
fstring(const char *name, size_t max_len, const char *pattern)
{
	struct field	 f = field_make(name, FIELD_STRING);

	f.max_len = max_len;
	if (pattern != NULL) {
		f.pattern = (char *)pattern;
		assert_int_equal(regcomp(&f.re, pattern,
		    REG_EXTENDED | REG_NOSUB), 0);
	}
	return f;
}

static inline struct field
finteger(const char *name, int64_t imin, int64_t imax)
{
	struct field	 f = field_make(name, FIELD_INTEGER);

	f.imin = imin;
	f.imax = imax;
	return f;
}

static inline struct field
fnumber(const char *name, double nmin, double nmax)
{
	struct field	 f = field_make(name, FIELD_NUMBER);

	f.nmin = nmin;
	f.nmax = nmax;
	return f;
}

static char *enum_values[] = { "active", "closed", "pending" };

static inline struct field
fenum(const char *name)
{
	struct field	 f = field_make(name, FIELD_ENUM);

	f.values = enum_values;
	f.nvalues = 3;
	return f;
}

static inline void
fields_free(struct field *f, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (f[i].pattern != NULL)
			regfree(&f[i].re);
	}
}

/* A sentinel, so tests see which parts of an error were written. */
static inline void
err_poison(struct schema_error *err)
{
	memset(err, 'X', sizeof(*err));
	err->field[sizeof(err->field) - 1] = '\0';
	err->message[sizeof(err->message) - 1] = '\0';
}

/* A request schema with every type, sorted by name. */
#define NFULL	7
static inline void
full_schema(struct field *f, struct schema *s)
{
	f[0] = fnumber("amount", -1000.5, 1e6);
	f[1] = field_make("at", FIELD_TIMESTAMP);
	f[2] = finteger("count", 0, 100);
	f[3] = field_make("day", FIELD_DATE);
	f[4] = field_make("flag", FIELD_BOOLEAN);
	f[5] = fstring("name", 5, "^[a-z]+$");
	f[6] = fenum("status");
	s->fields = f;
	s->nfields = NFULL;
}

#define FULL_CANON \
	"{\"amount\":12.5,\"at\":\"2024-02-29T12:00:00Z\",\"count\":7," \
	"\"day\":\"2024-02-29\",\"flag\":true,\"name\":\"abc\"," \
	"\"status\":\"active\"}"

#endif /* SCHEMA_FIXTURES_H */

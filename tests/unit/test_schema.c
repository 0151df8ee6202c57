/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for policy/schema.c: strict JSON, field limits, canonical form. */

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
static struct field
field_make(const char *name, enum field_type type)
{
	struct field	 f;

	memset(&f, 0, sizeof(f));
	f.name = (char *)name;
	f.type = type;
	f.max_len = POLICY_STRING_DEFAULT;
	return f;
}

static struct field
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

static struct field
finteger(const char *name, int64_t imin, int64_t imax)
{
	struct field	 f = field_make(name, FIELD_INTEGER);

	f.imin = imin;
	f.imax = imax;
	return f;
}

static struct field
fnumber(const char *name, double nmin, double nmax)
{
	struct field	 f = field_make(name, FIELD_NUMBER);

	f.nmin = nmin;
	f.nmax = nmax;
	return f;
}

static char *enum_values[] = { "active", "closed", "pending" };

static struct field
fenum(const char *name)
{
	struct field	 f = field_make(name, FIELD_ENUM);

	f.values = enum_values;
	f.nvalues = 3;
	return f;
}

static void
fields_free(struct field *f, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (f[i].pattern != NULL)
			regfree(&f[i].re);
	}
}

/* A sentinel, so tests see which parts of an error were written. */
static void
err_poison(struct schema_error *err)
{
	memset(err, 'X', sizeof(*err));
	err->field[sizeof(err->field) - 1] = '\0';
	err->message[sizeof(err->message) - 1] = '\0';
}

#define OK	1
#define BAD	0	/* schema error about the field */
#define BADJSON	(-1)	/* invalid_json */

struct vcase {
	const char	*value;	/* JSON text of the value */
	int		 expect;
	const char	*canon;	/* canonical text when OK; NULL: value */
};

/*
 * Each case as the only field of a request body: the expected result from
 * schema_request, the canonical text, that schema_payload accepts exactly
 * that text, and that schema_value agrees on the parsed value.
 */
static void
run_cases(const struct field *f, const struct vcase *c, size_t n)
{
	struct schema		 s = { (struct field *)f, 1 };
	struct schema_error	 err;
	char			 body[512], want[512], *canon;
	size_t			 i, len;
	json_t			*obj, *v;
	int			 r;

	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "{\"%s\":%s}", f->name,
		    c[i].value);
		err_poison(&err);
		canon = NULL;
		len = 12345;
		r = schema_request(&s, body, strlen(body), &canon, &len, &err);
		if (c[i].expect == OK) {
			if (r != 0)
				fail_msg("%s: %s: rejected: %s", f->name,
				    c[i].value, err.message);
			snprintf(want, sizeof(want), "{\"%s\":%s}", f->name,
			    c[i].canon ? c[i].canon : c[i].value);
			if (strcmp(canon, want) != 0)
				fail_msg("%s: canonical %s, want %s",
				    c[i].value, canon, want);
			assert_int_equal(len, strlen(want));
			/* inner's check accepts outer's output as is */
			obj = NULL;
			assert_int_equal(schema_payload(&s, canon, len, &obj,
			    &err), 0);
			assert_non_null(obj);
			v = json_object_get(obj, f->name);
			assert_non_null(v);
			assert_int_equal(schema_value(f, v, &err), 0);
			assert_int_equal(schema_row(&s, obj, &err), 0);
			json_decref(obj);
			free(canon);
			continue;
		}
		if (r != -EINVAL)
			fail_msg("%s: %s: accepted (r %d)", f->name, c[i].value,
			    r);
		assert_null(canon);
		assert_int_equal(len, 12345);
		assert_true(strlen(err.message) > 0);
		assert_null(strchr(err.message, 'X'));
		if (c[i].expect == BADJSON) {
			if (!err.invalid_json)
				fail_msg("%s: not invalid_json: %s", c[i].value,
				    err.message);
			assert_string_equal(err.field, "");
			continue;
		}
		if (err.invalid_json)
			fail_msg("%s: invalid_json: %s", c[i].value,
			    err.message);
		assert_string_equal(err.field, f->name);
		/* the same verdict on the value alone */
		assert_non_null(obj = json_loads(body, 0, NULL));
		err_poison(&err);
		assert_int_equal(schema_value(f, json_object_get(obj, f->name),
		    &err), -EINVAL);
		assert_int_equal(err.invalid_json, 0);
		assert_string_equal(err.field, f->name);
		json_decref(obj);
	}
}

#define RUN(f, cases)	run_cases(&(f), cases, sizeof(cases) / sizeof(cases[0]))

static void
test_string(void **state)
{
	struct field	 f = fstring("s", 3, NULL);
	const struct vcase c[] = {
		{ "\"\"", OK, NULL },
		{ "\"abc\"", OK, NULL },
		{ "\"abcd\"", BAD, NULL },
		/* max_len counts characters, not bytes */
		{ "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", OK, NULL },
		{ "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", BAD, NULL },
		{ "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\"", OK, NULL },
		{ "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" "a\"", BAD, NULL },
		{ "\"\xf0\x9d\x84\x9e\xf0\x9d\x84\x9e\xf0\x9d\x84\x9e\"", OK,
		    NULL },
		{ "\"\xf0\x9d\x84\x9e\xf0\x9d\x84\x9e\xf0\x9d\x84\x9e"
		    "\xf0\x9d\x84\x9e\"", BAD, NULL },
		{ "\"\\u00e9\\u00e9\\u00e9\"", OK,
		    "\"\xc3\xa9\xc3\xa9\xc3\xa9\"" },
		{ "\"\\ud834\\udd1e\"", OK, "\"\xf0\x9d\x84\x9e\"" },
		/* escapes normalised */
		{ "\"\\u0041\"", OK, "\"A\"" },
		{ "\"\\/\"", OK, "\"/\"" },
		{ "\"\\n\\t\"", OK, "\"\\n\\t\"" },
		{ "\"\\u001f\"", OK, "\"\\u001F\"" },
		{ "\"\\\"\\\\\"", OK, NULL },
		{ "\"\x7f\"", OK, NULL },
		{ "5", BAD, NULL },
		{ "true", BAD, NULL },
		{ "null", BAD, NULL },
		{ "[]", BAD, NULL },
		{ "{}", BAD, NULL },
		{ "[\"a\"]", BAD, NULL },
		/* not strict JSON */
		{ "\"a\\u0000\"", BADJSON, NULL },
		{ "\"\xff\"", BADJSON, NULL },
		{ "\"\xc0\x80\"", BADJSON, NULL },		/* overlong */
		{ "\"\xed\xa0\x80\"", BADJSON, NULL },	/* surrogate */
		{ "\"\xc3\"", BADJSON, NULL },		/* truncated */
		{ "\"\\ud800\"", BADJSON, NULL },
		{ "\"a\x01\"", BADJSON, NULL },
		{ "'a'", BADJSON, NULL },
		{ "\"\\x41\"", BADJSON, NULL },
	};

	(void)state;
	RUN(f, c);

	/* max_len 0 allows the empty string only */
	f.max_len = 0;
	{
		const struct vcase c0[] = {
			{ "\"\"", OK, NULL },
			{ "\"a\"", BAD, NULL },
		};

		RUN(f, c0);
	}
}

static void
test_string_pattern(void **state)
{
	struct field	 f[2] = {
		fstring("p", 256, "^[0-9]{3}$"),
		fstring("u", 5, "[0-9]{3}"),
	};
	const struct vcase anchored[] = {
		{ "\"123\"", OK, NULL },
		{ "\"12\"", BAD, NULL },
		{ "\"1234\"", BAD, NULL },
		{ "\"12a\"", BAD, NULL },
		{ "\"x123\"", BAD, NULL },
		{ "\"\xc3\xa9" "123\"", BAD, NULL },
		{ "\"123\\n\"", BAD, NULL },
		{ "123", BAD, NULL },
	};
	/* the pattern carries its own anchors: none are added */
	const struct vcase unanchored[] = {
		{ "\"a123b\"", OK, NULL },
		{ "\"\xc3\xa9" "123\"", OK, NULL },
		{ "\"a12b\"", BAD, NULL },
		/* length is checked before the pattern */
		{ "\"ab123c\"", BAD, NULL },
	};
	struct schema_error	 err;
	json_t			*v;

	(void)state;
	RUN(f[0], anchored);
	RUN(f[1], unanchored);

	/* a value built by a caller may hold a NUL: never matched past it */
	v = json_stringn("123\0x", 5);
	assert_non_null(v);
	assert_int_equal(schema_value(&f[0], v, &err), -EINVAL);
	assert_string_equal(err.field, "p");
	assert_string_equal(err.message, "string contains NUL");
	json_decref(v);
	fields_free(f, 2);
}

static void
test_integer(void **state)
{
	struct field	 f = finteger("i", -5, 100);
	struct field	 big = finteger("b", INT64_MIN, INT64_MAX);
	struct field	 inner = finteger("c", INT64_MIN + 1, INT64_MAX - 1);
	const struct vcase c[] = {
		{ "-5", OK, NULL },
		{ "-6", BAD, NULL },
		{ "100", OK, NULL },
		{ "101", BAD, NULL },
		{ "0", OK, NULL },
		{ "-0", OK, "0" },
		{ "1.0", BAD, NULL },
		{ "1e2", BAD, NULL },
		{ "1E0", BAD, NULL },
		{ "0.5", BAD, NULL },
		{ "\"5\"", BAD, NULL },
		{ "true", BAD, NULL },
		{ "null", BAD, NULL },
		{ "01", BADJSON, NULL },
		{ "+1", BADJSON, NULL },
		{ "0x10", BADJSON, NULL },
		{ "NaN", BADJSON, NULL },
		{ "1e400", BADJSON, NULL },
	};
	const struct vcase cb[] = {
		{ "9223372036854775807", OK, NULL },
		{ "-9223372036854775808", OK, NULL },
		{ "9223372036854775808", BADJSON, NULL },
		{ "-9223372036854775809", BADJSON, NULL },
		{ "123456789012345678901234567890", BADJSON, NULL },
	};
	const struct vcase cc[] = {
		{ "9223372036854775806", OK, NULL },
		{ "9223372036854775807", BAD, NULL },
		{ "-9223372036854775807", OK, NULL },
		{ "-9223372036854775808", BAD, NULL },
	};

	(void)state;
	RUN(f, c);
	RUN(big, cb);
	RUN(inner, cc);
}

static void
test_number(void **state)
{
	struct field	 f = fnumber("n", -1.5, 1000);
	/* bounds compared exactly with integers past 2^53 */
	struct field	 g = fnumber("g", -9007199254740992.0,
	    9007199254740992.0);
	struct field	 h = fnumber("h", -1e300, 1e300);
	/* integers next to fractional bounds, on both sides of zero */
	struct field	 p = fnumber("p", 0.5, 2.5);
	struct field	 q = fnumber("q", -2.5, -0.5);
	const struct vcase c[] = {
		{ "-1.5", OK, NULL },
		{ "-1.5000000000000002", BAD, NULL },
		{ "-2", BAD, NULL },
		{ "-1", OK, NULL },
		{ "1000", OK, NULL },
		{ "1001", BAD, NULL },
		{ "1000.0", OK, NULL },
		{ "1000.0000000001", BAD, NULL },
		/* integers stay integers, reals stay reals */
		{ "1e3", OK, "1000.0" },
		{ "1E+3", OK, "1000.0" },
		{ "2.5e+2", OK, "250.0" },
		{ "1E-2", OK, "0.01" },
		{ "0.1", OK, "0.10000000000000001" },
		{ "-0", OK, "0" },
		{ "-0.0", OK, "-0.0" },
		{ "1e-400", OK, "0.0" },
		{ "1e400", BADJSON, NULL },
		{ "-1e400", BADJSON, NULL },
		{ ".5", BADJSON, NULL },
		{ "1.", BADJSON, NULL },
		{ "Infinity", BADJSON, NULL },
		{ "\"1\"", BAD, NULL },
		{ "false", BAD, NULL },
		{ "[1]", BAD, NULL },
	};
	const struct vcase cg[] = {
		{ "9007199254740992", OK, NULL },
		{ "9007199254740993", BAD, NULL },
		{ "-9007199254740992", OK, NULL },
		{ "-9007199254740993", BAD, NULL },
		{ "9007199254740992.0", OK, "9007199254740992.0" },
		{ "9223372036854775807", BAD, NULL },
	};
	const struct vcase ch[] = {
		{ "9223372036854775807", OK, NULL },
		{ "-9223372036854775808", OK, NULL },
		{ "1e300", OK, "1.0000000000000001e300" },
		{ "1.0000000000000001e300", OK, NULL },
		{ "1.1e300", BAD, NULL },
		{ "123456.789e-3", OK, "123.456789" },
	};

	const struct vcase cp[] = {
		{ "0", BAD, NULL },
		{ "1", OK, NULL },
		{ "2", OK, NULL },
		{ "3", BAD, NULL },
		{ "0.5", OK, NULL },
		{ "0.49999999999999994", BAD, NULL },
		{ "2.5", OK, NULL },
		{ "2.5000000000000004", BAD, NULL },
	};
	const struct vcase cq[] = {
		{ "0", BAD, NULL },
		{ "-1", OK, NULL },
		{ "-2", OK, NULL },
		{ "-3", BAD, NULL },
		{ "-0.0", BAD, NULL },
	};

	(void)state;
	RUN(f, c);
	RUN(g, cg);
	RUN(h, ch);
	RUN(p, cp);
	RUN(q, cq);
}

static void
test_boolean_enum(void **state)
{
	struct field	 b = field_make("f", FIELD_BOOLEAN);
	struct field	 e = fenum("e");
	const struct vcase cb[] = {
		{ "true", OK, NULL },
		{ "false", OK, NULL },
		{ "0", BAD, NULL },
		{ "1", BAD, NULL },
		{ "\"true\"", BAD, NULL },
		{ "null", BAD, NULL },
		{ "True", BADJSON, NULL },
		{ "tru", BADJSON, NULL },
	};
	const struct vcase ce[] = {
		{ "\"active\"", OK, NULL },
		{ "\"pending\"", OK, NULL },
		{ "\"closed\"", OK, NULL },
		{ "\"\\u0061ctive\"", OK, "\"active\"" },
		{ "\"Active\"", BAD, NULL },
		{ "\"activ\"", BAD, NULL },
		{ "\"active \"", BAD, NULL },
		{ "\"\"", BAD, NULL },
		{ "1", BAD, NULL },
		{ "null", BAD, NULL },
	};
	struct schema_error	 err;
	json_t			*v;

	(void)state;
	RUN(b, cb);
	RUN(e, ce);
	v = json_stringn("active\0", 7);
	assert_non_null(v);
	assert_int_equal(schema_value(&e, v, &err), -EINVAL);
	assert_string_equal(err.field, "e");
	json_decref(v);
}

static void
test_date(void **state)
{
	struct field	 f = field_make("d", FIELD_DATE);
	const struct vcase c[] = {
		{ "\"2024-02-29\"", OK, NULL },
		{ "\"2023-02-29\"", BAD, NULL },
		{ "\"2023-02-28\"", OK, NULL },
		{ "\"2000-02-29\"", OK, NULL },
		{ "\"1900-02-29\"", BAD, NULL },
		{ "\"2024-13-01\"", BAD, NULL },
		{ "\"2024-00-10\"", BAD, NULL },
		{ "\"2024-01-00\"", BAD, NULL },
		{ "\"2024-01-31\"", OK, NULL },
		{ "\"2024-01-32\"", BAD, NULL },
		{ "\"2024-04-30\"", OK, NULL },
		{ "\"2024-04-31\"", BAD, NULL },
		{ "\"2024-12-31\"", OK, NULL },
		{ "\"0000-01-01\"", BAD, NULL },
		{ "\"0001-01-01\"", OK, NULL },
		{ "\"9999-12-31\"", OK, NULL },
		{ "\"2024-1-01\"", BAD, NULL },
		{ "\"2024-01-1\"", BAD, NULL },
		{ "\"2024/01/01\"", BAD, NULL },
		{ "\"2024-01-01 \"", BAD, NULL },
		{ "\" 2024-01-01\"", BAD, NULL },
		{ "\"2024-01-01T00:00:00Z\"", BAD, NULL },
		{ "\"12024-01-01\"", BAD, NULL },
		{ "\"-024-01-01\"", BAD, NULL },
		{ "\"2024-0a-01\"", BAD, NULL },
		{ "\"\"", BAD, NULL },
		{ "20240101", BAD, NULL },
		{ "null", BAD, NULL },
	};

	(void)state;
	RUN(f, c);
}

static void
test_timestamp(void **state)
{
	struct field	 f = field_make("t", FIELD_TIMESTAMP);
	const struct vcase c[] = {
		{ "\"2024-02-29T12:34:56Z\"", OK, NULL },
		/* t and z in any case, canonicalised to upper case */
		{ "\"2024-02-29t12:34:56z\"", OK, "\"2024-02-29T12:34:56Z\"" },
		{ "\"2024-02-29t12:34:56Z\"", OK, "\"2024-02-29T12:34:56Z\"" },
		{ "\"2024-02-29T12:34:56z\"", OK, "\"2024-02-29T12:34:56Z\"" },
		{ "\"2024-01-01t00:00:00-01:00\"", OK,
		    "\"2024-01-01T00:00:00-01:00\"" },
		{ "\"2024-02-29\\u007412:34:56Z\"", OK,
		    "\"2024-02-29T12:34:56Z\"" },
		{ "\"2024-02-29T12:34:56.1Z\"", OK, NULL },
		{ "\"2024-02-29T12:34:56.123456789Z\"", OK, NULL },
		{ "\"2024-02-29T12:34:56.123456789+23:59\"", OK, NULL },
		{ "\"2024-02-29T12:34:56.1234567890Z\"", BAD, NULL },
		{ "\"2024-02-29T12:34:56.Z\"", BAD, NULL },
		{ "\"2024-02-29T12:34:56,5Z\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00+05:30\"", OK, NULL },
		{ "\"2024-02-29T00:00:00-00:00\"", OK, NULL },
		{ "\"2024-02-29T00:00:00-23:59\"", OK, NULL },
		{ "\"2024-02-29T00:00:00+24:00\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00-00:60\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00+0530\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00+05:3\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00+05:300\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00+5:30\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00ZZ\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00Zx\"", BAD, NULL },
		{ "\"2024-02-29T00:00:00UTC\"", BAD, NULL },
		{ "\"2024-02-29T23:59:59Z\"", OK, NULL },
		{ "\"2024-02-29T24:00:00Z\"", BAD, NULL },
		{ "\"2024-02-29T23:60:00Z\"", BAD, NULL },
		{ "\"2024-12-31T23:59:60Z\"", OK, NULL },
		{ "\"2024-02-29T23:59:61Z\"", BAD, NULL },
		{ "\"2024-02-29 12:34:56Z\"", BAD, NULL },
		{ "\"2024-02-29T12:34Z\"", BAD, NULL },
		{ "\"2024-02-29T1:34:56Z\"", BAD, NULL },
		{ "\"2023-02-29T00:00:00Z\"", BAD, NULL },
		{ "\"2024-13-01T00:00:00Z\"", BAD, NULL },
		{ "\"0000-01-01T00:00:00Z\"", BAD, NULL },
		{ "\"9999-12-31T23:59:59.999999999-23:59\"", OK, NULL },
		{ "\"2024/02/29T12:34:56Z\"", BAD, NULL },
		{ "\"\"", BAD, NULL },
		{ "1709210096", BAD, NULL },
		{ "null", BAD, NULL },
	};

	(void)state;
	RUN(f, c);
}

/* A request schema with every type, sorted by name. */
#define NFULL	7
static void
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

static int
request(const struct schema *s, const char *body, struct schema_error *err)
{
	char	*canon = NULL;
	size_t	 len;
	int	 r;

	err_poison(err);
	r = schema_request(s, body, strlen(body), &canon, &len, err);
	if (r == 0) {
		assert_non_null(canon);
		assert_int_equal(strlen(canon), len);
		free(canon);
	} else
		assert_null(canon);
	return r;
}

static void
expect_json_error(const struct schema *s, const void *body, size_t len)
{
	struct schema_error	 err;
	char			*canon = NULL;
	size_t			 clen = 7;

	err_poison(&err);
	assert_int_equal(schema_request(s, body, len, &canon, &clen, &err),
	    -EINVAL);
	assert_null(canon);
	assert_int_equal(clen, 7);
	assert_int_equal(err.invalid_json, 1);
	assert_string_equal(err.field, "");
	assert_true(strlen(err.message) > 0);
	/* the message is safe to log and to quote in JSON */
	for (size_t i = 0; err.message[i] != '\0'; i++)
		assert_true(err.message[i] >= 0x20 && err.message[i] < 0x7f);

	err_poison(&err);
	assert_int_equal(schema_payload(s, body, len, NULL, &err), -EINVAL);
	assert_int_equal(err.invalid_json, 1);
	assert_string_equal(err.field, "");
}

static void
test_invalid_json(void **state)
{
	struct field	 f[NFULL];
	struct schema	 s;
	char		*deep;
	size_t		 i, n;

	(void)state;
	full_schema(f, &s);
#define EJ(str)	expect_json_error(&s, str, sizeof(str) - 1)
	EJ("{\"count\":1,\"count\":2}");		/* duplicate keys */
	EJ("{\"name\":\"a\",\"flag\":true,\"name\":\"b\"}");
	EJ("{\"name\":\"\xff\"}");			/* bad UTF-8 */
	EJ("{\"na\xc3\":1}");
	EJ("\xef\xbb\xbf{}");				/* BOM */
	EJ("{\"name\":\"a\\u0000b\"}");			/* \u0000 */
	EJ("{\"a\\u0000b\":1}");
	EJ("{} x");					/* trailing */
	EJ("{}{}");
	EJ("{}\n,");
	EJ("{\"count\":1,}");
	EJ("{\"count\":1");
	EJ("");						/* empty */
	EJ("   \n\t");
	EJ("5");					/* not a container */
	EJ("\"x\"");
	EJ("null");
	EJ("{\"count\":99999999999999999999}");	/* huge integer */
	EJ("{\"count\":-99999999999999999999}");
	EJ("{\"amount\":1e400}");
	EJ("{count:1}");
	EJ("{\"count\":1} \x00");
	expect_json_error(&s, NULL, 0);

	/* at most 64 bytes of a long bad token come back in the message */
	{
		struct schema_error	 err;
		char			 body[300], run[66];

		memset(run, 't', 65);
		run[65] = '\0';
		snprintf(body, sizeof(body), "{\"count\":%s%s%s}", run, run,
		    run);
		assert_int_equal(request(&s, body, &err), -EINVAL);
		assert_int_equal(err.invalid_json, 1);
		assert_null(strstr(err.message, run));
		snprintf(body, sizeof(body), "{\"name\":\"%s%s\x01\"}", run,
		    run);
		assert_int_equal(request(&s, body, &err), -EINVAL);
		assert_int_equal(err.invalid_json, 1);
		assert_null(strstr(err.message, run));
		/* and a short one is quoted, to help the client */
		assert_int_equal(request(&s, "{\"count\":tru}", &err),
		    -EINVAL);
		assert_non_null(strstr(err.message, "tru"));
	}

	/* nesting: 16 levels reach the schema, 17 never reach jansson */
	n = 17;
	assert_non_null(deep = malloc(2 * n + 16));
	for (i = 0; i < 2; i++) {
		struct schema_error	 err;
		size_t			 d = n - 1 + i, k, o = 0;

		o += (size_t)sprintf(deep, "{\"name\":");
		for (k = 1; k < d; k++)
			deep[o++] = '[';
		for (k = 1; k < d; k++)
			deep[o++] = ']';
		deep[o++] = '}';
		deep[o] = '\0';
		if (d == 16) {
			assert_int_equal(request(&s, deep, &err), -EINVAL);
			assert_int_equal(err.invalid_json, 0);
			assert_string_equal(err.field, "name");
		} else
			expect_json_error(&s, deep, o);
	}
	free(deep);
	/* brackets in strings do not count; escaped quotes end no string */
	{
		struct schema_error	 err;

		assert_int_equal(request(&s, "{\"name\":\"[[[[[[[[[[[[[[[[[["
		    "[[[[\\\"{{{{{{{{{{{{{{{{{{{{{\"}", &err), -EINVAL);
		assert_int_equal(err.invalid_json, 0);
		assert_string_equal(err.field, "name");
	}
	/* 17 levels of arrays alone */
	EJ("[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]");
	/* closing brackets cannot pay for later opening ones */
	{
		const char		*b = "{\"name\":\"a\"}]]]]]"
		    "[[[[[[[[[[[[[[[[[";
		struct schema_error	 err;

		assert_int_equal(request(&s, b, &err), -EINVAL);
		assert_int_equal(err.invalid_json, 1);
		assert_string_equal(err.message, "nesting deeper than 16");
	}

	/* the body limit */
	{
		size_t	 len = PAYLOAD_MAX + 1;
		char	*big;

		assert_non_null(big = malloc(len));
		memset(big, ' ', len);
		big[0] = '{';
		big[len - 1] = '}';
		expect_json_error(&s, big, len);
		free(big);
	}
#undef EJ
	fields_free(f, NFULL);
}

static void
test_schema_errors(void **state)
{
	struct field		 f[NFULL];
	struct schema		 s;
	struct schema_error	 err;
	char			 body[512], name[80];

	(void)state;
	full_schema(f, &s);
	assert_int_equal(request(&s, FULL_CANON, &err), 0);

	/* a top-level array is strict JSON but not an object */
	assert_int_equal(request(&s, "[]", &err), -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "");
	assert_int_equal(request(&s, "[{\"count\":1}]", &err), -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "");

	/* missing: the first one by name */
	assert_int_equal(request(&s, "{}", &err), -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "amount");
	assert_string_equal(err.message, "missing field");
	assert_int_equal(request(&s, "{\"amount\":1,\"at\":"
	    "\"2024-02-29T12:00:00Z\",\"count\":7,\"day\":\"2024-02-29\","
	    "\"name\":\"abc\",\"status\":\"active\"}", &err), -EINVAL);
	assert_string_equal(err.field, "flag");
	assert_string_equal(err.message, "missing field");

	/* unknown: named when short printable ASCII */
	snprintf(body, sizeof(body), "{\"amount\":1,\"extra\":1}");
	assert_int_equal(request(&s, body, &err), -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "extra");
	assert_string_equal(err.message, "unknown field");
	memset(name, 'k', 64);
	name[64] = '\0';
	snprintf(body, sizeof(body), "{\"%s\":1}", name);
	assert_int_equal(request(&s, body, &err), -EINVAL);
	assert_string_equal(err.field, name);
	name[64] = 'k';
	name[65] = '\0';
	snprintf(body, sizeof(body), "{\"%s\":1}", name);
	assert_int_equal(request(&s, body, &err), -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "unknown field");
	assert_int_equal(request(&s, "{\"caf\xc3\xa9\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "unknown field");
	assert_int_equal(request(&s, "{\"a\\u0001\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "");
	assert_int_equal(request(&s, "{\"a\\u007f\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "");
	assert_int_equal(request(&s, "{\"\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "unknown field");
	assert_int_equal(request(&s, "{\"a b\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "a b");
	/* names match exactly: no case folding, no prefixes */
	assert_int_equal(request(&s, "{\"Count\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "Count");
	assert_int_equal(request(&s, "{\"coun\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "coun");

	/* a wrong value is reported against its field */
	assert_int_equal(request(&s, "{\"amount\":1,\"at\":"
	    "\"2024-02-29T12:00:00Z\",\"count\":101,\"day\":\"2024-02-29\","
	    "\"flag\":true,\"name\":\"abc\",\"status\":\"active\"}", &err),
	    -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "count");
	assert_int_equal(request(&s, "{\"status\":\"gone\"}", &err), -EINVAL);
	assert_string_equal(err.field, "status");
	assert_int_equal(request(&s, "{\"name\":\"ABC\"}", &err), -EINVAL);
	assert_string_equal(err.field, "name");

	/* messages never echo the client's value */
	assert_int_equal(request(&s, "{\"name\":\"secretsecret\"}", &err),
	    -EINVAL);
	assert_null(strstr(err.message, "secret"));

	/* no schema: nothing is allowed through */
	assert_int_equal(request(NULL, "{}", &err), -EINVAL);
	fields_free(f, NFULL);

	/* an empty schema takes only {} */
	s.fields = NULL;
	s.nfields = 0;
	assert_int_equal(request(&s, "{}", &err), 0);
	assert_int_equal(request(&s, "{\"a\":1}", &err), -EINVAL);
	assert_string_equal(err.field, "a");

	/* a NULL err is allowed */
	assert_int_equal(schema_request(&s, "[", 1, &(char *){ NULL }, NULL,
	    NULL), -EINVAL);
}

static void
test_canonical(void **state)
{
	struct field		 f[NFULL];
	struct schema		 s;
	struct schema_error	 err;
	const char		*body;
	char			*canon;
	size_t			 len;
	json_t			*obj, *j;

	(void)state;
	full_schema(f, &s);
	/* order, whitespace, escapes, number forms, lower-case t/z */
	body = " {\n\t\"status\" : \"\\u0061ctive\",\r\n"
	    "  \"name\":\"\\u0061bc\", \"flag\" : true ,"
	    "\"day\":\"2024-02-29\",\"count\":7,"
	    "\"at\":\"2024-02-29t12:00:00z\",\"amount\":1.25e1 } \n";
	canon = NULL;
	assert_int_equal(schema_request(&s, body, strlen(body), &canon, &len,
	    &err), 0);
	assert_string_equal(canon, FULL_CANON);
	assert_int_equal(len, strlen(FULL_CANON));
	/* ret_len is optional */
	free(canon);
	assert_int_equal(schema_request(&s, body, strlen(body), &canon, NULL,
	    &err), 0);
	assert_string_equal(canon, FULL_CANON);
	free(canon);

	/* schema_canonical on its own */
	assert_non_null(obj = json_loads("{\"b\":[1,2.5,\"\\u00e9\"],"
	    "\"a\":{\"y\":null,\"x\":false}}", 0, NULL));
	canon = schema_canonical(obj, &len);
	assert_non_null(canon);
	assert_string_equal(canon, "{\"a\":{\"x\":false,\"y\":null},"
	    "\"b\":[1,2.5,\"\xc3\xa9\"]}");
	assert_int_equal(len, strlen(canon));
	free(canon);
	canon = schema_canonical(obj, NULL);
	assert_non_null(canon);
	free(canon);
	json_decref(obj);
	j = json_integer(-3);
	canon = schema_canonical(j, &len);
	assert_string_equal(canon, "-3");
	free(canon);
	json_decref(j);
	assert_null(schema_canonical(NULL, &len));

	/* more than PAYLOAD_MAX bytes has no canonical form */
	{
		char	*big;

		assert_non_null(big = malloc(PAYLOAD_MAX + 1));
		memset(big, 'a', PAYLOAD_MAX);
		big[PAYLOAD_MAX] = '\0';
		j = json_stringn(big, PAYLOAD_MAX - 2);
		assert_non_null(j);
		len = 99;
		canon = schema_canonical(j, &len);
		assert_non_null(canon);
		assert_int_equal(len, PAYLOAD_MAX);
		free(canon);
		json_decref(j);
		j = json_stringn(big, PAYLOAD_MAX - 1);
		assert_non_null(j);
		len = 99;
		assert_null(schema_canonical(j, &len));
		assert_int_equal(len, 99);
		json_decref(j);
		free(big);
	}
	fields_free(f, NFULL);
}

/* A valid body at the size limit whose canonical form is larger. */
static void
test_canonical_too_large(void **state)
{
	struct field		 f[40];
	char			 names[40][8];
	struct schema		 s = { f, 0 };
	struct schema_error	 err;
	struct buf		 b;
	char			*canon = NULL, *pad;
	size_t			 i, nstr = 17, nnum = 20, left;

	(void)state;
	/* names sort as n00..n19 < s00..s16 */
	for (i = 0; i < nnum; i++) {
		snprintf(names[i], sizeof(names[i]), "n%02zu", i);
		f[s.nfields++] = fnumber(names[i], -1, 1);
	}
	for (i = 0; i < nstr; i++) {
		snprintf(names[nnum + i], sizeof(names[0]), "s%02zu", i);
		f[s.nfields++] = fstring(names[nnum + i], POLICY_STRING_MAX,
		    NULL);
	}
	buf_init(&b, PAYLOAD_MAX);
	assert_non_null(pad = malloc(POLICY_STRING_MAX));
	memset(pad, 'p', POLICY_STRING_MAX);
	assert_int_equal(buf_put_str(&b, "{"), 0);
	/* "1E-7" (4 bytes) is "9.9999999999999995e-8" (21) in canonical form */
	for (i = 0; i < nnum; i++)
		assert_int_equal(buf_putf(&b, "\"%s\":1E-7,", names[i]), 0);
	for (i = 0; i < nstr; i++) {
		/* room for the fields after this one and the brace */
		left = PAYLOAD_MAX - b.len - (i + 1 < nstr ? 9 : 8) -
		    (nstr - i - 1) * 9 - 1;
		if (left > POLICY_STRING_MAX)
			left = POLICY_STRING_MAX;
		assert_int_equal(buf_putf(&b, "\"%s\":\"%.*s\"%s",
		    names[nnum + i], (int)left, pad,
		    i + 1 < nstr ? "," : ""), 0);
	}
	assert_int_equal(buf_put_str(&b, "}"), 0);
	assert_int_equal(b.len, PAYLOAD_MAX);
	assert_true(b.len + nnum * 17 > PAYLOAD_MAX);

	err_poison(&err);
	assert_int_equal(schema_request(&s, b.data, b.len, &canon, NULL,
	    &err), -EINVAL);
	assert_null(canon);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "");

	/* and the same body with plain numbers passes */
	for (i = 0; i + 4 <= b.len; i++) {
		if (memcmp(b.data + i, "1E-7", 4) == 0)
			memcpy(b.data + i, "   0", 4);
	}
	assert_int_equal(schema_request(&s, b.data, b.len, &canon, NULL,
	    &err), 0);
	free(canon);
	buf_free(&b);
	free(pad);
	fields_free(f, s.nfields);
}

static void
test_payload(void **state)
{
	struct field		 f[NFULL];
	struct schema		 s;
	struct schema_error	 err;
	json_t			*obj, *parsed;
	char			*again;
	const char		*nc[] = {
		/* valid and schema-correct, but not canonical */
		"{\"amount\":12.5, \"at\":\"2024-02-29T12:00:00Z\",\"count\":7,"
		    "\"day\":\"2024-02-29\",\"flag\":true,\"name\":\"abc\","
		    "\"status\":\"active\"}",
		FULL_CANON "\n",
		" " FULL_CANON,
		"{\"at\":\"2024-02-29T12:00:00Z\",\"amount\":12.5,\"count\":7,"
		    "\"day\":\"2024-02-29\",\"flag\":true,\"name\":\"abc\","
		    "\"status\":\"active\"}",
		"{\"amount\":12.5,\"at\":\"2024-02-29T12:00:00Z\",\"count\":7,"
		    "\"day\":\"2024-02-29\",\"flag\":true,"
		    "\"name\":\"\\u0061bc\",\"status\":\"active\"}",
		"{\"amount\":1.25e1,\"at\":\"2024-02-29T12:00:00Z\","
		    "\"count\":7,\"day\":\"2024-02-29\",\"flag\":true,"
		    "\"name\":\"abc\",\"status\":\"active\"}",
		"{\"amount\":12.5,\"at\":\"2024-02-29t12:00:00Z\",\"count\":7,"
		    "\"day\":\"2024-02-29\",\"flag\":true,\"name\":\"abc\","
		    "\"status\":\"active\"}",
		"{\"amount\":12.50,\"at\":\"2024-02-29T12:00:00Z\",\"count\":7,"
		    "\"day\":\"2024-02-29\",\"flag\":true,\"name\":\"abc\","
		    "\"status\":\"active\"}",
	};
	size_t			 i;

	(void)state;
	full_schema(f, &s);
	obj = NULL;
	assert_int_equal(schema_payload(&s, FULL_CANON, strlen(FULL_CANON),
	    &obj, &err), 0);
	assert_non_null(obj);
	assert_int_equal(json_object_size(obj), NFULL);
	assert_int_equal(json_integer_value(json_object_get(obj, "count")), 7);
	again = schema_canonical(obj, NULL);
	assert_string_equal(again, FULL_CANON);
	free(again);
	json_decref(obj);
	/* the returned object is rebuilt: not the one jansson parsed */
	assert_non_null(parsed = json_loads(FULL_CANON, 0, NULL));
	json_decref(parsed);
	/* ret_obj is optional */
	assert_int_equal(schema_payload(&s, FULL_CANON, strlen(FULL_CANON),
	    NULL, &err), 0);

	for (i = 0; i < sizeof(nc) / sizeof(nc[0]); i++) {
		obj = (json_t *)&obj;
		err_poison(&err);
		assert_int_equal(schema_request(&s, nc[i], strlen(nc[i]),
		    &again, NULL, &err), 0);
		free(again);
		if (schema_payload(&s, nc[i], strlen(nc[i]), &obj, &err) !=
		    -EINVAL)
			fail_msg("accepted non-canonical %s", nc[i]);
		assert_ptr_equal(obj, (json_t *)&obj);
		assert_int_equal(err.invalid_json, 0);
		assert_string_equal(err.field, "");
		assert_string_equal(err.message, "payload is not canonical");
	}
	/* a canonical prefix is not enough */
	assert_int_equal(schema_payload(&s, FULL_CANON, strlen(FULL_CANON) - 1,
	    NULL, &err), -EINVAL);
	assert_int_equal(err.invalid_json, 1);

	/* schema errors come first, with their field */
	err_poison(&err);
	assert_int_equal(schema_payload(&s, "{\"amount\":1}", 12, NULL, &err),
	    -EINVAL);
	assert_int_equal(err.invalid_json, 0);
	assert_string_equal(err.field, "at");
	assert_string_equal(err.message, "missing field");
	assert_int_equal(schema_payload(&s, "{\"zz\":1}", 8, NULL, &err),
	    -EINVAL);
	assert_string_equal(err.field, "zz");
	assert_int_equal(schema_payload(NULL, "{}", 2, NULL, &err), -EINVAL);
	fields_free(f, NFULL);
}

/* The reply schema of a bill.query-like message. */
static void
reply_message(struct message *m, struct field *f)
{
	memset(m, 0, sizeof(*m));
	f[0] = finteger("kwh", 0, 100000000);
	f[1] = fstring("month", 7, "^[0-9]{4}-(0[1-9]|1[0-2])$");
	f[2] = field_make("paid", FIELD_BOOLEAN);
	m->name = "bill.query";
	m->reply.fields = f;
	m->reply.nfields = 3;
	m->reply_max_rows = 2;
}

static void
test_row(void **state)
{
	struct message		 m;
	struct field		 f[3];
	struct schema_error	 err;
	json_t			*row;

	(void)state;
	reply_message(&m, f);
#define ROW(str, want, fld) do {					\
	assert_non_null(row = json_loads(str, 0, NULL));		\
	err_poison(&err);						\
	assert_int_equal(schema_row(&m.reply, row, &err), want);	\
	if (want != 0) {						\
		assert_int_equal(err.invalid_json, 0);			\
		assert_string_equal(err.field, fld);			\
	}								\
	json_decref(row);						\
} while (0)
	ROW("{\"kwh\":5,\"month\":\"2024-01\",\"paid\":true}", 0, "");
	ROW("{\"paid\":false,\"month\":\"2024-12\",\"kwh\":0}", 0, "");
	ROW("{\"kwh\":5,\"month\":\"2024-01\",\"paid\":true,\"cost\":1}",
	    -EINVAL, "cost");
	ROW("{\"kwh\":5,\"month\":\"2024-01\"}", -EINVAL, "paid");
	ROW("{\"kwh\":5,\"month\":null,\"paid\":true}", -EINVAL, "month");
	ROW("{\"kwh\":\"5\",\"month\":\"2024-01\",\"paid\":true}", -EINVAL,
	    "kwh");
	ROW("{\"kwh\":5.0,\"month\":\"2024-01\",\"paid\":true}", -EINVAL,
	    "kwh");
	ROW("{\"kwh\":-1,\"month\":\"2024-01\",\"paid\":true}", -EINVAL,
	    "kwh");
	ROW("{\"kwh\":5,\"month\":\"2024-13\",\"paid\":true}", -EINVAL,
	    "month");
	ROW("{\"kwh\":5,\"month\":\"2024-01\",\"paid\":1}", -EINVAL, "paid");
	ROW("{}", -EINVAL, "kwh");
	ROW("[]", -EINVAL, "");
	ROW("[{\"kwh\":5,\"month\":\"2024-01\",\"paid\":true}]", -EINVAL, "");
#undef ROW
	/* null reported as such */
	assert_non_null(row = json_loads("{\"kwh\":null,\"month\":\"2024-01\","
	    "\"paid\":true}", 0, NULL));
	assert_int_equal(schema_row(&m.reply, row, &err), -EINVAL);
	assert_string_equal(err.message, "null value");
	/* a column name with a NUL inside is not the declared one */
	assert_int_equal(json_object_del(row, "kwh"), 0);
	assert_int_equal(json_object_setn_new(row, "kwh\0x", 5,
	    json_integer(1)), 0);
	assert_int_equal(schema_row(&m.reply, row, &err), -EINVAL);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "unknown field");
	json_decref(row);
	row = json_integer(1);
	assert_int_equal(schema_row(&m.reply, row, &err), -EINVAL);
	json_decref(row);
	assert_int_equal(schema_row(&m.reply, NULL, &err), -EINVAL);
	assert_int_equal(schema_row(NULL, row, &err), -EINVAL);
	assert_int_equal(schema_value(NULL, row, &err), -EINVAL);
	assert_int_equal(schema_value(&f[0], NULL, &err), -EINVAL);
	assert_string_equal(err.field, "kwh");
	/* a field of a type this code does not know is refused */
	{
		struct field	 odd = field_make("odd", (enum field_type)99);

		row = json_integer(1);
		assert_int_equal(schema_value(&odd, row, &err), -EINVAL);
		assert_string_equal(err.field, "odd");
		json_decref(row);
	}
	fields_free(f, 3);
}

static void
reply_expect(const struct message *m, const char *payload, int want,
    int invalid_json, const char *field)
{
	struct schema_error	 err;

	err_poison(&err);
	if (schema_reply(m, payload, strlen(payload), &err) != want)
		fail_msg("schema_reply(%s) != %d: %s", payload, want,
		    err.message);
	if (want >= 0)
		return;
	assert_int_equal(err.invalid_json, invalid_json);
	assert_string_equal(err.field, field);
}

static void
test_reply(void **state)
{
	struct message		 m;
	struct field		 f[3];
	struct schema_error	 err;
	const char		*r1 = "{\"kwh\":5,\"month\":\"2024-01\","
	    "\"paid\":true}";
	char			 p[512];

	(void)state;
	reply_message(&m, f);
	/* Success returns the number of rows. */
	reply_expect(&m, "{\"rows\":[]}", 0, 0, "");
	snprintf(p, sizeof(p), "{\"rows\":[%s]}", r1);
	reply_expect(&m, p, 1, 0, "");
	snprintf(p, sizeof(p), "{\"rows\":[%s,%s]}", r1, r1);
	reply_expect(&m, p, 2, 0, "");
	/* too many rows */
	snprintf(p, sizeof(p), "{\"rows\":[%s,%s,%s]}", r1, r1, r1);
	reply_expect(&m, p, -EINVAL, 0, "rows");
	/* extra column, missing column, wrong type, null */
	reply_expect(&m, "{\"rows\":[{\"extra\":1,\"kwh\":5,\"month\":"
	    "\"2024-01\",\"paid\":true}]}", -EINVAL, 0, "extra");
	reply_expect(&m, "{\"rows\":[{\"kwh\":5,\"paid\":true}]}", -EINVAL, 0,
	    "month");
	reply_expect(&m, "{\"rows\":[{\"kwh\":true,\"month\":\"2024-01\","
	    "\"paid\":true}]}", -EINVAL, 0, "kwh");
	reply_expect(&m, "{\"rows\":[{\"kwh\":5,\"month\":\"2024-01\","
	    "\"paid\":null}]}", -EINVAL, 0, "paid");
	snprintf(p, sizeof(p), "{\"rows\":[%s,{\"kwh\":5,\"month\":\"x\","
	    "\"paid\":true}]}", r1);
	assert_int_equal(schema_reply(&m, p, strlen(p), &err), -EINVAL);
	assert_string_equal(err.field, "month");
	assert_non_null(strstr(err.message, "row 1: "));
	reply_expect(&m, "{\"rows\":[1]}", -EINVAL, 0, "");
	reply_expect(&m, "{\"rows\":[[]]}", -EINVAL, 0, "");
	/* the envelope */
	reply_expect(&m, "{\"rows\":{}}", -EINVAL, 0, "rows");
	reply_expect(&m, "{\"rows\":null}", -EINVAL, 0, "rows");
	reply_expect(&m, "{}", -EINVAL, 0, "rows");
	reply_expect(&m, "{\"id\":1,\"rows\":[]}", -EINVAL, 0, "id");
	reply_expect(&m, "{\"rows\":[],\"more\":1}", -EINVAL, 0, "more");
	reply_expect(&m, "{\"Rows\":[]}", -EINVAL, 0, "Rows");
	reply_expect(&m, "{\"rowsx\":[]}", -EINVAL, 0, "rowsx");
	reply_expect(&m, "{\"row\":[]}", -EINVAL, 0, "row");
	reply_expect(&m, "[]", -EINVAL, 0, "");
	/* strict and canonical */
	reply_expect(&m, "{\"rows\":[],\"rows\":[]}", -EINVAL, 1, "");
	reply_expect(&m, "{\"rows\":[]", -EINVAL, 1, "");
	reply_expect(&m, "", -EINVAL, 1, "");
	reply_expect(&m, "{\"rows\": []}", -EINVAL, 0, "");
	reply_expect(&m, "{\"rows\":[]}\n", -EINVAL, 0, "");
	reply_expect(&m, "{\"rows\":[{\"paid\":true,\"month\":\"2024-01\","
	    "\"kwh\":5}]}", -EINVAL, 0, "");
	reply_expect(&m, "{\"rows\":[{\"kwh\":5,\"month\":\"\\u0032024-01\","
	    "\"paid\":true}]}", -EINVAL, 0, "");
	assert_int_equal(schema_reply(&m, "{\"rows\": []}", 12, &err),
	    -EINVAL);
	assert_string_equal(err.message, "payload is not canonical");
	assert_int_equal(schema_reply(NULL, "{\"rows\":[]}", 11, &err),
	    -EINVAL);

	/* a oneway message's reply holds no rows */
	m.reply_max_rows = 0;
	reply_expect(&m, "{\"rows\":[]}", 0, 0, "");
	snprintf(p, sizeof(p), "{\"rows\":[%s]}", r1);
	reply_expect(&m, p, -EINVAL, 0, "rows");
	fields_free(f, 3);
}

/*
 * jansson allocations fail after a budget. jansson's lexer drops bytes
 * silently when its token buffer cannot grow, so while jansson itself
 * parses, a failed allocation may show as invalid input; every allocation
 * after the parse must be reported as -ENOMEM, and nothing may leak.
 */
static long	 alloc_budget = -1;
static long	 alloc_count;

static void *
failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	alloc_count++;
	return malloc(n);
}

enum oom_call { OOM_REQUEST, OOM_PAYLOAD, OOM_REPLY };

static int
oom_call(enum oom_call c, const struct schema *s, const struct message *m,
    const char *body, const char *want, struct schema_error *err)
{
	char	*canon = NULL;
	json_t	*obj = NULL;
	int	 r = -EINVAL;

	switch (c) {
	case OOM_REQUEST:
		r = schema_request(s, body, strlen(body), &canon, NULL, err);
		if (r == 0)
			assert_string_equal(canon, want);
		else
			assert_null(canon);
		free(canon);
		break;
	case OOM_PAYLOAD:
		r = schema_payload(s, body, strlen(body), &obj, err);
		if (r != 0)
			assert_null(obj);
		json_decref(obj);
		break;
	case OOM_REPLY:
		/* A row count on success; 0 stands for success here. */
		if ((r = schema_reply(m, body, strlen(body), err)) > 0)
			r = 0;
		break;
	}
	return r;
}

static void
oom_run(enum oom_call c, const struct schema *s, const struct message *m,
    const char *body, const char *want)
{
	struct schema_error	 err;
	long			 parse, total, n;
	int			 r;

	json_set_alloc_funcs(failing_malloc, free);
	alloc_budget = -1;
	alloc_count = 0;
	json_decref(json_loadb(body, strlen(body), JSON_REJECT_DUPLICATES,
	    NULL));
	parse = alloc_count;
	alloc_count = 0;
	assert_int_equal(oom_call(c, s, m, body, want, &err), 0);
	total = alloc_count;
	assert_true(total > parse);
	for (n = 0; n <= total; n++) {
		alloc_budget = n;
		err_poison(&err);
		r = oom_call(c, s, m, body, want, &err);
		if (n >= total)
			assert_int_equal(r, 0);
		else if (n == 0)	/* jansson's first buffer */
			assert_int_equal(r, -ENOMEM);
		else if (n >= parse || r != -EINVAL) {
			if (r != -ENOMEM)
				fail_msg("call %d budget %ld/%ld/%ld: %d %s",
				    c, n, parse, total, r, err.message);
			assert_string_equal(err.message, "out of memory");
			assert_int_equal(err.invalid_json, 0);
		}
	}
	alloc_budget = -1;
	json_set_alloc_funcs(malloc, free);
}

static void
test_out_of_memory(void **state)
{
	struct field	 f[NFULL];
	struct schema	 s;
	struct message	 m;
	struct field	 rf[3];
	const char	*lower = "{\"amount\":12.5,\"at\":"
	    "\"2024-02-29t12:00:00z\",\"count\":7,\"day\":\"2024-02-29\","
	    "\"flag\":true,\"name\":\"abc\",\"status\":\"active\"}";

	(void)state;
	full_schema(f, &s);
	reply_message(&m, rf);
	oom_run(OOM_REQUEST, &s, NULL, lower, FULL_CANON);
	oom_run(OOM_REQUEST, &s, NULL, FULL_CANON, FULL_CANON);
	oom_run(OOM_PAYLOAD, &s, NULL, FULL_CANON, NULL);
	oom_run(OOM_REPLY, NULL, &m, "{\"rows\":[{\"kwh\":5,\"month\":"
	    "\"2024-01\",\"paid\":true},{\"kwh\":6,\"month\":"
	    "\"2024-02\",\"paid\":false}]}", NULL);
	fields_free(f, NFULL);
	fields_free(rf, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_string_pattern),
		cmocka_unit_test(test_integer),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_boolean_enum),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_canonical_too_large),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

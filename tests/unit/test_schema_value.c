/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for policy/schema.c: each field type's values and limits. */

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

#include "tests/unit/schema_fixtures.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

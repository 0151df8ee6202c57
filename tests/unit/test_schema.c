/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for policy/schema.c: strict JSON requests, canonical payloads. */

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_canonical_too_large),
		cmocka_unit_test(test_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

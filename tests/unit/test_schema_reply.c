/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for policy/schema.c: reply rows, replies, out of memory. */

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
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for inner's executor: open, requests, replies and refusals. */

/*
 * inner/ is a daemon folder, not a library archive: its sources are
 * compiled into this test directly (no Makefile rule needed).
 */
#include "inner/exec.c"
#include "inner/serve.c"

#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/exec_fixtures.h"

/* exec_open with one statement per message (NULL: none); its errors. */
static char *
open_errors(const char **sql, int *ret)
{
	struct exec	*e = (struct exec *)0x1;
	char		*errors = NULL;

	policy_build(sql);
	*ret = exec_open(&pol, inner_done, &in, &e, &errors);
	if (*ret == 0) {
		exec_close(e);
		return NULL;
	}
	assert_ptr_equal(e, (struct exec *)0x1);
	assert_non_null(errors);
	return errors;
}

static void
test_open_ok(void **state)
{
	(void)state;
	assert_int_equal(exec_nstatements(in.exec), NMSG);
	assert_int_equal(exec_pending(in.exec), 0);
	/* Its own table exists now; the database is in WAL mode. */
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied"), 0);
	assert_int_equal(db_count("SELECT count(*) FROM pragma_journal_mode "
	    "WHERE journal_mode = 'wal'"), 1);
}

static void
test_open_bad_statements(void **state)
{
	const char	*sql[NMSG];
	char		*errors;
	int		 r;

	(void)state;
	memcpy(sql, good_sql, sizeof(sql));
	sql[M_BILL_LIST] = "SELEC month FROM bills";
	sql[M_BILL_QUERY] = "SELECT month, kwh, amount_cents, paid FROM bills "
	    "WHERE customer_id = :customer_id; DELETE FROM bills";
	sql[M_FK] = "SELECT 1 AS one";
	sql[M_PAY] = "COMMIT";
	sql[M_SLOW_INSERT] = "INSERT INTO counter(v) VALUES (?)";
	sql[M_SLOW_QUERY] = "SELECT count(*) AS v, :nope AS w FROM bills "
	    "WHERE kwh > @n OR kwh < ?3";
	sql[M_TYPES] = "UPDATE counter SET v = :i RETURNING :b AS b, "
	    ":b AS b, :d AS x";
	errors = open_errors(sql, &r);
	assert_int_equal(r, -EINVAL);
	assert_string_equal(errors,
	    "t.policy:101: statement for bill.list: near \"SELEC\": syntax "
	    "error\n"
	    "t.policy:102: statement for bill.query: has trailing SQL after "
	    "the first statement\n"
	    "t.policy:103: statement for fk.insert: returns columns; a one-way "
	    "statement must not\n"
	    "t.policy:104: statement for payment.record: does not write; a "
	    "one-way statement must\n"
	    "t.policy:105: statement for slow.insert: uses a positional "
	    "parameter (?); use :name\n"
	    "t.policy:106: statement for slow.query: parameter :nope is not a "
	    "request field\n"
	    "t.policy:106: statement for slow.query: parameter @n is not of "
	    "the form :name\n"
	    "t.policy:106: statement for slow.query: uses a positional "
	    "parameter (?3); use :name\n"
	    "t.policy:106: statement for slow.query: column w is not a reply "
	    "field\n"
	    "t.policy:107: statement for types.echo: is not read-only\n"
	    "t.policy:107: statement for types.echo: returns column b twice\n"
	    "t.policy:107: statement for types.echo: column x is not a reply "
	    "field\n"
	    "t.policy:107: statement for types.echo: does not return reply "
	    "field d\n"
	    "t.policy:107: statement for types.echo: does not return reply "
	    "field e\n"
	    "t.policy:107: statement for types.echo: does not return reply "
	    "field i\n"
	    "t.policy:107: statement for types.echo: does not return reply "
	    "field n\n"
	    "t.policy:107: statement for types.echo: does not return reply "
	    "field t\n");
	free(errors);
}

static void
test_open_missing(void **state)
{
	const char	*sql[NMSG];
	char		*errors;
	int		 r;

	(void)state;
	/* A message without a statement, an empty one, one for no message. */
	memcpy(sql, good_sql, sizeof(sql));
	sql[M_FK] = NULL;
	sql[M_PAY] = "  -- nothing\n";
	policy_build(sql);
	stmts[pol.inner.nstatements].message = "zzz.ghost";
	stmts[pol.inner.nstatements].sql = "SELECT 1";
	stmts[pol.inner.nstatements].file = "t.policy";
	stmts[pol.inner.nstatements].line = 200;
	pol.inner.nstatements++;
	{
		struct exec	*e;

		errors = NULL;
		r = exec_open(&pol, inner_done, &in, &e, &errors);
	}
	assert_int_equal(r, -EINVAL);
	assert_string_equal(errors,
	    "t.policy:30: message fk.insert has no statement in the inner "
	    "block\n"
	    "t.policy:104: statement for payment.record: is empty\n"
	    "t.policy:200: statement for zzz.ghost: no such message\n");
	free(errors);
}

static void
test_open_database(void **state)
{
	struct exec	*e = (struct exec *)0x1;
	char		*errors = NULL, path[160];
	int		 r;

	(void)state;
	policy_build(good_sql);
	snprintf(path, sizeof(path), "%s/missing.db", tmpdir);
	pol.inner.database = path;
	assert_int_equal(exec_open(&pol, inner_done, &in, &e, &errors),
	    -ENOENT);
	assert_int_equal(strncmp(errors, "database ", 9), 0);
	assert_non_null(strstr(errors, "missing.db: no such file\n"));
	free(errors);
	/* Not created as a side effect. */
	assert_int_equal(access(path, F_OK), -1);

	/* A file that is not a database. */
	snprintf(path, sizeof(path), "%s/garbage.db", tmpdir);
	{
		char	 junk[1024];

		memset(junk, 'x', sizeof(junk));
		assert_int_equal(write_file_atomic(path, junk, sizeof(junk),
		    0600), 0);
	}
	pol.inner.database = path;
	errors = NULL;
	r = exec_open(&pol, inner_done, &in, &e, &errors);
	assert_int_equal(r, -EIO);
	assert_non_null(strstr(errors, "file is not a database"));
	free(errors);

	policy_build(good_sql);
	pol.inner.db_driver = "postgres";
	errors = NULL;
	assert_int_equal(exec_open(&pol, inner_done, &in, &e, &errors),
	    -ENOTSUP);
	assert_string_equal(errors, "t.policy:100: database driver postgres "
	    "is not supported (sqlite only)\n");
	free(errors);

	policy_build(good_sql);
	pol.inner.present = 0;
	errors = NULL;
	assert_int_equal(exec_open(&pol, inner_done, &in, &e, &errors),
	    -EINVAL);
	assert_string_equal(errors, "policy has no inner database\n");
	free(errors);
	assert_ptr_equal(e, (struct exec *)0x1);
}

static void
test_request_reply(void **state)
{
	json_t	*lines, *rec;
	uint8_t	 digest[SHA256_LEN];
	char	 hex[2 * SHA256_LEN + 1];
	const char *payload =
	    "{\"customer_id\":\"0000000001\",\"month\":\"2026-02\"}";

	(void)state;
	deliver(FRAME_REQUEST, 1, "wechat-app", "bill.query", payload);
	assert_int_equal(nsent, 1);
	check_sent(0, FRAME_REPLY, 1, "{\"rows\":[{\"amount_cents\":4350,"
	    "\"kwh\":290,\"month\":\"2026-02\",\"paid\":false}]}");
	assert_string_equal(sent[0].peer, "wechat-app");
	assert_string_equal(sent[0].type, "bill.query");

	deliver(FRAME_REQUEST, 2, "wechat-app", "bill.query",
	    "{\"customer_id\":\"0000000001\",\"month\":\"2025-02\"}");
	check_sent(1, FRAME_REPLY, 2, "{\"rows\":[]}");
	deliver(FRAME_REQUEST, 3, "wechat-app", "bill.list",
	    "{\"customer_id\":\"0000000002\"}");
	check_sent(2, FRAME_REPLY, 3, "{\"rows\":["
	    "{\"amount_cents\":1500,\"kwh\":100,\"month\":\"2026-01\","
	    "\"paid\":false},"
	    "{\"amount_cents\":1650,\"kwh\":110,\"month\":\"2026-02\","
	    "\"paid\":true}]}");

	lines = audit_lines();
	assert_int_equal(json_array_size(lines), 3);
	rec = audit_nth(lines, 0);
	check_audit(rec, "execute", "allow", NULL, NULL);
	assert_string_equal(jstr(rec, "id"),
	    "01010101010101010101010101010101");
	assert_string_equal(jstr(rec, "peer"), "wechat-app");
	assert_string_equal(jstr(rec, "type"), "bill.query");
	sha256(payload, strlen(payload), digest);
	hex_encode(digest, SHA256_LEN, hex);
	assert_string_equal(jstr(rec, "digest"), hex);
	assert_int_equal(jint(rec, "size"), strlen(payload));
	assert_int_equal(jint(rec, "rows"), 1);
	assert_true(jint(rec, "latency_us") >= 0);
	assert_null(json_object_get(rec, "status"));
	assert_int_equal(jint(audit_nth(lines, 1), "rows"), 0);
	assert_int_equal(jint(audit_nth(lines, 2), "rows"), 2);
	json_decref(lines);
	assert_int_equal(in.nallow, 3);
	assert_int_equal(in.ndeny, 0);
}

static void
test_types(void **state)
{
	(void)state;
	deliver(FRAME_REQUEST, 1, "wechat-app", "types.echo",
	    "{\"b\":true,\"d\":\"2024-02-29\",\"e\":\"closed\","
	    "\"i\":-9223372036854775808,\"n\":3,"
	    "\"t\":\"2026-11-22T02:15:59.5+08:00\"}");
	/* A number field's integer comes back as a real: bound as double. */
	check_sent(0, FRAME_REPLY, 1, "{\"rows\":[{\"b\":true,"
	    "\"d\":\"2024-02-29\",\"e\":\"closed\","
	    "\"i\":-9223372036854775808,\"n\":3.0,"
	    "\"t\":\"2026-11-22T02:15:59.5+08:00\"}]}");
	deliver(FRAME_REQUEST, 2, "wechat-app", "types.echo",
	    "{\"b\":false,\"d\":\"2026-01-01\",\"e\":\"active\","
	    "\"i\":7,\"n\":-0.25,\"t\":\"2026-01-01T00:00:00Z\"}");
	check_sent(1, FRAME_REPLY, 2, "{\"rows\":[{\"b\":false,"
	    "\"d\":\"2026-01-01\",\"e\":\"active\",\"i\":7,\"n\":-0.25,"
	    "\"t\":\"2026-01-01T00:00:00Z\"}]}");
}

static void
test_reply_denials(void **state)
{
	static const struct {
		const char	*customer;
		const char	*field;
	} bad[] = {
		{ "9000000001", "paid" },	/* 2 is no boolean */
		{ "9000000002", "kwh" },	/* text */
		{ "9000000003", "kwh" },	/* null */
		{ "9000000004", "kwh" },	/* blob */
		{ "9000000005", "kwh" },	/* out of range */
		{ "9000000006", "kwh" },	/* real */
		{ "9000000007", "paid" },	/* infinity */
		{ "9000000008", "month" },	/* NUL inside */
		{ "9000000009", "month" },	/* not UTF-8 */
	};
	char	 payload[64];
	json_t	*lines, *rec;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(payload, sizeof(payload), "{\"customer_id\":\"%s\"}",
		    bad[i].customer);
		deliver(FRAME_REQUEST, (uint8_t)(i + 1), "wechat-app",
		    "bill.list", payload);
		assert_int_equal(nsent, i + 1);
		assert_int_equal(sent[i].kind, FRAME_REJECT);
		assert_non_null(strstr(sent[i].payload,
		    "\"reason\":\"reply_schema\""));
		/* The row never leaves: nothing of its values is sent. */
		assert_null(strstr(sent[i].payload, "many"));
	}
	lines = audit_lines();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rec = audit_nth(lines, i);
		check_audit(rec, "execute", "deny", "reply_schema",
		    bad[i].field);
		assert_int_equal(jint(rec, "rows"), -1);
	}
	json_decref(lines);
	check_sent(0, FRAME_REJECT, 1, "{\"field\":\"paid\",\"message\":"
	    "\"column paid is not a boolean\",\"reason\":\"reply_schema\"}");
	check_sent(3, FRAME_REJECT, 4, "{\"field\":\"kwh\",\"message\":"
	    "\"column kwh is a blob\",\"reason\":\"reply_schema\"}");
}

static void
test_row_cap_and_timeout(void **state)
{
	json_t	*lines;

	(void)state;
	deliver(FRAME_REQUEST, 1, "wechat-app", "bill.list",
	    "{\"customer_id\":\"0000000001\"}");
	check_sent(0, FRAME_REJECT, 1, "{\"message\":\"more than 3 rows\","
	    "\"reason\":\"row_cap\"}");
	deliver(FRAME_REQUEST, 2, "wechat-app", "slow.query",
	    "{\"n\":10}");
	check_sent(1, FRAME_REPLY, 2, "{\"rows\":[{\"v\":10}]}");
	deliver(FRAME_REQUEST, 3, "wechat-app", "slow.query",
	    "{\"n\":100000000000}");
	check_sent(2, FRAME_REJECT, 3, "{\"message\":\"statement ran past "
	    "50 ms\",\"reason\":\"timeout\"}");
	/* The statement is usable again after the interrupt. */
	deliver(FRAME_REQUEST, 4, "wechat-app", "slow.query", "{\"n\":3}");
	check_sent(3, FRAME_REPLY, 4, "{\"rows\":[{\"v\":3}]}");
	lines = audit_lines();
	check_audit(audit_nth(lines, 0), "execute", "deny", "row_cap", NULL);
	check_audit(audit_nth(lines, 2), "execute", "deny", "timeout", NULL);
	json_decref(lines);
}

static void
test_refusals(void **state)
{
	static const char	*q =
	    "{\"customer_id\":\"0000000001\",\"month\":\"2026-01\"}";
	struct frame		 f;
	json_t			*lines, *rec;

	(void)state;
	/* Ferry verdicts: audited; a request or one-way also rejected. */
	frame_make(&f, FRAME_REQUEST, 1, "wechat-app", "bill.query", q);
	inner_frame(&in, &f, CHAN_BAD_SEAL);
	check_sent(0, FRAME_REJECT, 1, "{\"message\":\"frame refused by "
	    "inner: bad_seal\",\"reason\":\"bad_seal\"}");
	inner_frame(&in, NULL, CHAN_MALFORMED);
	inner_frame(&in, NULL, CHAN_GAP);
	inner_frame(&in, NULL, CHAN_OK);	/* a broken ferry promise */
	frame_make(&f, FRAME_REPLY, 2, "", "", q);
	inner_frame(&in, &f, CHAN_REPLAY);	/* not a request: no reject */
	assert_int_equal(nsent, 1);

	/* Kinds. */
	/* A well-formed heartbeat (28 bytes, an echo in both times). */
	deliver(FRAME_HEARTBEAT, 3, "", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	deliver(FRAME_ACK, 4, "wechat-app", "bill.query", q);
	assert_int_equal(nsent, 1);

	/* Policy checks, each answered. */
	deliver(FRAME_REQUEST, 5, "wechat-app", "bill.nope", q);
	check_sent(1, FRAME_REJECT, 5, "{\"message\":\"no such message "
	    "type\",\"reason\":\"unknown_type\"}");
	deliver(FRAME_ONEWAY, 6, "wechat-app", "bill.query", q);
	check_sent(2, FRAME_REJECT, 6, "{\"message\":\"message expects a "
	    "reply\",\"reason\":\"kind_mismatch\"}");
	deliver(FRAME_REQUEST, 7, "wechat-app", "fk.insert", "{\"pid\":1}");
	check_sent(3, FRAME_REJECT, 7, "{\"message\":\"message is one-way\","
	    "\"reason\":\"kind_mismatch\"}");
	deliver(FRAME_REQUEST, 8, "cmiot-operator", "bill.query", q);
	check_sent(4, FRAME_REJECT, 8, "{\"message\":\"peer not allowed for "
	    "this message\",\"reason\":\"forbidden\"}");
	deliver(FRAME_REQUEST, 9, "nobody", "bill.query", q);
	check_sent(5, FRAME_REJECT, 9, "{\"message\":\"peer not allowed for "
	    "this message\",\"reason\":\"forbidden\"}");
	deliver(FRAME_REQUEST, 10, "wechat-app", "bill.query",
	    "{\"customer_id\":\"0000000001\",\"month\":\"2026-01x\"}");
	assert_int_equal(sent[6].kind, FRAME_REJECT);
	assert_non_null(strstr(sent[6].payload,
	    "{\"field\":\"month\",\"message\":"));
	assert_non_null(strstr(sent[6].payload, "\"reason\":\"schema\"}"));
	/* Valid but not canonical: outer must have rebuilt it. */
	deliver(FRAME_REQUEST, 11, "wechat-app", "bill.query",
	    "{\"month\":\"2026-01\",\"customer_id\":\"0000000001\"}");
	check_sent(7, FRAME_REJECT, 11, "{\"message\":\"payload is not "
	    "canonical\",\"reason\":\"schema\"}");
	deliver(FRAME_REQUEST, 12, "wechat-app", "bill.query",
	    "{\"customer_id\":\"0000000001\",\"month\":\"2026-01\"");
	assert_int_equal(sent[8].kind, FRAME_REJECT);
	assert_non_null(strstr(sent[8].payload, "\"reason\":\"schema\"}"));
	assert_int_equal(nsent, 9);

	lines = audit_lines();
	assert_int_equal(json_array_size(lines), 14);
	rec = audit_nth(lines, 0);
	check_audit(rec, "frame", "deny", "bad_seal", NULL);
	assert_string_equal(jstr(rec, "id"),
	    "01010101010101010101010101010101");
	assert_string_equal(jstr(rec, "type"), "bill.query");
	assert_int_equal(jint(rec, "size"), strlen(q));
	rec = audit_nth(lines, 1);
	check_audit(rec, "frame", "deny", "malformed", NULL);
	assert_null(json_object_get(rec, "id"));
	assert_null(json_object_get(rec, "size"));
	check_audit(audit_nth(lines, 2), "frame", "deny", "gap", NULL);
	check_audit(audit_nth(lines, 3), "frame", "deny", "malformed", NULL);
	rec = audit_nth(lines, 4);
	check_audit(rec, "frame", "deny", "replay", NULL);
	assert_null(json_object_get(rec, "peer"));	/* empty: left out */
	assert_null(json_object_get(rec, "type"));
	assert_string_equal(jstr(rec, "id"),
	    "02020202020202020202020202020202");
	check_audit(audit_nth(lines, 5), "frame", "deny", "unexpected_kind",
	    NULL);
	check_audit(audit_nth(lines, 6), "execute", "deny", "unknown_type",
	    NULL);
	check_audit(audit_nth(lines, 7), "execute", "deny", "kind_mismatch",
	    NULL);
	check_audit(audit_nth(lines, 9), "execute", "deny", "forbidden",
	    NULL);
	assert_string_equal(jstr(audit_nth(lines, 10), "peer"), "nobody");
	check_audit(audit_nth(lines, 11), "execute", "deny", "schema",
	    "month");
	check_audit(audit_nth(lines, 12), "execute", "deny", "schema", NULL);
	json_decref(lines);
	assert_int_equal(in.ndeny, 14);
	assert_int_equal(in.nallow, 0);

	/* A heartbeat of the wrong size: audited, never answered. */
	deliver(FRAME_HEARTBEAT, 13, "", "", "short");
	assert_int_equal(nsent, 9);
	lines = audit_lines();
	assert_int_equal(json_array_size(lines), 15);
	check_audit(audit_nth(lines, 14), "frame", "deny", "bad_heartbeat",
	    NULL);
	json_decref(lines);
}

static void
test_unanswered(void **state)
{
	const char	*q =
	    "{\"customer_id\":\"0000000001\",\"month\":\"2026-01\"}";

	(void)state;
	/* The outward channel is down: counted, not fatal. */
	send_error = -ENOTCONN;
	deliver(FRAME_REQUEST, 1, "wechat-app", "bill.query", q);
	deliver(FRAME_REQUEST, 2, "wechat-app", "bill.nope", q);
	assert_int_equal(in.nunanswered, 2);
	assert_int_equal(nsent, 0);
	send_error = 0;

	/* The audit cannot be written: nothing is answered. */
	audit_close(in.audit);
	assert_int_equal(audit_open("/dev/full", "inner", &in.audit), 0);
	deliver(FRAME_REQUEST, 3, "wechat-app", "bill.query", q);
	deliver(FRAME_REQUEST, 4, "wechat-app", "bill.nope", q);
	inner_frame(&in, NULL, CHAN_MALFORMED);
	assert_int_equal(nsent, 0);
	assert_int_equal(in.nunanswered, 5);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, inner_setup, inner_teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_ok),
		T(test_open_bad_statements),
		T(test_open_missing),
		T(test_open_database),
		T(test_request_reply),
		T(test_types),
		T(test_reply_denials),
		T(test_row_cap_and_timeout),
		T(test_refusals),
		T(test_unanswered),
	};
#undef T

	log_init("test_exec", 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for inner's one-way messages: batches, commits and replays. */

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

static void
test_oneway(void **state)
{
	json_t	*lines;
	int64_t	 before;
	const char *p1 = "{\"amount_cents\":100,\"customer_id\":\"0000000001\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P1\"}";
	const char *p2 = "{\"amount_cents\":200,\"customer_id\":\"0000000002\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P2\"}";

	(void)state;
	before = db_count("SELECT count(*) FROM isogate_applied");
	deliver(FRAME_ONEWAY, 0x21, "wechat-app", "payment.record", p1);
	/* Not acknowledged, nor audited, before it is committed. */
	assert_int_equal(nsent, 0);
	assert_int_equal(exec_pending(in.exec), 1);
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id = 'P1'"), 0);
	/* The same exchange again, in the same batch. */
	deliver(FRAME_ONEWAY, 0x21, "wechat-app", "payment.record", p1);
	/* A new exchange for a payment already recorded: constraint. */
	deliver(FRAME_ONEWAY, 0x22, "wechat-app", "payment.record", p1);
	check_sent(0, FRAME_REJECT, 0x22, "{\"message\":\"database refused "
	    "the message\",\"reason\":\"database\"}");
	deliver(FRAME_ONEWAY, 0x23, "wechat-app", "payment.record", p2);
	assert_int_equal(exec_pending(in.exec), 3);
	exec_commit(in.exec);
	assert_int_equal(exec_pending(in.exec), 0);
	assert_int_equal(nsent, 4);
	check_sent(1, FRAME_ACK, 0x21, "{\"status\":\"applied\"}");
	check_sent(2, FRAME_ACK, 0x21, "{\"status\":\"duplicate\"}");
	check_sent(3, FRAME_ACK, 0x23, "{\"status\":\"applied\"}");
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id IN ('P1', 'P2')"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied") -
	    before, 2);
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied WHERE "
	    "id = '21212121212121212121212121212121' AND "
	    "type = 'payment.record' AND at > 1700000000"), 1);

	/* A retry in a later batch is a duplicate too: applied once. */
	deliver(FRAME_ONEWAY, 0x23, "wechat-app", "payment.record", p2);
	exec_commit(in.exec);
	check_sent(4, FRAME_ACK, 0x23, "{\"status\":\"duplicate\"}");

	lines = audit_lines();
	assert_int_equal(json_array_size(lines), 5);
	check_audit(audit_nth(lines, 0), "execute", "deny", "database", NULL);
	check_audit(audit_nth(lines, 1), "execute", "allow", NULL, NULL);
	assert_string_equal(jstr(audit_nth(lines, 1), "id"),
	    "21212121212121212121212121212121");
	assert_null(json_object_get(audit_nth(lines, 1), "rows"));
	/* A repeat is on record as one, acked again, applied once. */
	check_audit(audit_nth(lines, 2), "execute", "allow", "duplicate",
	    NULL);
	assert_string_equal(jstr(audit_nth(lines, 2), "id"),
	    "21212121212121212121212121212121");
	check_audit(audit_nth(lines, 3), "execute", "allow", NULL, NULL);
	check_audit(audit_nth(lines, 4), "execute", "allow", "duplicate",
	    NULL);
	json_decref(lines);
	/* Each repeat's ack went under a seal of its own (sent 2 and 4):
	 * sealed before it and right after it, nothing else. */
	assert_int_equal(nseals, 4);
	assert_int_equal(seals_at[0], 2);
	assert_int_equal(seals_at[1], 3);
	assert_int_equal(seals_at[2], 4);
	assert_int_equal(seals_at[3], 5);
}

static void
test_oneway_then_request(void **state)
{
	(void)state;
	deliver(FRAME_ONEWAY, 0x31, "cmiot-operator", "fk.insert",
	    "{\"pid\":1}");
	assert_int_equal(nsent, 0);
	/* A request commits the open batch first: ack, then reply. */
	deliver(FRAME_REQUEST, 0x32, "wechat-app", "bill.query",
	    "{\"customer_id\":\"0000000002\",\"month\":\"2026-01\"}");
	assert_int_equal(nsent, 2);
	check_sent(0, FRAME_ACK, 0x31, "{\"status\":\"applied\"}");
	assert_int_equal(sent[1].kind, FRAME_REPLY);
	assert_int_equal(exec_pending(in.exec), 0);
}

/*
 * The requests of a batch share one read transaction; exec_commit ends
 * it, so the next batch sees what others committed meanwhile, and a
 * one-way in the middle of a batch still gets its write transaction.
 */
static void
test_batch_read_transaction(void **state)
{
	sqlite3		*db;
	int64_t		 children;
	const char	*q = "{\"customer_id\":\"0000000002\",\"month\":\"2026-01\"}";

	(void)state;
	children = db_count("SELECT count(*) FROM child");
	deliver(FRAME_REQUEST, 0xa1, "wechat-app", "bill.query", q);
	check_sent(0, FRAME_REPLY, 0xa1, "{\"rows\":[{\"amount_cents\":1500,"
	    "\"kwh\":100,\"month\":\"2026-01\",\"paid\":false}]}");
	deliver(FRAME_ONEWAY, 0xa2, "cmiot-operator", "fk.insert",
	    "{\"pid\":1}");
	deliver(FRAME_REQUEST, 0xa3, "wechat-app", "bill.query", q);
	check_sent(1, FRAME_ACK, 0xa2, "{\"status\":\"applied\"}");
	assert_int_equal(sent[2].kind, FRAME_REPLY);
	exec_commit(in.exec);
	assert_int_equal(db_count("SELECT count(*) FROM child"), children + 1);

	/* Another writer between two batches: the next batch sees it. */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 1000);
	db_exec(db, "UPDATE bills SET kwh = 101 WHERE customer_id = "
	    "'0000000002' AND month = '2026-01'");
	sqlite3_close(db);
	deliver(FRAME_REQUEST, 0xa4, "wechat-app", "bill.query", q);
	check_sent(3, FRAME_REPLY, 0xa4, "{\"rows\":[{\"amount_cents\":1500,"
	    "\"kwh\":101,\"month\":\"2026-01\",\"paid\":false}]}");
	exec_commit(in.exec);
}

static void
test_commit_failure(void **state)
{
	json_t	*lines;
	const char *p = "{\"amount_cents\":1,\"customer_id\":\"0000000003\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P3\"}";

	(void)state;
	deliver(FRAME_ONEWAY, 0x41, "wechat-app", "payment.record", p);
	/* Deferred foreign key: the statement passes, the COMMIT fails. */
	deliver(FRAME_ONEWAY, 0x42, "wechat-app", "fk.insert", "{\"pid\":7}");
	assert_int_equal(exec_pending(in.exec), 2);
	exec_commit(in.exec);
	assert_int_equal(nsent, 2);
	check_sent(0, FRAME_REJECT, 0x41, "{\"message\":\"database refused "
	    "the message\",\"reason\":\"database\"}");
	check_sent(1, FRAME_REJECT, 0x42, "{\"message\":\"database refused "
	    "the message\",\"reason\":\"database\"}");
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id = 'P3'"), 0);
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied WHERE "
	    "id = '41414141414141414141414141414141'"), 0);
	lines = audit_lines();
	check_audit(audit_nth(lines, 0), "execute", "deny", "database", NULL);
	check_audit(audit_nth(lines, 1), "execute", "deny", "database", NULL);
	json_decref(lines);
	/* And the executor goes on. */
	deliver(FRAME_ONEWAY, 0x43, "wechat-app", "payment.record", p);
	exec_commit(in.exec);
	check_sent(2, FRAME_ACK, 0x43, "{\"status\":\"applied\"}");
}

static void
test_oneway_timeout(void **state)
{
	const char *p = "{\"amount_cents\":1,\"customer_id\":\"0000000004\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P4\"}";

	(void)state;
	deliver(FRAME_ONEWAY, 0x51, "wechat-app", "payment.record", p);
	deliver(FRAME_ONEWAY, 0x52, "wechat-app", "slow.insert",
	    "{\"n\":100000000000}");
	/* The slow one is refused at once; the first survives it. */
	assert_int_equal(nsent, 1);
	check_sent(0, FRAME_REJECT, 0x52, "{\"message\":\"statement ran past "
	    "50 ms\",\"reason\":\"timeout\"}");
	assert_int_equal(exec_pending(in.exec), 1);
	deliver(FRAME_ONEWAY, 0x53, "wechat-app", "slow.insert", "{\"n\":5}");
	exec_commit(in.exec);
	check_sent(1, FRAME_ACK, 0x51, "{\"status\":\"applied\"}");
	check_sent(2, FRAME_ACK, 0x53, "{\"status\":\"applied\"}");
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id = 'P4'"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM counter"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied WHERE "
	    "id = '52525252525252525252525252525252'"), 0);
}

/* The transaction lost under pending jobs: they are applied again. */
static void
test_replay(void **state)
{
	const char *p = "{\"amount_cents\":1,\"customer_id\":\"0000000005\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P5\"}";
	const char *p2 = "{\"amount_cents\":1,\"customer_id\":\"0000000005\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P5B\"}";

	(void)state;
	deliver(FRAME_ONEWAY, 0x61, "wechat-app", "payment.record", p);
	deliver(FRAME_ONEWAY, 0x62, "cmiot-operator", "fk.insert",
	    "{\"pid\":1}");
	deliver(FRAME_ONEWAY, 0x63, "wechat-app", "payment.record", p2);
	assert_int_equal(exec_pending(in.exec), 3);
	/* As an I/O error or an interrupt would; and make 0x62 fail. */
	db_exec(in.exec->db, "ROLLBACK; CREATE TRIGGER no_fk BEFORE INSERT ON "
	    "child BEGIN SELECT RAISE(ABORT, 'no'); END");
	exec_replay(in.exec);
	assert_int_equal(nsent, 1);
	check_sent(0, FRAME_REJECT, 0x62, "{\"message\":\"database refused "
	    "the message\",\"reason\":\"database\"}");
	assert_int_equal(exec_pending(in.exec), 2);
	exec_commit(in.exec);
	check_sent(1, FRAME_ACK, 0x61, "{\"status\":\"applied\"}");
	check_sent(2, FRAME_ACK, 0x63, "{\"status\":\"applied\"}");
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id IN ('P5', 'P5B')"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied WHERE "
	    "id = '62626262626262626262626262626262'"), 0);
	db_exec(in.exec->db, "DROP TRIGGER no_fk");
}

static void
test_busy(void **state)
{
	sqlite3	*other;
	const char *p = "{\"amount_cents\":1,\"customer_id\":\"0000000006\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"P6\"}";

	(void)state;
	sqlite3_busy_timeout(in.exec->db, 20);
	assert_int_equal(sqlite3_open(dbpath, &other), SQLITE_OK);
	db_exec(other, "BEGIN IMMEDIATE");
	deliver(FRAME_ONEWAY, 0x71, "wechat-app", "payment.record", p);
	check_sent(0, FRAME_REJECT, 0x71, "{\"message\":\"database refused "
	    "the message\",\"reason\":\"database\"}");
	assert_int_equal(exec_pending(in.exec), 0);
	db_exec(other, "ROLLBACK");
	sqlite3_close(other);
	deliver(FRAME_ONEWAY, 0x72, "wechat-app", "payment.record", p);
	exec_commit(in.exec);
	check_sent(1, FRAME_ACK, 0x72, "{\"status\":\"applied\"}");
}

/* Forgets the ids earlier tests applied: the next ones are all new (the
 * tests share one database, and ids are one byte repeated). */
static void
applied_forget(void)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	db_exec(db, "DELETE FROM isogate_applied");
	sqlite3_close(db);
}

static void
test_batch_max(void **state)
{
	char	 p[160];
	size_t	 i;

	(void)state;
	applied_forget();
	for (i = 0; i < EXEC_BATCH_MAX; i++) {
		snprintf(p, sizeof(p), "{\"amount_cents\":1,"
		    "\"customer_id\":\"0000000007\",\"paid_at\":"
		    "\"2026-01-02T03:04:05Z\",\"payment_id\":\"B%zu\"}", i);
		assert_int_equal(nsent, 0);
		deliver(FRAME_ONEWAY, (uint8_t)i, "wechat-app",
		    "payment.record", p);
	}
	assert_int_equal(exec_pending(in.exec), 0);
	assert_int_equal(nsent, EXEC_BATCH_MAX);
	for (i = 0; i < EXEC_BATCH_MAX; i++)
		assert_int_equal(sent[i].kind, FRAME_ACK);
}

/* The same id again with another body (an Idempotency-Key reused for
 * another message): refused, by the digest kept with the applied id; the
 * same body again is still a duplicate. */
static void
test_idempotency_mismatch(void **state)
{
	const char *p1 = "{\"amount_cents\":300,\"customer_id\":\"0000000001\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"M1\"}";
	const char *p2 = "{\"amount_cents\":301,\"customer_id\":\"0000000001\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"M2\"}";
	json_t	*lines;

	(void)state;
	applied_forget();
	deliver(FRAME_ONEWAY, 0x51, "wechat-app", "payment.record", p1);
	exec_commit(in.exec);
	deliver(FRAME_ONEWAY, 0x51, "wechat-app", "payment.record", p2);
	deliver(FRAME_ONEWAY, 0x51, "wechat-app", "payment.record", p1);
	exec_commit(in.exec);
	assert_int_equal(nsent, 3);
	check_sent(0, FRAME_ACK, 0x51, "{\"status\":\"applied\"}");
	check_sent(1, FRAME_REJECT, 0x51, "{\"message\":\"a message with "
	    "this Idempotency-Key was applied with another body\","
	    "\"reason\":\"idempotency_mismatch\"}");
	check_sent(2, FRAME_ACK, 0x51, "{\"status\":\"duplicate\"}");
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id IN ('M1', 'M2')"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM payments "
	    "WHERE payment_id = 'M2'"), 0);
	lines = audit_lines();
	assert_int_equal(json_array_size(lines), 3);
	check_audit(audit_nth(lines, 1), "execute", "deny",
	    "idempotency_mismatch", NULL);
	check_audit(audit_nth(lines, 2), "execute", "allow", "duplicate",
	    NULL);
	json_decref(lines);
}

/* A database whose isogate_applied predates the digest column gets it;
 * its old ids match any body (their digest is unknown), new ones keep
 * theirs. */
static void
test_applied_migration(void **state)
{
	const char *p1 = "{\"amount_cents\":400,\"customer_id\":\"0000000001\","
	    "\"paid_at\":\"2026-01-02T03:04:05Z\",\"payment_id\":\"G1\"}";
	sqlite3	*db;
	char	*errors = NULL;

	(void)state;
	exec_close(in.exec);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	db_exec(db, "DROP TABLE isogate_applied;"
	    "CREATE TABLE isogate_applied(id TEXT PRIMARY KEY, "
	    "type TEXT NOT NULL, at INTEGER NOT NULL);"
	    "INSERT INTO isogate_applied VALUES "
	    "('61616161616161616161616161616161', 'payment.record', "
	    "1800000000)");
	sqlite3_close(db);
	assert_int_equal(exec_open(&pol, inner_done, &in, &in.exec, &errors),
	    0);
	deliver(FRAME_ONEWAY, 0x61, "wechat-app", "payment.record", p1);
	deliver(FRAME_ONEWAY, 0x62, "wechat-app", "payment.record", p1);
	exec_commit(in.exec);
	assert_int_equal(nsent, 2);
	check_sent(0, FRAME_ACK, 0x61, "{\"status\":\"duplicate\"}");
	check_sent(1, FRAME_ACK, 0x62, "{\"status\":\"applied\"}");
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied WHERE "
	    "digest IS NULL"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM isogate_applied WHERE "
	    "id = '62626262626262626262626262626262' AND "
	    "length(digest) = 64"), 1);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, inner_setup, inner_teardown)
	const struct CMUnitTest tests[] = {
		T(test_oneway),
		T(test_oneway_then_request),
		T(test_batch_read_transaction),
		T(test_commit_failure),
		T(test_oneway_timeout),
		T(test_replay),
		T(test_busy),
		T(test_batch_max),
		T(test_idempotency_mismatch),
		T(test_applied_migration),
	};
#undef T

	log_init("test_exec_oneway", 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for inner's executor and frame handling, on a real SQLite file. */

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

/* The policy, built by hand so this test does not depend on the parser. */

static char	*allow_wechat[] = { "wechat-app" };
static char	*allow_both[] = { "cmiot-operator", "wechat-app" };
static char	*status_values[] = { "active", "closed" };

static struct field f_customer = { .name = "customer_id",
    .type = FIELD_STRING, .max_len = 10 };

static struct field bill_req[] = {
	{ .name = "customer_id", .type = FIELD_STRING, .max_len = 10 },
	{ .name = "month", .type = FIELD_STRING, .max_len = 7 },
};
static struct field bill_reply[] = {
	{ .name = "amount_cents", .type = FIELD_INTEGER, .imin = 0,
	    .imax = 100000000000LL },
	{ .name = "kwh", .type = FIELD_INTEGER, .imin = 0, .imax = 100000000 },
	{ .name = "month", .type = FIELD_STRING, .max_len = 7 },
	{ .name = "paid", .type = FIELD_BOOLEAN },
};
static struct field fk_req[] = {
	{ .name = "pid", .type = FIELD_INTEGER, .imin = 0, .imax = 1000 },
};
static struct field pay_req[] = {
	{ .name = "amount_cents", .type = FIELD_INTEGER, .imin = 1,
	    .imax = INT64_MAX },
	{ .name = "customer_id", .type = FIELD_STRING, .max_len = 10 },
	{ .name = "paid_at", .type = FIELD_TIMESTAMP },
	{ .name = "payment_id", .type = FIELD_STRING, .max_len = 32 },
};
static struct field slow_req[] = {
	{ .name = "n", .type = FIELD_INTEGER, .imin = 0, .imax = INT64_MAX },
};
static struct field slow_reply[] = {
	{ .name = "v", .type = FIELD_INTEGER, .imin = 0, .imax = INT64_MAX },
};
static struct field types[] = {
	{ .name = "b", .type = FIELD_BOOLEAN },
	{ .name = "d", .type = FIELD_DATE },
	{ .name = "e", .type = FIELD_ENUM, .values = status_values,
	    .nvalues = 2 },
	{ .name = "i", .type = FIELD_INTEGER, .imin = INT64_MIN,
	    .imax = INT64_MAX },
	{ .name = "n", .type = FIELD_NUMBER, .nmin = -1e300, .nmax = 1e300 },
	{ .name = "t", .type = FIELD_TIMESTAMP },
};

#define SCHEMA(a)	{ (a), sizeof(a) / sizeof((a)[0]) }

/* Sorted by name, as the parser leaves them. */
enum { M_BILL_LIST, M_BILL_QUERY, M_FK, M_PAY, M_SLOW_INSERT, M_SLOW_QUERY,
    M_TYPES, NMSG };
static struct message messages[NMSG] = {
	[M_BILL_LIST] = { .name = "bill.list", .allow = allow_wechat,
	    .nallow = 1, .request = { &f_customer, 1 },
	    .reply = SCHEMA(bill_reply), .reply_max_rows = 3,
	    .timeout_ms = 2000, .file = "t.policy", .line = 10 },
	[M_BILL_QUERY] = { .name = "bill.query", .allow = allow_wechat,
	    .nallow = 1, .request = SCHEMA(bill_req),
	    .reply = SCHEMA(bill_reply), .reply_max_rows = 12,
	    .timeout_ms = 2000, .file = "t.policy", .line = 20 },
	[M_FK] = { .name = "fk.insert", .allow = allow_both, .nallow = 2,
	    .oneway = 1, .request = SCHEMA(fk_req), .timeout_ms = 2000,
	    .file = "t.policy", .line = 30 },
	[M_PAY] = { .name = "payment.record", .allow = allow_wechat,
	    .nallow = 1, .oneway = 1, .request = SCHEMA(pay_req),
	    .timeout_ms = 2000, .file = "t.policy", .line = 40 },
	[M_SLOW_INSERT] = { .name = "slow.insert", .allow = allow_wechat,
	    .nallow = 1, .oneway = 1, .request = SCHEMA(slow_req),
	    .timeout_ms = 50, .file = "t.policy", .line = 50 },
	[M_SLOW_QUERY] = { .name = "slow.query", .allow = allow_wechat,
	    .nallow = 1, .request = SCHEMA(slow_req),
	    .reply = SCHEMA(slow_reply), .reply_max_rows = 1,
	    .timeout_ms = 50, .file = "t.policy", .line = 60 },
	[M_TYPES] = { .name = "types.echo", .allow = allow_wechat,
	    .nallow = 1, .request = SCHEMA(types), .reply = SCHEMA(types),
	    .reply_max_rows = 1, .timeout_ms = 2000, .file = "t.policy",
	    .line = 70 },
};

static const char *good_sql[NMSG] = {
	[M_BILL_LIST] = "SELECT month, kwh, amount_cents, paid FROM bills "
	    "WHERE customer_id = :customer_id ORDER BY month",
	[M_BILL_QUERY] = "SELECT month, kwh, amount_cents, paid FROM bills\n"
	    "WHERE customer_id = :customer_id AND month = :month; -- one\n",
	[M_FK] = "INSERT INTO child(pid) VALUES (:pid)",
	[M_PAY] = "INSERT INTO payments(payment_id, customer_id, "
	    "amount_cents, paid_at) VALUES (:payment_id, :customer_id, "
	    ":amount_cents, :paid_at)",
	[M_SLOW_INSERT] = "INSERT INTO counter(v) SELECT count(*) FROM "
	    "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
	    "WHERE x < :n) SELECT x FROM c)",
	[M_SLOW_QUERY] = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x + 1 FROM c WHERE x < :n) SELECT count(*) AS v FROM c",
	[M_TYPES] = "SELECT :b AS b, :d AS d, :e AS e, :i AS i, :n AS n, "
	    ":t AS t",
};

static struct peer	 peers[] = {
	{ .name = "cmiot-operator" },
	{ .name = "wechat-app" },
};

static char			 tmpdir[64], dbpath[128], auditpath[128];
static struct statement		 stmts[NMSG + 1];
static struct policy		 pol;
static struct inner		 in;

/* What inner sent. */
struct sent {
	uint8_t	 kind;
	uint8_t	 id[ID_LEN];
	char	 peer[FRAME_NAME_MAX + 1];
	char	 type[FRAME_NAME_MAX + 1];
	char	 payload[512];
};
static struct sent	 sent[300];
static size_t		 nsent;
static int		 send_error;

static int
record_send(void *arg, uint8_t kind, const uint8_t id[ID_LEN],
    const char *peer, const char *type, const void *payload, size_t len)
{
	struct sent	*s;

	(void)arg;
	if (send_error != 0)
		return send_error;
	assert_true(nsent < sizeof(sent) / sizeof(sent[0]));
	assert_true(len < sizeof(s->payload));
	s = &sent[nsent++];
	s->kind = kind;
	memcpy(s->id, id, ID_LEN);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->type, sizeof(s->type), "%s", type);
	memcpy(s->payload, payload, len);
	s->payload[len] = '\0';
	return 0;
}

static void
db_exec(sqlite3 *db, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* Bill rows with values that must never leave, one defect each. */
static void
db_seed_bad(sqlite3 *db)
{
	sqlite3_stmt	*st;
	static const char month_nul[] = "2026-0\0";

	db_exec(db, "INSERT INTO bills VALUES"
	    "('9000000001', '2026-01', 1, 1, 2),"	/* paid not boolean */
	    "('9000000002', '2026-01', 'many', 1, 1),"	/* kwh text */
	    "('9000000003', '2026-01', NULL, 1, 1),"	/* kwh null */
	    "('9000000004', '2026-01', x'00ff', 1, 1),"	/* kwh blob */
	    "('9000000005', '2026-01', -5, 1, 1),"	/* kwh out of range */
	    "('9000000006', '2026-01', 1.5, 1, 1),"	/* kwh real */
	    "('9000000007', '2026-01', 1, 1, 1e999)");	/* paid inf */
	/* Text with a NUL inside, and text that is not UTF-8. */
	db_exec(db, "INSERT INTO bills VALUES ('9000000008', 'x', 1, 1, 1),"
	    "('9000000009', 'y', 1, 1, 1)");
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE bills SET month = ?1 "
	    "WHERE customer_id = ?2", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, month_nul, 7, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, "9000000008", -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, "\xff\xfe", 2, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, "9000000009", -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void
db_create(void)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	db_exec(db, "CREATE TABLE bills(customer_id TEXT, month TEXT, "
	    "kwh INTEGER, amount_cents INTEGER, paid INTEGER, "
	    "PRIMARY KEY(customer_id, month));"
	    "CREATE TABLE payments(payment_id TEXT PRIMARY KEY, "
	    "customer_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, "
	    "paid_at TEXT NOT NULL);"
	    "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
	    "CREATE TABLE child(pid INTEGER REFERENCES parent(id) "
	    "DEFERRABLE INITIALLY DEFERRED);"
	    "CREATE TABLE counter(v INTEGER);"
	    "INSERT INTO parent VALUES (1);"
	    "INSERT INTO bills VALUES"
	    "('0000000001', '2026-01', 310, 4650, 1),"
	    "('0000000001', '2026-02', 290, 4350, 0),"
	    "('0000000001', '2026-03', 300, 4500, 1),"
	    "('0000000001', '2026-04', 280, 4200, 1),"
	    "('0000000002', '2026-01', 100, 1500, 0),"
	    "('0000000002', '2026-02', 110, 1650, 1);");
	db_seed_bad(db);
	sqlite3_close(db);
}

static void
policy_build(const char **sql)
{
	size_t	 i, n = 0;

	memset(&pol, 0, sizeof(pol));
	pol.peers = peers;
	pol.npeers = 2;
	pol.messages = messages;
	pol.nmessages = NMSG;
	memset(pol.digest, 0xd1, sizeof(pol.digest));
	pol.inner.present = 1;
	pol.inner.db_driver = "sqlite";
	pol.inner.database = dbpath;
	pol.inner.file = "t.policy";
	pol.inner.line = 100;
	for (i = 0; i < NMSG; i++) {
		if (sql[i] == NULL)
			continue;
		stmts[n].message = messages[i].name;
		stmts[n].sql = (char *)sql[i];
		stmts[n].file = "t.policy";
		stmts[n].line = 101 + (int)i;
		n++;
	}
	pol.inner.statements = stmts;
	pol.inner.nstatements = n;
}

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_exec.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", tmpdir);
	snprintf(auditpath, sizeof(auditpath), "%s/inner.audit", tmpdir);
	db_create();
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh inner on the test database for each test. */
static int
inner_setup(void **state)
{
	char	*errors = NULL;
	int	 r;

	(void)state;
	policy_build(good_sql);
	memset(&in, 0, sizeof(in));
	in.pol = &pol;
	in.send = record_send;
	nsent = 0;
	send_error = 0;
	unlink(auditpath);
	if (audit_open(auditpath, "inner", &in.audit) != 0)
		return -1;
	if ((r = exec_open(&pol, inner_done, &in, &in.exec, &errors)) != 0) {
		fprintf(stderr, "exec_open: %s", errors);
		free(errors);
		return -1;
	}
	return 0;
}

static int
inner_teardown(void **state)
{
	(void)state;
	exec_commit(in.exec);
	exec_close(in.exec);
	audit_close(in.audit);
	return 0;
}

static void
frame_make(struct frame *f, uint8_t kind, uint8_t idbyte, const char *peer,
    const char *type, const char *payload)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->epoch = 1;
	f->seq = idbyte;
	memset(f->id, idbyte, ID_LEN);
	memcpy(f->digest, pol.digest, SHA256_LEN);
	snprintf(f->peer, sizeof(f->peer), "%s", peer);
	snprintf(f->type, sizeof(f->type), "%s", type);
	f->payload = (const uint8_t *)payload;
	f->payload_len = (uint32_t)strlen(payload);
}

static void
deliver(uint8_t kind, uint8_t idbyte, const char *peer, const char *type,
    const char *payload)
{
	struct frame	 f;

	frame_make(&f, kind, idbyte, peer, type, payload);
	inner_frame(&in, &f, CHAN_OK);
}

/* The audit journal's lines, parsed; caller json_decref's. */
static json_t *
audit_lines(void)
{
	json_t	*arr, *o;
	char	*text = NULL, *line, *save = NULL;

	assert_int_equal(read_file(auditpath, 1 << 22, &text, NULL), 0);
	arr = json_array();
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(o = json_loads(line, 0, NULL));
		/* The journal's own marks are not decisions. */
		if (strcmp(json_string_value(json_object_get(o, "event")),
		    "file") == 0 || strcmp(json_string_value(json_object_get(o,
		    "event")), "checkpoint") == 0) {
			json_decref(o);
			continue;
		}
		json_array_append_new(arr, o);
	}
	free(text);
	return arr;
}

static json_t *
audit_nth(json_t *lines, size_t i)
{
	assert_true(i < json_array_size(lines));
	return json_array_get(lines, i);
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return v != NULL ? json_string_value(v) : NULL;
}

static json_int_t
jint(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return v != NULL ? json_integer_value(v) : -1;
}

static void
check_audit(json_t *rec, const char *event, const char *decision,
    const char *reason, const char *field)
{
	assert_string_equal(jstr(rec, "side"), "inner");
	assert_string_equal(jstr(rec, "event"), event);
	assert_string_equal(jstr(rec, "decision"), decision);
	if (reason != NULL)
		assert_string_equal(jstr(rec, "reason"), reason);
	else
		assert_null(json_object_get(rec, "reason"));
	if (field != NULL)
		assert_string_equal(jstr(rec, "field"), field);
	else
		assert_null(json_object_get(rec, "field"));
}

static void
check_sent(size_t i, uint8_t kind, uint8_t idbyte, const char *payload)
{
	uint8_t	 id[ID_LEN];

	assert_true(i < nsent);
	memset(id, idbyte, ID_LEN);
	assert_int_equal(sent[i].kind, kind);
	assert_memory_equal(sent[i].id, id, ID_LEN);
	assert_string_equal(sent[i].payload, payload);
}

static int64_t
db_count(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int64_t		 n;

	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

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
	deliver(FRAME_HEARTBEAT, 3, "", "", "");
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
}

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
	check_audit(audit_nth(lines, 4), "execute", "allow", NULL, NULL);
	json_decref(lines);
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

static void
test_batch_max(void **state)
{
	char	 p[160];
	size_t	 i;

	(void)state;
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
		T(test_oneway),
		T(test_oneway_then_request),
		T(test_commit_failure),
		T(test_oneway_timeout),
		T(test_replay),
		T(test_busy),
		T(test_batch_max),
		T(test_unanswered),
	};
#undef T

	log_init("test_exec", 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The policy, test database and frame helpers for inner's unit tests. */

/*
 * Include after inner/exec.c and inner/serve.c: the helpers drive struct
 * inner and its executor directly. setup/teardown make and remove a fresh
 * temporary directory and database per test program; inner_setup gives
 * each test a fresh inner on it. Helpers are static inline, so a test
 * file that leaves one unused still builds under -Werror.
 */
#ifndef EXEC_FIXTURES_H
#define EXEC_FIXTURES_H

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

static inline int
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

/* When inner asked for a seal: how many frames were sent by then. */
static size_t		 seals_at[32];
static size_t		 nseals;

static inline int
record_seal(void *arg)
{
	(void)arg;
	assert_true(nseals < sizeof(seals_at) / sizeof(seals_at[0]));
	seals_at[nseals++] = nsent;
	return 0;
}

static inline void
db_exec(sqlite3 *db, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* Bill rows with values that must never leave, one defect each. */
static inline void
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

static inline void
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

static inline void
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

static inline int
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

static inline int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh inner on the test database for each test. */
static inline int
inner_setup(void **state)
{
	char	*errors = NULL;
	int	 r;

	(void)state;
	policy_build(good_sql);
	memset(&in, 0, sizeof(in));
	in.pol = &pol;
	in.send = record_send;
	in.seal = record_seal;
	nsent = nseals = 0;
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

static inline int
inner_teardown(void **state)
{
	(void)state;
	exec_commit(in.exec);
	exec_close(in.exec);
	audit_close(in.audit);
	return 0;
}

static inline void
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

static inline void
deliver(uint8_t kind, uint8_t idbyte, const char *peer, const char *type,
    const char *payload)
{
	struct frame	 f;

	frame_make(&f, kind, idbyte, peer, type, payload);
	inner_frame(&in, &f, CHAN_OK);
}

/* The audit journal's lines, parsed; caller json_decref's. */
static inline json_t *
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

static inline json_t *
audit_nth(json_t *lines, size_t i)
{
	assert_true(i < json_array_size(lines));
	return json_array_get(lines, i);
}

static inline const char *
jstr(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return v != NULL ? json_string_value(v) : NULL;
}

static inline json_int_t
jint(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return v != NULL ? json_integer_value(v) : -1;
}

static inline void
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

static inline void
check_sent(size_t i, uint8_t kind, uint8_t idbyte, const char *payload)
{
	uint8_t	 id[ID_LEN];

	assert_true(i < nsent);
	memset(id, idbyte, ID_LEN);
	assert_int_equal(sent[i].kind, kind);
	assert_memory_equal(sent[i].id, id, ID_LEN);
	assert_string_equal(sent[i].payload, payload);
}

static inline int64_t
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

#endif /* EXEC_FIXTURES_H */

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The SQLite executor: prepared statements, typed binding, rows, one-ways. */

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "inner/inner.h"

/* One message's statement and how its parameters and columns map to fields. */
struct exec_stmt {
	sqlite3_stmt	*stmt;
	int		 nparams;
	int		 param_field[POLICY_FIELDS_MAX];	/* request */
	int		 ncols;
	int		 col_field[POLICY_FIELDS_MAX];		/* reply */
};

struct exec_pending {
	struct exec_job	 job;
	int		 duplicate;
};

struct exec {
	const struct policy	*pol;
	exec_done_cb		*done;
	void			*arg;
	sqlite3			*db;
	struct exec_stmt	*stmts;		/* parallel to pol->messages */
	size_t			 nstmts;
	sqlite3_stmt		*begin, *begin_read, *commit, *rollback;
	sqlite3_stmt		*savepoint, *release, *rollback_to;
	sqlite3_stmt		*applied_find, *applied_insert, *applied_prune;
	uint64_t		 deadline_ms;	/* 0: none */
	struct exec_pending	 pending[EXEC_BATCH_MAX];
	size_t			 npending;
};

static int
exec_progress(void *arg)
{
	struct exec	*e = arg;

	return e->deadline_ms != 0 && mono_ms() >= e->deadline_ms;
}

static void
errorf(struct buf *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
errorf(struct buf *errs, const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Past EXEC_ERRORS_MAX the first errors are enough to act on; the
	 * last byte stays free for the NUL. */
	if (strlen(line) + 2 > errs->max - errs->len)
		return;
	(void)buf_put_str(errs, line);
	(void)buf_put_str(errs, "\n");
}

static int
field_index(const struct schema *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
exec_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret,
	    NULL) != SQLITE_OK)
		return -EINVAL;
	return 0;
}

/* Checks one policy statement against its message; reports every fault. */
static void
exec_check(struct exec *e, const struct statement *st,
    const struct message *m, struct exec_stmt *es, struct buf *errs)
{
	const char	*file = st->file != NULL ? st->file : "?";
	const char	*tail = NULL, *name;
	sqlite3_stmt	*extra = NULL;
	int		 i, k, seen[POLICY_FIELDS_MAX];
	size_t		 j;

#define STERR(...) do {							\
	char _m[512];							\
	snprintf(_m, sizeof(_m), __VA_ARGS__);				\
	errorf(errs, "%s:%d: statement for %s: %s", file, st->line,	\
	    st->message, _m);						\
} while (0)

	if (sqlite3_prepare_v3(e->db, st->sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &es->stmt, &tail) != SQLITE_OK) {
		STERR("%s", sqlite3_errmsg(e->db));
		return;
	}
	if (es->stmt == NULL) {
		STERR("is empty");
		return;
	}
	/* Only whitespace and comments may follow the first statement. */
	if (tail != NULL && *tail != '\0') {
		if (sqlite3_prepare_v2(e->db, tail, -1, &extra, NULL) !=
		    SQLITE_OK || extra != NULL)
			STERR("has trailing SQL after the first statement");
		sqlite3_finalize(extra);
	}

	es->nparams = sqlite3_bind_parameter_count(es->stmt);
	if (es->nparams > POLICY_FIELDS_MAX) {
		STERR("has %d parameters, more than the request's fields",
		    es->nparams);
		es->nparams = 0;
	}
	for (i = 1; i <= es->nparams; i++) {
		name = sqlite3_bind_parameter_name(es->stmt, i);
		if (name == NULL || name[0] == '?') {
			STERR("uses a positional parameter (%s); use :name",
			    name != NULL ? name : "?");
			continue;
		}
		if (name[0] != ':') {
			STERR("parameter %s is not of the form :name", name);
			continue;
		}
		if ((k = field_index(&m->request, name + 1)) == -1) {
			STERR("parameter %s is not a request field", name);
			continue;
		}
		es->param_field[i - 1] = k;
	}

	es->ncols = sqlite3_column_count(es->stmt);
	if (m->oneway) {
		if (es->ncols != 0)
			STERR("returns columns; a one-way statement must not");
		else if (sqlite3_stmt_readonly(es->stmt))
			STERR("does not write; a one-way statement must");
		es->ncols = 0;
		return;
	}
	if (!sqlite3_stmt_readonly(es->stmt))
		STERR("is not read-only");
	if (es->ncols > POLICY_FIELDS_MAX) {
		STERR("returns %d columns, more than the reply's fields",
		    es->ncols);
		es->ncols = 0;
		return;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < es->ncols; i++) {
		name = sqlite3_column_name(es->stmt, i);
		if (name == NULL) {
			STERR("column %d has no name", i + 1);
			continue;
		}
		if ((k = field_index(&m->reply, name)) == -1) {
			STERR("column %s is not a reply field", name);
			continue;
		}
		if (seen[k]++)
			STERR("returns column %s twice", name);
		es->col_field[i] = k;
	}
	for (j = 0; j < m->reply.nfields; j++)
		if (!seen[j])
			STERR("does not return reply field %s",
			    m->reply.fields[j].name);
#undef STERR
}

static int
exec_setup(struct exec *e, const char *path, struct buf *errs)
{
	sqlite3_stmt	*st = NULL, *probe = NULL;
	const char	*mode;
	int		 r = -EIO;

	sqlite3_extended_result_codes(e->db, 1);
	sqlite3_db_config(e->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(e->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(e->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL);
	sqlite3_busy_timeout(e->db, EXEC_BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(e->db, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		errorf(errs, "database %s: %s", path, sqlite3_errmsg(e->db));
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		errorf(errs, "database %s: cannot use WAL journal mode (%s)",
		    path, mode != NULL ? mode : "?");
		goto out;
	}
	if (sqlite3_exec(e->db, "PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON;"
	    "CREATE TABLE IF NOT EXISTS isogate_applied("
	    "id TEXT PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, "
	    "digest TEXT);"
	    "CREATE INDEX IF NOT EXISTS isogate_applied_at "
	    "ON isogate_applied(at)",
	    NULL, NULL, NULL) != SQLITE_OK) {
		errorf(errs, "database %s: %s", path, sqlite3_errmsg(e->db));
		goto out;
	}
	/* A table from before the payload digest: the column is added; the
	 * ids it holds match any body (their digest is unknown). */
	if (sqlite3_prepare_v2(e->db, "SELECT digest FROM isogate_applied "
	    "LIMIT 0", -1, &probe, NULL) != SQLITE_OK && sqlite3_exec(e->db,
	    "ALTER TABLE isogate_applied ADD COLUMN digest TEXT", NULL, NULL,
	    NULL) != SQLITE_OK) {
		errorf(errs, "database %s: %s", path, sqlite3_errmsg(e->db));
		goto out;
	}
	if (exec_prepare(e->db, "BEGIN IMMEDIATE", &e->begin) != 0 ||
	    exec_prepare(e->db, "BEGIN", &e->begin_read) != 0 ||
	    exec_prepare(e->db, "COMMIT", &e->commit) != 0 ||
	    exec_prepare(e->db, "ROLLBACK", &e->rollback) != 0 ||
	    exec_prepare(e->db, "SAVEPOINT isogate_job", &e->savepoint) != 0 ||
	    exec_prepare(e->db, "RELEASE isogate_job", &e->release) != 0 ||
	    exec_prepare(e->db, "ROLLBACK TO isogate_job",
	    &e->rollback_to) != 0 ||
	    exec_prepare(e->db, "SELECT digest FROM isogate_applied "
	    "WHERE id = ?1", &e->applied_find) != 0 ||
	    exec_prepare(e->db, "INSERT INTO isogate_applied(id, type, at, "
	    "digest) VALUES (?1, ?2, ?3, ?4)", &e->applied_insert) != 0 ||
	    exec_prepare(e->db, "DELETE FROM isogate_applied WHERE at < ?1",
	    &e->applied_prune) != 0) {
		errorf(errs, "database %s: %s", path, sqlite3_errmsg(e->db));
		goto out;
	}
	r = 0;
 out:
	sqlite3_finalize(probe);
	sqlite3_finalize(st);
	return r;
}

int
exec_open(const struct policy *pol, exec_done_cb *done, void *arg,
    struct exec **ret, char **ret_errors)
{
	const struct side	*in = &pol->inner;
	const struct statement	*st;
	const struct message	*m;
	struct exec		*e = NULL;
	struct buf		 errs;
	struct stat		 sb;
	size_t			 i;
	int			 r;

	buf_init(&errs, EXEC_ERRORS_MAX);
	if (!in->present || in->db_driver == NULL || in->database == NULL) {
		errorf(&errs, "policy has no inner database");
		r = -EINVAL;
		goto out;
	}
	if (strcmp(in->db_driver, "sqlite") != 0) {
		errorf(&errs, "%s:%d: database driver %s is not supported "
		    "(sqlite only)", in->file != NULL ? in->file : "?",
		    in->line, in->db_driver);
		r = -ENOTSUP;
		goto out;
	}
	if (stat(in->database, &sb) == -1) {
		r = -errno;
		errorf(&errs, "database %s: %s", in->database,
		    r == -ENOENT ? "no such file" : strerror(-r));
		goto out;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->stmts = calloc(pol->nmessages + 1, sizeof(*e->stmts))) ==
	    NULL) {
		r = -ENOMEM;
		errorf(&errs, "out of memory");
		goto out;
	}
	e->pol = pol;
	e->done = done;
	e->arg = arg;
	e->nstmts = pol->nmessages;
	/* READWRITE without CREATE: a mistyped path must not make a new db. */
	if (sqlite3_open_v2(in->database, &e->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		errorf(&errs, "database %s: %s", in->database,
		    e->db != NULL ? sqlite3_errmsg(e->db) : "out of memory");
		r = -EIO;
		goto out;
	}
	if ((r = exec_setup(e, in->database, &errs)) != 0)
		goto out;

	for (i = 0; i < pol->nmessages; i++) {
		m = &pol->messages[i];
		if (policy_statement(pol, m->name) == NULL)
			errorf(&errs, "%s:%d: message %s has no statement in "
			    "the inner block", m->file != NULL ? m->file : "?",
			    m->line, m->name);
	}
	for (i = 0; i < in->nstatements; i++) {
		st = &in->statements[i];
		if ((m = policy_message(pol, st->message)) == NULL) {
			errorf(&errs, "%s:%d: statement for %s: no such "
			    "message", st->file != NULL ? st->file : "?",
			    st->line, st->message);
			continue;
		}
		exec_check(e, st, m, &e->stmts[m - pol->messages], &errs);
	}
	if (errs.len != 0) {
		r = -EINVAL;
		goto out;
	}
	sqlite3_progress_handler(e->db, EXEC_PROGRESS_OPS, exec_progress, e);
	*ret = e;
	e = NULL;
	r = 0;
 out:
	exec_close(e);
	if (r != 0) {
		if (buf_put(&errs, "", 1) == 0)
			*ret_errors = (char *)errs.data;
		else
			*ret_errors = strdup("exec: out of memory\n");
		errs.data = NULL;
	}
	buf_free(&errs);
	return r;
}

void
exec_close(struct exec *e)
{
	size_t	 i;

	if (e == NULL)
		return;
	for (i = 0; i < e->npending; i++)
		json_decref(e->pending[i].job.req);
	if (e->db != NULL && !sqlite3_get_autocommit(e->db))
		sqlite3_exec(e->db, "ROLLBACK", NULL, NULL, NULL);
	if (e->stmts != NULL)
		for (i = 0; i < e->nstmts; i++)
			sqlite3_finalize(e->stmts[i].stmt);
	sqlite3_finalize(e->begin);
	sqlite3_finalize(e->begin_read);
	sqlite3_finalize(e->commit);
	sqlite3_finalize(e->rollback);
	sqlite3_finalize(e->savepoint);
	sqlite3_finalize(e->release);
	sqlite3_finalize(e->rollback_to);
	sqlite3_finalize(e->applied_find);
	sqlite3_finalize(e->applied_insert);
	sqlite3_finalize(e->applied_prune);
	sqlite3_close(e->db);
	free(e->stmts);
	free(e);
}

size_t
exec_pending(const struct exec *e)
{
	return e->npending;
}

size_t
exec_nstatements(const struct exec *e)
{
	size_t	 i, n = 0;

	for (i = 0; i < e->nstmts; i++)
		if (e->stmts[i].stmt != NULL)
			n++;
	return n;
}

static struct exec_stmt *
exec_stmt_of(struct exec *e, const struct message *m)
{
	size_t	 i;

	if (m < e->pol->messages || m >= e->pol->messages + e->pol->nmessages)
		fatalx("exec: message not from the policy");
	i = (size_t)(m - e->pol->messages);
	if (e->stmts[i].stmt == NULL)
		fatalx("exec: message %s has no statement", m->name);
	return &e->stmts[i];
}

static void
result_init(struct exec_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rows = -1;
}

static void
result_deny(struct exec_result *res, const char *reason, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
result_deny(struct exec_result *res, const char *reason, const char *field,
    const char *fmt, ...)
{
	va_list	 ap;

	free(res->payload);
	res->payload = NULL;
	res->len = 0;
	res->reason = reason;
	snprintf(res->field, sizeof(res->field), "%s",
	    field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

/* Runs a statement that returns no rows; the db's code on failure. */
static int
exec_step_done(sqlite3_stmt *st)
{
	int	 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Binds the request's fields to the statement's :name parameters. */
static int
exec_bind(struct exec_stmt *es, const struct message *m, const json_t *req,
    struct exec_result *res)
{
	const struct field	*fd;
	const json_t		*v;
	int			 i, rc;

	for (i = 0; i < es->nparams; i++) {
		fd = &m->request.fields[es->param_field[i]];
		v = json_object_get(req, fd->name);
		if (v == NULL || json_is_null(v)) {
			rc = sqlite3_bind_null(es->stmt, i + 1);
		} else switch (fd->type) {
		case FIELD_INTEGER:
			if (!json_is_integer(v))
				goto bad;
			rc = sqlite3_bind_int64(es->stmt, i + 1,
			    json_integer_value(v));
			break;
		case FIELD_NUMBER:
			if (!json_is_number(v))
				goto bad;
			rc = sqlite3_bind_double(es->stmt, i + 1,
			    json_number_value(v));
			break;
		case FIELD_BOOLEAN:
			if (!json_is_boolean(v))
				goto bad;
			rc = sqlite3_bind_int(es->stmt, i + 1,
			    json_is_true(v));
			break;
		default:
			if (!json_is_string(v))
				goto bad;
			/* req outlives the step; bindings are cleared after. */
			rc = sqlite3_bind_text(es->stmt, i + 1,
			    json_string_value(v), (int)json_string_length(v),
			    SQLITE_STATIC);
			break;
		}
		if (rc != SQLITE_OK) {
			result_deny(res, "database", NULL,
			    "database refused the message");
			return -EIO;
		}
	}
	return 0;
 bad:
	result_deny(res, "schema", fd->name, "%s has the wrong type",
	    fd->name);
	return -EINVAL;
}

/* One result row as a JSON object, checked against the reply schema. */
static json_t *
exec_row(struct exec_stmt *es, const struct message *m, size_t *bytes,
    struct exec_result *res)
{
	const struct field	*fd;
	struct schema_error	 serr;
	const char		*text;
	json_t			*row, *v;
	sqlite3_int64		 iv;
	int			 i, n;

	if ((row = json_object()) == NULL)
		goto nomem;
	for (i = 0; i < es->ncols; i++) {
		fd = &m->reply.fields[es->col_field[i]];
		switch (sqlite3_column_type(es->stmt, i)) {
		case SQLITE_INTEGER:
			iv = sqlite3_column_int64(es->stmt, i);
			if (fd->type != FIELD_BOOLEAN)
				v = json_integer(iv);
			else if (iv == 0 || iv == 1)
				v = json_boolean(iv);
			else {
				result_deny(res, "reply_schema", fd->name,
				    "column %s is not a boolean", fd->name);
				goto fail;
			}
			*bytes += 24;
			break;
		case SQLITE_FLOAT:
			/* NULL for infinities, which JSON cannot hold. */
			if ((v = json_real(sqlite3_column_double(es->stmt,
			    i))) == NULL) {
				result_deny(res, "reply_schema", fd->name,
				    "column %s is not a finite number",
				    fd->name);
				goto fail;
			}
			*bytes += 24;
			break;
		case SQLITE_TEXT:
			text = (const char *)sqlite3_column_text(es->stmt, i);
			n = sqlite3_column_bytes(es->stmt, i);
			if (text == NULL)
				goto nomem;
			/* NUL or bad UTF-8 would not survive a strict parse. */
			if (memchr(text, '\0', (size_t)n) != NULL ||
			    (v = json_stringn(text, (size_t)n)) == NULL) {
				result_deny(res, "reply_schema", fd->name,
				    "column %s is not valid text", fd->name);
				goto fail;
			}
			*bytes += (size_t)n * 6 + 2;
			break;
		case SQLITE_NULL:
			v = json_null();
			break;
		default:
			result_deny(res, "reply_schema", fd->name,
			    "column %s is a blob", fd->name);
			goto fail;
		}
		*bytes += strlen(fd->name) + 4;
		if (json_object_set_new(row, fd->name, v) == -1)
			goto nomem;
	}
	if (schema_row(&m->reply, row, &serr) != 0) {
		result_deny(res, "reply_schema", serr.field, "%s",
		    serr.message);
		goto fail;
	}
	return row;
 nomem:
	result_deny(res, "database", NULL, "out of memory");
 fail:
	json_decref(row);
	return NULL;
}

static void
exec_detail(struct exec *e, struct exec_result *res, int rc)
{
	snprintf(res->detail, sizeof(res->detail), "%s (%s)",
	    sqlite3_errmsg(e->db), sqlite3_errstr(rc));
}

/* A request/reply message: rows out, each checked, within the caps. */
static void
exec_request(struct exec *e, const struct exec_job *job,
    struct exec_result *res)
{
	const struct message	*m = job->msg;
	struct exec_stmt	*es = exec_stmt_of(e, m);
	json_t			*rows = NULL, *reply = NULL, *row;
	size_t			 bytes = 16;
	int			 rc;

	if ((rows = json_array()) == NULL ||
	    (reply = json_pack("{s:O}", "rows", rows)) == NULL) {
		result_deny(res, "database", NULL, "out of memory");
		goto out;
	}
	if (exec_bind(es, m, job->req, res) != 0)
		goto out;
	e->deadline_ms = mono_ms() + m->timeout_ms;
	while ((rc = sqlite3_step(es->stmt)) == SQLITE_ROW) {
		if (json_array_size(rows) >= m->reply_max_rows) {
			result_deny(res, "row_cap", NULL, "more than %u rows",
			    m->reply_max_rows);
			goto out;
		}
		if ((row = exec_row(es, m, &bytes, res)) == NULL)
			goto out;
		if (json_array_append_new(rows, row) == -1) {
			result_deny(res, "database", NULL, "out of memory");
			goto out;
		}
		if (bytes > FRAME_PAYLOAD_MAX) {
			result_deny(res, "too_large", NULL,
			    "reply larger than %d bytes", FRAME_PAYLOAD_MAX);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		exec_detail(e, res, rc);
		if ((rc & 0xff) == SQLITE_INTERRUPT)
			result_deny(res, "timeout", NULL,
			    "statement ran past %u ms", m->timeout_ms);
		else
			result_deny(res, "database", NULL,
			    "database refused the message");
		goto out;
	}
	if ((res->payload = schema_canonical(reply, &res->len)) == NULL) {
		result_deny(res, "database", NULL, "out of memory");
		goto out;
	}
	if (res->len > FRAME_PAYLOAD_MAX) {
		result_deny(res, "too_large", NULL,
		    "reply larger than %d bytes", FRAME_PAYLOAD_MAX);
		goto out;
	}
	res->rows = (int64_t)json_array_size(rows);
 out:
	e->deadline_ms = 0;
	sqlite3_reset(es->stmt);
	sqlite3_clear_bindings(es->stmt);
	json_decref(rows);
	json_decref(reply);
}

/*
 * Applies one one-way inside the open transaction, under its own
 * savepoint so a failure undoes only this job. Returns 0, or -EIO with
 * res filled and *lost set when the failure took the whole transaction
 * with it (SQLite rolls back on an interrupt, I/O error or full disk).
 */
static int
exec_apply(struct exec *e, const struct exec_job *job, int *duplicate,
    struct exec_result *res, int *lost)
{
	const struct message	*m = job->msg;
	struct exec_stmt	*es = exec_stmt_of(e, m);
	const unsigned char	*was;
	char			 idhex[ID_HEXLEN + 1];
	char			 dghex[2 * SHA256_LEN + 1];
	int			 rc, dup = 0, other = 0;

	*lost = 0;
	hex_encode(job->id, ID_LEN, idhex);
	hex_encode(job->digest, SHA256_LEN, dghex);
	if ((rc = exec_step_done(e->savepoint)) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(e->applied_find, 1, idhex, ID_HEXLEN,
	    SQLITE_STATIC);
	rc = sqlite3_step(e->applied_find);
	if (rc == SQLITE_ROW) {
		dup = 1;
		/* The same id with another body: an Idempotency-Key used
		 * again for another message (NULL: applied before digests
		 * were kept). */
		was = sqlite3_column_text(e->applied_find, 0);
		other = was != NULL && strcmp((const char *)was, dghex) != 0;
	}
	sqlite3_reset(e->applied_find);
	sqlite3_clear_bindings(e->applied_find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (other) {
		result_deny(res, "idempotency_mismatch", NULL,
		    "a message with this Idempotency-Key was applied with "
		    "another body");
		rc = SQLITE_OK;
		goto undo;
	}
	if (!dup) {
		if (exec_bind(es, m, job->req, res) != 0) {
			sqlite3_clear_bindings(es->stmt);
			rc = SQLITE_OK;
			goto undo;
		}
		e->deadline_ms = mono_ms() + m->timeout_ms;
		rc = exec_step_done(es->stmt);
		e->deadline_ms = 0;
		sqlite3_clear_bindings(es->stmt);
		if (rc != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(e->applied_insert, 1, idhex, ID_HEXLEN,
		    SQLITE_STATIC);
		sqlite3_bind_text(e->applied_insert, 2, m->name, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(e->applied_insert, 3, (sqlite3_int64)
		    time(NULL));
		sqlite3_bind_text(e->applied_insert, 4, dghex,
		    2 * SHA256_LEN, SQLITE_STATIC);
		rc = exec_step_done(e->applied_insert);
		sqlite3_clear_bindings(e->applied_insert);
		if (rc != SQLITE_OK)
			goto fail;
	}
	if ((rc = exec_step_done(e->release)) != SQLITE_OK)
		goto fail;
	*duplicate = dup;
	return 0;
 fail:
	exec_detail(e, res, rc);
	if ((rc & 0xff) == SQLITE_INTERRUPT)
		result_deny(res, "timeout", NULL, "statement ran past %u ms",
		    m->timeout_ms);
	else
		result_deny(res, "database", NULL,
		    "database refused the message");
 undo:
	if (sqlite3_get_autocommit(e->db))
		*lost = 1;
	else if (exec_step_done(e->rollback_to) != SQLITE_OK ||
	    exec_step_done(e->release) != SQLITE_OK) {
		/* Cannot undo just this job: drop the transaction. */
		exec_step_done(e->rollback);
		*lost = 1;
	}
	return -EIO;
}

static void
exec_report(struct exec *e, const struct exec_job *job,
    struct exec_result *res)
{
	e->done(e->arg, job, res);
	free(res->payload);
	res->payload = NULL;
}

static void
exec_drop(struct exec *e, size_t i)
{
	json_decref(e->pending[i].job.req);
	memmove(&e->pending[i], &e->pending[i + 1],
	    (e->npending - i - 1) * sizeof(e->pending[0]));
	e->npending--;
}

static int
exec_begin(struct exec *e, struct exec_result *res)
{
	int	 rc;

	if ((rc = exec_step_done(e->begin)) == SQLITE_OK)
		return 0;
	exec_detail(e, res, rc);
	result_deny(res, "database", NULL, "database refused the message");
	return -EIO;
}

/* Denies every pending job with res (a failed BEGIN or COMMIT). */
static void
exec_fail_all(struct exec *e, struct exec_result *res)
{
	while (e->npending > 0) {
		exec_report(e, &e->pending[0].job, res);
		exec_drop(e, 0);
	}
}

/*
 * The transaction was lost under the pending jobs: apply them again in a
 * new one. Each failure removes one job, so this ends.
 */
static void
exec_replay(struct exec *e)
{
	struct exec_result	 res;
	size_t			 i;
	int			 lost, dup;

 again:
	if (e->npending == 0)
		return;
	result_init(&res);
	if (exec_begin(e, &res) != 0) {
		exec_fail_all(e, &res);
		return;
	}
	for (i = 0; i < e->npending; ) {
		result_init(&res);
		if (exec_apply(e, &e->pending[i].job, &dup, &res, &lost) == 0) {
			e->pending[i++].duplicate = dup;
			continue;
		}
		exec_report(e, &e->pending[i].job, &res);
		exec_drop(e, i);
		if (lost)
			goto again;
	}
}

static void
exec_oneway(struct exec *e, const struct exec_job *job)
{
	struct exec_result	 res;
	struct exec_pending	*p;
	int			 lost, dup;

	result_init(&res);
	/* A transaction without pending one-ways is a batch's read
	 * transaction: end it, writes take the write lock up front. */
	if (!sqlite3_get_autocommit(e->db) && e->npending == 0)
		exec_step_done(e->commit);
	if (sqlite3_get_autocommit(e->db)) {
		if (e->npending != 0)
			fatalx("exec: pending one-ways outside a transaction");
		if (exec_begin(e, &res) != 0) {
			exec_report(e, job, &res);
			return;
		}
	}
	if (exec_apply(e, job, &dup, &res, &lost) != 0) {
		exec_report(e, job, &res);
		if (lost)
			exec_replay(e);
		return;
	}
	p = &e->pending[e->npending++];
	p->job = *job;
	p->duplicate = dup;
	json_incref(p->job.req);
	if (e->npending == EXEC_BATCH_MAX)
		exec_commit(e);
}

void
exec_commit(struct exec *e)
{
	struct exec_result	 res;
	size_t			 i;
	int			 rc;

	if (sqlite3_get_autocommit(e->db)) {
		if (e->npending != 0)
			fatalx("exec: pending one-ways outside a transaction");
		return;
	}
	result_init(&res);
	if ((rc = exec_step_done(e->commit)) != SQLITE_OK) {
		exec_detail(e, &res, rc);
		result_deny(&res, "database", NULL,
		    "database refused the message");
		if (!sqlite3_get_autocommit(e->db))
			exec_step_done(e->rollback);
		exec_fail_all(e, &res);
		return;
	}
	/* Durable now (synchronous=FULL): only now may acks leave. */
	for (i = 0; i < e->npending; i++) {
		result_init(&res);
		res.duplicate = e->pending[i].duplicate;
		res.payload = e->pending[i].duplicate ?
		    strdup("{\"status\":\"duplicate\"}") :
		    strdup("{\"status\":\"applied\"}");
		if (res.payload == NULL)
			result_deny(&res, "database", NULL, "out of memory");
		else
			res.len = strlen(res.payload);
		exec_report(e, &e->pending[i].job, &res);
		json_decref(e->pending[i].job.req);
	}
	e->npending = 0;
}

void
exec_run(struct exec *e, const struct exec_job *job)
{
	struct exec_result	 res;

	if (job->msg->oneway) {
		exec_oneway(e, job);
		return;
	}
	/* A reply never shows data not yet durable: commit one-ways first. */
	if (e->npending > 0)
		exec_commit(e);
	/*
	 * The requests of a batch share one read transaction, ended by
	 * exec_commit after the batch: one lock and one change check for the
	 * batch instead of per statement. If BEGIN fails, autocommit serves.
	 */
	if (sqlite3_get_autocommit(e->db))
		exec_step_done(e->begin_read);
	result_init(&res);
	exec_request(e, job, &res);
	exec_report(e, job, &res);
}

int64_t
exec_prune(struct exec *e, int64_t cutoff)
{
	int	 rc;

	if (e->npending != 0 || !sqlite3_get_autocommit(e->db))
		return -EBUSY;
	sqlite3_bind_int64(e->applied_prune, 1, cutoff);
	rc = exec_step_done(e->applied_prune);
	sqlite3_clear_bindings(e->applied_prune);
	if (rc != SQLITE_OK)
		return -EIO;
	return sqlite3_changes64(e->db);
}

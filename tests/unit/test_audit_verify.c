/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the signed journal: chain, checkpoints, rotation, resume, syslog, and every tamper case. */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"

#define MAXLINES	4096
#define MAXFILES	8

static char	 tmpdir[64];
static EVP_PKEY	*outer_key, *inner_key;

/* A journal held in memory: files of lines, to tamper with. */
struct jfile {
	char	 name[PATH_MAX];
	char	*lines[MAXLINES];
	int	 n;
	int	 torn;		/* the last line lost its '\n' */
};

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_audit_verify.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	outer_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	inner_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return outer_key != NULL && inner_key != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	(void)state;
	EVP_PKEY_free(outer_key);
	EVP_PKEY_free(inner_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);
}

static void
load(struct jfile *f, const char *path)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", strrchr(path, '/') + 1);
	assert_non_null(fp = fopen(path, "r"));
	while ((n = getline(&line, &cap, fp)) > 0) {
		assert_true(f->n < MAXLINES);
		assert_int_equal(line[n - 1], '\n');
		line[n - 1] = '\0';
		assert_non_null(f->lines[f->n++] = strdup(line));
	}
	free(line);
	fclose(fp);
}

static void
jfree(struct jfile *f, int n)
{
	int	 i, k;

	for (k = 0; k < n; k++)
		for (i = 0; i < f[k].n; i++)
			free(f[k].lines[i]);
}

static void
jcopy(struct jfile *dst, const struct jfile *src, int n)
{
	int	 i, k;

	for (k = 0; k < n; k++) {
		dst[k] = src[k];
		for (i = 0; i < src[k].n; i++)
			assert_non_null(dst[k].lines[i] =
			    strdup(src[k].lines[i]));
	}
}

/* Verifies files in order; returns 0 or -EBADMSG and the message. */
static int
verify(struct jfile *f, int nf, EVP_PKEY *key, int live, char *err,
    size_t errsize)
{
	struct audit_verify	*v;
	char			 buf[AUDIT_LINE_MAX + 2];
	size_t			 len;
	int			 i, k, r = 0;

	assert_int_equal(audit_verify_new(key, live, &v), 0);
	for (k = 0; k < nf && r == 0; k++) {
		r = audit_verify_file(v, f[k].name);
		for (i = 0; i < f[k].n && r == 0; i++) {
			len = strlen(f[k].lines[i]);
			memcpy(buf, f[k].lines[i], len);
			if (!(f[k].torn && i == f[k].n - 1))
				buf[len++] = '\n';
			r = audit_verify_line(v, buf, len);
		}
	}
	if (r == 0)
		r = audit_verify_end(v);
	if (r != 0)
		snprintf(err, errsize, "%s", audit_verify_error(v));
	else
		assert_int_equal(audit_verify_summary(v, err, errsize), 0);
	audit_verify_free(v);
	return r;
}

static void
expect_fail(struct jfile *f, int nf, EVP_PKEY *key, const char *where,
    const char *what)
{
	char	 err[1024];

	assert_int_equal(verify(f, nf, key, 0, err, sizeof(err)), -EBADMSG);
	if (strncmp(err, where, strlen(where)) != 0 ||
	    strstr(err, what) == NULL)
		fail_msg("got \"%s\", wanted \"%s...%s\"", err, where, what);
}

static void
append_n(struct audit *a, int n, const char *type)
{
	struct audit_record	 rec;
	uint8_t			 id[ID_LEN];
	int			 i;

	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.id = id;
	rec.peer = "wechat-app";
	rec.type = type;
	rec.size = rec.rows = rec.latency_us = -1;
	for (i = 0; i < n; i++) {
		memset(id, i, sizeof(id));
		rec.decision = i % 3 == 0 ? "deny" : "allow";
		rec.reason = i % 3 == 0 ? "schema" : NULL;
		assert_int_equal(audit_append(a, &rec), 0);
	}
}

/*
 * The fixture: an outer journal of 3 files (rotated by size), checkpoints
 * every 4 records, closed. Loaded as f[0..2] in chain order.
 */
static int
make_journal(const char *dir, struct jfile *f)
{
	struct audit		*a;
	struct audit_config	 cfg;
	char			 path[PATH_MAX], p[PATH_MAX + 16];
	int			 k;

	memset(&cfg, 0, sizeof(cfg));
	cfg.checkpoint_records = 4;
	cfg.rotate_bytes = 2500;
	path_in(path, dir);
	assert_int_equal(mkdir(path, 0700), 0);
	strcat(path, "/outer.audit");
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg, &a),
	    0);
	append_n(a, 17, "bill.query");
	audit_close(a);
	for (k = 0; k < MAXFILES - 1; k++) {
		snprintf(p, sizeof(p), "%s.%06d", path, k);
		if (access(p, F_OK) != 0)
			break;
		load(&f[k], p);
	}
	load(&f[k], path);
	assert_non_null(strstr(f[1].lines[0], "\"event\":\"file\","
	    "\"file\":1}"));
	assert_true(k + 1 >= 3);
	return k + 1;
}

static struct jfile	 base[MAXFILES];
static int		 nbase;

static void
test_intact(void **state)
{
	char	 msg[1024];

	(void)state;
	nbase = make_journal("base", base);
	assert_int_equal(verify(base, nbase, outer_key, 0, msg, sizeof(msg)),
	    0);
	assert_non_null(strstr(msg, "outer journal intact"));
	assert_non_null(strstr(msg, "records (n 0.."));
	/* Every file ends at a checkpoint, the last at its closing one. */
	assert_non_null(strstr(base[0].lines[base[0].n - 1],
	    "\"reason\":\"rotate\""));
	assert_non_null(strstr(base[nbase - 1].lines[base[nbase - 1].n - 1],
	    "\"reason\":\"close\""));
	/* The chain alone, without a key, also holds. */
	assert_int_equal(verify(base, nbase, NULL, 0, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "signatures not checked"));
}

static void
test_changed_field(void **state)
{
	struct jfile	 t[MAXFILES];
	char		*p;

	(void)state;
	jcopy(t, base, nbase);
	assert_non_null(p = strstr(t[0].lines[2], "wechat-app"));
	p[0] = 'W';
	expect_fail(t, nbase, outer_key, "outer.audit.000000:3: ",
	    "record changed");
	jfree(t, nbase);
	/* A field of the record just before a checkpoint. */
	jcopy(t, base, nbase);
	assert_non_null(p = strstr(t[1].lines[t[1].n - 2], "\"n\":"));
	assert_non_null(p = strstr(t[1].lines[t[1].n - 2], "\"side\":\"o"));
	p[9] = 'O';	/* "outer" -> "Outer": no longer a record */
	expect_fail(t, nbase, outer_key, "outer.audit.000001:", "not a "
	    "journal record");
	jfree(t, nbase);
}

static void
test_deleted(void **state)
{
	struct jfile	 t[MAXFILES];

	(void)state;
	jcopy(t, base, nbase);
	free(t[0].lines[3]);
	memmove(&t[0].lines[3], &t[0].lines[4],
	    (size_t)(t[0].n - 4) * sizeof(char *));
	t[0].n--;
	expect_fail(t, nbase, outer_key, "outer.audit.000000:4: ",
	    "removed before this line");
	jfree(t, nbase);
}

static void
test_inserted(void **state)
{
	struct jfile	 t[MAXFILES];

	(void)state;
	/* A copy of a record, placed again. */
	jcopy(t, base, nbase);
	memmove(&t[0].lines[4], &t[0].lines[3],
	    (size_t)(t[0].n - 3) * sizeof(char *));
	assert_non_null(t[0].lines[3] = strdup(t[0].lines[4]));
	t[0].n++;
	expect_fail(t, nbase, outer_key, "outer.audit.000000:5: ",
	    "inserted");
	jfree(t, nbase);
	/* A forged line. */
	jcopy(t, base, nbase);
	memmove(&t[0].lines[4], &t[0].lines[3],
	    (size_t)(t[0].n - 3) * sizeof(char *));
	assert_non_null(t[0].lines[3] = strdup("{\"event\":\"request\"}"));
	t[0].n++;
	expect_fail(t, nbase, outer_key, "outer.audit.000000:4: ",
	    "not a journal record (inserted");
	jfree(t, nbase);
}

static void
test_swapped(void **state)
{
	struct jfile	 t[MAXFILES];
	char		*x;

	(void)state;
	jcopy(t, base, nbase);
	x = t[0].lines[2];
	t[0].lines[2] = t[0].lines[3];
	t[0].lines[3] = x;
	expect_fail(t, nbase, outer_key, "outer.audit.000000:3: ",
	    "out of order");
	jfree(t, nbase);
}

static void
test_truncated(void **state)
{
	struct jfile	 t[MAXFILES];
	char		 msg[1024], *p;
	int		 i, L = nbase - 1;

	(void)state;
	/* Cut inside the last line. */
	jcopy(t, base, nbase);
	t[L].lines[t[L].n - 1][20] = '\0';
	t[L].torn = 1;
	expect_fail(t, nbase, outer_key, "outer.audit:", "truncated record");
	jfree(t, nbase);
	/* Whole lines cut after a checkpoint. */
	jcopy(t, base, nbase);
	do
		free(t[L].lines[--t[L].n]);
	while (strstr(t[L].lines[t[L].n - 1], "checkpoint") != NULL);
	expect_fail(t, nbase, outer_key, "outer.audit:", "truncated tail");
	/* ... which a live journal may have. */
	assert_int_equal(verify(t, nbase, outer_key, 1, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "not yet signed"));
	jfree(t, nbase);
	/* Cut exactly at an interval checkpoint. */
	jcopy(t, base, nbase);
	for (i = t[L].n - 2; i > 0; i--)
		if (strstr(t[L].lines[i], "\"interval\"") != NULL)
			break;
	assert_true(i > 0);
	while (t[L].n > i + 1)
		free(t[L].lines[--t[L].n]);
	expect_fail(t, nbase, outer_key, "outer.audit:", "interval "
	    "checkpoint, not a closing one");
	assert_int_equal(verify(t, nbase, outer_key, 1, msg, sizeof(msg)), 0);
	/* ... and its reason changed to pass for the closing one. */
	p = strstr(t[L].lines[i], "interval\"");
	memcpy(p, "close", 5);
	memmove(p + 5, p + 8, strlen(p + 8) + 1);
	expect_fail(t, nbase, outer_key, "outer.audit:", "bad checkpoint "
	    "signature");
	jfree(t, nbase);
}

static void
test_forged_signature(void **state)
{
	struct jfile	 t[MAXFILES];
	char		*p;
	int		 i, L = nbase - 1;

	(void)state;
	jcopy(t, base, nbase);
	for (i = 0; strstr(t[1].lines[i], "checkpoint") == NULL; i++)
		;
	assert_non_null(p = strstr(t[1].lines[i], "\"sig\":\""));
	p[7] = p[7] == '0' ? '1' : '0';
	expect_fail(t, nbase, outer_key, "outer.audit.000001:",
	    "bad checkpoint signature");
	jfree(t, nbase);
	/* The checkpoint's time is signed too. */
	jcopy(t, base, nbase);
	assert_non_null(p = strstr(t[L].lines[t[L].n - 1], "\"time\":\""));
	p[8] = p[8] == '1' ? '2' : '1';
	expect_fail(t, nbase, outer_key, "outer.audit:",
	    "bad checkpoint signature");
	jfree(t, nbase);
}

static void
test_other_key(void **state)
{
	(void)state;
	expect_fail(base, nbase, inner_key, "outer.audit.000000:",
	    "bad checkpoint signature: forged, or not this side's key");
}

static void
test_rotation(void **state)
{
	struct jfile	 t[MAXFILES];

	(void)state;
	/* A file missing from the middle. */
	memcpy(t, base, sizeof(t));
	memmove(&t[1], &t[2], (size_t)(nbase - 2) * sizeof(t[0]));
	expect_fail(t, nbase - 1, outer_key, nbase == 3 ? "outer.audit:1: " :
	    "outer.audit.000002:1: ", "file 2 follows file 0 (a file is "
	    "missing)");
	/* The last file missing. */
	expect_fail(base, nbase - 1, outer_key, "outer.audit.0000",
	    "the next file is missing");
	/* Files given out of order (the tool sorts them; the library
	 * does not). */
	memcpy(t, base, sizeof(t));
	t[0] = base[1];
	t[1] = base[0];
	expect_fail(t, nbase, outer_key, "outer.audit.000000:1: ",
	    "files out of order");
	/* An empty file among them. */
	memcpy(t, base, sizeof(t));
	memmove(&t[2], &t[1], (size_t)(nbase - 1) * sizeof(t[0]));
	memset(&t[1], 0, sizeof(t[0]));
	strcpy(t[1].name, "empty.audit");
	expect_fail(t, nbase + 1, outer_key, "empty.audit:0: ",
	    "an empty file");
	/* A file whose rotation checkpoint was cut off. */
	jcopy(t, base, nbase);
	free(t[0].lines[--t[0].n]);
	expect_fail(t, nbase, outer_key, "outer.audit.000000:",
	    "does not end with its rotation checkpoint");
	jfree(t, nbase);
	/* A file whose first record was removed. */
	jcopy(t, base, nbase);
	free(t[1].lines[0]);
	memmove(&t[1].lines[0], &t[1].lines[1],
	    (size_t)(t[1].n - 1) * sizeof(char *));
	t[1].n--;
	expect_fail(t, nbase, outer_key, "outer.audit.000001:1: ",
	    "does not start with its file record");
	jfree(t, nbase);
}

/* A crash leaves records after the last checkpoint; reopening continues
 * the chain and the next checkpoint signs them. */
static void
test_resume(void **state)
{
	struct audit	*a;
	struct jfile	 f;
	char		 path[PATH_MAX], msg[1024];
	FILE		*fp;
	off_t		 size;
	int		 i;

	(void)state;
	path_in(path, "resume.audit");
	assert_int_equal(audit_open_signed(path, "inner", inner_key, NULL, &a),
	    0);
	append_n(a, 5, "iotcard.usage");
	audit_close(a);
	/* Drop the closing checkpoint: a crash after five records. */
	load(&f, path);
	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < f.n - 1; i++)
		fprintf(fp, "%s\n", f.lines[i]);
	fclose(fp);
	jfree(&f, 1);
	assert_int_equal(audit_open_signed(path, "inner", inner_key, NULL, &a),
	    0);
	append_n(a, 2, "iotcard.usage");
	assert_int_equal(audit_checkpoint(a), 0);
	assert_int_equal(audit_checkpoint(a), 0);	/* nothing unsigned */
	audit_close(a);
	load(&f, path);
	assert_int_equal(f.n, 1 + 5 + 2 + 1 + 1);
	assert_int_equal(verify(&f, 1, inner_key, 0, msg, sizeof(msg)), 0);
	assert_int_equal(verify(&f, 1, outer_key, 0, msg, sizeof(msg)),
	    -EBADMSG);
	jfree(&f, 1);
	/* A torn last line is not continued: nothing could chain to it. */
	assert_non_null(fp = fopen(path, "a"));
	fputs("{\"n\":99", fp);
	fclose(fp);
	assert_int_equal(audit_open_signed(path, "inner", inner_key, NULL, &a),
	    -EBADMSG);
	/* Nor is a journal of the other side. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(audit_open(path, "outer", &a), 0);
	append_n(a, 1, "bill.query");
	audit_close(a);
	assert_int_equal(audit_open(path, "inner", &a), -EBADMSG);
	/* A journal opened and closed with nothing to say stays empty. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(audit_open_signed(path, "inner", inner_key, NULL, &a),
	    0);
	audit_close(a);
	load(&f, path);
	assert_int_equal(f.n, 0);
	(void)size;
}

/* Verifies the rotated files of path and path itself, in order. */
static void
expect_ok_files(const char *path, EVP_PKEY *key, int want_files)
{
	struct jfile	 f[MAXFILES];
	char		 p[PATH_MAX + 16], msg[1024];
	int		 k;

	for (k = 0; k < MAXFILES - 1; k++) {
		snprintf(p, sizeof(p), "%s.%06d", path, k);
		if (access(p, F_OK) != 0)
			break;
		load(&f[k], p);
	}
	load(&f[k], path);
	assert_int_equal(k + 1, want_files);
	if (verify(f, k + 1, key, 0, msg, sizeof(msg)) != 0)
		fail_msg("%s", msg);
	jfree(f, k + 1);
}

/* A restart just after a rotation (the new file not yet written, or
 * gone) continues the chain from the newest rotated file; so does a
 * rotation by age, from the timer. */
static void
test_rotation_restart(void **state)
{
	struct audit		*a;
	struct audit_config	 cfg;
	char			 path[PATH_MAX];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rotate_bytes = 1000;
	path_in(path, "rr");
	assert_int_equal(mkdir(path, 0700), 0);
	strcat(path, "/outer.audit");
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg, &a),
	    0);
	append_n(a, 6, "bill.query");	/* past 1000 bytes: rotated once */
	audit_close(a);
	expect_ok_files(path, outer_key, 2);
	assert_int_equal(unlink(path), 0);	/* as if never written */
	cfg.rotate_bytes = 0;
	cfg.rotate_secs = 1;
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg, &a),
	    0);
	append_n(a, 2, "bill.query");
	assert_int_equal(audit_tick(a), 0);	/* not yet a second old */
	usleep(1100 * 1000);
	assert_int_equal(audit_tick(a), 0);	/* rotates: file 2 starts */
	audit_close(a);
	expect_ok_files(path, outer_key, 3);
}

static void
test_tick(void **state)
{
	struct audit		*a;
	struct audit_config	 cfg;
	struct jfile		 f;
	char			 path[PATH_MAX];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.checkpoint_ms = 20;
	cfg.sync = 1;
	path_in(path, "tick.audit");
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg,
	    &a), 0);
	append_n(a, 1, "bill.query");
	assert_int_equal(audit_tick(a), 0);	/* not yet due */
	usleep(30 * 1000);
	assert_int_equal(audit_tick(a), 0);
	load(&f, path);
	assert_int_equal(f.n, 3);
	assert_non_null(strstr(f.lines[2], "\"reason\":\"interval\""));
	jfree(&f, 1);
	audit_close(a);
}

static void
test_syslog(void **state)
{
	struct audit		*a;
	struct audit_config	 cfg;
	struct sockaddr_un	 sun;
	struct jfile		 f;
	char			 path[PATH_MAX], sock[PATH_MAX], msg[4096];
	const char		*body;
	ssize_t			 n;
	int			 s;

	(void)state;
	path_in(sock, "log.sock");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	assert_true((s = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.syslog = sock;
	path_in(path, "syslog.audit");
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg,
	    &a), 0);
	append_n(a, 1, "bill.query");
	audit_close(a);
	load(&f, path);
	assert_int_equal(f.n, 3);	/* file, record, checkpoint */
	/* Each line went out as one RFC 5424 message, in order. */
	for (int i = 0; i < 3; i++) {
		n = recv(s, msg, sizeof(msg) - 1, MSG_DONTWAIT);
		assert_true(n > 0);
		msg[n] = '\0';
		assert_memory_equal(msg, "<134>1 ", 7);
		assert_non_null(strstr(msg, " isogate-outer "));
		assert_non_null(body = strstr(msg, " audit - "));
		assert_string_equal(body + 9, f.lines[i]);
	}
	assert_int_equal(recv(s, msg, sizeof(msg), MSG_DONTWAIT), -1);
	jfree(&f, 1);
	/* syslogd gone: the journal is still written, the copy counted. */
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg,
	    &a), 0);
	close(s);
	unlink(sock);
	append_n(a, 2, "bill.query");
	assert_int_equal(audit_syslog_dropped(a), 2);
	audit_close(a);
	load(&f, path);
	assert_int_equal(f.n, 3 + 2 + 1);
	jfree(&f, 1);
	/* A socket that is not there at start is an error. */
	assert_int_equal(audit_open_signed(path, "outer", outer_key, &cfg,
	    &a), -ENOENT);
}

static void
test_parse(void **state)
{
	struct audit_head	 h;
	uint64_t		 file;
	uint8_t			 sig[AUDIT_SIG_LEN];
	char			 reason[16];
	const char		*ok = "{\"n\":7,\"prev\":\"00000000000000000000"
	    "000000000000000000000000000000000000000000ff\",\"time\":"
	    "\"2026-11-22T02:15:59.123456Z\",\"side\":\"inner\",\"event\":"
	    "\"file\",\"file\":3}";
	char			 bad[512];

	(void)state;
	assert_int_equal(audit_parse_head(ok, strlen(ok), &h), 0);
	assert_int_equal(h.n, 7);
	assert_int_equal(h.prev[31], 0xff);
	assert_string_equal(h.side, "inner");
	assert_string_equal(h.event, "file");
	assert_int_equal(audit_parse_file(&h, &file), 0);
	assert_int_equal(file, 3);
	assert_int_equal(audit_parse_checkpoint(&h, &file, reason, sig),
	    -EBADMSG);
	/* Leading zeros, overflow, upper-case hex, a short line. */
	snprintf(bad, sizeof(bad), "%s", ok);
	memcpy(bad + 5, "07", 2);
	assert_int_equal(audit_parse_head(bad, strlen(bad), &h), -EBADMSG);
	snprintf(bad, sizeof(bad), "{\"n\":99999999999999999999%s", ok + 6);
	assert_int_equal(audit_parse_head(bad, strlen(bad), &h), -EBADMSG);
	snprintf(bad, sizeof(bad), "%s", ok);
	bad[strlen("{\"n\":7,\"prev\":\"")] = 'A';
	assert_int_equal(audit_parse_head(bad, strlen(bad), &h), -EBADMSG);
	assert_int_equal(audit_parse_head(ok, 30, &h), -EBADMSG);
	/* Whatever follows the head must be members, then '}'. */
	snprintf(bad, sizeof(bad), "%.*s,x}", (int)(strlen(ok) - 10), ok);
	assert_int_equal(audit_parse_head(bad, strlen(bad), &h), 0);
	assert_int_equal(audit_parse_file(&h, &file), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_changed_field),
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_inserted),
		cmocka_unit_test(test_swapped),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_forged_signature),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_rotation_restart),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_syslog),
		cmocka_unit_test(test_parse),
	};
	int	 r;

	r = cmocka_run_group_tests(tests, setup, teardown);
	jfree(base, nbase);
	return r;
}

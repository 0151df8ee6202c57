/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the audit journal: layout, escaping, files, errors. */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/audit.h"

static char	 tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_audit.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	umask(022);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*text;
	size_t	 n;

	assert_non_null(f = fopen(path, "r"));
	assert_non_null(text = calloc(1, 1 << 16));
	n = fread(text, 1, (1 << 16) - 1, f);
	assert_false(ferror(f));
	text[n] = '\0';
	fclose(f);
	return text;
}

/* Strips the leading "n", "prev" and "time" members after checking their
 * form. */
static const char *
after_time(const char *line)
{
	regex_t		 re;
	regmatch_t	 m;

	assert_int_equal(regcomp(&re, "^\\{\"n\":(0|[1-9][0-9]*),"
	    "\"prev\":\"[0-9a-f]{64}\",\"time\":\"[0-9]{4}-[0-9]{2}-"
	    "[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z\",", REG_EXTENDED),
	    0);
	assert_int_equal(regexec(&re, line, 1, &m, 0), 0);
	regfree(&re);
	return line + m.rm_eo;
}

/* Line k (from 0) of text. */
static char *
nth_line(char *text, int k)
{
	char	*p = text;

	while (k-- > 0) {
		assert_non_null(p = strchr(p, '\n'));
		p++;
	}
	return p;
}

/* Checks the chain of an unsigned journal with the library's verifier. */
static int
verify_chain(const char *path)
{
	struct audit_verify	*v;
	struct audit_reader	*rd;
	const char		*line;
	size_t			 len;
	int			 r;

	assert_int_equal(audit_verify_new(NULL, 0, &v), 0);
	assert_int_equal(audit_reader_open(path, &rd), 0);
	r = audit_verify_file(v, path);
	while (r == 0 && audit_reader_next(rd, &line, &len) == 1)
		r = audit_verify_line(v, line, len);
	if (r == 0)
		r = audit_verify_end(v);
	audit_reader_close(rd);
	audit_verify_free(v);
	return r;
}

static void
test_full_record(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	uint8_t			 id[ID_LEN], digest[SHA256_LEN];
	char			 path[PATH_MAX], *text;
	struct stat		 st;
	size_t			 i;

	(void)state;
	for (i = 0; i < ID_LEN; i++)
		id[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < SHA256_LEN; i++)
		digest[i] = (uint8_t)i;
	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.id = id;
	rec.peer = "wechat-app";
	rec.addr = "127.0.0.1";
	rec.type = "bill.query";
	rec.decision = "deny";
	rec.reason = "schema";
	rec.field = "month";
	rec.digest = digest;
	rec.size = 42;
	rec.rows = 3;
	rec.status = 400;
	rec.latency_us = 1234;

	/* The parent directories do not exist yet. */
	path_in(path, "a/b/outer.audit");
	assert_int_equal(audit_open(path, "outer", &a), 0);
	assert_int_equal(audit_append(a, &rec), 0);
	audit_close(a);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	text = slurp(path);
	/* A new journal starts with its file record. */
	assert_int_equal(strncmp(after_time(text), "\"side\":\"outer\","
	    "\"event\":\"file\",\"file\":0}\n", 40), 0);
	assert_string_equal(after_time(nth_line(text, 1)),
	    "\"side\":\"outer\",\"event\":\"request\","
	    "\"id\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\","
	    "\"peer\":\"wechat-app\",\"addr\":\"127.0.0.1\","
	    "\"type\":\"bill.query\",\"decision\":\"deny\","
	    "\"reason\":\"schema\",\"field\":\"month\",\"status\":400,"
	    "\"digest\":\"000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f\","
	    "\"size\":42,\"rows\":3,\"latency_us\":1234}\n");
	free(text);
}

static void
test_absent_fields(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	char			 path[PATH_MAX], *text, *nl;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.event = "frame";
	rec.size = -1;
	rec.rows = -1;
	rec.latency_us = -1;
	path_in(path, "min.audit");
	assert_int_equal(audit_open(path, "inner", &a), 0);
	assert_int_equal(audit_append(a, &rec), 0);
	/* Zero is a value for numbers, only status 0 means "none". */
	rec.size = 0;
	rec.rows = 0;
	rec.latency_us = 0;
	assert_int_equal(audit_append(a, &rec), 0);
	audit_close(a);
	text = slurp(path);
	assert_non_null(nl = strchr(nth_line(text, 1), '\n'));
	*nl = '\0';
	assert_string_equal(after_time(nth_line(text, 1)),
	    "\"side\":\"inner\",\"event\":\"frame\"}");
	assert_string_equal(after_time(nl + 1), "\"side\":\"inner\","
	    "\"event\":\"frame\",\"size\":0,\"rows\":0,\"latency_us\":0}\n");
	free(text);
}

static void
test_appends(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	char			 path[PATH_MAX], *text, *p;
	int			 lines = 0, i;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.event = "execute";
	rec.size = rec.rows = rec.latency_us = -1;
	path_in(path, "append.audit");
	for (i = 0; i < 3; i++) {
		assert_int_equal(audit_open(path, "inner", &a), 0);
		assert_int_equal(audit_append(a, &rec), 0);
		assert_int_equal(audit_append(a, &rec), 0);
		audit_close(a);
	}
	text = slurp(path);
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			lines++;
	/* The file record, then six: each reopening continued the chain. */
	assert_int_equal(lines, 7);
	free(text);
	assert_int_equal(verify_chain(path), 0);
}

static void
test_escaping(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	char			 path[PATH_MAX], *text, *nl;
	json_t			*o;
	json_error_t		 jerr;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.peer = "evil\"peer\\\n{\x01}";
	rec.type = "caf\xc3\xa9";		/* valid UTF-8 is kept */
	rec.reason = "bad\xff\xfe utf8 \xc3\xa9";	/* invalid: '?' */
	rec.addr = "\xed\xa0\x80x\xc0\xaf";	/* surrogate, overlong */
	rec.field = "\xf4\x90\x80\x80 \xe2\x82";	/* > U+10FFFF, cut */
	rec.size = rec.rows = rec.latency_us = -1;
	path_in(path, "esc.audit");
	assert_int_equal(audit_open(path, "outer", &a), 0);
	assert_int_equal(audit_append(a, &rec), 0);
	audit_close(a);
	text = slurp(path);
	nl = strchr(nth_line(text, 1), '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');	/* exactly one line after the mark */
	o = json_loads(nth_line(text, 1), 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "peer")),
	    "evil\"peer\\\n{\x01}");
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "caf\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
	    "bad?? utf8 ??");
	assert_string_equal(json_string_value(json_object_get(o, "addr")),
	    "???x??");
	assert_string_equal(json_string_value(json_object_get(o, "field")),
	    "???? ??");
	json_decref(o);
	free(text);
}

static void
test_long_string(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	char			 path[PATH_MAX], *text, big[2000];
	const char		*v;
	json_t			*o;
	size_t			 i;

	(void)state;
	/* 'x' then two-byte characters: the 512-byte cut splits one. */
	big[0] = 'x';
	for (i = 1; i + 1 < sizeof(big) - 1; i += 2) {
		big[i] = '\xc3';
		big[i + 1] = '\xa9';
	}
	big[i] = '\0';
	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.field = big;
	rec.size = rec.rows = rec.latency_us = -1;
	path_in(path, "long.audit");
	assert_int_equal(audit_open(path, "outer", &a), 0);
	assert_int_equal(audit_append(a, &rec), 0);
	audit_close(a);
	text = slurp(path);
	assert_non_null(o = json_loads(nth_line(text, 1), 0, NULL));
	v = json_string_value(json_object_get(o, "field"));
	assert_non_null(v);
	assert_int_equal(strlen(v), 511);	/* cut before the split char */
	assert_memory_equal(v, big, 511);
	json_decref(o);
	free(text);
}

/* "audit content": the payload kept whole, escaped, never altered. */
static void
test_content(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	char			 path[PATH_MAX], *text, *big;
	const char		*payload = "{\"a\":\"caf\xc3\xa9 \\\"q\\\"\",\"n\":1}";
	json_t			*o;
	size_t			 i;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.event = "execute";
	rec.size = rec.rows = rec.latency_us = -1;
	rec.content = payload;
	rec.content_len = strlen(payload);
	path_in(path, "content.audit");
	assert_int_equal(audit_open(path, "inner", &a), 0);
	assert_int_equal(audit_append(a, &rec), 0);
	/* Not UTF-8: refused, not repaired. */
	rec.content = "{\"a\":\"\xff\"}";
	rec.content_len = strlen(rec.content);
	assert_int_equal(audit_append(a, &rec), -EILSEQ);
	/* Longer than a line can hold: refused, not cut. */
	assert_non_null(big = malloc(70000));
	for (i = 0; i < 70000; i++)
		big[i] = 'x';
	rec.content = big;
	rec.content_len = 70000;
	assert_int_equal(audit_append(a, &rec), -ENOBUFS);
	free(big);
	audit_close(a);
	text = slurp(path);
	assert_null(strchr(nth_line(text, 2), '\n'));	/* two lines */
	assert_non_null(o = json_loads(nth_line(text, 1), 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, "content")),
	    payload);
	json_decref(o);
	free(text);
	assert_int_equal(verify_chain(path), 0);
}

static void
test_open_errors(void **state)
{
	struct audit	*a = (struct audit *)0x1;
	char		 path[PATH_MAX], file[PATH_MAX];
	FILE		*f;

	(void)state;
	path_in(path, "x.audit");
	assert_int_equal(audit_open(path, "middle", &a), -EINVAL);
	assert_int_equal(audit_open(path, NULL, &a), -EINVAL);
	assert_int_equal(audit_open(NULL, "inner", &a), -EINVAL);
	assert_int_equal(audit_open("", "inner", &a), -EINVAL);
	/* A parent that is a regular file. */
	path_in(file, "plain");
	assert_non_null(f = fopen(file, "w"));
	fclose(f);
	path_in(path, "plain/sub/x.audit");
	assert_int_equal(audit_open(path, "inner", &a), -ENOTDIR);
	/* The journal path is a directory. */
	assert_int_equal(audit_open(tmpdir, "inner", &a), -EISDIR);
	/* Not created without the right to. */
	if (geteuid() != 0) {
		path_in(path, "ro");
		assert_int_equal(mkdir(path, 0500), 0);
		path_in(path, "ro/x.audit");
		assert_int_equal(audit_open(path, "inner", &a), -EACCES);
	}
	/* Output parameter untouched on failure. */
	assert_ptr_equal(a, (struct audit *)0x1);
}

static void
test_append_errors(void **state)
{
	struct audit		*a;
	struct audit_record	 rec;
	char			 path[PATH_MAX];

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.size = rec.rows = rec.latency_us = -1;
	/* The file record is written with the first record, so a full disk
	 * shows at the first append. */
	assert_int_equal(audit_open("/dev/full", "inner", &a), 0);
	rec.event = "frame";
	assert_int_equal(audit_append(a, &rec), -ENOSPC);
	audit_close(a);
	rec.event = NULL;
	path_in(path, "events.audit");
	assert_int_equal(audit_open(path, "inner", &a), 0);
	assert_int_equal(audit_append(a, &rec), -EINVAL);	/* no event */
	/* Events are tokens, and the journal's own marks are not theirs. */
	rec.event = "Frame";
	assert_int_equal(audit_append(a, &rec), -EINVAL);
	rec.event = "checkpoint";
	assert_int_equal(audit_append(a, &rec), -EINVAL);
	rec.event = "file";
	assert_int_equal(audit_append(a, &rec), -EINVAL);
	rec.event = "abcdefghijklmnopqrstuvwxyzabcdefg";	/* 33 */
	assert_int_equal(audit_append(a, &rec), -EINVAL);
	rec.event = "frame";
	assert_int_equal(audit_append(a, &rec), 0);
	assert_int_equal(audit_count(a), 1);
	audit_close(a);
	audit_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_record),
		cmocka_unit_test(test_absent_fields),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_string),
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_append_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

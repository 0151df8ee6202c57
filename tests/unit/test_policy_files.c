/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests of policy loading from files: key and TLS file checks, paths resolved per including file. */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "tests/unit/policy_fixtures.h"

/* A temp dir holding a policy whose outer block names keys beside it. */
struct keydir {
	char	 dir[64];
	char	 policy[PATH_MAX];
	char	 key[PATH_MAX];
	char	 pub[PATH_MAX];
};

static void
keydir_make(struct keydir *k)
{
	strcpy(k->dir, "/tmp/isogate-keys.XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	snprintf(k->policy, sizeof(k->policy), "%s/p.policy", k->dir);
	snprintf(k->key, sizeof(k->key), "%s/outer.key", k->dir);
	snprintf(k->pub, sizeof(k->pub), "%s/inner.pub", k->dir);
	write_text(k->policy, "outer {\n\tlisten 127.0.0.1:1 plain\n"
	    "\tinward \"fifo:in\"\n\toutward \"fifo:out\"\n"
	    "\tkey \"outer.key\"\n\tpeer-key \"inner.pub\"\n"
	    "\taudit \"a\"\n\tstate \"s\"\n}\n", 0644);
}

static void
keydir_remove(struct keydir *k)
{
	unlink(k->policy);
	unlink(k->key);
	rmdir(k->key);
	unlink(k->pub);
	assert_int_equal(rmdir(k->dir), 0);
}

/* Loading with POLICY_CHECK_FILES fails with one error about the key. */
static void
expect_key_error(struct keydir *k, const char *what)
{
	struct policy	*p = NULL;
	char		*errors = NULL;

	assert_int_equal(policy_load(k->policy, POLICY_CHECK_FILES, &p,
	    &errors), -EINVAL);
	assert_null(p);
	assert_fmt(errors, "%s:5: private key %s%s\n", k->policy, k->key,
	    what);
	free(errors);
}

/* The tls block's files with POLICY_CHECK_FILES: the key's mode, the others'
 * existence. */
static void
test_tls_files(void **state)
{
	static const char *const names[] = { "outer.key", "inner.pub",
	    "server.crt", "server.key", "ca.crt", "crl.pem" };
	struct policy	*p = NULL;
	char		 dir[64], path[6][PATH_MAX], policy[PATH_MAX];
	char		*errors = NULL;
	size_t		 i;

	(void)state;
	strcpy(dir, "/tmp/isogate-tls.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 6; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
		write_text(path[i], "x\n", i == 0 ? 0600 : 0644);
	}
	snprintf(policy, sizeof(policy), "%s/p.policy", dir);
	write_text(policy, "outer {\n\tlisten 127.0.0.1:1 tls {\n"
	    "\t\tcertificate \"server.crt\"\n\t\tkey \"server.key\"\n"
	    "\t\tclient-ca \"ca.crt\"\n\t\tcrl \"crl.pem\" }\n"
	    "\tinward \"fifo:in\"\n\toutward \"fifo:out\"\n"
	    "\tkey \"outer.key\"\n\tpeer-key \"inner.pub\"\n"
	    "\taudit \"a\"\n\tstate \"s\"\n}\n", 0644);
	assert_int_equal(policy_load(policy, POLICY_CHECK_FILES, &p,
	    &errors), -EINVAL);
	assert_fmt(errors, "%s:2: private key %s is readable by group or "
	    "others (chmod 600)\n", policy, path[3]);
	free(errors);
	errors = NULL;
	assert_int_equal(chmod(path[3], 0600), 0);
	assert_int_equal(policy_load(policy, POLICY_CHECK_FILES, &p,
	    &errors), 0);
	assert_true(p->outer.tls.on);
	assert_string_equal(p->outer.tls.key, path[3]);
	assert_string_equal(p->outer.tls.crl, path[5]);
	policy_free(p);
	p = NULL;
	assert_int_equal(unlink(path[5]), 0);
	assert_int_equal(policy_load(policy, POLICY_CHECK_FILES, &p,
	    &errors), -EINVAL);
	assert_fmt(errors, "%s:2: tls crl %s: No such file or directory\n",
	    policy, path[5]);
	free(errors);
	for (i = 0; i < 5; i++)
		assert_int_equal(unlink(path[i]), 0);
	unlink(policy);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_key_files(void **state)
{
	struct keydir	 k;
	struct policy	*p = NULL;
	char		*errors = NULL;

	(void)state;
	keydir_make(&k);
	/* Without the flag nothing is looked at. */
	assert_int_equal(policy_load(k.policy, 0, &p, &errors), 0);
	assert_string_equal(p->outer.key, k.key);
	policy_free(p);
	assert_int_equal(policy_load(k.policy, POLICY_CHECK_FILES, &p,
	    &errors), -EINVAL);
	assert_fmt(errors, "%s:5: private key %s: No such file or directory\n"
	    "%s:6: peer key %s: No such file or directory\n", k.policy, k.key,
	    k.policy, k.pub);
	free(errors);
	write_text(k.pub, "public\n", 0644);
	expect_key_error(&k, ": No such file or directory");
	write_text(k.key, "secret\n", 0644);
	expect_key_error(&k, " is readable by group or others (chmod 600)");
	assert_int_equal(chmod(k.key, 0604), 0);
	expect_key_error(&k, " is readable by group or others (chmod 600)");
	assert_int_equal(chmod(k.key, 0620), 0);
	expect_key_error(&k, " is writable by group or others (chmod 600)");
	assert_int_equal(chmod(k.key, 0600), 0);
	assert_int_equal(policy_load(k.policy, POLICY_CHECK_FILES, &p,
	    &errors), 0);
	policy_free(p);
	assert_int_equal(chmod(k.key, 0400), 0);
	assert_int_equal(policy_load(k.policy, POLICY_CHECK_FILES, &p,
	    &errors), 0);
	policy_free(p);
	unlink(k.key);
	assert_int_equal(mkdir(k.key, 0700), 0);
	expect_key_error(&k, " is not a regular file");
	keydir_remove(&k);
}

/* Loading with POLICY_CHECK_FILES fails with one error about the link
 * key, on line 9 (its `link` line). */
static void
expect_link_error(const char *policy, const char *key, const char *what)
{
	struct policy	*p = NULL;
	char		*errors = NULL;

	assert_int_equal(policy_load(policy, POLICY_CHECK_FILES, &p,
	    &errors), -EINVAL);
	assert_null(p);
	assert_fmt(errors, "%s:9: link key %s%s\n", policy, key, what);
	free(errors);
}

/* The eth: link key file: a secret of exactly 32 bytes. */
static void
test_link_key_file(void **state)
{
	struct keydir	 k;
	struct policy	*p = NULL;
	char		 lk[PATH_MAX], *errors = NULL;

	(void)state;
	keydir_make(&k);
	snprintf(lk, sizeof(lk), "%s/link.key", k.dir);
	write_text(k.key, "secret\n", 0600);
	write_text(k.pub, "public\n", 0644);
	write_text(k.policy, "outer {\n\tlisten 127.0.0.1:1 plain\n"
	    "\tinward \"eth:lo\"\n\toutward \"eth:lo\"\n"
	    "\tkey \"outer.key\"\n\tpeer-key \"inner.pub\"\n"
	    "\taudit \"a\"\n\tstate \"s\"\n"
	    "\tlink copies 2 key \"link.key\"\n}\n", 0644);
	expect_link_error(k.policy, lk, ": No such file or directory");
	write_text(lk, "0123456789abcdef0123456789abcdef", 0640);
	expect_link_error(k.policy, lk,
	    " is readable by group or others (chmod 600)");
	assert_int_equal(chmod(lk, 0600), 0);
	assert_int_equal(policy_load(k.policy, POLICY_CHECK_FILES, &p,
	    &errors), 0);
	assert_string_equal(p->outer.link.key, lk);
	policy_free(p);
	p = NULL;
	write_text(lk, "0123456789abcdef0123456789abcdef\n", 0600);
	expect_link_error(k.policy, lk, " must hold exactly 32 bytes "
	    "(isogate keygen --link FILE)");
	write_text(lk, "short", 0600);
	expect_link_error(k.policy, lk, " must hold exactly 32 bytes "
	    "(isogate keygen --link FILE)");
	unlink(lk);
	keydir_remove(&k);
}

/* Paths resolve against the directory of the file that names them, which
 * for an include in a subdirectory is that subdirectory. */
static void
test_paths(void **state)
{
	struct policy	*p = NULL;
	char		 dir[] = "/tmp/isogate-paths.XXXXXX", real[PATH_MAX];
	char		 path[PATH_MAX], sub[PATH_MAX];
	char		*errors = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/side.inc", dir);
	write_text(path, "key \"outer.key\"\npeer-key \"../keys//inner.pub\"\n"
	    "inward \"spool:./spool/in/\"\n", 0644);
	snprintf(path, sizeof(path), "%s/top.policy", dir);
	write_text(path, "outer {\n\tlisten [::1]:1 plain\n\tinclude "
	    "\"sub/side.inc\"\n\toutward \"eth:eth0\"\n"
	    "\taudit \"/var/log/../log/a\"\n\tstate \"s\"\n"
	    "\tlink key \"sub/../link.key\"\n}\n", 0644);
	assert_int_equal(policy_load(path, 0, &p, &errors), 0);
	assert_fmt(p->outer.key, "%s/sub/outer.key", real);
	assert_fmt(p->outer.peer_key, "%s/keys/inner.pub", real);
	assert_fmt(p->outer.inward, "spool:%s/sub/spool/in", real);
	assert_string_equal(p->outer.outward, "eth:eth0");
	assert_fmt(p->outer.link.key, "%s/link.key", real);
	assert_string_equal(p->outer.audit, "/var/log/a");
	assert_fmt(p->outer.state, "%s/s", real);
	policy_free(p);
	/* The include is named as resolved in errors. */
	write_text(path, "include \"sub/none.inc\"\n", 0644);
	assert_int_equal(policy_load(path, 0, &p, &errors), -EINVAL);
	assert_fmt(errors, "%s:1: include %s/sub/none.inc: No such "
	    "file or directory\n", path, dir);
	free(errors);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub/side.inc", dir);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
	/* A name whose directory does not exist cannot resolve paths. */
	errors = load_errors("/nonexistent/x.policy", "outer {\n\tkey "
	    "\"k\"\n}\n", 0);
	assert_string_equal(errors, "/nonexistent/x.policy:2: key: cannot "
	    "resolve /nonexistent: No such file or directory\n"
	    "/nonexistent/x.policy:1: outer block is missing listen\n"
	    "/nonexistent/x.policy:1: outer block is missing inward\n"
	    "/nonexistent/x.policy:1: outer block is missing outward\n"
	    "/nonexistent/x.policy:1: outer block is missing peer-key\n"
	    "/nonexistent/x.policy:1: outer block is missing audit\n"
	    "/nonexistent/x.policy:1: outer block is missing state\n");
	free(errors);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_tls_files),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_link_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

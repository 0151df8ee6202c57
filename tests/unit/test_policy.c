/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Policy tests: golden files, round trips, lookups, paths, key files. */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <math.h>
#include <netinet/in.h>
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

#define GOLDEN_DIR	"tests/policy"
#define GOLDEN_MIN	25

static char	 root[PATH_MAX];	/* the repository, our working dir */

/*
 * Allocation failure injection: the fail_at-th allocation from now fails
 * (0 is the next one), the others succeed. Sanitizers own malloc, so there
 * the test that uses it is skipped. OpenSSL's own allocations are left
 * alone: they happen inside sha256(), whose failure is reported as -EIO.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NO_INJECTION	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define NO_INJECTION	1
#endif
#endif

/* volatile: changed inside malloc, behind the optimiser's back */
static volatile long fail_at = -1;	/* -1: nothing fails */
static volatile int failed;		/* the injected failure happened */
static volatile long live;		/* allocations not yet freed */
static uintptr_t crypto_lo, crypto_hi;	/* libcrypto's code */

static int
find_crypto(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr)	*ph;
	int			 i;

	(void)size;
	(void)arg;
	if (strstr(info->dlpi_name, "libcrypto.so") == NULL)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		crypto_lo = info->dlpi_addr + ph->p_vaddr;
		crypto_hi = crypto_lo + ph->p_memsz;
	}
	return 1;
}

#ifndef NO_INJECTION
void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);
void	 __libc_free(void *);

static int
alloc_fails(void *caller)
{
	if (fail_at < 0 || ((uintptr_t)caller >= crypto_lo &&
	    (uintptr_t)caller < crypto_hi) || fail_at-- > 0)
		return 0;
	failed = 1;
	return 1;
}

static void *
counted(void *p)
{
	if (p != NULL)
		live++;
	return p;
}

void *
malloc(size_t n)
{
	return alloc_fails(__builtin_return_address(0)) ? NULL :
	    counted(__libc_malloc(n));
}

void *
calloc(size_t n, size_t size)
{
	return alloc_fails(__builtin_return_address(0)) ? NULL :
	    counted(__libc_calloc(n, size));
}

void *
realloc(void *p, size_t n)
{
	void	*q;

	if (alloc_fails(__builtin_return_address(0)))
		return NULL;
	if (p == NULL)
		return counted(__libc_malloc(n));
	if ((q = __libc_realloc(p, n)) == NULL && n == 0)
		live--;		/* freed */
	return q;
}

void
free(void *p)
{
	if (p != NULL)
		live--;
	__libc_free(p);
}
#endif

/* Replaces every occurrence of from in s by to; s is freed. */
static char *
replace_all(char *s, const char *from, const char *to)
{
	struct buf	 b;
	const char	*p = s, *hit;

	buf_init(&b, SIZE_MAX / 2);
	while ((hit = strstr(p, from)) != NULL) {
		assert_int_equal(buf_put(&b, p, (size_t)(hit - p)), 0);
		assert_int_equal(buf_put_str(&b, to), 0);
		p = hit + strlen(from);
	}
	assert_int_equal(buf_put_str(&b, p), 0);
	assert_int_equal(buf_put_u8(&b, '\0'), 0);
	free(s);
	return (char *)b.data;
}

static struct policy *
load_text(const char *text)
{
	struct policy	*p = NULL;
	char		*errors = NULL;
	int		 r;

	r = policy_load_buffer("text.policy", text, strlen(text), 0, &p,
	    &errors);
	if (r != 0)
		fail_msg("unexpected errors:\n%s", errors);
	assert_null(errors);
	return p;
}

/* format -> parse -> format gives the same text and the same digest. */
static void
check_round_trip(const struct policy *p)
{
	struct policy	*q = NULL;
	char		*text, *again, *errors = NULL, *msgs;
	uint8_t		 digest[SHA256_LEN];

	assert_non_null(text = policy_format(p));
	if (policy_load_buffer("roundtrip.policy", text, strlen(text), 0, &q,
	    &errors) != 0)
		fail_msg("normalised policy does not parse:\n%s\n%s", errors,
		    text);
	assert_non_null(again = policy_format(q));
	assert_string_equal(text, again);
	assert_memory_equal(p->digest, q->digest, SHA256_LEN);
	assert_non_null(msgs = policy_format_messages(p));
	sha256(msgs, strlen(msgs), digest);
	assert_memory_equal(digest, p->digest, SHA256_LEN);
	free(msgs);
	free(again);
	free(text);
	policy_free(q);
}

/* One tests/policy/NN.in: its .ok is the normalised policy or the errors,
 * with the repository's path written as @ROOT@. */
static void
test_golden(void **state)
{
	const char	*in = *state;
	struct policy	*p = NULL;
	char		 ok[PATH_MAX], *errors = NULL, *got, *want = NULL;
	size_t		 len;
	int		 r;

	r = policy_load(in, 0, &p, &errors);
	if (r == 0) {
		assert_null(errors);
		assert_non_null(got = policy_format(p));
		check_round_trip(p);
		policy_free(p);
	} else {
		assert_int_equal(r, -EINVAL);
		assert_non_null(errors);
		got = errors;
	}
	got = replace_all(got, root, "@ROOT@");
	snprintf(ok, sizeof(ok), "%.*s.ok", (int)(strlen(in) - 3), in);
	if (getenv("UPDATE_GOLDEN") != NULL) {
		write_text(ok, got, 0644);
		free(got);
		return;
	}
	if (read_file(ok, POLICY_FILE_MAX, &want, &len) != 0)
		fail_msg("%s: missing (run with UPDATE_GOLDEN=1)", ok);
	if (strcmp(got, want) != 0)
		fail_msg("%s differs; got:\n%s", ok, got);
	free(want);
	free(got);
}

static void
test_example(void **state)
{
	const struct message	*m;
	const struct peer	*pe;
	const struct statement	*st;
	const struct field	*f;
	struct policy		*p = NULL;
	char			*errors = NULL;

	(void)state;
	assert_int_equal(policy_load("policy/examples/grid.policy", 0, &p,
	    &errors), 0);
	assert_null(errors);
	assert_int_equal(p->npeers, 2);
	assert_int_equal(p->nmessages, 3);
	assert_string_equal(p->peers[0].name, "cmiot-operator");
	assert_non_null(pe = policy_peer(p, "wechat-app"));
	assert_int_equal(pe->rate, 500);
	assert_int_equal(pe->burst, 1000);
	assert_null(policy_peer(p, "nobody"));
	assert_non_null(m = policy_message(p, "bill.query"));
	assert_null(policy_message(p, "bill"));
	assert_false(m->oneway);
	assert_int_equal(m->timeout_ms, 2000);
	assert_int_equal(m->reply_max_rows, 12);
	assert_true(message_allows(m, "wechat-app"));
	assert_false(message_allows(m, "cmiot-operator"));
	assert_int_equal(m->request.nfields, 2);
	f = &m->request.fields[0];
	assert_string_equal(f->name, "customer_id");
	assert_int_equal(f->max_len, POLICY_STRING_DEFAULT);
	assert_string_equal(f->pattern, "^[0-9]{10}$");
	assert_int_equal(regexec(&f->re, "0000000001", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(&f->re, "000000001", 0, NULL, 0), 0);
	assert_int_equal(m->reply.nfields, 4);
	assert_string_equal(m->reply.fields[0].name, "amount_cents");
	assert_int_equal(m->reply.fields[0].imax, 100000000000LL);
	assert_int_equal(m->reply.fields[3].type, FIELD_BOOLEAN);
	assert_non_null(m = policy_message(p, "iotcard.usage"));
	assert_true(m->oneway);
	assert_int_equal(m->timeout_ms, POLICY_TIMEOUT_DEFAULT);
	assert_int_equal(m->reply.nfields, 0);
	f = &m->request.fields[3];
	assert_int_equal(f->type, FIELD_ENUM);
	assert_int_equal(f->nvalues, 7);
	assert_string_equal(f->values[0], "test");
	assert_string_equal(f->values[6], "closed");
	assert_non_null(m = policy_message(p, "payment.record"));
	assert_int_equal(m->request.fields[0].imin, 1);
	assert_int_equal(m->request.fields[0].imax, INT64_MAX);
	assert_int_equal(m->request.fields[2].type, FIELD_TIMESTAMP);
	assert_true(p->outer.present && p->inner.present);
	assert_string_equal(p->outer.listen, "127.0.0.1:8443");
	assert_true(p->outer.tls.on && !p->outer.listen_plain);
	assert_fmt(p->outer.tls.certificate, "%s/run/pki/server.crt", root);
	assert_fmt(p->outer.tls.key, "%s/run/pki/server.key", root);
	assert_fmt(p->outer.tls.client_ca, "%s/run/pki/ca.crt", root);
	assert_fmt(p->outer.tls.crl, "%s/run/pki/crl.pem", root);
	assert_string_equal(pe->certificate, "CN=wechat-app");
	assert_fmt(p->outer.inward, "spool:%s/run/ferry/inward", root);
	assert_fmt(p->outer.key, "%s/run/keys/outer.key", root);
	assert_fmt(p->inner.database, "%s/run/grid.db", root);
	assert_string_equal(p->inner.db_driver, "sqlite");
	assert_null(p->inner.listen);
	assert_int_equal(p->inner.nstatements, 3);
	assert_non_null(st = policy_statement(p, "iotcard.usage"));
	assert_non_null(strstr(st->sql, "ON CONFLICT(iccid, day)"));
	assert_null(policy_statement(p, "nosuch"));
	check_round_trip(p);
	policy_free(p);
}

static void
test_field_type_names(void **state)
{
	(void)state;
	assert_string_equal(field_type_name(FIELD_STRING), "string");
	assert_string_equal(field_type_name(FIELD_INTEGER), "integer");
	assert_string_equal(field_type_name(FIELD_NUMBER), "number");
	assert_string_equal(field_type_name(FIELD_BOOLEAN), "boolean");
	assert_string_equal(field_type_name(FIELD_ENUM), "enum");
	assert_string_equal(field_type_name(FIELD_DATE), "date");
	assert_string_equal(field_type_name(FIELD_TIMESTAMP), "timestamp");
	assert_string_equal(field_type_name((enum field_type)99), "unknown");
}

static const struct peer *
by_v4(const struct policy *p, const char *addr)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return policy_peer_by_addr(p, (struct sockaddr *)&sin);
}

static const struct peer *
by_v6(const struct policy *p, const char *addr)
{
	struct sockaddr_in6	 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	return policy_peer_by_addr(p, (struct sockaddr *)&sin6);
}

static void
test_peer_by_addr(void **state)
{
	struct policy		*p;
	struct sockaddr		 sa;
	const char		*text =
	    "peer z-wide {\n\taddress { 10.0.0.0/8 }\n}\n"
	    "peer a-narrow {\n\taddress { 10.1.2.0/24, 192.0.2.1 }\n}\n"
	    "peer odd {\n\taddress { 172.16.0.0/12, 2001:db8::/33, "
	    "fe80::/127 }\n}\n"
	    "peer mapped {\n\taddress { ::ffff:198.51.100.0/120 }\n}\n"
	    "peer cert.only {\n\tcertificate \"CN=x\"\n}\n";

	(void)state;
	p = load_text(text);
	/* Overlapping entries: the first peer by name wins. */
	assert_string_equal(by_v4(p, "10.1.2.3")->name, "a-narrow");
	assert_string_equal(by_v4(p, "10.1.3.3")->name, "z-wide");
	assert_string_equal(by_v4(p, "192.0.2.1")->name, "a-narrow");
	assert_null(by_v4(p, "192.0.2.2"));
	assert_null(by_v4(p, "11.0.0.1"));
	assert_string_equal(by_v4(p, "172.31.255.255")->name, "odd");
	assert_null(by_v4(p, "172.32.0.0"));
	/* A mapped entry is IPv4; a mapped source matches IPv4 entries. */
	assert_string_equal(by_v4(p, "198.51.100.77")->name, "mapped");
	assert_string_equal(by_v6(p, "::ffff:10.1.2.3")->name, "a-narrow");
	assert_string_equal(by_v6(p, "::ffff:198.51.100.1")->name, "mapped");
	assert_null(by_v6(p, "::ffff:11.0.0.1"));
	assert_string_equal(by_v6(p, "2001:db8:7fff::1")->name, "odd");
	assert_null(by_v6(p, "2001:db8:8000::1"));
	assert_string_equal(by_v6(p, "fe80::1")->name, "odd");
	assert_null(by_v6(p, "fe80::2"));
	/* An IPv6 source never matches an IPv4 entry unless mapped. */
	assert_null(by_v6(p, "::a01:203"));
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_null(policy_peer_by_addr(p, &sa));
	policy_free(p);

	p = load_text("peer all {\n\taddress { 0.0.0.0/0, ::/0 }\n}\n");
	assert_string_equal(by_v4(p, "203.0.113.9")->name, "all");
	assert_string_equal(by_v6(p, "2001:db8::9")->name, "all");
	policy_free(p);
	p = load_text("");
	assert_null(by_v4(p, "127.0.0.1"));
	assert_null(policy_peer(p, "x"));
	assert_null(policy_message(p, "x"));
	assert_null(policy_statement(p, "x"));
	policy_free(p);
}

static void
test_max_body(void **state)
{
	struct policy		*p;
	struct buf		 b;
	const struct message	*m;
	int			 i;

	(void)state;
	p = load_text("peer p {\n\taddress { ::1 }\n}\n"
	    "message m {\n\tallow from p\n\toneway\n\trequest {\n"
	    "\t\tab\tstring max 10\n\t\tc\tinteger\n\t\td\tnumber\n"
	    "\t\te\tboolean\n\t\tf\tenum { x, yyy }\n\t\tg\tdate\n"
	    "\t\th\ttimestamp\n\t}\n}\n");
	m = policy_message(p, "m");
	/* braces and slack; per field 6 bytes a name character, "": and
	 * the comma, and the value at 12 bytes a character. */
	assert_int_equal(m->max_body, 2 + 4096 +
	    (6 * 2 + 4) + 12 * 10 + 2 +
	    (6 + 4) + 32 + (6 + 4) + 32 + (6 + 4) + 5 +
	    (6 + 4) + 12 * 3 + 2 + (6 + 4) + 12 * 10 + 2 +
	    (6 + 4) + 12 * 35 + 2);
	policy_free(p);

	/* 64 strings of 65536 characters: capped. */
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_put_str(&b, "peer p {\n\taddress { ::1 }\n}\n"
	    "message m {\n\tallow from p\n\toneway\n\trequest {\n"), 0);
	for (i = 0; i < POLICY_FIELDS_MAX; i++)
		assert_int_equal(buf_putf(&b, "\t\tf%d\tstring max 65536\n",
		    i), 0);
	assert_int_equal(buf_put_str(&b, "\t}\n}\n"), 0);
	assert_int_equal(buf_put_u8(&b, '\0'), 0);
	p = load_text((char *)b.data);
	assert_int_equal(policy_message(p, "m")->max_body, PAYLOAD_MAX);
	policy_free(p);
	buf_free(&b);
}

/* Numbers, patterns and strings come back exactly after a round trip. */
static void
test_exact_values(void **state)
{
	struct policy		*p;
	const struct field	*f;

	(void)state;
	p = load_text("peer p {\n\taddress { ::1 }\n"
	    "\tcertificate \"CN=a\\\"b\\\\c\\d\"\n}\n"
	    "message m {\n\tallow from p\n\toneway\n\trequest {\n"
	    "\t\ta\tnumber 1e-300..0.1\n"
	    "\t\tb\tnumber -2.5e10..1.7976931348623157e308\n"
	    "\t\tc\tstring /^a\\/b\\\\\\/c[\\/]$/\n"
	    "\t\td\tnumber -0..-0\n\t\te\tnumber -0.0..-0e5\n\t}\n}\n");
	assert_string_equal(p->peers[0].certificate, "CN=a\"b\\c\\d");
	f = &policy_message(p, "m")->request.fields[0];
	assert_true(f->nmin == 1e-300 && f->nmax == 0.1);
	f++;
	assert_true(f->nmin == -2.5e10 && f->nmax == 1.7976931348623157e308);
	f++;
	assert_string_equal(f->pattern, "^a/b\\\\/c[/]$");
	assert_int_equal(regexec(&f->re, "a/b\\/c/", 0, NULL, 0), 0);
	f++;
	assert_true(f->nmin == 0 && f->nmax == 0);
	f++;
	assert_true(f->nmin == 0 && !signbit(f->nmin) && !signbit(f->nmax));
	check_round_trip(p);
	policy_free(p);
}

static void
test_nul_byte(void **state)
{
	static const char	 text[] = "peer p {\n\taddress\0 { ::1 }\n}\n";
	struct policy		*p = NULL;
	char			*errors = NULL;

	(void)state;
	assert_int_equal(policy_load_buffer("nul.policy", text,
	    sizeof(text) - 1, 0, &p, &errors), -EINVAL);
	assert_null(p);
	assert_string_equal(errors, "nul.policy:2: NUL byte in file\n");
	free(errors);
}

static void
test_load_failures(void **state)
{
	struct policy	*p = NULL;
	char		*errors = NULL, dir[] = "/tmp/isogate-policy.XXXXXX";
	char		 path[PATH_MAX], *big;

	(void)state;
	assert_int_equal(policy_load("tests/policy/nonexistent.in", 0, &p,
	    &errors), -ENOENT);
	assert_null(p);
	assert_string_equal(errors, "tests/policy/nonexistent.in: No such "
	    "file or directory\n");
	free(errors);
	assert_int_equal(policy_load("tests/policy", 0, &p, &errors),
	    -EINVAL);
	assert_string_equal(errors, "tests/policy: not a regular file\n");
	free(errors);
	assert_int_equal(policy_load("policy/examples/grid.policy", 0x80, &p,
	    &errors), -EINVAL);
	assert_string_equal(errors, "policy/examples/grid.policy: unknown "
	    "flags\n");
	free(errors);
	assert_int_equal(policy_load_buffer("b", "", 0, 0x80, &p, &errors),
	    -EINVAL);
	assert_string_equal(errors, "b: unknown flags\n");
	free(errors);
	/* Errors may be left unasked for. */
	assert_int_equal(policy_load("tests/policy/nonexistent.in", 0, &p,
	    NULL), -ENOENT);
	assert_int_equal(policy_load_buffer("x", "peer", 4, 0, &p, NULL),
	    -EINVAL);
	assert_null(p);

	assert_non_null(mkdtemp(dir));
	assert_non_null(big = calloc(1, POLICY_FILE_MAX + 2));
	memset(big, '#', POLICY_FILE_MAX + 1);
	snprintf(path, sizeof(path), "%s/big.policy", dir);
	write_text(path, big, 0644);
	assert_int_equal(policy_load(path, 0, &p, &errors), -EFBIG);
	free(errors);
	assert_int_equal(policy_load_buffer("big", big, POLICY_FILE_MAX + 1,
	    0, &p, &errors), -EFBIG);
	assert_string_equal(errors, "big: file too large\n");
	free(errors);
	/* An include that is too large is an ordinary error. */
	snprintf(path, sizeof(path), "%s/inc.policy", dir);
	write_text(path, "include \"big.policy\"\n", 0644);
	assert_int_equal(policy_load(path, 0, &p, &errors), -EINVAL);
	assert_non_null(strstr(errors, "big.policy: larger than 1048576 "
	    "bytes"));
	free(errors);
	unlink(path);
	snprintf(path, sizeof(path), "%s/big.policy", dir);
	unlink(path);
	rmdir(dir);
	free(big);
}

/* Files and bytes read per load are bounded even without a loop. */
static void
test_include_limits(void **state)
{
	struct policy	*p = NULL;
	struct buf	 b;
	char		 dir[] = "/tmp/isogate-inc.XXXXXX", path[PATH_MAX];
	char		 inc[PATH_MAX], *errors = NULL, *big, *e;
	int		 i, n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(inc, sizeof(inc), "%s/small.inc", dir);
	write_text(inc, "# nothing\n", 0644);
	buf_init(&b, 1 << 20);
	for (i = 0; i < 300; i++)
		assert_int_equal(buf_put_str(&b, "include \"small.inc\"\n"), 0);
	assert_int_equal(buf_put_u8(&b, '\0'), 0);
	snprintf(path, sizeof(path), "%s/many.policy", dir);
	write_text(path, (char *)b.data, 0644);
	assert_int_equal(policy_load(path, 0, &p, &errors), -EINVAL);
	/* The top file and 255 includes are read; lines 256..300 fail. */
	for (e = errors, n = 0; *e != '\0'; e++)
		n += *e == '\n';
	assert_int_equal(n, 300 - 255);
	*strchr(errors, '\n') = '\0';
	assert_fmt(errors, "%s:256: include %s: more than 256 files", path,
	    inc);
	free(errors);
	unlink(path);
	unlink(inc);

	/* The top file and 15 of 1 MiB fill 16 MiB: the rest is refused. */
	assert_non_null(big = malloc(POLICY_FILE_MAX + 1));
	for (i = 0; i < POLICY_FILE_MAX; i += 2)
		memcpy(big + i, "#\n", 2);
	big[POLICY_FILE_MAX] = '\0';
	snprintf(inc, sizeof(inc), "%s/big.inc", dir);
	write_text(inc, big, 0644);
	free(big);
	buf_reset(&b);
	for (i = 0; i < 17; i++)
		assert_int_equal(buf_put_str(&b, "include \"big.inc\"\n"), 0);
	assert_int_equal(buf_put_u8(&b, '\0'), 0);
	write_text(path, (char *)b.data, 0644);
	assert_int_equal(policy_load(path, 0, &p, &errors), -EINVAL);
	assert_fmt(errors, "%s:16: include %s: more than 16777216 bytes of "
	    "policy in all\n%s:17: include %s: more than 16777216 bytes of "
	    "policy in all\n", path, inc, path, inc);
	free(errors);
	unlink(path);
	unlink(inc);
	assert_int_equal(rmdir(dir), 0);
	buf_free(&b);

	/* A name that cannot be joined to its directory is not read. */
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_put_u8(&b, '/'), 0);
	for (i = 0; i < PATH_MAX; i++)
		assert_int_equal(buf_put_u8(&b, 'd'), 0);
	assert_int_equal(buf_put_str(&b, "/x.policy"), 0);
	assert_int_equal(buf_put_u8(&b, '\0'), 0);
	errors = load_errors((char *)b.data, "include \"y\"\n", 0);
	assert_non_null(strstr(errors, ":1: include path too long\n"));
	free(errors);
	buf_free(&b);
}

static void
test_too_many_errors(void **state)
{
	struct buf	 b;
	char		*errors, *last;
	int		 i, lines = 0;

	(void)state;
	buf_init(&b, 1 << 20);
	for (i = 0; i < 500; i++)
		assert_int_equal(buf_put_str(&b, "bogus\n"), 0);
	assert_int_equal(buf_put_u8(&b, '\0'), 0);
	errors = load_errors("many", (char *)b.data, 0);
	for (last = errors; *last != '\0'; last++)
		lines += *last == '\n';
	assert_int_equal(lines, 101);
	assert_non_null(strstr(errors, "many:100: too many errors, giving "
	    "up\n"));
	free(errors);
	buf_free(&b);
}

/* The outcome of a load as text: the digest and the normalised policy,
 * or the errors; NULL if formatting ran out of memory. */
static char *
load_outcome(const char *path, int *ret)
{
	struct policy	*p = NULL;
	char		*errors = NULL, *text, *out = NULL;
	char		 hex[2 * SHA256_LEN + 1];

	if ((*ret = policy_load(path, 0, &p, &errors)) != 0)
		return errors;
	hex_encode(p->digest, SHA256_LEN, hex);
	if ((text = policy_format(p)) != NULL &&
	    asprintf(&out, "%s\n%s", hex, text) == -1)
		out = NULL;
	free(text);
	policy_free(p);
	return out;
}

/*
 * Every allocation of a load fails in turn: each failure gives ENOMEM and
 * frees what was built (valgrind shows leaks), or, if it did not matter,
 * the same outcome; never a crash. Policies with patterns are left out:
 * glibc's regcomp frees twice when its own allocations fail.
 */
static void
test_out_of_memory(void **state)
{
	static const char	*paths[] = {
		"tests/policy/04.in",	/* includes, outer block, paths */
		"tests/policy/28.in",	/* strings, inner block */
		"tests/policy/20.in",	/* every type but patterns */
		"tests/policy/10.in",	/* errors after the parse */
		"tests/policy/09.in",	/* syntax errors */
	};
	char	*want, *got;
	long	 k, before;
	size_t	 i;
	int	 r, want_r;

	(void)state;
#ifdef NO_INJECTION
	skip();
#endif
	dl_iterate_phdr(find_crypto, NULL);
	assert_true(crypto_lo < crypto_hi);
	/* Through libc, as the library's allocations go. */
	fail_at = 0;
	failed = 0;
	got = strdup("x");
	fail_at = -1;
	free(got);
	if (!failed)	/* malloc is not ours: nothing to test */
		skip();
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_non_null(want = load_outcome(paths[i], &want_r));
		for (k = 0; k < 100000; k++) {
			before = live;
			failed = 0;
			fail_at = k;
			got = load_outcome(paths[i], &r);
			fail_at = -1;
			if (r == 0 && got == NULL)
				assert_true(failed);	/* policy_format's */
			else if (!failed || r != -ENOMEM) {
				/* Past the last allocation, or one that did
				 * not matter: the same outcome. */
				assert_int_equal(r, want_r);
				assert_string_equal(got, want);
			} else if (got != NULL &&
			    strcmp(got, "out of memory\n") != 0)
				assert_fmt(got, "%s: %s\n", paths[i],
				    strerror(ENOMEM));
			free(got);
			/* Nothing left behind, whatever failed. */
			assert_int_equal(live, before);
			if (!failed)
				break;
		}
		assert_true(k > 10);
		free(want);
	}
}

/* Finds the repository from the binary's place (build/…/tests/) unless the
 * working directory already is it, and goes there. */
static int
find_root(const char *argv0)
{
	char	 path[PATH_MAX], *slash;
	int	 i;

	if (access(GOLDEN_DIR, R_OK) != 0) {
		if (realpath(argv0, path) == NULL)
			return -1;
		for (i = 0; i < 5; i++) {
			if ((slash = strrchr(path, '/')) == NULL)
				return -1;
			*slash = '\0';
			if (chdir(path) == 0 && access(GOLDEN_DIR, R_OK) == 0)
				break;
		}
	}
	return getcwd(root, sizeof(root)) == NULL ? -1 : 0;
}

static int
golden_filter(const struct dirent *d)
{
	size_t	 len = strlen(d->d_name);

	return len > 3 && strcmp(d->d_name + len - 3, ".in") == 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_field_type_names),
		cmocka_unit_test(test_peer_by_addr),
		cmocka_unit_test(test_max_body),
		cmocka_unit_test(test_exact_values),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_load_failures),
		cmocka_unit_test(test_include_limits),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_out_of_memory),
	};
	struct CMUnitTest	*golden;
	struct dirent		**names;
	char			**paths;
	int			 i, n, r;

	(void)argc;
	if (find_root(argv[0]) != 0) {
		fprintf(stderr, "test_policy: cannot find %s\n", GOLDEN_DIR);
		return 1;
	}
	umask(022);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	if ((n = scandir(GOLDEN_DIR, &names, golden_filter, alphasort)) < 0 ||
	    n < GOLDEN_MIN) {
		fprintf(stderr, "test_policy: %d golden files in %s, want at "
		    "least %d\n", n, GOLDEN_DIR, GOLDEN_MIN);
		return 1;
	}
	golden = calloc((size_t)n, sizeof(*golden));
	paths = calloc((size_t)n, sizeof(*paths));
	if (golden == NULL || paths == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (asprintf(&paths[i], "%s/%s", GOLDEN_DIR,
		    names[i]->d_name) == -1)
			return 1;
		golden[i].name = paths[i];
		golden[i].test_func = test_golden;
		golden[i].initial_state = paths[i];
		free(names[i]);
	}
	free(names);
	r |= _cmocka_run_group_tests("golden", golden, (size_t)n, NULL, NULL);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(golden);
	return r;
}

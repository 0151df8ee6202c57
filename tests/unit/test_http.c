/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests of the strict HTTP request-head parser and response framing. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outer/outer.h"

static int
parse(const char *s, struct http_req *req, int *status)
{
	*status = 0;
	return http_parse_head((const uint8_t *)s, strlen(s), NULL, req, status);
}

/* Expects a malformed head answered with status. */
static void
bad(const char *s, int status)
{
	struct http_req	 req;
	int		 st;

	assert_int_equal(parse(s, &req, &st), -EBADMSG);
	assert_int_equal(st, status);
}

static void
test_valid(void **state)
{
	struct http_req	 req;
	int		 st;
	const char	*s = "POST /v1/bill.query HTTP/1.1\r\n"
	    "Host: x\r\nContent-Type: application/json; charset=UTF-8\r\n"
	    "Content-Length: 42\r\n\r\n{body";

	(void)state;
	assert_int_equal(parse(s, &req, &st), 0);
	assert_true(req.post);
	assert_string_equal(req.target, "/v1/bill.query");
	assert_int_equal(req.minor, 1);
	assert_int_equal(req.content_length, 42);
	assert_true(req.keepalive);
	assert_true(req.ctype_json);
	assert_int_equal(req.head_len, strlen(s) - strlen("{body"));
}

static void
test_incomplete(void **state)
{
	struct http_req	 req;
	int		 st;
	const char	*full = "POST /v1/x HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\n\r\n";
	char		 part[128];
	size_t		 i;

	(void)state;
	/* Every proper prefix needs more bytes, none is an error. */
	for (i = 0; i < strlen(full); i++) {
		memcpy(part, full, i);
		assert_int_equal(http_parse_head((uint8_t *)part, i, NULL, &req, &st),
		    -EAGAIN);
	}
}

static void
test_methods_and_targets(void **state)
{
	struct http_req	 req;
	int		 st;
	char		 longt[HTTP_TARGET_MAX + 64];

	(void)state;
	assert_int_equal(parse("GET /v1/x HTTP/1.1\r\nHost: x\r\n\r\n",
	    &req, &st), 0);
	assert_false(req.post);
	assert_true(req.method_ok);
	/* Methods are case-sensitive. */
	assert_int_equal(parse("post /v1/x HTTP/1.1\r\nHost: x\r\n\r\n",
	    &req, &st), 0);
	assert_false(req.post);
	bad("PO ST /v1/x HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	bad("POST  /v1/x HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	bad("POST http://a/v1/x HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	bad("POST * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	bad("POST /v1/x HTTP/2.0\r\nHost: x\r\n\r\n", 505);
	bad("POST /v1/x HTTP/1.2\r\nHost: x\r\n\r\n", 505);
	bad("POST /v1/x HTTX/1.1\r\nHost: x\r\n\r\n", 400);
	bad("POST /v1/x\r\nHost: x\r\n\r\n", 400);
	bad("POST /v1/\x01x HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	memset(longt, 'a', sizeof(longt));
	longt[0] = '/';
	memcpy(longt + HTTP_TARGET_MAX + 1, " HTTP/1.1\r\n\r\n", 14);
	{
		char	 s[HTTP_TARGET_MAX + 128];

		snprintf(s, sizeof(s), "POST %s", longt);
		bad(s, 414);
	}
}

static void
test_smuggling(void **state)
{
	(void)state;
	/* Duplicate, conflicting, listed or signed Content-Length. */
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
	    400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
	    400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    400);
	/* Content-Length with Transfer-Encoding. */
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	/* Bare LF, bare CR, obs-fold, space before colon. */
	bad("POST /v1/x HTTP/1.1\nHost: x\n\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n",
	    400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nX: \xc3\xa9\r\n\r\n", 400);
	/* Host: exactly one on HTTP/1.1. */
	bad("POST /v1/x HTTP/1.1\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	bad("POST /v1/x HTTP/1.1\r\nExpect: something\r\nHost: a\r\n\r\n",
	    417);
	bad("\r\nPOST /v1/x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void
test_limits(void **state)
{
	struct http_req	 req;
	char		*s;
	size_t		 i, n;
	int		 st;

	(void)state;
	/* Too many headers. */
	s = malloc(HTTP_HEAD_DEFAULT);
	assert_non_null(s);
	n = (size_t)snprintf(s, HTTP_HEAD_DEFAULT, "POST /v1/x HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < HTTP_HEADERS_DEFAULT; i++)
		n += (size_t)snprintf(s + n, HTTP_HEAD_DEFAULT - n, "X-%zu: y\r\n", i);
	snprintf(s + n, HTTP_HEAD_DEFAULT - n, "\r\n");
	bad(s, 431);
	/* A head that never ends within the limit. */
	memset(s, 'a', HTTP_HEAD_DEFAULT);
	memcpy(s, "POST /v1/x HTTP/1.1\r\nX: ", 24);
	assert_int_equal(http_parse_head((uint8_t *)s, HTTP_HEAD_DEFAULT, NULL,
	    &req, &st), -EBADMSG);
	assert_int_equal(st, 431);
	assert_int_equal(http_parse_head((uint8_t *)s, HTTP_HEAD_DEFAULT - 1,
	    NULL, &req, &st), -EAGAIN);
	free(s);
}

/* The policy's limits replace the defaults, both ways. */
static void
test_configured_limits(void **state)
{
	const struct http_limits small = { 1024, 8 }, big = { 16384, 128 };
	struct http_req	 req;
	char		 s[16384];
	size_t		 n, i;
	int		 st;

	(void)state;
	n = (size_t)snprintf(s, sizeof(s), "POST /v1/x HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 8; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "X-%zu: y\r\n", i);
	snprintf(s + n, sizeof(s) - n, "\r\n");
	/* Host + 8 = 9 lines: over 8, within the default 64. */
	assert_int_equal(http_parse_head((uint8_t *)s, strlen(s), &small, &req,
	    &st), -EBADMSG);
	assert_int_equal(st, 431);
	assert_int_equal(http_parse_head((uint8_t *)s, strlen(s), NULL, &req,
	    &st), 0);
	/* 100 headers of ~100 bytes: over the default 64 and 8 KiB, within
	 * 128 and 16 KiB. */
	n = (size_t)snprintf(s, sizeof(s), "POST /v1/x HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "X-%03zu: %090d\r\n",
		    i, 0);
	snprintf(s + n, sizeof(s) - n, "\r\n");
	assert_true(strlen(s) > HTTP_HEAD_DEFAULT && strlen(s) < 16384);
	assert_int_equal(http_parse_head((uint8_t *)s, strlen(s), NULL, &req,
	    &st), -EBADMSG);
	assert_int_equal(st, 431);
	assert_int_equal(http_parse_head((uint8_t *)s, strlen(s), &big, &req,
	    &st), 0);
	assert_int_equal(req.head_len, strlen(s));
	/* A head with no end yet, longer than the small limit: 431 at once. */
	memset(s, 'a', 2000);
	memcpy(s, "POST /v1/x HTTP/1.1\r\nX: ", 24);
	assert_int_equal(http_parse_head((uint8_t *)s, 1024, &small, &req,
	    &st), -EBADMSG);
	assert_int_equal(http_parse_head((uint8_t *)s, 1023, &small, &req,
	    &st), -EAGAIN);
}

static void
test_headers(void **state)
{
	struct http_req	 req;
	int		 st;

	(void)state;
	assert_int_equal(parse("POST /v1/x HTTP/1.1\r\nhost: x\r\n"
	    "CONTENT-TYPE: text/plain\r\nConnection: Close\r\n\r\n", &req,
	    &st), 0);
	assert_true(req.has_ctype);
	assert_false(req.ctype_json);
	assert_false(req.keepalive);
	assert_false(req.transfer_encoding);
	assert_int_equal(req.content_length, -1);
	/* Chunked (or any) Transfer-Encoding, even alone: 400, closed. */
	assert_int_equal(parse("POST /v1/x HTTP/1.1\r\nhost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &req, &st), -EBADMSG);
	assert_int_equal(st, 400);
	assert_int_equal(parse("POST /v1/x HTTP/1.0\r\n"
	    "Content-Type: application/json;charset=latin1\r\n"
	    "Expect: 100-continue\r\n\r\n", &req, &st), 0);
	assert_false(req.ctype_json);
	assert_false(req.keepalive);
	assert_true(req.expect_continue);
	assert_int_equal(parse("POST /v1/x HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Content-Type:application/json\r\n\r\n", &req, &st), 0);
	assert_true(req.keepalive);
	assert_true(req.ctype_json);
	bad("POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\n"
	    "Content-Type: application/json\r\n\r\n", 400);
}

static void
test_response(void **state)
{
	struct buf	 b;
	const char	*want = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "X-Isogate-Id: abc\r\nConnection: close\r\n\r\n{}";

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(http_response(&b, 404, "abc", "{}", 2, 0, NULL), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
	/* A buffer too small for the response fails cleanly. */
	buf_init(&b, 16);
	assert_int_equal(http_response(&b, 200, "abc", "{}", 2, 1, NULL),
	    -ENOBUFS);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_methods_and_targets),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_configured_limits),
		cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

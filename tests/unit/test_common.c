/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests of common/: bounded buffers, checked readers, conversions, file helpers. */

#include <sys/stat.h>

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

#include "common/common.h"

static void
test_buf_limits(void **state)
{
	struct buf	 b;
	uint8_t		 big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 10);
	assert_int_equal(buf_put(&b, big, 10), 0);
	/* Over the maximum: refused, and the buffer is unchanged. */
	assert_int_equal(buf_put(&b, big, 1), -ENOBUFS);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -ENOBUFS);
	buf_consume(&b, 4);
	assert_int_equal(b.len, 6);
	assert_int_equal(buf_put_u32(&b, 0x01020304), 0);
	assert_memory_equal(b.data + 6, "\x04\x03\x02\x01", 4);
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	buf_wipe(&b);
	assert_null(b.data);
}

static void
test_buf_putf(void **state)
{
	struct buf	 b;

	(void)state;
	/* From an empty buffer (no memory yet), then growing. */
	buf_init(&b, 64);
	assert_int_equal(buf_putf(&b, "%s-%d", "ab", 42), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "ab-42", 5);
	assert_int_equal(buf_putf(&b, "%0300d", 1), -ENOBUFS);
	assert_int_equal(b.len, 5);
	buf_free(&b);
}

static void
test_buf_dec(void **state)
{
	struct buf	 b;
	const int64_t	 v[] = { 0, 7, -7, 10, 1234567890, INT64_MAX,
	    INT64_MIN };
	const char	*want[] = { "0", "7", "-7", "10", "1234567890",
	    "9223372036854775807", "-9223372036854775808" };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_init(&b, 64);
		assert_int_equal(buf_put_dec(&b, v[i]), 0);
		assert_int_equal(b.len, strlen(want[i]));
		assert_memory_equal(b.data, want[i], b.len);
		buf_free(&b);
	}
	buf_init(&b, 3);
	assert_int_equal(buf_put_dec(&b, 1234), -ENOBUFS);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_reader(void **state)
{
	struct reader	 r;
	const uint8_t	 data[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	const uint8_t	*p;
	uint64_t	 u64 = 0xdead;
	uint32_t	 u32;
	uint16_t	 u16;
	uint8_t		 u8, copy[4];

	(void)state;
	reader_init(&r, data, sizeof(data));
	assert_int_equal(reader_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(reader_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0302);
	assert_int_equal(reader_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x07060504);
	/* Four bytes left: an eight-byte read fails and moves nothing. */
	assert_int_equal(reader_get_u64(&r, &u64), -EBADMSG);
	assert_int_equal(u64, 0xdead);
	assert_int_equal(reader_left(&r), 4);
	assert_int_equal(reader_get_bytes(&r, 5, &p), -EBADMSG);
	assert_int_equal(reader_copy(&r, copy, 4), 0);
	assert_memory_equal(copy, data + 7, 4);
	assert_int_equal(reader_left(&r), 0);
	assert_int_equal(reader_get_u8(&r, &u8), -EBADMSG);
	assert_int_equal(reader_get_bytes(&r, 0, &p), 0);
}

static void
test_parse(void **state)
{
	int64_t		 i = 99;
	uint64_t	 u = 99;

	(void)state;
	assert_int_equal(parse_i64("-12", -100, 100, &i), 0);
	assert_int_equal(i, -12);
	assert_int_equal(parse_i64("101", -100, 100, &i), -ERANGE);
	assert_int_equal(parse_i64("99999999999999999999", INT64_MIN,
	    INT64_MAX, &i), -ERANGE);
	assert_int_equal(parse_i64("", 0, 1, &i), -EINVAL);
	assert_int_equal(parse_i64(" 1", 0, 1, &i), -EINVAL);
	assert_int_equal(parse_i64("1x", 0, 1, &i), -EINVAL);
	assert_int_equal(parse_i64("+1", 0, 1, &i), -EINVAL);
	assert_int_equal(i, -12);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX,
	    &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(parse_u64("-1", 0, 10, &u), -EINVAL);
	assert_int_equal(parse_u64("11", 0, 10, &u), -ERANGE);
}

static void
test_hex(void **state)
{
	const uint8_t	 in[] = { 0x00, 0xab, 0xff, 0x10 };
	uint8_t		 out[4];
	char		 text[9];

	(void)state;
	hex_encode(in, sizeof(in), text);
	assert_string_equal(text, "00abff10");
	assert_int_equal(hex_decode("00ABff10", out, 4), 0);
	assert_memory_equal(out, in, 4);
	assert_int_equal(hex_decode("00abff1", out, 4), -EINVAL);
	assert_int_equal(hex_decode("00abff1g", out, 4), -EINVAL);
	assert_int_equal(hex_decode("00abff1000", out, 4), -EINVAL);
}

static void
test_crypto_helpers(void **state)
{
	uint8_t	 d[SHA256_LEN], r1[32], r2[32];
	char	 hex[2 * SHA256_LEN + 1];

	(void)state;
	assert_int_equal(sha256("abc", 3, d), 0);
	hex_encode(d, SHA256_LEN, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(random_bytes(r1, sizeof(r1)), 0);
	assert_int_equal(random_bytes(r2, sizeof(r2)), 0);
	assert_false(ct_equal(r1, r2, sizeof(r1)));
	assert_true(ct_equal(r1, r1, sizeof(r1)));
}

static void
test_bucket(void **state)
{
	struct bucket	 b;
	int		 i;

	(void)state;
	/* Burst 3 at 10/s: three at once, then one per 100 ms. */
	bucket_init(&b, 3, 1000);
	for (i = 0; i < 3; i++)
		assert_true(bucket_take(&b, 10, 3, 1000));
	assert_false(bucket_take(&b, 10, 3, 1000));
	assert_false(bucket_take(&b, 10, 3, 1050));
	assert_true(bucket_take(&b, 10, 3, 1100));
	assert_false(bucket_take(&b, 10, 3, 1100));
	/* Never more than the burst, however long it rested. */
	for (i = 0; i < 3; i++)
		assert_true(bucket_take(&b, 10, 3, 1000000));
	assert_false(bucket_take(&b, 10, 3, 1000000));
	/* A clock that steps back refills nothing. */
	assert_false(bucket_take(&b, 10, 3, 500));
	/* Rate 0 is unlimited. */
	for (i = 0; i < 100; i++)
		assert_true(bucket_take(&b, 0, 0, 1000000));
}

static void
test_files(void **state)
{
	char	 dir[] = "/tmp/isogate-test-common.XXXXXX";
	char	 path[PATH_MAX], sub[PATH_MAX], *text = NULL;
	size_t	 len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(write_file_atomic(path, "hello", 5, 0644), 0);
	assert_int_equal(read_file(path, 5, &text, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(text, "hello");
	free(text);
	text = NULL;
	/* Over the limit, a secret others may read, not a regular file. */
	assert_int_equal(read_file(path, 4, &text, &len), -EFBIG);
	assert_int_equal(read_file_secret(path, 5, &text, &len), -EPERM);
	assert_null(text);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(read_file_secret(path, 5, &text, &len), 0);
	free(text);
	assert_int_equal(read_file(dir, 5, &text, &len), -EINVAL);
	snprintf(sub, sizeof(sub), "%s/nope", dir);
	assert_int_equal(read_file(sub, 5, &text, &len), -ENOENT);
	/* No temporary file is left behind. */
	snprintf(sub, sizeof(sub), "%s/f.tmp", dir);
	assert_int_equal(access(sub, F_OK), -1);
	/* mkdir -p, twice, and through a file. */
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/f/x", dir);
	assert_int_equal(mkdir_p(sub, 0700), -ENOTDIR);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	assert_int_equal(system(sub), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limits),
		cmocka_unit_test(test_buf_putf),
		cmocka_unit_test(test_buf_dec),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_crypto_helpers),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

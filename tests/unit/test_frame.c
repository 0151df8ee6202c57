/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the ferry wire: frame encoding, every malformed class, seal frames, key files. */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "ferry/ferry.h"

/* Field offsets in the fixed header. */
#define OFF_VERSION	4
#define OFF_KIND	5
#define OFF_FLAGS	6
#define OFF_EPOCH	8
#define OFF_PEER_LEN	76
#define OFF_TYPE_LEN	78
#define OFF_PAYLOAD_LEN	80

static const char	 payload_text[] = "{\"customer_id\":\"0123456789\"}";
static char		 tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	umask(022);
	strcpy(tmpdir, "/tmp/test_frame.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
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

static void
sample(struct frame *f, uint8_t kind)
{
	size_t	 i;

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->epoch = 0x01020304;
	f->seq = 0x1122334455667788ULL;
	f->time_ns = 0x0a0b0c0d0e0f1011ULL;
	for (i = 0; i < ID_LEN; i++)
		f->id[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < SHA256_LEN; i++)
		f->digest[i] = (uint8_t)i;
	strcpy(f->peer, "wechat-app");
	strcpy(f->type, "bill.query");
	f->payload = (const uint8_t *)payload_text;
	f->payload_len = sizeof(payload_text) - 1;
}

static void
encode_sample(struct buf *b, uint8_t kind)
{
	struct frame	 f;

	sample(&f, kind);
	buf_init(b, 1 << 22);
	assert_int_equal(frame_encode(b, &f), 0);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
put32(uint8_t *p, uint32_t v)
{
	int	 i;

	for (i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/* Decodes and checks the answer; on failure, that nothing was written. */
static int
decode(const uint8_t *p, size_t len)
{
	struct frame	 f;
	size_t		 used = 12345;
	int		 r;

	memset(&f, 0x5a, sizeof(f));
	r = frame_decode(p, len, &f, &used);
	if (r != 0) {
		assert_int_equal(used, 12345);
		assert_int_equal(f.kind, 0x5a);
	}
	return r;
}

static void
test_header_size(void **state)
{
	struct frame	 f;
	struct buf	 b;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_HEARTBEAT;
	buf_init(&b, 1024);
	assert_int_equal(frame_encode(&b, &f), 0);
	assert_int_equal(b.len, 84);
	assert_int_equal(FRAME_HEADER_LEN, 84);
	assert_memory_equal(b.data, "ISGF\x01\x05\x00\x00", 8);
	buf_free(&b);
}

static void
test_round_trip_every_kind(void **state)
{
	struct frame	 in, out;
	struct buf	 b;
	size_t		 used;
	uint8_t		 kind;

	(void)state;
	for (kind = FRAME_REQUEST; kind <= FRAME_SEAL; kind++) {
		sample(&in, kind);
		buf_init(&b, 4096);
		assert_int_equal(frame_encode(&b, &in), 0);
		assert_int_equal(b.len, 84 + strlen(in.peer) +
		    strlen(in.type) + in.payload_len);
		/* Trailing bytes belong to the next frame. */
		assert_int_equal(buf_put(&b, "ISGF", 4), 0);
		assert_int_equal(frame_decode(b.data, b.len, &out, &used), 0);
		assert_int_equal(used, b.len - 4);
		assert_int_equal(out.kind, kind);
		assert_int_equal(out.epoch, in.epoch);
		assert_true(out.seq == in.seq);
		assert_true(out.time_ns == in.time_ns);
		assert_memory_equal(out.id, in.id, ID_LEN);
		assert_memory_equal(out.digest, in.digest, SHA256_LEN);
		assert_string_equal(out.peer, in.peer);
		assert_string_equal(out.type, in.type);
		assert_int_equal(out.payload_len, in.payload_len);
		assert_memory_equal(out.payload, in.payload, in.payload_len);
		/* The payload points into the decoded bytes. */
		assert_ptr_equal(out.payload, b.data + used - in.payload_len);
		buf_free(&b);
	}
}

static void
test_round_trip_limits(void **state)
{
	struct frame	 in, out;
	struct buf	 b;
	uint8_t		*big;
	size_t		 used;

	(void)state;
	/* Empty names and payload, and names at exactly the limit. */
	memset(&in, 0, sizeof(in));
	in.kind = FRAME_ACK;
	buf_init(&b, FRAME_LEN_MAX);
	assert_int_equal(frame_encode(&b, &in), 0);
	assert_int_equal(frame_decode(b.data, b.len, &out, &used), 0);
	assert_string_equal(out.peer, "");
	assert_string_equal(out.type, "");
	assert_int_equal(out.payload_len, 0);
	buf_reset(&b);

	big = calloc(1, FRAME_PAYLOAD_MAX);
	assert_non_null(big);
	memset(in.peer, 'a', FRAME_NAME_MAX);
	memcpy(in.type, "AZaz09._-", 10);
	in.payload = big;
	in.payload_len = FRAME_PAYLOAD_MAX;
	assert_int_equal(frame_encode(&b, &in), 0);
	assert_int_equal(b.len, FRAME_HEADER_LEN + FRAME_NAME_MAX + 9 +
	    FRAME_PAYLOAD_MAX);
	assert_int_equal(frame_decode(b.data, b.len, &out, &used), 0);
	assert_int_equal(used, b.len);
	assert_int_equal(strlen(out.peer), FRAME_NAME_MAX);
	assert_string_equal(out.type, "AZaz09._-");
	assert_int_equal(out.payload_len, FRAME_PAYLOAD_MAX);
	free(big);
	buf_free(&b);
}

static void
test_encode_errors(void **state)
{
	struct frame	 f;
	struct buf	 b;

	(void)state;
	buf_init(&b, 4096);
	sample(&f, 0);
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	sample(&f, FRAME_SEAL + 1);
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	sample(&f, FRAME_REQUEST);
	strcpy(f.peer, "we chat");
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	sample(&f, FRAME_REQUEST);
	strcpy(f.type, "bill/query");
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	sample(&f, FRAME_REQUEST);
	memset(f.peer, 'a', sizeof(f.peer));	/* 65 chars, no NUL */
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	sample(&f, FRAME_REQUEST);
	f.payload_len = FRAME_PAYLOAD_MAX + 1;
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	sample(&f, FRAME_REQUEST);
	f.payload = NULL;
	assert_int_equal(frame_encode(&b, &f), -EINVAL);
	assert_int_equal(b.len, 0);

	/* Out of room: the buffer is left as it was. */
	buf_free(&b);
	buf_init(&b, 100);
	assert_int_equal(buf_put(&b, "xyz", 3), 0);
	sample(&f, FRAME_REQUEST);
	assert_int_equal(frame_encode(&b, &f), -ENOBUFS);
	assert_int_equal(b.len, 3);
	buf_free(&b);
}

static void
test_bad_magic(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	encode_sample(&b, FRAME_REQUEST);
	for (i = 0; i < 4; i++) {
		b.data[i] ^= 0x20;
		assert_int_equal(decode(b.data, b.len), -EBADMSG);
		/* Even with only the bad byte present. */
		assert_int_equal(decode(b.data, i + 1), -EBADMSG);
		b.data[i] ^= 0x20;
	}
	assert_int_equal(decode((const uint8_t *)"IS", 2), -EAGAIN);
	assert_int_equal(decode((const uint8_t *)"IX", 2), -EBADMSG);
	assert_int_equal(decode((const uint8_t *)"", 0), -EAGAIN);
	buf_free(&b);
}

static void
test_bad_version_kind_flags(void **state)
{
	struct buf	 b;

	(void)state;
	encode_sample(&b, FRAME_REQUEST);
	b.data[OFF_VERSION] = 0;
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	assert_int_equal(decode(b.data, OFF_VERSION + 1), -EBADMSG);
	b.data[OFF_VERSION] = 2;
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	b.data[OFF_VERSION] = 1;

	b.data[OFF_KIND] = 0;
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	b.data[OFF_KIND] = 8;
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	assert_int_equal(decode(b.data, OFF_KIND + 1), -EBADMSG);
	b.data[OFF_KIND] = 0xff;
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	b.data[OFF_KIND] = FRAME_SEAL;
	assert_int_equal(decode(b.data, b.len), 0);
	b.data[OFF_KIND] = FRAME_REQUEST;

	put16(b.data + OFF_FLAGS, 1);
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	put16(b.data + OFF_FLAGS, 0x8000);
	assert_int_equal(decode(b.data, b.len), -EBADMSG);
	assert_int_equal(decode(b.data, OFF_FLAGS + 2), -EBADMSG);
	put16(b.data + OFF_FLAGS, 0);
	assert_int_equal(decode(b.data, b.len), 0);
	buf_free(&b);
}

static void
test_bad_names(void **state)
{
	static const uint8_t	 bad[] = { ' ', '/', ':', '\0', '\n', 0x80,
	    0xff, '"', '*' };
	struct buf		 b;
	size_t			 i, peer0, type0;

	(void)state;
	encode_sample(&b, FRAME_REQUEST);
	peer0 = FRAME_HEADER_LEN;
	type0 = peer0 + strlen("wechat-app");
	for (i = 0; i < sizeof(bad); i++) {
		b.data[peer0 + 3] = bad[i];
		assert_int_equal(decode(b.data, b.len), -EBADMSG);
		/* Refused as soon as the bad byte is there. */
		assert_int_equal(decode(b.data, peer0 + 4), -EBADMSG);
		b.data[peer0 + 3] = 'c';
		b.data[type0] = bad[i];
		assert_int_equal(decode(b.data, b.len), -EBADMSG);
		assert_int_equal(decode(b.data, type0 + 1), -EBADMSG);
		b.data[type0] = 'b';
	}
	assert_int_equal(decode(b.data, b.len), 0);
	buf_free(&b);
}

static void
test_lengths_over_limits(void **state)
{
	struct buf	 b;

	(void)state;
	encode_sample(&b, FRAME_REQUEST);
	put16(b.data + OFF_PEER_LEN, FRAME_NAME_MAX + 1);
	assert_int_equal(decode(b.data, b.len), -E2BIG);
	assert_int_equal(decode(b.data, OFF_PEER_LEN + 2), -E2BIG);
	put16(b.data + OFF_PEER_LEN, 0xffff);
	assert_int_equal(decode(b.data, b.len), -E2BIG);
	put16(b.data + OFF_PEER_LEN, strlen("wechat-app"));

	put16(b.data + OFF_TYPE_LEN, FRAME_NAME_MAX + 1);
	assert_int_equal(decode(b.data, b.len), -E2BIG);
	assert_int_equal(decode(b.data, OFF_TYPE_LEN + 2), -E2BIG);
	put16(b.data + OFF_TYPE_LEN, strlen("bill.query"));

	put32(b.data + OFF_PAYLOAD_LEN, FRAME_PAYLOAD_MAX + 1);
	assert_int_equal(decode(b.data, b.len), -E2BIG);
	assert_int_equal(decode(b.data, FRAME_HEADER_LEN), -E2BIG);
	put32(b.data + OFF_PAYLOAD_LEN, 0xffffffff);
	assert_int_equal(decode(b.data, b.len), -E2BIG);
	/* At the limit, the frame is merely incomplete. */
	put32(b.data + OFF_PAYLOAD_LEN, FRAME_PAYLOAD_MAX);
	assert_int_equal(decode(b.data, b.len), -EAGAIN);

	/* A declared length over what is present is waited for. */
	put32(b.data + OFF_PAYLOAD_LEN, sizeof(payload_text));
	assert_int_equal(decode(b.data, b.len), -EAGAIN);
	buf_free(&b);
}

static void
test_truncated_everywhere(void **state)
{
	struct buf	 b;
	size_t		 n;
	uint8_t		 kind;

	(void)state;
	for (kind = FRAME_REQUEST; kind <= FRAME_SEAL; kind++) {
		encode_sample(&b, kind);
		for (n = 0; n < b.len; n++) {
			/* A copy of exactly n bytes, so a read past it is
			 * caught by the sanitizers. */
			uint8_t	*p = malloc(n ? n : 1);

			assert_non_null(p);
			memcpy(p, b.data, n);
			assert_int_equal(decode(p, n), -EAGAIN);
			free(p);
		}
		assert_int_equal(decode(b.data, b.len), 0);
		buf_free(&b);
	}
}

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(frame_kind_name(FRAME_REQUEST), "request");
	assert_string_equal(frame_kind_name(FRAME_REPLY), "reply");
	assert_string_equal(frame_kind_name(FRAME_ONEWAY), "oneway");
	assert_string_equal(frame_kind_name(FRAME_ACK), "ack");
	assert_string_equal(frame_kind_name(FRAME_HEARTBEAT), "heartbeat");
	assert_string_equal(frame_kind_name(FRAME_REJECT), "reject");
	assert_string_equal(frame_kind_name(FRAME_SEAL), "seal");
	assert_string_equal(frame_kind_name(0), "unknown");
	assert_string_equal(frame_kind_name(8), "unknown");
	assert_string_equal(frame_kind_name(255), "unknown");
}

static void
test_seal_shape(void **state)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY	*key_a, *pub_a, *key_b;
	struct seal	 s, got;
	struct frame	 f;
	struct buf	 b;
	size_t		 used;
	uint8_t		 raw[32], digest1[SHA256_LEN];
	size_t		 rawlen = sizeof(raw);

	(void)state;
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_non_null(key_a = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_non_null(key_b = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_int_equal(EVP_PKEY_get_raw_public_key(key_a, raw, &rawlen), 1);
	assert_non_null(pub_a = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
	    NULL, raw, rawlen));
	sha256("policy", 6, digest1);
	memset(&s, 0, sizeof(s));
	s.epoch = 7;
	s.first = 3;
	s.last = 9;
	assert_int_equal(chain_init(ctx, FERRY_INWARD, 7, s.prev_chain), 0);
	memcpy(s.chain, s.prev_chain, SHA256_LEN);
	assert_int_equal(chain_step(ctx, s.chain, (const uint8_t *)"x", 1), 0);
	memcpy(s.digest, digest1, SHA256_LEN);
	assert_int_equal(seal_sign(ctx, key_a, FERRY_INWARD, &s), 0);
	assert_int_equal(seal_verify(ctx, pub_a, FERRY_INWARD, &s), 0);
	/* Bound to the direction, the signer and every field. */
	assert_int_equal(seal_verify(ctx, pub_a, FERRY_OUTWARD, &s), -EBADMSG);
	assert_int_equal(seal_verify(ctx, key_b, FERRY_INWARD, &s), -EBADMSG);
	s.last++;
	assert_int_equal(seal_verify(ctx, pub_a, FERRY_INWARD, &s), -EBADMSG);
	s.last--;
	s.digest[0] ^= 1;
	assert_int_equal(seal_verify(ctx, pub_a, FERRY_INWARD, &s), -EBADMSG);
	s.digest[0] ^= 1;

	buf_init(&b, 4096);
	assert_int_equal(seal_encode(&b, &s), 0);
	assert_int_equal(b.len, SEAL_FRAME_LEN);
	assert_int_equal(frame_decode(b.data, b.len, &f, &used), 0);
	assert_int_equal(seal_decode(&f, &got), 0);
	assert_int_equal(got.epoch, 7);
	assert_true(got.first == 3 && got.last == 9);
	assert_memory_equal(got.prev_chain, s.prev_chain, SHA256_LEN);
	assert_memory_equal(got.chain, s.chain, SHA256_LEN);
	assert_memory_equal(got.digest, s.digest, SHA256_LEN);
	assert_memory_equal(got.sig, s.sig, SEAL_SIG_LEN);
	f.seq = 8;
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);
	f.seq = 9;
	f.payload_len--;
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);
	f.payload_len++;
	strcpy(f.peer, "p");
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);
	f.peer[0] = '\0';
	f.id[3] = 1;
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);
	f.id[3] = 0;
	f.kind = FRAME_ACK;
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);

	/* first > last and first == 0 are refused. */
	s.first = 10;
	buf_reset(&b);
	assert_int_equal(seal_encode(&b, &s), 0);
	assert_int_equal(frame_decode(b.data, b.len, &f, &used), 0);
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);
	s.first = 0;
	buf_reset(&b);
	assert_int_equal(seal_encode(&b, &s), 0);
	assert_int_equal(frame_decode(b.data, b.len, &f, &used), 0);
	assert_int_equal(seal_decode(&f, &got), -EBADMSG);
	buf_free(&b);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key_a);
	EVP_PKEY_free(pub_a);
	EVP_PKEY_free(key_b);
}

static void
test_keys(void **state)
{
	char		 prefix[PATH_MAX];
	char		 kpath[PATH_MAX + 8], ppath[PATH_MAX + 8];
	struct stat	 st;
	EVP_PKEY	*k = NULL, *ec;
	FILE		*fp;

	(void)state;
	path_in(prefix, "k");
	snprintf(kpath, sizeof(kpath), "%s.key", prefix);
	snprintf(ppath, sizeof(ppath), "%s.pub", prefix);
	assert_int_equal(key_generate(prefix), 0);
	assert_int_equal(stat(kpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(key_generate(prefix), -EEXIST);

	assert_int_equal(key_load_private(kpath, &k), 0);
	assert_int_equal(EVP_PKEY_get_id(k), EVP_PKEY_ED25519);
	EVP_PKEY_free(k);
	k = NULL;
	assert_int_equal(key_load_public(ppath, &k), 0);
	assert_int_equal(EVP_PKEY_get_id(k), EVP_PKEY_ED25519);
	EVP_PKEY_free(k);
	k = NULL;

	assert_int_equal(chmod(kpath, 0640), 0);
	assert_int_equal(key_load_private(kpath, &k), -EPERM);
	assert_int_equal(chmod(kpath, 0604), 0);
	assert_int_equal(key_load_private(kpath, &k), -EPERM);
	assert_int_equal(chmod(kpath, 0400), 0);
	assert_int_equal(key_load_private(kpath, &k), 0);
	EVP_PKEY_free(k);
	k = NULL;

	/* Not a key of ours: the wrong half, another algorithm, junk. */
	assert_int_equal(key_load_public(kpath, &k), -EINVAL);
	assert_int_equal(chmod(ppath, 0600), 0);
	assert_int_equal(key_load_private(ppath, &k), -EINVAL);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	path_in(kpath, "ec.key");
	assert_non_null(fp = fopen(kpath, "w"));
	assert_int_equal(fchmod(fileno(fp), 0600), 0);
	assert_int_equal(PEM_write_PrivateKey(fp, ec, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(fp);
	assert_int_equal(key_load_private(kpath, &k), -EINVAL);
	path_in(ppath, "ec.pub");
	assert_non_null(fp = fopen(ppath, "w"));
	assert_int_equal(PEM_write_PUBKEY(fp, ec), 1);
	fclose(fp);
	assert_int_equal(key_load_public(ppath, &k), -EINVAL);
	EVP_PKEY_free(ec);
	path_in(kpath, "junk.key");
	assert_non_null(fp = fopen(kpath, "w"));
	assert_int_equal(fchmod(fileno(fp), 0600), 0);
	fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    fp);
	fclose(fp);
	assert_int_equal(key_load_private(kpath, &k), -EINVAL);
	path_in(kpath, "missing.key");
	assert_int_equal(key_load_private(kpath, &k), -ENOENT);
	assert_int_equal(key_load_private(tmpdir, &k), -EINVAL);
	assert_null(k);
	/* A prefix in a missing directory creates nothing. */
	path_in(prefix, "nodir/k");
	assert_int_equal(key_generate(prefix), -ENOENT);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_size),
		cmocka_unit_test(test_round_trip_every_kind),
		cmocka_unit_test(test_round_trip_limits),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_version_kind_flags),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_lengths_over_limits),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_seal_shape),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

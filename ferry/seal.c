/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The per-channel hash chain and the Ed25519 seals that sign it, for both ends. */

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "ferry/ferry.h"

#define CHAIN_LABEL	"isogate chain v1"	/* 16 bytes, no NUL */
#define SEAL_LABEL	"isogate seal v1"	/* 15 bytes + the NUL = 16 */
#define SEAL_LABEL_LEN	16
#define SEAL_MSG_LEN	(SEAL_LABEL_LEN + 1 + 4 + 8 + 8 + 3 * SHA256_LEN)

static void
seal_le(uint8_t *p, uint64_t v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/*
 * Starts a SHA-256 computation, reusing the context's digest when it is
 * already SHA-256: an implicit fetch for every frame costs a lock and a
 * table lookup, a tenth of hashing a small frame.
 */
static int
chain_start(EVP_MD_CTX *md)
{
	const EVP_MD	*cur;

	cur = EVP_MD_CTX_get0_md(md);
	if (cur != NULL && EVP_MD_get_type(cur) == NID_sha256)
		return EVP_DigestInit_ex2(md, NULL, NULL);
	return EVP_DigestInit_ex(md, EVP_sha256(), NULL);
}

int
chain_init(EVP_MD_CTX *md, enum ferry_dir dir, uint32_t epoch,
    uint8_t ret[SHA256_LEN])
{
	uint8_t		 tail[5], out[SHA256_LEN];
	unsigned int	 len = SHA256_LEN;

	tail[0] = (uint8_t)dir;
	seal_le(tail + 1, epoch, 4);
	if (chain_start(md) != 1 ||
	    EVP_DigestUpdate(md, CHAIN_LABEL, strlen(CHAIN_LABEL)) != 1 ||
	    EVP_DigestUpdate(md, tail, sizeof(tail)) != 1 ||
	    EVP_DigestFinal_ex(md, out, &len) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	memcpy(ret, out, SHA256_LEN);
	return 0;
}

int
chain_step(EVP_MD_CTX *md, uint8_t chain[SHA256_LEN], const uint8_t *frame,
    size_t len)
{
	uint8_t		 out[SHA256_LEN];
	unsigned int	 dlen = SHA256_LEN;

	if (chain_start(md) != 1 ||
	    EVP_DigestUpdate(md, chain, SHA256_LEN) != 1 ||
	    EVP_DigestUpdate(md, frame, len) != 1 ||
	    EVP_DigestFinal_ex(md, out, &dlen) != 1) {
		ERR_clear_error();
		return -EIO;	/* chain left as it was */
	}
	memcpy(chain, out, SHA256_LEN);
	return 0;
}

/* The signed message: label || dir || epoch || first || last || prev_chain ||
 * chain || digest. */
static void
seal_message(enum ferry_dir dir, const struct seal *s, uint8_t m[SEAL_MSG_LEN])
{
	uint8_t	*p = m;

	memcpy(p, SEAL_LABEL, SEAL_LABEL_LEN);	/* includes the NUL */
	p += SEAL_LABEL_LEN;
	*p++ = (uint8_t)dir;
	seal_le(p, s->epoch, 4);
	p += 4;
	seal_le(p, s->first, 8);
	p += 8;
	seal_le(p, s->last, 8);
	p += 8;
	memcpy(p, s->prev_chain, SHA256_LEN);
	p += SHA256_LEN;
	memcpy(p, s->chain, SHA256_LEN);
	p += SHA256_LEN;
	memcpy(p, s->digest, SHA256_LEN);
}

int
seal_sign(EVP_MD_CTX *ctx, EVP_PKEY *key, enum ferry_dir dir, struct seal *s)
{
	uint8_t	 m[SEAL_MSG_LEN], sig[SEAL_SIG_LEN];
	size_t	 siglen = sizeof(sig);
	int	 r = -EIO;

	seal_message(dir, s, m);
	if (EVP_MD_CTX_reset(ctx) != 1 ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, m, sizeof(m)) != 1 ||
	    siglen != SEAL_SIG_LEN) {
		ERR_clear_error();
		goto out;
	}
	memcpy(s->sig, sig, sizeof(sig));
	r = 0;
 out:
	return r;
}

int
seal_verify(EVP_MD_CTX *ctx, EVP_PKEY *key, enum ferry_dir dir,
    const struct seal *s)
{
	uint8_t	 m[SEAL_MSG_LEN];
	int	 r = -EBADMSG;

	seal_message(dir, s, m);
	if (EVP_MD_CTX_reset(ctx) != 1 ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestVerify(ctx, s->sig, SEAL_SIG_LEN, m, sizeof(m)) != 1) {
		ERR_clear_error();
		goto out;
	}
	r = 0;
 out:
	return r;
}

int
seal_encode(struct buf *out, const struct seal *s)
{
	uint8_t		 payload[SEAL_PAYLOAD_LEN];
	struct frame	 f;

	seal_le(payload, s->first, 8);
	seal_le(payload + 8, s->last, 8);
	memcpy(payload + 16, s->prev_chain, SHA256_LEN);
	memcpy(payload + 16 + SHA256_LEN, s->chain, SHA256_LEN);
	memcpy(payload + 16 + 2 * SHA256_LEN, s->sig, SEAL_SIG_LEN);

	memset(&f, 0, sizeof(f));
	f.kind = FRAME_SEAL;
	f.epoch = s->epoch;
	f.seq = s->last;
	f.time_ns = now_ns();
	memcpy(f.digest, s->digest, SHA256_LEN);
	f.payload = payload;
	f.payload_len = sizeof(payload);
	return frame_encode(out, &f);
}

int
seal_decode(const struct frame *f, struct seal *ret)
{
	static const uint8_t	 zero_id[ID_LEN];
	struct reader		 rd;
	struct seal		 s;

	if (f->kind != FRAME_SEAL || f->payload_len != SEAL_PAYLOAD_LEN ||
	    f->peer[0] != '\0' || f->type[0] != '\0' ||
	    memcmp(f->id, zero_id, ID_LEN) != 0)
		return -EBADMSG;
	memset(&s, 0, sizeof(s));
	reader_init(&rd, f->payload, f->payload_len);
	if (reader_get_u64(&rd, &s.first) != 0 ||
	    reader_get_u64(&rd, &s.last) != 0 ||
	    reader_copy(&rd, s.prev_chain, SHA256_LEN) != 0 ||
	    reader_copy(&rd, s.chain, SHA256_LEN) != 0 ||
	    reader_copy(&rd, s.sig, SEAL_SIG_LEN) != 0)
		return -EBADMSG;
	/* seq names the last frame covered; a seal covers at least one. */
	if (s.first == 0 || s.first > s.last || f->seq != s.last)
		return -EBADMSG;
	s.epoch = f->epoch;
	memcpy(s.digest, f->digest, SHA256_LEN);
	*ret = s;
	return 0;
}

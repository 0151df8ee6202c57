/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: arbitrary bytes, and arbitrary frames under genuine seals, through a receiver. */

/*
 * Each input goes through three fresh receivers: as one raw stream; as the
 * same stream in chunks of 1 + (last byte % 128) bytes, so that resync and
 * reassembly see many splits; and read as frames, where data frames are fed
 * as they are and each SEAL frame is replaced by a seal the harness signs
 * with the fixed key over the data frames since the previous one (epoch and
 * digest taken from the fuzzed seal). A frame whose id[0] has the high bit
 * set is chained or signed but then lost in transit (not fed). The last
 * mode reaches delivery, gaps, digests, epochs and replays, which random
 * bytes never would past Ed25519.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY		*key;
static EVP_MD_CTX	*md, *sign;
static const uint8_t	 digest[SHA256_LEN] = { 0x42 };
static uint64_t		 sink;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t	 seed[32] = "isogate fuzz_chan fixed key seed";

	(void)argc;
	(void)argv;
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    sizeof(seed));
	md = EVP_MD_CTX_new();
	sign = EVP_MD_CTX_new();
	if (key == NULL || md == NULL || sign == NULL)
		abort();
	return 0;
}

static void
check(void *arg, const struct frame *f, int verdict)
{
	uint32_t	 i;

	(void)arg;
	if (verdict < CHAN_OK || verdict > CHAN_UNSEALED)
		abort();
	if (f == NULL) {
		if (verdict != CHAN_MALFORMED && verdict != CHAN_GAP)
			abort();
		return;
	}
	if (verdict == CHAN_MALFORMED || verdict == CHAN_GAP ||
	    f->payload_len > FRAME_PAYLOAD_MAX)
		abort();
	if ((verdict == CHAN_OK || verdict == CHAN_DIGEST) &&
	    f->kind == FRAME_SEAL)
		abort();
	/* Touch every payload byte, so a stale pointer is caught. */
	for (i = 0; i < f->payload_len; i++)
		sink += f->payload[i];
}

static void
feed_raw(struct chan_rx *rx, const uint8_t *p, size_t len, size_t chunk)
{
	struct reader	 rd;
	const uint8_t	*part;
	size_t		 n;

	reader_init(&rd, p, len);
	while (reader_left(&rd) > 0) {
		n = chunk == 0 || chunk > reader_left(&rd) ? reader_left(&rd) :
		    chunk;
		if (reader_get_bytes(&rd, n, &part) != 0)
			abort();
		(void)chan_rx_feed(rx, part, n, check, NULL);
	}
}

static void
feed_sealed(struct chan_rx *rx, const uint8_t *p, size_t len)
{
	struct frame	 f;
	struct seal	 s;
	struct buf	 b;
	uint8_t		 prev[SHA256_LEN], chain[SHA256_LEN];
	uint64_t	 first = 0, last = 0;
	uint32_t	 epoch = 0;
	size_t		 off = 0, used;

	buf_init(&b, SEAL_FRAME_LEN);
	memset(prev, 0, sizeof(prev));
	memcpy(chain, prev, sizeof(chain));
	while (off < len && frame_decode(p + off, len - off, &f, &used) == 0) {
		if (f.kind != FRAME_SEAL) {
			if (first == 0 || f.epoch != epoch) {
				if (f.epoch != epoch) {
					epoch = f.epoch;
					if (chain_init(md, FERRY_INWARD, epoch,
					    prev) != 0)
						abort();
					memcpy(chain, prev, sizeof(chain));
				}
				first = f.seq;
			}
			last = f.seq;
			if (chain_step(md, chain, p + off, used) != 0)
				abort();
			if ((f.id[0] & 0x80) == 0)
				(void)chan_rx_feed(rx, p + off, used, check,
				    NULL);
		} else {
			memset(&s, 0, sizeof(s));
			s.epoch = f.epoch;
			s.first = first != 0 ? first : f.seq;
			s.last = last >= s.first ? last : s.first;
			memcpy(s.prev_chain, prev, SHA256_LEN);
			memcpy(s.chain, chain, SHA256_LEN);
			memcpy(s.digest, f.digest, SHA256_LEN);
			buf_reset(&b);
			if (seal_sign(sign, key, FERRY_INWARD, &s) != 0 ||
			    seal_encode(&b, &s) != 0)
				abort();
			if ((f.id[0] & 0x80) == 0)
				(void)chan_rx_feed(rx, b.data, b.len, check,
				    NULL);
			memcpy(prev, chain, SHA256_LEN);
			first = 0;
		}
		off += used;
	}
	buf_free(&b);
}

static struct chan_rx *
open_rx(void)
{
	struct chan_rx	*rx;

	if (chan_rx_open(NULL, FERRY_INWARD, key, digest, NULL, &rx) != 0)
		abort();
	return rx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_rx	*rx;

	if (size == 0)
		return 0;
	rx = open_rx();
	feed_raw(rx, data, size, 0);
	chan_rx_close(rx);
	rx = open_rx();
	feed_raw(rx, data, size, 1 + data[size - 1] % 128);
	chan_rx_close(rx);
	rx = open_rx();
	feed_sealed(rx, data, size);
	chan_rx_close(rx);
	return 0;
}

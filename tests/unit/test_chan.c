/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for ferry channel receivers: seals, verdicts and replay state. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/ferry.h"

#include "tests/unit/chan_fixtures.h"

static void
test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(chan_verdict_name(CHAN_OK), "ok");
	assert_string_equal(chan_verdict_name(CHAN_MALFORMED), "malformed");
	assert_string_equal(chan_verdict_name(CHAN_BAD_SEAL), "bad_seal");
	assert_string_equal(chan_verdict_name(CHAN_REPLAY), "replay");
	assert_string_equal(chan_verdict_name(CHAN_GAP), "gap");
	assert_string_equal(chan_verdict_name(CHAN_DIGEST), "digest");
	assert_string_equal(chan_verdict_name(CHAN_OLD_EPOCH), "old_epoch");
	assert_string_equal(chan_verdict_name(CHAN_UNSEALED), "unsealed");
	assert_string_equal(chan_verdict_name(-1), "unknown");
	assert_string_equal(chan_verdict_name(8), "unknown");
}

static void
test_delivered_after_seal(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	size_t		 offs[8], lens[8];
	uint8_t		 kinds[8];

	(void)state;
	tx = raw_tx(key_a, digest1);
	send_n(tx, 1, 3);
	/* Nothing leaves before a flush. */
	assert_true(chan_tx_backlog(tx) > 0);
	raw_drain(rawfd, &B[0]);
	assert_int_equal(B[0].len, 0);
	capture(tx, rawfd, &B[0]);
	assert_int_equal(split(&B[0], offs, lens, kinds, 8), 4);
	assert_int_equal(kinds[3], FRAME_SEAL);
	assert_int_equal(lens[3], SEAL_FRAME_LEN);

	rx = rx_new(NULL, NULL);
	feed_frames(rx, &B[0], 0, 3);
	assert_int_equal(nev, 0);
	feed_frames(rx, &B[0], 3, 4);
	assert_int_equal(nev, 3);
	expect_frames(0, 1, 3, CHAN_OK);
	assert_true(evs[0].seq == 1 && evs[2].seq == 3);
	assert_int_equal(evs[0].epoch, 1);
	assert_int_equal(evs[0].kind, FRAME_ONEWAY);
	assert_string_equal(evs[0].type, "bill.query");
	chan_rx_close(rx);
	chan_tx_close(tx);
}

static void
test_batch_of_200(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	size_t		 offs[256], lens[256], n, i, seals = 0;
	uint8_t		 kinds[256];

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 200, &B[0]);
	n = split(&B[0], offs, lens, kinds, 256);
	for (i = 0; i < n; i++)
		seals += kinds[i] == FRAME_SEAL;
	assert_true(seals >= 4);
	assert_int_equal(n, 200 + seals);
	assert_int_equal(kinds[n - 1], FRAME_SEAL);

	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	assert_int_equal(nev, 200);
	expect_frames(0, 1, 200, CHAN_OK);
	for (i = 0; i < 200; i++)
		assert_true(evs[i].seq == i + 1);
	chan_rx_close(rx);
	chan_tx_close(tx);
}

static void
test_flipped_byte(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	size_t		 offs[8], lens[8];
	uint8_t		 kinds[8];

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 5, &B[0]);
	batch(tx, 6, 5, &B[1]);
	batch(tx, 11, 5, &B[2]);
	batch(tx, 16, 5, &B[3]);
	rx = rx_new(NULL, NULL);

	/* A payload byte of frame 3: the seal is authentic, the chain not. */
	split(&B[0], offs, lens, kinds, 8);
	B[0].data[offs[2] + lens[2] - 1] ^= 1;
	feed(rx, &B[0]);
	assert_int_equal(nev, 5);
	assert_int_equal(evs[0].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[4].verdict, CHAN_BAD_SEAL);
	feed(rx, &B[1]);
	assert_int_equal(nev, 10);
	expect_frames(5, 6, 5, CHAN_OK);

	/* A signature byte: the seal itself is refused at once; the frames
	 * it covered are refused when the next authentic seal shows that
	 * theirs will never come, and that batch is delivered. */
	split(&B[2], offs, lens, kinds, 8);
	B[2].data[offs[5] + lens[5] - 1] ^= 0x80;
	feed(rx, &B[2]);
	assert_int_equal(nev, 11);
	assert_int_equal(evs[10].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[10].kind, FRAME_SEAL);
	feed(rx, &B[3]);
	assert_int_equal(nev, 21);
	expect_frames(11, 11, 5, CHAN_BAD_SEAL);
	expect_frames(16, 16, 5, CHAN_OK);
	chan_rx_close(rx);
	chan_tx_close(tx);
}

static void
test_replay(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[0]);
	batch(tx, 4, 3, &B[1]);
	batch(tx, 7, 3, &B[2]);
	chan_tx_close(tx);
	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	assert_int_equal(nev, 3);

	/* The whole batch again: each frame a replay, the seal ignored. */
	feed(rx, &B[0]);
	assert_int_equal(nev, 6);
	expect_frames(3, 1, 3, CHAN_REPLAY);

	/* A frame repeated while pending is a replay too. */
	feed_frames(rx, &B[1], 0, 2);
	feed_frames(rx, &B[1], 1, 2);
	assert_int_equal(nev, 7);
	assert_int_equal(evs[6].verdict, CHAN_REPLAY);
	assert_true(evs[6].seq == 5);
	/* An old seal in between changes nothing. */
	feed_frames(rx, &B[0], 3, 4);
	assert_int_equal(nev, 7);
	feed_frames(rx, &B[1], 2, -1);
	assert_int_equal(nev, 10);
	expect_frames(7, 4, 3, CHAN_OK);

	/* The seal of the last batch replayed alone is ignored. */
	feed(rx, &B[2]);
	assert_int_equal(nev, 13);
	feed_frames(rx, &B[2], 3, 4);
	assert_int_equal(nev, 13);
	chan_rx_close(rx);
}

static void
test_old_epoch(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	char		 path[PATH_MAX], *text;

	(void)state;
	tx = raw_tx(key_a, digest1);
	assert_int_equal(chan_tx_epoch(tx), 1);
	batch(tx, 1, 3, &B[0]);
	batch(tx, 4, 2, &B[1]);
	chan_tx_close(tx);
	tx = raw_tx(key_a, digest1);
	assert_int_equal(chan_tx_epoch(tx), 2);
	path_in(path, "tx-state/tx-epoch");
	assert_int_equal(read_file(path, 64, &text, NULL), 0);
	assert_string_equal(text, "2\n");
	free(text);
	batch(tx, 10, 3, &B[2]);
	chan_tx_close(tx);

	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	/* Epoch 1 frames left unsealed when epoch 2 starts are given up. */
	feed_frames(rx, &B[1], 0, 2);
	feed(rx, &B[2]);
	assert_int_equal(nev, 8);
	expect_frames(0, 1, 3, CHAN_OK);
	expect_frames(3, 4, 2, CHAN_UNSEALED);
	expect_frames(5, 10, 3, CHAN_OK);
	assert_int_equal(evs[5].epoch, 2);
	assert_true(evs[5].seq == 1);
	/* Back to epoch 1: refused, and its seal does nothing. */
	feed(rx, &B[0]);
	assert_int_equal(nev, 11);
	expect_frames(8, 1, 3, CHAN_OLD_EPOCH);
	chan_rx_close(rx);
}

/*
 * Unsealed bytes never move the receiver: a forged frame of a far newer
 * epoch, even in the middle of a genuine batch, neither spoils the batch
 * nor makes later genuine frames look old; nor does a forged seal.
 */
static void
test_forged_epoch(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	struct frame	 f;
	struct buf	 forged, fseal;
	struct seal	 sl;
	EVP_MD_CTX	*md;

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 2, &B[0]);
	batch(tx, 3, 2, &B[1]);
	batch(tx, 5, 1, &B[2]);
	chan_tx_close(tx);

	memset(&f, 0, sizeof(f));
	f.kind = FRAME_ONEWAY;
	f.epoch = 0xfffffff0;
	f.seq = 1;
	memcpy(f.digest, digest1, SHA256_LEN);
	f.payload = (const uint8_t *)"msg-666";
	f.payload_len = 7;
	buf_init(&forged, 4096);
	assert_int_equal(frame_encode(&forged, &f), 0);
	/* A seal for it by the wrong key. */
	memset(&sl, 0, sizeof(sl));
	sl.epoch = f.epoch;
	sl.first = sl.last = 1;
	memcpy(sl.digest, digest1, SHA256_LEN);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(seal_sign(md, key_b, FERRY_INWARD, &sl), 0);
	EVP_MD_CTX_free(md);
	buf_init(&fseal, 4096);
	assert_int_equal(seal_encode(&fseal, &sl), 0);

	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	feed_frames(rx, &B[1], 0, 1);	/* msg-3 */
	feed(rx, &forged);
	feed_frames(rx, &B[1], 1, -1);	/* msg-4 and the seal */
	feed(rx, &forged);
	feed(rx, &fseal);
	feed(rx, &B[2]);
	/* msg-1,2 ok; the forged frame set aside; msg-3,4 ok; the forged
	 * seal refused; the second forged frame set aside by msg-5's seal. */
	assert_int_equal(nev, 8);
	expect_frames(0, 1, 2, CHAN_OK);
	expect_frames(2, 666, 1, CHAN_UNSEALED);
	expect_frames(3, 3, 2, CHAN_OK);
	assert_int_equal(evs[5].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[5].kind, FRAME_SEAL);
	expect_frames(6, 666, 1, CHAN_UNSEALED);
	expect_frames(7, 5, 1, CHAN_OK);
	assert_int_equal(evs[7].epoch, 1);
	buf_free(&forged);
	buf_free(&fseal);
	chan_rx_close(rx);
}

static void
test_wrong_key_and_digest(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;

	(void)state;
	tx = raw_tx(key_b, digest1);
	batch(tx, 1, 4, &B[0]);
	chan_tx_close(tx);
	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	/* A forged seal is reported as itself; what it claims to cover is
	 * neither delivered nor thrown away on its word. */
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[0].kind, FRAME_SEAL);
	feed_frames(rx, &B[0], 4, 5);
	assert_int_equal(nev, 2);
	assert_int_equal(evs[1].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[1].kind, FRAME_SEAL);

	/* The right key under another policy: authentic, wrong digest. Its
	 * newer epoch gives up the frames no genuine seal covered. */
	tx = raw_tx(key_a, digest2);
	batch(tx, 1, 4, &B[1]);
	chan_tx_close(tx);
	feed(rx, &B[1]);
	assert_int_equal(nev, 10);
	expect_frames(2, 1, 4, CHAN_UNSEALED);
	expect_frames(6, 1, 4, CHAN_DIGEST);
	chan_rx_close(rx);
}

static void
test_restart_keeps_replay_guard(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	char		 path[PATH_MAX], *data;
	size_t		 len;
	int		 fd;

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[0]);		/* epoch 1 */
	chan_tx_close(tx);
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[1]);		/* epoch 2 */
	batch(tx, 4, 3, &B[2]);
	chan_tx_close(tx);

	rx = rx_new(NULL, "rx-state");
	feed(rx, &B[1]);
	assert_int_equal(nev, 3);
	chan_rx_close(rx);
	path_in(path, "rx-state/rx-last");
	assert_int_equal(read_file(path, 64, &data, &len), 0);
	assert_int_equal(len, 12);
	assert_memory_equal(data, "\x02\0\0\0\x03\0\0\0\0\0\0\0", 12);
	free(data);

	rx = rx_new(NULL, "rx-state");
	feed(rx, &B[1]);
	feed(rx, &B[0]);
	feed(rx, &B[2]);
	assert_int_equal(nev, 12);
	expect_frames(3, 1, 3, CHAN_REPLAY);
	expect_frames(6, 1, 3, CHAN_OLD_EPOCH);
	expect_frames(9, 4, 3, CHAN_OK);
	chan_rx_close(rx);

	/* A damaged guard refuses to open rather than start over. */
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) != -1);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	path_in(path, "rx-state");
	assert_int_equal(chan_rx_open(NULL, FERRY_INWARD, pub_a, digest1,
	    path, &rx), -EINVAL);
}

static void
test_mid_stream_and_gaps(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	size_t		 offs[8], lens[8];
	uint8_t		 kinds[8];

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 4, &B[0]);
	batch(tx, 5, 4, &B[1]);
	batch(tx, 9, 4, &B[2]);
	batch(tx, 13, 4, &B[3]);
	chan_tx_close(tx);

	/* Joining inside frame 2: the rest of that batch cannot be proven;
	 * the next seal brings the receiver in step. */
	rx = rx_new(NULL, NULL);
	split(&B[0], offs, lens, kinds, 8);
	assert_int_equal(chan_rx_feed(rx, B[0].data + offs[1] + 7,
	    B[0].len - offs[1] - 7, collect, NULL), 0);
	assert_int_equal(nev, 3);
	assert_int_equal(evs[0].verdict, CHAN_MALFORMED);
	assert_false(evs[0].has_frame);
	expect_frames(1, 3, 2, CHAN_BAD_SEAL);
	feed(rx, &B[1]);
	assert_int_equal(nev, 7);
	expect_frames(3, 5, 4, CHAN_OK);

	/* Batch 3 lost: one gap, then batch 4 delivered. */
	feed(rx, &B[3]);
	assert_int_equal(nev, 12);
	assert_int_equal(evs[7].verdict, CHAN_GAP);
	assert_false(evs[7].has_frame);
	expect_frames(8, 13, 4, CHAN_OK);
	chan_rx_close(rx);

	/* Only the seal of a batch arrives: a gap, and in step again. */
	nev = 0;
	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	feed_frames(rx, &B[1], 4, 5);
	feed(rx, &B[2]);
	assert_int_equal(nev, 9);
	expect_frames(0, 1, 4, CHAN_OK);
	assert_int_equal(evs[4].verdict, CHAN_GAP);
	expect_frames(5, 9, 4, CHAN_OK);
	chan_rx_close(rx);

	/* Joining at batch 2's seal: nothing to report, then batch 3
	 * delivered without a gap. */
	nev = 0;
	rx = rx_new(NULL, NULL);
	feed_frames(rx, &B[1], 4, 5);
	feed(rx, &B[2]);
	assert_int_equal(nev, 4);
	expect_frames(0, 9, 4, CHAN_OK);
	chan_rx_close(rx);
}

static void
test_garbage_between_frames(void **state)
{
	static const char	 junk[] = "\x00\x01garbage ISG ISGF\x02 more "
	    "ISGF\x01\x09 and IS";
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct buf		*all = &B[2];
	size_t			 i, mark;

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[0]);
	batch(tx, 4, 3, &B[1]);
	chan_tx_close(tx);
	assert_int_equal(buf_put(all, B[0].data, B[0].len), 0);
	assert_int_equal(buf_put(all, junk, sizeof(junk) - 1), 0);
	mark = all->len;
	assert_int_equal(buf_put(all, B[1].data, B[1].len), 0);

	rx = rx_new(NULL, NULL);
	assert_int_equal(chan_rx_feed(rx, all->data, mark, collect, NULL), 0);
	assert_int_equal(chan_rx_feed(rx, all->data + mark, all->len - mark,
	    collect, NULL), 0);
	assert_int_equal(nev, 7);
	expect_frames(0, 1, 3, CHAN_OK);
	assert_int_equal(evs[3].verdict, CHAN_MALFORMED);
	expect_frames(4, 4, 3, CHAN_OK);
	chan_rx_close(rx);

	/* The same stream one byte at a time. */
	nev = 0;
	rx = rx_new(NULL, NULL);
	for (i = 0; i < all->len; i++)
		assert_int_equal(chan_rx_feed(rx, all->data + i, 1, collect,
		    NULL), 0);
	assert_int_equal(nev, 7);
	assert_int_equal(evs[3].verdict, CHAN_MALFORMED);
	expect_frames(4, 4, 3, CHAN_OK);
	chan_rx_close(rx);
}

static void
test_pending_bound(void **state)
{
	struct chan_rx	*rx;
	struct frame	 f;
	uint64_t	 i;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_ONEWAY;
	f.epoch = 1;
	f.payload = (const uint8_t *)"msg";
	f.payload_len = 3;
	for (i = 1; i <= 4097; i++) {
		f.seq = i;
		assert_int_equal(frame_encode(&B[0], &f), 0);
	}
	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	assert_int_equal(nev, 4097);
	for (i = 0; i < 4097; i++)
		assert_int_equal(evs[i].verdict, CHAN_UNSEALED);
	assert_true(evs[4096].seq == 4097);
	chan_rx_close(rx);
}

static void
test_short_seal(void **state)
{
	static const uint8_t	 junk[100];
	struct chan_rx		*rx;
	struct frame		 f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_SEAL;
	f.epoch = 1;
	f.seq = 1;
	f.payload = junk;
	f.payload_len = sizeof(junk);
	assert_int_equal(frame_encode(&B[0], &f), 0);
	rx = rx_new(NULL, NULL);
	feed(rx, &B[0]);
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[0].kind, FRAME_SEAL);
	chan_rx_close(rx);
}

/* Feeds frame i of b (as split gave it). */
static void
feed_one(struct chan_rx *rx, const struct buf *b, const size_t *offs,
    const size_t *lens, size_t i)
{
	assert_int_equal(chan_rx_feed(rx, b->data + offs[i], lens[i], collect,
	    NULL), 0);
}

/* Frames are matched to their seal by seq: a batch whose frames arrive
 * out of order is delivered in order once its seal comes after them. */
static void
test_reordered_batch(void **state)
{
	static const size_t	 order[] = { 3, 0, 4, 2, 1, 5 };
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	size_t			 offs[8], lens[8], i, n;
	uint8_t			 kinds[8];

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 5, &B[0]);		/* frames 0..4, seal 5 */
	batch(tx, 6, 2, &B[1]);
	chan_tx_close(tx);
	n = split(&B[0], offs, lens, kinds, 8);
	assert_int_equal(n, 6);
	rx = rx_new(NULL, NULL);
	for (i = 0; i < 6; i++)
		feed_one(rx, &B[0], offs, lens, order[i]);
	assert_int_equal(nev, 5);
	expect_frames(0, 1, 5, CHAN_OK);

	/* Batch 2: msg-7, then msg-6, then the seal. */
	n = split(&B[1], offs, lens, kinds, 8);
	assert_int_equal(n, 3);
	feed_one(rx, &B[1], offs, lens, 1);
	feed_one(rx, &B[1], offs, lens, 0);
	feed_one(rx, &B[1], offs, lens, 2);
	assert_int_equal(nev, 7);
	expect_frames(5, 6, 2, CHAN_OK);
	chan_rx_stats(rx, &st);
	assert_true(st.delivered == 7);
	assert_true(st.lost == 0);
	chan_rx_close(rx);
}

/* A frame of the next batch that arrives before this batch's seal is not
 * spoiled by it, and is delivered by its own seal. */
static void
test_frame_ahead_of_seal(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	size_t		 o0[8], l0[8], o1[8], l1[8];
	uint8_t		 kinds[8];

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[0]);
	batch(tx, 4, 2, &B[1]);
	chan_tx_close(tx);
	split(&B[0], o0, l0, kinds, 8);
	split(&B[1], o1, l1, kinds, 8);
	rx = rx_new(NULL, NULL);
	feed_one(rx, &B[0], o0, l0, 0);
	feed_one(rx, &B[0], o0, l0, 1);
	feed_one(rx, &B[0], o0, l0, 2);
	feed_one(rx, &B[1], o1, l1, 0);		/* msg-4, early */
	feed_one(rx, &B[0], o0, l0, 3);		/* seal 1..3 */
	assert_int_equal(nev, 3);
	expect_frames(0, 1, 3, CHAN_OK);
	feed_one(rx, &B[1], o1, l1, 1);
	feed_one(rx, &B[1], o1, l1, 2);		/* seal 4..5 */
	assert_int_equal(nev, 5);
	expect_frames(3, 4, 2, CHAN_OK);
	chan_rx_close(rx);
}

/*
 * A forged frame under the seq of a genuine one, before or after it: both
 * are held, the seal picks the genuine one, the forgery is reported. A
 * third frame under that seq is a replay; the same bytes again too.
 */
static void
test_forged_twin(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	struct frame	 f;
	struct buf	 forged;
	size_t		 offs[8], lens[8];
	uint8_t		 kinds[8];
	int		 i;

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[0]);
	batch(tx, 4, 3, &B[1]);
	chan_tx_close(tx);
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_ONEWAY;
	f.epoch = 1;
	f.seq = 2;
	memcpy(f.digest, digest1, SHA256_LEN);
	strcpy(f.peer, "wechat-app");
	strcpy(f.type, "bill.query");
	f.payload = (const uint8_t *)"msg-666";
	f.payload_len = 7;
	buf_init(&forged, 4096);
	assert_int_equal(frame_encode(&forged, &f), 0);

	split(&B[0], offs, lens, kinds, 8);
	rx = rx_new(NULL, NULL);
	feed_one(rx, &B[0], offs, lens, 0);
	feed(rx, &forged);				/* before msg-2 */
	feed_one(rx, &B[0], offs, lens, 1);
	feed_one(rx, &B[0], offs, lens, 1);		/* a copy: replay */
	feed(rx, &forged);				/* again: replay */
	assert_int_equal(nev, 2);
	assert_int_equal(evs[0].verdict, CHAN_REPLAY);
	assert_int_equal(evs[1].verdict, CHAN_REPLAY);
	assert_string_equal(evs[1].text, "msg-666");
	feed_one(rx, &B[0], offs, lens, 2);
	feed_one(rx, &B[0], offs, lens, 3);		/* the seal */
	assert_int_equal(nev, 6);
	assert_int_equal(evs[2].verdict, CHAN_OK);
	assert_string_equal(evs[2].text, "msg-1");
	/* seq 2: the forgery came first, the genuine frame is chosen. */
	for (i = 3; i <= 4; i++) {
		assert_true(evs[i].seq == 2);
		if (strcmp(evs[i].text, "msg-666") == 0)
			assert_int_equal(evs[i].verdict, CHAN_BAD_SEAL);
		else
			assert_int_equal(evs[i].verdict, CHAN_OK);
	}
	assert_int_equal(evs[5].verdict, CHAN_OK);
	assert_string_equal(evs[5].text, "msg-3");

	/* The forgery after the genuine frame: the same outcome. */
	f.seq = 5;
	buf_reset(&forged);
	assert_int_equal(frame_encode(&forged, &f), 0);
	split(&B[1], offs, lens, kinds, 8);
	feed_one(rx, &B[1], offs, lens, 0);
	feed_one(rx, &B[1], offs, lens, 1);
	feed(rx, &forged);
	feed_one(rx, &B[1], offs, lens, 2);
	feed_one(rx, &B[1], offs, lens, 3);
	assert_int_equal(nev, 10);
	expect_frames(6, 4, 2, CHAN_OK);
	assert_int_equal(evs[8].verdict, CHAN_BAD_SEAL);
	assert_string_equal(evs[8].text, "msg-666");
	assert_int_equal(evs[9].verdict, CHAN_OK);
	assert_string_equal(evs[9].text, "msg-6");
	buf_free(&forged);
	chan_rx_close(rx);
}

/* Lost frames are counted by seq when an authentic seal shows them: a
 * frame lost inside a batch (the batch is refused, one lost), and a
 * whole batch lost between two seals (all of it). */
static void
test_lost_counted(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	size_t			 offs[8], lens[8];
	uint8_t			 kinds[8];

	(void)state;
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 4, &B[0]);
	batch(tx, 5, 3, &B[1]);
	batch(tx, 8, 2, &B[2]);
	chan_tx_close(tx);
	split(&B[0], offs, lens, kinds, 8);
	rx = rx_new(NULL, NULL);
	feed_one(rx, &B[0], offs, lens, 0);
	feed_one(rx, &B[0], offs, lens, 1);
	feed_one(rx, &B[0], offs, lens, 3);		/* msg-3 lost */
	feed_one(rx, &B[0], offs, lens, 4);
	assert_int_equal(nev, 3);
	expect_frames(0, 1, 2, CHAN_BAD_SEAL);
	assert_int_equal(evs[2].verdict, CHAN_BAD_SEAL);
	chan_rx_stats(rx, &st);
	assert_true(st.lost == 1);
	assert_true(st.refused == 3);
	feed(rx, &B[2]);				/* batch 2 lost */
	chan_rx_stats(rx, &st);
	assert_true(st.lost == 4);
	assert_true(st.delivered == 2);
	assert_true(st.restarts == 0);
	chan_rx_close(rx);
}

/* `link seal N`: a seal after every N frames (and at the flush), so that
 * a frame lost takes down no more than N; out of range is refused. */
static void
test_seal_every(void **state)
{
	struct ferry_link	 l = { .seal = 2 };
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	size_t			 offs[16], lens[16], n, i, seals = 0;
	uint8_t			 kinds[16] = { 0 };

	(void)state;
	tx = raw_tx(key_a, digest1);
	assert_int_equal(chan_tx_configure(tx, &l), 0);
	batch(tx, 1, 5, &B[0]);
	n = split(&B[0], offs, lens, kinds, 16);
	assert_int_equal(n, 8);		/* 5 frames, 3 seals */
	for (i = 0; i < n; i++)
		seals += kinds[i] == FRAME_SEAL;
	assert_int_equal(seals, 3);
	assert_int_equal(kinds[2], FRAME_SEAL);
	assert_int_equal(kinds[5], FRAME_SEAL);
	l.seal = FERRY_SEAL_EVERY + 1;
	assert_int_equal(chan_tx_configure(tx, &l), -EINVAL);
	chan_tx_close(tx);

	/* Frame 3 lost: only frame 4, under the same seal, goes with it. */
	rx = rx_new(NULL, NULL);
	for (i = 0; i < n; i++)
		if (i != 3)
			assert_int_equal(chan_rx_feed(rx, B[0].data + offs[i],
			    lens[i], collect, NULL), 0);
	assert_int_equal(nev, 4);
	expect_frames(0, 1, 2, CHAN_OK);
	expect_frames(2, 4, 1, CHAN_BAD_SEAL);
	expect_frames(3, 5, 1, CHAN_OK);
	chan_rx_close(rx);
}

/* chan_tx_seal: a frame between two calls has a seal of its own, so a
 * frame lost beside it does not take it down (retransmissions). A call
 * with nothing unsealed adds nothing. */
static void
test_seal_alone(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	size_t			 offs[16], lens[16], n, i;
	uint8_t			 kinds[16] = { 0 };

	(void)state;
	tx = raw_tx(key_a, digest1);
	send_n(tx, 1, 2);
	assert_int_equal(chan_tx_seal(tx), 0);
	send_n(tx, 3, 1);
	assert_int_equal(chan_tx_seal(tx), 0);
	assert_int_equal(chan_tx_seal(tx), 0);	/* nothing to seal */
	batch(tx, 4, 2, &B[0]);
	chan_tx_close(tx);
	n = split(&B[0], offs, lens, kinds, 16);
	assert_int_equal(n, 8);		/* 5 frames, 3 seals */
	assert_int_equal(kinds[2], FRAME_SEAL);
	assert_int_equal(kinds[4], FRAME_SEAL);
	assert_int_equal(kinds[7], FRAME_SEAL);

	/* msg-2 and msg-4 lost: msg-1 and msg-5 go with them, msg-3 alone
	 * under its own seal is delivered. */
	rx = rx_new(NULL, NULL);
	for (i = 0; i < n; i++)
		if (i != 1 && i != 5)
			assert_int_equal(chan_rx_feed(rx, B[0].data + offs[i],
			    lens[i], collect, NULL), 0);
	assert_int_equal(nev, 3);
	expect_frames(0, 1, 1, CHAN_BAD_SEAL);
	expect_frames(1, 3, 1, CHAN_OK);
	expect_frames(2, 5, 1, CHAN_BAD_SEAL);
	chan_rx_stats(rx, &st);
	assert_true(st.lost == 2);
	assert_true(st.delivered == 1);
	chan_rx_close(rx);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_verdict_names),
		T(test_delivered_after_seal),
		T(test_batch_of_200),
		T(test_flipped_byte),
		T(test_replay),
		T(test_old_epoch),
		T(test_forged_epoch),
		T(test_wrong_key_and_digest),
		T(test_restart_keeps_replay_guard),
		T(test_mid_stream_and_gaps),
		T(test_garbage_between_frames),
		T(test_pending_bound),
		T(test_short_seal),
		T(test_reordered_batch),
		T(test_frame_ahead_of_seal),
		T(test_forged_twin),
		T(test_lost_counted),
		T(test_seal_every),
		T(test_seal_alone),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

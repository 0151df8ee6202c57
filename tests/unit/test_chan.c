/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for ferry channels: chain, seals, verdicts, replay state and the fifo transport. */

/*
 * Throughput, measured once on the 2-core dev VM (a number, not a test):
 * 200-byte payloads through a fifo, a flush every 64 frames, about 400,000
 * frames/s with sender and receiver in two processes and 270,000 frames/s
 * in one process doing both; with a flush per frame, about 8,000 frames/s.
 * Ed25519 dominates (one signature and one verification per flush).
 */

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

#define EV_MAX	8192

struct ev {
	int		 verdict;
	int		 has_frame;
	uint8_t		 kind;
	uint32_t	 epoch;
	uint64_t	 seq;
	char		 type[FRAME_NAME_MAX + 1];
	char		 text[64];	/* payload, NUL-terminated, cut */
};

static struct ev	*evs;
static size_t		 nev;
static struct buf	 B[4];		/* captured streams, per test */
static int		 rawfd = -1;	/* raw reader of the "raw" FIFO */
static char		 tmpdir[64];
static char		 keydir[64];
static EVP_PKEY		*key_a, *pub_a, *key_b, *pub_b;	/* b: wrong signer */
static uint8_t		 digest1[SHA256_LEN], digest2[SHA256_LEN];

static void
collect(void *arg, const struct frame *f, int verdict)
{
	struct ev	*e;
	size_t		 n;

	(void)arg;
	assert_true(nev < EV_MAX);
	e = &evs[nev++];
	memset(e, 0, sizeof(*e));
	e->verdict = verdict;
	if (f == NULL)
		return;
	e->has_frame = 1;
	e->kind = f->kind;
	e->epoch = f->epoch;
	e->seq = f->seq;
	strcpy(e->type, f->type);
	n = f->payload_len < sizeof(e->text) - 1 ? f->payload_len :
	    sizeof(e->text) - 1;
	memcpy(e->text, f->payload, n);
}

static void
path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);
}

/* Generates keydir/NAME.{key,pub} and loads both halves. */
static int
key_pair(const char *name, EVP_PKEY **priv, EVP_PKEY **pub)
{
	char	 p[PATH_MAX];
	int	 n;

	n = snprintf(p, sizeof(p) - 4, "%s/%s", keydir, name);
	if (key_generate(p) != 0)
		return -1;
	strcpy(p + n, ".key");
	if (key_load_private(p, priv) != 0)
		return -1;
	strcpy(p + n, ".pub");
	return key_load_public(p, pub) == 0 ? 0 : -1;
}

static int
group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	strcpy(keydir, "/tmp/test_chan_keys.XXXXXX");
	if (mkdtemp(keydir) == NULL || key_pair("a", &key_a, &pub_a) != 0 ||
	    key_pair("b", &key_b, &pub_b) != 0)
		return -1;
	sha256("policy one", 10, digest1);
	sha256("policy two", 10, digest2);
	if ((evs = calloc(EV_MAX, sizeof(*evs))) == NULL)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	(void)state;
	EVP_PKEY_free(key_a);
	EVP_PKEY_free(pub_a);
	EVP_PKEY_free(key_b);
	EVP_PKEY_free(pub_b);
	free(evs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", keydir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	size_t	 i;

	(void)state;
	strcpy(tmpdir, "/tmp/test_chan.XXXXXX");
	nev = 0;
	for (i = 0; i < 4; i++)
		buf_init(&B[i], 1 << 22);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];
	size_t	 i;

	(void)state;
	for (i = 0; i < 4; i++)
		buf_free(&B[i]);
	if (rawfd != -1)
		close(rawfd);
	rawfd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct chan_tx *
tx_new(const char *fifo, EVP_PKEY *key, const uint8_t *digest)
{
	char		 ep[PATH_MAX + 8], state[PATH_MAX];
	struct chan_tx	*tx = NULL;

	snprintf(ep, sizeof(ep), "fifo:%s/%s", tmpdir, fifo);
	path_in(state, "tx-state");
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key, digest, state,
	    &tx), 0);
	return tx;
}

static struct chan_rx *
rx_new(const char *fifo, const char *statename)
{
	char		 ep[PATH_MAX + 8], state[PATH_MAX];
	struct chan_rx	*rx = NULL;

	snprintf(ep, sizeof(ep), "fifo:%s/%s", tmpdir, fifo);
	path_in(state, statename);
	assert_int_equal(chan_rx_open(fifo ? ep : NULL, FERRY_INWARD, pub_a,
	    digest1, statename ? state : NULL, &rx), 0);
	return rx;
}

/* A plain reader on a FIFO, to capture exactly what a sender writes. */
static int
raw_reader(const char *fifo)
{
	char	 path[PATH_MAX];
	int	 fd;

	path_in(path, fifo);
	assert_true(mkfifo(path, 0600) == 0 || errno == EEXIST);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd != -1);
	return fd;
}

static void
raw_drain(int fd, struct buf *out)
{
	ssize_t	 n;

	for (;;) {
		assert_int_equal(buf_reserve(out, 65536), 0);
		n = read(fd, out->data + out->len, 65536);
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
}

/* A connected sender to the "raw" FIFO, whose bytes the test captures. */
static struct chan_tx *
raw_tx(EVP_PKEY *key, const uint8_t *digest)
{
	struct chan_tx	*tx;

	if (rawfd == -1)
		rawfd = raw_reader("raw");
	tx = tx_new("raw", key, digest);
	assert_int_equal(chan_tx_connect(tx), 0);
	return tx;
}

static void
send_n(struct chan_tx *tx, int first, int n)
{
	char	 text[64];
	int	 i, len;

	for (i = first; i < first + n; i++) {
		len = snprintf(text, sizeof(text), "msg-%d", i);
		assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL,
		    "wechat-app", "bill.query", text, (size_t)len), 0);
	}
}

/* Flushes tx into a raw reader and appends all it wrote to out. */
static void
capture(struct chan_tx *tx, int fd, struct buf *out)
{
	int	 r;

	do {
		r = chan_tx_flush(tx);
		assert_true(r == 0 || r == -EAGAIN);
		raw_drain(fd, out);
	} while (r != 0);
	assert_int_equal(chan_tx_backlog(tx), 0);
}

/* One sealed batch of n frames from tx, captured into out. */
static void
batch(struct chan_tx *tx, int first, int n, struct buf *out)
{
	send_n(tx, first, n);
	capture(tx, rawfd, out);
}

/* Checks evs[from..from+n) are frames msg-first.. with verdict v. */
static void
expect_frames(size_t from, int first, int n, int v)
{
	char	 text[64];
	int	 i;

	assert_true(nev >= from + (size_t)n);
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "msg-%d", first + i);
		assert_int_equal(evs[from + i].verdict, v);
		assert_true(evs[from + i].has_frame);
		assert_string_equal(evs[from + i].text, text);
	}
}

/* Offsets of the frames in a captured stream; returns the count. */
static size_t
split(const struct buf *b, size_t *offs, size_t *lens, uint8_t *kinds,
    size_t max)
{
	struct frame	 f;
	size_t		 off = 0, used, n = 0;

	while (off < b->len) {
		assert_true(n < max);
		assert_int_equal(frame_decode(b->data + off, b->len - off, &f,
		    &used), 0);
		offs[n] = off;
		lens[n] = used;
		kinds[n] = f.kind;
		n++;
		off += used;
	}
	return n;
}

static void
feed(struct chan_rx *rx, const struct buf *b)
{
	assert_int_equal(chan_rx_feed(rx, b->data, b->len, collect, NULL), 0);
}

/* Feeds frames [i, j) of a captured stream; j == -1 for the rest. */
static void
feed_frames(struct chan_rx *rx, const struct buf *b, int i, int j)
{
	size_t	 offs[256], lens[256], n, end;
	uint8_t	 kinds[256];

	n = split(b, offs, lens, kinds, 256);
	assert_true(i >= 0 && (size_t)i < n && (j == -1 || (size_t)j <= n));
	end = j == -1 || (size_t)j == n ? b->len : offs[j];
	assert_int_equal(chan_rx_feed(rx, b->data + offs[i], end - offs[i],
	    collect, NULL), 0);
}

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
test_fifo_end_to_end(void **state)
{
	static char	 big[100000];
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	int		 i, r, again = 0;

	(void)state;
	rx = rx_new("in", "rx-state");
	assert_true(chan_rx_fd(rx) >= 0);
	/* No writer has come yet: nothing, and not a hang-up. */
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	tx = tx_new("in", key_a, digest1);
	assert_int_equal(chan_tx_fd(tx), -1);
	assert_int_equal(chan_tx_connect(tx), 0);
	assert_int_equal(chan_tx_connect(tx), 0);
	assert_true(chan_tx_fd(tx) >= 0);
	send_n(tx, 1, 10);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_tx_backlog(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 10);
	expect_frames(0, 1, 10, CHAN_OK);
	/* Flushing with nothing new writes nothing and adds no seal. */
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 10);

	/* More than the pipe holds: partial writes resume at the offset. */
	for (i = 0; i < 40; i++) {
		memset(big, 'a' + i % 26, sizeof(big));
		snprintf(big, 16, "msg-%d", 100 + i);
		assert_int_equal(chan_tx_send(tx, FRAME_REQUEST, NULL, "p", "t",
		    big, sizeof(big)), 0);
	}
	while ((r = chan_tx_flush(tx)) == -EAGAIN) {
		again++;
		assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	}
	assert_int_equal(r, 0);
	assert_true(again > 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 50);
	expect_frames(10, 100, 40, CHAN_OK);
	chan_tx_close(tx);
	chan_rx_close(rx);
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
test_writer_leaves(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	char		 path[PATH_MAX];
	size_t		 offs[8], lens[8];
	uint8_t		 kinds[8];
	int		 wfd;

	(void)state;
	rx = rx_new("in", "rx-state");
	tx = tx_new("in", key_a, digest1);
	assert_int_equal(chan_tx_connect(tx), 0);
	send_n(tx, 1, 3);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 3);
	chan_tx_close(tx);
	assert_int_equal(chan_rx_read(rx, collect, NULL), -EPIPE);
	assert_true(chan_rx_fd(rx) >= 0);
	/* Reopened, waiting for the next writer: not a hang-up again. */
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);

	/* A writer that leaves mid-batch and mid-frame. */
	tx = raw_tx(key_a, digest1);
	batch(tx, 1, 3, &B[0]);
	chan_tx_close(tx);
	split(&B[0], offs, lens, kinds, 8);
	path_in(path, "in");
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(wfd != -1);
	assert_int_equal(write(wfd, B[0].data, offs[2] + 10),
	    (ssize_t)(offs[2] + 10));
	close(wfd);
	assert_int_equal(chan_rx_read(rx, collect, NULL), -EPIPE);
	assert_int_equal(nev, 5);
	expect_frames(3, 1, 2, CHAN_UNSEALED);

	/* The next writer is read from a clean stream. */
	tx = tx_new("in", key_a, digest1);
	assert_int_equal(chan_tx_connect(tx), 0);
	send_n(tx, 20, 2);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 7);
	expect_frames(5, 20, 2, CHAN_OK);
	assert_int_equal(evs[5].epoch, 3);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

static void
test_reader_leaves(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	int		 r;

	(void)state;
	tx = tx_new("in", key_a, digest1);
	/* No reader yet: the caller retries on a timer. */
	assert_int_equal(chan_tx_connect(tx), -EAGAIN);
	assert_int_equal(chan_tx_fd(tx), -1);
	assert_int_equal(chan_tx_flush(tx), -ENOTCONN);
	rx = rx_new("in", "rx-state");
	assert_int_equal(chan_tx_connect(tx), 0);
	send_n(tx, 1, 3);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 3);
	chan_rx_close(rx);

	send_n(tx, 4, 3);
	assert_int_equal(chan_tx_flush(tx), -EPIPE);
	assert_int_equal(chan_tx_fd(tx), -1);
	assert_int_equal(chan_tx_backlog(tx), 0);
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t", "x",
	    1), -ENOTCONN);
	assert_int_equal(chan_tx_connect(tx), -EAGAIN);

	/* The receiver comes back with its state: the lost batch is a gap
	 * only to a receiver in step, so this one just resumes. */
	rx = rx_new("in", "rx-state");
	assert_int_equal(chan_tx_connect(tx), 0);
	send_n(tx, 7, 3);
	while ((r = chan_tx_flush(tx)) == -EAGAIN)
		;
	assert_int_equal(r, 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 6);
	expect_frames(3, 7, 3, CHAN_OK);
	assert_true(evs[3].seq == 7);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

static void
test_backlog_and_send_errors(void **state)
{
	struct chan_tx	*tx;
	uint8_t		*big;
	int		 i, r;
	char		 name[FRAME_NAME_MAX + 2];

	(void)state;
	rawfd = raw_reader("raw");
	tx = tx_new("raw", key_a, digest1);
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t", "x",
	    1), -ENOTCONN);
	assert_int_equal(chan_tx_connect(tx), 0);
	assert_int_equal(chan_tx_send(tx, FRAME_SEAL, NULL, "p", "t", "x", 1),
	    -EINVAL);
	assert_int_equal(chan_tx_send(tx, 0, NULL, "p", "t", "x", 1), -EINVAL);
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p q", "t", "x",
	    1), -EINVAL);
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, NULL, "t", "x",
	    1), -EINVAL);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", name, "x",
	    1), -EINVAL);
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t", NULL,
	    1), -EINVAL);
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t", "x",
	    FRAME_PAYLOAD_MAX + 1), -EINVAL);
	assert_int_equal(chan_tx_backlog(tx), 0);

	big = calloc(1, FRAME_PAYLOAD_MAX);
	assert_non_null(big);
	for (i = 0; i < 100; i++) {
		r = chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t", big,
		    FRAME_PAYLOAD_MAX);
		if (r != 0)
			break;
	}
	assert_int_equal(r, -ENOBUFS);
	assert_int_equal(i, FERRY_BACKLOG_MAX / (FRAME_HEADER_LEN + 2 +
	    FRAME_PAYLOAD_MAX));
	assert_true(chan_tx_backlog(tx) <= FERRY_BACKLOG_MAX);
	/* Small frames still fit, and the seal always has room. */
	assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t", "x",
	    1), 0);
	assert_int_equal(chan_tx_flush(tx), -EAGAIN);
	assert_true(chan_tx_backlog(tx) > 0);
	free(big);
	chan_tx_close(tx);
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

static void
test_open_errors(void **state)
{
	struct chan_tx	*tx = NULL;
	struct chan_rx	*rx = NULL;
	char		 ep[PATH_MAX + 8], st[PATH_MAX], path[PATH_MAX];
	int		 fd;

	(void)state;
	path_in(st, "state");
	assert_int_equal(chan_rx_open("nocolon", FERRY_INWARD, pub_a, digest1,
	    NULL, &rx), -EINVAL);
	assert_int_equal(chan_rx_open("fifo:", FERRY_INWARD, pub_a, digest1,
	    NULL, &rx), -EINVAL);
	assert_int_equal(chan_rx_open("tcp:1.2.3.4", FERRY_INWARD, pub_a,
	    digest1, NULL, &rx), -EPROTONOSUPPORT);
	assert_int_equal(chan_tx_open("fifox:/x", FERRY_INWARD, key_a, digest1,
	    st, &tx), -EPROTONOSUPPORT);
	assert_int_equal(chan_rx_open(NULL, 3, pub_a, digest1, NULL, &rx),
	    -EINVAL);
	assert_int_equal(chan_tx_open("fifo:/x", 0, key_a, digest1, st, &tx),
	    -EINVAL);
	assert_int_equal(chan_tx_open("fifo:/x", FERRY_INWARD, NULL, digest1,
	    st, &tx), -EINVAL);
	assert_null(tx);
	assert_null(rx);

	/* The path is taken by something that is not a FIFO. */
	path_in(path, "file");
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	snprintf(ep, sizeof(ep), "fifo:%s", path);
	assert_int_equal(chan_rx_open(ep, FERRY_INWARD, pub_a, digest1, NULL,
	    &rx), -EEXIST);
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, st,
	    &tx), 0);
	assert_int_equal(chan_tx_connect(tx), -EEXIST);
	chan_tx_close(tx);
	tx = NULL;

	/* The epoch counter: damaged refuses, the last value is usable,
	 * past it refuses. */
	path_in(path, "state/tx-epoch");
	assert_int_equal(write_file_atomic(path, "12x\n", 4, 0600), 0);
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, st,
	    &tx), -EINVAL);
	assert_int_equal(write_file_atomic(path, "4294967294\n", 11, 0600), 0);
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, st,
	    &tx), 0);
	assert_true(chan_tx_epoch(tx) == UINT32_MAX);
	chan_tx_close(tx);
	tx = NULL;
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, st,
	    &tx), -EOVERFLOW);
	assert_null(tx);
	/* A receiver without a transport is fed, not read. */
	rx = rx_new(NULL, NULL);
	assert_int_equal(chan_rx_fd(rx), -1);
	assert_int_equal(chan_rx_read(rx, collect, NULL), -EINVAL);
	chan_rx_close(rx);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_verdict_names),
		T(test_delivered_after_seal),
		T(test_fifo_end_to_end),
		T(test_batch_of_200),
		T(test_flipped_byte),
		T(test_replay),
		T(test_old_epoch),
		T(test_forged_epoch),
		T(test_wrong_key_and_digest),
		T(test_restart_keeps_replay_guard),
		T(test_mid_stream_and_gaps),
		T(test_garbage_between_frames),
		T(test_writer_leaves),
		T(test_reader_leaves),
		T(test_backlog_and_send_errors),
		T(test_pending_bound),
		T(test_short_seal),
		T(test_open_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

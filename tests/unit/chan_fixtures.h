/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Keys, FIFOs, captured streams and checks shared by the channel tests. */

/*
 * group_setup makes the signing keys in a temporary directory of the test
 * program; setup gives each test a fresh directory and empty event list.
 * Helpers are static inline, so a test file that leaves one unused
 * still builds under -Werror.
 */
#ifndef CHAN_FIXTURES_H
#define CHAN_FIXTURES_H

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

static inline void
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

static inline void
path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);
}

/* Generates keydir/NAME.{key,pub} and loads both halves. */
static inline int
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

static inline int
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

static inline int
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

static inline int
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

static inline int
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

static inline struct chan_tx *
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

static inline struct chan_rx *
rx_new(const char *fifo, const char *statename)
{
	char		 ep[PATH_MAX + 8], state[PATH_MAX];
	struct chan_rx	*rx = NULL;

	/* Neither name may reach a %s as NULL. */
	if (fifo != NULL)
		snprintf(ep, sizeof(ep), "fifo:%s/%s", tmpdir, fifo);
	if (statename != NULL)
		path_in(state, statename);
	assert_int_equal(chan_rx_open(fifo ? ep : NULL, FERRY_INWARD, pub_a,
	    digest1, statename ? state : NULL, &rx), 0);
	return rx;
}

/* A plain reader on a FIFO, to capture exactly what a sender writes. */
static inline int
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

static inline void
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
static inline struct chan_tx *
raw_tx(EVP_PKEY *key, const uint8_t *digest)
{
	struct chan_tx	*tx;

	if (rawfd == -1)
		rawfd = raw_reader("raw");
	tx = tx_new("raw", key, digest);
	assert_int_equal(chan_tx_connect(tx), 0);
	return tx;
}

static inline void
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
static inline void
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
static inline void
batch(struct chan_tx *tx, int first, int n, struct buf *out)
{
	send_n(tx, first, n);
	capture(tx, rawfd, out);
}

/* Checks evs[from..from+n) are frames msg-first.. with verdict v. */
static inline void
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
static inline size_t
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

static inline void
feed(struct chan_rx *rx, const struct buf *b)
{
	assert_int_equal(chan_rx_feed(rx, b->data, b->len, collect, NULL), 0);
}

/* Feeds frames [i, j) of a captured stream; j == -1 for the rest. */
static inline void
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

#endif /* CHAN_FIXTURES_H */

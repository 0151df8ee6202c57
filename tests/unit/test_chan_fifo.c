/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the ferry fifo transport: peers coming and going, limits. */

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

#include "tests/unit/chan_fixtures.h"

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
		T(test_fifo_end_to_end),
		T(test_writer_leaves),
		T(test_reader_leaves),
		T(test_backlog_and_send_errors),
		T(test_open_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

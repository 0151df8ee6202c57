/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the eth: transport on a veth pair in a private network namespace (needs root, as CI has). */

#include <sys/wait.h>

#include <sched.h>
#include <poll.h>

#include "chan_fixtures.h"
#include "ferry/transport.h"

/* One veth pair, ea <-> eb, no addresses, in this process's own netns. */
static int
eth_group_setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_eth needs root (a network namespace)\n");
		return -1;
	}
	if (unshare(CLONE_NEWNET) != 0 ||
	    system("ip link add ea type veth peer name eb && "
	    "ip link set ea up && ip link set eb up") != 0)
		return -1;
	return group_setup(state);
}

static struct chan_tx *
eth_tx(const char *ifname, const struct ferry_link *l)
{
	char		 ep[32], st[PATH_MAX];
	struct chan_tx	*tx = NULL;

	snprintf(ep, sizeof(ep), "eth:%s", ifname);
	path_in(st, "tx-state");
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, st,
	    &tx), 0);
	if (l != NULL)
		assert_int_equal(chan_tx_configure(tx, l), 0);
	assert_int_equal(chan_tx_connect(tx), 0);
	assert_true(chan_tx_fd(tx) >= 0);
	return tx;
}

static struct chan_rx *
eth_rx(const char *ifname)
{
	char		 ep[32];
	struct chan_rx	*rx = NULL;

	snprintf(ep, sizeof(ep), "eth:%s", ifname);
	assert_int_equal(chan_rx_open(ep, FERRY_INWARD, pub_a, digest1, NULL,
	    &rx), 0);
	assert_true(chan_rx_fd(rx) >= 0);
	return rx;
}

/* Reads until want events arrived or 3 s passed without any. */
static void
pump(struct chan_rx *rx, size_t want)
{
	struct pollfd	 pfd;
	int		 idle = 0;

	while (nev < want && idle < 30) {
		pfd.fd = chan_rx_fd(rx);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == 0) {
			idle++;
			continue;
		}
		idle = 0;
		assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	}
}

/* Sends n frames of size bytes as msg-first... */
static void
send_big(struct chan_tx *tx, int first, int n, size_t size)
{
	static char	 big[200000];
	int		 i;

	assert_true(size <= sizeof(big));
	for (i = first; i < first + n; i++) {
		memset(big, 'a' + i % 26, size);
		snprintf(big, 16, "msg-%d", i);
		assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "t",
		    big, size), 0);
	}
}

static void
test_small_and_fragmented(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;

	(void)state;
	rx = eth_rx("eb");
	tx = eth_tx("ea", NULL);
	send_n(tx, 1, 50);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 50);
	assert_int_equal(nev, 50);
	expect_frames(0, 1, 50, CHAN_OK);
	/* 200 kB frames: 137 fragments each at MTU 1500. */
	send_big(tx, 100, 5, 200000);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 55);
	assert_int_equal(nev, 55);
	expect_frames(50, 100, 5, CHAN_OK);
	chan_rx_stats(rx, &st);
	assert_true(st.delivered == 55);
	assert_true(st.lost == 0);
	assert_true(st.link.frames >= 57);	/* and two seals */
	assert_true(st.link.fragments >= 5 * 137);
	assert_true(st.link.duplicates == 0);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/* Copies are dropped as duplicates; pacing still delivers everything. */
static void
test_copies_and_rate(void **state)
{
	struct ferry_link	 l = { .copies = 3, .rate = 20000 };
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;

	(void)state;
	rx = eth_rx("eb");
	tx = eth_tx("ea", &l);
	send_n(tx, 1, 30);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 30);
	assert_int_equal(nev, 30);
	expect_frames(0, 1, 30, CHAN_OK);
	chan_rx_stats(rx, &st);
	/* 31 frames (30 and a seal) and one heartbeat... each frame thrice. */
	assert_true(st.link.duplicates == 62);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/* A sender that restarts: a new session and a new epoch, both seen. */
static void
test_restart(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;

	(void)state;
	rx = eth_rx("eb");
	tx = eth_tx("ea", NULL);
	send_n(tx, 1, 3);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 3);
	chan_tx_close(tx);
	tx = eth_tx("ea", NULL);
	send_n(tx, 4, 3);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 6);
	assert_int_equal(nev, 6);
	expect_frames(3, 4, 3, CHAN_OK);
	assert_int_equal(evs[3].epoch, 2);
	chan_rx_stats(rx, &st);
	assert_true(st.restarts == 1);
	assert_true(st.link.sessions == 1);
	assert_true(st.lost == 0);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/*
 * A link that refuses packets for a while (a token bucket on ea drops
 * what does not fit: ENOBUFS, a batch cut short): the sender says
 * -EAGAIN and resumes after the last packet that went, so everything
 * arrives once, nothing lost and no fragment sent twice.
 */
static void
test_resume(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	int			 r, again = 0;

	(void)state;
	assert_int_equal(system("tc qdisc add dev ea root tbf rate 100mbit "
	    "burst 4000 limit 8000"), 0);
	rx = eth_rx("eb");
	tx = eth_tx("ea", NULL);
	send_big(tx, 1, 40, 20000);	/* 14 link packets each */
	while ((r = chan_tx_flush(tx)) == -EAGAIN && again++ < 100000) {
		usleep(100);
		assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	}
	assert_int_equal(r, 0);
	assert_true(again > 10);
	pump(rx, 40);
	assert_int_equal(system("tc qdisc del dev ea root"), 0);
	assert_int_equal(nev, 40);
	expect_frames(0, 1, 40, CHAN_OK);
	chan_rx_stats(rx, &st);
	assert_true(st.delivered == 40);
	assert_true(st.lost == 0 && st.link.lost == 0);
	assert_true(st.link.duplicates == 0);
	assert_true(st.link.fragments == 40 * 14 + 1);	/* and the seal */
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/*
 * The link down while sending: -EPIPE (ENETDOWN) and the channel drops
 * what it held; up again, the sender reconnects, and the receiver gets
 * what comes next and counts the frames that never came as lost.
 */
static void
test_link_down(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	size_t			 i, ok = 0;

	(void)state;
	rx = eth_rx("eb");
	tx = eth_tx("ea", NULL);
	send_n(tx, 1, 5);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 5);
	assert_int_equal(nev, 5);
	assert_int_equal(system("ip link set ea down"), 0);
	send_big(tx, 6, 40, 20000);
	assert_int_equal(chan_tx_flush(tx), -EPIPE);
	assert_int_equal(chan_tx_flush(tx), -ENOTCONN);
	assert_int_equal(system("ip link set ea up"), 0);
	assert_int_equal(chan_tx_connect(tx), 0);
	send_n(tx, 46, 5);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 10);
	for (i = 0; i < nev; i++)
		if (evs[i].verdict == CHAN_OK)
			ok++;
	assert_int_equal(ok, 10);
	expect_frames(0, 1, 5, CHAN_OK);
	expect_frames(nev - 5, 46, 5, CHAN_OK);
	chan_rx_stats(rx, &st);
	assert_true(st.delivered == 10);
	assert_true(st.lost == 40);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/*
 * A stream (the sender paced at 200,000 link packets/s, far above what
 * counts as one) then, after a pause, a single frame: the receiver reads
 * the stream on its timer rather than per packet, and must come back to
 * waking per packet when the stream ends, or the last frame would wait
 * for nothing. The sender is a child process, so that the receiver reads
 * while it sends.
 */
static void
test_stream_then_one(void **state)
{
	struct ferry_link	 l = { .rate = 200000 };
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	pid_t			 pid;
	int			 status;

	(void)state;
	rx = eth_rx("eb");
	if ((pid = fork()) == 0) {
		tx = eth_tx("ea", &l);
		send_n(tx, 1, 5000);
		if (chan_tx_flush(tx) != 0)
			_exit(1);
		usleep(300000);
		send_n(tx, 5001, 1);
		if (chan_tx_flush(tx) != 0)
			_exit(1);
		chan_tx_close(tx);
		_exit(0);
	}
	assert_true(pid > 0);
	pump(rx, 5001);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(nev, 5001);
	expect_frames(0, 1, 5001, CHAN_OK);
	chan_rx_stats(rx, &st);
	assert_true(st.delivered == 5001 && st.lost == 0);
	chan_rx_close(rx);
}

static void
test_open_errors(void **state)
{
	struct chan_rx	*rx = NULL;
	struct chan_tx	*tx = NULL;
	struct ferry_link l = { .copies = FERRY_LINK_COPIES_MAX + 1 };
	char		 st[PATH_MAX];

	(void)state;
	assert_int_equal(chan_rx_open("eth:nosuch0", FERRY_INWARD, pub_a,
	    digest1, NULL, &rx), -ENODEV);
	assert_int_equal(chan_rx_open("eth:abcdefghijklmnopq", FERRY_INWARD,
	    pub_a, digest1, NULL, &rx), -ENAMETOOLONG);
	assert_int_equal(chan_rx_open("eth:lo", FERRY_INWARD, pub_a,
	    digest1, NULL, &rx), -EPROTOTYPE);
	assert_null(rx);
	path_in(st, "tx-state");
	assert_int_equal(chan_tx_open("eth:ea", FERRY_INWARD, key_a, digest1,
	    st, &tx), 0);
	assert_int_equal(chan_tx_configure(tx, &l), -EINVAL);
	l.copies = 1;
	l.timeout_ms = FERRY_LINK_TIMEOUT_MAX + 1;
	assert_int_equal(chan_tx_configure(tx, &l), -EINVAL);
	chan_tx_close(tx);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_small_and_fragmented),
		T(test_copies_and_rate),
		T(test_restart),
		T(test_resume),
		T(test_link_down),
		T(test_stream_then_one),
		T(test_open_errors),
	};

	return cmocka_run_group_tests(tests, eth_group_setup, group_teardown);
}

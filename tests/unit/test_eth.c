/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the eth: transport on a veth pair in a private network namespace (needs root, as CI has). */

#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/if_packet.h>
#include <net/if.h>

#include <arpa/inet.h>
#include <sched.h>
#include <poll.h>

#include "chan_fixtures.h"
#include "ferry/transport.h"

static uint8_t		 link_key[FERRY_LINK_KEY_LEN];	/* random per run */

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
	if (random_bytes(link_key, sizeof(link_key)) != 0)
		return -1;
	return group_setup(state);
}

static struct chan_tx *
eth_tx(const char *ifname, const struct ferry_link *l)
{
	char		 ep[32], st[PATH_MAX];
	struct chan_tx	*tx = NULL;
	struct ferry_link keyed = { .key = link_key };

	snprintf(ep, sizeof(ep), "eth:%s", ifname);
	path_in(st, "tx-state");
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, st,
	    &tx), 0);
	if (l != NULL)
		keyed = *l;
	assert_int_equal(chan_tx_configure(tx, &keyed), 0);
	assert_int_equal(chan_tx_connect(tx), 0);
	assert_true(chan_tx_fd(tx) >= 0);
	return tx;
}

static struct chan_rx *
eth_rx(const char *ifname)
{
	char		 ep[32];
	struct chan_rx	*rx = NULL;
	struct ferry_link keyed = { .key = link_key };

	snprintf(ep, sizeof(ep), "eth:%s", ifname);
	assert_int_equal(chan_rx_open(ep, FERRY_INWARD, pub_a, digest1, NULL,
	    &rx), 0);
	assert_int_equal(chan_rx_configure(rx, &keyed), 0);
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

/* A raw packet socket on ifname for the link's EtherType. */
static int
raw_socket(const char *ifname)
{
	struct sockaddr_ll	 sll;
	int			 fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_FERRY_TYPE));
	assert_true(fd >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_FERRY_TYPE);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
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
	struct ferry_link	 l = { .key = link_key, .copies = 3,
				    .rate = 20000 };
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;

	static uint8_t		 seen[32][3][2048];
	uint8_t			 p[2048];
	struct frag_hdr		 h;
	const uint8_t		*d;
	size_t			 ncopies[32];
	ssize_t			 n;
	int			 sn;
	unsigned		 i, c;

	(void)state;
	memset(ncopies, 0, sizeof(ncopies));
	sn = raw_socket("eb");
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
	/* The copies are the same bytes, tag and all: one tag per packet. */
	while ((n = recv(sn, p, sizeof(p), MSG_DONTWAIT)) > 14) {
		if (frag_decode(p + 14, (size_t)n - 14, &h, &d) != 0 ||
		    h.type != FRAG_DATA || h.msg > 31)
			continue;
		assert_true((size_t)n - 14 <= sizeof(seen[0][0]));
		c = (unsigned)ncopies[h.msg]++;
		assert_true(c < 3);
		memcpy(seen[h.msg][c], p + 14, (size_t)n - 14);
	}
	close(sn);
	for (i = 1; i <= 31; i++) {
		assert_int_equal(ncopies[i], 3);
		assert_memory_equal(seen[i][0], seen[i][1], sizeof(seen[i][0]));
		assert_memory_equal(seen[i][0], seen[i][2], sizeof(seen[i][0]));
	}
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
resume_case(uint32_t copies, uint32_t parity, size_t size, uint64_t per)
{
	struct ferry_link	 l = { .key = link_key, .copies = copies,
				    .parity = parity };
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	int			 r, again = 0;

	assert_int_equal(system("tc qdisc add dev ea root tbf rate 100mbit "
	    "burst 4000 limit 8000"), 0);
	rx = eth_rx("eb");
	tx = eth_tx("ea", &l);
	send_big(tx, 1, 40, size);
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
	assert_true(st.link.bad_tag == 0 && st.link.recovered == 0);
	assert_true(st.link.fragments == 40 * per + 1);	/* and the seal */
	/* Each copy once: none sent twice, none skipped. */
	assert_true(st.link.duplicates == (copies - 1) * st.link.fragments);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

static void
test_resume(void **state)
{
	(void)state;
	resume_case(1, 0, 20000, 14);
}

/* With parity (a fragment is 48 bytes shorter: 15 of them), a group cut
 * short by a refused packet gets no parity, and the next starts afresh
 * at the packet that failed: still each fragment once. */
static void
test_resume_parity(void **state)
{
	(void)state;
	resume_case(1, 4, 20000, 15);
}

/* The same with copies: each copy is a data packet of its own group. */
static void
test_resume_parity_copies(void **state)
{
	(void)state;
	resume_case(2, 3, 3000, 3);
}

/* With copies, a batch holds the copies of one frame and the first pass
 * of the next: a flush cut short in the former resumes there, and its
 * copies must be tagged as that frame's, not with the tags kept since. */
static void
test_resume_copies(void **state)
{
	(void)state;
	resume_case(2, 0, 3000, 3);
}

/*
 * Parity on the link, through a relay in this test that drops one data
 * packet of every group (a different member each time): every frame
 * arrives, each drop rebuilt from its group's parity. The sender is on a
 * second veth pair (ec -> ed); the relay reads ed and writes what it
 * keeps into ea, so the receiver on eb hears only that. It holds each
 * group until its parity packet comes, so that the last group, which has
 * none, loses nothing.
 */
static void
test_parity_drop(void **state)
{
	struct ferry_link	 l = { .key = link_key, .parity = 4 };
	static uint8_t		 held[64][2048];
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	struct frag_hdr		 h;
	const uint8_t		*d;
	uint8_t			 p[2048];
	size_t			 len[64], nheld = 0, i;
	ssize_t			 n;
	uint32_t		 dropped = 0, parities = 0, seq, drop;
	int			 sin, sout, r, again = 0, idle = 0, one = 8 << 20;

	(void)state;
	assert_int_equal(system("ip link add ec type veth peer name ed && "
	    "ip link set ec up && ip link set ed up"), 0);
	sin = raw_socket("ed");
	assert_int_equal(setsockopt(sin, SOL_SOCKET, SO_RCVBUFFORCE, &one,
	    sizeof(one)), 0);
	sout = raw_socket("ea");
	rx = eth_rx("eb");
	tx = eth_tx("ec", &l);
	send_n(tx, 1, 40);
	send_big(tx, 100, 4, 20000);
	while ((r = chan_tx_flush(tx)) == -EAGAIN && again++ < 1000)
		usleep(1000);
	assert_int_equal(r, 0);
	while (idle < 20) {
		if ((n = recv(sin, p, sizeof(p), MSG_DONTWAIT)) <= 14) {
			idle++;
			usleep(10000);
			continue;
		}
		idle = 0;
		assert_int_equal(frag_decode(p + 14, (size_t)n - 14, &h, &d),
		    0);
		assert_true(nheld < 64);
		memcpy(held[nheld], p, (size_t)n);
		len[nheld++] = (size_t)n;
		if (h.type != FRAG_PARITY)
			continue;
		/* The group's member to drop: the first of group 1, the
		 * second of group 2, ... */
		parities++;
		assert_true(h.count >= 1 && h.count <= 4);
		drop = (uint32_t)h.msg + parities % h.count;
		for (i = 0; i < nheld; i++) {
			assert_int_equal(frag_decode(held[i] + 14, len[i] - 14,
			    &h, &d), 0);
			seq = h.type == FRAG_DATA ? h.seq : 0;
			if (seq == drop) {
				dropped++;
				continue;
			}
			assert_int_equal(send(sout, held[i], len[i], 0),
			    (ssize_t)len[i]);
		}
		nheld = 0;
	}
	for (i = 0; i < nheld; i++)
		assert_int_equal(send(sout, held[i], len[i], 0),
		    (ssize_t)len[i]);
	pump(rx, 44);
	assert_int_equal(nev, 44);
	expect_frames(0, 1, 40, CHAN_OK);
	expect_frames(40, 100, 4, CHAN_OK);
	chan_rx_stats(rx, &st);
	/* 40 frames of one packet, 4 of 15, and seals: 100 and more, in
	 * groups of 4 (the last of a send burst may be smaller). */
	assert_true(parities >= 25);
	assert_int_equal(dropped, parities);
	assert_true(st.link.recovered == dropped);
	assert_true(st.lost == 0 && st.link.lost == 0);
	assert_true(st.link.bad_tag == 0 && st.link.malformed == 0);
	close(sin);
	close(sout);
	chan_tx_close(tx);
	chan_rx_close(rx);
	assert_int_equal(system("ip link del ec"), 0);
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
	struct ferry_link	 l = { .key = link_key, .rate = 200000 };
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
	l.timeout_ms = 0;
	l.parity = FRAG_PARITY_MIN - 1;
	assert_int_equal(chan_tx_configure(tx, &l), -EINVAL);
	l.parity = FRAG_PARITY_MAX + 1;
	assert_int_equal(chan_tx_configure(tx, &l), -EINVAL);
	chan_tx_close(tx);
	/* A parity packet would not fit an MTU of 1135 (the least without
	 * parity, 1136, fits one header and 1088 bytes). */
	assert_int_equal(system("ip link set ea mtu 1150"), 0);
	assert_int_equal(chan_tx_open("eth:ea", FERRY_INWARD, key_a, digest1,
	    st, &tx), 0);
	l.parity = FRAG_PARITY_MIN;
	assert_int_equal(chan_tx_configure(tx, &l), -EMSGSIZE);
	chan_tx_close(tx);
	assert_int_equal(system("ip link set ea mtu 1500"), 0);
}

/* The session and highest msg of the genuine packets sniff has heard. */
static void
sniff(int fd, uint32_t *session, uint64_t *msg)
{
	uint8_t			 p[2048];
	struct frag_hdr		 h;
	const uint8_t		*d;
	ssize_t			 n;

	while ((n = recv(fd, p, sizeof(p), MSG_DONTWAIT)) > 14) {
		if (frag_decode(p + 14, (size_t)n - 14, &h, &d) != 0)
			continue;
		*session = h.session;
		if (h.msg > *msg)
			*msg = h.msg;
	}
}

/*
 * Forged packets, right shape and aimed at the genuine sender's session
 * and the next msgs it will use (whole one-fragment frames, a heartbeat
 * far ahead), tagged with another key or with the right key for the
 * other direction, sent between the genuine bursts: every genuine frame
 * is delivered, nothing is lost, and each forgery is counted bad_tag.
 */
static void
test_forged_interleaved(void **state)
{
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	struct linkmac		*wrong, *reflect;
	struct frag_hdr		 h;
	uint8_t			 k2[FERRY_LINK_KEY_LEN], p[14 + FRAG_HDR_LEN + 64];
	uint32_t		 session = 0;
	uint64_t		 msg = 0, m, forged = 0;
	int			 sn, fd, burst;

	(void)state;
	memcpy(k2, link_key, sizeof(k2));
	k2[0] ^= 0xff;
	assert_int_equal(linkmac_new(k2, FERRY_INWARD, &wrong), 0);
	assert_int_equal(linkmac_new(link_key, FERRY_OUTWARD, &reflect), 0);
	rx = eth_rx("eb");
	tx = eth_tx("ea", NULL);
	sn = raw_socket("eb");
	fd = raw_socket("ea");
	memset(p, 0xff, 12);
	p[12] = ETH_FERRY_TYPE >> 8;
	p[13] = ETH_FERRY_TYPE & 0xff;
	for (burst = 0; burst < 10; burst++) {
		send_n(tx, 1 + 5 * burst, 5);
		assert_int_equal(chan_tx_flush(tx), 0);
		usleep(20000);
		sniff(sn, &session, &msg);
		assert_true(msg > 0);
		for (m = msg + 1; m <= msg + 4; m++) {
			memset(&h, 0, sizeof(h));
			h.type = m == msg + 4 ? FRAG_HEARTBEAT : FRAG_DATA;
			h.session = session;
			h.msg = h.type == FRAG_HEARTBEAT ? msg + 1000 : m;
			if (h.type == FRAG_DATA) {
				h.count = 1;
				h.total = h.data_len = 64;
				memset(p + 14 + FRAG_HDR_LEN, 'F', 64);
			}
			frag_put_header(p + 14, &h);
			assert_int_equal(linkmac_tag(m % 2 ? wrong : reflect,
			    p + 14, h.data_len), 0);
			assert_int_equal(send(fd, p, 14 + FRAG_HDR_LEN +
			    h.data_len, 0), (ssize_t)(14 + FRAG_HDR_LEN +
			    h.data_len));
			forged++;
		}
		pump(rx, 5 * ((size_t)burst + 1));
	}
	assert_int_equal(nev, 50);
	expect_frames(0, 1, 50, CHAN_OK);
	chan_rx_stats(rx, &st);
	assert_true(st.delivered == 50);
	assert_true(st.lost == 0);
	assert_true(st.link.lost == 0);
	assert_true(st.link.bad_tag == forged);
	assert_true(st.link.sessions == 0);
	close(sn);
	close(fd);
	linkmac_free(wrong);
	linkmac_free(reflect);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/* Without a link key a sender never connects, and a receiver takes
 * nothing: the keyed sender's frames are all bad_tag. */
static void
test_no_key(void **state)
{
	struct chan_tx		*tx = NULL;
	struct chan_rx		*rx = NULL;
	struct chan_rx_stats	 st;
	char			 path[PATH_MAX];

	(void)state;
	path_in(path, "tx-state");
	assert_int_equal(chan_tx_open("eth:ea", FERRY_INWARD, key_a, digest1,
	    path, &tx), 0);
	assert_int_equal(chan_tx_connect(tx), -ENOKEY);
	chan_tx_close(tx);
	assert_int_equal(chan_rx_open("eth:eb", FERRY_INWARD, pub_a, digest1,
	    NULL, &rx), 0);
	tx = eth_tx("ea", NULL);
	send_n(tx, 1, 5);
	assert_int_equal(chan_tx_flush(tx), 0);
	pump(rx, 1);
	assert_int_equal(nev, 0);
	chan_rx_stats(rx, &st);
	assert_true(st.link.bad_tag >= 6);	/* 5 frames, a seal, ... */
	assert_true(st.link.fragments == 0);
	chan_tx_close(tx);
	chan_rx_close(rx);
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
		T(test_resume_copies),
		T(test_resume_parity),
		T(test_resume_parity_copies),
		T(test_parity_drop),
		T(test_link_down),
		T(test_stream_then_one),
		T(test_open_errors),
		T(test_forged_interleaved),
		T(test_no_key),
	};

	return cmocka_run_group_tests(tests, eth_group_setup, group_teardown);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Benchmark: ferry frames over eth: on a veth pair, sender and receiver in two processes (bench/eth.sh). */

/*
 * Usage: eth_bench IFTX IFRX SIZE COUNT [COPIES [RATE]]
 * Run as root in a network namespace where IFTX and IFRX are the two ends
 * of a veth pair. The child receives on IFRX; the parent sends COUNT
 * one-way frames of SIZE payload bytes on IFTX, flushing (one seal) every
 * 64 frames, as a busy outer does. Prints one line: frames and payload
 * MB/s delivered, link packets/s sent, and what the receiver lost.
 *
 * eth_bench raw IFTX SIZE COUNT: the floor, COUNT Ethernet frames of SIZE
 * bytes with pcap_inject alone (one send() each), nothing received.
 *
 * eth_bench tag SIZE COUNT: the link tag alone, COUNT link packets of SIZE
 * data bytes tagged, then verified (HMAC-SHA256 under a random link key):
 * microseconds per packet each way.
 */

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

static uint64_t	 ndelivered, nbad;
static uint8_t	 link_key[FERRY_LINK_KEY_LEN];

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
count(void *arg, const struct frame *f, int verdict)
{
	(void)arg;
	(void)f;
	if (verdict == CHAN_OK)
		ndelivered++;
	else
		nbad++;
}

static int
receive(const char *ifname, EVP_PKEY *pub, const uint8_t *digest,
    uint64_t want, int ready_fd, int result_fd)
{
	struct chan_rx		*rx;
	struct chan_rx_stats	 st;
	struct ferry_link	 l = { .key = link_key };
	struct pollfd		 pfd;
	char			 ep[32], line[256];
	double			 t0 = 0, t1 = 0;
	int			 idle = 0, r;

	snprintf(ep, sizeof(ep), "eth:%s", ifname);
	if ((r = chan_rx_open(ep, FERRY_INWARD, pub, digest, NULL, &rx)) != 0 ||
	    (r = chan_rx_configure(rx, &l)) != 0) {
		fprintf(stderr, "rx open: %s\n", strerror(-r));
		return 1;
	}
	(void)write(ready_fd, "r", 1);
	pfd.fd = chan_rx_fd(rx);
	pfd.events = POLLIN;
	while (ndelivered + nbad < want && idle < 20) {
		if (poll(&pfd, 1, 100) == 0) {
			if (t0 != 0)
				idle++;
			continue;
		}
		idle = 0;
		if (t0 == 0)
			t0 = now_s();
		(void)chan_rx_read(rx, count, NULL);
		t1 = now_s();
	}
	chan_rx_stats(rx, &st);
	snprintf(line, sizeof(line), "%llu %llu %llu %.6f\n",
	    (unsigned long long)ndelivered, (unsigned long long)st.lost,
	    (unsigned long long)st.link.lost, t1 - t0);
	(void)write(result_fd, line, strlen(line));
	chan_rx_close(rx);
	return 0;
}

static int
raw(const char *ifname, size_t size, uint64_t n)
{
	char		 err[PCAP_ERRBUF_SIZE];
	uint8_t		 pkt[9014];
	pcap_t		*p;
	uint64_t	 i;
	double		 t0, t;

	if (size < 60 || size > sizeof(pkt) ||
	    (p = pcap_open_live(ifname, 64, 0, 0, err)) == NULL)
		return 2;
	memset(pkt, 0xff, 6);
	memset(pkt + 6, 0x02, 6);
	pkt[12] = 0x88;
	pkt[13] = 0xb6;		/* not the ferry's: nobody parses these */
	memset(pkt + 14, 'r', size - 14);
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (pcap_inject(p, pkt, size) < 0)
			return 1;
	t = now_s() - t0;
	printf("%8zu B frames, pcap_inject alone: %.0f frames/s, %.1f MB/s\n",
	    size, n / t, n * size / t / 1e6);
	pcap_close(p);
	return 0;
}

static int
tag(size_t size, uint64_t n)
{
	static uint8_t	 pkt[FRAG_HDR_LEN + 9000];
	struct linkmac	*m;
	struct frag_hdr	 h;
	uint64_t	 i;
	double		 t0, t_tag, t_verify;

	if (size == 0 || size > 9000 || n == 0 ||
	    linkmac_new(link_key, FERRY_INWARD, &m) != 0)
		return 2;
	memset(&h, 0, sizeof(h));
	h.type = FRAG_DATA;
	h.count = 1;
	h.msg = 1;
	h.data_len = (uint16_t)size;
	h.total = (uint32_t)size;
	frag_put_header(pkt, &h);
	memset(pkt + FRAG_HDR_LEN, 't', size);
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (linkmac_tag(m, pkt, size) != 0)
			return 1;
	t_tag = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (linkmac_verify(m, pkt, FRAG_HDR_LEN + size) != 0)
			return 1;
	t_verify = now_s() - t0;
	printf("%8zu B link packets, HMAC-SHA256 tag: %.2f us to tag, "
	    "%.2f us to verify (%.0f packets/s, %.0f MB/s on one core)\n",
	    size, t_tag / n * 1e6, t_verify / n * 1e6, n / t_verify,
	    n * size / t_verify / 1e6);
	linkmac_free(m);
	return 0;
}

int
main(int argc, char **argv)
{
	EVP_PKEY_CTX		*kc;
	EVP_PKEY		*key = NULL;
	struct chan_tx		*tx;
	struct ferry_link	 l = { 0 };
	uint8_t			 digest[SHA256_LEN] = { 1 };
	char			 ep[32], dir[] = "/tmp/eth_bench.XXXXXX";
	char			 res[256], *payload;
	int			 ready[2], result[2], r, status;
	uint64_t		 i, size, n, got = 0, lost = 0, llost = 0, room;
	double			 t0, t_tx, rx_s = 0;
	ssize_t			 k;
	pid_t			 pid;

	if (random_bytes(link_key, sizeof(link_key)) != 0)
		return 1;
	l.key = link_key;
	if (argc == 5 && strcmp(argv[1], "raw") == 0)
		return raw(argv[2], strtoul(argv[3], NULL, 10),
		    strtoull(argv[4], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "tag") == 0)
		return tag(strtoul(argv[2], NULL, 10),
		    strtoull(argv[3], NULL, 10));
	if (argc < 5 || argc > 8) {
		fprintf(stderr, "usage: eth_bench IFTX IFRX SIZE COUNT "
		    "[COPIES [RATE [PARITY]]]\n");
		return 2;
	}
	size = strtoull(argv[3], NULL, 10);
	n = strtoull(argv[4], NULL, 10);
	if (argc >= 6)
		l.copies = (uint32_t)strtoul(argv[5], NULL, 10);
	if (argc >= 7)
		l.rate = (uint32_t)strtoul(argv[6], NULL, 10);
	if (argc >= 8)
		l.parity = (uint32_t)strtoul(argv[7], NULL, 10);
	/* Data bytes a link packet carries at MTU 1500 (a parity packet is
	 * a header longer than its members). */
	room = l.parity != 0 ? 1404 : 1452;
	if (size == 0 || size > FRAME_PAYLOAD_MAX || n == 0 ||
	    (payload = malloc(size)) == NULL)
		return 2;
	memset(payload, 'x', size);
	if ((kc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kc) != 1 || EVP_PKEY_keygen(kc, &key) != 1)
		return 1;
	EVP_PKEY_CTX_free(kc);
	if (pipe(ready) != 0 || pipe(result) != 0 || mkdtemp(dir) == NULL)
		return 1;
	if ((pid = fork()) == -1)
		return 1;
	if (pid == 0)
		_exit(receive(argv[2], key, digest, n, ready[1], result[1]));
	if (read(ready[0], res, 1) != 1)
		return 1;

	snprintf(ep, sizeof(ep), "eth:%s", argv[1]);
	if ((r = chan_tx_open(ep, FERRY_INWARD, key, digest, dir, &tx)) != 0 ||
	    (r = chan_tx_configure(tx, &l)) != 0 ||
	    (r = chan_tx_connect(tx)) != 0) {
		fprintf(stderr, "tx: %s\n", strerror(-r));
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if ((r = chan_tx_send(tx, FRAME_ONEWAY, NULL, "bench", "b",
		    payload, size)) != 0) {
			fprintf(stderr, "send: %s\n", strerror(-r));
			return 1;
		}
		if ((i + 1) % FERRY_SEAL_EVERY == 0 || i + 1 == n)
			while ((r = chan_tx_flush(tx)) == -EAGAIN)
				;
	}
	t_tx = now_s() - t0;
	chan_tx_close(tx);
	if ((k = read(result[0], res, sizeof(res) - 1)) > 0) {
		res[k] = '\0';
		(void)sscanf(res, "%lu %lu %lu %lf", &got, &lost, &llost,
		    &rx_s);
	}
	waitpid(pid, &status, 0);
	if (rx_s <= 0)
		rx_s = t_tx;
	printf("%8lu B x %lu: sent in %.3f s; delivered %lu (%.0f frames/s, "
	    "%.1f MB/s payload); link packets %.0f/s; lost %lu frames "
	    "(%lu at the link)\n", (unsigned long)size, (unsigned long)n,
	    t_tx, (unsigned long)got, got / rx_s, got * size / rx_s / 1e6,
	    (double)n * ((size + room) / room) * (l.copies ? l.copies : 1) *
	    (l.parity ? 1 + 1.0 / l.parity : 1) / t_tx, (unsigned long)lost,
	    (unsigned long)llost);
	snprintf(res, sizeof(res), "rm -rf '%s'", dir);
	(void)system(res);
	EVP_PKEY_free(key);
	free(payload);
	return got == n ? 0 : 1;
}

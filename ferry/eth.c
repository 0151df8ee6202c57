/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The eth:IFACE transport: ferry frames as raw Ethernet frames through libpcap, fragmented, paced, repeated, with parity. */

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include <linux/if_packet.h>

#include <net/if.h>
#include <net/if_arp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "ferry/transport.h"

#define ETH_HDR_LEN	14
#define ETH_MTU_MIN	(FRAG_HDR_LEN + 1088)	/* a largest frame in <= 1024 */
#define ETH_MTU_MAX	FRAG_PKT_MAX
#define ETH_MTU_PARITY	(2 * FRAG_HDR_LEN + 1088)	/* the same, with parity */
#define ETH_RX_BUFFER	(16 * 1024 * 1024)	/* the kernel ring */
#define ETH_RX_BURST	1024		/* link packets per pcap_dispatch */
#define ETH_RX_BUSY	64		/* link packets a ms: a stream */
#define ETH_RX_POLL_NS	200000ULL	/* a stream is read this often */
#define ETH_TX_BATCH	64		/* link packets per sendmmsg */
#define ETH_TX_NONE	UINT32_MAX	/* a queued heartbeat: no frame */
#define ETH_OUT_MAX	(2 * FRAME_LEN_MAX)	/* reassembled, not yet read */
#define ETH_SLEEP_MAX	10000000ULL	/* ns of pacing per sleep */
#define ETH_PACE_SLACK	1000000ULL	/* ns a paced sender may run ahead */

/*
 * TX: link packets queued for one sendmmsg, each sent from three pieces
 * (Ethernet header, link header, the fragment's bytes where they lie in
 * the frame), and where each came from, to resume after what was sent.
 */
struct eth_txq {
	struct mmsghdr		 mh[ETH_TX_BATCH];
	struct iovec		 iov[ETH_TX_BATCH][3];
	uint8_t			 hdr[ETH_TX_BATCH][FRAG_HDR_LEN];
	uint64_t		 msg[ETH_TX_BATCH];	/* e->msg before it */
	uint32_t		 k[ETH_TX_BATCH];	/* packet of its frame */
	size_t			 off[ETH_TX_BATCH];	/* its frame, in send */
	unsigned int		 n;
	uint8_t			*par;	/* a parity packet's data, mtu bytes
					 * for each entry; NULL: no parity */
};

struct eth {
	struct transport	 base;
	enum transport_role	 role;
	pcap_t			*p;
	int			 pfd;		/* pcap's socket */
	int			 efd;		/* RX: epoll over pfd, tfd */
	int			 tfd;		/* RX: reorder timeouts */
	int			 connected;	/* TX */
	char			 ifname[IF_NAMESIZE];
	uint8_t			 mac[6];
	uint32_t		 mtu;		/* after the Ethernet header */
	struct ferry_link	 link;
	struct linkmac		*lmac;		/* NULL until configured */

	/* TX */
	uint32_t		 session;
	uint64_t		 msg;		/* the last msg sent whole */
	uint32_t		 done;		/* packets of msg + 1 sent */
	uint64_t		 pace_ns;	/* next packet not before */
	uint8_t			 tags[FRAG_COUNT_MAX][LINK_TAG_LEN];
	uint64_t		 tags_msg;	/* whose tags; 0: none */
	uint32_t		 seq;		/* the last data packet's seq */
	uint8_t			*acc;		/* the group's XOR, mtu bytes */
	uint32_t		 acc_n;		/* data packets in it */
	size_t			 acc_len;	/* the longest of them */
	uint32_t		 acc_first;	/* the first one's seq */
	struct ferry_link_stats	 st;
	uint8_t			 ethhdr[ETH_HDR_LEN];
	struct eth_txq		 q;
	size_t			 resume;	/* off of the packet that failed */

	/* RX */
	struct frag_rx		*fr;
	uint64_t		 armed_ns;	/* the timer's expiry; 0: none */
	uint64_t		 win_ns;	/* this count of packets began */
	uint64_t		 win_pkts;
	int			 busy;		/* a stream: read on the timer */
	struct buf		 out;
	size_t			 out_off;
};

static uint64_t
eth_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The interface's MAC address and MTU, asked once at open (the sandbox
 * allows no new socket later). */
static int
eth_ifinfo(struct eth *e)
{
	struct ifreq	 ifr;
	int		 fd, r = 0;

	if ((fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, e->ifname, strlen(e->ifname));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		r = errno == ENODEV ? -ENODEV : -errno;
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		r = -EPROTOTYPE;
		goto out;
	}
	memcpy(e->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == -1) {
		r = -errno;
		goto out;
	}
	if (ifr.ifr_mtu < ETH_MTU_MIN) {
		r = -EMSGSIZE;
		goto out;
	}
	e->mtu = ifr.ifr_mtu > ETH_MTU_MAX ? ETH_MTU_MAX :
	    (uint32_t)ifr.ifr_mtu;
 out:
	close(fd);
	return r;
}

/* A pcap handle on the interface: RX hears only what comes in with our
 * EtherType; TX hears nothing. */
static int
eth_pcap(struct eth *e)
{
	char			 err[PCAP_ERRBUF_SIZE];
	char			 filter[64];
	struct bpf_program	 prog;
	int			 r, one;

	if ((e->p = pcap_create(e->ifname, err)) == NULL)
		return -ENODEV;
	if (pcap_set_snaplen(e->p, (int)(ETH_HDR_LEN + e->mtu)) != 0 ||
	    pcap_set_promisc(e->p, 0) != 0 ||
	    pcap_set_immediate_mode(e->p, 1) != 0 ||
	    pcap_set_buffer_size(e->p, e->role == TRANSPORT_RX ?
	    ETH_RX_BUFFER : 65536) != 0)
		return -EINVAL;
	if ((r = pcap_activate(e->p)) < 0)
		return r == PCAP_ERROR_PERM_DENIED ? -EPERM :
		    r == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
	if (pcap_datalink(e->p) != DLT_EN10MB)
		return -EPROTOTYPE;
	if (e->role == TRANSPORT_RX) {
		if (pcap_setdirection(e->p, PCAP_D_IN) != 0)
			return -EIO;
		(void)snprintf(filter, sizeof(filter), "ether proto 0x%04x",
		    ETH_FERRY_TYPE);
	} else
		(void)snprintf(filter, sizeof(filter), "less 1");
	if (pcap_compile(e->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
		return -EIO;
	r = pcap_setfilter(e->p, &prog);
	pcap_freecode(&prog);
	if (r != 0)
		return -EIO;
	if (e->role == TRANSPORT_RX && pcap_setnonblock(e->p, 1, err) != 0)
		return -EIO;
	if ((e->pfd = pcap_get_selectable_fd(e->p)) < 0)
		return -EIO;
	/* Neither end wants what this host sends: without this, the kernel
	 * clones every outgoing packet for the socket's filter (or, RX, its
	 * ring) to refuse. An older kernel without it only works harder. */
	one = 1;
	(void)setsockopt(e->pfd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one));
	return 0;
}

/* RX: one descriptor to watch for both packets and timeouts. */
static int
eth_rx_fds(struct eth *e)
{
	struct epoll_event	 ev;

	if ((e->tfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC)) == -1 ||
	    (e->efd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = e->pfd;
	if (epoll_ctl(e->efd, EPOLL_CTL_ADD, e->pfd, &ev) == -1)
		return -errno;
	ev.data.fd = e->tfd;
	if (epoll_ctl(e->efd, EPOLL_CTL_ADD, e->tfd, &ev) == -1)
		return -errno;
	return 0;
}

static void	eth_close(struct transport *);

/* Opens the handle at once for both roles: it needs CAP_NET_RAW, which
 * the daemon gives up before it connects. */
static int
eth_open(const char *arg, enum transport_role role, struct transport **ret)
{
	struct eth	*e;
	size_t		 n;
	int		 r;

	n = strlen(arg);
	if (n == 0)
		return -EINVAL;
	if (n >= IF_NAMESIZE)
		return -ENAMETOOLONG;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->base.ops = &eth_transport_ops;
	e->role = role;
	e->pfd = e->efd = e->tfd = -1;
	e->link.copies = 1;
	e->link.timeout_ms = FERRY_LINK_TIMEOUT_MS;
	memcpy(e->ifname, arg, n + 1);
	buf_init(&e->out, ETH_OUT_MAX);
	if ((r = eth_ifinfo(e)) != 0 || (r = eth_pcap(e)) != 0)
		goto fail;
	if (role == TRANSPORT_RX) {
		if ((e->fr = malloc(sizeof(*e->fr))) == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		frag_rx_init(e->fr, (uint64_t)e->link.timeout_ms * 1000000);
		if ((r = eth_rx_fds(e)) != 0)
			goto fail;
	} else {
		if ((r = random_bytes(&e->session, sizeof(e->session))) != 0)
			goto fail;
		/* Broadcast: no ARP on the link. */
		memset(e->ethhdr, 0xff, 6);
		memcpy(e->ethhdr + 6, e->mac, 6);
		e->ethhdr[12] = ETH_FERRY_TYPE >> 8;
		e->ethhdr[13] = ETH_FERRY_TYPE & 0xff;
	}
	*ret = &e->base;
	return 0;
 fail:
	eth_close(&e->base);
	return r;
}

/* The link key: every packet is tagged with it, and none is taken
 * without it. */
static int
eth_configure_key(struct eth *e, const struct ferry_link *l)
{
	struct linkmac	*mac = NULL;
	int		 r;

	if (l->key != NULL &&
	    (r = linkmac_new(l->key, l->dir, &mac)) != 0)
		return r;
	linkmac_free(e->lmac);
	e->lmac = mac;
	if (e->fr != NULL)
		frag_rx_key(e->fr, mac);
	return 0;
}

/* The sender's parity buffers: the group's XOR, and a place for the data
 * of a parity packet at each entry of the batch (it stays there until it
 * is sent). */
static int
eth_configure_parity(struct eth *e, uint32_t parity)
{
	uint8_t	*acc = NULL, *par = NULL;

	if (parity != 0 && ((acc = malloc(e->mtu)) == NULL ||
	    (par = malloc((size_t)ETH_TX_BATCH * e->mtu)) == NULL)) {
		free(acc);
		return -ENOMEM;
	}
	/* Nothing is queued between sends: eth_send flushes or drops. */
	free(e->acc);
	free(e->q.par);
	e->acc = acc;
	e->q.par = par;
	e->acc_n = 0;
	e->link.parity = parity;
	return 0;
}

static int
eth_configure(struct transport *t, const struct ferry_link *l)
{
	struct eth	*e = (struct eth *)t;
	int		 r;

	if (l->copies > FERRY_LINK_COPIES_MAX ||
	    l->timeout_ms > FERRY_LINK_TIMEOUT_MAX ||
	    (l->parity != 0 && (l->parity < FRAG_PARITY_MIN ||
	    l->parity > FRAG_PARITY_MAX)))
		return -EINVAL;
	/* A parity packet is a header longer than its longest member. */
	if (l->parity != 0 && e->mtu < ETH_MTU_PARITY)
		return -EMSGSIZE;
	if (e->role == TRANSPORT_TX && (r = eth_configure_parity(e,
	    l->parity)) != 0)
		return r;
	if ((r = eth_configure_key(e, l)) != 0)
		return r;
	e->link.copies = l->copies != 0 ? l->copies : 1;
	e->link.rate = l->rate;
	e->link.timeout_ms = l->timeout_ms != 0 ? l->timeout_ms :
	    FERRY_LINK_TIMEOUT_MS;
	if (e->fr != NULL)
		e->fr->timeout_ns = (uint64_t)e->link.timeout_ms * 1000000;
	return 0;
}

static int
eth_connect(struct transport *t)
{
	struct eth	*e = (struct eth *)t;
	socklen_t	 len;
	int		 err;

	if (e->role != TRANSPORT_TX)
		return -EINVAL;
	if (e->lmac == NULL)
		return -ENOKEY;		/* untagged packets: none at all */
	/* Nothing answers on a link that may be a diode: the handle is the
	 * connection. The kernel keeps the ENETDOWN of a link that went
	 * down for the next send; it is old news now (a link still down
	 * says so again). */
	len = sizeof(err);
	(void)getsockopt(e->pfd, SOL_SOCKET, SO_ERROR, &err, &len);
	e->connected = 1;
	return 0;
}

static int
eth_fd(const struct transport *t)
{
	const struct eth	*e = (const struct eth *)t;

	if (e->role == TRANSPORT_RX)
		return e->efd;
	return e->connected ? e->pfd : -1;
}

static void
eth_disconnect(struct transport *t)
{
	struct eth	*e = (struct eth *)t;

	/* The channel drops its unsent bytes: a frame cut short here keeps
	 * its msg number (the receiver times its fragments out), and the
	 * next frame starts a new one. */
	if (e->done != 0) {
		e->msg++;
		e->done = 0;
	}
	e->acc_n = 0;
	e->connected = 0;
}

/*
 * Sends every queued link packet, in order, with as few sendmmsg calls as
 * the socket takes them in. On an error, what was not sent is dropped from
 * the queue and e->msg, e->done and e->resume say where the next send
 * starts again: at the packet that failed (a heartbeat that failed is
 * only dropped: it is best effort).
 */
static int
eth_flush(struct eth *e)
{
	struct eth_txq	*q = &e->q;
	unsigned int	 i = 0;
	int		 n, saved, r = 0;

	while (i < q->n) {
		n = sendmmsg(e->pfd, q->mh + i, q->n - i, 0);
		if (n > 0) {
			e->st.packets += (uint64_t)n;
			i += (unsigned int)n;
			continue;
		}
		saved = n == 0 ? EAGAIN : errno;
		if (saved == EAGAIN || saved == EWOULDBLOCK ||
		    saved == ENOBUFS || saved == EINTR)
			r = -EAGAIN;
		else if (saved == ENETDOWN || saved == ENXIO)
			r = -EPIPE;
		else
			r = -EIO;
		if (q->k[i] != ETH_TX_NONE) {
			e->msg = q->msg[i];
			e->done = q->k[i];
			e->resume = q->off[i];
		} else
			r = 0;
		/* The group in progress held packets not sent: a new one
		 * starts (what went of it has no parity). */
		e->acc_n = 0;
		break;
	}
	q->n = 0;
	return r;
}

/* Waits until the configured rate allows one more packet. Bounded: the
 * sender blocks at most the time its own rate asks for. What is queued
 * goes first, so that a sleep never holds back a packet already due. */
static int
eth_pace(struct eth *e)
{
	struct timespec	 ts;
	uint64_t	 now, wait;
	int		 r;

	if (e->link.rate == 0)
		return 0;
	/* Sleeps come in ETH_PACE_SLACK steps, not one per packet: a sleep
	 * costs more than a packet's interval at high rates. */
	for (;;) {
		now = eth_now();
		if (e->pace_ns <= now + ETH_PACE_SLACK)
			break;
		if (e->q.n > 0 && (r = eth_flush(e)) != 0)
			return r;
		wait = e->pace_ns - now;
		if (wait > ETH_SLEEP_MAX)
			wait = ETH_SLEEP_MAX;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)wait;
		(void)nanosleep(&ts, NULL);
	}
	/* No credit for idle time beyond the slack. */
	if (e->pace_ns < now)
		e->pace_ns = now;
	e->pace_ns += 1000000000ULL / e->link.rate;
	return 0;
}

/*
 * A packet that cannot be tagged (no key, or an OpenSSL error) is not
 * sent: what was queued before it goes, and the next send resumes at it
 * (-EIO). A heartbeat is only left out: it is best effort.
 */
static int
eth_untagged(struct eth *e, uint64_t msg, uint32_t k, size_t off)
{
	int	 r;

	e->acc_n = 0;		/* its seq is skipped: a new group */
	if ((r = eth_flush(e)) != 0)
		return r;
	if (k == ETH_TX_NONE)
		return 0;
	e->msg = msg;
	e->done = k;
	e->resume = off;
	return -EIO;
}

/* Adds a queued data packet (its header, tag included, and data) to its
 * parity group's XOR; the first one starts it. */
static void
eth_acc(struct eth *e, const uint8_t *hdr, const uint8_t *data,
    size_t data_len)
{
	size_t	 i, len = FRAG_HDR_LEN + data_len;

	if (e->acc_n == 0) {
		memset(e->acc, 0, e->mtu);
		e->acc_len = 0;
		e->acc_first = e->seq;
	}
	for (i = 0; i < FRAG_HDR_LEN; i++)
		e->acc[i] ^= hdr[i];
	for (i = 0; i < data_len; i++)
		e->acc[FRAG_HDR_LEN + i] ^= data[i];
	if (len > e->acc_len)
		e->acc_len = len;
	e->acc_n++;
}

/*
 * Queues one link packet: the header h with its tag (the one place a
 * link header is written; the tag is computed here over the header and
 * the data_len bytes at data, or is tag, a copy's) and the data, which
 * stays where it is until the queue is flushed. k is the packet's number
 * in its frame (ETH_TX_NONE for a heartbeat), off the frame's offset in
 * this send. *ret_tag: the tag written, valid until the next call.
 */
static int
eth_queue(struct eth *e, const struct frag_hdr *h, const uint8_t *data,
    const uint8_t *tag, uint64_t msg, uint32_t k, size_t off,
    uint8_t **ret_tag)
{
	struct eth_txq	*q = &e->q;
	struct frag_hdr	 hs;
	struct msghdr	*m;
	unsigned int	 i;
	int		 r;

	if ((r = eth_pace(e)) != 0)
		return r;
	if (q->n == ETH_TX_BATCH && (r = eth_flush(e)) != 0)
		return r;
	i = q->n;
	/* A parity packet's data is copied to its entry's place: e->acc
	 * is the next group's. */
	if (data == e->acc && data != NULL) {
		memcpy(q->par + (size_t)i * e->mtu, e->acc, h->data_len);
		data = q->par + (size_t)i * e->mtu;
	}
	hs = *h;
	if (h->type == FRAG_DATA && e->link.parity != 0) {
		/* A group's seqs follow each other, and stay below the
		 * 32-bit wrap. */
		if (e->acc_n == 0 && e->seq > UINT32_MAX - e->link.parity)
			e->seq = 0;
		hs.seq = ++e->seq;
	}
	frag_put_header(q->hdr[i], &hs);
	if (tag != NULL)
		memcpy(q->hdr[i] + LINK_TAG_OFF, tag, LINK_TAG_LEN);
	else if (e->lmac == NULL ||
	    linkmac_tag_parts(e->lmac, q->hdr[i], data, h->data_len) != 0)
		return eth_untagged(e, msg, k, off);
	q->n++;
	q->iov[i][0].iov_base = e->ethhdr;
	q->iov[i][0].iov_len = ETH_HDR_LEN;
	q->iov[i][1].iov_base = q->hdr[i];
	q->iov[i][1].iov_len = FRAG_HDR_LEN;
	q->iov[i][2].iov_base = (void *)(uintptr_t)data;
	q->iov[i][2].iov_len = h->data_len;
	m = &q->mh[i].msg_hdr;
	memset(m, 0, sizeof(*m));
	m->msg_iov = q->iov[i];
	m->msg_iovlen = h->data_len != 0 ? 3 : 2;
	q->msg[i] = msg;
	q->k[i] = k;
	q->off[i] = off;
	if (ret_tag != NULL)
		*ret_tag = q->hdr[i] + LINK_TAG_OFF;
	if (h->type == FRAG_DATA && e->link.parity != 0)
		eth_acc(e, q->hdr[i], data, h->data_len);
	return 0;
}

/*
 * The group's parity packet, once it has its parity data packets, or
 * (early) however many it has: the XOR of their bytes, each from its link
 * header through its data. If it is the packet that fails to go, the next
 * send resumes at (msg, k, off), what follows its last member.
 */
static int
eth_parity(struct eth *e, int early, uint64_t msg, uint32_t k, size_t off)
{
	struct frag_hdr	 h;

	if (e->acc_n == 0 || (!early && e->acc_n < e->link.parity))
		return 0;
	memset(&h, 0, sizeof(h));
	h.type = FRAG_PARITY;
	h.count = (uint16_t)e->acc_n;
	e->acc_n = 0;
	h.session = e->session;
	h.msg = e->acc_first;
	h.data_len = (uint16_t)e->acc_len;
	return eth_queue(e, &h, e->acc, NULL, msg, k, off, NULL);
}

/*
 * Queues one whole ferry frame of len bytes, at offset off of this send,
 * as msg e->msg + 1: every fragment, copies times (all fragments, then
 * again, so that a burst of loss does not take every copy of one
 * fragment). Resumes after e->done packets when an earlier call stopped
 * short. e->msg counts the frame as sent once it is queued; a failed
 * flush sets it back (eth_flush).
 */
static int
eth_send_frame(struct eth *e, const uint8_t *p, size_t len, size_t off)
{
	struct frag_hdr	 h;
	size_t		 room, npk;
	uint32_t	 k, start;
	uint8_t		*tag;
	int		 r, first, cached;

	/* With parity, a parity packet (a header longer than its longest
	 * member) must fit the MTU too. */
	room = e->mtu - FRAG_HDR_LEN - (e->link.parity != 0 ? FRAG_HDR_LEN : 0);
	memset(&h, 0, sizeof(h));
	h.type = FRAG_DATA;
	h.count = (uint16_t)((len + room - 1) / room);
	h.session = e->session;
	h.msg = e->msg + 1;
	h.total = (uint32_t)len;
	npk = (size_t)h.count * e->link.copies;
	/* A copy is the same packet, tag and all: the tags of the first
	 * pass are kept for the copies, and trusted only when this msg's
	 * whole first pass made them (a first pass resumed, or another
	 * msg's, rewrites them). With parity, each copy has its own seq,
	 * hence its own tag. */
	start = e->done;
	cached = start >= h.count && e->tags_msg == h.msg &&
	    e->link.parity == 0;
	if (start < h.count)
		e->tags_msg = 0;
	for (k = start; k < npk; k++) {
		h.index = (uint16_t)(k % h.count);
		h.offset = (uint32_t)(h.index * room);
		h.data_len = (uint16_t)(len - h.offset < room ?
		    len - h.offset : room);
		first = k < h.count;
		if ((r = eth_queue(e, &h, p + h.offset,
		    first || !cached ? NULL : e->tags[h.index], e->msg, k,
		    off, &tag)) != 0)
			return r;
		/* A parity packet that fails to go: the send resumes at
		 * what follows it. */
		if (e->link.parity != 0 && (r = k + 1 < npk ?
		    eth_parity(e, 0, e->msg, k + 1, off) :
		    eth_parity(e, 0, e->msg + 1, 0, off + len)) != 0)
			return r;
		if (!first || e->link.parity != 0)
			continue;
		memcpy(e->tags[h.index], tag, LINK_TAG_LEN);
		/* A whole first pass made here: its copies may reuse them. */
		if (k + 1 == h.count && start == 0) {
			e->tags_msg = h.msg;
			cached = 1;
		}
	}
	e->done = 0;
	e->msg++;
	return 0;
}

/* The last msg sent: tells the receiver what is lost rather than late. */
static int
eth_heartbeat(struct eth *e)
{
	struct frag_hdr	 h;

	memset(&h, 0, sizeof(h));
	h.type = FRAG_HEARTBEAT;
	h.session = e->session;
	h.msg = e->msg;
	return eth_queue(e, &h, NULL, NULL, e->msg, ETH_TX_NONE, 0, NULL);
}

static int
eth_send(struct transport *t, const uint8_t *p, size_t len, size_t *ret_n)
{
	struct eth	*e = (struct eth *)t;
	struct frame	 f;
	size_t		 off = 0, used;
	int		 r = 0;

	if (e->role != TRANSPORT_TX)
		return -EINVAL;
	if (!e->connected)
		return -ENOTCONN;
	/* chan_tx hands whole frames from a frame boundary; each goes as
	 * one msg. Packets go in batches: a frame counts as sent once every
	 * batch holding its packets went. */
	while (off < len) {
		if (frame_decode(p + off, len - off, &f, &used) != 0) {
			if (off == 0)
				return -EINVAL;
			break;		/* the whole frames before it went */
		}
		if ((r = eth_send_frame(e, p + off, used, off)) != 0)
			break;
		off += used;
	}
	/* The burst's last group is closed now, with the packets it has:
	 * they are not left unprotected until later traffic completes it
	 * (on a quiet link, a timeout or more later: too late). */
	if (r == 0 && e->link.parity != 0)
		r = eth_parity(e, 1, e->msg, 0, off);
	/* A tail marker after each burst: the receiver learns how many
	 * msgs exist without waiting for the next one. Best effort. */
	if (r == 0 && e->msg > 0)
		r = eth_heartbeat(e);
	if (r == 0)
		r = eth_flush(e);
	if (r != 0) {
		/* The packet that failed and all after it were not sent:
		 * its frame is where the next send resumes. */
		off = e->resume;
		e->q.n = 0;
	}
	if (r == -EPIPE) {
		e->connected = 0;
		return r;
	}
	if (off == 0 && r != 0)
		return r;
	*ret_n = off;
	return 0;
}

static void
eth_packet(u_char *arg, const struct pcap_pkthdr *ph, const u_char *bytes)
{
	struct eth	*e = (struct eth *)arg;
	uint64_t	 now;
	int		 tries;

	/* The BPF filter chose the EtherType; checked again all the same. */
	if (ph->caplen < ETH_HDR_LEN || ph->caplen != ph->len ||
	    bytes[12] != (ETH_FERRY_TYPE >> 8) ||
	    bytes[13] != (ETH_FERRY_TYPE & 0xff)) {
		e->fr->st.malformed++;
		return;
	}
	now = eth_now();
	for (tries = 0; tries < 2; tries++) {
		/* A frame whole in this packet and due goes to out here. */
		if (frag_rx_input_out(e->fr, bytes + ETH_HDR_LEN,
		    ph->caplen - ETH_HDR_LEN, now, &e->out) != -ENOBUFS)
			break;
		/* Every slot holds a frame waiting behind a gap: give the
		 * gap up now, and make room. */
		(void)frag_rx_release(e->fr, now, &e->out);
	}
	/* What is due goes out at once, so that slots hold only frames
	 * in reassembly or behind a gap (when out is full, it waits). */
	if (e->fr->nused > 0)
		(void)frag_rx_release(e->fr, now, &e->out);
}

/*
 * Arms the timer for the next reorder or reassembly timeout, unless it
 * is armed to fire no later than that already: a timer that fires early
 * only has the next call arm it again, and deadlines mostly move later
 * (one a frame), so this saves a system call a burst.
 */
static void
eth_arm(struct eth *e, uint64_t now)
{
	struct itimerspec	 its;
	uint64_t		 d;

	d = frag_rx_deadline(e->fr);
	if (e->busy && (d == 0 || d > now + ETH_RX_POLL_NS))
		d = now + ETH_RX_POLL_NS;
	if (d == 0)
		return;		/* armed or not: nothing would time out */
	if (e->armed_ns != 0 && e->armed_ns <= d && d > now)
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(d / 1000000000ULL);
	its.it_value.tv_nsec = (long)(d % 1000000000ULL);
	/* A deadline already past fires at once. */
	if (timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		e->armed_ns = d;
}

/*
 * Interrupt coalescing. A packet socket wakes its reader for every packet;
 * while packets stream in (ETH_RX_BUSY a ms or more, measured over a ms or
 * more) that costs both ends more than the packets: the packet socket then
 * leaves the epoll set and the timer reads the ring every ETH_RX_POLL_NS
 * (the 16 MiB ring holds far more than that brings). Anything slower, an
 * exchange or a heartbeat, wakes the reader at once as before.
 */
static void
eth_rx_mode(struct eth *e, int n, uint64_t now)
{
	struct epoll_event	 ev;
	int			 busy;

	if (n > 0)
		e->win_pkts += (uint64_t)n;
	if (now - e->win_ns < 1000000ULL)
		return;
	busy = e->win_pkts * 1000000ULL >= ETH_RX_BUSY * (now - e->win_ns);
	e->win_ns = now;
	e->win_pkts = 0;
	if (busy == e->busy)
		return;
	/* Out of the set altogether, not only deaf: the kernel then finds
	 * nobody to wake at each packet. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = e->pfd;
	if (epoll_ctl(e->efd, busy ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, e->pfd,
	    &ev) == 0)
		e->busy = busy;
}

static int
eth_recv(struct transport *t, uint8_t *p, size_t len, size_t *ret_n)
{
	struct eth	*e = (struct eth *)t;
	uint64_t	 ticks, now;
	size_t		 n;
	int		 r;

	if (e->role != TRANSPORT_RX)
		return -EINVAL;
	if (e->out_off == e->out.len) {
		buf_reset(&e->out);
		e->out_off = 0;
		/* The timer is read (made quiet) only once it has fired;
		 * settime quiets it too. */
		if (e->armed_ns != 0 && eth_now() >= e->armed_ns &&
		    read(e->tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
			e->armed_ns = 0;
		r = pcap_dispatch(e->p, ETH_RX_BURST, eth_packet,
		    (u_char *)e);
		if (r == PCAP_ERROR)
			return -EIO;
		now = eth_now();
		eth_rx_mode(e, r, now);
		if ((r = frag_rx_release(e->fr, now, &e->out)) != 0)
			return r;
		eth_arm(e, now);
	}
	if (e->out_off == e->out.len)
		return -EAGAIN;
	n = e->out.len - e->out_off;
	if (n > len)
		n = len;
	memcpy(p, e->out.data + e->out_off, n);
	e->out_off += n;
	*ret_n = n;
	return 0;
}

static void
eth_stats(const struct transport *t, struct ferry_link_stats *ret)
{
	const struct eth	*e = (const struct eth *)t;

	if (e->fr != NULL)
		*ret = e->fr->st;
	else
		*ret = e->st;
}

static void
eth_close(struct transport *t)
{
	struct eth	*e = (struct eth *)t;

	if (e == NULL)
		return;
	if (e->p != NULL)
		pcap_close(e->p);
	if (e->efd != -1)
		close(e->efd);
	if (e->tfd != -1)
		close(e->tfd);
	if (e->fr != NULL) {
		frag_rx_free(e->fr);
		free(e->fr);
	}
	linkmac_free(e->lmac);
	buf_free(&e->out);
	free(e->acc);
	free(e->q.par);
	free(e);
}

const struct transport_ops eth_transport_ops = {
	.scheme = "eth",
	.open = eth_open,
	.connect = eth_connect,
	.fd = eth_fd,
	.send = eth_send,
	.recv = eth_recv,
	.disconnect = eth_disconnect,
	.close = eth_close,
	.configure = eth_configure,
	.stats = eth_stats,
};

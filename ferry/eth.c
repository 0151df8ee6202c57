/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The eth:IFACE transport: ferry frames as raw Ethernet frames through libpcap, fragmented, paced, repeated. */

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

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
#define ETH_MTU_MAX	9000
#define ETH_PKT_MAX	(ETH_HDR_LEN + ETH_MTU_MAX)
#define ETH_RX_BUFFER	(16 * 1024 * 1024)	/* the kernel ring */
#define ETH_RX_BURST	512		/* link packets per pcap_dispatch */
#define ETH_OUT_MAX	(2 * FRAME_LEN_MAX)	/* reassembled, not yet read */
#define ETH_SLEEP_MAX	10000000ULL	/* ns of pacing per sleep */
#define ETH_PACE_SLACK	1000000ULL	/* ns a paced sender may run ahead */

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
	struct ferry_link_stats	 st;

	/* RX */
	struct frag_rx		*fr;
	struct buf		 out;
	size_t			 out_off;

	uint8_t			 pkt[ETH_PKT_MAX];
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
	int			 r;

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
	} else if ((r = random_bytes(&e->session, sizeof(e->session))) != 0)
		goto fail;
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

static int
eth_configure(struct transport *t, const struct ferry_link *l)
{
	struct eth	*e = (struct eth *)t;
	int		 r;

	if (l->copies > FERRY_LINK_COPIES_MAX ||
	    l->timeout_ms > FERRY_LINK_TIMEOUT_MAX)
		return -EINVAL;
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

	if (e->role != TRANSPORT_TX)
		return -EINVAL;
	if (e->lmac == NULL)
		return -ENOKEY;		/* untagged packets: none at all */
	/* Nothing answers on a link that may be a diode: the handle is the
	 * connection. */
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
	e->connected = 0;
}

/* Waits until the configured rate allows one more packet. Bounded: the
 * sender blocks at most the time its own rate asks for. */
static void
eth_pace(struct eth *e)
{
	struct timespec	 ts;
	uint64_t	 now, wait;

	if (e->link.rate == 0)
		return;
	/* Sleeps come in ETH_PACE_SLACK steps, not one per packet: a sleep
	 * costs more than a packet's interval at high rates. */
	for (;;) {
		now = eth_now();
		if (e->pace_ns <= now + ETH_PACE_SLACK)
			break;
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
}

/* Sends the link packet in e->pkt (header filled for data_len bytes). */
static int
eth_put(struct eth *e, size_t data_len)
{
	int	 saved;

	eth_pace(e);
	memset(e->pkt, 0xff, 6);	/* broadcast: no ARP on the link */
	memcpy(e->pkt + 6, e->mac, 6);
	e->pkt[12] = ETH_FERRY_TYPE >> 8;
	e->pkt[13] = ETH_FERRY_TYPE & 0xff;
	if (pcap_inject(e->p, e->pkt, ETH_HDR_LEN + FRAG_HDR_LEN +
	    data_len) < 0) {
		saved = errno;
		if (saved == EAGAIN || saved == EWOULDBLOCK ||
		    saved == ENOBUFS || saved == EINTR)
			return -EAGAIN;
		return saved == ENETDOWN || saved == ENXIO ? -EPIPE : -EIO;
	}
	e->st.packets++;
	return 0;
}

/*
 * Tags the packet in e->pkt, fragment index of the msg being sent. A copy
 * is the same packet: its tag is the one computed on the first pass.
 */
static int
eth_tag(struct eth *e, int copy, uint16_t index, size_t data_len)
{
	int	 r;

	if (e->lmac == NULL)
		return -EIO;
	if (copy) {
		memcpy(e->pkt + ETH_HDR_LEN + LINK_TAG_OFF, e->tags[index],
		    LINK_TAG_LEN);
		return 0;
	}
	if ((r = linkmac_tag(e->lmac, e->pkt + ETH_HDR_LEN, data_len)) != 0)
		return r;
	memcpy(e->tags[index], e->pkt + ETH_HDR_LEN + LINK_TAG_OFF,
	    LINK_TAG_LEN);
	return 0;
}

/*
 * Sends one whole ferry frame of len bytes as msg e->msg + 1: every
 * fragment, copies times (all fragments, then again, so that a burst of
 * loss does not take every copy of one fragment). Resumes after e->done
 * packets when an earlier call stopped short.
 */
static int
eth_send_frame(struct eth *e, const uint8_t *p, size_t len)
{
	struct frag_hdr	 h;
	size_t		 room = e->mtu - FRAG_HDR_LEN, npk;
	uint32_t	 k;
	int		 r;

	memset(&h, 0, sizeof(h));
	h.type = FRAG_DATA;
	h.count = (uint16_t)((len + room - 1) / room);
	h.session = e->session;
	h.msg = e->msg + 1;
	h.total = (uint32_t)len;
	npk = (size_t)h.count * e->link.copies;
	for (k = e->done; k < npk; k++) {
		h.index = (uint16_t)(k % h.count);
		h.offset = (uint32_t)(h.index * room);
		h.data_len = (uint16_t)(len - h.offset < room ?
		    len - h.offset : room);
		frag_put_header(e->pkt + ETH_HDR_LEN, &h);
		memcpy(e->pkt + ETH_HDR_LEN + FRAG_HDR_LEN, p + h.offset,
		    h.data_len);
		if ((r = eth_tag(e, k >= h.count, h.index, h.data_len)) != 0 ||
		    (r = eth_put(e, h.data_len)) != 0) {
			e->done = k;
			return r;
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
	frag_put_header(e->pkt + ETH_HDR_LEN, &h);
	if (e->lmac == NULL ||
	    linkmac_tag(e->lmac, e->pkt + ETH_HDR_LEN, 0) != 0)
		return -EIO;
	return eth_put(e, 0);
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
	 * one msg. */
	while (off < len) {
		if (frame_decode(p + off, len - off, &f, &used) != 0) {
			if (off == 0)
				return -EINVAL;
			break;		/* the whole frames before it went */
		}
		if ((r = eth_send_frame(e, p + off, used)) != 0)
			break;
		off += used;
	}
	if (r == -EPIPE) {
		e->connected = 0;
		return r;
	}
	if (off == 0 && r != 0)
		return r;
	/* A tail marker after each burst: the receiver learns how many
	 * msgs exist without waiting for the next one. Best effort. */
	if (r == 0 && e->msg > 0)
		(void)eth_heartbeat(e);
	*ret_n = off;
	return 0;
}

static void
eth_packet(u_char *arg, const struct pcap_pkthdr *ph, const u_char *bytes)
{
	struct eth	*e = (struct eth *)arg;
	uint64_t	 now;

	/* The BPF filter chose the EtherType; checked again all the same. */
	if (ph->caplen < ETH_HDR_LEN || ph->caplen != ph->len ||
	    bytes[12] != (ETH_FERRY_TYPE >> 8) ||
	    bytes[13] != (ETH_FERRY_TYPE & 0xff)) {
		e->fr->st.malformed++;
		return;
	}
	now = eth_now();
	if (frag_rx_input(e->fr, bytes + ETH_HDR_LEN, ph->caplen - ETH_HDR_LEN,
	    now) == -ENOBUFS) {
		/* Every slot holds a frame waiting behind a gap: give the
		 * gap up now, and make room. */
		(void)frag_rx_release(e->fr, now, &e->out);
		(void)frag_rx_input(e->fr, bytes + ETH_HDR_LEN,
		    ph->caplen - ETH_HDR_LEN, now);
	}
	/* What is due goes out at once, so that slots hold only frames
	 * in reassembly or behind a gap (when out is full, it waits). */
	(void)frag_rx_release(e->fr, now, &e->out);
}

/* Arms the timer for the next reorder or reassembly timeout. */
static void
eth_arm(struct eth *e)
{
	struct itimerspec	 its;
	uint64_t		 d;

	memset(&its, 0, sizeof(its));
	if ((d = frag_rx_deadline(e->fr)) != 0) {
		its.it_value.tv_sec = (time_t)(d / 1000000000ULL);
		its.it_value.tv_nsec = (long)(d % 1000000000ULL);
	}
	/* A deadline already past fires at once. */
	(void)timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int
eth_recv(struct transport *t, uint8_t *p, size_t len, size_t *ret_n)
{
	struct eth	*e = (struct eth *)t;
	uint64_t	 ticks;
	size_t		 n;
	int		 r;

	if (e->role != TRANSPORT_RX)
		return -EINVAL;
	if (e->out_off == e->out.len) {
		buf_reset(&e->out);
		e->out_off = 0;
		(void)read(e->tfd, &ticks, sizeof(ticks));
		r = pcap_dispatch(e->p, ETH_RX_BURST, eth_packet,
		    (u_char *)e);
		if (r == PCAP_ERROR)
			return -EIO;
		if ((r = frag_rx_release(e->fr, eth_now(), &e->out)) != 0)
			return r;
		eth_arm(e);
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

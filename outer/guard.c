/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The admission guard: new TCP connections to the listener, queued by netfilter (NFQUEUE), admitted or dropped and audited. */

/*
 * Every nfnetlink message, verdicts included, needs CAP_NET_ADMIN at the
 * time it is sent, and outer keeps no capability. So the guard is a process
 * of its own (OpenSSH-style privilege separation): forked by outer before
 * the drop, it keeps CAP_NET_ADMIN alone, runs under its own seccomp
 * allow-list, reads nothing but queued packet headers and the kernel's
 * socket table (sock_diag), and sends each refusal to outer over a socketpair; outer, which
 * owns the audit journal, validates and records it. When outer goes, the
 * guard exits; with no reader the kernel drops queued packets (no bypass).
 */

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/netfilter.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "outer/outer.h"

#define GUARD_SOURCES	4096		/* table slots (power of two) */
#define GUARD_PROBE	16		/* slots looked at per source */
#define GUARD_COPY	128		/* bytes of each packet we read */
#define GUARD_QMAXLEN	1024		/* packets the kernel holds for us */
#define GUARD_DIAGBUF	(32 * 1024)	/* sock_diag replies, bytes */

/* One source address: its token bucket for new connections, and an upper
 * bound of the connections it holds (those the kernel listed at the last
 * count, plus every one admitted since: closed ones only make it loose). */
struct gsrc {
	int		 family;	/* 0: free slot */
	uint8_t		 addr[16];
	struct bucket	 bucket;	/* new connections */
	uint32_t	 bound;		/* UINT32_MAX: not counted yet */
};

/* A refusal, guard process -> outer. Checked by outer before use. */
struct guard_msg {
	uint8_t		 family;
	uint8_t		 reason;	/* index in guard_reasons */
	uint16_t	 pad;
	int32_t		 peer;		/* index in policy->peers, or -1 */
	uint8_t		 addr[16];
};

static const char *const guard_reasons[] = {
	"unknown_address", "connection_rate", "connections", "port",
};
enum { R_ADDRESS, R_RATE, R_CONNS, R_PORT, R_NONE };

struct guard_state {
	struct mnl_socket	*nl;		/* guard process only */
	int			 sp;		/* socketpair end */
	pid_t			 pid;		/* outer: the guard process */
	struct event		*ev;		/* outer: refusals to audit */
	uint32_t		 portid;
	uint16_t		 queue;
	uint16_t		 port;		/* the listener's, host order */
	char			*buf;		/* netlink messages */
	size_t			 bufsz;
	struct mnl_socket	*diag;		/* guard process: sock_diag */
	uint32_t		 diag_seq;
	char			*diagbuf;	/* its messages (buf is busy
						 * with the packet meanwhile) */
	struct gsrc		*tab;
	struct outer		*o;
	int			 no_sandbox;
	uint64_t		 nallow, ndeny;
};

static int
syscall_close_range(unsigned lo, unsigned hi)
{
	return (int)syscall(SYS_close_range, lo, hi, 0U);
}

/* What one queued packet is, once its bytes have been checked. */
struct gpkt {
	int		 family;
	uint8_t		 addr[16];
	uint16_t	 dport;
};

static uint32_t
gsrc_hash(int family, const uint8_t *addr)
{
	uint32_t	 h = 2166136261u;
	size_t		 i, n = family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h;
}

/* The bucket of a source, taking over the stalest slot in its probe
 * window when none is free: state is bounded whatever the sources. */
static struct gsrc *
gsrc_get(struct guard_state *g, const struct gpkt *p, uint64_t now)
{
	struct gsrc	*s, *victim = NULL;
	uint32_t	 h = gsrc_hash(p->family, p->addr);
	size_t		 i, n = p->family == AF_INET ? 4 : 16;
	const struct guard *cfg = &g->o->policy->outer.guard;

	for (i = 0; i < GUARD_PROBE; i++) {
		s = &g->tab[(h + i) & (GUARD_SOURCES - 1)];
		if (s->family == p->family && memcmp(s->addr, p->addr, n) == 0)
			return s;
		if (s->family == 0) {
			victim = s;
			break;
		}
		if (victim == NULL ||
		    s->bucket.last_ms < victim->bucket.last_ms)
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->family = p->family;
	memcpy(victim->addr, p->addr, n);
	bucket_init(&victim->bucket, cfg->burst, now);
	victim->bound = UINT32_MAX;
	return victim;
}

struct diag_count {
	uint16_t	 port;
	uint32_t	 n;
};

static int
diag_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct diag_count		*dc = arg;
	const struct inet_diag_msg	*m;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_ERROR;
	m = mnl_nlmsg_get_payload(nlh);
	if (ntohs(m->id.idiag_sport) == dc->port)
		dc->n++;
	return MNL_CB_OK;
}

/*
 * Connections this source holds to the listener (ESTABLISHED, SYN_RECV,
 * CLOSE_WAIT), asked of the kernel with sock_diag and filtered there by
 * the source address. TIME_WAIT sockets are neither counted nor listed, so
 * the cost follows the live connections, not the recent ones.
 */
static int
count_conns(struct guard_state *g, const struct gpkt *p, uint32_t *ret)
{
	struct {
		struct inet_diag_bc_op		op;
		struct inet_diag_hostcond	hc;
		uint8_t				addr[16];
	} bc;
	struct inet_diag_req_v2	*req;
	struct nlmsghdr		*nlh;
	struct diag_count	 dc = { g->port, 0 };
	size_t			 alen = p->family == AF_INET ? 4 : 16;
	size_t			 bclen = sizeof(bc.op) + sizeof(bc.hc) + alen;
	ssize_t			 n;
	uint32_t		 seq = ++g->diag_seq;
	int			 r;

	nlh = mnl_nlmsg_put_header(g->diagbuf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)p->family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << 1 | 1u << 3 | 1u << 8;	/* ESTAB,
							 * SYN_RECV, CLOSE_WAIT */
	/* One condition: the remote address is the source's. Passing it
	 * jumps to the end (match); failing jumps past it (no match). */
	memset(&bc, 0, sizeof(bc));
	bc.op.code = INET_DIAG_BC_D_COND;
	bc.op.yes = (uint8_t)bclen;
	bc.op.no = (uint16_t)(bclen + 4);
	bc.hc.family = (uint8_t)p->family;
	bc.hc.prefix_len = (uint8_t)(alen * 8);
	bc.hc.port = -1;
	memcpy(bc.addr, p->addr, alen);
	mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bclen, &bc);
	if (mnl_socket_sendto(g->diag, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(g->diag, g->diagbuf, GUARD_DIAGBUF);
		if (n < 0)
			return -errno;
		r = mnl_cb_run(g->diagbuf, (size_t)n, seq,
		    mnl_socket_get_portid(g->diag), diag_cb, &dc);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		return -errno;
	*ret = dc.n;
	return 0;
}

/* The source and destination port of a TCP packet, from untrusted bytes
 * (whatever the rule queued: only what is checked here is believed). */
static int
parse_packet(const uint8_t *untrusted, size_t len, struct gpkt *ret)
{
	struct reader	 rd;
	const uint8_t	*ip;
	uint8_t		 v, proto;
	size_t		 hl;
	uint16_t	 dport;

	reader_init(&rd, untrusted, len);
	if (reader_get_bytes(&rd, 1, &ip) != 0)
		return -EBADMSG;
	v = ip[0] >> 4;
	if (v == 4) {
		hl = (size_t)(ip[0] & 0x0f) * 4;
		if (hl < 20 || len < hl + 4)
			return -EBADMSG;
		proto = untrusted[9];
		memset(ret, 0, sizeof(*ret));
		ret->family = AF_INET;
		memcpy(ret->addr, untrusted + 12, 4);
	} else if (v == 6) {
		hl = 40;
		if (len < hl + 4)
			return -EBADMSG;
		proto = untrusted[6];	/* extension headers: not TCP here */
		memset(ret, 0, sizeof(*ret));
		ret->family = AF_INET6;
		memcpy(ret->addr, untrusted + 8, 16);
	} else
		return -EBADMSG;
	if (proto != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	dport = (uint16_t)(untrusted[hl + 2] << 8 | untrusted[hl + 3]);
	ret->dport = dport;
	return 0;
}

/* Guard process: hands a refusal to outer, which audits it. Blocks while
 * outer is busy: the packet waits in the queue meanwhile. */
static void
guard_report(struct guard_state *g, const struct gpkt *p,
    const struct peer *peer, int reason)
{
	struct guard_msg	 m;
	ssize_t			 n;

	memset(&m, 0, sizeof(m));
	m.family = (uint8_t)p->family;
	m.reason = (uint8_t)reason;
	m.peer = peer != NULL ? (int32_t)(peer - g->o->policy->peers) : -1;
	memcpy(m.addr, p->addr, sizeof(m.addr));
	do {
		n = send(g->sp, &m, sizeof(m), MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		_exit(1);	/* outer is gone: stop guarding (fail closed) */
}

/* R_NONE to admit, or the reason for refusing. */
static int
guard_decide(struct guard_state *g, const struct gpkt *p,
    const struct peer **ret_peer)
{
	const struct guard	*cfg = &g->o->policy->outer.guard;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct gsrc		*s;
	uint64_t		 now = mono_ms();
	uint32_t		 n = 0;

	memset(&ss, 0, sizeof(ss));
	if (p->family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, p->addr, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, p->addr, 16);
	}
	*ret_peer = policy_peer_by_addr(g->o->policy, (struct sockaddr *)&ss);
	if (p->dport != g->port)
		return R_PORT;
	if (*ret_peer == NULL)
		return R_ADDRESS;
	s = gsrc_get(g, p, now);
	if (!bucket_take(&s->bucket, cfg->rate, cfg->burst, now))
		return R_RATE;
	/* Ask the kernel only when the bound says the limit may be reached:
	 * once per (limit - count) admissions, not per connection. */
	if (s->bound >= cfg->conns) {
		if (count_conns(g, p, &n) != 0)
			return R_CONNS;		/* cannot tell: refuse */
		s->bound = n;
	}
	if (s->bound >= cfg->conns)
		return R_CONNS;
	s->bound++;
	return R_NONE;
}

static int
verdict(struct guard_state *g, uint32_t id, int accept)
{
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, g->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, accept ? NF_ACCEPT : NF_DROP);
	/* The nft ruleset admits new connections to the listener only with
	 * this mark: no guard verdict, no connection (fail closed). */
	if (accept)
		nfq_nlmsg_verdict_put_mark(nlh, GUARD_MARK);
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static int
packet_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct guard_state		*g = arg;
	struct nlattr			*attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr	*ph;
	const struct peer		*peer = NULL;
	struct gpkt			 p;
	uint32_t			 id;
	int				 why;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_OK;	/* not a packet: nothing to answer */
	if (mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	if (attr[NFQA_PAYLOAD] == NULL ||
	    parse_packet(mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
	    mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]), &p) != 0) {
		/* Nothing to name in the journal; dropped all the same. */
		g->ndeny++;
		(void)verdict(g, id, 0);
		return MNL_CB_OK;
	}
	if ((why = guard_decide(g, &p, &peer)) == R_NONE) {
		g->nallow++;
		if (verdict(g, id, 1) != 0)
			log_warn("guard: verdict");
		return MNL_CB_OK;
	}
	g->ndeny++;
	guard_report(g, &p, peer, why);
	if (verdict(g, id, 0) != 0)
		log_warn("guard: verdict");
	return MNL_CB_OK;
}

/* Guard process: reads what the kernel queued, a bounded batch at a time. */
static void
guard_read(struct guard_state *g)
{
	ssize_t	 n;
	int	 i;

	for (i = 0; i < 64; i++) {
		n = recv(mnl_socket_get_fd(g->nl), g->buf, g->bufsz,
		    MSG_DONTWAIT);
		if (n == -1) {
			if (errno == ENOBUFS)
				/* The kernel dropped packets for us: those
				 * connections were refused (fail closed). */
				log_warnx("guard: queue overrun, packets "
				    "dropped");
			else if (errno != EAGAIN && errno != EINTR)
				log_warn("guard: recv");
			return;
		}
		if (mnl_cb_run(g->buf, (size_t)n, 0, g->portid, packet_cb,
		    g) < 0 && errno != EINTR)
			log_warn("guard: netlink message");
	}
}

/* Closes every descriptor but stdio and the two the guard needs. */
static int
close_all_but(int a, int b)
{
	int	 lo = a < b ? a : b, hi = a < b ? b : a;

	if ((lo > 3 && syscall_close_range(3, (unsigned)lo - 1) != 0) ||
	    (hi > lo + 1 && syscall_close_range((unsigned)lo + 1,
	    (unsigned)hi - 1) != 0) ||
	    syscall_close_range((unsigned)hi + 1, ~0U) != 0)
		return -errno;
	return 0;
}

static void __attribute__((noreturn))
guard_child(struct guard_state *g, pid_t parent)
{
	const char	*user = g->o->policy->outer.user;
	struct pollfd	 pfd[2];
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	int		 r;

	log_init("isogate-outer[guard]", 0);
	/* A signal to the whole group (^C, systemd's stop) is outer's to
	 * handle: the guard leaves when outer closes the socketpair. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != parent)
		_exit(1);
	if (close_all_but(mnl_socket_get_fd(g->nl), g->sp) != 0)
		fatal("guard: close_range");
	/* Opened after the sweep, before the filter that forbids socket(). */
	if ((g->diag = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC)) ==
	    NULL || mnl_socket_bind(g->diag, 0, MNL_SOCKET_AUTOPID) < 0)
		fatal("guard: sock_diag socket");
	if ((g->diagbuf = malloc(GUARD_DIAGBUF)) == NULL)
		fatal("guard: malloc");
	if (user != NULL && (r = sandbox_lookup_user(user, &uid, &gid)) != 0)
		fatalx("guard: user %s: %s", user, strerror(-r));
	if ((r = sandbox_drop(user != NULL, uid, gid, CAP_NET_ADMIN)) != 0)
		fatalx("guard: cannot drop privileges: %s", strerror(-r));
	if (!g->no_sandbox && (r = sandbox_seccomp(SANDBOX_GUARD)) != 0)
		fatalx("guard: cannot install the seccomp filter: %s",
		    strerror(-r));
	pfd[0].fd = mnl_socket_get_fd(g->nl);
	pfd[0].events = POLLIN;
	pfd[1].fd = g->sp;
	pfd[1].events = POLLIN;		/* outer never writes: EOF, HUP */
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("guard: poll");
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0)
			guard_read(g);
	}
	log_info("guard: outer is gone; %llu admitted, %llu refused",
	    (unsigned long long)g->nallow, (unsigned long long)g->ndeny);
	_exit(0);
}

/* outer: one refusal from the guard process, checked, then audited. */
static void
guard_msg_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard_state	*g = arg;
	const struct policy	*pol = g->o->policy;
	struct audit_record	 rec;
	struct guard_msg	 untrusted;
	char			 addr[INET6_ADDRSTRLEN];
	ssize_t			 n;
	int			 r, i;

	(void)what;
	for (i = 0; i < 64; i++) {
		n = recv(fd, &untrusted, sizeof(untrusted), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			fatalx("guard process exited: new connections are "
			    "refused until outer restarts");
		if ((size_t)n != sizeof(untrusted) ||
		    (untrusted.family != AF_INET &&
		    untrusted.family != AF_INET6) ||
		    untrusted.reason >= R_NONE || untrusted.peer < -1 ||
		    (untrusted.peer >= 0 &&
		    (size_t)untrusted.peer >= pol->npeers) ||
		    inet_ntop(untrusted.family, untrusted.addr, addr,
		    sizeof(addr)) == NULL)
			fatalx("guard process sent a malformed message");
		memset(&rec, 0, sizeof(rec));
		rec.event = "guard";
		rec.peer = untrusted.peer >= 0 ?
		    pol->peers[untrusted.peer].name : NULL;
		rec.addr = addr;
		rec.decision = "deny";
		rec.reason = guard_reasons[untrusted.reason];
		rec.size = rec.rows = rec.latency_us = -1;
		if ((r = audit_append(g->o->audit, &rec)) != 0)
			fatalx("audit: %s", strerror(-r));
	}
}

static int
guard_config(struct guard_state *g, uint8_t cmd, int params)
{
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, g->queue);
	if (cmd != 0)
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
	if (params) {
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, GUARD_COPY);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, GUARD_QMAXLEN);
	}
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/* The listener's port, from the bound socket. */
static int
listener_port(struct outer *o, uint16_t *ret)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 fd;

	if (o->listener == NULL ||
	    (fd = evconnlistener_get_fd(o->listener)) < 0)
		return -ENOTCONN;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -errno;
	if (ss.ss_family == AF_INET)
		*ret = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*ret = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return -EAFNOSUPPORT;
	return 0;
}

int
guard_start(struct outer *o, int no_sandbox)
{
	const struct guard	*cfg = &o->policy->outer.guard;
	struct guard_state	*g;
	pid_t			 parent = getpid();
	int			 r, sp[2] = { -1, -1 };

	if (!cfg->present)
		return 0;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -ENOMEM;
	g->o = o;
	g->sp = -1;
	g->queue = cfg->queue;
	g->no_sandbox = no_sandbox;
	g->bufsz = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
	if ((r = listener_port(o, &g->port)) != 0)
		goto fail;
	if ((g->buf = malloc(g->bufsz)) == NULL ||
	    (g->tab = calloc(GUARD_SOURCES, sizeof(*g->tab))) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((g->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL ||
	    mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	g->portid = mnl_socket_get_portid(g->nl);
	/* Another process bound to this queue makes BIND fail: EBUSY. */
	if ((r = guard_config(g, NFQNL_CFG_CMD_BIND, 0)) != 0 ||
	    (r = guard_config(g, 0, 1)) != 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		r = -errno;
		goto fail;
	}
	if ((g->pid = fork()) == -1) {
		r = -errno;
		goto fail;
	}
	if (g->pid == 0) {
		close(sp[0]);
		g->sp = sp[1];
		guard_child(g, parent);
	}
	close(sp[1]);
	sp[1] = -1;
	g->sp = sp[0];
	/* outer keeps only its end of the socketpair. */
	mnl_socket_close(g->nl);
	g->nl = NULL;
	free(g->buf);
	free(g->tab);
	g->buf = NULL;
	g->tab = NULL;
	if ((g->ev = event_new(o->base, g->sp, EV_READ | EV_PERSIST,
	    guard_msg_cb, g)) == NULL || event_add(g->ev, NULL) != 0) {
		r = -ENOMEM;
		goto fail;
	}
	o->guard = g;
	log_info("guard: queue %u, port %u, %u/s burst %u, %u connections "
	    "per source (process %ld)", g->queue, g->port, cfg->rate,
	    cfg->burst, cfg->conns, (long)g->pid);
	return 0;
 fail:
	if (g->ev != NULL)
		event_free(g->ev);
	if (g->nl != NULL)
		mnl_socket_close(g->nl);
	if (sp[0] != -1)
		close(sp[0]);
	if (sp[1] != -1)
		close(sp[1]);
	free(g->tab);
	free(g->buf);
	free(g);
	return r;
}

void
guard_stop(struct outer *o)
{
	struct guard_state	*g = o->guard;

	if (g == NULL)
		return;
	/* The guard process sees the socketpair close and exits; the queue
	 * then has no reader and the kernel drops new connections. */
	event_free(g->ev);
	close(g->sp);
	free(g);
	o->guard = NULL;
}

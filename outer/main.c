/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* isogate-outer: start-up, the ferry ends and the event loop of the extranet daemon. */

#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "outer/outer.h"

static void	tx_connect(struct outer *);

static void
usage(void)
{
	fprintf(stderr, "usage: isogate-outer -f POLICY [-d] [--no-sandbox]\n");
	exit(2);
}

void
outer_schedule_flush(struct outer *o)
{
	/* Activated at the same priority as the I/O events, it runs after the
	 * ones already active in this loop pass: every ready connection is
	 * served first, so one seal covers the batch. (A lower priority would
	 * starve under load: libevent runs one priority level per pass.) */
	if (!event_pending(o->flush_ev, EV_TIMEOUT, NULL))
		event_active(o->flush_ev, EV_TIMEOUT, 0);
}

static void
tx_lost(struct outer *o)
{
	log_warnx("inward ferry: the intranet side went away");
	if (o->tx_ev != NULL) {
		event_free(o->tx_ev);
		o->tx_ev = NULL;
	}
	exchange_fail_all(o, "ferry_lost",
	    "the intranet side went away");
	tx_connect(o);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outer	*o = arg;
	int		 r;

	(void)fd;
	(void)what;
	if (chan_tx_fd(o->tx) == -1)
		return;
	r = chan_tx_flush(o->tx);
	/* On a diode nothing comes back: written to the link is the most a
	 * one-way message can get. */
	if (r == 0 && o->diode)
		exchange_sent_all(o);
	if (chan_tx_durable(o->tx) && r != -EAGAIN) {
		/* On disk (202s), or never sent (503s). */
		exchange_durable(o, r);
		deliver_flushed(o, r);
		if (r != 0 && chan_tx_fd(o->tx) != -1)
			return;
	}
	if (r == -EAGAIN) {
		if (o->tx_ev != NULL)
			event_add(o->tx_ev, NULL);
	} else if (r != 0) {
		if (r != -EPIPE)
			log_warnx("inward ferry: flush: %s", strerror(-r));
		/* A failed write disconnects the channel whatever the errno. */
		if (chan_tx_fd(o->tx) == -1)
			tx_lost(o);
	}
}

static void
retry_later(struct outer *o)
{
	struct timeval	 tv = { 0, OUTER_CONNECT_RETRY_MS * 1000 };

	if (!evtimer_pending(o->retry_ev, NULL))
		evtimer_add(o->retry_ev, &tv);
}

static void
tx_connect(struct outer *o)
{
	int	 r;

	if ((r = chan_tx_connect(o->tx)) != 0) {
		if (r != -EAGAIN)
			log_warnx("inward ferry: %s", strerror(-r));
		retry_later(o);
		return;
	}
	o->tx_ev = event_new(o->base, chan_tx_fd(o->tx), EV_WRITE, flush_cb, o);
	if (o->tx_ev == NULL)
		fatalx("event_new");
	log_info("inward ferry connected (epoch %u)", chan_tx_epoch(o->tx));
}

static void	rx_cb(evutil_socket_t, short, void *);

/* Watches the outward channel's current descriptor; -1 when it has none
 * (a failed reopen: the retry timer tries again). */
static int
rx_arm(struct outer *o)
{
	int	 fd;

	if (o->rx_ev != NULL) {
		event_free(o->rx_ev);
		o->rx_ev = NULL;
	}
	if (o->rx == NULL)
		return 0;		/* a diode: nothing comes back */
	if ((fd = chan_rx_fd(o->rx)) < 0)
		return -1;
	o->rx_ev = event_new(o->base, fd, EV_READ | EV_PERSIST, rx_cb, o);
	if (o->rx_ev == NULL || event_add(o->rx_ev, NULL) != 0)
		fatalx("outward ferry: cannot watch the channel");
	return 0;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outer	*o = arg;

	(void)fd;
	(void)what;
	if (chan_tx_fd(o->tx) == -1)
		tx_connect(o);
	if (o->rx_ev == NULL && o->rx != NULL && rx_arm(o) != 0)
		retry_later(o);
}

/* A spool unit whose frames failed verification goes to quarantine/. */
static void
rx_release(struct outer *o)
{
	int	 r, bad = o->rx_bad;

	o->rx_bad = 0;
	if ((r = chan_rx_release(o->rx, bad)) != 0)
		log_warnx("outward ferry: release: %s", strerror(-r));
	else if (bad) {
		log_warnx("outward spool: a file failed verification and was "
		    "moved to quarantine/");
		if (audit_note(o->audit, "ferry", "deny", "quarantined") != 0)
			log_warn("audit append");
	}
}

static void
rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outer	*o = arg;
	struct timeval	 zero = { 0, 0 };
	int		 r, n = 0;

	(void)fd;
	(void)what;
	/* A durable ferry hands one unit per read: release each once its
	 * frames are handled, and come back after a few (by a timer: libevent
	 * would run a re-activated event again before any timer). */
	while ((r = chan_rx_read(o->rx, exchange_frame, o)) == 1) {
		rx_release(o);
		if (++n == 64) {
			if (evtimer_add(o->rx_more_ev, &zero) != 0)
				fatalx("evtimer_add");
			return;
		}
	}
	if (r == -EPIPE) {
		/* The writer left and the FIFO was reopened: a new fd. */
		if (rx_arm(o) != 0) {
			log_warnx("outward ferry: cannot reopen; retrying");
			retry_later(o);
		}
	} else if (r != 0 && r != -EAGAIN && r != -EINTR) {
		log_warnx("outward ferry: %s", strerror(-r));
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct outer	*o = arg;

	(void)what;
	log_info("signal %d, exiting", (int)sig);
	event_base_loopbreak(o->base);
}

/* SIGHUP: the TLS trust (client-ca, crl) read again. */
static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct outer	*o = arg;
	char		 why[256];

	(void)sig;
	(void)what;
	if (o->tls == NULL) {
		log_info("SIGHUP: nothing to reload without a tls listen");
		return;
	}
	if (front_tls_reload(o, why, sizeof(why)) < 0)
		log_warnx("SIGHUP: client-ca and crl not reloaded, the previous "
		    "ones stay: %s", why);
	else
		log_info("SIGHUP: client-ca and crl reloaded, %s", why);
}

#ifdef ISOGATE_TEST_HOOKS
/* Test builds only: what a compromised outer would try first, an outbound
 * connection (towards the intranet), once sandboxed. It must die of SIGSYS. */
static void
test_forbidden(void)
{
	struct sockaddr_in	 sin;
	const char		*what = getenv("ISOGATE_TEST_FORBIDDEN");
	int			 fd;

	if (what == NULL)
		return;
	log_info("test hook: trying %s", what);
	if (strcmp(what, "socket") == 0) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(5432);
		sin.sin_addr.s_addr = htonl(0x0a000001);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1)
			(void)connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	} else if (strcmp(what, "execve") == 0)
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
	log_warnx("test hook: %s was allowed", what);
}
#endif

/* Drops to the policy's user and installs outer's allow-list, or with
 * --no-sandbox says loudly that it does not, and audits that. */
static void
confine(struct outer *o, int no_sandbox)
{
	struct audit_record	 rec;
	const char		*user = o->policy->outer.user, *step;
	int			 r;

	if (no_sandbox) {
		log_warnx("--no-sandbox: NOT dropping privileges, NO seccomp "
		    "filter; for debugging only, never in production");
		memset(&rec, 0, sizeof(rec));
		rec.event = "sandbox";
		rec.decision = "deny";
		rec.reason = "no_sandbox";
		rec.size = rec.rows = rec.latency_us = -1;
		if ((r = audit_append(o->audit, &rec)) != 0)
			fatalx("audit: %s", strerror(-r));
		return;
	}
	if (user == NULL && geteuid() == 0)
		log_warnx("no user in the outer block: staying uid 0 "
		    "(without capabilities)");
	if ((r = sandbox_confine(user, SANDBOX_OUTER, &step)) != 0) {
		if (strcmp(step, "user") == 0)
			fatalx("user %s: %s", user, r == -ENOENT ?
			    "no such user" : strerror(-r));
		fatalx("cannot confine (%s): %s", step, strerror(-r));
	}
	log_info("sandboxed: uid %u, no capabilities, seccomp allow-list",
	    (unsigned)getuid());
#ifdef ISOGATE_TEST_HOOKS
	test_forbidden();
#endif
}

/* Signs what is unsigned once the checkpoint interval has passed, and
 * puts connection-limit refusals not yet on record there. */
static void
audit_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outer	*o = arg;
	int		 r;

	(void)fd;
	(void)what;
	front_refused_flush(o);
	if ((r = audit_tick(o->audit)) != 0)
		log_warnx("audit: %s", strerror(-r));
}

/*
 * Room for `limit connections` file descriptors and outer's own: raises
 * RLIMIT_NOFILE (the hard limit too while root). Where the system will not
 * give that many, the limit is lowered to fit, and said so.
 */
static void
fit_nofile(struct outer *o)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)o->lim.connections + OUTER_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		fatal("getrlimit");
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (rl.rlim_max < want)
			rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
				fatal("getrlimit");
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				fatal("setrlimit");
		}
	}
	if (rl.rlim_cur < want) {
		o->lim.connections = rl.rlim_cur > 2 * OUTER_FD_RESERVE ?
		    (uint32_t)(rl.rlim_cur - OUTER_FD_RESERVE) :
		    OUTER_FD_RESERVE;
		log_warnx("limit connections lowered to %" PRIu32 ": "
		    "RLIMIT_NOFILE allows %llu file descriptors",
		    o->lim.connections, (unsigned long long)rl.rlim_cur);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-sandbox",	no_argument,	NULL,	'S' },
		{ NULL,		0,		NULL,	0 },
	};
	struct outer	 o;
	struct event	*sigint, *sigterm, *sighup, *audit_ev;
	struct timeval	 audit_tv = { 1, 0 };
	struct ferry_link link;
	uint8_t		 link_key[FERRY_LINK_KEY_LEN];
	EVP_PKEY	*key = NULL, *peer_key = NULL;
	char		*path = NULL, *errs = NULL, hex[2 * SHA256_LEN + 1];
	char		 why[256];
	int		 ch, debug = 0, no_sandbox = 0, r;

	if (sandbox_close_inherited() != 0)
		fatal("close_range");
	while ((ch = getopt_long(argc, argv, "df:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			no_sandbox = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	log_init("isogate-outer", debug);
	signal(SIGPIPE, SIG_IGN);

	memset(&o, 0, sizeof(o));
	if (policy_load(path, POLICY_CHECK_FILES, &o.policy, &errs) != 0) {
		fputs(errs != NULL ? errs : "policy: cannot load\n", stderr);
		exit(1);
	}
	if (!o.policy->outer.present)
		fatalx("%s: no outer block: this policy is not for outer", path);
	if ((r = key_load_private(o.policy->outer.key, &key)) != 0)
		fatalx("key %s: %s", o.policy->outer.key, strerror(-r));
	if ((r = audit_open_side(&o.policy->outer, "outer", key,
	    &o.audit)) != 0)
		fatalx("audit %s: %s", o.policy->outer.audit, strerror(-r));
	if ((r = key_load_public(o.policy->outer.peer_key, &peer_key)) != 0)
		fatalx("peer-key %s: %s", o.policy->outer.peer_key,
		    strerror(-r));
	if ((r = mkdir_p(o.policy->outer.state, 0700)) != 0)
		fatalx("state %s: %s", o.policy->outer.state, strerror(-r));

	if ((o.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/* A diode carries the inward channel only: no outward end at all. */
	o.diode = o.policy->outer.link.diode;
	if (!o.diode && (r = chan_rx_open(o.policy->outer.outward,
	    FERRY_OUTWARD, peer_key, o.policy->digest, o.policy->outer.state,
	    &o.rx)) != 0)
		fatalx("outward ferry %s: %s", o.policy->outer.outward,
		    strerror(-r));
	if ((r = chan_tx_open(o.policy->outer.inward, FERRY_INWARD, key,
	    o.policy->digest, o.policy->outer.state, &o.tx)) != 0)
		fatalx("inward ferry %s: %s", o.policy->outer.inward,
		    strerror(-r));
	if (o.policy->outer.link.present) {
		memset(&link, 0, sizeof(link));
		if (o.policy->outer.link.key != NULL) {
			if ((r = linkkey_load(o.policy->outer.link.key,
			    link_key)) != 0)
				fatalx("link key %s: %s",
				    o.policy->outer.link.key, strerror(-r));
			link.key = link_key;
		}
		link.copies = o.policy->outer.link.copies;
		link.parity = o.policy->outer.link.parity;
		link.rate = o.policy->outer.link.rate;
		link.timeout_ms = o.policy->outer.link.timeout_ms;
		link.seal = o.policy->outer.link.seal;
		if ((r = chan_tx_configure(o.tx, &link)) != 0 ||
		    (o.rx != NULL && (r = chan_rx_configure(o.rx,
		    &link)) != 0))
			fatalx("link: %s", strerror(-r));
		OPENSSL_cleanse(link_key, sizeof(link_key));
	}
	outer_init_exchanges(&o);
	fit_nofile(&o);
	if (o.policy->outer.ferry_set.archive && o.rx != NULL &&
	    (r = chan_rx_archive(o.rx, 1)) != 0) {
		if (r != -ENOTSUP)
			fatalx("outward ferry %s: ferry archive: %s",
			    o.policy->outer.outward, strerror(-r));
		log_warnx("outward ferry %s: not a spool: ferry archive "
		    "ignored", o.policy->outer.outward);
	}

	o.flush_ev = event_new(o.base, -1, 0, flush_cb, &o);
	o.retry_ev = evtimer_new(o.base, retry_cb, &o);
	if ((o.rx_more_ev = evtimer_new(o.base, rx_cb, &o)) == NULL)
		fatalx("evtimer_new");
	if ((audit_ev = event_new(o.base, -1, EV_PERSIST, audit_tick_cb,
	    &o)) == NULL || event_add(audit_ev, &audit_tv) != 0)
		fatalx("cannot set up the audit timer");
	sigint = evsignal_new(o.base, SIGINT, signal_cb, &o);
	sigterm = evsignal_new(o.base, SIGTERM, signal_cb, &o);
	sighup = evsignal_new(o.base, SIGHUP, hup_cb, &o);
	if (o.flush_ev == NULL || o.retry_ev == NULL ||
	    sigint == NULL || sigterm == NULL || sighup == NULL ||
	    event_add(sigint, NULL) != 0 || event_add(sigterm, NULL) != 0 ||
	    event_add(sighup, NULL) != 0)
		fatalx("cannot set up events");
	if (rx_arm(&o) != 0)
		retry_later(&o);
	else if (o.rx_ev != NULL)	/* none on a diode */
		event_active(o.rx_ev, EV_READ, 0);	/* what is stored */
	deliver_init(&o);
	if ((r = front_tls_init(&o, why, sizeof(why))) != 0)
		fatalx("listen %s tls: %s", o.policy->outer.listen, why);
	if ((r = front_listen(&o, o.policy->outer.listen)) != 0)
		fatalx("listen %s: %s", o.policy->outer.listen, strerror(-r));
	tx_connect(&o);
	if ((r = guard_start(&o, no_sandbox)) != 0)
		fatalx("guard queue %u: %s", o.policy->outer.guard.queue,
		    strerror(-r));
	confine(&o, no_sandbox);

	hex_encode(o.policy->digest, SHA256_LEN, hex);
	log_info("ready: listening on %s, policy digest %.16s, %zu messages",
	    o.policy->outer.listen, hex, o.policy->nmessages);
	event_base_dispatch(o.base);

	guard_stop(&o);
	evconnlistener_free(o.listener);
	if (chan_tx_durable(o.tx))	/* what is written gets its 202 */
		exchange_durable(&o, chan_tx_flush(o.tx));
	exchange_fail_all(&o, "stopping", "the gateway is stopping");
	front_close_all(&o);
	front_tls_free(&o);
	event_free(sigint);
	event_free(sigterm);
	event_free(sighup);
	event_free(o.flush_ev);
	event_free(o.retry_ev);
	event_free(o.rx_more_ev);
	if (o.rx_ev != NULL)
		event_free(o.rx_ev);
	if (o.tx_ev != NULL)
		event_free(o.tx_ev);
	if (chan_tx_fd(o.tx) != -1)
		chan_tx_flush(o.tx);
	chan_tx_close(o.tx);
	chan_rx_close(o.rx);
	event_free(audit_ev);
	audit_close(o.audit);	/* signs its last checkpoint: before the key */
	EVP_PKEY_free(key);
	EVP_PKEY_free(peer_key);
	deliver_free(&o);
	free(o.pending);
	free(o.buckets);
	free(o.peer_conns);
	free(o.peer_pending);
	buf_free(&o.resp);
	policy_free(o.policy);
	event_base_free(o.base);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* isogate-inner: start-up, the event loop, the intranet ends of the ferry. */

#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "inner/inner.h"

#define RETRY_MS	200	/* outward connect retry */
#define RX_SLICE_MS	100	/* spool units read per pass, at most */

struct daemon {
	struct inner	 in;
	struct policy	*pol;
	EVP_PKEY	*key;
	EVP_PKEY	*peer_key;
	struct chan_rx	*rx;
	struct chan_tx	*tx;
	struct event_base *base;
	struct event	*ev_rx;
	struct event	*ev_rx_more;	/* the rest of a spool backlog */
	struct event	*ev_tx;		/* armed while flush says EAGAIN */
	struct event	*ev_retry;	/* outward connect, and inward re-arm */
	struct event	*ev_sigterm;
	struct event	*ev_sigint;
	struct event	*ev_audit;	/* checkpoints when idle */
	struct event	*ev_beat;	/* heartbeats */
	struct event	*ev_prune;	/* applied ids past `ferry keep` */
	uint64_t	 ticks;
	uint32_t	 keep_secs;
	int		 tx_up;
	int		 loss_logged;
	struct chan_rx_stats seen;	/* counters already audited */
};

static void	 daemon_retry_later(struct daemon *);
static void	 daemon_flush(struct daemon *);
static int	 daemon_arm_rx(struct daemon *);

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: isogate-inner -f policy [-d] [--no-sandbox]\n");
	exit(2);
}

/* inner_seal_fn: seal what is queued on the outward channel; not on a
 * spool, whose units arrive whole or not at all. */
static int
daemon_seal(void *arg)
{
	struct daemon	*d = arg;

	if (d->tx == NULL || chan_tx_durable(d->tx))
		return 0;
	return chan_tx_seal(d->tx);
}

/* inner_send_fn: queue on the outward channel, or count the loss. */
static int
daemon_send(void *arg, uint8_t kind, const uint8_t id[ID_LEN],
    const char *peer, const char *type, const void *payload, size_t len)
{
	struct daemon	*d = arg;
	int		 r;

	/* A diode: nothing can go back; the audit has the decision. */
	if (d->tx == NULL)
		return 0;
	if ((r = chan_tx_send(d->tx, kind, id, peer, type, payload, len)) ==
	    0)
		return 0;
	/* Once per outage: outer times its clients out meanwhile. */
	if (!d->loss_logged) {
		log_warnx("outward: %s; replies are lost until it recovers",
		    strerror(-r));
		d->loss_logged = 1;
	}
	return r;
}

static void
daemon_tx_down(struct daemon *d)
{
	if (d->ev_tx != NULL) {
		event_free(d->ev_tx);
		d->ev_tx = NULL;
	}
	if (d->tx_up)
		log_warnx("outward: receiver went away; reconnecting");
	d->tx_up = 0;
	daemon_retry_later(d);
}

static void
daemon_tx_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	daemon_flush(arg);
}

/* One seal per batch: called once after everything a read delivered. */
static void
daemon_flush(struct daemon *d)
{
	int	 r;

	if (!d->tx_up)
		return;
	switch ((r = chan_tx_flush(d->tx))) {
	case 0:
		break;
	case -EAGAIN:
		if (event_add(d->ev_tx, NULL) == -1)
			fatalx("event_add");
		break;
	case -EPIPE:
		daemon_tx_down(d);
		break;
	default:
		log_warnx("outward: flush: %s", strerror(-r));
		/* A failed write disconnects the channel whatever the errno. */
		if (chan_tx_fd(d->tx) < 0)
			daemon_tx_down(d);
		break;
	}
}

static int
daemon_connect(struct daemon *d)
{
	static int	 warned;
	int		 r, fd;

	if (d->tx == NULL)
		return 0;
	if ((r = chan_tx_connect(d->tx)) != 0) {
		if (r != -EAGAIN && !warned) {
			log_warnx("outward: connect: %s", strerror(-r));
			warned = 1;
		}
		return r;
	}
	warned = 0;
	if ((fd = chan_tx_fd(d->tx)) < 0)
		fatalx("outward: connected without a descriptor");
	if ((d->ev_tx = event_new(d->base, fd, EV_WRITE, daemon_tx_cb,
	    d)) == NULL)
		fatalx("event_new");
	d->tx_up = 1;
	d->loss_logged = 0;
	log_info("outward: connected");
	daemon_flush(d);
	return 0;
}

/* Audits one link counter's growth since the last look: what the
 * receiver lost or refused below the frame level, with how many. */
static void
daemon_link_audit(struct daemon *d, const char *decision, const char *reason,
    uint64_t now, uint64_t *seen)
{
	struct audit_record	 rec;

	if (now <= *seen)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.event = "link";
	rec.decision = decision;
	rec.reason = reason;
	rec.size = (int64_t)(now - *seen);	/* this many, now */
	rec.rows = (int64_t)now;		/* in all since start */
	rec.latency_us = -1;
	if (inner_audit(&d->in, &rec) == 0)
		*seen = now;
}

/*
 * After each read: every frame the channel knows it lost (sequence numbers
 * never seen) and every sender restart, each audited with its count; both
 * come from authentic seals only. With link too (once a second, from the
 * audit timer): the link packets refused, which anyone on the link can
 * send, so that a flood of them is a few records, not one per read.
 */
static void
daemon_link_report(struct daemon *d, int link)
{
	struct chan_rx_stats	 st;

	if (d->rx == NULL)
		return;
	chan_rx_stats(d->rx, &st);
	/* Frames lost on the way: outer hears the position now, not at the
	 * next beat, and sends again what it lost. */
	if (st.lost > d->seen.lost)
		d->in.beat_now = 1;
	daemon_link_audit(d, "deny", "frames_lost", st.lost, &d->seen.lost);
	daemon_link_audit(d, "deny", "sender_restarted", st.restarts,
	    &d->seen.restarts);
	if (!link)
		return;
	daemon_link_audit(d, "deny", "malformed", st.link.malformed,
	    &d->seen.link.malformed);
	daemon_link_audit(d, "deny", "bad_tag", st.link.bad_tag,
	    &d->seen.link.bad_tag);
	daemon_link_audit(d, "deny", "oversized", st.link.oversized,
	    &d->seen.link.oversized);
	daemon_link_audit(d, "deny", "out_of_window", st.link.out_of_window,
	    &d->seen.link.out_of_window);
	daemon_link_audit(d, "deny", "evicted", st.link.evicted,
	    &d->seen.link.evicted);
	daemon_link_audit(d, "allow", "recovered", st.link.recovered,
	    &d->seen.link.recovered);
}

/* Inner's heartbeat: the echo of outer's last one and how far the inward
 * channel has been consumed (outer resends what was lost before that). */
static void
daemon_beat(struct daemon *d)
{
	struct beat	 b;
	struct buf	 p;

	if (!d->tx_up)
		return;
	memset(&b, 0, sizeof(b));
	b.echo_time = d->in.beat_echo_time;
	b.echo_rx = d->in.beat_echo_rx;
	chan_rx_position(d->rx, &b.pos_epoch, &b.pos_seq);
	buf_init(&p, BEAT_LEN);
	if (beat_encode(&b, &p) == 0 && daemon_send(d, FRAME_HEARTBEAT,
	    NULL, "", "", p.data, p.len) == 0)
		beat_sent_add(&d->in.beat_sent, chan_tx_time(d->tx));
	buf_free(&p);
	daemon_flush(d);
}

static void
daemon_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)fd;
	(void)what;
	d->ticks++;
	/* A quiet outer gets one heartbeat in ten: a stopped reader must
	 * not find thousands of them in its spool. Nothing piles up on a
	 * FIFO or a link, where a quiet outer may only be an unlucky one
	 * (its beats lost): every beat goes. */
	if (mono_ms() - d->in.beat_heard_ms <=
	    (uint64_t)INNER_SILENT_BEATS * d->in.beat_ms ||
	    d->ticks % 10 == 0 ||
	    (d->tx != NULL && !chan_tx_durable(d->tx)))
		daemon_beat(d);
}

static void
daemon_prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	int64_t		 n;

	(void)fd;
	(void)what;
	n = exec_prune(d->in.exec, (int64_t)time(NULL) - d->keep_secs);
	if (n > 0)
		log_info("applied ids: %lld older than %us forgotten",
		    (long long)n, d->keep_secs);
	else if (n < 0 && n != -EBUSY)
		log_warnx("applied ids: cannot prune: %s", strerror((int)-n));
}

/* A spool unit whose frames failed verification goes to quarantine/. */
static void
daemon_release(struct daemon *d)
{
	int	 r, bad = d->in.unit_bad;

	d->in.unit_bad = 0;
	if ((r = chan_rx_release(d->rx, bad)) != 0) {
		log_warnx("inward: release: %s", strerror(-r));
		return;
	}
	if (!bad)
		return;
	log_warnx("inward spool: a file failed verification and was moved "
	    "to quarantine/");
	if (audit_note(d->in.audit, "ferry", "deny", "quarantined") != 0)
		log_warnx("audit append failed");
}

/* One read: deliver, commit; the caller flushes the acks and replies. */
static int
daemon_read(struct daemon *d)
{
	int	 r;

	r = chan_rx_read(d->rx, inner_frame, &d->in);
	/* The batch's one-ways become durable before any ack is queued. */
	exec_commit(d->in.exec);
	daemon_link_report(d, 0);
	if (d->in.beat_now) {
		d->in.beat_now = 0;
		daemon_beat(d);
	}
	return r;
}

static void
daemon_rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 zero = { 0, 0 };
	uint64_t	 t0 = mono_ms();
	int		 r, n = 0;

	(void)fd;
	(void)what;
	/* Outer is evidently there: try now rather than lose these replies. */
	if (!d->tx_up)
		(void)daemon_connect(d);
	/* A durable ferry hands one unit per read: released once committed
	 * (a crash before reads it again: applied ids make that harmless).
	 * A backlog is worked off in slices, so that heartbeats still go. */
	while ((r = daemon_read(d)) == 1) {
		daemon_release(d);
		if (++n == 64 || mono_ms() - t0 >= RX_SLICE_MS) {
			/* A timer, not event_active: libevent would run a
			 * re-activated event again before any timer. */
			daemon_flush(d);
			if (evtimer_add(d->ev_rx_more, &zero) == -1)
				fatalx("evtimer_add");
			return;
		}
	}
	daemon_flush(d);
	if (r == -EPIPE) {
		/* The writer left and the transport reopened: a new fd. */
		if (daemon_arm_rx(d) != 0)
			daemon_retry_later(d);
	} else if (r != 0 && r != -EAGAIN && r != -EINTR)
		log_warnx("inward: read: %s", strerror(-r));
}

static int
daemon_arm_rx(struct daemon *d)
{
	int	 fd;

	if (d->ev_rx != NULL) {
		event_free(d->ev_rx);
		d->ev_rx = NULL;
	}
	if ((fd = chan_rx_fd(d->rx)) < 0) {
		log_warnx("inward: no descriptor; retrying");
		return -EBADF;
	}
	if ((d->ev_rx = event_new(d->base, fd, EV_READ | EV_PERSIST,
	    daemon_rx_cb, d)) == NULL || event_add(d->ev_rx, NULL) == -1)
		fatalx("inward: cannot watch the channel");
	return 0;
}

static void
daemon_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	int		 again = 0;

	(void)fd;
	(void)what;
	if (!d->tx_up && daemon_connect(d) != 0)
		again = 1;
	if (d->ev_rx == NULL && daemon_arm_rx(d) != 0)
		again = 1;
	if (again)
		daemon_retry_later(d);
}

static void
daemon_retry_later(struct daemon *d)
{
	struct timeval	 tv = { 0, RETRY_MS * 1000 };

	if (!evtimer_pending(d->ev_retry, NULL) &&
	    evtimer_add(d->ev_retry, &tv) == -1)
		fatalx("evtimer_add");
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)what;
	log_info("inner: %s, exiting", strsignal((int)sig));
	event_base_loopbreak(d->base);
}

/* Every side-block setting inner needs, named when missing. */
static void
daemon_check_side(const struct side *s)
{
	const char	*missing = NULL;

	if (s->inward == NULL)
		missing = "inward";
	else if (s->outward == NULL)
		missing = "outward";
	else if (s->key == NULL)
		missing = "key";
	else if (s->peer_key == NULL)
		missing = "peer-key";
	else if (s->audit == NULL)
		missing = "audit";
	else if (s->state == NULL)
		missing = "state";
	else if (s->database == NULL || s->db_driver == NULL)
		missing = "database";
	if (missing != NULL)
		fatalx("%s:%d: inner block has no %s",
		    s->file != NULL ? s->file : "?", s->line, missing);
}

/* Signs what is unsigned once the checkpoint interval has passed. */
static void
daemon_audit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	int		 r;

	(void)fd;
	(void)what;
	daemon_link_report(d, 1);
	if ((r = audit_tick(d->in.audit)) != 0)
		log_warnx("audit: %s", strerror(-r));
}

static void
daemon_start(struct daemon *d, const char *path)
{
	const struct side	*s;
	char			*errors = NULL, hex[2 * SHA256_LEN + 1];
	struct audit		*audit;
	struct exec		*exec;
	struct timeval		 audit_tv = { 1, 0 }, beat_tv;
	struct timeval		 prune_tv = { 60, 0 };
	struct ferry_link	 link;
	uint8_t			 link_key[FERRY_LINK_KEY_LEN];
	int			 r;

	if ((r = policy_load(path, POLICY_CHECK_FILES, &d->pol,
	    &errors)) != 0) {
		if (errors != NULL)
			fputs(errors, stderr);
		else
			fprintf(stderr, "%s: %s\n", path, strerror(-r));
		exit(1);
	}
	s = &d->pol->inner;
	if (!s->present)
		fatalx("%s: no inner block", path);
	daemon_check_side(s);

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((d->ev_sigterm = evsignal_new(d->base, SIGTERM, daemon_signal_cb,
	    d)) == NULL || evsignal_add(d->ev_sigterm, NULL) == -1 ||
	    (d->ev_sigint = evsignal_new(d->base, SIGINT, daemon_signal_cb,
	    d)) == NULL || evsignal_add(d->ev_sigint, NULL) == -1 ||
	    (d->ev_retry = evtimer_new(d->base, daemon_retry_cb, d)) == NULL)
		fatalx("cannot set up the event loop");

	if ((r = key_load_private(s->key, &d->key)) != 0)
		fatalx("key %s: %s", s->key, strerror(-r));
	if ((r = audit_open_side(s, "inner", d->key, &audit)) != 0)
		fatalx("audit %s: %s", s->audit, strerror(-r));
	d->in.audit = audit;
	if ((d->ev_audit = event_new(d->base, -1, EV_PERSIST,
	    daemon_audit_cb, d)) == NULL ||
	    event_add(d->ev_audit, &audit_tv) != 0)
		fatalx("cannot set up the audit timer");
	if ((r = key_load_public(s->peer_key, &d->peer_key)) != 0)
		fatalx("peer-key %s: %s", s->peer_key, strerror(-r));

	d->in.pol = d->pol;
	d->in.send = daemon_send;
	d->in.seal = daemon_seal;
	d->in.send_arg = d;
	if ((r = exec_open(d->pol, inner_done, &d->in, &exec,
	    &errors)) != 0) {
		fputs(errors, stderr);
		free(errors);
		exit(1);
	}
	d->in.exec = exec;

	if ((r = chan_rx_open(s->inward, FERRY_INWARD, d->peer_key,
	    d->pol->digest, s->state, &d->rx)) != 0)
		fatalx("inward %s: %s", s->inward, strerror(-r));
	/* A diode carries the inward channel only: no outward end. */
	if (!s->link.diode && (r = chan_tx_open(s->outward, FERRY_OUTWARD,
	    d->key, d->pol->digest, s->state, &d->tx)) != 0)
		fatalx("outward %s: %s", s->outward, strerror(-r));
	if (s->link.present) {
		memset(&link, 0, sizeof(link));
		if (s->link.key != NULL) {
			if ((r = linkkey_load(s->link.key, link_key)) != 0)
				fatalx("link key %s: %s", s->link.key,
				    strerror(-r));
			link.key = link_key;
		}
		link.copies = s->link.copies;
		link.parity = s->link.parity;
		link.rate = s->link.rate;
		link.timeout_ms = s->link.timeout_ms;
		link.seal = s->link.seal;
		if ((r = chan_rx_configure(d->rx, &link)) != 0 ||
		    (d->tx != NULL && (r = chan_tx_configure(d->tx,
		    &link)) != 0))
			fatalx("link: %s", strerror(-r));
		OPENSSL_cleanse(link_key, sizeof(link_key));
	}
	if (s->ferry_set.archive && (r = chan_rx_archive(d->rx, 1)) != 0) {
		if (r != -ENOTSUP)
			fatalx("inward %s: ferry archive: %s", s->inward,
			    strerror(-r));
		log_warnx("inward %s: not a spool: ferry archive ignored",
		    s->inward);
	}
	if (daemon_arm_rx(d) != 0)
		fatalx("inward %s: no descriptor", s->inward);
	if ((d->ev_rx_more = evtimer_new(d->base, daemon_rx_cb, d)) == NULL)
		fatalx("evtimer_new");
	event_active(d->ev_rx, EV_READ, 0);	/* what is already stored */
	d->in.beat_ms = s->ferry_set.heartbeat_ms ?
	    s->ferry_set.heartbeat_ms : FERRY_HEARTBEAT_DEFAULT;
	d->in.skew_ms = s->ferry_set.skew_ms ? s->ferry_set.skew_ms :
	    FERRY_SKEW_DEFAULT;
	d->in.skewed = -1;
	d->keep_secs = s->ferry_set.keep_secs ? s->ferry_set.keep_secs :
	    FERRY_KEEP_DEFAULT;
	beat_tv.tv_sec = d->in.beat_ms / 1000;
	beat_tv.tv_usec = (d->in.beat_ms % 1000) * 1000;
	if ((d->ev_beat = event_new(d->base, -1, EV_PERSIST, daemon_beat_cb,
	    d)) == NULL || event_add(d->ev_beat, &beat_tv) != 0 ||
	    (d->ev_prune = event_new(d->base, -1, EV_PERSIST,
	    daemon_prune_cb, d)) == NULL ||
	    event_add(d->ev_prune, &prune_tv) != 0)
		fatalx("cannot set up the heartbeat timers");
	daemon_prune_cb(-1, 0, d);
	/* Outer may start later: keep trying until it is there. */
	if (daemon_connect(d) != 0)
		daemon_retry_later(d);

	hex_encode(d->pol->digest, SHA256_LEN, hex);
	log_info("inner: ready, policy digest %.8s\xe2\x80\xa6, %zu statements",
	    hex, exec_nstatements(exec));
}

#ifdef ISOGATE_TEST_HOOKS
/* Test builds only: ISOGATE_TEST_CLOCK_OFFSET_MS=N plays an inner whose
 * clock is N ms off (|N| at most a day), for the clock skew checks. */
static void
test_clock(void)
{
	const char	*v = getenv("ISOGATE_TEST_CLOCK_OFFSET_MS");
	int64_t		 ms;

	if (v == NULL)
		return;
	if (parse_i64(v, -86400000, 86400000, &ms) != 0)
		fatalx("ISOGATE_TEST_CLOCK_OFFSET_MS: not a number of ms");
	now_offset_set(ms * 1000000);
	log_info("test hook: clock off by %lld ms", (long long)ms);
}

/* Test builds only: what a compromised inner would try, a listening socket
 * for the extranet, once sandboxed. It must die of SIGSYS. */
static void
test_forbidden(void)
{
	const char	*what = getenv("ISOGATE_TEST_FORBIDDEN");
	int		 fd;

	if (what == NULL)
		return;
	log_info("test hook: trying %s", what);
	if (strcmp(what, "socket") == 0) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1)
			(void)listen(fd, 1);
	} else if (strcmp(what, "execve") == 0)
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
	log_warnx("test hook: %s was allowed", what);
}
#endif

/* Drops to the policy's user and installs inner's allow-list, or with
 * --no-sandbox says loudly that it does not, and audits that. */
static void
daemon_confine(struct daemon *d, int no_sandbox)
{
	struct audit_record	 rec;
	const char		*user = d->pol->inner.user, *step;
	int			 r;

	if (no_sandbox) {
		log_warnx("--no-sandbox: NOT dropping privileges, NO seccomp "
		    "filter; for debugging only, never in production");
		memset(&rec, 0, sizeof(rec));
		rec.event = "sandbox";
		rec.decision = "deny";
		rec.reason = "no_sandbox";
		rec.size = rec.rows = rec.latency_us = -1;
		if ((r = audit_append(d->in.audit, &rec)) != 0)
			fatalx("audit: %s", strerror(-r));
		return;
	}
	if (user == NULL && geteuid() == 0)
		log_warnx("no user in the inner block: staying uid 0 "
		    "(without capabilities)");
	if ((r = sandbox_confine(user, SANDBOX_INNER, &step)) != 0) {
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

static void
daemon_stop(struct daemon *d)
{
	if (d->tx_up)
		(void)chan_tx_flush(d->tx);	/* best effort */
	if (d->ev_rx != NULL)
		event_free(d->ev_rx);
	if (d->ev_tx != NULL)
		event_free(d->ev_tx);
	event_free(d->ev_retry);
	event_free(d->ev_rx_more);
	event_free(d->ev_beat);
	event_free(d->ev_prune);
	event_free(d->ev_sigterm);
	event_free(d->ev_sigint);
	chan_rx_close(d->rx);
	chan_tx_close(d->tx);
	exec_close(d->in.exec);
	event_free(d->ev_audit);
	audit_close(d->in.audit);
	EVP_PKEY_free(d->key);
	EVP_PKEY_free(d->peer_key);
	event_base_free(d->base);
	log_info("inner: %llu allowed, %llu denied, %llu unanswered",
	    (unsigned long long)d->in.nallow,
	    (unsigned long long)d->in.ndeny,
	    (unsigned long long)(d->in.nunanswered));
	policy_free(d->pol);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "no-sandbox",	no_argument,	NULL,	'S' },
		{ NULL,		0,		NULL,	0 },
	};
	struct daemon	 d;
	const char	*path = NULL;
	int		 ch, debug = 0, no_sandbox = 0;

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
	log_init("isogate-inner", debug);

	memset(&d, 0, sizeof(d));
#ifdef ISOGATE_TEST_HOOKS
	test_clock();
#endif
	daemon_start(&d, path);
	daemon_confine(&d, no_sandbox);
	if (event_base_dispatch(d.base) == -1)
		fatalx("event loop failed");
	/* Every read ends with a commit, so no batch is open here. */
	exec_commit(d.in.exec);
	daemon_stop(&d);
	return 0;
}

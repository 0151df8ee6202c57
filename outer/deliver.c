/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* One-way delivery: unacked one-ways, retransmission (durable and lossy ferries), heartbeats, liveness, clock skew. */

#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "outer/outer.h"

#define DELIVER_SILENT_BEATS	3	/* heartbeats missed: inner silent */
#define DELIVER_IDLE_EVERY	10	/* a silent peer gets 1 beat in 10 */
#define DELIVER_RESEND_MAX	256	/* retransmissions per tick */
#define DELIVER_SCAN_MAX	1024	/* entries looked at per tick */
#define DELIVER_BACKOFF_MAX	2	/* the wait doubles twice at most */
#define DELIVER_RESEND_LINK	250	/* ms: first wait, non-durable ferry */

/* A one-way not yet acked: on a durable ferry, on disk (the client has its
 * 202); on another, sent while its client waits for the ack. */
struct unacked {
	uint8_t			 id[ID_LEN];
	const struct message	*msg;
	const struct peer	*peer;
	char			*payload;
	size_t			 len;
	uint32_t		 epoch;		/* its last transmission */
	uint64_t		 seq;
	uint64_t		 sent_ms;
	uint32_t		 tries;
	struct unacked		*hnext;
	TAILQ_ENTRY(unacked)	 entry;
};
TAILQ_HEAD(unacked_list, unacked);

struct deliver {
	struct outer		*o;
	int			 durable;
	struct unacked		**slots;
	size_t			 nslots;
	struct unacked_list	 list;		/* oldest transmission first */
	size_t			 n;
	size_t			 bytes;
	uint32_t		 pending_max;
	uint64_t		 spool_max;
	uint32_t		 beat_ms;
	uint32_t		 skew_ms;
	uint32_t		 resend_ms;
	struct event		*beat_ev;
	struct event		*watch_ev;
	struct event		*resend_ev;
	uint64_t		 ticks;

	/* Liveness: an inner heartbeat that echoes one of our last
	 * heartbeats (not a stale file from before our start) arrived at
	 * alive_ms; the start gives grace. */
	struct beat_sent	 sent;
	uint64_t		 alive_ms;
	int			 silent;
	uint64_t		 heard_ms;	/* an inner heartbeat arrived */
	uint64_t		 pos_ms;	/* … with its position */
	/* Inner's last heartbeat (its clock) and when it came (ours). */
	uint64_t		 echo_time;
	uint64_t		 echo_rx;
	int			 skewed;
	int			 flush_failed;
};

static void
deliver_audit(struct outer *o, const char *event, const char *decision,
    const char *reason, const struct unacked *u)
{
	struct audit_record	 rec;
	int			 r;

	if (u == NULL)
		r = audit_note(o->audit, event, decision, reason);
	else {
		memset(&rec, 0, sizeof(rec));
		rec.event = event;
		rec.decision = decision;
		rec.reason = reason;
		rec.id = u->id;
		rec.peer = u->peer->name;
		rec.type = u->msg->name;
		rec.size = (int64_t)u->len;
		rec.rows = rec.latency_us = -1;
		r = audit_append(o->audit, &rec);
	}
	if (r != 0)
		log_warn("audit append");
}

static size_t
deliver_slot(const struct deliver *dl, const uint8_t id[ID_LEN])
{
	uint64_t	 h;

	memcpy(&h, id, sizeof(h));
	return (size_t)(h % dl->nslots);
}

static struct unacked *
deliver_find(const struct deliver *dl, const uint8_t id[ID_LEN])
{
	struct unacked	*u;

	if (dl == NULL || dl->slots == NULL)
		return NULL;
	for (u = dl->slots[deliver_slot(dl, id)]; u != NULL; u = u->hnext)
		if (memcmp(u->id, id, ID_LEN) == 0)
			return u;
	return NULL;
}

static void
deliver_forget(struct deliver *dl, struct unacked *u)
{
	struct unacked	**pp;

	for (pp = &dl->slots[deliver_slot(dl, u->id)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == u) {
			*pp = u->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&dl->list, u, entry);
	dl->n--;
	dl->bytes -= u->len;
	free(u->payload);
	free(u);
}

int
deliver_tracked(const struct outer *o, const uint8_t id[ID_LEN])
{
	return deliver_find(o->dl, id) != NULL;
}

int
deliver_differs(const struct outer *o, const uint8_t id[ID_LEN],
    const char *payload, size_t len)
{
	const struct unacked	*u;

	if ((u = deliver_find(o->dl, id)) == NULL)
		return 0;
	return u->len != len || memcmp(u->payload, payload, len) != 0;
}

void
deliver_untrack(struct outer *o, const uint8_t id[ID_LEN])
{
	struct deliver	*dl = o->dl;
	struct unacked	*u;

	/* On a durable ferry the one-way outlives its exchange. */
	if (dl != NULL && !dl->durable && (u = deliver_find(dl, id)) != NULL)
		deliver_forget(dl, u);
}

int
deliver_room(const struct outer *o, size_t len)
{
	const struct deliver	*dl = o->dl;

	if (dl == NULL)		/* before deliver_init: harnesses */
		return 0;
	if (dl->n + o->dwait_n + 1 > dl->pending_max ||
	    dl->bytes + o->dwait_bytes + len > dl->spool_max)
		return -ENOSPC;
	return 0;
}

int
deliver_alive(const struct outer *o)
{
	const struct deliver	*dl = o->dl;

	/* Silent for more than three heartbeats: checked at the request,
	 * so the 503 comes at once, not at the next timer. A diode never
	 * hears back, by design. */
	if (dl != NULL && !o->diode && mono_ms() - dl->alive_ms >
	    (uint64_t)DELIVER_SILENT_BEATS * dl->beat_ms)
		return -ETIMEDOUT;
	return 0;
}

void
deliver_track(struct outer *o, const uint8_t id[ID_LEN],
    const struct message *m, const struct peer *peer, char *payload,
    size_t len, uint32_t epoch, uint64_t seq)
{
	struct deliver	*dl = o->dl;
	struct unacked	*u;
	size_t		 slot;

	if (dl == NULL) {
		free(payload);
		return;
	}
	if ((u = deliver_find(dl, id)) != NULL) {
		/* Sent again under the same id (an Idempotency-Key retry, or
		 * a frame found again in the spool): one entry, the latest
		 * transmission. */
		free(payload);
		TAILQ_REMOVE(&dl->list, u, entry);
	} else {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			fatal("calloc");
		memcpy(u->id, id, ID_LEN);
		u->msg = m;
		u->peer = peer;
		u->payload = payload;
		u->len = len;
		slot = deliver_slot(dl, id);
		u->hnext = dl->slots[slot];
		dl->slots[slot] = u;
		dl->n++;
		dl->bytes += len;
	}
	u->epoch = epoch;
	u->seq = seq;
	u->sent_ms = mono_ms();
	TAILQ_INSERT_TAIL(&dl->list, u, entry);
}

/* Sends u again: a new frame (new seq) with the same exchange id, which
 * inner's table of applied ids recognises. */
static int
deliver_resend(struct deliver *dl, struct unacked *u, const char *why)
{
	struct outer	*o = dl->o;
	int		 r;

	/* On a lossy link, under a seal of its own: a frame lost beside it
	 * would take it down again with the seal they share. A spool unit
	 * arrives whole or not at all: no signature for that there. */
	if (!dl->durable)
		(void)chan_tx_seal(o->tx);
	if ((r = chan_tx_send(o->tx, FRAME_ONEWAY, u->id, u->peer->name,
	    u->msg->name, u->payload, u->len)) != 0)
		return r;
	if (!dl->durable)
		(void)chan_tx_seal(o->tx);
	u->epoch = chan_tx_epoch(o->tx);
	u->seq = chan_tx_seq(o->tx);
	u->sent_ms = mono_ms();
	u->tries++;
	TAILQ_REMOVE(&dl->list, u, entry);
	TAILQ_INSERT_TAIL(&dl->list, u, entry);
	deliver_audit(o, "retransmit", "allow", why, u);
	outer_schedule_flush(o);
	return 0;
}

/* Inner has consumed up to (epoch, seq) and acked what it applied before
 * telling us: what we sent up to there and is still unacked was lost on
 * the way (a damaged or removed spool file). */
static void
deliver_position(struct deliver *dl, uint32_t epoch, uint64_t seq)
{
	struct unacked	*u;
	size_t		 i, n = dl->n;

	dl->pos_ms = mono_ms();
	for (i = 0; i < n && i < DELIVER_RESEND_MAX; i++) {
		if ((u = TAILQ_FIRST(&dl->list)) == NULL ||
		    u->epoch > epoch || (u->epoch == epoch && u->seq > seq))
			break;
		if (deliver_resend(dl, u, "consumed_unacked") != 0)
			break;
	}
}

static void
deliver_send_beat(struct deliver *dl)
{
	struct outer	*o = dl->o;
	struct beat	 b;
	struct buf	 p;

	if (chan_tx_fd(o->tx) == -1)
		return;
	memset(&b, 0, sizeof(b));
	b.echo_time = dl->echo_time;
	b.echo_rx = dl->echo_rx;
	if (o->rx != NULL)		/* none on a diode */
		chan_rx_position(o->rx, &b.pos_epoch, &b.pos_seq);
	buf_init(&p, BEAT_LEN);
	if (beat_encode(&b, &p) == 0 && chan_tx_send(o->tx, FRAME_HEARTBEAT,
	    NULL, "", "", p.data, p.len) == 0) {
		beat_sent_add(&dl->sent, chan_tx_time(o->tx));
		outer_schedule_flush(o);
	}
	buf_free(&p);
}

static void
deliver_watch(struct deliver *dl)
{
	int	 silent = deliver_alive(dl->o) != 0;

	if (silent == dl->silent)
		return;
	dl->silent = silent;
	if (silent)
		log_warnx("inner silent for more than %d heartbeats: "
		    "answering 503", DELIVER_SILENT_BEATS);
	else
		log_info("inner heard from again");
	deliver_audit(dl->o, "liveness", silent ? "deny" : "allow",
	    silent ? "inner_silent" : "inner_alive", NULL);
}

static void
deliver_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deliver	*dl = arg;

	(void)fd;
	(void)what;
	dl->ticks++;
	/* A silent inner gets one heartbeat in ten: a stopped reader must
	 * not find thousands of them in its spool. Not on a FIFO or a link,
	 * where nothing piles up and the silence may be beats lost. */
	if (!dl->silent || !dl->durable || dl->ticks % DELIVER_IDLE_EVERY == 0)
		deliver_send_beat(dl);
	deliver_watch(dl);
}

/*
 * A one-way unacked for resend_ms after its last transmission, doubled
 * with each try, goes again. On a durable ferry only without news of
 * inner's position since (heartbeats say more, and sooner); on another
 * (a lossy link) whatever the news, since the position cannot show a
 * frame lost at the tail.
 */
static void
deliver_resend_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deliver	*dl = arg;
	struct unacked	*u, *next;
	uint64_t	 now = mono_ms(), wait;
	size_t		 scanned = 0, sent = 0;

	(void)fd;
	(void)what;
	if (dl->silent)
		return;
	for (u = TAILQ_FIRST(&dl->list); u != NULL && sent <
	    DELIVER_RESEND_MAX && scanned < DELIVER_SCAN_MAX; u = next) {
		next = TAILQ_NEXT(u, entry);
		scanned++;
		/* Oldest transmission first: none after is due either. */
		if (u->sent_ms + dl->resend_ms > now)
			break;
		wait = (uint64_t)dl->resend_ms << (u->tries <
		    DELIVER_BACKOFF_MAX ? u->tries : DELIVER_BACKOFF_MAX);
		if (u->sent_ms + wait > now ||
		    (dl->durable && dl->pos_ms > u->sent_ms))
			continue;
		if (deliver_resend(dl, u, "timeout") != 0)
			break;
		sent++;
	}
}

static void
deliver_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver_watch(arg);
}

static void
deliver_heartbeat(struct deliver *dl, const struct frame *f)
{
	struct outer	*o = dl->o;
	struct beat	 b;
	uint64_t	 t4 = now_ns(), idle;
	int64_t		 offset, delay;
	int		 sk;

	if (beat_decode(f->payload, f->payload_len, &b) != 0) {
		deliver_audit(o, "frame", "deny", "bad_heartbeat", NULL);
		return;
	}
	idle = mono_ms() - dl->heard_ms;
	dl->heard_ms = mono_ms();
	dl->echo_time = f->time_ns;
	dl->echo_rx = t4;
	/* It echoes one of our own last heartbeats: written by an inner
	 * that is there now, not a file left in the spool from before
	 * (whatever inner's clock says). Only such an echo measures. */
	if (beat_sent_has(&dl->sent, b.echo_time))
		dl->alive_ms = mono_ms();
	deliver_watch(dl);
	deliver_position(dl, b.pos_epoch, b.pos_seq);
	sk = -EAGAIN;
	if (beat_sent_has(&dl->sent, b.echo_time))
		sk = beat_skew(&b, f->time_ns, t4,
		    (uint64_t)dl->skew_ms * 1000000, &offset, &delay);
	if (sk == 1 && dl->skewed != 1) {
		log_warnx("clock skew: inner's clock is %+lld ms from ours "
		    "(tolerance %u ms, round trip %lld ms)",
		    (long long)(offset / 1000000), dl->skew_ms,
		    (long long)(delay / 1000000));
		deliver_audit(o, "clock", "deny", "clock_skew", NULL);
		dl->skewed = 1;
	} else if (sk == 0 && dl->skewed == 1) {
		log_info("clock skew: back within %u ms", dl->skew_ms);
		deliver_audit(o, "clock", "allow", "clock_ok", NULL);
		dl->skewed = 0;
	} else if (sk == 0)
		dl->skewed = 0;
	/* Inner was quiet and speaks again: answer at once, so that it
	 * hears from us without waiting for a slow beat. */
	if (idle > (uint64_t)DELIVER_SILENT_BEATS * dl->beat_ms)
		deliver_send_beat(dl);
}

/* Verdict names inner rejects with when a frame did not arrive intact:
 * the one-way was never applied, and is sent again. */
static int
deliver_transient(const char *reason)
{
	static const char *const lost[] = {
		"malformed", "bad_seal", "replay", "gap", "old_epoch",
		"unsealed",
	};
	size_t	 i;

	for (i = 0; i < sizeof(lost) / sizeof(lost[0]); i++)
		if (strcmp(reason, lost[i]) == 0)
			return 1;
	return 0;
}

int
deliver_frame(struct outer *o, const struct frame *f)
{
	struct deliver	*dl = o->dl;
	struct unacked	*u;
	char		 reason[40];

	if (dl == NULL)
		return 0;
	/* Not durable: nothing stored can arrive late, so any authentic
	 * frame (a replay is not one) shows inner is there now. On a lossy
	 * link its acks say so when its heartbeats were unlucky. */
	if (!dl->durable) {
		dl->alive_ms = mono_ms();
		deliver_watch(dl);
	}
	if (f->kind == FRAME_HEARTBEAT) {
		deliver_heartbeat(dl, f);
		return 1;
	}
	if ((f->kind != FRAME_ACK && f->kind != FRAME_REJECT) ||
	    (u = deliver_find(dl, f->id)) == NULL)
		return 0;
	if (strcmp(f->type, u->msg->name) != 0 ||
	    strcmp(f->peer, u->peer->name) != 0) {
		deliver_audit(o, "frame", "deny", "mismatch", u);
		return 1;
	}
	if (f->kind == FRAME_ACK) {
		deliver_forget(dl, u);
		/* Not durable: the client waits for this ack (exchange). */
		return dl->durable;
	}
	exchange_reject_reason(f, reason, sizeof(reason));
	if (deliver_transient(reason)) {
		/* Spoiled on the way. On a durable ferry inner's position
		 * will have it resent; on a lossy link the client waits:
		 * now (one reject, one transmission). */
		if (!dl->durable)
			(void)deliver_resend(dl, u, reason);
		return 1;
	}
	if (!dl->durable) {
		deliver_forget(dl, u);
		return 0;	/* the client hears it (exchange) */
	}
	/* Refused for good after its 202 (a constraint, a changed policy):
	 * on record, since the client cannot hear it any more. */
	deliver_audit(o, "delivery", "deny", reason, u);
	deliver_forget(dl, u);
	return 1;
}

void
deliver_flushed(struct outer *o, int r)
{
	struct deliver	*dl = o->dl;

	if (dl == NULL)
		return;
	if (r != 0 && !dl->flush_failed) {
		log_warnx("inward ferry: cannot store frames: %s; answering "
		    "503", strerror(-r));
		deliver_audit(o, "ferry", "deny", r == -ENOSPC ||
		    r == -EDQUOT ? "spool_full" : "spool_error", NULL);
		dl->flush_failed = 1;
	} else if (r == 0 && dl->flush_failed) {
		log_info("inward ferry: storing frames again");
		deliver_audit(o, "ferry", "allow", "spool_ok", NULL);
		dl->flush_failed = 0;
	}
}

/* chan_tx_stored's callback: a one-way still in the spool from an earlier
 * run, tracked again until inner acks it. */
static void
deliver_recover_cb(void *arg, const struct frame *f, int verdict)
{
	struct deliver		*dl = arg;
	const struct message	*m;
	const struct peer	*peer;
	char			*copy;

	if (verdict != CHAN_OK || f == NULL || f->kind != FRAME_ONEWAY)
		return;
	if ((m = policy_message(dl->o->policy, f->type)) == NULL ||
	    !m->oneway || (peer = policy_peer(dl->o->policy, f->peer)) == NULL)
		return;	/* of another policy: inner refuses it */
	if ((copy = malloc(f->payload_len + 1)) == NULL)
		fatal("malloc");
	memcpy(copy, f->payload, f->payload_len);
	copy[f->payload_len] = '\0';
	deliver_track(dl->o, f->id, m, peer, copy, f->payload_len, f->epoch,
	    f->seq);
}

void
deliver_init(struct outer *o)
{
	const struct side_ferry	*fs = &o->policy->outer.ferry_set;
	struct deliver		*dl;
	struct timeval		 tv;
	uint32_t		 ms;
	int			 r;

	if ((dl = calloc(1, sizeof(*dl))) == NULL)
		fatal("calloc");
	o->dl = dl;
	dl->o = o;
	dl->durable = chan_tx_durable(o->tx);
	dl->beat_ms = fs->heartbeat_ms ? fs->heartbeat_ms :
	    FERRY_HEARTBEAT_DEFAULT;
	dl->skew_ms = fs->skew_ms ? fs->skew_ms : FERRY_SKEW_DEFAULT;
	dl->resend_ms = fs->retransmit_ms ? fs->retransmit_ms :
	    dl->durable ? FERRY_RETRANSMIT_DEFAULT : DELIVER_RESEND_LINK;
	dl->pending_max = fs->pending ? fs->pending : FERRY_PENDING_DEFAULT;
	dl->spool_max = fs->spool_bytes ? fs->spool_bytes :
	    FERRY_SPOOL_DEFAULT;
	dl->alive_ms = dl->heard_ms = mono_ms();
	dl->skewed = -1;
	TAILQ_INIT(&dl->list);
	dl->nslots = 2 * (size_t)dl->pending_max + 1;
	if ((dl->slots = calloc(dl->nslots, sizeof(*dl->slots))) == NULL)
		fatal("calloc");
	if (dl->durable) {
		if ((r = chan_tx_stored(o->tx, deliver_recover_cb, dl)) != 0)
			log_warnx("inward spool: reading what is stored: %s",
			    strerror(-r));
		if (dl->n > 0)
			log_info("inward spool: %zu one-way messages stored "
			    "and not yet acknowledged", dl->n);
	}
	tv.tv_sec = dl->beat_ms / 1000;
	tv.tv_usec = (dl->beat_ms % 1000) * 1000;
	if ((dl->beat_ev = event_new(o->base, -1, EV_PERSIST,
	    deliver_beat_cb, dl)) == NULL || event_add(dl->beat_ev, &tv) != 0)
		fatalx("cannot set up the heartbeat timer");
	tv.tv_sec = dl->beat_ms / 4000;
	tv.tv_usec = (dl->beat_ms / 4 % 1000) * 1000;
	if ((dl->watch_ev = event_new(o->base, -1, EV_PERSIST,
	    deliver_watch_cb, dl)) == NULL ||
	    event_add(dl->watch_ev, &tv) != 0)
		fatalx("cannot set up the liveness timer");
	/* A diode hears no acks: nothing to wait for. */
	if (o->diode)
		return;
	ms = dl->resend_ms / 4 < dl->beat_ms ? dl->resend_ms / 4 : dl->beat_ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if ((dl->resend_ev = event_new(o->base, -1, EV_PERSIST,
	    deliver_resend_cb, dl)) == NULL ||
	    event_add(dl->resend_ev, &tv) != 0)
		fatalx("cannot set up the retransmission timer");
}

void
deliver_free(struct outer *o)
{
	struct deliver	*dl = o->dl;
	struct unacked	*u;

	if (dl == NULL)
		return;
	while ((u = TAILQ_FIRST(&dl->list)) != NULL)
		deliver_forget(dl, u);
	if (dl->beat_ev != NULL)
		event_free(dl->beat_ev);
	if (dl->watch_ev != NULL)
		event_free(dl->watch_ev);
	if (dl->resend_ev != NULL)
		event_free(dl->resend_ev);
	free(dl->slots);
	free(dl);
	o->dl = NULL;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Exchanges in flight: admission, schema, crossing the ferry, and matching answers. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "outer/outer.h"

struct exchange {
	uint8_t			 id[ID_LEN];
	struct outer		*o;
	struct conn		*conn;		/* NULL once the client left */
	const struct message	*msg;
	const struct peer	*peer;
	char			 addr[64];
	uint64_t		 start_ns;
	struct event		 timer;
	struct exchange		*next;		/* hash chain */
	/* A one-way on a durable ferry, until its flush: the canonical
	 * payload (kept for retransmission) and its frame. */
	int			 durable;
	char			*payload;
	size_t			 payload_len;
	uint32_t		 epoch;
	uint64_t		 seq;
	struct exchange		*dnext;
};

#define V1_PREFIX	"/v1/"

static void	answer_accepted(struct exchange *);
static void	exchange_timeout(evutil_socket_t, short, void *);
static void	accepted(struct conn *, const uint8_t id[ID_LEN]);

void
outer_new_id(struct outer *o, uint8_t id[ID_LEN])
{
	/* One RAND_bytes call per 256 ids keeps the DRBG off the hot path. */
	if (o->idpool_off + ID_LEN > sizeof(o->idpool)) {
		if (random_bytes(o->idpool, sizeof(o->idpool)) != 0)
			fatalx("random number generator failed");
		o->idpool_off = 0;
	}
	memcpy(id, o->idpool + o->idpool_off, ID_LEN);
	OPENSSL_cleanse(o->idpool + o->idpool_off, ID_LEN);
	o->idpool_off += ID_LEN;
}

void
outer_init_exchanges(struct outer *o)
{
	size_t	 i;

	size_t	 np = o->policy->npeers ? o->policy->npeers : 1;

	policy_limits(&o->policy->outer, &o->lim);
	o->http_lim.head_max = o->lim.header_size;
	o->http_lim.headers_max = o->lim.headers;
	o->npending_slots = 2 * (size_t)o->lim.pending;
	o->pending = calloc(o->npending_slots, sizeof(*o->pending));
	o->buckets = calloc(np, sizeof(*o->buckets));
	o->peer_conns = calloc(np, sizeof(*o->peer_conns));
	o->peer_pending = calloc(np, sizeof(*o->peer_pending));
	if (o->pending == NULL || o->buckets == NULL ||
	    o->peer_conns == NULL || o->peer_pending == NULL)
		fatal("calloc");
	for (i = 0; i < o->policy->npeers; i++) {
		bucket_init(&o->buckets[i], o->policy->peers[i].burst,
		    mono_ms());
	}
	o->idpool_off = sizeof(o->idpool);
	/* Response heads are a few hundred bytes; bodies one payload. */
	buf_init(&o->resp, HTTP_HEAD_DEFAULT + PAYLOAD_MAX + ID_HEXLEN + 64);
	o->request_max = o->lim.header_size;
	for (i = 0; i < o->policy->nmessages; i++)
		if (o->lim.header_size + o->policy->messages[i].max_body >
		    o->request_max)
			o->request_max = o->lim.header_size +
			    o->policy->messages[i].max_body;
}

static size_t
slot_of(const struct outer *o, const uint8_t id[ID_LEN])
{
	uint64_t	 h;

	/* Ids are random, so their first bytes are a fine hash. */
	memcpy(&h, id, sizeof(h));
	return (size_t)(h % o->npending_slots);
}

static struct exchange *
pending_find(struct outer *o, const uint8_t id[ID_LEN])
{
	struct exchange	*ex;

	for (ex = o->pending[slot_of(o, id)]; ex != NULL; ex = ex->next)
		if (memcmp(ex->id, id, ID_LEN) == 0)
			return ex;
	return NULL;
}

static void
pending_remove(struct outer *o, struct exchange *ex)
{
	struct exchange	**pp;

	for (pp = &o->pending[slot_of(o, ex->id)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == ex) {
			*pp = ex->next;
			o->npending--;
			return;
		}
	}
}

static void
dwait_remove(struct outer *o, struct exchange *ex)
{
	struct exchange	**pp;

	for (pp = &o->dwait; *pp != NULL; pp = &(*pp)->dnext) {
		if (*pp != ex)
			continue;
		*pp = ex->dnext;
		if (o->dwait_tail == &ex->dnext)
			o->dwait_tail = pp;
		o->dwait_n--;
		o->dwait_bytes -= ex->payload_len;
		return;
	}
}

static void
exchange_free(struct exchange *ex)
{
	event_del(&ex->timer);
	pending_remove(ex->o, ex);
	if (ex->durable)
		dwait_remove(ex->o, ex);
	else if (ex->msg->oneway)
		deliver_untrack(ex->o, ex->id);	/* answered: no more tries */
	free(ex->payload);
	ex->o->peer_pending[ex->peer - ex->o->policy->peers]--;
	free(ex);
}

static void
audit_http(struct outer *o, const char *event, const uint8_t id[ID_LEN],
    const struct peer *peer, const char *addr, const char *type,
    int status, const char *reason, const char *field)
{
	struct audit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.event = event;
	rec.id = id;
	rec.peer = peer != NULL ? peer->name : NULL;
	rec.addr = addr;
	rec.type = type;
	rec.decision = status < 400 ? "allow" : "deny";
	rec.reason = reason;
	rec.field = field;
	rec.status = status;
	rec.size = rec.rows = rec.latency_us = -1;
	if (audit_append(o->audit, &rec) != 0)
		log_warn("audit append");
}

/* Audits, then answers an error: the decision is on record first. */
static void
deny(struct outer *o, struct conn *c, const uint8_t id[ID_LEN],
    const char *type, int status, const char *error, const char *message,
    const char *field)
{
	audit_http(o, "request", id, conn_peer(c), conn_addr(c), type, status,
	    error, field);
	conn_error(c, status, id, error, message, field);
}

/* A 503: the client sees `unavailable`; the journal says which bound or
 * failure it was (docs/audit.md). */
static void
unavailable(struct outer *o, struct conn *c, const uint8_t id[ID_LEN],
    const char *type, const char *reason, const char *message)
{
	audit_http(o, "request", id, conn_peer(c), conn_addr(c), type, 503,
	    reason, NULL);
	conn_error(c, 503, id, "unavailable", message, NULL);
}

static int
rate_take(struct outer *o, const struct peer *peer)
{
	return bucket_take(&o->buckets[peer - o->policy->peers], peer->rate,
	    peer->burst, mono_ms());
}

/* The message a target names, or NULL. The name is bounded and checked
 * before lookup so nothing unbounded reaches the policy or the audit. */
static const struct message *
target_message(struct outer *o, const char *target, char *ret_name,
    size_t namesz)
{
	const char	*name;
	size_t		 n, i;

	if (strncmp(target, V1_PREFIX, strlen(V1_PREFIX)) != 0)
		return NULL;
	name = target + strlen(V1_PREFIX);
	n = strlen(name);
	if (n == 0 || n >= namesz)
		return NULL;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return NULL;
	memcpy(ret_name, name, n + 1);
	return policy_message(o->policy, ret_name);
}

/* SHA-256("isogate idempotency v1" NUL peer NUL type NUL key), first
 * ID_LEN bytes. */
static void
idem_id(const struct peer *peer, const struct message *m, const char *key,
    uint8_t id[ID_LEN])
{
	struct buf	 b;
	uint8_t		 h[SHA256_LEN];

	buf_init(&b, 64 + 2 * POLICY_NAME_MAX + HTTP_IDEM_MAX);
	if (buf_put(&b, "isogate idempotency v1", 23) != 0 ||
	    buf_put(&b, peer->name, strlen(peer->name) + 1) != 0 ||
	    buf_put(&b, m->name, strlen(m->name) + 1) != 0 ||
	    buf_put(&b, key, strlen(key)) != 0 ||
	    sha256(b.data, b.len, h) != 0)
		fatalx("idempotency key: cannot derive the id");
	memcpy(id, h, ID_LEN);
	buf_free(&b);
}

/* The body announced is one front.c may read past: a Content-Length
 * within the request bound, and no 100-continue left waiting. */
static int
skippable(const struct outer *o, const struct http_req *req)
{
	return req->content_length >= 0 && !req->transfer_encoding &&
	    !req->expect_continue &&
	    (uint64_t)req->content_length <= o->request_max;
}

int
exchange_admit(struct outer *o, struct conn *c, struct http_req *req)
{
	const struct peer	*peer = conn_peer(c);
	const struct message	*m;
	char			 name[POLICY_NAME_MAX + 1];
	int			 keepalive;

	outer_new_id(o, req->id);
	req->msg = NULL;
	/*
	 * A refusal here closes the connection: the body was not read, and
	 * its bytes must never be taken for the next request (but see 429).
	 */
	keepalive = req->keepalive;
	req->keepalive = 0;
	/* Authenticate before revealing anything about message types. */
	if (peer == NULL) {
		deny(o, c, req->id, NULL, 401, "unauthenticated",
		    conn_is_tls(c) ? "no peer for this client certificate and "
		    "source address" : "the source address is not a known peer",
		    NULL);
		return 401;
	}
	if (conn_over_limit(c)) {
		deny(o, c, req->id, NULL, 429, "connection_limit",
		    "the peer has too many connections open", NULL);
		return 429;
	}
	/*
	 * A peer over its rate or in-flight limit keeps its connection when
	 * the body it announced can be skipped (front.c discards it): a new
	 * TLS handshake per retry would cost the appliance more than the 429.
	 */
	if (!rate_take(o, peer)) {
		req->keepalive = keepalive && skippable(o, req);
		deny(o, c, req->id, NULL, 429, "rate_limited",
		    "request rate over the peer's limit", NULL);
		return 429;
	}
	if (o->peer_pending[peer - o->policy->peers] >= (peer->pending ?
	    peer->pending : o->lim.peer_pending)) {
		req->keepalive = keepalive && skippable(o, req);
		deny(o, c, req->id, NULL, 429, "pending_limit",
		    "the peer has too many exchanges in flight", NULL);
		return 429;
	}
	m = target_message(o, req->target, name, sizeof(name));
	if (!req->post) {
		deny(o, c, req->id, m ? m->name : NULL, 405,
		    "method_not_allowed", "only POST is served", NULL);
		return 405;
	}
	if (m == NULL) {
		deny(o, c, req->id, NULL, 404, "unknown_type",
		    "no such message type", NULL);
		return 404;
	}
	if (!message_allows(m, peer->name)) {
		deny(o, c, req->id, m->name, 403, "forbidden",
		    "peer not allowed for this message type", NULL);
		return 403;
	}
	if (req->content_length < 0) {
		deny(o, c, req->id, m->name, 411, "length_required",
		    "a Content-Length body is required", NULL);
		return 411;
	}
	if ((uint64_t)req->content_length > m->max_body) {
		deny(o, c, req->id, m->name, 413, "too_large",
		    "body larger than this message type allows", NULL);
		return 413;
	}
	if (!req->ctype_json) {
		deny(o, c, req->id, m->name, 415, "unsupported_media_type",
		    "Content-Type must be application/json", NULL);
		return 415;
	}
	if (req->idem_bad) {
		deny(o, c, req->id, m->name, 400, "idempotency_key",
		    "Idempotency-Key must be 1 to 128 printable characters, "
		    "given once", NULL);
		return 400;
	}
	/* A one-way's id follows from its key: a retry is the same message
	 * to inner's table of applied ids, across restarts too. */
	if (req->has_idem && m->oneway)
		idem_id(peer, m, req->idem, req->id);
	req->msg = m;
	req->keepalive = keepalive;
	return 0;
}

void
exchange_start(struct outer *o, struct conn *c, const struct http_req *req,
    const uint8_t *untrusted_body, size_t len)
{
	const struct message	*m = req->msg;
	struct schema_error	 err;
	struct audit_record	 rec;
	struct exchange		*ex, *prev;
	uint8_t			 digest[SHA256_LEN];
	char			*canon = NULL;
	size_t			 clen;
	int			 r, durable;

	if (schema_request(&m->request, untrusted_body, len, &canon, &clen,
	    &err) != 0) {
		deny(o, c, req->id, m->name, 400,
		    err.invalid_json ? "invalid_json" : "schema", err.message,
		    err.invalid_json ? NULL : err.field);
		return;
	}
	durable = m->oneway && chan_tx_durable(o->tx);
	/* A key names one message: reused for another body while outer
	 * still holds the first, it is refused here (inner refuses it
	 * later, by the digest it keeps with each applied id). */
	prev = pending_find(o, req->id);
	if (req->has_idem && m->oneway && (deliver_differs(o, req->id, canon,
	    clen) || (prev != NULL && prev->payload != NULL &&
	    (prev->payload_len != clen ||
	    memcmp(prev->payload, canon, clen) != 0)))) {
		deny(o, c, req->id, m->name, 422, "idempotency_mismatch",
		    "this Idempotency-Key was used for another message",
		    NULL);
		goto out;
	}
	if (durable && deliver_tracked(o, req->id)) {
		/* An Idempotency-Key retry of a one-way already on disk:
		 * the first answer again, nothing sent twice (also while
		 * inner is silent: it is on disk). */
		audit_http(o, "request", req->id, conn_peer(c), conn_addr(c),
		    m->name, 202, "idempotent_retry", NULL);
		accepted(c, req->id);
		goto out;
	}
	if (chan_tx_fd(o->tx) == -1) {
		unavailable(o, c, req->id, m->name, "ferry_down",
		    "the intranet side is not reachable");
		goto out;
	}
	if (deliver_alive(o) != 0) {
		unavailable(o, c, req->id, m->name, "inner_silent",
		    "the intranet side is silent");
		goto out;
	}
	if (prev != NULL) {
		deny(o, c, req->id, m->name, 409, "in_progress",
		    "a request with this Idempotency-Key is in progress",
		    NULL);
		goto out;
	}
	if (durable && deliver_room(o, clen) != 0) {
		unavailable(o, c, req->id, m->name, "unacked_full",
		    "the ferry spool is full");
		goto out;
	}
	if (o->npending >= o->lim.pending) {
		unavailable(o, c, req->id, m->name, "pending_full",
		    "too many exchanges in flight");
		goto out;
	}
	if (chan_tx_backlog(o->tx) + clen + 1024 > FERRY_BACKLOG_MAX) {
		unavailable(o, c, req->id, m->name, "backlog_full",
		    "too many exchanges in flight");
		goto out;
	}
	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		unavailable(o, c, req->id, m->name, "out_of_memory",
		    "out of memory");
		goto out;
	}
	memcpy(ex->id, req->id, ID_LEN);
	ex->o = o;
	ex->conn = c;
	ex->msg = m;
	ex->peer = conn_peer(c);
	snprintf(ex->addr, sizeof(ex->addr), "%s", conn_addr(c));
	ex->start_ns = now_ns();
	if (sha256(canon, clen, digest) != 0) {
		free(ex);
		unavailable(o, c, req->id, m->name, "digest_failed",
		    "cannot digest the payload");
		goto out;
	}

	/* Invariant 5: on record before it crosses. */
	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.id = ex->id;
	rec.peer = ex->peer->name;
	rec.addr = ex->addr;
	rec.type = m->name;
	rec.decision = "allow";
	rec.digest = digest;
	rec.size = (int64_t)clen;
	if (m->audit_content) {
		/* The law wants the content itself: the canonical bytes. */
		rec.content = canon;
		rec.content_len = clen;
	}
	rec.rows = rec.latency_us = -1;
	if (audit_append(o->audit, &rec) != 0) {
		/* No record, no crossing. */
		log_warn("audit append");
		free(ex);
		conn_error(c, 503, req->id, "unavailable",
		    "the audit journal cannot be written", NULL);
		goto out;
	}
	r = chan_tx_send(o->tx, m->oneway ? FRAME_ONEWAY : FRAME_REQUEST,
	    ex->id, ex->peer->name, m->name, canon, clen);
	if (r != 0) {
		free(ex);
		unavailable(o, c, req->id, m->name, "ferry_refused",
		    "the ferry did not take the message");
		goto out;
	}
	ex->next = o->pending[slot_of(o, ex->id)];
	o->pending[slot_of(o, ex->id)] = ex;
	o->npending++;
	if (durable) {
		/* 202 once the flush has it on disk (exchange_durable). */
		ex->durable = 1;
		ex->payload = canon;
		ex->payload_len = clen;
		canon = NULL;
		ex->epoch = chan_tx_epoch(o->tx);
		ex->seq = chan_tx_seq(o->tx);
		if (o->dwait_tail == NULL)
			o->dwait_tail = &o->dwait;
		*o->dwait_tail = ex;
		o->dwait_tail = &ex->dnext;
		o->dwait_n++;
		o->dwait_bytes += ex->payload_len;
	} else if (m->oneway && !o->diode) {
		/* Not durable: 202 at inner's ack, and until then sent
		 * again if the link loses it (deliver.c). */
		deliver_track(o, ex->id, m, ex->peer, canon, clen,
		    chan_tx_epoch(o->tx), chan_tx_seq(o->tx));
		canon = NULL;
	}
	o->peer_pending[ex->peer - o->policy->peers]++;
	evtimer_assign(&ex->timer, o->base, exchange_timeout, ex);
	{
		struct timeval tv = { m->timeout_ms / 1000,
		    (m->timeout_ms % 1000) * 1000 };
		evtimer_add(&ex->timer, &tv);
	}
	conn_set_exchange(c, ex);
	outer_schedule_flush(o);
 out:
	free(canon);
}

static void
finish(struct exchange *ex, int status, const char *reason, int64_t rows)
{
	struct audit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.event = "reply";
	rec.id = ex->id;
	rec.peer = ex->peer->name;
	rec.addr = ex->addr;
	rec.type = ex->msg->name;
	rec.decision = status < 400 ? "allow" : "deny";
	rec.reason = ex->conn == NULL && reason == NULL ? "client_gone" : reason;
	rec.status = status;
	rec.size = -1;
	rec.rows = rows;
	rec.latency_us = (int64_t)((now_ns() - ex->start_ns) / 1000);
	if (audit_append(ex->o->audit, &rec) != 0)
		log_warn("audit append");
}

static void
exchange_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct exchange	*ex = arg;

	(void)fd;
	(void)what;
	finish(ex, 504, "timeout", -1);
	if (ex->conn != NULL)
		conn_error(ex->conn, 504, ex->id, "timeout",
		    "no answer from the intranet side in time", NULL);
	exchange_free(ex);
}

void
exchange_conn_gone(struct exchange *ex)
{
	/* The exchange stays until answered or timed out, for the record. */
	ex->conn = NULL;
}

void
exchange_fail_all(struct outer *o, const char *reason, const char *message)
{
	struct exchange	*ex;
	size_t		 i;

	for (i = 0; i < o->npending_slots; i++) {
		while ((ex = o->pending[i]) != NULL) {
			finish(ex, 503, reason, -1);
			if (ex->conn != NULL)
				conn_error(ex->conn, 503, ex->id,
				    "unavailable", message, NULL);
			exchange_free(ex);
		}
	}
}

void
exchange_sent_all(struct outer *o)
{
	struct exchange	*ex;
	size_t		 i;

	for (i = 0; i < o->npending_slots; i++)
		while ((ex = o->pending[i]) != NULL)
			answer_accepted(ex);
}

static void
audit_frame(struct outer *o, const struct frame *f, const char *reason)
{
	struct audit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.event = "frame";
	rec.id = f != NULL ? f->id : NULL;
	rec.peer = f != NULL && f->peer[0] ? f->peer : NULL;
	rec.type = f != NULL && f->type[0] ? f->type : NULL;
	rec.decision = "deny";
	rec.reason = reason;
	rec.size = f != NULL ? (int64_t)f->payload_len : -1;
	rec.rows = rec.latency_us = -1;
	if (audit_append(o->audit, &rec) != 0)
		log_warn("audit append");
}

/* The reason token of a reject payload, bounded to [a-z_]{1,32}. */
void
exchange_reject_reason(const struct frame *f, char *out, size_t outsz)
{
	json_t		*o;
	const char	*s;
	size_t		 i, n;

	snprintf(out, outsz, "unknown");
	o = json_loadb((const char *)f->payload, f->payload_len,
	    JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL)
		return;
	s = json_string_value(json_object_get(o, "reason"));
	if (s != NULL && (n = strlen(s)) > 0 && n < outsz && n <= 32) {
		for (i = 0; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
				break;
		if (i == n)
			memcpy(out, s, n + 1);
	}
	json_decref(o);
}

static void
accepted(struct conn *c, const uint8_t id[ID_LEN])
{
	char	 body[ID_HEXLEN + 48], idhex[ID_HEXLEN + 1];
	int	 n;

	hex_encode(id, ID_LEN, idhex);
	n = snprintf(body, sizeof(body),
	    "{\"id\":\"%s\",\"status\":\"accepted\"}", idhex);
	conn_respond(c, 202, id, body, (size_t)n, NULL);
}

static void
answer_rejected(struct exchange *ex, const char *reason, const char *message)
{
	json_t	*o;
	char	*body, idhex[ID_HEXLEN + 1];

	finish(ex, 502, reason, -1);
	if (ex->conn != NULL) {
		hex_encode(ex->id, ID_LEN, idhex);
		o = json_pack("{s:s, s:s, s:s, s:s}", "id", idhex,
		    "error", "rejected", "reason", reason, "message", message);
		body = o != NULL ? schema_canonical(o, NULL) : NULL;
		json_decref(o);
		if (body != NULL)
			conn_respond(ex->conn, 502, ex->id, body, strlen(body),
			    NULL);
		else
			conn_respond(ex->conn, 500, ex->id, "{}", 2, NULL);
		free(body);
	}
	exchange_free(ex);
}

static void
answer_rows(struct exchange *ex, const struct frame *f, int64_t rows)
{
	struct buf	 b;
	char		 idhex[ID_HEXLEN + 1];

	finish(ex, 200, NULL, rows);
	if (ex->conn != NULL) {
		/* The payload is canonical {"rows":[…]}; "id" sorts first. */
		hex_encode(ex->id, ID_LEN, idhex);
		buf_init(&b, f->payload_len + 64);
		if (buf_putf(&b, "{\"id\":\"%s\",", idhex) == 0 &&
		    buf_put(&b, f->payload + 1, f->payload_len - 1) == 0)
			conn_respond(ex->conn, 200, ex->id, (char *)b.data,
			    b.len, NULL);
		else
			conn_respond(ex->conn, 500, ex->id, "{}", 2, NULL);
		buf_free(&b);
	}
	exchange_free(ex);
}

static void
answer_accepted(struct exchange *ex)
{
	finish(ex, 202, NULL, -1);
	if (ex->conn != NULL)
		accepted(ex->conn, ex->id);
	exchange_free(ex);
}

void
exchange_durable(struct outer *o, int r)
{
	struct exchange	*ex;

	while ((ex = o->dwait) != NULL) {
		if (r != 0) {
			/* Never on disk: never sent (chan_tx rewound). */
			finish(ex, 503, r == -ENOSPC || r == -EDQUOT ?
			    "spool_full" : "spool_error", -1);
			if (ex->conn != NULL)
				conn_error(ex->conn, 503, ex->id,
				    "unavailable", r == -ENOSPC ||
				    r == -EDQUOT ? "the ferry spool is full" :
				    "the ferry spool cannot be written", NULL);
			exchange_free(ex);
			continue;
		}
		deliver_track(o, ex->id, ex->msg, ex->peer, ex->payload,
		    ex->payload_len, ex->epoch, ex->seq);
		ex->payload = NULL;
		answer_accepted(ex);
	}
}

void
exchange_frame(void *arg, const struct frame *f, int verdict)
{
	struct outer		*o = arg;
	struct exchange		*ex;
	struct schema_error	 err;
	char			 reason[40];
	int			 rows;

	if (verdict != CHAN_OK) {
		audit_frame(o, f, chan_verdict_name(verdict));
		if (verdict != CHAN_GAP)	/* a gap is in another unit */
			o->rx_bad = 1;
		/* A frame that fails its seal names an id nobody vouched
		 * for; answering that exchange now at worst turns a wait
		 * into an early 502. Not a one-way sent again until acked:
		 * a spoiled ack is one more try. */
		if (f != NULL && !deliver_tracked(o, f->id) &&
		    (ex = pending_find(o, f->id)) != NULL)
			answer_rejected(ex, chan_verdict_name(verdict),
			    "the answer failed verification on the extranet side");
		return;
	}
	if (deliver_frame(o, f))
		return;
	if (f->kind != FRAME_REPLY && f->kind != FRAME_ACK &&
	    f->kind != FRAME_REJECT) {
		audit_frame(o, f, "unexpected_kind");
		return;
	}
	if ((ex = pending_find(o, f->id)) == NULL) {
		audit_frame(o, f, "unknown_id");
		return;
	}
	if (strcmp(f->type, ex->msg->name) != 0 ||
	    strcmp(f->peer, ex->peer->name) != 0) {
		audit_frame(o, f, "mismatch");
		answer_rejected(ex, "protocol", "the answer does not match");
		return;
	}
	switch (f->kind) {
	case FRAME_REJECT:
		exchange_reject_reason(f, reason, sizeof(reason));
		if (strcmp(reason, "idempotency_mismatch") == 0) {
			/* The client's mistake, as when outer sees it. */
			finish(ex, 422, reason, -1);
			if (ex->conn != NULL)
				conn_error(ex->conn, 422, ex->id, reason,
				    "this Idempotency-Key was used for "
				    "another message", NULL);
			exchange_free(ex);
			return;
		}
		answer_rejected(ex, reason,
		    "the intranet side refused the message");
		return;
	case FRAME_ACK:
		if (!ex->msg->oneway)
			break;
		answer_accepted(ex);
		return;
	case FRAME_REPLY:
		if (ex->msg->oneway)
			break;
		/* Outer's own check of what comes back: the second gate. */
		if ((rows = schema_reply(ex->msg, f->payload, f->payload_len,
		    &err)) < 0) {
			audit_frame(o, f, "reply_schema");
			answer_rejected(ex, "reply_schema",
			    "the answer failed the reply schema");
			return;
		}
		answer_rows(ex, f, rows);
		return;
	}
	audit_frame(o, f, "unexpected_kind");
	answer_rejected(ex, "protocol", "the answer is of the wrong kind");
}

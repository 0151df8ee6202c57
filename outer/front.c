/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The extranet-facing listener: connections, request framing, responses, limits. */

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event_struct.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "outer/outer.h"

enum conn_state {
	CONN_HEAD,		/* waiting for (more of) a request head */
	CONN_BODY,		/* head admitted, reading Content-Length bytes */
	CONN_BUSY,		/* request handed over, waiting for the answer */
	CONN_CLOSING,		/* answered with close: flush output, then free */
};

/* What the connection's one deadline is for. */
enum conn_wait {
	WAIT_NONE,		/* an exchange is in flight: its own timer */
	WAIT_HANDSHAKE,		/* accept to TLS handshake done */
	WAIT_IDLE,		/* keep-alive: for the first byte of a request */
	WAIT_REQUEST,		/* first byte of a request to its last */
	WAIT_DRAIN,		/* closing: for the client to take the answer */
};

/* Answers queued but not taken by the client, past which outer reads no
 * further request from it (a client that sends and never reads). */
#define CONN_OUTPUT_MAX		(256 * 1024)

struct conn {
	struct outer		*o;
	struct bufferevent	*bev;
	enum conn_state		 state;
	enum conn_wait		 wait;
	struct event		 deadline;	/* absolute: never pushed back
						 * by the bytes that trickle in */
	struct event		 wake;		/* TLS: the client's first bytes */
	evutil_socket_t		 fd;		/* until bev owns it */
	int			 in_process;
	int			 tls;		/* over TLS */
	int			 handshaken;	/* TLS handshake completed */
	int			 counted;	/* in its peer's connections */
	size_t			 discard;	/* body bytes of a refused request
						 * still to skip */
	int			 over_limit;	/* its peer had too many */
	struct http_req		 req;
	struct exchange		*ex;
	const struct peer	*peer;
	char			 addr[INET6_ADDRSTRLEN];
	struct sockaddr_storage	 sa;
	struct conn		*prev, *next;	/* outer's list of conns */
};

static void	conn_process(struct conn *);

static void
conn_free(struct conn *c)
{
	if (c->ex != NULL)
		exchange_conn_gone(c->ex);
	if (c->counted)
		c->o->peer_conns[c->peer - c->o->policy->peers]--;
	event_del(&c->deadline);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	else {
		if (c->tls)
			event_del(&c->wake);
		if (c->fd != -1)
			evutil_closesocket(c->fd);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->o->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->o->nconns--;
	free(c);
}

void
front_close_all(struct outer *o)
{
	while (o->conns != NULL)
		conn_free(o->conns);
}

/* Arms the one deadline for what the connection now waits for. */
static void
conn_wait(struct conn *c, enum conn_wait w)
{
	const struct side_limits *l = &c->o->lim;
	uint32_t	 ms = 0;
	struct timeval	 tv;

	c->wait = w;
	switch (w) {
	case WAIT_NONE:
		event_del(&c->deadline);
		return;
	case WAIT_HANDSHAKE:
		ms = l->handshake_ms;
		break;
	case WAIT_IDLE:
		ms = l->idle_ms;
		break;
	case WAIT_REQUEST:
	case WAIT_DRAIN:
		ms = l->request_ms;
		break;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&c->deadline, &tv);
}

int
conn_over_limit(const struct conn *c)
{
	return c->over_limit;
}

const char *
conn_addr(const struct conn *c)
{
	return c->addr;
}

int
conn_is_tls(const struct conn *c)
{
	return c->tls;
}

const struct peer *
conn_peer(const struct conn *c)
{
	return c->peer;
}

void
conn_set_exchange(struct conn *c, struct exchange *ex)
{
	c->ex = ex;
	if (ex != NULL) {
		c->state = CONN_BUSY;
		/* The exchange has its own deadline; the client may wait. */
		conn_wait(c, WAIT_NONE);
	}
}

void
conn_respond(struct conn *c, int status, const uint8_t id[ID_LEN],
    const char *body, size_t len, const char *extra)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct buf	*b = &c->o->resp;
	char		 idhex[ID_HEXLEN + 1];
	size_t		 off = 0;
	ssize_t		 n;
	int		 keep;

	keep = c->req.keepalive && c->state != CONN_CLOSING;
	hex_encode(id, ID_LEN, idhex);
	/* One buffer for all responses: each is sent or copied out at once. */
	buf_reset(b);
	if (http_response(b, status, idhex, body, len, keep, extra) != 0) {
		keep = 0;
		goto out;
	}
	/*
	 * Nothing queued before it: try the socket at once, which spares the
	 * bufferevent arming and disarming its write event (two epoll_ctl per
	 * response). What the socket does not take is queued, in order. A
	 * closing connection goes through the queue, whose drain frees it.
	 * Over TLS everything goes through the bufferevent, which encrypts.
	 */
	if (keep && !c->tls && evbuffer_get_length(out) == 0) {
		n = send(bufferevent_getfd(c->bev), b->data, b->len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off = (size_t)n;
	}
	if (off < b->len && evbuffer_add(out, b->data + off, b->len - off) != 0)
		keep = 0;
 out:
	c->ex = NULL;
	if (!keep) {
		c->state = CONN_CLOSING;
		conn_wait(c, WAIT_DRAIN);
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	c->state = CONN_HEAD;
	conn_wait(c, WAIT_IDLE);
	/* A pipelined request may be waiting in the input already. */
	if (!c->in_process)
		bufferevent_trigger(c->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void
conn_error(struct conn *c, int status, const uint8_t id[ID_LEN],
    const char *error, const char *message, const char *field)
{
	json_t	*o;
	char	*body, idhex[ID_HEXLEN + 1];
	const char *extra = NULL;

	hex_encode(id, ID_LEN, idhex);
	o = json_pack("{s:s, s:s, s:s}", "id", idhex, "error", error,
	    "message", message);
	if (o != NULL && field != NULL && *field != '\0')
		json_object_set_new(o, "field", json_string(field));
	body = o != NULL ? schema_canonical(o, NULL) : NULL;
	json_decref(o);
	if (status == 405)
		extra = "Allow: POST\r\n";
	else if (status == 503 || status == 429)
		extra = "Retry-After: 1\r\n";
	if (body == NULL)
		conn_respond(c, 500, id, "{}", 2, NULL);
	else
		conn_respond(c, status, id, body, strlen(body), extra);
	free(body);
}

static const char *
head_error_token(int status)
{
	switch (status) {
	case 414: return "uri_too_long";
	case 417: return "expectation_failed";
	case 431: return "header_too_large";
	case 505: return "http_version";
	default: return "bad_request";
	}
}

/* Audits a request refused before it has an exchange, answers, closes. */
static void
conn_refuse(struct conn *c, int status, const char *reason,
    const char *message)
{
	struct audit_record rec;
	uint8_t		 id[ID_LEN];

	outer_new_id(c->o, id);
	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.id = id;
	rec.peer = c->peer ? c->peer->name : NULL;
	rec.addr = c->addr;
	rec.decision = "deny";
	rec.reason = reason;
	rec.status = status;
	rec.size = rec.rows = rec.latency_us = -1;
	if (audit_append(c->o->audit, &rec) != 0)
		log_warn("audit append");
	c->state = CONN_CLOSING;
	conn_error(c, status, id, reason, message, NULL);
}

static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	const uint8_t	*p;
	size_t		 len, n;
	int		 r, status;

	c->in_process = 1;
	while (c->state == CONN_HEAD || c->state == CONN_BODY) {
		len = evbuffer_get_length(in);
		if (c->state == CONN_HEAD) {
			/* A client that does not read its answers gets no
			 * more of them; its idle deadline runs. */
			if (len == 0 ||
			    evbuffer_get_length(out) > CONN_OUTPUT_MAX)
				break;
			/* The request's deadline runs from its first byte. */
			if (c->wait == WAIT_IDLE)
				conn_wait(c, WAIT_REQUEST);
			if (c->discard > 0) {
				n = len < c->discard ? len : c->discard;
				evbuffer_drain(in, n);
				c->discard -= n;
				if (c->discard > 0)
					break;
				conn_wait(c, WAIT_IDLE);
				continue;
			}
			n = len < c->o->http_lim.head_max ? len :
			    c->o->http_lim.head_max;
			p = evbuffer_pullup(in, (ssize_t)n);
			r = http_parse_head(p, n, &c->o->http_lim, &c->req,
			    &status);
			if (r == -EAGAIN)
				break;
			if (r != 0) {
				conn_refuse(c, status, head_error_token(status),
				    "malformed or oversized request head");
				break;
			}
			evbuffer_drain(in, c->req.head_len);
			if (exchange_admit(c->o, c, &c->req) != 0) {
				/* Refused and kept open (429): its body is
				 * skipped, never read as a next request. */
				if (c->state == CONN_HEAD)
					c->discard =
					    (size_t)c->req.content_length;
				continue;
			}
			c->state = CONN_BODY;
			if (c->req.expect_continue &&
			    evbuffer_get_length(in) < (size_t)c->req.content_length)
				bufferevent_write(c->bev,
				    "HTTP/1.1 100 Continue\r\n\r\n", 25);
			continue;
		}
		n = (size_t)c->req.content_length;
		if (len < n)
			break;
		p = n > 0 ? evbuffer_pullup(in, (ssize_t)n) : (const uint8_t *)"";
		exchange_start(c->o, c, &c->req, p, n);
		evbuffer_drain(in, n);
	}
	c->in_process = 0;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (c->state == CONN_CLOSING)
		conn_free(c);
	else if (c->state == CONN_HEAD && !c->in_process &&
	    evbuffer_get_length(bufferevent_get_input(bev)) != 0)
		conn_process(c);	/* held back by CONN_OUTPUT_MAX */
}

static void
tls_audit(struct conn *, const struct peer *, const char *);

static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	switch (c->wait) {
	case WAIT_HANDSHAKE:
		tls_audit(c, NULL, "handshake_timeout");
		break;
	case WAIT_REQUEST:
		/* Slowloris, or a body that never comes: on record, 408. */
		if (c->state == CONN_HEAD || c->state == CONN_BODY) {
			bufferevent_disable(c->bev, EV_READ);
			conn_refuse(c, 408, "request_timeout", "the request "
			    "did not arrive whole within the request timeout");
			return;
		}
		break;
	case WAIT_IDLE:
		log_debug("%s: idle timeout, closing", c->addr);
		break;
	case WAIT_DRAIN:
	case WAIT_NONE:
		break;
	}
	conn_free(c);
}

/* TLS 1.2 suites: forward secret, AEAD; TLS 1.3 keeps OpenSSL's defaults. */
#define TLS12_CIPHERS	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"

static void
tls_audit(struct conn *c, const struct peer *pe, const char *reason)
{
	struct audit_record rec;
	uint8_t		 id[ID_LEN];

	outer_new_id(c->o, id);
	memset(&rec, 0, sizeof(rec));
	rec.event = "tls";
	rec.id = id;
	rec.peer = pe != NULL ? pe->name : NULL;
	rec.addr = c->addr;
	rec.decision = "deny";
	rec.reason = reason;
	rec.size = rec.rows = rec.latency_us = -1;
	if (audit_append(c->o->audit, &rec) != 0)
		log_warn("audit append");
}

/* Why a handshake did not complete, as an audit reason token. */
static const char *
tls_failure(struct conn *c, short what)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(c->bev);
	unsigned long	 e, first = 0;
	long		 v;

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (first == 0)
			first = e;
	switch ((v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK)) {
	case X509_V_OK:
		break;
	case X509_V_ERR_CERT_REVOKED:
		return "certificate_revoked";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate_expired";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return "unknown_ca";
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return "crl_unusable";
	default:
		return "certificate_invalid";
	}
	if (first != 0 && ERR_GET_LIB(first) == ERR_LIB_SSL) {
		switch (ERR_GET_REASON(first)) {
		case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
			return "no_certificate";
		case SSL_R_UNSUPPORTED_PROTOCOL:
		case SSL_R_WRONG_VERSION_NUMBER:
		case SSL_R_VERSION_TOO_LOW:
			return "protocol_version";
		case SSL_R_NO_SHARED_CIPHER:
			return "no_shared_cipher";
		case SSL_R_HTTP_REQUEST:
			return "plain_http";
		case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
			/* The client did not trust our certificate. */
			return "client_refused_server_certificate";
		default:
			break;
		}
	}
	if (first == 0 && (what & BEV_EVENT_EOF))
		return "closed_in_handshake";
	return "handshake_failed";
}

static int
asn1_is(const ASN1_STRING *d, const char *name, int nocase)
{
	size_t	 len = strlen(name);

	if (d == NULL || ASN1_STRING_length(d) < 0 ||
	    (size_t)ASN1_STRING_length(d) != len)
		return 0;
	if (nocase)
		return strncasecmp((const char *)ASN1_STRING_get0_data(d),
		    name, len) == 0 && memchr(ASN1_STRING_get0_data(d), 0,
		    len) == NULL;
	return memcmp(ASN1_STRING_get0_data(d), name, len) == 0;
}

/* 1 if the certificate's subject CN (exactly) or one of its DNS SANs
 * (case-insensitively) is name. */
static int
cert_names(X509 *cert, const char *name)
{
	const X509_NAME	*subj = X509_get_subject_name(cert);
	GENERAL_NAMES	*sans;
	GENERAL_NAME	*g;
	int		 i, found = 0;

	i = -1;
	while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0)
		if (asn1_is(X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i)), name, 0))
			return 1;
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS && asn1_is(g->d.dNSName, name, 1)) {
			found = 1;
			break;
		}
	}
	GENERAL_NAMES_free(sans);
	return found;
}

/* The first peer (by name) whose certificate "CN=name" the cert bears. */
static const struct peer *
peer_by_cert(const struct policy *p, X509 *cert)
{
	size_t	 i;

	for (i = 0; cert != NULL && i < p->npeers; i++)
		if (p->peers[i].certificate != NULL &&
		    cert_names(cert, p->peers[i].certificate + 3))
			return &p->peers[i];
	return NULL;
}

/*
 * The connection belongs to peer pe. Past the peer's connection limit it
 * stays open only to be told so: its first request is refused (429).
 */
static void
conn_identified(struct conn *c, const struct peer *pe)
{
	uint32_t	*n = &c->o->peer_conns[pe - c->o->policy->peers];

	c->peer = pe;
	if (*n >= (pe->connections ? pe->connections :
	    c->o->lim.peer_connections)) {
		c->over_limit = 1;
		return;
	}
	(*n)++;
	c->counted = 1;
}

/*
 * The handshake is done and the chain verified (client-ca, CRL): the
 * certificate names the peer, whose address list must also hold the
 * source. Otherwise the connection stays without a peer, and its requests
 * are refused as unauthenticated (401), like an unknown address in plain.
 */
static void
tls_identify(struct conn *c)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(c->bev);
	const struct peer *pe;

	c->handshaken = 1;
	conn_wait(c, WAIT_IDLE);
	pe = peer_by_cert(c->o->policy, SSL_get0_peer_certificate(ssl));
	if (pe == NULL)
		tls_audit(c, NULL, "certificate_unknown_peer");
	else if (pe->naddrs > 0 &&
	    !peer_has_addr(pe, (struct sockaddr *)&c->sa))
		tls_audit(c, pe, "address_mismatch");
	else
		conn_identified(c, pe);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		tls_identify(c);
		return;
	}
	if (c->tls && !c->handshaken)
		tls_audit(c, NULL, tls_failure(c, what));
	else if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    c->state != CONN_BUSY &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		/* The client shut its side after its requests: it still gets
		 * the answers already made. (One still in flight is taken as
		 * gone: TCP does not tell a half close from a close.) */
		bufferevent_disable(c->bev, EV_READ);
		c->state = CONN_CLOSING;
		conn_wait(c, WAIT_DRAIN);
		return;
	}
	conn_free(c);
}

/* Reads and writes through c->bev from now on. */
static void
conn_start(struct conn *c)
{
	/* Bound what one connection may buffer: one head and the largest
	 * body any message type may validly have, not the 1 MiB ceiling. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->o->request_max);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* The client of a TLS connection has sent its first bytes: the handshake. */
static void
conn_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	SSL		*ssl;

	(void)fd;
	(void)what;
	if ((ssl = SSL_new(c->o->tls)) == NULL) {
		log_warnx("SSL_new failed");
		conn_free(c);
		return;
	}
	c->bev = bufferevent_openssl_socket_new(c->o->base, c->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		/* With BEV_OPT_CLOSE_ON_FREE libevent has freed ssl, whose
		 * socket BIO closed the socket. */
		c->fd = -1;
		conn_free(c);
		return;
	}
	c->fd = -1;
	conn_start(c);
}

/* The connection limit refused one (sa), or a timer asks (NULL): on
 * record, but at most one record per second, which counts the refusals
 * since the last (a flood must not become a flood of the journal). */
static void
connection_refused(struct outer *o, const struct sockaddr *sa)
{
	struct audit_record rec;
	uint8_t		 id[ID_LEN];
	char		 addr[INET6_ADDRSTRLEN] = "";
	uint64_t	 now = mono_ms();
	const void	*a;

	if (sa != NULL)
		o->refused++;
	if (o->refused == 0 ||
	    (o->refused_at != 0 && now - o->refused_at < 1000))
		return;
	if (sa != NULL) {
		if (sa->sa_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		else
			a = &((const struct sockaddr_in *)sa)->sin_addr;
		inet_ntop(sa->sa_family, a, addr, sizeof(addr));
	}
	log_warnx("connection limit (%" PRIu32 ") reached: %" PRIu64
	    " connection(s) refused%s%s", o->lim.connections, o->refused,
	    sa != NULL ? ", the latest from " : "", addr);
	outer_new_id(o, id);
	memset(&rec, 0, sizeof(rec));
	rec.event = "connection";
	rec.id = id;
	rec.addr = sa != NULL ? addr : NULL;
	rec.decision = "deny";
	rec.reason = "connection_limit";
	rec.size = (int64_t)o->refused;	/* refusals this record stands for */
	rec.rows = rec.latency_us = -1;
	if (audit_append(o->audit, &rec) != 0)
		log_warn("audit append");
	o->refused = 0;
	o->refused_at = now;
}

void
front_refused_flush(struct outer *o)
{
	connection_refused(o, NULL);
}

void
front_accept(struct outer *o, evutil_socket_t fd, struct sockaddr *sa,
    int salen)
{
	struct conn	*c;
	const struct peer *pe;
	const void	*a;
	int		 one = 1;

	if (o->nconns >= o->lim.connections) {
		connection_refused(o, sa);
		evutil_closesocket(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("calloc");
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->o = o;
	if (sa->sa_family == AF_INET6)
		a = &((struct sockaddr_in6 *)sa)->sin6_addr;
	else
		a = &((struct sockaddr_in *)sa)->sin_addr;
	inet_ntop(sa->sa_family, a, c->addr, sizeof(c->addr));
	if ((size_t)salen <= sizeof(c->sa))
		memcpy(&c->sa, sa, (size_t)salen);
	c->fd = fd;
	evtimer_assign(&c->deadline, o->base, conn_deadline_cb, c);
	o->nconns++;
	c->next = o->conns;
	if (o->conns != NULL)
		o->conns->prev = c;
	o->conns = c;
	if (o->tls != NULL) {
		/*
		 * The peer is who the client certificate names. No TLS state
		 * until the client speaks: a silent connection costs its
		 * struct conn alone, not an SSL and its buffers.
		 */
		c->tls = 1;
		event_assign(&c->wake, o->base, fd, EV_READ, conn_wake_cb, c);
		event_add(&c->wake, NULL);
		conn_wait(c, WAIT_HANDSHAKE);
		return;
	}
	if ((c->bev = bufferevent_socket_new(o->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		conn_free(c);
		return;
	}
	c->fd = -1;
	if ((pe = policy_peer_by_addr(o->policy, sa)) != NULL)
		conn_identified(c, pe);
	conn_wait(c, WAIT_IDLE);
	conn_start(c);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	(void)l;
	front_accept(arg, fd, sa, salen);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: keep serving the connections we have. */
	log_warn("accept");
}

int
front_listen(struct outer *o, const char *hostport)
{
	struct evutil_addrinfo	 hints, *res = NULL;
	char			 host[256], *port, *h;
	int			 r;

	if (strlen(hostport) >= sizeof(host))
		return -EINVAL;
	strcpy(host, hostport);	/* length checked */
	if ((port = strrchr(host, ':')) == NULL)
		return -EINVAL;
	*port++ = '\0';
	h = host;
	if (*h == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = evutil_getaddrinfo(h, port, &hints, &res)) != 0)
		return -EINVAL;
	o->listener = evconnlistener_new_bind(o->base, accept_cb, o,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, res->ai_addr, (int)res->ai_addrlen);
	evutil_freeaddrinfo(res);
	if (o->listener == NULL)
		return -errno ? -errno : -EADDRINUSE;
	evconnlistener_set_error_cb(o->listener, accept_error_cb);
	return 0;
}

/*
 * What client certificates ctx trusts: the policy's client-ca, checked
 * against its crl. NULL, or the file that failed (OpenSSL's error queue says
 * why); ctx is unchanged then.
 */
static const char *
tls_trust(SSL_CTX *ctx, const struct side_tls *t)
{
	X509_STORE		*store;
	X509_LOOKUP		*lu;
	STACK_OF(X509_NAME)	*cas = NULL;
	const char		*step;

	if ((store = X509_STORE_new()) == NULL)
		return "X509_STORE_new";
	step = t->client_ca;
	if ((lu = X509_STORE_add_lookup(store, X509_LOOKUP_file())) == NULL ||
	    X509_load_cert_file(lu, t->client_ca, X509_FILETYPE_PEM) < 1 ||
	    (cas = SSL_load_client_CA_file(t->client_ca)) == NULL)
		goto fail;
	step = t->crl;
	if (X509_load_crl_file(lu, t->crl, X509_FILETYPE_PEM) < 1)
		goto fail;
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	/* Handshakes look the store up when they verify: the old one is
	 * freed here, with no verification in progress (one thread). */
	SSL_CTX_set_cert_store(ctx, store);
	SSL_CTX_set_client_CA_list(ctx, cas);
	return NULL;
 fail:
	sk_X509_NAME_pop_free(cas, X509_NAME_free);
	X509_STORE_free(store);
	return step;
}

/* Why store no longer accepts the certificate of a live connection, as an
 * audit reason, or NULL while it does. */
static const char *
tls_recheck(X509_STORE *store, SSL *ssl)
{
	X509_STORE_CTX	*x;
	X509		*cert = SSL_get0_peer_certificate(ssl);
	const char	*why = NULL;

	if (cert == NULL || (x = X509_STORE_CTX_new()) == NULL)
		return NULL;
	if (X509_STORE_CTX_init(x, store, cert,
	    SSL_get_peer_cert_chain(ssl)) == 1 &&
	    X509_STORE_CTX_set_purpose(x, X509_PURPOSE_SSL_CLIENT) == 1 &&
	    X509_verify_cert(x) != 1) {
		switch (X509_STORE_CTX_get_error(x)) {
		case X509_V_ERR_CERT_REVOKED:
			why = "certificate_revoked";
			break;
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
			why = "unknown_ca";
			break;
		case X509_V_ERR_CERT_HAS_EXPIRED:
			why = "certificate_expired";
			break;
		default:
			why = "certificate_invalid";
			break;
		}
	}
	X509_STORE_CTX_free(x);
	return why;
}

int
front_tls_reload(struct outer *o, char *why, size_t whylen)
{
	struct conn	*c, *next;
	const char	*step, *reason;
	int		 n = 0;

	if (o->tls == NULL)
		return 0;
	ERR_clear_error();
	if ((step = tls_trust(o->tls, &o->policy->outer.tls)) != NULL) {
		reason = ERR_reason_error_string(ERR_peek_last_error());
		snprintf(why, whylen, "%s: %s", step, reason != NULL ? reason :
		    "failed");
		ERR_clear_error();
		return -EINVAL;
	}
	/* A connection made with a certificate revoked since is closed. */
	for (c = o->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->tls || !c->handshaken)
			continue;
		reason = tls_recheck(SSL_CTX_get_cert_store(o->tls),
		    bufferevent_openssl_get_ssl(c->bev));
		if (reason == NULL)
			continue;
		tls_audit(c, c->peer, reason);
		conn_free(c);
		n++;
	}
	snprintf(why, whylen, "%d connection(s) closed", n);
	return n;
}

void
front_tls_free(struct outer *o)
{
	SSL_CTX_free(o->tls);
	o->tls = NULL;
}

int
front_tls_init(struct outer *o, char *why, size_t whylen)
{
	static const unsigned char sid[] = "isogate";
	const struct side_tls	*t = &o->policy->outer.tls;
	SSL_CTX			*ctx;
	const char		*step, *reason;
	unsigned char		 seed[16];

	if (!t->on)
		return 0;
	ERR_clear_error();
	step = "SSL_CTX_new";
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	step = "protocol versions";
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* No resumption: every connection presents its certificate. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	/* Idle connections give their record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	step = "cipher list";
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		goto fail;
	step = t->certificate;
	if (SSL_CTX_use_certificate_chain_file(ctx, t->certificate) != 1)
		goto fail;
	step = t->key;
	if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	if ((step = tls_trust(ctx, t)) != NULL)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	step = "session id context";
	if (SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1)
		goto fail;
	/* Seed the DRBG now, before the sandbox. */
	step = "RAND_bytes";
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		goto fail;
	o->tls = ctx;
	return 0;
 fail:
	reason = ERR_reason_error_string(ERR_peek_last_error());
	snprintf(why, whylen, "%s: %s", step, reason != NULL ? reason :
	    "failed");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return -EINVAL;
}

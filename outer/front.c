/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The extranet-facing listener: connections, request framing, responses, limits. */

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "outer/outer.h"

enum conn_state {
	CONN_HEAD,		/* waiting for (more of) a request head */
	CONN_BODY,		/* head admitted, reading Content-Length bytes */
	CONN_BUSY,		/* request handed over, waiting for the answer */
	CONN_CLOSING,		/* answered with close: flush output, then free */
};

struct conn {
	struct outer		*o;
	struct bufferevent	*bev;
	enum conn_state		 state;
	int			 in_process;
	struct http_req		 req;
	struct exchange		*ex;
	const struct peer	*peer;
	char			 addr[INET6_ADDRSTRLEN];
	struct conn		*prev, *next;	/* outer's list of conns */
};

static void	conn_process(struct conn *);

static void
conn_free(struct conn *c)
{
	if (c->ex != NULL)
		exchange_conn_gone(c->ex);
	bufferevent_free(c->bev);
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

static void
conn_set_timeout(struct conn *c, int seconds)
{
	struct timeval	 tv = { seconds, 0 };

	bufferevent_set_timeouts(c->bev, seconds > 0 ? &tv : NULL, NULL);
}

const char *
conn_addr(const struct conn *c)
{
	return c->addr;
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
		conn_set_timeout(c, 0);
	}
}

void
conn_respond(struct conn *c, int status, const uint8_t id[ID_LEN],
    const char *body, size_t len, const char *extra)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct buf	 b;
	char		 idhex[ID_HEXLEN + 1];
	int		 keep;

	size_t		 off = 0;
	ssize_t		 n;

	keep = c->req.keepalive && c->state != CONN_CLOSING;
	hex_encode(id, ID_LEN, idhex);
	buf_init(&b, HTTP_HEAD_MAX + len + 1);
	if (http_response(&b, status, idhex, body, len, keep, extra) != 0) {
		keep = 0;
		goto out;
	}
	/*
	 * Nothing queued before it: try the socket at once, which spares the
	 * bufferevent arming and disarming its write event (two epoll_ctl per
	 * response). What the socket does not take is queued, in order. A
	 * closing connection goes through the queue, whose drain frees it.
	 */
	if (keep && evbuffer_get_length(out) == 0) {
		n = send(bufferevent_getfd(c->bev), b.data, b.len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off = (size_t)n;
	}
	if (off < b.len && evbuffer_add(out, b.data + off, b.len - off) != 0)
		keep = 0;
 out:
	buf_free(&b);
	c->ex = NULL;
	if (!keep) {
		c->state = CONN_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	c->state = CONN_HEAD;
	conn_set_timeout(c, OUTER_IDLE_TIMEOUT);
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

static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct audit_record rec;
	uint8_t		 id[ID_LEN];
	const uint8_t	*p;
	size_t		 len, n;
	int		 r, status;

	c->in_process = 1;
	while (c->state == CONN_HEAD || c->state == CONN_BODY) {
		len = evbuffer_get_length(in);
		if (c->state == CONN_HEAD) {
			if (len == 0)
				break;
			n = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
			p = evbuffer_pullup(in, (ssize_t)n);
			r = http_parse_head(p, n, &c->req, &status);
			if (r == -EAGAIN) {
				conn_set_timeout(c, OUTER_REQUEST_TIMEOUT);
				break;
			}
			if (r != 0) {
				outer_new_id(c->o, id);
				memset(&rec, 0, sizeof(rec));
				rec.event = "request";
				rec.id = id;
				rec.peer = c->peer ? c->peer->name : NULL;
				rec.addr = c->addr;
				rec.decision = "deny";
				rec.reason = head_error_token(status);
				rec.status = status;
				rec.size = rec.rows = rec.latency_us = -1;
				audit_append(c->o->audit, &rec);
				c->state = CONN_CLOSING;
				conn_error(c, status, id, head_error_token(status),
				    "malformed or oversized request head", NULL);
				break;
			}
			evbuffer_drain(in, c->req.head_len);
			if (exchange_admit(c->o, c, &c->req) != 0)
				break;
			c->state = CONN_BODY;
			conn_set_timeout(c, OUTER_REQUEST_TIMEOUT);
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

	if (c->state == CONN_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		/* Idle keep-alive, or a request that did not arrive in time. */
		log_debug("%s: %s timeout, closing", c->addr,
		    c->state == CONN_HEAD ? "idle" : "request");
	}
	conn_free(c);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct outer	*o = arg;
	struct conn	*c;
	const void	*a;
	int		 one = 1;

	(void)l;
	(void)salen;
	if (o->nconns >= OUTER_CONNS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("connection limit reached, refusing a connection");
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
	c->peer = policy_peer_by_addr(o->policy, sa);
	c->bev = bufferevent_socket_new(o->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	o->nconns++;
	c->next = o->conns;
	if (o->conns != NULL)
		o->conns->prev = c;
	o->conns = c;
	/* Bound what one connection may buffer: one head and the largest
	 * body any message type may validly have, not the 1 MiB ceiling. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, o->request_max);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	conn_set_timeout(c, OUTER_IDLE_TIMEOUT);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
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

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The extranet daemon: strict HTTP front, exchanges in flight, the ferry ends. */

#ifndef ISOGATE_OUTER_H
#define ISOGATE_OUTER_H

#include <sys/socket.h>

#include <stdint.h>

#include <event2/event.h>

#include "audit/audit.h"
#include "common/common.h"
#include "ferry/ferry.h"
#include "policy/policy.h"

#define HTTP_HEAD_DEFAULT	8192	/* request line + headers, bytes */
#define HTTP_HEADERS_DEFAULT	64
#define HTTP_TARGET_MAX		1024
#define HTTP_IDEM_MAX		128

/* What http_parse_head learnt from a complete, well-formed request head. */
struct http_req {
	int		 post;		/* method is POST */
	int		 method_ok;	/* a syntactically valid method */
	char		 target[HTTP_TARGET_MAX + 1];
	int		 minor;		/* HTTP/1.minor */
	int64_t		 content_length;	/* -1 when absent */
	int		 transfer_encoding;	/* header present */
	int		 keepalive;
	int		 has_ctype;
	int		 ctype_json;	/* application/json[; charset=utf-8] */
	int		 expect_continue;
	int		 has_idem;	/* Idempotency-Key given */
	int		 idem_bad;	/* … twice, empty, too long or not
					 * printable */
	char		 idem[HTTP_IDEM_MAX + 1];
	size_t		 head_len;	/* bytes of the head, incl. CRLFCRLF */
	/* Set by exchange_admit for the request it admitted. */
	uint8_t		 id[ID_LEN];
	const struct message *msg;
};

/* The policy's `limit header-size` and `limit headers`. */
struct http_limits {
	size_t		 head_max;	/* request line + headers, bytes */
	size_t		 headers_max;	/* header lines */
};

/* http.c */
/*
 * Parses the head of one request at the front of untrusted bytes. Returns 0
 * and *ret when a complete head is well-formed; -EAGAIN when more bytes are
 * needed; -EBADMSG with *ret_status (400, 414, 417, 431, 505) when the head
 * is malformed or over a limit and the connection must be closed. lim NULL:
 * HTTP_HEAD_DEFAULT and HTTP_HEADERS_DEFAULT.
 */
int	 http_parse_head(const uint8_t *untrusted, size_t len,
	    const struct http_limits *lim, struct http_req *ret,
	    int *ret_status);
const char *http_reason(int status);
/* Appends a complete response with a JSON body. */
int	 http_response(struct buf *, int status, const char *idhex,
	    const char *body, size_t bodylen, int keepalive,
	    const char *extra_headers);

/* The other limits are the policy's (`limit …`, struct side_limits). */
#define OUTER_CONNECT_RETRY_MS	200
/* File descriptors outer keeps for itself beyond its connections. */
#define OUTER_FD_RESERVE	64

struct conn;
struct deliver;
struct exchange;
struct guard_state;
struct evconnlistener;

/* The daemon's state; one per process. */
struct outer {
	struct policy		*policy;
	struct event_base	*base;
	struct audit		*audit;
	struct chan_tx		*tx;
	struct chan_rx		*rx;
	struct event		*tx_ev;		/* EV_WRITE while flush is partial */
	struct event		*rx_ev;
	struct event		*flush_ev;	/* one seal per loop pass */
	struct event		*retry_ev;
	struct event		*rx_more_ev;	/* the rest of a spool backlog */
	struct evconnlistener	*listener;
	struct side_limits	 lim;		/* the policy's, defaults filled */
	struct http_limits	 http_lim;
	struct bucket		*buckets;	/* per peer, same order as policy */
	uint32_t		*peer_conns;	/* per peer: open connections */
	uint32_t		*peer_pending;	/* per peer: exchanges in flight */
	uint64_t		 refused;	/* by the connection limit, not
						 * yet on record */
	uint64_t		 refused_at;	/* mono ms of the last record */
	struct exchange		**pending;	/* hash table of exchanges by id */
	size_t			 npending_slots;
	size_t			 npending;
	size_t			 nconns;
	size_t			 request_max;	/* head + largest valid body */
	struct buf		 resp;		/* reused for every response */
	struct conn		*conns;		/* all open connections */
	uint8_t			 idpool[4096];	/* random ids, refilled in bulk */
	size_t			 idpool_off;
	struct guard_state	*guard;		/* NULL without a guard */
	struct ssl_ctx_st	*tls;		/* SSL_CTX; NULL for listen plain */
	int			 diode;		/* no outward channel */

	/* One-ways sent on a durable ferry and waiting for the flush that
	 * puts them on disk (then 202), in order. */
	struct exchange		*dwait;
	struct exchange		**dwait_tail;
	size_t			 dwait_n;
	size_t			 dwait_bytes;
	struct deliver		*dl;		/* deliver.c's state */
	int			 rx_bad;	/* this spool unit failed */
};

/* exchange.c */
void	 outer_init_exchanges(struct outer *);
/* A complete request from conn with its body: decides, answers or sends it
 * across. The conn is busy until outer answers through conn_respond. */
void	 exchange_start(struct outer *, struct conn *, const struct http_req *,
	    const uint8_t *untrusted_body, size_t len);
/* Head-level decisions before the body is read: 0 to read the body, or an
 * HTTP status already answered (the connection then closes). */
int	 exchange_admit(struct outer *, struct conn *, struct http_req *);
void	 exchange_conn_gone(struct exchange *);
void	 exchange_frame(void *arg, const struct frame *, int verdict);
/* 503 unavailable for every exchange in flight; reason for the journal. */
void	 exchange_fail_all(struct outer *, const char *reason,
	    const char *message);
/* Diode link: every pending one-way exchange has been written to the link
 * (nothing can acknowledge it): answer each 202. */
void	 exchange_sent_all(struct outer *);
void	 outer_schedule_flush(struct outer *);
void	 outer_new_id(struct outer *, uint8_t id[ID_LEN]);

/* exchange.c, durable ferry */
/* After a flush: r == 0, the waiting one-ways are on disk: 202 each, and
 * deliver_track keeps them until acked; else 503 for each (never sent). */
void	 exchange_durable(struct outer *, int r);
/* The reason token of a reject payload, bounded to [a-z_]{1,32}, else
 * "unknown". */
void	 exchange_reject_reason(const struct frame *, char *out, size_t);

/*
 * deliver.c: one-way delivery. Over a durable ferry (spool) one-ways are
 * kept from 202 until inner acks them; over another (fifo, a two-way eth
 * link) from their transmission until the ack answers the client 202.
 * Either way they are retransmitted when inner has consumed their frame
 * without answering, when inner rejects it as spoiled on the way, or after
 * the retransmit timeout (doubling), bounded in count and bytes; heartbeats
 * both ways, inner's liveness and the clock skew between the sides, each
 * transition audited.
 */
/* After the ferry ends are open: timers, and the one-ways still in the
 * spool from an earlier run tracked again. Until it runs (harnesses that
 * drive the exchanges alone), inner counts as alive and nothing is kept. */
void	 deliver_init(struct outer *);
void	 deliver_free(struct outer *);
/* 0 while inner was heard from within three heartbeats. */
int	 deliver_alive(const struct outer *);
/* 0 when one more one-way of len payload bytes fits the policy's
 * `ferry pending` and `ferry spool` bounds, else -ENOSPC. */
int	 deliver_room(const struct outer *, size_t len);
/* 1 when the id is a tracked (unacked) one-way. */
int	 deliver_tracked(const struct outer *, const uint8_t id[ID_LEN]);
/* 1 when the id is tracked with another payload than this one (an
 * Idempotency-Key used again for another message). */
int	 deliver_differs(const struct outer *, const uint8_t id[ID_LEN],
	    const char *payload, size_t len);
/* Its exchange ended (answered, timed out, failed): on a non-durable
 * ferry the one-way is tried no more. */
void	 deliver_untrack(struct outer *, const uint8_t id[ID_LEN]);
/* Keeps a one-way until acked (on a durable ferry from its flush, else
 * from its transmission); takes payload (malloc'd). */
void	 deliver_track(struct outer *, const uint8_t id[ID_LEN],
	    const struct message *, const struct peer *, char *payload,
	    size_t len, uint32_t epoch, uint64_t seq);
/* Every frame inner sent that passed the ferry (CHAN_OK): liveness,
 * heartbeats, acks and rejects of tracked one-ways. 1 when the frame was
 * handled here, 0 when it is the exchanges' (exchange_frame). */
int	 deliver_frame(struct outer *, const struct frame *);
/* A flush failed (r): audited once until a flush works again. */
void	 deliver_flushed(struct outer *, int r);

/* guard.c */
/* The mark an admitted connection's first packet carries; the generated nft
 * ruleset accepts new connections to the listener only with it. */
#define GUARD_MARK		0x15090001
/* With a guard in the policy: binds its NFQUEUE (root, before the drop),
 * forks the guard process (which keeps CAP_NET_ADMIN alone) and audits the
 * refusals it reports on o->base; needs o->listener. 0 without a guard. */
int	 guard_start(struct outer *, int no_sandbox);
void	 guard_stop(struct outer *);

/* front.c */
/* With listen … tls: the SSL_CTX from the policy's files (before the
 * sandbox). 0, or -errno with why (an OpenSSL reason) filled in. */
int	 front_tls_init(struct outer *, char *why, size_t whylen);
void	 front_tls_free(struct outer *);
/* SIGHUP: client-ca and crl read again (the listener's certificate and key
 * stay); connections whose certificate they no longer accept are closed and
 * audited. How many were closed, or -errno with why (the old ones stay). */
int	 front_tls_reload(struct outer *, char *why, size_t whylen);
int	 front_listen(struct outer *, const char *hostport);
/* A connection accepted on fd from sa: the listener's callback, and the
 * request fuzzer's way in. */
void	 front_accept(struct outer *, evutil_socket_t fd, struct sockaddr *sa,
	    int salen);
/* For a timer: puts connection-limit refusals not yet on record there. */
void	 front_refused_flush(struct outer *);
void	 front_close_all(struct outer *);
/* Answers the request in progress on conn; closes if !keepalive. */
void	 conn_respond(struct conn *, int status, const uint8_t id[ID_LEN],
	    const char *body, size_t len, const char *extra_headers);
/* Builds and sends an error body {"error","id","message"[,"field"]}. */
void	 conn_error(struct conn *, int status, const uint8_t id[ID_LEN],
	    const char *error, const char *message, const char *field);
const char *conn_addr(const struct conn *);
const struct peer *conn_peer(const struct conn *);
int	 conn_is_tls(const struct conn *);
/* Its peer had peer-connections open already: to be refused (429). */
int	 conn_over_limit(const struct conn *);
void	 conn_set_exchange(struct conn *, struct exchange *);

#endif

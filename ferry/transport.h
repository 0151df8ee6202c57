/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Internal to ferry/: the byte-moving interface each transport (fifo, spool, eth) implements. */

#ifndef ISOGATE_FERRY_TRANSPORT_H
#define ISOGATE_FERRY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

enum transport_role {
	TRANSPORT_TX = 1,	/* send only */
	TRANSPORT_RX = 2,	/* receive only */
};

struct transport;

/*
 * One transport kind. A channel sees an ordered byte stream that may lose
 * bytes when a side goes away; frames, chain and seals above it detect that.
 * Every call is non-blocking.
 */
struct transport_ops {
	const char	*scheme;	/* "fifo" in "fifo:PATH" */
	/* arg is the text after "scheme:". RX opens its end here; TX does
	 * nothing that needs the receiver. */
	int	 (*open)(const char *arg, enum transport_role,
		    struct transport **ret);
	/* TX: opens the path to the receiver; -EAGAIN while it is absent. */
	int	 (*connect)(struct transport *);
	int	 (*fd)(const struct transport *);	/* -1 when closed */
	/* TX: writes up to len bytes, *ret_n how many (may be short);
	 * -EAGAIN when none fit now, -EPIPE when the receiver is gone (the
	 * transport is then disconnected). */
	int	 (*send)(struct transport *, const uint8_t *, size_t len,
		    size_t *ret_n);
	/* RX: reads up to len bytes, *ret_n > 0; -EAGAIN when none are
	 * ready; -EPIPE when the sender left, after which the end has been
	 * reopened (new fd) for the next sender, or is closed (fd -1) if that
	 * failed, to be retried by the next recv. */
	int	 (*recv)(struct transport *, uint8_t *, size_t len,
		    size_t *ret_n);
	void	 (*disconnect)(struct transport *);	/* TX */
	void	 (*close)(struct transport *);
};

/* Every transport's state starts with this. */
struct transport {
	const struct transport_ops	*ops;
};

/* transport.c: picks the transport by the endpoint's scheme.
 * -EINVAL without "scheme:", -EPROTONOSUPPORT for an unknown scheme. */
int	 transport_open(const char *endpoint, enum transport_role,
	    struct transport **ret);

/* fifo.c */
extern const struct transport_ops fifo_transport_ops;

#endif

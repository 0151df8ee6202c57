/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Internal to ferry/: the byte-moving interface each transport (fifo, spool, eth) implements. */

#ifndef ISOGATE_FERRY_TRANSPORT_H
#define ISOGATE_FERRY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/ferry.h"

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

	/*
	 * Durable transports only (NULL for the others). recv may also
	 * return -ENOMSG: the unit (a spool file) ended, and what it did not
	 * seal never will be; or -EBADMSG: the unit cannot be read as frames
	 * at all. Either way recv then says -EAGAIN until release.
	 */
	/* TX: makes everything sent since the last commit durable as one
	 * unit ending with frame (epoch, seq). 0 once it is on disk; else
	 * -errno (-ENOSPC, -EDQUOT, -EIO) and the unit is discarded. */
	int	 (*commit)(struct transport *, uint32_t epoch, uint64_t seq);
	/* RX: the unit read so far has been acted on: remove it, or move it
	 * to quarantine/ when quarantine is set, or to archive/ when
	 * archiving. 0, or -errno (the unit is then read again). */
	int	 (*release)(struct transport *, int quarantine);
	/* RX: archive consumed units instead of removing them. */
	int	 (*archive)(struct transport *, int on);
	/* TX: calls fn on the bytes of every unit still stored (not yet
	 * released by the receiver), oldest first; stops at fn's non-zero
	 * answer and returns it. */
	int	 (*stored)(struct transport *,
		    int (*fn)(void *, const uint8_t *, size_t), void *arg);
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

/* spool.c */
extern const struct transport_ops spool_transport_ops;
#define SPOOL_NAME_LEN	35	/* EEEEEEEEEE-SSSSSSSSSSSSSSSSSSSS.isf */
#define SPOOL_FILE_MAX	(FERRY_BACKLOG_MAX + 2 * SEAL_FRAME_LEN)
/* A unit's file name from its last frame, and back: -EINVAL unless the
 * name has exactly that form (10 + 20 decimal digits). */
int	 spool_name(uint32_t epoch, uint64_t seq,
	    char out[SPOOL_NAME_LEN + 1]);
int	 spool_name_parse(const char *untrusted, uint32_t *ret_epoch,
	    uint64_t *ret_seq);

#endif

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
	/* Optional: link settings (eth:); NULL where they mean nothing. */
	int	 (*configure)(struct transport *, const struct ferry_link *);
	/* Optional: link counters; NULL where there are none. */
	void	 (*stats)(const struct transport *, struct ferry_link_stats *);

	/*
	 * Durable transports only (NULL for the others). recv may also
	 * return -ENOMSG: the unit (a spool file) ended, and what it did not
	 * seal never will be; or -EBADMSG: the unit cannot be read as frames
	 * at all. Either way recv then says -EAGAIN until release.
	 */
	/* TX: stores everything sent since the last commit as one unit
	 * ending with frame (epoch, seq); with sync, durably (0 once it is on
	 * disk), without (nothing in it must outlive a power loss: no
	 * one-way) it is only written and renamed into place. Else -errno
	 * (-ENOSPC, -EDQUOT, -EIO) and the unit is discarded. */
	int	 (*commit)(struct transport *, uint32_t epoch, uint64_t seq,
		    int sync);
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

/* eth.c */
extern const struct transport_ops eth_transport_ops;

/*
 * frag.c: the eth: link packet (docs/ferry.md, "eth:IFACE"). After the
 * 14-byte Ethernet header, a 48-byte header, little-endian:
 * magic "ISGL", version 3, type, count (2), session (4), msg (8),
 * index (2), data_len (2), total (4), seq (4), tag (16), then data_len
 * bytes. The tag is HMAC-SHA256 under the link key over the direction
 * byte, the 32 bytes before it and the data, cut to 16 bytes (linkkey.c).
 * A data fragment's offset in its frame follows from index, data_len and
 * total; seq numbers the data packets of a session for the parity groups
 * (0: in none). A parity packet: count = its group's size K, msg = the
 * group's first seq, data = the XOR of the K members (each from its
 * header's first byte through its data, zero-padded to the longest).
 */
#define ETH_FERRY_TYPE	0x88b5		/* IEEE local experimental 1 */
#define FRAG_MAGIC	"ISGL"
#define FRAG_VERSION	3
#define FRAG_HDR_LEN	48
#define FRAG_DATA_LEN_OFF 22		/* data_len's place in the header */
#define LINK_TAG_OFF	32		/* the tag's, and what it covers */
#define LINK_TAG_LEN	16
#define FRAG_TOTAL_MAX	FRAME_LEN_MAX	/* one ferry frame */
#define FRAG_COUNT_MAX	1024		/* fragments per frame */
#define FRAG_SLOTS_MAX	256		/* frames being reassembled */
#define FRAG_BYTES_MAX	(16 * 1024 * 1024)	/* their bytes, in all */
#define FRAG_SESSIONS	4		/* senders tracked at once */
#define FRAG_WINDOW	4096		/* msgs ahead of the awaited one */
#define FRAG_PKT_MAX	9000		/* a link packet, at most (the MTU) */
#define FRAG_PARITY_MIN	2		/* data packets per parity group (a
					 * burst's last may have fewer, 1..) */
#define FRAG_PARITY_MAX	64
#define FRAG_PAR_RING	(4 * FRAG_PARITY_MAX)	/* data packets kept */

enum frag_type {
	FRAG_DATA = 1,			/* a fragment of one ferry frame */
	FRAG_HEARTBEAT = 2,		/* msg = the last msg sent */
	FRAG_PARITY = 3,		/* the XOR of count data packets */
};

struct frag_hdr {
	uint8_t		 type;
	uint16_t	 count;		/* fragments of this frame */
	uint32_t	 session;	/* random per sender open */
	uint64_t	 msg;		/* 1, 2, ... per session */
	uint16_t	 index;
	uint16_t	 data_len;
	uint32_t	 total;		/* the frame's length */
	uint32_t	 offset;	/* of this fragment's data in it (not
					 * on the wire: from index, data_len,
					 * total) */
	uint32_t	 seq;		/* data: 1, 2, ... per session in
					 * parity groups, 0 in none */
};

struct frag_slot {
	int		 used;
	uint32_t	 session;
	uint64_t	 msg;
	uint16_t	 count;
	uint16_t	 nhave;
	uint32_t	 total;
	uint32_t	 got;		/* bytes received */
	uint32_t	 room;		/* bytes in each but the last */
	uint64_t	 first_ns;	/* first fragment heard */
	uint8_t		 have[FRAG_COUNT_MAX / 8];
	uint8_t		*data;		/* total bytes */
};

struct frag_sess {
	int		 used;
	uint32_t	 id;
	uint64_t	 next;		/* the msg awaited */
	uint64_t	 sent;		/* highest msg a heartbeat announced */
	uint64_t	 hb_ns;		/* since when next is known sent */
	uint64_t	 heard_ns;
};

/* A data packet kept for its parity group, at seq % FRAG_PAR_RING. */
struct frag_par {
	uint32_t	 session;
	uint32_t	 seq;
	size_t		 len;		/* 0: empty */
	uint64_t	 heard_ns;
	uint8_t		*pkt;		/* FRAG_PKT_MAX bytes once used */
};

struct frag_rx {
	struct frag_slot	 slots[FRAG_SLOTS_MAX];
	struct frag_par		 par[FRAG_PAR_RING];
	uint8_t			*rebuilt;	/* FRAG_PKT_MAX bytes once used */
	size_t			 par_bytes;	/* allocated for the two above */
	struct frag_sess	 sess[FRAG_SESSIONS];
	size_t			 bytes;		/* held in slots */
	size_t			 nused;		/* slots in use */
	struct frag_slot	*last;		/* found last (a hint) */
	uint64_t		 timeout_ns;
	uint64_t		 nsessions;
	int			 stuck;		/* no room: skip gaps now */
	struct ferry_link_stats	 st;
	struct linkmac		*mac;		/* not owned; NULL: no key */
};

/* linkkey.c: the tag of each link packet. */
struct linkmac;
/* A keyed HMAC-SHA256 context for one direction; -EIO on an OpenSSL
 * error. */
int	 linkmac_new(const uint8_t key[FERRY_LINK_KEY_LEN], enum ferry_dir,
	    struct linkmac **ret);
void	 linkmac_free(struct linkmac *);
/* Writes the tag of the packet at pkt (header, then data_len bytes). */
int	 linkmac_tag(struct linkmac *, uint8_t *pkt, size_t data_len);
/* The same for a header and its data apart (the sender's iovecs). */
int	 linkmac_tag_parts(struct linkmac *, uint8_t hdr[FRAG_HDR_LEN],
	    const uint8_t *data, size_t data_len);
/* 0 if the packet's tag is right; -EBADMSG when it is too short for its
 * header and declared data, or of another magic or version, to be
 * checked; -EKEYREJECTED when the tag is wrong (or m is NULL). */
int	 linkmac_verify(struct linkmac *m, const uint8_t *untrusted,
	    size_t len);

/* Writes h as the first LINK_TAG_OFF bytes of the header (not the tag). */
void	 frag_put_header(uint8_t p[FRAG_HDR_LEN], const struct frag_hdr *h);
/* Parses one link packet's payload (after the Ethernet header; trailing
 * padding allowed). 0 with *ret and *ret_data (NULL for a heartbeat),
 * -EBADMSG when malformed, -E2BIG for a count or total over the limits. */
int	 frag_decode(const uint8_t *untrusted, size_t len, struct frag_hdr *ret,
	    const uint8_t **ret_data);
/* Reassembly, in msg order per session, within timeout_ns. */
void	 frag_rx_init(struct frag_rx *, uint64_t timeout_ns);
void	 frag_rx_free(struct frag_rx *);
/* The key packets must be tagged with (kept, not owned): until it is
 * set, every packet is refused as bad_tag. */
void	 frag_rx_key(struct frag_rx *, struct linkmac *);
/* Takes one link packet heard at now (monotonic ns). Its tag is checked
 * first: nothing of a packet that is not authentic is kept or counted
 * but bad_tag (-EKEYREJECTED). A data packet in a parity group is kept
 * (FRAG_PAR_RING of them, for timeout_ns at most); a parity packet whose
 * group misses exactly one rebuilds it, and the rebuilt packet goes
 * through this same path, its tag checked (counted recovered when kept).
 * 0 when kept;
 * -EBADMSG, -E2BIG, -EALREADY (duplicate), -ENOMEM, or -ENOBUFS when
 * every slot holds a complete frame waiting behind a gap: the next
 * frag_rx_release gives the gap up at once, then try again. A msg
 * FRAG_WINDOW or more ahead of the awaited one moves the window (what
 * it leaves behind is lost). */
int	 frag_rx_input(struct frag_rx *, const uint8_t *untrusted, size_t len,
	    uint64_t now);
/* As frag_rx_input, and a frame carried whole by this one packet that is
 * due now (the awaited msg) is appended to out at once, without a slot,
 * when out has room. */
int	 frag_rx_input_out(struct frag_rx *, const uint8_t *untrusted,
	    size_t len, uint64_t now, struct buf *out);
/* Appends every frame that is due, in order, to out; gives up on what
 * has waited timeout_ns (counted lost). Stops early, without error,
 * when out is full. */
int	 frag_rx_release(struct frag_rx *, uint64_t now, struct buf *out);
/* When frag_rx_release next has something to time out; 0: nothing. */
uint64_t frag_rx_deadline(const struct frag_rx *);
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

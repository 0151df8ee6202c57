/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The boundary wire: frames, the sealed hash chain, keys, and one-way channels. */

#ifndef ISOGATE_FERRY_H
#define ISOGATE_FERRY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/common.h"

#define FRAME_MAGIC		"ISGF"
#define FRAME_VERSION		1
#define FRAME_NAME_MAX		64		/* peer and type names */
#define FRAME_PAYLOAD_MAX	(1024 * 1024)
#define FERRY_BACKLOG_MAX	(16 * 1024 * 1024)	/* unsent bytes per tx */
#define FERRY_SEAL_EVERY	64	/* frames per seal at most */
#define FRAME_HEADER_LEN	84	/* the fixed part */
#define FRAME_LEN_MAX		(FRAME_HEADER_LEN + 2 * FRAME_NAME_MAX + \
				    FRAME_PAYLOAD_MAX)
#define SEAL_PAYLOAD_LEN	144	/* see docs/ferry.md */
#define SEAL_SIG_LEN		64	/* Ed25519 */
#define SEAL_FRAME_LEN		(FRAME_HEADER_LEN + SEAL_PAYLOAD_LEN)

enum frame_kind {
	FRAME_REQUEST = 1,
	FRAME_REPLY,
	FRAME_ONEWAY,
	FRAME_ACK,
	FRAME_HEARTBEAT,
	FRAME_REJECT,
	FRAME_SEAL,
};

enum ferry_dir {
	FERRY_INWARD = 1,	/* outer -> inner */
	FERRY_OUTWARD = 2,	/* inner -> outer */
};

/*
 * A decoded frame. peer and type are NUL-terminated copies, checked to hold
 * only [A-Za-z0-9._-]; payload points into the bytes that were decoded and
 * is valid only as long as they are.
 */
struct frame {
	uint8_t		 kind;
	uint32_t	 epoch;
	uint64_t	 seq;
	uint64_t	 time_ns;
	uint8_t		 id[ID_LEN];
	uint8_t		 digest[SHA256_LEN];
	char		 peer[FRAME_NAME_MAX + 1];
	char		 type[FRAME_NAME_MAX + 1];
	const uint8_t	*payload;
	uint32_t	 payload_len;
};

/* frame.c */
/* Appends the encoding of f to out. -EINVAL on bad names or lengths. */
int	 frame_encode(struct buf *out, const struct frame *f);
/*
 * Decodes one frame from the front of untrusted bytes. Returns 0 and
 * *ret_used, -EAGAIN when more bytes are needed for a frame that is still
 * well-formed so far, -EBADMSG when malformed (bad magic, version, kind,
 * flags, names) and -E2BIG when a declared length is over the limit.
 */
int	 frame_decode(const uint8_t *untrusted, size_t len, struct frame *ret,
	    size_t *ret_used);
const char *frame_kind_name(uint8_t);

/* key.c */
/* Writes prefix.key (PKCS#8 PEM, mode 0600, refuses to overwrite) and
 * prefix.pub (SubjectPublicKeyInfo PEM). */
int	 key_generate(const char *prefix);
/* -EPERM if the file is group/world readable. */
int	 key_load_private(const char *path, EVP_PKEY **ret);
int	 key_load_public(const char *path, EVP_PKEY **ret);

/*
 * seal.c: the per-channel hash chain and the seals over it, shared by both
 * ends and usable offline (an auditor re-verifying a recorded stream).
 * The EVP_MD_CTX is the caller's, reused between calls.
 */
struct seal {
	uint32_t	 epoch;
	uint64_t	 first;			/* first seq covered */
	uint64_t	 last;			/* last seq covered */
	uint8_t		 prev_chain[SHA256_LEN];	/* chain before first */
	uint8_t		 chain[SHA256_LEN];	/* chain after last */
	uint8_t		 digest[SHA256_LEN];	/* sender's policy digest */
	uint8_t		 sig[SEAL_SIG_LEN];
};
/* chain_0 = SHA-256("isogate chain v1" || dir || epoch). */
int	 chain_init(EVP_MD_CTX *, enum ferry_dir, uint32_t epoch,
	    uint8_t ret[SHA256_LEN]);
/* chain = SHA-256(chain || the encoded bytes of one data frame), in place. */
int	 chain_step(EVP_MD_CTX *, uint8_t chain[SHA256_LEN],
	    const uint8_t *frame, size_t len);
/* Fills s->sig; every other field must be set. -EIO on a signing error. */
int	 seal_sign(EVP_MD_CTX *, EVP_PKEY *, enum ferry_dir, struct seal *);
/* 0 if s->sig is key's signature over s, else -EBADMSG. */
int	 seal_verify(EVP_MD_CTX *, EVP_PKEY *, enum ferry_dir,
	    const struct seal *);
/* Appends the seal frame for s (time from now_ns()). */
int	 seal_encode(struct buf *, const struct seal *);
/* Parses a decoded SEAL frame; -EBADMSG unless its shape is exact. */
int	 seal_decode(const struct frame *, struct seal *ret);

/*
 * Link settings for transports that cross a real link (eth:); others
 * ignore them. Zero fields take the defaults.
 */
struct ferry_link {
	/* The link key (FERRY_LINK_KEY_LEN bytes, copied at configure; the
	 * caller wipes its own). NULL: eth: sends nothing and takes no
	 * packet as authentic. */
	const uint8_t	*key;
	enum ferry_dir	 dir;		/* set by chan_*_configure */
	uint32_t	 copies;	/* each link packet sent N times */
	uint32_t	 parity;	/* a parity packet after every N data
					 * packets; 0 none */
	uint32_t	 rate;		/* link packets/s; 0 unlimited */
	uint32_t	 timeout_ms;	/* reassembly and reorder wait */
	uint32_t	 seal;		/* sender: frames per seal at most, 1..
					 * FERRY_SEAL_EVERY; 0 the default */
};
#define FERRY_LINK_COPIES_MAX	8
#define FERRY_LINK_TIMEOUT_MS	100	/* default */
#define FERRY_LINK_TIMEOUT_MAX	60000
#define FERRY_LINK_KEY_LEN	32

/* linkkey.c: the link key file, exactly FERRY_LINK_KEY_LEN random bytes. */
/* -EPERM if group/world accessible, -EINVAL if not exactly the length. */
int	 linkkey_load(const char *path, uint8_t ret[FERRY_LINK_KEY_LEN]);
/* Writes a new random key, mode 0600; -EEXIST rather than overwrite. */
int	 linkkey_generate(const char *path);

/* Counters of a link (all since open). */
struct ferry_link_stats {
	uint64_t	 packets;	/* sent (TX) */
	uint64_t	 fragments;	/* distinct fragments kept (RX) */
	uint64_t	 frames;	/* reassembled and passed on (RX) */
	uint64_t	 duplicates;	/* copies dropped (RX) */
	uint64_t	 lost;		/* frames given up on (RX) */
	uint64_t	 malformed;	/* link packets that do not parse */
	uint64_t	 bad_tag;	/* not authentic under the link key */
	uint64_t	 oversized;	/* fragment count, length too big */
	uint64_t	 out_of_window;	/* msg too far ahead */
	uint64_t	 evicted;	/* partial frames dropped for room */
	uint64_t	 recovered;	/* data packets rebuilt from parity */
	uint64_t	 heartbeats;
	uint64_t	 sessions;	/* link sessions after the first: sender
					 * restarts, or other senders (RX) */
};

/*
 * beat.c: the payload of a heartbeat frame, 28 bytes LE: the time of the
 * last heartbeat received from the other side and when it came (0, 0 if
 * none yet; both in ns, the sender's and the receiver's clock), and the
 * sender's receiving position on the other channel (epoch, last seq), so
 * that the other side knows what was consumed.
 */
#define BEAT_LEN	28
struct beat {
	uint64_t	 echo_time;
	uint64_t	 echo_rx;
	uint32_t	 pos_epoch;
	uint64_t	 pos_seq;
};
int	 beat_encode(const struct beat *, struct buf *out);
/* -EBADMSG unless exactly BEAT_LEN bytes with a consistent echo. */
int	 beat_decode(const uint8_t *untrusted, size_t len, struct beat *ret);
/*
 * From a heartbeat sent at t3 (the other side's clock) and received at t4
 * (ours): *ret_offset, the other clock minus ours, and *ret_delay, the
 * round trip (ns). 1 when the clocks differ by more than tol_ns for sure,
 * 0 when they agree within it for sure, -EAGAIN when there is no echo yet
 * or the delay is too long to tell.
 */
int	 beat_skew(const struct beat *, uint64_t t3, uint64_t t4,
	    uint64_t tol_ns, int64_t *ret_offset, int64_t *ret_delay);

/*
 * The times of the last BEAT_SENT heartbeats a side sent (chan_tx_time
 * after each): an echo counts only if it is exactly one of them, so an
 * echo of an earlier run's heartbeat (a restart, a file left in the spool)
 * never passes for a fresh one.
 */
#define BEAT_SENT	16
struct beat_sent {
	uint64_t	 t[BEAT_SENT];
	unsigned int	 next;
};
void	 beat_sent_add(struct beat_sent *, uint64_t time_ns);
int	 beat_sent_has(const struct beat_sent *, uint64_t time_ns);

/* Receiver verdicts, passed to chan_rx_cb. */
enum chan_verdict {
	CHAN_OK = 0,		/* sealed, in sequence, digest matches */
	CHAN_MALFORMED,		/* bytes that do not decode (frame NULL) */
	CHAN_BAD_SEAL,		/* seal signature or chain does not verify */
	CHAN_REPLAY,		/* (epoch, seq) not after the last accepted */
	CHAN_GAP,		/* frames missing before this one */
	CHAN_DIGEST,		/* frame from a different policy */
	CHAN_OLD_EPOCH,		/* epoch older than one already seen */
	CHAN_UNSEALED,		/* discarded unsealed when the writer left */
};
const char *chan_verdict_name(int);
/* f and its payload are valid only during the call, which must not call
 * back into the same chan_rx. */
typedef void chan_rx_cb(void *arg, const struct frame *f, int verdict);

/*
 * chan.c: the sending end of one channel. Each frame is appended to the
 * chain; chan_tx_flush seals the unsealed frames (one Ed25519 signature per
 * flush, or per FERRY_SEAL_EVERY frames) and writes. The epoch is read from
 * and persisted to state_dir, incremented once per open.
 */
struct chan_tx;
int	 chan_tx_open(const char *endpoint, enum ferry_dir, EVP_PKEY *key,
	    const uint8_t digest[SHA256_LEN], const char *state_dir,
	    struct chan_tx **ret);
/* Opens the transport; -EAGAIN while the receiver is absent. */
int	 chan_tx_connect(struct chan_tx *);
int	 chan_tx_fd(const struct chan_tx *);	/* -1 when not connected */
/* Queues one frame (id NULL: all zero); -ENOTCONN, -ENOBUFS (backlog
 * full), -EINVAL. */
int	 chan_tx_send(struct chan_tx *, uint8_t kind, const uint8_t id[ID_LEN],
	    const char *peer, const char *type, const void *payload,
	    size_t len);
/* Seals the frames queued so far now, without writing: a frame between
 * two such calls travels under a seal of its own, which a loss elsewhere
 * on a lossy link cannot take down with it (retransmissions). 0 or
 * -errno (the frames stay unsealed until the next try). */
int	 chan_tx_seal(struct chan_tx *);
/* Seals and writes. 0 when all is written, -EAGAIN when bytes remain
 * (wait for the fd to be writable), -EPIPE when the receiver went away
 * (the channel is disconnected and its unsent frames dropped). */
int	 chan_tx_flush(struct chan_tx *);
size_t	 chan_tx_backlog(const struct chan_tx *);	/* unsent bytes */
uint32_t chan_tx_epoch(const struct chan_tx *);
/* Link settings for the transport (eth:), and the frames per seal (any
 * transport); 0, or -EINVAL when out of range. */
int	 chan_tx_configure(struct chan_tx *, const struct ferry_link *);
uint64_t chan_tx_seq(const struct chan_tx *);	/* last used, 0: none */
uint64_t chan_tx_time(const struct chan_tx *);	/* time of the last frame */
/*
 * 1 when the transport is durable (spool): a flush that returns 0 has made
 * every frame sent before it durable (one commit, one fsync, per flush). A
 * flush whose commit fails (-ENOSPC, -EDQUOT, -EIO) discards the unsent
 * frames and rewinds seq and chain to the last durable frame, so the
 * receiver sees no gap: those frames were never sent.
 */
int	 chan_tx_durable(const struct chan_tx *);
/*
 * Durable transports: replays through cb, with CHAN_OK, every data frame
 * still stored and not yet consumed by the receiver, oldest first, after
 * checking its seal with this sender's own key (a stored unit that does not
 * verify is reported with its verdict instead). 0 or -errno.
 */
int	 chan_tx_stored(struct chan_tx *, chan_rx_cb *cb, void *arg);
void	 chan_tx_close(struct chan_tx *);

/*
 * chan.c: the receiving end. Frames are delivered only once a valid seal
 * covers them, in order, each exactly once; every frame that is not
 * delivered is reported with its verdict (frame NULL when undecodable).
 */
struct chan_rx;
int	 chan_rx_open(const char *endpoint, enum ferry_dir, EVP_PKEY *peer_key,
	    const uint8_t digest[SHA256_LEN], const char *state_dir,
	    struct chan_rx **ret);
int	 chan_rx_fd(const struct chan_rx *);
/* Reads what is available and reports frames through cb. 0, or -EPIPE
 * when the writer went away (the transport was reopened: fetch the fd
 * again), or another -errno. A durable transport (spool) returns 1 when
 * one unit (file) has been read whole: act on what was delivered, call
 * chan_rx_release, then read again for the next one. */
int	 chan_rx_read(struct chan_rx *, chan_rx_cb *cb, void *arg);
/*
 * Durable transports: what was delivered so far has been acted on for good
 * (inner committed it). Persists the position (with a durable transport
 * the position is saved here, not at each seal, so a crash before this
 * point reads the unit again) and removes the unit read whole, or moves
 * it to quarantine/ when quarantine is set (a unit that failed
 * verification), or to archive/ when archiving. A no-op for the others.
 */
int	 chan_rx_release(struct chan_rx *, int quarantine);
/* Keeps consumed units in archive/ instead of removing them. -ENOTSUP
 * for a transport that is not durable. */
int	 chan_rx_archive(struct chan_rx *, int on);
/* The epoch and last seq delivered (what heartbeats report). */
void	 chan_rx_position(const struct chan_rx *, uint32_t *ret_epoch,
	    uint64_t *ret_last);
/*
 * Processes bytes as if they had been read from the transport (tests,
 * fuzzing, replaying a recorded stream). chan_rx_open accepts a NULL
 * endpoint for a receiver fed only this way, and a NULL state_dir for one
 * that persists nothing. 0 or -errno (a failed state write).
 */
int	 chan_rx_feed(struct chan_rx *, const uint8_t *untrusted, size_t len,
	    chan_rx_cb *cb, void *arg);
int	 chan_rx_configure(struct chan_rx *, const struct ferry_link *);
/* What the receiver saw: frames lost (sequence numbers never seen, over
 * all epochs), and the transport's link counters (zero for fifo:). */
struct chan_rx_stats {
	uint64_t		 delivered;	/* CHAN_OK and CHAN_DIGEST */
	uint64_t		 lost;		/* seqs never seen */
	uint64_t		 refused;	/* reported otherwise */
	uint64_t		 restarts;	/* new epochs adopted */
	struct ferry_link_stats	 link;
};
void	 chan_rx_stats(const struct chan_rx *, struct chan_rx_stats *ret);
void	 chan_rx_close(struct chan_rx *);

#endif

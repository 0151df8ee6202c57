/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The sending end of a ferry channel: epoch, sequence, chain, group-commit seals, output. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

#define TX_EPOCH_FILE	"tx-epoch"
#define TX_EPOCH_MAX	64		/* bytes of the counter file */

struct chan_tx {
	struct transport	*t;
	enum ferry_dir		 dir;
	EVP_PKEY		*key;
	uint8_t			 digest[SHA256_LEN];
	EVP_MD_CTX		*md;		/* chain hashing */
	EVP_MD_CTX		*sign;		/* seals */
	int			 connected;

	/* Encoded frames and seals not yet written; out_off bytes of out
	 * are already written. */
	struct buf		 out;
	size_t			 out_off;

	uint32_t		 epoch;
	uint64_t		 seq;		/* last seq used, 0 for none */
	uint64_t		 time_ns;	/* of the last frame queued */
	uint64_t		 first_unsealed;
	unsigned int		 unsealed;	/* frames since the last seal */
	unsigned int		 seal_every;	/* FERRY_SEAL_EVERY, or less */
	uint8_t			 chain[SHA256_LEN];
	uint8_t			 sealed_chain[SHA256_LEN];

	/* Durable transports: the last frame on disk, and the chain after
	 * it, where a failed commit rewinds to. */
	uint64_t		 durable_seq;
	uint8_t			 durable_chain[SHA256_LEN];
	/* A one-way is in the unit being written: its 202 waits for the
	 * fsync. Requests, replies, acks, rejects and heartbeats need none:
	 * lost to a power cut, each is asked or sent again. */
	int			 unit_sync;
};

/*
 * Reads state_dir/tx-epoch (missing: 0), adds one and writes it back durably
 * before the caller uses it, so that no two opens share an epoch even across
 * crashes.
 */
static int
chan_tx_next_epoch(const char *state_dir, uint32_t *ret)
{
	char		 path[PATH_MAX], text[32];
	char		*untrusted = NULL;
	size_t		 len;
	uint64_t	 prev = 0;
	int		 n, r;

	n = snprintf(path, sizeof(path), "%s/%s", state_dir, TX_EPOCH_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, TX_EPOCH_MAX, &untrusted, &len);
	if (r == 0) {
		if (len > 0 && untrusted[len - 1] == '\n')
			untrusted[len - 1] = '\0';
		/* A damaged counter must not restart epochs at 1: fail. */
		if ((r = parse_u64(untrusted, 0, UINT32_MAX - 1, &prev)) != 0) {
			r = r == -ERANGE ? -EOVERFLOW : -EINVAL;
			goto out;
		}
	} else if (r != -ENOENT)
		goto out;
	n = snprintf(text, sizeof(text), "%llu\n",
	    (unsigned long long)prev + 1);
	if ((r = write_file_atomic(path, text, (size_t)n, 0600)) != 0)
		goto out;
	*ret = (uint32_t)prev + 1;
	r = 0;
 out:
	free(untrusted);
	return r;
}

int
chan_tx_open(const char *endpoint, enum ferry_dir dir, EVP_PKEY *key,
    const uint8_t digest[SHA256_LEN], const char *state_dir,
    struct chan_tx **ret)
{
	struct chan_tx	*tx;
	int		 r;

	if ((dir != FERRY_INWARD && dir != FERRY_OUTWARD) || key == NULL ||
	    state_dir == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
		return -EINVAL;
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return -ENOMEM;
	tx->dir = dir;
	tx->seal_every = FERRY_SEAL_EVERY;
	memcpy(tx->digest, digest, SHA256_LEN);
	/* The seal reserve keeps room for the seal that covers the backlog. */
	buf_init(&tx->out, FERRY_BACKLOG_MAX + SEAL_FRAME_LEN);
	if ((r = transport_open(endpoint, TRANSPORT_TX, &tx->t)) != 0)
		goto fail;
	if ((tx->md = EVP_MD_CTX_new()) == NULL ||
	    (tx->sign = EVP_MD_CTX_new()) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = mkdir_p(state_dir, 0700)) != 0 ||
	    (r = chan_tx_next_epoch(state_dir, &tx->epoch)) != 0)
		goto fail;
	if ((r = chain_init(tx->md, dir, tx->epoch, tx->chain)) != 0)
		goto fail;
	memcpy(tx->sealed_chain, tx->chain, SHA256_LEN);
	memcpy(tx->durable_chain, tx->chain, SHA256_LEN);
	if (EVP_PKEY_up_ref(key) != 1) {
		r = -EIO;
		goto fail;
	}
	tx->key = key;
	*ret = tx;
	return 0;
 fail:
	chan_tx_close(tx);
	return r;
}

int
chan_tx_connect(struct chan_tx *tx)
{
	int	 r;

	if (tx->connected)
		return 0;
	if ((r = tx->t->ops->connect(tx->t)) != 0)
		return r;
	tx->connected = 1;
	return 0;
}

int
chan_tx_fd(const struct chan_tx *tx)
{
	return tx->connected ? tx->t->ops->fd(tx->t) : -1;
}

size_t
chan_tx_backlog(const struct chan_tx *tx)
{
	return tx->out.len - tx->out_off;
}

uint32_t
chan_tx_epoch(const struct chan_tx *tx)
{
	return tx->epoch;
}

uint64_t
chan_tx_seq(const struct chan_tx *tx)
{
	return tx->seq;
}

uint64_t
chan_tx_time(const struct chan_tx *tx)
{
	return tx->time_ns;
}

int
chan_tx_durable(const struct chan_tx *tx)
{
	return tx->t->ops->commit != NULL;
}

/* Appends a seal over the unsealed frames; the room for it is reserved. */
int
chan_tx_seal(struct chan_tx *tx)
{
	struct seal	 s;
	int		 r;

	if (tx->unsealed == 0)
		return 0;
	memset(&s, 0, sizeof(s));
	s.epoch = tx->epoch;
	s.first = tx->first_unsealed;
	s.last = tx->seq;
	memcpy(s.prev_chain, tx->sealed_chain, SHA256_LEN);
	memcpy(s.chain, tx->chain, SHA256_LEN);
	memcpy(s.digest, tx->digest, SHA256_LEN);
	if ((r = seal_sign(tx->sign, tx->key, tx->dir, &s)) != 0 ||
	    (r = seal_encode(&tx->out, &s)) != 0)
		return r;
	memcpy(tx->sealed_chain, tx->chain, SHA256_LEN);
	tx->unsealed = 0;
	return 0;
}

/* Drops the written prefix of out so that appends see the whole room. */
static void
chan_tx_compact(struct chan_tx *tx)
{
	if (tx->out_off == 0)
		return;
	buf_consume(&tx->out, tx->out_off);
	tx->out_off = 0;
}

int
chan_tx_send(struct chan_tx *tx, uint8_t kind, const uint8_t id[ID_LEN],
    const char *peer, const char *type, const void *payload, size_t len)
{
	struct frame	 f;
	size_t		 start, need;
	int		 r;

	if (kind < FRAME_REQUEST || kind >= FRAME_SEAL ||
	    len > FRAME_PAYLOAD_MAX || peer == NULL || type == NULL ||
	    strlen(peer) > FRAME_NAME_MAX || strlen(type) > FRAME_NAME_MAX)
		return -EINVAL;
	if (!tx->connected)
		return -ENOTCONN;
	if (tx->seq == UINT64_MAX)
		return -EOVERFLOW;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.epoch = tx->epoch;
	f.seq = tx->seq + 1;
	f.time_ns = now_ns();
	if (id != NULL)
		memcpy(f.id, id, ID_LEN);
	memcpy(f.digest, tx->digest, SHA256_LEN);
	memcpy(f.peer, peer, strlen(peer) + 1);
	memcpy(f.type, type, strlen(type) + 1);
	f.payload = payload;
	f.payload_len = (uint32_t)len;

	need = FRAME_HEADER_LEN + strlen(peer) + strlen(type) + len;
	if (chan_tx_backlog(tx) + need > FERRY_BACKLOG_MAX)
		return -ENOBUFS;
	/* Frames stay under FERRY_BACKLOG_MAX in out, seals use the room
	 * above it. Moving the unwritten rest down only when needed, or when
	 * it is the smaller half, keeps the copying linear. */
	if (tx->out_off > 0 && (tx->out_off >= tx->out.len / 2 ||
	    tx->out.len + need > FERRY_BACKLOG_MAX))
		chan_tx_compact(tx);
	start = tx->out.len;
	if ((r = frame_encode(&tx->out, &f)) != 0)
		return r;
	if ((r = chain_step(tx->md, tx->chain, tx->out.data + start,
	    tx->out.len - start)) != 0) {
		tx->out.len = start;	/* not chained: not sent */
		return r;
	}
	if (tx->unsealed++ == 0)
		tx->first_unsealed = f.seq;
	if (kind == FRAME_ONEWAY)
		tx->unit_sync = 1;
	tx->seq = f.seq;
	tx->time_ns = f.time_ns;
	/* The frame is queued either way; a seal that fails here is tried
	 * again by the next send or flush. */
	if (tx->unsealed >= tx->seal_every)
		(void)chan_tx_seal(tx);
	return 0;
}

/* A durable transport lost the unit being written: the frames in it were
 * never sent, so seq and chain go back to the last durable frame. */
static void
chan_tx_rewind(struct chan_tx *tx)
{
	tx->seq = tx->durable_seq;
	memcpy(tx->chain, tx->durable_chain, SHA256_LEN);
	memcpy(tx->sealed_chain, tx->durable_chain, SHA256_LEN);
	tx->unsealed = 0;
	tx->unit_sync = 0;
}

int
chan_tx_flush(struct chan_tx *tx)
{
	size_t	 n;
	int	 r;

	if (!tx->connected)
		return -ENOTCONN;
	if ((r = chan_tx_seal(tx)) != 0)
		return r;
	while (tx->out_off < tx->out.len) {
		r = tx->t->ops->send(tx->t, tx->out.data + tx->out_off,
		    tx->out.len - tx->out_off, &n);
		if (r == -EAGAIN)
			return -EAGAIN;
		if (r != 0) {
			/*
			 * The receiver went away. What is left may start
			 * mid-frame and would corrupt the next reader's
			 * stream: drop it. The chain goes on; the receiver
			 * notices the loss at the next seal.
			 */
			buf_reset(&tx->out);
			tx->out_off = 0;
			tx->t->ops->disconnect(tx->t);
			tx->connected = 0;
			if (tx->t->ops->commit != NULL)
				chan_tx_rewind(tx);
			return r;
		}
		tx->out_off += n;
	}
	buf_reset(&tx->out);
	tx->out_off = 0;
	if (tx->t->ops->commit == NULL)
		return 0;
	/* Everything written is sealed: one unit, one fsync when a one-way
	 * is in it. */
	if ((r = tx->t->ops->commit(tx->t, tx->epoch, tx->seq,
	    tx->unit_sync)) != 0) {
		chan_tx_rewind(tx);
		return r;
	}
	tx->unit_sync = 0;
	tx->durable_seq = tx->seq;
	memcpy(tx->durable_chain, tx->chain, SHA256_LEN);
	return 0;
}

int
chan_tx_configure(struct chan_tx *tx, const struct ferry_link *l)
{
	struct ferry_link	 lk = *l;
	int			 r;

	if (l->seal > FERRY_SEAL_EVERY)
		return -EINVAL;
	lk.dir = tx->dir;	/* the link key's tags differ by direction */
	if (tx->t->ops->configure != NULL &&
	    (r = tx->t->ops->configure(tx->t, &lk)) != 0)
		return r;
	/* Fewer frames per seal: on a lossy one-way link, a lost frame
	 * takes down only the frames its seal covers. */
	tx->seal_every = l->seal != 0 ? l->seal : FERRY_SEAL_EVERY;
	return 0;
}

struct chan_tx_replay {
	struct chan_rx	*rx;
	chan_rx_cb	*cb;
	void		*arg;
};

static int
chan_tx_replay_unit(void *arg, const uint8_t *p, size_t len)
{
	struct chan_tx_replay	*rp = arg;

	return chan_rx_feed(rp->rx, p, len, rp->cb, rp->arg);
}

int
chan_tx_stored(struct chan_tx *tx, chan_rx_cb *cb, void *arg)
{
	struct chan_tx_replay	 rp;
	int			 r;

	if (tx->t->ops->stored == NULL)
		return 0;
	/* The key pair verifies its own seals. */
	if ((r = chan_rx_open(NULL, tx->dir, tx->key, tx->digest, NULL,
	    &rp.rx)) != 0)
		return r;
	rp.cb = cb;
	rp.arg = arg;
	r = tx->t->ops->stored(tx->t, chan_tx_replay_unit, &rp);
	chan_rx_close(rp.rx);
	return r;
}

void
chan_tx_close(struct chan_tx *tx)
{
	if (tx == NULL)
		return;
	if (tx->t != NULL)
		tx->t->ops->close(tx->t);
	buf_free(&tx->out);
	EVP_MD_CTX_free(tx->md);
	EVP_MD_CTX_free(tx->sign);
	EVP_PKEY_free(tx->key);
	OPENSSL_cleanse(tx, sizeof(*tx));
	free(tx);
}

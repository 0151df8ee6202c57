/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The receiving end of a ferry channel: stream resync, replay guard, seal checks, delivery. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

#define RX_PENDING_MAX	4096		/* frames awaiting a seal */
#define RX_FORKS_SEQ	2		/* frames held under one seq */
#define RX_FORKS_MAX	16		/* combinations a seal may try */
#define RX_CHUNK	(64 * 1024)	/* bytes per read(2) */
#define RX_READ_MAX	(4 * 1024 * 1024)	/* bytes per chan_rx_read */
#define RX_LAST_FILE	"rx-last"
#define RX_LAST_LEN	12		/* epoch(4) | last seq(8), LE */

/* A data frame held until a seal covers it: its encoded bytes are in pbuf. */
struct rx_pend {
	size_t		 off;
	size_t		 len;
	struct frame	 f;		/* payload set when reported */
};

struct chan_rx {
	struct transport	*t;		/* NULL: fed by chan_rx_feed */
	enum ferry_dir		 dir;
	EVP_PKEY		*key;		/* the sender's public key */
	uint8_t			 digest[SHA256_LEN];
	EVP_MD_CTX		*md;		/* chain hashing */
	EVP_MD_CTX		*verify;	/* seals */
	int			 state_fd;	/* rx-last, or -1 */

	struct buf		 in;		/* bytes not yet decoded */
	int			 resync;	/* skipping garbage, reported */

	struct buf		 pbuf;
	struct rx_pend		*pend;
	size_t			 npend;
	size_t			 pend_cap;

	/* What the last authentic seal established. */
	uint32_t		 epoch;
	uint64_t		 last;
	uint8_t			 chain[SHA256_LEN];
	int			 synced;	/* chain is valid for last */
	struct chan_rx_stats	 st;
	int			 unsaved;	/* durable transport: position not
						 * yet persisted (chan_rx_release) */
};

const char *
chan_verdict_name(int v)
{
	static const char *const names[] = {
		[CHAN_OK] = "ok",
		[CHAN_MALFORMED] = "malformed",
		[CHAN_BAD_SEAL] = "bad_seal",
		[CHAN_REPLAY] = "replay",
		[CHAN_GAP] = "gap",
		[CHAN_DIGEST] = "digest",
		[CHAN_OLD_EPOCH] = "old_epoch",
		[CHAN_UNSEALED] = "unsealed",
	};

	if (v < CHAN_OK || v > CHAN_UNSEALED)
		return "unknown";
	return names[v];
}

static int
chan_rx_load(struct chan_rx *rx, const char *state_dir)
{
	char		 path[PATH_MAX];
	uint8_t		 untrusted[RX_LAST_LEN];
	struct reader	 rd;
	struct stat	 st;
	uint32_t	 epoch;
	uint64_t	 last;
	ssize_t		 n;
	int		 fd, r;

	n = snprintf(path, sizeof(path), "%s/%s", state_dir, RX_LAST_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if ((r = mkdir_p(state_dir, 0700)) != 0)
		return r;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto fail;
	}
	if (st.st_size == 0) {
		rx->state_fd = fd;	/* a receiver that never delivered */
		return 0;
	}
	/* A damaged replay guard must not silently reset: fail closed. */
	if (st.st_size != RX_LAST_LEN) {
		r = -EINVAL;
		goto fail;
	}
	if ((n = pread(fd, untrusted, sizeof(untrusted), 0)) == -1) {
		r = -errno;
		goto fail;
	}
	reader_init(&rd, untrusted, (size_t)n);
	if (reader_get_u32(&rd, &epoch) != 0 ||
	    reader_get_u64(&rd, &last) != 0) {
		r = -EINVAL;
		goto fail;
	}
	rx->epoch = epoch;
	rx->last = last;
	rx->state_fd = fd;
	return 0;
 fail:
	close(fd);
	return r;
}

/* A replay guard, not a durability point: no fsync. */
static int
chan_rx_persist(struct chan_rx *rx)
{
	uint8_t		 b[RX_LAST_LEN];
	ssize_t		 n;
	int		 i;

	if (rx->state_fd == -1)
		return 0;
	for (i = 0; i < 4; i++)
		b[i] = (rx->epoch >> (8 * i)) & 0xff;
	for (i = 0; i < 8; i++)
		b[4 + i] = (rx->last >> (8 * i)) & 0xff;
	do {
		n = pwrite(rx->state_fd, b, sizeof(b), 0);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -errno;
	if (n != sizeof(b))
		return -EIO;
	return 0;
}

int
chan_rx_open(const char *endpoint, enum ferry_dir dir, EVP_PKEY *peer_key,
    const uint8_t digest[SHA256_LEN], const char *state_dir,
    struct chan_rx **ret)
{
	struct chan_rx	*rx;
	int		 r;

	if ((dir != FERRY_INWARD && dir != FERRY_OUTWARD) ||
	    peer_key == NULL || EVP_PKEY_get_id(peer_key) != EVP_PKEY_ED25519)
		return -EINVAL;
	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		return -ENOMEM;
	rx->dir = dir;
	rx->state_fd = -1;
	memcpy(rx->digest, digest, SHA256_LEN);
	buf_init(&rx->in, FRAME_LEN_MAX + RX_CHUNK);
	buf_init(&rx->pbuf, FERRY_BACKLOG_MAX);
	if ((rx->md = EVP_MD_CTX_new()) == NULL ||
	    (rx->verify = EVP_MD_CTX_new()) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (state_dir != NULL && (r = chan_rx_load(rx, state_dir)) != 0)
		goto fail;
	if (endpoint != NULL &&
	    (r = transport_open(endpoint, TRANSPORT_RX, &rx->t)) != 0)
		goto fail;
	if (EVP_PKEY_up_ref(peer_key) != 1) {
		r = -EIO;
		goto fail;
	}
	rx->key = peer_key;
	*ret = rx;
	return 0;
 fail:
	chan_rx_close(rx);
	return r;
}

int
chan_rx_fd(const struct chan_rx *rx)
{
	return rx->t != NULL ? rx->t->ops->fd(rx->t) : -1;
}

static void
chan_rx_clear(struct chan_rx *rx)
{
	rx->npend = 0;
	buf_reset(&rx->pbuf);
}

/* Every callback goes through here, to be counted. */
static void
chan_rx_emit(struct chan_rx *rx, chan_rx_cb *cb, void *arg,
    const struct frame *f, int verdict)
{
	if (verdict == CHAN_OK || verdict == CHAN_DIGEST)
		rx->st.delivered++;
	else if (f != NULL)
		rx->st.refused++;
	cb(arg, f, verdict);
}

/* Points a held frame's payload at its bytes in pbuf, for a callback. */
static const struct frame *
chan_rx_held(struct chan_rx *rx, struct rx_pend *p)
{
	/* The payload ends the frame; pbuf stays put meanwhile. */
	p->f.payload = rx->pbuf.data + p->off + p->len - p->f.payload_len;
	return &p->f;
}

/* Reports the first n held frames with verdict, in order, and forgets
 * them; the others stay held. */
static void
chan_rx_report_n(struct chan_rx *rx, size_t n, int verdict, chan_rx_cb *cb,
    void *arg)
{
	size_t	 i;

	if (n > 0) {		/* pend may be NULL when nothing was held */
		for (i = 0; i < n; i++)
			chan_rx_emit(rx, cb, arg,
			    chan_rx_held(rx, &rx->pend[i]), verdict);
		memmove(rx->pend, rx->pend + n,
		    (rx->npend - n) * sizeof(*rx->pend));
		rx->npend -= n;
	}
	if (rx->npend == 0)
		chan_rx_clear(rx);
}

/* Reports every pending frame with verdict, in order, and forgets them. */
static void
chan_rx_report(struct chan_rx *rx, int verdict, chan_rx_cb *cb, void *arg)
{
	chan_rx_report_n(rx, rx->npend, verdict, cb, arg);
}

/*
 * Moves the held frames' bytes to the front of pbuf, in their order, so
 * that frames held across seals (ahead of the seal that came) do not make
 * pbuf grow without end. Best effort: on failure pbuf stays as it was.
 */
static void
chan_rx_compact(struct chan_rx *rx)
{
	struct buf	 nb;
	size_t		 i, used = 0;

	if (rx->npend == 0) {
		buf_reset(&rx->pbuf);
		return;
	}
	for (i = 0; i < rx->npend; i++)
		used += rx->pend[i].len;
	if (used == rx->pbuf.len)
		return;
	buf_init(&nb, FERRY_BACKLOG_MAX);
	for (i = 0; i < rx->npend; i++) {
		if (buf_put(&nb, rx->pbuf.data + rx->pend[i].off,
		    rx->pend[i].len) != 0) {
			buf_free(&nb);
			return;
		}
	}
	used = 0;
	for (i = 0; i < rx->npend; i++) {
		rx->pend[i].off = used;
		used += rx->pend[i].len;
	}
	buf_free(&rx->pbuf);
	rx->pbuf = nb;
}

/*
 * Before an authentic seal of epoch is checked: held frames of any other
 * epoch cannot be covered by it. Older ones were left unsealed by a sender
 * that restarted; newer ones are ahead of their own seal, or forged. Both
 * are reported unsealed, so one injected frame cannot spoil the batch.
 */
static void
chan_rx_other_epochs(struct chan_rx *rx, uint32_t epoch, chan_rx_cb *cb,
    void *arg)
{
	struct rx_pend	*p;
	size_t		 i, keep = 0;

	for (i = 0; i < rx->npend; i++) {
		p = &rx->pend[i];
		if (p->f.epoch == epoch) {
			rx->pend[keep++] = *p;
			continue;
		}
		chan_rx_emit(rx, cb, arg, chan_rx_held(rx, p), CHAN_UNSEALED);
	}
	/* Kept frames' bytes stay where they are in pbuf. */
	rx->npend = keep;
	if (keep == 0)
		buf_reset(&rx->pbuf);
}

/* 1 if the held frame p has the same bytes as the len bytes at b. */
static int
chan_rx_same(const struct chan_rx *rx, const struct rx_pend *p,
    const uint8_t *b, size_t len)
{
	return p->len == len && memcmp(rx->pbuf.data + p->off, b, len) == 0;
}

static void
chan_rx_data(struct chan_rx *rx, const struct frame *f, const uint8_t *bytes,
    size_t len, chan_rx_cb *cb, void *arg)
{
	struct rx_pend	*p;
	size_t		 ncap, at, i, same_seq = 0;

	/*
	 * Nothing unsealed changes the receiver's state: a newer epoch is
	 * adopted only from an authentic seal (chan_rx_seal), or one forged
	 * frame could make every genuine one look old.
	 */
	if (f->epoch < rx->epoch) {
		chan_rx_emit(rx, cb, arg, f, CHAN_OLD_EPOCH);
		return;
	}
	if (f->epoch == rx->epoch && f->seq <= rx->last) {
		chan_rx_emit(rx, cb, arg, f, CHAN_REPLAY);
		return;
	}
	/*
	 * Held in (epoch, seq) order, so that a link that reorders does not
	 * spoil a batch. The same bytes again are a replay; other bytes under
	 * a seq already held are kept beside it (up to RX_FORKS_SEQ), and the
	 * seal decides which one it covers.
	 */
	at = rx->npend;
	while (at > 0 && (rx->pend[at - 1].f.epoch > f->epoch ||
	    (rx->pend[at - 1].f.epoch == f->epoch &&
	    rx->pend[at - 1].f.seq >= f->seq)))
		at--;
	for (i = at; i < rx->npend && rx->pend[i].f.epoch == f->epoch &&
	    rx->pend[i].f.seq == f->seq; i++) {
		if (chan_rx_same(rx, &rx->pend[i], bytes, len) ||
		    ++same_seq >= RX_FORKS_SEQ) {
			chan_rx_emit(rx, cb, arg, f, CHAN_REPLAY);
			return;
		}
	}
	at = i;
	if (rx->npend == RX_PENDING_MAX ||
	    len > FERRY_BACKLOG_MAX - rx->pbuf.len)
		goto overflow;
	if (rx->npend == rx->pend_cap) {
		ncap = rx->pend_cap == 0 ? 128 : rx->pend_cap * 2;
		if (ncap > RX_PENDING_MAX)
			ncap = RX_PENDING_MAX;
		p = reallocarray(rx->pend, ncap, sizeof(*p));
		if (p == NULL)
			goto overflow;
		rx->pend = p;
		rx->pend_cap = ncap;
	}
	if (buf_put(&rx->pbuf, bytes, len) != 0)
		goto overflow;
	memmove(rx->pend + at + 1, rx->pend + at,
	    (rx->npend - at) * sizeof(*rx->pend));
	p = &rx->pend[at];
	p->off = rx->pbuf.len - len;
	p->len = len;
	p->f = *f;
	p->f.payload = NULL;	/* bytes moved to pbuf, which may move */
	rx->npend++;
	return;
 overflow:
	/* More than a sender ever leaves unsealed: give up on the batch. */
	chan_rx_report(rx, CHAN_UNSEALED, cb, arg);
	chan_rx_emit(rx, cb, arg, f, CHAN_UNSEALED);
	rx->synced = 0;
}

/*
 * The held frames s covers are the first n (seq <= s->last; stale ones are
 * gone). 1 if they hold every seq s->first..s->last and one frame per seq
 * chains from s->prev_chain to s->chain; the choice is marked in pick.
 * Where a seq is held more than once (a forgery beside the genuine frame)
 * each combination is tried, at most RX_FORKS_MAX of them.
 */
static int
chan_rx_covers(struct chan_rx *rx, const struct seal *s, size_t n,
    uint8_t *pick)
{
	uint8_t		 c[SHA256_LEN];
	size_t		 i, combos = 1, k, g;
	uint64_t	 seq;

	/* Groups of equal seq must be exactly first..last. */
	seq = s->first;
	for (i = 0; i < n; i = g, seq++) {
		if (rx->pend[i].f.seq != seq)
			return 0;
		for (g = i + 1; g < n && rx->pend[g].f.seq == seq; g++)
			;
		if (combos > RX_FORKS_MAX / (g - i))
			return 0;
		combos *= g - i;
	}
	if (n == 0 || seq != s->last + 1)
		return 0;
	for (k = 0; k < combos; k++) {
		/* k in mixed radix picks one frame per seq. */
		size_t	 rest = k;

		memcpy(c, s->prev_chain, SHA256_LEN);
		memset(pick, 0, n);
		for (i = 0; i < n; i = g) {
			for (g = i + 1; g < n &&
			    rx->pend[g].f.seq == rx->pend[i].f.seq; g++)
				;
			pick[i + rest % (g - i)] = 1;
			if (chain_step(rx->md, c, rx->pbuf.data +
			    rx->pend[i + rest % (g - i)].off,
			    rx->pend[i + rest % (g - i)].len) != 0)
				return 0;
			rest /= g - i;
		}
		if (ct_equal(c, s->chain, SHA256_LEN))
			return 1;
	}
	return 0;
}

/*
 * A seal that does not verify is reported as itself and changes nothing:
 * anyone who can write to the channel could send one, and the frames held
 * may still be covered by their genuine seal. If that seal was damaged
 * instead, the next authentic one shows them stale (chan_rx_stale).
 */
static void
chan_rx_bad_seal(struct chan_rx *rx, const struct frame *f, chan_rx_cb *cb,
    void *arg)
{
	chan_rx_emit(rx, cb, arg, f, CHAN_BAD_SEAL);
}

/* Held frames of s's epoch before s->first: their own seal never came
 * through intact, so they can never be verified. */
static void
chan_rx_stale(struct chan_rx *rx, const struct seal *s, chan_rx_cb *cb,
    void *arg)
{
	struct rx_pend	*p;
	size_t		 i, keep = 0;

	for (i = 0; i < rx->npend; i++) {
		p = &rx->pend[i];
		if (p->f.seq >= s->first) {
			rx->pend[keep++] = *p;
			continue;
		}
		chan_rx_emit(rx, cb, arg, chan_rx_held(rx, p), CHAN_BAD_SEAL);
		/* Reported, not lost: no gap, but no chain through them. */
		rx->synced = 0;
	}
	rx->npend = keep;
	if (keep == 0)
		buf_reset(&rx->pbuf);
}

/* How many seqs after the last delivered, up to s->last, were never seen
 * (held frames of s's epoch are the ones seen). */
static uint64_t
chan_rx_unseen(const struct chan_rx *rx, const struct seal *s)
{
	uint64_t	 from, seen = 0, prev = 0;
	size_t		 i;

	from = s->epoch == rx->epoch ? rx->last : 0;
	if (s->last <= from)
		return 0;
	for (i = 0; i < rx->npend; i++) {
		if (rx->pend[i].f.epoch != s->epoch ||
		    rx->pend[i].f.seq <= from || rx->pend[i].f.seq > s->last ||
		    rx->pend[i].f.seq == prev)
			continue;
		prev = rx->pend[i].f.seq;
		seen++;
	}
	return s->last - from - seen;
}

static int
chan_rx_seal(struct chan_rx *rx, const struct frame *f, chan_rx_cb *cb,
    void *arg)
{
	struct rx_pend	*p;
	struct seal	 s;
	uint8_t		 pick[RX_PENDING_MAX];
	size_t		 i, n;

	if (seal_decode(f, &s) != 0) {
		chan_rx_bad_seal(rx, f, cb, arg);
		return 0;
	}
	/* Nothing new (a replayed or old seal): not worth a verification. */
	if (s.epoch < rx->epoch ||
	    (s.epoch == rx->epoch && s.first <= rx->last))
		return 0;
	/* The signature covers the sender's digest as sent: a different
	 * policy shows as CHAN_DIGEST on each frame, not as a bad seal. */
	if (seal_verify(rx->verify, rx->key, rx->dir, &s) != 0) {
		chan_rx_bad_seal(rx, f, cb, arg);
		return 0;
	}
	chan_rx_other_epochs(rx, s.epoch, cb, arg);
	rx->st.lost += chan_rx_unseen(rx, &s);
	chan_rx_stale(rx, &s, cb, arg);
	if (s.epoch > rx->epoch) {
		/* The sender restarted: the only way to a new epoch. */
		if (rx->epoch != 0 || rx->last != 0)
			rx->st.restarts++;
		rx->epoch = s.epoch;
		rx->last = 0;
		rx->synced = 0;
	}

	/* Held frames past s.last wait for their own seal. */
	for (n = 0; n < rx->npend && rx->pend[n].f.seq <= s.last; n++)
		;
	if (!chan_rx_covers(rx, &s, n, pick)) {
		/* Authentic seal, but what we hold was altered or partly
		 * lost; with nothing held, whole frames were lost. */
		if (n > 0)
			chan_rx_report_n(rx, n, CHAN_BAD_SEAL, cb, arg);
		else if (rx->synced)
			chan_rx_emit(rx, cb, arg, NULL, CHAN_GAP);
	} else {
		if (rx->synced && (s.first != rx->last + 1 ||
		    !ct_equal(s.prev_chain, rx->chain, SHA256_LEN)))
			chan_rx_emit(rx, cb, arg, NULL, CHAN_GAP);
		for (i = 0; i < n; i++) {
			p = &rx->pend[i];
			/* Another frame under a seq the seal chose: forged. */
			chan_rx_emit(rx, cb, arg, chan_rx_held(rx, p),
			    !pick[i] ? CHAN_BAD_SEAL :
			    memcmp(p->f.digest, rx->digest, SHA256_LEN) == 0 ?
			    CHAN_OK : CHAN_DIGEST);
		}
		memmove(rx->pend, rx->pend + n,
		    (rx->npend - n) * sizeof(*rx->pend));
		rx->npend -= n;
	}
	chan_rx_compact(rx);
	rx->last = s.last;
	memcpy(rx->chain, s.chain, SHA256_LEN);
	rx->synced = 1;
	/* With a durable transport the position is saved once the daemon
	 * has acted on the unit (chan_rx_release): a crash before that
	 * delivers the unit again rather than skip it. */
	if (rx->t != NULL && rx->t->ops->release != NULL) {
		rx->unsaved = 1;
		return 0;
	}
	return chan_rx_persist(rx);
}

/* Where to look for a frame after undecodable bytes at off: the next magic,
 * or the last 3 bytes, which may be the start of one. */
static size_t
chan_rx_skip(const struct buf *in, size_t off)
{
	const uint8_t	*m;
	size_t		 next = off + 1;

	m = memmem(in->data + next, in->len - next, FRAME_MAGIC, 4);
	if (m != NULL)
		return (size_t)(m - in->data);
	if (in->len >= 3 && in->len - 3 > next)
		next = in->len - 3;
	return next;
}

/* Decodes and handles every complete frame in rx->in. */
static int
chan_rx_process(struct chan_rx *rx, chan_rx_cb *cb, void *arg)
{
	struct frame	 f;
	size_t		 off = 0, used;
	int		 r, err = 0;

	while (off < rx->in.len) {
		r = frame_decode(rx->in.data + off, rx->in.len - off, &f,
		    &used);
		if (r == -EAGAIN)
			break;
		if (r != 0) {
			/* One report per run of garbage. */
			if (!rx->resync)
				chan_rx_emit(rx, cb, arg, NULL,
				    CHAN_MALFORMED);
			rx->resync = 1;
			off = chan_rx_skip(&rx->in, off);
			continue;
		}
		rx->resync = 0;
		if (f.kind == FRAME_SEAL)
			r = chan_rx_seal(rx, &f, cb, arg);
		else {
			chan_rx_data(rx, &f, rx->in.data + off, used, cb, arg);
			r = 0;
		}
		if (r != 0 && err == 0)
			err = r;
		off += used;
	}
	buf_consume(&rx->in, off);
	return err;
}

int
chan_rx_feed(struct chan_rx *rx, const uint8_t *untrusted, size_t len,
    chan_rx_cb *cb, void *arg)
{
	struct reader	 rd;
	const uint8_t	*chunk;
	size_t		 n;
	int		 r, err = 0;

	reader_init(&rd, untrusted, len);
	while (reader_left(&rd) > 0) {
		/* What is left undecoded is less than one frame, so there is
		 * always room for more. */
		n = rx->in.max - rx->in.len;
		if (n > reader_left(&rd))
			n = reader_left(&rd);
		if ((r = reader_get_bytes(&rd, n, &chunk)) != 0 ||
		    (r = buf_put(&rx->in, chunk, n)) != 0)
			return r;
		if ((r = chan_rx_process(rx, cb, arg)) != 0 && err == 0)
			err = r;
	}
	return err;
}

int
chan_rx_read(struct chan_rx *rx, chan_rx_cb *cb, void *arg)
{
	size_t	 n, total = 0;
	int	 r, err = 0;

	if (rx->t == NULL)
		return -EINVAL;
	/* Bounded per call so one busy channel cannot starve the loop; a
	 * durable unit is read whole (at most SPOOL_FILE_MAX), since no
	 * wake-up would come for the rest of it. */
	while (total < RX_READ_MAX || rx->t->ops->release != NULL) {
		if ((r = buf_reserve(&rx->in, RX_CHUNK)) != 0)
			return r;
		r = rx->t->ops->recv(rx->t, rx->in.data + rx->in.len,
		    RX_CHUNK, &n);
		if (r == -EAGAIN)
			break;
		if (r == -EPIPE || r == -ENOMSG || r == -EBADMSG) {
			/* The writer left, or a durable unit ended: a
			 * partial frame will never end, and what it did not
			 * seal never will be. */
			if (r == -EBADMSG)
				cb(arg, NULL, CHAN_MALFORMED);
			buf_reset(&rx->in);
			rx->resync = 0;
			chan_rx_report(rx, CHAN_UNSEALED, cb, arg);
			return r == -EPIPE ? -EPIPE : 1;
		}
		if (r != 0)
			return r;
		rx->in.len += n;
		total += n;
		if ((r = chan_rx_process(rx, cb, arg)) != 0 && err == 0)
			err = r;
	}
	return err;
}

int
chan_rx_configure(struct chan_rx *rx, const struct ferry_link *l)
{
	struct ferry_link	 lk = *l;

	if (rx->t == NULL || rx->t->ops->configure == NULL)
		return 0;
	lk.dir = rx->dir;	/* the link key's tags differ by direction */
	return rx->t->ops->configure(rx->t, &lk);
}

void
chan_rx_stats(const struct chan_rx *rx, struct chan_rx_stats *ret)
{
	*ret = rx->st;
	memset(&ret->link, 0, sizeof(ret->link));
	if (rx->t != NULL && rx->t->ops->stats != NULL)
		rx->t->ops->stats(rx->t, &ret->link);
}

int
chan_rx_release(struct chan_rx *rx, int quarantine)
{
	int	 r;

	if (rx->t == NULL || rx->t->ops->release == NULL)
		return 0;
	if (rx->unsaved) {
		if ((r = chan_rx_persist(rx)) != 0)
			return r;
		rx->unsaved = 0;
	}
	return rx->t->ops->release(rx->t, quarantine);
}

int
chan_rx_archive(struct chan_rx *rx, int on)
{
	if (rx->t == NULL || rx->t->ops->archive == NULL)
		return -ENOTSUP;
	return rx->t->ops->archive(rx->t, on);
}

void
chan_rx_position(const struct chan_rx *rx, uint32_t *ret_epoch,
    uint64_t *ret_last)
{
	*ret_epoch = rx->epoch;
	*ret_last = rx->last;
}

void
chan_rx_close(struct chan_rx *rx)
{
	if (rx == NULL)
		return;
	if (rx->t != NULL)
		rx->t->ops->close(rx->t);
	if (rx->state_fd != -1)
		close(rx->state_fd);
	buf_free(&rx->in);
	buf_free(&rx->pbuf);
	free(rx->pend);
	EVP_MD_CTX_free(rx->md);
	EVP_MD_CTX_free(rx->verify);
	EVP_PKEY_free(rx->key);
	free(rx);
}

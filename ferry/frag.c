/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Link fragments for eth:: the header codec, and bounded reassembly that restores order and drops duplicates. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

static void
le_put(uint8_t *p, uint64_t v, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

void
frag_put_header(uint8_t p[FRAG_HDR_LEN], const struct frag_hdr *h)
{
	memcpy(p, FRAG_MAGIC, 4);
	p[4] = FRAG_VERSION;
	p[5] = h->type;
	le_put(p + 6, h->count, 2);
	le_put(p + 8, h->session, 4);
	le_put(p + 12, h->msg, 8);
	le_put(p + 20, h->index, 2);
	le_put(p + 22, h->data_len, 2);
	le_put(p + 24, h->total, 4);
	le_put(p + 28, h->seq, 4);
}

int
frag_decode(const uint8_t *untrusted, size_t len, struct frag_hdr *ret,
    const uint8_t **ret_data)
{
	struct reader	 rd;
	struct frag_hdr	 h;
	const uint8_t	*magic, *tag, *data = NULL;
	uint8_t		 version;

	memset(&h, 0, sizeof(h));
	reader_init(&rd, untrusted, len);
	if (reader_get_bytes(&rd, 4, &magic) != 0 ||
	    memcmp(magic, FRAG_MAGIC, 4) != 0 ||
	    reader_get_u8(&rd, &version) != 0 || version != FRAG_VERSION ||
	    reader_get_u8(&rd, &h.type) != 0 ||
	    reader_get_u16(&rd, &h.count) != 0 ||
	    reader_get_u32(&rd, &h.session) != 0 ||
	    reader_get_u64(&rd, &h.msg) != 0 ||
	    reader_get_u16(&rd, &h.index) != 0 ||
	    reader_get_u16(&rd, &h.data_len) != 0 ||
	    reader_get_u32(&rd, &h.total) != 0 ||
	    reader_get_u32(&rd, &h.seq) != 0 ||
	    reader_get_bytes(&rd, LINK_TAG_LEN, &tag) != 0)
		return -EBADMSG;
	if (h.msg == 0)
		return -EBADMSG;
	switch (h.type) {
	case FRAG_HEARTBEAT:
		if (h.count != 0 || h.index != 0 || h.data_len != 0 ||
		    h.total != 0 || h.seq != 0)
			return -EBADMSG;
		break;
	case FRAG_PARITY:
		/* msg: the group's first seq; the data: at least a header,
		 * at most a link packet. */
		if (h.count > FRAG_PARITY_MAX)
			return -E2BIG;
		if (h.count == 0 || h.index != 0 ||
		    h.total != 0 || h.seq != 0 ||
		    h.msg > (uint64_t)UINT32_MAX - h.count + 1 ||
		    h.data_len <= FRAG_HDR_LEN ||
		    h.data_len > FRAG_PKT_MAX - FRAG_HDR_LEN ||
		    reader_get_bytes(&rd, h.data_len, &data) != 0)
			return -EBADMSG;
		break;
	case FRAG_DATA:
		/* Limits before consistency: an oversized count is E2BIG. */
		if (h.count > FRAG_COUNT_MAX || h.total > FRAG_TOTAL_MAX)
			return -E2BIG;
		if (h.count == 0 || h.index >= h.count || h.total == 0 ||
		    h.data_len == 0 || h.data_len > h.total)
			return -EBADMSG;
		/* Fragments tile the frame: all but the last carry the same
		 * size (checked across them in frag_rx_input) and end before
		 * it, the last ends it. The offset follows. */
		if (h.index + 1 < h.count) {
			h.offset = (uint32_t)h.index * h.data_len;
			if ((uint64_t)h.offset + h.data_len >= h.total)
				return -EBADMSG;
		} else {
			/* The last: after index fragments of one size, no
			 * shorter than it. */
			h.offset = h.total - h.data_len;
			if (h.index == 0 ? h.offset != 0 :
			    h.offset % h.index != 0 ||
			    h.data_len > h.offset / h.index)
				return -EBADMSG;
		}
		/* Ethernet pads short frames: bytes past data_len. */
		if (reader_get_bytes(&rd, h.data_len, &data) != 0)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	*ret = h;
	*ret_data = data;
	return 0;
}

void
frag_rx_init(struct frag_rx *fr, uint64_t timeout_ns)
{
	memset(fr, 0, sizeof(*fr));
	fr->timeout_ns = timeout_ns;
}

static void
frag_slot_free(struct frag_rx *fr, struct frag_slot *s)
{
	fr->bytes -= s->total;
	fr->nused--;
	free(s->data);
	memset(s, 0, sizeof(*s));
}

void
frag_rx_key(struct frag_rx *fr, struct linkmac *mac)
{
	fr->mac = mac;
}

void
frag_rx_free(struct frag_rx *fr)
{
	size_t	 i;

	for (i = 0; i < FRAG_SLOTS_MAX; i++)
		if (fr->slots[i].used)
			frag_slot_free(fr, &fr->slots[i]);
	for (i = 0; i < FRAG_PAR_RING; i++) {
		free(fr->par[i].pkt);
		memset(&fr->par[i], 0, sizeof(fr->par[i]));
	}
	free(fr->rebuilt);
	fr->rebuilt = NULL;
	fr->par_bytes = 0;
}

/* The session's entry, made (evicting the least recently heard one and
 * its slots) if new. */
static struct frag_sess *
frag_session(struct frag_rx *fr, uint32_t id, uint64_t now)
{
	struct frag_sess	*old = NULL;
	size_t			 i;

	for (i = 0; i < FRAG_SESSIONS; i++) {
		if (fr->sess[i].used && fr->sess[i].id == id) {
			fr->sess[i].heard_ns = now;
			return &fr->sess[i];
		}
		if (old == NULL || !fr->sess[i].used ||
		    (old->used && fr->sess[i].heard_ns < old->heard_ns))
			old = &fr->sess[i];
	}
	if (old->used) {
		for (i = 0; i < FRAG_SLOTS_MAX; i++)
			if (fr->slots[i].used &&
			    fr->slots[i].session == old->id)
				frag_slot_free(fr, &fr->slots[i]);
	}
	/* More than one session heard: the sender restarted (or another
	 * sender, genuine or not, is on the link; the seals decide). */
	if (fr->nsessions++ > 0)
		fr->st.sessions++;
	memset(old, 0, sizeof(*old));
	old->used = 1;
	old->id = id;
	old->next = 1;
	old->heard_ns = now;
	return old;
}

static struct frag_slot *
frag_slot_find(struct frag_rx *fr, uint32_t session, uint64_t msg)
{
	size_t	 i;

	/* Frames are passed on as soon as they are due: mostly none held,
	 * and the fragments of one frame come one after the other. */
	if (fr->nused == 0)
		return NULL;
	if (fr->last != NULL && fr->last->used &&
	    fr->last->session == session && fr->last->msg == msg)
		return fr->last;
	for (i = 0; i < FRAG_SLOTS_MAX; i++)
		if (fr->slots[i].used && fr->slots[i].session == session &&
		    fr->slots[i].msg == msg)
			return fr->last = &fr->slots[i];
	return NULL;
}

/*
 * A free slot with room for total bytes, evicting the oldest incomplete
 * frames if need be (they would time out first anyway). Complete frames
 * are not evicted: they wait behind a gap, so the gap is declared lost at
 * the next release (stuck) and NULL says to release and try again.
 */
static struct frag_slot *
frag_slot_new(struct frag_rx *fr, uint32_t total)
{
	struct frag_slot	*s, *old;
	size_t			 i;

	for (;;) {
		s = old = NULL;
		for (i = 0; i < FRAG_SLOTS_MAX; i++) {
			if (!fr->slots[i].used) {
				if (s == NULL)
					s = &fr->slots[i];
				continue;
			}
			if (fr->slots[i].nhave == fr->slots[i].count)
				continue;
			if (old == NULL ||
			    fr->slots[i].first_ns < old->first_ns)
				old = &fr->slots[i];
		}
		if (s != NULL && total <= FRAG_BYTES_MAX - fr->bytes)
			break;
		if (old == NULL) {
			fr->stuck = 1;
			return NULL;
		}
		fr->st.evicted++;
		frag_slot_free(fr, old);
	}
	if ((s->data = malloc(total)) == NULL)
		return NULL;
	fr->bytes += total;
	return s;
}

/* Moves ss->next up to msg: what is below is lost, held or not. */
static void
frag_advance(struct frag_rx *fr, struct frag_sess *ss, uint64_t msg)
{
	size_t	 i;

	for (i = 0; i < FRAG_SLOTS_MAX; i++)
		if (fr->slots[i].used && fr->slots[i].session == ss->id &&
		    fr->slots[i].msg < msg)
			frag_slot_free(fr, &fr->slots[i]);
	fr->st.lost += msg - ss->next;
	ss->next = msg;
	ss->hb_ns = 0;
}

int
frag_rx_input(struct frag_rx *fr, const uint8_t *untrusted, size_t len,
    uint64_t now)
{
	return frag_rx_input_out(fr, untrusted, len, now, NULL);
}

/* Keeps an authentic data packet of a parity group (its header and data,
 * not the Ethernet padding) for its group's parity packet. */
static void
frag_par_keep(struct frag_rx *fr, const struct frag_hdr *h,
    const uint8_t *pkt, uint64_t now)
{
	struct frag_par	*p = &fr->par[h->seq % FRAG_PAR_RING];
	size_t		 len = FRAG_HDR_LEN + (size_t)h->data_len;

	if (len > FRAG_PKT_MAX - FRAG_HDR_LEN)
		return;		/* no parity packet could cover it */
	if (p->pkt == NULL) {
		if ((p->pkt = malloc(FRAG_PKT_MAX)) == NULL)
			return;	/* its group cannot be rebuilt, that is all */
		fr->par_bytes += FRAG_PKT_MAX;
	}
	memcpy(p->pkt, pkt, len);
	p->session = h->session;
	p->seq = h->seq;
	p->len = len;
	p->heard_ns = now;
}

static int	frag_input(struct frag_rx *, const uint8_t *, size_t, uint64_t,
		    struct buf *, uint32_t, uint32_t);

/*
 * A parity packet (authentic): when exactly one data packet of its group
 * is missing (never heard, or heard a timeout ago or more: its group was
 * given up), the XOR of the parity's data and the others' bytes is that
 * packet, bit for bit, tag included. It then goes through the input path
 * like any packet, its tag checked first: a parity that yields garbage
 * only costs a bad_tag. Two missing: nothing to do (they are lost as
 * without parity); none: the parity was not needed.
 */
static int
frag_parity(struct frag_rx *fr, const struct frag_hdr *h,
    const uint8_t *data, uint64_t now, struct buf *out)
{
	struct frag_par	*p, *have[FRAG_PARITY_MAX];
	uint32_t	 seq, missing = 0;
	size_t		 i, j, n = 0;
	int		 r;

	for (i = 0; i < h->count; i++) {
		seq = (uint32_t)h->msg + (uint32_t)i;
		p = &fr->par[seq % FRAG_PAR_RING];
		if (p->len != 0 && now >= p->heard_ns &&
		    now - p->heard_ns >= fr->timeout_ns)
			p->len = 0;	/* given up: its time has passed */
		if (p->len == 0 || p->session != h->session || p->seq != seq) {
			if (missing != 0)
				return 0;	/* two missing */
			missing = seq;
			continue;
		}
		/* Each member is as long as the parity at most. */
		if (p->len > h->data_len) {
			fr->st.malformed++;
			return -EBADMSG;
		}
		have[n++] = p;
	}
	if (missing == 0)
		return 0;
	if (fr->rebuilt == NULL) {
		if ((fr->rebuilt = malloc(FRAG_PKT_MAX)) == NULL)
			return -ENOMEM;
		fr->par_bytes += FRAG_PKT_MAX;
	}
	memcpy(fr->rebuilt, data, h->data_len);
	for (i = 0; i < n; i++)
		for (j = 0; j < have[i]->len; j++)
			fr->rebuilt[j] ^= have[i]->pkt[j];
	if ((r = frag_input(fr, fr->rebuilt, h->data_len, now, out,
	    h->session, missing)) == 0)
		fr->st.recovered++;
	return r;
}

/* The frame just completed in s, or carried whole by one packet (s NULL,
 * data), is due: to out. ss->next moves on. */
static int
frag_deliver(struct frag_rx *fr, struct frag_sess *ss, struct frag_slot *s,
    const uint8_t *data, size_t len, uint64_t now, struct buf *out)
{
	int	 r;

	if ((r = buf_put(out, s != NULL ? s->data : data, len)) != 0)
		return r;
	fr->st.frames++;
	if (s != NULL)
		frag_slot_free(fr, s);
	ss->next++;
	ss->hb_ns = 0;
	if (ss->sent >= ss->next)
		ss->hb_ns = now;
	return 0;
}

int
frag_rx_input_out(struct frag_rx *fr, const uint8_t *untrusted, size_t len,
    uint64_t now, struct buf *out)
{
	return frag_input(fr, untrusted, len, now, out, 0, 0);
}

/* One link packet; when rebuilt_seq is not 0, one rebuilt from parity,
 * which must be the data packet of that seq and session. */
static int
frag_input(struct frag_rx *fr, const uint8_t *untrusted, size_t len,
    uint64_t now, struct buf *out, uint32_t rebuilt_session,
    uint32_t rebuilt_seq)
{
	struct frag_hdr		 h;
	struct frag_sess	*ss;
	struct frag_slot	*s;
	const uint8_t		*data;
	int			 r;

	if ((r = linkmac_verify(fr->mac, untrusted, len)) != 0) {
		if (r == -EKEYREJECTED)
			fr->st.bad_tag++;
		else
			fr->st.malformed++;
		return r;
	}
	if ((r = frag_decode(untrusted, len, &h, &data)) != 0) {
		if (r == -E2BIG)
			fr->st.oversized++;
		else
			fr->st.malformed++;
		return r;
	}
	if (rebuilt_seq != 0 && (h.type != FRAG_DATA ||
	    h.session != rebuilt_session || h.seq != rebuilt_seq)) {
		fr->st.malformed++;
		return -EBADMSG;
	}
	if (h.type == FRAG_PARITY)
		return frag_parity(fr, &h, data, now, out);
	if (h.seq != 0)
		frag_par_keep(fr, &h, untrusted, now);
	ss = frag_session(fr, h.session, now);
	if (h.type == FRAG_HEARTBEAT) {
		fr->st.heartbeats++;
		/* Everything up to h.msg was sent: what is missing below it
		 * is lost, not late, once the timeout has passed. As for
		 * data, no further than the window: a forged heartbeat must
		 * not skip the session past every genuine msg to come. */
		if (h.msg >= ss->next && h.msg - ss->next >= FRAG_WINDOW)
			h.msg = ss->next + FRAG_WINDOW - 1;
		if (h.msg > ss->sent)
			ss->sent = h.msg;
		if (ss->sent >= ss->next && ss->hb_ns == 0)
			ss->hb_ns = now;
		return 0;
	}
	if (h.msg < ss->next) {
		fr->st.duplicates++;
		return -EALREADY;
	}
	if (h.msg - ss->next >= FRAG_WINDOW) {
		/* Far ahead of what is awaited: a sender that raced on while
		 * this end lost packets (or a forgery, which can cost what
		 * dropping packets on the link could). Give up on what the
		 * window left behind. */
		fr->st.out_of_window++;
		frag_advance(fr, ss, h.msg - FRAG_WINDOW + 1);
	}
	s = frag_slot_find(fr, h.session, h.msg);
	/* The common case, a frame in one packet and the one awaited, goes
	 * out at once, without a slot (when out has room; else as any). */
	if (s == NULL && out != NULL && h.count == 1 && h.msg == ss->next &&
	    !fr->stuck && frag_deliver(fr, ss, NULL, data, h.data_len, now,
	    out) == 0) {
		fr->st.fragments++;
		return 0;
	}
	if (s == NULL) {
		if ((s = frag_slot_new(fr, h.total)) == NULL)
			return -ENOBUFS;
		s->used = 1;
		fr->nused++;
		fr->last = s;
		s->session = h.session;
		s->msg = h.msg;
		s->count = h.count;
		s->total = h.total;
		s->first_ns = now;
	} else if (s->count != h.count || s->total != h.total) {
		fr->st.malformed++;
		return -EBADMSG;
	}
	if (s->have[h.index / 8] & (1U << (h.index % 8))) {
		fr->st.duplicates++;
		return -EALREADY;
	}
	/* One fragment size for the frame, and the last one where it says. */
	if (h.index + 1 < h.count) {
		if (s->room != 0 && s->room != h.data_len)
			goto bad;
		s->room = h.data_len;
	}
	if (s->room != 0 && h.offset != (uint32_t)h.index * s->room)
		goto bad;
	if ((uint64_t)s->room * (s->count - 1) >= s->total)
		goto bad;
	memcpy(s->data + h.offset, data, h.data_len);
	s->have[h.index / 8] |= 1U << (h.index % 8);
	s->nhave++;
	s->got += h.data_len;
	fr->st.fragments++;
	return 0;
 bad:
	fr->st.malformed++;
	return -EBADMSG;
}

static struct frag_slot *
frag_first_after(struct frag_rx *fr, const struct frag_sess *ss)
{
	struct frag_slot	*best = NULL;
	size_t			 i;

	if (fr->nused == 0)
		return NULL;
	for (i = 0; i < FRAG_SLOTS_MAX; i++) {
		if (!fr->slots[i].used || fr->slots[i].session != ss->id ||
		    fr->slots[i].msg <= ss->next)
			continue;
		if (best == NULL || fr->slots[i].msg < best->msg)
			best = &fr->slots[i];
	}
	return best;
}

/* One step for a session: 1 if a frame went to out, 0 if nothing
 * changed, 2 if the session moved on without delivering. */
static int
frag_step(struct frag_rx *fr, struct frag_sess *ss, uint64_t now,
    struct buf *out, int *err)
{
	struct frag_slot	*s, *later;
	uint64_t		 since;
	int			 r;

	s = frag_slot_find(fr, ss->id, ss->next);
	if (s != NULL && s->nhave == s->count) {
		if (s->got != s->total) {
			/* Fragments that do not tile the frame. */
			fr->st.malformed++;
			frag_slot_free(fr, s);
			ss->next++;
			return 2;
		}
		if ((r = frag_deliver(fr, ss, s, NULL, s->total, now,
		    out)) != 0) {
			*err = r;
			return 0;
		}
		return 1;
	}
	if (s != NULL) {
		if (!fr->stuck && now - s->first_ns < fr->timeout_ns)
			return 0;
		fr->st.lost++;
		frag_slot_free(fr, s);
		ss->next++;
		return 2;
	}
	/* ss->next is missing: lost once something later has waited for
	 * it a whole timeout, or a heartbeat said it was sent that long
	 * ago. */
	later = frag_first_after(fr, ss);
	since = later != NULL ? later->first_ns : 0;
	if (ss->hb_ns != 0 && ss->sent >= ss->next &&
	    (since == 0 || ss->hb_ns < since))
		since = ss->hb_ns;
	if (fr->stuck && later != NULL)
		since = now - fr->timeout_ns;	/* no room to wait: lost now */
	if (since == 0 || now - since < fr->timeout_ns)
		return 0;
	if (later != NULL) {
		fr->st.lost += later->msg - ss->next;
		ss->next = later->msg;
	} else {
		fr->st.lost += ss->sent + 1 - ss->next;
		ss->next = ss->sent + 1;
	}
	ss->hb_ns = 0;
	return 2;
}

int
frag_rx_release(struct frag_rx *fr, uint64_t now, struct buf *out)
{
	size_t	 i;
	int	 err = 0, moved;

	do {
		moved = 0;
		for (i = 0; i < FRAG_SESSIONS && err == 0; i++) {
			if (!fr->sess[i].used)
				continue;
			while (frag_step(fr, &fr->sess[i], now, out, &err) != 0)
				moved = 1;
		}
	} while (moved && err == 0);
	if (err == 0)
		fr->stuck = 0;
	/* out is full: the rest waits for the next call. */
	return err == -ENOBUFS ? 0 : err;
}

uint64_t
frag_rx_deadline(const struct frag_rx *fr)
{
	const struct frag_slot	*s;
	uint64_t		 d = 0, t;
	size_t			 i, j;

	for (i = 0; fr->nused > 0 && i < FRAG_SLOTS_MAX; i++) {
		s = &fr->slots[i];
		if (!s->used)
			continue;
		t = s->first_ns + fr->timeout_ns;
		if (d == 0 || t < d)
			d = t;
	}
	for (j = 0; j < FRAG_SESSIONS; j++) {
		if (!fr->sess[j].used || fr->sess[j].hb_ns == 0)
			continue;
		t = fr->sess[j].hb_ns + fr->timeout_ns;
		if (d == 0 || t < d)
			d = t;
	}
	return d;
}

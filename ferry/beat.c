/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Heartbeat payloads: the receiver's position, and the echo that measures clock offset over two one-way channels. */

#include <errno.h>
#include <string.h>

#include "ferry/ferry.h"

int
beat_encode(const struct beat *b, struct buf *out)
{
	int	 r;

	if ((r = buf_put_u64(out, b->echo_time)) != 0 ||
	    (r = buf_put_u64(out, b->echo_rx)) != 0 ||
	    (r = buf_put_u32(out, b->pos_epoch)) != 0 ||
	    (r = buf_put_u64(out, b->pos_seq)) != 0)
		return r;
	return 0;
}

int
beat_decode(const uint8_t *untrusted, size_t len, struct beat *ret)
{
	struct reader	 rd;
	struct beat	 b;

	/* A fixed-size field: the exact length, not "at least". */
	if (len != BEAT_LEN)
		return -EBADMSG;
	reader_init(&rd, untrusted, len);
	if (reader_get_u64(&rd, &b.echo_time) != 0 ||
	    reader_get_u64(&rd, &b.echo_rx) != 0 ||
	    reader_get_u32(&rd, &b.pos_epoch) != 0 ||
	    reader_get_u64(&rd, &b.pos_seq) != 0)
		return -EBADMSG;
	/* An echo is both times or neither, and never from the future of
	 * the time it was received. */
	if ((b.echo_time == 0) != (b.echo_rx == 0) ||
	    b.echo_time > INT64_MAX || b.echo_rx > INT64_MAX)
		return -EBADMSG;
	*ret = b;
	return 0;
}

/*
 * NTP's on-wire formula over the two channels: t1 our heartbeat's send
 * time (echoed), t2 when the other side received it (its clock), t3 when
 * it sent this heartbeat (its clock), t4 now (ours). The offset is exact
 * when the two directions take as long; it is off by at most delay / 2.
 */
int
beat_skew(const struct beat *b, uint64_t t3, uint64_t t4, uint64_t tol_ns,
    int64_t *ret_offset, int64_t *ret_delay)
{
	int64_t	 t1, t2, offset, delay, mag;

	if (b->echo_time == 0 || t3 > INT64_MAX || t4 > INT64_MAX)
		return -EAGAIN;
	t1 = (int64_t)b->echo_time;
	t2 = (int64_t)b->echo_rx;
	/* Halves first: no overflow for any times below 2^63. */
	offset = (t2 / 2 - t1 / 2) + ((int64_t)t3 / 2 - (int64_t)t4 / 2);
	delay = ((int64_t)t4 - t1) - ((int64_t)t3 - t2);
	if (delay < 0)
		delay = 0;
	mag = offset < 0 ? -offset : offset;
	*ret_offset = offset;
	*ret_delay = delay;
	if (mag > delay / 2 && (uint64_t)(mag - delay / 2) > tol_ns)
		return 1;
	if ((uint64_t)mag + (uint64_t)delay / 2 <= tol_ns)
		return 0;
	return -EAGAIN;		/* the delay hides the answer */
}

void
beat_sent_add(struct beat_sent *s, uint64_t time_ns)
{
	s->t[s->next++ % BEAT_SENT] = time_ns;
}

int
beat_sent_has(const struct beat_sent *s, uint64_t time_ns)
{
	size_t	 i;

	if (time_ns == 0)
		return 0;
	for (i = 0; i < BEAT_SENT; i++)
		if (s->t[i] == time_ns)
			return 1;
	return 0;
}

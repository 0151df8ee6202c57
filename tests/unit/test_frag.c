/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the eth: link packet codec and reassembly (ferry/frag.c). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ferry/transport.h"
#include "tests/unit/frag_fixtures.h"

static uint8_t		 pkt[FRAG_HDR_LEN + 2048];

/* Tags pkt (len bytes: header and data) with the tests' key. */
static size_t
tag(size_t len)
{
	assert_int_equal(linkmac_tag(lm, pkt, len - FRAG_HDR_LEN), 0);
	return len;
}

/* Builds the link packet for fragment index of a frame of total bytes
 * cut in pieces of room bytes; the data byte at offset o is o % 251. */
static size_t
mk(uint32_t session, uint64_t msg, uint32_t total, uint32_t room,
    uint16_t index)
{
	struct frag_hdr	 h;
	uint32_t	 i;

	memset(&h, 0, sizeof(h));
	h.type = FRAG_DATA;
	h.session = session;
	h.msg = msg;
	h.count = (uint16_t)((total + room - 1) / room);
	h.index = index;
	h.offset = index * room;
	h.total = total;
	h.data_len = (uint16_t)(total - h.offset < room ? total - h.offset :
	    room);
	frag_put_header(pkt, &h);
	for (i = 0; i < h.data_len; i++)
		pkt[FRAG_HDR_LEN + i] = (uint8_t)((h.offset + i + msg) % 251);
	return tag(FRAG_HDR_LEN + h.data_len);
}

static size_t
mk_hb(uint32_t session, uint64_t msg)
{
	struct frag_hdr	 h;

	memset(&h, 0, sizeof(h));
	h.type = FRAG_HEARTBEAT;
	h.session = session;
	h.msg = msg;
	frag_put_header(pkt, &h);
	return tag(FRAG_HDR_LEN);
}

/* Splits got into frames of the sizes given (0-terminated) and checks
 * their bytes; returns how many there were. */
static int
check_frames(const struct buf *got, const uint32_t *sizes, const uint64_t *msgs)
{
	size_t		 off = 0;
	uint32_t	 i;
	int		 n;

	for (n = 0; sizes[n] != 0; n++) {
		assert_true(off + sizes[n] <= got->len);
		for (i = 0; i < sizes[n]; i++)
			assert_int_equal(got->data[off + i],
			    (uint8_t)((i + msgs[n]) % 251));
		off += sizes[n];
	}
	assert_int_equal(off, got->len);
	return n;
}

static void
test_codec(void **state)
{
	struct frag_hdr	 h;
	const uint8_t	*d;
	size_t		 len;
	uint8_t		 padded[FRAG_HDR_LEN + 64];

	(void)state;
	len = mk(7, 3, 100, 40, 2);
	assert_int_equal(frag_decode(pkt, len, &h, &d), 0);
	assert_int_equal(h.type, FRAG_DATA);
	assert_int_equal(h.session, 7);
	assert_true(h.msg == 3);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.index, 2);
	assert_int_equal(h.offset, 80);
	assert_int_equal(h.data_len, 20);
	assert_ptr_equal(d, pkt + FRAG_HDR_LEN);
	/* Ethernet padding after the data is allowed. */
	memset(padded, 0, sizeof(padded));
	memcpy(padded, pkt, len);
	assert_int_equal(frag_decode(padded, sizeof(padded), &h, &d), 0);
	/* Short by one byte of data, or of header. */
	assert_int_equal(frag_decode(pkt, len - 1, &h, &d), -EBADMSG);
	assert_int_equal(frag_decode(pkt, FRAG_HDR_LEN - 1, &h, &d), -EBADMSG);
	assert_int_equal(frag_decode(pkt, 0, &h, &d), -EBADMSG);

	len = mk_hb(7, 9);
	assert_int_equal(frag_decode(pkt, len, &h, &d), 0);
	assert_int_equal(h.type, FRAG_HEARTBEAT);
	assert_null(d);
}

/* Each field out of range, one at a time. */
static void
test_codec_rejects(void **state)
{
	struct frag_hdr	 h;
	const uint8_t	*d;
	size_t		 len;

	(void)state;
#define BAD(off, val, want) do {				\
	len = mk(7, 3, 100, 40, 1);				\
	pkt[off] = (val);					\
	assert_int_equal(frag_decode(pkt, len, &h, &d), want);	\
} while (0)
	BAD(0, 'X', -EBADMSG);		/* magic */
	BAD(4, 1, -EBADMSG);		/* version 1: untagged */
	BAD(4, 2, -EBADMSG);		/* version 2: an offset, no seq */
	BAD(4, 4, -EBADMSG);		/* version */
	BAD(5, 3, -EBADMSG);		/* parity: index, total not 0 */
	BAD(5, 4, -EBADMSG);		/* type */
	BAD(6, 0, -EBADMSG);		/* count 0 (low byte; high is 0) */
	BAD(7, 0x10, -E2BIG);		/* count 4099 > FRAG_COUNT_MAX */
	BAD(20, 3, -EBADMSG);		/* index >= count */
	BAD(22, 0, -EBADMSG);		/* data_len 0 */
	BAD(22, 70, -EBADMSG);		/* past total, and past the packet */
	BAD(27, 0x10, -E2BIG);		/* total 256 MiB */
	BAD(24, 80, -EBADMSG);		/* a middle one reaching total */
	BAD(12, 0, -EBADMSG);		/* msg 0 (all bytes) */
#undef BAD
	/* The last fragment longer than those before it. */
	len = mk(7, 3, 100, 40, 2);
	pkt[24] = 130;
	pkt[22] = 50;
	assert_int_equal(frag_decode(pkt, len + 30, &h, &d), -EBADMSG);
	/* or not after a whole number of them. */
	pkt[24] = 101;
	pkt[22] = 20;
	assert_int_equal(frag_decode(pkt, len, &h, &d), -EBADMSG);
	/* A single fragment must be the whole frame. */
	len = mk(7, 3, 30, 40, 0);
	pkt[24] = 31;
	assert_int_equal(frag_decode(pkt, len + 1, &h, &d), -EBADMSG);
	/* A heartbeat carries nothing. */
	len = mk_hb(7, 3);
	pkt[6] = 1;
	assert_int_equal(frag_decode(pkt, len, &h, &d), -EBADMSG);
}

/* msg 0 is refused even when only its lowest byte is 0. */
static void
test_msg_zero(void **state)
{
	struct frag_hdr	 h;
	const uint8_t	*d;
	size_t		 len;

	(void)state;
	len = mk(7, 0x100, 100, 40, 1);
	assert_int_equal(frag_decode(pkt, len, &h, &d), 0);
	pkt[13] = 0;
	assert_int_equal(frag_decode(pkt, len, &h, &d), -EBADMSG);
}

/* Fragments and frames in any order, duplicated: out in msg order, once. */
static void
test_reorder_and_duplicates(void **state)
{
	static const uint32_t	 sizes[] = { 100, 1000, 40, 0 };
	static const uint64_t	 msgs[] = { 1, 2, 3 };
	size_t			 len;
	uint16_t		 i;

	(void)state;
	/* msg 3 first, then msg 2 backwards with copies, then msg 1. */
	len = mk(9, 3, 40, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	for (i = 16; i-- > 0;) {
		len = mk(9, 2, 1000, 64, i);
		assert_int_equal(frag_rx_input(fr, pkt, len, 2), 0);
		assert_int_equal(frag_rx_input(fr, pkt, len, 2), -EALREADY);
	}
	assert_int_equal(frag_rx_release(fr, 3, &out), 0);
	assert_int_equal(out.len, 0);		/* msg 1 is awaited */
	for (i = 0; i < 2; i++) {
		len = mk(9, 1, 100, 64, i);
		assert_int_equal(frag_rx_input(fr, pkt, len, 4), 0);
	}
	assert_int_equal(frag_rx_release(fr, 5, &out), 0);
	assert_int_equal(check_frames(&out, sizes, msgs), 3);
	/* Late copies of delivered frames are dropped. */
	len = mk(9, 2, 1000, 64, 3);
	assert_int_equal(frag_rx_input(fr, pkt, len, 6), -EALREADY);
	assert_true(fr->st.duplicates == 17);
	assert_true(fr->st.frames == 3);
	assert_true(fr->st.lost == 0);
	assert_int_equal(fr->bytes, 0);
	assert_int_equal(frag_rx_deadline(fr), 0);
}

/* A missing msg is waited for one timeout, then counted lost; a frame
 * missing a fragment too; a heartbeat reveals a lost tail. */
static void
test_timeouts(void **state)
{
	static const uint32_t	 sizes[] = { 50, 50, 0 };
	static const uint64_t	 msgs[] = { 1, 4 };
	size_t			 len;

	(void)state;
	len = mk(9, 1, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 10 * MS), 0);
	/* msg 2 lost; msg 3 half there; msg 4 whole. */
	len = mk(9, 3, 100, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 10 * MS), 0);
	len = mk(9, 4, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 11 * MS), 0);
	assert_int_equal(frag_rx_release(fr, 20 * MS, &out), 0);
	assert_int_equal(out.len, 50);
	assert_true(frag_rx_deadline(fr) == 60 * MS);
	assert_int_equal(frag_rx_release(fr, 59 * MS, &out), 0);
	assert_int_equal(out.len, 50);
	assert_int_equal(frag_rx_release(fr, 61 * MS, &out), 0);
	assert_int_equal(check_frames(&out, sizes, msgs), 2);
	assert_true(fr->st.lost == 2);

	/* The heartbeat says 6 was sent: 5 and 6 are lost a timeout later. */
	len = mk_hb(9, 6);
	assert_int_equal(frag_rx_input(fr, pkt, len, 100 * MS), 0);
	assert_int_equal(frag_rx_release(fr, 120 * MS, &out), 0);
	assert_true(fr->st.lost == 2);
	assert_true(frag_rx_deadline(fr) == 150 * MS);
	assert_int_equal(frag_rx_release(fr, 150 * MS, &out), 0);
	assert_true(fr->st.lost == 4);
	assert_true(fr->st.heartbeats == 1);
	/* 7 is next, and comes. */
	len = mk(9, 7, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 160 * MS), 0);
	assert_int_equal(frag_rx_release(fr, 160 * MS, &out), 0);
	assert_int_equal(out.len, 150);
}

/* A new session (sender restarted) starts at msg 1 and does not disturb
 * the old one; sessions beyond the table evict the least recent. */
static void
test_sessions(void **state)
{
	size_t		 len;
	uint32_t	 s;

	(void)state;
	len = mk(1, 1, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	len = mk(2, 1, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 2), 0);
	assert_int_equal(frag_rx_release(fr, 3, &out), 0);
	assert_int_equal(out.len, 100);
	assert_true(fr->st.sessions == 1);
	/* A partial frame of session 3 is dropped with it when evicted. */
	len = mk(3, 1, 100, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 3), 0);
	assert_true(fr->bytes == 100);
	for (s = 4; s < 4 + FRAG_SESSIONS; s++) {
		len = mk_hb(s, 1);
		assert_int_equal(frag_rx_input(fr, pkt, len, 4 + s), 0);
	}
	assert_int_equal(fr->bytes, 0);
}

/* Hostile input: the held bytes never pass FRAG_BYTES_MAX nor the slots,
 * inconsistent fragments are refused, far-ahead msgs are not kept. */
static void
test_bounds(void **state)
{
	struct frag_hdr	 h;
	size_t		 len;
	uint64_t	 m;

	(void)state;
	/* First fragments of 1 MiB frames, never completed. */
	memset(&h, 0, sizeof(h));
	h.type = FRAG_DATA;
	h.session = 5;
	h.count = 1000;
	h.total = FRAG_TOTAL_MAX;
	h.data_len = 10;
	for (m = 1; m <= 3 * FRAG_SLOTS_MAX; m++) {
		h.msg = m;
		frag_put_header(pkt, &h);
		tag(FRAG_HDR_LEN + 10);
		assert_int_equal(frag_rx_input(fr, pkt, FRAG_HDR_LEN + 10, m),
		    0);
		assert_true(fr->bytes <= FRAG_BYTES_MAX);
	}
	assert_true(fr->st.evicted > 0);
	/* Same msg, another count: refused. */
	h.msg = 3 * FRAG_SLOTS_MAX;
	h.count = 999;
	frag_put_header(pkt, &h);
	tag(FRAG_HDR_LEN + 10);
	assert_int_equal(frag_rx_input(fr, pkt, FRAG_HDR_LEN + 10, m),
	    -EBADMSG);
	/* Oversized count counted apart. */
	len = mk(5, 2, 100, 40, 1);
	pkt[7] = 0x10;
	tag(len);
	assert_int_equal(frag_rx_input(fr, pkt, len, m), -E2BIG);
	assert_true(fr->st.oversized == 1);
	/* Everything times out; nothing is delivered. */
	assert_int_equal(frag_rx_release(fr, m + 1000 * MS, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(fr->bytes, 0);
}

/* A msg a whole window ahead moves the window: what it leaves behind is
 * lost, held or not. */
static void
test_window(void **state)
{
	size_t		 len;

	(void)state;
	len = mk(6, 2, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	len = mk(6, FRAG_WINDOW + 5, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 2), 0);
	assert_true(fr->st.out_of_window == 1);
	assert_true(fr->st.lost == 5);		/* 1..5, 2 among them */
	assert_int_equal(fr->bytes, 50);
	/* 6 is awaited now; after the timeout the far one comes out. */
	assert_int_equal(frag_rx_release(fr, 3, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(frag_rx_release(fr, 2 + 50 * MS, &out), 0);
	assert_int_equal(out.len, 50);
	assert_true(fr->st.lost == 5 + FRAG_WINDOW - 1);
}

/* A heartbeat far ahead moves the session no further than the window. */
static void
test_heartbeat_window(void **state)
{
	size_t	 len;

	(void)state;
	len = mk_hb(6, UINT64_MAX);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	assert_int_equal(frag_rx_release(fr, 1 + 50 * MS, &out), 0);
	assert_true(fr->st.lost == FRAG_WINDOW);
	/* msg FRAG_WINDOW + 1 is the next one awaited, and comes. */
	len = mk(6, FRAG_WINDOW + 1, 10, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 2 + 50 * MS), 0);
	assert_int_equal(frag_rx_release(fr, 2 + 50 * MS, &out), 0);
	assert_int_equal(out.len, 10);
}

/* Every slot full of complete frames behind a gap: the next new frame is
 * refused with -ENOBUFS, and the release gives the gap up at once. */
static void
test_stuck(void **state)
{
	size_t		 len;
	uint64_t	 m;

	(void)state;
	for (m = 2; m < 2 + FRAG_SLOTS_MAX; m++) {
		len = mk(6, m, 10, 64, 0);
		assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	}
	len = mk(6, m, 10, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -ENOBUFS);
	assert_int_equal(frag_rx_release(fr, 2, &out), 0);
	assert_int_equal(out.len, 10 * FRAG_SLOTS_MAX);
	assert_true(fr->st.lost == 1);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	assert_int_equal(frag_rx_release(fr, 3, &out), 0);
	assert_int_equal(out.len, 10 * (FRAG_SLOTS_MAX + 1));
}

/* Fragments that overlap instead of tiling the frame are refused. */
static void
test_overlap(void **state)
{
	struct frag_hdr	 h;
	const uint8_t	*d;
	size_t		 len;

	(void)state;
	/* Alone, a middle fragment must sit at index * its size. */
	len = mk(5, 1, 100, 40, 1);
	pkt[24] = 80;			/* total: it would end the frame */
	assert_int_equal(frag_decode(pkt, len, &h, &d), -EBADMSG);
	/* Two first fragments of one frame disagreeing on the size. */
	len = mk(5, 1, 100, 40, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	len = mk(5, 1, 100, 30, 1);	/* count 4, not 3: refused */
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EBADMSG);
	/* The last fragment placed where a 40-byte cut does not put it. */
	len = mk(5, 1, 100, 64, 1);	/* offset 64, count 2 != 3 */
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EBADMSG);
	assert_true(fr->st.malformed == 2);
	len = mk(5, 1, 100, 40, 2);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	len = mk(5, 1, 100, 40, 1);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	assert_int_equal(frag_rx_release(fr, 2, &out), 0);
	assert_int_equal(out.len, 100);
}

/*
 * frag_rx_input_out: a frame whole in one packet and awaited goes to out
 * at once (no slot); one ahead of its turn waits in a slot, and order,
 * duplicates and a full out are handled as by frag_rx_input.
 */
static void
test_direct(void **state)
{
	static const uint32_t	 sizes[] = { 60, 70, 80, 90, 0 };
	static const uint64_t	 msgs[] = { 1, 2, 3, 4 };
	struct buf		 small;
	size_t			 len;

	(void)state;
	len = mk(9, 1, 60, 1000, 0);
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 1, &out), 0);
	assert_int_equal(out.len, 60);		/* at once, no release */
	assert_int_equal(fr->nused, 0);
	assert_true(fr->st.frames == 1 && fr->st.fragments == 1);
	/* Again: a duplicate, not appended again. */
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 1, &out),
	    -EALREADY);
	assert_int_equal(out.len, 60);
	/* msg 3 before msg 2: 3 waits in a slot, 2 goes out, then 3. */
	len = mk(9, 3, 80, 1000, 0);
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 2, &out), 0);
	assert_int_equal(out.len, 60);
	assert_int_equal(fr->nused, 1);
	len = mk(9, 2, 70, 1000, 0);
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 3, &out), 0);
	assert_int_equal(out.len, 130);
	assert_int_equal(frag_rx_release(fr, 3, &out), 0);
	assert_int_equal(out.len, 210);
	assert_int_equal(fr->nused, 0);
	/* Malformed and oversized packets are refused as by frag_rx_input. */
	len = mk(9, 4, 90, 1000, 0);
	assert_int_equal(frag_rx_input_out(fr, pkt, len - 1, 4, &out),
	    -EBADMSG);
	assert_int_equal(out.len, 210);
	/* out full: msg 4 is kept in a slot instead, and released when out
	 * has room. */
	buf_init(&small, 10);
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 4, &small), 0);
	assert_int_equal(small.len, 0);
	assert_int_equal(fr->nused, 1);
	assert_int_equal(frag_rx_release(fr, 4, &out), 0);
	assert_int_equal(check_frames(&out, sizes, msgs), 4);
	assert_true(fr->st.frames == 4 && fr->st.duplicates == 1 &&
	    fr->st.malformed == 1 && fr->st.lost == 0);
	buf_free(&small);
	/* A fragment of a larger frame is never delivered alone. */
	len = mk(9, 5, 100, 40, 0);
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 5, &out), 0);
	assert_int_equal(out.len, 300);
	assert_int_equal(fr->nused, 1);
	/* A frame whole in one packet but with a wrong tag: refused, nothing
	 * of it goes out. */
	len = mk(9, 6, 50, 1000, 0);
	pkt[FRAG_HDR_LEN + 3] ^= 1;
	assert_int_equal(frag_rx_input_out(fr, pkt, len, 6, &out),
	    -EKEYREJECTED);
	assert_int_equal(out.len, 300);
	assert_true(fr->st.bad_tag == 1 && fr->st.frames == 4);
}

/* Nothing of a refused packet is kept: no slot, no session, no count
 * but the one it failed on. */
static void
assert_untouched(void)
{
	size_t	 i;

	assert_int_equal(fr->nused, 0);
	assert_int_equal(fr->bytes, 0);
	for (i = 0; i < FRAG_SESSIONS; i++)
		assert_false(fr->sess[i].used);
	assert_true(fr->st.fragments == 0 && fr->st.heartbeats == 0 &&
	    fr->st.duplicates == 0 && fr->st.sessions == 0);
	assert_int_equal(frag_rx_deadline(fr), 0);
}

/* The tag is HMAC-SHA256 (OpenSSL's one-shot HMAC() agrees) over the
 * direction byte, the header before the tag and the data, cut to 16. */
static void
test_tag_standard(void **state)
{
	uint8_t		 in[1 + LINK_TAG_OFF + 100], md[32];
	unsigned int	 mdlen = 0;
	size_t		 len;

	(void)state;
	len = mk(7, 3, 100, 100, 0);
	assert_int_equal(len, FRAG_HDR_LEN + 100);
	in[0] = FERRY_INWARD;
	memcpy(in + 1, pkt, LINK_TAG_OFF);
	memcpy(in + 1 + LINK_TAG_OFF, pkt + FRAG_HDR_LEN, 100);
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), in, sizeof(in),
	    md, &mdlen));
	assert_int_equal(mdlen, 32);
	assert_memory_equal(pkt + LINK_TAG_OFF, md, LINK_TAG_LEN);
	assert_int_equal(linkmac_verify(lm, pkt, len), 0);
	/* Ethernet padding after the data is not covered, and allowed. */
	memset(pkt + len, 0xee, 20);
	assert_int_equal(linkmac_verify(lm, pkt, len + 20), 0);
}

/* One bit flipped anywhere in the header, tag or data: refused, and
 * nothing of it kept; the genuine packet is then taken. */
static void
test_tag_bitflips(void **state)
{
	uint8_t		 good[FRAG_HDR_LEN + 40];
	size_t		 len, i;
	uint64_t	 refused = 0;
	int		 b, r;

	(void)state;
	len = mk(7, 1, 80, 40, 0);
	assert_int_equal(len, sizeof(good));
	memcpy(good, pkt, len);
	for (i = 0; i < len; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(pkt, good, len);
			pkt[i] ^= (uint8_t)(1U << b);
			r = frag_rx_input(fr, pkt, len, 1);
			/* magic, version, and a data_len past the packet
			 * fail on shape before the tag can be computed */
			assert_true(r == -EKEYREJECTED || r == -EBADMSG);
			if (r == -EBADMSG)
				assert_true(i < 5 || i == FRAG_DATA_LEN_OFF ||
				    i == FRAG_DATA_LEN_OFF + 1);
			refused++;
			assert_untouched();
		}
	}
	assert_true(fr->st.bad_tag + fr->st.malformed == refused);
	assert_true(fr->st.bad_tag > refused - 5 * 8 - 16);
	/* Cut short, or with a data_len shorter than the data: refused. */
	memcpy(pkt, good, len);
	assert_int_equal(frag_rx_input(fr, pkt, len - 1, 1), -EBADMSG);
	assert_int_equal(frag_rx_input(fr, pkt, FRAG_HDR_LEN - 1, 1),
	    -EBADMSG);
	pkt[FRAG_DATA_LEN_OFF] = 39;
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EKEYREJECTED);
	assert_untouched();
	memcpy(pkt, good, len);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	assert_true(fr->st.fragments == 1);
}

/* Another key, the other direction's tags, or no key at all: refused. */
static void
test_tag_wrong_key(void **state)
{
	struct linkmac	*other, *outward;
	uint8_t		 k2[FERRY_LINK_KEY_LEN];
	size_t		 len;

	(void)state;
	memcpy(k2, key, sizeof(k2));
	k2[31] ^= 1;
	assert_int_equal(linkmac_new(k2, FERRY_INWARD, &other), 0);
	assert_int_equal(linkmac_new(key, FERRY_OUTWARD, &outward), 0);
	assert_int_equal(linkmac_new(key, 3, &other), -EINVAL);
	len = mk(7, 1, 50, 64, 0);
	assert_int_equal(linkmac_tag(other, pkt, len - FRAG_HDR_LEN), 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EKEYREJECTED);
	assert_int_equal(linkmac_tag(outward, pkt, len - FRAG_HDR_LEN), 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EKEYREJECTED);
	assert_true(fr->st.bad_tag == 2);
	assert_untouched();
	/* A receiver without a key takes nothing, genuine or not. */
	frag_rx_key(fr, NULL);
	len = mk(7, 1, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EKEYREJECTED);
	assert_untouched();
	frag_rx_key(fr, lm);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	linkmac_free(other);
	linkmac_free(outward);
}

/* Forged packets sent first, for the very msgs about to come (whole
 * frames, other data, a heartbeat far ahead, a new session): the genuine
 * frames all come out, nothing was lost, no slot or session was taken. */
static void
test_tag_forged_first(void **state)
{
	static const uint32_t	 sizes[] = { 100, 100, 100, 0 };
	static const uint64_t	 msgs[] = { 1, 2, 3 };
	struct linkmac		*other;
	uint8_t			 k2[FERRY_LINK_KEY_LEN];
	size_t			 len;
	uint64_t		 m;

	(void)state;
	memset(k2, 0x5a, sizeof(k2));
	assert_int_equal(linkmac_new(k2, FERRY_INWARD, &other), 0);
	for (m = 1; m <= 3; m++) {
		len = mk(9, m, 30, 64, 0);	/* a whole 30-byte frame */
		assert_int_equal(linkmac_tag(other, pkt, len - FRAG_HDR_LEN),
		    0);
		assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EKEYREJECTED);
	}
	len = mk_hb(9, 1000);
	assert_int_equal(linkmac_tag(other, pkt, 0), 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), -EKEYREJECTED);
	assert_untouched();
	for (m = 1; m <= 3; m++) {
		len = mk(9, m, 100, 64, 1);
		assert_int_equal(frag_rx_input(fr, pkt, len, 2), 0);
		len = mk(9, m, 100, 64, 0);
		assert_int_equal(frag_rx_input(fr, pkt, len, 2), 0);
	}
	assert_int_equal(frag_rx_release(fr, 1000 * MS, &out), 0);
	assert_int_equal(check_frames(&out, sizes, msgs), 3);
	assert_true(fr->st.lost == 0 && fr->st.heartbeats == 0);
	assert_true(fr->st.bad_tag == 4);
	linkmac_free(other);
}

/* A forged heartbeat neither counts nor advances anything: the awaited
 * msg is not declared lost, however long after. */
static void
test_tag_forged_heartbeat(void **state)
{
	size_t	 len;

	(void)state;
	len = mk(9, 1, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), 0);
	assert_int_equal(frag_rx_release(fr, 1, &out), 0);
	assert_int_equal(out.len, 50);
	len = mk_hb(9, 40);
	pkt[LINK_TAG_OFF] ^= 0x80;
	assert_int_equal(frag_rx_input(fr, pkt, len, 2), -EKEYREJECTED);
	assert_true(fr->st.heartbeats == 0);
	assert_int_equal(frag_rx_deadline(fr), 0);
	assert_int_equal(frag_rx_release(fr, 10000 * MS, &out), 0);
	assert_true(fr->st.lost == 0);
	/* msg 2 is still the one awaited, and comes. */
	len = mk(9, 2, 50, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 10001 * MS), 0);
	assert_int_equal(frag_rx_release(fr, 10001 * MS, &out), 0);
	assert_int_equal(out.len, 100);
	assert_true(fr->st.bad_tag == 1);
}

/* Genuine packets recorded and replayed later, frames and heartbeats:
 * dropped as duplicates, nothing delivered twice, nothing lost. */
static void
test_tag_replay(void **state)
{
	uint8_t		 rec[4][FRAG_HDR_LEN + 64];
	size_t		 rlen[4], len;
	uint64_t	 m;
	int		 i;

	(void)state;
	for (m = 1; m <= 3; m++) {
		rlen[m - 1] = mk(9, m, 60, 64, 0);
		memcpy(rec[m - 1], pkt, rlen[m - 1]);
		assert_int_equal(frag_rx_input(fr, pkt, rlen[m - 1], m), 0);
	}
	rlen[3] = mk_hb(9, 3);
	memcpy(rec[3], pkt, rlen[3]);
	assert_int_equal(frag_rx_input(fr, pkt, rlen[3], 4), 0);
	assert_int_equal(frag_rx_release(fr, 5, &out), 0);
	assert_int_equal(out.len, 180);
	len = mk(9, 4, 60, 64, 0);
	assert_int_equal(frag_rx_input(fr, pkt, len, 6), 0);
	for (i = 0; i < 4; i++)
		(void)frag_rx_input(fr, rec[i], rlen[i], 7 + (uint64_t)i);
	assert_int_equal(frag_rx_release(fr, 1000 * MS, &out), 0);
	assert_int_equal(out.len, 240);		/* msg 4 once, no more */
	assert_true(fr->st.duplicates == 3);
	assert_true(fr->st.lost == 0 && fr->st.frames == 4);
	assert_true(fr->st.bad_tag == 0 && fr->st.sessions == 0);
}

/* The key file: exactly 32 bytes, not group/world accessible. */
static void
test_linkkey_file(void **state)
{
	char	 dir[] = "/tmp/isogate-lk.XXXXXX", path[64];
	uint8_t	 k[FERRY_LINK_KEY_LEN], k2[FERRY_LINK_KEY_LEN];
	int	 fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/link.key", dir);
	assert_int_equal(linkkey_load(path, k), -ENOENT);
	assert_int_equal(linkkey_generate(path), 0);
	assert_int_equal(linkkey_generate(path), -EEXIST);
	assert_int_equal(linkkey_load(path, k), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(linkkey_load(path, k2), -EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(linkkey_load(path, k2), 0);
	assert_memory_equal(k, k2, sizeof(k));
	/* 31 and 33 bytes: refused. */
	assert_int_equal(truncate(path, 31), 0);
	assert_int_equal(linkkey_load(path, k2), -EINVAL);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "ab", 2), 2);
	close(fd);
	assert_int_equal(linkkey_load(path, k2), -EINVAL);
	assert_int_equal(unlink(path), 0);
	/* Two keys made are not the same. */
	assert_int_equal(linkkey_generate(path), 0);
	assert_int_equal(linkkey_load(path, k2), 0);
	assert_memory_not_equal(k, k2, sizeof(k));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Shape checks behind the tag: packets with a valid tag and a bad
 * header are still refused as malformed or oversized. */
static void
test_tagged_shapes(void **state)
{
	size_t	 len;

	(void)state;
#define BADT(off, val, want) do {				\
	len = mk(7, 3, 100, 40, 1);				\
	pkt[off] = (val);					\
	tag(len);						\
	assert_int_equal(frag_rx_input(fr, pkt, len, 1), want);	\
} while (0)
	BADT(5, 3, -EBADMSG);		/* type */
	BADT(6, 0, -EBADMSG);		/* count 0 */
	BADT(7, 0x10, -E2BIG);		/* count 4099 */
	BADT(20, 3, -EBADMSG);		/* index >= count */
	BADT(27, 0x10, -E2BIG);		/* total 256 MiB */
	BADT(24, 80, -EBADMSG);		/* a middle one reaching total */
	BADT(12, 0, -EBADMSG);		/* msg 0 */
#undef BADT
	assert_true(fr->st.malformed == 5 && fr->st.oversized == 2);
	assert_true(fr->st.bad_tag == 0);
	assert_untouched();
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_codec_rejects),
		cmocka_unit_test(test_msg_zero),
		T(test_reorder_and_duplicates),
		T(test_timeouts),
		T(test_sessions),
		T(test_bounds),
		T(test_overlap),
		T(test_window),
		T(test_stuck),
		T(test_heartbeat_window),
		T(test_tag_standard),
		T(test_tag_bitflips),
		T(test_tag_wrong_key),
		T(test_tag_forged_first),
		T(test_tag_forged_heartbeat),
		T(test_tag_replay),
		T(test_tagged_shapes),
		cmocka_unit_test(test_linkkey_file),
		T(test_direct),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

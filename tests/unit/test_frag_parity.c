/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the eth: parity groups: XOR parity packets and the receiver's rebuilding (ferry/frag.c). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/transport.h"
#include "tests/unit/frag_fixtures.h"

#define K	4		/* the groups here */
#define PKT	(FRAG_HDR_LEN + 2048)

/* One group: msg 1 in three fragments (100 bytes cut at 40: the last is
 * 20, shorter than the others), msg 2 whole (60 bytes): seqs 1..4. */
static uint8_t		 mem[K][PKT];
static size_t		 mlen[K];
static uint8_t		 par[PKT];
static size_t		 plen;

/* The link packet of fragment index of msg (total bytes cut at room) in
 * parity group seq, tagged; the data byte at offset o is (o + msg) % 251. */
static size_t
mk(uint8_t *p, uint32_t session, uint64_t msg, uint32_t total, uint32_t room,
    uint16_t index, uint32_t seq)
{
	struct frag_hdr	 h;
	uint32_t	 i, off = index * room;

	memset(&h, 0, sizeof(h));
	h.type = FRAG_DATA;
	h.session = session;
	h.msg = msg;
	h.count = (uint16_t)((total + room - 1) / room);
	h.index = index;
	h.total = total;
	h.seq = seq;
	h.data_len = (uint16_t)(total - off < room ? total - off : room);
	frag_put_header(p, &h);
	for (i = 0; i < h.data_len; i++)
		p[FRAG_HDR_LEN + i] = (uint8_t)((off + i + msg) % 251);
	assert_int_equal(linkmac_tag(lm, p, h.data_len), 0);
	return FRAG_HDR_LEN + h.data_len;
}

/* The parity packet of a group of n from seq first, tagged: the XOR of
 * the nm packets in m (n of them, but for a forgery). */
static size_t
mk_parity_of(uint8_t *p, uint32_t session, uint32_t first, uint16_t n,
    uint8_t m[][PKT], const size_t *len, size_t nm)
{
	struct frag_hdr	 h;
	size_t		 i, j, max = 0;

	memset(p, 0, PKT);
	for (i = 0; i < nm; i++) {
		for (j = 0; j < len[i]; j++)
			p[FRAG_HDR_LEN + j] ^= m[i][j];
		if (len[i] > max)
			max = len[i];
	}
	memset(&h, 0, sizeof(h));
	h.type = FRAG_PARITY;
	h.session = session;
	h.msg = first;
	h.count = n;
	h.data_len = (uint16_t)max;
	frag_put_header(p, &h);
	assert_int_equal(linkmac_tag(lm, p, max), 0);
	return FRAG_HDR_LEN + max;
}

static size_t
mk_parity(uint8_t *p, uint32_t session, uint32_t first, uint16_t n,
    uint8_t m[][PKT], const size_t *len)
{
	return mk_parity_of(p, session, first, n, m, len, n);
}

static void
mk_group(uint32_t session)
{
	uint16_t	 i;

	for (i = 0; i < 3; i++)
		mlen[i] = mk(mem[i], session, 1, 100, 40, i, 1 + i);
	mlen[3] = mk(mem[3], session, 2, 60, 60, 0, 4);
	plen = mk_parity(par, session, 1, K, mem, mlen);
}

/* Checks out holds msg 1 (100 bytes) then msg 2 (60), byte for byte. */
static void
check_out(void)
{
	uint32_t	 i;

	assert_int_equal(out.len, 160);
	for (i = 0; i < 100; i++)
		assert_int_equal(out.data[i], (uint8_t)((i + 1) % 251));
	for (i = 0; i < 60; i++)
		assert_int_equal(out.data[100 + i], (uint8_t)((i + 2) % 251));
}

/* The group with each one of its packets lost: rebuilt bit for bit, tag
 * included (its tag is checked: it is kept, not refused), in order. A
 * parity heard before the last member does it as well. */
static void
test_each_one_lost(void **state)
{
	int	 lost, i;

	(void)state;
	mk_group(9);
	for (lost = 0; lost < K; lost++) {
		frag_rx_free(fr);
		frag_rx_init(fr, 50 * MS);
		frag_rx_key(fr, lm);
		buf_reset(&out);
		for (i = 0; i < K; i++)
			if (i != lost)
				assert_int_equal(frag_rx_input(fr, mem[i],
				    mlen[i], 1), 0);
		assert_int_equal(frag_rx_input(fr, par, plen, 2), 0);
		assert_true(fr->st.recovered == 1);
		assert_true(fr->st.bad_tag == 0 && fr->st.malformed == 0);
		assert_true(fr->st.fragments == K);
		/* The packet itself, late: a duplicate. */
		assert_int_equal(frag_rx_input(fr, mem[lost], mlen[lost], 3),
		    -EALREADY);
		assert_int_equal(frag_rx_release(fr, 3, &out), 0);
		check_out();
		assert_true(fr->st.frames == 2 && fr->st.lost == 0);
		/* The parity again: nothing missing, nothing done. */
		assert_int_equal(frag_rx_input(fr, par, plen, 4), 0);
		assert_true(fr->st.recovered == 1);
	}
}

/* The last group of a send burst, closed early: fewer than K members
 * (one: the parity is then a copy of it) rebuild the same way. */
static void
test_short_groups(void **state)
{
	(void)state;
	mk_group(9);
	plen = mk_parity(par, 9, 4, 1, mem + 3, mlen + 3);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), 0);
	plen = mk_parity(par, 9, 1, 3, mem, mlen);
	assert_int_equal(frag_rx_input(fr, mem[0], mlen[0], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[2], mlen[2], 1), 0);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), 0);
	assert_true(fr->st.recovered == 2 && fr->st.bad_tag == 0);
	assert_int_equal(frag_rx_release(fr, 2, &out), 0);
	check_out();
}

/* Two lost: nothing rebuilt; after the timeout msg 1 is lost as without
 * parity, and msg 2 goes on. */
static void
test_two_lost(void **state)
{
	(void)state;
	mk_group(9);
	assert_int_equal(frag_rx_input(fr, mem[0], mlen[0], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[3], mlen[3], 1), 0);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), 0);
	assert_true(fr->st.recovered == 0);
	assert_int_equal(frag_rx_release(fr, 2, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(frag_rx_release(fr, 1 + 50 * MS, &out), 0);
	assert_int_equal(out.len, 60);
	assert_true(fr->st.lost == 1 && fr->st.frames == 1);
	assert_true(fr->st.recovered == 0);
}

/* A forged parity (tag under another key, or one bit of it changed) is
 * refused before anything of it is used. */
static void
test_forged_parity(void **state)
{
	struct linkmac	*other;
	uint8_t		 k2[FERRY_LINK_KEY_LEN];

	(void)state;
	mk_group(9);
	assert_int_equal(frag_rx_input(fr, mem[0], mlen[0], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[1], mlen[1], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[3], mlen[3], 1), 0);
	par[LINK_TAG_OFF] ^= 1;
	assert_int_equal(frag_rx_input(fr, par, plen, 1), -EKEYREJECTED);
	par[LINK_TAG_OFF] ^= 1;
	memcpy(k2, key, sizeof(k2));
	k2[0] ^= 1;
	assert_int_equal(linkmac_new(k2, FERRY_INWARD, &other), 0);
	assert_int_equal(linkmac_tag(other, par, plen - FRAG_HDR_LEN), 0);
	linkmac_free(other);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), -EKEYREJECTED);
	assert_true(fr->st.bad_tag == 2 && fr->st.recovered == 0);
	assert_int_equal(frag_rx_release(fr, 2, &out), 0);
	assert_int_equal(out.len, 0);		/* msg 1 still waits */
	assert_true(fr->st.fragments == 3);
}

/*
 * A genuine parity whose XOR yields garbage (a byte of its data changed
 * and tagged again: what a key holder could send): the rebuilt packet
 * fails its own tag and changes nothing; the right parity then works.
 */
static void
test_garbage_parity(void **state)
{
	struct frag_rx_stats_view { uint64_t f, fr, d, l; } before;
	uint8_t		 good[PKT];

	(void)state;
	mk_group(9);
	memcpy(good, par, plen);
	assert_int_equal(frag_rx_input(fr, mem[0], mlen[0], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[2], mlen[2], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[3], mlen[3], 1), 0);
	before.f = fr->st.fragments;
	before.fr = fr->st.frames;
	before.d = fr->st.duplicates;
	before.l = fr->st.lost;
	par[FRAG_HDR_LEN + FRAG_HDR_LEN + 5] ^= 0x40;	/* in the data */
	assert_int_equal(linkmac_tag(lm, par, plen - FRAG_HDR_LEN), 0);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), -EKEYREJECTED);
	assert_true(fr->st.bad_tag == 1 && fr->st.recovered == 0);
	assert_true(fr->st.fragments == before.f &&
	    fr->st.frames == before.fr && fr->st.duplicates == before.d &&
	    fr->st.lost == before.l);
	/* Garbage in the rebuilt header's data_len: refused as malformed
	 * (it cannot even be checked), again changing nothing. */
	memcpy(par, good, plen);
	par[FRAG_HDR_LEN + FRAG_DATA_LEN_OFF + 1] ^= 0x7f;
	assert_int_equal(linkmac_tag(lm, par, plen - FRAG_HDR_LEN), 0);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), -EBADMSG);
	assert_true(fr->st.malformed == 1 && fr->st.recovered == 0);
	assert_int_equal(frag_rx_release(fr, 2, &out), 0);
	assert_int_equal(out.len, 0);
	assert_true(fr->st.fragments == before.f);
	assert_int_equal(frag_rx_input(fr, good, plen, 3), 0);
	assert_true(fr->st.recovered == 1);
	assert_int_equal(frag_rx_release(fr, 3, &out), 0);
	check_out();
}

/*
 * A parity whose XOR is an authentic packet, but not the one missing
 * (another seq, or a parity packet): refused. A member heard a timeout
 * ago or more does not count (its group was given up): nothing rebuilt.
 */
static void
test_rebuilt_identity(void **state)
{
	uint8_t		 m2[2][PKT];
	size_t		 l2[2];

	(void)state;
	mk_group(9);
	/* seq 1 present, seq 2 "missing", but the parity's XOR gives a
	 * genuine packet of seq 99. */
	memcpy(m2[0], mem[0], mlen[0]);
	l2[0] = mlen[0];
	l2[1] = mk(m2[1], 9, 7, 100, 40, 1, 99);
	plen = mk_parity(par, 9, 1, 2, m2, l2);
	assert_int_equal(frag_rx_input(fr, mem[0], mlen[0], 1), 0);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), -EBADMSG);
	assert_true(fr->st.malformed == 1 && fr->st.recovered == 0);
	/* A parity packet inside a parity packet: refused the same. */
	l2[1] = mk_parity(m2[1], 9, 1, 2, mem, mlen);
	plen = mk_parity(par, 9, 1, 2, m2, l2);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), -EBADMSG);
	assert_true(fr->st.malformed == 2 && fr->st.recovered == 0);
	assert_true(fr->st.fragments == 1);
	/* Another session's parity: its members are not these. */
	mk_group(9);
	plen = mk_parity(par, 10, 1, K, mem, mlen);
	assert_int_equal(frag_rx_input(fr, mem[1], mlen[1], 1), 0);
	assert_int_equal(frag_rx_input(fr, mem[3], mlen[3], 1), 0);
	assert_int_equal(frag_rx_input(fr, par, plen, 1), 0);
	assert_true(fr->st.recovered == 0);
	/* The genuine parity, a timeout after the members: given up. */
	mk_group(9);
	assert_int_equal(frag_rx_input(fr, par, plen, 1 + 50 * MS), 0);
	assert_true(fr->st.recovered == 0);
}

/* Parity headers out of range, one field at a time. */
static void
test_parity_codec(void **state)
{
	struct frag_hdr	 h;
	const uint8_t	*d;
	uint8_t		 good[PKT];

	(void)state;
	mk_group(9);
	memcpy(good, par, plen);
	assert_int_equal(frag_decode(par, plen, &h, &d), 0);
	assert_true(h.type == FRAG_PARITY && h.count == K && h.msg == 1);
	assert_ptr_equal(d, par + FRAG_HDR_LEN);
#define BAD(off, val, want) do {					\
	memcpy(par, good, plen);					\
	par[off] = (val);						\
	assert_int_equal(frag_decode(par, plen, &h, &d), want);	\
} while (0)
	BAD(6, 0, -EBADMSG);		/* count 0 */
	BAD(6, 65, -E2BIG);		/* count 65 */
	BAD(20, 1, -EBADMSG);		/* index */
	BAD(24, 1, -EBADMSG);		/* total */
	BAD(28, 1, -EBADMSG);		/* seq */
	BAD(12, 0, -EBADMSG);		/* msg 0 */
	BAD(16, 1, -EBADMSG);		/* first seq past 2^32 */
	BAD(22, FRAG_HDR_LEN, -EBADMSG);	/* no more than a header */
#undef BAD
	/* The group's last seq past 2^32 - 1. */
	memcpy(par, good, plen);
	par[12] = par[13] = par[14] = par[15] = 0xff;	/* 2^32 - 1, +3 */
	assert_int_equal(frag_decode(par, plen, &h, &d), -EBADMSG);
	/* Data longer than a link packet can carry. */
	memcpy(par, good, plen);
	par[22] = (FRAG_PKT_MAX - FRAG_HDR_LEN + 1) & 0xff;
	par[23] = (FRAG_PKT_MAX - FRAG_HDR_LEN + 1) >> 8;
	assert_int_equal(frag_decode(par, FRAG_PKT_MAX + 1, &h, &d),
	    -EBADMSG);
	/* Cut short. */
	assert_int_equal(frag_decode(good, plen - 1, &h, &d), -EBADMSG);
}

/*
 * Hostile but authentic input (a key holder's): many groups' packets, as
 * big as a parity may cover, under several sessions, and parities for
 * groups that never were: the packets kept stay within FRAG_PAR_RING of
 * FRAG_PKT_MAX bytes (and one rebuilding buffer), and nothing is rebuilt
 * from nothing.
 */
static void
test_parity_bounds(void **state)
{
	static uint8_t	 big[FRAG_PKT_MAX + PKT], z[1][PKT];
	size_t		 len, zl[1] = { FRAG_HDR_LEN + 1 };
	uint32_t	 i;

	(void)state;
	for (i = 0; i < 4 * FRAG_PAR_RING; i++) {
		len = mk(big, 1 + i % 3, 1 + i / 3, 1000, 1000, 0, 1 + i);
		assert_int_equal(frag_rx_input_out(fr, big, len, 1 + i, &out),
		    0);
		assert_int_equal(frag_rx_release(fr, 1 + i, &out), 0);
		buf_reset(&out);
		assert_true(fr->par_bytes <= FRAG_PAR_RING * FRAG_PKT_MAX);
	}
	assert_true(fr->par_bytes == FRAG_PAR_RING * FRAG_PKT_MAX);
	assert_true(fr->st.frames == 4 * FRAG_PAR_RING);
	/* Too long for any parity to cover: not kept. */
	frag_rx_free(fr);
	frag_rx_init(fr, 50 * MS);
	frag_rx_key(fr, lm);
	len = mk(big, 1, 1, FRAG_PKT_MAX - FRAG_HDR_LEN, FRAG_PKT_MAX, 0, 1);
	assert_int_equal(frag_rx_input(fr, big, len, 1), 0);
	assert_true(fr->par_bytes == 0);
	/* Parities of nothing heard: two or more missing, nothing done. */
	memset(z, 0, sizeof(z));
	for (i = 0; i < 1000; i++) {
		len = mk_parity_of(big, 5, 1 + i * 64,
		    (uint16_t)(2 + i % 63), z, zl, 1);
		assert_int_equal(frag_rx_input(fr, big, len, 2), 0);
	}
	assert_true(fr->st.recovered == 0 && fr->st.malformed == 0);
	assert_true(fr->rebuilt == NULL);
	assert_true(fr->par_bytes == 0);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_each_one_lost),
		T(test_short_groups),
		T(test_two_lost),
		T(test_forged_parity),
		T(test_garbage_parity),
		T(test_rebuilt_identity),
		T(test_parity_codec),
		T(test_parity_bounds),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: eth: link packets through the fragment parser and reassembly. */

/*
 * The input is a run of records: a 1-byte time step (in ms), a 2-byte
 * little-endian length, then that many bytes of one link packet (after the
 * Ethernet header). When the length's top bit is set (the length is the
 * 15 bits below it), the fuzzer writes the packet's valid tag under its
 * fixed link key first, so that forged-looking and authentic packets both
 * reach the reassembly. Each packet goes to frag_decode and frag_rx_input,
 * or, every other record, frag_rx_input_out (a frame whole in one packet
 * straight to out), and frag_rx_release runs after it. Checked: a decoded
 * header re-encodes to the same first LINK_TAG_OFF bytes; a data fragment
 * or a parity packet has data and a heartbeat none; a packet refused for its tag changes
 * nothing but bad_tag (nothing goes to out either; a parity packet whose
 * rebuilt packet fails its tag is one of those); the held bytes never
 * pass FRAG_BYTES_MAX, nor the parity groups' FRAG_PAR_RING + 1 packets; release never fails; everything times out in the
 * end and nothing leaks.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/transport.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct frag_rx	 fr;
static struct linkmac	*lm;
static uint8_t		 pkt[0x8000];

/* Tags pkt (n bytes) when its header and declared data fit. */
static void
fuzz_tag(size_t n)
{
	size_t	 dl;

	if (n < FRAG_HDR_LEN)
		return;
	dl = pkt[FRAG_DATA_LEN_OFF] | (size_t)pkt[FRAG_DATA_LEN_OFF + 1] << 8;
	if (dl <= n - FRAG_HDR_LEN && linkmac_tag(lm, pkt, dl) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint8_t key[FERRY_LINK_KEY_LEN] = "isogate fuzz_frag link key 0123";
	struct frag_hdr	 h;
	struct ferry_link_stats before;
	struct buf	 out;
	const uint8_t	*d;
	uint8_t		 hdr[FRAG_HDR_LEN];
	uint64_t	 now = 1000000000ULL;
	size_t		 off = 0, n, nused, outlen, k = 0;
	int		 r, tagged;

	if (lm == NULL && linkmac_new(key, FERRY_INWARD, &lm) != 0)
		abort();
	frag_rx_init(&fr, 50 * 1000000ULL);
	frag_rx_key(&fr, lm);
	buf_init(&out, 2 * FRAG_TOTAL_MAX);
	while (len - off >= 3) {
		now += (uint64_t)data[off] * 1000000ULL;
		n = data[off + 1] | (size_t)data[off + 2] << 8;
		tagged = (n & 0x8000) != 0;
		n &= 0x7fff;
		off += 3;
		if (n > len - off)
			n = len - off;
		memcpy(pkt, data + off, n);
		if (tagged)
			fuzz_tag(n);
		if ((r = frag_decode(pkt, n, &h, &d)) == 0) {
			frag_put_header(hdr, &h);
			if (memcmp(hdr, pkt, LINK_TAG_OFF) != 0)
				abort();
			if ((h.type != FRAG_HEARTBEAT) != (d != NULL))
				abort();
		} else if (r != -EBADMSG && r != -E2BIG)
			abort();
		before = fr.st;
		nused = fr.nused;
		outlen = out.len;
		r = ++k % 2 == 0 ? frag_rx_input(&fr, pkt, n, now) :
		    frag_rx_input_out(&fr, pkt, n, now, &out);
		if (r == -EKEYREJECTED &&
		    (fr.st.bad_tag != before.bad_tag + 1 ||
		    fr.nused != nused || fr.st.heartbeats != before.heartbeats ||
		    fr.st.fragments != before.fragments ||
		    fr.st.frames != before.frames ||
		    fr.st.sessions != before.sessions || out.len != outlen))
			abort();
		if (fr.bytes > FRAG_BYTES_MAX ||
		    fr.par_bytes > (FRAG_PAR_RING + 1) * FRAG_PKT_MAX)
			abort();
		if (frag_rx_release(&fr, now, &out) != 0)
			abort();
		/* Keep what a reader would have taken off. */
		if (out.len > FRAG_TOTAL_MAX)
			buf_reset(&out);
		off += n;
	}
	/* Far in the future: everything times out. */
	if (frag_rx_release(&fr, now + 3600ULL * 1000000000ULL, &out) != 0)
		abort();
	frag_rx_free(&fr);
	if (fr.bytes != 0 || fr.par_bytes != 0)
		abort();
	buf_free(&out);
	return 0;
}

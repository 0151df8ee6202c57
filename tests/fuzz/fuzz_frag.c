/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: eth: link packets through the fragment parser and reassembly. */

/*
 * The input is a run of records: a 1-byte time step (in ms), a 2-byte
 * little-endian length, then that many bytes of one link packet (after the
 * Ethernet header). Each packet goes to frag_decode and to frag_rx_input,
 * or, every other record, to frag_rx_input_out (a frame whole in one packet
 * straight to out), and frag_rx_release runs after it. Checked: a decoded header re-encodes to
 * the same 32 bytes; a data fragment has data and a heartbeat none; the
 * held bytes never pass FRAG_BYTES_MAX; release never fails; everything
 * times out in the end and nothing leaks.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/transport.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct frag_rx	 fr;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct frag_hdr	 h;
	struct buf	 out;
	const uint8_t	*d;
	uint8_t		 hdr[FRAG_HDR_LEN];
	uint64_t	 now = 1000000000ULL;
	size_t		 off = 0, n, k = 0;
	int		 r;

	frag_rx_init(&fr, 50 * 1000000ULL);
	buf_init(&out, 2 * FRAG_TOTAL_MAX);
	while (len - off >= 3) {
		now += (uint64_t)data[off] * 1000000ULL;
		n = data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (n > len - off)
			n = len - off;
		if ((r = frag_decode(data + off, n, &h, &d)) == 0) {
			frag_put_header(hdr, &h);
			if (memcmp(hdr, data + off, FRAG_HDR_LEN) != 0)
				abort();
			if ((h.type == FRAG_DATA) != (d != NULL))
				abort();
		} else if (r != -EBADMSG && r != -E2BIG)
			abort();
		if (++k % 2 == 0)
			(void)frag_rx_input(&fr, data + off, n, now);
		else
			(void)frag_rx_input_out(&fr, data + off, n, now, &out);
		if (fr.bytes > FRAG_BYTES_MAX)
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
	if (fr.bytes != 0)
		abort();
	buf_free(&out);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: frame_decode and seal_decode on arbitrary bytes, with a re-encoding check. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/ferry.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame	 f;
	struct seal	 s;
	struct buf	 b;
	size_t		 used = 0;
	int		 r;

	r = frame_decode(data, size, &f, &used);
	if (r == -EAGAIN || r == -EBADMSG || r == -E2BIG)
		return 0;
	if (r != 0 || used < FRAME_HEADER_LEN || used > size ||
	    used > FRAME_LEN_MAX || f.payload_len > FRAME_PAYLOAD_MAX ||
	    strlen(f.peer) > FRAME_NAME_MAX || strlen(f.type) > FRAME_NAME_MAX)
		abort();

	/* The encoding is canonical: encoding what was decoded gives back
	 * exactly the bytes used. */
	buf_init(&b, FRAME_LEN_MAX);
	if (frame_encode(&b, &f) != 0 || b.len != used ||
	    memcmp(b.data, data, used) != 0)
		abort();
	buf_free(&b);

	if (seal_decode(&f, &s) == 0 &&
	    (f.kind != FRAME_SEAL || s.first == 0 || s.first > s.last ||
	    s.last != f.seq))
		abort();
	(void)frame_kind_name(f.kind);
	return 0;
}

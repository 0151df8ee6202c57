/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: pipelined request bytes through the strict HTTP head parser. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outer/outer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req	 req;
	struct buf	 b;
	size_t		 off = 0;
	int		 r, status;

	while (off < size) {
		r = http_parse_head(data + off, size - off, NULL, &req, &status);
		if (r == -EAGAIN)
			break;
		if (r != 0) {
			if (status < 400 || status > 505)
				abort();
			break;
		}
		/* The head must lie within the bytes and the limit. */
		if (req.head_len == 0 || req.head_len > size - off ||
		    req.head_len > HTTP_HEAD_DEFAULT ||
		    strlen(req.target) > HTTP_TARGET_MAX ||
		    req.target[0] != '/' ||
		    (req.transfer_encoding && req.content_length >= 0))
			abort();
		off += req.head_len;
		if (req.content_length > 0) {
			if ((uint64_t)req.content_length > size - off)
				break;
			off += (size_t)req.content_length;
		}
		buf_init(&b, 1 << 16);
		if (http_response(&b, 400, "00", "{}", 2, req.keepalive,
		    NULL) != 0)
			abort();
		buf_free(&b);
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Bounded byte buffers for building output and checked readers for parsing input. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/common.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 want, ncap;
	uint8_t	*p;

	if (n > b->max || b->len > b->max - n)
		return -ENOBUFS;
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if ((p = realloc(b->data, ncap)) == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_put(struct buf *b, const void *p, size_t n)
{
	int	 r;

	if (n == 0)
		return 0;
	if ((r = buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t	 x[2] = { v & 0xff, v >> 8 };

	return buf_put(b, x, sizeof(x));
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t	 x[4];
	int	 i;

	for (i = 0; i < 4; i++)
		x[i] = (v >> (8 * i)) & 0xff;
	return buf_put(b, x, sizeof(x));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t	 x[8];
	int	 i;

	for (i = 0; i < 8; i++)
		x[i] = (v >> (8 * i)) & 0xff;
	return buf_put(b, x, sizeof(x));
}

int
buf_put_str(struct buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

int
buf_putf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n, r;
	size_t	 room;

	/* No pointer arithmetic on a buffer that has no memory yet. */
	room = b->data != NULL ? b->cap - b->len : 0;
	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? (char *)b->data + b->len : NULL, room, fmt,
	    ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < room) {
		b->len += n;
		return 0;
	}
	/* Room for the NUL too, which is not counted in len. */
	if ((r = buf_reserve(b, (size_t)n + 1)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

int
buf_put_dec(struct buf *b, int64_t v)
{
	char		 d[24], *p = d + sizeof(d);
	uint64_t	 u;

	/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	return buf_put(b, p, (size_t)(d + sizeof(d) - p));
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void
reader_init(struct reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

size_t
reader_left(const struct reader *r)
{
	return r->len - r->off;
}

int
reader_get_bytes(struct reader *r, size_t n, const uint8_t **ret)
{
	if (n > reader_left(r))
		return -EBADMSG;
	*ret = r->p + r->off;
	r->off += n;
	return 0;
}

int
reader_copy(struct reader *r, void *dst, size_t n)
{
	const uint8_t	*p;
	int		 e;

	if ((e = reader_get_bytes(r, n, &p)) != 0)
		return e;
	memcpy(dst, p, n);
	return 0;
}

static int
reader_get_le(struct reader *r, size_t n, uint64_t *ret)
{
	const uint8_t	*p;
	uint64_t	 v = 0;
	size_t		 i;
	int		 e;

	if ((e = reader_get_bytes(r, n, &p)) != 0)
		return e;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	*ret = v;
	return 0;
}

int
reader_get_u8(struct reader *r, uint8_t *ret)
{
	uint64_t v;
	int	 e;

	if ((e = reader_get_le(r, 1, &v)) == 0)
		*ret = (uint8_t)v;
	return e;
}

int
reader_get_u16(struct reader *r, uint16_t *ret)
{
	uint64_t v;
	int	 e;

	if ((e = reader_get_le(r, 2, &v)) == 0)
		*ret = (uint16_t)v;
	return e;
}

int
reader_get_u32(struct reader *r, uint32_t *ret)
{
	uint64_t v;
	int	 e;

	if ((e = reader_get_le(r, 4, &v)) == 0)
		*ret = (uint32_t)v;
	return e;
}

int
reader_get_u64(struct reader *r, uint64_t *ret)
{
	return reader_get_le(r, 8, ret);
}

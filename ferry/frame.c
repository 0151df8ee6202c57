/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Frame v1 encoding and the decoder that checks every byte from the other side. */

#include <errno.h>
#include <string.h>

#include "ferry/ferry.h"

static int
frame_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* 1 if all n bytes are name characters. */
static int
frame_name_ok(const uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!frame_name_char(p[i]))
			return 0;
	return 1;
}

/* Length of a NUL-terminated name in a FRAME_NAME_MAX + 1 array, or -1. */
static int
frame_name_len(const char *s)
{
	size_t	 n;

	n = strnlen(s, FRAME_NAME_MAX + 1);
	if (n > FRAME_NAME_MAX || !frame_name_ok((const uint8_t *)s, n))
		return -1;
	return (int)n;
}

int
frame_encode(struct buf *out, const struct frame *f)
{
	int	 peer_len, type_len, r;
	size_t	 total;

	if (f->kind < FRAME_REQUEST || f->kind > FRAME_SEAL)
		return -EINVAL;
	if ((peer_len = frame_name_len(f->peer)) < 0 ||
	    (type_len = frame_name_len(f->type)) < 0)
		return -EINVAL;
	if (f->payload_len > FRAME_PAYLOAD_MAX ||
	    (f->payload_len > 0 && f->payload == NULL))
		return -EINVAL;
	total = FRAME_HEADER_LEN + (size_t)peer_len + (size_t)type_len +
	    f->payload_len;

	/* Reserve first so that a failure leaves out unchanged. */
	if ((r = buf_reserve(out, total)) != 0)
		return r;
	if ((r = buf_put(out, FRAME_MAGIC, 4)) != 0 ||
	    (r = buf_put_u8(out, FRAME_VERSION)) != 0 ||
	    (r = buf_put_u8(out, f->kind)) != 0 ||
	    (r = buf_put_u16(out, 0)) != 0 ||
	    (r = buf_put_u32(out, f->epoch)) != 0 ||
	    (r = buf_put_u64(out, f->seq)) != 0 ||
	    (r = buf_put_u64(out, f->time_ns)) != 0 ||
	    (r = buf_put(out, f->id, ID_LEN)) != 0 ||
	    (r = buf_put(out, f->digest, SHA256_LEN)) != 0 ||
	    (r = buf_put_u16(out, (uint16_t)peer_len)) != 0 ||
	    (r = buf_put_u16(out, (uint16_t)type_len)) != 0 ||
	    (r = buf_put_u32(out, f->payload_len)) != 0 ||
	    (r = buf_put(out, f->peer, (size_t)peer_len)) != 0 ||
	    (r = buf_put(out, f->type, (size_t)type_len)) != 0 ||
	    (r = buf_put(out, f->payload, f->payload_len)) != 0)
		return r;	/* cannot happen after the reserve */
	return 0;
}

/*
 * Reads a name of untrusted_len bytes into dst. When fewer bytes are present,
 * the ones there are still checked, so that garbage is refused as early as
 * possible rather than waited on.
 */
static int
frame_get_name(struct reader *rd, uint16_t untrusted_len, char *dst)
{
	const uint8_t	*untrusted;
	size_t		 left;

	left = reader_left(rd);
	if (left < untrusted_len) {
		if (reader_get_bytes(rd, left, &untrusted) != 0)
			return -EBADMSG;
		return frame_name_ok(untrusted, left) ? -EAGAIN : -EBADMSG;
	}
	if (reader_get_bytes(rd, untrusted_len, &untrusted) != 0)
		return -EAGAIN;
	if (!frame_name_ok(untrusted, untrusted_len))
		return -EBADMSG;
	memcpy(dst, untrusted, untrusted_len);
	dst[untrusted_len] = '\0';
	return 0;
}

int
frame_decode(const uint8_t *untrusted, size_t len, struct frame *ret,
    size_t *ret_used)
{
	struct reader	 rd;
	struct frame	 f;
	const uint8_t	*magic;
	uint8_t		 version;
	uint16_t	 flags, peer_len, type_len;
	uint32_t	 payload_len;
	size_t		 n;
	int		 r;

	memset(&f, 0, sizeof(f));
	reader_init(&rd, untrusted, len);

	/* A prefix of the magic is a frame still arriving. */
	n = len < 4 ? len : 4;
	if (n > 0 && memcmp(untrusted, FRAME_MAGIC, n) != 0)
		return -EBADMSG;
	if (reader_get_bytes(&rd, 4, &magic) != 0)
		return -EAGAIN;

	/* Each field is judged as soon as it is complete. */
	if (reader_get_u8(&rd, &version) != 0)
		return -EAGAIN;
	if (version != FRAME_VERSION)
		return -EBADMSG;
	if (reader_get_u8(&rd, &f.kind) != 0)
		return -EAGAIN;
	if (f.kind < FRAME_REQUEST || f.kind > FRAME_SEAL)
		return -EBADMSG;
	if (reader_get_u16(&rd, &flags) != 0)
		return -EAGAIN;
	if (flags != 0)
		return -EBADMSG;
	if (reader_get_u32(&rd, &f.epoch) != 0 ||
	    reader_get_u64(&rd, &f.seq) != 0 ||
	    reader_get_u64(&rd, &f.time_ns) != 0 ||
	    reader_copy(&rd, f.id, ID_LEN) != 0 ||
	    reader_copy(&rd, f.digest, SHA256_LEN) != 0)
		return -EAGAIN;
	if (reader_get_u16(&rd, &peer_len) != 0)
		return -EAGAIN;
	if (peer_len > FRAME_NAME_MAX)
		return -E2BIG;
	if (reader_get_u16(&rd, &type_len) != 0)
		return -EAGAIN;
	if (type_len > FRAME_NAME_MAX)
		return -E2BIG;
	if (reader_get_u32(&rd, &payload_len) != 0)
		return -EAGAIN;
	if (payload_len > FRAME_PAYLOAD_MAX)
		return -E2BIG;

	if ((r = frame_get_name(&rd, peer_len, f.peer)) != 0 ||
	    (r = frame_get_name(&rd, type_len, f.type)) != 0)
		return r;
	if (reader_get_bytes(&rd, payload_len, &f.payload) != 0)
		return -EAGAIN;
	f.payload_len = payload_len;

	*ret = f;
	*ret_used = rd.off;
	return 0;
}

const char *
frame_kind_name(uint8_t kind)
{
	static const char *const names[] = {
		[FRAME_REQUEST] = "request",
		[FRAME_REPLY] = "reply",
		[FRAME_ONEWAY] = "oneway",
		[FRAME_ACK] = "ack",
		[FRAME_HEARTBEAT] = "heartbeat",
		[FRAME_REJECT] = "reject",
		[FRAME_SEAL] = "seal",
	};

	if (kind < FRAME_REQUEST || kind > FRAME_SEAL)
		return "unknown";
	return names[kind];
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The audit journal writer: one JSON line per decision, one write(2) each. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

/*
 * Longest string value kept in a record, bytes. Every string we are given
 * is short (names, tokens, addresses); the cap keeps a line bounded even if
 * a caller passes something unexpected.
 */
#define AUDIT_STRING_MAX	512
#define AUDIT_TIME_LEN		48

struct audit {
	int	 fd;
	char	 side[8];
	time_t	 sec;		/* the second secstr spells */
	char	 secstr[32];
};

static int
audit_mkparent(const char *path)
{
	char	 dir[PATH_MAX];
	char	*slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(dir, 0750);
}

int
audit_open(const char *path, const char *side, struct audit **ret)
{
	struct audit	*a = NULL;
	int		 fd = -1, r;

	if (path == NULL || *path == '\0' || side == NULL ||
	    (strcmp(side, "outer") != 0 && strcmp(side, "inner") != 0))
		return -EINVAL;
	if ((r = audit_mkparent(path)) != 0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		r = -errno;
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	a->fd = fd;
	strcpy(a->side, side);	/* "outer" or "inner", checked above */
	*ret = a;
	fd = -1;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	return r;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Appends "key":"value" for s: at most AUDIT_STRING_MAX bytes (cut on a
 * UTF-8 character boundary), and if s is not valid UTF-8, every byte
 * outside ASCII replaced by '?', so that a record is never lost to its
 * content.
 */
static int
put_str(struct buf *b, const char *key, const char *value)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)value;
	size_t			 len, i, n;
	int			 valid = 1, r;

	if (value == NULL)
		return 0;
	len = strlen(value);
	if (len > AUDIT_STRING_MAX) {
		len = AUDIT_STRING_MAX;
		while (len > 0 && (s[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i += n)
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			valid = 0;
			break;
		}
	if ((r = buf_putf(b, ",\"%s\":\"", key)) != 0)
		return r;
	for (i = 0; i < len && r == 0; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			char	 esc[2] = { '\\', (char)s[i] };

			r = buf_put(b, esc, 2);
		} else if (s[i] < 0x20) {
			char	 esc[6] = { '\\', 'u', '0', '0',
			    hex[s[i] >> 4], hex[s[i] & 0xf] };

			r = buf_put(b, esc, 6);
		} else
			r = buf_put_u8(b, s[i] >= 0x80 && !valid ? '?' : s[i]);
	}
	return r != 0 ? r : buf_put_u8(b, '"');
}

static int
put_hex(struct buf *b, const char *key, const uint8_t *p, size_t n)
{
	char	 hex[2 * SHA256_LEN + 1];

	if (p == NULL)
		return 0;
	hex_encode(p, n, hex);
	return buf_putf(b, ",\"%s\":\"%s\"", key, hex);
}

static int
put_int(struct buf *b, const char *key, int64_t v)
{
	if (v < 0)
		return 0;
	return buf_putf(b, ",\"%s\":%lld", key, (long long)v);
}

/* RFC 3339 UTC with microseconds: 2026-11-22T02:15:59.123456Z. The
 * calendar part is formatted once per second. */
static void
audit_time(struct audit *a, char out[AUDIT_TIME_LEN])
{
	struct timespec	 ts;
	struct tm	 tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != a->sec || a->secstr[0] == '\0') {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(a->secstr, sizeof(a->secstr), "%Y-%m-%dT%H:%M:%S",
		    &tm);
		a->sec = ts.tv_sec;
	}
	snprintf(out, AUDIT_TIME_LEN, "%s.%06dZ", a->secstr,
	    (int)(ts.tv_nsec / 1000));
}

int
audit_append(struct audit *a, const struct audit_record *rec)
{
	struct buf	 b;
	char		 ts[AUDIT_TIME_LEN];
	ssize_t		 w;
	int		 r;

	if (rec->event == NULL)
		return -EINVAL;
	audit_time(a, ts);
	/* Bounded: 8 strings of AUDIT_STRING_MAX escaped 6-fold, and the rest. */
	buf_init(&b, 16 * 6 * AUDIT_STRING_MAX);
	/* Key order is the documented record layout. */
	if ((r = buf_putf(&b, "{\"time\":\"%s\",\"side\":\"%s\"", ts,
	    a->side)) != 0 ||
	    (r = put_str(&b, "event", rec->event)) != 0 ||
	    (r = put_hex(&b, "id", rec->id, ID_LEN)) != 0 ||
	    (r = put_str(&b, "peer", rec->peer)) != 0 ||
	    (r = put_str(&b, "addr", rec->addr)) != 0 ||
	    (r = put_str(&b, "type", rec->type)) != 0 ||
	    (r = put_str(&b, "decision", rec->decision)) != 0 ||
	    (r = put_str(&b, "reason", rec->reason)) != 0 ||
	    (r = put_str(&b, "field", rec->field)) != 0 ||
	    (r = put_int(&b, "status", rec->status > 0 ? rec->status : -1))
	    != 0 ||
	    (r = put_hex(&b, "digest", rec->digest, SHA256_LEN)) != 0 ||
	    (r = put_int(&b, "size", rec->size)) != 0 ||
	    (r = put_int(&b, "rows", rec->rows)) != 0 ||
	    (r = put_int(&b, "latency_us", rec->latency_us)) != 0 ||
	    (r = buf_put(&b, "}\n", 2)) != 0)
		goto out;
	/* One write, one line: appends from one process never interleave. */
	do {
		w = write(a->fd, b.data, b.len);
	} while (w == -1 && errno == EINTR);
	if (w == -1) {
		r = -errno;
		goto out;
	}
	r = (size_t)w == b.len ? 0 : -EIO;
 out:
	buf_free(&b);
	return r;
}

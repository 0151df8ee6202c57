/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Parsing the fixed head of a journal line and the journal's own marks (file, checkpoint). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

#define TIME_MAX	40

/* A cursor over untrusted line bytes; every step checks what is left. */
struct cur {
	const char	*p;
	size_t		 left;
};

static int
lit(struct cur *c, const char *s)
{
	size_t	 n = strlen(s);

	if (c->left < n || memcmp(c->p, s, n) != 0)
		return -EBADMSG;
	c->p += n;
	c->left -= n;
	return 0;
}

/* A JSON non-negative integer without leading zeros, fitting uint64. */
static int
num(struct cur *c, uint64_t *ret)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < c->left && c->p[i] >= '0' && c->p[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(c->p[i] - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(c->p[i] - '0');
	}
	if (i == 0 || (i > 1 && c->p[0] == '0'))
		return -EBADMSG;
	c->p += i;
	c->left -= i;
	*ret = v;
	return 0;
}

/* Exactly n bytes of lowercase hex, then '"'. */
static int
hex(struct cur *c, uint8_t *out, size_t n)
{
	size_t	 i;
	if (c->left < 2 * n + 1 || c->p[2 * n] != '"')
		return -EBADMSG;
	int	 v[2];

	for (i = 0; i < 2 * n; i++) {
		if (c->p[i] >= '0' && c->p[i] <= '9')
			v[i & 1] = c->p[i] - '0';
		else if (c->p[i] >= 'a' && c->p[i] <= 'f')
			v[i & 1] = c->p[i] - 'a' + 10;
		else
			return -EBADMSG;
		if (i & 1)
			out[i / 2] = (uint8_t)(v[0] << 4 | v[1]);
	}
	c->p += 2 * n + 1;
	c->left -= 2 * n + 1;
	return 0;
}

/* Characters of set up to '"' (consumed), 1..max of them. */
static int
token(struct cur *c, const char *set, size_t max, const char **ret,
    size_t *ret_len)
{
	size_t	 i;

	for (i = 0; i < c->left && c->p[i] != '"'; i++)
		if (i == max || strchr(set, c->p[i]) == NULL || c->p[i] == '\0')
			return -EBADMSG;
	if (i == 0 || i == c->left)
		return -EBADMSG;
	*ret = c->p;
	*ret_len = i;
	c->p += i + 1;
	c->left -= i + 1;
	return 0;
}

int
audit_parse_head(const char *line, size_t len, struct audit_head *ret)
{
	struct audit_head h;
	struct cur	 c = { line, len };
	const char	*side, *event;
	size_t		 side_len, event_len;

	memset(&h, 0, sizeof(h));
	if (len > AUDIT_LINE_MAX || len < 2 || line[len - 1] != '}')
		return -EBADMSG;
	if (lit(&c, "{\"n\":") != 0 || num(&c, &h.n) != 0 ||
	    lit(&c, ",\"prev\":\"") != 0 || hex(&c, h.prev, SHA256_LEN) != 0 ||
	    lit(&c, ",\"time\":\"") != 0 ||
	    token(&c, "0123456789-:.TZ", TIME_MAX, &h.time, &h.time_len) != 0 ||
	    lit(&c, ",\"side\":\"") != 0 ||
	    token(&c, "einortu", 5, &side, &side_len) != 0 ||
	    lit(&c, ",\"event\":\"") != 0 ||
	    token(&c, "abcdefghijklmnopqrstuvwxyz_", sizeof(h.event) - 1,
	    &event, &event_len) != 0)
		return -EBADMSG;
	if (!(side_len == 5 && (memcmp(side, "outer", 5) == 0 ||
	    memcmp(side, "inner", 5) == 0)))
		return -EBADMSG;
	/* Then the other members, or the end. */
	if (c.left < 1 || (c.p[0] != ',' && c.left != 1))
		return -EBADMSG;
	memcpy(h.side, side, 5);
	memcpy(h.event, event, event_len);
	h.rest = c.p;
	h.rest_len = c.left;
	*ret = h;
	return 0;
}

int
audit_parse_file(const struct audit_head *h, uint64_t *ret_file)
{
	struct cur	 c = { h->rest, h->rest_len };
	uint64_t	 file;

	if (strcmp(h->event, "file") != 0 || lit(&c, ",\"file\":") != 0 ||
	    num(&c, &file) != 0 || lit(&c, "}") != 0 || c.left != 0)
		return -EBADMSG;
	*ret_file = file;
	return 0;
}

int
audit_parse_checkpoint(const struct audit_head *h, uint64_t *ret_file,
    char ret_reason[16], uint8_t ret_sig[AUDIT_SIG_LEN])
{
	struct cur	 c = { h->rest, h->rest_len };
	uint64_t	 file;
	uint8_t		 sig[AUDIT_SIG_LEN];
	const char	*reason;
	size_t		 reason_len;

	if (strcmp(h->event, "checkpoint") != 0 ||
	    lit(&c, ",\"file\":") != 0 || num(&c, &file) != 0 ||
	    lit(&c, ",\"reason\":\"") != 0 ||
	    token(&c, "abcdefghijklmnopqrstuvwxyz", 15, &reason,
	    &reason_len) != 0 ||
	    lit(&c, ",\"sig\":\"") != 0 || hex(&c, sig, sizeof(sig)) != 0 ||
	    lit(&c, "}") != 0 || c.left != 0)
		return -EBADMSG;
	if (!((reason_len == 8 && memcmp(reason, "interval", 8) == 0) ||
	    (reason_len == 6 && memcmp(reason, "rotate", 6) == 0) ||
	    (reason_len == 5 && memcmp(reason, "close", 5) == 0)))
		return -EBADMSG;
	*ret_file = file;
	memcpy(ret_reason, reason, reason_len);
	ret_reason[reason_len] = '\0';
	memcpy(ret_sig, sig, sizeof(sig));
	return 0;
}

/*
 * A journal file read line by line through a fixed buffer: memory stays
 * bounded whatever the file holds.
 */
#define READER_BUF	(1024 * 1024)

struct audit_reader {
	int		 fd;
	char		*buf;
	size_t		 off, len;
	int		 eof;
};

int
audit_reader_open(const char *path, struct audit_reader **ret)
{
	struct audit_reader	*rd;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	if ((rd = calloc(1, sizeof(*rd))) == NULL ||
	    (rd->buf = malloc(READER_BUF)) == NULL) {
		free(rd);
		close(fd);
		return -ENOMEM;
	}
	rd->fd = fd;
	*ret = rd;
	return 0;
}

int
audit_reader_next(struct audit_reader *rd, const char **ret, size_t *ret_len)
{
	const char	*nl;
	ssize_t		 got;
	size_t		 n;

	for (;;) {
		n = rd->len - rd->off;
		if ((nl = memchr(rd->buf + rd->off, '\n', n)) != NULL) {
			*ret = rd->buf + rd->off;
			*ret_len = (size_t)(nl - (rd->buf + rd->off)) + 1;
			rd->off += *ret_len;
			return 1;
		}
		if (n >= AUDIT_LINE_MAX)
			return -E2BIG;
		if (rd->eof) {
			if (n == 0)
				return 0;
			*ret = rd->buf + rd->off;
			*ret_len = n;
			rd->off = rd->len;
			return 1;	/* a last line without '\n' */
		}
		memmove(rd->buf, rd->buf + rd->off, n);
		rd->off = 0;
		rd->len = n;
		got = read(rd->fd, rd->buf + rd->len, READER_BUF - rd->len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -errno;
		if (got == 0)
			rd->eof = 1;
		rd->len += (size_t)got;
	}
}

void
audit_reader_close(struct audit_reader *rd)
{
	if (rd == NULL)
		return;
	close(rd->fd);
	free(rd->buf);
	free(rd);
}

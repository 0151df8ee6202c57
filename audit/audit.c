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

#include <jansson.h>

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

/*
 * A JSON string for s: at most AUDIT_STRING_MAX bytes (cut on a UTF-8
 * character boundary), and if s is not valid UTF-8, every byte outside
 * ASCII replaced by '?', so that a record is never lost to its content.
 */
static json_t *
audit_string(const char *s)
{
	char	 tmp[AUDIT_STRING_MAX];
	size_t	 len, i;
	json_t	*j;

	len = strlen(s);
	if (len > sizeof(tmp)) {
		len = sizeof(tmp);
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	if ((j = json_stringn(s, len)) != NULL)
		return j;
	memcpy(tmp, s, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)tmp[i] >= 0x80)
			tmp[i] = '?';
	return json_stringn(tmp, len);
}

static int
audit_set_str(json_t *o, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	if (json_object_set_new(o, key, audit_string(value)) == -1)
		return -ENOMEM;
	return 0;
}

static int
audit_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char	 hex[2 * SHA256_LEN + 1];

	if (p == NULL)
		return 0;
	hex_encode(p, n, hex);
	if (json_object_set_new(o, key, json_string(hex)) == -1)
		return -ENOMEM;
	return 0;
}

static int
audit_set_int(json_t *o, const char *key, int64_t v)
{
	if (v < 0)
		return 0;
	if (json_object_set_new(o, key, json_integer(v)) == -1)
		return -ENOMEM;
	return 0;
}

/* RFC 3339 UTC with microseconds: 2026-11-22T02:15:59.123456Z. */
static void
audit_time(char out[AUDIT_TIME_LEN])
{
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, AUDIT_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, AUDIT_TIME_LEN - n, ".%06dZ",
	    (int)(ts.tv_nsec / 1000));
}

int
audit_append(struct audit *a, const struct audit_record *rec)
{
	json_t	*o = NULL;
	char	*line = NULL, ts[AUDIT_TIME_LEN];
	size_t	 len;
	ssize_t	 w;
	int	 r;

	if (rec->event == NULL)
		return -EINVAL;
	if ((o = json_object()) == NULL)
		return -ENOMEM;
	audit_time(ts);
	/* Key order is the documented record layout (JSON_PRESERVE_ORDER). */
	if ((r = audit_set_str(o, "time", ts)) != 0 ||
	    (r = audit_set_str(o, "side", a->side)) != 0 ||
	    (r = audit_set_str(o, "event", rec->event)) != 0 ||
	    (r = audit_set_hex(o, "id", rec->id, ID_LEN)) != 0 ||
	    (r = audit_set_str(o, "peer", rec->peer)) != 0 ||
	    (r = audit_set_str(o, "addr", rec->addr)) != 0 ||
	    (r = audit_set_str(o, "type", rec->type)) != 0 ||
	    (r = audit_set_str(o, "decision", rec->decision)) != 0 ||
	    (r = audit_set_str(o, "reason", rec->reason)) != 0 ||
	    (r = audit_set_str(o, "field", rec->field)) != 0 ||
	    (r = audit_set_int(o, "status", rec->status > 0 ?
	    rec->status : -1)) != 0 ||
	    (r = audit_set_hex(o, "digest", rec->digest, SHA256_LEN)) != 0 ||
	    (r = audit_set_int(o, "size", rec->size)) != 0 ||
	    (r = audit_set_int(o, "rows", rec->rows)) != 0 ||
	    (r = audit_set_int(o, "latency_us", rec->latency_us)) != 0)
		goto out;
	if ((line = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT)) ==
	    NULL) {
		r = -ENOMEM;
		goto out;
	}
	len = strlen(line);
	/* The terminating NUL becomes the newline: one write, one line. */
	line[len++] = '\n';
	do {
		w = write(a->fd, line, len);
	} while (w == -1 && errno == EINTR);
	if (w == -1) {
		r = -errno;
		goto out;
	}
	if ((size_t)w != len) {
		r = -EIO;
		goto out;
	}
	r = 0;
 out:
	free(line);
	json_decref(o);
	return r;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The audit journal writer: chained JSON lines, signed checkpoints, rotation, syslog copy. */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "audit/audit.h"

/*
 * Longest string value kept in a record, bytes. Every string we are given
 * is short (names, tokens, addresses); the cap keeps a line bounded even if
 * a caller passes something unexpected.
 */
#define AUDIT_STRING_MAX	512
#define AUDIT_TIME_LEN		48
#define AUDIT_CP_RECORDS	1000
#define AUDIT_CP_MS		10000

struct audit {
	int		 fd;		/* -1 after a failed rotation */
	char		 side[8];
	char		*path;
	time_t		 sec;		/* the second secstr spells */
	char		 secstr[32];
	EVP_PKEY	*key;		/* not owned; NULL: chain only */
	EVP_MD_CTX	*md;		/* signing */
	EVP_MD		*sha256;	/* fetched once: a fetch per line
					 * costs more than the hash */
	EVP_MD_CTX	*hash;
	struct audit_config cfg;
	uint64_t	 n;		/* number of the next record */
	uint8_t		 prev[SHA256_LEN];	/* hash of the last line */
	uint64_t	 file;		/* sequence of the current file */
	uint64_t	 size;		/* its bytes */
	uint64_t	 opened;	/* its start, mono ms */
	int		 fresh;		/* an empty file: its file record is
					 * written with the first record */
	uint64_t	 unsigned_n;	/* records since the last checkpoint */
	uint64_t	 cp_ms;		/* last checkpoint, mono ms */
	uint64_t	 appended;
	struct buf	 line;		/* reused for every line */
	int		 log_fd;	/* syslog socket or -1 */
	struct sockaddr_un log_addr;	/* where each message goes */
	char		 host[64];
	uint64_t	 log_dropped;
};

/*
 * Appending without printf: a record is formatted on every decision, and
 * vsnprintf was a third of its cost.
 */
static int
put_lit(struct buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

/* ,"key": */
static int
put_key(struct buf *b, const char *key)
{
	int	 r;

	if ((r = buf_put(b, ",\"", 2)) != 0 || (r = put_lit(b, key)) != 0)
		return r;
	return buf_put(b, "\":", 2);
}

static int
put_u64(struct buf *b, uint64_t v)
{
	char	 d[20];
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return buf_put(b, d + i, sizeof(d) - i);
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


/* A JSON string of s[0..len): quotes, backslashes and control characters
 * escaped; with mask, bytes outside ASCII become '?'. */
static int
put_escaped(struct buf *b, const unsigned char *s, size_t len, int mask)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	int			 r;

	if ((r = buf_put_u8(b, '"')) != 0)
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
			r = buf_put_u8(b, s[i] >= 0x80 && mask ? '?' : s[i]);
	}
	return r != 0 ? r : buf_put_u8(b, '"');
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
	if ((r = put_key(b, key)) != 0)
		return r;
	return put_escaped(b, s, len, !valid);
}

/* "content":"…" for a payload kept whole: never cut, never altered. */
static int
put_content(struct buf *b, const char *value, size_t len)
{
	const unsigned char	*s = (const unsigned char *)value;
	size_t			 i, n;
	int			 r;

	if (value == NULL)
		return 0;
	for (i = 0; i < len; i += n)
		if ((n = utf8_seq(s + i, len - i)) == 0)
			return -EILSEQ;
	if ((r = buf_put_str(b, ",\"content\":")) != 0)
		return r;
	return put_escaped(b, s, len, 0);
}

static int
put_hex(struct buf *b, const char *key, const uint8_t *p, size_t n)
{
	char	 hex[2 * SHA256_LEN + 1];
	int	 r;

	if (p == NULL)
		return 0;
	hex_encode(p, n, hex);
	if ((r = put_key(b, key)) != 0 || (r = buf_put_u8(b, '"')) != 0 ||
	    (r = buf_put(b, hex, 2 * n)) != 0)
		return r;
	return buf_put_u8(b, '"');
}

static int
put_int(struct buf *b, const char *key, int64_t v)
{
	int	 r;

	if (v < 0)
		return 0;
	if ((r = put_key(b, key)) != 0)
		return r;
	return put_u64(b, (uint64_t)v);
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
	{
		size_t	 n = strlen(a->secstr);
		long	 us = ts.tv_nsec / 1000;
		int	 i;

		/* secstr is 19 characters: room for ".uuuuuuZ" and NUL. */
		memcpy(out, a->secstr, n);
		out[n] = '.';
		for (i = 6; i >= 1; i--, us /= 10)
			out[n + i] = (char)('0' + us % 10);
		out[n + 7] = 'Z';
		out[n + 8] = '\0';
	}
}

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

/* The head every line starts with; the time is returned for syslog. */
static int
line_begin(struct audit *a, const char *event, char ts[AUDIT_TIME_LEN])
{
	char	 hex[2 * SHA256_LEN + 1];
	int	 r;

	if (strcmp(event, "checkpoint") != 0)	/* its time is signed */
		audit_time(a, ts);
	hex_encode(a->prev, SHA256_LEN, hex);
	buf_reset(&a->line);
	if ((r = put_lit(&a->line, "{\"n\":")) != 0 ||
	    (r = put_u64(&a->line, a->n)) != 0 ||
	    (r = put_lit(&a->line, ",\"prev\":\"")) != 0 ||
	    (r = buf_put(&a->line, hex, 2 * SHA256_LEN)) != 0 ||
	    (r = put_lit(&a->line, "\",\"time\":\"")) != 0 ||
	    (r = put_lit(&a->line, ts)) != 0 ||
	    (r = put_lit(&a->line, "\",\"side\":\"")) != 0 ||
	    (r = put_lit(&a->line, a->side)) != 0 ||
	    (r = put_lit(&a->line, "\",\"event\":\"")) != 0 ||
	    (r = put_lit(&a->line, event)) != 0)
		return r;
	return buf_put_u8(&a->line, '"');
}

/* Best effort: the journal on disk is the record, syslog a copy. */
static void
syslog_send(struct audit *a, const char *ts)
{
	struct buf	 m;
	ssize_t		 w;

	if (a->log_fd == -1)
		return;
	buf_init(&m, AUDIT_LINE_MAX + 256);
	/* local0.info, RFC 5424; the line without its '\n' is the MSG. */
	if (buf_putf(&m, "<134>1 %s %s isogate-%s %d audit - ", ts, a->host,
	    a->side, (int)getpid()) != 0 ||
	    buf_put(&m, a->line.data, a->line.len - 1) != 0) {
		a->log_dropped++;
		goto out;
	}
	/*
	 * Unconnected, addressed per message: a restarted syslogd's new
	 * socket is reached without connect(2), which the sandbox forbids.
	 */
	w = sendto(a->log_fd, m.data, m.len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&a->log_addr, sizeof(a->log_addr));
	if (w == (ssize_t)m.len)
		goto out;
	a->log_dropped++;
 out:
	buf_free(&m);
}

/* Ends the line in a->line, writes it whole, and advances the chain. */
static int
line_write(struct audit *a, const char *ts)
{
	ssize_t	 w;
	int	 r;

	if (a->fd == -1)
		return -EBADF;
	if ((r = buf_put(&a->line, "}\n", 2)) != 0)
		return r;
	/* One write, one line: appends from one process never interleave. */
	do {
		w = write(a->fd, a->line.data, a->line.len);
	} while (w == -1 && errno == EINTR);
	if (w == -1)
		return -errno;
	if ((size_t)w != a->line.len) {
		/* A torn line: nothing after it could be chained. */
		close(a->fd);
		a->fd = -1;
		return -EIO;
	}
	if (EVP_DigestInit_ex(a->hash, a->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(a->hash, a->line.data, a->line.len - 1) != 1 ||
	    EVP_DigestFinal_ex(a->hash, a->prev, NULL) != 1) {
		/* The line is written but the chain cannot go on. */
		ERR_clear_error();
		close(a->fd);
		a->fd = -1;
		return -EIO;
	}
	a->n++;
	a->size += a->line.len;
	syslog_send(a, ts);
	return 0;
}

/* reason is at most 15 bytes and time at most 40: 80 + 16 + 40 fit. */
size_t
audit_signed_bytes(const char *side, uint64_t file, uint64_t n,
    const uint8_t chain[SHA256_LEN], const char *reason, const char *time,
    size_t time_len, uint8_t out[AUDIT_SIGNED_MAX])
{
	static const char ctx[] = "isogate-audit-checkpoint-v1";	/* 27 */
	size_t		 rlen = strnlen(reason, 15), off;
	int		 i;

	memcpy(out, ctx, 27);
	memcpy(out + 27, side, 5);	/* "outer" or "inner" */
	for (i = 0; i < 8; i++) {
		out[32 + i] = (uint8_t)(file >> (8 * i));
		out[40 + i] = (uint8_t)(n >> (8 * i));
	}
	memcpy(out + 48, chain, SHA256_LEN);
	off = 80;
	memcpy(out + off, reason, rlen);
	off += rlen;
	out[off++] = '\n';
	if (time_len > AUDIT_SIGNED_MAX - off)
		time_len = AUDIT_SIGNED_MAX - off;
	memcpy(out + off, time, time_len);
	return off + time_len;
}

static int
write_checkpoint(struct audit *a, const char *reason)
{
	uint8_t		 msg[AUDIT_SIGNED_MAX], sig[AUDIT_SIG_LEN];
	char		 ts[AUDIT_TIME_LEN], hex[2 * AUDIT_SIG_LEN + 1];
	size_t		 siglen = sizeof(sig), mlen;
	int		 r;

	if (a->key == NULL)
		return 0;
	/* Signs the chain up to this line, and what this line says. */
	audit_time(a, ts);
	mlen = audit_signed_bytes(a->side, a->file, a->n, a->prev, reason, ts,
	    strlen(ts), msg);
	if (EVP_DigestSignInit(a->md, NULL, NULL, NULL, a->key) != 1 ||
	    EVP_DigestSign(a->md, sig, &siglen, msg, mlen) != 1 ||
	    siglen != sizeof(sig)) {
		ERR_clear_error();
		return -EIO;
	}
	hex_encode(sig, sizeof(sig), hex);
	if ((r = line_begin(a, "checkpoint", ts)) != 0 ||
	    (r = buf_putf(&a->line, ",\"file\":%llu,\"reason\":\"%s\","
	    "\"sig\":\"%s\"", (unsigned long long)a->file, reason, hex)) != 0 ||
	    (r = line_write(a, ts)) != 0)
		return r;
	a->unsigned_n = 0;
	a->cp_ms = mono_ms();
	if (fsync(a->fd) == -1)
		return -errno;
	return 0;
}

/* Reads up to n bytes at off. */
static int
read_at(int fd, char *p, size_t n, off_t off, size_t *ret)
{
	ssize_t	 got;
	size_t	 done = 0;

	while (done < n) {
		got = pread(fd, p + done, n - done, off + (off_t)done);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -errno;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	*ret = done;
	return 0;
}

/*
 * Continues an existing journal file of size bytes: the file sequence from
 * its first line, the record number and chain from its last.
 */
static int
resume(struct audit *a, int fd, off_t size)
{
	struct audit_head h;
	char		*p;
	size_t		 got, i, start;
	off_t		 off;
	uint64_t	 file;
	int		 r;

	if ((p = malloc(AUDIT_LINE_MAX)) == NULL)
		return -ENOMEM;
	if ((r = read_at(fd, p, AUDIT_LINE_MAX, 0, &got)) != 0)
		goto out;
	r = -EBADMSG;
	for (i = 0; i < got && p[i] != '\n'; i++)
		;
	if (i == got || audit_parse_head(p, i, &h) != 0 ||
	    strcmp(h.side, a->side) != 0 || audit_parse_file(&h, &file) != 0)
		goto out;
	off = size > AUDIT_LINE_MAX ? size - AUDIT_LINE_MAX : 0;
	if ((r = read_at(fd, p, (size_t)(size - off), off, &got)) != 0)
		goto out;
	r = -EBADMSG;
	if (got == 0 || p[got - 1] != '\n')
		goto out;	/* a torn last line */
	for (start = got - 1; start > 0 && p[start - 1] != '\n'; start--)
		;
	if (start == 0 && off != 0)
		goto out;
	if (audit_parse_head(p + start, got - 1 - start, &h) != 0 ||
	    strcmp(h.side, a->side) != 0 || h.n == UINT64_MAX)
		goto out;
	if ((r = sha256(p + start, got - 1 - start, a->prev)) != 0)
		goto out;
	a->n = h.n + 1;
	a->file = file;
	a->size = (uint64_t)size;
	/* Records after the last checkpoint (a crash) are signed by the
	 * next one; count them as unsigned so that it comes. */
	a->unsigned_n = strcmp(h.event, "checkpoint") == 0 ? 0 : 1;
	r = 0;
 out:
	free(p);
	return r;
}

/*
 * A fresh journal file after rotated ones (a restart just after a
 * rotation, or the current file archived): the chain goes on from the
 * newest PATH.NNNNNN, so that no restart breaks it.
 */
static int
resume_rotated(struct audit *a)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	const char	*base, *slash, *q;
	struct dirent	*e;
	struct stat	 st;
	uint64_t	 seq, best = 0;
	size_t		 blen;
	DIR		*d;
	int		 found = 0, fd, r;

	slash = strrchr(a->path, '/');
	base = slash != NULL ? slash + 1 : a->path;
	blen = strlen(base);
	if (slash == NULL)
		strcpy(dir, ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", slash == a->path ? 1 :
	    (int)(slash - a->path), a->path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((d = opendir(dir)) == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, base, blen) != 0 ||
		    e->d_name[blen] != '.')
			continue;
		q = e->d_name + blen + 1;
		if (strlen(q) < 6 || strspn(q, "0123456789") != strlen(q) ||
		    parse_u64(q, 0, UINT64_MAX - 1, &seq) != 0)
			continue;
		if (!found || seq > best)
			best = seq;
		found = 1;
	}
	closedir(d);
	if (!found)
		return 0;
	if (snprintf(path, sizeof(path), "%s.%06llu", a->path,
	    (unsigned long long)best) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size == 0)
		r = -EBADMSG;
	else
		r = resume(a, fd, st.st_size);
	close(fd);
	if (r != 0)
		return r;
	if (a->file != best)
		return -EBADMSG;	/* named for another file */
	a->file++;
	a->size = 0;
	a->unsigned_n = 0;
	return 0;
}

/* Opens a->path: continues it, or marks it fresh (see file_start). */
static int
open_file(struct audit *a)
{
	struct stat	 st;
	int		 fd, r;

	if ((fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		r = -errno;
		close(fd);
		return r;
	}
	a->opened = mono_ms();
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((r = resume(a, fd, st.st_size)) != 0) {
			close(fd);
			return r;
		}
		a->fd = fd;
		return 0;
	}
	if ((r = fsync_dir_of(a->path)) != 0) {
		close(fd);
		return r;
	}
	a->fd = fd;
	a->size = 0;
	a->fresh = 1;
	return 0;
}

/* Starts a fresh file with its file record, which continues the chain. */
static int
file_start(struct audit *a)
{
	char	 ts[AUDIT_TIME_LEN];
	int	 r;

	if (!a->fresh)
		return 0;
	if ((r = line_begin(a, "file", ts)) != 0 ||
	    (r = buf_putf(&a->line, ",\"file\":%llu",
	    (unsigned long long)a->file)) != 0 ||
	    (r = line_write(a, ts)) != 0)
		return r;
	a->fresh = 0;
	a->unsigned_n++;
	return 0;
}

/* Closes the file with a rotate checkpoint and starts the next one. */
static int
rotate(struct audit *a)
{
	char	 old[PATH_MAX];
	int	 r;

	if ((r = write_checkpoint(a, "rotate")) != 0)
		return r;
	if (a->key == NULL && fsync(a->fd) == -1)
		return -errno;
	if (snprintf(old, sizeof(old), "%s.%06llu", a->path,
	    (unsigned long long)a->file) >= (int)sizeof(old))
		return -ENAMETOOLONG;
	/* Never over an older file of the same name. */
	if (access(old, F_OK) == 0)
		return -EEXIST;
	if (rename(a->path, old) == -1)
		return -errno;
	close(a->fd);
	a->fd = -1;
	a->file++;
	return open_file(a);
}

int
audit_open_signed(const char *path, const char *side, EVP_PKEY *key,
    const struct audit_config *cfg, struct audit **ret)
{
	struct audit		*a = NULL;
	struct sockaddr_un	 sun;
	int			 r;

	if (path == NULL || *path == '\0' || side == NULL ||
	    (strcmp(side, "outer") != 0 && strcmp(side, "inner") != 0))
		return -EINVAL;
	if ((r = audit_mkparent(path)) != 0)
		return r;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->fd = a->log_fd = -1;
	strcpy(a->side, side);	/* "outer" or "inner", checked above */
	buf_init(&a->line, AUDIT_LINE_MAX);
	if (cfg != NULL)
		a->cfg = *cfg;
	if (a->cfg.checkpoint_records == 0)
		a->cfg.checkpoint_records = AUDIT_CP_RECORDS;
	if (a->cfg.checkpoint_ms == 0)
		a->cfg.checkpoint_ms = AUDIT_CP_MS;
	a->key = key;
	a->cp_ms = mono_ms();
	if ((a->path = strdup(path)) == NULL ||
	    (a->md = EVP_MD_CTX_new()) == NULL ||
	    (a->hash = EVP_MD_CTX_new()) == NULL ||
	    (a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (cfg != NULL && cfg->syslog != NULL &&
	    (a->cfg.syslog = strdup(cfg->syslog)) == NULL)) {
		a->cfg.syslog = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (a->cfg.syslog != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(a->cfg.syslog) >= sizeof(sun.sun_path)) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		strcpy(sun.sun_path, a->cfg.syslog);	/* checked above */
		if (gethostname(a->host, sizeof(a->host)) != 0 ||
		    a->host[0] == '\0')
			strcpy(a->host, "-");
		a->host[sizeof(a->host) - 1] = '\0';
		/* The socket is made now, before any sandbox; connecting
		 * checks that syslogd listens. Messages are addressed each
		 * time (syslog_send), so a restarted syslogd is found. */
		if ((a->log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) == -1 || connect(a->log_fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == -1) {
			r = -errno;
			goto fail;
		}
		a->log_addr = sun;
	}
	if ((r = open_file(a)) != 0 ||
	    (a->fresh && (r = resume_rotated(a)) != 0))
		goto fail;
	*ret = a;
	return 0;
 fail:
	a->key = NULL;	/* no closing checkpoint for a journal not opened */
	audit_close(a);
	return r;
}

int
audit_open(const char *path, const char *side, struct audit **ret)
{
	return audit_open_signed(path, side, NULL, NULL, ret);
}

/* [a-z_]{1,32}, and not one of the journal's own marks. */
static int
event_ok(const char *e)
{
	size_t	 i;

	if (e == NULL || strcmp(e, "file") == 0 ||
	    strcmp(e, "checkpoint") == 0)
		return 0;
	for (i = 0; e[i] != '\0'; i++)
		if (i == 32 || !((e[i] >= 'a' && e[i] <= 'z') || e[i] == '_'))
			return 0;
	return i > 0;
}

static int
rotation_due(const struct audit *a)
{
	return (a->cfg.rotate_bytes > 0 && a->size >= a->cfg.rotate_bytes) ||
	    (a->cfg.rotate_secs > 0 &&
	    mono_ms() - a->opened >= (uint64_t)a->cfg.rotate_secs * 1000);
}

int
audit_note(struct audit *a, const char *event, const char *decision,
    const char *reason)
{
	struct audit_record	 rec;

	memset(&rec, 0, sizeof(rec));
	rec.event = event;
	rec.decision = decision;
	rec.reason = reason;
	rec.size = rec.rows = rec.latency_us = -1;
	return audit_append(a, &rec);
}

int
audit_append(struct audit *a, const struct audit_record *rec)
{
	char	 ts[AUDIT_TIME_LEN];
	int	 r;

	if (!event_ok(rec->event))
		return -EINVAL;
	/* After a failed rotation the next file is tried again. */
	if (a->fd == -1 && (r = open_file(a)) != 0)
		return r;
	if (rotation_due(a) && (r = rotate(a)) != 0)
		return r;
	if ((r = file_start(a)) != 0)
		return r;
	/* Key order is the documented record layout. */
	if ((r = line_begin(a, rec->event, ts)) != 0 ||
	    (r = put_hex(&a->line, "id", rec->id, ID_LEN)) != 0 ||
	    (r = put_str(&a->line, "peer", rec->peer)) != 0 ||
	    (r = put_str(&a->line, "addr", rec->addr)) != 0 ||
	    (r = put_str(&a->line, "type", rec->type)) != 0 ||
	    (r = put_str(&a->line, "decision", rec->decision)) != 0 ||
	    (r = put_str(&a->line, "reason", rec->reason)) != 0 ||
	    (r = put_str(&a->line, "field", rec->field)) != 0 ||
	    (r = put_int(&a->line, "status",
	    rec->status > 0 ? rec->status : -1)) != 0 ||
	    (r = put_hex(&a->line, "digest", rec->digest, SHA256_LEN)) != 0 ||
	    (r = put_int(&a->line, "size", rec->size)) != 0 ||
	    (r = put_int(&a->line, "rows", rec->rows)) != 0 ||
	    (r = put_int(&a->line, "latency_us", rec->latency_us)) != 0 ||
	    (r = put_content(&a->line, rec->content, rec->content_len)) != 0 ||
	    (r = line_write(a, ts)) != 0)
		return r;
	a->appended++;
	a->unsigned_n++;
	if (a->cfg.sync && fsync(a->fd) == -1)
		return -errno;
	/* The record is written; a failed checkpoint is retried later
	 * (audit_tick reports it). */
	if (a->unsigned_n >= a->cfg.checkpoint_records ||
	    mono_ms() - a->cp_ms >= a->cfg.checkpoint_ms)
		(void)write_checkpoint(a, "interval");
	return 0;
}

int
audit_checkpoint(struct audit *a)
{
	if (a->fd == -1)
		return -EBADF;
	if (a->unsigned_n == 0)
		return 0;
	if (a->key == NULL)
		return fsync(a->fd) == -1 ? -errno : 0;
	return write_checkpoint(a, "interval");
}

int
audit_tick(struct audit *a)
{
	int	 r;

	if (a->fd == -1)
		return open_file(a);
	/* A new file gets its file record now, so that it is never left
	 * empty behind a rotation. */
	if (rotation_due(a))
		return (r = rotate(a)) != 0 ? r : file_start(a);
	if (a->unsigned_n > 0 && mono_ms() - a->cp_ms >= a->cfg.checkpoint_ms)
		return audit_checkpoint(a);
	return 0;
}

uint64_t
audit_count(const struct audit *a)
{
	return a->appended;
}

uint64_t
audit_syslog_dropped(const struct audit *a)
{
	return a->log_dropped;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1) {
		/* A file still empty stays empty: nothing to sign. */
		if (a->key != NULL && !a->fresh)
			(void)write_checkpoint(a, "close");
		else
			(void)fsync(a->fd);
		close(a->fd);
	}
	if (a->log_fd != -1)
		close(a->log_fd);
	EVP_MD_CTX_free(a->md);
	EVP_MD_CTX_free(a->hash);
	EVP_MD_free(a->sha256);
	buf_free(&a->line);
	free((char *)a->cfg.syslog);
	free(a->path);
	free(a);
}

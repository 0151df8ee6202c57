/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The spool:DIR transport: durable store-and-forward, one fsync'd file per flush, read in order. */

#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/transport.h"

#define SPOOL_SUFFIX		".isf"
#define SPOOL_QUARANTINE	"quarantine"
#define SPOOL_ARCHIVE		"archive"
#define SPOOL_SCAN_MAX		1024	/* names remembered per scan */
#define SPOOL_TMP_PREFIX	".tmp-"

/* A unit (file) by the last frame it holds; names sort as these do. */
struct spool_unit {
	uint32_t	 epoch;
	uint64_t	 seq;
};

enum spool_rx_state {
	SPOOL_IDLE,		/* no file open */
	SPOOL_READING,		/* fd is the current file */
	SPOOL_ENDED,		/* the file was read: waiting for release */
};

struct spool {
	struct transport	 base;
	enum transport_role	 role;
	char			 path[PATH_MAX];
	int			 dirfd;

	/* TX: bytes of the unit being built. */
	struct buf		 unit;

	/* RX */
	int			 notify;	/* inotify fd, the poll fd */
	int			 dirty;		/* the directory may have changed */
	int			 archive;
	struct spool_unit	*scan;		/* sorted, smallest first */
	size_t			 nscan;
	size_t			 scan_off;
	enum spool_rx_state	 state;
	int			 fd;		/* current file */
	char			 cur[SPOOL_NAME_LEN + 1];
};

int
spool_name(uint32_t epoch, uint64_t seq, char out[SPOOL_NAME_LEN + 1])
{
	int	 n;

	n = snprintf(out, SPOOL_NAME_LEN + 1, "%010u-%020llu" SPOOL_SUFFIX,
	    epoch, (unsigned long long)seq);
	return n == SPOOL_NAME_LEN ? 0 : -EINVAL;
}

int
spool_name_parse(const char *untrusted, uint32_t *ret_epoch,
    uint64_t *ret_seq)
{
	char		 e[11], s[21];
	uint64_t	 epoch, seq;
	size_t		 i;

	if (strnlen(untrusted, SPOOL_NAME_LEN + 1) != SPOOL_NAME_LEN ||
	    untrusted[10] != '-' ||
	    strcmp(untrusted + 31, SPOOL_SUFFIX) != 0)
		return -EINVAL;
	for (i = 0; i < 31; i++)
		if (i != 10 && (untrusted[i] < '0' || untrusted[i] > '9'))
			return -EINVAL;
	memcpy(e, untrusted, 10);
	e[10] = '\0';
	memcpy(s, untrusted + 11, 20);
	s[20] = '\0';
	if (parse_u64(e, 1, UINT32_MAX, &epoch) != 0 ||
	    parse_u64(s, 1, UINT64_MAX, &seq) != 0)
		return -EINVAL;
	*ret_epoch = (uint32_t)epoch;
	*ret_seq = seq;
	return 0;
}

static int
unit_cmp(const struct spool_unit *a, const struct spool_unit *b)
{
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

static int
spool_open(const char *arg, enum transport_role role, struct transport **ret)
{
	struct spool	*sp;
	size_t		 n;
	int		 r;

	n = strlen(arg);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sp->path) - SPOOL_NAME_LEN - 32)
		return -ENAMETOOLONG;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return -ENOMEM;
	sp->base.ops = &spool_transport_ops;
	sp->role = role;
	sp->dirfd = sp->notify = sp->fd = -1;
	sp->dirty = 1;
	memcpy(sp->path, arg, n + 1);
	buf_init(&sp->unit, SPOOL_FILE_MAX);
	if ((r = mkdir_p(sp->path, 0700)) != 0)
		goto fail;
	if ((sp->dirfd = open(sp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		r = -errno;
		goto fail;
	}
	if (role == TRANSPORT_RX) {
		if (mkdirat(sp->dirfd, SPOOL_QUARANTINE, 0700) == -1 &&
		    errno != EEXIST) {
			r = -errno;
			goto fail;
		}
		if ((sp->scan = calloc(SPOOL_SCAN_MAX,
		    sizeof(*sp->scan))) == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		/* A file appears by rename; the watch wakes the reader. */
		if ((sp->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) ==
		    -1 || inotify_add_watch(sp->notify, sp->path,
		    IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
			r = -errno;
			goto fail;
		}
	}
	*ret = &sp->base;
	return 0;
 fail:
	spool_transport_ops.close(&sp->base);
	return r;
}

static int
spool_connect(struct transport *t)
{
	struct spool	*sp = (struct spool *)t;

	return sp->role == TRANSPORT_TX ? 0 : -EINVAL;
}

static int
spool_fd(const struct transport *t)
{
	const struct spool	*sp = (const struct spool *)t;

	/* TX: the directory, never waited on (send never says EAGAIN). */
	return sp->role == TRANSPORT_RX ? sp->notify : sp->dirfd;
}

static int
spool_send(struct transport *t, const uint8_t *p, size_t len, size_t *ret_n)
{
	struct spool	*sp = (struct spool *)t;
	int		 r;

	if (sp->role != TRANSPORT_TX)
		return -EINVAL;
	if ((r = buf_put(&sp->unit, p, len)) != 0)
		return r;
	*ret_n = len;
	return 0;
}

static int
spool_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Temp file, fsync, rename into place, fsync of the directory; without
 * sync, the temp file and the rename alone (a torn or lost unit after a
 * power cut is refused by its seal, or seen as a gap). */
static int
spool_commit(struct transport *t, uint32_t epoch, uint64_t seq, int sync)
{
	struct spool	*sp = (struct spool *)t;
	char		 name[SPOOL_NAME_LEN + 1], tmp[SPOOL_NAME_LEN + 32];
	int		 fd = -1, r;

	if (sp->role != TRANSPORT_TX)
		return -EINVAL;
	if (sp->unit.len == 0)
		return 0;
	if ((r = spool_name(epoch, seq, name)) != 0)
		goto out;
	snprintf(tmp, sizeof(tmp), SPOOL_TMP_PREFIX "%s", name);
	/* 0640: a reader running as another user of the group reads it. */
	if ((fd = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0640)) == -1) {
		r = -errno;
		goto out;
	}
	if ((r = spool_write_all(fd, sp->unit.data, sp->unit.len)) != 0)
		goto fail;
	if (sync && fdatasync(fd) == -1) {
		r = -errno;
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (renameat(sp->dirfd, tmp, sp->dirfd, name) == -1) {
		r = -errno;
		goto fail;
	}
	if (sync && fsync(sp->dirfd) == -1) {
		/* Renamed but maybe not durable: the unit is not counted as
		 * sent, and the file must not be read either. */
		r = -errno;
		(void)unlinkat(sp->dirfd, name, 0);
		goto out;
	}
	r = 0;
	goto out;
 fail:
	if (fd != -1)
		close(fd);
	(void)unlinkat(sp->dirfd, tmp, 0);
 out:
	buf_reset(&sp->unit);
	return r;
}

/* A directory stream of its own over the spool (readdir moves it). */
static DIR *
spool_opendir(struct spool *sp)
{
	DIR	*d;
	int	 fd;

	if ((fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/* Keeps the SPOOL_SCAN_MAX smallest units of the directory, sorted. */
static int
spool_scan(struct spool *sp)
{
	struct spool_unit	 u;
	struct dirent		*de;
	DIR			*d;
	size_t			 i;

	sp->nscan = sp->scan_off = 0;
	if ((d = spool_opendir(sp)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (spool_name_parse(de->d_name, &u.epoch, &u.seq) != 0)
			continue;	/* temp files, quarantine/, others */
		if (sp->nscan == SPOOL_SCAN_MAX &&
		    unit_cmp(&u, &sp->scan[sp->nscan - 1]) >= 0)
			continue;
		if (sp->nscan == SPOOL_SCAN_MAX)
			sp->nscan--;
		for (i = sp->nscan; i > 0 &&
		    unit_cmp(&u, &sp->scan[i - 1]) < 0; i--)
			sp->scan[i] = sp->scan[i - 1];
		sp->scan[i] = u;
		sp->nscan++;
	}
	closedir(d);
	return 0;
}

/* Reads and forgets what inotify says: it only means "look again". */
static void
spool_drain(struct spool *sp)
{
	uint8_t	 ev[4096];
	ssize_t	 n;

	while ((n = read(sp->notify, ev, sizeof(ev))) > 0 ||
	    (n == -1 && errno == EINTR))
		sp->dirty = 1;
}

/* Opens the next unit in order; -EAGAIN when there is none. */
static int
spool_next(struct spool *sp)
{
	struct spool_unit	*u;
	int			 r;

	for (;;) {
		spool_drain(sp);
		if (sp->scan_off == sp->nscan) {
			if (!sp->dirty)
				return -EAGAIN;
			sp->dirty = 0;
			if ((r = spool_scan(sp)) != 0) {
				sp->dirty = 1;
				return r;
			}
			if (sp->nscan == 0)
				return -EAGAIN;
		}
		u = &sp->scan[sp->scan_off++];
		(void)spool_name(u->epoch, u->seq, sp->cur);
		sp->fd = openat(sp->dirfd, sp->cur, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC | O_NONBLOCK);
		if (sp->fd != -1) {
			sp->state = SPOOL_READING;
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		/* Gone meanwhile (another reader, an operator): next. */
	}
}

static int
spool_recv(struct transport *t, uint8_t *p, size_t len, size_t *ret_n)
{
	struct spool	*sp = (struct spool *)t;
	struct stat	 st;
	ssize_t		 n;
	int		 r;

	if (sp->role != TRANSPORT_RX)
		return -EINVAL;
	if (sp->state == SPOOL_ENDED)
		return -EAGAIN;
	if (sp->state == SPOOL_IDLE) {
		if ((r = spool_next(sp)) != 0)
			return r;
		/* Checked on the open file: a unit is a regular file of at
		 * most what one flush can write. */
		if (fstat(sp->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_size > SPOOL_FILE_MAX) {
			close(sp->fd);
			sp->fd = -1;
			sp->state = SPOOL_ENDED;
			return -EBADMSG;
		}
	}
	do {
		n = read(sp->fd, p, len);
	} while (n == -1 && errno == EINTR);
	if (n > 0) {
		*ret_n = (size_t)n;
		return 0;
	}
	r = n == 0 ? -ENOMSG : -EBADMSG;
	close(sp->fd);
	sp->fd = -1;
	sp->state = SPOOL_ENDED;
	return r;
}

/* Moves the current unit into to/, never over an earlier one of the same
 * name (a replayed file is evidence too): NAME, NAME.1, … NAME.99. */
static int
spool_move(struct spool *sp, const char *to)
{
	char	 dst[SPOOL_NAME_LEN + 32];
	int	 i;

	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(dst, sizeof(dst), "%s/%s", to, sp->cur);
		else
			snprintf(dst, sizeof(dst), "%s/%s.%d", to, sp->cur, i);
		if (renameat2(sp->dirfd, sp->cur, sp->dirfd, dst,
		    RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == ENOENT)
			return 0;	/* gone meanwhile */
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int
spool_release(struct transport *t, int quarantine)
{
	struct spool	*sp = (struct spool *)t;
	const char	*to = NULL;
	int		 r = 0;

	if (sp->role != TRANSPORT_RX)
		return -EINVAL;
	if (sp->state != SPOOL_ENDED)
		return 0;	/* mid-file: released when it ends */
	if (quarantine)
		to = SPOOL_QUARANTINE;
	else if (sp->archive)
		to = SPOOL_ARCHIVE;
	if (to != NULL)
		r = spool_move(sp, to);
	else if (unlinkat(sp->dirfd, sp->cur, 0) == -1 && errno != ENOENT)
		r = -errno;
	/* A unit that cannot be removed (permissions: the daemon says so)
	 * stays, and is read again at the next listing, which comes with
	 * the next unit: not in a loop. */
	sp->state = SPOOL_IDLE;
	return r;
}

static int
spool_archive(struct transport *t, int on)
{
	struct spool	*sp = (struct spool *)t;

	if (sp->role != TRANSPORT_RX)
		return -EINVAL;
	if (on && mkdirat(sp->dirfd, SPOOL_ARCHIVE, 0700) == -1 &&
	    errno != EEXIST)
		return -errno;
	sp->archive = on;
	return 0;
}

/* The smallest unit after *last in the directory; -ENOENT when none. */
static int
spool_after(struct spool *sp, struct spool_unit *last)
{
	struct spool_unit	 u, best;
	struct dirent		*de;
	DIR			*d;
	int			 found = 0;

	if ((d = spool_opendir(sp)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (spool_name_parse(de->d_name, &u.epoch, &u.seq) != 0 ||
		    unit_cmp(&u, last) <= 0)
			continue;
		if (!found || unit_cmp(&u, &best) < 0)
			best = u;
		found = 1;
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	*last = best;
	return 0;
}

static int
spool_stored(struct transport *t, int (*fn)(void *, const uint8_t *, size_t),
    void *arg)
{
	struct spool		*sp = (struct spool *)t;
	struct spool_unit	 u = { 0, 0 };
	char			 path[PATH_MAX + SPOOL_NAME_LEN + 2];
	char			 name[SPOOL_NAME_LEN + 1];
	char			*bytes;
	size_t			 len;
	int			 r;

	/* Oldest first, one directory pass per unit: this runs once, at
	 * start-up, over what the receiver has not consumed yet. */
	while ((r = spool_after(sp, &u)) == 0) {
		(void)spool_name(u.epoch, u.seq, name);
		snprintf(path, sizeof(path), "%s/%s", sp->path, name);
		/* Consumed meanwhile, or unreadable (the receiver will
		 * quarantine it): not stored for us. */
		if (read_file(path, SPOOL_FILE_MAX, &bytes, &len) != 0)
			continue;
		r = fn(arg, (const uint8_t *)bytes, len);
		free(bytes);
		if (r != 0)
			break;
	}
	return r == -ENOENT ? 0 : r;
}

static void
spool_disconnect(struct transport *t)
{
	struct spool	*sp = (struct spool *)t;

	/* The unit being built is abandoned with the frames in it. */
	buf_reset(&sp->unit);
}

static void
spool_close(struct transport *t)
{
	struct spool	*sp = (struct spool *)t;

	if (sp == NULL)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	if (sp->notify != -1)
		close(sp->notify);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	buf_free(&sp->unit);
	free(sp->scan);
	free(sp);
}

const struct transport_ops spool_transport_ops = {
	.scheme = "spool",
	.open = spool_open,
	.connect = spool_connect,
	.fd = spool_fd,
	.send = spool_send,
	.recv = spool_recv,
	.disconnect = spool_disconnect,
	.close = spool_close,
	.commit = spool_commit,
	.release = spool_release,
	.archive = spool_archive,
	.stored = spool_stored,
};

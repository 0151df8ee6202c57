/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The fifo:PATH transport: a named pipe on one host, non-blocking at both ends. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/transport.h"

/* Bigger pipes mean fewer wake-ups per batch; the default cap for an
 * unprivileged process is 1 MiB. Best effort. */
#define FIFO_PIPE_SIZE	(1024 * 1024)

struct fifo {
	struct transport	 base;
	enum transport_role	 role;
	int			 fd;
	char			 path[PATH_MAX];
};

/* Opens the FIFO at f->path for f's role, creating it (0600) if missing. */
static int
fifo_open_fd(struct fifo *f)
{
	struct stat	 st;
	int		 fd, flags;

	if (mkfifo(f->path, 0600) == -1 && errno != EEXIST)
		return -errno;
	flags = (f->role == TRANSPORT_RX ? O_RDONLY : O_WRONLY) |
	    O_NONBLOCK | O_CLOEXEC;
	if ((fd = open(f->path, flags)) == -1)
		return errno == ENXIO ? -EAGAIN : -errno;
	/* Checked on the open descriptor, so no race with the path. */
	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return -EEXIST;
	}
	(void)fcntl(fd, F_SETPIPE_SZ, FIFO_PIPE_SIZE);
	f->fd = fd;
	return 0;
}

static int
fifo_open(const char *arg, enum transport_role role, struct transport **ret)
{
	struct fifo	*f;
	size_t		 n;
	int		 r;

	n = strlen(arg);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(f->path))
		return -ENAMETOOLONG;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->base.ops = &fifo_transport_ops;
	f->role = role;
	f->fd = -1;
	memcpy(f->path, arg, n + 1);
	if (role == TRANSPORT_RX && (r = fifo_open_fd(f)) != 0)
		goto fail;
	*ret = &f->base;
	return 0;
 fail:
	free(f);
	return r;
}

static int
fifo_connect(struct transport *t)
{
	struct fifo	*f = (struct fifo *)t;

	if (f->role != TRANSPORT_TX)
		return -EINVAL;
	if (f->fd != -1)
		return 0;
	return fifo_open_fd(f);
}

static int
fifo_fd(const struct transport *t)
{
	return ((const struct fifo *)t)->fd;
}

static void
fifo_disconnect(struct transport *t)
{
	struct fifo	*f = (struct fifo *)t;

	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
}

static int
fifo_send(struct transport *t, const uint8_t *p, size_t len, size_t *ret_n)
{
	struct fifo	*f = (struct fifo *)t;
	ssize_t		 n;
	int		 r;

	if (f->role != TRANSPORT_TX)
		return -EINVAL;
	if (f->fd == -1)
		return -ENOTCONN;
	do {
		n = write(f->fd, p, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		r = -errno;
		fifo_disconnect(t);
		return r;
	}
	*ret_n = (size_t)n;
	return 0;
}

static int
fifo_recv(struct transport *t, uint8_t *p, size_t len, size_t *ret_n)
{
	struct fifo	*f = (struct fifo *)t;
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 r;

	if (f->role != TRANSPORT_RX)
		return -EINVAL;
	if (f->fd == -1) {
		/* A reopen failed earlier; try again. */
		if ((r = fifo_open_fd(f)) != 0)
			return r;
	}
	do {
		n = read(f->fd, p, len);
	} while (n == -1 && errno == EINTR);
	if (n > 0) {
		*ret_n = (size_t)n;
		return 0;
	}
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN :
		    -errno;

	/*
	 * read() returns 0 whenever no writer has the FIFO open, also before
	 * the first one came. Linux raises POLLHUP only once a writer has come
	 * and gone since this end was opened, which tells the two apart.
	 */
	pfd.fd = f->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return -errno;
	if ((pfd.revents & POLLHUP) == 0)
		return -EAGAIN;
	close(f->fd);
	f->fd = -1;
	/* If this fails, fd stays -1 and the next recv tries again. */
	(void)fifo_open_fd(f);
	return -EPIPE;
}

static void
fifo_close(struct transport *t)
{
	struct fifo	*f = (struct fifo *)t;

	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	free(f);
}

const struct transport_ops fifo_transport_ops = {
	.scheme = "fifo",
	.open = fifo_open,
	.connect = fifo_connect,
	.fd = fifo_fd,
	.send = fifo_send,
	.recv = fifo_recv,
	.disconnect = fifo_disconnect,
	.close = fifo_close,
};

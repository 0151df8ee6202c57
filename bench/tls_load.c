/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/*
 * A keep-alive load client for bench/run.sh, over TLS with a client
 * certificate (which wrk cannot present) or plain, so both are measured
 * by the same client. One thread per connection, blocking I/O; each sends
 * one POST and reads its answer, again and again, for SECONDS.
 *
 * Usage: tls_load HOST PORT CONNS SECONDS PATH BODY [CAFILE CERT KEY]
 * Prints: requests/s p50-ms p99-ms non-2xx errors
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#define LAT_MAX		(1 << 20)	/* latencies kept per thread */

struct worker {
	pthread_t	 t;
	SSL		*ssl;
	int		 fd;
	long		 n, bad, errors;
	unsigned	*lat_us;
	size_t		 nlat;
};

static struct sockaddr_in addr;
static SSL_CTX	*ctx;
static char	 req[4096];
static size_t	 reqlen;
static double	 deadline;

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
xwrite(struct worker *w, const char *p, size_t len)
{
	int	 n;

	while (len > 0) {
		n = w->ssl ? SSL_write(w->ssl, p, (int)len) :
		    (int)write(w->fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
xread(struct worker *w, char *p, size_t len)
{
	return w->ssl ? SSL_read(w->ssl, p, (int)len) : (int)read(w->fd, p, len);
}

/* Reads one response; returns its status, or -1. */
static int
response(struct worker *w)
{
	char	 buf[65536], *end, *cl;
	size_t	 have = 0, need;
	int	 n, status;

	for (;;) {
		if (have == sizeof(buf) - 1)
			return -1;
		if ((n = xread(w, buf + have, sizeof(buf) - 1 - have)) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1 ||
	    (cl = strcasestr(buf, "\r\nContent-Length:")) == NULL || cl > end)
		return -1;
	need = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
	if (need >= sizeof(buf))
		return -1;
	while (have < need) {
		if ((n = xread(w, buf + have, need - have)) <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

static int
connect_one(struct worker *w)
{
	int	 one = 1;

	if ((w->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(w->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		return -1;
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ctx == NULL)
		return 0;
	if ((w->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(w->ssl, w->fd) != 1 ||
	    SSL_connect(w->ssl) != 1)
		return -1;
	return 0;
}

static void
disconnect(struct worker *w)
{
	SSL_free(w->ssl);
	w->ssl = NULL;
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
}

static void *
run(void *arg)
{
	struct worker	*w = arg;
	double		 t0;
	int		 status;

	w->fd = -1;
	while (now() < deadline) {
		if (w->fd == -1 && connect_one(w) != 0) {
			w->errors++;
			disconnect(w);
			usleep(10000);
			continue;
		}
		t0 = now();
		if (xwrite(w, req, reqlen) != 0 || (status = response(w)) < 0) {
			w->errors++;
			disconnect(w);
			continue;
		}
		w->n++;
		if (status / 100 != 2)
			w->bad++;
		if (w->nlat < LAT_MAX)
			w->lat_us[w->nlat++] = (unsigned)((now() - t0) * 1e6);
	}
	disconnect(w);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	unsigned	 x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct worker	*w;
	unsigned	*all;
	long		 n = 0, bad = 0, errors = 0;
	size_t		 nall = 0, i;
	int		 conns, secs, k;
	double		 t0;

	if (argc != 7 && argc != 10) {
		fprintf(stderr, "usage: tls_load HOST PORT CONNS SECONDS PATH "
		    "BODY [CAFILE CERT KEY]\n");
		return 2;
	}
	conns = atoi(argv[3]);
	secs = atoi(argv[4]);
	if (conns < 1 || conns > 1024 || secs < 1 ||
	    inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "tls_load: bad host, connections or seconds\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	k = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    argv[5], argv[1], strlen(argv[6]), argv[6]);
	if (k < 0 || (size_t)k >= sizeof(req)) {
		fprintf(stderr, "tls_load: body too long\n");
		return 2;
	}
	reqlen = (size_t)k;
	if (argc == 10) {
		if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_load_verify_locations(ctx, argv[7], NULL) != 1 ||
		    SSL_CTX_use_certificate_chain_file(ctx, argv[8]) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, argv[9],
		    SSL_FILETYPE_PEM) != 1) {
			fprintf(stderr, "tls_load: cannot load %s, %s, %s\n",
			    argv[7], argv[8], argv[9]);
			return 1;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if ((w = calloc((size_t)conns, sizeof(*w))) == NULL)
		return 1;
	t0 = now();
	deadline = t0 + secs;
	for (k = 0; k < conns; k++) {
		if ((w[k].lat_us = malloc(LAT_MAX * sizeof(unsigned))) == NULL ||
		    pthread_create(&w[k].t, NULL, run, &w[k]) != 0) {
			fprintf(stderr, "tls_load: cannot start a thread\n");
			return 1;
		}
	}
	for (k = 0; k < conns; k++) {
		pthread_join(w[k].t, NULL);
		n += w[k].n;
		bad += w[k].bad;
		errors += w[k].errors;
		nall += w[k].nlat;
	}
	if ((all = malloc((nall ? nall : 1) * sizeof(unsigned))) == NULL)
		return 1;
	for (k = 0, nall = 0; k < conns; k++) {
		for (i = 0; i < w[k].nlat; i++)
			all[nall++] = w[k].lat_us[i];
		free(w[k].lat_us);
	}
	qsort(all, nall, sizeof(*all), cmp);
	printf("%.0f %.3f %.3f %ld %ld\n", n / (now() - t0),
	    nall ? all[nall / 2] / 1000.0 : 0, nall ?
	    all[nall * 99 / 100] / 1000.0 : 0, bad, errors);
	free(all);
	free(w);
	SSL_CTX_free(ctx);
	return n > 0 ? 0 : 1;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: request bytes on a connection through outer's front and exchanges to the answer. */

/*
 * One outer, set up once as the daemon sets itself up (policy, audit
 * journal, inward ferry over a FIFO the harness drains), with small limits.
 * Each input is written to one end of a socket pair whose other end outer
 * accepted as a connection from 127.0.0.1 (the peer "w"); then the write
 * side is shut and the event loop runs until outer has nothing left to do.
 * Requests that pass every check cross the ferry as frames and wait in the
 * pending table; the harness then answers them all with 503, as outer does
 * when it stops. What the client read back must be a sequence of
 * well-formed HTTP/1.1 responses, each with a Content-Length that frames its
 * body exactly, an X-Isogate-Id of 32 hex digits, and, for errors, a JSON
 * body {"error","id","message"[,"field"]} whose id is that header's; and
 * nothing may stay open or in flight.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "outer/outer.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char policy_text[] =
    "peer w {\n"
    "	address { 127.0.0.1 }\n"
    "	rate 1000000/s burst 1000000\n"
    "}\n"
    "peer other {\n"
    "	address { 10.0.0.9 }\n"
    "}\n"
    "message bill.query {\n"
    "	allow from w\n"
    "	request {\n"
    "		customer_id	string /^[0-9]{10}$/\n"
    "		month		string /^[0-9]{4}-(0[1-9]|1[0-2])$/\n"
    "	}\n"
    "	reply max 12 rows {\n"
    "		kwh		integer 0..100000000\n"
    "	}\n"
    "}\n"
    "message payment.record {\n"
    "	allow from w\n"
    "	oneway\n"
    "	request {\n"
    "		payment_id	string /^[A-Z0-9]{16,32}$/\n"
    "		amount_cents	integer 1..\n"
    "		paid_at		timestamp\n"
    "		note		string max 40\n"
    "		kind		enum { card, cash }\n"
    "		ok		boolean\n"
    "		rate		number 0..1\n"
    "		day		date\n"
    "	}\n"
    "}\n"
    "message other.only {\n"
    "	allow from other\n"
    "	oneway\n"
    "	request {\n"
    "		a	string\n"
    "	}\n"
    "}\n"
    "outer {\n"
    "	listen 127.0.0.1:1 plain\n"
    "	limit header-size 2048\n"
    "	limit headers 16\n"
    "	limit peer-pending 8\n"
    "	limit pending 16\n"
    "	inward \"fifo:/nonexistent/in\"\n"
    "	outward \"fifo:/nonexistent/out\"\n"
    "	key \"/nonexistent/k\"\n"
    "	peer-key \"/nonexistent/p\"\n"
    "	audit \"/nonexistent/a\"\n"
    "	state \"/nonexistent/s\"\n"
    "}\n";

static struct outer	 o;
static int		 drain_fd = -1;
static char		 dir[] = "/tmp/fuzz_request.XXXXXX";

/* Stands in for main.c's: the frames go out at once. */
void
outer_schedule_flush(struct outer *op)
{
	(void)chan_tx_flush(op->tx);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY	*key;
	char		*errs = NULL, path[64], ep[80];

	(void)argc;
	(void)argv;
	log_init("fuzz_request", 0);
	if (mkdtemp(dir) == NULL)
		abort();
	if (policy_load_buffer("fuzz.policy", policy_text,
	    sizeof(policy_text) - 1, 0, &o.policy, &errs) != 0) {
		fputs(errs != NULL ? errs : "policy\n", stderr);
		abort();
	}
	if ((o.base = event_base_new()) == NULL ||
	    (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    audit_open("/dev/null", "outer", &o.audit) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/in", dir);
	snprintf(ep, sizeof(ep), "fifo:%s", path);
	if (mkfifo(path, 0600) != 0 ||
	    (drain_fd = open(path, O_RDONLY | O_NONBLOCK)) == -1 ||
	    chan_tx_open(ep, FERRY_INWARD, key, o.policy->digest, dir,
	    &o.tx) != 0 || chan_tx_connect(o.tx) != 0)
		abort();
	EVP_PKEY_free(key);
	outer_init_exchanges(&o);
	return 0;
}

static void
drain(void)
{
	uint8_t	 b[65536];

	while (read(drain_fd, b, sizeof(b)) > 0)
		;
}

static int	 client = -1;
static char	 out[1 << 21];
static size_t	 got;

/* Turns the loop while there is work; reads what the client is sent. */
static void
run_loop(void)
{
	ssize_t	 r;
	int	 i;

	for (i = 0; i < 64; i++) {
		if (event_base_loop(o.base, EVLOOP_NONBLOCK) < 0)
			abort();
		drain();
		while (got < sizeof(out) && (r = read(client, out + got,
		    sizeof(out) - got)) > 0)
			got += (size_t)r;
	}
}

static size_t
header(const char *head, size_t headlen, const char *name, char *out,
    size_t outsz)
{
	const char	*p = head, *end = head + headlen, *eol, *v;
	size_t		 n = strlen(name), vn;

	while (p < end && (eol = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			for (v = p + n + 1; v < eol && *v == ' '; v++)
				;
			vn = (size_t)(eol - v);
			if (vn >= outsz)
				abort();
			memcpy(out, v, vn);
			out[vn] = '\0';
			return vn;
		}
		p = eol + 2;
	}
	return 0;
}

/* Every response the client got is well-formed; returns how many. */
static int
check_responses(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *hend;
	char		 cl[32], xid[64];
	json_t		*j, *e, *id;
	long		 status, body;
	size_t		 i;
	int		 n = 0;

	while (p < end) {
		if ((size_t)(end - p) >= 25 &&
		    memcmp(p, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0) {
			p += 25;
			continue;
		}
		if ((size_t)(end - p) < 17 || memcmp(p, "HTTP/1.1 ", 9) != 0)
			abort();
		status = strtol(p + 9, NULL, 10);
		if (status < 200 || status > 599)
			abort();
		hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hend == NULL)
			abort();
		hend += 4;
		if (header(p, (size_t)(hend - p), "Content-Length", cl,
		    sizeof(cl)) == 0 ||
		    header(p, (size_t)(hend - p), "X-Isogate-Id", xid,
		    sizeof(xid)) != ID_HEXLEN)
			abort();
		for (i = 0; i < ID_HEXLEN; i++)
			if (!((xid[i] >= '0' && xid[i] <= '9') ||
			    (xid[i] >= 'a' && xid[i] <= 'f')))
				abort();
		body = strtol(cl, NULL, 10);
		if (body < 0 || body > end - hend)
			abort();
		if ((j = json_loadb(hend, (size_t)body, 0, NULL)) == NULL)
			abort();
		id = json_object_get(j, "id");
		if (id == NULL || strcmp(json_string_value(id) ?
		    json_string_value(id) : "", xid) != 0)
			abort();
		e = json_object_get(j, "error");
		if (status >= 400 && (!json_is_string(e) ||
		    !json_is_string(json_object_get(j, "message"))))
			abort();
		json_decref(j);
		p = hend + body;
		n++;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in	 sin;
	int			 sv[2], round;

	if (size > 65536)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	client = sv[1];
	got = 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	front_accept(&o, sv[0], (struct sockaddr *)&sin, sizeof(sin));
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		abort();
	/* What crossed is answered as outer answers when it stops; then the
	 * connection's next pipelined request, if any. */
	for (round = 0; round < 4; round++) {
		run_loop();
		exchange_fail_all(&o, "stopping", "fuzz: stopping");
	}
	shutdown(sv[1], SHUT_WR);
	run_loop();
	exchange_fail_all(&o, "stopping", "fuzz: stopping");
	run_loop();
	front_close_all(&o);
	if (o.npending != 0 || o.nconns != 0)
		abort();
	close(sv[1]);
	/* FUZZ_REQUEST_PRINT=1 shows what one input was answered. */
	if (getenv("FUZZ_REQUEST_PRINT") != NULL)
		fprintf(stderr, "%d responses:\n%.*s\n",
		    check_responses(out, got), (int)got, out);
	else
		check_responses(out, got);
	return 0;
}

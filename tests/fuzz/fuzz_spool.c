/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: spool directories of arbitrary files, names and heartbeat payloads through a receiver. */

/*
 * The input is cut into units: [name 35 bytes][len 2 bytes LE][len bytes].
 * A name that spool_name_parse accepts is used as it is (so names out of
 * order, replayed or colliding are tried), otherwise the unit is named after
 * its index. When the first byte of the input is odd, a genuine unit signed
 * with the fixed key goes first (its payloads taken from the input), so the
 * receiver also meets authentic frames. A spool receiver then reads every
 * unit in turn, releasing each, to quarantine/ when a verdict said it was
 * bad. Checks: every read ends (one unit per read, bounded), every unit
 * leaves the spool, verdicts stay in range, CHAN_OK frames carry the
 * harness's payloads only. The same bytes also go through beat_decode and beat_skew.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

#define UNITS_MAX	16

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY		*key;
static const uint8_t	 digest[SHA256_LEN] = { 0x42 };
static char		 root[64], spool[128], state[128];
static char		 endpoint[160];

struct seen {
	int	 bad;
	int	 ok;
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t	 seed[32] = "isogate fuzz_spool fixed seed!!";

	(void)argc;
	(void)argv;
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    sizeof(seed));
	strcpy(root, "/tmp/fuzz_spool.XXXXXX");
	if (key == NULL || mkdtemp(root) == NULL)
		abort();
	snprintf(spool, sizeof(spool), "%s/spool", root);
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(endpoint, sizeof(endpoint), "spool:%s", spool);
	return 0;
}

/* Removes every entry of dir (files, and empty directories). */
static void
empty(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((d = opendir(dir)) == NULL)
		return;
	fd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "quarantine") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1)
			(void)unlinkat(fd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static int
units_left(void)
{
	struct dirent	*de;
	DIR		*d;
	uint32_t	 e;
	uint64_t	 s;
	int		 n = 0;

	if ((d = opendir(spool)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (spool_name_parse(de->d_name, &e, &s) == 0)
			n++;
	closedir(d);
	return n;
}

static void
check(void *arg, const struct frame *f, int verdict)
{
	struct seen	*s = arg;

	if (verdict < CHAN_OK || verdict > CHAN_UNSEALED)
		abort();
	if (f == NULL && verdict != CHAN_MALFORMED && verdict != CHAN_GAP)
		abort();
	if (verdict == CHAN_OK) {
		/* Only the harness's own frames can be sealed by its key. */
		if (f == NULL || f->payload_len < 4 ||
		    memcmp(f->payload, "gen:", 4) != 0)
			abort();
		s->ok++;
	} else if (verdict != CHAN_GAP)
		s->bad = 1;
}

/* A genuine unit: up to 4 one-way frames, payloads from the input. */
static int
genuine(const uint8_t *p, size_t len)
{
	struct chan_tx	*tx;
	char		 text[40];
	size_t		 i, n = len % 4 + 1;
	int		 r;

	if ((r = chan_tx_open(endpoint, FERRY_INWARD, key, digest, state,
	    &tx)) != 0)
		return 0;
	(void)chan_tx_connect(tx);
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "gen:%zu:%02x", i,
		    len > i ? p[i] : 0);
		(void)chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "m", text,
		    strlen(text));
	}
	r = chan_tx_flush(tx);
	chan_tx_close(tx);
	return r == 0 ? (int)n : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_rx	*rx;
	struct seen	 s;
	struct beat	 b;
	char		 name[SPOOL_NAME_LEN + 1], path[256];
	uint32_t	 e;
	uint64_t	 seq;
	int64_t		 off, delay;
	size_t		 pos = 0, len, n = 0;
	int		 fd, r, reads;

	/* Heartbeat payloads and names, straight. */
	if (beat_decode(data, size, &b) == 0)
		(void)beat_skew(&b, size > 8 ? (uint64_t)data[0] << 40 : 0,
		    (uint64_t)size << 30, 1000000000, &off, &delay);
	if (size >= SPOOL_NAME_LEN) {
		memcpy(name, data, SPOOL_NAME_LEN);
		name[SPOOL_NAME_LEN] = '\0';
		if (spool_name_parse(name, &e, &seq) == 0 &&
		    (spool_name(e, seq, path) != 0 || strcmp(path, name) != 0))
			abort();	/* parse and print disagree */
	}

	empty(spool);
	mkdir(spool, 0700);
	memset(&s, 0, sizeof(s));
	if (size > 0 && (data[0] & 1))
		(void)genuine(data, size);
	while (n < UNITS_MAX && size - pos >= SPOOL_NAME_LEN + 2) {
		memcpy(name, data + pos, SPOOL_NAME_LEN);
		name[SPOOL_NAME_LEN] = '\0';
		pos += SPOOL_NAME_LEN;
		len = data[pos] | (size_t)data[pos + 1] << 8;
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (strchr(name, '/') != NULL ||
		    spool_name_parse(name, &e, &seq) != 0)
			(void)spool_name(0x7fff0000u + (uint32_t)n, n + 1,
			    name);
		snprintf(path, sizeof(path), "%s/%s", spool, name);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600)) == -1)
			abort();
		if (len > 0 && write(fd, data + pos, len) != (ssize_t)len)
			abort();
		close(fd);
		pos += len;
		n++;
	}

	if (chan_rx_open(endpoint, FERRY_INWARD, key, digest, NULL,
	    &rx) != 0)
		abort();
	/* One unit per read: never more reads than units, plus the last. */
	for (reads = 0; reads <= UNITS_MAX + 2; reads++) {
		s.bad = 0;
		r = chan_rx_read(rx, check, &s);
		if (r != 1)
			break;
		if (chan_rx_release(rx, s.bad) != 0)
			abort();
	}
	if (r != 0 || reads > UNITS_MAX + 1 || units_left() != 0)
		abort();
	chan_rx_close(rx);
	snprintf(path, sizeof(path), "%s/quarantine", spool);
	empty(path);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Unit tests for the spool transport, durable commits and releases, and heartbeat payloads. */

#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/ferry.h"
#include "ferry/transport.h"

#include "tests/unit/chan_fixtures.h"

static struct chan_tx *
spool_tx(void)
{
	char		 ep[PATH_MAX + 8], state[PATH_MAX];
	struct chan_tx	*tx = NULL;

	snprintf(ep, sizeof(ep), "spool:%s/spool", tmpdir);
	path_in(state, "tx-state");
	assert_int_equal(chan_tx_open(ep, FERRY_INWARD, key_a, digest1, state,
	    &tx), 0);
	assert_int_equal(chan_tx_connect(tx), 0);
	assert_true(chan_tx_fd(tx) >= 0);
	assert_int_equal(chan_tx_durable(tx), 1);
	return tx;
}

static struct chan_rx *
spool_rx(void)
{
	char		 ep[PATH_MAX + 8], state[PATH_MAX];
	struct chan_rx	*rx = NULL;

	snprintf(ep, sizeof(ep), "spool:%s/spool", tmpdir);
	path_in(state, "rx-state");
	assert_int_equal(chan_rx_open(ep, FERRY_INWARD, pub_a, digest1, state,
	    &rx), 0);
	assert_true(chan_rx_fd(rx) >= 0);
	return rx;
}

/* Units (*.isf) in DIR/sub ("" for the spool itself). */
static int
count_units(const char *sub)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/spool/%s", tmpdir, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".isf") != NULL ||
		    strncmp(de->d_name, ".tmp-", 5) == 0)
			n++;
	closedir(d);
	return n;
}

/* The path of the one unit in the spool. */
static void
only_unit(char *out)
{
	struct dirent	*de;
	DIR		*d;
	char		 dir[128];

	snprintf(dir, sizeof(dir), "%s/spool", tmpdir);
	assert_non_null(d = opendir(dir));
	out[0] = '\0';
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".isf") != NULL)
			snprintf(out, PATH_MAX, "%s/%.64s", dir, de->d_name);
	closedir(d);
	assert_true(out[0] != '\0');
}

static off_t
file_size(const char *name)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	path_in(path, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
test_names(void **state)
{
	char		 name[SPOOL_NAME_LEN + 1];
	uint32_t	 e;
	uint64_t	 s;
	static const char *const bad[] = {
		"", "0000000001-00000000000000000001.isf ",
		"0000000001-0000000000000000001.isf",
		"0000000000-00000000000000000001.isf",	/* epoch 0 */
		"0000000001-00000000000000000000.isf",	/* seq 0 */
		"4294967296-00000000000000000001.isf",	/* epoch > 2^32-1 */
		"0000000001-18446744073709551616.isf",	/* seq > 2^64-1 */
		"0000000001_00000000000000000001.isf",
		"000000000a-00000000000000000001.isf",
		"0000000001-0000000000000000000+.isf",
		"0000000001-00000000000000000001.isF",
		".tmp-0000000001-00000000000000000001",
		"quarantine", "archive",
	};
	size_t		 i;

	(void)state;
	assert_int_equal(spool_name(7, 42, name), 0);
	assert_string_equal(name, "0000000007-00000000000000000042.isf");
	assert_int_equal(spool_name_parse(name, &e, &s), 0);
	assert_int_equal(e, 7);
	assert_int_equal(s, 42);
	assert_int_equal(spool_name(UINT32_MAX, UINT64_MAX, name), 0);
	assert_int_equal(spool_name_parse(name, &e, &s), 0);
	assert_int_equal(e, UINT32_MAX);
	assert_true(s == UINT64_MAX);
	/* Names sort as (epoch, seq) do. */
	assert_true(strcmp("0000000002-00000000000000000001.isf",
	    "0000000001-00000000000000000009.isf") > 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = 99;
		assert_int_equal(spool_name_parse(bad[i], &e, &s), -EINVAL);
		assert_int_equal(e, 99);	/* not written on failure */
	}
}

/* One flush, one file, read whole, released once acted on. */
static void
test_unit_roundtrip(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	uint32_t	 e;
	uint64_t	 l;

	(void)state;
	rx = spool_rx();
	tx = spool_tx();
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);	/* nothing */
	send_n(tx, 1, 3);
	assert_int_equal(count_units(""), 0);	/* nothing before a flush */
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(count_units(""), 1);
	assert_int_equal(chan_tx_flush(tx), 0);	/* nothing new: no file */
	assert_int_equal(count_units(""), 1);
	send_n(tx, 4, 2);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(count_units(""), 2);

	/* One unit per read; the position is saved at release only. */
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 3);
	expect_frames(0, 1, 3, CHAN_OK);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);	/* waits */
	assert_int_equal(nev, 3);
	assert_int_equal(file_size("rx-state/rx-last"), 0);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	assert_int_equal(file_size("rx-state/rx-last"), 12);
	assert_int_equal(count_units(""), 1);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	expect_frames(3, 4, 2, CHAN_OK);
	chan_rx_position(rx, &e, &l);
	assert_int_equal(e, chan_tx_epoch(tx));
	assert_int_equal(l, 5);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	assert_int_equal(count_units(""), 0);
	assert_int_equal(count_units("quarantine"), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 5);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/* A unit over chan_rx_read's 4 MiB per call is still read whole. */
static void
test_big_unit(void **state)
{
	static char	 big[FRAME_PAYLOAD_MAX];
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	int		 i;

	(void)state;
	memset(big, 'b', sizeof(big));
	tx = spool_tx();
	rx = spool_rx();
	for (i = 0; i < 6; i++)
		assert_int_equal(chan_tx_send(tx, FRAME_ONEWAY, NULL, "p", "m",
		    big, sizeof(big)), 0);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(count_units(""), 1);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(evs[i].verdict, CHAN_OK);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	assert_int_equal(count_units(""), 0);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

/* A receiver that dies before releasing reads the unit again. */
static void
test_crash_before_release(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;

	(void)state;
	tx = spool_tx();
	send_n(tx, 1, 4);
	assert_int_equal(chan_tx_flush(tx), 0);
	rx = spool_rx();
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 4);
	chan_rx_close(rx);		/* no release: a crash */
	rx = spool_rx();
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 8);
	expect_frames(4, 1, 4, CHAN_OK);	/* again, not a replay */
	assert_int_equal(chan_rx_release(rx, 0), 0);
	chan_rx_close(rx);
	/* Released: a new receiver finds nothing, and would call the
	 * same frames replays. */
	rx = spool_rx();
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 8);
	chan_rx_close(rx);
	chan_tx_close(tx);
}

/* Altered, replayed, unreadable: reported, quarantined, the next goes on. */
static void
test_bad_units(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	char		 path[PATH_MAX], copy[PATH_MAX + 16];
	uint8_t		*p;
	size_t		 len, i;
	char		*text;

	(void)state;
	tx = spool_tx();
	rx = spool_rx();
	send_n(tx, 1, 2);
	assert_int_equal(chan_tx_flush(tx), 0);
	only_unit(path);
	assert_int_equal(read_file(path, 1 << 20, &text, &len), 0);
	p = (uint8_t *)text;
	/* Keep a copy of the genuine unit to replay later. */
	snprintf(copy, sizeof(copy), "%s/keep", tmpdir);
	assert_int_equal(write_file_atomic(copy, p, len, 0600), 0);
	for (i = 0; i + 5 < len && memcmp(p + i, "msg-2", 5) != 0; i++)
		;
	p[i + 4] ^= 1;			/* "msg-3" now */
	assert_int_equal(write_file_atomic(path, p, len, 0600), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 2);
	assert_int_equal(evs[0].verdict, CHAN_BAD_SEAL);
	assert_int_equal(evs[1].verdict, CHAN_BAD_SEAL);
	assert_int_equal(chan_rx_release(rx, 1), 0);
	assert_int_equal(count_units(""), 0);
	assert_int_equal(count_units("quarantine"), 1);

	/* The next unit is delivered (a gap first: two frames never came). */
	send_n(tx, 3, 1);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(evs[2].verdict, CHAN_OK);
	assert_string_equal(evs[2].text, "msg-3");
	assert_int_equal(chan_rx_release(rx, 0), 0);

	/* The genuine first unit, put back: replays, nothing delivered. */
	assert_int_equal(write_file_atomic(path, text, len, 0600), 0);
	free(text);
	assert_int_equal(read_file(copy, 1 << 20, &text, &len), 0);
	assert_int_equal(write_file_atomic(path, text, len, 0600), 0);
	free(text);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 5);
	assert_int_equal(evs[3].verdict, CHAN_REPLAY);
	assert_int_equal(evs[4].verdict, CHAN_REPLAY);
	assert_int_equal(chan_rx_release(rx, 1), 0);
	/* The same name again: both kept, the earlier one not replaced. */
	assert_int_equal(count_units("quarantine"), 2);

	/* A directory with a unit's name, moved in: not frames at all. */
	snprintf(copy, sizeof(copy), "%s/dir", tmpdir);
	snprintf(path, sizeof(path), "%s/spool/%s", tmpdir,
	    "0000009999-00000000000000000001.isf");
	assert_int_equal(mkdir(copy, 0700), 0);
	assert_int_equal(rename(copy, path), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(nev, 6);
	assert_int_equal(evs[5].verdict, CHAN_MALFORMED);
	assert_false(evs[5].has_frame);
	assert_int_equal(chan_rx_release(rx, 1), 0);
	assert_int_equal(count_units(""), 0);
	/* Files that are not units are left alone. */
	snprintf(path, sizeof(path), "%s/spool/notes.txt", tmpdir);
	assert_int_equal(write_file_atomic(path, "x", 1, 0600), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 0);
	assert_int_equal(nev, 6);
	chan_tx_close(tx);
	chan_rx_close(rx);
}

static void
test_archive(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;

	(void)state;
	tx = spool_tx();
	rx = spool_rx();
	assert_int_equal(chan_rx_archive(rx, 1), 0);
	send_n(tx, 1, 1);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	assert_int_equal(count_units(""), 0);
	assert_int_equal(count_units("archive"), 1);
	chan_tx_close(tx);
	chan_rx_close(rx);
	/* Not a durable transport: no archive, no release to do. */
	rx = rx_new("fifo", NULL);
	assert_int_equal(chan_rx_archive(rx, 1), -ENOTSUP);
	assert_int_equal(chan_rx_release(rx, 1), 0);
	chan_rx_close(rx);
}

/* A commit that fails (here: the file size limit, as a full disk would)
 * takes its frames back: no file, and the receiver sees no gap. */
static void
test_commit_fails(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	struct rlimit	 old, small;

	(void)state;
	tx = spool_tx();
	rx = spool_rx();
	send_n(tx, 1, 2);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_tx_seq(tx), 2);
	send_n(tx, 3, 2);
	assert_int_equal(chan_tx_seq(tx), 4);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 64;		/* the hard limit stays: we restore */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(chan_tx_flush(tx), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(chan_tx_seq(tx), 2);		/* rewound */
	assert_int_equal(chan_tx_backlog(tx), 0);
	assert_int_equal(count_units(""), 1);	/* and no temp file */
	send_n(tx, 5, 1);
	assert_int_equal(chan_tx_seq(tx), 3);
	assert_int_equal(chan_tx_flush(tx), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	assert_int_equal(nev, 3);
	expect_frames(0, 1, 2, CHAN_OK);
	expect_frames(2, 5, 1, CHAN_OK);		/* no gap before it */
	chan_tx_close(tx);
	chan_rx_close(rx);
}

struct stored {
	int	 n;
	int	 bad;
	char	 last[16];
};

static void
stored_cb(void *arg, const struct frame *f, int verdict)
{
	struct stored	*s = arg;

	if (verdict != CHAN_OK) {
		s->bad++;
		return;
	}
	s->n++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)f->payload_len,
	    (const char *)f->payload);
}

/* What the sender finds still stored after a restart, verified. */
static void
test_stored(void **state)
{
	struct chan_tx	*tx;
	struct chan_rx	*rx;
	struct stored	 s;

	(void)state;
	tx = spool_tx();
	send_n(tx, 1, 2);
	assert_int_equal(chan_tx_flush(tx), 0);
	send_n(tx, 3, 3);
	assert_int_equal(chan_tx_flush(tx), 0);
	chan_tx_close(tx);
	tx = spool_tx();			/* a restart: epoch 2 */
	memset(&s, 0, sizeof(s));
	assert_int_equal(chan_tx_stored(tx, stored_cb, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.bad, 0);
	assert_string_equal(s.last, "msg-5");
	rx = spool_rx();
	assert_int_equal(chan_rx_read(rx, collect, NULL), 1);
	assert_int_equal(chan_rx_release(rx, 0), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(chan_tx_stored(tx, stored_cb, &s), 0);
	assert_int_equal(s.n, 3);		/* consumed ones are gone */
	chan_rx_close(rx);
	chan_tx_close(tx);
}

static void
test_beat(void **state)
{
	struct beat	 b, got;
	struct buf	 out;
	uint8_t		 raw[BEAT_LEN];
	int64_t		 off, delay;
	const uint64_t	 s = 1000000000ULL, t1 = 1800000000ULL * s;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.echo_time = 11;
	b.echo_rx = 22;
	b.pos_epoch = 3;
	b.pos_seq = 44;
	buf_init(&out, BEAT_LEN);
	assert_int_equal(beat_encode(&b, &out), 0);
	assert_int_equal(out.len, BEAT_LEN);
	assert_int_equal(beat_decode(out.data, out.len, &got), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	assert_int_equal(beat_decode(out.data, out.len - 1, &got), -EBADMSG);
	memcpy(raw, out.data, BEAT_LEN);
	memset(raw + 8, 0, 8);			/* half an echo */
	assert_int_equal(beat_decode(raw, BEAT_LEN, &got), -EBADMSG);
	memset(raw, 0, 16);			/* no echo: fine */
	assert_int_equal(beat_decode(raw, BEAT_LEN, &got), 0);
	raw[7] = 0x80;				/* past 2^63 */
	raw[15] = 0x80;
	assert_int_equal(beat_decode(raw, BEAT_LEN, &got), -EBADMSG);
	buf_free(&out);

	/* Skew: the other clock 5 s ahead, 10 ms each way, 1 s tolerance. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(beat_skew(&b, t1, t1, s, &off, &delay), -EAGAIN);
	b.echo_time = t1;
	b.echo_rx = t1 + 5 * s + s / 100;
	assert_int_equal(beat_skew(&b, b.echo_rx + s / 2,
	    t1 + s / 2 + 2 * (s / 100), s, &off, &delay), 1);
	assert_true(off == (int64_t)(5 * s));
	assert_true(delay == (int64_t)(2 * (s / 100)));
	/* The same clocks: in tolerance. */
	b.echo_rx = t1 + s / 100;
	assert_int_equal(beat_skew(&b, b.echo_rx + s / 2,
	    t1 + s / 2 + 2 * (s / 100), s, &off, &delay), 0);
	assert_true(off == 0);
	/* A 10 s round trip (a backlog) hides a 1 s tolerance. */
	assert_int_equal(beat_skew(&b, b.echo_rx + s, t1 + 11 * s, s, &off,
	    &delay), -EAGAIN);
}

/* Only an echo of one of the last BEAT_SENT heartbeats counts. */
static void
test_beat_sent(void **state)
{
	struct beat_sent	 sent;
	uint64_t		 i;

	(void)state;
	memset(&sent, 0, sizeof(sent));
	assert_false(beat_sent_has(&sent, 0));	/* "no echo" never counts */
	assert_false(beat_sent_has(&sent, 1000));
	for (i = 1; i <= BEAT_SENT + 4; i++)
		beat_sent_add(&sent, i * 1000);
	for (i = 1; i <= 4; i++)
		assert_false(beat_sent_has(&sent, i * 1000));
	for (i = 5; i <= BEAT_SENT + 4; i++)
		assert_true(beat_sent_has(&sent, i * 1000));
	assert_false(beat_sent_has(&sent, 5001));	/* exactly, not near */
	assert_false(beat_sent_has(&sent, 0));
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		T(test_unit_roundtrip),
		T(test_big_unit),
		T(test_crash_before_release),
		T(test_bad_units),
		T(test_archive),
		T(test_commit_fails),
		T(test_stored),
		cmocka_unit_test(test_beat),
		cmocka_unit_test(test_beat_sent),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

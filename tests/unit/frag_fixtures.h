/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Shared set-up of the eth: link tests (test_frag, test_frag_parity): the tests' link key and a fresh receiver per test. */

#ifndef FRAG_FIXTURES_H
#define FRAG_FIXTURES_H

#define MS	1000000ULL

static const uint8_t	 key[FERRY_LINK_KEY_LEN] = "0123456789abcdef0123456789abcde";
static struct linkmac	*lm;		/* key, inward: what the tests send */
static struct frag_rx	*fr;		/* fresh for each test, timeout 50 ms */
static struct buf	 out;		/* what it released */

static int
group_setup(void **state)
{
	(void)state;
	return linkmac_new(key, FERRY_INWARD, &lm);
}

static int
group_teardown(void **state)
{
	(void)state;
	linkmac_free(lm);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	if ((fr = malloc(sizeof(*fr))) == NULL)
		return -1;
	frag_rx_init(fr, 50 * MS);
	frag_rx_key(fr, lm);
	buf_init(&out, 1 << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	buf_free(&out);
	frag_rx_free(fr);
	free(fr);
	return 0;
}

#endif

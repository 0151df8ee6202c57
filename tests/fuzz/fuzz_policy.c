/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: any policy parses or fails cleanly; parses round-trip. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A policy that loads prints as normalised text that loads again into the
 * same text and digest; anything else is a bug in the parser or printer.
 */
static void
round_trip(const struct policy *p)
{
	struct policy	*q = NULL;
	char		*text, *again, *errors = NULL;

	if ((text = policy_format(p)) == NULL)
		abort();
	if (policy_load_buffer("fuzz.policy", text, strlen(text), 0, &q,
	    &errors) != 0)
		abort();
	if ((again = policy_format(q)) == NULL || strcmp(text, again) != 0 ||
	    memcmp(p->digest, q->digest, SHA256_LEN) != 0)
		abort();
	free(again);
	free(text);
	policy_free(q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy	*p = NULL;
	char		*errors = NULL;
	int		 r;

	r = policy_load_buffer("fuzz.policy", data, size, 0, &p, &errors);
	if (r == 0) {
		if (errors != NULL || p == NULL)
			abort();
		round_trip(p);
		policy_free(p);
	} else if (p != NULL)
		abort();
	free(errors);
	return 0;
}

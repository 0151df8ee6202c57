/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Bench only: a journal that writes nothing, linked into daemons built to measure what journalling costs. Never shipped. */

#include <stdlib.h>

#include "audit/audit.h"

struct audit {
	uint64_t	 n;
};

int
audit_open_side(const struct side *s, const char *side, EVP_PKEY *key,
    struct audit **ret)
{
	(void)s;
	(void)side;
	(void)key;
	return (*ret = calloc(1, sizeof(**ret))) != NULL ? 0 : -1;
}

int
audit_append(struct audit *a, const struct audit_record *rec)
{
	(void)rec;
	a->n++;
	return 0;
}

int
audit_note(struct audit *a, const char *event, const char *decision,
    const char *reason)
{
	(void)event;
	(void)decision;
	(void)reason;
	a->n++;
	return 0;
}
int
audit_tick(struct audit *a)
{
	(void)a;
	return 0;
}

void
audit_close(struct audit *a)
{
	free(a);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* A side block's ferry settings: heartbeats, skew, retransmission, spool limits, applied ids. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/parse.h"

#define HEARTBEAT_MIN_MS	100
#define HEARTBEAT_MAX_MS	60000
#define RETRANSMIT_MIN_MS	100
#define PENDING_MAX		1000000
#define SPOOL_MIN_BYTES		(64 * 1024)

/* A duration in [min, max] ms; reported otherwise. */
static int
ferry_duration(struct pstate *ps, const struct ploc *loc, const char *what,
    const char *word, uint32_t min, uint32_t max, uint32_t *slot)
{
	uint32_t	 ms;

	if (word == NULL || check_duration(word, &ms) != 0 || ms < min ||
	    ms > max) {
		pstate_error(ps, loc, "ferry %s takes a duration (%ums..%us)",
		    what, min, max / 1000);
		return -EINVAL;
	}
	if (*slot != 0) {
		pstate_error(ps, loc, "ferry %s given twice", what);
		return -EEXIST;
	}
	*slot = ms;
	return 0;
}

/* 0 if the setting belongs in this side block, else reported. */
static int
ferry_side(struct pstate *ps, const struct ploc *loc, const char *what,
    int outer_only, int inner_only)
{
	if (outer_only && ps->side_inner) {
		pstate_error(ps, loc, "ferry %s belongs in the outer block",
		    what);
		return -EINVAL;
	}
	if (inner_only && !ps->side_inner) {
		pstate_error(ps, loc, "ferry %s belongs in the inner block",
		    what);
		return -EINVAL;
	}
	return 0;
}

/*
 * ferry heartbeat D | skew D | retransmit D | pending N | spool SIZE |
 * keep AGE | archive. num is the value when it was an integer, else -1.
 */
void
parse_side_ferry(struct pstate *ps, char *key, char *word, int64_t num,
    const struct ploc *loc)
{
	struct side_ferry	*f = &parse_side_current(ps)->ferry_set;
	uint64_t		 bytes = 0;
	uint32_t		 secs = 0;

	if (strcmp(key, "heartbeat") == 0)
		(void)ferry_duration(ps, loc, "heartbeat", word,
		    HEARTBEAT_MIN_MS, HEARTBEAT_MAX_MS, &f->heartbeat_ms);
	else if (strcmp(key, "skew") == 0)
		(void)ferry_duration(ps, loc, "skew", word, 1, 600000,
		    &f->skew_ms);
	else if (strcmp(key, "retransmit") == 0) {
		if (ferry_side(ps, loc, key, 1, 0) == 0)
			(void)ferry_duration(ps, loc, "retransmit", word,
			    RETRANSMIT_MIN_MS, 600000, &f->retransmit_ms);
	} else if (strcmp(key, "pending") == 0) {
		if (ferry_side(ps, loc, key, 1, 0) != 0)
			;
		else if (word != NULL || num < 1 || num > PENDING_MAX)
			pstate_error(ps, loc, "ferry pending takes a number "
			    "of one-way messages (1..%d)", PENDING_MAX);
		else if (f->pending != 0)
			pstate_error(ps, loc, "ferry pending given twice");
		else
			f->pending = (uint32_t)num;
	} else if (strcmp(key, "spool") == 0) {
		if (ferry_side(ps, loc, key, 1, 0) != 0)
			;
		else if ((num >= SPOOL_MIN_BYTES &&
		    num <= (INT64_C(1) << 40) && (bytes = (uint64_t)num)) ||
		    (word != NULL && audit_rotate_value(word, &bytes,
		    &secs) == 0 && bytes >= SPOOL_MIN_BYTES)) {
			if (f->spool_bytes != 0)
				pstate_error(ps, loc, "ferry spool given "
				    "twice");
			else
				f->spool_bytes = bytes;
		} else
			pstate_error(ps, loc, "ferry spool takes a size "
			    "(64K..1024G)");
	} else if (strcmp(key, "keep") == 0) {
		if (ferry_side(ps, loc, key, 0, 1) != 0)
			;
		else if (word == NULL || audit_rotate_value(word, &bytes,
		    &secs) != 0 || secs == 0)
			pstate_error(ps, loc, "ferry keep takes an age "
			    "(60s..366d)");
		else if (f->keep_secs != 0)
			pstate_error(ps, loc, "ferry keep given twice");
		else
			f->keep_secs = secs;
	} else if (strcmp(key, "archive") == 0) {
		if (word != NULL || num >= 0)
			pstate_error(ps, loc, "ferry archive takes no value");
		else if (f->archive)
			pstate_error(ps, loc, "ferry archive given twice");
		else
			f->archive = 1;
	} else
		pstate_error(ps, loc, "unknown ferry setting '%s' (heartbeat, "
		    "skew, retransmit, pending, spool, keep, archive)",
		    QUOTE(key));
	free(key);
	free(word);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The exchange journal: one JSON line per decision, written before its effect. */

#ifndef ISOGATE_AUDIT_H
#define ISOGATE_AUDIT_H

#include <stdint.h>

#include "common/common.h"

/*
 * One decision. Pointers may be NULL and numbers negative for "not
 * applicable"; such fields are left out of the line.
 */
struct audit_record {
	const char	*event;		/* request, reply, oneway, frame, ... */
	const uint8_t	*id;		/* ID_LEN bytes */
	const char	*peer;
	const char	*addr;		/* client source address */
	const char	*type;		/* message type */
	const char	*decision;	/* "allow" or "deny" */
	const char	*reason;	/* short token: schema, forbidden, ... */
	const char	*field;		/* the field a schema error is about */
	const uint8_t	*digest;	/* SHA-256 of the canonical payload */
	int64_t		 size;		/* payload bytes */
	int64_t		 rows;
	int		 status;	/* HTTP status given, outer; 0 = none */
	int64_t		 latency_us;
};

struct audit;

/* Opens (creating, mode 0640) the journal for appending. side is "outer"
 * or "inner". */
int	 audit_open(const char *path, const char *side, struct audit **ret);
/* Appends one line with a single write(2); 0 or -errno. */
int	 audit_append(struct audit *, const struct audit_record *);
void	 audit_close(struct audit *);

#endif

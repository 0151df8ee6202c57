/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The exchange journal: hash-chained JSON lines with signed checkpoints, and its readers. */

#ifndef ISOGATE_AUDIT_H
#define ISOGATE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/common.h"

/* Longest line a writer produces and a reader accepts, '\n' included. */
#define AUDIT_LINE_MAX		(64 * 1024)
#define AUDIT_SIG_LEN		64	/* Ed25519 */
#define AUDIT_SIGNED_MAX	160	/* bytes a checkpoint signature covers */

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
	/* The canonical payload itself, for message types whose policy says
	 * "audit content"; NULL otherwise. Valid UTF-8, kept whole: a payload
	 * that does not fit a line (AUDIT_LINE_MAX, escaped) fails the append
	 * with -ENOBUFS, one that is not UTF-8 with -EILSEQ. */
	const char	*content;
	size_t		 content_len;
};

/* How a journal is kept. Zero fields take the defaults in brackets. */
struct audit_config {
	uint32_t	 checkpoint_records;	/* [1000] records per checkpoint */
	uint32_t	 checkpoint_ms;		/* [10000] or this long */
	uint64_t	 rotate_bytes;		/* [0: never] rotate past size */
	uint32_t	 rotate_secs;		/* [0: never] or file age */
	int		 sync;			/* fsync every record, not only
						 * checkpoints */
	const char	*syslog;		/* NULL, or a local datagram
						 * socket (/dev/log): each line
						 * is also sent as RFC 5424 */
};

struct audit;

/* audit.c */
/*
 * Opens (creating, mode 0640) the journal at path for appending; side is
 * "outer" or "inner". An existing journal's chain is continued from its
 * last line: -EBADMSG if that line is not a whole record. With a key
 * (Ed25519, not owned), checkpoints are written every cfg records or ms,
 * at rotation and at close; without one, records are chained only.
 * Rotation renames path to path.NNNNNN (its file sequence, 6+ digits)
 * and starts path with a "file" record that continues the chain.
 */
int	 audit_open(const char *path, const char *side, struct audit **ret);
int	 audit_open_signed(const char *path, const char *side, EVP_PKEY *key,
	    const struct audit_config *cfg, struct audit **ret);
/* side.c: audit_open_signed with the settings of a policy side block. */
struct side;
int	 audit_open_side(const struct side *, const char *side, EVP_PKEY *key,
	    struct audit **ret);
/* Appends one line with a single write(2); 0 or -errno. A checkpoint or
 * rotation due first is done first. */
int	 audit_append(struct audit *, const struct audit_record *);
/* A record of a change of state that concerns no exchange: event,
 * decision and reason only. */
int	 audit_note(struct audit *, const char *event, const char *decision,
	    const char *reason);
/* Appends a checkpoint now if records are unsigned; fsyncs. */
int	 audit_checkpoint(struct audit *);
/* For a timer: a checkpoint if one is due by time. */
int	 audit_tick(struct audit *);
/* Records appended, lines forwarded to syslog that were dropped. */
uint64_t audit_count(const struct audit *);
uint64_t audit_syslog_dropped(const struct audit *);
/* Writes the closing checkpoint (when signed) and closes. */
void	 audit_close(struct audit *);

/* read.c: the fixed head every line starts with, and the marks. */
struct audit_head {
	uint64_t	 n;			/* record number in the journal */
	uint8_t		 prev[SHA256_LEN];	/* hash of the line before */
	char		 side[6];
	char		 event[33];
	const char	*time;			/* into the line, time_len bytes */
	size_t		 time_len;
	const char	*rest;			/* after the event member */
	size_t		 rest_len;
};
/* Parses the head of line (len bytes, no '\n'); -EBADMSG unless it has the
 * exact form a writer produces. */
int	 audit_parse_head(const char *line, size_t len, struct audit_head *ret);
/* Of a "file" record: its file sequence. Of a "checkpoint": also its
 * reason (interval, rotate, close) and signature. -EBADMSG otherwise. */
int	 audit_parse_file(const struct audit_head *, uint64_t *ret_file);
int	 audit_parse_checkpoint(const struct audit_head *, uint64_t *ret_file,
	    char ret_reason[16], uint8_t ret_sig[AUDIT_SIG_LEN]);
/* A file read line by line in bounded memory. next: 1 and the line (with
 * its '\n', unless it is a last line without one), 0 at the end, -E2BIG
 * for a line longer than AUDIT_LINE_MAX, or -errno. */
struct audit_reader;
int	 audit_reader_open(const char *path, struct audit_reader **ret);
int	 audit_reader_next(struct audit_reader *, const char **ret,
	    size_t *ret_len);
void	 audit_reader_close(struct audit_reader *);
/* The bytes a checkpoint signs: see docs/audit.md. */
size_t	 audit_signed_bytes(const char *side, uint64_t file, uint64_t n,
	    const uint8_t chain[SHA256_LEN], const char *reason,
	    const char *time, size_t time_len, uint8_t out[AUDIT_SIGNED_MAX]);

/* verify.c: a streaming verifier, fed files in order, line by line. */
struct audit_verify;
/* key: the side's public key (not owned), or NULL to check the chain only.
 * live: a journal still being written; an unsigned tail is not an error. */
int	 audit_verify_new(EVP_PKEY *key, int live, struct audit_verify **ret);
void	 audit_verify_free(struct audit_verify *);
/* Every call after the first failure returns the same -EBADMSG. */
int	 audit_verify_file(struct audit_verify *, const char *name);
/* line: len bytes including its '\n' if it had one. */
int	 audit_verify_line(struct audit_verify *, const char *line, size_t len);
int	 audit_verify_end(struct audit_verify *);
/* After -EBADMSG: "FILE:LINE: what is wrong". */
const char *audit_verify_error(const struct audit_verify *);
/* After success: "N records in F files, C checkpoints, side S, ..." */
int	 audit_verify_summary(const struct audit_verify *, char *, size_t);

#endif

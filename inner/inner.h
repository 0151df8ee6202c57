/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The inner daemon: the SQLite executor and the handling of inward frames. */

#ifndef ISOGATE_INNER_H
#define ISOGATE_INNER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/common.h"
#include "audit/audit.h"
#include "ferry/ferry.h"
#include "policy/policy.h"

#define EXEC_BATCH_MAX		256	/* one-way messages per transaction */
#define EXEC_BUSY_TIMEOUT_MS	1000	/* waiting for another writer */
#define EXEC_PROGRESS_OPS	1000	/* VM steps between deadline checks */
#define EXEC_ERRORS_MAX		(64 * 1024)	/* start-up error text, bytes */

/* exec.c */

/*
 * One message to execute: a frame that passed the ferry and the policy
 * checks, with its validated request object. exec copies the job (and
 * holds a reference on req) for as long as it needs it.
 */
struct exec_job {
	const struct message	*msg;	/* an element of the policy's array */
	uint8_t			 id[ID_LEN];
	char			 peer[FRAME_NAME_MAX + 1];
	char			 type[FRAME_NAME_MAX + 1];
	uint8_t			 digest[SHA256_LEN];	/* of the payload */
	size_t			 size;			/* payload bytes */
	uint64_t		 start_us;	/* inner_now_us() at receipt */
	json_t			*req;
};

/* The final outcome of one job, handed to the exec_done_cb. */
struct exec_result {
	const char	*reason;	/* NULL: allowed; else a deny token */
	char		 field[POLICY_NAME_MAX + 1];	/* "" if none */
	char		 message[200];	/* for the reject payload */
	char		 detail[256];	/* the database's words, for the log */
	char		*payload;	/* allowed: reply or ack payload */
	size_t		 len;
	int64_t		 rows;		/* rows in a reply, else -1 */
	int		 duplicate;	/* a one-way applied before (its
					 * id is in isogate_applied) */
};

/*
 * Called exactly once per job given to exec_run, when its outcome is final:
 * at once for a request, after the COMMIT of its batch for a one-way. The
 * result and its payload are valid only during the call.
 */
typedef void exec_done_cb(void *arg, const struct exec_job *,
	    const struct exec_result *);

struct exec;

/*
 * Opens the policy's SQLite database (which must exist), sets it up and
 * prepares every statement. On failure returns -errno and *ret_errors, a
 * malloc'd text of one line per problem ("file:line: statement for MSG:
 * ..." for statements), all of them.
 */
int	 exec_open(const struct policy *, exec_done_cb *, void *arg,
	    struct exec **ret, char **ret_errors);
/*
 * Runs one job. A request is answered at once (an open batch of one-ways
 * is committed first, so a reply only ever shows committed data). A
 * one-way joins the open batch transaction, committed by exec_commit or
 * when EXEC_BATCH_MAX are pending.
 */
void	 exec_run(struct exec *, const struct exec_job *);
/* Commits the open batch and reports its jobs; a no-op when none is open. */
void	 exec_commit(struct exec *);
size_t	 exec_pending(const struct exec *);
/* Forgets applied ids recorded before cutoff (Unix seconds): a retry
 * older than the policy's `ferry keep` is no longer recognised. Outside
 * a batch only. Returns the number removed, or -EIO. */
int64_t	 exec_prune(struct exec *, int64_t cutoff);
size_t	 exec_nstatements(const struct exec *);
/* Rolls back an uncommitted batch without reporting it. */
void	 exec_close(struct exec *);

/* serve.c */

/* How replies leave: chan_tx_send in the daemon, a recorder in tests. */
typedef int inner_send_fn(void *arg, uint8_t kind, const uint8_t id[ID_LEN],
	    const char *peer, const char *type, const void *payload,
	    size_t len);
/* Seals what is queued so far (chan_tx_seal): the ack of a repeat goes
 * under a seal of its own, as outer's retransmission came. */
typedef int inner_seal_fn(void *arg);

struct inner {
	const struct policy	*pol;
	struct audit		*audit;
	struct exec		*exec;
	inner_send_fn		*send;
	inner_seal_fn		*seal;		/* NULL: none (tests) */
	void			*send_arg;
	uint64_t		 nallow;
	uint64_t		 ndeny;
	uint64_t		 nunanswered;	/* audit or send failed */

	/* Heartbeats: serve.c notes outer's, main.c sends inner's. */
	uint32_t		 beat_ms;
	uint32_t		 skew_ms;
	uint64_t		 beat_echo_time;	/* outer's last, its clock */
	uint64_t		 beat_echo_rx;	/* when it came, ours */
	uint64_t		 beat_heard_ms;	/* mono_ms() of it */
	struct beat_sent	 beat_sent;	/* our last heartbeats */
	int			 beat_now;	/* outer spoke after a silence:
						 * answer without waiting */
	int			 skewed;	/* -1 unknown, 0, 1 */
	int			 unit_bad;	/* this spool unit failed */
};

uint64_t inner_now_us(void);	/* CLOCK_MONOTONIC, microseconds */
#define INNER_SILENT_BEATS	3	/* outer is quiet after this many */
/* chan_rx_cb: every frame the inward receiver reports; arg is the inner. */
void	 inner_frame(void *arg, const struct frame *, int verdict);
/* Appends rec to inner's journal and counts it; -errno when it cannot. */
int	 inner_audit(struct inner *, const struct audit_record *);
/* exec_done_cb: audits the outcome, then replies; arg is the inner. */
void	 inner_done(void *arg, const struct exec_job *,
	    const struct exec_result *);

#endif

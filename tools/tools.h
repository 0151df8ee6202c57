/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The isogate command's subcommands that live in their own files. */

#ifndef ISOGATE_TOOLS_H
#define ISOGATE_TOOLS_H

#include "common/common.h"
#include "policy/policy.h"

/* nft.c */
/* `isogate nft …`: exit status 0, 1 (policy or generation failed), 2. */
int	 cmd_nft(int argc, char **argv);
/* The side's complete ruleset (default drop; name is the policy's file
 * name for the header). 0, or -EINVAL with *why. */
int	 nft_ruleset(const struct policy *, int inner, const char *name,
	    struct buf *, const char **why);
/* outer's guard queue rule: native nft, or iptables-nft commands. */
int	 nft_queue_rule(const struct policy *, int iptables, struct buf *,
	    const char **why);

/* audit.c: isogate audit verify|show|trace|stats; returns the exit code. */
int	 cmd_audit(int argc, char **argv);

#endif

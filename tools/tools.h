/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The isogate command's subcommands, one file each. */

#ifndef ISOGATE_TOOLS_H
#define ISOGATE_TOOLS_H

/* audit.c: isogate audit verify|show|trace|stats; returns the exit code. */
int	 cmd_audit(int argc, char **argv);

#endif

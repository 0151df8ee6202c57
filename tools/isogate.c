/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The isogate command: administrative tools (keygen, check, audit) for operators and auditors. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "ferry/ferry.h"
#include "policy/policy.h"
#include "tools/tools.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: isogate keygen PREFIX\n"
	    "       isogate keygen --link FILE\n"
	    "       isogate check [-nv] POLICY\n"
	    "       isogate nft --side outer|inner [--queue | --iptables] "
	    "POLICY\n"
	    "       isogate audit verify|show|trace|stats ...\n");
	exit(2);
}

static int
cmd_keygen(int argc, char **argv)
{
	int	 r;

	if (argc == 3 && strcmp(argv[1], "--link") == 0) {
		if ((r = linkkey_generate(argv[2])) != 0) {
			fprintf(stderr, "isogate keygen: %s: %s\n", argv[2],
			    r == -EEXIST ? "exists, not overwriting" :
			    strerror(-r));
			return 1;
		}
		printf("wrote %s (eth: link key, mode 0600; copy it to "
		    "both hosts)\n", argv[2]);
		return 0;
	}
	if (argc != 2)
		usage();
	if ((r = key_generate(argv[1])) != 0) {
		if (r == -EEXIST)
			fprintf(stderr, "isogate keygen: %s.key or %s.pub "
			    "exists, not overwriting\n", argv[1], argv[1]);
		else
			fprintf(stderr, "isogate keygen: %s: %s\n", argv[1],
			    strerror(-r));
		return 1;
	}
	printf("wrote %s.key (private, mode 0600) and %s.pub\n", argv[1],
	    argv[1]);
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct policy	*p = NULL;
	char		*errs = NULL, *text, hex[2 * SHA256_LEN + 1];
	unsigned	 flags = POLICY_CHECK_FILES;
	int		 ch, verbose = 0, r;

	optind = 1;
	while ((ch = getopt(argc, argv, "nv")) != -1) {
		switch (ch) {
		case 'n':
			/* Language and semantics only: no key files needed. */
			flags &= ~POLICY_CHECK_FILES;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if ((r = policy_load(argv[optind], flags, &p,
	    &errs)) != 0) {
		if (errs != NULL)
			fputs(errs, stderr);
		else
			fprintf(stderr, "%s: %s\n", argv[optind], strerror(-r));
		free(errs);
		return 1;
	}
	if (verbose) {
		if ((text = policy_format(p)) == NULL) {
			fprintf(stderr, "isogate check: out of memory\n");
			policy_free(p);
			return 1;
		}
		fputs(text, stdout);
		free(text);
	}
	hex_encode(p->digest, sizeof(p->digest), hex);
	fprintf(verbose ? stderr : stdout,
	    "%s: policy OK, %zu peers, %zu messages, digest %s\n",
	    argv[optind], p->npeers, p->nmessages, hex);
	policy_free(p);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "nft") == 0)
		return cmd_nft(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	usage();
}

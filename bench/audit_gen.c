/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Writes a signed journal of N typical records through the library, for the verify benchmark. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/common.h"
#include "ferry/ferry.h"

int
main(int argc, char **argv)
{
	struct audit		*a;
	struct audit_config	 cfg;
	struct audit_record	 rec;
	EVP_PKEY		*key;
	uint8_t			 id[ID_LEN], digest[SHA256_LEN];
	uint64_t		 n, i, t0;
	int			 r;

	if (argc < 5 || (strcmp(argv[1], "outer") != 0 &&
	    strcmp(argv[1], "inner") != 0) ||
	    parse_u64(argv[4], 1, UINT64_MAX, &n) != 0) {
		fprintf(stderr, "usage: audit_gen SIDE KEY FILE N "
		    "[ROTATE_BYTES]\n");
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (argc > 5 && parse_u64(argv[5], 1, UINT64_MAX,
	    &cfg.rotate_bytes) != 0)
		return 2;
	if ((r = key_load_private(argv[2], &key)) != 0 ||
	    (r = audit_open_signed(argv[3], argv[1], key, &cfg, &a)) != 0) {
		fprintf(stderr, "audit_gen: %s\n", strerror(-r));
		return 1;
	}
	memset(&rec, 0, sizeof(rec));
	rec.event = "request";
	rec.id = id;
	rec.peer = "wechat-app";
	rec.addr = "127.0.0.1";
	rec.type = "bill.query";
	rec.digest = digest;
	rec.rows = rec.latency_us = -1;
	memset(digest, 0x5a, sizeof(digest));
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		random_bytes(id, sizeof(id));
		rec.decision = i % 10 == 9 ? "deny" : "allow";
		rec.reason = i % 10 == 9 ? "schema" : NULL;
		rec.status = i % 10 == 9 ? 400 : 0;
		rec.size = (int64_t)(40 + i % 50);
		if ((r = audit_append(a, &rec)) != 0) {
			fprintf(stderr, "audit_gen: append: %s\n", strerror(-r));
			return 1;
		}
	}
	audit_close(a);
	EVP_PKEY_free(key);
	fprintf(stderr, "audit_gen: %llu records in %.2f s (%.0f records/s)\n",
	    (unsigned long long)n, (double)(now_ns() - t0) / 1e9,
	    (double)n * 1e9 / (double)(now_ns() - t0));
	return 0;
}

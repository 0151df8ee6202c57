/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* libFuzzer target: the journal line parser and the streaming verifier on arbitrary files. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY	*key;

/* Parses one line; what it hands back must hold. */
static void
parse_line(const char *line, size_t len)
{
	struct audit_head	 h;
	uint64_t		 file;
	uint8_t			 sig[AUDIT_SIG_LEN];
	char			 reason[16];

	if (audit_parse_head(line, len, &h) != 0)
		return;
	if ((strcmp(h.side, "outer") != 0 && strcmp(h.side, "inner") != 0) ||
	    h.event[0] == '\0' || strlen(h.event) > 32 || h.rest_len < 1 ||
	    h.rest + h.rest_len != line + len || h.time < line ||
	    h.time + h.time_len > h.rest)
		abort();
	(void)audit_parse_file(&h, &file);
	if (audit_parse_checkpoint(&h, &file, reason, sig) == 0 &&
	    strcmp(reason, "interval") != 0 && strcmp(reason, "rotate") != 0 &&
	    strcmp(reason, "close") != 0)
		abort();
}

/*
 * The first byte picks live mode and whether signatures are checked; a
 * form feed at a line's start begins another file.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_verify	*v;
	const char		*p, *end, *nl;
	char			 summary[512];
	size_t			 len;
	int			 r = 0, nfile = 0;

	if (key == NULL &&
	    (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		abort();
	if (size < 1)
		return 0;
	if (audit_verify_new(data[0] & 1 ? key : NULL, data[0] & 2, &v) != 0)
		abort();
	p = (const char *)data + 1;
	end = (const char *)data + size;
	r = audit_verify_file(v, "f0");
	while (r == 0 && p < end) {
		if (*p == '\f') {
			p++;
			r = audit_verify_file(v, ++nfile % 2 ? "f1" : "f2");
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		parse_line(p, nl != NULL ? len - 1 : len);
		r = audit_verify_line(v, p, len);
		p += len;
	}
	if (r == 0)
		r = audit_verify_end(v);
	if (r != 0 && (r != -EBADMSG || audit_verify_error(v) == NULL))
		abort();
	if (r == 0 && audit_verify_summary(v, summary, sizeof(summary)) != 0)
		abort();
	audit_verify_free(v);
	return 0;
}

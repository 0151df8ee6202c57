/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Opening a daemon's journal with the settings of its policy side block. */

#include <errno.h>
#include <string.h>

#include "audit/audit.h"
#include "policy/policy.h"

int
audit_open_side(const struct side *s, const char *side, EVP_PKEY *key,
    struct audit **ret)
{
	struct audit_config	 cfg;

	if (s->audit == NULL)
		return -EINVAL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.sync = s->audit_set.sync;
	cfg.checkpoint_records = s->audit_set.checkpoint_records;
	cfg.checkpoint_ms = s->audit_set.checkpoint_ms;
	cfg.rotate_bytes = s->audit_set.rotate_bytes;
	cfg.rotate_secs = s->audit_set.rotate_secs;
	cfg.syslog = s->audit_set.syslog;
	return audit_open_signed(s->audit, side, key, &cfg, ret);
}

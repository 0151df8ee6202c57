/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* What the grammar's rules do in the outer and inner blocks: paths, listen, TLS, limits, audit, SQL. */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/parse.h"

static struct side *
side_current(struct pstate *ps)
{
	if (ps->side_sel == 0)
		return &ps->p->outer;
	if (ps->side_sel == 1)
		return &ps->p->inner;
	return &ps->scratch_side;
}

struct side *
parse_side_current(struct pstate *ps)
{
	return side_current(ps);
}

void
parse_side_begin(struct pstate *ps, int inner, const struct ploc *loc)
{
	struct side	*s = inner ? &ps->p->inner : &ps->p->outer;

	policy_side_clear(&ps->scratch_side);
	memset(ps->sideloc[2], 0, sizeof(ps->sideloc[2]));
	ps->side_sel = inner;
	ps->side_inner = inner;
	if (s->present) {
		pstate_error(ps, loc, "%s block given twice",
		    inner ? "inner" : "outer");
		ps->side_sel = 2;
		s = &ps->scratch_side;
	}
	s->present = 1;
	s->file = pstate_strdup(ps, loc->file);
	s->line = loc->line;
}

static char **
side_slot(struct side *s, enum side_item item)
{
	switch (item) {
	case SIDE_LISTEN:
		return &s->listen;
	case SIDE_INWARD:
		return &s->inward;
	case SIDE_OUTWARD:
		return &s->outward;
	case SIDE_KEY:
		return &s->key;
	case SIDE_PEER_KEY:
		return &s->peer_key;
	case SIDE_AUDIT:
		return &s->audit;
	case SIDE_STATE:
		return &s->state;
	default:
		return &s->database;
	}
}

/* 0 if item belongs in the current side block, else reported. */
static int
side_check(struct pstate *ps, enum side_item item, int inner_only,
    const struct ploc *loc)
{
	if (item == SIDE_LISTEN && ps->side_inner) {
		pstate_error(ps, loc, "listen belongs in the outer block");
		return -EINVAL;
	}
	if (inner_only && !ps->side_inner) {
		pstate_error(ps, loc, "%s belongs in the inner block",
		    item == SIDE_DATABASE ? "database" : "statement");
		return -EINVAL;
	}
	return 0;
}

/*
 * Records where item was first given, even if its value turns out wrong,
 * so that a bad value is not also reported as missing. Returns 0 the first
 * time, -EEXIST after that.
 */
static int
side_given(struct pstate *ps, enum side_item item, const struct ploc *loc)
{
	struct ploc	*at = &ps->sideloc[ps->side_sel][item];

	if (at->file != NULL)
		return -EEXIST;
	*at = *loc;
	return 0;
}

/* Stores a valid value, unless the item was given before. */
static void
side_store(struct pstate *ps, enum side_item item, int given, char **slot,
    char *value, const struct ploc *loc)
{
	if (given != 0) {
		pstate_error(ps, loc, "%s given twice", side_item_names[item]);
		free(value);
	} else
		*slot = value;
}

void
parse_side_set(struct pstate *ps, enum side_item item, char *value,
    const struct ploc *loc)
{
	const char	*why;
	char		*resolved = NULL;
	int		 given;

	if (side_check(ps, item, 0, loc) != 0)
		goto out;
	given = side_given(ps, item, loc);
	if (item == SIDE_LISTEN) {
		if (check_listen(value, &why) != 0) {
			pstate_error(ps, loc, "listen %s: %s", QUOTE(value),
			    why);
			goto out;
		}
		resolved = value;
		value = NULL;
	} else if (item == SIDE_INWARD || item == SIDE_OUTWARD) {
		if (check_endpoint(ps, loc, side_item_names[item], value,
		    &resolved) != 0)
			goto out;
	} else if (check_path(ps, loc, side_item_names[item], value,
	    &resolved) != 0)
		goto out;
	side_store(ps, item, given, side_slot(side_current(ps), item),
	    resolved, loc);
 out:
	free(value);
}

/*
 * listen ADDR plain | listen ADDR tls { … }: nothing listens in plaintext
 * unless the policy says so.
 */
void
parse_side_listen(struct pstate *ps, char *addr, char *mode, int block,
    const struct ploc *loc)
{
	struct side	*s;
	const char	*why;
	int		 given, plain, tls;

	if (side_check(ps, SIDE_LISTEN, 0, loc) != 0)
		goto out;
	given = side_given(ps, SIDE_LISTEN, loc);
	plain = mode != NULL && strcmp(mode, "plain") == 0;
	tls = mode != NULL && strcmp(mode, "tls") == 0;
	if ((!plain && !tls) || (plain && block)) {
		pstate_error(ps, loc, "listen %s: say tls { … } or plain",
		    QUOTE(addr));
		goto out;
	}
	if (tls && !block) {
		pstate_error(ps, loc, "listen %s tls: needs a block { "
		    "certificate … key … client-ca … crl … }", QUOTE(addr));
		goto out;
	}
	if (check_listen(addr, &why) != 0) {
		pstate_error(ps, loc, "listen %s: %s", QUOTE(addr), why);
		goto out;
	}
	s = side_current(ps);
	side_store(ps, SIDE_LISTEN, given, &s->listen, addr, loc);
	addr = NULL;
	if (given == 0) {
		s->listen_plain = plain;
		s->tls.on = tls;
	}
 out:
	free(addr);
	free(mode);
}

/* One item of a listen's tls block: a PEM file. */
void
parse_side_tls(struct pstate *ps, const char *item, char *value,
    const struct ploc *loc)
{
	struct side	*s = side_current(ps);
	char		**slot, *resolved = NULL;

	if (ps->side_inner || !s->tls.on)
		goto out;	/* the listen line was reported */
	if (strcmp(item, "certificate") == 0)
		slot = &s->tls.certificate;
	else if (strcmp(item, "key") == 0)
		slot = &s->tls.key;
	else if (strcmp(item, "client-ca") == 0)
		slot = &s->tls.client_ca;
	else if (strcmp(item, "crl") == 0)
		slot = &s->tls.crl;
	else {
		pstate_error(ps, loc, "unknown tls item %s (certificate, key, "
		    "client-ca, crl)", QUOTE(item));
		goto out;
	}
	if (*slot != NULL) {
		pstate_error(ps, loc, "tls %s given twice", item);
		goto out;
	}
	if (check_path(ps, loc, item, value, &resolved) != 0)
		goto out;
	*slot = resolved;
 out:
	free(value);
}

/* A user name as useradd(8) accepts it: the daemon looks it up at start. */
void
parse_side_user(struct pstate *ps, char *name, const struct ploc *loc)
{
	struct side	*s = side_current(ps);
	size_t		 i, n = strlen(name);
	int		 bad = n == 0 || n > 32 || name[0] == '-';

	for (i = 0; !bad && i < n; i++)
		bad = !(isalnum((unsigned char)name[i]) || name[i] == '_' ||
		    name[i] == '-' || name[i] == '.');
	if (bad)
		pstate_error(ps, loc, "user '%s': not a valid user name",
		    QUOTE(name));
	else if (s->user != NULL)
		pstate_error(ps, loc, "user given twice");
	else {
		s->user = name;
		name = NULL;
	}
	free(name);
}

/* `limit NAME VALUE`: a count, or a duration for the timeouts. */
void
parse_side_limit(struct pstate *ps, char *name, char *word, int64_t num,
    const struct ploc *loc)
{
	struct side		*s = side_current(ps);
	const struct limit_def	*d = NULL;
	uint32_t		*at, v = 0;
	size_t			 i;
	int			 ok;

	for (i = 0; i < policy_nlimit_defs; i++)
		if (strcmp(policy_limit_defs[i].name, name) == 0)
			d = &policy_limit_defs[i];
	if (ps->side_inner) {
		pstate_error(ps, loc, "limit belongs in the outer block");
		goto out;
	}
	if (d == NULL) {
		pstate_error(ps, loc, "unknown limit '%s' (header-size, "
		    "headers, connections, peer-connections, pending, "
		    "peer-pending, handshake-timeout, idle-timeout, "
		    "request-timeout)", QUOTE(name));
		goto out;
	}
	if (d->duration)
		ok = word != NULL && check_duration(word, &v) == 0;
	else if ((ok = word == NULL && num >= 0 && num <= UINT32_MAX))
		v = (uint32_t)num;
	if (!ok || v < d->min || v > d->max) {
		if (d->duration)
			pstate_error(ps, loc, "limit %s takes a duration "
			    "(%" PRIu32 "ms..%" PRIu32 "s)", d->name, d->min,
			    d->max / 1000);
		else
			pstate_error(ps, loc, "limit %s takes a number "
			    "(%" PRIu32 "..%" PRIu32 ")", d->name, d->min,
			    d->max);
		goto out;
	}
	at = (uint32_t *)(void *)((char *)&s->limits + d->offset);
	if (*at != 0)
		pstate_error(ps, loc, "limit %s given twice", d->name);
	else
		*at = v;
 out:
	free(name);
	free(word);
}

void
parse_side_guard(struct pstate *ps, int64_t queue, const struct ploc *loc)
{
	struct side	*s = side_current(ps);

	if (ps->side_inner) {
		pstate_error(ps, loc, "guard belongs in the outer block");
		return;
	}
	if (s->guard.present) {
		pstate_error(ps, loc, "guard given twice");
		return;
	}
	if (queue < 0 || queue > GUARD_QUEUE_MAX) {
		pstate_error(ps, loc, "guard queue must be 0..%d",
		    GUARD_QUEUE_MAX);
		return;
	}
	s->guard.present = 1;
	s->guard.queue = (uint16_t)queue;
	s->guard.rate = GUARD_RATE_DEFAULT;
	s->guard.burst = 0;		/* = rate unless given */
	s->guard.conns = GUARD_CONNS_DEFAULT;
}

void
parse_guard_opt(struct pstate *ps, enum guard_opt opt, int64_t v,
    const struct ploc *loc)
{
	struct side	*s = side_current(ps);
	static const char *const names[] = { "rate", "burst", "connections" };

	if (!s->guard.present || ps->side_inner)
		return;		/* the guard head was reported */
	if (v < 1 || v > GUARD_LIMIT_MAX) {
		pstate_error(ps, loc, "guard %s must be 1..%d", names[opt],
		    GUARD_LIMIT_MAX);
		return;
	}
	switch (opt) {
	case GUARD_RATE:
		s->guard.rate = (uint32_t)v;
		break;
	case GUARD_BURST:
		s->guard.burst = (uint32_t)v;
		break;
	case GUARD_CONNECTIONS:
		s->guard.conns = (uint32_t)v;
		break;
	}
}

/* NK, NM, NG (bytes, powers of 1024) or Ns, Nm, Nh, Nd (seconds). */
int
audit_rotate_value(const char *w, uint64_t *ret_bytes, uint32_t *ret_secs)
{
	char		 digits[16];
	size_t		 n = strspn(w, "0123456789");
	uint64_t	 v, unit;
	int		 bytes = 1;

	if (n == 0 || n >= sizeof(digits) || strlen(w + n) != 1)
		return -EINVAL;
	switch (w[n]) {
	case 'K': unit = 1024; break;
	case 'M': unit = 1024 * 1024; break;
	case 'G': unit = 1024 * 1024 * 1024; break;
	case 's': unit = 1; bytes = 0; break;
	case 'm': unit = 60; bytes = 0; break;
	case 'h': unit = 3600; bytes = 0; break;
	case 'd': unit = 86400; bytes = 0; break;
	default: return -EINVAL;
	}
	memcpy(digits, w, n);
	digits[n] = '\0';
	/* At least 4 KiB or a minute; at most 1 TiB or a year. */
	if (bytes) {
		if (parse_u64(digits, 1, (UINT64_C(1) << 40) / unit, &v) != 0 ||
		    v * unit < 4096)
			return -ERANGE;
		*ret_bytes = v * unit;
	} else {
		if (parse_u64(digits, 1, 366 * 86400 / unit, &v) != 0 ||
		    v * unit < 60)
			return -ERANGE;
		*ret_secs = (uint32_t)(v * unit);
	}
	return 0;
}

/*
 * audit sync | checkpoint N | checkpoint DURATION | rotate SIZE | rotate
 * TIME | syslog ["PATH"]: the journal's settings (docs/audit.md). num is
 * the value when it was an integer, else -1.
 */
void
parse_side_audit(struct pstate *ps, char *key, char *word, int64_t num,
    const struct ploc *loc)
{
	struct side_audit	*a = &side_current(ps)->audit_set;
	char			*resolved = NULL;
	uint32_t		 ms;
	uint64_t		 bytes = 0;
	uint32_t		 secs = 0;

	if (strcmp(key, "sync") == 0) {
		if (word != NULL || num >= 0)
			pstate_error(ps, loc, "audit sync takes no value");
		else
			a->sync = 1;
	} else if (strcmp(key, "checkpoint") == 0) {
		if (num >= 0) {
			if (num < 1 || num > 1000000)
				pstate_error(ps, loc, "audit checkpoint: 1 to "
				    "1000000 records");
			else if (a->checkpoint_records != 0)
				pstate_error(ps, loc, "audit checkpoint "
				    "records given twice");
			else
				a->checkpoint_records = (uint32_t)num;
		} else if (word == NULL || check_duration(word, &ms) != 0)
			pstate_error(ps, loc, "audit checkpoint takes a number "
			    "of records or a duration (1ms..600s)");
		else if (a->checkpoint_ms != 0)
			pstate_error(ps, loc, "audit checkpoint interval given "
			    "twice");
		else
			a->checkpoint_ms = ms;
	} else if (strcmp(key, "rotate") == 0) {
		if (num >= 4096 && num <= (INT64_C(1) << 40))
			bytes = (uint64_t)num;	/* plain bytes, as printed */
		if (bytes == 0 && (word == NULL || audit_rotate_value(word,
		    &bytes, &secs) != 0))
			pstate_error(ps, loc, "audit rotate takes a size "
			    "(4K..1024G) or an age (60s..366d)");
		else if ((bytes != 0 && a->rotate_bytes != 0) ||
		    (secs != 0 && a->rotate_secs != 0))
			pstate_error(ps, loc, "audit rotate given twice");
		else if (bytes != 0)
			a->rotate_bytes = bytes;
		else
			a->rotate_secs = secs;
	} else if (strcmp(key, "syslog") == 0) {
		if (num >= 0)
			pstate_error(ps, loc, "audit syslog takes a socket "
			    "path");
		else if (a->syslog != NULL)
			pstate_error(ps, loc, "audit syslog given twice");
		else if (word == NULL)
			a->syslog = pstate_strdup(ps, "/dev/log");
		else if (check_path(ps, loc, "audit syslog", word,
		    &resolved) == 0)
			a->syslog = resolved;
	} else
		pstate_error(ps, loc, "unknown audit setting '%s' (sync, "
		    "checkpoint, rotate, syslog)", QUOTE(key));
	free(key);
	free(word);
}

void
parse_side_database(struct pstate *ps, char *driver, char *value,
    const struct ploc *loc)
{
	struct side	*s = side_current(ps);
	char		*resolved = NULL;
	int		 given;

	if (side_check(ps, SIDE_DATABASE, 1, loc) != 0)
		goto out;
	given = side_given(ps, SIDE_DATABASE, loc);
	if (strcmp(driver, "sqlite") == 0) {
		if (check_path(ps, loc, "database", value, &resolved) != 0)
			goto out;
	} else if (strcmp(driver, "postgres") == 0) {
		if (value[0] == '\0') {
			pstate_error(ps, loc, "empty database connection "
			    "string");
			goto out;
		}
		resolved = value;
		value = NULL;
	} else {
		pstate_error(ps, loc, "unknown database driver '%s' (sqlite "
		    "or postgres)", QUOTE(driver));
		goto out;
	}
	if (given != 0) {
		pstate_error(ps, loc, "database given twice");
		free(resolved);
		goto out;
	}
	s->db_driver = driver;
	driver = NULL;
	s->database = resolved;
 out:
	free(driver);
	free(value);
}

void
parse_side_statement(struct pstate *ps, char *name, char *sql,
    const struct ploc *loc)
{
	struct side		*s = side_current(ps);
	struct statement	*st;

	if (name == NULL || side_check(ps, SIDE_NITEMS, 1, loc) != 0)
		goto out;
	if (sql[0] == '\0') {
		pstate_error(ps, loc, "empty statement for %s", QUOTE(name));
		goto out;
	}
	if (pstate_grow(ps, &s->statements, s->nstatements,
	    sizeof(*s->statements)) != 0)
		goto out;
	st = &s->statements[s->nstatements++];
	st->message = name;
	st->sql = sql;
	st->file = pstate_strdup(ps, loc->file);
	st->line = loc->line;
	return;
 out:
	free(name);
	free(sql);
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* What the grammar's rules do: build peers, messages, fields, sides. */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/parse.h"

#define RATE_MAX	1000000		/* requests per second, and burst */

void
parse_peer_begin(struct pstate *ps, char *name, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct peer	*pe;
	int		 r;

	if (name == NULL)
		return;
	if (pstate_grow(ps, &p->peers, p->npeers, sizeof(*pe)) != 0) {
		free(name);
		return;
	}
	pe = &p->peers[p->npeers++];
	memset(pe, 0, sizeof(*pe));
	pe->name = name;
	pe->file = pstate_strdup(ps, loc->file);
	pe->line = loc->line;
	ps->block_errors = ps->nerrors;
	if ((r = check_peer_name(name)) == -ENAMETOOLONG)
		pstate_error(ps, loc, "peer name '%s' is longer than %d "
		    "characters", QUOTE(name), POLICY_NAME_MAX);
	else if (r != 0)
		pstate_error(ps, loc, "invalid peer name '%s'", QUOTE(name));
}

/* Whether a peer can be recognised is only worth saying when its block
 * read cleanly: after an error it may be that error's doing. */
void
parse_peer_end(struct pstate *ps)
{
	struct policy	*p = ps->p;
	struct peer	*pe;
	struct ploc	 loc;

	if (p->npeers == 0 || ps->nerrors != ps->block_errors)
		return;
	pe = &p->peers[p->npeers - 1];
	loc.file = pe->file;
	loc.line = pe->line;
	if (pe->naddrs == 0 && pe->certificate == NULL)
		pstate_error(ps, &loc, "peer %s has neither address nor "
		    "certificate", pe->name);
}

void
parse_peer_address(struct pstate *ps, char *word, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct peer	*pe;
	struct netaddr	 na;
	const char	*why;
	size_t		 i;

	if (p->npeers == 0)
		goto out;
	pe = &p->peers[p->npeers - 1];
	if (check_address(word, &na, &why) != 0) {
		pstate_error(ps, loc, "address %s: %s", QUOTE(word), why);
		goto out;
	}
	for (i = 0; i < pe->naddrs; i++)
		if (memcmp(&pe->addrs[i], &na, sizeof(na)) == 0)
			goto out;
	if (pstate_grow(ps, &pe->addrs, pe->naddrs, sizeof(na)) != 0)
		goto out;
	pe->addrs[pe->naddrs++] = na;
 out:
	free(word);
}

void
parse_peer_certificate(struct pstate *ps, char *s, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct peer	*pe;

	if (p->npeers == 0)
		goto out;
	pe = &p->peers[p->npeers - 1];
	if (pe->certificate != NULL)
		pstate_error(ps, loc, "certificate given twice");
	else if (s[0] == '\0')
		pstate_error(ps, loc, "empty certificate");
	else if (strncmp(s, "CN=", 3) != 0 || s[3] == '\0')
		pstate_error(ps, loc, "certificate %s: expected \"CN=name\" "
		    "(matched against the subject CN or a DNS name)", QUOTE(s));
	else {
		pe->certificate = s;
		s = NULL;
	}
 out:
	free(s);
}

void
parse_peer_rate(struct pstate *ps, int64_t rate, int has_burst, int64_t burst,
    const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct peer	*pe;

	if (p->npeers == 0)
		return;
	pe = &p->peers[p->npeers - 1];
	if (!has_burst)
		burst = rate;
	if (pe->rate != 0)
		pstate_error(ps, loc, "rate given twice");
	else if (rate < 1 || rate > RATE_MAX)
		pstate_error(ps, loc, "rate must be 1..%d per second",
		    RATE_MAX);
	else if (burst < 1 || burst > RATE_MAX)
		pstate_error(ps, loc, "burst must be 1..%d", RATE_MAX);
	else {
		pe->rate = (uint32_t)rate;
		pe->burst = (uint32_t)burst;
	}
}

void
parse_message_begin(struct pstate *ps, char *name, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct message	*m;
	int		 r;

	if (name == NULL)
		return;
	if (pstate_grow(ps, &p->messages, p->nmessages, sizeof(*m)) != 0 ||
	    pstate_grow(ps, &ps->minfo, p->nmessages,
	    sizeof(*ps->minfo)) != 0) {
		free(name);
		return;
	}
	memset(&ps->minfo[p->nmessages], 0, sizeof(*ps->minfo));
	ps->nminfo = p->nmessages + 1;
	m = &p->messages[p->nmessages++];
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->timeout_ms = POLICY_TIMEOUT_DEFAULT;
	m->file = pstate_strdup(ps, loc->file);
	m->line = loc->line;
	ps->schema_sel = 2;
	ps->block_errors = ps->nerrors;
	if ((r = check_peer_name(name)) == -ENAMETOOLONG)
		pstate_error(ps, loc, "message name '%s' is longer than %d "
		    "characters", QUOTE(name), POLICY_NAME_MAX);
	else if (r != 0)
		pstate_error(ps, loc, "invalid message name '%s'",
		    QUOTE(name));
}

void
parse_message_end(struct pstate *ps)
{
	if (ps->nminfo > 0)
		ps->minfo[ps->nminfo - 1].clean =
		    ps->nerrors == ps->block_errors;
}

void
parse_message_allow(struct pstate *ps, char *name, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct message	*m;
	struct msginfo	*mi;
	size_t		 i;

	if (name == NULL || p->nmessages == 0)
		goto out;
	m = &p->messages[p->nmessages - 1];
	mi = &ps->minfo[p->nmessages - 1];
	for (i = 0; i < m->nallow; i++)
		if (strcmp(m->allow[i], name) == 0)
			goto out;
	if (pstate_grow(ps, &m->allow, m->nallow, sizeof(*m->allow)) != 0 ||
	    pstate_grow(ps, &mi->allow, m->nallow, sizeof(*mi->allow)) != 0)
		goto out;
	mi->allow[m->nallow] = *loc;
	m->allow[m->nallow++] = name;
	name = NULL;
 out:
	free(name);
}

void
parse_message_oneway(struct pstate *ps, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct message	*m;

	if (p->nmessages == 0)
		return;
	m = &p->messages[p->nmessages - 1];
	if (m->oneway)
		pstate_error(ps, loc, "oneway given twice");
	m->oneway = 1;
}

void
parse_message_timeout(struct pstate *ps, char *word, const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct msginfo	*mi;
	uint32_t	 ms;

	if (p->nmessages == 0)
		goto out;
	mi = &ps->minfo[p->nmessages - 1];
	if (mi->has_timeout)
		pstate_error(ps, loc, "timeout given twice");
	else if (check_duration(word, &ms) != 0)
		pstate_error(ps, loc, "invalid timeout '%s' (1ms..600s)",
		    QUOTE(word));
	else
		p->messages[p->nmessages - 1].timeout_ms = ms;
	mi->has_timeout = 1;
 out:
	free(word);
}

/* "audit content": records about this message keep its canonical payload
 * (docs/audit.md), for message types where the law requires it. */
void
parse_message_audit(struct pstate *ps, char *word, const struct ploc *loc)
{
	struct policy	*p = ps->p;

	if (p->nmessages == 0)
		goto out;
	if (strcmp(word, "content") != 0)
		pstate_error(ps, loc, "unknown audit setting '%s' for a message "
		    "(content)", QUOTE(word));
	else if (p->messages[p->nmessages - 1].audit_content)
		pstate_error(ps, loc, "audit content given twice");
	else
		p->messages[p->nmessages - 1].audit_content = 1;
 out:
	free(word);
}

static struct schema *
schema_current(struct pstate *ps)
{
	struct policy	*p = ps->p;

	if (ps->schema_sel == 2 || p->nmessages == 0)
		return &ps->scratch_schema;
	if (ps->schema_sel == 1)
		return &p->messages[p->nmessages - 1].reply;
	return &p->messages[p->nmessages - 1].request;
}

void
parse_schema_begin(struct pstate *ps, int reply, int64_t rows,
    const struct ploc *loc)
{
	struct policy	*p = ps->p;
	struct msginfo	*mi;
	struct message	*m;

	policy_schema_clear(&ps->scratch_schema);
	ps->schema_sel = 2;
	ps->schema_errors = ps->nerrors;
	ps->overflow = 0;
	if (p->nmessages == 0)
		return;
	m = &p->messages[p->nmessages - 1];
	mi = &ps->minfo[p->nmessages - 1];
	if (!reply) {
		if (mi->has_request)
			pstate_error(ps, loc, "request block given twice");
		else
			ps->schema_sel = 0;
		mi->has_request = 1;
		return;
	}
	if (mi->has_reply)
		pstate_error(ps, loc, "reply block given twice");
	else {
		ps->schema_sel = 1;
		mi->reply = *loc;
		if (rows < 1 || rows > POLICY_ROWS_MAX)
			pstate_error(ps, loc, "reply max rows must be 1..%d",
			    POLICY_ROWS_MAX);
		else
			m->reply_max_rows = (uint32_t)rows;
	}
	mi->has_reply = 1;
}

static int
field_cmp(const void *a, const void *b)
{
	const struct field	*fa = a, *fb = b;
	int			 c;

	if ((c = strcmp(fa->name, fb->name)) != 0)
		return c;
	return (fa->line > fb->line) - (fa->line < fb->line);
}

void
parse_schema_end(struct pstate *ps, const struct ploc *loc)
{
	struct schema	*s = schema_current(ps);
	struct ploc	 at = *loc;
	size_t		 i;

	if (s->nfields == 0 && ps->schema_sel != 2 &&
	    ps->nerrors == ps->schema_errors)
		pstate_error(ps, loc, "%s block has no fields",
		    ps->schema_sel == 1 ? "reply" : "request");
	if (s->nfields > 1)
		qsort(s->fields, s->nfields, sizeof(*s->fields), field_cmp);
	for (i = 1; i < s->nfields; i++) {
		if (strcmp(s->fields[i - 1].name, s->fields[i].name) != 0)
			continue;
		at.line = s->fields[i].line;
		pstate_error(ps, &at, "duplicate field %s (first at line %d)",
		    s->fields[i].name, s->fields[i - 1].line);
	}
	ps->schema_sel = 2;
}

void
parse_field_begin(struct pstate *ps, char *name, const struct ploc *loc)
{
	struct field	*f = &ps->fld;
	int		 r;

	policy_field_clear(f);
	ps->fld_active = 0;
	ps->enum_overflow = 0;
	if (name == NULL)
		return;
	f->name = name;
	f->line = loc->line;
	ps->fld_loc = *loc;
	f->max_len = POLICY_STRING_DEFAULT;
	f->imin = INT64_MIN;
	f->imax = INT64_MAX;
	f->nmin = -DBL_MAX;
	f->nmax = DBL_MAX;
	ps->fld_active = 1;
	if ((r = check_field_name(name)) == -ENAMETOOLONG)
		pstate_error(ps, loc, "field name '%s' is longer than %d "
		    "characters", QUOTE(name), POLICY_NAME_MAX);
	else if (r != 0)
		pstate_error(ps, loc, "invalid field name '%s' (lower case "
		    "letters, digits and _)", QUOTE(name));
}

void
parse_field_end(struct pstate *ps, enum field_type type)
{
	struct schema	*s = schema_current(ps);

	if (!ps->fld_active)
		return;
	ps->fld_active = 0;
	ps->fld.type = type;
	if (type == FIELD_ENUM && ps->fld.nvalues == 0) {
		pstate_error(ps, &ps->fld_loc, "empty enum");
		goto out;
	}
	if (s->nfields == POLICY_FIELDS_MAX) {
		if (!ps->overflow)
			pstate_error(ps, &ps->fld_loc, "more than %d fields",
			    POLICY_FIELDS_MAX);
		ps->overflow = 1;
		goto out;
	}
	if (pstate_grow(ps, &s->fields, s->nfields, sizeof(*s->fields)) != 0)
		goto out;
	s->fields[s->nfields++] = ps->fld;
	memset(&ps->fld, 0, sizeof(ps->fld));
 out:
	policy_field_clear(&ps->fld);
}

void
parse_field_maxlen(struct pstate *ps, int64_t n, const struct ploc *loc)
{
	if (n < 1 || n > POLICY_STRING_MAX)
		pstate_error(ps, loc, "string max must be 1..%d",
		    POLICY_STRING_MAX);
	else
		ps->fld.max_len = (size_t)n;
}

void
parse_field_pattern(struct pstate *ps, char *re, const struct ploc *loc)
{
	struct field	*f = &ps->fld;
	const char	*why;
	char		 msg[128];
	int		 r;

	if (!ps->fld_active)
		goto out;
	if (check_pattern(re, &why) != 0) {
		pstate_error(ps, loc, "pattern /%s/: %s", QUOTE(re), why);
		goto out;
	}
	if ((r = regcomp(&f->re, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		if (r == REG_ESPACE) {
			pstate_nomem(ps);
			goto out;
		}
		regerror(r, NULL, msg, sizeof(msg));
		pstate_error(ps, loc, "pattern /%s/: %s", QUOTE(re), msg);
		goto out;
	}
	f->pattern = re;
	re = NULL;
 out:
	free(re);
}

void
parse_field_range(struct pstate *ps, const struct range *r,
    const struct ploc *loc)
{
	struct field	*f = &ps->fld;

	if (f->type == FIELD_INTEGER) {
		if ((r->has_min && !r->min.isint) ||
		    (r->has_max && !r->max.isint)) {
			pstate_error(ps, loc, "integer bounds must be 64-bit "
			    "integers");
			return;
		}
		if (r->has_min)
			f->imin = r->min.i;
		if (r->has_max)
			f->imax = r->max.i;
		if (f->imin > f->imax)
			pstate_error(ps, loc, "empty range: %lld > %lld",
			    (long long)f->imin, (long long)f->imax);
		return;
	}
	/* + 0.0 turns -0 into 0, which is how "-0" reads back. */
	if (r->has_min)
		f->nmin = r->min.d + 0.0;
	if (r->has_max)
		f->nmax = r->max.d + 0.0;
	if (f->nmin > f->nmax)
		pstate_error(ps, loc, "empty range: %g > %g", f->nmin, f->nmax);
}

void
parse_field_enum(struct pstate *ps, char *value, const struct ploc *loc)
{
	struct field	*f = &ps->fld;
	size_t		 i;
	int		 r;

	if (value == NULL || !ps->fld_active)
		goto out;
	if ((r = check_peer_name(value)) == -ENAMETOOLONG) {
		pstate_error(ps, loc, "enum value '%s' is longer than %d "
		    "characters", QUOTE(value), POLICY_NAME_MAX);
		goto out;
	} else if (r != 0) {
		pstate_error(ps, loc, "invalid enum value '%s'", QUOTE(value));
		goto out;
	}
	for (i = 0; i < f->nvalues; i++) {
		if (strcmp(f->values[i], value) == 0) {
			pstate_error(ps, loc, "duplicate enum value %s",
			    value);
			goto out;
		}
	}
	if (f->nvalues == POLICY_ENUM_MAX) {
		if (!ps->enum_overflow)
			pstate_error(ps, loc, "more than %d enum values",
			    POLICY_ENUM_MAX);
		ps->enum_overflow = 1;
		goto out;
	}
	if (pstate_grow(ps, &f->values, f->nvalues, sizeof(*f->values)) != 0)
		goto out;
	f->values[f->nvalues++] = value;
	value = NULL;
 out:
	free(value);
}

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

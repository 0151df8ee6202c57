/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* What the grammar's rules do: build peers, messages and their fields (sides: side.c). */

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

/* limit connections|pending N in a peer block: this peer's own bound in
 * place of the outer block's peer-connections or peer-pending. */
void
parse_peer_limit(struct pstate *ps, char *name, char *word, int64_t num,
    const struct ploc *loc)
{
	static const struct {
		const char	*name;
		const char	*outer;
		size_t		 offset;
		uint32_t	 max;
	} defs[] = {
		{ "connections", "peer-connections",
		    offsetof(struct peer, connections), 1000000 },
		{ "pending", "peer-pending", offsetof(struct peer, pending),
		    65536 },
	};
	struct policy	*p = ps->p;
	uint32_t	*at;
	size_t		 i;

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (strcmp(defs[i].name, name) == 0)
			break;
	if (i == sizeof(defs) / sizeof(defs[0])) {
		pstate_error(ps, loc, "unknown peer limit '%s' (connections, "
		    "pending)", QUOTE(name));
		goto out;
	}
	if (word != NULL || num < 1 || num > defs[i].max) {
		pstate_error(ps, loc, "limit %s takes a number (1..%" PRIu32
		    ")", defs[i].name, defs[i].max);
		goto out;
	}
	if (p->npeers == 0)
		goto out;
	at = (uint32_t *)(void *)((char *)&p->peers[p->npeers - 1] +
	    defs[i].offset);
	if (*at != 0)
		pstate_error(ps, loc, "limit %s given twice", defs[i].name);
	else
		*at = (uint32_t)num;
 out:
	free(name);
	free(word);
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

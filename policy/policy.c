/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The compiled policy: lookups, its normalised (digested) text, freeing. */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/parse.h"

#define FORMAT_MAX	(64 * 1024 * 1024)	/* bytes of normalised text */

void
policy_field_clear(struct field *f)
{
	size_t	 i;

	free(f->name);
	if (f->pattern != NULL)
		regfree(&f->re);
	free(f->pattern);
	for (i = 0; i < f->nvalues; i++)
		free(f->values[i]);
	free(f->values);
	memset(f, 0, sizeof(*f));
}

void
policy_schema_clear(struct schema *s)
{
	size_t	 i;

	for (i = 0; i < s->nfields; i++)
		policy_field_clear(&s->fields[i]);
	free(s->fields);
	memset(s, 0, sizeof(*s));
}

void
policy_side_clear(struct side *s)
{
	size_t	 i;

	free(s->listen);
	free(s->tls.certificate);
	free(s->tls.key);
	free(s->tls.client_ca);
	free(s->tls.crl);
	free(s->inward);
	free(s->outward);
	free(s->key);
	free(s->peer_key);
	free(s->link.key);
	free(s->audit);
	free(s->audit_set.syslog);
	free(s->state);
	free(s->db_driver);
	free(s->database);
	for (i = 0; i < s->nstatements; i++) {
		free(s->statements[i].message);
		free(s->statements[i].sql);
		free(s->statements[i].file);
	}
	free(s->statements);
	free(s->user);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

void
policy_free(struct policy *p)
{
	struct message	*m;
	size_t		 i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->npeers; i++) {
		free(p->peers[i].name);
		free(p->peers[i].addrs);
		free(p->peers[i].certificate);
		free(p->peers[i].file);
	}
	free(p->peers);
	for (i = 0; i < p->nmessages; i++) {
		m = &p->messages[i];
		free(m->name);
		for (j = 0; j < m->nallow; j++)
			free(m->allow[j]);
		free(m->allow);
		policy_schema_clear(&m->request);
		policy_schema_clear(&m->reply);
		free(m->file);
	}
	free(p->messages);
	policy_side_clear(&p->outer);
	policy_side_clear(&p->inner);
	free(p);
}

static int
message_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct message *)elem)->name);
}

const struct message *
policy_message(const struct policy *p, const char *name)
{
	if (p->nmessages == 0)
		return NULL;
	return bsearch(name, p->messages, p->nmessages, sizeof(*p->messages),
	    message_key_cmp);
}

static int
peer_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct peer *)elem)->name);
}

const struct peer *
policy_peer(const struct policy *p, const char *name)
{
	if (p->npeers == 0)
		return NULL;
	return bsearch(name, p->peers, p->npeers, sizeof(*p->peers),
	    peer_key_cmp);
}

static int
netaddr_match(const struct netaddr *na, int family, const uint8_t *addr)
{
	unsigned int	 bytes = na->prefixlen / 8, bits = na->prefixlen % 8;
	uint8_t		 mask;

	if (na->family != family || memcmp(na->addr, addr, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - bits));
	return (na->addr[bytes] & mask) == (addr[bytes] & mask);
}

/* sa as a family and address bytes, IPv4-mapped IPv6 as IPv4; -1 if neither. */
static int
sockaddr_bytes(const struct sockaddr *sa, int *family, const uint8_t **addr)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		*family = AF_INET;
		*addr = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		*family = AF_INET6;
		*addr = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		if (memcmp(*addr, mapped, sizeof(mapped)) == 0) {
			*family = AF_INET;
			*addr += sizeof(mapped);
		}
	} else
		return -1;
	return 0;
}

int
peer_has_addr(const struct peer *pe, const struct sockaddr *sa)
{
	const uint8_t	*addr;
	size_t		 j;
	int		 family;

	if (sockaddr_bytes(sa, &family, &addr) != 0)
		return 0;
	for (j = 0; j < pe->naddrs; j++)
		if (netaddr_match(&pe->addrs[j], family, addr))
			return 1;
	return 0;
}

const struct peer *
policy_peer_by_addr(const struct policy *p, const struct sockaddr *sa)
{
	size_t		 i;

	for (i = 0; i < p->npeers; i++)
		if (peer_has_addr(&p->peers[i], sa))
			return &p->peers[i];
	return NULL;
}

static int
str_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(char * const *)elem);
}

int
message_allows(const struct message *m, const char *peer)
{
	if (m->nallow == 0)
		return 0;
	return bsearch(peer, m->allow, m->nallow, sizeof(*m->allow),
	    str_key_cmp) != NULL;
}

static int
statement_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct statement *)elem)->message);
}

const struct statement *
policy_statement(const struct policy *p, const char *message)
{
	if (p->inner.nstatements == 0)
		return NULL;
	return bsearch(message, p->inner.statements, p->inner.nstatements,
	    sizeof(*p->inner.statements), statement_key_cmp);
}

const char *
field_type_name(enum field_type t)
{
	switch (t) {
	case FIELD_STRING:
		return "string";
	case FIELD_INTEGER:
		return "integer";
	case FIELD_NUMBER:
		return "number";
	case FIELD_BOOLEAN:
		return "boolean";
	case FIELD_ENUM:
		return "enum";
	case FIELD_DATE:
		return "date";
	case FIELD_TIMESTAMP:
		return "timestamp";
	}
	return "unknown";
}

/* "…" with \" and \\ escaped: the only escapes the scanner knows. */
static int
put_quoted(struct buf *b, const char *s)
{
	int	 r = buf_put_u8(b, '"');

	for (; r == 0 && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			r = buf_put_u8(b, '\\');
		if (r == 0)
			r = buf_put_u8(b, (uint8_t)*s);
	}
	return r != 0 ? r : buf_put_u8(b, '"');
}

/* /…/ with / escaped; other escapes are the pattern's own and the
 * scanner keeps them, pairing backslashes the same way. */
static int
put_pattern(struct buf *b, const char *s)
{
	int	 r = buf_put_u8(b, '/');

	for (; r == 0 && *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			r = buf_put(b, s, 2);
			s++;
		} else if (*s == '/')
			r = buf_put(b, "\\/", 2);
		else
			r = buf_put_u8(b, (uint8_t)*s);
	}
	return r != 0 ? r : buf_put_u8(b, '/');
}

/* The shortest text that reads back as the same double. */
static int
put_number(struct buf *b, double d)
{
	char	 s[40];
	int	 prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof(s), "%.17g", d);
	return buf_put_str(b, s);
}

static int
put_field(struct buf *b, const struct field *f)
{
	size_t	 i;
	int	 r;

	if ((r = buf_putf(b, "\t\t%s\t%s", f->name,
	    field_type_name(f->type))) != 0)
		return r;
	switch (f->type) {
	case FIELD_STRING:
		if ((r = buf_putf(b, " max %zu", f->max_len)) == 0 &&
		    f->pattern != NULL && (r = buf_put_u8(b, ' ')) == 0)
			r = put_pattern(b, f->pattern);
		break;
	case FIELD_INTEGER:
		r = buf_putf(b, " %" PRId64 "..%" PRId64, f->imin, f->imax);
		break;
	case FIELD_NUMBER:
		if ((r = buf_put_u8(b, ' ')) == 0 &&
		    (r = put_number(b, f->nmin)) == 0 &&
		    (r = buf_put_str(b, "..")) == 0)
			r = put_number(b, f->nmax);
		break;
	case FIELD_ENUM:
		r = buf_put_str(b, " {");
		for (i = 0; r == 0 && i < f->nvalues; i++)
			r = buf_putf(b, "%s %s", i == 0 ? "" : ",",
			    f->values[i]);
		if (r == 0)
			r = buf_put_str(b, " }");
		break;
	default:
		break;
	}
	return r != 0 ? r : buf_put_u8(b, '\n');
}

static int
put_schema(struct buf *b, const struct schema *s)
{
	size_t	 i;
	int	 r = 0;

	for (i = 0; r == 0 && i < s->nfields; i++)
		r = put_field(b, &s->fields[i]);
	return r;
}

static int
put_message(struct buf *b, const struct message *m)
{
	size_t	 i;
	int	 r;

	if ((r = buf_putf(b, "message %s {\n", m->name)) != 0)
		return r;
	for (i = 0; r == 0 && i < m->nallow; i++)
		r = buf_putf(b, "%s%s", i == 0 ? "\tallow from " : ", ",
		    m->allow[i]);
	if (r == 0 && m->nallow > 0)
		r = buf_put_u8(b, '\n');
	if (r == 0 && m->oneway)
		r = buf_put_str(b, "\toneway\n");
	if (r == 0 && m->audit_content)
		r = buf_put_str(b, "\taudit content\n");
	if (r == 0)
		r = buf_put_str(b, "\trequest {\n");
	if (r == 0)
		r = put_schema(b, &m->request);
	if (r == 0)
		r = buf_put_str(b, "\t}\n");
	if (r == 0 && !m->oneway)
		r = buf_putf(b, "\treply max %" PRIu32 " rows {\n",
		    m->reply_max_rows);
	if (r == 0 && !m->oneway)
		r = put_schema(b, &m->reply);
	if (r == 0 && !m->oneway)
		r = buf_put_str(b, "\t}\n");
	if (r == 0)
		r = buf_putf(b, "\ttimeout %" PRIu32 "ms\n}\n", m->timeout_ms);
	return r;
}

static int
put_peer(struct buf *b, const struct peer *pe)
{
	char	 text[INET6_ADDRSTRLEN];
	size_t	 i;
	int	 r, full;

	if ((r = buf_putf(b, "peer %s {\n", pe->name)) != 0)
		return r;
	for (i = 0; r == 0 && i < pe->naddrs; i++) {
		full = pe->addrs[i].family == AF_INET ? 32 : 128;
		inet_ntop(pe->addrs[i].family, pe->addrs[i].addr, text,
		    sizeof(text));
		r = buf_putf(b, "%s%s", i == 0 ? "\taddress { " : ", ", text);
		if (r == 0 && pe->addrs[i].prefixlen != full)
			r = buf_putf(b, "/%u", pe->addrs[i].prefixlen);
	}
	if (r == 0 && pe->naddrs > 0)
		r = buf_put_str(b, " }\n");
	if (r == 0 && pe->certificate != NULL &&
	    (r = buf_put_str(b, "\tcertificate ")) == 0 &&
	    (r = put_quoted(b, pe->certificate)) == 0)
		r = buf_put_u8(b, '\n');
	if (r == 0 && pe->rate != 0)
		r = buf_putf(b, "\trate %" PRIu32 "/s burst %" PRIu32 "\n",
		    pe->rate, pe->burst);
	if (r == 0 && pe->connections != 0)
		r = buf_putf(b, "\tlimit connections %" PRIu32 "\n",
		    pe->connections);
	if (r == 0 && pe->pending != 0)
		r = buf_putf(b, "\tlimit pending %" PRIu32 "\n", pe->pending);
	return r != 0 ? r : buf_put_str(b, "}\n");
}

static int
put_item(struct buf *b, const char *keyword, const char *value)
{
	int	 r;

	if (value == NULL)
		return 0;
	if ((r = buf_putf(b, "\t%s ", keyword)) != 0 ||
	    (r = put_quoted(b, value)) != 0)
		return r;
	return buf_put_u8(b, '\n');
}

#define LIMIT(f)	offsetof(struct side_limits, f)
const struct limit_def policy_limit_defs[] = {
	{ "header-size", LIMIT(header_size), 0, 1024, 65536, 8192 },
	{ "headers", LIMIT(headers), 0, 8, 256, 64 },
	{ "connections", LIMIT(connections), 0, 1, 1000000, 16384 },
	{ "peer-connections", LIMIT(peer_connections), 0, 1, 1000000, 1024 },
	{ "pending", LIMIT(pending), 0, 1, 65536, 4096 },
	{ "peer-pending", LIMIT(peer_pending), 0, 1, 65536, 1024 },
	{ "handshake-timeout", LIMIT(handshake_ms), 1, 100, 300000, 10000 },
	{ "idle-timeout", LIMIT(idle_ms), 1, 100, 600000, 60000 },
	{ "request-timeout", LIMIT(request_ms), 1, 100, 300000, 10000 },
};
#undef LIMIT
const size_t policy_nlimit_defs = sizeof(policy_limit_defs) /
    sizeof(policy_limit_defs[0]);

static uint32_t *
limit_at(struct side_limits *l, const struct limit_def *d)
{
	return (uint32_t *)(void *)((char *)l + d->offset);
}

void
policy_limits(const struct side *s, struct side_limits *ret)
{
	size_t	 i;

	*ret = s->limits;
	for (i = 0; i < policy_nlimit_defs; i++)
		if (*limit_at(ret, &policy_limit_defs[i]) == 0)
			*limit_at(ret, &policy_limit_defs[i]) =
			    policy_limit_defs[i].def;
}

/* The limits given, each on its own "limit" line, in the table's order. */
static int
put_limits(struct buf *b, const struct side_limits *l)
{
	const struct limit_def	*d;
	uint32_t		 v;
	size_t			 i;
	int			 r = 0;

	for (i = 0; r == 0 && i < policy_nlimit_defs; i++) {
		d = &policy_limit_defs[i];
		v = *limit_at((struct side_limits *)(uintptr_t)l, d);
		if (v == 0)
			continue;
		if (d->duration && v % 1000 == 0)
			r = buf_putf(b, "\tlimit %s %" PRIu32 "s\n", d->name,
			    v / 1000);
		else
			r = buf_putf(b, "\tlimit %s %" PRIu32 "%s\n", d->name,
			    v, d->duration ? "ms" : "");
	}
	return r;
}

/* The journal's settings, each on its own "audit" line. */
static int
put_audit_settings(struct buf *b, const struct side_audit *a)
{
	int	 r = 0;

	if (a->sync)
		r = buf_put_str(b, "\taudit sync\n");
	if (r == 0 && a->checkpoint_records != 0)
		r = buf_putf(b, "\taudit checkpoint %" PRIu32 "\n",
		    a->checkpoint_records);
	if (r == 0 && a->checkpoint_ms != 0)
		r = buf_putf(b, "\taudit checkpoint %" PRIu32 "ms\n",
		    a->checkpoint_ms);
	if (r == 0 && a->rotate_bytes != 0)
		r = buf_putf(b, "\taudit rotate %" PRIu64 "\n",
		    a->rotate_bytes);
	if (r == 0 && a->rotate_secs != 0)
		r = buf_putf(b, "\taudit rotate %" PRIu32 "s\n",
		    a->rotate_secs);
	if (r == 0 && a->syslog != NULL &&
	    (r = buf_put_str(b, "\taudit syslog ")) == 0 &&
	    (r = put_quoted(b, a->syslog)) == 0)
		r = buf_put_u8(b, '\n');
	return r;
}

/* The delivery settings, each on its own "ferry" line. */
static int
put_ferry_settings(struct buf *b, const struct side_ferry *f)
{
	int	 r = 0;

	if (f->heartbeat_ms != 0)
		r = buf_putf(b, "\tferry heartbeat %" PRIu32 "ms\n",
		    f->heartbeat_ms);
	if (r == 0 && f->skew_ms != 0)
		r = buf_putf(b, "\tferry skew %" PRIu32 "ms\n", f->skew_ms);
	if (r == 0 && f->retransmit_ms != 0)
		r = buf_putf(b, "\tferry retransmit %" PRIu32 "ms\n",
		    f->retransmit_ms);
	if (r == 0 && f->pending != 0)
		r = buf_putf(b, "\tferry pending %" PRIu32 "\n", f->pending);
	if (r == 0 && f->spool_bytes != 0)
		r = buf_putf(b, "\tferry spool %" PRIu64 "\n",
		    f->spool_bytes);
	if (r == 0 && f->keep_secs != 0)
		r = buf_putf(b, "\tferry keep %" PRIu32 "s\n", f->keep_secs);
	if (r == 0 && f->archive)
		r = buf_put_str(b, "\tferry archive\n");
	return r;
}

static int
put_side(struct buf *b, const char *name, const struct side *s)
{
	size_t	 i;
	int	 r;

	if ((r = buf_putf(b, "%s {\n", name)) != 0)
		return r;
	if (s->listen != NULL && s->tls.on) {
		r = buf_putf(b, "\tlisten %s tls {\n", s->listen);
		if (r == 0)
			r = put_item(b, "\tcertificate", s->tls.certificate);
		if (r == 0)
			r = put_item(b, "\tkey", s->tls.key);
		if (r == 0)
			r = put_item(b, "\tclient-ca", s->tls.client_ca);
		if (r == 0)
			r = put_item(b, "\tcrl", s->tls.crl);
		if (r == 0)
			r = buf_put_str(b, "\t}\n");
	} else if (s->listen != NULL)
		r = buf_putf(b, "\tlisten %s%s\n", s->listen,
		    s->listen_plain ? " plain" : "");
	if (r == 0 && s->database != NULL &&
	    (r = buf_putf(b, "\tdatabase %s ", s->db_driver)) == 0 &&
	    (r = put_quoted(b, s->database)) == 0)
		r = buf_put_u8(b, '\n');
	if (r == 0)
		r = put_item(b, "inward", s->inward);
	if (r == 0)
		r = put_item(b, "outward", s->outward);
	if (r == 0)
		r = put_item(b, "key", s->key);
	if (r == 0)
		r = put_item(b, "peer-key", s->peer_key);
	if (r == 0)
		r = put_item(b, "audit", s->audit);
	if (r == 0)
		r = put_audit_settings(b, &s->audit_set);
	if (r == 0)
		r = put_ferry_settings(b, &s->ferry_set);
	if (r == 0)
		r = put_item(b, "state", s->state);
	if (r == 0 && s->user != NULL)
		r = buf_putf(b, "\tuser %s\n", s->user);
	if (r == 0)
		r = put_limits(b, &s->limits);
	if (r == 0 && s->guard.present)
		r = buf_putf(b, "\tguard queue %u rate %u/s burst %u "
		    "connections %u\n", s->guard.queue, s->guard.rate,
		    s->guard.burst, s->guard.conns);
	if (r == 0 && s->link.present) {
		r = buf_putf(b, "\tlink%s copies %u", s->link.diode ?
		    " diode" : "", s->link.copies);
		if (r == 0 && s->link.parity != 0)
			r = buf_putf(b, " parity %u", s->link.parity);
		if (r == 0 && s->link.rate != 0)
			r = buf_putf(b, " rate %u/s", s->link.rate);
		if (r == 0 && s->link.seal != 0)
			r = buf_putf(b, " seal %u", s->link.seal);
		if (r == 0)
			r = buf_putf(b, " timeout %ums", s->link.timeout_ms);
		if (r == 0 && s->link.key != NULL &&
		    (r = buf_put_str(b, " key ")) == 0)
			r = put_quoted(b, s->link.key);
		if (r == 0)
			r = buf_put_u8(b, '\n');
	}
	for (i = 0; r == 0 && i < s->nstatements; i++) {
		if ((r = buf_putf(b, "\tstatement %s ",
		    s->statements[i].message)) == 0 &&
		    (r = put_quoted(b, s->statements[i].sql)) == 0)
			r = buf_put_u8(b, '\n');
	}
	return r != 0 ? r : buf_put_str(b, "}\n");
}

static char *
buf_finish(struct buf *b, int r)
{
	if (r == 0 && buf_put_u8(b, '\0') == 0)
		return (char *)b->data;
	buf_free(b);
	return NULL;
}

static int
put_messages(struct buf *b, const struct policy *p, int *blank)
{
	size_t	 i;
	int	 r = 0;

	for (i = 0; r == 0 && i < p->nmessages; i++) {
		if (*blank)
			r = buf_put_u8(b, '\n');
		if (r == 0)
			r = put_message(b, &p->messages[i]);
		*blank = 1;
	}
	return r;
}

char *
policy_format_messages(const struct policy *p)
{
	struct buf	 b;
	int		 blank = 0;

	buf_init(&b, FORMAT_MAX);
	return buf_finish(&b, put_messages(&b, p, &blank));
}

char *
policy_format(const struct policy *p)
{
	struct buf	 b;
	size_t		 i;
	int		 r = 0, blank = 0;

	buf_init(&b, FORMAT_MAX);
	for (i = 0; r == 0 && i < p->npeers; i++) {
		if (blank)
			r = buf_put_u8(&b, '\n');
		if (r == 0)
			r = put_peer(&b, &p->peers[i]);
		blank = 1;
	}
	if (r == 0)
		r = put_messages(&b, p, &blank);
	if (r == 0 && p->outer.present) {
		if (blank)
			r = buf_put_u8(&b, '\n');
		if (r == 0)
			r = put_side(&b, "outer", &p->outer);
		blank = 1;
	}
	if (r == 0 && p->inner.present) {
		if (blank)
			r = buf_put_u8(&b, '\n');
		if (r == 0)
			r = put_side(&b, "inner", &p->inner);
	}
	return buf_finish(&b, r);
}

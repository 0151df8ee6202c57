/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Checks of policy values, and those that need the whole policy. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/parse.h"

#define PATTERN_LEN_MAX		1024	/* bytes of pattern source */
#define PATTERN_COST_MAX	10000	/* atoms after expanding {m,n} */
#define PATTERN_DEPTH_MAX	32	/* nested groups */
#define PATTERN_REPEAT_MAX	255	/* largest m or n in {m,n} */
#define TIMEOUT_MAX_MS		600000

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Peer, message and enum names: [A-Za-z0-9][A-Za-z0-9._-]*. */
int
check_peer_name(const char *s)
{
	size_t	 i;

	if (!is_alnum(s[0]))
		return -EINVAL;
	for (i = 1; s[i] != '\0'; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return -EINVAL;
	return i > POLICY_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* Field names become SQL named parameters: [a-z_][a-z0-9_]*. */
int
check_field_name(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return -EINVAL;
	if (i == 0)
		return -EINVAL;
	return i > POLICY_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* ADDR or ADDR/PREFIX, IPv4 or IPv6; IPv4-mapped IPv6 becomes IPv4. */
int
check_address(const char *s, struct netaddr *ret, const char **why)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	struct netaddr		 na;
	char			 host[INET6_ADDRSTRLEN];
	const char		*slash;
	size_t			 len, i;
	int64_t			 prefix = -1;
	int			 bits;

	memset(&na, 0, sizeof(na));
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (len >= sizeof(host)) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, na.addr) == 1) {
		na.family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, na.addr) == 1) {
		na.family = AF_INET6;
		bits = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (slash != NULL && parse_i64(slash + 1, 0, bits, &prefix) != 0) {
		*why = bits == 32 ? "prefix length must be 0..32" :
		    "prefix length must be 0..128";
		return -EINVAL;
	}
	na.prefixlen = (uint8_t)(prefix == -1 ? bits : prefix);
	for (i = 0; i < 16; i++) {
		int	 keep = (int)na.prefixlen - 8 * (int)i;
		uint8_t	 mask = keep >= 8 ? 0xff : keep <= 0 ? 0 :
			    (uint8_t)(0xff << (8 - keep));

		if ((na.addr[i] & ~mask) != 0) {
			*why = "host bits set beyond the prefix length";
			return -EINVAL;
		}
	}
	if (na.family == AF_INET6 && na.prefixlen >= 96 &&
	    memcmp(na.addr, mapped, sizeof(mapped)) == 0) {
		na.family = AF_INET;
		memmove(na.addr, na.addr + 12, 4);
		memset(na.addr + 4, 0, 12);
		na.prefixlen -= 96;
	}
	*ret = na;
	return 0;
}

/* HOST:PORT, with IPv6 hosts in brackets. */
int
check_listen(const char *s, const char **why)
{
	char		 host[256];
	uint8_t		 a[16];
	const char	*colon, *p;
	size_t		 len;
	int64_t		 port;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL) {
			*why = "expected [IPv6]:port";
			return -EINVAL;
		}
		len = (size_t)(colon - s - 1);
		if (len >= sizeof(host))
			goto bad6;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			goto bad6;
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || colon == s) {
			*why = "expected host:port";
			return -EINVAL;
		}
		for (p = s; p < colon; p++) {
			if (*p == ':') {
				*why = "IPv6 addresses go in brackets, e.g. "
				    "[::1]:8080";
				return -EINVAL;
			}
			if (!is_alnum(*p) && *p != '.' && *p != '-') {
				*why = "invalid host name";
				return -EINVAL;
			}
		}
		if (colon - s > 253) {
			*why = "host name too long";
			return -EINVAL;
		}
		/* Also keeps the value one word when written back bare. */
		if (s[0] == '.' || s[0] == '-' || strstr(s, "..") != NULL) {
			*why = "invalid host name";
			return -EINVAL;
		}
	}
	if (parse_i64(colon + 1, 1, 65535, &port) != 0) {
		*why = "port must be 1..65535";
		return -EINVAL;
	}
	return 0;
 bad6:
	*why = "not an IPv6 address in brackets";
	return -EINVAL;
}

/* Nms or Ns, 1ms..600s. */
int
check_duration(const char *s, uint32_t *ms)
{
	char		 digits[16];
	size_t		 n = strspn(s, "0123456789");
	int64_t		 v, unit;

	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	if (strcmp(s + n, "ms") == 0)
		unit = 1;
	else if (strcmp(s + n, "s") == 0)
		unit = 1000;
	else
		return -EINVAL;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (parse_i64(digits, 1, TIMEOUT_MAX_MS / unit, &v) != 0)
		return -ERANGE;
	*ms = (uint32_t)(v * unit);
	return 0;
}

/* Skips a bracket expression starting at s[0] == '['; returns the index
 * just past its ']', or 0 if it does not end. */
static size_t
bracket_end(const char *s)
{
	size_t	 i = 1;

	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;
	for (; s[i] != '\0'; i++) {
		if (s[i] == '[' && (s[i + 1] == ':' || s[i + 1] == '=' ||
		    s[i + 1] == '.')) {
			char		 close[3] = { s[i + 1], ']', '\0' };
			const char	*e = strstr(s + i + 2, close);

			if (e == NULL)
				return 0;
			i = (size_t)(e - s) + 1;
		} else if (s[i] == ']')
			return i + 1;
	}
	return 0;
}

/*
 * regcomp expands a{m,n} into n copies of a and a+ into a a*, so nested
 * counts multiply. This bounds that growth and refuses back-references,
 * whose matching time is not linear; regcomp reports every other mistake.
 */
int
check_pattern(const char *s, const char **why)
{
	uint64_t	 cost[PATTERN_DEPTH_MAX + 1], last = 0, m, n;
	size_t		 i, e;
	int		 depth = 0, q, prevq = 0, stacked = 0;
	char		*end;

	if (strlen(s) > PATTERN_LEN_MAX) {
		*why = "longer than 1024 bytes";
		return -EINVAL;
	}
	cost[0] = 0;
	for (i = 0; s[i] != '\0'; i++) {
		/* POSIX leaves a repetition of a repetition undefined, and
		 * glibc's regcomp takes minutes over some stacked ones that
		 * the cost below does not see ("(a{0}){10}+++++"). Refused
		 * after the cost check, whose message comes first. */
		q = s[i] == '+' || s[i] == '*' || s[i] == '?';
		if ((q || (s[i] == '{' && s[i + 1] >= '0' &&
		    s[i + 1] <= '9')) && prevq)
			stacked = 1;
		prevq = q;
		switch (s[i]) {
		case '(':
			if (depth == PATTERN_DEPTH_MAX) {
				*why = "groups nested too deeply";
				return -EINVAL;
			}
			cost[++depth] = 0;
			continue;
		case ')':
			if (depth == 0)
				continue;	/* regcomp's to report */
			last = cost[depth--] + 1;
			break;
		case '[':
			if ((e = bracket_end(s + i)) == 0)
				return 0;	/* regcomp's to report */
			i += e - 1;
			last = 1;
			break;
		case '\\':
			if (s[i + 1] >= '1' && s[i + 1] <= '9') {
				*why = "back-references are not allowed";
				return -EINVAL;
			}
			if (s[i + 1] != '\0')
				i++;
			last = 1;
			break;
		case '{':
			if (s[i + 1] < '0' || s[i + 1] > '9') {
				last = 1;
				break;
			}
			m = n = strtoull(s + i + 1, &end, 10);
			if (*end == ',')
				n = end[1] >= '0' && end[1] <= '9' ?
				    strtoull(end + 1, &end, 10) : m + 1;
			if (m > PATTERN_REPEAT_MAX || n > PATTERN_REPEAT_MAX) {
				*why = "repetition count above 255";
				return -EINVAL;
			}
			if (n < m)
				n = m;
			cost[depth] += last * (n > 0 ? n - 1 : 0);
			last *= n > 0 ? n : 1;
			/* An interval is a repetition too: "{10}+" is one
			 * repeated, and glibc takes seconds over nested ones
			 * ("(((a{0}){10}+){10}+){2}+": 3.9 s). */
			prevq = 1;
			i = (size_t)(end - s);
			if (s[i] == '\0')
				i--;
			goto bound;
		case '+':
			cost[depth] += last;
			last *= 2;
			goto bound;
		case '*':
		case '?':
		case '|':
			continue;
		default:
			last = 1;
			break;
		}
		cost[depth] += last;
 bound:
		if (cost[depth] > PATTERN_COST_MAX || last > PATTERN_COST_MAX) {
			*why = "too complex (repetitions expand too far)";
			return -EINVAL;
		}
	}
	if (stacked) {
		*why = "a repetition repeated (such as ++, *? or +{2})";
		return -EINVAL;
	}
	return 0;
}

/* Removes ".", ".." and repeated slashes from an absolute path. */
static void
path_clean(char *path)
{
	char	*in = path, *out = path, *seg;
	size_t	 len;

	while (*in != '\0') {
		while (*in == '/')
			in++;
		seg = in;
		while (*in != '\0' && *in != '/')
			in++;
		len = (size_t)(in - seg);
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > path && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		memmove(out, seg, len);
		out += len;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/*
 * A path relative to the directory of the file that names it, made
 * absolute. The directory goes through realpath; the path's own last parts
 * may not exist yet.
 */
int
check_path(struct pstate *ps, const struct ploc *loc, const char *what,
    const char *path, char **ret)
{
	char		 dir[PATH_MAX], real[PATH_MAX], *out;
	const char	*slash, *p;
	size_t		 len;
	int		 r;

	if (path[0] == '\0') {
		pstate_error(ps, loc, "%s: empty path", what);
		return -EINVAL;
	}
	/* Paths appear in error messages, one line each. */
	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			pstate_error(ps, loc, "%s: control character in path",
			    what);
			return -EINVAL;
		}
	}
	if (path[0] == '/')
		real[0] = '\0';
	else {
		slash = strrchr(loc->file, '/');
		len = slash == NULL ? 1 : slash == loc->file ? 1 :
		    (size_t)(slash - loc->file);
		if (len >= sizeof(dir))
			goto toolong;
		memcpy(dir, slash == NULL ? "." : loc->file, len);
		dir[len] = '\0';
		if (realpath(dir, real) == NULL) {
			if ((r = -errno) == -ENOMEM) {
				pstate_nomem(ps);
				return r;
			}
			pstate_error(ps, loc, "%s: cannot resolve %s: %s",
			    what, dir, strerror(-r));
			return r;
		}
	}
	len = strlen(real);
	if (strlen(path) >= sizeof(real) - len - 1)
		goto toolong;
	real[len] = '/';
	strcpy(real + len + 1, path);	/* length checked above */
	path_clean(real);
	if ((out = pstate_strdup(ps, real)) == NULL)
		return -ENOMEM;
	*ret = out;
	return 0;
 toolong:
	pstate_error(ps, loc, "%s: path too long", what);
	return -ENAMETOOLONG;
}

/* fifo:PATH and spool:DIR get absolute paths; eth:IFACE stays. */
int
check_endpoint(struct pstate *ps, const struct ploc *loc, const char *what,
    const char *s, char **ret)
{
	const char	*colon = strchr(s, ':');
	char		*path = NULL, *out;
	size_t		 len;
	int		 r;

	if (colon != NULL && strncmp(s, "eth:", 4) == 0) {
		len = strlen(colon + 1);
		if (len == 0 || len >= IFNAMSIZ || !printable(colon + 1) ||
		    strcspn(colon + 1, "/ :") != len) {
			pstate_error(ps, loc, "%s: invalid interface name in "
			    "%s", what, QUOTE(s));
			return -EINVAL;
		}
		if ((out = pstate_strdup(ps, s)) == NULL)
			return -ENOMEM;
		*ret = out;
		return 0;
	}
	if (colon == NULL || (strncmp(s, "fifo:", 5) != 0 &&
	    strncmp(s, "spool:", 6) != 0)) {
		pstate_error(ps, loc, "%s: '%s' is not fifo:PATH, spool:DIR "
		    "or eth:IFACE", what, QUOTE(s));
		return -EINVAL;
	}
	if ((r = check_path(ps, loc, what, colon + 1, &path)) != 0)
		return r;
	if (asprintf(&out, "%.*s%s", (int)(colon + 1 - s), s, path) == -1) {
		free(path);
		pstate_nomem(ps);
		return -ENOMEM;
	}
	free(path);
	*ret = out;
	return 0;
}

struct dupkey {
	const char	*name;
	struct ploc	 loc;
	size_t		 idx;
};

static int
dupkey_cmp(const void *a, const void *b)
{
	const struct dupkey	*ka = a, *kb = b;
	int			 c;

	if ((c = strcmp(ka->name, kb->name)) != 0)
		return c;
	return (ka->idx > kb->idx) - (ka->idx < kb->idx);
}

/* Reports every name given more than once, at each later place. */
static void
check_dups(struct pstate *ps, const char *what, struct dupkey *keys, size_t n)
{
	size_t	 i, first = 0;

	if (n < 2)
		return;
	qsort(keys, n, sizeof(*keys), dupkey_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[first].name, keys[i].name) != 0) {
			first = i;
			continue;
		}
		pstate_error(ps, &keys[i].loc, "duplicate %s %s (first at "
		    "%s:%d)", what, keys[i].name, keys[first].loc.file,
		    keys[first].loc.line);
	}
}

static int
peer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct peer *)a)->name,
	    ((const struct peer *)b)->name);
}

static int
message_cmp(const void *a, const void *b)
{
	return strcmp(((const struct message *)a)->name,
	    ((const struct message *)b)->name);
}

static int
statement_cmp(const void *a, const void *b)
{
	return strcmp(((const struct statement *)a)->message,
	    ((const struct statement *)b)->message);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static void
check_peers(struct pstate *ps, struct dupkey *keys)
{
	struct policy	*p = ps->p;
	struct ploc	 loc;
	size_t		 i;

	for (i = 0; i < p->npeers; i++) {
		loc.file = p->peers[i].file;
		loc.line = p->peers[i].line;
		keys[i].name = p->peers[i].name;
		keys[i].loc = loc;
		keys[i].idx = i;
	}
	check_dups(ps, "peer", keys, p->npeers);
	if (p->npeers > 1)
		qsort(p->peers, p->npeers, sizeof(*p->peers), peer_cmp);
}

/* Room for any valid body: every character of a string \u-escaped (12
 * bytes for a surrogate pair), key names escaped too, numbers 32 bytes. */
static size_t
message_max_body(const struct message *m)
{
	const struct field	*f;
	size_t			 n = 2 + 4096, i, j, longest;

	for (i = 0; i < m->request.nfields; i++) {
		f = &m->request.fields[i];
		n += 6 * strlen(f->name) + 4;	/* "name": and a comma */
		switch (f->type) {
		case FIELD_STRING:
			n += 12 * f->max_len + 2;
			break;
		case FIELD_INTEGER:
		case FIELD_NUMBER:
			n += 32;
			break;
		case FIELD_BOOLEAN:
			n += 5;
			break;
		case FIELD_ENUM:
			for (j = 0, longest = 0; j < f->nvalues; j++)
				if (strlen(f->values[j]) > longest)
					longest = strlen(f->values[j]);
			n += 12 * longest + 2;
			break;
		case FIELD_DATE:
			n += 12 * 10 + 2;
			break;
		case FIELD_TIMESTAMP:
			n += 12 * 35 + 2;	/* 9 fraction digits, offset */
			break;
		}
	}
	return n > PAYLOAD_MAX ? PAYLOAD_MAX : n;
}

static void
check_messages(struct pstate *ps, struct dupkey *keys)
{
	struct policy	*p = ps->p;
	struct message	*m;
	struct msginfo	*mi;
	struct ploc	 loc;
	size_t		 i, j;

	for (i = 0; i < p->nmessages; i++) {
		m = &p->messages[i];
		mi = &ps->minfo[i];
		loc.file = m->file;
		loc.line = m->line;
		keys[i].name = m->name;
		keys[i].loc = loc;
		keys[i].idx = i;
		for (j = 0; j < m->nallow; j++)
			if (policy_peer(p, m->allow[j]) == NULL)
				pstate_error(ps, &mi->allow[j], "allow from "
				    "unknown peer %s", m->allow[j]);
		if (m->oneway && mi->has_reply)
			pstate_error(ps, &mi->reply, "oneway message %s has a "
			    "reply block", m->name);
		/* What is missing may be an earlier error's doing. */
		if (mi->clean && m->nallow == 0)
			pstate_error(ps, &loc, "message %s allows no peer "
			    "(add 'allow from PEER')", m->name);
		if (mi->clean && !mi->has_request)
			pstate_error(ps, &loc, "message %s has no request "
			    "block", m->name);
		if (mi->clean && !m->oneway && !mi->has_reply)
			pstate_error(ps, &loc, "message %s has no reply block "
			    "(or say 'oneway')", m->name);
		if (m->nallow > 1)
			qsort(m->allow, m->nallow, sizeof(*m->allow), str_cmp);
		m->max_body = message_max_body(m);
	}
	check_dups(ps, "message", keys, p->nmessages);
	if (p->nmessages > 1)
		qsort(p->messages, p->nmessages, sizeof(*p->messages),
		    message_cmp);
}

static void
check_statements(struct pstate *ps, struct dupkey *keys)
{
	struct policy		*p = ps->p;
	struct side		*s = &p->inner;
	struct ploc		 loc;
	size_t			 i;

	for (i = 0; i < s->nstatements; i++) {
		loc.file = s->statements[i].file;
		loc.line = s->statements[i].line;
		keys[i].name = s->statements[i].message;
		keys[i].loc = loc;
		keys[i].idx = i;
		if (policy_message(p, s->statements[i].message) == NULL)
			pstate_error(ps, &loc, "statement for unknown message "
			    "%s", s->statements[i].message);
	}
	check_dups(ps, "statement for", keys, s->nstatements);
	if (s->nstatements > 1)
		qsort(s->statements, s->nstatements, sizeof(*s->statements),
		    statement_cmp);
	if (!s->present)
		return;
	loc.file = s->file;
	loc.line = s->line;
	for (i = 0; i < p->nmessages; i++) {
		if (policy_statement(p, p->messages[i].name) == NULL)
			pstate_error(ps, &loc, "inner block has no statement "
			    "for message %s", p->messages[i].name);
	}
}

const char *const side_item_names[SIDE_NITEMS] = {
	"listen", "inward", "outward", "key", "peer-key", "audit", "state",
	"database",
};

static void
check_side(struct pstate *ps, int inner)
{
	struct side	*s = inner ? &ps->p->inner : &ps->p->outer;
	struct ploc	 loc;
	int		 i;

	if (!s->present)
		return;
	if (s->guard.present && s->guard.burst == 0)
		s->guard.burst = s->guard.rate;
	loc.file = s->file;
	loc.line = s->line;
	for (i = 0; i < SIDE_NITEMS; i++) {
		if ((i == SIDE_LISTEN && inner) ||
		    (i == SIDE_DATABASE && !inner))
			continue;
		if (ps->sideloc[inner][i].file == NULL)
			pstate_error(ps, &loc, "%s block is missing %s",
			    inner ? "inner" : "outer", side_item_names[i]);
	}
	if (inner || !s->tls.on)
		return;
	loc = ps->sideloc[0][SIDE_LISTEN];
	if (s->tls.certificate == NULL)
		pstate_error(ps, &loc, "listen tls block is missing certificate");
	if (s->tls.key == NULL)
		pstate_error(ps, &loc, "listen tls block is missing key");
	if (s->tls.client_ca == NULL)
		pstate_error(ps, &loc, "listen tls block is missing client-ca");
	if (s->tls.crl == NULL)
		pstate_error(ps, &loc, "listen tls block is missing crl");
}

/* A private key must be a regular file that only its owner can read. */
void
check_secret_file(struct pstate *ps, const char *what, const char *key,
    const struct ploc *loc)
{
	struct stat	 st;
	const char	*why = NULL;

	if (stat(key, &st) == -1)
		pstate_error(ps, loc, "%s %s: %s", what, key,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		why = "is not a regular file";
	else if (st.st_mode & (S_IRGRP | S_IROTH))
		why = "is readable by group or others (chmod 600)";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "is writable by group or others (chmod 600)";
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		why = "is owned by another user";
	if (why != NULL)
		pstate_error(ps, loc, "%s %s %s", what, key, why);
}

static void
check_private_key(struct pstate *ps, const char *key, const struct ploc *loc)
{
	check_secret_file(ps, "private key", key, loc);
}

static void
check_tls_file(struct pstate *ps, const char *what, const char *path)
{
	struct stat	 st;

	if (path != NULL && stat(path, &st) == -1)
		pstate_error(ps, &ps->sideloc[0][SIDE_LISTEN], "tls %s %s: %s",
		    what, path, strerror(errno));
}

static void
check_key_files(struct pstate *ps, int inner)
{
	struct side	*s = inner ? &ps->p->inner : &ps->p->outer;
	struct stat	 st;

	if (!s->present)
		return;
	if (s->key != NULL)
		check_private_key(ps, s->key, &ps->sideloc[inner][SIDE_KEY]);
	if (s->peer_key != NULL && stat(s->peer_key, &st) == -1)
		pstate_error(ps, &ps->sideloc[inner][SIDE_PEER_KEY],
		    "peer key %s: %s", s->peer_key, strerror(errno));
	if (inner || !s->tls.on)
		return;
	if (s->tls.key != NULL)
		check_private_key(ps, s->tls.key,
		    &ps->sideloc[0][SIDE_LISTEN]);
	check_tls_file(ps, "certificate", s->tls.certificate);
	check_tls_file(ps, "client-ca", s->tls.client_ca);
	check_tls_file(ps, "crl", s->tls.crl);
}

/* What needs the whole policy: cross references, duplicates, required
 * items, and the sort order that lookups and the canonical form rely on. */
void
check_policy(struct pstate *ps)
{
	struct policy	*p = ps->p;
	struct dupkey	*keys;
	size_t		 n;

	n = p->npeers;
	if (p->nmessages > n)
		n = p->nmessages;
	if (p->inner.nstatements > n)
		n = p->inner.nstatements;
	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL) {
		pstate_nomem(ps);
		return;
	}
	check_peers(ps, keys);
	check_messages(ps, keys);
	check_statements(ps, keys);
	free(keys);
	check_side(ps, 0);
	check_side(ps, 1);
	check_diode(ps);
	check_link_key(ps, 0);
	check_link_key(ps, 1);
	if (ps->flags & POLICY_CHECK_FILES) {
		check_key_files(ps, 0);
		check_key_files(ps, 1);
	}
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* isogate nft: the nftables ruleset of one side's host, generated from the policy. */

#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "policy/policy.h"
#include "tools/tools.h"

/* The EtherType of ferry frames on an eth: link (IEEE 802 local
 * experimental 1); docs/deployment.md. */
#define FERRY_ETHERTYPE	"0x88b5"
/* outer/outer.h GUARD_MARK: what an admitted first packet carries. */
#define NFT_GUARD_MARK	"0x15090001"
#define NFT_MAX		(1024 * 1024)

/* The listener, split for rules: family 0 when the host is a name or a
 * wildcard (the rules then match the port only). */
struct listen {
	int		 family;
	char		 addr[INET6_ADDRSTRLEN];
	unsigned	 port;
};

static int
parse_listen(const char *s, struct listen *ret)
{
	char		 host[256];
	const char	*colon;
	uint8_t		 a[16];
	size_t		 len;
	int64_t		 port;

	memset(ret, 0, sizeof(*ret));
	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -EINVAL;
		len = (size_t)(colon - s - 1);
		if (len >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, len);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -EINVAL;
		len = (size_t)(colon - s);
		if (len >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, len);
	}
	host[len] = '\0';
	if (parse_i64(colon + 1, 1, 65535, &port) != 0)
		return -EINVAL;
	ret->port = (unsigned)port;
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	    strcmp(host, "*") == 0)
		return 0;
	if (inet_pton(AF_INET, host, a) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a) == 1)
		ret->family = AF_INET6;
	else
		return 0;
	inet_ntop(ret->family, a, ret->addr, sizeof(ret->addr));
	return 0;
}

/* The database's address for inner's one outbound rule: family 0 for a
 * local database (SQLite, a Unix socket). -EINVAL with *why otherwise. */
static int
parse_database(const struct side *s, struct listen *ret, const char **why)
{
	char		 host[256] = "", port[16] = "5432";
	const char	*p, *e;
	uint8_t		 a[16];
	int64_t		 n;
	size_t		 len;

	memset(ret, 0, sizeof(*ret));
	if (s->db_driver == NULL || strcmp(s->db_driver, "sqlite") == 0)
		return 0;
	p = s->database;
	if (strncmp(p, "postgresql://", 13) == 0 ||
	    strncmp(p, "postgres://", 11) == 0) {
		p = strstr(p, "://") + 3;
		if ((e = strchr(p, '@')) != NULL && e < p + strcspn(p, "/?"))
			p = e + 1;
		if (*p == '[') {
			e = strchr(p, ']');
			if (e == NULL)
				goto bad;
			len = (size_t)(e - p - 1);
			if (len >= sizeof(host))
				goto bad;
			memcpy(host, p + 1, len);
			host[len] = '\0';
			p = e + 1;
		} else {
			len = strcspn(p, ":/?");
			if (len >= sizeof(host))
				goto bad;
			memcpy(host, p, len);
			host[len] = '\0';
			p += len;
		}
		if (*p == ':') {
			len = strcspn(p + 1, "/?");
			if (len == 0 || len >= sizeof(port))
				goto bad;
			memcpy(port, p + 1, len);
			port[len] = '\0';
		}
	} else {
		/* key=value pairs separated by spaces */
		for (; *p != '\0'; p += strspn(p, " \t")) {
			len = strcspn(p, " \t");
			if (strncmp(p, "host=", 5) == 0 ||
			    strncmp(p, "hostaddr=", 9) == 0) {
				e = strchr(p, '=') + 1;
				if ((size_t)(p + len - e) >= sizeof(host))
					goto bad;
				memcpy(host, e, (size_t)(p + len - e));
				host[p + len - e] = '\0';
			} else if (strncmp(p, "port=", 5) == 0) {
				if (len - 5 == 0 || len - 5 >= sizeof(port))
					goto bad;
				memcpy(port, p + 5, len - 5);
				port[len - 5] = '\0';
			}
			p += len;
		}
	}
	if (host[0] == '\0' || host[0] == '/')
		return 0;		/* a Unix socket: no network */
	if (parse_i64(port, 1, 65535, &n) != 0)
		goto bad;
	ret->port = (unsigned)n;
	if (inet_pton(AF_INET, host, a) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a) == 1)
		ret->family = AF_INET6;
	else {
		*why = "the database host must be an IP address for nftables";
		return -EINVAL;
	}
	inet_ntop(ret->family, a, ret->addr, sizeof(ret->addr));
	return 0;
 bad:
	*why = "cannot read the database host and port";
	return -EINVAL;
}

static int
put_set(struct buf *b, const struct policy *p, int family)
{
	char		 a[INET6_ADDRSTRLEN];
	const struct netaddr *na;
	size_t		 i, j, n = 0;
	int		 r, full = family == AF_INET ? 32 : 128;

	r = buf_putf(b, "\tset peers%d {\n\t\ttype %s\n\t\tflags interval\n"
	    "\t\tauto-merge\n", family == AF_INET ? 4 : 6,
	    family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (i = 0; r == 0 && i < p->npeers; i++) {
		for (j = 0; r == 0 && j < p->peers[i].naddrs; j++) {
			na = &p->peers[i].addrs[j];
			if (na->family != family)
				continue;
			inet_ntop(family, na->addr, a, sizeof(a));
			r = buf_putf(b, "%s%s", n++ == 0 ?
			    "\t\telements = { " : ", ", a);
			if (r == 0 && na->prefixlen != full)
				r = buf_putf(b, "/%u", na->prefixlen);
		}
	}
	if (r == 0 && n > 0)
		r = buf_put_str(b, " }\n");
	return r != 0 ? r : buf_put_str(b, "\t}\n");
}

static const char nd_in[] = "\t\ticmpv6 type { nd-neighbor-solicit, "
    "nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept\n";
static const char nd_out[] = "\t\ticmpv6 type { nd-neighbor-solicit, "
    "nd-neighbor-advert, nd-router-solicit } ip6 hoplimit 255 accept\n";
static const char syn[] = "tcp flags & (syn | ack) == syn ct state new";

static const char *
ipkw(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

static int
put_outer(struct buf *b, const struct policy *p, const struct listen *l)
{
	const struct side	*s = &p->outer;
	char			 dst[128] = "";
	int			 r;

	if (l->family != 0)
		snprintf(dst, sizeof(dst), "%s daddr %s ", ipkw(l->family),
		    l->addr);
	if ((r = buf_put_str(b, "table inet isogate_outer\n"
	    "delete table inet isogate_outer\n"
	    "table inet isogate_outer {\n")) != 0 ||
	    (r = put_set(b, p, AF_INET)) != 0 ||
	    (r = put_set(b, p, AF_INET6)) != 0)
		return r;
	r = buf_put_str(b, "\n\tchain input {\n"
	    "\t\ttype filter hook input priority filter + 10; policy drop;\n"
	    "\t\tct state established,related accept\n"
	    "\t\tct state invalid drop\n");
	if (r == 0)
		r = buf_put_str(b, nd_in);
	if (r != 0)
		return r;
	if (s->guard.present) {
		/* Any source may knock; the guard (queue ahead of this
		 * chain) admits policy addresses only and audits the rest. */
		r = buf_putf(b, "\t\t# new connections to the listener: only "
		    "those the guard admitted (queue %u)\n"
		    "\t\t%stcp dport %u %s meta mark %s accept\n",
		    s->guard.queue, dst, l->port, syn, NFT_GUARD_MARK);
	} else {
		r = buf_putf(b, "\t\t# new connections to the listener: only "
		    "from the peers' addresses\n");
		if (r == 0 && l->family != AF_INET6)
			r = buf_putf(b, "\t\t%stcp dport %u ip saddr @peers4 "
			    "%s accept\n", dst, l->port, syn);
		if (r == 0 && l->family != AF_INET)
			r = buf_putf(b, "\t\t%stcp dport %u ip6 saddr @peers6 "
			    "%s accept\n", dst, l->port, syn);
	}
	if (r == 0)
		r = buf_put_str(b, "\t}\n\n\tchain output {\n"
		    "\t\ttype filter hook output priority filter + 10; "
		    "policy drop;\n"
		    "\t\t# replies only: outer opens no connection\n"
		    "\t\tct state established,related accept\n");
	if (r == 0)
		r = buf_put_str(b, nd_out);
	return r;
}

static int
put_inner(struct buf *b, const struct listen *db)
{
	int	 r;

	r = buf_put_str(b, "table inet isogate_inner\n"
	    "delete table inet isogate_inner\n"
	    "table inet isogate_inner {\n"
	    "\tchain input {\n"
	    "\t\ttype filter hook input priority filter + 10; policy drop;\n"
	    "\t\t# inner listens on nothing\n"
	    "\t\tct state established,related accept\n");
	if (r == 0)
		r = buf_put_str(b, nd_in);
	if (r == 0)
		r = buf_put_str(b, "\t}\n\n\tchain output {\n"
		    "\t\ttype filter hook output priority filter + 10; "
		    "policy drop;\n"
		    "\t\tct state established,related accept\n");
	if (r == 0)
		r = buf_put_str(b, nd_out);
	if (r != 0)
		return r;
	if (db->family != 0)
		r = buf_putf(b, "\t\t# the database, and nothing else\n"
		    "\t\t%s daddr %s tcp dport %u %s accept\n",
		    ipkw(db->family), db->addr, db->port, syn);
	else
		r = buf_put_str(b, "\t\t# a local database: no connection "
		    "leaves this host\n");
	return r;
}

/* An nft identifier from an interface name. */
static void
ident(const char *ifname, char *out, size_t n)
{
	size_t	 i;

	for (i = 0; ifname[i] != '\0' && i + 1 < n; i++)
		out[i] = (ifname[i] >= 'a' && ifname[i] <= 'z') ||
		    (ifname[i] >= '0' && ifname[i] <= '9') ? ifname[i] : '_';
	out[i] = '\0';
}

/* On an eth: ferry link only ferry frames pass, both ways. */
static int
put_eth(struct buf *b, const char *ifname)
{
	char	 id[64];
	int	 r;

	ident(ifname, id, sizeof(id));
	r = buf_putf(b, "\n# the ferry link %s carries ferry frames only\n"
	    "table netdev isogate_ferry_%s\n"
	    "delete table netdev isogate_ferry_%s\n"
	    "table netdev isogate_ferry_%s {\n", ifname, id, id, id);
	if (r == 0)
		r = buf_putf(b, "\tchain ingress {\n"
		    "\t\ttype filter hook ingress device \"%s\" priority "
		    "filter; policy drop;\n"
		    "\t\tether type %s accept\n\t}\n\n"
		    "\tchain egress {\n"
		    "\t\ttype filter hook egress device \"%s\" priority "
		    "filter; policy drop;\n"
		    "\t\tether type %s accept\n\t}\n}\n", ifname,
		    FERRY_ETHERTYPE, ifname, FERRY_ETHERTYPE);
	return r;
}

int
nft_ruleset(const struct policy *p, int inner, const char *name,
    struct buf *b, const char **why)
{
	const struct side	*s = inner ? &p->inner : &p->outer;
	const char		*eth[2];
	char			 hex[2 * SHA256_LEN + 1];
	struct listen		 l;
	size_t			 i;
	int			 r;

	*why = NULL;
	if (!s->present) {
		*why = inner ? "no inner block" : "no outer block";
		return -EINVAL;
	}
	if (!inner && (s->listen == NULL || parse_listen(s->listen, &l))) {
		*why = "no usable listen address in the outer block";
		return -EINVAL;
	}
	if (inner && (r = parse_database(s, &l, why)) != 0)
		return r;
	hex_encode(p->digest, SHA256_LEN, hex);
	if ((r = buf_putf(b, "#!/usr/sbin/nft -f\n"
	    "# isogate %s host, generated by `isogate nft --side %s` from %s\n"
	    "# (policy digest %.16s). Default drop in, out and through.\n",
	    inner ? "inner" : "outer", inner ? "inner" : "outer", name,
	    hex)) != 0)
		return r;
	r = inner ? put_inner(b, &l) : put_outer(b, p, &l);
	if (r == 0)
		r = buf_put_str(b, "\t}\n\n\tchain forward {\n"
		    "\t\ttype filter hook forward priority filter + 10; "
		    "policy drop;\n\t}\n}\n");
	eth[0] = s->inward;
	eth[1] = s->outward;
	for (i = 0; r == 0 && i < 2; i++) {
		if (eth[i] == NULL || strncmp(eth[i], "eth:", 4) != 0)
			continue;
		if (i == 1 && eth[0] != NULL && strcmp(eth[0], eth[1]) == 0)
			continue;
		r = put_eth(b, eth[i] + 4);
	}
	return r;
}

int
nft_queue_rule(const struct policy *p, int iptables, struct buf *b,
    const char **why)
{
	const struct guard	*g = &p->outer.guard;
	struct listen		 l;
	char			 dst[128] = "";
	int			 r = 0;

	*why = NULL;
	if (!p->outer.present || p->outer.listen == NULL ||
	    parse_listen(p->outer.listen, &l) != 0) {
		*why = "no usable listen address in the outer block";
		return -EINVAL;
	}
	if (!g->present) {
		*why = "the outer block has no guard";
		return -EINVAL;
	}
	if (iptables) {
		/* No --queue-bypass: without outer, SYNs are dropped. */
		if (l.family != 0)
			snprintf(dst, sizeof(dst), "-d %s ", l.addr);
		if (l.family != AF_INET6)
			r = buf_putf(b, "iptables-nft -w -I INPUT -p tcp %s"
			    "--dport %u --syn -m conntrack --ctstate NEW "
			    "-j NFQUEUE --queue-num %u\n", dst, l.port,
			    g->queue);
		if (r == 0 && l.family != AF_INET)
			r = buf_putf(b, "ip6tables-nft -w -I INPUT -p tcp %s"
			    "--dport %u --syn -m conntrack --ctstate NEW "
			    "-j NFQUEUE --queue-num %u\n", dst, l.port,
			    g->queue);
		return r;
	}
	if (l.family != 0)
		snprintf(dst, sizeof(dst), "%s daddr %s ", ipkw(l.family),
		    l.addr);
	/* No "bypass": without outer, SYNs are dropped (fail closed). */
	return buf_putf(b, "#!/usr/sbin/nft -f\n"
	    "# isogate outer guard: new connections to the listener go to "
	    "NFQUEUE %u.\n"
	    "table inet isogate_guard\n"
	    "delete table inet isogate_guard\n"
	    "table inet isogate_guard {\n"
	    "\tchain input {\n"
	    "\t\ttype filter hook input priority filter; policy accept;\n"
	    "\t\t%stcp dport %u %s queue num %u\n"
	    "\t}\n}\n", g->queue, dst, l.port, syn, g->queue);
}

static void
nft_usage(void)
{
	fprintf(stderr, "usage: isogate nft --side outer|inner [--queue | "
	    "--iptables] POLICY\n");
	exit(2);
}

int
cmd_nft(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "side",	required_argument,	NULL,	's' },
		{ "queue",	no_argument,		NULL,	'q' },
		{ "iptables",	no_argument,		NULL,	'i' },
		{ NULL,		0,			NULL,	0 },
	};
	struct policy	*p = NULL;
	struct buf	 b;
	const char	*side = NULL, *why = NULL, *name;
	char		*errs = NULL;
	int		 ch, inner, queue = 0, ipt = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			side = optarg;
			break;
		case 'q':
			queue = 1;
			break;
		case 'i':
			ipt = 1;
			break;
		default:
			nft_usage();
		}
	}
	if (argc - optind != 1 || side == NULL || (queue && ipt) ||
	    (strcmp(side, "outer") != 0 && strcmp(side, "inner") != 0))
		nft_usage();
	inner = strcmp(side, "inner") == 0;
	if (inner && (queue || ipt))
		nft_usage();
	if ((r = policy_load(argv[optind], 0, &p, &errs)) != 0) {
		if (errs != NULL)
			fputs(errs, stderr);
		else
			fprintf(stderr, "%s: %s\n", argv[optind],
			    strerror(-r));
		free(errs);
		return 1;
	}
	name = strrchr(argv[optind], '/');
	name = name != NULL ? name + 1 : argv[optind];
	buf_init(&b, NFT_MAX);
	if (queue || ipt)
		r = nft_queue_rule(p, ipt, &b, &why);
	else
		r = nft_ruleset(p, inner, name, &b, &why);
	if (r == 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
		r = -EIO;
	if (r != 0)
		fprintf(stderr, "isogate nft: %s: %s\n", argv[optind],
		    why != NULL ? why : strerror(-r));
	buf_free(&b);
	policy_free(p);
	return r == 0 ? 0 : 1;
}

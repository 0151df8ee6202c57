/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* What may cross: the compiled policy, its lookups, and the schema checks on payloads. */

#ifndef ISOGATE_POLICY_H
#define ISOGATE_POLICY_H

#include <sys/socket.h>

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/common.h"

#define POLICY_NAME_MAX		64	/* peer, message and field names */
#define POLICY_FIELDS_MAX	64	/* fields per request or reply schema */
#define POLICY_ENUM_MAX		64	/* values per enum */
#define POLICY_STRING_DEFAULT	256	/* string max length when not given */
#define POLICY_STRING_MAX	65536	/* largest string max length allowed */
#define POLICY_ROWS_MAX		10000	/* largest reply row cap allowed */
#define POLICY_TIMEOUT_DEFAULT	5000	/* ms */
#define POLICY_FILE_MAX		(1024 * 1024)	/* bytes per policy file */
#define POLICY_INCLUDE_DEPTH	8
#define PAYLOAD_MAX		(1024 * 1024)	/* any canonical payload, bytes */

enum field_type {
	FIELD_STRING,
	FIELD_INTEGER,
	FIELD_NUMBER,
	FIELD_BOOLEAN,
	FIELD_ENUM,
	FIELD_DATE,		/* YYYY-MM-DD, a real calendar day */
	FIELD_TIMESTAMP,	/* RFC 3339 */
};

struct field {
	char		*name;
	enum field_type	 type;
	size_t		 max_len;	/* string: max length in characters */
	char		*pattern;	/* string: POSIX ERE source, or NULL */
	regex_t		 re;		/* compiled when pattern != NULL */
	int64_t		 imin, imax;	/* integer: inclusive bounds */
	double		 nmin, nmax;	/* number: inclusive bounds */
	char		**values;	/* enum: values in declared order */
	size_t		 nvalues;
	int		 line;
};

/* Fields sorted by name (strcmp), so lookups bsearch and output is canonical. */
struct schema {
	struct field	*fields;
	size_t		 nfields;
};

struct netaddr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	uint8_t		 prefixlen;
};

struct peer {
	char		*name;
	struct netaddr	*addrs;
	size_t		 naddrs;
	char		*certificate;	/* subject as written, or NULL */
	uint32_t	 rate;		/* requests per second, 0 = unlimited */
	uint32_t	 burst;
	uint32_t	 connections;	/* 0: the outer's peer-connections */
	uint32_t	 pending;	/* 0: the outer's peer-pending */
	char		*file;
	int		 line;
};

struct message {
	char		*name;
	char		**allow;	/* peer names, sorted */
	size_t		 nallow;
	int		 oneway;
	struct schema	 request;
	struct schema	 reply;		/* empty for oneway */
	uint32_t	 reply_max_rows;
	uint32_t	 timeout_ms;
	int		 audit_content;	/* journal the canonical payload */
	size_t		 max_body;	/* largest valid request body, bytes */
	char		*file;
	int		 line;
};

struct statement {
	char		*message;
	char		*sql;
	char		*file;
	int		 line;
};

/* outer's admission guard (NFQUEUE): per source address, new connections
 * per second (token bucket) and connections open at once. */
#define GUARD_RATE_DEFAULT	20
#define GUARD_CONNS_DEFAULT	64
#define GUARD_QUEUE_MAX		65535
#define GUARD_LIMIT_MAX		1000000
/* `link`: the same bounds as ferry/ferry.h's FERRY_LINK_* (the daemons
 * pass these to chan_*_configure, which checks them again). */
#define LINK_COPIES_MAX		8
#define LINK_RATE_MAX		10000000	/* link packets per second */
#define LINK_TIMEOUT_DEFAULT	100		/* ms */
#define LINK_TIMEOUT_MAX	60000
#define LINK_SEAL_MAX		64		/* FERRY_SEAL_EVERY */
#define LINK_PARITY_MIN		2		/* FRAG_PARITY_MIN */
#define LINK_PARITY_MAX		64		/* FRAG_PARITY_MAX */
#define LINK_KEY_LEN		32		/* FERRY_LINK_KEY_LEN */
struct guard {
	int		 present;
	uint16_t	 queue;		/* NFQUEUE number */
	uint32_t	 rate;		/* new connections per second */
	uint32_t	 burst;
	uint32_t	 conns;		/* concurrent connections */
};

/* The ferry settings' defaults (docs/policy.md, docs/ferry.md). */
#define FERRY_HEARTBEAT_DEFAULT		1000		/* ms */
#define FERRY_SKEW_DEFAULT		2000		/* ms */
#define FERRY_RETRANSMIT_DEFAULT	10000		/* ms */
#define FERRY_PENDING_DEFAULT		10000		/* one-ways */
#define FERRY_SPOOL_DEFAULT		(64ULL * 1024 * 1024)	/* bytes */
#define FERRY_KEEP_DEFAULT		(7 * 86400)	/* s */

/*
 * outer's limits (`limit NAME VALUE` lines in the outer block). 0 = not
 * given: policy_limits fills in the defaults of policy_limit_defs.
 */
struct side_limits {
	uint32_t	 header_size;	/* request line + headers, bytes */
	uint32_t	 headers;	/* header lines per request */
	uint32_t	 connections;	/* open connections in total */
	uint32_t	 peer_connections;	/* per identified peer */
	uint32_t	 pending;	/* exchanges in flight in total */
	uint32_t	 peer_pending;	/* per peer */
	uint32_t	 handshake_ms;	/* accept to TLS handshake done */
	uint32_t	 idle_ms;	/* keep-alive wait for a request */
	uint32_t	 request_ms;	/* first byte of a request to its last */
};

/* One limit: its name, where it lives, its unit, bounds and default. */
struct limit_def {
	const char	*name;
	size_t		 offset;	/* in struct side_limits */
	int		 duration;	/* ms, written as a duration */
	uint32_t	 min, max, def;
};

extern const struct limit_def policy_limit_defs[];
extern const size_t policy_nlimit_defs;

/* A side block. Paths are absolute: relative ones are resolved against the
 * directory of the file that names them. NULL when not given. */
struct side {
	int		 present;
	char		*listen;	/* outer: "host:port" */
	int		 listen_plain;	/* outer: `listen … plain` (tests, demos) */
	struct side_tls {		/* outer: `listen … tls { … }` */
		int	 on;
		char	*certificate;	/* server certificate chain, PEM */
		char	*key;		/* its private key, PEM, mode 600 */
		char	*client_ca;	/* CA(s) that issue client certificates */
		char	*crl;		/* their revocation list, PEM */
	}		 tls;
	char		*inward;	/* ferry endpoint, e.g. "fifo:/path" */
	char		*outward;
	char		*key;		/* this side's Ed25519 private key */
	char		*peer_key;	/* the other side's public key */
	char		*audit;		/* audit journal file */
	struct side_audit {		/* its settings; 0: the default */
		int	 sync;		/* fsync every record */
		uint32_t checkpoint_records;
		uint32_t checkpoint_ms;
		uint64_t rotate_bytes;
		uint32_t rotate_secs;
		char	*syslog;	/* local socket, or NULL */
	}		 audit_set;
	struct side_ferry {		/* delivery settings; 0: default */
		uint32_t heartbeat_ms;	/* both: heartbeat interval */
		uint32_t skew_ms;	/* both: clock skew tolerated */
		uint32_t retransmit_ms;	/* outer: unacked one-way resent */
		uint32_t pending;	/* outer: unacked one-ways at most */
		uint64_t spool_bytes;	/* outer: their payload bytes */
		uint32_t keep_secs;	/* inner: applied ids kept */
		int	 archive;	/* both: keep consumed spool units */
	}		 ferry_set;
	char		*state;		/* state directory */
	char		*db_driver;	/* inner: "sqlite" */
	char		*database;	/* inner: path or connection string */
	struct statement *statements;	/* inner: sorted by message name */
	size_t		 nstatements;
	char		*user;		/* drop to this user, or NULL */
	struct guard	 guard;		/* outer only */
	struct side_link {		/* `link …`: ferry link settings */
		int	 present;
		int	 diode;		/* inward only; said on both sides */
		uint32_t copies;	/* sender: each link packet N times */
		uint32_t rate;		/* sender: packets/s, 0 unlimited */
		uint32_t timeout_ms;	/* receiver: reorder/reassembly wait */
		uint32_t seal;		/* sender: frames per seal, 0 default */
		uint32_t parity;	/* sender: a parity packet after N
					 * data packets, 0 none */
		char	*key;		/* eth: link key file, or NULL */
	}		 link;
	struct side_limits limits;	/* outer only; as given */
	char		*file;
	int		 line;
};

struct policy {
	struct peer	*peers;		/* sorted by name */
	size_t		 npeers;
	struct message	*messages;	/* sorted by name */
	size_t		 nmessages;
	struct side	 outer;
	struct side	 inner;
	uint8_t		 digest[SHA256_LEN];	/* of the normalised messages */
};

/* policy_load flags */
#define POLICY_CHECK_FILES	0x01	/* key files exist, private keys not
					 * group/world readable */

/*
 * parse.y: reads the policy at path and its includes. On success returns 0
 * and *ret. On failure returns -EINVAL (or -errno) and *ret_errors, a
 * malloc'd string of one "file:line: message\n" per error, all of them.
 */
int	 policy_load(const char *path, unsigned flags, struct policy **ret,
	    char **ret_errors);
/*
 * The same for a policy held in memory (tests, fuzzing); name stands for
 * its file name in errors and for resolving includes and relative paths.
 */
int	 policy_load_buffer(const char *name, const void *data, size_t len,
	    unsigned flags, struct policy **ret, char **ret_errors);

/* policy.c */
void	 policy_free(struct policy *);
const struct message *policy_message(const struct policy *, const char *);
const struct peer *policy_peer(const struct policy *, const char *);
/* The peer whose address list holds sa (first by name), or NULL. */
const struct peer *policy_peer_by_addr(const struct policy *,
	    const struct sockaddr *);
/* 1 if sa is in the peer's address list. */
int	 peer_has_addr(const struct peer *, const struct sockaddr *);
int	 message_allows(const struct message *, const char *peer);
const struct statement *policy_statement(const struct policy *,
	    const char *message);
/* The normalised policy text (what `isogate check -v` prints); re-parsing
 * it gives the same policy and digest. malloc'd, or NULL on ENOMEM. */
char	*policy_format(const struct policy *);
/* The normalised message definitions only: the digest's input. */
char	*policy_format_messages(const struct policy *);
const char *field_type_name(enum field_type);
/* The outer side's limits with the defaults filled in. */
void	 policy_limits(const struct side *, struct side_limits *ret);

/*
 * schema.c. Every check returns 0, -EINVAL (bad input: *err says why) or
 * -ENOMEM (err->message "out of memory"); err may be NULL. Messages are
 * printable ASCII and quote at most 64 bytes of client input; a client's
 * unknown key is named in err->field only when it is printable ASCII of at
 * most POLICY_NAME_MAX bytes. Messages are never written on success.
 */
struct schema_error {
	int	 invalid_json;	/* 1: the bytes are not strict JSON */
	char	 field[POLICY_NAME_MAX + 1];	/* "" when not about a field */
	char	 message[200];
};

/*
 * Parses an untrusted request body strictly (duplicate keys, bad UTF-8,
 * \u0000, trailing bytes, depth, number range), checks it against s (no
 * missing, unknown, wrong-typed, out-of-range or pattern-failing field) and
 * rebuilds the canonical payload from the validated fields only: sorted
 * keys, compact, UTF-8. On success *ret_canon is malloc'd, NUL-terminated.
 * On failure returns -EINVAL and fills *err.
 */
int	 schema_request(const struct schema *s, const void *untrusted,
	    size_t len, char **ret_canon, size_t *ret_len,
	    struct schema_error *err);
/*
 * Checks a payload that claims to be canonical (inner's independent check):
 * strict parse, schema, and byte-equality with its own canonical form.
 * On success *ret_obj holds the parsed object (caller json_decref's).
 */
int	 schema_payload(const struct schema *s, const void *untrusted,
	    size_t len, json_t **ret_obj, struct schema_error *err);
/* One value against one field. */
int	 schema_value(const struct field *, const json_t *,
	    struct schema_error *err);
/* One reply row object: exactly the declared columns, each valid. */
int	 schema_row(const struct schema *s, const json_t *row,
	    struct schema_error *err);
/*
 * A reply payload {"rows":[...]} for message m: strict, canonical, at most
 * m->reply_max_rows rows, each row valid. Outer's independent check.
 * Returns the number of rows (>= 0) on success.
 */
int	 schema_reply(const struct message *m, const void *untrusted,
	    size_t len, struct schema_error *err);
/* Canonical text of a JSON value (sorted keys, compact); malloc'd and
 * NUL-terminated, or NULL on ENOMEM or when longer than PAYLOAD_MAX. */
char	*schema_canonical(const json_t *, size_t *ret_len);

#endif

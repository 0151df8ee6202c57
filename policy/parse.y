/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* The policy grammar: files and includes into a struct policy, all errors. */

%code requires {
#include <sys/types.h>

#include <setjmp.h>
#include <stdint.h>

#include "common/common.h"
#include "policy/policy.h"

/* Where a token came from. file points into pstate.names, which lives as
 * long as the parse, so locations stay valid after an include is closed. */
struct ploc {
	const char	*file;
	int		 line;
};

struct numlit {
	int		 isint;
	int64_t		 i;
	double		 d;
};

struct range {
	int		 has_min, has_max;
	struct numlit	 min, max;
};

/* One file on the include stack. */
struct pfile {
	struct pfile	*parent;
	const char	*name;
	char		*data;		/* the bytes, and two NULs for flex */
	void		*buf;		/* the scanner's YY_BUFFER_STATE */
	dev_t		 dev;
	ino_t		 ino;
	int		 line;
	int		 braces;	/* pstate.braces when it was opened */
	int		 eol;		/* the last byte read was a newline */
};

enum side_item {
	SIDE_LISTEN, SIDE_INWARD, SIDE_OUTWARD, SIDE_KEY, SIDE_PEER_KEY,
	SIDE_AUDIT, SIDE_STATE, SIDE_DATABASE, SIDE_NITEMS
};

/* What the grammar saw of one message, parallel to policy.messages until
 * the checks at the end. */
struct msginfo {
	struct ploc	*allow;		/* where each allow name was given */
	int		 clean;		/* block closed without errors */
	int		 has_request;
	int		 has_reply;
	int		 has_timeout;
	struct ploc	 reply;
};

struct pstate {
	void		*scanner;
	struct pfile	*file;		/* innermost open file */
	int		 depth;		/* include depth of file */
	int		 at_nl;		/* last token was a newline */
	int		 braces;	/* '{' seen and not yet closed */
	int		 skip_to;	/* dropping tokens until this depth */
	int		 resync;	/* '}' and NL tokens to give the parser */
	int		 resynced;	/* and no real token read since */
	size_t		 nopened;	/* files read so far */
	size_t		 nread;		/* bytes read so far */
	char		**names;	/* every file name seen */
	size_t		 nnames;
	unsigned	 flags;
	struct buf	 errors;
	int		 nerrors;
	int		 enomem;
	char		 tok[80];	/* text of the last token, for errors */
	jmp_buf		 fatal;		/* the scanner's way out, see lex.l */
	void		*spare;		/* the scanner's next buffer struct */

	struct policy	*p;
	struct msginfo	*minfo;		/* parallel to p->messages */
	size_t		 nminfo;
	int		 block_errors;	/* nerrors when this block began */
	int		 schema_errors;	/* nerrors when this schema began */
	int		 schema_sel;	/* 0 request, 1 reply, 2 scratch */
	struct schema	 scratch_schema;
	struct field	 fld;		/* the field being read */
	struct ploc	 fld_loc;
	int		 fld_active;
	int		 overflow;	/* "more than 64 fields" said */
	int		 enum_overflow;	/* "more than 64 enum values" said */
	int		 side_sel;	/* 0 outer, 1 inner, 2 scratch */
	int		 side_inner;	/* in an inner block */
	int		 link_dup;	/* in a `link` given twice */
	struct side	 scratch_side;
	struct ploc	 sideloc[3][SIDE_NITEMS];
	struct ploc	 linkkey_loc[3];	/* `link … key` per side_sel */
};
}

%code provides {
#define POLICY_ERRORS_MAX	100	/* then the parse stops */
#define POLICY_FILES_MAX	256	/* files read per load, includes too */
#define POLICY_READ_MAX		(16 * 1024 * 1024)	/* bytes per load */

/* parse.y */
void	 pstate_error(struct pstate *, const struct ploc *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 pstate_nomem(struct pstate *);
char	*pstate_strdup(struct pstate *, const char *);
int	 pstate_grow(struct pstate *, void *arrayp, size_t n, size_t size);
const char *pstate_quote(const char *, char *, size_t);
/* pstate_quote into a buffer that lives until the end of the block */
#define QUOTE(s)	pstate_quote((s), (char[POLICY_NAME_MAX + 4]){ 0 }, \
			    POLICY_NAME_MAX + 4)

/* policy.c: also for structures the parse leaves half built */
void	 policy_field_clear(struct field *);
void	 policy_schema_clear(struct schema *);
void	 policy_side_clear(struct side *);

/* lex.l */
int	 policy_lex_lex(POLICY_YYSTYPE *, POLICY_YYLTYPE *, void *);
int	 lex_init(struct pstate *);
int	 lex_push(struct pstate *, const char *name, const char *data,
	    size_t len, dev_t, ino_t);
void	 lex_destroy(struct pstate *);
int	 lex_keyword(const char *);
void	 include_push(struct pstate *, const char *, const struct ploc *);

/* actions.c: what the grammar's rules do */
void	 parse_peer_begin(struct pstate *, char *, const struct ploc *);
void	 parse_peer_end(struct pstate *);
void	 parse_peer_address(struct pstate *, char *, const struct ploc *);
void	 parse_peer_certificate(struct pstate *, char *,
	    const struct ploc *);
void	 parse_peer_limit(struct pstate *, char *, char *, int64_t,
	    const struct ploc *);
void	 parse_peer_rate(struct pstate *, int64_t, int, int64_t,
	    const struct ploc *);
void	 parse_message_begin(struct pstate *, char *, const struct ploc *);
void	 parse_message_end(struct pstate *);
void	 parse_message_allow(struct pstate *, char *, const struct ploc *);
void	 parse_message_oneway(struct pstate *, const struct ploc *);
void	 parse_message_timeout(struct pstate *, char *, const struct ploc *);
void	 parse_message_audit(struct pstate *, char *, const struct ploc *);
void	 parse_schema_begin(struct pstate *, int, int64_t,
	    const struct ploc *);
void	 parse_schema_end(struct pstate *, const struct ploc *);
void	 parse_field_begin(struct pstate *, char *, const struct ploc *);
void	 parse_field_end(struct pstate *, enum field_type);
void	 parse_field_maxlen(struct pstate *, int64_t, const struct ploc *);
void	 parse_field_pattern(struct pstate *, char *, const struct ploc *);
void	 parse_field_range(struct pstate *, const struct range *,
	    const struct ploc *);
void	 parse_field_enum(struct pstate *, char *, const struct ploc *);
void	 parse_side_begin(struct pstate *, int, const struct ploc *);
void	 parse_side_set(struct pstate *, enum side_item, char *,
	    const struct ploc *);
void	 parse_side_listen(struct pstate *, char *, char *, int,
	    const struct ploc *);
void	 parse_side_tls(struct pstate *, const char *, char *,
	    const struct ploc *);
void	 parse_side_database(struct pstate *, char *, char *,
	    const struct ploc *);
enum guard_opt { GUARD_RATE, GUARD_BURST, GUARD_CONNECTIONS };
void	 parse_side_user(struct pstate *, char *, const struct ploc *);
void	 parse_side_limit(struct pstate *, char *, char *, int64_t,
	    const struct ploc *);
void	 parse_side_guard(struct pstate *, int64_t, const struct ploc *);
void	 parse_guard_opt(struct pstate *, enum guard_opt, int64_t,
	    const struct ploc *);
void	 parse_side_statement(struct pstate *, char *, char *,
	    const struct ploc *);
void	 parse_side_audit(struct pstate *, char *, char *, int64_t,
	    const struct ploc *);
struct side *parse_side_current(struct pstate *);
int	 audit_rotate_value(const char *, uint64_t *ret_bytes,
	    uint32_t *ret_secs);

/* ferryset.c */
void	 parse_side_ferry(struct pstate *, char *, char *, int64_t,
	    const struct ploc *);

/* link.c */
enum link_opt { LINK_DIODE, LINK_COPIES, LINK_RATE, LINK_TIMEOUT, LINK_SEAL,
	LINK_KEY, LINK_PARITY };
void	 parse_side_link(struct pstate *, const struct ploc *);
void	 parse_link_opt(struct pstate *, enum link_opt, int64_t, char *,
	    const struct ploc *);
/* With `link diode`: both sides say it, and every message is one-way. */
void	 check_diode(struct pstate *);
/* An eth: ferry has a link key; with POLICY_CHECK_FILES, a good one. */
void	 check_link_key(struct pstate *, int inner);

/* check.c */
extern const char *const side_item_names[SIDE_NITEMS];
int	 check_peer_name(const char *);
int	 check_field_name(const char *);
int	 check_address(const char *, struct netaddr *, const char **why);
int	 check_listen(const char *, const char **why);
int	 check_duration(const char *, uint32_t *ms);
int	 check_pattern(const char *, const char **why);
int	 check_path(struct pstate *, const struct ploc *, const char *what,
	    const char *path, char **ret);
/* A secret file: regular, only its owner's (root or us) to read. */
void	 check_secret_file(struct pstate *, const char *what, const char *path,
	    const struct ploc *);
int	 check_endpoint(struct pstate *, const struct ploc *,
	    const char *what, const char *endpoint, char **ret);
void	 check_policy(struct pstate *);
}

%code {
#include <sys/stat.h>

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YYLLOC_DEFAULT(cur, rhs, n) do {				\
	if (n)								\
		(cur) = YYRHSLOC(rhs, 1);				\
	else								\
		(cur) = YYRHSLOC(rhs, 0);				\
} while (0)

static int	 policy_yylex(POLICY_YYSTYPE *, POLICY_YYLTYPE *,
		    struct pstate *);
static void	 yyerror(const POLICY_YYLTYPE *, struct pstate *,
		    const char *);
static void	 recover(struct pstate *, int);
}

%define api.pure full
%define api.prefix {policy_yy}
%define api.token.prefix {T_}
%define api.location.type {struct ploc}
%define parse.error custom
%define parse.lac full
%locations
%param {struct pstate *ps}

%union {
	int64_t		 i;
	double		 d;
	char		*s;
	struct numlit	 n;
	struct range	 r;
}

%token ADDRESS "address" ALLOW "allow" AUDIT "audit" BOOLEAN "boolean"
%token BURST "burst" CERTIFICATE "certificate" CONNECTIONS "connections"
%token DATABASE "database" GUARD "guard" QUEUE "queue" USER "user"
%token DATE "date" ENUM "enum" FERRY "ferry" FROM "from" INCLUDE "include"
%token INNER "inner"
%token INTEGER "integer" INWARD "inward" KEY "key" LIMIT "limit"
%token LISTEN "listen"
%token MAX "max" MESSAGE "message" NUMBER "number" ONEWAY "oneway"
%token OUTER "outer" OUTWARD "outward" PEER "peer" PEER_KEY "peer-key"
%token RATE "rate" REPLY "reply" REQUEST "request" ROWS "rows"
%token STATE "state" STATEMENT "statement" STRING "string"
%token TIMEOUT "timeout" TIMESTAMP "timestamp"
%token LINK "link" DIODE "diode" COPIES "copies" SEAL "seal"
%token PARITY "parity"
%token NL "end of line" DOTDOT "'..'" INCLEND "end of included file"
%token <s> WORD "name or value" STR "quoted string" REGEX "/pattern/"
%token <i> INTLIT "integer value" RATEVAL "rate N/s"
%token <d> NUMLIT "decimal value"
%type <s> name kw listenaddr
%type <n> numlit
%type <r> range
%type <i> sidepath

%destructor { free($$); } <s>

%%

/*
 * Each error NL rule recovers at the next statement and reports the errors
 * after it (yyerrok); a statement whose line opened a block is dropped with
 * its block, so the block's lines are not read as statements here.
 */
grammar		: %empty
		| grammar topstmt NL
		| grammar inclhead grammar INCLEND
		| grammar error NL		{ recover(ps, 0); yyerrok; }
		;

/* Reduced without a lookahead, so the scanner switches files in time. */
inclhead	: INCLUDE STR NL {
			include_push(ps, $2, &@2);
			free($2);
		}
		;

/* A block's last statement may end with its '}' instead of a newline. */
topstmt		: peerhead '{' optnl peerstmts '}' {
			parse_peer_end(ps);
		}
		| peerhead '{' optnl peerstmts peerstmt '}' {
			parse_peer_end(ps);
		}
		| msghead '{' optnl msgstmts '}' {
			parse_message_end(ps);
		}
		| msghead '{' optnl msgstmts msgstmt '}' {
			parse_message_end(ps);
		}
		| sidehead '{' optnl sidestmts '}'
		| sidehead '{' optnl sidestmts sidestmt '}'
		;

optnl		: %empty
		| NL
		;

name		: WORD		{ $$ = $1; }
		| kw		{ $$ = $1; }
		;

peerhead	: PEER name	{ parse_peer_begin(ps, $2, &@2); }
		;

peerstmts	: %empty
		| peerstmts peerstmt NL
		| peerstmts error NL		{ recover(ps, 1); yyerrok; }
		;

peerstmt	: ADDRESS '{' optnl addrlist optnl '}'
		| ADDRESS '{' optnl '}' {
			pstate_error(ps, &@1, "empty address list");
		}
		| CERTIFICATE STR	{ parse_peer_certificate(ps, $2, &@2); }
		| RATE RATEVAL		{ parse_peer_rate(ps, $2, 0, 0, &@2); }
		| RATE RATEVAL BURST INTLIT {
			parse_peer_rate(ps, $2, 1, $4, &@2);
		}
		| LIMIT name INTLIT {
			parse_peer_limit(ps, $2, NULL, $3, &@1);
		}
		| LIMIT name WORD {
			parse_peer_limit(ps, $2, $3, -1, &@1);
		}
		;

addrlist	: WORD			{ parse_peer_address(ps, $1, &@1); }
		| addrlist ',' optnl WORD { parse_peer_address(ps, $4, &@4); }
		| addrlist NL WORD	{ parse_peer_address(ps, $3, &@3); }
		;

msghead		: MESSAGE name	{ parse_message_begin(ps, $2, &@2); }
		;

msgstmts	: %empty
		| msgstmts msgstmt NL
		| msgstmts error NL		{ recover(ps, 1); yyerrok; }
		;

msgstmt		: ALLOW FROM allowlist
		| ONEWAY		{ parse_message_oneway(ps, &@1); }
		| reqhead fieldblock		{ parse_schema_end(ps, &@1); }
		| replyhead fieldblock		{ parse_schema_end(ps, &@1); }
		| TIMEOUT WORD		{ parse_message_timeout(ps, $2, &@2); }
		| AUDIT WORD		{ parse_message_audit(ps, $2, &@2); }
		;

allowlist	: name			{ parse_message_allow(ps, $1, &@1); }
		| allowlist ',' optnl name { parse_message_allow(ps, $4, &@4); }
		;

reqhead		: REQUEST		{ parse_schema_begin(ps, 0, 0, &@1); }
		;

replyhead	: REPLY MAX INTLIT ROWS	{ parse_schema_begin(ps, 1, $3, &@1); }
		;

fieldblock	: '{' optnl fields '}'
		| '{' optnl fields field '}'
		;

fields		: %empty
		| fields field NL
		| fields error NL		{ recover(ps, 2); yyerrok; }
		;

field		: fieldhead STRING strmax strpat {
			parse_field_end(ps, FIELD_STRING);
		}
		| fieldhead INTEGER	{ parse_field_end(ps, FIELD_INTEGER); }
		| fieldhead INTEGER range {
			ps->fld.type = FIELD_INTEGER;
			parse_field_range(ps, &$3, &@3);
			parse_field_end(ps, FIELD_INTEGER);
		}
		| fieldhead NUMBER	{ parse_field_end(ps, FIELD_NUMBER); }
		| fieldhead NUMBER range {
			ps->fld.type = FIELD_NUMBER;
			parse_field_range(ps, &$3, &@3);
			parse_field_end(ps, FIELD_NUMBER);
		}
		| fieldhead BOOLEAN	{ parse_field_end(ps, FIELD_BOOLEAN); }
		| fieldhead DATE	{ parse_field_end(ps, FIELD_DATE); }
		| fieldhead TIMESTAMP {
			parse_field_end(ps, FIELD_TIMESTAMP);
		}
		| fieldhead ENUM '{' optnl enumlist optnl '}' {
			parse_field_end(ps, FIELD_ENUM);
		}
		| fieldhead ENUM '{' optnl '}' {
			parse_field_end(ps, FIELD_ENUM);
		}
		;

fieldhead	: name			{ parse_field_begin(ps, $1, &@1); }
		;

strmax		: %empty
		| MAX INTLIT		{ parse_field_maxlen(ps, $2, &@2); }
		;

strpat		: %empty
		| REGEX			{ parse_field_pattern(ps, $1, &@1); }
		;

range		: numlit DOTDOT numlit {
			$$.has_min = $$.has_max = 1;
			$$.min = $1;
			$$.max = $3;
		}
		| numlit DOTDOT {
			memset(&$$, 0, sizeof($$));
			$$.has_min = 1;
			$$.min = $1;
		}
		| DOTDOT numlit {
			memset(&$$, 0, sizeof($$));
			$$.has_max = 1;
			$$.max = $2;
		}
		;

numlit		: INTLIT {
			$$.isint = 1;
			$$.i = $1;
			$$.d = (double)$1;
		}
		| NUMLIT {
			$$.isint = 0;
			$$.i = 0;
			$$.d = $1;
		}
		;

enumlist	: name			{ parse_field_enum(ps, $1, &@1); }
		| enumlist ',' optnl name { parse_field_enum(ps, $4, &@4); }
		| enumlist NL name	{ parse_field_enum(ps, $3, &@3); }
		;

sidehead	: OUTER			{ parse_side_begin(ps, 0, &@1); }
		| INNER			{ parse_side_begin(ps, 1, &@1); }
		;

sidestmts	: %empty
		| sidestmts sidestmt NL
		| sidestmts inclhead sidestmts INCLEND
		| sidestmts error NL		{ recover(ps, 1); yyerrok; }
		;

sidestmt	: LISTEN listenaddr {
			parse_side_listen(ps, $2, NULL, 0, &@1);
		}
		| LISTEN listenaddr WORD {
			parse_side_listen(ps, $2, $3, 0, &@1);
		}
		| listenhead optnl tlsstmts '}'
		| listenhead optnl tlsstmts tlsstmt '}'
		| sidepath STR	{ parse_side_set(ps, $1, $2, &@1); }
		| DATABASE WORD STR {
			parse_side_database(ps, $2, $3, &@1);
		}
		| STATEMENT name STR {
			parse_side_statement(ps, $2, $3, &@1);
		}
		| USER name	{ parse_side_user(ps, $2, &@1); }
		| LIMIT name INTLIT {
			parse_side_limit(ps, $2, NULL, $3, &@1);
		}
		| LIMIT name WORD {
			parse_side_limit(ps, $2, $3, -1, &@1);
		}
		| guardhead guardopts
		| linkhead linkopts
		| AUDIT WORD		{ parse_side_audit(ps, $2, NULL, -1, &@1); }
		| AUDIT WORD WORD	{ parse_side_audit(ps, $2, $3, -1, &@1); }
		| AUDIT WORD STR	{ parse_side_audit(ps, $2, $3, -1, &@1); }
		| AUDIT WORD INTLIT	{ parse_side_audit(ps, $2, NULL, $3, &@1); }
		| FERRY WORD		{ parse_side_ferry(ps, $2, NULL, -1, &@1); }
		| FERRY WORD WORD	{ parse_side_ferry(ps, $2, $3, -1, &@1); }
		| FERRY WORD INTLIT	{ parse_side_ferry(ps, $2, NULL, $3, &@1); }
		;

listenaddr	: WORD		{ $$ = $1; }
		| STR		{ $$ = $1; }
		;

listenhead	: LISTEN listenaddr WORD '{' {
			parse_side_listen(ps, $2, $3, 1, &@1);
		}
		;

tlsstmts	: %empty
		| tlsstmts tlsstmt NL
		;

tlsstmt		: CERTIFICATE STR	{ parse_side_tls(ps, "certificate", $2, &@1); }
		| KEY STR		{ parse_side_tls(ps, "key", $2, &@1); }
		| WORD STR		{
			parse_side_tls(ps, $1, $2, &@1);
			free($1);
		}
		;

guardhead	: GUARD QUEUE INTLIT	{ parse_side_guard(ps, $3, &@1); }
		;

guardopts	: %empty
		| guardopts RATE RATEVAL {
			parse_guard_opt(ps, GUARD_RATE, $3, &@3);
		}
		| guardopts BURST INTLIT {
			parse_guard_opt(ps, GUARD_BURST, $3, &@3);
		}
		| guardopts CONNECTIONS INTLIT {
			parse_guard_opt(ps, GUARD_CONNECTIONS, $3, &@3);
		}
		;

linkhead	: LINK			{ parse_side_link(ps, &@1); }
		;

linkopts	: %empty
		| linkopts DIODE {
			parse_link_opt(ps, LINK_DIODE, 1, NULL, &@2);
		}
		| linkopts COPIES INTLIT {
			parse_link_opt(ps, LINK_COPIES, $3, NULL, &@3);
		}
		| linkopts RATE RATEVAL {
			parse_link_opt(ps, LINK_RATE, $3, NULL, &@3);
		}
		| linkopts TIMEOUT WORD {
			parse_link_opt(ps, LINK_TIMEOUT, 0, $3, &@3);
		}
		| linkopts SEAL INTLIT {
			parse_link_opt(ps, LINK_SEAL, $3, NULL, &@3);
		}
		| linkopts PARITY INTLIT {
			parse_link_opt(ps, LINK_PARITY, $3, NULL, &@3);
		}
		| linkopts KEY STR {
			parse_link_opt(ps, LINK_KEY, 0, $3, &@3);
		}
		;

sidepath	: INWARD	{ $$ = SIDE_INWARD; }
		| OUTWARD	{ $$ = SIDE_OUTWARD; }
		| KEY		{ $$ = SIDE_KEY; }
		| PEER_KEY	{ $$ = SIDE_PEER_KEY; }
		| AUDIT		{ $$ = SIDE_AUDIT; }
		| STATE		{ $$ = SIDE_STATE; }
		;

/* Keywords are reserved where a keyword may stand, but a name may be one. */
kw		: ADDRESS	{ $$ = pstate_strdup(ps, "address"); }
		| ALLOW		{ $$ = pstate_strdup(ps, "allow"); }
		| AUDIT		{ $$ = pstate_strdup(ps, "audit"); }
		| BOOLEAN	{ $$ = pstate_strdup(ps, "boolean"); }
		| BURST		{ $$ = pstate_strdup(ps, "burst"); }
		| CERTIFICATE	{ $$ = pstate_strdup(ps, "certificate"); }
		| CONNECTIONS	{ $$ = pstate_strdup(ps, "connections"); }
		| COPIES	{ $$ = pstate_strdup(ps, "copies"); }
		| DATABASE	{ $$ = pstate_strdup(ps, "database"); }
		| DATE		{ $$ = pstate_strdup(ps, "date"); }
		| DIODE		{ $$ = pstate_strdup(ps, "diode"); }
		| ENUM		{ $$ = pstate_strdup(ps, "enum"); }
		| FERRY		{ $$ = pstate_strdup(ps, "ferry"); }
		| FROM		{ $$ = pstate_strdup(ps, "from"); }
		| GUARD		{ $$ = pstate_strdup(ps, "guard"); }
		| INCLUDE	{ $$ = pstate_strdup(ps, "include"); }
		| INNER		{ $$ = pstate_strdup(ps, "inner"); }
		| INTEGER	{ $$ = pstate_strdup(ps, "integer"); }
		| INWARD	{ $$ = pstate_strdup(ps, "inward"); }
		| KEY		{ $$ = pstate_strdup(ps, "key"); }
		| LIMIT		{ $$ = pstate_strdup(ps, "limit"); }
		| LINK		{ $$ = pstate_strdup(ps, "link"); }
		| LISTEN	{ $$ = pstate_strdup(ps, "listen"); }
		| MAX		{ $$ = pstate_strdup(ps, "max"); }
		| MESSAGE	{ $$ = pstate_strdup(ps, "message"); }
		| NUMBER	{ $$ = pstate_strdup(ps, "number"); }
		| ONEWAY	{ $$ = pstate_strdup(ps, "oneway"); }
		| OUTER		{ $$ = pstate_strdup(ps, "outer"); }
		| OUTWARD	{ $$ = pstate_strdup(ps, "outward"); }
		| PEER		{ $$ = pstate_strdup(ps, "peer"); }
		| PEER_KEY	{ $$ = pstate_strdup(ps, "peer-key"); }
		| QUEUE		{ $$ = pstate_strdup(ps, "queue"); }
		| RATE		{ $$ = pstate_strdup(ps, "rate"); }
		| REPLY		{ $$ = pstate_strdup(ps, "reply"); }
		| REQUEST	{ $$ = pstate_strdup(ps, "request"); }
		| ROWS		{ $$ = pstate_strdup(ps, "rows"); }
		| PARITY	{ $$ = pstate_strdup(ps, "parity"); }
		| SEAL		{ $$ = pstate_strdup(ps, "seal"); }
		| STATE		{ $$ = pstate_strdup(ps, "state"); }
		| STATEMENT	{ $$ = pstate_strdup(ps, "statement"); }
		| STRING	{ $$ = pstate_strdup(ps, "string"); }
		| TIMEOUT	{ $$ = pstate_strdup(ps, "timeout"); }
		| TIMESTAMP	{ $$ = pstate_strdup(ps, "timestamp"); }
		| USER		{ $$ = pstate_strdup(ps, "user"); }
		;

%%

/*
 * After an error in a statement at brace depth level: if that statement
 * opened blocks, drop tokens until they close and their line ends; if it
 * closed blocks (their '}' went with the error), give the parser those.
 */
static void
recover(struct pstate *ps, int level)
{
	if (ps->braces > level)
		ps->skip_to = level;
	else if (ps->braces < level && !ps->resynced) {
		/* Once per real token: what is given cannot feed itself. */
		ps->resync = 2 * (level - ps->braces);
		ps->resynced = 1;
	}
}

static int
policy_yylex(POLICY_YYSTYPE *lval, POLICY_YYLTYPE *lloc, struct pstate *ps)
{
	int	 tok;

	for (;;) {
		/* After too many errors or ENOMEM the input just ends. */
		if (ps->enomem || ps->nerrors >= POLICY_ERRORS_MAX) {
			lloc->file = ps->file->name;
			lloc->line = ps->file->line;
			return T_YYEOF;
		}
		if (ps->resync > 0) {
			lloc->file = ps->file->name;
			lloc->line = ps->file->line;
			return ps->resync-- % 2 == 0 ? '}' : T_NL;
		}
		tok = policy_lex_lex(lval, lloc, ps->scanner);
		ps->resynced = 0;
		if (tok == '{')
			ps->braces++;
		else if (tok == '}' && ps->braces > 0)
			ps->braces--;
		if (ps->skip_to < 0 || tok == T_YYEOF || tok == T_INCLEND) {
			ps->skip_to = -1;
			return tok;
		}
		if (tok == T_WORD || tok == T_STR || tok == T_REGEX)
			free(lval->s);
		if (tok == T_NL && ps->braces <= ps->skip_to)
			ps->skip_to = -1;
	}
}

/* Only for what the custom report does not cover: memory exhausted. */
static void
yyerror(const POLICY_YYLTYPE *loc, struct pstate *ps, const char *msg)
{
	pstate_error(ps, loc, "%s", msg);
}

void
pstate_error(struct pstate *ps, const struct ploc *loc, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	if (ps->enomem || ps->nerrors >= POLICY_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (buf_putf(&ps->errors, "%s:%d: %s\n", loc->file, loc->line,
	    msg) != 0) {
		pstate_nomem(ps);
		return;
	}
	if (++ps->nerrors == POLICY_ERRORS_MAX &&
	    buf_putf(&ps->errors, "%s:%d: too many errors, giving up\n",
	    loc->file, loc->line) != 0)
		pstate_nomem(ps);
}

void
pstate_nomem(struct pstate *ps)
{
	ps->enomem = 1;
}

char *
pstate_strdup(struct pstate *ps, const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		pstate_nomem(ps);
	return p;
}

/*
 * Makes room for element n of *arrayp. Capacity is implied by n: the
 * next power of two, so arrays need no separate capacity field.
 */
int
pstate_grow(struct pstate *ps, void *arrayp, size_t n, size_t size)
{
	void	**ap = arrayp, *p;
	size_t	 want;

	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	want = n == 0 ? 1 : 2 * n;
	if (want > SIZE_MAX / size || (p = realloc(*ap, want * size)) == NULL) {
		pstate_nomem(ps);
		return -ENOMEM;
	}
	*ap = p;
	return 0;
}

/* A name for an error message: at most 64 bytes, printable. */
const char *
pstate_quote(const char *s, char *out, size_t size)
{
	size_t	 i, max = size - 4;

	if (max > POLICY_NAME_MAX)
		max = POLICY_NAME_MAX;
	for (i = 0; s[i] != '\0' && i < max; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0')
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
	return out;
}

/* A token's name as the grammar spells it, without bison's quotes. */
static const char *
symbol_name(yysymbol_kind_t kind, char *out, size_t size)
{
	const char	*name = yysymbol_name(kind);
	size_t		 len = strlen(name);

	if (len >= 2 && name[0] == '"' && name[len - 1] == '"' &&
	    len - 2 < size) {
		memcpy(out, name + 1, len - 2);
		out[len - 2] = '\0';
		return out;
	}
	return name;
}

static int
yyreport_syntax_error(const yypcontext_t *ctx, struct pstate *ps)
{
	yysymbol_kind_t	 expected[YYNTOKENS], tok;
	char			 msg[400], name[32];
	size_t			 len;
	int			 i, n, kws = 0;

	tok = yypcontext_token(ctx);
	n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
	for (i = 0; i < n; i++)
		if (lex_keyword(symbol_name(expected[i], name,
		    sizeof(name))) != -1)
			kws++;
	if (tok == YYSYMBOL_WORD && kws > 0) {
		pstate_error(ps, yypcontext_location(ctx),
		    "unknown keyword '%s'", ps->tok);
		return 0;
	}
	switch (tok) {
	case YYSYMBOL_WORD:
	case YYSYMBOL_INTLIT:
	case YYSYMBOL_NUMLIT:
	case YYSYMBOL_RATEVAL:
		snprintf(msg, sizeof(msg), "syntax error: unexpected '%s'",
		    ps->tok);
		break;
	case YYSYMBOL_STR:
	case YYSYMBOL_REGEX:
		snprintf(msg, sizeof(msg), "syntax error: unexpected %s",
		    ps->tok);
		break;
	default:
		snprintf(msg, sizeof(msg), "syntax error: unexpected %s",
		    symbol_name(tok, name, sizeof(name)));
		break;
	}
	/* A long list of alternatives helps nobody. */
	for (i = 0; n <= 4 && i < n; i++) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, "%s%s",
		    i == 0 ? ", expecting " : i == n - 1 ? " or " : ", ",
		    symbol_name(expected[i], name, sizeof(name)));
	}
	pstate_error(ps, yypcontext_location(ctx), "%s", msg);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* isogate audit: verify, show, trace and stats over the exchange journals, for auditors. */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit/audit.h"
#include "common/common.h"
#include "ferry/ferry.h"
#include "tools/tools.h"

#define TRACE_FILES_MAX	100000
#define STATS_GROUPS_MAX 100000
#define REASONS_MAX	64

static void
audit_usage(void)
{
	fprintf(stderr,
	    "usage: isogate audit verify --key SIDE.pub [--live] FILE...\n"
	    "       isogate audit show [--since T] [--until T] [--peer P] "
	    "[--type M]\n"
	    "           [--decision D] [--event E] [--id ID] [--json] FILE...\n"
	    "       isogate audit trace ID --outer DIR|FILE --inner DIR|FILE\n"
	    "       isogate audit stats [--since T] [--until T] [--json] "
	    "FILE...\n");
	exit(2);
}

/* --- reading records ----------------------------------------------------- */

typedef int record_cb(void *arg, const char *file, uint64_t line,
    json_t *rec, const char *text, size_t len);

/*
 * Calls cb for each record of path (marks included), parsed strictly.
 * 0, or 1 after printing what is wrong.
 */
static int
each_record(const char *cmd, const char *path, record_cb *cb, void *arg)
{
	struct audit_reader	*rd;
	json_error_t		 jerr;
	const char		*line;
	size_t			 len;
	uint64_t		 lineno = 0;
	json_t			*o;
	int			 r, ret = 1;

	if ((r = audit_reader_open(path, &rd)) != 0) {
		fprintf(stderr, "isogate audit %s: %s: %s\n", cmd, path,
		    strerror(-r));
		return 1;
	}
	while ((r = audit_reader_next(rd, &line, &len)) == 1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (o == NULL || !json_is_object(o) ||
		    !json_is_string(json_object_get(o, "event"))) {
			json_decref(o);
			fprintf(stderr, "isogate audit %s: %s:%llu: not a journal "
			    "record (isogate audit verify tells what is wrong)\n",
			    cmd, path, (unsigned long long)lineno);
			goto out;
		}
		r = cb(arg, path, lineno, o, line, len);
		json_decref(o);
		if (r != 0)
			goto out;
	}
	if (r < 0) {
		fprintf(stderr, "isogate audit %s: %s:%llu: %s\n", cmd, path,
		    (unsigned long long)lineno + 1, r == -E2BIG ?
		    "line too long" : strerror(-r));
		goto out;
	}
	ret = 0;
 out:
	audit_reader_close(rd);
	return ret;
}

static const char *
str(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static int64_t
num(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static int
is_mark(json_t *o)
{
	const char	*e = str(o, "event");

	return strcmp(e, "file") == 0 || strcmp(e, "checkpoint") == 0;
}

/* "2026-11-22T02:15:59.123456Z" -> unix microseconds; -1 if not that form. */
static int64_t
record_us(const char *t)
{
	struct tm	 tm;
	const char	*end;
	long		 us = 0;
	int		 digits = 0;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9' && digits < 6; end++,
		    digits++)
			us = us * 10 + (*end - '0');
	for (; digits < 6; digits++)
		us *= 10;
	if (strcmp(end, "Z") != 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

/* --since/--until: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z], or @unixseconds. */
static int
parse_when(const char *s, int64_t *ret)
{
	struct tm	 tm;
	const char	*end;
	int64_t		 v;

	if (s[0] == '@') {
		if (parse_i64(s + 1, 0, INT64_MAX / 1000000, &v) != 0)
			return -EINVAL;
		*ret = v * 1000000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, "%Y-%m-%dT%H:%M", &tm)) == NULL) {
			memset(&tm, 0, sizeof(tm));
			if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
				return -EINVAL;
		}
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -EINVAL;
	*ret = (int64_t)timegm(&tm) * 1000000;
	return 0;
}

struct filter {
	int64_t		 since, until;	/* us; -1 none; until exclusive */
	const char	*peer, *type, *decision, *event, *id;
};

static int
filter_match(const struct filter *f, json_t *o)
{
	int64_t	 t;

	if (is_mark(o))
		return 0;
	if (f->since >= 0 || f->until >= 0) {
		t = record_us(str(o, "time"));
		if (t < 0 || (f->since >= 0 && t < f->since) ||
		    (f->until >= 0 && t >= f->until))
			return 0;
	}
	return (f->peer == NULL || strcmp(str(o, "peer"), f->peer) == 0) &&
	    (f->type == NULL || strcmp(str(o, "type"), f->type) == 0) &&
	    (f->decision == NULL ||
	    strcmp(str(o, "decision"), f->decision) == 0) &&
	    (f->event == NULL || strcmp(str(o, "event"), f->event) == 0) &&
	    (f->id == NULL || strcmp(str(o, "id"), f->id) == 0);
}

/* Options shared by show and stats; returns the index of the first file. */
static int
parse_filter(const char *cmd, int argc, char **argv, struct filter *f,
    int *json)
{
	enum { O_SINCE = 1, O_UNTIL, O_PEER, O_TYPE, O_DECISION, O_EVENT,
	    O_ID, O_JSON };
	static const struct option opts[] = {
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "peer", required_argument, NULL, O_PEER },
		{ "type", required_argument, NULL, O_TYPE },
		{ "decision", required_argument, NULL, O_DECISION },
		{ "event", required_argument, NULL, O_EVENT },
		{ "id", required_argument, NULL, O_ID },
		{ "json", no_argument, NULL, O_JSON },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(f, 0, sizeof(*f));
	f->since = f->until = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_SINCE:
		case O_UNTIL:
			if (parse_when(optarg, ch == O_SINCE ? &f->since :
			    &f->until) != 0) {
				fprintf(stderr, "isogate audit %s: %s: not a "
				    "time (YYYY-MM-DD[THH:MM[:SS]][Z] or "
				    "@seconds, UTC)\n", cmd, optarg);
				exit(2);
			}
			break;
		case O_PEER: f->peer = optarg; break;
		case O_TYPE: f->type = optarg; break;
		case O_DECISION: f->decision = optarg; break;
		case O_EVENT: f->event = optarg; break;
		case O_ID: f->id = optarg; break;
		case O_JSON: *json = 1; break;
		default: audit_usage();
		}
	}
	if (optind >= argc)
		audit_usage();
	return optind;
}

/* --- verify -------------------------------------------------------------- */

struct vfile {
	const char	*path;
	uint64_t	 seq;		/* from its file record; UINT64_MAX */
	int		 argi;
};

static int
vfile_cmp(const void *a, const void *b)
{
	const struct vfile	*x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->argi - y->argi;
}

/* The file sequence of a journal file's first line, for ordering. */
static uint64_t
first_seq(const char *path)
{
	struct audit_reader	*rd;
	struct audit_head	 h;
	const char		*line;
	size_t			 len;
	uint64_t		 seq = UINT64_MAX;

	if (audit_reader_open(path, &rd) != 0)
		return seq;
	if (audit_reader_next(rd, &line, &len) == 1 && len > 0 &&
	    line[len - 1] == '\n' && audit_parse_head(line, len - 1, &h) == 0 &&
	    audit_parse_file(&h, &seq) != 0)
		seq = UINT64_MAX;
	audit_reader_close(rd);
	return seq;
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "live", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit_verify	*v = NULL;
	struct audit_reader	*rd;
	struct vfile		*files;
	EVP_PKEY		*key = NULL;
	const char		*keypath = NULL, *line;
	char			 summary[512];
	size_t			 len;
	int			 ch, live = 0, nfiles, i, r, ret = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': keypath = optarg; break;
		case 'l': live = 1; break;
		default: audit_usage();
		}
	}
	if (keypath == NULL || optind >= argc)
		audit_usage();
	if ((r = key_load_public(keypath, &key)) != 0) {
		fprintf(stderr, "isogate audit verify: key %s: %s\n", keypath,
		    strerror(-r));
		return 2;
	}
	nfiles = argc - optind;
	if ((files = calloc((size_t)nfiles, sizeof(*files))) == NULL ||
	    audit_verify_new(key, live, &v) != 0) {
		fprintf(stderr, "isogate audit verify: out of memory\n");
		goto out;
	}
	/* Rotated files are verified in their chain order, however named. */
	for (i = 0; i < nfiles; i++) {
		files[i].path = argv[optind + i];
		files[i].seq = first_seq(files[i].path);
		files[i].argi = i;
	}
	qsort(files, (size_t)nfiles, sizeof(*files), vfile_cmp);
	for (i = 0; i < nfiles; i++) {
		if ((r = audit_reader_open(files[i].path, &rd)) != 0) {
			fprintf(stderr, "isogate audit verify: %s: %s\n",
			    files[i].path, strerror(-r));
			ret = 2;
			goto out;
		}
		if (audit_verify_file(v, files[i].path) == 0)
			while ((r = audit_reader_next(rd, &line, &len)) == 1 &&
			    audit_verify_line(v, line, len) == 0)
				;
		audit_reader_close(rd);
		if (audit_verify_error(v) != NULL)
			break;
		if (r < 0) {
			fprintf(stderr, "isogate audit verify: %s: %s\n",
			    files[i].path, r == -E2BIG ? "a line is too long "
			    "to be a record" : strerror(-r));
			goto out;
		}
	}
	if (audit_verify_error(v) == NULL)
		(void)audit_verify_end(v);
	if (audit_verify_error(v) != NULL) {
		printf("FAILED: %s\n", audit_verify_error(v));
		goto out;
	}
	if (audit_verify_summary(v, summary, sizeof(summary)) != 0)
		goto out;
	printf("OK: %s\n", summary);
	ret = 0;
 out:
	audit_verify_free(v);
	free(files);
	EVP_PKEY_free(key);
	return ret;
}

/* --- show ---------------------------------------------------------------- */

struct show {
	struct filter	 f;
	int		 json;
	uint64_t	 shown;
};

static int
show_cb(void *arg, const char *file, uint64_t line, json_t *o,
    const char *text, size_t len)
{
	struct show	*s = arg;
	char		 st[8] = "", lat[24] = "", rows[24] = "";

	(void)file;
	(void)line;
	if (!filter_match(&s->f, o))
		return 0;
	s->shown++;
	if (s->json) {
		fwrite(text, 1, len, stdout);
		putchar('\n');
		return 0;
	}
	if (num(o, "status") >= 0)
		snprintf(st, sizeof(st), "%lld", (long long)num(o, "status"));
	if (num(o, "rows") >= 0)
		snprintf(rows, sizeof(rows), "%lld", (long long)num(o, "rows"));
	if (num(o, "latency_us") >= 0)
		snprintf(lat, sizeof(lat), "%.3f",
		    (double)num(o, "latency_us") / 1000.0);
	printf("%-27s %-5s %-8s %-32s %-16s %-20s %-8s %-18s %4s %5s %9s\n",
	    str(o, "time"), str(o, "side"), str(o, "event"), str(o, "id"),
	    str(o, "peer"), str(o, "type"), str(o, "decision"),
	    str(o, "reason"), st, rows, lat);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	struct show	 s;
	int		 i, first;

	memset(&s, 0, sizeof(s));
	first = parse_filter("show", argc, argv, &s.f, &s.json);
	if (!s.json)
		printf("%-27s %-5s %-8s %-32s %-16s %-20s %-8s %-18s %4s %5s "
		    "%9s\n", "TIME", "SIDE", "EVENT", "ID", "PEER", "TYPE",
		    "DECISION", "REASON", "HTTP", "ROWS", "MS");
	for (i = first; i < argc; i++)
		if (each_record("show", argv[i], show_cb, &s) != 0)
			return 1;
	if (!s.json)
		fprintf(stderr, "%llu records\n", (unsigned long long)s.shown);
	return 0;
}

/* --- trace --------------------------------------------------------------- */

struct trace {
	const char	*id;
	const char	*side;		/* the records read now must be its */
	json_t		*found;		/* array of matching records */
};

static int
trace_cb(void *arg, const char *file, uint64_t line, json_t *o,
    const char *text, size_t len)
{
	struct trace	*t = arg;

	(void)file;
	(void)line;
	(void)text;
	(void)len;
	if (strcmp(str(o, "id"), t->id) != 0 || is_mark(o) ||
	    strcmp(str(o, "side"), t->side) != 0)
		return 0;
	if (json_array_size(t->found) >= TRACE_FILES_MAX)
		return 0;
	return json_array_append(t->found, o) == 0 ? 0 : 1;
}

/* Reads FILE, or each regular file of DIR whose name does not start '.';
 * keeps the records of side (both sides' journals may share a DIR). */
static int
trace_side(struct trace *t, const char *side, const char *path)
{
	struct stat	 st;
	struct dirent	**ents = NULL;
	char		 p[PATH_MAX];
	int		 n, i, ret = 0;

	t->side = side;
	if (stat(path, &st) == -1) {
		fprintf(stderr, "isogate audit trace: %s: %s\n", path,
		    strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode))
		return each_record("trace", path, trace_cb, t);
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		fprintf(stderr, "isogate audit trace: %s: %s\n", path,
		    strerror(errno));
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (ret == 0 && ents[i]->d_name[0] != '.' &&
		    snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name) <
		    (int)sizeof(p) && stat(p, &st) == 0 && S_ISREG(st.st_mode))
			ret = each_record("trace", p, trace_cb, t);
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static int
time_cmp(const void *a, const void *b)
{
	json_t * const	*x = a, * const *y = b;
	int		 c;

	if ((c = strcmp(str(*x, "time"), str(*y, "time"))) != 0)
		return c;
	/* Same microsecond: outer receives before inner sees it. */
	return strcmp(str(*y, "side"), str(*x, "side"));
}

/* What a record means in an exchange's life. */
static void
stage(json_t *o, char *out, size_t size)
{
	const char	*side = str(o, "side"), *ev = str(o, "event");
	int		 allow = strcmp(str(o, "decision"), "allow") == 0;
	const char	*reason = str(o, "reason");

	if (strcmp(side, "outer") == 0 && strcmp(ev, "request") == 0)
		snprintf(out, size, allow ? "received, checked, crossed "
		    "inward" : "received, refused by outer (%s)", reason);
	else if (strcmp(side, "inner") == 0 && strcmp(ev, "execute") == 0)
		snprintf(out, size, allow ? "checked and executed by inner, "
		    "answer sent outward" : "refused at execution (%s)",
		    reason);
	else if (strcmp(side, "inner") == 0)
		snprintf(out, size, allow ? "accepted by inner (%s)" :
		    "refused by inner's checks (%s)", allow ? ev : reason);
	else if (strcmp(ev, "reply") == 0)
		snprintf(out, size, strcmp(reason, "client_gone") == 0 ?
		    "answer not delivered: the client had gone" :
		    allow ? "replied and delivered to the client" :
		    "error delivered to the client (%s)", reason);
	else
		snprintf(out, size, "%s %s (%s)", ev, allow ? "allowed" :
		    "refused", reason);
}

static int
cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "outer", required_argument, NULL, 'o' },
		{ "inner", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	struct trace	 t;
	const char	*outer = NULL, *inner = NULL;
	char		 what[160], st[8], rows[24];
	uint8_t		 idb[ID_LEN];
	json_t		**v = NULL, *o;
	int64_t		 t0 = -1, tu;
	size_t		 i, n;
	int		 ch, r = 1, sides = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': outer = optarg; break;
		case 'i': inner = optarg; break;
		default: audit_usage();
		}
	}
	if (optind != argc - 1 || (outer == NULL && inner == NULL))
		audit_usage();
	t.id = argv[optind];
	if (strlen(t.id) != ID_HEXLEN || hex_decode(t.id, idb, ID_LEN) != 0) {
		fprintf(stderr, "isogate audit trace: %s: not an exchange id "
		    "(32 hex digits)\n", t.id);
		return 2;
	}
	if ((t.found = json_array()) == NULL)
		return 1;
	if ((outer != NULL && (r = trace_side(&t, "outer", outer)) != 0) ||
	    (inner != NULL && (r = trace_side(&t, "inner", inner)) != 0))
		goto out;
	r = 1;
	if ((n = json_array_size(t.found)) == 0) {
		fprintf(stderr, "isogate audit trace: %s: no record of this "
		    "exchange\n", t.id);
		goto out;
	}
	if ((v = calloc(n, sizeof(*v))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(t.found, i);
	qsort(v, n, sizeof(*v), time_cmp);
	o = v[0];
	printf("exchange %s: %s from %s (%s)\n", t.id, str(o, "type"),
	    str(o, "peer"), str(o, "addr"));
	for (i = 0; i < n; i++) {
		o = v[i];
		tu = record_us(str(o, "time"));
		if (t0 < 0)
			t0 = tu;
		sides |= strcmp(str(o, "side"), "outer") == 0 ? 1 : 2;
		stage(o, what, sizeof(what));
		st[0] = rows[0] = '\0';
		if (num(o, "status") >= 0)
			snprintf(st, sizeof(st), "%lld",
			    (long long)num(o, "status"));
		if (num(o, "rows") >= 0)
			snprintf(rows, sizeof(rows), "rows=%lld",
			    (long long)num(o, "rows"));
		printf("  %+10.3f ms  %-5s %-8s %-5s %-4s %-8s %s\n",
		    tu >= 0 && t0 >= 0 ? (double)(tu - t0) / 1000.0 : 0.0,
		    str(o, "side"), str(o, "event"), str(o, "decision"), st,
		    rows, what);
	}
	printf("  seen on %s\n", sides == 3 ? "both sides" : sides == 1 ?
	    "the outer side only" : "the inner side only");
	r = 0;
 out:
	free(v);
	json_decref(t.found);
	return r;
}

/* --- stats --------------------------------------------------------------- */

struct group {
	char		 key[200];	/* side, event, type, peer */
	json_t		*rec;		/* an example for the names */
	uint64_t	 allow, deny;
	char		 reasons[REASONS_MAX][33];
	uint64_t	 nreason[REASONS_MAX];
	size_t		 nreasons;
	int64_t		*lat;
	size_t		 nlat, caplat;
};

struct stats {
	struct filter	 f;
	struct group	*g;
	size_t		 ng, capg;
	int		 json;
};

static int
lat_cmp(const void *a, const void *b)
{
	const int64_t	*x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int
stats_cb(void *arg, const char *file, uint64_t line, json_t *o,
    const char *text, size_t len)
{
	struct stats	*s = arg;
	struct group	*g = NULL, *ng;
	char		 key[200];
	const char	*reason;
	int64_t		*nl;
	size_t		 i;

	(void)file;
	(void)line;
	(void)text;
	(void)len;
	if (!filter_match(&s->f, o))
		return 0;
	snprintf(key, sizeof(key), "%s\t%s\t%s\t%s", str(o, "side"),
	    str(o, "event"), str(o, "type"), str(o, "peer"));
	for (i = 0; i < s->ng; i++)
		if (strcmp(s->g[i].key, key) == 0) {
			g = &s->g[i];
			break;
		}
	if (g == NULL) {
		if (s->ng == STATS_GROUPS_MAX)
			return 0;
		if (s->ng == s->capg) {
			s->capg = s->capg ? 2 * s->capg : 16;
			if ((ng = realloc(s->g, s->capg * sizeof(*ng))) == NULL)
				return 1;
			s->g = ng;
		}
		g = &s->g[s->ng++];
		memset(g, 0, sizeof(*g));
		memcpy(g->key, key, sizeof(key));
		g->rec = json_incref(o);
	}
	if (strcmp(str(o, "decision"), "allow") == 0)
		g->allow++;
	else {
		g->deny++;
		reason = *str(o, "reason") ? str(o, "reason") : "-";
		for (i = 0; i < g->nreasons; i++)
			if (strcmp(g->reasons[i], reason) == 0)
				break;
		if (i == g->nreasons && g->nreasons < REASONS_MAX)
			snprintf(g->reasons[g->nreasons++], 33, "%s", reason);
		if (i < g->nreasons)
			g->nreason[i]++;
	}
	if (num(o, "latency_us") >= 0) {
		if (g->nlat == g->caplat) {
			g->caplat = g->caplat ? 2 * g->caplat : 64;
			if ((nl = realloc(g->lat, g->caplat * sizeof(*nl))) ==
			    NULL)
				return 1;
			g->lat = nl;
		}
		g->lat[g->nlat++] = num(o, "latency_us");
	}
	return 0;
}

static double
pct(const struct group *g, double p)
{
	size_t	 i;

	if (g->nlat == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)(g->nlat - 1) + 0.5);
	return (double)g->lat[i] / 1000.0;
}

static int
cmd_stats(int argc, char **argv)
{
	struct stats	 s;
	struct group	*g;
	json_t		*o, *reasons;
	char		 rs[512];
	size_t		 i, k, off;
	int		 first, j, ret = 1;

	memset(&s, 0, sizeof(s));
	first = parse_filter("stats", argc, argv, &s.f, &s.json);
	for (j = first; j < argc; j++)
		if (each_record("stats", argv[j], stats_cb, &s) != 0)
			goto out;
	if (!s.json)
		printf("%-5s %-8s %-20s %-16s %8s %8s %9s %9s %9s  %s\n",
		    "SIDE", "EVENT", "TYPE", "PEER", "ALLOWED", "DENIED",
		    "P50_MS", "P99_MS", "MAX_MS", "DENIED BY REASON");
	for (i = 0; i < s.ng; i++) {
		g = &s.g[i];
		if (g->nlat > 1)
			qsort(g->lat, g->nlat, sizeof(*g->lat), lat_cmp);
		if (s.json) {
			reasons = json_object();
			for (k = 0; k < g->nreasons; k++)
				json_object_set_new(reasons, g->reasons[k],
				    json_integer((json_int_t)g->nreason[k]));
			o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:o}",
			    "side", str(g->rec, "side"),
			    "event", str(g->rec, "event"),
			    "type", str(g->rec, "type"),
			    "peer", str(g->rec, "peer"),
			    "allowed", (json_int_t)g->allow,
			    "denied", (json_int_t)g->deny, "reasons", reasons);
			if (o != NULL && g->nlat > 0)
				json_object_set_new(o, "latency_ms", json_pack(
				    "{s:f,s:f,s:f,s:f}", "p50", pct(g, 50),
				    "p90", pct(g, 90), "p99", pct(g, 99),
				    "max", pct(g, 100)));
			if (o != NULL)
				json_dumpf(o, stdout, JSON_COMPACT |
				    JSON_SORT_KEYS);
			putchar('\n');
			json_decref(o);
			continue;
		}
		rs[0] = '\0';
		for (k = 0, off = 0; k < g->nreasons && off < sizeof(rs); k++)
			off += (size_t)snprintf(rs + off, sizeof(rs) - off,
			    "%s%s=%llu", k ? " " : "", g->reasons[k],
			    (unsigned long long)g->nreason[k]);
		if (g->nlat > 0)
			printf("%-5s %-8s %-20s %-16s %8llu %8llu %9.3f %9.3f "
			    "%9.3f  %s\n", str(g->rec, "side"),
			    str(g->rec, "event"), str(g->rec, "type"),
			    str(g->rec, "peer"), (unsigned long long)g->allow,
			    (unsigned long long)g->deny, pct(g, 50), pct(g, 99),
			    pct(g, 100), rs);
		else
			printf("%-5s %-8s %-20s %-16s %8llu %8llu %9s %9s %9s  "
			    "%s\n", str(g->rec, "side"), str(g->rec, "event"),
			    str(g->rec, "type"), str(g->rec, "peer"),
			    (unsigned long long)g->allow,
			    (unsigned long long)g->deny, "-", "-", "-", rs);
	}
	ret = 0;
 out:
	for (i = 0; i < s.ng; i++) {
		json_decref(s.g[i].rec);
		free(s.g[i].lat);
	}
	free(s.g);
	return ret;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2)
		audit_usage();
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "trace") == 0)
		return cmd_trace(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	audit_usage();
	return 2;
}

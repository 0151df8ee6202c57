/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Loading a policy: files, includes, the parse run, the digest and the errors. */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse.h"

#define ERRORS_BUF_MAX	(256 * 1024)

static char *
pstate_name(struct pstate *ps, const char *name)
{
	char	*s;

	if (pstate_grow(ps, &ps->names, ps->nnames, sizeof(*ps->names)) != 0 ||
	    (s = pstate_strdup(ps, name)) == NULL)
		return NULL;
	ps->names[ps->nnames++] = s;
	return s;
}

/* A NUL byte would cut a string short: refuse the file. */
static int
check_nul(struct pstate *ps, const char *name, const char *data, size_t len)
{
	const char	*nul;
	struct ploc	 loc;

	if ((nul = memchr(data, '\0', len)) == NULL)
		return 0;
	loc.file = name;
	loc.line = 1;
	for (; data < nul; data++)
		if (*data == '\n')
			loc.line++;
	pstate_error(ps, &loc, "NUL byte in file");
	return -EINVAL;
}

/* Include names are relative to the including file's name, so errors
 * name files the way the user would. NULL if too long or ENOMEM. */
static char *
include_name(struct pstate *ps, const char *from, const char *path)
{
	const char	*slash;
	struct buf	 b;
	char		*s = NULL;
	int		 r;

	if (path[0] == '/' || (slash = strrchr(from, '/')) == NULL)
		return pstate_name(ps, path);
	buf_init(&b, PATH_MAX);
	if ((r = buf_put(&b, from, (size_t)(slash - from + 1))) == 0 &&
	    (r = buf_put_str(&b, path)) == 0 &&
	    (r = buf_put_u8(&b, '\0')) == 0)
		s = pstate_name(ps, (char *)b.data);
	else if (r == -ENOMEM)
		pstate_nomem(ps);
	buf_free(&b);
	return s;
}

void
include_push(struct pstate *ps, const char *path, const struct ploc *loc)
{
	struct pfile	*f;
	struct stat	 st;
	const char	*name;
	char		*data = NULL;
	size_t		 len = 0;
	int		 r;

	if ((name = include_name(ps, loc->file, path)) == NULL) {
		if (ps->enomem)
			return;
		pstate_error(ps, loc, "include path too long");
		name = loc->file;
		goto empty;
	}
	if (path[0] == '\0') {
		pstate_error(ps, loc, "empty include path");
		goto empty;
	}
	if (ps->depth >= POLICY_INCLUDE_DEPTH) {
		pstate_error(ps, loc, "include %s: nested too deeply (max %d)",
		    name, POLICY_INCLUDE_DEPTH);
		goto empty;
	}
	if (ps->nopened >= POLICY_FILES_MAX) {
		pstate_error(ps, loc, "include %s: more than %d files", name,
		    POLICY_FILES_MAX);
		goto empty;
	}
	if (stat(name, &st) == -1) {
		pstate_error(ps, loc, "include %s: %s", name, strerror(errno));
		goto empty;
	}
	/* Before opening: a FIFO would block the open. */
	if (!S_ISREG(st.st_mode)) {
		pstate_error(ps, loc, "include %s: not a regular file", name);
		goto empty;
	}
	for (f = ps->file; f != NULL; f = f->parent) {
		if (f->dev == st.st_dev && f->ino == st.st_ino) {
			pstate_error(ps, loc, "include %s: include loop", name);
			goto empty;
		}
	}
	if ((r = read_file(name, POLICY_FILE_MAX, &data, &len)) != 0) {
		if (r == -ENOMEM)
			pstate_nomem(ps);
		else if (r == -EFBIG)
			pstate_error(ps, loc, "include %s: larger than %d "
			    "bytes", name, POLICY_FILE_MAX);
		else
			pstate_error(ps, loc, "include %s: %s", name,
			    strerror(-r));
		goto empty;
	}
	ps->nopened++;
	if (len > POLICY_READ_MAX - ps->nread) {
		pstate_error(ps, loc, "include %s: more than %d bytes of "
		    "policy in all", name, POLICY_READ_MAX);
		goto empty;
	}
	ps->nread += len;
	if (check_nul(ps, name, data, len) != 0)
		goto empty;
	if (lex_push(ps, name, data, len, st.st_dev, st.st_ino) != 0)
		pstate_nomem(ps);
	free(data);
	return;
 empty:
	/* The grammar still expects the included file to end. */
	free(data);
	if (lex_push(ps, name, "", 0, 0, 0) != 0)
		pstate_nomem(ps);
}

static void
pstate_free(struct pstate *ps)
{
	size_t	 i;

	lex_destroy(ps);
	for (i = 0; i < ps->nnames; i++)
		free(ps->names[i]);
	free(ps->names);
	for (i = 0; i < ps->nminfo; i++)
		free(ps->minfo[i].allow);
	free(ps->minfo);
	policy_schema_clear(&ps->scratch_schema);
	policy_field_clear(&ps->fld);
	policy_side_clear(&ps->scratch_side);
	buf_free(&ps->errors);
}

static int
policy_digest(struct policy *p)
{
	char	*text;
	int	 r;

	if ((text = policy_format_messages(p)) == NULL)
		return -ENOMEM;
	r = sha256(text, strlen(text), p->digest) == 0 ? 0 : -ENOMEM;
	free(text);
	return r;
}

/*
 * The parse state lives on the heap: after a longjmp from the scanner's
 * fatal error (out of memory) only memory, not locals, can be trusted.
 */
static int
load(const char *path, const char *data, size_t len, dev_t dev, ino_t ino,
    unsigned flags, struct policy **ret, char **ret_errors)
{
	struct pstate	*ps;
	const char	*name;
	char		*errors = NULL;
	int		 r;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		if (ret_errors != NULL)
			*ret_errors = NULL;
		return -ENOMEM;
	}
	buf_init(&ps->errors, ERRORS_BUF_MAX);
	ps->flags = flags;
	ps->side_sel = 2;
	ps->schema_sel = 2;
	ps->skip_to = -1;
	ps->nread = len;
	if (setjmp(ps->fatal) != 0)
		goto out;
	if ((ps->p = calloc(1, sizeof(*ps->p))) == NULL ||
	    lex_init(ps) != 0 || (name = pstate_name(ps, path)) == NULL) {
		pstate_nomem(ps);
		goto out;
	}
	/* A file with a NUL byte is read as empty, its error reported. */
	if (lex_push(ps, name, data, check_nul(ps, name, data, len) != 0 ? 0 :
	    len, dev, ino) != 0) {
		pstate_nomem(ps);
		goto out;
	}
	ps->nopened = 1;
	if (policy_yyparse(ps) != 0 && ps->nerrors == 0)
		pstate_error(ps, &(struct ploc){ name, 1 }, "parse failed");
	if (!ps->enomem && ps->nerrors < POLICY_ERRORS_MAX)
		check_policy(ps);
	if (!ps->enomem && ps->nerrors == 0 && policy_digest(ps->p) != 0)
		pstate_nomem(ps);
 out:
	r = ps->enomem ? -ENOMEM : ps->nerrors > 0 ? -EINVAL : 0;
	if (r == 0) {
		*ret = ps->p;
		ps->p = NULL;
	} else if (ret_errors != NULL) {
		if (r == -EINVAL && buf_put_u8(&ps->errors, '\0') == 0) {
			errors = (char *)ps->errors.data;
			ps->errors.data = NULL;
		} else
			errors = strdup("out of memory\n");
		*ret_errors = errors;
	}
	policy_free(ps->p);
	pstate_free(ps);
	free(ps);
	return r;
}

/* For failures before parsing starts: one line, no line number. */
static void
errors_one(char **ret_errors, const char *name, const char *what)
{
	if (ret_errors != NULL && asprintf(ret_errors, "%s: %s\n", name,
	    what) == -1)
		*ret_errors = NULL;
}

int
policy_load(const char *path, unsigned flags, struct policy **ret,
    char **ret_errors)
{
	struct stat	 st;
	char		*data = NULL;
	size_t		 len;
	int		 r;

	if ((flags & ~POLICY_CHECK_FILES) != 0) {
		errors_one(ret_errors, path, "unknown flags");
		return -EINVAL;
	}
	if ((r = read_file(path, POLICY_FILE_MAX, &data, &len)) != 0) {
		errors_one(ret_errors, path, r == -EFBIG ? "file too large" :
		    r == -EINVAL ? "not a regular file" : strerror(-r));
		return r;
	}
	if (stat(path, &st) == -1) {
		r = -errno;
		errors_one(ret_errors, path, strerror(-r));
	} else
		r = load(path, data, len, st.st_dev, st.st_ino, flags, ret,
		    ret_errors);
	free(data);
	return r;
}

int
policy_load_buffer(const char *name, const void *data, size_t len,
    unsigned flags, struct policy **ret, char **ret_errors)
{
	if ((flags & ~POLICY_CHECK_FILES) != 0) {
		errors_one(ret_errors, name, "unknown flags");
		return -EINVAL;
	}
	if (len > POLICY_FILE_MAX) {
		errors_one(ret_errors, name, "file too large");
		return -EFBIG;
	}
	return load(name, data, len, 0, 0, flags, ret, ret_errors);
}

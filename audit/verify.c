/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Verifying a journal: the chain line by line, checkpoint signatures, rotations, the tail. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "audit/audit.h"

#define NAME_MAX_SHOWN	256

/* What the verifier keeps of one line. */
struct seen {
	uint64_t	 n;
	uint8_t		 hash[SHA256_LEN];
	uint64_t	 line;
	char		 file[NAME_MAX_SHOWN];
	int		 checkpoint;
	char		 reason[16];
};

struct audit_verify {
	EVP_PKEY	*key;		/* not owned; NULL: chain only */
	EVP_MD_CTX	*md;		/* signatures */
	EVP_MD		*sha256;	/* fetched once, for every line */
	EVP_MD_CTX	*hash;
	int		 live;
	int		 failed;
	char		 err[768];
	char		 name[NAME_MAX_SHOWN];	/* current file */
	uint64_t	 line;		/* lines read of it */
	char		 side[6];
	int		 have_last;
	struct seen	 last;		/* last record accepted */
	int		 held;		/* a record past a gap, undecided */
	struct seen	 hold;
	struct seen	 cp;		/* last checkpoint accepted */
	int		 have_cp;
	uint64_t	 fileseq;	/* sequence of the current file */
	uint64_t	 first_file, first_n;
	uint64_t	 nfiles, nrecords, ncheckpoints;
};

static int
fail(struct audit_verify *v, const char *file, uint64_t line,
    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(struct audit_verify *v, const char *file, uint64_t line,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (v->failed)
		return -EBADMSG;
	v->failed = 1;
	n = snprintf(v->err, sizeof(v->err), "%s:%llu: ", file,
	    (unsigned long long)line);
	if (n < 0 || (size_t)n >= sizeof(v->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(v->err + n, sizeof(v->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int
audit_verify_new(EVP_PKEY *key, int live, struct audit_verify **ret)
{
	struct audit_verify	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -ENOMEM;
	if ((v->md = EVP_MD_CTX_new()) == NULL ||
	    (v->hash = EVP_MD_CTX_new()) == NULL ||
	    (v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		ERR_clear_error();
		audit_verify_free(v);
		return -ENOMEM;
	}
	v->key = key;
	v->live = live;
	*ret = v;
	return 0;
}

void
audit_verify_free(struct audit_verify *v)
{
	if (v == NULL)
		return;
	EVP_MD_CTX_free(v->md);
	EVP_MD_CTX_free(v->hash);
	EVP_MD_free(v->sha256);
	free(v);
}

const char *
audit_verify_error(const struct audit_verify *v)
{
	return v->failed ? v->err : NULL;
}

/* Decides a record held past a gap: n_next is the number after it. */
static int
resolve_hold(struct audit_verify *v, int have_next, uint64_t n_next)
{
	uint64_t	 exp = v->last.n + 1;

	v->held = 0;
	if (have_next && n_next == exp)
		return fail(v, v->hold.file, v->hold.line, "records out of "
		    "order: n=%llu comes before n=%llu (reordered)",
		    (unsigned long long)v->hold.n, (unsigned long long)n_next);
	if (v->hold.n == exp + 1)
		return fail(v, v->hold.file, v->hold.line, "record n=%llu "
		    "removed before this line", (unsigned long long)exp);
	return fail(v, v->hold.file, v->hold.line, "records n=%llu..%llu "
	    "removed before this line", (unsigned long long)exp,
	    (unsigned long long)(v->hold.n - 1));
}

int
audit_verify_file(struct audit_verify *v, const char *name)
{
	if (v->failed)
		return -EBADMSG;
	if (v->nfiles > 0 && v->line == 0)
		return fail(v, v->name, 0, "an empty file (not a journal "
		    "file, or all of it removed)");
	if (v->held && resolve_hold(v, 0, 0) != 0)
		return -EBADMSG;
	/* The file before must have been closed by a rotation. */
	if (v->have_last && !(v->last.checkpoint &&
	    strcmp(v->last.reason, "rotate") == 0))
		return fail(v, v->last.file, v->last.line, "chain broken "
		    "across a rotation: this file does not end with its "
		    "rotation checkpoint (truncated), yet another follows");
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->line = 0;
	v->nfiles++;
	return 0;
}

static int
check_signature(struct audit_verify *v, const struct audit_head *h,
    uint64_t file, const char *reason, const uint8_t sig[AUDIT_SIG_LEN])
{
	uint8_t	 msg[AUDIT_SIGNED_MAX];
	size_t	 mlen;
	int	 ok;

	if (v->key == NULL)
		return 0;
	mlen = audit_signed_bytes(h->side, file, h->n, h->prev, reason,
	    h->time, h->time_len, msg);
	ok = EVP_DigestVerifyInit(v->md, NULL, NULL, NULL, v->key) == 1 &&
	    EVP_DigestVerify(v->md, sig, AUDIT_SIG_LEN, msg, mlen) == 1;
	ERR_clear_error();
	return ok ? 0 : -EBADMSG;
}

/* The first line of a file: its "file" record, joined to the file before. */
static int
file_start(struct audit_verify *v, const struct audit_head *h,
    const struct seen *cur)
{
	static const uint8_t	 zero[SHA256_LEN];
	uint64_t		 file;

	if (audit_parse_file(h, &file) != 0)
		return fail(v, v->name, v->line, "the file does not start "
		    "with its file record (first record removed or changed)");
	if (!v->have_last) {
		memcpy(v->side, h->side, sizeof(v->side));
		v->first_file = file;
		v->first_n = h->n;
		if (h->n == 0 && memcmp(h->prev, zero, SHA256_LEN) != 0)
			return fail(v, v->name, v->line, "the journal's first "
			    "record has a prev that is not zero (changed)");
	} else {
		if (strcmp(h->side, v->side) != 0)
			return fail(v, v->name, v->line, "a journal of side %s "
			    "continued by side %s", v->side, h->side);
		if (file != v->fileseq + 1)
			return fail(v, v->name, v->line, "chain broken across "
			    "a rotation: file %llu follows file %llu (%s)",
			    (unsigned long long)file,
			    (unsigned long long)v->fileseq, file > v->fileseq ?
			    "a file is missing" : "files out of order");
		if (h->n != v->last.n + 1 ||
		    memcmp(h->prev, v->last.hash, SHA256_LEN) != 0)
			return fail(v, v->name, v->line, "chain broken across "
			    "a rotation: the first record does not continue "
			    "%s:%llu", v->last.file,
			    (unsigned long long)v->last.line);
	}
	v->fileseq = file;
	v->last = *cur;
	v->have_last = 1;
	v->nrecords++;
	return 0;
}

int
audit_verify_line(struct audit_verify *v, const char *line, size_t len)
{
	struct audit_head	 h;
	struct seen		 cur;
	uint8_t			 sig[AUDIT_SIG_LEN];
	uint64_t		 file, exp;
	char			 reason[16];

	if (v->failed)
		return -EBADMSG;
	if (v->name[0] == '\0')
		snprintf(v->name, sizeof(v->name), "-");
	v->line++;
	/* Only a file's last line can lack its '\n'. */
	if (len == 0 || line[len - 1] != '\n')
		return fail(v, v->name, v->line, "truncated record (the "
		    "file ends inside a line)");
	len--;
	if (audit_parse_head(line, len, &h) != 0)
		return fail(v, v->name, v->line, "not a journal record "
		    "(inserted or damaged)");
	memset(&cur, 0, sizeof(cur));
	cur.n = h.n;
	cur.line = v->line;
	memcpy(cur.file, v->name, sizeof(cur.file));
	if (EVP_DigestInit_ex(v->hash, v->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(v->hash, line, len) != 1 ||
	    EVP_DigestFinal_ex(v->hash, cur.hash, NULL) != 1) {
		ERR_clear_error();
		return fail(v, v->name, v->line, "cannot hash the line");
	}
	if (v->line == 1)
		return file_start(v, &h, &cur);
	if (strcmp(h.side, v->side) != 0)
		return fail(v, v->name, v->line, "a record of side %s in a "
		    "journal of side %s (inserted)", h.side, v->side);

	if (v->held)
		return resolve_hold(v, 1, h.n);
	exp = v->last.n + 1;
	if (v->last.checkpoint && strcmp(v->last.reason, "rotate") == 0)
		return fail(v, v->name, v->line, "a record after the rotation "
		    "checkpoint (inserted)");
	if (h.n > exp) {
		/* Removed, or the first of two swapped: the next decides. */
		v->held = 1;
		v->hold = cur;
		return 0;
	}
	if (h.n < exp)
		return fail(v, v->name, v->line, "record n=%llu where n=%llu "
		    "was expected (inserted or duplicated)",
		    (unsigned long long)h.n, (unsigned long long)exp);
	if (memcmp(h.prev, v->last.hash, SHA256_LEN) != 0)
		return fail(v, v->last.file, v->last.line, "record changed: "
		    "its hash does not match the prev of the next record");

	if (strcmp(h.event, "file") == 0)
		return fail(v, v->name, v->line, "a file record inside a file "
		    "(inserted)");
	if (strcmp(h.event, "checkpoint") == 0) {
		if (audit_parse_checkpoint(&h, &file, reason, sig) != 0)
			return fail(v, v->name, v->line, "malformed checkpoint "
			    "(changed)");
		if (file != v->fileseq)
			return fail(v, v->name, v->line, "checkpoint of file "
			    "%llu in file %llu", (unsigned long long)file,
			    (unsigned long long)v->fileseq);
		if (check_signature(v, &h, file, reason, sig) != 0)
			return fail(v, v->name, v->line, "bad checkpoint "
			    "signature: forged, or not this side's key");
		cur.checkpoint = 1;
		memcpy(cur.reason, reason, sizeof(cur.reason));
		v->cp = cur;
		v->have_cp = 1;
		v->ncheckpoints++;
	}
	v->last = cur;
	v->nrecords++;
	return 0;
}

int
audit_verify_end(struct audit_verify *v)
{
	if (v->failed)
		return -EBADMSG;
	if (v->nfiles > 0 && v->line == 0)
		return fail(v, v->name, 0, "an empty file (not a journal "
		    "file, or all of it removed)");
	if (v->held && resolve_hold(v, 0, 0) != 0)
		return -EBADMSG;
	if (!v->have_last)
		return fail(v, v->name, v->line, "no records");
	if (v->key == NULL || v->live)
		return 0;
	if (!v->have_cp)
		return fail(v, v->last.file, v->last.line, "truncated tail: "
		    "no checkpoint signs any of the %llu records",
		    (unsigned long long)v->nrecords);
	if (!v->last.checkpoint)
		return fail(v, v->last.file, v->last.line, "truncated tail: "
		    "%llu records after the last checkpoint (%s:%llu) are not "
		    "signed (or the daemon is still running: --live)",
		    (unsigned long long)(v->last.n - v->cp.n),
		    v->cp.file, (unsigned long long)v->cp.line);
	if (strcmp(v->last.reason, "rotate") == 0)
		return fail(v, v->last.file, v->last.line, "chain broken "
		    "across a rotation: the next file is missing");
	if (strcmp(v->last.reason, "close") != 0)
		return fail(v, v->last.file, v->last.line, "truncated tail: "
		    "the journal ends at an interval checkpoint, not a closing "
		    "one (or the daemon is still running: --live)");
	return 0;
}

int
audit_verify_summary(const struct audit_verify *v, char *out, size_t size)
{
	uint64_t	 tail;
	int		 n;

	if (v->failed || !v->have_last)
		return -EINVAL;
	tail = v->have_cp ? v->last.n - v->cp.n :
	    v->last.n - v->first_n + 1;
	n = snprintf(out, size, "%s journal intact: %llu records (n %llu..%llu) "
	    "in %llu file%s (sequence %llu..%llu), %llu checkpoints%s%s",
	    v->side, (unsigned long long)v->nrecords,
	    (unsigned long long)v->first_n, (unsigned long long)v->last.n,
	    (unsigned long long)v->nfiles, v->nfiles == 1 ? "" : "s",
	    (unsigned long long)v->first_file,
	    (unsigned long long)v->fileseq,
	    (unsigned long long)v->ncheckpoints,
	    v->key == NULL ? ", signatures not checked" : "",
	    v->first_n > 0 ? ", starting after earlier files" : "");
	if (n >= 0 && (size_t)n < size && tail > 0 && v->live)
		snprintf(out + n, size - (size_t)n, ", %llu records after the "
		    "last checkpoint not yet signed", (unsigned long long)tail);
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Strict JSON parsing, schema checks, and the canonical JSON of payloads. */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"
#include "policy/policy.h"

#define SCHEMA_DEPTH_MAX	16	/* [ and { levels in a body */
#define SCHEMA_ECHO_MAX		64	/* bytes of client input in a message */
#define SCHEMA_PARSE_FLAGS	JSON_REJECT_DUPLICATES
/* JSON_ENCODE_ANY only lets scalars through; it changes no output bytes. */
#define SCHEMA_DUMP_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS | \
				 JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

#define TIMESTAMP_MIN_LEN	20	/* YYYY-MM-DDTHH:MM:SSZ */
#define TIMESTAMP_MAX_LEN	35	/* ... .123456789+HH:MM */

static void	 err_set(struct schema_error *, int, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
err_set(struct schema_error *err, int invalid_json, const char *field,
    const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->invalid_json = invalid_json;
	if (field != NULL)
		snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/*
 * A key the schema does not name. It is named back to the client only when
 * it is short printable ASCII, so the field never carries control bytes,
 * broken UTF-8 or more than POLICY_NAME_MAX bytes of client input.
 */
static void
err_unknown(struct schema_error *err, const char *untrusted_key, size_t len)
{
	size_t	 i;
	int	 printable;

	err_set(err, 0, NULL, "unknown field");
	if (err == NULL || len > POLICY_NAME_MAX)
		return;
	printable = 1;
	for (i = 0; i < len; i++) {
		if ((unsigned char)untrusted_key[i] < 0x20 ||
		    (unsigned char)untrusted_key[i] > 0x7e)
			printable = 0;
	}
	if (printable) {
		memcpy(err->field, untrusted_key, len);
		err->field[len] = '\0';
	}
}

/*
 * jansson's text may quote the input near the error (2.14: at most 20
 * bytes), which may be any bytes: drop a quote longer than SCHEMA_ECHO_MAX
 * whatever the jansson version, and keep printable ASCII only, so the
 * message is safe to log and to put in a JSON error body.
 */
static void
err_json(struct schema_error *err, const json_error_t *je)
{
	char		 text[JSON_ERROR_TEXT_LENGTH];
	const char	*near;
	size_t		 i, n;

	n = strnlen(je->text, sizeof(text) - 1);
	if ((near = memmem(je->text, n, " near '", 7)) != NULL &&
	    n - (size_t)(near - je->text) - 7 > SCHEMA_ECHO_MAX)
		n = (size_t)(near - je->text);
	for (i = 0; i < n; i++) {
		if ((unsigned char)je->text[i] < 0x20 ||
		    (unsigned char)je->text[i] > 0x7e)
			text[i] = '?';
		else
			text[i] = je->text[i];
	}
	text[i] = '\0';
	err_set(err, 1, NULL, "invalid JSON at line %d column %d: %s",
	    je->line, je->column, text);
}

static int
err_nomem(struct schema_error *err)
{
	err_set(err, 0, NULL, "out of memory");
	return -ENOMEM;
}

/*
 * Counts [ and { outside strings before jansson sees the bytes, so its
 * recursive descent never goes deeper than SCHEMA_DEPTH_MAX. Unbalanced or
 * otherwise broken input is left for jansson to reject.
 */
static int
json_depth_ok(const uint8_t *untrusted, size_t len)
{
	size_t	 i, depth = 0;
	int	 in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (untrusted[i] == '\\')
				i++;
			else if (untrusted[i] == '"')
				in_string = 0;
			continue;
		}
		switch (untrusted[i]) {
		case '"':
			in_string = 1;
			break;
		case '[':
		case '{':
			if (++depth > SCHEMA_DEPTH_MAX)
				return 0;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		}
	}
	return 1;
}

/* Strict parse of one JSON object or array; *ret on success only. */
static int
json_parse_strict(const void *untrusted, size_t len, json_t **ret,
    struct schema_error *err)
{
	json_error_t	 je;
	json_t		*j;

	if (untrusted == NULL && len != 0) {
		err_set(err, 1, NULL, "no body");
		return -EINVAL;
	}
	if (len > PAYLOAD_MAX) {
		err_set(err, 1, NULL, "body larger than %d bytes", PAYLOAD_MAX);
		return -EINVAL;
	}
	if (!json_depth_ok(untrusted, len)) {
		err_set(err, 1, NULL, "nesting deeper than %d",
		    SCHEMA_DEPTH_MAX);
		return -EINVAL;
	}
	/* A zero-length body may come with a NULL pointer. */
	memset(&je, 0, sizeof(je));
	if ((j = json_loadb(len ? untrusted : "", len, SCHEMA_PARSE_FLAGS,
	    &je)) == NULL) {
		/* jansson leaves no text when an allocation failed */
		if (json_error_code(&je) == json_error_out_of_memory ||
		    je.text[0] == '\0')
			return err_nomem(err);
		err_json(err, &je);
		return -EINVAL;
	}
	*ret = j;
	return 0;
}

/* Dumps into a buffer of at most PAYLOAD_MAX bytes, remembering why not. */
struct dump_buf {
	struct buf	 b;
	int		 r;
};

static int
dump_to_buf(const char *p, size_t n, void *arg)
{
	struct dump_buf	*d = arg;

	if ((d->r = buf_put(&d->b, p, n)) != 0)
		return -1;
	return 0;
}

/* The canonical text of j: 0, -ENOBUFS (over PAYLOAD_MAX) or -ENOMEM. */
static int
canonical_dump(const json_t *j, char **ret, size_t *ret_len)
{
	struct dump_buf	 d;
	int		 r;

	/* One byte more than the cap for the NUL. */
	buf_init(&d.b, PAYLOAD_MAX + 1);
	d.r = 0;
	if (json_dump_callback(j, dump_to_buf, &d, SCHEMA_DUMP_FLAGS) != 0) {
		/* jansson itself fails only for lack of memory */
		r = d.r != 0 ? d.r : -ENOMEM;
		goto out;
	}
	/* The NUL must fit too: a longer dump fails here with -ENOBUFS. */
	if ((r = buf_put_u8(&d.b, '\0')) != 0)
		goto out;
	*ret = (char *)d.b.data;
	if (ret_len != NULL)
		*ret_len = d.b.len - 1;
	d.b.data = NULL;
 out:
	buf_free(&d.b);
	return r;
}

char *
schema_canonical(const json_t *j, size_t *ret_len)
{
	char	*s;

	if (j == NULL || canonical_dump(j, &s, ret_len) != 0)
		return NULL;
	return s;
}

/* Compares a dump with expected bytes as it is produced: no allocation. */
struct dump_cmp {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 differ;
};

static int
dump_compare(const char *p, size_t n, void *arg)
{
	struct dump_cmp	*c = arg;

	if (n > c->len - c->off || memcmp(c->p + c->off, p, n) != 0) {
		c->differ = 1;
		return -1;
	}
	c->off += n;
	return 0;
}

/* 0 when j dumps to exactly the given bytes; -EINVAL if not; -ENOMEM. */
static int
canonical_equal(const json_t *j, const void *bytes, size_t len,
    struct schema_error *err)
{
	struct dump_cmp	 c = { bytes, len, 0, 0 };

	if (json_dump_callback(j, dump_compare, &c, SCHEMA_DUMP_FLAGS) != 0 &&
	    !c.differ)
		return err_nomem(err);
	if (c.differ || c.off != len) {
		err_set(err, 0, NULL, "payload is not canonical");
		return -EINVAL;
	}
	return 0;
}

/* Fields are sorted by strcmp; keys with a NUL inside never match. */
static const struct field *
field_find(const struct schema *s, const char *key, size_t keylen)
{
	size_t	 lo = 0, hi = s->nfields, mid;
	int	 c;

	if (strlen(key) != keylen)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(key, s->fields[mid].name)) == 0)
			return &s->fields[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* 1 if the string has more than max UTF-8 characters (s is valid UTF-8). */
static int
utf8_longer(const char *s, size_t len, size_t max)
{
	size_t	 i, n = 0;

	if (len <= max)
		return 0;
	if (len / 4 > max)
		return 1;
	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++n > max)
			return 1;
	}
	return 0;
}

/* Two decimal digits at s, or -1. */
static int
digits2(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int
days_in_month(int y, int m)
{
	static const int days[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* YYYY-MM-DD at s[0..9]: 0, -1 (not that shape) or -2 (not a real day). */
static int
date_check(const char *s)
{
	int	 hi, lo, y, m, d;

	if ((hi = digits2(s)) < 0 || (lo = digits2(s + 2)) < 0 ||
	    s[4] != '-' || (m = digits2(s + 5)) < 0 || s[7] != '-' ||
	    (d = digits2(s + 8)) < 0)
		return -1;
	y = hi * 100 + lo;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -2;
	return 0;
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|+HH:MM|-HH:MM).
 * T and Z may be lower case (RFC 3339 section 5.6); *ret_lower says so.
 * 0, -1 (not that shape) or -2 (not a real day or time).
 */
static int
timestamp_check(const char *s, size_t len, int *ret_lower)
{
	size_t	 i, start;
	int	 r, lower = 0, hh, mm, ss;

	if (len < TIMESTAMP_MIN_LEN || len > TIMESTAMP_MAX_LEN)
		return -1;
	r = date_check(s);
	if (s[10] == 't')
		lower = 1;
	else if (s[10] != 'T')
		return -1;
	if ((hh = digits2(s + 11)) < 0 || s[13] != ':' ||
	    (mm = digits2(s + 14)) < 0 || s[16] != ':' ||
	    (ss = digits2(s + 17)) < 0)
		return -1;
	i = 19;
	if (s[i] == '.') {
		start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return -1;
	}
	if (i >= len)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		lower |= s[i] == 'z';
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		int	 oh, om;

		if (len - i != 6 || (oh = digits2(s + i + 1)) < 0 ||
		    s[i + 3] != ':' || (om = digits2(s + i + 4)) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -2;
		i += 6;
	} else
		return -1;
	if (i != len || r == -1)
		return -1;
	if (r != 0 || hh > 23 || mm > 59 || ss > 60)
		return -2;
	*ret_lower = lower;
	return 0;
}

/* -1, 0, 1 as i is below, equal to or above d, exactly (d not NaN). */
static int
i64_cmp_double(int64_t i, double d)
{
	int64_t	 t;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	/* |d| < 2^63: truncation fits, and (double)t is exact. */
	t = (int64_t)d;
	if (i != t)
		return i < t ? -1 : 1;
	if (d > (double)t)
		return -1;
	if (d < (double)t)
		return 1;
	return 0;
}

static int
string_check(const struct field *f, const json_t *v, struct schema_error *err)
{
	const char	*s = json_string_value(v);
	size_t		 len = json_string_length(v);

	/* Parsed input cannot hold NUL; a value built by a caller might. */
	if (strlen(s) != len) {
		err_set(err, 0, f->name, "string contains NUL");
		return -EINVAL;
	}
	if (utf8_longer(s, len, f->max_len)) {
		err_set(err, 0, f->name, "longer than %zu characters",
		    f->max_len);
		return -EINVAL;
	}
	/* The pattern carries its own anchors. */
	if (f->pattern != NULL && regexec(&f->re, s, 0, NULL, 0) != 0) {
		err_set(err, 0, f->name, "does not match the pattern");
		return -EINVAL;
	}
	return 0;
}

static int
enum_check(const struct field *f, const json_t *v, struct schema_error *err)
{
	const char	*s = json_string_value(v);
	size_t		 i;

	if (strlen(s) == json_string_length(v)) {
		for (i = 0; i < f->nvalues; i++) {
			if (strcmp(s, f->values[i]) == 0)
				return 0;
		}
	}
	err_set(err, 0, f->name, "not one of the allowed values");
	return -EINVAL;
}

/* A new string: the valid timestamp v with t and z in upper case. */
static int
timestamp_upper(const json_t *v, json_t **ret, struct schema_error *err)
{
	char	 s[TIMESTAMP_MAX_LEN];
	size_t	 i, len = json_string_length(v);
	json_t	*c;

	if (len > sizeof(s))
		return -EINVAL;		/* checked by timestamp_check */
	memcpy(s, json_string_value(v), len);
	for (i = 0; i < len; i++) {
		if (s[i] == 't' || s[i] == 'z')
			s[i] = s[i] - 'a' + 'A';
	}
	if ((c = json_stringn_nocheck(s, len)) == NULL)
		return err_nomem(err);
	*ret = c;
	return 0;
}

/*
 * Checks v against f. When ret_canon is not NULL, *ret_canon is set on
 * success to a new reference to the value's canonical form: the validated
 * value itself (scalars are never changed in place), or for a timestamp
 * with lower-case t/z, a new string with them in upper case.
 */
static int
value_check(const struct field *f, const json_t *v, json_t **ret_canon,
    struct schema_error *err)
{
	const char	*what;
	int		 r, lower = 0;

	if (json_is_null(v)) {
		err_set(err, 0, f->name, "null value");
		return -EINVAL;
	}
	switch (f->type) {
	case FIELD_STRING:
		what = "a string";
		if (!json_is_string(v))
			goto wrong_type;
		if ((r = string_check(f, v, err)) != 0)
			return r;
		break;
	case FIELD_INTEGER:
		what = "an integer";
		if (!json_is_integer(v))
			goto wrong_type;
		if (json_integer_value(v) < f->imin ||
		    json_integer_value(v) > f->imax) {
			err_set(err, 0, f->name, "integer outside %lld..%lld",
			    (long long)f->imin, (long long)f->imax);
			return -EINVAL;
		}
		break;
	case FIELD_NUMBER:
		what = "a number";
		if (json_is_integer(v)) {
			int64_t	 i = json_integer_value(v);

			if (i64_cmp_double(i, f->nmin) < 0 ||
			    i64_cmp_double(i, f->nmax) > 0)
				goto number_range;
		} else if (json_is_real(v)) {
			if (!isfinite(json_real_value(v)))
				goto wrong_type;
			if (json_real_value(v) < f->nmin ||
			    json_real_value(v) > f->nmax)
				goto number_range;
		} else
			goto wrong_type;
		break;
	case FIELD_BOOLEAN:
		what = "true or false";
		if (!json_is_boolean(v))
			goto wrong_type;
		break;
	case FIELD_ENUM:
		what = "a string";
		if (!json_is_string(v))
			goto wrong_type;
		if ((r = enum_check(f, v, err)) != 0)
			return r;
		break;
	case FIELD_DATE:
		what = "a date YYYY-MM-DD";
		if (!json_is_string(v) || json_string_length(v) != 10 ||
		    (r = date_check(json_string_value(v))) == -1)
			goto wrong_type;
		if (r != 0) {
			err_set(err, 0, f->name, "not a calendar day");
			return -EINVAL;
		}
		break;
	case FIELD_TIMESTAMP:
		what = "an RFC 3339 timestamp";
		if (!json_is_string(v) ||
		    (r = timestamp_check(json_string_value(v),
		    json_string_length(v), &lower)) == -1)
			goto wrong_type;
		if (r != 0) {
			err_set(err, 0, f->name, "not a real date and time");
			return -EINVAL;
		}
		break;
	default:
		err_set(err, 0, f->name, "field of unknown type");
		return -EINVAL;
	}
	if (ret_canon == NULL)
		return 0;
	if (lower)
		return timestamp_upper(v, ret_canon, err);
	*ret_canon = json_incref((json_t *)v);
	return 0;

 number_range:
	err_set(err, 0, f->name, "number outside %.17g..%.17g", f->nmin,
	    f->nmax);
	return -EINVAL;
 wrong_type:
	err_set(err, 0, f->name, "expected %s", what);
	return -EINVAL;
}

int
schema_value(const struct field *f, const json_t *v, struct schema_error *err)
{
	if (f == NULL || v == NULL) {
		err_set(err, 0, f != NULL ? f->name : NULL, "no value");
		return -EINVAL;
	}
	return value_check(f, v, NULL, err);
}

/*
 * obj holds exactly the fields of s, each valid. With canon != NULL, each
 * field's canonical value is added to canon under the policy's name, so
 * canon is built from validated values only. what names obj in messages.
 */
static int
object_check(const struct schema *s, const json_t *obj, json_t *canon,
    const char *what, struct schema_error *err)
{
	const struct field	*f;
	const char		*untrusted_key;
	json_t			*untrusted_v, *cv;
	void			*it;
	size_t			 i, seen = 0;
	int			 r;

	if (!json_is_object(obj)) {
		err_set(err, 0, NULL, "%s must be an object", what);
		return -EINVAL;
	}
	for (it = json_object_iter((json_t *)obj); it != NULL;
	    it = json_object_iter_next((json_t *)obj, it)) {
		untrusted_key = json_object_iter_key(it);
		untrusted_v = json_object_iter_value(it);
		if ((f = field_find(s, untrusted_key,
		    json_object_iter_key_len(it))) == NULL) {
			err_unknown(err, untrusted_key,
			    json_object_iter_key_len(it));
			return -EINVAL;
		}
		if ((r = value_check(f, untrusted_v, canon ? &cv : NULL,
		    err)) != 0)
			return r;
		if (canon != NULL &&
		    json_object_set_new_nocheck(canon, f->name, cv) != 0)
			return err_nomem(err);
		seen++;
	}
	/* Keys are unique and each named a distinct field. */
	if (seen == s->nfields)
		return 0;
	for (i = 0; i < s->nfields; i++) {
		if (json_object_get(obj, s->fields[i].name) == NULL) {
			err_set(err, 0, s->fields[i].name, "missing field");
			return -EINVAL;
		}
	}
	err_set(err, 0, NULL, "missing field");	/* not reached */
	return -EINVAL;
}

/* Strict parse, schema check and the rebuilt object: *ret on success. */
static int
request_rebuild(const struct schema *s, const void *untrusted, size_t len,
    json_t **ret, struct schema_error *err)
{
	json_t	*untrusted_obj = NULL, *canon = NULL;
	int	 r;

	if (s == NULL) {
		err_set(err, 0, NULL, "no schema");
		return -EINVAL;
	}
	if ((r = json_parse_strict(untrusted, len, &untrusted_obj, err)) != 0)
		goto out;
	if ((canon = json_object()) == NULL) {
		r = err_nomem(err);
		goto out;
	}
	if ((r = object_check(s, untrusted_obj, canon, "the body", err)) != 0)
		goto out;
	*ret = canon;
	canon = NULL;
 out:
	json_decref(canon);
	json_decref(untrusted_obj);
	return r;
}

int
schema_request(const struct schema *s, const void *untrusted, size_t len,
    char **ret_canon, size_t *ret_len, struct schema_error *err)
{
	json_t	*canon = NULL;
	char	*out;
	size_t	 outlen;
	int	 r;

	if ((r = request_rebuild(s, untrusted, len, &canon, err)) != 0)
		goto out;
	if ((r = canonical_dump(canon, &out, &outlen)) != 0) {
		if (r == -ENOBUFS) {
			err_set(err, 0, NULL, "canonical payload larger "
			    "than %d bytes", PAYLOAD_MAX);
			r = -EINVAL;
		} else
			r = err_nomem(err);
		goto out;
	}
	*ret_canon = out;
	if (ret_len != NULL)
		*ret_len = outlen;
 out:
	json_decref(canon);
	return r;
}

int
schema_payload(const struct schema *s, const void *untrusted, size_t len,
    json_t **ret_obj, struct schema_error *err)
{
	json_t	*canon = NULL;
	int	 r;

	if ((r = request_rebuild(s, untrusted, len, &canon, err)) != 0)
		goto out;
	if ((r = canonical_equal(canon, untrusted, len, err)) != 0)
		goto out;
	if (ret_obj != NULL) {
		*ret_obj = canon;
		canon = NULL;
	}
 out:
	json_decref(canon);
	return r;
}

int
schema_row(const struct schema *s, const json_t *row,
    struct schema_error *err)
{
	if (s == NULL || row == NULL) {
		err_set(err, 0, NULL, "no row");
		return -EINVAL;
	}
	return object_check(s, row, NULL, "a row", err);
}

int
schema_reply(const struct message *m, const void *untrusted, size_t len,
    struct schema_error *err)
{
	json_t		*untrusted_obj = NULL, *rows;
	const char	*untrusted_key;
	void		*it;
	size_t		 i, keylen;
	int		 r;

	if (m == NULL) {
		err_set(err, 0, NULL, "no message");
		return -EINVAL;
	}
	if ((r = json_parse_strict(untrusted, len, &untrusted_obj, err)) != 0)
		goto out;
	r = -EINVAL;
	if (!json_is_object(untrusted_obj)) {
		err_set(err, 0, NULL, "the reply must be an object");
		goto out;
	}
	for (it = json_object_iter(untrusted_obj); it != NULL;
	    it = json_object_iter_next(untrusted_obj, it)) {
		untrusted_key = json_object_iter_key(it);
		keylen = json_object_iter_key_len(it);
		if (keylen != 4 || memcmp(untrusted_key, "rows", 4) != 0) {
			err_unknown(err, untrusted_key, keylen);
			goto out;
		}
	}
	if ((rows = json_object_get(untrusted_obj, "rows")) == NULL) {
		err_set(err, 0, "rows", "missing field");
		goto out;
	}
	if (!json_is_array(rows)) {
		err_set(err, 0, "rows", "expected an array");
		goto out;
	}
	if (json_array_size(rows) > m->reply_max_rows) {
		err_set(err, 0, "rows", "more than %u rows",
		    (unsigned)m->reply_max_rows);
		goto out;
	}
	for (i = 0; i < json_array_size(rows); i++) {
		if ((r = schema_row(&m->reply, json_array_get(rows, i),
		    err)) != 0) {
			if (err != NULL) {
				char	 msg[sizeof(err->message)];

				snprintf(msg, sizeof(msg), "row %zu: %.160s", i,
				    err->message);
				memcpy(err->message, msg, sizeof(msg));
			}
			goto out;
		}
	}
	if ((r = canonical_equal(untrusted_obj, untrusted, len, err)) == 0)
		r = (int)json_array_size(rows);	/* ≤ POLICY_ROWS_MAX */
 out:
	json_decref(untrusted_obj);
	return r;
}

/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The isogate authors */
/* Strict HTTP/1.1 request-head parsing and response framing for the extranet front. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "outer/outer.h"

/* RFC 9110 tchar. */
static int
is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP and HTAB; obs-text (0x80-0xff) is refused. */
static int
is_value_char(uint8_t c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e);
}

static int
token_eq(const uint8_t *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp((const char *)p, word, n) == 0;
}

/* Trims optional whitespace on both sides of [*p, *p + *n). */
static void
trim_ows(const uint8_t **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static int
parse_content_length(const uint8_t *v, size_t n, int64_t *ret)
{
	int64_t	 x = 0;
	size_t	 i;

	/* Digits only: no sign, no list ("5, 5"), at most 18 of them. */
	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	*ret = x;
	return 0;
}

static int
parse_content_type(const uint8_t *v, size_t n)
{
	const uint8_t	*semi, *param;
	size_t		 tn, pn;

	semi = memchr(v, ';', n);
	tn = semi ? (size_t)(semi - v) : n;
	trim_ows(&v, &tn);
	if (!token_eq(v, tn, "application/json"))
		return 0;
	if (semi == NULL)
		return 1;
	/* One parameter at most, and only the charset JSON is defined in. */
	param = semi + 1;
	pn = n - (size_t)(param - v);
	trim_ows(&param, &pn);
	return token_eq(param, pn, "charset=utf-8") ||
	    token_eq(param, pn, "charset=\"utf-8\"");
}

/* Connection: a comma-separated token list. */
static void
parse_connection(const uint8_t *v, size_t n, struct http_req *req)
{
	const uint8_t	*tok, *comma;
	size_t		 tn;

	while (n > 0) {
		comma = memchr(v, ',', n);
		tok = v;
		tn = comma ? (size_t)(comma - v) : n;
		v += tn + (comma ? 1 : 0);
		n -= tn + (comma ? 1 : 0);
		trim_ows(&tok, &tn);
		if (token_eq(tok, tn, "close"))
			req->keepalive = 0;
		else if (token_eq(tok, tn, "keep-alive") && req->minor == 0)
			req->keepalive = 1;
	}
}

static int
parse_request_line(const uint8_t *p, size_t n, struct http_req *req,
    int *status)
{
	size_t	 i = 0, m, t;

	for (m = 0; m < n && is_tchar(p[m]); m++)
		;
	if (m == 0 || m >= n || p[m] != ' ')
		return -1;
	req->method_ok = 1;
	req->post = m == 4 && memcmp(p, "POST", 4) == 0;
	i = m + 1;
	for (t = i; t < n && p[t] > 0x20 && p[t] < 0x7f; t++)
		;
	if (t == i || t >= n || p[t] != ' ')
		return -1;
	if (t - i > HTTP_TARGET_MAX) {
		*status = 414;
		return -1;
	}
	/* origin-form only: no absolute-form, authority-form or "*". */
	if (p[i] != '/')
		return -1;
	memcpy(req->target, p + i, t - i);
	req->target[t - i] = '\0';
	i = t + 1;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 ||
	    p[i + 6] != '.' || p[i + 5] < '0' || p[i + 5] > '9' ||
	    p[i + 7] < '0' || p[i + 7] > '9')
		return -1;
	if (p[i + 5] != '1' || (p[i + 7] != '0' && p[i + 7] != '1')) {
		*status = 505;
		return -1;
	}
	req->minor = p[i + 7] - '0';
	req->keepalive = req->minor == 1;
	return 0;
}

int
http_parse_head(const uint8_t *untrusted, size_t len,
    const struct http_limits *lim, struct http_req *ret, int *ret_status)
{
	static const struct http_limits defaults = {
		HTTP_HEAD_DEFAULT, HTTP_HEADERS_DEFAULT
	};
	struct http_req	 req;
	const uint8_t	*line, *eol, *colon, *v;
	size_t		 scan, i, ln, vn, end = 0;
	size_t		 nheaders = 0;
	int		 nhost = 0, ncl = 0, status = 400;

	if (lim == NULL)
		lim = &defaults;
	/* Find the blank line within the limit; a bare LF anywhere is refused
	 * (RFC 9112 allows it leniently; we do not, against smuggling). */
	scan = len < lim->head_max ? len : lim->head_max;
	for (i = 0; i < scan; i++) {
		if (untrusted[i] == '\n' && (i == 0 || untrusted[i - 1] != '\r'))
			goto bad;
		if (untrusted[i] == '\r' && i + 1 < scan &&
		    untrusted[i + 1] != '\n')
			goto bad;
		if (i >= 3 && memcmp(untrusted + i - 3, "\r\n\r\n", 4) == 0) {
			end = i + 1;
			break;
		}
	}
	if (end == 0) {
		if (len >= lim->head_max) {
			status = 431;
			goto bad;
		}
		return -EAGAIN;
	}

	memset(&req, 0, sizeof(req));
	req.content_length = -1;
	line = untrusted;
	eol = memchr(line, '\r', end);
	if (parse_request_line(line, (size_t)(eol - line), &req, &status) != 0)
		goto bad;
	status = 400;
	line = eol + 2;
	while (line < untrusted + end - 2) {
		eol = memchr(line, '\r', (size_t)(untrusted + end - line));
		ln = (size_t)(eol - line);
		if (++nheaders > lim->headers_max) {
			status = 431;
			goto bad;
		}
		/* obs-fold, and whitespace before the colon, are refused. */
		if (ln == 0 || line[0] == ' ' || line[0] == '\t')
			goto bad;
		if ((colon = memchr(line, ':', ln)) == NULL || colon == line)
			goto bad;
		for (v = line; v < colon; v++)
			if (!is_tchar(*v))
				goto bad;
		v = colon + 1;
		vn = ln - (size_t)(v - line);
		for (i = 0; i < vn; i++)
			if (!is_value_char(v[i]))
				goto bad;
		trim_ows(&v, &vn);
		ln = (size_t)(colon - line);
		if (token_eq(line, ln, "content-length")) {
			if (ncl++ > 0 ||
			    parse_content_length(v, vn, &req.content_length) != 0)
				goto bad;
		} else if (token_eq(line, ln, "transfer-encoding")) {
			req.transfer_encoding = 1;
		} else if (token_eq(line, ln, "content-type")) {
			if (req.has_ctype++)
				goto bad;
			req.ctype_json = parse_content_type(v, vn);
		} else if (token_eq(line, ln, "connection")) {
			parse_connection(v, vn, &req);
		} else if (token_eq(line, ln, "host")) {
			if (nhost++ > 0 || vn == 0)
				goto bad;
		} else if (token_eq(line, ln, "idempotency-key")) {
			/* Printable, no spaces, bounded; else refused at
			 * admission with 400. */
			if (req.has_idem++ || vn == 0 || vn > HTTP_IDEM_MAX)
				req.idem_bad = 1;
			for (i = 0; !req.idem_bad && i < vn; i++)
				if (v[i] <= 0x20 || v[i] >= 0x7f)
					req.idem_bad = 1;
			if (!req.idem_bad) {
				memcpy(req.idem, v, vn);
				req.idem[vn] = '\0';
			}
		} else if (token_eq(line, ln, "expect")) {
			if (!token_eq(v, vn, "100-continue")) {
				status = 417;
				goto bad;
			}
			req.expect_continue = 1;
		}
		line = eol + 2;
	}
	/* Both framings at once is the classic smuggling vector; chunked
	 * bodies are not accepted at all, so any Transfer-Encoding is
	 * refused here and the connection closed. */
	if (req.transfer_encoding)
		goto bad;
	if (req.minor == 1 && nhost != 1)
		goto bad;
	req.head_len = end;
	*ret = req;
	return 0;
 bad:
	*ret_status = status;
	return -EBADMSG;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 422: return "Unprocessable Content";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

int
http_response(struct buf *out, int status, const char *idhex,
    const char *body, size_t bodylen, int keepalive, const char *extra)
{
	int	 r;

	/* Pieces, not printf: this runs once per response. */
	if ((r = buf_put_str(out, "HTTP/1.1 ")) != 0 ||
	    (r = buf_put_dec(out, status)) != 0 ||
	    (r = buf_put_u8(out, ' ')) != 0 ||
	    (r = buf_put_str(out, http_reason(status))) != 0 ||
	    (r = buf_put_str(out, "\r\nContent-Type: application/json\r\n"
	    "Content-Length: ")) != 0 ||
	    (r = buf_put_dec(out, (int64_t)bodylen)) != 0 ||
	    (r = buf_put_str(out, "\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\nX-Isogate-Id: ")) != 0 ||
	    (r = buf_put_str(out, idhex)) != 0 ||
	    (r = buf_put_str(out, keepalive ? "\r\n" :
	    "\r\nConnection: close\r\n")) != 0 ||
	    (extra != NULL && (r = buf_put_str(out, extra)) != 0) ||
	    (r = buf_put(out, "\r\n", 2)) != 0)
		return r;
	return buf_put(out, body, bodylen);
}

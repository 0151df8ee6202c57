#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
"""Sends many hostile or rate-testing HTTP requests to outer and checks every answer.

    hammer.py hostile --port P [--count 1000] [--seed 1]
        A deterministic mix of hostile requests (bad JSON, wrong types, huge
        fields, SQL injection strings, unknown types, wrong methods, wrong
        peers, malformed HTTP). Each answer must be one of the statuses the
        HTTP contract allows for that defect (429 always allowed), with a
        JSON error body whose "error" matches the status and whose "id"
        equals X-Isogate-Id. Never a 2xx or 5xx, never a hang.
    hammer.py burst --port P --source ADDR --type TYPE --body JSON [--max N]
        Keep-alive requests from ADDR on 4 connections until one is answered
        429; prints that answer.

Prints one JSON object on stdout; exit status 0 when every check held.
"""

import argparse
import http.client
import json
import random
import re
import socket
import sys
import threading

ERROR_FOR = {400: {"invalid_json", "schema"}, 401: {"unauthenticated"},
             403: {"forbidden"}, 404: {"unknown_type"},
             405: {"method_not_allowed"}, 411: {"length_required"},
             413: {"too_large"}, 415: {"unsupported_media_type"},
             429: {"rate_limited"}}
WECHAT, CMIOT, STRANGER = "127.0.0.1", "127.0.0.2", "127.0.0.3"
ID_RE = re.compile(r"^[0-9a-f]{32}$")

INJECTIONS = [
    "0000000001' OR '1'='1", "0000000001; DROP TABLE bills;--",
    "' UNION SELECT * FROM payments--", "0000000001\" OR \"\"=\"",
    "2026-01' OR 1=1--", "1) OR (1=1", "%27%20OR%201=1", "\\'; --",
    "0000000001\u0000", "0000000001\n", ":customer_id", "?", "*",
]


def valid_bill(rnd):
    return {"customer_id": "%010d" % rnd.randint(1, 1000),
            "month": "2026-%02d" % rnd.randint(1, 12)}


def valid_payment(rnd):
    return {"payment_id": "HOSTILE%012d" % rnd.randint(0, 10**12),
            "customer_id": "%010d" % rnd.randint(1, 1000),
            "amount_cents": rnd.randint(1, 10**6),
            "paid_at": "2026-03-15T10:00:00Z"}


def valid_usage(rnd):
    return {"iccid": "8986%016d" % rnd.randint(0, 10**15), "day": "2026-03-15",
            "bytes_used": rnd.randint(0, 10**9), "status": "active"}


def enc(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def hostile_case(rnd, i):
    """Returns (source, method, path, headers, body, allowed statuses, raw).

    raw is None or the exact bytes to send (malformed HTTP, relaxed checks).
    """
    ct = {"Content-Type": "application/json"}
    kind = i % 16
    if kind == 0:       # broken JSON
        body = rnd.choice([b"{", b"}", b"{\"customer_id\":", b"nope",
                           b"{\"customer_id\":\"0000000001\",}",
                           b"{'customer_id':'0000000001'}", b"\xff\xfe{}",
                           b"{\"a\":\"\xc3\x28\"}", b"[]", b"null", b"1",
                           b"\"str\"", b"{}{}", b"{\"a\":1} x",
                           b"{\"customer_id\":\"\\ud800\"}",
                           b"{\"month\":1,\"month\":2}", b"",
                           b"[" * 2000 + b"]" * 2000,
                           b"{\"a\":" * 100 + b"1" + b"}" * 100])
        # an empty or non-object body may also be a schema error
        return WECHAT, "POST", "/v1/bill.query", ct, body, {400}, None
    if kind == 1:       # SQL injection in pattern-checked strings
        b = valid_bill(rnd)
        b[rnd.choice(["customer_id", "month"])] = rnd.choice(INJECTIONS)
        return WECHAT, "POST", "/v1/bill.query", ct, enc(b), {400}, None
    if kind == 2:       # wrong JSON types
        b = valid_bill(rnd)
        b[rnd.choice(list(b))] = rnd.choice([1, 1.5, True, None, [], {},
                                             ["0000000001"], -1, 10**30])
        return WECHAT, "POST", "/v1/bill.query", ct, enc(b), {400}, None
    if kind == 3:       # unknown and missing fields
        b = valid_bill(rnd)
        if rnd.random() < 0.5:
            b["x" * rnd.randint(1, 300)] = "1"
        else:
            del b[rnd.choice(list(b))]
        return WECHAT, "POST", "/v1/bill.query", ct, enc(b), {400}, None
    if kind == 4:       # huge fields: over the string limit, or the body limit
        b = valid_bill(rnd)
        size = rnd.choice([300, 5000, 200000])
        b["customer_id"] = "0" * size
        return WECHAT, "POST", "/v1/bill.query", ct, enc(b), {400, 413}, None
    if kind == 5:       # payment with hostile values
        p = valid_payment(rnd)
        field, value = rnd.choice([
            ("amount_cents", 0), ("amount_cents", -5), ("amount_cents", 1.5),
            ("amount_cents", "100"), ("amount_cents", 2**64),
            ("payment_id", "short"), ("payment_id", "lower0000000000000000"),
            ("payment_id", rnd.choice(INJECTIONS)),
            ("paid_at", "2026-02-30T10:00:00Z"), ("paid_at", "yesterday"),
            ("paid_at", "2026-03-15 10:00:00"), ("customer_id", None)])
        p[field] = value
        return WECHAT, "POST", "/v1/payment.record", ct, enc(p), {400}, None
    if kind == 6:       # card usage with hostile values
        u = valid_usage(rnd)
        field, value = rnd.choice([
            ("status", "deleted"), ("status", "ACTIVE"), ("status", ""),
            ("bytes_used", -1), ("bytes_used", 1099511627777),
            ("day", "2026-13-01"), ("day", "2025-02-29"), ("day", "0000-01-01"),
            ("iccid", "898600"), ("iccid", rnd.choice(INJECTIONS))])
        u[field] = value
        return CMIOT, "POST", "/v1/iotcard.usage", ct, enc(u), {400}, None
    if kind == 7:       # unknown types
        path = rnd.choice(["/v1/bill.delete", "/v1/", "/v1/..%2f..%2fetc",
                           "/v1/bill.query.x", "/v1/BILL.QUERY",
                           "/v1/" + "a" * 200, "/v1/bills"])
        return WECHAT, "POST", path, ct, enc(valid_bill(rnd)), {404}, None
    if kind == 8:       # wrong methods
        method = rnd.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
        return WECHAT, method, "/v1/bill.query", ct, b"", {405}, None
    if kind == 9:       # wrong content type
        h = {"Content-Type": rnd.choice(["text/plain", "application/xml",
                                         "application/x-www-form-urlencoded",
                                         "multipart/form-data"])}
        return WECHAT, "POST", "/v1/bill.query", h, enc(valid_bill(rnd)), \
            {415}, None
    if kind == 10:      # unknown peer
        return STRANGER, "POST", "/v1/bill.query", ct, enc(valid_bill(rnd)), \
            {401}, None
    if kind == 11:      # peer not allowed for the type
        return CMIOT, "POST", "/v1/bill.query", ct, enc(valid_bill(rnd)), \
            {403}, None
    if kind == 12:      # duplicate keys, with a smuggled second value
        body = (b"{\"customer_id\":\"0000000001\",\"month\":\"2026-01\","
                b"\"customer_id\":\"0000000001' OR '1'='1\"}")
        return WECHAT, "POST", "/v1/bill.query", ct, body, {400}, None
    if kind == 13:      # deep nesting inside a field
        b = valid_bill(rnd)
        b["month"] = json.loads("[" * 15 + "1" + "]" * 15)
        return WECHAT, "POST", "/v1/bill.query", ct, enc(b), {400}, None
    if kind == 14:      # unicode tricks
        b = valid_bill(rnd)
        b["customer_id"] = rnd.choice(["\u0660" * 10, "000000000\u0661",
                                       "0000000001\u202e", "\uff10" * 10])
        return WECHAT, "POST", "/v1/bill.query", ct, enc(b), {400}, None
    # kind 15: malformed HTTP; any 4xx, 505 or a closed connection will do
    raw = rnd.choice([
        b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}",
        b"GARBAGE\r\n\r\n", b"POST\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
        b"POST /v1/bill.query HTTP/9.9\r\n\r\n",
        b"POST /v1/bill.query HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n",
        b"POST /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    ])
    return WECHAT, None, None, None, None, None, raw


def read_response(sock):
    """Reads one whole response (the request asked for Connection: close)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        if len(data) > 4 * 1024 * 1024:
            return data


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def check_answer(method, status, headers, body, allowed):
    """Returns a problem string, or None when the answer is right."""
    if status not in allowed and status != 429:
        return "status %d, expected one of %s" % (status, sorted(allowed))
    xid = headers.get("x-isogate-id", "")
    if not ID_RE.match(xid):
        return "X-Isogate-Id missing or not 32 hex: %r" % xid
    if method == "HEAD":
        return None
    try:
        obj = json.loads(body)
    except ValueError:
        return "body is not JSON: %r" % body[:200]
    if not isinstance(obj, dict):
        return "body is not an object"
    if obj.get("error") not in ERROR_FOR.get(status, set()):
        return "error %r does not fit status %d" % (obj.get("error"), status)
    if obj.get("id") != xid:
        return "body id %r differs from X-Isogate-Id" % obj.get("id")
    if not isinstance(obj.get("message"), str) or not obj["message"]:
        return "no message"
    return None


class Problem(Exception):
    pass


def one_hostile(port, case, timeout):
    """Sends one case; returns what came back ("400", "raw 431", "closed")
    or raises Problem."""
    src, method, path, headers, body, allowed, raw = case
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(src, 0))
    try:
        if raw is None:
            req = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1",
                   "Connection: close"]
            for k, v in headers.items():
                req.append("%s: %s" % (k, v))
            if method in ("POST", "PUT", "PATCH") or body:
                req.append("Content-Length: %d" % len(body))
            data = ("\r\n".join(req) + "\r\n\r\n").encode() + body
        else:
            data = raw
        try:
            s.sendall(data)
            if raw is not None:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass        # the server may answer early and close
        try:
            resp = read_response(s)
        except (ConnectionResetError, OSError) as e:
            if isinstance(e, socket.timeout):
                raise
            resp = b""
    finally:
        s.close()
    if raw is not None:
        if not resp:
            return "closed"
        status, _, _ = parse_response(resp)
        if 400 <= status < 500 or status == 505:
            return "raw %d" % status
        raise Problem("malformed HTTP %r answered %r" % (raw[:60], resp[:100]))
    if not resp:
        if 413 in allowed:
            return "closed"     # refused while the body was still being sent
        raise Problem("no answer to %s %s" % (method, path[:60]))
    status, hdrs, rbody = parse_response(resp)
    problem = check_answer(method, status, hdrs, rbody, allowed)
    if problem:
        raise Problem("%s %s %r: %s" % (method, path[:60], body[:80], problem))
    return str(status)


def hostile(args):
    rnd = random.Random(args.seed)
    cases = [hostile_case(rnd, i) for i in range(args.count)]
    rnd.shuffle(cases)
    statuses, problems, lock = {}, [], threading.Lock()
    it = iter(cases)

    def worker():
        while True:
            with lock:
                case = next(it, None)
            if case is None:
                return
            try:
                r, problem = one_hostile(args.port, case, args.timeout), None
            except Problem as e:
                r, problem = None, str(e)
            except OSError as e:
                r, problem = None, "%s: %r" % (case[2] or "raw", e)
            with lock:
                if problem is not None:
                    problems.append(problem)
                else:
                    statuses[r] = statuses.get(r, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {"sent": len(cases), "statuses": statuses,
           "problems": len(problems), "examples": problems[:10]}
    print(json.dumps(out, sort_keys=True))
    return 0 if not problems else 1


def burst(args):
    body = args.body.encode()
    found, stop, lock = [], threading.Event(), threading.Lock()
    sent = [0]

    def worker():
        conn = None
        while not stop.is_set():
            with lock:
                if sent[0] >= args.max:
                    return
                sent[0] += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", args.port, timeout=args.timeout,
                        source_address=(args.source, 0))
                conn.request("POST", "/v1/" + args.type, body,
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                rbody = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                continue
            if r.status == 429:
                with lock:
                    found.append({"status": r.status,
                                  "id": r.getheader("X-Isogate-Id", ""),
                                  "body": rbody.decode("utf-8", "replace")})
                stop.set()
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {"sent": sent[0], "first_429": found[0] if found else None}
    print(json.dumps(out, sort_keys=True))
    return 0 if found else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    h = sub.add_parser("hostile")
    h.add_argument("--count", type=int, default=1000)
    h.add_argument("--seed", type=int, default=1)
    h.add_argument("--threads", type=int, default=4)
    b = sub.add_parser("burst")
    b.add_argument("--source", required=True)
    b.add_argument("--type", required=True)
    b.add_argument("--body", required=True)
    b.add_argument("--max", type=int, default=5000)
    for q in (h, b):
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()
    sys.exit(hostile(args) if args.mode == "hostile" else burst(args))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
"""Hostile TLS clients for outer's limits and strict parsing; prints TAP lines.

    tlsprobe.py cases --port P --pki DIR --audit FILE
        The framing, smuggling and hostile-body cases over TLS with the
        wechat-app certificate: each answer's status, JSON error body,
        X-Isogate-Id, whether the connection closed, outer's audit record of
        that id, and a valid query answered 200 afterwards.
    tlsprobe.py slow --port P --pki DIR --what head|body|handshake
            --deadline S [--interval S]
        A slowloris client that trickles one byte per interval and never
        finishes: outer must cut it at its deadline (not before), with 408
        request_timeout for a request, or by closing a handshake.
    tlsprobe.py idle --port P --pki DIR --deadline S
        A handshaken connection that sends nothing: closed at the idle
        deadline.
    tlsprobe.py hold --port P --pki DIR [--tcp N] [--tls N] [--cert NAME]
        Opens N plain TCP connections that never start a handshake and N
        handshaken TLS connections, prints "ready TCP TLS", holds them until
        stdin closes, then prints how many outer had closed meanwhile.
    tlsprobe.py keep429 --port P --pki DIR
        On one keep-alive connection: a bill.query whose body is a whole
        smuggled payment.record request, expected to be refused 429 with the
        connection kept; then, after a line on stdin, a valid query on the
        same connection, expected 200 (the smuggled bytes were skipped).
    tlsprobe.py flood --port P --pki DIR --cert NAME --source ADDR
            --type T --body JSON --seconds S [--conns N]
        Keep-alive TLS clients sending as fast as they can; prints the count
        of each status as JSON.
"""

import argparse
import json
import os
import re
import resource
import select
import socket
import ssl
import sys
import threading
import time

ID_RE = re.compile(r"^[0-9a-f]{32}$")
SOURCES = {"wechat-app": "127.0.0.1", "cmiot-operator": "127.0.0.2"}
VALID_BILL = b'{"customer_id":"0000000123","month":"2026-06"}'

TESTS = [0]


def tap(ok, name, *diag):
    TESTS[0] += 1
    print("%s - %s" % ("ok" if ok else "not ok", name))
    if not ok:
        for d in diag:
            for line in str(d).splitlines():
                print("# " + line)
    sys.stdout.flush()
    return ok


def context(pki, cert):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                     cafile=os.path.join(pki, "ca.crt"))
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(os.path.join(pki, cert + ".crt"),
                            os.path.join(pki, cert + ".key"))
    return ctx


def connect(args, cert="wechat-app", timeout=10.0):
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=timeout,
                                   source_address=(SOURCES[cert], 0))
    return context(args.pki, cert).wrap_socket(raw)


def request(path, body, headers=None, method="POST"):
    h = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    hdrs = {"Content-Type": "application/json",
            "Content-Length": str(len(body))}
    hdrs.update(headers or {})
    for k, v in hdrs.items():
        if v is not None:
            h.append("%s: %s" % (k, v))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def read_one(sock, deadline):
    """Reads one response; returns (status, headers, body, closed)."""
    data = b""
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    closed = False
    need = None
    while True:
        if need is not None and len(data) >= need:
            break
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            chunk = b""
        except socket.timeout:
            break
        if not chunk:
            closed = True
            break
        data += chunk
        if need is None and b"\r\n\r\n" in data:
            head = data.split(b"\r\n\r\n", 1)[0]
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            need = len(head) + 4 + (int(m.group(1)) if m else 0)
    if not data:
        return 0, {}, b"", closed
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if not closed and headers.get("connection", "").lower() == "close":
        # It said it would close: see that it does.
        try:
            sock.settimeout(3)
            closed = sock.recv(1) == b""
        except (ssl.SSLError, OSError):
            closed = True
    return status, headers, body, closed


def audit_record(path, xid, wait=3.0):
    end = time.monotonic() + wait
    while True:
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if xid in line:
                        try:
                            rec = json.loads(line)
                        except ValueError:
                            continue
                        if rec.get("id") == xid:
                            return rec
        except OSError:
            pass
        if time.monotonic() > end:
            return None
        time.sleep(0.1)


def big_head(n):
    return (b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nX-Pad: " + b"a" * n +
            b"\r\nContent-Length: 2\r\n\r\n{}")


def many_headers(n):
    return (b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" +
            b"".join(b"X-%d: y\r\n" % i for i in range(n)) +
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


INJECTIONS = ["0000000001' OR '1'='1", "0000000001; DROP TABLE bills;--",
              "' UNION SELECT * FROM payments--", "1) OR (1=1",
              "0000000001\" OR \"\"=\"", "'; ATTACH DATABASE '/tmp/x' AS x;--"]


def cases(args):
    """(name, bytes, status, error token, field or None, must close)."""
    ct = "Content-Type: application/json\r\n"
    out = [
        ("Content-Length with Transfer-Encoding",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400, "bad_request", None, True),
        ("Transfer-Encoding chunked alone",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400, "bad_request", None, True),
        ("duplicate Content-Length, same value",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
         400, "bad_request", None, True),
        ("conflicting Content-Length",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
         400, "bad_request", None, True),
        ("Content-Length list",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Content-Length: 2, 2\r\n\r\n{}", 400, "bad_request", None, True),
        ("Content-Length with a sign",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Content-Length: +2\r\n\r\n{}", 400, "bad_request", None, True),
        ("bare LF line ends",
         b"POST /v1/bill.query HTTP/1.1\nHost: x\n" +
         b"Content-Type: application/json\nContent-Length: 2\n\n{}",
         400, "bad_request", None, True),
        ("bare CR inside a header",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\rX: y\r\n" + ct.encode() +
         b"Content-Length: 2\r\n\r\n{}", 400, "bad_request", None, True),
        ("obs-fold continuation line",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"X-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}",
         400, "bad_request", None, True),
        ("whitespace before the colon",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\n" + ct.encode() +
         b"Content-Length : 2\r\n\r\n{}", 400, "bad_request", None, True),
        ("no Host header",
         b"POST /v1/bill.query HTTP/1.1\r\n" + ct.encode() +
         b"Content-Length: 2\r\n\r\n{}", 400, "bad_request", None, True),
        ("two Host headers",
         b"POST /v1/bill.query HTTP/1.1\r\nHost: x\r\nHost: y\r\n" +
         ct.encode() + b"Content-Length: 2\r\n\r\n{}",
         400, "bad_request", None, True),
        ("method with a control byte",
         b"PO\x01ST /v1/bill.query HTTP/1.1\r\nHost: x\r\n\r\n",
         400, "bad_request", None, True),
        ("method GET", request("/v1/bill.query", b"", method="GET"),
         405, "method_not_allowed", None, True),
        ("absolute-form target",
         request("http://evil.example/v1/bill.query", VALID_BILL),
         400, "bad_request", None, True),
        ("asterisk target", request("*", VALID_BILL),
         400, "bad_request", None, True),
        ("dot segments in the target",
         request("/v1/../v1/bill.query", VALID_BILL),
         404, "unknown_type", None, True),
        ("query string on the target",
         request("/v1/bill.query?customer_id=1", VALID_BILL),
         404, "unknown_type", None, True),
        ("percent-encoded target", request("/v1/bill%2equery", VALID_BILL),
         404, "unknown_type", None, True),
        ("HTTP/2.0 request line", request("/v1/bill.query", VALID_BILL)
         .replace(b"HTTP/1.1", b"HTTP/2.0", 1), 505, "http_version", None,
         True),
        ("text/plain body", request("/v1/bill.query", VALID_BILL,
                                    {"Content-Type": "text/plain"}),
         415, "unsupported_media_type", None, True),
        ("application/jsonx body", request("/v1/bill.query", VALID_BILL,
                                           {"Content-Type":
                                            "application/jsonx"}),
         415, "unsupported_media_type", None, True),
        ("no Content-Length", request("/v1/bill.query", VALID_BILL,
                                      {"Content-Length": None}),
         411, "length_required", None, True),
        ("head over limit header-size", big_head(args.header_size),
         431, "header_too_large", None, True),
        ("headers over limit headers", many_headers(args.headers),
         431, "header_too_large", None, True),
        ("body over the type's largest valid body",
         request("/v1/bill.query", b'{"customer_id":"' + b"0" * 200000 +
                 b'","month":"2026-01"}'), 413, "too_large", None, True),
        ("field over its length",
         request("/v1/payment.record", json.dumps(
             {"payment_id": "A" * 40, "customer_id": "0000000001",
              "amount_cents": 1, "paid_at": "2026-01-01T00:00:00Z"})
             .encode()), 400, "schema", "payment_id", False),
        ("nesting 1,000 deep", request("/v1/bill.query",
                                       b'{"month":' + b"[" * 1000 +
                                       b"]" * 1000 + b"}"),
         400, "invalid_json", None, False),
        ("invalid UTF-8 in a string", request(
            "/v1/bill.query", b'{"customer_id":"00000\xc3\x28","month":'
            b'"2026-01"}'), 400, "invalid_json", None, False),
        ("overlong UTF-8 encoding", request(
            "/v1/bill.query", b'{"customer_id":"\xc0\xaf","month":'
            b'"2026-01"}'), 400, "invalid_json", None, False),
        ("lone surrogate escape", request(
            "/v1/bill.query", b'{"customer_id":"\\ud800","month":'
            b'"2026-01"}'), 400, "invalid_json", None, False),
        ("duplicate keys", request(
            "/v1/bill.query", b'{"customer_id":"0000000001","month":'
            b'"2026-01","customer_id":"0000000002"}'),
         400, "invalid_json", None, False),
        ("NUL inside a string", request(
            "/v1/bill.query", b'{"customer_id":"000000000\\u0000",'
            b'"month":"2026-01"}'), 400, "invalid_json", None, False),
    ]
    for field in ("customer_id", "month"):
        for i, inj in enumerate(INJECTIONS):
            b = {"customer_id": "0000000001", "month": "2026-01"}
            b[field] = inj
            out.append(("bill.query %s SQL injection %d" % (field, i + 1),
                        request("/v1/bill.query", json.dumps(b).encode()),
                        400, "schema", field, False))
    for field in ("payment_id", "customer_id", "paid_at"):
        for i, inj in enumerate(INJECTIONS):
            b = {"payment_id": "PAY0000000000001", "customer_id":
                 "0000000001", "amount_cents": 1,
                 "paid_at": "2026-01-01T00:00:00Z"}
            b[field] = inj
            out.append(("payment.record %s SQL injection %d" % (field, i + 1),
                        request("/v1/payment.record",
                                json.dumps(b).encode()),
                        400, "schema", field, False))
    return out


def valid_query(args):
    """A valid bill.query on a fresh connection: its status (retries 429)."""
    status = 0
    for _ in range(20):
        try:
            s = connect(args)
            s.sendall(request("/v1/bill.query", VALID_BILL,
                              {"Connection": "close"}))
            status = read_one(s, time.monotonic() + 10)[0]
            s.close()
        except OSError:
            status = 0
        if status != 429:
            return status
        time.sleep(0.2)
    return status


def run_cases(args):
    failed = 0
    for name, data, status, token, field, must_close in cases(args):
        try:
            s = connect(args)
            try:
                s.sendall(data)
            except OSError:
                pass        # answered early (413) and closed
            st, hdrs, body, closed = read_one(s, time.monotonic() + 10)
            s.close()
        except OSError as e:
            st, hdrs, body, closed = 0, {}, repr(e).encode(), True
        try:
            obj = json.loads(body)
        except ValueError:
            obj = None
        xid = hdrs.get("x-isogate-id", "")
        problems = []
        if st != status:
            problems.append("status %d, expected %d" % (st, status))
        if not isinstance(obj, dict) or obj.get("error") != token:
            problems.append("error is not %s" % token)
        elif obj.get("id") != xid or not ID_RE.match(xid):
            problems.append("body id differs from X-Isogate-Id")
        elif not obj.get("message"):
            problems.append("no message")
        elif field is not None and obj.get("field") != field:
            problems.append("field is not %s" % field)
        if must_close and not closed:
            problems.append("the connection stayed open")
        if not problems:
            rec = audit_record(args.audit, xid)
            if rec is None:
                problems.append("no outer audit record with id %s" % xid)
            elif (rec.get("decision") != "deny" or
                  rec.get("status") != status or
                  rec.get("reason") != token or
                  rec.get("peer") != "wechat-app"):
                problems.append("audit record: %s" % json.dumps(rec))
        after = valid_query(args)
        if after != 200:
            problems.append("a valid query afterwards got %d" % after)
        if not tap(not problems, "%s: %d %s%s, audited, then a valid query"
                   " 200" % (name, status, token,
                             " (closed)" if must_close else ""),
                   *(problems + ["answer: %d %r" % (st, body[:300])])):
            failed += 1
    return 1 if failed else 0


def slow(args):
    start = time.monotonic()
    if args.what == "handshake":
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=30)
        # The first bytes of a TLS ClientHello, one at a time, forever.
        hello = bytes.fromhex("16030100c8010000c40303") + os.urandom(190)
        closed_at = None
        for b in hello:
            try:
                raw.sendall(bytes([b]))
            except OSError:
                closed_at = time.monotonic()
                break
            r, _, _ = select.select([raw], [], [], args.interval)
            if r:
                try:
                    data = raw.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed_at = time.monotonic()
                    break
        raw.close()
        took = (closed_at or time.monotonic()) - start
        ok = closed_at is not None and args.deadline - 0.3 <= took <= \
            args.deadline + 3
        return 0 if tap(ok, "a handshake trickled one byte per %.1fs is cut "
                        "at the handshake deadline (%.1fs; took %.1fs)" % (
                            args.interval, args.deadline, took),
                        "closed: %s" % (closed_at is not None)) else 1
    s = connect(args)
    start = time.monotonic()
    if args.what == "head":
        data = request("/v1/bill.query", VALID_BILL)
    else:
        data = request("/v1/bill.query", VALID_BILL)
        head, _, body = data.partition(b"\r\n\r\n")
        s.sendall(head + b"\r\n\r\n")
        data = body
    answer = b""
    for b in data:
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        r, _, _ = select.select([s], [], [], args.interval)
        if r:
            try:
                answer = s.recv(65536)
            except (ssl.SSLError, OSError):
                pass
            break
        if time.monotonic() - start > args.deadline + 10:
            break
    took = time.monotonic() - start
    st, _, body, closed = 0, {}, b"", False
    if answer:
        rest = answer
        try:
            s.settimeout(3)
            while True:
                more = s.recv(65536)
                if not more:
                    closed = True
                    break
                rest += more
        except (ssl.SSLError, OSError):
            closed = True
        head, _, body = rest.partition(b"\r\n\r\n")
        first = head.split(b"\r\n", 1)[0].split(b" ")
        st = int(first[1]) if len(first) > 1 and first[1].isdigit() else 0
    s.close()
    try:
        err = json.loads(body).get("error")
    except (ValueError, AttributeError):
        err = None
    ok = (st == 408 and err == "request_timeout" and closed and
          args.deadline - 0.3 <= took <= args.deadline + 3)
    return 0 if tap(ok, "a request %s trickled one byte per %.1fs gets 408 "
                    "request_timeout at the request deadline (%.1fs; took "
                    "%.1fs) and is closed" % (args.what, args.interval,
                                              args.deadline, took),
                    "status %d error %s closed %s answer %r" % (
                        st, err, closed, answer[:200])) else 1


def idle(args):
    s = connect(args)
    start = time.monotonic()
    s.settimeout(args.deadline + 10)
    try:
        closed = s.recv(1) == b""
    except (ssl.SSLError, OSError):
        closed = True
    took = time.monotonic() - start
    s.close()
    ok = closed and args.deadline - 0.3 <= took <= args.deadline + 3
    return 0 if tap(ok, "an idle handshaken connection is closed at the idle "
                    "deadline (%.1fs; took %.1fs)" % (args.deadline, took)) \
        else 1


def hold(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.tcp + args.tls + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft),
                                                    max(want, hard)))
    socks, tls = [], []
    # Spread over source addresses: 127.0.0.0/8 has ports enough for all.
    for i in range(args.tcp):
        src = "127.0.%d.%d" % (1 + i // 250, 10 + i % 240)
        try:
            s = socket.create_connection(("127.0.0.1", args.port),
                                         timeout=10, source_address=(src, 0))
        except OSError as e:
            print("# tcp connection %d: %r" % (i, e))
            break
        socks.append(s)
    for i in range(args.tls):
        try:
            tls.append(connect(args, args.cert))
        except OSError as e:
            print("# tls connection %d: %r" % (i, e))
            break
    print("ready %d %d" % (len(socks), len(tls)))
    sys.stdout.flush()
    sys.stdin.read()
    gone = 0
    for s in socks + tls:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                gone += 1
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            gone += 1
        s.close()
    print("closed-by-server %d" % gone)
    return 0


SMUGGLED_ID = "SMUGGLED00000001"


def keep429(args):
    inner = request("/v1/payment.record", json.dumps(
        {"payment_id": SMUGGLED_ID, "customer_id": "0000000001",
         "amount_cents": 1, "paid_at": "2026-01-01T00:00:00Z"}).encode())
    s = connect(args)
    s.sendall(request("/v1/bill.query", inner))
    st, hdrs, body, closed = read_one(s, time.monotonic() + 10)
    try:
        err = json.loads(body).get("error")
    except (ValueError, AttributeError):
        err = None
    r = tap(st == 429 and err == "pending_limit" and not closed and
            hdrs.get("connection", "").lower() != "close",
            "429 pending_limit keeps the keep-alive connection open",
            "status %d error %s closed %s headers %r" % (st, err, closed,
                                                          hdrs))
    print("refused")
    sys.stdout.flush()
    sys.stdin.readline()
    try:
        s.sendall(request("/v1/bill.query", VALID_BILL))
        st, _, body, closed = read_one(s, time.monotonic() + 10)
    except OSError as e:
        st, body = 0, repr(e).encode()
    s.close()
    r = tap(st == 200, "the next request on that connection is answered 200: "
            "the refused body was skipped, not read as a request",
            "status %d body %r" % (st, body[:200])) and r
    return 0 if r else 1


def flood(args):
    counts, lock, stop = {}, threading.Lock(), time.monotonic() + args.seconds
    body = args.body.encode()

    def worker():
        s = None
        while time.monotonic() < stop:
            try:
                if s is None:
                    s = connect(args, args.cert)
                s.sendall(request("/v1/" + args.type, body))
                st, hdrs, _, closed = read_one(s, time.monotonic() + 10)
            except OSError:
                st, closed = 0, True
            with lock:
                counts[st] = counts.get(st, 0) + 1
            if closed or st == 0:
                if s is not None:
                    s.close()
                s = None
        if s is not None:
            s.close()

    threads = [threading.Thread(target=worker) for _ in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({str(k): v for k, v in sorted(counts.items())}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("cases")
    c.add_argument("--audit", required=True)
    c.add_argument("--header-size", type=int, default=8192)
    c.add_argument("--headers", type=int, default=64)
    s = sub.add_parser("slow")
    s.add_argument("--what", choices=["head", "body", "handshake"],
                   required=True)
    s.add_argument("--deadline", type=float, required=True)
    s.add_argument("--interval", type=float, default=0.5)
    i = sub.add_parser("idle")
    i.add_argument("--deadline", type=float, required=True)
    h = sub.add_parser("hold")
    h.add_argument("--tcp", type=int, default=0)
    h.add_argument("--tls", type=int, default=0)
    h.add_argument("--cert", default="wechat-app")
    k = sub.add_parser("keep429")
    f = sub.add_parser("flood")
    f.add_argument("--cert", required=True)
    f.add_argument("--type", required=True)
    f.add_argument("--body", required=True)
    f.add_argument("--seconds", type=float, default=5)
    f.add_argument("--conns", type=int, default=8)
    for q in (c, s, i, h, k, f):
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--pki", required=True)
    args = p.parse_args()
    return {"cases": run_cases, "slow": slow, "idle": idle, "hold": hold,
            "keep429": keep429, "flood": flood}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())

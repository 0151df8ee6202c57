#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Test tool for the eth: ferry: an impairment relay (seeded drop, duplicate, reorder) and an injector of foreign frames.
#
#   eth_link.py relay A B [--drop P] [--dup P] [--reorder P] [--seed N]
#       Copies isogate link packets (EtherType 0x88b5) heard on A out of B
#       and back, dropping, duplicating and holding back (sent after the
#       next one, or after 50 ms) with the given percentages, from a
#       random generator seeded with N. Prints "ready", then its counters
#       (at most once a second, when they changed, and on SIGTERM).
#   eth_link.py inject IF KIND [--count N] [--key FILE]
#       Sends N link packets of KIND out of IF, tagged with the link key in
#       FILE (an insider: the shape checks behind the tag answer) or, without
#       --key, with a random key (a forger: refused as bad_tag): truncated (a
#       header cut short), oversized (a fragment count over the limit),
#       badfrag (a fragment past its frame's end), flood (every fragment but
#       the last of 64 KiB frames, so that none completes, each a new msg),
#       slots (the first fragment alone of such frames: each takes a
#       reassembly slot at once).
#   eth_link.py forge IF --count N [--timeout S]
#       Waits for a link packet that IF sends, learns its session and msg,
#       then sends N whole one-fragment frames for the next N msgs of that
#       session and a heartbeat far ahead, all tagged with a random key:
#       what a forger on the link would do to spoil the frames to come.
#   eth_link.py post URL SOURCE COUNT [--threads T] [--first K]
#       Posts COUNT one-way iotcard.usage messages, iccids K.. (one card
#       each), from address SOURCE over T keep-alive connections; prints
#       one line "ICCID STATUS" per message.
#   eth_link.py replay IF --wait N [--timeout S]
#       Records the first N link packets that IF sends, then sends them
#       again as they were (duplicates to the receiver), and again under a
#       new session number (which breaks their tag).
import argparse
import hashlib
import hmac
import http.client
import queue
import threading
import urllib.parse
import os
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_TYPE = 0x88B5
OUTGOING = 4  # PACKET_OUTGOING
HDR = struct.Struct("<4sBBHIQHHII")  # the link header up to its tag
TAG_LEN = 16
HDR_LEN = HDR.size + TAG_LEN  # 48
INWARD = 1  # the direction byte the tag covers


def sock(ifname, proto=ETH_TYPE):
    # Only ETH_P_ALL sockets hear what this host sends (replay).
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    s.bind((ifname, proto))
    return s


def eth_header(src=b"\x02\x00\x00\x00\x00\x99"):
    return b"\xff" * 6 + src + struct.pack("!H", ETH_TYPE)


def relay(args):
    rng = random.Random(args.seed)
    a, b = sock(args.a), sock(args.b)
    for s in (a, b):
        # A relay that falls behind must not add losses of its own.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    other = {a: b, b: a}
    held = {a: None, b: None}  # (packet, since) per output
    counts = {"in": 0, "out": 0, "dropped": 0, "duplicated": 0, "reordered": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    shown, shown_at = None, 0.0
    while not stop:
        try:
            ready, _, _ = select.select([a, b], [], [], 0.01)
        except InterruptedError:
            continue
        now = time.monotonic()
        for s in ready:
            try:
                data, addr = s.recvfrom(65535)
            except InterruptedError:
                continue
            if addr[2] == OUTGOING:
                continue
            counts["in"] += 1
            out = other[s]
            if rng.random() * 100 < args.drop:
                counts["dropped"] += 1
                continue
            copies = 2 if rng.random() * 100 < args.dup else 1
            counts["duplicated"] += copies - 1
            if held[out] is None and rng.random() * 100 < args.reorder:
                held[out] = (data, now)
                counts["reordered"] += 1
                copies -= 1
            for _ in range(copies):
                out.send(data)
                counts["out"] += 1
            if held[out] is not None and held[out][0] is not data:
                out.send(held[out][0])
                counts["out"] += 1
                held[out] = None
        for out, h in held.items():
            if h is not None and now - h[1] > 0.05:
                out.send(h[0])
                counts["out"] += 1
                held[out] = None
        if now - shown_at >= 1 and counts != shown:
            print(" ".join("%s=%d" % kv for kv in counts.items()), flush=True)
            shown, shown_at = dict(counts), now
    print(" ".join("%s=%d" % kv for kv in counts.items()), flush=True)


def link_header(kind, count, session, msg, index, data_len, total, seq=0):
    """Version 3: seq (parity groups; 0 in none) where v2 had the offset."""
    return HDR.pack(b"ISGL", 3, kind, count, session, msg, index, data_len,
                    total, seq)


def tagged(key, hdr, data=b"", direction=INWARD):
    """A whole link packet: header, HMAC-SHA256 tag cut to 16, data."""
    tag = hmac.new(key, bytes([direction]) + hdr + data,
                   hashlib.sha256).digest()[:TAG_LEN]
    return hdr + tag + data


def read_key(path):
    if path is None:
        return os.urandom(32)  # anyone's but the link's
    with open(path, "rb") as f:
        return f.read()


def inject(args):
    s = sock(args.ifname)
    key = read_key(args.key)
    session = int.from_bytes(os.urandom(4), "little")
    for i in range(args.count):
        if args.kind == "truncated":
            pkt = tagged(key, link_header(1, 1, session, i + 1, 0, 40,
                                          40))[:20]
        elif args.kind == "oversized":
            pkt = tagged(key, link_header(1, 60000, session, i + 1, 0, 1000,
                                          1 << 20), b"x" * 1000)
        elif args.kind == "badfrag":
            # The last of 2, longer than the first can have been.
            pkt = tagged(key, link_header(1, 2, session, i + 1, 1, 100, 150),
                         b"x" * 100)
        elif args.kind == "flood":
            for k in range(46):
                s.send(eth_header() + tagged(key, link_header(
                    1, 47, session, i + 1, k, 1400, 46 * 1400 + 100),
                    b"y" * 1400))
            continue
        elif args.kind == "slots":
            pkt = tagged(key, link_header(1, 47, session, i + 1, 0, 1400,
                                          46 * 1400 + 100), b"z" * 1400)
        else:
            sys.exit("unknown kind " + args.kind)
        s.send(eth_header() + pkt)
    print("sent %d %s" % (args.count, args.kind), flush=True)


def sniff_outgoing(s, want, timeout):
    """Up to want link packets this host sends on s's interface."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        data, addr = s.recvfrom(65535)
        if (addr[2] == OUTGOING and len(data) >= 14 + HDR_LEN and
                data[12:14] == struct.pack("!H", ETH_TYPE)):
            got.append(data)
    return got


def forge(args):
    s = sock(args.ifname, 0x0003)
    print("ready", flush=True)
    got = sniff_outgoing(s, 1, args.timeout)
    if not got:
        print("heard nothing", flush=True)
        return 1
    f = HDR.unpack_from(got[0], 14)
    session, msg = f[4], f[5]
    key = os.urandom(32)
    for m in range(msg + 1, msg + 1 + args.count):
        s.send(eth_header() + tagged(key, link_header(
            1, 1, session, m, 0, 64, 64), b"F" * 64))
    s.send(eth_header() + tagged(key, link_header(
        2, 0, session, msg + 1000, 0, 0, 0)))
    print("forged %d after msg %d" % (args.count + 1, msg), flush=True)
    return 0


def replay(args):
    s = sock(args.ifname, 0x0003)
    print("ready", flush=True)
    got = sniff_outgoing(s, args.wait, args.timeout)
    time.sleep(0.5)  # later: the genuine ones have been taken
    session = int.from_bytes(os.urandom(4), "little")
    for data in got:
        s.send(data)
        f = list(HDR.unpack_from(data, 14))
        f[4] = session
        s.send(data[:14] + HDR.pack(*f) + data[14 + HDR.size:])
    print("replayed %d" % len(got), flush=True)
    return 0 if len(got) == args.wait else 1


def post(args):
    u = urllib.parse.urlsplit(args.url)
    todo = queue.Queue()
    for i in range(args.first, args.first + args.count):
        todo.put("8986%016d" % i)
    out = []
    lock = threading.Lock()

    def worker():
        conn = None
        while True:
            try:
                iccid = todo.get_nowait()
            except queue.Empty:
                return
            body = ('{"iccid":"%s","day":"2026-03-15","bytes_used":%d,'
                    '"status":"active"}' % (iccid, int(iccid[-6:])))
            status = "000"
            for _ in range(2):  # one reconnect on a closed keep-alive
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(
                            u.hostname, u.port, timeout=30,
                            source_address=(args.source, 0))
                    conn.request("POST", "/v1/iotcard.usage", body,
                                 {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    status = str(r.status)
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
            with lock:
                out.append("%s %s" % (iccid, status))

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\n".join(sorted(out)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("relay")
    r.add_argument("a")
    r.add_argument("b")
    r.add_argument("--drop", type=float, default=0)
    r.add_argument("--dup", type=float, default=0)
    r.add_argument("--reorder", type=float, default=0)
    r.add_argument("--seed", type=int, default=1)
    i = sub.add_parser("inject")
    i.add_argument("ifname")
    i.add_argument("kind")
    i.add_argument("--count", type=int, default=1)
    i.add_argument("--key")
    g = sub.add_parser("forge")
    g.add_argument("ifname")
    g.add_argument("--count", type=int, default=8)
    g.add_argument("--timeout", type=float, default=10)
    c = sub.add_parser("post")
    c.add_argument("url")
    c.add_argument("source")
    c.add_argument("count", type=int)
    c.add_argument("--threads", type=int, default=8)
    c.add_argument("--first", type=int, default=1)
    p = sub.add_parser("replay")
    p.add_argument("ifname")
    p.add_argument("--wait", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10)
    args = ap.parse_args()
    if args.cmd == "relay":
        relay(args)
    elif args.cmd == "inject":
        inject(args)
    elif args.cmd == "forge":
        sys.exit(forge(args))
    elif args.cmd == "post":
        post(args)
    else:
        sys.exit(replay(args))


if __name__ == "__main__":
    main()

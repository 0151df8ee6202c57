#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
"""Copies ferry frames from one FIFO to another and, when told, alters, drops or replays them.

Sits between outer's inward FIFO (--from) and inner's (--to) in the
end-to-end tests, playing the attacker on the wire. It forwards frame by
frame (84-byte header, then peer, type, payload; see docs/ferry.md) and acts
on commands, one per line, read from the --control FIFO:

    flip KIND     flip one byte in the payload of the next KIND frame
    drop KIND     swallow the next KIND frame (its seal still passes)
    replay KIND   send the last KIND frame again, followed by the seal that
                  covered it

KIND is request, oneway, reply, ack, heartbeat or reject. Each command is
answered by one line appended to the --ack file: "N COMMAND: RESULT". The
same actions can be armed from the command line for the Nth frame of a kind
(--flip-request N, --drop-request N). Prints "ready" on stderr once both
ends are open; SIGTERM ends it.
"""

import argparse
import errno
import fcntl
import os
import select
import signal
import stat
import struct
import sys
import time

HEADER = struct.Struct("<4sBBHIQQ16s32sHHI")  # 84 bytes
MAGIC = b"ISGF"
KINDS = {1: "request", 2: "reply", 3: "oneway", 4: "ack", 5: "heartbeat",
         6: "reject", 7: "seal"}
KIND_BY_NAME = {v: k for k, v in KINDS.items()}
SEAL = 7
PAYLOAD_MAX = 16 * 1024 * 1024  # generous: the proxy must not judge frames
NAME_MAX = 0xFFFF


def log(msg):
    sys.stderr.write("ferry_proxy: %s\n" % msg)
    sys.stderr.flush()


def make_fifo(path):
    try:
        os.mkfifo(path, 0o600)
    except FileExistsError:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            raise SystemExit("ferry_proxy: %s exists and is not a FIFO" % path)


def open_writer(path, timeout):
    """Opens the FIFO for writing once a reader is there; blocking writes."""
    deadline = time.monotonic() + timeout
    make_fifo(path)
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            if e.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return fd


def open_reader(path):
    make_fifo(path)
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)


class Proxy:
    def __init__(self, args):
        self.args = args
        self.src = open_reader(args.src)
        self.dst = open_writer(args.dst, args.timeout)
        self.ctl = None
        if args.control:
            make_fifo(args.control)
            # O_RDWR: we hold a writer ourselves, so the FIFO never reads EOF.
            self.ctl = os.open(args.control, os.O_RDWR | os.O_NONBLOCK |
                               os.O_CLOEXEC)
        self.buf = bytearray()
        self.ctlbuf = bytearray()
        self.armed = []             # [action, kind] in command order
        self.count = {}             # kind -> data frames seen
        self.nth = []               # [action, kind, n] from the command line
        self.last = {}              # kind -> {"frame", "epoch", "seq", "seal"}
        self.commands = 0
        if args.flip_request:
            self.nth.append(["flip", 1, args.flip_request])
        if args.drop_request:
            self.nth.append(["drop", 1, args.drop_request])

    def ack(self, cmd, result):
        self.commands += 1
        line = "%d %s: %s\n" % (self.commands, cmd, result)
        log(line.strip())
        if self.args.ack:
            with open(self.args.ack, "a") as f:
                f.write(line)

    def command(self, line):
        words = line.split()
        if len(words) != 2 or words[0] not in ("flip", "drop", "replay") \
                or words[1] not in KIND_BY_NAME or words[1] == "seal":
            self.ack(line, "error: unknown command")
            return
        action, kind = words[0], KIND_BY_NAME[words[1]]
        if action in ("flip", "drop"):
            self.armed.append([action, kind])
            self.ack(line, "armed")
            return
        last = self.last.get(kind)
        if last is None or last["seal"] is None:
            self.ack(line, "error: no sealed %s frame seen yet" % words[1])
            return
        self.write(last["frame"] + last["seal"])
        self.ack(line, "replayed seq %d epoch %d" % (last["seq"],
                                                     last["epoch"]))

    def write(self, data):
        view = memoryview(bytes(data))
        while view:
            try:
                n = os.write(self.dst, view)
            except BrokenPipeError:
                # Reader gone: reopen once one is back; this data is lost,
                # as it would be on a real wire.
                log("reader of %s went away; reopening" % self.args.dst)
                os.close(self.dst)
                self.dst = open_writer(self.args.dst, self.args.timeout)
                return
            view = view[n:]

    def action_for(self, kind):
        for i, (action, k) in enumerate(self.armed):
            if k == kind:
                del self.armed[i]
                return action
        n = self.count[kind]
        for i, (action, k, nth) in enumerate(self.nth):
            if k == kind and n == nth:
                del self.nth[i]
                return action
        return None

    def frame(self, fr):
        (_, _, kind, _, epoch, seq, _, _, _, peer_len, type_len,
         payload_len) = HEADER.unpack_from(fr)
        off = HEADER.size + peer_len + type_len
        if kind == SEAL:
            if payload_len >= 16:
                first, last = struct.unpack_from("<QQ", fr, off)
                for rec in self.last.values():
                    if rec["seal"] is None and rec["epoch"] == epoch and \
                            first <= rec["seq"] <= last:
                        rec["seal"] = bytes(fr)
            self.write(fr)
            return
        self.count[kind] = self.count.get(kind, 0) + 1
        action = self.action_for(kind)
        name = KINDS.get(kind, str(kind))
        if action == "drop":
            log("dropped %s seq %d" % (name, seq))
            return
        if action == "flip":
            if payload_len > 0:
                fr[off + payload_len // 2] ^= 0x01
            else:
                fr[HEADER.size - 5] ^= 0x01     # no payload: the type length
            log("flipped a byte of %s seq %d" % (name, seq))
        self.last[kind] = {"frame": bytes(fr), "epoch": epoch, "seq": seq,
                           "seal": None}
        self.write(fr)

    def pump(self):
        """Forwards every complete frame in the buffer."""
        while len(self.buf) >= HEADER.size:
            if self.buf[:4] != MAGIC:
                # Not a frame boundary: pass the bytes on untouched up to
                # the next magic; judging them is the receiver's job.
                i = self.buf.find(MAGIC, 1)
                i = len(self.buf) - 3 if i < 0 else i
                self.write(self.buf[:i])
                del self.buf[:i]
                continue
            h = HEADER.unpack_from(self.buf)
            total = HEADER.size + h[9] + h[10] + h[11]
            if h[11] > PAYLOAD_MAX:
                self.write(self.buf[:4])
                del self.buf[:4]
                continue
            if len(self.buf) < total:
                return
            fr = bytearray(self.buf[:total])
            del self.buf[:total]
            self.frame(fr)

    def run(self):
        log("ready: %s -> %s" % (self.args.src, self.args.dst))
        while True:
            fds = [self.src] + ([self.ctl] if self.ctl is not None else [])
            try:
                r, _, _ = select.select(fds, [], [], 1.0)
            except InterruptedError:
                continue
            # Commands first: one written before a request must apply to it.
            if self.ctl in r:
                self.ctlbuf += os.read(self.ctl, 4096)
                while b"\n" in self.ctlbuf:
                    line, _, rest = bytes(self.ctlbuf).partition(b"\n")
                    self.ctlbuf = bytearray(rest)
                    if line.strip():
                        self.command(line.decode("ascii", "replace").strip())
            if self.src in r:
                try:
                    data = os.read(self.src, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    # Writer gone (outer stopped): wait for the next one.
                    if self.buf:
                        log("dropping %d bytes of a partial frame" %
                            len(self.buf))
                    self.buf.clear()
                    os.close(self.src)
                    self.src = open_reader(self.args.src)
                    time.sleep(0.05)
                    continue
                self.buf += data
                self.pump()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="src", required=True,
                   help="FIFO the sender writes")
    p.add_argument("--to", dest="dst", required=True,
                   help="FIFO the receiver reads")
    p.add_argument("--control", help="FIFO to read commands from")
    p.add_argument("--ack", help="file to append command answers to")
    p.add_argument("--flip-request", type=int, metavar="N",
                   help="flip a payload byte of the Nth request frame")
    p.add_argument("--drop-request", type=int, metavar="N",
                   help="drop the Nth request frame")
    p.add_argument("--timeout", type=float, default=20.0,
                   help="seconds to wait for the receiver to open --to")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        Proxy(args).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

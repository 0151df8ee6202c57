#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
"""Sends N one-way payments, each with its own payment_id and Idempotency-Key, while the daemons are killed.

    crash_client.py --port P --count N --prefix PFX --out FILE
                    [--workers 8] [--rate R] [--tries 200]

Payment i has payment_id PFX + i (zero-padded to 16 characters) and
Idempotency-Key equal to it. A worker retries a payment after a refused
connection, a reset, a timeout or a 503 (outer or inner being restarted),
with the same key, up to --tries times, then records the last answer. At
most R payments per second are started in all (so that the kills fall
during the load). Writes one line per payment to FILE:
"payment_id status x_isogate_id tries" (status 000 when there was no
answer). Prints a one-line JSON summary; exit status 0.
"""

import argparse
import http.client
import json
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--rate", type=float, default=250.0)
    ap.add_argument("--tries", type=int, default=200)
    a = ap.parse_args()

    lock = threading.Lock()
    results = {}
    state = {"next": 0, "start": time.monotonic()}

    def take():
        with lock:
            i = state["next"]
            if i >= a.count:
                return None
            state["next"] = i + 1
        # Pace: payment i starts no earlier than i / rate seconds in.
        delay = state["start"] + i / a.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return i

    def worker():
        conn = None
        while True:
            i = take()
            if i is None:
                break
            pid = a.prefix + str(i).zfill(16 - len(a.prefix))
            body = json.dumps({"payment_id": pid,
                               "customer_id": "0000000042",
                               "amount_cents": i + 1,
                               "paid_at": "2026-03-15T10:00:00Z"})
            status, xid, tries = "000", "-", 0
            while tries < a.tries:
                tries += 1
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(
                            "127.0.0.1", a.port, timeout=10)
                    conn.request("POST", "/v1/payment.record", body, {
                        "Content-Type": "application/json",
                        "Idempotency-Key": pid})
                    r = conn.getresponse()
                    r.read()
                    status = str(r.status)
                    xid = r.getheader("X-Isogate-Id") or "-"
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                except (OSError, http.client.HTTPException):
                    status, xid = "000", "-"
                    if conn is not None:
                        conn.close()
                    conn = None
                if status in ("000", "503"):
                    time.sleep(0.1)
                    continue
                break
            with lock:
                results[pid] = (status, xid, tries)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = {}
    with open(a.out, "w") as f:
        for pid in sorted(results):
            status, xid, tries = results[pid]
            counts[status] = counts.get(status, 0) + 1
            f.write("%s %s %s %d\n" % (pid, status, xid, tries))
    print(json.dumps({"sent": len(results), "statuses": counts,
                      "seconds": round(time.monotonic() - state["start"],
                                       1)}))


if __name__ == "__main__":
    main()

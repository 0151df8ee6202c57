#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: both sandboxed daemons copy their journal to syslog, also after syslogd restarts, and journal content where the policy asks.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/isogate-syslog.XXXXXX") || bail "mktemp"
SOCK=$LOGDIR/log
LISTENER=

# listen OUT: a syslogd stand-in on $SOCK, one received message per line.
listen()
{
	rm -f "$SOCK"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    print("listening", flush=True, file=sys.stderr)
    while True:
        out.write(s.recv(65536).decode("utf-8", "replace") + "\n")
        out.flush()
' "$SOCK" "$1" &
	LISTENER=$!
	for ((i = 0; i < 50; i++)); do
		[ -S "$SOCK" ] && return 0
		sleep 0.1
	done
	bail "the syslog stand-in did not start"
}

cleanup_syslog()
{
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	rm -rf "$LOGDIR"
}

# lib.sh's exit trap, with the stand-in stopped first; its status kept.
syslog_finish()
{
	local rc=$?
	cleanup_syslog
	(exit "$rc")
	e2e_finish
}

# count FILE PATTERN
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }

listen "$LOGDIR/first"
export E2E_POLICY_SED='s#\(/outer\.audit"\)$#\1\n\taudit syslog "'"$SOCK"'"#; s#\(/inner\.audit"\)$#\1\n\taudit syslog "'"$SOCK"'"#; s#^\(message payment\.record {\)$#\1\n\taudit content#'
e2e_start
trap syslog_finish EXIT
check "the policy copy forwards to syslog" grep -q "audit syslog \"$SOCK\"" "$E2E_POLICY"

post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
is "a query answers 200" "$STATUS" 200
QID=$XID
post payment.record '{"payment_id":"PAYSYSLOG0000001","customer_id":"0000000042","amount_cents":100,"paid_at":"2026-03-01T10:00:00Z"}'
is "a payment answers 202" "$STATUS" 202
PID=$XID
check "the daemons are sandboxed (seccomp)" eval \
    'grep -q "^Seccomp:[[:space:]]*2" /proc/${E2E_PID[outer]}/status &&
     grep -q "^Seccomp:[[:space:]]*2" /proc/${E2E_PID[inner]}/status'
sleep 0.3
check "syslog got outer's records of the query" \
    eval '[ "$(count "$LOGDIR/first" "isogate-outer [0-9]* audit .*$QID")" -ge 2 ]'
check "syslog got inner's record of the query" \
    eval '[ "$(count "$LOGDIR/first" "isogate-inner [0-9]* audit .*$QID")" -ge 1 ]'
check "messages are RFC 5424 (local0.info, version 1)" \
    eval 'grep -q "^<134>1 [0-9T:.-]*Z " "$LOGDIR/first"'

# Outer's and inner's records of the payment hold its canonical content,
# whose SHA-256 is the record's digest.
for side in outer inner; do
	rec=$(audit_lines "$side" ".id == \"$PID\" and has(\"content\")" | head -n 1)
	content=$(printf '%s' "$rec" | jq -r '.content // empty')
	digest=$(printf '%s' "$rec" | jq -r '.digest // empty')
	is "$side journals the payment's content, digest matches" \
	    "$(printf '%s' "$content" | sha256sum | cut -d' ' -f1)" "${digest:-none}"
done

# syslogd restarts: a new socket at the same path. The sandboxed daemons
# must reach it without connect(2), and must not die trying.
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null
listen "$LOGDIR/second"
post bill.query '{"customer_id":"0000000043","month":"2026-04"}'
is "a query after syslogd restarted answers 200" "$STATUS" 200
QID2=$XID
sleep 0.3
check "both daemons are alive after syslogd restarted" \
    eval 'alive outer && alive inner'
check "the restarted syslogd gets outer's records" \
    eval '[ "$(count "$LOGDIR/second" "isogate-outer [0-9]* audit .*$QID2")" -ge 2 ]'
check "the restarted syslogd gets inner's records" \
    eval '[ "$(count "$LOGDIR/second" "isogate-inner [0-9]* audit .*$QID2")" -ge 1 ]'

# syslogd gone: the journal goes on.
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null
LISTENER=
post bill.query '{"customer_id":"0000000044","month":"2026-05"}'
is "with syslogd gone, a query still answers 200" "$STATUS" 200
check_audit "and is journaled" outer ".id == \"$XID\" and .event == \"reply\""

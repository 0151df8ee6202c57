#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end over TLS: 10,000 idle connections held at once while peers are served, the
# total connection limit refusing the rest (audited, counted), and memory per connection.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export E2E_TLS=1
HELD_TCP=10000
HELD_TLS=40
# Room for the crowd and the few requests of the test, not for 30 more.
E2E_POLICY_SED='/^outer[[:space:]]*{/a\
	limit connections 10050\
	limit handshake-timeout 60s\
	limit idle-timeout 60s'
e2e_start
PKI=$E2E_DIR/pki
PROBE=(python3 "$E2E_ROOT/tests/e2e/tlsprobe.py")
bill='{"customer_id":"0000000042","month":"2026-03"}'
usage='{"iccid":"89860000000000000042","day":"2026-03-15","bytes_used":1,"status":"active"}'

# established: connections to outer's port in state established, as the
# kernel counts them on the server side.
established()
{
	ss -Htn state established "( sport = :$E2E_PORT )" | wc -l
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/${E2E_PID[outer]}/status"; }

post bill.query "$bill"
is "before the crowd: bill.query 200" "$STATUS" 200
rss0=$(rss_kb)

start=$SECONDS
hold crowd --wait 240 --tcp "$HELD_TCP" --tls "$HELD_TLS" --cert cmiot-operator
is "the crowd is connected: $HELD_TCP TCP connections without a handshake, $HELD_TLS handshaken" \
    "$HOLD_TCP $HOLD_TLS" "$HELD_TCP $HELD_TLS"
diag "connecting the crowd took $((SECONDS - start)) s"
n=$(established)
check "the kernel shows at least $((HELD_TCP + HELD_TLS)) established connections to outer ($n)" \
    eval "[ $n -ge $((HELD_TCP + HELD_TLS)) ]"
rss1=$(rss_kb)
diag "outer RSS: $rss0 kB before, $rss1 kB with the crowd: $(( (rss1 - rss0) * 1024 / (HELD_TCP + HELD_TLS) )) bytes per connection"

post bill.query "$bill"
is "with the crowd held, bill.query is answered 200" "$STATUS" 200
E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
is "and cmiot-operator's one-way 202" "$STATUS" 202

# 30 more: the limit leaves room for some at most; the rest are closed at
# once, and the journal has one record that counts them.
extra=$( (sleep 2; exec 0<&-) | "${PROBE[@]}" hold --port "$E2E_PORT" --pki "$PKI" --tcp 30 2>&1 |
    awk '/^closed-by-server/ { print $2 }')
check "past limit connections, outer closes new connections at once ($extra of 30)" \
    eval "[ '${extra:-0}' -ge 20 ]"
check_audit "the refusals are on record: connection deny connection_limit" outer \
    '.event == "connection" and .decision == "deny" and .reason == "connection_limit" and .size >= 1'
refused=$(audit_lines outer '.event == "connection" and .reason == "connection_limit"' | jq -s 'map(.size) | add')
for ((i = 0; i < 30 && refused < extra; i++)); do
	sleep 0.2
	refused=$(audit_lines outer '.event == "connection" and .reason == "connection_limit"' | jq -s 'map(.size) | add')
done
is "the records count every refusal" "$refused" "$extra"
check "outer logged the limit" grep -q 'connection limit (10050) reached' "${E2E_LOG[outer]}"

release crowd
is "outer closed none of the crowd while it was held" "$HOLD_GONE" 0
for ((i = 0; i < 50; i++)); do
	[ "$(established)" -le 2 ] && break
	sleep 0.1
done
check "the crowd is gone" eval "[ $(established) -le 2 ]"
post bill.query "$bill"
is "afterwards bill.query is answered 200" "$STATUS" 200
check "outer is still running" alive outer

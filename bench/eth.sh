#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Benchmarks the eth: ferry: frames/s and MB/s on a veth pair, then exchanges/s end to end across two namespaces.
#
# Usage: bench/eth.sh [SECONDS]   (per wrk run, default 10). Needs root.
# 1. In a private network namespace with a veth pair (MTU 1500), with
#    build/bench/eth_bench: the libpcap floor (pcap_inject of 1,414-byte
#    frames, one send() each, nothing received), then ferry frames of 1 KiB
#    and 64 KiB payloads, sender and receiver in two processes, a seal
#    every 64 frames, every link packet tagged under a random link key:
#    frames/s and payload MB/s delivered, link packets/s, and each as a
#    percentage of the floor measured just before (ETH_RUNS rounds,
#    default 3: the machine is shared, single runs vary); and the tag's
#    cost per packet (HMAC-SHA256, 1,452 and 64 data bytes); last, 1 KiB
#    frames with copies 2 and with parity 8 (the redundancy's overhead).
# 2. outer and inner in two namespaces over eth: (tests/e2e/lib.sh,
#    E2E_ETH=1), wrk run in outer's namespace: bill.query and
#    payment.record at 16 connections.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
DURATION=${1:-10}
RUNS=${ETH_RUNS:-3}
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/eth.sh: needs root (namespaces, packet sockets)" >&2; exit 1; }
make -s -C "$ROOT" build/bench/eth_bench || exit 1
EB=$ROOT/build/bench/eth_bench

# pct: appends to each ferry line what it carried as a share of the floor
# measured before it: frames/s and link packets/s against the floor's
# frames/s, payload MB/s against the floor's MB/s.
pct()
{
	awk '/pcap_inject alone:/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "frames/s,") ff = $(i - 1)
			if ($i == "MB/s") fm = $(i - 1)
		}
		print; next
	}
	/delivered/ && ff > 0 {
		f = $0; sub(/.*delivered [0-9]+ \(/, "", f); split(f, a, " ")
		l = $0; sub(/.*link packets /, "", l); sub(/\/s.*/, "", l)
		printf "%s\n%10s= of the floor: frames/s %.0f%%, payload MB/s " \
		    "%.0f%%, link packets/s %.0f%%\n", $0, "",
		    100 * a[1] / ff, 100 * a[3] / fm, 100 * l / ff
		next
	}
	{ print }'
}

echo
echo "eth: link tag (HMAC-SHA256 under the link key, one core)"
"$EB" tag 1452 1000000
"$EB" tag 64 1000000

echo
echo "eth: ferry frames on a veth pair (two processes, MTU 1500; ETH_RUNS=$RUNS runs each)"
echo "(the floor has no receiver; here the sender's core also runs the"
echo " receiving side's kernel path, which on two hosts the other one does)"
unshare -n sh -c "ip link add ea type veth peer name eb &&
    ip link set ea up && ip link set eb up &&
    for i in \$(seq $RUNS); do
	$EB raw ea 1414 500000;
	$EB ea eb 1024 200000;
	$EB ea eb 65536 5000;
    done;
    echo 'redundancy on 1 KiB frames: copies 2, then parity 8:';
    $EB ea eb 1024 200000 2;
    $EB ea eb 1024 200000 1 0 8; true" | pct

# --- end to end ------------------------------------------------------------------

export E2E_POLICY_SED='s#rate[[:space:]]\{1,\}[0-9]\{1,\}/s\([[:space:]]\{1,\}burst[[:space:]]\{1,\}[0-9]\{1,\}\)\{0,1\}#rate 1000000/s burst 1000000#'
export E2E_NAME=bench-eth E2E_ETH=1
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
e2e_start
post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
[ "$STATUS" = 200 ] || bail "bench: bill.query over eth: does not answer 200" "$(last_response)"

printf '\n%-28s %6s %12s %10s %10s %8s\n' "over eth: (two namespaces)" conns "req/s" p50 p99 non-2xx
for spec in "bill.query query.lua" "payment.record payment.lua E16"; do
	# shellcheck disable=SC2086 # spec: words on purpose
	set -- $spec
	out=$(ip netns exec "$E2E_NS_OUTER" wrk -t 2 -c 16 -d "${DURATION}s" \
	    --latency -s "$BENCH/$2" "$E2E_URL" -- ${3:-} 2>&1)
	printf '%-28s %6s %12s %10s %10s %8s\n' "$1" 16 \
	    "$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")" \
	    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" \
	    "$(awk '$1 == "99%" { print $2 }' <<<"$out")" \
	    "$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")"
done

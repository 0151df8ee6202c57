#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Measures the NFQUEUE admission guard's cost: new connections/s and keep-alive req/s, without and with it.
#
# Usage: bench/guard.sh [SECONDS]   (per measurement, default 8; needs root)
# A client namespace and outer's namespace joined by a veth (10.9.1.0/24,
# addresses of test hosts made here), outer's generated ruleset loaded
# (deploy/nft-load), then: 3 client processes opening and resetting
# connections for SECONDS, and wrk at 16 keep-alive connections. Rate limits
# are raised so that only the guard's own work is measured.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
DURATION=${1:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
[ "$(id -u)" = 0 ] || { echo "bench/guard.sh: needs root (network namespaces)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench/guard.sh: wrk is missing (tools/deps.sh test)" >&2; exit 1; }
export E2E_NAME=guardbench
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

ID=$$
NS_EXT=isgb-ext-$ID
NS_OUT=isgb-out-$ID
NS_IN=isgb-in-$ID

teardown()
{
	local n ns
	for n in outer inner; do stop "$n" >/dev/null 2>&1; done
	for ns in $NS_EXT $NS_OUT $NS_IN; do ip netns del "$ns" 2>/dev/null; done
	[ -n "${E2E_DIR:-}" ] && rm -rf "$E2E_DIR"
	E2E_DIR=
}

# measure GUARD(0|1): one row of the table.
measure()
{
	local guard=$1 ns conns rps
	e2e_setup
	trap teardown EXIT	# instead of lib.sh's: namespaces too
	sed -i -e "s/127\.0\.0\.1:[0-9]\{1,\}/10.9.1.1:8443/" \
	    -e "s/address { 127\.0\.0\.1 }/address { 10.9.1.2 }/" \
	    -e 's#rate [0-9]*/s burst [0-9]*#rate 1000000/s burst 1000000#' \
	    "$E2E_POLICY"
	[ "$guard" = 1 ] && sed -i "/^outer[[:space:]]*{/a\\	guard queue 5 rate 1000000/s burst 1000000 connections 1000000" "$E2E_POLICY"
	for ns in $NS_EXT $NS_OUT $NS_IN; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || bail "netns $ns"
	done
	ip link add e0 netns "$NS_EXT" type veth peer name o0 netns "$NS_OUT"
	ip -n "$NS_EXT" addr add 10.9.1.2/24 dev e0
	ip -n "$NS_EXT" link set e0 up
	ip -n "$NS_OUT" addr add 10.9.1.1/24 dev o0
	ip -n "$NS_OUT" link set o0 up
	ip netns exec "$NS_OUT" env ISOGATE="$ROOT/bin/isogate" sh deploy/nft-load outer \
	    "$E2E_POLICY" >/dev/null || bail "nft-load outer"
	e2e_spawn inner ip netns exec "$NS_IN" "$ISOGATE_BIN/isogate-inner" -f "$E2E_POLICY"
	wait_log inner ready || bail "inner did not start"
	e2e_spawn outer ip netns exec "$NS_OUT" "$ISOGATE_BIN/isogate-outer" -f "$E2E_POLICY"
	wait_log outer ready || bail "outer did not start"
	sleep 1
	conns=$(ip netns exec "$NS_EXT" python3 - "$DURATION" <<'PY'
import socket, sys, time
from multiprocessing import Pool
T = float(sys.argv[1])
def run(_):
    end = time.time() + T; n = fail = 0
    while time.time() < end:
        s = socket.socket(); s.settimeout(1)
        # close with RST: no TIME_WAIT pile-up on the client
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        try:
            s.connect(("10.9.1.1", 8443)); n += 1
        except OSError:
            fail += 1
        s.close()
    return n, fail
with Pool(3) as p:
    r = p.map(run, range(3))
print("%.0f %d" % (sum(x[0] for x in r) / T, sum(x[1] for x in r)))
PY
)
	rps=$(ip netns exec "$NS_EXT" wrk -t2 -c16 -d"${DURATION}s" \
	    -s bench/query.lua http://10.9.1.1:8443 | awk '/^Requests\/sec:/ { print $2 }')
	printf '%-8s %14s %10s %14s\n' "$([ "$guard" = 1 ] && echo on || echo off)" \
	    "${conns% *}" "${conns#* }" "${rps:-?}"
	teardown
	E2E_PID=()
}

printf '\n%-8s %14s %10s %14s\n' guard "new conns/s" failed "keep-alive r/s"
measure 0
measure 1

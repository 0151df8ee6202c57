#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# The appliance on real network namespaces with the generated nftables rulesets and the NFQUEUE guard.
#
# Topology (names unique per run, all removed on exit, also on failure):
#
#   ext ──────── outer ════ (routed link) ════ inner ──────── int
#   clients      isogate-outer                 isogate-inner  "database host"
#   10.9.1.2     10.9.1.1 | 10.9.3.1   10.9.3.2 | 10.9.2.1    10.9.2.2
#   10.9.1.3 (not in the policy)
#
# outer and inner forward packets, so without rules ext reaches inner and
# int and outer reaches int (checked first): what blocks them afterwards is
# the rulesets from `isogate nft`. The daemons exchange over the FIFO ferry;
# inner's ruleset is generated for a PostgreSQL database on int.
# Needs root (CI runs as root): nothing is skipped.
. "$(dirname "$0")/lib.sh"

ID=$$-$RANDOM
NS_EXT=isg-ext-$ID
NS_OUT=isg-outer-$ID
NS_IN=isg-inner-$ID
NS_INT=isg-int-$ID
OUT_ADDR=10.9.1.1
PEER_ADDR=10.9.1.2
STRANGER_ADDR=10.9.1.3
INNER_ADDR=10.9.3.2
INT_ADDR=10.9.2.2
PORT=8443
QUEUE=5
declare -A LISTENERS=()

netns_cleanup()
{
	local rc=$? pid ns
	for pid in "${LISTENERS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# The daemons first (e2e_finish checks how they stop), then the
	# namespaces.
	for ns in outer inner; do
		if [ -n "${E2E_PID[$ns]:-}" ] && stop "$ns"; then
			ok "$ns stops cleanly (exit 0, no sanitizer report)"
		fi
	done
	for ns in "$NS_EXT" "$NS_OUT" "$NS_IN" "$NS_INT"; do
		ip netns del "$ns" 2>/dev/null
	done
	(exit $rc)
	e2e_finish
}

e2e_setup
trap netns_cleanup EXIT
sed -i -e "s/127\.0\.0\.1:[0-9]\{1,\}/$OUT_ADDR:$PORT/" \
    -e "s/address { 127\.0\.0\.1 }/address { $PEER_ADDR }/" \
    -e "s/address { 127\.0\.0\.2 }/address { 10.9.1.4 }/" \
    -e "/^outer[[:space:]]*{/a\\	guard queue $QUEUE rate 20/s burst 20 connections 8" \
    "$E2E_POLICY"
grep -q "listen $OUT_ADDR:$PORT" "$E2E_POLICY" && grep -q "guard queue $QUEUE" "$E2E_POLICY" ||
    bail "rewrite the policy for the topology" "$(cat "$E2E_POLICY")"
# inner's ruleset is made for a network database on int.
sed "s#^\\([[:space:]]*database\\) sqlite .*#\\1 postgres \"host=$INT_ADDR port=5432 dbname=grid\"#" \
    "$E2E_POLICY" >"$E2E_DIR/policy/netdb.policy"

# --- the topology -----------------------------------------------------------

for ns in "$NS_EXT" "$NS_OUT" "$NS_IN" "$NS_INT"; do
	ip netns add "$ns" || bail "ip netns add $ns"
	ip -n "$ns" link set lo up
done
# link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair made inside the namespaces.
link()
{
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
	    ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$1" link set "$2" up &&
	    ip -n "$4" addr add "$6/24" dev "$5" && ip -n "$4" link set "$5" up
}
link "$NS_EXT" e0 "$PEER_ADDR" "$NS_OUT" o0 "$OUT_ADDR" &&
    ip -n "$NS_EXT" addr add "$STRANGER_ADDR/24" dev e0 &&
    link "$NS_OUT" o1 10.9.3.1 "$NS_IN" i0 "$INNER_ADDR" &&
    link "$NS_IN" i1 10.9.2.1 "$NS_INT" d0 "$INT_ADDR" &&
    ip -n "$NS_EXT" route add default via "$OUT_ADDR" &&
    ip -n "$NS_OUT" route add 10.9.2.0/24 via "$INNER_ADDR" &&
    ip -n "$NS_IN" route add 10.9.1.0/24 via 10.9.3.1 &&
    ip -n "$NS_INT" route add default via 10.9.2.1 &&
    ip netns exec "$NS_OUT" sysctl -qw net.ipv4.ip_forward=1 &&
    ip netns exec "$NS_IN" sysctl -qw net.ipv4.ip_forward=1 ||
    bail "build the namespace topology"

# listen NAME NS PORT...: a TCP service that accepts and closes.
listen()
{
	local name=$1 ns=$2
	shift 2
	E2E_LOG[$name]=$E2E_DIR/$name.log
	ip netns exec "$ns" python3 -c '
import socket, sys, select
ss = []
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(p)))
    s.listen(64)
    ss.append(s)
print("ready", flush=True)
while True:
    for s in select.select(ss, [], [])[0]:
        c, _ = s.accept()
        c.close()
' "$@" >"${E2E_LOG[$name]}" 2>&1 &
	LISTENERS[$name]=$!
	E2E_PID[$name]=$!
	wait_log "$name" ready || bail "start the $name listener" "$(cat "${E2E_LOG[$name]}")"
	E2E_PID[$name]=
}
listen db "$NS_INT" 5432 22
listen inner-svc "$NS_IN" 9000
listen outer-svc "$NS_OUT" 9000

# reach NS ADDR PORT [SRC]: a TCP connection opens within 2 s.
reach()
{
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(2)
if len(sys.argv) > 3:
    s.bind((sys.argv[3], 0))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except socket.timeout:
    sys.exit(3)
except OSError:
    sys.exit(4)
' "$2" "$3" ${4:+"$4"}
}

# The paths exist before any rule: what blocks them later is the rulesets.
check "without rules, ext reaches int's database port (routing works)" reach "$NS_EXT" "$INT_ADDR" 5432
check "without rules, ext reaches a service on inner" reach "$NS_EXT" "$INNER_ADDR" 9000
check "without rules, outer reaches int" reach "$NS_OUT" "$INT_ADDR" 5432

# --- rulesets and daemons ---------------------------------------------------

# deploy/nft-load: the side's ruleset, and outer's queue rule natively or,
# on this kernel, with iptables-nft.
nft_load()
{
	ip netns exec "$1" env ISOGATE="$ISOGATE_BIN/isogate" \
	    sh "$E2E_ROOT/deploy/nft-load" "$2" "$3" >"$E2E_DIR/nft-load-$2.log" 2>&1
}
check "outer's ruleset and guard rule load (deploy/nft-load)" nft_load "$NS_OUT" outer "$E2E_POLICY" ||
    diag "$(cat "$E2E_DIR/nft-load-outer.log")"
check "the NFQUEUE rule is in place, without bypass" \
    bash -c "ip netns exec '$NS_OUT' iptables-nft -S INPUT 2>/dev/null | grep -- '--dport $PORT' |
	grep -q -- '-j NFQUEUE --queue-num $QUEUE\$'"
check "loading again changes nothing (one queue rule)" \
    bash -c "ip netns exec '$NS_OUT' env ISOGATE='$ISOGATE_BIN/isogate' sh '$E2E_ROOT/deploy/nft-load' outer '$E2E_POLICY' >/dev/null &&
	test \"\$(ip netns exec '$NS_OUT' iptables-nft -S INPUT 2>/dev/null | grep -c NFQUEUE)\" = 1"
check "inner's ruleset loads (deploy/nft-load)" nft_load "$NS_IN" inner "$E2E_DIR/policy/netdb.policy" ||
    diag "$(cat "$E2E_DIR/nft-load-inner.log")"

start_ns()
{
	local name=$1 ns=$2
	e2e_spawn "$name" ip netns exec "$ns" "$ISOGATE_BIN/isogate-$name" -f "$E2E_POLICY"
	wait_log "$name" ready || bail "$name starts in its namespace" "$(e2e_log_tail "$name")"
}
start_ns inner "$NS_IN"
start_ns outer "$NS_OUT"
wait_log outer 'guard: queue' || not_ok "outer binds the guard queue" "$(e2e_log_tail outer)"
E2E_READY_TIMEOUT=5 wait_log inner 'outward.*connected' || true

# The guard process: outer's child, CAP_NET_ADMIN alone, its own filter.
gpid=$(ps -o pid= --ppid "${E2E_PID[outer]}" | tr -d ' ' | head -n 1)
if [ -n "$gpid" ]; then
	st=$(cat "/proc/$gpid/status")
	is "the guard process keeps CAP_NET_ADMIN alone, Seccomp 2, no_new_privs" \
	    "$(sed -n 's/^\(CapEff\|CapPrm\|CapBnd\|Seccomp\|NoNewPrivs\):[[:space:]]*/\1=/p' <<<"$st" | tr '\n' ' ')" \
	    "CapPrm=0000000000001000 CapEff=0000000000001000 CapBnd=0000000000001000 NoNewPrivs=1 Seccomp=2 "
else
	not_ok "outer has a guard process" "$(e2e_log_tail outer)"
fi
st=$(cat "/proc/${E2E_PID[outer]}/status")
is "outer itself: no capability, Seccomp 2" \
    "$(sed -n 's/^\(CapEff\|Seccomp\):[[:space:]]*/\1=/p' <<<"$st" | tr '\n' ' ')" \
    "CapEff=0000000000000000 Seccomp=2 "

# Clients in ext: lib.sh's http() runs curl, here inside ext.
E2E_URL=http://$OUT_ADDR:$PORT
WECHAT=$PEER_ADDR
curl() { ip netns exec "$NS_EXT" curl --connect-timeout 3 "$@"; }

post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
is "a client in ext gets its answer through isogate (guard, outer, ferry, inner)" "$STATUS" 200 ||
    diag "$(last_response)" "$(e2e_log_tail outer)"
is "with the rows of the database" "$(jbody '.rows' | jq -cS .)" "$(bill_expected 42 3)"

# Isolation with the rulesets loaded.
reach "$NS_EXT" "$INT_ADDR" 5432
is "ext cannot open a connection to int (dropped: timeout)" "$?" 3
reach "$NS_EXT" "$INNER_ADDR" 9000
is "ext cannot open a connection to inner (dropped: timeout)" "$?" 3
reach "$NS_EXT" "$OUT_ADDR" 9000
is "ext cannot open a connection to another port on outer" "$?" 3
reach "$NS_OUT" "$INT_ADDR" 5432
is "outer cannot reach int" "$?" 3
reach "$NS_OUT" "$INNER_ADDR" 9000
is "outer cannot open a connection to inner" "$?" 3
check "inner reaches the database on int" reach "$NS_IN" "$INT_ADDR" 5432
reach "$NS_IN" "$INT_ADDR" 22
is "inner reaches nothing else on int (port 22 dropped)" "$?" 3

# The guard: an address the policy does not name.
reach "$NS_EXT" "$OUT_ADDR" "$PORT" "$STRANGER_ADDR"
is "a client from $STRANGER_ADDR (not in the policy) is dropped" "$?" 3
check_audit "the guard audits the refusal with source address and reason" outer \
    ".event == \"guard\" and .decision == \"deny\" and .addr == \"$STRANGER_ADDR\" and .reason == \"unknown_address\""
check "the refused client never reached the HTTP front (no request record)" \
    test "$(audit_count outer ".event != \"guard\" and .addr == \"$STRANGER_ADDR\"")" = 0

# Fail closed: outer stopped, the queue has no reader.
stop outer && ok "outer stops cleanly"
# guard_left: no isogate-outer process (the guard) is left in outer's namespace.
guard_left()
{
	local pid
	for pid in $(ip netns pids "$NS_OUT"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = isogate-outer ] && return 1
	done
	return 0
}
for ((i = 0; i < 20; i++)); do guard_left && break; sleep 0.1; done
check "the guard process leaves with outer" guard_left
reach "$NS_EXT" "$OUT_ADDR" "$PORT" "$PEER_ADDR"
is "with outer stopped, a peer's connection is dropped (timeout), not reset or passed" "$?" 3
start_ns outer "$NS_OUT"
post bill.query '{"customer_id":"0000000007","month":"2026-05"}'
for ((i = 0; i < 20 && STATUS != 200; i++)); do
	sleep 0.2
	post bill.query '{"customer_id":"0000000007","month":"2026-05"}'
done
is "outer restarted: the peer is served again" "$STATUS" 200 || diag "$(last_response)"

# Connections at once per source (8): twelve held open, the last refused.
held=$(ip netns exec "$NS_EXT" python3 -c '
import socket, time
held = []
for i in range(12):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("'"$OUT_ADDR"'", '"$PORT"'))
        held.append(s)
    except OSError:
        pass
    time.sleep(0.02)
print(len(held))
')
is "a source holding its 8 connections gets no ninth" "$held" 8
check_audit "the guard audits it with reason connections" outer \
    ".event == \"guard\" and .addr == \"$PEER_ADDR\" and .reason == \"connections\""
sleep 1	# the held connections close; the bucket refills

# The per-source connection rate (20/s, burst 20): a burst past it.
ip netns exec "$NS_EXT" python3 -c '
import socket
for i in range(100):
    s = socket.socket()
    s.settimeout(0.05)
    try:
        s.connect(("'"$OUT_ADDR"'", '"$PORT"'))
    except OSError:
        pass
    s.close()
'
check_audit "a burst past the per-source rate is refused and audited" outer \
    ".event == \"guard\" and .addr == \"$PEER_ADDR\" and .reason == \"connection_rate\""

#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# The spool ferry: inner stopped and back, tampered/deleted/replayed spool files, a full disk, the pending bound.
#
# Needs root (CI is): the full-disk case mounts a small tmpfs on the inward
# spool inside a private mount namespace (unshare -m), where both daemons
# run; the namespace, and so the mount, end with the script.
. "$(dirname "$0")/lib.sh"
E2E_FERRY=spool		# what this script tests, whatever the environment says

PENDING_MAX=20
# inner keeps consumed files in archive/ (to replay one later); outer holds
# at most $PENDING_MAX unacknowledged one-ways.
E2E_POLICY_SED="/^inner[[:space:]]*{/a\\	ferry archive
/^outer[[:space:]]*{/a\\	ferry pending $PENDING_MAX"
e2e_start
SPOOL=$E2E_DIR/ferry/inward

# pay ID [CURL-ARG...]: a payment with payment_id ID.
pay()
{
	local id=$1
	shift
	post payment.record "{\"payment_id\":\"$id\",\"customer_id\":\"0000000042\",\"amount_cents\":7,\"paid_at\":\"2026-03-15T10:00:00Z\"}" "$@"
}

# paid ID: how many rows hold payment ID (waits up to 20 s for WANT=${2:-1}).
paid()
{
	sql_wait "SELECT count(*) FROM payments WHERE payment_id = '$1'" "${2:-1}" 20
}

# file_of ID: the spool file holding payment ID (empty when none).
file_of()
{
	grep -l -- "$1" "$SPOOL"/*.isf 2>/dev/null | head -n 1
}

pay PAYSPOOL00000000
is "a payment over the spool: 202" "$STATUS" 202
is "and it is applied" "$(paid PAYSPOOL00000000)" 1
check "the spool file was consumed (archived, as the policy says)" \
    test -n "$(ls "$SPOOL"/archive/*.isf 2>/dev/null)"

# --- inner stopped: durable 202s, then 503 once inner is silent --------------

stop_inner && ok "inner stops"
t0=$(date +%s%N)
declare -A xid=()
for n in 1 2 3 4; do
	pay "PAYSPOOL0000000$n"
	xid[$n]=$XID
	is "payment $n while inner is stopped (not yet silent): 202, on disk" "$STATUS" 202 ||
	    diag "$(last_response)"
done
check "the four payments wait in the spool, one file each" \
    test "$(for n in 1 2 3 4; do file_of "PAYSPOOL0000000$n"; done | sort -u | wc -l)" = 4

# Tamper with payment 2's file, delete payment 3's (in the middle).
f2=$(file_of PAYSPOOL00000002)
f3=$(file_of PAYSPOOL00000003)
python3 - "$f2" <<'EOF' || not_ok "alter a byte of payment 2's file"
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.index(b"PAYSPOOL00000002")
b[i + 15] ^= 0x01
open(p, "wb").write(bytes(b))
EOF
rm -f "$f3"
check "payment 3's file is gone from the middle" test ! -e "$f3"

# A one-way with an Idempotency-Key, on disk before inner is silent.
card='{"iccid":"89860000000000000777","day":"2026-03-20","bytes_used":1,"status":"active"}'
post iotcard.usage "$card" --interface "$CMIOT" -H 'Idempotency-Key: spool-probe-1'
keyed=$XID
is "a keyed one-way while inner is stopped: 202" "$STATUS" 202
# Probing (upserts of the same row) until outer says inner is silent.
elapsed=
for ((i = 0; i < 50; i++)); do
	post iotcard.usage "$card" --interface "$CMIOT"
	if [ "$STATUS" = 503 ]; then
		elapsed=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.1
done
is "inner stopped: outer answers 503 unavailable" "$STATUS $(jbody .error)" "503 unavailable"
diag "first 503 ${elapsed:-?} ms after inner stopped (rule: silent for more than 3 heartbeats of 1 s)"
check "within 3 s of inner stopping (+0.5 s for the probe's own round trip)" \
    test "${elapsed:-99999}" -le 3500
check "the 503 says Retry-After" grep -qi '^Retry-After: 1' "$E2E_DIR/headers"
check_audit "outer journals inner's silence (liveness deny inner_silent)" outer \
    '.event == "liveness" and .decision == "deny" and .reason == "inner_silent"'
post iotcard.usage "$card" --interface "$CMIOT" -H 'Idempotency-Key: spool-probe-1'
is "while inner is silent, a retry of the keyed one-way on disk: 202, same id" \
    "$STATUS $XID" "202 $keyed"
check_audit "outer journals it as an idempotent retry" outer \
    ".id == \"$keyed\" and .event == \"request\" and .reason == \"idempotent_retry\""
post iotcard.usage '{"iccid":"89860000000000000778","day":"2026-03-20","bytes_used":1,"status":"active"}' \
    --interface "$CMIOT" -H 'Idempotency-Key: spool-probe-1'
check_error "the same key for another body while the first is held: 422" \
    422 idempotency_mismatch

start_inner
post_until 200 75 0.2 bill.query '{"customer_id":"0000000042","month":"2026-03"}'
is "inner back: service resumes by itself" "$STATUS" 200
check_audit "outer journals inner heard again (liveness allow inner_alive)" outer \
    '.event == "liveness" and .decision == "allow" and .reason == "inner_alive"'

for n in 1 2 3 4; do
	is "payment $n is applied exactly once" "$(paid "PAYSPOOL0000000$n")" 1
done
is "the probes (upserts of one row) are applied" \
    "$(sql_wait "SELECT count(*) FROM card_usage WHERE iccid = '89860000000000000777'" 1)" 1
is "the keyed one-way (two 202s) is recorded once as applied" \
    "$(sql_wait "SELECT count(*) FROM isogate_applied WHERE lower(id) = '$keyed'" 1)" 1
check_audit "inner refuses the altered file's frames (bad_seal) with payment 2's id" inner \
    ".event == \"frame\" and .reason == \"bad_seal\" and .id == \"${xid[2]}\""
check_audit "inner moves the altered file to quarantine, on record" inner \
    '.event == "ferry" and .reason == "quarantined"'
check "the altered file is in quarantine/" test -e "$SPOOL/quarantine/$(basename "$f2")"
check_audit "inner notices the deleted file (gap)" inner '.event == "frame" and .reason == "gap"'
check_audit "outer sends payment 2 again (consumed, never acked)" outer \
    ".event == \"retransmit\" and .id == \"${xid[2]}\""
check_audit "outer sends payment 3 again" outer \
    ".event == \"retransmit\" and .id == \"${xid[3]}\""
check_audit "inner applies payment 3 under its first exchange id" inner \
    ".event == \"execute\" and .decision == \"allow\" and .id == \"${xid[3]}\""

# --- a file replayed from an older epoch -------------------------------------

old=$(grep -l PAYSPOOL00000001 "$SPOOL"/archive/*.isf | head -n 1)
check "payment 1's consumed file is in archive/" test -n "$old"
stop_outer && ok "outer stops"
start_outer		# a new epoch
for ((i = 0; i < 50; i++)); do
	pay PAYSPOOL00000005
	[ "$STATUS" = 202 ] && break
	sleep 0.2
done
is "after outer restarts (new epoch), a payment: 202" "$STATUS" 202
is "and applied" "$(paid PAYSPOOL00000005)" 1
cp "$old" "$SPOOL/.tmp-replay" && mv "$SPOOL/.tmp-replay" "$SPOOL/$(basename "$old")" ||
    not_ok "put the old file back"
check_audit "inner refuses the replayed file (old_epoch)" inner \
    '.event == "frame" and .reason == "old_epoch"'
pay PAYSPOOL00000006
is "a payment after the replay: 202" "$STATUS" 202
is "applied: the replay blocks nothing" "$(paid PAYSPOOL00000006)" 1
is "payment 1 is still there once" "$(paid PAYSPOOL00000001)" 1
check "the replayed file went to quarantine/" test -e "$SPOOL/quarantine/$(basename "$old")"

# --- clock skew: an inner whose clock is 10 s ahead (test-hook build) ---------

# clock_record SIDE REASON: waits up to 10 s for a clock record of SIDE.
clock_record()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(audit_lines "$1" ".event == \"clock\" and .reason == \"$2\"")" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}
stop_inner && ok "inner stops for the clock test"
ISOGATE_BIN=$ISOGATE_BIN/hook E2E_WRAP="env ISOGATE_TEST_CLOCK_OFFSET_MS=10000" start_inner
check "outer reports inner's clock 10 s off (clock deny clock_skew)" \
    clock_record outer clock_skew
check "inner reports outer's clock off too" clock_record inner clock_skew
check "outer's log says by how much" \
    grep -q "clock skew: inner's clock is +[0-9]* ms from ours" "${E2E_LOG[outer]}"
pay PAYSPOOLCLOCK001
is "skew is reported, not refused: a payment still goes (202)" "$STATUS" 202
is "and is applied" "$(paid PAYSPOOLCLOCK001)" 1
stop_inner && ok "the skewed inner stops"
start_inner
check "clocks agree again: outer says so (clock allow clock_ok)" \
    clock_record outer clock_ok

# --- the pending bound: inner stopped, more one-ways than outer may hold ------

stop_inner && ok "inner stops again"
n202=0
n503=0
ids503=()
for ((n = 10; n < 10 + PENDING_MAX + 5; n++)); do
	pay "PAYSPOOLPEND00$n"
	case $STATUS in
	202) n202=$((n202 + 1)) ;;
	503) n503=$((n503 + 1)); ids503+=("$XID"); [ "$(jbody .message)" = "the ferry spool is full" ] || diag "$(last_response)" ;;
	*) diag "$(last_response)" ;;
	esac
	eval "pend_$n=$STATUS"
done
is "$PENDING_MAX one-ways wait unacknowledged, the rest get 503 spool full" \
    "$n202 $n503" "$PENDING_MAX 5"
is "outer journals each of those 503s with its cause (unacked_full)" \
    "$(for x in "${ids503[@]}"; do audit_lines outer ".id == \"$x\" and .event == \"request\" and .status == 503 and .reason == \"unacked_full\""; done | wc -l)" 5
start_inner
is "once inner is back, the $PENDING_MAX accepted are all applied" \
    "$(sql_wait "SELECT count(*) FROM payments WHERE payment_id LIKE 'PAYSPOOLPEND%'" "$PENDING_MAX" 20)" \
    "$PENDING_MAX"
bad=0
for ((n = 10; n < 10 + PENDING_MAX + 5; n++)); do
	v=pend_$n
	want=0
	[ "${!v}" = 202 ] && want=1
	[ "$(sql "SELECT count(*) FROM payments WHERE payment_id = 'PAYSPOOLPEND00$n'")" = "$want" ] ||
	    bad=$((bad + 1))
done
is "each 202 applied, each 503 not" "$bad" 0

# --- a full disk: the inward spool on a 256 KiB tmpfs ---------------------------

stop_outer && ok "outer stops for the tmpfs"
stop_inner && ok "inner stops for the tmpfs"
unshare -m --propagation private sleep 600 &
HOLDER=$!
trap 'rc=$?; kill "$HOLDER" 2>/dev/null; (exit $rc); e2e_finish' EXIT
sleep 0.2
ns() { nsenter -t "$HOLDER" -m "$@"; }
check "a tmpfs on the inward spool inside a mount namespace" \
    ns mount -t tmpfs -o size=256k,mode=0700 isogate-spool "$SPOOL"
E2E_WRAP="nsenter -t $HOLDER -m"
start_inner
start_outer
for ((i = 0; i < 50; i++)); do
	pay PAYSPOOLDISK0000
	[ "$STATUS" = 202 ] && break
	sleep 0.2
done
is "on the tmpfs, a payment: 202" "$STATUS" 202
is "and applied" "$(paid PAYSPOOLDISK0000)" 1
ns dd if=/dev/zero of="$SPOOL/filler" bs=4k 2>/dev/null
check "the tmpfs is full" test "$(ns df --output=avail -k "$SPOOL" | tail -n 1 | tr -d ' ')" -lt 4
full=0
for n in 1 2 3 4 5; do
	pay "PAYSPOOLDISK000$n"
	[ "$STATUS" = 503 ] && [ "$(jbody .error)" = unavailable ] && full=$((full + 1))
done
is "spool full: 503 unavailable for each payment" "$full" 5
check "with Retry-After" grep -qi '^Retry-After: 1' "$E2E_DIR/headers"
check_audit "outer journals that it cannot store frames (ferry deny spool_full)" outer \
    '.event == "ferry" and .decision == "deny" and .reason == "spool_full"'
check_audit "and each refused payment (reply 503 spool_full)" outer \
    '.event == "reply" and .status == 503 and .reason == "spool_full"'
check "outer keeps serving" alive outer
ns rm -f "$SPOOL/filler"
for ((i = 0; i < 50; i++)); do
	pay PAYSPOOLDISK0006
	[ "$STATUS" = 202 ] && break
	sleep 0.2
done
is "space back: 202 again" "$STATUS" 202
is "and applied" "$(paid PAYSPOOLDISK0006)" 1
check_audit "outer journals that it stores frames again (ferry allow spool_ok)" outer \
    '.event == "ferry" and .decision == "allow" and .reason == "spool_ok"'
is "none of the refused payments was applied" \
    "$(sql "SELECT count(*) FROM payments WHERE payment_id BETWEEN 'PAYSPOOLDISK0001' AND 'PAYSPOOLDISK0005'")" 0
is "no partial file was left behind" "$(ns sh -c "ls -a '$SPOOL' | grep -c '^\\.tmp-'")" 0

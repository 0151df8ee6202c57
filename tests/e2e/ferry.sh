#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end with an attacker on the inward ferry: altered, replayed and lost frames.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# outer -> ferry/inward-a -> ferry_proxy.py -> ferry/inward-b -> inner
E2E_PROXY=1 e2e_start

bill='{"customer_id":"0000000042","month":"2026-03"}'

post bill.query "$bill"
is "bill.query through the proxy" "$STATUS $(jbody .rows | jq -cS .)" \
    "200 $(bill_expected 42 3)"

# --- a byte altered in transit ---------------------------------------------------

is "proxy arms: flip the next request" "$(proxy_cmd flip request)" "1 flip request: armed"
post bill.query "$bill"
flipped=$XID
check_ferry_error "altered request frame" 502 rejected bad_seal
check_audit "inner audits the altered frame: frame deny bad_seal, same id" inner \
    ".id == \"$flipped\" and .event == \"frame\" and .decision == \"deny\" and .reason == \"bad_seal\""
is "inner executed nothing for the altered frame" \
    "$(audit_count inner ".id == \"$flipped\" and .event == \"execute\"")" 0
post bill.query '{"customer_id":"0000000007","month":"2026-08"}'
is "the next request works" "$STATUS $(jbody .rows | jq -cS .)" "200 $(bill_expected 7 8)"

is "proxy arms: flip the next one-way frame" "$(proxy_cmd flip oneway)" "2 flip oneway: armed"
post payment.record '{"payment_id":"PAYFLIPPED0000001","customer_id":"0000000042","amount_cents":100,"paid_at":"2026-03-15T10:00:00Z"}'
# Spoiled on the way, not refused: inner says bad_seal, outer sends the
# one-way again (under a seal of its own) and the client gets its 202.
flipped=$XID
is "altered one-way frame: sent again, 202 at inner's ack" "$STATUS" 202
check_audit "inner audits the altered one-way: frame deny bad_seal, same id" inner \
    ".id == \"$flipped\" and .event == \"frame\" and .decision == \"deny\" and .reason == \"bad_seal\""
check_audit "outer journals the retransmission (retransmit bad_seal), same id" outer \
    ".id == \"$flipped\" and .event == \"retransmit\" and .reason == \"bad_seal\""
is "the altered payment is in the database once, with its amount" \
    "$(sql "SELECT count(*), sum(amount_cents) FROM payments WHERE payment_id = 'PAYFLIPPED0000001'")" "1|100"

# --- a replayed frame --------------------------------------------------------------

post payment.record '{"payment_id":"PAYREPLAYED000001","customer_id":"0000000042","amount_cents":200,"paid_at":"2026-03-15T11:00:00Z"}'
pid=$XID
is "payment.record through the proxy is accepted" "$STATUS" 202
answer=$(proxy_cmd replay oneway)
check "proxy replays the payment's frame and its seal ($answer)" \
    eval '[[ $answer == "3 replay oneway: replayed seq "* ]]'
check_audit "inner audits the replayed frame: frame deny replay, same id" inner \
    ".id == \"$pid\" and .event == \"frame\" and .decision == \"deny\" and .reason == \"replay\""
post bill.query "$bill"
is "a request after the replay works" "$STATUS" 200
is "the replayed payment is in the database once" \
    "$(sql "SELECT count(*), sum(amount_cents) FROM payments WHERE payment_id = 'PAYREPLAYED000001'")" "1|200"
is "inner applied the exchange once" \
    "$(audit_count inner ".id == \"$pid\" and .event == \"execute\" and .decision == \"allow\"") $(sql "SELECT count(*) FROM isogate_applied WHERE lower(id) = '$pid'")" \
    "1 1"

# A replayed request (not one-way) is refused the same way and answers nothing.
post bill.query '{"customer_id":"0000000100","month":"2026-01"}'
qid=$XID
answer=$(proxy_cmd replay request)
check "proxy replays a request frame ($answer)" \
    eval '[[ $answer == "4 replay request: replayed seq "* ]]'
check_audit "inner audits the replayed request as replay" inner \
    ".id == \"$qid\" and .event == \"frame\" and .reason == \"replay\""
is "inner executed the replayed request once" \
    "$(audit_count inner ".id == \"$qid\" and .event == \"execute\"")" 1

# --- a lost frame --------------------------------------------------------------------

is "proxy arms: drop the next request" "$(proxy_cmd drop request)" "5 drop request: armed"
start=$(date +%s%N)
post bill.query "$bill"
ms=$((($(date +%s%N) - start) / 1000000))
dropped=$XID
check_ferry_error "request lost on the ferry" 504 timeout
check "504 comes after the 2 s message timeout, not much later (${ms} ms)" \
    eval '[ "$ms" -ge 1900 ] && [ "$ms" -lt 6000 ]'
is "inner never saw the lost request" "$(audit_count inner ".id == \"$dropped\"")" 0
post bill.query '{"customer_id":"0000000999","month":"2026-12"}'
is "the next request works" "$STATUS $(jbody .rows | jq -cS .)" "200 $(bill_expected 999 12)"

check "proxy is still running" alive proxy

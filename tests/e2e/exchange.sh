#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: queries return the seeded rows, one-way messages land exactly once, both sides audit.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start

# --- bill.query ---------------------------------------------------------------

for cm in 1:1 42:3 500:12 999:7 1000:5; do
	c=${cm%:*}
	m=${cm#*:}
	cust=$(printf '%010d' "$c")
	month=$(printf '2026-%02d' "$m")
	post bill.query "{\"customer_id\":\"$cust\",\"month\":\"$month\"}"
	want=$(bill_expected "$c" "$m")
	got=$(jbody '.rows' | jq -cS . 2>/dev/null)
	if [ "$STATUS" = 200 ] && [ "$got" = "$want" ]; then
		ok "bill.query $cust $month returns the seeded row"
	else
		not_ok "bill.query $cust $month returns the seeded row" \
		    "want rows $want" "$(last_response)"
	fi
done

post bill.query '{"month":"2026-03","customer_id":"0000000042"}'
id=$(jbody .id)
check "200 body id is 32 hex digits and equals X-Isogate-Id" \
    eval 'is_hex32 "$id" && [ "$XID" = "$id" ]'
is "200 body has exactly the keys id and rows" "$(jbody 'keys | join(",")')" "id,rows"
check_audit "outer audits the query allowed, with its id" outer \
    ".id == \"$id\" and .event == \"request\" and .decision == \"allow\" and .peer == \"wechat-app\" and .type == \"bill.query\" and .addr == \"127.0.0.1\""
check_audit "outer audits the reply with the same id, status 200 and 1 row" outer \
    ".id == \"$id\" and .event == \"reply\" and .status == 200 and .rows == 1"
check_audit "inner audits the execution allowed with the same id and 1 row" inner \
    ".id == \"$id\" and .event == \"execute\" and .decision == \"allow\" and .rows == 1 and .type == \"bill.query\""
check "both sides record the same payload digest" eval \
    '[ -n "$(audit_lines outer ".id == \"$id\" and .event == \"request\"" | jq -r .digest)" ] &&
     [ "$(audit_lines outer ".id == \"$id\" and .event == \"request\"" | jq -r .digest)" = \
       "$(audit_lines inner ".id == \"$id\" and .event == \"execute\"" | jq -r .digest)" ]'

post bill.query '{"customer_id":"0000009999","month":"2026-01"}'
is "bill.query for an unknown customer returns no rows" \
    "$STATUS $(jbody '.rows | tojson')" "200 []"
post bill.query '{"customer_id":"0000000042","month":"2025-12"}'
is "bill.query for a month without a bill returns no rows" \
    "$STATUS $(jbody '.rows | tojson')" "200 []"
# Whitespace and key order do not matter; escapes are decoded.
post bill.query $'{ "month" : "2026-\\u0030\\u0033",\n\t"customer_id":"0000000042" }'
is "a differently formatted but equal request gets the same row" \
    "$STATUS $(jbody '.rows' | jq -cS .)" "200 $(bill_expected 42 3)"

# --- payment.record (one-way, wechat-app) ---------------------------------------

pay='{"payment_id":"PAY2026E2E0000001","customer_id":"0000000042","amount_cents":9619,"paid_at":"2026-03-15T10:00:00Z"}'
post payment.record "$pay"
pid=$(jbody .id)
if [ "$STATUS" = 202 ] && [ "$(jbody .status)" = accepted ] && is_hex32 "$pid" &&
    [ "$XID" = "$pid" ]; then
	ok "payment.record is accepted with 202"
else
	not_ok "payment.record is accepted with 202" "$(last_response)"
fi
is "the payment is in the database once, as sent" \
    "$(sql_wait "SELECT count(*), customer_id, amount_cents, paid_at FROM payments WHERE payment_id = 'PAY2026E2E0000001'" \
    "1|0000000042|9619|2026-03-15T10:00:00Z")" \
    "1|0000000042|9619|2026-03-15T10:00:00Z"
is "inner recorded the exchange id as applied" \
    "$(sql_wait "SELECT count(*), type FROM isogate_applied WHERE lower(id) = '$pid'" "1|payment.record")" \
    "1|payment.record"
check_audit "inner audits the payment allowed" inner \
    ".id == \"$pid\" and .event == \"execute\" and .decision == \"allow\" and .type == \"payment.record\""
check_audit "outer audits the 202 with the same id" outer \
    ".id == \"$pid\" and .status == 202"

post payment.record "$pay"
rid=$(jbody .id)
# With the spool (the example's ferry) 202 means "on disk"; inner's refusal
# comes after it and outer journals it as a delivery deny. Over FIFOs the
# client waits for inner and gets the 502.
if [ "${E2E_FERRY:-spool}" = fifo ]; then
	check_ferry_error "the same payment_id again" 502 rejected database
else
	is "the same payment_id again: 202 once on disk" "$STATUS" 202
	check_audit "outer journals inner's refusal after the 202 (delivery deny database)" outer \
	    ".id == \"$rid\" and .event == \"delivery\" and .decision == \"deny\" and .reason == \"database\""
fi
is "the refused exchange has a new id" "$([ "$rid" != "$pid" ] && echo new)" new
is "the payment is still in the database once" \
    "$(sql "SELECT count(*) FROM payments WHERE payment_id = 'PAY2026E2E0000001'")" 1
check_audit "inner audits the refused payment as a database deny" inner \
    ".id == \"$rid\" and .decision == \"deny\" and .reason == \"database\""
is "the refused exchange is not recorded as applied" \
    "$(sql "SELECT count(*) FROM isogate_applied WHERE lower(id) = '$rid'")" 0

# --- iotcard.usage (one-way, cmiot-operator from 127.0.0.2) ---------------------

iccid=89860012345678901234
post iotcard.usage "{\"iccid\":\"$iccid\",\"day\":\"2026-03-15\",\"bytes_used\":1048576,\"status\":\"active\"}" \
    --interface "$CMIOT"
is "iotcard.usage from cmiot-operator is accepted" "$STATUS $(jbody .status)" "202 accepted"
is "the usage row is inserted" \
    "$(sql_wait "SELECT bytes_used, status FROM card_usage WHERE iccid = '$iccid' AND day = '2026-03-15'" \
    "1048576|active")" "1048576|active"
uid=$(jbody .id)
check_audit "outer audits the usage with peer cmiot-operator" outer \
    ".id == \"$uid\" and .peer == \"cmiot-operator\" and .addr == \"127.0.0.2\""
post iotcard.usage "{\"status\":\"suspended\",\"iccid\":\"$iccid\",\"bytes_used\":1099511627776,\"day\":\"2026-03-15\"}" \
    --interface "$CMIOT"
is "a second usage for the same card and day is accepted" "$STATUS" 202
is "it updates the row in place (upsert on iccid, day)" \
    "$(sql_wait "SELECT count(*), max(bytes_used), max(status) FROM card_usage WHERE iccid = '$iccid'" \
    "1|1099511627776|suspended")" "1|1099511627776|suspended"
post iotcard.usage "{\"iccid\":\"$iccid\",\"day\":\"2026-03-16\",\"bytes_used\":0,\"status\":\"test\"}" \
    --interface "$CMIOT"
is "another day is another row" \
    "$STATUS $(sql_wait "SELECT count(*) FROM card_usage WHERE iccid = '$iccid'" 2)" "202 2"

# --- Idempotency-Key on a one-way -------------------------------------------------

idem='{"payment_id":"PAY2026IDEMKEY001","customer_id":"0000000042","amount_cents":5,"paid_at":"2026-03-15T10:00:00Z"}'
post payment.record "$idem" -H 'Idempotency-Key: order-4711'
first=$XID
is "a payment with an Idempotency-Key: 202" "$STATUS" 202
post payment.record "$idem" -H 'Idempotency-Key: order-4711'
is "its retry with the same key: 202 with the same exchange id" "$STATUS $XID" "202 $first"
is "applied once" "$(sql_wait "SELECT count(*) FROM payments WHERE payment_id = 'PAY2026IDEMKEY001'" 1)" 1
is "one applied id for both" \
    "$(sql_wait "SELECT count(*) FROM isogate_applied WHERE lower(id) = '$first'" 1)" 1
is "no apply of the retry ran into the unique key" \
    "$(audit_count inner ".id == \"$first\" and .decision == \"deny\"")" 0
# The same key for another body, after the first was applied: inner keeps
# each applied id's payload digest and refuses it. Over a spool the client
# had its 202 when it was on disk, so the refusal is outer's delivery
# record; over a FIFO or eth: the client waits and hears 422.
other='{"payment_id":"PAY2026IDEMKEY009","customer_id":"0000000042","amount_cents":9,"paid_at":"2026-03-15T10:00:00Z"}'
post payment.record "$other" -H 'Idempotency-Key: order-4711'
if [ "${E2E_FERRY:-spool}" = fifo ]; then
	check_ferry_error "the key again for another body" 422 idempotency_mismatch
else
	is "the key again for another body: 202 once on disk, same id" \
	    "$STATUS $XID" "202 $first"
	check "outer journals inner's refusal after the 202 (delivery deny idempotency_mismatch)" \
	    eval 'for ((i = 0; i < 50; i++)); do audit_has outer ".id == \"$first\" and .event == \"delivery\" and .reason == \"idempotency_mismatch\"" && break; sleep 0.1; done; [ $i -lt 50 ]'
fi
check_audit "inner refuses it: execute deny idempotency_mismatch, same id" inner \
    ".id == \"$first\" and .event == \"execute\" and .decision == \"deny\" and .reason == \"idempotency_mismatch\""
is "the other body was not applied" \
    "$(sql "SELECT count(*) FROM payments WHERE payment_id = 'PAY2026IDEMKEY009'")" 0
post payment.record '{"payment_id":"PAY2026IDEMKEY002","customer_id":"0000000042","amount_cents":5,"paid_at":"2026-03-15T10:00:00Z"}' \
    -H 'Idempotency-Key: order-4712'
is "another key, another exchange id" "$([ "$XID" != "$first" ] && echo other)" other
post iotcard.usage '{"iccid":"89860000000000004711","day":"2026-03-15","bytes_used":1,"status":"active"}' \
    --interface "$CMIOT" -H 'Idempotency-Key: order-4711'
is "the same key from another peer and type is another message" \
    "$STATUS $([ "$XID" != "$first" ] && echo other)" "202 other"
post payment.record "$idem" -H 'Idempotency-Key;'
check_error "an empty Idempotency-Key" 400 idempotency_key
for bad in 'two words' "$(printf 'k%.0s' {1..129})"; do
	post payment.record "$idem" -H "Idempotency-Key: $bad"
	check_error "Idempotency-Key '${bad:0:12}' (${#bad} characters)" 400 idempotency_key
done
post payment.record "$idem" -H 'Idempotency-Key: a' -H 'Idempotency-Key: b'
check_error "two Idempotency-Key headers" 400 idempotency_key
post bill.query '{"customer_id":"0000000042","month":"2026-03"}' -H 'Idempotency-Key: q1'
is "on a request/reply message the key changes nothing" "$STATUS" 200

# --- the journals ---------------------------------------------------------------

for side in outer inner; do
	f=$E2E_DIR/audit/$side.audit
	# The journal's own marks (file, checkpoint: docs/audit.md) are no decisions.
	bad=$(jq -c 'select(.event != "file" and .event != "checkpoint") |
	    select((.time | type) != "string" or .side != "'$side'" or
	    (.event | type) != "string" or (.decision != "allow" and .decision != "deny") or
	    (has("id") and (.id | test("^[0-9a-f]{32}$") | not)))' "$f" 2>&1 | head -n 3)
	if [ -s "$f" ] && jq -e . "$f" >/dev/null 2>&1 && [ -z "$bad" ]; then
		ok "every $side audit line is a JSON record with time, side, event, decision"
	else
		not_ok "every $side audit line is a JSON record with time, side, event, decision" \
		    "$bad" "$(audit_tail "$side")"
	fi
done
is "the bills are untouched" "$(table_digest bills)" "$(seed_digest bills)"

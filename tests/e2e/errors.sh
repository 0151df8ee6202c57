#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: every client error class of the HTTP contract, its JSON body, id header and audit record.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start

bill='{"customer_id":"0000000042","month":"2026-03"}'
denied=()	# ids of requests outer refused: none may reach inner

post bill.query "$bill" --interface "$STRANGER"
check_error "unknown source address" 401 unauthenticated
check_audit "401: outer audits the source address" outer \
    ".id == \"$XID\" and .addr == \"$STRANGER\""
denied+=("$XID")

post bill.query "$bill" --interface "$CMIOT"
check_error "cmiot-operator asks bill.query" 403 forbidden
check_audit "403: outer audits peer and type" outer \
    ".id == \"$XID\" and .peer == \"cmiot-operator\" and .type == \"bill.query\""
denied+=("$XID")

post payment.record '{"payment_id":"PAY2026E2E0000009","customer_id":"0000000042","amount_cents":1,"paid_at":"2026-03-15T10:00:00Z"}' \
    --interface "$CMIOT"
check_error "cmiot-operator sends payment.record" 403 forbidden
denied+=("$XID")

post no.such.type "$bill"
check_error "unknown message type" 404 unknown_type
denied+=("$XID")

http GET /v1/bill.query
check_error "GET instead of POST" 405 method_not_allowed
check "405 says Allow: POST" grep -qi '^Allow: POST' "$E2E_DIR/headers"
denied+=("$XID")
http PUT /v1/bill.query -H 'Content-Type: application/json' --data-binary "$bill"
check_error "PUT instead of POST" 405 method_not_allowed
denied+=("$XID")

# Head-level refusals close the connection without reading the body, so
# these send the head alone: a body left unread could turn the close into a
# reset before curl reads the answer.
http POST /v1/bill.query -H 'Content-Type: application/json' \
    -H 'Transfer-Encoding: chunked'
check_error "chunked body: any Transfer-Encoding is refused" 400 bad_request
denied+=("$XID")
http POST /v1/bill.query -H 'Content-Type: application/json'
check_error "no Content-Length" 411 length_required
denied+=("$XID")
http POST /v1/bill.query -H 'Content-Type: application/json' \
    -H 'Content-Length: 100000'
check_error "Content-Length 100000 for bill.query" 413 too_large
denied+=("$XID")

# A real 100 kB upload: 413, or a reset if outer closed while it was sent.
head -c 100000 /dev/zero | tr '\0' 7 |
    sed 's/^/{"customer_id":"/; s/$/","month":"2026-03"}/' >"$E2E_DIR/big.json"
post_file bill.query "$E2E_DIR/big.json"
check "a 100 kB upload is refused with 413 or a closed connection ($STATUS)" \
    eval '[ "$STATUS" = 413 ] || [ "$STATUS" = 000 ]'
post bill.query "$bill"
is "outer serves the next request" "$STATUS" 200

CT=text/plain post bill.query "$bill"
check_error "Content-Type text/plain" 415 unsupported_media_type
denied+=("$XID")
CT='' post bill.query "$bill"
check_error "no Content-Type" 415 unsupported_media_type
denied+=("$XID")

i=0
for body in '{"customer_id":"0000000042",' '{"customer_id":"0000000042","month":"2026-03"} x' \
    '{"customer_id":"0000000042","customer_id":"0000000043","month":"2026-03"}' \
    $'{"customer_id":"000000004\xff","month":"2026-03"}' ''; do
	i=$((i + 1))
	post bill.query "$body"
	check_error "invalid JSON #$i ($(printf '%s' "$body" | head -c 30 | tr -c '[:print:]' '?'))" \
	    400 invalid_json
	denied+=("$XID")
done

# A top-level array parses as JSON but is no object: docs/http.md calls
# that invalid_json, policy/schema.c a schema error; either is a 400 refusal.
post bill.query '["0000000042","2026-03"]'
token=$(jbody .error)
case $token in
invalid_json | schema) check_error "top-level array" 400 "$token" ;;
*) not_ok "top-level array: 400 invalid_json or schema" "$(last_response)" ;;
esac
denied+=("$XID")

post bill.query '{"customer_id":"42","month":"2026-03"}'
check_error "customer_id not 10 digits" 400 schema customer_id
denied+=("$XID")
post bill.query "{\"customer_id\":\"0000000001' OR '1'='1\",\"month\":\"2026-03\"}"
check_error "SQL in customer_id" 400 schema customer_id
check_audit "400 schema: outer audits the field" outer \
    ".id == \"$XID\" and .field == \"customer_id\""
denied+=("$XID")
post bill.query '{"customer_id":"0000000042","month":"2026-13"}'
check_error "month 13" 400 schema month
denied+=("$XID")
post bill.query '{"customer_id":"0000000042"}'
check_error "missing month" 400 schema month
denied+=("$XID")
post bill.query '{"customer_id":"0000000042","month":"2026-03","extra":1}'
check_error "unknown field" 400 schema extra
denied+=("$XID")
post bill.query '{"customer_id":42,"month":"2026-03"}'
check_error "customer_id is a number" 400 schema customer_id
denied+=("$XID")
post payment.record '{"payment_id":"PAY2026E2E0000002","customer_id":"0000000042","amount_cents":0,"paid_at":"2026-03-15T10:00:00Z"}'
check_error "amount_cents 0 below its minimum" 400 schema amount_cents
denied+=("$XID")
post payment.record '{"payment_id":"PAY2026E2E0000003","customer_id":"0000000042","amount_cents":1,"paid_at":"2026-02-30T10:00:00Z"}'
check_error "paid_at on 30 February" 400 schema paid_at
denied+=("$XID")
post iotcard.usage '{"iccid":"89860012345678901234","day":"2026-03-15","bytes_used":1,"status":"deleted"}' \
    --interface "$CMIOT"
check_error "status not in the enum" 400 schema status
denied+=("$XID")
is "no refused payment reached the database" "$(sql 'SELECT count(*) FROM payments')" 0

# Exceed cmiot-operator's burst (rate 200/s burst 400) with cheap requests.
mapfile -t in_outer < <(e2e_in_ns outer)	# eth: outer's namespace
burst=$("${in_outer[@]}" python3 "$E2E_ROOT/tests/e2e/hammer.py" burst --port "$E2E_PORT" \
    --source "$CMIOT" --type iotcard.usage --body '{}' --max 5000)
STATUS=$(printf '%s' "$burst" | jq -r '.first_429.status // "none"')
# shellcheck disable=SC2034 # read by check_error
BODY=$(printf '%s' "$burst" | jq -r '.first_429.body // ""')
XID=$(printf '%s' "$burst" | jq -r '.first_429.id // ""')
check_error "more than the burst from cmiot-operator ($(printf '%s' "$burst" | jq -r .sent) sent)" \
    429 rate_limited
denied+=("$XID")
post bill.query "$bill"
is "wechat-app is not limited by cmiot-operator's rate" "$STATUS" 200

missing=0
for id in "${denied[@]}"; do
	[ -n "$id" ] || continue
	[ "$(audit_count inner ".id == \"$id\"")" = 0 ] || missing=$((missing + 1))
done
is "no refused request crossed to inner (${#denied[@]} checked)" "$missing" 0

# --- inner not running ----------------------------------------------------------

stop_inner && ok "inner stops cleanly on SIGTERM"
# Over the spool nothing breaks when inner goes: its silence does (more than
# three heartbeats), and outer says so in its journal.
for ((i = 0; i < 50; i++)); do
	[ -n "$(audit_lines outer '.event == "liveness" and .reason == "inner_silent"')" ] && break
	alive outer || break
	sleep 0.1
done
# The journal names the cause: over a FIFO the ferry itself went (its
# reader closed), over a spool or a link inner fell silent.
down=inner_silent
[ "${E2E_FERRY:-spool}" = fifo ] && [ "${E2E_ETH:-}" != 1 ] && down=ferry_down
post bill.query "$bill"
check_error "bill.query while inner is stopped" 503 unavailable "" "$down"
post payment.record '{"payment_id":"PAY2026E2E0000004","customer_id":"0000000042","amount_cents":5,"paid_at":"2026-03-15T10:00:00Z"}'
check_error "payment.record while inner is stopped" 503 unavailable "" \
    "$down"
check "outer is still running" alive outer

start_inner
post_until 200 50 0.2 bill.query "$bill"
is "after inner restarts, bill.query works again" \
    "$STATUS $(jbody .rows | jq -cS .)" "200 $(bill_expected 42 3)"
is "the payment refused with 503 was never applied" \
    "$(sql "SELECT count(*) FROM payments WHERE payment_id = 'PAY2026E2E0000004'")" 0

# --- a client that leaves while its exchange is in flight ----------------------

# Inner paused: the request crosses and waits; the client gives up first.
kill -STOP "${E2E_PID[inner]}"
rm -f "$E2E_DIR/headers"
STATUS=$("${in_outer[@]}" curl -s --max-time 0.5 --interface "$WECHAT" -o /dev/null \
    -D "$E2E_DIR/headers" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary '{"customer_id":"0000000043","month":"2026-04"}' \
    "$E2E_URL/v1/bill.query")
kill -CONT "${E2E_PID[inner]}"
is "a client that gives up gets nothing" "${STATUS:-000}" 000
check_audit "the late answer is audited as client_gone" outer \
    '.event == "reply" and .reason == "client_gone" and .status == 200'
post bill.query "$bill"
is "outer serves on after the client left" "$STATUS" 200

#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end over TLS: the hostile battery (framing, smuggling, oversized and malformed bodies,
# SQL injection) and the limits (slowloris, idle, per-peer connections and pending, fairness).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export E2E_TLS=1
# Small limits, so that each is reached quickly; wechat-app's rate lowered
# so that its flood meets its token bucket.
E2E_POLICY_SED='/^outer[[:space:]]*{/a\
	limit header-size 2048\
	limit headers 16\
	limit handshake-timeout 2s\
	limit idle-timeout 3s\
	limit request-timeout 2s\
	limit peer-connections 12\
	limit peer-pending 4
/^peer wechat-app/,/^}/s#rate 500/s burst 1000#rate 100/s burst 100#
/^peer cmiot-operator/a\
	limit connections 14'
e2e_setup
grep -q 'limit peer-pending 4' "$E2E_POLICY" || bail "add the limits" "$(cat "$E2E_POLICY")"
grep -q 'limit connections 14' "$E2E_POLICY" || bail "cmiot's own limit" "$(cat "$E2E_POLICY")"
grep -q 'rate 100/s burst 100' "$E2E_POLICY" || bail "lower wechat-app's rate"
# A free-text message type: SQL text in it must be stored as data, verbatim.
cat >>"$E2E_POLICY" <<'POLICY'
message note.record {
	allow from wechat-app
	oneway
	request {
		note_id	string /^[A-Z0-9]{16}$/
		text	string max 400
	}
}
POLICY
sed -i '/^inner[[:space:]]*{/a\
	statement note.record "INSERT INTO notes(note_id, text) VALUES (:note_id, :text)"' "$E2E_POLICY"
sql 'CREATE TABLE notes (note_id TEXT PRIMARY KEY, text TEXT NOT NULL)' ||
    bail "create the notes table"
start_inner
start_outer
PKI=$E2E_DIR/pki
PROBE=(python3 "$E2E_ROOT/tests/e2e/tlsprobe.py")
bill='{"customer_id":"0000000123","month":"2026-06"}'
usage='{"iccid":"89860000000000000042","day":"2026-03-15","bytes_used":1,"status":"active"}'

# tap_in FILE: counts the TAP lines another program wrote, and shows them.
tap_in()
{
	local p f
	cat "$1"
	p=$(grep -c '^ok - ' "$1")
	f=$(grep -c '^not ok - ' "$1")
	E2E_PASS=$((E2E_PASS + p))
	E2E_FAIL=$((E2E_FAIL + f))
	[ $((p + f)) -gt 0 ] || not_ok "$1 reported nothing"
}

# --- the hostile battery ---------------------------------------------------------

"${PROBE[@]}" cases --port "$E2E_PORT" --pki "$PKI" \
    --audit "$E2E_DIR/audit/outer.audit" --header-size 2048 --headers 16 \
    >"$E2E_DIR/cases.tap" 2>&1
tap_in "$E2E_DIR/cases.tap"
is "no hostile case changed the bills" "$(table_digest bills)" "$(seed_digest bills)"
is "no hostile case reached payments" "$(sql 'SELECT count(*) FROM payments')" 0

# SQL text where the schema allows free text is data: stored byte for byte.
n=0
while IFS= read -r text; do
	n=$((n + 1))
	id=$(printf 'NOTE%012d' "$n")
	post note.record "$(jq -cn --arg id "$id" --arg t "$text" '{note_id: $id, text: $t}')"
	is "free text with SQL ($n) is accepted as data" "$STATUS" 202
	# 202 once on the spool: inner applies it a moment later.
	is "free text with SQL ($n) is stored verbatim" \
	    "$(sql_wait "SELECT text FROM notes WHERE note_id = '$id'" "$text")" "$text"
done <<'TEXTS'
x'); DROP TABLE bills;--
' OR '1'='1
1; UPDATE bills SET paid = 1;--
"; ATTACH DATABASE '/tmp/pwn.db' AS pwn; --
Robert'); DELETE FROM payments WHERE ('a'='a
:note_id ?1 @text $text
TEXTS
is "the bills are still the seeded ones" "$(table_digest bills)" "$(seed_digest bills)"
check "no database was attached" eval '[ ! -e /tmp/pwn.db ]'

# --- slowloris and idle, at once ---------------------------------------------------

"${PROBE[@]}" slow --port "$E2E_PORT" --pki "$PKI" --what head --deadline 2 \
    >"$E2E_DIR/slow-head.tap" 2>&1 &
p1=$!
"${PROBE[@]}" slow --port "$E2E_PORT" --pki "$PKI" --what body --deadline 2 \
    >"$E2E_DIR/slow-body.tap" 2>&1 &
p2=$!
"${PROBE[@]}" slow --port "$E2E_PORT" --pki "$PKI" --what handshake \
    --deadline 2 >"$E2E_DIR/slow-hs.tap" 2>&1 &
p3=$!
"${PROBE[@]}" idle --port "$E2E_PORT" --pki "$PKI" --deadline 3 \
    >"$E2E_DIR/idle.tap" 2>&1 &
p4=$!
wait $p1 $p2 $p3 $p4
for f in slow-head slow-body slow-hs idle; do
	tap_in "$E2E_DIR/$f.tap"
done
is "both slow requests are on record: deny request_timeout 408" \
    "$(audit_count outer '.event == "request" and .reason == "request_timeout" and .status == 408 and .peer == "wechat-app"')" 2
check_audit "the slow handshake is on record: tls handshake_timeout" outer \
    '.event == "tls" and .reason == "handshake_timeout"'

# --- connections per peer ----------------------------------------------------------

hold wechat --tls 12 --cert wechat-app
is "12 wechat-app connections are open" "$HOLD_TLS" 12
post bill.query "$bill"
check_error "the 13th wechat-app connection" 429 connection_limit
E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
is "cmiot-operator is served meanwhile" "$STATUS" 202
release wechat
is "outer closed none of the 12 it held" "$HOLD_GONE" 0
post_until 200 30 0.1 bill.query "$bill"
is "once they close, wechat-app is served again" "$STATUS" 200

# cmiot-operator's own `limit connections 14` outranks peer-connections 12.
hold cmiot13 --tls 13 --cert cmiot-operator
is "13 cmiot-operator connections are open" "$HOLD_TLS" 13
E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
is "its 14th is served (its own limit 14, not the peers' 12)" "$STATUS" 202
hold cmiot1 --tls 1 --cert cmiot-operator
is "and one more held" "$HOLD_TLS" 1
E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
check_error "with 14 held, its 15th is refused" 429 connection_limit
release cmiot13
release cmiot1

# --- exchanges in flight per peer ---------------------------------------------------

allowed='.event == "request" and .decision == "allow" and .type == "bill.query"'
before=$(audit_count outer "$allowed")
kill -STOP "${E2E_PID[inner]}"
inflight=()
for i in 1 2 3 4; do
	curl -sS --max-time 15 --interface "$WECHAT" --cacert "$PKI/ca.crt" \
	    --cert "$PKI/wechat-app.crt" --key "$PKI/wechat-app.key" \
	    -H 'Content-Type: application/json' -H 'Expect:' --data-binary "$bill" \
	    -o /dev/null -w '%{http_code}\n' "$E2E_URL/v1/bill.query" \
	    >"$E2E_DIR/pending.$i" 2>&1 &
	inflight+=($!)
done
for ((i = 0; i < 50; i++)); do
	[ "$(audit_count outer "$allowed")" -ge $((before + 4)) ] && break
	sleep 0.1
done
post bill.query "$bill"
check_error "a 5th bill.query while 4 are in flight" 429 pending_limit
coproc KEEP { "${PROBE[@]}" keep429 --port "$E2E_PORT" --pki "$PKI"; }
keep_pid=$KEEP_PID
# Our own copies: bash unsets KEEP when the coprocess ends.
exec {keep_r}<&"${KEEP[0]}" {keep_w}>&"${KEEP[1]}"
exec {KEEP[0]}<&- {KEEP[1]}>&-
keep_out=()
while read -r -t 30 line <&"$keep_r"; do
	[ "$line" = refused ] && break
	keep_out+=("$line")
done
kill -CONT "${E2E_PID[inner]}"
wait "${inflight[@]}"
is "the 4 in flight are answered once inner runs again" \
    "$(cat "$E2E_DIR"/pending.? | sort | uniq -c | tr -s ' ')" " 4 200"
echo go >&"$keep_w"
while read -r -t 30 line <&"$keep_r"; do
	keep_out+=("$line")
done
wait "$keep_pid" 2>/dev/null
printf '%s\n' "${keep_out[@]}" >"$E2E_DIR/keep429.tap"
tap_in "$E2E_DIR/keep429.tap"
is "the payment smuggled in the refused body was never executed" \
    "$(sql "SELECT count(*) FROM payments WHERE payment_id = 'SMUGGLED00000001'")" 0

# --- a flood from one peer does not starve another -----------------------------------

"${PROBE[@]}" flood --port "$E2E_PORT" --pki "$PKI" --cert wechat-app \
    --type bill.query --body "$bill" --seconds 4 --conns 8 \
    >"$E2E_DIR/flood.json" 2>&1 &
flood=$!
sleep 0.5
ok_cmiot=0
for i in $(seq 1 20); do
	E2E_CERT=cmiot-operator post iotcard.usage \
	    "{\"iccid\":\"8986000000000000$((1000 + i))\",\"day\":\"2026-03-16\",\"bytes_used\":$i,\"status\":\"active\"}" \
	    --interface "$CMIOT"
	[ "$STATUS" = 202 ] && ok_cmiot=$((ok_cmiot + 1))
done
wait $flood
diag "wechat-app flood: $(cat "$E2E_DIR/flood.json")"
is "cmiot-operator's 20 one-ways during wechat-app's flood are all accepted" "$ok_cmiot" 20
check "the flood was served (200s)" eval '[ "$(jq -r ".\"200\" // 0" "$E2E_DIR/flood.json")" -gt 0 ]'
check "the flood met wechat-app's rate limit (429s)" eval '[ "$(jq -r ".\"429\" // 0" "$E2E_DIR/flood.json")" -gt 0 ]'
is "no rate-limit record names cmiot-operator" \
    "$(audit_count outer '.reason == "rate_limited" and .peer == "cmiot-operator"')" 0
is "cmiot-operator's usage rows are all there" \
    "$(sql "SELECT count(*) FROM card_usage WHERE day = '2026-03-16'")" 20
post bill.query "$bill"
for ((i = 0; i < 30 && STATUS == 429; i++)); do
	sleep 0.2
	post bill.query "$bill"
done
is "after the flood wechat-app is served" "$STATUS" 200

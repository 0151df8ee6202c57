#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: the TLS front. Client certificates (none, unknown CA, revoked,
# wrong address, wrong type, valid), protocol versions and suites, and the
# audit record of each refused handshake.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || bail "openssl is missing"
export E2E_TLS=1
e2e_start
PKI=$E2E_DIR/pki
HOSTPORT=127.0.0.1:$E2E_PORT
bill='{"customer_id":"0000000042","month":"2026-03"}'
# A connection that never starts its handshake: closed after 10 s (checked
# at the end, while the rest runs).
exec 3<>"/dev/tcp/127.0.0.1/$E2E_PORT" || bail "open an idle connection"
idle_start=$SECONDS
usage='{"iccid":"89860000000000000042","day":"2026-03-15","bytes_used":1,"status":"active"}'

# tls_denied REASON: the number of "tls" deny records with that reason.
tls_denied()
{
	audit_count outer ".event == \"tls\" and .decision == \"deny\" and .reason == \"$1\""
}

# check_tls_audit DESCRIPTION REASON [ADDR]
check_tls_audit()
{
	check_audit "$1" outer ".event == \"tls\" and .decision == \"deny\" and .reason == \"$2\" and .addr == \"${3:-$WECHAT}\""
}

# --- valid certificates -------------------------------------------------------

post bill.query "$bill"
is "wechat-app's certificate from its address: bill.query answers 200" "$STATUS" 200
is "the answer carries rows" "$(jq -r '.rows | length' <<<"$BODY" 2>/dev/null)" 1

E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
is "cmiot-operator's certificate from its address: iotcard.usage 202" "$STATUS" 202

E2E_CERT=cmiot-operator post bill.query "$bill" --interface "$CMIOT"
is "cmiot-operator's certificate, a type it may not send: 403" "$STATUS" 403
is "… error forbidden" "$(jq -r .error <<<"$BODY" 2>/dev/null)" forbidden

# --- a valid certificate from another peer's address ----------------------------

E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$WECHAT"
is "cmiot-operator's certificate from wechat-app's address: 401" "$STATUS" 401
is "… error unauthenticated" "$(jq -r .error <<<"$BODY" 2>/dev/null)" unauthenticated
is "… the message speaks of the certificate" "$(jq -r .message <<<"$BODY" 2>/dev/null)" \
    "no peer for this client certificate and source address"
check_audit "… audited as tls deny address_mismatch with the certificate's peer" outer \
    '.event == "tls" and .reason == "address_mismatch" and .peer == "cmiot-operator" and .addr == "127.0.0.1"'

post bill.query "$bill" --interface "$CMIOT"
is "wechat-app's certificate from cmiot-operator's address: 401" "$STATUS" 401

# --- refused handshakes ---------------------------------------------------------

E2E_CERT= post bill.query "$bill"
is "no client certificate: no answer" "$STATUS" 000
check_tls_audit "… audited as tls deny no_certificate" no_certificate

E2E_CERT=revoked post bill.query "$bill"
is "a revoked certificate (CN=wechat-app): no answer" "$STATUS" 000
check_tls_audit "… audited as tls deny certificate_revoked" certificate_revoked

"$E2E_ROOT"/tools/pki.sh init "$E2E_DIR/other" || bail "create a second CA"
post bill.query "$bill" --cert "$E2E_DIR/other/wechat-app.crt" \
    --key "$E2E_DIR/other/wechat-app.key"
is "a certificate for wechat-app from another CA: no answer" "$STATUS" 000
check_tls_audit "… audited as tls deny unknown_ca" unknown_ca

rm -f "$E2E_DIR/headers"
st=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
    "http://$HOSTPORT/v1/bill.query" -d "$bill" 2>/dev/null)
is "plain HTTP to the TLS port: no answer" "${st:-000}" 000
check_tls_audit "… audited as tls deny plain_http" plain_http

# --- protocol versions and suites (openssl s_client) ----------------------------

# sclient ARG...: 0 if a handshake with wechat-app's certificate completes.
sclient()
{
	timeout 10 openssl s_client -brief -connect "$HOSTPORT" \
	    -CAfile "$PKI/ca.crt" -cert "$PKI/wechat-app.crt" \
	    -key "$PKI/wechat-app.key" "$@" </dev/null >"$E2E_DIR/sclient.out" 2>&1 &&
	    grep -q 'CONNECTION ESTABLISHED' "$E2E_DIR/sclient.out"
}

check "TLS 1.3 handshake completes" sclient -tls1_3
check "… reports TLSv1.3" grep -q 'Protocol version: TLSv1.3' "$E2E_DIR/sclient.out"
check "TLS 1.2 handshake completes" sclient -tls1_2
check "… with an AEAD suite" grep -Eq 'Ciphersuite: ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' "$E2E_DIR/sclient.out"
check "TLS 1.2 with ECDHE-ECDSA-CHACHA20-POLY1305 completes" \
    sclient -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305

n=$(tls_denied protocol_version)
if sclient -tls1 -cipher 'DEFAULT:@SECLEVEL=0'; then
	not_ok "TLS 1.0 is refused" "$(cat "$E2E_DIR/sclient.out")"
else
	ok "TLS 1.0 is refused"
fi
if sclient -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'; then
	not_ok "TLS 1.1 is refused" "$(cat "$E2E_DIR/sclient.out")"
else
	ok "TLS 1.1 is refused"
fi
sleep 0.3	# let the records land
is "… both audited as tls deny protocol_version" "$(tls_denied protocol_version)" $((n + 2))

n=$(tls_denied no_shared_cipher)
for suite in AES128-SHA ECDHE-ECDSA-AES128-SHA AES128-GCM-SHA256 \
    ECDHE-ECDSA-AES256-SHA384; do
	if sclient -tls1_2 -cipher "$suite"; then
		not_ok "TLS 1.2 with $suite is refused" "$(cat "$E2E_DIR/sclient.out")"
	else
		ok "TLS 1.2 with $suite is refused"
	fi
done
is "… each audited as tls deny no_shared_cipher" "$(tls_denied no_shared_cipher)" $((n + 4))

# No resumption: no session ticket is issued.
timeout 10 openssl s_client -connect "$HOSTPORT" -tls1_3 -CAfile "$PKI/ca.crt" \
    -cert "$PKI/wechat-app.crt" -key "$PKI/wechat-app.key" \
    -sess_out "$E2E_DIR/sess.pem" </dev/null >"$E2E_DIR/sclient.out" 2>&1
check "no TLS 1.3 session ticket is issued" \
    bash -c "! grep -q 'TLS session ticket' '$E2E_DIR/sclient.out'"

# --- the handshake timeout ------------------------------------------------------

for ((i = 0; i < 150; i++)); do
	[ "$(tls_denied handshake_timeout)" -ge 1 ] && break
	sleep 0.1
done
is "a connection without a handshake is audited as handshake_timeout" \
    "$(tls_denied handshake_timeout)" 1
waited=$((SECONDS - idle_start))
check "… after about 10 s (${waited}s)" test "$waited" -ge 9 -a "$waited" -le 14
if read -r -t 2 -u 3 _; then
	not_ok "… and closed" "it sent something"
elif [ $? -gt 128 ]; then
	not_ok "… and closed" "still open"
else
	ok "… and closed"
fi
exec 3<&-

# --- the connection keeps working after the refusals ------------------------------

post bill.query "$bill"
is "wechat-app still served after the refusals" "$STATUS" 200

# --- revocation while running: SIGHUP reloads client-ca and crl -------------------

hold revoked --wait 30 --tls 2 --cert wechat-app
is "two wechat-app connections are open" "$HOLD_TLS" 2
revoked_before=$(tls_denied certificate_revoked)
"$E2E_ROOT"/tools/pki.sh revoke "$PKI" wechat-app >/dev/null 2>&1 ||
    not_ok "tools/pki.sh revoke wechat-app"
cp "$PKI/crl.pem" "$E2E_DIR/crl.good"
kill -HUP "${E2E_PID[outer]}"
check "SIGHUP: outer reloads client-ca and crl and closes the 2 revoked connections" \
    wait_log outer "client-ca and crl reloaded, 2 connection(s) closed"
is "both are on record: tls deny certificate_revoked, peer wechat-app" \
    "$(audit_count outer '.event == "tls" and .reason == "certificate_revoked" and .peer == "wechat-app"')" 2
release revoked
is "the client sees both closed" "$HOLD_GONE" 2
post bill.query "$bill"
is "a new wechat-app handshake is refused" "$STATUS" 000
check "… and audited certificate_revoked" \
    eval '[ "$(tls_denied certificate_revoked)" -ge $((revoked_before + 3)) ]'
E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
is "cmiot-operator is still served" "$STATUS" 202
echo "not a CRL" >"$PKI/crl.pem"
kill -HUP "${E2E_PID[outer]}"
check "SIGHUP with a broken crl: outer keeps the previous trust and says so" \
    wait_log outer "client-ca and crl not reloaded"
E2E_CERT=cmiot-operator post iotcard.usage "$usage" --interface "$CMIOT"
is "cmiot-operator is still served after it" "$STATUS" 202
post bill.query "$bill"
is "and the revoked certificate still refused" "$STATUS" 000
cp "$E2E_DIR/crl.good" "$PKI/crl.pem"

all_json() { jq -e -s 'all(.[]; type == "object" and has("event"))' "$1" >/dev/null; }
check "every outer audit line is a JSON record" all_json "$E2E_DIR/audit/outer.audit"

e2e_finish

#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# External scanners against a demo front over TLS: sqlmap on bill.query and payment.record with a
# client certificate, and testssl.sh on the listener. `make test-external`; takes minutes.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

for t in sqlmap testssl; do
	command -v "$t" >/dev/null || bail "$t is missing (tools/deps.sh external installs it)"
done
export E2E_TLS=1
# The scanners send hundreds of requests a second: room for them in the
# rate, which is not what is under test here.
E2E_POLICY_SED='s#rate 500/s burst 1000#rate 100000/s burst 100000#'
e2e_start
PKI=$E2E_DIR/pki
cat "$PKI/wechat-app.crt" "$PKI/wechat-app.key" >"$E2E_DIR/wechat-app.pem"

# --- sqlmap --------------------------------------------------------------------------

# sqlmap_type TYPE JSON: every parameter of TYPE, level 3 / risk 2, every
# technique; sqlmap must find none injectable.
sqlmap_type()
{
	local type=$1 json=$2 log=$E2E_DIR/sqlmap-$1.log
	# sqlmap's client-certificate connection verifies the server with
	# Python's default context: the test CA is its trust store here.
	SSL_CERT_FILE=$PKI/ca.crt sqlmap -u "$E2E_URL/v1/$type" --data "$json" --method POST \
	    --headers 'Content-Type: application/json' \
	    --auth-type PKI --auth-file "$E2E_DIR/wechat-app.pem" \
	    --batch --level 3 --risk 2 --technique BEUSTQ --threads 4 \
	    --flush-session --output-dir "$E2E_DIR/sqlmap" --disable-coloring \
	    >"$log" 2>&1
	diag "sqlmap $type: $(grep -c . "$log") lines; $(grep -E 'HTTP requests|do not appear|not injectable' "$log" | head -n 3 | tr '\n' ' ')"
	if grep -q -i -E "is vulnerable|appears to be .*injectable|identified the following injection|sqlmap resumed the following injection" "$log"; then
		not_ok "sqlmap finds no injectable parameter in $type" "$(grep -i -E 'injectable|vulnerable|Parameter:' "$log" | head -n 20)"
	elif grep -q -E "all tested parameters do not appear to be injectable" "$log"; then
		ok "sqlmap finds no injectable parameter in $type"
	else
		not_ok "sqlmap finds no injectable parameter in $type (it did not finish its tests)" "$(tail -n 20 "$log")"
	fi
}

sqlmap_type bill.query '{"customer_id":"0000000001","month":"2026-01"}'
sqlmap_type payment.record '{"payment_id":"SQLMAP0000000001","customer_id":"0000000001","amount_cents":100,"paid_at":"2026-01-01T10:00:00Z"}'
is "the bills are still the seeded ones" "$(table_digest bills)" "$(seed_digest bills)"
n=$(sql 'SELECT count(*) FROM payments')
diag "payments stored during sqlmap's run: $n (valid payments it replayed)"
is "every stored payment is a well-formed one (no SQL text stored)" \
    "$(sql "SELECT count(*) FROM payments WHERE payment_id GLOB '*[^A-Z0-9]*' OR customer_id GLOB '*[^0-9]*'")" 0
check "outer is still running" alive outer
check "inner is still running" alive inner

# --- testssl.sh ----------------------------------------------------------------------

# Protocols, cipher categories, every cipher per protocol, vulnerabilities.
# (Without a client certificate testssl cannot speak HTTP through this
# listener; its HTTP-level checks are not the TLS configuration.)
testssl --quiet --color 0 --warnings off --openssl-timeout 10 \
    -p -s -E -U --jsonfile "$E2E_DIR/testssl.json" "127.0.0.1:$E2E_PORT" \
    >"$E2E_DIR/testssl.log" 2>&1
[ -s "$E2E_DIR/testssl.json" ] || bail "testssl wrote no JSON" "$(tail -n 20 "$E2E_DIR/testssl.log")"
T=$E2E_DIR/testssl.json
for p in SSLv2 SSLv3 TLS1 TLS1_1; do
	is "testssl: $p not offered" "$(jq -r ".[] | select(.id == \"$p\") | .finding" "$T")" "not offered"
done
for p in TLS1_2 TLS1_3; do
	check "testssl: $p offered" eval "jq -r '.[] | select(.id == \"$p\") | .finding' '$T' | grep -q '^offered'"
done
weak=$(jq -r '.[] | select(.id | test("^cipherlist_(NULL|aNULL|EXPORT|LOW|3DES_IDEA|AVERAGE|OBSOLETED)$")) | select(.finding | test("not offered") | not) | "\(.id): \(.finding)"' "$T")
is "testssl: no NULL, anonymous, export, low, 3DES/IDEA or CBC-obsoleted cipher offered" "$weak" ""
nonfs=$(jq -r '.[] | select(.id | test("^cipher-tls1_[23]_")) | select(.finding | test("ECDHE|DHE|TLS_AES|TLS_CHACHA") | not) | "\(.id): \(.finding)"' "$T")
is "testssl: every cipher offered is forward secret" "$nonfs" ""
vuln=$(jq -r '.[] | select(.finding | test("VULNERABLE")) | select(.finding | test("not vulnerable|NOT vulnerable") | not) | "\(.id): \(.finding)"' "$T")
is "testssl: no known vulnerability" "$vuln" ""
bad=$(jq -r '.[] | select(.severity == "HIGH" or .severity == "CRITICAL") | "\(.id) \(.severity): \(.finding)"' "$T")
is "testssl: no HIGH or CRITICAL finding" "$bad" ""
diag "testssl findings: $(jq -r '[.[] | .severity] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$T")"

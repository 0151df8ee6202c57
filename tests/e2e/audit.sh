#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: both journals after traffic of every kind verify, rotate, trace, show, stats, and detect tampering.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# Outer rotates every 4 KiB and signs every 5 records; inner fsyncs each;
# payments are journaled with their content.
export E2E_POLICY_SED='s#\(/outer\.audit"\)$#\1\n\taudit rotate 4K\n\taudit checkpoint 5#; s#\(/inner\.audit"\)$#\1\n\taudit sync\n\taudit checkpoint 1s#; s#^\(message payment\.record {\)$#\1\n\taudit content#'
e2e_start
isogate=$ISOGATE_BIN/isogate
A=$E2E_DIR/audit
K=$E2E_DIR/keys
check "the policy copy has the journal settings" \
    grep -q 'audit rotate 4K' "$E2E_POLICY"

# run ARG...: the tool; sets RC, OUT, ERR.
run()
{
	"$isogate" "$@" >"$E2E_DIR/out" 2>"$E2E_DIR/err"
	RC=$?
	OUT=$(cat "$E2E_DIR/out")
	ERR=$(cat "$E2E_DIR/err")
}

# --- traffic of every kind ----------------------------------------------------
post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
is "a query answers 200" "$STATUS" 200
QID=$XID
post bill.query '{"customer_id":"42","month":"2026-03"}'
is "a bad query answers 400" "$STATUS" 400
SID=$XID
post payment.record '{"payment_id":"PAYAUDIT00000001","customer_id":"0000000042","amount_cents":100,"paid_at":"2026-03-01T10:00:00Z"}'
is "a payment answers 202" "$STATUS" 202
PID=$XID
post iotcard.usage '{"iccid":"8986000000000000001","day":"2026-03-15","bytes_used":1,"status":"active"}' --interface "$CMIOT"
is "a card usage from the operator answers 202" "$STATUS" 202
post iotcard.usage '{"iccid":"8986000000000000001","day":"2026-03-15","bytes_used":1,"status":"active"}'
is "a card usage from the wrong peer answers 403" "$STATUS" 403
post no.such '{}'
is "an unknown type answers 404" "$STATUS" 404
post bill.query '{"customer_id":"0000000042","month":"2026-03"}' --interface "$STRANGER"
is "a stranger gets 401" "$STATUS" 401
for i in $(seq 1 24); do
	post bill.query "{\"customer_id\":\"00000000$((10 + i))\",\"month\":\"2026-0$((i % 9 + 1))\"}"
done
is "the last of 24 more queries answers 200" "$STATUS" 200
check_audit "inner executed the payment" inner \
    ".event == \"execute\" and .id == \"$PID\""
check_audit "outer saw the last reply" outer \
    ".event == \"reply\" and .id == \"$XID\""
# audit content: inner's record holds the payment's canonical payload, whose
# SHA-256 is the record's digest; a query's record holds none.
rec=$(audit_lines inner ".event == \"execute\" and .id == \"$PID\"")
content=$(jq -j '.content // empty' <<<"$rec")
check "inner journaled the payment's content" \
    eval '[ -n "$content" ] && [ "$(jq -r .payment_id <<<"$content")" = PAYAUDIT00000001 ]'
is "... whose SHA-256 is the record's digest" \
    "$(printf '%s' "$content" | sha256sum | cut -d' ' -f1)" "$(jq -r .digest <<<"$rec")"
is "a query's record holds no content" \
    "$(audit_lines inner ".id == \"$QID\" and has(\"content\")")" ""
stop_outer
stop_inner

# --- verify -------------------------------------------------------------------
nfiles=$(find "$A" -name 'outer.audit*' | wc -l)
check "outer's journal rotated into several files ($nfiles)" test "$nfiles" -ge 3
run audit verify --key "$K/outer.pub" "$A"/outer.audit*
is "outer's journal verifies with outer's key" "$RC" 0 || diag "$OUT" "$ERR"
check "verify prints one summary line" \
    eval '[ "$(wc -l <<<"$OUT")" = 1 ] && grep -q "^OK: outer journal intact: .* in $nfiles files" <<<"$OUT"'
diag "$OUT"
run audit verify --key "$K/inner.pub" "$A"/inner.audit
is "inner's journal verifies with inner's key" "$RC" 0 || diag "$OUT" "$ERR"
diag "$OUT"
run audit verify --key "$K/inner.pub" "$A"/outer.audit*
is "outer's journal fails with inner's key" "$RC" 1
check "... naming a bad checkpoint signature" \
    grep -q "^FAILED: $A/outer.audit.000000:[0-9]*: bad checkpoint signature" "$E2E_DIR/out"
run audit verify "$A"/outer.audit
is "verify without --key is a usage error" "$RC" 2
run audit verify --key "$K/outer.pub" "$A/nothing.audit"
is "a missing file is exit 2" "$RC" 2
check "... saying which" grep -q 'nothing.audit' "$E2E_DIR/err"

# docs/audit.md's own verifier, an independent implementation of the format.
if python3 -c 'import cryptography' 2>/dev/null; then
	sed -n '/^```python verify-journal$/,/^```$/p' "$E2E_ROOT/docs/audit.md" |
	    sed '1d;$d' >"$E2E_DIR/verify.py"
	check "docs/audit.md's Python verifier accepts outer's journal" \
	    python3 "$E2E_DIR/verify.py" "$K/outer.pub" "$A"/outer.audit*
	check "... and inner's" python3 "$E2E_DIR/verify.py" "$K/inner.pub" "$A"/inner.audit
	check "... and refuses outer's with inner's key" \
	    eval '! python3 "$E2E_DIR/verify.py" "$K/inner.pub" "$A"/outer.audit* >/dev/null'
else
	echo "ok - docs/audit.md's Python verifier # SKIP python3-cryptography missing"
fi

# --- show ---------------------------------------------------------------------
# expect_show DESCRIPTION JQ-FILTER SHOW-ARG...: show --json prints exactly
# the records the filter selects, in file order.
expect_show()
{
	local what=$1 filter=$2 want got
	shift 2
	want=$(cat "$A"/outer.audit.0* "$A"/outer.audit "$A"/inner.audit |
	    jq -c "select(.event != \"file\" and .event != \"checkpoint\") | select($filter)")
	run audit show --json "$@" "$A"/outer.audit.0* "$A"/outer.audit "$A"/inner.audit
	if [ "$RC" = 0 ] && [ -n "$want" ] && [ "$(jq -c . <<<"$OUT")" = "$want" ]; then
		ok "show $what"
	else
		not_ok "show $what" "rc $RC; want $(wc -l <<<"$want") lines, got $(wc -l <<<"$OUT")" "$ERR"
	fi
}
expect_show "--decision deny" '.decision == "deny"' --decision deny
expect_show "--type bill.query --decision allow" \
    '.type == "bill.query" and .decision == "allow"' --type bill.query --decision allow
expect_show "--peer cmiot-operator" '.peer == "cmiot-operator"' --peer cmiot-operator
expect_show "--id (both sides of one exchange)" ".id == \"$PID\"" --id "$PID"
expect_show "--event execute" '.event == "execute"' --event execute
expect_show "--since yesterday" 'true' --since "$(date -u -d yesterday +%Y-%m-%d)"
run audit show --json --until 2000-01-01 "$A"/outer.audit
is "show --until long ago finds nothing" "$RC:$OUT" "0:"
run audit show --id "$SID" "$A"/outer.audit*
check "the table names the refused query's reason" \
    eval 'grep "$SID" <<<"$OUT" | grep -q "deny  *schema  *400"'
run audit show --since yesterdayish "$A"/outer.audit
is "a bad time is a usage error" "$RC" 2

# --- trace --------------------------------------------------------------------
run audit trace "$QID" --outer "$A" --inner "$A"
is "trace finds the query" "$RC" 0 || diag "$ERR"
diag "$OUT"
check "trace shows it received and crossed on outer" \
    eval 'grep -q "outer request  *allow .*received, checked, crossed" <<<"$OUT"'
check "trace shows it executed on inner" \
    eval 'grep -q "inner execute  *allow .*rows=1 .*executed" <<<"$OUT"'
check "trace shows it replied and delivered on outer" \
    eval 'grep -q "outer reply  *allow 200 .*delivered" <<<"$OUT"'
check "trace says both sides saw it" eval 'grep -q "seen on both sides" <<<"$OUT"'
check "trace lists the stages in order" \
    eval '[ "$(grep -o -E "(outer request|inner execute|outer reply)" <<<"$OUT" | tr "\n" ,)" = "outer request,inner execute,outer reply," ]'
run audit trace "$SID" --outer "$A" --inner "$A"
check "trace of a refused query: outer only" \
    eval '[ "$RC" = 0 ] && grep -q "refused by outer (schema)" <<<"$OUT" && grep -q "outer side only" <<<"$OUT"'
run audit trace 00000000000000000000000000000000 --outer "$A" --inner "$A"
is "trace of an unknown id exits 1" "$RC" 1

# --- stats --------------------------------------------------------------------
run audit stats --json "$A"/outer.audit* "$A"/inner.audit
is "stats runs" "$RC" 0
want=$(cat "$A"/outer.audit* | jq -s '[.[] | select(.side == "outer" and .event == "request" and .type == "bill.query" and .peer == "wechat-app" and .decision == "allow")] | length')
got=$(jq -r 'select(.side == "outer" and .event == "request" and .type == "bill.query" and .peer == "wechat-app") | .allowed' <<<"$OUT")
is "stats counts allowed queries" "$got" "$want"
got=$(jq -r 'select(.side == "outer" and .event == "request" and .type == "bill.query" and .peer == "wechat-app") | .reasons.schema' <<<"$OUT")
is "stats counts denials by reason" "$got" 1
check "stats gives latency percentiles for replies" \
    eval 'jq -s -e "map(select(.event == \"reply\" and .type == \"bill.query\")) | .[0].latency_ms.p99 > 0" <<<"$OUT" >/dev/null'
run audit stats "$A"/outer.audit*
check "the stats table has a header and rows" \
    eval 'grep -q "^SIDE  *EVENT" <<<"$OUT" && grep -q "bill.query" <<<"$OUT"'

# --- tampering, each caught with its reason -----------------------------------
T=$E2E_DIR/tamper
# tamper NAME COMMAND WANT: a fresh copy of outer's files, COMMAND run in it,
# then verify must exit 1 with WANT in its line.
tamper()
{
	local name=$1 cmd=$2 want=$3
	rm -rf "$T" && mkdir -p "$T" && cp "$A"/outer.audit* "$T"/ || return 1
	(cd "$T" && eval "$cmd")
	run audit verify --key "$K/outer.pub" "$T"/outer.audit*
	if [ "$RC" = 1 ] && grep -q -- "$want" "$E2E_DIR/out"; then
		ok "tamper: $name"
	else
		not_ok "tamper: $name" "rc $RC, want: $want" "$OUT" "$ERR"
	fi
}
tamper "a changed field" "sed -i '3s/wechat-app/wechat-app2/' outer.audit.000001" \
    "outer.audit.000001:3: record changed"
tamper "a deleted record" "sed -i '3d' outer.audit.000001" \
    "outer.audit.000001:3: record n=[0-9]* removed"
tamper "an inserted record" "sed -i '3p' outer.audit.000001" \
    "outer.audit.000001:4: .*inserted"
tamper "two records swapped" "sed -i '3{h;d};4G' outer.audit.000001" \
    "outer.audit.000001:3: records out of order"
tamper "a truncated file" "head -c -20 outer.audit > x && mv x outer.audit" \
    "outer.audit:[0-9]*: truncated record"
tamper "records cut after the last checkpoint" "sed -i '\$d' outer.audit" \
    "outer.audit:[0-9]*: truncated tail"
tamper "a forged checkpoint signature" \
    "l=\$(grep -n checkpoint outer.audit.000001 | head -n 1 | cut -d: -f1); sed -i \"\${l}s/\\\"sig\\\":\\\"./\\\"sig\\\":\\\"\$(grep checkpoint outer.audit.000001 | head -n 1 | sed 's/.*\"sig\":\"\\(.\\).*/\\1/' | tr 0-9a-f 1-9a-f0)/\" outer.audit.000001" \
    "outer.audit.000001:[0-9]*: bad checkpoint signature"
tamper "a file missing from the middle of the rotation" "rm outer.audit.000001" \
    "chain broken across a rotation: file 2 follows file 0 (a file is missing)"
tamper "the newest file missing" "rm outer.audit" \
    "chain broken across a rotation: the next file is missing"

# --- a restart continues the chain ----------------------------------------------
start_inner
start_outer
post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
is "after a restart a query answers 200" "$STATUS" 200
stop_outer
stop_inner
run audit verify --key "$K/outer.pub" "$A"/outer.audit*
is "outer's journal still verifies across the restart" "$RC" 0 || diag "$OUT"
run audit verify --key "$K/inner.pub" "$A"/inner.audit
is "inner's journal still verifies across the restart" "$RC" 0 || diag "$OUT"
check "inner's journal holds two closing checkpoints" \
    eval '[ "$(grep -c "\"reason\":\"close\"" "$A/inner.audit")" = 2 ]'

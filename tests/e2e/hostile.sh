#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: 1,000 hostile requests change nothing, get contract answers, and the daemons survive.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start

tables="bills payments card_usage"
declare -A before=()
for t in $tables; do
	before[$t]=$(table_digest "$t")
done
applied=$(sql 'SELECT count(*) FROM isogate_applied')

mapfile -t in_outer < <(e2e_in_ns outer)	# eth: outer's namespace
out=$("${in_outer[@]}" python3 "$E2E_ROOT/tests/e2e/hammer.py" hostile --port "$E2E_PORT" \
    --count 1000 --seed "${HOSTILE_SEED:-1}")
rc=$?
if [ "$rc" = 0 ]; then
	ok "1000 hostile requests all get a contract error answer ($(printf '%s' "$out" | jq -c .statuses))"
else
	not_ok "1000 hostile requests all get a contract error answer" \
	    "$(printf '%s' "$out" | jq -r '"\(.problems) problems, e.g.:", .examples[]' 2>/dev/null || printf '%s' "$out")"
fi
check "outer is still running" alive outer
check "inner is still running" alive inner

# The hostile run may have used up wechat-app's burst: retry on 429.
for ((i = 0; i < 30; i++)); do
	post bill.query '{"customer_id":"0000000123","month":"2026-06"}'
	[ "$STATUS" = 429 ] || break
	sleep 0.2
done
is "a valid query still returns the seeded row" \
    "$STATUS $(jbody .rows | jq -cS .)" "200 $(bill_expected 123 6)"
post payment.record '{"payment_id":"PAYAFTERHOSTILE01","customer_id":"0000000123","amount_cents":321,"paid_at":"2026-06-30T23:59:59+08:00"}'
is "a valid payment is still accepted" "$STATUS" 202

for t in $tables; do
	[ "$t" = payments ] && continue
	is "table $t is unchanged" "$(table_digest "$t")" "${before[$t]}"
done
is "payments holds just the one valid payment" \
    "$(sql 'SELECT group_concat(payment_id) FROM payments')" PAYAFTERHOSTILE01
is "isogate_applied grew by that one exchange" \
    "$(sql 'SELECT count(*) FROM isogate_applied')" $((applied + 1))
is "no hostile request reached inner's executor" \
    "$(audit_count inner '.event == "execute"')" 2
is "outer audited no hostile request as allowed" \
    "$(audit_count outer '.event == "request" and .decision == "allow"')" 2
denies=$(audit_count outer '.event == "request" and .decision == "deny"')
check "outer audited the hostile requests as denied ($denies records)" \
    eval '[ "$denies" -ge 900 ]'

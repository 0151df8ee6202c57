#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End to end: the isogate command: check on the example and on broken policies, keygen.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_setup	# files only, no daemons
isogate=$ISOGATE_BIN/isogate
example=$E2E_ROOT/policy/examples/grid.policy

# isogate_run ARG...: runs the tool, sets RC, OUT and ERR.
isogate_run()
{
	"$isogate" "$@" >"$E2E_DIR/out" 2>"$E2E_DIR/err"
	RC=$?
	OUT=$(cat "$E2E_DIR/out")
	ERR=$(cat "$E2E_DIR/err")
}

# A clean checkout has no run/keys: -n checks the language and semantics only.
isogate_run check -n "$example"
is "check -n accepts policy/examples/grid.policy" "$RC" 0 || diag "$ERR"
isogate_run check "$E2E_POLICY"
is "check accepts the test copy (with its keys)" "$RC" 0 || diag "$ERR"

isogate_run check -v "$E2E_POLICY"
is "check -v accepts it too" "$RC" 0
check "check -v prints the normalised policy" \
    eval 'grep -q "^message bill.query" <<<"$OUT" && grep -q "^peer wechat-app" <<<"$OUT"'
printf '%s\n' "$OUT" >"$E2E_DIR/policy/normalised.policy"
first=$OUT
isogate_run check -v "$E2E_DIR/policy/normalised.policy"
is "the normalised policy checks and normalises to itself" "$RC $OUT" "0 $first"

# A broken copy: MIN > MAX on line A, an unknown peer on line B, an unknown
# keyword on line C. Every error is reported, each as file:line: message.
broken=$E2E_DIR/policy/broken.policy
cp "$E2E_POLICY" "$broken"
a=$(grep -n 'kwh[[:space:]]*integer' "$broken" | head -n 1 | cut -d: -f1)
b=$(grep -n 'allow from cmiot-operator' "$broken" | head -n 1 | cut -d: -f1)
c=$(grep -n 'timeout 2s' "$broken" | head -n 1 | cut -d: -f1)
if [ -z "$a" ] || [ -z "$b" ] || [ -z "$c" ]; then
	not_ok "find the lines to break in grid.policy" "kwh: $a, allow: $b, timeout: $c"
else
	sed -i -e "${a}s/integer.*/integer 100..1/" \
	    -e "${b}s/allow from cmiot-operator/allow from nobody-such/" \
	    -e "${c}s/timeout 2s/frobnicate 2s/" "$broken"
	isogate_run check "$broken"
	is "check refuses the broken copy with exit 1" "$RC" 1
	for l in "$a" "$b" "$c"; do
		check "check reports $broken:$l:" \
		    eval 'grep -q "^$broken:$l: ." <<<"$ERR"'
	done
	check "every error line has the form file:line: message" \
	    eval '! grep -v -E "^[^:]+:[0-9]+: .+" <<<"$ERR" | grep -q .'
	is "nothing on stdout" "$OUT" ""
	diag "$ERR"
fi

isogate_run check "$E2E_DIR/no-such.policy"
check "check on a missing file: exit 1 and a message naming it" \
    eval '[ "$RC" = 1 ] && grep -q "no-such.policy" <<<"$ERR"'
isogate_run check
is "check without a policy is bad usage (exit 2)" "$RC" 2
isogate_run frobnicate
is "an unknown command is bad usage (exit 2)" "$RC" 2

# keygen
isogate_run keygen "$E2E_DIR/keys/extra"
is "keygen writes a key pair" "$RC" 0
is "the private key is mode 600" "$(stat -c %a "$E2E_DIR/keys/extra.key" 2>/dev/null)" 600
check "the private key is an Ed25519 PKCS#8 key" \
    eval 'openssl pkey -in "$E2E_DIR/keys/extra.key" -noout -text 2>/dev/null | grep -q ED25519'
check "the public key matches it" \
    eval '[ "$(openssl pkey -in "$E2E_DIR/keys/extra.key" -pubout 2>/dev/null)" = "$(cat "$E2E_DIR/keys/extra.pub")" ]'
sum=$(sha256sum "$E2E_DIR/keys/extra.key")
isogate_run keygen "$E2E_DIR/keys/extra"
is "keygen refuses to overwrite (exit 1)" "$RC" 1
is "the existing key is unchanged" "$(sha256sum "$E2E_DIR/keys/extra.key")" "$sum"

# keygen --link: the eth: link key, and the policy that names it.
isogate_run keygen --link "$E2E_DIR/keys/link.key"
is "keygen --link writes a link key" "$RC" 0
is "... of 32 bytes" "$(stat -c %s "$E2E_DIR/keys/link.key" 2>/dev/null)" 32
is "... mode 600" "$(stat -c %a "$E2E_DIR/keys/link.key" 2>/dev/null)" 600
sum=$(sha256sum "$E2E_DIR/keys/link.key")
isogate_run keygen --link "$E2E_DIR/keys/link.key"
is "keygen --link refuses to overwrite (exit 1)" "$RC" 1
is "the existing link key is unchanged" "$(sha256sum "$E2E_DIR/keys/link.key")" "$sum"
eth_policy=$E2E_DIR/policy/eth.policy
sed -e '/^\(outer\|inner\)[[:space:]]*{/,/^}/s#^\([[:space:]]*\)\(inward\|outward\)[[:space:]].*#\1\2 "eth:ferry0"#' \
    "$E2E_POLICY" >"$eth_policy"
isogate_run check "$eth_policy"
check "check refuses an eth: ferry without a link key, file:line" \
    eval '[ "$RC" = 1 ] && grep -q "^$eth_policy:[0-9]*: an eth: ferry needs a link key" <<<"$ERR"'
sed -i -e "/^\(outer\|inner\)[[:space:]]*{/a\\	link key \"$E2E_DIR/keys/link.key\"" "$eth_policy"
isogate_run check "$eth_policy"
is "check takes it with the key on both sides" "$RC" 0
chmod 640 "$E2E_DIR/keys/link.key"
isogate_run check "$eth_policy"
check "check refuses a group-readable link key, file:line" \
    eval '[ "$RC" = 1 ] && grep -q "^$eth_policy:[0-9]*: link key .* is readable by group or others (chmod 600)" <<<"$ERR"'
inner_err=$(timeout 20 "$ISOGATE_BIN/isogate-inner" -f "$eth_policy" 2>&1 >/dev/null)
check "inner refuses to start on it, naming the file and line" \
    grep -q "^$eth_policy:[0-9]*: link key .* (chmod 600)" <<<"$inner_err"
chmod 600 "$E2E_DIR/keys/link.key"

# Fail closed: the daemons refuse to start on a bad set-up, with one line.
# daemon_refuses NAME POLICY PATTERN DESCRIPTION
daemon_refuses()
{
	timeout 20 "$ISOGATE_BIN/isogate-$1" -f "$2" >"$E2E_DIR/out" 2>"$E2E_DIR/err"
	RC=$?
	ERR=$(cat "$E2E_DIR/err")
	if [ "$RC" = 1 ] && grep -q -- "$3" <<<"$ERR"; then
		ok "$4"
	else
		not_ok "$4" "exit status $RC, want 1 and a message matching: $3" "$ERR"
	fi
}

daemon_refuses outer "$broken" "$broken:$a:" "outer refuses to start on the broken policy"
daemon_refuses inner "$broken" "$broken:$a:" "inner refuses to start on the broken policy"
chmod 644 "$E2E_DIR/keys/outer.key"
daemon_refuses outer "$E2E_POLICY" "chmod 600" \
    "outer refuses a group/world-readable private key"
chmod 600 "$E2E_DIR/keys/outer.key"
mv "$E2E_DB" "$E2E_DB.away"
daemon_refuses inner "$E2E_POLICY" "grid.db" "inner refuses to start without its database"
mv "$E2E_DB.away" "$E2E_DB"

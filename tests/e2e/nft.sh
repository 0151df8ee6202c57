#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# isogate nft: the generated rulesets match the golden files in tests/nft/ and load with nft.
#
# For each tests/nft/NAME.policy (and the example policy as grid), both
# sides' rulesets are compared with NAME-SIDE.nft, checked with `nft -c -f`
# and loaded twice (they replace themselves) in a network namespace of the
# test's own. NAME-queue.nft / NAME-iptables.sh are the guard's queue rule;
# this kernel lacks nft's queue statement, so the iptables-nft form is the
# one loaded. UPDATE_GOLDEN=1 rewrites the golden files.
. "$(dirname "$0")/lib.sh"

NS=isg-nft-$$-$RANDOM
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isogate-nft.XXXXXX") || bail "mktemp"
cleanup()
{
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
	e2e_finish
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || bail "ip netns add $NS (the test runs as root)"
# The eth: ferry links the policies name.
ip -n "$NS" link add ferry0 type veth peer name ferry0p ||
    bail "add the veth link ferry0"

# golden NAME SIDE POLICY [ARGS...]: isogate nft output against the file.
golden()
{
	local name=$1 file=$2 policy=$3 out=$TMP/$2
	shift 3
	if ! "$ISOGATE_BIN"/isogate nft "$@" "$policy" >"$out" 2>"$TMP/err"; then
		not_ok "$name: isogate nft $* exits 0" "$(cat "$TMP/err")"
		return 1
	fi
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$out" "$E2E_ROOT/tests/nft/$file"
	fi
	if diff -u "$E2E_ROOT/tests/nft/$file" "$out" >"$TMP/diff"; then
		ok "$name: output matches tests/nft/$file"
	else
		not_ok "$name: output matches tests/nft/$file" "$(head -n 40 "$TMP/diff")"
	fi
}

# loads FILE: nft -c, then nft -f twice (the file replaces its own tables).
loads()
{
	local name=$1 f=$TMP/$2
	if ip netns exec "$NS" nft -c -f "$f" 2>"$TMP/err"; then
		ok "$name: nft -c -f accepts it"
	else
		not_ok "$name: nft -c -f accepts it" "$(cat "$TMP/err")"
	fi
	if ip netns exec "$NS" nft -f "$f" 2>"$TMP/err" &&
	    ip netns exec "$NS" nft -f "$f" 2>>"$TMP/err"; then
		ok "$name: nft -f loads it, and again over itself"
	else
		not_ok "$name: nft -f loads it, and again over itself" "$(cat "$TMP/err")"
	fi
}

for p in "$E2E_ROOT"/tests/nft/*.policy "$E2E_ROOT/policy/examples/grid.policy"; do
	name=$(basename "$p" .policy)
	for side in outer inner; do
		golden "$name $side" "$name-$side.nft" "$p" --side "$side" &&
		    loads "$name $side" "$name-$side.nft"
	done
	if grep -q '^[[:space:]]*guard[[:space:]]' "$p"; then
		golden "$name guard rule" "$name-queue.nft" "$p" --side outer --queue
		golden "$name guard rule (iptables-nft)" "$name-iptables.sh" "$p" \
		    --side outer --iptables &&
		if ip netns exec "$NS" sh -e "$TMP/$name-iptables.sh" 2>"$TMP/err"; then
			ok "$name: the iptables-nft queue rule loads"
		else
			not_ok "$name: the iptables-nft queue rule loads" "$(cat "$TMP/err")"
		fi
		# The main ruleset loads beside it whatever the kernel.
		loads "$name outer beside the queue rule" "$name-outer.nft"
	else
		"$ISOGATE_BIN"/isogate nft --side outer --queue "$p" >/dev/null 2>"$TMP/err"
		is "$name: no guard, no queue rule (exit 1)" "$?" 1
		grep -q 'has no guard' "$TMP/err" ||
		    not_ok "$name: says why there is no queue rule" "$(cat "$TMP/err")"
	fi
done

# The whole ruleset as loaded: default drop on every hook of both sides.
ip netns exec "$NS" nft list ruleset >"$TMP/ruleset" 2>/dev/null
n=$(grep -c 'policy drop;' "$TMP/ruleset")
is "every base chain loaded drops by default (inet x3 per side, netdev x2)" "$n" 8

"$ISOGATE_BIN"/isogate nft --side sideways "$E2E_ROOT/tests/nft/guard.policy" >/dev/null 2>&1
is "a bad --side is a usage error (exit 2)" "$?" 2
"$ISOGATE_BIN"/isogate nft --side inner --queue "$E2E_ROOT/tests/nft/guard.policy" >/dev/null 2>&1
is "inner has no queue rule (exit 2)" "$?" 2
printf 'peer a {\n\taddress { 10.0.0.1 }\n}\nmessage m {\n\tallow from a\n\toneway\n\trequest { x boolean }\n}\ninner {\n\tdatabase postgres "host=db.example port=5432"\n\tinward "fifo:/r/i"\n\toutward "fifo:/r/o"\n\tkey "/k/i.key"\n\tpeer-key "/k/o.pub"\n\taudit "/a/i"\n\tstate "/s/i"\n\tstatement m "INSERT INTO t(x) VALUES (:x)"\n}\n' >"$TMP/named.policy"
"$ISOGATE_BIN"/isogate nft --side inner "$TMP/named.policy" >/dev/null 2>"$TMP/err"
rc=$?
is "a database host name is refused for nftables (exit 1)" "$rc" 1
grep -q 'must be an IP address' "$TMP/err" ||
    not_ok "the refusal names the reason" "$(cat "$TMP/err")"

#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Benchmarks the audit journal: req/s with and without it, and verify speed on a million records.
#
# Usage: bench/audit.sh [SECONDS] [RECORDS]   (per wrk run, default 10;
# journal size for verify, default 1000000)
# Cost per exchange: the daemons are run three ways on the demo policy, each
# with wrk at 16 connections for bill.query and payment.record: with the
# journal as shipped, with "audit sync" (fsync per record), and relinked
# with bench/audit_null.c, a journal that writes nothing (bench only).
# Verify speed: bench/audit_gen.c writes RECORDS signed records through the
# library, then `isogate audit verify` reads them back.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
DURATION=${1:-10}
RECORDS=${2:-1000000}
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BIN=${ISOGATE_BIN:-$ROOT/bin}
RATE_SED='s#rate[[:space:]]\{1,\}[0-9]\{1,\}/s\([[:space:]]\{1,\}burst[[:space:]]\{1,\}[0-9]\{1,\}\)\{0,1\}#rate 1000000/s burst 1000000#'

# --one LABEL: one configuration (ISOGATE_BIN and E2E_POLICY_SED set by
# the caller), one row per message type.
if [ "${1:-}" = --one ]; then
	label=$2
	DURATION=$3
	export E2E_NAME=bench-audit
	# shellcheck source=tests/e2e/lib.sh
	. "$ROOT/tests/e2e/lib.sh"
	e2e_start
	post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
	[ "$STATUS" = 200 ] || bail "bench: bill.query does not answer 200" "$(last_response)"
	for s in "bill.query query.lua" "payment.record payment.lua A$RANDOM"; do
		set -- $s
		out=$(wrk -t 2 -c 16 -d "${DURATION}s" --latency -s "$BENCH/$2" \
		    "$E2E_URL" -- "${3:-}" 2>&1)
		rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
		p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
		p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
		printf '%-22s %-16s %12s %10s %10s\n' "$label" "$1" "${rps:-?}" \
		    "${p50:-?}" "${p99:-?}"
	done
	records=$(cat "$E2E_DIR"/audit/* 2>/dev/null | wc -l)
	printf '%-22s %s journal lines written\n' "" "$records"
	exit 0
fi

command -v wrk >/dev/null || { echo "bench: wrk is missing (tools/deps.sh test)" >&2; exit 1; }
[ -x "$BIN/isogate-outer" ] || { echo "bench: $BIN/isogate-outer missing (make all)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/isogate-bench-audit.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

# The same daemon objects, linked with the null journal (Makefile).
mkdir -p "$W/nullbin"
make -s -C "$ROOT" build/nulljournal/isogate-outer build/nulljournal/isogate-inner ||
    { echo "bench: cannot link the null-journal daemons" >&2; exit 1; }
ln -s "$ROOT/build/nulljournal/isogate-outer" "$ROOT/build/nulljournal/isogate-inner" \
    "$BIN/isogate" "$W/nullbin/"

printf '\n%-22s %-16s %12s %10s %10s\n' journal message "req/s" p50 p99
# one LABEL: a configuration's rows, without the harness's own lines.
one()
{
	bash "$0" --one "$1" "$DURATION" 2>&1 | grep -v -E '^(ok - |# )'
}
ISOGATE_BIN=$W/nullbin E2E_POLICY_SED=$RATE_SED one "none (bench build)"
ISOGATE_BIN=$BIN E2E_POLICY_SED=$RATE_SED one "signed (default)"
ISOGATE_BIN=$BIN E2E_POLICY_SED="$RATE_SED; s#\\(/[a-z]*\\.audit\"\\)\$#\\1\\n\\taudit sync#" \
    one "signed + audit sync"

# Verify speed on RECORDS records.
make -s -C "$ROOT" build/bench/audit_gen ||
    { echo "bench: cannot build audit_gen" >&2; exit 1; }
"$BIN/isogate" keygen "$W/k" >/dev/null || exit 1
echo
"$ROOT/build/bench/audit_gen" outer "$W/k.key" "$W/j/outer.audit" "$RECORDS" 2>&1 | sed 's/^audit_gen: /append: /'
size=$(du -sh "$W/j" | cut -f1)
t0=$(date +%s.%N)
out=$("$BIN/isogate" audit verify --key "$W/k.pub" "$W"/j/outer.audit*)
rc=$?
t1=$(date +%s.%N)
echo "$out"
awk -v n="$RECORDS" -v a="$t0" -v b="$t1" -v s="$size" -v rc="$rc" 'BEGIN {
	printf "verify: %d records (%s) in %.2f s: %.0f records/s, exit %d\n",
	    n, s, b - a, n / (b - a), rc }'
t0=$(date +%s.%N)
"$BIN/isogate" audit stats "$W"/j/outer.audit* >/dev/null
t1=$(date +%s.%N)
awk -v n="$RECORDS" -v a="$t0" -v b="$t1" 'BEGIN {
	printf "stats:  %d records in %.2f s: %.0f records/s\n", n, b - a, n / (b - a) }'

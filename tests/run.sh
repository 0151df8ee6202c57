#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Runs the whole test suite: unit tests, end-to-end tests (plain and sanitizer builds), fuzz smoke.
#
# Usage: tests/run.sh [-k] [-j N] [-F SECONDS] [unit|e2e|asan|fuzz ...]
#   -k          keep e2e temp dirs (E2E_KEEP=1)
#   -j N        run up to N e2e scripts at once (default 2; they use their
#               own temp dirs and ports)
#   -F SECONDS  fuzz time per target (default 10; 0 skips the fuzz run)
#   parts       which parts to run (default all: unit e2e asan fuzz)
# Expects `make all units` and the sanitizer build in build/asan/bin (as
# `make test` does). Ends with one line "N passed, N failed"; exits 1 if
# anything failed.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
JOBS=2
FUZZ_SECONDS=10
while getopts kj:F: o; do
	case $o in
	k) export E2E_KEEP=1 ;;
	j) JOBS=$OPTARG ;;
	F) FUZZ_SECONDS=$OPTARG ;;
	*) echo "usage: tests/run.sh [-k] [-j N] [-F SECONDS] [unit|e2e|asan|fuzz ...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
PARTS=${*:-unit e2e asan fuzz}

PASS=0
FAIL=0
FAILED=()
OUT=$(mktemp -d "${TMPDIR:-/tmp}/isogate-run.XXXXXX") || exit 2
trap 'rm -rf "$OUT"' EXIT
START=$(date +%s)

want() { [[ " $PARTS " == *" $1 "* ]]; }

# count_tap LABEL FILE: adds the file's "ok" / "not ok" lines to the totals
# (cmocka's numbered "ok 3 - name" and our "ok - name"; "# SKIP" is neither).
# Prints the failing lines.
count_tap()
{
	local label=$1 file=$2 p f
	p=$(grep -E '^ok( [0-9]+)? - ' "$file" | grep -c -v '# SKIP')
	f=$(grep -E '^not ok( [0-9]+)?( - |$| #)' "$file" | grep -c -v '# SKIP')
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	while IFS= read -r line; do
		line=${line#not ok }
		FAILED+=("$label: ${line#- }")
	done < <(grep -E '^not ok( [0-9]+)?( - |$| #)' "$file" | grep -v '# SKIP')
	grep -E '^not ok [0-9]+ # SKIP' "$file" | sed "s|^|  skipped: $label: |"
	return 0
}

# show_failures FILE: the failing lines and the diagnostics under them.
show_failures()
{
	awk '/^not ok/ && !/# SKIP/ { p = 1; print; next }
	    /^(not )?ok/ || /^1\.\./ { p = 0 }
	    p && /^#/' "$1" | head -n 80 | sed 's/^/    /'
}

fail_one()
{
	FAIL=$((FAIL + 1))
	FAILED+=("$1")
}

# --- unit tests -------------------------------------------------------------------

run_units()
{
	local t name planned got rc n=0
	echo "== unit tests"
	for t in build/tests/test_*; do
		[ -x "$t" ] || continue
		n=$((n + 1))
		name=$(basename "$t")
		# (braces: no "Aborted" job message from this shell on a crash)
		{ CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" >"$OUT/$name.tap" 2>&1; } 2>/dev/null
		rc=$?
		count_tap "$name" "$OUT/$name.tap"
		# A crash mid-group leaves tests without a line: count them.
		planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$OUT/$name.tap" |
		    awk '{ s += $1 } END { print s + 0 }')
		got=$(grep -c -E '^(not )?ok [0-9]+' "$OUT/$name.tap")
		if [ "$got" -lt "$planned" ]; then
			fail_one "$name: $((planned - got)) planned tests did not report (exit status $rc)"
		elif [ "$rc" != 0 ] && ! grep -q '^not ok' "$OUT/$name.tap"; then
			fail_one "$name: exit status $rc without a failing test"
		fi
		printf '  %-24s %s\n' "$name" "$(grep -c -E '^ok [0-9]+' "$OUT/$name.tap") ok, $(grep -E '^not ok [0-9]+' "$OUT/$name.tap" | grep -c -v '# SKIP') not ok"
		if [ "$rc" != 0 ]; then
			show_failures "$OUT/$name.tap"
			[ "$got" -lt "$planned" ] &&
			    tail -n 5 "$OUT/$name.tap" | sed 's/^/    | /'
		fi
	done
	[ "$n" -gt 0 ] || fail_one "unit: no test binaries in build/tests (run make units)"
}

# --- end-to-end tests -------------------------------------------------------------

# run_e2e LABEL BIN: every tests/e2e/*.sh (not lib.sh) with ISOGATE_BIN=BIN,
# up to $JOBS at a time.
run_e2e()
{
	local label=$1 bin=$2 s name pids=() names=() i rc
	echo "== end-to-end tests ($label: $bin)"
	for p in isogate isogate-inner isogate-outer; do
		if [ ! -x "$bin/$p" ]; then
			fail_one "$label: $bin/$p is missing (build it first)"
			return
		fi
	done
	for s in tests/e2e/*.sh; do
		name=$(basename "$s" .sh)
		[ "$name" = lib ] && continue
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
			wait -n
		done
		ISOGATE_BIN=$bin timeout 600 bash "$s" >"$OUT/$label-$name.out" 2>&1 &
		pids+=($!)
		names+=("$name")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		rc=$?
		name=${names[$i]}
		count_tap "$label/$name" "$OUT/$label-$name.out"
		if [ "$rc" != 0 ] && ! grep -q '^not ok' "$OUT/$label-$name.out"; then
			fail_one "$label/$name: exit status $rc without a failing test"
		fi
		printf '  %-24s %s ok, %s not ok\n' "$name" \
		    "$(grep -c '^ok - ' "$OUT/$label-$name.out")" \
		    "$(grep -c '^not ok' "$OUT/$label-$name.out")"
		[ "$rc" != 0 ] && show_failures "$OUT/$label-$name.out"
	done
}

# --- fuzz smoke ----------------------------------------------------------------------

run_fuzz()
{
	echo "== fuzz smoke run (${FUZZ_SECONDS} s per target)"
	bash tests/fuzz/run.sh "$FUZZ_SECONDS" >"$OUT/fuzz.out" 2>&1
	local rc=$?
	count_tap fuzz "$OUT/fuzz.out"
	grep -E '^(ok|not ok) ' "$OUT/fuzz.out" | sed 's/^/  /'
	if [ "$rc" != 0 ]; then
		grep -q '^not ok' "$OUT/fuzz.out" ||
		    fail_one "fuzz: tests/fuzz/run.sh exit status $rc"
		grep '^#' "$OUT/fuzz.out" | tail -n 40 | sed 's/^/    /'
	fi
}

want unit && run_units
want e2e && run_e2e plain bin
if want asan; then
	# A sanitizer report ends the daemon with a non-zero status, which the
	# e2e harness reports when it stops it (and greps the log for).
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	run_e2e asan build/asan/bin
fi
want fuzz && [ "$FUZZ_SECONDS" != 0 ] && run_fuzz

echo
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "Failed:"
	printf '  %s\n' "${FAILED[@]}"
fi
echo "($(($(date +%s) - START)) s)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

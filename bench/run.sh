#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Benchmarks the appliance end to end with wrk: throughput and latency of bill.query and payment.record.
#
# Usage: bench/run.sh [SECONDS]   (per wrk run, default 10)
# Starts both daemons like the e2e tests do (tests/e2e/lib.sh: a private
# copy of the demo policy with its rate limits raised, keys, a seeded
# database), then runs wrk --latency with bench/query.lua at 1, 16 and 64
# connections and bench/payment.lua at 16 and 64, and measures a single
# request with curl. Prints one table. Then TLS against plain at 64
# connections with bench/tls_load.c (wrk cannot present a client
# certificate): bill.query over plain, then outer restarted on the TLS
# listen with a test PKI, the same over TLS 1.3 with wechat-app's
# certificate. One-way payments go over the example's spool ferry (the
# table says how many messages shared each commit, i.e. each fsync), then
# over FIFOs for comparison, and one spool commit is timed on its own.
# Then bench/audit.sh, bench/guard.sh and bench/eth.sh (the eth: ferry;
# root). ISOGATE_BIN picks the binaries.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
DURATION=${1:-10}
BENCH=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "bench: wrk is missing (tools/deps.sh test)" >&2; exit 1; }

# The demo limits (500/s) would turn a benchmark into a 429 test. inner
# archives the spool files it consumed, so that they can be counted: one
# file is one commit (one fdatasync, one rename, one directory fsync).
export E2E_POLICY_SED='s#rate[[:space:]]\{1,\}[0-9]\{1,\}/s\([[:space:]]\{1,\}burst[[:space:]]\{1,\}[0-9]\{1,\}\)\{0,1\}#rate 1000000/s burst 1000000#
/^inner[[:space:]]*{/a\	ferry archive'
export E2E_NAME=bench
# shellcheck source=tests/e2e/lib.sh
. "$BENCH/../tests/e2e/lib.sh"

e2e_start
post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
[ "$STATUS" = 200 ] || bail "bench: bill.query does not answer 200" "$(last_response)"
post payment.record '{"payment_id":"BENCHWARMUP00001","customer_id":"0000000042","amount_cents":1,"paid_at":"2026-03-15T10:00:00Z"}'
[ "$STATUS" = 202 ] || bail "bench: payment.record does not answer 202" "$(last_response)"

# to_ms VALUE: wrk's "1.23ms" / "456.00us" / "1.20s" in milliseconds.
to_ms()
{
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.1f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else printf "?" }'
}

FERRY=spool
declare -A PER_COMMIT=()	# conns -> one-ways per spool commit
ARCHIVE=$E2E_DIR/ferry/inward/archive
# units: spool files inner has consumed so far.
units() { find "$ARCHIVE" -name '*.isf' 2>/dev/null | wc -l; }

printf '\n%-16s %6s %12s %10s %10s %8s %s\n' message conns "req/s" "p50 ms" "p99 ms" non-2xx \
    "(one-ways: ferry, messages per commit)"
# bench_wrk TYPE CONNS SCRIPT [ARG...]
bench_wrk()
{
	local type=$1 conns=$2 script=$3 threads=2 out rps p50 p99 bad total
	local u0 per=""
	shift 3
	[ "$conns" = 1 ] && threads=1
	u0=$(units)
	out=$(wrk -t "$threads" -c "$conns" -d "${DURATION}s" --latency \
	    -s "$BENCH/$script" "$E2E_URL" -- "$@" 2>&1)
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
	bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
	total=$(awk '/requests in/ { print $1 }' <<<"$out")
	if [ "$type" = payment.record ]; then
		ACCEPTED=$((ACCEPTED + ${total:-0} - ${bad:-0}))
		per=$FERRY
		if [ "$FERRY" = spool ]; then
			sleep 1		# inner catches up with the last files
			PER_COMMIT[$conns]=$(awk -v m="$((${total:-0} - ${bad:-0}))" \
			    -v u="$(($(units) - u0))" 'BEGIN {
				if (u > 0) printf "%.1f", m / u; else print "?" }')
			per="$per ${PER_COMMIT[$conns]}"
		fi
	fi
	printf '%-16s %6s %12s %10s %10s %8s %s\n' "$type" "$conns" "${rps:-?}" \
	    "$p50" "$p99" "${bad:-0}" "$per"
	grep -q 'Socket errors' <<<"$out" && grep 'Socket errors' <<<"$out" | sed 's/^/    /'
	[ -n "$rps" ] || printf '%s\n' "$out" | sed 's/^/    wrk: /'
}

ACCEPTED=1	# the warm-up payment
bench_wrk bill.query 1 query.lua
bench_wrk bill.query 16 query.lua
bench_wrk bill.query 64 query.lua
bench_wrk payment.record 16 payment.lua P16
bench_wrk payment.record 64 payment.lua P64

# One request at a time with curl: what a single client sees.
single()
{
	local type=$1 body=$2 i t=()
	for ((i = 0; i < 50; i++)); do
		# shellcheck disable=SC2059 # the body is a printf format
		t+=("$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
		    --data-binary "$(printf "$body" "$i")" "$E2E_URL/v1/$type")")
	done
	printf '%s\n' "${t[@]}" | sort -n | awk -v type="$type" '
	    { v[NR] = $1 * 1000 }
	    END { printf "%-16s curl, 50 sequential requests: median %.3f ms, min %.3f ms, max %.3f ms\n",
		type, v[int((NR + 1) / 2)], v[1], v[NR] }'
}
echo
single bill.query '{"customer_id":"00000000%02d","month":"2026-03"}'
single payment.record '{"payment_id":"BENCHCURL%08d","customer_id":"0000000042","amount_cents":1,"paid_at":"2026-03-15T10:00:00Z"}'
ACCEPTED=$((ACCEPTED + 50))
echo
# Nothing accepted is lost: every 202 is a row (wrk does not count answers
# still in flight when it stops, so there may be a few more rows).
rows=$(sql 'SELECT count(*) FROM payments')
if [ "$rows" -ge "$ACCEPTED" ]; then
	ok "payments answered 202: $ACCEPTED, rows in payments: $rows"
else
	not_ok "payments answered 202: $ACCEPTED, rows in payments: $rows (rows lost)"
fi

# The FIFO ferry for comparison (202 on inner's ack, nothing durable in
# between), and what one spool commit costs on this disk.
echo
commit_ms=$(python3 - "$E2E_DIR/ferry/inward" <<'EOF'
import os, sys, time
d = sys.argv[1]
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
data = b"x" * 600
n = 200
t = time.perf_counter()
for i in range(n):
    tmp, dst = os.path.join(d, ".tmp-bench"), os.path.join(d, "bench-%d" % i)
    f = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(f, data)
    os.fdatasync(f)
    os.close(f)
    os.rename(tmp, dst)
    os.fsync(fd)
dt = (time.perf_counter() - t) / n * 1000
for i in range(n):
    os.unlink(os.path.join(d, "bench-%d" % i))
print("%.3f" % dt)
EOF
)
printf 'spool commit (600-byte file: write, fdatasync, rename, fsync of the directory): %s ms\n' \
    "$commit_ms"
for c in 16 64; do
	awk -v t="$commit_ms" -v p="${PER_COMMIT[$c]:-?}" -v c="$c" 'BEGIN {
		if (p + 0 > 0) printf "fsync cost per one-way at %d connections: %.3f ms (%s per commit)\n", c, t / p, p
		else printf "fsync cost per one-way at %d connections: ?\n", c }'
done
stop_outer && stop_inner || bail "bench: stop the daemons for the fifo run"
# Their own paths: the spool directories stay as they are.
sed -i -e 's#"spool:\([^"]*\)"#"fifo:\1.fifo"#' "$E2E_POLICY"
start_inner
start_outer
FERRY=fifo
printf '%-16s %6s %12s %10s %10s %8s %s\n' message conns "req/s" "p50 ms" "p99 ms" non-2xx "(ferry)"
bench_wrk payment.record 16 payment.lua F16
bench_wrk payment.record 64 payment.lua F64
stop_outer && stop_inner || bail "bench: stop the daemons after the fifo run"
sed -i -e 's#"fifo:\([^"]*\)\.fifo"#"spool:\1"#' "$E2E_POLICY"
start_inner
start_outer
FERRY=spool

# TLS against plain, one client program for both (bench/tls_load.c).
LOAD=$E2E_DIR/tls_load
cc -std=c11 -D_GNU_SOURCE -O2 -o "$LOAD" "$BENCH/tls_load.c" -lssl -lcrypto -lpthread ||
    bail "bench: cannot build bench/tls_load.c"
QBODY='{"customer_id":"0000000042","month":"2026-03"}'
# load LABEL [CAFILE CERT KEY]: one tls_load row, 64 connections.
load()
{
	local label=$1 out
	shift
	out=$("$LOAD" 127.0.0.1 "$E2E_PORT" 64 "$DURATION" /v1/bill.query "$QBODY" "$@") ||
	    not_ok "bench: tls_load $label" "$out"
	read -r rps p50 p99 bad errs <<<"$out"
	printf '%-16s %6s %12s %10s %10s %8s %s\n' "bill.query $label" 64 "$rps" "$p50" "$p99" \
	    "$bad" "(connection errors: $errs)"
}
printf '\n%-16s %6s %12s %10s %10s %8s\n' "tls_load" conns "req/s" "p50 ms" "p99 ms" non-2xx
load plain
stop_outer || bail "bench: stop outer"
"$E2E_ROOT"/tools/pki.sh init "$E2E_DIR/pki" || bail "bench: tools/pki.sh init"
sed -i -e "s#^[[:space:]]*listen 127\.0\.0\.1:$E2E_PORT plain\$#\tlisten 127.0.0.1:$E2E_PORT tls {\n\t\tcertificate \"$E2E_DIR/pki/server.crt\"\n\t\tkey \"$E2E_DIR/pki/server.key\"\n\t\tclient-ca \"$E2E_DIR/pki/ca.crt\"\n\t\tcrl \"$E2E_DIR/pki/crl.pem\"\n\t}#" "$E2E_POLICY"
grep -q "listen 127\.0\.0\.1:$E2E_PORT tls {" "$E2E_POLICY" || bail "bench: switch the listen to tls"
start_outer
load tls "$E2E_DIR/pki/ca.crt" "$E2E_DIR/pki/wechat-app.crt" "$E2E_DIR/pki/wechat-app.key"

# The journal's cost and verify speed (bench/audit.sh), on a quiet machine:
# these daemons stop first.
stop_outer && stop_inner
bash "$BENCH/audit.sh" "$DURATION"

# The admission guard's cost (bench/guard.sh): network namespaces, so root.
if [ "$(id -u)" = 0 ]; then
	bash "$BENCH/guard.sh" "$DURATION"
else
	echo "bench: not root, skipping bench/guard.sh (network namespaces)"
fi

# The eth: ferry (bench/eth.sh): frames over veth, exchanges over eth:.
if [ "$(id -u)" = 0 ]; then
	bash "$BENCH/eth.sh" "$DURATION"
else
	echo "bench: not root, skipping bench/eth.sh (network namespaces)"
fi

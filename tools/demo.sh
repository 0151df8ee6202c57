#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Runs the demo appliance on this host: both daemons on the example policy, files under run/.
#
# Usage: tools/demo.sh [run|setup]
#   setup  creates run/{keys,audit,state,ferry}, the key pairs (if missing),
#          the demo PKI in run/pki (tools/pki.sh, if missing) and run/grid.db
#          (created and seeded if missing); checks the policy
#   run    setup, then starts isogate-inner and isogate-outer (stderr to this
#          terminal, also kept in run/*.log), prints what to send, and waits.
#          Ctrl-C stops both. If one daemon exits, the other is stopped and
#          the script exits non-zero.
# Environment: ISOGATE_BIN (default bin/), ISOGATE_POLICY (default
# policy/examples/grid.policy; its run paths must point at run/).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BIN=${ISOGATE_BIN:-bin}
POLICY=${ISOGATE_POLICY:-policy/examples/grid.policy}
RUN=run
PORT=$(sed -n 's/^[[:space:]]*listen[[:space:]]\{1,\}[0-9.]*:\([0-9]\{1,\}\).*/\1/p' "$POLICY" 2>/dev/null | head -n 1)
PORT=${PORT:-8443}
INNER_PID=
OUTER_PID=

die()
{
	echo "demo: $*" >&2
	exit 1
}

setup()
{
	local p
	for p in isogate isogate-inner isogate-outer; do
		[ -x "$BIN/$p" ] || die "$BIN/$p is missing: run make first"
	done
	command -v sqlite3 >/dev/null || die "sqlite3 is missing (tools/deps.sh installs it)"
	mkdir -p "$RUN"/{keys,audit,state/outer,state/inner,ferry} || die "cannot create $RUN/"
	chmod 700 "$RUN/keys"
	for p in outer inner; do
		if [ ! -f "$RUN/keys/$p.key" ]; then
			"$BIN/isogate" keygen "$RUN/keys/$p" >/dev/null ||
			    die "isogate keygen $RUN/keys/$p failed"
			echo "demo: created $RUN/keys/$p.key and $RUN/keys/$p.pub"
		fi
	done
	if [ ! -f "$RUN/pki/ca.crt" ]; then
		tools/pki.sh init "$RUN/pki" || die "tools/pki.sh init $RUN/pki failed"
		echo "demo: created the demo PKI in $RUN/pki (ca.crt, server, wechat-app, cmiot-operator, revoked, crl.pem)"
	fi
	if [ ! -f "$RUN/grid.db" ]; then
		if ! sqlite3 -bail "$RUN/grid.db" <tools/demo-db.sql >/dev/null; then
			rm -f "$RUN/grid.db"
			die "creating $RUN/grid.db failed"
		fi
		echo "demo: created $RUN/grid.db (12,000 bills, customers 0000000001..0000001000, months 2026-01..12)"
	fi
	"$BIN/isogate" check "$POLICY" || die "$POLICY does not check (see above)"
}

stop_all()
{
	local pid
	for pid in $OUTER_PID $INNER_PID; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $OUTER_PID $INNER_PID; do
		wait "$pid" 2>/dev/null
	done
	OUTER_PID=
	INNER_PID=
}

# start NAME: the daemon in the background, its stderr to the terminal and
# to run/NAME.log; waits for "ready".
start()
{
	local name=$1 pid i log=$RUN/$1.log
	: >"$log"
	"$BIN/isogate-$name" -f "$POLICY" 2> >(tee -a "$log" >&2) &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -qw ready "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -qw ready "$log"; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		stop_all
		die "isogate-$name did not start (see above and $log)"
	fi
	if [ "$name" = inner ]; then INNER_PID=$pid; else OUTER_PID=$pid; fi
}

usage_lines()
{
	local url=https://127.0.0.1:$PORT pki=$RUN/pki
	local w="--cacert $pki/ca.crt --cert $pki/wechat-app.crt --key $pki/wechat-app.key"
	local c="--cacert $pki/ca.crt --cert $pki/cmiot-operator.crt --key $pki/cmiot-operator.key"
	cat <<EOF

isogate demo is running: outer serves HTTPS on $url, inner serves $RUN/grid.db.
A peer is named by its client certificate ($pki/NAME.crt, issued by
$pki/ca.crt) and must also come from its address: wechat-app from 127.0.0.1,
cmiot-operator from 127.0.0.2 (curl --interface 127.0.0.2).
$pki/revoked.crt is a revoked certificate for wechat-app: it is refused.

  # a bill (wechat-app):
  curl -s $w \\
      -H 'Content-Type: application/json' \\
      -d '{"customer_id":"0000000042","month":"2026-03"}' $url/v1/bill.query

  # a payment, one-way, accepted once on disk in the spool, applied once by inner (wechat-app):
  curl -s $w \\
      -H 'Content-Type: application/json' \\
      -d '{"payment_id":"PAY2026DEMO000001","customer_id":"0000000042","amount_cents":9619,"paid_at":"2026-03-15T10:00:00Z"}' \\
      $url/v1/payment.record

  # card usage, one-way (cmiot-operator):
  curl -s --interface 127.0.0.2 $c \\
      -H 'Content-Type: application/json' \\
      -d '{"iccid":"89860012345678901234","day":"2026-03-15","bytes_used":1048576,"status":"active"}' \\
      $url/v1/iotcard.usage

Audit journals: $RUN/audit/outer.audit and $RUN/audit/inner.audit (jq . $RUN/audit/*.audit)
Daemon logs:    $RUN/outer.log, $RUN/inner.log      Database: sqlite3 $RUN/grid.db
Ctrl-C stops both daemons.
EOF
}

run()
{
	local rc
	setup
	trap 'echo; echo "demo: stopping"; stop_all; exit 0' INT TERM
	start inner
	start outer
	usage_lines
	# Returns when either daemon exits (or a trapped signal arrives).
	wait -n "$INNER_PID" "$OUTER_PID"
	rc=$?
	if ! kill -0 "$INNER_PID" 2>/dev/null; then
		echo "demo: isogate-inner exited (status $rc); stopping isogate-outer" >&2
	else
		echo "demo: isogate-outer exited (status $rc); stopping isogate-inner" >&2
	fi
	trap - INT TERM
	stop_all
	[ "$rc" = 0 ] && rc=1
	exit "$rc"
}

case ${1:-run} in
run) run ;;
setup) setup ;;
*) echo "usage: tools/demo.sh [run|setup]" >&2; exit 2 ;;
esac

#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# End-to-end harness: a private copy of the demo policy, keys, database and daemons per script.
#
# Source it from a test script, then call e2e_start (or e2e_setup alone):
#
#	. "$(dirname "$0")/lib.sh"
#	E2E_PROXY=1 e2e_start		# optional: ferry_proxy.py on the inward ferry
#	post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
#	is "query answers 200" "$STATUS" 200
#
# Everything lives in a temporary directory ($E2E_DIR): the policy copy
# (run paths rewritten to $E2E_DIR, a free listen port), keys, grid.db,
# audit files, daemon logs. On exit the trap stops the daemons, reports a
# daemon that died, did not exit 0 on SIGTERM or printed a sanitizer report
# as a failure, prints "# NAME: N passed, N failed" and removes the directory
# (kept when something failed or E2E_KEEP=1).
#
# Environment: ISOGATE_BIN (daemons and tools, default bin/), E2E_KEEP,
# E2E_PROXY, E2E_FERRY (spool, the example's, or fifo: both channels become
# FIFOs; E2E_PROXY implies fifo), E2E_POLICY_SED (extra sed expressions for the policy copy),
# E2E_READY_TIMEOUT (seconds, default 20), E2E_TLS=1 (the example's tls listen
# with a test PKI from tools/pki.sh in $E2E_DIR/pki; otherwise the listen is
# rewritten to plain), E2E_CERT (the client certificate http presents),
# E2E_ETH=1 (two hosts: outer and inner in two network namespaces joined by
# a veth pair with no addresses, the ferry eth: on it both ways, curl run in
# outer's namespace; needs root; both side blocks get `link key
# "$E2E_DIR/keys/link.key"`, a fresh key; E2E_ETH_LINK is that `link …`
# line's settings, e.g. "link diode seal 4"; E2E_ETH_RELAY=ARGS puts tests/e2e/eth_link.py's
# impairment relay with those arguments in a third namespace between them;
# E2E_ETH_LINKS=2 puts the outward channel on a second veth pair of its own).

if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
set -o pipefail

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
ISOGATE_BIN=${ISOGATE_BIN:-bin}
case $ISOGATE_BIN in
/*) ;;
*) ISOGATE_BIN=$E2E_ROOT/$ISOGATE_BIN ;;
esac
export ISOGATE_BIN
# 1 when the daemons are the sanitizer build: scripts may scale their load.
# shellcheck disable=SC2034 # used by the test scripts
E2E_ASAN=0
# shellcheck disable=SC2034
case $ISOGATE_BIN in
*/asan/*) E2E_ASAN=1 ;;
esac
# Only used by sanitizer builds; harmless otherwise. A report must end the
# process with a non-zero status so that a stop with SIGTERM notices it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

E2E_PASS=0
E2E_FAIL=0
E2E_DIR=
E2E_PORT=
E2E_URL=
E2E_POLICY=
E2E_DB=
E2E_READY_TIMEOUT=${E2E_READY_TIMEOUT:-20}
E2E_NS_OUTER=			# E2E_ETH=1: the two namespaces
E2E_NS_INNER=
E2E_NS_RELAY=			# and the relay's, with E2E_ETH_RELAY
declare -A E2E_PID=()		# name -> pid of what we started
declare -A E2E_LOG=()		# name -> log file

# Peer addresses of grid.policy: peers are identified by source address.
# shellcheck disable=SC2034 # used by the test scripts
WECHAT=127.0.0.1
# shellcheck disable=SC2034
CMIOT=127.0.0.2
# shellcheck disable=SC2034
STRANGER=127.0.0.3

STATUS=
BODY=
XID=

# --- TAP-like reporting -----------------------------------------------------

diag()
{
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

ok()
{
	E2E_PASS=$((E2E_PASS + 1))
	printf 'ok - %s\n' "$1"
}

# not_ok DESCRIPTION [DETAIL...]
not_ok()
{
	E2E_FAIL=$((E2E_FAIL + 1))
	printf 'not ok - %s\n' "$1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

# check DESCRIPTION COMMAND [ARG...]: ok when the command succeeds. check and
# is return non-zero on failure, so that `is … || diag …` can add details.
check()
{
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "failed: $*"
		return 1
	fi
}

# is DESCRIPTION GOT WANT
is()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $2" "want: $3"
		return 1
	fi
}

# bail DESCRIPTION [DETAIL...]: a failure after which the script cannot go on.
bail()
{
	not_ok "$@"
	exit 1
}

# --- set-up -------------------------------------------------------------------

e2e_free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# E2E_URL: https with E2E_TLS=1, else http.
e2e_set_url()
{
	if [ "${E2E_TLS:-}" = 1 ]; then
		E2E_URL=https://127.0.0.1:$E2E_PORT
	else
		E2E_URL=http://127.0.0.1:$E2E_PORT
	fi
}

# e2e_setup: temp dir, policy copy, keys, database. No daemons.
e2e_setup()
{
	local f
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/isogate-$E2E_NAME.XXXXXX") ||
	    bail "create a temporary directory"
	trap e2e_finish EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$E2E_DIR"/{keys,audit,state/outer,state/inner,ferry,policy}
	E2E_PORT=$(e2e_free_port) || bail "find a free port"
	e2e_set_url
	E2E_DB=$E2E_DIR/grid.db
	E2E_POLICY=$E2E_DIR/policy/grid.policy
	# Copy the whole examples folder so that relative includes still work.
	cp "$E2E_ROOT"/policy/examples/* "$E2E_DIR/policy/" ||
	    bail "copy policy/examples"
	for f in "$E2E_DIR"/policy/*; do
		sed -i -e "s#\\.\\./\\.\\./run/#$E2E_DIR/#g" \
		    -e "s#^\\([[:space:]]*listen[[:space:]]\\{1,\\}127\\.0\\.0\\.1:\\)[0-9]\\{1,\\}#\\1$E2E_PORT#" \
		    "$f"
	done
	if [ "${E2E_TLS:-}" = 1 ]; then
		# The example's tls block, with a test PKI in $E2E_DIR/pki.
		"$E2E_ROOT"/tools/pki.sh init "$E2E_DIR/pki" ||
		    bail "create a test PKI with tools/pki.sh"
		grep -q "listen 127\.0\.0\.1:$E2E_PORT tls {" "$E2E_POLICY" ||
		    bail "find the tls listen" "$(grep -n listen "$E2E_POLICY")"
	else
		# Most tests speak plain HTTP: the tls block becomes "plain".
		sed -i -e "/^[[:space:]]*listen[[:space:]].*[[:space:]]tls[[:space:]]*{/,/^[[:space:]]*}/c\\
	listen 127.0.0.1:$E2E_PORT plain" "$E2E_POLICY"
		grep -q "listen 127\.0\.0\.1:$E2E_PORT plain\$" "$E2E_POLICY" ||
		    bail "rewrite the listen as plain" "$(grep -n listen "$E2E_POLICY")"
	fi
	e2e_set_url
	[ -n "${E2E_PROXY:-}" ] && E2E_FERRY=fifo
	# eth: is not durable: the scripts expect what FIFOs give.
	[ "${E2E_ETH:-}" = 1 ] && E2E_FERRY=fifo
	if [ "${E2E_FERRY:-spool}" = fifo ]; then
		sed -i -e 's#"spool:#"fifo:#' "$E2E_POLICY"
		grep -q '"spool:' "$E2E_POLICY" &&
		    bail "rewrite the ferry as fifo" "$(grep -n spool "$E2E_POLICY")"
	fi
	if [ -n "${E2E_PROXY:-}" ]; then
		# outer writes ferry/inward-a, ferry_proxy.py copies to inward-b,
		# which inner reads.
		sed -i -e '/^outer[[:space:]]*{/,/^}/s#/ferry/inward"#/ferry/inward-a"#' \
		    -e '/^inner[[:space:]]*{/,/^}/s#/ferry/inward"#/ferry/inward-b"#' \
		    "$E2E_POLICY"
		if ! grep -q 'inward-a' "$E2E_POLICY" ||
		    ! grep -q 'inward-b' "$E2E_POLICY"; then
			bail "rewrite the inward ferry for the proxy" "$(cat "$E2E_POLICY")"
		fi
	fi
	[ "${E2E_ETH:-}" = 1 ] && e2e_eth_setup
	if [ -n "${E2E_POLICY_SED:-}" ]; then
		sed -i -e "$E2E_POLICY_SED" "$E2E_POLICY" ||
		    bail "apply E2E_POLICY_SED"
	fi
	grep -q ":$E2E_PORT" "$E2E_POLICY" ||
	    bail "rewrite the listen port" "$(grep -n listen "$E2E_POLICY")"
	for f in outer inner; do
		"$ISOGATE_BIN"/isogate keygen "$E2E_DIR/keys/$f" >/dev/null ||
		    bail "isogate keygen $E2E_DIR/keys/$f"
	done
	if [ "${E2E_ETH:-}" = 1 ]; then
		"$ISOGATE_BIN"/isogate keygen --link "$E2E_DIR/keys/link.key" \
		    >/dev/null || bail "isogate keygen --link"
	fi
	sqlite3 -bail "$E2E_DB" <"$E2E_ROOT/tools/demo-db.sql" >/dev/null ||
	    bail "create and seed the database"
}

# e2e_eth_setup: the two-host topology of E2E_ETH=1 (see the top). The
# namespaces go in e2e_finish, after the daemons.
e2e_eth_setup()
{
	local id=$$-$RANDOM
	E2E_NS_OUTER=isg-eo-$id
	E2E_NS_INNER=isg-ei-$id
	{ ip netns add "$E2E_NS_OUTER" && ip netns add "$E2E_NS_INNER" &&
	    ip -n "$E2E_NS_OUTER" link set lo up &&
	    ip -n "$E2E_NS_INNER" link set lo up; } ||
	    bail "two network namespaces (needs root)"
	if [ -n "${E2E_ETH_RELAY+set}" ]; then
		E2E_NS_RELAY=isg-er-$id
		{ ip netns add "$E2E_NS_RELAY" &&
		    ip link add eo netns "$E2E_NS_OUTER" type veth peer name ro \
		    netns "$E2E_NS_RELAY" &&
		    ip link add ri netns "$E2E_NS_RELAY" type veth peer name ei \
		    netns "$E2E_NS_INNER" &&
		    ip -n "$E2E_NS_RELAY" link set ro up &&
		    ip -n "$E2E_NS_RELAY" link set ri up; } ||
		    bail "the relay's namespace and two veth pairs"
		# shellcheck disable=SC2086 # E2E_ETH_RELAY: words on purpose
		e2e_spawn relay ip netns exec "$E2E_NS_RELAY" python3 \
		    "$E2E_ROOT/tests/e2e/eth_link.py" relay ro ri $E2E_ETH_RELAY
		wait_log relay ready ||
		    bail "eth_link.py relay starts" "$(e2e_log_tail relay)"
	else
		ip link add eo netns "$E2E_NS_OUTER" type veth peer name ei \
		    netns "$E2E_NS_INNER" ||
		    bail "a veth pair between the namespaces"
	fi
	{ ip -n "$E2E_NS_OUTER" link set eo up &&
	    ip -n "$E2E_NS_INNER" link set ei up; } ||
	    bail "bring the link up"
	sed -i -e '/^outer[[:space:]]*{/,/^}/s#^\([[:space:]]*\)\(inward\|outward\)[[:space:]].*#\1\2 "eth:eo"#' \
	    -e '/^inner[[:space:]]*{/,/^}/s#^\([[:space:]]*\)\(inward\|outward\)[[:space:]].*#\1\2 "eth:ei"#' \
	    "$E2E_POLICY"
	# E2E_ETH_LINKS=2: the outward channel on a second link of its own
	# (eo2/ei2), each link carrying one direction.
	if [ "${E2E_ETH_LINKS:-1}" = 2 ]; then
		{ ip link add eo2 netns "$E2E_NS_OUTER" type veth peer \
		    name ei2 netns "$E2E_NS_INNER" &&
		    ip -n "$E2E_NS_OUTER" link set eo2 up &&
		    ip -n "$E2E_NS_INNER" link set ei2 up; } ||
		    bail "a second veth pair for the outward channel"
		sed -i -e 's#^\([[:space:]]*outward\) "eth:e\([oi]\)"#\1 "eth:e\22"#' \
		    "$E2E_POLICY"
		[ "$(grep -c '"eth:e[oi]2"' "$E2E_POLICY")" = 2 ] ||
		    bail "put the outward channel on eo2/ei2" "$(cat "$E2E_POLICY")"
	fi
	# Every link packet is tagged with the link key (made in e2e_setup):
	# both sides name it, with E2E_ETH_LINK's settings if any.
	sed -i -e "/^\(outer\|inner\)[[:space:]]*{/a\\	${E2E_ETH_LINK:-link} key \"$E2E_DIR/keys/link.key\"" \
	    "$E2E_POLICY"
	[ "$(grep -c '"eth:e[oi]2\{0,1\}"' "$E2E_POLICY")" = 4 ] ||
	    bail "rewrite the ferry endpoints to eth:" "$(cat "$E2E_POLICY")"
}

# e2e_in_ns NAME: the command prefix that runs in NAME's namespace (none
# unless E2E_ETH=1).
e2e_in_ns()
{
	case $1 in
	outer) [ -n "$E2E_NS_OUTER" ] && printf '%s\n' ip netns exec "$E2E_NS_OUTER" ;;
	inner) [ -n "$E2E_NS_INNER" ] && printf '%s\n' ip netns exec "$E2E_NS_INNER" ;;
	esac
	return 0
}

# e2e_start: e2e_setup, then inner, the proxy when E2E_PROXY is set, outer.
e2e_start()
{
	e2e_setup
	start_inner
	[ -n "${E2E_PROXY:-}" ] && start_proxy
	start_outer
}

# e2e_spawn NAME COMMAND...: runs a command in the background, output to
# $E2E_DIR/NAME.log (appended: a restarted daemon keeps its history).
e2e_spawn()
{
	local name=$1
	shift
	E2E_LOG[$name]=$E2E_DIR/$name.log
	printf '%s\n' "--- start: $*" >>"${E2E_LOG[$name]}"
	"$@" >>"${E2E_LOG[$name]}" 2>&1 </dev/null &
	E2E_PID[$name]=$!
}

# alive NAME: the process we started under NAME is still running.
alive()
{
	local pid=${E2E_PID[$1]:-} st
	[ -n "$pid" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}

# wait_log NAME PATTERN: waits for PATTERN in NAME's log while NAME runs.
wait_log()
{
	local name=$1 pat=$2 i n=$((E2E_READY_TIMEOUT * 10))
	for ((i = 0; i < n; i++)); do
		# Only what this start printed: the log may hold earlier runs.
		sed -n '/^--- start: /h; /^--- start: /!H; ${x;p}' \
		    "${E2E_LOG[$name]}" | grep -qw -- "$pat" && return 0
		alive "$name" || return 1
		sleep 0.1
	done
	return 1
}

# e2e_sanitized: the daemons are the sanitizer build (slower: a script may
# scale its load down).
e2e_sanitized()
{
	case $ISOGATE_BIN in
	*/asan/*|*/asan) return 0 ;;
	esac
	return 1
}

# E2E_WRAP: words put before a daemon's command (e.g. nsenter into a mount
# namespace); the daemon must exec from it, so that its pid is the one kept.
start_daemon()
{
	local name=$1 port _ pre
	mapfile -t pre < <(e2e_in_ns "$name")
	for _ in 1 2 3; do
		# shellcheck disable=SC2086 # E2E_WRAP: words on purpose
		e2e_spawn "$name" "${pre[@]}" ${E2E_WRAP:-} \
		    "$ISOGATE_BIN/isogate-$name" -f "$E2E_POLICY"
		wait_log "$name" ready && return 0
		# The free port may have been taken meanwhile: take another.
		if [ "$name" != outer ] || alive outer ||
		    ! wait_log outer 'Address already in use'; then
			break
		fi
		wait "${E2E_PID[outer]}" 2>/dev/null
		port=$(e2e_free_port) || break
		sed -i "s#127\.0\.0\.1:$E2E_PORT\b#127.0.0.1:$port#" "$E2E_POLICY"
		E2E_PORT=$port
		e2e_set_url
	done
	# Reported here; the exit trap need not report it dead again.
	if ! alive "$name"; then
		wait "${E2E_PID[$name]}" 2>/dev/null
		E2E_PID[$name]=
	fi
	bail "$name starts and says ready" "$(e2e_log_tail "$name")"
}

start_inner() { start_daemon inner; }

# Outer is ready when it listens; inner's replies flow once inner has opened
# the outward ferry, which it retries every 200 ms until outer reads it.
# Waits for inner to log that (up to 5 s; no failure if the wording changed).
start_outer()
{
	start_daemon outer
	if alive inner; then
		E2E_READY_TIMEOUT=5 wait_log inner 'outward.*connected' || true
	fi
}

start_proxy()
{
	# shellcheck disable=SC2086 # E2E_PROXY_ARGS: words on purpose
	e2e_spawn proxy python3 "$E2E_ROOT/tests/e2e/ferry_proxy.py" \
	    --from "$E2E_DIR/ferry/inward-a" --to "$E2E_DIR/ferry/inward-b" \
	    --control "$E2E_DIR/proxy.ctl" --ack "$E2E_DIR/proxy.ack" \
	    ${E2E_PROXY_ARGS:-}
	wait_log proxy ready ||
	    bail "ferry_proxy.py starts" "$(e2e_log_tail proxy)"
}

proxy_acks()
{
	if [ -f "$E2E_DIR/proxy.ack" ]; then
		wc -l <"$E2E_DIR/proxy.ack"
	else
		echo 0
	fi
}

# proxy_cmd COMMAND: sends a command to ferry_proxy.py (flip KIND, drop KIND,
# replay KIND) and waits until the proxy has taken it. Prints its answer.
proxy_cmd()
{
	local n i
	n=$(($(proxy_acks) + 1))
	printf '%s\n' "$*" >"$E2E_DIR/proxy.ctl"
	for ((i = 0; i < 50; i++)); do
		if [ "$(proxy_acks)" -ge "$n" ]; then
			sed -n "${n}p" "$E2E_DIR/proxy.ack"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# stop NAME: SIGTERM, wait up to 10 s, check the exit status and the log.
# Reports a failure when the process had already died, did not exit 0 or
# printed a sanitizer report. Returns non-zero in those cases.
stop()
{
	local name=$1 pid=${E2E_PID[$1]:-} rc i was_alive=1
	[ -n "$pid" ] || return 0
	if ! alive "$name"; then
		was_alive=0
	else
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			alive "$name" || break
			sleep 0.1
		done
		if alive "$name"; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			E2E_PID[$name]=
			not_ok "$name exits on SIGTERM within 10 s" \
			    "$(e2e_log_tail "$name")"
			return 1
		fi
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	E2E_PID[$name]=
	if [ "$was_alive" = 0 ]; then
		not_ok "$name was still running when stopped (it died, status $rc)" \
		    "$(e2e_log_tail "$name")"
		return 1
	fi
	if [ "$rc" != 0 ]; then
		not_ok "$name exits 0 on SIGTERM (status $rc)" \
		    "$(e2e_log_tail "$name")"
		return 1
	fi
	if e2e_sanitizer_report "$name" >/dev/null; then
		not_ok "$name ran without a sanitizer report" \
		    "$(e2e_sanitizer_report "$name")"
		return 1
	fi
	return 0
}

stop_inner() { stop inner; }
stop_outer() { stop outer; }

e2e_log_tail()
{
	local f=${E2E_LOG[$1]:-}
	[ -n "$f" ] && [ -f "$f" ] || return 0
	printf '%s log (%s), last lines:\n' "$1" "$f"
	tail -n 25 "$f"
}

# e2e_sanitizer_report NAME: prints the sanitizer report lines in NAME's log;
# succeeds when there is one.
e2e_sanitizer_report()
{
	local f=${E2E_LOG[$1]:-}
	[ -n "$f" ] && [ -f "$f" ] || return 1
	grep -E -A 30 'ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error: |SUMMARY: [A-Za-z]*Sanitizer' \
	    "$f" | head -n 60 | grep .
}

e2e_finish()
{
	local rc=$? name
	trap - EXIT INT TERM
	# Outer first (it writes to the proxy / inner), the proxy, inner last.
	for name in outer proxy relay inner; do
		[ -n "${E2E_PID[$name]:-}" ] || continue
		if [ "$name" = proxy ] || [ "$name" = relay ]; then
			kill -TERM "${E2E_PID[$name]}" 2>/dev/null
			wait "${E2E_PID[$name]}" 2>/dev/null
			E2E_PID[$name]=
		elif stop "$name"; then
			ok "$name stops cleanly (exit 0, no sanitizer report)"
		fi
	done
	for name in "$E2E_NS_OUTER" "$E2E_NS_INNER" "$E2E_NS_RELAY"; do
		[ -n "$name" ] && ip netns del "$name" 2>/dev/null
	done
	[ "$rc" != 0 ] && [ "$E2E_FAIL" = 0 ] &&
	    not_ok "$E2E_NAME ran to the end (exit status $rc)"
	printf '# %s: %d passed, %d failed\n' "$E2E_NAME" "$E2E_PASS" "$E2E_FAIL"
	if [ -n "$E2E_DIR" ]; then
		if [ "$E2E_FAIL" = 0 ] && [ -z "${E2E_KEEP:-}" ]; then
			rm -rf "$E2E_DIR"
		else
			printf '# files kept in %s\n' "$E2E_DIR"
		fi
	fi
	[ "$E2E_FAIL" = 0 ]
	exit
}

# --- HTTP ---------------------------------------------------------------------

# http METHOD PATH [CURL-ARG...]: one request to outer from 127.0.0.1 (pass
# --interface ADDR to be another peer). Sets STATUS (000 when there was no
# answer), BODY and XID (the X-Isogate-Id header, empty when absent). With
# E2E_TLS=1 it trusts the test CA and presents $E2E_DIR/pki/$E2E_CERT.crt
# (default wechat-app; E2E_CERT= presents none).
http()
{
	local method=$1 path=$2 tls=() cert pre
	shift 2
	mapfile -t pre < <(e2e_in_ns outer)
	rm -f "$E2E_DIR/body" "$E2E_DIR/headers"
	if [ "${E2E_TLS:-}" = 1 ]; then
		cert=${E2E_CERT-wechat-app}
		tls=(--cacert "$E2E_DIR/pki/ca.crt")
		[ -n "$cert" ] && tls+=(--cert "$E2E_DIR/pki/$cert.crt"
		    --key "$E2E_DIR/pki/$cert.key")
	fi
	STATUS=$("${pre[@]}" curl -sS --max-time 15 --interface "$WECHAT" "${tls[@]}" -X "$method" \
	    -H 'Expect:' -o "$E2E_DIR/body" -D "$E2E_DIR/headers" \
	    -w '%{http_code}' "$@" "$E2E_URL$path" 2>"$E2E_DIR/curl.err")
	[ -n "$STATUS" ] || STATUS=000
	BODY=$(cat "$E2E_DIR/body" 2>/dev/null)
	XID=$(tr -d '\r' <"$E2E_DIR/headers" 2>/dev/null |
	    sed -n 's/^[Xx]-[Ii]sogate-[Ii][Dd]:[[:space:]]*//p' | tail -n 1)
}

# post TYPE JSON [CURL-ARG...]: POST /v1/TYPE with a JSON body. CT=VALUE in
# the environment sets another Content-Type (CT= sends none).
post()
{
	local type=$1 json=$2
	shift 2
	http POST "/v1/$type" -H "$(e2e_ct_header)" --data-binary "$json" "$@"
}

# post_file TYPE FILE [CURL-ARG...]: the same with the body read from FILE.
post_file()
{
	local type=$1 file=$2
	shift 2
	http POST "/v1/$type" -H "$(e2e_ct_header)" --data-binary "@$file" "$@"
}

# The Content-Type header for post: "Content-Type:" alone makes curl send none.
e2e_ct_header()
{
	local ct=${CT-application/json}
	if [ -n "$ct" ]; then
		printf 'Content-Type: %s' "$ct"
	else
		printf 'Content-Type:'
	fi
}

# post_until STATUS TRIES PAUSE TYPE JSON [CURL-ARG...]: post until the
# answer is STATUS, at most TRIES times, PAUSE seconds apart; TRIED is how
# many it took. 0 when it came.
post_until()
{
	local want=$1 tries=$2 pause=$3
	shift 3
	for ((TRIED = 1; TRIED <= tries; TRIED++)); do
		post "$@"
		[ "$STATUS" = "$want" ] && return 0
		[ "$TRIED" -lt "$tries" ] && sleep "$pause"
	done
	TRIED=$tries
	return 1
}

# hold NAME [--wait SECONDS] ARGS...: tests/e2e/tlsprobe.py hold ARGS...
# (--port and --pki "$PKI" given here) in the background, holding its
# connections until release NAME; waits for its "ready TCP TLS" line (60 s
# unless --wait) and sets HOLD_TCP and HOLD_TLS to how many it holds. Not
# in $(...): the probe would lose its stdin with the subshell.
declare -A HOLD_PID=() HOLD_FD=()
hold()
{
	local name=$1 out=$E2E_DIR/hold-$1 fd i wait=60
	shift
	if [ "${1:-}" = --wait ]; then
		wait=$2
		shift 2
	fi
	rm -f "$out.in" "$out.out"
	mkfifo "$out.in" || bail "mkfifo $out.in"
	# Without the other probes' stdin: each sees its own end only.
	(for fd in "${HOLD_FD[@]}"; do exec {fd}>&-; done
	 exec python3 "$E2E_ROOT/tests/e2e/tlsprobe.py" hold \
	    --port "$E2E_PORT" --pki "$PKI" "$@") <"$out.in" >"$out.out" 2>&1 &
	HOLD_PID[$name]=$!
	exec {fd}>"$out.in"		# its stdin: closed by release
	HOLD_FD[$name]=$fd
	for ((i = 0; i < wait * 10; i++)); do
		grep -q '^ready ' "$out.out" && break
		kill -0 "${HOLD_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	read -r _ HOLD_TCP HOLD_TLS < <(grep -m 1 '^ready ' "$out.out" ||
	    echo "ready ? ?")
}

# release NAME: the probe closes what it holds; sets HOLD_GONE to how many
# of them outer had closed before. Not in $(...) either.
release()
{
	local fd=${HOLD_FD[$1]}
	exec {fd}>&-
	unset "HOLD_FD[$1]"
	wait "${HOLD_PID[$1]}" 2>/dev/null
	HOLD_GONE=$(sed -n 's/^closed-by-server //p' "$E2E_DIR/hold-$1.out")
	: "${HOLD_GONE:=?}"
}

# jbody FILTER: jq -r FILTER applied to BODY (empty when BODY is not JSON).
jbody()
{
	printf '%s' "$BODY" | jq -r "$1" 2>/dev/null
}

# The last response in one line, for diagnostics.
last_response()
{
	printf 'status %s, X-Isogate-Id %s, body %s' "$STATUS" "${XID:-(none)}" \
	    "$(printf '%s' "$BODY" | head -c 400)"
}

is_hex32() { [[ $1 =~ ^[0-9a-f]{32}$ ]]; }

# --- audit and database -----------------------------------------------------

# audit_lines SIDE FILTER: the audit records of SIDE matching the jq FILTER.
audit_lines()
{
	local f=$E2E_DIR/audit/$1.audit
	[ -f "$f" ] || return 0
	jq -c "select($2)" "$f" 2>/dev/null
}

# audit_has SIDE FILTER: some record matches; waits up to 3 s for it (a record
# of the other side may be written just after the client got its answer).
audit_has()
{
	local i
	for ((i = 0; i < 30; i++)); do
		[ -n "$(audit_lines "$1" "$2" | head -n 1)" ] && return 0
		sleep 0.1
	done
	return 1
}

# audit_count SIDE FILTER
audit_count()
{
	audit_lines "$1" "$2" | wc -l
}

# audit_tail SIDE: the last records, for diagnostics.
audit_tail()
{
	printf '%s.audit, last records:\n' "$1"
	tail -n 8 "$E2E_DIR/audit/$1.audit" 2>/dev/null
}

# check_audit DESCRIPTION SIDE FILTER
check_audit()
{
	if audit_has "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "no $2 audit record matches: $3" "$(audit_tail "$2")"
	fi
}

# sql QUERY: runs QUERY on the test database, one row per line, | between columns.
sql()
{
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$E2E_DB" "$1"
}

# sql_wait QUERY WANT [SECONDS]: runs QUERY until it prints WANT (at most
# SECONDS, default 5), then prints what it last printed. With a spool, a
# one-way is answered 202 once on disk, and applied by inner just after.
sql_wait()
{
	local got i n=$((${3:-5} * 10))
	for ((i = 0; i < n; i++)); do
		got=$(sql "$1")
		[ "$got" = "$2" ] && break
		sleep 0.1
	done
	printf '%s\n' "$got"
}

# table_digest TABLE [DB]: SHA-256 of every row of TABLE (test database by default).
table_digest()
{
	sqlite3 -batch -noheader -cmd '.timeout 5000' "${2:-$E2E_DB}" \
	    "SELECT * FROM $1 ORDER BY 1, 2" | sha256sum | cut -d' ' -f1
}

# seed_digest TABLE: table_digest of TABLE in a freshly seeded database.
seed_digest()
{
	local db=$E2E_DIR/seed-reference.db
	[ -f "$db" ] ||
	    sqlite3 -bail "$db" <"$E2E_ROOT/tools/demo-db.sql" >/dev/null
	table_digest "$1" "$db"
}

# bill_expected CUSTOMER MONTH: the reply rows JSON (jq -cS form) for the
# seeded bill of customer number CUSTOMER (1..1000) and month MONTH (1..12),
# by the formula in tools/demo-db.sql.
bill_expected()
{
	local c=$((10#$1)) m=$((10#$2)) kwh amount paid
	kwh=$((100 + (37 * c + 101 * m) % 900))
	amount=$((61 * kwh + c % 97))
	paid=true
	[ $(((c + m) % 5)) = 0 ] && paid=false
	printf '[{"amount_cents":%d,"kwh":%d,"month":"2026-%02d","paid":%s}]\n' \
	    "$amount" "$kwh" "$m" "$paid"
}

# check_error LABEL STATUS TOKEN [FIELD [REASON]]: the last response is the
# error STATUS with body {"id","error":TOKEN,"message"[,"field":FIELD]}, the
# id is in X-Isogate-Id, and outer audited a deny with that id and status and
# reason REASON (default TOKEN: a 503 names its cause in the journal).
check_error()
{
	local label=$1 code=$2 token=$3 field=${4:-} reason=${5:-$3} id msg \
	    problems=()
	if [ "$STATUS" = "$code" ] && [ "$(jbody .error)" = "$token" ]; then
		ok "$label: $code $token"
	else
		not_ok "$label: $code $token" "$(last_response)"
	fi
	id=$(jbody .id)
	msg=$(jbody 'if (.message | type) == "string" then .message else "" end')
	is_hex32 "$id" || problems+=("body id is not 32 hex digits")
	[ "$XID" = "$id" ] || problems+=("X-Isogate-Id differs from the body id")
	[ -n "$msg" ] || problems+=("no message string")
	if [ -n "$field" ] && [ "$(jbody .field)" != "$field" ]; then
		problems+=("field is not $field")
	fi
	if [ ${#problems[@]} = 0 ]; then
		ok "$label: error body and X-Isogate-Id"
	else
		not_ok "$label: error body and X-Isogate-Id" "${problems[@]}" \
		    "$(last_response)"
	fi
	check_audit "$label: outer audit deny record with the same id" outer \
	    ".id == \"$XID\" and .decision == \"deny\" and .reason == \"$reason\" and .status == $code"
}

# check_ferry_error LABEL STATUS TOKEN [REASON]: like check_error for answers
# decided after the ferry (502, 504): the body may carry "reason" (checked
# when REASON is given), and outer's audit record of that answer (request or
# reply event) carries the id and the status.
check_ferry_error()
{
	local label=$1 code=$2 token=$3 reason=${4:-} id problems=()
	if [ "$STATUS" = "$code" ] && [ "$(jbody .error)" = "$token" ] &&
	    { [ -z "$reason" ] || [ "$(jbody .reason)" = "$reason" ]; }; then
		ok "$label: $code $token${reason:+ ($reason)}"
	else
		not_ok "$label: $code $token${reason:+ ($reason)}" "$(last_response)"
	fi
	id=$(jbody .id)
	is_hex32 "$id" || problems+=("body id is not 32 hex digits")
	[ "$XID" = "$id" ] || problems+=("X-Isogate-Id differs from the body id")
	[ -n "$(jbody 'select((.message | type) == "string") | .message')" ] ||
	    problems+=("no message string")
	if [ ${#problems[@]} = 0 ]; then
		ok "$label: error body and X-Isogate-Id"
	else
		not_ok "$label: error body and X-Isogate-Id" "${problems[@]}" \
		    "$(last_response)"
	fi
	check_audit "$label: outer audits the $code with the same id" outer \
	    ".id == \"$XID\" and .status == $code and .decision == \"deny\""
}

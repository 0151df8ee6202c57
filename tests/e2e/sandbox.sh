#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Confinement of both daemons: unprivileged user, no capabilities, seccomp; a forbidden syscall kills.
#
# Runs as root (CI does): the daemons start as root with `user nobody` in
# both side blocks, and must then run as nobody with no capability,
# no_new_privs and a seccomp filter, and still serve, reopen the ferry and
# write the database. The test-hook builds ($ISOGATE_BIN/hook/) then try a
# forbidden syscall once sandboxed and must die of SIGSYS. --no-sandbox is
# loud and audited.
. "$(dirname "$0")/lib.sh"

USER_NAME=nobody
E2E_POLICY_SED="/^outer[[:space:]]*{/a\\	user $USER_NAME
/^inner[[:space:]]*{/a\\	user $USER_NAME"
e2e_setup
grep -c "^[[:space:]]*user $USER_NAME" "$E2E_POLICY" | grep -qx 2 ||
    bail "put user $USER_NAME in both side blocks" "$(cat "$E2E_POLICY")"
# What the daemons touch after the drop (journals, FIFOs, state, database)
# must belong to their user; root opens the keys (its own) before it.
# The FIFOs too: one end is opened after the drop (docs/deployment.md).
if grep -q '"spool:' "$E2E_POLICY"; then
	# quarantine/ too: the receiver moves a bad file there after the drop.
	mkdir -p -m 0700 "$E2E_DIR"/ferry/{inward,outward}/quarantine ||
	    bail "create the spool directories"
else
	mkfifo -m 0600 "$E2E_DIR/ferry/inward" "$E2E_DIR/ferry/outward" ||
	    bail "create the ferry FIFOs"
fi
chown -R "$USER_NAME:" "$E2E_DIR" && chown -R root: "$E2E_DIR/keys" ||
    bail "chown the run directory"
uid=$(id -u "$USER_NAME")

start_inner
wait_log inner sandboxed || not_ok "inner logs that it is sandboxed" "$(e2e_log_tail inner)"
start_outer

# confined NAME: /proc/PID/status shows the drop and the filter.
confined()
{
	local name=$1 st problems=() f
	st=$(cat "/proc/${E2E_PID[$name]}/status" 2>/dev/null) ||
	    { not_ok "$name: read its /proc status"; return; }
	for f in Uid Gid; do
		[[ $(sed -n "s/^$f:[[:space:]]*//p" <<<"$st") =~ ^$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid$ ]] ||
		    [ "$f" = Gid ] ||
		    problems+=("$f: $(sed -n "s/^$f:[[:space:]]*//p" <<<"$st"), want $uid x4")
	done
	[ "$(sed -n 's/^Groups:[[:space:]]*//p' <<<"$st" | wc -w)" -le 1 ] ||
	    problems+=("supplementary groups: $(sed -n 's/^Groups:\t*//p' <<<"$st")")
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(sed -n "s/^$f:[[:space:]]*//p" <<<"$st")" = 0000000000000000 ] ||
		    problems+=("$f: $(sed -n "s/^$f:[[:space:]]*//p" <<<"$st")")
	done
	[ "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' <<<"$st")" = 1 ] ||
	    problems+=("NoNewPrivs is not 1")
	[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' <<<"$st")" = 2 ] ||
	    problems+=("Seccomp: $(sed -n 's/^Seccomp:[[:space:]]*//p' <<<"$st"), want 2")
	if [ ${#problems[@]} = 0 ]; then
		ok "$name runs as $USER_NAME (uid $uid), no capabilities, no_new_privs, Seccomp: 2"
	else
		not_ok "$name runs as $USER_NAME, no capabilities, no_new_privs, Seccomp: 2" \
		    "${problems[@]}"
	fi
}
confined inner
confined outer

post bill.query '{"customer_id":"0000000042","month":"2026-03"}'
is "a query is answered through both sandboxed daemons" "$STATUS" 200 ||
    diag "$(last_response)"
post iotcard.usage '{"iccid":"89860000000000000001","day":"2026-03-01","bytes_used":5,"status":"active"}' \
    --interface "$CMIOT"
is "a one-way is applied by the sandboxed inner (SQLite journal, fsync)" "$STATUS" 202 ||
    diag "$(last_response)"
check "the usage row is in the database" \
    test "$(sql_wait "SELECT count(*) FROM card_usage WHERE iccid = '89860000000000000001'" 1)" = 1

# inner goes and comes back: both reopen their FIFOs after the drop.
stop inner && ok "inner stops cleanly"
start_inner
post bill.query '{"customer_id":"0000000043","month":"2026-04"}'
for ((i = 0; i < 30 && STATUS != 200; i++)); do
	sleep 0.2
	post bill.query '{"customer_id":"0000000043","month":"2026-04"}'
done
is "after inner restarts, the sandboxed outer reopens the ferry and answers" "$STATUS" 200 ||
    diag "$(last_response)" "$(e2e_log_tail outer)"
alive outer && confined outer
stop outer && ok "outer stops cleanly"
stop inner && ok "inner stops cleanly"

# forbidden NAME WHAT: the hook build of NAME tries WHAT once sandboxed.
forbidden()
{
	local name=$1 what=$2 tag=hook-$1-$2 pid rc
	e2e_spawn "$tag" env ISOGATE_TEST_FORBIDDEN="$what" \
	    "$ISOGATE_BIN/hook/isogate-$name" -f "$E2E_POLICY"
	pid=${E2E_PID[$tag]}
	for ((i = 0; i < 200; i++)); do
		alive "$tag" || break
		sleep 0.1
	done
	if alive "$tag"; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		E2E_PID[$tag]=
		not_ok "$name dies when it tries $what (still running)" "$(e2e_log_tail "$tag")"
		return
	fi
	{ wait "$pid"; rc=$?; } 2>/dev/null
	E2E_PID[$tag]=
	if [ "$rc" = $((128 + 31)) ] && grep -q "test hook: trying $what" "${E2E_LOG[$tag]}" &&
	    ! grep -q 'was allowed' "${E2E_LOG[$tag]}"; then
		ok "$name is killed by SIGSYS when it tries $what after start-up"
	else
		not_ok "$name is killed by SIGSYS when it tries $what after start-up" \
		    "exit status $rc (SIGSYS is $((128 + 31)))" "$(e2e_log_tail "$tag")"
	fi
}
forbidden outer socket
forbidden outer execve
forbidden inner socket
forbidden inner execve

# Without the variable, the hook build runs normally: the kill above came
# from the attempt, not from start-up.
e2e_spawn hook-inner "$ISOGATE_BIN/hook/isogate-inner" -f "$E2E_POLICY"
if wait_log hook-inner sandboxed && sleep 0.5 && alive hook-inner; then
	ok "the hook build without ISOGATE_TEST_FORBIDDEN starts and stays up"
else
	not_ok "the hook build without ISOGATE_TEST_FORBIDDEN starts and stays up" \
	    "$(e2e_log_tail hook-inner)"
fi
stop hook-inner && ok "it stops cleanly"

# --no-sandbox: loud, audited, and really unconfined.
E2E_LOG[outer]=$E2E_DIR/outer-nosandbox.log
e2e_spawn outer "$ISOGATE_BIN/isogate-outer" --no-sandbox -f "$E2E_POLICY"
if wait_log outer ready; then
	check "--no-sandbox says so loudly" grep -q 'no-sandbox: NOT dropping privileges' "$E2E_DIR/outer.log"
	check_audit "--no-sandbox is audited" outer '.event == "sandbox" and .reason == "no_sandbox"'
	is "--no-sandbox: no seccomp filter" \
	    "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/${E2E_PID[outer]}/status")" 0
else
	not_ok "outer starts with --no-sandbox" "$(e2e_log_tail outer)"
fi
stop outer && ok "outer --no-sandbox stops cleanly"

# A user that does not exist stops the daemon before it serves.
sed -i "s/^\([[:space:]]*user\) $USER_NAME\$/\1 isogate-no-such-user/" "$E2E_POLICY"
"$ISOGATE_BIN/isogate-inner" -f "$E2E_POLICY" >"$E2E_DIR/nouser.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q 'isogate-no-such-user: no such user' "$E2E_DIR/nouser.log"; then
	ok "an unknown user stops inner with a clear message"
else
	not_ok "an unknown user stops inner with a clear message" "exit $rc" "$(cat "$E2E_DIR/nouser.log")"
fi

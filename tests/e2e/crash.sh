#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Crash test: thousands of one-way payments while both daemons are SIGKILLed and restarted; nothing lost, nothing twice.
#
# tests/e2e/crash_client.py sends N payments (distinct payment_id, each with
# its own Idempotency-Key, retried after an error) while this script kills
# outer and inner in turn with SIGKILL at random moments and restarts them.
# Afterwards every payment that got 202 is in the database exactly once,
# none is there twice, each is recorded once in isogate_applied, no apply
# ever ran into the unique key (a second apply of the same payment), and
# both journals account for every accepted exchange id.
. "$(dirname "$0")/lib.sh"
E2E_FERRY=spool		# what this script tests, whatever the environment says

N=5000
KILLS=12		# of each daemon
# Payments started per second: the load lasts ~38 s, longer than the 24
# kills and restarts (~1 s each), so that every kill falls during it.
RATE=130
if e2e_sanitized; then	# several times slower: less load, as many kills
	N=1500
	RATE=40
fi
e2e_start
SPOOL=$E2E_DIR/ferry/inward

python3 "$E2E_ROOT/tests/e2e/crash_client.py" --port "$E2E_PORT" \
    --count "$N" --prefix PAYCRASH --rate "$RATE" \
    --out "$E2E_DIR/results" >"$E2E_DIR/client.json" 2>"$E2E_DIR/client.err" &
client=$!

# kill_restart NAME: SIGKILL, then start again (a new epoch on restart).
kill_restart()
{
	local name=$1 pid=${E2E_PID[$1]}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	E2E_PID[$name]=
	"start_$name"
}

nkill_outer=0
nkill_inner=0
while [ "$nkill_outer" -lt "$KILLS" ] || [ "$nkill_inner" -lt "$KILLS" ]; do
	sleep "0.$((RANDOM % 700 + 300))"
	if [ $(((nkill_outer + nkill_inner) % 2)) = 0 ]; then
		kill_restart outer
		nkill_outer=$((nkill_outer + 1))
	else
		kill_restart inner
		nkill_inner=$((nkill_inner + 1))
	fi
done
ok "outer killed with SIGKILL and restarted $nkill_outer times, inner $nkill_inner times"
check "every kill fell during the load (the client was still sending)" \
    kill -0 "$client"
wait "$client"
check "the client finished" test -s "$E2E_DIR/results"
diag "client: $(cat "$E2E_DIR/client.json")"

# Quiet: nothing left in the inward spool for 3 s in a row.
quiet=0
for ((i = 0; i < 120 && quiet < 3; i++)); do
	if ls "$SPOOL"/*.isf >/dev/null 2>&1; then
		quiet=0
	else
		quiet=$((quiet + 1))
	fi
	sleep 1
done
check "the inward spool drains" test "$quiet" = 3

awk '$2 == 202 { print $1 }' "$E2E_DIR/results" | sort >"$E2E_DIR/accepted"
awk '$2 != 202 { print $1 }' "$E2E_DIR/results" | sort >"$E2E_DIR/refused"
nacc=$(wc -l <"$E2E_DIR/accepted")
is "every payment was answered (202, or an error after its retries)" \
    "$(wc -l <"$E2E_DIR/results")" "$N"
check "most payments were accepted ($nacc of $N)" test "$nacc" -ge $((N * 9 / 10))
sql "SELECT payment_id, count(*) FROM payments WHERE payment_id LIKE 'PAYCRASH%' GROUP BY payment_id" |
    sort >"$E2E_DIR/db"
is "every accepted payment is in the database exactly once" \
    "$(join -t '|' -v 1 "$E2E_DIR/accepted" "$E2E_DIR/db" | wc -l) $(join -t '|' "$E2E_DIR/accepted" "$E2E_DIR/db" | awk -F'|' '$2 != 1' | wc -l)" \
    "0 0"
is "no payment is there twice" "$(awk -F'|' '$2 != 1' "$E2E_DIR/db" | wc -l)" 0
is "each payment in the database was sent by the client" \
    "$(cut -d'|' -f1 "$E2E_DIR/db" | join -v 1 - <(cut -d' ' -f1 "$E2E_DIR/results" | sort) | wc -l)" 0
is "inner recorded one exchange id per payment applied" \
    "$(sql "SELECT count(*) FROM isogate_applied WHERE type = 'payment.record'") $(wc -l <"$E2E_DIR/db")" \
    "$(wc -l <"$E2E_DIR/db") $(wc -l <"$E2E_DIR/db")"
is "no apply ever hit the unique key (no payment applied a second time)" \
    "$(audit_count inner '.event == "execute" and .decision == "deny" and .type == "payment.record"')" 0

# The journals: every accepted exchange id has outer's 202 and inner's execute.
awk '$2 == 202 { print $3 }' "$E2E_DIR/results" | sort -u >"$E2E_DIR/xids"
# (A retry answered from the one-way outer still keeps is a request record
# with status 202 and reason idempotent_retry.)
audit_lines outer '.status == 202 and (.event == "reply" or .reason == "idempotent_retry")' |
    jq -r .id | sort -u >"$E2E_DIR/outer202"
audit_lines inner '.event == "execute" and .decision == "allow" and .type == "payment.record"' |
    jq -r .id | sort -u >"$E2E_DIR/innerok"
is "outer's journal has the 202 of every accepted exchange id" \
    "$(comm -23 "$E2E_DIR/xids" "$E2E_DIR/outer202" | wc -l)" 0
is "inner's journal has the execution of every accepted exchange id" \
    "$(comm -23 "$E2E_DIR/xids" "$E2E_DIR/innerok" | wc -l)" 0
diag "inner executions recognised as repeats: $(($(audit_count inner '.event == "execute" and .decision == "allow" and .type == "payment.record"') - $(wc -l <"$E2E_DIR/innerok"))), retransmissions: $(audit_count outer '.event == "retransmit"'), quarantined files: $(audit_count inner '.event == "ferry" and .reason == "quarantined"'), refused: $(wc -l <"$E2E_DIR/refused")"

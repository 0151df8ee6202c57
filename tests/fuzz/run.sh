#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Builds every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan, and runs each for a while.
#
# Usage: tests/fuzz/run.sh [SECONDS] [NAME...]   (default 60 s; NAME: fuzz_http ...)
# The library sources (common, policy with the bison/flex output, ferry,
# audit, outer, inner; files defining main() left out) are compiled with
# clang into build/fuzz/obj and linked into each target. Corpora live in
# build/fuzz/corpus-NAME, seeded from tests/fuzz/seeds/NAME/ and from seeds
# made here (example policies, JSON bodies, ferry frames). Crash inputs go to
# build/fuzz/NAME-crash-*. Prints "ok - fuzz NAME (N execs)" or
# "not ok - fuzz NAME" per target; exits 1 if any failed.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
SECONDS_EACH=${1:-60}
shift $(($# > 0 ? 1 : 0))
case $SECONDS_EACH in
'' | *[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [NAME...]" >&2; exit 2 ;;
esac

CC=${FUZZ_CC:-clang}
FZ=build/fuzz
OBJ=$FZ/obj
mkdir -p "$OBJ"
FAIL=0

diag() { sed 's/^/# /'; }

if ! command -v "$CC" >/dev/null; then
	echo "not ok - fuzz: $CC not found (tools/deps.sh test installs it)"
	exit 1
fi

# The packages the Makefile links against, plus libevent_openssl for outer.
PKGS=$(sed -n 's/^PKGS[[:space:]]*=[[:space:]]*//p' Makefile)
PKGS="${PKGS:-openssl libevent jansson sqlite3} libevent_openssl"
# shellcheck disable=SC2086
if ! PKG_CFLAGS=$(pkg-config --cflags $PKGS) || ! PKG_LIBS=$(pkg-config --libs $PKGS); then
	echo "not ok - fuzz: pkg-config $PKGS failed"
	exit 1
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -g -O1
    -Wall -Wextra -Wno-unused-parameter -I. -I$ROOT/build $PKG_CFLAGS $SAN"

# --- the libraries -------------------------------------------------------------------

# The parser sources come from bison and flex, through the Makefile's rules.
if [ -f policy/parse.y ] || [ -f policy/lex.l ]; then
	gen=""
	[ -f policy/parse.y ] && gen="$gen build/policy/parse.c"
	[ -f policy/lex.l ] && gen="$gen build/policy/lex.c"
	# shellcheck disable=SC2086
	if ! make --no-print-directory -s $gen >"$FZ/gen.log" 2>&1; then
		echo "not ok - fuzz: generate the policy parser (make$gen)"
		diag <"$FZ/gen.log"
		FAIL=1
	fi
fi

# Newest header: an object older than it is rebuilt.
newest_h=$(find common policy ferry audit outer inner build/policy -name '*.h' \
    -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1)
newest_h=${newest_h%.*}

# compile SRC: SRC -> $OBJ/SRC.o unless up to date; the compiler's output in .log.
# shellcheck disable=SC2317 # run through xargs
compile()
{
	local src=$1 o=$OBJ/${1%.c}.o extra=""
	mkdir -p "$(dirname "$o")"
	if [ -f "$o" ] && [ "$o" -nt "$src" ] &&
	    [ "$(stat -c %Y "$o")" -ge "${newest_h:-0}" ]; then
		return 0
	fi
	case $src in
	build/policy/*) extra="-Wno-unused-function -Wno-sign-compare -Wno-missing-prototypes" ;;
	esac
	# shellcheck disable=SC2086
	if $CC $CFLAGS $extra -fsanitize=fuzzer-no-link -c -o "$o" "$src" \
	    >"$o.log" 2>&1; then
		return 0
	fi
	rm -f "$o"
	return 1
}

srcs=()
for d in common policy ferry audit outer inner; do
	for f in "$d"/*.c; do
		[ -f "$f" ] && srcs+=("$f")
	done
done
for f in build/policy/parse.c build/policy/lex.c; do
	[ -f "$f" ] && srcs+=("$f")
done

# Two at a time: this machine has two cores.
export -f compile
export CC CFLAGS OBJ newest_h
printf '%s\n' "${srcs[@]}" | xargs -P 2 -I{} bash -c 'compile "$1" || true' _ {}

# One archive per folder, so that a target links only the objects it uses.
broken=()
archives=()
for d in common policy ferry audit outer inner; do
	objs=()
	for f in "${srcs[@]}"; do
		case $f in
		"$d"/* | build/"$d"/*) ;;
		*) continue ;;
		esac
		o=$OBJ/${f%.c}.o
		if [ ! -f "$o" ]; then
			broken+=("$f")
			continue
		fi
		# A daemon's or tool's main() would clash with libFuzzer's.
		nm "$o" 2>/dev/null | grep -q ' T main$' && continue
		objs+=("$o")
	done
	[ ${#objs[@]} -gt 0 ] || continue
	rm -f "$FZ/lib$d.a"
	ar rcs "$FZ/lib$d.a" "${objs[@]}" && archives+=("$FZ/lib$d.a")
done

# --- seeds ----------------------------------------------------------------------------

# seed NAME: fills the corpus of NAME from the tree and from generated seeds.
seed()
{
	local name=$1 short=${1#fuzz_} corpus=$FZ/corpus-$1 d f
	mkdir -p "$corpus"
	for d in "tests/fuzz/seeds/$name" "tests/fuzz/seeds/$short"; do
		[ -d "$d" ] && cp -n "$d"/* "$corpus/" 2>/dev/null
	done
	case $short in
	policy)
		for f in policy/examples/*.policy tests/policy/*.in; do
			[ -f "$f" ] && cp -n "$f" "$corpus/example-$(basename "$f")"
		done
		;;
	frame | chan)
		python3 - "$corpus" <<'EOF'
# Well-formed frames of every kind, a sealed run, and near misses.
import os, struct, sys
H = struct.Struct("<4sBBHIQQ16s32sHHI")
def frame(kind, seq, payload=b"", peer=b"wechat-app", typ=b"bill.query", epoch=1):
    return H.pack(b"ISGF", 1, kind, 0, epoch, seq, 1767225600 * 10**9,
                  bytes(range(16)), bytes(32), len(peer), len(typ),
                  len(payload)) + peer + typ + payload
def seal(first, last, epoch=1):
    body = struct.pack("<QQ", first, last) + bytes(64) + bytes(64)
    return frame(7, last, body, b"", b"", epoch)
q = b'{"customer_id":"0000000042","month":"2026-03"}'
seeds = {
    "request": frame(1, 1, q),
    "reply": frame(2, 1, b'{"rows":[]}'),
    "oneway": frame(3, 1, b'{"payment_id":"PAY2026E2E0000001"}'),
    "ack": frame(4, 1, b'{"status":"applied"}'),
    "heartbeat": frame(5, 1, peer=b"", typ=b""),
    "reject": frame(6, 1, b'{"message":"x","reason":"schema"}'),
    "seal": seal(1, 1),
    "batch": frame(1, 1, q) + frame(1, 2, q) + frame(3, 3, b"{}") + seal(1, 3),
    "garbage-between": frame(1, 1, q) + b"xxISG" + frame(1, 2, q) + seal(1, 2),
    "truncated": frame(1, 1, q)[:60],
    "old-epoch": frame(1, 5, q, epoch=2) + seal(5, 5, 2) + frame(1, 1, q) + seal(1, 1),
}
for name, data in seeds.items():
    with open(os.path.join(sys.argv[1], "gen-" + name), "wb") as f:
        f.write(data)
EOF
		;;
	frag)
		python3 - "$corpus" <<'EOF'
# Records of (ms step, length, link packet): a frame in three fragments
# out of order with a copy, a heartbeat, a truncated and an oversized one.
# The length's top bit asks fuzz_frag to write the valid tag (the 16 zero
# bytes after the header here); "forged" leaves them wrong. "parity": a
# group of three with one lost and its parity packet (the XOR covers the
# members' tags, computed here under fuzz_frag's key), which rebuilds it.
import hashlib, hmac, os, struct, sys
H = struct.Struct("<4sBBHIQHHII16s")
KEY = b"isogate fuzz_frag link key 0123\0"
def pkt(kind, count, msg, index, data_len, total, seq=0, session=7):
    body = H.pack(b"ISGL", 3, kind, count, session, msg, index, data_len,
                  total, seq, bytes(16))
    return body + bytes([index]) * data_len
def tagged(p):
    t = hmac.new(KEY, b"\1" + p[:32] + p[48:], hashlib.sha256).digest()
    return p[:32] + t[:16] + p[48:]
def parity(first, members, session=7):
    n = max(len(m) for m in members)
    x = bytearray(n)
    for m in members:
        for i, b in enumerate(m):
            x[i] ^= b
    return pkt(3, len(members), first, 0, 0, 0, 0, session)[:22] + \
        struct.pack("<HII", n, 0, 0) + bytes(16) + bytes(x)
def rec(step, p, tag=True):
    return struct.pack("<BH", step, len(p) | (0x8000 if tag else 0)) + p
three = [pkt(1, 3, 1, i, 40 if i < 2 else 20, 100) for i in range(3)]
group = [tagged(pkt(1, 3, 1, i, 40 if i < 2 else 20, 100, 1 + i)) for i in range(3)]
seeds = {
    "reorder": rec(0, three[2]) + rec(1, three[0]) + rec(0, three[0]) + rec(2, three[1]),
    "heartbeat": rec(0, pkt(2, 0, 5, 0, 0, 0)) + rec(200, pkt(1, 1, 6, 0, 10, 10)),
    "truncated": rec(0, three[0][:20]),
    "oversized": rec(0, pkt(1, 60000, 1, 0, 10, 1 << 20)),
    "sessions": b"".join(rec(1, pkt(1, 1, 1, 0, 5, 5, 0, s)) for s in range(6)),
    "forged": rec(0, three[0], False) + rec(0, pkt(2, 0, 9, 0, 0, 0), False)
              + b"".join(rec(1, p) for p in three),
    "parity": rec(0, group[0], False) + rec(0, group[2], False)
              + rec(1, parity(1, group)),
}
for name, data in seeds.items():
    with open(os.path.join(sys.argv[1], "gen-" + name), "wb") as f:
        f.write(data)
EOF
		;;
	schema)
		printf '%s' '{"customer_id":"0000000042","month":"2026-03"}' >"$corpus/gen-bill"
		;;
	request)
		python3 - "$corpus" <<'EOF'
# Whole requests for fuzz_request's policy: valid ones, pipelined, and refusals.
import os, sys
def post(t, body, extra=b""):
    return (b"POST /v1/" + t + b" HTTP/1.1\r\nHost: x\r\n" + extra +
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body) + body)
bill = b'{"customer_id":"0000000042","month":"2026-03"}'
pay = (b'{"payment_id":"PAY0000000000001","amount_cents":5,'
       b'"paid_at":"2026-03-15T10:00:00Z","note":"x","kind":"card",'
       b'"ok":true,"rate":0.5,"day":"2026-03-15"}')
seeds = {
    "bill": post(b"bill.query", bill),
    "pay": post(b"payment.record", pay),
    "pipelined": post(b"bill.query", bill) + post(b"payment.record", pay) +
                 post(b"bill.query", b"{}"),
    "continue": post(b"bill.query", bill, b"Expect: 100-continue\r\n"),
    "forbidden": post(b"other.only", b'{"a":"b"}'),
    "schema": post(b"payment.record", b'{"payment_id":1}'),
    "get": b"GET /v1/bill.query HTTP/1.1\r\nHost: x\r\n\r\n",
    "close": post(b"bill.query", bill, b"Connection: close\r\n"),
    "http10": post(b"bill.query", bill).replace(b"HTTP/1.1", b"HTTP/1.0"),
}
for name, data in seeds.items():
    with open(os.path.join(sys.argv[1], "gen-" + name), "wb") as f:
        f.write(data)
EOF
		;;
	http)
		printf 'POST /v1/bill.query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 46\r\n\r\n{"customer_id":"0000000042","month":"2026-03"}' \
		    >"$corpus/gen-post"
		;;
	esac
}

# --- build and run each target -----------------------------------------------------

targets=()
if [ $# -gt 0 ]; then
	for n in "$@"; do
		targets+=("tests/fuzz/${n%.c}.c")
	done
else
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && targets+=("$f")
	done
fi
if [ ${#targets[@]} = 0 ]; then
	echo "not ok - fuzz: no tests/fuzz/fuzz_*.c"
	exit 1
fi

# Leaks are findings too; libFuzzer reports them itself.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in "${targets[@]}"; do
	name=$(basename "$t" .c)
	bin=$FZ/$name
	if [ ! -f "$t" ]; then
		echo "not ok - fuzz $name (no $t)"
		FAIL=1
		continue
	fi
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -fsanitize=fuzzer -o "$bin" "$t" \
	    -Wl,--start-group "${archives[@]}" -Wl,--end-group $PKG_LIBS -lm \
	    >"$FZ/$name.build.log" 2>&1; then
		echo "not ok - fuzz $name (does not build)"
		grep -E 'error|undefined reference' "$FZ/$name.build.log" | head -n 20 | diag
		for f in "${broken[@]}"; do
			echo "library source that does not compile with clang: $f"
			grep -E 'error' "$OBJ/${f%.c}.o.log" | head -n 5
		done | diag
		FAIL=1
		continue
	fi
	seed "$name"
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$FZ/$name-" \
	    "$FZ/corpus-$name" >"$FZ/$name.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$FZ/$name.log" | tail -n 1)
	if [ "$rc" = 0 ] && [ -n "$execs" ]; then
		echo "ok - fuzz $name (${execs} execs, $(find "$FZ/corpus-$name" -type f | wc -l) inputs)"
	else
		echo "not ok - fuzz $name (exit status $rc)"
		{
			grep -E -m 1 -A 6 '^==[0-9]+==ERROR|runtime error|deadly signal|Timeout|out-of-memory' \
			    "$FZ/$name.log"
			grep -E '^SUMMARY|Test unit written|^Base64' "$FZ/$name.log"
		} | cut -c 1-200 | diag
		FAIL=1
	fi
done
exit "$FAIL"

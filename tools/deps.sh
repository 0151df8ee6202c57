#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# Installs the Debian packages isogate needs to build, run and test, if missing.
# Usage: tools/deps.sh [build|test|external]   (test adds what only the test suite uses;
# external adds the scanners of `make test-external`)
set -eu

build_pkgs="make gcc pkg-config bison flex libssl-dev libevent-dev libjansson-dev
libsqlite3-dev sqlite3 openssl curl libseccomp-dev libcap-ng-dev
libnetfilter-queue-dev libmnl-dev nftables iptables"
test_pkgs="libcmocka-dev clang libclang-rt-14-dev wrk python3 jq iproute2 procps"

external_pkgs="sqlmap testssl.sh"

want=$build_pkgs
[ "${1:-build}" = test ] && want="$build_pkgs $test_pkgs"
[ "${1:-build}" = external ] && want="$build_pkgs $test_pkgs $external_pkgs"

missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 2
fi
echo "tools/deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "tools/deps.sh: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "tools/deps.sh: apt-get install failed for:$missing" >&2; exit 1; }

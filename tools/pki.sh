#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The isogate authors
# A demo PKI for outer's TLS front, with the openssl command line.
#
# Usage: tools/pki.sh init DIR         creates, unless DIR/ca.crt exists: a CA
#                                      (ca.crt), the server certificate for
#                                      127.0.0.1 and localhost (server.crt/key),
#                                      client certificates wechat-app and
#                                      cmiot-operator, a revoked certificate
#                                      for wechat-app (revoked.crt/key), crl.pem
#        tools/pki.sh issue DIR NAME   a client certificate NAME.crt/NAME.key,
#                                      subject CN=NAME and DNS name NAME
#        tools/pki.sh revoke DIR NAME  revokes NAME.crt and rewrites crl.pem
#        tools/pki.sh crl DIR          rewrites crl.pem (valid 30 days)
# Private keys are P-256, mode 600. Not for production: the CA key sits
# next to the certificates.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
set -o pipefail

die()
{
	echo "pki: $*" >&2
	exit 1
}

usage()
{
	echo "usage: tools/pki.sh init|crl DIR | issue|revoke DIR NAME" >&2
	exit 2
}

command -v openssl >/dev/null || die "openssl is missing"
[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
NAME=${3:-}
CNF=$DIR/ca.cnf

write_config()
{
	cat >"$CNF" <<CNF || die "cannot write $CNF"
[ ca ]
default_ca	= demo
[ demo ]
dir		= $DIR
database	= \$dir/index.txt
serial		= \$dir/serial
crlnumber	= \$dir/crlnumber
new_certs_dir	= \$dir/issued
certificate	= \$dir/ca.crt
private_key	= \$dir/ca.key
default_md	= sha256
default_days	= 825
default_crl_days = 30
policy		= anything
unique_subject	= no
copy_extensions	= none
[ anything ]
commonName	= supplied
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage	= critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName	= DNS:\$ENV::PKI_DNS
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage	= critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName	= IP:127.0.0.1, DNS:localhost
CNF
}

newkey()
{
	(umask 077 && openssl genpkey -algorithm EC \
	    -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null) ||
	    die "cannot create the key $1"
	chmod 600 "$1"
}

# sign FILE CN DNS EXTENSIONS
sign()
{
	local file=$1 cn=$2 dns=$3 ext=$4 out
	newkey "$DIR/$file.key"
	openssl req -new -key "$DIR/$file.key" -subj "/CN=$cn" \
	    -out "$DIR/$file.csr" 2>/dev/null || die "cannot create $file.csr"
	if ! out=$(PKI_DNS=$dns openssl ca -batch -notext -config "$CNF" \
	    -extensions "$ext" -in "$DIR/$file.csr" -out "$DIR/$file.crt" 2>&1); then
		die "cannot sign $file.crt: $out"
	fi
	rm -f "$DIR/$file.csr"
}

crl()
{
	local out
	if ! out=$(PKI_DNS=x openssl ca -gencrl -config "$CNF" \
	    -out "$DIR/crl.pem" 2>&1); then
		die "cannot write crl.pem: $out"
	fi
}

valid_name()
{
	[[ $1 =~ ^[A-Za-z0-9][-A-Za-z0-9.]{0,62}$ ]] ||
	    die "name '$1': letters, digits, '-' and '.', at most 63"
}

case $CMD in
init)
	[ $# -eq 2 ] || usage
	if [ -f "$DIR/ca.crt" ]; then
		exit 0
	fi
	mkdir -p "$DIR/issued" || die "cannot create $DIR"
	chmod 700 "$DIR"
	DIR=$(cd "$DIR" && pwd)
	CNF=$DIR/ca.cnf
	write_config
	: >"$DIR/index.txt"
	echo 1000 >"$DIR/serial"
	echo 1000 >"$DIR/crlnumber"
	newkey "$DIR/ca.key"
	openssl req -x509 -new -key "$DIR/ca.key" -sha256 -days 3650 \
	    -subj "/CN=isogate demo CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -out "$DIR/ca.crt" 2>/dev/null || die "cannot create ca.crt"
	sign server 127.0.0.1 localhost server
	sign wechat-app wechat-app wechat-app client
	sign cmiot-operator cmiot-operator cmiot-operator client
	sign revoked wechat-app wechat-app client
	PKI_DNS=x openssl ca -config "$CNF" -revoke "$DIR/revoked.crt" >/dev/null 2>&1 ||
	    die "cannot revoke revoked.crt"
	crl
	;;
issue)
	[ $# -eq 3 ] || usage
	valid_name "$NAME"
	[ -f "$CNF" ] || die "$DIR is not a demo PKI (tools/pki.sh init $DIR)"
	[ ! -e "$DIR/$NAME.crt" ] || die "$DIR/$NAME.crt exists"
	sign "$NAME" "$NAME" "$NAME" client
	;;
revoke)
	[ $# -eq 3 ] || usage
	valid_name "$NAME"
	[ -f "$CNF" ] || die "$DIR is not a demo PKI (tools/pki.sh init $DIR)"
	[ -f "$DIR/$NAME.crt" ] || die "$DIR/$NAME.crt does not exist"
	out=$(PKI_DNS=x openssl ca -config "$CNF" -revoke "$DIR/$NAME.crt" 2>&1) ||
	    die "cannot revoke $NAME.crt: $out"
	crl
	;;
crl)
	[ $# -eq 2 ] || usage
	[ -f "$CNF" ] || die "$DIR is not a demo PKI (tools/pki.sh init $DIR)"
	crl
	;;
*)
	usage
	;;
esac
exit 0

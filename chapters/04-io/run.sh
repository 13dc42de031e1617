#!/bin/sh
# run.sh - what `make chapter4` runs: the cooperative I/O demos, in the
# lesson's order.  Usage: sh chapters/04-io/run.sh BINDIR
BIN=$1
set -e
echo "==> echo: a server greenlet and three clients, one thread"
"$BIN/echo" 2>&1
echo
echo "==> dns: article 001's lookups, joinall(timeout=2), against a local DNS server"
"$BIN/dns" 2>&1
echo
echo "==> roundtrip: one byte there and back, blocking vs green sockets"
"$BIN/roundtrip" 2>&1
echo
echo "==> tls_echo: the same echo over TLS (certificates made by tests/tls-certs.sh)"
sh tests/tls-certs.sh "$BIN/certs"
"$BIN/tls_echo" "$BIN/certs" 2>&1

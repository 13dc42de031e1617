#!/bin/sh
# run.sh - what `make chapter6` runs: the synchronization demos, in the
# lesson's order.  Usage: sh chapters/06-sync/run.sh BINDIR
BIN=$1
set -e
for demo in race prodcons event asyncresult local; do
    echo "==> $demo"
    "$BIN/$demo" 2>&1
    echo
done

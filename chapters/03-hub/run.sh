#!/bin/sh
# run.sh - what `make chapter3` runs: the hub's demos, in the lesson's order.
# Usage: sh chapters/03-hub/run.sh BINDIR
BIN=$1
set -e
for demo in three_tasks joinall kill deadlock; do
    echo "==> $demo"
    # The hub writes its deadlock report on stderr: show it in line.
    "$BIN/$demo" 2>&1
    echo
done

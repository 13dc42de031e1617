#!/bin/sh
# run.sh - what `make chapter8` runs: the threads-vs-greenlets experiment,
# a greenlet that never yields, and the price of a green socket.
# Usage: sh chapters/08-threads/run.sh BINDIR
# FULL=1 in the environment (make chapter8 FULL=1) adds 10,000 clients.
BIN=$1
HERE=$(dirname "$0")
set -e

echo "==> experiment: a 100 ms handler served sequentially, by threads, by greenlets"
if [ "${FULL:-0}" != 0 ]; then
    sh "$HERE/experiment.sh" "$BIN" full
else
    sh "$HERE/experiment.sh" "$BIN"
fi
echo
echo "==> hog: a greenlet that never yields, and the blocking detector"
"$BIN/hog" 2>&1
echo
echo "==> roundtrip: what a green socket costs"
"$BIN/roundtrip"

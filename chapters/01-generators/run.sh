#!/bin/sh
# make chapter1 runs this: sh chapters/01-generators/run.sh BINDIR
set -e
BIN=$1

echo "== tasks: two generators take turns (article 003, 1.1) =="
"$BIN/tasks"
echo
echo "== locals: a local restarts at every resume, the struct remembers =="
"$BIN/locals"
echo
echo "== expand: the macros beside the switch they expand to =="
"$BIN/expand"

#!/bin/sh
# tests/grade/reset.sh - what `make reset E=NAME` runs: put the exercise's
# stub back, as shipped (tests/pristine/), after keeping the student's files
# in $SRC/.backups/NN-slug/NAME-DATE-TIME/ (outside build/, which
# `make clean` removes).
set -u
. tests/grade/lib.sh

[ -n "${E:-}" ] || { echo "which exercise? make reset E=NAME (e.g. E=fib)"; exit 2; }
e=$(find_exercise "$E") || exit 2
if not_started "$e"; then
    echo "$e is already as shipped: nothing to reset"
    exit 0
fi
backup=$SRC/.backups/$e-$(date +%Y%m%d-%H%M%S)
mkdir -p "$backup" || exit 1
[ -d "$SRC/$e" ] && cp -p -R "$SRC/$e/." "$backup/"
rm -rf "$SRC/$e" && mkdir -p "$SRC/$e" && cp -R "$PRISTINE/$e/." "$SRC/$e/" || exit 1
rm -f "$GB/$e.result"
echo "$e: the stub is back in $SHOW/$e/"
echo "your files are kept in ${backup#"$(pwd)"/}/"

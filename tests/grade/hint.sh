#!/bin/sh
# tests/grade/hint.sh - what `make hint E=NAME` runs: the next of the
# exercise's 2 or 3 hints, one more each time it is called.
#
# The hints are tests/hints/NN-slug/NAME.md: a first line "# NN-slug/NAME",
# then sections "## Hint 1", "## Hint 2" (and "## Hint 3"), each vaguer
# than the next is precise.  How many were shown is kept in
# $STATE/hints/NN-slug/NAME; `make hint E=NAME AGAIN=1` starts over.
set -u
. tests/grade/lib.sh

if [ -n "${E:-}" ]; then
    e=$(find_exercise "$E") || exit 2
else
    e=$(next_exercise) || { echo "every exercise passes: no hint needed"; exit 0; }
    echo "(no E=NAME: the next exercise, $e)"
fi
file=tests/hints/$e.md
[ -f "$file" ] || { echo "no hints for $e yet ($file is missing): read $SHOW/$e/*.h"; exit 1; }

count=$(grep -c '^## Hint [0-9]' "$file")
seen_file=$STATE/hints/$e
mkdir -p "$(dirname "$seen_file")"
[ "${AGAIN:-}" = 1 ] && rm -f "$seen_file"
seen=$(cat "$seen_file" 2>/dev/null || echo 0)
k=$((seen + 1))
[ "$k" -le "$count" ] || k=$count
echo "$k" > "$seen_file"

echo "$e: hint $k of $count"
echo
# The section "## Hint k", up to the next heading of its level.
awk -v k="$k" '/^## / { on = ($0 ~ "^## Hint " k "([^0-9]|$)"); next } on' "$file" |
    sed -e '/./,$!d'
echo
if [ "$k" -lt "$count" ]; then
    echo "(still stuck? make hint E=${e##*/} again shows hint $((k + 1)))"
else
    echo "(that was the last hint; make hint E=${e##*/} AGAIN=1 starts over)"
fi

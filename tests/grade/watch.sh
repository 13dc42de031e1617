#!/bin/sh
# tests/grade/watch.sh - what `make watch` runs: rustlings' loop.  It grades
# the exercise you are on, then checks once a second whether a file under
# $SRC changed; when one did, it grades the exercise that file belongs to
# and shows its first failure.  When the exercise passes, it says which one
# comes next and follows you there.  Ctrl-C stops it.
set -u
. tests/grade/lib.sh

if [ -n "${E:-}" ]; then
    current=$(find_exercise "$E") || exit 2
else
    current=$(next_exercise) || current=
fi
mkdir -p "$STATE"
stamp=$STATE/watch.stamp.$$
trap 'rm -f "$stamp"; exit 130' INT TERM
trap 'rm -f "$stamp"' EXIT

# Grade $current and say what to do next; when it passes, go on to the
# next exercise and grade that one too.
grade_current() {
    touch "$stamp"          # saves from now on count as the next change
    while :; do
        echo
        echo "== $(date +%H:%M:%S) $current"
        grade_exercise "$current"
        progress_done
        show_row "$current"
        case $r_status in
            FAIL) echo "(save a file of $SHOW/$current to grade it again)"; return ;;
            PASS) ;;
            *) where_to_start "$current"; return ;;
        esac
        if ! next=$(next_exercise); then
            echo "$current passes, and so does every exercise: all done"
            return
        fi
        echo "$current passes: well done.  next: $next"
        current=$next
    done
}

# The exercise a changed file belongs to: its first two path components.
changed_exercise() {
    f=$(find "$SRC" -path "$SRC/.backups" -prune -o -type f -newer "$stamp" -print 2>/dev/null |
        head -n 1)
    [ -n "$f" ] || return 1
    x=$(echo "${f#$SRC/}" | cut -d/ -f1-2)
    case " $(echo $EXERCISES) " in *" $x "*) echo "$x"; return 0 ;; esac
    touch "$stamp"          # not an exercise's file: ignore it
    return 1
}

echo "watching $SHOW: save a file to grade it (Ctrl-C stops)"
if [ -n "$current" ]; then
    grade_current
else
    echo "every exercise passes"; touch "$stamp"
fi
while :; do
    sleep 1
    if x=$(changed_exercise); then
        current=$x
        grade_current
    fi
done

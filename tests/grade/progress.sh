#!/bin/sh
# tests/grade/progress.sh - what `make progress` runs: every exercise as
# not started, failing or done, and the next one.  An exercise edited since
# it was last graded is graded again (quietly) first.
set -u
. tests/grade/lib.sh

done_=0; all=0
for e in $EXERCISES; do
    all=$((all + 1))
    result_is_fresh "$e" || { grade_exercise "$e"; progress_done; }
    read_result "$e"
    case $r_status in
        PASS) word=done; done_=$((done_ + 1)) ;;
        FAIL) word="failing ($r_points/$r_checks)" ;;
        *) word="not started" ;;
    esac
    printf '  %-26s %s\n' "$e" "$word"
done
echo "$done_ of $all exercises done"
if next=$(next_exercise); then
    echo "next: $next"; where_to_start "$next"
else
    echo "all done: well done"
fi

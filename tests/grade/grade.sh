#!/bin/sh
# tests/grade/grade.sh - what `make grade` runs: grade the exercises, print
# a row per exercise (points, result, time, what failed), a subtotal per
# chapter, the score and the next exercise.  Exits 1 unless every exercise
# graded passes.  The variables are tests/grade.mk's:
#   E=NAME     one exercise ("event" or "06-sync/event")
#   N=K        one chapter (N=1 and N=01 alike)
#   DIR=PATH   grade that folder instead of exercises/ (SRC is its path)
#   CSV=FILE   also write the table to FILE, for an instructor
set -u
. tests/grade/lib.sh

# Which exercises: E= or N= narrow the list.
chosen=$EXERCISES
if [ -n "${E:-}" ]; then
    chosen=$(find_exercise "$E") || exit 2
elif [ -n "${N:-}" ]; then
    n=$(echo "$N" | sed 's/^0*//')
    chosen=$(for e in $EXERCISES; do [ "$(chapter_of "$e")" = "$n" ] && echo "$e"; done)
    [ -n "$chosen" ] || { echo "no exercises for chapter '$N'"; exit 2; }
fi

[ "$SRC" = exercises ] || echo "grading $SHOW" | cut -c1-$WIDTH
printf '%-26s %6s  %-11s %5s  %s\n' exercise points result time "first failure"
csv=
if [ -n "${CSV:-}" ]; then
    csv=$CSV
    echo "exercise,chapter,points,checks,result,seconds,warnings,first_failure" > "$csv" || exit 2
fi

total=0; score=0; done_=0; failing=0; fresh=0
chapter=; ch_score=0; ch_total=0; ch_count=0
subtotal() {
    [ -n "$chapter" ] && [ "$(echo "$chosen" | wc -w)" -gt 1 ] &&
        printf '%-26s %6s\n' "  chapter $chapter" "$ch_score/$ch_total"
    return 0
}
start_all=$(now)
for e in $chosen; do
    c=$(chapter_of "$e")
    if [ "$c" != "$chapter" ]; then
        subtotal
        chapter=$c; ch_score=0; ch_total=0; ch_count=0
    fi
    grade_exercise "$e"
    progress_done
    show_row "$e"
    total=$((total + r_checks)); score=$((score + r_points))
    ch_total=$((ch_total + r_checks)); ch_score=$((ch_score + r_points)); ch_count=$((ch_count + 1))
    case $r_status in
        PASS) done_=$((done_ + 1)) ;;
        FAIL) failing=$((failing + 1)) ;;
        *) fresh=$((fresh + 1)) ;;
    esac
    if [ -n "$csv" ]; then
        reason=$(printf '%s%s' "${r_test:+$r_test: }" "$r_reason" | sed 's/"/""/g')
        printf '%s,%s,%s,%s,%s,%s,%s,"%s"\n' "$e" "$c" "$r_points" "$r_checks" \
            "$r_status" "$r_seconds" "$r_warnings" "$reason" >> "$csv"
    fi
done
subtotal
echo "Score: $score/$total  ($done_ done, $failing failing, $fresh not started;" \
     "$(since "$start_all") s)"
[ -n "$csv" ] && echo "table written to $csv"
if next=$(next_exercise); then
    case " $(echo $chosen) " in *" $next "*)
        echo "next: $next"; where_to_start "$next" ;;
    esac
else
    echo "every exercise passes: well done"
fi
[ "$done_" -eq "$(echo "$chosen" | wc -w)" ]

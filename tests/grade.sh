#!/bin/sh
# grade.sh [CHAPTER] EXERCISE... - what `make grade [N=K]` runs.
#
# Builds each exercise's tests against your code in exercises/, runs them,
# and prints a line per exercise (points, PASS/FAIL, the first failing
# check's message) and the total.  Each check is one point.  Environment:
# MAKE, B (the build folder).
set -u
chapter=$1; shift
log=$(mktemp); trap 'rm -f "$log"' EXIT
score=0; total=0; graded=0

printf '%-28s %7s  %-6s %s\n' "exercise" "points" "result" "first failure"
for e in "$@"; do
    num=$(echo "$e" | sed 's/^0*//; s/-.*//')
    [ -n "$chapter" ] && [ "$chapter" != "$num" ] && continue
    graded=$((graded + 1))
    checks=$(grep -c '^START_TEST' "tests/exercises/$e.c")
    total=$((total + checks))
    if ! $MAKE -s --no-print-directory "$B/grade/$e" >"$log" 2>&1; then
        why=$(grep -m1 -E 'error|undefined reference' "$log" | cut -c1-100)
        printf '%-28s %7s  %-6s %s\n' "$e" "0/$checks" "FAIL" "does not compile: $why"
        continue
    fi
    "$B/grade/$e" >"$log" 2>&1
    passed=$(sed -n 's/^grade: \([0-9]*\)\/[0-9]* checks passed$/\1/p' "$log")
    passed=${passed:-0}
    score=$((score + passed))
    if [ "$passed" -eq "$checks" ]; then
        printf '%-28s %7s  %-6s\n' "$e" "$passed/$checks" "PASS"
    else
        first=$(sed -n 's/^grade: first failure: //p' "$log")
        [ -n "$first" ] || first="the tests crashed before reporting (see $B/grade/$e)"
        printf '%-28s %7s  %-6s %s\n' "$e" "$passed/$checks" "FAIL" "$first"
    fi
done
if [ $graded -eq 0 ]; then
    echo "no exercises for chapter '$chapter'"
    exit 1
fi
echo "Score: $score/$total"

#!/bin/sh
# run-tests.sh BUILD_DIR EXERCISE... - what `make test` runs.
#
#  1. every library test program (BUILD_DIR/tests/lib/*);
#  2. every exercise's tests built against solutions/ (all must pass);
#  3. every exercise's tests built against its untouched stub (each must
#     FAIL: a test that cannot fail is a defect; each proof counts as a check);
# then one summary line in Check's own format, which is what CI reads.
# VALGRIND=1 runs 1 and 2 under Valgrind; RUNNER prefixes every program
# (qemu-aarch64 for the cross build); LIB_TESTS lists the library suites
# (default: every program in BUILD_DIR/tests/lib).
set -u
build=$1; shift
checks=0; failures=0; errors=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

runner=${RUNNER:-}
if [ "${VALGRIND:-}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind"; exit 1; }
    runner="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
    export CK_TIMEOUT_MULTIPLIER=10
fi

# Add the counts of Check's summary line in $log to the totals.
count() {
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "    (no Check summary: the program crashed before reporting)"
        errors=$((errors + 1)); checks=$((checks + 1)); return
    fi
    set -- $(echo "$line" | sed 's/[^0-9 ]/ /g')
    checks=$((checks + $2)); failures=$((failures + $3)); errors=$((errors + $4))
}

run_suite() {    # name program
    printf '%-40s ' "$1"
    timeout 900 $runner "$2" >"$log" 2>&1
    status=$?
    summary=$(grep -E '^[0-9]+%: Checks:' "$log" | tail -n 1)
    echo "${summary:-exit status $status}"
    if [ $status -ne 0 ]; then
        grep -E ':[FE]:|^==[0-9]+==|runtime error|ERROR' "$log" | head -n 20 | sed 's/^/    /'
    fi
    count
    # A clean Check report with a failing exit status (Valgrind's error
    # exit, a sanitizer at exit) is still a failure.
    if [ $status -ne 0 ] && ! grep -qE ':[FE]:' "$log"; then
        errors=$((errors + 1))
    fi
}

echo "== library tests"
for t in ${LIB_TESTS:-"$build"/tests/lib/*}; do
    [ -x "$t" ] && run_suite "lib/$(basename "$t")" "$t"
done

echo "== exercises, against solutions/"
for e in "$@"; do
    run_suite "solutions/$e" "$build/solutions/$e"
done

echo "== exercises, against their untouched stubs (each must fail)"
for e in "$@"; do
    printf '%-40s ' "exercises/$e"
    timeout 300 ${RUNNER:-} "$build/stubs/$e" >"$log" 2>&1
    status=$?
    passed=$(sed -n 's/^grade: \([0-9]*\)\/\([0-9]*\) checks passed$/\1 \2/p' "$log")
    checks=$((checks + 1))
    if [ $status -ne 0 ] && [ -n "$passed" ]; then
        set -- $passed
        echo "fails $(($2 - $1)) of $2 checks, as an untouched stub should"
    elif [ $status -ne 0 ]; then
        # Without fork (CK_FORK=no) one crashing check ends the program.
        echo "crashes (exit status $status), so it fails, as an untouched stub should"
    else
        echo "DEFECT: the untouched stub passes its tests (or never ran them)"
        failures=$((failures + 1))
    fi
done

ok=$((checks - failures - errors))
echo "$((ok * 100 / (checks > 0 ? checks : 1)))%: Checks: $checks, Failures: $failures, Errors: $errors"
[ $failures -eq 0 ] && [ $errors -eq 0 ]

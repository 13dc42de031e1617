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
log=$(mktemp)

runner=${RUNNER:-}
if [ "${VALGRIND:-}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind"; exit 1; }
    # Valgrind runs one thread at a time and, unless told to be fair, lets a
    # spinning thread keep the turn: a watchdog thread (lib/03-hub/monitor.c)
    # that must see another thread spin would starve (tests/lib/hub.c's
    # test_monitor_per_hub).
    runner="valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
    export CK_TIMEOUT_MULTIPLIER=10
fi

# The verdict comes from the results file the harness writes (KIT_RESULTS,
# see tests/harness.h), never from the program's output: the code under
# test prints there too, and could print a summary of its own.
results=$(mktemp); trap 'rm -f "$log" "$results"' EXIT

# Run program $2 with its verdict going to $results; $1 is a time limit.
run_program() {
    rm -f "$results"
    KIT_RESULTS=$results timeout "$1" $runner "$2" >"$log" 2>&1
}

# Print the summary of $results in Check's own format, each failure as
# Check prints it (FILE:LINE:F|E:TCASE:TEST: MESSAGE), and add the counts
# to the totals.
count() {
    if ! grep -q '^total' "$results" 2>/dev/null; then
        echo "exit status $status"
        echo "    (no Check summary: the program crashed before reporting)"
        tail -n 5 "$log" | sed 's/^/    /'
        errors=$((errors + 1)); checks=$((checks + 1)); return
    fi
    set -- $(awk -F '\t' '$1 == "result" { run++ }
                          $1 == "result" && $2 == "fail" { f++ }
                          $1 == "result" && $2 == "error" { e++ }
                          END { print run + 0, f + 0, e + 0 }' "$results")
    echo "$(( $1 > 0 ? ($1 - $2 - $3) * 100 / $1 : 0 ))%: Checks: $1, Failures: $2, Errors: $3"
    awk -F '\t' '$1 == "result" && $2 != "pass" {
        printf "    %s:%s:%s:%s: %s\n", $5, toupper(substr($2, 1, 1)), $4, $3, $6 }' \
        "$results" | head -n 20
    checks=$((checks + $1)); failures=$((failures + $2)); errors=$((errors + $3))
    # A clean report with a failing exit status (Valgrind's error exit, a
    # sanitizer at exit) is still a failure.
    if [ $status -ne 0 ] && [ "$2" -eq 0 ] && [ "$3" -eq 0 ]; then
        echo "    exit status $status after a clean report:"
        grep -E '^==[0-9]+==|runtime error|ERROR' "$log" | head -n 20 | sed 's/^/    /'
        errors=$((errors + 1))
    fi
}

run_suite() {    # name program
    printf '%-40s ' "$1"
    run_program 900 "$2"
    status=$?
    count
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
runner=${RUNNER:-}      # never under Valgrind: they are meant to fail
for e in "$@"; do
    printf '%-40s ' "exercises/$e"
    run_program 300 "$build/stubs/$e"
    status=$?
    passed=$(awk -F '\t' '$1 == "total" { print $2, $3 }' "$results" 2>/dev/null)
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

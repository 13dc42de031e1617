# tests/grade/lib.sh - what the grader's scripts share (sourced, never run).
#
# The grader builds an exercise's tests against the student's code, then runs
# each test in a process of its own (KIT_TEST=NAME, see tests/harness.h), so
# that every test has its own output file, capped, and its own verdict file,
# written by the harness and never by the code under test.  Everything lands
# next to the test program:
#   $GB/NN-slug/NAME           the test program (built by the Makefile)
#   $GB/NN-slug/NAME.compile   what the compiler said, last time it ran
#   $GB/NN-slug/NAME.d/        per test: TEST.out (its output), TEST.res
#   $GB/NN-slug/NAME.log       the detail, for the student to read
#   $GB/NN-slug/NAME.result    one line: the row, for make progress and CSV
#
# Environment (from tests/grade.mk): MAKE, B (the build folder), SRC (the
# exercises folder graded), GB (where its tests are built), STATE (hints, watch), EXERCISES, and
# GRADE_TIMEOUT (seconds a test may run, default KIT_TEST_TIMEOUT).

PRISTINE=tests/pristine
# A test's output (stdout and stderr) goes through a pipe to `head -c`,
# which keeps the first 1 MiB and then leaves: a print in an endless loop
# then dies of SIGPIPE at its next write, in milliseconds, instead of
# filling the disk (one such answer wrote 290 MB in 10 s).  Not ulimit -f:
# that would also cap Check's own file of results, which grows with every
# passing ck_assert (100,000 of them in a test of a deep tree).
CAP=1048576
CAP_TEXT="1 MiB"
TAB=$(printf '\t')
WIDTH=100
# $SRC as a student reads it: relative to the kit when it is inside.
SHOW=${SRC#"$(pwd)"/}

default_timeout=$(sed -n 's/^#define KIT_TEST_TIMEOUT \([0-9]*\).*/\1/p' tests/harness.h)
TIMEOUT=${GRADE_TIMEOUT:-${default_timeout:-10}}

chapter_of() {      # 03-hub/sleep -> 3
    echo "$1" | sed 's/^0*//; s/-.*//'
}

# E=NAME: "sleep", "03-hub/sleep" (or the folder, "exercises/03-hub/sleep/").
find_exercise() {
    want=$(echo "$1" | sed 's|^exercises/||; s|/*$||')
    for e in $EXERCISES; do
        case $e in "$want"|*/"$want") echo "$e"; return 0 ;; esac
    done
    echo "no exercise named '$1'; the exercises are:" >&2
    echo "$EXERCISES" | tr ' ' '\n' | sed 's/^/  /' >&2
    return 1
}

# Identical to the copy in tests/pristine/: nothing to grade yet.
not_started() {
    diff -r -q "$SRC/$1" "$PRISTINE/$1" >/dev/null 2>&1
}

# How many tests exercise $1 has, for a row that ran none (not started,
# does not compile): the harness lists them (KIT_LIST=1) from the program
# built against the untouched stub, which always builds.  Not a grep of
# START_TEST: a test that this machine leaves out (an #ifdef, another
# architecture's test) would count there and never run.  Kept in
# $GB/E.count until the test file changes (a 0, a stub that did not
# build, is not kept).
checks_in() {
    count=$GB/$1.count
    if [ ! -s "$count" ] || [ "tests/exercises/$1.c" -nt "$count" ]; then
        mkdir -p "$(dirname "$count")"
        rm -f "$count" "$count.list"
        $MAKE -s --no-print-directory "$B/stubs/$1" > /dev/null 2>&1
        KIT_LIST=1 KIT_RESULTS=$count.list "$B/stubs/$1" > /dev/null 2>&1
        listed=$(awk -F "$TAB" '$1 == "test"' "$count.list" 2>/dev/null | wc -l)
        [ "$listed" -gt 0 ] || { echo 0; return; }
        echo "$listed" > "$count"
    fi
    cat "$count"
}

# The row's fields, kept in $GB/E.result, separated by "|" (not tabs: the
# shell's read would merge empty fields between tabs):
#   STATUS POINTS CHECKS SECONDS TEST KIND WARNINGS REASON
# STATUS is PASS, FAIL or "not started".
write_result() {
    printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$@" > "$GB/$e.result"
}

# Fields of $GB/$1.result into r_status, r_points, ... (empty if none).
read_result() {
    r_status=; r_points=0; r_checks=0; r_seconds=0; r_test=; r_kind=; r_warnings=0; r_reason=
    [ -f "$GB/$1.result" ] || return 1
    IFS='|' read -r r_status r_points r_checks r_seconds r_test r_kind r_warnings r_reason \
        < "$GB/$1.result"
}

# The result is current when nothing in the exercise's folder, and no test
# program, is newer than it.
result_is_fresh() {
    [ -f "$GB/$1.result" ] || return 1
    [ -z "$(find "$SRC/$1" "tests/exercises/$1.c" -newer "$GB/$1.result" 2>/dev/null | head -n 1)" ]
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

# A progress line on stderr: rewritten in place on a terminal, one line per
# step when GRADE_PROGRESS=1 (the grader's own tests read them), else none.
progress() {
    if [ "${GRADE_PROGRESS:-}" = 1 ]; then
        echo "$*" >&2
    elif [ -t 2 ]; then
        printf '\r\033[K%s' "$(echo "$*" | cut -c1-$((WIDTH - 1)))" >&2
    fi
}
progress_done() {
    [ -t 2 ] && [ "${GRADE_PROGRESS:-}" != 1 ] && printf '\r\033[K' >&2
    return 0
}

# What a failing test's verdict means, in a student's words.
explain() {         # kind message output-file
    capped=
    [ "$(wc -c < "$3" 2>/dev/null || echo 0)" -ge $CAP ] && capped=1
    case $1:$2 in
        pass:*) echo "passed" ;;
        fail:*) printf '%s\n' "$2" ;;
        error:*"Received signal 13"*|died:*)
            if [ -n "$capped" ]; then
                echo "printed more than $CAP_TEXT and was stopped (the grader's cap): a print in a loop?"
            else
                printf '%s\n' "$(echo "$2" | sed 's/.*Received signal 13.*/crashed: SIGPIPE, a write to a closed socket or pipe?/')"
            fi ;;
        error:*"timeout expired"*)
            echo "timed out after $TIMEOUT s: an endless loop, or a wait that never ends?" \
                 "${capped:+(and it printed more than $CAP_TEXT)}" ;;
        error:*"Received signal 11"*)
            if grep -q 'overflowed its stack' "$3" 2>/dev/null; then
                echo "crashed: a greenlet overflowed its stack (the library's report is in its output)"
            else
                echo "crashed: segmentation fault (signal 11): a NULL or stale pointer?"
            fi ;;
        error:*"Received signal"*)
            echo "crashed: $(echo "$2" | sed 's/.*Received signal \([0-9]*\) (\(.*\)).*/\2 (signal \1)/')" ;;
        error:*"Early exit with return value"*)
            echo "the test process exited early (status ${2##* }): exit() in the code?" ;;
        *) printf '%s\n' "$2" ;;
    esac
}

# The command that runs one test alone, in the foreground, under gdb; on
# two lines joined by a backslash, so that it fits the width.
gdb_command() {     # exercise test [indent]
    printf '%sCK_FORK=no KIT_TEST=%s \\\n%s  gdb -q -ex run --args %s\n' "${3:-}" "$2" "${3:-}" "$GB/$1"
}

# Run test $2 of exercise $1 alone; sets t_kind (pass, fail, error, died)
# and t_msg.
run_one_test() {
    out=$GB/$1.d/$2
    rm -f "$out.res"
    mult=$(awk -v t="$TIMEOUT" -v k="${default_timeout:-10}" 'BEGIN { print t / k }')
    KIT_TEST=$2 KIT_RESULTS=$out.res CK_TIMEOUT_MULTIPLIER=$mult \
        timeout -k 5 $((TIMEOUT * 3 + 30)) "$GB/$1" < /dev/null 2>&1 | head -c $CAP > "$out.out"
    if grep -q '^total' "$out.res" 2>/dev/null; then
        t_kind=$(awk -F "$TAB" '$1 == "result" { print $2; exit }' "$out.res")
        t_msg=$(awk -F "$TAB" '$1 == "result" { print $6; exit }' "$out.res")
        [ -n "$t_kind" ] || { t_kind=died; t_msg="the test program ran no test named $2"; }
    else
        t_kind=died
        t_msg="the test program died before it could report"
    fi
}

# Build exercise $e's tests against $SRC; sets warnings, and returns
# non-zero when it does not compile.  What the compiler said is kept in
# $GB/$e.compile, and kept when make has nothing to rebuild, so that the
# warnings are shown again.  LC_ALL=C: plain quotes in gcc's messages,
# which are cut to fit the width.
build_exercise() {
    mkdir -p "$(dirname "$GB/$e")"
    touch "$GB/$e.building"
    LC_ALL=C $MAKE -s --no-print-directory "$GB/$e" > "$GB/$e.make" 2>&1
    built=$?
    if [ $built -ne 0 ] || [ ! -f "$GB/$e.compile" ] ||
       [ -n "$(find "$GB/$e" -newer "$GB/$e.building" 2>/dev/null)" ]; then
        mv "$GB/$e.make" "$GB/$e.compile"
    fi
    rm -f "$GB/$e.building" "$GB/$e.make"
    warnings=$(grep -c ': warning:' "$GB/$e.compile")
    return $built
}

# The compiler's first lines worth reading: errors (gcc's "error:", the
# assembler's "Error:", the linker's "undefined reference"), else any;
# paths relative to $SRC, to fit the width.
compile_errors() {
    grep -v -E '^make(\[[0-9]+\])?: ' "$GB/$1.compile" | sed "s|$SRC/||g" > "$GB/$1.compile.short"
    grep -E 'error|Error|undefined reference|Assembler messages' "$GB/$1.compile.short" \
        | head -n 5 | grep . || head -n 5 "$GB/$1.compile.short"
}

# Grade exercise $1: build, run every test, write $GB/E.log and E.result.
grade_exercise() {
    e=$1
    start=$(now)
    mkdir -p "$GB/$e.d"
    rm -f "$GB/$e.d"/*
    log=$GB/$e.log
    if [ ! -d "$SRC/$e" ]; then
        echo "$e: no folder $SRC/$e" > "$log"
        write_result "not started" 0 "$(checks_in "$e")" 0 "" missing 0 "no folder $SRC/$e"
        return
    fi
    if not_started "$e"; then
        echo "$e: not started ($SRC/$e is as shipped; 0 points)" > "$log"
        write_result "not started" 0 "$(checks_in "$e")" 0 "" "" 0 ""
        return
    fi
    progress "grading $e: compiling"
    if ! build_exercise; then
        { echo "$e: does not compile"; echo; cat "$GB/$e.compile"; } > "$log"
        write_result FAIL 0 "$(checks_in "$e")" "$(since "$start")" "" compile "$warnings" \
            "does not compile: $(compile_errors "$e" | grep -v 'Assembler messages:$' | head -n 1)"
        return
    fi
    { echo "$e: graded $(date '+%Y-%m-%d %H:%M:%S') against $SRC/$e"
      [ -s "$GB/$e.compile" ] && { echo; echo "== the compiler said"; cat "$GB/$e.compile"; }
    } > "$log"
    KIT_LIST=1 KIT_RESULTS=$GB/$e.d/list "$GB/$e" > /dev/null 2>&1
    tests=$(awk -F "$TAB" '$1 == "test" { print $2 }' "$GB/$e.d/list" 2>/dev/null)
    n=$(echo "$tests" | grep -c .)
    passed=0; i=0; first=; first_kind=; first_msg=
    for t in $tests; do
        i=$((i + 1))
        progress "grading $e: test $i/$n $t ($(since "$start") s)"
        run_one_test "$e" "$t"
        why=$(explain "$t_kind" "$t_msg" "$GB/$e.d/$t.out")
        { echo; echo "== $t: $t_kind"; printf '%s\n' "$why"; } >> "$log"
        if [ "$t_kind" = pass ]; then
            passed=$((passed + 1))
            continue
        fi
        if [ -s "$GB/$e.d/$t.out" ]; then
            echo "-- its output (last 30 lines of $(wc -c < "$GB/$e.d/$t.out") bytes):" >> "$log"
            tail -n 30 "$GB/$e.d/$t.out" | cut -c1-300 >> "$log"
        fi
        { echo "-- run it alone under gdb:"; gdb_command "$e" "$t" "   "; } >> "$log"
        if [ -z "$first" ]; then
            first=$t; first_kind=$t_kind; first_msg=$why
        fi
    done
    [ "$n" -gt 0 ] || { first_kind=died; first_msg="the test program listed no tests"; }
    status=FAIL
    [ "$n" -gt 0 ] && [ "$passed" -eq "$n" ] && status=PASS
    write_result "$status" "$passed" "$n" "$(since "$start")" "$first" "$first_kind" \
        "$warnings" "$first_msg"
}

# Print $1, cut to fit the width, each line indented by $2 spaces.
fit() {
    printf '%s\n' "$1" | fold -s -w $((WIDTH - $2)) | head -n "${3:-3}" | sed "s/^/$(printf "%$2s" '')/"
}

# Exercise $1's row, and under it what a student needs to fix it.
show_row() {
    read_result "$1"
    case $r_status in
        PASS) word=PASS ;;
        FAIL) word=FAIL ;;
        *) word="not started" ;;
    esac
    case $r_kind in
        compile) short="does not compile" ;;
        fail) short="$r_test failed" ;;
        error|died)
            case $r_reason in
                printed*) short="$r_test: printed too much" ;;
                "timed out"*) short="$r_test: timed out" ;;
                crashed*) short="$r_test: crashed" ;;
                *) short="$r_test: died" ;;
            esac ;;
        missing) short="no folder in $SHOW" ;;
        *) short= ;;
    esac
    [ "$r_status" = "not started" ] && [ "$r_kind" != missing ] && short="(as shipped)"
    row=$(printf '%-26s %6s  %-11s %4ss  %s' "$1" "$r_points/$r_checks" "$word" "$r_seconds" "$short")
    echo "$row" | cut -c1-$WIDTH | sed 's/ *$//'
    [ "$r_status" = FAIL ] || { show_warnings "$1"; return; }
    case $r_kind in
        compile)
            compile_errors "$1" | cut -c1-$((WIDTH - 4)) | sed 's/^/    /' ;;
        *)
            fit "$r_reason" 4 4
            out=$GB/$1.d/$r_test.out
            # A crash's or a hang's last words, or the library's report
            # (lines "green: ...") that came before a failed check.
            if [ -s "$out" ] && { [ "$r_kind" != fail ] || grep -q '^green: ' "$out"; }; then
                echo "    its output ended with:"
                # A capped output ends in the middle of a line: drop it.
                tail -n 5 "$out" | { [ "$(wc -c < "$out")" -ge $CAP ] &&
                    head -n 4 || tail -n 4; } | cut -c1-$((WIDTH - 6)) | sed 's/^/      /'
            fi
            if [ "$r_kind" != fail ]; then
                echo "    run it alone, in the foreground, under gdb (Ctrl-C stops a hang; then bt):"
                gdb_command "$1" "$r_test" "      "
            fi ;;
    esac
    show_warnings "$1"
    echo "    details: $GB/$1.log"
}

show_warnings() {
    [ "${r_warnings:-0}" -gt 0 ] 2>/dev/null || return 0
    echo "    warnings: $r_warnings; the first:"
    grep -m1 ': warning:' "$GB/$1.compile" | sed "s|$SRC/||g" | fold -w $((WIDTH - 6)) |
        head -n 2 | sed 's/^/      /'
}

# The first exercise, in order, that has not passed since it was last
# changed.
next_exercise() {
    for x in $EXERCISES; do
        result_is_fresh "$x" && read_result "$x" && [ "$r_status" = PASS ] && continue
        echo "$x"; return 0
    done
    return 1
}

# What to do for exercise $1: two lines.
where_to_start() {
    h=$(cd "$SRC" 2>/dev/null && ls "$1"/*.h 2>/dev/null | head -n 1)
    echo "  open $SHOW/${h:-$1/}" | cut -c1-$WIDTH
    echo "  stuck? make hint E=${1##*/}"
}

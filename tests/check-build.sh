#!/bin/sh
# check-build.sh - the build keeps two promises a student relies on (CI runs it):
#
#  1. `make CFLAGS=... CPPFLAGS=...` on the command line adds to the kit's own
#     flags instead of replacing them (without -fPIC and libevent's flags the
#     shared library would not link);
#  2. editing a header rebuilds every program that includes it: the test
#     harness's header, and an exercise's contract.
#
# Each failure says which promise broke.  Exit status: 0 when both hold.
set -u
cd "$(dirname "$0")/.."
b=build/check-build
mkdir -p build
failed=0
fail() { echo "check-build: FAIL: $*"; failed=1; }

echo "check-build: make CFLAGS=-O0 CPPFLAGS=-DKIT_CHECK_BUILD (the kit's flags must stay)"
if make -s B=$b CFLAGS=-O0 CPPFLAGS=-DKIT_CHECK_BUILD lib $b/tests/lib/gen >$b.log 2>&1; then
    $b/tests/lib/gen >/dev/null 2>&1 || fail "the test built with CFLAGS=-O0 does not pass"
else
    fail "the build with CFLAGS=-O0 on the command line failed:"; tail -n 5 $b.log
fi

# Build once, touch a header, then ask make what it would do (-n: print the
# commands, run none).  A program whose link command is not among them
# ignores the header.  (Not `make -q`: the phony need-deps check makes it
# answer "out of date" always.)
out_of_date() { make -n B=$b "$1" 2>/dev/null | grep -q -- "-o $1 "; }
lib_test=$b/tests/lib/gen
solution=$b/solutions/06-sync/event
graded=$b/grade/06-sync/event
make -s B=$b $lib_test $solution $graded >>$b.log 2>&1 || fail "the build of three tests failed"

touch tests/harness.h
out_of_date $lib_test || fail "touching tests/harness.h does not rebuild $lib_test"
out_of_date $solution || fail "touching tests/harness.h does not rebuild $solution"
make -s B=$b $lib_test $solution $graded >>$b.log 2>&1

touch tests/pristine/06-sync/event/event.h
out_of_date $solution || fail "touching the contract event.h does not rebuild $solution"
touch exercises/06-sync/event/event.h
out_of_date $graded || fail "touching exercises/.../event.h does not rebuild $graded"

rm -rf $b $b.log
[ $failed -eq 0 ] && echo "check-build: both promises hold"
exit $failed

#!/bin/sh
# selftest.sh DIR - proof that `make slides-check` fails where it should.
# DIR holds broken/deck.md rendered (slides.mk does it): every slide of it
# is broken one way but the first and the last.  The check must exit 1 and
# name each broken slide with the right failure, and no other.
set -u
dir=$1
log=$dir/check.log
node "$(dirname "$0")/check.js" check "$dir" > "$log" 2>&1
rc=$?
passed=0 failed=0
expect() {  # expect SLIDE PATTERN: a FAIL line for that slide says it
    if grep -q "^FAIL .*, slide $1 .*$2" "$log"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "slides-selftest: slide $1 should fail with \"$2\"; the check said:"
        grep "slide $1 " "$log" || echo "  (nothing)"
    fi
}
expect_none() {  # expect_none SLIDE: a good slide passes
    if grep -q "^FAIL .*, slide $1 " "$log"; then
        failed=$((failed + 1))
        echo "slides-selftest: slide $1 is fine, but the check said:"; grep "slide $1 " "$log"
    else
        passed=$((passed + 1))
    fi
}
if [ $rc -eq 1 ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "slides-selftest: the check should exit 1, it exited $rc:"; tail -n 5 "$log"
fi
expect_none 1
expect 2 'past the bottom edge'
expect 3 'the table .* past the right edge'
expect 4 'the picture "All black" is all one colour'
expect 5 'blank: no text and no picture'
expect 6 'is cut off or scrolls'
expect 7 'the picture "Labels at 14 px" is shrunk'
expect 8 'the code listing "int shrunk_to_fit;" is set at 12.0 px'
expect_none 9
echo "slides-selftest: the check of a deck of broken slides (log: $log)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

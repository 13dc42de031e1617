#!/bin/sh
# check-pristine.sh - the untouched stubs in tests/pristine/ must be exactly
# exercises/ as shipped: `make test` proves that tests/pristine/ fails every
# check, and a student starts from exercises/.  Run from the kit's top
# folder (CI does, before `make test`).  Exit status 1 names each file that
# differs or exists in only one of the two.
set -u
a=exercises b=tests/pristine
out=$(diff -rq -x .backups "$a" "$b" 2>&1)   # make reset's backups are the student's
if [ -z "$out" ]; then
    echo "check-pristine: $a/ and $b/ are identical"
    exit 0
fi
echo "check-pristine: $a/ and $b/ differ (change both together):"
echo "$out" | sed -e 's/^Files \(.*\) and \(.*\) differ$/    differs: \1/' \
                  -e 's/^Only in \(.*\): \(.*\)$/    only in \1: \2/'
exit 1

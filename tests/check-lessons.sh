#!/bin/sh
# check-lessons.sh - every lesson section a test cites is a heading of that
# lesson, and every test cites the one way.
#
# A failing check tells the student where to read.  Tests say it with one
# macro of tests/harness.h:
#
#     #define LESSON "chapters/06-sync/README.md"
#     ck_assert_msg(rc == 0, "expected 0, got %d; "
#                   KIT_LESSON(LESSON, "Event: wake everybody"), rc);
#
# which prints "see chapters/06-sync/README.md, 'Event: wake everybody'".
# Each argument is a string literal or a macro of one (#define NAME "...")
# of the same test file.  Rename a heading and the message sends the student
# to a section that is not there; this script finds every KIT_LESSON in
# tests/ and checks that
#   1. its file exists;
#   2. its section is a heading of that file, word for word ("#" lines
#      outside ``` blocks);
#   3. no test cites another way ("see chapters/..., '...'" written out, or
#      "see %s, '...'" with the file as an argument): the grep below finds
#      those, and names the line to change.
#
# Usage: sh tests/check-lessons.sh        (from anywhere; exit 1 on a miss)

cd "$(dirname "$0")/.." || exit 2

# Every KIT_LESSON of file $1, one a line: FILE<TAB>LESSON<TAB>HEADING.  A
# macro argument is replaced by its #define; an unknown one is left as its
# name, which then names no lesson.
kit_lessons() {
    awk -v file="$1" '
    { text = text $0 "\n" }
    /^#define [A-Za-z_][A-Za-z0-9_]* "[^"]*"[ \t]*$/ {
        name = $2
        value = $0
        sub(/^#define [A-Za-z_][A-Za-z0-9_]* "/, "", value)
        sub(/"[ \t]*$/, "", value)
        def[name] = value
    }
    function arg(a) {
        gsub(/^[ \t\n]+|[ \t\n]+$/, "", a)
        if (a ~ /^".*"$/)
            return substr(a, 2, length(a) - 2)
        return (a in def) ? def[a] : "(" a ": no #define of a string in this file)"
    }
    END {
        t = text
        while (match(t, /KIT_LESSON\([ \t\n]*("[^"]*"|[A-Z_][A-Z0-9_]*)[ \t\n]*,[ \t\n]*("[^"]*"|[A-Z_][A-Z0-9_]*)[ \t\n]*\)/)) {
            c = substr(t, RSTART + 11, RLENGTH - 12)    # the arguments
            t = substr(t, RSTART + RLENGTH)
            sub(/^[ \t\n]+/, "", c)
            # The first ends at its closing quote (a literal may hold a
            # comma), or at the comma after a name.
            if (substr(c, 1, 1) == "\"")
                i = index(substr(c, 2), "\"") + 1
            else
                i = index(c, ",") - 1
            rest = substr(c, i + 1)
            sub(/^[ \t\n]*,/, "", rest)
            printf "%s\t%s\t%s\n", file, arg(substr(c, 1, i)), arg(rest)
        }
    }' "$1"
}

# The headings of a lesson, one a line, without the #s (code blocks skipped:
# a shell comment in a ``` block is not a heading).
headings() {
    awk '/^```/ { code = !code; next }
         !code && /^#+ / { sub(/^#+ +/, ""); sub(/[ \t]+$/, ""); print }' "$1"
}

tab=$(printf '\t')
list=$(mktemp) || exit 2
trap 'rm -f "$list" "$list.u" "$list.stray"' EXIT
: > "$list.stray"
# harness.h defines KIT_LESSON (its example cites nothing real).
for f in $(find tests -name '*.[ch]' ! -path tests/harness.h | sort); do
    kit_lessons "$f"
    # 3. the one way: a citation written out, or with the file as a %s.
    grep -n -e "see %s, ['%]" -e "see chapters/[^ ]*README\.md, '" -e "see \" [A-Z_]* \", '" "$f" | while IFS=: read -r n _; do
        echo "$f:$n: cites a lesson without KIT_LESSON(FILE, \"Section\") (tests/harness.h)"
    done >> "$list.stray"
done > "$list"
cat "$list.stray"
stray=$(wc -l < "$list.stray")
# Once per file and section: COUNT<TAB>FILE<TAB>LESSON<TAB>HEADING.
sort "$list" | uniq -c | sed "s/^ *\([0-9]*\) /\1$tab/" > "$list.u"

missing=0
while IFS="$tab" read -r n file lesson heading; do
    if [ ! -f "$lesson" ]; then
        why="there is no such lesson"
    elif ! headings "$lesson" | grep -qxF -- "$heading"; then
        why="the lesson has no such heading"
    else
        continue
    fi
    echo "$file: $n message(s) cite $lesson, '$heading': $why"
    missing=$((missing + n))
done < "$list.u"

total=$(wc -l < "$list")
sections=$(cut -f2,3 "$list" | sort -u | wc -l)
lessons=$(cut -f2 "$list" | sort -u | wc -l)
status=0
if [ "$missing" -gt 0 ]; then
    echo "check-lessons: $missing of $total citations point nowhere:" \
         "rename the heading back, or fix the test's message"
    status=1
fi
if [ "$stray" -gt 0 ]; then
    echo "check-lessons: $stray citation(s) above are not KIT_LESSON: write" \
         "KIT_LESSON(LESSON, \"Section\") in the message"
    status=1
fi
[ $status -eq 0 ] &&
    echo "check-lessons: $total citations of $sections sections in $lessons lessons, every heading found"
exit $status

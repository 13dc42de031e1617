#!/bin/sh
# check-lessons.sh - every lesson section a test message cites is a heading
# of that lesson.
#
# A failing check tells the student where to read: "see %s, 'Event: wake
# everybody'" with LESSON "chapters/06-sync/README.md".  Rename that heading
# and the message sends the student to a section that is not there.  This
# script finds every such citation in tests/ and looks the heading up.
#
# The four ways tests cite a section (each is matched below):
#   1. a literal:   "see chapters/01-generators/README.md, 'Exercise: fib'"
#   2. LESSON:      #define LESSON "chapters/06-sync/README.md"
#                   ... "see %s, 'Event: wake everybody'", ..., LESSON);
#   3. a macro:     #define SECTION "'Sockets and pipes without O_NONBLOCK'"
#                   ... "see %s, %s", LESSON, SECTION);
#   4. a helper whose last parameter is `const char *section`, whose message
#      says "see %s, '%s'" with LESSON: every call's last argument, a string
#      literal, is a section of LESSON.
# C joins adjacent string literals ("see %s, " "'The hub'"), and so does
# this script before it looks.
#
# Usage: sh tests/check-lessons.sh        (from anywhere; exit 1 on a miss)

cd "$(dirname "$0")/.." || exit 2

# One line per citation: FILE<TAB>LESSON<TAB>HEADING.  In the awk program,
# q is a single quote, the one around a heading.
citations() {
    for f in $(find tests -name '*.[ch]' | sort); do
        awk -v file="$f" -v q="'" '
        { text = text $0 "\n" }
        END {
            gsub(/"[ \t\n]*"/, "", text)        # "a" "b" is "ab", as in C
            lesson = ""
            if (match(text, /#define LESSON "chapters\/[^"]*README\.md/))
                lesson = substr(text, RSTART + 16, RLENGTH - 16)
            heading = q "[^" q "%]*" q           # a quoted heading, not %s

            # 1. chapters/NN-name/README.md, followed by a quoted heading
            t = text
            while (match(t, "chapters/[0-9][0-9]-[a-z0-9-]*/README\\.md, " heading)) {
                c = substr(t, RSTART, RLENGTH)
                i = index(c, ", " q)
                cite(substr(c, 1, i - 1), unquote(substr(c, i + 2)))
                t = substr(t, RSTART + RLENGTH)
            }
            # 2. "see %s, " and a quoted heading: the %s is LESSON
            t = text
            while (match(t, "see %s, " heading)) {
                cite(lesson, unquote(substr(t, RSTART + 8, RLENGTH - 8)))
                t = substr(t, RSTART + RLENGTH)
            }
            # 3. #define SECTION and a quoted heading, in a string
            t = text
            while (match(t, "#define [A-Z_]+ \"" heading "\"")) {
                c = substr(t, RSTART, RLENGTH - 1)
                cite(lesson, unquote(substr(c, index(c, q))))
                t = substr(t, RSTART + RLENGTH)
            }
            # 4. NAME(..., const char *section): every NAME(..., "Heading");
            if (match(text, /[a-z_]+\([^()]*const char \*section\)/)) {
                name = substr(text, RSTART, RLENGTH)
                sub(/\(.*/, "", name)
                t = text
                while (match(t, name "\\([^;]*, \"[^\"]*\"\\);")) {
                    c = substr(t, RSTART, RLENGTH - 3)
                    sub(/.*"/, "", c)
                    cite(lesson, c)
                    t = substr(t, RSTART + RLENGTH)
                }
            }
        }
        function unquote(s) { return substr(s, 2, length(s) - 2) }
        function cite(lesson, heading) {
            if (lesson == "")
                lesson = "(no #define LESSON in this file)"
            printf "%s\t%s\t%s\n", file, lesson, heading
        }' "$f"
    done
}

# The headings of a lesson, one a line, without the #s (code blocks skipped:
# a shell comment in a ``` block is not a heading).
headings() {
    awk '/^```/ { code = !code; next }
         !code && /^#+ / { sub(/^#+ +/, ""); sub(/[ \t]+$/, ""); print }' "$1"
}

tab=$(printf '\t')
list=$(mktemp) || exit 2
trap 'rm -f "$list" "$list.u"' EXIT
citations > "$list"
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
if [ "$missing" -gt 0 ]; then
    echo "check-lessons: $missing of $total citations point nowhere:" \
         "rename the heading back, or fix the test's message"
    exit 1
fi
echo "check-lessons: $total citations of $sections sections in $lessons lessons, every heading found"

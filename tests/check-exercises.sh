#!/bin/sh
# check-exercises.sh - every exercise follows the template of
# tests/exercises/README.md ("The header of an exercise").  For each
# exercise NN-slug/NAME (each tests/exercises/NN-slug/NAME.c):
#
#  1. exercises/NN-slug/NAME/NAME.h opens with
#         NAME.h - exercise NN-slug/NAME: what you build.
#     and its first comment ends with the four lines a student looks for:
#         Lesson: chapters/NN-slug/README.md, "Section", ..., then
#                 "Exercise: NAME".
#         Tests:  tests/exercises/NN-slug/NAME.c
#         Run:    make grade E=NAME
#         Stuck?  make hint E=NAME (one more hint each time you ask)
#     where the lesson is the exercise's own chapter and every quoted
#     section is one of its headings, word for word;
#  2. each .c of the stub opens with "/* FILE - exercise NN-slug/NAME",
#     and each .c of solutions/ with "/* FILE - solution of exercise
#     NN-slug/NAME".
#
# (tests/pristine/ is a copy of exercises/: check-pristine.sh checks that.)
# One line per problem, exit 1 if any.  Usage: sh tests/check-exercises.sh
set -u
cd "$(dirname "$0")/.." || exit 2

problems=0
problem() {
    echo "check-exercises: $*"
    problems=$((problems + 1))
}

# The headings of a lesson, one a line, without the #s (``` blocks skipped).
headings() {
    awk '/^```/ { code = !code; next }
         !code && /^#+ / { sub(/^#+ +/, ""); sub(/[ \t]+$/, ""); print }' "$1"
}

# The first comment of $1, its " * " taken off each line.
first_comment() {
    awk 'NR == 1 && !/^\/\*/ { exit } { sub(/^ \* ?/, ""); sub(/^\/\*/, ""); print } /\*\// { exit }' "$1"
}

# The value after "KEY" in the footer: the line, and for Lesson its
# continuation lines (indented), joined.
footer() {     # comment-text key
    printf '%s\n' "$1" | awk -v key="$2" '
        on && /^        / { sub(/^ +/, ""); text = text " " $0; next }
        on { exit }
        index($0, key) == 1 { on = 1; text = substr($0, length(key) + 1); sub(/^ +/, "", text) }
        END { print text }'
}

n=0
for t in tests/exercises/[0-9][0-9]-*/*.c; do
    e=${t#tests/exercises/}
    e=${e%.c}                   # NN-slug/NAME
    chapter=${e%/*}
    name=${e#*/}
    n=$((n + 1))
    h=exercises/$e/$name.h
    if [ ! -f "$h" ]; then
        problem "$h: missing (every exercise has NAME.h, its assignment)"
        continue
    fi
    c=$(first_comment "$h")
    case $(printf '%s\n' "$c" | sed -n 2p) in
        "$name.h - exercise $e: "?*) ;;
        *) problem "$h: the first line should read \"$name.h - exercise $e: what you build.\"" ;;
    esac

    lesson=$(footer "$c" "Lesson:")
    want=chapters/$chapter/README.md
    case $lesson in
        "$want, "*"then \"Exercise: $name\".") ;;
        *) problem "$h: no \"Lesson: $want, \"Section\", then \"Exercise: $name\".\"" ;;
    esac
    # Every quoted section is a heading of the lesson.
    printf '%s\n' "$lesson" | grep -o '"[^"]*"' | tr -d '"' | while read -r s; do
        headings "$want" 2>/dev/null | grep -qxF -- "$s" ||
            echo "check-exercises: $h: \"$s\" is not a heading of $want"
    done | grep . && problems=$((problems + 1))
    [ "$(footer "$c" "Tests:")" = "$t" ] ||
        problem "$h: no \"Tests:  $t\""
    [ "$(footer "$c" "Run:")" = "make grade E=$name" ] ||
        problem "$h: no \"Run:    make grade E=$name\""
    case $(footer "$c" "Stuck?") in
        "make hint E=$name"*) ;;
        *) problem "$h: no \"Stuck?  make hint E=$name (one more hint each time you ask)\"" ;;
    esac

    for f in exercises/$e/*.c; do
        head -n 1 "$f" | grep -qF "/* ${f##*/} - exercise $e" ||
            problem "$f: the first line should read \"/* ${f##*/} - exercise $e.  Read $name.h first. */\""
    done
    for f in solutions/$e/*.c; do
        head -n 1 "$f" | grep -qF "/* ${f##*/} - solution of exercise $e" ||
            problem "$f: the first line should read \"/* ${f##*/} - solution of exercise $e.  See $name.h. */\""
    done
done

if [ "$problems" -gt 0 ]; then
    echo "check-exercises: $problems problem(s) in the $n exercises (template: tests/exercises/README.md)"
    exit 1
fi
echo "check-exercises: all $n exercises follow the template, every lesson section found"

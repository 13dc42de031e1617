#!/bin/sh
# check-hints.sh - the hints that `make hint E=NAME` shows are all there, in
# the format the hint tool parses, and true to the kit (CI runs it).
#
# For every exercise (each tests/exercises/NN-slug/NAME.c), the file
# tests/hints/NN-slug/NAME.md must:
#
#  1. have the format: the title "# NN-slug/NAME", then two or three sections
#     "## Hint 1", "## Hint 2" [, "## Hint 3"], in that order, each with some
#     text, at most 8 lines of at most 90 columns (a hint is read in a
#     terminal, one at a time);
#  2. point at the lesson: hint 1 cites at least one lesson section, and every
#     section cited exists.  A citation is a quoted heading after a lesson's
#     path, in the same sentence:
#         chapters/06-sync/README.md, "One pattern: a list of waiters", then
#         "Event: wake everybody".
#     Every quoted string from the path to the end of the sentence must be a
#     heading of that README.md ("#" lines outside code blocks), exactly;
#  3. name only what exists: each green_... or GREEN_... identifier somewhere
#     in lib/, each ex_... or EX_... identifier in the exercise's folder, and
#     each quoted snake_case name ("test_one_deadline", "first_values") among
#     the START_TESTs of the exercise's tests: quote test names, nothing else
#     of that shape.
#
# It prints one line per problem (file, hint, what is wrong) and exits 1 when
# there is any; 0 and a one-line summary otherwise.
set -u
cd "$(dirname "$0")/../.."

problems=0
problem() {
    echo "check-hints: $*"
    problems=$((problems + 1))
}

# The headings of a lesson, one per line, without their leading #s; lines in
# ``` code blocks are code, not headings.
headings() {
    awk '/^```/ { code = !code; next }
         !code && /^#+ / { sub(/^#+ +/, ""); print }' "$1"
}

# Read one hints file and print what the shell must check, one record a line:
#   ERR <message>            a format problem, found here
#   CITE <hint> <path>\t<heading>
#   LIB <hint> <identifier>  EX <hint> <identifier>  TEST <hint> <name>
parse() {
    awk -v title="# $2" '
    function err(msg) { print "ERR " msg }

    # Close the hint being read: check its size, then look into its text.
    function end_hint(    n) {
        if (hint == 0)
            return
        n = nonblank[hint] + 0
        if (n == 0)
            err("Hint " hint " is empty")
        if (n > 8)
            err("Hint " hint " has " n " lines; keep it to 8")
        scan(hint, text[hint])
    }

    # Citations, identifiers and test names in the text of one hint.
    function scan(h, s,    rest, p, seg, words, i, w, q, cites) {
        cites = 0
        rest = s
        while ((p = match(rest, /chapters\/[0-9][0-9]-[a-z0-9-]+\/README\.md/)) > 0) {
            path = substr(rest, RSTART, RLENGTH)
            rest = substr(rest, RSTART + RLENGTH)
            seg = rest
            if ((p = match(seg, /chapters\//)) > 0)
                seg = substr(seg, 1, p - 1)
            cites += quoted_in_sentence(h, path, seg)
        }
        if (h == 1 && cites == 0)
            err("Hint 1 cites no lesson section: write chapters/NN-slug/README.md, \"Heading\"")

        n = split(s, words, /[^A-Za-z0-9_]+/)
        for (i = 1; i <= n; i++) {
            w = words[i]
            if (w ~ /^green_[A-Za-z0-9_]+$/ || w ~ /^GREEN_[A-Z0-9_]+$/)
                print "LIB " h " " w
            else if (w ~ /^ex_[A-Za-z0-9_]+$/ || w ~ /^EX_[A-Z0-9_]+$/)
                print "EX " h " " w
        }

        q = s
        while (match(q, /"[^"]*"/) > 0) {
            w = substr(q, RSTART + 1, RLENGTH - 2)
            q = substr(q, RSTART + RLENGTH)
            if (w ~ /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/)
                print "TEST " h " " w
        }
    }

    # The quoted strings of seg up to the end of its sentence (a "." outside
    # quotes followed by a space or the end): the headings cited after path.
    function quoted_in_sentence(h, path, seg,    i, c, inq, cur, found) {
        found = 0
        inq = 0
        for (i = 1; i <= length(seg); i++) {
            c = substr(seg, i, 1)
            if (c == "\"") {
                if (inq) {
                    print "CITE " h " " path "\t" cur
                    found++
                }
                inq = !inq
                cur = ""
            } else if (inq) {
                cur = cur c
            } else if (c == "." && (i == length(seg) || substr(seg, i + 1, 1) == " ")) {
                break
            }
        }
        return found
    }

    NR == 1 {
        if ($0 != title)
            err("the first line should be \"" title "\", it is \"" $0 "\"")
        next
    }
    length($0) > 90 {
        err("line " NR " has " length($0) " columns; keep hints to 90")
    }
    /^#/ {
        if ($0 == "## Hint " (hint + 1)) {
            end_hint()
            hint++
            next
        }
        err("line " NR ": \"" $0 "\" is not the next section (\"## Hint " (hint + 1) "\")")
        next
    }
    hint == 0 {
        if ($0 !~ /^[ \t]*$/)
            err("line " NR ": text before \"## Hint 1\"")
        next
    }
    {
        if ($0 !~ /^[ \t]*$/)
            nonblank[hint]++
        text[hint] = text[hint] " " $0
    }
    END {
        end_hint()
        if (hint < 2 || hint > 3)
            err(hint " hints; there should be 2 or 3")
    }' "$1"
}

tab=$(printf '\t')
checked=0
for test in tests/exercises/[0-9][0-9]-*/*.c; do
    ex=${test#tests/exercises/}
    ex=${ex%.c}                                  # NN-slug/NAME
    file=tests/hints/$ex.md
    checked=$((checked + 1))
    if [ ! -f "$file" ]; then
        problem "$file: missing (every exercise needs 2 or 3 hints)"
        continue
    fi
    while read -r kind rest; do
        case $kind in
        ERR)
            problem "$file: $rest" ;;
        CITE)
            hint=${rest%% *}
            cite=${rest#* }
            lesson=${cite%%"$tab"*}
            heading=${cite#*"$tab"}
            if [ ! -f "$lesson" ]; then
                problem "$file, Hint $hint: cites $lesson, which does not exist"
            elif ! headings "$lesson" | grep -Fxq -- "$heading"; then
                problem "$file, Hint $hint: \"$heading\" is not a heading of $lesson"
            fi ;;
        LIB)
            set -- $rest
            grep -rqw -- "$2" lib/ ||
                problem "$file, Hint $1: $2 is not in lib/" ;;
        EX)
            set -- $rest
            grep -rqw -- "$2" "exercises/$ex/" ||
                problem "$file, Hint $1: $2 is not in exercises/$ex/" ;;
        TEST)
            set -- $rest
            grep -q "START_TEST($2)" "$test" ||
                problem "$file, Hint $1: \"$2\" is not a test of $test (quote test names only)" ;;
        esac
    done <<EOF
$(parse "$file" "$ex")
EOF
done

# A hints file whose exercise is gone would never be shown.
for file in tests/hints/[0-9][0-9]-*/*.md; do
    [ -f "$file" ] || continue
    ex=${file#tests/hints/}
    [ -f "tests/exercises/${ex%.md}.c" ] ||
        problem "$file: no exercise tests/exercises/${ex%.md}.c"
done

if [ "$problems" -gt 0 ]; then
    echo "check-hints: $problems problem(s) in the hints of $checked exercises"
    exit 1
fi
echo "check-hints: the hints of all $checked exercises are in order"

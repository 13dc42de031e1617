#!/bin/sh
# check-links.sh - every link and every file path a lesson names must lead
# somewhere.  A lesson is read with the code beside it: "see lib/hub.c" that
# names a moved file sends a student nowhere.  Checked, in every Markdown
# file git tracks:
#   1. links [text](target): the file exists (relative to the Markdown
#      file), and a #fragment names one of its headings (GitHub's anchors);
#   2. paths in `code` outside ``` blocks that start with a folder of the kit
#      (lib/ chapters/ exercises/ solutions/ tests/ slides/): the file or
#      folder exists (relative to the top).  A path with a pattern in it
#      (*, {, <, NN, $) is a pattern, not a name, and is skipped; so is a
#      hidden one (exercises/.backups/), which the kit makes when it runs.
# Usage: sh tests/check-links.sh   (exit 1 on a link that leads nowhere)

cd "$(dirname "$0")/.." || exit 2

# GitHub's anchor of each heading of a Markdown file, one a line: lower
# case, punctuation dropped except - and _, spaces to -.
anchors() {
    awk '/^```/ { code = !code; next }
         !code && /^#+ / {
             sub(/^#+ +/, ""); sub(/[ \t]+$/, ""); s = tolower($0)
             gsub(/[^a-z0-9 _-]/, "", s); gsub(/ /, "-", s); print s
         }' "$1"
}

# The links and code paths of one Markdown file: "KIND<TAB>TARGET" a line.
targets() {
    awk '/^```/ { code = !code; next }
         code { next }
         {
             line = $0
             gsub(/`[^`]*`/, "", line)          # f(x) in code is no link
             while (match(line, /\]\([^) ]+\)/)) {
                 print "link\t" substr(line, RSTART + 2, RLENGTH - 3)
                 line = substr(line, RSTART + RLENGTH)
             }
             line = $0
             while (match(line, /`(lib|chapters|exercises|solutions|tests|slides)\/[^` ]*`/)) {
                 print "path\t" substr(line, RSTART + 1, RLENGTH - 2)
                 line = substr(line, RSTART + RLENGTH)
             }
         }' "$1"
}

tab=$(printf '\t')
list=$(mktemp) || exit 2
trap 'rm -f "$list"' EXIT
bad=0 total=0
for md in $(git ls-files '*.md'); do
    dir=$(dirname "$md")
    targets "$md" > "$list"
    while IFS="$tab" read -r kind target; do
        case $target in http:*|https:*|mailto:*) continue ;; esac
        if [ "$kind" = path ]; then
            case $target in *'*'*|*'{'*|*'<'*|*NN*|*'$'*|*/.*) continue ;; esac
            file=${target%%:*}  # lib/03-hub/hub.c:634 -> lib/03-hub/hub.c
        else
            file=${target%%#*}; frag=
            case $target in *'#'*) frag=${target#*#} ;; esac
            [ -n "$file" ] && file="$dir/$file" || file=$md
        fi
        total=$((total + 1))
        if [ ! -e "$file" ]; then
            echo "$md: $target: no such file"; bad=$((bad + 1))
        elif [ "$kind" = link ] && [ -n "$frag" ] && [ "${file%.md}" != "$file" ] \
             && ! anchors "$file" | grep -qxF -- "$frag"; then
            echo "$md: $target: no heading with that anchor"; bad=$((bad + 1))
        fi
    done < "$list"
done
if [ $bad -gt 0 ]; then
    echo "check-links: $bad of $total links and paths lead nowhere"; exit 1
fi
echo "check-links: $total links and paths in the Markdown files, each leads somewhere"

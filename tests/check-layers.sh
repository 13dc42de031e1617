#!/bin/sh
# check-layers.sh OBJECT... - the layer rule of lib/green.h, checked on the
# compiled objects (`make test` runs it on the library's).
#
# lib/green.h promises layers, each built only on the ones before it: a
# student reads chapter 2's greenlets without chapter 3's hub.  C does not
# enforce it (any file may call any function), so this script does, with
# the linker's own view of the code:
#   nm --defined-only   which object defines each symbol;
#   nm -u               which symbols each object needs from elsewhere;
# and the table below gives each object's chapter.  An object that needs a
# symbol defined in a later chapter fails the check.  Objects of one chapter
# may use each other (ctx, stack and greenlet do).  Symbols no object
# defines (libc's, libevent's) are not the library's business.
# What nm cannot see, a field of the greenlet record, is checked on the
# sources: lib/private/internal.h gives each layer its named part (sched:
# chapter 3, sync: chapter 6), and a file of an earlier chapter must not
# name it.
#
#   sh tests/check-layers.sh --selftest OBJECT...
# proves the check can fail: it passes on OBJECT..., then fails once a
# deliberately upward call (chapter 2 calling green_spawn) is added.
# Exit status: 0 when the rule holds (or the self-test proved its point).
set -u
NM=${NM:-nm}

# ---- Each object's chapter: its folder's number -------------------------
# lib/03-hub/hub.c is chapter 3's, and so is its object, built in
# $(B)/lib/03-hub/.  Two objects are placed by name:
# - greenwrap.o, chapter 5's patch built for linking (lib/05-patch/patch.c),
#   lands in $(B)/lib/ beside the libraries;
# - the request parser is placed by what it needs, not where it is taught:
#   a pure function of bytes that needs nothing of the kit.  Chapter 11
#   explains it, but chapter 10's guard already frames requests with it,
#   so its layer sits between chapters 9 and 10 ("9.5").
# Chapter 13's frame parser and UTF-8 validator (lib/13-ws/ws_frame.c,
# utf8.c) need nothing of the kit either, but nothing before chapter 13
# uses them: their folder places them, like every other object.
chapter_of() {
    case $(basename "$1") in
    greenwrap.o)    echo 5; return ;;
    http_parser.*)  echo 9.5; return ;;   # see above
    esac
    case $(basename "$(dirname "$1")") in
    [0-9][0-9]-*)   basename "$(dirname "$1")" | sed 's/^0*//; s/-.*//' ;;
    *)              echo unknown ;;
    esac
}

# The source file a student would open:
# build/asm/lib/03-hub/hub.c.o -> lib/03-hub/hub.c.
source_of() {
    case $(basename "$1") in
    greenwrap.o) echo lib/05-patch/patch.c ;;
    *)           echo "lib/$(basename "$(dirname "$1")")/$(basename "$1" .o)" ;;
    esac
}

# ---- The self-test -----------------------------------------------------
if [ "${1:-}" = --selftest ]; then
    shift
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    if ! sh "$0" "$@" >"$tmp/before" 2>&1; then
        echo "check-layers self-test: the check must pass on the library first:"
        cat "$tmp/before"; exit 1
    fi
    # A chapter 2 object (by its folder) that calls chapter 3's green_spawn.
    mkdir -p "$tmp/02-greenlets"
    printf '%s\n' 'struct green *green_spawn(void *(*fn)(void *), void *arg);' \
        'void green_selftest_upward(void) { green_spawn(0, 0); }' >"$tmp/02-greenlets/greenlet.c"
    ${CC:-cc} -c -o "$tmp/02-greenlets/greenlet.c.o" "$tmp/02-greenlets/greenlet.c" || exit 1
    if sh "$0" "$@" "$tmp/02-greenlets/greenlet.c.o" >"$tmp/after" 2>&1; then
        echo "check-layers self-test: FAIL: an upward call (chapter 2 calling"
        echo "green_spawn) went unnoticed; the check said:"; cat "$tmp/after"; exit 1
    fi
    if ! grep -q 'uses green_spawn, defined in lib/03-hub/hub.c (chapter 3)' "$tmp/after"; then
        echo "check-layers self-test: FAIL: the check failed, but without naming"
        echo "green_spawn and lib/03-hub/hub.c; it said:"; cat "$tmp/after"; exit 1
    fi
    echo "check-layers self-test: passed on the library, and caught the upward call:"
    sed 's/^/    /' "$tmp/after"
    exit 0
fi

# ---- Who defines what, who needs what ------------------------------------
[ $# -gt 0 ] || { echo "usage: $0 [--selftest] OBJECT..."; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for o in "$@"; do
    chapter=$(chapter_of "$o")
    if [ "$chapter" = unknown ]; then
        echo "check-layers: $o has no chapter: its source belongs in a chapter's"
        echo "folder, lib/NN-slug/ (and in the layer list of lib/green.h)"
        exit 1
    fi
    src=$(source_of "$o")
    # Lines "symbol chapter source", then "source chapter symbol".
    $NM --defined-only -g "$o" | awk -v c="$chapter" -v s="$src" 'NF == 3 { print $3, c, s }' >>"$tmp/defined"
    $NM -u "$o" | awk -v c="$chapter" -v s="$src" '{ print s, c, $NF }' >>"$tmp/needed"
done

# The record's parts: "g->sched.queued" in a chapter 2 file is an upward use
# too.  Lines "source chapter part", like the needs above.
for o in "$@"; do
    src=$(source_of "$o")
    for part in sched:3 sync:6; do
        if awk -v a="$(chapter_of "$o")" -v b="${part#*:}" 'BEGIN { exit !(a < b) }' \
           && [ -f "$src" ] \
           && grep -q -- "[>.]${part%:*}\." "$src"; then
            echo "$src $(chapter_of "$o") g->${part%:*}" >>"$tmp/needed"
            echo "g->${part%:*} ${part#*:} lib/private/internal.h" >>"$tmp/defined"
        fi
    done
done

# Every need met by a later chapter is a broken promise: say which.
awk 'NR == FNR { chapter[$1] = $2; where[$1] = $3; next }
     ($3 in chapter) && chapter[$3] > $2 {
         printf "check-layers: %s (chapter %s) uses %s, defined in %s (chapter %s):\n",
                $1, $2, $3, where[$3], chapter[$3]
         broken++
     }
     END { exit broken > 0 }' "$tmp/defined" "$tmp/needed" >"$tmp/report"
if [ -s "$tmp/report" ]; then
    sed 's/$/ a layer may only use the layers before it/' "$tmp/report"
    echo "check-layers: FAIL: $(wc -l <"$tmp/report") upward use(s).  A lower layer that"
    echo "must call up takes a hook the upper layer registers (green_on_exit in lib/02-greenlets/greenlet.h)."
    exit 1
fi
echo "check-layers: $# objects, each uses only its own chapter and earlier ones"

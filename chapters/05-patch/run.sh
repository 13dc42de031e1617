#!/bin/sh
# run.sh - what `make chapter5` runs: the same unmodified programs without
# and with the patch, each with the time it took.
# Usage: sh chapters/05-patch/run.sh BINDIR
BIN=$1
set -e
if [ "$(uname -s)" != Linux ]; then
    echo "chapter 5 needs Linux: LD_PRELOAD, dlsym(RTLD_NEXT) and ld --wrap"
    exit 0
fi
PATCH=$(dirname "$(dirname "$BIN")")/lib/libgreenpatch.so
# Built with SANITIZE=1, AddressSanitizer wants to come before any
# preloaded library; this lets it come after (lib/05-patch/patch.h).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

show() {    # a title, then the command line, as you would type it
    echo "==> $1"
    shift
    echo "\$ $*"
}

show "sleepers: three tasks call plain usleep(100000), not patched" "$BIN/sleepers"
"$BIN/sleepers"
echo
show "sleepers, patched at load time" LD_PRELOAD="$PATCH" "$BIN/sleepers"
LD_PRELOAD="$PATCH" "$BIN/sleepers"
echo
show "sleepers-wrap: the same source linked with greenwrap.o and -Wl,--wrap=..." "$BIN/sleepers-wrap"
"$BIN/sleepers-wrap" | tail -n 1
echo
show "sleepers-static: libgreen.a linked in, a second libgreen beside the patch's" \
     LD_PRELOAD="$PATCH" "$BIN/sleepers-static"
LD_PRELOAD="$PATCH" "$BIN/sleepers-static" | tail -n 1
echo
show "client: five blocking clients against a server that answers in 0.2 s" "$BIN/client"
"$BIN/client"
echo
show "client, patched" LD_PRELOAD="$PATCH" "$BIN/client"
LD_PRELOAD="$PATCH" "$BIN/client"
echo
show "cpu: what cannot be greened, a loop that computes (patched)" LD_PRELOAD="$PATCH" "$BIN/cpu"
LD_PRELOAD="$PATCH" "$BIN/cpu" 2>&1

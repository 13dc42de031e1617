#!/bin/sh
# make chapter2 runs this: sh chapters/02-greenlets/run.sh BINDIR UCONTEXT_BINDIR
# BINDIR holds the demos built with the assembly switch, UCONTEXT_BINDIR the
# same demos built with `make CTX=ucontext` (optional).
set -e
BIN=$1 UCTX_BIN=${2:-}

echo "== pingpong: gr1 and gr2 switch to each other (article 003, 1.2) =="
"$BIN/pingpong"
echo
echo "== lifecycle: parent, return value, death =="
"$BIN/lifecycle" 2>&1
echo
echo "== treewalk: a generator that yields from deep inside a recursion =="
"$BIN/treewalk"
echo
echo "== overflow: a greenlet runs off its 16 KiB stack into the guard page =="
# shellcheck disable=SC3045  # ulimit -c is not POSIX, hence the guard
ulimit -c 0 2>/dev/null || true         # no core file, please
status=0
"$BIN/overflow" 2>&1 || status=$?
echo "overflow exited with status $status (128 + 11: killed by SIGSEGV, as expected)"
echo
echo "== switchcost: the assembly switch vs ucontext =="
"$BIN/switchcost" 2000000
if [ -x "$UCTX_BIN/switchcost" ]; then
    "$UCTX_BIN/switchcost" 200000
else
    echo "(no ucontext build in '$UCTX_BIN': make chapter2 makes one)"
    exit 0
fi
echo
echo "== strace: the system call inside every swapcontext =="
if ! command -v strace >/dev/null 2>&1 || ! strace -o /dev/null true 2>/dev/null; then
    echo "(strace is missing or not allowed here: apt-get install strace)"
    exit 0
fi
echo "ucontext, 2 round trips (one getcontext, then 6 switches, counting the first):"
strace -e trace=rt_sigprocmask "$UCTX_BIN/switchcost" 2 2>&1 | grep '^rt_sigprocmask'
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for dir in "$UCTX_BIN" "$BIN"; do
    strace -f -c -e trace=rt_sigprocmask -o "$tmp" "$dir/switchcost" 1000 >/dev/null
    calls=$(awk '$NF == "rt_sigprocmask" { print $4 }' "$tmp")
    printf '%-8s back end: %5s rt_sigprocmask calls in 1000 round trips\n' \
        "$("$dir/switchcost" 1 | cut -d' ' -f1)" "${calls:-0}"
done

#!/bin/sh
# experiment.sh - articles 001 and 002's experiment, measured.  The same
# "Hello World" server with a 100 ms handler (server.c), run sequentially,
# with a thread per connection and with a greenlet per connection, loaded
# by the kit's load generator (load.c) and by ab where it is installed.
# For each server and number of concurrent clients it reports the total
# time, requests/s, failed requests, and the memory each connection costs
# while it is held open; the figures go to BINDIR/chapter8.csv and a chart
# a student can open in a browser, BINDIR/chapter8.svg.
#
# Usage: sh chapters/08-threads/experiment.sh BINDIR [full]
#   default: 200 and 1,000 concurrent clients (about 10 s)
#   full:    also 10,000 concurrent clients   (make chapter8 FULL=1)
# CSV columns: server, tool (load or ab), clients, requests, backlog,
# time_s, requests_per_s, failed, failures (by reason), then for the
# held connections rss_kib_per_conn, kernel_stack_kib_per_conn, threads;
# median_latency_ms, and peak_rss_kib (the server's VmHWM after the run).
#
# Everything runs on 127.0.0.1, on ports the kernel picks, bounded in
# count and time.
set -u
BIN=$1
FULL=${2:-}
HERE=$(dirname "$0")
CSV=$BIN/chapter8.csv
SVG=$BIN/chapter8.svg
BACKLOG=4096        # listen() backlog of every server: see README, "The backlog"
HOLD=0.6            # seconds the load generator holds its connections open
TMP=$(mktemp -d /tmp/chapter8.XXXXXX)
PID=
RESTORE=

cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null
    [ -n "$RESTORE" ] && echo "$RESTORE" > /proc/sys/net/core/somaxconn
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The kernel caps every backlog at net.core.somaxconn (128 on older
# kernels, 4096 since Linux 5.4).  As root, raise it for the run.
SOMAX=$(cat /proc/sys/net/core/somaxconn)
if [ "$SOMAX" -lt "$BACKLOG" ] && [ "$(id -u)" = 0 ] \
   && echo "$BACKLOG" > /proc/sys/net/core/somaxconn 2>/dev/null; then
    RESTORE=$SOMAX
    echo "net.core.somaxconn raised from $SOMAX to $BACKLOG for the run"
fi
SOMAX=$(cat /proc/sys/net/core/somaxconn)
[ "$SOMAX" -lt "$BACKLOG" ] && BACKLOG=$SOMAX
# Every connection is a file descriptor.  server and load raise their own
# limit; ab does not, so raise the soft limit here, for everyone.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
FDS=$(ulimit -Sn)
echo "backlog $BACKLOG (net.core.somaxconn $SOMAX); file descriptors: up to $FDS per process (RLIMIT_NOFILE, hard limit)"

# ---- the server under test -------------------------------------------------

start_server() {                       # MODE: sets PID and PORT
    : > "$TMP/server.out"              # not the last server's port, please
    "$BIN/server" --mode "$1" --host 127.0.0.1 --port 0 --backlog "$BACKLOG" \
        > "$TMP/server.out" 2>&1 &
    PID=$!
    tries=0
    until grep -q '^listening on' "$TMP/server.out"; do
        tries=$((tries + 1))
        if [ $tries -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
            echo "experiment: the $1 server did not start:"; cat "$TMP/server.out"; exit 1
        fi
        sleep 0.05
    done
    PORT=$(sed -n 's|^listening on http://[^:]*:\([0-9]*\).*|\1|p' "$TMP/server.out")
}

stop_server() {                        # SIGTERM; the server must exit with 0
    kill -TERM "$PID"
    status=0
    wait "$PID" || status=$?
    [ $status -eq 0 ] || echo "experiment: the server exited with status $status"
    PID=
}

status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }
kernel_stack_kib() { awk '$1 == "KernelStack:" { print $2 }' /proc/meminfo; }

# ---- one load, one row of figures --------------------------------------------

# Hold C connections open at once and weigh the server meanwhile: its
# resident memory (VmRSS) and its threads, plus what the kernel holds for
# each thread (its kernel stack, counted in /proc/meminfo, not in VmRSS).
# Sets RSS_PC and KS_PC (KiB per connection), THREADS and HELD.
hold_and_weigh() {
    c=$1
    rss0=$(status_kib VmRSS); ks0=$(kernel_stack_kib); threads0=$(status_kib Threads)
    : > "$TMP/hold.out"
    "$BIN/load" --host 127.0.0.1 --port "$PORT" -n "$c" -c "$c" --hold "$HOLD" \
        > "$TMP/hold.out" 2>&1 &
    lpid=$!
    rss=$rss0; ks=$ks0; THREADS=0; samples=0
    while ! grep -q '^total time' "$TMP/hold.out" && [ $samples -lt 400 ]; do
        samples=$((samples + 1))
        if grep -q '^holding' "$TMP/hold.out"; then
            r=$(status_kib VmRSS); k=$(kernel_stack_kib); t=$(status_kib Threads)
            [ "$r" -gt "$rss" ] && rss=$r
            [ "$k" -gt "$ks" ] && ks=$k
            [ "$t" -gt "$THREADS" ] && THREADS=$t
        fi
        sleep 0.05
    done
    wait "$lpid"
    HELD=$(awk '/^holding/ { print $2 }' "$TMP/hold.out")
    RSS_PC=$(awk -v a="$rss" -v b="$rss0" -v c="$c" 'BEGIN { printf "%.1f", (a - b) / c }')
    # KernelStack counts every process on the machine: only a server
    # whose threads grew gets the growth.
    [ "$THREADS" -gt "$threads0" ] || ks=$ks0
    KS_PC=$(awk -v a="$ks" -v b="$ks0" -v c="$c" 'BEGIN { printf "%.1f", (a - b) / c }')
}

# The kit's load generator: TIME, RPS, FAILED, WHY.
run_load() {                           # CLIENTS REQUESTS TIMEOUT
    "$BIN/load" --host 127.0.0.1 --port "$PORT" -n "$2" -c "$1" --timeout "$3" \
        > "$TMP/load.out" 2>&1
    TIME=$(awk '/^total time/ { print $3 }' "$TMP/load.out")
    RPS=$(awk '/^requests\/s/ { printf "%.0f", $2 }' "$TMP/load.out")
    FAILED=$(awk '/^failed/ { print $2 }' "$TMP/load.out")
    WHY=$(sed -n 's/^failed *[0-9]* *(\(.*\))/\1/p' "$TMP/load.out" | awk -F', ' '{
        for (i = 1; i <= NF; i++) if ($i !~ / 0$/) { printf "%s%s", sep, $i; sep = "; " } }')
    MEDIAN=$(awk '/^latency/ { printf "%.0f ms", $6 }' "$TMP/load.out")
}

# ab, the articles' tool, where installed: the same figures.
run_ab() {                             # CLIENTS REQUESTS
    ab -r -q -s 10 -n "$2" -c "$1" "http://127.0.0.1:$PORT/" > "$TMP/ab.out" 2>&1
    TIME=$(awk '/^Time taken for tests:/ { print $5 }' "$TMP/ab.out")
    RPS=$(awk '/^Requests per second:/ { printf "%.0f", $4 }' "$TMP/ab.out")
    FAILED=$(awk '/^Failed requests:/ { print $3 }' "$TMP/ab.out")
    MEDIAN=$(awk '$1 == "50%" { print $2 " ms" }' "$TMP/ab.out")
    WHY=$(sed -n 's/^ *(Connect: \(.*\))/Connect: \1/p' "$TMP/ab.out" | awk -F', ' '{
        for (i = 1; i <= NF; i++) if ($i !~ / 0$/) { printf "%s%s", sep, $i; sep = "; " } }')
    if [ -z "$TIME" ]; then            # ab gave up (the articles' "timeout specified has expired")
        done_=$(sed -n 's/^Total of \([0-9]*\) requests completed/\1/p' "$TMP/ab.out")
        TIME=-; RPS=-; MEDIAN=-; FAILED=$(( $2 - ${done_:-0} )); WHY="ab gave up"
    fi
}

echo "server,tool,clients,requests,backlog,time_s,requests_per_s,failed,failures,rss_kib_per_conn,kernel_stack_kib_per_conn,threads,median_latency_ms,peak_rss_kib" > "$CSV"

# One row: on screen and in the CSV.
row() {                                # SERVER TOOL CLIENTS REQUESTS [memory...]
    printf '%7s %8s %-5s %7s s %7s %8s %7s' "$3" "$4" "$2" "$TIME" "$RPS" "${MEDIAN:--}" "$FAILED"
    [ -n "$WHY" ] && printf ' (%s)' "$WHY"
    if [ -n "${5:-}" ]; then
        printf '   %s + %s = %s KiB, %s thread%s' "$5" "$6" \
            "$(awk -v a="$5" -v b="$6" 'BEGIN { printf "%.1f", a + b }')" "$7" "$([ "$7" = 1 ] || echo s)"
    fi
    echo
    echo "$1,$2,$3,$4,$BACKLOG,$TIME,$RPS,$FAILED,$WHY,${5:-},${6:-},${7:-},${MEDIAN% ms},$(status_kib VmHWM)" >> "$CSV"
}

header() {
    echo
    echo "$1 server (backlog $BACKLOG)"
    printf '%7s %8s %-5s %9s %7s %8s %7s   %s\n' clients requests tool time req/s median failed \
        "memory per connection held open:"
    printf '%7s %8s %-5s %9s %7s %8s %7s   %s\n' "" "" "" "" "" latency "" "RSS + kernel stack"
}

# ---- the experiment --------------------------------------------------------

# Sequential: 0.1 s per request, one at a time: 200 requests would take
# 20 s.  Like ab in article 001, the clients give up (here after 2 s).
header sequential
start_server sequential
run_load 200 200 2
row sequential load 200 200
stop_server

CLIENTS="200 1000"
[ -n "$FULL" ] && CLIENTS="200 1000 10000"
for mode in threads greenlets; do
    header $mode
    for c in $CLIENTS; do
        n=$c
        [ "$c" = 1000 ] && n=2000
        start_server $mode             # a fresh server for each size
        hold_and_weigh "$c"
        run_load "$c" "$n" 10
        row $mode load "$c" "$n" "$RSS_PC" "$KS_PC" "$THREADS"
        if [ "$HELD" != "$c" ]; then
            echo "        (only $HELD of $c connections could be held open)"
        fi
        if command -v ab > /dev/null && [ "$c" != 200 ]; then
            run_ab "$c" "$n"
            row $mode ab "$c" "$n"
        fi
        stop_server
    done
done
command -v ab > /dev/null || echo "(ab is not installed: apt-get install apache2-utils)"

# ---- what it shows ---------------------------------------------------------
echo
awk -F, -v big="${FULL:+10000}" '
    $2 == "load" { t[$1 "," $3] = $6; f[$1 "," $3] = $8
                   if ($10 != "") m[$1 "," $3] = $10 + $11 }
    END {
        printf "at 1000 clients: greenlets %.2f s (%d failed), threads %.2f s (%d failed)\n",
            t["greenlets,1000"], f["greenlets,1000"], t["threads,1000"], f["threads,1000"]
        c = big != "" ? big : 1000
        g = m["greenlets," c]; th = m["threads," c]
        if (th > 0)
            printf "memory per connection at %d: greenlets %.1f KiB, threads %.1f KiB (%.2f of it)\n",
                c, g, th, g / th
    }' "$CSV"

awk -F, -f "$HERE/plot.awk" "$CSV" > "$SVG"
echo "figures: $CSV"
echo "chart:   $SVG (open it in a browser)"

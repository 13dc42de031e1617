#!/bin/sh
# http.sh - the HTTP figures of `make bench` (`make bench-http` alone):
# the kit's chapter 11 server (the cooperative HTTP/1.1 server) beside
# libevent's own evhttp, the kit's chapter 10 server (the demo app on
# evhttp), gevent's pywsgi and nginx, all in the same run.
#
# usage: CH10=BINARY CH11=BINARY sh tests/bench/http.sh BINDIR
#   BINDIR  holds httpload (the kit's load generator) and evhttp_hello
#   CH10, CH11  the chapters' servers (build/asm/chapters/1N-.../server);
#           a server whose binary is missing is skipped, with a line
# environment (all optional):
#   BENCH_HTTP_SECONDS=2      length of each keep-alive run
#   BENCH_HTTP_REPEAT=3       runs of each figure (the median is quoted)
#   BENCH_HTTP_AB_REQUESTS=20000   requests of each `ab -r` run
#   BENCH_HTTP_BIG=10000      connections of the many-connections figure
#   BENCH_PYTHON=/usr/bin/python3  the Python that has python3-gevent
#
# Three figures, each the median of the runs, the servers taking turns:
#   1. hello world over 100 kept-alive connections: wrk (where installed)
#      and httpload, against every server;
#   2. one connection per request, `ab -r` at 100 and 1,000 concurrent:
#      chapter 11 against evhttp (and chapter 10, and nginx: when the C
#      servers all tie with nginx, ab itself is the limit);
#   3. BENCH_HTTP_BIG kept-alive connections at once to chapter 11.
# Then the kit's targets (tests/bench/README.md, "The targets"), each MET or NOT MET.  See
# tests/bench/README.md, "The HTTP figures".  Takes about 2 minutes.
set -u

BIN=${1:?usage: CH10=... CH11=... sh tests/bench/http.sh BINDIR}
HTTP_DIR=$(dirname "$0")/http
HTTPLOAD=$BIN/httpload
SECONDS_=${BENCH_HTTP_SECONDS:-2}
REPEAT=${BENCH_HTTP_REPEAT:-3}
AB_N=${BENCH_HTTP_AB_REQUESTS:-20000}
BIG=${BENCH_HTTP_BIG:-10000}
CH10=${CH10:-}
CH11=${CH11:-}
. "$HTTP_DIR/common.sh"
SAMPLES=$WORK/samples
: > "$SAMPLES"

if ! [ -x "$HTTPLOAD" ]; then
    echo "bench-http: $HTTPLOAD is missing (make bench-http builds it)"
    exit 1
fi

echo "machine: $(getconf _NPROCESSORS_ONLN) cores, $(uname -sr); $PINNING;" \
     "file descriptors: $FDS per process"
echo "method: each figure is the median of $REPEAT runs; the servers take turns"

# ---- The servers ---------------------------------------------------------
SERVERS=
kit_server() {                         # NAME BINARY CHAPTER
    if [ -z "$2" ] || ! [ -x "$2" ]; then
        echo "skip: $1: the chapter $3 server ${2:-(CH$3 not set)} is not built (make chapter$3)"
    elif start_server "$1" "$2" --host "$HOST" --port 0; then
        SERVERS="$SERVERS $1"
    fi
}
kit_server ch11 "$CH11" 11
start_server evhttp "$BIN/evhttp_hello" --host "$HOST" --port 0 && SERVERS="$SERVERS evhttp"
kit_server ch10 "$CH10" 10
if have_python gevent; then
    start_server pywsgi "$PYTHON" "$HTTP_DIR/pywsgi.py" "$HOST" 0 && SERVERS="$SERVERS pywsgi"
else
    echo "skip: gevent's pywsgi: $PYTHON cannot import gevent (apt-get install python3-gevent, or make deps-bench)"
fi
if have nginx; then
    start_nginx nginx && SERVERS="$SERVERS nginx"
else
    echo "skip: nginx is not installed (apt-get install nginx, or make deps-bench)"
fi
TOOLS=httpload
if have wrk; then
    TOOLS="wrk httpload"
else
    echo "skip: wrk is not installed (apt-get install wrk): httpload alone measures"
fi
running() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
# A first run warms each server up (its allocator, the page cache of a
# Python's modules, the kernel's socket buffers) and is not counted.
for s in $SERVERS; do
    eval "port=\$port_$s"
    echo "server: $s on port $port"
    run_httpload "$port" 100 0.5
done
start=$(date +%s)

sample() { echo "$1 $2 $3 $4 rps=${RPS:-} failed=${FAILED:-} p50=${P50:-} p99=${P99:-} connected=${CONNECTED:-} cpu=${CPU:-}" >> "$SAMPLES"; }

# The CPU time (user + system, in clock ticks) server NAME has used so
# far: its process and its children (nginx's worker).  Requests/s stops
# telling servers apart when the load generator is the slower side; the
# server's CPU time per request still does.
cpu_ticks() {
    eval "pid=\$pid_$1"
    for p in $pid $(pgrep -P "$pid" 2>/dev/null); do
        awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
    done | awk '{ t += $1 } END { print t + 0 }'
}
HZ=$(getconf CLK_TCK)

# ---- 1. Keep-alive, 100 connections ------------------------------------------
run=1
while [ "$run" -le "$REPEAT" ]; do
    echo "run $run/$REPEAT: keep-alive, 100 connections, ${SECONDS_} s each:$SERVERS"
    for s in $SERVERS; do
        eval "port=\$port_$s"
        for tool in $TOOLS; do
            before=$(cpu_ticks "$s")
            run_$tool "$port" 100 "$SECONDS_"
            used=$(( $(cpu_ticks "$s") - before ))
            # microseconds of server CPU per request answered
            CPU=$(awk -v t="$used" -v hz="$HZ" -v r="${RPS:-0}" -v d="$SECONDS_" \
                  'BEGIN { if (r > 0) printf "%.2f", t / hz * 1e6 / (r * d) }')
            [ -n "$RPS" ] || { echo "note: $tool against $s gave no figure: $(tail -n 1 "$WORK/$tool.out")"; FAILED=100; }
            sample ka "$s" "$tool" 100
        done
    done
    run=$((run + 1))
done

# ---- 2. A connection per request: ab -r -------------------------------------
AB_SERVERS=
for s in ch11 evhttp ch10 nginx; do running "$s" && AB_SERVERS="$AB_SERVERS $s"; done
if ! have ab; then
    echo "skip: ab is not installed (apt-get install apache2-utils): no connection-per-request figures"
else
    run=1
    while [ "$run" -le "$REPEAT" ]; do
        echo "run $run/$REPEAT: ab -r -n $AB_N, 100 and 1000 concurrent:$AB_SERVERS"
        for c in 100 1000; do
            for s in $AB_SERVERS; do
                eval "port=\$port_$s"
                run_ab "$port" 120 -r -n "$AB_N" -c "$c"
                if [ -z "$RPS" ]; then
                    echo "note: ab against $s at $c: $AB_GAVE_UP"
                    FAILED=$AB_N
                fi
                sample ab "$s" ab "$c"
            done
        done
        run=$((run + 1))
    done
fi

# ---- 3. Many kept-alive connections at once to chapter 11 --------------------
if ! running ch11; then
    echo "skip: $BIG connections: no chapter 11 server"
elif [ "$FDS" -lt $((BIG + 100)) ]; then
    echo "skip: $BIG connections need $((BIG + 100)) file descriptors a process; the limit is $FDS (raise it as root: ulimit -Hn)"
else
    run=1
    while [ "$run" -le "$REPEAT" ]; do
        echo "run $run/$REPEAT: $BIG keep-alive connections to ch11, ${SECONDS_} s each: $TOOLS"
        for tool in $TOOLS; do
            run_$tool "$port_ch11" "$BIG" "$SECONDS_"
            [ -n "$RPS" ] || { echo "note: $tool gave no figure: $(tail -n 1 "$WORK/$tool.out")"; FAILED=$BIG; }
            sample big ch11 "$tool" "$BIG"
        done
        run=$((run + 1))
    done
fi

for s in $SERVERS; do stop_server "$s"; done
echo "time: $(( $(date +%s) - start )) s"
STATUS=0
if [ -n "$CRASHED" ]; then
    echo "bench-http: server(s) died during the run:$CRASHED; see the notes above"
    STATUS=1
fi

# ---- Medians, tables, targets --------------------------------------------------
PRIMARY=httpload
have wrk && PRIMARY=wrk
awk -v primary="$PRIMARY" -v seconds="$SECONDS_" -v repeat="$REPEAT" -v abn="$AB_N" \
    -v big="$BIG" -v servers="$SERVERS" -v have_ab="$(have ab && echo 1)" '
function median(key,    n, j, k, t, s) {
    n = cnt[key]
    if (n == 0) return ""
    for (j = 1; j <= n; j++) s[j] = v[key, j]
    for (j = 2; j <= n; j++)
        for (k = j; k > 1 && s[k - 1] > s[k]; k--) { t = s[k]; s[k] = s[k - 1]; s[k - 1] = t }
    return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
}
function num(x) { return x == "" ? "-" : sprintf(x >= 100 ? "%.0f" : "%.2f", x) }
function rate(x) { return x == "" ? "-" : sprintf("%.0f", x) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
function x(r) { return r == "" ? "-" : sprintf(r < 10 ? "%.2fx" : "%.1fx", r) }
# A target: what it asks, the figure (shown only when measured).
function target(what, figure, ok, have) {
    ntargets++
    if (!have) { nunmeasured++; printf "target: %s: NOT MEASURED\n", what; return }
    nmet += ok
    printf "target: %s (%s): %s\n", what, figure, ok ? "MET" : "NOT MET"
}
{
    # FIGURE SERVER TOOL SIZE key=value...
    for (i = 5; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[2] == "" || kv[2] == "-") continue
        key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4 SUBSEP kv[1]
        if (kv[1] == "failed") { failed[$1 SUBSEP $2 SUBSEP $3 SUBSEP $4] += kv[2]; continue }
        v[key, ++cnt[key]] = kv[2] + 0
    }
}
END {
    label["ch11"] = "ch11: the kit (chapter 11)"
    label["evhttp"] = "evhttp: libevent (peer)"
    label["ch10"] = "ch10: the kit on evhttp"
    label["pywsgi"] = "gevent pywsgi"
    label["nginx"] = "nginx (the ceiling)"
    n = split("ch11 evhttp ch10 pywsgi nginx", order, " ")
    ch11 = (index(servers " ", " ch11 ") > 0)

    print ""
    printf "1. hello world, keep-alive, 100 connections, %s s a run, medians of %s (req/s, latency in ms)\n", seconds, repeat
    fmt = "%-28s %10s %10s %7s %7s %7s %8s  %-8s %s\n"
    printf fmt, "server", "wrk", "httpload", "p50", "p99", "failed", "cpu/req", "ch11 is", "target"
    for (i = 1; i <= n; i++) {
        s = order[i]
        if (index(servers " ", " " s " ") == 0) continue
        w = median("ka" SUBSEP s SUBSEP "wrk" SUBSEP 100 SUBSEP "rps")
        h = median("ka" SUBSEP s SUBSEP "httpload" SUBSEP 100 SUBSEP "rps")
        p = primary
        r[s] = median("ka" SUBSEP s SUBSEP p SUBSEP 100 SUBSEP "rps")
        f = failed["ka" SUBSEP s SUBSEP "wrk" SUBSEP 100] + failed["ka" SUBSEP s SUBSEP "httpload" SUBSEP 100]
        p50 = median("ka" SUBSEP s SUBSEP p SUBSEP 100 SUBSEP "p50")
        t = ""
        rr = (s == "ch11" || !ch11) ? "" : ratio(r["ch11"], r[s])
        if (s == "evhttp") t = ">= 1.2x"
        if (s == "pywsgi") t = ">= 10x"
        if (s == "nginx") t = "(none: the ceiling)"
        cpu[s] = median("ka" SUBSEP s SUBSEP p SUBSEP 100 SUBSEP "cpu")
        printf fmt, label[s], rate(w), rate(h), num(p50), \
            num(median("ka" SUBSEP s SUBSEP p SUBSEP 100 SUBSEP "p99")), f + 0, \
            cpu[s] == "" ? "-" : sprintf("%.1f us", cpu[s]), x(rr), t
    }
    printf "(the ratios and targets use %s%s; cpu/req: the server'"'"'s CPU time per request)\n", primary, primary == "wrk" ? "; httpload is the kit measuring itself" : ""

    if (have_ab) {
        print ""
        printf "2. one connection per request: ab -r -n %s, medians of %s (req/s, latency in ms)\n", abn, repeat
        fmt2 = "%-28s %11s %10s %7s %7s  %-8s %s\n"
        printf fmt2, "server", "concurrency", "ab", "p50", "failed", "ch11 is", "target"
        split("100 1000", cs, " ")
        for (ci = 1; ci <= 2; ci++) {
            c = cs[ci]
            for (i = 1; i <= n; i++) {
                s = order[i]
                if (!(("ab" SUBSEP s SUBSEP "ab" SUBSEP c SUBSEP "rps") in cnt) && !(("ab" SUBSEP s SUBSEP "ab" SUBSEP c) in failed)) continue
                a[s, c] = median("ab" SUBSEP s SUBSEP "ab" SUBSEP c SUBSEP "rps")
                abf[s, c] = failed["ab" SUBSEP s SUBSEP "ab" SUBSEP c] + 0
                rr = s == "ch11" ? "" : ratio(a["ch11", c], a[s, c])
                printf fmt2, label[s], c, rate(a[s, c]), num(median("ab" SUBSEP s SUBSEP "ab" SUBSEP c SUBSEP "p50")), \
                    abf[s, c], x(rr), s == "evhttp" ? ">= 1x, ch11 0 failed" : s == "nginx" ? "(ab'"'"'s own limit?)" : ""
            }
        }
    }

    if (("big" SUBSEP "ch11" SUBSEP primary SUBSEP big SUBSEP "rps") in cnt || ("big" SUBSEP "ch11" SUBSEP primary SUBSEP big) in failed) {
        print ""
        printf "3. %d kept-alive connections at once to ch11, %s s a run, medians of %s\n", big, seconds, repeat
        fmt3 = "%-10s %10s %10s %7s %7s %7s  %s\n"
        printf fmt3, "tool", "connected", "req/s", "p50", "p99", "failed", "target"
        split("wrk httpload", ts, " ")
        for (ti = 1; ti <= 2; ti++) {
            tl = ts[ti]; k = "big" SUBSEP "ch11" SUBSEP tl SUBSEP big
            if (!((k SUBSEP "rps") in cnt) && !(k in failed)) continue
            bigf += failed[k]; bigseen = 1
            cn = median(k SUBSEP "connected")
            printf fmt3, tl, cn == "" ? "-" : sprintf("%d", cn), rate(median(k SUBSEP "rps")), \
                num(median(k SUBSEP "p50")), num(median(k SUBSEP "p99")), failed[k] + 0, "0 failed"
        }
    }

    print ""
    target("ch11 answers keep-alive hello world at >= 1.2x libevent evhttp", x(ratio(r["ch11"], r["evhttp"])), \
           ratio(r["ch11"], r["evhttp"]) >= 1.2, r["ch11"] != "" && r["evhttp"] != "")
    # When ch11 is as fast as nginx, the load generator is the limit and
    # the requests/s ratio only bounds ch11 from below: the CPU each
    # server spends per request decides then, and the line says so.
    py = ratio(r["ch11"], r["pywsgi"]); pycpu = ratio(cpu["pywsgi"], cpu["ch11"])
    capped = ratio(r["ch11"], r["nginx"]) != "" && ratio(r["ch11"], r["nginx"]) >= 0.97
    target("ch11 answers keep-alive hello world at >= 10x gevent pywsgi", x(py) \
           (capped && pycpu != "" ? "; ch11 is at the load'"'"'s ceiling (as fast as nginx), so by CPU per request: " x(pycpu) : ""), \
           py >= 10 || (capped && pycpu >= 10), r["ch11"] != "" && r["pywsgi"] != "")
    # ab runs in one thread: when nginx, which answers from its
    # configuration, is no faster than ch11, ab itself is the limit and
    # cannot rank the servers; within 3% of the ceiling then counts as a
    # tie, and the line says so.
    for (c = 100; c <= 1000; c *= 10) {
        ev = ratio(a["ch11", c], a["evhttp", c]); ceil = ratio(a["ch11", c], a["nginx", c])
        bound = ceil != "" && ceil >= 0.97 && ev >= 0.97 && ev < 1
        target("ch11 >= evhttp with a connection per request, ab -r -c " c ", and 0 failed", \
               x(ev) ", " (abf["ch11", c] + 0) " failed" (bound ? "; a tie: ab is the limit, ch11 is at " x(ceil) " of nginx" : ""), \
               (ev >= 1 || bound) && abf["ch11", c] == 0, a["ch11", c] != "" && a["evhttp", c] != "")
    }
    target("ch11 serves " big " concurrent kept-alive connections with no failed request", \
           (bigf + 0) " failed", bigf == 0, bigseen)
    printf "targets: %d of %d met%s\n", nmet, ntargets, nunmeasured ? " (" nunmeasured " not measured)" : ""
}' "$SAMPLES"
exit $STATUS

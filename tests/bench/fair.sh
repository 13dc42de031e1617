#!/bin/sh
# fair.sh - the fairness figures of `make bench` (`make bench-fair` alone):
# does a fresh "GET /" still get an answer while other clients keep the
# server busy, and what does chapter 11's budget (green_budget_consume)
# cost?  Chapter 11's server beside the same server built without the
# budget (GREEN_BUDGET=0: what it was before), chapter 10's (evhttp) and
# nginx, in the same run.
#
# usage: CH10=BINARY CH11=BINARY CH11_NOBUDGET=BINARY sh tests/bench/fair.sh BINDIR
#   BINDIR  holds fairload and httpload (tests/bench/http/*.c)
# environment (all optional):
#   BENCH_FAIR_SECONDS=2   length of each fairness run
#   BENCH_FAIR_PROBES=20   fresh GET / of each run, evenly spread
#   BENCH_FAIR_ATTACK=10   seconds of each slow-read attack
#   BENCH_FAIR_PAIRS=5     keep-alive runs of each server for the budget's cost
#
# Three figures (tests/bench/README.md, "The fairness figures"):
#   1. a fresh GET / (its median and worst latency) with the server idle,
#      while one client reads GET /stream?n=1000000 as fast as it can, and
#      while 50 clients each read 4 pipelined /stream?n=100000;
#   2. the same probes during slowhttptest's slow-read attack (-X);
#   3. keep-alive hello world, ch11 against ch11 without the budget, in
#      pairs of back-to-back runs: the server's CPU time per request and
#      the requests/s, the ratio of each pair and their medians.
# Then the targets, each MET or NOT MET.  Takes about a minute and a half.
set -u

BIN=${1:?usage: CH10=... CH11=... CH11_NOBUDGET=... sh tests/bench/fair.sh BINDIR}
HTTP_DIR=$(dirname "$0")/http
HTTPLOAD=$BIN/httpload
FAIRLOAD=$BIN/fairload
SECONDS_=${BENCH_FAIR_SECONDS:-2}
PROBES=${BENCH_FAIR_PROBES:-20}
ATTACK=${BENCH_FAIR_ATTACK:-10}
PAIRS=${BENCH_FAIR_PAIRS:-5}
. "$HTTP_DIR/common.sh"
SAMPLES=$WORK/samples
: > "$SAMPLES"

for tool in "$FAIRLOAD" "$HTTPLOAD"; do
    if ! [ -x "$tool" ]; then
        echo "bench-fair: $tool is missing (make bench-fair builds it)"
        exit 1
    fi
done
echo "machine: $(getconf _NPROCESSORS_ONLN) cores, $(uname -sr); $PINNING"

# ---- The servers ---------------------------------------------------------
SERVERS=
kit_server() {                         # NAME BINARY WHAT
    if [ -z "$2" ] || ! [ -x "$2" ]; then
        echo "skip: $1: ${2:-its binary} is not built ($3)"
    elif start_server "$1" "$2" --host "$HOST" --port 0; then
        SERVERS="$SERVERS $1"
    fi
}
kit_server ch11 "${CH11:-}" "make chapter11"
kit_server nobudget "${CH11_NOBUDGET:-}" "make bench-fair builds it"
kit_server ch10 "${CH10:-}" "make chapter10"
if have nginx; then
    # nginx sends the same bytes as the kit's /stream, from a file.  Its
    # worker runs as another user when we are root: it must be able to
    # reach the file (mktemp -d made $WORK private), or /stream is a 404.
    mkdir -p "$WORK/nginx"
    chmod a+x "$WORK" "$WORK/nginx"
    for n in 100000 1000000; do
        awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "chunk %d\n", i }' \
            > "$WORK/nginx/stream-$n"
        chmod a+r "$WORK/nginx/stream-$n"
    done
    start_nginx nginx && SERVERS="$SERVERS nginx"
else
    echo "skip: nginx is not installed (apt-get install nginx, or make deps-bench)"
fi
running() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
# The CPU time (clock ticks) server NAME has used so far, its children
# included (nginx's worker), as http.sh counts it.
cpu_ticks() {
    eval "pid=\$pid_$1"
    for p in $pid $(pgrep -P "$pid" 2>/dev/null); do
        awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
    done | awk '{ t += $1 } END { print t + 0 }'
}
start=$(date +%s)

# fairload's line, as a sample: FIGURE SERVER SCENARIO key=value...
fair() {                               # FIGURE SERVER SCENARIO fairload-ARGS...
    figure=$1 s=$2 scenario=$3
    shift 3
    eval "port=\$port_$s"
    line=$(limit 120 $ON_LOAD_CPU "$FAIRLOAD" --host "$HOST" --port "$port" "$@" 2>&1 |
           grep '^fairload: ')
    [ -n "$line" ] || { echo "note: fairload against $s ($scenario) gave no figure"; return; }
    echo "$figure $s $scenario ${line#fairload: }" >> "$SAMPLES"
    case $line in
    *" not_200=0"*) ;;
    *) echo "note: $s answered some of the load with something else than 200: the figure is not what it says ($line)" ;;
    esac
}

# ---- 1. A fresh GET / while others stream ------------------------------------
echo "1. $PROBES fresh GET / over $SECONDS_ s, idle and while others stream:$SERVERS"
for s in $SERVERS; do
    fair stream "$s" idle --seconds "$SECONDS_" --probes "$PROBES"
    fair stream "$s" one --seconds "$SECONDS_" --probes "$PROBES" \
        --streams 1 --path '/stream?n=1000000'
    fair stream "$s" fifty --seconds "$SECONDS_" --probes "$PROBES" \
        --streams 50 --pipeline 4 --path '/stream?n=100000'
done

# ---- 2. slowhttptest's slow-read attack ---------------------------------------
# 300 connections opened at 100 a second, each asking for 3 pipelined
# /stream?n=100000 with a receive window of 512 to 1024 bytes, and reading
# 32 bytes every 5 s: every response fills the server's send buffer and
# then waits on a client that hardly reads.  The probes start once the
# 300 are open (3 s) and stop 2 s before the attack ends.
# The fields of slowhttptest's last status: connected, closed, service
# available (its own probe, -p 2: a GET / answered within 2 s).
slow_status() {                        # FILE
    tr -d '\033' < "$1" | sed 's/\[[0-9;]*[a-zA-Z]//g' | awk '
        /^connected:/ { c = $2 } /^closed:/ { x = $2 } /^error:/ { e = $2 }
        /^service available:/ { a = $3 }
        END { printf "held=%s closed=%s errors=%s available=%s", c, x, e, a }'
}
if ! have slowhttptest; then
    echo "skip: slowhttptest is not installed (apt-get install slowhttptest, or make deps-bench): no slow-read figures"
else
    echo "2. slowhttptest -X, 300 connections, $ATTACK s, probes meanwhile: ch11 nobudget ch10 nginx"
    for s in ch11 nobudget ch10 nginx; do
        running "$s" || continue
        eval "port=\$port_$s"
        limit $((ATTACK + 30)) $ON_LOAD_CPU slowhttptest -X -c 300 -r 100 -w 512 -y 1024 \
            -n 5 -z 32 -k 3 -p 2 -l "$ATTACK" \
            -u "http://$HOST:$port/stream?n=100000" > "$WORK/slow.out" 2>&1 &
        attack=$!
        sleep 3
        fair slow "$s" attack --seconds $((ATTACK - 5)) --probes "$PROBES"
        wait "$attack"
        echo "slowhttptest $s attack $(slow_status "$WORK/slow.out")" >> "$SAMPLES"
        sleep 1                        # the attack's connections close
    done
fi

# ---- 3. What the budget costs: keep-alive hello world, with and without ------
if running ch11 && running nobudget; then
    TOOL=httpload
    have wrk && TOOL=wrk
    echo "3. keep-alive hello world, 100 connections, $TOOL, $PAIRS pairs of 2 s runs: ch11 and nobudget"
    run=1
    while [ "$run" -le "$PAIRS" ]; do
        # Each pair back to back, in turns first and second: a noisy
        # moment or a warming cache favours neither.
        order="ch11 nobudget"
        [ $((run % 2)) -eq 0 ] && order="nobudget ch11"
        for s in $order; do
            eval "port=\$port_$s"
            before=$(cpu_ticks "$s")
            run_$TOOL "$port" 100 2
            eval "rps_$s=\${RPS:-0} cpu_$s=$(( $(cpu_ticks "$s") - before ))"
        done
        echo "cost $run $TOOL ch11=$rps_ch11 nobudget=$rps_nobudget cpu_ch11=$cpu_ch11 cpu_nobudget=$cpu_nobudget" >> "$SAMPLES"
        run=$((run + 1))
    done
else
    echo "skip: the budget's cost: ch11 and ch11 without the budget must both run"
fi

for s in $SERVERS; do stop_server "$s"; done
echo "time: $(( $(date +%s) - start )) s"
STATUS=0
if [ -n "$CRASHED" ]; then
    echo "bench-fair: server(s) died during the run:$CRASHED; see the notes above"
    STATUS=1
fi

# ---- Tables and targets --------------------------------------------------------
awk -v seconds="$SECONDS_" -v probes="$PROBES" -v attack="$ATTACK" '
function val(line, key,    i, n, kv, f) {
    n = split(line, f, " ")
    for (i = 4; i <= n; i++) { split(f[i], kv, "="); if (kv[1] == key) return kv[2] }
    return ""
}
# "median / worst ms", and how many probes failed when some did
function lat(k,    l, f) {
    if (!(k in line)) return "-"
    l = line[k]
    f = val(l, "failed") + 0
    return sprintf("%s / %s%s", ms(val(l, "p50_ms")), ms(val(l, "max_ms")), \
                   f ? sprintf(" (%d of %d failed)", f, val(l, "probes")) : "")
}
function ms(x) { return sprintf(x >= 100 ? "%.0f" : x >= 10 ? "%.1f" : "%.2f", x) }
function target(what, figure, ok, have) {
    ntargets++
    if (!have) { nunmeasured++; printf "target: %s: NOT MEASURED\n", what; return }
    nmet += ok
    printf "target: %s (%s): %s\n", what, figure, ok ? "MET" : "NOT MET"
}
function median(a, n,    j, k, t) {
    for (j = 2; j <= n; j++)
        for (k = j; k > 1 && a[k - 1] > a[k]; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "stream" || $1 == "slow" || $1 == "slowhttptest" { line[$1, $2, $3] = $0; seen[$2] = 1 }
$1 == "cost" {
    split($4, a, "="); split($5, b, "="); split($6, ca, "="); split($7, cb, "=")
    if (b[2] <= 0 || a[2] <= 0) next
    ratio[++npairs] = a[2] / b[2]
    pairs = pairs sprintf("%s%.3f", npairs > 1 ? " " : "", a[2] / b[2])
    # CPU per request, without over with: below 1, the budget costs CPU
    if (ca[2] > 0 && cb[2] > 0) {
        cpur[++ncpu] = (cb[2] / b[2]) / (ca[2] / a[2])
        cpupairs = cpupairs sprintf("%s%.3f", ncpu > 1 ? " " : "", cpur[ncpu])
    }
    tool = $3
}
END {
    label["ch11"] = "ch11: the kit (chapter 11)"
    label["nobudget"] = "ch11 without the budget"
    label["ch10"] = "ch10: the kit on evhttp"
    label["nginx"] = "nginx"
    n = split("ch11 nobudget ch10 nginx", order, " ")

    print ""
    printf "1. a fresh GET /: median / worst latency in ms, %d probes over %s s\n", probes, seconds
    fmt = "%-27s %-16s %-28s %-28s %s\n"
    printf fmt, "server", "idle", "1 x /stream?n=1000000", "50 x 4 pipelined n=100000", "streamed MB/s (1, 50)"
    for (i = 1; i <= n; i++) {
        s = order[i]
        if (!(s in seen) || !(("stream", s, "idle") in line)) continue
        one = line["stream", s, "one"]; fifty = line["stream", s, "fifty"]
        printf fmt, label[s], lat("stream" SUBSEP s SUBSEP "idle"), \
            lat("stream" SUBSEP s SUBSEP "one"), lat("stream" SUBSEP s SUBSEP "fifty"), \
            sprintf("%.0f, %.0f", val(one, "streamed_mb") / seconds, val(fifty, "streamed_mb") / seconds)
    }

    if (("slow", "ch11", "attack") in line || ("slow", "ch10", "attack") in line) {
        print ""
        printf "2. a fresh GET / during slowhttptest -X (300 connections, %s s): median / worst in ms\n", attack
        fmt2 = "%-27s %-28s %-30s\n"
        printf fmt2, "server", "fresh GET /", "slowhttptest at its end"
        for (i = 1; i <= n; i++) {
            s = order[i]
            if (!(("slow", s, "attack") in line)) continue
            l = line["slowhttptest", s, "attack"]
            printf fmt2, label[s], lat("slow" SUBSEP s SUBSEP "attack"), \
                sprintf("%s held, %s closed, available: %s", val(l, "held"), val(l, "closed"), val(l, "available"))
        }
    }

    if (npairs) {
        print ""
        printf "3. what the budget costs: keep-alive hello world (%s, 100 connections), ch11 and ch11 without the budget\n", tool
        printf "req/s, with / without, pairs: %s; median %.3f\n", pairs, median(ratio, npairs)
        printf "server CPU per request, without / with, pairs: %s; median %.3f\n", cpupairs, ncpu ? median(cpur, ncpu) : 0
    }

    print ""
    one = line["stream", "ch11", "one"]; fifty = line["stream", "ch11", "fifty"]; sl = line["slow", "ch11", "attack"]
    target("ch11: a fresh GET / in < 50 ms (median) while one client streams a million chunks", \
           ms(val(one, "p50_ms")) " ms", val(one, "p50_ms") < 50 && val(one, "failed") == 0, one != "")
    target("ch11: a fresh GET / in < 50 ms (median) while 50 clients stream pipelined responses", \
           ms(val(fifty, "p50_ms")) " ms", val(fifty, "p50_ms") < 50 && val(fifty, "failed") == 0, fifty != "")
    # The issue: the attack made ch11 unavailable.  Available: every probe
    # answered, however long the round of 300 busy connections takes.
    target("ch11: every fresh GET / answered during the slow-read attack", \
           sprintf("%d of %d, median %s ms", val(sl, "answered"), val(sl, "probes"), ms(val(sl, "p50_ms"))), \
           val(sl, "failed") == 0 && val(sl, "answered") > 0, sl != "")
    # What the budget adds is CPU (an increment a call); requests/s adds
    # whatever else the machine runs meanwhile, so the CPU decides.
    m = ncpu ? median(cpur, ncpu) : ""
    target("ch11 spends at most 2% more CPU per keep-alive request with the budget (without / with >= 0.98)", \
           sprintf("%.3fx; req/s %.3fx", m, npairs ? median(ratio, npairs) : 0), m >= 0.98, ncpu > 0)
    printf "targets: %d of %d met%s\n", nmet, ntargets, nunmeasured ? " (" nunmeasured " not measured)" : ""
}' "$SAMPLES"
exit $STATUS

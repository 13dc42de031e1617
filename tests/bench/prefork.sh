#!/bin/sh
# prefork.sh - chapter 12's figures (`make bench-prefork`, also part of
# `make bench`): the pre-fork master on every core, beside gunicorn with
# gevent workers and behind nginx, in the same run.
#
# usage: CH12=BINARY sh tests/bench/prefork.sh
#   CH12  chapter 12's master (build/asm/chapters/12-prefork/server)
# environment (all optional):
#   BENCH_PREFORK_SECONDS=2    length of each wrk run
#   BENCH_PREFORK_RUNS=3       runs of each side of figures 1 and 2 (the best counts)
#   BENCH_PREFORK_WORKERS=     workers of figures 2, 3 and 5 (default: the
#                              cores available, at least 2)
#   BENCH_PREFORK_BALANCE=2000 requests of each balance row, over 4 workers
#   BENCH_PYTHON=/usr/bin/python3  the Python of gunicorn and python3-gevent
#
# Five figures (tests/bench/README.md, "The pre-fork figures"):
#   1. /cpu?ms=5 (a handler that computes 5 ms without yielding) with 2
#      workers against 1: requests/s and the CPU the workers used;
#   2. keep-alive hello world, the master against gunicorn -k gevent, the
#      same number of workers;
#   3. keep-alive hello world through nginx (chapters/12-prefork/proxy.sh)
#      against direct, and nginx's share of the CPU;
#   4. which worker answers: per-worker counts of GET /pid, 1 and 16 in
#      flight, for the shared socket and for SO_REUSEPORT (--reuseport);
#   5. HUP three times under load, and SIGKILL a worker under load: the
#      failed requests (tests/bench/prefork_client.py is the client).
# Then the targets, each MET or NOT MET.  Takes about a minute.
set -u

CH12=${CH12:?usage: CH12=build/asm/chapters/12-prefork/server sh tests/bench/prefork.sh}
HERE=$(cd "$(dirname "$0")" && pwd)
HTTP_DIR=$HERE/http
SECONDS_=${BENCH_PREFORK_SECONDS:-2}
BALANCE_N=${BENCH_PREFORK_BALANCE:-2000}
RUNS=${BENCH_PREFORK_RUNS:-3}
. "$HTTP_DIR/common.sh"
CLIENT="$PYTHON $HERE/prefork_client.py"
# No pinning here (common.sh pins servers to CPU 0): the point is that
# the workers use every core.  The load shares the cores with them.
ON_SERVER_CPU=
ON_LOAD_CPU=

for tool in wrk curl; do
    have $tool || { echo "bench-prefork: $tool is missing (make deps-bench)"; exit 1; }
done
if ! [ -x "$CH12" ]; then
    echo "bench-prefork: $CH12 is not built (make chapter12)"
    exit 1
fi
CORES=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
WORKERS=${BENCH_PREFORK_WORKERS:-$(( CORES < 2 ? 2 : CORES ))}
echo "machine: $CORES core(s) available (nproc), $(uname -sr); servers and load share them;" \
     "load average $(cut -d' ' -f1 /proc/loadavg) at the start"
# Figure 1 needs two free cores; the others compare like with like.
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v c="$CORES" 'BEGIN { exit !(l >= c) }'; then
    echo "note: the machine is busy (load average $(cut -d' ' -f1 /proc/loadavg) on $CORES cores):" \
         "figure 1 needs the cores free; re-run when it is quiet before believing it"
fi
start=$(date +%s)
TARGETS=$WORK/targets
: > "$TARGETS"

# From common.sh: target (each verdict kept for the end), ratio, ge, le,
# ticks, pid_of, port_of, value.

# wrk_run PORT PATH CONNECTIONS [HEADER]: sets RPS, ERRORS and REQUESTS.
wrk_run() {
    limit $((SECONDS_ + 30)) wrk -t1 -c"$3" -d"$SECONDS_"s --timeout 10s \
        ${4:+-H "$4"} "http://$HOST:$1$2" > "$WORK/wrk.out" 2>&1
    RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/wrk.out")
    REQUESTS=$(awk '/ requests in / { print $1 }' "$WORK/wrk.out")
    ERRORS=$(awk '/Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
                  /Non-2xx/ { e += $5 } END { print e + 0 }' "$WORK/wrk.out")
    RPS=${RPS:-0} REQUESTS=${REQUESTS:-0}
}

HZ=$(getconf CLK_TCK)

# master NAME WORKERS [OPTIONS...]: chapter 12's master on a port of its own.
master() {
    name=$1 n=$2
    shift 2
    start_server "$name" "$CH12" --host "$HOST" --port 0 --workers "$n" "$@"
}

# ---- 1. /cpu?ms=5, 2 workers against 1 -----------------------------------------
# A new connection per request (Connection: close): each request is
# accepted by a worker that is free, 4 in flight.  Kept alive, the
# connections stay with the worker that accepted them (row "kept alive").
echo
echo "1. /cpu?ms=5 (5 ms of computing, no yield): 2 workers against 1 (wrk, 4 connections, ${SECONDS_} s a run)"
if master cpu1 1 && master cpu2 2; then
    fmt="%-42s %10s %10s %8s %s\n"
    printf "$fmt" "run" "1 worker" "2 workers" "ratio" "cores busy (1, 2)"
    # $RUNS runs of each, taking turns (1 2 2 1 1 2 ...): each side's
    # figure is its best run, the one the machine's other work disturbed
    # least (as the switch figures do).  The busy cores are those of the
    # best runs: the workers' CPU time over the run's length.
    all1= all2= best1=0 best2=0 busy1=0 busy2=0
    for i in $(seq 1 "$RUNS"); do
        order="1 2"
        [ $((i % 2)) -eq 0 ] && order="2 1"
        for n in $order; do
            before=$(ticks "$(pid_of cpu$n)")
            wrk_run "$(port_of cpu$n)" "/cpu?ms=5" 4 "Connection: close"
            busy=$(awk -v t="$(( $(ticks "$(pid_of cpu$n)") - before ))" -v hz="$HZ" -v s="$SECONDS_" \
                   'BEGIN { printf "%.2f", t / hz / s }')
            eval "all$n=\"\$all$n $RPS\""
            if [ "$RPS" -gt "$(eval echo \$best$n)" ]; then
                eval "best$n=$RPS busy$n=$busy"
            fi
        done
    done
    cpu_ratio=$(ratio "$best2" "$best1")
    printf "$fmt" "a new connection per request (req/s)" "$best1" "$best2" "${cpu_ratio}x" "$busy1, $busy2"
    echo "    every run, req/s: 1 worker:$all1; 2 workers:$all2 (the best of each above)"
    wrk_run "$(port_of cpu1)" "/cpu?ms=5" 4; k1=$RPS
    wrk_run "$(port_of cpu2)" "/cpu?ms=5" 4; k2=$RPS
    printf "$fmt" "kept alive, 4 connections opened at once" "$k1" "$k2" "$(ratio "$k2" "$k1")x" \
        "(see 4.: who accepts)"
    if [ "$CORES" -ge 2 ]; then
        ge "$cpu_ratio" 1.8 && ok=OK || ok=NOT
        target "/cpu?ms=5: 2 workers answer >= 1.8x the requests/s of 1 ($CORES cores)" "${cpu_ratio}x" $ok
    else
        echo "note: 1 core available: the target needs 2 (the figure above is for information)"
        target "/cpu?ms=5: 2 workers answer >= 1.8x the requests/s of 1" "1 core available; the target needs 2" NONE
    fi
    stop_server cpu1; stop_server cpu2
else
    target "/cpu?ms=5: 2 workers answer >= 1.8x the requests/s of 1" "the master did not start" NONE
fi

# ---- 2. Keep-alive hello world, against gunicorn -k gevent ----------------------
echo
echo "2. keep-alive hello world, $WORKERS workers each: chapter 12 against gunicorn -k gevent (wrk, 100 connections)"
GUNICORN=$(command -v gunicorn || true)
if [ -z "$GUNICORN" ] || ! have_python gevent; then
    echo "skip: gunicorn or python3-gevent is not installed (make deps-bench)"
    target "keep-alive hello world: chapter 12 >= 10x gunicorn -k gevent" "gunicorn not installed" NONE
elif master hello "$WORKERS"; then
    # gunicorn says where it listens on its log: "Listening at: URL (pid)".
    # --keep-alive 10: kept-alive connections may wait 10 s between
    # requests (its default is 2); its gevent worker keeps them alive.
    : > "$WORK/gunicorn.out"           # before gunicorn opens it: grep below
    "$GUNICORN" -k gevent -w "$WORKERS" --keep-alive 10 --graceful-timeout 3 \
        -b "$HOST:0" --chdir "$HERE" gunicorn_app:application > "$WORK/gunicorn.out" 2>&1 &
    pid_gunicorn=$!
    STARTED="$STARTED gunicorn"
    tries=100
    until [ "$(grep -c 'Booting worker' "$WORK/gunicorn.out")" -ge "$WORKERS" ] &&
          grep -q 'Listening at: http://' "$WORK/gunicorn.out"; do
        tries=$((tries - 1))
        [ $tries -gt 0 ] && kill -0 $pid_gunicorn 2>/dev/null || break
        sleep 0.1
    done
    port_gunicorn=$(sed -n 's|.*Listening at: http://[^ ]*:\([0-9][0-9]*\) .*|\1|p' "$WORK/gunicorn.out")
    # Proof of what runs: the worker class, the workers, and keep-alive
    # (curl's second request goes on the first one's connection: 0 new).
    class=$(sed -n 's/.*Using worker: \(.*\)$/\1/p' "$WORK/gunicorn.out")
    booted=$(grep -c 'Booting worker' "$WORK/gunicorn.out")
    kept=$(curl -s -m 5 -o /dev/null -o /dev/null -w '%{num_connects}' \
           "http://$HOST:$port_gunicorn/" "http://$HOST:$port_gunicorn/" 2>/dev/null)
    if [ -z "$port_gunicorn" ] || ! wait_http "$port_gunicorn" 10; then
        echo "skip: gunicorn did not start; it said:"
        sed 's/^/    /' "$WORK/gunicorn.out" | head -n 10
        target "keep-alive hello world: chapter 12 >= 10x gunicorn -k gevent" "gunicorn did not start" NONE
    else
        echo "gunicorn $("$GUNICORN" --version 2>&1 | sed 's/.*(version \(.*\))/\1/'):" \
             "worker class $class, $booted workers booted, keep-alive: $([ "$kept" = 10 ] && echo yes || echo "NO (connections: $kept)")"
        # CPU per request: clock ticks of the server (master and workers)
        # over the requests wrk counted, summed over the runs.
        all_k= all_g= best_k=0 best_g=0 err_g=0 t_k=0 t_g=0 n_k=0 n_g=0
        for i in $(seq 1 "$RUNS"); do
            order="hello gunicorn"
            [ $((i % 2)) -eq 0 ] && order="gunicorn hello"
            for s in $order; do
                t0=$(ticks "$(pid_of $s)")
                wrk_run "$(port_of $s)" / 100
                t=$(( $(ticks "$(pid_of $s)") - t0 ))
                if [ $s = hello ]; then
                    all_k="$all_k $RPS"; [ "$RPS" -gt $best_k ] && best_k=$RPS
                    t_k=$((t_k + t)) n_k=$((n_k + REQUESTS))
                else
                    all_g="$all_g $RPS"; [ "$RPS" -gt $best_g ] && best_g=$RPS
                    t_g=$((t_g + t)) n_g=$((n_g + REQUESTS)) err_g=$((err_g + ERRORS))
                fi
            done
        done
        gr=$(ratio "$best_k" "$best_g")
        us() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", t / hz / n * 1e6; else print "-" }'; }
        cpu_k=$(us $t_k $n_k) cpu_g=$(us $t_g $n_g)
        cr=$(awk -v tk=$t_k -v nk=$n_k -v tg=$t_g -v ng=$n_g \
             'BEGIN { if (tk > 0 && ng > 0) printf "%.2f", (tg / ng) / (tk / nk); else print 0 }')
        fmt="%-34s %10s %14s %s\n"
        printf "$fmt" "server" "req/s" "CPU us/req" ""
        printf "$fmt" "chapter 12, $WORKERS workers" "$best_k" "$cpu_k" "${gr}x gunicorn's req/s, ${cr}x its requests per CPU second"
        printf "$fmt" "gunicorn -k gevent -w $WORKERS" "$best_g" "$cpu_g" "(wrk socket errors: $err_g)"
        echo "    every run, req/s: chapter 12:$all_k; gunicorn:$all_g (the best of each above)"
        [ "$class" = gevent ] && [ "$booted" = "$WORKERS" ] && [ "$kept" = 10 ] && ge "$cr" 10 && ok=OK || ok=NOT
        target "keep-alive hello world: chapter 12 >= 10x gunicorn -k gevent's requests per CPU second, $WORKERS workers each" \
            "${cr}x; req/s ${gr}x" $ok
    fi
    stop_server gunicorn; stop_server hello
fi

# ---- 3. Through nginx, against direct ----------------------------------------------
echo
echo "3. keep-alive hello world through nginx (proxy.sh, 1 nginx worker) against direct to the same master ($WORKERS workers; wrk, 100 connections)"
if ! have nginx && ! [ -x /usr/sbin/nginx ]; then
    echo "skip: nginx is not installed (make deps-bench)"
else
    # proxy.sh wants a free port (nginx cannot say which one it got).
    for attempt in 1 2 3 4 5; do
        port_proxy=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 ))
        : > "$WORK/proxy.out"
        bash "$HERE/../../chapters/12-prefork/proxy.sh" --port "$port_proxy" --prefix "$WORK/proxy" \
            -- "$CH12" --workers "$WORKERS" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
        pid_proxy=$!
        STARTED="$STARTED proxy"
        tries=100
        until grep -q '^listening on' "$WORK/proxy.out"; do
            tries=$((tries - 1))
            [ $tries -gt 0 ] && kill -0 $pid_proxy 2>/dev/null || break
            sleep 0.1
        done
        grep -q '^listening on' "$WORK/proxy.out" && break
        stop_server proxy quiet
        grep -q 'in use' "$WORK/proxy.err" || break
    done
    if ! grep -q '^listening on' "$WORK/proxy.out"; then
        echo "skip: proxy.sh did not start; it said: $(head -n 3 "$WORK/proxy.err")"
    else
        nginx_pid=$(cat "$WORK/proxy/nginx.pid")
        master_pid=$(cat "$WORK/proxy/upstream-1.pid")
        port_direct=$(sed -n 's|^listening on http://.*:\([0-9]*\)$|\1|p' "$WORK/proxy/upstream-1.out")
        sum_d=0 sum_n=0 req_d=0 req_n=0 cpu_d=0 cpu_n=0 cpu_x=0
        for s in direct nginx nginx direct; do
            [ $s = direct ] && p=$port_direct || p=$port_proxy
            w0=$(ticks "$master_pid") x0=$(ticks "$nginx_pid")
            wrk_run "$p" / 100
            w=$(( $(ticks "$master_pid") - w0 )) x=$(( $(ticks "$nginx_pid") - x0 ))
            if [ $s = direct ]; then
                sum_d=$((sum_d + RPS)) req_d=$((req_d + REQUESTS)) cpu_d=$((cpu_d + w))
            else
                sum_n=$((sum_n + RPS)) req_n=$((req_n + REQUESTS)) cpu_n=$((cpu_n + w)) cpu_x=$((cpu_x + x))
            fi
        done
        us() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", t / hz / n * 1e6; else print "-" }'; }
        fmt="%-30s %10s %10s %22s %s\n"
        printf "$fmt" "path" "req/s" "vs direct" "CPU us/req (workers)" "nginx's share of the CPU"
        printf "$fmt" "direct to the master" $((sum_d / 2)) "1x" "$(us $cpu_d $req_d)" "-"
        printf "$fmt" "through nginx" $((sum_n / 2)) "$(ratio "$sum_n" "$sum_d")x" \
            "$(us $((cpu_n + cpu_x)) $req_n) ($(us $cpu_n $req_n))" \
            "$(awk -v x=$cpu_x -v w=$cpu_n 'BEGIN { if (x + w > 0) printf "%.0f%%", 100 * x / (x + w) }') (nginx $(us $cpu_x $req_n) us/req)"
    fi
    stop_server proxy
fi

# ---- 4. Which worker answers ---------------------------------------------------------
# 4 workers (as the issue's measurement).  Each request a new connection:
# the kernel's choice of acceptor is what is measured.
echo
echo "4. which worker answers GET /pid: $BALANCE_N requests, a new connection each, 4 workers (counts, busiest first)"
fmt="%-16s %-10s %-34s %s\n"
printf "$fmt" "accept" "in flight" "per worker" "busiest / even share"
balance_rows() {                       # LABEL MASTER-OPTIONS...
    label=$1
    shift
    if ! master balance 4 "$@" >/dev/null; then
        printf "$fmt" "$label" "-" "did not start: $(head -n 1 "$WORK/balance.out")" ""
        return
    fi
    for c in 1 16; do
        line=$(limit 120 $CLIENT balance "$port_balance" "$BALANCE_N" "$c")
        counts=$(echo "$line" | tr ' ' '\n' | sed -n 's/^[0-9]*=//p' | sort -rn | tr '\n' ' ')
        while [ "$(echo $counts | wc -w)" -lt 4 ]; do counts="$counts 0"; done
        failed=$(echo "$line" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
        top=$(echo $counts | cut -d' ' -f1)
        printf "$fmt" "$label" "$c" "$(echo $counts)${failed:+$([ "$failed" != 0 ] && echo " ($failed failed)")}" \
            "$(ratio "${top:-0}" $((BALANCE_N / 4)))x"
    done
    stop_server balance
}
balance_rows "shared socket"
# --reuseport comes with the master's SO_REUSEPORT strategy: an older
# master says "unknown option" (checked with --workers 0, which starts
# nothing).
if "$CH12" --reuseport --workers 0 2>&1 | grep -q 'unknown option'; then
    printf "$fmt" "SO_REUSEPORT" "-" "reuseport: not built yet" ""
else
    balance_rows "SO_REUSEPORT" --reuseport
fi

# ---- 5. Reload and crash under load ------------------------------------------------------
# prefork_client.py: 16 clients, 8 on a new connection per request and 8
# kept alive, all asking GET /pid; it sends the signals itself.
echo
echo "5. reload and crash under load: 16 clients (8 a new connection per request, 8 kept alive), $WORKERS workers"
fmt="%-36s %9s %7s %s\n"
printf "$fmt" "event" "requests" "failed" ""
v() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
if master reload "$WORKERS"; then
    line=$(limit 60 $CLIENT load "$port_reload" 6 16 --hup "$pid_reload@1.5,3,4.5")
    stop_server reload
    requests=$(v requests) failed=$(v failed)
    first=$(v pids_first) last=$(v pids_last)
    changed=yes
    for p in $(echo "$first" | tr ',' ' '); do
        case ",$last," in *",$p,"*) changed=no ;; esac
    done
    printf "$fmt" "HUP x3 in 6 s (1.5, 3, 4.5 s)" "$requests" "$failed" \
        "kept-alive requests closed unread by a stopping worker, retried: $(v retried); every worker replaced: $changed ($first -> $last)"
    [ "$failed" != 0 ] && echo "    how they failed (kind:why:count): $(v why)"
    [ -n "$failed" ] && [ "$failed" = 0 ] && ok=OK || ok=NOT
    target "HUP three times during 6 s of load: 0 failed requests" "${failed:-?} failed of ${requests:-?}" $ok
fi
if master crash "$WORKERS"; then
    victim=$(pgrep -P "$pid_crash" | head -n 1)
    line=$(limit 60 $CLIENT load "$port_crash" 4 16 --kill "$victim@2")
    stop_server crash
    requests=$(v requests) failed=$(v failed) other=$(v failed_otherwise)
    printf "$fmt" "SIGKILL a worker at 2 s of 4" "$requests" "$failed" \
        "in flight at the kill: $(v in_flight), $(v in_flight_kept_on_victim) on its kept-alive connections"
    echo "    failed: $(v failed_in_flight_on_victim) in flight on it, $(v failed_sent_on_dead_connection) sent on its kept-alive connections after it died, $other otherwise;" \
         "a new connection answered $(v first_new_answer_ms) ms after it died"
    echo "    how they failed (kind:why:count): $(v why)"
    [ -n "$other" ] && [ "$other" = 0 ] && ok=OK || ok=NOT
    target "SIGKILL a worker under load: only requests in flight on it fail" \
        "${failed:-?} failed, all in flight on it: $([ "$ok" = OK ] && echo yes || echo no)" $ok
fi

echo
echo "time: $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1 /proc/loadavg) at the end"
end_with_targets bench-prefork

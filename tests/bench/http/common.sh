# common.sh - what tests/bench/http.sh and chapters/11-http/articles.sh
# share: starting the servers (the kit's and the peers), waiting until they
# answer, stopping them whatever happens, and running the load tools.
# POSIX sh, sourced; the caller sets HTTP_DIR (this folder) and, if it has
# it, HTTPLOAD (the kit's load generator) before sourcing.
#
# A server is started by name (start_server NAME COMMAND...): its output
# goes to $WORK/NAME.out, its pid and port are kept in pid_NAME and
# port_NAME, and every server still running is stopped when the script
# ends (trap), even on Ctrl-C.  Every wait is bounded.

PYTHON=${BENCH_PYTHON:-/usr/bin/python3}
HOST=127.0.0.1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-http.XXXXXX") || exit 1
STARTED=                               # names of the servers running
CRASHED=                               # names of those that died on their own

cleanup() {
    for name in $STARTED; do
        eval "pid=\$pid_$name"
        kill -TERM "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A command may not hang the run: cut it off after a time limit.
if command -v timeout >/dev/null 2>&1; then
    limit() { seconds=$1; shift; timeout "$seconds" "$@"; }
else
    limit() { shift; "$@"; }
fi

# Servers on CPU 0, the load on CPU 1, so that they do not take turns on
# one core; without taskset or a second core, everybody shares.
if command -v taskset >/dev/null 2>&1 && [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ]; then
    ON_SERVER_CPU="taskset -c 0"
    ON_LOAD_CPU="taskset -c 1"
    PINNING="servers on CPU 0, load on CPU 1 (taskset)"
else
    ON_SERVER_CPU=
    ON_LOAD_CPU=
    PINNING="servers and load share the CPUs (no taskset or one core)"
fi

# Every connection is a file descriptor, on both sides: 10,000 connections
# need more than the usual 1,024.  Raise the limit here, once, for every
# server and tool started below (as root the hard limit too).
ulimit -n 20000 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
FDS=$(ulimit -Sn)

have() { command -v "$1" >/dev/null 2>&1; }
have_python() { [ -x "$PYTHON" ] && "$PYTHON" -c "import $1" >/dev/null 2>&1; }

# A server that answers "GET /" with a 200.  Returns 1 after SECONDS.
wait_http() {                          # PORT SECONDS
    if [ -n "${HTTPLOAD:-}" ] && [ -x "$HTTPLOAD" ]; then
        limit $(( $2 + 5 )) "$HTTPLOAD" --host "$HOST" --port "$1" --wait "$2" 2>/dev/null
        return
    fi
    tries=$(( $2 * 10 ))
    while [ "$tries" -gt 0 ]; do
        if have curl; then
            curl -sf -m 1 -o /dev/null "http://$HOST:$1/" && return 0
        else
            limit 2 ab -q -n 1 -s 1 "http://$HOST:$1/" 2>/dev/null | grep -q '^Complete requests: *1' && return 0
        fi
        tries=$((tries - 1))
        sleep 0.1
    done
    return 1
}

# start_server NAME COMMAND...: a server of the demo app (start_announced
# below), which must also answer GET / with 200 before it is measured.
# Returns 1, with the server's output, if it did not come up within 15 s.
start_server() {
    name=$1
    start_announced "$@" || return 1
    port=$(port_of "$name")
    if ! wait_http "$port" 10; then
        echo "skip: $name listens on port $port but does not answer GET / with 200"
        stop_server "$name" quiet
        return 1
    fi
}

# nginx cannot tell which port the kernel gave it: try free-looking ports
# (below the kernel's range for outgoing connections) until one binds.
start_nginx() {                        # NAME
    name=$1
    mkdir -p "$WORK/nginx"
    for attempt in 1 2 3 4 5; do
        port=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 ))
        sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@LISTEN@|$HOST:$port|" \
            "$HTTP_DIR/nginx.conf" > "$WORK/nginx/nginx.conf"
        : > "$WORK/nginx/error.log"
        $ON_SERVER_CPU nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
            -c "$WORK/nginx/nginx.conf" -g 'daemon off;' > "$WORK/$name.out" 2>&1 &
        eval "pid_$name=$!"
        STARTED="$STARTED $name"
        if wait_http "$port" 5; then
            eval "port_$name=$port"
            return 0
        fi
        stop_server "$name" quiet
        grep -q 'Address already in use' "$WORK/nginx/error.log" "$WORK/$name.out" || break
    done
    echo "skip: nginx did not start; it said:"
    cat "$WORK/nginx/error.log" "$WORK/$name.out" | sed 's/^/    /' | head -n 10
    return 1
}

# SIGTERM, then wait (at most 5 s) for the exit status, which must be 0.
stop_server() {                        # NAME [quiet]
    eval "pid=\$pid_$1"
    STARTED=$(echo "$STARTED" | sed "s/ $1\$//; s/ $1 / /")
    if ! kill -TERM "$pid" 2>/dev/null; then
        status=0
        wait "$pid" 2>/dev/null || status=$?
        if [ -z "${2:-}" ]; then
            echo "note: $1 had exited before the end of the run (status $status); its last words:"
            tail -n 5 "$WORK/$1.out" | sed 's/^/    /'
            CRASHED="$CRASHED $1"
        fi
        return 0
    fi
    tries=50
    while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
        sleep 0.1
        tries=$((tries - 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        [ -z "${2:-}" ] && echo "note: $1 did not exit within 5 s of SIGTERM; killed"
    fi
    status=0
    wait "$pid" 2>/dev/null || status=$?
    if [ -z "${2:-}" ] && [ "$status" -ne 0 ] && [ "$status" -ne 143 ]; then
        echo "note: $1 exited with status $status after SIGTERM (want 0)"
    fi
    return 0
}

# ---- The load tools: each sets RPS, FAILED, P50 and P99 (ms) -----------

# A run of SECONDS (maybe fractional) may take a minute more (connecting
# 10,000 clients, the last requests' timeouts), no longer.
cap() { awk -v s="$1" 'BEGIN { printf "%d", s + 60 }'; }

# wrk, one thread (one load CPU): keep-alive, HTTP/1.1.
run_wrk() {                            # PORT CONNECTIONS SECONDS
    RPS=; FAILED=; P50=; P99=; CONNECTED=
    limit "$(cap "$3")" $ON_LOAD_CPU wrk -t1 -c"$2" -d"$3"s --timeout 10s --latency \
        "http://$HOST:$1/" > "$WORK/wrk.out" 2>&1
    eval "$(awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        /^ *50%/ { p50 = ms($2) }
        /^ *99%/ { p99 = ms($2) }
        /Socket errors:/ { gsub(/,/, ""); failed += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { failed += $5 }
        END {
            if (rps == "") { print "RPS=; FAILED=; P50=; P99="; exit }
            printf "RPS=%s; FAILED=%d; P50=%.2f; P99=%.2f\n", rps, failed, p50, p99
        }' "$WORK/wrk.out")"
}

# The kit's httpload: keep-alive, HTTP/1.1, a greenlet per connection.
run_httpload() {                       # PORT CONNECTIONS SECONDS
    RPS=; FAILED=; P50=; P99=; CONNECTED=
    limit "$(cap "$3")" $ON_LOAD_CPU "$HTTPLOAD" --host "$HOST" --port "$1" \
        -c "$2" -d "$3" > "$WORK/httpload.out" 2>&1
    line=$(grep '^httpload: ' "$WORK/httpload.out" | tail -n 1)
    [ -n "$line" ] || return 0
    RPS=$(value rps "$line"); FAILED=$(value failed "$line")
    P50=$(value p50_ms "$line"); P99=$(value p99_ms "$line")
    CONNECTED=$(value connected "$line")
}
value() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# ab, the articles' tool: one connection per request, HTTP/1.0.  ARGS are
# ab's options (-r, -c, -n, -t).  FAILED counts failed and non-2xx
# requests, and the requests that never completed when ab gave up.
run_ab() {                             # PORT SECONDS_LIMIT ARGS...
    port=$1 cap=$2
    shift 2
    RPS=; FAILED=; P50=; P99=; CONNECTED=; AB_GAVE_UP=
    limit "$cap" $ON_LOAD_CPU ab -q -s 10 "$@" "http://$HOST:$port/" > "$WORK/ab.out" 2>&1
    # With -r, ab counts a request whose connection failed as "complete"
    # and as failed, and its requests/s as if it had succeeded: count only
    # the 200 answers.
    eval "$(awk '
        /^Time taken for tests:/ { took = $5 }
        /^Complete requests:/ { complete = $3 }
        /^Failed requests:/ { failed += $3 }
        /^Non-2xx responses:/ { failed += $3 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        END {
            good = complete - failed
            if (took == "") rps = ""
            else rps = sprintf("%.1f", (good > 0 ? good : 0) / (took > 0 ? took : 1e-9))
            printf "RPS=%s; FAILED=%s; P50=%s; P99=%s\n", rps, failed + 0, p50, p99
        }' "$WORK/ab.out")"
    if [ -z "$RPS" ]; then             # ab stopped at an error, or timed out
        AB_GAVE_UP=$(grep -v '^Completed\|^Finished\|^Benchmarking\|^This is\|^Copyright\|^Licensed' \
                     "$WORK/ab.out" | head -n 1)
        [ -n "$AB_GAVE_UP" ] || AB_GAVE_UP="ab did not finish within $cap s"
    fi
}

# start_announced NAME COMMAND...: a server that prints "listening on
# http(s)://HOST:PORT" when it is ready (the kit's servers, and the peers
# written to say it), on the servers' CPU.  Sets pid_NAME and port_NAME.
# Returns 1, with what the server said, if it did not come up within 15 s.
start_announced() {
    name=$1
    shift
    : > "$WORK/$name.out"              # before the server opens it: grep below
    $ON_SERVER_CPU "$@" > "$WORK/$name.out" 2>&1 &
    eval "pid_$name=$!"
    STARTED="$STARTED $name"
    tries=150
    until grep -q '^listening on https*://' "$WORK/$name.out"; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ] || ! kill -0 "$(pid_of "$name")" 2>/dev/null; then
            echo "skip: $name did not start; it said:"
            sed 's/^/    /' "$WORK/$name.out" | head -n 10
            stop_server "$name" quiet
            return 1
        fi
        sleep 0.1
    done
    eval "port_$name=$(sed -n 's|^listening on https*://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$WORK/$name.out" | head -n 1)"
}

# ---- Figures (bench-prefork, bench-ws, bench-tls) ---------------------------
# A figure that could not be measured is "-": a ratio with it is "-" too,
# and it meets no bound.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a <= b) }'; }
# start_server NAME keeps pid_NAME and port_NAME.
pid_of() { eval "echo \$pid_$1"; }
port_of() { eval "echo \$port_$1"; }

# The CPU time (clock ticks, every thread) of PID and its children: a
# master and its workers, or nginx and its worker.
ticks() {
    for p in $1 $(pgrep -P "$1" 2>/dev/null); do
        awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
    done | awk '{ t += $1 } END { print t + 0 }'
}

# ---- Targets (bench-prefork, bench-ws, bench-tls) ---------------------------
# target WHAT FIGURES OK|NOT|other: one line in $TARGETS, the script's
# file of verdicts ("other": the figure could not be measured, and why).
target() {
    case $3 in
    OK)  echo "target: $1 ($2): MET" ;;
    NOT) echo "target: $1 ($2): NOT MET" ;;
    *)   echo "target: $1: NOT MEASURED ($2)" ;;
    esac >> "$TARGETS"
}

# end_with_targets NAME: print every verdict and their count, then exit:
# 1 when a server died during the run ($CRASHED names them), else 0 (a
# missed target is a figure, not a failure of the bench).
end_with_targets() {
    cat "$TARGETS"
    awk '/: MET$/ { m++ } { n++ } / NOT MEASURED / { u++ }
         END { printf "targets: %d of %d met%s\n", m, n, u ? " (" u " not measured)" : "" }' "$TARGETS"
    if [ -n "$CRASHED" ]; then
        echo "$1: server(s) died during the run:$CRASHED; see the notes above"
        exit 1
    fi
    exit 0
}

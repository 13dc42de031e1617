#!/bin/sh
# ws.sh - chapter 13's WebSocket figures (`make bench-ws`, also part of
# `make bench`): the kit's /ws/echo beside node's ws, Python's websockets
# and gevent-websocket, each an echo server on loopback, in the same run;
# then the chat's fan-out, in one process and across two workers through
# Redis.
#
# usage: CH13=BINARY WS_ECHO=BINARY sh tests/bench/ws.sh WSLOAD
#   WSLOAD   the load client (tests/bench/wsload.c)
#   CH13     chapter 13's server (build/asm/chapters/13-chat/server): the
#            kit's side when it is built; the fan-out needs it
#   WS_ECHO  tests/bench/ws_echo_server.c: the kit's side otherwise (the
#            same green_ws_echo on chapter 11's server)
#   WS_FLOOR tests/bench/ws_floor.c: the echo figures' floor, a bare loop
# environment (all optional):
#   BENCH_WS_SECONDS=0.5  length of each echo run
#   BENCH_WS_RUNS=5       echo runs of each server, taking turns (medians)
#   BENCH_WS_IDLE=10000   idle connections
#   BENCH_WS_FANOUT=1000  clients of the fan-out's room
#   REDIS=redis://H:P     the Redis of the two-worker fan-out; without it
#                         the script starts redis-server on a port of its own
#   WORKERS=2             the workers of that fan-out
#   BENCH_PYTHON=/usr/bin/python3  the Python of the Python peers
#
# Three figures (tests/bench/ws.md explains them and how to read them):
#   1. echo on one connection: round trips one at a time (rate, median
#      and p99), and 64 messages in flight (rate); each server's CPU time
#      beside its rate;
#   2. 10,000 idle connections: memory per connection, server RSS plus
#      the kernel's socket memory, and failed connections;
#   3. fan-out: one message to 1,000 clients of a room, until the last
#      receives it; one process, then two workers sharing rooms via Redis.
# Then the targets, each MET or NOT MET.  Takes about two minutes.
set -u

WSLOAD=${1:?usage: CH13=BINARY WS_ECHO=BINARY sh tests/bench/ws.sh WSLOAD}
CH13=${CH13:-}
WS_ECHO=${WS_ECHO:-}
WS_FLOOR=${WS_FLOOR:-}
HERE=$(cd "$(dirname "$0")" && pwd)
HTTP_DIR=$HERE/http
SECONDS_=${BENCH_WS_SECONDS:-0.5}
RUNS=${BENCH_WS_RUNS:-5}
IDLE_N=${BENCH_WS_IDLE:-10000}
FANOUT_N=${BENCH_WS_FANOUT:-1000}
SIZE=32                                # bytes of each echo message (text)
INFLIGHT=64
. "$HTTP_DIR/common.sh"                # servers on CPU 0, load on CPU 1
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
# The build machines run other work beside the benchmark: as root, servers
# and client run at nice -10 (every thread inherits it), ahead of that
# work, so that a rate measures the server and not its neighbours.  All
# servers alike; elsewhere nice says it cannot, and the run goes on.
NICE=
if [ "$(id -u)" -eq 0 ]; then
    NICE="nice -n -10"
    ON_SERVER_CPU="$NICE $ON_SERVER_CPU" ON_LOAD_CPU="$NICE $ON_LOAD_CPU"
    PINNING="$PINNING, all at nice -10"
fi
HZ=$(getconf CLK_TCK)
PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))
start=$(date +%s)
TARGETS=$WORK/targets
: > "$TARGETS"

if ! [ -x "$WSLOAD" ]; then
    echo "bench-ws: $WSLOAD is not built (make bench-ws builds it)"
    exit 1
fi
echo "machine: $(nproc) core(s), $(uname -sr); $PINNING; ulimit -n $FDS;" \
     "load average $(cut -d' ' -f1 /proc/loadavg) at the start"
# Rates need the cores: on a busy machine they measure the scheduler.
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v c="$(nproc)" 'BEGIN { exit !(l >= c) }'; then
    echo "note: the machine is busy (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores): msg/s and ms" \
         "depend on when each process gets a core; CPU us/msg and memory are the steadier figures; re-run when quiet"
fi
[ "$FDS" -gt $((IDLE_N + 100)) ] ||
    echo "note: ulimit -n is $FDS: $IDLE_N idle connections need more (run as root, or raise the hard limit)"

# ---- Helpers ----------------------------------------------------------------------

# From common.sh: target (each verdict kept for the end), ratio, ge, le,
# ticks, pid_of, port_of, value.
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }

# The resident memory (KiB) of PID and its children.
rss() {
    for p in $1 $(pgrep -P "$1" 2>/dev/null); do
        awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null
    done | awk '{ t += $1 } END { print t + 0 }'
}
# The resident memory (KiB) of PID's heap (malloc), the rest being mostly
# greenlet stacks for the kit: where its memory per connection goes.
heap() { awk '/^[0-9a-f]+-/ { h = / \[heap\]$/ } h && /^Rss:/ { t += $2 } END { print t + 0 }' "/proc/$1/smaps" 2>/dev/null; }
# The kernel's TCP buffers, every socket of the machine (pages).
sockmem() { awk '/^TCP:/ { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat; }

# The WebSocket servers start with common.sh's start_announced: node's ws
# answers a plain GET / with 426, so start_server, which waits for a 200,
# does not fit.

# The servers: the kit, then the peers that are installed.
if [ -n "$CH13" ] && [ -x "$CH13" ]; then
    KIT_CMD="$CH13 --host $HOST --port 0"
    KIT_WHAT="chapter 13's server ($CH13)"
else
    KIT_CMD="$WS_ECHO --host $HOST --port 0"
    KIT_WHAT="tests/bench/ws_echo_server.c, green_ws_echo on chapter 11's server (chapter 13's server is not built)"
fi
SERVERS=kit
have node && [ -f "$NODE_PATH/ws/package.json" ] && SERVERS="$SERVERS node" ||
    echo "skip: node's ws: node or node-ws is not installed (make deps-bench)"
have_python websockets && SERVERS="$SERVERS websockets" ||
    echo "skip: Python's websockets: python3-websockets is not installed (make deps-bench)"
have_python geventwebsocket && SERVERS="$SERVERS gevent" ||
    echo "skip: gevent-websocket: python3-gevent-websocket is not installed (make deps-bench)"
command_of() {
    case $1 in
    kit)        echo "$KIT_CMD" ;;
    node)       echo "node $HERE/ws_node.js $HOST" ;;
    websockets) echo "$PYTHON $HERE/ws_websockets.py $HOST" ;;
    gevent)     echo "$PYTHON $HERE/ws_gevent.py $HOST" ;;
    floor)      echo "$WS_FLOOR $HOST" ;;
    esac
}
label_of() {
    case $1 in
    kit)        echo "kit" ;;
    node)       echo "node ws $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$NODE_PATH/ws/package.json")" ;;
    websockets) echo "websockets $("$PYTHON" -c 'import websockets; print(websockets.__version__)')" ;;
    gevent)     echo "gevent-websocket $("$PYTHON" -c 'import geventwebsocket; print(geventwebsocket.get_version())' 2>/dev/null)" ;;
    floor)      echo "floor: a bare C loop" ;;
    esac
}
echo "kit: $KIT_WHAT"
echo "peers: $(for s in $SERVERS; do [ $s = kit ] || printf '%s; ' "$(label_of $s)"; done)"

# ---- 1. Echo on one connection ---------------------------------------------------
echo
echo "1. echo on one connection: $SIZE-byte text messages, one round trip at a time, then $INFLIGHT in flight"
echo "   ($RUNS runs of ${SECONDS_} s per server and mode, the servers taking turns; medians)"
# The floor (ws_floor.c) runs here only: it serves one connection at a time.
ECHO_SERVERS=$SERVERS
[ -n "$WS_FLOOR" ] && [ -x "$WS_FLOOR" ] && ECHO_SERVERS="$ECHO_SERVERS floor"
up=
for s in $ECHO_SERVERS; do
    # shellcheck disable=SC2046
    start_announced "$s" $(command_of "$s") && up="$up $s"
done
for i in $(seq 1 "$RUNS"); do
    order=$up
    [ $((i % 2)) -eq 0 ] && order=$(echo $up | tr ' ' '\n' | tac | tr '\n' ' ')
    for s in $order; do
        for k in 1 $INFLIGHT; do
            t0=$(ticks "$(pid_of $s)")
            line=$(limit 30 $ON_LOAD_CPU "$WSLOAD" echo "$HOST" "$(port_of $s)" "$SECONDS_" $k $SIZE)
            t=$(( $(ticks "$(pid_of $s)") - t0 ))
            n=$(value messages "$line")
            # The server's CPU per message, in microseconds.
            cpu=$(awk -v t=$t -v n="${n:-0}" -v hz=$HZ 'BEGIN { if (n > 0) printf "%.2f", t / hz / n * 1e6; else print "-" }')
            echo "$s $k rate=$(value rate "$line") p50=$(value p50_us "$line") p99=$(value p99_us "$line")" \
                 "failed=$(value failed "$line") cpu=$cpu ccpu=$(value client_cpu "$line")" \
                 "secs=$(value seconds "$line") scpu=$(awk -v t=$t -v hz=$HZ 'BEGIN { printf "%.2f", t / hz }')" >> "$WORK/echo"
        done
    done
done
# fig SERVER INFLIGHT FIELD: the median over the runs.
fig() { awk -v s="$1" -v k="$2" '$1 == s && $2 == k' "$WORK/echo" | tr ' ' '\n' | sed -n "s/^$3=//p" | median; }
fmt="%-24s %9s %8s %8s %12s %11s %12s %11s %s\n"
printf "$fmt" "server" "1: msg/s" "p50 us" "p99 us" "CPU us/msg" "$INFLIGHT: msg/s" "CPU us/msg" "failed" "server CPU s / client CPU s (median run)"
for s in $up; do
    failed=$(awk -v s=$s '$1 == s' "$WORK/echo" | tr ' ' '\n' | sed -n 's/^failed=//p' | awk '{ t += $1 } END { print t + 0 }')
    printf "$fmt" "$(label_of $s)" "$(fig $s 1 rate)" "$(fig $s 1 p50)" "$(fig $s 1 p99)" "$(fig $s 1 cpu)" \
        "$(fig $s $INFLIGHT rate)" "$(fig $s $INFLIGHT cpu)" "$failed" \
        "1: $(fig $s 1 scpu)/$(fig $s 1 ccpu) of $(fig $s 1 secs); $INFLIGHT: $(fig $s $INFLIGHT scpu)/$(fig $s $INFLIGHT ccpu) of $(fig $s $INFLIGHT secs)"
done
for s in $up; do
    runs() { awk -v s="$1" -v k="$2" '$1 == s && $2 == k { sub(/rate=/, "", $3); printf " %s", $3 }' "$WORK/echo"; }
    echo "    every run, msg/s, $(label_of $s): 1:$(runs $s 1); $INFLIGHT:$(runs $s $INFLIGHT)"
done
fmt="%-32s %12s %10s %12s %16s %16s\n"
printf "$fmt" "kit against" "1: msg/s" "p50" "$INFLIGHT: msg/s" "CPU/msg (1)" "CPU/msg ($INFLIGHT)"
for s in $up; do
    [ $s = kit ] && continue
    printf "$fmt" "$(label_of $s)" "$(ratio "$(fig kit 1 rate)" "$(fig $s 1 rate)")x" \
        "$(ratio "$(fig kit 1 p50)" "$(fig $s 1 p50)")x" "$(ratio "$(fig kit $INFLIGHT rate)" "$(fig $s $INFLIGHT rate)")x" \
        "$(ratio "$(fig kit 1 cpu)" "$(fig $s 1 cpu)")x" "$(ratio "$(fig kit $INFLIGHT cpu)" "$(fig $s $INFLIGHT cpu)")x"
done
echo "   (msg/s above 1x: the kit does more; p50 and CPU/msg below 1x: the kit takes less;"
echo "    the floor echoes with no check at all: a real server can hardly beat it, nor a target ask more than it allows)"
running() { case " $up " in *" $1 "*) return 0 ;; esac; return 1; }
if running kit && running node; then
    r1=$(ratio "$(fig kit 1 rate)" "$(fig node 1 rate)") rk=$(ratio "$(fig kit $INFLIGHT rate)" "$(fig node $INFLIGHT rate)")
    # What the floor reaches against node, in the same run: the most any
    # server could show.
    floor1='' floork=''
    if running floor; then
        floor1="; the floor: $(ratio "$(fig floor 1 rate)" "$(fig node 1 rate)")x, median round trip"
        floor1="$floor1 $(fig floor 1 p50) us against node's $(fig node 1 p50) us and the kit's $(fig kit 1 p50) us"
        floork="; the floor: $(ratio "$(fig floor $INFLIGHT rate)" "$(fig node $INFLIGHT rate)")x"
    fi
    ge "$r1" 2 && ok=OK || ok=NOT
    target "echo, one round trip at a time: kit >= 2x node's ws msg/s" "${r1}x$floor1" $ok
    ge "$rk" 2 && ok=OK || ok=NOT
    target "echo, $INFLIGHT in flight: kit >= 2x node's ws msg/s" "${rk}x$floork" $ok
else
    target "echo: kit >= 2x node's ws msg/s" "the kit or node's ws did not run" NONE
fi
for s in $up; do stop_server "$s"; done

# ---- 2. Idle connections ----------------------------------------------------------
# Each server fresh (an allocator keeps what it once used), alone on the
# machine's loopback; the client holds the connections open (answering
# pings) while the memory is read, a second after the last handshake.
echo
echo "2. $IDLE_N idle WebSocket connections on /ws/echo, each server fresh: memory per connection"
fmt="%-24s %8s %7s %12s %14s %14s %10s\n"
printf "$fmt" "server" "open" "failed" "connect s" "RSS KiB/conn" "kernel KiB/conn" "KiB/conn"
for s in $SERVERS; do
    # shellcheck disable=SC2046
    start_announced "$s" $(command_of "$s") || continue
    pid=$(pid_of $s)
    sleep 0.5
    r0=$(rss $pid) m0=$(sockmem) h0=$(heap $pid)
    : > "$WORK/idle.out"               # no line of the previous server
    $ON_LOAD_CPU "$WSLOAD" idle "$HOST" "$(port_of $s)" "$IDLE_N" 120 > "$WORK/idle.out" 2>&1 &
    load=$!
    tries=900                          # 90 s at most for the handshakes
    until grep -q 'mode=idle ' "$WORK/idle.out" 2>/dev/null; do
        tries=$((tries - 1))
        [ $tries -gt 0 ] && kill -0 $load 2>/dev/null || break
        sleep 0.1
    done
    sleep 1
    r1=$(rss $pid) m1=$(sockmem) h1=$(heap $pid)
    kill -TERM $load 2>/dev/null
    wait $load 2>/dev/null
    line=$(grep 'mode=idle ' "$WORK/idle.out")
    end=$(grep 'mode=idle-end' "$WORK/idle.out")
    open=$(value open "$line") failed=$(value failed "$line")
    [ -n "$line" ] || { open=0; failed="all (the client said: $(head -n 1 "$WORK/idle.out"))"; }
    dropped=$(value dropped "$end")
    [ "${dropped:-0}" = 0 ] || failed="$failed (+$dropped dropped while held)"
    [ "$failed" = 0 ] || echo "    $s: why they failed (wsload's count): $(value why "$end")"
    per=$(awk -v r=$((r1 - r0)) -v m=$((m1 - m0)) -v p=$PAGE_KB -v n="${open:-0}" \
          'BEGIN { if (n > 0) printf "%.2f %.2f %.2f", r / n, m * p / n, (r + m * p) / n; else print "- - -" }')
    echo "$s $per $failed" >> "$WORK/idle"
    printf "$fmt" "$(label_of $s)" "$open" "$failed" "$(value seconds "$line")" $per
    [ $s = kit ] && [ "${open:-0}" -gt 0 ] && echo "    kit: of its RSS per connection," \
        "$(awk -v h=$((h1 - h0)) -v n="$open" 'BEGIN { printf "%.2f", h / n }') KiB is malloc's heap" \
        "(lib/11-http's connection, the read buffers), the rest mostly greenlet stacks' touched pages"
    # Closing 10,000 connections may take a Python server more than the
    # 5 s stop_server allows: that is not a figure, so it is killed quietly.
    stop_server "$s" quiet
done
echo "   (RSS: the server's VmRSS after - before; kernel: /proc/net/sockstat's TCP mem pages after - before,"
echo "    the whole machine's, both ends of every loopback connection: other programs' sockets move it too)"
idle() { awk -v s="$1" -v f="$2" '$1 == s { print $f }' "$WORK/idle" 2>/dev/null; }
kit_per=$(idle kit 4)
for s in node websockets; do
    peer=$(idle $s 4)
    [ $s = node ] && who="node's ws" || who="Python's websockets"
    if [ -z "$kit_per" ] || [ -z "$peer" ] || [ "$peer" = - ]; then
        target "$IDLE_N idle connections: kit's memory per connection <= half of $who" "not both measured" NONE
        continue
    fi
    r=$(ratio "$kit_per" "$peer")
    le "$r" 0.5 && [ "$(idle kit 5)" = 0 ] && ok=OK || ok=NOT
    target "$IDLE_N idle connections: kit's memory per connection <= half of $who, 0 failed" \
        "${kit_per} KiB against ${peer} KiB: ${r}x; kit failed: $(idle kit 5)" $ok
done

# ---- 3. Fan-out ---------------------------------------------------------------------
# wsload fanout: FANOUT_N clients join a fresh room, JOINING handshakes at
# a time, one sends a message, each one's time until it arrives.  Every
# join is a message to everyone already there: 100 joins at a time post
# faster than the room's writers send them, and a room's ring (256
# messages) then drops the clients that fell behind.  That row is shown,
# for information; the figure joins 10 at a time.
JOINING=10
echo
echo "3. fan-out: one message to $FANOUT_N clients of a room (/ws/chat), until the last receives it ($JOINING joining at a time)"
fmt="%-40s %6s %7s %9s %9s %9s %9s %9s %s\n"
printf "$fmt" "server" "open" "failed" "received" "first ms" "p50 ms" "last ms" "server CPU s" "(joins and the message)"
# " why=..." when some connections failed or were dropped.
failures() { [ "$(value failed "$1")" = 0 ] && [ "$(value dropped "$1")" = 0 ] || echo " why=$(value why "$1")"; }
fanout_row() {                         # NAME LABEL [JOINING]
    t0=$(ticks "$(pid_of $1)")
    line=$(limit 90 $ON_LOAD_CPU "$WSLOAD" fanout "$HOST" "$(port_of $1)" "bench$$$1${3:-}" "$FANOUT_N" \
           --joining "${3:-$JOINING}" 2>&1 | grep '^wsload: mode=' | tail -n 1)
    printf "$fmt" "$2" "$(value open "$line")" "$(value failed "$line")" "$(value received "$line")" \
        "$(value first_ms "$line")" "$(value p50_ms "$line")" "$(value last_ms "$line")" \
        "$(awk -v t=$(( $(ticks "$(pid_of $1)") - t0 )) -v hz=$HZ 'BEGIN { printf "%.2f", t / hz }')" \
        "joined=$(value joined "$line") dropped=$(value dropped "$line")$(failures "$line")"
    FAN_LINE=$line
}
if [ -n "$CH13" ] && [ -x "$CH13" ] && start_announced fan "$CH13" --host "$HOST" --port 0; then
    fanout_row fan "kit, one process"
    [ "$(value received "$FAN_LINE")" = "$FANOUT_N" ] && ok=OK || ok=NOT
    target "fan-out to $FANOUT_N clients, one process: every client receives the message" \
        "received $(value received "$FAN_LINE"), the last after $(value last_ms "$FAN_LINE") ms" $ok
    fanout_row fan "kit, one process, 100 joining at a time" 100
    stop_server fan
else
    printf "$fmt" "kit, one process" "-" "-" "-" "-" "-" "-" "-" "chapter 13's server is not built yet"
    target "fan-out to $FANOUT_N clients, one process" "chapter 13's server is not built yet" NONE
fi
case " $SERVERS " in *" node "*)
    start_announced fannode node "$HERE/ws_node.js" "$HOST" && { fanout_row fannode "$(label_of node) (a chat in 40 lines)"; stop_server fannode; } ;;
esac

# Two workers sharing rooms through Redis: REDIS, or a redis-server of
# our own on a free-looking port (it cannot say which port it got).
start_redis() {
    have redis-server || return 1
    for _ in 1 2 3 4 5; do                # 5 tries: the port may be taken
        rport=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 ))
        : > "$WORK/redis.out"
        redis-server --bind "$HOST" --port $rport --save '' --appendonly no > "$WORK/redis.out" 2>&1 &
        pid_redis=$!
        STARTED="$STARTED redis"
        tries=50
        until grep -q 'Ready to accept connections' "$WORK/redis.out"; do
            tries=$((tries - 1))
            [ $tries -gt 0 ] && kill -0 $pid_redis 2>/dev/null || break
            sleep 0.1
        done
        grep -q 'Ready to accept connections' "$WORK/redis.out" && { REDIS=redis://$HOST:$rport; return 0; }
        stop_server redis quiet
    done
    return 1
}
FAN_WORKERS=${WORKERS:-2}
WHAT="kit, $FAN_WORKERS workers, rooms through Redis"
REDIS=${REDIS:-}
if [ -z "$CH13" ] || ! [ -x "$CH13" ]; then
    printf "$fmt" "$WHAT" "-" "-" "-" "-" "-" "-" "-" "chapter 13's server is not built yet"
    target "fan-out to $FANOUT_N clients, $FAN_WORKERS workers through Redis" "chapter 13's server is not built yet" NONE
elif [ -z "$REDIS" ] && ! start_redis; then
    printf "$fmt" "$WHAT" "-" "-" "-" "-" "-" "-" "-" "redis-server is not installed (make deps-bench) and REDIS is not set"
    target "fan-out to $FANOUT_N clients, $FAN_WORKERS workers through Redis" "no Redis" NONE
else
    echo "   Redis: $REDIS"
    # The workers use both cores: no pinning for them.
    ON_SERVER_CPU_SAVED=$ON_SERVER_CPU ON_SERVER_CPU=$NICE
    if start_announced fan2 "$CH13" --host "$HOST" --port 0 --workers "$FAN_WORKERS" --redis "$REDIS"; then
        ON_SERVER_CPU=$ON_SERVER_CPU_SAVED
        t0=$(ticks "$(pid_of fan2)")
        : > "$WORK/fan2.load"
        $ON_LOAD_CPU "$WSLOAD" fanout "$HOST" "$(port_of fan2)" "bench$$r" "$FANOUT_N" --pause \
            --joining $JOINING > "$WORK/fan2.load" 2>&1 &
        client=$!
        # Where the clients landed: each worker's sockets, counted while
        # the client waits (--pause) between the joins and the message.
        tries=900
        until grep -q 'mode=joined' "$WORK/fan2.load"; do
            tries=$((tries - 1))
            [ $tries -gt 0 ] && kill -0 $client 2>/dev/null || break
            sleep 0.1
        done
        split=$(for w in $(pgrep -P "$(pid_of fan2)"); do
                    find "/proc/$w/fd" -lname 'socket:*' 2>/dev/null | wc -l
                done | tr '\n' ' ')
        kill -USR1 $client 2>/dev/null
        wait $client
        line=$(grep '^wsload: mode=' "$WORK/fan2.load" | tail -n 1)
        printf "$fmt" "$WHAT" "$(value open "$line")" "$(value failed "$line")" "$(value received "$line")" \
            "$(value first_ms "$line")" "$(value p50_ms "$line")" "$(value last_ms "$line")" \
            "$(awk -v t=$(( $(ticks "$(pid_of fan2)") - t0 )) -v hz=$HZ 'BEGIN { printf "%.2f", t / hz }')" \
            "joined=$(value joined "$line") dropped=$(value dropped "$line")$(failures "$line")"
        echo "   sockets per worker once the clients joined: $split(each also holds its listening socket and Redis connections)"
        [ "$(value received "$line")" = "$FANOUT_N" ] && ok=OK || ok=NOT
        # A server that has not wired --redis in says so: rooms are then
        # each worker's, and the figure is not the one asked for.
        if grep -q 'not wired' "$WORK/fan2.out"; then
            echo "   the server said: $(grep 'not wired' "$WORK/fan2.out" | head -n 1)"
            ok=NONE
        fi
        target "fan-out to $FANOUT_N clients, $FAN_WORKERS workers through Redis: every client receives the message" \
            "received $(value received "$line"), the last after $(value last_ms "$line") ms$([ "$ok" = NONE ] && echo "; --redis is not wired in yet")" $ok
        stop_server fan2
    else
        ON_SERVER_CPU=$ON_SERVER_CPU_SAVED
        grep -q -i 'unknown option' "$WORK/fan2.out" && why="the server has no --redis yet" || why="the server did not start"
        printf "$fmt" "$WHAT" "-" "-" "-" "-" "-" "-" "-" "$why"
        target "fan-out to $FANOUT_N clients, $FAN_WORKERS workers through Redis" "$why" NONE
    fi
fi

echo
echo "sources: msg/s, p50, p99, open, failed, ms: tests/bench/wsload.c (CLOCK_MONOTONIC; one line per run);"
echo "  server CPU: /proc/PID/stat utime+stime (every thread, and the workers); RSS: /proc/PID/status VmRSS;"
echo "  kernel: /proc/net/sockstat TCP mem (pages of $PAGE_KB KiB); client CPU: the client's getrusage."
echo "time: $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1 /proc/loadavg) at the end"
end_with_targets bench-ws

#!/usr/bin/env bash
# test-proxy.sh -- UPSTREAM_COMMAND... - chapter 12's proxy, proven: starts
# proxy.sh (real nginx in front of the kit's server) on a free port and
# checks, through nginx, what the lesson claims:
#   keep-alive to the client; /stream streams; /sleep requests run at once;
#   "Connection: close" closes; REMOTE_ADDR is the client behind nginx and
#   never what the client forged; two upstreams both serve (two machines);
#   a port in use and a missing nginx are refused in one line, leaving
#   nothing running; SIGTERM stops everything with status 0.
# Skips (status 0, a "skip:" line) when nginx or curl is missing.
# `make test-proxy12` runs it.  Every wait is bounded.
set -u
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "usage: $0 -- UPSTREAM_COMMAND..."; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)

. "$here/../proxy-checks.sh" test-proxy12     # skips, $work, cleanup, ok and fail

# start NAME UPSTREAMS: proxy.sh on a free-looking port (retried when it
# is taken); sets $port and $proxy_pid.  Its stderr (the servers' access
# log) goes to $work/NAME.err.
start() {
    for attempt in 1 2 3 4 5; do
        port=$(( 20000 + RANDOM % 10000 ))
        : > "$work/$1.out"
        bash "$here/proxy.sh" --port "$port" --upstreams "$2" --prefix "$work/$1" \
            -- "${upstream[@]}" > "$work/$1.out" 2> "$work/$1.err" &
        proxy_pid=$!
        for i in $(seq 100); do
            grep -q '^listening on http://' "$work/$1.out" && return 0
            kill -0 "$proxy_pid" 2>/dev/null || break
            sleep 0.1
        done
        wait "$proxy_pid" 2>/dev/null; proxy_pid=
        grep -q 'in use' "$work/$1.err" || break
    done
    echo "FAIL proxy.sh did not start; it said:"; sed 's/^/     /' "$work/$1.err"
    exit 1
}

# stop: SIGTERM; proxy.sh must exit 0 within 10 s.
stop() {
    kill -TERM "$proxy_pid"
    for i in $(seq 100); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$proxy_pid" 2>/dev/null; then
        fail "proxy.sh should exit within 10 s of SIGTERM" "it is still running"
        kill -KILL "$proxy_pid"
    fi
    wait "$proxy_pid"; status=$?; proxy_pid=
    [ "$status" -eq 0 ] && ok "SIGTERM: proxy.sh exits with status 0" ||
        fail "SIGTERM: proxy.sh should exit 0" "got $status"
}

upstream=("$@")
url() { echo "http://127.0.0.1:$port$1"; }

# ---- One upstream ----------------------------------------------------------
start one 1

# Keep-alive: two requests on one curl, one connection (num_connects 1, 0).
got=$(curl -s -m 10 -w ' %{num_connects}\n' "$(url /)" "$(url /)")
want=$'Hello, World! 1\nHello, World! 0'
[ "$got" = "$want" ] && ok "GET / twice on one kept-alive connection" ||
    fail "GET / twice on one connection: expected two answers, the second on the same connection (num_connects 0)" "got: $got"

# Keep-alive to the server (upstream keepalive): 20 clients one after the
# other, each its own connection to nginx, reuse nginx's connection to the
# server.  Without it, each would leave a socket in TIME_WAIT behind.
if command -v ss >/dev/null; then
    up=$(sed -n 's|^listening on http://.*:\([0-9]*\)$|\1|p' "$work/one/upstream-1.out")
    for i in $(seq 20); do curl -s -m 10 -o /dev/null "$(url /)"; done
    n=$(ss -Htan "dport = :$up" | wc -l)
    [ "$n" -le 3 ] && ok "20 clients, $n connection(s) from nginx to the server (upstream keepalive)" ||
        fail "20 clients in turn: nginx should reuse its connection to the server (keepalive in the upstream block)" \
             "got $n sockets to port $up: $(ss -Htan "dport = :$up" | awk '{print $1}' | sort | uniq -c | tr '\n' ' ')"
else
    echo "skip: ss is missing (iproute2): upstream keep-alive not checked"
fi

# Connection: close is honoured: the answer says so, the next one reconnects.
got=$(curl -s -m 10 -H 'Connection: close' -D - -o /dev/null -o /dev/null -w '%{num_connects}\n' "$(url /)" "$(url /)" |
      tr -d '\r' | grep -ci '^connection: close\|^1$')
[ "$got" = 4 ] && ok "Connection: close: nginx says close, and the next request opens a new connection" ||
    fail "Connection: close: expected 'Connection: close' in both answers and a new connection each time" "got $got of 4 signs"

# /stream: the whole body, unchanged, chunked to the client.
direct=$(for i in $(seq 0 999); do echo "chunk $i"; done | md5sum)
head=$(curl -s -m 20 -D - -o "$work/stream" "$(url '/stream?n=1000')" | tr -d '\r')
if [ "$(md5sum < "$work/stream")" = "$direct" ] && echo "$head" | grep -qi '^transfer-encoding: chunked'; then
    ok "/stream?n=1000 through nginx: all 1000 chunks, chunked"
else
    fail "/stream?n=1000 through nginx: expected 'chunk 0' .. 'chunk 999', Transfer-Encoding: chunked" \
         "got $(wc -l < "$work/stream") lines; head: $(echo "$head" | head -n 3 | tr '\n' ' ')"
fi
# The first chunk of a 1,000,000-chunk stream (about 14 MB) arrives and
# the client hangs up long before the last one could have been sent.
first=$(curl -sN -m 10 "$(url '/stream?n=1000000')" 2>/dev/null | head -n 1)
[ "$first" = "chunk 0" ] && ok "/stream?n=1000000: the first chunk arrives before the stream ends" ||
    fail "/stream?n=1000000: expected 'chunk 0' first, at once" "got '$first'"

# proxy_buffering off: a slow client holds the server back.  A client
# that reads 10 KB/s asks for the 14.9 MB stream; 3 s later the server
# must still be in the middle of it (its access log, flushed every second,
# has no line for it: a line is written when a response ends).  Nginx with
# buffering on reads ahead for the client, and the server finishes (or is
# cut) at once.  The kernel's socket buffers hold some of it either way:
# 7.7 MB of the 14.9 here.
curl -s --limit-rate 10k -m 10 -o /dev/null "$(url '/stream?n=1000000&slow=1')" &
slow=$!
sleep 3
line=$(grep '"GET /stream?n=1000000&slow=1 ' "$work/one.err")
kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null
[ -z "$line" ] && ok "a slow client holds the stream back: the server is still sending after 3 s (proxy_buffering off)" ||
    fail "a client reading 10 KB/s: the server should still be sending its 14.9 MB after 3 s" \
         "its access log says it is over: $line (is proxy_buffering on in nginx.conf.in?)"

# Streaming both ways at once: /echo sends back each piece of the request
# body as it reads it.  The client sends "part1", must read its echo
# while its request is still unfinished, and only then sends "part2".  An
# nginx that buffered the request body (proxy_request_buffering on) would
# wait for the whole of it before calling the server: no echo (checked).
# bash's /dev/tcp is the client: curl cannot wait in the middle of a body.
echo_through() {                        # read until the line $1 (5 s)
    while IFS= read -r -t 5 line <&3; do [ "$line" = "$1" ] && return 0; done
    return 1
}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\npart1\n\r\n' >&3
if echo_through part1; then
    printf '6\r\npart2\n\r\n0\r\n\r\n' >&3
    echo_through part2 && ok "/echo through nginx: part 1 echoed before part 2 is sent, then part 2" ||
        fail "/echo through nginx: part 2's echo should follow" "it did not come within 5 s"
else
    fail "/echo through nginx: the echo of part 1 should arrive while the request is unfinished" \
         "nothing within 5 s: is proxy_request_buffering on in nginx.conf.in?"
fi
exec 3<&-

# /sleep: five requests of 500 ms at once finish together (one after the
# other they would take 2.5 s).
t0=$(date +%s%N)
sleepers=()
for i in 1 2 3 4 5; do
    curl -s -m 10 -o "$work/sleep$i" "$(url '/sleep?ms=500')" &
    sleepers+=($!)
done
wait "${sleepers[@]}"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
slept=$(grep -l "^slept$" "$work"/sleep[1-5] | wc -l)
[ "$slept" = 5 ] && [ "$ms" -lt 2000 ] && ok "/sleep?ms=500 five at once: done in $ms ms (in turn: 2500)" ||
    fail "/sleep?ms=500 five at once: expected 5 answers within 2000 ms" "got $slept in $ms ms"

# REMOTE_ADDR: the client connects from 127.0.0.7 and forges an
# X-Forwarded-For; the server's access log must name 127.0.0.7.
curl -s -m 10 -o /dev/null --interface 127.0.0.7 -H 'X-Forwarded-For: 6.6.6.6' "$(url '/?from=7')"

# A second proxy on the same port: one line, status 1, nothing left running.
bash "$here/proxy.sh" --port "$port" --prefix "$work/busy" -- "${upstream[@]}" > "$work/busy.out" 2>&1
status=$?
if [ $status -ne 0 ] && [ "$(wc -l < "$work/busy.out")" = 1 ] && grep -q 'in use' "$work/busy.out"; then
    ok "port in use: refused in one line ($(cat "$work/busy.out"))"
else
    fail "port in use: expected one line saying the port is in use, and a failing status" \
         "status $status, said: $(cat "$work/busy.out")"
fi
stop
# The access log is flushed at the server's stop.
line=$(grep '"GET /?from=7 ' "$work/one.err")
case $line in
"127.0.0.7 "*) ok "REMOTE_ADDR behind nginx: the client's address, not the forged one ($line)" ;;
*) fail "REMOTE_ADDR behind nginx: the access log should start with the client's 127.0.0.7" \
        "(X-Forwarded-For from the trusted proxy, right-most entry: lib/11-http/http.h)" "got: $line" ;;
esac

# ---- Two upstreams: two machines ------------------------------------------
start two 2
seen=$(for i in $(seq 10); do
           curl -s -m 10 -D - -o /dev/null "$(url /)" | tr -d '\r' | sed -n 's/^X-Upstream: //ip'
       done | sort -u)
n=$(echo "$seen" | grep -c .)
[ "$n" = 2 ] && ok "two upstreams: both serve ($(echo $seen))" ||
    fail "two upstreams: 10 requests should reach both servers (X-Upstream)" "got: $(echo $seen)"
# Each answer of /pid comes from a worker; its parent is its master.
# Two machines: both masters' workers answer.
masters=$(for i in $(seq 20); do
              pid=$(curl -s -m 10 "$(url /pid)")
              awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null
          done | sort -u)
n=$(echo "$masters" | grep -c .)
[ "$n" = 2 ] && ok "two masters: /pid is answered by workers of both ($(echo $masters))" ||
    fail "two masters: 20 GET /pid should be answered by workers of both masters" \
         "their parents: $(echo $masters)"
pids=$(cat "$work"/two/*.pid)
stop
left=
for pid in $pids; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
[ -z "$left" ] && ok "nothing left running after the stops" ||
    fail "after SIGTERM nothing should be left running (nginx, the servers)" "still running:$left"

# ---- No nginx ----------------------------------------------------------------
said=$(NGINX=/nonexistent/nginx bash "$here/proxy.sh" --port "$port" --prefix "$work/none" -- "${upstream[@]}" 2>&1)
status=$?
[ $status -ne 0 ] && [ "$said" = "proxy.sh: nginx not found: run make deps-bench (or apt-get install nginx)" ] &&
    ok "no nginx: refused in one line" ||
    fail "no nginx: expected one line naming make deps-bench, and a failing status" "status $status, said: $said"

echo "test-proxy12: $passed passed, $failed failed"
[ $failed -eq 0 ]

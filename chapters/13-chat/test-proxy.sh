#!/usr/bin/env bash
# test-proxy.sh [proxy.sh's options] - chapter 13 on two machines, proven:
# starts proxy.sh (nginx in front of two chat servers of two workers each,
# one redis-server) on a free port and checks, through nginx:
#   messages posted anywhere reach every server and every worker with the
#   same ids; both servers answer; a WebSocket
#   through nginx (Upgrade passed on) gets the history and a live message
#   posted on another server; Redis killed: posts are still answered (each
#   worker serves alone) and the servers say so; SIGTERM stops everything
#   (nginx, servers, Redis) with status 0.
# Skips (status 0, a "skip:" line) when nginx or curl is missing.
# `make test-proxy13` runs it.  Every wait is bounded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../proxy-checks.sh" test-proxy13     # skips, $work, cleanup, ok and fail

# ---- Start: a free-looking port, retried when it is taken -------------------
for attempt in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 10000 ))
    bash "$here/proxy.sh" --port "$port" --prefix "$work/p" "$@" \
        > "$work/out" 2> "$work/err" &
    proxy_pid=$!
    for i in $(seq 150); do
        grep -q '^listening on http://' "$work/out" && break 2
        kill -0 "$proxy_pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$proxy_pid" 2>/dev/null; proxy_pid=
    grep -q 'in use' "$work/err" || break
done
if [ -z "$proxy_pid" ]; then
    echo "FAIL proxy.sh did not start; it said:"; sed 's/^/     /' "$work/err"; exit 1
fi
base=http://127.0.0.1:$port
# Every server's workers connect to Redis after the fork: wait until a
# post made now is seen by a later poll, whichever worker answers it.
room=t$$

post() { curl -s -o /dev/null -w '%{http_code}' -X POST \
           "$base/send?room=$room&name=$1" --data "{\"text\": \"$2\"}"; }
poll() { curl -s --max-time 10 "$base/poll?room=$room&since=0"; }

# ---- 1. One room, everywhere ------------------------------------------------
sleep 0.5
codes=
for i in 1 2 3 4; do codes="$codes$(post ann "hello $i") "; done
[ "$codes" = "200 200 200 200 " ] && ok "4 posts through nginx answered 200" ||
    fail "4 posts through nginx: expected 200 each" "got: $codes" "$(tail -n 5 "$work/err")"
want=$(poll)
same=1
for i in $(seq 12); do            # nginx spreads polls over both servers
    got=$(poll)
    [ "$got" = "$want" ] || { same=0; break; }
done
case $want in
*'"text":"hello 4","id":4'*) ;;
*) same=0 ;;
esac
[ $same -eq 1 ] && ok "12 polls (both servers, any worker) see the same messages, ids 1-4" ||
    fail "polls should all see hello 1-4 with ids 1-4" "first: $want" "then: ${got:-}"

# ---- 2. Two machines -------------------------------------------------------
# (nginx keeps its connections to each server alive, so a server's
# requests mostly reach one of its workers: two pids at least.)
pids=$(for i in $(seq 40); do curl -s "$base/pid"; echo; done | sort -u | grep -c .)
[ "$pids" -ge 2 ] && ok "40 requests through nginx reached $pids worker processes (both servers)" ||
    fail "40 requests should reach both servers" "reached $pids process(es)"

# ---- 3. A WebSocket through nginx ---------------------------------------------
python3 - "$port" "$room" > "$work/ws" 2>&1 <<'PY' &
import base64, json, os, socket, struct, sys
port, room = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws/chat?room={room}&name=wes HTTP/1.1\r\nHost: x\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
print(head.split(b"\r\n")[0].decode(), flush=True)
def need(n):
    global buf
    while len(buf) < n:
        more = s.recv(4096)
        if not more: raise EOFError
        buf += more
    out, buf = buf[:n], buf[n:]
    return out
while True:
    b0, b1 = need(2)
    n = b1 & 127
    if n == 126: n = struct.unpack("!H", need(2))[0]
    elif n == 127: n = struct.unpack("!Q", need(8))[0]
    data = need(n)
    if b0 & 15 == 1:
        m = json.loads(data)
        print(m["id"], m["name"], m["text"], flush=True)
        if m["text"] == "live":
            break
PY
ws_pid=$!
for i in $(seq 100); do grep -q "hello 4" "$work/ws" && break; sleep 0.1; done
for i in $(seq 5); do post bob live >/dev/null; grep -q " live" "$work/ws" && break; sleep 0.5; done
for i in $(seq 100); do grep -q " live" "$work/ws" && break; sleep 0.1; done
kill "$ws_pid" 2>/dev/null; wait "$ws_pid" 2>/dev/null
if grep -q "^HTTP/1.1 101" "$work/ws" && grep -q "^4 ann hello 4" "$work/ws" &&
   grep -q " bob live" "$work/ws"; then
    ok "a WebSocket through nginx: 101, the history, and a live post from any server"
else
    fail "a WebSocket through nginx should get 101, the history and the live post" \
         "it read: $(tr '\n' '|' < "$work/ws")"
fi

# ---- 4. Redis goes away -------------------------------------------------------
redis_pid=$(sed -n 's/.*redis-server (pid \([0-9]*\)).*/\1/p' "$work/err")
if [ -n "$redis_pid" ]; then
    kill -KILL "$redis_pid"
    codes=
    for i in 1 2 3; do codes="$codes$(post ann "alone $i") "; done
    for i in $(seq 50); do grep -q unreachable "$work/err" && break; sleep 0.1; done
    if [ "$codes" = "200 200 200 " ] && grep -q "unreachable" "$work/err"; then
        ok "Redis killed: posts still answered 200, and the servers say Redis is unreachable"
    else
        fail "Redis killed: posts should be answered and the outage said" "codes: $codes" \
             "$(grep -i redis "$work/err" | tail -n 3)"
    fi
else
    fail "proxy.sh should say which redis-server it started" "$(head -n 3 "$work/err")"
fi

# ---- 5. SIGTERM stops everything ------------------------------------------------
kill -TERM "$proxy_pid"
for i in $(seq 150); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$proxy_pid" 2>/dev/null; then
    fail "SIGTERM: proxy.sh should stop within 15 s"
else
    wait "$proxy_pid"; status=$?; proxy_pid=
    left=$(pgrep -f "$work/p" | wc -l)
    [ $status -eq 0 ] && [ "$left" -eq 0 ] && ok "SIGTERM: everything stopped, status 0" ||
        fail "SIGTERM: status 0 and nothing left expected" "status $status, $left process(es) left"
fi

echo "test-proxy13: $passed passed, $failed failed"
[ $failed -eq 0 ]

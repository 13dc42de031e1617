#!/usr/bin/env bash
# proxy.sh - chapter 13: two machines' worth of chat behind one nginx,
# sharing their rooms through one Redis.
#
# Usage: proxy.sh [--port PORT] [--upstreams N] [--workers W] [--redis URL]
#                 [--server BINARY] [--prefix DIR]
#
# Starts a redis-server of its own on a free port (unless --redis URL is
# given), then chapter 12's proxy.sh: nginx on 127.0.0.1:PORT (default
# 8000) in front of N chat servers (default 2), each a master with W
# workers (default 2) and --redis.  A client's WebSocket, long-poll or SSE
# stream lands on any worker of any server, and sees every message of its
# room.  Prints "listening on http://127.0.0.1:PORT" when ready; SIGINT or
# SIGTERM stops nginx, the servers, then Redis, and exits 0.
# `make proxy13 PORT=P` runs it (chapter.mk).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=8000 upstreams=2 workers=2 redis= server=$root/build/asm/chapters/13-chat/server
prefix=$root/build/proxy13
while [ $# -gt 0 ]; do
    case $1 in
    --port)      port=$2; shift 2 ;;
    --upstreams) upstreams=$2; shift 2 ;;
    --workers)   workers=$2; shift 2 ;;
    --redis)     redis=$2; shift 2 ;;
    --server)    server=$2; shift 2 ;;
    --prefix)    prefix=$2; shift 2 ;;
    *) echo "proxy.sh: unknown option $1 (see the usage at the top of $0)" >&2; exit 2 ;;
    esac
done
mkdir -p "$prefix" || exit 1
prefix=$(cd "$prefix" && pwd)

redis_pid= proxy_pid=
stop() {
    [ -n "$proxy_pid" ] && kill -TERM "$proxy_pid" 2>/dev/null && wait "$proxy_pid"
    [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null && wait "$redis_pid"
    proxy_pid= redis_pid=
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# ---- Redis: the machines' meeting point ------------------------------------

if [ -z "$redis" ]; then
    command -v redis-server >/dev/null || {
        echo "proxy.sh: redis-server not found: run make deps (or apt-get install redis-server)" >&2
        exit 1; }
    # A free port: the kernel's pick for a socket we close at once.
    rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no \
        --dir "$prefix" > "$prefix/redis.log" 2>&1 &
    redis_pid=$!
    redis=redis://127.0.0.1:$rport
    echo "proxy.sh: redis-server (pid $redis_pid) on $redis" >&2
fi

# ---- nginx in front of the chat servers (chapter 12's script) ---------------

bash "$root/chapters/12-prefork/proxy.sh" --host 127.0.0.1 --port "$port" \
    --upstreams "$upstreams" --prefix "$prefix" -- \
    "$server" --static "$here/static" \
    --workers "$workers" --redis "$redis" &
proxy_pid=$!
wait "$proxy_pid"
status=$?
proxy_pid=
exit $status

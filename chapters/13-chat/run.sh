#!/bin/sh
# run.sh - what `make chapter13` runs: the chat server on a port of its
# own, three clients in one room (WebSocket, long-polling, Server-Sent
# Events: demo.py, Python's standard library) that see each other's
# messages, a flood closed 1008, then SIGTERM: the WebSocket is closed
# 1001 and the server stops at once.
# Usage: sh chapters/13-chat/run.sh BINDIR
BIN=$1
HERE=$(dirname "$0")
. "$HERE/../serve.sh"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; rm -rf "$tmp"' EXIT

"$BIN/server" --host 127.0.0.1 --port 0 --static "$HERE/static" >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
wait_listening "$tmp/server.out"
sed 's/^/    /' "$tmp/server.out"

python3 "$HERE/demo.py" "$port" "$pid"       # it ends by sending SIGTERM
wait $pid
pid=
echo "==> the server's last words"
tail -n 1 "$tmp/server.out" | sed 's/^/    /'

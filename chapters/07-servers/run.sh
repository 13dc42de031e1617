#!/bin/sh
# run.sh - what `make chapter7` runs: the echo and chat servers, each
# started in the background on a free port, driven by this chapter's
# clients and stopped with SIGTERM; then the pool demo.
# Usage: sh chapters/07-servers/run.sh BINDIR
BIN=$1
. "$(dirname "$0")/../serve.sh"
tmp=$(mktemp -d)
pid=
FDS=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null && kill -CONT $pid; rm -rf "$tmp"' EXIT

# start NAME ARGS...: run server NAME on 127.0.0.1, port 0 (the kernel picks
# a free one), and wait for its "listening on http://HOST:PORT" line.
# Sets $pid and $port.
# With FDS set, the server may open at most that many descriptors.
start() {
    name=$1; shift
    : >"$tmp/server.out"       # not the last server's line
    (
        [ -n "$FDS" ] && ulimit -n "$FDS"
        exec "$BIN/$name" --host 127.0.0.1 --port 0 "$@"
    ) >"$tmp/server.out" 2>&1 &
    pid=$!
    wait_listening "$tmp/server.out"
}

# stop: SIGTERM the server, wait for it, show what it printed.
stop() {
    kill -TERM $pid
    wait $pid
    status=$?
    pid=
    sed 's/^/    server | /' "$tmp/server.out"
    echo "    server exited with status $status"
}

# burst N: N clients connect at once while the server is paused for 0.2 s
# (SIGSTOP, then SIGCONT), as a busy server would be: the kernel's listen
# queue holds the connections the accept loop has not taken yet.
burst() {
    kill -STOP $pid
    "$BIN/echo_client" 127.0.0.1 "$port" "$1" 10 &
    client=$!
    sleep 0.2
    kill -CONT $pid
    wait $client
}

for backlog in 1024 128; do
    echo "==> echo: 500 clients at once while the server is busy for 0.2 s, listen backlog $backlog"
    start echo --backlog $backlog
    burst 500
    stop
    echo
done

echo "==> echo: 200 clients at once, the server limited to 64 descriptors"
FDS=64
start echo
FDS=
"$BIN/echo_client" 127.0.0.1 "$port" 200 10
stop
echo

echo "==> chat: alice, bob and carol"
start chat
"$BIN/chat_client" 127.0.0.1 "$port"
stop
echo

echo "==> pool"
"$BIN/pool"

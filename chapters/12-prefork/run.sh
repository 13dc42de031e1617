#!/bin/sh
# run.sh - what `make chapter12` runs: the pre-fork master with 2 workers
# serving the demo app; requests answered by different workers (/pid), a
# worker killed and replaced, a reload (HUP) under load with no failed
# request, and a graceful stop (TERM) that lets a request finish.
# Usage: sh chapters/12-prefork/run.sh BINDIR
BIN=$1
HERE=$(dirname "$0")
. "$HERE/../serve.sh"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; rm -rf "$tmp"' EXIT

"$BIN/server" --host 127.0.0.1 --port 0 --workers 2 --grace 5 >"$tmp/server.out" 2>"$tmp/master.log" &
pid=$!
wait_listening "$tmp/server.out"
sed 's/^/    /' "$tmp/server.out"
# GET PATH over a new connection: prints the body (HTTP/1.0: the close ends it).
get() {
    "$BIN/../11-http/client" 127.0.0.1 "$port" "send:GET $1 HTTP/1.0\r\n\r\n" read 2>&1 |
        sed -n 's/^ *+[0-9.]*s < //p' | tail -n 1
}
# The workers: the master's children.
workers() { pgrep -P $pid | sort | tr '\n' ' '; }

echo "==> who answers: /pid over 6 connections, while /cpu keeps one worker busy"
for i in 1 2 3; do
    get "/cpu?ms=100" >/dev/null &
    busy=$!
    sleep 0.02
    echo "    /pid -> $(get /pid)    /pid -> $(get /pid)"
    wait $busy
done
echo "    the master's children: $(workers)"
echo

echo "==> a worker killed with SIGKILL is replaced"
victim=$(get /pid)
kill -KILL "$victim"
sleep 0.5
echo "    killed $victim; the children now: $(workers); /pid -> $(get /pid)"
echo

echo "==> HUP under load: new workers first, then the old ones stop"
before=$(workers)
ok=0 failed=0 i=0
while [ $i -lt 60 ]; do
    [ $i -eq 10 ] && kill -HUP $pid
    if [ -n "$(get /pid)" ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
    i=$((i + 1))
done
sleep 0.5
echo "    before: $before  after: $(workers)"
echo "    $ok requests answered, $failed failed"
echo

echo "==> TERM while /sleep?ms=500 is in flight: it completes, then the master exits"
( echo "    /sleep?ms=500 -> $(get '/sleep?ms=500')" ) &
client=$!
sleep 0.2
kill -TERM $pid
wait $client
wait $pid
status=$?
pid=
echo "    master exited with status $status"
echo
echo "==> the master's log"
sed 's/^/    /' "$tmp/master.log"

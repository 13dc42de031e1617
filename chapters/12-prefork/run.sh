#!/bin/sh
# run.sh - what `make chapter12` runs: the pre-fork master with 2 workers
# serving the demo app; requests answered by different workers (/pid), a
# worker killed and replaced, a reload (HUP) under load with no failed
# request, a graceful stop (TERM) that lets a request finish, and how
# evenly connections spread over the workers with one shared socket and
# with --reuseport (one socket per worker), with wrk when it is installed.
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
echo

# balance MODE N: a 2-worker master with MODE ("shared" or --reuseport),
# wrk opening a new connection per request with N in flight for 1 s, then
# what each worker said it served at the stop (the master reports it).
balance() {
    flag=; [ "$1" = shared ] || flag=$1
    : >"$tmp/b.out"
    "$BIN/server" --host 127.0.0.1 --port 0 --workers 2 $flag >"$tmp/b.out" 2>"$tmp/b.log" &
    bpid=$!
    wait_listening "$tmp/b.out"
    wrk -t1 -c"$2" -d1s -H 'Connection: close' "http://127.0.0.1:$port/" >/dev/null 2>&1
    kill -TERM $bpid; wait $bpid
    sed -n 's/.*worker [0-9]* served requests: \([0-9]*\) (wake-ups for nothing: \([0-9]*\)).*/\1 \2/p' "$tmp/b.log" |
        awk -v m="$1" -v n="$2" '{ r = r sprintf("%7d", $1); e += $2 }
            END { printf "    %-12s %2d in flight: %s requests; %d wake-ups for nothing\n", m, n, r, e }'
}
echo "==> balance: requests per worker, a new connection for each (wrk, 1 s per line)"
if command -v wrk >/dev/null; then
    for mode in shared --reuseport; do
        for n in 1 16; do balance $mode $n; done
    done
else
    echo "    (wrk is not installed: apt-get install wrk)"
fi

#!/bin/sh
# run.sh - what `make chapter10` runs: the demo application on evhttp,
# started on a free port, looked at over the wire with this chapter's
# raw-socket client (curl -v style), then stopped with SIGTERM.
# Usage: sh chapters/10-evhttp/run.sh BINDIR
BIN=$1
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; rm -rf "$tmp"' EXIT

# Start the server on 127.0.0.1, port 0 (the kernel picks a free one), and
# wait for its "listening on http://HOST:PORT" line.
. "$(dirname "$0")/../serve.sh"
"$BIN/server" --host 127.0.0.1 --port 0 >"$tmp/server.out" 2>&1 &
pid=$!
wait_listening "$tmp/server.out"
client() { "$BIN/client" 127.0.0.1 "$port" "$@"; }

echo "==> GET /: the headers (compare article 004's gevent.wsgi: no Server, no Connection: close)"
client /
echo
echo "==> the same over HTTP/1.0: no keep-alive, the server closes"
client --raw 'GET / HTTP/1.0\r\n\r\n'
echo
echo "==> GET /stream?n=5: a generator body, buffered: Content-Length, all in one piece"
client '/stream?n=5'
echo
echo "==> pipelining: three requests in one write (two 300 ms sleeps first)"
client --pipeline '/sleep?ms=300' '/sleep?ms=300' /
echo
echo "==> two clients at once, each GET /sleep?ms=500: a greenlet per request"
client --together '/sleep?ms=500' '/sleep?ms=500'
echo
echo "==> SIGTERM"
kill -TERM $pid
wait $pid
status=$?
pid=
sed 's/^/    server | /' "$tmp/server.out"
echo "    server exited with status $status"

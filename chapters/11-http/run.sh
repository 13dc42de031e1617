#!/bin/sh
# run.sh - what `make chapter11` runs: article 004's streaming example,
# then the chapter's server (the demo app, and static/ under /static/)
# talked to by a raw client that prints the wire, scenario by scenario;
# the server's access log and its graceful stop at the end.
# Usage: sh chapters/11-http/run.sh BINDIR
BIN=$1
HERE=$(dirname "$0")
. "$HERE/../serve.sh"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; rm -rf "$tmp"' EXIT

echo "==> ticker: a generator body, streamed chunk by chunk as it is yielded"
"$BIN/ticker"
echo

# The server, on a port the kernel picks; wait for its "listening on" line.
: >"$tmp/server.out"
# --max-body 1048576: no limit by default (the server never holds a body),
# one here to show the 413.
"$BIN/server" --host 127.0.0.1 --port 0 --static "$HERE/static" \
    --header-timeout 1 --max-body 1048576 --access-log >"$tmp/server.out" 2>"$tmp/access.log" &
pid=$!
wait_listening "$tmp/server.out"
H='Host: localhost\r\n'
c() { "$BIN/client" 127.0.0.1 "$port" "$@"; }

echo "==> keep-alive: two requests, one connection"
c "send:GET / HTTP/1.1\r\n$H\r\n" wait:200 "send:GET /nope HTTP/1.1\r\n$H\r\n" wait:200
echo

echo "==> pipelining: three requests in one write, three answers in order"
c "send:GET / HTTP/1.1\r\n${H}\r\nGET /stream?n=2 HTTP/1.1\r\n${H}\r\nPOST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nConnection: close\r\n\r\nbye!" read
echo

echo "==> HTTP/1.0: no chunked encoding, the end of the connection ends the body"
c "send:GET /stream?n=2 HTTP/1.0\r\n\r\n" read
echo

echo "==> 100-continue: the server says go on only when /echo reads the body"
c "send:POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n" wait:300 \
  "send:hello" wait:200
echo

echo "==> /echo streams: each piece of the body comes back as it arrives"
c "send:POST /echo HTTP/1.1\r\n${H}Content-Length: 12\r\n\r\nfirst " wait:300 \
  "send:second" wait:200
echo

echo "==> a body that stops half-way: the response is cut, no last chunk"
c "send:POST /echo HTTP/1.1\r\n${H}Content-Length: 12\r\n\r\nfirst " wait:300 shut read
echo

echo "==> a bad request gets 400 and a closed connection; the next client is served"
c "send:GET / HTTP/1.1 extra\r\n$H\r\n" read
c "send:GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n" read
echo

echo "==> a body over --max-body (1 MiB): 413 before a byte of it is read"
c "send:POST /echo HTTP/1.1\r\n${H}Content-Length: 5000000\r\n\r\n" read
echo

echo "==> Slowloris: a head sent one byte at a time is cut off after 1 s (header timeout)"
c "drip:GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaa" | grep -v '> .$'
echo

echo "==> static files: 200 with Last-Modified, then 304 Not Modified"
c "send:GET /static/index.html HTTP/1.1\r\n${H}Connection: close\r\n\r\n" read | tee "$tmp/static.out"
since=$(sed -n 's/.*< Last-Modified: //p' "$tmp/static.out")
c "send:GET /static/index.html HTTP/1.1\r\n${H}If-Modified-Since: $since\r\n\r\n" wait:200 \
  "send:GET /static/../../etc/passwd HTTP/1.1\r\n${H}Connection: close\r\n\r\n" read
echo

echo "==> graceful stop: SIGTERM while /sleep?ms=500 is in flight"
c "send:GET /sleep?ms=500 HTTP/1.1\r\n$H\r\n" read &
client=$!
sleep 0.2
kill -TERM $pid
wait $client
wait $pid
status=$?
pid=
sed 's/^/    server | /' "$tmp/server.out"
echo "    server exited with status $status"
echo
echo "==> the access log (Common Log Format), written once a second and at stop"
sed 's/^/    /' "$tmp/access.log"

#!/bin/sh
# make chapter9 runs this: sh chapters/09-wsgi/run.sh BINDIR
set -e
BIN=$1

echo "== hello: article 004's hello world, a list body and a generator body =="
"$BIN/hello"
echo
echo "== routes: article 003's app with a 404, then the demo app, route by route =="
"$BIN/routes"
echo
echo "== stream: a generator body that sleeps between chunks =="
"$BIN/stream"
echo
echo "== middleware: an access log and a timer, stacked around the demo app =="
"$BIN/middleware"

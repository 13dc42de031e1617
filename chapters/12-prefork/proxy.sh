#!/usr/bin/env bash
# proxy.sh - chapter 12: nginx in front of the kit's server(s).
#
# Usage: proxy.sh [--host HOST] [--port PORT] [--upstreams N] [--prefix DIR]
#                 -- UPSTREAM_COMMAND...
#
# Starts N copies of UPSTREAM_COMMAND (N machines' worth: default 1), each
# with "--host 127.0.0.1 --port 0 --trusted-proxy 127.0.0.1" added, reads
# the port each one says it listens on, writes nginx.conf.in's
# configuration into DIR/nginx.conf (default build/proxy12) and runs nginx
# in the foreground on HOST:PORT (default 127.0.0.1:8000) in front of them.
# Prints "listening on http://HOST:PORT" once nginx accepts.  SIGINT or
# SIGTERM stops nginx, then the servers (gracefully), and exits 0.
#
# `make proxy12 PORT=P` runs it with chapter 12's upstream (chapter.mk).
# NGINX=PATH picks another nginx binary.
set -u

here=$(cd "$(dirname "$0")" && pwd)
host=127.0.0.1 port=8000 upstreams=1 prefix=build/proxy12
while [ $# -gt 0 ]; do
    case $1 in
    --host)      host=$2; shift 2 ;;
    --port)      port=$2; shift 2 ;;
    --upstreams) upstreams=$2; shift 2 ;;
    --prefix)    prefix=$2; shift 2 ;;
    --)          shift; break ;;
    *)           echo "proxy.sh: unknown option $1 (see the usage at the top of $0)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "proxy.sh: no upstream command after --" >&2; exit 2; }
case $upstreams in
[1-9]|[1-9][0-9]) ;;
*) echo "proxy.sh: --upstreams $upstreams: give a number from 1 to 99" >&2; exit 2 ;;
esac

# ---- Refuse early, before anything runs -------------------------------------

nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$nginx" ]; then
    echo "proxy.sh: nginx not found: run make deps-bench (or apt-get install nginx)" >&2
    exit 1
fi
# Something answers on the port already: nginx would retry for 2.5 s and
# fail; say it at once.  (bash's /dev/tcp connects.)
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "proxy.sh: port $port on $host is in use: stop what runs there, or pick another PORT=" >&2
    exit 1
fi

# ---- Stop everything we started, whatever happens ---------------------------

pids=()                                 # the upstreams
nginx_pid=
stop() {
    # nginx first, so that no request reaches a server that is stopping;
    # then the servers, gracefully (TERM): requests in flight finish.
    [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && wait "$nginx_pid" 2>/dev/null
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# ---- The servers, each on a port the kernel picks ---------------------------

mkdir -p "$prefix" || exit 1
prefix=$(cd "$prefix" && pwd)           # nginx wants absolute paths
servers= addrs=
for i in $(seq 1 "$upstreams"); do
    out=$prefix/upstream-$i.out
    : > "$out"
    "$@" --host 127.0.0.1 --port 0 --trusted-proxy 127.0.0.1 > "$out" &
    pids+=($!)
    echo $! > "$prefix/upstream-$i.pid"
    tries=50
    until grep -q '^listening on http://' "$out"; do
        tries=$((tries - 1))
        if [ $tries -le 0 ] || ! kill -0 "${pids[-1]}" 2>/dev/null; then
            echo "proxy.sh: the upstream server did not start ($*); it said: $(head -n 3 "$out")" >&2
            exit 1
        fi
        sleep 0.1
    done
    up=$(sed -n 's|^listening on http://\(.*\)$|\1|p' "$out" | head -n 1)
    servers="$servers        server $up;\n"
    addrs="$addrs $up"
done

# ---- nginx -------------------------------------------------------------------

sed -e "s|@PREFIX@|$prefix|g" -e "s|@LISTEN@|$host:$port|" \
    -e "s|^@SERVERS@\$|$servers|" "$here/nginx.conf.in" > "$prefix/nginx.conf"
: > "$prefix/error.log"
"$nginx" -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" \
    -g 'daemon off;' 2>> "$prefix/error.log" &
nginx_pid=$!

tries=50
until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    tries=$((tries - 1))
    if [ $tries -le 0 ] || ! kill -0 "$nginx_pid" 2>/dev/null; then
        if grep -q 'Address already in use' "$prefix/error.log"; then
            echo "proxy.sh: port $port on $host is in use: stop what runs there, or pick another PORT=" >&2
        else
            echo "proxy.sh: nginx did not start; $prefix/error.log says: $(grep -m1 emerg "$prefix/error.log" || tail -n 1 "$prefix/error.log")" >&2
        fi
        exit 1
    fi
    sleep 0.1
done
echo "listening on http://$host:$port"
echo "proxy.sh: nginx (pid $nginx_pid, $prefix/nginx.conf) in front of$addrs" >&2
wait "$nginx_pid"
status=$?
nginx_pid=
# nginx stopped by a signal of its own (Ctrl-C reaches every process of
# the terminal's group, or somebody sent it one) exits 0: a stop, not a
# failure.  The EXIT trap stops the servers.
[ $status -eq 0 ] && exit 0
echo "proxy.sh: nginx exited with status $status; see $prefix/error.log" >&2
exit 1

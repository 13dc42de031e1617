#!/bin/sh
# deps.sh SET... - install what the kit needs, by sets:
#   core    libevent, Check, pkg-config, a C compiler (needed for everything),
#           OpenSSL (libssl: chapter 4's TLS; libcrypto: the WebSocket
#           handshake's SHA-1 and base64; the openssl command and curl: the
#           TLS tests make their certificates and talk to the servers),
#           hiredis (the RESP reader of chapter 13's Redis client),
#           redis-server (only its binary: the tests start their own),
#           and jansson (the chat's JSON, chapter 13), and gdb (tests/lib/gdb.c runs
#           it on chapter 3's greenlets: lib/03-hub/green-gdb.py)
#   bench   the peers of `make bench`: python3-gevent/greenlet, Twisted and
#           uvicorn (the articles' servers; wsgiref comes with python3),
#           gunicorn (with gevent workers: chapter 12's peer), nginx
#           (the ceiling, and chapter 12's proxy; only its binary is used,
#           never its system service), curl (make test-proxy12's client),
#           wrk and ab (apache2-utils) as load generators, strace, and
#           boost.context (the C++ switch beside the kit's, in make bench),
#           slowhttptest (the slow-read attack of make bench-fair),
#           node's ws, Python's websockets and gevent-websocket (the
#           WebSocket peers of make bench-ws)
#   slides  pandoc (renders slides/ to self-contained HTML), Chromium and
#           its fonts, node and npm when missing, and playwright-core (npm,
#           pinned in slides/check/package.json) that drives Chromium for
#           make slides-check and make slides-pdf
#   cross   gcc for AArch64, qemu-user, arm64 libevent and Check, valgrind,
#           clang (for make fuzz and the clang build)
# Uses apt-get (Debian/Ubuntu) or dnf (Fedora); as root or through sudo.
# When it cannot, it says exactly what to run.  The kit is Linux-only.
set -eu

if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi

apt_pkgs() {
    case $1 in
    core)   echo "build-essential pkg-config libevent-dev check libssl-dev openssl ca-certificates curl libhiredis-dev redis-server libjansson-dev gdb" ;;
    bench)  echo "python3 python3-gevent python3-greenlet python3-twisted uvicorn gunicorn nginx curl wrk apache2-utils strace libboost-context-dev slowhttptest $(command -v node >/dev/null || echo nodejs) node-ws python3-websockets python3-gevent-websocket" ;;
    slides) echo "pandoc chromium fonts-dejavu-core $(node_missing nodejs npm)" ;;
    cross)  echo "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user valgrind clang" ;;
    esac
}
dnf_pkgs() {
    case $1 in
    core)   echo "gcc make pkgconf-pkg-config libevent-devel check-devel openssl-devel openssl ca-certificates curl hiredis-devel redis jansson-devel gdb" ;;
    bench)  echo "python3 python3-gevent python3-greenlet python3-twisted python3-uvicorn python3-gunicorn nginx curl wrk httpd-tools strace boost-devel $(command -v node >/dev/null || echo nodejs) python3-websockets" ;;
    slides) echo "pandoc chromium dejavu-sans-fonts dejavu-sans-mono-fonts $(node_missing nodejs npm)" ;;
    cross)  echo "gcc-aarch64-linux-gnu qemu-user valgrind clang" ;;
    esac
}
# node and npm only when missing: a node that came from elsewhere (with its
# own npm) stays, and the distribution's must not replace it.
node_missing() {
    command -v node >/dev/null || printf '%s ' "$1"
    command -v npm >/dev/null || printf '%s ' "$2"
}

# playwright-core from npm, at the version slides/check/package.json pins
# (npm ci: exactly the lock file).  It drives the Chromium installed above;
# it downloads no browser of its own.
SLIDES_CHECK="$(dirname "$0")/../slides/check"
slides_npm() {
    want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' "$SLIDES_CHECK/package.json")
    have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' \
        "$SLIDES_CHECK/node_modules/playwright-core/package.json" 2>/dev/null || true)
    [ "$want" = "$have" ] && return 0
    echo "deps: installing playwright-core $want (npm, in slides/check/node_modules)"
    (cd "$SLIDES_CHECK" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# A package Fedora may not carry (slowhttptest: not checked from a
# Debian machine): its absence skips one figure, never the whole set.
dnf_optional() {                       # PACKAGE [TARGET]
    $SUDO dnf install -y "$1" ||
        echo "deps: $1 is not available here: make ${2:-bench-fair} skips what needs it"
}

# Only what is missing, so a second `make deps` is quick and quiet.
apt_missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
    done
}

install_apt() {
    want=$(apt_missing "$@" | tr '\n' ' ')
    want=${want% }
    [ -z "$want" ] && return 0
    echo "deps: installing $want"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null
}

# The arm64 builds of Check and of libevent's libraries come from Debian's
# multiarch.  libevent-dev:arm64 cannot be installed beside the native
# libevent-dev (they share files), so `make test-aarch64` unpacks it into
# build/aarch64-sysroot instead.
ARM64_LIBS="check:arm64 libevent-2.1-7:arm64 libevent-core-2.1-7:arm64 libevent-extra-2.1-7:arm64 libevent-pthreads-2.1-7:arm64 libevent-openssl-2.1-7:arm64 libssl3:arm64 libhiredis0.14:arm64"
cross_multiarch() {
    [ -n "$(apt_missing $ARM64_LIBS)" ] || return 0
    $SUDO dpkg --add-architecture arm64
    echo "deps: installing the arm64 builds of Check and libevent"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $ARM64_LIBS >/dev/null
}

for set in "$@"; do
    if command -v apt-get >/dev/null; then
        install_apt $(apt_pkgs "$set")
        [ "$set" = cross ] && cross_multiarch
    elif command -v dnf >/dev/null; then
        $SUDO dnf install -y $(dnf_pkgs "$set")
        [ "$set" = bench ] && dnf_optional slowhttptest
        # node's ws and gevent-websocket: not checked from a Debian machine.
        [ "$set" = bench ] && { dnf_optional nodejs-ws bench-ws; dnf_optional python3-gevent-websocket bench-ws; }
    elif [ "$(uname -s)" != Linux ]; then
        echo "deps: the kit builds on Linux only (it uses accept4, sendfile, epoll)."
        echo "deps: on $(uname -s), work in a Linux VM or container (Debian 12 is what CI runs)."
        exit 1
    else
        echo "deps: no apt-get or dnf here.  Install by hand: $(apt_pkgs "$set") (Debian names)"
        exit 1
    fi
    if [ "$set" = slides ]; then slides_npm; fi
done
true

#!/bin/sh
# tls.sh - the HTTPS figures (`make bench-tls`, also part of `make bench`):
# chapter 11's server over TLS beside nginx with one worker and gevent's
# pywsgi with ssl_args, each answering GET / with "Hello, World!", in the
# same run, with the same certificate and the same OpenSSL settings.
#
# usage: CH11=BINARY sh tests/bench/tls.sh DIR
#   DIR   a folder under build/ for what the run makes: the certificate
#         and its key (ECDSA P-256, self-signed, made anew each run), the
#         OpenSSL settings, nginx's prefix
#   CH11  chapter 11's server (build/asm/chapters/11-http/server), run as
#         `server --host 127.0.0.1 --port 0 --cert CERT --key KEY`
# environment (all optional):
#   BENCH_TLS_SECONDS=2       length of each wrk run
#   BENCH_TLS_RUNS=3          runs of each server and figure, taking turns (medians)
#   BENCH_TLS_CONNECTIONS=50  wrk's connections
#   BENCH_PYTHON=/usr/bin/python3  the Python of python3-gevent
#
# First what each server negotiates (openssl s_client, once: protocol,
# cipher, key exchange, certificate, whether it resumes a session), then
# three figures (tests/bench/tls.md explains them and how to read them):
#   1. keep-alive hello world over HTTPS: requests/s and the server's CPU
#      time per request;
#   2. new TLS connections: wrk with "Connection: close", a full handshake
#      per request: connections/s and the server's CPU per connection;
#   3. the kit against gevent's pywsgi, keep-alive (from figure 1).
# Then the targets, each MET or NOT MET.  Takes about 45 s.
set -u

DIR=${1:?usage: CH11=BINARY sh tests/bench/tls.sh DIR}
CH11=${CH11:-}
HERE=$(cd "$(dirname "$0")" && pwd)
HTTP_DIR=$HERE/http
SECONDS_=${BENCH_TLS_SECONDS:-2}
RUNS=${BENCH_TLS_RUNS:-3}
CONNS=${BENCH_TLS_CONNECTIONS:-50}
. "$HTTP_DIR/common.sh"                # servers on CPU 0, load on CPU 1
# As bench-ws does: as root, servers and wrk run at nice -10, ahead of
# whatever else the shared machine runs (all servers alike).
if [ "$(id -u)" -eq 0 ]; then
    ON_SERVER_CPU="nice -n -10 $ON_SERVER_CPU" ON_LOAD_CPU="nice -n -10 $ON_LOAD_CPU"
    PINNING="$PINNING, all at nice -10"
fi
HZ=$(getconf CLK_TCK)
start=$(date +%s)
TARGETS=$WORK/targets
: > "$TARGETS"
T_KEEP_RPS="HTTPS keep-alive: kit >= nginx (1 worker) in requests/s"
T_KEEP_CPU="HTTPS keep-alive: kit's CPU per request <= nginx's"
T_NEW="new TLS connections (a full handshake each): kit >= 0.9x nginx in connections/s and in CPU per connection"
T_GEVENT="HTTPS keep-alive: kit >= 10x gevent's pywsgi in requests/s"

# Without the tools no figure can be measured: say so, never fail.
for tool in wrk openssl curl; do
    have $tool && continue
    echo "skip: $tool is not installed (make deps-bench): no HTTPS figure"
    for t in "$T_KEEP_RPS" "$T_KEEP_CPU" "$T_NEW" "$T_GEVENT"; do target "$t" "$tool is missing" NONE; done
    end_with_targets bench-tls
done
echo "machine: $(nproc) core(s), $(uname -sr); $PINNING;" \
     "load average $(cut -d' ' -f1 /proc/loadavg) at the start"
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v c="$(nproc)" 'BEGIN { exit !(l >= c) }'; then
    echo "note: the machine is busy (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores): rates" \
         "depend on when each process gets a core; CPU per request is the steadier figure; re-run when quiet"
fi

# ---- Helpers ----------------------------------------------------------------------
# From common.sh: target, ratio, ge, le, ticks, pid_of, port_of.

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }

# CCPU: the CPU time (s) of this shell's finished children, wrk among
# them: the second line of `times`.  Never in $(...): a subshell would
# count its own children, none.
client_cpu() {
    times > "$WORK/times"
    CCPU=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } }
                END { printf "%.3f", t }' "$WORK/times")
}
# Connections the kernel accepted, on the whole machine (/proc/net/snmp,
# Tcp PassiveOpens): did wrk really open one per request?
accepted() {
    awk '/^Tcp:/ { if (!col) { for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") col = i }
                   else print $col }' /proc/net/snmp
}

# The run's certificate and OpenSSL settings, in DIR.  OPENSSL_CONF is
# given to the servers only, never to wrk, curl or openssl s_client.
mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd)   # nginx wants absolute paths
CERT=$DIR/cert.pem KEY=$DIR/key.pem
cp "$HERE/tls_openssl.cnf" "$DIR/openssl.cnf"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$KEY" -out "$CERT" > "$WORK/req.out" 2>&1; then
    echo "skip: openssl could not make the certificate; it said:"
    sed 's/^/    /' "$WORK/req.out" | head -n 5
    for t in "$T_KEEP_RPS" "$T_KEEP_CPU" "$T_NEW" "$T_GEVENT"; do target "$t" "no certificate" NONE; done
    end_with_targets bench-tls
fi
FINGERPRINT=$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | sed 's/.*=//')
echo "certificate: ECDSA P-256, self-signed for localhost and 127.0.0.1, made now: $CERT" \
     "(sha256 $(echo "$FINGERPRINT" | cut -c1-23)...)"
echo "OpenSSL settings of every server: OPENSSL_CONF=$DIR/openssl.cnf (no session tickets:" \
     "a new connection is a full handshake)"

# A server answers GET / over HTTPS with a 200.  Returns 1 after SECONDS.
wait_https() {                         # PORT SECONDS
    tries=$(( $2 * 10 ))
    while [ "$tries" -gt 0 ]; do
        curl -ksf -m 1 -o /dev/null "https://$HOST:$1/" && return 0
        tries=$((tries - 1))
        sleep 0.1
    done
    return 1
}

# start_tls NAME COMMAND...: common.sh's start_announced, with this run's
# OpenSSL settings, then a check that GET / over HTTPS answers 200.
start_tls() {
    name=$1
    shift
    start_announced "$name" env OPENSSL_CONF="$DIR/openssl.cnf" "$@" || return 1
    port=$(port_of "$name")
    wait_https "$port" 10 && return 0
    echo "skip: $name listens on port $port but does not answer GET / over HTTPS with 200"
    stop_server "$name" quiet
    return 1
}

# nginx cannot tell which port the kernel gave it: try free-looking ports
# until one binds (as common.sh's start_nginx, with tls_nginx.conf).
start_tls_nginx() {                    # NAME
    name=$1
    mkdir -p "$DIR/nginx"
    for _ in 1 2 3 4 5; do                # 5 tries: the port may be taken
        port=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 ))
        sed -e "s|@PREFIX@|$DIR/nginx|g" -e "s|@LISTEN@|$HOST:$port|" \
            -e "s|@CERT@|$CERT|" -e "s|@KEY@|$KEY|" "$HERE/tls_nginx.conf" > "$DIR/nginx/nginx.conf"
        : > "$DIR/nginx/error.log"
        $ON_SERVER_CPU env OPENSSL_CONF="$DIR/openssl.cnf" nginx -p "$DIR/nginx" -e "$DIR/nginx/error.log" \
            -c "$DIR/nginx/nginx.conf" -g 'daemon off;' > "$WORK/$name.out" 2>&1 &
        eval "pid_$name=$!"
        STARTED="$STARTED $name"
        if wait_https "$port" 5; then
            eval "port_$name=$port"
            return 0
        fi
        stop_server "$name" quiet
        grep -q 'Address already in use' "$DIR/nginx/error.log" "$WORK/$name.out" || break
    done
    echo "skip: nginx did not start; it said:"
    cat "$DIR/nginx/error.log" "$WORK/$name.out" | sed 's/^/    /' | head -n 10
    return 1
}

# wrk_tls PORT SECONDS keepalive|close: sets N (responses), RPS and FAILED
# (socket errors and non-2xx answers).
wrk_tls() {
    port=$1 secs=$2 mode=$3
    set --
    [ "$mode" = close ] && set -- -H 'Connection: close'
    limit "$(cap "$secs")" $ON_LOAD_CPU wrk -t1 -c"$CONNS" -d"$secs"s --timeout 5s "$@" \
        "https://$HOST:$port/" > "$WORK/wrk.out" 2>&1
    eval "$(awk '
        / requests in / { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Socket errors:/ { gsub(/,/, ""); failed += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { failed += $5 }
        END { printf "N=%s; RPS=%s; FAILED=%d\n", n == "" ? 0 : n, rps == "" ? "-" : rps, failed }' "$WORK/wrk.out")"
}

# ---- The servers --------------------------------------------------------------------

SERVERS=
if [ -z "$CH11" ] || ! [ -x "$CH11" ]; then
    echo "skip: the kit: chapter 11's server is not built (${CH11:-CH11 not given}; make chapter11)"
elif start_tls kit "$CH11" --host "$HOST" --port 0 --cert "$CERT" --key "$KEY"; then
    SERVERS=kit
elif grep -q 'unknown option --cert' "$WORK/kit.out" 2>/dev/null; then
    echo "      (chapter 11's server has no --cert/--key yet: issue 13's HTTPS in chapter 11)"
fi
if have nginx; then
    start_tls_nginx nginx && SERVERS="$SERVERS nginx"
else
    echo "skip: nginx is not installed (make deps-bench)"
fi
if have_python gevent; then
    start_tls gevent "$PYTHON" "$HERE/tls_gevent.py" "$HOST" "$CERT" "$KEY" && SERVERS="$SERVERS gevent"
else
    echo "skip: gevent's pywsgi: python3-gevent is not installed (make deps-bench)"
fi
running() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
label_of() {
    case $1 in
    kit)    echo "kit (chapter 11)" ;;
    nginx)  echo "$(nginx -v 2>&1 | sed 's|.*/||; s|^|nginx |'), 1 worker" ;;
    gevent) echo "gevent $("$PYTHON" -c 'import gevent; print(gevent.__version__)') pywsgi" ;;
    esac
}

# ---- What each server negotiates --------------------------------------------------
# openssl s_client (OpenSSL's defaults, as wrk's) sends one request and
# keeps the session it got; a second connection offers it back: a server
# that resumes it would skip the full handshake of figure 2.
echo
echo "what each server negotiates with OpenSSL's default client (openssl s_client, once; wrk offers the same):"
fmt="%-26s %-9s %-24s %-13s %-14s %-9s %s\n"
printf "$fmt" "server" "protocol" "cipher" "key exchange" "certificate" "answer" "resumes a session"
negotiated() {                         # NAME: one row, and "NAME PROTOCOL CIPHER GROUP" in $WORK/tls
    rm -f "$WORK/sess"
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        limit 10 openssl s_client -connect "$HOST:$(port_of "$1")" -servername localhost \
            -sess_out "$WORK/sess" -ign_eof > "$WORK/s_client.out" 2>&1
    proto=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)/\1/p' "$WORK/s_client.out" | head -n 1)
    cipher=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)/\2/p' "$WORK/s_client.out" | head -n 1)
    group=$(sed -n 's/^Server Temp Key: \([^,]*\),.*/\1/p' "$WORK/s_client.out" | head -n 1)
    fpr=$(openssl x509 -noout -fingerprint -sha256 < "$WORK/s_client.out" 2>/dev/null | sed 's/.*=//')
    [ "$fpr" = "$FINGERPRINT" ] && cert="this run's" || cert="ANOTHER"
    answer=$(grep -m1 -o '^HTTP/1\.[01] [0-9]*' "$WORK/s_client.out" | sed 's|HTTP/1\.[01] ||')
    resumed=no
    if [ -s "$WORK/sess" ]; then
        printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
            limit 10 openssl s_client -connect "$HOST:$(port_of "$1")" -servername localhost \
                -sess_in "$WORK/sess" -ign_eof 2>/dev/null | grep -q '^Reused,' && resumed=YES
    fi
    printf "$fmt" "$(label_of "$1")" "${proto:--}" "${cipher:--}" "${group:--}" "$cert" "${answer:--}" "$resumed"
    echo "$1 ${proto:--} ${cipher:--} ${group:--} $resumed" >> "$WORK/tls"
}
: > "$WORK/tls"
for s in $SERVERS; do negotiated "$s"; done
# The figures compare like with like only if every server agreed on the
# same protocol, cipher and key exchange as the first, and none resumes.
if [ "$(awk '{ print $2, $3, $4 }' "$WORK/tls" | sort -u | wc -l)" -gt 1 ]; then
    echo "note: the servers did not all negotiate the same protocol, cipher and key exchange: the ratios compare different work"
fi
if grep -q ' YES$' "$WORK/tls"; then
    echo "note: $(awk '$5 == "YES" { printf "%s ", $1 }' "$WORK/tls")resumed a session despite $DIR/openssl.cnf:" \
         "its figure 2 is not a full handshake per connection"
fi
resumes() { awk -v s="$1" '$1 == s && $5 == "YES" { f = 1 } END { exit !f }' "$WORK/tls"; }

# ---- 1 and 2: the runs ----------------------------------------------------------------
# Every server in turn, the order reversed every other run, so that a
# noisy moment of the shared machine does not fall on one server only.
# A line per run in $WORK/runs: MODE SERVER rate= n= failed= cpu= (server
# CPU per request, us) scpu= (s) ccpu= (wrk's CPU, s) acc= (connections
# accepted per request, less the CONNS still open when wrk stops, whose
# last request never completes).  wrk's own words stay in wrk.MODE.SERVER.
: > "$WORK/runs"
measure() {                            # MODE SERVER
    pid=$(pid_of "$2")
    client_cpu
    t0=$(ticks "$pid") c0=$CCPU a0=$(accepted)
    wrk_tls "$(port_of "$2")" "$SECONDS_" "$1"
    t=$(( $(ticks "$pid") - t0 )) a=$(( $(accepted) - a0 ))
    client_cpu
    c=$CCPU
    cp "$WORK/wrk.out" "$WORK/wrk.$1.$2"
    awk -v m="$1" -v s="$2" -v rps="$RPS" -v n="$N" -v f="$FAILED" -v t="$t" -v hz="$HZ" \
        -v c0="$c0" -v c="$c" -v a="$a" -v k="$CONNS" 'BEGIN {
        printf "%s %s rate=%s n=%d failed=%d cpu=%s scpu=%.2f ccpu=%.2f acc=%s\n", m, s, rps, n, f,
            (n > 0 ? sprintf("%.1f", t / hz / n * 1e6) : "-"), t / hz, c - c0, (n > 0 ? sprintf("%.2f", (a - k) / n) : "-")
    }' >> "$WORK/runs"
}
if [ -n "$SERVERS" ]; then
    for i in $(seq 1 "$RUNS"); do
        order=$SERVERS
        [ $((i % 2)) -eq 0 ] && order=$(echo $SERVERS | tr ' ' '\n' | tac | tr '\n' ' ')
        for s in $order; do measure keepalive "$s"; done
        for s in $order; do measure close "$s"; done
    done
fi
# fig MODE SERVER FIELD: the median over the runs ("-" when not run).
fig() { awk -v m="$1" -v s="$2" '$1 == m && $2 == s' "$WORK/runs" | tr ' ' '\n' | sed -n "s/^$3=//p" | median; }
failed_sum() { awk -v m="$1" -v s="$2" '$1 == m && $2 == s' "$WORK/runs" | tr ' ' '\n' | sed -n 's/^failed=//p' | awk '{ t += $1 } END { print t + 0 }'; }
every_run() { awk -v m="$1" -v s="$2" '$1 == m && $2 == s { sub(/rate=/, "", $3); printf " %s", $3 }' "$WORK/runs"; }
# The share of its core wrk used in the median run: near 1, wrk was the limit.
busy() { awk -v c="$(fig "$1" "$2" ccpu)" -v s="$SECONDS_" 'BEGIN { if (c == "-") print "-"; else printf "%.0f%%", c / s * 100 }'; }
wrk_full() { awk -v c="$(fig "$1" "$2" ccpu)" -v s="$SECONDS_" 'BEGIN { exit !(c != "-" && c / s >= 0.9) }'; }

echo
echo "1. HTTPS keep-alive hello world: wrk -t1 -c$CONNS, $RUNS run$([ "$RUNS" = 1 ] || echo s) of $SECONDS_ s per server, taking turns; medians"
fmt="%-26s %10s %12s %8s %22s\n"
printf "$fmt" "server" "req/s" "CPU us/req" "failed" "server CPU / wrk CPU"
for s in $SERVERS; do
    printf "$fmt" "$(label_of $s)" "$(fig keepalive $s rate)" "$(fig keepalive $s cpu)" "$(failed_sum keepalive $s)" \
        "$(fig keepalive $s scpu) s / $(fig keepalive $s ccpu) s"
done
for s in $SERVERS; do echo "    every run, req/s, $(label_of $s):$(every_run keepalive $s)"; done

echo
echo "2. new TLS connections: wrk -t1 -c$CONNS -H 'Connection: close', a full handshake per request; medians"
fmt="%-26s %10s %13s %8s %15s %22s\n"
printf "$fmt" "server" "conn/s" "CPU us/conn" "failed" "accepted/req" "server CPU / wrk CPU"
for s in $SERVERS; do
    printf "$fmt" "$(label_of $s)" "$(fig close $s rate)" "$(fig close $s cpu)" "$(failed_sum close $s)" \
        "$(fig close $s acc)" "$(fig close $s scpu) s / $(fig close $s ccpu) s"
done
for s in $SERVERS; do echo "    every run, conn/s, $(label_of $s):$(every_run close $s)"; done
for s in $SERVERS; do
    [ "$(failed_sum close $s)" = 0 ] && continue
    echo "    $(label_of $s), wrk's last run:$(grep 'Socket errors:' "$WORK/wrk.close.$s" | sed 's/^ *Socket errors://')"
done
echo "   (accepted/req: TCP connections the kernel accepted (the whole machine's) per answer, less wrk's $CONNS"
echo "    open at its end: 1.00, one each;"
echo "    wrk at ~100% of its $SECONDS_ s on its core: the load generator, not the server, set the rate: see CPU per connection)"

# ---- Ratios and targets --------------------------------------------------------------
echo
fmt="%-26s %14s %14s %14s %14s\n"
printf "$fmt" "kit against" "keep-alive req/s" "CPU/req" "conn/s" "CPU/conn"
for s in nginx gevent; do
    running kit && running $s || continue
    printf "$fmt" "$(label_of $s)" "$(ratio "$(fig keepalive kit rate)" "$(fig keepalive $s rate)")x" \
        "$(ratio "$(fig keepalive kit cpu)" "$(fig keepalive $s cpu)")x" \
        "$(ratio "$(fig close kit rate)" "$(fig close $s rate)")x" "$(ratio "$(fig close kit cpu)" "$(fig close $s cpu)")x"
done
echo "   (rates above 1x: the kit does more; CPU per request or connection below 1x: the kit spends less)"

if running kit && running nginx; then
    r=$(ratio "$(fig keepalive kit rate)" "$(fig keepalive nginx rate)")
    rc=$(ratio "$(fig keepalive kit cpu)" "$(fig keepalive nginx cpu)")
    ge "$r" 1 && ok=OK || ok=NOT
    # Within 3% while wrk's core was full both times, the rates are wrk's,
    # not the servers' (a tie): the CPU per request decides, as in http.sh.
    tie=
    if [ $ok = NOT ] && ge "$r" 0.97 && wrk_full keepalive kit && wrk_full keepalive nginx; then
        tie="; a tie set by wrk, decided by CPU per request"
        le "$rc" 1 && ok=OK
    fi
    target "$T_KEEP_RPS" "${r}x: $(fig keepalive kit rate) against $(fig keepalive nginx rate); wrk used $(busy keepalive kit) and $(busy keepalive nginx) of its core$tie" $ok
    r=$rc
    le "$r" 1 && ok=OK || ok=NOT
    target "$T_KEEP_CPU" "${r}x: $(fig keepalive kit cpu) us against $(fig keepalive nginx cpu) us" $ok
    # When wrk is the limit both rates are wrk's: the CPU per connection
    # says what each server's core would do (1 / CPU), so both count.
    rn=$(ratio "$(fig close kit rate)" "$(fig close nginx rate)")
    rc=$(ratio "$(fig close nginx cpu)" "$(fig close kit cpu)")
    ge "$rn" 0.9 && ge "$rc" 0.9 && ok=OK || ok=NOT
    resumes kit || resumes nginx && ok=NONE
    target "$T_NEW" "${rn}x the rate, $(fig close kit rate) against $(fig close nginx rate);\
 ${rc}x by CPU, $(fig close kit cpu) us a connection against $(fig close nginx cpu) us$([ $ok = NONE ] && echo "; a server resumed sessions")" $ok
else
    for t in "$T_KEEP_RPS" "$T_KEEP_CPU" "$T_NEW"; do target "$t" "the kit or nginx did not run" NONE; done
fi
if running kit && running gevent; then
    r=$(ratio "$(fig keepalive kit rate)" "$(fig keepalive gevent rate)")
    ge "$r" 10 && ok=OK || ok=NOT
    target "$T_GEVENT" "${r}x: $(fig keepalive kit rate) against $(fig keepalive gevent rate);\
 CPU per request $(ratio "$(fig keepalive gevent cpu)" "$(fig keepalive kit cpu)")x less" $ok
else
    target "$T_GEVENT" "the kit or gevent did not run" NONE
fi
for s in $SERVERS; do stop_server "$s"; done

echo
echo "sources: req/s, conn/s, failed: wrk (failed: its socket errors and non-2xx answers); server CPU:"
echo "  /proc/PID/stat utime+stime, every thread, nginx's worker included; wrk CPU: the shell's \`times\`;"
echo "  accepted: /proc/net/snmp Tcp PassiveOpens; negotiated: openssl s_client."
echo "time: $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1 /proc/loadavg) at the end"
end_with_targets bench-tls

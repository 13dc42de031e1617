#!/bin/sh
# articles.sh - the articles' benchmarks, run again on this machine, with
# the kit's two servers beside the Python servers the articles measured.
#
#   000 (NETWAYS): Twisted vs wsgiref vs gevent's WSGIServer, `ab -r -c 1000 -t 30`
#   003 (juejin):  uvicorn vs gevent's pywsgi WSGIServer, `ab -c 100 -n 1000`
#   004 (pythonisito): gevent's two servers, gevent.wsgi (on libevent's
#                  evhttp) vs gevent.pywsgi, `ab -n 10000 -c 1000`
#
# plus nginx in each, as the ceiling: when the C servers tie with it, ab
# (one process opening a connection per request) is the limit, not them.
#
# Modern gevent has only pywsgi (gevent.wsgi went in gevent 1.0), so 004 is
# retold with the kit's own pair: chapter 10's server is gevent.wsgi's
# design (evhttp, buffered) and chapter 11's is pywsgi's (its own parser,
# keep-alive, streaming).
#
# usage: sh chapters/11-http/articles.sh CH10_SERVER CH11_SERVER [OUTDIR]
#   the two servers' binaries (build/asm/chapters/1N-.../server); a missing
#   one is skipped.  OUTDIR (default: CH11_SERVER's folder) receives
#   articles.csv and articles.svg, a bar chart to open in a browser.
# environment (all optional):
#   ARTICLES_REPEAT=3     runs of each figure (the median is quoted)
#   ARTICLES_SECONDS=5    article 000's time limit (the article: 30 s)
#   BENCH_PYTHON=/usr/bin/python3   the Python with python3-gevent,
#                         python3-twisted and uvicorn (make deps-bench)
# Every server is pinned to CPU 0 and ab to CPU 1; every server answers
# hello world with no access log and a listen backlog of 1024.  Takes
# about 2 minutes.  See chapters/11-http/README.md, "Re-running the
# articles' benchmarks".
set -u

CH10=${1:-}
CH11=${2:-}
if [ $# -lt 2 ]; then
    echo "usage: sh chapters/11-http/articles.sh CH10_SERVER CH11_SERVER [OUTDIR]"
    exit 2
fi
HERE=$(dirname "$0")
HTTP_DIR=$HERE/../../tests/bench/http
OUT=${3:-$(dirname "$CH11")}
REPEAT=${ARTICLES_REPEAT:-3}
SECS=${ARTICLES_SECONDS:-5}
# The kit's load generator, if built, tells when a server is ready.
HTTPLOAD=${HTTPLOAD:-$(dirname "$CH11")/../../tests/bench/http/httpload}
. "$HTTP_DIR/common.sh"
mkdir -p "$OUT" || exit 1
CSV=$OUT/articles.csv
SVG=$OUT/articles.svg
SAMPLES=$WORK/samples
: > "$SAMPLES"

if ! have ab; then
    echo "articles: ab is not installed: apt-get install apache2-utils (or make deps-bench)"
    exit 1
fi
echo "machine: $(getconf _NPROCESSORS_ONLN) cores, $(uname -sr); $PINNING"
echo "method: each figure is the median of $REPEAT runs of the article's ab command"

# ---- The servers: start each once, for every block -----------------------
UP=
up() { case " $UP " in *" $1 "*) return 0 ;; esac; return 1; }
python_server() {                      # NAME MODULE PACKAGE SCRIPT [OPTION]
    name=$1 module=$2 package=$3 script=$4
    if have_python "$module"; then
        start_server "$name" "$PYTHON" "$HTTP_DIR/$script" "$HOST" 0 ${5:-} && UP="$UP $name"
    else
        echo "skip: $name: $PYTHON cannot import $module (apt-get install $package, or make deps-bench)"
    fi
}
kit_server() {                         # NAME BINARY CHAPTER
    if [ -z "$2" ] || ! [ -x "$2" ]; then
        echo "skip: $1: the chapter $3 server $2 is not built (make chapter$3)"
    else
        start_server "$1" "$2" --host "$HOST" --port 0 && UP="$UP $1"
    fi
}
python_server twisted twisted python3-twisted twisted_server.py
python_server wsgiref wsgiref python3 wsgiref_server.py
python_server gevent_none gevent python3-gevent pywsgi.py spawn-none
python_server gevent gevent python3-gevent pywsgi.py
python_server uvicorn uvicorn uvicorn uvicorn_app.py
kit_server ch10 "$CH10" 10
kit_server ch11 "$CH11" 11
# Not in the articles: the ceiling.  When the C servers tie with nginx,
# ab (one process, a new connection per request) is what is measured.
if have nginx; then
    start_nginx nginx && UP="$UP nginx"
else
    echo "skip: nginx (the ceiling) is not installed (apt-get install nginx, or make deps-bench)"
fi
for s in $UP; do eval "echo \"server: $s on port \$port_$s\""; done
start=$(date +%s)

# One figure: the article's ab command against each server, REPEAT times,
# the servers taking turns.
block() {                              # ARTICLE "SERVERS" AB_ARGS...
    article=$1 servers=$2
    shift 2
    run=1
    while [ "$run" -le "$REPEAT" ]; do
        echo "article $article, run $run/$REPEAT: ab $*"
        for s in $servers; do
            up "$s" || continue
            eval "port=\$port_$s"
            run_ab "$port" $(( SECS + 120 )) "$@"
            if [ -z "$RPS" ]; then
                echo "note: $s: ab gave up: $AB_GAVE_UP"
            fi
            echo "$article $s rps=${RPS:-} failed=${FAILED:-} p50=${P50:-}" >> "$SAMPLES"
        done
        run=$((run + 1))
    done
}
block 000 "twisted wsgiref gevent_none ch10 ch11 nginx" -r -c 1000 -t "$SECS"
block 003 "uvicorn gevent ch10 ch11 nginx" -c 100 -n 1000
block 004 "gevent ch10 ch11 nginx" -n 10000 -c 1000
for s in $UP; do stop_server "$s"; done
echo "time: $(( $(date +%s) - start )) s"

# ---- Each article beside this run ----------------------------------------------
# The articles' own figures (requests/s), from the seeds.
awk -v secs="$SECS" -v repeat="$REPEAT" -v up="$UP" -v csv="$CSV" '
function median(key,    n, j, k, t, s) {
    n = cnt[key]
    if (n == 0) return ""
    for (j = 1; j <= n; j++) s[j] = v[key, j]
    for (j = 2; j <= n; j++)
        for (k = j; k > 1 && s[k - 1] > s[k]; k--) { t = s[k]; s[k] = s[k - 1]; s[k - 1] = t }
    return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
}
function num(x) { return x == "" ? "-" : sprintf("%.0f", x) }
function x(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf(a / b < 10 ? "%.2fx" : "%.1fx", a / b) }
{
    for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "failed") { failed[$1, $2] += kv[2]; ran[$1, $2] = 1; continue }
        if (kv[2] != "") { key = $1 SUBSEP $2 SUBSEP kv[1]; v[key, ++cnt[key]] = kv[2] + 0 }
    }
}
END {
    # article | server | label | the article figure | the server it is
    # measured against (the ratio column: "vs" in the same article)
    nrows = split("000 twisted Twisted~(WSGIResource) 1093.40 gevent_none|" \
        "000 wsgiref wsgiref~(simple_server) 1610.80 gevent_none|" \
        "000 gevent_none gevent~WSGIServer(spawn=None) 2121.29 gevent_none|" \
        "000 ch10 kit~ch10~(on~evhttp) - gevent_none|" \
        "000 ch11 kit~ch11~(cooperative) - gevent_none|" \
        "000 nginx nginx~(the~ceiling) - gevent_none|" \
        "003 uvicorn uvicorn~(ASGI) 1351.95 gevent|" \
        "003 gevent gevent~pywsgi.WSGIServer 1556.17 gevent|" \
        "003 ch10 kit~ch10~(on~evhttp) - gevent|" \
        "003 ch11 kit~ch11~(cooperative) - gevent|" \
        "003 nginx nginx~(the~ceiling) - gevent|" \
        "004 ch10 kit~ch10~(gevent.wsgi~design) 3800 gevent|" \
        "004 gevent gevent~pywsgi 2400 gevent|" \
        "004 ch11 kit~ch11~(pywsgi~design) - gevent|" \
        "004 nginx nginx~(the~ceiling) - gevent", rows, "|")
    title["000"] = "Article 000 (NETWAYS): ab -r -c 1000 -t " secs " (the article: -t 30)"
    title["003"] = "Article 003 (juejin): ab -c 100 -n 1000"
    title["004"] = "Article 004 (pythonisito): ab -n 10000 -c 1000 (gevent.wsgi is gone: the kit'"'"'s ch10 has its design)"
    print "article,server,label,article_rps,rps,failed,article_vs,vs" > csv
    last = "none"
    fmt = "%-34s %9s %9s %7s %9s %9s\n"
    for (r = 1; r <= nrows; r++) {
        split(rows[r], f, " ")
        a = f[1]; s = f[2]; lab = f[3]; gsub(/~/, " ", lab)
        if (a != last) {
            printf "\n%s, medians of %s\n", title[a], repeat
            printf fmt, "server", "article", "here", "failed", "vs gevent", "vs gevent"
            printf fmt, "", "req/s", "req/s", "", "article", "here"
            last = a
        }
        ours = median(a SUBSEP s SUBSEP "rps")
        base = median(a SUBSEP f[5] SUBSEP "rps")
        art = f[4] == "-" ? "" : f[4]
        abase = ""
        for (q = 1; q <= nrows; q++) { split(rows[q], g, " "); if (g[1] == a && g[2] == f[5]) abase = g[4] }
        here[a, s] = ours; art_of[a, s] = art; lab_of[s] = lab
        fl = ((a, s) in ran) ? failed[a, s] + 0 : "-"
        if (!((a, s) in ran) && index(" " up " ", " " s " ") == 0) fl = "skipped"
        printf fmt, lab, art == "" ? "-" : num(art), num(ours), fl, x(art, abase), x(ours, base)
        printf "%s,%s,%s,%s,%s,%s,%s,%s\n", a, s, lab, art, ours, ((a, s) in ran) ? failed[a, s] + 0 : "", \
            (art == "" || abase == "") ? "" : art / abase, (ours == "" || base == "") ? "" : ours / base > csv
    }

    # All three side by side: one row per server.
    print "\nAll three (requests/s: the article / here; - where a server was not in that article or not run)"
    fmt = "%-34s %-17s %-17s %-17s\n"
    printf fmt, "server", "000 -c 1000 -t", "003 -c 100", "004 -c 1000"
    ns = split("twisted wsgiref gevent_none gevent uvicorn ch10 ch11 nginx", order, " ")
    for (i = 1; i <= ns; i++) {
        s = order[i]
        if (!(s in lab_of)) continue
        line = ""
        for (k = 1; k <= 3; k++) {
            a = k == 1 ? "000" : k == 2 ? "003" : "004"
            cell = ((a, s) in here) ? (art_of[a, s] == "" ? "-" : num(art_of[a, s])) " / " num(here[a, s]) : ""
            line = line sprintf(" %-17s", cell)
        }
        name = s == "gevent_none" ? "gevent WSGIServer(spawn=None)" : s == "gevent" ? "gevent pywsgi" : lab_of[s]
        printf "%-34s%s\n", name, line
    }
}' "$SAMPLES"

awk -F, -v secs="$SECS" -f "$HERE/articles-plot.awk" "$CSV" > "$SVG"
echo
echo "figures: $CSV"
echo "chart:   $SVG (open it in a browser)"

# articles-plot.awk - the chart of articles.sh, as hand-made SVG: no
# plotting library.  Reads articles.csv, prints an SVG with one panel per
# article: each server's requests/s as a multiple of gevent's in the same
# article, the article's figure (pale, dashed) beside this run's (solid).
# A multiple of the same peer can be compared across machines and years;
# the requests/s themselves cannot.
# Usage: awk -F, -v secs=S -f articles-plot.awk articles.csv > articles.svg
#   (S: the -t of article 000's run)
#
# CSV columns: article, server, label, article_rps, rps, failed,
# article_vs, vs (the last two: multiples of gevent in that article).

BEGIN {
    colour["twisted"] = "#8e6bb8"
    colour["wsgiref"] = "#8a8a8a"
    colour["gevent_none"] = "#2a7fc1"
    colour["gevent"] = "#2a7fc1"
    colour["uvicorn"] = "#d08a2e"
    colour["ch10"] = "#c0504d"
    colour["ch11"] = "#2f9a55"
    colour["nginx"] = "#555555"
    short["twisted"] = "Twisted"
    short["wsgiref"] = "wsgiref"
    short["gevent_none"] = "gevent"
    short["gevent"] = "gevent"
    short["uvicorn"] = "uvicorn"
    short["ch10"] = "kit ch10"
    short["ch11"] = "kit ch11"
    short["nginx"] = "nginx"
    heading["000"] = "000: ab -r -c 1000 -t " (secs != "" ? secs : "")
    heading["003"] = "003: ab -c 100 -n 1000"
    heading["004"] = "004: ab -n 10000 -c 1000"
    H = 300          # height of a plotting area
    TOP = 120        # its top edge
    W = 340          # width of a panel
}

NR > 1 {
    a = $1
    if (!(a in nserv)) articles[++narticles] = a
    i = ++nserv[a]
    server[a, i] = $2
    if ($7 != "") art[a, i] = $7 + 0
    if ($5 != "" && $8 != "") here[a, i] = $8 + 0
    rps[a, i] = $5
    failed[a, i] = $6
    if ($7 + 0 > max[a]) max[a] = $7 + 0
    if ($8 + 0 > max[a]) max[a] = $8 + 0
}

# A round step for about five grid lines up to max.
function step_for(m,    i, steps) {
    split("0.1 0.2 0.25 0.5 1 2 2.5 5 10 20 25 50 100 200 500", steps, " ")
    for (i = 1; i <= 15; i++)
        if (m / steps[i] <= 5)
            return steps[i]
    return 1000
}

function text(x, y, s, extra) {
    printf "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>\n", x, y, extra, s
}

function bar(x, y, w, h, fill, pale) {
    printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s/>\n", \
        x, y, w, h, fill, pale ? " fill-opacity=\"0.3\" stroke=\"" fill "\" stroke-dasharray=\"3 2\"" : ""
}

function multiple(v) { return sprintf(v < 10 ? "%.2fx" : "%.1fx", v) }

function panel(a, x0,    m, s, v, y, n, gw, bw, i, x, h, key) {
    m = max[a] > 0 ? max[a] / 0.85 : 1      # room above the bars for labels
    text(x0 - 40, TOP - 36, heading[a], "font-weight=\"bold\"")
    s = step_for(m)
    for (v = 0; v <= m * 1.0001; v += s) {
        y = TOP + H - v / m * H
        printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0, y, x0 + W, y
        text(x0 - 6, y + 4, v "x", "text-anchor=\"end\" font-size=\"11\" fill=\"#555\"")
    }
    # the line at 1x: gevent itself
    y = TOP + H - 1 / m * H
    printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#2a7fc1\" stroke-dasharray=\"6 3\"/>\n", x0, y, x0 + W, y
    printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0, TOP + H, x0 + W, TOP + H
    n = nserv[a]
    gw = W / n
    bw = gw * 0.8 / 2
    for (i = 1; i <= n; i++) {
        x = x0 + (i - 1) * gw + gw * 0.1
        key = a SUBSEP i
        if (key in art) {
            h = art[key] / m * H
            bar(x + 1, TOP + H - h, bw - 2, h, colour[server[key]], 1)
            text(x + bw / 2, TOP + H - h - 5, multiple(art[key]), "text-anchor=\"middle\" font-size=\"9\" fill=\"#555\"")
        }
        if (key in here) {
            h = here[key] / m * H
            bar(x + bw + 1, TOP + H - h, bw - 2, h, colour[server[key]], 0)
            text(x + bw * 1.5, TOP + H - h - 5, multiple(here[key]), "text-anchor=\"middle\" font-size=\"9\" font-weight=\"bold\"")
            if (failed[key] > 0)
                text(x + bw * 1.5, TOP + H - h - 17, failed[key] " failed", "text-anchor=\"middle\" font-size=\"10\" fill=\"#c00\"")
        } else                            # no bar: say why
            text(x + bw * 1.5 + 3, TOP + H - 8, rps[key] != "" ? "no gevent to compare" : "not run", \
                 "font-size=\"10\" fill=\"#999\" transform=\"rotate(-90 " (x + bw * 1.5 + 3) " " (TOP + H - 8) ")\"")
        text(x + bw, TOP + H + 16, short[server[key]], "text-anchor=\"middle\" font-size=\"11\"")
        if (rps[key] != "")
            text(x + bw, TOP + H + 30, sprintf("%.0f/s", rps[key]), "text-anchor=\"middle\" font-size=\"10\" fill=\"#555\"")
    }
}

END {
    width = 80 + narticles * (W + 70)
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"500\" viewBox=\"0 0 %d 500\" font-family=\"sans-serif\" font-size=\"13\">\n", width, width
    printf "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"500\" fill=\"white\"/>\n", width
    text(20, 26, "The articles' benchmarks, re-run: requests/s as a multiple of gevent's in the same article (higher is better)", "font-size=\"15\" font-weight=\"bold\"")
    bar(20, 36, 14, 14, "#777", 1)
    text(40, 48, "the article's figure", "")
    bar(190, 36, 14, 14, "#777", 0)
    text(210, 48, "this run (median)", "")
    text(350, 48, "dashed line: gevent = 1x; under each bar, this run's requests/s", "fill=\"#555\"")
    for (k = 1; k <= narticles; k++)
        panel(articles[k], 70 + (k - 1) * (W + 70))
    text(20, 474, "Every server answers hello world on 127.0.0.1, pinned to one CPU, ab on the other.  nginx is the ceiling: where the C servers tie with it, ab is the limit.", "font-size=\"11\" fill=\"#555\"")
    text(20, 490, "In 004, the article's figure for gevent.wsgi (on libevent's evhttp) stands beside kit ch10, which has its design.", "font-size=\"11\" fill=\"#555\"")
    print "</svg>"
}

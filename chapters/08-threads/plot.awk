# plot.awk - chapter 8's chart, as hand-made SVG: no plotting library.
# Reads chapter8.csv (written by experiment.sh), prints an SVG of two bar
# charts: the time each server took for its run, and the memory each
# connection costs while held open.
# Usage: awk -F, -f plot.awk chapter8.csv > chapter8.svg

BEGIN {
    colour["sequential"] = "#9a9a9a"
    colour["threads"] = "#e07b24"
    colour["greenlets"] = "#2f9a55"
    light["threads"] = "#f5c89c"
    light["greenlets"] = "#a9dcb9"
    label["sequential"] = "sequential"
    label["threads"] = "threads (a thread per connection)"
    label["greenlets"] = "greenlets (a greenlet per connection)"
    split("sequential threads greenlets", servers, " ")
    H = 280          # height of the plotting area
    TOP = 110        # its top edge
}

NR > 1 && $2 == "load" {
    key = $1 SUBSEP $3
    time[key] = $6 + 0; failed[key] = $8 + 0; requests[$3] = $4; backlog = $5
    if ($10 != "") {
        rss[key] = $10 > 0 ? $10 : 0
        kst[key] = $11 > 0 ? $11 : 0
    }
    if (!($3 in seen)) { seen[$3] = 1; clients[++ngroups] = $3 + 0 }
}

# A round step for about five grid lines up to max.
function step_for(max,    s, i, steps) {
    split("0.1 0.2 0.5 1 2 5 10 20 50 100 200 500", steps, " ")
    for (i = 1; i <= 12; i++)
        if (max / steps[i] <= 5)
            return steps[i]
    return 1000
}

function text(x, y, s, extra) {
    printf "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>\n", x, y, extra, s
}

function rect(x, y, w, h, fill) {
    printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", x, y, w, h, fill
}

# A panel's title, grid lines with their values, and group labels.
function panel(x0, w, title, unit, max,    s, v, y, g) {
    text(x0, TOP - 30, title, "font-weight=\"bold\"")
    s = step_for(max)
    for (v = 0; v <= max * 1.0001; v += s) {
        y = TOP + H - v / max * H
        printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0, y, x0 + w, y
        text(x0 - 6, y + 4, v unit, "text-anchor=\"end\" font-size=\"11\" fill=\"#555\"")
    }
    printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0, TOP + H, x0 + w, TOP + H
    for (g = 1; g <= ngroups; g++)
        text(x0 + (g - 0.5) * w / ngroups, TOP + H + 18, clients[g] " clients", "text-anchor=\"middle\" font-size=\"12\"")
}

function kib(v) { return v >= 10 ? sprintf("%.0f", v) : sprintf("%.1f", v) }

END {
    # the largest values, with room above the bars for their labels
    for (k in time) if (time[k] > tmax) tmax = time[k]
    for (k in rss) if (rss[k] + kst[k] > mmax) mmax = rss[k] + kst[k]
    tmax = tmax > 0 ? tmax / 0.85 : 1
    mmax = mmax > 0 ? mmax / 0.9 : 1
    W = 400
    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"460\" viewBox=\"0 0 960 460\" font-family=\"sans-serif\" font-size=\"13\">"
    rect(0, 0, 960, 460, "white")
    text(20, 28, "Chapter 8: a Hello World server whose handler sleeps 100 ms, on 127.0.0.1 (listen backlog " backlog ")", "font-size=\"15\" font-weight=\"bold\"")
    # legend
    lx = 20
    for (i = 1; i <= 3; i++) {
        rect(lx, 40, 14, 14, colour[servers[i]])
        text(lx + 20, 52, label[servers[i]], "")
        lx += servers[i] == "sequential" ? 110 : 270
    }
    rect(lx, 40, 14, 14, light["threads"])
    text(lx + 20, 52, "kernel stacks (not in RSS)", "")

    # left: time of the run
    x0 = 70
    panel(x0, W, "time for the run (lower is better)", " s", tmax)
    gw = W / ngroups
    for (g = 1; g <= ngroups; g++) {
        bw = gw * 0.8 / 3
        for (i = 1; i <= 3; i++) {
            key = servers[i] SUBSEP clients[g]
            if (!(key in time)) continue
            x = x0 + (g - 1) * gw + gw * 0.1 + (i - 1) * bw
            h = time[key] / tmax * H
            rect(x + 2, TOP + H - h, bw - 4, h, colour[servers[i]])
            text(x + bw / 2, TOP + H - h - 6, sprintf("%.2f", time[key]) " s", "text-anchor=\"middle\" font-size=\"11\"")
            if (failed[key] > 0)
                text(x + bw / 2, TOP + H - h - 20, failed[key] " failed", "text-anchor=\"middle\" font-size=\"11\" fill=\"#c00\"")
        }
        text(x0 + (g - 0.5) * gw, TOP + H + 32, requests[clients[g]] " requests", "text-anchor=\"middle\" font-size=\"11\" fill=\"#555\"")
    }

    # right: memory per connection held open
    x0 = 530
    panel(x0, W, "memory per connection held open", " KiB", mmax)
    for (g = 1; g <= ngroups; g++) {
        bw = gw * 0.8 / 2
        for (i = 2; i <= 3; i++) {
            key = servers[i] SUBSEP clients[g]
            if (!(key in rss)) continue
            x = x0 + (g - 1) * gw + gw * 0.1 + (i - 2) * bw
            h1 = rss[key] / mmax * H; h2 = kst[key] / mmax * H
            rect(x + 2, TOP + H - h1, bw - 4, h1, colour[servers[i]])
            rect(x + 2, TOP + H - h1 - h2, bw - 4, h2, light[servers[i]])
            text(x + bw / 2, TOP + H - h1 - h2 - 6, kib(rss[key] + kst[key]) " KiB", "text-anchor=\"middle\" font-size=\"11\"")
        }
    }
    text(20, 450, "Sequential clients give up after 2 s.  Memory: the server's VmRSS growth plus the growth of KernelStack in /proc/meminfo, per connection.", "font-size=\"11\" fill=\"#555\"")
    print "</svg>"
}

#!/bin/sh
# run.sh - run every benchmark several times, interleaved, and print the
# median of each figure, the ratios between peers, the targets and a table.
#
# usage: sh tests/bench/run.sh BINDIR [UCONTEXT_BINDIR]
#   BINDIR           switch, gen, spawn, memory on the asm back end
#   UCONTEXT_BINDIR  switch built on the ucontext back end (optional)
# environment (all optional):
#   BENCH_REPEAT=5           runs of each measurement (the median is quoted)
#   BENCH_GREENLETS=100000   sleeping greenlets in the memory benchmark
#   BENCH_PYTHON=/usr/bin/python3   the Python that has python3-greenlet and
#                            python3-gevent (Debian's, not a pyenv one)
#   BENCH_GEVENT_MEMORY_RUNS=3      runs of gevent's memory figure (0: skip;
#                            100,000 gevent greenlets take about 5 s a run)
#   BENCH_ONLY=switch        the switch figures alone (`make bench-switch`)
#
# Each program prints "sample: NAME VALUE UNIT" lines; this script collects
# them and prints "bench: NAME MEDIAN UNIT" once per figure, then
# "bench: A/B RATIO x" for each pair, "target: ..." for each target with
# PASS or MISS, and the table.  See tests/bench/README.md.
set -u

bin=${1:?usage: sh tests/bench/run.sh BINDIR [UCONTEXT_BINDIR]}
ucbin=${2:-}
here=$(dirname "$0")
repeat=${BENCH_REPEAT:-5}
greenlets=${BENCH_GREENLETS:-100000}
python=${BENCH_PYTHON:-/usr/bin/python3}
gevent_memory_runs=${BENCH_GEVENT_MEMORY_RUNS:-3}
only=${BENCH_ONLY:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
samples=$work/samples
notes=$work/notes
: > "$samples"
: > "$notes"
failures=0

# A run may not hang the bench: cut it off after a time limit.  With
# --foreground, Ctrl-C still reaches the program (memory restores
# vm.max_map_count on the way out).
if command -v timeout >/dev/null 2>&1; then
    limit() { seconds=$1; shift; timeout --foreground "$seconds" "$@"; }
else
    limit() { shift; "$@"; }
fi

# measure LABEL SECONDS COMMAND...: keep the command's "sample:" lines; print
# each other line the first time it is seen.
measure() {
    label=$1 seconds=$2
    shift 2
    limit "$seconds" "$@" > "$work/out" 2>&1
    status=$?
    grep '^sample: ' "$work/out" >> "$samples"
    grep -v '^sample: ' "$work/out" | while IFS= read -r line; do
        grep -Fxq -- "$line" "$notes" || { echo "$line"; echo "$line" >> "$notes"; }
    done
    if [ "$status" -ne 0 ]; then
        failures=$((failures + 1))
        if [ "$status" -eq 124 ]; then
            echo "bench: $label did not finish within $seconds s"
        else
            echo "bench: $label failed (exit status $status)"
        fi
    fi
}

peers=1
if ! [ -x "$python" ]; then
    echo "peers: $python not found: no Python figures (BENCH_PYTHON=... to name another)"
    peers=0
fi

echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1),"\
     "$(getconf _NPROCESSORS_ONLN) cores, $(uname -sr)"
echo "method: each figure is the median of $repeat runs; the programs take turns, so"\
     "that a noisy moment hits every figure alike"
start=$(date +%s)

run=1
while [ "$run" -le "$repeat" ]; do
    if [ "$only" = switch ]; then
        echo "run $run/$repeat: switch"
    else
        echo "run $run/$repeat: switch, generator, spawn+join, peers"
    fi
    measure "switch" 60 "$bin/switch" all
    if [ -n "$ucbin" ] && [ -x "$ucbin/switch" ]; then
        measure "switch (ucontext)" 60 "$ucbin/switch" kit
    fi
    if [ "$only" = switch ]; then
        run=$((run + 1))
        continue
    fi
    measure "gen" 30 "$bin/gen"
    measure "spawn" 60 "$bin/spawn"
    if [ "$peers" -eq 1 ]; then
        measure "peers.py quick" 60 "$python" "$here/peers.py" quick
    fi
    run=$((run + 1))
done

if [ "$only" != switch ]; then
    echo "memory: $greenlets sleeping greenlets (runs: $repeat)"
    measure "memory" 300 "$bin/memory" "$greenlets" "$repeat"
fi
if [ "$only" != switch ] && [ "$peers" -eq 1 ] && [ "$gevent_memory_runs" -gt 0 ]; then
    echo "memory: $greenlets sleeping gevent greenlets (runs: $gevent_memory_runs)"
    run=1
    while [ "$run" -le "$gevent_memory_runs" ]; do
        measure "peers.py memory" 120 "$python" "$here/peers.py" memory "$greenlets"
        run=$((run + 1))
    done
fi
echo "time: $(( $(date +%s) - start )) s"
echo

# Medians, ratios, targets and the table, from the samples.
awk -v greenlets="$greenlets" -v only="$only" '
function fmt(v, unit) {
    if (unit == "ns") return sprintf(v < 100 ? "%.1f" : "%.0f", v)
    if (unit == "/s" || unit == "MiB") return sprintf("%.0f", v)
    if (unit == "KiB") return sprintf("%.2f", v)
    if (unit == "x") return sprintf(v < 0.1 ? "%.3f" : (v < 10 ? "%.2f" : "%.1f"), v)
    return v
}
# BENCH_ONLY=switch: the rows about the switch alone (no Python peers).
function left_out(a, b) {
    return only == "switch" && (a !~ /^switch\./ || b !~ /^switch\./ || b == "switch.pygreenlet")
}
function shown(name) { return (name in med) ? fmt(med[name], unit[name]) " " unit[name] : "-" }
# "switch.asm" and "switch.baseline" make "switch.asm/baseline".
function ratio_name(a, b,    pa, pb) {
    pa = a; sub(/\..*/, "", pa)
    pb = b; sub(/\..*/, "", pb)
    if (pa == pb) sub(/^[^.]*\./, "", b)
    return a "/" b
}
$1 == "sample:" {
    if (!($2 in count)) { names[++nnames] = $2; unit[$2] = $4 }
    count[$2]++
    val[$2, count[$2]] = $3 + 0
}
$1 == "skip:" { skipped[$2] = 1 }
END {
    for (i = 1; i <= nnames; i++) {
        name = names[i]; n = count[name]
        for (j = 1; j <= n; j++) s[j] = val[name, j]
        for (j = 2; j <= n; j++)            # insertion sort: n is small
            for (k = j; k > 1 && s[k - 1] > s[k]; k--) { t = s[k]; s[k] = s[k - 1]; s[k - 1] = t }
        med[name] = n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
    }
    # The figures, grouped, in reading order; anything else after them.
    norder = split("switch.baseline switch.asm switch.boost switch.ucontext " \
          "switch.greenlet_asm switch.greenlet_ucontext switch.swapcontext " \
          "switch.baseline_ret switch.save switch.reload switch.reload_flag switch.keep " \
          "switch.keep_flag switch.cmp switch.cmp_round " \
          "switch.pygreenlet switch.hub switch.hub_traced gen.kit gen.python " \
          "spawn.kit spawn.gevent spawn.kit_one spawn.gevent_one " \
          "spawn.pygreenlet memory.kit memory.gevent " \
          "memory.kit_each memory.gevent_each memory.kit_pagetables " \
          "memory.gevent_pagetables", order, " ")
    for (i = 1; i <= norder; i++) listed[order[i]] = 1
    for (i = 1; i <= nnames; i++) if (!(names[i] in listed)) order[++norder] = names[i]
    for (i = 1; i <= norder; i++)
        if (order[i] in med)
            printf "bench: %s %s %s\n", order[i], fmt(med[order[i]], unit[order[i]]), unit[order[i]]

    # The table: label | kit figure | peer | ratio | target.  A target is
    # on the ratio (kind "r") or on the kit figure itself (kind "v").
    uc = ("switch.ucontext" in med) ? "switch.ucontext" : "switch.swapcontext"
    # 500 MiB for 100,000 greenlets: about one 4 KiB page of stack each
    memory_target = 500 * greenlets / 100000
    nrows = split("switch.asm switch.baseline r <= 2|" \
        "switch.asm switch.boost r <= 1|" \
        "switch.asm " uc " r < 0.1|" \
        "switch.boost switch.baseline - - -|" \
        "switch.greenlet_asm switch.baseline - - -|" \
        "switch.greenlet_asm switch.pygreenlet - - -|" \
        "switch.baseline_ret switch.baseline - - -|" \
        "switch.save switch.baseline - - -|" \
        "switch.reload switch.baseline - - -|" \
        "switch.reload_flag switch.baseline - - -|" \
        "switch.keep switch.baseline - - -|" \
        "switch.keep_flag switch.baseline - - -|" \
        "switch.cmp switch.baseline - - -|" \
        "switch.cmp_round switch.baseline - - -|" \
        "switch.ucontext switch.swapcontext - - -|" \
        "switch.hub switch.greenlet_asm - - -|" \
        "switch.hub_traced switch.hub - - -|" \
        "gen.kit gen.python - - -|" \
        "gen.kit switch.greenlet_asm - - -|" \
        "spawn.kit spawn.gevent v > 1000000|" \
        "spawn.kit_one spawn.gevent_one - - -|" \
        "spawn.kit_one spawn.pygreenlet - - -|" \
        "memory.kit memory.gevent v < " memory_target "|" \
        "memory.kit_each memory.gevent_each - - -", rows, "|")
    split("green_ctx_switch vs bare swap|green_ctx_switch vs boost.context|" \
          "green_ctx_switch vs ucontext|boost.context vs bare swap|" \
          "green_switch vs bare swap|green_switch vs Python greenlet|" \
          "bare swap leaving with ret|" \
          "FP modes saved, never reloaded (wrong)|" \
          "FP modes, always reloaded|" \
          "FP modes, always reloaded, a flag differs|" \
          "FP modes, always reloaded, own flags kept|" \
          "FP modes, always reloaded, kept, differ|" \
          "FP modes, reloaded if changed|" \
          "FP modes, reloaded if changed, differ|" \
          "ucontext back end vs swapcontext|" \
          "hub turn, sleep(0), vs green_switch|" \
          "hub turn, trace on vs off|" \
          "generator resume vs Python next()|generator resume vs green_switch|" \
          "spawn+join, 1000 at a time, vs gevent|" \
          "spawn+join, one at a time, vs gevent|" \
          "spawn+join, one at a time, vs greenlet|" \
          greenlets " sleeping greenlets vs gevent|" \
          "memory per sleeping greenlet", labels, "|")

    print ""
    for (r = 1; r <= nrows; r++) {
        split(rows[r], f, " ")
        a = f[1]; b = f[2]
        if ((a in med) && (b in med) && med[b] != 0) {
            ratio[r] = med[a] / med[b]
            printf "bench: %s %s x\n", ratio_name(a, b), fmt(ratio[r], "x")
        }
    }

    print ""
    met = 0; targets = 0
    for (r = 1; r <= nrows; r++) {
        split(rows[r], f, " ")
        if (f[3] == "-" || left_out(f[1], f[2])) continue
        targets++
        # (test with "in" before reading: reading an awk array creates the entry)
        if (f[3] == "r") { what = ratio_name(f[1], f[2]); have = (r in ratio); u = "x" }
        else { what = f[1]; have = (f[1] in med); u = unit[f[1]] }
        if (!have) { result[r] = "n/a"; printf "target: %s not measured\n", what; continue }
        v = (f[3] == "r") ? ratio[r] : med[f[1]]
        ok = (f[4] == "<") ? v < f[5] + 0 : (f[4] == "<=") ? v <= f[5] + 0 : v > f[5] + 0
        result[r] = ok ? "PASS" : "MISS"
        met += ok
        printf "target: %s %s %s, want %s %s: %s\n", what, fmt(v, u), u, f[4], f[5], result[r]
    }

    # The switch target is rows 1 and 2 together (issue 9): green_ctx_switch
    # at most twice the bare swap and no slower than boost.context.
    if (1 in result && 2 in result) {
        if (result[1] == "n/a" || result[2] == "n/a")
            verdict = "not measured" ((result[2] == "n/a" && ("switch.boost" in skipped)) ? \
                      " (boost.context: not installed, make deps-bench)" : "")
        else
            verdict = (result[1] == "PASS" && result[2] == "PASS") ? "PASS" : "MISS"
        printf "target: switch: green_ctx_switch <= 2 x bare swap and <= boost.context, same run (%s x, %s x): %s\n", \
            (1 in ratio) ? fmt(ratio[1], "x") : "-", (2 in ratio) ? fmt(ratio[2], "x") : "-", verdict
    }

    print ""
    fmtrow = "%-42s %-12s %-24s %-8s %-12s %s\n"
    printf fmtrow, "figure", "kit", "against", "ratio", "target", "result"
    for (r = 1; r <= nrows; r++) {
        split(rows[r], f, " ")
        a = f[1]; b = f[2]
        if ((!(a in med) && !(b in med)) || left_out(a, b)) continue
        peer = b; sub(/^[^.]*\./, "", peer)
        against = (b in med) ? peer " " shown(b) : peer ((b in skipped) ? " not installed" : " -")
        target = (f[3] == "-") ? "" : f[4] " " f[5] (f[3] == "r" ? " x" : " " unit[a])
        printf fmtrow, labels[r], shown(a), against, \
            (r in ratio) ? fmt(ratio[r], "x") " x" : "-", target, (r in result) ? result[r] : ""
    }
    printf "\ntargets: %d of %d met\n", met, targets
}' "$samples" "$notes" | sed 's/[[:space:]]*$//'

if [ "$failures" -ne 0 ]; then
    echo "bench: $failures run(s) failed; see the messages above"
    exit 1
fi

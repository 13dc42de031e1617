#!/usr/bin/python3
"""peers.py - the kit's benchmarks, measured on Python's greenlet and gevent.

usage: /usr/bin/python3 peers.py quick       switch, generator, spawn+join
       /usr/bin/python3 peers.py memory N    N gevent greenlets asleep at once

Run it with Debian's /usr/bin/python3, where python3-greenlet and
python3-gevent install.  Prints "sample: NAME VALUE UNIT" lines in the
format of the C programs, so that run.sh pairs them with the kit's figures,
and "skip: NAME why" for a peer that is not installed.  Each timed figure is
the best of four trials of at least 20 ms (spawn: 0.1 s), like the C side.
"""
import collections
import itertools
import os
import sys
import time

BATCH = 1000  # greenlets per spawn+join batch, as in spawn.c


def best_time(work, min_seconds=0.02):
    """Grow n until work(n) lasts min_seconds; return (n, best of 4 times)."""
    n = 1000
    while True:
        t0 = time.perf_counter()
        work(n)
        best = time.perf_counter() - t0
        if best >= min_seconds:
            break
        n *= 2
    for _ in range(3):
        t0 = time.perf_counter()
        work(n)
        best = min(best, time.perf_counter() - t0)
    return n, best


def sample(name, value, unit):
    print(f"sample: {name} {value:.3f} {unit}", flush=True)


def generator_resume():
    """next() on a generator; islice+deque drive it from C, without a
    Python-level loop around each call."""
    def counter():
        i = 0
        while True:
            yield i
            i += 1
    gen = counter()

    def work(n):
        collections.deque(itertools.islice(gen, n), maxlen=0)
    n, t = best_time(work)
    sample("gen.python", t * 1e9 / n, "ns")


def greenlet_figures():
    try:
        from greenlet import greenlet, getcurrent
    except ImportError:
        for name in ("switch.pygreenlet", "spawn.pygreenlet"):
            print(f"skip: {name} python3-greenlet is not installed (make deps-bench)")
        return
    main = getcurrent()

    def partner():
        while True:
            main.switch()
    other = greenlet(partner)

    def ping_pong(n):
        switch = other.switch
        for _ in range(n):
            switch()
    n, t = best_time(ping_pong)
    sample("switch.pygreenlet", t * 1e9 / (2 * n), "ns")

    def nothing():
        return None

    def create_run(n):  # greenlet has no hub: start each and let it finish
        for _ in range(n):
            greenlet(nothing).switch()
    n, t = best_time(create_run, 0.1)
    sample("spawn.pygreenlet", n / t, "/s")


def gevent_figures():
    try:
        import gevent
    except ImportError:
        for name in ("spawn.gevent", "spawn.gevent_one"):
            print(f"skip: {name} python3-gevent is not installed (make deps-bench)")
        return

    def nothing():
        return None

    def rate(size):
        """Greenlets a second, spawned and joined `size` at a time."""
        def spawn_join(batches):
            for _ in range(batches):
                gevent.joinall([gevent.spawn(nothing) for _ in range(size)])
        spawn_join(1)  # the hub and its loop start on first use
        batches = 1
        while True:
            t0 = time.perf_counter()
            spawn_join(batches)
            best = time.perf_counter() - t0
            if best >= 0.1:
                break
            batches *= 2
        for _ in range(3):
            t0 = time.perf_counter()
            spawn_join(batches)
            best = min(best, time.perf_counter() - t0)
        return batches * size / best
    sample("spawn.gevent", rate(BATCH), "/s")
    sample("spawn.gevent_one", rate(1), "/s")


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return -1


def gevent_memory(n):
    try:
        import gevent
    except ImportError:
        for name in ("memory.gevent", "memory.gevent_each"):
            print(f"skip: {name} python3-gevent is not installed (make deps-bench)")
        return
    gevent.sleep(0)  # start the hub before the first reading
    rss0, pte0 = status_kib("VmRSS:"), status_kib("VmPTE:")
    t0 = time.perf_counter()
    sleepers = [gevent.spawn(gevent.sleep, 3600) for _ in range(n)]
    gevent.sleep(0)  # each runs up to its own sleep
    if not all(g.started and not g.dead for g in sleepers):
        print("peers: some gevent greenlets are not asleep", file=sys.stderr)
        sys.exit(1)
    seconds = time.perf_counter() - t0
    rss1, pte1 = status_kib("VmRSS:"), status_kib("VmPTE:")
    each = (rss1 - rss0) / n
    print(f"memory: {n} gevent greenlets asleep after {seconds:.2f} s: "
          f"VmRSS {rss0} -> {rss1} KiB, page tables {pte0} -> {pte1} KiB")
    sample("memory.gevent", each * n / 1024, "MiB")
    sample("memory.gevent_each", each, "KiB")
    sample("memory.gevent_pagetables", (pte1 - pte0) / n, "KiB")
    sys.stdout.flush()


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "quick"
    if what == "quick":
        generator_resume()
        greenlet_figures()
        gevent_figures()
    elif what == "memory":
        gevent_memory(int(sys.argv[2]) if len(sys.argv) > 2 else 100000)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
    # Leave at once: tearing down 100,000 sleeping greenlets is not the point.
    sys.stdout.flush()
    os._exit(0)

/*
 * spawn.c - how many greenlets a second can be spawned and joined.
 *
 * The pattern of a server that starts a greenlet per request: spawn a batch
 * of greenlets that each return at once, join them all, free them, again
 * and again.  Each greenlet costs a stack, a first switch in, a return to
 * the hub and a wake-up of the joiner.  Two batch sizes:
 *   spawn.kit      1000 at a time: a burst of concurrent requests; more
 *                  stacks are in use at once than a small cache of free
 *                  stacks holds;
 *   spawn.kit_one  one at a time: spawn, join, free; the best case.
 * gevent does the same in peers.py (spawn.gevent, spawn.gevent_one).  Each
 * figure is the best of four trials of at least 0.1 s.
 *
 * Prints "sample: spawn.kit VALUE /s" and "sample: spawn.kit_one VALUE /s".
 */
#include "green.h"

#include <stdio.h>
#include <time.h>

#define BATCH 1000 /* the most greenlets alive at once */
#define TRIAL_SECONDS 0.1

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *echo(void *arg)
{
    return arg;
}

/* Spawn `size` greenlets, join them all, free them; `batches` times over.
 * 0 on any failure. */
static int spawn_join(long batches, long size)
{
    static green_t *gs[BATCH];
    for (long b = 0; b < batches; b++) {
        for (long i = 0; i < size; i++)
            if (!(gs[i] = green_spawn(echo, (void *)i))) {
                perror("spawn: green_spawn");
                return 0;
            }
        if (green_joinall(gs, size, GREEN_FOREVER) != 0) {
            perror("spawn: green_joinall");
            return 0;
        }
        for (long i = 0; i < size; i++) {
            if (green_result(gs[i]) != (void *)i) {
                fprintf(stderr, "spawn: greenlet %ld returned the wrong "
                        "value\n", i);
                return 0;
            }
            green_free(gs[i]);
        }
    }
    return 1;
}

/* Greenlets per second, spawned and joined `size` at a time; -1 on failure. */
static double rate(long size)
{
    long batches = 1;
    double best;
    for (;;) {
        double t0 = now();
        if (!spawn_join(batches, size))
            return -1;
        best = now() - t0;
        if (best >= TRIAL_SECONDS)
            break;
        batches *= 2;
    }
    for (int i = 0; i < 3; i++) {
        double t0 = now();
        if (!spawn_join(batches, size))
            return -1;
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return batches * size / best;
}

int main(void)
{
    double burst = rate(BATCH);
    if (burst < 0)
        return 1;
    printf("sample: spawn.kit %.0f /s\n", burst);
    double one = rate(1);
    if (one < 0)
        return 1;
    printf("sample: spawn.kit_one %.0f /s\n", one);
    green_hub_destroy();
    return 0;
}

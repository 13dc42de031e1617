/*
 * gen.c - what resuming a stackless generator costs.
 *
 * A counter generator (gen.h) yields 0, 1, 2, ... forever; we time many
 * green_gen_next() calls and divide.  A resume is an ordinary function call
 * plus a `switch` jump to the line after the last yield: no stack to change,
 * no registers to save.  Compare it with switch.greenlet_asm (a stackful
 * switch) and with gen.python (next() on a Python generator, from peers.py).
 * The figure is the best of four trials of at least 20 ms.
 *
 * Prints "sample: gen.kit VALUE ns".
 */
#include "green.h"

#include <stdio.h>
#include <time.h>

#define TRIAL_SECONDS 0.02

struct counter {
    green_gen_t gen;
    long i;
};

static int counter_step(green_gen_t *g)
{
    struct counter *c = (struct counter *)g;
    GREEN_GEN_BEGIN(g);
    for (c->i = 0;; c->i++)
        GREEN_GEN_YIELD(g, &c->i);
    GREEN_GEN_END(g);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Resume the generator n times; 0 if it ever failed to yield. */
static int resume(struct counter *c, long n)
{
    void *value;
    for (long i = 0; i < n; i++)
        if (!green_gen_next(&c->gen, &value))
            return 0;
    return 1;
}

int main(void)
{
    struct counter c;
    green_gen_init(&c.gen, counter_step);

    long n = 1000;
    double best;
    for (;;) {
        double t0 = now();
        if (!resume(&c, n)) {
            fprintf(stderr, "gen: the counter stopped yielding\n");
            return 1;
        }
        best = now() - t0;
        if (best >= TRIAL_SECONDS)
            break;
        n *= 2;
    }
    for (int i = 0; i < 3; i++) {
        double t0 = now();
        resume(&c, n);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("sample: gen.kit %.3f ns\n", best * 1e9 / n);
    return 0;
}

/*
 * switchcost.c - what one green_switch costs.
 *
 * main and a greenlet bounce control back and forth N times (2N switches)
 * and we divide the time by the number of switches.  make chapter2 runs it
 * twice: with the assembly switch and with the ucontext back end, whose
 * swapcontext() makes a system call on every switch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "green.h"

static void *bouncer(void *arg)
{
    (void)arg;
    green_t *parent = green_parent(green_current());
    for (;;)
        green_switch(parent, NULL);
    return NULL;    /* never reached */
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    green_t *g = green_new(bouncer, 0);

    green_switch(g, NULL);              /* start it, outside the timed loop */
    double t0 = now();
    for (long i = 0; i < n; i++)
        green_switch(g, NULL);          /* there and back: two switches */
    double elapsed = now() - t0;

    printf("%-8s back end: %ld round trips in %.3f s: %.1f ns per switch\n",
           green_ctx_backend(), n, elapsed, elapsed * 1e9 / (2.0 * n));
    green_free(g);
    return 0;
}

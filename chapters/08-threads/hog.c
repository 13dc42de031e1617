/*
 * hog.c - the price of cooperation.  A thread is preempted: the kernel
 * takes the processor back whenever it likes.  A greenlet is not: it runs
 * until it waits.  One greenlet that computes without waiting stalls every
 * other greenlet of its hub, and the blocking detector
 * (green_monitor_start, lib/03-hub/hub.h) names it.
 *
 * A ticker sleeps 0.05 s ten times and notes how late it wakes, while a
 * hog counts primes: first without ever yielding, then politely, with a
 * green_sleep(0) every 100 numbers.
 */
#include <stdio.h>

#include "green.h"

#define LIMIT 1000000
#define TICKS 10

static int is_prime(long n)
{
    if (n < 2)
        return 0;
    for (long d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

/* Count the primes below LIMIT; yield every `every` numbers (0: never). */
static void *hog(void *arg)
{
    long every = *(long *)arg, count = 0, yields = 0;
    double start = green_now();
    for (long n = 0; n < LIMIT; n++) {
        count += is_prime(n);
        if (every > 0 && (n + 1) % every == 0 && green_sleep(0) == 0)
            yields++;                     /* the others get a turn */
    }
    printf("hog: %ld primes below %d in %.2f s, yielded %ld times\n",
           count, LIMIT, green_now() - start, yields);
    return NULL;
}

static void *ticker(void *unused)
{
    (void)unused;
    double worst = 0;
    for (int i = 0; i < TICKS; i++) {
        double asked = green_now() + 0.05;
        green_sleep(0.05);
        double late = green_now() - asked;
        if (late > worst)
            worst = late;
    }
    printf("ticker: %d sleeps of 0.05 s, the latest woke %.3f s late\n", TICKS, worst);
    return NULL;
}

static void race(long every)
{
    green_t *g[2] = { green_spawn(ticker, NULL), green_spawn(hog, &every) };
    green_set_name(g[0], "ticker");
    green_set_name(g[1], "hog");
    green_joinall(g, 2, GREEN_FOREVER);
    green_free(g[0]);
    green_free(g[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* keep in step with stderr's reports */
    green_monitor_start(0.1);           /* complain after 0.1 s without a switch */

    printf("1. the hog never yields\n");
    race(0);
    printf("2. the hog yields every 100 numbers (green_sleep(0))\n");
    race(100);

    green_monitor_stop();
    green_hub_destroy();
    return 0;
}

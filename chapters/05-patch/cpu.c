/*
 * cpu.c - what the patch cannot green: a loop that computes.
 *
 * A ticker wants to tick every 0.1 s (plain usleep, greened by the patch).
 * From 0.25 s on, a cruncher computes for 0.5 s without calling anything
 * the patch replaces: nothing can take the thread from it, so the ticker
 * falls silent until it is done.  The hub's blocking detector
 * (green_monitor_start) names the culprit.  Then the polite cruncher does
 * the same work but calls usleep(0), a yield, every millisecond.
 */
#include <stdio.h>
#include <unistd.h>

#include "green.h"

static double start;
static volatile unsigned long work;   /* volatile: the loop cannot be skipped */

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 8; i++) {
        usleep(100000);
        printf("tick %d at %.2f s\n", i, green_now() - start);
    }
    return NULL;
}

/* Compute for `seconds`; when polite, offer the others a turn every millisecond. */
static void crunch(double seconds, int polite)
{
    double t0 = green_now(), last_yield = t0;
    while (green_now() - t0 < seconds) {
        for (int i = 0; i < 10000; i++)
            work += (unsigned long)i * (unsigned long)i;
        if (polite && green_now() - last_yield > 0.001) {
            usleep(0);                   /* gevent.sleep(0): let the others run */
            last_yield = green_now();
        }
    }
}

static void *cruncher(void *arg)
{
    int polite = arg != NULL;
    green_set_name(green_current(), polite ? "polite cruncher" : "cruncher");
    printf("%s: computing for 0.5 s from %.2f s\n", polite ? "polite cruncher" : "cruncher",
           green_now() - start);
    crunch(0.5, polite);
    printf("%s: done at %.2f s\n", polite ? "polite cruncher" : "cruncher",
           green_now() - start);
    return NULL;
}

static void run(int polite)
{
    start = green_now();
    green_t *t = green_spawn(ticker, NULL);
    green_t *c = green_spawn_later(0.25, cruncher, polite ? "polite" : NULL);
    green_join(t, GREEN_FOREVER);
    green_join(c, GREEN_FOREVER);
    green_free(t);
    green_free(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);    /* lines in order with stderr's */
    green_monitor_start(0.2);
    run(0);
    printf("--\n");
    run(1);
    green_monitor_stop();
    green_hub_destroy();
    return 0;
}

/*
 * sleepers.c - article 003 section 1.4 in C: monkey.patch_all().
 *
 * Three tasks print five lines each and sleep 0.1 s after each line, with
 * plain usleep(): this file knows nothing about greenlets but how to spawn
 * them.  Run as it is, each usleep() blocks the whole thread: the tasks run
 * one after the other, 1.5 s.  Run with the patch (LD_PRELOAD, or linked
 * with -Wl,--wrap), usleep() is green_sleep(): 0.5 s, interleaved.
 */
#include <stdio.h>
#include <unistd.h>

#include "green.h"

struct task { const char *name; int n; };

/* def task01(n): for i in range(n): print("task01", i); time.sleep(0.1) */
static void *task(void *arg)
{
    struct task *t = arg;
    for (int i = 0; i < t->n; i++) {
        printf("%s %d\n", t->name, i);
        usleep(100000);      /* time.sleep(0.1): plain libc */
    }
    return NULL;
}

int main(void)
{
    struct task ts[3] = { { "task01", 5 }, { "task02", 5 }, { "task03", 5 } };
    green_t *gs[3];
    double start = green_now();

    /* gevent.joinall([gevent.spawn(task01, 5), ...]) */
    for (int i = 0; i < 3; i++)
        gs[i] = green_spawn(task, &ts[i]);
    green_joinall(gs, 3, GREEN_FOREVER);

    double took = green_now() - start;
    printf("15 sleeps of 0.1 s in %.2f s: %s\n", took,
           took < 1.0 ? "they overlapped" : "one after the other");

    for (int i = 0; i < 3; i++)
        green_free(gs[i]);
    green_hub_destroy();
    return 0;
}

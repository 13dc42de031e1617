/*
 * pool.c - a Pool bounds concurrency.  A burst of 12 jobs that take 0.1 s
 * each (think: requests to a backend that can serve 4 at a time).  A Group
 * starts them all at once; a Pool of 4 runs 4 at a time, and the spawner
 * waits for a free slot:
 *
 *     pool = gevent.pool.Pool(4)
 *     for i in range(12):
 *         pool.spawn(job, i)       # waits while 4 are running
 *     pool.join()
 */
#include <stdint.h>
#include <stdio.h>

#include "green.h"
#include "pool.h"

enum { JOBS = 12, SIZE = 4 };
static int running, most;
static double t0;
static int verbose;

static void *job(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (++running > most)
        most = running;
    if (verbose)
        printf("  %.2f s  job %2d starts, %d running\n", green_now() - t0, i, running);
    green_sleep(0.1);            /* the work: waiting for the backend */
    running--;
    return NULL;
}

int main(void)
{
    printf("Group: %d jobs of 0.1 s, no limit\n", JOBS);
    green_group_t *group = green_group_new();
    t0 = green_now();
    for (int i = 0; i < JOBS; i++)
        green_group_spawn(group, job, (void *)(intptr_t)i);
    green_group_join(group, GREEN_FOREVER);
    printf("  at most %d running at once, all done in %.2f s\n\n", most, green_now() - t0);
    green_group_free(group);

    printf("Pool of %d: the same %d jobs\n", SIZE, JOBS);
    green_pool_t *pool = green_pool_new(SIZE);
    running = most = 0;
    verbose = 1;
    t0 = green_now();
    for (int i = 0; i < JOBS; i++) {
        double before = green_now();
        green_pool_spawn(pool, job, (void *)(intptr_t)i);   /* may wait */
        if (green_now() - before > 0.01)
            printf("  %.2f s  main waited %.2f s for a free slot, spawned job %d\n",
                   green_now() - t0, green_now() - before, i);
    }
    green_pool_join(pool, GREEN_FOREVER);
    printf("  at most %d running at once, all done in %.2f s\n", most, green_now() - t0);
    green_pool_free(pool);
    green_hub_destroy();
    return 0;
}

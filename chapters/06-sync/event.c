/*
 * event.c - one green_event_set() wakes every waiter, as gevent's
 * Event.set() does.  Three runners wait for the starting gun; a fourth is
 * impatient and gives up after 0.05 s (ETIMEDOUT).  At 0.1 s main fires:
 * the three wake together, in the order they began to wait.  Once set, the
 * event lets everyone through at once, until it is cleared.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "sync.h"

static double start;

static double now(void) { return green_now() - start; }

struct runner { const char *name; double patience; green_event_t *gun; };

static void *run(void *arg)
{
    struct runner *r = arg;
    printf("[%.2f] %s: on the line, waiting for the gun\n", now(), r->name);
    if (green_event_wait(r->gun, r->patience) < 0) {
        printf("[%.2f] %s: gave up waiting: %s\n", now(), r->name, strerror(errno));
        return NULL;
    }
    printf("[%.2f] %s: running!\n", now(), r->name);
    return NULL;
}

int main(void)
{
    green_event_t *gun = green_event_new();
    struct runner runners[] = {
        { "runner 1", GREEN_FOREVER, gun },
        { "runner 2", GREEN_FOREVER, gun },
        { "impatient", 0.05, gun },
        { "runner 3", GREEN_FOREVER, gun },
    };
    enum { N = sizeof runners / sizeof runners[0] };
    green_t *g[N];
    start = green_now();

    for (int i = 0; i < N; i++)
        g[i] = green_spawn(run, &runners[i]);
    green_sleep(0.1);
    printf("[%.2f] main: bang!\n", now());
    green_event_set(gun);                      /* wakes all three */
    green_joinall(g, N, GREEN_FOREVER);

    int rc = green_event_wait(gun, 0);         /* set: returns at once */
    printf("[%.2f] main: a late runner does not wait: green_event_wait = %d\n", now(), rc);
    green_event_clear(gun);
    printf("[%.2f] main: after clear, is_set = %d\n", now(), green_event_is_set(gun));

    for (int i = 0; i < N; i++)
        green_free(g[i]);
    green_event_free(gun);
    green_hub_destroy();
    return 0;
}

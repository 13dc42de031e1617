/*
 * monitor.c - layer 4: the blocking detector.  See green_monitor_start in
 * hub.h.  A watchdog thread beside the hub's thread: the hub ticks a
 * counter at every switch (green_monitor_note, called from hub.c), and the
 * watchdog complains when the counter stops moving while a greenlet runs.
 */
#include "internal.h"
#include "hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct timespec to_timespec(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    return ts;
}

/* The blocking detector's view of the hub, shared with its thread: a tick
 * per switch, and who runs now (NULL while the hub itself runs).  Two
 * relaxed atomic stores per switch, and only while a monitor is on. */
struct monitor {
    pthread_t thread;
    double threshold;
    atomic_ulong ticks;
    _Atomic(green_t *) running;
    atomic_int stop;
};
static struct monitor *monitor;
int green_monitor_on;

void green_monitor_note(green_t *g)
{
    atomic_store_explicit(&monitor->running, g, memory_order_relaxed);
    atomic_fetch_add_explicit(&monitor->ticks, 1, memory_order_release);
}

/* The watchdog: if the tick has not moved for `threshold` while a greenlet
 * runs, that greenlet has not yielded; say so once per stall.  Reading its
 * name is safe: a greenlet that holds the loop cannot die meanwhile, and
 * the tick is checked again after the read. */
static void *monitor_main(void *arg)
{
    struct monitor *m = arg;
    unsigned long seen = atomic_load(&m->ticks);
    double since = green_now();
    int reported = 0;
    struct timespec nap = to_timespec(m->threshold / 4);
    while (!atomic_load(&m->stop)) {
        nanosleep(&nap, NULL);
        unsigned long now_ticks = atomic_load_explicit(&m->ticks, memory_order_acquire);
        green_t *g = atomic_load_explicit(&m->running, memory_order_relaxed);
        if (now_ticks != seen) {
            seen = now_ticks;
            since = green_now();
            reported = 0;
            continue;
        }
        double held = green_now() - since;
        if (g == NULL || reported || held < m->threshold)
            continue;
        char name[sizeof g->name];
        memcpy(name, g->name, sizeof name);
        name[sizeof name - 1] = '\0';
        if (atomic_load(&m->ticks) != seen)
            continue;
        fprintf(stderr, "green: greenlet '%s' has held the loop for %.2f s "
                        "without yielding\n", name, held);
        reported = 1;
    }
    return NULL;
}

int green_monitor_start(double threshold)
{
    if (monitor) {
        errno = EBUSY;
        return -1;
    }
    struct monitor *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -1;
    m->threshold = threshold > 0.001 ? threshold : 0.001;
    monitor = m;
    green_monitor_on = 1;
    int rc = pthread_create(&m->thread, NULL, monitor_main, m);
    if (rc != 0) {
        green_monitor_on = 0;
        monitor = NULL;
        free(m);
        errno = rc;
        return -1;
    }
    return 0;
}

void green_monitor_stop(void)
{
    struct monitor *m = monitor;
    if (m == NULL)
        return;
    green_monitor_on = 0;
    atomic_store(&m->stop, 1);
    pthread_join(m->thread, NULL);
    monitor = NULL;
    free(m);
}

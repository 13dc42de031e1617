/*
 * monitor.c - the blocking detector (chapter 3).  See green_monitor_start
 * in hub.h.  A watchdog thread beside the hub's thread: the hub's observer
 * (green_hub_observe) ticks a counter at every switch, and the watchdog
 * complains when the counter stops moving while a greenlet runs.  The hub
 * knows nothing of it; each hub has its own, so two threads never share a
 * counter.
 */
#include "hub.h"
#include "dump.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct timespec to_timespec(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    return ts;
}

static void print_report(void *arg, const char *name, double held);

/* The blocking detector's view of one hub, shared with its thread: a tick
 * per switch, and who runs now (NULL while the hub itself runs).  Two
 * relaxed atomic stores per switch, and only while a monitor is on. */
struct monitor {
    pthread_t thread;
    double threshold;
    green_monitor_fn_t report;  /* on the watchdog's thread */
    void *arg;
    pid_t hub_thread;           /* whose hub it watches, for its dump */
    atomic_ulong ticks;
    _Atomic(green_t *) running;
    atomic_int stop;
};
/* The calling thread's watchdog, for green_monitor_stop: one per hub, and
 * a hub per thread. */
static _Thread_local struct monitor *monitor;

/* The hub's observer: called by the hub before it resumes g, and with
 * NULL when g hands control back. */
static void note_switch(void *arg, green_t *g)
{
    struct monitor *m = arg;
    atomic_store_explicit(&m->running, g, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->ticks, 1, memory_order_release);
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
        char name[32];      /* a name keeps 31 characters (greenlet.h) */
        snprintf(name, sizeof name, "%.31s", green_name(g));
        if (atomic_load(&m->ticks) != seen)
            continue;
        m->report(m->arg, name, held);
        /* Our own report goes on with the stalled hub's dump: the hog's
         * backtrace says where to add a green_sleep(0).  green_dump stops
         * the hub's thread with SIGQUIT to read it (report.c). */
        if (m->report == print_report)
            green__dump_thread(m->hub_thread, STDERR_FILENO);
        reported = 1;
    }
    return NULL;
}

/* The report of green_monitor_start: one line on stderr (then the dump of
 * the hub, from monitor_main). */
static void print_report(void *arg, const char *name, double held)
{
    (void)arg;
    fprintf(stderr, "green: greenlet '%s' has held the loop for %.2f s "
                    "without yielding\n", name, held);
}

int green_monitor_start(double threshold)
{
    return green_monitor_start_with(threshold, print_report, NULL);
}

int green_monitor_start_with(double threshold, green_monitor_fn_t report, void *arg)
{
    if (monitor) {
        errno = EBUSY;
        return -1;
    }
    struct monitor *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -1;
    m->threshold = threshold > 0.001 ? threshold : 0.001;
    m->report = report ? report : print_report;
    m->arg = arg;
    m->hub_thread = (pid_t)syscall(SYS_gettid);
    if (green_hub_observe(note_switch, m) != 0) {
        free(m);
        return -1;
    }
    int rc = pthread_create(&m->thread, NULL, monitor_main, m);
    if (rc != 0) {
        green_hub_observe(NULL, NULL);
        free(m);
        errno = rc;
        return -1;
    }
    monitor = m;
    return 0;
}

void green_monitor_stop(void)
{
    struct monitor *m = monitor;
    if (m == NULL)
        return;
    if (green_hub_active())     /* not after green_hub_destroy: no new hub */
        green_hub_observe(NULL, NULL);
    atomic_store(&m->stop, 1);
    pthread_join(m->thread, NULL);
    monitor = NULL;
    free(m);
}

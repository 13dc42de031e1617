/* heartbeat.c - exercise 12-prefork/heartbeat.  Read heartbeat.h first. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "heartbeat.h"

int ex_beat(int fd)
{
    /* TODO: futimens.  Until then: -1 with errno ENOSYS ("not
     * implemented"). */
    (void)fd;
    errno = ENOSYS;
    return -1;
}

double ex_last_beat(int fd)
{
    /* TODO: fstat, st_mtim. */
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int ex_check_heartbeats(ex_hb_worker_t *w, int n, double now, double timeout,
                        ex_say_fn say, void *arg)
{
    /* TODO: for each silent worker: "timed out" and SIGABRT; after
     * EX_ABORT_GRACE, SIGKILL. */
    (void)w;
    (void)n;
    (void)now;
    (void)timeout;
    (void)say;
    (void)arg;
    errno = ENOSYS;
    return -1;
}

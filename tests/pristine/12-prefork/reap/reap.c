/* reap.c - exercise 12-prefork/reap.  Read reap.h first. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "reap.h"

double ex_backoff(int fast_deaths)
{
    /* TODO: 0 below EX_BACKOFF_AFTER, then EX_BACKOFF_FIRST doubled at
     * each death, at most EX_BACKOFF_MAX.  Until then: -1 with errno
     * ENOSYS ("not implemented"). */
    (void)fast_deaths;
    errno = ENOSYS;
    return -1;
}

int ex_reap(ex_master_t *m, double now)
{
    /* TODO: waitpid(-1, &status, WNOHANG) until nothing is left; free each
     * slot, count the fast deaths, set next_spawn, say one line... */
    (void)m;
    (void)now;
    errno = ENOSYS;
    return -1;
}

int ex_respawn(ex_master_t *m, double now)
{
    /* TODO: not before next_spawn; m->spawn(m->arg) into each free slot
     * up to m->target, one at a time while backing off. */
    (void)m;
    (void)now;
    errno = ENOSYS;
    return -1;
}

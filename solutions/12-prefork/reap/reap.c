/* reap.c - solution of exercise 12-prefork/reap.  See reap.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "reap.h"

double ex_backoff(int fast_deaths)
{
    if (fast_deaths < EX_BACKOFF_AFTER)
        return 0;
    double wait = EX_BACKOFF_FIRST;
    /* Doubling stops at the cap, so the loop is short for any n. */
    for (int i = EX_BACKOFF_AFTER; i < fast_deaths && wait < EX_BACKOFF_MAX; i++)
        wait *= 2;
    return wait > EX_BACKOFF_MAX ? EX_BACKOFF_MAX : wait;
}

static ex_worker_t *find(ex_master_t *m, pid_t pid)
{
    for (int i = 0; i < EX_MAX_WORKERS; i++)
        if (m->w[i].pid == pid)
            return &m->w[i];
    return NULL;
}

/* One worker of the table died with `status`: count it, and say so. */
static void died(ex_master_t *m, ex_worker_t *w, int status, double now)
{
    if (now - w->born < EX_FAST_DEATH) {
        m->fast_deaths++;
    } else {
        m->fast_deaths = 0;     /* it had started: a later death is news */
        m->said_backoff = 0;
    }
    char line[160];
    double wait = ex_backoff(m->fast_deaths);
    if (wait > 0) {
        m->next_spawn = now + wait;
        if (!m->said_backoff) {
            snprintf(line, sizeof line, "workers keep dying within %.0f s of starting: "
                     "restarting them with a back-off, up to %.0f s",
                     EX_FAST_DEATH, EX_BACKOFF_MAX);
            m->say(line, m->arg);
        }
        m->said_backoff = 1;
    } else if (WIFSIGNALED(status)) {
        snprintf(line, sizeof line, "worker %ld killed by signal %d (%s); starting another",
                 (long)w->pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
        m->say(line, m->arg);
    } else {
        snprintf(line, sizeof line, "worker %ld exited with status %d; starting another",
                 (long)w->pid, WEXITSTATUS(status));
        m->say(line, m->arg);
    }
    w->pid = 0;
}

int ex_reap(ex_master_t *m, double now)
{
    int n = 0, status;
    pid_t pid;
    /* WNOHANG: collect the dead, never wait for the living. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        ex_worker_t *w = find(m, pid);
        if (w == NULL)
            continue;           /* not a worker: reaped, and that is all */
        died(m, w, status, now);
        n++;
    }
    return n;
}

int ex_respawn(ex_master_t *m, double now)
{
    int started = 0;
    if (now < m->next_spawn)
        return 0;
    for (int i = 0; i < m->target && i < EX_MAX_WORKERS; i++) {
        if (m->w[i].pid != 0)
            continue;
        pid_t pid = m->spawn(m->arg);
        if (pid < 0) {
            char line[128];
            snprintf(line, sizeof line, "cannot fork a worker: %s; trying again in %.0f s",
                     strerror(errno), EX_SPAWN_RETRY);
            m->say(line, m->arg);
            m->next_spawn = now + EX_SPAWN_RETRY;
            break;
        }
        m->w[i] = (ex_worker_t){ .pid = pid, .born = now };
        started++;
        if (ex_backoff(m->fast_deaths) > 0)
            break;              /* one at a time while they keep dying */
    }
    return started;
}

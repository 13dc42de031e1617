/* heartbeat.c - solution of exercise 12-prefork/heartbeat.  See heartbeat.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "heartbeat.h"

int ex_beat(int fd)
{
    /* A file's time, not its contents: no write, no disk block, and the
     * master needs nothing but fstat to read it. */
    return futimens(fd, NULL);
}

double ex_last_beat(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    return (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
}

/* One silent worker: first ask it to speak (SIGABRT), then, if it is
 * still there after the grace, SIGKILL.  Returns the signals sent. */
static int murder(ex_hb_worker_t *w, double now, double silent, ex_say_fn say, void *arg)
{
    char line[160];
    if (w->abort_sent == 0) {
        snprintf(line, sizeof line, "worker %ld timed out: no heartbeat for %.1f s; "
                 "asking it what it was doing (SIGABRT)", (long)w->pid, silent);
        say(line, arg);
        kill(w->pid, SIGABRT);
        w->abort_sent = now;
        return 1;
    }
    if (now - w->abort_sent < EX_ABORT_GRACE)
        return 0;               /* it is saying what it was doing */
    if (!w->killed) {
        snprintf(line, sizeof line, "worker %ld still there %.1f s after SIGABRT: SIGKILL",
                 (long)w->pid, now - w->abort_sent);
        say(line, arg);
    }
    kill(w->pid, SIGKILL);
    w->killed = 1;
    return 1;
}

int ex_check_heartbeats(ex_hb_worker_t *w, int n, double now, double timeout,
                        ex_say_fn say, void *arg)
{
    int sent = 0;
    for (int i = 0; i < n; i++) {
        if (w[i].pid == 0)
            continue;
        double last = ex_last_beat(w[i].fd);
        if (last < 0 || now - last <= timeout)
            continue;
        sent += murder(&w[i], now, now - last, say, arg);
    }
    return sent;
}

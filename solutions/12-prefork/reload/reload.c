/* reload.c - solution of exercise 12-prefork/reload.  See reload.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "green.h"
#include "reload.h"

/* The new ones failed: none of them may stay, even as a zombie. */
static void kill_all(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
}

static int index_of(const pid_t *pids, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (pids[i] == pid)
            return i;
    return -1;
}

/* Read pids from fd until every one of fresh[0..n) has said it accepts,
 * or the deadline passes.  0, or -1 with errno ETIMEDOUT. */
static int wait_ready(int fd, const pid_t *fresh, int n, double deadline)
{
    int *said = calloc((size_t)n, sizeof *said);
    int ready = 0;
    if (said == NULL)
        return -1;
    while (ready < n) {
        double left = deadline - green_now();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) {
            errno = ETIMEDOUT;
            break;
        }
        pid_t pid;
        ssize_t got = read(fd, &pid, sizeof pid);
        if (got == 0) {             /* every new worker has died */
            errno = ETIMEDOUT;
            break;
        }
        if (got != (ssize_t)sizeof pid)
            continue;               /* EINTR */
        int i = index_of(fresh, n, pid);
        if (i >= 0 && !said[i]) {
            said[i] = 1;
            ready++;
        }
    }
    free(said);
    return ready == n ? 0 : -1;
}

int ex_reload(pid_t *workers, int n, const ex_reload_ops_t *ops, double timeout)
{
    double deadline = green_now() + timeout;
    pid_t *fresh = calloc((size_t)n, sizeof *fresh);
    int fds[2];
    if (fresh == NULL || pipe2(fds, O_CLOEXEC) < 0) {
        free(fresh);
        return -1;
    }
    /* 1. The new workers first, while the old ones still accept. */
    int started = 0;
    for (; started < n; started++) {
        fresh[started] = ops->spawn(fds[1], ops->arg);
        if (fresh[started] < 0)
            break;
    }
    close(fds[1]);                  /* theirs stay open: EOF = all dead */
    /* 2. Wait until each one accepts; else the old ones keep serving. */
    if (started < n || wait_ready(fds[0], fresh, n, deadline) < 0) {
        int saved = errno;
        kill_all(fresh, started);
        close(fds[0]);
        free(fresh);
        errno = saved;
        return -1;
    }
    close(fds[0]);
    /* 3. Only now the old ones stop: they finish what they serve. */
    for (int i = 0; i < n; i++)
        ops->stop(workers[i], ops->arg);
    for (int i = 0; i < n; i++) {
        waitpid(workers[i], NULL, 0);
        workers[i] = fresh[i];
    }
    free(fresh);
    return 0;
}

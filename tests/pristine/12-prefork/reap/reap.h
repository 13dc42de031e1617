/*
 * reap.h - exercise 12-prefork/reap: the master's reap-and-respawn loop.
 *
 * double ex_backoff(int fast_deaths);
 * int ex_reap(ex_master_t *m, double now);
 * int ex_respawn(ex_master_t *m, double now);
 *
 * A pre-fork master keeps `target` workers alive.  A worker dies (a crash,
 * the OOM killer, an operator's kill -9): the kernel keeps it as a zombie
 * until its parent collects its exit status with waitpid(), and the master
 * must then fork another.  But a worker that dies as soon as it starts (a
 * bad configuration, a missing file) would be forked again at once,
 * thousands of times a second, each death a line in the log: the master
 * waits longer after each such death (a back-off), and says so once.
 * This is the heart of lib/12-prefork/prefork.c (reap, died, fill); here
 * you write it on a table of your own.  The tests fork real workers (your
 * spawn callback is theirs) and give you the time as `now`, in seconds:
 * never read a clock yourself.
 *
 * The master (ex_master_t, below): `target` workers to keep; w[] the table
 * (pid 0: a free slot); fast_deaths, next_spawn and said_backoff are yours
 * to keep (the tests start them at 0); spawn(arg) forks one worker and
 * returns its pid (or -1 with errno); say(line, arg) writes one line of
 * the master's log (one call, one line, no '\n').
 *
 * What it must do (the tests check each point)
 *   - ex_backoff(n): how long to wait before the next spawn after n fast
 *     deaths in a row: 0 below EX_BACKOFF_AFTER (3); EX_BACKOFF_FIRST
 *     (0.1 s) at 3, then doubled at each further death (0.2, 0.4...),
 *     never more than EX_BACKOFF_MAX (5 s).
 *   - ex_reap(m, now): collect every worker that has exited, WITHOUT
 *     waiting for one that still runs (waitpid(-1, &status, WNOHANG) in a
 *     loop, until it returns 0 or -1).  For each pid of the table:
 *       - free its slot (pid = 0);
 *       - a death less than EX_FAST_DEATH (1 s) after its birth is a fast
 *         one: fast_deaths + 1.  A longer life sets fast_deaths back to 0
 *         (and said_backoff too: a later run of deaths is news again);
 *       - if ex_backoff(fast_deaths) > 0: next_spawn = now + that wait,
 *         and say ONE line containing "keep dying" the first time only
 *         (said_backoff); the deaths after it say nothing;
 *       - else say one line naming the pid and how it ended: "worker 4242
 *         exited with status 3; starting another", or "worker 4242 killed
 *         by signal 9 (Killed); starting another" (WIFSIGNALED,
 *         WTERMSIG, strsignal; WEXITSTATUS).
 *     A pid that is not in the table is reaped too, and ignored.  Returns
 *     the number of workers of the table reaped (0: none had exited).
 *   - ex_respawn(m, now): nothing before next_spawn (return 0).  Else fork
 *     workers with m->spawn until `target` slots hold one, each with
 *     born = now, and return how many it started.  While backing off
 *     (ex_backoff(fast_deaths) > 0), start ONE at most: the next waits
 *     for its own death or its success.  A spawn that returns -1: say a
 *     line, set next_spawn = now + EX_SPAWN_RETRY (1 s) and stop there
 *     (return what was started), rather than retry in a tight loop.
 *
 * The trap
 *   waitpid without WNOHANG waits for the next death, and the master
 *   stops answering signals until a worker happens to die.
 *
 * Hints
 *   - A dead worker stays a zombie until waitpid() collects it: "kill -0
 *     PID" still finds it (the tests check that it is gone).
 *   - Read died() and reap() in lib/12-prefork/prefork.c.
 *
 * Lesson: chapters/12-prefork/README.md, "What the master does (`lib/12-prefork/prefork.c`)",
 *         then "Exercise: reap".
 * Tests:  tests/exercises/12-prefork/reap.c
 * Run:    make grade E=reap
 * Stuck?  make hint E=reap (one more hint each time you ask)
 */
#ifndef EX_REAP_H
#define EX_REAP_H

#include <sys/types.h>

#define EX_MAX_WORKERS 16
#define EX_FAST_DEATH 1.0       /* a worker dead this soon did not start */
#define EX_BACKOFF_AFTER 3      /* fast deaths in a row before a back-off */
#define EX_BACKOFF_FIRST 0.1    /* the first wait, doubled at each death */
#define EX_BACKOFF_MAX 5.0      /* the longest wait */
#define EX_SPAWN_RETRY 1.0      /* after a failed spawn */

typedef pid_t (*ex_spawn_fn)(void *arg);
typedef void (*ex_say_fn)(const char *line, void *arg);

typedef struct ex_worker {
    pid_t pid;                  /* 0: a free slot */
    double born;                /* the `now` it was spawned at */
} ex_worker_t;

typedef struct ex_master {
    int target;                 /* workers to keep, <= EX_MAX_WORKERS */
    ex_worker_t w[EX_MAX_WORKERS];
    int fast_deaths;            /* in a row */
    double next_spawn;          /* no spawn before this */
    int said_backoff;           /* the "keep dying" line was said */
    ex_spawn_fn spawn;
    ex_say_fn say;
    void *arg;                  /* for spawn and say */
} ex_master_t;

double ex_backoff(int fast_deaths);
int ex_reap(ex_master_t *m, double now);
int ex_respawn(ex_master_t *m, double now);

#endif

/*
 * heartbeat.h - exercise 12-prefork/heartbeat: find a hung worker, let it speak, kill it.
 *
 * int ex_beat(int fd);
 * double ex_last_beat(int fd);
 * int ex_check_heartbeats(ex_hb_worker_t *w, int n, double now,
 *                         double timeout, ex_say_fn say, void *arg);
 *
 * A worker whose hub no longer turns (a handler that computes, or calls
 * a blocking function, forever) still looks alive to waitpid(): the
 * master must notice that it stopped making progress.  gunicorn's way,
 * which needs no message and no shared memory: each worker has a file,
 * and touches it (updates its time) at every turn of its loop; the master
 * reads the file's time.  A file not touched for `timeout` seconds means a
 * hung worker.  gunicorn's users' most common complaint is "WORKER
 * TIMEOUT" with no clue what hung: so the master first sends SIGABRT,
 * which the worker catches to say what it was doing (chapter 8's blocking
 * detector names the greenlet), and only if it is still there after
 * EX_ABORT_GRACE seconds, SIGKILL.  (Collecting the dead and replacing
 * them is the reap exercise's work, not this one's.)
 *
 * The tests fork real workers (a hung one, one that ignores SIGABRT,
 * healthy ones) and set their files' times themselves, with the clock
 * they give you as `now`: your code compares, it never reads a clock.
 *
 * What it must do (the tests check each point)
 *   - ex_beat(fd): the worker's beat: set the times of the file open on
 *     fd to the current time (futimens).  0, or -1 with errno.
 *   - ex_last_beat(fd): the time of the last beat, in seconds since the
 *     epoch, with its fraction (fstat's st_mtim: tv_sec + tv_nsec / 1e9).
 *     -1 with errno (EBADF...) when fd cannot be read.
 *   - ex_check_heartbeats(w, n, now, timeout, say, arg): one turn of the
 *     master's watch over w[0..n).  Skip free slots (pid 0).  For a worker
 *     whose last beat is MORE than `timeout` seconds before `now`:
 *       - not yet aborted (abort_sent == 0): say one line naming its pid
 *         and containing "timed out", send it SIGABRT, abort_sent = now;
 *       - aborted at least EX_ABORT_GRACE seconds ago: send it SIGKILL
 *         (and say a line, once: killed is set);
 *       - aborted less than that ago: nothing (no second line, no second
 *         signal: it is busy saying what it was doing).
 *     Healthy workers get nothing.  Returns the number of signals sent by
 *     this call.
 *
 * The trap
 *   SIGKILL at once: the worker dies without a word, and the operator
 *   learns nothing about what hung.
 *
 * Hints
 *   - futimens(fd, NULL) sets both times to now; fstat fills st_mtim.
 *   - gunicorn: workertmp.py (notify, last_update) and arbiter.py
 *     (murder_workers).
 *
 * Lesson: chapters/12-prefork/README.md, "What the master does (`lib/12-prefork/prefork.c`)",
 *         then "Exercise: heartbeat".
 * Tests:  tests/exercises/12-prefork/heartbeat.c
 * Run:    make grade E=heartbeat
 * Stuck?  make hint E=heartbeat (one more hint each time you ask)
 */
#ifndef EX_HEARTBEAT_H
#define EX_HEARTBEAT_H

#include <sys/types.h>

#define EX_ABORT_GRACE 1.0      /* SIGABRT, then this long, then SIGKILL */

typedef void (*ex_say_fn)(const char *line, void *arg);

typedef struct ex_hb_worker {
    pid_t pid;                  /* 0: a free slot */
    int fd;                     /* its heartbeat file */
    double abort_sent;          /* 0, or the `now` SIGABRT was sent at */
    int killed;                 /* SIGKILL was sent */
} ex_hb_worker_t;

int ex_beat(int fd);
double ex_last_beat(int fd);
int ex_check_heartbeats(ex_hb_worker_t *w, int n, double now, double timeout,
                        ex_say_fn say, void *arg);

#endif

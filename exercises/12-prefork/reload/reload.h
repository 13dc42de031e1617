/*
 * reload.h - exercise 12-prefork/reload: a graceful reload, in the right order.
 *
 * int ex_reload(pid_t *workers, int n, const ex_reload_ops_t *ops,
 *               double timeout);
 *
 * `kill -HUP master` asks for new workers (a new version of the code, a
 * new configuration) with no request refused and none cut short.  The
 * order is the whole trick: start the new workers, WAIT until each one
 * says it accepts connections, and only then ask the old ones to stop
 * (gracefully: they finish what they are serving, then exit).  The
 * listening socket then always has somebody accepting.  Stop the old ones
 * first, or together with the start, and for the time a new worker takes
 * to start, nobody accepts: clients wait, or fail.  And when the new ones
 * never get ready (a bug in the new version), the old ones must go on
 * serving.  lib/12-prefork/prefork.c does this (SIGHUP, read_ready,
 * retire_old) inside its loop; here you write it as one call.
 *
 * The tests give you the workers: ops->spawn(ready_fd, ops->arg) forks a
 * new worker, which serves /pid on the tests' listening socket, and
 * returns its pid (or -1 with errno).  Once the worker accepts, it writes
 * its pid (sizeof(pid_t) bytes, in one write) to ready_fd.
 * ops->stop(pid, ops->arg) sends an old worker SIGTERM: it finishes the
 * request it serves, then exits.  The tests log each call, and a client
 * keeps requesting /pid during your reload: none may fail.
 *
 * What it must do (the tests check each point)
 *   - ex_reload(workers, n, ops, timeout): workers[0..n) are the running
 *     workers' pids.  On success: n new workers run, workers[] holds
 *     their pids (in any order), every old worker was stopped with
 *     ops->stop exactly once, AFTER all n new ones said they accept, and
 *     was then collected (waitpid): none is left, not even a zombie.
 *     Returns 0.
 *   - No file descriptor is left open by the call.
 *   - The new workers do not all say so within `timeout` seconds (from
 *     the start of the call): kill them (SIGKILL), collect them (waitpid),
 *     leave the old ones alone (no ops->stop, workers[] unchanged: they
 *     go on serving) and return -1 with errno ETIMEDOUT.
 *   - A spawn that fails: the same clean-up, -1 with spawn's errno.
 *
 * The recipe
 *   1. pipe(); spawn the n new workers with its write end, then close the
 *      write end (the workers keep their copies).
 *   2. Read pids from the read end until n of the new ones have said they
 *      accept: poll() with what is left of the timeout, then read().
 *   3. ops->stop each old worker; then waitpid each one.
 *   4. workers[] = the new pids; close the read end; return 0.
 *
 * The trap
 *   The old workers stopped before the new ones said they accept: the
 *   tests see it (each new worker takes a while to start, and notes in
 *   memory shared with the tests when it is ready).
 *
 * Hints
 *   - A pipe's write of 4 bytes (under PIPE_BUF) arrives whole or not at
 *     all: read() one pid_t at a time.
 *   - green_now() is a clock in seconds, for the deadline.
 *
 * Lesson: chapters/12-prefork/README.md, "What the master does (`lib/12-prefork/prefork.c`)",
 *         then "Exercise: reload".
 * Tests:  tests/exercises/12-prefork/reload.c
 * Run:    make grade E=reload
 * Stuck?  make hint E=reload (one more hint each time you ask)
 */
#ifndef EX_RELOAD_H
#define EX_RELOAD_H

#include <sys/types.h>

typedef struct ex_reload_ops {
    pid_t (*spawn)(int ready_fd, void *arg);    /* fork a new worker */
    int (*stop)(pid_t pid, void *arg);          /* SIGTERM an old one */
    void *arg;
} ex_reload_ops_t;

int ex_reload(pid_t *workers, int n, const ex_reload_ops_t *ops, double timeout);

#endif

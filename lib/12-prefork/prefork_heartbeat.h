/*
 * prefork_heartbeat.h - chapter 12: the master notices a worker whose hub
 * has stopped turning, names the greenlet that holds it, and kills it.
 * (Not "heartbeat.h": that is the name of exercise 12-prefork/heartbeat's
 * header, and a program of the kit sees both.)
 *
 * A cooperative worker has one failure a thread pool does not: a handler
 * that computes without ever waiting (a regular expression gone wild, a
 * loop over a million rows) holds the hub, and every other connection of
 * that worker stalls behind it.  The process is alive, so the master's
 * waitpid() sees nothing.  gunicorn's answer is `--timeout`: each worker
 * proves it is turning, and the master kills one that has been silent for
 * `timeout` seconds.  Its users' most common complaint is the line
 * "WORKER TIMEOUT (pid:1240)" with no clue what hung, so here the worker
 * first says which greenlet held the loop, and the master logs it:
 *
 *   master 1233: worker 1240 timed out: no heartbeat for 1.12 s (timeout
 *   1 s); greenlet 'conn 127.0.0.1:40312' has held the loop for 0.88 s
 *   without yielding; killing it                              (one line)
 *
 * (The greenlet held the loop a little less long than the heartbeat has
 * been silent: the last beat came some time before the greenlet ran.)
 *
 * The master's side (prefork.c calls these):
 *     hb = green_heartbeat_new(timeout, capacity);   before the first fork
 *     green_heartbeat_check(hb);                     every turn of its loop
 *     green_heartbeat_forget(hb, pid);               when it reaps a worker
 * The worker's side, once its hub runs (after the fork):
 *     green_heartbeat_start(hb);
 * How it works, and why so, is told in prefork_heartbeat.c.
 * Errors: -1 (or NULL) with errno.
 */
#ifndef GREEN_HEARTBEAT_H
#define GREEN_HEARTBEAT_H

#include <sys/types.h>

typedef struct green_heartbeat green_heartbeat_t;

/* In the master, before it forks: shared memory for `capacity` workers
 * alive at once, each killed when its hub has not turned for `timeout`
 * seconds (more than 0).  NULL with errno EINVAL or ENOMEM. */
green_heartbeat_t *green_heartbeat_new(double timeout, int capacity);

/* In a worker, on its hub: take a slot, beat from a greenlet named
 * "heartbeat" (it stamps the time every interval), and start chapter 3's
 * blocking detector (green_monitor_start_with) to tell the master who
 * holds the loop when it stalls.  The hub's observer is then taken: the
 * application cannot start a monitor of its own (EBUSY).  0, or -1 with
 * errno: ENOSPC (every slot is taken: the worker is not watched), ENOMEM,
 * or green_monitor_start_with's (the worker is watched, but cannot say
 * who stalls it).  Each failure is said on stderr. */
int green_heartbeat_start(green_heartbeat_t *hb);

/* In the master: kill every worker whose hub has not turned for `timeout`
 * seconds, after logging one line that names the greenlet it says holds
 * the loop (or that it did not say).  The worker may take a moment more
 * to say it: at most a second is waited for.  Then the worker is asked
 * for a dump of its greenlets (SIGQUIT: green_dump, hub.h), which it
 * writes to its stderr, the log it shares with the master, and a later
 * call, DUMP_GRACE (0.2 s) on, kills it (SIGKILL).  Returns the number
 * of workers killed by this call; reap them as usual (waitpid) and call
 * green_heartbeat_forget for each. */
int green_heartbeat_check(green_heartbeat_t *hb);

/* In the master: how often to call green_heartbeat_check (seconds). */
double green_heartbeat_interval(const green_heartbeat_t *hb);

/* In the master: worker pid has been reaped, its slot is free. */
void green_heartbeat_forget(green_heartbeat_t *hb, pid_t pid);

/* Free it (in the master; NULL: nothing). */
void green_heartbeat_free(green_heartbeat_t *hb);

#endif

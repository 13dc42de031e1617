/*
 * prefork_heartbeat.c - chapter 12: the master's heartbeat over its
 * workers (prefork_heartbeat.h).
 *
 * Three actors, two processes:
 *
 *   worker, hub thread     a greenlet named "heartbeat" stamps the time in
 *                          the worker's slot every interval.  It runs only
 *                          when the hub turns, so an old stamp means a
 *                          held hub, whatever holds it.
 *   worker, watchdog       chapter 3's blocking detector (monitor.c), on a
 *   thread                 thread of its own, which the held hub cannot
 *                          stop.  When one greenlet has held the loop for
 *                          half the timeout, it writes the greenlet's name
 *                          and when its stall began into the slot.
 *   master                 every interval, reads each slot: a stamp older
 *                          than the timeout means "kill", and the name the
 *                          worker wrote is what it logs first.  A worker
 *                          with nothing to say (its hub is held outside
 *                          any greenlet) gets a second more, then is
 *                          killed all the same.
 *
 * Why a slot of shared memory (mmap MAP_SHARED, made before the forks)?
 * It is gunicorn's design, in C: gunicorn's workers touch a file that the
 * master stats; here they store the time in memory both see.  A pipe would
 * do as well, but the master would have to read it all the time, and a
 * worker whose master is slow would fill it.  A slot is read only when
 * the master wants to know, and the worker never waits on it.
 *
 * Why does the worker speak before it is asked?  The obvious design, the
 * master sending a signal and the worker answering, puts the answer in a
 * signal handler, where only async-signal-safe calls are allowed (no
 * snprintf, no lock), and on whichever thread the kernel picks.  Here
 * nobody is interrupted: the watchdog is an ordinary thread that already
 * knows who runs (the hub's observer tells it at every switch), and it
 * writes its report as soon as a stall is long enough to matter.  The
 * master then kills with everything it needs already in the slot.  Stalls
 * between half the timeout and the timeout are reported too, and the
 * master simply never reads those reports: they are tagged with the stamp
 * they were written under, and a hub that turns again stamps anew.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hub.h"
#include "prefork_heartbeat.h"

#define SAY_WAIT 1.0            /* seconds the master waits for a report */
#define DUMP_GRACE 0.2          /* ...and for a worker's dump, before SIGKILL */
#define NOT_YET (-1LL)          /* a slot's stamp before its first beat */

/* Times in the slot are microseconds on green_now()'s clock: CLOCK_MONOTONIC
 * is one clock for the whole machine, so the master can compare a stamp
 * a worker made with its own time.  They are integers because an atomic
 * shared by two processes must be lock-free (a lock would live in one
 * process only), and C promises that only for the integer types the
 * machine flags as such. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the heartbeat needs lock-free 64-bit atomics");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the heartbeat needs lock-free atomic ints");

struct slot {
    atomic_int pid;             /* 0: free; a worker takes it for itself */
    atomic_llong beat;          /* the hub's last turn, or NOT_YET */
    atomic_llong said_for;      /* the beat the report below was written
                                   under; -1 while it is being written */
    long long since;            /* the report: when the stall began */
    char name[32];              /* and who holds the loop (31 chars kept:
                                   greenlet.h) */
};

struct green_heartbeat {
    double timeout;
    int capacity;
    struct slot *slots;         /* shared by the master and every worker */
    unsigned char *fate;        /* the master's own: ALIVE, ASKED to dump or
                                   KILLED, not yet reaped */
    double *asked_at;           /* ...when it was asked to dump */
    struct slot *mine;          /* in a worker: its own slot */
};

static long long now_us(void)
{
    return (long long)(green_now() * 1e6);
}

green_heartbeat_t *green_heartbeat_new(double timeout, int capacity)
{
    if (!(timeout > 0) || capacity < 1) {
        errno = EINVAL;
        return NULL;
    }
    green_heartbeat_t *hb = calloc(1, sizeof *hb);
    if (hb == NULL)
        return NULL;
    hb->timeout = timeout;
    hb->capacity = capacity;
    hb->fate = calloc((size_t)capacity, 1);
    hb->asked_at = calloc((size_t)capacity, sizeof *hb->asked_at);
    /* Anonymous and shared: no file, and the workers inherit it at fork. */
    hb->slots = mmap(NULL, (size_t)capacity * sizeof *hb->slots, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (hb->fate == NULL || hb->asked_at == NULL || hb->slots == MAP_FAILED) {
        if (hb->slots != MAP_FAILED)
            munmap(hb->slots, (size_t)capacity * sizeof *hb->slots);
        free(hb->fate);
        free(hb->asked_at);
        free(hb);
        errno = ENOMEM;
        return NULL;
    }
    for (int i = 0; i < capacity; i++)
        atomic_init(&hb->slots[i].beat, NOT_YET);
    return hb;
}

double green_heartbeat_interval(const green_heartbeat_t *hb)
{
    if (hb == NULL)
        return HUGE_VAL;
    /* Four beats and four looks per timeout, so a stamp is never older
     * than a quarter of it when all is well; at least one a second. */
    return hb->timeout / 4 < 1.0 ? hb->timeout / 4 : 1.0;
}

/* ---- The worker's side ---------------------------------------------------- */

/* The heartbeat greenlet: a stamp, then a nap, until the hub kills it
 * (green_hub_destroy, when the worker exits). */
static void *beat(void *arg)
{
    green_heartbeat_t *hb = arg;
    do
        atomic_store_explicit(&hb->mine->beat, now_us(), memory_order_relaxed);
    while (green_sleep(green_heartbeat_interval(hb)) == 0);
    return NULL;
}

/* The watchdog's report (green_monitor_start_with), on its thread.  The
 * master may read the slot meanwhile: said_for is -1 while the text
 * changes, and the master checks it again after its copy (a seqlock).  The
 * fences keep the text's stores after the first mark and before the last. */
static void report(void *arg, const char *name, double held)
{
    struct slot *s = arg;
    long long beat = atomic_load(&s->beat);
    atomic_store_explicit(&s->said_for, -1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    s->since = now_us() - (long long)(held * 1e6);
    snprintf(s->name, sizeof s->name, "%s", name);
    atomic_store_explicit(&s->said_for, beat, memory_order_release);
}

int green_heartbeat_start(green_heartbeat_t *hb)
{
    if (hb == NULL)
        return 0;
    pid_t me = getpid();
    for (int i = 0; i < hb->capacity && hb->mine == NULL; i++) {
        int free_pid = 0;
        if (atomic_compare_exchange_strong(&hb->slots[i].pid, &free_pid, me))
            hb->mine = &hb->slots[i];
    }
    if (hb->mine == NULL) {
        fprintf(stderr, "worker %ld: no heartbeat slot is free (%d workers alive?): "
                "this worker is not watched\n", (long)me, hb->capacity);
        errno = ENOSPC;
        return -1;
    }
    atomic_store(&hb->mine->said_for, 0);
    atomic_store(&hb->mine->beat, now_us());   /* judged from now on */
    green_t *g = green_spawn(beat, hb);
    if (g == NULL) {
        fprintf(stderr, "worker %ld: cannot start its heartbeat: %s\n", (long)me,
                strerror(errno));
        return -1;
    }
    green_set_name(g, "heartbeat");
    green_detach(g);
    if (green_monitor_start_with(hb->timeout / 2, report, hb->mine) < 0) {
        int err = errno;
        fprintf(stderr, "worker %ld: cannot start the blocking detector (%s): if it "
                "times out, it cannot say which greenlet held its hub\n", (long)me,
                strerror(err));
        errno = err;
        return -1;
    }
    return 0;
}

/* ---- The master's side ---------------------------------------------------- */

/* The worker's report, if it is about the stall that began at `beat`:
 * 1 and the greenlet's name and stall start, else 0. */
static int said(struct slot *s, long long beat, char *name, size_t len, long long *since)
{
    if (atomic_load_explicit(&s->said_for, memory_order_acquire) != beat)
        return 0;
    snprintf(name, len, "%.31s", s->name);
    *since = s->since;
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->said_for, memory_order_relaxed) == beat;
}

/* The pid comes from memory a worker writes: kill it only if it is one of
 * our children.  waitid(WNOWAIT) asks without reaping (reaping is the
 * master's loop's job): 0 for a child, ECHILD for anyone else. */
static int our_child(pid_t pid)
{
    siginfo_t info;
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

enum { ALIVE, ASKED, KILLED };     /* hb->fate[i] */

/* A timed-out worker was asked for its dump: once it had the time to
 * write it, SIGKILL.  1 when killed now. */
static int finish_off(green_heartbeat_t *hb, int i, pid_t pid)
{
    if (green_now() - hb->asked_at[i] < DUMP_GRACE || !our_child(pid))
        return 0;
    kill(pid, SIGKILL);
    hb->fate[i] = KILLED;
    return 1;
}

int green_heartbeat_check(green_heartbeat_t *hb)
{
    if (hb == NULL)
        return 0;
    int killed = 0;
    for (int i = 0; i < hb->capacity; i++) {
        struct slot *s = &hb->slots[i];
        pid_t pid = atomic_load(&s->pid);
        long long beat = atomic_load(&s->beat);
        if (pid <= 0 || beat == NOT_YET || hb->fate[i] == KILLED)
            continue;
        if (hb->fate[i] == ASKED) {
            killed += finish_off(hb, i, pid);
            continue;
        }
        long long now = now_us();
        double silent = (double)(now - beat) / 1e6;
        if (silent <= hb->timeout)
            continue;
        char name[32], why[160];
        long long since;
        if (said(s, beat, name, sizeof name, &since))
            snprintf(why, sizeof why, "greenlet '%s' has held the loop for %.2f s "
                     "without yielding", name, (double)(now - since) / 1e6);
        else if (silent <= hb->timeout + SAY_WAIT)
            continue;           /* give its watchdog a moment to say */
        else
            snprintf(why, sizeof why, "it did not say which greenlet held the loop "
                     "(the hub itself, or a stuck watchdog?)");
        if (!our_child(pid))
            continue;
        fprintf(stderr, "master %ld: worker %ld timed out: no heartbeat for %.2f s "
                "(timeout %g s); %s; killing it\n", (long)getpid(), (long)pid, silent,
                hb->timeout, why);
        /* Its dump first (report.c's SIGQUIT handler, which runs even
         * while a greenlet holds the hub), into the log we share: where
         * each greenlet stands.  SIGKILL comes DUMP_GRACE later. */
        kill(pid, SIGQUIT);
        hb->fate[i] = ASKED;
        hb->asked_at[i] = green_now();
    }
    return killed;
}

void green_heartbeat_forget(green_heartbeat_t *hb, pid_t pid)
{
    if (hb == NULL)
        return;
    for (int i = 0; i < hb->capacity; i++) {
        struct slot *s = &hb->slots[i];
        if (atomic_load(&s->pid) != pid)
            continue;
        /* The stamp first: a new worker must never be judged on the
         * stamp of the one before it. */
        atomic_store(&s->beat, NOT_YET);
        atomic_store(&s->pid, 0);
        hb->fate[i] = ALIVE;
        return;
    }
}

void green_heartbeat_free(green_heartbeat_t *hb)
{
    if (hb == NULL)
        return;
    munmap(hb->slots, (size_t)hb->capacity * sizeof *hb->slots);
    free(hb->fate);
    free(hb->asked_at);
    free(hb);
}

/*
 * internal.h - private: the greenlet record, and the greenlet layer's calls
 * that only the hub makes.
 *
 * Users see green_t as an opaque type.  One record per greenlet, in three
 * parts, one per layer, each written only by its own layer's files:
 *   the fields at the top   chapter 2, greenlet.c: the greenlet itself;
 *   sched                   chapter 3, lib/03-hub/: the hub's bookkeeping;
 *   sync                    chapter 6, sync.c: greenlet-local values.
 * A layer may read the parts below it (the hub reads `dead`, `name`, ...),
 * never those above: greenlet.c knows neither `sched` nor `sync`, and
 * learns of the layers above only through hooks they register (`release`
 * here, green_on_exit in greenlet.h).  The top fields stay unprefixed
 * because chapter 2's code is read line by line: g->parent, not
 * g->core.parent.  Why one record and not three: a greenlet is allocated
 * once, by green_new, and a hub with 10,000 greenlets would otherwise make
 * 10,000 more allocations and chase a pointer at every switch.
 */
#ifndef GREEN_INTERNAL_H
#define GREEN_INTERNAL_H

#include "greenlet.h"
#include "ctx.h"
#include "wait.h"

struct event;

/* Chapter 3, hub.c: what the scheduler keeps per greenlet. */
struct green__sched {
    green_t *ready_next;    /* link in the ready queue */
    green_t *all_prev, *all_next;  /* link in the hub's list of greenlets */
    void *wake_value;       /* what green_hub_switch will return */
    int wake_error;         /* errno green_hub_switch will set, or 0 */
    unsigned queued : 1;    /* in the ready queue now */
    unsigned killed : 1;
    unsigned detached : 1;
    unsigned hub_owned : 1; /* spawned: the hub frees it at destroy */
    /* What it is doing now, for green_dump(), the trace (trace.c) and
     * gdb (green-gdb.py); written by park() and the ready queue: */
    const char *waiting_on; /* the waiting call ("green_sleep",
                               "green_queue_get", ...), NULL when not */
    const green_t *waiting_for;  /* ...and on whom, when it joins */
    const void *wait_obj;   /* ...on which object (the waiter list inside
                               an Event, Queue, ...: wait.c), or NULL */
    int wait_fd;            /* ...on which descriptor, or -1 */
    short wait_events;      /* ...for EV_READ or EV_WRITE (libevent's) */
    double wait_until;      /* ...until when (green__coarse_now's clock),
                               or GREEN_FOREVER */
    double since;           /* when it last parked, was readied or was
                               resumed (green__coarse_now's clock) */
    struct green__waitlist joiners;  /* who waits for this greenlet to die */
    struct event *ev;       /* this greenlet's one timer/fd event */
    green_fn_t spawn_fn;      /* green_spawn's fn and arg: spawned_main runs */
    void *spawn_arg;        /* them */
};

/* Chapter 6, sync.c: greenlet-local storage (green_local_*). */
struct green__sync {
    void **locals;          /* indexed by key; NULL until the first set */
    int nlocals;
};

struct green {
    /* ---- chapter 2, greenlet.c ---- */
    green_ctx_t ctx;
    green_stack_t stack;      /* stack.guard == NULL: a main greenlet */
    green_fn_t fn;
    green_t *parent;
    green_t *main;          /* the main greenlet of g's thread */
    void *result;
    unsigned started : 1;
    unsigned dead : 1;      /* also set by the hub, for a spawned greenlet
                               killed before it ever ran */
    unsigned holds_parent : 1;  /* counted in parent->children */
    unsigned free_pending : 1;  /* green_free() was called; children live */
    unsigned exited : 1;    /* its exit hooks ran (green_on_exit) */
    unsigned children;      /* greenlets whose parent this is, not yet dead */
    unsigned long id;
    char name[32];
    /* Set by a layer above, for this layer to call or obey: */
    void (*release)(green_t *g);   /* called by green_free, if set */
    green_t *resumer;       /* if set, the only greenlet that may switch to
                               this one (the hub, while it is parked) */
    green_fn_t reported_fn;   /* what a crash report names when fn is only a
                               wrapper around it (the hub's spawned
                               greenlets); NULL: fn itself */

    struct green__sched sched;   /* chapter 3 */
    struct green__sync sync;     /* chapter 6 */
};

/* Give g's stack back (to a per-thread cache) as soon as g is dead, long
 * before its record is freed: the stack is most of a greenlet's memory. */
void green__stack_release(green_t *g);

/* Drop every stack kept in the calling thread's cache. */
void green__stack_cache_flush(void);

/* Chapter 3: what hub.c shares with its neighbours in lib/03-hub/. */

/* Park the calling greenlet until it is readied or `timeout` seconds pass
 * (negative: no limit), like green_hub_wait; `what` names the wait and
 * `obj` the object waited on (NULL: none) in green_dump() and the trace.
 * wait.c's green__wait parks here. */
int green__hub_park(double timeout, const char *what, const void *obj);

/* A clock for "how long has it been in this state" (green_dump): the
 * monotonic clock at the kernel's tick (a few ms), read without a system
 * call in a few ns, so that the hub can stamp every park and every wake.
 * green_now() is the precise one, for timeouts and the trace. */
double green__coarse_now(void);

/* The first of every greenlet the calling thread's hub has dealt with,
 * linked by sched.all_next (report.c reads it). */
green_t *green__hub_all(void);

/* gdb_script.c: the object that carries gdb's extension.  hub.c refers
 * to it, so that a program linked with libgreen.a carries it too. */
extern const char green__gdb_script;

/* report.c: say who waits forever, and fail main's wait with EDEADLK.
 * The hub's loop calls it when nothing can ever wake anyone. */
void green__report_deadlock(void);

#endif

/*
 * internal.h - private: the greenlet record, shared by greenlet.c and hub.c.
 *
 * Users see green_t as an opaque type.  The fields below the line belong to
 * the hub layer: greenlet.c never reads them, it only frees the record
 * after calling `release` (set by the hub so it can unlink the greenlet),
 * and its crash report names a spawned greenlet's `spawn_fn`.
 */
#ifndef GREEN_INTERNAL_H
#define GREEN_INTERNAL_H

#include "greenlet.h"
#include "ctx.h"

struct event;
struct green_joiner;

struct green {
    green_ctx ctx;
    green_stack stack;      /* stack.guard == NULL: a main greenlet */
    green_fn fn;
    green_t *parent;
    green_t *main;          /* the main greenlet of g's thread */
    void *result;
    unsigned started : 1;
    unsigned dead : 1;
    unsigned holds_parent : 1;  /* counted in parent->children */
    unsigned free_pending : 1;  /* green_free() was called; children live */
    unsigned exited : 1;    /* its exit hooks ran (green_on_exit) */
    unsigned children;      /* greenlets whose parent this is, not yet dead */
    unsigned long id;
    char name[32];
    void (*release)(green_t *g);   /* called by green_free, if set */
    green_t *resumer;       /* if set, the only greenlet that may switch to
                               this one (the hub, while it is parked) */

    /* ---- owned by the hub layer (hub.c) ---- */
    green_t *ready_next;    /* link in the ready queue */
    green_t *all_prev, *all_next;  /* link in the hub's list of greenlets */
    void *wake_value;       /* what green_hub_switch will return */
    int wake_error;         /* errno green_hub_switch will set, or 0 */
    unsigned queued : 1;    /* in the ready queue now */
    unsigned killed : 1;
    unsigned detached : 1;
    unsigned hub_owned : 1; /* spawned: the hub frees it at destroy */
    const char *waiting_on; /* for green_dump: what it waits for */
    const green_t *waiting_for;  /* ...and on whom, when it joins */
    struct green_joiner *joiners;  /* who waits for this greenlet to die */
    struct event *ev;       /* this greenlet's one timer/fd event */
    green_fn spawn_fn;
    void *spawn_arg;

    /* ---- owned by the sync layer (sync.c): greenlet-local values ---- */
    void **locals;
    int nlocals;
};

/* Call fn(arg) in green_hub_destroy, before the event base is freed: how a
 * layer that keeps libevent objects (io.c's DNS resolver) lets go of them.
 * At most 8 per thread. */
void green_hub_at_destroy(void (*fn)(void *arg), void *arg);

/* Give g's stack back (to a per-thread cache) as soon as g is dead, long
 * before its record is freed: the stack is most of a greenlet's memory. */
void green_release_stack(green_t *g);

/* Drop every stack kept in the calling thread's cache. */
void green_stack_cache_flush(void);

#endif

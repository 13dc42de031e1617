/*
 * wait.h - private, chapter 3 (wait.c): the one list of waiters, and the
 * one deadline, that chapters 3 to 7 are built on.
 *
 * Every wait in the kit is the same idea: a greenlet that must wait for
 * another puts a node on a list of waiters and parks; the greenlet that
 * changes things takes nodes off the list, first come first served, hands
 * each what it waited for and readies it.  The hub's joiners (green_join),
 * every primitive of sync.c (Event, AsyncResult, Queue, Semaphore, Lock)
 * and the Group and Pool waits of pool.c all use this one list, so its
 * rules (order, who wins when a wake-up and a timeout or kill race, the
 * late arrival that must not overtake) are written, and tested, once.
 *
 * A node lives on the waiter's own stack, for exactly as long as the wait:
 * no allocation, and nothing to free.  The `green__` prefix marks names
 * shared between the library's files that users must not call; this
 * header is not installed (Makefile, LIB_HEADERS).
 */
#ifndef GREEN_WAIT_H
#define GREEN_WAIT_H

#include "hub.h"

struct green__waitlist;

/* One greenlet's place in a list of waiters.  Zero it, then pass it to
 * green__wait(), which fills in the rest. */
struct green__waiter {
    green_t *g;
    struct green__waiter *prev, *next;
    struct green__waitlist *on;  /* the list this node is on, or NULL */
    void *item;                  /* handed over: a Queue's item, say */
    int served;                  /* a waker gave us what we waited for */
};

/* A FIFO of waiters, doubly linked so that one giving up (timeout, kill)
 * leaves from the middle in O(1).  All zeros is an empty list. */
struct green__waitlist {
    struct green__waiter *head, *tail;
};

/* Join the back of l and park until a waker serves w, for at most
 * `timeout` seconds (negative: no limit; 0: do not wait, fail at once).
 * Returns 0 once served, or -1 with errno ETIMEDOUT, ECANCELED (killed) or
 * EDEADLK.  Served wins: a waiter served just before its timer fired, or
 * before it was killed, returns 0 (what it was handed is not lost; the
 * kill fails its next wait).  w is off every list when this returns.
 * `what` names the wait in green_dump() and deadlock reports. */
int green__wait(struct green__waitlist *l, struct green__waiter *w,
                double timeout, const char *what);

/* Serve the first waiter of l: take it off, mark it served, ready it.
 * Returns it (the caller may hand it an item: it runs later), or NULL when
 * nobody waits. */
struct green__waiter *green__wake_one(struct green__waitlist *l);

/* Serve every waiter of l, in order.  With `woken` not NULL, each served
 * node moves there until its greenlet runs: green__wait_turn() reads it. */
void green__wake_all(struct green__waitlist *l, struct green__waitlist *woken);

/* For a caller that finds at once what it came for (an Event already
 * set): waiters served before it came have not run yet, and must not be
 * overtaken (gevent issue 1520).  Yields once if any are on `woken`,
 * unless timeout is 0 (a poll never yields).  Returns 0, or -1 with errno
 * like green_sleep(0). */
int green__wait_turn(const struct green__waitlist *woken, double timeout);

/* The object that owns `woken` goes away: its served nodes must not touch
 * it when their greenlets run.  Detaches them all. */
void green__waitlist_forget(struct green__waitlist *woken);

/* An object must not go while greenlets wait on it: their nodes point into
 * it, and they would wake (on a timeout) to touch freed memory.  Aborts,
 * naming `what` (the freeing call) and the first waiter. */
void green__waitlist_check_empty(const struct green__waitlist *l,
                                 const char *what);

/* ---- Deadlines ---------------------------------------------------------
 * A call that may wait several times (a send that takes three writes, a
 * join that wakes for nothing) shares one timeout among its waits: it
 * turns the timeout into a deadline once, and asks before each wait what
 * is left of it. */

/* The moment `timeout` seconds from now, on green_now()'s clock; a
 * negative timeout (GREEN_FOREVER) gives a deadline that never comes. */
double green__deadline(double timeout);

/* What is left of `deadline`, as a timeout for the next wait: GREEN_FOREVER
 * for one that never comes, 0 (do not wait) once it has passed. */
double green__time_left(double deadline);

#endif

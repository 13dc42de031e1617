/*
 * wait.c - chapter 3: the list of waiters and the deadline arithmetic of
 * wait.h, written once for the hub's joiners and for every layer above
 * (sync.c's primitives and pool.c's groups wait in it too).
 *
 * Its own file because it is its own idea: a list that waiters join and
 * wakers serve, on top of the hub's one way to park (green__hub_park).  It
 * knows nothing of the ready queue or of libevent, and the chapters that
 * build on it (6 and 7) can read it without reading the scheduler.
 */
#include "internal.h"
#include "hub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- Lists of waiters (wait.h) ------------------------------------------ */

static void waitlist_append(struct green__waitlist *l, struct green__waiter *w)
{
    w->next = NULL;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    w->on = l;
}

/* Take w off whichever list it is on, if any. */
static void waitlist_leave(struct green__waiter *w)
{
    struct green__waitlist *l = w->on;
    if (l == NULL)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
    w->on = NULL;
}

/* The loop re-parks when we were readied for some other reason (a stray
 * green_ready), with what is left of the one deadline.  When it ends, w
 * leaves its list whatever woke it: the list it waited in if nobody served
 * it, the `woken` list if it was served (we run now: nobody need wait for
 * us).  `served` is checked after the wait, not its return value, because
 * green_ready() of a greenlet already ready does nothing: the first
 * wake-up wins the value, so a timer that fires just after a waker served
 * us cannot take back what we were handed. */
int green__wait(struct green__waitlist *l, struct green__waiter *w,
                double timeout, const char *what)
{
    if (timeout == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    double deadline = green__deadline(timeout);
    int callers_errno = errno;
    w->g = green_current();
    w->served = 0;
    waitlist_append(l, w);
    int rc = 0;
    while (!w->served && rc == 0)
        rc = green__hub_park(green__time_left(deadline), what, l);
    waitlist_leave(w);
    if (!w->served)
        return rc;
    errno = callers_errno;      /* served wins, over a kill's ECANCELED too */
    return 0;
}

/* Off the list first, so that nobody else can serve it; `served` tells it
 * when it runs that it got what it waited for. */
static void serve(struct green__waiter *w)
{
    waitlist_leave(w);
    w->served = 1;
    green_ready(w->g, NULL);
}

struct green__waiter *green__wake_one(struct green__waitlist *l)
{
    struct green__waiter *w = l->head;
    if (w)
        serve(w);
    return w;
}

void green__wake_all(struct green__waitlist *l, struct green__waitlist *woken)
{
    struct green__waiter *w;
    while ((w = l->head) != NULL) {
        serve(w);
        if (woken)
            waitlist_append(woken, w);
    }
}

/* One yield is enough: the served waiters are in the ready queue already,
 * and green_sleep(0) puts us behind them. */
int green__wait_turn(const struct green__waitlist *woken, double timeout)
{
    return woken->head && timeout != 0 ? green_sleep(0) : 0;
}

void green__waitlist_forget(struct green__waitlist *woken)
{
    while (woken->head)
        waitlist_leave(woken->head);
}

void green__waitlist_check_empty(const struct green__waitlist *l,
                                 const char *what)
{
    if (l->head == NULL)
        return;
    fprintf(stderr, "green: %s: greenlet '%s' still waits on it\n", what,
            green_name(l->head->g));
    abort();
}

/* ---- Deadlines (wait.h) ------------------------------------------------- */

/* A negative deadline stands for "never": green_now() is never negative
 * (the monotonic clock counts from boot), so no real moment is lost. */
double green__deadline(double timeout)
{
    return timeout < 0 ? GREEN_FOREVER : green_now() + timeout;
}

double green__time_left(double deadline)
{
    if (deadline < 0)
        return GREEN_FOREVER;
    double left = deadline - green_now();
    return left > 0 ? left : 0;
}

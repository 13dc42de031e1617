/* event.c - solution of exercise 06-sync/event.  See event.h. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "green.h"
#include "event.h"

/* A waiting greenlet: a node on its own stack, on the event's list for
 * exactly as long as it waits. */
struct waiter {
    green_t *g;
    struct waiter *next;
    int woken;          /* set by ex_event_set: the wait succeeded */
};

struct ex_event {
    int flag;
    struct waiter *head, *tail;   /* waiters, oldest first */
};

ex_event *ex_event_new(void)
{
    return calloc(1, sizeof(ex_event));
}

void ex_event_free(ex_event *e)
{
    free(e);
}

void ex_event_set(ex_event *e)
{
    e->flag = 1;
    /* Empty the list: whoever is woken is no longer waiting. */
    for (struct waiter *w = e->head; w; w = w->next) {
        w->woken = 1;
        green_ready(w->g, w);
    }
    e->head = e->tail = NULL;
}

void ex_event_clear(ex_event *e)
{
    e->flag = 0;
}

int ex_event_is_set(const ex_event *e)
{
    return e->flag;
}

static void append(ex_event *e, struct waiter *w)
{
    w->next = NULL;
    if (e->tail)
        e->tail->next = w;
    else
        e->head = w;
    e->tail = w;
}

/* A waiter that gave up leaves the list; rare, so a walk is fine. */
static void unlink_waiter(ex_event *e, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *p = e->head; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = w->next;
        else
            e->head = w->next;
        if (e->tail == w)
            e->tail = prev;
        return;
    }
}

/* What the timer wakes its waiter with; set wakes with the node. */
static char timed_out;

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    green_ready(arg, &timed_out);
}

static struct event *start_timer(green_t *me, double seconds)
{
    struct event *timer = evtimer_new(green_hub_base(), on_timeout, me);
    if (timer != NULL) {
        long whole = (long)seconds;
        struct timeval tv = { .tv_sec = whole,
                              .tv_usec = (long)((seconds - (double)whole) * 1e6) };
        evtimer_add(timer, &tv);
    }
    return timer;
}

int ex_event_wait(ex_event *e, double timeout)
{
    if (e->flag)
        return 0;
    if (timeout == 0) {              /* asked not to wait */
        errno = ETIMEDOUT;
        return -1;
    }
    struct waiter me = { .g = green_current() };
    struct event *timer = NULL;
    if (timeout > 0 && (timer = start_timer(me.g, timeout)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    append(e, &me);

    int err = 0;
    while (!me.woken && err == 0) {
        void *why = green_hub_switch();
        if (me.woken)
            break;                   /* set came first: success, whatever else */
        if (why == NULL)
            err = errno;             /* killed (ECANCELED), or EDEADLK */
        else if (why == &timed_out)
            err = ETIMEDOUT;
    }

    if (timer)
        event_free(timer);           /* fired or not; may change errno */
    if (me.woken)
        return 0;
    unlink_waiter(e, &me);
    errno = err;
    return -1;
}

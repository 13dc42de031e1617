/* queue.c - solution of exercise 06-sync/queue.  See queue.h. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "green.h"
#include "queue.h"

/* A waiting greenlet: a node on its own stack, on one of the queue's lists
 * for exactly as long as it waits. */
struct waiter {
    green_t *g;
    struct waiter *next;
    void *item;         /* a getter's: handed to it; a putter's: its own */
    int served;         /* someone did what this waiter waited for */
};

struct waitlist {
    struct waiter *head, *tail;   /* oldest first */
};

/* Invariants: getters wait only while the buffer is empty, putters only
 * while it is full.  Handing over directly is what keeps them. */
struct ex_queue {
    void **items;           /* ring buffer of maxsize slots */
    size_t maxsize, head, len;
    struct waitlist getters, putters;
};

ex_queue *ex_queue_new(size_t maxsize)
{
    ex_queue *q = calloc(1, sizeof *q);
    if (q == NULL || maxsize == 0)
        goto fail;
    q->items = malloc(maxsize * sizeof *q->items);
    if (q->items == NULL)
        goto fail;
    q->maxsize = maxsize;
    return q;
fail:
    free(q);
    errno = maxsize == 0 ? EINVAL : ENOMEM;
    return NULL;
}

void ex_queue_free(ex_queue *q)
{
    if (q == NULL)
        return;
    free(q->items);
    free(q);
}

size_t ex_queue_len(const ex_queue *q)
{
    return q->len;
}

static void push(ex_queue *q, void *item)
{
    q->items[(q->head + q->len) % q->maxsize] = item;
    q->len++;
}

static void *pop(ex_queue *q)
{
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->maxsize;
    q->len--;
    return item;
}

/* ---- Lists of waiters -------------------------------------------------- */

static void append(struct waitlist *l, struct waiter *w)
{
    w->next = NULL;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
}

/* The oldest waiter, taken off the list, or NULL. */
static struct waiter *take_first(struct waitlist *l)
{
    struct waiter *w = l->head;
    if (w) {
        l->head = w->next;
        if (l->head == NULL)
            l->tail = NULL;
    }
    return w;
}

/* A waiter that gave up (timeout, kill) leaves from wherever it is. */
static void unlink_waiter(struct waitlist *l, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *p = l->head; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = w->next;
        else
            l->head = w->next;
        if (l->tail == w)
            l->tail = prev;
        return;
    }
}

/* It is off the list already: nobody else can serve it twice. */
static void serve(struct waiter *w)
{
    w->served = 1;
    green_ready(w->g, w);
}

/* ---- Waiting ------------------------------------------------------------ */

static char timed_out;      /* the timer's wake-up value; serve's is the node */

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

/* Join the list and park until served, timed out or killed.  Returns 0
 * when served, else -1 with errno, off the list. */
static int wait_in(struct waitlist *l, struct waiter *me, double timeout)
{
    if (timeout == 0) {                 /* asked not to wait */
        errno = ETIMEDOUT;
        return -1;
    }
    me->g = green_current();
    me->served = 0;
    struct event *timer = NULL;
    if (timeout > 0 && (timer = start_timer(me->g, timeout)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    append(l, me);

    int err = 0;
    while (!me->served && err == 0) {
        void *why = green_hub_switch();
        if (me->served)
            break;                      /* served wins, whatever else came */
        if (why == NULL)
            err = errno;                /* killed (ECANCELED), or EDEADLK */
        else if (why == &timed_out)
            err = ETIMEDOUT;
    }

    if (timer)
        event_free(timer);              /* fired or not; may change errno */
    if (me->served)
        return 0;
    unlink_waiter(l, me);
    errno = err;
    return -1;
}

/* ---- Put and get -------------------------------------------------------- */

int ex_queue_put(ex_queue *q, void *item, double timeout)
{
    struct waiter *getter = take_first(&q->getters);
    if (getter) {                       /* the buffer is empty: hand it over */
        getter->item = item;
        serve(getter);
        return 0;
    }
    if (q->len < q->maxsize) {
        push(q, item);
        return 0;
    }
    struct waiter me = { .item = item };   /* full: a getter moves it in */
    return wait_in(&q->putters, &me, timeout);
}

int ex_queue_get(ex_queue *q, void **item, double timeout)
{
    if (q->len > 0) {
        *item = pop(q);
        /* The freed slot is the first putter's, before any newcomer's. */
        struct waiter *putter = take_first(&q->putters);
        if (putter) {
            push(q, putter->item);
            serve(putter);
        }
        return 0;
    }
    struct waiter me = { 0 };
    if (wait_in(&q->getters, &me, timeout) != 0)
        return -1;
    *item = me.item;
    return 0;
}

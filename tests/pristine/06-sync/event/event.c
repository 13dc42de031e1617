/* event.c - exercise 06-sync/event.  Read event.h first. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "green.h"
#include "event.h"

/* TODO: a node for each waiting greenlet (see event.h, the recipe). */

struct ex_event {
    int flag;
    /* TODO: the list of waiters */
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
    /* TODO: set the flag, then wake every waiter, first come first. */
    (void)e;
}

void ex_event_clear(ex_event *e)
{
    /* TODO */
    (void)e;
}

int ex_event_is_set(const ex_event *e)
{
    return e->flag;
}

/* TODO: the timer's callback: make the waiter ready with your token. */

int ex_event_wait(ex_event *e, double timeout)
{
    /* TODO: return at once when set; otherwise join the list, start a
     * timer if timeout > 0, green_hub_switch(), then clean up. */
    (void)e;
    (void)timeout;
    errno = ENOSYS;
    return -1;
}

/* usleep.c - solution of exercise 05-patch/usleep.  See usleep.h. */
#include "green.h"
#include "usleep.h"

/* Inside a greenlet: the thread has a hub, and we are not the hub.
 * green_hub_active() first, because green_hub() would create a hub. */
static int in_greenlet(void)
{
    return green_hub_active() && green_current() != green_hub();
}

int __wrap_usleep(useconds_t usec)
{
    if (!in_greenlet())
        return __real_usleep(usec);
    return green_sleep(usec / 1e6);   /* 0 yields; -1 and ECANCELED when killed */
}

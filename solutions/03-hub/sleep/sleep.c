/* sleep.c - solution of exercise 03-hub/sleep.  See sleep.h. */
#include <errno.h>
#include <event2/event.h>

#include "green.h"
#include "sleep.h"

/* The timer went off: the sleeper can run again.  The value handed over is
 * the sleeper itself, never NULL, so that NULL means "killed". */
static void wake_sleeper(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    green_ready(arg, arg);
}

static int yield(green_t *me)
{
    green_ready(me, me);                /* back of the queue... */
    return green_hub_switch() ? 0 : -1; /* ...and let the others go first */
}

int ex_sleep(double seconds)
{
    green_t *me = green_current();

    /* A killed greenlet must not queue itself or arm a timer: its switch
     * would fail at once and leave them behind. */
    if (green_killed(me)) {
        errno = ECANCELED;
        return -1;
    }
    if (seconds <= 0)
        return yield(me);

    struct event *timer = evtimer_new(green_hub_base(), wake_sleeper, me);
    if (timer == NULL) {
        errno = ENOMEM;
        return -1;
    }
    long whole = (long)seconds;
    struct timeval tv = { .tv_sec = whole,
                          .tv_usec = (long)((seconds - whole) * 1e6 + 0.5) };
    if (tv.tv_usec >= 1000000) {        /* 1.9999999 rounds up to 2 s */
        tv.tv_sec++;
        tv.tv_usec -= 1000000;
    }
    evtimer_add(timer, &tv);

    void *woken = green_hub_switch();   /* NULL: killed (errno ECANCELED) */
    int saved = errno;

    event_free(timer);                  /* deletes it if it is still pending */
    if (woken == NULL) {
        errno = saved;
        return -1;
    }
    return 0;
}

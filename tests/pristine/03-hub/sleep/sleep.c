/* sleep.c - exercise 03-hub/sleep.  Read sleep.h first. */
#include <errno.h>
#include <event2/event.h>

#include "green.h"
#include "sleep.h"

/* TODO: the timer's callback: make the sleeper (arg) ready. */

int ex_sleep(double seconds)
{
    /* TODO: yield when seconds <= 0; otherwise add a timer, switch to the
     * hub, then free the timer whatever woke you.  Return 0, or -1 with
     * errno ECANCELED when killed.  Until then: -1 with errno ENOSYS
     * ("not implemented"). */
    (void)seconds;
    errno = ENOSYS;
    return -1;
}

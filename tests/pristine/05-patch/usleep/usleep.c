/* usleep.c - exercise 05-patch/usleep.  Read usleep.h first. */
#include "green.h"
#include "usleep.h"

int __wrap_usleep(useconds_t usec)
{
    /* TODO: outside a greenlet, be the original; inside one, sleep with
     * green_sleep() so that the others run meanwhile. */
    return __real_usleep(usec);
}

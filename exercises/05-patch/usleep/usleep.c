/* usleep.c - exercise 05-patch/usleep.  Read usleep.h first. */
#include <errno.h>

#include "green.h"
#include "usleep.h"

int __wrap_usleep(useconds_t usec)
{
    /* TODO: outside a greenlet, be the original (return
     * __real_usleep(usec)); inside one, sleep with green_sleep() so that
     * the others run meanwhile.  Until then every usleep() of the tests
     * fails: -1 with errno ENOSYS ("not implemented"). */
    (void)usec;
    errno = ENOSYS;
    return -1;
}

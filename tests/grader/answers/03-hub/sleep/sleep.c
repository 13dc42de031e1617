/* A broken answer for the grader's tests: it parks without a timer, so the
 * hub reports a deadlock and fails the wait with EDEADLK; the answer tries
 * again, forever, and the hub prints its report every time. */
#include <errno.h>

#include "green.h"
#include "sleep.h"

int ex_sleep(double seconds)
{
    (void)seconds;
    while (green_hub_switch() == NULL && errno == EDEADLK)
        ;                           /* "try again": the bug */
    return 0;
}

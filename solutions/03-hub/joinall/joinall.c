/* joinall.c - solution of exercise 03-hub/joinall.  See joinall.h. */
#include <errno.h>
#include <time.h>

#include "green.h"
#include "joinall.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int ex_joinall(green_t **gs, int n, double timeout)
{
    double deadline = now() + timeout;  /* one deadline for all of them */

    for (int i = 0; i < n; i++) {
        double left = GREEN_FOREVER;
        if (timeout >= 0) {
            left = deadline - now();
            if (left < 0)
                left = 0;               /* still fine if gs[i] is dead */
        }
        if (green_join(gs[i], left) < 0)
            return -1;                  /* errno from green_join() */
    }
    return 0;
}

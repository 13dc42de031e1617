/* joinall.c - solution of exercise 03-hub/joinall.  See joinall.h. */
#include <errno.h>

#include "green.h"
#include "joinall.h"

int ex_joinall(green_t **gs, int n, double timeout)
{
    double deadline = green_now() + timeout;  /* one deadline for all of them */

    for (int i = 0; i < n; i++) {
        double left = GREEN_FOREVER;
        if (timeout >= 0) {
            left = deadline - green_now();
            if (left < 0)
                left = 0;               /* still fine if gs[i] is dead */
        }
        if (green_join(gs[i], left) < 0)
            return -1;                  /* errno from green_join() */
    }
    return 0;
}

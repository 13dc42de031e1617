/* A broken answer for the grader's tests: an endless loop. */
#include "green.h"
#include "crunch.h"

long ex_crunch(long limit, long every)
{
    volatile long spins = 0;        /* volatile: the loop cannot be removed */
    (void)every;
    for (long n = 0; n < limit; )   /* the bug: n never moves */
        spins++;
    return spins;
}

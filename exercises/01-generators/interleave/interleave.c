/* interleave.c - exercise 01-generators/interleave.  Read interleave.h
 * first. */
#include <errno.h>

#include "interleave.h"

int ex_interleave(green_gen_t **gens, int n, void **out, int max)
{
    /* TODO: resume gens[0], gens[1], ... gens[n-1], then gens[0] again,
     * skipping finished ones, storing every yielded value in out; stop
     * when all have finished or out holds max values.  Return the number
     * of values stored.  Until then it fails: -1 with errno ENOSYS ("not
     * implemented"). */
    (void)gens;
    (void)n;
    (void)out;
    (void)max;
    errno = ENOSYS;
    return -1;
}

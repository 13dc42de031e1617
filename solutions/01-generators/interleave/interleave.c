/* interleave.c - solution of exercise 01-generators/interleave.
 * See interleave.h. */
#include "interleave.h"

int ex_interleave(green_gen_t **gens, int n, void **out, int max)
{
    int stored = 0;
    int yielded;    /* values stored in the current round */

    do {
        yielded = 0;
        /* Room is checked before each resume: a generator cannot take a
         * value back, so resuming one with out full would lose it. */
        for (int i = 0; i < n && stored < max; i++) {
            if (green_gen_done(gens[i]))
                continue;
            if (green_gen_next(gens[i], &out[stored])) {
                stored++;
                yielded++;
            }
        }
    } while (yielded > 0 && stored < max);
    return stored;
}

/*
 * interleave.h - exercise 01-generators/interleave: the round-robin scheduler.
 *
 * Fill in interleave.c (look for TODO): write the loop that article 003
 * section 1.1 writes as
 *
 *     while True:
 *         t1.__next__()
 *         t2.__next__()
 *
 * for any number of generators, collecting what they yield, and stopping
 * when they have all finished.
 *
 * What it must do (the tests check each point)
 *   int ex_interleave(green_gen_t **gens, int n, void **out, int max);
 *
 *   - Resume the generators gens[0] .. gens[n-1] in rounds: gens[0],
 *     gens[1], ..., gens[n-1], then gens[0] again, and so on.
 *   - Each value a generator yields goes into the next slot of out:
 *     out[0], out[1], ...  Return how many values were stored.
 *   - A finished generator is skipped from then on; the others keep their
 *     order.  Lengths 3, 1 and 2 give  a1 b1 c1 a2 c2 a3.
 *   - Return when every generator has finished, or when out holds max
 *     values.  Never resume a generator when out is already full: its
 *     value would be lost.
 *   - n = 0 or max = 0: return 0 without resuming anything.
 *
 * Hints
 *   - green_gen_next(g, &v) runs g to its next yield: it returns 1 and
 *     puts the value in v, or returns 0 when g has finished (and keeps
 *     returning 0).  green_gen_done(g) says whether g has finished.
 *   - Two loops: an outer one for the rounds, an inner one over the array.
 *     When a whole round yields nothing, everything has finished.
 *   - lib/01-generators/gen.h's green_gen_round_robin does the same without
 *     collecting the values; write yours fresh (the tests cannot see the
 *     library's loop anyway).
 *   - No generator macros here: this is the caller's side, an ordinary
 *     function with ordinary locals.
 *
 * Lesson: chapters/01-generators/README.md,
 *         "The round-robin loop: the first scheduler", then
 *         "Exercise: interleave".
 * Tests:  tests/exercises/01-generators/interleave.c
 * Run:    make grade E=interleave
 * Stuck?  make hint E=interleave (one more hint each time you ask)
 */
#ifndef EX_INTERLEAVE_H
#define EX_INTERLEAVE_H

#include "green.h"

/* Resume the n generators in round-robin order; store each yielded value
 * in out (at most max of them) and return how many were stored. */
int ex_interleave(green_gen_t **gens, int n, void **out, int max);

#endif

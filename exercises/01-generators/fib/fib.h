/*
 * fib.h - exercise 01-generators/fib: a Fibonacci generator.
 *
 * Fill in fib.c (look for TODO) so that, after
 *
 *     struct ex_fib f;
 *     ex_fib_init(&f, n);
 *
 * the generator &f.gen yields the first n Fibonacci numbers, one per call
 * of green_gen_next, and then finishes:
 *
 *     0, 1, 1, 2, 3, 5, 8, 13, 21, 34, ...   (each number is the sum of
 *                                             the two before it)
 *
 * What it must do (the tests check each point)
 *   - Each yield hands out a `long *` that points at a long INSIDE the
 *     struct ex_fib (for instance &f->a), holding the number.  The caller
 *     reads it before resuming the generator again.
 *   - Exactly n values, then green_gen_next returns 0, and keeps returning
 *     0 on every later call.  n = 0 (or less) yields nothing at all.
 *   - n larger than EX_FIB_MAX counts as EX_FIB_MAX, so that every number
 *     fits in a 64-bit long.
 *   - Two struct ex_fib are independent: resuming one never changes what
 *     the other yields.
 *   - ex_fib_init may be called again on a used (or finished) struct: it
 *     starts over from 0.
 *
 * Hints
 *   - Model: the counter in the comment at the top of lib/01-generators/gen.h,
 *     and counter_step in chapters/01-generators/locals.c.
 *   - Everything that must survive a yield goes in the struct below: how
 *     many numbers are wanted (n), how many were handed out (i), and the
 *     two most recent numbers (a, b).  A local variable is fine only for a
 *     value you do not need after the next GREEN_GEN_YIELD.
 *   - ex_fib_init sets the fields and calls green_gen_init with your step
 *     function; green_gen_init is what makes the next call start from the
 *     top.
 *   - Stuck?  Write the loop in Python first (a generator with `yield a`),
 *     then put every variable of it in the struct.
 *
 * Lesson: chapters/01-generators/README.md, "How the macros work",
 *         "State lives in a struct", then "Exercise: fib".
 * Tests:  tests/exercises/01-generators/fib.c
 * Run:    make grade E=fib
 * Stuck?  make hint E=fib (one more hint each time you ask)
 */
#ifndef EX_FIB_H
#define EX_FIB_H

#include "green.h"

/* The most numbers one generator yields: F(0) .. F(89).  F(91), the
 * largest number an implementation may compute one step ahead, is still
 * below 2^63. */
#define EX_FIB_MAX 90

struct ex_fib {
    green_gen_t gen;  /* first member: a struct ex_fib * is a green_gen_t * */
    int n;          /* how many numbers to yield */
    int i;          /* how many have been yielded so far */
    long a;         /* the number to yield next */
    long b;         /* the one after it */
};

/* Make f ready to yield the first n Fibonacci numbers (see above). */
void ex_fib_init(struct ex_fib *f, int n);

#endif

/* fib.c - exercise 01-generators/fib.  Read fib.h first. */
#include "fib.h"

static int fib_step(green_gen_t *g)
{
    struct ex_fib *f = (struct ex_fib *)g;
    GREEN_GEN_BEGIN(g);
    /* TODO: while fewer than f->n numbers have been yielded, yield a
     * pointer to the current number (GREEN_GEN_YIELD(g, &f->a)), then
     * move a and b one step along the sequence.  As written, the
     * generator finishes at once without yielding anything. */
    (void)f;
    GREEN_GEN_END(g);
}

void ex_fib_init(struct ex_fib *f, int n)
{
    /* TODO: store n (clamped to 0 .. EX_FIB_MAX) and set i, a and b to
     * where the sequence starts. */
    (void)n;
    green_gen_init(&f->gen, fib_step);
}

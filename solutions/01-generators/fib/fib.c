/* fib.c - solution of exercise 01-generators/fib.  See fib.h. */
#include "fib.h"

static int fib_step(green_gen_t *g)
{
    struct ex_fib *f = (struct ex_fib *)g;
    GREEN_GEN_BEGIN(g);
    for (f->i = 0; f->i < f->n; f->i++) {
        GREEN_GEN_YIELD(g, &f->a);
        /* A local is fine here: `next` is not needed after a yield. */
        long next = f->a + f->b;
        f->a = f->b;
        f->b = next;
    }
    GREEN_GEN_END(g);
}

void ex_fib_init(struct ex_fib *f, int n)
{
    if (n < 0)
        n = 0;
    if (n > EX_FIB_MAX)
        n = EX_FIB_MAX;
    f->n = n;
    f->i = 0;
    f->a = 0;
    f->b = 1;
    green_gen_init(&f->gen, fib_step);
}

/* A broken answer for the grader's tests: it crashes (a NULL pointer), and
 * it warns (an unused variable). */
#include <stddef.h>

#include "fib.h"

static int fib_step(green_gen_t *g)
{
    struct ex_fib *f = (struct ex_fib *)g;
    GREEN_GEN_BEGIN(g);
    while (f->i < f->n) {
        GREEN_GEN_YIELD(g, &f->a);
        f->i++;
        long next = f->a + f->b;
        f->a = f->b;
        f->b = next;
    }
    GREEN_GEN_END(g);
}

void ex_fib_init(struct ex_fib *f, int n)
{
    int unused_total;               /* -Wunused-variable */
    struct ex_fib *lost = NULL;
    if (n > 0)
        f = lost;                   /* the crash: f is NULL from here on */
    f->n = n < 0 ? 0 : n > EX_FIB_MAX ? EX_FIB_MAX : n;
    f->i = 0;
    f->a = 0;
    f->b = 1;
    green_gen_init(&f->gen, fib_step);
}

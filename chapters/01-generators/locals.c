/*
 * locals.c - why a local variable does not survive a yield.
 *
 * A stackless generator really returns at every yield, so its locals die
 * there; the next call starts the function from the top again (running
 * every initialisation on the way) and then jumps to the label after the
 * yield.  Two counters that should both count 0, 1, 2, 3, 4:
 *   - broken_step keeps its counter in a local: it starts again at 0 on
 *     every call, so it never gets past 1 and never finishes;
 *   - counter_step keeps it in the struct, which outlives every call.
 */
#include <stdio.h>

#include "green.h"

struct counter {
    green_gen_t gen;
    int n;      /* count from 0 to n - 1 */
    int i;      /* the counter, for counter_step */
    int out;    /* the value handed out by broken_step */
};

static int broken_step(green_gen_t *g)
{
    struct counter *c = (struct counter *)g;
    int i = 0;                  /* runs on every call, not once */
    GREEN_GEN_BEGIN(g);
    for (; i < c->n; i++) {
        c->out = i;             /* never yield &i: i dies at the return */
        GREEN_GEN_YIELD(g, &c->out);
    }                           /* resumed: i is 0 again, i++ makes it 1 */
    GREEN_GEN_END(g);
}

static int counter_step(green_gen_t *g)
{
    struct counter *c = (struct counter *)g;
    GREEN_GEN_BEGIN(g);
    for (c->i = 0; c->i < c->n; c->i++)
        GREEN_GEN_YIELD(g, &c->i);
    GREEN_GEN_END(g);
}

/* Print what `step` yields, but give up after `limit` values. */
static void show(const char *name, green_gen_fn_t step, int limit)
{
    struct counter c = { .n = 5 };
    void *v;
    int got = 0;

    green_gen_init(&c.gen, step);
    printf("%-16s", name);
    while (got < limit && green_gen_next(&c.gen, &v)) {
        printf(" %d", *(int *)v);
        got++;
    }
    if (green_gen_done(&c.gen))
        printf("   finished after %d values\n", got);
    else
        printf("   ... still going after %d values: stopped it\n", got);
}

int main(void)
{
    show("local counter:", broken_step, 8);
    show("struct counter:", counter_step, 8);
    return 0;
}

/*
 * expand.c - what the generator macros turn into.
 *
 * countdown_macro is written with GREEN_GEN_BEGIN/YIELD/END;
 * countdown_by_hand is the same function with the macros expanded by hand
 * (and tidied).  The whole trick is a switch whose case label sits inside
 * the for loop: a resumed call jumps straight into the middle of the loop.
 */
#include <stdio.h>

#include "green.h"

struct countdown {
    green_gen_t gen;
    int i;
};

static int countdown_macro(green_gen_t *g)
{
    struct countdown *c = (struct countdown *)g;
    GREEN_GEN_BEGIN(g);
    for (c->i = 3; c->i > 0; c->i--)
        GREEN_GEN_YIELD(g, &c->i);
    GREEN_GEN_END(g);
}

static int countdown_by_hand(green_gen_t *g)
{
    struct countdown *c = (struct countdown *)g;
    switch (g->resume) {
    case 0:                             /* first call: start at the top */
        for (c->i = 3; c->i > 0; c->i--) {
            g->value = &c->i;
            g->resume = 1;              /* the macro uses __LINE__ here */
            return 1;                   /* yield */
    case 1:;                            /* next call lands here, in the loop */
        }
    }
    g->resume = -1;                     /* finished: no case matches -1 */
    g->value = NULL;
    return 0;
}

static void show(const char *name, green_gen_fn_t step)
{
    struct countdown c;
    void *v;

    green_gen_init(&c.gen, step);
    printf("%-10s", name);
    while (green_gen_next(&c.gen, &v))
        printf(" %d", *(int *)v);
    printf("   (resume = %d: finished)\n", c.gen.resume);
}

int main(void)
{
    show("macros:", countdown_macro);
    show("by hand:", countdown_by_hand);
    return 0;
}

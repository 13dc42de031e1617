/* gen.c - chapter 1: stackless generators.  See gen.h. */
#include "gen.h"

#include <stddef.h>

void green_gen_init(green_gen_t *g, green_gen_fn_t step)
{
    g->resume = 0;
    g->step = step;
    g->value = NULL;
}

int green_gen_next(green_gen_t *g, void **value)
{
    /* A finished generator's body is not entered again: its struct may hold
     * state the body no longer expects to see. */
    if (g->resume == -1)
        return 0;
    int yielded = g->step(g);
    if (yielded && value)
        *value = g->value;
    return yielded;
}

int green_gen_done(const green_gen_t *g)
{
    return g->resume == -1;
}

long green_gen_round_robin(green_gen_t **gens, int n, long max_rounds)
{
    long steps = 0;
    for (long round = 0; max_rounds < 0 || round < max_rounds; round++) {
        int alive = 0;
        for (int i = 0; i < n; i++) {
            if (green_gen_next(gens[i], NULL)) {
                steps++;
                alive++;
            }
        }
        if (alive == 0)
            break;
    }
    return steps;
}

/*
 * gen.h - chapter 1: stackless generators.
 *
 * A generator is a function that can stop in the middle ("yield") and later
 * continue where it stopped.  Python gets this from the language; C does not,
 * so we build it from a switch statement whose case labels sit *inside* the
 * body of the function (the trick of Duff's device and of Simon Tatham's
 * coroutines).  Each call of the generator function jumps straight to the
 * label after the last yield.
 *
 * The price of having no stack of its own: a local variable does not survive
 * a yield, because the function really returns each time.  Everything that
 * must live across a yield belongs in a struct that outlives the call.  The
 * usual shape is a struct that starts with a green_gen_t:
 *
 *     struct counter { green_gen_t gen; int i, n; };
 *
 *     static int counter_step(green_gen_t *g)
 *     {
 *         struct counter *c = (struct counter *)g;
 *         GREEN_GEN_BEGIN(g);
 *         for (c->i = 0; c->i < c->n; c->i++)
 *             GREEN_GEN_YIELD(g, &c->i);
 *         GREEN_GEN_END(g);
 *     }
 *
 * Rules the macros cannot check for you:
 *   - state that lives across a yield goes in the struct, never in a local;
 *   - GREEN_GEN_YIELD may not appear inside a `switch` of your own;
 *   - one GREEN_GEN_YIELD per source line (its label is the line number).
 */
#ifndef GREEN_GEN_H
#define GREEN_GEN_H

typedef struct green_gen green_gen_t;

/* A step function runs the generator up to its next yield.  It returns 1
 * when it yielded (a value is in g->value) and 0 when it has finished. */
typedef int (*green_gen_fn_t)(green_gen_t *g);

struct green_gen {
    int resume;        /* where to continue: 0 = the start, -1 = finished,
                          otherwise the line number of the last yield */
    green_gen_fn_t step; /* the generator's body */
    void *value;       /* what the last yield produced */
};

/* Enter the body: jump to where the last call left off. */
#define GREEN_GEN_BEGIN(g)   switch ((g)->resume) { case 0:

/* Hand `v` to the caller and return; the next call resumes on this line. */
#define GREEN_GEN_YIELD(g, v)                                               \
    do {                                                                    \
        (g)->value = (v);                                                   \
        (g)->resume = __LINE__;                                             \
        return 1;                                                           \
        case __LINE__:;                                                     \
    } while (0)

/* Leave the body for good: every later call returns 0 at once. */
#define GREEN_GEN_END(g)     } (g)->resume = -1; (g)->value = 0; return 0

/* Make `g` ready to run `step` from its first line. */
void green_gen_init(green_gen_t *g, green_gen_fn_t step);

/* Run `g` to its next yield.  Returns 1 and stores the yielded value in
 * *value (when value is not NULL), or returns 0 once the generator has
 * finished (then and on every later call).  Python: next(g). */
int green_gen_next(green_gen_t *g, void **value);

/* 1 when `g` has run off its end, else 0. */
int green_gen_done(const green_gen_t *g);

/* The scheduler of article 003 section 1.1: resume each unfinished generator
 * in turn, in array order, round after round, until all have finished or
 * `max_rounds` rounds have run (max_rounds < 0: no limit).  Returns the number
 * of steps that yielded. */
long green_gen_round_robin(green_gen_t **gens, int n, long max_rounds);

#endif

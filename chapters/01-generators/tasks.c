/*
 * tasks.c - article 003, section 1.1, in C: two tasks take turns.
 *
 * In the article, task01 and task02 each print a line, sleep 0.2 s and
 * yield, forever, and main() calls next() on each in turn.  Here a task is
 * a generator whose state lives in a struct (its label and how many turns
 * it has had), so one step function serves every task.  The library's
 * round-robin loop plays the part of the article's `while True`, but stops
 * after a few rounds so the demo ends.
 */
#include <stdio.h>
#include <time.h>

#include "green.h"

enum { MAX_TASKS = 3 };

struct task {
    green_gen_t gen;  /* first member: a struct task * is a green_gen_t * */
    const char *label;  /* what this task prints */
    int turns;          /* lives across yields, so it lives here */
};

/* The article's time.sleep(0.2): it blocks the whole program, on purpose. */
static void sleep_a_little(void)
{
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

static int task_step(green_gen_t *g)
{
    struct task *t = (struct task *)g;
    GREEN_GEN_BEGIN(g);
    for (;;) {
        t->turns++;
        printf("%s   (turn %d)\n", t->label, t->turns);
        fflush(stdout);
        sleep_a_little();
        GREEN_GEN_YIELD(g, NULL);   /* back to the loop; resume here next time */
    }
    GREEN_GEN_END(g);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start n (at most MAX_TASKS) tasks, then let the round-robin loop run
 * them for `rounds` rounds. */
static void run_tasks(struct task *tasks, int n, long rounds)
{
    green_gen_t *gens[MAX_TASKS];
    for (int i = 0; i < n; i++) {
        green_gen_init(&tasks[i].gen, task_step);
        gens[i] = &tasks[i].gen;
    }
    double start = now();
    long steps = green_gen_round_robin(gens, n, rounds);
    printf("%ld rounds, %ld turns, %.1f s: one task at a time, the sleeps add up\n",
           rounds, steps, now() - start);
}

int main(void)
{
    struct task two[] = { { .label = "---1---" }, { .label = "---2---" } };
    printf("two tasks, 4 rounds:\n");
    run_tasks(two, 2, 4);

    struct task three[] = { { .label = "---1---" }, { .label = "---2---" },
                            { .label = "---3---" } };
    printf("three tasks, 2 rounds:\n");
    run_tasks(three, 3, 2);
    return 0;
}

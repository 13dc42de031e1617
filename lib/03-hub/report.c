/*
 * report.c - chapter 3: what the hub says when things go wrong: the list
 * of a thread's greenlets (green_dump) and the deadlock report.
 *
 * Its own file because it only reads: it walks the hub's greenlets
 * (green__hub_all) and describes each, and the scheduler calls it once,
 * when nothing can ever run again (green__report_deadlock).  Reading the
 * scheduler needs none of it.
 */
#include "internal.h"
#include "hub.h"

#include <errno.h>
#include <stdio.h>

/* ---- When things go wrong --------------------------------------------- */

static const char *state_of(const green_t *g)
{
    if (g->dead)
        return "dead";
    if (g == green_current())
        return "running";
    if (g->sched.queued)
        return "ready";
    if (!g->started)
        return "not started";
    return "waiting";
}

static void describe(FILE *out, const green_t *g)
{
    fprintf(out, "  %-20s %-12s", g->name, state_of(g));
    if (g->sched.waiting_on && !g->sched.queued && !g->dead) {
        fprintf(out, " in %s", g->sched.waiting_on);
        if (g->sched.waiting_for)
            fprintf(out, "('%s')", g->sched.waiting_for->name);
    }
    fputc('\n', out);
}

void green_dump(void)
{
    green_t *all = green__hub_all();
    green_t *main = green_hub()->main;
    fprintf(stderr, "green: greenlets of this thread:\n");
    describe(stderr, main);
    for (green_t *g = all; g; g = g->sched.all_next)
        if (g != main)
            describe(stderr, g);
}

/* Nothing is ready and no event is pending: whoever waits, waits forever.
 * Say who, and fail the main greenlet's wait so the program can go on
 * (gevent raises LoopExit in the main greenlet; Go panics with "all
 * goroutines are asleep"). */
void green__report_deadlock(void)
{
    green_t *all = green__hub_all();
    green_t *main = green_hub()->main;
    fprintf(stderr, "green: deadlock: every greenlet is waiting and nothing "
                    "can wake any of them:\n");
    describe(stderr, main);
    for (green_t *g = all; g; g = g->sched.all_next)
        if (g != main && !g->dead && !g->sched.queued && g->started)
            describe(stderr, g);
    fprintf(stderr, "green: main's wait fails with EDEADLK\n");
    green_ready(main, NULL);
    main->sched.wake_error = EDEADLK;
}

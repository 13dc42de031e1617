/*
 * trace_hooks.h - private, chapter 3: where the hub tells the timeline
 * (lib/03-hub/trace.c, trace.h) what happens.
 *
 * hub.c calls each hook at one place, behind a test of green__trace_on:
 *     if (green__trace_on)
 *         green__trace_run(g);
 * With tracing off (the default) that is one load and one branch the CPU
 * predicts every time, and no call: what the switch costs stays what it
 * was (make bench prints both).  Every hook runs on the thread of the hub
 * it reports, reads green_current() and g's sched fields (internal.h:
 * waiting_on, wait_obj, wait_fd, wait_until), and must not wait.
 */
#ifndef GREEN_TRACE_HOOKS_H
#define GREEN_TRACE_HOOKS_H

#include "internal.h"

/* Nonzero while a trace is being recorded (any thread). */
extern int green__trace_on;

/* Start a trace if the environment asks for one (GREEN_TRACE=FILE).  The
 * hub calls it when it is created; only the first call looks. */
void green__trace_from_env(void);

void green__trace_spawn(const green_t *g);   /* green_current() spawned g */
void green__trace_run(const green_t *g);     /* the hub resumes g */
void green__trace_back(const green_t *g);    /* g gave control back to the hub
                                                (parked, yielded or finished) */
void green__trace_park(const green_t *g);    /* g parks: its sched.wait_* say
                                                on what, and until when */
void green__trace_wake(const green_t *g);    /* green_current() readies g (the
                                                hub itself: a timer or fd) */
void green__trace_kill(const green_t *g);    /* green_current() kills g */
void green__trace_finish(const green_t *g);  /* g returns (or unwinds) */

#endif

/*
 * pool_spawn.h - exercise 07-servers/pool_spawn: a Pool's spawn, first
 * come first served.
 *
 * ex_pool_t pool;  ex_pool_init(&pool, N);
 * green_t *ex_pool_spawn(ex_pool_t *pool, green_fn_t fn, void *arg);
 *
 * A pool of size N runs at most N greenlets at once.  ex_pool_spawn()
 * spawns fn(arg) at once when fewer than N of the pool's greenlets are
 * running; otherwise it waits until one of them returns.  Several
 * spawners waiting are served in the order they came, and one that comes
 * along while others wait must queue behind them, even if it happens to
 * run just after a slot was freed (that is "barging": the tests check it).
 *
 * The struct below is given; keep its fields' meaning, the tests read
 * `running`:
 *   size     at most this many running;
 *   running  greenlets spawned by the pool whose function has not
 *            returned yet, plus slots handed to a woken spawner that has
 *            not spawned yet (see "hand the slot over" below);
 *   head, tail
 *            the spawners waiting for a slot, oldest first: each one is
 *            a struct ex_waiter on the waiting spawner's own stack.
 *
 * The recipe, in pool_spawn.c
 *   1. the greenlet's function: spawn not fn itself but a wrapper that
 *      calls fn(arg) and then gives its slot up: if a spawner waits, take
 *      the first one off the queue, set its `granted`, and wake it
 *      (green_ready); `running` stays as it is, since the slot goes
 *      straight to that spawner.  Else running--.
 *      The wrapper needs pool, fn and arg: malloc a small struct.
 *   2. ex_pool_spawn: if running < size and nobody waits, running++ and
 *      spawn.  Else put a struct ex_waiter at the tail of the queue and
 *      wait (green_hub_wait(GREEN_FOREVER)) until `granted` is set, then
 *      spawn (running was kept for you).  Detach the new greenlet
 *      (green_detach): the pool does not join its greenlets.
 *      Return the new greenlet, or NULL with errno ENOMEM.
 *   3. killed while waiting (green_hub_wait returns -1 with ECANCELED):
 *      return NULL with errno ECANCELED, but leave the pool right: take
 *      your waiter off the queue; and if a slot had been handed to you
 *      already, hand it on to the next waiter (or running--).
 *
 * Hints
 *   - green_hub_wait may return 0 without a slot for you (someone else
 *     woke you): check `granted` in a loop.
 *   - The tests never kill the pool's greenlets themselves (a greenlet
 *     killed before it starts never runs its wrapper, so its slot would
 *     be lost; lib/07-servers/pool.c handles that case, you need not).
 *   - See chapters/07-servers/README.md, "Pool: bounding concurrency".
 *
 * Lesson: chapters/07-servers/README.md, "Pool: bounding concurrency", then
 *         "Exercise: pool_spawn".
 * Tests:  tests/exercises/07-servers/pool_spawn.c
 * Run:    make grade E=pool_spawn
 * Stuck?  make hint E=pool_spawn (one more hint each time you ask)
 */
#ifndef EX_POOL_SPAWN_H
#define EX_POOL_SPAWN_H

#include "green.h"

struct ex_waiter {
    green_t *g;                 /* the waiting spawner */
    int granted;                /* set by whoever hands it a slot */
    struct ex_waiter *next;
};

typedef struct {
    int size;
    int running;
    struct ex_waiter *head, *tail;
} ex_pool_t;

void ex_pool_init(ex_pool_t *pool, int size);
green_t *ex_pool_spawn(ex_pool_t *pool, green_fn_t fn, void *arg);

#endif

/*
 * queue.h - exercise 06-sync/queue: write gevent's bounded Queue yourself.
 *
 *   ex_queue *ex_queue_new(size_t maxsize);   room for maxsize (>= 1) items
 *   void   ex_queue_free(ex_queue *q);
 *   int    ex_queue_put(ex_queue *q, void *item, double timeout);
 *   int    ex_queue_get(ex_queue *q, void **item, double timeout);
 *   size_t ex_queue_len(const ex_queue *q);   items in the queue now
 *
 * Build it only from the hub's primitives (hub.h, bottom part: green_ready,
 * green_hub_switch, green_current, green_hub_base) and libevent.
 * lib/06-sync/sync.h's green_queue_* is the model; do not call it.  queue.c
 * gives you the ring buffer (push, pop); the waiting is yours.
 *
 * What it must do
 *   - put adds the item at the end; while the queue is full it waits, at
 *     most `timeout` seconds (negative: no limit; 0: do not wait at all).
 *     get takes the first item into *item; while the queue is empty it
 *     waits the same way.  Both return 0, or -1 with errno ETIMEDOUT (time
 *     ran out), ECANCELED (the waiting greenlet was killed), or whatever
 *     errno green_hub_switch() failed with.
 *   - waiters are served first come, first served, and a woken waiter is
 *     never overtaken: when a put finds getters waiting, the item goes to
 *     the first getter directly (it never enters the buffer, where someone
 *     else could take it first); when a get frees a slot while putters
 *     wait, the first putter's item goes into that slot at once, and that
 *     putter is woken with its work done.
 *   - a wait that fails (timeout, kill) leaves no trace: the waiter is off
 *     its list, nothing was added or taken, no timer is left in libevent.
 *     A waiter that was served succeeds, even if its timer fired or it was
 *     killed before it got to run: the item it was handed is not lost.
 *
 * The recipe (see chapters/06-sync/README.md, "One pattern: a list of
 * waiters" and "FIFO fairness: hand it over"):
 *   - two lists of waiters, getters and putters, oldest first.  A node
 *     lives on the waiting greenlet's stack (a local of put or get):
 *         struct waiter { green_t *g; struct waiter *next; void *item; int served; };
 *     A getter's node receives the item; a putter's node carries its item.
 *   - to serve a waiter: take its node off the list, set `served` (and the
 *     item), green_ready(node->g, node).
 *   - to wait: add your node at the end of the list, start a timer if
 *     timeout > 0 (as in the event exercise), loop on green_hub_switch()
 *     until served or failed, event_free() the timer, and if not served,
 *     take your node off the list.
 *   - invariants that make it fair: getters wait only while the buffer is
 *     empty, putters only while it is full.
 *
 * Hints
 *   - Do the event exercise first: it is the same waiting, with one list.
 *   - Check `served` right after green_hub_switch() returns, before looking
 *     at why it returned: green_ready() of a greenlet already in the ready
 *     queue does nothing (the first wake-up wins), so a waiter woken by its
 *     timer may have been served too by the time it runs.
 *   - event_free() may change errno: save the errno you want to return.
 *   - Once your timer works, know the shortcut lib/06-sync/sync.c takes:
 *     green_hub_wait(timeout) (hub.h) arms the hub's own timer, parks, and
 *     deletes the timer however you were woken; it returns 0 when readied,
 *     or -1 with ETIMEDOUT, ECANCELED or EDEADLK.  You may use it instead.
 *
 * Lesson: chapters/06-sync/README.md, "One pattern: a list of waiters",
 *         "FIFO fairness: hand it over", then "Exercise: queue".
 * Tests:  tests/exercises/06-sync/queue.c
 * Run:    make grade E=queue
 * Stuck?  make hint E=queue (one more hint each time you ask)
 */
#ifndef EX_QUEUE_H
#define EX_QUEUE_H

#include <stddef.h>

typedef struct ex_queue ex_queue;

ex_queue *ex_queue_new(size_t maxsize);
void ex_queue_free(ex_queue *q);
int ex_queue_put(ex_queue *q, void *item, double timeout);
int ex_queue_get(ex_queue *q, void **item, double timeout);
size_t ex_queue_len(const ex_queue *q);

#endif

/*
 * event.h - exercise 06-sync/event: write gevent's Event yourself.
 *
 *   ex_event *ex_event_new(void);          a new event, not set
 *   void ex_event_free(ex_event *e);
 *   void ex_event_set(ex_event *e);        set the flag, wake every waiter
 *   void ex_event_clear(ex_event *e);      reset the flag
 *   int  ex_event_is_set(const ex_event *e);
 *   int  ex_event_wait(ex_event *e, double timeout);
 *
 * Build it only from the hub's primitives (hub.h, bottom part: green_ready,
 * green_hub_switch, green_current, green_killed, green_hub_base) and
 * libevent.  lib/06-sync/sync.h's green_event_* is the model; do not call it.
 *
 * What it must do
 *   - ex_event_wait() returns 0 at once, without switching to the hub, when
 *     the flag is set.  Otherwise it waits until ex_event_set(), at most
 *     `timeout` seconds (negative: no limit; 0: do not wait at all), and
 *     returns 0, or -1 with errno ETIMEDOUT (time ran out) or ECANCELED
 *     (the waiting greenlet was killed), or whatever errno
 *     green_hub_switch() failed with.
 *   - any other wake-up is no answer: when another greenlet readies the
 *     waiter with a value of its own (green_ready(waiter, something)),
 *     the event is not set and the time is not up, so wait on, until the
 *     event is set or the SAME deadline passes (a stray wake-up must not
 *     restart the timeout).  lib/06-sync/sync.c's green_event_wait does so
 *     ("wait on"), and gevent never answers "not set" for such a wake-up
 *     either (its Event.wait raises InvalidSwitchError).
 *   - ex_event_set() wakes EVERY greenlet waiting, in the order they began
 *     to wait.  A greenlet it woke returns 0 even if someone clears the
 *     event before that greenlet gets to run.
 *   - whatever ended a wait, leave nothing behind: the waiter is off the
 *     list (a later set must not wake a greenlet that stopped waiting, or
 *     is dead and freed), and its timer is gone from libevent.
 *
 * The recipe (see chapters/06-sync/README.md, "One pattern: a list of
 * waiters"):
 *   1. a waiting greenlet puts a node on the event's list of waiters.  The
 *      node lives on the waiter's own stack, for exactly as long as it
 *      waits (a local variable of ex_event_wait):
 *          struct waiter { green_t *g; struct waiter *next; int woken; };
 *      With a timeout, it also starts a libevent timer, as in chapter 3's
 *      sleep exercise: evtimer_new(green_hub_base(), callback, me), whose
 *      callback calls green_ready(me, some_token);
 *   2. it parks: green_hub_switch().  It returns the value handed to
 *      green_ready(), or NULL with errno set (killed: ECANCELED);
 *   3. ex_event_set() takes every node off the list, marks it woken and
 *      calls green_ready(node->g, node);
 *   4. back from green_hub_switch(): if the node is marked woken, the wait
 *      succeeded, whatever else happened meanwhile.  If not, look at the
 *      value: your timer's token means time ran out, NULL means failed
 *      (errno says why), anything else was a stray wake-up: go back to
 *      step 2, the timer still running.  When the wait failed, take the
 *      node off the list yourself.  Either way, event_free() the timer
 *      (careful: it may change errno).
 *
 * Hints
 *   - Waking in order: add new waiters at the END of the list and wake
 *     from the head.  Keep a tail pointer, or walk to the end.
 *   - Tell "the timer fired" from "set woke me" by the value: give the
 *     timer's green_ready() a token of your own (the address of a static
 *     variable), and set's green_ready() the node; neither is NULL, so NULL
 *     always means "failed, see errno".
 *   - green_ready() of a greenlet that is already in the ready queue does
 *     nothing: the first wake-up wins.  That is why `woken` is a field of
 *     the node and not only the value green_hub_switch() returns.
 *   - Include <event2/event.h> for evtimer_new and friends.
 *   - Once your timer works, know the shortcut lib/06-sync/sync.c takes:
 *     green_hub_wait(timeout) (hub.h) arms the hub's own timer, parks, and
 *     deletes the timer however you were woken; it returns 0 when readied,
 *     or -1 with ETIMEDOUT, ECANCELED or EDEADLK.  You may use it instead,
 *     in a loop that waits only for the time left after a stray wake-up.
 *
 * Lesson: chapters/06-sync/README.md, "One pattern: a list of waiters",
 *         "Event: wake everybody", then "Exercise: event".
 * Tests:  tests/exercises/06-sync/event.c
 * Run:    make grade E=event
 * Stuck?  make hint E=event (one more hint each time you ask)
 */
#ifndef EX_EVENT_H
#define EX_EVENT_H

typedef struct ex_event ex_event;

ex_event *ex_event_new(void);
void ex_event_free(ex_event *e);
void ex_event_set(ex_event *e);
void ex_event_clear(ex_event *e);
int ex_event_is_set(const ex_event *e);
int ex_event_wait(ex_event *e, double timeout);

#endif

/*
 * sleep.h - exercise 03-hub/sleep: write green_sleep() yourself.
 *
 * int ex_sleep(double seconds);
 *
 * Let the calling greenlet wait `seconds` while the hub runs everybody
 * else, exactly like green_sleep() (and Python's gevent.sleep()).  Build it
 * only from the hub's primitives (hub.h, bottom part) and libevent; do not
 * call green_sleep(), green_join() or any other waiting call of hub.h.
 *
 * What it must do
 *   - seconds > 0: return 0 after at least `seconds` (and not much more);
 *     meanwhile other greenlets run.  Several sleepers wake in the order of
 *     their deadlines, not in the order they fell asleep.
 *   - seconds <= 0: only yield: every greenlet that is ready now runs
 *     before ex_sleep() returns 0.
 *   - killed (green_kill) while sleeping, or before: return -1 with errno
 *     ECANCELED at once, not when the time is up.
 *   - whatever happened, leave nothing behind: no timer still registered
 *     with libevent (it would go off later, in the middle of some other
 *     wait, or after the greenlet is gone), no memory.
 *
 * The recipe (see chapters/03-hub/README.md, "Sleeping on a timer"):
 *   1. arrange to be woken: a libevent timer on the hub's event_base,
 *          struct event *ev = evtimer_new(green_hub_base(), callback, me);
 *          evtimer_add(ev, &tv);            (tv: a struct timeval)
 *      whose callback makes the sleeper ready: green_ready(me, value);
 *   2. green_hub_switch(): the hub runs the others until someone calls
 *      green_ready() on you.  It returns the value given to green_ready(),
 *      or NULL with errno ECANCELED when you were killed;
 *   3. undo step 1 whatever woke you: event_free(ev) deletes the timer if it
 *      is still pending and frees it.  Careful: event_free() may change
 *      errno, so keep the one green_hub_switch() set.
 *
 * Hints
 *   - green_current() is "me".  libevent passes the callback's last argument
 *     back to you as `void *arg`.
 *   - Pass a value that is never NULL to green_ready() (for example `me`):
 *     then a NULL from green_hub_switch() always means "something went wrong,
 *     errno says what".  See README, "Killing: ECANCELED and cleanup".
 *   - Converting seconds to a struct timeval: tv_sec is the whole part,
 *     tv_usec the rest in microseconds.
 *   - Yielding (seconds <= 0): put yourself at the back of the ready queue
 *     (green_ready(me, me)) and green_hub_switch().  Check green_killed(me)
 *     first: a killed greenlet must not put itself in the queue, because its
 *     switch will return at once and leave it queued.
 *     See README, "Yielding: sleep(0)".
 *   - Include <event2/event.h> for evtimer_new and friends.
 *
 * Lesson: chapters/03-hub/README.md, "Sleeping on a timer",
 *         "Yielding: sleep(0)", "Killing: ECANCELED and cleanup", then
 *         "Exercise: sleep".
 * Tests:  tests/exercises/03-hub/sleep.c
 * Run:    make grade E=sleep
 * Stuck?  make hint E=sleep (one more hint each time you ask)
 */
#ifndef EX_SLEEP_H
#define EX_SLEEP_H

int ex_sleep(double seconds);

#endif

/*
 * usleep.h - exercise 05-patch/usleep: green usleep() at link time.
 *
 * int __wrap_usleep(useconds_t usec);
 *
 * The tests of this exercise are linked with -Wl,--wrap=usleep.  From then
 * on, every call of usleep() in them comes to YOUR __wrap_usleep(), and
 * __real_usleep() is libc's usleep.  (The names are the linker's, which is
 * why this exercise's function is not called ex_something.)  Write the
 * wrapper that makes usleep() cooperative, as lib/05-patch/patch.c does for
 * the real library, without looking there first.
 *
 * What it must do
 *   - Outside a greenlet, be the original: call __real_usleep(usec) and
 *     return what it returns.  "Outside" means: the thread has no hub
 *     (green_hub_active() is 0), or the caller is the hub itself
 *     (green_current() == green_hub(): the hub runs libevent's callbacks and
 *     must never wait; green_sleep() would abort there).
 *   - Inside a greenlet (main counts, once the thread has a hub), sleep
 *     cooperatively: green_sleep(usec / 1e6) lets the others run.  Return
 *     0, or -1 with errno ECANCELED when the greenlet was killed (that is
 *     what green_sleep() returns).
 *   - usec == 0 inside a greenlet yields: green_sleep(0) already does that
 *     (gevent.sleep(0)).
 *   - Never create a hub: a program that never used greenlets must not get
 *     one because it called usleep().
 *
 * Hints
 *   - The order of the tests in your `if` matters: green_hub() and
 *     green_current() are fine once you know a hub exists, and
 *     green_hub() CREATES one when there is none.
 *   - usec is an integer number of microseconds; green_sleep() takes
 *     seconds as a double.  Watch out for integer division.
 *   - See chapters/05-patch/README.md, "Inside or outside a greenlet" and
 *     "Sleeping".
 *
 * Lesson: chapters/05-patch/README.md, "Inside or outside a greenlet",
 *         "Sleeping", then "Exercise: usleep".
 * Tests:  tests/exercises/05-patch/usleep.c
 * Run:    make grade E=usleep
 * Stuck?  make hint E=usleep (one more hint each time you ask)
 */
#ifndef EX_USLEEP_H
#define EX_USLEEP_H

#include <unistd.h>

/* Yours: every usleep() call of the program comes here. */
int __wrap_usleep(useconds_t usec);

/* libc's usleep, under the name the linker gives it with --wrap=usleep. */
int __real_usleep(useconds_t usec);

#endif

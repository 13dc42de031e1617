/*
 * joinall.h - exercise 03-hub/joinall: gevent.joinall(greenlets, timeout).
 *
 * int ex_joinall(green_t **gs, int n, double timeout);
 *
 * Wait until the n greenlets gs[0..n-1] are all dead, at most `timeout`
 * seconds IN ALL (a negative timeout, GREEN_FOREVER, means no limit).
 * Build it on green_join(); do not call green_joinall().
 *
 * What it must do
 *   - return 0 when every greenlet is dead (at once if they already are,
 *     and at once when n == 0);
 *   - return -1 with errno ETIMEDOUT when the deadline passes first; the
 *     greenlets that finished in time are dead (green_dead()), the others
 *     go on running;
 *   - when green_join() fails for another reason (ECANCELED: the caller was
 *     killed; EDEADLK: nothing can ever finish), return -1 with that errno.
 *
 * The trap: one deadline, not one timeout per greenlet.  With a timeout of
 * 0.5 s and greenlets finishing after 0.3, 0.6 and 0.9 s, joining each with
 * 0.5 s would return after 1.1 s.  Compute the deadline once, at the start;
 * before each green_join(), give it only the time left until the deadline
 * (never less than 0).  See chapters/03-hub/README.md, "Joining: join and
 * joinall".
 *
 * Hints
 *   - clock_gettime(CLOCK_MONOTONIC, ...) gives a clock that never jumps.
 *   - green_join() of a greenlet that is already dead returns 0 at once,
 *     even with a timeout of 0.
 *
 * Lesson: chapters/03-hub/README.md, "Joining: join and joinall", then
 *         "Exercise: joinall".
 * Tests:  tests/exercises/03-hub/joinall.c
 * Run:    make grade E=joinall
 * Stuck?  make hint E=joinall (one more hint each time you ask)
 */
#ifndef EX_JOINALL_H
#define EX_JOINALL_H

#include "green.h"

int ex_joinall(green_t **gs, int n, double timeout);

#endif

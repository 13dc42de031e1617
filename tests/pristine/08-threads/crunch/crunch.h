/*
 * crunch.h - exercise 08-threads/crunch: make a CPU-bound greenlet polite.
 *
 * long ex_crunch(long limit, long every);
 *
 * Count the prime numbers below `limit`, the slow way (trial division, the
 * is_prime() given in crunch.c), and give the other greenlets a turn every
 * `every` numbers, so that they keep running while the count goes on
 * (every <= 0: never yield, like the rude hog of hog.c).
 *
 * Why: greenlets are cooperative.  The hub only runs somebody else when
 * the running greenlet waits, and a loop that only computes never waits:
 * while it runs, every other greenlet of the thread stalls, timers fire
 * late, connections go unanswered (chapters/08-threads/README.md, "A
 * greenlet that never yields").  The cure is to wait for nothing now and
 * then: green_sleep(0) puts the caller at the back of the ready queue, so
 * every greenlet that is ready runs once, then the count goes on
 * ("Yielding: sleep(0)" in chapters/03-hub/README.md).
 *
 * What it must do
 *   - return the number of primes below limit (below 100: 25);
 *   - yield with green_sleep(0) once per `every` numbers tested: counting
 *     below 10,000 with every = 100 yields 100 times, not 1 and not 10,000
 *     (each yield costs two switches; yielding after every number would
 *     spend more time switching than counting);
 *   - when green_sleep(0) fails, the greenlet has been killed (errno is
 *     ECANCELED): stop counting at once and return -1 with errno ECANCELED.
 *     Without that check a killed cruncher would go on to the end, and
 *     green_kill() would give up waiting for it.
 *
 * Hints
 *   - the loop is already there, and it is the hog of chapters/08-threads/
 *     hog.c: it only needs its yield, and to return its count (until then
 *     crunch.c returns -1 with errno ENOSYS, "not implemented").
 *     (n + 1) % every == 0 is true once per `every` values of n.
 *   - green_sleep() returns 0, or -1 with errno set: see lib/03-hub/hub.h.
 *   - a sleeper that wants to wake every 10 ms now wakes late by one chunk
 *     of `every` numbers at most (times the hub's POLL_EVERY rounds, see
 *     README, "A greenlet that never yields"), instead of by the whole count.
 *
 * Lesson: chapters/08-threads/README.md, "A greenlet that never yields", then
 *         "Exercise: crunch".
 * Tests:  tests/exercises/08-threads/crunch.c
 * Run:    make grade E=crunch
 * Stuck?  make hint E=crunch (one more hint each time you ask)
 */
#ifndef EX_CRUNCH_H
#define EX_CRUNCH_H

long ex_crunch(long limit, long every);

#endif

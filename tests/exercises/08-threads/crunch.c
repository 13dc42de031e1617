/* Tests of exercise 08-threads/crunch: a CPU-bound greenlet made polite. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "crunch.h"

#define LESSON "chapters/08-threads/README.md"

START_TEST(test_counts_the_primes)
{
    long below_100 = ex_crunch(100, 10);
    long below_2 = ex_crunch(2, 1);
    long below_100000 = ex_crunch(100000, 1000);

    ck_assert_msg(below_100 == 25, "ex_crunch(100, 10) should count 25 primes below 100, got %ld; see crunch.h", below_100);
    ck_assert_msg(below_2 == 0, "ex_crunch(2, 1) should count 0 primes (there are none below 2), got %ld; see crunch.h", below_2);
    ck_assert_msg(below_100000 == 9592, "ex_crunch(100000, 1000) should count 9592 primes, got %ld; see crunch.h", below_100000);
    green_hub_destroy();
}
END_TEST

/* A greenlet that counts its turns: it yields right back each time. */
static int turns, stop;

static void *turn_counter(void *arg)
{
    (void)arg;
    while (!stop && green_sleep(0) == 0)
        turns++;
    return NULL;
}

START_TEST(test_yields_once_per_every)
{
    green_t *g = green_spawn(turn_counter, NULL);
    long count = ex_crunch(10000, 100);
    int seen = turns;
    stop = 1;
    green_join(g, GREEN_FOREVER);
    green_free(g);

    ck_assert_msg(count == 1229, "ex_crunch(10000, 100) should count 1229 primes, got %ld; see crunch.h", count);
    ck_assert_msg(seen >= 90 && seen <= 110,
                  "while ex_crunch(10000, 100) ran, a ready greenlet got %d turns; expected about 100 "
                  "(one green_sleep(0) per 100 numbers: 0 means it never yields, 10000 that it yields after every number); "
                  KIT_LESSON(LESSON, "A greenlet that never yields"), seen);
    green_hub_destroy();
}
END_TEST

/* How long the test crunches at most, waiting for the ticker to wake 3
 * times: 30 ms of sleeps, with room for a slow or loaded machine. */
#define CRUNCH_BUDGET 3.0

/* What the lesson means, on any machine: while the count runs, a sleeper
 * wakes.  The work is sized by the clock, not by a fixed count (a fixed
 * count takes 25 ms on one CPU and 100 ms on another): main counts in
 * pieces, never yielding itself, until the ticker has woken 3 times.  Its
 * wake-ups can only happen inside ex_crunch, at its green_sleep(0); a count
 * that never yields keeps it asleep however long it runs. */
START_TEST(test_sleeper_wakes_on_time)
{
    green_t *g = kit_ticker_start(0.01);    /* wakes every 10 ms, counts */
    green_sleep(0.001);                 /* the ticker starts its first sleep */
    double t0 = green_now();
    int pieces = 0;
    long count = 3245;                  /* primes below 30,000 */
    while (kit_ticks() < 3 && count == 3245 && green_now() - t0 < CRUNCH_BUDGET) {
        count = ex_crunch(30000, 100);
        pieces++;
    }
    double took = green_now() - t0;
    int seen = kit_ticker_stop(g);

    ck_assert_msg(count == 3245, "ex_crunch(30000, 100) should count 3245 primes, got %ld%s; see crunch.h",
                  count, count == -1 ? (errno == ENOSYS ? " (ENOSYS: not implemented yet)" : " (errno set)") : "");
    ck_assert_msg(seen >= 3,
                  "a greenlet sleeping 10 ms at a time woke %d times in %.3f s of counting (%d calls of "
                  "ex_crunch(30000, 100)), expected 3: the count must yield (green_sleep(0)) so that the hub "
                  "can wake sleepers; "
                  KIT_LESSON(LESSON, "A greenlet that never yields"), seen, took, pieces);
    green_hub_destroy();
}
END_TEST

struct cruncher { long rc; int err; };

static void *cruncher(void *arg)
{
    struct cruncher *c = arg;
    c->rc = ex_crunch(2000000, 100);
    c->err = errno;
    return NULL;
}

START_TEST(test_killed_cruncher_stops)
{
    /* A count that does not work yet fails here, at once, instead of
     * running the 2,000,000 numbers below without yielding. */
    long below_100 = ex_crunch(100, 10);
    ck_assert_msg(below_100 == 25, "ex_crunch(100, 10) should count 25 primes below 100, got %ld; see crunch.h", below_100);
    struct cruncher c = { .rc = 1234 };
    green_t *g = green_spawn(cruncher, &c);
    green_sleep(0.02);                  /* let it count a while */
    double t0 = green_now();
    int rc = green_kill(g, 2.0);
    double took = green_now() - t0;
    green_free(g);

    ck_assert_msg(c.rc == -1 && c.err == ECANCELED,
                  "a greenlet killed during ex_crunch(2000000, 100) should get -1 with errno ECANCELED, got %ld (errno %s): "
                  "stop when green_sleep(0) fails; read crunch.h; "
                  KIT_LESSON("chapters/03-hub/README.md", "Killing: ECANCELED and cleanup"),
                  c.rc, c.rc == -1 ? strerror(c.err) : "not set");
    /* The cruncher stops within one piece of 100 numbers, microseconds;
     * 1 s is a bound any machine meets, and far below the whole count. */
    ck_assert_msg(rc == 0 && took < 1.0,
                  "green_kill() of a cruncher should return 0 at once, it returned %d after %.3f s; see crunch.h", rc, took);
    green_hub_destroy();
}
END_TEST

static Suite *crunch_suite(void)
{
    Suite *s = suite_create("08-threads/crunch");
    TCase *tc = kit_tcase("crunch");
    tcase_add_test(tc, test_counts_the_primes);
    tcase_add_test(tc, test_yields_once_per_every);
    tcase_add_test(tc, test_sleeper_wakes_on_time);
    tcase_add_test(tc, test_killed_cruncher_stops);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(crunch_suite()); }

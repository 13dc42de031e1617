/* Tests of exercise 03-hub/sleep: ex_sleep() built on the hub's primitives. */
#include <errno.h>
#include <event2/event.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "sleep.h"

#define LESSON "chapters/03-hub/README.md"

struct sleeper {
    double seconds;
    int rc, err;
    int *order, *n_order, id;   /* where to note that it woke up */
};

static void *sleeper(void *arg)
{
    struct sleeper *s = arg;
    s->rc = ex_sleep(s->seconds);
    s->err = errno;
    if (s->order)
        s->order[(*s->n_order)++] = s->id;
    return NULL;
}

START_TEST(test_sleep_takes_the_time)
{
    double t0 = green_now();
    int rc = ex_sleep(0.2);
    int err = errno;
    double took = green_now() - t0;

    ck_assert_msg(rc == 0, "ex_sleep(0.2) should return 0, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Sleeping on a timer"),
                  rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.195, "ex_sleep(0.2) returned after %.3f s, before the time was up; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"),
                  took);
    ck_assert_msg(took < 0.6, "ex_sleep(0.2) took %.3f s, far too long; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"),
                  took);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sleep_lets_others_run)
{
    green_t *t = kit_ticker_start(0.01);
    int rc = ex_sleep(0.2);
    int seen = kit_ticker_stop(t);

    ck_assert_msg(rc == 0, "ex_sleep(0.2) should return 0, got %d; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"), rc);
    ck_assert_msg(seen >= 1,
                  "while main was in ex_sleep(0.2), a greenlet ticking every 0.01 s ticked %d times (expected about 20): "
                  "a sleeping greenlet must switch to the hub (green_hub_switch), not block the whole thread; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"),
                  seen);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sleepers_wake_by_deadline)
{
    int order[3], n = 0;
    struct sleeper s[3] = {
        { .seconds = 0.15, .order = order, .n_order = &n, .id = 0 },
        { .seconds = 0.05, .order = order, .n_order = &n, .id = 1 },
        { .seconds = 0.10, .order = order, .n_order = &n, .id = 2 },
    };
    green_t *g[3];
    for (int i = 0; i < 3; i++)
        g[i] = green_spawn(sleeper, &s[i]);
    double t0 = green_now();
    green_joinall(g, 3, 5.0);
    double took = green_now() - t0;
    for (int i = 0; i < 3; i++)
        green_free(g[i]);

    ck_assert_msg(n == 3, "expected 3 sleepers to wake up, %d did; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"), n);
    ck_assert_msg(order[0] == 1 && order[1] == 2 && order[2] == 0,
                  "sleepers of 0.15, 0.05 and 0.10 s (spawned in that order) should wake in the order 1 2 0, "
                  "they woke as %d %d %d; " KIT_LESSON(LESSON, "Sleeping on a timer"),
                  order[0], order[1], order[2]);
    ck_assert_msg(took >= 0.145 && took < 0.5,
                  "three sleepers of at most 0.15 s should all be done after about 0.15 s (they sleep at the same time), took %.3f s; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"),
                  took);
    green_hub_destroy();
}
END_TEST

static int flag;

static void *set_flag(void *arg)
{
    (void)arg;
    flag = 1;
    return NULL;
}

START_TEST(test_sleep_zero_yields)
{
    green_t *g = green_spawn(set_flag, NULL);
    double t0 = green_now();
    int rc = ex_sleep(0);
    double took = green_now() - t0;
    int ran = flag;
    green_join(g, GREEN_FOREVER);
    green_free(g);

    ck_assert_msg(rc == 0, "ex_sleep(0) should return 0, got %d; "
                  KIT_LESSON(LESSON, "Yielding: sleep(0)"), rc);
    ck_assert_msg(ran, "a greenlet was ready when main called ex_sleep(0), but it had not run when ex_sleep(0) returned: "
                  "sleep(0) must yield (green_ready(me, ...) then green_hub_switch()); "
                  KIT_LESSON(LESSON, "Yielding: sleep(0)"));
    ck_assert_msg(took < 0.1, "ex_sleep(0) took %.3f s; it should only yield; "
                  KIT_LESSON(LESSON, "Yielding: sleep(0)"), took);
    green_hub_destroy();
}
END_TEST

static char trace[8];
static int n_trace;

static void *two_steps(void *arg)
{
    const char *steps = arg;    /* e.g. "aA": first step, then after yielding */
    trace[n_trace++] = steps[0];
    ex_sleep(steps[0] == 'a' ? 0 : -1.0);
    trace[n_trace++] = steps[1];
    return NULL;
}

START_TEST(test_sleep_zero_interleaves)
{
    green_t *g[2] = { green_spawn(two_steps, "aA"), green_spawn(two_steps, "bB") };
    green_joinall(g, 2, 5.0);
    green_free(g[0]);
    green_free(g[1]);

    ck_assert_msg(strcmp(trace, "abAB") == 0,
                  "greenlets a and b each note a step, call ex_sleep(0) (b: ex_sleep(-1)), and note another step; "
                  "expected the trace \"abAB\", got \"%s\": a yielding greenlet goes to the back of the ready queue; "
                  KIT_LESSON(LESSON, "Yielding: sleep(0)"),
                  trace);
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_sleeper_fails_with_ecanceled)
{
    struct sleeper s = { .seconds = 5.0, .rc = 1234 };
    green_t *g = green_spawn(sleeper, &s);
    green_sleep(0.05);                  /* let it fall asleep */
    double t0 = green_now();
    int rc = green_kill(g, 2.0);
    double took = green_now() - t0;
    green_free(g);

    ck_assert_msg(s.rc != 1234, "the sleeper never returned from ex_sleep(5); "
                  KIT_LESSON(LESSON, "Killing: ECANCELED and cleanup"));
    ck_assert_msg(s.rc == -1 && s.err == ECANCELED,
                  "a greenlet killed during ex_sleep(5) should get -1 with errno ECANCELED, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Killing: ECANCELED and cleanup"),
                  s.rc, kit_why(s.rc, s.err));
    ck_assert_msg(rc == 0 && took < 1.0,
                  "green_kill() of a sleeper should finish at once, took %.3f s (rc %d): ex_sleep must return when green_hub_switch() fails; "
                  KIT_LESSON(LESSON, "Killing: ECANCELED and cleanup"),
                  took, rc);
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_sleeper_frees_its_timer)
{
    int before = kit_pending_events();
    struct sleeper s = { .seconds = 5.0 };
    green_t *g = green_spawn(sleeper, &s);
    green_sleep(0.05);
    int during = kit_pending_events();
    green_kill(g, 2.0);
    int after = kit_pending_events();
    green_free(g);

    ck_assert_msg(during == before + 1,
                  "while a greenlet sleeps in ex_sleep(5), libevent should hold one more pending event (its timer): "
                  "%d before, %d during; " KIT_LESSON(LESSON, "Sleeping on a timer"), before, during);
    ck_assert_msg(after == before,
                  "after the sleeper was killed, its timer is still registered with libevent (%d pending events, %d before): "
                  "free the timer (event_free) whatever woke you; "
                  KIT_LESSON(LESSON, "Sleeping on a timer"), after, before);
    green_hub_destroy();
}
END_TEST

/* A greenlet that keeps going after being killed, to call ex_sleep again. */
static void *stubborn(void *arg)
{
    int *rc = arg;
    green_sleep(5.0);                   /* fails: killed */
    double t0 = green_now();
    rc[0] = ex_sleep(1.0);
    rc[1] = errno;
    rc[2] = ex_sleep(0);
    rc[3] = errno;
    rc[4] = green_now() - t0 < 0.5;
    return NULL;
}

START_TEST(test_sleep_after_kill_fails_at_once)
{
    int rc[5] = { 0 };
    green_t *g = green_spawn(stubborn, rc);
    green_sleep(0.05);
    green_kill(g, 3.0);
    green_free(g);

    ck_assert_msg(rc[0] == -1 && rc[1] == ECANCELED,
                  "a killed greenlet calling ex_sleep(1) should get -1 with errno ECANCELED at once, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Killing: ECANCELED and cleanup"),
                  rc[0], kit_why(rc[0], rc[1]));
    ck_assert_msg(rc[2] == -1 && rc[3] == ECANCELED,
                  "a killed greenlet calling ex_sleep(0) should get -1 with errno ECANCELED, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Yielding: sleep(0)"),
                  rc[2], kit_why(rc[2], rc[3]));
    ck_assert_msg(rc[4], "a killed greenlet's ex_sleep(1) should fail at once, not wait; "
                  KIT_LESSON(LESSON, "Killing: ECANCELED and cleanup"));
    green_hub_destroy();
}
END_TEST

static Suite *sleep_suite(void)
{
    Suite *s = suite_create("03-hub/sleep");
    TCase *tc = kit_tcase("sleep");
    tcase_add_test(tc, test_sleep_takes_the_time);
    tcase_add_test(tc, test_sleep_lets_others_run);
    tcase_add_test(tc, test_sleepers_wake_by_deadline);
    tcase_add_test(tc, test_sleep_zero_yields);
    tcase_add_test(tc, test_sleep_zero_interleaves);
    tcase_add_test(tc, test_killed_sleeper_fails_with_ecanceled);
    tcase_add_test(tc, test_killed_sleeper_frees_its_timer);
    tcase_add_test(tc, test_sleep_after_kill_fails_at_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(sleep_suite()); }

/* Tests of exercise 03-hub/joinall: one deadline for many joins. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "joinall.h"

#define LESSON "chapters/03-hub/README.md"

/* A greenlet that works for `*seconds` and returns its argument. */
static void *work(void *arg)
{
    if (green_sleep(*(double *)arg) < 0)
        return NULL;
    return arg;
}

/* Spawn one worker per duration. */
static void spawn_workers(green_t **g, double *seconds, int n)
{
    for (int i = 0; i < n; i++)
        g[i] = green_spawn(work, &seconds[i]);
}

/* Kill what is still running and free everything, then the hub. */
static void cleanup(green_t **g, int n)
{
    for (int i = 0; i < n; i++) {
        green_kill(g[i], 2.0);
        green_free(g[i]);
    }
    green_hub_destroy();
}

START_TEST(test_all_finish)
{
    double seconds[3] = { 0.05, 0.10, 0.15 };
    green_t *g[3];
    spawn_workers(g, seconds, 3);
    double t0 = green_now();
    int rc = ex_joinall(g, 3, 2.0);
    double took = green_now() - t0;
    int dead = green_dead(g[0]) + green_dead(g[1]) + green_dead(g[2]);

    ck_assert_msg(rc == 0, "ex_joinall of greenlets that finish within 0.15 s, timeout 2 s, should return 0, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc, kit_why(rc, errno));
    ck_assert_msg(dead == 3, "ex_joinall returned 0, but only %d of the 3 greenlets are dead: it must wait for them (green_join); "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  dead);
    ck_assert_msg(green_result(g[2]) == &seconds[2], "a joined greenlet's result should be what its function returned; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"));
    ck_assert_msg(took < 1.0, "ex_joinall should return as soon as the last greenlet (0.15 s) is dead, took %.3f s; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  took);
    cleanup(g, 3);
}
END_TEST

START_TEST(test_timeout_leaves_the_slow_one)
{
    double seconds[3] = { 0.1, 0.2, 0.9 };
    green_t *g[3];
    spawn_workers(g, seconds, 3);
    int rc = ex_joinall(g, 3, 0.5);
    int err = errno;

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "ex_joinall with a timeout of 0.5 s and a greenlet needing 0.9 s should return -1 with errno ETIMEDOUT, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc, kit_why(rc, err));
    ck_assert_msg(green_dead(g[0]) && green_dead(g[1]) && !green_dead(g[2]),
                  "after a 0.5 s ex_joinall, the 0.1 s and 0.2 s greenlets should be dead and the 0.9 s one alive; dead: %d %d %d; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  green_dead(g[0]), green_dead(g[1]), green_dead(g[2]));
    cleanup(g, 3);
}
END_TEST

START_TEST(test_one_deadline_for_all)
{
    double seconds[3] = { 0.3, 0.6, 0.9 };
    green_t *g[3];
    spawn_workers(g, seconds, 3);
    double t0 = green_now();
    int rc = ex_joinall(g, 3, 0.5);
    double took = green_now() - t0;

    ck_assert_msg(rc == -1, "ex_joinall(timeout 0.5 s) of greenlets needing 0.3, 0.6 and 0.9 s should fail (ETIMEDOUT), got %d; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc);
    ck_assert_msg(took >= 0.45, "ex_joinall(timeout 0.5 s) returned after %.3f s, before its time was up; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"), took);
    /* Not a wall-clock bound: with one deadline the 0.6 s greenlet is still
     * alive when ex_joinall returns; with a fresh 0.5 s per green_join it
     * has been joined (and the call took 1.1 s). */
    ck_assert_msg(!green_dead(g[1]),
                  "ex_joinall(timeout 0.5 s) of greenlets needing 0.3, 0.6 and 0.9 s returned after %.3f s, "
                  "when the 0.6 s one was already dead: each green_join got its own 0.5 s; compute one "
                  "deadline; " KIT_LESSON(LESSON, "Joining: join and joinall"), took);
    cleanup(g, 3);
}
END_TEST

START_TEST(test_forever)
{
    double seconds[2] = { 0.05, 0.1 };
    green_t *g[2];
    spawn_workers(g, seconds, 2);
    int rc = ex_joinall(g, 2, GREEN_FOREVER);

    ck_assert_msg(rc == 0 && green_dead(g[0]) && green_dead(g[1]),
                  "ex_joinall(GREEN_FOREVER) should wait until all are dead and return 0; got %d, dead %d %d; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc, green_dead(g[0]), green_dead(g[1]));
    cleanup(g, 2);
}
END_TEST

START_TEST(test_none)
{
    double t0 = green_now();
    int rc1 = ex_joinall(NULL, 0, 0.5);
    int rc2 = ex_joinall(NULL, 0, GREEN_FOREVER);
    double took = green_now() - t0;

    ck_assert_msg(rc1 == 0 && rc2 == 0, "ex_joinall of no greenlets (n = 0) should return 0, got %d and %d; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc1, rc2);
    ck_assert_msg(took < 0.2, "ex_joinall of no greenlets should return at once, took %.3f s; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"), took);
    green_hub_destroy();
}
END_TEST

START_TEST(test_already_dead)
{
    double seconds[3] = { 0, 0, 0 };
    green_t *g[3];
    spawn_workers(g, seconds, 3);
    for (int i = 0; i < 3; i++)
        green_join(g[i], GREEN_FOREVER);
    int rc = ex_joinall(g, 3, 0);

    ck_assert_msg(rc == 0, "ex_joinall(timeout 0) of greenlets that are all dead already should return 0, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc, kit_why(rc, errno));
    cleanup(g, 3);
}
END_TEST

START_TEST(test_dead_and_alive_timeout_zero)
{
    double seconds[3] = { 0, 0, 5.0 };
    green_t *g[3];
    spawn_workers(g, seconds, 3);
    green_join(g[0], GREEN_FOREVER);
    green_join(g[1], GREEN_FOREVER);
    double t0 = green_now();
    int rc = ex_joinall(g, 3, 0);
    int err = errno;
    double took = green_now() - t0;

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "ex_joinall(timeout 0) with one greenlet still sleeping should return -1 with errno ETIMEDOUT, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Joining: join and joinall"),
                  rc, kit_why(rc, err));
    ck_assert_msg(took < 0.2, "ex_joinall(timeout 0) should return at once, took %.3f s; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"), took);
    cleanup(g, 3);
}
END_TEST

/* Waits for a wake-up that nobody will ever send. */
static void *wait_forever(void *arg)
{
    (void)arg;
    green_hub_switch();
    return NULL;
}

START_TEST(test_errors_pass_through)
{
    double seconds[1] = { 0.05 };
    green_t *g[2];
    spawn_workers(g, seconds, 1);
    g[1] = green_spawn(wait_forever, NULL);
    double t0 = green_now();
    int rc = ex_joinall(g, 2, GREEN_FOREVER);
    int err = errno;
    double took = green_now() - t0;

    ck_assert_msg(rc == -1 && err == EDEADLK,
                  "ex_joinall of a greenlet that can never finish should pass on green_join's -1 with errno EDEADLK, got %d (errno %s); "
                  KIT_LESSON(LESSON, "Deadlock: nobody can wake you"),
                  rc, kit_why(rc, err));
    ck_assert_msg(green_dead(g[0]), "the 0.05 s greenlet should have finished before the deadlock was found; "
                  KIT_LESSON(LESSON, "Joining: join and joinall"));
    ck_assert_msg(took < 2.0, "the deadlock should be found at once, took %.3f s; "
                  KIT_LESSON(LESSON, "Deadlock: nobody can wake you"), took);
    cleanup(g, 2);
}
END_TEST

static Suite *joinall_suite(void)
{
    Suite *s = suite_create("03-hub/joinall");
    TCase *tc = kit_tcase("joinall");
    tcase_add_test(tc, test_all_finish);
    tcase_add_test(tc, test_timeout_leaves_the_slow_one);
    tcase_add_test(tc, test_one_deadline_for_all);
    tcase_add_test(tc, test_forever);
    tcase_add_test(tc, test_none);
    tcase_add_test(tc, test_already_dead);
    tcase_add_test(tc, test_dead_and_alive_timeout_zero);
    tcase_add_test(tc, test_errors_pass_through);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(joinall_suite()); }

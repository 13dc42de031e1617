/* Tests of exercise 06-sync/event: ex_event built on the hub's primitives. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "event.h"

#define LESSON "chapters/06-sync/README.md"

/* The order in which waiters returned, e.g. "012". */
static char order[16];

struct waiter_job {
    ex_event *e;
    double timeout;
    int id;
    int rc, err, returned;
};

static void *waiter(void *arg)
{
    struct waiter_job *j = arg;
    j->rc = ex_event_wait(j->e, j->timeout);
    j->err = errno;
    j->returned = 1;
    size_t n = strlen(order);
    order[n] = (char)('0' + j->id);
    order[n + 1] = '\0';
    return NULL;
}

START_TEST(test_flag)
{
    ex_event *e = ex_event_new();
    ck_assert_msg(e != NULL, "ex_event_new() returned NULL");
    int fresh = ex_event_is_set(e);
    ex_event_set(e);
    int after_set = ex_event_is_set(e);
    ex_event_clear(e);
    int after_clear = ex_event_is_set(e);
    ex_event_free(e);

    ck_assert_msg(fresh == 0, "a new event should not be set, ex_event_is_set() said %d", fresh);
    ck_assert_msg(after_set == 1, "after ex_event_set(), ex_event_is_set() should be 1, got %d; "
                  KIT_LESSON(LESSON, "Event: wake everybody"), after_set);
    ck_assert_msg(after_clear == 0, "after ex_event_clear(), ex_event_is_set() should be 0, got %d; "
                  KIT_LESSON(LESSON, "Event: wake everybody"), after_clear);
    green_hub_destroy();
}
END_TEST

static int ran;
static void *mark_ran(void *arg) { (void)arg; ran = 1; return NULL; }

START_TEST(test_wait_when_set_returns_at_once)
{
    ex_event *e = ex_event_new();
    ex_event_set(e);
    ran = 0;
    green_t *g = green_spawn(mark_ran, NULL);
    int rc0 = ex_event_wait(e, 0);
    int err0 = errno;
    int rc1 = ex_event_wait(e, -1.0);
    int err1 = errno;
    int yielded = ran;
    green_join(g, 1.0);
    green_free(g);
    ex_event_free(e);

    ck_assert_msg(rc0 == 0 && rc1 == 0,
                  "waiting on an event that is set should return 0 at once, got %d (%s) with timeout 0 and %d (%s) with no timeout; "
                  KIT_LESSON(LESSON, "Event: wake everybody"),
                  rc0, kit_why(rc0, err0), rc1, kit_why(rc1, err1));
    ck_assert_msg(!yielded, "ex_event_wait() on an event that is set should not switch to the hub, but another greenlet ran meanwhile");
    green_hub_destroy();
}
END_TEST

START_TEST(test_wait_blocks_until_set)
{
    ex_event *e = ex_event_new();
    struct waiter_job j = { .e = e, .timeout = -1.0 };
    green_t *g = green_spawn(waiter, &j);
    green_sleep(0.05);
    int early = j.returned;
    ex_event_set(e);
    green_join(g, 1.0);
    green_free(g);
    ex_event_free(e);

    ck_assert_msg(!early, "ex_event_wait() returned %d (%s) before anyone set the event: it should wait (green_hub_switch); "
                  KIT_LESSON(LESSON, "One pattern: a list of waiters"),
                  j.rc, kit_why(j.rc, j.err));
    ck_assert_msg(j.returned && j.rc == 0,
                  "after ex_event_set(), the waiting greenlet should return 0 from ex_event_wait(), got %d (%s)%s; "
                  KIT_LESSON(LESSON, "Event: wake everybody"),
                  j.rc, kit_why(j.rc, j.err), j.returned ? "" : " (it never returned)");
    green_hub_destroy();
}
END_TEST

START_TEST(test_set_wakes_everyone_in_order)
{
    ex_event *e = ex_event_new();
    struct waiter_job j[3];
    green_t *g[3];
    order[0] = '\0';
    for (int i = 0; i < 3; i++) {
        j[i] = (struct waiter_job){ .e = e, .timeout = -1.0, .id = i };
        g[i] = green_spawn(waiter, &j[i]);
    }
    green_sleep(0.02);
    ex_event_set(e);
    green_sleep(0);            /* the woken ones run before main again */
    int woke = j[0].returned + j[1].returned + j[2].returned;
    char seen[16];
    snprintf(seen, sizeof seen, "%s", order);
    kit_join_free(g, 3);
    ex_event_free(e);

    ck_assert_msg(woke == 3, "one ex_event_set() should wake all 3 waiters at once, %d woke; "
                  KIT_LESSON(LESSON, "Event: wake everybody"), woke);
    ck_assert_msg(j[0].rc == 0 && j[1].rc == 0 && j[2].rc == 0, "every woken waiter should return 0, got %d %d %d", j[0].rc, j[1].rc, j[2].rc);
    ck_assert_msg(strcmp(seen, "012") == 0,
                  "waiters 0, 1, 2 began to wait in that order and should wake in that order, they woke as \"%s\": add at the end of the list, wake from the head; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  seen);
    green_hub_destroy();
}
END_TEST

START_TEST(test_wait_times_out)
{
    ex_event *e = ex_event_new();
    int before = kit_pending_events();
    double t0 = green_now();
    int rc = ex_event_wait(e, 0.1);
    int err = errno;
    double took = green_now() - t0;
    int after = kit_pending_events();
    ex_event_free(e);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "ex_event_wait(e, 0.1) on an event nobody sets should return -1 with ETIMEDOUT, got %d (%s); "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.095 && took < 1.0, "ex_event_wait(e, 0.1) returned after %.3f s, expected about 0.1 s; "
                  KIT_LESSON(LESSON, "Timeouts and kills"), took);
    ck_assert_msg(after == before, "after the wait timed out, %d event(s) are registered with libevent (%d before): free the timer; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  after, before);
    green_hub_destroy();
}
END_TEST

START_TEST(test_timeout_zero_does_not_wait)
{
    ex_event *e = ex_event_new();
    ran = 0;
    green_t *g = green_spawn(mark_ran, NULL);
    int rc = ex_event_wait(e, 0);
    int err = errno;
    int yielded = ran;
    green_join(g, 1.0);
    green_free(g);
    ex_event_free(e);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "ex_event_wait(e, 0) on an event that is not set should return -1 with ETIMEDOUT at once, got %d (%s); "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  rc, kit_why(rc, err));
    ck_assert_msg(!yielded, "a timeout of 0 means: do not wait at all; yet another greenlet ran meanwhile");
    green_hub_destroy();
}
END_TEST

START_TEST(test_set_removes_the_timer)
{
    ex_event *e = ex_event_new();
    int before = kit_pending_events();
    struct waiter_job j = { .e = e, .timeout = 5.0 };
    green_t *g = green_spawn(waiter, &j);
    green_sleep(0);
    ex_event_set(e);
    green_join(g, 1.0);
    green_free(g);
    int after = kit_pending_events();
    ex_event_free(e);

    ck_assert_msg(j.rc == 0, "a waiter with a 5 s timeout should return 0 when the event is set, got %d (%s)", j.rc, kit_why(j.rc, j.err));
    ck_assert_msg(after == before,
                  "the waiter was woken by set, but its 5 s timer is still registered with libevent (%d events, %d before): free it whatever woke you; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  after, before);
    green_hub_destroy();
}
END_TEST

START_TEST(test_woken_then_cleared_still_succeeds)
{
    ex_event *e = ex_event_new();
    struct waiter_job j[2] = { { .e = e, .timeout = 1.0 }, { .e = e, .timeout = -1.0, .id = 1 } };
    green_t *g[2] = { green_spawn(waiter, &j[0]), green_spawn(waiter, &j[1]) };
    green_sleep(0);
    ex_event_set(e);
    ex_event_clear(e);         /* before the waiters get to run */
    kit_join_free(g, 2);
    ex_event_free(e);

    ck_assert_msg(j[0].rc == 0 && j[1].rc == 0,
                  "waiters woken by ex_event_set() must return 0 even if the event is cleared before they run; got %d (%s) and %d (%s): "
                  "remember in the node that set woke it; " KIT_LESSON(LESSON, "Event: wake everybody"),
                  j[0].rc, kit_why(j[0].rc, j[0].err), j[1].rc, kit_why(j[1].rc, j[1].err));
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_waiter)
{
    ex_event *e = ex_event_new();
    struct waiter_job j[2] = { { .e = e, .timeout = -1.0 }, { .e = e, .timeout = -1.0, .id = 1 } };
    green_t *g[2] = { green_spawn(waiter, &j[0]), green_spawn(waiter, &j[1]) };
    green_sleep(0);
    double t0 = green_now();
    green_kill(g[0], 1.0);
    double took = green_now() - t0;
    green_free(g[0]);          /* its stack, and its node, are gone now */
    ex_event_set(e);           /* must not touch the killed one's node */
    green_join(g[1], 1.0);
    green_free(g[1]);
    ex_event_free(e);

    ck_assert_msg(j[0].rc == -1 && j[0].err == ECANCELED && took < 0.5,
                  "a greenlet killed in ex_event_wait() should return -1 with ECANCELED at once, got %d (%s) after %.3f s; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  j[0].rc, kit_why(j[0].rc, j[0].err), took);
    ck_assert_msg(j[1].rc == 0, "the other waiter should still be woken by set, got %d (%s): "
                  "a killed waiter must take its node off the list; "
                  KIT_LESSON(LESSON, "Timeouts and kills"), j[1].rc, kit_why(j[1].rc, j[1].err));
    green_hub_destroy();
}
END_TEST

START_TEST(test_timed_out_waiter_leaves_the_list)
{
    ex_event *e = ex_event_new();
    struct waiter_job j[2] = { { .e = e, .timeout = 0.02 }, { .e = e, .timeout = -1.0, .id = 1 } };
    green_t *g[2] = { green_spawn(waiter, &j[0]), green_spawn(waiter, &j[1]) };
    green_sleep(0.1);          /* the first one timed out and returned */
    green_join(g[0], 1.0);
    green_free(g[0]);
    ex_event_set(e);
    green_join(g[1], 1.0);
    green_free(g[1]);
    ex_event_free(e);

    ck_assert_msg(j[0].rc == -1 && j[0].err == ETIMEDOUT, "the first waiter should time out, got %d (%s)", j[0].rc, kit_why(j[0].rc, j[0].err));
    ck_assert_msg(j[1].rc == 0, "after one waiter timed out, set should still wake the other, got %d (%s): "
                  "a waiter that times out must take its node off the list; "
                  KIT_LESSON(LESSON, "Timeouts and kills"), j[1].rc, kit_why(j[1].rc, j[1].err));
    green_hub_destroy();
}
END_TEST

/* A wake-up that is neither set, nor the timer, nor a kill: another
 * greenlet readies the waiter with a value of its own.  It is no answer:
 * lib/06-sync/sync.c's green_event_wait waits on, and gevent's Event.wait
 * never answers "not set" for it (it raises InvalidSwitchError). */
static char stray;

/* Notes '9' in `order` after `seconds`: the clock the deadline is
 * compared with (timers fire in the order of their deadlines). */
static void *note_later(void *arg)
{
    if (green_sleep(*(double *)arg) == 0)
        strcat(order, "9");
    return NULL;
}

START_TEST(test_stray_wakeup_keeps_waiting)
{
    ex_event *e = ex_event_new();
    struct waiter_job j[2] = { { .e = e, .timeout = -1.0 }, { .e = e, .timeout = 5.0, .id = 1 } };
    green_t *g[2] = { green_spawn(waiter, &j[0]), green_spawn(waiter, &j[1]) };
    order[0] = '\0';
    green_sleep(0);                     /* both wait now */
    for (int round = 0; round < 3; round++) {
        green_ready(g[0], &stray);
        green_ready(g[1], &stray);
        green_sleep(0);                 /* they run, and must wait again */
    }
    int early[2] = { j[0].returned, j[1].returned };
    ex_event_set(e);
    kit_join_free(g, 2);

    ck_assert_msg(!early[0] && !early[1],
                  "another greenlet readied the waiters (green_ready with a value of its own) without setting the "
                  "event: ex_event_wait() returned %d (%s) with no timeout and %d (%s) with 5 s, but the event was "
                  "not set and the time was not up: a stray wake-up is no answer, wait again; see event.h",
                  early[0] ? j[0].rc : 0, early[0] ? kit_why(j[0].rc, j[0].err) : "still waiting",
                  early[1] ? j[1].rc : 0, early[1] ? kit_why(j[1].rc, j[1].err) : "still waiting");
    ck_assert_msg(j[0].rc == 0 && j[1].rc == 0, "after stray wake-ups, the waiters should still return 0 "
                  "when the event is set, got %d (%s) and %d (%s); see event.h",
                  j[0].rc, kit_why(j[0].rc, j[0].err), j[1].rc, kit_why(j[1].rc, j[1].err));

    /* The same deadline: a waiter of 0.2 s, woken astray at 0.1 s, times
     * out before a greenlet that sleeps 0.25 s wakes; restarting the 0.2 s
     * at the stray wake-up would end it at 0.3 s, after that greenlet. */
    struct waiter_job t = { .e = e, .timeout = 0.2, .id = 2 };
    double quarter = 0.25;
    ex_event_clear(e);
    order[0] = '\0';
    green_t *h[2] = { green_spawn(waiter, &t), green_spawn(note_later, &quarter) };
    green_sleep(0.1);
    green_ready(h[0], &stray);
    kit_join_free(h, 2);
    ex_event_free(e);

    ck_assert_msg(t.rc == -1 && t.err == ETIMEDOUT && strcmp(order, "29") == 0,
                  "a waiter with a timeout of 0.2 s, woken astray at 0.1 s, should still time out at 0.2 s "
                  "(ETIMEDOUT, before a 0.25 s sleeper wakes); got %d (%s), order \"%s\" (\"92\": the stray wake-up "
                  "restarted the timeout; keep one deadline); see event.h", t.rc, kit_why(t.rc, t.err), order);
    green_hub_destroy();
}
END_TEST

static Suite *event_suite(void)
{
    Suite *s = suite_create("06-sync/event");
    TCase *tc = kit_tcase("event");
    tcase_add_test(tc, test_flag);
    tcase_add_test(tc, test_wait_when_set_returns_at_once);
    tcase_add_test(tc, test_wait_blocks_until_set);
    tcase_add_test(tc, test_set_wakes_everyone_in_order);
    tcase_add_test(tc, test_wait_times_out);
    tcase_add_test(tc, test_timeout_zero_does_not_wait);
    tcase_add_test(tc, test_set_removes_the_timer);
    tcase_add_test(tc, test_woken_then_cleared_still_succeeds);
    tcase_add_test(tc, test_killed_waiter);
    tcase_add_test(tc, test_timed_out_waiter_leaves_the_list);
    tcase_add_test(tc, test_stray_wakeup_keeps_waiting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(event_suite()); }

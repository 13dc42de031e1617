/* Tests of exercise 05-patch/usleep: __wrap_usleep, linked with
 * -Wl,--wrap=usleep, so every usleep() below is the student's. */
#include <errno.h>
#include <event2/event.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "usleep.h"

#define LESSON "chapters/05-patch/README.md"

START_TEST(test_outside_a_greenlet_is_the_original)
{
    double t0 = green_now();
    int rc = usleep(50000);
    double took = green_now() - t0;
    ck_assert_msg(rc == 0, "usleep(50000) outside any greenlet should return 0, got %d", rc);
    ck_assert_msg(took >= 0.045 && took < 1.0,
                  "usleep(50000) outside any greenlet should sleep 50 ms, it took %.1f ms; "
                  KIT_LESSON(LESSON, "Inside or outside a greenlet"), took * 1e3);
    ck_assert_msg(!green_hub_active(),
                  "usleep() in a program without greenlets created a hub: check "
                  "green_hub_active() before calling green_hub() or green_current(); "
                  KIT_LESSON(LESSON, "Inside or outside a greenlet"));
}
END_TEST

/* Sleepers note how many had started sleeping when the first one woke:
 * 3 when the sleeps overlap, 1 when usleep blocks the thread. */
static int asleep, asleep_at_first_wake;

static void *sleeper(void *arg)
{
    (void)arg;
    asleep++;
    usleep(200000);
    if (asleep_at_first_wake == 0)
        asleep_at_first_wake = asleep;
    return NULL;
}

START_TEST(test_three_sleepers_overlap)
{
    green_t *gs[3];
    asleep = asleep_at_first_wake = 0;
    double t0 = green_now();
    for (int i = 0; i < 3; i++)
        gs[i] = green_spawn(sleeper, NULL);
    green_joinall(gs, 3, GREEN_FOREVER);
    double took = green_now() - t0;
    ck_assert_msg(took >= 0.195,
                  "three greenlets each calling usleep(200000) took %.3f s in all: a usleep "
                  "returned before its time; " KIT_LESSON(LESSON, "Sleeping"), took);
    ck_assert_msg(asleep_at_first_wake == 3,
                  "three greenlets each calling usleep(200000) should sleep together: when the "
                  "first woke, %d had started sleeping (expected 3; 1 means one after the other: "
                  "usleep still blocks the thread); " KIT_LESSON(LESSON, "Sleeping"), asleep_at_first_wake);
    for (int i = 0; i < 3; i++)
        green_free(gs[i]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_main_sleeps_cooperatively)
{
    green_t *t = kit_ticker_start(0.01);
    double t0 = green_now();
    int rc = usleep(150000);      /* main is a greenlet: the thread has a hub */
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(rc == 0, "usleep(150000) in main, with a hub, should return 0, got %d (%s)",
                  rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.145 && took < 1.0, "usleep(150000) took %.1f ms", took * 1e3);
    int seen = kit_ticker_stop(t);
    ck_assert_msg(seen >= 1,
                  "while main slept in usleep(150000), a greenlet ticking every 10 ms "
                  "should have run; it ticked %d times.  Once the thread has a hub, "
                  "main is a greenlet too; " KIT_LESSON(LESSON, "Inside or outside a greenlet"),
                  seen);
    green_hub_destroy();
}
END_TEST

static char order[8];

static void *yield_then_note(void *arg)
{
    usleep(0);
    strcat(order, arg);
    return NULL;
}

static void *note(void *arg)
{
    strcat(order, arg);
    return NULL;
}

START_TEST(test_zero_yields)
{
    order[0] = '\0';
    green_t *a = green_spawn(yield_then_note, "A");
    green_t *b = green_spawn(note, "B");
    green_join(a, GREEN_FOREVER);
    green_join(b, GREEN_FOREVER);
    ck_assert_msg(strcmp(order, "BA") == 0,
                  "usleep(0) in a greenlet should yield (like gevent.sleep(0)): A calls "
                  "usleep(0), so B, which was ready, should run first; expected \"BA\", "
                  "got \"%s\"; " KIT_LESSON(LESSON, "Sleeping"), order);
    green_free(a);
    green_free(b);
    green_hub_destroy();
}
END_TEST

struct killed { int rc, err; double took; };

static void *long_sleeper(void *arg)
{
    struct killed *k = arg;
    double t0 = green_now();
    k->rc = usleep(2000000);
    k->err = errno;
    k->took = green_now() - t0;
    return NULL;
}

START_TEST(test_killed_sleeper_wakes_with_ecanceled)
{
    struct killed k = { 1, 0, 0 };
    green_t *g = green_spawn(long_sleeper, &k);
    green_sleep(0.05);
    green_kill(g, 3.0);
    ck_assert_msg(k.rc == -1 && k.err == ECANCELED,
                  "a greenlet killed in usleep(2000000) should get -1 with errno "
                  "ECANCELED; got %d (%s); "
                  KIT_LESSON("chapters/03-hub/README.md", "Killing: ECANCELED and cleanup"), k.rc, kit_why(k.rc, k.err));
    ck_assert_msg(k.took < 0.5, "the killed usleep returned after %.2f s, not at once", k.took);
    green_free(g);
    green_hub_destroy();
}
END_TEST

struct from_hub { int rc; double took; };

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct from_hub *r = arg;
    double t0 = green_now();
    r->rc = usleep(20000);
    r->took = green_now() - t0;
}

START_TEST(test_the_hub_itself_is_outside)
{
    struct from_hub r = { -1, 0 };
    struct timeval soon = { 0, 1000 };
    event_base_once(green_hub_base(), -1, EV_TIMEOUT, on_timer, &r, &soon);
    green_sleep(0.1);
    ck_assert_msg(r.rc == 0 && r.took >= 0.018,
                  "usleep(20000) inside a libevent callback (run by the hub) should be "
                  "the original: return 0 after 20 ms; got %d after %.1f ms.  The hub "
                  "cannot wait; " KIT_LESSON(LESSON, "Inside or outside a greenlet"), r.rc,
                  r.took * 1e3);
    green_hub_destroy();
}
END_TEST

static Suite *usleep_suite(void)
{
    Suite *s = suite_create("usleep");
    TCase *tc = kit_tcase("usleep");
    tcase_add_test(tc, test_outside_a_greenlet_is_the_original);
    tcase_add_test(tc, test_three_sleepers_overlap);
    tcase_add_test(tc, test_main_sleeps_cooperatively);
    tcase_add_test(tc, test_zero_yields);
    tcase_add_test(tc, test_killed_sleeper_wakes_with_ecanceled);
    tcase_add_test(tc, test_the_hub_itself_is_outside);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(usleep_suite()); }

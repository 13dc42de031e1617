/* Tests of exercise 06-sync/queue: a bounded ex_queue built on the hub's
 * primitives, with FIFO waiters that are never overtaken. */
#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "queue.h"

#define LESSON "chapters/06-sync/README.md"
#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((long)(intptr_t)(p))

static const char *str(void *p)
{
    return p ? (const char *)p : "(nothing)";
}

struct job {
    ex_queue *q;
    double timeout;
    void *item;             /* a putter's item; what a getter got */
    int rc, err, returned;
};

static void *getter(void *arg)
{
    struct job *j = arg;
    j->rc = ex_queue_get(j->q, &j->item, j->timeout);
    j->err = errno;
    j->returned = 1;
    return NULL;
}

static void *putter(void *arg)
{
    struct job *j = arg;
    j->rc = ex_queue_put(j->q, j->item, j->timeout);
    j->err = errno;
    j->returned = 1;
    return NULL;
}

static int ran;
static void *mark_ran(void *arg) { (void)arg; ran = 1; return NULL; }

START_TEST(test_fifo_without_waiting)
{
    ex_queue *q = ex_queue_new(3);
    ck_assert_msg(q != NULL, "ex_queue_new(3) returned NULL");
    int rc[3];
    for (long i = 0; i < 3; i++)
        rc[i] = ex_queue_put(q, INT2P(i + 1), 0);
    size_t len = ex_queue_len(q);
    ck_assert_msg(rc[0] == 0 && rc[1] == 0 && rc[2] == 0,
                  "three puts into an empty queue of maxsize 3 should succeed without waiting, got %d %d %d (%s); "
                  KIT_LESSON(LESSON, "Queue: producer and consumer"),
                  rc[0], rc[1], rc[2], strerror(errno));
    ck_assert_msg(len == 3, "after 3 puts the queue should hold 3 items, ex_queue_len() says %zu", len);
    for (long i = 0; i < 3; i++) {
        void *item = NULL;
        int r = ex_queue_get(q, &item, 0);
        ck_assert_msg(r == 0 && P2INT(item) == i + 1,
                      "get #%ld should return item %ld (first in, first out), got rc %d and item %ld", i + 1, i + 1, r, P2INT(item));
    }
    ck_assert_msg(ex_queue_len(q) == 0, "after taking every item the queue should be empty, it holds %zu", ex_queue_len(q));
    ex_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_get_waits_for_a_put)
{
    ex_queue *q = ex_queue_new(2);
    struct job j = { .q = q, .timeout = -1.0 };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0.05);
    int early = j.returned;
    int rc = ex_queue_put(q, "hello", 0);
    green_join(g, 1.0);
    green_free(g);
    size_t len = ex_queue_len(q);
    ex_queue_free(q);

    ck_assert_msg(!early, "ex_queue_get() on an empty queue returned %d (%s) instead of waiting; "
                  KIT_LESSON(LESSON, "Queue: producer and consumer"),
                  j.rc, kit_why(j.rc, j.err));
    ck_assert_msg(rc == 0 && j.rc == 0 && j.item && strcmp(j.item, "hello") == 0,
                  "a put while a getter waits should hand it the item: put returned %d, the getter got %d (%s) and \"%s\"; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  rc, j.rc, kit_why(j.rc, j.err), str(j.item));
    ck_assert_msg(len == 0, "the item went straight to the waiting getter, so the queue should be empty, it holds %zu; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"), len);
    green_hub_destroy();
}
END_TEST

static int produced;

static void *producer(void *arg)
{
    ex_queue *q = arg;
    for (long i = 0; i < 5; i++) {
        if (ex_queue_put(q, INT2P(i), -1.0) != 0)
            break;
        produced++;
    }
    return NULL;
}

START_TEST(test_put_waits_while_full)
{
    ex_queue *q = ex_queue_new(2);
    produced = 0;
    green_t *g = green_spawn(producer, q);
    green_sleep(0.05);
    int before = produced;
    void *item = NULL;
    int rc = ex_queue_get(q, &item, 0);
    size_t len = ex_queue_len(q);
    green_sleep(0);
    int after = produced;
    long rest[4] = { -1, -1, -1, -1 };
    for (int i = 0; i < 4; i++)
        if (ex_queue_get(q, &item, 1.0) == 0)
            rest[i] = P2INT(item);
    green_join(g, 1.0);
    green_free(g);
    ex_queue_free(q);

    ck_assert_msg(before == 2,
                  "a producer putting 5 items into a queue of maxsize 2 that nobody reads should stop after 2 (put waits while full), it put %d; "
                  KIT_LESSON(LESSON, "Queue: producer and consumer"),
                  before);
    ck_assert_msg(rc == 0 && len == 2,
                  "one get (rc %d) while a putter waits should move the putter's item into the freed slot at once: expected 2 items, the queue holds %zu; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  rc, len);
    ck_assert_msg(after == 3, "one get should let the producer through exactly once more: it has put %d items (expected 3)", after);
    ck_assert_msg(rest[0] == 1 && rest[1] == 2 && rest[2] == 3 && rest[3] == 4,
                  "the remaining items should come out as 1 2 3 4, got %ld %ld %ld %ld", rest[0], rest[1], rest[2], rest[3]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_getters_served_in_order)
{
    ex_queue *q = ex_queue_new(1);
    struct job j[3];
    green_t *g[3];
    for (int i = 0; i < 3; i++) {
        j[i] = (struct job){ .q = q, .timeout = -1.0 };
        g[i] = green_spawn(getter, &j[i]);
    }
    green_sleep(0);
    int rc[3] = { ex_queue_put(q, "a", 0), ex_queue_put(q, "b", 0), ex_queue_put(q, "c", 0) };
    kit_join_free(g, 3);
    ex_queue_free(q);

    ck_assert_msg(rc[0] == 0 && rc[1] == 0 && rc[2] == 0,
                  "3 getters wait on a queue of maxsize 1; puts of a, b, c (timeout 0) returned %d %d %d: each item should go straight to a waiting getter, "
                  "so the queue never fills; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"), rc[0], rc[1], rc[2]);
    ck_assert_msg(j[0].rc == 0 && j[1].rc == 0 && j[2].rc == 0 &&
                  strcmp(j[0].item, "a") == 0 && strcmp(j[1].item, "b") == 0 && strcmp(j[2].item, "c") == 0,
                  "getters 0, 1, 2 waited in that order and a, b, c were put: expected a b c, got %s %s %s; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  j[0].rc == 0 ? str(j[0].item) : "(failed)", j[1].rc == 0 ? str(j[1].item) : "(failed)",
                  j[2].rc == 0 ? str(j[2].item) : "(failed)");
    green_hub_destroy();
}
END_TEST

START_TEST(test_woken_getter_not_overtaken)
{
    ex_queue *q = ex_queue_new(2);
    struct job j = { .q = q, .timeout = -1.0 };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0);
    ex_queue_put(q, "mine", 0);
    void *stolen = NULL;
    int rc = ex_queue_get(q, &stolen, 0);    /* main arrives later */
    green_join(g, 1.0);
    green_free(g);
    ex_queue_free(q);

    ck_assert_msg(rc == -1,
                  "a getter was waiting when \"mine\" was put, but main, arriving later, took \"%s\" before it: "
                  "hand the item to the first getter directly instead of pushing it; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  str(stolen));
    ck_assert_msg(j.rc == 0 && strcmp(j.item, "mine") == 0, "the waiting getter should get \"mine\", got %d (%s)", j.rc, kit_why(j.rc, j.err));
    green_hub_destroy();
}
END_TEST

START_TEST(test_putters_served_in_order)
{
    ex_queue *q = ex_queue_new(1);
    ex_queue_put(q, "x", 0);
    struct job p[2] = { { .q = q, .timeout = -1.0, .item = "p1" }, { .q = q, .timeout = -1.0, .item = "p2" } };
    green_t *g[2] = { green_spawn(putter, &p[0]), green_spawn(putter, &p[1]) };
    green_sleep(0);
    void *a = NULL, *b = NULL, *c = NULL;
    ex_queue_get(q, &a, 0);
    int rc = ex_queue_put(q, "newcomer", 0);
    ex_queue_get(q, &b, 1.0);
    ex_queue_get(q, &c, 1.0);
    kit_join_free(g, 2);
    ex_queue_free(q);

    ck_assert_msg(rc == -1,
                  "the slot freed by a get belongs to the first putter waiting, but a newcomer's put(q, item, 0) got it: "
                  "move the first putter's item into the slot inside get; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"));
    ck_assert_msg(a && b && c && strcmp(a, "x") == 0 && strcmp(b, "p1") == 0 && strcmp(c, "p2") == 0,
                  "expected x, p1, p2 (the putters in the order they waited), got %s, %s, %s; "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  str(a), str(b), str(c));
    ck_assert_msg(p[0].rc == 0 && p[1].rc == 0, "both waiting puts should return 0, got %d and %d", p[0].rc, p[1].rc);
    green_hub_destroy();
}
END_TEST

START_TEST(test_get_times_out)
{
    ex_queue *q = ex_queue_new(2);
    int before = kit_pending_events();
    double t0 = green_now();
    void *item = NULL;
    int rc = ex_queue_get(q, &item, 0.1);
    int err = errno;
    double took = green_now() - t0;
    int after = kit_pending_events();
    int put = ex_queue_put(q, "later", 0);
    size_t len = ex_queue_len(q);
    ex_queue_free(q);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "ex_queue_get(q, &item, 0.1) on an empty queue nobody fills should return -1 with ETIMEDOUT, got %d (%s); "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.095 && took < 1.0, "the get with a 0.1 s timeout returned after %.3f s", took);
    ck_assert_msg(after == before, "after the get timed out, %d event(s) are registered with libevent (%d before): free the timer; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  after, before);
    ck_assert_msg(put == 0 && len == 1,
                  "after the getter timed out, a put should land in the queue (1 item), it holds %zu: a waiter that times out must leave the list; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  len);
    green_hub_destroy();
}
END_TEST

START_TEST(test_put_times_out)
{
    ex_queue *q = ex_queue_new(1);
    ex_queue_put(q, "first", 0);
    double t0 = green_now();
    int rc = ex_queue_put(q, "second", 0.1);
    int err = errno;
    double took = green_now() - t0;
    void *item = NULL;
    ex_queue_get(q, &item, 0);
    size_t len = ex_queue_len(q);
    ex_queue_free(q);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "ex_queue_put(q, item, 0.1) on a full queue nobody reads should return -1 with ETIMEDOUT, got %d (%s); "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.095 && took < 1.0, "the put with a 0.1 s timeout returned after %.3f s", took);
    ck_assert_msg(item && strcmp(item, "first") == 0 && len == 0,
                  "a put that timed out must leave nothing behind: the next get should return \"first\" and empty the queue, got \"%s\" and %zu item(s) left; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  str(item), len);
    green_hub_destroy();
}
END_TEST

START_TEST(test_timeout_zero_does_not_wait)
{
    ex_queue *q = ex_queue_new(1);
    ran = 0;
    green_t *g = green_spawn(mark_ran, NULL);
    void *item;
    int rc_get = ex_queue_get(q, &item, 0);
    int err_get = errno;
    ex_queue_put(q, "x", 0);
    int rc_put = ex_queue_put(q, "y", 0);
    int err_put = errno;
    int yielded = ran;
    green_join(g, 1.0);
    green_free(g);
    ex_queue_free(q);

    ck_assert_msg(rc_get == -1 && err_get == ETIMEDOUT,
                  "get with timeout 0 on an empty queue should return -1 with ETIMEDOUT at once, got %d (%s)", rc_get, kit_why(rc_get, err_get));
    ck_assert_msg(rc_put == -1 && err_put == ETIMEDOUT,
                  "put with timeout 0 on a full queue should return -1 with ETIMEDOUT at once, got %d (%s)", rc_put, kit_why(rc_put, err_put));
    ck_assert_msg(!yielded, "a timeout of 0 means: do not wait at all; yet another greenlet ran meanwhile; "
                  KIT_LESSON(LESSON, "Timeouts and kills"));
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_getter)
{
    ex_queue *q = ex_queue_new(2);
    struct job j[2] = { { .q = q, .timeout = -1.0 }, { .q = q, .timeout = -1.0 } };
    green_t *g[2] = { green_spawn(getter, &j[0]), green_spawn(getter, &j[1]) };
    green_sleep(0);
    double t0 = green_now();
    green_kill(g[0], 1.0);
    double took = green_now() - t0;
    green_free(g[0]);                    /* its node is gone with its stack */
    ex_queue_put(q, "for the living", 0);
    green_join(g[1], 1.0);
    green_free(g[1]);
    ex_queue_free(q);

    ck_assert_msg(j[0].rc == -1 && j[0].err == ECANCELED && took < 0.5,
                  "a getter killed while waiting should return -1 with ECANCELED at once, got %d (%s) after %.3f s; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  j[0].rc, kit_why(j[0].rc, j[0].err), took);
    ck_assert_msg(j[1].rc == 0 && j[1].item && strcmp(j[1].item, "for the living") == 0,
                  "after the first getter was killed, the item should go to the second, which got %d (%s): a killed waiter must leave the list; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  j[1].rc, kit_why(j[1].rc, j[1].err));
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_putter)
{
    ex_queue *q = ex_queue_new(1);
    ex_queue_put(q, "x", 0);
    struct job p = { .q = q, .timeout = -1.0, .item = "p" };
    green_t *g = green_spawn(putter, &p);
    green_sleep(0);
    green_kill(g, 1.0);
    green_free(g);
    void *item = NULL;
    ex_queue_get(q, &item, 0);
    size_t len = ex_queue_len(q);
    ex_queue_free(q);

    ck_assert_msg(p.rc == -1 && p.err == ECANCELED,
                  "a putter killed while waiting should return -1 with ECANCELED, got %d (%s); "
                  KIT_LESSON(LESSON, "Timeouts and kills"), p.rc, kit_why(p.rc, p.err));
    ck_assert_msg(item && strcmp(item, "x") == 0 && len == 0,
                  "the killed putter's item must not enter the queue: the get should return \"x\" and leave it empty, got \"%s\" and %zu item(s); "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  str(item), len);
    green_hub_destroy();
}
END_TEST

START_TEST(test_served_waiter_frees_its_timer)
{
    ex_queue *q = ex_queue_new(1);
    int before = kit_pending_events();
    struct job j = { .q = q, .timeout = 5.0 };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0);
    ex_queue_put(q, "quick", 0);
    green_join(g, 1.0);
    green_free(g);
    int after = kit_pending_events();
    ex_queue_free(q);

    ck_assert_msg(j.rc == 0, "a getter with a 5 s timeout should get the item put meanwhile, got %d (%s)", j.rc, kit_why(j.rc, j.err));
    ck_assert_msg(after == before,
                  "the getter was served, but its 5 s timer is still registered with libevent (%d events, %d before): free it whatever woke you; "
                  KIT_LESSON(LESSON, "Timeouts and kills"),
                  after, before);
    green_hub_destroy();
}
END_TEST

START_TEST(test_served_then_killed_keeps_the_item)
{
    ex_queue *q = ex_queue_new(1);
    struct job j = { .q = q, .timeout = -1.0 };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0);
    ex_queue_put(q, "handed over", 0);
    green_kill(g, 1.0);                  /* before the getter runs again */
    green_free(g);
    size_t len = ex_queue_len(q);
    ex_queue_free(q);

    ck_assert_msg(j.rc == 0 && j.item && strcmp(j.item, "handed over") == 0,
                  "an item handed to a getter that is killed before it runs must still be delivered (or it is lost: the queue holds %zu); got %d (%s): "
                  "check `served` before the error; "
                  KIT_LESSON(LESSON, "Timeouts and kills"), len, j.rc, kit_why(j.rc, j.err));
    green_hub_destroy();
}
END_TEST

/* Three producers and three consumers through a queue of 2. */
enum { PRODUCERS = 3, CONSUMERS = 3, PER_PRODUCER = 500 };

struct worker {
    ex_queue *q;
    long id, sum, n;
};

static void *produce(void *arg)
{
    struct worker *w = arg;
    for (long i = 0; i < PER_PRODUCER; i++)
        if (ex_queue_put(w->q, INT2P(w->id * PER_PRODUCER + i + 1), 1.0) != 0)
            break;
    return NULL;
}

static void *consume(void *arg)
{
    struct worker *w = arg;
    void *item;
    while (ex_queue_get(w->q, &item, 0.2) == 0) {
        w->sum += P2INT(item);
        w->n++;
        if (w->n % 3 == 0)
            green_sleep(0);
    }
    return NULL;
}

START_TEST(test_many_producers_and_consumers)
{
    ex_queue *q = ex_queue_new(2);
    struct worker w[PRODUCERS + CONSUMERS];
    green_t *g[PRODUCERS + CONSUMERS];
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        w[i] = (struct worker){ .q = q, .id = i };
        g[i] = green_spawn(i < PRODUCERS ? produce : consume, &w[i]);
    }
    kit_join_free(g, PRODUCERS + CONSUMERS);
    ex_queue_free(q);

    long n = 0, sum = 0, total = (long)PRODUCERS * PER_PRODUCER;
    for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++) {
        n += w[i].n;
        sum += w[i].sum;
    }
    ck_assert_msg(n == total && sum == total * (total + 1) / 2,
                  "3 producers put %ld items through a queue of 2 to 3 consumers; the consumers got %ld items (sum %ld, expected %ld): items were lost or doubled",
                  total, n, sum, total * (total + 1) / 2);
    green_hub_destroy();
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("06-sync/queue");
    TCase *tc = kit_tcase("queue");
    tcase_add_test(tc, test_fifo_without_waiting);
    tcase_add_test(tc, test_get_waits_for_a_put);
    tcase_add_test(tc, test_put_waits_while_full);
    tcase_add_test(tc, test_getters_served_in_order);
    tcase_add_test(tc, test_woken_getter_not_overtaken);
    tcase_add_test(tc, test_putters_served_in_order);
    tcase_add_test(tc, test_get_times_out);
    tcase_add_test(tc, test_put_times_out);
    tcase_add_test(tc, test_timeout_zero_does_not_wait);
    tcase_add_test(tc, test_killed_getter);
    tcase_add_test(tc, test_killed_putter);
    tcase_add_test(tc, test_served_waiter_frees_its_timer);
    tcase_add_test(tc, test_served_then_killed_keeps_the_item);
    tcase_add_test(tc, test_many_producers_and_consumers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(queue_suite()); }

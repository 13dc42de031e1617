/*
 * tests/lib/sync.c - the library's own tests of sync.h: Event, AsyncResult,
 * Queue, Semaphore, Lock and greenlet-local storage.  Beyond "it works":
 * waiters are served first come first served and never overtaken, bounded
 * queues block, timeouts and kills leave the object as if the wait never
 * happened, and no timer is left behind.
 *
 * Every test ends with green_hub_destroy() so that leak checkers see a clean
 * exit, and frees the greenlets and objects it owns before that.
 */
#include "harness.h"
#include "green.h"
#include "sync.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LESSON "chapters/06-sync/README.md"
#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((long)(intptr_t)(p))

/* A trace of who did what, as space-separated words. */
static char trace[1024];

static void trace_add(const char *fmt, long n)
{
    size_t len = strlen(trace);
    if (len)
        trace[len++] = ' ';
    snprintf(trace + len, sizeof trace - len, fmt, n);
}

/* What a greenlet that waited on something saw. */
struct outcome {
    int id;
    int rc, err;
    void *value;
    int returned;
};

static void note(struct outcome *o, int rc)
{
    o->err = errno;
    o->rc = rc;
    o->returned = 1;
}

/* ---- Queue ------------------------------------------------------------ */

struct qjob {
    green_queue_t *q;
    struct outcome out;
    double timeout;
};

static void *getter(void *arg)
{
    struct qjob *j = arg;
    int rc = green_queue_get(j->q, &j->out.value, j->timeout);
    note(&j->out, rc);
    if (rc == 0)
        trace_add("g%ld", j->out.id);
    return NULL;
}

static void *putter(void *arg)
{
    struct qjob *j = arg;
    note(&j->out, green_queue_put(j->q, j->out.value, j->timeout));
    return NULL;
}

START_TEST(test_queue_unbounded_fifo)
{
    green_queue_t *q = green_queue_new(0);
    ck_assert_msg(q != NULL, "green_queue_new(0) failed");
    for (long i = 0; i < 1000; i++)
        ck_assert_msg(green_queue_put(q, INT2P(i), 0) == 0,
                      "put #%ld into an unbounded queue failed: an unbounded queue never blocks; " KIT_LESSON(LESSON, "Queue: producer and consumer"),
                      i);
    ck_assert_msg(green_queue_len(q) == 1000, "expected 1000 items, the queue holds %zu", green_queue_len(q));
    for (long i = 0; i < 1000; i++) {
        void *item = NULL;
        ck_assert_int_eq(green_queue_get(q, &item, 0), 0);
        ck_assert_msg(P2INT(item) == i, "item #%ld came out as %ld: a queue is first in, first out", i, P2INT(item));
    }
    ck_assert_msg(green_queue_len(q) == 0, "the queue should be empty, holds %zu", green_queue_len(q));
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_null_items)
{
    green_queue_t *q = green_queue_new(2);
    void *item = INT2P(7);
    ck_assert_int_eq(green_queue_put(q, NULL, 0), 0);
    ck_assert_int_eq(green_queue_get(q, &item, 0), 0);
    ck_assert_msg(item == NULL, "a NULL item should come out as NULL, got %p", item);
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_get_waits_for_put)
{
    green_queue_t *q = green_queue_new(0);
    struct qjob j = { .q = q, .timeout = 5.0 };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0.05);
    int waited = !j.out.returned;
    green_queue_put(q, "hello", 0);
    green_join(g, 2.0);
    green_free(g);
    int left = kit_pending_events();

    ck_assert_msg(waited, "green_queue_get() on an empty queue returned (rc %d) instead of waiting; " KIT_LESSON(LESSON, "Queue: producer and consumer"),
                  j.out.rc);
    ck_assert_msg(j.out.rc == 0 && j.out.value && strcmp(j.out.value, "hello") == 0,
                  "the waiting getter should get \"hello\", got rc %d (%s); " KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  j.out.rc, kit_why(j.out.rc, j.out.err));
    ck_assert_msg(green_queue_len(q) == 0, "the item went to the waiting getter, yet the queue holds %zu", green_queue_len(q));
    ck_assert_msg(left == 0,
                  "the getter was served before its 5 s timeout, yet %d event(s) are still registered with libevent: delete the timer whatever woke you; " KIT_LESSON(LESSON, "Timeouts and kills"),
                  left);
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_getters_fifo)
{
    green_queue_t *q = green_queue_new(0);
    struct qjob j[3];
    green_t *g[3];
    trace[0] = '\0';
    for (int i = 0; i < 3; i++) {
        j[i] = (struct qjob){ .q = q, .timeout = GREEN_FOREVER, .out.id = i };
        g[i] = green_spawn(getter, &j[i]);
    }
    green_sleep(0);                      /* all three wait now */
    green_queue_put(q, "a", 0);
    green_queue_put(q, "b", 0);
    green_queue_put(q, "c", 0);
    kit_join_free(g, 3);

    const char *want[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++)
        ck_assert_msg(j[i].out.rc == 0 && strcmp(j[i].out.value, want[i]) == 0,
                      "getters 0, 1, 2 waited in that order, items a, b, c were put: getter %d should get \"%s\", got \"%s\"; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                      i, want[i], j[i].out.rc == 0 ? (char *)j[i].out.value : "(nothing)");
    ck_assert_str_eq(trace, "g0 g1 g2");
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

/* The woken getter is still in the ready queue when main, a newcomer,
 * tries to take the item: it must not find one. */
START_TEST(test_queue_woken_getter_not_overtaken)
{
    green_queue_t *q = green_queue_new(0);
    struct qjob j = { .q = q, .timeout = GREEN_FOREVER };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0);
    green_queue_put(q, "mine", 0);
    void *stolen = NULL;
    int rc = green_queue_get(q, &stolen, 0);
    int err = errno;
    green_join(g, 2.0);
    green_free(g);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "a getter was waiting when \"mine\" was put; a newcomer's green_queue_get(q, &item, 0) right after should find the queue empty (-1, ETIMEDOUT), "
                  "got %d and \"%s\": the woken getter was overtaken; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  rc, rc == 0 ? (char *)stolen : "");
    ck_assert_msg(j.out.rc == 0 && strcmp(j.out.value, "mine") == 0, "the waiting getter should get \"mine\"");
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

static int produced;

static void *producer(void *arg)
{
    green_queue_t *q = arg;
    for (long i = 0; i < 5; i++) {
        if (green_queue_put(q, INT2P(i), GREEN_FOREVER) != 0)
            break;
        produced++;
    }
    return NULL;
}

START_TEST(test_queue_bounded_put_blocks)
{
    produced = 0;
    green_queue_t *q = green_queue_new(2);
    green_t *g = green_spawn(producer, q);
    green_sleep(0.05);
    int before = produced;
    size_t len = green_queue_len(q);
    void *item = NULL;
    green_queue_get(q, &item, 0);
    size_t len_after_get = green_queue_len(q);
    green_sleep(0);
    int after = produced;

    ck_assert_msg(before == 2 && len == 2,
                  "a producer putting 5 items into a queue of maxsize 2 that nobody reads should block after 2, "
                  "it put %d and the queue holds %zu; " KIT_LESSON(LESSON, "Queue: producer and consumer"), before, len);
    ck_assert_msg(P2INT(item) == 0, "the first item out should be 0, got %ld", P2INT(item));
    ck_assert_msg(len_after_get == 2,
                  "after one get, the blocked producer's item should take the freed slot at once (2 items), the queue holds %zu; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  len_after_get);
    ck_assert_msg(after == 3, "one get should unblock the producer for exactly one more put: it has put %d (expected 3)", after);
    for (long i = 1; i < 5; i++) {
        ck_assert_int_eq(green_queue_get(q, &item, 1.0), 0);
        ck_assert_msg(P2INT(item) == i, "expected item %ld, got %ld: order was lost through a full queue", i, P2INT(item));
    }
    green_join(g, 2.0);
    green_free(g);
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_putters_fifo)
{
    green_queue_t *q = green_queue_new(1);
    green_queue_put(q, "x", 0);
    struct qjob p[2] = {
        { .q = q, .timeout = GREEN_FOREVER, .out.value = "p1" },
        { .q = q, .timeout = GREEN_FOREVER, .out.value = "p2" },
    };
    green_t *g[2] = { green_spawn(putter, &p[0]), green_spawn(putter, &p[1]) };
    green_sleep(0);                      /* both wait: the queue is full */

    void *a = NULL, *b = NULL, *c = NULL;
    green_queue_get(q, &a, 0);
    int rc = green_queue_put(q, "newcomer", 0);
    int err = errno;
    green_queue_get(q, &b, 1.0);
    green_queue_get(q, &c, 1.0);
    kit_join_free(g, 2);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "the slot freed by a get belongs to the first waiting putter: a newcomer's put(q, item, 0) should fail with ETIMEDOUT, got %d (%s); "
                  KIT_LESSON(LESSON, "FIFO fairness: hand it over"), rc, kit_why(rc, err));
    ck_assert_msg(a && b && c && strcmp(a, "x") == 0 && strcmp(b, "p1") == 0 && strcmp(c, "p2") == 0,
                  "expected x, p1, p2 (the putters in the order they waited), got %s, %s, %s; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  a ? (char *)a : "-", b ? (char *)b : "-", c ? (char *)c : "-");
    ck_assert_msg(p[0].out.rc == 0 && p[1].out.rc == 0, "both waiting puts should succeed");
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_get_timeout)
{
    green_queue_t *q = green_queue_new(0);
    int events = kit_pending_events();
    double t0 = green_now();
    void *item = NULL;
    int rc = green_queue_get(q, &item, 0.1);
    int err = errno;
    double took = green_now() - t0;
    int left = kit_pending_events();
    green_queue_put(q, "later", 0);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "get(q, &item, 0.1) on an empty queue should fail with ETIMEDOUT, got %d (%s); " KIT_LESSON(LESSON, "Timeouts and kills"), rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.095 && took < 1.0, "get with a 0.1 s timeout returned after %.3f s", took);
    ck_assert_msg(left == events, "the timed-out get left %d event(s) registered with libevent (%d before): undo the timer; " KIT_LESSON(LESSON, "Timeouts and kills"),
                  left, events);
    ck_assert_msg(green_queue_len(q) == 1,
                  "after the getter timed out, a put should go into the queue (1 item), it holds %zu: the getter must leave the waiter list; " KIT_LESSON(LESSON, "Timeouts and kills"),
                  green_queue_len(q));
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_put_timeout)
{
    green_queue_t *q = green_queue_new(1);
    green_queue_put(q, "first", 0);
    double t0 = green_now();
    int rc = green_queue_put(q, "second", 0.1);
    int err = errno;
    double took = green_now() - t0;
    void *item = NULL;
    green_queue_get(q, &item, 0);

    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "put(q, item, 0.1) on a full queue should fail with ETIMEDOUT, got %d (%s); " KIT_LESSON(LESSON, "Timeouts and kills"), rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.095 && took < 1.0, "put with a 0.1 s timeout returned after %.3f s", took);
    ck_assert_msg(strcmp(item, "first") == 0 && green_queue_len(q) == 0,
                  "the timed-out put must leave nothing behind: expected \"first\" then an empty queue, got \"%s\" and %zu item(s)",
                  (char *)item, green_queue_len(q));
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

static int ran;
static void *mark_ran(void *arg) { (void)arg; ran = 1; return NULL; }

START_TEST(test_queue_timeout_zero_never_waits)
{
    ran = 0;
    green_queue_t *q = green_queue_new(1);
    green_t *g = green_spawn(mark_ran, NULL);
    void *item;
    int rc_get = green_queue_get(q, &item, 0);
    int err_get = errno;
    green_queue_put(q, "x", 0);
    int rc_put = green_queue_put(q, "y", 0);
    int err_put = errno;
    int yielded = ran;
    green_join(g, 1.0);
    green_free(g);

    ck_assert_msg(rc_get == -1 && err_get == ETIMEDOUT, "get with timeout 0 on an empty queue: expected -1 ETIMEDOUT, got %d (%s)", rc_get, kit_why(rc_get, err_get));
    ck_assert_msg(rc_put == -1 && err_put == ETIMEDOUT, "put with timeout 0 on a full queue: expected -1 ETIMEDOUT, got %d (%s)", rc_put, kit_why(rc_put, err_put));
    ck_assert_msg(!yielded, "a timeout of 0 must not wait at all, yet another greenlet ran meanwhile; " KIT_LESSON(LESSON, "Timeouts and kills"));
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_kill_getter)
{
    green_queue_t *q = green_queue_new(0);
    struct qjob j[2] = {
        { .q = q, .timeout = GREEN_FOREVER, .out.id = 0 },
        { .q = q, .timeout = GREEN_FOREVER, .out.id = 1 },
    };
    green_t *g[2] = { green_spawn(getter, &j[0]), green_spawn(getter, &j[1]) };
    green_sleep(0);
    int krc = green_kill(g[0], 1.0);
    green_queue_put(q, "for the living", 0);
    green_sleep(0);

    ck_assert_msg(krc == 0 && j[0].out.rc == -1 && j[0].out.err == ECANCELED,
                  "a getter killed while waiting should get -1 with ECANCELED, got %d (%s); " KIT_LESSON(LESSON, "Timeouts and kills"),
                  j[0].out.rc, kit_why(j[0].out.rc, j[0].out.err));
    ck_assert_msg(j[1].out.rc == 0 && strcmp(j[1].out.value, "for the living") == 0,
                  "after the first getter was killed, the item should go to the second one (rc %d): the killed waiter must leave the list; " KIT_LESSON(LESSON, "Timeouts and kills"),
                  j[1].out.rc);
    green_queue_put(q, "kept", 0);
    ck_assert_msg(green_queue_len(q) == 1, "with no getter left, a put should stay in the queue, it holds %zu", green_queue_len(q));
    kit_join_free(g, 2);
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_kill_putter)
{
    green_queue_t *q = green_queue_new(1);
    green_queue_put(q, "x", 0);
    struct qjob p = { .q = q, .timeout = GREEN_FOREVER, .out.value = "p" };
    green_t *g = green_spawn(putter, &p);
    green_sleep(0);
    green_kill(g, 1.0);
    green_free(g);
    void *item = NULL;
    green_queue_get(q, &item, 0);

    ck_assert_msg(p.out.rc == -1 && p.out.err == ECANCELED,
                  "a putter killed while waiting should get -1 with ECANCELED, got %d (%s); " KIT_LESSON(LESSON, "Timeouts and kills"),
                  p.out.rc, kit_why(p.out.rc, p.out.err));
    ck_assert_msg(strcmp(item, "x") == 0 && green_queue_len(q) == 0,
                  "the killed putter's item must not enter the queue: expected \"x\" then empty, got \"%s\" and %zu item(s)",
                  (char *)item, green_queue_len(q));
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

/* The getter's timer is due and has readied it, but a put serves it
 * before it runs: the item was handed over, so the get succeeds. */
START_TEST(test_queue_served_beats_timeout)
{
    green_queue_t *q = green_queue_new(0);
    struct qjob j = { .q = q, .timeout = 0.02 };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0);
    double t0 = green_now();
    while (green_now() - t0 < 0.05)
        ;                                /* busy: the hub cannot run */
    event_base_loop(green_hub_base(), EVLOOP_NONBLOCK);  /* the timer fires */
    green_queue_put(q, "just in time", 0);
    green_join(g, 1.0);
    green_free(g);

    ck_assert_msg(j.out.rc == 0 && strcmp(j.out.value, "just in time") == 0,
                  "an item handed to a getter must be delivered even if its timeout fired before it ran (got %d, %s): "
                  "otherwise the item is lost; " KIT_LESSON(LESSON, "Timeouts and kills"), j.out.rc, kit_why(j.out.rc, j.out.err));
    ck_assert_msg(green_queue_len(q) == 0, "the item was delivered, the queue should be empty");
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

START_TEST(test_queue_served_then_killed_keeps_item)
{
    green_queue_t *q = green_queue_new(0);
    struct qjob j = { .q = q, .timeout = GREEN_FOREVER };
    green_t *g = green_spawn(getter, &j);
    green_sleep(0);
    green_queue_put(q, "handed over", 0);
    green_kill(g, 1.0);                  /* before the getter ran again */
    green_free(g);

    ck_assert_msg(j.out.rc == 0 && strcmp(j.out.value, "handed over") == 0,
                  "an item handed to a getter that is killed before it runs must still be delivered (got %d, %s); " KIT_LESSON(LESSON, "Timeouts and kills"),
                  j.out.rc, kit_why(j.out.rc, j.out.err));
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

/* Capture what the hub prints on stderr (the deadlock report). */
static FILE *capture_start(int *saved)
{
    fflush(stderr);
    FILE *f = tmpfile();
    *saved = dup(STDERR_FILENO);
    dup2(fileno(f), STDERR_FILENO);
    return f;
}

static void capture_end(FILE *f, int saved, char *buf, size_t size)
{
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

START_TEST(test_queue_deadlock)
{
    green_queue_t *q = green_queue_new(0);
    int saved;
    FILE *f = capture_start(&saved);
    void *item;
    int rc = green_queue_get(q, &item, GREEN_FOREVER);
    int err = errno;
    char report[2048];
    capture_end(f, saved, report, sizeof report);

    ck_assert_msg(rc == -1 && err == EDEADLK,
                  "main waiting for ever on an empty queue nobody else can fill should get -1 with EDEADLK, got %d (%s)", rc, kit_why(rc, err));
    ck_assert_msg(strstr(report, "deadlock") != NULL, "the hub should report the deadlock on stderr, it printed: %s", report);
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

/* Many producers and consumers through a small queue: nothing lost,
 * nothing twice, and each consumer sees each producer's items in order. */
enum { PRODUCERS = 3, CONSUMERS = 3, PER_PRODUCER = 3000 };

struct stress {
    green_queue_t *q;
    int id;
    long last_seen[PRODUCERS];    /* consumers: last index got per producer */
    long sum, n, out_of_order;
};

static void *stress_producer(void *arg)
{
    struct stress *p = arg;
    for (long i = 0; i < PER_PRODUCER; i++) {
        if (green_queue_put(p->q, INT2P(p->id * PER_PRODUCER + i), 1.0) != 0)
            return NULL;
        if (i % 7 == 0)
            green_sleep(0);
    }
    return NULL;
}

static void *stress_consumer(void *arg)
{
    struct stress *c = arg;
    void *item;
    while (green_queue_get(c->q, &item, 0.2) == 0) {
        long v = P2INT(item), p = v / PER_PRODUCER, i = v % PER_PRODUCER;
        if (i <= c->last_seen[p])
            c->out_of_order++;
        c->last_seen[p] = i;
        c->sum += v;
        c->n++;
        if (v % 5 == 0)
            green_sleep(0);
    }
    return NULL;
}

START_TEST(test_queue_many_producers_consumers)
{
    green_queue_t *q = green_queue_new(4);
    struct stress st[PRODUCERS + CONSUMERS];
    green_t *g[PRODUCERS + CONSUMERS];
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        st[i] = (struct stress){ .q = q, .id = i };
        for (int p = 0; p < PRODUCERS; p++)
            st[i].last_seen[p] = -1;
        g[i] = green_spawn(i < PRODUCERS ? stress_producer : stress_consumer, &st[i]);
    }
    kit_join_free(g, PRODUCERS + CONSUMERS);

    long n = (long)PRODUCERS * PER_PRODUCER, got = 0, sum = 0, disorder = 0;
    for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++) {
        got += st[i].n;
        sum += st[i].sum;
        disorder += st[i].out_of_order;
    }
    ck_assert_msg(got == n, "%ld items were put, %ld were got", n, got);
    ck_assert_msg(sum == n * (n - 1) / 2, "the items got are not the items put (sum %ld, expected %ld)", sum, n * (n - 1) / 2);
    ck_assert_msg(disorder == 0, "%ld items reached a consumer out of order", disorder);
    green_queue_free(q);
    green_hub_destroy();
}
END_TEST

/* ---- Event ------------------------------------------------------------- */

struct ejob {
    green_event_t *e;
    double timeout;
    struct outcome out;
};

static void *event_waiter(void *arg)
{
    struct ejob *j = arg;
    note(&j->out, green_event_wait(j->e, j->timeout));
    trace_add("w%ld", j->out.id);
    return NULL;
}

START_TEST(test_event_broadcast)
{
    green_event_t *e = green_event_new();
    struct ejob j[3];
    green_t *g[3];
    trace[0] = '\0';
    for (int i = 0; i < 3; i++) {
        j[i] = (struct ejob){ .e = e, .timeout = GREEN_FOREVER, .out.id = i };
        g[i] = green_spawn(event_waiter, &j[i]);
    }
    green_sleep(0.05);
    int early = j[0].out.returned + j[1].out.returned + j[2].out.returned;
    green_event_set(e);
    green_sleep(0);
    int woke = j[0].out.returned + j[1].out.returned + j[2].out.returned;
    kit_join_free(g, 3);

    ck_assert_msg(early == 0, "%d waiter(s) returned from green_event_wait() before the event was set; " KIT_LESSON(LESSON, "Event: wake everybody"), early);
    ck_assert_msg(woke == 3, "green_event_set() should wake every waiter at once, %d of 3 woke; " KIT_LESSON(LESSON, "Event: wake everybody"), woke);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(j[i].out.rc == 0, "waiter %d: green_event_wait should return 0, got %d (%s)", i, j[i].out.rc, kit_why(j[i].out.rc, j[i].out.err));
    ck_assert_msg(strcmp(trace, "w0 w1 w2") == 0, "waiters should wake in the order they waited (w0 w1 w2), got %s", trace);
    ck_assert_msg(green_event_is_set(e), "the event should stay set");
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

START_TEST(test_event_set_does_not_wait)
{
    ran = 0;
    green_event_t *e = green_event_new();
    ck_assert_msg(!green_event_is_set(e), "a new event should not be set");
    green_event_set(e);
    green_t *g = green_spawn(mark_ran, NULL);
    int rc0 = green_event_wait(e, 0);
    int rc1 = green_event_wait(e, GREEN_FOREVER);
    int yielded = ran;
    green_join(g, 1.0);
    green_free(g);
    ck_assert_msg(rc0 == 0 && rc1 == 0, "waiting for an event that is set should return 0 at once, got %d and %d", rc0, rc1);
    ck_assert_msg(!yielded, "waiting for an event that is already set must not switch to the hub");
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

START_TEST(test_event_clear_and_timeout)
{
    green_event_t *e = green_event_new();
    green_event_set(e);
    green_event_clear(e);
    double t0 = green_now();
    int rc = green_event_wait(e, 0.1);
    int err = errno;
    double took = green_now() - t0;
    int rc0 = green_event_wait(e, 0);
    int err0 = errno;

    ck_assert_msg(!green_event_is_set(e), "green_event_clear() should reset the flag");
    ck_assert_msg(rc == -1 && err == ETIMEDOUT, "wait(0.1) on a cleared event should fail with ETIMEDOUT, got %d (%s)", rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.095 && took < 1.0, "wait(0.1) returned after %.3f s", took);
    ck_assert_msg(rc0 == -1 && err0 == ETIMEDOUT, "wait(0) on a cleared event should fail with ETIMEDOUT, got %d (%s)", rc0, kit_why(rc0, err0));
    ck_assert_msg(kit_pending_events() == 0, "a timed-out wait left %d event(s) registered with libevent", kit_pending_events());
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

START_TEST(test_event_set_then_clear_still_wakes)
{
    green_event_t *e = green_event_new();
    struct ejob j[2] = { { .e = e, .timeout = 1.0 }, { .e = e, .timeout = 1.0 } };
    green_t *g[2] = { green_spawn(event_waiter, &j[0]), green_spawn(event_waiter, &j[1]) };
    green_sleep(0);
    green_event_set(e);
    green_event_clear(e);           /* before the waiters run */
    kit_join_free(g, 2);

    ck_assert_msg(j[0].out.rc == 0 && j[1].out.rc == 0,
                  "greenlets woken by green_event_set() must return 0 even if the event is cleared before they run, got %d and %d; " KIT_LESSON(LESSON, "Event: wake everybody"),
                  j[0].out.rc, j[1].out.rc);
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

START_TEST(test_event_kill_waiter)
{
    green_event_t *e = green_event_new();
    struct ejob j[2] = { { .e = e, .timeout = GREEN_FOREVER }, { .e = e, .timeout = GREEN_FOREVER } };
    green_t *g[2] = { green_spawn(event_waiter, &j[0]), green_spawn(event_waiter, &j[1]) };
    green_sleep(0);
    green_kill(g[0], 1.0);
    green_event_set(e);
    kit_join_free(g, 2);

    ck_assert_msg(j[0].out.rc == -1 && j[0].out.err == ECANCELED,
                  "a killed event waiter should get -1 with ECANCELED, got %d (%s)", j[0].out.rc, kit_why(j[0].out.rc, j[0].out.err));
    ck_assert_msg(j[1].out.rc == 0, "the other waiter should still be woken by set, got %d", j[1].out.rc);
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

/* gevent issue 1520: set() wakes the waiters, then the setter waits on the
 * event itself.  The flag is set, yet those woken first must run first. */
START_TEST(test_event_woken_waiters_run_before_late_waiter)
{
    green_event_t *e = green_event_new();
    struct ejob j[2] = { { .e = e, .timeout = GREEN_FOREVER, .out.id = 0 },
                         { .e = e, .timeout = GREEN_FOREVER, .out.id = 1 } };
    green_t *g[2] = { green_spawn(event_waiter, &j[0]), green_spawn(event_waiter, &j[1]) };
    trace[0] = '\0';
    green_sleep(0);
    green_event_set(e);
    int rc = green_event_wait(e, GREEN_FOREVER);
    trace_add("late%ld", 0);
    int rc_after = green_event_wait(e, GREEN_FOREVER);
    kit_join_free(g, 2);

    ck_assert_msg(rc == 0 && rc_after == 0, "waiting on a set event should return 0, got %d and %d", rc, rc_after);
    ck_assert_msg(strcmp(trace, "w0 w1 late0") == 0,
                  "a greenlet that waits on an event already set must return after the waiters that green_event_set() woke (as in gevent): expected \"w0 w1 late0\", got \"%s\"; " KIT_LESSON(LESSON, "Event: wake everybody"),
                  trace);
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

/* ---- AsyncResult -------------------------------------------------------- */

struct ajob {
    green_async_t *a;
    double timeout;
    struct outcome out;
};

static void *async_getter(void *arg)
{
    struct ajob *j = arg;
    note(&j->out, green_async_get(j->a, &j->out.value, j->timeout));
    return NULL;
}

static void *async_setter(void *arg)
{
    green_async_t *a = arg;
    if (green_sleep(0.05) == 0)
        green_async_set(a, "42");
    return NULL;
}

START_TEST(test_async_value)
{
    green_async_t *a = green_async_new();
    struct ajob j[3];
    green_t *g[4];
    for (int i = 0; i < 3; i++) {
        j[i] = (struct ajob){ .a = a, .timeout = 2.0 };
        g[i] = green_spawn(async_getter, &j[i]);
    }
    g[3] = green_spawn(async_setter, a);
    green_sleep(0);
    int ready_before = green_async_ready(a);
    kit_join_free(g, 4);

    ck_assert_msg(!ready_before, "a new AsyncResult should not be ready");
    for (int i = 0; i < 3; i++)
        ck_assert_msg(j[i].out.rc == 0 && j[i].out.value && strcmp(j[i].out.value, "42") == 0,
                      "getter %d should get \"42\" from the setter, got %d (%s); " KIT_LESSON(LESSON, "AsyncResult: a value or an error"),
                      i, j[i].out.rc, kit_why(j[i].out.rc, j[i].out.err));
    ck_assert_msg(green_async_ready(a), "after set, the result should be ready");
    void *v = NULL;
    ck_assert_msg(green_async_get(a, &v, 0) == 0 && strcmp(v, "42") == 0, "a later get should return the value at once");
    ck_assert_msg(green_async_get(a, NULL, 0) == 0, "get with value NULL should just wait for readiness");
    green_async_free(a);
    green_hub_destroy();
}
END_TEST

START_TEST(test_async_error)
{
    green_async_t *a = green_async_new();
    struct ajob j = { .a = a, .timeout = 2.0, .out.value = "untouched" };
    green_t *g = green_spawn(async_getter, &j);
    green_sleep(0);
    green_async_set_error(a, EHOSTUNREACH);
    green_join(g, 1.0);
    green_free(g);

    ck_assert_msg(j.out.rc == -1 && j.out.err == EHOSTUNREACH,
                  "after set_error(EHOSTUNREACH), get should return -1 with errno EHOSTUNREACH, got %d (%s); " KIT_LESSON(LESSON, "AsyncResult: a value or an error"),
                  j.out.rc, kit_why(j.out.rc, j.out.err));
    ck_assert_msg(green_async_ready(a), "a result set with an error is ready");
    errno = 0;
    ck_assert_msg(green_async_get(a, NULL, 0) == -1 && errno == EHOSTUNREACH, "a later get should fail with the same error");
    green_async_set(a, "fixed");
    void *v = NULL;
    ck_assert_msg(green_async_get(a, &v, 0) == 0 && strcmp(v, "fixed") == 0, "setting a value again replaces the error");
    green_async_free(a);
    green_hub_destroy();
}
END_TEST

START_TEST(test_async_timeout)
{
    green_async_t *a = green_async_new();
    double t0 = green_now();
    int rc = green_async_get(a, NULL, 0.05);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(rc == -1 && err == ETIMEDOUT, "get(0.05) on a result nobody sets should fail with ETIMEDOUT, got %d (%s)", rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.045 && took < 1.0, "get(0.05) returned after %.3f s", took);
    ck_assert_msg(!green_async_ready(a), "a timed-out get does not make the result ready");
    green_async_free(a);
    green_hub_destroy();
}
END_TEST

/* ---- Semaphore and Lock --------------------------------------------------- */

static int inside, most_inside;

static void *sem_worker(void *arg)
{
    green_sem_t *s = arg;
    if (green_sem_acquire(s, GREEN_FOREVER) != 0)
        return NULL;
    if (++inside > most_inside)
        most_inside = inside;
    green_sleep(0.02);
    inside--;
    green_sem_release(s);
    return INT2P(1);
}

START_TEST(test_sem_counting)
{
    inside = most_inside = 0;
    green_sem_t *s = green_sem_new(2);
    green_t *g[5];
    for (int i = 0; i < 5; i++)
        g[i] = green_spawn(sem_worker, s);
    green_joinall(g, 5, 2.0);
    int done = 0;
    for (int i = 0; i < 5; i++)
        done += green_result(g[i]) != NULL;
    kit_join_free(g, 5);

    ck_assert_msg(done == 5, "all 5 workers should get through the semaphore, %d did", done);
    ck_assert_msg(most_inside == 2, "a semaphore of 2 should let exactly 2 workers in at a time, saw %d; " KIT_LESSON(LESSON, "Semaphore and Lock"), most_inside);
    ck_assert_msg(green_sem_value(s) == 2, "after every worker released it the semaphore should be back to 2, it is %u", green_sem_value(s));
    green_sem_free(s);
    green_hub_destroy();
}
END_TEST

struct sjob {
    green_sem_t *s;
    double timeout;
    struct outcome out;
};

static void *sem_acquirer(void *arg)
{
    struct sjob *j = arg;
    int rc = green_sem_acquire(j->s, j->timeout);
    note(&j->out, rc);
    if (rc == 0)
        trace_add("a%ld", j->out.id);
    return NULL;
}

START_TEST(test_sem_fifo_handoff)
{
    green_sem_t *s = green_sem_new(0);
    struct sjob j[3];
    green_t *g[3];
    trace[0] = '\0';
    for (int i = 0; i < 3; i++) {
        j[i] = (struct sjob){ .s = s, .timeout = GREEN_FOREVER, .out.id = i };
        g[i] = green_spawn(sem_acquirer, &j[i]);
    }
    green_sleep(0);
    green_sem_release(s);
    int rc = green_sem_acquire(s, 0);      /* a newcomer */
    green_sem_release(s);
    green_sem_release(s);
    kit_join_free(g, 3);

    ck_assert_msg(rc == -1, "a permit released while greenlets wait belongs to the first of them; a newcomer's acquire(0) must fail; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"));
    ck_assert_msg(strcmp(trace, "a0 a1 a2") == 0, "waiters should get permits in the order they waited (a0 a1 a2), got %s", trace);
    ck_assert_msg(green_sem_value(s) == 0, "every permit was handed over, the count should be 0, it is %u", green_sem_value(s));
    green_sem_free(s);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sem_timeout_and_kill)
{
    green_sem_t *s = green_sem_new(0);
    int rc0 = green_sem_acquire(s, 0);
    int err0 = errno;
    int rc1 = green_sem_acquire(s, 0.05);
    int err1 = errno;
    struct sjob j = { .s = s, .timeout = GREEN_FOREVER };
    green_t *g = green_spawn(sem_acquirer, &j);
    green_sleep(0);
    green_kill(g, 1.0);
    green_free(g);
    green_sem_release(s);

    ck_assert_msg(rc0 == -1 && err0 == ETIMEDOUT, "acquire(0) with no permit: expected -1 ETIMEDOUT, got %d (%s)", rc0, kit_why(rc0, err0));
    ck_assert_msg(rc1 == -1 && err1 == ETIMEDOUT, "acquire(0.05) with no permit: expected -1 ETIMEDOUT, got %d (%s)", rc1, kit_why(rc1, err1));
    ck_assert_msg(j.out.rc == -1 && j.out.err == ECANCELED, "a killed acquirer should get -1 ECANCELED, got %d (%s)", j.out.rc, kit_why(j.out.rc, j.out.err));
    ck_assert_msg(green_sem_value(s) == 1, "a release after the only waiter was killed should be counted (1), the value is %u: the killed waiter must leave the list; " KIT_LESSON(LESSON, "Timeouts and kills"),
                  green_sem_value(s));
    green_sem_free(s);
    green_hub_destroy();
}
END_TEST

/* The list of waiters is one FIFO for every primitive (lib/private/wait.h): a
 * waiter killed from the middle leaves it, and the ones behind keep their
 * order; a waiter served just before it is killed keeps its permit (served
 * wins), so no permit is lost or counted twice. */
START_TEST(test_sem_wake_order_under_kill)
{
    green_sem_t *s = green_sem_new(0);
    struct sjob j[4];
    green_t *g[4];
    trace[0] = '\0';
    for (int i = 0; i < 4; i++) {
        j[i] = (struct sjob){ .s = s, .timeout = GREEN_FOREVER, .out.id = i };
        g[i] = green_spawn(sem_acquirer, &j[i]);
    }
    green_sleep(0);                        /* a0 a1 a2 a3 wait, in order */
    green_kill(g[1], 1.0);                 /* from the middle */
    green_sem_release(s);                  /* serves a0 ... */
    green_kill(g[0], 1.0);                 /* ... killed before it ran */
    green_sem_release(s);
    green_sem_release(s);
    kit_join_free(g, 4);

    ck_assert_msg(j[1].out.rc == -1 && j[1].out.err == ECANCELED,
                  "a waiter killed before any release should get -1 ECANCELED, got %d (%s)",
                  j[1].out.rc, kit_why(j[1].out.rc, j[1].out.err));
    ck_assert_msg(j[0].out.rc == 0,
                  "a waiter handed a permit, then killed before it ran, keeps the permit (served wins over a later kill), got %d (%s); " KIT_LESSON(LESSON, "Timeouts and kills"),
                  j[0].out.rc, kit_why(j[0].out.rc, j[0].out.err));
    ck_assert_msg(strcmp(trace, "a0 a2 a3") == 0,
                  "after a kill from the middle, the others should get permits in the order they waited (a0 a2 a3), got %s; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"),
                  trace);
    ck_assert_msg(green_sem_value(s) == 0,
                  "three releases, three permits handed over: the count should be 0, it is %u (a killed waiter must leave the list, a served one must not give its permit back)",
                  green_sem_value(s));
    green_sem_free(s);
    green_hub_destroy();
}
END_TEST

/* Read, wait, write back: the lost update of 'Why greenlets need
 * synchronization', and the lock that prevents it. */
static long balance;

static void *withdraw(void *arg)
{
    green_lock_t *l = arg;
    if (l && green_lock_acquire(l, GREEN_FOREVER) != 0)
        return NULL;
    long seen = balance;
    green_sleep(0.01);                 /* "ask the database": others run */
    if (seen >= 80)
        balance = seen - 80;
    if (l)
        green_lock_release(l);
    return NULL;
}

START_TEST(test_lock_prevents_lost_update)
{
    green_t *g[2];
    balance = 100;
    g[0] = green_spawn(withdraw, NULL);
    g[1] = green_spawn(withdraw, NULL);
    kit_join_free(g, 2);
    long unlocked = balance;

    green_lock_t *l = green_lock_new();
    balance = 100;
    g[0] = green_spawn(withdraw, l);
    g[1] = green_spawn(withdraw, l);
    kit_join_free(g, 2);

    ck_assert_msg(unlocked == 20, "test setup: without a lock both withdrawals should see 100 (balance 20), got %ld", unlocked);
    ck_assert_msg(balance == 20 && !green_lock_locked(l),
                  "with the lock, the second withdrawal must see the first one's result; expected 20 and unlocked, got %ld; " KIT_LESSON(LESSON, "Semaphore and Lock"),
                  balance);
    green_lock_free(l);
    green_hub_destroy();
}
END_TEST

struct ljob {
    green_lock_t *l;
    struct outcome out;
};

/* Takes the lock and returns, leaving it locked for main to release. */
static void *lock_taker(void *arg)
{
    struct ljob *j = arg;
    int rc = green_lock_acquire(j->l, GREEN_FOREVER);
    note(&j->out, rc);
    if (rc == 0)
        trace_add("l%ld", j->out.id);
    return NULL;
}

START_TEST(test_lock_basics)
{
    green_lock_t *l = green_lock_new();
    ck_assert_msg(!green_lock_locked(l), "a new lock should be unlocked");
    errno = 0;
    int rc = green_lock_release(l);
    ck_assert_msg(rc == -1 && errno == EPERM, "releasing an unlocked lock should fail with EPERM, got %d (%s)", rc, kit_why(rc, errno));
    ck_assert_int_eq(green_lock_acquire(l, 0), 0);
    ck_assert_msg(green_lock_locked(l), "after acquire the lock should be locked");
    rc = green_lock_acquire(l, 0.05);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "acquiring a held lock with a 0.05 s timeout should fail with ETIMEDOUT, got %d", rc);

    struct ljob j[2];
    green_t *g[2];
    trace[0] = '\0';
    for (int i = 0; i < 2; i++) {
        j[i] = (struct ljob){ .l = l, .out.id = i };
        g[i] = green_spawn(lock_taker, &j[i]);
    }
    green_sleep(0);
    ck_assert_int_eq(green_lock_release(l), 0);   /* to l0, directly */
    rc = green_lock_acquire(l, 0);
    ck_assert_msg(rc == -1 && green_lock_locked(l),
                  "a lock released while greenlets wait goes to the first of them: it stays locked and a newcomer's acquire(0) fails; " KIT_LESSON(LESSON, "FIFO fairness: hand it over"));
    green_sleep(0);
    ck_assert_int_eq(green_lock_release(l), 0);   /* l0 is done: to l1 */
    green_sleep(0);
    ck_assert_int_eq(green_lock_release(l), 0);
    kit_join_free(g, 2);
    ck_assert_msg(strcmp(trace, "l0 l1") == 0, "the lock should go to waiters in order (l0 l1), got %s", trace);
    ck_assert_msg(!green_lock_locked(l), "the lock should end unlocked");
    green_lock_free(l);
    green_hub_destroy();
}
END_TEST

/* ---- Greenlet-local storage -------------------------------------------- */

static int key;

static void *local_user(void *arg)
{
    green_local_set(key, arg);
    green_sleep(0);                      /* the others set theirs */
    green_sleep(0.01);
    return green_local_get(key);
}

START_TEST(test_local_per_greenlet)
{
    key = green_local_new(NULL);
    ck_assert_msg(key >= 0, "green_local_new failed: %s", strerror(errno));
    ck_assert_msg(green_local_get(key) == NULL, "a value never set should be NULL");
    green_local_set(key, "main's");
    green_t *g[3] = { green_spawn(local_user, "a"), green_spawn(local_user, "b"), green_spawn(local_user, "c") };
    green_joinall(g, 3, 2.0);
    const char *got[3];
    for (int i = 0; i < 3; i++)
        got[i] = green_result(g[i]);
    kit_join_free(g, 3);

    ck_assert_msg(got[0] && got[1] && got[2] && strcmp(got[0], "a") == 0 && strcmp(got[1], "b") == 0 && strcmp(got[2], "c") == 0,
                  "three greenlets set the same key to a, b, c and read it back after waiting; got %s, %s, %s: each greenlet has its own value; " KIT_LESSON(LESSON, "Greenlet-local storage"),
                  got[0] ? got[0] : "NULL", got[1] ? got[1] : "NULL", got[2] ? got[2] : "NULL");
    ck_assert_msg(strcmp(green_local_get(key), "main's") == 0, "main's own value should be untouched by the others");
    green_local_set(key, NULL);
    green_hub_destroy();
}
END_TEST

START_TEST(test_local_bad_keys)
{
    int k = green_local_new(NULL);
    errno = 0;
    ck_assert_msg(green_local_set(k + 1, "x") == -1 && errno == EINVAL, "setting a key never made should fail with EINVAL");
    ck_assert_msg(green_local_set(-1, "x") == -1 && errno == EINVAL, "setting key -1 should fail with EINVAL");
    ck_assert_msg(green_local_get(k + 1) == NULL && green_local_get(-1) == NULL, "getting a bad key should give NULL");
    green_hub_destroy();
}
END_TEST

static int destroyed;
static char destroyed_what[64];

static void destroy_value(void *value)
{
    destroyed++;
    snprintf(destroyed_what, sizeof destroyed_what, "%s", (char *)value);
    free(value);
}

static void *owns_a_value(void *arg)
{
    green_local_set(key, strdup(arg));
    green_sleep(0.01);
    return NULL;
}

START_TEST(test_local_destructor_at_death)
{
    destroyed = 0;
    key = green_local_new(destroy_value);
    green_t *g = green_spawn(owns_a_value, "request 7");
    green_sleep(0);
    int before = destroyed;
    green_join(g, 2.0);
    int at_join = destroyed;
    green_free(g);

    ck_assert_msg(before == 0, "the destructor ran while the greenlet was still alive");
    ck_assert_msg(at_join == 1 && strcmp(destroyed_what, "request 7") == 0,
                  "when a greenlet finishes, the key's destructor should run once with its value (before join returns); ran %d time(s) with \"%s\"; " KIT_LESSON(LESSON, "Greenlet-local storage"),
                  at_join, destroyed_what);
    green_hub_destroy();
}
END_TEST

static void *waits_forever(void *arg)
{
    green_event_t *e = arg;
    green_local_set(key, strdup("killed one"));
    green_event_wait(e, GREEN_FOREVER);
    return NULL;
}

START_TEST(test_local_destructor_when_killed)
{
    destroyed = 0;
    key = green_local_new(destroy_value);
    green_event_t *e = green_event_new();
    green_t *g = green_spawn(waits_forever, e);
    green_sleep(0);
    green_kill(g, 1.0);
    green_free(g);
    ck_assert_msg(destroyed == 1 && strcmp(destroyed_what, "killed one") == 0,
                  "a killed greenlet's values should be destroyed when it returns, %d destructor call(s)", destroyed);
    green_event_free(e);
    green_hub_destroy();
}
END_TEST

static int key2;

/* A destructor that, the first time, stores a new value under its key:
 * the hub must go round again and destroy that one too. */
static void destroy_and_store(void *value)
{
    free(value);
    if (destroyed++ == 0)
        green_local_set(key2, strdup("stored by a destructor"));
}

static void *two_values(void *arg)
{
    (void)arg;
    char *first = strdup("first");
    green_local_set(key, first);
    green_local_set(key, NULL);           /* cleared: nothing to destroy */
    free(first);
    green_local_set(key2, strdup("second"));
    return NULL;
}

START_TEST(test_local_destructor_rounds)
{
    destroyed = 0;
    key = green_local_new(destroy_value);
    key2 = green_local_new(destroy_and_store);
    green_t *g = green_spawn(two_values, NULL);
    green_join(g, 1.0);
    green_free(g);
    ck_assert_msg(destroyed == 2,
                  "expected 2 destructor calls (a NULL value is not destroyed; a value a destructor stores is), got %d; " KIT_LESSON(LESSON, "Greenlet-local storage"),
                  destroyed);
    green_hub_destroy();
}
END_TEST

static Suite *sync_suite(void)
{
    Suite *s = suite_create("lib/sync");
    TCase *tc = kit_tcase("queue");
    tcase_add_test(tc, test_queue_unbounded_fifo);
    tcase_add_test(tc, test_queue_null_items);
    tcase_add_test(tc, test_queue_get_waits_for_put);
    tcase_add_test(tc, test_queue_getters_fifo);
    tcase_add_test(tc, test_queue_woken_getter_not_overtaken);
    tcase_add_test(tc, test_queue_bounded_put_blocks);
    tcase_add_test(tc, test_queue_putters_fifo);
    tcase_add_test(tc, test_queue_get_timeout);
    tcase_add_test(tc, test_queue_put_timeout);
    tcase_add_test(tc, test_queue_timeout_zero_never_waits);
    tcase_add_test(tc, test_queue_kill_getter);
    tcase_add_test(tc, test_queue_kill_putter);
    tcase_add_test(tc, test_queue_served_beats_timeout);
    tcase_add_test(tc, test_queue_served_then_killed_keeps_item);
    tcase_add_test(tc, test_queue_deadlock);
    tcase_add_test(tc, test_queue_many_producers_consumers);
    suite_add_tcase(s, tc);

    tc = kit_tcase("event and async result");
    tcase_add_test(tc, test_event_broadcast);
    tcase_add_test(tc, test_event_set_does_not_wait);
    tcase_add_test(tc, test_event_clear_and_timeout);
    tcase_add_test(tc, test_event_set_then_clear_still_wakes);
    tcase_add_test(tc, test_event_kill_waiter);
    tcase_add_test(tc, test_event_woken_waiters_run_before_late_waiter);
    tcase_add_test(tc, test_async_value);
    tcase_add_test(tc, test_async_error);
    tcase_add_test(tc, test_async_timeout);
    suite_add_tcase(s, tc);

    tc = kit_tcase("semaphore and lock");
    tcase_add_test(tc, test_sem_counting);
    tcase_add_test(tc, test_sem_fifo_handoff);
    tcase_add_test(tc, test_sem_timeout_and_kill);
    tcase_add_test(tc, test_sem_wake_order_under_kill);
    tcase_add_test(tc, test_lock_prevents_lost_update);
    tcase_add_test(tc, test_lock_basics);
    suite_add_tcase(s, tc);

    tc = kit_tcase("greenlet-local");
    tcase_add_test(tc, test_local_per_greenlet);
    tcase_add_test(tc, test_local_bad_keys);
    tcase_add_test(tc, test_local_destructor_at_death);
    tcase_add_test(tc, test_local_destructor_when_killed);
    tcase_add_test(tc, test_local_destructor_rounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(sync_suite()); }

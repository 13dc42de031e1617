/* Tests of exercise 07-servers/pool_spawn: at most N running, spawners
 * waiting first come, first served. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "pool_spawn.h"

#define LESSON "chapters/07-servers/README.md"

#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((int)(intptr_t)(p))

static int running, most, finished, order[32], norder;

static void reset(void)
{
    running = most = finished = norder = 0;
}

/* A job: records its id (arg % 1000) and sleeps arg / 1000 ms. */
static void *job(void *arg)
{
    if (norder < 32)
        order[norder++] = P2INT(arg) % 1000;
    if (++running > most)
        most = running;
    green_sleep(P2INT(arg) / 1000 / 1000.0);
    running--;
    finished++;
    return NULL;
}

static void *job_arg(int ms, int id)
{
    return INT2P(ms * 1000 + id);
}

/* The pool's greenlets are detached: wait for them by counting. */
static int wait_finished(int n, double timeout)
{
    double deadline = green_now() + timeout;
    while (finished < n && green_now() < deadline)
        green_sleep(0.01);
    return finished == n;
}

static ex_pool_t pool;

/* Fill a pool of 1 with the job that the others wait for. */
static void fill_pool(void)
{
    ck_assert_msg(ex_pool_spawn(&pool, job, job_arg(50, 100)) != NULL,
                  "ex_pool_spawn into an empty pool of 1 should return the new greenlet, got "
                  "NULL (%s); " KIT_LESSON(LESSON, "Pool: bounding concurrency"), strerror(errno));
}

/* A greenlet that spawns job(arg) into the pool, waiting if need be. */
static void *spawner(void *arg)
{
    return ex_pool_spawn(&pool, job, arg) ? arg : NULL;
}

START_TEST(test_runs_the_function)
{
    reset();
    ex_pool_init(&pool, 2);
    green_t *g = ex_pool_spawn(&pool, job, job_arg(10, 7));
    ck_assert_msg(g != NULL, "ex_pool_spawn into an empty pool of 2 should return the new greenlet, "
                  "got NULL (%s); " KIT_LESSON(LESSON, "Pool: bounding concurrency"), strerror(errno));
    ck_assert_msg(wait_finished(1, 2.0) && order[0] == 7,
                  "the greenlet should run fn(arg); " KIT_LESSON(LESSON, "Pool: bounding concurrency"));
    ck_assert_msg(pool.running == 0, "after the job returned, pool.running should be back to 0, "
                  "it is %d: the wrapper gives its slot up when fn returns; "
                  KIT_LESSON(LESSON, "Pool: bounding concurrency"),
                  pool.running);
    green_hub_destroy();
}
END_TEST

START_TEST(test_no_wait_while_room)
{
    reset();
    ex_pool_init(&pool, 3);
    int spawned = 0;
    for (int i = 0; i < 3; i++)
        spawned += ex_pool_spawn(&pool, job, job_arg(100, i)) != NULL;
    int done = finished;
    ck_assert_msg(spawned == 3, "3 spawns into a pool of 3 should all succeed, %d did", spawned);
    /* Not a wall-clock figure: a spawner that waited for a slot would
     * have let a 100 ms job finish meanwhile. */
    ck_assert_msg(done == 0, "spawning while the pool has room should not wait, yet %d job(s) "
                  "finished during the 3 spawns", done);
    ck_assert_msg(pool.running == 3, "3 jobs spawned: pool.running should be 3, is %d", pool.running);
    wait_finished(3, 2.0);
    green_hub_destroy();
}
END_TEST

START_TEST(test_at_most_n)
{
    reset();
    ex_pool_init(&pool, 3);
    double t0 = green_now();
    int spawned = 0;
    while (spawned < 10 && ex_pool_spawn(&pool, job, job_arg(50, spawned)) != NULL)
        spawned++;
    ck_assert_msg(spawned == 10, "10 spawns one after the other into a pool of 3 should all succeed "
                  "(waiting for a slot when it is full), spawn %d returned NULL (%s); "
                  KIT_LESSON(LESSON, "Pool: bounding concurrency"),
                  spawned, strerror(errno));
    int all = wait_finished(10, 3.0);
    double took = green_now() - t0;
    ck_assert_msg(all, "10 jobs spawned one after the other into a pool of 3 should all run, "
                  "%d did; " KIT_LESSON(LESSON, "Pool: bounding concurrency"), finished);
    ck_assert_msg(most == 3, "a pool of 3 should run at most 3 jobs at once (and here, 3), "
                  "saw %d: wait while the pool is full; "
                  KIT_LESSON(LESSON, "Pool: bounding concurrency"), most);
    ck_assert_msg(took >= 0.18 && took < 1.5, "10 jobs of 50 ms, 3 at a time, need 4 rounds "
                  "(200 ms), took %.3f s", took);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(order[i] == i, "jobs should start in the order they were spawned: "
                      "position %d holds job %d", i, order[i]);
    ck_assert_msg(pool.running == 0, "pool.running should be 0 at the end, is %d", pool.running);
    green_hub_destroy();
}
END_TEST

START_TEST(test_waiting_spawners_fifo)
{
    reset();
    ex_pool_init(&pool, 1);
    fill_pool();
    green_t *s[5];
    for (int i = 0; i < 5; i++)
        s[i] = green_spawn(spawner, job_arg(20, i));
    green_joinall(s, 5, 3.0);
    int all = wait_finished(6, 3.0);
    ck_assert_msg(all, "5 spawners waiting on a full pool of 1 should each get a slot in turn; "
                  "%d of 6 jobs ran; " KIT_LESSON(LESSON, "Pool: bounding concurrency"), finished);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(order[i + 1] == i, "waiting spawners should be served first come, first "
                      "served: slot %d went to spawner %d; " KIT_LESSON(LESSON, "Pool: bounding concurrency"),
                      i, order[i + 1]);
    ck_assert_int_eq(most, 1);
    for (int i = 0; i < 5; i++) {
        green_kill(s[i], 1.0);
        green_free(s[i]);
    }
    green_hub_destroy();
}
END_TEST

/* T sleeps as long as the member M, and after it, so both wake in the
 * same round, M first: M's slot goes to the waiting spawner S, and T,
 * running before S, must not take it. */
static void *latecomer(void *arg)
{
    green_sleep(0.05);
    return spawner(arg);
}

START_TEST(test_no_barging)
{
    reset();
    ex_pool_init(&pool, 1);
    fill_pool();                                          /* M */
    green_t *t = green_spawn(latecomer, job_arg(10, 2));                   /* T */
    green_t *s = green_spawn(spawner, job_arg(10, 1));                     /* S */
    green_join(t, 3.0);
    green_join(s, 3.0);
    wait_finished(3, 3.0);
    ck_assert_msg(norder == 3 && order[1] == 1 && order[2] == 2,
                  "the spawner that waited should get the freed slot before one that came later "
                  "but happened to run first (hand the slot over, do not just running--); "
                  "order of starts: %d %d; "
                  KIT_LESSON(LESSON, "Pool: bounding concurrency"), order[1], order[2]);
    ck_assert_int_eq(most, 1);
    green_kill(t, 1.0);
    green_kill(s, 1.0);
    green_free(t);
    green_free(s);
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_spawner)
{
    reset();
    ex_pool_init(&pool, 1);
    fill_pool();
    green_t *a = green_spawn(spawner, job_arg(10, 1));
    green_t *b = green_spawn(spawner, job_arg(10, 2));
    green_sleep(0.01);            /* both wait now */
    green_kill(a, 1.0);
    ck_assert_msg(green_dead(a) && green_result(a) == NULL,
                  "a spawner killed while waiting should return NULL (errno ECANCELED); "
                  KIT_LESSON(LESSON, "Pool: bounding concurrency"));
    green_join(b, 3.0);
    int all = wait_finished(2, 3.0);
    ck_assert_msg(all && green_result(b) != NULL && order[1] == 2,
                  "after a waiting spawner was killed, the next one should still get the slot "
                  "(take the killed one's waiter off the queue); "
                  KIT_LESSON(LESSON, "Pool: bounding concurrency"));
    ck_assert_msg(pool.running == 0, "pool.running should be 0 at the end, is %d", pool.running);
    green_kill(b, 1.0);
    green_free(a);
    green_free(b);
    green_hub_destroy();
}
END_TEST

static Suite *pool_spawn_suite(void)
{
    Suite *s = suite_create("07-servers/pool_spawn");
    TCase *tc = kit_tcase("pool_spawn");
    tcase_add_test(tc, test_runs_the_function);
    tcase_add_test(tc, test_no_wait_while_room);
    tcase_add_test(tc, test_at_most_n);
    tcase_add_test(tc, test_waiting_spawners_fifo);
    tcase_add_test(tc, test_no_barging);
    tcase_add_test(tc, test_killed_spawner);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(pool_spawn_suite()); }

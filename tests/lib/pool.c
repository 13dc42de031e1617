/*
 * tests/lib/pool.c - the library's own tests of pool.h: Group (spawn, add,
 * join, kill, free, members leaving when they die) and Pool (at most N
 * running, spawners waiting first come first served, free_count).
 *
 * Every test ends with green_hub_destroy(), after freeing its groups.
 */
#include "harness.h"
#include "green.h"
#include "pool.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((int)(intptr_t)(p))

/* ---- Workers that count ----------------------------------------------- */

static int running, max_running, finished, cancelled;
static int order[64], norder;

static void reset_counts(void)
{
    running = max_running = finished = cancelled = norder = 0;
}

/* Sleep `ms` (the argument) milliseconds, counting how many run at once. */
static void *job(void *arg)
{
    if (norder < 64)
        order[norder++] = P2INT(arg) % 1000;
    if (++running > max_running)
        max_running = running;
    int rc = green_sleep(P2INT(arg) / 1000 / 1000.0);
    running--;
    if (rc < 0 && errno == ECANCELED)
        cancelled++;
    else
        finished++;
    return NULL;
}

/* job()'s argument: sleep ms milliseconds, recorded as `id`. */
static void *job_arg(int ms, int id)
{
    return INT2P(ms * 1000 + id);
}

/* ---- Group ------------------------------------------------------------ */

START_TEST(test_group_join_waits_for_all)
{
    reset_counts();
    green_group_t *group = green_group_new();
    ck_assert_ptr_nonnull(group);
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_nonnull(green_group_spawn(group, job, job_arg(50 * (i + 1), i)));
    ck_assert_msg(green_group_size(group) == 3, "3 spawned members: size should be 3, got %d",
                  green_group_size(group));

    double t0 = green_now();
    int rc = green_group_join(group, 2.0);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(rc == 0, "join of members sleeping up to 150 ms should return 0, got %d (%s)",
                  rc, kit_why(rc, err));
    ck_assert_msg(finished == 3, "join returned before every member finished (%d of 3)", finished);
    ck_assert_msg(took >= 0.14 && took < 1.0, "join should take about 150 ms (the slowest), took %.3f s", took);
    ck_assert_msg(green_group_size(group) == 0, "members leave the group when they die: size %d",
                  green_group_size(group));
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_join_empty)
{
    green_group_t *group = green_group_new();
    double t0 = green_now();
    ck_assert_int_eq(green_group_join(group, GREEN_FOREVER), 0);
    ck_assert_int_eq(green_group_join(group, 0), 0);
    ck_assert_msg(green_now() - t0 < 0.1, "joining an empty group should return at once");
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_join_times_out)
{
    reset_counts();
    green_group_t *group = green_group_new();
    green_group_spawn(group, job, job_arg(30, 0));
    green_group_spawn(group, job, job_arg(5000, 1));
    double t0 = green_now();
    int rc = green_group_join(group, 0.2);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "join(0.2 s) of a member sleeping 5 s should fail with ETIMEDOUT, got %d (%s)",
                  rc, kit_why(rc, err));
    ck_assert_msg(took >= 0.18 && took < 1.0, "join(0.2 s) took %.3f s", took);
    ck_assert_msg(green_group_size(group) == 1, "the fast member died, the slow one lives: size %d",
                  green_group_size(group));
    green_group_free(group);   /* kills the sleeper */
    ck_assert_msg(cancelled == 1, "green_group_free should kill the member still alive (cancelled %d)",
                  cancelled);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_kill)
{
    reset_counts();
    green_group_t *group = green_group_new();
    for (int i = 0; i < 5; i++)
        green_group_spawn(group, job, job_arg(10000, i));
    green_sleep(0.01);             /* let them start and sleep */
    ck_assert_int_eq(running, 5);
    double t0 = green_now();
    int rc = green_group_kill(group, 1.0);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(rc == 0, "kill of sleeping members should return 0, got %d (%s)", rc, kit_why(rc, err));
    ck_assert_msg(cancelled == 5, "every member's sleep should fail with ECANCELED: %d of 5", cancelled);
    ck_assert_msg(green_group_size(group) == 0, "killed members leave the group: size %d",
                  green_group_size(group));
    ck_assert_msg(took < 0.5, "kill should not wait for the 10 s sleeps: took %.3f s", took);
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_kill_before_start)
{
    reset_counts();
    green_group_t *group = green_group_new();
    for (int i = 0; i < 3; i++)
        green_group_spawn(group, job, job_arg(10, i));
    ck_assert_int_eq(green_group_kill(group, 1.0), 0);   /* none has started */
    ck_assert_msg(norder == 0, "members killed before they started must never run (%d ran)", norder);
    ck_assert_int_eq(green_group_size(group), 0);
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

/* Ignores being killed: keeps sleeping (each failing sleep yields once)
 * until half a second has passed. */
static void *stubborn(void *arg)
{
    (void)arg;
    double end = green_now() + 0.5;
    while (green_now() < end)
        green_sleep(0.01);
    finished++;
    return NULL;
}

START_TEST(test_group_kill_ignored_times_out)
{
    reset_counts();
    green_group_t *group = green_group_new();
    green_group_spawn(group, stubborn, NULL);
    green_sleep(0.01);
    int rc = green_group_kill(group, 0.1);
    int err = errno;
    ck_assert_msg(rc == -1 && err == ETIMEDOUT,
                  "kill(0.1 s) of a member that ignores ECANCELED for 0.5 s should fail with ETIMEDOUT, got %d (%s)",
                  rc, kit_why(rc, err));
    ck_assert_int_eq(green_group_size(group), 1);
    ck_assert_int_eq(green_group_join(group, 2.0), 0);
    ck_assert_int_eq(finished, 1);
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

static green_group_t *shared_group;
static int member_join_rc = -2;

/* A member that joins its own group: it waits for the others only. */
static void *joins_own_group(void *arg)
{
    (void)arg;
    member_join_rc = green_group_join(shared_group, 2.0);
    return NULL;
}

START_TEST(test_group_join_from_member)
{
    reset_counts();
    shared_group = green_group_new();
    green_group_spawn(shared_group, joins_own_group, NULL);
    green_group_spawn(shared_group, job, job_arg(50, 0));
    int rc = green_group_join(shared_group, 2.0);
    ck_assert_msg(rc == 0 && member_join_rc == 0,
                  "a member joining its own group should wait for the others and return 0: main %d, member %d",
                  rc, member_join_rc);
    ck_assert_int_eq(finished, 1);
    green_group_free(shared_group);
    green_hub_destroy();
}
END_TEST

static void *wait_for_nothing(void *arg)
{
    (void)arg;
    green_hub_wait(GREEN_FOREVER);
    return NULL;
}

START_TEST(test_group_join_deadlock)
{
    green_group_t *group = green_group_new();
    green_group_spawn(group, wait_for_nothing, NULL);
    int rc = green_group_join(group, GREEN_FOREVER);
    int err = errno;
    ck_assert_msg(rc == -1 && err == EDEADLK,
                  "joining a member that waits for nothing should fail with EDEADLK, got %d (%s)",
                  rc, kit_why(rc, err));
    ck_assert_int_eq(green_group_kill(group, 1.0), 0);
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_add)
{
    reset_counts();
    green_group_t *group = green_group_new();
    green_t *g = green_spawn(job, job_arg(50, 0));
    ck_assert_int_eq(green_group_add(group, g), 0);
    ck_assert_int_eq(green_group_size(group), 1);
    ck_assert_int_eq(green_group_join(group, 2.0), 0);
    ck_assert_msg(finished == 1 && green_group_size(group) == 0,
                  "an added greenlet leaves the group when it dies: finished %d, size %d",
                  finished, green_group_size(group));

    /* Added, then killed with the group. */
    g = green_spawn(job, job_arg(10000, 1));
    green_group_add(group, g);
    green_sleep(0.01);
    ck_assert_int_eq(green_group_kill(group, 1.0), 0);
    ck_assert_int_eq(cancelled, 1);
    ck_assert_int_eq(green_group_size(group), 0);

    /* Added before it started, killed before it started. */
    g = green_spawn(job, job_arg(10, 2));
    green_group_add(group, g);
    ck_assert_int_eq(green_group_kill(group, 1.0), 0);
    ck_assert_int_eq(green_group_size(group), 0);

    /* Added when already dead: freed at once (Valgrind checks). */
    g = green_spawn(job, job_arg(0, 3));
    green_join(g, 1.0);
    ck_assert_int_eq(green_group_add(group, g), 0);
    ck_assert_int_eq(green_group_size(group), 0);
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_many_members)
{
    reset_counts();
    green_group_t *group = green_group_new();
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++)
            ck_assert_ptr_nonnull(green_group_spawn(group, job, job_arg(i % 3, i)));
    ck_assert_int_eq(green_group_size(group), 3000);
    ck_assert_int_eq(green_group_join(group, 5.0), 0);
    ck_assert_int_eq(finished, 3000);
    ck_assert_int_eq(green_group_size(group), 0);
    green_group_free(group);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_free_kills_members)
{
    reset_counts();
    green_group_t *group = green_group_new();
    for (int i = 0; i < 3; i++)
        green_group_spawn(group, job, job_arg(10000, i));
    green_sleep(0.01);
    double t0 = green_now();
    green_group_free(group);
    ck_assert_msg(cancelled == 3, "green_group_free should kill live members: %d of 3 cancelled", cancelled);
    ck_assert_msg(green_now() - t0 < 0.5, "green_group_free took %.3f s", green_now() - t0);
    green_hub_destroy();
}
END_TEST

START_TEST(test_group_free_after_destroy)
{
    green_group_t *group = green_group_new();
    green_group_spawn(group, job, job_arg(10000, 0));
    green_group_spawn(group, job, job_arg(10000, 1));
    green_sleep(0.01);
    green_hub_destroy();          /* kills and frees the members */
    green_group_free(group);      /* only the records are left */
}
END_TEST

/* ---- Pool ------------------------------------------------------------- */

START_TEST(test_pool_limits_concurrency)
{
    reset_counts();
    green_pool_t *pool = green_pool_new(3);
    ck_assert_ptr_nonnull(pool);
    double t0 = green_now();
    for (int i = 0; i < 10; i++)
        ck_assert_ptr_nonnull(green_pool_spawn(pool, job, job_arg(50, i)));
    ck_assert_int_eq(green_pool_join(pool, 5.0), 0);
    double took = green_now() - t0;
    ck_assert_msg(max_running == 3, "a pool of 3 should run at most 3 (and here exactly 3) at once, saw %d",
                  max_running);
    ck_assert_int_eq(finished, 10);
    ck_assert_msg(took >= 0.19 && took < 1.5,
                  "10 jobs of 50 ms, 3 at a time, take 4 rounds (200 ms), took %.3f s", took);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(order[i] == i, "jobs should start in the order they were spawned: "
                      "position %d holds job %d", i, order[i]);
    green_pool_free(pool);
    green_hub_destroy();
}
END_TEST

static green_pool_t *shared_pool;

/* A spawner: puts job(arg) into the shared pool, waiting for a slot. */
static void *spawner(void *arg)
{
    return green_pool_spawn(shared_pool, job, arg) ? arg : NULL;
}

START_TEST(test_pool_spawners_fifo)
{
    reset_counts();
    shared_pool = green_pool_new(1);
    green_pool_spawn(shared_pool, job, job_arg(50, 100));
    green_t *s[5];
    for (int i = 0; i < 5; i++)
        s[i] = green_spawn(spawner, job_arg(20, i));
    green_sleep(0.01);   /* all five are waiting now */
    ck_assert_int_eq(green_pool_size(shared_pool), 1);
    ck_assert_int_eq(green_pool_free_count(shared_pool), 0);
    ck_assert_int_eq(green_joinall(s, 5, 5.0), 0);
    ck_assert_int_eq(green_pool_join(shared_pool, 5.0), 0);
    ck_assert_int_eq(norder, 6);
    ck_assert_int_eq(max_running, 1);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(order[i + 1] == i, "waiting spawners are served first come, first "
                      "served: slot %d went to spawner %d", i, order[i + 1]);
    for (int i = 0; i < 5; i++)
        green_free(s[i]);
    green_pool_free(shared_pool);
    green_hub_destroy();
}
END_TEST

/* T and the member M sleep the same 50 ms, M first, so they wake in that
 * order in one round: M dies and hands its slot to the waiting spawner S;
 * T runs before S does, and must not take S's slot. */
static void *latecomer(void *arg)
{
    green_sleep(0.05);
    return spawner(arg);
}

START_TEST(test_pool_no_barging)
{
    reset_counts();
    shared_pool = green_pool_new(1);
    green_pool_spawn(shared_pool, job, job_arg(50, 100));   /* M */
    green_t *t = green_spawn(latecomer, job_arg(10, 2));     /* T */
    green_t *s = green_spawn(spawner, job_arg(10, 1));       /* S */
    ck_assert_int_eq(green_join(t, 5.0), 0);
    ck_assert_int_eq(green_join(s, 5.0), 0);
    ck_assert_int_eq(green_pool_join(shared_pool, 5.0), 0);
    ck_assert_int_eq(norder, 3);
    ck_assert_msg(order[1] == 1 && order[2] == 2,
                  "the spawner that waited (1) should get the freed slot before the one "
                  "that came later (2): got %d then %d", order[1], order[2]);
    ck_assert_int_eq(max_running, 1);
    green_free(t);
    green_free(s);
    green_pool_free(shared_pool);
    green_hub_destroy();
}
END_TEST

/* The slot is handed over as the member dies; the spawner is killed before
 * it runs.  Served wins (lib/private/wait.h, as for a Queue's item): it spawns
 * in its slot, and the pool's count of reserved slots comes back to zero. */
START_TEST(test_pool_spawner_served_then_killed)
{
    reset_counts();
    shared_pool = green_pool_new(1);
    green_t *m = green_pool_spawn(shared_pool, job, job_arg(20, 100));
    green_t *a = green_spawn(spawner, job_arg(10, 1));
    green_sleep(0);                       /* a waits for a slot */
    ck_assert_int_eq(green_join(m, 5.0), 0);  /* m dies: its slot goes to a */
    green_kill(a, 1.0);                   /* before a ran again */
    ck_assert_msg(green_dead(a) && green_result(a) != NULL,
                  "a spawner handed a slot, then killed before it ran, keeps "
                  "the slot and spawns (served wins over a later kill)");
    ck_assert_int_eq(green_pool_join(shared_pool, 5.0), 0);
    ck_assert_int_eq(norder, 2);
    ck_assert_msg(green_pool_free_count(shared_pool) == 1,
                  "every member is done: expected 1 free slot, got %d (a slot "
                  "reserved for the killed spawner was never given back)",
                  green_pool_free_count(shared_pool));
    green_free(a);
    green_pool_free(shared_pool);
    green_hub_destroy();
}
END_TEST

START_TEST(test_pool_spawner_killed_while_waiting)
{
    reset_counts();
    shared_pool = green_pool_new(1);
    green_pool_spawn(shared_pool, job, job_arg(50, 100));
    green_t *a = green_spawn(spawner, job_arg(10, 1));
    green_t *b = green_spawn(spawner, job_arg(10, 2));
    green_sleep(0.01);
    ck_assert_int_eq(green_kill(a, 1.0), 0);
    ck_assert_msg(green_result(a) == NULL, "a spawner killed while waiting should get NULL from green_pool_spawn");
    ck_assert_int_eq(green_join(b, 5.0), 0);
    ck_assert_msg(green_result(b) != NULL, "the next spawner should get the slot");
    ck_assert_int_eq(green_pool_join(shared_pool, 5.0), 0);
    ck_assert_int_eq(norder, 2);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(green_pool_free_count(shared_pool), 1);
    green_free(a);
    green_free(b);
    green_pool_free(shared_pool);
    green_hub_destroy();
}
END_TEST

START_TEST(test_pool_free_count)
{
    reset_counts();
    green_pool_t *pool = green_pool_new(4);
    ck_assert_int_eq(green_pool_free_count(pool), 4);
    green_pool_spawn(pool, job, job_arg(20, 0));
    green_pool_spawn(pool, job, job_arg(20, 1));
    ck_assert_int_eq(green_pool_size(pool), 2);
    ck_assert_int_eq(green_pool_free_count(pool), 2);
    ck_assert_int_eq(green_pool_join(pool, 2.0), 0);
    ck_assert_int_eq(green_pool_free_count(pool), 4);
    green_pool_free(pool);

    pool = green_pool_new(0);     /* no limit */
    ck_assert_int_eq(green_pool_free_count(pool), INT_MAX);
    for (int i = 0; i < 100; i++)
        green_pool_spawn(pool, job, job_arg(20, i));
    ck_assert_int_eq(green_pool_size(pool), 100);
    ck_assert_int_eq(green_pool_join(pool, 2.0), 0);
    ck_assert_int_eq(max_running, 100);
    green_pool_free(pool);
    green_hub_destroy();
}
END_TEST

START_TEST(test_pool_kill)
{
    reset_counts();
    green_pool_t *pool = green_pool_new(2);
    green_pool_spawn(pool, job, job_arg(10000, 0));
    green_pool_spawn(pool, job, job_arg(10000, 1));
    green_sleep(0.01);
    ck_assert_int_eq(green_pool_kill(pool, 1.0), 0);
    ck_assert_int_eq(cancelled, 2);
    ck_assert_int_eq(green_pool_free_count(pool), 2);
    ck_assert_msg(green_pool_free_count(pool) == 2 && green_pool_spawn(pool, job, job_arg(10, 2)) != NULL,
                  "spawning into an emptied pool should succeed");
    /* No wall-clock figure: a spawn that waited would have let the 10 ms
     * job it spawned run, or another greenlet; none has. */
    ck_assert_msg(green_pool_free_count(pool) == 1, "spawning into an emptied pool should take a "
                  "free slot at once, without waiting: %d free", green_pool_free_count(pool));
    ck_assert_int_eq(green_pool_join(pool, 2.0), 0);
    green_pool_free(pool);
    green_hub_destroy();
}
END_TEST

/* ---- Memory ------------------------------------------------------------ */

/* Bytes the program has malloc'ed and not freed.  (Under AddressSanitizer
 * and Valgrind mallinfo2 reports 0: their own leak checkers judge there.) */
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

/* One round of add, kill, free: `started` lets the greenlet start first. */
static void add_kill_free(int started)
{
    green_group_t *group = green_group_new();
    green_t *g = green_spawn(job, job_arg(10000, 0));
    ck_assert_int_eq(green_group_add(group, g), 0);
    if (started)
        green_sleep(0);
    ck_assert_int_eq(green_group_kill(group, 1.0), 0);
    green_group_free(group);
    green_sleep(0);             /* the watcher's last turn */
    green_sleep(0);
}

/* The group owns an added greenlet: once it is killed and the group freed,
 * neither the greenlet nor its member record may stay behind (about 250 B
 * each round leaked, until green_hub_destroy or for ever). */
static void check_add_kill_free(int started)
{
    for (int i = 0; i < 20; i++)   /* warm up: caches, libevent's timers */
        add_kill_free(started);
    size_t before = heap_in_use();
    enum { ROUNDS = 400 };
    for (int i = 0; i < ROUNDS; i++)
        add_kill_free(started);
    size_t after = heap_in_use();
    long grew = (long)after - (long)before;
    ck_assert_msg(grew < 16 * ROUNDS, "green_group_add, green_group_kill, "
                  "green_group_free (%s): the heap grew by %ld bytes in %d "
                  "rounds (%ld per round): the member record or the greenlet "
                  "is never freed", started ? "started" : "not started",
                  grew, ROUNDS, grew / ROUNDS);
    green_hub_destroy();
}

START_TEST(test_group_add_kill_free_no_leak_unstarted)
{
    check_add_kill_free(0);
}
END_TEST

START_TEST(test_group_add_kill_free_no_leak_started)
{
    check_add_kill_free(1);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("lib/pool");
    TCase *tc = kit_tcase("group");
    tcase_add_test(tc, test_group_join_waits_for_all);
    tcase_add_test(tc, test_group_join_empty);
    tcase_add_test(tc, test_group_join_times_out);
    tcase_add_test(tc, test_group_kill);
    tcase_add_test(tc, test_group_kill_before_start);
    tcase_add_test(tc, test_group_kill_ignored_times_out);
    tcase_add_test(tc, test_group_join_from_member);
    tcase_add_test(tc, test_group_join_deadlock);
    tcase_add_test(tc, test_group_add);
    tcase_add_test(tc, test_group_many_members);
    tcase_add_test(tc, test_group_free_kills_members);
    tcase_add_test(tc, test_group_free_after_destroy);
    tcase_add_test(tc, test_group_add_kill_free_no_leak_unstarted);
    tcase_add_test(tc, test_group_add_kill_free_no_leak_started);
    suite_add_tcase(s, tc);

    tc = kit_tcase("pool");
    tcase_add_test(tc, test_pool_limits_concurrency);
    tcase_add_test(tc, test_pool_spawners_fifo);
    tcase_add_test(tc, test_pool_no_barging);
    tcase_add_test(tc, test_pool_spawner_killed_while_waiting);
    tcase_add_test(tc, test_pool_spawner_served_then_killed);
    tcase_add_test(tc, test_pool_free_count);
    tcase_add_test(tc, test_pool_kill);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(pool_suite()); }

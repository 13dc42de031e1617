/*
 * tests/lib/hub.c - the library's own tests of hub.h: spawn, sleep, join,
 * joinall, kill, spawn_later, wait_read/wait_write, the hub's primitives,
 * deadlock detection and tearing the hub down.
 *
 * Every test ends with green_hub_destroy() so that leak checkers see a clean
 * exit, and frees the greenlets it owns before that.
 */
#include "harness.h"
#include "green.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((long)(intptr_t)(p))

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Timing checks: at least the time asked for (less a little clock slack),
 * and well under ten times it on a noisy machine. */
#define assert_took(what, elapsed, lo, hi)                                   \
    ck_assert_msg((elapsed) >= (lo) && (elapsed) < (hi),                    \
                  "%s: expected between %.0f and %.0f ms, took %.1f ms",    \
                  (what), (lo) * 1e3, (hi) * 1e3, (elapsed) * 1e3)

/* A trace of who ran when, as space-separated words. */
static char trace[1024];

static void trace_add(const char *word)
{
    size_t len = strlen(trace);
    snprintf(trace + len, sizeof trace - len, "%s%s", len ? " " : "", word);
}

static void free_all(green_t **gs, int n)
{
    for (int i = 0; i < n; i++)
        green_free(gs[i]);
}

/* The line of `text` about `name`: the first line that begins
 * "greenlet ID 'name'" (green_dump's and the deadlock report's), copied
 * to `line` ("" if none). */
static void line_about(const char *text, const char *name, char *line,
                       size_t size)
{
    size_t n = strlen(name);
    line[0] = '\0';
    for (const char *start = text; *start; ) {
        size_t len = strcspn(start, "\n");
        const char *word = start + strspn(start, " \t");
        if (strncmp(word, "greenlet ", 9) == 0)
            word += 9 + strspn(word + 9, "0123456789");
        if (word[0] == ' ' && word[1] == '\'' && strncmp(word + 2, name, n) == 0
            && word[2 + n] == '\'') {
            if (len >= size)
                len = size - 1;
            memcpy(line, start, len);
            line[len] = '\0';
            return;
        }
        start += len;
        if (*start == '\n')
            start++;
    }
}

/* ---- Spawning and sleeping -------------------------------------------- */

static void *say(void *arg)
{
    trace_add(arg);
    return arg;
}

START_TEST(test_spawn_is_fifo)
{
    trace[0] = '\0';
    green_t *gs[3] = {
        green_spawn(say, "a"), green_spawn(say, "b"), green_spawn(say, "c")
    };
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(gs[i] != NULL, "green_spawn failed: %s", strerror(errno));
        ck_assert_msg(green_parent(gs[i]) == green_hub(), "expected a spawned "
                      "greenlet's parent to be the hub");
    }
    ck_assert_msg(trace[0] == '\0', "expected spawned greenlets not to run "
                  "before the spawner waits, trace \"%s\"", trace);
    ck_assert_int_eq(green_joinall(gs, 3, GREEN_FOREVER), 0);
    ck_assert_msg(strcmp(trace, "a b c") == 0, "expected spawn order \"a b "
                  "c\", got \"%s\"", trace);
    free_all(gs, 3);
    green_hub_destroy();
}
END_TEST

START_TEST(test_hub_exists)
{
    green_t *h = green_hub();
    ck_assert_msg(h != NULL, "expected a hub greenlet");
    ck_assert_msg(h != green_current(), "expected the hub not to be main");
    ck_assert_msg(green_hub() == h, "expected one hub per thread");
    ck_assert_msg(green_hub_base() != NULL, "expected an event_base");
    green_hub_destroy();
}
END_TEST

struct sleeper {
    const char *name;
    double seconds;
    int rc;
};

static void *sleep_then_say(void *arg)
{
    struct sleeper *s = arg;
    s->rc = green_sleep(s->seconds);
    trace_add(s->name);
    return NULL;
}

START_TEST(test_sleep_wakes_by_deadline)
{
    /* 100 ms apart: the sleepers arm their timers one after another, and
     * under Valgrind the first pass through new code is slow. */
    struct sleeper ss[] = {
        { "thirty", 0.30, -2 }, { "ten", 0.10, -2 }, { "twenty", 0.20, -2 },
        { "zero", 0, -2 }
    };
    green_t *gs[4];
    trace[0] = '\0';
    for (int i = 0; i < 4; i++)
        gs[i] = green_spawn(sleep_then_say, &ss[i]);
    double t0 = now();
    ck_assert_int_eq(green_joinall(gs, 4, GREEN_FOREVER), 0);
    double took = now() - t0;
    ck_assert_msg(strcmp(trace, "zero ten twenty thirty") == 0, "expected "
                  "wake-ups by deadline \"zero ten twenty thirty\", got "
                  "\"%s\"", trace);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(ss[i].rc == 0, "%s: expected green_sleep to return 0, "
                      "got %d", ss[i].name, ss[i].rc);
    assert_took("joining sleepers of up to 300 ms", took, 0.29, 1.5);
    free_all(gs, 4);
    green_hub_destroy();
}
END_TEST

static void *sleep_20ms_then_say(void *arg)
{
    int rc = green_sleep(0.02);
    ck_assert_msg(rc == 0, "%s: expected green_sleep(0.02) to return 0, got "
                  "%d", (const char *)arg, rc);
    trace_add(arg);
    return NULL;
}

START_TEST(test_same_sleep_wakes_in_order)
{
    static const char *names[] = { "s0", "s1", "s2", "s3", "s4", "s5" };
    green_t *gs[6];
    trace[0] = '\0';
    for (int i = 0; i < 6; i++)
        gs[i] = green_spawn(sleep_20ms_then_say, (void *)names[i]);
    ck_assert_int_eq(green_joinall(gs, 6, 1.0), 0);
    ck_assert_msg(strcmp(trace, "s0 s1 s2 s3 s4 s5") == 0, "six greenlets "
                  "slept 20 ms in turn: expected them to wake in the order "
                  "they slept, \"s0 s1 s2 s3 s4 s5\", got \"%s\"", trace);
    free_all(gs, 6);
    green_hub_destroy();
}
END_TEST

START_TEST(test_green_now)
{
    /* The same clock: read between two readings of CLOCK_MONOTONIC, not
     * within a fixed 10 ms of one (a preempted test can lose more). */
    double before = now(), theirs = green_now(), after = now();
    ck_assert_msg(theirs >= before && theirs <= after,
                  "expected green_now() to read CLOCK_MONOTONIC (between %.6f "
                  "and %.6f), got %.6f", before, after, theirs);
    ck_assert_int_eq(green_sleep(0.05), 0);
    double later = green_now();
    assert_took("green_now() across green_sleep(0.05)", later - theirs, 0.045,
                0.5);
    green_hub_destroy();
}
END_TEST

static void *yield_twice(void *arg)
{
    const char *name = arg;
    char word[8];
    snprintf(word, sizeof word, "%s1", name);
    trace_add(word);
    int rc = green_sleep(0);
    ck_assert_msg(rc == 0, "%s: expected green_sleep(0) to return 0, got %d",
                  name, rc);
    snprintf(word, sizeof word, "%s2", name);
    trace_add(word);
    return NULL;
}

START_TEST(test_sleep_zero_yields)
{
    trace[0] = '\0';
    green_t *gs[2] = { green_spawn(yield_twice, "a"),
                       green_spawn(yield_twice, "b") };
    /* main goes behind a and b; each of them goes behind main. */
    ck_assert_int_eq(green_sleep(0), 0);
    trace_add("m");
    ck_assert_int_eq(green_joinall(gs, 2, GREEN_FOREVER), 0);
    ck_assert_msg(strcmp(trace, "a1 b1 m a2 b2") == 0, "expected \"a1 b1 m a2 "
                  "b2\", got \"%s\"", trace);
    free_all(gs, 2);
    green_hub_destroy();
}
END_TEST

START_TEST(test_main_sleeps)
{
    double t0 = now();
    int rc = green_sleep(0.05);
    double took = now() - t0;
    ck_assert_msg(rc == 0, "expected green_sleep(0.05) to return 0, got %d "
                  "(%s)", rc, strerror(errno));
    assert_took("green_sleep(0.05) in main", took, 0.045, 0.5);
    t0 = now();
    ck_assert_int_eq(green_sleep(0), 0);
    assert_took("green_sleep(0) with nobody else", now() - t0, 0.0, 0.1);
    green_hub_destroy();
}
END_TEST

/* ---- Joining ---------------------------------------------------------- */

static void *answer(void *arg)
{
    (void)arg;
    green_sleep(0.01);
    return INT2P(42);
}

START_TEST(test_join_returns_result)
{
    green_t *g = green_spawn(answer, NULL);
    errno = 0;
    int rc = green_join(g, GREEN_FOREVER);
    ck_assert_msg(rc == 0, "expected green_join to return 0, got %d (%s)", rc,
                  strerror(errno));
    ck_assert_msg(green_dead(g), "expected the joined greenlet dead");
    ck_assert_msg(green_result(g) == INT2P(42), "expected green_result 42, "
                  "got %ld", P2INT(green_result(g)));
    double t0 = now();
    ck_assert_msg(green_join(g, 1.0) == 0, "expected joining a dead greenlet "
                  "again to return 0");
    assert_took("joining a dead greenlet", now() - t0, 0.0, 0.1);
    green_free(g);
    green_hub_destroy();
}
END_TEST

/* A greenlet made with green_new dies by returning to its parent, not to
 * the hub; its joiners must be woken all the same (the hub's exit hook). */
static void *join_it(void *arg)
{
    return green_join(arg, 1.0) == 0 ? "joined" : "not joined";
}

START_TEST(test_join_greenlet_not_spawned)
{
    green_t *plain = green_new(answer, 0);
    green_t *joiner = green_spawn(join_it, plain);
    green_sleep(0);                 /* the joiner starts waiting */
    green_switch(plain, NULL);      /* plain returns 42 to main: it is dead */
    green_join(joiner, 2.0);
    ck_assert_msg(green_dead(joiner) && strcmp(green_result(joiner), "joined") == 0,
                  "a greenlet joined a greenlet made with green_new, which then "
                  "returned: expected the join to return 0 at once, got \"%s\"; "
                  KIT_LESSON("chapters/03-hub/README.md", "Joining: join and joinall"),
                  green_dead(joiner) ? (char *)green_result(joiner) : "still waiting");
    green_free(joiner);
    green_free(plain);
    green_hub_destroy();
}
END_TEST

static void *sleep_long(void *arg)
{
    double seconds = arg ? *(double *)arg : 10.0;
    green_sleep(seconds);
    return NULL;
}

/* A joiner readied by someone else (a stray green_ready) must wait on,
 * with what is left of its one deadline: neither return early nor lose its
 * timer and wait forever (lib/private/wait.h: green__wait re-parks). */
struct stray_join {
    green_t *target;
    int rc, err;
    double took;
};

static void *join_timed(void *arg)
{
    struct stray_join *st = arg;
    double t0 = now();
    st->rc = green_join(st->target, 0.1);
    st->err = errno;
    st->took = now() - t0;
    return NULL;
}

START_TEST(test_join_stray_wakeup_keeps_deadline)
{
    struct stray_join st = { .target = green_spawn(sleep_long, NULL) };
    green_t *joiner = green_spawn(join_timed, &st);
    green_sleep(0.03);
    green_ready(joiner, NULL);            /* stray: the target is alive */
    ck_assert_int_eq(green_join(joiner, 2.0), 0);
    ck_assert_msg(st.rc == -1 && st.err == ETIMEDOUT,
                  "a join(0.1) woken by a stray green_ready at 30 ms should "
                  "wait on and time out: expected -1 ETIMEDOUT, got %d (%s); "
                  KIT_LESSON("chapters/03-hub/README.md", "Joining: join and joinall"),
                  st.rc, strerror(st.err));
    assert_took("join(g, 0.1) with a stray wake-up", st.took, 0.095, 0.5);
    green_free(joiner);
    green_kill(st.target, 1.0);
    green_free(st.target);
    green_hub_destroy();
}
END_TEST

START_TEST(test_join_times_out)
{
    green_t *g = green_spawn(sleep_long, NULL);
    double t0 = now();
    errno = 0;
    int rc = green_join(g, 0.05);
    int saved = errno;
    double took = now() - t0;
    ck_assert_msg(rc == -1 && saved == ETIMEDOUT, "join(0.05) of a greenlet "
                  "sleeping 10 s: expected -1 with ETIMEDOUT, got %d with "
                  "errno %d (%s)", rc, saved, strerror(saved));
    assert_took("join(g, 0.05)", took, 0.045, 0.5);
    ck_assert_msg(!green_dead(g), "expected g still alive after the timeout");

    t0 = now();
    errno = 0;
    rc = green_join(g, 0);
    saved = errno;
    ck_assert_msg(rc == -1 && saved == ETIMEDOUT, "join(g, 0) of a sleeping "
                  "greenlet: expected -1 with ETIMEDOUT, got %d with errno %d",
                  rc, saved);
    assert_took("join(g, 0)", now() - t0, 0.0, 0.1);

    /* The timed-out join's timer must be gone: a later sleep is whole. */
    t0 = now();
    ck_assert_int_eq(green_sleep(0.05), 0);
    assert_took("green_sleep(0.05) after a timed-out join", now() - t0, 0.045,
                0.5);

    ck_assert_int_eq(green_kill(g, 1.0), 0);
    green_free(g);
    green_hub_destroy();
}
END_TEST

static green_t *join_target;
static int joiners_woken;

static void *join_target_fn(void *arg)
{
    (void)arg;
    int rc = green_join(join_target, GREEN_FOREVER);
    ck_assert_msg(rc == 0, "a second joiner: expected 0, got %d", rc);
    joiners_woken++;
    return NULL;
}

START_TEST(test_many_joiners)
{
    double quick = 0.02;
    joiners_woken = 0;
    join_target = green_spawn(sleep_long, &quick);
    green_t *js[2] = { green_spawn(join_target_fn, NULL),
                       green_spawn(join_target_fn, NULL) };
    ck_assert_int_eq(green_join(join_target, 1.0), 0);
    ck_assert_int_eq(green_joinall(js, 2, 1.0), 0);
    ck_assert_msg(joiners_woken == 2, "expected both other joiners woken, "
                  "got %d", joiners_woken);
    free_all(js, 2);
    green_free(join_target);
    green_hub_destroy();
}
END_TEST

START_TEST(test_joinall_success)
{
    double secs[3] = { 0.03, 0.01, 0.02 };
    green_t *gs[3];
    for (int i = 0; i < 3; i++)
        gs[i] = green_spawn(sleep_long, &secs[i]);
    double t0 = now();
    errno = 0;
    int rc = green_joinall(gs, 3, 1.0);
    double took = now() - t0;
    ck_assert_msg(rc == 0, "joinall of 10-30 ms sleepers with 1 s: expected "
                  "0, got %d (%s)", rc, strerror(errno));
    for (int i = 0; i < 3; i++)
        ck_assert_msg(green_dead(gs[i]), "greenlet %d: expected dead", i);
    assert_took("joinall of sleepers of up to 30 ms", took, 0.025, 0.5);
    ck_assert_msg(green_joinall(gs, 3, 0) == 0, "joinall of dead greenlets "
                  "with timeout 0: expected 0");
    ck_assert_msg(green_joinall(gs, 0, 0) == 0, "joinall of none: expected 0");
    free_all(gs, 3);
    green_hub_destroy();
}
END_TEST

START_TEST(test_joinall_one_overall_deadline)
{
    /* Done at 100 ms, at 200 ms, never.  One deadline of 250 ms for all:
     * a join that restarted the clock per greenlet would take 450 ms. */
    double secs[3] = { 0.1, 0.2, 10.0 };
    green_t *gs[3];
    for (int i = 0; i < 3; i++)
        gs[i] = green_spawn(sleep_long, &secs[i]);
    /* The clock: a greenlet that sleeps 0.35 s.  Timers fire in the order
     * of their deadlines, so joinall's 0.25 s comes first on any machine;
     * a timeout restarted per greenlet (0.45 s) comes after it. */
    double clock_secs = 0.35;
    green_t *clock = green_spawn(sleep_long, &clock_secs);
    double t0 = now();
    errno = 0;
    int rc = green_joinall(gs, 3, 0.25);
    int saved = errno;
    double took = now() - t0;
    int clock_rang = green_dead(clock);
    green_kill(clock, 1.0);
    green_free(clock);
    ck_assert_msg(rc == -1 && saved == ETIMEDOUT, "joinall(0.25) with a "
                  "greenlet that sleeps 10 s: expected -1 with ETIMEDOUT, got "
                  "%d with errno %d (%s)", rc, saved, strerror(saved));
    ck_assert_msg(took >= 0.24 && !clock_rang, "joinall(0.25): expected the "
                  "timeout after 250 ms overall (not per greenlet: 450 ms), "
                  "before a 350 ms sleeper woke; took %.1f ms%s", took * 1e3,
                  clock_rang ? ", after that sleeper" : "");
    ck_assert_msg(green_dead(gs[0]) && green_dead(gs[1]) && !green_dead(gs[2]),
                  "expected the 100 and 200 ms sleepers dead and the 10 s one "
                  "alive, got dead: %d %d %d", green_dead(gs[0]),
                  green_dead(gs[1]), green_dead(gs[2]));
    ck_assert_int_eq(green_kill(gs[2], 1.0), 0);
    free_all(gs, 3);
    green_hub_destroy();
}
END_TEST

/* ---- Killing ---------------------------------------------------------- */

struct victim {
    int started;
    int sleep_rc, sleep_errno;
    int again_rc, again_errno;       /* a second long sleep */
    int yield_rc, yield_errno;       /* green_sleep(0) */
    int read_rc, read_errno;         /* green_wait_read */
    int join_rc, join_errno;         /* green_join */
    double again_took;
    int cleaned_up;
    int fd;
    green_t *other;
};

static void *victim_fn(void *arg)
{
    struct victim *v = arg;
    v->started = 1;
    errno = 0;
    v->sleep_rc = green_sleep(10.0);
    v->sleep_errno = errno;

    double t0 = now();
    errno = 0;
    v->again_rc = green_sleep(1.0);
    v->again_errno = errno;
    v->again_took = now() - t0;
    errno = 0;
    v->yield_rc = green_sleep(0);
    v->yield_errno = errno;
    errno = 0;
    v->read_rc = green_wait_read(v->fd, 1.0);
    v->read_errno = errno;
    errno = 0;
    v->join_rc = green_join(v->other, 1.0);
    v->join_errno = errno;

    v->cleaned_up = 1;      /* the cleanup a killed greenlet unwinds through */
    return "cleaned";
}

START_TEST(test_kill_sleeping)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    double long_sleep = 10.0;
    struct victim v;
    memset(&v, 0, sizeof v);
    v.fd = fds[0];
    v.other = green_spawn(sleep_long, &long_sleep);
    green_t *g = green_spawn(victim_fn, &v);
    ck_assert_int_eq(green_sleep(0.01), 0);    /* g starts and sleeps */
    ck_assert_msg(v.started, "test setup: expected the victim to have started");
    ck_assert_msg(!green_killed(g), "expected green_killed 0 before the kill");

    double t0 = now();
    errno = 0;
    int rc = green_kill(g, 1.0);
    double took = now() - t0;
    ck_assert_msg(rc == 0, "green_kill of a sleeping greenlet: expected 0, "
                  "got %d (%s)", rc, strerror(errno));
    assert_took("green_kill of a sleeper", took, 0.0, 0.5);
    ck_assert_msg(green_dead(g), "expected the killed greenlet dead");
    ck_assert_msg(green_killed(g), "expected green_killed 1");
    ck_assert_msg(v.sleep_rc == -1 && v.sleep_errno == ECANCELED, "the "
                  "victim's sleep: expected -1 with ECANCELED, got %d with "
                  "errno %d (%s)", v.sleep_rc, v.sleep_errno,
                  strerror(v.sleep_errno));
    ck_assert_msg(v.again_rc == -1 && v.again_errno == ECANCELED, "a later "
                  "green_sleep(1.0) of a killed greenlet: expected -1 with "
                  "ECANCELED, got %d with errno %d", v.again_rc,
                  v.again_errno);
    ck_assert_msg(v.again_took < 0.1, "a later sleep of a killed greenlet: "
                  "expected it to fail at once, it took %.1f ms",
                  v.again_took * 1e3);
    ck_assert_msg(v.yield_rc == -1 && v.yield_errno == ECANCELED, "a later "
                  "green_sleep(0): expected -1 with ECANCELED, got %d with "
                  "errno %d", v.yield_rc, v.yield_errno);
    ck_assert_msg(v.read_rc == -1 && v.read_errno == ECANCELED, "a later "
                  "green_wait_read: expected -1 with ECANCELED, got %d with "
                  "errno %d", v.read_rc, v.read_errno);
    ck_assert_msg(v.join_rc == -1 && v.join_errno == ECANCELED, "a later "
                  "green_join: expected -1 with ECANCELED, got %d with errno "
                  "%d", v.join_rc, v.join_errno);
    ck_assert_msg(v.cleaned_up, "expected the killed greenlet's cleanup to "
                  "run");
    ck_assert_msg(green_result(g) != NULL &&
                  strcmp(green_result(g), "cleaned") == 0,
                  "expected the killed greenlet's own return value");

    ck_assert_int_eq(green_kill(v.other, 1.0), 0);
    green_free(g);
    green_free(v.other);
    close(fds[0]);
    close(fds[1]);
    green_hub_destroy();
}
END_TEST

static int never_ran;

static void *must_not_run(void *arg)
{
    (void)arg;
    never_ran = 1;
    return INT2P(1);
}

START_TEST(test_kill_before_start)
{
    never_ran = 0;
    green_t *g = green_spawn(must_not_run, NULL);
    errno = 0;
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0, "green_kill of a greenlet not yet started: expected "
                  "0, got %d (%s)", rc, strerror(errno));
    ck_assert_msg(green_dead(g), "expected it dead");
    ck_assert_msg(green_killed(g), "expected green_killed 1");
    ck_assert_msg(green_result(g) == NULL, "expected no result, got %p",
                  green_result(g));
    ck_assert_int_eq(green_sleep(0.01), 0);
    ck_assert_msg(!never_ran, "expected the function of a greenlet killed "
                  "before it started never to run");
    green_free(g);
    green_hub_destroy();
}
END_TEST

START_TEST(test_kill_spawn_later_before_start)
{
    never_ran = 0;
    green_t *g = green_spawn_later(0.5, must_not_run, NULL);
    double t0 = now();
    ck_assert_int_eq(green_kill(g, 1.0), 0);
    assert_took("green_kill of a spawn_later(0.5) greenlet", now() - t0, 0.0,
                0.3);
    ck_assert(green_dead(g));
    ck_assert_int_eq(green_sleep(0.01), 0);
    ck_assert_msg(!never_ran, "expected a killed spawn_later greenlet never "
                  "to run");
    green_free(g);
    green_hub_destroy();
}
END_TEST

START_TEST(test_kill_unstarted_dies_at_once)
{
    never_ran = 0;
    green_t *g = green_spawn(must_not_run, NULL);
    green_t *later = green_spawn_later(0.01, must_not_run, NULL);
    errno = 0;
    int rc = green_kill(g, 0);
    ck_assert_msg(rc == 0 && green_dead(g), "green_kill(g, 0) of a greenlet "
                  "not yet started: expected 0 and g dead at once, got %d "
                  "(%s), dead %d", rc, strerror(errno), green_dead(g));
    rc = green_kill(later, 0);
    ck_assert_msg(rc == 0 && green_dead(later), "green_kill(g, 0) of a "
                  "spawn_later greenlet not yet due: expected 0 and g dead at "
                  "once, got %d, dead %d", rc, green_dead(later));
    ck_assert_int_eq(green_sleep(0.03), 0);
    ck_assert_msg(!never_ran, "expected neither function ever to run");
    green_free(g);
    green_free(later);
    green_hub_destroy();
}
END_TEST

/* A greenlet that ignores ECANCELED and goes on waiting: green_kill times
 * out, and the loop keeps running others meanwhile. */
static volatile int stubborn_stop;
static long stubborn_loops;
static double bystander_woke;

static void *stubborn(void *arg)
{
    (void)arg;
    while (!stubborn_stop) {
        green_sleep(1.0);
        stubborn_loops++;
    }
    return "gave up";
}

static void *bystander(void *arg)
{
    (void)arg;
    green_sleep(0.03);
    bystander_woke = now();
    return NULL;
}

START_TEST(test_kill_ignored_times_out)
{
    stubborn_stop = 0;
    stubborn_loops = 0;
    bystander_woke = 0;
    green_t *g = green_spawn(stubborn, NULL);
    ck_assert_int_eq(green_sleep(0.01), 0);      /* g is asleep */
    green_t *b = green_spawn(bystander, NULL);
    double t0 = now();
    errno = 0;
    int rc = green_kill(g, 0.1);
    int saved = errno;
    double took = now() - t0;
    ck_assert_msg(rc == -1 && saved == ETIMEDOUT, "green_kill(g, 0.1) of a "
                  "greenlet that ignores ECANCELED: expected -1 with "
                  "ETIMEDOUT, got %d with errno %d (%s)", rc, saved,
                  strerror(saved));
    assert_took("green_kill(g, 0.1) of a stubborn greenlet", took, 0.095, 0.6);
    ck_assert_msg(!green_dead(g) && green_killed(g), "expected g alive and "
                  "marked killed");
    ck_assert_msg(stubborn_loops > 0, "expected g's waits to fail at once "
                  "after the kill, so that it loops");
    ck_assert_msg(bystander_woke > 0 && bystander_woke < t0 + took,
                  "expected another greenlet's 30 ms sleep to end while the "
                  "killed greenlet looped (it must yield on each failed "
                  "wait), it %s", bystander_woke > 0 ? "ended after the kill "
                  "gave up" : "never ended");
    stubborn_stop = 1;
    ck_assert_int_eq(green_join(g, 1.0), 0);
    ck_assert_int_eq(green_join(b, 1.0), 0);
    green_free(g);
    green_free(b);
    green_hub_destroy();
}
END_TEST

static int self_kill_rc, self_kill_errno;

static void *kill_myself(void *arg)
{
    (void)arg;
    errno = 0;
    self_kill_rc = green_kill(green_current(), 1.0);
    self_kill_errno = errno;
    return NULL;
}

START_TEST(test_kill_self_refused)
{
    self_kill_rc = 0;
    green_t *g = green_spawn(kill_myself, NULL);
    ck_assert_int_eq(green_join(g, 1.0), 0);
    ck_assert_msg(self_kill_rc == -1 && self_kill_errno == EINVAL, "green_kill"
                  "(green_current()) in a greenlet: expected -1 with EINVAL, "
                  "got %d with errno %d", self_kill_rc, self_kill_errno);
    ck_assert_msg(!green_killed(g), "a refused self-kill must not mark the "
                  "greenlet killed");
    errno = 0;
    int rc = green_kill(green_current(), 0.1);
    ck_assert_msg(rc == -1 && errno == EINVAL, "green_kill(main) from main: "
                  "expected -1 with EINVAL, got %d with errno %d", rc, errno);
    green_free(g);
    green_hub_destroy();
}
END_TEST

START_TEST(test_kill_dead)
{
    green_t *g = green_spawn(say, "x");
    trace[0] = '\0';
    ck_assert_int_eq(green_join(g, 1.0), 0);
    ck_assert_msg(green_kill(g, 1.0) == 0, "green_kill of a dead greenlet: "
                  "expected 0");
    ck_assert_msg(green_result(g) != NULL && strcmp(green_result(g), "x") == 0,
                  "killing a dead greenlet must not change its result");
    green_free(g);
    green_hub_destroy();
}
END_TEST

/* ---- spawn_later ------------------------------------------------------ */

static double started_at;

static void *note_start(void *arg)
{
    started_at = now();
    trace_add(arg);
    return NULL;
}

START_TEST(test_spawn_later_delays_start)
{
    trace[0] = '\0';
    started_at = 0;
    double t0 = now();
    green_t *later = green_spawn_later(0.05, note_start, "later");
    green_t *soon = green_spawn(say, "soon");
    ck_assert_msg(later != NULL, "green_spawn_later failed");
    ck_assert_int_eq(green_join(later, 1.0), 0);
    ck_assert_int_eq(green_join(soon, 1.0), 0);
    assert_took("the start of spawn_later(0.05)", started_at - t0, 0.045, 0.5);
    ck_assert_msg(strcmp(trace, "soon later") == 0, "expected \"soon later\", "
                  "got \"%s\"", trace);
    ck_assert_msg(green_parent(later) == green_hub(), "expected a spawn_later "
                  "greenlet's parent to be the hub");
    green_free(later);
    green_free(soon);
    green_hub_destroy();
}
END_TEST

/* gevent: a delay at or below 0 means "as soon as possible".  A negative
 * one was once taken as "no timer", and the greenlet never started. */
START_TEST(test_spawn_later_negative_delay_starts_soon)
{
    trace[0] = '\0';
    started_at = 0;
    double t0 = now();
    green_t *neg = green_spawn_later(-0.001, note_start, "negative");
    green_t *zero = green_spawn_later(0, say, "zero");
    ck_assert_msg(neg != NULL && zero != NULL, "green_spawn_later failed");
    int rc = green_join(neg, 1.0);
    ck_assert_msg(rc == 0, "green_spawn_later(-0.001, ...): expected it to "
                  "start as soon as possible and the join to return 0, got "
                  "-1 (%s)", strerror(errno));
    ck_assert_int_eq(green_join(zero, 1.0), 0);
    assert_took("the start of spawn_later(-0.001)", started_at - t0, 0.0, 0.5);
    green_free(neg);
    green_free(zero);
    green_hub_destroy();
}
END_TEST

/* ---- Waiting on file descriptors --------------------------------------- */

static void *write_later(void *arg)
{
    int fd = *(int *)arg;
    green_sleep(0.02);
    ssize_t n = write(fd, "x", 1);
    return INT2P(n);
}

START_TEST(test_wait_read)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);

    /* Nothing to read: time out. */
    double t0 = now();
    errno = 0;
    int rc = green_wait_read(fds[0], 0.05);
    int saved = errno;
    ck_assert_msg(rc == -1 && saved == ETIMEDOUT, "green_wait_read on an empty "
                  "pipe, 0.05 s: expected -1 with ETIMEDOUT, got %d with errno "
                  "%d (%s)", rc, saved, strerror(saved));
    assert_took("green_wait_read(empty pipe, 0.05)", now() - t0, 0.045, 0.5);

    /* The timed-out wait's event must be gone: data arriving now must not
     * cut the next, unrelated, wait short. */
    ck_assert_int_eq(write(fds[1], "y", 1), 1);
    t0 = now();
    ck_assert_int_eq(green_sleep(0.05), 0);
    assert_took("green_sleep(0.05) after a timed-out wait_read", now() - t0,
                0.045, 0.5);

    /* Data already there: ready at once. */
    t0 = now();
    rc = green_wait_read(fds[0], 1.0);
    ck_assert_msg(rc == 0, "green_wait_read with a byte in the pipe: expected "
                  "0, got %d (%s)", rc, strerror(errno));
    assert_took("green_wait_read with data waiting", now() - t0, 0.0, 0.1);
    char c;
    ck_assert_int_eq(read(fds[0], &c, 1), 1);

    /* Data written by another greenlet 20 ms later. */
    green_t *w = green_spawn(write_later, &fds[1]);
    t0 = now();
    rc = green_wait_read(fds[0], 1.0);
    double took = now() - t0;
    ck_assert_msg(rc == 0, "green_wait_read while another greenlet writes: "
                  "expected 0, got %d (%s)", rc, strerror(errno));
    assert_took("green_wait_read for a write 20 ms later", took, 0.015, 0.5);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert_int_eq(green_join(w, 1.0), 0);
    green_free(w);
    close(fds[0]);
    close(fds[1]);
    green_hub_destroy();
}
END_TEST

static void *drain_later(void *arg)
{
    int fd = *(int *)arg;
    green_sleep(0.02);
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += n;
    return INT2P(total);
}

START_TEST(test_wait_write)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_msg(green_wait_write(fds[1], 1.0) == 0, "green_wait_write on an "
                  "empty pipe: expected 0 at once");

    /* Fill the pipe. */
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    char block[4096];
    memset(block, 'z', sizeof block);
    while (write(fds[1], block, sizeof block) > 0)
        ;
    ck_assert_msg(errno == EAGAIN, "test setup: filling the pipe: %s",
                  strerror(errno));

    double t0 = now();
    errno = 0;
    int rc = green_wait_write(fds[1], 0.05);
    int saved = errno;
    ck_assert_msg(rc == -1 && saved == ETIMEDOUT, "green_wait_write on a full "
                  "pipe, 0.05 s: expected -1 with ETIMEDOUT, got %d with errno "
                  "%d (%s)", rc, saved, strerror(saved));
    assert_took("green_wait_write(full pipe, 0.05)", now() - t0, 0.045, 0.5);

    green_t *d = green_spawn(drain_later, &fds[0]);
    t0 = now();
    rc = green_wait_write(fds[1], 1.0);
    double took = now() - t0;
    ck_assert_msg(rc == 0, "green_wait_write while another greenlet drains "
                  "the pipe: expected 0, got %d (%s)", rc, strerror(errno));
    assert_took("green_wait_write for a drain 20 ms later", took, 0.015, 0.5);
    ck_assert_int_eq(green_join(d, 1.0), 0);
    ck_assert_msg(P2INT(green_result(d)) > 0, "test setup: the drainer read "
                  "nothing");
    green_free(d);
    close(fds[0]);
    close(fds[1]);
    green_hub_destroy();
}
END_TEST

/* ---- The primitives: green_ready and green_hub_switch ----------------- */

static void *wake_values[2];
static int wakes;

static void *park_twice(void *arg)
{
    (void)arg;
    wake_values[0] = green_hub_switch();
    wakes++;
    wake_values[1] = green_hub_switch();
    wakes++;
    return NULL;
}

START_TEST(test_ready_and_hub_switch)
{
    wakes = 0;
    green_t *w = green_spawn(park_twice, NULL);
    ck_assert_int_eq(green_sleep(0), 0);          /* w starts and parks */
    ck_assert_msg(wakes == 0, "expected the waiter parked, not woken");

    green_ready(w, INT2P(1));
    green_ready(w, INT2P(2));   /* already ready: ignored, first one wins */
    ck_assert_msg(wakes == 0, "green_ready must not run the greenlet at once");
    ck_assert_int_eq(green_sleep(0.02), 0);
    ck_assert_msg(wakes == 1, "two green_ready calls in a row: expected one "
                  "wake-up, got %d", wakes);
    ck_assert_msg(wake_values[0] == INT2P(1), "expected the first wake-up's "
                  "value 1, got %ld", P2INT(wake_values[0]));

    green_ready(w, INT2P(3));
    ck_assert_int_eq(green_join(w, 1.0), 0);
    ck_assert_msg(wakes == 2 && wake_values[1] == INT2P(3), "expected the "
                  "second green_hub_switch to return 3, got %ld (%d wakes)",
                  P2INT(wake_values[1]), wakes);
    green_ready(w, INT2P(4));   /* dead: nothing happens */
    ck_assert_int_eq(green_sleep(0.01), 0);
    green_free(w);
    green_hub_destroy();
}
END_TEST

START_TEST(test_ready_self_then_hub_switch)
{
    /* green_sleep(0) made by hand: wake myself, let the others run. */
    trace[0] = '\0';
    green_t *g = green_spawn(say, "other");
    green_ready(green_current(), "myself");
    errno = 0;
    void *v = green_hub_switch();
    ck_assert_msg(v != NULL && strcmp(v, "myself") == 0, "green_ready(me, "
                  "\"myself\") then green_hub_switch(): expected \"myself\", "
                  "got %p (errno %d)", v, errno);
    ck_assert_msg(strcmp(trace, "other") == 0, "expected the greenlet ahead "
                  "in the queue to run first, trace \"%s\"", trace);
    ck_assert_int_eq(green_join(g, 1.0), 0);
    green_free(g);
    green_hub_destroy();
}
END_TEST

static void wake_from_callback(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    green_ready(arg, "from the timer");
}

START_TEST(test_ready_from_event_callback)
{
    /* The documented pattern: arm an event whose callback readies me,
     * switch to the hub, and come back with its value. */
    struct timeval tv = { 0, 20000 };
    ck_assert_int_eq(event_base_once(green_hub_base(), -1, EV_TIMEOUT,
                                     wake_from_callback, green_current(), &tv),
                     0);
    double t0 = now();
    void *v = green_hub_switch();
    double took = now() - t0;
    ck_assert_msg(v != NULL && strcmp(v, "from the timer") == 0, "expected "
                  "green_hub_switch to return the callback's value, got %p", v);
    assert_took("a 20 ms libevent timer", took, 0.015, 0.5);
    green_hub_destroy();
}
END_TEST

/* Step 3 of every wait: whatever woke it, a wait removes its own wake-up
 * source.  g's sleep is cut short by main's green_ready; if the sleep's
 * timer were left armed it would fire in the middle of g's next, unrelated
 * wait and wake it with the wrong value, too early. */
static void *stale_value;
static double stale_woken_at;

static void *sleep_then_park(void *arg)
{
    (void)arg;
    green_sleep(0.05);
    stale_value = green_hub_switch();
    stale_woken_at = now();
    return NULL;
}

START_TEST(test_wake_sources_removed)
{
    stale_value = NULL;
    green_t *g = green_spawn(sleep_then_park, NULL);
    double t0 = now();
    ck_assert_int_eq(green_sleep(0.01), 0);   /* g is asleep */
    green_ready(g, NULL);                     /* cut its sleep short */
    ck_assert_int_eq(green_sleep(0.15), 0);   /* past g's sleep deadline */
    green_ready(g, "from main");
    ck_assert_int_eq(green_join(g, 1.0), 0);
    ck_assert_msg(stale_value != NULL && strcmp(stale_value, "from main") == 0,
                  "expected g's green_hub_switch to return main's value "
                  "\"from main\", got %p (a wake-up left behind by its "
                  "earlier sleep?)", stale_value);
    assert_took("g's wait for main's green_ready at 160 ms",
                stale_woken_at - t0, 0.15, 0.6);
    green_free(g);
    green_hub_destroy();
}
END_TEST

static int hub_switch_errno;
static void *hub_switch_value;

static void *park_until_killed(void *arg)
{
    (void)arg;
    errno = 0;
    hub_switch_value = green_hub_switch();
    hub_switch_errno = errno;
    return NULL;
}

START_TEST(test_hub_switch_killed)
{
    hub_switch_value = INT2P(1);
    green_t *g = green_spawn(park_until_killed, NULL);
    ck_assert_int_eq(green_sleep(0.01), 0);
    ck_assert_int_eq(green_kill(g, 1.0), 0);
    ck_assert_msg(hub_switch_value == NULL && hub_switch_errno == ECANCELED,
                  "green_hub_switch of a killed greenlet: expected NULL with "
                  "ECANCELED, got %p with errno %d", hub_switch_value,
                  hub_switch_errno);
    green_free(g);
    green_hub_destroy();
}
END_TEST

/* ---- Deadlock --------------------------------------------------------- */

START_TEST(test_deadlock_join_waiter_on_nothing)
{
    green_t *g = green_spawn(park_until_killed, NULL);
    green_set_name(g, "stuck-waiter");
    struct kit_capture cap;
    char err[4096];
    kit_capture_start(&cap);
    double t0 = now();
    errno = 0;
    int rc = green_join(g, GREEN_FOREVER);
    int saved = errno;
    double took = now() - t0;
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(rc == -1 && saved == EDEADLK, "main joins a greenlet that "
                  "waits for nothing: expected -1 with EDEADLK, got %d with "
                  "errno %d (%s)", rc, saved, strerror(saved));
    assert_took("detecting the deadlock", took, 0.0, 0.5);
    ck_assert_msg(strstr(err, "stuck-waiter") != NULL, "expected the deadlock "
                  "report to name \"stuck-waiter\"; stderr was: %s", err);
    ck_assert_msg(strstr(err, "main") != NULL, "expected the deadlock report "
                  "to name main, who waits too; stderr was: %s", err);

    ck_assert_int_eq(green_kill(g, 1.0), 0);
    green_free(g);
    green_hub_destroy();
}
END_TEST

static green_t *mutual[2];

static void *join_the_other(void *arg)
{
    long me = P2INT(arg);
    green_join(mutual[1 - me], GREEN_FOREVER);
    return NULL;
}

START_TEST(test_deadlock_mutual_join)
{
    mutual[0] = green_spawn(join_the_other, INT2P(0));
    mutual[1] = green_spawn(join_the_other, INT2P(1));
    green_set_name(mutual[0], "alice");
    green_set_name(mutual[1], "bob");
    struct kit_capture cap;
    char err[4096];
    kit_capture_start(&cap);
    errno = 0;
    int rc = green_join(mutual[0], GREEN_FOREVER);
    int saved = errno;
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(rc == -1 && saved == EDEADLK, "two greenlets join each "
                  "other: expected main's join to fail with EDEADLK, got %d "
                  "with errno %d (%s)", rc, saved, strerror(saved));
    ck_assert_msg(strstr(err, "alice") && strstr(err, "bob"), "expected the "
                  "deadlock report to name \"alice\" and \"bob\"; stderr was: "
                  "%s", err);
    /* ...and on what each waits: alice on bob, bob on alice. */
    char line[256];
    line_about(err, "alice", line, sizeof line);
    ck_assert_msg(strstr(line, "bob") != NULL, "expected the report's line "
                  "about alice to say she waits for bob, got \"%s\"", line);
    line_about(err, "bob", line, sizeof line);
    ck_assert_msg(strstr(line, "alice") != NULL, "expected the report's line "
                  "about bob to say he waits for alice, got \"%s\"", line);

    ck_assert_int_eq(green_kill(mutual[0], 1.0), 0);
    ck_assert_int_eq(green_join(mutual[1], 1.0), 0);
    free_all(mutual, 2);
    green_hub_destroy();
}
END_TEST

START_TEST(test_deadlock_main_waits_on_nothing)
{
    struct kit_capture cap;
    char err[4096];
    kit_capture_start(&cap);
    errno = 0;
    void *v = green_hub_switch();
    int saved = errno;
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(v == NULL && saved == EDEADLK, "green_hub_switch in main "
                  "with nothing to wake it: expected NULL with EDEADLK, got "
                  "%p with errno %d (%s)", v, saved, strerror(saved));
    ck_assert_msg(strstr(err, "main") != NULL, "expected the report to name "
                  "main; stderr was: %s", err);
    /* The hub carries on afterwards. */
    ck_assert_int_eq(green_sleep(0.01), 0);
    green_hub_destroy();
}
END_TEST

/* ---- Introspection ---------------------------------------------------- */

START_TEST(test_dump_names_greenlets)
{
    double secs = 10.0;
    green_t *a = green_spawn(sleep_long, &secs);
    green_t *b = green_spawn(sleep_long, &secs);
    green_set_name(a, "sleepy-one");
    green_set_name(b, "sleepy-two");
    ck_assert_int_eq(green_sleep(0.01), 0);
    struct kit_capture cap;
    char out[4096];
    kit_capture_start(&cap);
    green_dump();
    kit_capture_end(&cap, out, sizeof out);
    ck_assert_msg(strstr(out, "sleepy-one") && strstr(out, "sleepy-two"),
                  "expected green_dump to list \"sleepy-one\" and "
                  "\"sleepy-two\"; it printed: %s", out);
    char line[256];
    line_about(out, "sleepy-one", line, sizeof line);
    ck_assert_msg(strstr(line, "sleep") != NULL, "expected green_dump to say "
                  "what sleepy-one waits for (a sleep), got \"%s\"", line);
    ck_assert_int_eq(green_kill(a, 1.0), 0);
    ck_assert_int_eq(green_kill(b, 1.0), 0);
    green_free(a);
    green_free(b);
    green_hub_destroy();
}
END_TEST

/* ---- Detach and destroy ----------------------------------------------- */

START_TEST(test_detach_frees)
{
    /* Leak checkers (Valgrind, ASan) tell whether these were freed. */
    trace[0] = '\0';
    green_t *a = green_spawn(say, "a");
    green_detach(a);                  /* before it ran */
    double quick = 0.01;
    green_t *b = green_spawn(sleep_long, &quick);
    green_t *c = green_spawn(say, "c");
    ck_assert_int_eq(green_join(c, 1.0), 0);
    green_detach(c);                  /* after it died */
    green_detach(b);                  /* while it sleeps */
    ck_assert_int_eq(green_sleep(0.05), 0);
    ck_assert_msg(strcmp(trace, "a c") == 0, "expected detached greenlets to "
                  "run as usual, trace \"%s\"", trace);
    green_hub_destroy();
}
END_TEST

static int destroy_cleanups;
static int destroy_sleep_errno[3];

static void *sleep_and_clean(void *arg)
{
    long i = P2INT(arg);
    errno = 0;
    if (green_sleep(10.0) == -1)
        destroy_sleep_errno[i] = errno;
    destroy_cleanups++;
    return NULL;
}

START_TEST(test_destroy_kills_live_greenlets)
{
    destroy_cleanups = 0;
    never_ran = 0;
    for (long i = 0; i < 3; i++)
        green_spawn(sleep_and_clean, INT2P(i));
    ck_assert_int_eq(green_sleep(0.01), 0);       /* all three asleep */
    green_spawn(must_not_run, NULL);              /* never started */
    green_spawn_later(5.0, must_not_run, NULL);   /* not due yet */
    double t0 = now();
    green_hub_destroy();   /* frees them all: the handles are gone */
    double took = now() - t0;
    ck_assert_msg(destroy_cleanups == 3, "expected green_hub_destroy to kill "
                  "the 3 sleepers and let their cleanup run, %d did",
                  destroy_cleanups);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(destroy_sleep_errno[i] == ECANCELED, "sleeper %d: "
                      "expected its sleep to fail with ECANCELED, got errno %d",
                      i, destroy_sleep_errno[i]);
    ck_assert_msg(!never_ran, "expected greenlets not yet started never to "
                  "run");
    assert_took("green_hub_destroy", took, 0.0, 0.5);
}
END_TEST

/* green_hub_at_destroy: how a layer with libevent objects of its own (the
 * DNS resolver) lets go of them before the event base goes. */
static int at_destroy_calls;
static int base_still_there;

static void count_at_destroy(void *arg)
{
    at_destroy_calls++;
    base_still_there += (arg == green_hub_base());
}

START_TEST(test_at_destroy_runs_once_before_base)
{
    struct event_base *base = green_hub_base();
    ck_assert_msg(green_hub_at_destroy(count_at_destroy, base) == 0,
                  "green_hub_at_destroy: expected 0, got -1 (%s)", strerror(errno));
    int more = 0;
    while (green_hub_at_destroy(count_at_destroy, base) == 0)
        more++;
    ck_assert_msg(errno == EAGAIN && more == GREEN_AT_DESTROY_MAX - 1,
                  "registering past GREEN_AT_DESTROY_MAX (%d): expected -1 "
                  "with errno EAGAIN after %d more, got errno %d after %d",
                  GREEN_AT_DESTROY_MAX, GREEN_AT_DESTROY_MAX - 1, errno, more);
    ck_assert_msg(at_destroy_calls == 0, "the callbacks must wait for "
                  "green_hub_destroy, %d ran before", at_destroy_calls);
    green_hub_destroy();
    ck_assert_msg(at_destroy_calls == GREEN_AT_DESTROY_MAX
                  && base_still_there == GREEN_AT_DESTROY_MAX,
                  "green_hub_destroy: expected each of the %d callbacks to run "
                  "once, while the hub's event base still existed; %d ran, "
                  "%d of them with the base there", GREEN_AT_DESTROY_MAX,
                  at_destroy_calls, base_still_there);
}
END_TEST

START_TEST(test_hub_again_after_destroy)
{
    green_t *g = green_spawn(say, "first");
    trace[0] = '\0';
    ck_assert_int_eq(green_join(g, 1.0), 0);
    green_free(g);
    green_hub_destroy();

    g = green_spawn(say, "second");
    ck_assert_msg(g != NULL, "expected spawn to work after green_hub_destroy");
    ck_assert_int_eq(green_join(g, 1.0), 0);
    ck_assert_int_eq(green_sleep(0.01), 0);
    ck_assert_msg(strcmp(trace, "first second") == 0, "expected \"first "
                  "second\", got \"%s\"", trace);
    green_free(g);
    green_hub_destroy();
    green_hub_destroy();   /* no hub: nothing to do */
}
END_TEST

/* ---- Many ------------------------------------------------------------- */

static void *yield_then_double(void *arg)
{
    green_sleep(0);
    return INT2P(P2INT(arg) * 2);
}

/* ---- Only the hub resumes a parked greenlet --------------------------- */

struct stray {
    green_t *sleeper;
    int sleep_rc;
    double slept;
    void *switch_value;
    int switch_err;
    int intruder_went_on;
};

static void *sleep_a_while(void *arg)
{
    struct stray *st = arg;
    double t0 = now();
    st->sleep_rc = green_sleep(0.2);
    st->slept = now() - t0;
    return NULL;
}

static void *switch_into_sleeper(void *arg)
{
    struct stray *st = arg;
    errno = 0;
    st->switch_value = green_switch(st->sleeper, "stray");
    st->switch_err = errno;
    st->intruder_went_on = 1;
    return NULL;
}

START_TEST(test_stray_switch_into_parked_refused)
{
    struct stray st = { 0 };
    st.sleeper = green_spawn(sleep_a_while, &st);
    green_set_name(st.sleeper, "sleeper");
    green_t *intruder = green_spawn(switch_into_sleeper, &st);
    green_set_name(intruder, "intruder");

    struct kit_capture cap;
    char err[2048];
    kit_capture_start(&cap);
    green_sleep(0.05);          /* sleeper parks, then intruder switches */
    int went_on = st.intruder_went_on;
    green_t *gs[2] = { st.sleeper, intruder };
    int rc = green_joinall(gs, 2, 2.0);
    kit_capture_end(&cap, err, sizeof err);
    for (int i = 0; i < 2; i++)
        if (!green_dead(gs[i]))
            green_kill(gs[i], 1.0);

    ck_assert_msg(went_on && st.switch_value == NULL && st.switch_err == EPERM,
                  "green_switch() into a greenlet parked in green_sleep must "
                  "refuse at once (NULL, errno EPERM) and let the caller go "
                  "on; the caller %s, got %p and errno %d (%s)",
                  went_on ? "went on" : "never ran again", st.switch_value,
                  st.switch_err, strerror(st.switch_err));
    ck_assert_msg(strstr(err, "'intruder'") && strstr(err, "'sleeper'"),
                  "the refusal should name both greenlets ('intruder' and "
                  "'sleeper') on stderr, got \"%s\"", err);
    ck_assert_msg(rc == 0 && st.sleep_rc == 0 && st.slept >= 0.19,
                  "the parked greenlet should sleep its whole 0.2 s and "
                  "return 0 as if nothing happened: joinall %d, sleep "
                  "returned %d after %.3f s", rc, st.sleep_rc, st.slept);
    green_free(st.sleeper);
    green_free(intruder);
    green_hub_destroy();
}
END_TEST

/* ---- A crash inside a greenlet names it -------------------------------- */

static int *volatile nowhere;   /* NULL, and the compiler cannot know it */

/* UBSan would catch the store first and exit 1 (SANITIZE=1): the test is
 * about the signal, so let the store happen. */
__attribute__((no_sanitize("undefined")))
static void *write_through_null(void *arg)
{
    (void)arg;
    *nowhere = 42;
    return NULL;
}

static void *call_abort(void *arg)
{
    (void)arg;
    abort();
}

static void *send_sigbus(void *arg)
{
    (void)arg;
    raise(SIGBUS);      /* a signal sent, not a fault: the other path */
    return NULL;
}

/* In the child: fn in a greenlet named "crasher". */
static void spawn_crasher(void *fn)
{
    green_t *g = green_spawn(*(green_fn_t *)fn, NULL);
    if (g == NULL)
        _exit(3);
    green_set_name(g, "crasher");
    green_join(g, 5.0);
}

/* Run fn in a greenlet named "crasher", spawned in a forked child; return
 * how the child ended and what it wrote on stderr. */
static int crash_in_child(green_fn_t fn, int sig, char *err, size_t size)
{
    return kit_die_in_child(spawn_crasher, &fn, sig, err, size);
}

START_TEST(test_crash_names_greenlet_and_dies)
{
    const struct {
        green_fn_t fn;
        int sig;
        const char *says;       /* besides the name */
    } cases[] = {
        { write_through_null, SIGSEGV, "SIGSEGV" },
        { call_abort, SIGABRT, "SIGABRT" },
        { send_sigbus, SIGBUS, "SIGBUS" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[4096];
        int status = crash_in_child(cases[i].fn, cases[i].sig, err, sizeof err);
        const char *name = strsignal(cases[i].sig);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == cases[i].sig,
                      "expected the child whose greenlet 'crasher' got %s to die "
                      "of it (signal %d), it %s %d; stderr: %s", name,
                      cases[i].sig,
                      WIFSIGNALED(status) ? "died of signal" : "exited with",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                      err);
        ck_assert_msg(strstr(err, "greenlet 'crasher'") != NULL
                      && strstr(err, cases[i].says) != NULL
                      && strstr(err, "running") != NULL,
                      "expected a crash report on stderr naming greenlet "
                      "'crasher', %s and what it was doing (running); "
                      "stderr: \"%s\"", cases[i].says, err);
    }
}
END_TEST

START_TEST(test_many_spawned)
{
    enum { N = 10000 };
    green_t **gs = calloc(N, sizeof *gs);
    ck_assert(gs != NULL);
    for (int i = 0; i < N; i++) {
        gs[i] = green_spawn(yield_then_double, INT2P(i));
        ck_assert_msg(gs[i] != NULL, "green_spawn %d of %d failed: %s", i, N,
                      strerror(errno));
    }
    errno = 0;
    int rc = green_joinall(gs, N, GREEN_FOREVER);
    ck_assert_msg(rc == 0, "joinall of %d greenlets: expected 0, got %d (%s)",
                  N, rc, strerror(errno));
    for (int i = 0; i < N; i++)
        ck_assert_msg(green_dead(gs[i]) && green_result(gs[i]) == INT2P(2 * i),
                      "greenlet %d: expected dead with result %d, got %ld", i,
                      2 * i, P2INT(green_result(gs[i])));
    free_all(gs, N);
    free(gs);
    green_hub_destroy();
}
END_TEST

/* ---- Signals ------------------------------------------------------------ */

static int signal_seen, signal_count;

static void count_signal(int signum, void *arg)
{
    signal_seen = signum;
    signal_count += *(int *)arg;
}

START_TEST(test_signal_handler_runs_on_the_hub)
{
    int one = 1;
    green_signal_t *sig = green_signal_handler(SIGUSR1, count_signal, &one);
    ck_assert_msg(sig != NULL, "green_signal_handler failed: %s", strerror(errno));
    raise(SIGUSR1);
    /* The handler runs on the hub's loop, not inside raise(): not yet. */
    ck_assert_msg(signal_count == 0, "the handler ran inside the signal, not on the hub");
    for (int i = 0; i < 50 && signal_count == 0; i++)
        green_sleep(0.01);
    ck_assert_msg(signal_count == 1 && signal_seen == SIGUSR1,
                  "expected the handler once with SIGUSR1, got %d call(s), signal %d",
                  signal_count, signal_seen);
    ck_assert_str_eq(green_signal_name(SIGUSR1), "SIGUSR1");
    ck_assert_str_eq(green_signal_name(SIGTERM), "SIGTERM");
    green_signal_cancel(sig);
    green_hub_destroy();
}
END_TEST

START_TEST(test_signal_list)
{
    int one = 1;
    green_signal_t *list = NULL;
    ck_assert_int_eq(green_signal_add(&list, SIGUSR1, count_signal, &one), 0);
    ck_assert_int_eq(green_signal_add(&list, SIGUSR2, count_signal, &one), 0);
    signal_count = 0;
    raise(SIGUSR1);
    raise(SIGUSR2);
    for (int i = 0; i < 50 && signal_count < 2; i++)
        green_sleep(0.01);
    ck_assert_msg(signal_count == 2, "two signals on one list: expected 2 calls, got %d", signal_count);
    green_signal_cancel_all(&list);
    ck_assert_msg(list == NULL, "green_signal_cancel_all should leave the list empty");
    green_hub_destroy();
}
END_TEST

/* ---- The budget: a loop that never waits still yields ---------------- */

static int other_turns;
static volatile int spending;

static void *count_turns(void *arg)
{
    (void)arg;
    while (spending) {
        other_turns++;
        green_sleep(0);
    }
    return NULL;
}

static void *spend_forever(void *arg)
{
    (void)arg;
    while (green_budget_consume() == 0)
        ;
    return (void *)(long)errno;
}

START_TEST(test_budget_makes_a_busy_loop_yield)
{
    ck_assert_int_eq(green_budget_consume(), 0);
    ck_assert_msg(!green_hub_active(), "green_budget_consume() without a hub should not make one");

    /* main spends 10 budgets without ever waiting: the other greenlet
     * should get a turn after each one, no more, no less. */
    spending = 1;
    other_turns = 0;
    green_t *g = green_spawn(count_turns, NULL);
    for (int i = 0; i < 10 * GREEN_BUDGET; i++)
        ck_assert_int_eq(green_budget_consume(), 0);
    ck_assert_msg(other_turns == 10, "spending %d units of budget (GREEN_BUDGET %d) should "
                  "yield 10 times, letting the other greenlet run 10 times; it ran %d times",
                  10 * GREEN_BUDGET, GREEN_BUDGET, other_turns);
    spending = 0;
    ck_assert_int_eq(green_join(g, 1.0), 0);
    green_free(g);

    /* A loop that only spends can be killed: the yield fails ECANCELED. */
    g = green_spawn(spend_forever, NULL);
    green_sleep(0);
    ck_assert_msg(green_kill(g, 1.0) == 0, "a greenlet spending its budget in a loop should "
                  "die when killed: %s", strerror(errno));
    ck_assert_msg((long)green_result(g) == ECANCELED, "green_budget_consume() should fail with "
                  "ECANCELED once the greenlet is killed, got errno %ld", (long)green_result(g));
    green_free(g);
    green_hub_destroy();
}
END_TEST

/* ---- The blocking detector: one per hub ------------------------------- */

/* Two threads, a hub and a watchdog each.  Thread A runs a greenlet that
 * computes for 1 s without yielding; thread B's greenlet yields all the
 * time.  One counter for both hubs would keep moving with B's switches and
 * hide A's stall; per hub, A's watchdog names the hog and B's is quiet.
 * The thresholds leave room for a loaded machine: A's watchdog (0.1 s)
 * has the whole second to wake, and B's (1 s) does not take the kernel
 * preempting B's thread for a while for a stall of its loop. */
static pthread_barrier_t both_watched;

static void *hog(void *arg)
{
    (void)arg;
    double end = green_now() + 1.0;
    while (green_now() < end)
        ;                               /* never yields */
    return NULL;
}

static void *yielder(void *arg)
{
    (void)arg;
    double end = green_now() + 1.2;
    while (green_now() < end)
        green_sleep(0);
    return NULL;
}

static void *watched_thread(void *fn)
{
    long started = green_monitor_start(fn == (void *)hog ? 0.1 : 1.0) == 0;
    pthread_barrier_wait(&both_watched);
    green_t *g = green_spawn(fn, NULL);
    green_set_name(g, fn == (void *)hog ? "hog-in-A" : "yielder-in-B");
    green_join(g, GREEN_FOREVER);
    green_free(g);
    green_monitor_stop();
    green_hub_destroy();
    return INT2P(started);
}

START_TEST(test_monitor_per_hub)
{
    struct kit_capture cap;
    char err[1024];
    pthread_t a, b;
    void *started_a, *started_b;
    pthread_barrier_init(&both_watched, NULL, 2);
    kit_capture_start(&cap);
    pthread_create(&a, NULL, watched_thread, (void *)hog);
    pthread_create(&b, NULL, watched_thread, (void *)yielder);
    pthread_join(a, &started_a);
    pthread_join(b, &started_b);
    kit_capture_end(&cap, err, sizeof err);
    pthread_barrier_destroy(&both_watched);
    ck_assert_msg(started_a && started_b, "two threads each called "
                  "green_monitor_start: expected both to get 0 (a watchdog "
                  "per hub), got %s and %s", started_a ? "0" : "-1",
                  started_b ? "0" : "-1");
    ck_assert_msg(strstr(err, "'hog-in-A' has held the loop") != NULL,
                  "thread A's greenlet computed 1 s without yielding while "
                  "thread B's kept switching: expected A's watchdog to name "
                  "'hog-in-A' (B's switches must not count for A's hub); "
                  "stderr had: \"%s\"", err);
    ck_assert_msg(strstr(err, "yielder-in-B") == NULL, "thread B's greenlet "
                  "yielded all the time: expected no report of it, stderr "
                  "had: \"%s\"", err);
}
END_TEST

/* errno is the thread's: a greenlet that runs while another waits may set
 * it, and a wait that succeeds must give the waiter its own back. */
static void *set_errno(void *arg)
{
    (void)arg;
    errno = EBADF;
    return NULL;
}

START_TEST(test_errno_survives_a_wait)
{
    green_t *g = green_spawn(set_errno, NULL);
    errno = EDOM;
    ck_assert_int_eq(green_sleep(0.001), 0);
    ck_assert_msg(errno == EDOM, "green_sleep returned 0 while another greenlet set errno to "
                  "EBADF: expected the caller's EDOM back, got %s; see lib/green.h, 'Errors'",
                  strerror(errno));
    green_t *h = green_spawn(set_errno, NULL);
    errno = EDOM;
    ck_assert_int_eq(green_join(h, 1.0), 0);
    ck_assert_msg(errno == EDOM, "green_join returned 0: expected errno EDOM untouched, got %s",
                  strerror(errno));
    green_free(g);
    green_free(h);
    green_hub_destroy();
}
END_TEST

static Suite *hub_suite(void)
{
    Suite *s = suite_create("lib/hub");
    TCase *tc = kit_tcase("spawn and sleep");
    tcase_add_test(tc, test_hub_exists);
    tcase_add_test(tc, test_spawn_is_fifo);
    tcase_add_test(tc, test_sleep_wakes_by_deadline);
    tcase_add_test(tc, test_same_sleep_wakes_in_order);
    tcase_add_test(tc, test_green_now);
    tcase_add_test(tc, test_sleep_zero_yields);
    tcase_add_test(tc, test_errno_survives_a_wait);
    tcase_add_test(tc, test_main_sleeps);
    tcase_add_test(tc, test_spawn_later_delays_start);
    tcase_add_test(tc, test_spawn_later_negative_delay_starts_soon);
    suite_add_tcase(s, tc);

    tc = kit_tcase("join");
    tcase_add_test(tc, test_join_returns_result);
    tcase_add_test(tc, test_join_times_out);
    tcase_add_test(tc, test_join_stray_wakeup_keeps_deadline);
    tcase_add_test(tc, test_join_greenlet_not_spawned);
    tcase_add_test(tc, test_many_joiners);
    tcase_add_test(tc, test_joinall_success);
    tcase_add_test(tc, test_joinall_one_overall_deadline);
    suite_add_tcase(s, tc);

    tc = kit_tcase("kill");
    tcase_add_test(tc, test_kill_sleeping);
    tcase_add_test(tc, test_kill_before_start);
    tcase_add_test(tc, test_kill_unstarted_dies_at_once);
    tcase_add_test(tc, test_kill_ignored_times_out);
    tcase_add_test(tc, test_kill_spawn_later_before_start);
    tcase_add_test(tc, test_kill_self_refused);
    tcase_add_test(tc, test_kill_dead);
    suite_add_tcase(s, tc);

    tc = kit_tcase("file descriptors");
    tcase_add_test(tc, test_wait_read);
    tcase_add_test(tc, test_wait_write);
    suite_add_tcase(s, tc);

    tc = kit_tcase("primitives");
    tcase_add_test(tc, test_ready_and_hub_switch);
    tcase_add_test(tc, test_stray_switch_into_parked_refused);
    tcase_add_test(tc, test_ready_self_then_hub_switch);
    tcase_add_test(tc, test_ready_from_event_callback);
    tcase_add_test(tc, test_signal_handler_runs_on_the_hub);
    tcase_add_test(tc, test_signal_list);
    tcase_add_test(tc, test_hub_switch_killed);
    tcase_add_test(tc, test_wake_sources_removed);
    tcase_add_test(tc, test_dump_names_greenlets);
    tcase_add_test(tc, test_budget_makes_a_busy_loop_yield);
    suite_add_tcase(s, tc);

    tc = kit_tcase("deadlock");
    tcase_add_test(tc, test_deadlock_join_waiter_on_nothing);
    tcase_add_test(tc, test_deadlock_mutual_join);
    tcase_add_test(tc, test_deadlock_main_waits_on_nothing);
    suite_add_tcase(s, tc);

    tc = kit_tcase("teardown");
    tcase_add_test(tc, test_detach_frees);
    tcase_add_test(tc, test_destroy_kills_live_greenlets);
    tcase_add_test(tc, test_hub_again_after_destroy);
    tcase_add_test(tc, test_at_destroy_runs_once_before_base);
    tcase_add_test(tc, test_many_spawned);
    if (kit_can_fork())
        tcase_add_test(tc, test_crash_names_greenlet_and_dies);
    suite_add_tcase(s, tc);

    /* Where tests run without fork (qemu-user), clone() for a thread
     * hangs just as fork() does. */
    tc = kit_tcase("blocking detector");
    if (kit_can_fork())
        tcase_add_test(tc, test_monitor_per_hub);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(hub_suite()); }

/* Tests of exercise 12-prefork/reap: waitpid, respawn, back-off. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "reap.h"

#define MASTER KIT_LESSON("chapters/12-prefork/README.md", "What the master does (`lib/12-prefork/prefork.c`)")
#define EXERCISE KIT_LESSON("chapters/12-prefork/README.md", "Exercise: reap")

/* ---- Real workers: the spawn callback forks them ------------------------- */

enum mode {
    DIE_AT_ONCE,                /* exit(3) as soon as forked */
    STAY_UP,                    /* pause() until killed */
    LIVE_5S,                    /* exit(0) after 5 s */
};

struct farm {
    enum mode mode;
    int fail_next;              /* the next spawn returns -1 (EAGAIN) */
    int calls;                  /* spawn calls, failed ones too */
    int spawned;
    pid_t pids[64];
    int nlines;
    char lines[32][200];
};

static pid_t spawn(void *arg)
{
    struct farm *f = arg;
    f->calls++;
    if (f->fail_next) {
        f->fail_next = 0;
        errno = EAGAIN;
        return -1;
    }
    ck_assert_msg(f->spawned < 64, "spawn was called more than 64 times in one test: "
                  "does ex_respawn loop without end? %s", EXERCISE);
    pid_t pid = fork();
    if (pid == 0) {
        /* If the test process dies, its workers go too. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (f->mode == DIE_AT_ONCE)
            _exit(3);
        if (f->mode == LIVE_5S) {
            struct timespec ts = { 5, 0 };
            nanosleep(&ts, NULL);
            _exit(0);
        }
        for (;;)
            pause();
    }
    if (pid > 0)
        f->pids[f->spawned++] = pid;
    return pid;
}

static void say(const char *line, void *arg)
{
    struct farm *f = arg;
    if (f->nlines < 32)
        snprintf(f->lines[f->nlines], sizeof f->lines[0], "%s", line);
    f->nlines++;
}

static void setup(ex_master_t *m, struct farm *f, enum mode mode, int target)
{
    memset(f, 0, sizeof *f);
    f->mode = mode;
    memset(m, 0, sizeof *m);
    m->target = target;
    m->spawn = spawn;
    m->say = say;
    m->arg = f;
}

/* Whatever the code under test did, no worker outlives the test. */
static void cleanup(struct farm *f)
{
    for (int i = 0; i < f->spawned; i++) {
        kill(f->pids[i], SIGKILL);
        waitpid(f->pids[i], NULL, 0);
    }
}

/* Block until worker `pid` has died, WITHOUT collecting it (WNOWAIT): it
 * stays a zombie for ex_reap to collect.  Speed does not matter here: we
 * wait for the event, not for a time. */
static void wait_dead(pid_t pid)
{
    siginfo_t si;
    int rc;
    do
        rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    while (rc < 0 && errno == EINTR);
    ck_assert_msg(rc == 0, "test setup: waitid(%ld) failed (%s): was the worker collected "
                  "before it was reaped?", (long)pid, strerror(errno));
}

static int alive_in_table(const ex_master_t *m)
{
    int n = 0;
    for (int i = 0; i < EX_MAX_WORKERS; i++)
        n += m->w[i].pid != 0;
    return n;
}

static int in_table(const ex_master_t *m, pid_t pid)
{
    for (int i = 0; i < EX_MAX_WORKERS; i++)
        if (m->w[i].pid == pid)
            return 1;
    return 0;
}

static int lines_with(const struct farm *f, const char *what)
{
    int n = 0;
    for (int i = 0; i < f->nlines && i < 32; i++)
        n += strstr(f->lines[i], what) != NULL;
    return n;
}

/* The last line said, for a message. */
static const char *last_line(const struct farm *f)
{
    return f->nlines == 0 ? "(nothing was said)" : f->lines[(f->nlines < 32 ? f->nlines : 32) - 1];
}

/* ---- ex_backoff ---------------------------------------------------------- */

START_TEST(test_backoff_schedule)
{
    static const struct { int n; double want; } cases[] = {
        { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0.1 }, { 4, 0.2 }, { 5, 0.4 }, { 6, 0.8 },
        { 9, 5.0 }, { 50, 5.0 }, { 1000, 5.0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = ex_backoff(cases[i].n);
        ck_assert_msg(got > cases[i].want - 1e-9 && got < cases[i].want + 1e-9,
                      "ex_backoff(%d) should be %.1f s, got %g: 0 below %d fast deaths, "
                      "then %.1f s doubled at each death, at most %.0f s; %s", cases[i].n,
                      cases[i].want, got, EX_BACKOFF_AFTER, EX_BACKOFF_FIRST, EX_BACKOFF_MAX,
                      EXERCISE);
    }
}
END_TEST

/* ---- ex_reap, ex_respawn ------------------------------------------------- */

START_TEST(test_spawn_to_target)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, STAY_UP, 3);
    int n = ex_respawn(&m, 100.0);
    ck_assert_msg(n == 3 && f.spawned == 3, "with 3 workers wanted and none yet, ex_respawn "
                  "should start 3 and return 3; returned %d (%s), spawn called %d times; %s",
                  n, kit_why(n, errno), f.calls, EXERCISE);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(in_table(&m, f.pids[i]), "worker %ld was spawned but is not in m->w[]; %s",
                      (long)f.pids[i], EXERCISE);
    }
    for (int i = 0; i < EX_MAX_WORKERS; i++)
        if (m.w[i].pid)
            ck_assert_msg(m.w[i].born == 100.0, "a worker spawned at now = 100 should have "
                          "born = 100, got %g; %s", m.w[i].born, EXERCISE);
    n = ex_respawn(&m, 100.5);
    ck_assert_msg(n == 0 && f.calls == 3, "with all 3 workers up, ex_respawn should start "
                  "none; returned %d, spawn called %d times in all; %s", n, f.calls, EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_reap_never_blocks)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, LIVE_5S, 1);
    int n = ex_respawn(&m, 100.0);
    ck_assert_msg(n == 1, "ex_respawn should start the one worker wanted, returned %d (%s); %s",
                  n, kit_why(n, errno), EXERCISE);
    double t0 = green_now();
    n = ex_reap(&m, 100.1);
    double took = green_now() - t0;
    ck_assert_msg(took < 2.5, "ex_reap waited %.1f s for a worker that was still running: "
                  "the master must not block there (waitpid with WNOHANG); %s", took, MASTER);
    ck_assert_msg(n == 0 && in_table(&m, f.pids[0]), "with no worker dead, ex_reap should return "
                  "0 and keep the table; returned %d (%s), worker %s the table; %s", n,
                  kit_why(n, errno), in_table(&m, f.pids[0]) ? "in" : "no longer in", MASTER);
    cleanup(&f);
}
END_TEST

START_TEST(test_reap_and_respawn)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, STAY_UP, 3);
    ck_assert_msg(ex_respawn(&m, 100.0) == 3, "ex_respawn should start 3 workers; %s", EXERCISE);
    pid_t victim = f.pids[1];
    kill(victim, SIGKILL);              /* at now = 110: it had long started */
    wait_dead(victim);
    int n = ex_reap(&m, 110.0);
    ck_assert_msg(n == 1, "one worker was killed: ex_reap should return 1, got %d (%s); %s",
                  n, kit_why(n, errno), MASTER);
    ck_assert_msg(!in_table(&m, victim) && alive_in_table(&m) == 2,
                  "the dead worker's slot should be free (pid 0) and the 2 others kept; "
                  "the table holds %d workers, the dead one %s; %s", alive_in_table(&m),
                  in_table(&m, victim) ? "still among them" : "not", EXERCISE);
    errno = 0;
    ck_assert_msg(kill(victim, 0) == -1 && errno == ESRCH, "worker %ld is still a zombie: "
                  "ex_reap should collect it with waitpid; %s", (long)victim, MASTER);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)victim);
    ck_assert_msg(f.nlines == 1 && strstr(f.lines[0], pid) && strstr(f.lines[0], "signal 9"),
                  "one line should name the worker (%s) and how it ended (\"signal 9\"); "
                  "%d line(s) said, the last: \"%s\"; %s", pid, f.nlines, last_line(&f), EXERCISE);
    n = ex_respawn(&m, 110.0);
    ck_assert_msg(n == 1 && alive_in_table(&m) == 3 && !in_table(&m, victim),
                  "after one death, ex_respawn should start 1 worker at once (3 again); "
                  "returned %d, the table holds %d; %s", n, alive_in_table(&m), EXERCISE);

    /* An exit status is named too. */
    f.mode = DIE_AT_ONCE;
    kill(f.pids[0], SIGKILL);
    wait_dead(f.pids[0]);
    ex_reap(&m, 120.0);
    ck_assert_msg(ex_respawn(&m, 120.0) == 1, "ex_respawn should replace the worker; %s", EXERCISE);
    pid_t quick = f.pids[f.spawned - 1];
    wait_dead(quick);
    ex_reap(&m, 120.1);
    snprintf(pid, sizeof pid, "%ld", (long)quick);
    ck_assert_msg(strstr(last_line(&f), pid) && strstr(last_line(&f), "status 3"),
                  "a worker that exited with status 3: its line should name it (%s) and "
                  "say \"status 3\", got \"%s\"; %s", pid, last_line(&f), EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_reap_ignores_other_children)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, STAY_UP, 1);
    ck_assert_msg(ex_respawn(&m, 100.0) == 1, "ex_respawn should start 1 worker; %s", EXERCISE);
    pid_t other = fork();               /* a child that is not a worker */
    if (other == 0)
        _exit(0);
    wait_dead(other);
    int n = ex_reap(&m, 100.2);
    ck_assert_msg(n == 0 && in_table(&m, f.pids[0]) && f.nlines == 0,
                  "a child that is not in the table died: ex_reap should return 0, keep the "
                  "worker and say nothing; returned %d (%s), %d line(s) said; %s",
                  n, kit_why(n, errno), f.nlines, EXERCISE);
    cleanup(&f);
}
END_TEST

/* One fast death: the worker spawned at `now` dies at once, is reaped at
 * now + 0.01.  Returns the time of the reap. */
static double one_fast_death(ex_master_t *m, struct farm *f, double now)
{
    int n = ex_respawn(m, now);
    ck_assert_msg(n == 1, "at now = %.2f (next_spawn %.2f) ex_respawn should start the worker, "
                  "returned %d (%s), after %d fast death(s); %s", now, m->next_spawn, n,
                  kit_why(n, errno), m->fast_deaths, EXERCISE);
    wait_dead(f->pids[f->spawned - 1]);
    now += 0.01;
    n = ex_reap(m, now);
    ck_assert_msg(n == 1, "a worker died: ex_reap should return 1, got %d (%s); %s",
                  n, kit_why(n, errno), MASTER);
    return now;
}

START_TEST(test_backoff_after_fast_deaths)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, DIE_AT_ONCE, 1);
    double now = 100.0;
    for (int death = 1; death <= 6; death++) {
        now = one_fast_death(&m, &f, now);
        double wait = ex_backoff(death);
        if (wait == 0)
            continue;           /* respawned at once by the next turn */
        /* Backing off: nothing until now + wait, then one worker. */
        int n = ex_respawn(&m, now + wait - 0.005);
        ck_assert_msg(n == 0, "after %d fast deaths in a row, the next spawn waits %.1f s: "
                      "ex_respawn at %.3f s after the death should start nothing, started %d; %s",
                      death, wait, wait - 0.005, n, MASTER);
        now += wait + 0.001;
    }
    ck_assert_msg(lines_with(&f, "keep dying") == 1, "6 workers died at once: the master should "
                  "say once that they \"keep dying\", said it %d time(s); %s",
                  lines_with(&f, "keep dying"), MASTER);
    ck_assert_msg(f.nlines < 6, "6 fast deaths should not give a line each (%d lines): from "
                  "the back-off on, only the one \"keep dying\" line; %s", f.nlines, EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_backoff_one_at_a_time)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, DIE_AT_ONCE, 3);
    double now = 100.0;
    int n = ex_respawn(&m, now);
    ck_assert_msg(n == 3, "ex_respawn should start 3 workers, returned %d (%s); %s",
                  n, kit_why(n, errno), EXERCISE);
    for (int i = 0; i < 3; i++)
        wait_dead(f.pids[i]);
    now += 0.01;
    ck_assert_msg(ex_reap(&m, now) == 3, "3 workers died: ex_reap should return 3; %s", MASTER);
    now += ex_backoff(3) + 0.001;
    n = ex_respawn(&m, now);
    ck_assert_msg(n == 1, "after 3 fast deaths, while backing off, ex_respawn should start ONE "
                  "worker (the others wait for its fate), started %d; %s", n, EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_long_life_resets_backoff)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, DIE_AT_ONCE, 1);
    double now = 100.0;
    for (int death = 1; death <= 3; death++)
        now = one_fast_death(&m, &f, now) + ex_backoff(death) + 0.001;
    /* This one stays up 10 s (by the clock we give), then is killed. */
    f.mode = STAY_UP;
    ck_assert_msg(ex_respawn(&m, now) == 1, "ex_respawn should start a worker once the "
                  "back-off is over; %s", MASTER);
    pid_t steady = f.pids[f.spawned - 1];
    kill(steady, SIGKILL);
    wait_dead(steady);
    now += 10.0;
    ex_reap(&m, now);
    f.mode = DIE_AT_ONCE;       /* its replacement, and the next, die at once */
    int n = ex_respawn(&m, now);
    ck_assert_msg(n == 1, "a worker that lived 10 s ends the run of fast deaths: its "
                  "replacement starts at once, but ex_respawn started %d; %s", n, MASTER);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)steady);
    ck_assert_msg(lines_with(&f, pid) == 1, "the death of worker %s, after a long life, is "
                  "news again: one line should name it; the last line: \"%s\"; %s",
                  pid, last_line(&f), EXERCISE);
    /* A new run of fast deaths is news again too: said once more. */
    wait_dead(f.pids[f.spawned - 1]);
    now += 0.01;
    ex_reap(&m, now);
    for (int death = 2; death <= 3; death++)
        now = one_fast_death(&m, &f, now);
    ck_assert_msg(lines_with(&f, "keep dying") == 2, "two runs of fast deaths, with a long "
                  "life between them: \"keep dying\" should be said once per run (2), was said "
                  "%d time(s): a long life sets said_backoff back to 0; %s",
                  lines_with(&f, "keep dying"), EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_spawn_failure_waits)
{
    ex_master_t m;
    struct farm f;
    setup(&m, &f, STAY_UP, 2);
    f.fail_next = 1;
    int n = ex_respawn(&m, 100.0);
    ck_assert_msg(n == 0 && f.calls == 1, "a spawn that fails: ex_respawn should stop there "
                  "(0 started, spawn called once), got %d started, %d calls; %s",
                  n, f.calls, EXERCISE);
    ck_assert_msg(f.nlines >= 1, "a failed spawn should be said (one line); %s", EXERCISE);
    n = ex_respawn(&m, 100.5);
    ck_assert_msg(n == 0 && f.calls == 1, "0.5 s after a failed spawn, ex_respawn should not "
                  "try again yet (next_spawn = now + %.0f s), but spawn was called %d times; %s",
                  EX_SPAWN_RETRY, f.calls, EXERCISE);
    n = ex_respawn(&m, 101.0);
    ck_assert_msg(n == 2, "%.0f s after a failed spawn, ex_respawn should start the 2 workers, "
                  "started %d; %s", EX_SPAWN_RETRY, n, EXERCISE);
    cleanup(&f);
}
END_TEST

static Suite *reap_suite(void)
{
    Suite *s = suite_create("12-prefork/reap");
    TCase *tc = kit_tcase("reap");
    tcase_add_test(tc, test_backoff_schedule);
    if (kit_can_fork()) {
        tcase_add_test(tc, test_spawn_to_target);
        tcase_add_test(tc, test_reap_never_blocks);
        tcase_add_test(tc, test_reap_and_respawn);
        tcase_add_test(tc, test_reap_ignores_other_children);
        tcase_add_test(tc, test_backoff_after_fast_deaths);
        tcase_add_test(tc, test_backoff_one_at_a_time);
        tcase_add_test(tc, test_long_life_resets_backoff);
        tcase_add_test(tc, test_spawn_failure_waits);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(reap_suite()); }

/*
 * tests/lib/dump.c - the library's own tests of green_dump and SIGQUIT
 * (hub.h, lib/03-hub/report.c and backtrace.c): every greenlet of every
 * hub, its state, how long, and the frames of its own stack.
 *
 * The SIGQUIT tests run their program in a forked child whose stderr is a
 * pipe: the test sends the signal, reads the dump, and checks that the
 * child goes on afterwards.  Timings are only checked for plausibility
 * (a loaded machine is slow): never an exact figure.
 */
#include "harness.h"
#include "green.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LESSON "chapters/03-hub/README.md"
#define SEE KIT_LESSON(LESSON, "Deadlock: nobody can wake you")

/* ---- Reading a dump ------------------------------------------------------ */

/* The part of `dump` about greenlet `name`: its line "greenlet ID
 * 'name': STATE" and its frames, up to the next greenlet or hub, copied
 * to out ("" if the dump does not list it). */
static void section_of(const char *dump, const char *name, char *out, size_t size)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s': ", name);
    out[0] = '\0';
    const char *at = strstr(dump, quoted);
    if (at == NULL)
        return;
    while (at > dump && at[-1] != '\n')
        at--;
    const char *end = at + 1;
    for (;;) {
        end = strchr(end, '\n');
        if (end == NULL || strncmp(end + 1, "  greenlet ", 11) == 0
            || strncmp(end + 1, "hub of thread", 13) == 0
            || strncmp(end + 1, "green:", 6) == 0)
            break;
        end++;
    }
    size_t len = end ? (size_t)(end - at) : strlen(at);
    if (len >= size)
        len = size - 1;
    memcpy(out, at, len);
    out[len] = '\0';
}

/* The seconds that follow `words` in text ("wakes in 4.95 s"), or -1. */
static double seconds_after(const char *text, const char *words)
{
    const char *at = strstr(text, words);
    return at ? atof(at + strlen(words)) : -1;
}

/* A frame of function fn: "fn+0x1c (file)", or "fn.isra.0+0x11" (a copy
 * GCC's optimizer made and named so). */
#define expect_frame(section, fn, why)                                       \
    ck_assert_msg(strstr((section), " " fn "+") || strstr((section), " " fn "."), \
                  "expected a frame of %s (%s); the dump said:\n%s\n%s",   \
                  fn, (why), (section), SEE)

#define expect_in(section, what, why)                                        \
    ck_assert_msg(strstr((section), (what)) != NULL,                         \
                  "expected the dump to say \"%s\" (%s); it said:\n%s\n%s",  \
                  (what), (why), (section), SEE)

/* ---- Greenlets that wait in known places --------------------------------- */

/* Each waits in a function of this file, named in the backtrace; the work
 * after the call keeps the compiler from making the call a jump (which
 * would leave no frame of ours to name). */
static volatile int done;

static __attribute__((noinline)) int nap_in_the_test(double s)
{
    int rc = green_sleep(s);
    done++;
    return rc;
}

static void *napper(void *arg)
{
    (void)arg;
    nap_in_the_test(30);
    return NULL;
}

static __attribute__((noinline)) int wait_for_the_event(green_event_t *e)
{
    int rc = green_event_wait(e, GREEN_FOREVER);
    done++;
    return rc;
}

static void *event_waiter(void *arg)
{
    wait_for_the_event(arg);
    return NULL;
}

static void *queue_getter(void *arg)
{
    void *item;
    green_queue_get(arg, &item, GREEN_FOREVER);
    return NULL;
}

static void *sem_waiter(void *arg)
{
    green_sem_acquire(arg, GREEN_FOREVER);
    return NULL;
}

static void *group_joiner(void *arg)
{
    green_group_join(arg, GREEN_FOREVER);
    return NULL;
}

static void *joiner(void *arg)
{
    green_join(arg, GREEN_FOREVER);
    return NULL;
}

/* Spins without ever waiting until `stop` (a non-blocking pipe) has a
 * byte, or 5 s: the hog of chapter 8, which holds its hub. */
static __attribute__((noinline)) void spin_without_yielding(int stop)
{
    double end = green_now() + 5;
    char c;
    while (green_now() < end && read(stop, &c, 1) != 1)
        done++;
}

/* ---- A child to send SIGQUIT to ------------------------------------------- */

struct child {
    pid_t pid;
    int err;        /* its stderr */
    int ctl;        /* what we write to it */
    int ans;        /* what it answers */
    int child_ctl;  /* the child's end of ctl: its descriptor number */
};

static void child_say(int fd, const char *s)
{
    ck_assert(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
}

/* Read from fd until `want` has come (or `timeout` s, or EOF) into buf;
 * 1 when it came. */
static int read_until(int fd, const char *want, char *buf, size_t size, double timeout)
{
    size_t len = strlen(buf);
    double end = green_now() + timeout;
    while (!strstr(buf, want) && len + 1 < size) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int)((end - green_now()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return strstr(buf, want) != NULL;
}

static void start_child(struct child *c, void (*body)(int ctl, int ans))
{
    int err[2], ctl[2], ans[2];
    ck_assert(pipe(err) == 0 && pipe(ctl) == 0 && pipe(ans) == 0);
    c->pid = kit_fork_tied();
    if (c->pid == 0) {
        /* As a shell without job control starts `cmd &`: SIGQUIT
         * ignored.  The kit dumps anyway (hub.h, green_dump). */
        signal(SIGQUIT, SIG_IGN);
        dup2(err[1], STDERR_FILENO);
        close(err[0]);
        close(ctl[1]);
        close(ans[0]);
        body(ctl[0], ans[1]);
        _exit(0);
    }
    close(err[1]);
    close(ctl[0]);
    close(ans[1]);
    c->err = err[0];
    c->ctl = ctl[1];
    c->ans = ans[0];
    c->child_ctl = ctl[0];
}

/* Once the child says `started` (and `settle` seconds more), SIGQUIT it
 * and read its dump from its stderr into dump. */
static void quit_and_read(struct child *c, const char *started, double settle,
                          char *dump, size_t size)
{
    char ans[64] = "";
    ck_assert_msg(read_until(c->ans, started, ans, sizeof ans, 10),
                  "the child did not start (it did not say \"%s\")", started);
    kit_nap(settle);
    kill(c->pid, SIGQUIT);
    ck_assert_msg(read_until(c->err, "green: end of the dump", dump, size, 10),
                  "expected the dump on SIGQUIT, ending \"green: end of the dump\" (it "
                  "runs in the signal handler, even while a greenlet hogs the hub); the "
                  "child's stderr:\n%s\n%s", dump, SEE);
}

/* Wait for the child's exit: it must exit 0, having gone on after the
 * dump. */
static void end_child(struct child *c)
{
    int status;
    ck_assert(waitpid(c->pid, &status, 0) == c->pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "expected the child to go on after the dump and exit 0, got "
                  "status %#x", status);
    close(c->err);
    close(c->ctl);
    close(c->ans);
}

/* ---- SIGQUIT on a program of greenlets, on two threads ----------------------- */

static void *far_thread(void *arg)
{
    (void)arg;
    green_t *g = green_spawn(napper, NULL);
    green_set_name(g, "far-napper");
    green_sleep(30);
    return NULL;
}

/* The pinger waits for the test to write (a read on fd `ctl`), answers
 * and ends; so does the program. */
static void *pinger(void *arg)
{
    int *fds = arg;
    char c;
    if (green_wait_read(fds[0], GREEN_FOREVER) == 0 && read(fds[0], &c, 1) == 1)
        child_say(fds[1], "pong\n");
    return NULL;
}

static void many_greenlets(int ctl, int ans)
{
    int fds[2] = { ctl, ans };
    green_event_t *e = green_event_new();
    green_queue_t *q = green_queue_new(0);
    green_t *nap = green_spawn(napper, NULL);
    green_set_name(nap, "napper");
    green_set_name(green_spawn(event_waiter, e), "event-waiter");
    green_set_name(green_spawn(queue_getter, q), "queue-getter");
    green_set_name(green_spawn(joiner, nap), "joiner");
    green_set_name(green_spawn(sem_waiter, green_sem_new(0)), "sem-waiter");
    green_group_t *group = green_group_new();
    green_set_name(green_group_spawn(group, napper, NULL), "member");
    green_set_name(green_spawn(group_joiner, group), "group-joiner");
    green_t *ping = green_spawn(pinger, fds);
    green_set_name(ping, "pinger");
    pthread_t far;
    pthread_create(&far, NULL, far_thread, NULL);
    green_sleep(0.2);           /* everyone is parked, the far hub too */
    child_say(ans, "ready\n");
    green_join(ping, GREEN_FOREVER);
    _exit(0);
}

START_TEST(test_sigquit_dumps_every_greenlet)
{
    struct child c;
    char ans[64] = "", dump[32768] = "", s[4096];
    start_child(&c, many_greenlets);
    quit_and_read(&c, "ready", 0, dump, sizeof dump);

    section_of(dump, "napper", s, sizeof s);
    expect_in(s, "sleeping, wakes in ", "napper sleeps 30 s");
    double wakes = seconds_after(s, "wakes in "), since = seconds_after(s, "for ");
    ck_assert_msg(wakes > 20 && wakes <= 30 && since >= 0 && since < 10,
                  "napper slept 30 s from some 0.2 s before the dump: expected "
                  "\"wakes in\" between 20 and 30 s and \"for\" under 10 s, got:\n%s", s);
    expect_frame(s, "nap_in_the_test", "the backtrace names the test's own static function");
    expect_frame(s, "green_sleep", "the backtrace names the call it waits in");

    section_of(dump, "pinger", s, sizeof s);
    char want[64];
    snprintf(want, sizeof want, "waiting to read fd %d,", c.child_ctl);
    expect_in(s, want, "the pinger reads the pipe the test writes to");
    expect_frame(s, "pinger", "the backtrace names the greenlet's function");

    section_of(dump, "event-waiter", s, sizeof s);
    expect_in(s, "waiting in green_event_wait on 0x", "the call and the object");
    expect_frame(s, "wait_for_the_event", "the test's function");
    char event_obj[32] = "";
    sscanf(strstr(s, " on 0x") + 4, "%31[0-9a-fx]", event_obj);

    section_of(dump, "queue-getter", s, sizeof s);
    expect_in(s, "waiting in green_queue_get on 0x", "the call and the object");
    ck_assert_msg(strstr(s, event_obj) == NULL, "the Event and the Queue are two "
                  "objects: expected two addresses, got %s twice", event_obj);

    section_of(dump, "joiner", s, sizeof s);
    expect_in(s, "joining 'napper'", "whom it joins");
    section_of(dump, "sem-waiter", s, sizeof s);
    expect_in(s, "waiting in green_sem_acquire on 0x", "a Semaphore's waiter");
    section_of(dump, "group-joiner", s, sizeof s);
    expect_in(s, "waiting in green_group_join on 0x", "a Group's waiter");

    section_of(dump, "far-napper", s, sizeof s);
    expect_in(s, "sleeping, wakes in", "a greenlet of the second thread's hub");
    expect_frame(s, "nap_in_the_test", "its frames, read while its thread stood still");
    const char *first = strstr(dump, "hub of thread ");
    ck_assert_msg(first && strstr(first + 1, "hub of thread "),
                  "expected both hubs (two threads) in the dump:\n%s", dump);

    /* It goes on: the pinger answers. */
    child_say(c.ctl, "x");
    ck_assert_msg(read_until(c.ans, "pong", ans, sizeof ans, 10),
                  "expected the child to go on after the dump and answer; it did not");
    end_child(&c);
}
END_TEST

/* ---- SIGQUIT while a greenlet hogs the hub ----------------------------------- */

static void *hog(void *arg)
{
    int *fds = arg;
    child_say(fds[1], "hogging\n");
    spin_without_yielding(fds[0]);
    child_say(fds[1], "done\n");
    return NULL;
}

static void one_hog(int ctl, int ans)
{
    int fds[2] = { ctl, ans };
    fcntl(ctl, F_SETFL, O_NONBLOCK);
    green_t *n = green_spawn(napper, NULL);     /* parks first */
    green_set_name(n, "napper");
    green_t *g = green_spawn(hog, fds);
    green_set_name(g, "hog");
    green_join(g, GREEN_FOREVER);
}

START_TEST(test_sigquit_while_a_greenlet_hogs_the_hub)
{
    struct child c;
    char ans[64] = "", dump[32768] = "", s[4096];
    start_child(&c, one_hog);
    quit_and_read(&c, "hogging", 0.1, dump, sizeof dump);
    section_of(dump, "hog", s, sizeof s);
    expect_in(s, "running, for ", "the hog runs");
    ck_assert_msg(seconds_after(s, "for ") >= 0.05 && seconds_after(s, "for ") < 5,
                  "the hog had run for 0.1 s or more: got\n%s", s);
    expect_frame(s, "spin_without_yielding", "its frames, from the registers the signal saved");
    section_of(dump, "hub", s, sizeof s);
    expect_in(s, "switched to 'hog'", "the hub waits for the hog");
    section_of(dump, "napper", s, sizeof s);
    expect_frame(s, "nap_in_the_test", "a parked greenlet's frames beside the hog");
    child_say(c.ctl, "x");
    ck_assert_msg(read_until(c.ans, "done", ans, sizeof ans, 10),
                  "expected the hog to go on after the dump; it did not");
    end_child(&c);
}
END_TEST

/* ---- green_dump called by the program ------------------------------------------ */

static void *returns_at_once(void *arg) { return arg; }

/* The end of a test: wake w (in event_waiter), free both, and the hub. */
static void release(green_event_t *e, green_t *w)
{
    green_event_set(e);
    ck_assert_int_eq(green_join(w, 1.0), 0);
    green_free(w);
    green_event_free(e);
    green_hub_destroy();
}

START_TEST(test_green_dump_direct)
{
    green_event_t *e = green_event_new();
    green_t *w = green_spawn(event_waiter, e);
    green_set_name(w, "event-waiter");
    green_t *dead = green_spawn(returns_at_once, NULL);
    green_set_name(dead, "finished");
    ck_assert_int_eq(green_join(dead, 1.0), 0);
    green_t *fresh = green_spawn(returns_at_once, NULL);
    green_set_name(fresh, "fresh");
    int p[2];
    ck_assert(pipe(p) == 0);
    ck_assert_int_eq(green_dump_fd(p[1]), 0);
    close(p[1]);
    char dump[16384] = "", s[4096];
    read_until(p[0], "green: end of the dump", dump, sizeof dump, 5);
    close(p[0]);

    section_of(dump, "main", s, sizeof s);
    expect_in(s, "running", "main called green_dump");
    expect_frame(s, "test_green_dump_direct_fn", "main's frames start at green_dump's caller");
    section_of(dump, "event-waiter", s, sizeof s);
    expect_frame(s, "wait_for_the_event", "a parked greenlet's frames");
    section_of(dump, "finished", s, sizeof s);
    expect_in(s, "dead", "a greenlet that returned");
    section_of(dump, "fresh", s, sizeof s);
    expect_in(s, "not started (ready)", "spawned, not yet run");
    section_of(dump, "hub", s, sizeof s);
    expect_frame(s, "hub_loop", "the hub's own frames");

    green_free(dead);
    green_free(fresh);
    release(e, w);
}
END_TEST

/* ---- A thread that cannot stop does not hang the dump ------------------------ */

/* A hub on a thread that blocks SIGQUIT: it never answers the dump's
 * request to stand still.  It naps 2 s, then ends. */
static void *deaf_thread(void *arg)
{
    (void)arg;
    sigset_t quit;
    sigemptyset(&quit);
    sigaddset(&quit, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &quit, NULL);
    green_t *g = green_spawn(napper, NULL);
    green_set_name(g, "deaf-napper");
    green_sleep(kit_valgrind() ? 6 : 2);
    green_kill(g, 1.0);
    green_free(g);
    green_hub_destroy();
    return NULL;
}

START_TEST(test_a_thread_that_does_not_stop_is_named_not_waited_for)
{
    signal(SIGQUIT, SIG_IGN);           /* as in start_child */
    green_dump_on_sigquit();
    pthread_t deaf;
    pthread_create(&deaf, NULL, deaf_thread, NULL);
    kit_nap(0.3);                       /* its hub exists, its greenlet naps */
    int p[2];
    ck_assert(pipe(p) == 0);
    double start = green_now();
    ck_assert_int_eq(green_dump_fd(p[1]), 0);
    double took = green_now() - start;
    close(p[1]);
    char dump[16384] = "";
    read_until(p[0], "green: end of the dump", dump, sizeof dump, 5);
    close(p[0]);
    pthread_join(deaf, NULL);
    expect_in(dump, "did not stop within 1 s", "a thread that blocks SIGQUIT is named");
    ck_assert_msg(strstr(dump, "deaf-napper") == NULL, "a thread that did not stop "
                  "must not be read (its hub may be changing): the dump showed its "
                  "greenlet:\n%s", dump);
    ck_assert_msg(took < 5, "the dump waits 1 s at most for a thread: it took %.1f s", took);
    green_hub_destroy();
}
END_TEST

/* A program that handles SIGQUIT itself keeps its handler: the hub,
 * created after it, must not take the signal away. */
static volatile sig_atomic_t quits;
static void count_quit(int sig) { (void)sig; quits++; }

START_TEST(test_a_programs_own_sigquit_handler_wins)
{
    signal(SIGQUIT, count_quit);
    green_sleep(0.01);                  /* the first hub: it installs if it may */
    ck_assert_int_eq(green_dump_on_sigquit(), 0);
    raise(SIGQUIT);
    ck_assert_msg(quits == 1, "expected the program's own SIGQUIT handler to run "
                  "(the kit installs its dump only over the default or an ignored "
                  "SIGQUIT), it ran %d time(s)\n%s", (int)quits, SEE);
    green_hub_destroy();
}
END_TEST

/* ---- The deadlock report and the blocking detector -------------------------- */

START_TEST(test_deadlock_report_shows_frames)
{
    green_event_t *e = green_event_new();
    green_t *w = green_spawn(event_waiter, e);
    green_set_name(w, "stuck");
    struct kit_capture cap;
    char err[8192], s[4096];
    kit_capture_start(&cap);
    int rc = green_join(w, GREEN_FOREVER);
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(rc == -1 && errno == EDEADLK, "expected EDEADLK, got %d", rc);
    section_of(err, "stuck", s, sizeof s);
    expect_in(s, "waiting in green_event_wait on 0x", "what the stuck greenlet waits on");
    expect_frame(s, "wait_for_the_event", "where it waits, in the test's code");
    section_of(err, "main", s, sizeof s);
    expect_in(s, "joining 'stuck'", "main joins it");
    release(e, w);
}
END_TEST

static __attribute__((noinline)) void hog_for(double seconds)
{
    double end = green_now() + seconds;
    while (green_now() < end)
        done++;
}

static void *monitored_hog(void *arg)
{
    hog_for(*(double *)arg);
    return NULL;
}

START_TEST(test_monitor_prints_the_hogs_dump)
{
    double seconds = kit_valgrind() ? 3.0 : 0.8;
    signal(SIGQUIT, SIG_IGN);           /* as in start_child */
    green_dump_on_sigquit();
    ck_assert_int_eq(green_monitor_start(0.2), 0);
    green_t *g = green_spawn(monitored_hog, &seconds);
    green_set_name(g, "hog");
    struct kit_capture cap;
    char err[16384], s[4096];
    kit_capture_start(&cap);
    ck_assert_int_eq(green_join(g, 10.0), 0);
    kit_capture_end(&cap, err, sizeof err);
    green_monitor_stop();
    expect_in(err, "'hog' has held the loop", "the detector's line");
    section_of(err, "hog", s, sizeof s);
    expect_in(s, "running", "the hog, in the stalled hub's dump");
    expect_frame(s, "hog_for", "the hog's frames: where to add a green_sleep(0)");
    green_free(g);
    green_hub_destroy();
}
END_TEST

static Suite *dump_suite(void)
{
    Suite *s = suite_create("lib/dump");
    TCase *tc = kit_tcase("green_dump");
    tcase_add_test(tc, test_green_dump_direct);
    tcase_add_test(tc, test_deadlock_report_shows_frames);
    suite_add_tcase(s, tc);
    /* Forks and threads: not where tests run without fork (qemu-user). */
    tc = kit_tcase("SIGQUIT");
    if (kit_can_fork()) {
        tcase_add_test(tc, test_sigquit_dumps_every_greenlet);
        tcase_add_test(tc, test_sigquit_while_a_greenlet_hogs_the_hub);
        tcase_add_test(tc, test_monitor_prints_the_hogs_dump);
        tcase_add_test(tc, test_a_thread_that_does_not_stop_is_named_not_waited_for);
        tcase_add_test(tc, test_a_programs_own_sigquit_handler_wins);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(dump_suite()); }

/*
 * tests/lib/prefork_heartbeat.c - the library's own tests of
 * prefork_heartbeat.h: its master's side alone (the test is the master),
 * then through chapter 12's master (prefork.h) with `timeout` 1 s: a
 * worker held by a greenlet that never yields (/cpu) is named in the
 * master's log, killed and replaced; a worker that is busy but yields
 * (/sleep) is left alone.
 * As in tests/lib/prefork.c, the test forks the master and talks to it
 * with plain blocking clients (no hub in the test: a hub does not survive
 * a fork); the master's stderr goes to a file the test reads.  Bounds are
 * generous (seconds): these tests say what happens, never how fast.
 */
#include "harness.h"
#include "green.h"
#include "../../chapters/09-wsgi/demo_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 2
#define TIMEOUT 1.0             /* the master's --timeout */
#define T 10.0                  /* the bound on anything awaited */

static pid_t master;
static int port;
static char log_path[64];

/* ---- The master, in a child of the test, its stderr in a file ---------- */

static void start_master(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/kit-heartbeat-XXXXXX");
    int logfd = mkstemp(log_path);
    ck_assert_msg(logfd >= 0, "mkstemp: %s", strerror(errno));
    int p[2];
    ck_assert(pipe(p) == 0);
    master = fork();
    ck_assert_msg(master >= 0, "fork: %s", strerror(errno));
    if (master == 0) {
        close(p[0]);
        dup2(logfd, 2);
        green_http_server_t *http = green_http_server_new("127.0.0.1", "0", &demo_app, NULL);
        green_prefork_options_t opt = { .workers = WORKERS, .grace = 5, .timeout = TIMEOUT };
        green_prefork_t *m = http ? green_prefork_new(green_http_server_core(http), &opt) : NULL;
        if (!m || green_prefork_listen(m) < 0)
            _exit(3);
        int got = green_server_port(green_http_server_core(http));
        if (write(p[1], &got, sizeof got) != sizeof got)
            _exit(3);
        close(p[1]);
        int rc = green_prefork_run(m);
        green_prefork_free(m);
        green_http_server_free(http);
        _exit(rc < 0 ? 1 : 0);
    }
    close(logfd);
    close(p[1]);
    ck_assert_msg(read(p[0], &port, sizeof port) == sizeof port,
                  "the master did not start (could not listen?)");
    close(p[0]);
}

/* The master's exit status after signum, or -1 if it is still running
 * after T seconds (then it is killed).  Its log file is removed. */
static int stop_master(int signum)
{
    kill(master, signum);
    double end = green_now() + T;
    int status, rc = -1;
    while (green_now() < end) {
        if (waitpid(master, &status, WNOHANG) == master) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        kit_nap(0.02);
    }
    if (rc < 0) {
        kill(master, SIGKILL);
        waitpid(master, &status, 0);
    }
    unlink(log_path);
    return rc;
}

/* What the master and its workers have written on stderr so far. */
static void read_log(char *buf, size_t size)
{
    int fd = open(log_path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : 0;
    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
}

/* The master's WORKERS workers, once it has them all (within T). */
static void all_workers(pid_t *out)
{
    double end = green_now() + T;
    int n;
    while ((n = kit_children(master, out, WORKERS)) < WORKERS && green_now() < end)
        kit_nap(0.02);
    ck_assert_msg(n == WORKERS, "expected the master to run %d workers, found %d", WORKERS, n);
}

/* ---- A blocking client -------------------------------------------------- */

/* Send a GET of target on a new connection; the fd, or -1. */
static int send_get(const char *target)
{
    char req[256];
    int fd = kit_dial(port, T);
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
    if (fd >= 0 && write(fd, req, (size_t)len) != len) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read one response on fd (HTTP/1.0: the close ends it) into buf and close
 * fd; the status code, or -1 (reset, timeout, nothing). */
static int response(int fd, char *buf, size_t size)
{
    int code = kit_read_response(fd, buf, size);
    if (fd >= 0)
        close(fd);
    return code;
}

static pid_t get_pid(void)
{
    char buf[4096];
    if (response(send_get("/pid"), buf, sizeof buf) != 200)
        return -1;
    const char *body = strstr(buf, "\r\n\r\n");
    return body ? (pid_t)atol(body + 4) : -1;
}

/* ---- Tests ---------------------------------------------------------------- */

START_TEST(test_held_hub_is_named_and_replaced)
{
    start_master();
    pid_t before[WORKERS];
    all_workers(before);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(get_pid() > 0, "GET /pid %d (before any stall) failed", i);

    /* A handler that computes for 8 s without yielding: its worker's hub
     * stops turning, and after 1 s (plus a look or two) the master says so. */
    int held = send_get("/cpu?ms=8000");
    ck_assert_msg(held >= 0, "cannot connect to the master's port");
    char log[8192], *line = NULL;
    double end = green_now() + T;
    while (green_now() < end && !(line = strstr((read_log(log, sizeof log), log), "timed out")))
        kit_nap(0.05);
    ck_assert_msg(line != NULL, "expected the master to log that a worker timed out within "
                  "%.0f s of a GET /cpu?ms=8000 (--timeout 1); its log:\n%s"
                  "(how it works: lib/12-prefork/prefork_heartbeat.c)",
                  T, log);
    while (line > log && line[-1] != '\n')
        line--;
    char *eol = strchr(line, '\n');
    ck_assert_msg(eol != NULL, "the timeout line is not whole: %s", line);
    *eol = 0;
    long victim = 0;
    ck_assert_msg(sscanf(line, "master %*d: worker %ld timed out", &victim) == 1 &&
                  kit_pid_in(before, WORKERS, (pid_t)victim),
                  "expected \"master PID: worker PID timed out ...\" naming one of the "
                  "workers, got: %s", line);
    ck_assert_msg(strstr(line, "greenlet 'GET /cpu?ms=8000'") && strstr(line, "held the loop"),
                  "expected the line to name the greenlet that held the loop and what it "
                  "was doing (chapter 11 names a handler after its request while the app "
                  "runs: \"GET /cpu?ms=8000\"), got: %s", line);

    /* ...then, before it kills it, the worker's dump (SIGQUIT) in the
     * same log: the hog running, in the demo app's handler (demo_cpu, or
     * demo_call where the compiler put demo_cpu inline).  The hub's line
     * comes last. */
    static char dump[32768];
    end = green_now() + T;
    while (green_now() < end && !strstr((read_log(dump, sizeof dump), dump), "'hub': switched to"))
        kit_nap(0.05);
    ck_assert_msg(strstr(dump, "'GET /cpu?ms=8000': running")
                  && (strstr(dump, "demo_cpu+") || strstr(dump, "demo_call+")),
                  "expected the timed-out worker's dump in the log, its greenlet 'GET "
                  "/cpu?ms=8000' running in demo_cpu (green_dump, hub.h; prefork_heartbeat.c sends SIGQUIT); the log:\n%s", dump);

    char buf[4096];
    ck_assert_msg(strstr(eol + 1, "timed out") == NULL,
                  "one timeout should be logged once, yet the log goes on: %s", eol + 1);
    ck_assert_msg(response(held, buf, sizeof buf) != 200,
                  "the /cpu?ms=8000 should have been cut by the kill, yet it answered");

    /* Replaced: WORKERS workers again, the victim not among them, and the
     * new one answers.  A /cpu?ms=300 keeps one busy, so /pid reaches the
     * other (a shared socket may favour one worker). */
    pid_t after[WORKERS];
    int n = 0;
    end = green_now() + T;
    while (green_now() < end && ((n = kit_children(master, after, WORKERS)) < WORKERS || kit_pid_in(after, n, victim)))
        kit_nap(0.05);
    ck_assert_msg(n == WORKERS && !kit_pid_in(after, n, victim),
                  "expected worker %ld to be replaced (%d workers, none of them it); the "
                  "master's log:\n%s", victim, WORKERS, (read_log(log, sizeof log), log));
    pid_t fresh = kit_pid_in(before, WORKERS, after[0]) ? after[1] : after[0];
    int answered = 0;
    end = green_now() + T;
    while (!answered && green_now() < end) {
        int busy = send_get("/cpu?ms=300");
        pid_t pid = get_pid();
        ck_assert_msg(pid > 0, "a GET /pid after the replacement failed");
        answered = pid == fresh;
        response(busy, buf, sizeof buf);
    }
    ck_assert_msg(answered, "the new worker %ld never answered /pid", (long)fresh);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

START_TEST(test_busy_but_yielding_is_not_killed)
{
    start_master();
    pid_t before[WORKERS], after[WORKERS];
    all_workers(before);
    /* /sleep waits 3 s on the hub, which goes on turning: 3 timeouts long,
     * and not a reason to kill. */
    int slow = send_get("/sleep?ms=3000");
    for (int i = 0; i < 5; i++)
        ck_assert_msg(get_pid() > 0, "GET /pid %d (during a /sleep) failed", i);
    char buf[4096], log[8192];
    int code = response(slow, buf, sizeof buf);
    ck_assert_msg(code == 200 && strstr(buf, "slept"),
                  "expected GET /sleep?ms=3000 to answer 200 \"slept\" with --timeout 1 "
                  "(it yields: its hub turns), got %d; the master's log:\n%s",
                  code, (read_log(log, sizeof log), log));
    read_log(log, sizeof log);
    ck_assert_msg(strstr(log, "timed out") == NULL,
                  "no worker should time out while its greenlets wait, yet: %s", log);
    ck_assert_int_eq(kit_children(master, after, WORKERS), WORKERS);
    ck_assert_msg(kit_pid_in(before, WORKERS, after[0]) && kit_pid_in(before, WORKERS, after[1]),
                  "the workers should be the same after the /sleep (none replaced)");
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

START_TEST(test_heartbeat_contract)
{
    errno = 0;
    ck_assert_msg(green_heartbeat_new(0, 4) == NULL && errno == EINVAL,
                  "green_heartbeat_new(0, ...) should fail with EINVAL: 0 is no timeout");
    ck_assert_msg(green_heartbeat_new(1, 0) == NULL && errno == EINVAL,
                  "green_heartbeat_new(1, 0) should fail with EINVAL: no slot");
    green_heartbeat_t *hb = green_heartbeat_new(1, 4);
    ck_assert_msg(hb != NULL, "green_heartbeat_new(1, 4): %s", strerror(errno));
    ck_assert_msg(green_heartbeat_interval(hb) == 0.25,
                  "with a 1 s timeout, expected a look every 0.25 s, got %g",
                  green_heartbeat_interval(hb));
    ck_assert_int_eq(green_heartbeat_check(hb), 0);     /* nobody beats yet */
    green_heartbeat_free(hb);
    /* NULL is "no timeout": every call does nothing. */
    ck_assert_int_eq(green_heartbeat_check(NULL), 0);
    ck_assert_int_eq(green_heartbeat_start(NULL), 0);
    ck_assert(green_heartbeat_interval(NULL) > 1e6);
    green_heartbeat_forget(NULL, 1);
}
END_TEST

/* ---- The heartbeat alone: the test is the master ------------------------ */

/* A greenlet that computes forever without yielding. */
static void *spin(void *arg)
{
    (void)arg;
    for (;;)
        ;
    return NULL;
}

/* A worker, forked by the test: it starts its heartbeat, then holds its
 * hub, from a greenlet named "spinner" (by_greenlet) or from main, before
 * the hub ever ran (then no greenlet holds it: its watchdog has nobody to
 * name). */
static pid_t fork_stuck_worker(green_heartbeat_t *hb, int by_greenlet)
{
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid > 0)
        return pid;
    if (green_heartbeat_start(hb) < 0)
        _exit(3);
    if (by_greenlet) {
        green_t *g = green_spawn(spin, NULL);
        green_set_name(g, "spinner");
        green_sleep(0.1);        /* the hub runs the heartbeat, then spin */
    }
    spin(NULL);
    _exit(4);
}

/* Call green_heartbeat_check until it kills (T at most), capturing the
 * master's line in buf; then reap the worker: its wait status. */
static int check_until_killed(green_heartbeat_t *hb, pid_t pid, char *buf, size_t size)
{
    struct kit_capture cap;
    int killed = 0, again = 0, status;
    kit_capture_start(&cap);
    double end = green_now() + T;
    while (!killed && green_now() < end) {
        killed = green_heartbeat_check(hb);
        kit_nap(0.05);
    }
    again = green_heartbeat_check(hb);  /* killed, not yet forgotten */
    kit_capture_end(&cap, buf, size);
    if (!killed)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    green_heartbeat_forget(hb, pid);
    ck_assert_msg(killed == 1, "expected green_heartbeat_check to kill the held worker "
                  "within %.0f s, it returned 0; stderr:\n%s", T, buf);
    ck_assert_msg(again == 0, "a worker already killed should not be killed (and "
                  "logged) again, yet green_heartbeat_check returned %d", again);
    return status;
}

START_TEST(test_check_names_the_greenlet)
{
    green_heartbeat_t *hb = green_heartbeat_new(0.5, 4);
    ck_assert(hb != NULL);
    char buf[2048];
    pid_t pid = fork_stuck_worker(hb, 1);
    int status = check_until_killed(hb, pid, buf, sizeof buf);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "expected the held worker to die of SIGKILL, got status %#x", status);
    char want[64];
    snprintf(want, sizeof want, "worker %ld timed out: no heartbeat for ", (long)pid);
    ck_assert_msg(strstr(buf, want) && strstr(buf, "greenlet 'spinner' has held the loop for")
                  && strstr(buf, "; killing it\n"),
                  "expected one line \"master PID: %s... greenlet 'spinner' has held the "
                  "loop for ... s without yielding; killing it\", got:\n%s", want, buf);
    green_heartbeat_free(hb);
}
END_TEST

START_TEST(test_check_says_when_nobody_is_named)
{
    green_heartbeat_t *hb = green_heartbeat_new(0.5, 4);
    ck_assert(hb != NULL);
    char buf[2048];
    pid_t pid = fork_stuck_worker(hb, 0);
    check_until_killed(hb, pid, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "it did not say which greenlet held the loop"),
                  "a worker held outside any greenlet cannot name one: expected the "
                  "master to say so, got:\n%s", buf);
    green_heartbeat_free(hb);
}
END_TEST

static Suite *heartbeat_suite(void)
{
    Suite *s = suite_create("lib/prefork_heartbeat");
    TCase *tc = kit_tcase("prefork_heartbeat");
    tcase_set_timeout(tc, 4 * T);
    tcase_add_test(tc, test_heartbeat_contract);
    if (kit_can_fork()) {
        tcase_add_test(tc, test_check_names_the_greenlet);
        tcase_add_test(tc, test_check_says_when_nobody_is_named);
        tcase_add_test(tc, test_held_hub_is_named_and_replaced);
        tcase_add_test(tc, test_busy_but_yielding_is_not_killed);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return kit_run_suite(heartbeat_suite());
}

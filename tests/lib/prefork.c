/*
 * tests/lib/prefork.c - the library's own tests of prefork.h: a master
 * forked by the test, with 2 workers serving the demo app on 127.0.0.1
 * (port 0: the kernel picks), talked to by plain blocking clients (the
 * test process runs no hub: the master forks, and a hub does not survive
 * a fork).  Which worker answers is the /pid route; the workers are the
 * master's children, read from /proc.  Bounds are generous (seconds):
 * these tests say what happens, never how fast.
 */
#include "harness.h"
#include "green.h"
#include "../../chapters/09-wsgi/demo_app.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
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
#define T 10.0                  /* the bound on anything awaited */

static pid_t master;
static int port;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

/* ---- The master, in a child of the test ------------------------------- */

static void start_master(void)
{
    int p[2];
    ck_assert(pipe(p) == 0);
    master = fork();
    ck_assert_msg(master >= 0, "fork: %s", strerror(errno));
    if (master == 0) {
        close(p[0]);
        green_http_server_t *http = green_http_server_new("127.0.0.1", "0", &demo_app, NULL);
        green_prefork_options_t opt = { .workers = WORKERS, .grace = 5 };
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
    close(p[1]);
    ck_assert_msg(read(p[0], &port, sizeof port) == sizeof port,
                  "the master did not start (could not listen?)");
    close(p[0]);
}

/* The master's exit status after TERM, or -1 if it is still running after
 * T seconds (then it is killed). */
static int stop_master(int signum)
{
    kill(master, signum);
    double end = now() + T;
    int status;
    while (now() < end) {
        if (waitpid(master, &status, WNOHANG) == master)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nap(0.02);
    }
    kill(master, SIGKILL);
    waitpid(master, &status, 0);
    return -1;
}

/* The master's live children (its workers), at most `max`. */
static int workers(pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < max) {
        char path[300], buf[512], state;
        long ppid;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *close_paren = strrchr(buf, ')');
        if (close_paren && sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 &&
            ppid == master && state != 'Z')
            out[n++] = (pid_t)atol(e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

static int has(const pid_t *set, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (set[i] == pid)
            return 1;
    return 0;
}

/* ---- A blocking client -------------------------------------------------- */

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = { (time_t)T, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read one response on fd (HTTP/1.0: the close ends it) into buf; the
 * status code, or -1 (reset, timeout, nothing). */
static int response(int fd, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    int code;
    return sscanf(buf, "HTTP/1.%*d %d", &code) == 1 ? code : -1;
}

/* GET target over a new connection: the code, and the body in body. */
static int get(const char *target, char *body, size_t size)
{
    char buf[4096], req[256];
    int fd = dial();
    if (fd < 0)
        return -1;
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
    int code = write(fd, req, (size_t)len) == len ? response(fd, buf, sizeof buf) : -1;
    close(fd);
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(body, size, "%s", b ? b + 4 : "");
    return code;
}

static pid_t get_pid(void)
{
    char body[64];
    return get("/pid", body, sizeof body) == 200 ? (pid_t)atol(body) : -1;
}

/* ---- Tests ---------------------------------------------------------------- */

START_TEST(test_workers_answer)
{
    start_master();
    pid_t seen[WORKERS] = { 0 };
    int nseen = 0;
    double end = now() + T;
    /* A worker busy with /cpu (it never yields) cannot take the next
     * connection: another worker does. */
    while (nseen < WORKERS && now() < end) {
        int busy = dial();
        ck_assert_msg(busy >= 0, "cannot connect to the master's port");
        const char *cpu = "GET /cpu?ms=200 HTTP/1.0\r\n\r\n";
        ck_assert(write(busy, cpu, strlen(cpu)) == (ssize_t)strlen(cpu));
        pid_t pid = get_pid();
        ck_assert_msg(pid > 0, "GET /pid failed");
        ck_assert_msg(pid != master && pid != getpid(), "/pid should name a worker, not the master");
        if (!has(seen, nseen, pid))
            seen[nseen++] = pid;
        close(busy);
    }
    ck_assert_msg(nseen == WORKERS, "expected %d workers to answer /pid, saw %d", WORKERS, nseen);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

START_TEST(test_killed_worker_is_replaced)
{
    start_master();
    pid_t victim = get_pid();
    ck_assert_msg(victim > 0, "GET /pid failed");
    kill(victim, SIGKILL);
    pid_t w[8];
    int n = 0;
    double end = now() + T;
    while (now() < end) {
        n = workers(w, 8);
        if (n == WORKERS && !has(w, n, victim))
            break;
        nap(0.05);
    }
    ck_assert_msg(n == WORKERS && !has(w, n, victim),
                  "after SIGKILL to worker %ld, the master should have %d workers again "
                  "(none of them it), has %d", (long)victim, WORKERS, n);
    for (int i = 0; i < 20; i++)
        ck_assert_msg(get_pid() > 0, "request %d after the respawn failed", i);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

START_TEST(test_term_finishes_in_flight)
{
    start_master();
    int fd = dial();
    ck_assert(fd >= 0);
    const char *req = "GET /sleep?ms=500 HTTP/1.0\r\n\r\n";
    ck_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    nap(0.2);                   /* a worker reads it and sleeps */
    kill(master, SIGTERM);
    char buf[1024];
    int code = response(fd, buf, sizeof buf);
    close(fd);
    ck_assert_msg(code == 200 && strstr(buf, "slept"),
                  "a /sleep?ms=500 in flight at TERM should complete, got %d", code);
    ck_assert_msg(stop_master(0) == 0, "the master should exit 0 once its workers are done");
}
END_TEST

START_TEST(test_hup_replaces_every_worker)
{
    start_master();
    pid_t before[8], after[8];
    int nbefore = 0, nafter = 0, failed = 0, requests = 0, hupped = 0;
    double end = now() + T;
    while (now() < end && (nbefore = workers(before, 8)) < WORKERS)
        nap(0.02);
    ck_assert_int_eq(nbefore, WORKERS);
    end = now() + T;
    for (;;) {
        failed += get_pid() <= 0;
        requests++;
        if (requests == 20) {
            kill(master, SIGHUP);
            hupped = 1;
        }
        if (!hupped)
            continue;
        nafter = workers(after, 8);
        int fresh = nafter == WORKERS;
        for (int i = 0; i < nafter; i++)
            fresh = fresh && !has(before, nbefore, after[i]);
        if ((fresh && requests >= 60) || now() > end)
            break;
    }
    ck_assert_msg(failed == 0, "%d of %d requests failed during the reload", failed, requests);
    int common = 0;
    for (int i = 0; i < nafter; i++)
        common += has(before, nbefore, after[i]);
    ck_assert_msg(nafter == WORKERS && common == 0,
                  "after HUP, expected %d new workers, got %d of which %d old", WORKERS,
                  nafter, common);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

START_TEST(test_bad_worker_counts)
{
    ck_assert_int_eq(green_prefork_check_workers(0), -1);
    ck_assert_int_eq(green_prefork_check_workers(-3), -1);
    ck_assert_int_eq(green_prefork_check_workers(GREEN_PREFORK_MAX_WORKERS + 1), -1);
    ck_assert_int_eq(green_prefork_check_workers(1), 0);
    green_prefork_options_t opt = { .workers = -1 };
    ck_assert_msg(green_prefork_new((green_server_t *)&opt, &opt) == NULL && errno == EINVAL,
                  "a negative worker count should be refused with EINVAL");
    ck_assert_msg(green_prefork_cpus() >= 1, "green_prefork_cpus should be at least 1");
}
END_TEST

static Suite *prefork_suite(void)
{
    Suite *s = suite_create("lib/prefork");
    TCase *tc = kit_tcase("prefork");
    tcase_set_timeout(tc, 4 * T);
    tcase_add_test(tc, test_bad_worker_counts);
    if (kit_can_fork()) {
        tcase_add_test(tc, test_workers_answer);
        tcase_add_test(tc, test_killed_worker_is_replaced);
        tcase_add_test(tc, test_term_finishes_in_flight);
        tcase_add_test(tc, test_hup_replaces_every_worker);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return kit_run_suite(prefork_suite());
}

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
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 2
#define T 10.0                  /* the bound on anything awaited */

static pid_t master;
static int port;

/* ---- The master, in a child of the test ------------------------------- */

/* What the next start_master() uses: tests set them first. */
static green_prefork_options_t popt;
static int workers_cannot_start;        /* every worker dies at start */
static const char *access_log;          /* the access log's path, or NULL */
static char log_path[64];       /* the master's stderr (and its workers') */

/* A core whose start fails in every worker: a worker that keeps dying. */
static int refuse_to_start(int fd, void *arg)
{
    (void)fd, (void)arg;
    errno = EPERM;
    return -1;
}
static const green_server_hooks_t refusing = { .start = refuse_to_start };

static void start_master(void)
{
    int p[2];
    ck_assert(pipe(p) == 0);
    snprintf(log_path, sizeof log_path, "/tmp/kit-prefork-XXXXXX");
    int log = mkstemp(log_path);
    ck_assert_msg(log >= 0, "mkstemp: %s", strerror(errno));
    master = fork();
    ck_assert_msg(master >= 0, "fork: %s", strerror(errno));
    if (master == 0) {
        close(p[0]);
        dup2(log, 2);
        green_http_options_t hopt = { 0 };
        green_prefork_options_t opt = popt;
        if (access_log) {
            opt.access_log = access_log;
            opt.access_log_fd = hopt.access_log_fd = open(access_log, O_WRONLY | O_CREAT |
                                                          O_APPEND, 0644);
        }
        green_http_server_t *http = green_http_server_new("127.0.0.1", "0", &demo_app, &hopt);
        opt.http = http;
        if (opt.workers == 0)
            opt.workers = WORKERS;
        if (opt.grace == 0)
            opt.grace = 5;
        green_server_t *core = http ? green_http_server_core(http) : NULL;
        if (core && workers_cannot_start)
            green_server_set_hooks(core, &refusing, NULL);
        green_prefork_t *m = core ? green_prefork_new(core, &opt) : NULL;
        if (!m || green_prefork_listen(m) < 0)
            _exit(3);
        int got = green_server_port(core);
        if (write(p[1], &got, sizeof got) != sizeof got)
            _exit(3);
        close(p[1]);
        int rc = green_prefork_run(m);
        green_prefork_free(m);
        green_http_server_free(http);
        _exit(rc < 0 ? 1 : 0);
    }
    close(log);
    close(p[1]);
    ck_assert_msg(read(p[0], &port, sizeof port) == sizeof port,
                  "the master did not start (could not listen?)");
    close(p[0]);
}

/* The master's log so far (its stderr, its workers' too), in a static
 * buffer. */
static const char *master_log(void)
{
    static char buf[1 << 16];
    int fd = open(log_path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : 0;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* The master's exit status after TERM, or -1 if it is still running after
 * T seconds (then it is killed). */
static int stop_master(int signum)
{
    kill(master, signum);
    double end = green_now() + T;
    int status;
    while (green_now() < end) {
        if (waitpid(master, &status, WNOHANG) == master)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        kit_nap(0.02);
    }
    kill(master, SIGKILL);
    waitpid(master, &status, 0);
    return -1;
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- A blocking client -------------------------------------------------- */

/* GET target over a new connection: the code, and the body in body. */
static int get(const char *target, char *body, size_t size)
{
    char buf[4096], req[256];
    int fd = kit_dial(port, T);
    if (fd < 0)
        return -1;
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
    int code = write(fd, req, (size_t)len) == len ? kit_read_response(fd, buf, sizeof buf) : -1;
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

/* Connections waiting in the kernel's accept queue of our port (every
 * listening socket on it): the rx_queue of its LISTEN lines in
 * /proc/net/tcp.  0: the workers accepted everything. */
static int backlog(void)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    int total = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned lport, st, rxq;
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%x", &lport, &st, &rxq) == 3 &&
            (int)lport == port && st == 0x0A)
            total += (int)rxq;
    }
    if (f)
        fclose(f);
    return total;
}

/* ---- A keep-alive client ------------------------------------------------ *
 * HTTP/1.1, one connection for many requests.  A server may close an idle
 * keep-alive connection at any moment (a stopping worker does), and a
 * request sent at that moment meets the close: every HTTP client then
 * retries on a new connection, once, when nothing of the answer came
 * back (RFC 9112, 9.3.1).  So does this one, and it counts the retries. */
struct ka {
    int fd;
    int retries;
};

/* Read one response with a Content-Length: the code, the body in body;
 * -1 when nothing came (closed, reset); -2 when it was cut. */
static int ka_response(struct ka *k, char *body, size_t size, int *close_after)
{
    char buf[4096];
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = read(k->fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return len == 0 ? -1 : -2;
        len += (size_t)n;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    int code;
    const char *cl = strcasestr(buf, "Content-Length:");
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1 || !cl || cl > end)
        return -2;
    size_t want = strtoul(cl + 15, NULL, 10), have = len - (size_t)(end + 4 - buf);
    while (have < want && len < sizeof buf - 1) {
        ssize_t n = read(k->fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -2;
        len += (size_t)n;
        have += (size_t)n;
    }
    buf[len] = 0;
    *close_after = strcasestr(buf, "Connection: close") != NULL;
    snprintf(body, size, "%.*s", (int)want, end + 4);
    return code;
}

/* GET target on k's connection (a new one if it has none): the code. */
static int ka_get(struct ka *k, const char *target, char *body, size_t size)
{
    char req[256];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = k->fd >= 0, close_after = 0;
        if (k->fd < 0 && (k->fd = kit_dial(port, T)) < 0)
            return -1;
        int code = write(k->fd, req, (size_t)len) == len
                   ? ka_response(k, body, size, &close_after) : -1;
        if (code < 0 || close_after) {
            close(k->fd);
            k->fd = -1;
        }
        if (code != -1 || !reused)
            return code;
        k->retries++;           /* the server closed it as we spoke */
    }
    return -1;
}

/* ---- Load: clients in threads ------------------------------------------- *
 * LOADERS threads send GET /pid until told to stop; even ones over
 * keep-alive connections, odd ones over a new connection each time.  Each
 * request's outcome is counted, with the time it started and ended. */
#define LOADERS 4
static atomic_int load_stop, load_ok, load_failed, load_retries;
static double failed_started[64];       /* when each failed one started */
static double load_first_ok_after;      /* the first success that started */
static double load_mark;                /*   after this moment */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void load_record(double started, int ok)
{
    pthread_mutex_lock(&load_lock);
    if (ok) {
        load_ok++;
        if (load_mark > 0 && started >= load_mark &&
            (load_first_ok_after == 0 || green_now() < load_first_ok_after))
            load_first_ok_after = green_now();
    } else {
        if (load_failed < 64)
            failed_started[load_failed] = started;
        load_failed++;
    }
    pthread_mutex_unlock(&load_lock);
}

static void *loader(void *arg)
{
    int keep_alive = (int)(long)arg % 2 == 0;
    struct ka k = { .fd = -1 };
    char body[64];
    while (!load_stop) {
        double started = green_now();
        int ok = keep_alive ? ka_get(&k, "/pid", body, sizeof body) == 200 && atol(body) > 0
                            : get_pid() > 0;
        load_record(started, ok);
    }
    if (k.fd >= 0)
        close(k.fd);
    load_retries += k.retries;
    return NULL;
}

static pthread_t loaders[LOADERS];

static void load_start(void)
{
    load_stop = load_ok = load_failed = load_retries = 0;
    load_mark = load_first_ok_after = 0;
    for (long i = 0; i < LOADERS; i++)
        ck_assert(pthread_create(&loaders[i], NULL, loader, (void *)i) == 0);
}

static void load_end(void)
{
    load_stop = 1;
    for (int i = 0; i < LOADERS; i++)
        pthread_join(loaders[i], NULL);
}

/* Wait until the master has exactly n live workers: 1, or 0 after T s. */
static int wait_workers(pid_t *w, int n)
{
    double end = green_now() + T;
    while (green_now() < end) {
        if (kit_children(master, w, 16) == n)
            return 1;
        kit_nap(0.02);
    }
    return 0;
}

/* ---- Tests ---------------------------------------------------------------- */

/* Get every worker to answer /pid (each then accepts: it is ready): a
 * worker busy with /cpu (it never yields) cannot take the next
 * connection, another worker does.  Their pids in seen; how many. */
static int answering(pid_t *seen)
{
    int nseen = 0;
    double end = green_now() + T;
    while (nseen < WORKERS && green_now() < end) {
        int busy = kit_dial(port, T);
        ck_assert_msg(busy >= 0, "cannot connect to the master's port");
        const char *cpu = "GET /cpu?ms=200 HTTP/1.0\r\n\r\n";
        ck_assert(write(busy, cpu, strlen(cpu)) == (ssize_t)strlen(cpu));
        pid_t pid = get_pid();
        ck_assert_msg(pid > 0, "GET /pid failed");
        ck_assert_msg(pid != master && pid != getpid(), "/pid should name a worker, not the master");
        if (!kit_pid_in(seen, nseen, pid))
            seen[nseen++] = pid;
        close(busy);
    }
    return nseen;
}

START_TEST(test_workers_answer)
{
    start_master();
    pid_t seen[WORKERS] = { 0 };
    int nseen = answering(seen);
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
    double end = green_now() + T;
    while (green_now() < end) {
        n = kit_children(master, w, 8);
        if (n == WORKERS && !kit_pid_in(w, n, victim))
            break;
        kit_nap(0.05);
    }
    ck_assert_msg(n == WORKERS && !kit_pid_in(w, n, victim),
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
    int fd = kit_dial(port, T);
    ck_assert(fd >= 0);
    const char *req = "GET /sleep?ms=500 HTTP/1.0\r\n\r\n";
    ck_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    kit_nap(0.2);                   /* a worker reads it and sleeps */
    kill(master, SIGTERM);
    char buf[1024];
    int code = kit_read_response(fd, buf, sizeof buf);
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
    double end = green_now() + T;
    while (green_now() < end && (nbefore = kit_children(master, before, 8)) < WORKERS)
        kit_nap(0.02);
    ck_assert_int_eq(nbefore, WORKERS);
    end = green_now() + T;
    for (;;) {
        failed += get_pid() <= 0;
        requests++;
        if (requests == 20) {
            kill(master, SIGHUP);
            hupped = 1;
        }
        if (!hupped)
            continue;
        nafter = kit_children(master, after, 8);
        int fresh = nafter == WORKERS;
        for (int i = 0; i < nafter; i++)
            fresh = fresh && !kit_pid_in(before, nbefore, after[i]);
        if ((fresh && requests >= 60) || green_now() > end)
            break;
    }
    ck_assert_msg(failed == 0, "%d of %d requests failed during the reload", failed, requests);
    int common = 0;
    for (int i = 0; i < nafter; i++)
        common += kit_pid_in(before, nbefore, after[i]);
    ck_assert_msg(nafter == WORKERS && common == 0,
                  "after HUP, expected %d new workers, got %d of which %d old", WORKERS,
                  nafter, common);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

/* A connection a worker accepted just before a graceful stop, whose
 * request comes late, is answered (chapter 11's wait_request). */
START_TEST(test_term_answers_a_late_first_request)
{
    start_master();
    ck_assert_msg(get_pid() > 0, "the workers do not answer");
    int fd = kit_dial(port, T);
    ck_assert(fd >= 0);
    double end = green_now() + T;
    while (backlog() > 0 && green_now() < end)   /* a worker has accepted it */
        kit_nap(0.01);
    kit_nap(0.1);                   /* connected, and silent */
    kill(master, SIGTERM);
    kit_nap(0.1);                   /* the workers are stopping */
    const char *req = "GET /pid HTTP/1.0\r\n\r\n";
    ck_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    char buf[1024];
    int code = kit_read_response(fd, buf, sizeof buf);
    close(fd);
    ck_assert_msg(code == 200, "a request sent 100 ms after TERM, on a connection accepted "
                  "before it, should be answered; got %d.  Master's log:\n%s", code, master_log());
    ck_assert_msg(stop_master(0) == 0, "the master should exit 0 once its workers are done");
}
END_TEST

/* Five reloads while LOADERS clients keep asking (keep-alive and not):
 * no request fails, and every worker is new at the end.  Each HUP comes
 * after 1 s of load on the generation before, once its reload is over
 * (every worker replaced): about 6 s of load on an idle machine, where
 * the issue says 10 s; the point is five reloads under load, not the
 * clock.  (Keep-alive clients retry a request that met a closing idle
 * connection, as HTTP clients do: the failure message counts them.  On
 * an idle machine there are none: chapter 11's stop gives an answered
 * connection 0.1 s for a next request already on its way.) */
static void five_hups_under_load(void)
{
    start_master();
    pid_t first[16], prev[16], cur[16];
    ck_assert_msg(wait_workers(first, WORKERS), "the master should have %d workers", WORKERS);
    memcpy(prev, first, sizeof first);
    load_start();
    int reloads = 0;
    for (int hup = 0; hup < 5; hup++) {
        kit_nap(1.0);               /* load on this generation */
        kill(master, SIGHUP);
        double end = green_now() + T;
        int fresh = 0;
        while (!fresh && green_now() < end) {
            kit_nap(0.05);
            int n = kit_children(master, cur, 16);
            fresh = n == WORKERS;
            for (int i = 0; i < n; i++)
                fresh = fresh && !kit_pid_in(prev, WORKERS, cur[i]);
        }
        if (!fresh)
            break;
        reloads++;
        memcpy(prev, cur, sizeof cur);
    }
    kit_nap(0.3);
    load_end();
    ck_assert_msg(reloads == 5, "each HUP should replace every worker within %.0f s; reload %d "
                  "did not.  Master's log:\n%s", T, reloads + 1, master_log());
    ck_assert_msg(load_failed == 0, "%d of %d requests failed during 5 reloads (keep-alive "
                  "retries: %d).  Master's log:\n%s", (int)load_failed,
                  load_ok + load_failed, (int)load_retries, master_log());
    ck_assert_msg(load_ok >= 50, "only %d requests were answered in the whole test",
                  (int)load_ok);
    for (int i = 0; i < WORKERS; i++)
        ck_assert_msg(!kit_pid_in(first, WORKERS, cur[i]), "worker %ld survived 5 reloads",
                      (long)cur[i]);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}

START_TEST(test_five_hups_under_load)
{
    five_hups_under_load();
}
END_TEST

/* The same with a socket per worker: a new worker takes its seat's
 * socket before the old one lets it go, so no queued client is reset. */
START_TEST(test_five_hups_under_load_reuseport)
{
    popt.reuseport = 1;
    five_hups_under_load();
}
END_TEST

/* Send `request` on a new connection and let a worker read it. */
static int in_flight(const char *request)
{
    int fd = kit_dial(port, T);
    ck_assert_msg(fd >= 0, "cannot connect to the master's port");
    ck_assert(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
    double end = green_now() + T;
    while (backlog() > 0 && green_now() < end)
        kit_nap(0.01);
    kit_nap(0.2);                   /* the worker reads it and starts on it */
    return fd;
}

/* INT and QUIT stop at once: a /sleep in flight is cut, and the master
 * exits 0 long before it would have ended.  (On an idle machine the
 * master is gone within 0.1 s; the bound here is the sleep's 8 s, so that
 * a loaded machine cannot fail the test.) */
static void stops_at_once(int signum)
{
    start_master();
    int fd = in_flight("GET /sleep?ms=8000 HTTP/1.0\r\n\r\n");
    double t0 = green_now();
    kill(master, signum);
    char buf[1024];
    int code = kit_read_response(fd, buf, sizeof buf);
    close(fd);
    int status = stop_master(0);
    double took = green_now() - t0;
    ck_assert_msg(code != 200, "after %s, a /sleep?ms=8000 in flight should be cut, "
                  "got %d", strsignal(signum), code);
    ck_assert_msg(status == 0, "after %s the master should exit 0, got %d",
                  strsignal(signum), status);
    ck_assert_msg(took < 7.0, "after %s the master took %.1f s to exit: it should not wait "
                  "for the requests in flight", strsignal(signum), took);
}

START_TEST(test_int_stops_at_once)
{
    stops_at_once(SIGINT);
}
END_TEST

START_TEST(test_quit_stops_at_once)
{
    stops_at_once(SIGQUIT);
}
END_TEST

/* TERM lets a request finish within the grace period, not forever: a
 * worker whose hub computes without yielding never even sees its TERM,
 * and the master SIGKILLs it once the grace (1 s here) is over. */
/* The request computes for 30 s: far longer than any stall of a loaded
 * machine under Valgrind (an 8 s one was once seen to end before the
 * master's SIGKILL landed).  On an idle machine the master kills at 2 s. */
START_TEST(test_term_grace_expires)
{
    popt.grace = 1;
    start_master();
    int fd = in_flight("GET /cpu?ms=30000 HTTP/1.0\r\n\r\n");
    double t0 = green_now();
    kill(master, SIGTERM);
    char buf[1024];
    int code = kit_read_response(fd, buf, sizeof buf);
    close(fd);
    int status = stop_master(0);
    double took = green_now() - t0;
    ck_assert_msg(code != 200, "a /cpu?ms=30000 outliving a 1 s grace should be cut, got %d",
                  code);
    ck_assert_msg(status == 0, "the master should exit 0 after the SIGKILL, got %d", status);
    ck_assert_msg(took < 20.0, "the master waited %.1f s: past the grace it should SIGKILL", took);
    ck_assert_msg(strstr(master_log(), "after the grace period: SIGKILL"),
                  "the master should say it SIGKILLs a worker past its grace; log:\n%s",
                  master_log());
}
END_TEST

/* TTIN: one worker more; TTOU: one fewer (never fewer than one). */
START_TEST(test_ttin_ttou)
{
    start_master();
    pid_t w[16];
    ck_assert_msg(wait_workers(w, WORKERS), "the master should start with %d workers", WORKERS);
    kill(master, SIGTTIN);
    ck_assert_msg(wait_workers(w, WORKERS + 1), "after TTIN, expected %d workers", WORKERS + 1);
    for (int i = 0; i < WORKERS + 1; i++) {
        kill(master, SIGTTOU);
        kit_nap(0.1);
    }
    ck_assert_msg(wait_workers(w, 1), "after %d TTOU, expected 1 worker (never 0); log:\n%s",
                  WORKERS + 1, master_log());
    ck_assert_msg(get_pid() == w[0], "the last worker should answer /pid");
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

/* post_fork runs in each worker, once, before it accepts: a worker's own
 * setup (chapter 13 connects each worker to Redis there). */
static void say_post_fork(void *arg)
{
    fprintf(stderr, "post_fork %ld %s\n", (long)getpid(), (const char *)arg);
}

START_TEST(test_post_fork_runs_in_each_worker)
{
    popt.post_fork = say_post_fork;
    popt.post_fork_arg = "ran";
    start_master();
    pid_t w[16];
    ck_assert_msg(wait_workers(w, WORKERS), "the master should start with %d workers", WORKERS);
    double end = green_now() + T;
    while (count_of(master_log(), "post_fork") < WORKERS && green_now() < end)
        kit_nap(0.05);
    for (int i = 0; i < WORKERS; i++) {
        char line[64];
        snprintf(line, sizeof line, "post_fork %ld ran\n", (long)w[i]);
        ck_assert_msg(count_of(master_log(), line) == 1, "worker %ld should have called "
                      "post_fork(arg) once; log:\n%s", (long)w[i], master_log());
    }
    ck_assert_msg(count_of(master_log(), "post_fork") == WORKERS, "post_fork should run in "
                  "the workers only, once each; log:\n%s", master_log());
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

/* Workers that die as soon as they start are restarted ever more slowly,
 * and the master says so once, not once per death. */
START_TEST(test_backoff_said_once)
{
    workers_cannot_start = 1;
    start_master();
    double end = green_now() + 3 * T;
    while (count_of(master_log(), "cannot start") < 6 && green_now() < end)
        kit_nap(0.05);
    const char *log = master_log();
    int deaths = count_of(log, "cannot start");
    ck_assert_msg(deaths >= 6, "6 workers should have died at start, %d did; log:\n%s",
                  deaths, log);
    ck_assert_msg(count_of(log, "keep dying") == 1, "\"keep dying\" should be said once "
                  "for %d deaths, was said %d times; log:\n%s", deaths,
                  count_of(log, "keep dying"), log);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

/* A worker killed during load: only the requests it had in flight fail
 * (at most one per client, each started before it died), and a new
 * connection is served at once by the others. */
START_TEST(test_sigkill_under_load)
{
    start_master();
    pid_t w[16];
    ck_assert_msg(wait_workers(w, WORKERS), "the master should have %d workers", WORKERS);
    load_start();
    kit_nap(0.5);
    pid_t victim = w[0];
    kill(victim, SIGKILL);
    double end = green_now() + T, dead_at = 0;
    while (!dead_at && green_now() < end) {
        pid_t live[16];
        if (!kit_pid_in(live, kit_children(master, live, 16), victim))
            dead_at = green_now();    /* gone, or a zombie: it serves no more */
        else
            kit_nap(0.005);
    }
    pthread_mutex_lock(&load_lock);
    load_mark = dead_at;
    pthread_mutex_unlock(&load_lock);
    kit_nap(1.0);
    load_end();
    ck_assert_msg(dead_at > 0, "worker %ld did not die of SIGKILL", (long)victim);
    int lost = load_failed + load_retries;
    ck_assert_msg(lost <= LOADERS, "%d requests failed (%d retried over keep-alive) when one "
                  "worker was killed; at most %d were in flight on it", (int)load_failed,
                  (int)load_retries, LOADERS);
    for (int i = 0; i < load_failed && i < 64; i++)
        ck_assert_msg(failed_started[i] < dead_at, "a request started %.3f s after the worker "
                      "died failed: only those in flight on it may", failed_started[i] - dead_at);
    ck_assert_msg(load_first_ok_after > 0 && load_first_ok_after - dead_at < 1.0,
                  "a request started after the death should be answered within 1 s by the "
                  "other worker (%s)", load_first_ok_after > 0 ? "it took longer" : "none was");
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

/* --reuseport: a socket per worker.  Both workers serve (the kernel
 * hashes new connections among their sockets), none is woken for a
 * connection another takes, the master reports each one's count at the
 * stop, and a second master on the same port is refused rather than
 * silently joining the group. */
START_TEST(test_reuseport)
{
    popt.reuseport = 1;
    start_master();
    pid_t seen[WORKERS] = { 0 };
    int nseen = 0, requests = 0;
    double end = green_now() + T;
    while ((nseen < WORKERS || requests < 40) && green_now() < end) {
        pid_t pid = get_pid();
        ck_assert_msg(pid > 0, "GET /pid failed with --reuseport");
        requests++;
        if (!kit_pid_in(seen, nseen, pid))
            seen[nseen++] = pid;
    }
    ck_assert_msg(nseen == WORKERS, "with --reuseport, %d workers should answer, %d did "
                  "in %d requests", WORKERS, nseen, requests);

    /* Same user, same port, SO_REUSEPORT too: the kernel would let it in. */
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    green_http_server_t *http = green_http_server_new("127.0.0.1", p, &demo_app, NULL);
    green_prefork_options_t opt = { .workers = 1, .reuseport = 1 };
    green_prefork_t *second = green_prefork_new(green_http_server_core(http), &opt);
    struct kit_capture cap;
    char err[512];
    kit_capture_start(&cap);
    int rc = green_prefork_listen(second);
    int why = errno;
    kit_capture_end(&cap, err, sizeof err);
    green_prefork_free(second);
    green_http_server_free(http);
    ck_assert_msg(rc < 0 && why == EADDRINUSE, "a second master with --reuseport on a port "
                  "in use should be refused (EADDRINUSE), got %d (%s)", rc, strerror(why));
    ck_assert_msg(strstr(err, "already has a listener"), "the refusal should say why; "
                  "stderr:\n%s", err);

    ck_assert_int_eq(stop_master(SIGTERM), 0);
    const char *log = master_log();
    int total = 0;
    for (int i = 0; i < WORKERS; i++) {
        char line[96];
        snprintf(line, sizeof line, "worker %ld served requests: ", (long)seen[i]);
        const char *at = strstr(log, line);
        ck_assert_msg(at, "the master should report worker %ld's count; log:\n%s",
                      (long)seen[i], log);
        unsigned long n, empty;
        ck_assert(sscanf(at + strlen(line), "%lu (wake-ups for nothing: %lu", &n, &empty) == 2);
        ck_assert_msg(empty == 0, "with a socket of its own, worker %ld should never wake "
                      "for nothing, did %lu times", (long)seen[i], empty);
        total += (int)n;
    }
    ck_assert_msg(total == requests, "the workers' counts add up to %d, the test made %d "
                  "requests; log:\n%s", total, requests, log);
}
END_TEST

/* --max-requests 10 (jitter 5): workers retire and are replaced, one at
 * a time, and no request fails meanwhile. */
START_TEST(test_max_requests)
{
    popt.max_requests = 10;
    popt.max_requests_jitter = 5;
    start_master();
    pid_t seen[128];
    int nseen = 0, failed = 0, requests = 0;
    double end = green_now() + T;
    /* 100 requests at least, and on until a replacement answers: the
     * master retires a worker a moment after it has served its count. */
    while ((requests < 100 || nseen < 3) && green_now() < end && nseen < 128) {
        pid_t pid = get_pid();
        requests++;
        failed += pid <= 0;
        if (pid > 0 && !kit_pid_in(seen, nseen, pid))
            seen[nseen++] = pid;
    }
    ck_assert_msg(failed == 0, "%d of %d requests failed while workers retired; log:\n%s",
                  failed, requests, master_log());
    ck_assert_msg(nseen >= 3, "with --max-requests 10, 100 requests should meet several "
                  "workers (retired and replaced), met %d; log:\n%s", nseen, master_log());
    ck_assert_msg(strstr(master_log(), "served its max_requests"), "the master should say "
                  "when it retires a worker; log:\n%s", master_log());
    ck_assert_int_eq(stop_master(SIGTERM), 0);
}
END_TEST

/* Does the file at path hold `text`? */
static int file_has(const char *path, const char *text)
{
    char buf[8192];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 && strstr(buf, text) != NULL;
}

/* USR1 after a rotation (the log renamed away): the workers open the
 * path anew, and the next requests are logged in the new file.  (The
 * access log is written once a second: the test waits for the line.) */
START_TEST(test_usr1_reopens_the_access_log)
{
    char path[64], rotated[80];
    snprintf(path, sizeof path, "/tmp/kit-prefork-access-%ld", (long)getpid());
    snprintf(rotated, sizeof rotated, "%s.1", path);
    unlink(path);
    access_log = path;
    start_master();
    ck_assert_msg(get_pid() > 0, "GET /pid failed");
    double end = green_now() + T;
    while (!file_has(path, "GET /pid") && green_now() < end)
        kit_nap(0.1);
    ck_assert_msg(file_has(path, "GET /pid"), "the access log %s should have a line", path);
    ck_assert(rename(path, rotated) == 0);
    kill(master, SIGUSR1);
    end = green_now() + T;
    while (!file_has(path, "GET /pid?after") && green_now() < end) {
        char body[64];
        get("/pid?after", body, sizeof body);
        kit_nap(0.3);
    }
    int found = file_has(path, "GET /pid?after");
    ck_assert_int_eq(stop_master(SIGTERM), 0);
    unlink(path);
    unlink(rotated);
    ck_assert_msg(found, "after a rename and USR1, requests should be logged in a new %s; "
                  "log:\n%s", path, master_log());
}
END_TEST

/* Each message says who speaks: "master PID" or "worker PID". */
START_TEST(test_messages_name_the_process)
{
    start_master();
    pid_t w[WORKERS];           /* ready: a worker TERMed before it is says nothing */
    ck_assert_msg(answering(w) == WORKERS, "expected %d workers to answer /pid", WORKERS);
    ck_assert_int_eq(stop_master(SIGTERM), 0);
    const char *log = master_log();
    char line[96];
    snprintf(line, sizeof line, "master %ld: stopping gracefully", (long)master);
    ck_assert_msg(strstr(log, line), "expected \"%s\" in the log:\n%s", line, log);
    for (int i = 0; i < WORKERS; i++) {
        snprintf(line, sizeof line, "worker %ld 127.0.0.1:%d: caught SIGTERM", (long)w[i], port);
        ck_assert_msg(strstr(log, line), "expected \"%s\" in the log:\n%s", line, log);
    }
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

static void remove_log(void)
{
    if (log_path[0])
        unlink(log_path);
}

static Suite *prefork_suite(void)
{
    Suite *s = suite_create("lib/prefork");
    TCase *tc = kit_tcase("prefork");
    tcase_set_timeout(tc, 4 * T);
    tcase_add_checked_fixture(tc, NULL, remove_log);
    tcase_add_test(tc, test_bad_worker_counts);
    if (kit_can_fork()) {
        tcase_add_test(tc, test_workers_answer);
        tcase_add_test(tc, test_killed_worker_is_replaced);
        tcase_add_test(tc, test_term_finishes_in_flight);
        tcase_add_test(tc, test_hup_replaces_every_worker);
        tcase_add_test(tc, test_term_answers_a_late_first_request);
        tcase_add_test(tc, test_five_hups_under_load);
        tcase_add_test(tc, test_five_hups_under_load_reuseport);
        tcase_add_test(tc, test_int_stops_at_once);
        tcase_add_test(tc, test_quit_stops_at_once);
        tcase_add_test(tc, test_term_grace_expires);
        tcase_add_test(tc, test_ttin_ttou);
    tcase_add_test(tc, test_post_fork_runs_in_each_worker);
        tcase_add_test(tc, test_backoff_said_once);
        tcase_add_test(tc, test_sigkill_under_load);
        tcase_add_test(tc, test_reuseport);
        tcase_add_test(tc, test_max_requests);
        tcase_add_test(tc, test_usr1_reopens_the_access_log);
        tcase_add_test(tc, test_messages_name_the_process);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return kit_run_suite(prefork_suite());
}

/* Tests of exercise 12-prefork/reload: new workers first, then the old stop. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "reload.h"

#define MASTER KIT_LESSON("chapters/12-prefork/README.md", "What the master does (`lib/12-prefork/prefork.c`)")
#define EXERCISE KIT_LESSON("chapters/12-prefork/README.md", "Exercise: reload")

#define MAXW 64

/* ---- The workers (forked by the spawn callback) ---------------------------
 * Each one takes STARTUP seconds to start (a real server loads its code
 * and configuration), marks itself ready in memory shared with the test,
 * writes its pid to ready_fd, then answers /pid on the test's listening
 * socket until SIGTERM, finishing the connection it serves.  A worker is
 * forked while the client thread runs, so it calls only what is safe
 * after fork() in a threaded process: system calls, no malloc, no stdio. */

struct shared {
    int ready[MAXW];            /* worker k said it accepts */
};

static struct shared *sh;       /* MAP_SHARED: the workers write it */
static int listen_fd = -1;
static int port;
static volatile sig_atomic_t terminated;

static double startup(void)
{
    return kit_valgrind() ? 1.5 : 0.3;
}

static void on_term(int signum)
{
    (void)signum;
    terminated = 1;
}

/* The decimal digits of v into buf; returns their length. */
static int digits(char *buf, long v)
{
    char tmp[24];
    int n = 0, len = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n > 0)
        buf[len++] = tmp[--n];
    return len;
}

static void serve_one(int c)
{
    char buf[1024];
    size_t len = 0;
    struct timeval tv = { 2, 0 };
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {                      /* read the head, up to its blank line */
        ssize_t n = read(c, buf + len, sizeof buf - len);
        if (n <= 0)
            return;
        len += (size_t)n;
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
            break;
        if (len == sizeof buf)
            return;
    }
    char body[24], out[128];
    int blen = digits(body, (long)getpid());
    static const char head[] = "HTTP/1.0 200 OK\r\nContent-Length: ";
    size_t o = 0;
    memcpy(out, head, sizeof head - 1);
    o = sizeof head - 1;
    o += (size_t)digits(out + o, blen);
    memcpy(out + o, "\r\n\r\n", 4);
    o += 4;
    memcpy(out + o, body, (size_t)blen);
    o += (size_t)blen;
    if (write(c, out, o) < 0) {
        /* the client went: nothing to do */
    }
}

static void worker_main(int k, int ready_fd, int mute)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);       /* never outlive the test */
    struct sigaction sa = { .sa_handler = on_term };    /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    /* TERM is held back except inside ppoll(): it ends the wait for a
     * connection, never a request being served. */
    sigset_t term, waiting;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &waiting);
    sigdelset(&waiting, SIGTERM);
    double s = startup();
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
    __atomic_store_n(&sh->ready[k], 1, __ATOMIC_SEQ_CST);
    if (!mute) {
        pid_t me = getpid();
        if (write(ready_fd, &me, sizeof me) < 0)
            _exit(2);
    }
    close(ready_fd);
    struct pollfd p = { listen_fd, POLLIN, 0 };
    while (!terminated) {
        if (ppoll(&p, 1, NULL, &waiting) <= 0)
            continue;                       /* EINTR: TERM, see the loop */
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0)
            continue;                       /* another worker took it */
        serve_one(c);
        close(c);
    }
    _exit(0);
}

/* ---- The callbacks, and what they log ------------------------------------ */

struct farm {
    int spawned;
    pid_t pids[MAXW];
    int mute;                   /* spawn number that never says it accepts */
    int first_new;              /* spawns from here on are the reload's */
    int n;                      /* workers: a reload spawns n new ones */
    int stops;
    pid_t stopped[MAXW];
    int stopped_early;          /* stops made before every new one accepted */
    char log[1024];             /* the events, in order */
};

static void log_event(struct farm *f, const char *fmt, long a, long b, long c)
{
    size_t len = strlen(f->log);
    if (len + 80 >= sizeof f->log)
        return;
    if (len > 0)
        len += (size_t)snprintf(f->log + len, sizeof f->log - len, ", ");
    snprintf(f->log + len, sizeof f->log - len, fmt, a, b, c);
}

/* The events so far, for a message. */
static const char *events(const struct farm *f)
{
    return f->log[0] ? f->log : "none (no spawn, no stop)";
}

static int ready_count(const struct farm *f)
{
    int n = 0;
    for (int k = f->first_new; k < f->spawned; k++)
        n += __atomic_load_n(&sh->ready[k], __ATOMIC_SEQ_CST);
    return n;
}

static pid_t spawn(int ready_fd, void *arg)
{
    struct farm *f = arg;
    ck_assert_msg(f->spawned < MAXW, "spawn was called more than %d times in one test; %s",
                  MAXW, EXERCISE);
    int k = f->spawned;
    pid_t pid = fork();
    if (pid == 0)
        worker_main(k, ready_fd, k == f->mute);
    if (pid < 0)
        return -1;
    f->pids[f->spawned++] = pid;
    log_event(f, "spawn %ld", (long)pid, 0, 0);
    return pid;
}

static int stop(pid_t pid, void *arg)
{
    struct farm *f = arg;
    int ready = ready_count(f), made = f->spawned - f->first_new;
    log_event(f, "stop %ld (new ones accepting: %ld of %ld)", (long)pid, ready, made);
    if (f->stops < MAXW)
        f->stopped[f->stops] = pid;
    f->stops++;
    if (made < f->n || ready < made)
        f->stopped_early++;
    return kill(pid, SIGTERM);
}

/* ---- Setup: a listening socket, and the first workers -------------------- */

static void setup(struct farm *f)
{
    memset(f, 0, sizeof *f);
    f->mute = -1;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(sh != MAP_FAILED, "test setup: mmap: %s", strerror(errno));
    memset(sh, 0, sizeof *sh);
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    ck_assert_msg(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                  listen(listen_fd, 128) == 0 &&
                  getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0,
                  "test setup: a listening socket on 127.0.0.1: %s", strerror(errno));
    port = ntohs(a.sin_port);
}

/* The test's own start of n workers (the way the master starts them). */
static void start_workers(struct farm *f, pid_t *workers, int n)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    for (int i = 0; i < n; i++) {
        workers[i] = spawn(fds[1], f);
        ck_assert_msg(workers[i] > 0, "test setup: fork: %s", strerror(errno));
    }
    close(fds[1]);
    for (int got = 0; got < n; got++) {
        pid_t pid;
        struct pollfd p = { fds[0], POLLIN, 0 };
        ck_assert_msg(poll(&p, 1, 20000) == 1 && read(fds[0], &pid, sizeof pid) == sizeof pid,
                      "test setup: the first workers did not start");
    }
    close(fds[0]);
    f->n = n;
    f->first_new = f->spawned;
    f->log[0] = '\0';
}

static void cleanup(struct farm *f)
{
    for (int i = 0; i < f->spawned; i++) {
        kill(f->pids[i], SIGKILL);
        waitpid(f->pids[i], NULL, 0);
    }
    close(listen_fd);
    munmap(sh, sizeof *sh);
}

/* ---- Over the wire ------------------------------------------------------- */

/* GET /pid: the pid of the worker that answered, or -1 with why. */
static long get_pid(char *why, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static const char req[] = "GET /pid HTTP/1.0\r\n\r\n";
    char buf[256];
    size_t len = 0;
    long pid = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        snprintf(why, size, "connect/send: %s", strerror(errno));
        goto out;
    }
    for (ssize_t n; len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0;)
        len += (size_t)n;
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (body == NULL || (pid = strtol(body + 4, NULL, 10)) <= 0) {
        snprintf(why, size, "%s", len ? "a response without a pid" : "no response (the connection "
                 "was closed or timed out)");
        pid = -1;
    }
out:
    close(fd);
    return pid;
}

/* A client that requests /pid in a loop, in a thread, and counts. */
struct client {
    pthread_t thread;
    int stop;
    int phase;                  /* r after reload r returned, 0 during one */
    int ok, failed;
    char why[128];              /* the first failure */
    long seen[8][16];           /* the pids that answered, by phase */
    int nseen[8];
};

static void note_pid(struct client *c, int phase, long pid)
{
    for (int i = 0; i < c->nseen[phase]; i++)
        if (c->seen[phase][i] == pid)
            return;
    if (c->nseen[phase] < 16)
        c->seen[phase][c->nseen[phase]++] = pid;
}

static void *client_loop(void *arg)
{
    struct client *c = arg;
    while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
        /* The phase is read BEFORE connecting: a phase-r request reaches
         * only the workers that reload r left, before the next began. */
        int phase = __atomic_load_n(&c->phase, __ATOMIC_SEQ_CST);
        char why[128];
        long pid = get_pid(why, sizeof why);
        if (pid < 0) {
            if (__atomic_fetch_add(&c->failed, 1, __ATOMIC_SEQ_CST) == 0)
                snprintf(c->why, sizeof c->why, "%s", why);
            continue;
        }
        note_pid(c, phase, pid);
        __atomic_fetch_add(&c->ok, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static int among(long pid, const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] == pid)
            return 1;
    return 0;
}

/* ---- The tests ----------------------------------------------------------- */

START_TEST(test_reload_order)
{
    struct farm f;
    pid_t workers[2], old[2];
    setup(&f);
    start_workers(&f, workers, 2);
    memcpy(old, workers, sizeof old);
    int rc = ex_reload(workers, 2, &(ex_reload_ops_t){ spawn, stop, &f }, 20.0);
    ck_assert_msg(rc == 0, "ex_reload should return 0, returned %d (%s); the events: %s; %s",
                  rc, kit_why(rc, errno), events(&f), EXERCISE);
    ck_assert_msg(f.spawned - f.first_new == 2, "a reload of 2 workers should spawn 2 new ones, "
                  "spawned %d; the events: %s; %s", f.spawned - f.first_new, events(&f), EXERCISE);
    ck_assert_msg(f.stops == 2 && among(f.stopped[0], old, 2) && among(f.stopped[1], old, 2) &&
                  f.stopped[0] != f.stopped[1],
                  "each of the 2 old workers (%ld, %ld) should be stopped once, and no new one; "
                  "the events: %s; %s", (long)old[0], (long)old[1], events(&f), EXERCISE);
    ck_assert_msg(f.stopped_early == 0, "the old workers must stop only once EVERY new one "
                  "accepts (it wrote its pid to ready_fd): %d stop(s) came too early; the "
                  "events: %s; %s", f.stopped_early, events(&f), MASTER);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(among(workers[i], f.pids + f.first_new, 2) && workers[0] != workers[1],
                      "workers[] should hold the 2 new pids, holds %ld and %ld; the events: %s; %s",
                      (long)workers[0], (long)workers[1], events(&f), EXERCISE);
        errno = 0;
        ck_assert_msg(kill(old[i], 0) == -1 && errno == ESRCH, "old worker %ld is still there "
                      "(running, or a zombie) after ex_reload returned: stop it, then waitpid "
                      "it; %s", (long)old[i], EXERCISE);
    }
    char why[128];
    for (int i = 0; i < 4; i++) {
        long pid = get_pid(why, sizeof why);
        ck_assert_msg(pid > 0 && among(pid, workers, 2), "after the reload, /pid should be "
                      "answered by a new worker (%ld or %ld), got %ld (%s); %s", (long)workers[0],
                      (long)workers[1], pid, pid > 0 ? "an old one" : why, EXERCISE);
    }
    cleanup(&f);
}
END_TEST

/* The descriptors this process has open. */
static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

START_TEST(test_reload_closes_its_pipe)
{
    struct farm f;
    pid_t workers[2];
    setup(&f);
    start_workers(&f, workers, 2);
    int before = open_fds();
    int rc = ex_reload(workers, 2, &(ex_reload_ops_t){ spawn, stop, &f }, 20.0);
    int after = open_fds();
    ck_assert_msg(rc == 0, "ex_reload should return 0, returned %d (%s); %s",
                  rc, kit_why(rc, errno), EXERCISE);
    ck_assert_msg(after == before, "ex_reload left %d file descriptor(s) open: close both "
                  "ends of the pipe (a master reloads again and again); %s",
                  after - before, EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_reload_under_load)
{
    struct farm f;
    pid_t workers[2], first[2];
    setup(&f);
    start_workers(&f, workers, 2);
    memcpy(first, workers, sizeof first);
    struct client c = { 0 };
    ck_assert_int_eq(pthread_create(&c.thread, NULL, client_loop, &c), 0);
    int reloads = kit_valgrind() ? 1 : 3;
    pid_t after[3][2];
    for (int r = 1; r <= reloads; r++) {
        f.first_new = f.spawned;
        /* Phase 0: a reload runs, and old and new workers both answer. */
        __atomic_store_n(&c.phase, 0, __ATOMIC_SEQ_CST);
        int rc = ex_reload(workers, 2, &(ex_reload_ops_t){ spawn, stop, &f }, 20.0);
        ck_assert_msg(rc == 0, "reload %d of %d: ex_reload should return 0, returned %d (%s); "
                      "the events: %s; %s", r, reloads, rc, kit_why(rc, errno), events(&f), EXERCISE);
        memcpy(after[r - 1], workers, sizeof workers);
        __atomic_store_n(&c.phase, r, __ATOMIC_SEQ_CST);
        /* Some answers in this phase before the next reload: an event, not
         * a time (20 s is only there to end a broken run). */
        double t0 = green_now();
        int ok0 = __atomic_load_n(&c.ok, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&c.ok, __ATOMIC_SEQ_CST) < ok0 + 3 && green_now() - t0 < 20)
            usleep(10000);
    }
    __atomic_store_n(&c.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(c.thread, NULL);
    ck_assert_msg(c.failed == 0, "%d of %d requests failed during %d reload(s) (the first: %s): "
                  "a reload must not refuse or cut a request; %s", c.failed, c.ok + c.failed,
                  reloads, c.why, MASTER);
    ck_assert_msg(c.ok > 0, "the client got no answer at all during the reloads; %s", EXERCISE);
    for (int r = 1; r <= reloads; r++)
        for (int i = 0; i < c.nseen[r]; i++)
            ck_assert_msg(among(c.seen[r][i], after[r - 1], 2), "after reload %d, /pid was "
                          "answered by %ld, not one of the new workers (%ld, %ld): the old "
                          "ones must be gone when ex_reload returns; %s", r, c.seen[r][i],
                          (long)after[r - 1][0], (long)after[r - 1][1], EXERCISE);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(!among(workers[i], first, 2), "every worker pid should have changed; "
                      "%ld is still there; %s", (long)workers[i], EXERCISE);
    cleanup(&f);
}
END_TEST

START_TEST(test_reload_rollback)
{
    struct farm f;
    pid_t workers[2], old[2];
    setup(&f);
    start_workers(&f, workers, 2);
    memcpy(old, workers, sizeof old);
    f.mute = f.spawned + 1;         /* the second new one never says it accepts */
    double timeout = kit_valgrind() ? 5.0 : 1.0;
    double t0 = green_now();
    errno = 0;
    int rc = ex_reload(workers, 2, &(ex_reload_ops_t){ spawn, stop, &f }, timeout);
    double took = green_now() - t0;
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "a new worker that never says it accepts: "
                  "ex_reload should give up after the timeout (%.0f s) with -1 and ETIMEDOUT; "
                  "returned %d (%s) after %.1f s; the events: %s; %s", timeout, rc,
                  kit_why(rc, errno), took, events(&f), EXERCISE);
    ck_assert_msg(f.stops == 0 && workers[0] == old[0] && workers[1] == old[1],
                  "a failed reload leaves the old workers serving: no stop, workers[] "
                  "unchanged; the events: %s; %s", events(&f), EXERCISE);
    for (int k = f.first_new; k < f.spawned; k++) {
        errno = 0;
        ck_assert_msg(kill(f.pids[k], 0) == -1 && errno == ESRCH, "new worker %ld is still there "
                      "(running, or a zombie) after the failed reload: SIGKILL it, then "
                      "waitpid it; %s", (long)f.pids[k], EXERCISE);
    }
    char why[128];
    for (int i = 0; i < 4; i++) {
        long pid = get_pid(why, sizeof why);
        ck_assert_msg(pid > 0 && among(pid, old, 2), "after a failed reload, the old workers "
                      "(%ld, %ld) should still answer /pid, got %ld (%s); %s", (long)old[0],
                      (long)old[1], pid, pid > 0 ? "another pid" : why, EXERCISE);
    }
    cleanup(&f);
}
END_TEST

static Suite *reload_suite(void)
{
    Suite *s = suite_create("12-prefork/reload");
    TCase *tc = kit_tcase("reload");
    if (kit_can_fork()) {
        tcase_add_test(tc, test_reload_order);
        tcase_add_test(tc, test_reload_closes_its_pipe);
        tcase_add_test(tc, test_reload_under_load);
        tcase_add_test(tc, test_reload_rollback);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(reload_suite()); }

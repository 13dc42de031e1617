/*
 * prefork.c - chapter 12: the pre-fork master (prefork.h).
 *
 * The master is a loop around poll(), not a hub: it never serves, and it
 * must be able to fork at any time (a libevent base does not survive
 * fork).  Its whole work, each turn:
 *   1. wait in poll() for a signal, a worker saying "I accept", or the
 *      next timer (a back-off, a grace period that ends);
 *   2. act on the signals recorded since the last turn;
 *   3. reap the workers that exited (waitpid) and replace them;
 *   4. when reloading, stop the old workers once all the new ones accept.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "hub.h"
#include "prefork.h"
#include "prefork_heartbeat.h"

#define DEFAULT_GRACE 30.0
/* The heartbeat is on by default, as in gunicorn (its --timeout is 30 s):
 * a hub held for 30 s is a bug, never a slow request, since a request
 * that waits (a database, a /sleep) lets the hub turn. */
#define DEFAULT_TIMEOUT 30.0
#define HEARTBEAT_SLOTS (4 * GREEN_PREFORK_MAX_WORKERS)  /* reloads overlap */
#define FAST_DEATH 1.0          /* a worker dead this soon did not start */
#define MAX_BACKOFF 5.0         /* the longest wait before a restart */
#define SAY_BACKOFF_AFTER 3     /* fast deaths in a row before we say so */
#define QUICK_STOP 1.0          /* INT/QUIT: then SIGKILL */

struct worker {
    pid_t pid;                  /* 0: a free slot */
    unsigned gen;               /* the reload it belongs to */
    double born;
    int ready;                  /* said it accepts */
    int stopping;               /* we asked it to stop */
};

struct green_prefork {
    green_server_t *core;
    green_prefork_options_t opt;
    int target;                 /* workers to keep */
    struct worker *w;
    int nslots;
    unsigned gen;               /* HUP adds one */
    int sig[2];                 /* the self-pipe: handlers write here */
    int ready[2];               /* workers write their pid here */
    int stopping;               /* 0, SIGTERM, or SIGINT */
    double stop_deadline;       /* then SIGKILL what is left */
    int fast_deaths;            /* in a row: the back-off */
    double next_spawn;          /* not before (the back-off) */
    int said_backoff;
    green_heartbeat_t *hb;      /* NULL: no timeout (prefork_heartbeat.h) */
};

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "master %ld: ", (long)getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- Signals: a handler only records ---------------------------------- *
 * A signal arrives between any two instructions of the master: in the
 * middle of a fork, of a malloc, of the worker table's update.  A handler
 * that did the work (fork, kill, free) would find all of those half done,
 * and only async-signal-safe calls may be made in it anyway.  So the
 * handler writes the signal's number into a pipe, and the loop reads it
 * when it is between two steps: the self-pipe trick (D. J. Bernstein's).
 * Linux's signalfd would do as well, but it needs the signals blocked in
 * every thread, and a blocked mask is inherited across fork and exec: each
 * worker would have to unblock them, and a forgotten one would make it
 * deaf to TERM.  The pipe is POSIX and has neither trap. */
static int sig_write_fd = -1;
static const int handled[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN,
                               SIGTTOU, SIGCHLD };
#define NHANDLED (int)(sizeof handled / sizeof handled[0])

static void record_signal(int signum)
{
    int saved = errno;          /* the interrupted code may read it */
    unsigned char b = (unsigned char)signum;
    if (write(sig_write_fd, &b, 1) < 0) {
        /* A full pipe: signals enough are recorded already. */
    }
    errno = saved;
}

static int install_handlers(void)
{
    struct sigaction sa = { .sa_handler = record_signal };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int i = 0; i < NHANDLED; i++)
        if (sigaction(handled[i], &sa, NULL) < 0)
            return -1;
    return 0;
}

/* In a new worker: the master's handlers write to the master's pipe; the
 * worker wants the defaults back (its hub takes TERM itself). */
static void default_handlers(void)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &sa, NULL);
}

/* ---- Options ---------------------------------------------------------- */

int green_prefork_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > GREEN_PREFORK_MAX_WORKERS ? GREEN_PREFORK_MAX_WORKERS : (int)n;
}

int green_prefork_check_workers(long n)
{
    if (n < 1 || n > GREEN_PREFORK_MAX_WORKERS) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

green_prefork_t *green_prefork_new(green_server_t *core,
                                   const green_prefork_options_t *opt)
{
    green_prefork_options_t o = opt ? *opt : (green_prefork_options_t){ 0 };
    if (o.workers == 0)
        o.workers = green_prefork_cpus();
    if (core == NULL || green_prefork_check_workers(o.workers) < 0) {
        errno = EINVAL;
        return NULL;
    }
    if (o.grace == 0)
        o.grace = DEFAULT_GRACE;
    if (o.timeout == 0)
        o.timeout = DEFAULT_TIMEOUT;
    green_prefork_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->core = core;
    m->opt = o;
    m->target = o.workers;
    m->sig[0] = m->sig[1] = m->ready[0] = m->ready[1] = -1;
    return m;
}

int green_prefork_listen(green_prefork_t *m)
{
    return green_server_listen(m->core);
}

int green_prefork_workers(const green_prefork_t *m)
{
    return m->target;
}

/* ---- A worker's life (in the child) ----------------------------------- */

static void worker_main(green_prefork_t *m)
{
    default_handlers();
    close(m->sig[0]);
    close(m->sig[1]);
    close(m->ready[0]);
#ifdef __linux__
    /* A worker whose master died (SIGKILL, a crash) would serve forever,
     * unsupervised: the kernel sends it TERM when its parent goes. */
    pid_t master = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master)    /* it went before prctl */
        _exit(0);
#endif
    /* From here on, the server of chapters 7 and 11, on a hub of its own,
     * on the socket inherited from the master. */
    if (green_server_start(m->core) < 0) {
        fprintf(stderr, "worker %ld: cannot start: %s\n", (long)getpid(), strerror(errno));
        _exit(3);
    }
    green_heartbeat_start(m->hb);       /* prefork_heartbeat.h: says why on failure */
    /* TERM: stop accepting, finish in flight.  INT and QUIT keep their
     * default action: the process ends at once. */
    green_server_close_on_signal(m->core, SIGTERM);
    pid_t me = getpid();
    if (write(m->ready[1], &me, sizeof me) != sizeof me) {
        /* The master is gone: PDEATHSIG will stop us. */
    }
    close(m->ready[1]);
    green_server_serve_forever(m->core);
    int killed = green_server_stop(m->core, m->opt.grace);
    green_hub_destroy();
    /* _exit, not exit: the atexit handlers and stdio buffers are the
     * master's, copied by fork; they are not ours to run or flush. */
    _exit(killed < 0 ? 1 : 0);
}

/* ---- The master's worker table ---------------------------------------- */

static struct worker *free_slot(green_prefork_t *m)
{
    for (int i = 0; i < m->nslots; i++)
        if (m->w[i].pid == 0)
            return &m->w[i];
    int n = m->nslots ? 2 * m->nslots : 8;
    struct worker *w = realloc(m->w, (size_t)n * sizeof *w);
    if (w == NULL)
        return NULL;
    memset(w + m->nslots, 0, (size_t)(n - m->nslots) * sizeof *w);
    m->w = w;
    m->nslots = n;
    return free_slot(m);
}

static struct worker *find(green_prefork_t *m, pid_t pid)
{
    for (int i = 0; i < m->nslots; i++)
        if (m->w[i].pid == pid)
            return &m->w[i];
    return NULL;
}

static int spawn_worker(green_prefork_t *m)
{
    struct worker *w = free_slot(m);
    if (w == NULL)
        return -1;
    fflush(NULL);               /* else the child inherits unwritten output */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        worker_main(m);         /* never returns */
    *w = (struct worker){ .pid = pid, .gen = m->gen, .born = green_now() };
    return 0;
}

static void stop_worker(struct worker *w, int signum)
{
    if (!w->stopping || signum != SIGTERM)
        kill(w->pid, signum);
    w->stopping = 1;
}

/* Workers of the current generation that are meant to stay. */
static int current(green_prefork_t *m, int ready_only)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++) {
        struct worker *w = &m->w[i];
        if (w->pid && w->gen == m->gen && !w->stopping && (w->ready || !ready_only))
            n++;
    }
    return n;
}

static int alive(green_prefork_t *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        n += m->w[i].pid != 0;
    return n;
}

/* ---- Supervision ------------------------------------------------------ */

static void describe_exit(char *buf, size_t len, int status)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

/* A worker we did not ask to stop died: count it for the back-off.  A
 * worker that dies as soon as it starts (a bad port, a crash at start-up)
 * would otherwise be forked again at once, thousands of times a second,
 * with as many lines in the log: wait longer after each such death, and
 * say so once. */
static void died(green_prefork_t *m, struct worker *w, int status)
{
    double now = green_now();
    char how[96];
    describe_exit(how, sizeof how, status);
    if (now - w->born >= FAST_DEATH) {
        if (m->said_backoff)
            say("workers stay up again: restarting them at once");
        m->fast_deaths = 0;
        m->said_backoff = 0;
    } else {
        m->fast_deaths++;
    }
    if (m->fast_deaths >= SAY_BACKOFF_AFTER) {
        double wait = 0.1 * (double)(1u << (m->fast_deaths < 7 ? m->fast_deaths - 1 : 6));
        if (wait > MAX_BACKOFF)
            wait = MAX_BACKOFF;
        m->next_spawn = now + wait;
        if (!m->said_backoff)
            say("workers keep dying within %.0f s of starting (the last %s): "
                "restarting them with a back-off, up to %.0f s", FAST_DEATH, how,
                MAX_BACKOFF);
        m->said_backoff = 1;
        return;
    }
    say("worker %ld %s; starting another", (long)w->pid, how);
}

static void reap(green_prefork_t *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct worker *w = find(m, pid);
        if (w == NULL)
            continue;           /* not ours */
        if (!w->stopping && !m->stopping)
            died(m, w, status);
        green_heartbeat_forget(m->hb, pid);
        w->pid = 0;
    }
}

/* Workers that said they accept.  Once every worker of a reload does, the
 * older ones stop: in that order, the listening socket always has somebody
 * accepting, and no client is refused. */
static void read_ready(green_prefork_t *m)
{
    pid_t pid;
    while (read(m->ready[0], &pid, sizeof pid) == sizeof pid) {
        struct worker *w = find(m, pid);
        if (w)
            w->ready = 1;
    }
}

static void retire_old(green_prefork_t *m)
{
    if (m->stopping || current(m, 1) < m->target)
        return;
    for (int i = 0; i < m->nslots; i++) {
        struct worker *w = &m->w[i];
        if (w->pid && w->gen != m->gen && !w->stopping)
            stop_worker(w, SIGTERM);
    }
}

/* TTOU, or more workers than wanted: the newest go (they have the least
 * in flight, most likely). */
static void trim(green_prefork_t *m)
{
    while (current(m, 0) > m->target) {
        struct worker *newest = NULL;
        for (int i = 0; i < m->nslots; i++) {
            struct worker *w = &m->w[i];
            if (w->pid && w->gen == m->gen && !w->stopping &&
                (!newest || w->born > newest->born))
                newest = w;
        }
        stop_worker(newest, SIGTERM);
    }
}

static void fill(green_prefork_t *m)
{
    while (!m->stopping && current(m, 0) < m->target && green_now() >= m->next_spawn) {
        if (spawn_worker(m) < 0) {
            say("cannot fork a worker: %s; trying again in 1 s", strerror(errno));
            m->next_spawn = green_now() + 1.0;
            return;
        }
        if (m->fast_deaths >= SAY_BACKOFF_AFTER)
            return;             /* one at a time while they keep dying */
    }
}

static void begin_stop(green_prefork_t *m, int how)
{
    if (m->stopping == SIGINT)
        return;                 /* stopping at once already */
    m->stopping = how;
    double grace = how == SIGTERM ? m->opt.grace + 1.0 : QUICK_STOP;
    m->stop_deadline = green_now() + grace;
    say(how == SIGTERM ? "stopping gracefully (in flight: %.0f s)" : "stopping at once",
        m->opt.grace);
    for (int i = 0; i < m->nslots; i++)
        if (m->w[i].pid)
            stop_worker(&m->w[i], how);
}

static void on_signal(green_prefork_t *m, int signum)
{
    switch (signum) {
    case SIGTERM:
        begin_stop(m, SIGTERM);
        break;
    case SIGINT:
    case SIGQUIT:
        begin_stop(m, SIGINT);
        break;
    case SIGHUP:
        if (m->stopping)
            break;
        m->gen++;               /* fill() forks the new ones */
        say("reloading: %d new worker(s), then the old ones stop", m->target);
        break;
    case SIGTTIN:
        if (m->target < GREEN_PREFORK_MAX_WORKERS)
            m->target++;
        say("%d worker(s) wanted", m->target);
        break;
    case SIGTTOU:
        if (m->target > 1)
            m->target--;
        say("%d worker(s) wanted", m->target);
        break;
    default:                    /* SIGCHLD: reap() does it */
        break;
    }
}

static void read_signals(green_prefork_t *m)
{
    unsigned char b[64];
    ssize_t n;
    while ((n = read(m->sig[0], b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++)
            on_signal(m, b[i]);
}

/* How long poll() may sleep: until the next timer, or a second at most
 * (a lost wake-up then costs a second, never a hang). */
static int poll_timeout(green_prefork_t *m)
{
    double now = green_now(), t = 1.0;
    if (m->stopping && m->stop_deadline - now < t)
        t = m->stop_deadline - now;
    if (!m->stopping && current(m, 0) < m->target && m->next_spawn - now < t)
        t = m->next_spawn - now;
    if (green_heartbeat_interval(m->hb) < t)
        t = green_heartbeat_interval(m->hb);
    return t <= 0 ? 0 : (int)(t * 1000) + 1;
}

static int open_pipes(green_prefork_t *m)
{
    if (pipe2(m->sig, O_NONBLOCK | O_CLOEXEC) < 0 ||
        pipe2(m->ready, O_CLOEXEC) < 0)
        return -1;
    /* Only the master's end waits for nothing: a worker's write of its
     * pid (4 bytes, under PIPE_BUF: atomic) may block, never be cut. */
    fcntl(m->ready[0], F_SETFL, O_NONBLOCK);
    sig_write_fd = m->sig[1];
    return 0;
}

int green_prefork_run(green_prefork_t *m)
{
    if (green_server_port(m->core) < 0 && green_prefork_listen(m) < 0)
        return -1;
    if (open_pipes(m) < 0 || install_handlers() < 0)
        return -1;
    /* The heartbeat's shared memory, before the first fork shares it. */
    if (m->opt.timeout > 0 && m->hb == NULL &&
        (m->hb = green_heartbeat_new(m->opt.timeout, HEARTBEAT_SLOTS)) == NULL)
        return -1;
    say("%d worker(s) on %s", m->target, green_server_label(m->core));
    for (;;) {
        struct pollfd p[2] = { { m->sig[0], POLLIN, 0 }, { m->ready[0], POLLIN, 0 } };
        if (poll(p, 2, poll_timeout(m)) < 0 && errno != EINTR)
            return -1;
        read_signals(m);
        read_ready(m);
        reap(m);
        if (m->stopping) {
            if (alive(m) == 0)
                break;
            if (green_now() >= m->stop_deadline) {
                for (int i = 0; i < m->nslots; i++)
                    if (m->w[i].pid)
                        kill(m->w[i].pid, SIGKILL);
                m->stop_deadline = green_now() + 5.0;
            }
            continue;
        }
        fill(m);
        trim(m);
        retire_old(m);
        green_heartbeat_check(m->hb);   /* SIGKILLs the silent: reap() sees them */
    }
    say("every worker has exited");
    default_handlers();         /* nobody reads the pipe any more */
    return 0;
}

void green_prefork_free(green_prefork_t *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        if (m->sig[i] >= 0)
            close(m->sig[i]);
        if (m->ready[i] >= 0)
            close(m->ready[i]);
    }
    sig_write_fd = -1;
    green_heartbeat_free(m->hb);
    free(m->w);
    free(m);
}

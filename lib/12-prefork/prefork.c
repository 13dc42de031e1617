/*
 * prefork.c - chapter 12: the pre-fork master (prefork.h).
 *
 * The master is a loop around poll(), not a hub: it never serves, and it
 * must be able to fork at any time (a libevent base does not survive
 * fork).  Its whole work, each turn:
 *   1. wait in poll() for a signal, a worker's note ("I accept", "I
 *      served my max_requests", "I served N requests"), or the next
 *      timer (a back-off, a grace period that ends);
 *   2. act on the signals recorded since the last turn;
 *   3. reap the workers that exited (waitpid) and replace them;
 *   4. when reloading, stop the old workers once all the new ones accept;
 *   5. retire, one at a time, the workers that served max_requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "hub.h"
#include "io.h"
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
#define REUSEPORT_BACKLOG 1024  /* each seat's queue: the core's default */

struct worker {
    pid_t pid;                  /* 0: a free slot */
    int seat;                   /* 0..target-1: its place, and with
                                   reuseport its socket */
    unsigned gen;               /* the reload it belongs to */
    double born;
    int ready;                  /* said it accepts */
    int stopping;               /* we asked it to stop */
    int spent;                  /* served its max_requests: to retire */
};

struct green_prefork {
    green_server_t *core;
    green_prefork_options_t opt;
    int target;                 /* workers to keep */
    struct worker *w;
    int nslots;
    unsigned gen;               /* HUP adds one */
    int sig[2];                 /* the self-pipe: handlers write here */
    int ready[2];               /* workers write their notes here */
    int *seats;                 /* reuseport: each seat's socket, or -1 */
    int nseats;
    char host[64], port[16];    /* reuseport: where the seats listen */
    int stopping;               /* 0, SIGTERM, or SIGINT */
    double stop_deadline;       /* then SIGKILL what is left */
    int fast_deaths;            /* in a row: the back-off */
    double next_spawn;          /* not before (the back-off) */
    double backoff;             /* the wait between restarts, while they
                                   keep dying */
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
                               SIGTTOU, SIGUSR1, SIGCHLD };
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

int green_prefork_workers(const green_prefork_t *m)
{
    return m->target;
}

/* ---- Listening ------------------------------------------------------- *
 * Shared (the default): the master binds one socket and every worker
 * inherits it.  Every worker waits on it in its hub, so each new
 * connection wakes them all; one accept() gets it and the others find
 * nothing (counted by green_server_empty_accepts): the thundering herd.
 * Nor does the kernel balance: whoever is woken first and is not busy
 * takes the connection, so an idle machine's connections pile up on a
 * few workers.
 * Reuseport: one socket per worker on the same port, each with
 * SO_REUSEPORT; the kernel hashes each connection's addresses to one of
 * them.  No herd, and an even spread on average (though a hash does not
 * know which worker is busy).
 * The master binds them, one per seat, before forking, rather than each
 * worker binding its own.  A listening socket lives as long as its last
 * descriptor, and closing it resets the connections waiting in its queue:
 * held by the master, a seat's socket outlives its worker, so a worker
 * that dies or is replaced by a reload leaves its queue to the next one
 * in its seat, and no connection is reset.  (Linux 5.14 can migrate them
 * instead: net.ipv4.tcp_migrate_req, off by default.)  And a bad port is
 * one error at start, not one per worker.  What is left: TTOU closes a
 * seat, and resets the connections waiting in it at that moment. */

/* A socket bound to host:port; with `group`, SO_REUSEPORT and listening,
 * else just bound (a probe).  The fd, or -1 with errno. */
static int bind_port(const char *host, const char *port, int group)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        errno = rc == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
                    (group && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
                    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
                    (group && listen(fd, REUSEPORT_BACKLOG) < 0))) {
        int err = errno;
        close(fd);
        fd = -1;
        errno = err;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Any process of the same user that binds the port with SO_REUSEPORT
 * joins the group, and the kernel then hands it a share of our
 * connections: a second master started by mistake would serve half of
 * them, silently.  So before forming our group, bind the port without
 * SO_REUSEPORT: that fails if anybody listens on it.  (Two masters
 * starting at the very same moment could both pass; one is enough.) */
static int port_is_free(const char *host, const char *port)
{
    if (strcmp(port, "0") == 0)
        return 0;               /* the kernel picks a free one */
    int probe = bind_port(host, port, 0);
    if (probe < 0)
        return -1;
    close(probe);
    return 0;
}

/* The seat's socket, bound now if it has none (TTIN adds seats). */
static int open_seat(green_prefork_t *m, int seat)
{
    if (seat >= m->nseats) {
        int *s = realloc(m->seats, (size_t)(seat + 1) * sizeof *s);
        if (s == NULL)
            return -1;
        for (int i = m->nseats; i <= seat; i++)
            s[i] = -1;
        m->seats = s;
        m->nseats = seat + 1;
    }
    if (m->seats[seat] < 0)
        m->seats[seat] = bind_port(m->host, m->port, 1);
    return m->seats[seat] < 0 ? -1 : 0;
}

/* The host and port the core was made for, from its "HOST:PORT" label. */
static void core_address(green_prefork_t *m)
{
    const char *label = green_server_label(m->core), *colon = strrchr(label, ':');
    snprintf(m->host, sizeof m->host, "%.*s", colon ? (int)(colon - label) : 0, label);
    snprintf(m->port, sizeof m->port, "%s", colon ? colon + 1 : "0");
}

static int listen_reuseport(green_prefork_t *m)
{
    core_address(m);
    if (port_is_free(m->host, m->port) < 0) {
        if (errno == EADDRINUSE)
            say("port %s already has a listener: with --reuseport we would share its "
                "connections with it (SO_REUSEPORT); refusing", m->port);
        return -1;
    }
    if (open_seat(m, 0) < 0)
        return -1;
    /* Port 0: the kernel picked one for seat 0; the others join it. */
    snprintf(m->port, sizeof m->port, "%d", green_socket_port(m->seats[0]));
    for (int i = 1; i < m->target; i++)
        if (open_seat(m, i) < 0)
            return -1;
    /* The core holds a copy of seat 0, so that its port and label are
     * known in the master, as with a shared socket. */
    int copy = dup(m->seats[0]);
    return copy < 0 ? -1 : green_server_set_listener(m->core, copy);
}

int green_prefork_listen(green_prefork_t *m)
{
    return m->opt.reuseport ? listen_reuseport(m) : green_server_listen(m->core);
}

/* ---- A worker's life (in the child) ----------------------------------- */

/* What a worker tells its master on the pipe: "I accept" once it does,
 * "I have served my max_requests", and its counts when it exits.  A write
 * of at most PIPE_BUF bytes to a pipe is never cut nor mixed with another
 * writer's. */
enum { NOTE_READY, NOTE_SPENT, NOTE_EXITING };
struct note {
    pid_t pid;
    int what;                   /* NOTE_... */
    unsigned long requests;     /* requests (or connections) served */
    unsigned long empty;        /* accept()s that found nothing */
};

static void tell_master(green_prefork_t *m, int what)
{
    struct note n = { .pid = getpid(), .what = what };
    n.requests = m->opt.http ? green_http_server_requests(m->opt.http)
                             : green_server_accepted(m->core);
    n.empty = green_server_empty_accepts(m->core);
    if (write(m->ready[1], &n, sizeof n) != sizeof n) {
        /* The master is gone: PDEATHSIG will stop us. */
    }
}

/* max_requests: the worker does not retire by itself (the master could
 * not tell it from a crash, and all of them could go at once): it tells
 * the master, serves on, and the master stops it when its turn comes.
 * The count lives in chapter 11's server; looking at it 20 times a second
 * costs nothing and needs no hook in every request. */
static void *watch_requests(void *arg)
{
    green_prefork_t *m = arg;
    unsigned long jitter = m->opt.max_requests_jitter;
    srandom((unsigned)getpid() ^ (unsigned)(green_now() * 1e6));
    unsigned long limit = m->opt.max_requests + (jitter ? (unsigned long)random() % (jitter + 1) : 0);
    while (green_http_server_requests(m->opt.http) < limit)
        if (green_sleep(0.05) < 0)
            return NULL;        /* killed: we are stopping */
    tell_master(m, NOTE_SPENT);
    return NULL;
}

/* USR1: open the access log's path anew, onto the same descriptor
 * (dup2 swaps the file under it in one step, so the HTTP server writes on
 * without knowing).  After logrotate renamed the file, the lines go to a
 * new file of the old name. */
static void reopen_log(int signum, void *arg)
{
    (void)signum;
    green_prefork_t *m = arg;
    int fd = open(m->opt.access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, m->opt.access_log_fd) < 0)
        fprintf(stderr, "worker %ld: cannot reopen %s: %s\n", (long)getpid(),
                m->opt.access_log, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* The access log: reopened on USR1, and once now, in case the file was
 * renamed before this worker could hear a USR1 (the handler goes first,
 * so that no rename can fall between the two). */
static void watch_log(green_prefork_t *m, green_signal_t **signals)
{
    if (m->opt.access_log == NULL)
        return;
    green_signal_add(signals, SIGUSR1, reopen_log, m);
    reopen_log(SIGUSR1, m);
}

/* With reuseport, accept on our seat's socket only: the others' copies
 * would keep their sockets alive after the master closes them (TTOU). */
static void take_seat(green_prefork_t *m, int seat)
{
    if (!m->opt.reuseport)
        return;
    for (int i = 0; i < m->nseats; i++)
        if (i != seat && m->seats[i] >= 0)
            close(m->seats[i]);
    green_server_set_listener(m->core, m->seats[seat]);
}

/* Right after fork: drop what is the master's (its signal handlers, its
 * ends of the pipes), and make sure we do not outlive it. */
static void become_worker(green_prefork_t *m)
{
    static char name[32];       /* messages say which worker speaks */
    snprintf(name, sizeof name, "worker %ld", (long)getpid());
    green_server_set_name(m->core, name);
    default_handlers();
    /* A USR1 that comes before our hub handles it must not end us (its
     * default action): watch_log() opens the log anyway. */
    signal(SIGUSR1, SIG_IGN);
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
}

static void worker_main(green_prefork_t *m, int seat)
{
    become_worker(m);
    /* From here on, the server of chapters 7 and 11, on a hub of its own,
     * on the socket inherited from the master. */
    take_seat(m, seat);
    if (green_server_start(m->core) < 0) {
        fprintf(stderr, "worker %ld: cannot start: %s\n", (long)getpid(), strerror(errno));
        _exit(3);
    }
    green_heartbeat_start(m->hb);       /* prefork_heartbeat.h: says why on failure */
    /* become_worker set SIGQUIT back to the default: the dump (hub.h) is
     * what a worker does with it, so the master's log shows where a
     * worker it kills for a timeout was stuck (prefork_heartbeat.c). */
    green_dump_on_sigquit();
    /* TERM: stop accepting, finish in flight.  INT keeps its default
     * action: the process ends at once (the master's quick stop, on INT
     * or QUIT, sends its workers INT). */
    green_server_close_on_signal(m->core, SIGTERM);
    green_signal_t *signals = NULL;
    watch_log(m, &signals);
    green_t *watcher = m->opt.max_requests && m->opt.http
                       ? green_spawn(watch_requests, m) : NULL;
    if (m->opt.post_fork)
        m->opt.post_fork(m->opt.post_fork_arg);
    tell_master(m, NOTE_READY);
    green_server_serve_forever(m->core);
    if (watcher) {
        green_kill(watcher, 1.0);
        green_free(watcher);
    }
    int killed = green_server_stop(m->core, m->opt.grace);
    tell_master(m, NOTE_EXITING);
    green_signal_cancel_all(&signals);
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

/* The lowest seat no worker of the current generation holds. */
static int free_seat(green_prefork_t *m)
{
    for (int seat = 0;; seat++) {
        int taken = 0;
        for (int i = 0; i < m->nslots && !taken; i++) {
            struct worker *w = &m->w[i];
            taken = w->pid && w->seat == seat && w->gen == m->gen && !w->stopping;
        }
        if (!taken)
            return seat;
    }
}

static int spawn_worker(green_prefork_t *m)
{
    struct worker *w = free_slot(m);
    int seat = free_seat(m);
    if (w == NULL || (m->opt.reuseport && open_seat(m, seat) < 0))
        return -1;
    fflush(NULL);               /* else the child inherits unwritten output */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        worker_main(m, seat);   /* never returns */
    *w = (struct worker){ .pid = pid, .seat = seat, .gen = m->gen, .born = green_now() };
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
        m->backoff = wait;
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
    struct note n;
    while (read(m->ready[0], &n, sizeof n) == sizeof n) {
        struct worker *w = find(m, n.pid);
        if (w && n.what == NOTE_READY)
            w->ready = 1;
        if (w && n.what == NOTE_SPENT)
            w->spent = 1;
        if (n.what == NOTE_EXITING)
            say("worker %ld served %s: %lu (wake-ups for nothing: %lu)", (long)n.pid,
                m->opt.http ? "requests" : "connections", n.requests, n.empty);
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

/* Workers that served their max_requests retire one at a time: the next
 * one only once the last one has exited and its replacement accepts.
 * Stopping them all at once would leave nobody to accept. */
static void retire_spent(green_prefork_t *m)
{
    struct worker *next = NULL;
    for (int i = 0; i < m->nslots; i++) {
        struct worker *w = &m->w[i];
        if (w->pid && w->spent && w->stopping)
            return;             /* one is retiring already */
        if (w->pid && w->spent && !w->stopping && !next)
            next = w;
    }
    if (next && !m->stopping && current(m, 1) == m->target) {
        say("worker %ld served its max_requests: retiring it", (long)next->pid);
        stop_worker(next, SIGTERM);     /* fill() replaces it */
    }
}

/* USR1: every worker reopens the access log. */
static void forward(green_prefork_t *m, int signum)
{
    for (int i = 0; i < m->nslots; i++)
        if (m->w[i].pid)
            kill(m->w[i].pid, signum);
}

/* TTOU, or more workers than wanted: the one in the last seat goes, so
 * that the seats stay 0..target-1 (with reuseport, the seat's socket
 * closes with it: see "Listening"). */
static void trim(green_prefork_t *m)
{
    while (current(m, 0) > m->target) {
        struct worker *last = NULL;
        for (int i = 0; i < m->nslots; i++) {
            struct worker *w = &m->w[i];
            if (w->pid && w->gen == m->gen && !w->stopping &&
                (!last || w->seat > last->seat))
                last = w;
        }
        stop_worker(last, SIGTERM);
    }
    for (int i = m->target; i < m->nseats; i++)
        if (m->seats[i] >= 0) {
            close(m->seats[i]);
            m->seats[i] = -1;
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
        if (m->fast_deaths >= SAY_BACKOFF_AFTER) {
            /* One at a time while they keep dying: the next one waits
             * for the back-off too, unless this one lives. */
            m->next_spawn = green_now() + m->backoff;
            return;
        }
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

/* The grace period is over and some workers still run: one whose hub is
 * stuck (a handler computing without yielding) never even saw its TERM.
 * SIGKILL cannot be ignored; their requests in flight are lost. */
static void kill_the_rest(green_prefork_t *m)
{
    say("%d worker(s) still running after the grace period: SIGKILL", alive(m));
    for (int i = 0; i < m->nslots; i++)
        if (m->w[i].pid)
            kill(m->w[i].pid, SIGKILL);
    m->stop_deadline = green_now() + 5.0;
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
    case SIGUSR1:
        say("reopening the access log");
        forward(m, SIGUSR1);
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
     * note (under PIPE_BUF: atomic) may block, never be cut. */
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
            if (green_now() >= m->stop_deadline)
                kill_the_rest(m);
            continue;
        }
        fill(m);
        trim(m);
        retire_old(m);
        retire_spent(m);
        green_heartbeat_check(m->hb);   /* SIGKILLs the silent: reap() sees them */
    }
    read_ready(m);              /* the last ones' counts, written before
                                   they exited but maybe not read yet */
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
    for (int i = 0; i < m->nseats; i++)
        if (m->seats[i] >= 0)
            close(m->seats[i]);
    free(m->seats);
    sig_write_fd = -1;
    green_heartbeat_free(m->hb);
    free(m->w);
    free(m);
}

/*
 * server.c - chapter 7: StreamServer, a greenlet per connection.  See
 * server.h.
 *
 * Three kinds of greenlets:
 *   - the accept loop, one per server (accept_loop);
 *   - a handler greenlet per connection, spawned into the server's pool
 *     (handle: the user's handler, then close the socket);
 *   - whoever starts and stops the server (main, usually).
 * It is also the core of chapters 10 and 11: their servers take the
 * listening socket, the states, the signals, the back-off and the
 * graceful stop from here.  evhttp accepts by itself: for it, an
 * acceptor's callbacks stand in for the accept loop (see server.h).
 * The accept loop only ever waits in three places (the listening socket,
 * a back-off sleep, a full pool), and green_server_close() stops it by
 * setting `closing` and waking it wherever it waits: every wait is
 * followed by a look at `closing`.
 */
#include "server.h"
#include "io.h"
#include "sync.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* BSD's intrusive lists (glibc and libevent ship them): the connection
 * lists of this core and of chapter 11's server, unlinked in O(1) by one
 * well-known macro rather than by hand in each file. */
#include <sys/queue.h>
#include <sys/resource.h>
#include <unistd.h>

#define DEFAULT_BACKLOG 1024
/* Descriptors kept out of the default cap on connections: the listening
 * socket, the hub, log files, the files a handler opens (see
 * default_max_connections). */
#define FD_RESERVE 64
/* Back-off after running out of descriptors or memory: 10 ms, doubling
 * to 1 s.  Short enough to notice freed descriptors soon, long enough
 * that a server out of descriptors does not burn the CPU. */
#define BACKOFF_MIN 0.01
#define BACKOFF_MAX 1.0
/* Accept at most this many connections in a row before letting the new
 * handlers run (gevent's max_accept): the backlog of a burst is drained
 * in batches, and the first clients get answered meanwhile. */
#define ACCEPT_BATCH 100
/* At most one message about accept errors per this many seconds. */
#define LOG_EVERY 1.0
/* How long green_server_stop waits for killed handlers to unwind. */
#define KILL_GRACE 1.0

/* An accepted connection, from accept until its handler returns. */
struct conn {
    green_server_t *srv;
    int fd;
    int started;                /* the handler has begun */
    green_t *g;                 /* its greenlet (owned by the pool) */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    LIST_ENTRY(conn) link;      /* on srv->conns */
};

/* A run of accepts failing for want of descriptors or memory. */
struct burst {
    int failures;               /* in a row */
    double started;             /* when the first of them failed */
    double backoff;             /* the next sleep */
    int said;                   /* this burst has been reported */
    double said_at;             /* when a burst was last reported */
};

struct green_server {
    char *host, *port;
    char label[96];             /* "HOST:PORT", for messages */
    const char *name;           /* "server", or the acceptor's name */
    green_handler_fn_t handler;   /* accept loop's servers */
    void *arg;
    const green_server_hooks_t *hooks;  /* a server built on the core's */
    void *hooks_arg;
    int accepts_itself;         /* hooks->start stands in for accept_loop */
    green_server_options_t opt;
    int fd;                     /* the listening socket, or -1 */
    green_pool_t *pool;         /* the handlers, or the acceptor's work */
    green_t *acceptor;          /* the accept loop */
    green_event_t *closed;      /* set when it stops accepting */
    int started, closing, stopped;
    int acceptor_waits_for_slot;
    LIST_HEAD(, conn) conns;    /* accepted, handler not returned */
    unsigned long accepted;
    unsigned long empty_accepts;  /* woken, and nobody there */
    struct burst burst;
    unsigned long accept_errors;  /* for want of descriptors or memory */
    green_signal_t *signals;      /* close_on_signal's, on a list */
};

static void say(const green_server_t *srv, const char *fmt, ...)
{
    /* One line, one write: chapter 12's workers share stderr, and lines
     * written in pieces by two processes at once come out mixed. */
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s: %s\n", srv->name, srv->label, line);
}

/* ---- Connections ------------------------------------------------------ */

static void drop_conn(struct conn *c)
{
    close(c->fd);
    LIST_REMOVE(c, link);
    free(c);
}

/* What each handler greenlet runs. */
static void *handle(void *arg)
{
    struct conn *c = arg;
    green_server_t *srv = c->srv;
    c->started = 1;
    srv->handler(c->fd, (struct sockaddr *)&c->peer, c->peer_len, srv->arg);
    if (c->srv == NULL) {       /* the server was freed meanwhile */
        close(c->fd);
        free(c);
        return NULL;
    }
    drop_conn(c);
    /* A slot of the pool is free again (as soon as we return). */
    if (srv->acceptor_waits_for_slot)
        green_ready(srv->acceptor, NULL);
    return NULL;
}

/* Spawn a handler for a connection just accepted. */
static void start_handler(green_server_t *srv, int fd,
                          const struct sockaddr_storage *peer, socklen_t len)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        say(srv, "out of memory: connection dropped");
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    c->peer = *peer;
    c->peer_len = len;
    LIST_INSERT_HEAD(&srv->conns, c, link);
    srv->accepted++;

    /* Never waits: the accept loop only accepts when the pool has room. */
    c->g = green_pool_spawn(srv->pool, handle, c);
    if (c->g == NULL) {
        say(srv, "cannot spawn a handler (%s): connection dropped", strerror(errno));
        drop_conn(c);
        return;
    }
    /* "conn 127.0.0.1:40312" in green_dump() and deadlock reports. */
    char host[64], serv[16], name[96];  /* green_set_name keeps 31 */
    if (getnameinfo((const struct sockaddr *)peer, len, host, sizeof host, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        snprintf(name, sizeof name, "conn %s:%s", host, serv);
        green_set_name(c->g, name);
    }
}

/* ---- Accept errors ---------------------------------------------------- */

/* Errors that say "this one connection failed, the next may not": a
 * client that reset before we accepted it, a signal, and the network
 * errors Linux's accept(2) passes on from the new connection. */
static int retry_at_once(int err)
{
    return err == ECONNABORTED || err == EINTR || err == EPROTO
           || err == ENETDOWN || err == ENETUNREACH || err == EHOSTUNREACH
           || err == EHOSTDOWN || err == ENONET || err == ENOPROTOOPT
           || err == EOPNOTSUPP;
}

/* Errors that say "not now": out of descriptors (per process, EMFILE, or
 * system-wide, ENFILE) or kernel memory.  Retrying at once would fail
 * again at once, and the listening socket stays readable (the client is
 * still in the backlog), so waiting for it to be readable would not wait
 * at all: stop accepting for a while instead. */
static const char *resource_error(int err)
{
    switch (err) {
    case EMFILE:  return "EMFILE";
    case ENFILE:  return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM:  return "ENOMEM";
    default:      return NULL;
    }
}

/* accept failed with EMFILE & co.: report the burst (once, and at most
 * once a second: a server at its limit fails, recovers and fails again
 * all the time), and back off a little longer each time. */
static double back_off(green_server_t *srv, int err, const char *name)
{
    struct burst *b = &srv->burst;
    srv->accept_errors++;
    if (b->failures++ == 0)
        b->started = green_now();
    if (!b->said && green_now() - b->said_at >= LOG_EVERY) {
        say(srv, "accept: %s (%s); backing off, new clients wait in the backlog",
            strerror(err), name);
        b->said = 1;
        b->said_at = green_now();
    }
    b->backoff = b->backoff == 0 ? BACKOFF_MIN : b->backoff * 2;
    if (b->backoff > BACKOFF_MAX)
        b->backoff = BACKOFF_MAX;
    return b->backoff;
}

double green_server_accept_failed(green_server_t *srv, int err)
{
    const char *name = resource_error(err);
    if (retry_at_once(err))
        return 0;
    if (name != NULL)
        return back_off(srv, err, name);
    say(srv, "accept: %s; no longer accepting", strerror(err));
    return -1;
}

void green_server_accept_ok(green_server_t *srv)
{
    struct burst *b = &srv->burst;
    if (b->said)
        say(srv, "accepting again after %d failed accept(s) in %.2f s",
            b->failures, green_now() - b->started);
    b->failures = b->said = 0;
    b->backoff = 0;
}

/* Close the listening socket: new clients are refused from now on, and
 * those still in the backlog are reset by the kernel. */
static void stop_accepting(green_server_t *srv)
{
    srv->closing = 1;
    if (green_event_is_set(srv->closed))
        return;
    if (srv->hooks && srv->hooks->close && srv->started)
        srv->hooks->close(srv->hooks_arg);
    if (srv->fd >= 0)
        close(srv->fd);
    srv->fd = -1;
    if (srv->accept_errors)
        say(srv, "%lu accept(s) failed (out of descriptors or memory)",
            srv->accept_errors);
    green_event_set(srv->closed);
}

/* ---- The accept loop -------------------------------------------------- */

static void *accept_loop(void *arg)
{
    green_server_t *srv = arg;
    int batch = 0, rc = 0;
    int woken = 0;              /* the last wait said "readable" */

    while (!srv->closing && rc == 0) {
        /* A full pool: accept nothing until a handler returns. */
        if (green_pool_free_count(srv->pool) == 0) {
            srv->acceptor_waits_for_slot = 1;
            rc = green_hub_wait(GREEN_FOREVER);
            srv->acceptor_waits_for_slot = 0;
            woken = 0;
            continue;
        }
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(srv->fd, (struct sockaddr *)&peer, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            woken = 0;
            green_server_accept_ok(srv);
            start_handler(srv, fd, &peer, len);
            if (++batch == ACCEPT_BATCH) {   /* let the new handlers run */
                batch = 0;
                rc = green_sleep(0);
            }
            continue;
        }
        batch = 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            srv->empty_accepts += woken;    /* another process took it */
            rc = green_wait_read(srv->fd, GREEN_FOREVER);    /* nobody yet */
            woken = rc == 0;
            continue;
        }
        woken = 0;
        double pause = green_server_accept_failed(srv, errno);
        if (pause < 0)
            break;
        if (pause > 0)
            rc = green_sleep(pause);
    }
    stop_accepting(srv);
    return NULL;
}

/* ---- Life cycle ------------------------------------------------------- */

static green_server_t *server_new(const char *host, const char *port,
                                  const green_server_options_t *opt)
{
    green_server_t *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return NULL;
    srv->host = strdup(host ? host : "");
    srv->port = strdup(port ? port : "0");
    srv->closed = green_event_new();
    if (srv->host == NULL || srv->port == NULL || srv->closed == NULL) {
        green_server_free(srv);
        errno = ENOMEM;
        return NULL;
    }
    snprintf(srv->label, sizeof srv->label, "%s:%s", srv->host, srv->port);
    srv->name = "server";
    if (opt)
        srv->opt = *opt;
    if (srv->opt.backlog <= 0)
        srv->opt.backlog = DEFAULT_BACKLOG;
    srv->fd = -1;
    srv->burst.said_at = -LOG_EVERY;
    return srv;
}

green_server_t *green_server_new(const char *host, const char *port,
                                 green_handler_fn_t handler, void *arg,
                                 const green_server_options_t *opt)
{
    green_server_t *srv = server_new(host, port, opt);
    if (srv) {
        srv->handler = handler;
        srv->arg = arg;
    }
    return srv;
}

int green_server_set_hooks(green_server_t *srv, const green_server_hooks_t *hooks,
                           void *arg)
{
    if (srv->started) {
        errno = EBUSY;
        return -1;
    }
    srv->hooks = hooks;
    srv->hooks_arg = arg;
    srv->accepts_itself = hooks->start != NULL;
    if (hooks->name)
        srv->name = hooks->name;
    return 0;
}

/* The default cap on connections: what the descriptors allow, less
 * FD_RESERVE.  Past the cap the server stops accepting (clients wait in
 * the backlog) instead of running into EMFILE, and memory stays bounded:
 * each connection costs a greenlet and a buffer, and a flood of held
 * connections would otherwise take them until the descriptors ran out.
 * Read at start, not at new: a program may raise its limit in between. */
static int default_max_connections(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;               /* unknown: no cap, EMFILE backs off */
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
        rl.rlim_cur = INT_MAX;
    long room = (long)rl.rlim_cur - FD_RESERVE;
    return room < 1 ? 1 : (int)room;
}

/* Begin accepting on srv->fd: our accept loop, or the acceptor's. */
static int start_accepting(green_server_t *srv)
{
    if (srv->accepts_itself)
        return srv->hooks->start(srv->fd, srv->hooks_arg);
    srv->acceptor = green_spawn(accept_loop, srv);
    if (srv->acceptor == NULL)
        return -1;
    green_set_name(srv->acceptor, "accept loop");
    return 0;
}

int green_server_listen(green_server_t *srv)
{
    if (srv->started || srv->fd >= 0) {
        errno = EBUSY;
        return -1;
    }
    srv->fd = green_tcp_listen(srv->host, srv->port, srv->opt.backlog);
    if (srv->fd < 0)
        return -1;
    snprintf(srv->label, sizeof srv->label, "%s:%d", srv->host,
             green_socket_port(srv->fd));
    return 0;
}

int green_server_set_listener(green_server_t *srv, int fd)
{
    if (srv->started) {
        errno = EBUSY;
        return -1;
    }
    /* The accept loop tries accept() and waits on EAGAIN: on a blocking
     * socket, accept() would block the whole hub instead. */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    if (srv->fd >= 0 && srv->fd != fd)
        close(srv->fd);
    srv->fd = fd;
    snprintf(srv->label, sizeof srv->label, "%s:%d", srv->host,
             green_socket_port(srv->fd));
    return 0;
}

void green_server_set_name(green_server_t *srv, const char *name)
{
    srv->name = name;
}

int green_server_start(green_server_t *srv)
{
    if (srv->started) {
        errno = EBUSY;
        return -1;
    }
    /* Writing to a connection the client has closed raises SIGPIPE, whose
     * default action ends the process: sendfile() (chapter 11) and
     * evhttp's writev() (chapter 10: slowhttptest's slow-read attack
     * killed the server so, exit status 141) have no MSG_NOSIGNAL.
     * Servers ignore it, as Python does from the start, and read EPIPE. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    /* A server that accepts by itself spawns from callbacks: no cap. */
    int cap = srv->accepts_itself ? 0 : srv->opt.max_connections;
    if (cap == 0 && !srv->accepts_itself)
        cap = default_max_connections();
    srv->pool = green_pool_new(cap);
    if (srv->pool == NULL)
        return -1;
    if (srv->fd < 0 && green_server_listen(srv) < 0)
        goto err;
    if (start_accepting(srv) < 0)
        goto err;
    srv->started = 1;
    return 0;
err:;
    int err = errno;
    if (srv->fd >= 0)
        close(srv->fd);
    srv->fd = -1;
    green_pool_free(srv->pool);
    srv->pool = NULL;
    errno = err;
    return -1;
}

int green_server_port(const green_server_t *srv)
{
    return srv->fd >= 0 ? green_socket_port(srv->fd) : -1;
}

const char *green_server_label(const green_server_t *srv)
{
    return srv->label;
}

int green_server_serve_forever(green_server_t *srv)
{
    if (!srv->started && green_server_start(srv) != 0)
        return -1;
    return green_event_wait(srv->closed, GREEN_FOREVER);
}

void green_server_close(green_server_t *srv)
{
    if (srv->closing)
        return;
    srv->closing = 1;
    /* Our accept loop may be waiting on the socket: wake it, and it closes
     * the socket itself once its wait is over (closing a descriptor that
     * is still being waited on would leave libevent a stale event). */
    if (srv->acceptor && !green_dead(srv->acceptor))
        green_ready(srv->acceptor, NULL);
    else
        stop_accepting(srv);
}

green_server_state_t green_server_state(const green_server_t *srv)
{
    if (srv->stopped)
        return GREEN_SERVER_STOPPED;
    if (srv->closing)
        return GREEN_SERVER_CLOSING;
    return srv->started ? GREEN_SERVER_STARTED : GREEN_SERVER_NEW;
}

/* Is the caller one of our handlers? */
static int called_by_handler(const green_server_t *srv)
{
    const struct conn *c;
    LIST_FOREACH(c, &srv->conns, link)
        if (c->g == green_current())
            return 1;
    return 0;
}

/* Wait for the work within `grace` seconds, then kill what is left.
 * Returns how many were killed, or -1. */
static int finish_work(green_server_t *srv, double grace)
{
    if (green_pool_join(srv->pool, grace) == 0)
        return 0;
    if (errno != ETIMEDOUT)
        return -1;
    int killed = green_pool_size(srv->pool) - called_by_handler(srv);
    say(srv, "%d handler(s) still running after %.1f s: killing them",
        killed, grace);
    return green_pool_kill(srv->pool, KILL_GRACE) == 0 ? killed : -1;
}

int green_server_stop(green_server_t *srv, double grace)
{
    if (!srv->started || srv->stopped)
        return 0;
    green_server_close(srv);
    if (srv->acceptor && !green_dead(srv->acceptor) &&
        green_join(srv->acceptor, GREEN_FOREVER) != 0)
        return -1;
    int killed = finish_work(srv, grace);
    if (killed < 0)
        return -1;
    /* Handlers killed before they started never ran handle(): close their
     * sockets here. */
    for (struct conn *c = LIST_FIRST(&srv->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        if (!c->started)
            drop_conn(c);
    }
    if (srv->hooks && srv->hooks->stopped)
        srv->hooks->stopped(srv->hooks_arg);
    green_signal_cancel_all(&srv->signals);
    srv->stopped = 1;
    return killed;
}

green_t *green_server_spawn(green_server_t *srv, green_fn_t fn, void *arg)
{
    if (!srv->started || !srv->accepts_itself) {
        errno = EINVAL;
        return NULL;
    }
    return green_pool_spawn(srv->pool, fn, arg);
}

static void on_signal(int signum, void *arg)
{
    green_server_t *srv = arg;
    if (!srv->closing)
        say(srv, "caught %s: no longer accepting", green_signal_name(signum));
    green_server_close(srv);
}

int green_server_close_on_signal(green_server_t *srv, int signum)
{
    return green_signal_add(&srv->signals, signum, on_signal, srv);
}

int green_server_active(const green_server_t *srv)
{
    return srv->pool ? green_pool_size(srv->pool) : 0;
}

unsigned long green_server_accepted(const green_server_t *srv)
{
    return srv->accepted;
}

unsigned long green_server_empty_accepts(const green_server_t *srv)
{
    return srv->empty_accepts;
}

void green_server_free(green_server_t *srv)
{
    if (srv == NULL)
        return;
    if (green_hub_active()) {
        if (srv->started && !srv->stopped)
            green_server_stop(srv, 0);
        if (srv->acceptor) {
            green_kill(srv->acceptor, KILL_GRACE);  /* 0 at once: it is dead */
            green_free(srv->acceptor);
        }
        green_signal_cancel_all(&srv->signals);
    }
    /* After green_hub_destroy() the greenlets and events are gone with the
     * hub (the signal events' memory with them is lost: free servers
     * first); only our own records are left. */
    green_pool_free(srv->pool);
    while (!LIST_EMPTY(&srv->conns)) {
        struct conn *c = LIST_FIRST(&srv->conns);
        if (c->started && green_hub_active()) {
            /* A handler that ignored being killed: it closes its own
             * socket when it returns (see handle). */
            LIST_REMOVE(c, link);
            c->srv = NULL;
        } else {
            drop_conn(c);
        }
    }
    if (srv->fd >= 0)
        close(srv->fd);
    if (srv->closed)
        green_event_free(srv->closed);
    free(srv->host);
    free(srv->port);
    free(srv);
}

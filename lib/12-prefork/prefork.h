/*
 * prefork.h - chapter 12: a pre-fork master and its workers.
 *
 * One process runs one hub, and a hub runs on one core.  To use the
 * others, gunicorn (and nginx, and Apache before them) forks: a master
 * listens once, forks N workers that inherit the listening socket, and
 * each worker accepts on it and serves on its own hub.  The kernel hands
 * each new connection to one of the workers waiting in accept().
 *
 * The master never serves a request.  It supervises:
 *   - a worker that dies is replaced (with a back-off when they keep dying
 *     at once, said once, not once per death);
 *   - signals, as gunicorn's arbiter defines them:
 *       TERM       stop gracefully: workers stop accepting and finish their
 *                  requests in flight within `grace` seconds, then exit
 *       INT, QUIT  stop at once
 *       HUP        reload: new workers first, and once they all accept,
 *                  the old ones stop gracefully: no request fails
 *       TTIN/TTOU  one worker more / one fewer
 *       USR1       the workers reopen the access log (after a rotation)
 *   - a worker whose hub stops turning (a greenlet that never yields) is
 *     killed and replaced, once it has said which greenlet held it
 *     (`timeout`, prefork_heartbeat.h);
 *
 * Usage (chapters/12-prefork/server.c):
 *
 *     green_http_server_t *http = green_http_server_new(host, port, &app, NULL);
 *     green_prefork_t *m = green_prefork_new(green_http_server_core(http), NULL);
 *     green_prefork_listen(m);      (binds once: errors come out here)
 *     green_prefork_run(m);         (forks, supervises, until TERM/INT/QUIT)
 *
 * The server given must not be started, and no hub may run in the master
 * before green_prefork_run(): a libevent base does not survive fork()
 * (each worker makes its own hub, after the fork).
 *
 * Messages go to stderr, prefixed "master PID:" (the master's) or
 * "worker PID" (a worker's).  When a worker exits, the master says how
 * many requests it served (with opt.http) and how many times it woke for
 * a connection another worker took: the balance and the thundering herd
 * of each way of listening.  Errors: -1 with errno.
 */
#ifndef GREEN_PREFORK_H
#define GREEN_PREFORK_H

#include <sys/types.h>

#include "http.h"
#include "server.h"

/* More workers than this is a typo, not a plan (gunicorn suggests 2-4 per
 * core): refused. */
#define GREEN_PREFORK_MAX_WORKERS 256

typedef struct green_prefork green_prefork_t;

typedef struct green_prefork_options {
    int workers;                /* 0: one per CPU (green_prefork_cpus) */
    double timeout;             /* a worker whose hub has not turned for
                                   this long names the greenlet holding
                                   it, and is killed and replaced
                                   (prefork_heartbeat.h); 0: 30 s
                                   (gunicorn's), negative: never */
    double grace;               /* TERM, HUP, TTOU: how long a stopping
                                   worker's requests in flight get; 0: 30 s
                                   (gunicorn's graceful_timeout) */
    int reuseport;              /* 0: one listening socket shared by every
                                   worker (the kernel wakes them all for
                                   each connection, one gets it).  1: one
                                   SO_REUSEPORT socket per worker (the
                                   kernel spreads connections among them by
                                   a hash).  See prefork.c, "Listening" */
    const green_http_server_t *http;  /* NULL, or the HTTP server whose core
                                   the master runs: each worker then
                                   reports its request count when it
                                   exits, and max_requests can work */
    unsigned long max_requests; /* 0: none.  With http: a worker that has
                                   served max_requests + a random 0..jitter
                                   requests retires gracefully and the
                                   master replaces it, one worker at a
                                   time (gunicorn's --max-requests: a
                                   leak in the application never grows
                                   for ever) */
    unsigned long max_requests_jitter;  /* so that workers started
                                   together do not all retire together */
    const char *access_log;     /* NULL, or the access log's path: on
                                   SIGUSR1 (sent to the master, which
                                   passes it on) each worker opens it anew
                                   onto access_log_fd, so that a log
                                   rotated away (renamed) is written no
                                   more.  Each worker also opens it when it
                                   starts */
    int access_log_fd;          /* the access log's descriptor (the HTTP
                                   server's option of the same name) */
    void (*post_fork)(void *arg);  /* NULL, or called in each new worker,
                                   on its hub, before it tells the master
                                   it accepts: what a worker needs of its
                                   own (chapter 13: its connection to
                                   Redis).  gunicorn's post_fork hook */
    void *post_fork_arg;
} green_prefork_options_t;

/* The number of CPUs online (at least 1). */
int green_prefork_cpus(void);

/* Is n a worker count the master accepts (1..GREEN_PREFORK_MAX_WORKERS)?
 * 0 or -1 with errno EINVAL.  For a program's option parsing. */
int green_prefork_check_workers(long n);

/* A master for the server core `core` (chapter 7's, from
 * green_http_server_core), which each worker starts and stops.  opt: NULL
 * for every default; copied.  NULL with errno EINVAL (a bad worker count)
 * or ENOMEM. */
green_prefork_t *green_prefork_new(green_server_t *core,
                                   const green_prefork_options_t *opt);

/* Bind and listen, in the master: once (green_server_listen), or with
 * reuseport one socket per worker.  With reuseport, a port that already
 * has a listener is refused (EADDRINUSE), even one with SO_REUSEPORT of
 * the same user, which the kernel would otherwise let this master join
 * silently, sharing its connections.  0, or -1 with errno (EADDRINUSE...). */
int green_prefork_listen(green_prefork_t *m);

/* Fork the workers and supervise them until TERM, INT or QUIT (listening
 * first if green_prefork_listen was not called).  Returns 0 once every
 * worker has exited, or -1 with errno when it could not start. */
int green_prefork_run(green_prefork_t *m);

/* The number of workers the master keeps (TTIN and TTOU change it). */
int green_prefork_workers(const green_prefork_t *m);

/* Free the master (closing the listening socket: free the server after). */
void green_prefork_free(green_prefork_t *m);

#endif

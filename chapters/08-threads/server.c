/*
 * server.c - articles 001 and 002's experiment: one "Hello World" web
 * server whose handler takes 100 ms, served three ways.
 *
 *   --mode sequential   one connection at a time (the articles' sequential())
 *   --mode threads      a thread per connection  (threading.Thread)
 *   --mode greenlets    a greenlet per connection (gevent.spawn)
 *
 * The handler is the articles' handle_request(): read the request, sleep
 * 0.1 s, answer, close.  The thread and sequential servers use plain
 * blocking sockets and nanosleep(); the greenlet server uses green sockets
 * (lib/04-io/io.h) and green_sleep().  Usage:
 *
 *   server --mode sequential|threads|greenlets [--host H] [--port P] [--backlog N]
 *
 * It prints "listening on http://HOST:PORT" when ready and exits with
 * status 0 on SIGINT or SIGTERM.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "green.h"

static const char reply[] = "HTTP/1.0 200 OK\r\n\r\nHelloWorld";

/* ---- sequential and threads: plain blocking sockets ------------------- */

/* def handle_request(s, sleep): s.recv(1024); sleep(0.1); s.send(...) */
static void handle_blocking(int fd)
{
    char request[1024];
    struct timespec t = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
    if (recv(fd, request, sizeof request, 0) > 0) {
        while (nanosleep(&t, &t) != 0 && errno == EINTR)
            ;                                   /* a signal: sleep the rest */
        send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL);   /* no SIGPIPE */
    }
    close(fd);
}

static void *thread_main(void *fd)
{
    handle_blocking((int)(intptr_t)fd);
    return NULL;
}

static int listener = -1;
static volatile sig_atomic_t stopping;

/* Any thread may get the signal.  shutdown() wakes the main thread out of
 * accept() (close() would not), and it is safe in a signal handler. */
static void on_stop_signal(int sig)
{
    int saved = errno;              /* the code we interrupted may read it */
    (void)sig;
    stopping = 1;
    shutdown(listener, SHUT_RDWR);
    errno = saved;
}

static int serve_blocking(int threads)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);       /* default stack: 8 MiB of address space */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (!stopping) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (!stopping && errno != EINTR && errno != ECONNABORTED) {
                perror("server: accept");    /* EMFILE: out of descriptors */
                usleep(10 * 1000);
            }
            continue;
        }
        if (!threads) {
            handle_blocking(fd);             /* the others wait in the backlog */
            continue;
        }
        pthread_t t;
        int rc = pthread_create(&t, &attr, thread_main, (void *)(intptr_t)fd);
        if (rc != 0) {                       /* EAGAIN: out of threads or memory */
            fprintf(stderr, "server: pthread_create: %s\n", strerror(rc));
            close(fd);
        }
    }
    pthread_attr_destroy(&attr);
    return 0;
}

/* ---- greenlets: green sockets on the hub ------------------------------ */

static void *greenlet_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char request[1024];
    if (green_recv(fd, request, sizeof request, GREEN_FOREVER) > 0) {
        green_sleep(0.1);                   /* the hub serves the others */
        green_sendall(fd, reply, sizeof reply - 1, GREEN_FOREVER);
    }
    green_close(fd);
    return NULL;
}

static void *acceptor(void *unused)
{
    (void)unused;
    for (;;) {
        int fd = green_accept(listener, NULL, NULL, GREEN_FOREVER);
        if (fd < 0) {
            if (errno == ECANCELED)
                return NULL;                 /* killed: the server stops */
            perror("server: green_accept");
            green_sleep(0.01);
            continue;
        }
        green_t *g = green_spawn(greenlet_main, (void *)(intptr_t)fd);
        if (g)
            green_detach(g);                 /* the hub frees it when done */
        else
            green_close(fd);
    }
}

/* A signal arrives through libevent, as an event like any other. */
static void on_stop_event(evutil_socket_t sig, short what, void *main_greenlet)
{
    (void)sig;
    (void)what;
    green_ready(main_greenlet, NULL);
}

static int serve_greenlets(void)
{
    struct event_base *base = green_hub_base();
    struct event *term = evsignal_new(base, SIGTERM, on_stop_event, green_current());
    struct event *intr = evsignal_new(base, SIGINT, on_stop_event, green_current());
    evsignal_add(term, NULL);
    evsignal_add(intr, NULL);
    green_t *a = green_spawn(acceptor, NULL);
    green_hub_wait(GREEN_FOREVER);           /* until SIGTERM or SIGINT */
    green_kill(a, 1.0);
    green_free(a);
    event_free(term);
    event_free(intr);
    green_hub_destroy();                     /* kills the handlers still running */
    return 0;
}

/* ---- main ------------------------------------------------------------- */

/* Every connection is a file descriptor; the usual soft limit (1024) is
 * far too few for 10,000 connections.  Raise it to the hard limit. */
static long raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
    return (long)r.rlim_cur;
}

static int usage(void)
{
    fprintf(stderr, "usage: server --mode sequential|threads|greenlets "
                    "[--host H] [--port P] [--backlog N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *mode = NULL, *host = "127.0.0.1", *port = "8080";
    int backlog = 4096;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
        else if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = argv[i + 1];
        else if (strcmp(argv[i], "--backlog") == 0) backlog = atoi(argv[i + 1]);
        else return usage();
    }
    int greenlets = mode && strcmp(mode, "greenlets") == 0;
    int threads = mode && strcmp(mode, "threads") == 0;
    if (!greenlets && !threads && !(mode && strcmp(mode, "sequential") == 0))
        return usage();

    long fds = raise_fd_limit();
    /* The kit's helper resolves host, sets SO_REUSEADDR and listens; the
     * kernel caps the backlog at net.core.somaxconn. */
    listener = green_tcp_listen(host, port, backlog);
    if (listener < 0) {
        fprintf(stderr, "server: cannot listen on %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    if (!greenlets) {                        /* plain blocking sockets */
        fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) & ~O_NONBLOCK);
        struct sigaction sa = { .sa_handler = on_stop_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    printf("server: %s, backlog %d, up to %ld file descriptors\n", mode, backlog, fds);
    printf("listening on http://%s:%d\n", host, green_socket_port(listener));
    fflush(stdout);

    int rc = greenlets ? serve_greenlets() : serve_blocking(threads);
    close(listener);
    return rc;
}
